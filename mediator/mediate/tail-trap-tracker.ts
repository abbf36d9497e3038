/**
 * Dirty tracking from trapped ring-tail writes: the mediate-ops way of knowing which guest
 * pages a VF will DMA into without an IOMMU dirty bit.
 *
 * RX: every buffer the device can write was posted by a tail write. On each trapped RDT
 * write the tracker reads the newly posted descriptors from guest memory (before the device
 * sees the new tail) and keeps their buffer addresses in a shadow ring. Rings complete in
 * order, so the buffers the device has written since the last harvest are exactly those of
 * the descriptors between the previous and the current head:
 *
 *       lastHead            head                 tail
 *   ... [done][done][done][ posted, tracked ... ][ free ] ...
 *        \_ harvest: buffer pages + ring pages _/  \_ stay in the shadow until completed
 *
 * A harvest runs before every tail write is passed on, so between two harvests the device
 * can complete at most count-1 descriptors and the head cannot lap unseen. TX: the device
 * only reads buffers, but writes DD into completed descriptors (ring pages) or, with head
 * write-back, the 4-byte head at TDWBAL/H.
 *
 * Other queue registers (RXDCTL, RDH, RDBAL, ...) and CTRL.RST / FLR change where or
 * whether a queue DMAs, and the device may act on them inside the write itself (an ENABLE
 * 0->1 latches a stale tail and can consume descriptors at once). So before such a write
 * the tracker harvests, remembers each queue's head and snapshots the descriptor addresses
 * still software-readable (DD clear); after it, the shadow is rebuilt from the registers
 * and the snapshot, and whatever the device completed during the write is harvested from
 * the remembered head.
 *
 * Buffers posted before trapping began are read from the ring at start(), with the device
 * frozen (quiesced) so that no descriptor completes between reading the head and reading
 * the ring. If a completed descriptor's buffer is ever unknown (unreadable ring, or a
 * descriptor posted in a way the tracker could not see) the next report marks every logged
 * page dirty: recall is never traded away, only precision.
 *
 * Tail writes served by the transport's native fast path (mediator/vfio/fast-path.ts) come
 * back as a log, replayed in order before anything else reaches the tracker (replay(),
 * and the `pull` hook before a report): each entry is the same harvest + post as
 * beforeWrite, with the head register and the posted descriptors' addresses as they were
 * at the write. A replayed harvest marks whole buffers (the write-back length in the ring
 * may already belong to a later lap), and an entry whose old tail is not the shadow's
 * leaves its slots unknown (all-dirty if they complete): recall first.
 *
 * Assumption (as for real hardware that prefetches descriptors): the driver does not rewrite
 * a descriptor it has already handed to the device.
 */
import * as R from '../hw/vf-regs.js';
import { DESC_SIZE, VF_NUM_QUEUES, queueOfOffset, rxBufferBytes } from '../hw/vf-regs.js';
import { PageSet, checkLoggingRanges, checkReportArgs, type DirtyTracker, type IovaRange } from './dirty-tracker.js';
import { VfmedError } from '../errors.js';
import type { FastPathTailWrite } from '../vfio/fast-path.js';

/** Current register values of the VF (BAR memory, the device's view). */
export interface VfRegisterReader {
  read32(off: number): number;
}

/** Guest memory through the VF's DMA maps; undefined when [iova, iova+len) is not mapped. */
export interface GuestMemoryReader {
  read(iova: bigint, len: number): Buffer | undefined;
  /** Changes whenever a view returned earlier may have become invalid (a window went
   * away); without it the tracker re-reads the ring on every use. */
  readonly generation?: number;
}

/** Addresses on the hot path are JS numbers: exact up to 2^53 - 1. */
const TWO32 = 2 ** 32;
const MAX_HI = 0x1fffff;

export interface TailTrapOptions {
  /** Runs fn with the device quiesced (no descriptor fetched or written meanwhile). */
  freeze?: <T>(fn: () => T) => T;
  /** Called first by report(): brings tail writes served elsewhere in (replay()). */
  pull?: () => void;
}

interface RxShadow {
  enabled: boolean;
  base: bigint;
  baseNum: number;
  count: number;
  bufBytes: number;
  lastHead: number;
  tail: number;
  /** Buffer address of each posted slot (a number; undefined = unknown). */
  addr: (number | undefined)[];
  /** A view of the ring in guest memory, valid while the reader's generation is ringGen. */
  ring: Buffer | undefined;
  ringGen: number | undefined;
}

interface TxShadow {
  enabled: boolean;
  base: number;
  count: number;
  lastHead: number;
  headWb: number | undefined;
}

/** What a queue looked like just before a configuration write. */
interface PreWrite {
  rxHead: number[];
  txHead: number[];
  /** Per RX queue: ring base and length, to tell whether the snapshot still describes it. */
  rxRing: string[];
  /** Per RX queue: descriptor addresses still in read format (DD clear), by slot. */
  rxSnap: Map<number, number | undefined>[];
}

export interface TailTrapStats {
  trappedTailWrites: number;
  descriptorsRead: number;
  harvested: number;
  /** Completed descriptors whose buffer address was unknown (each forces an all-dirty report). */
  untracked: number;
  unreadable: number;
  /** Reports that had to mark every logged page dirty. */
  allDirtyReports: number;
}

const FRESH_STATS = (): TailTrapStats => ({
  trappedTailWrites: 0, descriptorsRead: 0, harvested: 0, untracked: 0, unreadable: 0, allDirtyReports: 0,
});

/** Buffer address of RX descriptor i (read format); undefined above 2^53 (treated as unknown). */
function descAddr(ring: Buffer, i: number): number | undefined {
  const hi = ring.readUInt32LE(i * DESC_SIZE + 4);
  return hi > MAX_HI ? undefined : hi * TWO32 + ring.readUInt32LE(i * DESC_SIZE);
}

/** The device writes at most a buffer; when the write-back is still there, exactly its length. */
function writtenBytes(ring: Buffer | undefined, bufBytes: number, i: number): number {
  if (ring && ring.readUInt32LE(i * DESC_SIZE + R.RXD_OFF_STATUS) & R.RXD_STAT_DD) {
    const len = ring.readUInt16LE(i * DESC_SIZE + R.RXD_OFF_LENGTH);
    if (len > 0 && len <= bufBytes) return len;
  }
  return bufBytes;
}

/** Where the device went on from after a configuration write: `wanted` if it is a valid
 * index, else the head it had (a rejected head write), else 0 (an invalid head register
 * restarts the ring at 0). */
function startHead(wanted: number, had: number, count: number): number {
  if (wanted < count) return wanted;
  return had < count ? had : 0;
}

export class TailTrapTracker implements DirtyTracker {
  readonly mode = 'tail-trap' as const;
  #ranges: IovaRange[] = [];
  #dirty = new PageSet();
  #rx: RxShadow[] = [];
  #tx: TxShadow[] = [];
  #pre: PreWrite | null = null;
  #allDirty = false;
  #started = false;
  readonly #stats: TailTrapStats = FRESH_STATS();
  readonly #freeze: <T>(fn: () => T) => T;
  /** Set by whoever serves tail writes outside beforeWrite (the fast path). */
  pull: (() => void) | null;
  /** Called after start() and stop(): what must be trapped changed. */
  onChange: (() => void) | null = null;

  constructor(private readonly regs: VfRegisterReader, private readonly mem: GuestMemoryReader, opts: TailTrapOptions = {}) {
    this.#freeze = opts.freeze ?? ((fn) => fn());
    this.pull = opts.pull ?? null;
  }

  get started(): boolean {
    return this.#started;
  }

  /** Counters, including tail writes served elsewhere until now (pulled first). */
  get stats(): TailTrapStats {
    if (this.#started) this.pull?.();
    return this.#stats;
  }

  /** Call once the client has unmapped the queue pages: from here on every tail write is trapped. */
  start(ranges: readonly IovaRange[], pageSize: bigint): void {
    if (this.#started) throw new VfmedError('VFMED_ERR_DMA_LOGGING', 'dirty tracking already started', 16);
    this.#ranges = checkLoggingRanges(ranges, pageSize);
    this.#dirty.clear();
    this.#allDirty = false;
    Object.assign(this.#stats, FRESH_STATS());
    this.#freeze(() => {
      this.#rx = [];
      this.#tx = [];
      for (let q = 0; q < VF_NUM_QUEUES; q++) {
        this.#rx.push(this.#loadRx(q, this.#readRing(q)));
        this.#tx.push(this.#loadTx(q));
      }
    });
    this.#started = true;
    this.onChange?.();
  }

  stop(): void {
    if (this.#started) this.pull?.(); // tail writes served before the stop happened before it
    const was = this.#started;
    this.#started = false;
    this.#dirty.clear();
    this.#rx = [];
    this.#tx = [];
    this.#pre = null;
    if (was) this.onChange?.();
  }

  /**
   * A trapped 32-bit write, before it reaches the device (`off` dword aligned; callers split
   * narrower or wider accesses into the dwords they change).
   */
  beforeWrite(off: number, value: number): void {
    if (!this.#started) return;
    if (off === R.CTRL) {
      if (value & R.CTRL_RST) this.beforeReset();
      return;
    }
    const where = queueOfOffset(off);
    if (!where) return;
    const { kind, q } = where;
    if (kind === 'rx' && off === R.RDT(q)) {
      this.#stats.trappedTailWrites++;
      this.#harvestRx(q);
      this.#postRx(q, value & 0xffff);
    } else if (kind === 'tx' && off === R.TDT(q)) {
      this.#stats.trappedTailWrites++;
      this.#harvestTx(q);
    } else {
      this.#prepareResync();
    }
  }

  /**
   * Tail writes that were served without beforeWrite (the transport's fast path), in order,
   * each with the head register and the posted descriptors recorded at the write.
   */
  replay(writes: readonly FastPathTailWrite[]): void {
    if (!this.#started) return;
    for (const w of writes) {
      this.#stats.trappedTailWrites++;
      if (w.kind === 'tx') {
        this.#harvestTx(w.q, w.head);
        continue;
      }
      this.#harvestRx(w.q, w.head);
      const s = this.#rx[w.q];
      if (!s || !s.enabled || w.newTail >= s.count) continue; // as #postRx
      const n = (w.newTail - s.tail + s.count) % s.count;
      const exact = w.oldTail === s.tail && w.addrs.length === n;
      for (let i = s.tail, k = 0; k < n; i = (i + 1) % s.count, k++) {
        const a = exact ? w.addrs[k]! : NaN;
        // NaN: above 2^53 or not recorded for this slot: unknown (all-dirty if it completes)
        s.addr[i] = Number.isNaN(a) ? undefined : a;
        this.#stats.descriptorsRead++;
      }
      s.tail = w.newTail;
    }
  }

  /** The same write, after the device applied it. */
  afterWrite(off: number, value: number): void {
    if (!this.#started) return;
    if (off === R.CTRL) {
      if (value & R.CTRL_RST) this.afterReset();
      return;
    }
    if (this.#pre) this.#resync(off, value);
  }

  /** Before the VF is reset (CTRL.RST, FLR): harvest what completed, remember the heads. */
  beforeReset(): void {
    if (this.#started) this.#prepareResync();
  }

  /** After the reset: the queues are rebuilt from the registers (normally disabled now). */
  afterReset(): void {
    if (this.#started && this.#pre) this.#resync(-1, 0);
  }

  report(iova: bigint, length: bigint, pageSize: bigint): Buffer {
    if (!this.#started) throw new VfmedError('VFMED_ERR_DMA_LOGGING', 'dirty tracking not started', 22);
    this.pull?.();
    checkReportArgs(iova, length, pageSize, this.#ranges);
    for (let q = 0; q < VF_NUM_QUEUES; q++) { this.#harvestRx(q); this.#harvestTx(q); }
    const bitmap = this.#dirty.takeBitmap(iova, length, pageSize);
    if (this.#allDirty) {
      // A buffer address was lost: everything logged may be dirty. Reported once, as a
      // full bitmap of the asked range (what the all-dirty tracker would say).
      this.#stats.allDirtyReports++;
      this.#allDirty = false;
      const bits = Number(length / pageSize);
      bitmap.fill(0xff);
      if (bits % 8) bitmap[bitmap.length - 1] = (1 << (bits % 8)) - 1;
    }
    return bitmap;
  }

  /** Buffers posted and not yet completed (for tests and status). */
  trackedBuffers(): number {
    return this.#rx.reduce((n, r) => n + r.addr.filter((a) => a !== undefined).length, 0);
  }

  #prepareResync(): void {
    for (let q = 0; q < VF_NUM_QUEUES; q++) { this.#harvestRx(q); this.#harvestTx(q); }
    const pre: PreWrite = { rxHead: [], txHead: [], rxRing: [], rxSnap: [] };
    for (let q = 0; q < VF_NUM_QUEUES; q++) {
      pre.rxRing.push(this.#ringId(q));
      pre.rxHead.push(this.regs.read32(R.RDH(q)) & 0xffff);
      pre.txHead.push(this.regs.read32(R.TDH(q)) & 0xffff);
      pre.rxSnap.push(this.#readRing(q));
    }
    this.#pre = pre;
  }

  /**
   * Rebuilds both queues after a configuration write of `value` to `off`, and harvests what
   * the device completed during the write: from the head it had before (an ENABLE latches
   * the head register; an invalid one restarts the ring at 0), or from the head the write
   * set (a software RDH/TDH write is adopted when valid, and the device may go on from it
   * within the same write).
   */
  #resync(off: number, value: number): void {
    const pre = this.#pre!;
    this.#pre = null;
    for (let q = 0; q < VF_NUM_QUEUES; q++) {
      let known: Map<number, number | undefined>;
      if (pre.rxRing[q] === this.#ringId(q)) {
        known = new Map(pre.rxSnap[q]);
        this.#rx[q]?.addr.forEach((a, i) => { if (a !== undefined && !known.has(i)) known.set(i, a); });
      } else {
        // The write moved or resized an enabled ring: what was posted on the new ring can
        // only be read now. Slots the write itself completed stay unknown (all-dirty).
        known = this.#freeze(() => this.#readRing(q));
      }
      const count = (this.regs.read32(R.RDLEN(q)) >>> 0) / DESC_SIZE;
      const from = startHead(off === R.RDH(q) ? value & 0xffff : pre.rxHead[q]!, pre.rxHead[q]!, count);
      const rx = this.#loadRx(q, known, from);
      this.#rx[q] = rx;
      if (rx.enabled) this.#harvestRx(q);
      const tx = this.#loadTx(q);
      this.#tx[q] = tx;
      if (tx.enabled) {
        tx.lastHead = startHead(off === R.TDH(q) ? value & 0xffff : pre.txHead[q]!, pre.txHead[q]!, tx.count);
        this.#harvestTx(q);
      }
    }
  }

  /** Slot -> buffer address of every RX descriptor still in read format (DD clear). */
  #readRing(q: number): Map<number, number | undefined> {
    const out = new Map<number, number | undefined>();
    const count = (this.regs.read32(R.RDLEN(q)) >>> 0) / DESC_SIZE;
    if (!Number.isInteger(count) || count <= 0) return out;
    const ring = this.mem.read(this.#rxBase(q), count * DESC_SIZE);
    if (!ring) return out;
    for (let i = 0; i < count; i++) {
      // Bit 0 of hdr_addr is DD in the write-back format: set = the address is gone.
      if (ring.readUInt32LE(i * DESC_SIZE + R.RXD_OFF_STATUS) & R.RXD_STAT_DD) continue;
      out.set(i, descAddr(ring, i));
    }
    return out;
  }

  /** The RX ring's view in guest memory (re-read when the DMA windows changed). */
  #ring(s: RxShadow): Buffer | undefined {
    const gen = this.mem.generation;
    if (!s.ring || gen === undefined || gen !== s.ringGen) {
      s.ring = this.mem.read(s.base, s.count * DESC_SIZE);
      s.ringGen = gen;
    }
    return s.ring;
  }

  #ringId(q: number): string {
    return `${this.#rxBase(q)}/${this.regs.read32(R.RDLEN(q)) >>> 0}`;
  }

  #rxBase(q: number): bigint {
    return (BigInt(this.regs.read32(R.RDBAH(q)) >>> 0) << 32n) | BigInt(this.regs.read32(R.RDBAL(q)) >>> 0);
  }

  /**
   * A shadow of RX queue q from the registers; slots [from, tail) take their address from
   * `known` (from = the head register unless the device may already have gone on from an
   * earlier head, see #resync).
   */
  #loadRx(q: number, known: Map<number, number | undefined>, from?: number): RxShadow {
    const enabled = (this.regs.read32(R.RXDCTL(q)) & R.XDCTL_ENABLE) !== 0;
    const count = (this.regs.read32(R.RDLEN(q)) >>> 0) / DESC_SIZE;
    const ok = Number.isInteger(count) && count > 0;
    const head = from ?? (this.regs.read32(R.RDH(q)) & 0xffff);
    const tail = this.regs.read32(R.RDT(q)) & 0xffff;
    const base = this.#rxBase(q);
    const s: RxShadow = {
      enabled: enabled && ok,
      base,
      baseNum: Number(base),
      count: ok ? count : 0,
      bufBytes: rxBufferBytes(this.regs.read32(R.SRRCTL(q))),
      lastHead: head,
      tail: head,
      addr: new Array<number | undefined>(ok ? count : 0).fill(undefined),
      ring: undefined,
      ringGen: undefined,
    };
    if (!s.enabled || head >= s.count) return s;
    // The device's tail is the last valid one written (a tail >= count is ignored).
    if (tail < s.count) {
      for (let i = head; i !== tail; i = (i + 1) % s.count) {
        s.addr[i] = known.get(i);
        this.#stats.descriptorsRead++;
      }
      s.tail = tail;
    }
    return s;
  }

  #loadTx(q: number): TxShadow {
    const enabled = (this.regs.read32(R.TXDCTL(q)) & R.XDCTL_ENABLE) !== 0;
    const count = (this.regs.read32(R.TDLEN(q)) >>> 0) / DESC_SIZE;
    const wbal = this.regs.read32(R.TDWBAL(q)) >>> 0;
    return {
      enabled: enabled && Number.isInteger(count) && count > 0,
      base: (this.regs.read32(R.TDBAH(q)) >>> 0) * TWO32 + (this.regs.read32(R.TDBAL(q)) >>> 0),
      count: Number.isInteger(count) ? count : 0,
      lastHead: this.regs.read32(R.TDH(q)) & 0xffff,
      headWb: wbal & R.TDWBAL_ENABLE ? (this.regs.read32(R.TDWBAH(q)) >>> 0) * TWO32 + ((wbal & ~3) >>> 0) : undefined,
    };
  }

  /** Records the buffers of descriptors [s.tail, newTail) (the device ignores tails >= count). */
  #postRx(q: number, newTail: number): void {
    const s = this.#rx[q];
    if (!s || !s.enabled || newTail >= s.count) return;
    let n = (newTail - s.tail + s.count) % s.count;
    if (n === 0) { s.tail = newTail; return; }
    const ring = this.#ring(s);
    if (!ring) { this.#stats.unreadable++; s.tail = newTail; return; } // the device will fault the queue too
    for (let i = s.tail; n > 0; i = (i + 1) % s.count, n--) {
      s.addr[i] = descAddr(ring, i);
      this.#stats.descriptorsRead++;
    }
    s.tail = newTail;
  }

  /** `at`: the head recorded at a replayed write (whole buffers are marked then). */
  #harvestRx(q: number, at?: number): void {
    const s = this.#rx[q];
    if (!s || !s.enabled) return;
    const head = at ?? (this.regs.read32(R.RDH(q)) & 0xffff);
    if (head >= s.count) return;
    const ring = head !== s.lastHead && at === undefined ? this.#ring(s) : undefined;
    for (let i = s.lastHead; i !== head; i = (i + 1) % s.count) {
      const addr = s.addr[i];
      if (addr === undefined) {
        this.#stats.untracked++;
        this.#allDirty = true;
      } else {
        this.#dirty.markPages(addr, writtenBytes(ring, s.bufBytes, i));
      }
      this.#dirty.markPages(s.baseNum + i * DESC_SIZE, DESC_SIZE);
      s.addr[i] = undefined;
      this.#stats.harvested++;
    }
    s.lastHead = head;
  }

  #harvestTx(q: number, at?: number): void {
    const s = this.#tx[q];
    if (!s || !s.enabled) return;
    const head = at ?? (this.regs.read32(R.TDH(q)) & 0xffff);
    if (head >= s.count || head === s.lastHead) return;
    if (s.headWb !== undefined) {
      this.#dirty.markPages(s.headWb, 4);
    } else {
      for (let i = s.lastHead; i !== head; i = (i + 1) % s.count) this.#dirty.markPages(s.base + i * DESC_SIZE, DESC_SIZE);
    }
    s.lastHead = head;
  }
}
