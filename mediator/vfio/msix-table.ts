/**
 * BAR3 of the VF: the MSI-X table (offset 0, 16 bytes per vector) and the Pending Bit
 * Array (offset 0x2000), emulated in memory.
 *
 *   0x0000  vector 0: addr_lo addr_hi data ctrl    ctrl bit 0 = per-vector mask (1 at reset)
 *   0x0010  vector 1
 *   0x0020  vector 2
 *   0x0030 .. 0x1fff  reserved: reads 0, writes ignored
 *   0x2000  PBA, one bit per vector, read-only
 *
 * In the VFIO model interrupt delivery is the eventfd the client registered with SET_IRQS;
 * the client (QEMU's vfio-pci) emulates masking and the message address/data itself. The
 * table is still real storage so that a generic driver that programs it reads back what it
 * wrote. The PCI spec requires DWORD or QWORD aligned accesses; anything else is EINVAL.
 */
import { constants } from 'node:os';
import { VfmedError } from '../errors.js';

const { EINVAL } = constants.errno;

export const MSIX_ENTRY_SIZE = 16;
export const MSIX_ENTRY_VECTOR_CTRL = 0xc;
export const MSIX_ENTRY_CTRL_MASKBIT = 0x1;

export class MsixTable {
  private readonly table: Uint8Array;
  private readonly pending: Uint8Array;

  constructor(
    readonly vectors: number,
    readonly size: number,
    readonly pbaOffset: number,
  ) {
    if (vectors < 1 || vectors > 2048) throw new RangeError('MSI-X vectors: 1 .. 2048');
    if (vectors * MSIX_ENTRY_SIZE > pbaOffset || pbaOffset + Math.ceil(vectors / 64) * 8 > size) {
      throw new RangeError('MSI-X table and PBA do not fit the BAR');
    }
    this.table = new Uint8Array(vectors * MSIX_ENTRY_SIZE);
    this.pending = new Uint8Array(Math.ceil(vectors / 64) * 8);
    this.reset();
  }

  /** Power-on state: every vector masked, address/data 0, nothing pending. */
  reset(): void {
    this.table.fill(0);
    this.pending.fill(0);
    for (let v = 0; v < this.vectors; v++) this.table[v * MSIX_ENTRY_SIZE + MSIX_ENTRY_VECTOR_CTRL] = MSIX_ENTRY_CTRL_MASKBIT;
  }

  read(off: number, count: number): Uint8Array {
    this.check(off, count);
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = this.byteAt(off + i);
    return out;
  }

  write(off: number, data: Uint8Array): void {
    this.check(off, data.byteLength);
    for (let i = 0; i < data.byteLength; i++) {
      const o = off + i;
      if (o >= this.table.byteLength) continue; // reserved space and the read-only PBA
      const field = o % MSIX_ENTRY_SIZE;
      let v = data[i] as number;
      if (field === 0) v &= 0xfc; // message address bits 1:0 are 0 (DWORD aligned)
      if (field === MSIX_ENTRY_VECTOR_CTRL) v &= MSIX_ENTRY_CTRL_MASKBIT; // rest RsvdP
      if (field > MSIX_ENTRY_VECTOR_CTRL) v = 0;
      this.table[o] = v;
    }
  }

  isMasked(vector: number): boolean {
    return ((this.table[vector * MSIX_ENTRY_SIZE + MSIX_ENTRY_VECTOR_CTRL] as number) & MSIX_ENTRY_CTRL_MASKBIT) !== 0;
  }

  private byteAt(o: number): number {
    if (o < this.table.byteLength) return this.table[o] as number;
    if (o >= this.pbaOffset && o < this.pbaOffset + this.pending.byteLength) return this.pending[o - this.pbaOffset] as number;
    return 0;
  }

  private check(off: number, count: number): void {
    if ((count !== 4 && count !== 8) || off % count !== 0 || off < 0 || off + count > this.size) {
      throw new VfmedError('VFMED_ERR_VFIO_ACCESS', `MSI-X BAR access of ${count} bytes at ${off}: DWORD/QWORD aligned only`, EINVAL);
    }
  }
}
