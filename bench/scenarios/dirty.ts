/**
 * Scenario `dirty`: how well each dirty-page tracker knows which guest pages the device
 * wrote, against the device's ground-truth write log (nic.truthRead), and what a report
 * costs. Trackers: tail-trap (mediate ops), device-log (PF admin dirty log) and all
 * ("everything mapped is dirty", QEMU's fallback). The traffic comes from the wire into a
 * vfmed-guest that forwards it back; entry point `dirty` (bench/trials/traffic/).
 */
import type { ScenarioTable, TrialRow } from '../scenario-types.js';

const TRACKERS = ['tail-trap', 'device-log', 'all'] as const;

const rows: TrialRow[] = TRACKERS.map((tracker) => ({
  name: `dirty-${tracker}`,
  label: `${tracker} tracker`,
  path: 'tracker',
  entry: 'dirty',
  params: { tracker, ramMiB: 256, ratePps: 50_000, frameBytes: 512, syncIntervalMs: 50 },
  size: { warmup: 1, samples: 40, repetitions: 3 },
  quick: { warmup: 0, samples: 5, repetitions: 1 },
  metrics: [
    { name: 'recall', unit: 'percent', better: 'higher', description: 'truly written pages the report contains, per sync (VF quiesced at the sync)' },
    { name: 'precision', unit: 'percent', better: 'higher', description: 'reported pages the device really wrote, per sync' },
    { name: 'reportCost', unit: 'ns', better: 'lower', description: 'time of one DMA_LOGGING_REPORT over all of guest RAM' },
  ],
  measures: 'one sync (report) of the dirty bitmap while RX traffic lands in guest RAM',
  includes: ['the tracker bookkeeping on the datapath', 'the report call and the bitmap fold to the page size'],
  excludes: ['guest CPU writes (only device DMA is tracked here)', 'the quiesce/resume around each sync (not in reportCost)'],
}));

export const dirtyScenario: ScenarioTable = {
  name: 'dirty',
  title: 'Dirty-page tracking: recall, precision and report cost per tracker',
  description:
    'RX traffic (50 kpps from the wire, forwarded back) into a 256 MiB guest while each tracker reports every 50 ms; every report is '
    + 'compared page by page with the device ground-truth log. Recall must be 100 % for every '
    + 'tracker (a missed page is corrupted guest memory after migration); precision is what '
    + 'decides how many bytes pre-copy resends.',
  trials: rows,
  ratios: [],
  charts: [
    { id: 'dirty-precision', title: 'Dirty precision per tracker (recall must stay 100 %)', kind: 'grouped-bars',
      metric: 'precision', trials: rows.map((r) => r.name), category: 'tracker', series: 'ramMiB', stat: 'median' },
  ],
};
