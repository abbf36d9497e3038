// A stand-in for vfpf.ko's /dev/vfpf behind KernelPf's CdevPort, for host tests without a
// kernel. It decodes each argument from raw bytes at the header's offsets (not through the
// binding's koffi structs, so an encoding mistake there shows up here) and moves blobs and
// bitmaps through the raw user addresses in the structs with libc memcpy, the way
// copy_{from,to}_user does. Only what the tests need of the module's semantics is modelled;
// the real module is exercised in tests/kernel.
import koffi from 'koffi';
import type { CdevPort } from '../../mediator/pf/cdev-port.js';
import { VFPF_IOC } from '../../mediator/pf/vfpf-uapi.js';

const libc = koffi.load('libc.so.6');
const memcpy = libc.func('void *memcpy(void *dst, const void *src, size_t n)') as
  (dst: Buffer | bigint, src: Buffer | bigint, n: number) => unknown;

/** copy_from_user: `len` bytes at user address `addr`. */
export function readUser(addr: bigint, len: number): Buffer {
  const b = Buffer.alloc(len);
  if (len) memcpy(b, addr, len);
  return b;
}

/** copy_to_user. */
export function writeUser(addr: bigint, data: Buffer): void {
  if (data.length) memcpy(addr, data, data.length);
}

export const E = { EPERM: 1, ENOENT: 2, EIO: 5, EBADF: 9, EFAULT: 14, EBUSY: 16, ENODEV: 19, EINVAL: 22, ENOSPC: 28, ENOTTY: 25, EBADMSG: 74, E2BIG: 7 } as const;

export interface Call { name: string; arg: Buffer }

const byRequest = new Map(Object.values(VFPF_IOC).map((d) => [d.request, d.name]));

export class FakeVfpf implements CdevPort {
  readonly calls: Call[] = [];
  readonly closedFds: number[] = [];
  openResult = 7;
  numVfs = 2;
  maxVfs = 4;
  macs: Buffer[] = [Buffer.alloc(6), Buffer.alloc(6)];
  quiesced = new Set<number>();
  /** Bytes a SAVE needs; `grow` is added once, right after the next STATE_SIZE (frames
   * still arriving between STATE_SIZE and SAVE). */
  stateBytes = 256;
  grow = 0;
  loaded: Buffer | undefined;
  dirty: { shift: number; ranges: { iova: bigint; length: bigint }[] } | undefined;
  /** Bitmap bytes the next DIRTY_REPORT returns. */
  dirtyBits = Buffer.alloc(0);
  /** Forced errno for a request name (one-shot when `once`). */
  fail = new Map<string, { errno: number; once?: boolean }>();
  statsValue = 0n;

  open(path: string): number {
    return path === '/dev/vfpf' ? this.openResult : -E.ENOENT;
  }

  close(fd: number): number {
    this.closedFds.push(fd);
    return 0;
  }

  ioctl(fd: number, request: number, arg: Buffer | null): number {
    if (fd !== this.openResult) return -E.EBADF;
    const name = byRequest.get(request);
    if (!name || !arg) return -E.ENOTTY;
    this.calls.push({ name, arg: Buffer.from(arg) });
    const f = this.fail.get(name);
    if (f) {
      if (f.once) this.fail.delete(name);
      return -f.errno;
    }
    return this.#handle(name, arg);
  }

  names(): string[] {
    return this.calls.map((c) => c.name);
  }

  #vf(arg: Buffer): number {
    const vf = arg.readUInt32LE(0);
    return vf < this.numVfs ? vf : -E.ENODEV;
  }

  #handle(name: string, a: Buffer): number {
    switch (name) {
      case 'GET_INFO':
        a.writeUInt32LE(0x76660576, 0); a.writeUInt16LE(1, 4); a.writeUInt16LE(2, 6);
        a.writeUInt32LE(this.maxVfs, 8); a.writeUInt32LE(this.numVfs, 12); a.writeUInt32LE(2, 16);
        a.writeUInt32LE(65536, 20); a.writeUInt32LE(0x10000, 24); a.writeUInt32LE(3, 28);
        return 0;
      case 'SRIOV_ENABLE': {
        if (a.readUInt32LE(4)) return -E.EINVAL;
        const n = a.readUInt32LE(0);
        if (n > this.maxVfs) return -E.EINVAL;
        if (n !== this.numVfs && n && this.numVfs) return -E.EBUSY;
        this.numVfs = n;
        return 0;
      }
      case 'SET_MAC': {
        if (a[10] || a[11]) return -E.EINVAL;
        const vf = this.#vf(a);
        if (vf < 0) return vf;
        if (a[4]! & 1) return -E.EINVAL;
        this.macs[vf] = Buffer.from(a.subarray(4, 10));
        return 0;
      }
      case 'VF_CONFIG': {
        const vf = this.#vf(a);
        if (vf < 0) return vf;
        this.macs[vf]!.copy(a, 4);
        a.writeUInt16LE(3, 10); a.writeUInt32LE(1522, 12); a.writeUInt32LE(1, 16);
        a.writeUInt32LE(2, 20); a.writeUInt32LE(0, 24);
        a.writeUInt32LE(this.quiesced.has(vf) ? 1 : 0, 28);
        return 0;
      }
      case 'STATS': {
        if (a.readUInt32LE(4)) return -E.EINVAL;
        const vf = this.#vf(a);
        if (vf < 0) return vf;
        for (let i = 0; i < 15; i++) a.writeBigUInt64LE(this.statsValue + BigInt(i), 8 + 8 * i);
        return 0;
      }
      case 'VF_QUIESCE': case 'VF_RESUME': case 'VF_FLR': case 'DIRTY_STOP': {
        if (a.readUInt32LE(4)) return -E.EINVAL;
        const vf = this.#vf(a);
        if (vf < 0) return vf;
        if (name === 'VF_QUIESCE') this.quiesced.add(vf);
        if (name === 'VF_RESUME') this.quiesced.delete(vf);
        if (name === 'DIRTY_STOP') this.dirty = undefined;
        return 0;
      }
      case 'STATE_SIZE': {
        const vf = this.#vf(a);
        if (vf < 0) return vf;
        a.writeUInt32LE(this.stateBytes, 4);
        this.stateBytes += this.grow;
        this.grow = 0;
        return 0;
      }
      case 'SAVE': {
        const vf = this.#vf(a);
        if (vf < 0) return vf;
        if (!this.quiesced.has(vf)) return -E.EBUSY;
        const cap = a.readUInt32LE(4);
        if (cap < this.stateBytes) return -E.ENOSPC;
        const blob = Buffer.alloc(this.stateBytes);
        for (let i = 0; i < blob.length; i++) blob[i] = (i * 7 + vf) & 0xff;
        writeUser(a.readBigUInt64LE(8), blob);
        a.writeUInt32LE(blob.length, 4);
        return 0;
      }
      case 'LOAD': {
        const vf = this.#vf(a);
        if (vf < 0) return vf;
        this.loaded = readUser(a.readBigUInt64LE(8), a.readUInt32LE(4));
        return this.loaded.length < 40 ? -E.EBADMSG : 0;
      }
      case 'DIRTY_START': {
        const vf = this.#vf(a);
        if (vf < 0) return vf;
        if (a.readUInt32LE(12)) return -E.EINVAL;
        if (this.dirty) return -E.EBUSY;
        const n = a.readUInt32LE(8);
        const raw = readUser(a.readBigUInt64LE(16), n * 16);
        const ranges = Array.from({ length: n }, (_, i) => ({
          iova: raw.readBigUInt64LE(16 * i), length: raw.readBigUInt64LE(16 * i + 8),
        }));
        this.dirty = { shift: a.readUInt32LE(4), ranges };
        return 0;
      }
      case 'DIRTY_REPORT': {
        const vf = this.#vf(a);
        if (vf < 0) return vf;
        if (!this.dirty) return -E.EINVAL;
        const len = Number(a.readBigUInt64LE(32));
        const out = Buffer.alloc(len);
        this.dirtyBits.copy(out, 0, 0, Math.min(len, this.dirtyBits.length));
        writeUser(a.readBigUInt64LE(24), out);
        return 0;
      }
      default:
        return -E.ENOTTY;
    }
  }
}
