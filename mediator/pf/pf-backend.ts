/**
 * PfBackend: what the mediator needs from the PF driver to configure and migrate VFs,
 * whichever PF driver it talks to (mediate/pf-vf-control.ts's PfDirtyLog takes one):
 *
 *   PfDriver (pf-driver.ts)   libvfpf.so in the daemon's own process, the PF BAR mapped
 *                             from the emulated NIC (the default, no kernel involved)
 *   KernelPf (kernel-pf.ts)   vfpf.ko in the kernel the mediator runs on, through the
 *                             ioctls of /dev/vfpf (a PF that is a real PCI device)
 *
 * Both keep the same contract: VF indexes, MACs and 64-bit addresses are checked at this
 * edge (TypeError/RangeError before anything reaches the driver), a driver error is a
 * VfmedSystemError carrying the driver's errno, blobs and bitmaps are Buffers.
 *
 * What is deliberately NOT here: the libvfpf-only service() loop (the kernel module answers
 * VF mailboxes from its own thread) and diagnostics such as the raw admin command.
 */
import { VfmedSystemError } from '../errors.js';

export type PfBackendKind = 'libvfpf' | 'kernel';

export interface PfDevInfo {
  modelId: number; abiMajor: number; abiMinor: number; maxVfs: number; numVfs: number;
  queuesPerVf: number; rxFifoBytes: number; stateVersion: number; features: number;
}

export interface PfVfConfig {
  mac: Uint8Array; rxEnabled: boolean; txEnabled: boolean; maxFrame: number;
  mcCount: number; vlanCount: number; promisc: number; quiesced: boolean;
}

export interface PfVfStats {
  rxPackets: bigint; rxBytes: bigint; txPackets: bigint; txBytes: bigint; rxMcast: bigint;
  rxLbPackets: bigint; txLbPackets: bigint; rxLbBytes: bigint; txLbBytes: bigint;
  rxFifoDrops: bigint; rxNoDesc: bigint; dmaErrors: bigint; txErrors: bigint;
  fifoFrames: bigint; fifoBytes: bigint;
}

export interface DirtyRange { iova: bigint; length: bigint }

export interface PfBackend {
  readonly kind: PfBackendKind;
  readonly closed: boolean;
  /** The device description and the number of enabled VFs. */
  info(): PfDevInfo;
  numVfs(): number;
  /** Enables `numVfs` VFs (0 disables); returns the number enabled. EBUSY for another
   * non-zero count while VFs are enabled, EINVAL beyond max VFs. */
  sriovEnable(numVfs: number): number;
  /** Administratively fixes a VF's MAC (unicast); an all-zero MAC removes the fix. */
  setVfMac(vf: number, mac: Uint8Array): void;
  vfConfig(vf: number): PfVfConfig;
  vfStats(vf: number): PfVfStats;
  /** Function-level reset of the VF through the device. */
  vfFlr(vf: number): void;
  /** Stops the VF's DMA; the RX FIFO keeps filling from the wire. */
  quiesce(vf: number): void;
  resume(vf: number): void;
  /** Bytes save() needs now; grows while frames reach a quiesced VF's RX FIFO. */
  stateSize(vf: number): number;
  /** The quiesced VF's state blob. Without `cap`, sized by stateSize() and retried (bounded)
   * on ENOSPC; with `cap`, exactly one attempt with that capacity. */
  save(vf: number, cap?: number): Buffer;
  /** Loads a blob from save(); the device validates it whole first (EBADMSG, EPROTO) and
   * leaves the VF untouched when it refuses. */
  load(vf: number, blob: Uint8Array): void;
  dirtyStart(vf: number, pageShift: number, ranges: readonly DirtyRange[]): void;
  /** Reads and clears [iova, iova + length) at the started granularity: bit i (LSB first)
   * = page iova + (i << pageShift). `pageShift` must be the one given to dirtyStart(). */
  dirtyReport(vf: number, iova: bigint, length: bigint, pageShift: number): Buffer;
  dirtyStop(vf: number): void;
  /** Releases the driver handle. Idempotent; every other call throws afterwards. */
  close(): void;
}

/** Largest VF state blob either driver handles (VFPF_STATE_MAX = VFPF_IOC_STATE_MAX). */
export const VFPF_STATE_MAX = 16 << 20;

/** Room save() adds to stateSize(): a few frames may still arrive before SAVE seals. */
const SAVE_SLACK = 4096;
/** save() attempts when the state keeps outgrowing the buffer (frames still arriving). */
const SAVE_ATTEMPTS = 4;

/**
 * The sizing loop both drivers share: STATE_SIZE is "what SAVE needs now", and frames keep
 * reaching a quiesced VF's RX FIFO until SAVE seals it, so a save can find the state grown
 * past the size just read. Re-query and retry, a bounded number of times.
 */
export function saveGrowing(stateSize: () => number, saveWithCap: (cap: number) => Buffer): Buffer {
  for (let attempt = 1; ; attempt++) {
    const cap = Math.min(stateSize() + SAVE_SLACK, VFPF_STATE_MAX);
    try {
      return saveWithCap(cap);
    } catch (e) {
      if (!(e instanceof VfmedSystemError) || e.code !== 'ENOSPC' || attempt >= SAVE_ATTEMPTS) throw e;
    }
  }
}

// ---- argument checks shared by both drivers -------------------------------------------

export function checkU32(name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) {
    throw new RangeError(`${name} must be an unsigned 32-bit integer, got ${String(v)}`);
  }
}

export function checkU64(name: string, v: bigint): void {
  if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) {
    throw new RangeError(`${name} must be a bigint in [0, 2^64), got ${String(v)}`);
  }
}

/** A VF index that fits `max` (the driver's field: u16 for libvfpf's admin path, u32 for
 * the ioctls); whether that VF exists is the driver's answer (ENODEV). */
export function checkVf(vf: number, max: number): number {
  if (typeof vf !== 'number' || !Number.isInteger(vf) || vf < 0 || vf > max) {
    throw new RangeError(`VF index must be an integer in [0, ${max}], got ${String(vf)}`);
  }
  return vf;
}

export function checkMac(mac: Uint8Array): void {
  if (!(mac instanceof Uint8Array) || mac.length !== 6) {
    throw new TypeError('mac must be a 6-byte Uint8Array');
  }
}

export function checkRanges(ranges: readonly DirtyRange[]): void {
  if (!Array.isArray(ranges)) throw new TypeError('ranges must be an array');
  for (const r of ranges) {
    if (typeof r !== 'object' || r === null) throw new TypeError('each range must be { iova, length }');
    checkU64('range.iova', r.iova);
    checkU64('range.length', r.length);
  }
}

/** Bytes of the bitmap of [iova, iova + length) at 1 << pageShift (at least 1). */
export function dirtyBitmapBytes(iova: bigint, length: bigint, pageShift: number): number {
  checkU64('iova', iova);
  checkU64('length', length);
  checkU32('pageShift', pageShift);
  if (pageShift > 63) throw new RangeError(`pageShift ${pageShift} is beyond 63`);
  const pages = (length + (1n << BigInt(pageShift)) - 1n) >> BigInt(pageShift);
  const bytes = (pages + 7n) / 8n;
  if (bytes > BigInt(64 << 20)) throw new RangeError('dirty report window too large (bitmap over 64 MiB)');
  return Number(bytes);
}

export function asBuffer(blob: Uint8Array, what = 'blob'): Buffer {
  if (!(blob instanceof Uint8Array)) throw new TypeError(`${what} must be a Buffer/Uint8Array`);
  return Buffer.isBuffer(blob) ? blob : Buffer.from(blob.buffer, blob.byteOffset, blob.length);
}
