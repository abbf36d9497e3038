/* SPDX-License-Identifier: MIT */
/*
 * vf_regs.h - the 82576 VF ("igbvf") register interface that vfmed emulates.
 *
 * Offsets, bits and descriptor layouts of ../shared/design/igbvf-vf.md (sections 1-3),
 * shared by the hardware model (native/nic), the guest runner's poll-mode driver
 * (native/guest) and the tests. A handful of vfmed extensions (queue error state,
 * DMA error counter) live in offsets the 82576 leaves unused; each is marked VFMED_EXT.
 *
 * Usable from C and C++ in userspace and from the PF kernel module.
 */
#ifndef VFMED_VF_REGS_H
#define VFMED_VF_REGS_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

/* ---- PCI identity ------------------------------------------------------------------ */
#define VFMED_PCI_VENDOR_INTEL      0x8086
#define VFMED_PCI_DEVICE_82576_VF   0x10CA
#define VFMED_PCI_DEVICE_82576_PF   0x10C9
#define VFMED_VF_BAR0_SIZE          0x4000u   /* 16 KiB, four 4 KiB pages */
#define VFMED_VF_BAR3_SIZE          0x4000u   /* MSI-X: table at 0, PBA at 0x2000 */
#define VFMED_VF_MSIX_VECTORS       3u        /* 0 = TX0, 1 = RX0, 2 = mailbox/other (igbvf) */
#define VFMED_VF_NUM_QUEUES         2u
#define VFMED_PAGE_SIZE             4096u

/* BAR0 pages (igbvf-vf.md 1.3): pages 2-3 are the passthrough/trappable queue pages. */
#define VFMED_VF_PAGE_MISC          0u        /* CTRL, STATUS, mailbox, stats: always trapped */
#define VFMED_VF_PAGE_IRQ           1u        /* EICS..EICR, EITR, IVAR: always trapped */
#define VFMED_VF_PAGE_RXQ           2u        /* RX queue registers, RDT0/RDT1 */
#define VFMED_VF_PAGE_TXQ           3u        /* TX queue registers, TDT0/TDT1 */

/* ---- Page 0 ----------------------------------------------------------------------- */
#define E1000_VF_CTRL        0x0000
#define E1000_VF_CTRL_DUP    0x0004
#define   E1000_CTRL_RST     0x04000000u
#define E1000_VF_STATUS      0x0008
#define   E1000_STATUS_FD    0x00000001u
#define   E1000_STATUS_LU    0x00000002u
#define   E1000_STATUS_TXOFF 0x00000010u
#define   E1000_STATUS_SPEED_1000 0x00000080u
#define E1000_VMBMEM(n)      (0x0800 + 4 * (n))   /* n = 0..15 */
#define E1000_VMBMEM_WORDS   16u
#define E1000_V2PMAILBOX     0x0C40
#define   E1000_V2PMAILBOX_REQ    0x00000001u   /* W: request for PF ready */
#define   E1000_V2PMAILBOX_ACK    0x00000002u   /* W: VF consumed the PF message */
#define   E1000_V2PMAILBOX_VFU    0x00000004u   /* RW: VF owns the buffer */
#define   E1000_V2PMAILBOX_PFU    0x00000008u   /* RO: PF owns the buffer */
#define   E1000_V2PMAILBOX_PFSTS  0x00000010u   /* RO/RC: PF wrote a message */
#define   E1000_V2PMAILBOX_PFACK  0x00000020u   /* RO/RC: PF acked the VF message */
#define   E1000_V2PMAILBOX_RSTI   0x00000040u   /* RO: PF reset in progress */
#define   E1000_V2PMAILBOX_RSTD   0x00000080u   /* RO/RC: PF reset done */
#define   E1000_V2PMAILBOX_R2C_BITS 0x000000B0u
#define E1000_PBACL          0x0F04
#define E1000_PSRTYPE        0x0F0C
#define E1000_VFGPRC         0x0F10
#define E1000_VFGPTC         0x0F14
#define E1000_VFGORC         0x0F18
#define E1000_VFGOTC         0x0F34
#define E1000_VFMPRC         0x0F3C
#define E1000_VFGPRLBC       0x0F40
#define E1000_VFGPTLBC       0x0F44
#define E1000_VFGORLBC       0x0F48
#define E1000_VFGOTLBC       0x0F50
/* VFMED_EXT: count of queue DMA faults (descriptor or buffer outside the DMA maps). RO, wraps. */
#define VFMED_VFDMAERR       0x0F58
/* VFMED_EXT: frames dropped because the RX FIFO was full. RO, wraps. */
#define VFMED_VFFIFODROP     0x0F5C

/* ---- Page 1 ----------------------------------------------------------------------- */
#define E1000_VF_FRTIMER     0x1048
#define E1000_VF_EICS        0x1520
#define E1000_VF_EIMS        0x1524
#define E1000_VF_EIMC        0x1528
#define E1000_VF_EIAC        0x152C
#define E1000_VF_EIAM        0x1530
#define E1000_VF_EICR        0x1580
#define E1000_VF_EITR(i)     (0x1680 + 4 * (i))   /* i = 0..2 */
#define E1000_VF_IVAR0       0x1700
#define E1000_VF_IVAR_MISC   0x1740
#define   E1000_IVAR_VALID   0x80u
#define   E1000_EICR_MASK    0x7u                 /* one bit per MSI-X vector */

/* ---- Pages 2/3: per-queue registers (q = 0, 1) --------------------------------------- */
#define E1000_RDBAL(q)       (0x2800 + 0x100 * (q))
#define E1000_RDBAH(q)       (0x2804 + 0x100 * (q))
#define E1000_RDLEN(q)       (0x2808 + 0x100 * (q))
#define E1000_SRRCTL(q)      (0x280C + 0x100 * (q))
#define   E1000_SRRCTL_BSIZEPKT_MASK   0x0000007Fu  /* 1 KiB units; 0 = PF default (2 KiB) */
#define   E1000_SRRCTL_BSIZEHDR_MASK   0x00000F00u
#define   E1000_SRRCTL_DESCTYPE_MASK   0x0E000000u
#define   E1000_SRRCTL_DESCTYPE_ADV_ONEBUF 0x02000000u
#define   E1000_SRRCTL_DESCTYPE_HDR_SPLIT  0x0A000000u
#define   E1000_SRRCTL_DROP_EN         0x80000000u
#define E1000_RDH(q)         (0x2810 + 0x100 * (q))
#define E1000_RXCTL(q)       (0x2814 + 0x100 * (q))
#define E1000_RDT(q)         (0x2818 + 0x100 * (q))
#define E1000_RXDCTL(q)      (0x2828 + 0x100 * (q))
#define   E1000_XDCTL_ENABLE  0x02000000u           /* RXDCTL and TXDCTL */
#define   E1000_XDCTL_SWFLSH  0x04000000u
#define   E1000_RXDCTL_RESET  0x00010000u           /* WTHRESH = 1 */
#define E1000_RQDPC(q)       (0x2830 + 0x100 * (q))
/* VFMED_EXT: sticky queue error code (VFMED_QERR_*), RO; cleared when the queue is re-enabled. */
#define VFMED_RQERR(q)       (0x2834 + 0x100 * (q))

#define E1000_TDBAL(q)       (0x3800 + 0x100 * (q))
#define E1000_TDBAH(q)       (0x3804 + 0x100 * (q))
#define E1000_TDLEN(q)       (0x3808 + 0x100 * (q))
#define E1000_TDH(q)         (0x3810 + 0x100 * (q))
#define E1000_TXCTL(q)       (0x3814 + 0x100 * (q))
#define   E1000_TXCTL_RESET  0x00002A00u
#define E1000_TDT(q)         (0x3818 + 0x100 * (q))
#define E1000_TXDCTL(q)      (0x3828 + 0x100 * (q))
#define VFMED_TQERR(q)       (0x3834 + 0x100 * (q))  /* VFMED_EXT, as RQERR */
#define E1000_TDWBAL(q)      (0x3838 + 0x100 * (q))
#define   E1000_TDWBAL_ENABLE 0x1u
#define E1000_TDWBAH(q)      (0x383C + 0x100 * (q))

/*
 * VFMED_EXT queue error codes. A queue that hits one is stopped: its XDCTL.ENABLE bit is
 * cleared by the device, the code is latched in RQERR/TQERR, VFDMAERR counts it and the
 * "other" interrupt cause (IVAR_MISC vector) is raised. Nothing outside the DMA maps is
 * ever read or written.
 */
enum vfmed_qerr {
	VFMED_QERR_NONE        = 0,
	VFMED_QERR_RING_BASE   = 1,  /* ring base/length not inside one DMA map, or misaligned */
	VFMED_QERR_DESC_ADDR   = 2,  /* a descriptor's buffer is outside the DMA maps */
	VFMED_QERR_DESC_LEN    = 3,  /* zero or oversized buffer/frame length */
	VFMED_QERR_WRITEBACK   = 4,  /* head write-back target outside the DMA maps */
	VFMED_QERR_RING_LEN    = 5,  /* RDLEN/TDLEN not a non-zero multiple of 128 */
};

/* ---- Descriptors (igbvf-vf.md 2) --------------------------------------------------- */
#define E1000_DESC_SIZE      16u

/* Advanced RX descriptor, read format (software writes). */
struct e1000_adv_rx_desc_read {
	uint64_t pkt_addr;
	uint64_t hdr_addr;
};
/* Advanced RX descriptor, write-back format (device writes; status_error last). */
struct e1000_adv_rx_desc_wb {
	uint16_t pkt_info;
	uint16_t hdr_info;
	uint32_t rss_or_csum;
	uint32_t status_error;
	uint16_t length;
	uint16_t vlan;
};
#define E1000_RXD_STAT_DD    0x00000001u
#define E1000_RXD_STAT_EOP   0x00000002u
#define E1000_RXD_STAT_VP    0x00000008u
#define E1000_RXD_STAT_LB    0x00040000u
#define E1000_RXDEXT_ERR_CE  0x01000000u
#define E1000_RXDEXT_ERR_SE  0x02000000u
#define E1000_RXDEXT_ERR_SEQ 0x04000000u
#define E1000_RXDEXT_ERR_CXE 0x10000000u
#define E1000_RXDEXT_ERR_RXE 0x80000000u

/* Advanced TX data descriptor (read format); DD is written into olinfo_status bit 0. */
struct e1000_adv_tx_desc {
	uint64_t buffer_addr;
	uint32_t cmd_type_len;
	uint32_t olinfo_status;
};
#define E1000_ADVTXD_DTALEN_MASK 0x0000FFFFu
#define E1000_ADVTXD_DTYP_MASK   0x00F00000u
#define E1000_ADVTXD_DTYP_CTXT   0x00200000u
#define E1000_ADVTXD_DTYP_DATA   0x00300000u
#define E1000_ADVTXD_DCMD_EOP    0x01000000u
#define E1000_ADVTXD_DCMD_IFCS   0x02000000u
#define E1000_ADVTXD_DCMD_RS     0x08000000u
#define E1000_ADVTXD_DCMD_DEXT   0x20000000u
#define E1000_ADVTXD_DCMD_VLE    0x40000000u
#define E1000_ADVTXD_DCMD_TSE    0x80000000u
#define E1000_ADVTXD_STA_DD      0x00000001u
#define E1000_ADVTXD_PAYLEN_SHIFT 14

/* ---- Mailbox messages (igbvf-vf.md 3.2) ------------------------------------------- */
#define E1000_VT_MSGTYPE_ACK   0x80000000u
#define E1000_VT_MSGTYPE_NACK  0x40000000u
#define E1000_VT_MSGTYPE_CTS   0x20000000u
#define E1000_VT_MSGINFO_SHIFT 16
#define E1000_VT_MSGINFO_MASK  0x00FF0000u
#define E1000_VF_RESET         0x01u
#define E1000_VF_SET_MAC_ADDR  0x02u
#define E1000_VF_SET_MULTICAST 0x03u
#define E1000_VF_SET_VLAN      0x04u
#define E1000_VF_SET_LPE       0x05u
#define E1000_VF_SET_PROMISC   0x06u
#define E1000_PF_CONTROL_MSG   0x0100u

#endif /* VFMED_VF_REGS_H */
