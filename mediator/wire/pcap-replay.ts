/**
 * Replaying frames into the uplink, as if they arrived from the wire: at line rate (each
 * frame takes its wire time at the link speed: preamble 8 + frame padded to 60 + FCS 4 +
 * inter-frame gap 12 bytes), at a given frame rate, or unpaced ('max'), once or looping.
 *
 * Pacing runs on the daemon's event loop, which also serves the vfio-user sockets, so it
 * never holds the loop for long: each turn injects the frames whose departure time has
 * come (at most BATCH_MAX), then yields (setImmediate when behind schedule, a timer when
 * ahead). Timers are ~1 ms coarse, so frames leave in bursts of up to ~1 ms worth, at the
 * right average rate: at 1 Gbit/s and 64 bytes that is ~1500 frames back to back, more
 * than a default 64 KiB VF RX FIFO holds if the guest is not draining at that moment.
 * Uplink-to-VF delivery is lossy by design (a full FIFO drops and counts, VFFIFODROP);
 * `dropped` here counts the frames that no FIFO took.
 *
 *   schedule: t(i) = t(i-1) + gap(i)      gap = wireBits(len) / linkBps  or 1 / pps
 *   turn:     inject while t(next) <= now (≤ BATCH_MAX) ─▶ yield ─▶ turn ...
 */
import { EventEmitter } from 'node:events';
import type { NativeNic } from '../native/addon.js';

const BATCH_MAX = 4096;
/** Ethernet overhead around a frame without FCS: preamble+SFD 8, FCS 4, IFG 12. */
const WIRE_OVERHEAD_BYTES = 24;
const WIRE_MIN_FRAME = 60;

export type ReplayRate = 'line' | 'max' | number;

export interface ReplayOptions {
  frames: readonly Buffer[];
  /** 'line' (default), 'max' (unpaced) or frames per second */
  rate?: ReplayRate;
  /** passes over the frames; 0 = until stop() (default 1) */
  loop?: number;
  /** link speed for 'line' (default 1 Gbit/s, the 82576's) */
  linkBps?: number;
  /** name for logs and status (e.g. the file) */
  name?: string;
}

export interface ReplayStats {
  name: string;
  rate: ReplayRate;
  loop: number;
  state: 'running' | 'done' | 'stopped' | 'failed';
  /** frames handed to the switch */
  injected: number;
  /** frames the switch dropped because every receiving FIFO was full */
  dropped: number;
  bytes: number;
  passes: number;
  startedAt: string;
  elapsedMs: number;
  error: string | null;
}

/** Time one frame of `len` bytes (no FCS) occupies a link of linkBps, in ns. */
export function wireTimeNs(len: number, linkBps: number): number {
  return ((Math.max(len, WIRE_MIN_FRAME) + WIRE_OVERHEAD_BYTES) * 8 * 1e9) / linkBps;
}

export class PcapReplay extends EventEmitter {
  readonly done: Promise<ReplayStats>;
  readonly #nic: NativeNic;
  readonly #frames: readonly Buffer[];
  readonly #gapNs: Float64Array;
  readonly #loop: number;
  readonly #rate: ReplayRate;
  readonly #name: string;
  #state: ReplayStats['state'] = 'running';
  #error: string | null = null;
  #next = 0;
  #passes = 0;
  #injected = 0;
  #dropped = 0;
  #bytes = 0;
  #t0 = 0n;
  #endNs: bigint | null = null;
  #due = 0; // ns after t0 when frame #next is due
  #timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  #finish!: (s: ReplayStats) => void;
  readonly #startedAt = new Date();

  constructor(nic: NativeNic, opts: ReplayOptions) {
    super();
    const rate = opts.rate ?? 'line';
    if (typeof rate === 'number' && (!Number.isFinite(rate) || rate <= 0)) {
      throw new RangeError(`replay rate must be 'line', 'max' or a positive number of frames per second, got ${rate}`);
    }
    const loop = opts.loop ?? 1;
    if (!Number.isSafeInteger(loop) || loop < 0) throw new RangeError(`replay loop must be an integer >= 0, got ${loop}`);
    if (opts.frames.length === 0) throw new RangeError('nothing to replay: no frames');
    const linkBps = opts.linkBps ?? 1e9;
    if (!(linkBps > 0)) throw new RangeError(`link speed must be positive, got ${linkBps}`);
    this.#nic = nic;
    this.#frames = opts.frames;
    this.#rate = rate;
    this.#loop = loop;
    this.#name = opts.name ?? 'replay';
    this.#gapNs = Float64Array.from(opts.frames, (f) =>
      rate === 'line' ? wireTimeNs(f.length, linkBps) : rate === 'max' ? 0 : 1e9 / rate);
    this.done = new Promise((resolve) => {
      this.#finish = resolve;
    });
  }

  /** Starts pacing on the event loop; returns this. */
  start(): this {
    this.#t0 = process.hrtime.bigint();
    this.#schedule(0);
    return this;
  }

  /** Stops after the frame in flight; `done` resolves with state 'stopped'. */
  stop(): void {
    if (this.#state === 'running') this.#end('stopped');
  }

  get stats(): ReplayStats {
    return {
      name: this.#name, rate: this.#rate, loop: this.#loop, state: this.#state,
      injected: this.#injected, dropped: this.#dropped, bytes: this.#bytes, passes: this.#passes,
      startedAt: this.#startedAt.toISOString(),
      elapsedMs: this.#t0 ? Number((this.#endNs ?? process.hrtime.bigint()) - this.#t0) / 1e6 : 0,
      error: this.#error,
    };
  }

  #schedule(delayNs: number): void {
    if (this.#state !== 'running') return;
    if (delayNs <= 0) this.#timer = setImmediate(() => this.#turn());
    else this.#timer = setTimeout(() => this.#turn(), Math.max(1, Math.floor(delayNs / 1e6)));
  }

  #turn(): void {
    this.#timer = null;
    if (this.#state !== 'running') return;
    const now = Number(process.hrtime.bigint() - this.#t0);
    let n = 0;
    while (n < BATCH_MAX && this.#due <= now) {
      const f = this.#frames[this.#next]!;
      try {
        this.#nic.uplinkInject(f);
        this.#injected++;
        this.#bytes += f.length;
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOSPC') {
          this.#dropped++;
        } else {
          this.#error = (e as Error).message;
          this.#end('failed');
          return;
        }
      }
      this.#due += this.#gapNs[this.#next]!;
      n++;
      if (++this.#next === this.#frames.length) {
        this.#next = 0;
        this.#passes++;
        if (this.#loop !== 0 && this.#passes >= this.#loop) {
          this.#end('done');
          return;
        }
      }
    }
    this.#schedule(this.#due - Number(process.hrtime.bigint() - this.#t0));
  }

  #end(state: ReplayStats['state']): void {
    this.#state = state;
    this.#endNs = process.hrtime.bigint();
    if (this.#timer) {
      clearTimeout(this.#timer as NodeJS.Timeout);
      clearImmediate(this.#timer as NodeJS.Immediate);
      this.#timer = null;
    }
    const s = this.stats;
    this.emit('end', s);
    this.#finish(s);
  }
}
