/**
 * DEVICE_FEATURE DMA_LOGGING_START / STOP / REPORT over the chosen dirty tracker, with the
 * vfio-user wire layouts (the kernel structs with the ranges and the bitmap inline):
 *
 *   START (SET)  { u64 page_size, u32 num_ranges, u32 reserved, {u64 iova, u64 length}[n] }
 *   STOP  (SET)  no data
 *   REPORT (GET) { u64 iova, u64 length, u64 page_size } -> same + bitmap, one bit per
 *                page (LSB first), padded to whole u64 words; the report clears what it
 *                returns.
 *
 * num_ranges 0 means "every DMA-mapped window" (vfio-user specification; the kernel refuses
 * it). With the tail-trap tracker START first traps the queue pages and waits until the
 * client has acknowledged the new BAR layout (BarTrapController.effective): only then is
 * every later tail store guaranteed to be seen, so only then does tracking start and START
 * reply. STOP releases that hold.
 *
 * The tracker behind it can be replaced (use(), for DEVICE_FEATURE VFMED_DIRTY_TRACKER)
 * only while logging is off: EBUSY while it runs or while a START waits for its trap.
 */
import { constants } from 'node:os';
import { VfmedError } from '../errors.js';
import { checkLoggingRanges, MAX_LOGGING_RANGES, type DirtyTracker, type IovaRange } from './dirty-tracker.js';
import type { BarTrapController } from './trap-control.js';

const { EINVAL } = constants.errno;
const bad = (msg: string, errno = EINVAL) => new VfmedError('VFMED_ERR_DMA_LOGGING', msg, errno);

export const LOGGING_CONTROL_BYTES = 16;
export const LOGGING_RANGE_BYTES = 16;
export const LOGGING_REPORT_BYTES = 24;
/** Largest bitmap one REPORT returns (it must fit one vfio-user message). */
export const MAX_REPORT_BITMAP = 1 << 20;

export interface LoggingControl {
  pageSize: bigint;
  ranges: IovaRange[];
}

export function decodeLoggingControl(data: Uint8Array): LoggingControl {
  if (data.byteLength < LOGGING_CONTROL_BYTES) throw bad(`DMA_LOGGING_START: ${data.byteLength} data bytes, need ${LOGGING_CONTROL_BYTES}`);
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const pageSize = b.readBigUInt64LE(0);
  const n = b.readUInt32LE(8);
  if (n > MAX_LOGGING_RANGES) throw bad(`DMA_LOGGING_START: ${n} ranges (max ${MAX_LOGGING_RANGES})`, constants.errno.E2BIG);
  if (b.byteLength !== LOGGING_CONTROL_BYTES + n * LOGGING_RANGE_BYTES) {
    throw bad(`DMA_LOGGING_START: ${n} ranges need ${LOGGING_CONTROL_BYTES + n * LOGGING_RANGE_BYTES} data bytes, got ${b.byteLength}`);
  }
  const ranges: IovaRange[] = [];
  for (let i = 0; i < n; i++) {
    const at = LOGGING_CONTROL_BYTES + i * LOGGING_RANGE_BYTES;
    ranges.push({ iova: b.readBigUInt64LE(at), length: b.readBigUInt64LE(at + 8) });
  }
  return { pageSize, ranges };
}

export interface LoggingReport {
  iova: bigint;
  length: bigint;
  pageSize: bigint;
}

export function decodeLoggingReport(data: Uint8Array): LoggingReport {
  if (data.byteLength !== LOGGING_REPORT_BYTES) throw bad(`DMA_LOGGING_REPORT: ${data.byteLength} data bytes, need ${LOGGING_REPORT_BYTES}`);
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { iova: b.readBigUInt64LE(0), length: b.readBigUInt64LE(8), pageSize: b.readBigUInt64LE(16) };
}

/** Bytes of a report bitmap: one bit per page, whole u64 words. */
export function reportBitmapBytes(length: bigint, pageSize: bigint): number {
  if (pageSize <= 0n) return 0;
  const pages = (length + pageSize - 1n) / pageSize;
  const words = (pages + 63n) / 64n;
  return words > BigInt(MAX_REPORT_BITMAP) ? Number.MAX_SAFE_INTEGER : Number(words * 8n);
}

export class DmaLogging {
  #starting = false;
  #tracker: DirtyTracker;

  constructor(
    tracker: DirtyTracker,
    /** Held ('logging') while the tail-trap tracker runs: it must see every tail store. */
    private readonly trapper: BarTrapController,
    /** The DMA windows, for num_ranges 0. */
    private readonly windows: () => readonly IovaRange[],
  ) {
    this.#tracker = tracker;
  }

  get tracker(): DirtyTracker {
    return this.#tracker;
  }

  get started(): boolean {
    return this.#tracker.started;
  }

  /** True while logging runs or a START is waiting for its trap to become effective. */
  get busy(): boolean {
    return this.#tracker.started || this.#starting;
  }

  /** Replaces the tracker; EBUSY while logging runs or is starting. */
  use(tracker: DirtyTracker): void {
    if (this.busy) throw bad('the dirty tracker cannot change while DMA logging runs', constants.errno.EBUSY);
    this.#tracker = tracker;
  }

  /** The trap controller, only when the current tracker needs the queue pages trapped. */
  get #traps(): BarTrapController | null {
    return this.#tracker.mode === 'tail-trap' ? this.trapper : null;
  }

  async start(ctl: LoggingControl): Promise<void> {
    if (this.busy) throw bad('dirty tracking already started', constants.errno.EBUSY);
    let ranges = ctl.ranges;
    if (ranges.length === 0) {
      ranges = [...this.windows()];
      if (ranges.length === 0) throw bad('DMA_LOGGING_START with no ranges and nothing DMA-mapped');
    }
    const sorted = checkLoggingRanges(ranges, ctl.pageSize); // EINVAL before touching anything
    this.#starting = true;
    const traps = this.#traps;
    try {
      if (traps) {
        traps.hold('logging');
        try {
          await traps.effective();
        } catch (e) {
          traps.drop('logging');
          throw e;
        }
      }
      this.#tracker.start(sorted, ctl.pageSize);
    } finally {
      this.#starting = false;
    }
  }

  report(r: LoggingReport): Buffer {
    if (!this.#tracker.started) throw bad('DMA logging is not started');
    const bytes = reportBitmapBytes(r.length, r.pageSize);
    if (bytes > MAX_REPORT_BITMAP) throw bad(`DMA_LOGGING_REPORT: a bitmap of ${r.length} bytes at ${r.pageSize} exceeds ${MAX_REPORT_BITMAP} bytes`);
    const bm = this.#tracker.report(r.iova, r.length, r.pageSize);
    if (bm.length === bytes) return bm;
    const out = Buffer.alloc(bytes);
    bm.copy(out);
    return out;
  }

  stop(): void {
    this.#tracker.stop();
    // Whatever tracker ran, a 'logging' hold left behind would keep the pages trapped.
    if (this.trapper.holders.includes('logging')) this.trapper.drop('logging');
  }
}
