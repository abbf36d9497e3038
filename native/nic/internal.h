/* SPDX-License-Identifier: MIT */
/*
 * internal.h - private state of the emulated SR-IOV NIC shared by the files of native/nic,
 * native/dma and native/wire. Nothing here is visible to the addon: it sees only nic.h.
 *
 * Locking: one mutex per NIC (struct vfmed_nic.lock) protects every field of the NIC, its
 * VFs, DMA spaces, FIFOs, logs and the uplink queue. Every public entry point takes it; the
 * device loop takes it for one whole pass. Internal functions named *_locked or taking a
 * struct vfmed_vf / struct vfmed_nic pointer assume it is held. The only fields touched
 * without it are the thread control words (stop_req, api_waiters) and wake_fd.
 *
 * Shared memory: BAR pages the client or the PF driver can write are accessed only with
 * the bar_rd/bar_wr helpers (atomic 32-bit loads/stores), never cached across passes except
 * where a field says so.
 */
#ifndef VFMED_NIC_INTERNAL_H
#define VFMED_NIC_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfmed/nic.h"
#include "vfmed/pf_regs.h"
#include "vfmed/vf_regs.h"

#define VFMED_FRAME_MAX        9728u   /* largest frame the model moves (no FCS) */
#define VFMED_FRAME_MIN        14u     /* an Ethernet header */
#define VFMED_FIFO_DEFAULT     (64u * 1024u)
#define VFMED_FIFO_MIN         VFMED_FRAME_MAX
#define VFMED_FIFO_MAX         (64u * 1024u * 1024u)
#define VFMED_MAX_VLANS        32u
#define VFMED_MAX_MC           30u
#define VFMED_RING_ALIGN       128u    /* 82576 datasheet: ring base 128-byte aligned */
#define VFMED_RING_MAX_BYTES   (65536u * 16u)
#define VFMED_RX_MAX_FRAGS     32u     /* 9728 bytes / 1 KiB buffers rounds to 10 */
#define VFMED_STATE_VERSION    ((VFPF_STATE_MAJOR << 16) | VFPF_STATE_MINOR)

static inline uint32_t bar_rd(volatile uint32_t *bar, uint32_t off)
{
	return __atomic_load_n(&bar[off / 4], __ATOMIC_ACQUIRE);
}

static inline void bar_wr(volatile uint32_t *bar, uint32_t off, uint32_t val)
{
	__atomic_store_n(&bar[off / 4], val, __ATOMIC_RELEASE);
}

uint64_t vfmed_now_ns(void);

/* ---- DMA spaces (native/dma/dma-map.c) ----------------------------------------------
 *
 *   IOVA space of one function (a VF, or the PF):
 *
 *     iova ─►  [ map 0 ][ map 1 ]      [ map 2 ]          sorted, non-overlapping
 *              host ptr  host ptr       host ptr          (mmap of a dup'ed fd)
 *
 * vfmed_dma_ptr gives a host pointer only if the whole range lies inside ONE map with the
 * wanted protection; vfmed_dma_read/write accept ranges that span adjacent maps and check
 * the whole range before touching a byte.
 */
struct vfmed_pagelog;

struct vfmed_dma_map {
	uint64_t iova;
	uint64_t len;
	uint8_t *host;        /* host address of iova */
	void    *mmap_base;   /* reservation: guard page, file window, guard page */
	size_t   mmap_len;
	int      fd;          /* dup of the caller's fd */
	uint32_t prot;        /* VFMED_DMA_READ | VFMED_DMA_WRITE */
};

struct vfmed_dma_space {
	struct vfmed_dma_map *maps;
	uint32_t count, cap;
	/* Logs marked by every device write through this space (NULL: not logged). */
	struct vfmed_pagelog *truth;
	struct vfmed_dirty_log *dirty;
};

int   vfmed_dma_space_map(struct vfmed_dma_space *s, uint64_t iova, uint64_t len, int fd,
                          uint64_t offset, uint32_t prot);
int   vfmed_dma_space_unmap(struct vfmed_dma_space *s, uint64_t iova, uint64_t len);
void  vfmed_dma_space_clear(struct vfmed_dma_space *s);
uint8_t *vfmed_dma_ptr(const struct vfmed_dma_space *s, uint64_t iova, uint64_t len,
                       uint32_t prot);
int   vfmed_dma_check(const struct vfmed_dma_space *s, uint64_t iova, uint64_t len,
                      uint32_t prot);
int   vfmed_dma_read(const struct vfmed_dma_space *s, uint64_t iova, void *dst, uint64_t len);
int   vfmed_dma_write(struct vfmed_dma_space *s, uint64_t iova, const void *src, uint64_t len);
/* Record a device write done through a pointer from vfmed_dma_ptr. */
void  vfmed_dma_mark(struct vfmed_dma_space *s, uint64_t iova, uint64_t len);
/* True if [iova, iova+len) overlaps any map (used to refuse unsafe state). */
bool  vfmed_dma_overlaps(const struct vfmed_dma_space *s, uint64_t iova, uint64_t len);

/* ---- Page logs (native/dma/truth-log.c) ---------------------------------------------
 *
 * A sparse bitmap of 4 KiB IOVA pages: an open-addressing hash table of 2 MiB chunks,
 * each chunk a 512-bit bitmap.
 *
 *   key = iova >> 21      bits[8] : bit (iova >> 12) & 511
 *   ┌──────┬──────────────────────────────────────────┐
 *   │ key  │ 0 1 0 0 1 1 ...                 (512)    │
 *   └──────┴──────────────────────────────────────────┘
 */
struct vfmed_pagelog_chunk {
	uint64_t key;
	uint64_t bits[8];
	uint32_t used;
};

struct vfmed_pagelog {
	struct vfmed_pagelog_chunk *tab;
	uint32_t cap, count;
	bool oom;           /* an allocation failed: the log can no longer be trusted */
};

void vfmed_pagelog_init(struct vfmed_pagelog *l);
void vfmed_pagelog_free(struct vfmed_pagelog *l);
void vfmed_pagelog_reset(struct vfmed_pagelog *l);
void vfmed_pagelog_mark(struct vfmed_pagelog *l, uint64_t iova, uint64_t len);
/* Bitmap of [iova, iova+len) (iova aligned to 1 << shift): bit i set if any 4 KiB page of
 * granule i is set. Clears the covered pages if clear. Returns the number of bits set. */
uint64_t vfmed_pagelog_read(struct vfmed_pagelog *l, uint64_t iova, uint64_t len,
                            unsigned shift, uint8_t *bitmap, bool clear);

/* ---- Device dirty log (native/nic/dirty-log.c) ------------------------------------- */
struct vfmed_dirty_log {
	bool started;
	unsigned shift;
	uint32_t nranges;
	struct vfpf_dirty_range ranges[VFPF_DIRTY_MAX_RANGES];
	struct vfmed_pagelog pages;
};
void vfmed_dirty_mark(struct vfmed_dirty_log *d, uint64_t iova, uint64_t len);

/* ---- RX FIFO (native/nic/rx-fifo.c) --------------------------------------------------
 *
 *   frames from the switch/wire ──► [ f0 | f1 | f2 | ... ] ──► RX descriptors
 *                                    head            tail
 *   capacity counts frame bytes; a frame leaves only when its queue has enough free
 *   descriptors for the whole frame.
 */
#define VFMED_FRAME_F_LB  0x1u   /* came from another VF (loopback) */

struct vfmed_frame {
	uint32_t len;
	uint32_t flags;
	uint32_t cap;             /* bytes data[] can hold (RX FIFO frames; recycled) */
	uint8_t  data[];
};

#define VFMED_FIFO_SPARES      64u     /* recycled frame buffers kept per FIFO */
#define VFMED_FIFO_SPARE_CAP   2048u   /* buffer size of a recyclable frame */

struct vfmed_rx_fifo {
	struct vfmed_frame **slot;  /* nslots is 0 or a power of two */
	uint32_t head, count, nslots;
	uint32_t bytes, capacity;
	struct vfmed_frame *spare[VFMED_FIFO_SPARES];   /* popped frames kept for reuse */
	uint32_t nspare;
};

int  vfmed_fifo_init(struct vfmed_rx_fifo *f, uint32_t capacity);
void vfmed_fifo_free(struct vfmed_rx_fifo *f);
int  vfmed_fifo_push(struct vfmed_rx_fifo *f, const void *data, uint32_t len, uint32_t flags);
struct vfmed_frame *vfmed_fifo_peek(const struct vfmed_rx_fifo *f, uint32_t i);
void vfmed_fifo_pop(struct vfmed_rx_fifo *f);
uint32_t vfmed_fifo_flush(struct vfmed_rx_fifo *f);
static inline uint32_t vfmed_fifo_room(const struct vfmed_rx_fifo *f)
{
	return f->capacity - f->bytes;
}

/* ---- Uplink (native/wire/uplink.c) ---------------------------------------------------- */
#define VFMED_UPLINK_MAX_FRAMES 4096u
#define VFMED_UPLINK_MAX_BYTES  (8u * 1024u * 1024u)

struct vfmed_uplink {
	struct vfmed_frame **slot;
	uint32_t head, count, nslots, bytes;
	uint64_t drops, tx_frames, rx_frames, rx_drops;
	vfmed_uplink_sink_fn sink;
	void *sink_ctx;
	/* Optional, with the sink: false = the sink cannot take a frame now; a VF's unicast
	 * frame for the uplink then stalls its sender (PAUSE), retried after a wake. */
	bool (*ready)(void *ctx, uint32_t len);
};
void vfmed_uplink_init(struct vfmed_uplink *u);
void vfmed_uplink_free(struct vfmed_uplink *u);
/* The switch sends a frame out of the uplink (sink or bounded queue). */
void vfmed_uplink_send(struct vfmed_nic *nic, const uint8_t *frame, uint32_t len);
/* Installs the sink together with its flow control (fabric.c). */
void vfmed_uplink_set_flow_sink(struct vfmed_nic *nic, vfmed_uplink_sink_fn fn,
				bool (*ready)(void *ctx, uint32_t len), void *ctx);

/* ---- Queues ------------------------------------------------------------------------- */
struct vfmed_tx_partial {
	uint32_t len;             /* bytes gathered so far */
	uint32_t ndesc;           /* data descriptors consumed into it */
	uint32_t first_cmd;       /* cmd_type_len / olinfo of the first data descriptor */
	uint32_t first_olinfo;
	uint8_t  ctx_valid;       /* bit i: ctx[i] holds a context descriptor */
	uint8_t  ctx[2][16];      /* raw context descriptors, slot (IDX & 1) */
	uint8_t  buf[VFMED_FRAME_MAX + 4];
};

struct vfmed_queue {
	uint8_t  is_tx, idx;
	uint8_t  enabled;         /* the device's view: latched after XDCTL.ENABLE 0->1 */
	uint8_t  stalled;         /* TX: waiting on switch backpressure; RX: waiting for descs */
	uint64_t base;            /* latched ring base */
	uint32_t len;             /* latched ring length in bytes */
	uint32_t count;           /* entries */
	uint32_t srrctl;          /* RX: latched SRRCTL */
	uint32_t head;            /* next descriptor the device will use */
	uint32_t head_written;    /* RDH/TDH value the device last stored or adopted (CAS base) */
	uint32_t last_tail;       /* last valid tail the device acted on */
	uint32_t err;             /* enum vfmed_qerr, mirrored in RQERR/TQERR */
	struct vfmed_tx_partial *tx;   /* TX only */
};

/* ---- Interrupts (native/nic/vf-irq.c) ------------------------------------------------ */
struct vfmed_irq {
	uint32_t eicr, eims, eiac, eiam;
	uint32_t eitr[VFMED_VF_MSIX_VECTORS];
	uint32_t ivar0, ivar_misc;
	int      fd[VFMED_VF_MSIX_VECTORS];
	uint64_t next_ok_ns[VFMED_VF_MSIX_VECTORS];  /* throttle timer expiry */
	uint8_t  deferred[VFMED_VF_MSIX_VECTORS];    /* a message waits for the timer */
	uint64_t sent[VFMED_VF_MSIX_VECTORS];        /* messages sent (introspection) */
};

/* ---- Statistics (64-bit, the PF's VF_STATS view) -------------------------------------- */
struct vfmed_stats64 {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t rx_mcast, rx_lb_packets, tx_lb_packets, rx_lb_bytes, tx_lb_bytes;
	uint64_t rx_fifo_drops, rx_no_desc, dma_errors, tx_errors;
};

/* ---- One VF --------------------------------------------------------------------------- */
struct vfmed_vf {
	struct vfmed_nic *nic;
	uint32_t idx;
	int bar_fd;
	volatile uint32_t *bar;       /* BAR0, VFMED_VF_BAR0_SIZE bytes, shared */
	char *bar_path;

	bool sriov_enabled;           /* SRIOV_ENABLE covers this VF */
	bool rx_en, tx_en;            /* VFRE / VFTE */
	bool quiesced;                /* VF_QUIESCE: no descriptor processing */
	bool sealed;                  /* VF_SAVE done: FIFO closed to new frames */

	/* Filters, written by the admin queue (the PF driver's policy). */
	uint8_t  mac[6];
	uint32_t mc_count;
	uint16_t mc_hash[VFMED_MAX_MC];
	uint32_t vlan_count;
	uint16_t vlan[VFMED_MAX_VLANS];
	uint32_t max_frame;           /* 0 = VFMED_FRAME_MAX */
	uint32_t promisc;             /* VFPF_PROMISC_* */

	/* Mailbox (device side of V2PMAILBOX). */
	uint32_t mbx_bits;            /* VFU | PFSTS | PFACK | RSTI | RSTD */
	bool     mbx_req_pending;     /* REQ posted, no PF ACK yet */
	uint32_t mbx_req_msg[VFPF_MBX_WORDS];
	uint16_t v2p_req, v2p_ack;    /* mirrored in V2P_SEQ */
	uint32_t p2v_done;            /* last P2V doorbell seq acted on */
	uint32_t reset_seq;

	struct vfmed_irq irq;
	struct vfmed_queue rxq[VFMED_VF_NUM_QUEUES], txq[VFMED_VF_NUM_QUEUES];
	struct vfmed_rx_fifo fifo;
	struct vfmed_dma_space dma;
	struct vfmed_pagelog truth;
	struct vfmed_dirty_log dirty;
	struct vfmed_stats64 st;
};

/* ---- The NIC ------------------------------------------------------------------------ */
struct vfmed_aq {
	bool enabled, error;
	uint64_t base;
	uint32_t len, head, last_ctrl;
};

struct vfmed_nic {
	pthread_mutex_t lock;         /* protects everything in this struct but the below */
	uint32_t max_vfs, rx_fifo_bytes, poll_mode, flags;
	uint8_t base_mac[6];
	char *shm_dir, *shm_prefix;

	int pf_bar_fd;
	volatile uint32_t *pf_bar;    /* VFPF_BAR_SIZE bytes, shared with the PF driver */
	char *pf_bar_path;
	struct vfmed_dma_space pf_dma;
	uint32_t num_vfs;
	uint32_t ctrl_ext_seen;
	uint32_t event_seq, heartbeat;
	struct vfmed_aq aq;
	int pf_event_fd;

	struct vfmed_vf vf[VFPF_MAX_VFS];
	struct vfmed_uplink uplink;
	uint64_t next_deadline_ns;    /* earliest deferred interrupt, 0 = none */

	/* Device thread control (not under lock). */
	pthread_t thread;
	bool thread_running;          /* under lock */
	int stop_req;                 /* atomic */
	int api_waiters;              /* atomic: API callers waiting for the lock */
	int wake_fd;                  /* eventfd: kick */
};

void vfmed_nic_lock(struct vfmed_nic *nic);
void vfmed_nic_unlock(struct vfmed_nic *nic);
void vfmed_nic_wake(struct vfmed_nic *nic);

/* nic.c / pf-device.c */
int  vfmed_pf_device_init(struct vfmed_nic *nic);
int  vfmed_pf_device_poll(struct vfmed_nic *nic);
void vfmed_pf_event(struct vfmed_nic *nic);
uint32_t vfmed_pf_status(struct vfmed_nic *nic);
int  vfmed_pf_sriov_set(struct vfmed_nic *nic, uint32_t num);
int  vfmed_pf_admin_poll(struct vfmed_nic *nic);

/* vf-regs.c */
void vfmed_vf_regs_reset(struct vfmed_vf *vf);
int  vfmed_vf_read32(struct vfmed_vf *vf, uint32_t off, uint32_t *val);
int  vfmed_vf_write32(struct vfmed_vf *vf, uint32_t off, uint32_t val);
bool vfmed_vf_reg_known(uint32_t off);
bool vfmed_vf_reg_plain(uint32_t off);
void vfmed_vf_stat_add(struct vfmed_vf *vf, uint32_t off, uint32_t n);

/* vf-state.c helpers shared with regs */
void vfmed_vf_full_reset(struct vfmed_vf *vf, bool keep_filters);
void vfmed_vf_soft_reset(struct vfmed_vf *vf);

/* vf-mailbox.c */
void vfmed_mbx_reset(struct vfmed_vf *vf);
uint32_t vfmed_mbx_read(struct vfmed_vf *vf);
void vfmed_mbx_write(struct vfmed_vf *vf, uint32_t val);
int  vfmed_mbx_poll(struct vfmed_vf *vf);
void vfmed_mbx_repost(struct vfmed_vf *vf);

/* vf-irq.c */
void vfmed_irq_reset(struct vfmed_irq *irq);
void vfmed_irq_raise(struct vfmed_vf *vf, uint32_t causes);
void vfmed_irq_raise_queue(struct vfmed_vf *vf, bool tx, uint32_t q);
void vfmed_irq_raise_misc(struct vfmed_vf *vf);
void vfmed_irq_unmasked(struct vfmed_vf *vf);
int  vfmed_irq_poll(struct vfmed_vf *vf, uint64_t now);
void vfmed_irq_write_reg(struct vfmed_vf *vf, uint32_t off, uint32_t val);
uint32_t vfmed_irq_read_reg(struct vfmed_vf *vf, uint32_t off);

/* vf-queue.c: register latch/sync shared by RX and TX */
int  vfmed_vf_queues_sync(struct vfmed_vf *vf);
int  vfmed_vf_rx_queues_sync(struct vfmed_vf *vf);   /* RX queues only (before a delivery) */
void vfmed_queue_fault(struct vfmed_vf *vf, struct vfmed_queue *q, uint32_t code);
void vfmed_queue_set_head(struct vfmed_vf *vf, struct vfmed_queue *q, uint32_t head);
void vfmed_queue_disable(struct vfmed_vf *vf, struct vfmed_queue *q);
uint32_t vfmed_queue_tail(struct vfmed_vf *vf, struct vfmed_queue *q);
uint8_t *vfmed_queue_ring(struct vfmed_vf *vf, struct vfmed_queue *q, uint32_t prot);
int  vfmed_vf_process(struct vfmed_vf *vf);

/* vf-rx.c / vf-tx.c */
int  vfmed_vf_rx_process(struct vfmed_vf *vf);
int  vfmed_vf_tx_process(struct vfmed_vf *vf);
int  vfmed_vf_rx_select_queue(struct vfmed_vf *vf, const struct vfmed_frame *f);

/* switch.c */
#define VFMED_SW_STALL  (-EAGAIN)
int  vfmed_switch_from_vf(struct vfmed_nic *nic, struct vfmed_vf *src, const uint8_t *frame,
                          uint32_t len);
int  vfmed_switch_from_uplink(struct vfmed_nic *nic, const uint8_t *frame, uint32_t len);
int  vfmed_switch_offer_from_uplink(struct vfmed_nic *nic, const uint8_t *frame, uint32_t len);
bool vfmed_vf_lossless(const struct vfmed_vf *vf);
uint32_t vfmed_vf_max_frame(const struct vfmed_vf *vf);
void vfmed_vf_count_fifo_drop(struct vfmed_vf *vf);

/* vf-state.c */
uint32_t vfmed_vf_state_size(struct vfmed_vf *vf);
int  vfmed_vf_state_save(struct vfmed_vf *vf, uint8_t *buf, uint32_t cap, uint32_t *out_len);
int  vfmed_vf_state_load(struct vfmed_vf *vf, const uint8_t *buf, uint32_t len);

/* crc32 (IEEE), in vf-state.c */
uint32_t vfmed_crc32(uint32_t crc, const void *buf, size_t len);

#endif /* VFMED_NIC_INTERNAL_H */
