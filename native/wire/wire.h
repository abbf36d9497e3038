/* SPDX-License-Identifier: MIT */
/*
 * wire.h - the uplink port's backends (native/wire): what is "plugged into" the emulated
 * NIC's uplink. Used by the addon glue (native/addon/wire_wrap.cc); not a public contract
 * of the hardware model (that is vfmed/nic.h, whose sink hook this builds on).
 *
 *                       ┌──────────────── struct vfmed_wire ─────────────────┐
 *   switch ─ egress ──▶ │ sink (NIC lock held) ─┬─▶ pcap capture file         │
 *   (VF → uplink)       │                       ├─▶ TAP fd write()           │
 *                       │                       └─▶ nothing: counted unclaimed│
 *   switch ◀─ ingress ──│ TAP reader thread: read() → pad → uplink_inject    │
 *                       └────────────────────────────────────────────────────┘
 *   (pcap replay injects from the mediator with vfmed_uplink_inject directly)
 *
 * Locking: w->lock protects the backends and the counters. The sink runs with the NIC lock
 * held and takes w->lock inside it (order NIC → wire); nothing in this file calls into the
 * NIC while holding w->lock. The TAP reader thread injects without w->lock held.
 * Every function returns 0 / a non-negative value or -errno.
 */
#ifndef VFMED_WIRE_H
#define VFMED_WIRE_H

#include <stdint.h>

#include "vfmed/nic.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vfmed_wire;

struct vfmed_wire_stats {
	/* What the switch sent out of the uplink, and what reached no backend. */
	uint64_t egress_frames, egress_bytes, unclaimed;
	/* pcap capture of egress. cap_error: first write error (-errno); capture stopped. */
	uint32_t cap_active, cap_snaplen;
	int32_t cap_error;
	uint64_t cap_frames, cap_bytes, cap_truncated;
	/* TAP. tx = uplink egress written to the TAP, rx = frames read from it. */
	uint32_t tap_active;
	int32_t tap_error;               /* last read/write error (-errno), 0 = none */
	uint64_t tap_tx_frames, tap_tx_bytes, tap_tx_drops;
	uint64_t tap_rx_frames, tap_rx_bytes;
	uint64_t tap_rx_drops;           /* every receiving VF FIFO was full */
	uint64_t tap_rx_bad;             /* shorter than 14 or longer than the model's max */
	/* The model's own uplink counters (struct vfmed_uplink). */
	uint64_t up_tx_frames, up_tx_drops, up_rx_frames, up_rx_filtered, up_queued;
};

/* Creates the port and installs it as the NIC's uplink sink (replacing any other). */
int  vfmed_wire_create(struct vfmed_nic *nic, struct vfmed_wire **out);
/* Removes the sink, stops the TAP thread, finishes the capture file. NULL is a no-op. */
void vfmed_wire_destroy(struct vfmed_wire *w);

/* pcap (microsecond, LINKTYPE_ETHERNET) capture of everything leaving the uplink from now
 * on. -EBUSY if one is running. snaplen 0 = 65535. The file is created (0644, truncated). */
int vfmed_wire_capture_start(struct vfmed_wire *w, const char *path, uint32_t snaplen);
/* Writes buffered records to the file so a reader sees them. */
int vfmed_wire_capture_flush(struct vfmed_wire *w);
/* Flushes and closes; returns the first write error of the capture, if any (-ENOENT if
 * none is running). */
int vfmed_wire_capture_stop(struct vfmed_wire *w);

/* Bridges the uplink to a TAP fd (duplicated; the caller keeps its own): egress frames are
 * written to it, frames read from it are injected. -EBUSY if one is attached. */
int vfmed_wire_tap_attach(struct vfmed_wire *w, int fd);
int vfmed_wire_tap_detach(struct vfmed_wire *w);   /* -ENOENT if none */

int vfmed_wire_get_stats(struct vfmed_wire *w, struct vfmed_wire_stats *st);

/* Lossless L2 fabric joining the uplinks of several NICs in one process (fabric.c): installs
 * itself as the uplink sink of each (replacing any other). 1..4 distinct NICs. */
struct vfmed_fabric;
struct vfmed_fabric_stats {
	uint64_t frames;      /* taken from the uplinks */
	uint64_t delivered;   /* handed to a NIC (broadcast: once) */
	uint64_t unknown;     /* unicast nobody owns: dropped */
	uint64_t overflow;    /* the fabric's queue was full: dropped */
	uint64_t retries;     /* head-of-line waits for an owner that could not take it yet */
	uint64_t pauses;      /* times a sending VF was paused because the fabric was full */
	uint64_t held_max;    /* most frames queued at once */
	uint32_t held;        /* frames queued now */
};
int  vfmed_fabric_create(struct vfmed_nic *const *nics, uint32_t n, struct vfmed_fabric **out);
/* Unhooks the sinks, stops the thread, drops what is still queued. NULL is a no-op. */
void vfmed_fabric_destroy(struct vfmed_fabric *fb);
int  vfmed_fabric_get_stats(struct vfmed_fabric *fb, struct vfmed_fabric_stats *st);

/* Opens /dev/net/tun as a TAP interface (IFF_TAP | IFF_NO_PI, non-blocking, close-on-exec)
 * named `name` ("" or NULL: the kernel picks, e.g. tap0) and sets it up (IFF_UP). The
 * interface exists while the fd is open. ifname receives the actual name (16 bytes). */
int vfmed_tap_open(const char *name, char ifname[16], int *fd_out);

/* pcap writer (pcap-writer.c), used by the port and testable alone. */
struct vfmed_pcap_writer;
int  vfmed_pcap_writer_open(const char *path, uint32_t snaplen, struct vfmed_pcap_writer **out);
/* Appends one record stamped with CLOCK_REALTIME; 1 if it was truncated to snaplen. */
int  vfmed_pcap_writer_add(struct vfmed_pcap_writer *pw, const void *frame, uint32_t len);
int  vfmed_pcap_writer_flush(struct vfmed_pcap_writer *pw);
/* Flushes, closes, frees; returns the first error the writer met. */
int  vfmed_pcap_writer_close(struct vfmed_pcap_writer *pw);
int  vfmed_pcap_writer_error(const struct vfmed_pcap_writer *pw);

#ifdef __cplusplus
}
#endif

#endif /* VFMED_WIRE_H */
