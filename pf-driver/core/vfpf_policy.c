// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * vfpf_policy.c - what the PF answers to its VFs: the Linux igb PF's mailbox policy
 * (igbvf-vf.md 3.2 and 3.4), applied to the device through admin commands.
 *
 *   message (word 0)           VF not yet reset       VF clear to send (CTS)
 *   -------------------------  ---------------------  ----------------------------------
 *   ACK/NACK bit already set   ignored (stale echo; only PFACK so the VF's write ends)
 *   VF_RESET                   clear filters, install the permanent MAC, enable RX/TX,
 *                              mark CTS, reply 3 words: ACK|1, MAC lo, MAC hi (no CTS);
 *                              NACK|1 with a zero MAC when none is assigned
 *   SET_MAC_ADDR               NACK (no CTS)          ACK|CTS; NACK|CTS if the admin
 *                                                     fixed another MAC or it is invalid
 *   SET_MULTICAST (<= 30)      NACK                   ACK|CTS; NACK|CTS above 30 hashes
 *   SET_VLAN / SET_LPE         NACK                   ACK|CTS, NACK|CTS on a bad VID/size
 *   SET_PROMISC (MC only)      NACK                   ACK|CTS; NACK|CTS for unicast
 *   anything else              NACK                   NACK|CTS
 *
 * Replies are the request's 16 words with word 0 replaced (the rest of VMBMEM keeps what
 * the VF wrote, as on igb), posted with STS|ACK. Deviations from igb, on purpose:
 *  - the pre-reset NACK is not rate-limited to one per 2 s: replies stay deterministic,
 *    and a VF can send at most one request per PFACK anyway;
 *  - more than 30 multicast hashes are NACKed rather than silently truncated;
 *  - SET_MAC_ADDR with a MSGINFO (unicast filter list of newer igbvf) is NACKed: the
 *    device has one unicast filter per VF.
 * A VF reset (CTRL.RST, seen through VF_RESET_SEQ) clears CTS and the VF's filters, as
 * igb_vf_reset_event() does; RX/TX stay off (the device disabled them) until VF_RESET.
 */
#include "vfpf_priv.h"

#define VFPF_MSG_ID(w)    ((w) & 0xFFFFu)
#define VFPF_MSG_INFO(w)  (((w) & E1000_VT_MSGINFO_MASK) >> E1000_VT_MSGINFO_SHIFT)

/* Driver or device trouble, as opposed to a request the policy refuses. */
static bool vfpf_is_fault(int rc)
{
	return rc == -ETIMEDOUT || rc == -EIO || rc == -ENOMEM || rc == -ENODEV;
}

static void vfpf_reply(struct vfpf_dev *dev, uint32_t vf, const uint32_t *msg, uint32_t w0)
{
	uint32_t out[VFPF_MBX_WORDS];

	memcpy(out, msg, sizeof(out));
	out[0] = w0;
	if (vfpf_mbx_post(dev, vf, out, VFPF_MBX_WORDS, VFPF_P2V_STS | VFPF_P2V_ACK))
		dev->vfs[vf].errors++;
}

static void vfpf_handle_vf_reset(struct vfpf_dev *dev, uint32_t vf, const uint32_t *msg)
{
	struct vfpf_vf *v = &dev->vfs[vf];
	uint32_t out[VFPF_MBX_WORDS];
	bool have_mac = !vfpf_mac_is_zero(v->perm_mac);
	int rc;

	v->cts = false;
	rc = vfpf_vf_clear_filters(dev, vf);
	if (!rc && have_mac)
		rc = vfpf_vf_install_mac(dev, vf, v->perm_mac);
	if (!rc)
		rc = vfpf_aq_simple(dev, VFPF_AQC_VF_ENABLE, vf, VFPF_VF_EN_RX | VFPF_VF_EN_TX, 0,
				    NULL, 0, NULL, 0, NULL);

	memcpy(out, msg, sizeof(out));
	if (rc) {
		vfpf_err(dev, "VF %u: VF_RESET failed: %d\n", vf, rc);
		v->errors++;
		have_mac = false;
	} else {
		v->cts = true;
	}
	if (have_mac) {
		out[0] = E1000_VF_RESET | E1000_VT_MSGTYPE_ACK;
		out[1] = vfpf_mac_lo(v->perm_mac);
		out[2] = vfpf_mac_hi(v->perm_mac);
	} else {
		out[0] = E1000_VF_RESET | E1000_VT_MSGTYPE_NACK;
		out[1] = 0;
		out[2] = 0;
		v->nacks++;
	}
	if (vfpf_mbx_post(dev, vf, out, VFPF_MBX_WORDS, VFPF_P2V_STS | VFPF_P2V_ACK))
		v->errors++;
}

static int vfpf_handle_set_mac(struct vfpf_dev *dev, uint32_t vf, const uint32_t *msg)
{
	struct vfpf_vf *v = &dev->vfs[vf];
	uint8_t mac[6];

	if (VFPF_MSG_INFO(msg[0]))
		return -EOPNOTSUPP;
	vfpf_mac_from_words(mac, msg[1], msg[2]);
	if (v->mac_admin) {
		if (!memcmp(mac, v->mac, 6))
			return 0;
		vfpf_warn(dev, "VF %u tried to change its administratively set MAC\n", vf);
		return -EPERM;
	}
	if (!vfpf_mac_is_valid(mac))
		return -EINVAL;
	return vfpf_vf_install_mac(dev, vf, mac);
}

static int vfpf_handle_set_mc(struct vfpf_dev *dev, uint32_t vf, const uint32_t *msg)
{
	struct vfpf_vf *v = &dev->vfs[vf];
	uint16_t hashes[VFPF_MC_MAX];
	uint32_t count = VFPF_MSG_INFO(msg[0]), i, w;
	int rc;

	if (count > VFPF_MC_MAX)
		return -EINVAL;
	for (i = 0; i < count; i++) {
		w = msg[1 + i / 2];
		hashes[i] = (uint16_t)((i & 1 ? w >> 16 : w) & 0xFFF);
	}
	rc = vfpf_aq_simple(dev, VFPF_AQC_VF_SET_MC, vf, count, 0, hashes,
			    count * sizeof(uint16_t), NULL, 0, NULL);
	if (rc)
		return rc;
	v->mc_count = count;
	memset(v->mc_hashes, 0, sizeof(v->mc_hashes));
	memcpy(v->mc_hashes, hashes, count * sizeof(uint16_t));
	return 0;
}

static int vfpf_handle_set_vlan(struct vfpf_dev *dev, uint32_t vf, const uint32_t *msg)
{
	struct vfpf_vf *v = &dev->vfs[vf];
	uint32_t add = VFPF_MSG_INFO(msg[0]) ? 1 : 0, vid = msg[1], bit;
	bool was;
	int rc;

	if (vid > 4095)
		return -EINVAL;
	rc = vfpf_aq_simple(dev, VFPF_AQC_VF_SET_VLAN, vf, vid, add, NULL, 0, NULL, 0, NULL);
	if (rc)
		return rc;
	bit = 1u << (vid % 32);
	was = v->vlans[vid / 32] & bit;
	if (add && !was) {
		v->vlans[vid / 32] |= bit;
		v->vlan_count++;
	} else if (!add && was) {
		v->vlans[vid / 32] &= ~bit;
		v->vlan_count--;
	}
	return 0;
}

static int vfpf_handle_set_lpe(struct vfpf_dev *dev, uint32_t vf, const uint32_t *msg)
{
	uint32_t size = msg[1];
	int rc;

	if (size < 64 || size > VFPF_MAX_FRAME_MAX)
		return -EINVAL;
	rc = vfpf_aq_simple(dev, VFPF_AQC_VF_SET_LPE, vf, size, 0, NULL, 0, NULL, 0, NULL);
	if (!rc)
		dev->vfs[vf].max_frame = size;
	return rc;
}

static int vfpf_handle_set_promisc(struct vfpf_dev *dev, uint32_t vf, const uint32_t *msg)
{
	uint32_t flags = VFPF_MSG_INFO(msg[0]);
	int rc;

	/* igb refuses unicast promiscuous for VFs; multicast is the only flag. */
	if (flags & ~VFPF_PROMISC_MC)
		return -EPERM;
	rc = vfpf_aq_simple(dev, VFPF_AQC_VF_SET_PROMISC, vf, flags, 0, NULL, 0, NULL, 0, NULL);
	if (!rc)
		dev->vfs[vf].promisc = flags;
	return rc;
}

void vfpf_policy_handle(struct vfpf_dev *dev, uint32_t vf, const uint32_t msg[VFPF_MBX_WORDS])
{
	struct vfpf_vf *v = &dev->vfs[vf];
	uint32_t w0 = msg[0], req;
	int rc;

	if (w0 & (E1000_VT_MSGTYPE_ACK | E1000_VT_MSGTYPE_NACK)) {
		/* An echo of one of our own replies: consume it, answer nothing. */
		v->stale++;
		if (vfpf_mbx_post(dev, vf, NULL, 0, VFPF_P2V_ACK))
			v->errors++;
		return;
	}
	v->msgs++;
	if (VFPF_MSG_ID(w0) == E1000_VF_RESET) {
		vfpf_handle_vf_reset(dev, vf, msg);
		return;
	}
	req = w0 & ~E1000_VT_MSGTYPE_CTS;
	if (!v->cts) {
		v->nacks++;
		vfpf_reply(dev, vf, msg, req | E1000_VT_MSGTYPE_NACK);
		return;
	}

	switch (VFPF_MSG_ID(w0)) {
	case E1000_VF_SET_MAC_ADDR:
		rc = vfpf_handle_set_mac(dev, vf, msg);
		break;
	case E1000_VF_SET_MULTICAST:
		rc = vfpf_handle_set_mc(dev, vf, msg);
		break;
	case E1000_VF_SET_VLAN:
		rc = vfpf_handle_set_vlan(dev, vf, msg);
		break;
	case E1000_VF_SET_LPE:
		rc = vfpf_handle_set_lpe(dev, vf, msg);
		break;
	case E1000_VF_SET_PROMISC:
		rc = vfpf_handle_set_promisc(dev, vf, msg);
		break;
	default:
		vfpf_dbg(dev, "VF %u: unhandled message %#x\n", vf, w0);
		rc = -EOPNOTSUPP;
		break;
	}
	if (rc) {
		v->nacks++;
		if (vfpf_is_fault(rc)) {
			v->errors++;
			vfpf_err(dev, "VF %u: message %#x failed: %d\n", vf, w0, rc);
		}
	}
	vfpf_reply(dev, vf, msg,
		   req | (rc ? E1000_VT_MSGTYPE_NACK : E1000_VT_MSGTYPE_ACK) |
		   E1000_VT_MSGTYPE_CTS);
}

void vfpf_policy_reset_event(struct vfpf_dev *dev, uint32_t vf)
{
	struct vfpf_vf *v = &dev->vfs[vf];
	int rc;

	v->resets++;
	v->cts = false;
	rc = vfpf_vf_clear_filters(dev, vf);
	if (rc) {
		v->errors++;
		vfpf_err(dev, "VF %u: clearing filters after reset failed: %d\n", vf, rc);
	}
}

int vfpf_policy_ping(struct vfpf_dev *dev, uint32_t vf)
{
	uint32_t w0 = E1000_PF_CONTROL_MSG;

	if (dev->vfs[vf].cts)
		w0 |= E1000_VT_MSGTYPE_CTS;
	return vfpf_mbx_post(dev, vf, &w0, 1, VFPF_P2V_STS);
}
