// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * vfpf_dev.c - PF bring-up and teardown, device information, SR-IOV enable.
 *
 * Bring-up order (vfpf_dev_init):
 *   1. identify: VFPF_MAGIC, ABI major, model id, CAPS;
 *   2. clear CTRL_EXT.PFRSTD: from the VFs' point of view the PF is resetting;
 *   3. admin queue: ring in PF DMA memory, AQ_CTRL enable, wait for AQ_STATUS;
 *   4. GET_INFO, adopt the VFs the device already has (driver reload);
 *   5. set CTRL_EXT.PFRSTD: VFs see RSTD and start their reset handshake.
 */
#include "vfpf_priv.h"

void vfpf_dev_setup(struct vfpf_dev *dev)
{
	vfpf_lock_init(&dev->cfg_lock);
	vfpf_lock_init(&dev->aq_lock);
	dev->ready = false;
	dev->num_vfs = 0;
}

void vfpf_dev_teardown(struct vfpf_dev *dev)
{
	vfpf_lock_destroy(&dev->aq_lock);
	vfpf_lock_destroy(&dev->cfg_lock);
}

/* Caller holds cfg_lock. */
static int vfpf_dev_identify(struct vfpf_dev *dev)
{
	uint32_t magic, abi, model, caps;

	magic = vfpf_rd32(dev->bar, VFPF_MAGIC_REG);
	if (magic != VFPF_MAGIC) {
		vfpf_err(dev, "no vfmed PF here (magic %#x)\n", magic);
		return -ENODEV;
	}
	abi = vfpf_rd32(dev->bar, VFPF_ABI_VERSION);
	if ((abi >> 16) != VFPF_ABI_MAJOR) {
		vfpf_err(dev, "PF ABI %u.%u, driver speaks %u.x\n", abi >> 16, abi & 0xffff,
			 VFPF_ABI_MAJOR);
		return -EPROTONOSUPPORT;
	}
	model = vfpf_rd32(dev->bar, VFPF_MODEL);
	if (model != VFPF_MODEL_ID) {
		vfpf_err(dev, "unknown PF model %#x\n", model);
		return -ENODEV;
	}
	caps = vfpf_rd32(dev->bar, VFPF_CAPS);
	dev->max_vfs = VFPF_CAPS_MAX_VFS(caps);
	if (!dev->max_vfs) {
		vfpf_err(dev, "PF reports no VFs (caps %#x)\n", caps);
		return -ENODEV;
	}
	if (dev->max_vfs > VFPF_MAX_VFS)
		dev->max_vfs = VFPF_MAX_VFS;
	return 0;
}

/*
 * PFRSTD is level-polled by the device: a 1 -> 0 -> 1 sequence faster than its poll loop
 * would go unnoticed and the VFs would not see "PF reset" on a driver reload. Waits until
 * two full device passes (HEARTBEAT) happened since @hb0 was read.
 */
static void vfpf_wait_passes(struct vfpf_dev *dev, uint32_t hb0)
{
	uint64_t deadline = vfpf_time_us() + VFPF_AQ_ENABLE_US;
	uint32_t iter = 0;

	while (vfpf_rd32(dev->bar, VFPF_HEARTBEAT) - hb0 < 2) {
		if (vfpf_time_us() > deadline) {
			vfpf_warn(dev, "device heartbeat stalled\n");
			return;
		}
		vfpf_poll_pause(&iter);
	}
}

int vfpf_dev_init(struct vfpf_dev *dev)
{
	struct vfpf_dev_info info;
	uint32_t vf, hb;
	int rc;

	vfpf_lock(&dev->cfg_lock);
	dev->ready = false;
	dev->num_vfs = 0;
	rc = vfpf_dev_identify(dev);
	if (rc)
		goto out;

	vfpf_wr32(dev->bar, VFPF_CTRL_EXT, 0);
	hb = vfpf_rd32(dev->bar, VFPF_HEARTBEAT);
	rc = vfpf_aq_setup(dev);
	if (rc)
		goto out;

	rc = vfpf_aq_simple(dev, VFPF_AQC_GET_INFO, 0, 0, 0, NULL, 0, &info, sizeof(info), NULL);
	if (rc)
		goto err_aq;
	if (info.model_id != VFPF_MODEL_ID || info.abi_major != VFPF_ABI_MAJOR ||
	    info.num_vfs > dev->max_vfs) {
		vfpf_err(dev, "inconsistent GET_INFO (model %#x abi %u vfs %u/%u)\n",
			 info.model_id, info.abi_major, info.num_vfs, dev->max_vfs);
		rc = -EIO;
		goto err_aq;
	}
	dev->info = info;

	memset(dev->vfs, 0, sizeof(dev->vfs));
	for (vf = 0; vf < info.num_vfs; vf++) {
		rc = vfpf_vf_adopt(dev, vf);
		if (rc)
			goto err_aq;
	}
	dev->num_vfs = info.num_vfs;
	dev->event_seq = vfpf_rd32(dev->bar, VFPF_EVENT_SEQ);
	dev->link_up = !!(vfpf_rd32(dev->bar, VFPF_STATUS) & VFPF_STATUS_LU);

	vfpf_wait_passes(dev, hb);
	vfpf_wr32(dev->bar, VFPF_CTRL_EXT, VFPF_CTRL_EXT_PFRSTD);
	/* Return only once the VFs can see "PF reset done". */
	vfpf_wait_passes(dev, vfpf_rd32(dev->bar, VFPF_HEARTBEAT));
	dev->ready = true;
	vfpf_info(dev, "vfmed PF up: ABI %u.%u, %u/%u VFs, %u queues per VF\n",
		  info.abi_major, info.abi_minor, info.num_vfs, dev->max_vfs,
		  info.queues_per_vf);
	goto out;

err_aq:
	vfpf_aq_teardown(dev);
out:
	vfpf_unlock(&dev->cfg_lock);
	return rc;
}

void vfpf_dev_shutdown(struct vfpf_dev *dev)
{
	vfpf_lock(&dev->cfg_lock);
	if (dev->ready)
		vfpf_wr32(dev->bar, VFPF_CTRL_EXT, 0);
	dev->ready = false;
	vfpf_aq_teardown(dev);
	vfpf_unlock(&dev->cfg_lock);
}

int vfpf_get_info(struct vfpf_dev *dev, struct vfpf_dev_info *out)
{
	int rc = 0;

	if (!out)
		return -EINVAL;
	vfpf_lock(&dev->cfg_lock);
	if (dev->ready) {
		*out = dev->info;
		out->num_vfs = dev->num_vfs;
	} else {
		rc = -ENODEV;
	}
	vfpf_unlock(&dev->cfg_lock);
	return rc;
}

int vfpf_num_vfs(struct vfpf_dev *dev)
{
	int n;

	vfpf_lock(&dev->cfg_lock);
	n = dev->ready ? (int)dev->num_vfs : -ENODEV;
	vfpf_unlock(&dev->cfg_lock);
	return n;
}

int vfpf_sriov_enable(struct vfpf_dev *dev, uint32_t num_vfs)
{
	uint32_t vf;
	int rc;

	vfpf_lock(&dev->cfg_lock);
	if (!dev->ready) {
		rc = -ENODEV;
		goto out;
	}
	if (num_vfs > dev->max_vfs) {
		rc = -EINVAL;
		goto out;
	}
	if (num_vfs == dev->num_vfs) {
		rc = (int)num_vfs;
		goto out;
	}
	if (num_vfs && dev->num_vfs) {
		rc = -EBUSY;
		goto out;
	}
	rc = vfpf_aq_simple(dev, VFPF_AQC_SRIOV_ENABLE, 0, num_vfs, 0, NULL, 0, NULL, 0, NULL);
	if (rc)
		goto out;
	memset(dev->vfs, 0, sizeof(dev->vfs));
	for (vf = 0; vf < num_vfs; vf++) {
		rc = vfpf_vf_adopt(dev, vf);
		if (rc) {
			vfpf_err(dev, "VF %u: reading its config failed (%d); disabling VFs\n",
				 vf, rc);
			vfpf_aq_simple(dev, VFPF_AQC_SRIOV_ENABLE, 0, 0, 0, NULL, 0, NULL, 0, NULL);
			memset(dev->vfs, 0, sizeof(dev->vfs));
			dev->num_vfs = 0;
			goto out;
		}
	}
	dev->num_vfs = num_vfs;
	vfpf_info(dev, "%u VFs enabled\n", num_vfs);
	rc = (int)num_vfs;
out:
	vfpf_unlock(&dev->cfg_lock);
	return rc;
}
