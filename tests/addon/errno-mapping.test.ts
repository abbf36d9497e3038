// -errno -> error mapping of the glue (native/addon/errors.cc): a C function or syscall
// that fails becomes a VfmedSystemError (mediator/errors.ts) whose code is the errno name,
// errno the positive number and syscall the C function that failed. Table-driven over the
// nic.h functions and the OS helpers, each case provoking the failure for real.
import { constants } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VfmedError, VfmedSystemError } from '../../mediator/errors.js';
import { loadAddon, type NativeNic } from '../../mediator/native/addon.js';

const os = loadAddon();
let nic: NativeNic;
let memfd4k: number;
let memfd8k: number;
let emptyMemfd: number;
let efd: number;
const toClose: number[] = [];

beforeAll(() => {
  nic = new os.Nic({ maxVfs: 2 });
  memfd4k = os.memfdCreate('errno-4k', 4096n);
  memfd8k = os.memfdCreate('errno-8k', 8192n);
  emptyMemfd = os.memfdCreate('errno-empty', 0n);
  efd = os.eventfdCreate();
  toClose.push(memfd4k, memfd8k, emptyMemfd, efd);
  nic.vfDmaMap(0, 0x10000n, 4096n, memfd4k, 0n, 3);
});
afterAll(() => {
  nic.destroy();
  for (const fd of toClose) os.close(fd);
});

/** A descriptor number that is certainly not open. */
function closedFd(): number {
  const fd = os.eventfdCreate();
  os.close(fd);
  return fd;
}

// [what, call, syscall, acceptable codes (the first is the one nic.h documents)]
const cases: [string, () => unknown, string, string[]][] = [
  ['Nic with 0 VFs', () => new os.Nic({ maxVfs: 0 }), 'vfmed_nic_create', ['EINVAL']],
  ['Nic with 9 VFs', () => new os.Nic({ maxVfs: 9 }), 'vfmed_nic_create', ['EINVAL']],
  ['register read of a VF not enabled', () => nic.vfRead32(0, 0x8), 'vfmed_vf_reg_read', ['ENODEV']],
  ['register read, misaligned', () => nic.vfRead32(0, 2), 'vfmed_vf_reg_read', ['EINVAL']],
  ['register read, outside BAR0', () => nic.vfRead32(0, 0x4000), 'vfmed_vf_reg_read', ['EINVAL']],
  ['register write, outside BAR0', () => nic.vfWrite32(0, 0x10000, 1), 'vfmed_vf_reg_write', ['EINVAL']],
  ['64-bit register read, misaligned', () => nic.vfRegRead(0, 4, 8), 'vfmed_vf_reg_read', ['EINVAL']],
  ['truth read at an unaligned IOVA', () => nic.truthRead(0, 0x10001n, 4096n, false), 'vfmed_vf_truth_read', ['EINVAL']],
  ['truth read of length 0', () => nic.truthRead(0, 0x10000n, 0n, false), 'vfmed_vf_truth_read', ['EINVAL']],
  ['Nic with a "/" in shmPrefix', () => new os.Nic({ maxVfs: 1, shmDir: '/tmp', shmPrefix: 'a/b' }), 'vfmed_nic_create', ['EINVAL']],
  ['Nic in a missing shmDir', () => new os.Nic({ maxVfs: 1, shmDir: '/nonexistent/vfmed', shmPrefix: 'x' }), 'vfmed_nic_create', ['ENOENT']],
  ['uplink inject of an empty frame', () => nic.uplinkInject(new Uint8Array(0)), 'vfmed_uplink_inject', ['EINVAL']],
  ['uplink inject of a 13-byte runt', () => nic.uplinkInject(new Uint8Array(13)), 'vfmed_uplink_inject', ['EINVAL']],
  ['uplink inject of a 64 KiB frame', () => nic.uplinkInject(new Uint8Array(65536)), 'vfmed_uplink_inject', ['EINVAL']],
  ['unmap of a range never mapped', () => nic.vfDmaUnmap(0, 0x40000n, 4096n), 'vfmed_vf_dma_unmap', ['ENOENT']],
  ['map overlapping a mapped range', () => nic.vfDmaMap(0, 0x10000n, 4096n, memfd8k, 0n, 3), 'vfmed_vf_dma_map', ['EEXIST']],
  ['map of a closed fd', () => nic.vfDmaMap(1, 0x10000n, 4096n, closedFd(), 0n, 3), 'vfmed_vf_dma_map', ['EBADF', 'EINVAL']],
  ['map past the end of the file', () => nic.vfDmaMap(1, 0x10000n, 8192n, memfd4k, 0n, 3), 'vfmed_vf_dma_map', ['EINVAL']],
  ['close of a closed fd', () => os.close(closedFd()), 'close', ['EBADF']],
  ['memfd name too long', () => os.memfdCreate('x'.repeat(300), 4096n), 'memfd_create', ['EINVAL']],
  ['mmap past the end of the file', () => os.mmapShared(memfd4k, 8192, 0n), 'mmap', ['EINVAL']],
  ['mmap at an unaligned offset', () => os.mmapShared(memfd8k, 4096, 1n), 'mmap', ['EINVAL']],
  ['mmap of an eventfd', () => os.mmapShared(efd, 4096, 0n), 'mmap', ['ENODEV']],
  ['mmap of a closed fd', () => os.mmapShared(closedFd(), 4096, 0n), 'fstat', ['EBADF']],
  ['eventfd with bad flags', () => os.eventfdCreate(0x7fff0000), 'eventfd', ['EINVAL']],
  ['eventfd write of 2^64-1', () => os.eventfdWrite(efd, 0xffffffffffffffffn), 'write', ['EINVAL']],
  ['eventfd read of a non-eventfd', () => os.eventfdRead(emptyMemfd), 'read', ['EINVAL']],
  ['eventfd read of a closed fd', () => os.eventfdRead(closedFd()), 'read', ['EBADF']],
];

describe('-errno becomes VfmedSystemError', () => {
  it.each(cases)('%s', (_what, call, syscall, codes) => {
    let err: unknown;
    try {
      call();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VfmedSystemError);
    const e = err as VfmedSystemError;
    expect(e.name).toBe('VfmedSystemError');
    expect(e.syscall).toBe(syscall);
    expect(codes).toContain(e.code);
    expect(e.errno).toBe((constants.errno as Record<string, number>)[e.code]);
    expect(e.errno).toBeGreaterThan(0);
    expect(e.message.startsWith(`${syscall}: ${e.code}`)).toBe(true);
  });

  it('a failed call leaves the device usable', () => {
    expect(() => nic.vfDmaMap(0, 0x10000n, 4096n, memfd8k, 0n, 3)).toThrow(VfmedSystemError);
    nic.vfDmaUnmap(0, 0x10000n, 4096n);
    nic.vfDmaMap(0, 0x10000n, 4096n, memfd8k, 0n, 3); // the range is free again
    expect(() => nic.vfDmaUnmap(0, 0x10000n, 8192n)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    nic.vfDmaUnmap(0, 0x10000n, 4096n);
  });

  it('exports the platform errno table', () => {
    expect(os.errnos['EINVAL']).toBe(constants.errno.EINVAL);
    expect(os.errnos['ETIMEDOUT']).toBe(constants.errno.ETIMEDOUT);
    expect(os.errnos['EBADMSG']).toBe(constants.errno.EBADMSG);
    expect(Object.isFrozen(os.errnos)).toBe(true);
  });

  it('a destroyed handle is a VfmedError, not a system error', () => {
    const n = new os.Nic({ maxVfs: 1 });
    n.destroy();
    expect(() => n.poll()).toThrow(VfmedError);
  });
});
