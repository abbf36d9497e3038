/* SPDX-License-Identifier: MIT */
/*
 * dirty-log.c - the device dirty-page tracker of a VF (admin DIRTY_START/STOP/REPORT),
 * the "device page tracker" alternative to the mediator's tail-trap tracking, like mlx5's.
 *
 * While started, every device write into the VF's IOVA space that falls inside one of the
 * started ranges marks its 4 KiB pages (page log, truth-log.c). REPORT returns the bitmap
 * of [iova, iova + length) at the started granularity (1 << shift; bit i = granule
 * iova + (i << shift), LSB first) written into PF DMA memory, and clears what it reported.
 *
 *   ranges: [r0.iova ......... r0.iova+len)   [r1.iova ... )      (at most 64)
 *   report:        [iova ........ iova+length)  must lie inside one range
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int vfmed_dirty_start(struct vfmed_vf *vf, unsigned shift, const struct vfpf_dirty_range *r,
                      uint32_t n);
void vfmed_dirty_stop(struct vfmed_vf *vf);
int vfmed_dirty_report(struct vfmed_vf *vf, const struct vfpf_dirty_report_req *req,
                       struct vfmed_dma_space *pf_dma, uint32_t *ret);

void vfmed_dirty_mark(struct vfmed_dirty_log *d, uint64_t iova, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < d->nranges; i++) {
		uint64_t s = d->ranges[i].iova, e = s + d->ranges[i].length;
		uint64_t a = iova > s ? iova : s, b = iova + len < e ? iova + len : e;

		if (a < b)
			vfmed_pagelog_mark(&d->pages, a, b - a);
	}
}

int vfmed_dirty_start(struct vfmed_vf *vf, unsigned shift, const struct vfpf_dirty_range *r,
                      uint32_t n)
{
	struct vfmed_dirty_log *d = &vf->dirty;
	uint64_t g = 1ull << shift;
	uint32_t i, j;

	if (d->started)
		return -EBUSY;
	for (i = 0; i < n; i++) {
		if (!r[i].length || r[i].iova + r[i].length < r[i].iova)
			return -EINVAL;
		if ((r[i].iova | r[i].length) & (g - 1))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (r[i].iova < r[j].iova + r[j].length && r[j].iova < r[i].iova + r[i].length)
				return -EINVAL;
	}
	vfmed_pagelog_reset(&d->pages);
	memcpy(d->ranges, r, n * sizeof(*r));
	d->nranges = n;
	d->shift = shift;
	d->started = true;
	return 0;
}

void vfmed_dirty_stop(struct vfmed_vf *vf)
{
	vf->dirty.started = false;
	vf->dirty.nranges = 0;
	vfmed_pagelog_reset(&vf->dirty.pages);
}

int vfmed_dirty_report(struct vfmed_vf *vf, const struct vfpf_dirty_report_req *req,
                       struct vfmed_dma_space *pf_dma, uint32_t *ret)
{
	struct vfmed_dirty_log *d = &vf->dirty;
	uint64_t g, granules, bytes;
	uint32_t i;
	uint8_t *bm;

	*ret = 0;
	if (!d->started)
		return -EINVAL;
	g = 1ull << d->shift;
	if (!req->length || (req->iova & (g - 1)) || req->iova + req->length < req->iova)
		return -EINVAL;
	for (i = 0; i < d->nranges; i++)
		if (req->iova >= d->ranges[i].iova &&
		    req->iova + req->length <= d->ranges[i].iova + d->ranges[i].length)
			break;
	if (i == d->nranges)
		return -EINVAL;
	granules = (req->length + g - 1) >> d->shift;
	bytes = (granules + 7) / 8;
	*ret = (uint32_t)bytes;
	if (req->bitmap_len < bytes)
		return -ENOSPC;
	if (d->pages.oom)
		return -ENOMEM;
	if (vfmed_dma_check(pf_dma, req->bitmap_addr, bytes, VFMED_DMA_WRITE))
		return -EFAULT;
	bm = malloc(bytes);
	if (!bm)
		return -ENOMEM;
	vfmed_pagelog_read(&d->pages, req->iova, req->length, d->shift, bm, true);
	vfmed_dma_write(pf_dma, req->bitmap_addr, bm, bytes);
	free(bm);
	return 0;
}
