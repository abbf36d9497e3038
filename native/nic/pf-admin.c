/* SPDX-License-Identifier: MIT */
/*
 * pf-admin.c - the PF admin queue (pf_regs.h): a ring of 32-byte descriptors in PF DMA
 * memory, processed strictly in order.
 *
 *   AQ_CTRL.ENABLE 0->1  latch AQ_BAL/BAH/LEN, HEAD = 0; a ring that is not a power of two
 *                        in 8..4096 entries, not 64-byte aligned or not inside the PF DMA
 *                        maps sets AQ_STATUS.ERROR (no ENABLED) and nothing is processed.
 *   AQ_TAIL              entries HEAD..TAIL-1 are executed; a TAIL >= LEN is ignored.
 *   per entry            read the 32 bytes once; execute; write status and ret; release
 *                        barrier; flags = DONE; HEAD++.
 * The ring is re-checked against the maps for every entry, so an unmap under a live ring
 * turns into AQ_STATUS.ERROR, never a stray access.
 *
 * Command errors are positive errno values in status: ENODEV (VF index not enabled),
 * EFAULT (buffer not inside the PF DMA maps), EINVAL (bad parameter), ENOSPC (buffer too
 * small; ret = bytes needed), EBUSY (wrong state), EBADMSG/EPROTO (state blob), EOPNOTSUPP
 * (unknown opcode).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define AQ_DESC_SIZE 32u

int vfmed_dirty_start(struct vfmed_vf *vf, unsigned shift, const struct vfpf_dirty_range *r,
                      uint32_t n);
void vfmed_dirty_stop(struct vfmed_vf *vf);
int vfmed_dirty_report(struct vfmed_vf *vf, const struct vfpf_dirty_report_req *req,
                       struct vfmed_dma_space *pf_dma, uint32_t *ret);

static void aq_publish(struct vfmed_nic *nic)
{
	uint32_t s = 0;

	if (nic->aq.enabled)
		s |= VFPF_AQ_STATUS_ENABLED;
	if (nic->aq.error)
		s |= VFPF_AQ_STATUS_ERROR;
	bar_wr(nic->pf_bar, VFPF_AQ_STATUS, s);
	bar_wr(nic->pf_bar, VFPF_AQ_HEAD, nic->aq.head);
}

static void aq_latch(struct vfmed_nic *nic)
{
	struct vfmed_aq *aq = &nic->aq;
	uint64_t base = (uint64_t)bar_rd(nic->pf_bar, VFPF_AQ_BAH) << 32 |
	                bar_rd(nic->pf_bar, VFPF_AQ_BAL);
	uint32_t len = bar_rd(nic->pf_bar, VFPF_AQ_LEN);

	aq->head = 0;
	aq->base = base;
	aq->len = len;
	aq->enabled = false;
	aq->error = true;
	if (len < 8 || len > 4096 || (len & (len - 1)) || (base & 63))
		return;
	if (!vfmed_dma_ptr(&nic->pf_dma, base, (uint64_t)len * AQ_DESC_SIZE,
	                   VFMED_DMA_READ | VFMED_DMA_WRITE))
		return;
	aq->enabled = true;
	aq->error = false;
}

/* ---- buffers ------------------------------------------------------------------------- */

static int buf_out(struct vfmed_nic *nic, const struct vfpf_aq_desc *d, const void *src,
                   uint32_t n, uint32_t *ret)
{
	*ret = n;
	if (d->len < n)
		return ENOSPC;
	if (vfmed_dma_write(&nic->pf_dma, d->addr, src, n))
		return EFAULT;
	return 0;
}

static int buf_in(struct vfmed_nic *nic, const struct vfpf_aq_desc *d, void *dst, uint32_t n)
{
	if (d->len < n)
		return EINVAL;
	if (n && vfmed_dma_read(&nic->pf_dma, d->addr, dst, n))
		return EFAULT;
	return 0;
}

/* ---- commands ------------------------------------------------------------------------ */

static int cmd_get_info(struct vfmed_nic *nic, const struct vfpf_aq_desc *d, uint32_t *ret)
{
	struct vfpf_dev_info i = {
		.model_id = VFPF_MODEL_ID,
		.abi_major = VFPF_ABI_MAJOR,
		.abi_minor = VFPF_ABI_MINOR,
		.max_vfs = nic->max_vfs,
		.num_vfs = nic->num_vfs,
		.queues_per_vf = VFMED_VF_NUM_QUEUES,
		.rx_fifo_bytes = nic->rx_fifo_bytes,
		.state_version = VFMED_STATE_VERSION,
		.features = VFPF_FEAT_DIRTY_LOG | VFPF_FEAT_MULTI_DESC |
		            ((nic->flags & VFMED_NIC_F_NO_HEAD_WB) ? 0 : VFPF_FEAT_HEAD_WB),
	};

	return buf_out(nic, d, &i, sizeof(i), ret);
}

static int cmd_set_mc(struct vfmed_vf *vf, const struct vfpf_aq_desc *d)
{
	uint16_t h[VFMED_MAX_MC];
	uint32_t n = d->param0, i;
	int rc;

	if (n > VFMED_MAX_MC)
		return EINVAL;
	rc = buf_in(vf->nic, d, h, n * 2);
	if (rc)
		return rc;
	for (i = 0; i < n; i++)
		if (h[i] > 0xFFF)
			return EINVAL;
	memcpy(vf->mc_hash, h, n * 2);
	vf->mc_count = n;
	return 0;
}

static int cmd_set_vlan(struct vfmed_vf *vf, const struct vfpf_aq_desc *d)
{
	uint32_t vid = d->param0, i;

	if (vid > 4095 || d->param1 > 1)
		return EINVAL;
	for (i = 0; i < vf->vlan_count; i++)
		if (vf->vlan[i] == vid)
			break;
	if (d->param1) {
		if (i < vf->vlan_count)
			return 0;
		if (vf->vlan_count == VFMED_MAX_VLANS)
			return ENOSPC;
		vf->vlan[vf->vlan_count++] = (uint16_t)vid;
	} else if (i < vf->vlan_count) {
		vf->vlan[i] = vf->vlan[--vf->vlan_count];
	}
	return 0;
}

static int cmd_set_mac(struct vfmed_vf *vf, const struct vfpf_aq_desc *d)
{
	uint8_t m[6] = {
		(uint8_t)d->param0, (uint8_t)(d->param0 >> 8), (uint8_t)(d->param0 >> 16),
		(uint8_t)(d->param0 >> 24), (uint8_t)d->param1, (uint8_t)(d->param1 >> 8),
	};

	if ((m[0] & 1) || (d->param1 >> 16))
		return EINVAL;   /* a group address cannot be a station's RAR filter */
	memcpy(vf->mac, m, 6);
	return 0;
}

static int cmd_get_config(struct vfmed_vf *vf, const struct vfpf_aq_desc *d, uint32_t *ret)
{
	struct vfpf_vf_config c = { 0 };

	memcpy(c.mac, vf->mac, 6);
	c.enable = (uint16_t)((vf->rx_en ? VFPF_VF_EN_RX : 0) | (vf->tx_en ? VFPF_VF_EN_TX : 0));
	c.max_frame = vfmed_vf_max_frame(vf);
	c.mc_count = vf->mc_count;
	c.vlan_count = vf->vlan_count;
	c.promisc = vf->promisc;
	c.quiesced = vf->quiesced;
	return buf_out(vf->nic, d, &c, sizeof(c), ret);
}

static int cmd_stats(struct vfmed_vf *vf, const struct vfpf_aq_desc *d, uint32_t *ret)
{
	struct vfpf_vf_stats s = {
		.rx_packets = vf->st.rx_packets, .rx_bytes = vf->st.rx_bytes,
		.tx_packets = vf->st.tx_packets, .tx_bytes = vf->st.tx_bytes,
		.rx_mcast = vf->st.rx_mcast, .rx_lb_packets = vf->st.rx_lb_packets,
		.tx_lb_packets = vf->st.tx_lb_packets, .rx_lb_bytes = vf->st.rx_lb_bytes,
		.tx_lb_bytes = vf->st.tx_lb_bytes, .rx_fifo_drops = vf->st.rx_fifo_drops,
		.rx_no_desc = vf->st.rx_no_desc, .dma_errors = vf->st.dma_errors,
		.tx_errors = vf->st.tx_errors, .fifo_frames = vf->fifo.count,
		.fifo_bytes = vf->fifo.bytes,
	};

	return buf_out(vf->nic, d, &s, sizeof(s), ret);
}

static bool vf_fresh(const struct vfmed_vf *vf)
{
	uint32_t q;

	for (q = 0; q < VFMED_VF_NUM_QUEUES; q++)
		if (vf->rxq[q].enabled || vf->txq[q].enabled)
			return false;
	return vf->fifo.count == 0;
}

static int cmd_save(struct vfmed_vf *vf, const struct vfpf_aq_desc *d, uint32_t *ret)
{
	uint32_t need, n = 0;
	uint8_t *b;
	int rc;

	if (!vf->quiesced)
		return EBUSY;
	/* Deliver a PF reply already rung, so no mailbox word is in flight in the PF BAR. */
	vfmed_mbx_poll(vf);
	need = vfmed_vf_state_size(vf);
	*ret = need;
	if (d->len < need)
		return ENOSPC;
	if (vfmed_dma_check(&vf->nic->pf_dma, d->addr, need, VFMED_DMA_WRITE))
		return EFAULT;
	b = malloc(need);
	if (!b)
		return ENOMEM;
	rc = vfmed_vf_state_save(vf, b, need, &n);
	if (!rc)
		rc = vfmed_dma_write(&vf->nic->pf_dma, d->addr, b, n) ? EFAULT : 0;
	free(b);
	if (rc)
		return rc < 0 ? -rc : rc;
	*ret = n;
	vf->sealed = true;   /* frames arriving from now on would not be in the blob */
	return 0;
}

static int cmd_load(struct vfmed_vf *vf, const struct vfpf_aq_desc *d)
{
	uint8_t *b;
	int rc;

	if (!vf->quiesced && !vf_fresh(vf))
		return EBUSY;
	if (!d->len || d->len > (64u << 20))
		return EBADMSG;
	b = malloc(d->len);
	if (!b)
		return ENOMEM;
	if (vfmed_dma_read(&vf->nic->pf_dma, d->addr, b, d->len)) {
		free(b);
		return EFAULT;
	}
	rc = vfmed_vf_state_load(vf, b, d->len);
	free(b);
	return rc < 0 ? -rc : rc;
}

static int cmd_dirty_start(struct vfmed_vf *vf, const struct vfpf_aq_desc *d)
{
	struct vfpf_dirty_range r[VFPF_DIRTY_MAX_RANGES];
	uint32_t n;
	int rc;

	if (d->param0 < 12 || d->param0 > 21)
		return EINVAL;
	if (!d->len || d->len % sizeof(r[0]) || d->len / sizeof(r[0]) > VFPF_DIRTY_MAX_RANGES)
		return EINVAL;
	n = d->len / sizeof(r[0]);
	rc = buf_in(vf->nic, d, r, d->len);
	if (rc)
		return rc;
	rc = vfmed_dirty_start(vf, d->param0, r, n);
	return rc < 0 ? -rc : rc;
}

static int cmd_dirty_report(struct vfmed_vf *vf, const struct vfpf_aq_desc *d, uint32_t *ret)
{
	struct vfpf_dirty_report_req req;
	int rc = buf_in(vf->nic, d, &req, sizeof(req));

	if (rc)
		return rc;
	rc = vfmed_dirty_report(vf, &req, &vf->nic->pf_dma, ret);
	return rc < 0 ? -rc : rc;
}

static int aq_exec(struct vfmed_nic *nic, const struct vfpf_aq_desc *d, uint32_t *ret)
{
	struct vfmed_vf *vf = NULL;

	*ret = 0;
	switch (d->opcode) {
	case VFPF_AQC_GET_INFO:
		return cmd_get_info(nic, d, ret);
	case VFPF_AQC_SRIOV_ENABLE:
		return -vfmed_pf_sriov_set(nic, d->param0);
	case VFPF_AQC_VF_ENABLE: case VFPF_AQC_VF_SET_MAC: case VFPF_AQC_VF_SET_MC:
	case VFPF_AQC_VF_SET_VLAN: case VFPF_AQC_VF_SET_LPE: case VFPF_AQC_VF_SET_PROMISC:
	case VFPF_AQC_VF_GET_CONFIG: case VFPF_AQC_VF_RESET: case VFPF_AQC_VF_QUIESCE:
	case VFPF_AQC_VF_RESUME: case VFPF_AQC_VF_STATE_SIZE: case VFPF_AQC_VF_SAVE:
	case VFPF_AQC_VF_LOAD: case VFPF_AQC_DIRTY_START: case VFPF_AQC_DIRTY_STOP:
	case VFPF_AQC_DIRTY_REPORT: case VFPF_AQC_VF_STATS:
		if (d->vf >= nic->num_vfs)
			return ENODEV;
		vf = &nic->vf[d->vf];
		break;
	default:
		return EOPNOTSUPP;
	}

	switch (d->opcode) {
	case VFPF_AQC_VF_ENABLE:
		if (d->param0 & ~(VFPF_VF_EN_RX | VFPF_VF_EN_TX))
			return EINVAL;
		vf->rx_en = d->param0 & VFPF_VF_EN_RX;
		vf->tx_en = d->param0 & VFPF_VF_EN_TX;
		return 0;
	case VFPF_AQC_VF_SET_MAC:
		return cmd_set_mac(vf, d);
	case VFPF_AQC_VF_SET_MC:
		return cmd_set_mc(vf, d);
	case VFPF_AQC_VF_SET_VLAN:
		return cmd_set_vlan(vf, d);
	case VFPF_AQC_VF_SET_LPE:
		if (d->param0 < 64 || d->param0 > VFMED_FRAME_MAX)
			return EINVAL;
		vf->max_frame = d->param0;
		return 0;
	case VFPF_AQC_VF_SET_PROMISC:
		if (d->param0 & ~VFPF_PROMISC_MC)
			return EINVAL;
		vf->promisc = d->param0;
		return 0;
	case VFPF_AQC_VF_GET_CONFIG:
		return cmd_get_config(vf, d, ret);
	case VFPF_AQC_VF_RESET:
		vfmed_vf_full_reset(vf, true);
		return 0;
	case VFPF_AQC_VF_QUIESCE:
		vf->quiesced = true;
		return 0;
	case VFPF_AQC_VF_RESUME:
		vf->quiesced = false;
		vf->sealed = false;
		vfmed_vf_process(vf);   /* act on doorbells latched while quiesced */
		return 0;
	case VFPF_AQC_VF_STATE_SIZE:
		*ret = vfmed_vf_state_size(vf);
		return 0;
	case VFPF_AQC_VF_SAVE:
		return cmd_save(vf, d, ret);
	case VFPF_AQC_VF_LOAD:
		return cmd_load(vf, d);
	case VFPF_AQC_DIRTY_START:
		return cmd_dirty_start(vf, d);
	case VFPF_AQC_DIRTY_STOP:
		vfmed_dirty_stop(vf);
		return 0;
	case VFPF_AQC_DIRTY_REPORT:
		return cmd_dirty_report(vf, d, ret);
	case VFPF_AQC_VF_STATS:
		return cmd_stats(vf, d, ret);
	}
	return EOPNOTSUPP;
}

int vfmed_pf_admin_poll(struct vfmed_nic *nic)
{
	struct vfmed_aq *aq = &nic->aq;
	uint32_t ctrl = bar_rd(nic->pf_bar, VFPF_AQ_CTRL), tail;
	int work = 0;

	if ((ctrl ^ aq->last_ctrl) & VFPF_AQ_CTRL_ENABLE) {
		aq->last_ctrl = ctrl;
		if (ctrl & VFPF_AQ_CTRL_ENABLE) {
			aq_latch(nic);
		} else {
			aq->enabled = false;
			aq->error = false;
			aq->head = 0;
		}
		aq_publish(nic);
		work++;
	}
	if (!aq->enabled)
		return work;
	tail = bar_rd(nic->pf_bar, VFPF_AQ_TAIL);
	if (tail >= aq->len)
		return work;
	while (aq->head != tail) {
		uint64_t a = aq->base + (uint64_t)aq->head * AQ_DESC_SIZE;
		uint8_t *p = vfmed_dma_ptr(&nic->pf_dma, a, AQ_DESC_SIZE,
		                           VFMED_DMA_READ | VFMED_DMA_WRITE);
		struct vfpf_aq_desc d;
		uint32_t ret;
		int st;

		if (!p) {
			aq->enabled = false;
			aq->error = true;
			break;
		}
		memcpy(&d, p, sizeof(d));
		st = aq_exec(nic, &d, &ret);
		if (st < 0)
			st = -st;
		/* aq_exec may have moved PF DMA maps? It cannot: maps change only through the
		 * API, which needs the lock we hold. p is still valid. */
		memcpy(p + offsetof(struct vfpf_aq_desc, status), &(uint16_t){ (uint16_t)st }, 2);
		memcpy(p + offsetof(struct vfpf_aq_desc, ret), &ret, 4);
		__atomic_store_n((uint16_t *)(p + offsetof(struct vfpf_aq_desc, flags)),
		                 (uint16_t)VFPF_AQ_F_DONE, __ATOMIC_RELEASE);
		aq->head = (aq->head + 1) % aq->len;
		work++;
	}
	aq_publish(nic);
	return work;
}
