/**
 * summary.md of a run: machine, then per scenario what it measures, a table of trials,
 * the ratios, the charts (as links to charts/*.svg, or why a chart is missing), what each
 * trial's samples include and exclude, then the goals with their distances and the command
 * that reproduces the run. Readable on its own and as a GitHub page.
 */
import type { BenchResult, ScenarioResult } from '../result-types.js';
import type { RenderedChart } from './charts.js';
import { formatValue, sig3 } from './format.js';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function row(cells: string[]): string {
  return `| ${cells.map(cell).join(' | ')} |`;
}

export function machineLines(r: BenchResult): string[] {
  const m = r.machine;
  return [
    `- CPU: ${m.cpuModel}, ${m.logicalCpus} logical CPUs${m.physicalCores ? ` (${m.physicalCores} cores)` : ''}`
      + `${m.cpuMHz ? `, ${m.cpuMHz} MHz` : ''}${m.hypervisor ? ', virtual machine' : ''}${m.governor ? `, governor ${m.governor}` : ''}`,
    `- OS: ${m.distro ?? m.os}, Linux ${m.kernel} (${m.arch}), ${formatValue(m.memTotalBytes, 'bytes')} RAM`,
    `- Node ${m.node} (V8 ${m.v8}); clock ${m.timer.source}, read pair ≈ ${m.timer.overheadNs} ns`,
    `- git ${m.gitRevision ?? 'unknown'}${m.gitDirty ? ' with local changes' : ''}`,
    `- load average ${m.loadAvgStart.join(' / ')} at start, ${m.loadAvgEnd.join(' / ')} at end`,
  ];
}

function scenarioMd(s: ScenarioResult, charts: RenderedChart[], chartDir: string): string[] {
  const out = [`## ${s.name}: ${s.title}`, '', s.description, ''];
  if (s.status === 'pending') {
    out.push(`**Not run:** ${s.pending?.reason ?? 'pending'}. Planned: ${s.pending?.plan ?? ''}.`, '');
    return out;
  }
  out.push(row(['trial', 'path', 'metric', 'samples', 'min', 'median', 'p99', 'max']), row(Array(8).fill('---')));
  for (const t of s.trials) {
    if (t.status !== 'ok') {
      out.push(row([t.name, t.path, '', '', t.status === 'pending' ? 'pending' : '**failed**', t.reason ?? '', '', '']));
      continue;
    }
    for (const m of t.metrics) {
      const st = t.stats[m.name]!;
      out.push(row([t.name, t.path, m.name, `${t.repetitions.length}×${t.size.samples}`, formatValue(st.min, m.unit),
        formatValue(st.median, m.unit), formatValue(st.p99, m.unit), formatValue(st.max, m.unit)]));
    }
  }
  out.push('');
  if (s.ratios.length) {
    for (const r of s.ratios) {
      out.push(r.value === null
        ? `- ${r.name}: not measured (${r.reason ?? ''})`
        : `- **${r.name}** (${r.stat}): **${sig3(r.value)}×**${r.paired ? `, per repetition pair ${sig3(r.paired.median)}× `
          + `(range ${sig3(r.paired.min)}–${sig3(r.paired.max)} over ${r.paired.pairs} pairs)` : ''} — ${r.meaning}`);
    }
    out.push('');
  }
  for (const c of charts.filter((x) => x.scenario === s.name)) {
    out.push(c.svg ? `![${c.title}](${chartDir}/${c.id}.svg)` : `*${c.title}: not drawn — ${c.note ?? ''}*`, '');
  }
  out.push('<details><summary>What each trial includes and excludes</summary>', '');
  for (const t of s.trials) {
    out.push(`- **${t.name}** — ${t.measures}.`, `  Includes: ${t.includes.join('; ')}.`, `  Excludes: ${t.excludes.join('; ')}.`);
  }
  out.push('', '</details>', '');
  return out;
}

export function renderMarkdown(r: BenchResult, charts: RenderedChart[], chartDir = 'charts'): string {
  const out = [`# vfmed bench ${r.runId}${r.quick ? ' (quick)' : ''}`, '', ...machineLines(r), ''];
  out.push('## Goals', '', row(['goal', 'status', 'how far']), row(['---', '---', '---']));
  for (const g of r.goals) out.push(row([g.text, g.status === 'missed' ? '**missed**' : g.status.replace('-', ' '), g.distance]));
  out.push('');
  for (const s of r.scenarios) out.push(...scenarioMd(s, charts, chartDir));
  if (r.warnings.length) out.push('## Warnings', '', ...r.warnings.map((w) => `- ${w}`), '');
  out.push('## Reproduce', '', '```sh', `vfmed ${r.argv.join(' ')}`, '```', '');
  return out.join('\n');
}
