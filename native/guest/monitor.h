/* SPDX-License-Identifier: MIT */
/*
 * monitor.h - the runner's monitor socket (--monitor PATH), QMP-like: a UNIX stream socket
 * (mode 0600) carrying JSON lines, one object per line (docs/live-migration.md, "Monitor
 * protocol"). Several clients; every event goes to every client.
 *
 * This file is transport only: accepting, line framing, per-client output buffers, and
 * handing each parsed request to a handler. A line over 64 KiB, invalid JSON or not an
 * object gets {"error":...} and the connection is closed (after the error is sent); a
 * client that does not read its events (its output buffer overflows) is dropped. Nothing
 * a client does can stop the runner. Everything is non-blocking and polled from the
 * runner's service loop.
 */
#ifndef VFMED_GUEST_MONITOR_H
#define VFMED_GUEST_MONITOR_H

#include <stddef.h>

#include "json-out.h"
#include "json-req.h"

#define VFMED_MON_LINE_MAX   65536u
#define VFMED_MON_MAX_CLIENTS 8u

/* Handles request `cmd` (req holds every top-level member) by adding the members of the
 * reply ("ok", "error", ...) to `reply`; the monitor adds "id" and the braces. */
typedef void (*vfmed_mon_handler)(void *ctx, const char *cmd, const struct vfmed_jreq *req,
				  struct vfmed_jout *reply);

struct vfmed_monitor;

int vfmed_monitor_open(struct vfmed_monitor **out, const char *path, vfmed_mon_handler fn, void *ctx);
void vfmed_monitor_close(struct vfmed_monitor *m);
/* Accepts, reads and answers whatever is pending; sends queued output. Never blocks. */
void vfmed_monitor_service(struct vfmed_monitor *m);
/* Queues one line (a JSON object, no newline) for every client and tries to send it. */
void vfmed_monitor_broadcast(struct vfmed_monitor *m, const char *json);
unsigned vfmed_monitor_clients(const struct vfmed_monitor *m);

#endif /* VFMED_GUEST_MONITOR_H */
