// The L2 switch between VFs and the uplink, exercised through the PMD: VF -> VF by
// destination MAC, VF -> uplink for unknown unicast, uplink -> VF, with every payload
// checked byte for byte and every frame accounted for exactly once.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HwRig, vfMac, type Guest } from '../helpers/rig.js';
import { collectN, waitUntil } from '../helpers/wait.js';
import { buildFrame, checkFrame, mac } from '../../mediator/demo/frames.js';
import type { RxFrame } from '../../mediator/demo/igbvf-pmd.js';

const OUTSIDE = mac('02:99:00:00:00:01');

function lengths(n: number, seed: number): number[] {
  // Deterministic spread over 60..1514 including both ends.
  const out = [60, 1514];
  for (let i = 2; i < n; i++) out.push(60 + ((i * 397 + seed * 31) % (1514 - 60 + 1)));
  return out;
}

describe('switch forwarding', () => {
  let rig: HwRig;
  let a: Guest;
  let b: Guest;
  beforeEach(() => {
    rig = new HwRig({ maxVfs: 4, numVfs: 2 });
    a = rig.guest(0, { pmd: { txRingSize: 64, rxRingSize: 64 } });
    b = rig.guest(1, { pmd: { txRingSize: 64, rxRingSize: 64 } });
    a.pmd.init();
    b.pmd.init();
  });
  afterEach(() => rig.close());

  it('VF -> VF: every frame arrives once, in order, byte for byte', () => {
    const lens = lengths(40, 1);
    const frames = lens.map((len, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 1, seq, len }));
    expect(a.pmd.tx(frames)).toBe(frames.length);
    const got = collectN(frames.length, () => b.pmd.rx(), 'frames on VF1');
    expect(got.map((f) => checkFrame(f.data).seq)).toEqual(lens.map((_, i) => i));
    got.forEach((f, i) => expect(f.data.equals(frames[i]!)).toBe(true));
    // Loopback frames carry LB in the RX status (igbvf-vf.md 2.2).
    expect(got.every((f) => (f.status & 0x40000) !== 0)).toBe(true);
    expect(a.pmd.rx()).toEqual([]);
    expect(rig.nic.uplinkTake()).toBeNull();
    // TX completion: every descriptor comes back.
    collectN(1, () => (a.pmd.txOutstanding() === 0 ? [1] : []), 'TX reclaim');
  });

  it('VF -> uplink for an unknown destination, and uplink -> VF', () => {
    const lens = lengths(24, 2);
    const out = lens.map((len, seq) => buildFrame({ dst: OUTSIDE, src: vfMac(0), stream: 2, seq, len }));
    a.pmd.tx(out);
    const taken = collectN(out.length, () => {
      const f = rig.nic.uplinkTake();
      return f ? [f] : [];
    }, 'frames on the uplink');
    taken.forEach((f, i) => expect(Buffer.compare(f, out[i]!)).toBe(0));
    expect(b.pmd.rx()).toEqual([]);

    const inbound = lens.map((len, seq) => buildFrame({ dst: vfMac(1), src: OUTSIDE, stream: 3, seq, len }));
    for (const f of inbound) rig.nic.uplinkInject(f);
    const got = collectN(inbound.length, () => b.pmd.rx(), 'uplink frames on VF1');
    got.forEach((f: RxFrame, i) => {
      expect(f.data.equals(inbound[i]!)).toBe(true);
      expect(f.status & 0x40000).toBe(0); // not loopback
    });
    expect(a.pmd.rx()).toEqual([]);
  });

  it('both directions at once between two VFs', () => {
    const n = 100;
    const ab = Array.from({ length: n }, (_, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 10, seq, len: 64 + seq * 7 }));
    const ba = Array.from({ length: n }, (_, seq) => buildFrame({ dst: vfMac(0), src: vfMac(1), stream: 11, seq, len: 1514 - seq * 9 }));
    const gotA: RxFrame[] = [];
    const gotB: RxFrame[] = [];
    let sentA = 0;
    let sentB = 0;
    collectN(2 * n, () => {
      if (sentA < n) sentA += a.pmd.tx(ab.slice(sentA, sentA + 16));
      if (sentB < n) sentB += b.pmd.tx(ba.slice(sentB, sentB + 16));
      const ra = a.pmd.rx();
      const rb = b.pmd.rx();
      gotA.push(...ra);
      gotB.push(...rb);
      return [...ra, ...rb];
    }, 'frames in both directions');
    expect(gotB.map((f) => checkFrame(f.data).seq)).toEqual([...Array(n).keys()]);
    expect(gotA.map((f) => checkFrame(f.data).seq)).toEqual([...Array(n).keys()]);
    gotB.forEach((f, i) => expect(f.data.equals(ab[i]!)).toBe(true));
    gotA.forEach((f, i) => expect(f.data.equals(ba[i]!)).toBe(true));
  });

  it('works with the queue pages trapped instead of passthrough', () => {
    const t = rig.guest(1, { trappedQueues: true, noDmaMap: true, dmaLen: 1 << 20, pmd: { txRingSize: 64, rxRingSize: 64 } });
    // Re-map VF1's guest RAM for the new guest: drop the first guest's map.
    rig.nic.vfDmaUnmapAll(1);
    rig.nic.vfDmaMap(1, t.mem.iovaBase, BigInt(t.mem.dmaLen), t.mem.fd, 0n, 3);
    t.pmd.init();
    const frames = lengths(20, 3).map((len, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 4, seq, len }));
    a.pmd.tx(frames);
    const got = collectN(frames.length, () => t.pmd.rx(), 'frames on trapped VF1');
    got.forEach((f, i) => expect(f.data.equals(frames[i]!)).toBe(true));
    const replies = lengths(20, 4).map((len, seq) => buildFrame({ dst: vfMac(0), src: vfMac(1), stream: 5, seq, len }));
    t.pmd.tx(replies);
    const back = collectN(replies.length, () => a.pmd.rx(), 'frames back on VF0');
    back.forEach((f, i) => expect(f.data.equals(replies[i]!)).toBe(true));
  });

  it('broadcast goes to every other VF and the uplink, never back to the sender', () => {
    const bc = Uint8Array.of(255, 255, 255, 255, 255, 255);
    const frames = [60, 700, 1514].map((len, seq) => buildFrame({ dst: bc, src: vfMac(0), stream: 20, seq, len }));
    a.pmd.tx(frames);
    const atB = collectN(frames.length, () => b.pmd.rx(), 'broadcasts on VF1');
    const up = collectN(frames.length, () => {
      const f = rig.nic.uplinkTake();
      return f ? [f] : [];
    }, 'broadcasts on the uplink');
    atB.forEach((f, i) => expect(f.data.equals(frames[i]!)).toBe(true));
    up.forEach((f, i) => expect(f.equals(frames[i]!)).toBe(true));
    waitUntil(() => a.pmd.txOutstanding() === 0, 'VF0 TX done');
    expect(a.pmd.rx()).toEqual([]);
  });

  it('multicast reaches only VFs that registered its hash; VLAN-tagged frames only VFs in the VLAN', () => {
    const group = mac('01:00:5e:7f:00:42');
    expect(b.pmd.setMulticast([group])).toBe(true);
    expect(b.pmd.setVlan(100, true)).toBe(true);
    const mc = buildFrame({ dst: group, src: OUTSIDE, stream: 21, seq: 0, len: 100 });
    const otherGroup = buildFrame({ dst: mac('01:00:5e:7f:00:43'), src: OUTSIDE, stream: 21, seq: 1, len: 100 });
    const tag = (f: Buffer, vid: number): Buffer => Buffer.concat([f.subarray(0, 12), Buffer.from([0x81, 0x00, vid >> 8, vid & 0xff]), f.subarray(12)]);
    const inVlan = tag(buildFrame({ dst: vfMac(1), src: OUTSIDE, stream: 21, seq: 2, len: 100 }), 100);
    const otherVlan = tag(buildFrame({ dst: vfMac(1), src: OUTSIDE, stream: 21, seq: 3, len: 100 }), 200);
    const last = buildFrame({ dst: vfMac(1), src: OUTSIDE, stream: 21, seq: 4, len: 100 });
    rig.nic.uplinkInject(mc);
    rig.nic.uplinkInject(otherGroup); // nobody wants it: filtered (the uplink counts it)
    rig.nic.uplinkInject(inVlan);
    rig.nic.uplinkInject(otherVlan);
    rig.nic.uplinkInject(last);
    // Frames are delivered in order, so once `last` is in, nothing else can still come.
    const got = collectN(3, () => b.pmd.rx(), 'filtered frames on VF1');
    expect(got.map((f) => f.data)).toEqual([mc, inVlan, last]);
    expect(a.pmd.rx()).toEqual([]);
  });

  it('unicast to the sender\'s own MAC goes out of the uplink, not back into the VF', () => {
    const f = buildFrame({ dst: vfMac(0), src: vfMac(0), stream: 22, seq: 0, len: 64 });
    a.pmd.tx([f]);
    const up = collectN(1, () => {
      const x = rig.nic.uplinkTake();
      return x ? [x] : [];
    }, 'the frame on the uplink');
    expect(up[0]!.equals(f)).toBe(true);
    expect(a.pmd.rx()).toEqual([]);
  });
});

