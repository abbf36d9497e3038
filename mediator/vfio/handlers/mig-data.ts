/**
 * VFIO_USER_MIG_DATA_READ / _MIG_DATA_WRITE: the migration data stream over the vfio-user
 * socket, in place of the kernel's data_fd (vfio-user specification, "Migration").
 *
 *   READ  request {u32 argsz, u32 size}        reply {u32 argsz, u32 size, data[size']}
 *         size' < size: no more data — for now in PRE_COPY (the kernel's ENOMSG), for good
 *         in STOP_COPY (end of stream). The state, not the reply, tells which.
 *   WRITE request {u32 argsz, u32 size, data}  reply: no payload
 *
 * EINVAL as libvfio-user: payload shape, argsz below 8 + size, size above the data transfer
 * limit (the smaller of the client's max_data_xfer_size and ours). A device without
 * migration answers ENOTSUP, exactly as before this handler existed (checked first, so a
 * plain device answers every MIG_DATA message the same way). What the state allows is the
 * device's business (EINVAL outside PRE_COPY/STOP_COPY resp. RESUMING).
 */
import { constants } from 'node:os';
import { decodeMigData, encodeMigData, msgError, type Header } from '../messages.js';
import { commandName, PayloadSize, ServerLimits } from '../protocol.js';
import { chain, type MaybePromise } from '../device.js';
import type { HandlerContext, HandlerResult, ReceivedFds } from '../session.js';

const { EIO, ENOTSUP } = constants.errno;

function limit(ctx: HandlerContext): number {
  return Math.min(ctx.session.clientMaxDataXferSize, ServerLimits.maxDataXferSize);
}

export function handleMigDataRead(ctx: HandlerContext, hdr: Header, payload: Uint8Array, _fds: ReceivedFds): MaybePromise<HandlerResult> {
  if (!ctx.device.migDataRead) throw msgError(`${commandName(hdr.command)} is not supported by this server`, ENOTSUP);
  const m = decodeMigData(payload);
  if (payload.byteLength !== PayloadSize.MIG_DATA) throw msgError(`MIG_DATA_READ: payload is ${payload.byteLength} bytes, expected ${PayloadSize.MIG_DATA}`);
  if (m.size > limit(ctx)) throw msgError(`MIG_DATA_READ: size ${m.size} above the transfer limit ${limit(ctx)}`);
  if (m.argsz < PayloadSize.MIG_DATA + m.size) throw msgError(`MIG_DATA_READ: argsz ${m.argsz} < ${PayloadSize.MIG_DATA} + size ${m.size}`);
  return chain(ctx.device.migDataRead(m.size), (data) => {
    if (data.byteLength > m.size) throw msgError(`MIG_DATA_READ: device returned ${data.byteLength} bytes for ${m.size}`, EIO);
    return { payload: encodeMigData({ argsz: PayloadSize.MIG_DATA + data.byteLength, size: data.byteLength, data }) };
  });
}

export function handleMigDataWrite(ctx: HandlerContext, hdr: Header, payload: Uint8Array, _fds: ReceivedFds): MaybePromise<HandlerResult> {
  if (!ctx.device.migDataWrite) throw msgError(`${commandName(hdr.command)} is not supported by this server`, ENOTSUP);
  const m = decodeMigData(payload);
  if (m.size > limit(ctx)) throw msgError(`MIG_DATA_WRITE: size ${m.size} above the transfer limit ${limit(ctx)}`);
  if (m.data.byteLength !== m.size) throw msgError(`MIG_DATA_WRITE: size ${m.size} but ${m.data.byteLength} data bytes`);
  if (m.argsz < PayloadSize.MIG_DATA + m.size) throw msgError(`MIG_DATA_WRITE: argsz ${m.argsz} < ${PayloadSize.MIG_DATA} + size ${m.size}`);
  return chain(ctx.device.migDataWrite(m.data), () => ({}));
}
