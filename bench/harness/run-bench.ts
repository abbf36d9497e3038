/**
 * One `vfmed bench` run, start to finish: select the scenarios (refusing a pending one by
 * name with its reason), prepare the output directory before measuring anything, record
 * the machine, run the scenarios, evaluate the goals, validate the result against its
 * schema, and write result.json, result.schema.json, summary.md, report.html and
 * charts/*.svg. Returns the result; printing the terminal table is the CLI's job.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../../mediator/native/addon.js';
import { evaluateGoals } from '../goals.js';
import { renderCharts } from '../report/charts.js';
import { renderHtml } from '../report/html.js';
import { renderMarkdown } from '../report/markdown.js';
import { RESULT_SCHEMA } from '../report/result-schema.js';
import { assertValidResult } from '../report/validate.js';
import { RESULT_SCHEMA_ID, RESULT_SCHEMA_VERSION, type BenchResult, type ScenarioResult } from '../result-types.js';
import type { ScenarioTable } from '../scenario-types.js';
import { SCENARIOS } from '../scenarios/index.js';
import { collectMachine, loadAvg } from './machine.js';
import { pendingReason, runScenario, validateTables, type ProgressSink } from './runner.js';

/** A request the harness refuses before measuring (the CLI reports it as one line). */
export class BenchRefused extends Error {
  constructor(message: string, readonly usage: boolean) {
    super(message);
    this.name = 'BenchRefused';
  }
}

export interface BenchRunOptions {
  /** Scenario names as given; empty = every scenario (pending ones are listed, not run). */
  scenarios: string[];
  quick: boolean;
  /** Output directory; null = bench/results/<run id> under the repository. */
  outDir: string | null;
  /** The command line after `vfmed` (recorded so the report can say how to reproduce). */
  argv: string[];
  progress: ProgressSink;
  /** The scenario registry (tests inject their own tables). */
  tables?: readonly ScenarioTable[];
  signal?: AbortSignal;
}

export interface BenchFiles {
  dir: string;
  json: string;
  schema: string;
  markdown: string;
  html: string;
  charts: string[];
}

export interface BenchRunOutput {
  result: BenchResult;
  files: BenchFiles;
  /** A trial failed: the run is reported but the command must exit non-zero. */
  failed: boolean;
}

export function selectScenarios(names: readonly string[], tables: readonly ScenarioTable[]): ScenarioTable[] {
  if (names.length === 0) return [...tables];
  const out: ScenarioTable[] = [];
  for (const n of names) {
    const t = tables.find((s) => s.name === n);
    if (!t) throw new BenchRefused(`unknown scenario '${n}' (known: ${tables.map((s) => s.name).join(', ')})`, true);
    if (t.pending) throw new BenchRefused(pendingReason('scenario', t.name, t.pending), false);
    if (!out.includes(t)) out.push(t);
  }
  return out;
}

function stamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

/** Creates (or accepts an empty / new) output directory; refuses to overwrite a run. */
export function prepareOutDir(dir: string): string {
  const abs = resolve(dir);
  if (existsSync(abs)) {
    let entries: string[];
    try {
      entries = readdirSync(abs);
    } catch {
      throw new BenchRefused(`--out ${dir} is not a directory`, true);
    }
    if (entries.includes('result.json')) {
      throw new BenchRefused(`--out ${dir} already holds a run (result.json); choose another directory`, true);
    }
  } else {
    try {
      mkdirSync(abs, { recursive: true });
    } catch (e) {
      throw new BenchRefused(`cannot create --out ${dir}: ${(e as { code?: string }).code ?? (e as Error).message}`, false);
    }
  }
  return abs;
}

function warningsFor(r: BenchResult): string[] {
  const w: string[] = [];
  const m = r.machine;
  const load = Math.max(m.loadAvgStart[0] ?? 0, m.loadAvgEnd[0] ?? 0);
  if (load > 0.5 * m.logicalCpus) {
    w.push(`the machine was busy (load average up to ${load} on ${m.logicalCpus} CPUs): absolute figures are noisy; `
      + 'the per-repetition-pair ratios are the robust figures');
  }
  if (m.hypervisor) w.push('virtual machine: timings include hypervisor scheduling noise');
  if (m.logicalCpus < 4) {
    w.push(`only ${m.logicalCpus} CPUs: the busy-polling device thread and the measuring thread share them with everything else`);
  }
  if (r.quick) w.push('quick run: small sample counts (and smaller parameters where a label says [quick: ...]); treat p99 and max as indicative only');
  if (m.gitDirty) w.push('the source tree had uncommitted changes: the git revision does not fully describe the code measured');
  for (const s of r.scenarios) {
    for (const t of s.trials) if (t.status === 'failed') w.push(`${s.name}/${t.name} failed: ${t.reason ?? ''}`);
  }
  return w;
}

export async function runBench(opts: BenchRunOptions): Promise<BenchRunOutput> {
  const tables = opts.tables ?? SCENARIOS;
  const selected = selectScenarios(opts.scenarios, tables);
  await validateTables(selected);
  // A given --out is checked before anything is measured; the default one needs the run id.
  const given = opts.outDir === null ? null : prepareOutDir(opts.outDir);
  const started = new Date();
  const machine = collectMachine();
  const runId = `${stamp(started)}-${machine.gitRevision?.slice(0, 7) ?? 'norev'}${opts.quick ? '-quick' : ''}`;
  const dir = given ?? prepareOutDir(join(repoRoot(), 'bench', 'results', runId));

  const scenarios: ScenarioResult[] = [];
  for (const s of selected) {
    if (!s.pending) opts.progress.note(`scenario ${s.name}: ${s.title}`);
    scenarios.push(await runScenario(s, { quick: opts.quick, progress: opts.progress, signal: opts.signal }));
  }
  machine.loadAvgEnd = loadAvg();
  const result: BenchResult = {
    schema: RESULT_SCHEMA_ID, schemaVersion: RESULT_SCHEMA_VERSION, runId,
    startedAt: started.toISOString(), finishedAt: new Date().toISOString(), quick: opts.quick,
    argv: opts.argv, machine, scenarios, goals: [], warnings: [],
  };
  result.goals = evaluateGoals(result);
  result.warnings = warningsFor(result);
  assertValidResult(result, 'the result of this run');

  const files: BenchFiles = {
    dir, json: join(dir, 'result.json'), schema: join(dir, 'result.schema.json'),
    markdown: join(dir, 'summary.md'), html: join(dir, 'report.html'), charts: [],
  };
  writeFileSync(files.json, `${JSON.stringify(result)}\n`);
  writeFileSync(files.schema, `${JSON.stringify(RESULT_SCHEMA, null, 2)}\n`);
  const charts = await renderCharts(result, tables);
  if (charts.some((c) => c.svg)) mkdirSync(join(dir, 'charts'), { recursive: true });
  for (const c of charts) {
    if (!c.svg) continue;
    const p = join(dir, 'charts', `${c.id}.svg`);
    writeFileSync(p, c.svg);
    files.charts.push(p);
  }
  writeFileSync(files.markdown, renderMarkdown(result, charts));
  writeFileSync(files.html, renderHtml(result, charts));
  const failed = scenarios.some((s) => s.status === 'failed');
  return { result, files, failed };
}
