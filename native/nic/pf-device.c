/* SPDX-License-Identifier: MIT */
/*
 * pf-device.c - the emulated PF as its driver sees it: the PF BAR (pf_regs.h) in shared
 * memory, polled by the device loop. Identification registers, STATUS (link, IOV, NumVFs),
 * HEARTBEAT, the PF reset handshake (CTRL_EXT.PFRSTD -> every VF mailbox RSTI => RSTD), the
 * event sequence counter + eventfd, SR-IOV enable, and the admin-queue latch.
 *
 * Every register has one writer (pf_regs.h): this file writes only the H registers and only
 * reads the D ones, so the BAR can be a plain ivshmem window with no read side effects.
 */
#include <errno.h>
#include <unistd.h>

#include "internal.h"

#define PF_LINK_STATUS (E1000_STATUS_FD | E1000_STATUS_LU | E1000_STATUS_SPEED_1000)

uint32_t vfmed_pf_status(struct vfmed_nic *nic)
{
	uint32_t s = PF_LINK_STATUS;

	if (nic->num_vfs)
		s |= VFPF_STATUS_IOV | (nic->num_vfs & 0xF) << VFPF_STATUS_NUMVFS_SHIFT;
	return s;
}

static void publish_status(struct vfmed_nic *nic)
{
	bar_wr(nic->pf_bar, VFPF_STATUS, vfmed_pf_status(nic));
}

int vfmed_pf_device_init(struct vfmed_nic *nic)
{
	volatile uint32_t *b = nic->pf_bar;

	bar_wr(b, VFPF_ABI_VERSION, VFPF_ABI_MAJOR << 16 | VFPF_ABI_MINOR);
	bar_wr(b, VFPF_MODEL, VFPF_MODEL_ID);
	bar_wr(b, VFPF_CAPS, nic->max_vfs | VFMED_VF_NUM_QUEUES << 8 | VFPF_CAPS_DIRTY_LOG);
	publish_status(nic);
	bar_wr(b, VFPF_HEARTBEAT, 0);
	bar_wr(b, VFPF_EVENT_SEQ, 0);
	bar_wr(b, VFPF_AQ_HEAD, 0);
	bar_wr(b, VFPF_AQ_STATUS, 0);
	/* Magic last: a driver polling for it sees a fully initialised BAR. */
	bar_wr(b, VFPF_MAGIC_REG, VFPF_MAGIC);
	return 0;
}

void vfmed_pf_event(struct vfmed_nic *nic)
{
	uint64_t one = 1;

	nic->event_seq++;
	bar_wr(nic->pf_bar, VFPF_EVENT_SEQ, nic->event_seq);
	if (nic->pf_event_fd >= 0 && write(nic->pf_event_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: counter saturated; the driver is signalled already */
	}
}

/* PF driver reset handshake: PFRSTD 0->1 ends "PF reset in progress" for every VF;
 * 1->0 (driver unloaded / resetting) puts every VF back into RSTI. */
static int pf_ctrl_ext_poll(struct vfmed_nic *nic)
{
	uint32_t v = bar_rd(nic->pf_bar, VFPF_CTRL_EXT), changed = v ^ nic->ctrl_ext_seen, i;

	if (!(changed & VFPF_CTRL_EXT_PFRSTD))
		return 0;
	nic->ctrl_ext_seen = v;
	for (i = 0; i < nic->max_vfs; i++) {
		struct vfmed_vf *vf = &nic->vf[i];

		if (v & VFPF_CTRL_EXT_PFRSTD) {
			if (vf->mbx_bits & E1000_V2PMAILBOX_RSTI) {
				vf->mbx_bits &= ~E1000_V2PMAILBOX_RSTI;
				vf->mbx_bits |= E1000_V2PMAILBOX_RSTD;
				if (vf->sriov_enabled)
					vfmed_irq_raise_misc(vf);
			}
		} else {
			vf->mbx_bits |= E1000_V2PMAILBOX_RSTI;
			vf->mbx_bits &= ~E1000_V2PMAILBOX_RSTD;
		}
	}
	return 1;
}

int vfmed_pf_sriov_set(struct vfmed_nic *nic, uint32_t num)
{
	uint32_t i;

	if (num > nic->max_vfs)
		return -EINVAL;
	/* Like Linux's sriov_numvfs: changing a non-zero count needs a disable first. */
	if (num && nic->num_vfs && num != nic->num_vfs)
		return -EBUSY;
	if (num == nic->num_vfs)
		return 0;
	for (i = 0; i < nic->max_vfs; i++) {
		struct vfmed_vf *vf = &nic->vf[i];
		bool en = i < num;

		if (en == vf->sriov_enabled)
			continue;
		/* Both directions start from a function-level reset of the VF. */
		vfmed_vf_full_reset(vf, false);
		vf->sriov_enabled = en;
	}
	nic->num_vfs = num;
	publish_status(nic);
	return 0;
}

int vfmed_pf_device_poll(struct vfmed_nic *nic)
{
	int work = 0;

	nic->heartbeat++;
	bar_wr(nic->pf_bar, VFPF_HEARTBEAT, nic->heartbeat);
	work += pf_ctrl_ext_poll(nic);
	work += vfmed_pf_admin_poll(nic);
	return work;
}
