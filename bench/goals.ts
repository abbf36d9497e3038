/**
 * The performance goals of vfmed, as data, and how far a run is from each of them. Every
 * run prints every goal: met, missed (with the distance), open (only a bound of the figure
 * could be measured and it does not decide) or not measured (its scenario is pending or was
 * not selected, with the reason).
 *
 * A goal names the figure it is about. Where that figure needs a component that does not
 * exist yet, it may name a `bound` measurable today: e.g. the device side of a trap is a
 * lower bound of a guest's full trapped access, so a bound above a "<=" target already
 * decides "missed", while a bound below it leaves the goal open.
 */
import type { BenchResult, GoalResult, GoalStatus, ScenarioResult, TrialResult } from './result-types.js';
import { formatValue, sig3 } from './report/format.js';
import { migrationScenario } from './scenarios/migration.js';
import { BATCH_SIZES } from './scenarios/passthrough.js';

export type Measure =
  | { kind: 'trial'; scenario: string; trial: string; metric: string; stat: 'median' | 'min' | 'max' | 'p99' }
  /** The best (max for higher-is-better targets, else min) or worst of a statistic over trials. */
  | { kind: 'over-trials'; scenario: string; trials: string[]; metric: string; stat: 'median' | 'min' | 'max' | 'p99';
      reduce: 'min' | 'max' }
  | { kind: 'ratio'; scenario: string; ratio: string };

export interface GoalSpec {
  id: string;
  text: string;
  op: '>=' | '<=' | '==';
  target: number;
  /** Unit of target and measured value ('ns', 'pps', 'percent', 'fraction', 'ms', 'count'). */
  unit: string;
  measure: Measure;
  bound?: { measure: Measure; kind: 'lower' | 'upper'; what: string };
}

/** Every 64-byte passthrough row: the goal is the best batch size's median. */
const pt64 = BATCH_SIZES.map((b) => `pt-64b-b${b}`);
const MIGRATION_TRIALS = migrationScenario.trials.map((t) => t.name);

export const GOALS: readonly GoalSpec[] = [
  {
    id: 'passthrough-rate-64b', text: 'passthrough ≥ 5 Mpps at 64 bytes', op: '>=', target: 5e6, unit: 'pps',
    measure: { kind: 'over-trials', scenario: 'passthrough', trials: pt64, metric: 'rate', stat: 'median', reduce: 'max' },
  },
  {
    id: 'trapped-access-latency', text: 'trapped register access ≤ 15 µs median', op: '<=', target: 15_000, unit: 'ns',
    measure: { kind: 'trial', scenario: 'access', trial: 'trap-roundtrip', metric: 'latency', stat: 'median' },
    bound: {
      kind: 'lower', what: 'device side of the trap only (no SIGSEGV, no socket)',
      measure: { kind: 'trial', scenario: 'access', trial: 'trap-write', metric: 'latency', stat: 'median' },
    },
  },
  {
    id: 'trapped-rate-share-b32', text: 'trapped throughput at batch 32 ≥ 40 % of passthrough', op: '>=', target: 0.4,
    unit: 'fraction', measure: { kind: 'ratio', scenario: 'trapped', ratio: 'rate 64 B batch 32: trapped / passthrough' },
  },
  {
    id: 'dirty-recall', text: 'dirty recall 100 % (every tracker, every sync)', op: '>=', target: 100, unit: 'percent',
    measure: { kind: 'over-trials', scenario: 'dirty', trials: ['dirty-tail-trap', 'dirty-device-log', 'dirty-all'],
      metric: 'recall', stat: 'min', reduce: 'min' },
  },
  {
    id: 'tail-trap-precision', text: 'tail-trap precision ≥ 90 %', op: '>=', target: 90, unit: 'percent',
    measure: { kind: 'trial', scenario: 'dirty', trial: 'dirty-tail-trap', metric: 'precision', stat: 'median' },
  },
  {
    id: 'migration-downtime', text: 'migration downtime ≤ 50 ms at 256 MiB and 1 Mpps', op: '<=', target: 50, unit: 'ms',
    measure: { kind: 'trial', scenario: 'migration', trial: 'mig-tail-trap-256m-1mpps', metric: 'downtime', stat: 'median' },
  },
  {
    id: 'migration-frames-lost', text: 'migration loses 0 frames (every tracker, RAM size and rate)', op: '==', target: 0, unit: 'count',
    measure: { kind: 'over-trials', scenario: 'migration', trials: MIGRATION_TRIALS, metric: 'framesLost', stat: 'max', reduce: 'max' },
  },
  {
    id: 'migration-frames-duplicated', text: 'migration duplicates 0 frames (every tracker, RAM size and rate)', op: '==', target: 0,
    unit: 'count',
    measure: { kind: 'over-trials', scenario: 'migration', trials: MIGRATION_TRIALS, metric: 'framesDuplicated', stat: 'max', reduce: 'max' },
  },
  {
    id: 'migration-bytes', text: 'migration sends ≤ 1.5 × RAM with tail-trap at 256 MiB and 1 Mpps', op: '<=', target: 150, unit: 'percent',
    measure: { kind: 'trial', scenario: 'migration', trial: 'mig-tail-trap-256m-1mpps', metric: 'ramMultiple', stat: 'median' },
  },
];

interface Figure {
  value: number | null;
  basis: string;
  /** Why there is no value. */
  why?: string;
}

function trialOf(s: ScenarioResult, name: string): TrialResult | undefined {
  return s.trials.find((t) => t.name === name);
}

function notRun(s: ScenarioResult | undefined, name: string): string {
  if (!s) return `scenario ${name} was not run`;
  if (s.status === 'pending') return s.pending?.reason ?? `scenario ${name} is pending`;
  return `scenario ${name} ${s.status}`;
}

function figure(result: BenchResult, m: Measure): Figure {
  const s = result.scenarios.find((x) => x.name === m.scenario);
  if (m.kind === 'ratio') {
    const basis = `${m.scenario}: ${m.ratio}`;
    const r = s?.ratios.find((x) => x.name === m.ratio);
    if (!s || s.status === 'pending' || !r) return { value: null, basis, why: notRun(s, m.scenario) };
    const v = r.paired?.median ?? r.value;
    return v === null ? { value: null, basis, why: r.reason ?? 'ratio not measured' } : { value: v, basis: `${basis} (paired median)` };
  }
  const names = m.kind === 'trial' ? [m.trial] : m.trials;
  const basis = m.kind === 'trial'
    ? `${m.scenario}/${m.trial} ${m.metric} ${m.stat}`
    : `${m.reduce === 'max' ? 'highest' : 'lowest'} ${m.metric} ${m.stat} of ${m.scenario}/${names.length > 3 ? `${names[0]}…` : names.join(', ')}`;
  if (!s || s.status === 'pending') return { value: null, basis, why: notRun(s, m.scenario) };
  const values: number[] = [];
  for (const n of names) {
    const t = trialOf(s, n);
    if (!t) return { value: null, basis, why: `trial ${m.scenario}/${n} is not in this run` };
    if (t.status !== 'ok') return { value: null, basis, why: t.reason ?? `trial ${m.scenario}/${n} is ${t.status}` };
    const st = t.stats[m.metric];
    if (!st) return { value: null, basis, why: `trial ${m.scenario}/${n} has no ${m.metric}` };
    values.push(st[m.stat]);
  }
  const value = m.kind === 'trial' ? values[0]! : (m.reduce === 'max' ? Math.max(...values) : Math.min(...values));
  return { value, basis };
}

function meets(op: GoalSpec['op'], v: number, target: number): boolean {
  return op === '>=' ? v >= target : op === '<=' ? v <= target : v === target;
}

/** One sentence on how far `v` is from the target. */
export function distance(g: Pick<GoalSpec, 'op' | 'target' | 'unit'>, v: number): string {
  const fv = formatValue(v, g.unit), ft = formatValue(g.target, g.unit);
  if (g.op === '==') {
    return v === g.target ? `${fv}, exactly the target` : `${fv} instead of ${ft}`;
  }
  if (g.op === '>=') {
    if (v >= g.target) return g.target === 0 ? `${fv}` : `${fv}: ${sig3(v / g.target)}× the target ${ft}`;
    return `${fv}: ${sig3((v / g.target) * 100)} % of the target ${ft}, needs ${sig3(g.target / Math.max(v, Number.MIN_VALUE))}× more`;
  }
  if (v <= g.target) return `${fv}: ${sig3(g.target / Math.max(v, Number.MIN_VALUE))}× below the limit ${ft}`;
  return `${fv}: ${sig3(v / g.target)}× over the limit ${ft}, ${formatValue(v - g.target, g.unit)} to cut`;
}

export function evaluateGoal(g: GoalSpec, result: BenchResult): GoalResult {
  const base = { id: g.id, text: g.text, op: g.op, target: g.target, unit: g.unit };
  const main = figure(result, g.measure);
  if (main.value !== null) {
    const ok = meets(g.op, main.value, g.target);
    return { ...base, status: ok ? 'met' : 'missed', measured: main.value, basis: main.basis,
      distance: `${ok ? 'met' : 'missed'}: ${distance(g, main.value)}` };
  }
  if (g.bound) {
    const b = figure(result, g.bound.measure);
    if (b.value !== null) {
      // A lower bound above a "<=" limit (or an upper bound below a ">=" target) decides.
      const decides = (g.bound.kind === 'lower' && g.op === '<=' && b.value > g.target)
        || (g.bound.kind === 'upper' && g.op === '>=' && b.value < g.target);
      const status: GoalStatus = decides ? 'missed' : 'open';
      const rel = g.bound.kind === 'lower' ? '≥' : '≤';
      return { ...base, status, measured: b.value, basis: `${b.basis} (${g.bound.kind} bound: ${g.bound.what})`,
        distance: decides
          ? `missed already by a ${g.bound.kind} bound: ${distance(g, b.value)}`
          : `open: ${formatValue(b.value, g.unit)} measured for the ${g.bound.what}, so the figure is ${rel} that; `
            + `${main.why ?? 'the full figure was not measured'}` };
    }
  }
  return { ...base, status: 'not-measured', measured: null, basis: main.basis,
    distance: `not measured: ${main.why ?? 'no figure'}` };
}

export function evaluateGoals(result: BenchResult): GoalResult[] {
  return GOALS.map((g) => evaluateGoal(g, result));
}
