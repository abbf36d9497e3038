// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * vfpf_mbx.c - the PF side of the VF mailboxes (transport) and the service routine that
 * turns the device's event sequence counters into work for the policy (vfpf_policy.c).
 *
 * Transport, per VF n (pf_regs.h):
 *
 *   VF -> PF:  the device copies the VF's VMBMEM into V2P_MSG(n) and bumps the request
 *              count in V2P_SEQ(n) (ACKs bump the ack count), then EVENT_SEQ.
 *   PF -> VF:  the driver writes P2V_MSG(n), then P2V_DOORBELL(n) = seq << 8 | flags
 *              (STS: copy the message and set PFSTS; ACK: set PFACK). The device writes
 *              seq into P2V_DONE(n) once it acted on it.
 *
 * Only the latest doorbell is visible to the device, so a new message is written only
 * after P2V_DONE caught up with the previous seq (bounded wait, -ETIMEDOUT).
 *
 * Every counter is compared with the value last consumed, never cleared, so nothing is
 * lost between polls and nothing is handled twice; the service reads EVENT_SEQ before the
 * per-VF counters so an event racing with the scan is seen again at the next call.
 */
#include "vfpf_priv.h"

#define VFPF_P2V_SEQ_MASK 0xFFFFFFu

int vfpf_mbx_post(struct vfpf_dev *dev, uint32_t vf, const uint32_t *words, uint32_t n,
		  uint32_t flags)
{
	struct vfpf_vf *v = &dev->vfs[vf];
	uint64_t deadline = vfpf_time_us() + VFPF_MBX_TIMEOUT_US;
	uint32_t iter = 0, i, seq;

	if (n > VFPF_MBX_WORDS)
		return -EINVAL;
	while ((vfpf_rd32(dev->bar, VFPF_P2V_DONE(vf)) & VFPF_P2V_SEQ_MASK) != v->p2v_seq) {
		if (vfpf_time_us() > deadline) {
			vfpf_warn(dev, "VF %u: previous mailbox doorbell not consumed\n", vf);
			return -ETIMEDOUT;
		}
		vfpf_poll_pause(&iter);
	}
	for (i = 0; i < n; i++)
		vfpf_wr32(dev->bar, VFPF_P2V_MSG(vf, i), words[i]);
	seq = (v->p2v_seq + 1) & VFPF_P2V_SEQ_MASK;
	vfpf_wr32(dev->bar, VFPF_P2V_DOORBELL(vf), seq << VFPF_P2V_SEQ_SHIFT | flags);
	v->p2v_seq = seq;
	return 0;
}

/* Consume whatever the counters of @vf say now: used when a VF (re)appears. */
void vfpf_mbx_snapshot(struct vfpf_dev *dev, uint32_t vf)
{
	struct vfpf_vf *v = &dev->vfs[vf];
	uint32_t seq = vfpf_rd32(dev->bar, VFPF_V2P_SEQ(vf));

	v->reset_seq = vfpf_rd32(dev->bar, VFPF_VF_RESET_SEQ(vf));
	v->req_seen = VFPF_V2P_REQ_COUNT(seq);
	v->ack_seen = VFPF_V2P_ACK_COUNT(seq);
	/* Continue the doorbell sequence where the BAR says it is (driver reload). */
	v->p2v_seq = (vfpf_rd32(dev->bar, VFPF_P2V_DOORBELL(vf)) >> VFPF_P2V_SEQ_SHIFT) &
		     VFPF_P2V_SEQ_MASK;
}

/* Caller holds cfg_lock. Returns the number of events handled for @vf. */
static int vfpf_mbx_service_vf(struct vfpf_dev *dev, uint32_t vf)
{
	struct vfpf_vf *v = &dev->vfs[vf];
	uint32_t msg[VFPF_MBX_WORDS];
	uint32_t rst, seq, i;
	uint16_t req, ack;
	int n = 0;

	/* A reset first: a request posted after it belongs to the new incarnation. */
	rst = vfpf_rd32(dev->bar, VFPF_VF_RESET_SEQ(vf));
	if (rst != v->reset_seq) {
		v->reset_seq = rst;
		vfpf_policy_reset_event(dev, vf);
		n++;
	}

	seq = vfpf_rd32(dev->bar, VFPF_V2P_SEQ(vf));
	ack = VFPF_V2P_ACK_COUNT(seq);
	req = VFPF_V2P_REQ_COUNT(seq);
	if (ack != v->ack_seen) {
		v->vf_acks += (uint16_t)(ack - v->ack_seen);
		v->ack_seen = ack;
		n++;
	}
	if (req != v->req_seen) {
		if ((uint16_t)(req - v->req_seen) > 1)
			vfpf_dbg(dev, "VF %u: %u requests coalesced, serving the latest\n",
				 vf, (uint16_t)(req - v->req_seen));
		v->req_seen = req;
		/* V2P_MSG was written before the count moved; BAR reads are ordered. */
		for (i = 0; i < VFPF_MBX_WORDS; i++)
			msg[i] = vfpf_rd32(dev->bar, VFPF_V2P_MSG(vf, i));
		vfpf_policy_handle(dev, vf, msg);
		n++;
	}
	return n;
}

int vfpf_service(struct vfpf_dev *dev)
{
	uint32_t ev, vf;
	bool lu;
	int n = 0;

	vfpf_lock(&dev->cfg_lock);
	if (!dev->ready) {
		n = -ENODEV;
		goto out;
	}
	if (vfpf_rd32(dev->bar, VFPF_MAGIC_REG) != VFPF_MAGIC) {
		vfpf_err(dev, "device lost its magic: reset or gone\n");
		n = -ENODEV;
		goto out;
	}

	lu = !!(vfpf_rd32(dev->bar, VFPF_STATUS) & VFPF_STATUS_LU);
	if (lu != dev->link_up) {
		dev->link_up = lu;
		vfpf_info(dev, "link %s\n", lu ? "up" : "down");
		for (vf = 0; vf < dev->num_vfs; vf++)
			if (vfpf_policy_ping(dev, vf))
				dev->vfs[vf].errors++;
		n++;
	}

	ev = vfpf_rd32(dev->bar, VFPF_EVENT_SEQ);
	if (ev == dev->event_seq)
		goto out;
	dev->event_seq = ev;
	for (vf = 0; vf < dev->num_vfs; vf++)
		n += vfpf_mbx_service_vf(dev, vf);
out:
	vfpf_unlock(&dev->cfg_lock);
	return n;
}
