// A deterministic, schema-valid BenchResult built without running anything: samples from a
// seeded generator, statistics, ratios and goals computed by the harness's own functions.
// The schema, validation and --compare tests mutate copies of it.
import { writeFileSync } from 'node:fs';
import { evaluateGoals } from '../../bench/goals.js';
import { computeRatio } from '../../bench/harness/runner.js';
import { summarize } from '../../bench/harness/stats.js';
import type { BenchResult, RepetitionResult, TrialResult } from '../../bench/result-types.js';
import { accessScenario } from '../../bench/scenarios/access.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** `scale` multiplies the medians of the named trials (to fabricate a regression). */
export function syntheticResult(opts: { runId?: string; scale?: Record<string, number>; seed?: number } = {}): BenchResult {
  const rnd = rng(opts.seed ?? 1);
  const base: Record<string, number> = {
    'pt-doorbell': 900, 'trap-doorbell': 450, 'pt-store': 7.3, 'trap-write': 300, 'pt-load': 7.3, 'trap-read': 310,
  };
  const trials: TrialResult[] = accessScenario.trials.map((row) => {
    const size = { warmup: 2, samples: 20, repetitions: 2 };
    const t: TrialResult = {
      name: row.name, label: row.label, path: row.path, entry: row.entry, params: row.params, size,
      metrics: row.metrics, measures: row.measures, includes: row.includes, excludes: row.excludes,
      status: 'ok', repetitions: [], stats: {},
    };
    // The full-path (guest) rows stand for figures this synthetic run lacks (the goal tests
    // need a run where only the device-side lower bound was measured).
    if (row.pending || row.params['via'] === 'guest-trapped') {
      return { ...t, status: 'pending', reason: `trial access/${row.name} needs the guest runner (not built yet)` };
    }
    const m = (base[row.name] ?? 100) * (opts.scale?.[row.name] ?? 1);
    for (let i = 0; i < size.repetitions; i++) {
      const xs = Array.from({ length: size.samples }, () => Math.round(m * (0.9 + 0.2 * rnd()) * 1000) / 1000);
      const rep: RepetitionResult = { index: i, pid: 1000 + i, wallMs: 150, samples: { latency: xs },
        stats: { latency: summarize(xs) }, extra: { timerOverheadNs: 30 } };
      t.repetitions.push(rep);
    }
    t.stats = { latency: summarize(t.repetitions.flatMap((r) => r.samples['latency']!)) };
    return t;
  });
  const result: BenchResult = {
    schema: 'vfmed-bench-result', schemaVersion: 1, runId: opts.runId ?? '20260101-000000Z-synthetic',
    startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z', quick: true,
    argv: ['bench', 'access', '--quick'],
    machine: {
      cpuModel: 'Test CPU', logicalCpus: 2, physicalCores: 1, cpuMHz: 2000, hypervisor: true, governor: null,
      os: 'linux', distro: 'Debian GNU/Linux 12 (bookworm)', kernel: '6.1.0-test', kernelVersion: '#1 SMP',
      arch: 'x64', node: 'v20.0.0', v8: '11.3', gitRevision: 'a'.repeat(40), gitDirty: false, hostname: 'test',
      memTotalBytes: 2 ** 30, loadAvgStart: [0.1, 0.1, 0.1], loadAvgEnd: [0.2, 0.1, 0.1],
      timer: { source: 'process.hrtime.bigint (CLOCK_MONOTONIC)', overheadNs: 30, resolutionNs: 20 },
      addonBuildDir: '/tmp/build/Release',
    },
    scenarios: [{
      name: 'access', title: accessScenario.title, description: accessScenario.description, status: 'ran',
      trials, ratios: accessScenario.ratios.map((r) => computeRatio(r, trials)),
    }, {
      name: 'passthrough', title: 'Passthrough', description: 'pending scenario', status: 'pending',
      pending: { needs: ['guest-runner'], missing: ['guest-runner'], reason: 'scenario passthrough needs the guest runner (not built yet)', plan: 'later' },
      trials: [], ratios: [],
    }],
    goals: [],
    warnings: [],
  };
  result.goals = evaluateGoals(result);
  return result;
}

export function writeResult(path: string, r: unknown): string {
  writeFileSync(path, JSON.stringify(r));
  return path;
}
