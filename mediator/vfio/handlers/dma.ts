/**
 * VFIO_USER_DMA_MAP / VFIO_USER_DMA_UNMAP: the client's memory windows for device DMA.
 *
 * DMA_MAP checks (errno): payload != 32 bytes, argsz < 32, unknown flag bits, neither
 * READ nor WRITE, size 0, iova/size/offset not 4 KiB aligned, iova + size or offset + size
 * past 2^64, more than one fd (EINVAL); no fd, i.e. message-based DMA, or FILE_IO access
 * (ENOTSUP: the device model only does DMA into mmapped memory). The device adds EEXIST
 * (overlap), ENOSPC (too many windows), EBADF (fd not a mappable file).
 *
 * DMA_UNMAP: flags 0 unmaps exactly one window (ENOENT otherwise); VFIO_DMA_UNMAP_FLAG_ALL
 * with addr = size = 0 unmaps everything; GET_DIRTY_BITMAP is ENOTSUP (dirty pages are
 * tracked by the mediator, not reported at unmap); other bits EINVAL. The reply echoes the
 * request's struct, as the spec says.
 */
import { constants } from 'node:os';
import { decodeDmaMap, decodeDmaUnmap, encodeDmaUnmap, msgError, peekDmaUnmapFlags, type Header } from '../messages.js';
import { DmaMapFlag, DmaUnmapFlag, PayloadSize, ServerLimits } from '../protocol.js';
import { chain, type MaybePromise } from '../device.js';
import type { HandlerContext, HandlerResult, ReceivedFds } from '../session.js';

const { EINVAL, ENOTSUP } = constants.errno;
const U64_LIMIT = 1n << 64n;
const PAGE_MASK = BigInt(ServerLimits.pgsizes - 1);

export function handleDmaMap(ctx: HandlerContext, _hdr: Header, payload: Uint8Array, fds: ReceivedFds): MaybePromise<HandlerResult> {
  const m = decodeDmaMap(payload);
  if (m.argsz < PayloadSize.DMA_MAP) throw msgError(`DMA_MAP: argsz ${m.argsz} < ${PayloadSize.DMA_MAP}`);
  const known = DmaMapFlag.READ | DmaMapFlag.WRITE | DmaMapFlag.MMAP | DmaMapFlag.FILE_IO;
  if (m.flags & ~known) throw msgError(`DMA_MAP: unknown flags 0x${(m.flags & ~known).toString(16)}`);
  if (m.flags & DmaMapFlag.FILE_IO) throw msgError('DMA_MAP: FILE_IO access is not supported', ENOTSUP);
  const prot = m.flags & (DmaMapFlag.READ | DmaMapFlag.WRITE);
  if (!prot) throw msgError('DMA_MAP: a window must be readable or writable');
  if (m.size === 0n) throw msgError('DMA_MAP: size 0');
  if ((m.addr | m.size | m.offset) & PAGE_MASK) {
    throw msgError(`DMA_MAP: addr 0x${m.addr.toString(16)}, size 0x${m.size.toString(16)}, offset 0x${m.offset.toString(16)} not 4 KiB aligned`);
  }
  if (m.addr + m.size > U64_LIMIT || m.offset + m.size > U64_LIMIT) throw msgError('DMA_MAP: window wraps past 2^64');
  if (fds.count === 0) throw msgError('DMA_MAP: no fd (message-based DMA is not supported)', ENOTSUP);
  if (fds.count > 1) throw msgError(`DMA_MAP: ${fds.count} fds, expected 1`);
  return chain(ctx.device.dmaMap({ iova: m.addr, size: m.size, fd: fds.peek(0), offset: m.offset, prot }), () => ({}));
}

export function handleDmaUnmap(ctx: HandlerContext, _hdr: Header, payload: Uint8Array, _fds: ReceivedFds): MaybePromise<HandlerResult> {
  const flags = peekDmaUnmapFlags(payload);
  if (flags & ~(DmaUnmapFlag.ALL | DmaUnmapFlag.GET_DIRTY_BITMAP)) throw msgError(`DMA_UNMAP: unknown flags 0x${flags.toString(16)}`);
  if (flags & DmaUnmapFlag.GET_DIRTY_BITMAP) throw msgError('DMA_UNMAP: GET_DIRTY_BITMAP is not supported', ENOTSUP);
  const u = decodeDmaUnmap(payload, false);
  if (u.argsz < PayloadSize.DMA_UNMAP) throw msgError(`DMA_UNMAP: argsz ${u.argsz} < ${PayloadSize.DMA_UNMAP}`);
  if (flags & DmaUnmapFlag.ALL) {
    if (u.addr !== 0n || u.size !== 0n) throw msgError('DMA_UNMAP: FLAG_ALL needs addr = size = 0', EINVAL);
  } else if (u.size === 0n) {
    throw msgError('DMA_UNMAP: size 0');
  }
  const done = flags & DmaUnmapFlag.ALL ? ctx.device.dmaUnmapAll() : ctx.device.dmaUnmap(u.addr, u.size);
  return chain(done, () => ({ payload: encodeDmaUnmap(u) }));
}
