// The device's ground-truth write log (nic.h vfmed_vf_truth_read), the oracle the dirty
// tracking is judged against, checked against what the PMD knows the device must have
// written: on the receiver exactly the RX descriptor ring page and the buffers that got
// frames; on the sender exactly the TX ring page (DD write-backs) - TX buffers are only
// read - or the head write-back page. Clearing works.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HwRig, vfMac, type Guest } from '../helpers/rig.js';
import { collectN, waitUntil } from '../helpers/wait.js';
import { buildFrame } from '../../mediator/demo/frames.js';

const PAGE = 4096;

function pagesOf(g: Guest, bitmap: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < g.mem.dmaLen / PAGE; i++) if ((bitmap[i >> 3]! >> (i & 7)) & 1) out.push(i);
  return out;
}

function range(offset: number, len: number): number[] {
  const out: number[] = [];
  for (let p = Math.floor(offset / PAGE); p <= Math.floor((offset + len - 1) / PAGE); p++) out.push(p);
  return out;
}

describe('ground-truth DMA write log', () => {
  let rig: HwRig;
  beforeEach(() => {
    rig = new HwRig({ maxVfs: 2, numVfs: 2 });
  });
  afterEach(() => rig.close());

  for (const headWb of [false, true]) {
    it(`records exactly the pages the device wrote (TX completion by ${headWb ? 'head write-back' : 'DD'})`, () => {
      const a = rig.guest(0, { dmaLen: 1 << 20, pmd: { txRingSize: 64, rxRingSize: 64, txHeadWriteBack: headWb } });
      const b = rig.guest(1, { dmaLen: 1 << 20, pmd: { txRingSize: 64, rxRingSize: 64, rxBufSize: 2048, rxBatch: 8 } });
      a.pmd.init();
      b.pmd.init();
      const truth = (g: Guest, clear: boolean): number[] =>
        pagesOf(g, rig.nic.truthRead(g.vf, g.mem.iovaBase, BigInt(g.mem.dmaLen), clear));
      truth(a, true);
      truth(b, true);
      const n = 10; // RX slots 0..9: buffers 0..9 x 2 KiB = pages 0..4 of the buffer area
      a.pmd.tx(Array.from({ length: n }, (_, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 1, seq, len: 1000 })));
      collectN(n, () => b.pmd.rx(), 'frames');
      waitUntil(() => a.pmd.txOutstanding() === 0, 'TX done');
      const rx = b.pmd.rxRing(0);
      const tx = a.pmd.txRing(0);
      expect(truth(b, true)).toEqual([...range(rx.ring.offset, 64 * 16), ...range(rx.bufs.offset, n * 2048)]);
      const wbPages = headWb ? range(tx.wb!.offset, 4) : range(tx.ring.offset, n * 16);
      expect(truth(a, true)).toEqual(wbPages);
      // Cleared: nothing until the next DMA.
      expect(truth(a, false)).toEqual([]);
      expect(truth(b, false)).toEqual([]);
    });
  }
});
