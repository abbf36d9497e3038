/**
 * One TX queue of the poll-mode driver: advanced data descriptors in guest RAM, one fixed
 * buffer per slot, doorbell = TDT, completion by DD on the RS (last) descriptor of each
 * frame or, when head write-back is on, by the head value the device stores in guest RAM.
 *
 *        clean              doorbell            tail
 *          v                   v                  v
 *   [ free | in flight (device) | written, held   | free ... ]   (mod n)
 *
 *   clean    = next slot to reclaim (oldest descriptor not yet known complete)
 *   doorbell = last TDT value written: the device owns [TDH, doorbell)
 *   tail     = next slot software fills; [doorbell, tail) are written but not yet handed
 *              over (a "held" doorbell, used to leave a multi-descriptor frame half posted)
 *
 * At most n - 1 slots are ever outstanding, so tail never catches up with clean.
 */
import type { GuestMemory } from './guest-memory.js';
import type { RegPort } from './vf-reg-port.js';
import {
  DESC_SIZE, TDBAH, TDBAL, TDH, TDLEN, TDT, TDWBAH, TDWBAL, TDWBAL_ENABLE, TXDCTL, TXD_DCMD_DEXT,
  TXD_DCMD_EOP, TXD_DCMD_IFCS, TXD_DCMD_RS, TXD_DTYP_DATA, TXD_OFF_CMD, TXD_OFF_OLINFO,
  TXD_PAYLEN_SHIFT, TXD_STA_DD, XDCTL_ENABLE, XDCTL_WTHRESH_1,
} from './vf-regs.js';

export interface TxRingOptions {
  queue: number;
  size: number;
  bufSize: number;
  headWriteBack: boolean;
}

/** One descriptor as the fault-injection path writes it, unchecked. */
export interface RawTxDesc {
  addr: bigint;
  cmdTypeLen: number;
  olinfo: number;
}

const DATA_CMD = (TXD_DTYP_DATA | TXD_DCMD_DEXT | TXD_DCMD_IFCS) >>> 0;

export class IgbvfTxRing {
  readonly queue: number;
  readonly size: number;
  readonly bufSize: number;
  readonly headWriteBack: boolean;
  readonly ring: { offset: number; iova: bigint };
  readonly bufs: { offset: number; iova: bigint };
  readonly wb: { offset: number; iova: bigint } | null;
  private clean = 0;
  private doorbell = 0;
  private tail = 0;
  /** For the first slot of each frame: its last slot (the RS descriptor); -1 otherwise. */
  private readonly lastOf: Int32Array;
  /** Frames and descriptors completed since setup. */
  readonly counters = { frames: 0, descs: 0, bytes: 0 };

  constructor(private readonly mem: GuestMemory, opts: TxRingOptions) {
    const { size, bufSize } = opts;
    if (!Number.isInteger(size) || size < 8 || size > 4096 || size % 8 !== 0) {
      throw new RangeError(`TX ring size ${size}: must be a multiple of 8 in 8..4096`);
    }
    if (!Number.isInteger(bufSize) || bufSize < 64 || bufSize > 0xffff) {
      throw new RangeError(`TX buffer size ${bufSize}: must be in 64..65535`);
    }
    this.queue = opts.queue;
    this.size = size;
    this.bufSize = bufSize;
    this.headWriteBack = opts.headWriteBack;
    this.ring = mem.alloc(size * DESC_SIZE, 4096);
    this.bufs = mem.alloc(size * bufSize, 64);
    this.wb = opts.headWriteBack ? mem.alloc(16, 16) : null;
    this.lastOf = new Int32Array(size).fill(-1);
  }

  /** igbvf-vf.md 5, TX queue setup: disable, base, length, head = tail = 0, enable. */
  program(port: RegPort): void {
    const q = this.queue;
    this.mem.u8.fill(0, this.ring.offset, this.ring.offset + this.size * DESC_SIZE);
    port.write32(TXDCTL(q), port.read32(TXDCTL(q)) & ~XDCTL_ENABLE);
    port.write32(TDBAL(q), Number(this.ring.iova & 0xffffffffn));
    port.write32(TDBAH(q), Number(this.ring.iova >> 32n));
    port.write32(TDLEN(q), this.size * DESC_SIZE);
    port.write32(TDH(q), 0);
    port.write32(TDT(q), 0);
    if (this.wb) {
      this.mem.view.setUint32(this.wb.offset, 0, true);
      port.write32(TDWBAH(q), Number(this.wb.iova >> 32n));
      port.write32(TDWBAL(q), Number(this.wb.iova & 0xfffffffcn) | TDWBAL_ENABLE);
    } else {
      port.write32(TDWBAL(q), 0);
      port.write32(TDWBAH(q), 0);
    }
    port.write32(TXDCTL(q), XDCTL_ENABLE | XDCTL_WTHRESH_1);
    this.clean = this.doorbell = this.tail = 0;
    this.lastOf.fill(-1);
  }

  /** Descriptors handed to the device or written and held, not yet reclaimed. */
  get outstanding(): number {
    return (this.tail - this.clean + this.size) % this.size;
  }

  /** Descriptors written but not yet covered by a TDT write. */
  get held(): number {
    return (this.tail - this.doorbell + this.size) % this.size;
  }

  get freeSlots(): number {
    return this.size - 1 - this.outstanding;
  }

  /** Software indices, for tests and status output. */
  get indices(): { clean: number; doorbell: number; tail: number } {
    return { clean: this.clean, doorbell: this.doorbell, tail: this.tail };
  }

  private descOff(slot: number): number {
    return this.ring.offset + slot * DESC_SIZE;
  }

  /**
   * Reclaims completed descriptors. By DD: a frame is complete when its RS descriptor has
   * DD. By head write-back: everything before the written-back head is complete.
   * Returns the number of descriptors reclaimed.
   */
  reclaim(): number {
    let freed = 0;
    if (this.wb) {
      const head = Atomics.load(this.mem.i32, this.wb.offset >> 2) >>> 0;
      if (head >= this.size) return 0; // garbage: never trust it past the ring
      while (this.clean !== head && this.clean !== this.doorbell) {
        const last = this.lastOf[this.clean]!;
        if (last >= 0) this.counters.frames++;
        this.lastOf[this.clean] = -1;
        this.clean = (this.clean + 1) % this.size;
        freed++;
      }
    } else {
      while (this.clean !== this.doorbell) {
        const last = this.lastOf[this.clean]!;
        if (last < 0) break; // not the start of a frame we know: nothing to reclaim by DD
        const olinfo = Atomics.load(this.mem.i32, (this.descOff(last) + TXD_OFF_OLINFO) >> 2);
        if ((olinfo & TXD_STA_DD) === 0) break;
        const n = ((last - this.clean + this.size) % this.size) + 1;
        this.lastOf[this.clean] = -1;
        this.clean = (last + 1) % this.size;
        this.counters.frames++;
        freed += n;
      }
    }
    this.counters.descs += freed;
    return freed;
  }

  /**
   * Writes one frame as ceil(len / segmentSize) data descriptors (DTYP_DATA | DEXT | IFCS on
   * each, EOP | RS on the last, PAYLEN = whole frame on each). Returns false, writing
   * nothing, when the ring lacks slots. Does not ring the doorbell.
   */
  enqueue(frame: Uint8Array, segmentSize = this.bufSize): boolean {
    if (frame.length === 0) throw new RangeError('cannot transmit an empty frame');
    if (!Number.isInteger(segmentSize) || segmentSize < 1 || segmentSize > this.bufSize) {
      throw new RangeError(`segment size ${segmentSize}: must be in 1..${this.bufSize}`);
    }
    if (frame.length >= 1 << 18) throw new RangeError(`frame of ${frame.length} bytes exceeds PAYLEN`);
    const nseg = Math.ceil(frame.length / segmentSize);
    if (nseg > this.freeSlots) return false;
    const first = this.tail;
    let slot = first;
    for (let s = 0; s < nseg; s++) {
      const part = frame.subarray(s * segmentSize, Math.min(frame.length, (s + 1) * segmentSize));
      const bufOff = this.bufs.offset + slot * this.bufSize;
      this.mem.u8.set(part, bufOff);
      const last = s === nseg - 1;
      const cmd = (DATA_CMD | part.length | (last ? TXD_DCMD_EOP | TXD_DCMD_RS : 0)) >>> 0;
      const d = this.descOff(slot);
      this.mem.view.setBigUint64(d, this.bufs.iova + BigInt(slot * this.bufSize), true);
      this.mem.view.setUint32(d + TXD_OFF_CMD, cmd, true);
      this.mem.view.setUint32(d + TXD_OFF_OLINFO, (frame.length << TXD_PAYLEN_SHIFT) >>> 0, true);
      if (last) this.lastOf[first] = slot;
      slot = (slot + 1) % this.size;
    }
    this.tail = slot;
    this.counters.bytes += frame.length;
    return true;
  }

  /**
   * Fault injection: writes `descs` verbatim at the tail (no checks on addresses or
   * lengths) and accounts them as one frame. Returns false when the ring lacks slots.
   */
  enqueueRaw(descs: readonly RawTxDesc[]): boolean {
    if (descs.length === 0 || descs.length > this.freeSlots) return false;
    const first = this.tail;
    let slot = first;
    descs.forEach((desc, i) => {
      const d = this.descOff(slot);
      this.mem.view.setBigUint64(d, desc.addr, true);
      this.mem.view.setUint32(d + TXD_OFF_CMD, desc.cmdTypeLen >>> 0, true);
      this.mem.view.setUint32(d + TXD_OFF_OLINFO, desc.olinfo >>> 0, true);
      if (i === descs.length - 1) this.lastOf[first] = slot;
      slot = (slot + 1) % this.size;
    });
    this.tail = slot;
    return true;
  }

  /** Hands descriptors to the device: TDT = tail, or tail minus `holdBack` descriptors. */
  ringDoorbell(port: RegPort, holdBack = 0): void {
    if (!Number.isInteger(holdBack) || holdBack < 0 || holdBack > this.held) {
      throw new RangeError(`cannot hold back ${holdBack} of ${this.held} written descriptors`);
    }
    const t = (this.tail - holdBack + this.size) % this.size;
    if (t === this.doorbell) return;
    this.doorbell = t;
    port.write32(TDT(this.queue), t); // the store barrier is in the port (Atomics.store)
  }
}
