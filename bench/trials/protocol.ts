/**
 * What a trial entry point is, and the messages between the harness and a trial child
 * process (Node IPC, JSON serialisation):
 *
 *   parent -> child   { type: 'run', trial, entry, params, warmup, samples, metrics }
 *   child  -> parent  { type: 'progress', done, total }          (a few dozen per run)
 *                     { type: 'result', samples, extra }          then the child exits 0
 *                     { type: 'error', message, code? }           then the child exits 1
 *
 * One message in, one answer out: a child runs exactly one repetition of one trial, so no
 * state (JIT profile, heap, device threads, fds) carries over between repetitions.
 */
import type { JsonObject } from '../scenario-types.js';

export interface RunRequest {
  type: 'run';
  trial: string;
  entry: string;
  params: JsonObject;
  warmup: number;
  samples: number;
  /** Metric names the trial row declares; the result must carry exactly these. */
  metrics: string[];
}

export type ChildMessage =
  | { type: 'progress'; done: number; total: number }
  | { type: 'result'; samples: Record<string, number[]>; extra: JsonObject }
  | { type: 'error'; message: string; code?: string };

export interface TrialContext {
  trial: string;
  params: JsonObject;
  warmup: number;
  samples: number;
  /** Reports progress (samples done, warm-up included in `total`); cheap to call often. */
  progress(done: number, total: number): void;
}

export interface TrialOutput {
  /** metric name -> samples (exactly ctx.samples of each, in the metric's unit). */
  samples: Record<string, number[]>;
  extra?: JsonObject;
}

/** A trial entry point: validates its params (TypeError/RangeError), measures, returns. */
export interface TrialEntryPoint {
  /** Checks params without measuring; also used by the harness before spawning anything. */
  validate(params: JsonObject): void;
  run(ctx: TrialContext): Promise<TrialOutput> | TrialOutput;
}
