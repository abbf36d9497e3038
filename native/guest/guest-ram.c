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

/* Lays out queue pairs from VFMED_GPA_TX_RING on; returns the first free GPA offset. */
static uint64_t layout(struct vfmed_guest_state *st, uint64_t base, uint32_t tx_count,
		       uint32_t rx_count, uint32_t queues, uint32_t rx_sets)
{
	uint64_t at = 0;

	for (uint32_t q = 0; q < queues; q++) {
		uint64_t tx_ring, rx_ring, tx_bufs, rx_bufs;

		if (q == 0) {
			/* Queue 0 keeps the fixed GPAs of the original layout. */
			tx_ring = VFMED_GPA_TX_RING;
			rx_ring = VFMED_GPA_RX_RING;
			tx_bufs = VFMED_GPA_BUFFERS;
		} else {
			tx_ring = (at + 4095) & ~4095ull;
			rx_ring = tx_ring + (((uint64_t)tx_count * 16 + 4095) & ~4095ull);
			tx_bufs = rx_ring + (((uint64_t)rx_count * 16 + 4095) & ~4095ull);
		}
		rx_bufs = tx_bufs + (uint64_t)tx_count * VFMED_BUF_SIZE;
		at = rx_bufs + (uint64_t)rx_count * rx_sets * VFMED_BUF_SIZE;
		if (st) {
			st->q[q].tx_ring = base + tx_ring;
			st->q[q].rx_ring = base + rx_ring;
			st->q[q].tx_bufs = base + tx_bufs;
			st->q[q].rx_bufs = base + rx_bufs;
		}
	}
	return at;
}

uint64_t vfmed_guest_ram_needed(uint32_t tx_count, uint32_t rx_count, uint32_t queues,
				uint32_t rx_sets)
{
	return (layout(NULL, 0, tx_count, rx_count, queues, rx_sets) + 4095) & ~4095ull;
}

static int ring_ok(uint32_t n)
{
	return n >= VFMED_RING_MIN && n <= VFMED_RING_MAX && n % 8 == 0;
}

struct vfmed_guest_state *vfmed_guest_state_init(struct vfmed_guest_ram *r, uint32_t tx_count,
						 uint32_t rx_count, uint32_t queues,
						 uint32_t rx_sets, const char **err)
{
	struct vfmed_guest_state *st;

	if (!ring_ok(tx_count) || !ring_ok(rx_count)) {
		*err = "ring sizes must be multiples of 8 in [8, 4096]";
		return NULL;
	}
	if (queues < 1 || queues > VFMED_MAX_QUEUES || rx_sets < 1 || rx_sets > 2) {
		*err = "1 or 2 queue pairs and 1 or 2 RX buffer sets";
		return NULL;
	}
	if (vfmed_guest_ram_needed(tx_count, rx_count, queues, rx_sets) > r->size) {
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
	st->tx_count = tx_count;
	st->rx_count = rx_count;
	st->buf_size = VFMED_BUF_SIZE;
	st->queues = queues;
	st->rx_sets = rx_sets;
	st->rx_buf_kib = VFMED_BUF_SIZE / 1024;
	layout(st, r->base, tx_count, rx_count, queues, rx_sets);
	return st;
}

struct vfmed_guest_state *vfmed_guest_state_find(struct vfmed_guest_ram *r, const char **err)
{
	struct vfmed_guest_state *st = vfmed_gpa(r, r->base + VFMED_GPA_STATE, sizeof(*st));

	if (!st || st->magic != VFMED_GUEST_STATE_MAGIC) {
		*err = "guest RAM holds no vfmed guest state (magic missing)";
		return NULL;
	}
	if (st->version != VFMED_GUEST_STATE_VERSION || st->size != sizeof(*st)) {
		*err = "guest state of another vfmed-guest version";
		return NULL;
	}
	if (st->ram_size != r->size || !ring_ok(st->tx_count) || !ring_ok(st->rx_count) ||
	    st->queues < 1 || st->queues > VFMED_MAX_QUEUES || st->rx_sets < 1 || st->rx_sets > 2 ||
	    st->buf_size != VFMED_BUF_SIZE ||
	    vfmed_guest_ram_needed(st->tx_count, st->rx_count, st->queues, st->rx_sets) > r->size) {
		*err = "guest state does not fit this RAM (size, rings or queues)";
		return NULL;
	}
	for (uint32_t q = 0; q < st->queues; q++) {
		const struct vfmed_guest_queue *g = &st->q[q];
		if (!vfmed_gpa(r, g->tx_ring, (uint64_t)st->tx_count * 16) ||
		    !vfmed_gpa(r, g->rx_ring, (uint64_t)st->rx_count * 16) ||
		    !vfmed_gpa(r, g->tx_bufs, (uint64_t)st->tx_count * st->buf_size) ||
		    !vfmed_gpa(r, g->rx_bufs, (uint64_t)st->rx_count * st->rx_sets * st->buf_size) ||
		    g->tx_next_to_use >= st->tx_count || g->tx_next_to_clean >= st->tx_count ||
		    g->rx_next_to_clean >= st->rx_count) {
			*err = "guest state has rings or indices outside guest RAM";
			return NULL;
		}
	}
	return st;
}
