/* SPDX-License-Identifier: MIT */
/*
 * igbvf-pmd.c - bring-up and datapath of the poll-mode VF driver (see igbvf-pmd.h),
 * following igbvf-vf.md section 5 step by step.
 *
 * Ordering: descriptors live in guest RAM (ordinary write-back memory shared with the
 * device), the doorbells in BAR0. A release fence before each doorbell keeps the compiler
 * from sinking descriptor stores past it (x86 keeps store order in hardware); an acquire
 * fence after a visible DD keeps the rest of the descriptor from being read early.
 */
#define _GNU_SOURCE
#include "igbvf-pmd.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define RX_ERR_MASK (E1000_RXDEXT_ERR_CE | E1000_RXDEXT_ERR_SE | E1000_RXDEXT_ERR_SEQ | \
		     E1000_RXDEXT_ERR_CXE | E1000_RXDEXT_ERR_RXE)

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void pause_us(unsigned us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
}

static void *host(struct vfmed_vf *vf, uint64_t gpa, uint64_t len)
{
	return vfmed_gpa(vf->ram, gpa, len);
}

int vfmed_igbvf_reset(struct vfmed_vf *vf)
{
	struct vfmed_guest_state *st = vf->st;
	uint32_t msg[3], v, w0;
	uint64_t deadline;
	int rc;

	st->mbx_r2c = 0;
	/* igbvf sw_init: mask every interrupt and disable auto-clear; this driver polls. */
	vf_wr32(vf, E1000_VF_EIMC, 0xFFFFFFFFu);
	vf_wr32(vf, E1000_VF_EIAC, 0);

	v = vf_rd32(vf, E1000_VF_CTRL);
	vf_wr32(vf, E1000_VF_CTRL, v | E1000_CTRL_RST);

	/* RSTD clears on read; RSTI stays set while the PF itself is resetting. */
	deadline = now_ms() + vf->mbx_timeout_ms;
	for (;;) {
		v = vf_rd32(vf, E1000_V2PMAILBOX);
		if (!(v & (E1000_V2PMAILBOX_RSTI | E1000_V2PMAILBOX_RSTD)))
			break;
		if (now_ms() >= deadline) {
			vf->err = (v & E1000_V2PMAILBOX_RSTI) ?
				"PF still in reset state (V2PMAILBOX.RSTI stays set)" :
				"V2PMAILBOX.RSTD does not clear on read";
			return -ETIMEDOUT;
		}
		pause_us(20);
	}
	st->mbx_r2c = 0;

	msg[0] = E1000_VF_RESET;
	rc = vfmed_mbx_write_posted(vf, msg, 1);
	if (rc)
		return rc;
	rc = vfmed_mbx_read_posted(vf, msg, 3);
	if (rc)
		return rc;
	w0 = msg[0] & ~E1000_VT_MSGTYPE_CTS;
	if (w0 == (E1000_VF_RESET | E1000_VT_MSGTYPE_NACK)) {
		vf->err = "the PF has no MAC address for this VF (VF_RESET NACK)";
		return -ENXIO;
	}
	if (w0 != (E1000_VF_RESET | E1000_VT_MSGTYPE_ACK)) {
		vf->err = "unexpected reply to VF_RESET";
		return -EPROTO;
	}
	st->mac[0] = (uint8_t)msg[1];
	st->mac[1] = (uint8_t)(msg[1] >> 8);
	st->mac[2] = (uint8_t)(msg[1] >> 16);
	st->mac[3] = (uint8_t)(msg[1] >> 24);
	st->mac[4] = (uint8_t)msg[2];
	st->mac[5] = (uint8_t)(msg[2] >> 8);
	if ((st->mac[0] & 1) || !(st->mac[0] | st->mac[1] | st->mac[2] | st->mac[3] | st->mac[4] |
				  st->mac[5])) {
		vf->err = "the PF assigned an invalid (zero or multicast) MAC address";
		return -ENXIO;
	}
	return 0;
}

int vfmed_igbvf_set_mac(struct vfmed_vf *vf, const uint8_t mac[6])
{
	uint32_t msg[3] = {
		E1000_VF_SET_MAC_ADDR,
		(uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 |
			(uint32_t)mac[3] << 24,
		(uint32_t)mac[4] | (uint32_t)mac[5] << 8,
	};
	uint32_t w0;
	int rc;

	rc = vfmed_mbx_write_posted(vf, msg, 3);
	if (rc)
		return rc;
	rc = vfmed_mbx_read_posted(vf, msg, 3);
	if (rc)
		return rc;
	w0 = msg[0] & ~E1000_VT_MSGTYPE_CTS;
	if (w0 == (E1000_VF_SET_MAC_ADDR | E1000_VT_MSGTYPE_NACK)) {
		vf->st->mbx_nacks++;
		return 1;  /* administratively fixed MAC: keep the permanent one */
	}
	if (w0 != (E1000_VF_SET_MAC_ADDR | E1000_VT_MSGTYPE_ACK)) {
		vf->err = "unexpected reply to SET_MAC_ADDR";
		return -EPROTO;
	}
	memcpy(vf->st->mac, mac, 6);
	return 0;
}

int vfmed_igbvf_wait_link(struct vfmed_vf *vf, unsigned wait_ms)
{
	uint64_t deadline = now_ms() + wait_ms;

	for (;;) {
		if (vf_rd32(vf, E1000_VF_STATUS) & E1000_STATUS_LU) {
			vf->st->flags |= VFMED_GS_F_LINK_UP;
			return 1;
		}
		if (now_ms() >= deadline) {
			vf->st->flags &= ~VFMED_GS_F_LINK_UP;
			return 0;
		}
		pause_us(1000);
	}
}

static uint64_t rx_buffer(const struct vfmed_guest_state *st, const struct vfmed_guest_queue *g,
			  uint32_t i, uint32_t set)
{
	return g->rx_bufs + ((uint64_t)set * st->rx_count + i) * st->buf_size;
}

static int queue_up(struct vfmed_vf *vf, unsigned q)
{
	struct vfmed_guest_state *st = vf->st;
	struct vfmed_guest_queue *g = &st->q[q];
	struct e1000_adv_tx_desc *txr;
	struct e1000_adv_rx_desc_read *rxr;
	uint32_t v;

	txr = host(vf, g->tx_ring, (uint64_t)st->tx_count * E1000_DESC_SIZE);
	rxr = host(vf, g->rx_ring, (uint64_t)st->rx_count * E1000_DESC_SIZE);
	if (!txr || !rxr || !host(vf, g->rx_bufs, (uint64_t)st->rx_count * st->rx_sets * st->buf_size) ||
	    !host(vf, g->tx_bufs, (uint64_t)st->tx_count * st->buf_size)) {
		vf->err = "rings or buffers outside guest RAM";
		return -EINVAL;
	}

	/* TX. */
	v = vf_rd32(vf, E1000_TXDCTL(q));
	vf_wr32(vf, E1000_TXDCTL(q), v & ~E1000_XDCTL_ENABLE);
	memset(txr, 0, (size_t)st->tx_count * E1000_DESC_SIZE);
	vf_wr32(vf, E1000_TDBAL(q), (uint32_t)g->tx_ring);
	vf_wr32(vf, E1000_TDBAH(q), (uint32_t)(g->tx_ring >> 32));
	vf_wr32(vf, E1000_TDLEN(q), st->tx_count * E1000_DESC_SIZE);
	vf_wr32(vf, E1000_TDH(q), 0);
	vf_wr32(vf, E1000_TDT(q), 0);
	g->tx_next_to_use = g->tx_next_to_clean = g->tx_tail = g->tx_half = 0;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vf_wr32(vf, E1000_TXDCTL(q), E1000_XDCTL_ENABLE | E1000_RXDCTL_RESET /* WTHRESH 1 */);

	/* RX: advanced one-buffer descriptors, DROP_EN so a full ring drops. */
	v = vf_rd32(vf, E1000_RXDCTL(q));
	vf_wr32(vf, E1000_RXDCTL(q), v & ~E1000_XDCTL_ENABLE);
	vf_wr32(vf, E1000_RDBAL(q), (uint32_t)g->rx_ring);
	vf_wr32(vf, E1000_RDBAH(q), (uint32_t)(g->rx_ring >> 32));
	vf_wr32(vf, E1000_RDLEN(q), st->rx_count * E1000_DESC_SIZE);
	/* Head and tail to 0 before enabling, as Linux igbvf does: after a re-initialisation
	 * the registers still hold the previous run's indices, and an ENABLE that latched them
	 * would let the device fill descriptors the driver is not looking at. */
	vf_wr32(vf, E1000_RDH(q), 0);
	vf_wr32(vf, E1000_RDT(q), 0);
	vf_wr32(vf, E1000_SRRCTL(q), E1000_SRRCTL_DESCTYPE_ADV_ONEBUF | E1000_SRRCTL_DROP_EN |
		(st->rx_buf_kib & E1000_SRRCTL_BSIZEPKT_MASK));
	g->rx_laps = 0;
	for (uint32_t i = 0; i < st->rx_count; i++) {
		rxr[i].pkt_addr = rx_buffer(st, g, i, 0);
		rxr[i].hdr_addr = 0;
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vf_wr32(vf, E1000_RXDCTL(q), E1000_XDCTL_ENABLE | E1000_RXDCTL_RESET);
	vf_wr32(vf, E1000_RDH(q), 0);
	g->rx_next_to_clean = 0;
	g->rx_tail = st->rx_count - 1;
	vf_wr32(vf, E1000_RDT(q), g->rx_tail);
	return 0;
}

int vfmed_igbvf_rings_up(struct vfmed_vf *vf)
{
	struct vfmed_guest_state *st = vf->st;
	int rc;

	for (unsigned q = 0; q < st->queues; q++) {
		rc = queue_up(vf, q);
		if (rc)
			return rc;
	}
	st->flags = (st->flags & ~VFMED_GS_F_RX_DISCARD) | VFMED_GS_F_RINGS_UP;
	return 0;
}

void vfmed_igbvf_rings_down(struct vfmed_vf *vf)
{
	uint32_t v;

	for (unsigned q = 0; q < vf->st->queues; q++) {
		v = vf_rd32(vf, E1000_RXDCTL(q));
		vf_wr32(vf, E1000_RXDCTL(q), v & ~E1000_XDCTL_ENABLE);
		v = vf_rd32(vf, E1000_TXDCTL(q));
		vf_wr32(vf, E1000_TXDCTL(q), v & ~E1000_XDCTL_ENABLE);
	}
	vf->st->flags &= ~VFMED_GS_F_RINGS_UP;
}

/* ---- TX ----------------------------------------------------------------------------- */

static volatile struct e1000_adv_tx_desc *tx_desc(struct vfmed_vf *vf, unsigned q, uint32_t i)
{
	return (volatile struct e1000_adv_tx_desc *)vfmed_gpa(vf->ram, vf->st->q[q].tx_ring, 16) + i;
}

static uint8_t *tx_slot_buf(struct vfmed_vf *vf, unsigned q, uint32_t i)
{
	const struct vfmed_guest_state *st = vf->st;
	return vfmed_gpa(vf->ram, st->q[q].tx_bufs + (uint64_t)i * st->buf_size, st->buf_size);
}

unsigned vfmed_igbvf_tx_inflight(const struct vfmed_vf *vf, unsigned q)
{
	const struct vfmed_guest_state *st = vf->st;
	const struct vfmed_guest_queue *g = &st->q[q];
	return (g->tx_next_to_use + st->tx_count - g->tx_next_to_clean) % st->tx_count + g->tx_half;
}

unsigned vfmed_igbvf_tx_inflight_all(const struct vfmed_vf *vf)
{
	unsigned n = 0;
	for (unsigned q = 0; q < vf->st->queues; q++)
		n += vfmed_igbvf_tx_inflight(vf, q);
	return n;
}

unsigned vfmed_igbvf_tx_reclaim(struct vfmed_vf *vf, unsigned q)
{
	struct vfmed_guest_state *st = vf->st;
	struct vfmed_guest_queue *g = &st->q[q];
	unsigned n = 0;

	while (g->tx_next_to_clean != g->tx_next_to_use) {
		volatile struct e1000_adv_tx_desc *d = tx_desc(vf, q, g->tx_next_to_clean);
		if (!(d->olinfo_status & E1000_ADVTXD_STA_DD))
			break;
		g->tx_next_to_clean = (g->tx_next_to_clean + 1) % st->tx_count;
		n++;
	}
	return n;
}

/* Posts the second half of a split frame (its descriptor is already written). */
static void tx_post_half(struct vfmed_vf *vf, unsigned q)
{
	struct vfmed_guest_queue *g = &vf->st->q[q];

	if (!g->tx_half)
		return;
	g->tx_next_to_use = (g->tx_next_to_use + 1) % vf->st->tx_count;
	g->tx_half = 0;
}

uint8_t *vfmed_igbvf_tx_buf(struct vfmed_vf *vf, unsigned q)
{
	struct vfmed_guest_state *st = vf->st;
	unsigned need = st->tx_split ? 2 : 1;

	tx_post_half(vf, q);
	if (vfmed_igbvf_tx_inflight(vf, q) + need > st->tx_count - 1) {
		vfmed_igbvf_tx_reclaim(vf, q);
		if (vfmed_igbvf_tx_inflight(vf, q) + need > st->tx_count - 1) {
			st->tx_ring_full++;
			return NULL;
		}
	}
	return tx_slot_buf(vf, q, st->q[q].tx_next_to_use);
}

static void tx_write_desc(struct vfmed_vf *vf, unsigned q, uint32_t i, uint16_t len, uint16_t total,
			  uint32_t eop)
{
	volatile struct e1000_adv_tx_desc *d = tx_desc(vf, q, i);

	d->buffer_addr = vf->st->q[q].tx_bufs + (uint64_t)i * vf->st->buf_size;
	d->cmd_type_len = len | E1000_ADVTXD_DTYP_DATA | E1000_ADVTXD_DCMD_DEXT |
			  E1000_ADVTXD_DCMD_IFCS | eop | E1000_ADVTXD_DCMD_RS;
	d->olinfo_status = (uint32_t)total << E1000_ADVTXD_PAYLEN_SHIFT;
}

void vfmed_igbvf_tx_post(struct vfmed_vf *vf, unsigned q, uint16_t len)
{
	struct vfmed_guest_state *st = vf->st;
	struct vfmed_guest_queue *g = &st->q[q];
	uint32_t i = g->tx_next_to_use;

	if (st->tx_split && len >= 120) {
		/* Two descriptors, RS on both (the driver reclaims descriptor by descriptor):
		 * the first half now, the second (copied into the next slot's buffer) after the
		 * next doorbell. Between the two the device holds a partial frame. */
		uint16_t first = (uint16_t)(len / 2);
		uint32_t j = (i + 1) % st->tx_count;
		memcpy(tx_slot_buf(vf, q, j), tx_slot_buf(vf, q, i) + first, len - first);
		tx_write_desc(vf, q, i, first, len, 0);
		tx_write_desc(vf, q, j, (uint16_t)(len - first), len, E1000_ADVTXD_DCMD_EOP);
		g->tx_next_to_use = j;
		g->tx_half = 1;
	} else {
		tx_write_desc(vf, q, i, len, len, E1000_ADVTXD_DCMD_EOP);
		g->tx_next_to_use = (i + 1) % st->tx_count;
	}
	st->tx_packets++;
	st->tx_bytes += len;
}

void vfmed_igbvf_tx_doorbell(struct vfmed_vf *vf, unsigned q)
{
	struct vfmed_guest_queue *g = &vf->st->q[q];

	if (g->tx_tail == g->tx_next_to_use)
		tx_post_half(vf, q);  /* nothing new in this burst: finish the split frame */
	if (g->tx_tail == g->tx_next_to_use)
		return;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vf_wr32(vf, E1000_TDT(q), g->tx_next_to_use);
	g->tx_tail = g->tx_next_to_use;
}

/* ---- RX ----------------------------------------------------------------------------- */

unsigned vfmed_igbvf_rx_poll(struct vfmed_vf *vf, unsigned q, unsigned budget, vfmed_rx_fn fn,
			     void *ctx)
{
	struct vfmed_guest_state *st = vf->st;
	struct vfmed_guest_queue *g = &st->q[q];
	volatile uint8_t *ring = vfmed_gpa(vf->ram, g->rx_ring, (uint64_t)st->rx_count * 16);
	unsigned n = 0;

	while (n < budget) {
		uint32_t i = g->rx_next_to_clean;
		volatile struct e1000_adv_rx_desc_wb *wb =
			(volatile struct e1000_adv_rx_desc_wb *)(ring + (size_t)i * 16);
		volatile struct e1000_adv_rx_desc_read *rd =
			(volatile struct e1000_adv_rx_desc_read *)(ring + (size_t)i * 16);
		uint32_t set = st->rx_sets > 1 ? (g->rx_laps & 1) : 0;
		uint64_t buf = rx_buffer(st, g, i, set);
		uint32_t status = wb->status_error;
		uint16_t len;

		if (!(status & E1000_RXD_STAT_DD))
			break;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		len = wb->length;

		if (st->flags & VFMED_GS_F_RX_DISCARD) {
			if (status & E1000_RXD_STAT_EOP)
				st->flags &= ~VFMED_GS_F_RX_DISCARD;
		} else if (!(status & E1000_RXD_STAT_EOP)) {
			/* Frame larger than one buffer: not used by this driver, drop it whole. */
			st->flags |= VFMED_GS_F_RX_DISCARD;
			st->rx_frag_drops++;
		} else if ((status & RX_ERR_MASK) || len == 0 || len > st->buf_size) {
			st->rx_desc_errors++;
		} else {
			st->rx_packets++;
			st->rx_bytes += len;
			fn(ctx, q, vfmed_gpa(vf->ram, buf, len), len);
		}
		/* Re-arm (with the other set's buffer when reposting): the hdr_addr write clears
		 * DD (same dword as status_error). */
		rd->pkt_addr = st->rx_sets > 1 ? rx_buffer(st, g, i, set ^ 1) : buf;
		rd->hdr_addr = 0;
		g->rx_next_to_clean = (i + 1) % st->rx_count;
		if (g->rx_next_to_clean == 0)
			g->rx_laps++;
		n++;
	}
	if (n) {
		__atomic_thread_fence(__ATOMIC_RELEASE);
		g->rx_tail = (g->rx_next_to_clean + st->rx_count - 1) % st->rx_count;
		vf_wr32(vf, E1000_RDT(q), g->rx_tail);
	}
	return n;
}
