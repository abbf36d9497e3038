/**
 * The tables printed at the end of a run (stdout): per scenario the trials with min /
 * median / p99 / max of each metric, the ratios (pooled and per repetition pair), every
 * pending scenario or trial with its reason, then every goal with its status and how far
 * the run is from it. Plain text without colour unless stdout is a terminal.
 */
import Table from 'cli-table3';
import type { BenchResult, GoalResult, ScenarioResult } from '../result-types.js';
import { formatValue, sig3 } from './format.js';

export interface TerminalOptions {
  color: boolean;
  /** Terminal width for wrapping long cells (default 120). */
  width?: number;
}

const ANSI = { red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', dim: '\x1b[2m', bold: '\x1b[1m', reset: '\x1b[0m' };

function paint(on: boolean, code: keyof typeof ANSI, s: string): string {
  return on ? `${ANSI[code]}${s}${ANSI.reset}` : s;
}

function table(head: string[], color: boolean, colWidths?: number[]): Table.Table {
  return new Table({ head: head.map((h) => paint(color, 'bold', h)), style: { head: [], border: [] }, wordWrap: true,
    ...(colWidths ? { colWidths } : {}) });
}

function scenarioBlock(s: ScenarioResult, o: TerminalOptions): string {
  const lines: string[] = [paint(o.color, 'bold', `${s.name}: ${s.title}`)];
  if (s.status === 'pending') {
    lines.push(`  not run: ${s.pending?.reason ?? 'pending'}`);
    return lines.join('\n');
  }
  const t = table(['trial', 'path', 'metric', 'samples', 'min', 'median', 'p99', 'max'], o.color);
  const notRun: string[] = [];
  for (const tr of s.trials) {
    if (tr.status !== 'ok') {
      const why = tr.status === 'pending' ? `pending: ${tr.reason}` : `FAILED: ${tr.reason}`;
      notRun.push(`  ${tr.name}: ${paint(o.color, tr.status === 'failed' ? 'red' : 'dim', why)}`);
      continue;
    }
    tr.metrics.forEach((m, i) => {
      const st = tr.stats[m.name]!;
      t.push([i === 0 ? tr.name : '', i === 0 ? tr.path : '', m.name,
        `${tr.repetitions.length}×${tr.size.samples}`,
        formatValue(st.min, m.unit), formatValue(st.median, m.unit), formatValue(st.p99, m.unit), formatValue(st.max, m.unit)]);
    });
  }
  if (t.length) lines.push(t.toString());
  lines.push(...notRun);
  for (const r of s.ratios) {
    if (r.value === null) {
      lines.push(`  ${r.name}: not measured (${r.reason ?? ''})`);
      continue;
    }
    const paired = r.paired ? `; per repetition pair ${sig3(r.paired.median)}× (${sig3(r.paired.min)}–${sig3(r.paired.max)}, ${r.paired.pairs} pairs)` : '';
    lines.push(`  ${r.name} (${r.stat}): ${paint(o.color, 'bold', `${sig3(r.value)}×`)}${paired}`);
  }
  return lines.join('\n');
}

const STATUS_WORD: Record<GoalResult['status'], [string, keyof typeof ANSI]> = {
  met: ['met', 'green'], missed: ['MISSED', 'red'], open: ['open', 'yellow'], 'not-measured': ['not measured', 'dim'],
};

export function goalsTable(goals: readonly GoalResult[], o: TerminalOptions): string {
  const w = Math.max(100, o.width ?? 120);
  const t = table(['goal', 'status', 'how far'], o.color, [34, 14, w - 34 - 14 - 4]);
  for (const g of goals) {
    const [w, c] = STATUS_WORD[g.status];
    t.push([g.text, paint(o.color, c, w), g.distance]);
  }
  return t.toString();
}

export function renderTerminal(result: BenchResult, o: TerminalOptions): string {
  const out: string[] = [];
  const m = result.machine;
  out.push(`vfmed bench ${result.runId}${result.quick ? ' (quick)' : ''}: ${m.cpuModel}, ${m.logicalCpus} CPUs, `
    + `Linux ${m.kernel}, Node ${m.node}, git ${m.gitRevision?.slice(0, 12) ?? 'unknown'}${m.gitDirty ? '+dirty' : ''}`);
  for (const s of result.scenarios) out.push('', scenarioBlock(s, o));
  out.push('', paint(o.color, 'bold', 'Goals'), goalsTable(result.goals, o));
  for (const w of result.warnings) out.push(paint(o.color, 'yellow', `warning: ${w}`));
  return `${out.join('\n')}\n`;
}
