/* SPDX-License-Identifier: MIT */
/*
 * dma-map.c - IOVA -> host translation for one function's DMA space (a VF's or the PF's),
 * with the bounds checks every device access goes through.
 *
 * A map is an fd + offset mmapped MAP_SHARED (the NIC dups the fd, so the caller may close
 * its own). Maps are kept sorted by IOVA and never overlap. Copies may span adjacent maps
 * (guest RAM split in two regions), but the whole range is checked before the first byte
 * moves, so a bad range never produces a partial access.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../nic/internal.h"

static long page_size(void)
{
	static long ps;

	if (!ps)
		ps = sysconf(_SC_PAGESIZE);
	return ps;
}

/* Index of the first map whose end is above iova (binary search). */
static uint32_t find_idx(const struct vfmed_dma_space *s, uint64_t iova)
{
	uint32_t lo = 0, hi = s->count;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		const struct vfmed_dma_map *m = &s->maps[mid];

		if (m->iova + m->len <= iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct vfmed_dma_map *find_map(const struct vfmed_dma_space *s, uint64_t iova)
{
	uint32_t i = find_idx(s, iova);

	if (i < s->count && s->maps[i].iova <= iova)
		return &s->maps[i];
	return NULL;
}

bool vfmed_dma_overlaps(const struct vfmed_dma_space *s, uint64_t iova, uint64_t len)
{
	uint32_t i;

	if (!len)
		return false;
	i = find_idx(s, iova);
	return i < s->count && s->maps[i].iova < iova + len;
}

int vfmed_dma_space_map(struct vfmed_dma_space *s, uint64_t iova, uint64_t len, int fd,
                        uint64_t offset, uint32_t prot)
{
	struct vfmed_dma_map m = { 0 };
	struct stat st;
	uint64_t ps = (uint64_t)page_size(), delta;
	uint32_t i;

	if (!len || iova + len < iova || offset + len < offset)
		return -EINVAL;
	if (!prot || (prot & ~(VFMED_DMA_READ | VFMED_DMA_WRITE)))
		return -EINVAL;
	if (fd < 0)
		return -EBADF;
	if (fstat(fd, &st) < 0)
		return -EBADF;
	/* A regular file or memfd must cover the range; mmap past EOF would SIGBUS later. */
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < offset + len)
		return -EINVAL;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (vfmed_dma_overlaps(s, iova, len))
		return -EEXIST;
	if (s->count == s->cap) {
		uint32_t ncap = s->cap ? s->cap * 2 : 8;
		struct vfmed_dma_map *n = realloc(s->maps, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->maps = n;
		s->cap = ncap;
	}
	m.fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (m.fd < 0)
		return -errno;
	delta = offset & (ps - 1);
	m.mmap_len = (size_t)(len + delta + ps - 1) & ~(size_t)(ps - 1);
	/* Reserve the window plus one PROT_NONE guard page on each side, then place the file
	 * in the middle: a device bug that ran past a map would fault loudly instead of
	 * touching unrelated daemon memory. */
	m.mmap_base = mmap(NULL, m.mmap_len + 2 * ps, PROT_NONE,
	                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m.mmap_base == MAP_FAILED) {
		close(m.fd);
		return -ENOMEM;
	}
	{
		uint8_t *win = (uint8_t *)m.mmap_base + ps;
		/* Map RW when the fd allows it (prot is enforced by the checks, not the MMU);
		 * a read-only fd can only back a read-only map. */
		void *p = mmap(win, m.mmap_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		               m.fd, (off_t)(offset - delta));

		if (p == MAP_FAILED && !(prot & VFMED_DMA_WRITE))
			p = mmap(win, m.mmap_len, PROT_READ, MAP_SHARED | MAP_FIXED, m.fd,
			         (off_t)(offset - delta));
		if (p == MAP_FAILED) {
			int e = errno;

			munmap(m.mmap_base, m.mmap_len + 2 * ps);
			close(m.fd);
			return -e;
		}
		m.host = win + delta;
	}
	m.mmap_len += 2 * ps;
	m.iova = iova;
	m.len = len;
	m.prot = prot;
	i = find_idx(s, iova);
	memmove(&s->maps[i + 1], &s->maps[i], (s->count - i) * sizeof(m));
	s->maps[i] = m;
	s->count++;
	return 0;
}

static void drop_map(struct vfmed_dma_space *s, uint32_t i)
{
	munmap(s->maps[i].mmap_base, s->maps[i].mmap_len);
	close(s->maps[i].fd);
	memmove(&s->maps[i], &s->maps[i + 1], (s->count - i - 1) * sizeof(s->maps[0]));
	s->count--;
}

int vfmed_dma_space_unmap(struct vfmed_dma_space *s, uint64_t iova, uint64_t len)
{
	uint32_t i = find_idx(s, iova);

	if (i >= s->count || s->maps[i].iova != iova || s->maps[i].len != len)
		return -ENOENT;
	drop_map(s, i);
	return 0;
}

void vfmed_dma_space_clear(struct vfmed_dma_space *s)
{
	while (s->count)
		drop_map(s, s->count - 1);
	free(s->maps);
	s->maps = NULL;
	s->cap = 0;
}

uint8_t *vfmed_dma_ptr(const struct vfmed_dma_space *s, uint64_t iova, uint64_t len,
                       uint32_t prot)
{
	const struct vfmed_dma_map *m;

	if (!len || iova + len < iova)
		return NULL;
	m = find_map(s, iova);
	if (!m || (m->prot & prot) != prot)
		return NULL;
	if (iova + len > m->iova + m->len)
		return NULL;
	return m->host + (iova - m->iova);
}

int vfmed_dma_check(const struct vfmed_dma_space *s, uint64_t iova, uint64_t len,
                    uint32_t prot)
{
	uint64_t end = iova + len;

	if (!len || end < iova)
		return -EFAULT;
	while (iova < end) {
		const struct vfmed_dma_map *m = find_map(s, iova);

		if (!m || (m->prot & prot) != prot)
			return -EFAULT;
		iova = m->iova + m->len;   /* continue in the adjacent map, if any */
	}
	return 0;
}

int vfmed_dma_read(const struct vfmed_dma_space *s, uint64_t iova, void *dst, uint64_t len)
{
	uint8_t *d = dst;
	int rc = vfmed_dma_check(s, iova, len, VFMED_DMA_READ);

	if (rc)
		return rc;
	while (len) {
		const struct vfmed_dma_map *m = find_map(s, iova);
		uint64_t n = m->iova + m->len - iova;

		if (n > len)
			n = len;
		memcpy(d, m->host + (iova - m->iova), n);
		d += n;
		iova += n;
		len -= n;
	}
	return 0;
}

void vfmed_dma_mark(struct vfmed_dma_space *s, uint64_t iova, uint64_t len)
{
	if (s->truth)
		vfmed_pagelog_mark(s->truth, iova, len);
	if (s->dirty && s->dirty->started)
		vfmed_dirty_mark(s->dirty, iova, len);
}

int vfmed_dma_write(struct vfmed_dma_space *s, uint64_t iova, const void *src, uint64_t len)
{
	const uint8_t *p = src;
	uint64_t a = iova, l = len;
	int rc = vfmed_dma_check(s, iova, len, VFMED_DMA_WRITE);

	if (rc)
		return rc;
	while (l) {
		const struct vfmed_dma_map *m = find_map(s, a);
		uint64_t n = m->iova + m->len - a;

		if (n > l)
			n = l;
		memcpy(m->host + (a - m->iova), p, n);
		p += n;
		a += n;
		l -= n;
	}
	vfmed_dma_mark(s, iova, len);
	return 0;
}
