// A VF driver that resets (CTRL.RST + VF_RESET handshake + ring re-setup) in the middle of
// traffic, as igbvf does on a watchdog reset: frames in flight at the reset may be lost,
// but none is delivered twice or corrupted, nothing outside the maps is written, and
// everything sent after the re-init arrives exactly once, in order.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HwRig, vfMac, type Guest } from '../helpers/rig.js';
import { collectN, waitUntil } from '../helpers/wait.js';
import { buildFrame, checkFrame } from '../../mediator/demo/frames.js';

describe('VF reset in the middle of traffic', () => {
  let rig: HwRig;
  let a: Guest;
  let b: Guest;
  beforeEach(() => {
    rig = new HwRig({ maxVfs: 2, numVfs: 2, rxFifoBytes: 16 << 10 });
    a = rig.guest(0, { pmd: { txRingSize: 64, rxRingSize: 16 } });
    // VF1 re-initialises under traffic: Linux igbvf's RX setup order (see rx-head-write.test.ts).
    b = rig.guest(1, { pmd: { txRingSize: 64, rxRingSize: 8, rxBatch: 2, rxInitOrder: 'igbvf' } });
    a.pmd.init();
    b.pmd.init();
    waitUntil(() => rig.info(1).queues[0].rxEnabled, 'VF1 RX enabled');
  });
  afterEach(() => {
    expect(a.canaryDamage()).toBe(-1);
    expect(b.canaryDamage()).toBe(-1);
    rig.close();
  });

  it('the receiver resets with a full ring and FIFO and a stalled sender', () => {
    const pre = Array.from({ length: 40 }, (_, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 1, seq, len: 1000 }));
    a.pmd.tx(pre);
    waitUntil(() => rig.info(1).fifoFrames === 16, 'VF1 FIFO full, VF0 stalled');
    const g = b; // igbvf's reset task: the same driver re-initialises on the same memory
    g.pmd.init();
    const post = Array.from({ length: 30 }, (_, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 2, seq, len: 500 }));
    let sent = 0;
    const got: ReturnType<typeof g.pmd.rx> = [];
    waitUntil(() => {
      if (sent < post.length && a.pmd.txOutstanding() < 32) sent += a.pmd.tx(post.slice(sent, sent + 8));
      got.push(...g.pmd.rx());
      return got.filter((f) => checkFrame(f.data).stream === 2).length === post.length;
    }, 'every post-reset frame', { detail: () => `sent ${sent}, got ${got.length}` });
    const s1 = got.filter((f) => checkFrame(f.data).stream === 1).map((f) => checkFrame(f.data).seq);
    const s2 = got.filter((f) => checkFrame(f.data).stream === 2).map((f) => checkFrame(f.data).seq);
    expect(s2).toEqual([...Array(post.length).keys()]);
    // Pre-reset frames: at most once each and in order (some may be lost at the reset).
    expect(new Set(s1).size).toBe(s1.length);
    expect([...s1].sort((x, y) => x - y)).toEqual(s1);
    waitUntil(() => a.pmd.txOutstanding() === 0, 'VF0 no longer stalled');
  });

  it('the sender resets while stalled: its half-gathered frame is dropped, nothing is duplicated', () => {
    const pre = Array.from({ length: 40 }, (_, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 3, seq, len: 1000 }));
    a.pmd.tx(pre, { segmentSize: 600 });
    waitUntil(() => rig.info(1).fifoFrames === 16 && rig.info(0).queues[0].txHead === 23 * 2 + 1, 'VF0 stalled mid-frame');
    a.pmd.init(); // same PMD, same rings re-programmed from slot 0
    const post = Array.from({ length: 10 }, (_, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 4, seq, len: 700 }));
    a.pmd.tx(post);
    const got = collectN(23 + post.length, () => b.pmd.rx(), 'frames on VF1');
    expect(got.map((f) => checkFrame(f.data)).map((h) => `${h.stream}/${h.seq}`)).toEqual([
      ...Array.from({ length: 23 }, (_, i) => `3/${i}`), ...Array.from({ length: 10 }, (_, i) => `4/${i}`),
    ]);
    waitUntil(() => a.pmd.txOutstanding() === 0, 'VF0 TX done');
    expect(b.pmd.rx()).toEqual([]);
    expect(rig.pfApi.vfStats(0).txErrors).toBe(0n);
  });
});
