// result.json validation (JSON schema + the invariants a schema cannot say): a well-formed
// result passes, and each kind of malformed result is rejected with a message that points
// at the offending field. Table-driven: each case mutates a fresh copy of a synthetic,
// valid result.
import { describe, expect, it } from 'vitest';
import { resultProblems } from '../../bench/report/validate.js';
import type { BenchResult } from '../../bench/result-types.js';
import { syntheticResult } from './synthetic-result.js';

type Doc = BenchResult & Record<string, unknown>;
const access = (d: BenchResult) => d.scenarios[0]!;
const trial = (d: BenchResult, i = 0) => access(d).trials[i]!;

const cases: [string, (d: Doc) => void, RegExp][] = [
  ['wrong schema id', (d) => { (d as Record<string, unknown>)['schema'] = 'something-else'; }, /\/schema must be equal to constant/],
  ['future schema version', (d) => { (d as Record<string, unknown>)['schemaVersion'] = 2; }, /\/schemaVersion must be equal to constant/],
  ['missing machine', (d) => { delete (d as Partial<BenchResult>).machine; }, /must have required property 'machine'/],
  ['unknown top-level property', (d) => { d['extraField'] = 1; }, /must NOT have additional properties \(extraField\)/],
  ['startedAt not a date-time', (d) => { d.startedAt = 'yesterday'; }, /\/startedAt must match format "date-time"/],
  ['git revision not a sha', (d) => { d.machine.gitRevision = 'main'; }, /\/machine\/gitRevision must match pattern/],
  ['load average of 2 values', (d) => { d.machine.loadAvgStart = [1, 2]; }, /\/machine\/loadAvgStart must NOT have fewer than 3 items/],
  ['negative stddev', (d) => { trial(d).stats['latency']!.stddev = -1; }, /stats\/latency\/stddev must be >= 0/],
  ['stats field missing', (d) => { delete (trial(d).stats['latency'] as Partial<BenchResult['scenarios'][0]['trials'][0]['stats'][string]>).p99; },
    /stats\/latency must have required property 'p99'/],
  ['unordered stats', (d) => { const s = trial(d).stats['latency']!; s.min = s.max + 1; }, /stats\/latency is not ordered/],
  ['unknown trial status', (d) => { (trial(d) as { status: string }).status = 'skipped'; }, /status must be equal to one of the allowed values/],
  ['failed trial without a reason', (d) => { trial(d).status = 'failed'; delete trial(d).reason; }, /must have required property 'reason'/],
  ['sample count differs from size', (d) => { trial(d).repetitions[0]!.samples['latency']!.pop(); }, /has 19 samples, size says 20/],
  ['sample not a number', (d) => { (trial(d).repetitions[0]!.samples['latency'] as unknown[])[0] = 'fast'; }, /samples\/latency\/0 must be number/],
  ['repetition with a foreign metric', (d) => { trial(d).repetitions[0]!.samples['rate'] = trial(d).repetitions[0]!.samples['latency']!; },
    /does not carry exactly the metrics latency/],
  ['ok trial without statistics', (d) => { trial(d).stats = {}; }, /is ok but lacks its statistics/],
  ['pending trial with statistics', (d) => { trial(d).status = 'pending'; trial(d).reason = 'x'; }, /is pending but has statistics/],
  ['pending scenario without its reason', (d) => { delete d.scenarios[1]!.pending; }, /must have required property 'pending'/],
  ['unit outside the list', (d) => { (trial(d).metrics[0] as { unit: string }).unit = 'furlongs'; }, /unit must be equal to one of the allowed values/],
  ['goal status unknown', (d) => { (d.goals[0] as { status: string }).status = 'great'; }, /\/goals\/0\/status must be equal to one of the allowed values/],
  ['ratio without value field', (d) => { delete (access(d).ratios[0] as Partial<BenchResult['scenarios'][0]['ratios'][0]>).value; },
    /ratios\/0 must have required property 'value'/],
];

describe('result validation', () => {
  it('accepts a well-formed result', () => {
    expect(resultProblems(syntheticResult())).toEqual([]);
  });

  it('rejects what is not an object', () => {
    for (const v of [null, 42, 'result', []]) expect(resultProblems(v).length).toBeGreaterThan(0);
  });

  it.each(cases)('rejects: %s', (_what, mutate, problem) => {
    const d = structuredClone(syntheticResult()) as Doc;
    mutate(d);
    const problems = resultProblems(d);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(problem);
  });
});
