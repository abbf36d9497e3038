// Admin-queue error paths: the driver's own argument checks (before anything reaches the
// device) and the device's status values, which the driver must return as -status
// (VfmedSystemError with the same code), sent through the raw command hook so the
// driver's checks do not hide the device's.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VfmedSystemError } from '../../mediator/errors.js';
import { makeRig, type Rig } from './pf-rig.js';

let rig: Rig;
beforeEach(() => {
  rig = makeRig({ maxVfs: 4, numVfs: 2 });
});
afterEach(() => rig.close());

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof VfmedSystemError) return e.code;
    throw e;
  }
  return 'no error';
}

// opcodes (pf_regs.h)
const GET_INFO = 0x1, VF_SET_MC = 0x12, VF_SET_VLAN = 0x13, VF_SET_LPE = 0x14, VF_GET_CONFIG = 0x16;
const VF_SAVE = 0x23, VF_LOAD = 0x24, DIRTY_START = 0x30, VF_STATS = 0x40, VF_ENABLE = 0x10;

describe('driver-side checks', () => {
  it.each([
    ['stats of a VF that is not enabled', () => rig.pf.vfStats(2), 'ENODEV'],
    ['stats of a VF beyond the device', () => rig.pf.vfStats(9), 'ENODEV'],
    ['quiesce of a VF that is not enabled', () => rig.pf.quiesce(3), 'ENODEV'],
    ['a multicast administrator MAC', () => rig.pf.setVfMac(0, Uint8Array.of(1, 0, 0x5e, 0, 0, 1)), 'EINVAL'],
    ['a state blob shorter than its header', () => rig.pf.load(0, Buffer.alloc(8)), 'EBADMSG'],
    ['a save buffer beyond the 16 MiB limit', () => rig.pf.save(0, (16 << 20) + 1), 'E2BIG'],
    ['a dirty log with page shift 11', () => rig.pf.dirtyStart(0, 11, [{ iova: 0n, length: 4096n }]), 'EINVAL'],
    ['a dirty log with no range', () => rig.pf.dirtyStart(0, 12, []), 'EINVAL'],
    ['a dirty log with 65 ranges', () => rig.pf.dirtyStart(0, 12,
      Array.from({ length: 65 }, (_, i) => ({ iova: BigInt(i) << 20n, length: 4096n }))), 'EINVAL'],
    ['a dirty report before start', () => rig.pf.dirtyReport(0, 0n, 4096n, 12), 'EINVAL'],
  ])('%s', (_what, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });

  it('refuses a bad VF index at the TS edge', () => {
    expect(() => rig.pf.vfStats(-1)).toThrow(RangeError);
    expect(() => rig.pf.setVfMac(0, new Uint8Array(5))).toThrow(TypeError);
  });
});

describe('device status -> errno', () => {
  it.each([
    ['a VF the device has not enabled', VF_STATS, 3, 0, 0, 200, 'ENODEV'],
    ['an unknown opcode', 0x7f, 0, 0, 0, 0, 'EOPNOTSUPP'],
    ['GET_INFO into a 4-byte buffer', GET_INFO, 0, 0, 0, 4, 'ENOSPC'],
    ['GET_CONFIG into a 4-byte buffer', VF_GET_CONFIG, 0, 0, 0, 4, 'ENOSPC'],
    ['SET_MC with 31 hashes', VF_SET_MC, 0, 31, 0, 62, 'EINVAL'],
    ['SET_MC with 2 hashes and a 2-byte buffer', VF_SET_MC, 0, 2, 0, 2, 'EINVAL'],
    ['SET_VLAN with VID 4096', VF_SET_VLAN, 0, 4096, 1, 0, 'EINVAL'],
    ['SET_LPE of 63 bytes', VF_SET_LPE, 0, 63, 0, 0, 'EINVAL'],
    ['VF_ENABLE with unknown bits', VF_ENABLE, 0, 0x4, 0, 0, 'EINVAL'],
    ['SAVE of a VF that is not quiesced', VF_SAVE, 0, 0, 0, 4096, 'EBUSY'],
    ['LOAD of a zero-length blob', VF_LOAD, 0, 0, 0, 0, 'EBADMSG'],
    ['DIRTY_START with a length that is not whole ranges', DIRTY_START, 0, 12, 0, 24, 'EINVAL'],
  ])('%s', (_what, op, vf, p0, p1, len, code) => {
    expect(codeOf(() => rig.pf.adminCmd(op, vf, p0, p1, len ? Buffer.alloc(len) : undefined))).toBe(code);
  });

  it('returns ret and the buffer of a successful command', () => {
    const buf = Buffer.alloc(64);
    const { ret } = rig.pf.adminCmd(GET_INFO, 0, 0, 0, buf);
    expect(ret).toBe(32); // sizeof(struct vfpf_dev_info)
    expect(buf.readUInt32LE(0)).toBe(0x76660576);
  });

  it('keeps the queue usable after errors', () => {
    for (let i = 0; i < 200; i++) codeOf(() => rig.pf.adminCmd(0x7f, 0));
    expect(rig.pf.info().numVfs).toBe(2);
  });
});

describe('a device that stops answering', () => {
  it('times out, fails fast while the command is stalled, and recovers when it completes', () => {
    rig.nic.stop(); // no device thread: nothing processes the admin ring
    expect(codeOf(() => rig.pf.vfStats(0))).toBe('ETIMEDOUT');
    // The timed-out command still owns its slot and buffer: later ones fail at once.
    expect(codeOf(() => rig.pf.vfConfig(0))).toBe('ETIMEDOUT');
    rig.nic.start();
    // The device completes the stalled command late; the queue is usable again.
    let cfg: ReturnType<typeof rig.pf.vfConfig> | undefined;
    for (let i = 0; i < 500 && !cfg; i++) {
      try {
        cfg = rig.pf.vfConfig(0);
      } catch (e) {
        expect((e as VfmedSystemError).code).toBe('ETIMEDOUT');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      }
    }
    expect(cfg?.mac.length).toBe(6);
    expect(rig.pf.vfStats(0).rxPackets).toBe(0n);
  });
});
