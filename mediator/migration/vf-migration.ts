/**
 * Migration of one VF: what each arc of the v2 FSM does to the device. Transport-free — the
 * vfio-user DEVICE_FEATURE/MIG_DATA handlers and the v1 migration region both drive it.
 *
 *   arc                          action
 *   RUNNING      -> RUNNING_P2P  PF quiesce: doorbells latch, in-flight work completes
 *   RUNNING_P2P  -> RUNNING      PF resume
 *   RUNNING_P2P  -> STOP         (already quiesced: the VF does no DMA, the RX FIFO still
 *                                 fills from the wire, so nothing arriving is lost)
 *   STOP         -> RUNNING_P2P  nothing (stays quiesced)
 *   RUNNING <-> STOP             quiesce / resume (devices without P2P)
 *   RUNNING      -> PRE_COPY     trap the BAR tails + start dirty tracking; initial data
 *   PRE_COPY     -> RUNNING      abort: untrap, drop the saving stream
 *   PRE_COPY    <-> PRE_COPY_P2P quiesce / resume, still trapped
 *   PRE_COPY(_P2P)-> STOP_COPY   quiesce (if needed) + save through the PF
 *   STOP         -> STOP_COPY    trap (mediated devices are trapped while saving) + save
 *   STOP_COPY    -> STOP         saving finished: untrap; if the saved stream was read to
 *                                its end the VF counts as migrated out (migratedOut) until
 *                                it leaves STOP
 *   STOP         -> RESUMING     open a validating sink
 *   RESUMING     -> STOP         load through the PF; refused streams leave the VF untouched
 *
 * Trapping is what the mediator adds to the plain variant-driver flow: while a saving state
 * is active the queue pages are trapped, so once the client has acknowledged the new layout
 * the tail writes arrive as REGION_WRITEs and feed the dirty tracker.
 */
import { ArcRefusedError, MigrationFsm } from './fsm-runner.js';
import { MigFlag, MigState } from './fsm.js';
import { DeviceStateSink, DeviceStateSource, type ReadResult, type VfStateAccess } from './device-stream.js';
import { VfmedError } from '../errors.js';

/** Device control the controller needs beyond state save/load. */
export interface VfControl extends VfStateAccess {
  quiesce(): void;
  resume(): void;
}

/** Trapping of BAR0 pages 2-3 (the mediate driver implements it). trap() makes the pages
 * non-mmap-able and tells the client; it does not wait for the client's acknowledgement:
 * the device state is pulled from the PF after a quiesce and does not depend on it, and a
 * VMM driving the migration over the same connection would wait for itself. Dirty
 * tracking, which does depend on it, waits separately (BarTrapController.effective()). */
export interface TrapControl {
  trap(): Promise<void>;
  untrap(): void;
}

const SAVING = new Set([MigState.PRE_COPY, MigState.PRE_COPY_P2P, MigState.STOP_COPY]);
const QUIESCED = new Set([MigState.RUNNING_P2P, MigState.STOP, MigState.PRE_COPY_P2P, MigState.STOP_COPY, MigState.RESUMING]);

export const VF_MIGRATION_FLAGS = MigFlag.STOP_COPY | MigFlag.P2P | MigFlag.PRE_COPY;

export class VfMigrationController {
  readonly fsm: MigrationFsm;
  #source: DeviceStateSource | undefined;
  #sink: DeviceStateSink | undefined;
  #trapped = false;
  #quiesced = false;
  #migratedOut = false;

  constructor(private readonly vf: VfControl, private readonly traps: TrapControl, flags = VF_MIGRATION_FLAGS) {
    this.fsm = new MigrationFsm(flags, async (from, to) => {
      try {
        await this.#arc(from, to);
      } catch (err) {
        // Any failure untraps: a half-migrated device must not stay mediated. A refused
        // RESUMING -> STOP never trapped in the first place.
        if (!(err instanceof ArcRefusedError) && this.#trapped) {
          this.traps.untrap();
          this.#trapped = false;
        }
        throw err;
      }
    });
  }

  get state(): MigState {
    return this.fsm.state;
  }

  get trapped(): boolean {
    return this.#trapped;
  }

  /**
   * A completed outgoing migration: the VF reached STOP from STOP_COPY after its whole
   * saved state was read, and has not left STOP since. (A source that failed back went on
   * to RUNNING; one that gave up mid-stream never drained it.)
   */
  get migratedOut(): boolean {
    return this.#migratedOut && this.state === MigState.STOP;
  }

  setState(target: number): Promise<MigState> {
    return this.fsm.setState(target);
  }

  /** PRECOPY_INFO (valid in PRE_COPY and PRE_COPY_P2P). */
  precopyInfo(): { initialBytes: number; dirtyBytes: number } {
    if (!this.#source || (this.state !== MigState.PRE_COPY && this.state !== MigState.PRE_COPY_P2P)) {
      throw new VfmedError('VFMED_ERR_MIG_STATE', 'PRECOPY_INFO is only valid in PRE_COPY/PRE_COPY_P2P');
    }
    return this.#source.precopyInfo();
  }

  /** MIG_DATA_SIZE: stop-copy estimate, valid in any state but ERROR. */
  stopCopySize(): number {
    if (this.state === MigState.ERROR) throw new VfmedError('VFMED_ERR_MIG_STATE', 'device is in ERROR');
    return (this.#source ?? new DeviceStateSource(this.vf)).stopCopySize();
  }

  /** MIG_DATA_READ. */
  read(max: number): ReadResult {
    if (!this.#source || !SAVING.has(this.state)) {
      throw new VfmedError('VFMED_ERR_MIG_STATE', `no migration data to read in ${MigState[this.state]}`);
    }
    return this.#source.read(max);
  }

  /** MIG_DATA_WRITE. */
  write(chunk: Uint8Array): void {
    if (!this.#sink || this.state !== MigState.RESUMING) {
      throw new VfmedError('VFMED_ERR_MIG_STATE', `migration data cannot be written in ${MigState[this.state]}`);
    }
    this.#sink.write(chunk);
  }

  /** DEVICE_RESET: leaves ERROR or any migration state; the caller resets the VF itself. */
  reset(): void {
    if (this.#trapped) this.traps.untrap();
    this.#trapped = false;
    this.#quiesced = false;
    this.#migratedOut = false;
    this.#source = undefined;
    this.#sink = undefined;
    this.fsm.reset();
  }

  async #arc(from: MigState, to: MigState): Promise<void> {
    this.#migratedOut = from === MigState.STOP_COPY && to === MigState.STOP && (this.#source?.drained ?? false);
    if (SAVING.has(to) && !this.#trapped) {
      await this.traps.trap();
      this.#trapped = true;
    }
    if (to === MigState.PRE_COPY && from === MigState.RUNNING) {
      this.#source = new DeviceStateSource(this.vf);
      this.#source.startPreCopy();
    }
    if (to === MigState.STOP_COPY) {
      this.#setQuiesced(true);
      this.#source ??= new DeviceStateSource(this.vf);
      this.#source.startStopCopy();
      return;
    }
    if (to === MigState.RESUMING) this.#sink = new DeviceStateSink(this.vf);
    if (from === MigState.RESUMING) {
      this.#sink!.finish(); // throws ArcRefusedError: FSM stays in RESUMING, VF untouched
      this.#sink = undefined;
    }
    this.#setQuiesced(QUIESCED.has(to));
    if (!SAVING.has(to)) {
      this.#source = undefined;
      if (this.#trapped) {
        this.traps.untrap();
        this.#trapped = false;
      }
    }
  }

  #setQuiesced(q: boolean): void {
    if (q === this.#quiesced) return;
    if (q) this.vf.quiesce();
    else this.vf.resume();
    this.#quiesced = q;
  }
}
