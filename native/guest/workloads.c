/* SPDX-License-Identifier: MIT */
/*
 * workloads.c - the poll loop and the five workloads (see workloads.h).
 *
 * One iteration: generate a paced TX burst (txgen, loopback), poll RX once (handing each
 * frame to the workload's callback, which may post a TX frame), ring the TX doorbell once,
 * reclaim completed TX descriptors, then let the runner do its periodic service. When an
 * iteration found nothing to do the loop backs off with short sleeps unless --busy-poll.
 */
#define _GNU_SOURCE
#include "workloads.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "frame-tag.h"
#include "net-echo.h"
#include "runner.h"
#include "seq-check.h"
#include "stats-json.h"

struct wl {
	struct vfmed_runner *r;
	struct vfmed_vf *vf;
	struct vfmed_guest_state *st;
	const struct vfmed_opts *o;
	const struct vfmed_pcap *pcap;
};

/* ---- TX generation ----------------------------------------------------------------- */

static uint16_t build_frame(struct wl *w, uint8_t *buf, uint16_t stream, uint64_t seq)
{
	struct vfmed_guest_state *st = w->st;

	if (w->pcap) {
		size_t i = (size_t)(st->pcap_next++ % w->pcap->count);
		uint16_t len = w->pcap->len[i];

		memcpy(buf, w->pcap->data + w->pcap->offset[i], len);
		if (len < VFMED_FRAME_MIN) {  /* pad runts like a NIC would */
			memset(buf + len, 0, VFMED_FRAME_MIN - len);
			len = VFMED_FRAME_MIN;
		}
		if (w->o->pcap_stamp)
			vfmed_frame_stamp(buf, len, stream, seq);
		return len;
	}
	vfmed_frame_generate(buf, w->o->size, st->dst_mac, st->mac, stream, seq);
	return w->o->size;
}

static unsigned tx_generate(struct wl *w, uint64_t now_ns)
{
	struct vfmed_guest_state *st = w->st;
	const struct vfmed_opts *o = w->o;
	uint64_t budget = o->burst;
	unsigned n = 0;

	if (o->count && st->tx_generated >= o->count)
		return 0;
	if (o->rate_pps) {
		/* Relative to where pacing started, so that a run resumed from migrated
		 * guest RAM does not stall until the clock "catches up". */
		uint64_t allowed = w->r->pace_base +
			(uint64_t)((unsigned __int128)(now_ns - w->r->start_ns) * o->rate_pps /
				   1000000000u);
		if (allowed <= st->tx_generated)
			return 0;
		if (allowed - st->tx_generated < budget)
			budget = allowed - st->tx_generated;
	}
	if (o->count && o->count - st->tx_generated < budget)
		budget = o->count - st->tx_generated;

	while (n < budget) {
		/* Stream s always goes out of queue s % queues, so each stream stays in order. */
		uint16_t stream = (uint16_t)(st->tx_generated % st->streams);
		unsigned q = stream % st->queues;
		uint8_t *buf = vfmed_igbvf_tx_buf(w->vf, q);

		if (!buf)
			break;
		vfmed_igbvf_tx_post(w->vf, q, build_frame(w, buf, stream, st->tx_seq[stream]));
		st->tx_seq[stream]++;
		st->tx_generated++;
		n++;
	}
	return n;
}

/* ---- RX callbacks -------------------------------------------------------------------- */

static void rx_verify(void *ctx, unsigned q, uint8_t *frame, uint16_t len)
{
	struct wl *w = ctx;
	struct vfmed_guest_state *st = w->st;
	struct vfmed_tag tag;

	(void)q;
	switch (vfmed_frame_check(frame, len, &tag)) {
	case VFMED_TAG_OK:
		if (tag.stream < VFMED_MAX_STREAMS)
			vfmed_seq_account(&st->rx[tag.stream], tag.seq);
		else
			st->rx_corrupted++;
		break;
	case VFMED_TAG_CORRUPT:
		st->rx_corrupted++;
		break;
	default:
		st->rx_untagged++;
		break;
	}
}

static void rx_forward(void *ctx, unsigned q, uint8_t *frame, uint16_t len)
{
	struct wl *w = ctx;
	struct vfmed_guest_state *st = w->st;
	uint8_t *buf = vfmed_igbvf_tx_buf(w->vf, q);

	/* Every frame is forwarded, broadcasts too (ARP, another guest's self-announce after a
	 * migration): a reflector does not interpret what it reflects. */
	if (!buf) {
		st->tx_drops++;
		return;
	}
	memcpy(buf, frame, len);
	if (w->o->fwd_l2)
		memcpy(buf, st->dst_mac, 6);   /* to the configured next hop */
	else
		memcpy(buf, frame + 6, 6);     /* MAC swap: back to the sender */
	memcpy(buf + 6, st->mac, 6);           /* always from us (anti-spoofing) */
	vfmed_igbvf_tx_post(w->vf, q, len);
	st->fwd_frames++;
}

static void rx_echo(void *ctx, unsigned q, uint8_t *frame, uint16_t len)
{
	struct wl *w = ctx;
	struct vfmed_guest_state *st = w->st;
	uint8_t *buf = vfmed_igbvf_tx_buf(w->vf, q);
	uint16_t out_len = 0;

	if (!buf) {
		st->tx_drops++;
		return;
	}
	switch (vfmed_echo_reply(frame, len, st->mac, st->ip, buf, (uint16_t)st->buf_size, &out_len)) {
	case VFMED_ECHO_ARP:
		st->echo_arp_replies++;
		break;
	case VFMED_ECHO_ICMP:
		st->echo_icmp_replies++;
		break;
	default:
		st->echo_ignored++;
		return;
	}
	vfmed_igbvf_tx_post(w->vf, q, out_len);
}

/* ---- loop ----------------------------------------------------------------------------- */

static int goal_reached(struct wl *w)
{
	const struct vfmed_opts *o = w->o;
	struct vfmed_guest_state *st = w->st;

	if (!o->count)
		return 0;
	switch (o->workload) {
	case VFMED_WL_TXGEN:
	case VFMED_WL_LOOPBACK:
		return st->tx_generated >= o->count;
	case VFMED_WL_RXSINK:
		return st->rx_packets >= o->count;
	case VFMED_WL_FWD:
		return st->fwd_frames >= o->count;
	case VFMED_WL_ECHO:
		return st->echo_arp_replies + st->echo_icmp_replies >= o->count;
	case VFMED_WL_MMIO_LAT:
		break;   /* runs in mmio-latency.c */
	}
	return 0;
}

/* After the goal: what must still come back before the summary. */
static int drained(struct wl *w)
{
	struct vfmed_guest_state *st = w->st;
	uint64_t back = 0;

	if (vfmed_igbvf_tx_inflight_all(w->vf))
		return 0;
	if (w->o->workload != VFMED_WL_LOOPBACK)
		return 1;
	/* Only frames that carry our tag (or were ours but damaged) answer for what we sent:
	 * untagged ones (another guest's self-announce broadcast, foreign traffic) are not. */
	for (unsigned s = 0; s < VFMED_MAX_STREAMS; s++)
		back += st->rx[s].received + st->rx[s].duplicated + st->rx[s].stale;
	return back + st->rx_corrupted >= st->tx_generated;
}

static void idle_pause(unsigned *idle)
{
	unsigned k = *idle < 32 ? 0 : *idle - 32;
	struct timespec ts = { 0, 0 };

	if (*idle < 64)
		(*idle)++;
	if (!k)
		return;
	ts.tv_nsec = (long)(k > 7 ? 100 : (1u << k)) * 1000;  /* 2 us .. 100 us */
	nanosleep(&ts, NULL);
}

/*
 * How many frames to take from RX in one poll. fwd and echo send one frame per frame they
 * take, so they take only what the TX ring has room for: a frame they cannot send yet
 * stays in the RX ring instead of being dropped, and the backlog propagates to the sender
 * (the device's VF-to-VF path stalls the sender when the receiver's FIFO is full; from
 * the uplink, the FIFO drops and counts). A forwarder is then lossless end to end.
 */
static unsigned rx_budget(struct wl *w, unsigned q)
{
	const struct vfmed_opts *o = w->o;
	unsigned room;

	if (o->workload != VFMED_WL_FWD && o->workload != VFMED_WL_ECHO)
		return o->burst;
	vfmed_igbvf_tx_reclaim(w->vf, q);
	room = w->st->tx_count - 1 - vfmed_igbvf_tx_inflight(w->vf, q);
	return room < o->burst ? room : o->burst;
}

static int received_errors(const struct vfmed_guest_state *st)
{
	for (unsigned s = 0; s < VFMED_MAX_STREAMS; s++)
		if (st->rx[s].lost || st->rx[s].duplicated || st->rx[s].reordered || st->rx[s].stale)
			return 1;
	return st->rx_corrupted != 0;
}

int vfmed_workload_run(struct vfmed_runner *r)
{
	const struct vfmed_opts *o = r->o;
	struct wl w = { .r = r, .vf = &r->vf, .st = r->vf.st, .o = o };
	struct vfmed_guest_state *st = w.st;
	vfmed_rx_fn rx_fn = NULL;
	const char *reason = "signal";
	uint64_t goal_ns = 0;
	unsigned idle = 0;
	int failed = 0;
	int gen = o->workload == VFMED_WL_TXGEN || o->workload == VFMED_WL_LOOPBACK;

	if (gen)
		w.pcap = o->pcap_frames;
	switch (o->workload) {
	case VFMED_WL_RXSINK:
	case VFMED_WL_LOOPBACK:
		rx_fn = rx_verify;
		/* A resumed guest keeps the receive accounting it had in RAM. */
		if (!r->resumed && (o->seq_from_zero || o->workload == VFMED_WL_LOOPBACK))
			for (unsigned s = 0; s < o->streams; s++)
				vfmed_seq_start(&st->rx[s], 0);
		break;
	case VFMED_WL_FWD:
		rx_fn = rx_forward;
		break;
	case VFMED_WL_ECHO:
		rx_fn = rx_echo;
		break;
	default:
		break;
	}

	for (;;) {
		uint64_t now = vfmed_now_ns();
		unsigned work = 0;

		if (gen)
			work += tx_generate(&w, now);
		for (unsigned q = 0; q < st->queues; q++) {
			if (rx_fn && !(o->precopy_rx_hold && r->mig.phase == VFMED_MIG_PRECOPY))
				work += vfmed_igbvf_rx_poll(w.vf, q, rx_budget(&w, q), rx_fn, &w);
			vfmed_igbvf_tx_doorbell(w.vf, q);
			work += vfmed_igbvf_tx_reclaim(w.vf, q);
		}

		switch (vfmed_runner_service(r, now)) {
		case VFMED_RUN_ON:
			break;
		case VFMED_STOP_SIGNAL:
			reason = "signal";
			goto stop;
		case VFMED_STOP_DURATION:
			reason = "duration";
			goto stop;
		case VFMED_STOP_ERROR:
			reason = "error";
			failed = 1;
			goto stop;
		case VFMED_STOP_SAVED:
			reason = "saved";
			goto stop;
		case VFMED_STOP_MIGRATED:
			reason = "migrated";
			goto stop;
		}
		if (!goal_ns && goal_reached(&w))
			goal_ns = now;
		if (goal_ns) {
			if (drained(&w)) {
				reason = "count";
				break;
			}
			if (now - goal_ns >= (uint64_t)o->drain_ms * 1000000) {
				reason = "drain-timeout";
				break;
			}
		}
		if (work || o->busy_poll || r->live.busy)
			idle = 0;
		else
			idle_pause(&idle);
	}

stop:
	if (o->workload == VFMED_WL_LOOPBACK && !r->migrated_out)
		for (unsigned s = 0; s < o->streams; s++)
			vfmed_seq_finish(&st->rx[s], st->tx_seq[s]);
	vfmed_json_summary(r, reason, vfmed_igbvf_tx_inflight_all(w.vf));
	if (failed)
		return 1;
	/* A guest saved away is checked where it goes on. */
	if (o->strict && !r->migrated_out && (received_errors(st) || vfmed_igbvf_tx_inflight_all(w.vf) ||
			  !strcmp(reason, "drain-timeout")))
		return 3;
	return 0;
}

static const struct { const char *name; enum vfmed_workload w; } workload_names[] = {
	{ "txgen", VFMED_WL_TXGEN }, { "rxsink", VFMED_WL_RXSINK }, { "fwd", VFMED_WL_FWD },
	{ "echo", VFMED_WL_ECHO }, { "loopback", VFMED_WL_LOOPBACK },
	{ "mmio-lat", VFMED_WL_MMIO_LAT },
};

const char *vfmed_workload_name(enum vfmed_workload w)
{
	for (size_t i = 0; i < sizeof(workload_names) / sizeof(workload_names[0]); i++)
		if (workload_names[i].w == w)
			return workload_names[i].name;
	return "none";
}

int vfmed_workload_parse(const char *name, enum vfmed_workload *w)
{
	for (size_t i = 0; i < sizeof(workload_names) / sizeof(workload_names[0]); i++) {
		if (!strcmp(name, workload_names[i].name)) {
			*w = workload_names[i].w;
			return 0;
		}
	}
	return -1;
}
