/* SPDX-License-Identifier: MIT */
/*
 * vfio-user-proto.h - wire format of the vfio-user protocol as the guest runner speaks it
 * (client side).
 *
 * Written from the vfio-user specification (QEMU docs/interop/vfio-user.rst, the protocol
 * libvfio-user and QEMU's vfio-user client implement) and from the structures of
 * <linux/vfio.h> the specification reuses (vfio_region_info, vfio_info_cap_header,
 * vfio_region_info_cap_sparse_mmap, vfio_irq_info, vfio_irq_set). Every message is a
 * 16-byte header followed by a command-specific payload; all data is in host byte order
 * (little-endian here). Sizes are pinned with static_asserts, and when the build host
 * has <linux/vfio.h> the numbers borrowed from it are checked against it too.
 *
 * vfmed extension (not in the specification): IRQ index VFMED_IRQ_INDEX_BAR_LAYOUT, the
 * first device-specific index after the five PCI ones. The server signals its eventfd when
 * the set of mmap-able areas of BAR0 changes (trap/untrap of the queue pages); the client
 * then re-queries GET_REGION_INFO(BAR0) and remaps.
 */
#ifndef VFMED_GUEST_VFIO_USER_PROTO_H
#define VFMED_GUEST_VFIO_USER_PROTO_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Header -------------------------------------------------------------------------- */
struct vfu_hdr {
	uint16_t msg_id;    /* chosen by the sender, echoed in the reply */
	uint16_t command;   /* enum vfu_command, also set in the reply */
	uint32_t msg_size;  /* whole message including this header */
	uint32_t flags;     /* VFU_F_* */
	uint32_t error;     /* errno in an error reply, reserved (0) in a command */
} __attribute__((packed));
static_assert(sizeof(struct vfu_hdr) == 16, "vfio-user header is 16 bytes");
static_assert(offsetof(struct vfu_hdr, msg_size) == 4, "msg_size at 4");
static_assert(offsetof(struct vfu_hdr, error) == 12, "error at 12");

#define VFU_F_TYPE_MASK      0x0000000Fu  /* bits 0-3 */
#define VFU_F_TYPE_COMMAND   0x0u
#define VFU_F_TYPE_REPLY     0x1u
#define VFU_F_NO_REPLY       0x00000010u  /* bit 4 */
#define VFU_F_ERROR          0x00000020u  /* bit 5 */

enum vfu_command {
	VFU_CMD_VERSION                 = 1,
	VFU_CMD_DMA_MAP                 = 2,
	VFU_CMD_DMA_UNMAP               = 3,
	VFU_CMD_DEVICE_GET_INFO         = 4,
	VFU_CMD_DEVICE_GET_REGION_INFO  = 5,
	VFU_CMD_DEVICE_GET_REGION_IO_FDS= 6,
	VFU_CMD_DEVICE_GET_IRQ_INFO     = 7,
	VFU_CMD_DEVICE_SET_IRQS         = 8,
	VFU_CMD_REGION_READ             = 9,
	VFU_CMD_REGION_WRITE            = 10,
	VFU_CMD_DMA_READ                = 11,  /* server -> client */
	VFU_CMD_DMA_WRITE               = 12,  /* server -> client */
	VFU_CMD_DEVICE_RESET            = 13,
	VFU_CMD_DIRTY_PAGES             = 14,  /* obsolete, never sent */
	VFU_CMD_REGION_WRITE_MULTI      = 15,
	VFU_CMD_DEVICE_FEATURE          = 16,
	VFU_CMD_MIG_DATA_READ           = 17,
	VFU_CMD_MIG_DATA_WRITE          = 18,
};

/* ---- VERSION (request and reply) ------------------------------------------------------
 * Followed by optional NUL-terminated UTF-8 JSON: {"capabilities":{...}}.
 * Reply rules: same major, minor <= proposed, capabilities a subset. */
struct vfu_version {
	uint16_t major;
	uint16_t minor;
} __attribute__((packed));
static_assert(sizeof(struct vfu_version) == 4, "version payload header is 4 bytes");

#define VFU_PROTO_MAJOR                 0u
#define VFU_PROTO_MINOR                 1u
#define VFU_DEFAULT_MAX_DATA_XFER_SIZE  1048576u  /* spec default when absent */
#define VFU_DEFAULT_MAX_MSG_FDS         1u        /* spec default when absent */

/* ---- DMA_MAP / DMA_UNMAP --------------------------------------------------------------- */
struct vfu_dma_map {
	uint32_t argsz;   /* sizeof(struct vfu_dma_map) = 32 (no reply payload) */
	uint32_t flags;   /* VFU_DMA_F_* */
	uint64_t offset;  /* file offset in the fd passed with the message */
	uint64_t addr;    /* DMA (IO virtual) address */
	uint64_t size;
} __attribute__((packed));
static_assert(sizeof(struct vfu_dma_map) == 32, "DMA_MAP payload is 32 bytes");
#define VFU_DMA_F_READ   0x1u
#define VFU_DMA_F_WRITE  0x2u

struct vfu_dma_unmap {
	uint32_t argsz;   /* max reply payload; the reply echoes this entry */
	uint32_t flags;   /* 0: no dirty bitmap */
	uint64_t addr;
	uint64_t size;
} __attribute__((packed));
static_assert(sizeof(struct vfu_dma_unmap) == 24, "DMA_UNMAP payload is 24 bytes");

/* ---- DEVICE_GET_INFO ------------------------------------------------------------------- */
struct vfu_device_info {
	uint32_t argsz;
	uint32_t flags;        /* VFU_DEVICE_F_* */
	uint32_t num_regions;
	uint32_t num_irqs;
} __attribute__((packed));
static_assert(sizeof(struct vfu_device_info) == 16, "device info is 16 bytes");
#define VFU_DEVICE_F_RESET  (1u << 0)  /* VFIO_DEVICE_FLAGS_RESET */
#define VFU_DEVICE_F_PCI    (1u << 1)  /* VFIO_DEVICE_FLAGS_PCI */

/* ---- DEVICE_GET_REGION_INFO: struct vfio_region_info + capability chain ---------------- */
struct vfu_region_info {
	uint32_t argsz;       /* request: max reply payload; reply: size needed */
	uint32_t flags;       /* VFU_REGION_F_* */
	uint32_t index;
	uint32_t cap_offset;  /* from the start of this struct, 0 = none */
	uint64_t size;
	uint64_t offset;      /* mmap offset in the region fd; base of sparse areas */
} __attribute__((packed));
static_assert(sizeof(struct vfu_region_info) == 32, "vfio_region_info is 32 bytes");
#define VFU_REGION_F_READ   (1u << 0)
#define VFU_REGION_F_WRITE  (1u << 1)
#define VFU_REGION_F_MMAP   (1u << 2)
#define VFU_REGION_F_CAPS   (1u << 3)

struct vfu_cap_header {
	uint16_t id;
	uint16_t version;
	uint32_t next;        /* offset of the next cap from the start of region info, 0 = end */
} __attribute__((packed));
static_assert(sizeof(struct vfu_cap_header) == 8, "vfio_info_cap_header is 8 bytes");
#define VFU_REGION_CAP_SPARSE_MMAP  1u
#define VFU_REGION_CAP_TYPE         2u

struct vfu_sparse_mmap_area {
	uint64_t offset;      /* from the region start */
	uint64_t size;
} __attribute__((packed));
static_assert(sizeof(struct vfu_sparse_mmap_area) == 16, "sparse area is 16 bytes");

struct vfu_cap_sparse_mmap {
	struct vfu_cap_header header;  /* id 1, version 1 */
	uint32_t nr_areas;
	uint32_t reserved;
	/* struct vfu_sparse_mmap_area areas[nr_areas]; */
} __attribute__((packed));
static_assert(sizeof(struct vfu_cap_sparse_mmap) == 16, "sparse mmap cap header is 16 bytes");

/* PCI region indexes (VFIO_PCI_*_REGION_INDEX). */
#define VFU_PCI_BAR0_REGION_INDEX    0u
#define VFU_PCI_BAR5_REGION_INDEX    5u
#define VFU_PCI_ROM_REGION_INDEX     6u
#define VFU_PCI_CONFIG_REGION_INDEX  7u
#define VFU_PCI_VGA_REGION_INDEX     8u
#define VFU_PCI_NUM_REGIONS          9u

/* ---- DEVICE_GET_IRQ_INFO / DEVICE_SET_IRQS --------------------------------------------- */
struct vfu_irq_info {
	uint32_t argsz;
	uint32_t flags;       /* VFU_IRQ_INFO_* */
	uint32_t index;
	uint32_t count;
} __attribute__((packed));
static_assert(sizeof(struct vfu_irq_info) == 16, "vfio_irq_info is 16 bytes");
#define VFU_IRQ_INFO_EVENTFD     (1u << 0)
#define VFU_IRQ_INFO_MASKABLE    (1u << 1)
#define VFU_IRQ_INFO_AUTOMASKED  (1u << 2)
#define VFU_IRQ_INFO_NORESIZE    (1u << 3)

struct vfu_irq_set {
	uint32_t argsz;       /* size of this payload incl. in-band data; fds go as SCM_RIGHTS */
	uint32_t flags;       /* one VFU_IRQ_SET_DATA_* | one VFU_IRQ_SET_ACTION_* */
	uint32_t index;
	uint32_t start;
	uint32_t count;
} __attribute__((packed));
static_assert(sizeof(struct vfu_irq_set) == 20, "vfio_irq_set is 20 bytes");
#define VFU_IRQ_SET_DATA_NONE       (1u << 0)
#define VFU_IRQ_SET_DATA_BOOL       (1u << 1)
#define VFU_IRQ_SET_DATA_EVENTFD    (1u << 2)
#define VFU_IRQ_SET_ACTION_MASK     (1u << 3)
#define VFU_IRQ_SET_ACTION_UNMASK   (1u << 4)
#define VFU_IRQ_SET_ACTION_TRIGGER  (1u << 5)

/* PCI IRQ indexes (VFIO_PCI_*_IRQ_INDEX). */
#define VFU_PCI_INTX_IRQ_INDEX  0u
#define VFU_PCI_MSI_IRQ_INDEX   1u
#define VFU_PCI_MSIX_IRQ_INDEX  2u
#define VFU_PCI_ERR_IRQ_INDEX   3u
#define VFU_PCI_REQ_IRQ_INDEX   4u
#define VFU_PCI_NUM_IRQS        5u

/* vfmed extension: "BAR0 layout changed" notification (see the file comment). */
#define VFMED_IRQ_INDEX_BAR_LAYOUT  VFU_PCI_NUM_IRQS

/* ---- DEVICE_FEATURE (linux/vfio.h) and the vfmed extensions (docs/mediator.md) ------------ */
#define VFU_FEATURE_MASK               0xFFFFu
#define VFU_FEATURE_GET                (1u << 16)
#define VFU_FEATURE_SET                (1u << 17)
#define VFU_FEATURE_PROBE              (1u << 18)
#define VFU_FEATURE_MIGRATION          1u
#define VFU_FEATURE_MIG_DEVICE_STATE   2u
#define VFU_FEATURE_DMA_LOGGING_START  6u
#define VFU_FEATURE_DMA_LOGGING_STOP   7u
#define VFU_FEATURE_DMA_LOGGING_REPORT 8u
#define VFU_FEATURE_MIG_DATA_SIZE      9u
#define VFMED_FEATURE_PRECOPY_INFO     0xF001u   /* vfmed: {u64 initial_bytes, u64 dirty_bytes} */
#define VFMED_FEATURE_DIRTY_TRACKER    0xF002u   /* vfmed: u32 mode (below), GET/SET */
#define VFMED_FEATURE_LAST_ERROR       0xF003u   /* vfmed: GET, UTF-8 text of the last failure */
#define VFMED_TRACKER_TAIL_TRAP        0u
#define VFMED_TRACKER_DEVICE_LOG       1u
#define VFMED_TRACKER_ALL              2u
#define VFU_MIGRATION_STOP_COPY        (1u << 0)
#define VFU_MIGRATION_P2P              (1u << 1)
#define VFU_MIGRATION_PRE_COPY         (1u << 2)

enum vfu_mig_state {
	VFU_MIG_ERROR = 0, VFU_MIG_STOP = 1, VFU_MIG_RUNNING = 2, VFU_MIG_STOP_COPY = 3,
	VFU_MIG_RESUMING = 4, VFU_MIG_RUNNING_P2P = 5, VFU_MIG_PRE_COPY = 6,
	VFU_MIG_PRE_COPY_P2P = 7,
};

struct vfu_device_feature {
	uint32_t argsz;
	uint32_t flags;
	/* uint8_t data[]; */
};
static_assert(sizeof(struct vfu_device_feature) == 8, "device feature header is 8 bytes");

struct vfu_mig_data {
	uint32_t argsz;
	uint32_t size;
	/* uint8_t data[]; */
};
static_assert(sizeof(struct vfu_mig_data) == 8, "mig data header is 8 bytes");

/* ---- device-specific regions (VFIO_REGION_INFO_CAP_TYPE) ---------------------------------- */
struct vfu_cap_type {
	struct vfu_cap_header header;  /* id 2, version 1 */
	uint32_t type;
	uint32_t subtype;
};
static_assert(sizeof(struct vfu_cap_type) == 16, "type cap is 16 bytes");
#define VFU_REGION_TYPE_MIGRATION_V1      3u           /* VFIO_REGION_TYPE_MIGRATION_DEPRECATED */
#define VFU_REGION_SUBTYPE_MIGRATION_V1   1u
#define VFMED_REGION_TYPE_VENDOR_INTEL    0x80008086u  /* PCI_VENDOR_TYPE | 0x8086 */
#define VFMED_REGION_SUBTYPE_TRAP_INFO    0x7601u

/* Trap-BAR info region (vfmed): 32 bytes of dwords. */
#define VFMED_TRAP_INFO_VERSION        0x00u
#define VFMED_TRAP_INFO_GENERATION     0x04u
#define VFMED_TRAP_INFO_TRAPPED_PAGES  0x08u
#define VFMED_TRAP_INFO_APPLIED        0x0Cu

/* v1 migration region (VFIO_REGION_TYPE_MIGRATION_DEPRECATED layout). */
#define VFU_MIG_V1_DEVICE_STATE        0x00u
#define VFU_MIG_V1_PENDING_BYTES       0x08u
#define VFU_MIG_V1_DATA_OFFSET         0x10u
#define VFU_MIG_V1_DATA_SIZE           0x18u
#define VFU_MIG_V1_STOP                0u
#define VFU_MIG_V1_RUNNING             (1u << 0)
#define VFU_MIG_V1_SAVING              (1u << 1)
#define VFU_MIG_V1_RESUMING            (1u << 2)

/* ---- REGION_READ / REGION_WRITE -------------------------------------------------------- */
struct vfu_region_access {
	uint64_t offset;
	uint32_t region;
	uint32_t count;
	/* uint8_t data[count]: write request, read reply */
} __attribute__((packed));
static_assert(sizeof(struct vfu_region_access) == 16, "region access header is 16 bytes");

/* ---- DMA_READ / DMA_WRITE (server -> client; this client never serves them) ------------- */
struct vfu_dma_access {
	uint64_t addr;
	uint64_t count;
} __attribute__((packed));
static_assert(sizeof(struct vfu_dma_access) == 16, "DMA access header is 16 bytes");

/* ---- PCI configuration space bits the "guest" touches -------------------------------------- */
#define PCI_CFG_VENDOR_ID    0x00
#define PCI_CFG_DEVICE_ID    0x02
#define PCI_CFG_COMMAND      0x04
#define   PCI_COMMAND_MEMORY 0x0002u
#define   PCI_COMMAND_MASTER 0x0004u

/* When the build host has the kernel uapi header, prove the borrowed numbers match it. */
#if defined(__has_include)
#if __has_include(<linux/vfio.h>)
#include <linux/vfio.h>
static_assert(VFU_DEVICE_F_RESET == VFIO_DEVICE_FLAGS_RESET, "flags reset");
static_assert(VFU_DEVICE_F_PCI == VFIO_DEVICE_FLAGS_PCI, "flags pci");
static_assert(VFU_REGION_F_READ == VFIO_REGION_INFO_FLAG_READ, "region read");
static_assert(VFU_REGION_F_WRITE == VFIO_REGION_INFO_FLAG_WRITE, "region write");
static_assert(VFU_REGION_F_MMAP == VFIO_REGION_INFO_FLAG_MMAP, "region mmap");
static_assert(VFU_REGION_F_CAPS == VFIO_REGION_INFO_FLAG_CAPS, "region caps");
static_assert(VFU_REGION_CAP_SPARSE_MMAP == VFIO_REGION_INFO_CAP_SPARSE_MMAP, "sparse id");
static_assert(VFU_REGION_CAP_TYPE == VFIO_REGION_INFO_CAP_TYPE, "type cap id");
static_assert(sizeof(struct vfu_region_info) == sizeof(struct vfio_region_info), "region info");
static_assert(sizeof(struct vfu_cap_header) == sizeof(struct vfio_info_cap_header), "cap hdr");
static_assert(sizeof(struct vfu_cap_sparse_mmap) ==
	      sizeof(struct vfio_region_info_cap_sparse_mmap), "sparse cap");
static_assert(sizeof(struct vfu_sparse_mmap_area) ==
	      sizeof(struct vfio_region_sparse_mmap_area), "sparse area");
static_assert(sizeof(struct vfu_irq_info) == sizeof(struct vfio_irq_info), "irq info");
static_assert(sizeof(struct vfu_irq_set) == sizeof(struct vfio_irq_set), "irq set");
static_assert(VFU_IRQ_SET_DATA_EVENTFD == VFIO_IRQ_SET_DATA_EVENTFD, "data eventfd");
static_assert(VFU_IRQ_SET_ACTION_TRIGGER == VFIO_IRQ_SET_ACTION_TRIGGER, "action trigger");
static_assert(VFU_IRQ_SET_DATA_NONE == VFIO_IRQ_SET_DATA_NONE, "data none");
static_assert(VFU_PCI_BAR0_REGION_INDEX == VFIO_PCI_BAR0_REGION_INDEX, "bar0 index");
static_assert(VFU_PCI_CONFIG_REGION_INDEX == VFIO_PCI_CONFIG_REGION_INDEX, "config index");
static_assert(VFU_PCI_NUM_REGIONS == VFIO_PCI_NUM_REGIONS, "num regions");
static_assert(VFU_PCI_MSIX_IRQ_INDEX == VFIO_PCI_MSIX_IRQ_INDEX, "msix index");
static_assert(VFU_PCI_NUM_IRQS == VFIO_PCI_NUM_IRQS, "num irqs");
static_assert(VFU_FEATURE_MASK == VFIO_DEVICE_FEATURE_MASK, "feature mask");
static_assert(VFU_FEATURE_GET == VFIO_DEVICE_FEATURE_GET, "feature get");
static_assert(VFU_FEATURE_SET == VFIO_DEVICE_FEATURE_SET, "feature set");
static_assert(VFU_FEATURE_PROBE == VFIO_DEVICE_FEATURE_PROBE, "feature probe");
static_assert(VFU_FEATURE_MIGRATION == VFIO_DEVICE_FEATURE_MIGRATION, "feature migration");
static_assert(VFU_FEATURE_MIG_DEVICE_STATE == VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, "mig state");
#ifdef VFIO_DEVICE_FEATURE_DMA_LOGGING_START
static_assert(VFU_FEATURE_DMA_LOGGING_START == VFIO_DEVICE_FEATURE_DMA_LOGGING_START, "logging start");
static_assert(VFU_FEATURE_DMA_LOGGING_STOP == VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, "logging stop");
static_assert(VFU_FEATURE_DMA_LOGGING_REPORT == VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, "logging report");
#endif
static_assert(VFU_MIGRATION_STOP_COPY == VFIO_MIGRATION_STOP_COPY, "stop copy flag");
static_assert(VFU_MIGRATION_P2P == VFIO_MIGRATION_P2P, "p2p flag");
static_assert((int)VFU_MIG_STOP_COPY == (int)VFIO_DEVICE_STATE_STOP_COPY, "stop copy state");
static_assert((int)VFU_MIG_RUNNING_P2P == (int)VFIO_DEVICE_STATE_RUNNING_P2P, "running p2p state");
static_assert(sizeof(struct vfu_cap_type) == sizeof(struct vfio_region_info_cap_type), "type cap");
static_assert(VFU_REGION_TYPE_MIGRATION_V1 == VFIO_REGION_TYPE_MIGRATION_DEPRECATED, "mig region type");
static_assert(VFU_MIG_V1_SAVING == VFIO_DEVICE_STATE_V1_SAVING, "v1 saving");
static_assert(VFU_MIG_V1_RESUMING == VFIO_DEVICE_STATE_V1_RESUMING, "v1 resuming");
#endif
#endif

#endif /* VFMED_GUEST_VFIO_USER_PROTO_H */
