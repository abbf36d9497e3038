/**
 * VFIO_USER_DEVICE_SET_IRQS: validation of struct vfio_irq_set, then the device acts.
 *
 * EINVAL, following the kernel's vfio_set_irqs_validate_and_prepare() and libvfio-user:
 * payload < 20 bytes, argsz < the payload, flag bits outside DATA_* / ACTION_*, not
 * exactly one DATA_* and one ACTION_* bit, an IRQ index the device lacks or that has no
 * interrupts, start + count beyond the index's count, count 0 other than the "disable all"
 * form (start 0, DATA_NONE | ACTION_TRIGGER), a bool array whose length is not count,
 * trailing bytes for NONE/EVENTFD, fds with a non-EVENTFD request, an fd count that is
 * neither count nor 0, an fd that is not an eventfd. The device adds its own semantics
 * (e.g. ENOTTY for MSI-X mask/unmask).
 */
import { readlinkSync } from 'node:fs';
import { decodeIrqSet, msgError, type Header } from '../messages.js';
import { IrqSetFlag } from '../protocol.js';
import { chain, type IrqAction, type IrqData, type MaybePromise } from '../device.js';
import type { HandlerContext, HandlerResult, ReceivedFds } from '../session.js';

function oneBit(x: number): boolean {
  return x !== 0 && (x & (x - 1)) === 0;
}

/** An eventfd shows up in /proc/self/fd as "anon_inode:[eventfd]". */
export function isEventFd(fd: number): boolean {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[eventfd]';
  } catch {
    return false;
  }
}

export function handleDeviceSetIrqs(ctx: HandlerContext, _hdr: Header, payload: Uint8Array, fds: ReceivedFds): MaybePromise<HandlerResult> {
  const s = decodeIrqSet(payload);
  if (s.argsz < payload.byteLength) throw msgError(`DEVICE_SET_IRQS: argsz ${s.argsz} < payload ${payload.byteLength}`);
  const dataType = s.flags & IrqSetFlag.DATA_TYPE_MASK;
  const actionType = s.flags & IrqSetFlag.ACTION_TYPE_MASK;
  if (s.flags & ~(IrqSetFlag.DATA_TYPE_MASK | IrqSetFlag.ACTION_TYPE_MASK)) throw msgError(`DEVICE_SET_IRQS: unknown flags 0x${s.flags.toString(16)}`);
  if (!oneBit(dataType) || !oneBit(actionType)) throw msgError(`DEVICE_SET_IRQS: flags 0x${s.flags.toString(16)} need one DATA and one ACTION bit`);
  if (s.index >= ctx.device.info().numIrqs) throw msgError(`DEVICE_SET_IRQS: no IRQ index ${s.index}`);
  const info = ctx.device.irqInfo(s.index);
  if (info.count === 0) throw msgError(`DEVICE_SET_IRQS: IRQ index ${s.index} has no interrupts`);
  if (s.count === 0 && !(s.start === 0 && dataType === IrqSetFlag.DATA_NONE && actionType === IrqSetFlag.ACTION_TRIGGER)) {
    throw msgError('DEVICE_SET_IRQS: count 0 is only "disable all" (start 0, DATA_NONE | ACTION_TRIGGER)');
  }
  if (s.start + s.count > info.count) throw msgError(`DEVICE_SET_IRQS: [${s.start}, +${s.count}) beyond ${info.count} interrupts`);

  let data: IrqData;
  if (dataType === IrqSetFlag.DATA_BOOL) {
    if (s.data.byteLength !== s.count) throw msgError(`DEVICE_SET_IRQS: ${s.data.byteLength} bools for count ${s.count}`);
    if (fds.count) throw msgError('DEVICE_SET_IRQS: fds with DATA_BOOL');
    data = { kind: 'bool', values: [...s.data].map((b) => b !== 0) };
  } else {
    if (s.data.byteLength !== 0) throw msgError(`DEVICE_SET_IRQS: ${s.data.byteLength} unexpected data bytes`);
    if (dataType === IrqSetFlag.DATA_NONE) {
      if (fds.count) throw msgError('DEVICE_SET_IRQS: fds with DATA_NONE');
      data = { kind: 'none' };
    } else {
      if (fds.count !== 0 && fds.count !== s.count) throw msgError(`DEVICE_SET_IRQS: ${fds.count} fds for count ${s.count}`);
      for (let i = 0; i < fds.count; i++) if (!isEventFd(fds.peek(i))) throw msgError(`DEVICE_SET_IRQS: fd #${i} is not an eventfd`);
      data = { kind: 'eventfd', fds: fds.takeAll() }; // the device owns them from here on
    }
  }
  const action: IrqAction = actionType === IrqSetFlag.ACTION_MASK ? 'mask' : actionType === IrqSetFlag.ACTION_UNMASK ? 'unmask' : 'trigger';
  return chain(ctx.device.setIrqs({ index: s.index, start: s.start, count: s.count, action, data }), () => ({}));
}

