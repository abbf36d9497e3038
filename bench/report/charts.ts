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

function histogramSpec(c: Extract<ChartSpec, { kind: 'histogram' }>, ts: TrialResult[]): TopLevelSpec {
  const all = ts.flatMap((t) => t.repetitions.flatMap((r) => r.samples[c.metric] ?? []));
  const pos = all.filter((v) => v > 0);
  const lo = Math.min(...pos), hi = Math.max(...pos);
  const ax = axisUnit(unitOf(ts[0]!, c.metric), hi);
  const rows: Record<string, unknown>[] = [];
  const medians: Record<string, unknown>[] = [];
  for (const t of ts) {
    const xs = t.repetitions.flatMap((r) => r.samples[c.metric] ?? []);
    const h = logHistogram(xs, lo, hi, 20);
    h.counts.forEach((n, i) => rows.push({ series: t.label, x: h.edges[i]! / ax.div, share: (100 * n) / xs.length }));
    rows.push({ series: t.label, x: h.edges[h.edges.length - 1]! / ax.div, share: 0 });
    medians.push({ series: t.label, median: t.stats[c.metric]!.median / ax.div });
  }
  const color = { field: 'series', type: 'nominal' as const, title: null, sort: ts.map((t) => t.label) };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: c.title, subtitle: `share of samples per bin (log bins); dashed: median; ${all.length} samples` },
    width: 620, height: 260, config: CONFIG,
    layer: [
      { data: { values: rows }, mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.6 },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: { type: 'log' }, title: `${c.metric} (${ax.label}, log scale)` },
          y: { field: 'share', type: 'quantitative', title: 'share of samples (%)' },
          color,
        } },
      { data: { values: medians }, mark: { type: 'rule', strokeDash: [4, 3] },
        encoding: { x: { field: 'median', type: 'quantitative' }, color } },
    ],
  } as TopLevelSpec;
}

function barsSpec(c: Extract<ChartSpec, { kind: 'bars' }>, ts: TrialResult[]): TopLevelSpec {
  const maxV = Math.max(...ts.map((t) => t.stats[c.metric]!.p99));
  const ax = axisUnit(unitOf(ts[0]!, c.metric), maxV);
  const values = ts.map((t) => {
    const s = t.stats[c.metric]!;
    return { trial: t.label, path: t.path, median: s.median / ax.div, min: s.min / ax.div, p99: s.p99 / ax.div,
      text: `${(s.median / ax.div).toPrecision(3)}` };
  });
  const x = { field: 'trial', type: 'nominal' as const, sort: ts.map((t) => t.label), title: null,
    axis: { labelAngle: -25, labelLimit: 220 } };
  const logY = { type: 'log' as const };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: c.title, subtitle: 'log scale; label = median' },
    width: 620, height: 280, config: CONFIG, data: { values },
    layer: [
      { mark: { type: 'bar', width: { band: 0.6 } },
        encoding: { x, y: { field: 'median', type: 'quantitative', scale: logY, title: `${c.metric} (${ax.label})` },
          color: { field: 'path', type: 'nominal', title: null,
            scale: { domain: Object.keys(PATH_COLORS), range: Object.values(PATH_COLORS) } } } },
      { mark: { type: 'rule', color: '#333' }, encoding: { x, y: { field: 'min', type: 'quantitative', scale: logY }, y2: { field: 'p99' } } },
      { mark: { type: 'text', dy: -8, fontSize: 10 }, encoding: { x, y: { field: 'p99', type: 'quantitative', scale: logY }, text: { field: 'text' } } },
    ],
  } as TopLevelSpec;
}

function seriesValue(t: TrialResult, key: string): string {
  return key === 'path' ? t.path : String(t.params[key]);
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
      color: { field: 'series', type: 'nominal', title: c.series },
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
      x: { field: 'cat', type: 'nominal', title: c.category },
      xOffset: { field: 'series', type: 'nominal' },
      y: { field: 'y', type: 'quantitative', title: `${c.metric} (${ax.label})` },
      color: { field: 'series', type: 'nominal', title: c.series },
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
