/**
 * The registry of trial entry points: entry id (a trial row's `entry`) -> loader. Loaded
 * lazily so a child process imports only the entry it runs (and the addon only when that
 * entry needs the device).
 */
import type { TrialEntryPoint } from './protocol.js';

export const TRIAL_ENTRIES: Readonly<Record<string, () => Promise<TrialEntryPoint>>> = {
  access: async () => (await import('./access/access-trial.js')).accessTrial,
  traffic: async () => (await import('./traffic/traffic-trial.js')).trafficTrial,
  dirty: async () => (await import('./traffic/dirty-trial.js')).dirtyTrial,
  migration: async () => (await import('./migration/migration-trial.js')).migrationTrial,
  selftest: async () => (await import('./selftest-trial.js')).selftestTrial,
};

export async function loadEntry(id: string): Promise<TrialEntryPoint> {
  const load = TRIAL_ENTRIES[id];
  if (!load) throw new RangeError(`no trial entry point named ${JSON.stringify(id)}`);
  return load();
}
