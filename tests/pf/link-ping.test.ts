// PF_CONTROL_MSG on link changes (igbvf-vf.md 3.5): when the PF's STATUS.LU changes, the
// driver pings every VF with PF_CONTROL_MSG, ORed with CTS for the VFs that completed
// VF_RESET. The model keeps its link up, so the test plays the device's side of STATUS by
// writing the PF BAR through a shared mapping (STATUS is a hardware-written register).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addon, makeRig, MBX_PFSTS, MSG_CTS, type Rig, sleepMs, VfMailbox } from './pf-rig.js';

const VFPF_STATUS = 0x10;
const LU = 0x2;
const PF_CONTROL_MSG = 0x100;

let rig: Rig;
let bar: DataView;
beforeEach(() => {
  rig = makeRig({ maxVfs: 2, numVfs: 2 });
  bar = new DataView(addon.mmapShared(rig.nic.pfBarFd(), 0x10000, 0n));
});
afterEach(() => {
  addon.munmap(bar.buffer as ArrayBuffer);
  rig.close();
});

describe('link change pings', () => {
  it('sends PF_CONTROL_MSG to every VF, with CTS only for VFs that reset', () => {
    const ready = new VfMailbox(rig.nic, 0, rig.pf);
    const fresh = new VfMailbox(rig.nic, 1, rig.pf);
    ready.resetHandshake();
    fresh.ctrlReset();
    rig.pf.service();
    expect(rig.pf.service()).toBe(0);

    const status = bar.getUint32(VFPF_STATUS, true);
    expect(status & LU).toBe(LU);
    bar.setUint32(VFPF_STATUS, status & ~LU, true);
    expect(rig.pf.service()).toBeGreaterThan(0);
    expect(ready.readReply(1)).toEqual([(PF_CONTROL_MSG | MSG_CTS) >>> 0]);
    expect(fresh.readReply(1)).toEqual([PF_CONTROL_MSG]);

    bar.setUint32(VFPF_STATUS, status, true);
    rig.pf.service();
    expect(ready.readReply(1)).toEqual([(PF_CONTROL_MSG | MSG_CTS) >>> 0]);
    // No further ping without a further change.
    expect(rig.pf.service()).toBe(1); // the VF's ACK of the ping it just read
    for (let i = 0; i < 3; i++) expect(rig.pf.service()).toBe(0);
    sleepMs(50);
    expect(ready.take(MBX_PFSTS)).toBe(false);
  });
});
