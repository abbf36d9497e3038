/* SPDX-License-Identifier: MIT */
/*
 * pcap-reader.h - loads the frames of a classic libpcap file (LINKTYPE_ETHERNET; micro- or
 * nanosecond timestamps; either byte order) into memory for txgen replay. pcapng is
 * recognised and refused with a clear message.
 */
#ifndef VFMED_GUEST_PCAP_READER_H
#define VFMED_GUEST_PCAP_READER_H

#include <stddef.h>
#include <stdint.h>

struct vfmed_pcap {
	uint8_t *data;      /* all frames back to back */
	size_t *offset;     /* frame i starts at data + offset[i] */
	uint16_t *len;      /* captured length of frame i */
	size_t count;
	size_t truncated;   /* records whose captured length < original length (kept) */
	size_t skipped;     /* frames longer than max_len or shorter than 14 (dropped) */
};

/* Returns 0, or -errno with *err pointing to a static description. */
int vfmed_pcap_load(const char *path, uint16_t max_len, struct vfmed_pcap *out, const char **err);
void vfmed_pcap_free(struct vfmed_pcap *p);

#endif /* VFMED_GUEST_PCAP_READER_H */
