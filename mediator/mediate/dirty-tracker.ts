/**
 * The dirty-page tracker interface every tracking mode implements, with the
 * DMA_LOGGING_START/STOP/REPORT semantics of VFIO device features: a page size (a power of
 * two, >= 4 KiB), a set of non-overlapping IOVA ranges aligned to it, and a report that
 * returns the bitmap of one sub-range and clears what it reported.
 *
 * Trackers keep dirty pages as a set of 4 KiB page frame numbers (IOVA >> 12) and fold them
 * to the requested page size at report time.
 *
 *   bitmap byte:   [b7 b6 b5 b4 b3 b2 b1 b0] [b15 ... b8] ...
 *   bit i (LSB first) = page  iova + i * pageSize  is dirty
 */
import { VfmedError } from '../errors.js';

export interface IovaRange {
  iova: bigint;
  length: bigint;
}

export type TrackerMode = 'tail-trap' | 'device-log' | 'all';

export interface DirtyTracker {
  readonly mode: TrackerMode;
  /** Begin tracking; throws on invalid page size or ranges (EINVAL) or when already started. */
  start(ranges: readonly IovaRange[], pageSize: bigint): void;
  /** Bitmap of [iova, iova+length) at pageSize; clears the reported pages. */
  report(iova: bigint, length: bigint, pageSize: bigint): Buffer;
  stop(): void;
  readonly started: boolean;
}

const EINVAL = 22, E2BIG = 7, EOVERFLOW = 75;
const inval = (msg: string, errno = EINVAL) => new VfmedError('VFMED_ERR_DMA_LOGGING', msg, errno);
export const MAX_LOGGING_RANGES = 256; // kernel: one page of ranges

const isPow2 = (v: bigint) => v > 0n && (v & (v - 1n)) === 0n;

/** Validates DMA_LOGGING_START arguments the way the kernel does; returns sorted ranges. */
export function checkLoggingRanges(ranges: readonly IovaRange[], pageSize: bigint): IovaRange[] {
  if (!isPow2(pageSize) || pageSize < 4096n) throw inval(`page size ${pageSize} is not a power of two >= 4096`);
  if (ranges.length === 0) throw inval('no ranges to log');
  if (ranges.length > MAX_LOGGING_RANGES) throw inval(`${ranges.length} ranges (max ${MAX_LOGGING_RANGES})`, E2BIG);
  const sorted = [...ranges].sort((a, b) => (a.iova < b.iova ? -1 : a.iova > b.iova ? 1 : 0));
  let prevEnd = -1n;
  for (const r of sorted) {
    if (r.iova % pageSize || r.length % pageSize || r.length <= 0n) throw inval(`range 0x${r.iova.toString(16)}+0x${r.length.toString(16)} not aligned to ${pageSize}`);
    if (r.iova + r.length > 0xffff_ffff_ffff_ffffn) throw inval('range overflows the IOVA space', EOVERFLOW);
    if (r.iova < prevEnd) throw inval(`range 0x${r.iova.toString(16)} overlaps the previous one`);
    prevEnd = r.iova + r.length;
  }
  return sorted;
}

export function checkReportArgs(iova: bigint, length: bigint, pageSize: bigint, ranges: readonly IovaRange[]): void {
  if (!isPow2(pageSize) || pageSize < 4096n) throw inval(`report page size ${pageSize} is not a power of two >= 4096`);
  if (iova % pageSize || length % pageSize || length <= 0n) throw inval('report range not aligned to its page size');
  if (iova + length > 0xffff_ffff_ffff_ffffn) throw inval('report range overflows', EOVERFLOW);
  const covered = ranges.some((r) => iova >= r.iova && iova + length <= r.iova + r.length);
  if (!covered) throw inval(`report range 0x${iova.toString(16)}+0x${length.toString(16)} is not inside one logged range`);
}

/** A set of dirty 4 KiB pages with range marking and folding into report bitmaps. */
export class PageSet {
  #pages = new Set<number>();

  get size(): number {
    return this.#pages.size;
  }

  /** Marks every 4 KiB page overlapping [iova, iova+len). */
  markRange(iova: bigint, len: number): void {
    if (len <= 0) return;
    const first = Number(iova >> 12n), last = Number((iova + BigInt(len) - 1n) >> 12n);
    for (let p = first; p <= last; p++) this.#pages.add(p);
  }

  /** markRange for an address held as a JS number (exact below 2^53: the tracker's hot path). */
  markPages(addr: number, len: number): void {
    if (len <= 0) return;
    const last = Math.floor((addr + len - 1) / 4096);
    for (let p = Math.floor(addr / 4096); p <= last; p++) this.#pages.add(p);
  }

  has(pfn: number): boolean {
    return this.#pages.has(pfn);
  }

  pages(): number[] {
    return [...this.#pages].sort((a, b) => a - b);
  }

  /** Bitmap of [iova, iova+length) at pageSize; removes the reported 4 KiB pages. */
  takeBitmap(iova: bigint, length: bigint, pageSize: bigint): Buffer {
    const nbits = Number(length / pageSize);
    const bitmap = Buffer.alloc(Math.ceil(nbits / 8));
    const lo = Number(iova >> 12n), hi = Number((iova + length) >> 12n);
    const per = Number(pageSize >> 12n);
    // Walk whichever is smaller: the range's pages or the dirty set.
    if (hi - lo <= this.#pages.size) {
      for (let p = lo; p < hi; p++) if (this.#pages.delete(p)) setBit(bitmap, Math.floor((p - lo) / per));
    } else {
      for (const p of [...this.#pages]) {
        if (p >= lo && p < hi) {
          this.#pages.delete(p);
          setBit(bitmap, Math.floor((p - lo) / per));
        }
      }
    }
    return bitmap;
  }

  clear(): void {
    this.#pages.clear();
  }
}

function setBit(b: Buffer, i: number): void {
  b[i >> 3]! |= 1 << (i & 7);
}

/** Pages (4 KiB frame numbers) whose bit is set in a bitmap of [iova, ...) at pageSize. */
export function bitmapPages(bitmap: Uint8Array, iova: bigint, pageSize: bigint): number[] {
  const out: number[] = [];
  const per = Number(pageSize >> 12n), base = Number(iova >> 12n);
  for (let i = 0; i < bitmap.length * 8; i++) {
    if (bitmap[i >> 3]! & (1 << (i & 7))) for (let k = 0; k < per; k++) out.push(base + i * per + k);
  }
  return out;
}
