// The v2 migration FSM against the kernel's vfio_mig_get_next_state() behaviour, checked
// exhaustively for every (current, target) pair and every feature-flag combination. The
// oracles here are independent of the lookup table in mediator/migration/fsm.ts: the
// per-feature sets of arcs a driver must implement and the multi-step paths listed in the
// kernel's documentation of that function.
import { describe, expect, it } from 'vitest';
import { ALL_MIG_STATES, MigFlag, MigState as S, migStateName, nextState, pathTo, stateSupported } from '../../mediator/migration/fsm.js';
import { ArcRefusedError, MigrationFsm } from '../../mediator/migration/fsm-runner.js';
import { VfmedError } from '../../mediator/errors.js';

const SC = MigFlag.STOP_COPY, P2P = MigFlag.P2P, PRE = MigFlag.PRE_COPY;
const FLAG_SETS = [SC, SC | P2P, SC | PRE, SC | P2P | PRE];
const arc = (a: S, b: S) => `${migStateName(a)}->${migStateName(b)}`;

/** Arcs a driver with these flags implements (vfio.h / vfio_main.c documentation). */
function mandatoryArcs(flags: number): Set<string> {
  const arcs = new Set([arc(S.STOP, S.STOP_COPY), arc(S.STOP_COPY, S.STOP), arc(S.STOP, S.RESUMING), arc(S.RESUMING, S.STOP)]);
  const p2p = (flags & P2P) !== 0, pre = (flags & PRE) !== 0;
  if (p2p) {
    for (const a of [[S.RUNNING, S.RUNNING_P2P], [S.RUNNING_P2P, S.RUNNING], [S.RUNNING_P2P, S.STOP], [S.STOP, S.RUNNING_P2P]] as const) arcs.add(arc(a[0], a[1]));
  } else {
    arcs.add(arc(S.RUNNING, S.STOP)); arcs.add(arc(S.STOP, S.RUNNING));
  }
  if (pre && !p2p) {
    for (const a of [[S.RUNNING, S.PRE_COPY], [S.PRE_COPY, S.RUNNING], [S.PRE_COPY, S.STOP_COPY]] as const) arcs.add(arc(a[0], a[1]));
  }
  if (pre && p2p) {
    for (const a of [[S.PRE_COPY, S.RUNNING], [S.PRE_COPY, S.PRE_COPY_P2P], [S.PRE_COPY_P2P, S.PRE_COPY], [S.PRE_COPY_P2P, S.RUNNING_P2P],
      [S.PRE_COPY_P2P, S.STOP_COPY], [S.RUNNING, S.PRE_COPY], [S.RUNNING_P2P, S.PRE_COPY_P2P]] as const) arcs.add(arc(a[0], a[1]));
  }
  return arcs;
}

// The multi-step paths the kernel documents for a device supporting every feature.
const DOCUMENTED_FULL = `
PRE_COPY PRE_COPY_P2P STOP_COPY
PRE_COPY RUNNING RUNNING_P2P
PRE_COPY RUNNING RUNNING_P2P STOP
PRE_COPY RUNNING RUNNING_P2P STOP RESUMING
PRE_COPY_P2P RUNNING_P2P RUNNING
PRE_COPY_P2P RUNNING_P2P STOP
PRE_COPY_P2P RUNNING_P2P STOP RESUMING
RESUMING STOP RUNNING_P2P
RESUMING STOP RUNNING_P2P PRE_COPY_P2P
RESUMING STOP RUNNING_P2P RUNNING
RESUMING STOP RUNNING_P2P RUNNING PRE_COPY
RESUMING STOP STOP_COPY
RUNNING RUNNING_P2P PRE_COPY_P2P
RUNNING RUNNING_P2P STOP
RUNNING RUNNING_P2P STOP RESUMING
RUNNING RUNNING_P2P STOP STOP_COPY
RUNNING_P2P RUNNING PRE_COPY
RUNNING_P2P STOP RESUMING
RUNNING_P2P STOP STOP_COPY
STOP RUNNING_P2P PRE_COPY_P2P
STOP RUNNING_P2P RUNNING
STOP RUNNING_P2P RUNNING PRE_COPY
STOP_COPY STOP RESUMING
STOP_COPY STOP RUNNING_P2P
STOP_COPY STOP RUNNING_P2P RUNNING`.trim().split('\n').map((l) => l.trim().split(' ').map((n) => S[n as keyof typeof S]));

const isBlocked = (cur: S, target: S) => cur === S.STOP_COPY && (target === S.PRE_COPY || target === S.PRE_COPY_P2P);

describe('migration FSM next-step arcs', () => {
  for (const flags of FLAG_SETS) {
    const supported = ALL_MIG_STATES.filter((s) => s !== S.ERROR && stateSupported(flags, s));
    const arcs = mandatoryArcs(flags);

    it(`flags ${flags}: every pair reaches its target through mandatory arcs only, in at most 4 steps`, () => {
      let checked = 0;
      for (const cur of supported) {
        for (const target of supported) {
          const path = pathTo(flags, cur, target);
          if (isBlocked(cur, target)) {
            expect(Array.isArray(path), `${arc(cur, target)} must be refused`).toBe(false);
            continue;
          }
          expect(Array.isArray(path), `${arc(cur, target)}: ${JSON.stringify(path)}`).toBe(true);
          const steps = path as S[];
          let at = cur;
          for (const next of steps) {
            expect(arcs.has(arc(at, next)), `${arc(cur, target)} uses ${arc(at, next)}`).toBe(true);
            at = next;
          }
          expect(at).toBe(target);
          expect(steps.length).toBeLessThanOrEqual(4);
          checked++;
        }
      }
      expect(checked).toBeGreaterThanOrEqual(supported.length * supported.length - 2);
    });

    it(`flags ${flags}: every mandatory arc is used as a direct single step`, () => {
      for (const a of arcs) {
        const [from, to] = a.split('->').map((n) => S[n as keyof typeof S]) as [S, S];
        expect(nextState(flags, from, to)).toEqual({ ok: true, next: to });
      }
    });

    it(`flags ${flags}: unsupported states, ERROR and unknown numbers are EINVAL`, () => {
      for (const s of ALL_MIG_STATES) {
        if (supported.includes(s)) continue;
        for (const t of supported) {
          expect(nextState(flags, s, t).ok).toBe(false);
          expect(nextState(flags, t, s).ok).toBe(false);
        }
      }
      for (const bad of [-1, 8, 99, 2.5]) {
        expect(nextState(flags, S.RUNNING, bad).ok).toBe(false);
        expect(nextState(flags, bad, S.RUNNING).ok).toBe(false);
      }
    });
  }

  it('full feature set: the kernel-documented multi-step paths, step for step', () => {
    for (const [cur, ...rest] of DOCUMENTED_FULL) {
      const target = rest[rest.length - 1]!;
      expect(pathTo(SC | P2P | PRE, cur!, target), `${migStateName(cur!)} -> ${migStateName(target)}`).toEqual(rest);
    }
  });

  it('STOP_COPY -> PRE_COPY and -> PRE_COPY_P2P are refused at once (no loop)', () => {
    for (const flags of [SC | PRE, SC | P2P | PRE]) {
      for (const t of [S.PRE_COPY, S.PRE_COPY_P2P]) {
        if (!stateSupported(flags, t)) continue;
        const r = nextState(flags, S.STOP_COPY, t);
        expect(r).toMatchObject({ ok: false, errno: 'EINVAL' });
      }
    }
  });

  it('a device without STOP_COPY supports no state at all', () => {
    for (const flags of [0, P2P, PRE, P2P | PRE]) {
      for (const c of ALL_MIG_STATES) for (const t of ALL_MIG_STATES) expect(nextState(flags, c, t).ok).toBe(false);
    }
  });
});

describe('MigrationFsm runner', () => {
  it('executes one arc per step, in order', async () => {
    const seen: string[] = [];
    const fsm = new MigrationFsm(SC | P2P | PRE, (a, b) => { seen.push(arc(a, b)); });
    await fsm.setState(S.STOP_COPY);
    expect(seen).toEqual(['RUNNING->RUNNING_P2P', 'RUNNING_P2P->STOP', 'STOP->STOP_COPY']);
    expect(fsm.state).toBe(S.STOP_COPY);
  });

  it('an impossible request fails without calling the device', async () => {
    let calls = 0;
    const fsm = new MigrationFsm(SC | PRE, () => { calls++; });
    await fsm.setState(S.STOP_COPY);
    calls = 0;
    await expect(fsm.setState(S.PRE_COPY)).rejects.toMatchObject({ code: 'VFMED_ERR_MIG_STATE' });
    expect(calls).toBe(0);
    expect(fsm.state).toBe(S.STOP_COPY);
  });

  it('a refused arc leaves the device where it was; any other failure means ERROR until reset', async () => {
    const fsm = new MigrationFsm(SC | P2P, (a, b) => {
      if (a === S.RESUMING && b === S.STOP) throw new ArcRefusedError('VFMED_ERR_STREAM_CORRUPT', 'checksum mismatch');
      if (b === S.STOP_COPY) throw new VfmedError('VFMED_ERR_PF', 'PF save failed');
    });
    await fsm.setState(S.RESUMING);
    await expect(fsm.setState(S.RUNNING)).rejects.toBeInstanceOf(ArcRefusedError);
    expect(fsm.state).toBe(S.RESUMING);

    const fsm2 = new MigrationFsm(SC | P2P, (_a, b) => { if (b === S.STOP_COPY) throw new VfmedError('VFMED_ERR_PF', 'PF save failed'); });
    await expect(fsm2.setState(S.STOP_COPY)).rejects.toThrow('PF save failed');
    expect(fsm2.state).toBe(S.ERROR);
    await expect(fsm2.setState(S.RUNNING)).rejects.toMatchObject({ code: 'VFMED_ERR_MIG_STATE' });
    fsm2.reset();
    expect(fsm2.state).toBe(S.RUNNING);
  });

  it('rejects a concurrent state change', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const fsm = new MigrationFsm(SC, async () => { await gate; });
    const first = fsm.setState(S.STOP);
    await expect(fsm.setState(S.STOP_COPY)).rejects.toMatchObject({ code: 'VFMED_ERR_MIG_BUSY' });
    release();
    await first;
    expect(fsm.state).toBe(S.STOP);
  });
});
