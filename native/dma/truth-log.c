/* SPDX-License-Identifier: MIT */
/*
 * truth-log.c - sparse page bitmap over a 64-bit IOVA space ("page log").
 *
 * Used twice per VF: as the ground-truth log of every page the device wrote (the test and
 * benchmark oracle the mediator's dirty tracking is compared with; never an input to the
 * mediator) and as the storage of the device dirty log (dirty-log.c). Granularity is always
 * 4 KiB; coarser reports OR the pages of a granule together.
 *
 * Layout: open-addressing hash (linear probing, power-of-two size, load <= 1/2) keyed by
 * iova >> 21; each chunk holds the 512 page bits of one 2 MiB IOVA window. Chunks are never
 * removed (a cleared chunk stays as zero bits), so probing needs no tombstones.
 */
#include <stdlib.h>
#include <string.h>

#include "../nic/internal.h"

#define CHUNK_SHIFT 21
#define PAGE_SHIFT  12

static uint32_t hash_key(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (uint32_t)k;
}

void vfmed_pagelog_init(struct vfmed_pagelog *l)
{
	memset(l, 0, sizeof(*l));
}

void vfmed_pagelog_free(struct vfmed_pagelog *l)
{
	free(l->tab);
	memset(l, 0, sizeof(*l));
}

void vfmed_pagelog_reset(struct vfmed_pagelog *l)
{
	vfmed_pagelog_free(l);
}

static struct vfmed_pagelog_chunk *lookup(const struct vfmed_pagelog *l, uint64_t key)
{
	uint32_t i;

	if (!l->cap)
		return NULL;
	for (i = hash_key(key) & (l->cap - 1);; i = (i + 1) & (l->cap - 1)) {
		struct vfmed_pagelog_chunk *c = &l->tab[i];

		if (!c->used)
			return NULL;
		if (c->key == key)
			return c;
	}
}

static int grow(struct vfmed_pagelog *l)
{
	uint32_t ncap = l->cap ? l->cap * 2 : 64, i;
	struct vfmed_pagelog_chunk *n = calloc(ncap, sizeof(*n));

	if (!n)
		return -1;
	for (i = 0; i < l->cap; i++) {
		struct vfmed_pagelog_chunk *c = &l->tab[i];
		uint32_t j;

		if (!c->used)
			continue;
		for (j = hash_key(c->key) & (ncap - 1); n[j].used; j = (j + 1) & (ncap - 1))
			;
		n[j] = *c;
	}
	free(l->tab);
	l->tab = n;
	l->cap = ncap;
	return 0;
}

static struct vfmed_pagelog_chunk *get(struct vfmed_pagelog *l, uint64_t key)
{
	struct vfmed_pagelog_chunk *c = lookup(l, key);
	uint32_t i;

	if (c)
		return c;
	if ((l->count + 1) * 2 > l->cap && grow(l) < 0) {
		l->oom = true;
		return NULL;
	}
	for (i = hash_key(key) & (l->cap - 1); l->tab[i].used; i = (i + 1) & (l->cap - 1))
		;
	c = &l->tab[i];
	memset(c, 0, sizeof(*c));
	c->used = 1;
	c->key = key;
	l->count++;
	return c;
}

void vfmed_pagelog_mark(struct vfmed_pagelog *l, uint64_t iova, uint64_t len)
{
	uint64_t pg, last;
	struct vfmed_pagelog_chunk *c = NULL;

	if (!len)
		return;
	pg = iova >> PAGE_SHIFT;
	last = (iova + len - 1) >> PAGE_SHIFT;
	for (; pg <= last; pg++) {
		uint64_t key = pg >> (CHUNK_SHIFT - PAGE_SHIFT);
		unsigned bit = pg & 511;

		if (!c || c->key != key)
			c = get(l, key);
		if (!c)
			return;
		c->bits[bit / 64] |= 1ull << (bit % 64);
		if (pg == UINT64_MAX >> PAGE_SHIFT)
			break;
	}
}

/*
 * Cost is O(chunks in the table + bits set), independent of the length asked for, so a
 * report over a huge sparse range stays cheap; only the caller's bitmap is proportional.
 */
uint64_t vfmed_pagelog_read(struct vfmed_pagelog *l, uint64_t iova, uint64_t len,
                            unsigned shift, uint8_t *bitmap, bool clear)
{
	uint64_t granules = (len + (1ull << shift) - 1) >> shift, nset = 0, g;
	uint64_t first = iova >> PAGE_SHIFT, last = (iova + len - 1) >> PAGE_SHIFT;
	uint32_t i, w;

	memset(bitmap, 0, (size_t)((granules + 7) / 8));
	for (i = 0; i < l->cap; i++) {
		struct vfmed_pagelog_chunk *c = &l->tab[i];
		uint64_t base = c->key << (CHUNK_SHIFT - PAGE_SHIFT);

		if (!c->used || base + 511 < first || base > last)
			continue;
		for (w = 0; w < 8; w++) {
			uint64_t bits = c->bits[w];

			while (bits) {
				unsigned b = (unsigned)__builtin_ctzll(bits);
				uint64_t pg = base + w * 64 + b;

				bits &= bits - 1;
				if (pg < first || pg > last)
					continue;
				g = ((pg << PAGE_SHIFT) - iova) >> shift;
				bitmap[g / 8] |= (uint8_t)(1u << (g % 8));
				if (clear)
					c->bits[w] &= ~(1ull << b);
			}
		}
	}
	for (g = 0; g < (granules + 7) / 8; g++)
		nset += (uint64_t)__builtin_popcount(bitmap[g]);
	return nset;
}
