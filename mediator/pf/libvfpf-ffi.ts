/**
 * The one place that loads libvfpf.so (the PF driver core + userspace shim, pf-driver/) with
 * koffi and declares its ABI: struct layouts once, function prototypes once. Everything
 * else uses the typed PfDriver class (pf-driver.ts) on top of this.
 *
 * The layouts below mirror pf-driver/core/vfpf_core.h, pf-driver/user/libvfpf.h and
 * native/include/vfmed/pf_regs.h; tests/pf/abi-layout.test.ts compares every struct and
 * field with what the C compiler did (vfpf_abi_layout()).
 */
import koffi from 'koffi';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nativeBuildDir } from '../native/addon.js';
import { VF_STATS_FIELDS } from './vf-stats-fields.js';

/** Opaque handle: struct vfpf_dev * (koffi 3 passes pointers as bigint). */
export type VfpfHandle = bigint;

export const VfpfDevInfo = koffi.struct('vfpf_dev_info', {
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

export const VfpfVfConfig = koffi.struct('vfpf_vf_config', {
  mac: koffi.array('uint8_t', 6, 'Typed'),
  enable: 'uint16_t',
  max_frame: 'uint32_t',
  mc_count: 'uint32_t',
  vlan_count: 'uint32_t',
  promisc: 'uint32_t',
  quiesced: 'uint32_t',
  reserved: 'uint32_t',
});

export const VfpfVfStats = koffi.struct('vfpf_vf_stats', VF_STATS_FIELDS);

export const VfpfDirtyRange = koffi.struct('vfpf_dirty_range', {
  iova: 'uint64_t',
  length: 'uint64_t',
});

export const VfpfVfStatus = koffi.struct('vfpf_vf_status', {
  mac: koffi.array('uint8_t', 6, 'Typed'),
  perm_mac: koffi.array('uint8_t', 6, 'Typed'),
  flags: 'uint32_t',
  mc_count: 'uint32_t',
  vlan_count: 'uint32_t',
  max_frame: 'uint32_t',
  promisc: 'uint32_t',
  msgs: 'uint64_t',
  vf_acks: 'uint64_t',
  nacks: 'uint64_t',
  resets: 'uint64_t',
  stale: 'uint64_t',
  errors: 'uint64_t',
  mc_hashes: koffi.array('uint16_t', 30, 'Array'),
  reserved: 'uint32_t',
});

export const VfpfAbiField = koffi.struct('vfpf_abi_field', {
  type: koffi.array('char', 32, 'String'),
  field: koffi.array('char', 32, 'String'),
  offset: 'uint32_t',
  size: 'uint32_t',
});

/** Every struct declared above, by its C name (for the layout test). */
export const VFPF_STRUCTS = {
  vfpf_dev_info: VfpfDevInfo,
  vfpf_vf_config: VfpfVfConfig,
  vfpf_vf_stats: VfpfVfStats,
  vfpf_dirty_range: VfpfDirtyRange,
  vfpf_vf_status: VfpfVfStatus,
  vfpf_abi_field: VfpfAbiField,
} as const;

// ---- decoded shapes (what koffi hands back for the structs above) ----------------------

export interface RawDevInfo {
  model_id: number; abi_major: number; abi_minor: number; max_vfs: number; num_vfs: number;
  queues_per_vf: number; rx_fifo_bytes: number; state_version: number; features: number;
}
export interface RawVfConfig {
  mac: Uint8Array; enable: number; max_frame: number; mc_count: number; vlan_count: number;
  promisc: number; quiesced: number; reserved: number;
}
type U64 = number | bigint;
export interface RawVfStats {
  rx_packets: U64; rx_bytes: U64; tx_packets: U64; tx_bytes: U64; rx_mcast: U64;
  rx_lb_packets: U64; tx_lb_packets: U64; rx_lb_bytes: U64; tx_lb_bytes: U64;
  rx_fifo_drops: U64; rx_no_desc: U64; dma_errors: U64; tx_errors: U64;
  fifo_frames: U64; fifo_bytes: U64;
}
export interface RawVfStatus {
  mac: Uint8Array; perm_mac: Uint8Array; flags: number; mc_count: number; vlan_count: number;
  max_frame: number; promisc: number; msgs: U64; vf_acks: U64; nacks: U64; resets: U64;
  stale: U64; errors: U64; mc_hashes: number[]; reserved: number;
}
export interface RawAbiField { type: string; field: string; offset: number; size: number }
export interface RawDirtyRange { iova: bigint; length: bigint }

/** Out-parameter holder as koffi fills it. */
type Out<T> = T | Record<string, never>;

export interface LibVfpf {
  readonly path: string;
  vfpf_open(barFd: number, barLen: bigint, dmaFd: number, dmaIova: bigint, dmaLen: bigint,
    out: [VfpfHandle | null]): number;
  vfpf_close(dev: VfpfHandle): void;
  vfpf_set_log_level(dev: VfpfHandle, level: number): void;
  vfpf_abi_layout(idx: number, out: Out<RawAbiField>): number;
  vfpf_dev_init(dev: VfpfHandle): number;
  vfpf_get_info(dev: VfpfHandle, out: Out<RawDevInfo>): number;
  vfpf_sriov_enable(dev: VfpfHandle, numVfs: number): number;
  vfpf_num_vfs(dev: VfpfHandle): number;
  vfpf_service(dev: VfpfHandle): number;
  vfpf_vf_set_mac(dev: VfpfHandle, vf: number, mac: Uint8Array): number;
  vfpf_vf_get_config(dev: VfpfHandle, vf: number, out: Out<RawVfConfig>): number;
  vfpf_vf_get_status(dev: VfpfHandle, vf: number, out: Out<RawVfStatus>): number;
  vfpf_vf_get_vlans(dev: VfpfHandle, vf: number, bitmap: Buffer): number;
  vfpf_vf_stats(dev: VfpfHandle, vf: number, out: Out<RawVfStats>): number;
  vfpf_vf_flr(dev: VfpfHandle, vf: number): number;
  vfpf_vf_release_mac(dev: VfpfHandle, vf: number): number;
  vfpf_vf_quiesce(dev: VfpfHandle, vf: number): number;
  vfpf_vf_resume(dev: VfpfHandle, vf: number): number;
  vfpf_vf_state_size(dev: VfpfHandle, vf: number): number;
  vfpf_vf_save(dev: VfpfHandle, vf: number, buf: Buffer, cap: number): number;
  vfpf_vf_load(dev: VfpfHandle, vf: number, buf: Buffer, len: number): number;
  vfpf_vf_dirty_start(dev: VfpfHandle, vf: number, pageShift: number, ranges: RawDirtyRange[],
    nr: number): number;
  vfpf_vf_dirty_stop(dev: VfpfHandle, vf: number): number;
  vfpf_vf_dirty_report(dev: VfpfHandle, vf: number, iova: bigint, length: bigint, bitmap: Buffer,
    bitmapLen: bigint): number;
  vfpf_admin_cmd(dev: VfpfHandle, opcode: number, vf: number, param0: number, param1: number,
    buf: Buffer | null, len: number, ret: [number | null]): number;
}

const PROTOTYPES = [
  'int vfpf_open(int bar_fd, uint64_t bar_len, int dma_fd, uint64_t dma_iova, uint64_t dma_len, _Out_ vfpf_dev **out)',
  'void vfpf_close(vfpf_dev *dev)',
  'void vfpf_set_log_level(vfpf_dev *dev, int level)',
  'int vfpf_abi_layout(uint32_t idx, _Out_ vfpf_abi_field *out)',
  'int vfpf_dev_init(vfpf_dev *dev)',
  'int vfpf_get_info(vfpf_dev *dev, _Out_ vfpf_dev_info *out)',
  'int vfpf_sriov_enable(vfpf_dev *dev, uint32_t num_vfs)',
  'int vfpf_num_vfs(vfpf_dev *dev)',
  'int vfpf_service(vfpf_dev *dev)',
  'int vfpf_vf_set_mac(vfpf_dev *dev, uint32_t vf, const uint8_t *mac)',
  'int vfpf_vf_get_config(vfpf_dev *dev, uint32_t vf, _Out_ vfpf_vf_config *out)',
  'int vfpf_vf_get_status(vfpf_dev *dev, uint32_t vf, _Out_ vfpf_vf_status *out)',
  'int vfpf_vf_get_vlans(vfpf_dev *dev, uint32_t vf, void *bitmap)',
  'int vfpf_vf_stats(vfpf_dev *dev, uint32_t vf, _Out_ vfpf_vf_stats *out)',
  'int vfpf_vf_flr(vfpf_dev *dev, uint32_t vf)',
  'int vfpf_vf_release_mac(vfpf_dev *dev, uint32_t vf)',
  'int vfpf_vf_quiesce(vfpf_dev *dev, uint32_t vf)',
  'int vfpf_vf_resume(vfpf_dev *dev, uint32_t vf)',
  'int vfpf_vf_state_size(vfpf_dev *dev, uint32_t vf)',
  'int vfpf_vf_save(vfpf_dev *dev, uint32_t vf, void *buf, uint32_t cap)',
  'int vfpf_vf_load(vfpf_dev *dev, uint32_t vf, const void *buf, uint32_t len)',
  'int vfpf_vf_dirty_start(vfpf_dev *dev, uint32_t vf, uint32_t page_shift, const vfpf_dirty_range *ranges, uint32_t nr)',
  'int vfpf_vf_dirty_stop(vfpf_dev *dev, uint32_t vf)',
  'int vfpf_vf_dirty_report(vfpf_dev *dev, uint32_t vf, uint64_t iova, uint64_t length, void *bitmap, uint64_t bitmap_len)',
  'int vfpf_admin_cmd(vfpf_dev *dev, uint16_t opcode, uint16_t vf, uint32_t param0, uint32_t param1, void *buf, uint32_t len, _Out_ uint32_t *ret)',
] as const;

/**
 * Path of libvfpf.so in the native build directory (VFMED_BUILD_DIR honoured). node-gyp's
 * make generator names the shared_library target lib.target/libvfpf.so or vfpf.so
 * depending on its version; both are accepted, in that order.
 */
export function libvfpfPath(): string {
  const dir = nativeBuildDir();
  const candidates = [join(dir, 'lib.target', 'libvfpf.so'), join(dir, 'vfpf.so')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`vfmed: libvfpf.so not built (looked for ${candidates.join(', ')}); run "npm install"`);
  }
  return found;
}

let cached: LibVfpf | undefined;

/** Loads libvfpf.so once and binds every function of its API. */
export function loadLibvfpf(): LibVfpf {
  if (cached) return cached;
  const path = libvfpfPath();
  koffi.opaque('vfpf_dev');
  const lib = koffi.load(path);
  const api: Record<string, unknown> = { path };
  for (const proto of PROTOTYPES) {
    const name = /\b(vfpf_\w+)\(/.exec(proto)?.[1];
    if (!name) throw new Error(`bad prototype ${proto}`);
    api[name] = lib.func(proto);
  }
  cached = api as unknown as LibVfpf;
  return cached;
}
