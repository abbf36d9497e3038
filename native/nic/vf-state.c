/* SPDX-License-Identifier: MIT */
/* vf-state.c - VF state blob (placeholder until the full implementation lands). */
#include <errno.h>
#include <string.h>

#include "internal.h"

uint32_t vfmed_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t k;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
	}
	return ~crc;
}

uint32_t vfmed_vf_state_size(struct vfmed_vf *vf)
{
	(void)vf;
	return 0;
}

int vfmed_vf_state_save(struct vfmed_vf *vf, uint8_t *buf, uint32_t cap, uint32_t *out_len)
{
	return -EOPNOTSUPP;
}

int vfmed_vf_state_load(struct vfmed_vf *vf, const uint8_t *buf, uint32_t len)
{
	return -EOPNOTSUPP;
}
