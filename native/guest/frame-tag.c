/* SPDX-License-Identifier: MIT */
/*
 * frame-tag.c - test frame generation, tagging and verification (see frame-tag.h).
 */
#include "frame-tag.h"

#include <string.h>

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t vfmed_crc32(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t c = 0xFFFFFFFFu;

	if (!crc_table[1])
		crc_init();
	while (len--)
		c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v = 0; for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v = 0; for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i); return v; }

void vfmed_frame_stamp(uint8_t *buf, uint16_t len, uint16_t stream, uint64_t seq)
{
	uint8_t *t = buf + len - VFMED_TAG_LEN;

	put32(t, VFMED_TAG_MAGIC);
	put16(t + 4, stream);
	put16(t + 6, 0);
	put64(t + 8, seq);
	put32(t + 16, len);
	put32(t + 20, vfmed_crc32(buf + 12, (size_t)len - 16));
}

void vfmed_frame_generate(uint8_t *buf, uint16_t len, const uint8_t dst[6], const uint8_t src[6],
			  uint16_t stream, uint64_t seq)
{
	uint32_t x = (uint32_t)(seq * 2654435761u) ^ stream;

	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = VFMED_ETHERTYPE_GEN >> 8;
	buf[13] = VFMED_ETHERTYPE_GEN & 0xFF;
	for (uint16_t i = 14; i < len - VFMED_TAG_LEN; i++) {
		x = x * 1103515245u + 12345u;  /* payload differs per frame */
		buf[i] = (uint8_t)(x >> 16);
	}
	vfmed_frame_stamp(buf, len, stream, seq);
}

enum vfmed_tag_check vfmed_frame_check(const uint8_t *buf, uint16_t len, struct vfmed_tag *tag)
{
	const uint8_t *t;

	if (len < 14 + VFMED_TAG_LEN)
		return VFMED_TAG_NONE;
	t = buf + len - VFMED_TAG_LEN;
	if (get32(t) != VFMED_TAG_MAGIC)
		return VFMED_TAG_NONE;
	if (get32(t + 16) != len || get16(t + 6) != 0 ||
	    get32(t + 20) != vfmed_crc32(buf + 12, (size_t)len - 16))
		return VFMED_TAG_CORRUPT;
	tag->stream = get16(t + 4);
	tag->seq = get64(t + 8);
	return VFMED_TAG_OK;
}
