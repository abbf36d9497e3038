/**
 * A PCI configuration space with real register semantics: every byte has a value, a
 * writable-bit mask and a write-1-to-clear mask, so BAR sizing (write all-ones, read back
 * the size mask), read-only IDs and RW1C status bits all fall out of one write rule:
 *
 *     new = (old & ~wmask) | (val & wmask);   new &= ~(val & w1cmask)
 *
 * Registers with side effects (command register, PCIe FLR) register a hook that runs
 * after the masked write, with the raw bytes the client wrote. Accesses of any length are
 * allowed, as on a real function (QEMU reads the whole space at once); the region-level
 * bounds check is done by the caller.
 *
 * The layout of the emulated 82576 VF lives in igbvf-config.ts; this file knows PCI only.
 */
import { constants } from 'node:os';
import { VfmedError } from '../errors.js';

const { EINVAL } = constants.errno;

/** Offsets and bits of <linux/pci_regs.h> that the model and the igbvf layout use. */
export const Pci = {
  VENDOR_ID: 0x00,
  DEVICE_ID: 0x02,
  COMMAND: 0x04,
  STATUS: 0x06,
  REVISION_ID: 0x08,
  CLASS_PROG: 0x09,
  CLASS_DEVICE: 0x0a,
  CACHE_LINE_SIZE: 0x0c,
  LATENCY_TIMER: 0x0d,
  HEADER_TYPE: 0x0e,
  BASE_ADDRESS_0: 0x10,
  SUBSYSTEM_VENDOR_ID: 0x2c,
  SUBSYSTEM_ID: 0x2e,
  ROM_ADDRESS: 0x30,
  CAPABILITY_LIST: 0x34,
  INTERRUPT_LINE: 0x3c,
  INTERRUPT_PIN: 0x3d,
  CFG_SPACE_SIZE: 0x100,
  CFG_SPACE_EXP_SIZE: 0x1000,

  COMMAND_IO: 0x1,
  COMMAND_MEMORY: 0x2,
  COMMAND_MASTER: 0x4,
  COMMAND_PARITY: 0x40,
  COMMAND_SERR: 0x100,
  COMMAND_INTX_DISABLE: 0x400,
  STATUS_CAP_LIST: 0x10,

  BASE_ADDRESS_MEM_TYPE_64: 0x04,
  BASE_ADDRESS_MEM_PREFETCH: 0x08,

  CAP_ID_MSIX: 0x11,
  CAP_ID_EXP: 0x10,
  MSIX_FLAGS: 2,
  MSIX_TABLE: 4,
  MSIX_PBA: 8,
  MSIX_FLAGS_ENABLE: 0x8000,
  MSIX_FLAGS_MASKALL: 0x4000,
  MSIX_CAP_SIZE: 12,

  EXP_FLAGS: 0x02,
  EXP_DEVCAP: 0x04,
  EXP_DEVCTL: 0x08,
  EXP_DEVSTA: 0x0a,
  EXP_LNKCAP: 0x0c,
  EXP_LNKCTL: 0x10,
  EXP_LNKSTA: 0x12,
  EXP_DEVCAP2: 0x24,
  EXP_DEVCTL2: 0x28,
  EXP_LNKCAP2: 0x2c,
  EXP_LNKCTL2: 0x30,
  EXP_CAP_SIZE_V2: 0x32, // end of a v2 endpoint with a link (PCI_CAP_EXP_ENDPOINT_SIZEOF_V2)
  EXP_DEVCAP_FLR: 0x10000000,
  EXP_DEVCTL_BCR_FLR: 0x8000,
} as const;

/** Called after a write touched [off, off+len) of a hooked range; `written` is the raw data
 * the client wrote there (before masking), `before` the register bytes before the write. */
export type ConfigHook = (off: number, written: Uint8Array, before: Uint8Array) => void;

interface HookEntry {
  start: number;
  end: number;
  fn: ConfigHook;
}

export class PciConfigSpace {
  readonly size: number;
  private readonly bytes: Uint8Array;
  private readonly wmask: Uint8Array;
  private readonly w1cmask: Uint8Array;
  private readonly initial: Uint8Array;
  private readonly hooks: HookEntry[] = [];
  private sealed = false;

  constructor(size: number = Pci.CFG_SPACE_EXP_SIZE) {
    if (size !== Pci.CFG_SPACE_SIZE && size !== Pci.CFG_SPACE_EXP_SIZE) {
      throw new RangeError(`config space size must be 256 or 4096, not ${size}`);
    }
    this.size = size;
    this.bytes = new Uint8Array(size);
    this.wmask = new Uint8Array(size);
    this.w1cmask = new Uint8Array(size);
    this.initial = new Uint8Array(size);
  }

  // ---- building (before seal()) ----------------------------------------------------------

  /** Defines a register: reset value, writable bits, RW1C bits (little-endian, 1/2/4 bytes). */
  define(off: number, width: 1 | 2 | 4, value: number, wmask = 0, w1cmask = 0): this {
    if (this.sealed) throw new Error('config space is sealed');
    this.checkRange(off, width);
    for (let i = 0; i < width; i++) {
      this.bytes[off + i] = (value >>> (8 * i)) & 0xff;
      this.wmask[off + i] = (wmask >>> (8 * i)) & 0xff;
      this.w1cmask[off + i] = (w1cmask >>> (8 * i)) & 0xff;
    }
    return this;
  }

  /** Runs fn after writes that touch [off, off+len). */
  hook(off: number, len: number, fn: ConfigHook): this {
    this.checkRange(off, len);
    this.hooks.push({ start: off, end: off + len, fn });
    return this;
  }

  /** Ends the definition; the current contents become the power-on state. */
  seal(): this {
    this.initial.set(this.bytes);
    this.sealed = true;
    return this;
  }

  // ---- access ----------------------------------------------------------------------------

  read(off: number, len: number): Uint8Array {
    this.checkRange(off, len);
    return this.bytes.slice(off, off + len);
  }

  read8(off: number): number {
    return this.read(off, 1)[0] as number;
  }

  read16(off: number): number {
    const b = this.read(off, 2);
    return (b[0] as number) | ((b[1] as number) << 8);
  }

  read32(off: number): number {
    const b = this.read(off, 4);
    return ((b[0] as number) | ((b[1] as number) << 8) | ((b[2] as number) << 16) | ((b[3] as number) << 24)) >>> 0;
  }

  write(off: number, data: Uint8Array): void {
    this.checkRange(off, data.byteLength);
    const before = this.bytes.slice(off, off + data.byteLength);
    for (let i = 0; i < data.byteLength; i++) {
      const o = off + i;
      const val = data[i] as number;
      const wm = this.wmask[o] as number;
      let nv = ((this.bytes[o] as number) & ~wm) | (val & wm);
      nv &= ~(val & (this.w1cmask[o] as number));
      this.bytes[o] = nv & 0xff;
    }
    for (const h of this.hooks) {
      const s = Math.max(h.start, off);
      const e = Math.min(h.end, off + data.byteLength);
      if (s < e) h.fn(s, data.subarray(s - off, e - off), before.subarray(s - off, e - off));
    }
  }

  write16(off: number, v: number): void {
    this.write(off, Uint8Array.of(v & 0xff, (v >>> 8) & 0xff));
  }

  write32(off: number, v: number): void {
    this.write(off, Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff));
  }

  /** Device-side update of a register, ignoring the client write masks (e.g. status bits). */
  poke(off: number, width: 1 | 2 | 4, value: number): void {
    this.checkRange(off, width);
    for (let i = 0; i < width; i++) this.bytes[off + i] = (value >>> (8 * i)) & 0xff;
  }

  /** Back to the power-on state (what a function-level reset does). */
  resetToPowerOn(): void {
    this.bytes.set(this.initial);
  }

  /** Walks the capability list; returns [id, offset] pairs (bounded against loops). */
  capabilities(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    if (!(this.read16(Pci.STATUS) & Pci.STATUS_CAP_LIST)) return out;
    let p = this.read8(Pci.CAPABILITY_LIST) & ~3;
    for (let n = 0; p >= 0x40 && n < 48; n++) {
      out.push([this.read8(p), p]);
      p = this.read8(p + 1) & ~3;
    }
    return out;
  }

  private checkRange(off: number, len: number): void {
    if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > this.size) {
      throw new VfmedError('VFMED_ERR_VFIO_RANGE', `config access [${off}, +${len}) outside ${this.size} bytes`, EINVAL);
    }
  }
}
