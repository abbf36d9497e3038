// Thread safety of libvfpf.so: koffi's async calls run the C functions on worker threads,
// so admin commands (stats, config, status, dirty reports) issued from several threads at
// once race with the mailbox service on the main thread. Every call must succeed with a
// consistent answer; the admin queue and the soft state are serialised by the core's locks.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadLibvfpf, type RawVfConfig, type RawVfStats, type RawVfStatus } from '../../mediator/pf/libvfpf-ffi.js';
import {
  BASE_MAC, GUEST_IOVA, GUEST_LEN, makeRig, MSG_ACK, MSG_CTS, type Rig, VF_SET_VLAN, VfMailbox, vfMac,
} from './pf-rig.js';

type AsyncFn = { async: (...args: unknown[]) => void };
let rig: Rig;
beforeEach(() => {
  rig = makeRig({ maxVfs: 2, numVfs: 2 });
});
afterEach(() => rig.close());

function call(fn: unknown, ...args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => {
    (fn as AsyncFn).async(...args, (err: unknown, rc: number) => (err ? reject(err) : resolve(rc)));
  });
}

describe('concurrent callers', () => {
  it('serialises admin commands from worker threads with the mailbox service', async () => {
    const lib = loadLibvfpf();
    const h = rig.pf.rawHandle;
    const mbx = new VfMailbox(rig.nic, 1, rig.pf);
    mbx.resetHandshake();
    rig.pf.dirtyStart(0, 12, [{ iova: GUEST_IOVA, length: BigInt(GUEST_LEN) }]);

    const pending: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      const stats = {} as RawVfStats;
      pending.push(call(lib.vfpf_vf_stats, h, i & 1, stats).then((rc) => {
        expect(rc).toBe(0);
        expect(Number(stats.rx_packets)).toBe(0);
      }));
      const cfg = {} as RawVfConfig;
      pending.push(call(lib.vfpf_vf_get_config, h, 0, cfg).then((rc) => {
        expect(rc).toBe(0);
        expect(Uint8Array.from(cfg.mac)).toEqual(vfMac(BASE_MAC, 0));
      }));
      const st = {} as RawVfStatus;
      pending.push(call(lib.vfpf_vf_get_status, h, 1, st).then((rc) => expect(rc).toBe(0)));
      const bm = Buffer.alloc(GUEST_LEN / 4096 / 8);
      pending.push(call(lib.vfpf_vf_dirty_report, h, 0, GUEST_IOVA, BigInt(GUEST_LEN), bm, BigInt(bm.length))
        .then((rc) => expect(rc).toBe(0)));
    }
    // Meanwhile the main thread serves a VF through the same handle.
    for (let vid = 1; vid <= 10; vid++) {
      const [reply] = mbx.request([VF_SET_VLAN | (1 << 16), vid]);
      expect(reply).toBe((VF_SET_VLAN | (1 << 16) | MSG_ACK | MSG_CTS) >>> 0);
    }
    await Promise.all(pending);
    expect(rig.pf.vfVlans(1)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(rig.pf.vfConfig(1).vlanCount).toBe(10);
    expect(rig.pf.vfStatus(1).errors).toBe(0n);
  });
});
