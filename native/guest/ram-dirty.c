/* SPDX-License-Identifier: MIT */
/*
 * ram-dirty.c - mprotect-based CPU dirty tracking of guest RAM (see ram-dirty.h for why
 * mprotect and not userfaultfd, the bitmap layout and the EFAULT hazard).
 */
#define _GNU_SOURCE
#include "ram-dirty.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sigsafe.h"

/* The tracker the SIGSEGV handler consults (set while tracking). */
static struct vfmed_ram_dirty *volatile active;

int vfmed_ram_dirty_init(struct vfmed_ram_dirty *d, uint8_t *host, uint64_t size)
{
	memset(d, 0, sizeof(*d));
	if (!host || !size || size % VFMED_PAGE_SIZE)
		return -EINVAL;
	d->host = host;
	d->size = size;
	d->pages = size / VFMED_PAGE_SIZE;
	d->words = (d->pages + 63) / 64;
	d->bits = calloc(d->words, sizeof(uint64_t));
	return d->bits ? 0 : -ENOMEM;
}

void vfmed_ram_dirty_free(struct vfmed_ram_dirty *d)
{
	if (d->tracking)
		vfmed_ram_dirty_stop(d);
	free(d->bits);
	d->bits = NULL;
}

static int protect_all(struct vfmed_ram_dirty *d, int prot)
{
	return mprotect(d->host, d->size, prot) ? -errno : 0;
}

int vfmed_ram_dirty_start(struct vfmed_ram_dirty *d)
{
	int rc;

	if (active && active != d)
		return -EBUSY;
	memset(d->bits, 0, d->words * sizeof(uint64_t));
	d->overflow = 0;
	/* Handler first, protection second: a fault can only come after the protect. */
	active = d;
	d->tracking = 1;
	rc = protect_all(d, PROT_READ);
	if (rc) {
		protect_all(d, PROT_READ | PROT_WRITE);
		d->tracking = 0;
		active = NULL;
	}
	return rc;
}

int64_t vfmed_ram_dirty_take(struct vfmed_ram_dirty *d, uint64_t *out)
{
	int64_t added = 0;

	if (!d->tracking)
		return -EINVAL;
	/* Single thread: nothing stores to guest RAM between the take and the protect. */
	if (d->overflow) {
		for (uint64_t w = 0; w < d->words; w++)
			out[w] = ~0ull;
		if (d->pages % 64)
			out[d->words - 1] = (1ull << (d->pages % 64)) - 1;
		added = (int64_t)d->pages;
		d->overflow = 0;
	} else {
		for (uint64_t w = 0; w < d->words; w++) {
			uint64_t b = d->bits[w];
			if (b) {
				added += __builtin_popcountll(b & ~out[w]);
				out[w] |= b;
			}
		}
	}
	memset(d->bits, 0, d->words * sizeof(uint64_t));
	return protect_all(d, PROT_READ) ?: added;
}

int vfmed_ram_dirty_stop(struct vfmed_ram_dirty *d)
{
	int rc = 0;

	if (!d->tracking)
		return 0;
	rc = protect_all(d, PROT_READ | PROT_WRITE);
	d->tracking = 0;
	if (active == d)
		active = NULL;
	return rc;
}

/* Marks page p and makes it writable; on failure falls back to all-writable + overflow. */
static void unprotect_page(struct vfmed_ram_dirty *d, uint64_t p)
{
	d->bits[p / 64] |= 1ull << (p % 64);
	if (d->overflow)
		return;  /* everything is writable already */
	if (mprotect(d->host + p * VFMED_PAGE_SIZE, VFMED_PAGE_SIZE, PROT_READ | PROT_WRITE) == 0)
		return;
	/* Splitting the mapping failed (max_map_count): one mprotect over all of RAM merges
	 * it back into one writable VMA; every page counts as dirty at the next take. */
	if (mprotect(d->host, d->size, PROT_READ | PROT_WRITE) == 0) {
		d->overflow = 1;
		return;
	}
	struct sigsafe_buf b = { .len = 0 };
	sigsafe_str(&b, "vfmed-guest: dirty tracking: cannot make guest RAM writable again (errno ");
	sigsafe_dec(&b, errno);
	sigsafe_str(&b, "); the guest cannot continue\n");
	sigsafe_flush(&b, 2);
	_exit(1);
}

int vfmed_ram_dirty_fault(uintptr_t addr)
{
	struct vfmed_ram_dirty *d = active;

	if (!d || !d->tracking || addr < (uintptr_t)d->host || addr - (uintptr_t)d->host >= d->size)
		return 0;
	unprotect_page(d, (addr - (uintptr_t)d->host) / VFMED_PAGE_SIZE);
	d->faults++;
	return 1;
}

void vfmed_ram_dirty_prepare_write(void *p, size_t len)
{
	struct vfmed_ram_dirty *d = active;
	uintptr_t a = (uintptr_t)p, h;

	if (!d || !d->tracking || !len)
		return;
	h = (uintptr_t)d->host;
	if (a + len <= h || a >= h + d->size)
		return;
	if (a < h) {
		len -= h - a;
		a = h;
	}
	if (a + len > h + d->size)
		len = h + d->size - a;
	for (uint64_t pg = (a - h) / VFMED_PAGE_SIZE; pg <= (a + len - 1 - h) / VFMED_PAGE_SIZE; pg++) {
		if (!(d->bits[pg / 64] & (1ull << (pg % 64))) || d->overflow) {
			unprotect_page(d, pg);
			d->prepared++;
		}
	}
}

uint64_t vfmed_bitmap_count(const uint64_t *bits, uint64_t words)
{
	uint64_t n = 0;

	for (uint64_t w = 0; w < words; w++)
		n += (uint64_t)__builtin_popcountll(bits[w]);
	return n;
}
