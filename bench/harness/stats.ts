/**
 * Summary statistics of benchmark samples, with fixed definitions so two runs (and a reader
 * recomputing from the raw samples in result.json) agree on every figure:
 *
 *   min, max     exact;
 *   median       the mean of the two middle values for an even count;
 *   p99          nearest rank: the ceil(0.99 * n)-th smallest value (1-based), i.e. a
 *                value that was really observed, never interpolated;
 *   mean         arithmetic; stddev: sample standard deviation (n - 1), 0 for n = 1.
 *
 * Histograms use log-spaced bins (latencies span decades: a 20 ns store, a 5 us trap).
 */
import type { Stats } from '../result-types.js';

export function summarize(samples: readonly number[]): Stats {
  const n = samples.length;
  if (n === 0) throw new RangeError('no samples to summarize');
  for (const v of samples) {
    if (!Number.isFinite(v)) throw new RangeError(`sample ${v} is not a finite number`);
  }
  const s = Float64Array.from(samples).sort();
  const median = n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  let sum = 0;
  for (const v of s) sum += v;
  // sum / n of n equal values can land an ulp outside [min, max]; the mean never can.
  const mean = Math.min(Math.max(sum / n, s[0]!), s[n - 1]!);
  let sq = 0;
  for (const v of s) sq += (v - mean) * (v - mean);
  return {
    n,
    min: s[0]!,
    median,
    p99: s[Math.max(0, Math.ceil(0.99 * n) - 1)]!,
    max: s[n - 1]!,
    mean,
    stddev: n > 1 ? Math.sqrt(sq / (n - 1)) : 0,
  };
}

export function median(values: readonly number[]): number {
  return summarize(values).median;
}

export interface Histogram {
  /** Bin i covers [edges[i], edges[i+1]). */
  edges: number[];
  counts: number[];
}

/**
 * Log-spaced histogram over [lo, hi] with `perDecade` bins per decade; the edges are shared
 * by every series drawn on one chart, so pass the union's lo/hi.
 */
export function logHistogram(samples: readonly number[], lo: number, hi: number, perDecade = 20): Histogram {
  if (!(lo > 0) || !(hi >= lo)) throw new RangeError(`log histogram needs 0 < lo <= hi, got ${lo}..${hi}`);
  const l0 = Math.floor(Math.log10(lo) * perDecade) / perDecade;
  const l1 = Math.ceil(Math.log10(hi) * perDecade + 1e-9) / perDecade;
  const nb = Math.max(1, Math.round((l1 - l0) * perDecade));
  const edges = Array.from({ length: nb + 1 }, (_, i) => 10 ** (l0 + i / perDecade));
  const counts = new Array<number>(nb).fill(0);
  for (const v of samples) {
    if (!(v > 0)) continue;
    const i = Math.min(nb - 1, Math.max(0, Math.floor((Math.log10(v) - l0) * perDecade)));
    counts[i]!++;
  }
  return { edges, counts };
}
