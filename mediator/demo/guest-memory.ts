/**
 * Guest RAM of the demo / test "guest": one memfd, mapped MAP_SHARED into this process and
 * (by the caller) DMA-mapped into the emulated VF at `iovaBase`. The device and the driver
 * therefore see the same bytes, like a VM's RAM seen by the VMM and by an IOMMU-mapped
 * device.
 *
 *   memfd offset 0                         dmaLen                     size
 *   |<------ DMA-mapped: rings, buffers ------>|<--- never mapped: canaries --->|
 *   iova = iovaBase + offset
 *
 * Only [0, dmaLen) is handed out by `alloc()`; the tail is there so tests can prove the
 * device never writes outside what it was given. Addresses in the IOVA space are branded
 * bigints so they are never confused with offsets into the mapping.
 */
import type { NativeOs } from '../native/addon.js';

export type Iova = bigint & { readonly __brand: 'Iova' };
export const iova = (v: bigint | number): Iova => BigInt(v) as Iova;

export interface GuestMemoryOptions {
  /** Total memfd size in bytes (page multiple). */
  size: number;
  /** Bytes from offset 0 that are (meant to be) DMA-mapped; alloc() stays inside. */
  dmaLen?: number;
  /** IOVA of offset 0. */
  iovaBase: bigint;
  name?: string;
}

export class GuestMemory {
  readonly fd: number;
  readonly size: number;
  readonly dmaLen: number;
  readonly iovaBase: Iova;
  readonly buffer: ArrayBuffer;
  readonly u8: Uint8Array;
  readonly view: DataView;
  /** 32-bit view for ordered (Atomics) accesses to descriptor dwords. */
  readonly i32: Int32Array;
  private next = 0;
  private closed = false;

  constructor(private readonly os: NativeOs, opts: GuestMemoryOptions) {
    if (!Number.isInteger(opts.size) || opts.size <= 0 || opts.size % 4096 !== 0) {
      throw new RangeError(`guest memory size must be a positive multiple of 4096, got ${opts.size}`);
    }
    const dmaLen = opts.dmaLen ?? opts.size;
    if (!Number.isInteger(dmaLen) || dmaLen <= 0 || dmaLen > opts.size || dmaLen % 4096 !== 0) {
      throw new RangeError(`dmaLen must be a page multiple in (0, size], got ${dmaLen}`);
    }
    this.size = opts.size;
    this.dmaLen = dmaLen;
    this.iovaBase = iova(opts.iovaBase);
    this.fd = os.memfdCreate(opts.name ?? 'vfmed-guest-ram', BigInt(opts.size));
    try {
      this.buffer = os.mmapShared(this.fd, opts.size, 0n);
    } catch (e) {
      os.close(this.fd);
      throw e;
    }
    this.u8 = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
    this.i32 = new Int32Array(this.buffer);
  }

  /** Allocates `len` bytes aligned to `align` inside the DMA-mapped part. */
  alloc(len: number, align = 4096): { offset: number; iova: Iova } {
    if (!Number.isInteger(len) || len <= 0) throw new RangeError(`alloc length ${len}`);
    const offset = Math.ceil(this.next / align) * align;
    if (offset + len > this.dmaLen) {
      throw new RangeError(
        `guest memory exhausted: need ${len} bytes at ${offset}, DMA-mapped part is ${this.dmaLen}`,
      );
    }
    this.next = offset + len;
    return { offset, iova: this.iovaOf(offset) };
  }

  /** Bytes still available to alloc() (ignoring alignment). */
  get free(): number {
    return this.dmaLen - this.next;
  }

  iovaOf(offset: number): Iova {
    return iova(this.iovaBase + BigInt(offset));
  }

  /** Offset in the mapping of an IOVA; RangeError when it is not inside the memfd. */
  offsetOf(addr: bigint, len = 1): number {
    const off = addr - this.iovaBase;
    if (off < 0n || off + BigInt(len) > BigInt(this.size)) {
      throw new RangeError(`IOVA 0x${addr.toString(16)}+${len} is outside guest memory`);
    }
    return Number(off);
  }

  /** Fills [offset, offset+len) with a deterministic byte pattern derived from `seed`. */
  fillPattern(offset: number, len: number, seed: number): void {
    for (let i = 0; i < len; i++) this.u8[offset + i] = patternByte(seed, offset + i);
  }

  /** Index of the first byte in [offset, offset+len) that differs from the pattern, or -1. */
  checkPattern(offset: number, len: number, seed: number): number {
    for (let i = 0; i < len; i++) {
      if (this.u8[offset + i] !== patternByte(seed, offset + i)) return offset + i;
    }
    return -1;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.os.munmap(this.buffer);
    this.os.close(this.fd);
  }
}

/** A byte pattern that is not all-equal and differs per seed (canaries, payloads). */
export function patternByte(seed: number, index: number): number {
  let x = (Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(seed + 7, 0x85ebca6b)) >>> 0;
  x ^= x >>> 15;
  return x & 0xff;
}
