// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * vfpf_dirty.c - the device dirty log of a VF (like mlx5's page tracker): start over a
 * set of IOVA ranges at a page granularity, report-and-clear a window, stop.
 *
 * A report uses one PF DMA buffer holding the request and, 64 bytes in, the bitmap the
 * device fills (bit i = page iova + (i << shift), LSB first):
 *
 *   dma +0   struct vfpf_dirty_report_req { iova, length, bitmap_addr = dma + 64, len }
 *   dma +64  bitmap, ceil(pages / 8) bytes
 */
#include "vfpf_priv.h"

#define VFPF_DIRTY_BITMAP_OFF 64u

int vfpf_vf_dirty_start(struct vfpf_dev *dev, uint32_t vf, uint32_t page_shift,
			const struct vfpf_dirty_range *ranges, uint32_t nr)
{
	int rc;

	if (page_shift < 12 || page_shift > 21 || !ranges || !nr ||
	    nr > VFPF_DIRTY_MAX_RANGES)
		return -EINVAL;
	vfpf_lock(&dev->cfg_lock);
	rc = vfpf_vf_check(dev, vf);
	if (rc)
		goto out;
	rc = vfpf_aq_simple(dev, VFPF_AQC_DIRTY_START, (uint16_t)vf, page_shift, nr, ranges,
			    nr * (uint32_t)sizeof(*ranges), NULL, 0, NULL);
	if (rc)
		goto out;
	dev->vfs[vf].dirty_on = true;
	dev->vfs[vf].dirty_shift = page_shift;
out:
	vfpf_unlock(&dev->cfg_lock);
	return rc;
}

int vfpf_vf_dirty_stop(struct vfpf_dev *dev, uint32_t vf)
{
	int rc;

	vfpf_lock(&dev->cfg_lock);
	rc = vfpf_vf_check(dev, vf);
	if (rc)
		goto out;
	rc = vfpf_aq_simple(dev, VFPF_AQC_DIRTY_STOP, (uint16_t)vf, 0, 0, NULL, 0, NULL, 0, NULL);
	if (!rc)
		dev->vfs[vf].dirty_on = false;
out:
	vfpf_unlock(&dev->cfg_lock);
	return rc;
}

int vfpf_vf_dirty_report(struct vfpf_dev *dev, uint32_t vf, uint64_t iova, uint64_t length,
			 void *bitmap, uint64_t bitmap_len)
{
	struct vfpf_aq_cmd cmd = { .opcode = VFPF_AQC_DIRTY_REPORT, .vf = (uint16_t)vf };
	struct vfpf_dma_buf dbuf = { 0 };
	struct vfpf_dirty_report_req *req;
	uint64_t pages, need;
	uint32_t shift;
	bool on;
	int rc;

	if (!bitmap || !length || iova + length < iova || length > (1ull << 62))
		return -EINVAL;
	vfpf_lock(&dev->cfg_lock);
	rc = vfpf_vf_check(dev, vf);
	on = !rc && dev->vfs[vf].dirty_on;
	shift = on ? dev->vfs[vf].dirty_shift : 12;
	vfpf_unlock(&dev->cfg_lock);
	if (rc)
		return rc;
	if (!on)
		return -EINVAL;

	pages = (length + (1ull << shift) - 1) >> shift;
	need = (pages + 7) / 8;
	if (bitmap_len < need)
		return -EINVAL;
	if (need > VFPF_BITMAP_MAX)
		return -E2BIG;

	rc = vfpf_os_dma_alloc(&dev->os, VFPF_DIRTY_BITMAP_OFF + need, &dbuf);
	if (rc)
		return rc;
	req = dbuf.va;
	req->iova = iova;
	req->length = length;
	req->bitmap_addr = dbuf.dma + VFPF_DIRTY_BITMAP_OFF;
	req->bitmap_len = need;
	cmd.addr = dbuf.dma;
	cmd.len = sizeof(*req);
	rc = vfpf_aq_exec(dev, &cmd, &dbuf, 1);
	if (!rc) {
		vfpf_dma_rmb();
		memcpy(bitmap, (uint8_t *)dbuf.va + VFPF_DIRTY_BITMAP_OFF, need);
		memset((uint8_t *)bitmap + need, 0, bitmap_len - need);
	}
	vfpf_os_dma_free(&dev->os, &dbuf);
	return rc;
}
