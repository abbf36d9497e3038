/* SPDX-License-Identifier: MIT */
/*
 * workloads.h - what the guest does with its VF, run as a poll loop on the driver:
 *
 *   txgen     generated (or pcap-replayed) tagged frames, paced by --rate, up to --count
 *   rxsink    counts and verifies tagged frames: lost, duplicated, reordered, corrupted
 *   fwd       sends every received frame back out (MAC swap, or rewrite with --fwd-l2)
 *   echo      answers ARP and ICMP echo for --ip
 *   loopback  txgen to its own MAC (default) plus rxsink on what comes back
 *   mmio-lat  times single BAR0 accesses (trapped or passthrough), mmio-latency.c
 */
#ifndef VFMED_GUEST_WORKLOADS_H
#define VFMED_GUEST_WORKLOADS_H

#include "runner.h"

/* The workload's command-line name ("txgen" ...), "none" for a value outside the enum. */
const char *vfmed_workload_name(enum vfmed_workload w);
/* Its enum from the command-line name: 0, or -1 for an unknown name. */
int vfmed_workload_parse(const char *name, enum vfmed_workload *w);

/* Runs the configured workload until it completes, --duration passes or a signal stops
 * it; prints the summary line. Returns the process exit status. */
int vfmed_workload_run(struct vfmed_runner *r);

/* mmio-lat (mmio-latency.c): times --count single BAR0 accesses (--lat-op), prints them. */
int vfmed_mmio_latency_run(struct vfmed_runner *r);

#endif /* VFMED_GUEST_WORKLOADS_H */
