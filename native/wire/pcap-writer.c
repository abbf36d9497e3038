/* SPDX-License-Identifier: MIT */
/*
 * pcap-writer.c - a classic libpcap file writer (the format tcpdump -w writes and
 * tshark/tcpdump/Wireshark read): a 24-byte global header, then one 16-byte record
 * header + the captured bytes per frame, all in host byte order (the magic tells a
 * reader which order that is).
 *
 *   global header: magic a1b2c3d4 | ver 2.4 | thiszone 0 | sigfigs 0 | snaplen | linktype 1
 *   record:        ts_sec | ts_usec | incl_len (<= snaplen) | orig_len | bytes[incl_len]
 *
 * Records go into a 64 KiB buffer that is written out with write(2) when full or on
 * flush: the writer runs inside the uplink sink, under the NIC lock, so a write(2) per
 * frame would slow every VF's transmit path. Frames are Ethernet frames without FCS, as
 * a capture on a Linux interface shows them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

#define PCAP_MAGIC_USEC    0xa1b2c3d4u
#define PCAP_LINKTYPE_EN10MB 1u
#define PCAP_BUF_SIZE      (64u * 1024u)
#define PCAP_SNAPLEN_MAX   262144u

struct vfmed_pcap_writer {
	int fd;
	uint32_t snaplen;
	int error;          /* first error (-errno); sticky: nothing more is written */
	size_t len;
	uint8_t buf[PCAP_BUF_SIZE];
};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);   /* host order, as the magic announces */
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int vfmed_pcap_writer_flush(struct vfmed_pcap_writer *pw)
{
	int rc;

	if (!pw)
		return -EINVAL;
	if (pw->error)
		return pw->error;
	if (!pw->len)
		return 0;
	rc = write_all(pw->fd, pw->buf, pw->len);
	pw->len = 0;
	if (rc)
		pw->error = rc;
	return rc;
}

int vfmed_pcap_writer_open(const char *path, uint32_t snaplen, struct vfmed_pcap_writer **out)
{
	struct vfmed_pcap_writer *pw;
	uint8_t *h;
	int fd;

	if (!path || !*path || !out)
		return -EINVAL;
	if (!snaplen)
		snaplen = 65535;
	if (snaplen < 14 || snaplen > PCAP_SNAPLEN_MAX)
		return -EINVAL;
	pw = calloc(1, sizeof(*pw));
	if (!pw)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0) {
		int rc = -errno;

		free(pw);
		return rc;
	}
	pw->fd = fd;
	pw->snaplen = snaplen;
	h = pw->buf;
	put32(h, PCAP_MAGIC_USEC);
	memcpy(h + 4, &(uint16_t){ 2 }, 2);   /* version 2.4 (u16s, host order) */
	memcpy(h + 6, &(uint16_t){ 4 }, 2);
	put32(h + 8, 0);               /* thiszone */
	put32(h + 12, 0);              /* sigfigs */
	put32(h + 16, snaplen);
	put32(h + 20, PCAP_LINKTYPE_EN10MB);
	pw->len = 24;
	/* The header goes out at once: an empty capture is still a valid file. */
	if (vfmed_pcap_writer_flush(pw)) {
		int rc = pw->error;

		close(fd);
		free(pw);
		return rc;
	}
	*out = pw;
	return 0;
}

int vfmed_pcap_writer_add(struct vfmed_pcap_writer *pw, const void *frame, uint32_t len)
{
	struct timespec ts;
	uint32_t incl;
	uint8_t *r;

	if (!pw || (!frame && len))
		return -EINVAL;
	if (pw->error)
		return pw->error;
	incl = len < pw->snaplen ? len : pw->snaplen;
	if (pw->len + 16 + incl > sizeof(pw->buf) && vfmed_pcap_writer_flush(pw))
		return pw->error;
	clock_gettime(CLOCK_REALTIME, &ts);
	r = pw->buf + pw->len;
	put32(r, (uint32_t)ts.tv_sec);
	put32(r + 4, (uint32_t)(ts.tv_nsec / 1000));
	put32(r + 8, incl);
	put32(r + 12, len);
	memcpy(r + 16, frame, incl);
	pw->len += 16 + incl;
	return incl < len;
}

int vfmed_pcap_writer_error(const struct vfmed_pcap_writer *pw)
{
	return pw ? pw->error : -EINVAL;
}

int vfmed_pcap_writer_close(struct vfmed_pcap_writer *pw)
{
	int rc;

	if (!pw)
		return -EINVAL;
	vfmed_pcap_writer_flush(pw);
	rc = pw->error;
	if (close(pw->fd) && !rc)
		rc = -errno;
	free(pw);
	return rc;
}
