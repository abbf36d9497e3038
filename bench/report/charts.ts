/**
 * SVG charts of a run, from the chart declarations of the scenario tables: Vega-Lite specs
 * compiled to Vega and rendered headless in Node (view.toSVG(), no browser, no canvas).
 * A chart whose scenario did not run, or whose trials were not all measured, is not drawn:
 * the report says why instead (no chart is ever made of missing data).
 *
 * Values are scaled to a readable axis unit (ns -> µs when the data are microseconds);
 * latency axes and batch-size axes are logarithmic, because the figures span decades.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { BenchResult, ScenarioResult, TrialResult } from '../result-types.js';
import type { ChartSpec, ScenarioTable } from '../scenario-types.js';
import { logHistogram } from '../harness/stats.js';
import { formatValue } from './format.js';

export interface RenderedChart {
  id: string;
  title: string;
  scenario: string;
  /** null when not drawn; `note` says why. */
  svg: string | null;
  note?: string;
}

const PATH_COLORS: Record<string, string> = {
  passthrough: '#1b7837', trapped: '#c51b7d', tracker: '#2166ac', migration: '#b35806',
};

/** Axis unit for a metric given the largest value to show. */
export function axisUnit(unit: string, maxValue: number): { div: number; label: string } {
  if (unit === 'ns') {
    if (maxValue >= 1e6) return { div: 1e6, label: 'ms' };
    if (maxValue >= 1e3) return { div: 1e3, label: 'µs' };
    return { div: 1, label: 'ns' };
  }
  if (unit === 'pps') return maxValue >= 1e6 ? { div: 1e6, label: 'Mpps' } : { div: 1e3, label: 'kpps' };
  if (unit === 'bytes') return maxValue >= 2 ** 30 ? { div: 2 ** 30, label: 'GiB' } : { div: 2 ** 20, label: 'MiB' };
  if (unit === 'percent') return { div: 1, label: '%' };
  return { div: 1, label: unit };
}

const CONFIG = {
  background: 'white',
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  title: { fontSize: 14, anchor: 'start' as const },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 11, orient: 'bottom' as const },
};

async function toSvg(spec: TopLevelSpec): Promise<string> {
  const vg = compile(spec).spec;
  const view = new View(parse(vg), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function trialsOf(s: ScenarioResult, names: readonly string[]): TrialResult[] | string {
  const out: TrialResult[] = [];
  for (const n of names) {
    const t = s.trials.find((x) => x.name === n);
    if (!t) return `trial ${n} is not in this run`;
    if (t.status !== 'ok') return `trial ${n} is ${t.status}${t.reason ? `: ${t.reason}` : ''}`;
    out.push(t);
  }
  return out;
}

function unitOf(t: TrialResult, metric: string): string {
  return t.metrics.find((m) => m.name === metric)?.unit ?? '';
}

/** Nearest-rank quantile of a sorted array. */
function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

function histogramSpec(c: Extract<ChartSpec, { kind: 'histogram' }>, ts: TrialResult[]): TopLevelSpec {
  const series = ts.map((t) => ({ t, xs: Float64Array.from(t.repetitions.flatMap((r) => r.samples[c.metric] ?? [])).sort() }));
  // The x range covers the bulk of every series (its min to its p99): a few preemption
  // outliers (milliseconds) would otherwise squeeze every peak into one pixel. Samples
  // beyond the range are counted in the subtitle, not hidden silently; p99 and max are in
  // the tables.
  const lo = Math.min(...series.map((s) => s.xs.find((v) => v > 0) ?? Infinity));
  const hi = Math.max(...series.map((s) => quantile(s.xs, 0.99)));
  const ax = axisUnit(unitOf(ts[0]!, c.metric), hi);
  const rows: Record<string, unknown>[] = [];
  const medians: Record<string, unknown>[] = [];
  let beyond = 0, total = 0;
  for (const { t, xs } of series) {
    const inRange = Array.from(xs).filter((v) => v <= hi);
    beyond += xs.length - inRange.length;
    total += xs.length;
    const h = logHistogram(inRange, lo, hi, 20);
    h.counts.forEach((n, i) => rows.push({ series: t.label, x: h.edges[i]! / ax.div, share: (100 * n) / xs.length }));
    rows.push({ series: t.label, x: h.edges[h.edges.length - 1]! / ax.div, share: 0 });
    medians.push({ series: t.label, median: t.stats[c.metric]!.median / ax.div });
  }
  const color = { field: 'series', type: 'nominal' as const, title: null, sort: ts.map((t) => t.label),
    legend: { labelLimit: 400, orient: 'right' as const } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: c.title, subtitle: `share of samples per log-spaced bin; dashed: median; ${total} samples, `
      + `${beyond} above the highest p99 not drawn` },
    width: 620, height: 260, config: CONFIG,
    layer: [
      { data: { values: rows }, mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.6 },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: { type: 'log', nice: false, domain: [lo / ax.div, hi / ax.div] },
            title: `${c.metric} (${ax.label}, log scale)` },
          y: { field: 'share', type: 'quantitative', title: 'share of samples (%)' },
          color,
        } },
      { data: { values: medians }, mark: { type: 'rule', strokeDash: [4, 3] },
        encoding: { x: { field: 'median', type: 'quantitative' }, color } },
    ],
  } as TopLevelSpec;
}

function barsSpec(c: Extract<ChartSpec, { kind: 'bars' }>, ts: TrialResult[]): TopLevelSpec {
  // A dot plot (median dot, min..p99 rule) rather than bars: on the log scale the figures
  // need (ns stores next to µs traps) a bar has no baseline.
  const maxV = Math.max(...ts.map((t) => t.stats[c.metric]!.p99));
  const unit = unitOf(ts[0]!, c.metric);
  const ax = axisUnit(unit, maxV);
  const values = ts.map((t) => {
    const s = t.stats[c.metric]!;
    return { trial: t.label, path: t.path, median: s.median / ax.div, min: s.min / ax.div, p99: s.p99 / ax.div,
      text: formatValue(s.median, unit) };
  });
  const y = { field: 'trial', type: 'nominal' as const, sort: ts.map((t) => t.label), title: null,
    axis: { labelLimit: 300 } };
  const logX = { type: 'log' as const };
  const paths = [...new Set(ts.map((t) => t.path))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: c.title, subtitle: `dot: median; line: min to p99; log scale` },
    width: 520, height: 32 * ts.length, config: CONFIG, data: { values },
    layer: [
      { mark: { type: 'rule', strokeWidth: 2 },
        encoding: { y, x: { field: 'min', type: 'quantitative', scale: logX, title: `${c.metric} (${ax.label}, log scale)` },
          x2: { field: 'p99' }, color: { field: 'path', type: 'nominal', title: null,
            scale: { domain: paths, range: paths.map((p) => PATH_COLORS[p] ?? '#555') } } } },
      { mark: { type: 'point', filled: true, size: 90 },
        encoding: { y, x: { field: 'median', type: 'quantitative', scale: logX },
          color: { field: 'path', type: 'nominal', title: null } } },
      { mark: { type: 'text', dy: -11, fontSize: 10 },
        encoding: { y, x: { field: 'median', type: 'quantitative', scale: logX }, text: { field: 'text' } } },
    ],
  } as TopLevelSpec;
}

function seriesValue(t: TrialResult, key: string): string {
  return key === 'path' ? t.path : String(t.params[key]);
}

/** Series in a stable order (numeric when they are numbers), path colours for paths. */
function seriesColor(ts: TrialResult[], key: string): Record<string, unknown> {
  const values = [...new Set(ts.map((t) => seriesValue(t, key)))];
  const numeric = values.every((v) => v !== '' && Number.isFinite(Number(v)));
  const domain = numeric ? values.sort((a, b) => Number(a) - Number(b)) : values;
  const scale = key === 'path' ? { domain, range: domain.map((p) => PATH_COLORS[p] ?? '#555') } : { domain };
  return { field: 'series', type: 'nominal', title: key, scale, sort: domain };
}

function lineSpec(c: Extract<ChartSpec, { kind: 'line' }>, ts: TrialResult[]): TopLevelSpec {
  const maxV = Math.max(...ts.map((t) => t.stats[c.metric]![c.stat]));
  const ax = axisUnit(unitOf(ts[0]!, c.metric), maxV);
  const values = ts.map((t) => ({ x: Number(t.params[c.x]), series: seriesValue(t, c.series), y: t.stats[c.metric]![c.stat] / ax.div }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: c.title, subtitle: `${c.stat} per trial` },
    width: 620, height: 280, config: CONFIG, data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', scale: c.logX ? { type: 'log', base: 2 } : {}, title: c.x },
      y: { field: 'y', type: 'quantitative', title: `${c.metric} (${ax.label})` },
      color: seriesColor(ts, c.series),
    },
  } as TopLevelSpec;
}

function groupedSpec(c: Extract<ChartSpec, { kind: 'grouped-bars' }>, ts: TrialResult[]): TopLevelSpec {
  const maxV = Math.max(...ts.map((t) => t.stats[c.metric]![c.stat]));
  const ax = axisUnit(unitOf(ts[0]!, c.metric), maxV);
  const values = ts.map((t) => ({ cat: String(t.params[c.category]), series: seriesValue(t, c.series), y: t.stats[c.metric]![c.stat] / ax.div }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: c.title, subtitle: `${c.stat} per trial` },
    width: 620, height: 280, config: CONFIG, data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'cat', type: 'nominal', title: c.category, axis: { labelAngle: 0 } },
      xOffset: { field: 'series', type: 'nominal', sort: (seriesColor(ts, c.series)['sort'] as string[]) },
      y: { field: 'y', type: 'quantitative', title: `${c.metric} (${ax.label})` },
      color: seriesColor(ts, c.series),
    },
  } as TopLevelSpec;
}

export function chartSpec(c: ChartSpec, ts: TrialResult[]): TopLevelSpec {
  switch (c.kind) {
    case 'histogram': return histogramSpec(c, ts);
    case 'bars': return barsSpec(c, ts);
    case 'line': return lineSpec(c, ts);
    case 'grouped-bars': return groupedSpec(c, ts);
  }
}

/** Every chart declared by the tables of the scenarios in the result, drawn or explained. */
export async function renderCharts(result: BenchResult, tables: readonly ScenarioTable[]): Promise<RenderedChart[]> {
  const out: RenderedChart[] = [];
  for (const s of result.scenarios) {
    const table = tables.find((t) => t.name === s.name);
    for (const c of table?.charts ?? []) {
      const base = { id: c.id, title: c.title, scenario: s.name };
      if (s.status === 'pending') {
        out.push({ ...base, svg: null, note: s.pending?.reason ?? 'scenario pending' });
        continue;
      }
      const ts = trialsOf(s, c.trials);
      if (typeof ts === 'string') {
        out.push({ ...base, svg: null, note: ts });
        continue;
      }
      out.push({ ...base, svg: await toSvg(chartSpec(c, ts)) });
    }
  }
  return out;
}
