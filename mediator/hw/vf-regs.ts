/**
 * The 82576-VF register offsets and bits the TypeScript side needs, mirroring
 * native/include/vfmed/vf_regs.h (the C header is the source of truth; the layout test in
 * tests/hw checks the two agree where they overlap).
 */
export const VF_BAR0_SIZE = 0x4000;
export const PAGE_SIZE = 4096;
export const DESC_SIZE = 16;
export const VF_NUM_QUEUES = 2;

export const REG = {
  CTRL: 0x0000,
  STATUS: 0x0008,
  VMBMEM: (n: number) => 0x0800 + 4 * n,
  V2PMAILBOX: 0x0c40,
  VFGPRC: 0x0f10, VFGPTC: 0x0f14, VFGORC: 0x0f18, VFGOTC: 0x0f34, VFMPRC: 0x0f3c,
  VFGPRLBC: 0x0f40, VFGPTLBC: 0x0f44, VFGORLBC: 0x0f48, VFGOTLBC: 0x0f50,
  VFDMAERR: 0x0f58, VFFIFODROP: 0x0f5c,
  EICS: 0x1520, EIMS: 0x1524, EIMC: 0x1528, EIAC: 0x152c, EIAM: 0x1530, EICR: 0x1580,
  EITR: (i: number) => 0x1680 + 4 * i,
  IVAR0: 0x1700, IVAR_MISC: 0x1740,
  RDBAL: (q: number) => 0x2800 + 0x100 * q,
  RDBAH: (q: number) => 0x2804 + 0x100 * q,
  RDLEN: (q: number) => 0x2808 + 0x100 * q,
  SRRCTL: (q: number) => 0x280c + 0x100 * q,
  RDH: (q: number) => 0x2810 + 0x100 * q,
  RDT: (q: number) => 0x2818 + 0x100 * q,
  RXDCTL: (q: number) => 0x2828 + 0x100 * q,
  RQERR: (q: number) => 0x2834 + 0x100 * q,
  TDBAL: (q: number) => 0x3800 + 0x100 * q,
  TDBAH: (q: number) => 0x3804 + 0x100 * q,
  TDLEN: (q: number) => 0x3808 + 0x100 * q,
  TDH: (q: number) => 0x3810 + 0x100 * q,
  TDT: (q: number) => 0x3818 + 0x100 * q,
  TXDCTL: (q: number) => 0x3828 + 0x100 * q,
  TQERR: (q: number) => 0x3834 + 0x100 * q,
  TDWBAL: (q: number) => 0x3838 + 0x100 * q,
  TDWBAH: (q: number) => 0x383c + 0x100 * q,
} as const;

export const BIT = {
  CTRL_RST: 0x04000000,
  XDCTL_ENABLE: 0x02000000,
  SRRCTL_BSIZEPKT_MASK: 0x7f,
  TDWBAL_ENABLE: 0x1,
  RXD_STAT_DD: 0x1,
  RXD_STAT_EOP: 0x2,
} as const;

/** RX buffer size of a queue from SRRCTL (0 = the PF default, 2 KiB). */
export function rxBufferBytes(srrctl: number): number {
  const kib = srrctl & BIT.SRRCTL_BSIZEPKT_MASK;
  return (kib === 0 ? 2 : kib) * 1024;
}

/** Which queue register block, if any, a BAR0 offset falls in. */
export function queueOfOffset(off: number): { kind: 'rx' | 'tx'; q: number; reg: number } | null {
  for (let q = 0; q < VF_NUM_QUEUES; q++) {
    const rx = 0x2800 + 0x100 * q, tx = 0x3800 + 0x100 * q;
    if (off >= rx && off < rx + 0x40) return { kind: 'rx', q, reg: off - rx };
    if (off >= tx && off < tx + 0x40) return { kind: 'tx', q, reg: off - tx };
  }
  return null;
}
