// The VF's second queue pair: TX on queue 1 alone and on both queues, RX on queue 1 alone,
// and RX spread over both queues by flow (each flow stays on one queue, in order).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HwRig, vfMac } from '../helpers/rig.js';
import { collectN, waitUntil } from '../helpers/wait.js';
import { buildFrame, checkFrame } from '../../mediator/demo/frames.js';
import type { RxFrame } from '../../mediator/demo/igbvf-pmd.js';

describe('queue 1', () => {
  let rig: HwRig;
  beforeEach(() => {
    rig = new HwRig({ maxVfs: 2, numVfs: 2 });
  });
  afterEach(() => rig.close());

  it('TX on queue 1 only, RX on queue 1 only', () => {
    const a = rig.guest(0, { pmd: { txQueues: [1], rxQueues: [1], txRingSize: 32, rxRingSize: 32 } });
    const b = rig.guest(1, { pmd: { txQueues: [1], rxQueues: [1], txRingSize: 32, rxRingSize: 32 } });
    a.pmd.init();
    b.pmd.init();
    const frames = Array.from({ length: 100 }, (_, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 1, seq, len: 60 + seq }));
    let sent = 0;
    const got = collectN(frames.length, () => {
      if (sent < frames.length) sent += a.pmd.tx(frames.slice(sent, sent + 16), { queue: 1 });
      return b.pmd.rx();
    }, 'frames via queue 1');
    expect(got.every((f) => f.queue === 1)).toBe(true);
    got.forEach((f, i) => expect(f.data.equals(frames[i]!)).toBe(true));
    waitUntil(() => a.pmd.txOutstanding() === 0, 'queue 1 TX reclaimed');
    expect(rig.info(0).queues[1].txHead).toBe(100 % 32);
    expect(rig.info(0).queues[0].txHead).toBe(0);
    expect(rig.info(1).queues[1].rxHead).toBe(100 % 32);
  });

  it('TX on both queues, RX spread over both queues by flow', () => {
    const a = rig.guest(0, { pmd: { txQueues: [0, 1], rxQueues: [0, 1], txRingSize: 32, rxRingSize: 32 } });
    const b = rig.guest(1, { pmd: { txQueues: [0, 1], rxQueues: [0, 1], txRingSize: 32, rxRingSize: 32 } });
    a.pmd.init();
    b.pmd.init();
    waitUntil(() => rig.info(1).queues[0].rxEnabled && rig.info(1).queues[1].rxEnabled, 'both RX queues enabled');
    // Stream 1 from VF0 on TX queue 0, stream 2 on TX queue 1.
    const s1 = Array.from({ length: 60 }, (_, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 1, seq, len: 100 }));
    const s2 = Array.from({ length: 60 }, (_, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 2, seq, len: 200 }));
    // 16 flows from the uplink, distinct source MACs (non-IP frames hash the MACs).
    const flows = Array.from({ length: 16 }, (_, i) => Uint8Array.of(0x02, 0x55, 0, 0, 0, i + 1));
    const up: Buffer[] = [];
    for (let seq = 0; seq < 4; seq++) {
      flows.forEach((src, i) => up.push(buildFrame({ dst: vfMac(1), src, stream: 100 + i, seq, len: 64 })));
    }
    let i1 = 0;
    let i2 = 0;
    let iu = 0;
    const total = s1.length + s2.length + up.length;
    const got = collectN(total, () => {
      if (i1 < s1.length) i1 += a.pmd.tx(s1.slice(i1, i1 + 8), { queue: 0 });
      if (i2 < s2.length) i2 += a.pmd.tx(s2.slice(i2, i2 + 8), { queue: 1 });
      // Inject only what VF1's rings can take now, so no uplink frame is dropped.
      for (let k = 0; k < 4 && iu < up.length && rig.info(1).fifoFrames === 0; k++) rig.nic.uplinkInject(up[iu++]!);
      return b.pmd.rx();
    }, 'frames on both RX queues');
    // Exactly once, per-flow order, and each flow on a single queue.
    const byStream = new Map<number, RxFrame[]>();
    for (const f of got) {
      const h = checkFrame(f.data);
      byStream.set(h.stream, [...(byStream.get(h.stream) ?? []), f]);
    }
    expect(byStream.size).toBe(2 + flows.length);
    for (const [stream, fs] of byStream) {
      expect(fs.map((f) => checkFrame(f.data).seq)).toEqual([...Array(fs.length).keys()]);
      expect(new Set(fs.map((f) => f.queue)).size).toBe(1);
      expect(fs.length).toBe(stream < 100 ? 60 : 4);
    }
    const q1 = got.filter((f) => f.queue === 1).length;
    expect(q1).toBeGreaterThan(0);
    expect(q1).toBeLessThan(total);
    waitUntil(() => a.pmd.txOutstanding() === 0, 'both TX queues reclaimed');
  });
});
