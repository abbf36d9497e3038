/**
 * The device model interface of the vfio-user server: what the protocol layer needs from
 * a device, in VFIO terms (regions, IRQ indexes, DMA windows, reset). The dispatcher
 * validates message shapes and generic bounds; a VfioDevice implements the device
 * semantics and throws errors carrying an errno (VfmedError / VfmedSystemError), which
 * become the error reply.
 *
 * This interface is also the seam for "mediate ops": a mediation layer wraps a VfioDevice
 * (see DelegatingDevice) and intercepts regionInfo (get_region_info: flip sparse-mmap
 * areas, add regions), regionRead/regionWrite (rw: trap doorbells), the mmap description
 * inside RegionDesc (mmap) and release (release) per device, without the protocol layer
 * knowing.
 *
 * Methods that a mediation layer may need to make asynchronous (it may have to wait for
 * the PF driver or for the client to unmap pages) may return a Promise; the dispatcher
 * starts commands in arrival order and sends each reply when its command completes, so a
 * pending command does not hold back the ones behind it (replies match by msg_id).
 *
 * fd ownership: fds handed to dmaMap are borrowed (the implementation duplicates what it
 * keeps); eventfds handed to setIrqs belong to the device from the call on, whatever the
 * outcome (it closes the ones it does not keep). fds in a RegionDesc stay the device's.
 */
import { constants } from 'node:os';
import { VfmedError } from '../errors.js';
import type { FastPathBatch, FastPathHost, FastPathPolicy } from './fast-path.js';
import type { RegionCapability, SparseArea } from './messages.js';

export type MaybePromise<T> = T | Promise<T>;

const { ENOTTY } = constants.errno;

export interface DeviceInfoDesc {
  /** VFIO_DEVICE_FLAGS_* */
  flags: number;
  numRegions: number;
  numIrqs: number;
}

export interface RegionMmap {
  /** fd the client mmaps (sent with the region info reply); owned by the device */
  fd: number;
  /** offset of the region inside fd (region info `offset`) */
  offset: bigint;
  /** areas the client may map (sparse-mmap capability); null = the whole region */
  areas: readonly SparseArea[] | null;
}

export interface RegionDesc {
  index: number;
  /** 0 for an unimplemented region */
  size: bigint;
  /** VFIO_REGION_INFO_FLAG_READ / _WRITE (MMAP and CAPS are derived) */
  flags: number;
  mmap: RegionMmap | null;
  /** extra capabilities, e.g. VFIO_REGION_INFO_CAP_TYPE for device-specific regions */
  caps?: readonly RegionCapability[];
}

export interface IrqDesc {
  index: number;
  /** VFIO_IRQ_INFO_* */
  flags: number;
  count: number;
}

export type IrqAction = 'mask' | 'unmask' | 'trigger';
export type IrqData =
  | { kind: 'none' }
  | { kind: 'bool'; values: readonly boolean[] }
  /** fds.length === count, or 0 to de-assign the range */
  | { kind: 'eventfd'; fds: readonly number[] };

/** A validated VFIO_USER_DEVICE_SET_IRQS: start + count <= irqInfo(index).count, count 0
 * only as "disable all" (action trigger, data none). */
export interface IrqSetRequest {
  index: number;
  start: number;
  count: number;
  action: IrqAction;
  data: IrqData;
}

/** A validated VFIO_USER_DMA_MAP with its fd (page-aligned, non-empty, no wrap). */
export interface DmaMapRequest {
  iova: bigint;
  size: bigint;
  fd: number;
  /** offset of the window inside fd */
  offset: bigint;
  /** VFMED_DMA_READ (1) | VFMED_DMA_WRITE (2), same bits as the vfio-user flags */
  prot: number;
}

export interface VfioDevice {
  /** for logs: e.g. "vf0" */
  readonly name: string;
  /** DMA windows the device accepts (advertised as max_dma_maps); default ServerLimits */
  readonly maxDmaMaps?: number;
  info(): DeviceInfoDesc;
  /** throws EINVAL for an index >= numRegions */
  regionInfo(index: number): RegionDesc;
  /** The caller checked index, bounds (offset + count <= size) and READ permission. */
  regionRead(index: number, offset: bigint, count: number): MaybePromise<Uint8Array>;
  /** The caller checked index, bounds and WRITE permission. */
  regionWrite(index: number, offset: bigint, data: Uint8Array): MaybePromise<void>;
  /** throws EINVAL for an index >= numIrqs */
  irqInfo(index: number): IrqDesc;
  setIrqs(req: IrqSetRequest): MaybePromise<void>;
  dmaMap(req: DmaMapRequest): MaybePromise<void>;
  /** exactly a mapped window, else ENOENT */
  dmaUnmap(iova: bigint, size: bigint): MaybePromise<void>;
  dmaUnmapAll(): MaybePromise<void>;
  /** VFIO_USER_DEVICE_RESET */
  reset(): MaybePromise<void>;
  /** The client went away: drop its DMA windows, close its IRQ eventfds, keep the rest. */
  release(): MaybePromise<void>;
  /**
   * VFIO_USER_DEVICE_FEATURE (optional; absent = no feature, ENOTTY as in Linux). Returns
   * the data to append to a GET reply; throws ENOTTY for an unsupported feature. `argsz` is
   * the request's argsz: for GET, the largest reply (header + data) the client accepts.
   */
  feature?(flags: number, data: Uint8Array, argsz?: number): MaybePromise<Uint8Array | void>;
  /**
   * A client attached: the device is "opened" (optional). The mediate-ops seam asks its
   * drivers here; it is undone by release(). A throw refuses the client.
   */
  open?(): void;
  /**
   * VFIO_USER_MIG_DATA_READ (optional; absent = ENOTSUP): at most `size` bytes of the
   * migration stream. Fewer than asked means no more data (for now in PRE_COPY, for good in
   * STOP_COPY), as the vfio-user specification defines.
   */
  migDataRead?(size: number): MaybePromise<Uint8Array>;
  /** VFIO_USER_MIG_DATA_WRITE (optional; absent = ENOTSUP): the next bytes of the stream. */
  migDataWrite?(data: Uint8Array): MaybePromise<void>;
  /**
   * A GET_REGION_INFO reply carrying the region fd and these mmap-able areas went to the
   * client (optional notification): from now on the client may have them mapped.
   */
  mmapOffered?(index: number, mmap: RegionMmap): void;
  /**
   * Native fast path (optional; mediator/vfio/fast-path.ts): the register accesses the
   * transport may serve without asking the device, now. Return the same object while
   * nothing changed (the connection re-installs only a different one); null = none.
   * A layer that must see some accesses removes them from its inner device's policy.
   */
  fastPath?(): FastPathPolicy | null;
  /** Accesses the transport served natively since the last call, in connection order
   * relative to every other message (counters, the tail log). */
  fastPathServed?(batch: FastPathBatch): void;
  /** The connection's fast-path link (null when the client goes): sync() before reading
   * anything the served accesses change, withdraw() before unmapping memory a policy
   * points into. */
  attachFastPath?(host: FastPathHost | null): void;
}

/** Forwards everything to an inner device; mediation layers extend it and override the
 * ops they intercept. */
export class DelegatingDevice implements VfioDevice {
  constructor(protected readonly inner: VfioDevice) {}
  get name(): string {
    return this.inner.name;
  }
  get maxDmaMaps(): number | undefined {
    return this.inner.maxDmaMaps;
  }
  info(): DeviceInfoDesc {
    return this.inner.info();
  }
  regionInfo(index: number): RegionDesc {
    return this.inner.regionInfo(index);
  }
  regionRead(index: number, offset: bigint, count: number): MaybePromise<Uint8Array> {
    return this.inner.regionRead(index, offset, count);
  }
  regionWrite(index: number, offset: bigint, data: Uint8Array): MaybePromise<void> {
    return this.inner.regionWrite(index, offset, data);
  }
  irqInfo(index: number): IrqDesc {
    return this.inner.irqInfo(index);
  }
  setIrqs(req: IrqSetRequest): MaybePromise<void> {
    return this.inner.setIrqs(req);
  }
  dmaMap(req: DmaMapRequest): MaybePromise<void> {
    return this.inner.dmaMap(req);
  }
  dmaUnmap(iova: bigint, size: bigint): MaybePromise<void> {
    return this.inner.dmaUnmap(iova, size);
  }
  dmaUnmapAll(): MaybePromise<void> {
    return this.inner.dmaUnmapAll();
  }
  reset(): MaybePromise<void> {
    return this.inner.reset();
  }
  release(): MaybePromise<void> {
    return this.inner.release();
  }
  feature(flags: number, data: Uint8Array, argsz?: number): MaybePromise<Uint8Array | void> {
    if (!this.inner.feature) throw new VfmedError('VFMED_ERR_VFIO_FEATURE', 'no device features', ENOTTY);
    return this.inner.feature(flags, data, argsz);
  }
  open(): void {
    this.inner.open?.();
  }
  /** Present exactly when the inner device has it (a device without migration keeps
   * answering MIG_DATA_* with ENOTSUP before anything else is looked at). */
  get migDataRead(): ((size: number) => MaybePromise<Uint8Array>) | undefined {
    const inner = this.inner;
    return inner.migDataRead ? (size) => inner.migDataRead!(size) : undefined;
  }
  get migDataWrite(): ((data: Uint8Array) => MaybePromise<void>) | undefined {
    const inner = this.inner;
    return inner.migDataWrite ? (data) => inner.migDataWrite!(data) : undefined;
  }
  mmapOffered(index: number, mmap: RegionMmap): void {
    this.inner.mmapOffered?.(index, mmap);
  }
  /** The inner device's policy, unless this layer overrides regionRead or regionWrite: it
   * then has its own semantics, and offers nothing natively unless it overrides this too. */
  fastPath(): FastPathPolicy | null {
    const own = DelegatingDevice.prototype;
    if (this.regionRead !== own.regionRead || this.regionWrite !== own.regionWrite) return null;
    return this.inner.fastPath?.() ?? null;
  }
  fastPathServed(batch: FastPathBatch): void {
    this.inner.fastPathServed?.(batch);
  }
  attachFastPath(host: FastPathHost | null): void {
    this.inner.attachFastPath?.(host);
  }
}


/** True for a thenable (what a MaybePromise-returning method gave back). */
export function isPromise<T>(v: MaybePromise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}

/** f(v) now for a plain value, after it resolves for a promise (keeps sync paths sync). */
export function chain<T, U>(v: MaybePromise<T>, f: (t: T) => MaybePromise<U>): MaybePromise<U> {
  return isPromise(v) ? v.then(f) : f(v);
}
