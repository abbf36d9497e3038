// The OS helpers of the addon (native/addon/os.cc): memfd + MAP_SHARED mappings as
// ArrayBuffers, munmap that detaches (never a view on unmapped pages, a second munmap is a
// no-op), and eventfd counter semantics.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAddon } from '../../mediator/native/addon.js';

const os = loadAddon();
const fds: number[] = [];
afterEach(() => {
  while (fds.length) os.close(fds.pop()!);
});
const memfd = (size: number): number => {
  const fd = os.memfdCreate('os-helpers', BigInt(size));
  fds.push(fd);
  return fd;
};

describe('memfd + mmapShared', () => {
  it('two mappings of one memfd share their bytes, at the right offset', () => {
    const fd = memfd(3 * 4096);
    const a = new Uint8Array(os.mmapShared(fd, 3 * 4096, 0n));
    const b = new Uint8Array(os.mmapShared(fd, 4096, 8192n));
    a[8192 + 17] = 0xa5;
    expect(b[17]).toBe(0xa5);
    b[4095] = 0x5a;
    expect(a[3 * 4096 - 1]).toBe(0x5a);
    expect(a.byteLength).toBe(3 * 4096);
    os.munmap(a.buffer as ArrayBuffer);
    os.munmap(b.buffer as ArrayBuffer);
  });

  it('a new memfd reads as zeros and has the requested size', () => {
    const fd = memfd(4096);
    const u = new Uint8Array(os.mmapShared(fd, 4096, 0n));
    expect(u.every((x) => x === 0)).toBe(true);
    expect(() => os.mmapShared(fd, 4097, 0n)).toThrow(/beyond the end of the file \(4096 bytes\)/);
    os.munmap(u.buffer as ArrayBuffer);
  });

  it('munmap detaches: views become empty instead of pointing at unmapped pages', () => {
    const fd = memfd(4096);
    const ab = os.mmapShared(fd, 4096, 0n);
    const u32 = new Uint32Array(ab);
    u32[0] = 0xdeadbeef;
    os.munmap(ab);
    expect(ab.byteLength).toBe(0);
    expect(u32.length).toBe(0);
    expect(u32[0]).toBeUndefined();
    u32[0] = 1; // a write to a detached view is dropped by JS, never reaches memory
    // the data survived in the file
    const again = new Uint32Array(os.mmapShared(fd, 4096, 0n));
    expect(again[0]).toBe(0xdeadbeef);
    os.munmap(again.buffer as ArrayBuffer);
  });

  it('a second munmap of the same buffer is a no-op', () => {
    const ab = os.mmapShared(memfd(4096), 4096, 0n);
    os.munmap(ab);
    expect(() => os.munmap(ab)).not.toThrow();
  });

  it.each([
    ['a plain ArrayBuffer', () => new ArrayBuffer(4096), TypeError],
    ['a Uint8Array', () => new Uint8Array(16), TypeError],
    ['a number', () => 4096, TypeError],
  ])('munmap of %s is refused', (_what, make, cls) => {
    expect(() => os.munmap(make() as ArrayBuffer)).toThrow(cls);
  });

  it.each([
    ['length 0', 0, 0n, RangeError],
    ['negative length', -4096, 0n, RangeError],
    ['length as bigint', 4096n, 0n, TypeError],
    ['offset as number', 4096, 0, TypeError],
    ['negative offset', 4096, -4096n, RangeError],
  ])('mmapShared with %s is refused', (_what, len, off, cls) => {
    const fd = memfd(4096);
    expect(() => os.mmapShared(fd, len as number, off as bigint)).toThrow(cls);
  });

  it('mappings dropped without munmap are released by the garbage collector', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const fd = memfd(1 << 20);
    // 2000 x 1 MiB of address space: fine if the finalizer unmaps, and a crash of the
    // worker (not a failed assertion) if it unmapped twice or freed its record early.
    for (let i = 0; i < 2000; i++) {
      const u = new Uint8Array(os.mmapShared(fd, 1 << 20, 0n));
      u[i] = 1;
    }
    gc();
    const u = new Uint8Array(os.mmapShared(fd, 1 << 20, 0n));
    expect(u[1999]).toBe(1);
    os.munmap(u.buffer as ArrayBuffer);
  });
});

describe('eventfd', () => {
  it('counts writes and reads the sum, then would block (null)', () => {
    const fd = os.eventfdCreate();
    fds.push(fd);
    expect(os.eventfdRead(fd)).toBeNull();
    os.eventfdWrite(fd, 5n);
    os.eventfdWrite(fd, 2n);
    expect(os.eventfdRead(fd)).toBe(7n);
    expect(os.eventfdRead(fd)).toBeNull();
  });

  it('carries 64-bit values', () => {
    const fd = os.eventfdCreate();
    fds.push(fd);
    os.eventfdWrite(fd, 0xfffffffffffffffen); // the largest value an eventfd holds
    expect(os.eventfdRead(fd)).toBe(0xfffffffffffffffen);
  });

  it('semaphore mode reads 1 at a time', () => {
    const { EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC } = os.constants;
    const fd = os.eventfdCreate(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
    fds.push(fd);
    os.eventfdWrite(fd, 2n);
    expect(os.eventfdRead(fd)).toBe(1n);
    expect(os.eventfdRead(fd)).toBe(1n);
    expect(os.eventfdRead(fd)).toBeNull();
  });

  it('a full counter makes a non-blocking write fail with EAGAIN', () => {
    const fd = os.eventfdCreate();
    fds.push(fd);
    os.eventfdWrite(fd, 0xfffffffffffffffen);
    // errno 11: mediator/errors.ts names it EWOULDBLOCK (Node's errno table has both names)
    expect(() => os.eventfdWrite(fd, 1n)).toThrow(expect.objectContaining({ errno: os.errnos['EAGAIN'], syscall: 'write' }));
  });

  it.each([
    ['a negative value', -1n, RangeError],
    ['a number value', 1, TypeError],
  ])('eventfdWrite with %s is refused', (_what, v, cls) => {
    const fd = os.eventfdCreate();
    fds.push(fd);
    expect(() => os.eventfdWrite(fd, v as bigint)).toThrow(cls);
  });
});
