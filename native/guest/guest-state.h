/* SPDX-License-Identifier: MIT */
/*
 * guest-state.h - layout of guest RAM and the driver/workload state that lives in it.
 *
 * Everything the "guest" needs to continue after a migration is in guest RAM, at fixed
 * guest-physical addresses: the rings, the packet buffers and struct vfmed_guest_state
 * (ring indices, mailbox bits seen, counters, sequence numbers, receive accounting). The
 * runner process keeps only VMM-side things (socket, BAR mapping, trap counters), so a
 * destination runner can resume from migrated RAM plus migrated device state.
 *
 *   GPA 0x00000  +---------------------------+  page 0: never given to the device, so a
 *                |  (unused)                 |  zero descriptor address is always wrong
 *       0x01000  +---------------------------+
 *                |  struct vfmed_guest_state |  VFMED_GPA_STATE, <= 60 KiB
 *       0x10000  +---------------------------+
 *                |  TX ring  (n x 16 B)      |  VFMED_GPA_TX_RING, <= 4096 descriptors
 *       0x20000  +---------------------------+
 *                |  RX ring  (n x 16 B)      |  VFMED_GPA_RX_RING
 *       0x30000  +---------------------------+
 *                |  TX buffers, slot i at    |  VFMED_GPA_BUFFERS: one 2 KiB buffer per
 *                |  tx_bufs + i * 2 KiB      |  TX slot, then one per RX slot and RX set.
 *                |  RX buffers, slot i at    |  Buffer i of set s always belongs to
 *                |  rx_bufs + (s*n + i)*2 KiB|  descriptor i armed in set s, so no
 *                +---------------------------+  ownership table is needed to resume.
 *                |  queue 1 (--queues 2):    |  4 KiB aligned: TX ring, RX ring, TX
 *                |  rings, then its buffers  |  buffers, RX buffer sets, as for queue 0
 *                +---------------------------+
 *                |  free                     |
 *  ram_size      +---------------------------+
 *
 * RX sets (--rx-repost): with 2 sets the driver re-arms a descriptor with the buffer of
 * the other set each lap, i.e. it reposts buffers at new addresses (what a driver with a
 * page allocator does); which set a slot holds follows from the lap count in q[].rx_laps.
 *
 * All GPAs are relative to the RAM's DMA base (IOVA == GPA, no vIOMMU).
 */
#ifndef VFMED_GUEST_GUEST_STATE_H
#define VFMED_GUEST_GUEST_STATE_H

#include <assert.h>
#include <stdint.h>

#define VFMED_GPA_STATE        0x01000ull
#define VFMED_GPA_STATE_MAX    0x0F000ull
#define VFMED_GPA_TX_RING      0x10000ull
#define VFMED_GPA_RX_RING      0x20000ull
#define VFMED_GPA_BUFFERS      0x30000ull
#define VFMED_BUF_SIZE         2048u
#define VFMED_RING_MIN         8u
#define VFMED_RING_MAX         4096u
#define VFMED_RING_DEFAULT     256u

#define VFMED_MAX_STREAMS      16u
#define VFMED_SEQ_WINDOW       1024u  /* receive window for duplicate detection, bits */

#define VFMED_GUEST_STATE_MAGIC   0x54534555474D4656ull  /* "VFMGUEST" little-endian */
#define VFMED_GUEST_STATE_VERSION 2u
#define VFMED_MAX_QUEUES       2u

#define VFMED_GS_F_RINGS_UP    0x1u  /* rings programmed and enabled */
#define VFMED_GS_F_LINK_UP     0x2u
#define VFMED_GS_F_NO_MAILBOX  0x4u  /* UIO mode: MAC given, no PF handshake */
#define VFMED_GS_F_RX_DISCARD  0x8u  /* dropping the rest of a multi-descriptor frame */

/* Per-stream receive accounting (rxsink, loopback). */
struct vfmed_seq_stream {
	uint64_t next;         /* highest sequence seen + 1 */
	uint64_t received;     /* good tagged frames, including late ones */
	uint64_t lost;         /* sequence numbers skipped and not (yet) seen */
	uint64_t duplicated;   /* seen twice inside the window */
	uint64_t reordered;    /* arrived after a later one, filling a gap */
	uint64_t stale;        /* older than the window: duplicate or late, undecidable */
	uint32_t started;
	uint32_t pad;
	/* Bit (s % VFMED_SEQ_WINDOW) set: sequence s in [next - WINDOW, next) was seen. */
	uint64_t window[VFMED_SEQ_WINDOW / 64];
};

/* One queue pair: where its rings and buffers are, and the driver's indices. */
struct vfmed_guest_queue {
	uint64_t tx_ring, rx_ring, tx_bufs, rx_bufs;
	/* TX: device owns [next_to_clean, next_to_use). */
	uint32_t tx_next_to_use, tx_next_to_clean, tx_tail;
	uint32_t tx_half;          /* the second half of a split frame is written, not posted */
	uint32_t rx_next_to_clean, rx_tail;
	uint32_t rx_laps;          /* times rx_next_to_clean wrapped: the armed RX set */
	uint32_t reserved;
};

struct vfmed_guest_state {
	uint64_t magic;
	uint32_t version;
	uint32_t size;             /* sizeof(struct vfmed_guest_state) */

	/* Layout (GPAs in q[]). */
	uint64_t ram_size;
	uint32_t tx_count, rx_count, buf_size, flags;  /* VFMED_GS_F_* */
	uint32_t queues;           /* queue pairs in use: 1 or 2 */
	uint32_t rx_sets;          /* RX buffer sets: 1, or 2 to repost at new addresses */
	uint32_t rx_buf_kib;       /* SRRCTL buffer size the device may fill (1 or 2 KiB) */
	uint32_t tx_split;         /* post TX frames as two descriptors, doorbell between */

	/* Identity. */
	uint8_t mac[6];            /* our MAC (from the PF, or --mac) */
	uint8_t dst_mac[6];        /* where generated frames go */
	uint32_t ip;               /* echo: our IPv4 address, network order */
	uint32_t reserved0;

	/* Mailbox: read-to-clear bits seen but not consumed yet (like igbvf's v2p copy). */
	uint32_t mbx_r2c;
	uint32_t mbx_nacks;

	struct vfmed_guest_queue q[VFMED_MAX_QUEUES];

	/* Driver counters. */
	uint64_t tx_packets, tx_bytes, rx_packets, rx_bytes;
	uint64_t rx_desc_errors;   /* EOP descriptor with CE/SE/SEQ/CXE/RXE */
	uint64_t rx_frag_drops;    /* frames spanning descriptors (not supported) */
	uint64_t reinits;          /* driver re-initialisations (VF reset + rings) */
	uint64_t migrations;       /* times this guest moved to another VF */
	uint64_t tx_ring_full;     /* TX polls that found no free slot (backpressure) */
	uint64_t tx_drops;         /* fwd/echo replies not sent: no free TX slot */

	/* Workload. */
	uint32_t workload;         /* enum vfmed_workload */
	uint32_t streams;
	uint64_t tx_seq[VFMED_MAX_STREAMS];  /* next sequence number per stream */
	uint64_t tx_generated;     /* frames built (== sum of tx_seq while streams fixed) */
	uint64_t pcap_next;        /* next frame of the pcap replay */
	uint64_t rx_untagged, rx_corrupted;
	uint64_t fwd_frames;
	uint64_t echo_arp_replies, echo_icmp_replies, echo_ignored;
	struct vfmed_seq_stream rx[VFMED_MAX_STREAMS];
};
static_assert(sizeof(struct vfmed_guest_state) <= VFMED_GPA_STATE_MAX, "state fits its area");

#endif /* VFMED_GUEST_GUEST_STATE_H */
