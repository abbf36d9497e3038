/**
 * Scenario `trapped`: the passthrough traffic of `passthrough` again, with BAR0 pages 2-3
 * trapped and the tail-trap tracker on, and the passthrough rows measured in the same run
 * (interleaved repetitions) so the report quotes trapped/passthrough ratios that stay
 * meaningful on a noisy machine. Pending until the guest runner, the vfio-user server and
 * the mediator's trapping exist.
 */
import type { ScenarioTable } from '../scenario-types.js';
import { BATCH_SIZES, trafficRows } from './passthrough.js';

const FRAMES = [64, 1518] as const;
const TRAP = { trapPages: [2, 3], tracker: 'tail-trap' };

const pt = trafficRows('passthrough', FRAMES, BATCH_SIZES);
const trap = trafficRows('trapped', FRAMES, BATCH_SIZES, TRAP);

export const trappedScenario: ScenarioTable = {
  name: 'trapped',
  title: 'Trapped vs passthrough throughput by batch size',
  description:
    'The same VF-to-VF traffic with passthrough doorbells and with BAR0 pages 2-3 trapped '
    + '(every doorbell a vfio-user REGION_WRITE through the mediator, tail-trap tracker on). '
    + 'Batching amortises the trap: the question is from which batch size the trapped path '
    + 'keeps up.',
  pending: {
    needs: ['guest-runner', 'vfio-user-server', 'mediator-trapping'],
    plan: 'passthrough and trapped rows interleaved in one run, 64 and 1514 B x batch 1..64',
  },
  trials: [...pt, ...trap],
  ratios: FRAMES.flatMap((f) => BATCH_SIZES.map((b) => ({
    name: `rate ${f} B batch ${b}: trapped / passthrough`,
    numerator: `trap-${f}b-b${b}`, denominator: `pt-${f}b-b${b}`, metric: 'rate', stat: 'median' as const,
    meaning: 'share of the passthrough frame rate the trapped path keeps',
  }))),
  charts: [
    { id: 'trapped-rate-vs-batch', title: 'Frame rate vs batch size, 64-byte frames: passthrough and trapped', kind: 'line',
      metric: 'rate', trials: [...pt, ...trap].filter((t) => t.params['frameBytes'] === 64).map((t) => t.name),
      x: 'batch', series: 'path', stat: 'median', logX: true },
  ],
};
