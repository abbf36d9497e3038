/**
 * The "everything mapped is dirty" tracker: what QEMU falls back to for a device that can
 * report nothing. Always correct, never precise — the contrast the benchmarks show.
 */
import { VfmedError } from '../errors.js';
import { checkLoggingRanges, checkReportArgs, type DirtyTracker, type IovaRange } from './dirty-tracker.js';

export class AllDirtyTracker implements DirtyTracker {
  readonly mode = 'all' as const;
  #ranges: IovaRange[] = [];
  #started = false;

  get started(): boolean {
    return this.#started;
  }

  start(ranges: readonly IovaRange[], pageSize: bigint): void {
    if (this.#started) throw new VfmedError('VFMED_ERR_DMA_LOGGING', 'dirty tracking already started', 16);
    this.#ranges = checkLoggingRanges(ranges, pageSize);
    this.#started = true;
  }

  report(iova: bigint, length: bigint, pageSize: bigint): Buffer {
    if (!this.#started) throw new VfmedError('VFMED_ERR_DMA_LOGGING', 'dirty tracking not started', 22);
    checkReportArgs(iova, length, pageSize, this.#ranges);
    const bits = Number(length / pageSize);
    const bitmap = Buffer.alloc(Math.ceil(bits / 8), 0xff);
    if (bits % 8) bitmap[bitmap.length - 1] = (1 << (bits % 8)) - 1;
    return bitmap;
  }

  stop(): void {
    this.#started = false;
  }
}
