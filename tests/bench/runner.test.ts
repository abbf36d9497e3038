// The trial runner against real child processes, with the harness's own `selftest` entry
// point (no device): repetitions are fresh processes, interleaved across the rows of a
// scenario; a trial that throws, dies, hangs past its time limit or answers with the wrong
// sample count fails with that reason while the other trials still run; a pending row is
// carried with its reason and never started; runBench writes a valid result either way.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBench } from '../../bench/harness/run-bench.js';
import { runScenario, type ProgressSink } from '../../bench/harness/runner.js';
import { readResultFile } from '../../bench/report/validate.js';
import type { ScenarioTable, TrialRow } from '../../bench/scenario-types.js';
import { scratch } from './run-bench.js';

function row(name: string, mode: string, extra: Partial<TrialRow> = {}): TrialRow {
  return {
    name, label: `selftest ${mode}`, path: 'passthrough', entry: 'selftest', params: { mode },
    size: { warmup: 10, samples: 50, repetitions: 2 }, quick: { warmup: 5, samples: 20, repetitions: 2 },
    metrics: [{ name: 'latency', unit: 'ns', better: 'lower', description: 'one clock read pair' }],
    measures: 'a clock read pair', includes: ['the clock'], excludes: ['nothing'], ...extra,
  };
}

function table(trials: TrialRow[]): ScenarioTable {
  return {
    name: 'selftest', title: 'harness self-test', description: 'the runner against its own entry point', trials,
    ratios: [{ name: 'a / b', numerator: 'a', denominator: 'b', metric: 'latency', stat: 'median', meaning: 'test' }],
    charts: [{ id: 'selftest-hist', title: 'self-test histogram', kind: 'histogram', metric: 'latency', trials: ['a', 'b'] }],
  };
}

function recorder(): ProgressSink & { notes: string[]; updates: number } {
  const r = { notes: [] as string[], updates: 0, begin() {}, end() {},
    update() { r.updates++; }, note(l: string) { r.notes.push(l); } };
  return r;
}

describe('runScenario', () => {
  it('runs every repetition in its own process, interleaved across rows, and pools the samples', async () => {
    const progress = recorder();
    const s = await runScenario(table([row('a', 'clock'), row('b', 'clock')]), { quick: true, progress });
    expect(s.status).toBe('ran');
    expect(progress.notes.map((n) => n.split(':')[0])).toEqual(['selftest/a 1/2', 'selftest/b 1/2', 'selftest/a 2/2', 'selftest/b 2/2']);
    const pids = s.trials.flatMap((t) => t.repetitions.map((r) => r.pid));
    expect(new Set(pids).size).toBe(4);
    expect(pids).not.toContain(process.pid);
    for (const t of s.trials) {
      expect(t.status).toBe('ok');
      expect(t.stats['latency']!.n).toBe(40);
      expect(t.repetitions.every((r) => r.samples['latency']!.length === 20)).toBe(true);
    }
    expect(s.ratios[0]!.value).not.toBeNull();
    expect(s.ratios[0]!.paired!.pairs).toBe(2);
    expect(progress.updates).toBeGreaterThan(0);
  });

  it('fails a trial with the reason of its failure and keeps running the others', async () => {
    const progress = recorder();
    const s = await runScenario(table([
      row('a', 'clock'),
      row('throws', 'throw'),
      row('dies', 'exit'),
      row('hangs', 'hang', { timeoutSec: 2, quick: { warmup: 0, samples: 1, repetitions: 1 } }),
      row('short', 'bad-result'),
      row('b', 'clock'),
    ]), { quick: true, progress });
    const by = new Map(s.trials.map((t) => [t.name, t]));
    expect(s.status).toBe('failed');
    expect(by.get('a')!.status).toBe('ok');
    expect(by.get('b')!.status).toBe('ok');
    expect(by.get('throws')!.reason).toMatch(/^repetition 1 \(pid \d+\): selftest: failing on purpose$/);
    expect(by.get('dies')!.reason).toMatch(/exited with status 3 without a result/);
    expect(by.get('hangs')!.reason).toMatch(/timed out after 2 s/);
    expect(by.get('short')!.reason).toMatch(/returned 1 latency samples, expected 20/);
    for (const n of ['throws', 'dies', 'hangs', 'short']) {
      expect(by.get(n)!.status).toBe('failed');
      expect(by.get(n)!.stats).toEqual({});
    }
    // A failed trial is not retried: one attempt each.
    expect(progress.notes.filter((l) => l.startsWith('selftest/throws'))).toHaveLength(1);
  }, 60_000);

  it('carries a pending row with its reason and never starts it', async () => {
    const progress = recorder();
    const s = await runScenario(table([row('a', 'clock'), row('b', 'clock'),
      row('later', 'clock', { pending: { needs: ['live-migration'], plan: 'later' } })]), { quick: true, progress });
    const later = s.trials.find((t) => t.name === 'later')!;
    expect(later.status).toBe('pending');
    // Every component is built now, so the reason is the other one a pending row can have.
    expect(later.reason).toMatch(/^trial selftest\/later (needs live migration \(vfmed migrate\) \(not built yet\)|has no trial entry point yet)$/);
    expect(later.repetitions).toEqual([]);
    expect(progress.notes.some((l) => l.includes('later'))).toBe(false);
  });

  it('refuses parameters its entry point rejects, before running anything', async () => {
    const tmp = scratch('bench-badparams');
    try {
      await expect(runBench({ scenarios: [], quick: true, outDir: tmp.dir, argv: [], progress: recorder(),
        tables: [table([row('a', 'warp-speed'), row('b', 'clock')])] }))
        .rejects.toThrow(/scenario selftest, trial a: parameter mode must be one of clock, throw, exit, hang, bad-result/);
    } finally {
      tmp.remove();
    }
  });
});

describe('runBench with a failing trial', () => {
  const tmp = scratch('bench-failing');
  afterAll(() => tmp.remove());

  it('still writes a valid result and report, and reports the failure', async () => {
    const out = join(tmp.dir, 'run');
    const run = await runBench({ scenarios: ['selftest'], quick: true, outDir: out, argv: ['bench', 'selftest'],
      progress: recorder(), tables: [table([row('a', 'clock'), row('b', 'throw')])] });
    expect(run.failed).toBe(true);
    const r = readResultFile(run.files.json);
    expect(r.scenarios[0]!.status).toBe('failed');
    expect(r.warnings.some((w) => w.startsWith('selftest/b failed: '))).toBe(true);
    expect(r.scenarios[0]!.ratios[0]!.value).toBeNull();
    expect(r.scenarios[0]!.ratios[0]!.reason).toBe('b was not measured');
    expect(run.files.charts).toEqual([]); // the histogram needs b: not drawn
  });
});
