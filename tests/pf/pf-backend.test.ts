// The PfBackend seam with the in-process driver: PfDriver (libvfpf.so) handed to the
// mediator as a plain PfBackend — the device dirty log through the mediator's PfDirtyLog and
// DeviceLogTracker at a page size coarser than the device's (folded, checked against the
// model's ground-truth write log folded here), and one VF's quiesce / save / load / resume
// through the interface alone. The same code runs over KernelPf in the QEMU guest
// (tests/kernel).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceLogTracker } from '../../mediator/mediate/device-log-tracker.js';
import type { PfBackend } from '../../mediator/pf/pf-backend.js';
import { PfDirtyLog } from '../../mediator/mediate/pf-vf-control.js';
import {
  BASE_MAC, frameTo, GUEST_IOVA, GUEST_LEN, makeRxRig, setBits, vfMac, waitFor, type Rig, type RxGuest, type RxRig,
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

describe('PfDriver as a PfBackend', () => {
  it('DeviceLogTracker(PfDirtyLog): 8 KiB reports folded from the device\'s 4 KiB log equal the folded ground truth', () => {
    const backend: PfBackend = rig.pf;
    expect(backend.kind).toBe('libvfpf');
    const tracker = new DeviceLogTracker(new PfDirtyLog(backend, VF));
    const len = BigInt(GUEST_LEN);
    tracker.start([{ iova: GUEST_IOVA, length: len }], 8192n);
    expect(rig.pf.vfStatus(VF).dirtyLog).toBe(true);
    rig.nic.truthRead(VF, GUEST_IOVA, len, true);
    receive(5); // ring page 0, buffers at 4 KiB pages 1..5
    const truth = setBits(rig.nic.truthRead(VF, GUEST_IOVA, len, true));
    expect(truth).toEqual([0, 1, 2, 3, 4, 5]);
    const want = [...new Set(truth.map((p) => p >> 1))];
    expect(setBits(tracker.report(GUEST_IOVA, len, 8192n))).toEqual(want); // [0, 1, 2]
    expect(setBits(tracker.report(GUEST_IOVA, len, 8192n))).toEqual([]); // read-and-clear
    tracker.stop();
    expect(rig.pf.vfStatus(VF).dirtyLog).toBe(false);
  });

  it('quiesce, save (the state carries the FIFO frames), load, resume through PfBackend alone', () => {
    const pf: PfBackend = rig.pf;
    pf.quiesce(VF);
    for (let i = 0; i < 3; i++) rig.nic.uplinkInject(frameTo(vfMac(BASE_MAC, VF), 100 + i));
    waitFor(() => pf.vfStats(VF).fifoFrames === 3n, '3 frames waiting in the quiesced VF\'s FIFO');
    const size = pf.stateSize(VF);
    const blob = pf.save(VF);
    expect(blob.length).toBeLessThanOrEqual(size);
    expect(blob.readBigUInt64LE(0)).toBe(0x53465644454d4656n);
    pf.load(VF, blob);
    expect(pf.vfConfig(VF).quiesced).toBe(true);
    pf.resume(VF);
    waitFor(() => (guest.status(2) & 1) === 1, 'the FIFO frames delivered after resume');
    expect(pf.vfStats(VF).fifoFrames).toBe(0n);
  });
});
