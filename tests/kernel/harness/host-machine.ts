/**
 * The host half of the kernel test's "machine": the emulated NIC with its BARs as files in a
 * tmpfs directory (shm_dir, so QEMU can map them as ivshmem-plain BARs), the guest's RAM as
 * a shared file in the same directory, and a spare BAR file for the bind tests.
 *
 * DMA: QEMU's guest RAM is the file (memory-backend-file, share=on) and, with RAM below the
 * PCI hole, guest-physical address = file offset. The file is mapped into the device model
 *  - as the PF's DMA space at IOVA 0: the PF driver's dma_alloc_coherent() buffers (admin
 *    ring, state blobs) are addressed by the guest-physical addresses the kernel's DMA API
 *    returns (no IOMMU, or iommu=pt: identity);
 *  - as VF0's DMA space at IOVA 0: the guest's UIO driver gives the device guest-physical
 *    addresses (uio_pci_generic has no IOMMU; DPDK's "IOVA as PA").
 *
 *   guest RAM file  offset 0 ─────────────────────────── memMiB
 *   PF DMA space    iova   0 ─────────────────────────── (same bytes)
 *   VF0 DMA space   iova   0 ─────────────────────────── (same bytes)
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAddon, type NativeAddon, type NativeNic } from '../../../mediator/native/addon.js';

export const SPARE_BAR_SIZE = 0x10000;
/** Word i of the spare BAR's first 4 KiB (vfio-probe.c KT_BAR_PATTERN). */
export const sparePattern = (i: number): number => (0x6b740000 | i) >>> 0;
/** Tokens the guest writes into the spare BAR (vfio-probe.c, init.sh uio_spare). */
export const TOKEN_VFIO_MMAP = 0x766d6d70;
export const TOKEN_VFIO_RW = 0x76727772;
export const TOKEN_UIO = 0x75696f21;

export interface MachineOptions {
  maxVfs: number;
  memMiB: number;
  baseMac: Uint8Array;
  /** Map the guest RAM as VF0's DMA space too (the UIO driver's IOVA-as-PA). */
  vf0DmaIsGuestRam: boolean;
}

export class HostMachine {
  readonly addon: NativeAddon;
  readonly nic: NativeNic;
  readonly dir: string;
  readonly ramFile: string;
  readonly spareFile: string;
  readonly memBytes: bigint;
  private readonly ramFd: number;
  private destroyed = false;

  constructor(opts: MachineOptions) {
    this.addon = loadAddon();
    // tmpfs: QEMU and the model share pages, nothing is written back to a disk.
    this.dir = mkdtempSync('/dev/shm/vfmed-kt-');
    this.memBytes = BigInt(opts.memMiB) << 20n;
    this.ramFile = join(this.dir, 'guest-ram');
    this.spareFile = join(this.dir, 'spare-bar');
    const spare = Buffer.alloc(SPARE_BAR_SIZE);
    for (let i = 0; i < 1024; i++) spare.writeUInt32LE(sparePattern(i), 4 * i);
    writeFileSync(this.spareFile, spare);
    this.ramFd = openSync(this.ramFile, 'w+', 0o600);
    ftruncateSync(this.ramFd, Number(this.memBytes));
    try {
      this.nic = new this.addon.Nic({
        maxVfs: opts.maxVfs, shmDir: this.dir, shmPrefix: 'kt', baseMac: opts.baseMac,
      });
    } catch (e) {
      closeSync(this.ramFd);
      rmSync(this.dir, { recursive: true, force: true });
      throw e;
    }
    this.nic.pfDmaMap(0n, this.memBytes, this.ramFd, 0n);
    if (opts.vf0DmaIsGuestRam) this.nic.vfDmaMap(0, 0n, this.memBytes, this.ramFd, 0n, 3);
  }

  /** Boot-order index of the spare BAR (after the PF and every VF). */
  get spareIndex(): number {
    return this.nic.maxVfs + 1;
  }

  /** BAR files in boot order: PF, VF0..VFn-1, spare (boot.sh slots 0x10, 0x11, ...). */
  barFiles(): string[] {
    const pf = this.nic.pfBarPath();
    if (!pf) throw new Error('the NIC has no PF BAR file (shmDir not honoured?)');
    const bars = [pf];
    for (let vf = 0; vf < this.nic.maxVfs; vf++) {
      const p = this.nic.vfBarPath(vf);
      if (!p) throw new Error(`the NIC has no BAR file for VF${vf}`);
      bars.push(p);
    }
    bars.push(this.spareFile);
    return bars;
  }

  /** A 32-bit word of the PF BAR as the device/driver left it (read from the file). */
  pfBarWord(off: number): number {
    const p = this.nic.pfBarPath();
    if (!p) throw new Error('no PF BAR file');
    return readFileSync(p).readUInt32LE(off);
  }

  spareWord(off: number): number {
    return readFileSync(this.spareFile).readUInt32LE(off);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    try {
      this.nic.destroy();
    } finally {
      closeSync(this.ramFd);
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
