// KernelPf (mediator/pf/kernel-pf.ts), the mediator's binding of /dev/vfpf, on the host
// without the module: against FakeVfpf for what it sends, how it decodes and how it handles
// each errno, and against the host kernel's own files for the real libc path (open errors,
// ENOTTY from a device that is not vfpf). The module itself answers in tests/kernel.
import { describe, expect, it } from 'vitest';
import { VfmedSystemError } from '../../mediator/errors.js';
import { DeviceLogTracker } from '../../mediator/mediate/device-log-tracker.js';
import { KernelPf } from '../../mediator/pf/kernel-pf.js';
import type { PfBackend } from '../../mediator/pf/pf-backend.js';
import { PfDirtyLog } from '../../mediator/mediate/pf-vf-control.js';
import { VFPF_IOC_STATE_MAX } from '../../mediator/pf/vfpf-uapi.js';
import { E, FakeVfpf } from './fake-vfpf-cdev.js';

const MAC = Uint8Array.of(0x02, 0x4b, 0x54, 0, 0, 0x21);

function rig(): { dev: FakeVfpf; pf: KernelPf } {
  const dev = new FakeVfpf();
  return { dev, pf: KernelPf.open({ port: dev }) };
}

function sysErr(fn: () => unknown): VfmedSystemError {
  try {
    fn();
  } catch (e) {
    if (e instanceof VfmedSystemError) return e;
    throw e;
  }
  throw new Error('expected a VfmedSystemError, the call succeeded');
}

describe('KernelPf: open and close', () => {
  it('turns an open failure into VfmedSystemError(open) with the errno', () => {
    const e = sysErr(() => KernelPf.open({ path: '/dev/vfpf9', port: new FakeVfpf() }));
    expect(e).toMatchObject({ code: 'ENOENT', errno: E.ENOENT, syscall: 'open' });
    expect(e.message).toContain('/dev/vfpf9');
  });

  it('refuses a path that is not a string, empty, or has a NUL', () => {
    for (const path of ['', 'a\0b', 3 as unknown as string]) {
      expect(() => KernelPf.open({ path, port: new FakeVfpf() })).toThrow(TypeError);
    }
  });

  it('closes its fd once; every call after close() throws without reaching the device', () => {
    const { dev, pf } = rig();
    expect(pf.kind).toBe('kernel');
    pf.close();
    pf.close();
    expect(dev.closedFds).toEqual([7]);
    expect(pf.closed).toBe(true);
    expect(() => pf.info()).toThrow(/used after close/);
    expect(() => pf.quiesce(0)).toThrow(/used after close/);
    expect(dev.calls).toEqual([]);
  });
});

describe('KernelPf: arguments are checked before any ioctl', () => {
  const bad: [string, (pf: KernelPf) => unknown, new (...a: never[]) => Error][] = [
    ['negative VF', (pf) => pf.quiesce(-1), RangeError],
    ['fractional VF', (pf) => pf.vfConfig(1.5), RangeError],
    ['VF beyond u32', (pf) => pf.vfStats(2 ** 32), RangeError],
    ['NaN VF', (pf) => pf.resume(Number.NaN), RangeError],
    ['string VF', (pf) => pf.vfFlr('1' as unknown as number), RangeError],
    ['5-byte MAC', (pf) => pf.setVfMac(0, new Uint8Array(5)), TypeError],
    ['MAC as array', (pf) => pf.setVfMac(0, [2, 0, 0, 0, 0, 1] as unknown as Uint8Array), TypeError],
    ['negative VF count', (pf) => pf.sriovEnable(-1), RangeError],
    ['save cap 0', (pf) => pf.save(0, 0), RangeError],
    ['save cap over VFPF_IOC_STATE_MAX', (pf) => pf.save(0, VFPF_IOC_STATE_MAX + 1), RangeError],
    ['empty blob', (pf) => pf.load(0, Buffer.alloc(0)), RangeError],
    ['blob over VFPF_IOC_STATE_MAX', (pf) => pf.load(0, Buffer.alloc(VFPF_IOC_STATE_MAX + 1)), RangeError],
    ['blob not bytes', (pf) => pf.load(0, 'x' as unknown as Buffer), TypeError],
    ['no dirty ranges', (pf) => pf.dirtyStart(0, 12, []), RangeError],
    ['65 dirty ranges', (pf) => pf.dirtyStart(0, 12, Array.from({ length: 65 }, (_, i) => ({ iova: BigInt(i) << 20n, length: 4096n }))), RangeError],
    ['range iova not bigint', (pf) => pf.dirtyStart(0, 12, [{ iova: 0 as unknown as bigint, length: 4096n }]), RangeError],
    ['negative range length', (pf) => pf.dirtyStart(0, 12, [{ iova: 0n, length: -1n }]), RangeError],
    ['ranges not an array', (pf) => pf.dirtyStart(0, 12, {} as never), TypeError],
    ['page shift 64', (pf) => pf.dirtyReport(0, 0n, 4096n, 64), RangeError],
    ['bitmap over VFPF_IOC_BITMAP_MAX', (pf) => pf.dirtyReport(0, 0n, 1n << 48n, 12), RangeError],
    ['iova beyond u64', (pf) => pf.dirtyReport(0, 1n << 64n, 4096n, 12), RangeError],
  ];
  it.each(bad)('%s', (_what, call, type) => {
    const { dev, pf } = rig();
    expect(() => call(pf)).toThrow(type);
    expect(dev.calls).toEqual([]);
  });
});

describe('KernelPf: requests on the wire', () => {
  it('SET_MAC: vf, the MAC bytes, zero pad', () => {
    const { dev, pf } = rig();
    pf.setVfMac(1, MAC);
    const a = dev.calls[0]!;
    expect(a.name).toBe('SET_MAC');
    expect(a.arg.readUInt32LE(0)).toBe(1);
    expect([...a.arg.subarray(4, 10)]).toEqual([...MAC]);
    expect([...a.arg.subarray(10, 12)]).toEqual([0, 0]);
    expect([...pf.vfConfig(1).mac]).toEqual([...MAC]);
  });

  it('GET_INFO, VF_CONFIG and STATS decode every field (64-bit counters beyond 2^53 exact)', () => {
    const { dev, pf } = rig();
    expect(pf.info()).toEqual({
      modelId: 0x76660576, abiMajor: 1, abiMinor: 2, maxVfs: 4, numVfs: 2, queuesPerVf: 2,
      rxFifoBytes: 65536, stateVersion: 0x10000, features: 3,
    });
    expect(pf.numVfs()).toBe(2);
    dev.quiesced.add(0);
    expect(pf.vfConfig(0)).toEqual({
      mac: new Uint8Array(6), rxEnabled: true, txEnabled: true, maxFrame: 1522, mcCount: 1,
      vlanCount: 2, promisc: 0, quiesced: true,
    });
    dev.statsValue = (1n << 60n) + 3n;
    const s = pf.vfStats(1);
    expect(s.rxPackets).toBe((1n << 60n) + 3n);
    expect(s.fifoBytes).toBe((1n << 60n) + 3n + 14n);
    expect(Object.keys(s)).toHaveLength(15);
  });

  it('SRIOV_ENABLE returns the count the module reports; its errnos come back', () => {
    const { pf } = rig();
    expect(pf.sriovEnable(2)).toBe(2);
    expect(sysErr(() => pf.sriovEnable(1))).toMatchObject({ code: 'EBUSY', syscall: 'ioctl(VFPF_IOC_SRIOV_ENABLE)' });
    expect(sysErr(() => pf.sriovEnable(5))).toMatchObject({ code: 'EINVAL', errno: E.EINVAL });
  });

  it.each([
    ['VF_QUIESCE', (pf: KernelPf) => pf.quiesce(3)], ['VF_RESUME', (pf: KernelPf) => pf.resume(3)],
    ['VF_FLR', (pf: KernelPf) => pf.vfFlr(3)], ['STATE_SIZE', (pf: KernelPf) => pf.stateSize(3)],
    ['VF_CONFIG', (pf: KernelPf) => pf.vfConfig(3)], ['STATS', (pf: KernelPf) => pf.vfStats(3)],
    ['SET_MAC', (pf: KernelPf) => pf.setVfMac(3, MAC)], ['DIRTY_STOP', (pf: KernelPf) => pf.dirtyStop(3)],
  ] as const)('%s on a VF that is not enabled: ENODEV naming the request and the VF', (name, call) => {
    const { pf } = rig();
    const e = sysErr(() => call(pf));
    expect(e).toMatchObject({ code: 'ENODEV', errno: E.ENODEV, syscall: `ioctl(VFPF_IOC_${name})` });
    expect(e.message).toContain('VF 3');
  });

  it('a raw request with a non-zero pad reaches the module as written (diagnostics)', () => {
    const { dev, pf } = rig();
    expect(sysErr(() => pf.rawRequest('VF_QUIESCE', { vf: 0, pad: 1 }))).toMatchObject({ code: 'EINVAL' });
    expect(dev.calls[0]!.arg.readUInt32LE(4)).toBe(1);
  });

  it.each([
    ['a pointer into mapped memory', (pf: KernelPf) => pf.rawRequest('SAVE', { vf: 0, len: 64, buf: 0x7f00_0000_0000n }), RangeError],
    ['a pointer that is not a bigint', (pf: KernelPf) => pf.rawRequest('LOAD', { vf: 0, len: 64, buf: 1 as unknown as bigint }), RangeError],
    ['a field the struct lacks', (pf: KernelPf) => pf.rawRequest('VF_RESUME', { vf: 0, flags: 1 } as never), TypeError],
    ['a negative u32', (pf: KernelPf) => pf.rawRequest('VF_RESUME', { vf: -1 }), RangeError],
    ['a u32 beyond its width', (pf: KernelPf) => pf.rawRequest('SRIOV_ENABLE', { num_vfs: 2 ** 32 }), RangeError],
    ['a u16 beyond its width', (pf: KernelPf) => pf.rawRequest('VF_CONFIG', { vf: 0, enable: 0x1_0000 }), RangeError],
    ['a 64-bit field as a number', (pf: KernelPf) => pf.rawRequest('DIRTY_REPORT', { vf: 0, iova: 0 as unknown as bigint }), RangeError],
    ['a MAC of 7 bytes', (pf: KernelPf) => pf.rawRequest('SET_MAC', { vf: 0, mac: new Uint8Array(7) }), TypeError],
    ['an unknown request', (pf: KernelPf) => pf.rawRequest('NOPE' as never, {}), RangeError],
  ] as const)('a raw request with %s is refused before the ioctl', (_what, call, type) => {
    const { dev, pf } = rig();
    expect(() => call(pf)).toThrow(type);
    expect(dev.calls).toEqual([]);
  });

  it('a raw request may carry a first-page pointer: the module, not this process, is hit (EFAULT there)', () => {
    const { dev, pf } = rig();
    dev.fail.set('LOAD', { errno: E.EFAULT });
    expect(sysErr(() => pf.rawRequest('LOAD', { vf: 0, len: 64, buf: 1n }))).toMatchObject({ code: 'EFAULT' });
    expect(dev.calls[0]!.arg.readBigUInt64LE(8)).toBe(1n);
  });
});

describe('KernelPf: state save and load', () => {
  it('save: the blob the module wrote through the user pointer, trimmed to its length', () => {
    const { dev, pf } = rig();
    pf.quiesce(1);
    const blob = pf.save(1);
    expect(blob.length).toBe(256);
    expect(blob[5]).toBe((5 * 7 + 1) & 0xff);
    const saves = dev.calls.filter((c) => c.name === 'SAVE');
    expect(saves).toHaveLength(1);
    expect(saves[0]!.arg.readUInt32LE(4)).toBeGreaterThanOrEqual(256); // capacity sent
  });

  it('save retries on ENOSPC while the state grows, re-querying STATE_SIZE each time', () => {
    const { dev, pf } = rig();
    dev.quiesced.add(0);
    dev.grow = 6000; // more than the slack save() adds to STATE_SIZE
    dev.stateBytes = 100;
    const blob = pf.save(0);
    expect(blob.length).toBe(dev.stateBytes);
    expect(dev.names()).toEqual(['STATE_SIZE', 'SAVE', 'STATE_SIZE', 'SAVE']);
  });

  it('save gives up after a bounded number of ENOSPC retries and throws ENOSPC', () => {
    const { dev, pf } = rig();
    dev.quiesced.add(0);
    dev.fail.set('SAVE', { errno: E.ENOSPC });
    expect(sysErr(() => pf.save(0))).toMatchObject({ code: 'ENOSPC', syscall: 'ioctl(VFPF_IOC_SAVE)' });
    expect(dev.names().filter((n) => n === 'SAVE')).toHaveLength(4);
  });

  it('save with an explicit capacity makes exactly one attempt; other errnos are not retried', () => {
    const { dev, pf } = rig();
    dev.quiesced.add(0);
    expect(sysErr(() => pf.save(0, 64))).toMatchObject({ code: 'ENOSPC' });
    expect(dev.names()).toEqual(['SAVE']);
    dev.quiesced.clear();
    expect(sysErr(() => pf.save(0))).toMatchObject({ code: 'EBUSY' });
    expect(dev.names()).toEqual(['SAVE', 'STATE_SIZE', 'SAVE']);
  });

  it('load: the module reads exactly the caller\'s bytes (also from a Uint8Array view)', () => {
    const { dev, pf } = rig();
    const backing = new Uint8Array(300).map((_, i) => i & 0xff);
    const view = backing.subarray(10, 210);
    pf.load(1, view);
    expect([...dev.loaded!]).toEqual([...view]);
    expect(dev.calls[0]!.arg.readUInt32LE(4)).toBe(200);
    expect(sysErr(() => pf.load(1, Buffer.alloc(8)))).toMatchObject({ code: 'EBADMSG', syscall: 'ioctl(VFPF_IOC_LOAD)' });
  });
});

describe('KernelPf: device dirty log', () => {
  it('DIRTY_START carries the ranges through a user pointer; DIRTY_REPORT sizes the bitmap', () => {
    const { dev, pf } = rig();
    pf.dirtyStart(1, 12, [{ iova: 0x4000_0000n, length: 0x10_0000n }, { iova: 1n << 40n, length: 8192n }]);
    expect(dev.dirty).toEqual({ shift: 12, ranges: [{ iova: 0x4000_0000n, length: 0x10_0000n }, { iova: 1n << 40n, length: 8192n }] });
    expect(sysErr(() => pf.dirtyStart(1, 12, [{ iova: 0n, length: 4096n }]))).toMatchObject({ code: 'EBUSY' });
    dev.dirtyBits = Buffer.from([0x81, 0x00, 0x40]);
    const bm = pf.dirtyReport(1, 0x4000_0000n, 20n * 4096n, 12); // 20 pages: 3 bytes
    expect([...bm]).toEqual([0x81, 0x00, 0x40]);
    const rep = dev.calls.at(-1)!.arg;
    expect(rep.readBigUInt64LE(8)).toBe(0x4000_0000n);
    expect(rep.readBigUInt64LE(16)).toBe(20n * 4096n);
    expect(rep.readBigUInt64LE(32)).toBe(3n);
    pf.dirtyStop(1);
    expect(sysErr(() => pf.dirtyReport(1, 0x4000_0000n, 4096n, 12))).toMatchObject({ code: 'EINVAL' });
  });
});

describe('the mediator\'s PfDirtyLog over KernelPf', () => {
  it('DeviceLogTracker(PfDirtyLog(KernelPf)): starts the device at 4 KiB, folds reports to 8 KiB, stops', () => {
    const { dev, pf } = rig();
    const backend: PfBackend = pf;
    const tracker = new DeviceLogTracker(new PfDirtyLog(backend, 1));
    tracker.start([{ iova: 0x10_0000n, length: 0x4_0000n }], 8192n);
    expect(dev.dirty?.shift).toBe(12);
    dev.dirtyBits = Buffer.from([0b0001_0010, 0x80]); // 4 KiB pages 1, 4, 15
    const bm = tracker.report(0x10_0000n, 0x4_0000n, 8192n);
    expect([...bm]).toEqual([0b1000_0101, 0, 0, 0]); // 8 KiB pages 0, 2, 7 of 32
    const rep = dev.calls.at(-1)!;
    expect(rep.name).toBe('DIRTY_REPORT');
    expect(rep.arg.readBigUInt64LE(32)).toBe(8n); // the device's 4 KiB bitmap: 64 pages
    tracker.stop();
    expect(dev.dirty).toBeUndefined();
  });

  it('folds a 64 KiB report from 16 device pages', () => {
    const { dev, pf } = rig();
    const log = new PfDirtyLog(pf, 0);
    log.start([{ iova: 0n, length: 0x2_0000n }], 12);
    dev.dirtyBits = Buffer.from([0x00, 0x00, 0x01, 0x00]); // page 16 only
    expect([...log.report(0n, 0x2_0000n, 16)]).toEqual([0b10]);
  });
});

describe('KernelPf: the real libc path on the host kernel', () => {
  it('open of a missing device: ENOENT', () => {
    expect(sysErr(() => KernelPf.open({ path: '/nonexistent/vfpf' }))).toMatchObject({ code: 'ENOENT', syscall: 'open' });
  });

  it('a vfpf request on a file that is not /dev/vfpf: the kernel\'s ENOTTY, the fd closes', () => {
    const pf = KernelPf.open({ path: '/dev/null' });
    try {
      expect(sysErr(() => pf.info())).toMatchObject({ code: 'ENOTTY', syscall: 'ioctl(VFPF_IOC_GET_INFO)' });
      expect(sysErr(() => pf.save(0, 4096))).toMatchObject({ code: 'ENOTTY' });
    } finally {
      pf.close();
    }
    expect(pf.closed).toBe(true);
  });
});
