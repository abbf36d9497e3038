/**
 * Scenario `trapped`: the VF-to-VF traffic of `passthrough` again, with BAR0 pages 2-3
 * trapped and the tail-trap tracker on, and the passthrough rows measured in the same run
 * (interleaved repetitions) so the report quotes trapped/passthrough ratios that stay
 * meaningful on a noisy machine; plus the latency distribution of one trapped store (the
 * guest's SIGSEGV to its resume: the vfio-user REGION_WRITE round trip, the mediator, the
 * tail-trap tracker and the device work of the doorbell).
 */
import type { ScenarioTable, TrialRow } from '../scenario-types.js';
import { trafficRows } from './passthrough.js';

const FRAMES = [64, 1514] as const;
/** The batch sizes of the issue (1 to 64 frames per doorbell). */
const BATCHES = [1, 4, 16, 32, 64] as const;
const TRAP = { trapPages: [2, 3], tracker: 'tail-trap' };

const pt = trafficRows('passthrough', FRAMES, BATCHES);
const trap = trafficRows('trapped', FRAMES, BATCHES, TRAP);
/** The same with the guests' trapped stores posted (vfio-user NO_REPLY), as QEMU's
 * vfio-user client can send them: the store returns at once, ordering is kept by the
 * connection. */
const posted = trafficRows('trapped', FRAMES, BATCHES, { ...TRAP, postedWrites: true });

const storeLatency: TrialRow = {
  name: 'trap-store-latency',
  label: 'trapped store (guest SIGSEGV to resume)',
  path: 'trapped',
  entry: 'traffic',
  params: { path: 'trapped', frameBytes: 64, batch: 32, loopback: 'vf-to-vf', measure: 'store-latency', ...TRAP },
  size: { warmup: 2000, samples: 20000, repetitions: 3 },
  quick: { warmup: 200, samples: 2000, repetitions: 1 },
  metrics: [{ name: 'latency', unit: 'ns', better: 'lower', description: 'one trapped BAR0 store of the guest, SIGSEGV to resume' }],
  measures: 'the wall-clock time of one trapped doorbell store of the sending guest during batch-32 traffic',
  includes: ['the SIGSEGV and instruction decode of the MMIO trap', 'the vfio-user REGION_WRITE and its reply over the socket',
    'the dispatcher, the mediate handle and the tail-trap tracker (harvest, reading posted RX descriptors)',
    'the device work of the doorbell (TX of the burst, or RX refill)'],
  excludes: ['stores that did not trap (the guest never stores to pages 0-1 on its datapath)'],
};

export const trappedScenario: ScenarioTable = {
  name: 'trapped',
  title: 'Trapped vs passthrough throughput by batch size',
  description:
    'The same VF-to-VF traffic with passthrough doorbells and with BAR0 pages 2-3 trapped '
    + '(every doorbell a vfio-user REGION_WRITE through the mediator, tail-trap tracker on). '
    + 'Batching amortises the trap: the question is from which batch size the trapped path '
    + 'keeps up. Also the latency distribution of one trapped store.',
  trials: [...pt, ...trap, ...posted, storeLatency],
  ratios: FRAMES.flatMap((f) => BATCHES.flatMap((b) => [{
    name: `rate ${f} B batch ${b}: trapped / passthrough`,
    numerator: `trap-${f}b-b${b}`, denominator: `pt-${f}b-b${b}`, metric: 'rate', stat: 'median' as const,
    meaning: 'share of the passthrough frame rate the trapped path keeps',
  }, {
    name: `rate ${f} B batch ${b}: trapped (posted writes) / passthrough`,
    numerator: `trapp-${f}b-b${b}`, denominator: `pt-${f}b-b${b}`, metric: 'rate', stat: 'median' as const,
    meaning: 'share of the passthrough frame rate the trapped path keeps when its doorbells are posted',
  }])),
  charts: [
    { id: 'trapped-rate-vs-batch', title: 'Frame rate vs batch size, 64-byte frames: passthrough and trapped', kind: 'line',
      metric: 'rate', trials: [...pt, ...trap].filter((t) => t.params['frameBytes'] === 64).map((t) => t.name),
      x: 'batch', series: 'path', stat: 'median', logX: true },
    { id: 'trapped-posted-rate-vs-batch', title: 'Frame rate vs batch size, 64-byte frames: passthrough and trapped with posted writes',
      kind: 'line', metric: 'rate', trials: [...pt, ...posted].filter((t) => t.params['frameBytes'] === 64).map((t) => t.name),
      x: 'batch', series: 'path', stat: 'median', logX: true },
    { id: 'trapped-rate-vs-batch-1514', title: 'Frame rate vs batch size, 1514-byte frames: passthrough and trapped', kind: 'line',
      metric: 'rate', trials: [...pt, ...trap].filter((t) => t.params['frameBytes'] === 1514).map((t) => t.name),
      x: 'batch', series: 'path', stat: 'median', logX: true },
    { id: 'trapped-store-latency', title: 'Latency of one trapped store (guest SIGSEGV to resume)', kind: 'histogram',
      metric: 'latency', trials: ['trap-store-latency'] },
  ],
};
