/**
 * The PCI configuration space of the emulated Intel 82576 VF (8086:10CA), as a client sees
 * it through vfio-user. Layout follows igbvf-vf.md §0 and QEMU's igbvf (MSI-X at 0x70,
 * PCIe endpoint capability at 0xA0):
 *
 *   0x00  8086 10CA  command/status  rev 01, class 02 00 00 (Ethernet)
 *   0x10  BAR0  64-bit prefetchable memory, 16 KiB  (BAR1 = its upper half)
 *   0x1C  BAR3  64-bit prefetchable memory, 16 KiB  (BAR4 = its upper half)  MSI-X
 *   0x2C  subsystem 8086:0000   0x34 cap pointer -> 0x70   0x3D interrupt pin 0 (no INTx)
 *   0x70  MSI-X: 3 vectors, table BAR3 + 0, PBA BAR3 + 0x2000        -> next 0xA0
 *   0xA0  PCI Express v2, endpoint (FLR capable when the device can) -> end
 *  0x100  no extended capabilities (header 0)
 *
 * Writable bits are exactly the ones a real endpoint has: BAR address bits (so sizing
 * with all-ones reads back ~(size-1) | type bits), command MEM/BME/PERR/SERR/INTx-disable,
 * cache line size, interrupt line, MSI-X enable/function mask, PCIe device control; RW1C
 * for the status error bits. Everything else is read-only.
 */
import { VF_BAR0_SIZE, VF_BAR3_SIZE, VF_MSIX_VECTORS } from '../hw/vf-regs.js';
import { Pci, PciConfigSpace } from './pci-config.js';

export const IGBVF_VENDOR_ID = 0x8086;
export const IGBVF_DEVICE_ID = 0x10ca;
export const IGBVF_REVISION = 0x01;
export const IGBVF_CLASS_ETHERNET = 0x020000;
export const IGBVF_SUBSYS_VENDOR_ID = 0x8086;
export const IGBVF_SUBSYS_ID = 0x0000;

export const IGBVF_MSIX_CAP = 0x70;
export const IGBVF_EXP_CAP = 0xa0;
export const IGBVF_MSIX_TABLE_BAR = 3;
export const IGBVF_MSIX_TABLE_OFFSET = 0x0000;
export const IGBVF_MSIX_PBA_OFFSET = 0x2000;

/** Memory BAR type bits of BAR0/BAR3: 64-bit, prefetchable (QEMU's igbvf and the 82576). */
const BAR_TYPE = Pci.BASE_ADDRESS_MEM_TYPE_64 | Pci.BASE_ADDRESS_MEM_PREFETCH;

const COMMAND_WMASK =
  Pci.COMMAND_MEMORY | Pci.COMMAND_MASTER | Pci.COMMAND_PARITY | Pci.COMMAND_SERR | Pci.COMMAND_INTX_DISABLE;
/** Status: signalled/received aborts, SERR, parity errors (bits 8, 11-15) are RW1C. */
const STATUS_W1C = 0xf900;

/** PCIe Device Capabilities: MPS 256 B, extended tag, role-based error reporting (+ FLR
 * when the device can do one). */
const EXP_DEVCAP = 0x1 | (1 << 5) | (1 << 15);
/** Device Control: error reporting enables, relaxed ordering, MPS, ext tag, no snoop,
 * MRRS are RW; bit 15 (Initiate FLR) is an action bit that always reads 0. */
const EXP_DEVCTL_WMASK = 0x79ff;
/** Reset value: relaxed ordering + no snoop enabled, MRRS 512 B (PCIe base spec). */
const EXP_DEVCTL_RESET = 0x2810;
/** Link: 2.5 GT/s x4 with L0s/L1 support (82576), current 2.5 GT/s x4. */
const EXP_LNKCAP = 0x1 | (4 << 4) | (3 << 10);
const EXP_LNKSTA = 0x1 | (4 << 4) | (1 << 12);
const EXP_LNKCAP2 = 1 << 1; // supported link speeds vector: 2.5 GT/s
const EXP_LNKCTL2 = 0x1; // target link speed 2.5 GT/s

export interface IgbvfConfigHooks {
  /** Advertise Function Level Reset in the PCIe Device Capabilities (the device must then
   * be able to do one: onFlr). */
  flrCapable?: boolean;
  /** The command register was written; `value` is its new content. */
  onCommand?(value: number): void;
  /** The client wrote 1 to PCIe Device Control "Initiate Function Level Reset". */
  onFlr?(): void;
}

/** Size mask of a memory BAR's low dword: address bits above the size are writable. */
function barLowWmask(size: number): number {
  return ~(size - 1) >>> 0;
}

export function buildIgbvfConfig(hooks: IgbvfConfigHooks = {}): PciConfigSpace {
  const c = new PciConfigSpace(Pci.CFG_SPACE_EXP_SIZE);

  // Type 0 header.
  c.define(Pci.VENDOR_ID, 2, IGBVF_VENDOR_ID)
    .define(Pci.DEVICE_ID, 2, IGBVF_DEVICE_ID)
    .define(Pci.COMMAND, 2, 0, COMMAND_WMASK)
    .define(Pci.STATUS, 2, Pci.STATUS_CAP_LIST, 0, STATUS_W1C)
    .define(Pci.REVISION_ID, 1, IGBVF_REVISION)
    .define(Pci.CLASS_PROG, 1, IGBVF_CLASS_ETHERNET & 0xff)
    .define(Pci.CLASS_DEVICE, 2, IGBVF_CLASS_ETHERNET >>> 8)
    .define(Pci.CACHE_LINE_SIZE, 1, 0, 0xff)
    .define(Pci.LATENCY_TIMER, 1, 0) // PCIe: hardwired 0
    .define(Pci.HEADER_TYPE, 1, 0x00) // type 0, single function
    // BAR0+BAR1: 64-bit BAR0; BAR2 unimplemented; BAR3+BAR4: 64-bit BAR3; BAR5 unimplemented.
    .define(Pci.BASE_ADDRESS_0, 4, BAR_TYPE, barLowWmask(VF_BAR0_SIZE))
    .define(Pci.BASE_ADDRESS_0 + 4, 4, 0, 0xffffffff)
    .define(Pci.BASE_ADDRESS_0 + 12, 4, BAR_TYPE, barLowWmask(VF_BAR3_SIZE))
    .define(Pci.BASE_ADDRESS_0 + 16, 4, 0, 0xffffffff)
    .define(Pci.SUBSYSTEM_VENDOR_ID, 2, IGBVF_SUBSYS_VENDOR_ID)
    .define(Pci.SUBSYSTEM_ID, 2, IGBVF_SUBSYS_ID)
    .define(Pci.ROM_ADDRESS, 4, 0) // no expansion ROM: sizing reads back 0
    .define(Pci.CAPABILITY_LIST, 1, IGBVF_MSIX_CAP)
    .define(Pci.INTERRUPT_LINE, 1, 0, 0xff)
    .define(Pci.INTERRUPT_PIN, 1, 0); // VFs have no INTx

  // MSI-X capability.
  const m = IGBVF_MSIX_CAP;
  c.define(m, 1, Pci.CAP_ID_MSIX)
    .define(m + 1, 1, IGBVF_EXP_CAP)
    .define(m + Pci.MSIX_FLAGS, 2, VF_MSIX_VECTORS - 1, Pci.MSIX_FLAGS_ENABLE | Pci.MSIX_FLAGS_MASKALL)
    .define(m + Pci.MSIX_TABLE, 4, IGBVF_MSIX_TABLE_OFFSET | IGBVF_MSIX_TABLE_BAR)
    .define(m + Pci.MSIX_PBA, 4, IGBVF_MSIX_PBA_OFFSET | IGBVF_MSIX_TABLE_BAR);

  // PCI Express capability (version 2, endpoint).
  const e = IGBVF_EXP_CAP;
  c.define(e, 1, Pci.CAP_ID_EXP)
    .define(e + 1, 1, 0)
    .define(e + Pci.EXP_FLAGS, 2, 0x0002) // version 2, device/port type 0 = PCIe endpoint
    .define(e + Pci.EXP_DEVCAP, 4, (EXP_DEVCAP | (hooks.flrCapable ? Pci.EXP_DEVCAP_FLR : 0)) >>> 0)
    .define(e + Pci.EXP_DEVCTL, 2, EXP_DEVCTL_RESET, EXP_DEVCTL_WMASK)
    .define(e + Pci.EXP_DEVSTA, 2, 0, 0, 0x000f) // error detected bits are RW1C
    .define(e + Pci.EXP_LNKCAP, 4, EXP_LNKCAP)
    .define(e + Pci.EXP_LNKCTL, 2, 0) // VF: RsvdP, the PF owns the link
    .define(e + Pci.EXP_LNKSTA, 2, EXP_LNKSTA)
    .define(e + Pci.EXP_DEVCAP2, 4, 0)
    .define(e + Pci.EXP_DEVCTL2, 2, 0)
    .define(e + Pci.EXP_LNKCAP2, 4, EXP_LNKCAP2)
    .define(e + Pci.EXP_LNKCTL2, 2, EXP_LNKCTL2);

  // 0x100: extended capability header 0 = no extended capabilities.

  c.hook(Pci.COMMAND, 2, () => hooks.onCommand?.(c.read16(Pci.COMMAND)));
  c.hook(e + Pci.EXP_DEVCTL + 1, 1, (_off, written) => {
    if (hooks.flrCapable && (written[0] as number) & (Pci.EXP_DEVCTL_BCR_FLR >>> 8)) hooks.onFlr?.();
  });

  return c.seal();
}
