/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * vfpf_priv.h - internal interfaces between the files of the PF driver core (admin-queue
 * execution, mailbox transport, mailbox policy, VF soft-state helpers). Not part of the
 * API of libvfpf.so or of the module.
 */
#ifndef VFPF_PRIV_H
#define VFPF_PRIV_H

#include "vfpf_core.h"
#include "vfmed/vf_regs.h"

/* One admin command as the core builds it; ret is filled by vfpf_aq_exec(). */
struct vfpf_aq_cmd {
	uint16_t opcode;
	uint16_t vf;
	uint32_t param0;
	uint32_t param1;
	uint64_t addr;        /* PF DMA address of the buffer, 0 if none */
	uint32_t len;
	uint32_t ret;         /* out: the descriptor's ret */
};

/* Pause between two polls of a bounded wait: spin briefly, then sleep. */
static inline void vfpf_poll_pause(uint32_t *iter)
{
	if (*iter < 32)
		vfpf_cpu_relax();
	else
		vfpf_sleep_us(*iter < 512 ? 10 : 100);
	(*iter)++;
}

/* vfpf_aq.c. Each takes aq_lock itself. */
int vfpf_aq_setup(struct vfpf_dev *dev);
void vfpf_aq_teardown(struct vfpf_dev *dev);
/*
 * Runs @cmd and waits for it. @bufs (up to 2) are the DMA buffers the command references:
 * if the command times out they are moved into the stalled record (and zeroed in @bufs),
 * because the device may still write them; the caller frees whatever is left in @bufs.
 */
int vfpf_aq_exec(struct vfpf_dev *dev, struct vfpf_aq_cmd *cmd,
		 struct vfpf_dma_buf *bufs, uint32_t nbufs);
/* A command with an optional bounce buffer: @in copied to it, @out copied back. */
int vfpf_aq_simple(struct vfpf_dev *dev, uint16_t opcode, uint16_t vf, uint32_t param0,
		   uint32_t param1, const void *in, uint32_t in_len, void *out,
		   uint32_t out_len, uint32_t *ret);

/* vfpf_mbx.c. Caller holds cfg_lock. */
int vfpf_mbx_post(struct vfpf_dev *dev, uint32_t vf, const uint32_t *words, uint32_t n,
		  uint32_t flags);
void vfpf_mbx_snapshot(struct vfpf_dev *dev, uint32_t vf);

/* vfpf_policy.c. Caller holds cfg_lock. */
void vfpf_policy_handle(struct vfpf_dev *dev, uint32_t vf, const uint32_t msg[VFPF_MBX_WORDS]);
void vfpf_policy_reset_event(struct vfpf_dev *dev, uint32_t vf);
int vfpf_policy_ping(struct vfpf_dev *dev, uint32_t vf);

/* vfpf_vf.c. Caller holds cfg_lock. */
int vfpf_vf_adopt(struct vfpf_dev *dev, uint32_t vf);
int vfpf_vf_clear_filters(struct vfpf_dev *dev, uint32_t vf);
int vfpf_vf_install_mac(struct vfpf_dev *dev, uint32_t vf, const uint8_t mac[6]);
int vfpf_vf_refresh(struct vfpf_dev *dev, uint32_t vf);

/* Packing of a MAC into two words (mailbox words 1-2, admin param0/param1). */
static inline uint32_t vfpf_mac_lo(const uint8_t *m)
{
	return (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 |
	       (uint32_t)m[3] << 24;
}

static inline uint32_t vfpf_mac_hi(const uint8_t *m)
{
	return (uint32_t)m[4] | (uint32_t)m[5] << 8;
}

static inline void vfpf_mac_from_words(uint8_t *m, uint32_t lo, uint32_t hi)
{
	m[0] = lo & 0xff;
	m[1] = (lo >> 8) & 0xff;
	m[2] = (lo >> 16) & 0xff;
	m[3] = lo >> 24;
	m[4] = hi & 0xff;
	m[5] = (hi >> 8) & 0xff;
}

static inline bool vfpf_mac_is_zero(const uint8_t *m)
{
	return !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}

/* A unicast, non-zero address (bit 0 of the first byte clear). */
static inline bool vfpf_mac_is_valid(const uint8_t *m)
{
	return !(m[0] & 1) && !vfpf_mac_is_zero(m);
}

/* Checks shared by every per-VF entry point. Caller holds cfg_lock. */
static inline int vfpf_vf_check(struct vfpf_dev *dev, uint32_t vf)
{
	if (!dev->ready)
		return -ENODEV;
	return vf < dev->num_vfs ? 0 : -ENODEV;
}

#endif /* VFPF_PRIV_H */
