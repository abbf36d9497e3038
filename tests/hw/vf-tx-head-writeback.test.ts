// TX completion by head write-back (TDWBAL bit 0): the device stores the new TDH at the
// write-back address when an RS descriptor completes and does not set DD; the PMD reclaims
// from that value. Also: without write-back the PMD reclaims by DD, and a NIC built with
// VFMED_NIC_F_NO_HEAD_WB falls back to DD.
import { afterEach, describe, expect, it } from 'vitest';
import { HwRig, vfMac } from '../helpers/rig.js';
import { collectN, waitUntil } from '../helpers/wait.js';
import { buildFrame } from '../../mediator/demo/frames.js';
import * as R from '../../mediator/demo/vf-regs.js';

describe('TX head write-back', () => {
  let rig: HwRig;
  afterEach(() => rig.close());

  function txDescDd(g: ReturnType<HwRig['guest']>, slot: number): boolean {
    const t = g.pmd.txRing(0);
    return (Atomics.load(g.mem.i32, (t.ring.offset + slot * 16 + R.TXD_OFF_OLINFO) >> 2) & R.TXD_STA_DD) !== 0;
  }

  it('writes the head to guest memory, sets no DD, and the PMD reclaims from it', () => {
    rig = new HwRig({ maxVfs: 2, numVfs: 2 });
    const a = rig.guest(0, { pmd: { txRingSize: 16, txHeadWriteBack: true, txBufSize: 2048 } });
    const b = rig.guest(1, { pmd: { rxRingSize: 64 } });
    a.pmd.init({ maxFrame: 9018 });
    b.pmd.init({ maxFrame: 9018 });
    const t = a.pmd.txRing(0);
    const wbValue = (): number => a.mem.view.getUint32(t.wb!.offset, true);
    // Three frames, the second in 3 descriptors: 5 descriptors, RS on slots 0, 3, 4.
    const frames = [100, 5000, 200].map((len, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 1, seq, len }));
    expect(a.pmd.tx(frames)).toBe(3);
    collectN(3, () => b.pmd.rx(), 'frames');
    waitUntil(() => wbValue() === 5, 'head write-back = 5');
    for (let s = 0; s < 5; s++) expect(txDescDd(a, s)).toBe(false);
    expect(a.pmd.txOutstanding()).toBe(0);
    expect(t.counters.frames).toBe(3);
    // Many more frames than the ring: reclaim only works if write-back keeps coming.
    const many = Array.from({ length: 200 }, (_, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 2, seq, len: 80 }));
    let sent = 0;
    const got = collectN(many.length, () => {
      if (sent < many.length) sent += a.pmd.tx(many.slice(sent, sent + 8));
      return b.pmd.rx();
    }, 'frames through a write-back ring');
    got.forEach((f, i) => expect(f.data.equals(many[i]!)).toBe(true));
    waitUntil(() => a.pmd.txOutstanding() === 0, 'all reclaimed');
    expect(wbValue()).toBe((5 + 200) % 16);
    expect(a.pmd.queueState(0).tdh).toBe((5 + 200) % 16);
  });

  it('a NIC without head write-back completes by DD', () => {
    rig = new HwRig({ maxVfs: 2, numVfs: 2, noHeadWriteBack: true });
    const a = rig.guest(0, { pmd: { txRingSize: 16 } });
    const b = rig.guest(1);
    a.pmd.init();
    b.pmd.init();
    const t = a.pmd.txRing(0);
    // Program TDWBAL by hand (the PMD without write-back leaves it 0).
    const wb = a.mem.alloc(16, 16);
    a.pmd.queuePort.write32(R.TDWBAH(0), Number(wb.iova >> 32n));
    a.pmd.queuePort.write32(R.TDWBAL(0), Number(wb.iova & 0xffffffffn) | R.TDWBAL_ENABLE);
    a.pmd.tx([buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 3, seq: 0, len: 64 })]);
    collectN(1, () => b.pmd.rx(), 'frame');
    waitUntil(() => txDescDd(a, 0), 'DD on slot 0');
    expect(a.mem.view.getUint32(wb.offset, true)).toBe(0);
    expect(t.reclaim()).toBe(1);
  });
});
