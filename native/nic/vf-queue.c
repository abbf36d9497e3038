/* SPDX-License-Identifier: MIT */
/*
 * vf-queue.c - how the device observes the queue register file of pages 2-3, which a
 * passthrough client writes directly into shared memory, and what it latches.
 *
 * Every pass (and synchronously after a trapped write), for each queue:
 *   XDCTL.ENABLE 0->1   latch base/len (+SRRCTL for RX) and the head from the register
 *                       file, take the tail if valid, clear the queue error (RQERR/TQERR);
 *   ENABLE 1->0         stop (a partial TX frame is discarded);
 *   enabled, base/len/SRRCTL differ from the latch
 *                       re-latch: the driver disabled, reprogrammed and re-enabled the
 *                       queue between two passes, which polling cannot see otherwise;
 *   enabled, RDH/TDH differs from what the device last stored
 *                       a software head write (DPDK writes RDH = 0 after enabling): adopt
 *                       it when < count, else restore the device's head;
 *   tail                a tail >= count is ignored (QEMU: empty ring); the last valid tail
 *                       stays in effect.
 *
 *   ring:   [0] [1] ... [head] ... [tail-1] [tail] ... [count-1]
 *                        └ device owns ┘      └ software owns
 *   RX free = (tail - head) mod count; TX pending = same.
 *
 * Errors (vf_regs.h, enum vfmed_qerr) stop the queue: RQERR/TQERR = code, XDCTL.ENABLE
 * cleared by the device, VFDMAERR++, misc interrupt cause.
 */
#include <string.h>

#include "internal.h"

static uint32_t reg_base(const struct vfmed_queue *q)
{
	return (q->is_tx ? 0x3800u : 0x2800u) + 0x100u * q->idx;
}

#define R_BAL   0x00
#define R_BAH   0x04
#define R_LEN   0x08
#define R_SRR   0x0C
#define R_HEAD  0x10
#define R_TAIL  0x18
#define R_XDCTL 0x28
#define R_QERR  0x34

/*
 * RDH/TDH has two writers in passthrough: the device (advancing it) and the driver (DPDK
 * writes RDH = 0 right after enabling). The device never does a read-then-write of it:
 * it stores only with a compare-and-swap against the value it stored last, so a driver
 * write that lands in between survives and is adopted by the next sync_queue().
 */
static int store_head(struct vfmed_vf *vf, struct vfmed_queue *q, uint32_t expected, uint32_t head)
{
	uint32_t *reg = (uint32_t *)&vf->bar[(reg_base(q) + R_HEAD) / 4];

	if (!__atomic_compare_exchange_n(reg, &expected, head, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		return 0;
	q->head_written = head;
	return 1;
}

/* The device advanced its head. */
void vfmed_queue_set_head(struct vfmed_vf *vf, struct vfmed_queue *q, uint32_t head)
{
	q->head = head;
	store_head(vf, q, q->head_written, head);
}

/* The register already holds h (a driver write): take it without storing anything. */
static void adopt_head(struct vfmed_queue *q, uint32_t h)
{
	q->head = h;
	q->head_written = h;
}

void vfmed_queue_fault(struct vfmed_vf *vf, struct vfmed_queue *q, uint32_t code)
{
	uint32_t b = reg_base(q);

	q->err = code;
	bar_wr(vf->bar, b + R_QERR, code);
	bar_wr(vf->bar, b + R_XDCTL, bar_rd(vf->bar, b + R_XDCTL) & ~E1000_XDCTL_ENABLE);
	vfmed_queue_disable(vf, q);
	vfmed_vf_stat_add(vf, VFMED_VFDMAERR, 1);
	vf->st.dma_errors++;
	vfmed_irq_raise_misc(vf);
}

uint32_t vfmed_queue_tail(struct vfmed_vf *vf, struct vfmed_queue *q)
{
	uint32_t t = bar_rd(vf->bar, reg_base(q) + R_TAIL) & 0xFFFF;

	if (t < q->count)
		q->last_tail = t;
	return q->last_tail;
}

uint8_t *vfmed_queue_ring(struct vfmed_vf *vf, struct vfmed_queue *q, uint32_t prot)
{
	uint8_t *p = vfmed_dma_ptr(&vf->dma, q->base, q->len, prot);

	if (!p)
		vfmed_queue_fault(vf, q, VFMED_QERR_RING_BASE);
	return p;
}

static void latch(struct vfmed_vf *vf, struct vfmed_queue *q, uint64_t base, uint32_t len,
                  uint32_t srrctl)
{
	uint32_t b = reg_base(q), h, t;

	vfmed_queue_disable(vf, q);
	q->err = VFMED_QERR_NONE;
	bar_wr(vf->bar, b + R_QERR, 0);
	q->base = base;
	q->len = len;
	q->srrctl = srrctl;
	if (!len || len % 128 || len > VFMED_RING_MAX_BYTES) {
		q->count = 0;
		vfmed_queue_fault(vf, q, VFMED_QERR_RING_LEN);
		return;
	}
	q->count = len / E1000_DESC_SIZE;
	if (base & (VFMED_RING_ALIGN - 1)) {
		vfmed_queue_fault(vf, q, VFMED_QERR_RING_BASE);
		return;
	}
	h = bar_rd(vf->bar, b + R_HEAD);
	if ((h & 0xFFFF) < q->count) {
		adopt_head(q, h & 0xFFFF);
	} else {
		q->head = 0;   /* an invalid head register restarts the ring at 0 */
		store_head(vf, q, h, 0);
	}
	h = q->head;
	t = bar_rd(vf->bar, b + R_TAIL) & 0xFFFF;
	q->last_tail = t < q->count ? t : h;
	q->enabled = 1;
}

static int sync_queue(struct vfmed_vf *vf, struct vfmed_queue *q)
{
	uint32_t b = reg_base(q), xdctl = bar_rd(vf->bar, b + R_XDCTL), len, srr, h;
	uint64_t base;

	if (!(xdctl & E1000_XDCTL_ENABLE)) {
		if (q->enabled) {
			vfmed_queue_disable(vf, q);
			return 1;
		}
		return 0;
	}
	base = (uint64_t)bar_rd(vf->bar, b + R_BAH) << 32 | bar_rd(vf->bar, b + R_BAL);
	len = bar_rd(vf->bar, b + R_LEN);
	srr = q->is_tx ? 0 : bar_rd(vf->bar, b + R_SRR);
	if (!q->enabled) {
		/* ENABLE set in the register file but not latched: a fresh enable (after a
		 * fault the device cleared ENABLE itself, so this is the driver again). */
		latch(vf, q, base, len, srr);
		return 1;
	}
	if (base != q->base || len != q->len || srr != q->srrctl) {
		latch(vf, q, base, len, srr);
		return 1;
	}
	h = bar_rd(vf->bar, b + R_HEAD);
	if (h != q->head_written) {
		if (h < q->count) {
			adopt_head(q, h);
			if (q->tx) {   /* a moved TX head abandons the frame being gathered */
				q->tx->len = 0;
				q->tx->ndesc = 0;
			}
		} else {
			store_head(vf, q, h, q->head);   /* out of range: restore the device's head */
		}
		return 1;
	}
	return 0;
}

int vfmed_vf_queues_sync(struct vfmed_vf *vf)
{
	uint32_t q;
	int work = 0;

	for (q = 0; q < VFMED_VF_NUM_QUEUES; q++) {
		work += sync_queue(vf, &vf->rxq[q]);
		work += sync_queue(vf, &vf->txq[q]);
	}
	return work;
}

/* Only the RX queues: what delivering a frame needs to see, before every delivery. */
int vfmed_vf_rx_queues_sync(struct vfmed_vf *vf)
{
	return sync_queue(vf, &vf->rxq[0]) + sync_queue(vf, &vf->rxq[1]);
}

int vfmed_vf_process(struct vfmed_vf *vf)
{
	int work;

	if (!vf->sriov_enabled || vf->quiesced)
		return 0;
	work = vfmed_vf_queues_sync(vf);
	work += vfmed_vf_tx_process(vf);
	work += vfmed_vf_rx_process(vf);
	return work;
}
