/**
 * The vocabulary of benchmark scenarios. A scenario is data, not a code path: a table of
 * trials (name, trial entry point, JSON parameters, warm-up, samples, repetitions, the
 * metrics each sample carries and what the measurement does and does not include), the
 * ratios the report quotes, and the charts it draws. The harness (bench/harness/) runs any
 * table the same way: each repetition of each trial in a fresh child process that runs the
 * named trial entry point (bench/trials/) and returns samples as JSON.
 *
 * Adding a scenario = a table in bench/scenarios/ + a trial entry point in bench/trials/
 * (+ one line in each registry). A scenario (or a single trial row) whose components do not
 * exist yet is declared `pending` with the components it needs; it is listed, never run,
 * never faked.
 */

/** JSON-compatible values (trial parameters and extras cross a process boundary as JSON). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

/** Which side of the mediation a trial measures; drives colours and ratio pairing. */
export type DataPath = 'passthrough' | 'trapped' | 'tracker' | 'migration';

export type Better = 'lower' | 'higher';

/** Units a metric may have. Samples are stored in this unit, unscaled. */
export type Unit = 'ns' | 'ms' | 'pps' | 'bytes' | 'percent' | 'count' | 'bps';

export interface MetricSpec {
  /** Key in the trial's sample record, e.g. 'latency'. */
  name: string;
  unit: Unit;
  better: Better;
  /** One line for the report: what one sample of this metric is. */
  description: string;
}

/** How big a trial is. Every repetition is a fresh process: warm-up, then samples. */
export interface TrialSize {
  /** Iterations run and discarded before sampling (JIT, caches, device thread spinning). */
  warmup: number;
  /** Samples kept per repetition. */
  samples: number;
  /** Fresh processes (each one does warm-up + samples). */
  repetitions: number;
}

/** Components a pending scenario or trial waits for. Keys of COMPONENTS (components.ts). */
export type ComponentId =
  | 'guest-runner'
  | 'vfio-user-server'
  | 'mediator-trapping'
  | 'live-migration';

export interface Pending {
  needs: ComponentId[];
  /** What will be measured once the components exist (shown by `vfmed bench --list`). */
  plan: string;
}

export interface TrialRow {
  /** Unique within the scenario; kebab-case. */
  name: string;
  /** Short human label (table rows, chart legends). */
  label: string;
  path: DataPath;
  /** Trial entry point id (bench/trials/index.ts). */
  entry: string;
  params: JsonObject;
  size: TrialSize;
  /** Overrides for --quick (a couple of minutes for every ready scenario together). */
  quick: TrialSize;
  /** Parameters replaced under --quick (e.g. a smaller guest RAM); the result records the
   * parameters actually used and the label says so. */
  quickParams?: JsonObject;
  metrics: MetricSpec[];
  /** What one sample measures, in one sentence. */
  measures: string;
  /** Costs that are part of every sample. */
  includes: string[];
  /** Costs that are not, so nobody reads the number as something it is not. */
  excludes: string[];
  /** Declared but not runnable yet: listed in the report with its reason. */
  pending?: Pending;
  /** Wall-clock limit per repetition (child process), seconds. Default 120. */
  timeoutSec?: number;
}

/** A ratio the report quotes: numerator / denominator of one metric's statistic. */
export interface RatioSpec {
  name: string;
  numerator: string;
  denominator: string;
  metric: string;
  stat: 'median' | 'min' | 'p99';
  /** What the ratio means, e.g. "how many times slower a trapped doorbell is". */
  meaning: string;
}

/**
 * Charts are declared too. Kinds:
 *  - histogram: distribution of one metric for several trials, log-spaced bins;
 *  - bars: one statistic (with min..p99 range) of one metric per trial;
 *  - line: a statistic against a numeric trial parameter (x), one series per value of a
 *    grouping (`series`: a parameter name or 'path').
 *  - grouped-bars: a statistic per value of a category parameter, one bar per series.
 */
export type ChartSpec =
  | { id: string; title: string; kind: 'histogram'; metric: string; trials: string[] }
  | { id: string; title: string; kind: 'bars'; metric: string; trials: string[]; stat: 'median' }
  | { id: string; title: string; kind: 'line'; metric: string; trials: string[]; x: string; series: string;
      stat: 'median'; logX?: boolean }
  | { id: string; title: string; kind: 'grouped-bars'; metric: string; trials: string[]; category: string;
      series: string; stat: 'median' };

export interface ScenarioTable {
  name: string;
  title: string;
  /** A paragraph: what question the scenario answers. */
  description: string;
  /** The whole scenario waits for components that are not built. */
  pending?: Pending;
  trials: TrialRow[];
  ratios: RatioSpec[];
  charts: ChartSpec[];
}

export function isPendingRow(s: ScenarioTable, t: TrialRow): boolean {
  return s.pending !== undefined || t.pending !== undefined;
}
