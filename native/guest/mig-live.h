/* SPDX-License-Identifier: MIT */
/*
 * mig-live.h - cross-host live migration of the whole guest (docs/live-migration.md):
 * the runner's monitor commands, its events, and the two roles.
 *
 *   source       mig-outgoing.c  `migrate` on the monitor: TCP to the destination, the
 *                                device in PRE_COPY, RAM rounds interleaved with the driver
 *                                loop, switchover, CONFIRM, exit
 *   destination  mig-incoming.c  --incoming tcp:ADDR:PORT: accept one stream, load it,
 *                                resume the device and the workload
 *
 * Events are JSON objects with an "event" key; each goes to every monitor client, becomes
 * the "last" of query-migrate, and is printed on stdout as a {"type":"live_migration",...}
 * line (the tests read it there).
 */
#ifndef VFMED_GUEST_MIG_LIVE_H
#define VFMED_GUEST_MIG_LIVE_H

#include <stdint.h>

#include "json-out.h"
#include "json-req.h"

struct vfmed_runner;
struct vfmed_monitor;
struct vfmed_migout;

enum vfmed_live_status { VFMED_LIVE_NONE = 0, VFMED_LIVE_ACTIVE, VFMED_LIVE_COMPLETED, VFMED_LIVE_FAILED };

#define VFMED_TRACKER_DEFAULT 0xFFFFFFFFu   /* leave the daemon's configured tracker */

struct vfmed_live_params {
	char host[256];
	char port[8];
	uint64_t downtime_limit_ms;   /* 300 */
	uint64_t max_bandwidth;       /* bytes/s, 0 = unlimited */
	uint32_t tracker;             /* VFMED_TRACKER_* (tail-trap unless asked otherwise) */
	int tracker_given;            /* "dirty_tracking" was in the request */
	uint64_t max_rounds;          /* 30 */
	int verify_ram;
	uint64_t timeout_ms;          /* 30000 */
};

struct vfmed_live {
	struct vfmed_monitor *mon;
	struct vfmed_migout *out;     /* non-NULL while a migration is active */
	enum vfmed_live_status status;
	int busy;                     /* migration work pending: the loop must not sleep */
	char last[16384];             /* last event, JSON object */
	uint64_t announced;           /* self-announce frames sent (destination) */
};

/* --monitor: opens the socket (0 or -errno). */
int vfmed_live_monitor_open(struct vfmed_runner *r, const char *path);
void vfmed_live_close(struct vfmed_runner *r);

/* Parses a `migrate` request into p (defaults applied); 0, or -EINVAL with a message. */
int vfmed_live_parse_params(const struct vfmed_jreq *req, struct vfmed_live_params *p,
			    char *why, size_t cap);

/* Emits an event (a complete JSON object, "event" first): monitor clients, query-migrate,
 * stdout. */
void vfmed_live_emit(struct vfmed_runner *r, const char *json);

/* The guest layout fingerprint both ends must share (stream header config). */
int vfmed_live_config(const struct vfmed_runner *r, char *buf, size_t cap);

/* ---- source (mig-outgoing.c) ---- */
int vfmed_migout_start(struct vfmed_runner *r, const struct vfmed_live_params *p, char *why, size_t cap);
void vfmed_migout_cancel(struct vfmed_runner *r);
/* Advances an active migration a bounded step; returns an enum vfmed_stop (RUN_ON, or
 * MIGRATED when the destination confirmed, ERROR when the source could not be put back). */
int vfmed_migout_service(struct vfmed_runner *r, uint64_t now_ns);
/* Fails an active migration back at once (the runner is stopping). */
void vfmed_migout_abort(struct vfmed_runner *r, const char *why);

/* ---- destination (mig-incoming.c) ---- */
/* Runs the whole incoming migration on an opened connection and RAM; on success the
 * device runs with the migrated state, BAR0 is bound, r->vf.st points into migrated RAM.
 * On failure the VF was reset and the reason printed: -errno. */
int vfmed_migin_run(struct vfmed_runner *r);
/* One broadcast frame from the guest's MAC (gratuitous ARP with an IP, else RARP). */
void vfmed_migin_announce(struct vfmed_runner *r);

#endif /* VFMED_GUEST_MIG_LIVE_H */
