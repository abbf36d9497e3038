/**
 * report.html of a run: one self-contained file (inline CSS, charts as inline SVG, no
 * script, nothing fetched) with the goals first, then each scenario's charts, tables,
 * ratios and the includes/excludes of every trial, then the machine. Written as polyglot
 * XHTML, so it is also well-formed XML (the tests parse it as such).
 */
import type { BenchResult, ScenarioResult } from '../result-types.js';
import type { RenderedChart } from './charts.js';
import { escapeXml as x, formatValue, sig3 } from './format.js';
import { machineLines } from './markdown.js';

const CSS = `
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}
td.l,th.l{text-align:left}
.met{color:#1b7837;font-weight:bold}.missed{color:#b2182b;font-weight:bold}.open{color:#b35806}.not-measured{color:#777}
.pending{color:#777;font-style:italic}.failed{color:#b2182b}
.chart{margin:1em 0}.note{color:#555;font-size:.9em}
details{margin:.5em 0 1.5em}summary{cursor:pointer}
`;

function td(v: string, cls = ''): string {
  return `<td${cls ? ` class="${cls}"` : ''}>${x(v)}</td>`;
}

function scenarioHtml(s: ScenarioResult, charts: RenderedChart[]): string {
  const out = [`<h2 id="${x(s.name)}">${x(s.name)}: ${x(s.title)}</h2>`, `<p>${x(s.description)}</p>`];
  if (s.status === 'pending') {
    out.push(`<p class="pending">Not run: ${x(s.pending?.reason ?? 'pending')}. Planned: ${x(s.pending?.plan ?? '')}.</p>`);
    return out.join('\n');
  }
  for (const c of charts.filter((ch) => ch.scenario === s.name)) {
    out.push(c.svg ? `<div class="chart">${c.svg}</div>` : `<p class="note">${x(c.title)}: not drawn — ${x(c.note ?? '')}</p>`);
  }
  out.push('<table><tr><th class="l">trial</th><th class="l">path</th><th class="l">metric</th><th>samples</th>'
    + '<th>min</th><th>median</th><th>p99</th><th>max</th></tr>');
  for (const t of s.trials) {
    if (t.status !== 'ok') {
      out.push(`<tr>${td(t.name, 'l')}${td(t.path, 'l')}<td class="l ${t.status}" colspan="6">${x(`${t.status}: ${t.reason ?? ''}`)}</td></tr>`);
      continue;
    }
    for (const m of t.metrics) {
      const st = t.stats[m.name]!;
      out.push(`<tr>${td(t.name, 'l')}${td(t.path, 'l')}${td(m.name, 'l')}${td(`${t.repetitions.length}×${t.size.samples}`)}`
        + `${td(formatValue(st.min, m.unit))}${td(formatValue(st.median, m.unit))}${td(formatValue(st.p99, m.unit))}`
        + `${td(formatValue(st.max, m.unit))}</tr>`);
    }
  }
  out.push('</table>');
  if (s.ratios.length) {
    out.push('<ul>');
    for (const r of s.ratios) {
      out.push(r.value === null
        ? `<li>${x(r.name)}: not measured (${x(r.reason ?? '')})</li>`
        : `<li><b>${x(r.name)}</b> (${x(r.stat)}): <b>${x(sig3(r.value))}×</b>${r.paired
          ? x(`, per repetition pair ${sig3(r.paired.median)}× (range ${sig3(r.paired.min)}–${sig3(r.paired.max)}, ${r.paired.pairs} pairs)`) : ''}`
          + ` — ${x(r.meaning)}</li>`);
    }
    out.push('</ul>');
  }
  out.push('<details><summary>What each trial includes and excludes</summary><ul>');
  for (const t of s.trials) {
    out.push(`<li><b>${x(t.name)}</b> — ${x(t.measures)}.<br/>Includes: ${x(t.includes.join('; '))}.<br/>`
      + `Excludes: ${x(t.excludes.join('; '))}.</li>`);
  }
  out.push('</ul></details>');
  return out.join('\n');
}

export function renderHtml(r: BenchResult, charts: RenderedChart[]): string {
  const goals = r.goals.map((g) => `<tr>${td(g.text, 'l')}<td class="l ${g.status}">${x(g.status.replace('-', ' '))}</td>${td(g.distance, 'l')}</tr>`);
  return [
    '<!DOCTYPE html>',
    '<html xmlns="http://www.w3.org/1999/xhtml" lang="en">',
    '<head><meta charset="utf-8"/>',
    `<title>vfmed bench ${x(r.runId)}</title>`,
    `<style>${CSS}</style></head>`,
    '<body>',
    `<h1>vfmed bench ${x(r.runId)}${r.quick ? ' (quick)' : ''}</h1>`,
    `<p class="note">${x(`${r.startedAt} – ${r.finishedAt}`)}; reproduce with <code>${x(`vfmed ${r.argv.join(' ')}`)}</code></p>`,
    '<h2>Goals</h2>',
    `<table><tr><th class="l">goal</th><th class="l">status</th><th class="l">how far</th></tr>${goals.join('')}</table>`,
    ...r.scenarios.map((s) => scenarioHtml(s, charts)),
    r.warnings.length ? `<h2>Warnings</h2><ul>${r.warnings.map((w) => `<li>${x(w)}</li>`).join('')}</ul>` : '',
    '<h2>Machine</h2>',
    `<ul>${machineLines(r).map((l) => `<li>${x(l.replace(/^- /, ''))}</li>`).join('')}</ul>`,
    '</body></html>',
    '',
  ].join('\n');
}
