// Every chart the scenario tables declare renders to a well-formed SVG — including the
// charts of scenarios that are still pending (throughput vs batch, dirty precision per
// tracker, migration downtime and bytes), fed here with fabricated samples so the renderer
// is exercised before those scenarios can run. The data are made up and only test drawing;
// nothing here is a result. A chart whose trials were not measured is not drawn, with why.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { summarize } from '../../bench/harness/stats.js';
import { renderCharts } from '../../bench/report/charts.js';
import type { ScenarioResult, TrialResult } from '../../bench/result-types.js';
import type { ScenarioTable, TrialRow } from '../../bench/scenario-types.js';
import { SCENARIOS } from '../../bench/scenarios/index.js';
import { syntheticResult } from './synthetic-result.js';

function fabricated(row: TrialRow, i: number): TrialResult {
  const samples: Record<string, number[]> = {};
  for (const m of row.metrics) samples[m.name] = Array.from({ length: 10 }, (_, k) => (i + 1) * 1000 + k * 10);
  const stats = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)]));
  return {
    name: row.name, label: row.label, path: row.path, entry: row.entry, params: row.params,
    size: { warmup: 0, samples: 10, repetitions: 1 }, metrics: row.metrics, measures: row.measures,
    includes: row.includes, excludes: row.excludes, status: 'ok',
    repetitions: [{ index: 0, pid: 1, wallMs: 1, samples, stats, extra: {} }], stats,
  };
}

function ranAsIf(s: ScenarioTable): ScenarioResult {
  return { name: s.name, title: s.title, description: s.description, status: 'ran',
    trials: s.trials.map(fabricated), ratios: [] };
}

describe('charts', () => {
  it('renders every declared chart kind to well-formed SVG', async () => {
    const r = syntheticResult();
    r.scenarios = SCENARIOS.map(ranAsIf);
    const charts = await renderCharts(r, SCENARIOS);
    const declared = SCENARIOS.flatMap((s) => s.charts.map((c) => c.id));
    expect(charts.map((c) => c.id)).toEqual(declared);
    expect(new Set(SCENARIOS.flatMap((s) => s.charts.map((c) => c.kind)))).toEqual(new Set(['histogram', 'bars', 'line', 'grouped-bars']));
    const parser = new XMLParser({ ignoreAttributes: false });
    for (const c of charts) {
      expect(c.svg, c.id).not.toBeNull();
      expect(XMLValidator.validate(c.svg!), c.id).toBe(true);
      expect((parser.parse(c.svg!) as { svg?: unknown }).svg, c.id).toBeDefined();
      expect(c.svg, c.id).toContain(c.title.replace(/&/g, '&amp;').slice(0, 20));
    }
  }, 30_000);

  it('does not draw a chart whose scenario is pending or whose trials were not measured, and says why', async () => {
    const r = syntheticResult();
    r.scenarios[0]!.trials.find((t) => t.name === 'trap-read')!.status = 'failed';
    r.scenarios[0]!.trials.find((t) => t.name === 'trap-read')!.reason = 'test failure';
    const charts = await renderCharts(r, SCENARIOS);
    const hist = charts.find((c) => c.id === 'access-latency-histogram')!;
    expect(hist.svg).toBeNull();
    expect(hist.note).toBe('trial trap-read is failed: test failure');
    const pt = charts.find((c) => c.id === 'passthrough-rate-vs-batch')!;
    expect(pt.svg).toBeNull();
    expect(pt.note).toBe('scenario passthrough needs the guest runner (not built yet)');
  });
});
