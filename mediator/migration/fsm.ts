/**
 * The VFIO v2 migration state machine (include/uapi/linux/vfio.h, enum
 * vfio_device_mig_state), as a lookup table with the same next-step behaviour as the Linux
 * kernel's vfio_mig_get_next_state(): a request for any (current, target) pair is broken
 * into single arcs, and the device driver only ever executes one arc at a time.
 *
 * Arcs a driver implements, by supported feature flags (the "mandatory arcs"):
 *
 *   always        STOP -> STOP_COPY, STOP_COPY -> STOP, STOP -> RESUMING, RESUMING -> STOP
 *   no P2P        RUNNING -> STOP, STOP -> RUNNING
 *   P2P           RUNNING <-> RUNNING_P2P, RUNNING_P2P <-> STOP
 *   PRE_COPY      RUNNING <-> PRE_COPY, PRE_COPY -> STOP_COPY            (without P2P)
 *   P2P+PRE_COPY  RUNNING <-> PRE_COPY, PRE_COPY <-> PRE_COPY_P2P,
 *                 RUNNING_P2P <-> PRE_COPY_P2P, PRE_COPY_P2P -> STOP_COPY
 *
 * STOP_COPY -> PRE_COPY(_P2P) is refused with EINVAL at once. ERROR is never a target and is
 * left only by DEVICE_RESET (reset()).
 */

/** Numeric values are the uAPI's (and vfio-user's, which reuses them). */
export enum MigState {
  ERROR = 0,
  STOP = 1,
  RUNNING = 2,
  STOP_COPY = 3,
  RESUMING = 4,
  RUNNING_P2P = 5,
  PRE_COPY = 6,
  PRE_COPY_P2P = 7,
}

/** VFIO_MIGRATION_* feature flags. */
export const MigFlag = {
  STOP_COPY: 1 << 0,
  P2P: 1 << 1,
  PRE_COPY: 1 << 2,
} as const;

export const ALL_MIG_STATES: readonly MigState[] = [
  MigState.ERROR, MigState.STOP, MigState.RUNNING, MigState.STOP_COPY,
  MigState.RESUMING, MigState.RUNNING_P2P, MigState.PRE_COPY, MigState.PRE_COPY_P2P,
];

export function migStateName(s: MigState): string {
  return MigState[s] ?? `UNKNOWN(${s as number})`;
}

/** Feature flags a state needs before a device may be in it (ERROR: never enterable). */
function flagsNeeded(s: MigState): number {
  switch (s) {
    case MigState.PRE_COPY: return MigFlag.STOP_COPY | MigFlag.PRE_COPY;
    case MigState.PRE_COPY_P2P: return MigFlag.STOP_COPY | MigFlag.P2P | MigFlag.PRE_COPY;
    case MigState.RUNNING_P2P: return MigFlag.STOP_COPY | MigFlag.P2P;
    case MigState.ERROR: return ~0 >>> 0;
    default: return MigFlag.STOP_COPY;
  }
}

export function stateSupported(flags: number, s: MigState): boolean {
  const need = flagsNeeded(s);
  return ((flags & need) >>> 0) === need;
}

const S = MigState;
/**
 * NEXT[cur][target] = the next state on the way from cur to target when every optional
 * feature is supported. Unsupported intermediate states are skipped over by nextState(),
 * which re-looks-up from the skipped state — that is how the same table serves every
 * feature combination. ERROR in a cell means "no way there".
 *
 *   Row order and column order: ERROR, STOP, RUNNING, STOP_COPY, RESUMING, RUNNING_P2P,
 *   PRE_COPY, PRE_COPY_P2P.
 */
const NEXT: readonly (readonly MigState[])[] = [
  /* ERROR        */ [S.ERROR, S.ERROR, S.ERROR, S.ERROR, S.ERROR, S.ERROR, S.ERROR, S.ERROR],
  /* STOP         */ [S.ERROR, S.STOP, S.RUNNING_P2P, S.STOP_COPY, S.RESUMING, S.RUNNING_P2P, S.RUNNING_P2P, S.RUNNING_P2P],
  /* RUNNING      */ [S.ERROR, S.RUNNING_P2P, S.RUNNING, S.RUNNING_P2P, S.RUNNING_P2P, S.RUNNING_P2P, S.PRE_COPY, S.RUNNING_P2P],
  /* STOP_COPY    */ [S.ERROR, S.STOP, S.STOP, S.STOP_COPY, S.STOP, S.STOP, S.ERROR, S.ERROR],
  /* RESUMING     */ [S.ERROR, S.STOP, S.STOP, S.STOP, S.RESUMING, S.STOP, S.STOP, S.STOP],
  /* RUNNING_P2P  */ [S.ERROR, S.STOP, S.RUNNING, S.STOP, S.STOP, S.RUNNING_P2P, S.RUNNING, S.PRE_COPY_P2P],
  /* PRE_COPY     */ [S.ERROR, S.RUNNING, S.RUNNING, S.PRE_COPY_P2P, S.RUNNING, S.RUNNING, S.PRE_COPY, S.PRE_COPY_P2P],
  /* PRE_COPY_P2P */ [S.ERROR, S.RUNNING_P2P, S.RUNNING_P2P, S.STOP_COPY, S.RUNNING_P2P, S.RUNNING_P2P, S.PRE_COPY, S.PRE_COPY_P2P],
];

export type NextStep = { ok: true; next: MigState } | { ok: false; errno: 'EINVAL'; reason: string };

function isState(v: number): v is MigState {
  return Number.isInteger(v) && v >= 0 && v < NEXT.length;
}

/**
 * The next single arc from `cur` towards `target` for a device supporting `flags`.
 * Fails (EINVAL) when cur or target is unknown or unsupported, when cur is ERROR, or when
 * the target cannot be reached (STOP_COPY -> PRE_COPY*).
 */
export function nextState(flags: number, cur: number, target: number): NextStep {
  if (!isState(cur) || !stateSupported(flags, cur)) {
    return { ok: false, errno: 'EINVAL', reason: `current state ${cur} is not valid for this device` };
  }
  if (!isState(target) || !stateSupported(flags, target)) {
    return { ok: false, errno: 'EINVAL', reason: `target state ${target} is not supported by this device` };
  }
  let next = NEXT[cur]![target]!;
  // Skip over states this device does not support; ERROR terminates (it is never
  // "supported"), which is what keeps a blocked arc from looping.
  while (next !== S.ERROR && !stateSupported(flags, next)) next = NEXT[next]![target]!;
  if (next === S.ERROR) {
    return {
      ok: false, errno: 'EINVAL',
      reason: `no transition from ${migStateName(cur)} to ${migStateName(target)}`,
    };
  }
  return { ok: true, next };
}

/** The whole sequence of arcs nextState() would take, e.g. for logging or planning. */
export function pathTo(flags: number, cur: MigState, target: MigState): MigState[] | NextStep & { ok: false } {
  const path: MigState[] = [];
  let at = cur;
  while (at !== target) {
    const step = nextState(flags, at, target);
    if (!step.ok) return step;
    path.push(step.next);
    at = step.next;
    if (path.length > NEXT.length) throw new Error('migration FSM table loops'); // table bug
  }
  return path;
}
