// SPDX-License-Identifier: MIT
/*
 * vfpf_os.c (userspace) - the PF DMA allocator of libvfpf.so.
 *
 * The daemon creates one memfd, registers it with the device as the PF DMA space at
 * [iova, iova + len) (nic.pfDmaMap) and hands it to vfpf_open(), which maps it here. The
 * admin ring and every bounce buffer are carved out of it, first fit, 64-byte aligned:
 *
 *   iova                                                          iova + len
 *   | ring 2K |  free  | save blob ......... | free | report req+bitmap | free |
 *             ^ gaps between the sorted used[] extents are the free space
 *
 * used[] is kept sorted by offset; allocation walks the gaps, free removes one extent.
 * O(n) in the number of live buffers, which is a handful (ring + one per command).
 */
#include <stdlib.h>

#include "vfpf_core.h"
#include "vfpf_user.h"

#define VFPF_DMA_ALIGN 64u

static size_t vfpf_align_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int vfpf_user_dma_init(struct vfpf_user_dma *d, void *base, uint64_t iova, size_t len)
{
	memset(d, 0, sizeof(*d));
	if (pthread_mutex_init(&d->lock, NULL))
		return -ENOMEM;
	d->base = base;
	d->iova = iova;
	d->len = len;
	return 0;
}

void vfpf_user_dma_fini(struct vfpf_user_dma *d)
{
	free(d->used);
	d->used = NULL;
	d->nr = d->cap = 0;
	pthread_mutex_destroy(&d->lock);
}

int vfpf_os_dma_alloc(struct vfpf_os_dev *os, size_t size, struct vfpf_dma_buf *buf)
{
	struct vfpf_user_dma *d = os->dma;
	struct vfpf_user_extent *n;
	size_t start = 0, i, end;
	int rc = -ENOMEM;

	if (!size || !buf)
		return -EINVAL;
	if (size > d->len)
		return -ENOMEM;
	size = vfpf_align_up(size, VFPF_DMA_ALIGN);
	pthread_mutex_lock(&d->lock);
	if (d->nr == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;

		n = realloc(d->used, cap * sizeof(*n));
		if (!n)
			goto out;
		d->used = n;
		d->cap = cap;
	}
	for (i = 0; i <= d->nr; i++) {
		end = i < d->nr ? d->used[i].off : d->len;
		if (end >= start && end - start >= size)
			break;
		if (i < d->nr)
			start = vfpf_align_up(d->used[i].off + d->used[i].size, VFPF_DMA_ALIGN);
	}
	if (i > d->nr)
		goto out;
	memmove(&d->used[i + 1], &d->used[i], (d->nr - i) * sizeof(d->used[0]));
	d->used[i].off = start;
	d->used[i].size = size;
	d->nr++;
	buf->va = (uint8_t *)d->base + start;
	buf->dma = d->iova + start;
	buf->size = size;
	memset(buf->va, 0, size);
	rc = 0;
out:
	pthread_mutex_unlock(&d->lock);
	return rc;
}

void vfpf_os_dma_free(struct vfpf_os_dev *os, struct vfpf_dma_buf *buf)
{
	struct vfpf_user_dma *d = os->dma;
	size_t off, i;

	if (!buf || !buf->va)
		return;
	off = (size_t)((uint8_t *)buf->va - (uint8_t *)d->base);
	pthread_mutex_lock(&d->lock);
	for (i = 0; i < d->nr; i++) {
		if (d->used[i].off == off) {
			memmove(&d->used[i], &d->used[i + 1], (d->nr - i - 1) * sizeof(d->used[0]));
			d->nr--;
			break;
		}
	}
	pthread_mutex_unlock(&d->lock);
	memset(buf, 0, sizeof(*buf));
}
