/**
 * The query commands: VFIO_USER_DEVICE_GET_INFO, _GET_REGION_INFO, _GET_IRQ_INFO.
 *
 * argsz in a request is the largest reply payload the client accepts; below the fixed
 * struct it is EINVAL (libvfio-user, and -EINVAL from the kernel ioctls). Region info
 * builds the capability chain: the sparse-mmap capability lists the mmap-able areas and
 * the region fd travels with the reply; if argsz cannot hold the chain the reply is the
 * bare struct with the needed argsz (the client retries) and no fd.
 */
import { encodeDeviceInfo, encodeIrqInfo, encodeRegionInfoReply, encodeSparseMmapBody, decodeDeviceInfo, decodeIrqInfo, decodeRegionInfo, msgError, type Header, type RegionCapability } from '../messages.js';
import { PayloadSize, RegionCap, RegionFlag, SPARSE_MMAP_CAP_VERSION } from '../protocol.js';
import type { HandlerContext, HandlerResult, ReceivedFds } from '../session.js';

export function handleDeviceGetInfo(ctx: HandlerContext, _hdr: Header, payload: Uint8Array, _fds: ReceivedFds): HandlerResult {
  const req = decodeDeviceInfo(payload);
  if (req.argsz < PayloadSize.DEVICE_INFO) throw msgError(`DEVICE_GET_INFO: argsz ${req.argsz} < ${PayloadSize.DEVICE_INFO}`);
  const info = ctx.device.info();
  return { payload: encodeDeviceInfo({ argsz: PayloadSize.DEVICE_INFO, ...info }) };
}

export function handleDeviceGetRegionInfo(ctx: HandlerContext, _hdr: Header, payload: Uint8Array, _fds: ReceivedFds): HandlerResult {
  const req = decodeRegionInfo(payload);
  if (req.argsz < PayloadSize.REGION_INFO) throw msgError(`DEVICE_GET_REGION_INFO: argsz ${req.argsz} < ${PayloadSize.REGION_INFO}`);
  if (req.index >= ctx.device.info().numRegions) throw msgError(`DEVICE_GET_REGION_INFO: no region ${req.index}`);
  const r = ctx.device.regionInfo(req.index);
  const caps: RegionCapability[] = [];
  let flags = r.flags & (RegionFlag.READ | RegionFlag.WRITE);
  // A client that accepts no fds (max_msg_fds 0) cannot mmap: the region is access-only.
  const mmap = r.mmap && r.size > 0n && ctx.session.clientMaxMsgFds >= 1 ? r.mmap : null;
  if (mmap) {
    flags |= RegionFlag.MMAP;
    if (mmap.areas) caps.push({ id: RegionCap.SPARSE_MMAP, version: SPARSE_MMAP_CAP_VERSION, body: encodeSparseMmapBody(mmap.areas) });
  }
  if (r.caps) caps.push(...r.caps);
  const { payload: out, complete } = encodeRegionInfoReply(
    { flags, index: r.index, size: r.size, offset: mmap ? mmap.offset : 0n },
    caps,
    req.argsz,
  );
  if (complete && mmap) ctx.device.mmapOffered?.(r.index, mmap);
  return { payload: out, fds: complete && mmap ? [mmap.fd] : [] };
}

export function handleDeviceGetIrqInfo(ctx: HandlerContext, _hdr: Header, payload: Uint8Array, _fds: ReceivedFds): HandlerResult {
  const req = decodeIrqInfo(payload);
  if (req.argsz < PayloadSize.IRQ_INFO) throw msgError(`DEVICE_GET_IRQ_INFO: argsz ${req.argsz} < ${PayloadSize.IRQ_INFO}`);
  if (req.index >= ctx.device.info().numIrqs) throw msgError(`DEVICE_GET_IRQ_INFO: no IRQ index ${req.index}`);
  const i = ctx.device.irqInfo(req.index);
  return { payload: encodeIrqInfo({ argsz: PayloadSize.IRQ_INFO, flags: i.flags, index: i.index, count: i.count }) };
}
