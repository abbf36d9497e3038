/* SPDX-License-Identifier: MIT */
/*
 * stats-json.h - machine-readable output of vfmed-guest: one JSON object per line on
 * stdout, each with a "type":
 *
 *   init        once, after bring-up: mode, MAC, link, PCI id, BAR0 page map, RAM layout
 *   bar_layout  after the initial GET_REGION_INFO and after each layout change
 *   stats       every --stats-interval ms: cumulative counters and rates since last line
 *   summary     once, at the end: counters, per-stream receive accounting, why it stopped
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
/* reason: "count", "duration", "signal", "error"; undrained: TX frames not completed. */
void vfmed_json_summary(struct vfmed_runner *r, const char *reason, unsigned undrained);

#endif /* VFMED_GUEST_STATS_JSON_H */
