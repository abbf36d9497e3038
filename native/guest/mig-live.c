/* SPDX-License-Identifier: MIT */
/*
 * mig-live.c - the runner's side of the monitor protocol (docs/live-migration.md):
 * `migrate`, `migrate-cancel`, `query-migrate`, the parameters of a migration, event
 * emission and the guest layout fingerprint.
 */
#define _GNU_SOURCE
#include "mig-live.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "monitor.h"
#include "runner.h"
#include "workloads.h"

static const char *status_name(enum vfmed_live_status s)
{
	switch (s) {
	case VFMED_LIVE_ACTIVE: return "active";
	case VFMED_LIVE_COMPLETED: return "completed";
	case VFMED_LIVE_FAILED: return "failed";
	default: return "none";
	}
}

static int bad(char *why, size_t cap, const char *fmt, const char *arg)
{
	snprintf(why, cap, fmt, arg);
	return -EINVAL;
}

/* A non-negative integer member in [min, max], or the default when absent. */
static int get_uint(const struct vfmed_jreq *req, const char *key, uint64_t min, uint64_t max,
		    uint64_t *out, char *why, size_t cap)
{
	const struct vfmed_jmember *m = vfmed_jreq_get(req, key);

	if (!m)
		return 0;
	if (m->type != VFMED_JV_NUMBER || m->num != floor(m->num) || m->num < (double)min ||
	    m->num > (double)max) {
		snprintf(why, cap, "\"%s\" must be an integer in %llu..%llu", key, (unsigned long long)min,
			 (unsigned long long)max);
		return -EINVAL;
	}
	*out = (uint64_t)m->num;
	return 0;
}

static int split_host_port(const char *to, struct vfmed_live_params *p, char *why, size_t cap)
{
	const char *colon, *host = to;
	size_t hlen;

	if (to[0] == '[') {                 /* [v6]:port */
		const char *end = strchr(to, ']');
		if (!end || end[1] != ':')
			return bad(why, cap, "\"to\" must be HOST:PORT or [V6ADDR]:PORT, not '%s'", to);
		host = to + 1;
		hlen = (size_t)(end - host);
		colon = end + 1;
	} else {
		colon = strrchr(to, ':');
		if (!colon || strchr(to, ':') != colon)
			return bad(why, cap, "\"to\" must be HOST:PORT or [V6ADDR]:PORT, not '%s'", to);
		hlen = (size_t)(colon - to);
	}
	if (!hlen || hlen >= sizeof(p->host))
		return bad(why, cap, "\"to\": bad host in '%s'", to);
	memcpy(p->host, host, hlen);
	p->host[hlen] = 0;
	{
		const char *ps = colon + 1;
		unsigned long v = 0;
		if (!*ps || strlen(ps) > 5)
			return bad(why, cap, "\"to\": bad port in '%s'", to);
		for (const char *c = ps; *c; c++) {
			if (*c < '0' || *c > '9')
				return bad(why, cap, "\"to\": bad port in '%s'", to);
			v = v * 10 + (unsigned long)(*c - '0');
		}
		if (!v || v > 65535)
			return bad(why, cap, "\"to\": port out of 1..65535 in '%s'", to);
		snprintf(p->port, sizeof(p->port), "%lu", v);
	}
	return 0;
}

int vfmed_live_parse_params(const struct vfmed_jreq *req, struct vfmed_live_params *p,
			    char *why, size_t cap)
{
	static const char *const known[] = {
		"cmd", "id", "to", "downtime_limit_ms", "max_bandwidth", "dirty_tracking", "max_rounds",
		"verify_ram", "timeout_ms",
	};
	const struct vfmed_jmember *m;

	memset(p, 0, sizeof(*p));
	p->downtime_limit_ms = 300;
	p->tracker = VFMED_TRACKER_TAIL_TRAP;
	p->max_rounds = 30;
	p->timeout_ms = 30000;
	/* Unknown members are refused rather than ignored: a misspelt limit must not silently
	 * become the default. */
	for (unsigned i = 0; i < req->n; i++) {
		unsigned k;
		for (k = 0; k < sizeof(known) / sizeof(known[0]) && strcmp(req->m[i].key, known[k]); k++)
			;
		if (k == sizeof(known) / sizeof(known[0]))
			return bad(why, cap, "unknown member \"%s\"", req->m[i].key);
	}
	m = vfmed_jreq_get(req, "to");
	if (!m || m->type != VFMED_JV_STRING)
		return bad(why, cap, "%s", "\"to\" (\"HOST:PORT\") is required");
	if (split_host_port(m->str, p, why, cap))
		return -EINVAL;
	if (get_uint(req, "downtime_limit_ms", 0, 3600000, &p->downtime_limit_ms, why, cap) ||
	    get_uint(req, "max_bandwidth", 0, 1ull << 50, &p->max_bandwidth, why, cap) ||
	    get_uint(req, "max_rounds", 1, 100000, &p->max_rounds, why, cap) ||
	    get_uint(req, "timeout_ms", 1, 3600000, &p->timeout_ms, why, cap))
		return -EINVAL;
	m = vfmed_jreq_get(req, "verify_ram");
	if (m && m->type != VFMED_JV_BOOL)
		return bad(why, cap, "%s", "\"verify_ram\" must be true or false");
	p->verify_ram = m && m->boolean;
	m = vfmed_jreq_get(req, "dirty_tracking");
	if (m) {
		if (m->type != VFMED_JV_STRING)
			return bad(why, cap, "%s", "\"dirty_tracking\" must be tail-trap, device-log or all");
		if (!strcmp(m->str, "tail-trap"))
			p->tracker = VFMED_TRACKER_TAIL_TRAP;
		else if (!strcmp(m->str, "device-log"))
			p->tracker = VFMED_TRACKER_DEVICE_LOG;
		else if (!strcmp(m->str, "all"))
			p->tracker = VFMED_TRACKER_ALL;
		else
			return bad(why, cap, "\"dirty_tracking\" '%s' is not tail-trap, device-log or all", m->str);
		p->tracker_given = 1;
	}
	return 0;
}

static void on_request(void *ctx, const char *cmd, const struct vfmed_jreq *req, struct vfmed_jout *j)
{
	struct vfmed_runner *r = ctx;
	char why[256];

	if (!strcmp(cmd, "migrate")) {
		struct vfmed_live_params p;
		if (r->o->incoming) {
			vfmed_jo_bool(j, "ok", 0);
			vfmed_jo_str(j, "error", "this runner is a migration destination (--incoming)");
			return;
		}
		if (r->live.out) {
			vfmed_jo_bool(j, "ok", 0);
			vfmed_jo_str(j, "error", "a migration is already in progress");
			return;
		}
		if (vfmed_live_parse_params(req, &p, why, sizeof(why)) ||
		    vfmed_migout_start(r, &p, why, sizeof(why))) {
			vfmed_jo_bool(j, "ok", 0);
			vfmed_jo_str(j, "error", why);
			return;
		}
		vfmed_jo_bool(j, "ok", 1);
	} else if (!strcmp(cmd, "migrate-cancel")) {
		if (!r->live.out) {
			vfmed_jo_bool(j, "ok", 0);
			vfmed_jo_str(j, "error", "no migration is in progress");
			return;
		}
		vfmed_migout_cancel(r);
		vfmed_jo_bool(j, "ok", 1);
	} else if (!strcmp(cmd, "query-migrate")) {
		vfmed_jo_bool(j, "ok", 1);
		vfmed_jo_str(j, "status", status_name(r->live.status));
		if (r->live.last[0])
			vfmed_jo_val(j, "last", r->live.last);
		else
			vfmed_jo_null(j, "last");
	} else {
		snprintf(why, sizeof(why), "unknown command '%.64s' (migrate, migrate-cancel, query-migrate)", cmd);
		vfmed_jo_bool(j, "ok", 0);
		vfmed_jo_str(j, "error", why);
	}
}

int vfmed_live_monitor_open(struct vfmed_runner *r, const char *path)
{
	return vfmed_monitor_open(&r->live.mon, path, on_request, r);
}

void vfmed_live_close(struct vfmed_runner *r)
{
	vfmed_monitor_close(r->live.mon);
	r->live.mon = NULL;
}

void vfmed_live_emit(struct vfmed_runner *r, const char *json)
{
	size_t n = strlen(json);

	if (n < sizeof(r->live.last))
		memcpy(r->live.last, json, n + 1);
	vfmed_monitor_broadcast(r->live.mon, json);
	if (n >= 2 && json[0] == '{') {
		fputs("{\"type\":\"live_migration\",", stdout);
		fputs(json + 1, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
}

int vfmed_live_config(const struct vfmed_runner *r, char *buf, size_t cap)
{
	const struct vfmed_opts *o = r->o;
	int n = snprintf(buf, cap, "vfmed-guest/%u workload=%s queues=%u tx_ring=%u rx_ring=%u rx_sets=%u "
			 "rx_buf_kib=%u tx_split=%d ram_base=%#llx", VFMED_GUEST_STATE_VERSION,
			 vfmed_workload_name(o->workload), o->queues, o->tx_ring, o->rx_ring, o->rx_sets,
			 o->rx_buf_kib, o->tx_split, (unsigned long long)o->ram_base);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}
