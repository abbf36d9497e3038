/**
 * The ioctl ABI of /dev/vfpf (pf-driver/linux/vfpf_uapi.h) declared once for koffi: every
 * argument struct, every request number, the limits. KernelPf (kernel-pf.ts) is built on
 * this; nothing else declares these layouts. tests/pf/uapi-layout.test.ts compares every
 * struct, field and request number with what the C compiler makes of the header.
 *
 * Request numbers are not copied from the header: they are computed the way <linux/ioctl.h>
 * does, _IOC(dir, 0xF6, nr, sizeof(struct)), from the koffi struct sizes, so a layout change
 * changes the number exactly as it does in C. An argument is encoded into a Buffer that owns
 * its memory (never a V8 on-heap array, whose address could move), passed as the ioctl's
 * `void *`, and decoded back for the _IOR/_IOWR requests.
 */
import koffi from 'koffi';
import { VF_STATS_FIELDS } from './vf-stats-fields.js';

const u8x6 = koffi.array('uint8_t', 6, 'Typed');

export const VfpfIocInfo = koffi.struct('vfpf_ioc_info', {
  model_id: 'uint32_t',
  abi_major: 'uint16_t',
  abi_minor: 'uint16_t',
  max_vfs: 'uint32_t',
  num_vfs: 'uint32_t',
  queues_per_vf: 'uint32_t',
  rx_fifo_bytes: 'uint32_t',
  state_version: 'uint32_t',
  features: 'uint32_t',
});

export const VfpfIocSriov = koffi.struct('vfpf_ioc_sriov', {
  num_vfs: 'uint32_t',
  pad: 'uint32_t',
});

export const VfpfIocVf = koffi.struct('vfpf_ioc_vf', {
  vf: 'uint32_t',
  pad: 'uint32_t',
});

export const VfpfIocMac = koffi.struct('vfpf_ioc_mac', {
  vf: 'uint32_t',
  mac: u8x6,
  pad: koffi.array('uint8_t', 2, 'Typed'),
});

export const VfpfIocStateSize = koffi.struct('vfpf_ioc_state_size', {
  vf: 'uint32_t',
  size: 'uint32_t',
});

export const VfpfIocBlob = koffi.struct('vfpf_ioc_blob', {
  vf: 'uint32_t',
  len: 'uint32_t',
  buf: 'uint64_t',
});

export const VfpfIocDirtyRange = koffi.struct('vfpf_ioc_dirty_range', {
  iova: 'uint64_t',
  length: 'uint64_t',
});

export const VfpfIocDirtyStart = koffi.struct('vfpf_ioc_dirty_start', {
  vf: 'uint32_t',
  page_shift: 'uint32_t',
  nr_ranges: 'uint32_t',
  pad: 'uint32_t',
  ranges: 'uint64_t',
});

export const VfpfIocDirtyReport = koffi.struct('vfpf_ioc_dirty_report', {
  vf: 'uint32_t',
  pad: 'uint32_t',
  iova: 'uint64_t',
  length: 'uint64_t',
  bitmap: 'uint64_t',
  bitmap_len: 'uint64_t',
});

export const VfpfIocStats = koffi.struct('vfpf_ioc_stats', {
  vf: 'uint32_t',
  pad: 'uint32_t',
  ...VF_STATS_FIELDS,
});

export const VfpfIocVfConfig = koffi.struct('vfpf_ioc_vf_config', {
  vf: 'uint32_t',
  mac: u8x6,
  enable: 'uint16_t',
  max_frame: 'uint32_t',
  mc_count: 'uint32_t',
  vlan_count: 'uint32_t',
  promisc: 'uint32_t',
  quiesced: 'uint32_t',
  pad: 'uint32_t',
});

/** Every struct of vfpf_uapi.h, by its C name (for the layout test). */
export const VFPF_UAPI_STRUCTS = {
  vfpf_ioc_info: VfpfIocInfo,
  vfpf_ioc_sriov: VfpfIocSriov,
  vfpf_ioc_vf: VfpfIocVf,
  vfpf_ioc_mac: VfpfIocMac,
  vfpf_ioc_state_size: VfpfIocStateSize,
  vfpf_ioc_blob: VfpfIocBlob,
  vfpf_ioc_dirty_range: VfpfIocDirtyRange,
  vfpf_ioc_dirty_start: VfpfIocDirtyStart,
  vfpf_ioc_dirty_report: VfpfIocDirtyReport,
  vfpf_ioc_stats: VfpfIocStats,
  vfpf_ioc_vf_config: VfpfIocVfConfig,
} as const;
export type VfpfUapiStruct = keyof typeof VFPF_UAPI_STRUCTS;

export const VFPF_IOC_MAGIC = 0xf6;
/** Largest blob SAVE/LOAD move (VFPF_IOC_STATE_MAX). */
export const VFPF_IOC_STATE_MAX = 16 << 20;
/** Largest DIRTY_REPORT bitmap (VFPF_IOC_BITMAP_MAX). */
export const VFPF_IOC_BITMAP_MAX = 8 << 20;
/** Most ranges one DIRTY_START takes (VFPF_IOC_DIRTY_MAX_RANGES). */
export const VFPF_IOC_DIRTY_MAX_RANGES = 64;

// ---- request numbers: _IOC(dir, type, nr, size) -----------------------------------------

/**
 * The _IOC bit layout of the running architecture: asm-generic (x86, arm, arm64, riscv,
 * s390, loongarch) has 2 direction bits at 31:30 and 14 size bits; powerpc and mips have 3
 * direction bits at 31:29, 13 size bits, and their own READ/WRITE values.
 */
interface IocLayout { dirShift: number; sizeBits: number; none: number; read: number; write: number }
const IOC_GENERIC: IocLayout = { dirShift: 30, sizeBits: 14, none: 0, read: 2, write: 1 };
const IOC_PPC_MIPS: IocLayout = { dirShift: 29, sizeBits: 13, none: 1, read: 2, write: 4 };

export function iocLayout(arch: string = process.arch): IocLayout {
  return ['ppc', 'ppc64', 'mips', 'mipsel', 'mips64', 'mips64el'].includes(arch) ? IOC_PPC_MIPS : IOC_GENERIC;
}

export type IocDir = 'none' | 'r' | 'w' | 'rw';

/** _IOC(dir, type, nr, size) as <asm-generic/ioctl.h> (or the arch's) computes it. */
export function ioc(dir: IocDir, type: number, nr: number, size: number, layout = iocLayout()): number {
  if (!Number.isInteger(type) || type < 0 || type > 0xff) throw new RangeError(`ioctl type ${type} is not 8-bit`);
  if (!Number.isInteger(nr) || nr < 0 || nr > 0xff) throw new RangeError(`ioctl nr ${nr} is not 8-bit`);
  if (!Number.isInteger(size) || size < 0 || size >= 1 << layout.sizeBits) {
    throw new RangeError(`ioctl argument size ${size} does not fit ${layout.sizeBits} bits`);
  }
  const d = dir === 'none' ? layout.none : dir === 'r' ? layout.read : dir === 'w' ? layout.write
    : layout.read | layout.write;
  return ((d << layout.dirShift) | (size << 16) | (type << 8) | nr) >>> 0;
}

export interface VfpfIoctl {
  /** The macro's name without the VFPF_IOC_ prefix. */
  readonly name: string;
  readonly nr: number;
  /** _IOR = 'r' (the kernel writes the struct back), _IOW = 'w', _IOWR = 'rw'. */
  readonly dir: IocDir;
  readonly struct: VfpfUapiStruct;
  /** The request number for ioctl(2). */
  readonly request: number;
}

function def(name: string, dir: IocDir, nr: number, struct: VfpfUapiStruct): VfpfIoctl {
  const request = ioc(dir, VFPF_IOC_MAGIC, nr, koffi.sizeof(VFPF_UAPI_STRUCTS[struct]));
  return Object.freeze({ name, nr, dir, struct, request });
}

/** Every request of vfpf_uapi.h, in header order. */
export const VFPF_IOC = Object.freeze({
  GET_INFO: def('GET_INFO', 'r', 0x00, 'vfpf_ioc_info'),
  SRIOV_ENABLE: def('SRIOV_ENABLE', 'rw', 0x01, 'vfpf_ioc_sriov'),
  SET_MAC: def('SET_MAC', 'w', 0x02, 'vfpf_ioc_mac'),
  VF_QUIESCE: def('VF_QUIESCE', 'w', 0x03, 'vfpf_ioc_vf'),
  VF_RESUME: def('VF_RESUME', 'w', 0x04, 'vfpf_ioc_vf'),
  VF_FLR: def('VF_FLR', 'w', 0x05, 'vfpf_ioc_vf'),
  STATE_SIZE: def('STATE_SIZE', 'rw', 0x06, 'vfpf_ioc_state_size'),
  SAVE: def('SAVE', 'rw', 0x07, 'vfpf_ioc_blob'),
  LOAD: def('LOAD', 'w', 0x08, 'vfpf_ioc_blob'),
  DIRTY_START: def('DIRTY_START', 'w', 0x09, 'vfpf_ioc_dirty_start'),
  DIRTY_STOP: def('DIRTY_STOP', 'w', 0x0a, 'vfpf_ioc_vf'),
  DIRTY_REPORT: def('DIRTY_REPORT', 'w', 0x0b, 'vfpf_ioc_dirty_report'),
  STATS: def('STATS', 'rw', 0x0c, 'vfpf_ioc_stats'),
  VF_CONFIG: def('VF_CONFIG', 'rw', 0x0d, 'vfpf_ioc_vf_config'),
});
export type VfpfIocName = keyof typeof VFPF_IOC;

// ---- decoded shapes -----------------------------------------------------------------------

type U64 = number | bigint;
export interface IocInfo {
  model_id: number; abi_major: number; abi_minor: number; max_vfs: number; num_vfs: number;
  queues_per_vf: number; rx_fifo_bytes: number; state_version: number; features: number;
}
export interface IocSriov { num_vfs: number; pad: number }
export interface IocVf { vf: number; pad: number }
export interface IocMac { vf: number; mac: Uint8Array; pad: Uint8Array }
export interface IocStateSize { vf: number; size: number }
export interface IocBlob { vf: number; len: number; buf: bigint }
export interface IocDirtyStart { vf: number; page_shift: number; nr_ranges: number; pad: number; ranges: bigint }
export interface IocDirtyReport { vf: number; pad: number; iova: bigint; length: bigint; bitmap: bigint; bitmap_len: bigint }
export interface IocStats {
  vf: number; pad: number;
  rx_packets: U64; rx_bytes: U64; tx_packets: U64; tx_bytes: U64; rx_mcast: U64;
  rx_lb_packets: U64; tx_lb_packets: U64; rx_lb_bytes: U64; tx_lb_bytes: U64;
  rx_fifo_drops: U64; rx_no_desc: U64; dma_errors: U64; tx_errors: U64;
  fifo_frames: U64; fifo_bytes: U64;
}
export interface IocVfConfig {
  vf: number; mac: Uint8Array; enable: number; max_frame: number; mc_count: number;
  vlan_count: number; promisc: number; quiesced: number; pad: number;
}

/** The argument struct of each request, as JS values. */
export interface VfpfIocArgs {
  GET_INFO: IocInfo; SRIOV_ENABLE: IocSriov; SET_MAC: IocMac; VF_QUIESCE: IocVf;
  VF_RESUME: IocVf; VF_FLR: IocVf; STATE_SIZE: IocStateSize; SAVE: IocBlob; LOAD: IocBlob;
  DIRTY_START: IocDirtyStart; DIRTY_STOP: IocVf; DIRTY_REPORT: IocDirtyReport;
  STATS: IocStats; VF_CONFIG: IocVfConfig;
}

/** A buffer that owns its memory outside the V8 heap, so its address is stable. */
export function stableBuffer(len: number): Buffer {
  return Buffer.from(new ArrayBuffer(Math.max(len, 1)), 0, len);
}

/** The user-space address of `buf`'s bytes, for the __u64 pointer fields. */
export function userPtr(buf: Buffer): bigint {
  return koffi.address(buf);
}

/** The __u64 fields that carry a user-space address. */
export const POINTER_FIELDS: ReadonlySet<string> = new Set(['buf', 'ranges', 'bitmap']);

/**
 * Checks an argument object against its struct, because koffi.encode() would silently wrap
 * or truncate: only the struct's fields, integers (bigint for 64-bit fields) within the
 * field's width, byte arrays of exactly the field's length. RangeError/TypeError otherwise.
 */
export function checkArg(name: VfpfIocName, value: Record<string, unknown>): void {
  const struct = VFPF_IOC[name].struct;
  const members = VFPF_UAPI_STRUCTS[struct].members ?? {};
  if (typeof value !== 'object' || value === null) throw new TypeError(`${struct}: the argument must be an object`);
  for (const [field, v] of Object.entries(value)) {
    const m = members[field];
    if (!m) throw new TypeError(`struct ${struct} has no field '${field}'`);
    const t = koffi.type(m.type) as unknown as { primitive: string; size: number; length?: number };
    if (t.primitive === 'Array') {
      if (!(v instanceof Uint8Array) || v.length !== t.length) {
        throw new TypeError(`${struct}.${field} must be a Uint8Array of ${t.length} bytes`);
      }
    } else if (t.size === 8) {
      if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) throw new RangeError(`${struct}.${field} must be a bigint in [0, 2^64)`);
    } else {
      const max = 2 ** (8 * t.size) - 1;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
        throw new RangeError(`${struct}.${field} must be an integer in [0, ${max}], got ${String(v)}`);
      }
    }
  }
}

/** Encodes the request's argument struct; absent fields are zero (pads included). */
export function encodeArg<N extends VfpfIocName>(name: N, value: Partial<VfpfIocArgs[N]>): Buffer {
  checkArg(name, value as Record<string, unknown>);
  const type = VFPF_UAPI_STRUCTS[VFPF_IOC[name].struct];
  const buf = stableBuffer(koffi.sizeof(type));
  koffi.encode(buf, type, value);
  return buf;
}

export function decodeArg<N extends VfpfIocName>(name: N, buf: Buffer): VfpfIocArgs[N] {
  return koffi.decode(buf, VFPF_UAPI_STRUCTS[VFPF_IOC[name].struct]) as VfpfIocArgs[N];
}

/** The struct vfpf_ioc_dirty_range[] DIRTY_START points at. */
export function encodeRanges(ranges: readonly { iova: bigint; length: bigint }[]): Buffer {
  const size = koffi.sizeof(VfpfIocDirtyRange);
  const arr = stableBuffer(size * ranges.length);
  ranges.forEach((r, i) => koffi.encode(arr, i * size, VfpfIocDirtyRange, { iova: r.iova, length: r.length }));
  return arr;
}
