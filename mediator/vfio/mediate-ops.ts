/**
 * The mediate-ops registry of the vfio-user server: a mediate driver registers its ops;
 * when a device is opened (a client attaches), each registered driver's open(device) is
 * asked in turn and the first that accepts returns a handle bound to that device. From
 * then on until release the device's ops go through the handle:
 *
 *   client ─▶ dispatcher ─▶ MediatedDevice ──(handle accepts?)──▶ MediateHandle op
 *                                 │                                   │ 'passthrough'
 *                                 └──────────── inner VfioDevice ◀────┘
 *
 *   op                 handle hook          may answer
 *   get_region_info    regionInfo(i, base)  a changed description, or one for a region the
 *                                           device itself does not have (index >= its count)
 *   mmap               mmap(i, base)        what of the region the client may map
 *   rw                 rw(access)           PASSTHROUGH (the device does it) or handled
 *   (fast path)        fastPath(base)       which of the device's natively servable
 *                                           accesses stay so (a handle with rw and without
 *                                           this hook gets none: it must see them all)
 *   release            release()            (always called; the handle is gone afterwards)
 *   + device info, IRQ info/set, DEVICE_FEATURE, MIG_DATA_READ/WRITE, reset and the DMA
 *     map notifications, each optional, each defaulting to the device.
 *
 * Without a registered driver, or when no driver accepts a device, every op goes straight
 * to the device: a VF behaves byte for byte as it does unwrapped. This is the vfio-user
 * counterpart of the "mediate ops" proposal for vfio-pci (open/release/get_region_info/rw/
 * mmap with a pass-through flag).
 */
import { chain, DelegatingDevice, isPromise, type DeviceInfoDesc, type DmaMapRequest, type IrqDesc, type IrqSetRequest,
  type MaybePromise, type RegionDesc, type RegionMmap, type VfioDevice } from './device.js';
import type { FastPathBatch, FastPathHost, FastPathPolicy } from './fast-path.js';

/** Returned by a hook that lets the device handle the operation itself. */
export const PASSTHROUGH: unique symbol = Symbol('passthrough');
export type Passthrough = typeof PASSTHROUGH;

export type RegionAccess =
  | { write: false; index: number; offset: bigint; count: number }
  | { write: true; index: number; offset: bigint; data: Uint8Array };

/** What rw answers: pass through, or handled (with the data for a read). */
export type RwResult = Passthrough | { data?: Uint8Array };

export interface MediateHandle {
  /** Name of the driver that owns the handle (logs, status). */
  readonly driver: string;
  info?(base: DeviceInfoDesc): DeviceInfoDesc;
  /** base: the device's own description, null for an index beyond the device's regions.
   * Returns the description to use; null means "no such region" (EINVAL). */
  regionInfo?(index: number, base: RegionDesc | null): RegionDesc | null;
  /** The mmap part of the description: what of region `index` the client may map. */
  mmap?(index: number, base: RegionMmap | null): RegionMmap | null;
  /** A region info reply with this mmap description (fd + areas) went to the client. */
  mmapOffered?(index: number, mmap: RegionMmap): void;
  rw?(access: RegionAccess): MaybePromise<RwResult>;
  irqInfo?(index: number, base: IrqDesc | null): IrqDesc | null;
  setIrqs?(req: IrqSetRequest): MaybePromise<void | Passthrough>;
  feature?(flags: number, data: Uint8Array, argsz: number | undefined): MaybePromise<Uint8Array | void | Passthrough>;
  migDataRead?(size: number): MaybePromise<Uint8Array>;
  migDataWrite?(data: Uint8Array): MaybePromise<void>;
  /** DEVICE_RESET; `device` resets the device itself. */
  reset?(device: () => MaybePromise<void>): MaybePromise<void>;
  /** The device accepted a DMA window (called after it did). */
  dmaMapped?(req: DmaMapRequest): void;
  /** The device dropped a window (after it did); `null` = all of them. */
  dmaUnmapped?(iova: bigint | null, size: bigint | null): void;
  /** The client is gone; the device's own release follows. */
  release(): MaybePromise<void>;
  /** The policy to install given the device's (mediator/vfio/fast-path.ts). */
  fastPath?(base: FastPathPolicy | null): FastPathPolicy | null;
  /** What the transport served natively under that policy (in connection order). */
  fastPathServed?(batch: FastPathBatch): void;
  /** The connection's fast-path link, or null when it goes. */
  attachFastPath?(host: FastPathHost | null): void;
}

export interface MediateDriver {
  readonly name: string;
  /** A handle bound to `device`, or null when this driver does not mediate it. */
  open(device: VfioDevice): MediateHandle | null;
}

export class MediateRegistry {
  readonly #drivers: MediateDriver[] = [];

  /** Adds a driver (asked after those registered before it); returns its unregister. */
  register(driver: MediateDriver): () => void {
    if (this.#drivers.includes(driver)) throw new Error(`mediate driver ${driver.name} registered twice`);
    this.#drivers.push(driver);
    return () => this.unregister(driver);
  }

  unregister(driver: MediateDriver): void {
    const i = this.#drivers.indexOf(driver);
    if (i >= 0) this.#drivers.splice(i, 1);
  }

  get drivers(): readonly MediateDriver[] {
    return this.#drivers;
  }

  /** The first handle a driver gives for `device`, or null. */
  open(device: VfioDevice): MediateHandle | null {
    for (const d of this.#drivers) {
      const h = d.open(device);
      if (h) return h;
    }
    return null;
  }
}

/** A device whose ops go through the mediate handle of its current open, if any. */
export class MediatedDevice extends DelegatingDevice {
  #handle: MediateHandle | null = null;

  constructor(inner: VfioDevice, private readonly registry: MediateRegistry) {
    super(inner);
  }

  /** The handle of the current open (null: not mediated, or not open). */
  get handle(): MediateHandle | null {
    return this.#handle;
  }

  /** The device the handle mediates. */
  get device(): VfioDevice {
    return this.inner;
  }

  override open(): void {
    super.open();
    if (this.#handle) throw new Error(`${this.name}: opened twice without release`);
    this.#handle = this.registry.open(this.inner);
  }

  override info(): DeviceInfoDesc {
    const base = super.info();
    return this.#handle?.info ? this.#handle.info(base) : base;
  }

  override regionInfo(index: number): RegionDesc {
    const h = this.#handle;
    if (!h?.regionInfo && !h?.mmap) return super.regionInfo(index);
    let base: RegionDesc | null = null;
    if (index < this.inner.info().numRegions) base = super.regionInfo(index);
    const r = h.regionInfo ? h.regionInfo(index, base) : base;
    if (!r) return super.regionInfo(index); // the device's own EINVAL
    return h.mmap ? { ...r, mmap: h.mmap(index, r.mmap) } : r;
  }

  override regionRead(index: number, offset: bigint, count: number): MaybePromise<Uint8Array> {
    const h = this.#handle;
    if (!h?.rw) return super.regionRead(index, offset, count);
    return chain(h.rw({ write: false, index, offset, count }), (r) => {
      if (r === PASSTHROUGH) return super.regionRead(index, offset, count);
      if (!r.data) throw new Error(`${h.driver}: a handled read returned no data`);
      return r.data;
    });
  }

  override regionWrite(index: number, offset: bigint, data: Uint8Array): MaybePromise<void> {
    const h = this.#handle;
    if (!h?.rw) return super.regionWrite(index, offset, data);
    return chain(h.rw({ write: true, index, offset, data }), (r) => (r === PASSTHROUGH ? super.regionWrite(index, offset, data) : undefined));
  }

  override irqInfo(index: number): IrqDesc {
    const h = this.#handle;
    if (!h?.irqInfo) return super.irqInfo(index);
    const base = index < this.inner.info().numIrqs ? super.irqInfo(index) : null;
    return h.irqInfo(index, base) ?? super.irqInfo(index);
  }

  override setIrqs(req: IrqSetRequest): MaybePromise<void> {
    const h = this.#handle;
    if (!h?.setIrqs) return super.setIrqs(req);
    return chain(h.setIrqs(req), (r) => (r === PASSTHROUGH ? super.setIrqs(req) : undefined));
  }

  override feature(flags: number, data: Uint8Array, argsz?: number): MaybePromise<Uint8Array | void> {
    const h = this.#handle;
    if (!h?.feature) return super.feature(flags, data, argsz);
    return chain(h.feature(flags, data, argsz), (r) => (r === PASSTHROUGH ? super.feature(flags, data, argsz) : r));
  }

  override get migDataRead(): ((size: number) => MaybePromise<Uint8Array>) | undefined {
    const h = this.#handle;
    return h?.migDataRead ? (size) => h.migDataRead!(size) : super.migDataRead;
  }

  override get migDataWrite(): ((data: Uint8Array) => MaybePromise<void>) | undefined {
    const h = this.#handle;
    return h?.migDataWrite ? (data) => h.migDataWrite!(data) : super.migDataWrite;
  }

  override reset(): MaybePromise<void> {
    const h = this.#handle;
    return h?.reset ? h.reset(() => super.reset()) : super.reset();
  }

  override mmapOffered(index: number, mmap: RegionMmap): void {
    super.mmapOffered(index, mmap);
    this.#handle?.mmapOffered?.(index, mmap);
  }

  override dmaMap(req: DmaMapRequest): MaybePromise<void> {
    return chain(super.dmaMap(req), () => this.#handle?.dmaMapped?.(req));
  }

  override dmaUnmap(iova: bigint, size: bigint): MaybePromise<void> {
    return chain(super.dmaUnmap(iova, size), () => this.#handle?.dmaUnmapped?.(iova, size));
  }

  override dmaUnmapAll(): MaybePromise<void> {
    return chain(super.dmaUnmapAll(), () => this.#handle?.dmaUnmapped?.(null, null));
  }

  override fastPath(): FastPathPolicy | null {
    const h = this.#handle;
    const base = this.inner.fastPath?.() ?? null;
    if (!h?.rw) return base;
    return h.fastPath ? h.fastPath(base) : null;
  }

  override fastPathServed(batch: FastPathBatch): void {
    this.#handle?.fastPathServed?.(batch);
    super.fastPathServed(batch);
  }

  override attachFastPath(host: FastPathHost | null): void {
    this.#handle?.attachFastPath?.(host);
    super.attachFastPath(host);
  }

  /** The handle goes first (it may still need the device), then the device's release. */
  override release(): MaybePromise<void> {
    const h = this.#handle;
    this.#handle = null;
    if (!h) return super.release();
    let first: unknown = null;
    let r: MaybePromise<void>;
    try {
      r = h.release();
    } catch (e) {
      first = e;
      r = undefined;
    }
    const finish = (): MaybePromise<void> => chain(super.release(), () => {
      if (first) throw first;
    });
    if (isPromise(r)) return r.then(finish, (e: unknown) => { first = e; return finish(); });
    return finish();
  }
}

/** The `wrapDevice` of startVfServers() that puts every VF under the registry. */
export function mediatedBy(registry: MediateRegistry): (dev: VfioDevice) => MediatedDevice {
  return (dev) => new MediatedDevice(dev, registry);
}
