/* SPDX-License-Identifier: MIT */
/*
 * igbvf-pmd.h - a small igbvf-style poll-mode driver for the 82576 VF (igbvf-vf.md
 * sections 3 and 5): mailbox, reset handshake with the PF, ring setup, TX and RX.
 *
 * The driver is "guest code": it touches the device only through plain volatile 32-bit
 * loads and stores to BAR0 (vf_rd32/vf_wr32 below) and through descriptors in guest RAM.
 * Whether a BAR access lands in shared memory (mapped page) or becomes a REGION_READ/WRITE
 * (trapped page) is invisible to it. All its state is in struct vfmed_guest_state, in
 * guest RAM.
 *
 * TX ring (device owns [next_to_clean, next_to_use), one slot always left empty):
 *
 *      next_to_clean        next_to_use = TDT
 *            v                    v
 *   | done | posted | posted | free | free | ... |
 *
 * RX ring (device owns [RDH, RDT); software reads from next_to_clean and writes
 * RDT = next_to_clean - 1 after re-arming, as igbvf does).
 */
#ifndef VFMED_GUEST_IGBVF_PMD_H
#define VFMED_GUEST_IGBVF_PMD_H

#include <stdint.h>

#include <vfmed/vf_regs.h>

#include "guest-ram.h"
#include "guest-state.h"

struct vfmed_vf {
	volatile uint8_t *bar;        /* BAR0 (the 16 KiB reservation) */
	struct vfmed_guest_state *st; /* in guest RAM */
	const struct vfmed_guest_ram *ram;
	unsigned mbx_timeout_ms;      /* per posted mailbox operation */
	const char *err;              /* static description of the last failure */
};

static inline uint32_t vf_rd32(const struct vfmed_vf *vf, uint32_t reg)
{
	return *(volatile uint32_t *)(vf->bar + reg);
}

static inline void vf_wr32(const struct vfmed_vf *vf, uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)(vf->bar + reg) = val;
}

/* ---- mailbox (igbvf-mbx.c) ---------------------------------------------------------- */
/* Posted write: lock, flush stale PFSTS/PFACK, write n words, REQ, wait for PFACK. */
int vfmed_mbx_write_posted(struct vfmed_vf *vf, const uint32_t *msg, unsigned n);
/* Posted read: wait for PFSTS, lock, read n words, ACK. */
int vfmed_mbx_read_posted(struct vfmed_vf *vf, uint32_t *msg, unsigned n);

/* ---- bring-up (igbvf-pmd.c) -------------------------------------------------------- */
/* CTRL.RST, wait for RSTI/RSTD to clear, VF_RESET handshake; stores the PF's MAC in
 * st->mac. -ETIMEDOUT / -EPROTO / -ENXIO (PF has no MAC for us) with vf->err set. */
int vfmed_igbvf_reset(struct vfmed_vf *vf);
/* SET_MAC_ADDR; returns 0 if the PF accepted it (st->mac updated), 1 if it NACKed. */
int vfmed_igbvf_set_mac(struct vfmed_vf *vf, const uint8_t mac[6]);
/* Waits up to wait_ms for STATUS.LU; returns 1 if the link is up. */
int vfmed_igbvf_wait_link(struct vfmed_vf *vf, unsigned wait_ms);
/* Programs and enables the TX and RX queues 0..st->queues-1 (igbvf-vf.md 5.5 and 5.6). */
int vfmed_igbvf_rings_up(struct vfmed_vf *vf);
/* Disables every queue in use (ENABLE cleared). */
void vfmed_igbvf_rings_down(struct vfmed_vf *vf);

/* ---- datapath (queue q < st->queues) ------------------------------------------------ */
/* Buffer of the next free TX slot (reclaiming first), or NULL when the ring is full. With
 * tx_split it needs two free slots, and first posts a pending second half, if any. */
uint8_t *vfmed_igbvf_tx_buf(struct vfmed_vf *vf, unsigned q);
/* Posts the frame written into that buffer (len in [1, buf_size]); no doorbell yet. With
 * tx_split a frame of 120 bytes or more is written as two descriptors whose second is
 * posted only after the next doorbell, so the device holds a partial frame in between. */
void vfmed_igbvf_tx_post(struct vfmed_vf *vf, unsigned q, uint16_t len);
/* Store barrier, then TDT = next_to_use if it moved: one doorbell per burst. A split
 * frame's second half left from the previous burst is posted first if nothing else was. */
void vfmed_igbvf_tx_doorbell(struct vfmed_vf *vf, unsigned q);
/* Reclaims completed descriptors (DD); returns how many. */
unsigned vfmed_igbvf_tx_reclaim(struct vfmed_vf *vf, unsigned q);
/* Descriptors posted and not yet completed, plus a pending second half, on queue q. */
unsigned vfmed_igbvf_tx_inflight(const struct vfmed_vf *vf, unsigned q);
/* The same over every queue in use. */
unsigned vfmed_igbvf_tx_inflight_all(const struct vfmed_vf *vf);

typedef void (*vfmed_rx_fn)(void *ctx, unsigned q, uint8_t *frame, uint16_t len);
/* Handles up to budget received frames of queue q, re-arms their descriptors (with the
 * other buffer set when rx_sets is 2) and writes RDT once. Returns descriptors consumed. */
unsigned vfmed_igbvf_rx_poll(struct vfmed_vf *vf, unsigned q, unsigned budget, vfmed_rx_fn fn,
			     void *ctx);

#endif /* VFMED_GUEST_IGBVF_PMD_H */
