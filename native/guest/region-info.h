/* SPDX-License-Identifier: MIT */
/*
 * region-info.h - validation of a GET_REGION_INFO reply (struct vfio_region_info plus its
 * capability chain) into the list of page-aligned areas the client may mmap.
 */
#ifndef VFMED_GUEST_REGION_INFO_H
#define VFMED_GUEST_REGION_INFO_H

#include <stdint.h>

#define VFMED_REGION_MAX_AREAS 16u

struct vfmed_region_layout {
	uint32_t flags;        /* VFU_REGION_F_* */
	uint64_t size;
	uint64_t offset;       /* mmap offset of the region in its fd */
	unsigned nr_areas;     /* mmap-able areas, page aligned, inside the region */
	struct { uint64_t offset, size; } areas[VFMED_REGION_MAX_AREAS];
	unsigned ignored;      /* areas dropped because they are not page aligned */
	int sparse;            /* a SPARSE_MMAP capability was present */
};

/*
 * Parses buf[0..len) of region index `index`. Rules: cap_offset/next inside the payload,
 * 8-byte aligned, strictly increasing (no loops), at most 16 caps; SPARSE_MMAP version 1
 * with nr_areas entries inside the payload; areas inside [0, size). Without MMAP nothing
 * is mappable; with MMAP and no SPARSE_MMAP the whole region is one area. Returns 0 or
 * -EPROTO with *why set to a static description.
 */
int vfmed_region_layout_parse(const void *buf, uint32_t len, uint32_t index,
			      struct vfmed_region_layout *out, const char **why);

/* The VFIO_REGION_INFO_CAP_TYPE of a region info reply: 0 with *type and *subtype set, or
 * -ENOENT when the chain (walked with the same rules) has none. */
int vfmed_region_type(const void *buf, uint32_t len, uint32_t *type, uint32_t *subtype);

#endif /* VFMED_GUEST_REGION_INFO_H */
