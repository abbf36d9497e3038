// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * vfpf_aq.c - the admin queue: ring setup in PF DMA memory, synchronous command
 * submission with a bounded wait, device status -> -errno.
 *
 * The ring (VFPF_AQ_ENTRIES descriptors of 32 bytes) is used one command at a time under
 * aq_lock, so at most one entry is ever owned by the device:
 *
 *        AQ_HEAD (device)          tail (driver, AQ_TAIL after the doorbell)
 *            v                      v
 *   +-----+-----+-----+-----+-----+-----+-----+
 *   | old | cmd |     |     |     |     |     |   ... VFPF_AQ_ENTRIES
 *   +-----+-----+-----+-----+-----+-----+-----+
 *
 * The driver fills the slot at tail with flags = 0, issues a write barrier, writes
 * AQ_TAIL = tail + 1 and polls the slot's flags for VFPF_AQ_F_DONE (the device writes
 * status and ret first, then DONE after a barrier). A command that does not complete in
 * VFPF_AQ_TIMEOUT_US returns -ETIMEDOUT and is remembered as stalled: its slot and buffers
 * stay the device's until DONE shows up, and every later command fails fast with
 * -ETIMEDOUT until then (or until vfpf_dev_init() resets the queue).
 */
#include "vfpf_priv.h"

static struct vfpf_aq_desc *vfpf_aq_slot(struct vfpf_aq *aq, uint32_t slot)
{
	return (struct vfpf_aq_desc *)aq->ring.va + slot;
}

static bool vfpf_aq_slot_done(struct vfpf_aq *aq, uint32_t slot)
{
	return vfpf_dma_rd16(&vfpf_aq_slot(aq, slot)->flags) & VFPF_AQ_F_DONE;
}

static void vfpf_aq_free_stalled(struct vfpf_dev *dev)
{
	uint32_t i;

	for (i = 0; i < 2; i++)
		vfpf_os_dma_free(&dev->os, &dev->aq.stalled_bufs[i]);
	dev->aq.stalled = false;
}

/* Caller holds aq_lock. Turns the queue off and waits for the device to confirm. */
static int vfpf_aq_disable_locked(struct vfpf_dev *dev)
{
	uint64_t deadline = vfpf_time_us() + VFPF_AQ_ENABLE_US;
	uint32_t iter = 0;

	vfpf_wr32(dev->bar, VFPF_AQ_CTRL, 0);
	dev->aq.enabled = false;
	while (vfpf_rd32(dev->bar, VFPF_AQ_STATUS) & VFPF_AQ_STATUS_ENABLED) {
		if (vfpf_time_us() > deadline)
			return -ETIMEDOUT;
		vfpf_poll_pause(&iter);
	}
	return 0;
}

/* Caller holds aq_lock. Frees the ring only if the device let go of it. */
static void vfpf_aq_release_locked(struct vfpf_dev *dev)
{
	if (vfpf_aq_disable_locked(dev)) {
		vfpf_err(dev, "admin queue did not stop; leaking its %zu-byte ring\n",
			 dev->aq.ring.size);
		memset(&dev->aq.ring, 0, sizeof(dev->aq.ring));
		memset(dev->aq.stalled_bufs, 0, sizeof(dev->aq.stalled_bufs));
		dev->aq.stalled = false;
		return;
	}
	vfpf_aq_free_stalled(dev);
	vfpf_os_dma_free(&dev->os, &dev->aq.ring);
}

int vfpf_aq_setup(struct vfpf_dev *dev)
{
	struct vfpf_aq *aq = &dev->aq;
	uint64_t deadline;
	uint32_t iter = 0, st;
	int rc;

	vfpf_lock(&dev->aq_lock);
	if (aq->ring.va)
		vfpf_aq_release_locked(dev);
	rc = vfpf_aq_disable_locked(dev);
	if (rc) {
		vfpf_err(dev, "admin queue stuck enabled\n");
		goto out;
	}
	aq->entries = VFPF_AQ_ENTRIES;
	rc = vfpf_os_dma_alloc(&dev->os, aq->entries * sizeof(struct vfpf_aq_desc), &aq->ring);
	if (rc)
		goto out;
	aq->tail = 0;
	vfpf_wr32(dev->bar, VFPF_AQ_BAL, (uint32_t)aq->ring.dma);
	vfpf_wr32(dev->bar, VFPF_AQ_BAH, (uint32_t)(aq->ring.dma >> 32));
	vfpf_wr32(dev->bar, VFPF_AQ_LEN, aq->entries);
	vfpf_wr32(dev->bar, VFPF_AQ_TAIL, 0);
	vfpf_wr32(dev->bar, VFPF_AQ_CTRL, VFPF_AQ_CTRL_ENABLE);

	deadline = vfpf_time_us() + VFPF_AQ_ENABLE_US;
	for (;;) {
		st = vfpf_rd32(dev->bar, VFPF_AQ_STATUS);
		if (st & VFPF_AQ_STATUS_ERROR) {
			vfpf_err(dev, "device refused the admin ring (status %#x)\n", st);
			rc = -EIO;
			break;
		}
		if (st & VFPF_AQ_STATUS_ENABLED)
			break;
		if (vfpf_time_us() > deadline) {
			vfpf_err(dev, "admin queue enable timed out\n");
			rc = -ETIMEDOUT;
			break;
		}
		vfpf_poll_pause(&iter);
	}
	if (rc)
		vfpf_aq_release_locked(dev);
	else
		aq->enabled = true;
out:
	vfpf_unlock(&dev->aq_lock);
	return rc;
}

void vfpf_aq_teardown(struct vfpf_dev *dev)
{
	vfpf_lock(&dev->aq_lock);
	if (dev->aq.ring.va)
		vfpf_aq_release_locked(dev);
	vfpf_unlock(&dev->aq_lock);
}

/* Device status (positive errno) -> -errno; nonsense values become -EIO. */
static int vfpf_aq_status_to_errno(uint16_t status)
{
	if (!status)
		return 0;
	if (status > 4095)
		return -EIO;
	return -(int)status;
}

int vfpf_aq_exec(struct vfpf_dev *dev, struct vfpf_aq_cmd *cmd,
		 struct vfpf_dma_buf *bufs, uint32_t nbufs)
{
	struct vfpf_aq *aq = &dev->aq;
	struct vfpf_aq_desc *d;
	uint64_t deadline;
	uint32_t slot, iter = 0, i;
	int rc;

	if (nbufs > 2)
		return -EINVAL;
	vfpf_lock(&dev->aq_lock);
	if (!aq->enabled) {
		rc = -ENODEV;
		goto out;
	}
	if (aq->stalled) {
		if (!vfpf_aq_slot_done(aq, aq->stalled_slot)) {
			rc = -ETIMEDOUT;
			goto out;
		}
		vfpf_info(dev, "stalled admin command completed late; queue usable again\n");
		vfpf_aq_free_stalled(dev);
	}

	slot = aq->tail;
	d = vfpf_aq_slot(aq, slot);
	memset(d, 0, sizeof(*d));
	d->opcode = cmd->opcode;
	d->vf = cmd->vf;
	d->param0 = cmd->param0;
	d->param1 = cmd->param1;
	d->addr = cmd->addr;
	d->len = cmd->len;
	/* The descriptor must be visible before the doorbell. */
	vfpf_dma_wmb();
	aq->tail = (slot + 1) % aq->entries;
	vfpf_wr32(dev->bar, VFPF_AQ_TAIL, aq->tail);

	deadline = vfpf_time_us() + VFPF_AQ_TIMEOUT_US;
	while (!vfpf_aq_slot_done(aq, slot)) {
		if (vfpf_time_us() > deadline ||
		    (vfpf_rd32(dev->bar, VFPF_AQ_STATUS) & VFPF_AQ_STATUS_ERROR)) {
			vfpf_err(dev, "admin command %#x (vf %u) timed out\n",
				 cmd->opcode, cmd->vf);
			aq->stalled = true;
			aq->stalled_slot = slot;
			for (i = 0; i < nbufs; i++) {
				aq->stalled_bufs[i] = bufs[i];
				memset(&bufs[i], 0, sizeof(bufs[i]));
			}
			rc = -ETIMEDOUT;
			goto out;
		}
		vfpf_poll_pause(&iter);
	}
	/* DONE is written last: read status/ret only after seeing it. */
	vfpf_dma_rmb();
	cmd->ret = vfpf_dma_rd32(&d->ret);
	rc = vfpf_aq_status_to_errno(vfpf_dma_rd16(&d->status));
	if (rc)
		vfpf_dbg(dev, "admin command %#x (vf %u) failed: %d\n", cmd->opcode, cmd->vf, rc);
out:
	vfpf_unlock(&dev->aq_lock);
	return rc;
}

int vfpf_aq_simple(struct vfpf_dev *dev, uint16_t opcode, uint16_t vf, uint32_t param0,
		   uint32_t param1, const void *in, uint32_t in_len, void *out,
		   uint32_t out_len, uint32_t *ret)
{
	struct vfpf_aq_cmd cmd = {
		.opcode = opcode, .vf = vf, .param0 = param0, .param1 = param1,
	};
	struct vfpf_dma_buf buf = { 0 };
	uint32_t len = in_len > out_len ? in_len : out_len;
	int rc;

	if (len > VFPF_STATE_MAX || (in_len && !in) || (out_len && !out))
		return -EINVAL;
	if (len) {
		rc = vfpf_os_dma_alloc(&dev->os, len, &buf);
		if (rc)
			return rc;
		if (in_len)
			memcpy(buf.va, in, in_len);
		cmd.addr = buf.dma;
		cmd.len = len;
	}
	rc = vfpf_aq_exec(dev, &cmd, &buf, 1);
	if (!rc && out_len) {
		vfpf_dma_rmb();
		memcpy(out, buf.va, out_len);
	}
	if (ret)
		*ret = cmd.ret;
	vfpf_os_dma_free(&dev->os, &buf);
	return rc;
}

int vfpf_admin_cmd(struct vfpf_dev *dev, uint16_t opcode, uint16_t vf, uint32_t param0,
		   uint32_t param1, void *buf, uint32_t len, uint32_t *ret)
{
	if (len && !buf)
		return -EINVAL;
	return vfpf_aq_simple(dev, opcode, vf, param0, param1, buf, len, buf, len, ret);
}
