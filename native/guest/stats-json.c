/* SPDX-License-Identifier: MIT */
/*
 * stats-json.c - JSON-lines output (see stats-json.h). Lines are built in a buffer and
 * written with one fwrite + fflush so that a reader never sees half a line.
 */
#include "stats-json.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mmio-trap.h"
#include "runner.h"
#include "workloads.h"

struct jb {
	char b[1 << 20];  /* summary with --lat-samples up to ~100k values */
	size_t n;
	int first;
};

static void jraw(struct jb *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jraw(struct jb *j, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (j->n >= sizeof(j->b))
		return;
	va_start(ap, fmt);
	w = vsnprintf(j->b + j->n, sizeof(j->b) - j->n, fmt, ap);
	va_end(ap);
	if (w > 0)
		j->n += (size_t)w < sizeof(j->b) - j->n ? (size_t)w : sizeof(j->b) - j->n - 1;
}

static void jkey(struct jb *j, const char *k)
{
	jraw(j, "%s\"%s\":", j->first ? "" : ",", k);
	j->first = 0;
}

static void ju(struct jb *j, const char *k, uint64_t v) { jkey(j, k); jraw(j, "%" PRIu64, v); }
static void jb_(struct jb *j, const char *k, int v) { jkey(j, k); jraw(j, v ? "true" : "false"); }
static void js(struct jb *j, const char *k, const char *v) { jkey(j, k); jraw(j, "\"%s\"", v); }
static void jf(struct jb *j, const char *k, double v) { jkey(j, k); jraw(j, "%.1f", v); }

static void jmac(struct jb *j, const char *k, const uint8_t *m)
{
	jkey(j, k);
	jraw(j, "\"%02x:%02x:%02x:%02x:%02x:%02x\"", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void jpages(struct jb *j, const char *k, uint32_t mask, int set, unsigned pages)
{
	int first = 1;
	jkey(j, k);
	jraw(j, "[");
	for (unsigned i = 0; i < pages; i++) {
		if (!!(mask & (1u << i)) == set) {
			jraw(j, first ? "%u" : ",%u", i);
			first = 0;
		}
	}
	jraw(j, "]");
}

static void begin(struct jb *j, const char *type)
{
	j->n = 0;
	j->first = 1;
	jraw(j, "{");
	js(j, "type", type);
}

static void end(struct jb *j)
{
	jraw(j, "}\n");
	fwrite(j->b, 1, j->n, stdout);
	fflush(stdout);
}

static struct jb jbuf;

void vfmed_json_init(struct vfmed_runner *r)
{
	struct jb *j = &jbuf;
	const struct vfmed_guest_state *st = r->vf.st;

	begin(j, "init");
	js(j, "workload", vfmed_workload_name(r->o->workload));
	js(j, "mode", r->bar.uio ? "uio" : "vfio-user");
	jmac(j, "mac", st->mac);
	jmac(j, "dst", st->dst_mac);
	jb_(j, "link_up", r->link_up);
	jb_(j, "mac_nacked", r->mac_nacked);
	if (!r->bar.uio) {
		jkey(j, "pci_id");
		jraw(j, "\"%04x:%04x\"", r->pci_vendor, r->pci_device);
		jkey(j, "vfio_user_version");
		jraw(j, "\"%u.%u\"", r->vfu.major, r->vfu.minor);
		ju(j, "num_regions", r->dev.num_regions);
		ju(j, "num_irqs", r->dev.num_irqs);
		jb_(j, "layout_irq", r->layout_fd >= 0);
	}
	jpages(j, "bar0_mapped_pages", r->bar.mapped, 1, 4);
	jpages(j, "bar0_trapped_pages", r->bar.mapped, 0, 4);
	ju(j, "ram_bytes", r->ram.size);
	ju(j, "ram_base", r->ram.base);
	ju(j, "state_gpa", r->ram.base + VFMED_GPA_STATE);
	ju(j, "tx_ring_gpa", st->q[0].tx_ring);
	ju(j, "rx_ring_gpa", st->q[0].rx_ring);
	ju(j, "tx_ring", st->tx_count);
	ju(j, "rx_ring", st->rx_count);
	ju(j, "queues", st->queues);
	ju(j, "rx_sets", st->rx_sets);
	jb_(j, "trap_info", r->trap_info >= 0);
	jb_(j, "resumed", r->resumed);
	end(j);
}

void vfmed_json_layout(struct vfmed_runner *r, const char *reason, unsigned ignored_areas)
{
	struct jb *j = &jbuf;

	begin(j, "bar_layout");
	js(j, "reason", reason);
	jpages(j, "mapped_pages", r->bar.mapped, 1, 4);
	jpages(j, "trapped_pages", r->bar.mapped, 0, 4);
	jb_(j, "trap_all", r->o->trap_all);
	ju(j, "ignored_areas", ignored_areas);
	ju(j, "changes", r->layout_changes);
	end(j);
}

static void counters(struct jb *j, struct vfmed_runner *r)
{
	const struct vfmed_guest_state *st = r->vf.st;
	struct vfmed_trap_stats ts;
	uint64_t lost = 0, dup = 0, reord = 0, stale = 0, recv = 0;

	vfmed_trap_get_stats(&ts);
	for (unsigned s = 0; s < VFMED_MAX_STREAMS; s++) {
		lost += st->rx[s].lost;
		dup += st->rx[s].duplicated;
		reord += st->rx[s].reordered;
		stale += st->rx[s].stale;
		recv += st->rx[s].received;
	}
	ju(j, "tx_packets", st->tx_packets);
	ju(j, "tx_bytes", st->tx_bytes);
	ju(j, "rx_packets", st->rx_packets);
	ju(j, "rx_bytes", st->rx_bytes);
	ju(j, "tx_ring_full", st->tx_ring_full);
	ju(j, "tx_drops", st->tx_drops);
	ju(j, "rx_desc_errors", st->rx_desc_errors);
	ju(j, "rx_frag_drops", st->rx_frag_drops);
	ju(j, "rx_tagged", recv);
	ju(j, "rx_lost", lost);
	ju(j, "rx_duplicated", dup);
	ju(j, "rx_reordered", reord);
	ju(j, "rx_stale", stale);
	ju(j, "rx_corrupted", st->rx_corrupted);
	ju(j, "rx_untagged", st->rx_untagged);
	ju(j, "fwd_frames", st->fwd_frames);
	ju(j, "echo_arp_replies", st->echo_arp_replies);
	ju(j, "echo_icmp_replies", st->echo_icmp_replies);
	ju(j, "echo_ignored", st->echo_ignored);
	ju(j, "mmio_reads", ts.reads);
	ju(j, "mmio_writes", ts.writes);
	ju(j, "mmio_errors", ts.errors);
	ju(j, "layout_changes", r->layout_changes);
	ju(j, "layout_acks", r->layout_acks);
	ju(j, "reinits", st->reinits);
	ju(j, "migrations", st->migrations);
	ju(j, "dma_served", r->vfu.served_dma);
	ju(j, "posted_writes", r->vfu.posted);
	/* Queue error state lives in the queue pages: a mapped read, or one trap. */
	ju(j, "rx_queue_error", vf_rd32(&r->vf, VFMED_RQERR(0)));
	ju(j, "tx_queue_error", vf_rd32(&r->vf, VFMED_TQERR(0)));
	if (st->queues > 1) {
		ju(j, "rx1_queue_error", vf_rd32(&r->vf, VFMED_RQERR(1)));
		ju(j, "tx1_queue_error", vf_rd32(&r->vf, VFMED_TQERR(1)));
	}
}

void vfmed_json_stats(struct vfmed_runner *r, uint64_t now_ns)
{
	struct jb *j = &jbuf;
	const struct vfmed_guest_state *st = r->vf.st;
	double dt = (double)(now_ns - r->last_stats_ns) / 1e9;

	begin(j, "stats");
	ju(j, "t_ms", (now_ns - r->start_ns) / 1000000);
	counters(j, r);
	jf(j, "tx_pps", dt > 0 ? (double)(st->tx_packets - r->last_tx_packets) / dt : 0);
	jf(j, "rx_pps", dt > 0 ? (double)(st->rx_packets - r->last_rx_packets) / dt : 0);
	end(j);
	r->last_tx_packets = st->tx_packets;
	r->last_rx_packets = st->rx_packets;
}

/* Trapped-store latency: count, mean, max, log2 histogram, and the kept samples. */
static void latency(struct jb *j, struct vfmed_runner *r)
{
	uint32_t n, start;
	int first = 1;

	jkey(j, "mmio_write_latency");
	jraw(j, "{\"count\":%" PRIu64 ",\"mean_ns\":%" PRIu64 ",\"max_ns\":%" PRIu64 ",\"log2_hist\":[",
	     r->lat_count, r->lat_count ? r->lat_sum / r->lat_count : 0, r->lat_max);
	for (unsigned b = 0; b < 64; b++) {
		if (!r->lat_hist[b])
			continue;
		jraw(j, "%s[%u,%" PRIu64 "]", first ? "" : ",", b, r->lat_hist[b]);
		first = 0;
	}
	jraw(j, "]");
	if (r->lat_ring) {
		n = r->lat_next < r->o->lat_samples ? r->lat_next : r->o->lat_samples;
		start = r->lat_next < r->o->lat_samples ? 0 : r->lat_next % r->o->lat_samples;
		jraw(j, ",\"samples_ns\":[");
		for (uint32_t i = 0; i < n; i++)
			jraw(j, i ? ",%u" : "%u", r->lat_ring[(start + i) % r->o->lat_samples]);
		jraw(j, "]");
	}
	jraw(j, "}");
}

void vfmed_json_summary(struct vfmed_runner *r, const char *reason, unsigned undrained)
{
	struct jb *j = &jbuf;
	const struct vfmed_guest_state *st = r->vf.st;
	uint64_t now = vfmed_now_ns();
	double secs = (double)(now - r->start_ns) / 1e9;
	int first = 1;

	begin(j, "summary");
	js(j, "workload", vfmed_workload_name(r->o->workload));
	js(j, "reason", reason);
	ju(j, "elapsed_ms", (now - r->start_ns) / 1000000);
	counters(j, r);
	ju(j, "tx_undrained", undrained);
	jf(j, "tx_pps_avg", secs > 0 ? (double)st->tx_packets / secs : 0);
	jf(j, "rx_pps_avg", secs > 0 ? (double)st->rx_packets / secs : 0);
	if (!r->bar.uio) {
		/* The VF's own statistics registers (page 0: each read is an MMIO exit). */
		jkey(j, "device");
		jraw(j, "{\"vfgptc\":%u,\"vfgprc\":%u,\"vfgotc\":%u,\"vfgorc\":%u}",
		     vf_rd32(&r->vf, E1000_VFGPTC), vf_rd32(&r->vf, E1000_VFGPRC),
		     vf_rd32(&r->vf, E1000_VFGOTC), vf_rd32(&r->vf, E1000_VFGORC));
	}
	jkey(j, "streams");
	jraw(j, "[");
	for (unsigned s = 0; s < VFMED_MAX_STREAMS; s++) {
		const struct vfmed_seq_stream *q = &st->rx[s];
		if (!st->tx_seq[s] && !q->started)
			continue;
		jraw(j, "%s{\"id\":%u,\"sent\":%" PRIu64 ",\"received\":%" PRIu64 ",\"lost\":%" PRIu64
		     ",\"duplicated\":%" PRIu64 ",\"reordered\":%" PRIu64 ",\"stale\":%" PRIu64 "}",
		     first ? "" : ",", s, st->tx_seq[s], q->received, q->lost, q->duplicated,
		     q->reordered, q->stale);
		first = 0;
	}
	jraw(j, "]");
	latency(j, r);
	end(j);
}

void vfmed_json_migration(struct vfmed_runner *r, const char *event, int err, const char *why)
{
	struct jb *j = &jbuf;
	const struct vfmed_mig *m = &r->mig;

	begin(j, "migration");
	js(j, "event", event);
	js(j, "protocol", r->o->migration_v1 ? "v1" : "v2");
	if (err) {
		ju(j, "errno", (uint64_t)-err);
		js(j, "error", strerror(-err));
	}
	if (why)
		js(j, "what", why);
	ju(j, "precopy_bytes", m->precopy_bytes);
	ju(j, "stopcopy_bytes", m->stopcopy_bytes);
	ju(j, "downtime_us", m->downtime_ns / 1000);
	{
		uint64_t half = 0;
		for (unsigned q = 0; q < r->vf.st->queues; q++)
			half += r->vf.st->q[q].tx_half;
		/* second halves not yet posted: the device holds that many partial frames */
		ju(j, "tx_half_pending", half);
	}
	ju(j, "tx_generated", r->vf.st->tx_generated);
	ju(j, "migrations", r->vf.st->migrations);
	end(j);
}
