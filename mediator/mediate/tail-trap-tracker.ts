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
 * write-back, the 4-byte head at TDWBAL/H. Writes to queue configuration registers or to
 * CTRL.RST harvest first and resynchronise the queue after the device applied them.
 * Buffers posted before trapping began are read from the ring at start().
 *
 * Assumption (as for real hardware that prefetches descriptors): the driver does not rewrite
 * a descriptor it has already handed to the device.
 */
import * as R from '../hw/vf-regs.js';
import { DESC_SIZE, VF_NUM_QUEUES, queueOfOffset, rxBufferBytes } from '../hw/vf-regs.js';
import { PageSet, checkLoggingRanges, checkReportArgs, type DirtyTracker, type IovaRange } from './dirty-tracker.js';
import { VfmedError } from '../errors.js';

/** Current register values of the VF (BAR memory, the device's view). */
export interface VfRegisterReader {
  read32(off: number): number;
}

/** Guest memory through the VF's DMA maps; undefined when [iova, iova+len) is not mapped. */
export interface GuestMemoryReader {
  read(iova: bigint, len: number): Buffer | undefined;
}

interface RxShadow {
  enabled: boolean;
  base: bigint;
  count: number;
  bufBytes: number;
  lastHead: number;
  tail: number;
  addr: (bigint | undefined)[];
}

interface TxShadow {
  enabled: boolean;
  base: bigint;
  count: number;
  lastHead: number;
  headWb: bigint | undefined;
}

export interface TailTrapStats {
  trappedTailWrites: number;
  descriptorsRead: number;
  harvested: number;
  /** Completed descriptors whose buffer address was unknown: a recall hole; must stay 0. */
  untracked: number;
  unreadable: number;
}

export class TailTrapTracker implements DirtyTracker {
  readonly mode = 'tail-trap' as const;
  #ranges: IovaRange[] = [];
  #dirty = new PageSet();
  #rx: RxShadow[] = [];
  #tx: TxShadow[] = [];
  #resync = new Set<string>();
  #started = false;
  readonly stats: TailTrapStats = { trappedTailWrites: 0, descriptorsRead: 0, harvested: 0, untracked: 0, unreadable: 0 };

  constructor(private readonly regs: VfRegisterReader, private readonly mem: GuestMemoryReader) {}

  get started(): boolean {
    return this.#started;
  }

  /** Call once the client has unmapped the queue pages: from here on every tail write is trapped. */
  start(ranges: readonly IovaRange[], pageSize: bigint): void {
    if (this.#started) throw new VfmedError('VFMED_ERR_DMA_LOGGING', 'dirty tracking already started', 16);
    this.#ranges = checkLoggingRanges(ranges, pageSize);
    this.#dirty.clear();
    this.#rx = [];
    this.#tx = [];
    for (let q = 0; q < VF_NUM_QUEUES; q++) {
      this.#rx.push(this.#loadRx(q, true));
      this.#tx.push(this.#loadTx(q));
    }
    this.#started = true;
  }

  stop(): void {
    this.#started = false;
    this.#dirty.clear();
    this.#rx = [];
    this.#tx = [];
  }

  /** A trapped write, before it reaches the device. */
  beforeWrite(off: number, value: number): void {
    if (!this.#started) return;
    if (off === R.CTRL) {
      if (value & R.CTRL_RST) for (let q = 0; q < VF_NUM_QUEUES; q++) this.#harvestAll(q, true);
      return;
    }
    const where = queueOfOffset(off);
    if (!where) return;
    const { kind, q } = where;
    if (kind === 'rx' && off === R.RDT(q)) {
      this.stats.trappedTailWrites++;
      this.#harvestRx(q);
      this.#postRx(q, value & 0xffff);
    } else if (kind === 'tx' && off === R.TDT(q)) {
      this.stats.trappedTailWrites++;
      this.#harvestTx(q);
    } else {
      // Any other queue register may change where or whether the queue DMAs.
      this.#harvestAll(q, false, kind);
      this.#resync.add(`${kind}${q}`);
    }
  }

  /** The same write, after the device applied it. */
  afterWrite(off: number, value: number): void {
    if (!this.#started) return;
    if (off === R.CTRL && value & R.CTRL_RST) {
      for (let q = 0; q < VF_NUM_QUEUES; q++) { this.#rx[q] = this.#loadRx(q, true); this.#tx[q] = this.#loadTx(q); }
      return;
    }
    for (const key of this.#resync) {
      const q = Number(key.slice(2));
      if (key.startsWith('rx')) this.#rx[q] = this.#loadRx(q, true);
      else this.#tx[q] = this.#loadTx(q);
    }
    this.#resync.clear();
  }

  report(iova: bigint, length: bigint, pageSize: bigint): Buffer {
    if (!this.#started) throw new VfmedError('VFMED_ERR_DMA_LOGGING', 'dirty tracking not started', 22);
    checkReportArgs(iova, length, pageSize, this.#ranges);
    for (let q = 0; q < VF_NUM_QUEUES; q++) { this.#harvestRx(q); this.#harvestTx(q); }
    return this.#dirty.takeBitmap(iova, length, pageSize);
  }

  /** Buffers posted and not yet completed (for tests and status). */
  trackedBuffers(): number {
    return this.#rx.reduce((n, r) => n + r.addr.filter((a) => a !== undefined).length, 0);
  }

  #harvestAll(q: number, both: boolean, kind?: 'rx' | 'tx'): void {
    if (both || kind === 'rx') this.#harvestRx(q);
    if (both || kind === 'tx') this.#harvestTx(q);
  }

  #loadRx(q: number, readPosted: boolean): RxShadow {
    const enabled = (this.regs.read32(R.RXDCTL(q)) & R.XDCTL_ENABLE) !== 0;
    const count = (this.regs.read32(R.RDLEN(q)) >>> 0) / DESC_SIZE;
    const s: RxShadow = {
      enabled: enabled && Number.isInteger(count) && count > 0,
      base: (BigInt(this.regs.read32(R.RDBAH(q)) >>> 0) << 32n) | BigInt(this.regs.read32(R.RDBAL(q)) >>> 0),
      count: Number.isInteger(count) ? count : 0,
      bufBytes: rxBufferBytes(this.regs.read32(R.SRRCTL(q))),
      lastHead: this.regs.read32(R.RDH(q)) & 0xffff,
      tail: this.regs.read32(R.RDH(q)) & 0xffff,
      addr: [],
    };
    s.addr = new Array<bigint | undefined>(s.count).fill(undefined);
    if (readPosted && s.enabled) this.#postRx(q, this.regs.read32(R.RDT(q)) & 0xffff, s);
    return s;
  }

  #loadTx(q: number): TxShadow {
    const enabled = (this.regs.read32(R.TXDCTL(q)) & R.XDCTL_ENABLE) !== 0;
    const count = (this.regs.read32(R.TDLEN(q)) >>> 0) / DESC_SIZE;
    const wbal = this.regs.read32(R.TDWBAL(q)) >>> 0;
    return {
      enabled: enabled && Number.isInteger(count) && count > 0,
      base: (BigInt(this.regs.read32(R.TDBAH(q)) >>> 0) << 32n) | BigInt(this.regs.read32(R.TDBAL(q)) >>> 0),
      count: Number.isInteger(count) ? count : 0,
      lastHead: this.regs.read32(R.TDH(q)) & 0xffff,
      headWb: wbal & R.TDWBAL_ENABLE ? (BigInt(this.regs.read32(R.TDWBAH(q)) >>> 0) << 32n) | BigInt(wbal & ~3) : undefined,
    };
  }

  /** Records the buffers of descriptors [s.tail, newTail) (the device ignores tails >= count). */
  #postRx(q: number, newTail: number, s: RxShadow = this.#rx[q]!): void {
    if (!s.enabled || newTail >= s.count) return;
    let n = (newTail - s.tail + s.count) % s.count;
    if (n === 0) { s.tail = newTail; return; }
    const ring = this.mem.read(s.base, s.count * DESC_SIZE);
    if (!ring) { this.stats.unreadable++; s.tail = newTail; return; } // the device will fault the queue too
    for (let i = s.tail; n > 0; i = (i + 1) % s.count, n--) {
      s.addr[i] = ring.readBigUInt64LE(i * DESC_SIZE);
      this.stats.descriptorsRead++;
    }
    s.tail = newTail;
  }

  #harvestRx(q: number): void {
    const s = this.#rx[q];
    if (!s || !s.enabled) return;
    const head = this.regs.read32(R.RDH(q)) & 0xffff;
    if (head >= s.count) return;
    for (let i = s.lastHead; i !== head; i = (i + 1) % s.count) {
      const addr = s.addr[i];
      if (addr === undefined) this.stats.untracked++;
      else this.#dirty.markRange(addr, this.#writtenBytes(s, i));
      this.#dirty.markRange(s.base + BigInt(i * DESC_SIZE), DESC_SIZE);
      s.addr[i] = undefined;
      this.stats.harvested++;
    }
    s.lastHead = head;
  }

  /** The device writes at most a buffer; when the write-back is still there, exactly its length. */
  #writtenBytes(s: RxShadow, i: number): number {
    const wb = this.mem.read(s.base + BigInt(i * DESC_SIZE), DESC_SIZE);
    if (wb && wb.readUInt32LE(8) & R.RXD_STAT_DD) {
      const len = wb.readUInt16LE(12);
      if (len > 0 && len <= s.bufBytes) return len;
    }
    return s.bufBytes;
  }

  #harvestTx(q: number): void {
    const s = this.#tx[q];
    if (!s || !s.enabled) return;
    const head = this.regs.read32(R.TDH(q)) & 0xffff;
    if (head >= s.count || head === s.lastHead) return;
    if (s.headWb !== undefined) {
      this.#dirty.markRange(s.headWb, 4);
    } else {
      for (let i = s.lastHead; i !== head; i = (i + 1) % s.count) this.#dirty.markRange(s.base + BigInt(i * DESC_SIZE), DESC_SIZE);
    }
    s.lastHead = head;
  }
}
