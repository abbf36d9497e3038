/**
 * Scenario `passthrough`: the frame rate of one VF pair with passthrough doorbells, guest
 * runner to guest runner through the NIC's switch (entry `traffic`,
 * bench/trials/traffic/traffic-trial.ts): 64-byte frames at several batch sizes, and
 * 512- and 1518-byte (full 1500-byte MTU) frames at batch 32. The ceiling the trapped path
 * is compared with.
 *
 * frameBytes counts the frame on the wire with its FCS, as the access scenario does: 64 is
 * a minimum Ethernet frame (60 bytes in the descriptor), 1518 a full-MTU one (1514).
 */
import type { MetricSpec, ScenarioTable, TrialRow } from '../scenario-types.js';
import { cross } from './matrix.js';

export const FRAME_SIZES = [64, 512, 1518] as const;
export const BATCH_SIZES = [1, 4, 8, 16, 32, 64] as const;

export const RATE: MetricSpec = {
  name: 'rate', unit: 'pps', better: 'higher',
  description: 'frames sent by one guest and received and verified by the other, per second, over one 100 ms window',
};
export const THROUGHPUT: MetricSpec = {
  name: 'throughput', unit: 'bps', better: 'higher',
  description: 'rate x frame size with FCS x 8 (no preamble, no inter-frame gap)',
};

/** Rows of the traffic entry point for one data path (shared with the trapped scenario). */
export function trafficRows(path: 'passthrough' | 'trapped', frames: readonly number[],
  batches: readonly number[], extra: Record<string, string | number | boolean | number[]> = {}): TrialRow[] {
  return cross({ frameBytes: [...frames], batch: [...batches] }).map((p) => ({
    name: `${path === 'passthrough' ? 'pt' : 'trap'}-${p['frameBytes']}b-b${p['batch']}`,
    label: `${path} ${p['frameBytes']} B, batch ${p['batch']}`,
    path,
    entry: 'traffic',
    params: { ...p, path, loopback: 'vf-to-vf', ...extra },
    size: { warmup: 3, samples: 20, repetitions: 3 },
    quick: { warmup: 1, samples: 3, repetitions: 1 },
    metrics: [RATE, THROUGHPUT],
    measures: `${p['frameBytes']}-byte frames from a txgen guest runner on VF0 to an rxsink guest runner on VF1, `
      + `bursts of ${p['batch']} (one doorbell per burst), per 100 ms window of the receiver`,
    includes: ['two vfmed-guest processes: poll-mode driver, descriptor writes, doorbells, DD polling, refill',
      'frame generation and per-frame verification (sequence number, CRC-32 trailer)',
      'device TX and RX DMA, the RX FIFO and the L2 switch (device thread)', path === 'trapped'
        ? 'a trapped doorbell per burst: SIGSEGV, vfio-user REGION_WRITE, the daemon, the reply'
        : 'a passthrough doorbell per burst (a store the device finds by polling)'],
    excludes: ['bring-up (vfio-user handshake, reset, mailbox) and the first partial window',
      ...(path === 'trapped' ? ["the mediator's tail-trap tracker (not in the path yet)"] : [])],
    ...(path === 'trapped' ? {
      pending: { needs: ['guest-runner', 'vfio-user-server', 'mediator-trapping'],
        plan: 'the same traffic with BAR0 pages 2-3 trapped by the mediator and the tail-trap tracker running' },
    } : {}),
  }));
}

const ROWS: TrialRow[] = [
  ...trafficRows('passthrough', [64], [1, 8, 32]),
  ...trafficRows('passthrough', [512, 1518], [32]),
];

export const passthroughScenario: ScenarioTable = {
  name: 'passthrough',
  title: 'Passthrough throughput of one VF pair, guest runner to guest runner',
  description:
    'Two guest runner processes (vfmed-guest) on two VFs of the daemon, doorbells passthrough: '
    + 'frame rate and throughput by frame size and batch size. The ceiling the trapped path is compared with.',
  trials: ROWS,
  ratios: [],
  charts: [
    { id: 'passthrough-rate-vs-batch', title: 'Passthrough frame rate vs batch size, 64-byte frames', kind: 'line',
      metric: 'rate', trials: ['pt-64b-b1', 'pt-64b-b8', 'pt-64b-b32'], x: 'batch', series: 'frameBytes',
      stat: 'median', logX: true },
    { id: 'passthrough-throughput', title: 'Passthrough throughput by frame size, batch 32', kind: 'bars',
      metric: 'throughput', stat: 'median', trials: ['pt-64b-b32', 'pt-512b-b32', 'pt-1518b-b32'] },
  ],
};
