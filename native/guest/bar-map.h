/* SPDX-License-Identifier: MIT */
/*
 * bar-map.h - the guest's view of VF BAR0: a fixed 16 KiB virtual reservation whose pages
 * are either mapped from the server's region fd (sparse-mmap areas: passthrough) or left
 * PROT_NONE (every access traps into the MMIO emulation).
 *
 *   base + 0x0000  page 0  CTRL, STATUS, mailbox, stats   PROT_NONE (trapped)
 *   base + 0x1000  page 1  interrupt registers            PROT_NONE (trapped)
 *   base + 0x2000  page 2  RX queue registers             mapped when the server allows
 *   base + 0x3000  page 3  TX queue registers             mapped when the server allows
 *
 * The reservation never moves, so the driver keeps one pointer for the whole run while
 * pages flip between mapped and trapped underneath it (BAR layout changes).
 */
#ifndef VFMED_GUEST_BAR_MAP_H
#define VFMED_GUEST_BAR_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "region-info.h"

struct vfmed_bar {
	uint8_t *base;
	size_t size;
	uint32_t mapped;   /* bit i: page i is mapped from the region fd / file */
	int uio;           /* whole BAR mapped from a file path (no trapping) */
};

/* Reserves size bytes (a multiple of 4 KiB, at most 32 pages) PROT_NONE. */
int vfmed_bar_reserve(struct vfmed_bar *b, size_t size);

/* Makes the mapped pages equal to layout's areas, mapped from fd (not kept; -1 when the
 * layout has no areas). Pages leaving the set become PROT_NONE again. With force_trap,
 * nothing is mapped (every access traps). Returns 0 or -errno; on error the pages that
 * could not be mapped stay PROT_NONE, which is always safe (they trap). */
int vfmed_bar_apply(struct vfmed_bar *b, const struct vfmed_region_layout *layout, int fd,
		    int force_trap);

/* UIO-style: maps the whole reservation from path (e.g. a sysfs resource0 or a BAR file
 * under /dev/shm) at file offset 0. */
int vfmed_bar_map_file(struct vfmed_bar *b, const char *path);

void vfmed_bar_release(struct vfmed_bar *b);

#endif /* VFMED_GUEST_BAR_MAP_H */
