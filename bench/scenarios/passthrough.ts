/**
 * Scenario `passthrough`: frame rate of a VF pair whose doorbells are passthrough, swept
 * over frame size and batch size. The traffic is generated and verified by the guest
 * runner's poll-mode driver (vfmed-guest, two processes, VF to VF over the emulated
 * switch); entry point `traffic` (bench/trials/traffic/).
 */
import type { MetricSpec, ScenarioTable, TrialRow } from '../scenario-types.js';
import { cross } from './matrix.js';

export const FRAME_SIZES = [64, 512, 1514] as const;
export const BATCH_SIZES = [1, 4, 8, 16, 32, 64] as const;

export const RATE: MetricSpec = {
  name: 'rate', unit: 'pps', better: 'higher',
  description: 'frames received back (verified) by the sending VF per second over one 100 ms window',
};

export const THROUGHPUT: MetricSpec = {
  name: 'throughput', unit: 'bps', better: 'higher',
  description: 'rate x frame size with FCS x 8, per direction (every frame crosses the switch VF0->VF1 and back)',
};

/** Rows of the traffic entry point for one data path (shared with the trapped scenario). */
export function trafficRows(path: 'passthrough' | 'trapped', frames: readonly number[],
  batches: readonly number[], extra: Record<string, string | number | boolean | number[]> = {}): TrialRow[] {
  const posted = extra['postedWrites'] === true;
  const prefix = path === 'passthrough' ? 'pt' : posted ? 'trapp' : 'trap';
  return cross({ frameBytes: [...frames], batch: [...batches] }).map((p) => ({
    name: `${prefix}-${p['frameBytes']}b-b${p['batch']}`,
    label: `${path}${posted ? ' (posted writes)' : ''} ${p['frameBytes']} B, batch ${p['batch']}`,
    path,
    entry: 'traffic',
    params: { ...p, path, loopback: 'vf-to-vf', ...extra },
    size: { warmup: 5, samples: 30, repetitions: 3 },
    quick: { warmup: 1, samples: 3, repetitions: 1 },
    metrics: [RATE, THROUGHPUT],
    measures: `frames of ${p['frameBytes']} bytes sent in batches of ${p['batch']} between two VFs by the guest runner`,
    includes: ['the guest poll-mode driver (descriptor writes, doorbells, DD polling, refill)',
      'device TX and RX DMA and the L2 switch', path === 'trapped'
        ? `a trapped doorbell per batch: SIGSEGV, vfio-user REGION_WRITE${posted ? ' sent NO_REPLY (posted)' : ' and its reply'}, mediator and tail-trap tracker, the device work done inside the write`
        : 'a passthrough doorbell per batch (a store the device polls)'],
    excludes: ['the device-side cost of the vfio-user server when nothing traps (it is idle then)',
      'pacing: the generator is unpaced, the rate is what the two guests and the device sustain'],
  }));
}

export const passthroughScenario: ScenarioTable = {
  name: 'passthrough',
  title: 'Passthrough throughput and latency by frame size and batch size',
  description:
    'A VF pair driven by the guest runner with passthrough doorbells: the ceiling the trapped '
    + 'path is compared with.',
  trials: trafficRows('passthrough', FRAME_SIZES, BATCH_SIZES),
  ratios: [],
  charts: [
    { id: 'passthrough-rate-vs-batch', title: 'Passthrough frame rate vs batch size', kind: 'line', metric: 'rate',
      trials: trafficRows('passthrough', FRAME_SIZES, BATCH_SIZES).map((t) => t.name), x: 'batch', series: 'frameBytes',
      stat: 'median', logX: true },
    { id: 'passthrough-throughput', title: 'Passthrough throughput by frame size, batch 32', kind: 'bars', metric: 'throughput',
      stat: 'median', trials: FRAME_SIZES.map((f) => `pt-${f}b-b32`) },
  ],
};
