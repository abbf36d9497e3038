/**
 * VFIO_USER_REGION_READ / _REGION_WRITE / _REGION_WRITE_MULTI: device register and
 * config space accesses that do not go through an mmapped area.
 *
 * Generic checks here (errno): count above max_data_xfer_size (EMSGSIZE: the data would
 * not fit a message the server accepts or sends), unknown or empty region, offset + count
 * past the region, no READ/WRITE permission, REGION_WRITE count != data bytes, REGION_READ
 * with data (EINVAL). A zero-byte access succeeds without touching the device (as
 * libvfio-user). Access size and alignment rules are the device's (e.g. BAR0 1/2/4/8
 * naturally aligned, MSI-X DWORD/QWORD).
 */
import { constants } from 'node:os';
import {
  decodeRegionRead,
  decodeRegionWrite,
  decodeWriteMulti,
  encodeRegionAccess,
  encodeWriteMultiReply,
  msgError,
  type Header,
  type RegionAccess,
} from '../messages.js';
import { RegionFlag, ServerLimits } from '../protocol.js';
import { chain, isPromise, type MaybePromise } from '../device.js';
import type { HandlerContext, HandlerResult, ReceivedFds } from '../session.js';

const { EIO, EMSGSIZE, ENOTSUP } = constants.errno;

/** Returns false for a zero-byte access (nothing to do). */
function checkAccess(ctx: HandlerContext, a: RegionAccess, write: boolean, what: string): boolean {
  if (a.count > ServerLimits.maxDataXferSize) {
    throw msgError(`${what}: count ${a.count} > max_data_xfer_size ${ServerLimits.maxDataXferSize}`, EMSGSIZE);
  }
  if (a.region >= ctx.device.info().numRegions) throw msgError(`${what}: no region ${a.region}`);
  const r = ctx.device.regionInfo(a.region);
  if (r.size === 0n) throw msgError(`${what}: region ${a.region} is not implemented`);
  if (a.offset >= r.size || a.offset + BigInt(a.count) > r.size) {
    throw msgError(`${what}: [0x${a.offset.toString(16)}, +${a.count}) outside region ${a.region} (0x${r.size.toString(16)} bytes)`);
  }
  if (!(r.flags & (write ? RegionFlag.WRITE : RegionFlag.READ))) throw msgError(`${what}: region ${a.region} is not ${write ? 'writable' : 'readable'}`);
  return a.count > 0;
}

export function handleRegionRead(ctx: HandlerContext, _hdr: Header, payload: Uint8Array, _fds: ReceivedFds): MaybePromise<HandlerResult> {
  const a = decodeRegionRead(payload);
  if (!checkAccess(ctx, a, false, 'REGION_READ')) return { payload: encodeRegionAccess(a) };
  return chain(ctx.device.regionRead(a.region, a.offset, a.count), (data) => {
    if (data.byteLength !== a.count) throw msgError(`REGION_READ: device returned ${data.byteLength} of ${a.count} bytes`, EIO);
    return { payload: encodeRegionAccess({ ...a, data }) };
  });
}

export function handleRegionWrite(ctx: HandlerContext, _hdr: Header, payload: Uint8Array, _fds: ReceivedFds): MaybePromise<HandlerResult> {
  const a = decodeRegionWrite(payload);
  const done = checkAccess(ctx, a, true, 'REGION_WRITE') ? ctx.device.regionWrite(a.region, a.offset, a.data) : undefined;
  return chain(done, () => ({ payload: encodeRegionAccess({ ...a, data: new Uint8Array(0) }) }));
}

/** Writes are applied in order; the first failing one fails the message (the ones before
 * it have taken effect, as they would have as separate messages). */
export function handleRegionWriteMulti(ctx: HandlerContext, _hdr: Header, payload: Uint8Array, _fds: ReceivedFds): MaybePromise<HandlerResult> {
  if (!ctx.session.writeMultiple) throw msgError('REGION_WRITE_MULTI: not negotiated (write_multiple)', ENOTSUP);
  const writes = decodeWriteMulti(payload);
  const run = (from: number): MaybePromise<HandlerResult> => {
    for (let i = from; i < writes.length; i++) {
      const w = writes[i] as RegionAccess;
      const done = checkAccess(ctx, w, true, 'REGION_WRITE_MULTI') ? ctx.device.regionWrite(w.region, w.offset, w.data) : undefined;
      if (isPromise(done)) return done.then(() => run(i + 1));
    }
    return { payload: encodeWriteMultiReply(writes.length) };
  };
  return run(0);
}
