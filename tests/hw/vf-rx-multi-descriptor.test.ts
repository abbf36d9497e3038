// Frames larger than one buffer: RX spreads them over consecutive descriptors (DD on each,
// EOP only on the last, per-fragment length), TX gathers them from several data
// descriptors; the PMD reassembles and checks every byte.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HwRig, vfMac, type Guest } from '../helpers/rig.js';
import { collectN, waitUntil } from '../helpers/wait.js';
import { buildFrame, checkFrame } from '../../mediator/demo/frames.js';
import * as R from '../../mediator/demo/vf-regs.js';

describe('multi-descriptor frames', () => {
  let rig: HwRig;
  let a: Guest;
  let b: Guest;
  beforeEach(() => {
    rig = new HwRig({ maxVfs: 2, numVfs: 2, rxFifoBytes: 256 << 10 });
    a = rig.guest(0, { dmaLen: 4 << 20, pmd: { txRingSize: 128, rxRingSize: 64, txBufSize: 4096 } });
    b = rig.guest(1, { dmaLen: 4 << 20, pmd: { txRingSize: 64, rxRingSize: 64, rxBufSize: 1024, rxBatch: 8 } });
    a.pmd.init({ maxFrame: 9018 });
    b.pmd.init({ maxFrame: 9018 });
  });
  afterEach(() => rig.close());

  it('RX write-back: DD on every fragment, EOP only on the last, fragment lengths', () => {
    const len = 3000; // 1024 + 1024 + 952
    const f = buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 1, seq: 0, len });
    a.pmd.tx([f]);
    const rx = b.pmd.rxRing(0);
    const st = (slot: number): number => Atomics.load(b.mem.i32, (rx.ring.offset + slot * 16 + 8) >> 2) >>> 0;
    const ln = (slot: number): number => b.mem.view.getUint16(rx.ring.offset + slot * 16 + 12, true);
    waitUntil(() => (st(2) & R.RXD_STAT_DD) !== 0, 'DD on the third descriptor');
    expect(st(0) & (R.RXD_STAT_DD | R.RXD_STAT_EOP)).toBe(R.RXD_STAT_DD);
    expect(st(1) & (R.RXD_STAT_DD | R.RXD_STAT_EOP)).toBe(R.RXD_STAT_DD);
    expect(st(2) & (R.RXD_STAT_DD | R.RXD_STAT_EOP)).toBe(R.RXD_STAT_DD | R.RXD_STAT_EOP);
    expect([ln(0), ln(1), ln(2)]).toEqual([1024, 1024, 952]);
    expect(st(3) & R.RXD_STAT_DD).toBe(0);
    expect(b.pmd.queueState(0).rdh).toBe(3);
    const got = b.pmd.rx();
    expect(got).toHaveLength(1);
    expect(got[0]!.descs).toBe(3);
    expect(got[0]!.data.equals(f)).toBe(true);
  });

  it('TX gathers from many descriptors; RX splits; both across ring wrap', () => {
    const lens = [1024, 1025, 2048, 4000, 9000, 60, 8191, 3333];
    const frames: Buffer[] = [];
    for (let round = 0; round < 6; round++) {
      for (const [i, len] of lens.entries()) {
        frames.push(buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 2, seq: round * lens.length + i, len }));
      }
    }
    let sent = 0;
    const got = collectN(frames.length, () => {
      // Odd segment sizes so TX descriptor boundaries never line up with RX buffers.
      if (sent < frames.length) sent += a.pmd.tx(frames.slice(sent, sent + 4), { segmentSize: 700 });
      return b.pmd.rx();
    }, 'jumbo frames');
    got.forEach((g, i) => {
      expect(checkFrame(g.data).seq).toBe(i);
      expect(g.data.equals(frames[i]!)).toBe(true);
      expect(g.descs).toBe(Math.ceil(frames[i]!.length / 1024));
    });
    expect(b.pmd.rxRing(0).counters.errors).toBe(0);
  });

  it('a frame that needs more descriptors than the ring has is dropped and counted (RQDPC)', () => {
    const small = rig.guest(1, { noDmaMap: true, dmaLen: 1 << 20, pmd: { rxRingSize: 8, rxBufSize: 1024, rxBatch: 2 } });
    rig.nic.vfDmaUnmapAll(1);
    rig.nic.vfDmaMap(1, small.mem.iovaBase, BigInt(small.mem.dmaLen), small.mem.fd, 0n, 3);
    small.pmd.init({ maxFrame: 9018 });
    const port = small.pmd.queuePort;
    const dropsBefore = port.read32(R.RQDPC(0));
    const big = buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 3, seq: 0, len: 9000 }); // 9 > 7 descriptors
    const ok = buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 3, seq: 1, len: 5000 });
    a.pmd.tx([big, ok]);
    const got = collectN(1, () => small.pmd.rx(), 'the frame that fits');
    expect(got[0]!.data.equals(ok)).toBe(true);
    expect(port.read32(R.RQDPC(0)) - dropsBefore).toBe(1);
  });
});
