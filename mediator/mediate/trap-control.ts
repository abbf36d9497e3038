/**
 * Trapping of BAR0 pages 2-3 (the RX/TX queue registers) for one open VF, and the
 * handshake that tells when the trap is *effective*: every later store by the client to
 * those pages arrives as a REGION_WRITE.
 *
 *   hold('saving'|'logging') ──▶ generation++ (layout without pages 2-3), eventfd signalled
 *            │                        │
 *            │       client: read generation G ─▶ GET_REGION_INFO(BAR0) ─▶ unmap ─▶ write G to 'applied'
 *            ▼                                                                   │
 *   effective() resolves once applied >= the trapping generation ◀───────────────┘
 *              (at once if the client was never offered the pages; EOPNOTSUPP if it was and
 *               registered no layout eventfd to be told; ETIMEDOUT after ackTimeoutMs)
 *   drop(reason) of the last holder ──▶ generation++ (pages mappable again), eventfd signalled
 *
 * Holders are reasons, not a count: the migration controller holds 'saving' while a saving
 * state (PRE_COPY*, STOP_COPY) is active, DMA logging with the tail-trap tracker holds
 * 'logging' while it runs. The pages are trapped while any reason holds them.
 */
import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import { VfmedError } from '../errors.js';
import type { NativeOs } from '../native/addon.js';
import type { RegionMmap } from '../vfio/device.js';
import { PAGE_SIZE, VF_PAGE_RXQ, VF_PAGE_TXQ } from '../hw/vf-regs.js';

const { EINVAL, ENODEV, EOPNOTSUPP, ETIMEDOUT } = constants.errno;

export type TrapReason = 'saving' | 'logging';

/** Pages of BAR0 the mediator traps. */
export const TRAPPED_PAGES: readonly number[] = [VF_PAGE_RXQ, VF_PAGE_TXQ];
const TRAPPED_MASK = TRAPPED_PAGES.reduce((m, p) => m | (1 << p), 0);

export interface TrapControllerOptions {
  /** How long effective() waits for the client's acknowledgement (default 2000 ms). */
  ackTimeoutMs?: number;
  /** eventfd writes (injectable for tests). */
  os: Pick<NativeOs, 'eventfdWrite'>;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class BarTrapController {
  readonly #holders = new Set<TrapReason>();
  #generation = 0;
  #applied = 0;
  /** Generation that made the pages trapped (valid while trapped). */
  #trapGeneration = 0;
  /** The client was sent a BAR0 layout that maps a trapped page and has not acked a trap since. */
  #offered = false;
  #eventfd: number | null = null;
  #waiters: Waiter[] = [];
  #trapRequests = 0;
  readonly #ackTimeoutMs: number;

  constructor(private readonly opts: TrapControllerOptions) {
    this.#ackTimeoutMs = opts.ackTimeoutMs ?? 2000;
  }

  get trapped(): boolean {
    return this.#holders.size > 0;
  }

  get generation(): number {
    return this.#generation;
  }

  get applied(): number {
    return this.#applied;
  }

  get trapRequests(): number {
    return this.#trapRequests;
  }

  get holders(): readonly TrapReason[] {
    return [...this.#holders];
  }

  /** Bitmap of BAR0 pages that are not mmap-able now. */
  get trappedPages(): number {
    return this.trapped ? TRAPPED_MASK : 0;
  }

  /** True when every store to the trapped pages is guaranteed to arrive as REGION_WRITE. */
  get isEffective(): boolean {
    return this.trapped && !this.#offered;
  }

  hold(reason: TrapReason): void {
    const was = this.trapped;
    this.#holders.add(reason);
    if (was) return;
    this.#generation++;
    this.#trapGeneration = this.#generation;
    this.#trapRequests++;
    this.#signal();
  }

  drop(reason: TrapReason): void {
    if (!this.#holders.delete(reason) || this.trapped) return;
    this.#generation++;
    this.#signal();
    this.#fail(new VfmedError('VFMED_ERR_TRAP', 'the queue pages were untrapped before the client acknowledged the trap', EINVAL));
  }

  /** Resolves once the trap is effective (see the file comment for the failures). */
  effective(): Promise<void> {
    if (!this.trapped) return Promise.reject(new VfmedError('VFMED_ERR_TRAP', 'the queue pages are not trapped', EINVAL));
    if (this.isEffective) return Promise.resolve();
    if (this.#eventfd === null) {
      return Promise.reject(new VfmedError('VFMED_ERR_TRAP',
        'the client has the queue pages mapped and registered no BAR layout eventfd (IRQ index 5) to be told to unmap them',
        EOPNOTSUPP));
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        resolve, reject,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((x) => x !== w);
          reject(new VfmedError('VFMED_ERR_TRAP',
            `the client did not acknowledge BAR layout generation ${this.#trapGeneration} within ${this.#ackTimeoutMs} ms `
            + `(applied: ${this.#applied})`, ETIMEDOUT));
        }, this.#ackTimeoutMs),
      };
      this.#waiters.push(w);
    });
  }

  /** The client wrote `generation` to the info region's `applied` field. */
  ack(generation: number): void {
    if (!Number.isInteger(generation) || generation < 0 || generation > this.#generation) {
      throw new VfmedError('VFMED_ERR_TRAP', `applied generation ${generation} is newer than the current ${this.#generation}`, EINVAL);
    }
    if (generation > this.#applied) this.#applied = generation;
    if (this.trapped && this.#applied >= this.#trapGeneration) {
      this.#offered = false;
      const ws = this.#waiters;
      this.#waiters = [];
      for (const w of ws) {
        clearTimeout(w.timer);
        w.resolve();
      }
    }
  }

  /** A GET_REGION_INFO(BAR0) reply with this mmap description went to the client. */
  offered(mmap: RegionMmap): void {
    const areas = mmap.areas ?? [{ offset: 0n, size: 1n << 62n }];
    for (const p of TRAPPED_PAGES) {
      const lo = BigInt(p * PAGE_SIZE), hi = lo + BigInt(PAGE_SIZE);
      if (areas.some((a) => a.offset < hi && lo < a.offset + a.size)) this.#offered = true;
    }
  }

  /** BAR0's mmap-able areas for the current generation. */
  areas(base: RegionMmap['areas']): RegionMmap['areas'] {
    if (!this.trapped || base === null) return this.trapped ? [] : base;
    const out: { offset: bigint; size: bigint }[] = [];
    for (const a of base) {
      // Split each area around the trapped pages (page granular: areas are page aligned).
      let start = a.offset;
      const end = a.offset + a.size;
      for (let at = a.offset; at < end; at += BigInt(PAGE_SIZE)) {
        if (TRAPPED_MASK & (1 << Number(at / BigInt(PAGE_SIZE)))) {
          if (at > start) out.push({ offset: start, size: at - start });
          start = at + BigInt(PAGE_SIZE);
        }
      }
      if (end > start) out.push({ offset: start, size: end - start });
    }
    return out;
  }

  /** The layout eventfd (IRQ index 5); null detaches. The controller owns it from here. */
  setEventFd(fd: number | null): void {
    if (this.#eventfd !== null && this.#eventfd !== fd) closeSync(this.#eventfd);
    this.#eventfd = fd;
  }

  get eventFd(): number | null {
    return this.#eventfd;
  }

  /** SET_IRQS trigger of index 5 (software-side, as for any IRQ). */
  trigger(): void {
    this.#signal();
  }

  /** The client is gone: nothing of it is mapped any more; waiters fail. */
  release(): void {
    this.setEventFd(null);
    this.#offered = false;
    this.#holders.clear();
    this.#fail(new VfmedError('VFMED_ERR_TRAP', 'the client went away', ENODEV));
  }

  #signal(): void {
    if (this.#eventfd !== null) this.opts.os.eventfdWrite(this.#eventfd, 1n);
  }

  #fail(e: Error): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) {
      clearTimeout(w.timer);
      w.reject(e);
    }
  }
}
