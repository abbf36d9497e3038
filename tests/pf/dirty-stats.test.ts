// Device dirty log and VF statistics through the PF driver, with real device DMA: frames
// injected on the uplink are received into a VF's RX ring, which dirties the ring page and
// the buffer pages. The dirty report must show exactly the pages the device wrote (the
// device's ground-truth log is the oracle), clear on read, and stop reporting after stop.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VfmedSystemError } from '../../mediator/errors.js';
import {
  GUEST_IOVA, GUEST_LEN, makeRxRig, setBits, type Rig, type RxGuest, type RxRig,
} from './pf-rig.js';

const VF = 0;
let fx: RxRig;
let rig: Rig;
let guest: RxGuest;

beforeEach(() => {
  fx = makeRxRig(VF);
  ({ rig, guest } = fx);
});
afterEach(() => fx.close());

const receive = (n: number, first = 0): Buffer[] => fx.receive(n, first);

describe('device dirty log', () => {
  it('reports the pages the device wrote, clears them, and agrees with the ground truth', () => {
    rig.pf.dirtyStart(VF, 12, [{ iova: GUEST_IOVA, length: BigInt(GUEST_LEN) }]);
    expect(rig.pf.vfStatus(VF).dirtyLog).toBe(true);
    rig.nic.truthRead(VF, GUEST_IOVA, BigInt(GUEST_LEN), true);
    const frames = receive(2);
    expect(guest.frame(0)).toEqual(frames[0]);

    const bm = rig.pf.dirtyReport(VF, GUEST_IOVA, BigInt(GUEST_LEN), 12);
    expect(bm.length).toBe(GUEST_LEN / 4096 / 8);
    // Page 0 = the ring (descriptor write-back), pages 1-2 = the two buffers.
    expect(setBits(bm)).toEqual([0, 1, 2]);
    expect(bm).toEqual(rig.nic.truthRead(VF, GUEST_IOVA, BigInt(GUEST_LEN), true));
    // Read-and-clear.
    expect(setBits(rig.pf.dirtyReport(VF, GUEST_IOVA, BigInt(GUEST_LEN), 12))).toEqual([]);
    receive(1, 2);
    expect(setBits(rig.pf.dirtyReport(VF, GUEST_IOVA, BigInt(GUEST_LEN), 12))).toEqual([0, 3]);
  });

  it('reports at a coarser granularity and in a sub-window', () => {
    rig.pf.dirtyStart(VF, 14, [{ iova: GUEST_IOVA, length: BigInt(GUEST_LEN) }]);
    receive(4); // ring page 0, buffers at pages 1-4 -> 16 KiB granules 0 and 1
    expect(setBits(rig.pf.dirtyReport(VF, GUEST_IOVA + 0x4000n, 0x8000n, 14))).toEqual([0]);
    expect(setBits(rig.pf.dirtyReport(VF, GUEST_IOVA, BigInt(GUEST_LEN), 14))).toEqual([0]);
  });

  it('refuses a window outside the started ranges and stops cleanly', () => {
    rig.pf.dirtyStart(VF, 12, [{ iova: GUEST_IOVA, length: 0x4000n }]);
    let code = '';
    try {
      rig.pf.dirtyReport(VF, GUEST_IOVA, 0x8000n, 12);
    } catch (e) {
      code = (e as VfmedSystemError).code;
    }
    expect(code).toBe('EINVAL');
    rig.pf.dirtyStop(VF);
    expect(rig.pf.vfStatus(VF).dirtyLog).toBe(false);
    expect(() => rig.pf.dirtyReport(VF, GUEST_IOVA, 0x4000n, 12)).toThrow(VfmedSystemError);
    // Started again: only what happens from now on.
    rig.pf.dirtyStart(VF, 12, [{ iova: GUEST_IOVA, length: BigInt(GUEST_LEN) }]);
    expect(setBits(rig.pf.dirtyReport(VF, GUEST_IOVA, BigInt(GUEST_LEN), 12))).toEqual([]);
  });
});

describe('VF statistics', () => {
  it('counts received frames as the device does', () => {
    const before = rig.pf.vfStats(VF);
    expect(before.rxPackets).toBe(0n);
    const frames = receive(3);
    const st = rig.pf.vfStats(VF);
    const info = rig.nic.vfInfo(VF);
    expect(st.rxPackets).toBe(3n);
    expect(st.rxPackets).toBe(info.rxPackets);
    expect(st.rxBytes).toBe(info.rxBytes);
    expect(st.rxBytes).toBeGreaterThanOrEqual(BigInt(frames.reduce((a, f) => a + f.length, 0)));
    expect(st.txPackets).toBe(0n);
    expect(st.fifoFrames).toBe(0n);
    expect(rig.pf.vfStats(1).rxPackets).toBe(0n);
  });
});
