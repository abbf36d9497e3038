// `vfmed bench --compare A.json B.json`: the comparison model (change per figure, a verdict
// that only calls better/worse when the repetitions of the two runs do not overlap) and the
// command itself on two result files, including --out and invalid inputs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareResults } from '../../bench/report/compare.js';
import { bench, lines, scratch } from './run-bench.js';
import { syntheticResult, writeResult } from './synthetic-result.js';

describe('compareResults', () => {
  const a = syntheticResult({ runId: 'run-a', seed: 1 });
  const b = syntheticResult({ runId: 'run-b', seed: 1, scale: { 'trap-doorbell': 2 } });
  // pt-doorbell in B: median 1 % up, repetitions spread over the same range as A's.
  const ta = a.scenarios[0]!.trials.find((t) => t.name === 'pt-doorbell')!;
  const tb = b.scenarios[0]!.trials.find((t) => t.name === 'pt-doorbell')!;
  tb.stats['latency']!.median = ta.stats['latency']!.median * 1.01;
  const [r0, r1] = ta.repetitions.map((r) => r.stats['latency']!.median);
  tb.repetitions[0]!.stats['latency']!.median = r1!;
  tb.repetitions[1]!.stats['latency']!.median = r0!;
  const c = compareResults(a, b);
  const row = (figure: string) => c.rows.find((r) => r.figure === figure)!;

  it('calls a change outside the run-to-run spread worse (lower is better for latency)', () => {
    const r = row('access/trap-doorbell latency median');
    expect(r.verdict).toBe('worse');
    expect(r.b! / r.a!).toBeGreaterThan(1.7);
    expect(r.change).toMatch(/^\+\d/);
  });

  it('calls a change inside the spread "within spread", not a regression', () => {
    expect(row('access/pt-doorbell latency median').verdict).toBe('within spread');
  });

  it('compares ratios and goals, and skips what neither run measured', () => {
    expect(c.rows.some((r) => r.figure === 'access: doorbell: trapped / passthrough')).toBe(true);
    expect(c.rows.some((r) => r.figure.startsWith('goal: trapped register access'))).toBe(true);
    expect(c.rows.some((r) => r.figure.includes('trap-roundtrip'))).toBe(false);
  });

  it('calls the better direction better', () => {
    const back = compareResults(b, a);
    expect(back.rows.find((r) => r.figure === 'access/trap-doorbell latency median')!.verdict).toBe('better');
  });

  it('lists machine and revision differences first', () => {
    const other = syntheticResult({ runId: 'run-c' });
    other.machine.kernel = '6.12.0-other';
    expect(compareResults(a, other).machineDiffs).toEqual(['kernel: 6.1.0-test → 6.12.0-other']);
  });
});

describe('vfmed bench --compare', () => {
  const tmp = scratch('bench-compare');
  afterAll(() => tmp.remove());
  const fa = writeResult(join(tmp.dir, 'a.json'), syntheticResult({ runId: 'run-a', seed: 1 }));
  const fb = writeResult(join(tmp.dir, 'b.json'), syntheticResult({ runId: 'run-b', seed: 2, scale: { 'trap-doorbell': 2 } }));

  it('prints both runs side by side with the change per figure', () => {
    const r = bench(['--compare', fa, fb]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/A = run-a/);
    expect(r.stdout).toMatch(/B = run-b/);
    expect(r.stdout).toMatch(/access\/trap-doorbell latency median.*\+\d+(\.\d+)? %.*worse/);
    expect(r.stdout).toMatch(/same machine, kernel, Node and revision/);
  });

  it('writes compare.md with --out', () => {
    const out = join(tmp.dir, 'cmp');
    const r = bench(['--compare', fa, fb, '--out', out]);
    expect(r.code).toBe(0);
    const md = readFileSync(join(out, 'compare.md'), 'utf8');
    expect(md).toMatch(/^# vfmed bench: run-a \(A\) vs run-b \(B\)/);
    expect(md).toMatch(/\| access\/trap-doorbell latency median \|/);
  });

  const bad: [string, () => string[], RegExp][] = [
    ['a missing file', () => ['--compare', fa, join(tmp.dir, 'nope.json')], /^vfmed bench: cannot read .*nope\.json: no such file$/],
    ['a file that is not JSON', () => {
      const p = join(tmp.dir, 'text.json');
      writeFileSync(p, 'not json');
      return ['--compare', p, fb];
    }, /^vfmed bench: .*text\.json is not JSON: /],
    ['a JSON file that is not a result', () => {
      const p = join(tmp.dir, 'other.json');
      writeFileSync(p, JSON.stringify({ hello: 'world' }));
      return ['--compare', fa, p];
    }, /^vfmed bench: .*other\.json is not a valid vfmed bench result: \/ must have required property/],
  ];
  it.each(bad)('fails with one line on %s (exit 1)', (_what, args, msg) => {
    const r = bench(args());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toHaveLength(1);
    expect(lines(r.stderr)[0]).toMatch(msg);
    expect(existsSync(join(tmp.dir, 'cmp2'))).toBe(false);
  });
});
