// Statistics: the VF's 32-bit counters (VFGPRC/VFGPTC/VFGORC/VFGOTC, VFMPRC, the loopback
// counters) as the PMD reads them through the trapped path, and the PF driver's 64-bit
// VF_STATS view, after a known mix of VF->VF, VF->uplink, uplink->VF and multicast traffic.
// Octet registers count frame + 4 bytes of CRC (as QEMU does); VF_STATS counts frame bytes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HwRig, vfMac, type Guest } from '../helpers/rig.js';
import { collectN, waitUntil } from '../helpers/wait.js';
import { buildFrame, mac } from '../../mediator/demo/frames.js';
import { IgbvfPmd } from '../../mediator/demo/igbvf-pmd.js';
import { fakeMemory, fakePort } from '../helpers/fake-device.js';
import * as R from '../../mediator/demo/vf-regs.js';

const OUTSIDE = mac('02:99:00:00:00:02');
const MCAST = mac('01:00:5e:01:02:03');
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

describe('statistics', () => {
  let rig: HwRig;
  let a: Guest;
  let b: Guest;
  beforeEach(() => {
    rig = new HwRig({ maxVfs: 2, numVfs: 2 });
    a = rig.guest(0, { pmd: { txRingSize: 64, rxRingSize: 64 } });
    b = rig.guest(1, { pmd: { txRingSize: 64, rxRingSize: 64 } });
    a.pmd.init();
    b.pmd.init({ multicast: [MCAST] });
  });
  afterEach(() => rig.close());

  it('device registers and PF VF_STATS agree with the traffic sent', () => {
    const before = { a: a.pmd.readStatRegs(), b: b.pmd.readStatRegs() };
    const pfBeforeA = rig.pfApi.vfStats(0);
    const pfBeforeB = rig.pfApi.vfStats(1);

    const lbLens = [60, 61, 128, 512, 1000, 1514];
    const upLens = [64, 300, 1514];
    const inLens = [70, 800];
    const mcLens = [90, 91, 92];
    a.pmd.tx(lbLens.map((len, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 1, seq, len })));
    a.pmd.tx(upLens.map((len, seq) => buildFrame({ dst: OUTSIDE, src: vfMac(0), stream: 2, seq, len })));
    a.pmd.tx(mcLens.map((len, seq) => buildFrame({ dst: MCAST, src: vfMac(0), stream: 3, seq, len })));
    for (const [seq, len] of inLens.entries()) {
      rig.nic.uplinkInject(buildFrame({ dst: vfMac(1), src: OUTSIDE, stream: 4, seq, len }));
    }
    const nRxB = lbLens.length + inLens.length + mcLens.length;
    collectN(nRxB, () => b.pmd.rx(), 'frames on VF1');
    // Multicast goes to the accepting VF and out of the uplink.
    collectN(upLens.length + mcLens.length, () => {
      const f = rig.nic.uplinkTake();
      return f ? [f] : [];
    }, 'uplink frames');
    waitUntil(() => a.pmd.txOutstanding() === 0, 'VF0 TX completions');

    const ra = a.pmd.readStatRegs();
    const rb = b.pmd.readStatRegs();
    const d = (x: number, y: number): number => (x - y + 2 ** 32) % 2 ** 32;
    const nTx = lbLens.length + upLens.length + mcLens.length;
    const txBytes = sum(lbLens) + sum(upLens) + sum(mcLens);
    // VF0: transmit side.
    expect(d(ra.gptc, before.a.gptc)).toBe(nTx);
    expect(d(ra.gotc, before.a.gotc)).toBe(txBytes + 4 * nTx);
    // Loopback TX: unicast to VF1 and multicast that VF1 accepted.
    const nLb = lbLens.length + mcLens.length;
    expect(d(ra.gptlbc, before.a.gptlbc)).toBe(nLb);
    expect(d(ra.gotlbc, before.a.gotlbc)).toBe(sum(lbLens) + sum(mcLens) + 4 * nLb);
    expect(d(ra.gprc, before.a.gprc)).toBe(0);
    // VF1: receive side.
    const rxBytes = sum(lbLens) + sum(inLens) + sum(mcLens);
    expect(d(rb.gprc, before.b.gprc)).toBe(nRxB);
    expect(d(rb.gorc, before.b.gorc)).toBe(rxBytes + 4 * nRxB);
    expect(d(rb.gprlbc, before.b.gprlbc)).toBe(nLb);
    expect(d(rb.gorlbc, before.b.gorlbc)).toBe(sum(lbLens) + sum(mcLens) + 4 * nLb);
    expect(d(rb.mprc, before.b.mprc)).toBe(mcLens.length);
    expect(d(rb.gptc, before.b.gptc)).toBe(0);
    expect(rb.dmaErr).toBe(before.b.dmaErr);
    expect(rb.fifoDrop).toBe(before.b.fifoDrop);

    // The PF's 64-bit view (frame bytes, no CRC).
    const pa = rig.pfApi.vfStats(0);
    const pb = rig.pfApi.vfStats(1);
    expect(pa.txPackets - pfBeforeA.txPackets).toBe(BigInt(nTx));
    expect(pa.txBytes - pfBeforeA.txBytes).toBe(BigInt(txBytes));
    expect(pa.txLbPackets - pfBeforeA.txLbPackets).toBe(BigInt(nLb));
    expect(pa.txLbBytes - pfBeforeA.txLbBytes).toBe(BigInt(sum(lbLens) + sum(mcLens)));
    expect(pb.rxPackets - pfBeforeB.rxPackets).toBe(BigInt(nRxB));
    expect(pb.rxBytes - pfBeforeB.rxBytes).toBe(BigInt(rxBytes));
    expect(pb.rxMcast - pfBeforeB.rxMcast).toBe(BigInt(mcLens.length));
    expect(pb.rxLbPackets - pfBeforeB.rxLbPackets).toBe(BigInt(nLb));
    expect(pb.rxLbBytes - pfBeforeB.rxLbBytes).toBe(BigInt(sum(lbLens) + sum(mcLens)));
    expect(pb.dmaErrors).toBe(0n);
    expect(pb.rxFifoDrops).toBe(0n);
    expect(pb.fifoFrames).toBe(0n);
    // The device's introspection agrees with VF_STATS.
    const ib = rig.info(1);
    expect(ib.rxPackets).toBe(pb.rxPackets);
    expect(ib.rxBytes).toBe(pb.rxBytes);
    // And the PMD's 64-bit fold of the registers.
    const sa = a.pmd.sampleStats();
    expect(sa.gptc).toBe(BigInt(nTx));
    expect(sa.gotc).toBe(BigInt(txBytes + 4 * nTx));
  });

  it('statistics registers ignore writes', () => {
    a.pmd.tx([buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 9, seq: 0, len: 100 })]);
    collectN(1, () => b.pmd.rx(), 'one frame');
    const port = b.pmd.miscPort;
    const v = port.read32(R.VFGPRC);
    expect(v).toBeGreaterThan(0);
    port.write32(R.VFGPRC, 0);
    expect(port.read32(R.VFGPRC)).toBe(v);
  });
});

describe('PMD statistics folding (no device)', () => {
  it('folds 32-bit wrapping registers into monotonic 64-bit totals', () => {
    const port = fakePort();
    const regs = port.regs;
    const pmd = new IgbvfPmd({ misc: port, queues: port, mem: fakeMemory(), txRingSize: 8, rxRingSize: 8, rxBatch: 4 });
    regs.set(R.VFGPRC, 0xfffffff0);
    pmd.sampleStats(true);
    regs.set(R.VFGPRC, 0x10); // wrapped: +0x20
    expect(pmd.sampleStats().gprc).toBe(0x20n);
    regs.set(R.VFGPRC, 0x80000010);
    expect(pmd.sampleStats().gprc).toBe(0x20n + 0x80000000n);
    regs.set(R.VFGPRC, 0x10); // wrapped again: +0x80000000
    expect(pmd.sampleStats().gprc).toBe(0x20n + 0x100000000n);
  });
});
