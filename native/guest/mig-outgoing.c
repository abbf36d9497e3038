/* SPDX-License-Identifier: MIT */
/*
 * mig-outgoing.c - the source of a live migration (docs/live-migration.md, "What a
 * migration does"): a state machine advanced by vfmed_runner_service() between driver
 * iterations, so the guest keeps running while RAM is copied.
 *
 *   CONNECT ──▶ setup (header, tracker, PRE_COPY, layout ack, DMA_LOGGING_START,
 *   (non-     │         DEVICE_INITIAL)
 *   blocking) ▼
 *            COMPAT (wait COMPAT_OK, guest running)
 *               │ COMPAT_OK
 *               ▼
 *            PRECOPY round 0 (all RAM) ─▶ round N (CPU bitmap ∪ device log) ─▶ ...
 *               │ expected downtime <= downtime_limit_ms, max_rounds, or no progress
 *               │ (two rounds in a row that did not shrink the dirty set by a tenth)
 *               ▼
 *            switchover (CPU paused: one service call that does not return to the
 *            loop): STOP_COPY, last pages, device state, [digest], END, CONFIRM
 *               │
 *               ▼ STOP, DMA_LOGGING_STOP, "completed", the runner exits
 *
 * Any failure before CONFIRM fails back: the device returns to RUNNING, logging stops,
 * RAM is made writable and the workload goes on ("failed", source_running true).
 *
 * Round bookkeeping (bitmaps of RAM pages, ram-dirty.h layout):
 *   send  pages this round still sends (cursor walks it)
 *   dev   pages the device log reported that no round has sent since
 */
#define _GNU_SOURCE
#include "mig-live.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mig-stream.h"
#include "monitor.h"
#include "ram-dirty.h"
#include "runner.h"
#include "vfio-user-mig.h"

#define TX_CAP          (6u << 20)
#define RX_CAP          (64u << 10)
#define DEV_BUF         (1u << 20)
#define PENDING_HIGH    (3u << 20)     /* stop building sections above this backlog */
#define STEP_NS         1000000ull     /* section building per service call */
#define MAX_ROUND_LOG   64u
#define DIGESTS_PER_SEC 131072u        /* u64 per RAM_DIGEST section (1 MiB) */

enum out_stage { ST_CONNECT, ST_COMPAT, ST_PRECOPY };

struct round_log {
	uint32_t round;
	uint64_t pages, pages_cpu, pages_device, bytes, ns;
};

struct vfmed_migout {
	struct vfmed_live_params p;
	enum out_stage st;
	int sock;
	int cancel;
	struct vfmed_mig_tx tx;
	struct vfmed_mig_rx rx;
	struct vfmed_ram_dirty dirty;
	uint64_t pages, words;
	uint64_t *send, *dev, *report;
	uint32_t report_bytes;
	uint64_t rec_page[VFMED_MIG_RAM_MAX_RECS];
	uint8_t rec_kind[VFMED_MIG_RAM_MAX_RECS];
	uint8_t *dev_buf;
	int precopy, logging;
	uint32_t tracker;                  /* selected, or VFMED_TRACKER_DEFAULT */
	uint64_t t0, deadline, t_compat, t_round;
	uint64_t stall_ns, stall_sent;     /* last time tx.sent moved */
	uint32_t round;
	uint64_t cursor;
	uint64_t round_pages, round_cpu, round_dev, round_sent0;
	/* Convergence: the dirty set of the previous round end, rounds in a row it did not
	 * shrink by a tenth, and why pre-copy ended ("converged", "max-rounds", "no-progress"). */
	uint64_t prev_dirty;
	unsigned stalled_rounds;
	const char *switch_reason;
	uint64_t pace_t0, pace_q0;
	double bw;                         /* measured bytes/s */
	struct round_log rounds[MAX_ROUND_LOG];
	unsigned nrounds, rounds_total;
	uint64_t device_bytes, pages_sent;
	uint64_t verify_ns, digest;
	int have_digest;
	const char *sw_stage;              /* "switchover", then "confirm" once END is sent */
	char why[320];
};

static const char *stage_name(const struct vfmed_migout *m)
{
	switch (m->st) {
	case ST_CONNECT: return "setup";
	case ST_COMPAT: return "compat";
	default: return "precopy";
	}
}

static const char *tracker_name(uint32_t t)
{
	switch (t) {
	case VFMED_TRACKER_TAIL_TRAP: return "tail-trap";
	case VFMED_TRACKER_DEVICE_LOG: return "device-log";
	case VFMED_TRACKER_ALL: return "all";
	default: return "server-default";
	}
}

static uint64_t ms(uint64_t ns)
{
	return ns / 1000000ull;
}

/* ---- helpers ---------------------------------------------------------------------------- */

static int vfu_fail(struct vfmed_runner *r, struct vfmed_migout *m, int rc, const char *what)
{
	snprintf(m->why, sizeof(m->why), "%s: %s%s%s", what, strerror(-rc),
		 rc == -EPROTO && r->vfu.proto_err ? " — " : "", rc == -EPROTO && r->vfu.proto_err ? r->vfu.proto_err : "");
	return rc;
}

static int page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t acc = 0;

	for (unsigned i = 0; i < VFMED_MIG_PAGE / 8; i += 8) {
		acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7];
		if (acc)
			return 0;
	}
	return 1;
}

static uint64_t union_count(const uint64_t *a, const uint64_t *b, uint64_t words)
{
	uint64_t n = 0;

	for (uint64_t w = 0; w < words; w++)
		n += (uint64_t)__builtin_popcountll(a[w] | b[w]);
	return n;
}

static void or_into(uint64_t *dst, const uint64_t *src, uint64_t words)
{
	for (uint64_t w = 0; w < words; w++)
		dst[w] |= src[w];
}

/* Device-dirty pages since the last report, ORed into m->dev; returns how many were new. */
static int device_report(struct vfmed_runner *r, struct vfmed_migout *m, uint64_t *added)
{
	int rc = vfmed_vfu_dma_logging_report(&r->vfu, r->ram.base, r->ram.size, VFMED_MIG_PAGE,
					      m->report, m->report_bytes);
	uint64_t n = 0;

	if (rc)
		return vfu_fail(r, m, rc, "DMA_LOGGING_REPORT");
	if (m->pages % 64)
		m->report[m->words - 1] &= (1ull << (m->pages % 64)) - 1;
	for (uint64_t w = 0; w < m->words; w++) {
		n += (uint64_t)__builtin_popcountll(m->report[w] & ~m->dev[w]);
		m->dev[w] |= m->report[w];
	}
	if (added)
		*added = n;
	return 0;
}

/* Messages on the return path: 0 nothing decisive, 1 COMPAT_OK, 2 CONFIRM (payload in
 * *confirm), -errno with m->why set (REFUSED, ERROR, EOF, malformed). */
static int read_return(struct vfmed_migout *m, uint64_t confirm[2])
{
	for (;;) {
		struct vfmed_mig_why why;
		const uint8_t *pl;
		uint32_t type, len;
		size_t used;
		int rc = vfmed_mig_ret_decode(vfmed_mig_rx_data(&m->rx), vfmed_mig_rx_len(&m->rx), &type, &pl,
					      &len, &used, &why);
		if (rc == -EAGAIN) {
			rc = vfmed_mig_rx_fill(&m->rx);
			if (rc == -EAGAIN)
				return 0;
			if (rc == 0) {
				snprintf(m->why, sizeof(m->why), "the destination closed the connection");
				return -ECONNRESET;
			}
			if (rc < 0) {
				snprintf(m->why, sizeof(m->why), "return path: %s", strerror(-rc));
				return rc;
			}
			continue;
		}
		if (rc) {
			snprintf(m->why, sizeof(m->why), "%s", why.msg);
			return rc;
		}
		vfmed_mig_rx_consume(&m->rx, used);
		switch (type) {
		case VFMED_MIG_RET_COMPAT_OK:
			return 1;
		case VFMED_MIG_RET_CONFIRM:
			confirm[0] = 0;
			confirm[1] = 0;
			memcpy(confirm, pl, len);
			return 2;
		default:
			snprintf(m->why, sizeof(m->why), "%s by the destination: %.*s",
				 type == VFMED_MIG_RET_REFUSED ? "refused" : "error", (int)(len > 256 ? 256 : len),
				 (const char *)pl);
			return type == VFMED_MIG_RET_REFUSED ? -EPERM : -EIO;
		}
	}
}

/* Sends everything queued, waiting (poll) up to the deadline. */
static int flush_all(struct vfmed_migout *m, uint64_t deadline)
{
	for (;;) {
		int rc = vfmed_mig_tx_flush(&m->tx, 0);
		struct pollfd pfd = { .fd = m->sock, .events = POLLOUT };
		uint64_t now = vfmed_now_ns();
		if (!rc)
			return 0;
		if (rc != -EAGAIN) {
			uint64_t c[2];
			/* The destination may have said why before it closed. */
			if (read_return(m, c) >= 0 || !m->why[0])
				snprintf(m->why, sizeof(m->why), "sending the stream: %s", strerror(-rc));
			return rc;
		}
		if (now >= deadline) {
			snprintf(m->why, sizeof(m->why), "the destination did not take the stream in time");
			return -ETIMEDOUT;
		}
		poll(&pfd, 1, (int)((deadline - now) / 1000000ull) + 1);
	}
}

/* Queues one RAM_PAGES section from m->cursor: >0 pages queued, 0 round fully queued,
 * -ENOBUFS no room now. */
static int queue_pages(struct vfmed_runner *r, struct vfmed_migout *m)
{
	uint32_t n = 0, nd = 0;
	uint64_t c = m->cursor, len;
	uint8_t *p, *data;

	if (!vfmed_mig_tx_fits(&m->tx, 8 + (uint64_t)VFMED_MIG_RAM_MAX_RECS * VFMED_MIG_RAM_REC +
			       (uint64_t)VFMED_MIG_RAM_MAX_DATA * VFMED_MIG_PAGE))
		return -ENOBUFS;
	while (c < m->pages && n < VFMED_MIG_RAM_MAX_RECS && nd < VFMED_MIG_RAM_MAX_DATA) {
		uint64_t word = m->send[c / 64] >> (c % 64);
		if (!word) {
			c = (c / 64 + 1) * 64;
			continue;
		}
		c += (uint64_t)__builtin_ctzll(word);
		if (c >= m->pages)
			break;
		m->rec_page[n] = c;
		m->rec_kind[n] = page_is_zero(r->ram.host + c * VFMED_MIG_PAGE) ? VFMED_MIG_PAGE_ZERO : VFMED_MIG_PAGE_DATA;
		nd += m->rec_kind[n] == VFMED_MIG_PAGE_DATA;
		n++;
		c++;
	}
	m->cursor = c > m->pages ? m->pages : c;
	if (!n)
		return 0;
	len = 8 + (uint64_t)n * VFMED_MIG_RAM_REC + (uint64_t)nd * VFMED_MIG_PAGE;
	p = vfmed_mig_tx_section_begin(&m->tx, VFMED_MIG_SEC_RAM_PAGES, len);
	memcpy(p, &m->round, 4);
	memcpy(p + 4, &n, 4);
	data = p + 8 + (size_t)n * VFMED_MIG_RAM_REC;
	for (uint32_t i = 0; i < n; i++) {
		vfmed_mig_ram_put_rec(p + 8, i, m->rec_page[i], m->rec_kind[i]);
		if (m->rec_kind[i] == VFMED_MIG_PAGE_DATA) {
			memcpy(data, r->ram.host + m->rec_page[i] * VFMED_MIG_PAGE, VFMED_MIG_PAGE);
			data += VFMED_MIG_PAGE;
		}
	}
	vfmed_mig_tx_section_end(&m->tx, len);
	m->pages_sent += n;
	return (int)n;
}

static int queue_blob(struct vfmed_migout *m, uint32_t type, const void *p, uint64_t len)
{
	uint8_t *d = vfmed_mig_tx_section_begin(&m->tx, type, len);

	if (!d)
		return -ENOBUFS;
	if (len)
		memcpy(d, p, len);
	vfmed_mig_tx_section_end(&m->tx, len);
	return 0;
}

static void log_round(struct vfmed_migout *m, uint64_t now)
{
	struct round_log l = {
		.round = m->round, .pages = m->round_pages, .pages_cpu = m->round_cpu,
		.pages_device = m->round_dev, .bytes = m->tx.sent - m->round_sent0, .ns = now - m->t_round,
	};

	m->rounds_total++;
	if (m->nrounds < MAX_ROUND_LOG)
		m->rounds[m->nrounds++] = l;
	else
		m->rounds[MAX_ROUND_LOG - 1] = l;  /* keep the last one */
}

/* ---- failing back ---------------------------------------------------------------------- */

static void release(struct vfmed_runner *r)
{
	struct vfmed_migout *m = r->live.out;

	if (m->sock >= 0)
		close(m->sock);
	vfmed_ram_dirty_free(&m->dirty);
	vfmed_mig_tx_free(&m->tx);
	vfmed_mig_rx_free(&m->rx);
	free(m->send);
	free(m->dev);
	free(m->report);
	free(m->dev_buf);
	free(m);
	r->live.out = NULL;
	r->live.busy = 0;
}

/* Everything back as it was before `migrate`; the guest runs on. */
static int fail(struct vfmed_runner *r, const char *stage)
{
	struct vfmed_migout *m = r->live.out;
	uint32_t state = 0;
	int running = 0, rc;
	char buf[1024];
	struct vfmed_jout j;

	vfmed_ram_dirty_stop(&m->dirty);
	if (m->precopy && !r->vfu.broken) {
		rc = vfmed_vfu_mig_get_state(&r->vfu, &state);
		if (!rc && state == VFU_MIG_STOP_COPY)
			rc = vfmed_vfu_mig_set_state(&r->vfu, VFU_MIG_STOP);
		if (!rc)
			rc = vfmed_vfu_mig_set_state(&r->vfu, VFU_MIG_RUNNING);
		if (rc)
			fprintf(stderr, "vfmed-guest: live migration: could not return the device to RUNNING: %s\n",
				strerror(-rc));
	}
	if (m->logging && !r->vfu.broken) {
		rc = vfmed_vfu_dma_logging_stop(&r->vfu);
		if (rc)
			fprintf(stderr, "vfmed-guest: live migration: DMA_LOGGING_STOP: %s\n", strerror(-rc));
	}
	running = !r->vfu.broken && !vfmed_vfu_mig_get_state(&r->vfu, &state) && state == VFU_MIG_RUNNING;
	vfmed_jo_init(&j, buf, sizeof(buf));
	vfmed_jo_open(&j, NULL);
	vfmed_jo_str(&j, "event", "failed");
	vfmed_jo_str(&j, "error", m->why[0] ? m->why : "unknown");
	vfmed_jo_str(&j, "stage", stage);
	vfmed_jo_bool(&j, "source_running", running);
	vfmed_jo_close(&j);
	release(r);
	r->live.status = VFMED_LIVE_FAILED;
	vfmed_live_emit(r, buf);
	return running ? VFMED_RUN_ON : VFMED_STOP_ERROR;
}

/* ---- start, setup --------------------------------------------------------------------- */

int vfmed_migout_start(struct vfmed_runner *r, const struct vfmed_live_params *p, char *why, size_t cap)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	struct vfmed_migout *m;
	int rc, one = 1;

	if (!r->connected || r->bar.uio) {
		snprintf(why, cap, "live migration needs a vfio-user device (--socket)");
		return -EINVAL;
	}
	if (r->mig.phase != VFMED_MIG_IDLE) {
		snprintf(why, cap, "a same-host VF migration is in progress");
		return -EBUSY;
	}
	rc = getaddrinfo(p->host, p->port, &hints, &ai);
	if (rc) {
		snprintf(why, cap, "cannot resolve '%s': %s", p->host, gai_strerror(rc));
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		freeaddrinfo(ai);
		snprintf(why, cap, "out of memory");
		return -ENOMEM;
	}
	m->p = *p;
	m->pages = r->ram.size / VFMED_MIG_PAGE;
	m->words = (m->pages + 63) / 64;
	m->report_bytes = (uint32_t)(m->words * 8);
	m->send = calloc(m->words, 8);
	m->dev = calloc(m->words, 8);
	m->report = calloc(m->words, 8);
	m->dev_buf = malloc(DEV_BUF);
	m->sock = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	r->live.out = m;
	if (!m->send || !m->dev || !m->report || !m->dev_buf || m->sock < 0 ||
	    vfmed_mig_tx_init(&m->tx, m->sock, TX_CAP) || vfmed_mig_rx_init(&m->rx, m->sock, RX_CAP) ||
	    vfmed_ram_dirty_init(&m->dirty, r->ram.host, r->ram.size)) {
		snprintf(why, cap, "cannot set up the migration: %s", m->sock < 0 ? strerror(errno) : "out of memory");
		freeaddrinfo(ai);
		release(r);
		return -ENOMEM;
	}
	setsockopt(m->sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rc = connect(m->sock, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc && errno != EINPROGRESS) {
		snprintf(why, cap, "connecting to %s:%s: %s", p->host, p->port, strerror(errno));
		release(r);
		return -ECONNREFUSED;
	}
	m->st = ST_CONNECT;
	m->t0 = vfmed_now_ns();
	m->deadline = m->t0 + p->timeout_ms * 1000000ull;
	m->tracker = VFMED_TRACKER_DEFAULT;
	r->live.status = VFMED_LIVE_ACTIVE;
	r->live.last[0] = 0;
	vfmed_live_emit(r, "{\"event\":\"migration\",\"phase\":\"setup\"}");
	return 0;
}

void vfmed_migout_cancel(struct vfmed_runner *r)
{
	if (r->live.out)
		r->live.out->cancel = 1;
}

/* Connected: everything up to DEVICE_INITIAL queued. 0 or -errno with m->why. */
static int setup(struct vfmed_runner *r, struct vfmed_migout *m)
{
	struct vfmed_mig_header h = { .version = VFMED_MIG_VERSION, .ram_size = r->ram.size,
				      .ram_base = r->ram.base, .page_size = VFMED_MIG_PAGE };
	uint8_t hdr[VFMED_MIG_HDR_FIXED + VFMED_MIG_CONFIG_MAX + 4];
	uint64_t flags = 0, initial = 0, dirty = 0, have = 0;
	uint32_t chunk = (uint32_t)(r->vfu.max_data_xfer < 65536 ? r->vfu.max_data_xfer : 65536);
	size_t n;
	int rc;

	rc = vfmed_live_config(r, h.config, sizeof(h.config));
	h.config_len = rc < 0 ? 0 : (uint32_t)rc;
	n = vfmed_mig_header_encode(&h, hdr, sizeof(hdr));
	if (!n || vfmed_mig_tx_put(&m->tx, hdr, n)) {
		snprintf(m->why, sizeof(m->why), "cannot encode the stream header");
		return -EINVAL;
	}
	/* Tracker first: the server refuses a change while logging runs. */
	rc = vfmed_vfu_tracker_set(&r->vfu, m->p.tracker);
	if (rc == -ENOTTY && !m->p.tracker_given) {
		m->tracker = VFMED_TRACKER_DEFAULT;   /* a server without 0xf002: its own tracker */
	} else if (rc == -ENOTTY) {
		snprintf(m->why, sizeof(m->why), "the server cannot select the dirty tracker '%s' (no DEVICE_FEATURE 0xf002)",
			 tracker_name(m->p.tracker));
		return rc;
	} else if (rc) {
		return vfu_fail(r, m, rc, "selecting the dirty tracker (DEVICE_FEATURE 0xf002)");
	} else {
		m->tracker = m->p.tracker;
	}
	rc = vfmed_vfu_mig_flags(&r->vfu, &flags);
	if (!rc && !(flags & VFU_MIGRATION_PRE_COPY))
		rc = -EOPNOTSUPP;
	if (rc)
		return vfu_fail(r, m, rc, "the device has no PRE_COPY migration");
	/* PRE_COPY before DMA_LOGGING_START: PRE_COPY traps the queue pages without waiting
	 * for our acknowledgement, we acknowledge the new BAR layout here, and START then finds
	 * the trap effective at once. START first would wait for an acknowledgement that this
	 * single-threaded client could only send after START's reply. */
	rc = vfmed_vfu_mig_set_state(&r->vfu, VFU_MIG_PRE_COPY);
	if (rc)
		return vfu_fail(r, m, rc, "device -> PRE_COPY");
	m->precopy = 1;
	rc = vfmed_runner_layout_sync(r);
	if (rc)
		return vfu_fail(r, m, rc, "acknowledging the trapped BAR0 layout");
	rc = vfmed_vfu_dma_logging_start(&r->vfu, r->ram.base, r->ram.size, VFMED_MIG_PAGE);
	if (rc)
		return vfu_fail(r, m, rc, "DMA_LOGGING_START over guest RAM");
	m->logging = 1;
	rc = vfmed_vfu_precopy_info(&r->vfu, &initial, &dirty);
	if (rc)
		return vfu_fail(r, m, rc, "PRECOPY_INFO");
	/* The initial data travels as one DEVICE_INITIAL section: the destination answers
	 * COMPAT_OK (or REFUSED) once it has written all of it. */
	for (;;) {
		int got;
		if (have + chunk > DEV_BUF) {
			snprintf(m->why, sizeof(m->why), "the device's initial data exceeds %u bytes", DEV_BUF);
			return -EFBIG;
		}
		got = vfmed_vfu_mig_read(&r->vfu, m->dev_buf + have, chunk);
		if (got < 0)
			return vfu_fail(r, m, got, "MIG_DATA_READ of the initial data");
		have += (uint64_t)got;
		if ((uint32_t)got < chunk || (initial && have >= initial))
			break;
	}
	if (queue_blob(m, VFMED_MIG_SEC_DEVICE_INITIAL, m->dev_buf, have)) {
		snprintf(m->why, sizeof(m->why), "no room for the initial data");
		return -ENOBUFS;
	}
	m->device_bytes += have;
	m->stall_ns = vfmed_now_ns();
	return 0;
}

/* ---- rounds ----------------------------------------------------------------------------- */

static void begin_round(struct vfmed_runner *r, struct vfmed_migout *m, uint64_t now, int first)
{
	(void)r;
	if (first) {
		for (uint64_t w = 0; w < m->words; w++)
			m->send[w] = ~0ull;
		if (m->pages % 64)
			m->send[m->words - 1] = (1ull << (m->pages % 64)) - 1;
		memset(m->dev, 0, m->words * 8);
		m->round_pages = m->pages;
		m->round_cpu = m->round_dev = 0;
	}
	m->cursor = 0;
	m->t_round = now;
	m->round_sent0 = m->tx.sent;
}

/* The end of round m->round: measurements, the progress event, and whether to switch
 * over (1), go on (0) or fail (-errno). */
static int end_round(struct vfmed_runner *r, struct vfmed_migout *m, uint64_t now)
{
	uint64_t bytes = m->tx.sent - m->round_sent0, ns = now - m->t_round, dsize = 0;
	uint64_t cpu, devn, dirty;
	double expected_ms;
	char buf[1024];
	struct vfmed_jout j;
	int rc;

	/* Bandwidth: from rounds big enough to be measured; small rounds keep the last. */
	if (bytes >= (256u << 10) && ns)
		m->bw = (double)bytes * 1e9 / (double)ns;
	if (m->p.max_bandwidth && (m->bw == 0 || m->bw > (double)m->p.max_bandwidth))
		m->bw = (double)m->p.max_bandwidth;
	if (m->bw == 0)
		m->bw = 100e6;  /* nothing measured yet: assume 100 MB/s */
	log_round(m, now);
	rc = device_report(r, m, NULL);
	if (rc)
		return rc;
	rc = vfmed_vfu_mig_data_size(&r->vfu, &dsize);
	if (rc)
		return vfu_fail(r, m, rc, "MIG_DATA_SIZE");
	cpu = vfmed_bitmap_count(m->dirty.bits, m->words);
	devn = vfmed_bitmap_count(m->dev, m->words);
	dirty = m->dirty.overflow ? m->pages : union_count(m->dirty.bits, m->dev, m->words);
	expected_ms = ((double)dirty * VFMED_MIG_PAGE + (double)dsize) * 1000.0 / m->bw;

	vfmed_jo_init(&j, buf, sizeof(buf));
	vfmed_jo_open(&j, NULL);
	vfmed_jo_str(&j, "event", "progress");
	vfmed_jo_u64(&j, "round", m->round);
	vfmed_jo_u64(&j, "ram_bytes", r->ram.size);
	vfmed_jo_u64(&j, "ram_remaining_bytes", dirty * VFMED_MIG_PAGE);
	vfmed_jo_u64(&j, "pages_cpu", cpu);
	vfmed_jo_u64(&j, "pages_device", devn);
	vfmed_jo_u64(&j, "pages_sent", m->round_pages);
	vfmed_jo_u64(&j, "bytes_sent", m->tx.sent);
	vfmed_jo_u64(&j, "round_ms", ms(ns));
	vfmed_jo_u64(&j, "dirty_rate_pps", ns ? (uint64_t)((double)(cpu + devn) * 1e9 / (double)ns) : 0);
	vfmed_jo_u64(&j, "bandwidth_bps", (uint64_t)m->bw);
	vfmed_jo_f(&j, "expected_downtime_ms", expected_ms);
	vfmed_jo_close(&j);
	vfmed_live_emit(r, buf);

	/* Switch over when the rest fits the downtime limit; or after max_rounds; or when two
	 * rounds in a row did not shrink the dirty set by a tenth (the guest or the tracker
	 * dirties as fast as we send, e.g. the all-dirty tracker: more rounds only resend). */
	if (m->round && dirty * 10 >= m->prev_dirty * 9)
		m->stalled_rounds++;
	else
		m->stalled_rounds = 0;
	m->prev_dirty = dirty;
	if (expected_ms <= (double)m->p.downtime_limit_ms)
		m->switch_reason = "converged";
	else if ((uint64_t)m->round + 1 >= m->p.max_rounds)
		m->switch_reason = "max-rounds";
	else if (m->stalled_rounds >= 2)
		m->switch_reason = "no-progress";
	if (m->switch_reason)
		return 1;
	/* Next round: the CPU bitmap (taken and re-protected) and the device log. */
	memset(m->send, 0, m->words * 8);
	int64_t taken = vfmed_ram_dirty_take(&m->dirty, m->send);
	if (taken < 0) {
		snprintf(m->why, sizeof(m->why), "write-protecting guest RAM: %s", strerror((int)-taken));
		return (int)taken;
	}
	m->round_cpu = (uint64_t)taken;
	m->round_dev = vfmed_bitmap_count(m->dev, m->words);
	or_into(m->send, m->dev, m->words);
	memset(m->dev, 0, m->words * 8);
	m->round_pages = vfmed_bitmap_count(m->send, m->words);
	m->round++;
	begin_round(r, m, now, 0);
	return 0;
}

/* ---- switchover -------------------------------------------------------------------------- */

static int switchover(struct vfmed_runner *r, struct vfmed_migout *m, uint64_t t_pause)
{
	const struct vfmed_guest_state *st = r->vf.st;
	uint64_t deadline = t_pause + m->p.timeout_ms * 1000000ull, confirm[2] = { 0, 0 }, t_end;
	uint64_t rx_frames = 0, lost = 0, dup = 0, reord = 0;
	uint32_t chunk = (uint32_t)(r->vfu.max_data_xfer < DEV_BUF ? r->vfu.max_data_xfer : DEV_BUF);
	static char buf[16384];
	struct vfmed_jout j;
	int rc;

	/* The CPU is paused from here: this call does not return to the driver loop until the
	 * migration completed or failed back. Last CPU-dirty pages, then tracking off. */
	m->sw_stage = "switchover";
	memset(m->send, 0, m->words * 8);
	if (m->dirty.overflow) {
		for (uint64_t w = 0; w < m->words; w++)
			m->send[w] = ~0ull;
		if (m->pages % 64)
			m->send[m->words - 1] = (1ull << (m->pages % 64)) - 1;
	} else {
		or_into(m->send, m->dirty.bits, m->words);
	}
	m->round_cpu = vfmed_bitmap_count(m->send, m->words);
	vfmed_ram_dirty_stop(&m->dirty);
	rc = vfmed_vfu_mig_set_state(&r->vfu, VFU_MIG_STOP_COPY);
	if (rc)
		return vfu_fail(r, m, rc, "device -> STOP_COPY");
	rc = device_report(r, m, NULL);   /* the device is quiesced: its last writes */
	if (rc)
		return rc;
	m->round_dev = vfmed_bitmap_count(m->dev, m->words);
	or_into(m->send, m->dev, m->words);
	m->round_pages = vfmed_bitmap_count(m->send, m->words);
	m->round++;
	begin_round(r, m, t_pause, 0);
	for (;;) {
		rc = queue_pages(r, m);
		if (rc == 0)
			break;
		if (rc == -ENOBUFS && (rc = flush_all(m, deadline)))
			return rc;
	}
	/* The device state, to the end of its stream. */
	for (;;) {
		int got = vfmed_vfu_mig_read(&r->vfu, m->dev_buf, chunk);
		if (got < 0)
			return vfu_fail(r, m, got, "MIG_DATA_READ of the device state");
		if (got > 0) {
			if (!vfmed_mig_tx_fits(&m->tx, (uint64_t)got) && (rc = flush_all(m, deadline)))
				return rc;
			queue_blob(m, VFMED_MIG_SEC_DEVICE_STATE, m->dev_buf, (uint64_t)got);
			m->device_bytes += (uint64_t)got;
		}
		if ((uint32_t)got < chunk)
			break;
	}
	if (m->p.verify_ram) {
		uint64_t tv = vfmed_now_ns(), h = VFMED_FNV1A64_INIT;
		for (uint64_t p0 = 0; p0 < m->pages; p0 += DIGESTS_PER_SEC) {
			uint64_t n = m->pages - p0 < DIGESTS_PER_SEC ? m->pages - p0 : DIGESTS_PER_SEC;
			uint8_t *d;   /* the stream buffer: no alignment, little-endian by memcpy */
			if (!vfmed_mig_tx_fits(&m->tx, n * 8) && (rc = flush_all(m, deadline)))
				return rc;
			d = vfmed_mig_tx_section_begin(&m->tx, VFMED_MIG_SEC_RAM_DIGEST, n * 8);
			for (uint64_t i = 0; i < n; i++) {
				uint64_t v = vfmed_fnv1a64(r->ram.host + (p0 + i) * VFMED_MIG_PAGE, VFMED_MIG_PAGE);

				memcpy(d + i * 8, &v, 8);
				h = vfmed_fnv1a64_add_u64(h, v);
			}
			vfmed_mig_tx_section_end(&m->tx, n * 8);
		}
		m->digest = h;
		m->have_digest = 1;
		m->verify_ns = vfmed_now_ns() - tv;
	}
	if (!vfmed_mig_tx_fits(&m->tx, 0) && (rc = flush_all(m, deadline)))
		return rc;
	queue_blob(m, VFMED_MIG_SEC_END, NULL, 0);
	rc = flush_all(m, deadline);
	if (rc)
		return rc;
	log_round(m, vfmed_now_ns());
	m->sw_stage = "confirm";
	for (;;) {
		struct pollfd pfd = { .fd = m->sock, .events = POLLIN };
		uint64_t now = vfmed_now_ns();
		rc = read_return(m, confirm);
		if (rc == 2)
			break;
		if (rc < 0)
			return rc;
		if (rc == 1) {
			snprintf(m->why, sizeof(m->why), "unexpected COMPAT_OK after END");
			return -EPROTO;
		}
		if (now >= deadline) {
			snprintf(m->why, sizeof(m->why), "no CONFIRM from the destination within %" PRIu64 " ms",
				 m->p.timeout_ms);
			return -ETIMEDOUT;
		}
		poll(&pfd, 1, (int)((deadline - now) / 1000000ull) + 1);
	}
	t_end = vfmed_now_ns();
	/* Confirmed: the guest runs on the destination. Release this side. */
	rc = vfmed_vfu_mig_set_state(&r->vfu, VFU_MIG_STOP);
	if (rc)
		fprintf(stderr, "vfmed-guest: live migration: source STOP: %s (ignored: the destination runs)\n",
			strerror(-rc));
	if (vfmed_vfu_dma_logging_stop(&r->vfu))
		fprintf(stderr, "vfmed-guest: live migration: DMA_LOGGING_STOP failed (ignored)\n");
	m->logging = 0;
	m->precopy = 0;

	for (unsigned s = 0; s < VFMED_MAX_STREAMS; s++) {
		rx_frames += st->rx[s].received;
		lost += st->rx[s].lost;
		dup += st->rx[s].duplicated;
		reord += st->rx[s].reordered;
	}
	vfmed_jo_init(&j, buf, sizeof(buf));
	vfmed_jo_open(&j, NULL);
	vfmed_jo_str(&j, "event", "completed");
	vfmed_jo_str(&j, "tracker", tracker_name(m->tracker));
	vfmed_jo_u64(&j, "total_ms", ms(t_end - m->t0));
	{
		uint64_t down = t_end - t_pause, excl = m->verify_ns + confirm[1];
		vfmed_jo_f(&j, "downtime_ms", (double)(down > excl ? down - excl : 0) / 1e6);
	}
	vfmed_jo_u64(&j, "setup_ms", ms(m->t_compat - m->t0));
	vfmed_jo_arr_open(&j, "rounds");
	for (unsigned i = 0; i < m->nrounds; i++) {
		vfmed_jo_open(&j, NULL);
		vfmed_jo_u64(&j, "round", m->rounds[i].round);
		vfmed_jo_u64(&j, "pages", m->rounds[i].pages);
		vfmed_jo_u64(&j, "pages_cpu", m->rounds[i].pages_cpu);
		vfmed_jo_u64(&j, "pages_device", m->rounds[i].pages_device);
		vfmed_jo_u64(&j, "bytes", m->rounds[i].bytes);
		vfmed_jo_f(&j, "ms", (double)m->rounds[i].ns / 1e6);
		vfmed_jo_close(&j);
	}
	vfmed_jo_arr_close(&j);
	vfmed_jo_u64(&j, "rounds_total", m->rounds_total);
	vfmed_jo_str(&j, "switch_reason", m->switch_reason ? m->switch_reason : "converged");
	vfmed_jo_u64(&j, "ram_bytes", r->ram.size);
	vfmed_jo_u64(&j, "bytes_sent", m->tx.sent);
	vfmed_jo_u64(&j, "device_bytes", m->device_bytes);
	if (m->have_digest) {
		char hex[20];
		snprintf(hex, sizeof(hex), "%016" PRIx64, m->digest);
		vfmed_jo_str(&j, "ram_digest", hex);
	} else {
		vfmed_jo_null(&j, "ram_digest");
	}
	vfmed_jo_f(&j, "verify_ms", (double)(m->verify_ns + confirm[1]) / 1e6);
	vfmed_jo_u64(&j, "cpu_faults", m->dirty.faults);
	vfmed_jo_open(&j, "guest");
	vfmed_jo_u64(&j, "rx_frames", rx_frames);
	vfmed_jo_u64(&j, "lost", lost);
	vfmed_jo_u64(&j, "duplicated", dup);
	vfmed_jo_u64(&j, "reordered", reord);
	vfmed_jo_close(&j);
	vfmed_jo_close(&j);
	release(r);
	r->live.status = VFMED_LIVE_COMPLETED;
	vfmed_live_emit(r, buf);
	return 0;
}

/* ---- the per-iteration step ------------------------------------------------------------ */

static int precopy_step(struct vfmed_runner *r, struct vfmed_migout *m, uint64_t now)
{
	uint64_t c[2];
	int rc = read_return(m, c);

	if (rc < 0)
		return rc;
	if (rc) {
		snprintf(m->why, sizeof(m->why), "unexpected %s on the return path during pre-copy",
			 rc == 1 ? "COMPAT_OK" : "CONFIRM");
		return -EPROTO;
	}
	rc = vfmed_mig_tx_flush(&m->tx, 0);
	if (rc && rc != -EAGAIN) {
		snprintf(m->why, sizeof(m->why), "sending the stream: %s", strerror(-rc));
		return rc;
	}
	if (m->tx.sent != m->stall_sent || !vfmed_mig_tx_pending(&m->tx)) {
		m->stall_sent = m->tx.sent;
		m->stall_ns = now;
	} else if (now - m->stall_ns > m->p.timeout_ms * 1000000ull) {
		snprintf(m->why, sizeof(m->why), "the destination took no data for %" PRIu64 " ms", m->p.timeout_ms);
		return -ETIMEDOUT;
	}
	r->live.busy = 0;
	while (m->cursor < m->pages && vfmed_mig_tx_pending(&m->tx) < PENDING_HIGH) {
		if (m->p.max_bandwidth) {
			double allowed = (double)(now - m->pace_t0) * (double)m->p.max_bandwidth / 1e9 + (128u << 10);
			if ((double)(m->tx.queued - m->pace_q0) >= allowed)
				break;
		}
		rc = queue_pages(r, m);
		if (rc == -ENOBUFS)
			break;
		r->live.busy = 1;
		if (vfmed_now_ns() - now > STEP_NS)
			break;
	}
	if (r->live.busy)
		vfmed_mig_tx_flush(&m->tx, 0);
	if (m->cursor >= m->pages && !vfmed_mig_tx_pending(&m->tx))
		return end_round(r, m, now);
	return 0;
}

int vfmed_migout_service(struct vfmed_runner *r, uint64_t now)
{
	struct vfmed_migout *m = r->live.out;
	uint64_t c[2];
	int rc;

	if (!m)
		return VFMED_RUN_ON;
	if (m->cancel) {
		snprintf(m->why, sizeof(m->why), "cancelled");
		return fail(r, stage_name(m));
	}
	switch (m->st) {
	case ST_CONNECT: {
		struct pollfd pfd = { .fd = m->sock, .events = POLLOUT };
		int err = 0;
		socklen_t len = sizeof(err);
		if (poll(&pfd, 1, 0) <= 0) {
			if (now < m->deadline)
				return VFMED_RUN_ON;
			snprintf(m->why, sizeof(m->why), "connecting to %s:%s timed out", m->p.host, m->p.port);
			return fail(r, "setup");
		}
		getsockopt(m->sock, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			snprintf(m->why, sizeof(m->why), "connecting to %s:%s: %s", m->p.host, m->p.port, strerror(err));
			return fail(r, "setup");
		}
		if (setup(r, m))
			return fail(r, "setup");
		m->st = ST_COMPAT;
		return VFMED_RUN_ON;
	}
	case ST_COMPAT:
		rc = vfmed_mig_tx_flush(&m->tx, 0);
		if (rc && rc != -EAGAIN) {
			snprintf(m->why, sizeof(m->why), "sending the stream: %s", strerror(-rc));
			return fail(r, "compat");
		}
		rc = read_return(m, c);
		if (rc < 0)
			return fail(r, "compat");
		if (rc == 2) {
			snprintf(m->why, sizeof(m->why), "unexpected CONFIRM before any RAM");
			return fail(r, "compat");
		}
		if (rc == 0) {
			if (now < m->deadline)
				return VFMED_RUN_ON;
			snprintf(m->why, sizeof(m->why), "no COMPAT_OK from the destination within %" PRIu64 " ms",
				 m->p.timeout_ms);
			return fail(r, "compat");
		}
		vfmed_live_emit(r, "{\"event\":\"migration\",\"phase\":\"compat-ok\"}");
		m->t_compat = now;
		rc = vfmed_ram_dirty_start(&m->dirty);
		if (rc) {
			snprintf(m->why, sizeof(m->why), "write-protecting guest RAM: %s", strerror(-rc));
			return fail(r, "precopy");
		}
		m->st = ST_PRECOPY;
		m->pace_t0 = now;
		m->pace_q0 = m->tx.queued;
		m->stall_ns = now;
		begin_round(r, m, now, 1);
		return VFMED_RUN_ON;
	case ST_PRECOPY:
		rc = precopy_step(r, m, now);
		if (rc < 0)
			return fail(r, "precopy");
		if (rc == 0)
			return VFMED_RUN_ON;
		rc = switchover(r, m, vfmed_now_ns());
		if (rc < 0)
			return fail(r, m->sw_stage);
		return VFMED_STOP_MIGRATED;
	}
	return VFMED_RUN_ON;
}

void vfmed_migout_abort(struct vfmed_runner *r, const char *why)
{
	struct vfmed_migout *m = r->live.out;

	if (!m)
		return;
	snprintf(m->why, sizeof(m->why), "%s", why);
	fail(r, stage_name(m));
}
