/**
 * The clock of every trial: process.hrtime.bigint() (CLOCK_MONOTONIC, ns), and a
 * calibration of what reading it costs, which is recorded with every repetition: samples
 * of single accesses include one clock-read pair and the harness never subtracts it
 * silently.
 */
export const now: () => bigint = process.hrtime.bigint;

export interface TimerCalibration {
  /** Median of (t1 - t0) for back-to-back reads: the cost a single-access sample carries. */
  overheadNs: number;
  /** Smallest non-zero difference seen between consecutive reads. */
  resolutionNs: number;
}

export function calibrateTimer(rounds = 20000): TimerCalibration {
  const d = new Float64Array(rounds);
  for (let i = 0; i < 1000; i++) now(); // warm the JIT
  let res = Infinity;
  for (let i = 0; i < rounds; i++) {
    const t0 = now();
    const t1 = now();
    const v = Number(t1 - t0);
    d[i] = v;
    if (v > 0 && v < res) res = v;
  }
  d.sort();
  return { overheadNs: d[rounds >> 1]!, resolutionNs: Number.isFinite(res) ? res : 1 };
}
