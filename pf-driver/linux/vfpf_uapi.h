/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vfpf_uapi.h - ioctl interface of /dev/vfpf, the vfmed PF driver's character device, for
 * the mediator running in the same VM as the PF.
 *
 * Every argument struct has fixed-width fields, natural alignment and explicit padding;
 * pad/reserved fields must be zero (-EINVAL otherwise) so they can gain a meaning later.
 * Pointers to user memory travel as __u64. Errors are the usual -1/errno of ioctl(2), with
 * the errno values documented for the matching function in pf-driver/core/vfpf_core.h.
 */
#ifndef _UAPI_VFPF_H
#define _UAPI_VFPF_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define VFPF_IOC_MAGIC 0xF6

/* VFPF_IOC_GET_INFO: the device description (GET_INFO) and the number of enabled VFs. */
struct vfpf_ioc_info {
	__u32 model_id;
	__u16 abi_major;
	__u16 abi_minor;
	__u32 max_vfs;
	__u32 num_vfs;
	__u32 queues_per_vf;
	__u32 rx_fifo_bytes;
	__u32 state_version;
	__u32 features;
};

/* VFPF_IOC_SRIOV_ENABLE: in num_vfs (0 disables); out num_vfs enabled. */
struct vfpf_ioc_sriov {
	__u32 num_vfs;
	__u32 pad;
};

/* VFPF_IOC_VF_QUIESCE/RESUME/FLR, VFPF_IOC_DIRTY_STOP. */
struct vfpf_ioc_vf {
	__u32 vf;
	__u32 pad;
};

/* VFPF_IOC_SET_MAC: administrative MAC; all-zero removes the administrative fix. */
struct vfpf_ioc_mac {
	__u32 vf;
	__u8 mac[6];
	__u8 pad[2];
};

/* VFPF_IOC_STATE_SIZE: out size, the bytes VFPF_IOC_SAVE needs now. */
struct vfpf_ioc_state_size {
	__u32 vf;
	__u32 size;
};

/*
 * VFPF_IOC_SAVE: in len = capacity of buf; out len = blob bytes written to buf.
 * VFPF_IOC_LOAD: len bytes at buf. len <= VFPF_IOC_STATE_MAX.
 */
struct vfpf_ioc_blob {
	__u32 vf;
	__u32 len;
	__u64 buf;
};
#define VFPF_IOC_STATE_MAX (16u << 20)

/* VFPF_IOC_DIRTY_START: nr_ranges (1..64) of { __u64 iova, length } at ranges. */
struct vfpf_ioc_dirty_range {
	__u64 iova;
	__u64 length;
};
struct vfpf_ioc_dirty_start {
	__u32 vf;
	__u32 page_shift;
	__u32 nr_ranges;
	__u32 pad;
	__u64 ranges;
};
#define VFPF_IOC_DIRTY_MAX_RANGES 64u

/* VFPF_IOC_DIRTY_REPORT: read-and-clear into bitmap (bitmap_len <= VFPF_IOC_BITMAP_MAX). */
struct vfpf_ioc_dirty_report {
	__u32 vf;
	__u32 pad;
	__u64 iova;
	__u64 length;
	__u64 bitmap;
	__u64 bitmap_len;
};
#define VFPF_IOC_BITMAP_MAX (8u << 20)

/* VFPF_IOC_STATS: the VF's device counters. */
struct vfpf_ioc_stats {
	__u32 vf;
	__u32 pad;
	__u64 rx_packets, rx_bytes, tx_packets, tx_bytes;
	__u64 rx_mcast, rx_lb_packets, tx_lb_packets, rx_lb_bytes, tx_lb_bytes;
	__u64 rx_fifo_drops, rx_no_desc, dma_errors, tx_errors, fifo_frames, fifo_bytes;
};

/* VFPF_IOC_VF_CONFIG: the device's view of a VF (VF_GET_CONFIG). */
struct vfpf_ioc_vf_config {
	__u32 vf;
	__u8 mac[6];
	__u16 enable;
	__u32 max_frame;
	__u32 mc_count;
	__u32 vlan_count;
	__u32 promisc;
	__u32 quiesced;
	__u32 pad;
};

#define VFPF_IOC_GET_INFO      _IOR(VFPF_IOC_MAGIC, 0x00, struct vfpf_ioc_info)
#define VFPF_IOC_SRIOV_ENABLE  _IOWR(VFPF_IOC_MAGIC, 0x01, struct vfpf_ioc_sriov)
#define VFPF_IOC_SET_MAC       _IOW(VFPF_IOC_MAGIC, 0x02, struct vfpf_ioc_mac)
#define VFPF_IOC_VF_QUIESCE    _IOW(VFPF_IOC_MAGIC, 0x03, struct vfpf_ioc_vf)
#define VFPF_IOC_VF_RESUME     _IOW(VFPF_IOC_MAGIC, 0x04, struct vfpf_ioc_vf)
#define VFPF_IOC_VF_FLR        _IOW(VFPF_IOC_MAGIC, 0x05, struct vfpf_ioc_vf)
#define VFPF_IOC_STATE_SIZE    _IOWR(VFPF_IOC_MAGIC, 0x06, struct vfpf_ioc_state_size)
#define VFPF_IOC_SAVE          _IOWR(VFPF_IOC_MAGIC, 0x07, struct vfpf_ioc_blob)
#define VFPF_IOC_LOAD          _IOW(VFPF_IOC_MAGIC, 0x08, struct vfpf_ioc_blob)
#define VFPF_IOC_DIRTY_START   _IOW(VFPF_IOC_MAGIC, 0x09, struct vfpf_ioc_dirty_start)
#define VFPF_IOC_DIRTY_STOP    _IOW(VFPF_IOC_MAGIC, 0x0a, struct vfpf_ioc_vf)
#define VFPF_IOC_DIRTY_REPORT  _IOW(VFPF_IOC_MAGIC, 0x0b, struct vfpf_ioc_dirty_report)
#define VFPF_IOC_STATS         _IOWR(VFPF_IOC_MAGIC, 0x0c, struct vfpf_ioc_stats)
#define VFPF_IOC_VF_CONFIG     _IOWR(VFPF_IOC_MAGIC, 0x0d, struct vfpf_ioc_vf_config)

#endif /* _UAPI_VFPF_H */
