/* SPDX-License-Identifier: MIT */
/*
 * guest-ram.c - guest RAM backing and the layout of guest-state.h.
 */
#define _GNU_SOURCE
#include "guest-ram.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int vfmed_guest_ram_open(struct vfmed_guest_ram *r, uint64_t size, const char *path,
			 uint64_t file_off, uint64_t base)
{
	struct stat st;
	void *p;
	int fd, rc;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (!size || (size & 4095) || (file_off & 4095) || base + size < base)
		return -EINVAL;
	if (path)
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	else
		fd = memfd_create("vfmed-guest-ram", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if ((!path || S_ISREG(st.st_mode)) && (uint64_t)st.st_size < file_off + size) {
		if (ftruncate(fd, (off_t)(file_off + size)) < 0) {
			rc = -errno;
			goto fail;
		}
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)file_off);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	r->fd = fd;
	r->host = p;
	r->size = size;
	r->base = base;
	r->file_off = file_off;
	return 0;
fail:
	close(fd);
	return rc;
}

void vfmed_guest_ram_close(struct vfmed_guest_ram *r)
{
	if (r->host)
		munmap(r->host, r->size);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

uint64_t vfmed_guest_ram_needed(uint32_t tx_count, uint32_t rx_count)
{
	uint64_t end = VFMED_GPA_BUFFERS + ((uint64_t)tx_count + rx_count) * VFMED_BUF_SIZE;
	return (end + 4095) & ~4095ull;
}

static int ring_ok(uint32_t n)
{
	return n >= VFMED_RING_MIN && n <= VFMED_RING_MAX && n % 8 == 0;
}

struct vfmed_guest_state *vfmed_guest_state_init(struct vfmed_guest_ram *r, uint32_t tx_count,
						 uint32_t rx_count, const char **err)
{
	struct vfmed_guest_state *st;

	if (!ring_ok(tx_count) || !ring_ok(rx_count)) {
		*err = "ring sizes must be multiples of 8 in [8, 4096]";
		return NULL;
	}
	if (vfmed_guest_ram_needed(tx_count, rx_count) > r->size) {
		*err = "guest RAM too small for the rings and buffers";
		return NULL;
	}
	st = vfmed_gpa(r, r->base + VFMED_GPA_STATE, sizeof(*st));
	if (!st) {
		*err = "guest RAM too small for the state";
		return NULL;
	}
	memset(st, 0, sizeof(*st));
	st->magic = VFMED_GUEST_STATE_MAGIC;
	st->version = VFMED_GUEST_STATE_VERSION;
	st->size = sizeof(*st);
	st->ram_size = r->size;
	st->tx_ring = r->base + VFMED_GPA_TX_RING;
	st->rx_ring = r->base + VFMED_GPA_RX_RING;
	st->tx_bufs = r->base + VFMED_GPA_BUFFERS;
	st->rx_bufs = st->tx_bufs + (uint64_t)tx_count * VFMED_BUF_SIZE;
	st->tx_count = tx_count;
	st->rx_count = rx_count;
	st->buf_size = VFMED_BUF_SIZE;
	return st;
}
