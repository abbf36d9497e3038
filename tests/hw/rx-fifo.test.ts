// The RX FIFO behind a full RX ring: frames wait (in order) and arrive once buffers are
// posted; when the FIFO itself is full, uplink frames are dropped and counted (VFFIFODROP,
// VF_STATS.rx_fifo_drops, ENOSPC from inject), never silently; VF->VF traffic is lossless
// and stalls the sender instead, except towards a VF with no RX queue enabled.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HwRig, vfMac, type Guest } from '../helpers/rig.js';
import { collectN, waitUntil } from '../helpers/wait.js';
import { buildFrame, checkFrame, mac } from '../../mediator/demo/frames.js';
import { VfmedSystemError } from '../../mediator/errors.js';
import * as R from '../../mediator/demo/vf-regs.js';

const FIFO = 16 << 10;
const OUTSIDE = mac('02:99:00:00:00:03');

describe('RX FIFO', () => {
  let rig: HwRig;
  let a: Guest;
  let b: Guest;
  beforeEach(() => {
    rig = new HwRig({ maxVfs: 2, numVfs: 2, rxFifoBytes: FIFO });
    a = rig.guest(0, { pmd: { txRingSize: 64, rxRingSize: 64 } });
    b = rig.guest(1, { pmd: { rxRingSize: 8, rxBatch: 4 } });
    a.pmd.init();
    b.pmd.init();
    // The device must have latched VF1's RX queue (7 buffers posted) before traffic.
    waitUntil(() => rig.info(1).queues[0].rxEnabled && rig.info(1).queues[0].rxTail === 7, 'VF1 RX queue enabled');
  });
  afterEach(() => rig.close());

  it('frames beyond a full ring wait in the FIFO and arrive once buffers are posted', () => {
    const n = 12;
    const frames = Array.from({ length: n }, (_, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 1, seq, len: 200 }));
    a.pmd.tx(frames);
    waitUntil(() => a.pmd.txOutstanding() === 0, 'VF0 TX complete');
    // 7 in the ring (one descriptor held back), 5 waiting in the FIFO.
    expect(rig.info(1).queues[0].rxHead).toBe(7);
    expect(rig.info(1).fifoFrames).toBe(5);
    expect(rig.info(1).fifoBytes).toBe(5 * 200);
    const st = rig.pfApi.vfStats(1);
    expect(st.fifoFrames).toBe(5n);
    expect(st.rxNoDesc).toBeGreaterThan(0n);
    const got = collectN(n, () => b.pmd.rx(), 'all frames');
    expect(got.map((f) => checkFrame(f.data).seq)).toEqual([...Array(n).keys()]);
    got.forEach((f, i) => expect(f.data.equals(frames[i]!)).toBe(true));
    expect(rig.info(1).fifoFrames).toBe(0);
    expect(b.pmd.readStatRegs().fifoDrop).toBe(0);
  });

  it('uplink frames overflowing the FIFO are dropped and counted, the oldest kept', () => {
    const n = 40;
    const len = 1000;
    const dropRegBefore = b.pmd.readStatRegs().fifoDrop;
    let enospc = 0;
    for (let seq = 0; seq < n; seq++) {
      try {
        rig.nic.uplinkInject(buildFrame({ dst: vfMac(1), src: OUTSIDE, stream: 2, seq, len }));
      } catch (e) {
        expect(e).toBeInstanceOf(VfmedSystemError);
        expect((e as VfmedSystemError).code).toBe('ENOSPC');
        enospc++;
      }
    }
    const info = rig.info(1);
    expect(info.fifoBytes).toBeLessThanOrEqual(info.fifoCapacity);
    // 7 frames went straight into the ring, the FIFO holds floor(16384 / 1000) = 16.
    const kept = 7 + Math.floor(FIFO / len);
    expect(info.fifoFrames).toBe(kept - 7);
    expect(enospc).toBe(n - kept);
    expect(b.pmd.readStatRegs().fifoDrop - dropRegBefore).toBe(n - kept);
    expect(rig.pfApi.vfStats(1).rxFifoDrops).toBe(BigInt(n - kept));
    expect(info.fifoDrops).toBe(BigInt(n - kept));
    const got = collectN(kept, () => b.pmd.rx(), 'frames kept');
    expect(got.map((f) => checkFrame(f.data).seq)).toEqual([...Array(kept).keys()]);
    // Nothing else shows up later: the FIFO is empty and the device idle.
    expect(rig.info(1).fifoFrames).toBe(0);
    expect(b.pmd.rx()).toEqual([]);
  });

  it('VF -> VF is lossless: a full FIFO stalls the sender, nothing is dropped', () => {
    const n = 40;
    const len = 1000;
    const frames = Array.from({ length: n }, (_, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 3, seq, len }));
    expect(a.pmd.tx(frames)).toBe(n);
    const kept = 7 + Math.floor(FIFO / len);
    // The sender stops on the first frame that does not fit: TDH stays on it.
    waitUntil(() => rig.info(0).queues[0].txHead === kept && rig.info(1).fifoFrames === kept - 7,
      'VF0 to stall behind the full FIFO', { detail: () => JSON.stringify({ tdh: rig.info(0).queues[0].txHead, fifo: rig.info(1).fifoFrames }) });
    expect(a.pmd.txOutstanding()).toBe(n - kept);
    expect(b.pmd.readStatRegs().fifoDrop).toBe(0);
    const got = collectN(n, () => b.pmd.rx(), 'all frames after the stall');
    expect(got.map((f) => checkFrame(f.data).seq)).toEqual([...Array(n).keys()]);
    waitUntil(() => a.pmd.txOutstanding() === 0, 'VF0 TX complete');
    expect(rig.pfApi.vfStats(1).rxFifoDrops).toBe(0n);
  });

  it('VF -> VF towards a VF with no RX queue enabled drops (counted) instead of stalling', () => {
    b.pmd.stop();
    waitUntil(() => !rig.info(1).queues[0].rxEnabled, 'VF1 RX queue disabled');
    const n = 30;
    const len = 1000;
    const frames = Array.from({ length: n }, (_, seq) => buildFrame({ dst: vfMac(1), src: vfMac(0), stream: 4, seq, len }));
    a.pmd.tx(frames);
    waitUntil(() => a.pmd.txOutstanding() === 0, 'VF0 TX complete (not stalled)');
    const inFifo = Math.floor(FIFO / len);
    expect(rig.info(1).fifoFrames).toBe(inFifo);
    expect(b.pmd.readStatRegs().fifoDrop).toBe(n - inFifo);
    expect(rig.pfApi.vfStats(1).rxFifoDrops).toBe(BigInt(n - inFifo));
    // Re-enabling the queue delivers what the FIFO kept, oldest first.
    b.pmd.rxRing(0).program(b.pmd.queuePort);
    const got = collectN(inFifo, () => b.pmd.rx(), 'frames kept in the FIFO');
    expect(got.map((f) => checkFrame(f.data).seq)).toEqual([...Array(inFifo).keys()]);
    expect(b.pmd.queuePort.read32(R.RQERR(0))).toBe(0);
  });
});
