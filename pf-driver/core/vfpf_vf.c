// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * vfpf_vf.c - per-VF administration: the soft state's life cycle (adopt a VF from the
 * device, clear its filters on reset, refresh it after a state load) and the
 * administrator's operations (set MAC, config, status, stats, FLR).
 */
#include "vfpf_priv.h"

int vfpf_vf_install_mac(struct vfpf_dev *dev, uint32_t vf, const uint8_t mac[6])
{
	int rc;

	rc = vfpf_aq_simple(dev, VFPF_AQC_VF_SET_MAC, vf, vfpf_mac_lo(mac), vfpf_mac_hi(mac),
			    NULL, 0, NULL, 0, NULL);
	if (!rc)
		memcpy(dev->vfs[vf].mac, mac, 6);
	return rc;
}

/*
 * Back to "no multicast, no VLAN, no promiscuous, permanent MAC", like igb_vf_reset().
 * Filters the driver does not know (a VF adopted or loaded with filters in place) are
 * cleared where the device allows it without knowing them (multicast and promiscuous are
 * replaced wholesale); VLAN IDs cannot be enumerated, so those stay until the VF removes
 * them, and the VF keeps filters_known == false meanwhile.
 */
int vfpf_vf_clear_filters(struct vfpf_dev *dev, uint32_t vf)
{
	struct vfpf_vf *v = &dev->vfs[vf];
	struct vfpf_vf_config cfg;
	uint32_t w, vid;
	int rc;

	if (v->mc_count || !v->filters_known) {
		rc = vfpf_aq_simple(dev, VFPF_AQC_VF_SET_MC, vf, 0, 0, NULL, 0, NULL, 0, NULL);
		if (rc)
			return rc;
		v->mc_count = 0;
		memset(v->mc_hashes, 0, sizeof(v->mc_hashes));
	}
	if (v->promisc || !v->filters_known) {
		rc = vfpf_aq_simple(dev, VFPF_AQC_VF_SET_PROMISC, vf, 0, 0, NULL, 0, NULL, 0,
				    NULL);
		if (rc)
			return rc;
		v->promisc = 0;
	}
	if (v->filters_known) {
		for (w = 0; w < 4096 / 32; w++) {
			while (v->vlans[w]) {
				vid = w * 32 + (uint32_t)__builtin_ctz(v->vlans[w]);
				rc = vfpf_aq_simple(dev, VFPF_AQC_VF_SET_VLAN, vf, vid, 0, NULL, 0,
						    NULL, 0, NULL);
				if (rc)
					return rc;
				v->vlans[w] &= v->vlans[w] - 1;
				v->vlan_count--;
			}
		}
	} else {
		rc = vfpf_aq_simple(dev, VFPF_AQC_VF_GET_CONFIG, vf, 0, 0, NULL, 0, &cfg,
				    sizeof(cfg), NULL);
		if (rc)
			return rc;
		v->vlan_count = cfg.vlan_count;
		if (cfg.vlan_count)
			vfpf_warn(dev, "VF %u: %u VLAN filters of unknown IDs stay installed\n",
				  vf, cfg.vlan_count);
		else
			v->filters_known = true;
	}
	if (!vfpf_mac_is_zero(v->perm_mac) && memcmp(v->mac, v->perm_mac, 6))
		return vfpf_vf_install_mac(dev, vf, v->perm_mac);
	return 0;
}

/* Loads the device's view of @vf into the soft state (counters and policy flags kept). */
static int vfpf_vf_load_config(struct vfpf_dev *dev, uint32_t vf, struct vfpf_vf_config *cfg)
{
	struct vfpf_vf *v = &dev->vfs[vf];
	int rc;

	rc = vfpf_aq_simple(dev, VFPF_AQC_VF_GET_CONFIG, vf, 0, 0, NULL, 0, cfg, sizeof(*cfg),
			    NULL);
	if (rc)
		return rc;
	memcpy(v->mac, cfg->mac, 6);
	memcpy(v->perm_mac, cfg->mac, 6);
	v->max_frame = cfg->max_frame ? cfg->max_frame : VFPF_MAX_FRAME_DEFAULT;
	v->mc_count = cfg->mc_count;
	v->vlan_count = cfg->vlan_count;
	v->promisc = cfg->promisc;
	memset(v->mc_hashes, 0, sizeof(v->mc_hashes));
	memset(v->vlans, 0, sizeof(v->vlans));
	v->filters_known = !cfg->mc_count && !cfg->vlan_count && !cfg->promisc;
	return 0;
}

int vfpf_vf_adopt(struct vfpf_dev *dev, uint32_t vf)
{
	struct vfpf_vf *v = &dev->vfs[vf];
	struct vfpf_vf_config cfg;

	memset(v, 0, sizeof(*v));
	v->max_frame = VFPF_MAX_FRAME_DEFAULT;
	vfpf_mbx_snapshot(dev, vf);
	/* Not clear to send until the VF completes VF_RESET with this PF. */
	return vfpf_vf_load_config(dev, vf, &cfg);
}

int vfpf_vf_refresh(struct vfpf_dev *dev, uint32_t vf)
{
	struct vfpf_vf *v = &dev->vfs[vf];
	struct vfpf_vf_config cfg;
	int rc;

	rc = vfpf_vf_load_config(dev, vf, &cfg);
	if (rc)
		return rc;
	/*
	 * RX/TX are enabled only by a completed VF_RESET (on the source PF): such a VF keeps
	 * talking to us without resetting, so it must be clear to send here.
	 */
	v->cts = (cfg.enable & (VFPF_VF_EN_RX | VFPF_VF_EN_TX)) != 0;
	/* A reset the load itself may have counted is not a guest reset. */
	v->reset_seq = vfpf_rd32(dev->bar, VFPF_VF_RESET_SEQ(vf));
	return 0;
}

int vfpf_vf_set_mac(struct vfpf_dev *dev, uint32_t vf, const uint8_t mac[6])
{
	struct vfpf_vf *v;
	int rc;

	if (!mac)
		return -EINVAL;
	vfpf_lock(&dev->cfg_lock);
	rc = vfpf_vf_check(dev, vf);
	if (rc)
		goto out;
	v = &dev->vfs[vf];
	if (vfpf_mac_is_zero(mac)) {
		v->mac_admin = false;
		goto out;
	}
	if (!vfpf_mac_is_valid(mac)) {
		rc = -EINVAL;
		goto out;
	}
	rc = vfpf_vf_install_mac(dev, vf, mac);
	if (rc)
		goto out;
	memcpy(v->perm_mac, mac, 6);
	v->mac_admin = true;
	vfpf_info(dev, "VF %u MAC set by the administrator; reload the VF driver to use it\n",
		  vf);
out:
	vfpf_unlock(&dev->cfg_lock);
	return rc;
}

/* Checks @vf under cfg_lock, then runs a bounce-buffer command without holding it. */
static int vfpf_vf_cmd(struct vfpf_dev *dev, uint32_t vf, uint16_t opcode, void *out,
		       uint32_t out_len)
{
	int rc;

	if (out_len && !out)
		return -EINVAL;
	vfpf_lock(&dev->cfg_lock);
	rc = vfpf_vf_check(dev, vf);
	vfpf_unlock(&dev->cfg_lock);
	if (rc)
		return rc;
	return vfpf_aq_simple(dev, opcode, (uint16_t)vf, 0, 0, NULL, 0, out, out_len, NULL);
}

int vfpf_vf_get_config(struct vfpf_dev *dev, uint32_t vf, struct vfpf_vf_config *out)
{
	return vfpf_vf_cmd(dev, vf, VFPF_AQC_VF_GET_CONFIG, out, out ? sizeof(*out) : 1);
}

int vfpf_vf_stats(struct vfpf_dev *dev, uint32_t vf, struct vfpf_vf_stats *out)
{
	return vfpf_vf_cmd(dev, vf, VFPF_AQC_VF_STATS, out, out ? sizeof(*out) : 1);
}

int vfpf_vf_get_status(struct vfpf_dev *dev, uint32_t vf, struct vfpf_vf_status *out)
{
	struct vfpf_vf *v;
	int rc;

	if (!out)
		return -EINVAL;
	vfpf_lock(&dev->cfg_lock);
	rc = vfpf_vf_check(dev, vf);
	if (rc)
		goto out;
	v = &dev->vfs[vf];
	memset(out, 0, sizeof(*out));
	memcpy(out->mac, v->mac, 6);
	memcpy(out->perm_mac, v->perm_mac, 6);
	out->flags = (v->cts ? VFPF_VF_ST_CTS : 0) | (v->mac_admin ? VFPF_VF_ST_MAC_ADMIN : 0) |
		     (v->filters_known ? VFPF_VF_ST_FILTERS_KNOWN : 0) |
		     (v->dirty_on ? VFPF_VF_ST_DIRTY_LOG : 0);
	out->mc_count = v->mc_count;
	out->vlan_count = v->vlan_count;
	out->max_frame = v->max_frame;
	out->promisc = v->promisc;
	out->msgs = v->msgs;
	out->vf_acks = v->vf_acks;
	out->nacks = v->nacks;
	out->resets = v->resets;
	out->stale = v->stale;
	out->errors = v->errors;
	memcpy(out->mc_hashes, v->mc_hashes, sizeof(out->mc_hashes));
out:
	vfpf_unlock(&dev->cfg_lock);
	return rc;
}

int vfpf_vf_get_vlans(struct vfpf_dev *dev, uint32_t vf, uint32_t bitmap[4096 / 32])
{
	int rc;

	if (!bitmap)
		return -EINVAL;
	vfpf_lock(&dev->cfg_lock);
	rc = vfpf_vf_check(dev, vf);
	if (!rc)
		memcpy(bitmap, dev->vfs[vf].vlans, sizeof(dev->vfs[vf].vlans));
	vfpf_unlock(&dev->cfg_lock);
	return rc;
}

int vfpf_vf_flr(struct vfpf_dev *dev, uint32_t vf)
{
	struct vfpf_vf *v;
	int rc;

	vfpf_lock(&dev->cfg_lock);
	rc = vfpf_vf_check(dev, vf);
	if (rc)
		goto out;
	v = &dev->vfs[vf];
	rc = vfpf_aq_simple(dev, VFPF_AQC_VF_RESET, vf, 0, 0, NULL, 0, NULL, 0, NULL);
	if (rc)
		goto out;
	/* The FLR's own reset event must not be handled a second time. */
	v->reset_seq = vfpf_rd32(dev->bar, VFPF_VF_RESET_SEQ(vf));
	v->resets++;
	v->cts = false;
	rc = vfpf_vf_clear_filters(dev, vf);
out:
	vfpf_unlock(&dev->cfg_lock);
	return rc;
}

int vfpf_vf_release_mac(struct vfpf_dev *dev, uint32_t vf)
{
	static const uint8_t zero[6];
	struct vfpf_vf *v;
	int rc;

	vfpf_lock(&dev->cfg_lock);
	rc = vfpf_vf_check(dev, vf);
	if (rc)
		goto out;
	v = &dev->vfs[vf];
	/* Forgotten first: nothing below may reinstall it (clear_filters restores perm_mac). */
	memset(v->perm_mac, 0, sizeof(v->perm_mac));
	v->mac_admin = false;
	rc = vfpf_vf_install_mac(dev, vf, zero);
	if (rc)
		goto out;
	rc = vfpf_vf_clear_filters(dev, vf);
	if (!rc)
		vfpf_info(dev, "VF %u released its MAC and filters\n", vf);
out:
	vfpf_unlock(&dev->cfg_lock);
	return rc;
}
