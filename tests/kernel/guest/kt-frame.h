/* SPDX-License-Identifier: MIT */
/*
 * kt-frame.h - the self-checking Ethernet test frame, in C, for the guest programs of the
 * kernel test. Byte for byte the format of mediator/demo/frames.ts (buildFrame/checkFrame),
 * which the host side of the test uses, so a frame built on one side is verified on the
 * other (a mismatch fails the test loudly, it cannot pass silently):
 *
 *   0      6      12    14      18      22      26      30
 *   | dst  | src  | type | magic | stream| seq   | len   | pattern ... |
 *   type 0x88B5 (IEEE local experimental), magic/stream/seq/len big-endian,
 *   pattern byte i = f(stream, seq, i), so every byte of every frame is checked.
 */
#ifndef VFMED_KT_FRAME_H
#define VFMED_KT_FRAME_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define KT_ETHERTYPE   0x88B5u
#define KT_MAGIC       0x76666d64u  /* "vfmd" */
#define KT_HDR         30u
#define KT_MIN_FRAME   60u

static inline uint8_t kt_pattern(uint32_t stream, uint32_t seq, uint32_t i)
{
	/* Math.imul in frames.ts is a wrapping 32-bit multiply: the same as uint32_t here. */
	uint32_t x = ((i + 0x3c6ef372u) * 0x9e3779b1u) ^ ((seq + 1u) * 0x85ebca6bu) ^
		     ((stream + 3u) * 0xc2b2ae35u);

	x ^= x >> 13;
	return (uint8_t)x;
}

static inline void kt_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static inline uint32_t kt_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Builds a frame of len bytes (KT_MIN_FRAME..cap) into buf. */
static inline void kt_frame_build(uint8_t *buf, uint32_t len, const uint8_t dst[6],
				  const uint8_t src[6], uint32_t stream, uint32_t seq)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = (uint8_t)(KT_ETHERTYPE >> 8);
	buf[13] = (uint8_t)KT_ETHERTYPE;
	kt_put_be32(buf + 14, KT_MAGIC);
	kt_put_be32(buf + 18, stream);
	kt_put_be32(buf + 22, seq);
	kt_put_be32(buf + 26, len);
	for (uint32_t i = KT_HDR; i < len; i++)
		buf[i] = kt_pattern(stream, seq, i);
}

/* Checks a received frame. Returns 0 and fills stream/seq, or -1 with a reason in why. */
static inline int kt_frame_check(const uint8_t *b, uint32_t len, uint32_t *stream,
				 uint32_t *seq, char *why, size_t whycap)
{
	uint32_t hlen;

	if (len < KT_MIN_FRAME) {
		snprintf(why, whycap, "frame of %u bytes is too short", len);
		return -1;
	}
	if (((uint32_t)b[12] << 8 | b[13]) != KT_ETHERTYPE || kt_get_be32(b + 14) != KT_MAGIC) {
		snprintf(why, whycap, "not a test frame (type 0x%02x%02x)", b[12], b[13]);
		return -1;
	}
	*stream = kt_get_be32(b + 18);
	*seq = kt_get_be32(b + 22);
	hlen = kt_get_be32(b + 26);
	if (hlen != len) {
		snprintf(why, whycap, "frame %u/%u: length %u, header says %u", *stream, *seq, len, hlen);
		return -1;
	}
	for (uint32_t i = KT_HDR; i < len; i++) {
		if (b[i] != kt_pattern(*stream, *seq, i)) {
			snprintf(why, whycap, "frame %u/%u: byte %u is 0x%02x, expected 0x%02x",
				 *stream, *seq, i, b[i], kt_pattern(*stream, *seq, i));
			return -1;
		}
	}
	return 0;
}

/* Parses "aa:bb:cc:dd:ee:ff". Returns 0 or -1. */
static inline int kt_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

#endif /* VFMED_KT_FRAME_H */
