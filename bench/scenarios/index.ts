/**
 * The registry of benchmark scenarios, in the order `vfmed bench` runs and reports them.
 * Adding a scenario: write its table next to these, list it here, and register its trial
 * entry point in ../trials/index.ts.
 */
import type { ScenarioTable } from '../scenario-types.js';
import { accessScenario } from './access.js';
import { dirtyScenario } from './dirty.js';
import { migrationScenario } from './migration.js';
import { passthroughScenario } from './passthrough.js';
import { trappedScenario } from './trapped.js';

export const SCENARIOS: readonly ScenarioTable[] = [
  passthroughScenario,
  trappedScenario,
  dirtyScenario,
  migrationScenario,
  accessScenario,
];

export function findScenario(name: string): ScenarioTable | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
