/**
 * The native BAR0 fast path, TypeScript side: what a device says may be served without it,
 * and the per-connection link that installs that policy in the transport, pauses it, and
 * brings what the transport served back into the device chain (counters, tail log).
 *
 *   device chain ─ fastPath() ─▶ FastPathLink.refresh() ─▶ conn.setFastPath(policy)
 *        ▲                                                     │ native: REGION_READ/WRITE
 *        └─ fastPathServed(batch) ◀─ FastPathLink.sync() ◀─ conn.takeFastPath()  served here
 *
 * Rules that keep the native path indistinguishable from the JS one (docs/vfio-user.md):
 *  - a device only offers accesses it would do as a plain register access (IgbVfDevice:
 *    BAR0 with Memory Space enabled); a mediation layer with an rw hook removes what it
 *    must see (VfMediateHandle: the tracked registers, with RDT/TDT logged natively);
 *  - the transport serves only accesses that cannot fail a protocol check (fast-path.h);
 *  - before the dispatcher handles any message, sync() replays what was served natively
 *    before it, so the device chain sees the connection's accesses in order;
 *  - while a command is still pending (an asynchronous handler) the fast path is paused, and
 *    the policy is asked again after every message and every completion;
 *  - no policy is installed before VERSION, or while someone subscribes to the per-message
 *    diagnostics channel (every message is then published by the dispatcher). A
 *    subscription is noticed at the next message the dispatcher handles, and at the latest
 *    RECHECK_MS later (an unref'ed timer runs while a policy is installed).
 */
import type { NativeNic } from '../native/addon.js';
import type { VfioDevice } from './device.js';
import type { FastPathDrain, FastPathTotals, NativeConnection, NativeFastPathPolicy } from './transport-native.js';

/** What may be served natively now (one region): exactly what the transport takes
 * (NativeFastPathPolicy, fields documented there). */
export type FastPathPolicy = NativeFastPathPolicy;

/** One natively served (and logged) tail write, with the register values at the write. */
export interface FastPathTailWrite {
  kind: 'rx' | 'tx';
  q: number;
  /** RDH/TDH just before the write */
  head: number;
  /** RDT/TDT register just before the write */
  oldTail: number;
  newTail: number;
  /** RX: pkt_addr of the descriptors [oldTail, newTail) as the write found them; NaN = unknown */
  addrs: Float64Array;
}

/** What the transport served since the last sync, in order for the log. */
export interface FastPathBatch {
  region: number;
  /** (dword index, count) pairs */
  reads: Uint32Array;
  writes: Uint32Array;
  tailWrites: FastPathTailWrite[];
}

/** Given to the device chain on attach (attachFastPath). */
export interface FastPathHost {
  /** Brings everything served natively so far into the device chain (fastPathServed). */
  sync(): void;
  /** Uninstalls the policy at once (e.g. before unmapping memory it points into); the next
   * message's refresh asks the device again. */
  withdraw(): void;
  /** Asks the device for its policy again now. */
  refresh(): void;
}

/** A mask with every dword of `bytes` set. */
export function fullMask(bytes: number): Uint8Array {
  return new Uint8Array(bytes / 32).fill(0xff);
}

/** Clears (or sets) the dwords of [from, to) in a mask. */
export function maskRange(mask: Uint8Array, from: number, to: number, on: boolean): void {
  for (let d = from >>> 2; d < to >>> 2; d++) {
    if (on) mask[d >>> 3]! |= 1 << (d & 7);
    else mask[d >>> 3]! &= ~(1 << (d & 7));
  }
}

/** Whether dword `off / 4` is set. */
export function maskHas(mask: Uint8Array, off: number): boolean {
  const d = off >>> 2;
  return ((mask[d >>> 3] ?? 0) & (1 << (d & 7))) !== 0;
}

function toBatch(region: number, d: FastPathDrain): FastPathBatch {
  const tailWrites: FastPathTailWrite[] = [];
  let at = 0;
  for (let i = 0; i + 6 <= d.log.length; i += 6) {
    const n = d.log[i + 5]!;
    tailWrites.push({
      kind: d.log[i] === 1 ? 'rx' : 'tx',
      q: d.log[i + 1]!,
      head: d.log[i + 2]!,
      oldTail: d.log[i + 3]!,
      newTail: d.log[i + 4]!,
      addrs: d.addrs.subarray(at, at + n),
    });
    at += n;
  }
  return { region, reads: d.reads, writes: d.writes, tailWrites };
}

/** How often an installed policy is re-validated when no message reaches the dispatcher. */
export const RECHECK_MS = 200;

export interface FastPathLinkOptions {
  /** false while a policy must not be installed (before VERSION, diagnostics subscribers) */
  allowed: () => boolean;
  onError: (e: unknown, what: string) => void;
}

/** The fast path of one connection. */
export class FastPathLink implements FastPathHost {
  #installed: FastPathPolicy | null = null;
  #pending = 0;
  #closed = false;
  #recheck: NodeJS.Timeout | null = null;

  constructor(
    private readonly conn: NativeConnection,
    private readonly device: VfioDevice,
    private readonly opts: FastPathLinkOptions,
  ) {}

  get installed(): FastPathPolicy | null {
    return this.#installed;
  }

  /** What the transport served under the installed policy (null: none installed). */
  get totals(): FastPathTotals | null {
    return this.#installed ? this.conn.fastPathTotals : null;
  }

  sync(): void {
    if (!this.#installed || this.#closed) return;
    const d = this.conn.takeFastPath();
    if (d) this.device.fastPathServed?.(toBatch(this.#installed.region, d));
  }

  withdraw(): void {
    this.#install(null);
  }

  refresh(): void {
    if (this.#closed) return;
    let p: FastPathPolicy | null = null;
    if (this.#pending === 0 && this.opts.allowed()) {
      try {
        p = this.device.fastPath?.() ?? null;
      } catch (e) {
        this.opts.onError(e, 'fast path policy');
        p = null;
      }
    }
    if (p !== this.#installed) this.#install(p);
  }

  /** A command went asynchronous: nothing is served natively until it completes. */
  beginAsync(): void {
    if (this.#pending++ === 0 && !this.#closed) this.conn.setFastPathPaused(true);
  }

  endAsync(): void {
    if (--this.#pending > 0 || this.#closed) return;
    this.refresh();
    this.conn.setFastPathPaused(false);
  }

  /** The connection is gone: takes what was served last; nothing is installed any more. */
  close(): void {
    this.sync();
    this.#closed = true;
    this.#installed = null;
    this.#timer(false);
  }

  #timer(on: boolean): void {
    if (on && !this.#recheck) {
      this.#recheck = setInterval(() => this.refresh(), RECHECK_MS);
      this.#recheck.unref();
    } else if (!on && this.#recheck) {
      clearInterval(this.#recheck);
      this.#recheck = null;
    }
  }

  #install(p: FastPathPolicy | null): void {
    if (this.#closed) return;
    this.sync();
    try {
      this.conn.setFastPath(p);
      this.#installed = p;
    } catch (e) {
      this.opts.onError(e, 'installing the fast path');
      this.conn.setFastPath(null);
      this.#installed = null;
    }
    this.#timer(this.#installed !== null);
  }
}
