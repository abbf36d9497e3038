/**
 * Scenario `migration`: live migration of a VF under traffic, per dirty tracker, RAM size
 * and traffic rate: downtime, total time, bytes sent and frames lost. Pending until
 * `vfmed migrate` (source and destination daemons) and the guest runner exist.
 */
import type { ScenarioTable } from '../scenario-types.js';
import { cross } from './matrix.js';

const rows = cross({ tracker: ['tail-trap', 'device-log', 'all'], ramMiB: [256, 1024], ratePps: [0, 1_000_000] })
  .map((p) => ({
    name: `mig-${p['tracker']}-${p['ramMiB']}m-${Number(p['ratePps']) / 1e6}mpps`,
    label: `${p['tracker']}, ${p['ramMiB']} MiB, ${Number(p['ratePps']) / 1e6} Mpps`,
    path: 'migration' as const,
    entry: 'migration',
    params: { ...p, frameBytes: 64, link: 'loopback-tcp' },
    size: { warmup: 0, samples: 1, repetitions: 5 },
    quick: { warmup: 0, samples: 1, repetitions: 1 },
    metrics: [
      { name: 'downtime', unit: 'ms' as const, better: 'lower' as const, description: 'source stopped to destination running' },
      { name: 'total', unit: 'ms' as const, better: 'lower' as const, description: 'migrate command to destination running' },
      { name: 'bytes', unit: 'bytes' as const, better: 'lower' as const, description: 'bytes sent source to destination' },
      { name: 'framesLost', unit: 'count' as const, better: 'lower' as const, description: 'frames sent by the peer never received by the migrated VF' },
    ],
    measures: 'one live migration of a VF under the given traffic',
    includes: ['pre-copy rounds of guest RAM', 'stop-copy of the VF state from the PF', 'resume on the destination'],
    excludes: ['daemon start-up'],
  }));

/** The charts show the loaded case (1 Mpps), the one the downtime goal is about. */
const at1Mpps = rows.filter((r) => (r.params as Record<string, unknown>)['ratePps'] === 1_000_000).map((r) => r.name);

export const migrationScenario: ScenarioTable = {
  name: 'migration',
  title: 'Live migration: downtime, total time, bytes and frames lost per tracker',
  description:
    'A VF under traffic migrated between two daemons over loopback TCP, for each dirty '
    + 'tracker, 256 MiB and 1 GiB of guest RAM, idle and at 1 Mpps.',
  pending: {
    needs: ['guest-runner', 'mediator-trapping', 'live-migration'],
    plan: 'per tracker x RAM size x rate: downtime, total time, bytes, frames lost (must be 0)',
  },
  trials: rows,
  ratios: [],
  charts: [
    { id: 'migration-downtime', title: 'Migration downtime per tracker at 1 Mpps', kind: 'grouped-bars', metric: 'downtime',
      trials: at1Mpps, category: 'tracker', series: 'ramMiB', stat: 'median' },
    { id: 'migration-bytes', title: 'Migration bytes per tracker at 1 Mpps', kind: 'grouped-bars', metric: 'bytes',
      trials: at1Mpps, category: 'tracker', series: 'ramMiB', stat: 'median' },
  ],
};
