/* SPDX-License-Identifier: MIT */
/*
 * vf-tx.c - transmit DMA: walks TDH..TDT of each enabled TX queue (VFTE set, not quiesced).
 *
 *   context descriptor (DEXT, DTYP 2)  stored in slot (mss_l4len_idx >> 4) & 1, consumed;
 *   data descriptor    (DEXT, DTYP 3)  buffer gathered into the queue's partial frame;
 *                                      on EOP the frame goes to the switch;
 *   anything else (legacy DEXT = 0)    not supported by igbvf/DPDK: counted in tx_errors,
 *                                      the partial frame is dropped, the slot consumed.
 *   RS  -> head write-back to {TDWBAH, TDWBAL & ~3} when TDWBAL bit 0 is set (the new TDH,
 *          no DD), else DD in olinfo_status (release store).
 * A fault stops the queue (vfmed_queue_fault): zero DTALEN or a frame over the VF's max
 * frame = DESC_LEN, buffer outside the maps = DESC_ADDR, head write-back target = WRITEBACK.
 *
 * Backpressure: when the switch reports a full lossless destination (another VF's FIFO),
 * the EOP descriptor is NOT consumed: TDH stays on it, the fragments before it stay in the
 * partial frame, and the same descriptor is retried on the next pass.
 *
 * Offloads of the first descriptor's POPTS, using its context slot (olinfo IDX):
 * IXSM = IPv4 header checksum, TXSM = TCP/UDP checksum (pseudo header computed by the
 * device, as QEMU does), VLE = insert an 802.1Q tag from the context's VLAN field. TSO
 * (TSE) and SCTP CRC are not modelled: a TSE frame is dropped and counted in tx_errors.
 */
#include <string.h>

#include "internal.h"

#define POPTS_IXSM  (1u << 8)
#define POPTS_TXSM  (1u << 9)
#define TUCMD_IPV4  0x400u
#define TUCMD_L4T   0x1800u
#define TUCMD_TCP   0x800u
#define TUCMD_UDP   0x000u

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t n)
{
	uint32_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Checksum insertion in place; silently skipped when the offsets do not fit the frame
 * (hardware would produce garbage; we must never write outside the frame). */
static void tx_checksums(uint8_t *f, uint32_t len, const uint8_t *ctx, uint32_t popts)
{
	uint32_t vml = le32(ctx), tucmd = le32(ctx + 8);
	uint32_t maclen = (vml >> 9) & 0x7F, iplen = vml & 0x1FF, l4 = maclen + iplen;

	if (!iplen || l4 > len)
		return;
	if ((popts & POPTS_IXSM) && (tucmd & TUCMD_IPV4) && iplen >= 20) {
		put16(f + maclen + 10, 0);
		put16(f + maclen + 10, csum_fold(csum_add(0, f + maclen, iplen)));
	}
	if (popts & POPTS_TXSM) {
		uint32_t l4t = tucmd & TUCMD_L4T, coff, sum = 0, l4len = len - l4, proto;

		if (l4t == TUCMD_TCP) {
			coff = 16;
			proto = 6;
		} else if (l4t == TUCMD_UDP) {
			coff = 6;
			proto = 17;
		} else {
			return;   /* SCTP CRC32c: not modelled */
		}
		if (l4len < coff + 2)
			return;
		if (tucmd & TUCMD_IPV4) {
			if (iplen < 20)
				return;
			sum = csum_add(sum, f + maclen + 12, 8);
		} else {
			if (iplen < 40)
				return;
			sum = csum_add(sum, f + maclen + 8, 32);
		}
		sum += proto + (l4len & 0xFFFF) + (l4len >> 16);
		put16(f + l4 + coff, 0);
		sum = csum_add(sum, f + l4, l4len);
		{
			uint16_t c = csum_fold(sum);

			if (proto == 17 && c == 0)
				c = 0xFFFF;   /* UDP: 0 means "no checksum" */
			put16(f + l4 + coff, c);
		}
	}
}

/* Build the outgoing frame (offloads) and hand it to the switch. 0 sent or dropped,
 * VFMED_SW_STALL when a lossless destination is full. */
static int tx_frame(struct vfmed_vf *vf, struct vfmed_tx_partial *p, uint32_t len)
{
	static __thread uint8_t out[VFMED_FRAME_MAX + 8];
	uint32_t popts = p->first_olinfo & (POPTS_IXSM | POPTS_TXSM);
	uint32_t slot = (p->first_olinfo >> 4) & 1, olen = len;
	const uint8_t *ctx = (p->ctx_valid & (1u << slot)) ? p->ctx[slot] : NULL;
	int rc;

	if (len < VFMED_FRAME_MIN || (p->first_cmd & E1000_ADVTXD_DCMD_TSE)) {
		vf->st.tx_errors++;
		return 0;
	}
	memcpy(out, p->buf, len);
	if (ctx && popts)
		tx_checksums(out, len, ctx, popts);
	if ((p->first_cmd & E1000_ADVTXD_DCMD_VLE) && ctx) {
		uint16_t tci = (uint16_t)(le32(ctx) >> 16);

		memmove(out + 16, out + 12, len - 12);
		out[12] = 0x81;
		out[13] = 0x00;
		put16(out + 14, tci);
		olen += 4;
	}
	rc = vfmed_switch_from_vf(vf->nic, vf, out, olen);
	if (rc == VFMED_SW_STALL)
		return rc;
	vf->st.tx_packets++;
	vf->st.tx_bytes += olen;
	vfmed_vf_stat_add(vf, E1000_VFGPTC, 1);
	vfmed_vf_stat_add(vf, E1000_VFGOTC, olen + 4);
	return 0;
}

/* RS completion. Returns false when the queue faulted. */
static bool tx_writeback(struct vfmed_vf *vf, struct vfmed_queue *q, uint8_t *dp, uint32_t idx,
                         uint32_t olinfo, uint32_t new_head)
{
	uint32_t wbal = bar_rd(vf->bar, E1000_TDWBAL(q->idx));

	if ((wbal & E1000_TDWBAL_ENABLE) && !(vf->nic->flags & VFMED_NIC_F_NO_HEAD_WB)) {
		uint64_t a = (uint64_t)bar_rd(vf->bar, E1000_TDWBAH(q->idx)) << 32 | (wbal & ~3u);
		uint32_t h = new_head;

		if (vfmed_dma_write(&vf->dma, a, &h, 4)) {
			vfmed_queue_fault(vf, q, VFMED_QERR_WRITEBACK);
			return false;
		}
		return true;
	}
	__atomic_store_n((uint32_t *)(dp + 12), olinfo | E1000_ADVTXD_STA_DD, __ATOMIC_RELEASE);
	vfmed_dma_mark(&vf->dma, q->base + (uint64_t)idx * E1000_DESC_SIZE, E1000_DESC_SIZE);
	return true;
}

static int tx_queue(struct vfmed_vf *vf, struct vfmed_queue *q)
{
	struct vfmed_tx_partial *p = q->tx;
	uint32_t tail = vfmed_queue_tail(vf, q), done = 0, maxf = vfmed_vf_max_frame(vf);
	uint8_t *ring;

	if (q->head == tail)
		return 0;
	ring = vfmed_queue_ring(vf, q, VFMED_DMA_READ | VFMED_DMA_WRITE);
	if (!ring)
		return 1;
	while (q->enabled && q->head != tail) {
		uint32_t idx = q->head, nh = (idx + 1) % q->count, cmd, olinfo, dlen;
		uint8_t *dp = ring + (size_t)idx * E1000_DESC_SIZE;
		struct e1000_adv_tx_desc d;

		memcpy(&d, dp, sizeof(d));
		cmd = d.cmd_type_len;
		olinfo = d.olinfo_status;
		if ((cmd & E1000_ADVTXD_DCMD_DEXT) &&
		    (cmd & E1000_ADVTXD_DTYP_MASK) == E1000_ADVTXD_DTYP_CTXT) {
			uint32_t slot = (le32(dp + 12) >> 4) & 1;

			memcpy(p->ctx[slot], &d, 16);
			p->ctx_valid |= (uint8_t)(1u << slot);
		} else if ((cmd & E1000_ADVTXD_DCMD_DEXT) &&
		           (cmd & E1000_ADVTXD_DTYP_MASK) == E1000_ADVTXD_DTYP_DATA) {
			dlen = cmd & E1000_ADVTXD_DTALEN_MASK;
			if (!dlen || p->len + dlen > maxf) {
				vfmed_queue_fault(vf, q, VFMED_QERR_DESC_LEN);
				break;
			}
			if (vfmed_dma_read(&vf->dma, d.buffer_addr, p->buf + p->len, dlen)) {
				vfmed_queue_fault(vf, q, VFMED_QERR_DESC_ADDR);
				break;
			}
			if (!p->ndesc) {
				p->first_cmd = cmd;
				p->first_olinfo = olinfo;
			}
			if (cmd & E1000_ADVTXD_DCMD_EOP) {
				if (tx_frame(vf, p, p->len + dlen) == VFMED_SW_STALL) {
					/* Not consumed: retried from this descriptor. */
					q->stalled = 1;
					break;
				}
				p->len = 0;
				p->ndesc = 0;
			} else {
				p->len += dlen;
				p->ndesc++;
			}
		} else {
			vf->st.tx_errors++;
			p->len = 0;
			p->ndesc = 0;
		}
		q->stalled = 0;
		if ((cmd & E1000_ADVTXD_DCMD_RS) && !tx_writeback(vf, q, dp, idx, olinfo, nh))
			break;
		vfmed_queue_set_head(vf, q, nh);
		done++;
	}
	if (done)
		vfmed_irq_raise_queue(vf, true, q->idx);
	return (int)done;
}

int vfmed_vf_tx_process(struct vfmed_vf *vf)
{
	uint32_t i;
	int work = 0;

	if (!vf->sriov_enabled || vf->quiesced || !vf->tx_en)
		return 0;
	for (i = 0; i < VFMED_VF_NUM_QUEUES; i++)
		if (vf->txq[i].enabled)
			work += tx_queue(vf, &vf->txq[i]);
	return work;
}
