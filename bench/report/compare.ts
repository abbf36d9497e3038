/**
 * `vfmed bench --compare A.json B.json`: two validated runs side by side, with the change of
 * every figure (median and p99 of every metric of every trial both runs measured, every
 * ratio, every goal). A change is called better/worse only when the per-repetition values
 * of the two runs do not overlap; otherwise it is "within spread" — on a shared machine a
 * 5 % move inside the run-to-run spread is not a regression. Differences of machine and
 * revision are listed first, because they explain most changes.
 */
import Table from 'cli-table3';
import type { BenchResult, TrialResult } from '../result-types.js';
import { formatChange, formatValue, sig3 } from './format.js';

export type Verdict = 'better' | 'worse' | 'within spread' | 'same' | 'only in A' | 'only in B' | 'not measured';

export interface CompareRow {
  figure: string;
  unit: string;
  a: number | null;
  b: number | null;
  change: string | null;
  verdict: Verdict;
}

export interface Comparison {
  a: { runId: string; revision: string | null };
  b: { runId: string; revision: string | null };
  machineDiffs: string[];
  rows: CompareRow[];
}

function spread(t: TrialResult, metric: string, stat: 'median' | 'p99'): [number, number] | null {
  const v = t.repetitions.map((r) => r.stats[metric]?.[stat]).filter((n): n is number => n !== undefined);
  return v.length ? [Math.min(...v), Math.max(...v)] : null;
}

function verdictOf(a: number, b: number, better: 'lower' | 'higher', sa: [number, number] | null, sb: [number, number] | null): Verdict {
  if (a === b) return 'same';
  if (sa && sb && !(sb[1] < sa[0] || sb[0] > sa[1])) return 'within spread';
  const improved = better === 'lower' ? b < a : b > a;
  return improved ? 'better' : 'worse';
}

export function compareResults(A: BenchResult, B: BenchResult): Comparison {
  const machineDiffs: string[] = [];
  const keys = ['cpuModel', 'logicalCpus', 'hypervisor', 'kernel', 'node', 'gitRevision', 'gitDirty'] as const;
  for (const k of keys) {
    if (A.machine[k] !== B.machine[k]) machineDiffs.push(`${k}: ${String(A.machine[k])} → ${String(B.machine[k])}`);
  }
  if (A.quick !== B.quick) machineDiffs.push(`quick: ${A.quick} → ${B.quick} (sizes differ)`);

  const rows: CompareRow[] = [];
  const scenarioNames = [...new Set([...A.scenarios, ...B.scenarios].map((s) => s.name))];
  for (const sn of scenarioNames) {
    const sa = A.scenarios.find((s) => s.name === sn);
    const sb = B.scenarios.find((s) => s.name === sn);
    const trialNames = [...new Set([...(sa?.trials ?? []), ...(sb?.trials ?? [])].map((t) => t.name))];
    for (const tn of trialNames) {
      const ta = sa?.trials.find((t) => t.name === tn);
      const tb = sb?.trials.find((t) => t.name === tn);
      const okA = ta?.status === 'ok' ? ta : undefined;
      const okB = tb?.status === 'ok' ? tb : undefined;
      if (!okA && !okB) continue; // pending or failed in both: nothing to compare
      const metrics = (okA ?? okB)!.metrics;
      for (const m of metrics) {
        for (const stat of ['median', 'p99'] as const) {
          const a = okA?.stats[m.name]?.[stat] ?? null;
          const b = okB?.stats[m.name]?.[stat] ?? null;
          let verdict: Verdict;
          if (a === null) verdict = ta ? 'not measured' : 'only in B';
          else if (b === null) verdict = tb ? 'not measured' : 'only in A';
          else verdict = verdictOf(a, b, m.better, spread(okA!, m.name, stat), spread(okB!, m.name, stat));
          rows.push({ figure: `${sn}/${tn} ${m.name} ${stat}`, unit: m.unit, a, b,
            change: a !== null && b !== null ? formatChange(a, b) : null, verdict });
        }
      }
    }
    const ratioNames = [...new Set([...(sa?.ratios ?? []), ...(sb?.ratios ?? [])].map((r) => r.name))];
    for (const rn of ratioNames) {
      const ra = sa?.ratios.find((r) => r.name === rn);
      const rb = sb?.ratios.find((r) => r.name === rn);
      const a = ra ? (ra.paired?.median ?? ra.value) : null;
      const b = rb ? (rb.paired?.median ?? rb.value) : null;
      if (a === null && b === null) continue;
      rows.push({ figure: `${sn}: ${rn}`, unit: 'ratio', a, b, change: a !== null && b !== null ? formatChange(a, b) : null,
        verdict: a === null ? 'only in B' : b === null ? 'only in A' : a === b ? 'same' : 'within spread' });
    }
  }
  for (const ga of A.goals) {
    const gb = B.goals.find((g) => g.id === ga.id);
    if (!gb || (ga.measured === null && gb.measured === null)) continue;
    const v: Verdict = ga.status === gb.status
      ? (ga.measured === gb.measured ? 'same' : 'within spread')
      : (gb.status === 'met' ? 'better' : ga.status === 'met' ? 'worse' : 'within spread');
    rows.push({ figure: `goal: ${ga.text} (${ga.status} → ${gb.status})`, unit: ga.unit, a: ga.measured, b: gb.measured,
      change: ga.measured !== null && gb.measured !== null ? formatChange(ga.measured, gb.measured) : null,
      verdict: v });
  }
  return {
    a: { runId: A.runId, revision: A.machine.gitRevision },
    b: { runId: B.runId, revision: B.machine.gitRevision },
    machineDiffs, rows,
  };
}

function fmt(v: number | null, unit: string): string {
  if (v === null) return '–';
  return unit === 'ratio' ? `${sig3(v)}×` : formatValue(v, unit);
}

export function renderComparison(c: Comparison, color: boolean): string {
  const paint = (code: string, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const out = [`A = ${c.a.runId} (git ${c.a.revision?.slice(0, 12) ?? 'unknown'})`,
    `B = ${c.b.runId} (git ${c.b.revision?.slice(0, 12) ?? 'unknown'})`];
  if (c.machineDiffs.length) out.push(`differences: ${c.machineDiffs.join('; ')}`);
  else out.push('same machine, kernel, Node and revision');
  const t = new Table({ head: ['figure', 'A', 'B', 'change', 'verdict'], style: { head: [], border: [] } });
  for (const r of c.rows) {
    const v = r.verdict === 'better' ? paint('32', r.verdict) : r.verdict === 'worse' ? paint('31', r.verdict) : r.verdict;
    t.push([r.figure, fmt(r.a, r.unit), fmt(r.b, r.unit), r.change ?? '–', v]);
  }
  out.push(t.toString());
  return `${out.join('\n')}\n`;
}

export function comparisonMarkdown(c: Comparison): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const out = [`# vfmed bench: ${c.a.runId} (A) vs ${c.b.runId} (B)`, ''];
  out.push(c.machineDiffs.length ? `Differences: ${c.machineDiffs.join('; ')}` : 'Same machine, kernel, Node and revision.', '');
  out.push('| figure | A | B | change | verdict |', '| --- | ---: | ---: | ---: | --- |');
  for (const r of c.rows) out.push(`| ${esc(r.figure)} | ${fmt(r.a, r.unit)} | ${fmt(r.b, r.unit)} | ${r.change ?? '–'} | ${r.verdict} |`);
  return `${out.join('\n')}\n`;
}
