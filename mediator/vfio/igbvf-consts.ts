/**
 * The few numbers of native/include/vfmed/vf_regs.h that the vfio-user device model needs
 * (BAR sizes, the BAR0 page map, MSI-X vector count, CTRL.RST). Kept in one place so a
 * reader can compare them with the header; tests/vfio/layout.test.ts compiles a C check
 * that they are equal.
 */
export const VFMED_PCI_VENDOR_INTEL = 0x8086;
export const VFMED_PCI_DEVICE_82576_VF = 0x10ca;
export const VFMED_VF_BAR0_SIZE = 0x4000;
export const VFMED_VF_BAR3_SIZE = 0x4000;
export const VFMED_VF_MSIX_VECTORS = 3;
export const VFMED_PAGE_SIZE = 4096;

/** BAR0 pages (igbvf-vf.md 1.3): 0-1 always trapped, 2 = RX queue regs, 3 = TX queue regs. */
export const VFMED_VF_PAGE_RXQ = 2;
export const VFMED_VF_PAGE_TXQ = 3;

export const E1000_VF_CTRL = 0x0000;
export const E1000_CTRL_RST = 0x04000000;
export const E1000_VF_STATUS = 0x0008;
