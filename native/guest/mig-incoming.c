/* SPDX-License-Identifier: MIT */
/*
 * mig-incoming.c - the destination of a live migration (--incoming tcp:ADDR:PORT,
 * docs/live-migration.md "Destination side"): the VF is already connected (reserved),
 * guest RAM created empty. One connection is accepted and loaded:
 *
 *   header ─▶ check version/RAM/page size/config ─▶ RESUMING, DMA_MAP (early: a RESUMING
 *   device does no DMA) ─▶ DEVICE_INITIAL written (MIG_DATA_WRITE; refused ─▶ REFUSED) ─▶
 *   COMPAT_OK ─▶ RAM_PAGES as they come / DEVICE_STATE / RAM_DIGEST ─▶ END ─▶ digest
 *   check ─▶ STOP (the server validates the state) ─▶ RUNNING ─▶ BAR0 bound ─▶ CONFIRM
 *
 * Every section is validated (mig-stream.c) before any of it is applied. Any error: ERROR
 * (or REFUSED for an incompatible source) goes back with the reason, the VF is reset and
 * the runner exits 1.
 */
#define _GNU_SOURCE
#include "mig-live.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mig-stream.h"
#include "monitor.h"
#include "runner.h"
#include "vfio-user-mig.h"

#define RX_CAP      (4u << 20)
#define IDLE_MS     30000      /* no byte from the source for this long: give up */

struct in_ctx {
	struct vfmed_runner *r;
	int sock;
	struct vfmed_mig_rx rx;
	uint64_t pages;
	uint64_t *nonzero;          /* pages loaded with data (a later zero record must clear) */
	uint64_t *digests, ndigests;
	uint32_t last_round;
	uint64_t pages_loaded, zero_pages, device_bytes, verify_ns;
	int refuse;                 /* the failure is an incompatibility: REFUSED, not ERROR */
	char why[400];
};

static int failf(struct in_ctx *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int failf(struct in_ctx *c, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return rc;
}

/* A vfio-user call failed: its errno, and — the server answered, so it is still there —
 * the server's own reason (DEVICE_FEATURE LAST_ERROR), e.g. which device parameter differs. */
static int vfu_failf(struct in_ctx *c, int rc, const char *what)
{
	struct vfmed_vfu *v = &c->r->vfu;
	int client_proto = rc == -EPROTO && v->proto_err;
	char server[300] = "";

	if (!v->broken && !client_proto)
		(void)vfmed_vfu_last_error(v, server, sizeof(server));
	return failf(c, rc, "%s: %s%s%s%s%s", what, strerror(-rc), client_proto ? " — " : "",
		     client_proto ? v->proto_err : "", server[0] ? " — " : "", server);
}

static void send_ret(struct in_ctx *c, uint32_t type, const void *p, uint32_t len)
{
	uint8_t buf[VFMED_MIG_RET_HDR + VFMED_MIG_RET_MAX + 4];
	size_t n = vfmed_mig_ret_encode(type, p, len, buf, sizeof(buf)), at = 0;

	while (at < n) {
		ssize_t w = send(c->sock, buf + at, n - at, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;   /* the source is gone; nothing more to tell it */
		at += (size_t)w;
	}
}

/* Waits until the socket (or listener) is readable, serving the monitor meanwhile. */
static int wait_readable(struct vfmed_runner *r, int fd, int idle_ms)
{
	uint64_t deadline = idle_ms ? vfmed_now_ns() + (uint64_t)idle_ms * 1000000ull : UINT64_MAX;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n = poll(&pfd, 1, 50);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
		vfmed_monitor_service(r->live.mon);
		if (vfmed_stop_requested)
			return -EINTR;
		if (vfmed_now_ns() > deadline)
			return -ETIMEDOUT;
	}
}

/* The next complete section (payload in the receive buffer until consumed). */
static int next_section(struct in_ctx *c, struct vfmed_mig_section *s, size_t *used)
{
	for (;;) {
		struct vfmed_mig_why why;
		int rc = vfmed_mig_section_decode(vfmed_mig_rx_data(&c->rx), vfmed_mig_rx_len(&c->rx), s, used, &why);
		if (rc != -EAGAIN)
			return rc ? failf(c, rc, "%s", why.msg) : 0;
		rc = vfmed_mig_rx_fill(&c->rx);
		if (rc == 0)
			return failf(c, -ECONNRESET, "the source closed the connection before END");
		if (rc == -EAGAIN) {
			rc = wait_readable(c->r, c->sock, IDLE_MS);
			if (rc)
				return failf(c, rc, rc == -ETIMEDOUT ? "no data from the source for %d ms" :
					     "interrupted while receiving the stream (%d)", IDLE_MS);
		} else if (rc < 0) {
			return failf(c, rc, "receiving the stream: %s", strerror(-rc));
		}
	}
}

static int write_device(struct in_ctx *c, const uint8_t *p, uint64_t len)
{
	struct vfmed_vfu *v = &c->r->vfu;
	uint64_t chunk = v->max_data_xfer < 65536 ? v->max_data_xfer : 65536;

	for (uint64_t at = 0; at < len; at += chunk) {
		int rc = vfmed_vfu_mig_write(v, p + at, (uint32_t)(len - at < chunk ? len - at : chunk));
		if (rc)
			return rc;
	}
	c->device_bytes += len;
	return 0;
}

static int load_pages(struct in_ctx *c, const struct vfmed_mig_section *s)
{
	struct vfmed_mig_why why;
	struct vfmed_mig_ram ram;
	const uint8_t *data;
	uint8_t *host = c->r->ram.host;

	if (vfmed_mig_ram_decode(s, c->pages, &ram, &why))
		return failf(c, -EPROTO, "%s", why.msg);
	if (ram.round < c->last_round)
		return failf(c, -EPROTO, "RAM_PAGES of round %" PRIu32 " after round %" PRIu32 " (rounds go forward)",
			     ram.round, c->last_round);
	c->last_round = ram.round;
	data = ram.data;
	for (uint32_t i = 0; i < ram.count; i++) {
		uint64_t page;
		uint32_t kind;
		vfmed_mig_ram_rec(&ram, i, &page, &kind);
		if (kind == VFMED_MIG_PAGE_DATA) {
			memcpy(host + page * VFMED_MIG_PAGE, data, VFMED_MIG_PAGE);
			data += VFMED_MIG_PAGE;
			c->nonzero[page / 64] |= 1ull << (page % 64);
		} else {
			/* Fresh RAM is zero: only a page loaded with data before must be cleared. */
			if (c->nonzero[page / 64] & (1ull << (page % 64)))
				memset(host + page * VFMED_MIG_PAGE, 0, VFMED_MIG_PAGE);
			c->nonzero[page / 64] &= ~(1ull << (page % 64));
			c->zero_pages++;
		}
		c->pages_loaded++;
	}
	return 0;
}

static int add_digests(struct in_ctx *c, const struct vfmed_mig_section *s)
{
	if (s->len % 8 || c->ndigests + s->len / 8 > c->pages)
		return failf(c, -EPROTO, "RAM_DIGEST section of %" PRIu64 " bytes: not whole u64s or more digests "
			     "than the %" PRIu64 " pages", s->len, c->pages);
	if (!c->digests) {
		c->digests = malloc(c->pages * 8);
		if (!c->digests)
			return failf(c, -ENOMEM, "no memory for the RAM digest");
	}
	memcpy(c->digests + c->ndigests, s->payload, s->len);
	c->ndigests += s->len / 8;
	return 0;
}

/* Compares every page with the source's digest; *out = digest of the digests. */
static int check_digest(struct in_ctx *c, uint64_t *out)
{
	uint64_t t0 = vfmed_now_ns(), h = VFMED_FNV1A64_INIT, bad = 0, first = 0;

	if (c->ndigests != c->pages)
		return failf(c, -EPROTO, "RAM_DIGEST covers %" PRIu64 " of %" PRIu64 " pages", c->ndigests, c->pages);
	for (uint64_t p = 0; p < c->pages; p++) {
		uint64_t d = vfmed_fnv1a64(c->r->ram.host + p * VFMED_MIG_PAGE, VFMED_MIG_PAGE);
		if (d != c->digests[p] && !bad++)
			first = p;
		h = vfmed_fnv1a64_add_u64(h, d);
	}
	c->verify_ns = vfmed_now_ns() - t0;
	*out = h;
	if (bad)
		return failf(c, -EIO, "RAM digest mismatch: %" PRIu64 " pages differ, the first is page %" PRIu64
			     " (GPA %#" PRIx64 ")", bad, first, c->r->ram.base + first * VFMED_MIG_PAGE);
	return 0;
}

static int listen_on(struct vfmed_runner *r, int *out, char *why, size_t cap)
{
	const char *spec = r->o->incoming + 4, *colon;   /* after "tcp:" */
	char host[256] = "";
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd, rc, one = 1;
	char line[512];

	if (spec[0] == '[') {
		const char *end = strchr(spec, ']');
		memcpy(host, spec + 1, (size_t)(end - spec - 1));
		colon = end + 1;
	} else {
		colon = strrchr(spec, ':');
		memcpy(host, spec, (size_t)(colon - spec));
	}
	rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai);
	if (rc) {
		snprintf(why, cap, "--incoming %s: %s", r->o->incoming, gai_strerror(rc));
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 1)) {
		rc = -errno;
		snprintf(why, cap, "--incoming %s: %s", r->o->incoming, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return rc;
	}
	freeaddrinfo(ai);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	snprintf(line, sizeof(line), "{\"event\":\"incoming\",\"phase\":\"listening\",\"port\":%u}",
		 ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
		       ((struct sockaddr_in *)&ss)->sin_port));
	vfmed_live_emit(r, line);
	*out = fd;
	return 0;
}

/* Accept, header, initial data, RAM, device state, END, resume. */
static int receive(struct in_ctx *c)
{
	struct vfmed_runner *r = c->r;
	struct vfmed_mig_header h;
	struct vfmed_mig_section s;
	struct vfmed_mig_why why;
	char mine[VFMED_MIG_CONFIG_MAX + 1];
	uint64_t digest = 0, resume_ns;
	size_t used;
	int rc, have_initial = 0, ended = 0;
	const char *st_why = NULL;

	for (;;) {
		rc = vfmed_mig_header_decode(vfmed_mig_rx_data(&c->rx), vfmed_mig_rx_len(&c->rx), &h, &used, &why);
		if (rc == 0)
			break;
		if (rc != -EAGAIN)
			return failf(c, rc, "%s", why.msg);
		rc = vfmed_mig_rx_fill(&c->rx);
		if (rc == 0)
			return failf(c, -ECONNRESET, "the source closed the connection before the header");
		if (rc == -EAGAIN && (rc = wait_readable(r, c->sock, IDLE_MS)))
			return failf(c, rc, "no stream header from the source");
		if (rc < 0 && rc != -EAGAIN)
			return failf(c, rc, "receiving the header: %s", strerror(-rc));
	}
	vfmed_mig_rx_consume(&c->rx, used);
	vfmed_live_config(r, mine, sizeof(mine));
	c->refuse = 1;
	if (h.ram_size != r->ram.size || h.ram_base != r->ram.base)
		return failf(c, -EINVAL, "guest RAM differs: source %" PRIu64 " bytes at %#" PRIx64 ", destination %"
			     PRIu64 " bytes at %#" PRIx64, h.ram_size, h.ram_base, r->ram.size, r->ram.base);
	if (strcmp(h.config, mine))
		return failf(c, -EINVAL, "guest configuration differs: source '%s', destination '%s'", h.config, mine);
	c->refuse = 0;
	rc = vfmed_vfu_mig_set_state(&r->vfu, VFU_MIG_RESUMING);
	if (rc)
		return vfu_failf(c, rc, "device -> RESUMING");
	rc = vfmed_vfu_dma_map(&r->vfu, r->ram.base, r->ram.size, r->ram.fd, r->ram.file_off,
			       VFU_DMA_F_READ | VFU_DMA_F_WRITE);
	if (rc)
		return vfu_failf(c, rc, "DMA_MAP of guest RAM");
	r->dma_mapped = 1;
	vfmed_vfu_add_dma_target(&r->vfu, r->ram.base, r->ram.size, r->ram.host);

	while (!ended) {
		rc = next_section(c, &s, &used);
		if (rc)
			return rc;
		if (!have_initial && s.type != VFMED_MIG_SEC_DEVICE_INITIAL)
			return failf(c, -EPROTO, "%s section before DEVICE_INITIAL", vfmed_mig_sec_name(s.type));
		switch (s.type) {
		case VFMED_MIG_SEC_DEVICE_INITIAL:
			if (have_initial)
				return failf(c, -EPROTO, "a second DEVICE_INITIAL section");
			rc = write_device(c, s.payload, s.len);
			if (rc) {
				c->refuse = 1;
				return vfu_failf(c, rc, "the destination device refused the initial data (MIG_DATA_WRITE)");
			}
			have_initial = 1;
			send_ret(c, VFMED_MIG_RET_COMPAT_OK, NULL, 0);
			vfmed_live_emit(r, "{\"event\":\"incoming\",\"phase\":\"compat-ok\"}");
			break;
		case VFMED_MIG_SEC_RAM_PAGES:
			rc = load_pages(c, &s);
			break;
		case VFMED_MIG_SEC_DEVICE_STATE:
			rc = write_device(c, s.payload, s.len);
			if (rc)
				rc = vfu_failf(c, rc, "the device refused its state (MIG_DATA_WRITE)");
			break;
		case VFMED_MIG_SEC_RAM_DIGEST:
			rc = add_digests(c, &s);
			break;
		case VFMED_MIG_SEC_END:
			if (s.len)
				return failf(c, -EPROTO, "END section with %" PRIu64 " payload bytes", s.len);
			ended = 1;
			break;
		}
		if (rc)
			return rc;
		vfmed_mig_rx_consume(&c->rx, used);
	}
	if (c->ndigests && (rc = check_digest(c, &digest)))
		return rc;
	/* RESUMING -> STOP: the server validates and loads the whole state. */
	rc = vfmed_vfu_mig_set_state(&r->vfu, VFU_MIG_STOP);
	if (rc)
		return vfu_failf(c, rc, "the device refused the migrated state (RESUMING -> STOP)");
	rc = vfmed_runner_pci_config(r, &r->vfu);
	if (!rc)
		rc = vfmed_vfu_mig_set_state(&r->vfu, VFU_MIG_RUNNING);
	if (rc)
		return vfu_failf(c, rc, "device -> RUNNING");
	r->vf.st = vfmed_guest_state_find(&r->ram, &st_why);
	if (!r->vf.st)
		return failf(c, -EINVAL, "the migrated RAM holds no usable guest state: %s", st_why);
	rc = vfmed_runner_bind(r, 0, 0);
	if (rc)
		return failf(c, rc, "binding BAR0 on the destination: %s", strerror(-rc));
	r->vf.st->migrations++;   /* in guest RAM: the guest counts its moves, as with migrate.c */
	resume_ns = vfmed_now_ns();
	{
		uint64_t conf[2] = { resume_ns, c->verify_ns };
		send_ret(c, VFMED_MIG_RET_CONFIRM, conf, sizeof(conf));
	}
	{
		char line[512], hex[24] = "null";
		if (c->ndigests)
			snprintf(hex, sizeof(hex), "\"%016" PRIx64 "\"", digest);
		snprintf(line, sizeof(line), "{\"event\":\"incoming\",\"phase\":\"completed\",\"bytes\":%" PRIu64
			 ",\"pages_loaded\":%" PRIu64 ",\"zero_pages\":%" PRIu64 ",\"device_bytes\":%" PRIu64
			 ",\"rounds\":%" PRIu32 ",\"ram_digest\":%s,\"verify_ms\":%.3f}", c->rx.received,
			 c->pages_loaded, c->zero_pages, c->device_bytes, c->last_round + 1, hex,
			 (double)c->verify_ns / 1e6);
		r->live.status = VFMED_LIVE_COMPLETED;
		vfmed_live_emit(r, line);
	}
	return 0;
}

int vfmed_migin_run(struct vfmed_runner *r)
{
	struct in_ctx c = { .r = r, .sock = -1 };
	int lfd = -1, rc;
	char why[320];

	c.pages = r->ram.size / VFMED_MIG_PAGE;
	c.nonzero = calloc((c.pages + 63) / 64, 8);
	if (!c.nonzero)
		return -ENOMEM;
	rc = listen_on(r, &lfd, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "vfmed-guest: %s\n", why);
		free(c.nonzero);
		return rc;
	}
	r->live.status = VFMED_LIVE_ACTIVE;
	rc = wait_readable(r, lfd, 0);
	if (!rc) {
		c.sock = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		rc = c.sock < 0 ? -errno : 0;
	}
	close(lfd);   /* one migration: later connections are refused by the kernel */
	if (rc) {
		fprintf(stderr, "vfmed-guest: --incoming: no migration accepted: %s\n", strerror(-rc));
		free(c.nonzero);
		r->live.status = VFMED_LIVE_FAILED;
		return rc;
	}
	{
		int one = 1;
		setsockopt(c.sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	rc = vfmed_mig_rx_init(&c.rx, c.sock, RX_CAP);
	if (!rc)
		rc = receive(&c);
	else
		failf(&c, rc, "no memory for the receive buffer");
	if (rc) {
		char line[640];
		struct vfmed_jout j;
		send_ret(&c, c.refuse ? VFMED_MIG_RET_REFUSED : VFMED_MIG_RET_ERROR, c.why, (uint32_t)strlen(c.why));
		fprintf(stderr, "vfmed-guest: incoming migration %s: %s\n", c.refuse ? "refused" : "failed", c.why);
		/* The VF must not keep a half-loaded state. */
		if (!r->vfu.broken && (r->dev.flags & VFU_DEVICE_F_RESET))
			vfmed_vfu_device_reset(&r->vfu);
		vfmed_jo_init(&j, line, sizeof(line));
		vfmed_jo_open(&j, NULL);
		vfmed_jo_str(&j, "event", "incoming");
		vfmed_jo_str(&j, "phase", c.refuse ? "refused" : "failed");
		vfmed_jo_str(&j, "error", c.why);
		vfmed_jo_close(&j);
		r->live.status = VFMED_LIVE_FAILED;
		vfmed_live_emit(r, line);
	}
	close(c.sock);
	vfmed_mig_rx_free(&c.rx);
	free(c.nonzero);
	free(c.digests);
	return rc;
}

void vfmed_migin_announce(struct vfmed_runner *r)
{
	struct vfmed_guest_state *st = r->vf.st;
	uint8_t *f = NULL;
	int garp = st->ip != 0;
	char line[160];

	for (int tries = 0; tries < 200 && !(f = vfmed_igbvf_tx_buf(&r->vf, 0)); tries++) {
		vfmed_igbvf_tx_doorbell(&r->vf, 0);
		nanosleep(&(struct timespec){ 0, 500000 }, NULL);
	}
	if (!f) {
		fprintf(stderr, "vfmed-guest: warning: no TX slot for the self-announce frame\n");
		return;
	}
	/* Ethernet broadcast from our MAC; ARP/RARP body (RFC 826 / RFC 903): htype 1,
	 * ptype IPv4, hlen 6, plen 4. Gratuitous ARP: request with spa = tpa = our IP.
	 * RARP (QEMU's self-announce): op 3, sha = tha = our MAC. */
	memset(f, 0, 60);
	memset(f, 0xFF, 6);
	memcpy(f + 6, st->mac, 6);
	f[12] = garp ? 0x08 : 0x80;
	f[13] = garp ? 0x06 : 0x35;
	f[14] = 0x00; f[15] = 0x01;           /* htype Ethernet */
	f[16] = 0x08; f[17] = 0x00;           /* ptype IPv4 */
	f[18] = 6; f[19] = 4;
	f[20] = 0x00; f[21] = garp ? 1 : 3;   /* request / reverse request */
	memcpy(f + 22, st->mac, 6);
	memcpy(f + 32, st->mac, 6);
	if (garp) {
		memcpy(f + 28, &st->ip, 4);
		memset(f + 32, 0, 6);
		memcpy(f + 38, &st->ip, 4);
	}
	vfmed_igbvf_tx_post(&r->vf, 0, 60);
	vfmed_igbvf_tx_doorbell(&r->vf, 0);
	r->live.announced++;
	snprintf(line, sizeof(line), "{\"event\":\"incoming\",\"phase\":\"announced\",\"frame\":\"%s\"}",
		 garp ? "gratuitous-arp" : "rarp");
	vfmed_live_emit(r, line);
}
