/**
 * JSON Schema (draft-07) of result.json, schemaVersion 1: the contract for anyone who reads
 * vfmed benchmark results (the report renderers, --compare, CI, a reader's own scripts).
 * Strict: unknown properties are errors, so a typo in a producer cannot pass unnoticed.
 * Written next to every result as result.schema.json and printed by
 * `vfmed bench --print-schema`; docs/bench.md explains every field.
 */
import { RESULT_SCHEMA_ID, RESULT_SCHEMA_VERSION } from '../result-types.js';

const num = { type: 'number' } as const;
const str = { type: 'string' } as const;
const nonNegInt = { type: 'integer', minimum: 0 } as const;
const strList = { type: 'array', items: str } as const;
const nullable = (t: string) => ({ type: [t, 'null'] });

const stats = {
  type: 'object',
  additionalProperties: false,
  required: ['n', 'min', 'median', 'p99', 'max', 'mean', 'stddev'],
  properties: {
    n: { type: 'integer', minimum: 1 }, min: num, median: num, p99: num, max: num, mean: num,
    stddev: { type: 'number', minimum: 0 },
  },
};

const size = {
  type: 'object',
  additionalProperties: false,
  required: ['warmup', 'samples', 'repetitions'],
  properties: { warmup: nonNegInt, samples: { type: 'integer', minimum: 1 }, repetitions: { type: 'integer', minimum: 1 } },
};

const metric = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'unit', 'better', 'description'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9]*$' },
    unit: { enum: ['ns', 'ms', 'pps', 'bytes', 'percent', 'count', 'bps'] },
    better: { enum: ['lower', 'higher'] },
    description: str,
  },
};

const repetition = {
  type: 'object',
  additionalProperties: false,
  required: ['index', 'pid', 'wallMs', 'samples', 'stats', 'extra'],
  properties: {
    index: nonNegInt,
    pid: { type: 'integer' },
    wallMs: { type: 'number', minimum: 0 },
    samples: { type: 'object', additionalProperties: { type: 'array', items: num, minItems: 1 } },
    stats: { type: 'object', additionalProperties: stats },
    extra: { type: 'object' },
  },
};

const trial = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'label', 'path', 'entry', 'params', 'size', 'metrics', 'measures', 'includes', 'excludes',
    'status', 'repetitions', 'stats'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]*$' },
    label: str,
    path: { enum: ['passthrough', 'trapped', 'tracker', 'migration'] },
    entry: str,
    params: { type: 'object' },
    size,
    metrics: { type: 'array', items: metric, minItems: 1 },
    measures: str,
    includes: strList,
    excludes: strList,
    status: { enum: ['ok', 'pending', 'failed'] },
    reason: str,
    repetitions: { type: 'array', items: repetition },
    stats: { type: 'object', additionalProperties: stats },
  },
  // A pending or failed trial says why.
  if: { properties: { status: { enum: ['pending', 'failed'] } } },
  then: { required: ['reason'] },
};

const ratio = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'numerator', 'denominator', 'metric', 'stat', 'meaning', 'value', 'paired'],
  properties: {
    name: str, numerator: str, denominator: str, metric: str, meaning: str,
    stat: { enum: ['median', 'min', 'p99'] },
    value: nullable('number'),
    paired: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object', additionalProperties: false, required: ['median', 'min', 'max', 'pairs'],
          properties: { median: num, min: num, max: num, pairs: { type: 'integer', minimum: 1 } },
        },
      ],
    },
    reason: str,
  },
};

const scenario = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'title', 'description', 'status', 'trials', 'ratios'],
  properties: {
    name: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' },
    title: str,
    description: str,
    status: { enum: ['ran', 'pending', 'failed'] },
    pending: {
      type: 'object', additionalProperties: false, required: ['needs', 'missing', 'reason', 'plan'],
      properties: { needs: strList, missing: strList, reason: str, plan: str },
    },
    trials: { type: 'array', items: trial },
    ratios: { type: 'array', items: ratio },
  },
  if: { properties: { status: { const: 'pending' } } },
  then: { required: ['pending'] },
};

const goal = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'text', 'op', 'target', 'unit', 'status', 'measured', 'basis', 'distance'],
  properties: {
    id: str, text: str, unit: str, basis: str, distance: str,
    op: { enum: ['>=', '<=', '=='] },
    target: num,
    status: { enum: ['met', 'missed', 'not-measured', 'open'] },
    measured: nullable('number'),
  },
};

const machine = {
  type: 'object',
  additionalProperties: false,
  required: ['cpuModel', 'logicalCpus', 'physicalCores', 'cpuMHz', 'hypervisor', 'governor', 'os', 'distro', 'kernel',
    'kernelVersion', 'arch', 'node', 'v8', 'gitRevision', 'gitDirty', 'hostname', 'memTotalBytes', 'loadAvgStart',
    'loadAvgEnd', 'timer', 'addonBuildDir'],
  properties: {
    cpuModel: str,
    logicalCpus: { type: 'integer', minimum: 1 },
    physicalCores: nullable('integer'),
    cpuMHz: nullable('number'),
    hypervisor: nullable('boolean'),
    governor: nullable('string'),
    os: str, distro: nullable('string'), kernel: str, kernelVersion: str, arch: str,
    node: { type: 'string', pattern: '^v\\d+\\.' },
    v8: str,
    gitRevision: { type: ['string', 'null'], pattern: '^[0-9a-f]{40}$' },
    gitDirty: nullable('boolean'),
    hostname: str,
    memTotalBytes: { type: 'integer', minimum: 0 },
    loadAvgStart: { type: 'array', items: num, minItems: 3, maxItems: 3 },
    loadAvgEnd: { type: 'array', items: num, minItems: 3, maxItems: 3 },
    timer: {
      type: 'object', additionalProperties: false, required: ['source', 'overheadNs', 'resolutionNs'],
      properties: { source: str, overheadNs: num, resolutionNs: num },
    },
    addonBuildDir: str,
  },
};

export const RESULT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: `https://vfmed.invalid/schemas/${RESULT_SCHEMA_ID}-v${RESULT_SCHEMA_VERSION}.json`,
  title: 'vfmed bench result',
  description: 'One run of `vfmed bench`: machine, scenarios with their trials, raw samples, statistics, ratios and goals.',
  type: 'object',
  additionalProperties: false,
  required: ['schema', 'schemaVersion', 'runId', 'startedAt', 'finishedAt', 'quick', 'argv', 'machine', 'scenarios',
    'goals', 'warnings'],
  properties: {
    schema: { const: RESULT_SCHEMA_ID },
    schemaVersion: { const: RESULT_SCHEMA_VERSION },
    runId: { type: 'string', pattern: '^[0-9A-Za-z._-]+$' },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
    quick: { type: 'boolean' },
    argv: strList,
    machine,
    scenarios: { type: 'array', items: scenario },
    goals: { type: 'array', items: goal },
    warnings: strList,
  },
} as const;
