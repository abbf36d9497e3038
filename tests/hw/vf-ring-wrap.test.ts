// Ring wrap: many more frames than ring entries on small TX and RX rings, with RDT
// updates in batches and TX reclaim by DD, so head and tail wrap many times. Every frame
// must arrive exactly once and in order.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HwRig, vfMac } from '../helpers/rig.js';
import { waitUntil } from '../helpers/wait.js';
import { buildFrame, checkFrame } from '../../mediator/demo/frames.js';
import type { RxFrame } from '../../mediator/demo/igbvf-pmd.js';

describe('ring wrap', () => {
  let rig: HwRig;
  beforeEach(() => {
    rig = new HwRig({ maxVfs: 2, numVfs: 2 });
  });
  afterEach(() => rig.close());

  for (const [txSize, rxSize, batch] of [[8, 8, 1], [16, 8, 3], [32, 16, 7]] as const) {
    it(`TX ring ${txSize}, RX ring ${rxSize}, RDT batch ${batch}: 1500 frames`, () => {
      const a = rig.guest(0, { pmd: { txRingSize: txSize, rxRingSize: rxSize } });
      const b = rig.guest(1, { pmd: { rxRingSize: rxSize, rxBatch: batch } });
      a.pmd.init();
      b.pmd.init();
      const n = 1500;
      const got: RxFrame[] = [];
      let sent = 0;
      waitUntil(() => {
        if (sent < n) {
          const burst = [];
          for (let i = sent; i < Math.min(n, sent + txSize); i++) {
            burst.push(buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 7, seq: i, len: 60 + (i % 200) }));
          }
          sent += a.pmd.tx(burst);
        }
        got.push(...b.pmd.rx());
        return got.length >= n;
      }, `${n} frames`, { detail: () => `sent ${sent}, got ${got.length}` });
      expect(got).toHaveLength(n);
      got.forEach((f, i) => {
        const h = checkFrame(f.data);
        expect(h.seq).toBe(i);
        expect(h.len).toBe(60 + (i % 200));
      });
      // The rings really wrapped many times, and software and device agree on positions.
      const rx = b.pmd.rxRing(0);
      expect(rx.counters.descs).toBe(n);
      expect(rx.indices.clean).toBe(n % rxSize);
      waitUntil(() => a.pmd.txOutstanding() === 0, 'all TX descriptors reclaimed');
      expect(a.pmd.queueState(0).tdh).toBe(n % txSize);
      expect(a.pmd.txRing(0).counters.frames).toBe(n);
    });
  }
});
