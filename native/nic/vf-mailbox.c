/* SPDX-License-Identifier: MIT */
/*
 * vf-mailbox.c - the device half of the VF<->PF mailbox: the VF's V2PMAILBOX register and
 * the transport to the PF BAR described in pf_regs.h. The device only moves words and bits;
 * every reply and every policy decision comes from the PF driver.
 *
 *   VF  V2PMAILBOX=REQ ─► copy VMBMEM → V2P_MSG(n), V2P_SEQ.req++, EVENT_SEQ++ ─► PF driver
 *   VF  V2PMAILBOX=ACK ─► V2P_SEQ.ack++, EVENT_SEQ++
 *   PF  P2V_MSG(n), P2V_DOORBELL(n) = seq<<8 | STS|ACK
 *       ─► (poll) STS: P2V_MSG → VMBMEM, PFSTS;  ACK: PFACK;  MISC interrupt;  P2V_DONE = seq
 *
 * V2PMAILBOX bits (igbvf-vf.md 3.1): REQ/ACK are commands, not stored. VFU is the VF's lock
 * (granted because the PF never holds PFU here: it has no register to take it). PFSTS,
 * PFACK and RSTD clear on read. RSTI is set while the PF driver has not signalled
 * CTRL_EXT.PFRSTD; PFRSTD 0->1 turns RSTI into RSTD (pf-device.c).
 *
 * A doorbell carrying a message (STS) is held while the VF owns the buffer (VFU), so the
 * copy never overwrites a request the VF is writing; it is delivered once VFU drops.
 */
#include <string.h>

#include "internal.h"

#define MBX_STORED (E1000_V2PMAILBOX_VFU | E1000_V2PMAILBOX_PFSTS | E1000_V2PMAILBOX_PFACK | \
                    E1000_V2PMAILBOX_RSTI | E1000_V2PMAILBOX_RSTD)

void vfmed_mbx_reset(struct vfmed_vf *vf)
{
	struct vfmed_nic *nic = vf->nic;
	uint32_t w;

	/* Reset value of the 82576 mailbox is RSTI; once the PF driver has already said
	 * "reset done" a newly enabled VF sees RSTD instead. */
	vf->mbx_bits = (nic->ctrl_ext_seen & VFPF_CTRL_EXT_PFRSTD) ? E1000_V2PMAILBOX_RSTD
	                                                           : E1000_V2PMAILBOX_RSTI;
	vf->mbx_req_pending = false;
	memset(vf->mbx_req_msg, 0, sizeof(vf->mbx_req_msg));
	for (w = 0; w < E1000_VMBMEM_WORDS; w++)
		bar_wr(vf->bar, E1000_VMBMEM(w), 0);
	/* Doorbells rung before now are history: start from the PF's current seq. */
	vf->p2v_done = bar_rd(nic->pf_bar, VFPF_P2V_DOORBELL(vf->idx)) >> VFPF_P2V_SEQ_SHIFT;
	bar_wr(nic->pf_bar, VFPF_P2V_DONE(vf->idx), vf->p2v_done);
}

uint32_t vfmed_mbx_read(struct vfmed_vf *vf)
{
	uint32_t v = vf->mbx_bits & MBX_STORED;

	vf->mbx_bits &= ~E1000_V2PMAILBOX_R2C_BITS;
	return v;
}

static void publish_seq(struct vfmed_vf *vf)
{
	bar_wr(vf->nic->pf_bar, VFPF_V2P_SEQ(vf->idx), (uint32_t)vf->v2p_ack << 16 | vf->v2p_req);
}

static void post_request(struct vfmed_vf *vf, const uint32_t *msg)
{
	struct vfmed_nic *nic = vf->nic;
	uint32_t w;

	for (w = 0; w < VFPF_MBX_WORDS; w++)
		bar_wr(nic->pf_bar, VFPF_V2P_MSG(vf->idx, w), msg[w]);
	vf->v2p_req++;
	publish_seq(vf);
	vfmed_pf_event(nic);
}

void vfmed_mbx_write(struct vfmed_vf *vf, uint32_t val)
{
	uint32_t w;

	/* VFU is taken by writing it and dropped by any write without it. */
	if (val & E1000_V2PMAILBOX_VFU)
		vf->mbx_bits |= E1000_V2PMAILBOX_VFU;
	else
		vf->mbx_bits &= ~E1000_V2PMAILBOX_VFU;
	if (val & E1000_V2PMAILBOX_REQ) {
		for (w = 0; w < VFPF_MBX_WORDS; w++)
			vf->mbx_req_msg[w] = bar_rd(vf->bar, E1000_VMBMEM(w));
		vf->mbx_req_pending = true;
		post_request(vf, vf->mbx_req_msg);
	}
	if (val & E1000_V2PMAILBOX_ACK) {
		vf->v2p_ack++;
		publish_seq(vf);
		vfmed_pf_event(vf->nic);
	}
	if ((val & (E1000_V2PMAILBOX_REQ | E1000_V2PMAILBOX_ACK)) == 0)
		return;
	/* A doorbell held back by VFU may go now. */
	vfmed_mbx_poll(vf);
}

/* After VF_LOAD on another NIC: the request the source PF never answered is posted again
 * to this NIC's PF driver, so the VF's wait for PFACK ends normally. */
void vfmed_mbx_repost(struct vfmed_vf *vf)
{
	if (vf->mbx_req_pending)
		post_request(vf, vf->mbx_req_msg);
}

int vfmed_mbx_poll(struct vfmed_vf *vf)
{
	struct vfmed_nic *nic = vf->nic;
	uint32_t db = bar_rd(nic->pf_bar, VFPF_P2V_DOORBELL(vf->idx));
	uint32_t seq = db >> VFPF_P2V_SEQ_SHIFT, w;

	if (seq == vf->p2v_done)
		return 0;
	if ((db & VFPF_P2V_STS) && (vf->mbx_bits & E1000_V2PMAILBOX_VFU))
		return 0;   /* the VF holds the buffer; deliver when it lets go */
	if (db & VFPF_P2V_STS) {
		for (w = 0; w < VFPF_MBX_WORDS; w++)
			bar_wr(vf->bar, E1000_VMBMEM(w), bar_rd(nic->pf_bar, VFPF_P2V_MSG(vf->idx, w)));
		vf->mbx_bits |= E1000_V2PMAILBOX_PFSTS;
	}
	if (db & VFPF_P2V_ACK) {
		vf->mbx_bits |= E1000_V2PMAILBOX_PFACK;
		vf->mbx_req_pending = false;
	}
	vf->p2v_done = seq;
	bar_wr(nic->pf_bar, VFPF_P2V_DONE(vf->idx), seq);
	if (db & (VFPF_P2V_STS | VFPF_P2V_ACK))
		vfmed_irq_raise_misc(vf);
	return 1;
}
