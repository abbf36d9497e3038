/**
 * Validation of result.json: the JSON schema (ajv, with date-time formats) plus the
 * invariants a schema cannot express: statistics ordered (min <= median <= p99 <= max),
 * every repetition carrying exactly the trial's metrics with `samples` values each, and
 * pooled statistics present exactly for trials that are ok. Used on every result the
 * harness writes (a producer bug fails the run) and on every file --compare reads.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
import type { BenchResult, Stats } from '../result-types.js';
import { RESULT_SCHEMA } from './result-schema.js';

// ajv-formats is CommonJS: under NodeNext its default import is module.exports, whose
// `default` is the plugin function.
type FormatsPlugin = typeof formatsModule.default;
const addFormats: FormatsPlugin = (formatsModule as unknown as { default: FormatsPlugin }).default;

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    addFormats(ajv, ['date-time']);
    compiled = ajv.compile(RESULT_SCHEMA);
  }
  return compiled;
}

export class ResultInvalid extends Error {
  constructor(readonly problems: string[], source: string) {
    super(`${source} is not a valid vfmed bench result: ${problems[0] ?? 'unknown problem'}`
      + (problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''));
    this.name = 'ResultInvalid';
  }
}

function statsOrdered(s: Stats): boolean {
  return s.min <= s.median && s.median <= s.p99 && s.p99 <= s.max && s.min <= s.mean && s.mean <= s.max;
}

/** Problems found; an empty list means valid. */
export function resultProblems(doc: unknown): string[] {
  const v = validator();
  if (!v(doc)) {
    return (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`
      + (e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''));
  }
  const r = doc as BenchResult;
  const out: string[] = [];
  r.scenarios.forEach((s, si) => {
    s.trials.forEach((t, ti) => {
      const at = `/scenarios/${si}/trials/${ti}`;
      const names = t.metrics.map((m) => m.name).sort().join();
      t.repetitions.forEach((rep, ri) => {
        if (Object.keys(rep.samples).sort().join() !== names) out.push(`${at}/repetitions/${ri} does not carry exactly the metrics ${names}`);
        for (const [m, xs] of Object.entries(rep.samples)) {
          if (xs.length !== t.size.samples) out.push(`${at}/repetitions/${ri}/samples/${m} has ${xs.length} samples, size says ${t.size.samples}`);
        }
        for (const [m, st] of Object.entries(rep.stats)) if (!statsOrdered(st)) out.push(`${at}/repetitions/${ri}/stats/${m} is not ordered`);
      });
      if (t.repetitions.length > t.size.repetitions) out.push(`${at} has more repetitions than its size says`);
      const hasStats = Object.keys(t.stats).length > 0;
      if (t.status === 'ok' && (Object.keys(t.stats).sort().join() !== names || t.repetitions.length !== t.size.repetitions)) {
        out.push(`${at} is ok but lacks its statistics or repetitions`);
      }
      if (t.status !== 'ok' && hasStats) out.push(`${at} is ${t.status} but has statistics`);
      for (const [m, st] of Object.entries(t.stats)) if (!statsOrdered(st)) out.push(`${at}/stats/${m} is not ordered`);
    });
    if (s.status === 'pending' && s.trials.some((t) => t.status !== 'pending')) out.push(`/scenarios/${si} is pending but ran trials`);
  });
  return out;
}

export function assertValidResult(doc: unknown, source = 'result'): asserts doc is BenchResult {
  const problems = resultProblems(doc);
  if (problems.length) throw new ResultInvalid(problems, source);
}

/** Reads and validates a result file; every failure is one clear line. */
export function readResultFile(path: string): BenchResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new Error(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path} is not JSON: ${(e as Error).message}`);
  }
  assertValidResult(doc, path);
  return doc;
}
