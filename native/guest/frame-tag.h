/* SPDX-License-Identifier: MIT */
/*
 * frame-tag.h - test frames and the tag that makes every frame traceable end to end.
 *
 * Generated frame (txgen without --pcap), len bytes, no FCS:
 *
 *   0      6      12   14                                 len-24          len
 *   | dst  | src  |88B5| payload: bytes derived from seq  | tag trailer   |
 *
 * Tag trailer (last 24 bytes of any tagged frame, also stamped onto pcap frames):
 *
 *   +0 magic "VFMT" (u32 LE 0x544D4656)  +4 stream (u16)  +6 reserved (u16, 0)
 *   +8 seq (u64)  +16 frame length (u32)  +20 CRC-32 (IEEE) of bytes [12, len-4)
 *
 * The CRC covers everything after the two MAC addresses, so corruption of the payload or
 * the tag is detected while a forwarder may still rewrite the addresses (txgen -> fwd ->
 * rxsink chains verify end to end). A frame whose last 24 bytes do not start with the
 * magic is "untagged".
 */
#ifndef VFMED_GUEST_FRAME_TAG_H
#define VFMED_GUEST_FRAME_TAG_H

#include <stddef.h>
#include <stdint.h>

#define VFMED_TAG_MAGIC     0x544D4656u  /* "VFMT" */
#define VFMED_TAG_LEN       24u
#define VFMED_ETHERTYPE_GEN 0x88B5u      /* IEEE 802 local experimental ethertype 1 */
#define VFMED_FRAME_MIN     60u          /* without FCS */
#define VFMED_FRAME_MAX     1514u        /* without FCS; no jumbo frames */

struct vfmed_tag {
	uint16_t stream;
	uint64_t seq;
};

enum vfmed_tag_check {
	VFMED_TAG_OK = 0,
	VFMED_TAG_NONE = 1,      /* no trailer magic */
	VFMED_TAG_CORRUPT = 2,   /* magic present but length or CRC wrong */
};

uint32_t vfmed_crc32(const void *data, size_t len);

/* Builds a generated frame of len bytes (VFMED_FRAME_MIN..MAX) into buf. */
void vfmed_frame_generate(uint8_t *buf, uint16_t len, const uint8_t dst[6], const uint8_t src[6],
			  uint16_t stream, uint64_t seq);

/* Stamps the trailer onto the last 24 bytes of an existing frame (len >= 38). */
void vfmed_frame_stamp(uint8_t *buf, uint16_t len, uint16_t stream, uint64_t seq);

/* Checks a received frame's trailer. */
enum vfmed_tag_check vfmed_frame_check(const uint8_t *buf, uint16_t len, struct vfmed_tag *tag);

#endif /* VFMED_GUEST_FRAME_TAG_H */
