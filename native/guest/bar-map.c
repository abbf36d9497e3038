/* SPDX-License-Identifier: MIT */
/*
 * bar-map.c - BAR0 reservation and per-page mapping (see bar-map.h). Every change is an
 * mmap(MAP_FIXED) over one page of the reservation, which replaces the old mapping
 * atomically: a concurrent access either sees the old page or the new one, never a hole
 * where another mapping could land.
 */
#define _GNU_SOURCE
#include "bar-map.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096u

int vfmed_bar_reserve(struct vfmed_bar *b, size_t size)
{
	void *p;

	memset(b, 0, sizeof(*b));
	if (!size || (size & (PAGE - 1)) || size / PAGE > 32)
		return -EINVAL;
	p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	b->base = p;
	b->size = size;
	return 0;
}

static int trap_page(struct vfmed_bar *b, unsigned i)
{
	void *p = mmap(b->base + (size_t)i * PAGE, PAGE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	b->mapped &= ~(1u << i);
	return 0;
}

/* The backing must cover [off, off + len) or accesses would SIGBUS. */
static int check_backing(int fd, uint64_t off, uint64_t len)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode) && ((uint64_t)st.st_size < off || (uint64_t)st.st_size - off < len))
		return -ENXIO;
	return 0;
}

int vfmed_bar_apply(struct vfmed_bar *b, const struct vfmed_region_layout *layout, int fd,
		    int force_trap)
{
	uint32_t want = 0;
	unsigned pages = (unsigned)(b->size / PAGE);
	int rc = 0;

	if (!force_trap) {
		for (unsigned a = 0; a < layout->nr_areas; a++) {
			uint64_t first = layout->areas[a].offset / PAGE;
			uint64_t n = layout->areas[a].size / PAGE;
			for (uint64_t i = first; i < first + n && i < pages; i++)
				want |= 1u << i;
		}
		if (want && fd < 0)
			return -EBADF;
	}

	for (unsigned i = 0; i < pages; i++) {
		if (want & (1u << i)) {
			uint64_t off = layout->offset + (uint64_t)i * PAGE;
			int r = check_backing(fd, off, PAGE);
			void *p;

			if (r) {
				if (!rc)
					rc = r;
				if (b->mapped & (1u << i))
					trap_page(b, i);
				continue;
			}
			/* Always remap: the fd may name a different object than last time. */
			p = mmap(b->base + (size_t)i * PAGE, PAGE, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, fd, (off_t)off);
			if (p == MAP_FAILED) {
				if (!rc)
					rc = -errno;
				if (b->mapped & (1u << i))
					trap_page(b, i);
				continue;
			}
			b->mapped |= 1u << i;
		} else if (b->mapped & (1u << i)) {
			int r = trap_page(b, i);
			if (r && !rc)
				rc = r;
		}
	}
	return rc;
}

int vfmed_bar_map_file(struct vfmed_bar *b, const char *path)
{
	int fd, rc;
	void *p;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = check_backing(fd, 0, b->size);
	if (rc) {
		close(fd);
		return rc;
	}
	p = mmap(b->base, b->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	rc = p == MAP_FAILED ? -errno : 0;
	close(fd);
	if (rc)
		return rc;
	b->mapped = (uint32_t)((1ull << (b->size / PAGE)) - 1);
	b->uio = 1;
	return 0;
}

void vfmed_bar_release(struct vfmed_bar *b)
{
	if (b->base)
		munmap(b->base, b->size);
	memset(b, 0, sizeof(*b));
}
