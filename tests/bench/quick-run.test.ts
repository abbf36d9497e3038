// `vfmed bench --quick` end to end, as CI runs it: every scenario (access, passthrough,
// trapped, dirty, migration) at its quick size into a temporary --out directory, through real child
// processes, a real NIC, the real PF driver and real vfmed-guest processes. Checks that the harness works and what it writes is valid —
// never any timing: the JSON validates against its schema, every declared chart of the run is a well-formed SVG (or
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
  }, 400_000);
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

  it('runs the access scenario: every trial measured in fresh processes, the full path with a real guest', () => {
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
    const full = byName.get('trap-roundtrip')!;
    expect(full.status, full.reason ?? '').toBe('ok');
    expect(full.stats['latency']!.n).toBe(full.size.samples * full.size.repetitions);
    // A guest's whole trapped store includes the device side measured by trap-doorbell.
    expect(full.stats['latency']!.median).toBeGreaterThan(byName.get('trap-write')!.stats['latency']!.median);
    for (const r of s.ratios) expect(r.value, r.name).not.toBeNull();
  });

  it('runs the passthrough scenario: rate in frames/s and throughput in bit/s, both measured', () => {
    const s = result.scenarios.find((x) => x.name === 'passthrough')!;
    expect(s.status).toBe('ran');
    for (const t of s.trials) {
      expect(t.status, `${t.name}: ${t.reason ?? ''}`).toBe('ok');
      const bytes = (t.params['frameBytes'] as number) >= 1514 ? 1518 : t.params['frameBytes'] as number;
      for (const r of t.repetitions) {
        r.samples['rate']!.forEach((v, i) => expect(r.samples['throughput']![i]).toBeCloseTo(v * bytes * 8, -3));
      }
    }
  });

  it('runs the migration scenario: every tracker, RAM size and rate, at the quick RAM size, nothing lost', () => {
    expect(result.scenarios.filter((s) => s.status === 'pending')).toEqual([]);
    const mig = result.scenarios.find((s) => s.name === 'migration')!;
    expect(mig.status).toBe('ran');
    expect(mig.trials).toHaveLength(18);
    for (const t of mig.trials) {
      expect(t.status, `${t.name}: ${t.reason ?? ''}`).toBe('ok');
      expect(t.params['ramMiB']).toBe(64);             // quickParams, recorded as used
      expect(t.label).toMatch(/\[quick: ramMiB=64\]$/);
      // Frames lost or duplicated are correctness, not performance: 0 even here.
      expect(t.stats['framesLost']!.max, t.name).toBe(0);
      expect(t.stats['framesDuplicated']!.max, t.name).toBe(0);
      expect(t.stats['bytes']!.min).toBeGreaterThan(64 * 1024 * 1024 * 0.9); // random RAM really moved
    }
  });

  it('evaluates every goal, none of them on a figure that was not measured', () => {
    expect(result.goals.map((g) => g.id)).toContain('trapped-access-latency');
    for (const g of result.goals) {
      if (g.status === 'not-measured') expect(g.measured).toBeNull();
      else expect(typeof g.measured).toBe('number');
    }
    const access = result.goals.find((g) => g.id === 'trapped-access-latency')!;
    expect(['met', 'missed']).toContain(access.status); // the full path is measured now
    expect(access.basis).toMatch(/trap-roundtrip/);
    for (const id of ['trapped-rate-share-b32', 'dirty-recall', 'tail-trap-precision']) {
      expect(['met', 'missed'], id).toContain(result.goals.find((g) => g.id === id)!.status);
    }
    // Recall is a correctness figure, not a performance one: it must be met even here.
    expect(result.goals.find((g) => g.id === 'dirty-recall')!.status).toBe('met');
  });

  it('writes well-formed SVG charts for the scenarios that ran', () => {
    const svgs = readdirSync(join(out, 'charts')).sort();
    expect(svgs).toEqual([
      'access-latency-bars.svg', 'access-latency-histogram.svg', 'access-roundtrip-histogram.svg', 'dirty-precision.svg',
      'migration-bytes.svg', 'migration-downtime-idle.svg', 'migration-downtime.svg', 'passthrough-rate-vs-batch.svg', 'passthrough-throughput.svg',
      'trapped-posted-rate-vs-batch.svg', 'trapped-rate-vs-batch-1514.svg', 'trapped-rate-vs-batch.svg', 'trapped-store-latency.svg',
    ]);
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
    expect(html.match(/<svg /g)?.length).toBe(13);
    expect(html).not.toMatch(/<script|src="http|href="http/);
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
    expect(run.stdout).toMatch(/passthrough ≥ 5 Mpps at 64 bytes/);
    expect(run.stdout).toContain(`result: ${join(out, 'result.json')}`);
    expect(lines(run.stderr).some((l) => /^access\/trap-write \d+\/\d+: latency median/.test(l))).toBe(true);
  });
});
