/* SPDX-License-Identifier: MIT */
/*
 * vf-rx.c - receive DMA: moves frames from the VF's RX FIFO into advanced one-buffer RX
 * descriptors.
 *
 * A frame leaves the FIFO only when its queue has free descriptors for the WHOLE frame
 * (frames never get split across waits, never partially written). Until then it waits and
 * everything behind it waits too, so order is kept. Per frame:
 *   1. pick the queue (queue 0, or a flow hash when queue 1 is enabled too);
 *   2. read the n descriptors it needs once (no double fetch) and check every buffer
 *      [pkt_addr, pkt_addr + fragment) against the VF's DMA maps: one bad buffer faults the
 *      queue (VFMED_QERR_DESC_ADDR) before any byte is written; the frame stays queued;
 *   3. copy the fragments, buffer size SRRCTL.BSIZEPACKET KiB (0 = 2 KiB);
 *   4. write back each descriptor: bytes 0-7 and 12-15 first, then status_error (DD, EOP
 *      on the last, LB for VF-to-VF frames) with a release store, so a visible DD implies
 *      the rest is valid;
 *   5. advance RDH, count statistics, raise the queue's interrupt cause (IVAR).
 *
 * Header split (DESCTYPE 101) is not modelled: such a queue is filled as one-buffer and
 * hdr_addr is ignored; igbvf uses split only for jumbo MTUs, DPDK never.
 */
#include <string.h>

#include "internal.h"

/* Stable flow hash (FNV-1a 32) used only to pick queue 0 or 1: IPv4/IPv6 addresses, the
 * protocol and, for unfragmented TCP/UDP, the ports; MAC addresses for non-IP frames. The
 * same flow always lands on the same queue, so per-flow order holds. */
static uint32_t fnv(uint32_t h, const uint8_t *p, uint32_t n)
{
	while (n--) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

static uint32_t flow_hash(const uint8_t *f, uint32_t len)
{
	uint32_t h = 2166136261u, off = 12, et;

	et = (uint32_t)f[12] << 8 | f[13];
	if (et == 0x8100 && len >= 18) {
		off = 16;
		et = (uint32_t)f[16] << 8 | f[17];
	}
	off += 2;
	if (et == 0x0800 && len >= off + 20) {
		const uint8_t *ip = f + off;
		uint32_t ihl = (ip[0] & 0xF) * 4u, frag = ((uint32_t)ip[6] << 8 | ip[7]) & 0x3FFF;

		h = fnv(h, ip + 9, 1);
		h = fnv(h, ip + 12, 8);
		if ((ip[9] == 6 || ip[9] == 17) && !frag && ihl >= 20 && len >= off + ihl + 4)
			h = fnv(h, ip + ihl, 4);
		return h;
	}
	if (et == 0x86DD && len >= off + 40) {
		const uint8_t *ip = f + off;

		h = fnv(h, ip + 6, 1);
		h = fnv(h, ip + 8, 32);
		if ((ip[6] == 6 || ip[6] == 17) && len >= off + 44)
			h = fnv(h, ip + 40, 4);
		return h;
	}
	return fnv(h, f, 12);
}

int vfmed_vf_rx_select_queue(struct vfmed_vf *vf, const struct vfmed_frame *f)
{
	bool e0 = vf->rxq[0].enabled, e1 = vf->rxq[1].enabled;
	uint32_t h;

	if (e0 && e1) {
		h = flow_hash(f->data, f->len);
		return (int)((h ^ (h >> 16)) & 1);
	}
	if (e0)
		return 0;
	if (e1)
		return 1;
	return -1;
}

static uint32_t rx_bufsize(const struct vfmed_queue *q)
{
	uint32_t k = q->srrctl & E1000_SRRCTL_BSIZEPKT_MASK;

	return k ? k * 1024u : 2048u;
}

static void count_rx(struct vfmed_vf *vf, const struct vfmed_frame *f)
{
	bool bcast = !memcmp(f->data, "\xff\xff\xff\xff\xff\xff", 6);

	vf->st.rx_packets++;
	vf->st.rx_bytes += f->len;
	vfmed_vf_stat_add(vf, E1000_VFGPRC, 1);
	vfmed_vf_stat_add(vf, E1000_VFGORC, f->len + 4);   /* + CRC, as QEMU counts */
	if ((f->data[0] & 1) && !bcast) {
		vf->st.rx_mcast++;
		vfmed_vf_stat_add(vf, E1000_VFMPRC, 1);
	}
	if (f->flags & VFMED_FRAME_F_LB) {
		vf->st.rx_lb_packets++;
		vf->st.rx_lb_bytes += f->len;
		vfmed_vf_stat_add(vf, E1000_VFGPRLBC, 1);
		vfmed_vf_stat_add(vf, E1000_VFGORLBC, f->len + 4);
	}
}

/* Try to deliver the FIFO head into queue q. 1 delivered, 0 must wait, -1 queue faulted
 * or frame dropped (retry the FIFO head). */
static int rx_one(struct vfmed_vf *vf, struct vfmed_queue *q, struct vfmed_frame *f)
{
	struct e1000_adv_rx_desc_read d[VFMED_RX_MAX_FRAGS];
	uint32_t bsize = rx_bufsize(q), nd = (f->len + bsize - 1) / bsize, tail, avail, i, off;
	uint8_t *ring;

	if (nd > q->count - 1 || nd > VFMED_RX_MAX_FRAGS) {
		/* The ring can never hold this frame: drop it (counted in RQDPC), like a
		 * queue without enough descriptors in QEMU. */
		bar_wr(vf->bar, E1000_RQDPC(q->idx), bar_rd(vf->bar, E1000_RQDPC(q->idx)) + 1);
		vfmed_fifo_pop(&vf->fifo);
		vf->st.rx_fifo_drops++;
		return -1;
	}
	tail = vfmed_queue_tail(vf, q);
	avail = (tail + q->count - q->head) % q->count;
	if (avail < nd) {
		if (!q->stalled) {
			q->stalled = 1;
			vf->st.rx_no_desc++;
		}
		return 0;
	}
	ring = vfmed_queue_ring(vf, q, VFMED_DMA_READ | VFMED_DMA_WRITE);
	if (!ring)
		return -1;
	for (i = 0, off = 0; i < nd; i++, off += bsize) {
		uint32_t idx = (q->head + i) % q->count, fl = f->len - off < bsize ? f->len - off : bsize;

		memcpy(&d[i], ring + (size_t)idx * E1000_DESC_SIZE, sizeof(d[i]));
		if (vfmed_dma_check(&vf->dma, d[i].pkt_addr, fl, VFMED_DMA_WRITE)) {
			vfmed_queue_fault(vf, q, VFMED_QERR_DESC_ADDR);
			return -1;
		}
	}
	for (i = 0, off = 0; i < nd; i++, off += bsize) {
		uint32_t idx = (q->head + i) % q->count, fl = f->len - off < bsize ? f->len - off : bsize;
		uint8_t *dp = ring + (size_t)idx * E1000_DESC_SIZE;
		uint32_t status = E1000_RXD_STAT_DD;
		struct e1000_adv_rx_desc_wb wb = { 0 };

		vfmed_dma_write(&vf->dma, d[i].pkt_addr, f->data + off, fl);
		if (i == nd - 1)
			status |= E1000_RXD_STAT_EOP;
		if (f->flags & VFMED_FRAME_F_LB)
			status |= E1000_RXD_STAT_LB;
		wb.length = (uint16_t)fl;
		memcpy(dp, &wb, 8);
		memcpy(dp + 12, &wb.length, 4);
		__atomic_store_n((uint32_t *)(dp + 8), status, __ATOMIC_RELEASE);
		vfmed_dma_mark(&vf->dma, q->base + (uint64_t)idx * E1000_DESC_SIZE, E1000_DESC_SIZE);
	}
	vfmed_queue_set_head(vf, q, (q->head + nd) % q->count);
	q->stalled = 0;
	count_rx(vf, f);
	vfmed_fifo_pop(&vf->fifo);
	vfmed_irq_raise_queue(vf, false, q->idx);
	return 1;
}

int vfmed_vf_rx_process(struct vfmed_vf *vf)
{
	struct vfmed_frame *f;
	int work = 0, r, qi;

	if (!vf->sriov_enabled || vf->quiesced || !vf->fifo.count)
		return 0;
	/* Called directly by the switch too: act on the RX registers as they are now, so a
	 * ring the driver just disabled (and may be reusing) is never written. (The TX
	 * queues do not matter here; the device pass syncs them.) */
	work = vfmed_vf_rx_queues_sync(vf);
	while ((f = vfmed_fifo_peek(&vf->fifo, 0)) != NULL) {
		qi = vfmed_vf_rx_select_queue(vf, f);
		if (qi < 0)
			break;
		r = rx_one(vf, &vf->rxq[qi], f);
		if (r == 0)
			break;
		work++;
	}
	return work;
}
