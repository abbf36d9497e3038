/**
 * vfio-user message codec: one encode/decode function per message struct, explicit
 * little-endian DataView accesses at the offsets of the spec (see protocol.ts for the
 * numbers and tests/vfio/layout.test.ts for the check against <linux/vfio.h>).
 *
 * Decoders take the payload (the bytes after the 16-byte header) and validate only the
 * *shape* (sizes, reserved fields the spec defines); what a value means for the device is
 * the dispatcher's business. Malformed input throws a VfmedError carrying EINVAL.
 * Encoders return the payload; header() / reply() / errorReply() frame it.
 */
import { constants } from 'node:os';
import { VfmedError } from '../errors.js';
import { Flag, HEADER_SIZE, PayloadSize, RegionFlag } from './protocol.js';

const { EINVAL } = constants.errno;

/** A malformed message (the reply carries `errno`). */
export function msgError(message: string, errno: number = EINVAL): VfmedError {
  return new VfmedError('VFMED_ERR_VFIO_MSG', message, errno);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function need(payload: Uint8Array, size: number, what: string, exact = true): DataView {
  if (exact ? payload.byteLength !== size : payload.byteLength < size) {
    throw msgError(`${what}: payload is ${payload.byteLength} bytes, expected ${exact ? '' : 'at least '}${size}`);
  }
  return view(payload);
}

// ---- header ------------------------------------------------------------------------------

export interface Header {
  msgId: number;
  command: number;
  /** whole message, header included */
  size: number;
  flags: number;
  error: number;
}

export function decodeHeader(msg: Uint8Array): Header {
  if (msg.byteLength < HEADER_SIZE) throw msgError(`message shorter than the ${HEADER_SIZE}-byte header`);
  const v = view(msg);
  return {
    msgId: v.getUint16(0, true),
    command: v.getUint16(2, true),
    size: v.getUint32(4, true),
    flags: v.getUint32(8, true),
    error: v.getUint32(12, true),
  };
}

/** Header + payload as one message. */
export function frame(h: Omit<Header, 'size'>, payload?: Uint8Array): Uint8Array {
  const len = HEADER_SIZE + (payload?.byteLength ?? 0);
  const out = new Uint8Array(len);
  const v = view(out);
  v.setUint16(0, h.msgId, true);
  v.setUint16(2, h.command, true);
  v.setUint32(4, len, true);
  v.setUint32(8, h.flags >>> 0, true);
  v.setUint32(12, h.error >>> 0, true);
  if (payload) out.set(payload, HEADER_SIZE);
  return out;
}

/** A command message (type 0). */
export function command(msgId: number, cmd: number, payload?: Uint8Array, noReply = false): Uint8Array {
  return frame({ msgId, command: cmd, flags: Flag.TYPE_COMMAND | (noReply ? Flag.NO_REPLY : 0), error: 0 }, payload);
}

/** The successful reply to `req`: same msg_id and command, type reply. */
export function reply(req: Header, payload?: Uint8Array): Uint8Array {
  return frame({ msgId: req.msgId, command: req.command, flags: Flag.TYPE_REPLY, error: 0 }, payload);
}

/** An error reply: header only (the spec forbids a payload), error bit + errno. */
export function errorReply(req: Pick<Header, 'msgId' | 'command'>, errno: number): Uint8Array {
  return frame({ msgId: req.msgId, command: req.command, flags: Flag.TYPE_REPLY | Flag.ERROR, error: errno });
}

// ---- VFIO_USER_VERSION ---------------------------------------------------------------------

export interface Version {
  major: number;
  minor: number;
  /** the JSON text without its terminating NUL, or null when absent */
  json: string | null;
}

export function decodeVersion(p: Uint8Array): Version {
  const v = need(p, PayloadSize.VERSION_MIN, 'VERSION', false);
  let json: string | null = null;
  if (p.byteLength > PayloadSize.VERSION_MIN) {
    const data = p.subarray(PayloadSize.VERSION_MIN);
    if (data[data.byteLength - 1] !== 0) throw msgError('VERSION: capabilities JSON is not NUL-terminated');
    const text = data.subarray(0, data.byteLength - 1);
    if (text.includes(0)) throw msgError('VERSION: NUL inside the capabilities JSON');
    try {
      json = new TextDecoder('utf-8', { fatal: true }).decode(text);
    } catch {
      throw msgError('VERSION: capabilities are not UTF-8');
    }
  }
  return { major: v.getUint16(0, true), minor: v.getUint16(2, true), json };
}

export function encodeVersion(ver: Version): Uint8Array {
  const json = ver.json === null ? null : new TextEncoder().encode(ver.json);
  const out = new Uint8Array(PayloadSize.VERSION_MIN + (json ? json.byteLength + 1 : 0));
  const v = view(out);
  v.setUint16(0, ver.major, true);
  v.setUint16(2, ver.minor, true);
  if (json) out.set(json, PayloadSize.VERSION_MIN); // the last byte stays 0: the NUL
  return out;
}

// ---- VFIO_USER_DMA_MAP / DMA_UNMAP -----------------------------------------------------------

export interface DmaMap {
  argsz: number;
  flags: number;
  /** file offset of the region in the passed fd */
  offset: bigint;
  /** DMA (IO virtual) address */
  addr: bigint;
  size: bigint;
}

export function decodeDmaMap(p: Uint8Array): DmaMap {
  const v = need(p, PayloadSize.DMA_MAP, 'DMA_MAP');
  return {
    argsz: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    offset: v.getBigUint64(8, true),
    addr: v.getBigUint64(16, true),
    size: v.getBigUint64(24, true),
  };
}

export function encodeDmaMap(m: DmaMap): Uint8Array {
  const out = new Uint8Array(PayloadSize.DMA_MAP);
  const v = view(out);
  v.setUint32(0, m.argsz, true);
  v.setUint32(4, m.flags, true);
  v.setBigUint64(8, m.offset, true);
  v.setBigUint64(16, m.addr, true);
  v.setBigUint64(24, m.size, true);
  return out;
}

export interface DmaUnmap {
  argsz: number;
  flags: number;
  addr: bigint;
  size: bigint;
  /** struct vfio_user_bitmap when flags has GET_DIRTY_BITMAP */
  bitmap?: { pgsize: bigint; size: bigint };
}

export function decodeDmaUnmap(p: Uint8Array, withBitmap: boolean): DmaUnmap {
  const v = need(p, PayloadSize.DMA_UNMAP + (withBitmap ? PayloadSize.DMA_UNMAP_BITMAP : 0), 'DMA_UNMAP');
  const u: DmaUnmap = {
    argsz: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    addr: v.getBigUint64(8, true),
    size: v.getBigUint64(16, true),
  };
  if (withBitmap) u.bitmap = { pgsize: v.getBigUint64(24, true), size: v.getBigUint64(32, true) };
  return u;
}

/** Flags are the first thing to look at: they decide the payload size. */
export function peekDmaUnmapFlags(p: Uint8Array): number {
  return need(p, 8, 'DMA_UNMAP', false).getUint32(4, true);
}

/** The reply echoes the request's struct (without a bitmap). */
export function encodeDmaUnmap(u: DmaUnmap): Uint8Array {
  const out = new Uint8Array(PayloadSize.DMA_UNMAP);
  const v = view(out);
  v.setUint32(0, u.argsz, true);
  v.setUint32(4, u.flags, true);
  v.setBigUint64(8, u.addr, true);
  v.setBigUint64(16, u.size, true);
  return out;
}

// ---- VFIO_USER_DEVICE_GET_INFO --------------------------------------------------------------

export interface DeviceInfo {
  argsz: number;
  flags: number;
  numRegions: number;
  numIrqs: number;
}

export function decodeDeviceInfo(p: Uint8Array): DeviceInfo {
  const v = need(p, PayloadSize.DEVICE_INFO, 'DEVICE_GET_INFO');
  return { argsz: v.getUint32(0, true), flags: v.getUint32(4, true), numRegions: v.getUint32(8, true), numIrqs: v.getUint32(12, true) };
}

export function encodeDeviceInfo(d: DeviceInfo): Uint8Array {
  const out = new Uint8Array(PayloadSize.DEVICE_INFO);
  const v = view(out);
  v.setUint32(0, d.argsz, true);
  v.setUint32(4, d.flags, true);
  v.setUint32(8, d.numRegions, true);
  v.setUint32(12, d.numIrqs, true);
  return out;
}

// ---- VFIO_USER_DEVICE_GET_REGION_INFO --------------------------------------------------------

/** struct vfio_region_info */
export interface RegionInfo {
  argsz: number;
  flags: number;
  index: number;
  capOffset: number;
  size: bigint;
  offset: bigint;
}

export function decodeRegionInfo(p: Uint8Array, exact = true): RegionInfo {
  const v = need(p, PayloadSize.REGION_INFO, 'DEVICE_GET_REGION_INFO', exact);
  return {
    argsz: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    index: v.getUint32(8, true),
    capOffset: v.getUint32(12, true),
    size: v.getBigUint64(16, true),
    offset: v.getBigUint64(24, true),
  };
}

export function encodeRegionInfo(r: RegionInfo): Uint8Array {
  const out = new Uint8Array(PayloadSize.REGION_INFO);
  const v = view(out);
  v.setUint32(0, r.argsz, true);
  v.setUint32(4, r.flags, true);
  v.setUint32(8, r.index, true);
  v.setUint32(12, r.capOffset, true);
  v.setBigUint64(16, r.size, true);
  v.setBigUint64(24, r.offset, true);
  return out;
}

/** One region capability: struct vfio_info_cap_header {u16 id, u16 version, u32 next} + body.
 * `next` is filled in by encodeRegionInfoReply. */
export interface RegionCapability {
  id: number;
  version: number;
  body: Uint8Array;
}

export interface SparseArea {
  offset: bigint;
  size: bigint;
}

/** Body of VFIO_REGION_INFO_CAP_SPARSE_MMAP: u32 nr_areas, u32 reserved, {u64 offset, u64 size}[]. */
export function encodeSparseMmapBody(areas: readonly SparseArea[]): Uint8Array {
  const out = new Uint8Array(8 + areas.length * PayloadSize.SPARSE_MMAP_AREA);
  const v = view(out);
  v.setUint32(0, areas.length, true);
  areas.forEach((a, i) => {
    v.setBigUint64(8 + i * 16, a.offset, true);
    v.setBigUint64(16 + i * 16, a.size, true);
  });
  return out;
}

/** Body of VFIO_REGION_INFO_CAP_TYPE: u32 type, u32 subtype (device-specific regions). */
export function encodeTypeCapBody(type: number, subtype: number): Uint8Array {
  const out = new Uint8Array(8);
  const v = view(out);
  v.setUint32(0, type >>> 0, true);
  v.setUint32(4, subtype >>> 0, true);
  return out;
}

/**
 * Region info reply with its capability chain (caps start right after the 32-byte struct,
 * 8-byte aligned; `next` and cap_offset are relative to the start of the struct). As in
 * the kernel's vfio-pci: when the client's argsz cannot hold the caps, only the struct is
 * returned, with argsz = the size needed, FLAG_CAPS set and cap_offset 0, so the client
 * can retry with a larger buffer. `complete` says whether the caps were included.
 */
export function encodeRegionInfoReply(
  info: Omit<RegionInfo, 'argsz' | 'capOffset'>,
  caps: readonly RegionCapability[],
  clientArgsz: number,
): { payload: Uint8Array; complete: boolean } {
  const capBytes = caps.map((c) => align8(8 + c.body.byteLength));
  const full = PayloadSize.REGION_INFO + capBytes.reduce((a, b) => a + b, 0);
  const flags = caps.length ? info.flags | RegionFlag.CAPS : info.flags & ~RegionFlag.CAPS;
  if (caps.length && clientArgsz < full) {
    return { payload: encodeRegionInfo({ ...info, flags, argsz: full, capOffset: 0 }), complete: false };
  }
  const out = new Uint8Array(full);
  out.set(encodeRegionInfo({ ...info, flags, argsz: full, capOffset: caps.length ? PayloadSize.REGION_INFO : 0 }));
  const v = view(out);
  let at = PayloadSize.REGION_INFO;
  caps.forEach((c, i) => {
    const next = i + 1 < caps.length ? at + (capBytes[i] as number) : 0;
    v.setUint16(at, c.id, true);
    v.setUint16(at + 2, c.version, true);
    v.setUint32(at + 4, next, true);
    out.set(c.body, at + 8);
    at += capBytes[i] as number;
  });
  return { payload: out, complete: true };
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

// ---- VFIO_USER_DEVICE_GET_IRQ_INFO -----------------------------------------------------------

/** struct vfio_irq_info */
export interface IrqInfo {
  argsz: number;
  flags: number;
  index: number;
  count: number;
}

export function decodeIrqInfo(p: Uint8Array): IrqInfo {
  const v = need(p, PayloadSize.IRQ_INFO, 'DEVICE_GET_IRQ_INFO');
  return { argsz: v.getUint32(0, true), flags: v.getUint32(4, true), index: v.getUint32(8, true), count: v.getUint32(12, true) };
}

export function encodeIrqInfo(i: IrqInfo): Uint8Array {
  const out = new Uint8Array(PayloadSize.IRQ_INFO);
  const v = view(out);
  v.setUint32(0, i.argsz, true);
  v.setUint32(4, i.flags, true);
  v.setUint32(8, i.index, true);
  v.setUint32(12, i.count, true);
  return out;
}

// ---- VFIO_USER_DEVICE_SET_IRQS ---------------------------------------------------------------

/** struct vfio_irq_set; `data` is the bool array of DATA_BOOL (eventfds travel as fds). */
export interface IrqSet {
  argsz: number;
  flags: number;
  index: number;
  start: number;
  count: number;
  data: Uint8Array;
}

export function decodeIrqSet(p: Uint8Array): IrqSet {
  const v = need(p, PayloadSize.IRQ_SET, 'DEVICE_SET_IRQS', false);
  return {
    argsz: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    index: v.getUint32(8, true),
    start: v.getUint32(12, true),
    count: v.getUint32(16, true),
    data: p.subarray(PayloadSize.IRQ_SET),
  };
}

export function encodeIrqSet(s: IrqSet): Uint8Array {
  const out = new Uint8Array(PayloadSize.IRQ_SET + s.data.byteLength);
  const v = view(out);
  v.setUint32(0, s.argsz, true);
  v.setUint32(4, s.flags, true);
  v.setUint32(8, s.index, true);
  v.setUint32(12, s.start, true);
  v.setUint32(16, s.count, true);
  out.set(s.data, PayloadSize.IRQ_SET);
  return out;
}

// ---- VFIO_USER_REGION_READ / REGION_WRITE ------------------------------------------------------

/** struct vfio_user_region_access: u64 offset, u32 region, u32 count, data[] */
export interface RegionAccess {
  offset: bigint;
  region: number;
  count: number;
  data: Uint8Array;
}

/** REGION_READ request: exactly the 16-byte struct, no data. */
export function decodeRegionRead(p: Uint8Array): RegionAccess {
  const v = need(p, PayloadSize.REGION_ACCESS, 'REGION_READ');
  return { offset: v.getBigUint64(0, true), region: v.getUint32(8, true), count: v.getUint32(12, true), data: new Uint8Array(0) };
}

/** REGION_WRITE request: the struct followed by exactly `count` bytes. */
export function decodeRegionWrite(p: Uint8Array): RegionAccess {
  const v = need(p, PayloadSize.REGION_ACCESS, 'REGION_WRITE', false);
  const a = { offset: v.getBigUint64(0, true), region: v.getUint32(8, true), count: v.getUint32(12, true) };
  if (p.byteLength - PayloadSize.REGION_ACCESS !== a.count) {
    throw msgError(`REGION_WRITE: count ${a.count} but ${p.byteLength - PayloadSize.REGION_ACCESS} data bytes`);
  }
  return { ...a, data: p.subarray(PayloadSize.REGION_ACCESS) };
}

/** Both directions: request (write: with data) and reply (read: with data). */
export function encodeRegionAccess(a: RegionAccess): Uint8Array {
  const out = new Uint8Array(PayloadSize.REGION_ACCESS + a.data.byteLength);
  const v = view(out);
  v.setBigUint64(0, a.offset, true);
  v.setUint32(8, a.region, true);
  v.setUint32(12, a.count, true);
  out.set(a.data, PayloadSize.REGION_ACCESS);
  return out;
}

// ---- VFIO_USER_REGION_WRITE_MULTI ----------------------------------------------------------

/** u64 wr_cnt, then wr_cnt x {u64 offset, u32 region, u32 count, u8 data[8]} */
export function decodeWriteMulti(p: Uint8Array): RegionAccess[] {
  const v = need(p, PayloadSize.WRITE_MULTI_COUNT, 'REGION_WRITE_MULTI', false);
  const n = v.getBigUint64(0, true);
  const room = BigInt((p.byteLength - PayloadSize.WRITE_MULTI_COUNT) / PayloadSize.WRITE_MULTI_ENTRY);
  if ((p.byteLength - PayloadSize.WRITE_MULTI_COUNT) % PayloadSize.WRITE_MULTI_ENTRY !== 0 || n !== room) {
    throw msgError(`REGION_WRITE_MULTI: wr_cnt ${n} does not match ${p.byteLength} payload bytes`);
  }
  const out: RegionAccess[] = [];
  for (let i = 0; i < Number(n); i++) {
    const at = PayloadSize.WRITE_MULTI_COUNT + i * PayloadSize.WRITE_MULTI_ENTRY;
    const count = v.getUint32(at + 12, true);
    if (count > 8) throw msgError(`REGION_WRITE_MULTI: entry ${i} count ${count} > 8`);
    out.push({ offset: v.getBigUint64(at, true), region: v.getUint32(at + 8, true), count, data: p.subarray(at + 16, at + 16 + count) });
  }
  return out;
}

export function encodeWriteMultiReply(count: number): Uint8Array {
  const out = new Uint8Array(PayloadSize.WRITE_MULTI_COUNT);
  view(out).setBigUint64(0, BigInt(count), true);
  return out;
}

// ---- VFIO_USER_DEVICE_FEATURE ----------------------------------------------------------------

/** struct vfio_user_device_feature: u32 argsz, u32 flags, data[] */
export interface DeviceFeature {
  argsz: number;
  flags: number;
  data: Uint8Array;
}

export function decodeDeviceFeature(p: Uint8Array): DeviceFeature {
  const v = need(p, PayloadSize.DEVICE_FEATURE, 'DEVICE_FEATURE', false);
  return { argsz: v.getUint32(0, true), flags: v.getUint32(4, true), data: p.subarray(PayloadSize.DEVICE_FEATURE) };
}

export function encodeDeviceFeature(f: DeviceFeature): Uint8Array {
  const out = new Uint8Array(PayloadSize.DEVICE_FEATURE + f.data.byteLength);
  const v = view(out);
  v.setUint32(0, f.argsz, true);
  v.setUint32(4, f.flags, true);
  out.set(f.data, PayloadSize.DEVICE_FEATURE);
  return out;
}

// ---- VFIO_USER_MIG_DATA_READ / MIG_DATA_WRITE ----------------------------------------------

/** struct vfio_user_mig_data: u32 argsz, u32 size, data[] */
export interface MigData {
  argsz: number;
  size: number;
  data: Uint8Array;
}

export function decodeMigData(p: Uint8Array): MigData {
  const v = need(p, PayloadSize.MIG_DATA, 'MIG_DATA', false);
  return { argsz: v.getUint32(0, true), size: v.getUint32(4, true), data: p.subarray(PayloadSize.MIG_DATA) };
}

export function encodeMigData(m: MigData): Uint8Array {
  const out = new Uint8Array(PayloadSize.MIG_DATA + m.data.byteLength);
  const v = view(out);
  v.setUint32(0, m.argsz, true);
  v.setUint32(4, m.size, true);
  out.set(m.data, PayloadSize.MIG_DATA);
  return out;
}
