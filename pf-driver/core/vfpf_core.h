/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * vfpf_core.h - public API of the OS-independent vfmed PF driver core.
 *
 * The core drives the emulated PF only through its BAR (native/include/vfmed/pf_regs.h) and
 * through descriptors/buffers in its own DMA memory. It is built twice: into vfpf.ko
 * (pf-driver/linux) and into libvfpf.so (pf-driver/user). Each build supplies "vfpf_os.h",
 * which must provide, before anything here is declared:
 *
 *   - the fixed-width integer types, bool, size_t, NULL, the errno constants, memcpy,
 *     memset, memcmp, and the __iomem annotation (empty in userspace);
 *   - vfpf_rd32(base, off) / vfpf_wr32(base, off, val): one ordered 32-bit BAR access;
 *   - vfpf_dma_rd16(p) / vfpf_dma_rd32(p): a single (non-torn) load of DMA memory the
 *     device writes; vfpf_dma_rmb() / vfpf_dma_wmb(): DMA-memory read/write barriers;
 *   - vfpf_time_us() (monotonic microseconds) and vfpf_sleep_us(us) (may sleep);
 *   - vfpf_lock_t with vfpf_lock_init/_destroy/_lock/_unlock: a sleeping mutex;
 *   - struct vfpf_os_dev: whatever the OS glue needs per device (embedded in vfpf_dev);
 *   - vfpf_err/vfpf_warn/vfpf_info/vfpf_dbg(dev, fmt, ...): logging.
 *
 * and implements vfpf_os_dma_alloc()/vfpf_os_dma_free() declared below.
 *
 * Conventions: every function returns 0 or a non-negative value on success and -errno on
 * failure; nothing reads errno. Every entry point takes the locks it needs, so all of them
 * may be called concurrently from any thread (the kernel poller, ioctls, koffi callers).
 *
 * Locks (order: cfg_lock, then aq_lock; never the other way round):
 *   cfg_lock - the per-VF soft state (vfs[]), num_vfs, the mailbox transport and the
 *              event sequence numbers the service routine has consumed.
 *   aq_lock  - the admin queue: ring memory, software tail, the stalled-command record.
 */
#ifndef VFPF_CORE_H
#define VFPF_CORE_H

#include "vfpf_os.h"
#include "vfmed/pf_regs.h"

/* A buffer in PF DMA memory: CPU address and the address the device uses. */
struct vfpf_dma_buf {
	void *va;
	uint64_t dma;
	size_t size;
};

/**
 * vfpf_os_dma_alloc() - allocate zeroed, device-visible memory (provided by the OS glue).
 * @os:   the OS part of the device
 * @size: bytes, > 0; the returned memory is at least 64-byte aligned
 * @buf:  filled on success
 *
 * Return: 0, -ENOMEM when no memory is left, -EINVAL for a zero size.
 */
int vfpf_os_dma_alloc(struct vfpf_os_dev *os, size_t size, struct vfpf_dma_buf *buf);

/**
 * vfpf_os_dma_free() - release a buffer from vfpf_os_dma_alloc(); a zeroed @buf (va NULL)
 * is ignored, so error paths may free unconditionally. @buf is zeroed afterwards.
 */
void vfpf_os_dma_free(struct vfpf_os_dev *os, struct vfpf_dma_buf *buf);

/* Budgets of the bounded waits, in microseconds. */
#define VFPF_AQ_TIMEOUT_US       3000000u  /* one admin command */
#define VFPF_AQ_ENABLE_US        1000000u  /* AQ_STATUS.ENABLED to follow AQ_CTRL */
#define VFPF_MBX_TIMEOUT_US      1000000u  /* previous P2V doorbell to be consumed */

#define VFPF_AQ_ENTRIES          64u
#define VFPF_STATE_MAX           (16u << 20)   /* largest VF state blob handled */
#define VFPF_BITMAP_MAX          (64u << 20)   /* largest dirty bitmap per report */
#define VFPF_MC_MAX              30u           /* multicast hashes per VF (igb) */
#define VFPF_MAX_FRAME_MAX       9728u         /* SET_LPE limit (igb MAX_JUMBO_FRAME_SIZE) */
#define VFPF_MAX_FRAME_DEFAULT   1522u

/* Soft state of one VF: what the PF driver believes, as the igb PF's vf_data_storage. */
struct vfpf_vf {
	uint8_t perm_mac[6];      /* MAC the PF hands out in the VF_RESET reply */
	uint8_t mac[6];           /* MAC currently in the VF's RAR filter */
	bool mac_admin;           /* fixed by the administrator: VF SET_MAC is NACKed */
	bool cts;                 /* VF_RESET completed: clear to send */
	bool filters_known;       /* mc_hashes/vlans mirror the device (false after LOAD) */
	bool dirty_on;            /* dirty log started through this driver */
	uint32_t dirty_shift;
	uint32_t mc_count;
	uint16_t mc_hashes[VFPF_MC_MAX];
	uint32_t vlan_count;
	uint32_t vlans[4096 / 32]; /* bitmap of VIDs in the device's filter */
	uint32_t max_frame;
	uint32_t promisc;
	/* Event sequence numbers already consumed (pf_regs.h: single-writer counters). */
	uint32_t reset_seq;
	uint16_t req_seen;
	uint16_t ack_seen;
	uint32_t p2v_seq;         /* last P2V doorbell seq written (24 bits) */
	/* Counters for status output and tests. */
	uint64_t msgs, vf_acks, nacks, resets, stale, errors;
};

/*
 * Per-VF view for callers (fixed layout: crosses the koffi boundary; vfpf_abi_layout()
 * reports it). flags: VFPF_VF_ST_*.
 */
struct vfpf_vf_status {
	uint8_t  mac[6];
	uint8_t  perm_mac[6];
	uint32_t flags;
	uint32_t mc_count;
	uint32_t vlan_count;
	uint32_t max_frame;
	uint32_t promisc;
	uint64_t msgs;            /* VF requests handled */
	uint64_t vf_acks;         /* VF ACKs of PF messages */
	uint64_t nacks;           /* NACK replies sent */
	uint64_t resets;          /* VF reset events (CTRL.RST) seen */
	uint64_t stale;           /* stale ACK/NACK echoes ignored */
	uint64_t errors;          /* admin/mailbox failures while serving the VF */
	uint16_t mc_hashes[VFPF_MC_MAX];
	uint32_t reserved;
};
#define VFPF_VF_ST_CTS           0x1u
#define VFPF_VF_ST_MAC_ADMIN     0x2u
#define VFPF_VF_ST_FILTERS_KNOWN 0x4u
#define VFPF_VF_ST_DIRTY_LOG     0x8u

struct vfpf_aq {
	struct vfpf_dma_buf ring;  /* VFPF_AQ_ENTRIES x struct vfpf_aq_desc */
	uint32_t entries;
	uint32_t tail;             /* next slot the driver fills */
	bool enabled;
	/*
	 * A command that timed out still belongs to the device: its slot and buffers are
	 * kept here (never reused or freed) until the device marks it done.
	 */
	bool stalled;
	uint32_t stalled_slot;
	struct vfpf_dma_buf stalled_bufs[2];
};

struct vfpf_dev {
	void __iomem *bar;         /* the PF BAR, VFPF_BAR_SIZE bytes */
	struct vfpf_os_dev os;     /* set by the OS glue before vfpf_dev_setup() */

	vfpf_lock_t cfg_lock;      /* see the lock comment at the top of this file */
	vfpf_lock_t aq_lock;

	/* Under aq_lock. */
	struct vfpf_aq aq;

	/* Under cfg_lock. */
	bool ready;                /* vfpf_dev_init() succeeded */
	uint32_t max_vfs;
	uint32_t num_vfs;
	uint32_t event_seq;        /* last VFPF_EVENT_SEQ consumed */
	bool link_up;              /* last VFPF_STATUS.LU seen (PF_CONTROL_MSG pings) */
	struct vfpf_dev_info info; /* from GET_INFO at init */
	struct vfpf_vf vfs[VFPF_MAX_VFS];
};

/* ---- Device life cycle (vfpf_dev.c) ------------------------------------------------- */

/**
 * vfpf_dev_setup() - initialise the locks and soft state of @dev.
 * @dev: zeroed by the caller, with dev->bar and dev->os already set
 *
 * Touches no register. Pair with vfpf_dev_teardown().
 */
void vfpf_dev_setup(struct vfpf_dev *dev);

/**
 * vfpf_dev_init() - bring the PF up.
 * @dev: set up with vfpf_dev_setup()
 *
 * Checks VFPF_MAGIC, the ABI major and the model id, sets up and enables the admin queue
 * in PF DMA memory, reads GET_INFO, adopts VFs the device already has enabled, and finally
 * sets CTRL_EXT.PFRSTD so the VFs see "PF reset done". Calling it again re-initialises.
 *
 * Return: 0 on success;
 *  -ENODEV    no vfmed PF behind the BAR (magic or model id mismatch, no VFs);
 *  -EPROTONOSUPPORT  the device's ABI major differs from VFPF_ABI_MAJOR;
 *  -ENOMEM    no DMA memory for the admin ring;
 *  -EIO       the device flagged the admin ring as bad;
 *  -ETIMEDOUT the device did not enable the admin queue or answer GET_INFO in time.
 */
int vfpf_dev_init(struct vfpf_dev *dev);

/**
 * vfpf_dev_shutdown() - stop using the device: disable the admin queue and free its ring.
 *
 * If the device does not confirm the disable in time the ring memory is leaked on purpose
 * (the device might still write it). VFs stay enabled: a guest may be using them.
 */
void vfpf_dev_shutdown(struct vfpf_dev *dev);

/** vfpf_dev_teardown() - destroy the locks; call after vfpf_dev_shutdown(). */
void vfpf_dev_teardown(struct vfpf_dev *dev);

/**
 * vfpf_get_info() - the device description read by GET_INFO.
 * Return: 0, -ENODEV before vfpf_dev_init(), -EINVAL for a NULL @out.
 */
int vfpf_get_info(struct vfpf_dev *dev, struct vfpf_dev_info *out);

/**
 * vfpf_sriov_enable() - enable @num_vfs VFs (0 disables all), as sriov_configure.
 *
 * Each new VF's soft state is reset and its device-default MAC (VF_GET_CONFIG) becomes
 * the MAC handed out at VF_RESET.
 *
 * Return: the number of VFs enabled; -EINVAL if @num_vfs > max VFs; -EBUSY if a different
 * non-zero number is already enabled (disable first, like the kernel); -ENODEV before
 * init; admin-queue errors (-ETIMEDOUT, device status).
 */
int vfpf_sriov_enable(struct vfpf_dev *dev, uint32_t num_vfs);

/** vfpf_num_vfs() - VFs currently enabled (>= 0). */
int vfpf_num_vfs(struct vfpf_dev *dev);

/* ---- Mailbox service (vfpf_mbx.c, vfpf_policy.c) -------------------------------------- */

/**
 * vfpf_service() - handle every pending PF event: VF resets, VF mailbox requests and ACKs,
 * link changes (PF_CONTROL_MSG ping to each VF). Call it when VFPF_EVENT_SEQ moved (PF
 * event fd) or periodically; it returns at once when nothing changed.
 *
 * Failures while serving one VF (admin command errors, mailbox timeouts) are counted in
 * that VF's status (errors) and logged; they do not stop the other VFs.
 *
 * Return: the number of events handled (>= 0); -ENODEV before init or when the BAR no
 * longer carries VFPF_MAGIC (device reset or gone).
 */
int vfpf_service(struct vfpf_dev *dev);

/* ---- VF administration (vfpf_vf.c) ---------------------------------------------------- */

/**
 * vfpf_vf_set_mac() - administratively assign @mac to @vf (ip link set ... vf N mac).
 *
 * The MAC becomes the VF's filter and its permanent address, and the VF's own SET_MAC_ADDR
 * requests are NACKed from then on. An all-zero @mac removes the administrative fix (the
 * current MAC stays). The VF learns the address at its next reset.
 *
 * Return: 0; -ENODEV if @vf is not enabled; -EINVAL for a multicast/broadcast @mac;
 * admin-queue errors.
 */
int vfpf_vf_set_mac(struct vfpf_dev *dev, uint32_t vf, const uint8_t mac[6]);

/**
 * vfpf_vf_get_config() - the device's view of @vf (VF_GET_CONFIG).
 * Return: 0; -ENODEV if @vf is not enabled; admin-queue errors.
 */
int vfpf_vf_get_config(struct vfpf_dev *dev, uint32_t vf, struct vfpf_vf_config *out);

/**
 * vfpf_vf_get_status() - the driver's soft state of @vf.
 * Return: 0; -ENODEV if @vf is not enabled.
 */
int vfpf_vf_get_status(struct vfpf_dev *dev, uint32_t vf, struct vfpf_vf_status *out);

/**
 * vfpf_vf_get_vlans() - the VLAN filter bitmap (bit v of word v / 32 = VID v) the driver
 * installed for @vf. Meaningful only while VFPF_VF_ST_FILTERS_KNOWN is set.
 * Return: 0; -ENODEV if @vf is not enabled.
 */
int vfpf_vf_get_vlans(struct vfpf_dev *dev, uint32_t vf, uint32_t bitmap[4096 / 32]);

/**
 * vfpf_vf_stats() - @vf's device counters (VF_STATS).
 * Return: 0; -ENODEV if @vf is not enabled; admin-queue errors.
 */
int vfpf_vf_stats(struct vfpf_dev *dev, uint32_t vf, struct vfpf_vf_stats *out);

/**
 * vfpf_vf_flr() - function-level reset of @vf through the device (VF_RESET command); the
 * soft state goes back to "not clear to send" with filters cleared.
 * Return: 0; -ENODEV if @vf is not enabled; admin-queue errors.
 */
int vfpf_vf_flr(struct vfpf_dev *dev, uint32_t vf);

/**
 * vfpf_vf_release_mac() - @vf gives its station address up: the administrative fix and the
 * permanent address are forgotten, the RAR filter is emptied (all-zero MAC) and the
 * multicast, promiscuous and known VLAN filters are cleared.
 *
 * What a host does with the VF of a guest that migrated to another host (libvirt puts the
 * VF's MAC back to its original, typically 00:00:00:00:00:00): from then on the switch no
 * longer treats the old MAC as a local pool, so frames for it from the other VFs leave by
 * the uplink toward the guest's new host, and uplink frames for it are unknown unicast. The
 * MAC is emptied first, while the VF may still be sealed after a save (senders to it stall
 * rather than being dropped). A later reset of the VF gets no MAC (VF_RESET NACK) until an
 * administrator assigns one again or a migration brings one in.
 *
 * Return: 0; -ENODEV if @vf is not enabled; admin-queue errors (the soft state then says
 * what the device still has).
 */
int vfpf_vf_release_mac(struct vfpf_dev *dev, uint32_t vf);

/* ---- Migration (vfpf_mig.c) ----------------------------------------------------------- */

/**
 * vfpf_vf_quiesce() - stop @vf's DMA: the device finishes the descriptor in flight, stops
 * fetching, keeps receiving into its RX FIFO, and latches doorbells.
 * Return: 0; -ENODEV if @vf is not enabled; admin-queue errors (-EBUSY ...).
 */
int vfpf_vf_quiesce(struct vfpf_dev *dev, uint32_t vf);

/**
 * vfpf_vf_resume() - let a quiesced @vf act on its latched doorbells again.
 * Return: 0; -ENODEV if @vf is not enabled; admin-queue errors.
 */
int vfpf_vf_resume(struct vfpf_dev *dev, uint32_t vf);

/**
 * vfpf_vf_state_size() - bytes vfpf_vf_save() needs for @vf right now.
 * Return: the size (> 0); -ENODEV if @vf is not enabled; admin-queue errors.
 */
int vfpf_vf_state_size(struct vfpf_dev *dev, uint32_t vf);

/**
 * vfpf_vf_save() - save the state of quiesced @vf into @buf.
 * @buf: caller memory (kernel memory in the module), @cap bytes
 *
 * The device writes the blob into a PF DMA bounce buffer; it is copied to @buf.
 *
 * Return: the blob length (<= @cap); -EINVAL for a NULL @buf or zero @cap; -E2BIG when
 * @cap exceeds VFPF_STATE_MAX; -ENOSPC when @cap is too small (query the size first);
 * -ENODEV; -ENOMEM (no DMA memory); -EIO if the device claims more bytes than @cap;
 * admin-queue errors (-EBUSY when the VF is not quiesced ...).
 */
int vfpf_vf_save(struct vfpf_dev *dev, uint32_t vf, void *buf, uint32_t cap);

/**
 * vfpf_vf_load() - load a blob saved by vfpf_vf_save() (on this or another device) into
 * quiesced or freshly enabled @vf.
 *
 * The device validates the whole blob before applying anything, so on any error @vf is
 * untouched. On success the soft state is refreshed from VF_GET_CONFIG: the loaded MAC
 * becomes the permanent one, and a VF whose RX/TX were enabled on the source is clear to
 * send here too (the guest driver does not reset across migration).
 *
 * Return: 0; -EINVAL for NULL @buf; -EBADMSG for a blob shorter than its header, corrupt
 * (magic, length, CRC) or truncated; -EPROTO for an incompatible version/model/section;
 * -E2BIG beyond VFPF_STATE_MAX; -ENODEV; -ENOMEM; admin-queue errors.
 */
int vfpf_vf_load(struct vfpf_dev *dev, uint32_t vf, const void *buf, uint32_t len);

/* ---- Device dirty log (vfpf_dirty.c) -------------------------------------------------- */

/**
 * vfpf_vf_dirty_start() - start the device dirty log of @vf over @nr IOVA ranges.
 * @page_shift: log granularity, 12..21
 * Return: 0; -EINVAL for a bad shift, @nr of 0 or > VFPF_DIRTY_MAX_RANGES, NULL @ranges;
 * -ENODEV; admin-queue errors (-EBUSY if already started ...).
 */
int vfpf_vf_dirty_start(struct vfpf_dev *dev, uint32_t vf, uint32_t page_shift,
			const struct vfpf_dirty_range *ranges, uint32_t nr);

/**
 * vfpf_vf_dirty_stop() - stop @vf's dirty log.
 * Return: 0; -ENODEV; admin-queue errors.
 */
int vfpf_vf_dirty_stop(struct vfpf_dev *dev, uint32_t vf);

/**
 * vfpf_vf_dirty_report() - read and clear the dirty bits of [@iova, @iova + @length).
 * @bitmap:     receives bit i = page (@iova + (i << page_shift)), LSB first
 * @bitmap_len: bytes of @bitmap; at least ceil(pages / 8); bytes past that are zeroed
 *
 * Return: 0; -EINVAL when the log was not started through this driver, @length is 0, or
 * @bitmap_len is too small; -E2BIG beyond VFPF_BITMAP_MAX; -ENODEV; -ENOMEM; admin-queue
 * errors (-EINVAL from the device when the range is outside the started ranges).
 */
int vfpf_vf_dirty_report(struct vfpf_dev *dev, uint32_t vf, uint64_t iova, uint64_t length,
			 void *bitmap, uint64_t bitmap_len);

/* ---- Raw admin command (vfpf_aq.c) ---------------------------------------------------- */

/**
 * vfpf_admin_cmd() - issue one admin command with a bounce buffer, bypassing the driver's
 * own argument checks (diagnostics and tests of the device's validation).
 * @buf: @len bytes copied to the device before and back after the command (may be NULL
 *       with @len 0); @len <= VFPF_STATE_MAX
 * @ret: receives the descriptor's ret field (may be NULL)
 *
 * Return: 0; -EINVAL for a bad buffer; -ENODEV before init; -ENOMEM; -ETIMEDOUT; -EIO for
 * a ring error; otherwise -status of the device (-EINVAL, -ENODEV, -EOPNOTSUPP ...).
 */
int vfpf_admin_cmd(struct vfpf_dev *dev, uint16_t opcode, uint16_t vf, uint32_t param0,
		   uint32_t param1, void *buf, uint32_t len, uint32_t *ret);

#endif /* VFPF_CORE_H */
