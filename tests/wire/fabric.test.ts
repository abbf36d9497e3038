// The lossless L2 fabric joining two NICs' uplinks (native/wire/fabric.c, the migration
// benchmark's network): unicast goes to the NIC whose VF owns the MAC (hairpin included),
// broadcast to the other NICs, unknown unicast is dropped and counted, and a receiver that
// cannot take frames (full FIFO, no RX descriptors) makes them wait - and the sender pause -
// instead of losing any.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HwRig, vfMac, type Guest } from '../helpers/rig.js';
import { collectN } from '../helpers/wait.js';
import { buildFrame, checkFrame, mac } from '../../mediator/demo/frames.js';
import { createFabric, type NativeFabric } from '../../mediator/wire/wire-native.js';

const MAC_A = Uint8Array.of(0x02, 0x76, 0x66, 0x0a, 0x00, 0x10);
const MAC_B = Uint8Array.of(0x02, 0x76, 0x66, 0x0b, 0x00, 0x10);

describe('lossless fabric between two NICs', () => {
  let hostA: HwRig;
  let hostB: HwRig;
  let a: Guest;
  let b: Guest;
  let fabric: NativeFabric;
  beforeEach(() => {
    hostA = new HwRig({ maxVfs: 2, numVfs: 1, baseMac: MAC_A, rxFifoBytes: 16 * 1024 });
    hostB = new HwRig({ maxVfs: 2, numVfs: 1, baseMac: MAC_B, rxFifoBytes: 16 * 1024 });
    a = hostA.guest(0, { pmd: { txRingSize: 256, rxRingSize: 64 } });
    b = hostB.guest(0, { pmd: { txRingSize: 256, rxRingSize: 64 } });
    a.pmd.init();
    b.pmd.init();
    fabric = createFabric([hostA.nic, hostB.nic]);
  });
  afterEach(() => {
    fabric.destroy();
    hostA.close();
    hostB.close();
  });

  it('unicast crosses to the NIC that owns the MAC, in order, byte for byte', () => {
    const frames = Array.from({ length: 50 }, (_, seq) => buildFrame({ dst: vfMac(0, MAC_B), src: vfMac(0, MAC_A), stream: 1, seq, len: 60 + seq * 29 }));
    expect(a.pmd.tx(frames)).toBe(frames.length);
    const got = collectN(frames.length, () => b.pmd.rx(), 'frames on host B');
    got.forEach((f, i) => expect(f.data.equals(frames[i]!)).toBe(true));
    expect(a.pmd.rx()).toEqual([]);
    const st = fabric.stats();
    expect(st.frames).toBe(50n);
    expect(st.delivered).toBe(50n);
    expect(st.unknown + st.overflow).toBe(0n);
  });

  it('hairpins a frame to its sender\'s own MAC back to the sender', () => {
    const frames = Array.from({ length: 10 }, (_, seq) => buildFrame({ dst: vfMac(0, MAC_A), src: vfMac(0, MAC_A), stream: 2, seq, len: 128 }));
    a.pmd.tx(frames);
    const got = collectN(frames.length, () => a.pmd.rx(), 'frames back on host A');
    expect(got.map((f) => checkFrame(f.data).seq)).toEqual(frames.map((_, i) => i));
    expect(b.pmd.rx()).toEqual([]);
  });

  it('broadcast reaches the other NIC only; unknown unicast is dropped and counted', () => {
    a.pmd.tx([buildFrame({ dst: mac('ff:ff:ff:ff:ff:ff'), src: vfMac(0, MAC_A), stream: 3, seq: 0, len: 64 })]);
    expect(collectN(1, () => b.pmd.rx(), 'broadcast on host B')).toHaveLength(1);
    a.pmd.tx([buildFrame({ dst: mac('02:99:00:00:00:01'), src: vfMac(0, MAC_A), stream: 3, seq: 1, len: 64 })]);
    collectN(1, () => (fabric.stats().unknown === 1n ? [1] : []), 'the unknown frame counted');
    expect(a.pmd.rx()).toEqual([]);
    expect(b.pmd.rx()).toEqual([]);
  });

  it('a receiver that cannot take frames makes them wait, never drop: every frame arrives once', () => {
    // Far more than host B's 16 KiB FIFO and 64 RX descriptors hold: B does not poll RX
    // while A sends, so frames back up into the fabric (and A pauses) until B drains.
    const n = 2000;
    const frames = Array.from({ length: n }, (_, seq) => buildFrame({ dst: vfMac(0, MAC_B), src: vfMac(0, MAC_A), stream: 4, seq, len: 256 }));
    let sent = 0;
    const got: number[] = [];
    while (sent < n) {
      sent += a.pmd.tx(frames.slice(sent, sent + 128));
      a.pmd.txReclaim();
      if (fabric.stats().held > 200) for (const f of b.pmd.rx()) got.push(checkFrame(f.data).seq);
    }
    expect(fabric.stats().heldMax).toBeGreaterThan(0n);
    for (const f of collectN(n - got.length, () => b.pmd.rx(), 'every frame on host B')) got.push(checkFrame(f.data).seq);
    expect(got).toEqual(frames.map((_, i) => i));
    const st = fabric.stats();
    expect(st.unknown + st.overflow).toBe(0n);
    expect(hostB.info(0).fifoDrops).toBe(0n);
  });

  it('pauses the sender when the fabric is full (8192 frames queued), then every frame arrives once', () => {
    const n = 10_000;
    const frames = Array.from({ length: n }, (_, seq) => buildFrame({ dst: vfMac(0, MAC_B), src: vfMac(0, MAC_A), stream: 5, seq, len: 60 }));
    let sent = 0;
    const deadline = Date.now() + 20_000;
    // B takes nothing: A fills the fabric until the fabric pauses it.
    while (fabric.stats().pauses === 0n) {
      if (Date.now() > deadline) throw new Error(`no pause after ${sent} frames: ${JSON.stringify(fabric.stats(), (_, v) => typeof v === 'bigint' ? String(v) : v)}`);
      sent += a.pmd.tx(frames.slice(sent, sent + 128));
      a.pmd.txReclaim();
    }
    const held = fabric.stats().held;
    expect(held).toBeGreaterThanOrEqual(8192);
    expect(held).toBeLessThan(8192 + 64);
    const got: number[] = [];
    while (got.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${got.length} of ${n} frames arrived`);
      if (sent < n) sent += a.pmd.tx(frames.slice(sent, sent + 128));
      a.pmd.txReclaim();
      for (const f of b.pmd.rx()) got.push(checkFrame(f.data).seq);
    }
    expect(got).toEqual(frames.map((_, i) => i));
    const st = fabric.stats();
    expect(st.unknown + st.overflow).toBe(0n);
    expect(hostB.info(0).fifoDrops).toBe(0n);
  });

  it('rejects bad arguments and goes away with its NICs', () => {
    expect(() => createFabric([])).toThrow(/1 to 4 NICs/);
    expect(() => createFabric([hostA.nic, hostA.nic])).toThrow(/EINVAL/);
    expect(() => createFabric([{} as never])).toThrow(TypeError);
    const extra = new HwRig({ maxVfs: 1, numVfs: 1 });
    const f2 = createFabric([extra.nic]);
    extra.close();
    expect(() => f2.stats()).toThrow(/destroyed/);
    f2.destroy();
  });
});
