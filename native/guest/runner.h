/* SPDX-License-Identifier: MIT */
/*
 * runner.h - the "VMM" half of vfmed-guest: options, connection to the device (vfio-user
 * or UIO-style file mapping), guest RAM, BAR0 view, MMIO trap backend, BAR layout change
 * handling, periodic service and teardown. The "guest" half is the driver (igbvf-pmd.h)
 * and the workloads (workloads.h).
 */
#ifndef VFMED_GUEST_RUNNER_H
#define VFMED_GUEST_RUNNER_H

#include <signal.h>
#include <stdint.h>

#include "bar-map.h"
#include "pcap-reader.h"
#include "guest-ram.h"
#include "igbvf-pmd.h"
#include "mig-live.h"
#include "migrate.h"
#include "vfio-user-client.h"

enum vfmed_workload {
	VFMED_WL_TXGEN = 1,
	VFMED_WL_RXSINK = 2,
	VFMED_WL_FWD = 3,
	VFMED_WL_ECHO = 4,
	VFMED_WL_LOOPBACK = 5,
	VFMED_WL_MMIO_LAT = 6,    /* mmio-latency.c: timed single BAR0 accesses */
};

enum vfmed_lat_op {
	VFMED_LAT_WRITE = 0,      /* TDT0 stored with its current value */
	VFMED_LAT_READ = 1,       /* TDH0 loaded */
	VFMED_LAT_DOORBELL = 2,   /* one frame posted, TDT0 stored */
};

struct vfmed_opts {
	enum vfmed_workload workload;
	const char *socket;          /* vfio-user server socket */
	const char *uio;             /* UIO-style BAR0 file (resource0, /dev/shm BAR file) */
	uint64_t ram_size;
	const char *ram_file;        /* NULL: memfd */
	uint64_t ram_offset;         /* offset of guest RAM in ram_file */
	uint64_t ram_base;           /* GPA == IOVA of guest RAM */
	uint32_t tx_ring, rx_ring;
	int trap_all;                /* ignore the sparse-mmap areas: trap every BAR0 access */
	int posted_writes;           /* trapped queue-page stores sent NO_REPLY (posted) */
	int layout_irq;              /* IRQ index of the BAR layout notification, -1 = off */
	int device_reset;            /* send DEVICE_RESET before bring-up if supported */
	int mac_set, dst_set, ip_set;
	uint8_t mac[6], dst[6];
	uint32_t ip;                 /* network order */
	int fwd_l2;                  /* fwd: rewrite to dst/own MAC instead of swapping */
	uint64_t count;              /* frames (0 = unlimited) */
	uint64_t duration_ms;        /* 0 = unlimited */
	uint64_t rate_pps;           /* 0 = as fast as possible */
	uint16_t size;               /* generated frame length without FCS */
	uint32_t streams;
	const char *pcap;
	const struct vfmed_pcap *pcap_frames;  /* loaded before bring-up (main.c) */
	int pcap_stamp;              /* stamp the tag trailer onto pcap frames */
	int seq_from_zero;           /* rxsink: sequences start at 0 (count initial loss) */
	uint32_t burst;
	uint32_t stats_ms;           /* 0 = only the summary */
	int busy_poll;
	int strict;                  /* exit 3 if received traffic had errors */
	int connect_ms, reply_ms, mbx_ms, link_wait_ms, drain_ms;
	int lat_op;                  /* mmio-lat: enum vfmed_lat_op */
	uint64_t lat_warmup;         /* mmio-lat: accesses done before the timed ones */
	/* Driver variants (the mediator's tests): queue pairs, reposting RX buffers at new
	 * addresses, the device's RX buffer size (1 KiB: multi-descriptor frames), TX frames
	 * split over two descriptors with a doorbell between, one re-initialisation. */
	uint32_t queues;
	uint32_t rx_sets;
	uint32_t rx_buf_kib;
	int tx_split;
	uint64_t reinit_after;       /* frames handled (TX + RX) before a VF reset + rings; 0 = never */
	/* Migration (migrate.h). */
	const char *migrate_to;      /* SIGUSR1: migrate the VF to this vfio-user socket */
	const char *save_to;         /* SIGUSR1: save the VF state into this file and exit */
	const char *load_from;       /* with --resume: load this VF state first */
	int migration_v1;            /* use the v1 migration region instead of v2 */
	uint32_t precopy_ms;         /* guest keeps running in PRE_COPY this long */
	int precopy_rx_hold;         /* no RX polling in PRE_COPY (frames queue in the device) */
	int resume;                  /* guest RAM (--ram-file) holds a running guest: go on */
	uint32_t lat_samples;        /* keep up to this many trapped-write latencies */
	/* Live migration between hosts (mig-live.h). */
	const char *monitor;         /* --monitor: UNIX socket for monitor clients */
	const char *incoming;        /* --incoming tcp:ADDR:PORT: destination mode */
	int ram_fill_random;         /* --ram-fill random: unused RAM holds pseudo-random bytes */
};

struct vfmed_runner {
	const struct vfmed_opts *o;
	struct vfmed_vfu vfu;
	int connected;
	struct vfu_device_info dev;
	struct vfmed_bar bar;
	int trap_window;
	struct vfmed_guest_ram ram;
	int dma_mapped;
	struct vfmed_vf vf;
	int layout_fd;               /* eventfd of the layout IRQ, -1 if none */
	uint64_t layout_changes;
	uint64_t last_layout_poll_ns;
	uint64_t last_monitor_poll_ns;
	uint64_t start_ns, last_stats_ns;
	uint64_t pace_base;          /* tx_generated when pacing started (resumable) */
	uint64_t last_tx_packets, last_rx_packets;
	int link_up;
	int mac_nacked;
	uint16_t pci_vendor, pci_device;
	int trap_info;               /* region index of the trap-BAR info region, -1 if none */
	uint64_t layout_acks;        /* generations acknowledged to the server */
	int resumed;                 /* the guest state came from RAM (--resume) */
	int migrated_out;            /* the VF state left with --save-to: release nothing */
	struct vfmed_mig mig;
	struct vfmed_live live;      /* cross-host live migration (mig-live.h) */
	/* Trapped BAR0 store latency (SIGSEGV to resume), ns. */
	uint64_t lat_hist[64];       /* bucket b: [2^b, 2^(b+1)) ns */
	uint64_t lat_count, lat_sum, lat_max;
	uint32_t *lat_ring;          /* the last o->lat_samples values */
	uint32_t lat_next;
};

extern volatile sig_atomic_t vfmed_migrate_requested;

extern volatile sig_atomic_t vfmed_stop_requested;

/* Everything up to a running driver with enabled rings. Returns 0, or prints the reason
 * on stderr and returns -errno. */
int vfmed_runner_setup(struct vfmed_runner *r, const struct vfmed_opts *o);
enum vfmed_stop {
	VFMED_RUN_ON = 0,
	VFMED_STOP_DURATION = 1,
	VFMED_STOP_SIGNAL = 2,
	VFMED_STOP_ERROR = 3,   /* e.g. the layout could not be re-queried */
	VFMED_STOP_SAVED = 4,   /* --save-to: the VF state left for another runner */
	VFMED_STOP_MIGRATED = 5,/* live migration completed: the guest runs on the destination */
};

/* Periodic work between driver iterations: layout notifications, stats lines, duration.
 * Returns VFMED_RUN_ON or why the run must stop. */
enum vfmed_stop vfmed_runner_service(struct vfmed_runner *r, uint64_t now_ns);
/* Stops the queues and releases the device, RAM and mappings. */
void vfmed_runner_teardown(struct vfmed_runner *r);

/* Pieces the migration code reuses. open: connect, VERSION, DEVICE_GET_INFO (a PCI device
 * with a config region). bind: on r->vfu, find the trap-BAR info region, map BAR0 by its
 * layout, attach the layout eventfd, DEVICE_RESET (reset), DMA_MAP guest RAM (map_dma),
 * config space. */
int vfmed_runner_open(struct vfmed_runner *r, struct vfmed_vfu *c, const char *path,
		      struct vfu_device_info *dev);
int vfmed_runner_bind(struct vfmed_runner *r, int map_dma, int reset);
/* Memory decoding and bus mastering on, identity checked, on connection c. */
int vfmed_runner_pci_config(struct vfmed_runner *r, struct vfmed_vfu *c);
/* Consumes a pending layout notification and re-queries/applies/acknowledges BAR0's
 * layout now (a migrating VMM that just made the server trap pages). 0 or -errno. */
int vfmed_runner_layout_sync(struct vfmed_runner *r);
/* Handled frames passed opts.reinit_after: VF reset + rings, once. */
int vfmed_runner_reinit(struct vfmed_runner *r);

uint64_t vfmed_now_ns(void);

#endif /* VFMED_GUEST_RUNNER_H */
