/**
 * The few offsets of the emulated PF's BAR (native/include/vfmed/pf_regs.h) the kernel test
 * reads from the host side of the BAR file to see what the guest's module did.
 */
export const VFPF_MAGIC_REG = 0x0000;
export const VFPF_MAGIC = 0x46504656;
export const VFPF_CTRL_EXT = 0x0018;
export const VFPF_CTRL_EXT_PFRSTD = 0x00004000;
export const VFPF_AQ_CTRL = 0x0110;
export const VFPF_AQ_CTRL_ENABLE = 0x1;
