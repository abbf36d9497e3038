/* SPDX-License-Identifier: MIT */
/*
 * pf_regs.h - programming interface of the emulated PF ("vfmed PF", the datasheet of the
 * device the PF driver drives).
 *
 * Shared by the hardware model (native/nic, the device side) and the PF driver
 * (pf-driver/core, built both as a Linux module and as libvfpf.so). It is the only contract
 * between them: the driver never calls the hardware model, it only reads and writes this
 * BAR and the descriptors in its own DMA memory.
 *
 * Poll-friendly by design. In the kernel test the BAR is a QEMU ivshmem BAR that the
 * host-side device model sees as plain shared memory, so no register may have read side
 * effects and no register is written by both sides: every register has exactly one writer
 * (marked D = driver writes, H = hardware writes). Events are single-writer sequence
 * counters the reader compares with the last value it saw, never W1C bits.
 *
 * All fields are little-endian. 64-bit values in the BAR are written low word first; the
 * device reads them only when the matching doorbell/enable changes.
 */
#ifndef VFMED_PF_REGS_H
#define VFMED_PF_REGS_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#define VFPF_PCI_VENDOR_ID     0x1af4   /* the ivshmem id the kernel test binds */
#define VFPF_PCI_DEVICE_ID     0x1110
#define VFPF_BAR_SIZE          0x10000u /* 64 KiB */
#define VFPF_MAX_VFS           8u
#define VFPF_MODEL_ID          0x76660576u /* "vf" 0576: emulated 82576 SR-IOV NIC */
#define VFPF_MAGIC             0x46504656u /* "VFPF" at PF_MAGIC: identifies the BAR */
#define VFPF_ABI_MAJOR         1u
#define VFPF_ABI_MINOR         0u

/* ---- Identification and control ------------------------------------------------------ */
#define VFPF_MAGIC_REG         0x0000  /* H: VFPF_MAGIC once the device is alive */
#define VFPF_ABI_VERSION       0x0004  /* H: (major << 16) | minor */
#define VFPF_MODEL             0x0008  /* H: VFPF_MODEL_ID */
#define VFPF_CAPS              0x000C  /* H: bits 7:0 max VFs, 11:8 queues per VF, bit 16 dirty log */
#define   VFPF_CAPS_MAX_VFS(c)   ((c) & 0xFFu)
#define   VFPF_CAPS_QUEUES(c)    (((c) >> 8) & 0xFu)
#define   VFPF_CAPS_DIRTY_LOG    0x00010000u
#define VFPF_STATUS            0x0010  /* H: igb STATUS layout: LU, speed, bit 18 IOV, 17:14 NumVFs */
#define   VFPF_STATUS_LU         0x00000002u
#define   VFPF_STATUS_IOV        0x00040000u
#define   VFPF_STATUS_NUMVFS_SHIFT 14
#define VFPF_HEARTBEAT         0x0014  /* H: incremented by every device poll pass */
#define VFPF_CTRL_EXT          0x0018  /* D: bit 14 PFRSTD: PF driver done resetting */
#define   VFPF_CTRL_EXT_PFRSTD   0x00004000u
#define VFPF_EVENT_SEQ         0x001C  /* H: +1 on every event the driver should look at
                                        * (mailbox request/ack, VF reset); the userspace
                                        * device also signals the PF eventfd */

/* ---- Admin queue ---------------------------------------------------------------------- */
#define VFPF_AQ_BAL            0x0100  /* D: ring base, low (PF DMA address, 64-byte aligned) */
#define VFPF_AQ_BAH            0x0104  /* D: ring base, high */
#define VFPF_AQ_LEN            0x0108  /* D: ring entries, power of two, 8..4096 */
#define VFPF_AQ_TAIL           0x010C  /* D: doorbell, index one past the last posted entry */
#define VFPF_AQ_CTRL           0x0110  /* D: bit 0 enable; device latches base/len on 0 -> 1 */
#define   VFPF_AQ_CTRL_ENABLE    0x1u
#define VFPF_AQ_HEAD           0x0180  /* H: index of the next entry the device will process */
#define VFPF_AQ_STATUS         0x0184  /* H: bit 0 enabled, bit 1 ring error (bad base/len) */
#define   VFPF_AQ_STATUS_ENABLED 0x1u
#define   VFPF_AQ_STATUS_ERROR   0x2u

/* ---- Mailbox, PF side (per VF n) -------------------------------------------------------
 *
 *   VF writes REQ  -> device copies the VF's VMBMEM into V2P_MSG(n), bumps V2P_SEQ(n).req,
 *                     bumps EVENT_SEQ.
 *   VF writes ACK  -> device bumps V2P_SEQ(n).ack, bumps EVENT_SEQ.
 *   PF replies     -> driver writes P2V_MSG(n) words, then P2V_DOORBELL(n) = seq<<8 | flags;
 *                     device sees the new seq, copies P2V_MSG(n) into the VF's VMBMEM when
 *                     STS is set and sets PFSTS/PFACK in the VF's V2PMAILBOX as flagged,
 *                     raising the VF's mailbox interrupt. It acknowledges by writing the seq
 *                     into P2V_DONE(n).
 *   VF reset (CTRL.RST) -> device bumps VF_RESET_SEQ(n) and EVENT_SEQ; RX/TX of that VF are
 *                     disabled until the driver re-enables them (admin VF_ENABLE).
 */
#define VFPF_P2V_MSG(n, w)     (0x0800 + 0x40 * (n) + 4 * (w)) /* D: 16 words per VF */
#define VFPF_V2P_MSG(n, w)     (0x1000 + 0x40 * (n) + 4 * (w)) /* H: 16 words per VF */
#define VFPF_P2V_DOORBELL(n)   (0x0C00 + 4 * (n))              /* D */
#define   VFPF_P2V_STS           0x01u  /* a message is in P2V_MSG: copy it, set PFSTS */
#define   VFPF_P2V_ACK           0x02u  /* set PFACK (the PF consumed the VF's message) */
#define   VFPF_P2V_SEQ_SHIFT     8
#define VFPF_P2V_DONE(n)       (0x0C40 + 4 * (n))              /* H: last doorbell seq done */
#define VFPF_V2P_SEQ(n)        (0x0C80 + 4 * (n))              /* H: 15:0 req count, 31:16 ack count */
#define   VFPF_V2P_REQ_COUNT(v)  ((v) & 0xFFFFu)
#define   VFPF_V2P_ACK_COUNT(v)  ((v) >> 16)
#define VFPF_VF_RESET_SEQ(n)   (0x0CC0 + 4 * (n))              /* H: count of VF resets */
#define VFPF_MBX_WORDS         16u

/* ---- Admin descriptor (32 bytes, in PF DMA memory) -------------------------------------
 * The driver fills the entry with flags = 0 and rings AQ_TAIL. The device processes entries
 * in order, writes status and ret, then (last, after a barrier) sets VFPF_AQ_F_DONE, and
 * advances AQ_HEAD. status is 0 or a positive errno value (EINVAL, ENODEV, ENOSPC, EFAULT,
 * EBADMSG, EPROTO, EBUSY, EOPNOTSUPP ...); the driver returns it as -status.
 */
struct vfpf_aq_desc {
	uint16_t opcode;
	uint16_t flags;    /* H: VFPF_AQ_F_* */
	uint16_t vf;       /* target VF, where the command has one */
	uint16_t status;   /* H: 0 or errno */
	uint32_t param0;
	uint32_t param1;
	uint64_t addr;     /* PF DMA address of the command's buffer, 0 if none */
	uint32_t len;      /* buffer length in bytes */
	uint32_t ret;      /* H: command result (bytes written, size needed ...) */
};
#define VFPF_AQ_F_DONE         0x0001u

enum vfpf_aq_opcode {
	VFPF_AQC_GET_INFO      = 0x0001, /* buf <- struct vfpf_dev_info */
	VFPF_AQC_SRIOV_ENABLE  = 0x0002, /* param0 = number of VFs (0 disables all) */
	VFPF_AQC_VF_ENABLE     = 0x0010, /* vf, param0 = VFPF_VF_EN_* bits (VFRE/VFTE) */
	VFPF_AQC_VF_SET_MAC    = 0x0011, /* vf, param0 = mac[0..3], param1 = mac[4..5] (RAR filter) */
	VFPF_AQC_VF_SET_MC     = 0x0012, /* vf, param0 = count (<= 30), buf = u16 hashes */
	VFPF_AQC_VF_SET_VLAN   = 0x0013, /* vf, param0 = vid, param1 = 1 add / 0 remove */
	VFPF_AQC_VF_SET_LPE    = 0x0014, /* vf, param0 = max frame size */
	VFPF_AQC_VF_SET_PROMISC= 0x0015, /* vf, param0 = VFPF_PROMISC_* */
	VFPF_AQC_VF_GET_CONFIG = 0x0016, /* vf, buf <- struct vfpf_vf_config */
	VFPF_AQC_VF_RESET      = 0x0017, /* vf: function-level reset of the VF */
	VFPF_AQC_VF_QUIESCE    = 0x0020, /* vf: finish the descriptor in flight, stop fetching,
	                                  * keep receiving into the FIFO; doorbells latch */
	VFPF_AQC_VF_RESUME     = 0x0021, /* vf: act on latched doorbells again */
	VFPF_AQC_VF_STATE_SIZE = 0x0022, /* vf: ret = bytes VF_SAVE needs now */
	VFPF_AQC_VF_SAVE       = 0x0023, /* vf (quiesced), buf <- state blob, ret = bytes */
	VFPF_AQC_VF_LOAD       = 0x0024, /* vf (quiesced or fresh), buf = state blob; validated
	                                  * whole before anything is applied (EBADMSG, EPROTO) */
	VFPF_AQC_DIRTY_START   = 0x0030, /* vf, param0 = page shift (12..21), buf = ranges[] */
	VFPF_AQC_DIRTY_STOP    = 0x0031, /* vf */
	VFPF_AQC_DIRTY_REPORT  = 0x0032, /* vf, buf = struct vfpf_dirty_report_req; clears */
	VFPF_AQC_VF_STATS      = 0x0040, /* vf, buf <- struct vfpf_vf_stats */
};

#define VFPF_VF_EN_RX          0x1u
#define VFPF_VF_EN_TX          0x2u
#define VFPF_PROMISC_MC        0x2u

struct vfpf_dev_info {
	uint32_t model_id;      /* VFPF_MODEL_ID */
	uint16_t abi_major;
	uint16_t abi_minor;
	uint32_t max_vfs;
	uint32_t num_vfs;       /* currently enabled */
	uint32_t queues_per_vf;
	uint32_t rx_fifo_bytes; /* per VF */
	uint32_t state_version; /* (major << 16) | minor of the VF state blob format */
	uint32_t features;      /* VFPF_FEAT_* */
};
#define VFPF_FEAT_HEAD_WB      0x1u
#define VFPF_FEAT_DIRTY_LOG    0x2u
#define VFPF_FEAT_MULTI_DESC   0x4u

struct vfpf_vf_config {
	uint8_t  mac[6];
	uint16_t enable;        /* VFPF_VF_EN_* */
	uint32_t max_frame;     /* LPE */
	uint32_t mc_count;
	uint32_t vlan_count;
	uint32_t promisc;
	uint32_t quiesced;      /* 1 while quiesced */
	uint32_t reserved;
};

struct vfpf_vf_stats {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t rx_mcast, rx_lb_packets, tx_lb_packets, rx_lb_bytes, tx_lb_bytes;
	uint64_t rx_fifo_drops;  /* wire frames dropped, FIFO full */
	uint64_t rx_no_desc;     /* times a frame waited for descriptors */
	uint64_t dma_errors;     /* queue DMA faults */
	uint64_t tx_errors;      /* malformed TX frames */
	uint64_t fifo_frames;    /* frames in the RX FIFO now */
	uint64_t fifo_bytes;
};

/* DIRTY_START buffer: up to VFPF_DIRTY_MAX_RANGES of these, in the VF's IOVA space. */
struct vfpf_dirty_range {
	uint64_t iova;
	uint64_t length;
};
#define VFPF_DIRTY_MAX_RANGES  64u

/* DIRTY_REPORT buffer. The device writes a bitmap (bit i = page iova + i << shift) to
 * bitmap_addr in PF DMA memory and clears the reported bits. [iova, iova+length) must be
 * inside the started ranges. */
struct vfpf_dirty_report_req {
	uint64_t iova;
	uint64_t length;
	uint64_t bitmap_addr;   /* PF DMA */
	uint64_t bitmap_len;    /* bytes, >= ceil(length >> shift, 8) */
};

/* ---- VF state blob (VF_SAVE/VF_LOAD) -----------------------------------------------------
 * Self-describing: a header, then sections { type, version, len, payload padded to 8 }.
 * crc32 is the IEEE CRC-32 of the whole blob with the crc32 field zeroed. Unknown section
 * types with the VFPF_STATE_SEC_OPTIONAL bit are skipped; others are refused (EPROTO).
 */
#define VFPF_STATE_MAGIC       0x53465644454D4656ull  /* "VFMEDVFS" little-endian */
#define VFPF_STATE_MAJOR       1u
#define VFPF_STATE_MINOR       0u
struct vfpf_state_hdr {
	uint64_t magic;
	uint16_t major;
	uint16_t minor;
	uint32_t total_len;     /* header + sections */
	uint32_t model_id;
	uint32_t section_count;
	uint32_t crc32;
	uint32_t vf;            /* VF index it was saved from (informational) */
};
struct vfpf_state_sec {
	uint16_t type;
	uint16_t version;
	uint32_t len;           /* payload bytes, excluding padding */
};
#define VFPF_STATE_SEC_OPTIONAL 0x8000u

#endif /* VFMED_PF_REGS_H */
