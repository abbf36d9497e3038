/**
 * The one place that loads the native addon (build/Release/vfmed_hw.node) and the typed
 * interface that describes it. Everything else imports `loadAddon()` / the types from here,
 * so tests can inject a fake and no other file knows the addon's path.
 *
 * The addon glue is thin: argument checks (TypeError/RangeError), -errno -> VfmedSystemError,
 * and calls into native/include/vfmed/nic.h. 64-bit addresses cross as bigint.
 *
 * Errors thrown by the addon:
 *  - wrong argument type: TypeError, code 'ERR_INVALID_ARG_TYPE';
 *  - a value the C parameter cannot hold (negative, fractional, >= 2^32, vf >= maxVfs, a
 *    register size other than 1/2/4/8 ...): RangeError, code 'ERR_OUT_OF_RANGE';
 *  - a C function or syscall returning -errno: VfmedSystemError (code = errno name,
 *    errno > 0, syscall = the C function, e.g. 'vfmed_vf_dma_map' or 'mmap');
 *  - any method of a destroyed Nic: VfmedError 'VFMED_ERR_DESTROYED'.
 * loadAddon() registers the two error classes with the addon, so these are real instances
 * of the classes in ../errors.ts.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VfmedError, VfmedSystemError } from '../errors.js';

/** Options of `new NicHandle(...)`; mirrors struct vfmed_nic_config. */
export interface NicConfig {
  maxVfs: number;
  rxFifoBytes?: number;
  shmDir?: string;
  shmPrefix?: string;
  baseMac?: Uint8Array; // 6 bytes
  pollMode?: 'adaptive' | 'busy';
  noHeadWriteBack?: boolean;
}

export interface VfQueueInfo {
  rxEnabled: boolean; txEnabled: boolean;
  rxHead: number; rxTail: number; txHead: number; txTail: number;
  rxCount: number; txCount: number;
  rxError: number; txError: number;
}

export interface VfInfo {
  enabled: boolean; rxEn: boolean; txEn: boolean; quiesced: boolean;
  mac: Uint8Array;
  fifoFrames: number; fifoBytes: number; fifoCapacity: number;
  fifoDrops: bigint; dmaErrors: bigint; txErrors: bigint;
  rxPackets: bigint; txPackets: bigint; rxBytes: bigint; txBytes: bigint;
  queues: [VfQueueInfo, VfQueueInfo];
}

/** One emulated NIC (struct vfmed_nic). Methods throw VfmedSystemError on -errno. */
export interface NativeNic {
  readonly maxVfs: number;
  /** The BAR fds belong to the NIC (closed by destroy); dup or mmap them to keep them. */
  pfBarFd(): number;
  vfBarFd(vf: number): number;
  pfBarPath(): string | null;
  vfBarPath(vf: number): string | null;
  pfDmaMap(iova: bigint, len: bigint, fd: number, offset: bigint): void;
  pfDmaUnmap(iova: bigint, len: bigint): void;
  vfDmaMap(vf: number, iova: bigint, len: bigint, fd: number, offset: bigint, prot: number): void;
  vfDmaUnmap(vf: number, iova: bigint, len: bigint): void;
  vfDmaUnmapAll(vf: number): void;
  vfRegRead(vf: number, off: number, size: 1 | 2 | 4 | 8): bigint;
  vfRegWrite(vf: number, off: number, size: 1 | 2 | 4 | 8, val: bigint): void;
  /** 32-bit conveniences over vfRegRead/vfRegWrite. */
  vfRead32(vf: number, off: number): number;
  vfWrite32(vf: number, off: number, val: number): void;
  vfSetIrqFd(vf: number, vector: number, fd: number): void;
  setPfEventFd(fd: number): void;
  poll(): number;
  start(): void;
  stop(): void;
  kick(): void;
  uplinkInject(frame: Uint8Array): void;
  /** Next frame sent to the uplink, or null when none is queued. */
  uplinkTake(): Buffer | null;
  truthRead(vf: number, iova: bigint, len: bigint, clear: boolean): Buffer;
  vfInfo(vf: number): VfInfo;
  /** Stops the device thread, unmaps everything, closes the BAR fds. Idempotent. */
  destroy(): void;
}

/** Small OS helpers the tests and the daemon need and Node lacks. */
export interface NativeOs {
  /** memfd_create(name, MFD_CLOEXEC) + ftruncate(size). */
  memfdCreate(name: string, size: bigint): number;
  /**
   * mmap(fd, PROT_READ|PROT_WRITE, MAP_SHARED) as an external ArrayBuffer; unmapped when
   * collected or by munmap. A range past the end of a regular file is refused (EINVAL)
   * instead of becoming a SIGBUS on first touch.
   */
  mmapShared(fd: number, length: number, offset: bigint): ArrayBuffer;
  /** Unmaps and detaches (views become length 0). A second call on the same buffer is a
   * no-op; a buffer mmapShared did not return is a TypeError. */
  munmap(buf: ArrayBuffer): void;
  /** eventfd(0, flags); flags default to EFD_CLOEXEC | EFD_NONBLOCK. */
  eventfdCreate(flags?: number): number;
  /** Reads the eventfd counter; null when it would block (EFD_NONBLOCK). */
  eventfdRead(fd: number): bigint | null;
  eventfdWrite(fd: number, value: bigint): void;
  close(fd: number): void;
  /** eventfd flags for eventfdCreate. */
  readonly constants: { EFD_CLOEXEC: number; EFD_NONBLOCK: number; EFD_SEMAPHORE: number };
}

export interface NativeAddon extends NativeOs {
  Nic: new (cfg: NicConfig) => NativeNic;
  /** errno names for error mapping, e.g. { EINVAL: 22 } */
  errnos: Record<string, number>;
}

/** What the .node file exports beyond NativeAddon: the error-class registration hook. */
interface RawAddon extends NativeAddon {
  setErrorClasses(systemError: typeof VfmedSystemError, vfmedError: typeof VfmedError): void;
}

let cached: NativeAddon | undefined;

/** Finds the repository root from this file (works from mediator/ and from dist/mediator/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'binding.gyp'))) return dir;
    dir = resolve(dir, '..');
  }
  throw new Error('vfmed: cannot find the repository root (binding.gyp) from ' + import.meta.url);
}

/** Directory of the native build products; VFMED_BUILD_DIR selects another flavour (ASan). */
export function nativeBuildDir(): string {
  return process.env['VFMED_BUILD_DIR'] ?? join(repoRoot(), 'build', 'Release');
}

export function loadAddon(): NativeAddon {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const path = join(nativeBuildDir(), 'vfmed_hw.node');
  if (!existsSync(path)) {
    throw new Error(`vfmed: native addon not built (${path} missing); run "npm install"`);
  }
  const raw = require(path) as RawAddon;
  raw.setErrorClasses(VfmedSystemError, VfmedError);
  cached = raw;
  return cached;
}
