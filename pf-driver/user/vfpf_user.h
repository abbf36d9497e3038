/* SPDX-License-Identifier: MIT */
/*
 * vfpf_user.h - libvfpf.so internals shared by its files: the per-device userspace state
 * (mappings of the PF BAR and the PF DMA memfd) and the DMA allocator.
 */
#ifndef VFPF_USER_H
#define VFPF_USER_H

#include "vfpf_core.h"

struct vfpf_user_extent {
	size_t off;
	size_t size;
};

struct vfpf_user_dma {
	pthread_mutex_t lock;             /* protects used[], nr, cap */
	uint8_t *base;                    /* mapping of the DMA memfd */
	uint64_t iova;                    /* device address of base */
	size_t len;
	struct vfpf_user_extent *used;    /* live allocations, sorted by off */
	size_t nr, cap;
};

int vfpf_user_dma_init(struct vfpf_user_dma *d, void *base, uint64_t iova, size_t len);
void vfpf_user_dma_fini(struct vfpf_user_dma *d);

/* One opened PF. dev comes first: the handle given to callers is &u->dev. */
struct vfpf_user {
	struct vfpf_dev dev;
	void *bar;
	size_t bar_len;
	void *dma_map;
	size_t dma_len;
	struct vfpf_user_dma dma;
};

#endif /* VFPF_USER_H */
