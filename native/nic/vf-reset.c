/* SPDX-License-Identifier: MIT */
/*
 * vf-reset.c - the two VF resets.
 *
 * Soft reset (the VF writes CTRL.RST; igb_vf_reset in QEMU): both queues of both directions
 * stop (XDCTL.ENABLE cleared in the register file and in the device), VFRE/VFTE are
 * cleared so the VF neither receives nor transmits until the PF driver re-enables it while
 * answering VF_RESET, VF_RESET_SEQ and EVENT_SEQ are bumped. Ring base/length/head/tail,
 * interrupt masks and the mailbox are left alone, as on the 82576.
 * The RX FIFO is flushed: its frames were accepted for the driver instance that just reset
 * itself and a new instance must not see them; they are counted as FIFO drops. A partially
 * gathered TX frame is discarded with its queue.
 *
 * Full reset (SR-IOV enable/disable of the VF, admin VF_RESET = FLR): everything the VF can
 * see goes back to power-on values (register file, interrupts, mailbox = RSTI/RSTD), the
 * FIFO is flushed, quiesce/seal end. keep_filters (FLR) keeps the PF-owned state: MAC/MC/
 * VLAN filters, LPE, promisc, 64-bit statistics and the device dirty log, as those live in
 * PF registers on real hardware. DMA maps belong to the client (IOMMU) and always stay.
 */
#include <string.h>

#include "internal.h"

static void reset_tx_partial(struct vfmed_queue *q)
{
	if (q->tx) {
		q->tx->len = 0;
		q->tx->ndesc = 0;
		q->tx->ctx_valid = 0;
	}
}

void vfmed_queue_disable(struct vfmed_vf *vf, struct vfmed_queue *q)
{
	(void)vf;
	q->enabled = 0;
	q->stalled = 0;
	reset_tx_partial(q);
}

static void flush_fifo_counted(struct vfmed_vf *vf)
{
	uint32_t n = vfmed_fifo_flush(&vf->fifo), i;

	for (i = 0; i < n; i++)
		vfmed_vf_count_fifo_drop(vf);
}

void vfmed_vf_soft_reset(struct vfmed_vf *vf)
{
	uint32_t q;

	for (q = 0; q < VFMED_VF_NUM_QUEUES; q++) {
		bar_wr(vf->bar, E1000_RXDCTL(q), bar_rd(vf->bar, E1000_RXDCTL(q)) & ~E1000_XDCTL_ENABLE);
		bar_wr(vf->bar, E1000_TXDCTL(q), bar_rd(vf->bar, E1000_TXDCTL(q)) & ~E1000_XDCTL_ENABLE);
		vfmed_queue_disable(vf, &vf->rxq[q]);
		vfmed_queue_disable(vf, &vf->txq[q]);
	}
	vf->rx_en = false;
	vf->tx_en = false;
	flush_fifo_counted(vf);
	vf->reset_seq++;
	bar_wr(vf->nic->pf_bar, VFPF_VF_RESET_SEQ(vf->idx), vf->reset_seq);
	vfmed_pf_event(vf->nic);
}

static void regs_reset(struct vfmed_vf *vf)
{
	uint32_t q;

	/* Power-on register file: all zero but the two documented reset values. */
	memset((void *)vf->bar, 0, VFMED_VF_BAR0_SIZE);
	for (q = 0; q < VFMED_VF_NUM_QUEUES; q++) {
		bar_wr(vf->bar, E1000_RXDCTL(q), E1000_RXDCTL_RESET);
		bar_wr(vf->bar, E1000_TXCTL(q), E1000_TXCTL_RESET);
	}
}

void vfmed_vf_full_reset(struct vfmed_vf *vf, bool keep_filters)
{
	struct vfmed_nic *nic = vf->nic;
	uint32_t q;

	for (q = 0; q < VFMED_VF_NUM_QUEUES; q++) {
		struct vfmed_queue *rx = &vf->rxq[q], *tx = &vf->txq[q];

		vfmed_queue_disable(vf, rx);
		vfmed_queue_disable(vf, tx);
		rx->base = tx->base = 0;
		rx->len = tx->len = rx->count = tx->count = 0;
		rx->srrctl = 0;
		rx->head = tx->head = rx->head_written = tx->head_written = 0;
		rx->last_tail = tx->last_tail = 0;
		rx->err = tx->err = 0;
	}
	if (vf->bar)
		regs_reset(vf);
	vfmed_irq_reset(&vf->irq);
	if (vf->fifo.count)
		flush_fifo_counted(vf);
	vf->rx_en = vf->tx_en = false;
	vf->quiesced = vf->sealed = false;
	if (vf->bar && nic->pf_bar)
		vfmed_mbx_reset(vf);
	if (!keep_filters) {
		memcpy(vf->mac, nic->base_mac, 6);
		vf->mac[5] = (uint8_t)(vf->mac[5] + vf->idx);
		vf->mc_count = 0;
		vf->vlan_count = 0;
		vf->max_frame = 0;
		vf->promisc = 0;
		memset(&vf->st, 0, sizeof(vf->st));
		vf->dirty.started = false;
		vf->dirty.nranges = 0;
		vfmed_pagelog_reset(&vf->dirty.pages);
	}
}
