/**
 * The result of one `vfmed bench` run: what goes into result.json. The JSON schema of this
 * document is report/result-schema.ts (printed by `vfmed bench --print-schema`, written next
 * to every result, described in docs/bench.md); these types and that schema change together
 * and `schemaVersion` is bumped on any incompatible change.
 *
 * Numbers are stored unscaled in the metric's unit (ns, pps, bytes ...). Raw samples are
 * kept per repetition so a reader can recompute any statistic; `stats` are pooled over all
 * repetitions with the definitions of harness/stats.ts.
 */
import type { DataPath, JsonObject, MetricSpec, TrialSize } from './scenario-types.js';

export const RESULT_SCHEMA_ID = 'vfmed-bench-result';
export const RESULT_SCHEMA_VERSION = 1;

export interface Stats {
  n: number;
  min: number;
  median: number;
  p99: number;
  max: number;
  mean: number;
  stddev: number;
}

export interface MachineInfo {
  cpuModel: string;
  logicalCpus: number;
  physicalCores: number | null;
  cpuMHz: number | null;
  /** The CPU reports running under a hypervisor (cpuinfo "hypervisor" flag). */
  hypervisor: boolean | null;
  governor: string | null;
  os: string;
  distro: string | null;
  kernel: string;
  kernelVersion: string;
  arch: string;
  node: string;
  v8: string;
  gitRevision: string | null;
  gitDirty: boolean | null;
  hostname: string;
  memTotalBytes: number;
  /** 1, 5 and 15 minute load averages when the run started and ended. */
  loadAvgStart: number[];
  loadAvgEnd: number[];
  timer: { source: string; overheadNs: number; resolutionNs: number };
  addonBuildDir: string;
}

export interface RepetitionResult {
  index: number;
  pid: number;
  wallMs: number;
  /** metric name -> raw samples in the metric's unit */
  samples: Record<string, number[]>;
  stats: Record<string, Stats>;
  /** Trial-specific facts (device counters, timer overhead measured in the child ...). */
  extra: JsonObject;
}

export type TrialStatus = 'ok' | 'pending' | 'failed';

export interface TrialResult {
  name: string;
  label: string;
  path: DataPath;
  entry: string;
  params: JsonObject;
  size: TrialSize;
  metrics: MetricSpec[];
  measures: string;
  includes: string[];
  excludes: string[];
  status: TrialStatus;
  /** Why pending or failed. */
  reason?: string;
  repetitions: RepetitionResult[];
  /** Pooled over every repetition; empty unless status is ok. */
  stats: Record<string, Stats>;
}

export interface RatioResult {
  name: string;
  numerator: string;
  denominator: string;
  metric: string;
  stat: 'median' | 'min' | 'p99';
  meaning: string;
  /** stat(numerator pooled) / stat(denominator pooled); null when either was not measured. */
  value: number | null;
  /**
   * The same ratio per interleaved repetition pair (rep i of the numerator was run right
   * after rep i of the denominator): median, min and max over the pairs. Drift of a noisy
   * machine hits both halves of a pair alike, so this is the figure to trust.
   */
  paired: { median: number; min: number; max: number; pairs: number } | null;
  reason?: string;
}

export type ScenarioStatus = 'ran' | 'pending' | 'failed';

export interface ScenarioResult {
  name: string;
  title: string;
  description: string;
  status: ScenarioStatus;
  /** Set when status is pending: the components it waits for. */
  pending?: { needs: string[]; missing: string[]; reason: string; plan: string };
  trials: TrialResult[];
  ratios: RatioResult[];
}

export type GoalStatus = 'met' | 'missed' | 'not-measured' | 'open';

export interface GoalResult {
  id: string;
  text: string;
  op: '>=' | '<=' | '==';
  target: number;
  unit: string;
  /**
   * met / missed: decided by the figure the goal is about (or, for missed, by a bound that
   * already misses); open: only a bound was measured and it does not decide; not-measured.
   */
  status: GoalStatus;
  measured: number | null;
  /** Which figure `measured` is, e.g. "access/trap-roundtrip latency median". */
  basis: string;
  /** One sentence: how far the run is from the goal. */
  distance: string;
}

export interface BenchResult {
  schema: typeof RESULT_SCHEMA_ID;
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  runId: string;
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  argv: string[];
  machine: MachineInfo;
  scenarios: ScenarioResult[];
  goals: GoalResult[];
  warnings: string[];
}
