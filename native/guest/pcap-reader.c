/* SPDX-License-Identifier: MIT */
/*
 * pcap-reader.c - classic pcap parsing (see pcap-reader.h).
 *
 *   global header (24 B): magic u32, version 2.4, thiszone, sigfigs, snaplen, network
 *   record header (16 B): ts_sec, ts_usec|ts_nsec, incl_len, orig_len; then incl_len bytes
 */
#include "pcap-reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_MAGIC_US   0xA1B2C3D4u
#define PCAP_MAGIC_NS   0xA1B23C4Du
#define PCAPNG_MAGIC    0x0A0D0D0Au
#define LINKTYPE_ETHERNET 1u
#define MAX_RECORD      262144u   /* larger incl_len means a corrupt file */
#define MAX_FRAMES      (1u << 22)

static uint32_t swap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xFF00) | ((v << 8) & 0xFF0000) | (v << 24);
}

static int fail(const char **err, const char *why, int rc)
{
	*err = why;
	return rc;
}

int vfmed_pcap_load(const char *path, uint16_t max_len, struct vfmed_pcap *out, const char **err)
{
	uint32_t gh[6], rh[4];
	size_t cap = 0, used = 0, fcap = 0;
	int swapped, rc = 0;
	uint8_t *rec = NULL;
	FILE *f;

	memset(out, 0, sizeof(*out));
	f = fopen(path, "rb");
	if (!f)
		return fail(err, "cannot open the pcap file", -errno);
	if (fread(gh, sizeof(gh), 1, f) != 1) {
		rc = fail(err, "file too short for a pcap header", -EINVAL);
		goto out;
	}
	if (gh[0] == PCAPNG_MAGIC) {
		rc = fail(err, "pcapng is not supported; convert with: editcap -F pcap in.pcapng out.pcap", -EINVAL);
		goto out;
	}
	swapped = gh[0] == swap32(PCAP_MAGIC_US) || gh[0] == swap32(PCAP_MAGIC_NS);
	if (!swapped && gh[0] != PCAP_MAGIC_US && gh[0] != PCAP_MAGIC_NS) {
		rc = fail(err, "not a pcap file (bad magic)", -EINVAL);
		goto out;
	}
	if ((swapped ? swap32(gh[5]) : gh[5]) != LINKTYPE_ETHERNET) {
		rc = fail(err, "pcap link type is not Ethernet (LINKTYPE_ETHERNET = 1)", -EINVAL);
		goto out;
	}
	rec = malloc(MAX_RECORD);
	if (!rec) {
		rc = fail(err, "out of memory", -ENOMEM);
		goto out;
	}
	for (;;) {
		size_t n = fread(rh, 1, sizeof(rh), f);
		uint32_t incl, orig;

		if (n == 0)
			break;
		if (n != sizeof(rh)) {
			rc = fail(err, "truncated pcap record header", -EINVAL);
			goto out;
		}
		incl = swapped ? swap32(rh[2]) : rh[2];
		orig = swapped ? swap32(rh[3]) : rh[3];
		if (incl > MAX_RECORD) {
			rc = fail(err, "pcap record length is implausible (corrupt file)", -EINVAL);
			goto out;
		}
		if (fread(rec, 1, incl, f) != incl) {
			rc = fail(err, "truncated pcap record", -EINVAL);
			goto out;
		}
		if (incl < 14 || incl > max_len) {
			out->skipped++;
			continue;
		}
		if (incl < orig)
			out->truncated++;
		if (out->count == MAX_FRAMES) {
			rc = fail(err, "more than 4M frames in the pcap file", -E2BIG);
			goto out;
		}
		if (out->count == fcap) {
			size_t nc = fcap ? fcap * 2 : 256;
			size_t *no = realloc(out->offset, nc * sizeof(*no));
			uint16_t *nl = no ? realloc(out->len, nc * sizeof(*nl)) : NULL;
			if (no)
				out->offset = no;
			if (!no || !nl) {
				rc = fail(err, "out of memory", -ENOMEM);
				goto out;
			}
			out->len = nl;
			fcap = nc;
		}
		if (used + incl > cap) {
			size_t nc = cap ? cap * 2 : 65536;
			uint8_t *nd;
			while (nc < used + incl)
				nc *= 2;
			nd = realloc(out->data, nc);
			if (!nd) {
				rc = fail(err, "out of memory", -ENOMEM);
				goto out;
			}
			out->data = nd;
			cap = nc;
		}
		memcpy(out->data + used, rec, incl);
		out->offset[out->count] = used;
		out->len[out->count] = (uint16_t)incl;
		out->count++;
		used += incl;
	}
	if (!out->count)
		rc = fail(err, "the pcap file has no usable Ethernet frame", -EINVAL);
out:
	free(rec);
	fclose(f);
	if (rc)
		vfmed_pcap_free(out);
	return rc;
}

void vfmed_pcap_free(struct vfmed_pcap *p)
{
	free(p->data);
	free(p->offset);
	free(p->len);
	memset(p, 0, sizeof(*p));
}
