/* SPDX-License-Identifier: MIT */
/*
 * stats-json.h - machine-readable output of vfmed-guest: one JSON object per line on
 * stdout, each with a "type":
 *
 *   init        once, after bring-up: mode, MAC, link, PCI id, BAR0 page map, RAM layout
 *   bar_layout  after the initial GET_REGION_INFO and after each layout change
 *   stats       every --stats-interval ms: cumulative counters and rates since last line
 *   summary     once, at the end: counters, per-stream receive accounting, why it stopped,
 *               trapped-store latency
 *   migration   each step of a migration (migrate.h)
 *
 * Diagnostics for humans go to stderr.
 */
#ifndef VFMED_GUEST_STATS_JSON_H
#define VFMED_GUEST_STATS_JSON_H

#include <stdint.h>

struct vfmed_runner;

void vfmed_json_init(struct vfmed_runner *r);
void vfmed_json_layout(struct vfmed_runner *r, const char *reason, unsigned ignored_areas);
void vfmed_json_stats(struct vfmed_runner *r, uint64_t now_ns);
/* reason: "count", "duration", "signal", "error", "saved"; undrained: TX frames not completed. */
void vfmed_json_summary(struct vfmed_runner *r, const char *reason, unsigned undrained);
/* migration: event "precopy" | "refused" | "failed" | "done" | "saved" | "loaded"; err is
 * -errno or 0; why a static description or NULL. */
void vfmed_json_migration(struct vfmed_runner *r, const char *event, int err, const char *why);

#endif /* VFMED_GUEST_STATS_JSON_H */
