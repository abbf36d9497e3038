// The fixed statistics definitions (nearest-rank p99, mean-of-middle median, sample
// stddev), log histograms, value formatting, and goal evaluation: met / missed / open /
// not measured, and a lower bound that already misses a "<=" limit.
import { describe, expect, it } from 'vitest';
import { distance, evaluateGoal, type GoalSpec } from '../../bench/goals.js';
import { logHistogram, summarize } from '../../bench/harness/stats.js';
import { formatChange, formatValue } from '../../bench/report/format.js';
import { syntheticResult } from './synthetic-result.js';

describe('summarize', () => {
  it('keeps the mean inside [min, max] when rounding would push it out (equal samples)', () => {
    const xs = new Array<number>(7).fill(0.1 + 0.2);
    const s = summarize(xs);
    expect(s.mean).toBeGreaterThanOrEqual(s.min);
    expect(s.mean).toBeLessThanOrEqual(s.max);
  });

  it('uses nearest-rank p99 and the mean of the two middle values', () => {
    const xs = Array.from({ length: 200 }, (_, i) => i + 1); // 1..200
    const s = summarize(xs);
    expect(s).toMatchObject({ n: 200, min: 1, max: 200, median: 100.5, p99: 198, mean: 100.5 });
    expect(summarize([3, 1, 2])).toMatchObject({ median: 2, p99: 3, stddev: 1 });
    expect(summarize([5]).stddev).toBe(0);
  });

  it('refuses empty or non-finite samples', () => {
    expect(() => summarize([])).toThrow(RangeError);
    expect(() => summarize([1, Number.NaN])).toThrow(/not a finite number/);
  });
});

describe('logHistogram', () => {
  it('counts every positive sample exactly once in log-spaced bins', () => {
    const xs = [1, 2, 5, 10, 20, 50, 100, 1000];
    const h = logHistogram(xs, 1, 1000, 10);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(xs.length);
    expect(h.edges).toHaveLength(h.counts.length + 1);
    expect(h.edges[0]).toBeCloseTo(1);
    expect(h.edges[h.edges.length - 1]).toBeGreaterThanOrEqual(1000);
  });
});

describe('formatting', () => {
  it('scales units and signs changes', () => {
    expect(formatValue(1234, 'ns')).toBe('1.23 µs');
    expect(formatValue(7.3456, 'ns')).toBe('7.35 ns');
    expect(formatValue(5.1e6, 'pps')).toBe('5.10 Mpps');
    expect(formatValue(0.4, 'fraction')).toBe('40.0 %');
    expect(formatValue(null, 'ns')).toBe('–');
    expect(formatChange(100, 150)).toBe('+50.0 %');
    expect(formatChange(100, 90)).toBe('−10.0 %');
  });
});

describe('goals', () => {
  const latency: GoalSpec = {
    id: 't', text: 'trap ≤ 15 µs', op: '<=', target: 15_000, unit: 'ns',
    measure: { kind: 'trial', scenario: 'access', trial: 'trap-write', metric: 'latency', stat: 'median' },
  };

  it('is met or missed on the figure it names, with the distance', () => {
    const r = syntheticResult();
    const met = evaluateGoal(latency, r);
    expect(met.status).toBe('met');
    expect(met.distance).toMatch(/^met: .* below the limit 15.0 µs$/);
    const missed = evaluateGoal({ ...latency, target: 100 }, r);
    expect(missed.status).toBe('missed');
    expect(missed.distance).toMatch(/^missed: .*× over the limit 100 ns, .* to cut$/);
  });

  it('is open when only a lower bound below a "<=" limit was measured, missed when the bound exceeds it', () => {
    const r = syntheticResult();
    const g: GoalSpec = { ...latency, measure: { ...latency.measure, trial: 'trap-roundtrip' } as GoalSpec['measure'],
      bound: { kind: 'lower', what: 'device side', measure: latency.measure } };
    const open = evaluateGoal(g, r);
    expect(open.status).toBe('open');
    expect(open.distance).toMatch(/needs the guest runner/);
    expect(evaluateGoal({ ...g, target: 10 }, r).status).toBe('missed');
  });

  it('is not measured when its scenario is pending, and says why', () => {
    const g: GoalSpec = { id: 'p', text: 'pt', op: '>=', target: 5e6, unit: 'pps',
      measure: { kind: 'trial', scenario: 'passthrough', trial: 'pt-64b-b32', metric: 'rate', stat: 'median' } };
    const res = evaluateGoal(g, syntheticResult());
    expect(res).toMatchObject({ status: 'not-measured', measured: null });
    expect(res.distance).toBe('not measured: scenario passthrough needs the guest runner (not built yet)');
  });

  it('words distances for each operator', () => {
    expect(distance({ op: '>=', target: 5e6, unit: 'pps' }, 2.5e6)).toBe('2.50 Mpps: 50.0 % of the target 5.00 Mpps, needs 2.00× more');
    expect(distance({ op: '==', target: 0, unit: 'count' }, 3)).toBe('3 instead of 0');
  });
});
