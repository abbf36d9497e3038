/**
 * PfVf: one VF of a PfBackend, in the shapes the mediator's migration pieces consume — the
 * device dirty log of mediate/device-log-tracker.ts (DeviceDirtyLog) and the quiesce /
 * resume / save / load steps of the migration FSM. Either PF driver (libvfpf in process or
 * vfpf.ko through /dev/vfpf) can stand behind it; nothing here knows which.
 *
 * The device logs at the granularity given to start(). A report at a coarser page size is
 * folded here (a coarse page is dirty if any of its device pages is):
 *
 *   device bits (shift 12)   1 0 0 0 | 0 0 0 0 | 0 1 1 0 | ...
 *   report at shift 14       1       | 0       | 1       | ...
 */
import type { DeviceDirtyLog } from '../mediate/device-log-tracker.js';
import type { IovaRange } from '../mediate/dirty-tracker.js';
import type { PfBackend, PfVfStats } from './pf-backend.js';

export class PfVf implements DeviceDirtyLog {
  #shift: number | undefined;

  constructor(readonly pf: PfBackend, readonly vf: number) {
    if (!Number.isInteger(vf) || vf < 0) throw new RangeError(`VF index must be a non-negative integer, got ${vf}`);
  }

  quiesce(): void {
    this.pf.quiesce(this.vf);
  }

  resume(): void {
    this.pf.resume(this.vf);
  }

  stateSize(): number {
    return this.pf.stateSize(this.vf);
  }

  saveState(): Buffer {
    return this.pf.save(this.vf);
  }

  loadState(blob: Buffer): void {
    this.pf.load(this.vf, blob);
  }

  stats(): PfVfStats {
    return this.pf.vfStats(this.vf);
  }

  start(ranges: readonly IovaRange[], pageShift: number): void {
    this.pf.dirtyStart(this.vf, pageShift, ranges);
    this.#shift = pageShift;
  }

  report(iova: bigint, length: bigint, pageShift: number): Buffer {
    const dev = this.#shift;
    if (dev === undefined) return this.pf.dirtyReport(this.vf, iova, length, pageShift); // the driver says EINVAL
    if (pageShift < dev) {
      throw new RangeError(`report page shift ${pageShift} is finer than the logging granularity ${dev}`);
    }
    const bm = this.pf.dirtyReport(this.vf, iova, length, dev);
    return pageShift === dev ? bm : foldBitmap(bm, pageShift - dev, length, pageShift);
  }

  stop(): void {
    this.pf.dirtyStop(this.vf);
    this.#shift = undefined;
  }
}

/** ORs groups of 2^k bits of `fine` into one bit each; the result covers `length` bytes at
 * 1 << shift (LSB-first bit order on both sides). */
export function foldBitmap(fine: Uint8Array, k: number, length: bigint, shift: number): Buffer {
  const pages = Number((length + (1n << BigInt(shift)) - 1n) >> BigInt(shift));
  const out = Buffer.alloc((pages + 7) >> 3);
  const group = 2 ** k;
  for (let byte = 0; byte < fine.length; byte++) {
    const v = fine[byte]!;
    if (v === 0) continue;
    for (let b = 0; b < 8; b++) {
      if (!((v >> b) & 1)) continue;
      const coarse = Math.floor((byte * 8 + b) / group);
      if (coarse < pages) out[coarse >> 3]! |= 1 << (coarse & 7);
    }
  }
  return out;
}
