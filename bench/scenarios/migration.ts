/**
 * Scenario `migration`: one live migration of a running guest and its VF between two hosts
 * (bench/trials/migration/migration-trial.ts), per dirty tracker, guest RAM size and
 * traffic rate: downtime, total time, bytes sent (also as a share of RAM) and frames lost
 * or duplicated.
 */
import type { MetricSpec, ScenarioTable } from '../scenario-types.js';
import { cross } from './matrix.js';

const TRACKERS = ['tail-trap', 'device-log', 'all'] as const;
const RATES = [0, 100_000, 1_000_000] as const;

const METRICS: MetricSpec[] = [
  { name: 'downtime', unit: 'ms', better: 'lower', description: 'source CPU paused to the destination confirmed running' },
  { name: 'total', unit: 'ms', better: 'lower', description: 'migrate request to completed' },
  { name: 'bytes', unit: 'bytes', better: 'lower', description: 'bytes the source sent (RAM pages, device state, framing)' },
  { name: 'ramMultiple', unit: 'percent', better: 'lower', description: 'bytes sent as a share of guest RAM' },
  { name: 'framesLost', unit: 'count', better: 'lower', description: "frames of the guest's own stream never received" },
  { name: 'framesDuplicated', unit: 'count', better: 'lower', description: "frames of the guest's own stream received twice" },
  { name: 'sourceRate', unit: 'pps', better: 'higher', description: 'frames/s the guest sent just before the migration (the rate is offered; the fabric paces a faster sender)' },
];

function mpps(r: number): string {
  return r === 0 ? 'idle' : `${r / 1e6} Mpps`;
}

const rows = cross({ tracker: [...TRACKERS], ramMiB: [256, 1024], ratePps: [...RATES] })
  .map((p) => ({
    name: `mig-${p['tracker']}-${p['ramMiB']}m-${Number(p['ratePps']) === 0 ? 'idle' : `${Number(p['ratePps']) / 1e6}mpps`}`,
    label: `${p['tracker']}, ${p['ramMiB']} MiB, ${mpps(Number(p['ratePps']))}`,
    path: 'migration' as const,
    entry: 'migration',
    params: { ...p, frameBytes: 64, downtimeLimitMs: 50, link: 'fabric' },
    size: { warmup: 0, samples: 1, repetitions: 3 },
    quick: { warmup: 0, samples: 1, repetitions: 1 },
    /** --quick checks the harness in CI: every row, at 64 MiB of guest RAM. */
    quickParams: { ramMiB: 64 },
    metrics: METRICS,
    measures: 'one live migration of a running guest (loopback traffic at the rate, or idle) and its VF to a second host over TCP',
    includes: ['pre-copy rounds of guest RAM (random contents) with CPU and device dirty pages',
      'stop-copy of the VF state from the PF driver', 'loading RAM and the VF state on the destination and resuming it',
      'the confirmation back to the source (downtime is measured by the source up to it)'],
    excludes: ['daemon and guest start-up', 'RAM verification hashing (not requested)',
      'a real network: both hosts run on this machine, the stream crosses 127.0.0.1'],
    timeoutSec: 300,
  }));

const byRate = (rate: number): string[] => rows.filter((r) => (r.params as Record<string, unknown>)['ratePps'] === rate).map((r) => r.name);

export const migrationScenario: ScenarioTable = {
  name: 'migration',
  title: 'Live migration: downtime, total time, bytes and frames lost per tracker',
  description:
    'A running guest and its VF migrated between two hosts (two emulated NICs joined by a '
    + 'lossless fabric, the stream over TCP) for each dirty tracker, 256 MiB and 1 GiB of guest '
    + 'RAM, idle and with 0.1 and 1 Mpps of 64-byte loopback traffic. Pre-copy converges to a '
    + '50 ms downtime limit.',
  trials: rows,
  ratios: [256, 1024].flatMap((ram) => [{
    name: `${ram} MiB at 1 Mpps: bytes, all / tail-trap`,
    numerator: `mig-all-${ram}m-1mpps`, denominator: `mig-tail-trap-${ram}m-1mpps`, metric: 'bytes', stat: 'median' as const,
    meaning: 'how much more the all-dirty tracker sends than tail-trap',
  }, {
    name: `${ram} MiB at 1 Mpps: downtime, all / tail-trap`,
    numerator: `mig-all-${ram}m-1mpps`, denominator: `mig-tail-trap-${ram}m-1mpps`, metric: 'downtime', stat: 'median' as const,
    meaning: 'how much longer the guest stops with the all-dirty tracker',
  }]),
  charts: [
    { id: 'migration-downtime', title: 'Migration downtime per tracker at 1 Mpps', kind: 'grouped-bars', metric: 'downtime',
      trials: byRate(1_000_000), category: 'tracker', series: 'ramMiB', stat: 'median' },
    { id: 'migration-bytes', title: 'Migration bytes (% of RAM) per tracker at 1 Mpps', kind: 'grouped-bars', metric: 'ramMultiple',
      trials: byRate(1_000_000), category: 'tracker', series: 'ramMiB', stat: 'median' },
    { id: 'migration-downtime-idle', title: 'Migration downtime per tracker, idle guest', kind: 'grouped-bars', metric: 'downtime',
      trials: byRate(0), category: 'tracker', series: 'ramMiB', stat: 'median' },
  ],
};
