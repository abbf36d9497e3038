/**
 * TypeScript mirror of native/include/vfmed/vf_regs.h: the 82576 VF ("igbvf") register
 * offsets, bits and descriptor layouts the emulated VF implements (igbvf-vf.md 1-3), plus
 * the vfmed extensions (RQERR/TQERR, VFDMAERR, VFFIFODROP). Written by hand from the header;
 * keep the two in step (names are the C names without the E1000_/VFMED_ prefix noise only
 * where that is unambiguous).
 */

/* ---- PCI identity / BAR geometry ------------------------------------------------------ */
export const VF_BAR0_SIZE = 0x4000;
export const VF_NUM_QUEUES = 2;
export const PAGE_SIZE = 4096;
export const VF_PAGE_RXQ = 2;
export const VF_PAGE_TXQ = 3;

/* ---- Page 0 --------------------------------------------------------------------------- */
export const CTRL = 0x0000;
export const CTRL_RST = 0x04000000;
export const STATUS = 0x0008;
export const STATUS_FD = 0x1;
export const STATUS_LU = 0x2;
export const VMBMEM = (n: number): number => 0x0800 + 4 * n;
export const VMBMEM_WORDS = 16;
export const V2PMAILBOX = 0x0c40;
export const V2PMAILBOX_REQ = 0x01;
export const V2PMAILBOX_ACK = 0x02;
export const V2PMAILBOX_VFU = 0x04;
export const V2PMAILBOX_PFU = 0x08;
export const V2PMAILBOX_PFSTS = 0x10;
export const V2PMAILBOX_PFACK = 0x20;
export const V2PMAILBOX_RSTI = 0x40;
export const V2PMAILBOX_RSTD = 0x80;
export const V2PMAILBOX_R2C_BITS = 0xb0;
export const PBACL = 0x0f04;
export const PSRTYPE = 0x0f0c;
export const VFGPRC = 0x0f10;
export const VFGPTC = 0x0f14;
export const VFGORC = 0x0f18;
export const VFGOTC = 0x0f34;
export const VFMPRC = 0x0f3c;
export const VFGPRLBC = 0x0f40;
export const VFGPTLBC = 0x0f44;
export const VFGORLBC = 0x0f48;
export const VFGOTLBC = 0x0f50;
/** VFMED_EXT: queue DMA faults. */
export const VFDMAERR = 0x0f58;
/** VFMED_EXT: RX frames dropped because the RX FIFO was full. */
export const VFFIFODROP = 0x0f5c;

/* ---- Page 1 --------------------------------------------------------------------------- */
export const FRTIMER = 0x1048;
export const EICS = 0x1520;
export const EIMS = 0x1524;
export const EIMC = 0x1528;
export const EIAC = 0x152c;
export const EIAM = 0x1530;
export const EICR = 0x1580;
export const EITR = (i: number): number => 0x1680 + 4 * i;
export const IVAR0 = 0x1700;
export const IVAR_MISC = 0x1740;

/* ---- Pages 2/3: queue registers (q = 0, 1) -------------------------------------------- */
export const RDBAL = (q: number): number => 0x2800 + 0x100 * q;
export const RDBAH = (q: number): number => 0x2804 + 0x100 * q;
export const RDLEN = (q: number): number => 0x2808 + 0x100 * q;
export const SRRCTL = (q: number): number => 0x280c + 0x100 * q;
export const SRRCTL_BSIZEPKT_MASK = 0x7f;
export const SRRCTL_DESCTYPE_ADV_ONEBUF = 0x02000000;
export const SRRCTL_DROP_EN = 0x80000000;
export const RDH = (q: number): number => 0x2810 + 0x100 * q;
export const RXCTL = (q: number): number => 0x2814 + 0x100 * q;
export const RDT = (q: number): number => 0x2818 + 0x100 * q;
export const RXDCTL = (q: number): number => 0x2828 + 0x100 * q;
export const XDCTL_ENABLE = 0x02000000;
export const XDCTL_WTHRESH_1 = 0x00010000;
export const RQDPC = (q: number): number => 0x2830 + 0x100 * q;
/** VFMED_EXT: sticky RX queue error code (QERR_*). */
export const RQERR = (q: number): number => 0x2834 + 0x100 * q;

export const TDBAL = (q: number): number => 0x3800 + 0x100 * q;
export const TDBAH = (q: number): number => 0x3804 + 0x100 * q;
export const TDLEN = (q: number): number => 0x3808 + 0x100 * q;
export const TDH = (q: number): number => 0x3810 + 0x100 * q;
export const TXCTL = (q: number): number => 0x3814 + 0x100 * q;
export const TDT = (q: number): number => 0x3818 + 0x100 * q;
export const TXDCTL = (q: number): number => 0x3828 + 0x100 * q;
/** VFMED_EXT: sticky TX queue error code (QERR_*). */
export const TQERR = (q: number): number => 0x3834 + 0x100 * q;
export const TDWBAL = (q: number): number => 0x3838 + 0x100 * q;
export const TDWBAL_ENABLE = 0x1;
export const TDWBAH = (q: number): number => 0x383c + 0x100 * q;

/** VFMED_EXT queue error codes latched in RQERR/TQERR (enum vfmed_qerr). */
export const QERR = {
  NONE: 0,
  RING_BASE: 1,
  DESC_ADDR: 2,
  DESC_LEN: 3,
  WRITEBACK: 4,
  RING_LEN: 5,
} as const;
export type QerrName = keyof typeof QERR;
export function qerrName(code: number): string {
  for (const [k, v] of Object.entries(QERR)) if (v === code) return k;
  return `QERR_${code}`;
}

/* ---- Descriptors ---------------------------------------------------------------------- */
export const DESC_SIZE = 16;

/*
 * Advanced RX descriptor. Read format: [0..7] pkt_addr, [8..15] hdr_addr.
 * Write-back: [0..1] pkt_info, [2..3] hdr_info, [4..7] rss/csum, [8..11] status_error,
 * [12..13] length, [14..15] vlan. The device writes status_error last.
 */
export const RXD_OFF_STATUS = 8;
export const RXD_OFF_LENGTH = 12;
export const RXD_OFF_VLAN = 14;
export const RXD_STAT_DD = 0x1;
export const RXD_STAT_EOP = 0x2;
export const RXD_STAT_VP = 0x8;
export const RXD_STAT_LB = 0x40000;
export const RXDEXT_ERR_CE = 0x01000000;
export const RXDEXT_ERR_SE = 0x02000000;
export const RXDEXT_ERR_SEQ = 0x04000000;
export const RXDEXT_ERR_CXE = 0x10000000;
export const RXDEXT_ERR_RXE = 0x80000000;
/** The error bits igbvf drops a frame for (on its EOP descriptor). */
export const RXDEXT_ERR_FRAME =
  (RXDEXT_ERR_CE | RXDEXT_ERR_SE | RXDEXT_ERR_SEQ | RXDEXT_ERR_CXE | RXDEXT_ERR_RXE) >>> 0;

/* Advanced TX data descriptor: [0..7] buffer_addr, [8..11] cmd_type_len, [12..15] olinfo. */
export const TXD_OFF_CMD = 8;
export const TXD_OFF_OLINFO = 12;
export const TXD_DTALEN_MASK = 0xffff;
export const TXD_DTYP_CTXT = 0x00200000;
export const TXD_DTYP_DATA = 0x00300000;
export const TXD_DCMD_EOP = 0x01000000;
export const TXD_DCMD_IFCS = 0x02000000;
export const TXD_DCMD_RS = 0x08000000;
export const TXD_DCMD_DEXT = 0x20000000;
export const TXD_STA_DD = 0x1;
export const TXD_PAYLEN_SHIFT = 14;

/* ---- Mailbox messages ----------------------------------------------------------------- */
export const MSG_ACK = 0x80000000;
export const MSG_NACK = 0x40000000;
export const MSG_CTS = 0x20000000;
export const MSGINFO_SHIFT = 16;
export const VF_RESET = 0x01;
export const VF_SET_MAC_ADDR = 0x02;
export const VF_SET_MULTICAST = 0x03;
export const VF_SET_VLAN = 0x04;
export const VF_SET_LPE = 0x05;
export const VF_SET_PROMISC = 0x06;
export const PF_CONTROL_MSG = 0x0100;
