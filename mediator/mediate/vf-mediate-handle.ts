/**
 * The VF mediate driver's handle: one open of one emulated 82576 VF, from the client's
 * attach to its release. It adds to the plain VF
 *
 *   region 9   the v1 migration region (migration/v1-region.ts)
 *   region 10  the trap-BAR info region (trap-info-region.ts)
 *   IRQ 5      "BAR0 layout changed" eventfd
 *   features   MIGRATION, MIG_DEVICE_STATE, MIG_DATA_SIZE, DMA_LOGGING_*, PRECOPY_INFO
 *   MIG_DATA_READ/WRITE
 *
 * and routes BAR0 through the trap: while the queue pages are trapped, BAR0's sparse-mmap
 * areas leave pages 2-3 out; with the tail-trap tracker running, every trapped write to
 * pages 2-3 and to CTRL goes  tracker.beforeWrite -> device -> tracker.afterWrite.
 * Everything else passes through to the device unchanged.
 *
 * Native fast path (mediator/vfio/fast-path.ts): the device's policy stands while the
 * tracker is off; while it runs, the tracked registers are taken out of it except the four
 * tails, which the transport serves and logs (head, tails, posted descriptor addresses)
 * for the tracker to replay in order before anything else reaches it.
 */
import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import { VfmedError } from '../errors.js';
import type { NativeOs } from '../native/addon.js';
import type { DeviceInfoDesc, DmaMapRequest, IrqDesc, IrqSetRequest, MaybePromise, RegionDesc, RegionMmap } from '../vfio/device.js';
import type { IgbVfDevice } from '../vfio/igbvf-device.js';
import { PASSTHROUGH, type MediateHandle, type Passthrough, type RegionAccess, type RwResult } from '../vfio/mediate-ops.js';
import { maskHas, maskRange, type FastPathBatch, type FastPathHost, type FastPathPolicy } from '../vfio/fast-path.js';
import { encodeTypeCapBody } from '../vfio/messages.js';
import { IrqInfoFlag, PciRegion, RegionCap, RegionFlag, TYPE_CAP_VERSION } from '../vfio/protocol.js';
import { VfMigrationController, VF_MIGRATION_FLAGS } from '../migration/vf-migration.js';
import { V1MigrationRegion, V1_REGION_SIZE } from '../migration/v1-region.js';
import { MigState } from '../migration/fsm.js';
import { END_OF_STREAM, NO_MORE_FOR_NOW } from '../migration/device-stream.js';
import { CTRL, PAGE_SIZE, RDT, TDT, VF_PAGE_RXQ } from '../hw/vf-regs.js';
import { Pci } from '../vfio/pci-config.js';
import { AllDirtyTracker } from './all-dirty-tracker.js';
import { DeviceLogTracker } from './device-log-tracker.js';
import type { DirtyTracker, TrackerMode } from './dirty-tracker.js';
import { DmaLogging } from './dma-logging.js';
import { BarRegisters, DmaWindowReader } from './dma-view.js';
import { VfDeviceFeatures } from './device-features.js';
import type { PfDirtyLog, PfVfControl } from './pf-vf-control.js';
import { TailTrapTracker } from './tail-trap-tracker.js';
import { BarTrapController } from './trap-control.js';
import { readTrapInfo, TRAP_INFO_REGION, writeTrapInfo } from './trap-info-region.js';
import {
  REGION_SUBTYPE_MIGRATION_V1, REGION_TYPE_MIGRATION_V1, VFMED_IRQ_BAR_LAYOUT, VFMED_NUM_IRQS, VFMED_NUM_REGIONS,
  VFMED_REGION_MIGRATION, VFMED_REGION_TRAP_INFO,
} from './vfmed-ext.js';

const { EINVAL } = constants.errno;

const MIGRATION_REGION: RegionDesc = {
  index: VFMED_REGION_MIGRATION,
  size: BigInt(V1_REGION_SIZE),
  flags: RegionFlag.READ | RegionFlag.WRITE,
  mmap: null,
  caps: [{ id: RegionCap.TYPE, version: TYPE_CAP_VERSION, body: encodeTypeCapBody(REGION_TYPE_MIGRATION_V1, REGION_SUBTYPE_MIGRATION_V1) }],
};

const QUEUE_PAGES_START = BigInt(VF_PAGE_RXQ * PAGE_SIZE);

/** RDT0/1 and TDT0/1. */
function isTail(off: number): boolean {
  return off === RDT(0) || off === RDT(1) || off === TDT(0) || off === TDT(1);
}
/** CTRL and its alias CTRL_DUP (0x4): a write with RST resets the VF. */
const CTRL_DUP = 0x4;

export interface VfMediateHandleDeps {
  device: IgbVfDevice;
  control: PfVfControl;
  dirtyLog: PfDirtyLog;
  os: Pick<NativeOs, 'mmapShared' | 'munmap' | 'eventfdWrite'>;
  tracker: TrackerMode;
  ackTimeoutMs?: number;
  /** Failures the client only sees as an errno (e.g. why a stream was refused). */
  onError?: (e: unknown, what: string) => void;
  /** Called once when the handle is released. */
  onRelease?: () => void;
  /** Called when a release gave the MAC up after a completed outgoing migration. */
  onReleaseMac?: () => void;
}

export class VfMediateHandle implements MediateHandle {
  readonly driver = 'vfmed-vf';
  readonly device: IgbVfDevice;
  readonly traps: BarTrapController;
  readonly migration: VfMigrationController;
  readonly logging: DmaLogging;
  readonly memory: DmaWindowReader;
  /** The tail-trap tracker when it is the current one (the trapped-write hot path). */
  #tail: TailTrapTracker | null = null;
  readonly #regs: BarRegisters;
  readonly #dirtyLog: PfDirtyLog;
  readonly #v1: V1MigrationRegion;
  readonly #features: VfDeviceFeatures;
  readonly #control: PfVfControl;
  readonly #onError: (e: unknown, what: string) => void;
  /** Why the last migration operation of this open failed (DEVICE_FEATURE LAST_ERROR). */
  #lastError = '';
  readonly #onRelease: () => void;
  readonly #onReleaseMac: () => void;
  #released = false;
  #fastPathHost: FastPathHost | null = null;
  #fastPath: { base: FastPathPolicy; memGen: number; policy: FastPathPolicy } | null = null;
  #bar0Mmap: { generation: number; fd: number; mmap: RegionMmap } | null = null;

  constructor(deps: VfMediateHandleDeps) {
    this.device = deps.device;
    this.#control = deps.control;
    this.#onError = deps.onError ?? (() => {});
    this.#onRelease = deps.onRelease ?? (() => {});
    this.#onReleaseMac = deps.onReleaseMac ?? (() => {});
    this.traps = new BarTrapController({ os: deps.os, ackTimeoutMs: deps.ackTimeoutMs });
    this.memory = new DmaWindowReader(deps.os);
    this.#regs = new BarRegisters(deps.os, this.device.nic.vfBarFd(this.device.vf));
    this.#dirtyLog = deps.dirtyLog;
    this.logging = new DmaLogging(this.#makeTracker(deps.tracker), this.traps,
      () => this.memory.windows.map((w) => ({ iova: w.iova, length: w.size })));
    this.#tail = this.#tailOf(this.logging.tracker);
    this.migration = new VfMigrationController(this.#control, {
      trap: async () => this.traps.hold('saving'),
      untrap: () => this.traps.drop('saving'),
    }, VF_MIGRATION_FLAGS);
    this.#v1 = new V1MigrationRegion(this.migration);
    this.#features = new VfDeviceFeatures(this.migration, this.logging, {
      get: () => this.tracker.mode,
      set: (mode) => this.selectTracker(mode),
    }, () => this.#lastError);
  }

  /** The current dirty tracker (DMA_LOGGING_* run on it). */
  get tracker(): DirtyTracker {
    return this.logging.tracker;
  }

  /** The tail-trap tracker when that is the mode (its statistics, for status and tests). */
  get tailTracker(): TailTrapTracker | null {
    return this.#tail;
  }

  /**
   * Switches this open's tracker (DEVICE_FEATURE VFMED_DIRTY_TRACKER SET): EBUSY while DMA
   * logging runs or starts. Selecting the current mode is a no-op (the tracker keeps its
   * statistics).
   */
  selectTracker(mode: TrackerMode): void {
    const next = mode === this.tracker.mode ? this.tracker : this.#makeTracker(mode);
    this.logging.use(next); // EBUSY while logging runs, even for the current mode
    this.#tail = this.#tailOf(next);
  }

  #tailOf(t: DirtyTracker): TailTrapTracker | null {
    return t instanceof TailTrapTracker ? t : null;
  }

  /** The one place trackers are built. */
  #makeTracker(mode: TrackerMode): DirtyTracker {
    switch (mode) {
      case 'tail-trap':
        return new TailTrapTracker(this.#regs, this.memory, { freeze: (fn) => this.#control.frozen(fn) });
      case 'device-log':
        return new DeviceLogTracker(this.#dirtyLog);
      case 'all':
        return new AllDirtyTracker();
      default:
        throw new VfmedError('VFMED_ERR_DMA_LOGGING', `unknown dirty tracker '${String(mode)}'`, EINVAL);
    }
  }

  info(base: DeviceInfoDesc): DeviceInfoDesc {
    return { ...base, numRegions: Math.max(base.numRegions, VFMED_NUM_REGIONS), numIrqs: Math.max(base.numIrqs, VFMED_NUM_IRQS) };
  }

  regionInfo(index: number, base: RegionDesc | null): RegionDesc | null {
    if (index === VFMED_REGION_MIGRATION) return MIGRATION_REGION;
    if (index === VFMED_REGION_TRAP_INFO) return TRAP_INFO_REGION;
    return base;
  }

  mmap(index: number, base: RegionMmap | null): RegionMmap | null {
    if (index !== PciRegion.BAR0 || !base || !this.traps.trapped) return base;
    // Asked on every BAR0 access (bounds checks): computed once per layout generation.
    const c = this.#bar0Mmap;
    if (c && c.generation === this.traps.generation && c.fd === base.fd) return c.mmap;
    const mmap = { ...base, areas: this.traps.areas(base.areas) };
    this.#bar0Mmap = { generation: this.traps.generation, fd: base.fd, mmap };
    return mmap;
  }

  mmapOffered(index: number, mmap: RegionMmap): void {
    if (index === PciRegion.BAR0) this.traps.offered(mmap);
  }

  rw(a: RegionAccess): MaybePromise<RwResult> {
    switch (a.index) {
      case VFMED_REGION_MIGRATION:
        return a.write
          ? this.#v1.write(Number(a.offset), a.data).then(() => ({}), (e: unknown) => this.#fail(e, 'v1 migration region write'))
          : this.#v1.read(Number(a.offset), a.count).then((data) => ({ data }));
      case VFMED_REGION_TRAP_INFO:
        if (a.write) {
          writeTrapInfo(this.traps, a.offset, a.data);
          return {};
        }
        return { data: readTrapInfo(this.traps, a.offset, a.count) };
      case PciRegion.BAR0:
        if (a.write && this.#tail?.started && this.#tracked(a.offset, a.data.byteLength)) {
          this.#trackedWrite(a.offset, a.data);
          return {};
        }
        return PASSTHROUGH;
      case PciRegion.CONFIG:
        // A PCIe FLR is a config write: keep the tracker's shadow across it.
        if (a.write && this.#tail?.started) {
          this.#tail.beforeReset();
          try {
            this.device.regionWrite(a.index, a.offset, a.data);
          } finally {
            this.#tail.afterReset();
          }
          return {};
        }
        return PASSTHROUGH;
      default:
        return PASSTHROUGH;
    }
  }

  fastPath(base: FastPathPolicy | null): FastPathPolicy | null {
    if (!base || base.region !== PciRegion.BAR0 || !this.#tail?.started) return base;
    const c = this.#fastPath;
    if (c && c.base === base && c.memGen === this.memory.generation) return c.policy;
    // What #tracked() sends to the tracker leaves the policy; the tails come back, logged.
    const write = new Uint8Array(base.write);
    maskRange(write, 0, CTRL_DUP + 4, false);
    maskRange(write, Number(QUEUE_PAGES_START), base.regionSize, false);
    for (const off of [RDT(0), RDT(1), TDT(0), TDT(1)]) if (maskHas(base.write, off)) maskRange(write, off, off + 4, true);
    // Trapping here is only to observe: once logged, a doorbell is posted to the register
    // memory the device polls, as the client's own store would be without the trap.
    const policy: FastPathPolicy = { ...base, write, tailLog: { windows: this.memory.mappings(), postTails: true } };
    this.#fastPath = { base, memGen: this.memory.generation, policy };
    return policy;
  }

  fastPathServed(batch: FastPathBatch): void {
    if (batch.tailWrites.length) this.#tail?.replay(batch.tailWrites);
  }

  attachFastPath(host: FastPathHost | null): void {
    this.#fastPathHost = host;
    if (this.#tail) {
      this.#tail.pull = host ? () => host.sync() : null;
      // Tracking may start or stop outside any message (e.g. a migration driven by the
      // daemon): the policy follows at once, before the next access is read.
      this.#tail.onChange = host ? () => host.refresh() : null;
    }
  }

  irqInfo(index: number, base: IrqDesc | null): IrqDesc | null {
    if (index === VFMED_IRQ_BAR_LAYOUT) return { index, flags: IrqInfoFlag.EVENTFD | IrqInfoFlag.NORESIZE, count: 1 };
    return base;
  }

  setIrqs(req: IrqSetRequest): void | Passthrough {
    if (req.index !== VFMED_IRQ_BAR_LAYOUT) return PASSTHROUGH;
    const d = req.data;
    if (req.action !== 'trigger') {
      if (d.kind === 'eventfd') for (const fd of d.fds) this.#closeQuietly(fd);
      throw new VfmedError('VFMED_ERR_VFIO_IRQ', `the BAR layout IRQ cannot be ${req.action}ed`, EINVAL);
    }
    if (d.kind === 'eventfd') this.traps.setEventFd(d.fds.length ? d.fds[0]! : null);
    else if (d.kind === 'none' && req.count === 0) this.traps.setEventFd(null);
    else if (d.kind === 'none' || d.values[0]) this.traps.trigger();
  }

  feature(flags: number, data: Uint8Array, argsz: number | undefined): MaybePromise<Uint8Array | void | Passthrough> {
    const r = this.#features.handle(flags, data, argsz);
    if (r instanceof Promise) return r.catch((e: unknown) => this.#fail(e, `DEVICE_FEATURE ${flags & 0xffff}`));
    return r;
  }

  migDataRead(size: number): Uint8Array {
    if (size === 0) {
      // Nothing to consume; the state must still allow reading.
      const st = this.migration.state;
      if (st !== MigState.PRE_COPY && st !== MigState.PRE_COPY_P2P && st !== MigState.STOP_COPY) {
        throw new VfmedError('VFMED_ERR_MIG_STATE', `no migration data to read in ${MigState[st]}`, EINVAL);
      }
      return new Uint8Array(0);
    }
    const r = this.migration.read(size);
    if (r === NO_MORE_FOR_NOW || r === END_OF_STREAM) return new Uint8Array(0);
    return r;
  }

  migDataWrite(data: Uint8Array): void {
    try {
      this.migration.write(data);
    } catch (e) {
      this.#fail(e, 'MIG_DATA_WRITE');
    }
  }

  async reset(device: () => MaybePromise<void>): Promise<void> {
    this.#tail?.beforeReset();
    try {
      await device();
    } finally {
      this.#tail?.afterReset();
      // DEVICE_RESET is the way out of ERROR and out of any migration state.
      this.migration.reset();
    }
  }

  dmaMapped(req: DmaMapRequest): void {
    this.memory.add(req);
  }

  dmaUnmapped(iova: bigint | null, size: bigint | null): void {
    // The transport may hold pointers into these mappings (the tail log): drop them first.
    if (this.#fastPath) this.#fastPathHost?.withdraw();
    this.#fastPath = null;
    if (iova === null || size === null) this.memory.clear();
    else this.memory.remove(iova, size);
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    let first: unknown = null;
    const attempt = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        first ??= e;
      }
    };
    const migratedOut = this.migration.migratedOut;
    attempt(() => this.logging.stop());
    if (migratedOut) {
      // The guest now runs on another host. Give its MAC up while the VF is still sealed
      // (senders to it stall meanwhile, nothing is dropped): from here on frames for it
      // from the other VFs leave by the uplink toward the new host. The reset below then
      // cannot reinstall it (the PF driver forgot it).
      attempt(() => {
        this.#control.releaseMac();
        this.#onReleaseMac();
      });
    }
    // A client that leaves mid-migration leaves a VF in an unknown state: reset it, as
    // vfio-pci resets a function when its last user closes it.
    if (this.migration.state !== MigState.RUNNING) {
      attempt(() => this.#control.reset());
      attempt(() => this.migration.reset());
    }
    attempt(() => this.traps.release());
    attempt(() => this.#fastPathHost?.withdraw());
    this.#fastPath = null;
    attempt(() => this.memory.clear());
    attempt(() => this.#regs.close());
    attempt(() => this.#onRelease());
    if (first) throw first;
  }

  /** For `vfmed status` and tests. */
  status(): Record<string, unknown> {
    return {
      vf: this.device.vf,
      tracker: this.tracker.mode,
      logging: this.tracker.started,
      trapped: this.traps.trapped,
      trapEffective: this.traps.isEffective,
      generation: this.traps.generation,
      applied: this.traps.applied,
      migration: MigState[this.migration.state],
      migratedOut: this.migration.migratedOut,
      ...(this.#tail ? { tailTrap: { ...this.#tail.stats } } : {}),
    };
  }

  /** Writes that the tail-trap tracker must see: pages 2-3 and CTRL/CTRL_DUP. */
  #tracked(offset: bigint, len: number): boolean {
    return offset + BigInt(len) > QUEUE_PAGES_START || offset < BigInt(CTRL_DUP + 4);
  }

  /** tracker.beforeWrite -> device -> tracker.afterWrite, per dword the access changes. */
  #trackedWrite(offset: bigint, data: Uint8Array): void {
    const tail = this.#tail!;
    const off = Number(offset);
    if (data.byteLength === 4 && (off & 3) === 0) {
      // The datapath case (a 32-bit doorbell): no splitting.
      const value = (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0;
      const reg = off === CTRL_DUP ? CTRL : off;
      tail.beforeWrite(reg, value);
      if (isTail(off) && this.#memoryEnabled()) {
        // Seen and recorded: the doorbell goes on to the device, which acts on it at once
        // (as the plain device does for a REGION_WRITE). The 32-bit register call is the
        // same write as regionWrite's, without its generic byte assembly.
        try {
          this.device.nic.vfWrite32(this.device.vf, off, value);
        } finally {
          tail.afterWrite(reg, value);
        }
        return;
      }
      try {
        this.device.regionWrite(PciRegion.BAR0, offset, data);
      } finally {
        tail.afterWrite(reg, value);
      }
      return;
    }
    const first = off & ~3, end = off + data.byteLength;
    const dwords: Array<{ off: number; value: number }> = [];
    for (let d = first; d < end; d += 4) {
      const cur = d <= CTRL_DUP ? 0 : this.#regs.read32(d);
      const b = Buffer.alloc(4);
      b.writeUInt32LE(cur >>> 0);
      for (let i = 0; i < 4; i++) {
        const at = d + i - Number(offset);
        if (at >= 0 && at < data.byteLength) b[i] = data[at]!;
      }
      dwords.push({ off: d === CTRL_DUP ? CTRL : d, value: b.readUInt32LE(0) });
    }
    for (const w of dwords) tail.beforeWrite(w.off, w.value);
    try {
      this.device.regionWrite(PciRegion.BAR0, offset, data);
    } finally {
      for (const w of dwords) tail.afterWrite(w.off, w.value);
    }
  }

  #memoryEnabled(): boolean {
    return (this.device.config.read16(Pci.COMMAND) & Pci.COMMAND_MEMORY) !== 0;
  }

  /** Logs why (the client only gets an errno), keeps it for LAST_ERROR, and rethrows. */
  #fail(e: unknown, what: string): never {
    this.#onError(e, what);
    this.#lastError = `${what}: ${e instanceof Error ? e.message : String(e)}`;
    throw e;
  }

  #closeQuietly(fd: number): void {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
  }
}
