/**
 * One RX queue of the poll-mode driver: advanced one-buffer descriptors, one fixed buffer
 * per slot, completion by DD, frames reassembled across descriptors until EOP, re-armed
 * descriptors handed back to the device in batches through RDT.
 *
 *       clean                   RDT (held-back slot)
 *         v                      v
 *   [ done by device? | device owns ... | H | re-armed, not yet posted ]   (mod n)
 *
 *   clean = next descriptor to look at for DD (igbvf next_to_clean)
 *   The device owns [RDH, RDT). Slot RDT itself is armed but held back so that head never
 *   catches up with tail on a full ring (igbvf/DPDK convention, igbvf-vf.md 2.1): after
 *   cleaning up to `clean`, RDT = clean - 1.
 *   `unposted` counts cleaned + re-armed descriptors not yet covered by an RDT write; RDT
 *   is written when it reaches `batch` (DPDK rx_free_thresh) or on an explicit refill().
 */
import type { GuestMemory } from './guest-memory.js';
import type { RegPort } from './vf-reg-port.js';
import {
  DESC_SIZE, RDBAH, RDBAL, RDH, RDLEN, RDT, RXDCTL, RXDEXT_ERR_FRAME, RXD_OFF_LENGTH,
  RXD_OFF_STATUS, RXD_OFF_VLAN, RXD_STAT_DD, RXD_STAT_EOP, SRRCTL, SRRCTL_DESCTYPE_ADV_ONEBUF,
  SRRCTL_DROP_EN, XDCTL_ENABLE, XDCTL_WTHRESH_1,
} from './vf-regs.js';

export interface RxRingOptions {
  queue: number;
  size: number;
  /** Buffer per descriptor: a multiple of 1024 (SRRCTL.BSIZEPACKET is in KiB). */
  bufSize: number;
  batch: number;
  dropEn: boolean;
  /** Descriptors handed to the device at setup (default size - 1, the maximum). */
  initialPosted?: number;
}

export interface RxFrame {
  queue: number;
  data: Buffer;
  /** status_error of the EOP descriptor. */
  status: number;
  vlan: number;
  /** Descriptors the frame used. */
  descs: number;
}

export class IgbvfRxRing {
  readonly queue: number;
  readonly size: number;
  readonly bufSize: number;
  readonly batch: number;
  readonly dropEn: boolean;
  readonly ring: { offset: number; iova: bigint };
  readonly bufs: { offset: number; iova: bigint };
  private readonly initialPosted: number;
  private clean = 0;
  private unposted = 0;
  private rdt = 0;
  /** Fragments of a frame whose EOP descriptor has not been seen yet. */
  private partial: Buffer[] = [];
  readonly counters = { frames: 0, bytes: 0, descs: 0, errors: 0, rdtWrites: 0 };

  constructor(private readonly mem: GuestMemory, opts: RxRingOptions) {
    const { size, bufSize, batch } = opts;
    if (!Number.isInteger(size) || size < 8 || size > 4096 || size % 8 !== 0) {
      throw new RangeError(`RX ring size ${size}: must be a multiple of 8 in 8..4096`);
    }
    if (!Number.isInteger(bufSize) || bufSize < 1024 || bufSize > 127 * 1024 || bufSize % 1024 !== 0) {
      throw new RangeError(`RX buffer size ${bufSize}: must be a multiple of 1024 in 1 KiB..127 KiB`);
    }
    if (!Number.isInteger(batch) || batch < 1 || batch >= size) {
      throw new RangeError(`RX batch ${batch}: must be in 1..${size - 1}`);
    }
    const initial = opts.initialPosted ?? size - 1;
    if (!Number.isInteger(initial) || initial < 0 || initial > size - 1) {
      throw new RangeError(`RX initial posted ${initial}: must be in 0..${size - 1}`);
    }
    this.queue = opts.queue;
    this.size = size;
    this.bufSize = bufSize;
    this.batch = batch;
    this.dropEn = opts.dropEn;
    this.initialPosted = initial;
    this.ring = mem.alloc(size * DESC_SIZE, 4096);
    this.bufs = mem.alloc(size * bufSize, 4096);
  }

  private descOff(slot: number): number {
    return this.ring.offset + slot * DESC_SIZE;
  }

  /** Writes the read format {pkt_addr, hdr_addr = 0}; the hdr_addr store clears DD last. */
  private arm(slot: number): void {
    const d = this.descOff(slot);
    this.mem.view.setBigUint64(d, this.bufs.iova + BigInt(slot * this.bufSize), true);
    Atomics.store(this.mem.i32, (d + 8) >> 2, 0);
    Atomics.store(this.mem.i32, (d + 12) >> 2, 0);
  }

  /** igbvf-vf.md 5, RX queue setup. */
  program(port: RegPort): void {
    const q = this.queue;
    port.write32(RXDCTL(q), port.read32(RXDCTL(q)) & ~XDCTL_ENABLE);
    port.write32(RDBAL(q), Number(this.ring.iova & 0xffffffffn));
    port.write32(RDBAH(q), Number(this.ring.iova >> 32n));
    port.write32(RDLEN(q), this.size * DESC_SIZE);
    const srrctl = SRRCTL_DESCTYPE_ADV_ONEBUF | (this.bufSize / 1024) | (this.dropEn ? SRRCTL_DROP_EN : 0);
    port.write32(SRRCTL(q), srrctl >>> 0);
    for (let i = 0; i < this.size; i++) this.arm(i);
    port.write32(RXDCTL(q), XDCTL_ENABLE | XDCTL_WTHRESH_1);
    port.write32(RDH(q), 0);
    this.clean = 0;
    this.partial = [];
    // Hand over slots [0, initialPosted); the rest wait for refill().
    this.rdt = this.initialPosted;
    this.unposted = this.size - 1 - this.initialPosted;
    port.write32(RDT(q), this.rdt);
    this.counters.rdtWrites++;
  }

  /** Software indices, for tests and status output. */
  get indices(): { clean: number; rdt: number; unposted: number; partialFragments: number } {
    return { clean: this.clean, rdt: this.rdt, unposted: this.unposted, partialFragments: this.partial.length };
  }

  /** Posts every re-armed descriptor now: RDT = clean - 1. */
  refill(port: RegPort): void {
    if (this.unposted === 0) return;
    this.rdt = (this.rdt + this.unposted) % this.size;
    this.unposted = 0;
    port.write32(RDT(this.queue), this.rdt);
    this.counters.rdtWrites++;
  }

  /**
   * Collects up to `max` completed frames. Each descriptor whose DD is set is copied out,
   * re-armed at once and posted back in batches. A frame ends at its EOP descriptor;
   * a frame whose EOP carries an error bit is counted in `counters.errors` and dropped,
   * as igbvf does.
   */
  poll(port: RegPort, max = Infinity, out: RxFrame[] = []): RxFrame[] {
    let got = 0;
    while (got < max) {
      const d = this.descOff(this.clean);
      const status = Atomics.load(this.mem.i32, (d + RXD_OFF_STATUS) >> 2) >>> 0;
      if ((status & RXD_STAT_DD) === 0) break;
      // DD was written last by the device: the rest of the descriptor is valid now.
      const len = this.mem.view.getUint16(d + RXD_OFF_LENGTH, true);
      const vlan = this.mem.view.getUint16(d + RXD_OFF_VLAN, true);
      if (len > this.bufSize) {
        throw new Error(
          `RX queue ${this.queue} slot ${this.clean}: device wrote length ${len} > buffer ${this.bufSize}`,
        );
      }
      const bufOff = this.bufs.offset + this.clean * this.bufSize;
      this.partial.push(Buffer.from(this.mem.u8.subarray(bufOff, bufOff + len)));
      this.arm(this.clean);
      this.clean = (this.clean + 1) % this.size;
      this.counters.descs++;
      if (++this.unposted >= this.batch) this.refill(port);
      if ((status & RXD_STAT_EOP) === 0) continue;
      const parts = this.partial;
      this.partial = [];
      if ((status & RXDEXT_ERR_FRAME) !== 0) {
        this.counters.errors++;
        continue;
      }
      const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      out.push({ queue: this.queue, data, status, vlan, descs: parts.length });
      this.counters.frames++;
      this.counters.bytes += data.length;
      got++;
    }
    return out;
  }
}
