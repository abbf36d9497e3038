/**
 * The device dirty log: the PF's admin commands DIRTY_START/REPORT/STOP, the way NIC page
 * trackers of migration-capable devices (mlx5's) work. The device itself marks every page it
 * writes, so the mediator needs no traps for it; the cost is an admin round trip per report.
 */
import { VfmedError } from '../errors.js';
import { checkLoggingRanges, checkReportArgs, type DirtyTracker, type IovaRange } from './dirty-tracker.js';

/** The PF driver's view of one VF's device dirty log (PfDriver implements it). */
export interface DeviceDirtyLog {
  start(ranges: readonly IovaRange[], pageShift: number): void;
  /** Bitmap of [iova, iova+length) at 1 << pageShift; clears what it reports. */
  report(iova: bigint, length: bigint, pageShift: number): Buffer;
  stop(): void;
}

export class DeviceLogTracker implements DirtyTracker {
  readonly mode = 'device-log' as const;
  #ranges: IovaRange[] = [];
  #started = false;

  constructor(private readonly log: DeviceDirtyLog) {}

  get started(): boolean {
    return this.#started;
  }

  start(ranges: readonly IovaRange[], pageSize: bigint): void {
    if (this.#started) throw new VfmedError('VFMED_ERR_DMA_LOGGING', 'dirty tracking already started', 16);
    this.#ranges = checkLoggingRanges(ranges, pageSize);
    // The device tracks 4 KiB pages; reports fold them to the requested size.
    this.log.start(this.#ranges, 12);
    this.#started = true;
  }

  report(iova: bigint, length: bigint, pageSize: bigint): Buffer {
    if (!this.#started) throw new VfmedError('VFMED_ERR_DMA_LOGGING', 'dirty tracking not started', 22);
    checkReportArgs(iova, length, pageSize, this.#ranges);
    const shift = pageSize.toString(2).length - 1; // a validated power of two
    return this.log.report(iova, length, shift);
  }

  stop(): void {
    if (this.#started) this.log.stop();
    this.#started = false;
  }
}
