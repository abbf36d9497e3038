/**
 * Runs scenario tables. For each ready scenario, the repetitions of its rows are
 * interleaved (rep 1 of every row, then rep 2 of every row, ...), each in a fresh process,
 * one at a time: trapped and passthrough rows of one scenario are measured side by side in
 * time, so slow drift of a shared machine (other jobs, thermal, frequency) lands on both and
 * the ratios stay meaningful. Pending scenarios and rows are carried into the result with
 * their reason and never run.
 *
 * A failed repetition fails its trial (reason kept, its remaining repetitions skipped) and
 * the run goes on; the caller turns any failure into a non-zero exit status.
 */
import type { RatioResult, RepetitionResult, ScenarioResult, Stats, TrialResult } from '../result-types.js';
import type { JsonObject, RatioSpec, ScenarioTable, TrialRow, TrialSize } from '../scenario-types.js';
import { joinTitles, missingComponents } from '../components.js';
import type { Pending } from '../scenario-types.js';
import { loadEntry } from '../trials/index.js';
import { summarize } from './stats.js';
import { runRepetition } from './trial-process.js';

export interface ProgressSink {
  /** A new scenario starts; `units` = warm-up + samples of all its repetitions. */
  begin(totalUnits: number): void;
  update(doneUnits: number, label: string): void;
  /** One line of news (a repetition finished or failed). */
  note(line: string): void;
  end(): void;
}

export interface RunOptions {
  quick: boolean;
  progress: ProgressSink;
  signal?: AbortSignal;
}

export class BenchAborted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'BenchAborted';
  }
}

export function pendingReason(kind: 'scenario' | 'trial', name: string, p: Pending): string {
  const missing = missingComponents(p.needs);
  return missing.length
    ? `${kind} ${name} needs ${joinTitles(missing)} (not built yet)`
    : `${kind} ${name} has no trial entry point yet`;
}

export function sizeOf(row: TrialRow, quick: boolean): TrialSize {
  return quick ? row.quick : row.size;
}

/** The parameters a repetition runs with: the row's, with quickParams over them under --quick. */
export function paramsOf(row: TrialRow, quick: boolean): JsonObject {
  return quick && row.quickParams ? { ...row.params, ...row.quickParams } : row.params;
}

function trialShell(row: TrialRow, quick: boolean): TrialResult {
  const label = quick && row.quickParams
    ? `${row.label} [quick: ${Object.entries(row.quickParams).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}]`
    : row.label;
  return {
    name: row.name, label, path: row.path, entry: row.entry, params: paramsOf(row, quick),
    size: sizeOf(row, quick), metrics: row.metrics, measures: row.measures,
    includes: row.includes, excludes: row.excludes, status: 'ok', repetitions: [], stats: {},
  };
}

function pooled(t: TrialResult): Record<string, Stats> {
  const out: Record<string, Stats> = {};
  for (const m of t.metrics) out[m.name] = summarize(t.repetitions.flatMap((r) => r.samples[m.name] ?? []));
  return out;
}

export function computeRatio(spec: RatioSpec, trials: readonly TrialResult[]): RatioResult {
  const base: RatioResult = { ...spec, value: null, paired: null };
  const num = trials.find((t) => t.name === spec.numerator);
  const den = trials.find((t) => t.name === spec.denominator);
  const missing = [num ?? spec.numerator, den ?? spec.denominator]
    .find((t) => typeof t === 'string' || t.status !== 'ok');
  if (missing !== undefined) {
    const name = typeof missing === 'string' ? missing : missing.name;
    return { ...base, reason: `${name} was not measured` };
  }
  const a = num!.stats[spec.metric]?.[spec.stat];
  const b = den!.stats[spec.metric]?.[spec.stat];
  if (a === undefined || b === undefined || b === 0) return { ...base, reason: `no ${spec.metric} ${spec.stat} to divide` };
  const pairs: number[] = [];
  const n = Math.min(num!.repetitions.length, den!.repetitions.length);
  for (let i = 0; i < n; i++) {
    const x = num!.repetitions[i]!.stats[spec.metric]?.[spec.stat];
    const y = den!.repetitions[i]!.stats[spec.metric]?.[spec.stat];
    if (x !== undefined && y !== undefined && y !== 0) pairs.push(x / y);
  }
  const ps = pairs.length ? summarize(pairs) : null;
  return { ...base, value: a / b, paired: ps ? { median: ps.median, min: ps.min, max: ps.max, pairs: ps.n } : null };
}

function fmtShort(v: number, unit: string): string {
  return `${v.toPrecision(3)} ${unit}`;
}

/** Validates every runnable row's parameters with its entry point before anything runs. */
export async function validateTables(tables: readonly ScenarioTable[]): Promise<void> {
  for (const s of tables) {
    if (s.pending) continue;
    for (const row of s.trials) {
      if (row.pending) continue;
      const entry = await loadEntry(row.entry);
      try {
        entry.validate(row.params);
        if (row.quickParams) entry.validate(paramsOf(row, true));
      } catch (e) {
        throw new Error(`scenario ${s.name}, trial ${row.name}: ${(e as Error).message}`);
      }
      for (const sz of [row.size, row.quick]) {
        if (![sz.warmup, sz.samples, sz.repetitions].every(Number.isInteger) || sz.samples < 1 || sz.repetitions < 1 || sz.warmup < 0) {
          throw new Error(`scenario ${s.name}, trial ${row.name}: sizes must be integers with samples, repetitions >= 1`);
        }
      }
    }
  }
}

export async function runScenario(s: ScenarioTable, opts: RunOptions): Promise<ScenarioResult> {
  const result: ScenarioResult = {
    name: s.name, title: s.title, description: s.description, status: 'ran', trials: [], ratios: [],
  };
  if (s.pending) {
    const reason = pendingReason('scenario', s.name, s.pending);
    result.status = 'pending';
    result.pending = { needs: s.pending.needs, missing: missingComponents(s.pending.needs).map((c) => c.id), reason, plan: s.pending.plan };
    result.trials = s.trials.map((row) => ({ ...trialShell(row, opts.quick), status: 'pending', reason }));
    return result;
  }
  const rows = s.trials.map((row) => ({ row, t: trialShell(row, opts.quick) }));
  for (const { row, t } of rows) {
    if (row.pending) {
      t.status = 'pending';
      t.reason = pendingReason('trial', `${s.name}/${row.name}`, row.pending);
    }
  }
  const live = rows.filter(({ t }) => t.status === 'ok');
  const units = (r: TrialRow): number => sizeOf(r, opts.quick).warmup + sizeOf(r, opts.quick).samples;
  const total = live.reduce((n, { row }) => n + units(row) * sizeOf(row, opts.quick).repetitions, 0);
  let done = 0;
  opts.progress.begin(total);
  const maxReps = Math.max(0, ...live.map(({ row }) => sizeOf(row, opts.quick).repetitions));
  for (let rep = 0; rep < maxReps; rep++) {
    for (const { row, t } of live) {
      const size = sizeOf(row, opts.quick);
      if (rep >= size.repetitions) continue;
      if (t.status !== 'ok') {
        done += units(row);
        continue;
      }
      if (opts.signal?.aborted) throw new BenchAborted();
      const label = `${s.name}/${row.name} ${rep + 1}/${size.repetitions}`;
      const start = done;
      const outcome = await runRepetition({
        type: 'run', trial: row.name, entry: row.entry, params: paramsOf(row, opts.quick),
        warmup: size.warmup, samples: size.samples, metrics: row.metrics.map((m) => m.name),
      }, {
        timeoutMs: (row.timeoutSec ?? 120) * 1000,
        signal: opts.signal,
        onProgress: (d) => opts.progress.update(start + d, label),
      });
      if (opts.signal?.aborted) throw new BenchAborted();
      done = start + units(row);
      opts.progress.update(done, label);
      if (!outcome.ok) {
        t.status = 'failed';
        t.reason = `repetition ${rep + 1} (pid ${outcome.pid}): ${outcome.reason}`;
        result.status = 'failed';
        opts.progress.note(`${label}: FAILED: ${outcome.reason}`);
        continue;
      }
      // Stored to 1/1000 of the unit (ps for ns metrics): compact JSON, and the stats are
      // computed from exactly what is stored, so a reader recomputing them agrees.
      const samples: Record<string, number[]> = {};
      const stats: Record<string, Stats> = {};
      for (const m of row.metrics) {
        samples[m.name] = outcome.samples[m.name]!.map((v) => Math.round(v * 1000) / 1000);
        stats[m.name] = summarize(samples[m.name]!);
      }
      const r: RepetitionResult = { index: rep, pid: outcome.pid, wallMs: outcome.wallMs, samples, stats, extra: outcome.extra };
      t.repetitions.push(r);
      const m0 = row.metrics[0]!;
      opts.progress.note(`${label}: ${m0.name} median ${fmtShort(stats[m0.name]!.median, m0.unit)} (${outcome.wallMs} ms)`);
    }
  }
  opts.progress.end();
  for (const { t } of live) {
    if (t.status === 'ok') t.stats = pooled(t);
    else t.stats = {};
  }
  result.trials = rows.map(({ t }) => t);
  result.ratios = s.ratios.map((spec) => computeRatio(spec, result.trials));
  return result;
}
