/* SPDX-License-Identifier: MIT */
/*
 * migrate.h - the guest runner as a migrating VMM: it moves its VF to another vfio-user
 * server (another daemon, same host, guest RAM shared) and goes on running there.
 *
 *   SIGUSR1 ──▶ begin: source PRE_COPY; initial data (device model + parameters) read and
 *               written to the destination, RESUMING there. A destination that refuses it
 *               (incompatible model/parameters) answers before any downtime: the source
 *               goes back to RUNNING and the guest runs on ("migration refused").
 *          ──▶ the guest keeps running, trapped, for --precopy-ms
 *          ──▶ complete (at a burst boundary; with --tx-split right after a doorbell that
 *               left half a frame posted): source STOP_COPY, the VF state streamed to the
 *               destination, destination DMA_MAP of the same guest RAM, config space, then
 *               RUNNING (load + resume); source STOP and disconnect. The runner re-queries
 *               BAR0 on the new connection, re-arms its layout eventfd and continues: all
 *               driver state (rings, indices, sequence numbers, counters) is in guest RAM.
 *
 * v2 uses DEVICE_FEATURE MIG_DEVICE_STATE + MIG_DATA_READ/WRITE; --migration-v1 uses the
 * v1 migration region (device_state, pending_bytes, data_offset, data_size, data area).
 *
 * --save-to FILE: SIGUSR1 saves (STOP_COPY) the VF state into FILE and exits; a new runner
 * with --resume --load-from FILE on the destination socket loads it (RESUMING) and goes on
 * from the guest RAM file.
 */
#ifndef VFMED_GUEST_MIGRATE_H
#define VFMED_GUEST_MIGRATE_H

#include <stdint.h>

#include "vfio-user-client.h"

enum vfmed_mig_phase {
	VFMED_MIG_IDLE = 0,
	VFMED_MIG_PRECOPY,     /* source in PRE_COPY, destination RESUMING */
	VFMED_MIG_DONE,        /* running on the destination */
};

struct vfmed_mig {
	enum vfmed_mig_phase phase;
	struct vfmed_vfu dst;
	struct vfu_device_info dst_dev;
	int dst_open;
	int src_region, dst_region;   /* v1 region indexes */
	uint64_t precopy_deadline_ns;
	uint64_t precopy_bytes, stopcopy_bytes;
	uint64_t downtime_ns;
	uint64_t refused;
	uint8_t *buf;                 /* transfer buffer */
	uint32_t buf_len;
};

struct vfmed_runner;

/* Starts migrating to opts.migrate_to. 0: pre-copy under way; 1: the destination refused
 * (the source runs on, details printed); -errno: failed (the source was put back to
 * RUNNING where possible). */
int vfmed_mig_begin(struct vfmed_runner *r);
/* Stop-and-copy and the switch to the destination. 0 or -errno (the guest cannot go on). */
int vfmed_mig_complete(struct vfmed_runner *r);
/* --save-to: STOP_COPY of the VF into opts.save_to. 0 or -errno. */
int vfmed_mig_save_file(struct vfmed_runner *r);
/* --resume --load-from: RESUMING on r->vfu from opts.load_from, then RUNNING. */
int vfmed_mig_load_file(struct vfmed_runner *r);
void vfmed_mig_cleanup(struct vfmed_runner *r);

#endif /* VFMED_GUEST_MIGRATE_H */
