// VF state save/load between two NIC instances in the middle of traffic, the way the
// migration path uses it: quiesce on the source (through the source's PF driver), save,
// load into a VF of a FRESH NIC through its own PF driver, map the same guest RAM there,
// resume, and let the SAME poll-mode driver continue on the new BAR without a reset.
//
// What must survive: frames completed in the RX ring but not yet consumed (guest RAM),
// frames waiting in the RX FIFO (device-internal), a TX frame whose first descriptors the
// device already gathered while its EOP descriptor was not doorbelled yet (device-internal),
// doorbells rung while quiesced, the MAC filter, mailbox clear-to-send, statistics.
// Every frame arrives exactly once, in order, byte for byte.
import { afterEach, describe, expect, it } from 'vitest';
import { HwRig, vfMac, type Guest } from '../helpers/rig.js';
import { collectN, waitUntil } from '../helpers/wait.js';
import { buildFrame, checkFrame, mac } from '../../mediator/demo/frames.js';
import type { RxFrame } from '../../mediator/demo/igbvf-pmd.js';
import * as R from '../../mediator/demo/vf-regs.js';

const OUTSIDE = mac('02:99:00:00:00:04');
const BASE2 = Uint8Array.of(0x02, 0x76, 0x66, 0x00, 0x02, 0x40);

function takeAll(rig: HwRig): Buffer[] {
  const out: Buffer[] = [];
  for (let f = rig.nic.uplinkTake(); f; f = rig.nic.uplinkTake()) out.push(f);
  return out;
}

describe('VF state save -> load into a fresh NIC', () => {
  const rigs: HwRig[] = [];
  afterEach(() => {
    while (rigs.length) rigs.pop()!.close();
  });

  for (const trapped of [false, true]) {
    it(`mid-traffic, queue pages ${trapped ? 'trapped' : 'passthrough'}: every frame exactly once`, () => {
      const src = new HwRig({ maxVfs: 2, numVfs: 2 });
      rigs.push(src);
      const a: Guest = src.guest(0, { trappedQueues: trapped, pmd: { rxRingSize: 16, rxBatch: 4, txRingSize: 32, txQueues: [0, 1] } });
      const b: Guest = src.guest(1, { pmd: { txRingSize: 32 } });
      a.pmd.init();
      b.pmd.init();
      waitUntil(() => src.info(0).queues[0].rxEnabled && src.info(0).queues[0].rxTail === 15, 'VF0 RX enabled');
      const aMac = vfMac(0);
      const rxU: RxFrame[] = [];   // frames A received (uplink stream 1, VF1 stream 2)
      const upT: Buffer[] = [];    // frames A sent, as seen on the uplinks
      let useq = 0;
      const inject = (rig: HwRig, n: number): void => {
        for (let i = 0; i < n; i++) rig.nic.uplinkInject(buildFrame({ dst: aMac, src: OUTSIDE, stream: 1, seq: useq++, len: 300 + (useq % 7) * 100 }));
      };

      // ---- Phase 1: traffic on the source -------------------------------------------
      inject(src, 30);                            // 15 land in the ring, 15 wait in the FIFO
      const fromB = Array.from({ length: 10 }, (_, seq) => buildFrame({ dst: aMac, src: vfMac(1), stream: 2, seq, len: 90 + seq }));
      b.pmd.tx(fromB);
      waitUntil(() => b.pmd.txOutstanding() === 0, 'VF1 frames delivered to VF0');
      rxU.push(...a.pmd.rx({ max: 5 }));         // consume a few (RDT moves in batches of 4)
      let tseq = 0;
      const tFrames: Buffer[] = [];
      const mkT = (len: number): Buffer => {
        const f = buildFrame({ dst: OUTSIDE, src: aMac, stream: 3, seq: tseq++, len });
        tFrames.push(f);
        return f;
      };
      expect(a.pmd.tx(Array.from({ length: 10 }, (_, i) => mkT(100 + 90 * i)))).toBe(10);
      // A 1400-byte frame in 6 descriptors; the EOP descriptor is written but not doorbelled.
      expect(a.pmd.tx([mkT(1400)], { segmentSize: 256, holdBack: 1 })).toBe(1);
      const doorbell = a.pmd.txRing(0).indices.doorbell;
      expect(doorbell).toBe(15);
      waitUntil(() => src.info(0).queues[0].txHead === doorbell, 'the device to gather the partial frame');
      upT.push(...collectN(10, () => takeAll(src), 'first TX frames on the source uplink'));

      // ---- Phase 2: quiesce and save on the source ------------------------------------
      src.pfApi.vfQuiesce(0);
      expect(src.pfApi.vfGetConfig(0).quiesced).toBe(true);
      // Quiesced: frames still land in the FIFO, doorbells latch but nothing moves.
      inject(src, 5);
      rxU.push(...a.pmd.rx({ max: 6 }));
      a.pmd.rxRefill();
      // TX doorbells on queue 1 while quiesced: latched, sent only after the move.
      const q1Frames = Array.from({ length: 5 }, (_, seq) => buildFrame({ dst: OUTSIDE, src: aMac, stream: 4, seq, len: 200 + seq }));
      expect(a.pmd.tx(q1Frames, { queue: 1 })).toBe(5);
      const srcRegs = {
        rdt: a.pmd.queuePort.read32(R.RDT(0)), rdh: a.pmd.queuePort.read32(R.RDH(0)),
        tdt0: a.pmd.queuePort.read32(R.TDT(0)), tdh0: a.pmd.queuePort.read32(R.TDH(0)),
        tdt1: a.pmd.queuePort.read32(R.TDT(1)), tdh1: a.pmd.queuePort.read32(R.TDH(1)),
      };
      expect(srcRegs.rdt).toBe(a.pmd.rxRing(0).indices.rdt);
      expect(srcRegs.tdt0).toBe(doorbell);
      expect(srcRegs.tdh0).toBe(doorbell);
      expect(srcRegs.tdt1).toBe(5);
      expect(srcRegs.tdh1).toBe(0);
      const srcInfo = src.info(0);
      expect(srcInfo.fifoFrames).toBeGreaterThan(0);
      const size = src.pfApi.vfStateSize(0);
      const blob = src.pfApi.vfSave(0);
      expect(blob.length).toBeGreaterThan(0);
      expect(blob.length).toBeLessThanOrEqual(size);
      expect(blob.readBigUInt64LE(0)).toBe(0x53465644454d4656n);
      // Nothing left the source after the save.
      expect(takeAll(src)).toEqual([]);

      // ---- Phase 3: load into a fresh NIC and continue the same PMD there -----------------
      const dst = new HwRig({ maxVfs: 2, numVfs: 1, baseMac: BASE2 });
      rigs.push(dst);
      const ports = dst.adopt(0, a, { trappedQueues: trapped });
      // Load into a quiesced VF (passthrough run) or a freshly enabled one (trapped run).
      if (!trapped) dst.pfApi.vfQuiesce(0);
      dst.pfApi.vfLoad(0, blob);
      expect(dst.pfApi.vfGetConfig(0).quiesced).toBe(true);
      const dstInfo = dst.info(0);
      expect(dstInfo.fifoFrames).toBe(srcInfo.fifoFrames);
      expect(dstInfo.fifoBytes).toBe(srcInfo.fifoBytes);
      expect(Buffer.from(dstInfo.mac)).toEqual(Buffer.from(aMac));
      // The register file came along: tails rung while quiesced, heads where the source
      // device left them.
      expect({
        rdt: ports.queues.read32(R.RDT(0)), rdh: ports.queues.read32(R.RDH(0)),
        tdt0: ports.queues.read32(R.TDT(0)), tdh0: ports.queues.read32(R.TDH(0)),
        tdt1: ports.queues.read32(R.TDT(1)), tdh1: ports.queues.read32(R.TDH(1)),
      }).toEqual(srcRegs);
      a.pmd.rebind(ports.misc, ports.queues, ports.service);
      dst.pfApi.vfResume(0);

      // ---- Phase 4: traffic on the destination ----------------------------------------
      inject(dst, 20);
      a.pmd.txFlush(0);                          // the EOP of the partial frame
      a.pmd.tx(Array.from({ length: 12 }, (_, i) => mkT(60 + 111 * i)));
      const totalU = useq + fromB.length;
      rxU.push(...collectN(totalU - rxU.length, () => a.pmd.rx(), 'the rest of the RX streams on the destination'));
      upT.push(...collectN(tFrames.length + q1Frames.length - upT.length, () => takeAll(dst),
        'the rest of the TX streams on the destination uplink'));

      // Exactly once, in order, byte for byte.
      const s1 = rxU.filter((f) => checkFrame(f.data).stream === 1);
      const s2 = rxU.filter((f) => checkFrame(f.data).stream === 2);
      expect(s1.map((f) => checkFrame(f.data).seq)).toEqual([...Array(useq).keys()]);
      expect(s2.map((f) => checkFrame(f.data).seq)).toEqual([...Array(fromB.length).keys()]);
      s2.forEach((f, i) => expect(f.data.equals(fromB[i]!)).toBe(true));
      const t3 = upT.filter((f) => checkFrame(f).stream === 3);
      const t4 = upT.filter((f) => checkFrame(f).stream === 4);
      expect(t3).toHaveLength(tFrames.length);
      t3.forEach((f, i) => expect(f.equals(tFrames[i]!)).toBe(true));
      expect(t4).toHaveLength(q1Frames.length);
      t4.forEach((f, i) => expect(f.equals(q1Frames[i]!)).toBe(true));
      expect(a.pmd.rx()).toEqual([]);
      expect(takeAll(dst)).toEqual([]);
      expect(takeAll(src)).toEqual([]);
      waitUntil(() => a.pmd.txOutstanding() === 0, 'TX reclaimed on the destination');

      // Statistics continued across the move (the PMD folds deltas; a reset counter would
      // show up as a huge wrap).
      const st = a.pmd.sampleStats();
      expect(st.gprc).toBe(BigInt(totalU));
      expect(st.gptc).toBe(BigInt(tFrames.length + q1Frames.length));
      expect(st.gprlbc).toBe(BigInt(fromB.length));
      // The mailbox still works without a reset: clear-to-send came along.
      expect(a.pmd.setVlan(5, true)).toBe(true);
      expect(a.pmd.linkUp()).toBe(true);
      expect(a.canaryDamage()).toBe(-1);
    });
  }
});

describe('VF state save during a lossless stall', () => {
  const rigs: HwRig[] = [];
  afterEach(() => {
    while (rigs.length) rigs.pop()!.close();
  });

  it('a sender stalled behind a full peer FIFO moves with its half-gathered frame', () => {
    const FIFO = 16 << 10;
    const src = new HwRig({ maxVfs: 2, numVfs: 2, rxFifoBytes: FIFO });
    rigs.push(src);
    const a = src.guest(0, { pmd: { txRingSize: 128 } });
    const b = src.guest(1, { pmd: { rxRingSize: 8, rxBatch: 2 } });
    a.pmd.init();
    b.pmd.init();
    waitUntil(() => src.info(1).queues[0].rxEnabled, 'VF1 RX enabled');
    const n = 40;
    const frames = Array.from({ length: n }, (_, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 1, seq, len: 1000 }));
    expect(a.pmd.tx(frames, { segmentSize: 600 })).toBe(n); // 2 descriptors per frame
    // 7 frames in VF1's ring, 16 in its FIFO; frame 23's first half is gathered and its
    // EOP descriptor is retried: TDH = 23 * 2 + 1.
    const kept = 7 + Math.floor(FIFO / 1000);
    waitUntil(() => src.info(0).queues[0].txHead === kept * 2 + 1 && src.info(1).fifoFrames === kept - 7,
      'VF0 to stall on the EOP of frame 23', { detail: () => JSON.stringify(src.info(0).queues[0]) });
    src.pfApi.vfQuiesce(0);
    const blob = src.pfApi.vfSave(0);
    // The source VF is released after the move: a function-level reset.
    src.pfApi.driver.vfFlr(0);

    const dst = new HwRig({ maxVfs: 1, numVfs: 1, baseMac: BASE2, rxFifoBytes: FIFO });
    rigs.push(dst);
    const ports = dst.adopt(0, a);
    dst.pfApi.vfLoad(0, blob);
    a.pmd.rebind(ports.misc, ports.queues, ports.service);
    dst.pfApi.vfResume(0);

    // VF1 stays on the source NIC: there the rest goes out of the destination's uplink.
    const atB = collectN(kept, () => b.pmd.rx(), 'frames VF1 got before the move');
    const atUplink = collectN(n - kept, () => takeAll(dst), 'the rest on the destination uplink');
    expect(atB.map((f) => checkFrame(f.data).seq)).toEqual([...Array(kept).keys()]);
    atB.forEach((f, i) => expect(f.data.equals(frames[i]!)).toBe(true));
    atUplink.forEach((f, i) => expect(f.equals(frames[kept + i]!)).toBe(true));
    waitUntil(() => a.pmd.txOutstanding() === 0, 'VF0 TX reclaimed on the destination');
    // Nothing is sent twice: the source's uplink and VF1 get nothing more.
    expect(b.pmd.rx()).toEqual([]);
    expect(takeAll(src)).toEqual([]);
    expect(src.info(1).fifoFrames).toBe(0);
  });

  it('a destination whose RX FIFO is smaller than the saved contents refuses the blob (EPROTO), untouched', () => {
    const src = new HwRig({ maxVfs: 2, numVfs: 1, rxFifoBytes: 64 << 10 });
    rigs.push(src);
    const a = src.guest(0, { pmd: { rxRingSize: 8 } });
    a.pmd.init();
    waitUntil(() => src.info(0).queues[0].rxEnabled, 'VF0 RX enabled');
    for (let seq = 0; seq < 40; seq++) src.nic.uplinkInject(buildFrame({ dst: vfMac(0), src: OUTSIDE, stream: 1, seq, len: 1000 }));
    waitUntil(() => src.info(0).fifoFrames === 33, '33 frames in the FIFO');
    src.pfApi.vfQuiesce(0);
    const blob = src.pfApi.vfSave(0);
    const small = new HwRig({ maxVfs: 1, numVfs: 1, baseMac: BASE2, rxFifoBytes: 16 << 10 });
    rigs.push(small);
    expect(() => small.pfApi.vfLoad(0, blob)).toThrow(/EPROTO/);
    expect(small.info(0).fifoFrames).toBe(0);
    expect(Buffer.from(small.info(0).mac)).toEqual(Buffer.from(vfMac(0, BASE2)));
    const big = new HwRig({ maxVfs: 1, numVfs: 1, baseMac: BASE2, rxFifoBytes: 64 << 10 });
    rigs.push(big);
    big.pfApi.vfLoad(0, blob);
    expect(big.info(0).fifoFrames).toBe(33);
  });
});
