/* SPDX-License-Identifier: MIT */
/*
 * mmio-latency.c - the `mmio-lat` workload: times single BAR0 accesses of the driver, as
 * the guest sees them. With the queue pages trapped (--trap-all, or a mediator that
 * withdrew them) one access is the whole userspace MMIO exit: SIGSEGV, decode, vfio-user
 * REGION_WRITE/READ to the server, the device, the reply, the register write-back,
 * sigreturn. With the pages mapped it is a plain store or load (passthrough).
 *
 *   --lat-op write     TDT0 stored with its current value: the access alone, no device work
 *   --lat-op read      TDH0 loaded
 *   --lat-op doorbell  one frame posted, then TDT0 stored: the access plus the device's TX
 *                      of one frame (a trapped doorbell is processed inside REGION_WRITE)
 *
 * Each sample is one access between two CLOCK_MONOTONIC reads (their cost, ~20-30 ns, is
 * included and printed as clock_ns). --count samples after --warmup discarded ones, printed
 * as JSON lines {"type":"mmio_latency", ..., "samples_ns":[...]} of at most 1000 samples
 * each, then the usual summary line.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame-tag.h"
#include "igbvf-pmd.h"
#include "mmio-trap.h"
#include "runner.h"
#include "stats-json.h"
#include "workloads.h"

#define LAT_CHUNK 1000u

static const char *op_name(int op)
{
	switch (op) {
	case VFMED_LAT_READ: return "read";
	case VFMED_LAT_DOORBELL: return "doorbell";
	default: return "write";
	}
}

static uint64_t clock_cost(void)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 1000; i++) {
		uint64_t a = vfmed_now_ns(), b = vfmed_now_ns();
		if (b - a < best)
			best = b - a;
	}
	return best;
}

static void print_chunk(const char *op, int trapped, const uint64_t *s, unsigned n, unsigned first)
{
	/* 1000 samples of at most 20 digits fit comfortably; built then written at once */
	size_t cap = 256 + (size_t)n * 22, len = 0;
	char *b = malloc(cap);

	if (!b)
		return;
	len += (size_t)snprintf(b + len, cap - len,
				"{\"type\":\"mmio_latency\",\"op\":\"%s\",\"register\":\"%s\",\"trapped\":%s,"
				"\"first\":%u,\"samples_ns\":[", op, !strcmp(op, "read") ? "TDH0" : "TDT0",
				trapped ? "true" : "false", first);
	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(b + len, cap - len, i ? ",%" PRIu64 : "%" PRIu64, s[i]);
	len += (size_t)snprintf(b + len, cap - len, "]}\n");
	fwrite(b, 1, len, stdout);
	fflush(stdout);
	free(b);
}

int vfmed_mmio_latency_run(struct vfmed_runner *r)
{
	const struct vfmed_opts *o = r->o;
	struct vfmed_vf *vf = &r->vf;
	struct vfmed_guest_state *st = vf->st;
	uint64_t total = o->lat_warmup + o->count, n = 0, done = 0;
	uint64_t *s = calloc(LAT_CHUNK, sizeof(*s));
	int trapped = !(r->bar.mapped & (1u << 3));   /* TDH0 and TDT0 live in page 3 */
	const char *op = op_name(o->lat_op);
	const char *reason = "count";
	volatile uint32_t sink = 0;

	if (!s) {
		fputs("vfmed-guest: mmio-lat: out of memory\n", stderr);
		return 1;
	}
	{
		char line[160];
		int k = snprintf(line, sizeof(line),
				 "{\"type\":\"mmio_latency_setup\",\"op\":\"%s\",\"trapped\":%s,"
				 "\"clock_ns\":%" PRIu64 ",\"warmup\":%" PRIu64 ",\"count\":%" PRIu64 "}\n",
				 op, trapped ? "true" : "false", clock_cost(), o->lat_warmup, o->count);
		fwrite(line, 1, (size_t)k, stdout);
		fflush(stdout);
	}
	for (uint64_t i = 0; i < total; i++) {
		uint64_t t0, t1;

		if (vfmed_stop_requested) {
			reason = "signal";
			break;
		}
		if (o->lat_op == VFMED_LAT_DOORBELL) {
			uint8_t *buf = vfmed_igbvf_tx_buf(vf, 0);
			if (!buf) {
				fputs("vfmed-guest: mmio-lat: TX ring full (the device stopped?)\n", stderr);
				reason = "error";
				break;
			}
			vfmed_frame_generate(buf, o->size, st->dst_mac, st->mac, 0, st->tx_seq[0]++);
			vfmed_igbvf_tx_post(vf, 0, o->size);
			__atomic_thread_fence(__ATOMIC_RELEASE);
			t0 = vfmed_now_ns();
			vf_wr32(vf, E1000_TDT(0), st->q[0].tx_next_to_use);
			t1 = vfmed_now_ns();
			st->q[0].tx_tail = st->q[0].tx_next_to_use;
			st->tx_generated++;
			/* Untimed: wait for the device to complete it (a trapped doorbell already has;
			 * a passthrough one is picked up by the device's poll), bounded. */
			for (uint64_t until = t1 + 1000000000ull; vfmed_igbvf_tx_inflight(vf, 0);) {
				vfmed_igbvf_tx_reclaim(vf, 0);
				if (vfmed_igbvf_tx_inflight(vf, 0) && vfmed_now_ns() > until) {
					fputs("vfmed-guest: mmio-lat: the device did not complete a doorbell within 1 s\n", stderr);
					reason = "error";
					break;
				}
			}
			if (!strcmp(reason, "error"))
				break;
		} else if (o->lat_op == VFMED_LAT_READ) {
			t0 = vfmed_now_ns();
			sink += vf_rd32(vf, E1000_TDH(0));
			t1 = vfmed_now_ns();
		} else {
			t0 = vfmed_now_ns();
			vf_wr32(vf, E1000_TDT(0), st->q[0].tx_tail);
			t1 = vfmed_now_ns();
		}
		if (i < o->lat_warmup)
			continue;
		s[n++] = t1 - t0;
		if (n == LAT_CHUNK) {
			print_chunk(op, trapped, s, (unsigned)n, (unsigned)done);
			done += n;
			n = 0;
		}
		if (vfmed_runner_service(r, t1) != VFMED_RUN_ON) {
			reason = "stopped";
			break;
		}
	}
	if (n) {
		print_chunk(op, trapped, s, (unsigned)n, (unsigned)done);
		done += n;
	}
	free(s);
	(void)sink;
	/* Let the last doorbell's frame complete before the summary counts it. */
	for (int k = 0; k < 1000 && vfmed_igbvf_tx_inflight(vf, 0); k++)
		vfmed_igbvf_tx_reclaim(vf, 0);
	vfmed_json_summary(r, reason, vfmed_igbvf_tx_inflight(vf, 0));
	return strcmp(reason, "count") && strcmp(reason, "signal") ? 1 : 0;
}
