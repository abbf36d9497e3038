/* SPDX-License-Identifier: MIT */
/*
 * region-info.c - GET_REGION_INFO reply validation (see region-info.h).
 *
 *   0        32                 cap_offset                          argsz
 *   | region |  ...              | cap hdr | nr_areas | rsvd | {offset,size} x n |
 *   | info   |                   | id=1 v=1 next                                |
 */
#include "region-info.h"

#include <errno.h>
#include <string.h>

#include "vfio-user-proto.h"

#define PAGE 4096u

static int bad(const char **why, const char *text)
{
	*why = text;
	return -EPROTO;
}

int vfmed_region_layout_parse(const void *buf, uint32_t len, uint32_t index,
			      struct vfmed_region_layout *out, const char **why)
{
	const uint8_t *p = buf;
	struct vfu_region_info ri;
	uint32_t at, prev = 0;
	unsigned caps = 0;
	int have_sparse = 0;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (len < sizeof(ri))
		return bad(why, "region info shorter than 32 bytes");
	memcpy(&ri, p, sizeof(ri));
	if (ri.index != index)
		return bad(why, "region info for another index");
	out->flags = ri.flags;
	out->size = ri.size;
	out->offset = ri.offset;

	at = (ri.flags & VFU_REGION_F_CAPS) ? ri.cap_offset : 0;
	while (at) {
		struct vfu_cap_header h;

		if (++caps > 16)
			return bad(why, "more than 16 region capabilities");
		if (at < sizeof(ri) || at <= prev || (at & 7) || at > len ||
		    len - at < sizeof(h))
			return bad(why, "capability offset outside the reply or not increasing");
		memcpy(&h, p + at, sizeof(h));
		if (h.id == VFU_REGION_CAP_SPARSE_MMAP) {
			struct vfu_cap_sparse_mmap sm;
			if (have_sparse)
				return bad(why, "two SPARSE_MMAP capabilities");
			have_sparse = 1;
			if (h.version != 1)
				return bad(why, "SPARSE_MMAP capability version is not 1");
			if (len - at < sizeof(sm))
				return bad(why, "SPARSE_MMAP capability truncated");
			memcpy(&sm, p + at, sizeof(sm));
			if (sm.nr_areas > (len - at - sizeof(sm)) / sizeof(struct vfu_sparse_mmap_area))
				return bad(why, "SPARSE_MMAP areas run past the reply");
			for (uint32_t i = 0; i < sm.nr_areas; i++) {
				struct vfu_sparse_mmap_area a;
				memcpy(&a, p + at + sizeof(sm) + i * sizeof(a), sizeof(a));
				if (a.size == 0)
					continue;
				if (a.offset > ri.size || a.size > ri.size - a.offset)
					return bad(why, "SPARSE_MMAP area outside the region");
				if ((a.offset | a.size) & (PAGE - 1)) {
					out->ignored++;  /* cannot mmap a partial page: trap it */
					continue;
				}
				if (out->nr_areas >= VFMED_REGION_MAX_AREAS)
					return bad(why, "more than 16 SPARSE_MMAP areas");
				out->areas[out->nr_areas].offset = a.offset;
				out->areas[out->nr_areas].size = a.size;
				out->nr_areas++;
			}
		}
		/* Other capabilities (e.g. TYPE) are not needed by this client. */
		prev = at;
		at = h.next;
	}
	out->sparse = have_sparse;

	if (!(ri.flags & VFU_REGION_F_MMAP)) {
		out->nr_areas = 0;  /* sparse areas are meaningful only with MMAP */
	} else if (!have_sparse) {
		if (ri.size & (PAGE - 1)) {
			out->ignored++;
		} else if (ri.size) {
			out->areas[0].offset = 0;
			out->areas[0].size = ri.size;
			out->nr_areas = 1;
		}
	}
	if (out->nr_areas && (ri.offset & (PAGE - 1)))
		return bad(why, "region mmap offset is not page aligned");
	return 0;
}

int vfmed_region_type(const void *buf, uint32_t len, uint32_t *type, uint32_t *subtype)
{
	const uint8_t *p = buf;
	struct vfu_region_info ri;
	uint32_t at, prev = 0;
	unsigned caps = 0;

	if (len < sizeof(ri))
		return -ENOENT;
	memcpy(&ri, p, sizeof(ri));
	at = (ri.flags & VFU_REGION_F_CAPS) ? ri.cap_offset : 0;
	while (at) {
		struct vfu_cap_header h;

		if (++caps > 16 || at < sizeof(ri) || at <= prev || (at & 7) || at > len ||
		    len - at < sizeof(h))
			return -ENOENT;
		memcpy(&h, p + at, sizeof(h));
		if (h.id == VFU_REGION_CAP_TYPE && len - at >= sizeof(struct vfu_cap_type)) {
			struct vfu_cap_type t;
			memcpy(&t, p + at, sizeof(t));
			*type = t.type;
			*subtype = t.subtype;
			return 0;
		}
		prev = at;
		at = h.next;
	}
	return -ENOENT;
}
