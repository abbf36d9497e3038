/**
 * Counting what of a VF's BAR0 reaches the server: every REGION_READ/REGION_WRITE of BAR0,
 * by 4 KiB page, plus config-space and MSI-X accesses. This is how an operator (and the
 * end-to-end test) sees the sparse-mmap/trap split at work: pages 0-1 (CTRL, mailbox,
 * interrupts, statistics) always arrive here, pages 2-3 (the queue registers) only when a
 * client traps them (--trap-all, or a mediator that withdrew them); in passthrough the
 * doorbell stores land in the shared mapping and are never counted.
 *
 * It wraps the device model directly (innermost), so it counts what the device is asked
 * to do, whatever mediation layer sits above it — including the accesses the transport
 * served natively (the fast path, mediator/vfio/fast-path.ts), taken before each read.
 */
import { DelegatingDevice, type MaybePromise, type VfioDevice } from '../vfio/device.js';
import type { FastPathBatch, FastPathHost, FastPathPolicy } from '../vfio/fast-path.js';
import { PciRegion } from '../vfio/protocol.js';

const PAGE = 4096n;
export const BAR0_PAGES = 4;

/** Distinct BAR0 offsets tracked by writesByOffset; writes to further offsets are only
 * counted per page (a client probing the whole BAR cannot grow the table). */
const MAX_OFFSETS = 64;

export interface AccessCounts {
  /** per BAR0 page: REGION_READ and REGION_WRITE messages that reached the device */
  bar0: { reads: number[]; writes: number[] };
  /** REGION_WRITEs of BAR0 by register offset ("0x0c40": 5): which registers trapped */
  writesByOffset: Record<string, number>;
  config: { reads: number; writes: number };
  msix: { reads: number; writes: number };
}

export class AccessCounter extends DelegatingDevice {
  #host: FastPathHost | null = null;
  readonly #counts: AccessCounts = {
    bar0: { reads: new Array<number>(BAR0_PAGES).fill(0), writes: new Array<number>(BAR0_PAGES).fill(0) },
    writesByOffset: {},
    config: { reads: 0, writes: 0 },
    msix: { reads: 0, writes: 0 },
  };

  constructor(inner: VfioDevice) {
    super(inner);
  }

  /** The counts, including what the transport served natively until now. */
  get counts(): AccessCounts {
    this.#host?.sync();
    return this.#counts;
  }

  #count(index: number, offset: bigint, write: boolean, n = 1): void {
    const c = this.#counts;
    if (index === PciRegion.BAR0) {
      const page = Number(offset / PAGE);
      if (page >= 0 && page < BAR0_PAGES) (write ? c.bar0.writes : c.bar0.reads)[page]! += n;
      if (write) {
        const key = `0x${offset.toString(16).padStart(4, '0')}`;
        const by = c.writesByOffset;
        if (key in by) by[key]! += n;
        else if (Object.keys(by).length < MAX_OFFSETS) by[key] = n;
      }
    } else if (index === PciRegion.CONFIG) {
      if (write) c.config.writes += n;
      else c.config.reads += n;
    } else if (index === PciRegion.BAR3) {
      if (write) c.msix.writes += n;
      else c.msix.reads += n;
    }
  }

  /** Counting is all this layer adds: the inner device's policy stands. */
  override fastPath(): FastPathPolicy | null {
    return this.inner.fastPath?.() ?? null;
  }

  override fastPathServed(batch: FastPathBatch): void {
    for (let i = 0; i + 1 < batch.reads.length; i += 2) this.#count(batch.region, BigInt(batch.reads[i]! * 4), false, batch.reads[i + 1]!);
    for (let i = 0; i + 1 < batch.writes.length; i += 2) this.#count(batch.region, BigInt(batch.writes[i]! * 4), true, batch.writes[i + 1]!);
    super.fastPathServed(batch);
  }

  override attachFastPath(host: FastPathHost | null): void {
    this.#host = host;
    super.attachFastPath(host);
  }

  override regionRead(index: number, offset: bigint, count: number): MaybePromise<Uint8Array> {
    this.#count(index, offset, false);
    return super.regionRead(index, offset, count);
  }

  override regionWrite(index: number, offset: bigint, data: Uint8Array): MaybePromise<void> {
    this.#count(index, offset, true);
    return super.regionWrite(index, offset, data);
  }
}
