/* SPDX-License-Identifier: MIT */
/*
 * nic.h - public C API of the emulated SR-IOV NIC (one PF, up to 8 VFs, 82576-VF register
 * interface). This is what the addon glue (native/addon) calls; nothing else of native/nic
 * is visible outside it.
 *
 * Model:
 *  - Every BAR lives in shared memory (a memfd, or a file under shm_dir when QEMU must map
 *    it). The VF BAR0 pages 2-3 (queue registers) may be mapped and written directly by a
 *    client (passthrough): the device notices tail writes by polling. Pages 0-1 are only
 *    reached through vfmed_vf_reg_read/write (they have side effects). The same call is the
 *    trapped path for pages 2-3, with identical semantics, processed synchronously.
 *  - The PF BAR is driven only through shared memory (pf_regs.h), by libvfpf.so in this
 *    process or by the Linux module in a QEMU guest; the device polls it.
 *  - DMA goes only through registered IOVA ranges; every access is bounds-checked.
 *  - A device thread (vfmed_nic_start) runs the poll loop; without it, vfmed_nic_poll runs
 *    one pass (deterministic stepping in tests).
 *
 * Threading: every function may be called from any thread; a NIC-wide lock serialises
 * them against the device thread. Functions return 0 / a non-negative value on success or
 * -errno. Nothing here calls exit/abort on bad input.
 */
#ifndef VFMED_NIC_H
#define VFMED_NIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vfmed_nic;

enum vfmed_poll_mode {
	VFMED_POLL_ADAPTIVE = 0, /* spin while busy, back off to short sleeps when idle */
	VFMED_POLL_BUSY     = 1, /* never sleep (benchmarks) */
};

struct vfmed_nic_config {
	uint32_t max_vfs;          /* 1..8 */
	uint32_t rx_fifo_bytes;    /* per-VF RX FIFO capacity; 0 = 64 KiB default */
	const char *shm_dir;       /* NULL: memfd BARs; else BAR files are created here */
	const char *shm_prefix;    /* file name prefix with shm_dir, e.g. "vfmed0" */
	uint8_t base_mac[6];       /* VF n default MAC = base_mac with last byte + n */
	uint32_t poll_mode;        /* enum vfmed_poll_mode */
	uint32_t flags;            /* VFMED_NIC_F_* */
};
#define VFMED_NIC_F_NO_HEAD_WB   0x1u  /* model without head write-back (compat tests) */

/* Create/destroy. The PF BAR is initialised (magic, caps, link up); no VF is enabled until
 * the PF driver sends SRIOV_ENABLE. */
int  vfmed_nic_create(const struct vfmed_nic_config *cfg, struct vfmed_nic **out);
void vfmed_nic_destroy(struct vfmed_nic *nic);

/* BAR backing: fd (owned by the NIC; dup it to keep it) and size, or the file path when
 * shm_dir was given (NULL otherwise). */
int vfmed_nic_pf_bar_fd(struct vfmed_nic *nic);
int vfmed_nic_vf_bar_fd(struct vfmed_nic *nic, uint32_t vf);
const char *vfmed_nic_pf_bar_path(struct vfmed_nic *nic);
const char *vfmed_nic_vf_bar_path(struct vfmed_nic *nic, uint32_t vf);

/* PF DMA space (where the admin ring and PF buffers live): fd + offset mapped at iova. */
int vfmed_nic_pf_dma_map(struct vfmed_nic *nic, uint64_t iova, uint64_t len, int fd,
                         uint64_t offset);
int vfmed_nic_pf_dma_unmap(struct vfmed_nic *nic, uint64_t iova, uint64_t len);

/* VF DMA space (the client's DMA_MAP). prot: bit 0 read, bit 1 write. Overlapping an
 * existing map is -EEXIST; a bad fd or offset beyond the file is -EINVAL/-EBADF; the NIC
 * dups the fd. unmap must name exactly a mapped range (-ENOENT otherwise). */
#define VFMED_DMA_READ  0x1u
#define VFMED_DMA_WRITE 0x2u
int vfmed_vf_dma_map(struct vfmed_nic *nic, uint32_t vf, uint64_t iova, uint64_t len,
                     int fd, uint64_t offset, uint32_t prot);
int vfmed_vf_dma_unmap(struct vfmed_nic *nic, uint32_t vf, uint64_t iova, uint64_t len);
int vfmed_vf_dma_unmap_all(struct vfmed_nic *nic, uint32_t vf);

/* Register access through the device (pages 0-1 always; pages 2-3 when trapped).
 * size 1, 2, 4 or 8, naturally aligned, inside BAR0: -EINVAL otherwise. */
int vfmed_vf_reg_read(struct vfmed_nic *nic, uint32_t vf, uint32_t off, uint32_t size,
                      uint64_t *val);
int vfmed_vf_reg_write(struct vfmed_nic *nic, uint32_t vf, uint32_t off, uint32_t size,
                       uint64_t val);

/* Interrupts: MSI-X vector -> eventfd (-1 detaches). The PF event fd is signalled on every
 * VFPF_EVENT_SEQ bump. */
int vfmed_vf_set_irq_fd(struct vfmed_nic *nic, uint32_t vf, uint32_t vector, int fd);
int vfmed_nic_set_pf_event_fd(struct vfmed_nic *nic, int fd);

/* One pass of the device loop; returns the amount of work done (>= 0). */
int vfmed_nic_poll(struct vfmed_nic *nic);
/* Device thread. start is idempotent; stop joins it. */
int vfmed_nic_start(struct vfmed_nic *nic);
int vfmed_nic_stop(struct vfmed_nic *nic);
/* Wake the device thread now (after a change it should notice without waiting). */
void vfmed_nic_kick(struct vfmed_nic *nic);

/* Uplink port. Frames the switch sends to the uplink are queued for take (bounded: when the
 * queue is full the oldest-first order is kept and new frames are counted as uplink drops).
 * inject delivers a frame from the wire into the switch (-ENOSPC if every target FIFO is
 * full and the frame was dropped; it is still counted). A backend may install a sink that
 * receives frames instead of the queue. */
int vfmed_uplink_inject(struct vfmed_nic *nic, const void *frame, uint32_t len);
int vfmed_uplink_take(struct vfmed_nic *nic, void *buf, uint32_t cap); /* len, -EAGAIN */
/* Ingress that never drops a unicast frame its owner cannot take yet: 0 delivered,
 * -EAGAIN the owning VF is sealed/quiesced/full (retry later), -ENOENT nobody here owns
 * it. Broadcast/multicast as inject. For lossless fabrics (native/wire/fabric.c). */
int vfmed_uplink_offer(struct vfmed_nic *nic, const void *frame, uint32_t len);
typedef void (*vfmed_uplink_sink_fn)(void *ctx, const void *frame, uint32_t len);
int vfmed_uplink_set_sink(struct vfmed_nic *nic, vfmed_uplink_sink_fn fn, void *ctx);

/* Ground-truth log: a bitmap (1 bit per 4 KiB page, LSB first) of every VF IOVA page the
 * device wrote in [iova, iova+len) since the last clear. Test/benchmark oracle only. */
int vfmed_vf_truth_read(struct vfmed_nic *nic, uint32_t vf, uint64_t iova, uint64_t len,
                        uint8_t *bitmap, size_t bitmap_len, int clear);

/* Introspection for status output and tests (not used by the datapath). */
struct vfmed_vf_queue_info {
	uint32_t rx_enabled, tx_enabled;
	uint32_t rx_head, rx_tail, tx_head, tx_tail;
	uint32_t rx_count, tx_count;     /* ring entries */
	uint32_t rx_error, tx_error;     /* enum vfmed_qerr */
};
struct vfmed_vf_info {
	uint32_t enabled;                /* SR-IOV enabled this VF */
	uint32_t rx_en, tx_en;           /* VFRE/VFTE */
	uint32_t quiesced;
	uint8_t  mac[6];
	uint16_t pad;
	uint32_t fifo_frames, fifo_bytes, fifo_capacity;
	uint64_t fifo_drops, dma_errors, tx_errors;
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
	struct vfmed_vf_queue_info q[2];
};
int vfmed_vf_get_info(struct vfmed_nic *nic, uint32_t vf, struct vfmed_vf_info *info);
uint32_t vfmed_nic_max_vfs(struct vfmed_nic *nic);

#ifdef __cplusplus
}
#endif

#endif /* VFMED_NIC_H */
