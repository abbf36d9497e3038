/**
 * Drives a device through the v2 migration FSM one arc at a time, the way Linux variant
 * drivers do (`while (cur != new) { next = vfio_mig_get_next_state(); step(next); }`).
 *
 * The device supplies `step(from, to)` for single arcs only. When a step fails, the error
 * says whether the device is still intact in `from` (e.g. a RESUMING -> STOP whose stream
 * was refused before anything was applied): then the FSM stays there; otherwise the device
 * state is unknown and the FSM goes to ERROR, which only reset() leaves.
 */
import { VfmedError } from '../errors.js';
import { MigState, migStateName, nextState } from './fsm.js';

export type ArcStep = (from: MigState, to: MigState) => Promise<void> | void;

/** Thrown by an ArcStep to say the device is unchanged and still in `from`. */
export class ArcRefusedError extends VfmedError {
  constructor(code: string, message: string, errno?: number) {
    super(code, message, errno);
    this.name = 'ArcRefusedError';
  }
}

export class MigrationFsm {
  #state: MigState = MigState.RUNNING;
  #busy = false;

  constructor(readonly flags: number, private readonly step: ArcStep) {}

  get state(): MigState {
    return this.#state;
  }

  /**
   * Moves to `target`, executing each arc in turn. Throws VfmedError
   * (VFMED_ERR_MIG_STATE, EINVAL) for an impossible request without touching the device, or
   * the step's error after which `state` tells where the device is.
   */
  async setState(target: number): Promise<MigState> {
    if (this.#busy) throw new VfmedError('VFMED_ERR_MIG_BUSY', 'a migration state change is already in progress', 16 /* EBUSY */);
    this.#busy = true;
    try {
      while (this.#state !== target) {
        const step = nextState(this.flags, this.#state, target);
        if (!step.ok) throw new VfmedError('VFMED_ERR_MIG_STATE', step.reason);
        const from = this.#state;
        try {
          await this.step(from, step.next);
        } catch (err) {
          if (!(err instanceof ArcRefusedError)) this.#state = MigState.ERROR;
          throw err;
        }
        this.#state = step.next;
      }
      return this.#state;
    } finally {
      this.#busy = false;
    }
  }

  /** DEVICE_RESET: the only way out of ERROR. The caller resets the device itself. */
  reset(): void {
    this.#state = MigState.RUNNING;
  }

  describe(): string {
    return migStateName(this.#state);
  }
}
