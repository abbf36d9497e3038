// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * vfpf_mig.c - VF live-migration helpers: quiesce, resume, state size, save and load.
 *
 * The state blob (pf_regs.h: header + sections + CRC-32) is the device's business: the
 * driver moves it between the caller and a PF DMA bounce buffer and leaves validation to
 * the device, which checks a blob whole before applying any of it. A typical source/
 * destination sequence:
 *
 *   source:      quiesce -> state_size -> save -> (VF stays quiesced, or resume on abort)
 *   destination: sriov_enable (fresh VF) or quiesce -> load -> resume
 */
#include "vfpf_priv.h"

/* Checks @vf under cfg_lock, then runs a simple command without holding it. */
static int vfpf_mig_cmd(struct vfpf_dev *dev, uint32_t vf, uint16_t opcode, uint32_t *ret)
{
	int rc;

	vfpf_lock(&dev->cfg_lock);
	rc = vfpf_vf_check(dev, vf);
	vfpf_unlock(&dev->cfg_lock);
	if (rc)
		return rc;
	return vfpf_aq_simple(dev, opcode, (uint16_t)vf, 0, 0, NULL, 0, NULL, 0, ret);
}

int vfpf_vf_quiesce(struct vfpf_dev *dev, uint32_t vf)
{
	return vfpf_mig_cmd(dev, vf, VFPF_AQC_VF_QUIESCE, NULL);
}

int vfpf_vf_resume(struct vfpf_dev *dev, uint32_t vf)
{
	return vfpf_mig_cmd(dev, vf, VFPF_AQC_VF_RESUME, NULL);
}

int vfpf_vf_state_size(struct vfpf_dev *dev, uint32_t vf)
{
	uint32_t ret = 0;
	int rc;

	rc = vfpf_mig_cmd(dev, vf, VFPF_AQC_VF_STATE_SIZE, &ret);
	if (rc)
		return rc;
	if (ret < sizeof(struct vfpf_state_hdr) || ret > VFPF_STATE_MAX) {
		vfpf_err(dev, "VF %u: implausible state size %u\n", vf, ret);
		return -EIO;
	}
	return (int)ret;
}

int vfpf_vf_save(struct vfpf_dev *dev, uint32_t vf, void *buf, uint32_t cap)
{
	struct vfpf_aq_cmd cmd = { .opcode = VFPF_AQC_VF_SAVE, .vf = (uint16_t)vf };
	struct vfpf_dma_buf dbuf = { 0 };
	int rc;

	if (!buf || !cap)
		return -EINVAL;
	if (cap > VFPF_STATE_MAX)
		return -E2BIG;
	vfpf_lock(&dev->cfg_lock);
	rc = vfpf_vf_check(dev, vf);
	vfpf_unlock(&dev->cfg_lock);
	if (rc)
		return rc;

	rc = vfpf_os_dma_alloc(&dev->os, cap, &dbuf);
	if (rc)
		return rc;
	cmd.addr = dbuf.dma;
	cmd.len = cap;
	rc = vfpf_aq_exec(dev, &cmd, &dbuf, 1);
	if (!rc) {
		if (cmd.ret < sizeof(struct vfpf_state_hdr) || cmd.ret > cap) {
			vfpf_err(dev, "VF %u: device saved %u bytes into %u\n", vf, cmd.ret, cap);
			rc = -EIO;
		} else {
			vfpf_dma_rmb();
			memcpy(buf, dbuf.va, cmd.ret);
			rc = (int)cmd.ret;
		}
	}
	vfpf_os_dma_free(&dev->os, &dbuf);
	return rc;
}

int vfpf_vf_load(struct vfpf_dev *dev, uint32_t vf, const void *buf, uint32_t len)
{
	struct vfpf_aq_cmd cmd = { .opcode = VFPF_AQC_VF_LOAD, .vf = (uint16_t)vf };
	struct vfpf_dma_buf dbuf = { 0 };
	int rc;

	if (!buf)
		return -EINVAL;
	if (len < sizeof(struct vfpf_state_hdr))
		return -EBADMSG;
	if (len > VFPF_STATE_MAX)
		return -E2BIG;

	/* cfg_lock across the load: no mailbox message is served against half-loaded state. */
	vfpf_lock(&dev->cfg_lock);
	rc = vfpf_vf_check(dev, vf);
	if (rc)
		goto out;
	rc = vfpf_os_dma_alloc(&dev->os, len, &dbuf);
	if (rc)
		goto out;
	memcpy(dbuf.va, buf, len);
	cmd.addr = dbuf.dma;
	cmd.len = len;
	rc = vfpf_aq_exec(dev, &cmd, &dbuf, 1);
	vfpf_os_dma_free(&dev->os, &dbuf);
	if (rc)
		goto out;
	rc = vfpf_vf_refresh(dev, vf);
	if (rc)
		vfpf_err(dev, "VF %u: loaded, but reading its config back failed: %d\n", vf, rc);
out:
	vfpf_unlock(&dev->cfg_lock);
	return rc;
}
