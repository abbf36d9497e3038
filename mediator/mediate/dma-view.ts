/**
 * The mediator's own views of what the device sees, for the tail-trap tracker:
 *
 *  - DmaWindowReader: guest memory through the client's DMA maps. Each window the device
 *    accepted is mapped here too (mmapShared of the DMA fd the server received, at the
 *    window's file offset), so descriptors are read exactly where the device reads them.
 *    A read must lie inside one window; anything else is `undefined` (never a read outside
 *    what the client gave).
 *
 *        iova ─┬──────── window A ────────┬──┬── window B ──┬─▶
 *              │ Buffer over mmap(fd_A)   │  │ mmap(fd_B)   │   read(iova, len) = a view
 *
 *  - BarRegisters: the VF's BAR0 register memory (the same memfd the device polls and a
 *    passthrough client maps), read as 32-bit little-endian registers.
 */
import type { NativeOs } from '../native/addon.js';
import type { DmaMapRequest } from '../vfio/device.js';
import type { GuestMemoryReader, VfRegisterReader } from './tail-trap-tracker.js';
import { VF_BAR0_SIZE } from '../hw/vf-regs.js';

interface Window {
  iova: bigint;
  end: bigint;
  ab: ArrayBuffer | null;
  buf: Buffer | null;
}

export class DmaWindowReader implements GuestMemoryReader {
  #windows: Window[] = [];
  #generation = 0;
  /** Windows that could not be mapped here (e.g. a read-only fd): reads in them fail. */
  unmappable = 0;

  /** +1 whenever a window is added or removed (views handed out before may be stale). */
  get generation(): number {
    return this.#generation;
  }

  constructor(private readonly os: Pick<NativeOs, 'mmapShared' | 'munmap'>) {}

  /** Call after the device accepted the window (the fd is still open then). */
  add(req: DmaMapRequest): void {
    let ab: ArrayBuffer | null = null;
    if (req.size <= BigInt(Number.MAX_SAFE_INTEGER)) {
      try {
        ab = this.os.mmapShared(req.fd, Number(req.size), req.offset);
      } catch {
        ab = null;
      }
    }
    if (!ab) this.unmappable++;
    this.#windows.push({ iova: req.iova, end: req.iova + req.size, ab, buf: ab ? Buffer.from(ab) : null });
    this.#windows.sort((a, b) => (a.iova < b.iova ? -1 : a.iova > b.iova ? 1 : 0));
    this.#generation++;
  }

  remove(iova: bigint, size: bigint): void {
    const i = this.#windows.findIndex((w) => w.iova === iova && w.end === iova + size);
    if (i < 0) return;
    const [w] = this.#windows.splice(i, 1);
    this.#generation++;
    if (w?.ab) this.os.munmap(w.ab);
  }

  clear(): void {
    for (const w of this.#windows) if (w.ab) this.os.munmap(w.ab);
    this.#windows = [];
    this.#generation++;
  }

  get windows(): ReadonlyArray<{ iova: bigint; size: bigint; readable: boolean }> {
    return this.#windows.map((w) => ({ iova: w.iova, size: w.end - w.iova, readable: w.buf !== null }));
  }

  /** The mapped windows themselves (for the transport's fast path, which reads posted
   * descriptors at a trapped tail write; valid until the next add/remove/clear). */
  mappings(): Array<{ iova: bigint; buffer: ArrayBuffer }> {
    return this.#windows.flatMap((w) => (w.ab ? [{ iova: w.iova, buffer: w.ab }] : []));
  }

  read(iova: bigint, len: number): Buffer | undefined {
    if (len <= 0) return undefined;
    const end = iova + BigInt(len);
    for (const w of this.#windows) {
      if (iova >= w.iova && end <= w.end) {
        if (!w.buf) return undefined;
        const off = Number(iova - w.iova);
        return w.buf.subarray(off, off + len);
      }
    }
    return undefined;
  }
}

export class BarRegisters implements VfRegisterReader {
  readonly #ab: ArrayBuffer;
  readonly #regs: Uint32Array;

  constructor(private readonly os: Pick<NativeOs, 'mmapShared' | 'munmap'>, barFd: number) {
    this.#ab = os.mmapShared(barFd, VF_BAR0_SIZE, 0n);
    this.#regs = new Uint32Array(this.#ab);
  }

  read32(off: number): number {
    // x86 and the device are little-endian; the index is bounds-checked by the typed array.
    return this.#regs[off >>> 2] ?? 0;
  }

  close(): void {
    this.os.munmap(this.#ab);
  }
}
