// `vfmed bench --quick` end to end, as CI runs it: every ready scenario (today: access and
// passthrough, which drive real guest runner processes against an embedded daemon) at
// its quick size into a temporary --out directory, through real child processes, a real
// NIC and the real PF driver. Checks that the harness works and what it writes is valid —
// never any timing: the JSON validates against its schema, the pending scenarios are listed
// with their reasons and not run, every declared chart of the run is a well-formed SVG (or
// is explained), report.html is well-formed (X)HTML with the charts inline, summary.md
// links the charts, and the terminal table and goals were printed.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULT_SCHEMA } from '../../bench/report/result-schema.js';
import { readResultFile, resultProblems } from '../../bench/report/validate.js';
import type { BenchResult } from '../../bench/result-types.js';
import { bench, lines, scratch } from './run-bench.js';

describe('vfmed bench --quick (every ready scenario)', () => {
  const tmp = scratch('bench-quick');
  const out = join(tmp.dir, 'run');
  let run: ReturnType<typeof bench>;
  let result: BenchResult;

  beforeAll(() => {
    run = bench(['--quick', '--out', out]);
    if (run.code !== 0) throw new Error(`bench --quick exited ${run.code}: ${run.stderr}`);
    result = readResultFile(join(out, 'result.json'));
  }, 120_000);
  afterAll(() => tmp.remove());

  it('writes a result that validates against its schema', () => {
    const doc: unknown = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(resultProblems(doc)).toEqual([]);
    expect(result.quick).toBe(true);
    expect(result.argv).toEqual(['bench', '--quick', '--out', out]);
    expect(JSON.parse(readFileSync(join(out, 'result.schema.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(RESULT_SCHEMA)));
  });

  it('records the machine', () => {
    const m = result.machine;
    expect(m.cpuModel.length).toBeGreaterThan(0);
    expect(m.logicalCpus).toBeGreaterThan(0);
    expect(m.kernel.length).toBeGreaterThan(0);
    expect(m.node).toBe(process.version);
    expect(m.gitRevision === null || /^[0-9a-f]{40}$/.test(m.gitRevision)).toBe(true);
  });

  it('runs the access scenario: every trial measured in fresh processes, the guest round trips too', () => {
    const s = result.scenarios.find((x) => x.name === 'access')!;
    expect(s.status).toBe('ran');
    const byName = new Map(s.trials.map((t) => [t.name, t]));
    for (const name of ['pt-doorbell', 'trap-doorbell', 'pt-store', 'trap-write', 'pt-load', 'trap-read']) {
      const t = byName.get(name)!;
      expect(t.status, `${name}: ${t.reason ?? ''}`).toBe('ok');
      expect(t.repetitions).toHaveLength(t.size.repetitions);
      expect(new Set(t.repetitions.map((r) => r.pid)).size).toBe(t.size.repetitions); // one process each
      expect(t.stats['latency']!.n).toBe(t.size.samples * t.size.repetitions);
      expect(t.includes.length).toBeGreaterThan(0);
      expect(t.excludes.length).toBeGreaterThan(0);
    }
    // The device really did one frame per doorbell (the trial checks it; the count is kept).
    for (const name of ['pt-doorbell', 'trap-doorbell']) {
      for (const r of byName.get(name)!.repetitions) {
        expect(r.extra['deviceTxFrames']).toBe(r.extra['doorbells']);
        expect(r.extra['doorbells']).toBe(byName.get(name)!.size.warmup + byName.get(name)!.size.samples);
      }
    }
    // The guest's round trips: every timed access reached the server as one trapped access.
    for (const name of ['trap-roundtrip', 'trap-roundtrip-doorbell']) {
      const t = byName.get(name)!;
      expect(t.status, `${name}: ${t.reason ?? ''}`).toBe('ok');
      expect(t.stats['latency']!.n).toBe(t.size.samples * t.size.repetitions);
      for (const r of t.repetitions) {
        expect(r.extra['accessesAtServer'] as number).toBeGreaterThanOrEqual(t.size.warmup + t.size.samples);
        expect(r.extra['deviceTxFrames']).toBe(name.endsWith('doorbell') ? t.size.warmup + t.size.samples : 0);
      }
    }
    for (const r of s.ratios) expect(r.value, r.name).not.toBeNull();
  });

  it('runs the passthrough scenario: guest runner to guest runner, nothing lost', () => {
    const s = result.scenarios.find((x) => x.name === 'passthrough')!;
    expect(s.status).toBe('ran');
    for (const t of s.trials) {
      expect(t.status, `${t.name}: ${t.reason ?? ''}`).toBe('ok');
      expect(t.stats['rate']!.n).toBe(t.size.samples * t.size.repetitions);
      expect(t.stats['throughput']!.median).toBeCloseTo(t.stats['rate']!.median * (t.params['frameBytes'] as number) * 8, -3);
      for (const r of t.repetitions) {
        expect(r.extra['rxVerified'] as number).toBeGreaterThan(0);
        expect(r.extra['trappedWrites']).toBe(0); // passthrough: no queue-page access reached the server
      }
    }
  });

  it('lists the scenarios that need unbuilt components as pending, without running them', () => {
    const pending = result.scenarios.filter((s) => s.status === 'pending').map((s) => s.name).sort();
    expect(pending).toEqual(['dirty', 'migration', 'trapped']);
    const tr = result.scenarios.find((s) => s.name === 'trapped')!;
    expect(tr.pending!.reason).toBe('scenario trapped needs the mediator with BAR0 trapping (not built yet)');
    for (const s of result.scenarios.filter((x) => x.status === 'pending')) {
      expect(s.trials.every((t) => t.status === 'pending' && t.repetitions.length === 0)).toBe(true);
    }
  });

  it('evaluates every goal, none of them on a figure that was not measured', () => {
    expect(result.goals.map((g) => g.id)).toContain('trapped-access-latency');
    for (const g of result.goals) {
      if (g.status === 'not-measured') expect(g.measured).toBeNull();
      else expect(typeof g.measured).toBe('number');
    }
    // Both figures of this issue are measured now (met or missed, never a bound).
    for (const id of ['trapped-access-latency', 'passthrough-rate-64b']) {
      const g = result.goals.find((x) => x.id === id)!;
      expect(['met', 'missed'], id).toContain(g.status);
      expect(g.basis, id).not.toMatch(/lower bound/);
    }
  });

  it('writes well-formed SVG charts for the scenarios that ran', () => {
    const svgs = readdirSync(join(out, 'charts')).sort();
    expect(svgs).toEqual(['access-latency-bars.svg', 'access-latency-histogram.svg', 'access-roundtrip-histogram.svg',
      'passthrough-rate-vs-batch.svg', 'passthrough-throughput.svg']);
    const parser = new XMLParser({ ignoreAttributes: false });
    for (const f of svgs) {
      const text = readFileSync(join(out, 'charts', f), 'utf8');
      expect(XMLValidator.validate(text), f).toBe(true);
      const doc = parser.parse(text) as { svg?: Record<string, unknown> };
      expect(doc.svg, f).toBeDefined();
      expect(Number(doc.svg!['@_width'])).toBeGreaterThan(0);
    }
  });

  it('writes a self-contained report.html that is well-formed and carries the charts inline', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    const body = html.replace(/^<!DOCTYPE html>\n/, '');
    expect(XMLValidator.validate(body)).toBe(true);
    expect(html.match(/<svg /g)?.length).toBe(5);
    expect(html).not.toMatch(/<script|src="http|href="http/);
    expect(html).toContain('scenario trapped needs the mediator with BAR0 trapping (not built yet)');
    expect(html).toContain('trapped register access ≤ 15 µs median');
  });

  it('writes summary.md linking the charts and saying how to reproduce', () => {
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md).toContain('![Trap latency histogram (one access per sample)](charts/access-latency-histogram.svg)');
    expect(md).toContain(`vfmed bench --quick --out ${out}`);
    expect(existsSync(join(out, 'charts', 'access-latency-histogram.svg'))).toBe(true);
  });

  it('prints the terminal table, the goals and where the files are; progress goes to stderr', () => {
    expect(run.stdout).toMatch(/trap-doorbell/);
    expect(run.stdout).toMatch(/doorbell: trapped \/ passthrough \(median\): [\d.]+×/);
    expect(run.stdout).toMatch(/Goals/);
    expect(run.stdout).toMatch(/passthrough ≥ 5 Mpps at 64 bytes.*(MET|MISSED)/);
    expect(run.stdout).toContain(`result: ${join(out, 'result.json')}`);
    expect(lines(run.stderr).some((l) => /^access\/trap-write \d+\/\d+: latency median/.test(l))).toBe(true);
  });
});
