/**
 * The emulated 82576 VF as a VfioDevice: PCI config space and the MSI-X BAR are emulated
 * here; BAR0, DMA and interrupts go to the hardware model through NativeNic.
 *
 *   region 0 BAR0   16 KiB  rw  mmap fd = nic.vfBarFd(vf), sparse area = pages 2-3 only
 *                               (RX/TX queue registers); pages 0-1 always trap
 *                               REGION_READ/WRITE -> nic.vfRegRead / vfRegWrite
 *   region 3 BAR3   16 KiB  rw  MSI-X table + PBA (msix-table.ts)
 *   region 7 config  4 KiB  rw  igbvf-config.ts
 *   regions 1,2,4,5,6,8     size 0 (BAR1/BAR4 are the upper halves of the 64-bit BARs)
 *   irq 2 MSI-X: 3 vectors, eventfd -> nic.vfSetIrqFd; INTx/MSI/ERR/REQ: 0
 *   DMA_MAP -> nic.vfDmaMap with the client's fd
 *
 * Like vfio-pci, BAR accesses while the command register's Memory Space bit is clear fail
 * with EIO. (The mmapped queue pages cannot be revoked that way; see docs/vfio-user.md.)
 */
import { closeSync, fstatSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { VfmedError } from '../errors.js';
import type { NativeNic } from '../native/addon.js';
import type { DeviceInfoDesc, DmaMapRequest, IrqDesc, IrqSetRequest, RegionDesc, VfioDevice } from './device.js';
import { DmaWindows } from './dma-windows.js';
import { fullMask, type FastPathPolicy } from './fast-path.js';
import { buildIgbvfConfig, IGBVF_MSIX_PBA_OFFSET } from './igbvf-config.js';
import { CTRL, CTRL_RST, PAGE_SIZE, VF_BAR0_SIZE, VF_BAR3_SIZE, VF_MSIX_VECTORS, VF_PAGE_RXQ } from '../hw/vf-regs.js';
import { MsixTable } from './msix-table.js';
import { Pci, type PciConfigSpace } from './pci-config.js';
import { DeviceFlag, IrqInfoFlag, PciIrq, PciRegion, RegionFlag, ServerLimits } from './protocol.js';

const { EBADF, EINVAL, EIO, ENOTTY } = constants.errno;

/** BAR0 area the client may mmap: the RX (page 2) and TX (page 3) queue register pages. */
export const IGBVF_BAR0_SPARSE_AREAS = [
  { offset: BigInt(VF_PAGE_RXQ * PAGE_SIZE), size: BigInt(2 * PAGE_SIZE) },
] as const;

export interface IgbVfDeviceOptions {
  /** DMA windows the client may have (default ServerLimits.maxDmaMaps) */
  maxDmaMaps?: number;
  /**
   * A function level reset of this VF (register file, interrupts and mailbox to power-on
   * values; DMA maps stay): on this emulated NIC the PF driver does it with its admin
   * VF_RESET, e.g. `() => pf.vfFlr(vf)`. With it the config space advertises FLR and
   * DEVICE_RESET is an FLR, as vfio-pci's reset is; without it DEVICE_RESET is the VF
   * software reset (CTRL.RST) and FLR is not advertised.
   */
  flr?: () => void;
}

function err(code: string, message: string, errno: number): VfmedError {
  return new VfmedError(code, message, errno);
}

export class IgbVfDevice implements VfioDevice {
  readonly name: string;
  readonly maxDmaMaps: number;
  /** exposed for tests and the mediation layer (read-only use) */
  readonly config: PciConfigSpace;
  private readonly msix: MsixTable;
  private readonly dma: DmaWindows;
  private readonly irqFds: Array<number | null>;
  private readonly eventOne = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]);
  private readonly flr: (() => void) | null;
  private bar0FastPath: FastPathPolicy | null = null;

  constructor(
    /** the hardware model behind this VF (read-only use by the mediation layer) */
    readonly nic: NativeNic,
    readonly vf: number,
    opts: IgbVfDeviceOptions = {},
  ) {
    if (!Number.isInteger(vf) || vf < 0 || vf >= nic.maxVfs) throw new RangeError(`VF ${vf} outside 0..${nic.maxVfs - 1}`);
    this.name = `vf${vf}`;
    this.flr = opts.flr ?? null;
    this.config = buildIgbvfConfig({ flrCapable: this.flr !== null, onFlr: () => this.pcieFlr() });
    this.msix = new MsixTable(VF_MSIX_VECTORS, VF_BAR3_SIZE, IGBVF_MSIX_PBA_OFFSET);
    this.maxDmaMaps = opts.maxDmaMaps ?? ServerLimits.maxDmaMaps;
    this.dma = new DmaWindows(this.maxDmaMaps);
    this.irqFds = new Array<number | null>(VF_MSIX_VECTORS).fill(null);
  }

  info(): DeviceInfoDesc {
    return { flags: DeviceFlag.RESET | DeviceFlag.PCI, numRegions: PciRegion.NUM, numIrqs: PciIrq.NUM };
  }

  regionInfo(index: number): RegionDesc {
    const rw = RegionFlag.READ | RegionFlag.WRITE;
    switch (index) {
      case PciRegion.BAR0:
        return {
          index,
          size: BigInt(VF_BAR0_SIZE),
          flags: rw,
          mmap: { fd: this.nic.vfBarFd(this.vf), offset: 0n, areas: IGBVF_BAR0_SPARSE_AREAS },
        };
      case PciRegion.BAR3:
        return { index, size: BigInt(VF_BAR3_SIZE), flags: rw, mmap: null };
      case PciRegion.CONFIG:
        return { index, size: BigInt(this.config.size), flags: rw, mmap: null };
      default:
        if (Number.isInteger(index) && index >= 0 && index < PciRegion.NUM) return { index, size: 0n, flags: 0, mmap: null };
        throw err('VFMED_ERR_VFIO_REGION', `no region ${index}`, EINVAL);
    }
  }

  regionRead(index: number, offset: bigint, count: number): Uint8Array {
    const off = Number(offset);
    switch (index) {
      case PciRegion.CONFIG:
        return this.config.read(off, count);
      case PciRegion.BAR0: {
        this.requireMemoryEnabled(index);
        this.checkRegisterAccess(off, count);
        const v = this.nic.vfRegRead(this.vf, off, count as 1 | 2 | 4 | 8);
        const out = new Uint8Array(count);
        for (let i = 0; i < count; i++) out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
        return out;
      }
      case PciRegion.BAR3:
        this.requireMemoryEnabled(index);
        return this.msix.read(off, count);
      default:
        throw err('VFMED_ERR_VFIO_REGION', `region ${index} is not readable`, EINVAL);
    }
  }

  regionWrite(index: number, offset: bigint, data: Uint8Array): void {
    const off = Number(offset);
    switch (index) {
      case PciRegion.CONFIG:
        this.config.write(off, data);
        return;
      case PciRegion.BAR0: {
        this.requireMemoryEnabled(index);
        this.checkRegisterAccess(off, data.byteLength);
        let v = 0n;
        for (let i = data.byteLength - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[i] as number);
        this.nic.vfRegWrite(this.vf, off, data.byteLength as 1 | 2 | 4 | 8, v);
        return;
      }
      case PciRegion.BAR3:
        this.requireMemoryEnabled(index);
        this.msix.write(off, data);
        return;
      default:
        throw err('VFMED_ERR_VFIO_REGION', `region ${index} is not writable`, EINVAL);
    }
  }

  /** Every BAR0 register access is a plain nic.vfRegRead/vfRegWrite while Memory Space is
   * enabled: the transport may do it natively (the same call, same errno on failure). */
  fastPath(): FastPathPolicy | null {
    if (!(this.config.read16(Pci.COMMAND) & Pci.COMMAND_MEMORY)) return null;
    this.bar0FastPath ??= {
      nic: this.nic, vf: this.vf, region: PciRegion.BAR0, regionSize: VF_BAR0_SIZE,
      read: fullMask(VF_BAR0_SIZE), write: fullMask(VF_BAR0_SIZE),
    };
    return this.bar0FastPath;
  }

  irqInfo(index: number): IrqDesc {
    switch (index) {
      case PciIrq.INTX: // interrupt pin 0: VFs have no INTx; flags as vfio-pci reports them
        return { index, flags: IrqInfoFlag.EVENTFD | IrqInfoFlag.MASKABLE | IrqInfoFlag.AUTOMASKED, count: 0 };
      case PciIrq.MSIX: // vectors can be added one by one: no NORESIZE
        return { index, flags: IrqInfoFlag.EVENTFD, count: VF_MSIX_VECTORS };
      case PciIrq.MSI: // no MSI capability
      case PciIrq.ERR: // no error/request signalling implemented
      case PciIrq.REQ:
        return { index, flags: IrqInfoFlag.EVENTFD | IrqInfoFlag.NORESIZE, count: 0 };
      default:
        throw err('VFMED_ERR_VFIO_IRQ', `no IRQ index ${index}`, EINVAL);
    }
  }

  setIrqs(req: IrqSetRequest): void {
    const eventfds = req.data.kind === 'eventfd' ? [...req.data.fds] : [];
    try {
      if (req.index !== PciIrq.MSIX) throw err('VFMED_ERR_VFIO_IRQ', `IRQ index ${req.index} has no interrupts`, EINVAL);
      // vfio-pci has no MSI-X mask/unmask through SET_IRQS either (the VMM masks in its
      // emulated table): ENOTTY, as the kernel answers.
      if (req.action !== 'trigger') throw err('VFMED_ERR_VFIO_IRQ', `MSI-X ${req.action} is not supported`, ENOTTY);

      const d = req.data;
      if (d.kind === 'none' && req.count === 0) {
        for (let v = 0; v < this.irqFds.length; v++) this.detach(v);
      } else if (d.kind === 'eventfd' && d.fds.length === 0) {
        for (let v = req.start; v < req.start + req.count; v++) this.detach(v);
      } else if (d.kind === 'eventfd') {
        for (let i = 0; i < req.count; i++) {
          this.attach(req.start + i, eventfds[i] as number);
          eventfds[i] = -1; // kept
        }
      } else {
        for (let i = 0; i < req.count; i++) {
          if (d.kind === 'none' || d.values[i]) this.signal(req.start + i);
        }
      }
    } finally {
      for (const fd of eventfds) if (fd >= 0) closeSync(fd);
    }
  }

  dmaMap(req: DmaMapRequest): void {
    const w = { iova: req.iova, size: req.size, prot: req.prot };
    this.dma.checkAdd(w);
    let st;
    try {
      st = fstatSync(req.fd, { bigint: true });
    } catch {
      throw err('VFMED_ERR_VFIO_DMA', `DMA fd ${req.fd} is not open`, EBADF);
    }
    // Only a file the device can map (memfd, shm, hugetlbfs file) is a DMA window;
    // a socket, pipe or eventfd is a bad fd for this operation.
    if (!st.isFile()) throw err('VFMED_ERR_VFIO_DMA', 'DMA fd is not a regular (memfd/shm) file', EBADF);
    // A window past the end of the file would fault the device on access.
    if (req.offset + req.size > st.size) {
      throw err('VFMED_ERR_VFIO_DMA', `DMA window ends at 0x${(req.offset + req.size).toString(16)}, file is 0x${st.size.toString(16)} bytes`, EINVAL);
    }
    this.nic.vfDmaMap(this.vf, req.iova, req.size, req.fd, req.offset, req.prot);
    this.dma.add(w);
  }

  dmaUnmap(iova: bigint, size: bigint): void {
    this.dma.find(iova, size);
    this.nic.vfDmaUnmap(this.vf, iova, size);
    this.dma.remove(iova, size);
  }

  dmaUnmapAll(): void {
    this.nic.vfDmaUnmapAll(this.vf);
    this.dma.clear();
  }

  /** VFIO_USER_DEVICE_RESET: an FLR of the function when the device has one, else the VF
   * software reset (CTRL.RST, igbvf-vf.md §4). As around vfio-pci's reset (which saves and
   * restores config state), config space, MSI-X table, DMA windows and eventfds are kept. */
  reset(): void {
    if (this.flr) this.flr();
    else this.nic.vfRegWrite(this.vf, CTRL, 4, BigInt(CTRL_RST));
  }

  release(): void {
    let first: unknown;
    const attempt = (fn: () => void): void => {
      try {
        fn();
      } catch (e) {
        first ??= e;
      }
    };
    attempt(() => this.dmaUnmapAll());
    for (let v = 0; v < this.irqFds.length; v++) attempt(() => this.detach(v));
    if (first) throw first;
  }

  /** DMA windows currently mapped (introspection for status and tests). */
  dmaWindows(): ReadonlyArray<{ iova: bigint; size: bigint; prot: number }> {
    return this.dma.list();
  }

  /** eventfd attached to each MSI-X vector (introspection). */
  irqEventFds(): ReadonlyArray<number | null> {
    return this.irqFds;
  }

  /** PCIe FLR written by the client (Device Control bit 15): the whole function returns to
   * its power-on state, config space and MSI-X table included. */
  private pcieFlr(): void {
    this.config.resetToPowerOn();
    this.msix.reset();
    this.flr?.();
  }

  private requireMemoryEnabled(index: number): void {
    if (!(this.config.read16(Pci.COMMAND) & Pci.COMMAND_MEMORY)) {
      throw err('VFMED_ERR_VFIO_ACCESS', `BAR${index} access with memory space disabled (command register)`, EIO);
    }
  }

  private checkRegisterAccess(off: number, count: number): void {
    if ((count !== 1 && count !== 2 && count !== 4 && count !== 8) || off % count !== 0) {
      throw err('VFMED_ERR_VFIO_ACCESS', `BAR0 access of ${count} bytes at 0x${off.toString(16)}: 1/2/4/8 bytes, naturally aligned`, EINVAL);
    }
  }

  private attach(vector: number, fd: number): void {
    this.nic.vfSetIrqFd(this.vf, vector, fd);
    const old = this.irqFds[vector];
    this.irqFds[vector] = fd;
    if (old !== null && old !== undefined) closeSync(old);
  }

  private detach(vector: number): void {
    const old = this.irqFds[vector];
    if (old === null || old === undefined) return;
    this.irqFds[vector] = null;
    try {
      this.nic.vfSetIrqFd(this.vf, vector, -1);
    } finally {
      closeSync(old);
    }
  }

  private signal(vector: number): void {
    const fd = this.irqFds[vector];
    if (fd !== null && fd !== undefined) writeSync(fd, this.eventOne);
  }
}
