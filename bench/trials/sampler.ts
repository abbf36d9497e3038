/**
 * The sampling loop shared by trial entry points: warm-up iterations (run, timed and
 * discarded), then `samples` timed iterations. Each iteration may do untimed preparation
 * first (write a descriptor, drain a queue); the clock brackets only `op`, which performs
 * `opsPerSample` accesses, and the sample is the time per access.
 *
 * A full GC runs before the timed part when the child was started with --expose-gc (the
 * harness does), so a collection of warm-up garbage does not land in the samples.
 */
import { now } from './clock.js';
import type { TrialContext } from './protocol.js';

export interface SampleLoop {
  opsPerSample: number;
  /** Untimed work before each sample (and each warm-up iteration). */
  prepare?: () => void;
  /** The timed work: `opsPerSample` accesses. */
  op: () => void;
  /** Untimed check after each sample (e.g. that the device really did the work). */
  check?: () => void;
}

export function runSamples(ctx: TrialContext, loop: SampleLoop): number[] {
  const total = ctx.warmup + ctx.samples;
  const step = Math.max(1, Math.floor(total / 50));
  const out = new Array<number>(ctx.samples);
  const { prepare, op, check, opsPerSample } = loop;
  for (let i = 0; i < total; i++) {
    if (i === ctx.warmup) (globalThis as { gc?: () => void }).gc?.();
    prepare?.();
    const t0 = now();
    op();
    const t1 = now();
    check?.();
    if (i >= ctx.warmup) out[i - ctx.warmup] = Number(t1 - t0) / opsPerSample;
    if ((i + 1) % step === 0 || i + 1 === total) ctx.progress(i + 1, total);
  }
  return out;
}
