// The tail-trap dirty tracker against a simulated igbvf device (TypeScript, single
// threaded, so every report is taken with the device idle): recall must be 100 % at every
// report, through ring wrap, multi-descriptor frames, queue 1, TX write-backs, head
// write-back, a VF reset in the middle and a driver that reposts buffers at new addresses.
// The real-hardware version of this check (against the C device's ground-truth log) lives
// with the mediator integration tests.
import { describe, expect, it } from 'vitest';
import { TailTrapTracker } from '../../mediator/mediate/tail-trap-tracker.js';
import { AllDirtyTracker } from '../../mediator/mediate/all-dirty-tracker.js';
import { bitmapPages } from '../../mediator/mediate/dirty-tracker.js';
import * as R from '../../mediator/hw/vf-regs.js';
import type { FastPathTailWrite } from '../../mediator/vfio/fast-path.js';

const RAM_BASE = 0x100000n, RAM_BYTES = 4 << 20;

/** Guest RAM + a register file + a device model that logs every page it writes. */
class SimVf {
  ram = Buffer.alloc(RAM_BYTES);
  regs = new Map<number, number>();
  truth = new Set<number>();
  tracker = new TailTrapTracker({ read32: (o) => this.regs.get(o) ?? 0 }, {
    read: (iova, len) => (iova >= RAM_BASE && iova + BigInt(len) <= RAM_BASE + BigInt(RAM_BYTES)
      ? this.ram.subarray(Number(iova - RAM_BASE), Number(iova - RAM_BASE) + len) : undefined),
  });
  trapped = false;
  /** Device work done inside a write (the real device processes a trapped write at once). */
  inWrite: ((off: number) => void) | null = null;

  /** Tail writes served the way the transport's fast path serves them (logged, replayed
   * when the tracker pulls), as native/transport/fast-path.cc records them. */
  fastPath = false;
  log: FastPathTailWrite[] = [];

  /** A register store by the driver: trapped (through the tracker) or passthrough. */
  write(off: number, v: number): void {
    if (this.trapped && this.fastPath && this.logTail(off, v)) {
      this.regs.set(off, v >>> 0);
      this.inWrite?.(off);
      return;
    }
    if (this.trapped) this.tracker.beforeWrite(off, v);
    this.regs.set(off, v >>> 0);
    if (off === R.CTRL && v & R.CTRL_RST) {
      for (const q of [0, 1]) { this.regs.set(R.RXDCTL(q), 0); this.regs.set(R.TXDCTL(q), 0); }
      this.regs.set(R.CTRL, 0);
    }
    this.inWrite?.(off);
    if (this.trapped) this.tracker.afterWrite(off, v);
  }

  /** The native log's rules: RX needs an enabled queue, valid tails and a readable ring. */
  logTail(off: number, v: number): boolean {
    for (const q of [0, 1]) {
      if (off === R.TDT(q)) {
        this.log.push({ kind: 'tx', q, head: this.regs.get(R.TDH(q)) ?? 0, oldTail: this.regs.get(R.TDT(q)) ?? 0, newTail: v, addrs: new Float64Array(0) });
        return true;
      }
      if (off !== R.RDT(q)) continue;
      const { base, count } = this.rxRing(q);
      const old = this.regs.get(R.RDT(q)) ?? 0;
      if (!((this.regs.get(R.RXDCTL(q)) ?? 0) & R.XDCTL_ENABLE) || count === 0 || v >= count || old >= count) return false;
      const n = (v - old + count) % count;
      const addrs = new Float64Array(n);
      for (let k = 0, i = old; k < n; k++, i = (i + 1) % count) addrs[k] = Number(this.ram.readBigUInt64LE(Number(base - RAM_BASE) + i * 16));
      this.log.push({ kind: 'rx', q, head: this.regs.get(R.RDH(q)) ?? 0, oldTail: old, newTail: v, addrs });
      return true;
    }
    return false;
  }

  dev(iova: bigint, bytes: Buffer): void {
    bytes.copy(this.ram, Number(iova - RAM_BASE));
    for (let p = Number(iova >> 12n); p <= Number((iova + BigInt(bytes.length) - 1n) >> 12n); p++) this.truth.add(p);
  }

  rxRing(q: number) {
    const base = (BigInt(this.regs.get(R.RDBAH(q)) ?? 0) << 32n) | BigInt(this.regs.get(R.RDBAL(q)) ?? 0);
    const count = (this.regs.get(R.RDLEN(q)) ?? 0) / 16;
    const bsize = ((this.regs.get(R.SRRCTL(q)) ?? 0) & 0x7f || 2) * 1024;
    return { base, count, bsize };
  }

  /** The device receives one frame on queue q, if it has enough posted descriptors. */
  receive(q: number, len: number): boolean {
    if (!((this.regs.get(R.RXDCTL(q)) ?? 0) & R.XDCTL_ENABLE)) return false;
    const { base, count, bsize } = this.rxRing(q);
    let head = this.regs.get(R.RDH(q)) ?? 0;
    const tail = this.regs.get(R.RDT(q)) ?? 0;
    const need = Math.ceil(len / bsize);
    if ((tail - head + count) % count < need) return false;
    for (let left = len; left > 0; head = (head + 1) % count) {
      const d = base + BigInt(head * 16);
      const addr = this.ram.readBigUInt64LE(Number(d - RAM_BASE));
      const n = Math.min(left, bsize);
      this.dev(addr, Buffer.alloc(n, 0xab));
      const wb = Buffer.alloc(16);
      wb.writeUInt32LE(R.RXD_STAT_DD | (left === n ? R.RXD_STAT_EOP : 0), 8);
      wb.writeUInt16LE(n, 12);
      this.dev(d, wb);
      left -= n;
    }
    this.regs.set(R.RDH(q), head);
    return true;
  }

  /** The device transmits everything posted on TX queue q. */
  transmit(q: number): void {
    const base = BigInt(this.regs.get(R.TDBAL(q)) ?? 0), count = (this.regs.get(R.TDLEN(q)) ?? 0) / 16;
    let head = this.regs.get(R.TDH(q)) ?? 0;
    const tail = this.regs.get(R.TDT(q)) ?? 0;
    const wbal = this.regs.get(R.TDWBAL(q)) ?? 0;
    while (head !== tail) {
      head = (head + 1) % count;
      if (wbal & 1) { const b = Buffer.alloc(4); b.writeUInt32LE(head); this.dev(BigInt(wbal & ~3), b); }
      else this.dev(base + BigInt(((head - 1 + count) % count) * 16 + 12), Buffer.from([1, 0, 0, 0]));
    }
    this.regs.set(R.TDH(q), head);
  }

  /** Truth pages inside RAM since the last call. */
  takeTruth(): Set<number> { const t = this.truth; this.truth = new Set(); return t; }
}

/** An igbvf-style driver: rings in RAM, buffers from a pool; reposts refill from `next`. */
class SimDriver {
  next: number[] = [];
  head = [0, 0];
  constructor(private vf: SimVf, private ringBase = [0x100000, 0x102000], public count = 64, private bsizeKib = 2) {}
  setupRx(q: number, bufferBase: number): void {
    const vf = this.vf;
    vf.write(R.RXDCTL(q), 0);
    vf.write(R.RDBAL(q), this.ringBase[q]!);
    vf.write(R.RDBAH(q), 0);
    vf.write(R.RDLEN(q), this.count * 16);
    vf.write(R.SRRCTL(q), 0x02000000 | this.bsizeKib);
    for (let i = 0; i < this.count; i++) this.arm(q, i, BigInt(bufferBase + i * this.bsizeKib * 1024));
    vf.write(R.RXDCTL(q), R.XDCTL_ENABLE);
    vf.write(R.RDH(q), 0);
    vf.write(R.RDT(q), this.count - 1);
    this.head[q] = 0;
  }
  arm(q: number, i: number, addr: bigint): void {
    const off = this.ringBase[q]! - Number(RAM_BASE) + i * 16;
    this.vf.ram.writeBigUInt64LE(addr, off);
    this.vf.ram.writeBigUInt64LE(0n, off + 8);
  }
  /** Reclaims completed descriptors and reposts them (optionally at a new address). */
  refill(q: number, newAddr?: (i: number) => bigint): number {
    let n = 0;
    for (;;) {
      const i = this.head[q]!;
      const off = this.ringBase[q]! - Number(RAM_BASE) + i * 16;
      if (!(this.vf.ram.readUInt32LE(off + 8) & R.RXD_STAT_DD)) break;
      const old = this.vf.ram.readBigUInt64LE(off); // the write-back overwrote it, use the pool:
      void old;
      this.arm(q, i, newAddr ? newAddr(i) : BigInt(this.bufferOf(q, i)));
      this.head[q] = (i + 1) % this.count;
      n++;
    }
    if (n) this.vf.write(R.RDT(q), (this.head[q]! - 1 + this.count) % this.count);
    return n;
  }
  bufferOf(q: number, i: number): number { return 0x200000 + q * 0x100000 + i * this.bsizeKib * 1024; }
}

function reportPages(t: TailTrapTracker | AllDirtyTracker): Set<number> {
  return new Set(bitmapPages(t.report(RAM_BASE, BigInt(RAM_BYTES), 4096n), RAM_BASE, 4096n));
}

function checkRecall(vf: SimVf, stats: { reported: number; truth: number }): void {
  const truth = vf.takeTruth();
  const reported = reportPages(vf.tracker);
  for (const p of truth) expect(reported.has(p), `page 0x${(p * 4096).toString(16)} written but not reported`).toBe(true);
  stats.reported += reported.size;
  stats.truth += truth.size;
}

describe('tail-trap dirty tracking against a simulated device', () => {
  it('100 % recall through ring wrap, buffers posted before trapping, and reposts; high precision', () => {
    const vf = new SimVf(), drv = new SimDriver(vf);
    drv.setupRx(0, drv.bufferOf(0, 0));
    for (let i = 0; i < 10; i++) vf.receive(0, 60); // before trapping: not tracked, not required
    drv.refill(0);
    vf.takeTruth();
    vf.trapped = true;
    vf.tracker.start([{ iova: RAM_BASE, length: BigInt(RAM_BYTES) }], 4096n);
    expect(vf.tracker.trackedBuffers()).toBe(63); // everything posted when trapping began
    const stats = { reported: 0, truth: 0 };
    for (let round = 0; round < 40; round++) {
      for (let f = 0; f < 50; f++) if (!vf.receive(0, 64 + ((round * 7 + f) % 1400))) break;
      drv.refill(0);
      if (round % 3 === 0) checkRecall(vf, stats);
    }
    checkRecall(vf, stats);
    expect(vf.tracker.stats.untracked).toBe(0);
    expect(stats.truth / stats.reported).toBeGreaterThanOrEqual(0.9);
  });

  it('multi-descriptor frames, queue 1 and a driver reposting at new addresses', () => {
    const vf = new SimVf(), drv = new SimDriver(vf, [0x100000, 0x104000], 32, 1);
    drv.setupRx(0, drv.bufferOf(0, 0));
    drv.setupRx(1, drv.bufferOf(1, 0));
    vf.trapped = true;
    vf.tracker.start([{ iova: RAM_BASE, length: BigInt(RAM_BYTES) }], 4096n);
    const stats = { reported: 0, truth: 0 };
    let k = 0; // fresh addresses cycle through 1 MiB of RAM at 0x380000
    const fresh = () => BigInt(0x380000 + ((k++ * 0x1000) % 0x100000));
    for (let round = 0; round < 30; round++) {
      for (let f = 0; f < 6; f++) { vf.receive(0, 3000); vf.receive(1, 1500 + f * 100); }
      drv.refill(0, fresh);
      drv.refill(1);
      checkRecall(vf, stats);
    }
    expect(stats.truth).toBeGreaterThan(100);
    expect(vf.tracker.stats.untracked).toBe(0);
  });

  it('a VF reset in the middle, then re-initialisation at a new ring', () => {
    const vf = new SimVf(), drv = new SimDriver(vf);
    drv.setupRx(0, drv.bufferOf(0, 0));
    vf.trapped = true;
    vf.tracker.start([{ iova: RAM_BASE, length: BigInt(RAM_BYTES) }], 4096n);
    const stats = { reported: 0, truth: 0 };
    for (let f = 0; f < 20; f++) vf.receive(0, 100);
    vf.write(R.CTRL, R.CTRL_RST); // harvests what completed, then the queues are off
    expect(vf.receive(0, 100)).toBe(false);
    checkRecall(vf, stats);
    const drv2 = new SimDriver(vf, [0x106000, 0x108000]);
    drv2.setupRx(0, 0x300000);
    for (let round = 0; round < 10; round++) { for (let f = 0; f < 30; f++) vf.receive(0, 200); drv2.refill(0); checkRecall(vf, stats); }
    expect(vf.tracker.stats.untracked).toBe(0);
  });

  it('a device that completes descriptors inside a configuration write (the driver writing RDH = 0)', () => {
    const vf = new SimVf(), drv = new SimDriver(vf);
    drv.setupRx(0, drv.bufferOf(0, 0));
    vf.trapped = true;
    vf.tracker.start([{ iova: RAM_BASE, length: BigInt(RAM_BYTES) }], 4096n);
    const stats = { reported: 0, truth: 0 };
    for (let f = 0; f < 20; f++) vf.receive(0, 100);
    drv.refill(0);
    vf.write(R.CTRL, R.CTRL_RST);
    checkRecall(vf, stats);
    // Frames waiting in the FIFO land the moment the queue can take them: right after the
    // driver's RDH = 0 the (stale) tail still leaves room, inside the same trapped write.
    vf.inWrite = (off) => {
      if (off === R.RDH(0)) for (let f = 0; f < 5; f++) vf.receive(0, 300);
    };
    const drv2 = new SimDriver(vf, [0x106000, 0x108000]);
    drv2.setupRx(0, 0x300000);
    vf.inWrite = null;
    checkRecall(vf, stats);
    for (let round = 0; round < 5; round++) { for (let f = 0; f < 30; f++) vf.receive(0, 200); drv2.refill(0); checkRecall(vf, stats); }
    expect(stats.truth).toBeGreaterThan(20);
    expect(vf.tracker.stats.untracked).toBe(0);
  });

  it('TX: descriptor write-backs, and the head write-back target when enabled', () => {
    const vf = new SimVf();
    vf.write(R.TDBAL(0), 0x10a000); vf.write(R.TDLEN(0), 64 * 16); vf.write(R.TXDCTL(0), R.XDCTL_ENABLE);
    vf.trapped = true;
    vf.tracker.start([{ iova: RAM_BASE, length: BigInt(RAM_BYTES) }], 4096n);
    const stats = { reported: 0, truth: 0 };
    for (let t = 1; t < 200; t++) { vf.write(R.TDT(0), t % 64); vf.transmit(0); if (t % 17 === 0) checkRecall(vf, stats); }
    vf.write(R.TDWBAL(0), 0x10c000 | 1);
    for (let t = 200; t < 300; t++) { vf.write(R.TDT(0), t % 64); vf.transmit(0); }
    checkRecall(vf, stats);
    expect(reportPages(vf.tracker).size).toBe(0); // report clears
  });

  it('reports fold into larger page sizes and only inside the logged ranges', () => {
    const vf = new SimVf(), drv = new SimDriver(vf);
    drv.setupRx(0, drv.bufferOf(0, 0));
    vf.trapped = true;
    vf.tracker.start([{ iova: 0n, length: 0x200000n }, { iova: 0x200000n, length: 0x400000n }], 0x200000n);
    vf.receive(0, 64); // buffer at 0x200000, descriptor ring at 0x100000
    drv.refill(0);
    expect(() => vf.tracker.report(0n, 0x400000n, 0x200000n)).toThrow(/inside one logged range/);
    expect([...vf.tracker.report(0n, 0x200000n, 0x200000n)]).toEqual([1]); // the ring page
    expect([...vf.tracker.report(0x200000n, 0x400000n, 0x200000n)]).toEqual([1]); // the buffer
    expect([...vf.tracker.report(0x200000n, 0x400000n, 0x200000n)]).toEqual([0]); // cleared
    expect(() => vf.tracker.report(0n, 0x200000n, 3000n)).toThrow(/power of two/);
  });
});

describe('tail writes served natively (fast path log, replayed on pull)', () => {
  function fastVf(): SimVf {
    const vf = new SimVf();
    vf.fastPath = true;
    vf.tracker.pull = () => vf.tracker.replay(vf.log.splice(0));
    return vf;
  }

  it('100 % recall with several ring laps between reports, reposts at new addresses', () => {
    const vf = fastVf(), drv = new SimDriver(vf, [0x100000, 0x104000], 32, 1);
    drv.setupRx(0, drv.bufferOf(0, 0));
    drv.setupRx(1, drv.bufferOf(1, 0));
    vf.trapped = true;
    vf.tracker.start([{ iova: RAM_BASE, length: BigInt(RAM_BYTES) }], 4096n);
    const stats = { reported: 0, truth: 0 };
    let k = 0;
    const fresh = () => BigInt(0x380000 + ((k++ * 0x1000) % 0x100000));
    for (let round = 0; round < 60; round++) {
      for (let f = 0; f < 8; f++) { vf.receive(0, 1800); vf.receive(1, 200 + f * 100); }
      drv.refill(0, round % 2 ? fresh : undefined);
      drv.refill(1);
      if (round % 10 === 9) checkRecall(vf, stats); // ~5 laps of each 32-entry ring between reports
    }
    checkRecall(vf, stats);
    expect(vf.tracker.stats.trappedTailWrites).toBeGreaterThan(100);
    expect(vf.tracker.stats.untracked).toBe(0);
    expect(stats.truth / stats.reported).toBeGreaterThanOrEqual(0.5); // whole buffers on replay
  });

  it('a logged write that does not match the shadow costs precision, never recall', () => {
    const vf = fastVf(), drv = new SimDriver(vf);
    drv.setupRx(0, drv.bufferOf(0, 0));
    vf.trapped = true;
    vf.tracker.start([{ iova: RAM_BASE, length: BigInt(RAM_BYTES) }], 4096n);
    for (let f = 0; f < 10; f++) vf.receive(0, 100);
    drv.refill(0);
    vf.log[vf.log.length - 1]!.oldTail ^= 1; // as if a tail write had been missed
    for (let f = 0; f < 80; f++) vf.receive(0, 100); // completes the slots the entry posted
    const stats = { reported: 0, truth: 0 };
    checkRecall(vf, stats);
    expect(vf.tracker.stats.untracked).toBeGreaterThan(0);
    expect(vf.tracker.stats.allDirtyReports).toBe(1);
  });

  it('an address the log could not represent (NaN) is unknown: all-dirty when it completes', () => {
    const vf = fastVf(), drv = new SimDriver(vf);
    drv.setupRx(0, drv.bufferOf(0, 0));
    vf.trapped = true;
    vf.tracker.start([{ iova: RAM_BASE, length: BigInt(RAM_BYTES) }], 4096n);
    for (let f = 0; f < 5; f++) vf.receive(0, 100);
    drv.refill(0);
    vf.log[0]!.addrs[0] = NaN;
    for (let f = 0; f < 70; f++) vf.receive(0, 100);
    const stats = { reported: 0, truth: 0 };
    checkRecall(vf, stats);
    expect(vf.tracker.stats.untracked).toBe(1);
  });

  it('stop() replays what was logged before it; stats pull the log', () => {
    const vf = fastVf(), drv = new SimDriver(vf);
    drv.setupRx(0, drv.bufferOf(0, 0));
    vf.trapped = true;
    vf.tracker.start([{ iova: RAM_BASE, length: BigInt(RAM_BYTES) }], 4096n);
    vf.receive(0, 100);
    drv.refill(0);
    expect(vf.log).toHaveLength(1);
    expect(vf.tracker.stats.trappedTailWrites).toBe(1);
    expect(vf.log).toHaveLength(0);
    vf.receive(0, 100);
    drv.refill(0);
    vf.tracker.stop();
    expect(vf.log).toHaveLength(0);
  });
});

describe('all-dirty tracker', () => {
  it('reports every page of the range, every time, with exact trailing bits', () => {
    const t = new AllDirtyTracker();
    t.start([{ iova: 0n, length: 0xb000n }], 4096n);
    expect([...t.report(0n, 0xb000n, 4096n)]).toEqual([0xff, 0x07]);
    expect([...t.report(0n, 0xb000n, 4096n)]).toEqual([0xff, 0x07]);
    t.stop();
    expect(() => t.report(0n, 0x1000n, 4096n)).toThrow(/not started/);
  });
});
