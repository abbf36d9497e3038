/**
 * How a driver reaches one VF's BAR0: a 32-bit register port. Two kinds, matching
 * igbvf-vf.md 1.3 and the device model (nic.h):
 *
 *  - trapped: every access is a call into the device (nic.vfRead32/vfWrite32), i.e. what a
 *    VMM's MMIO exit / vfio-user REGION_READ/WRITE turns into. Pages 0-1 always go this way
 *    because their registers have side effects (mailbox, RST, read-to-clear EICR).
 *  - passthrough: plain loads and stores into an mmap of the VF BAR's shared memory, the
 *    way a guest writes a doorbell into a BAR page the VMM mapped straight through. Only
 *    pages 2-3 (RX and TX queue registers) may be used like this; the device notices tail
 *    writes by polling the shared page.
 *
 * Passthrough stores use Atomics.store: a sequentially consistent store is a full barrier,
 * so the descriptor bytes written before a doorbell are visible to the device before the
 * doorbell itself (the "wmb(); writel(tail)" of a real driver). Loads use Atomics.load for
 * the same reason on the read side.
 */
import type { NativeNic, NativeOs } from '../native/addon.js';
import { PAGE_SIZE, VF_BAR0_SIZE, VF_PAGE_RXQ, VF_PAGE_TXQ } from './vf-regs.js';

export interface RegPort {
  read32(off: number): number;
  write32(off: number, val: number): void;
  /** 'trapped' or 'passthrough', for logs and assertions. */
  readonly kind: 'trapped' | 'passthrough';
}

function checkOff(off: number, lo: number, hi: number): void {
  if (!Number.isInteger(off) || off < lo || off + 4 > hi || off % 4 !== 0) {
    throw new RangeError(
      `register offset 0x${off.toString(16)} outside [0x${lo.toString(16)}, 0x${hi.toString(16)}) or unaligned`,
    );
  }
}

/** Register port that goes through the device for every access (the trapped path). */
export function trappedPort(nic: NativeNic, vf: number): RegPort {
  return {
    kind: 'trapped',
    read32(off) {
      checkOff(off, 0, VF_BAR0_SIZE);
      return nic.vfRead32(vf, off) >>> 0;
    },
    write32(off, val) {
      checkOff(off, 0, VF_BAR0_SIZE);
      nic.vfWrite32(vf, off, val >>> 0);
    },
  };
}

/**
 * A shared mapping of a VF BAR0 (16 KiB), and the passthrough port over its queue pages.
 * `unmap()` releases the mapping (the NIC keeps the fd).
 */
export class VfBarMapping {
  readonly buffer: ArrayBuffer;
  private readonly i32: Int32Array;
  private unmapped = false;

  constructor(private readonly os: NativeOs, fd: number) {
    this.buffer = os.mmapShared(fd, VF_BAR0_SIZE, 0n);
    this.i32 = new Int32Array(this.buffer);
  }

  /** Passthrough port: only pages 2-3 (queue registers) are reachable. */
  port(): RegPort {
    const i32 = this.i32;
    const lo = VF_PAGE_RXQ * PAGE_SIZE;
    const hi = (VF_PAGE_TXQ + 1) * PAGE_SIZE;
    const self = this;
    return {
      kind: 'passthrough',
      read32(off) {
        checkOff(off, lo, hi);
        if (self.unmapped) throw new Error('VF BAR mapping was unmapped');
        return Atomics.load(i32, off >> 2) >>> 0;
      },
      write32(off, val) {
        checkOff(off, lo, hi);
        if (self.unmapped) throw new Error('VF BAR mapping was unmapped');
        Atomics.store(i32, off >> 2, val | 0);
      },
    };
  }

  unmap(): void {
    if (this.unmapped) return;
    this.unmapped = true;
    this.os.munmap(this.buffer);
  }
}
