/**
 * VFIO_USER_DEVICE_RESET and VFIO_USER_DEVICE_FEATURE.
 *
 * DEVICE_RESET has no payload (EINVAL otherwise). DEVICE_FEATURE validates struct
 * vfio_device_feature as the kernel's vfio_ioctl_device_feature() does (unknown flag bits,
 * or GET together with SET without PROBE: EINVAL) and hands the feature to the device;
 * a device without features answers ENOTTY, which is what QEMU reads as "not supported"
 * (e.g. no migration). SET/PROBE replies echo the request; GET appends the feature data.
 */
import { constants } from 'node:os';
import { decodeDeviceFeature, encodeDeviceFeature, msgError, type Header } from '../messages.js';
import { FeatureFlag, PayloadSize } from '../protocol.js';
import { chain, type MaybePromise } from '../device.js';
import type { HandlerContext, HandlerResult, ReceivedFds } from '../session.js';

const { ENOTTY } = constants.errno;

export function handleDeviceReset(ctx: HandlerContext, _hdr: Header, payload: Uint8Array, _fds: ReceivedFds): MaybePromise<HandlerResult> {
  if (payload.byteLength !== 0) throw msgError(`DEVICE_RESET: ${payload.byteLength} payload bytes, expected none`);
  return chain(ctx.device.reset(), () => ({}));
}

export function handleDeviceFeature(ctx: HandlerContext, _hdr: Header, payload: Uint8Array, _fds: ReceivedFds): MaybePromise<HandlerResult> {
  const f = decodeDeviceFeature(payload);
  if (f.argsz < PayloadSize.DEVICE_FEATURE) throw msgError(`DEVICE_FEATURE: argsz ${f.argsz} < ${PayloadSize.DEVICE_FEATURE}`);
  const known = FeatureFlag.MASK | FeatureFlag.GET | FeatureFlag.SET | FeatureFlag.PROBE;
  if (f.flags & ~known) throw msgError(`DEVICE_FEATURE: unknown flags 0x${(f.flags & ~known).toString(16)}`);
  const get = (f.flags & FeatureFlag.GET) !== 0;
  const set = (f.flags & FeatureFlag.SET) !== 0;
  if (get && set && !(f.flags & FeatureFlag.PROBE)) throw msgError('DEVICE_FEATURE: GET and SET together need PROBE');
  if (!ctx.device.feature) throw msgError(`DEVICE_FEATURE: feature ${f.flags & FeatureFlag.MASK} not supported`, ENOTTY);
  return chain(ctx.device.feature(f.flags, f.data, f.argsz), (out) => {
    if (get && !(f.flags & FeatureFlag.PROBE)) {
      const data = out ?? new Uint8Array(0);
      return { payload: encodeDeviceFeature({ argsz: PayloadSize.DEVICE_FEATURE + data.byteLength, flags: f.flags, data }) };
    }
    return { payload: encodeDeviceFeature(f) };
  });
}
