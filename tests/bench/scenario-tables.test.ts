// Consistency of the scenario tables, the goals and the registries (a table is data, so
// these checks are what keeps it honest): unique names, every runnable row has a
// registered entry point that accepts its parameters, every ratio, chart and goal names
// trials that exist, pending declarations name known components, quick sizes are smaller.
import { describe, expect, it } from 'vitest';
import { COMPONENTS } from '../../bench/components.js';
import { GOALS } from '../../bench/goals.js';
import { validateTables } from '../../bench/harness/runner.js';
import { SCENARIOS } from '../../bench/scenarios/index.js';
import { TRIAL_ENTRIES } from '../../bench/trials/index.js';

describe('scenario tables', () => {
  it('have unique scenario names and unique trial names within each', () => {
    expect(new Set(SCENARIOS.map((s) => s.name)).size).toBe(SCENARIOS.length);
    for (const s of SCENARIOS) expect(new Set(s.trials.map((t) => t.name)).size, s.name).toBe(s.trials.length);
  });

  it('declare every issue scenario: passthrough, trapped, dirty, migration, access', () => {
    expect(SCENARIOS.map((s) => s.name).sort()).toEqual(['access', 'dirty', 'migration', 'passthrough', 'trapped']);
  });

  it('give every runnable row a registered entry point that accepts its parameters', async () => {
    for (const s of SCENARIOS.filter((x) => !x.pending)) {
      for (const t of s.trials.filter((x) => !x.pending)) expect(TRIAL_ENTRIES[t.entry], `${s.name}/${t.name}`).toBeDefined();
    }
    await expect(validateTables(SCENARIOS)).resolves.toBeUndefined();
  });

  it('reference only existing trials in ratios and charts, and existing metrics', () => {
    for (const s of SCENARIOS) {
      const names = new Set(s.trials.map((t) => t.name));
      for (const r of s.ratios) {
        expect(names.has(r.numerator) && names.has(r.denominator), `${s.name}: ${r.name}`).toBe(true);
      }
      for (const c of s.charts) {
        for (const t of c.trials) {
          expect(names.has(t), `${s.name}/${c.id}: ${t}`).toBe(true);
          expect(s.trials.find((x) => x.name === t)!.metrics.some((m) => m.name === c.metric)).toBe(true);
        }
      }
    }
  });

  it('divide a trapped row by a passthrough row (or by a cheaper trapped one), or two migration rows, of the same scenario', () => {
    for (const s of SCENARIOS) {
      for (const r of s.ratios) {
        const [num, den] = [r.numerator, r.denominator].map((n) => s.trials.find((t) => t.name === n)!.path);
        if (num === 'migration') {
          expect(den, `${s.name}: ${r.name}`).toBe('migration');
          continue;
        }
        expect(num, `${s.name}: ${r.name}`).toBe('trapped');
        expect(['passthrough', 'trapped'], `${s.name}: ${r.name}`).toContain(den);
      }
    }
  });

  it('declare pending with known components, and quick sizes no larger than full ones', () => {
    for (const s of SCENARIOS) {
      for (const p of [s.pending, ...s.trials.map((t) => t.pending)]) {
        for (const c of p?.needs ?? []) expect(COMPONENTS[c]).toBeDefined();
      }
      for (const t of s.trials) {
        expect(t.quick.samples).toBeLessThanOrEqual(t.size.samples);
        expect(t.quick.repetitions).toBeLessThanOrEqual(t.size.repetitions);
        expect(t.includes.length && t.excludes.length, `${s.name}/${t.name}`).toBeTruthy();
      }
    }
  });

  it('have goals that name existing scenarios, trials and ratios', () => {
    for (const g of GOALS) {
      for (const m of [g.measure, g.bound?.measure].filter((x) => x !== undefined)) {
        const s = SCENARIOS.find((x) => x.name === m.scenario);
        expect(s, g.id).toBeDefined();
        if (m.kind === 'ratio') expect(s!.ratios.some((r) => r.name === m.ratio), g.id).toBe(true);
        else for (const t of m.kind === 'trial' ? [m.trial] : m.trials) expect(s!.trials.some((x) => x.name === t), `${g.id}: ${t}`).toBe(true);
      }
    }
  });
});
