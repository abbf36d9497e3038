/* SPDX-License-Identifier: MIT */
/*
 * guest-ram.h - guest RAM: a memfd (or a file, when something else must map it too, e.g.
 * a later migration or a UIO-style device that reads it) mapped shared into the runner,
 * handed to the device with DMA_MAP at IOVA == GPA base.
 */
#ifndef VFMED_GUEST_GUEST_RAM_H
#define VFMED_GUEST_GUEST_RAM_H

#include <stdint.h>

#include "guest-state.h"

struct vfmed_guest_ram {
	int fd;
	uint8_t *host;     /* host view of GPA base */
	uint64_t size;
	uint64_t base;     /* GPA (== IOVA) of the first byte */
	uint64_t file_off; /* offset of the first byte in fd */
};

/* Creates/opens and maps size bytes (multiple of 4 KiB). path NULL: anonymous memfd; else
 * the file is opened (created if missing, grown if a smaller regular file) at file_off. */
int vfmed_guest_ram_open(struct vfmed_guest_ram *r, uint64_t size, const char *path,
			 uint64_t file_off, uint64_t base);
void vfmed_guest_ram_close(struct vfmed_guest_ram *r);

/* Host pointer for [gpa, gpa + len), or NULL if outside guest RAM. */
static inline void *vfmed_gpa(const struct vfmed_guest_ram *r, uint64_t gpa, uint64_t len)
{
	if (gpa < r->base || len > r->size || gpa - r->base > r->size - len)
		return 0;
	return r->host + (gpa - r->base);
}

/* Bytes of RAM the layout needs for the given ring sizes, queue pairs and RX sets. */
uint64_t vfmed_guest_ram_needed(uint32_t tx_count, uint32_t rx_count, uint32_t queues,
				uint32_t rx_sets);

/*
 * Writes a fresh struct vfmed_guest_state at VFMED_GPA_STATE and the GPA layout for the
 * ring sizes. Returns the state, or NULL with *err set if RAM is too small or a ring size
 * is not a multiple of 8 in [8, 4096].
 */
struct vfmed_guest_state *vfmed_guest_state_init(struct vfmed_guest_ram *r, uint32_t tx_count,
						 uint32_t rx_count, uint32_t queues,
						 uint32_t rx_sets, const char **err);

/*
 * --resume: the state a previous runner left in this RAM (after a migration), checked
 * before anything of it is used: magic, version, sizes, every ring, buffer and index inside
 * RAM. NULL with *err set otherwise.
 */
struct vfmed_guest_state *vfmed_guest_state_find(struct vfmed_guest_ram *r, const char **err);

#endif /* VFMED_GUEST_GUEST_RAM_H */
