/* SPDX-License-Identifier: MIT */
/*
 * vfio-user-mig.h - the client side of what a migrating VMM sends: DEVICE_FEATURE (the
 * migration features of <linux/vfio.h> and vfmed's PRECOPY_INFO), MIG_DATA_READ/WRITE,
 * bulk region accesses (the v1 migration region's data area) and lookup of device-specific
 * regions by their VFIO_REGION_INFO_CAP_TYPE. Normal (non-signal) context only.
 *
 * Functions return 0 / a byte count on success, -errno on failure (an error reply from the
 * server is -(its errno)).
 */
#ifndef VFMED_GUEST_VFIO_USER_MIG_H
#define VFMED_GUEST_VFIO_USER_MIG_H

#include <stdint.h>

#include "vfio-user-client.h"

/* DEVICE_FEATURE: flags = feature | GET/SET/PROBE; `in` = request data; for GET the reply
 * data (at most out_cap bytes) lands in `out` and *out_len says how much. */
int vfmed_vfu_feature(struct vfmed_vfu *c, uint32_t flags, const void *in, uint32_t in_len,
		      void *out, uint32_t out_cap, uint32_t *out_len);

/* VFIO_DEVICE_FEATURE_MIGRATION flags (-ENOTTY: no migration). */
int vfmed_vfu_mig_flags(struct vfmed_vfu *c, uint64_t *flags);
int vfmed_vfu_mig_get_state(struct vfmed_vfu *c, uint32_t *state);
int vfmed_vfu_mig_set_state(struct vfmed_vfu *c, uint32_t state);

/* MIG_DATA_READ of up to cap bytes (cap <= the negotiated max_data_xfer_size); returns the
 * bytes read: fewer than cap = no more data (for now in PRE_COPY, for good in STOP_COPY). */
int vfmed_vfu_mig_read(struct vfmed_vfu *c, void *buf, uint32_t cap);
int vfmed_vfu_mig_write(struct vfmed_vfu *c, const void *buf, uint32_t len);

/* PRECOPY_INFO (vfmed 0xf001): initial and dirty bytes still to read in PRE_COPY. */
int vfmed_vfu_precopy_info(struct vfmed_vfu *c, uint64_t *initial, uint64_t *dirty);
/* MIG_DATA_SIZE: the device's estimate of its stop-copy data. */
/* DEVICE_FEATURE LAST_ERROR (vfmed): why the server's last migration operation failed, as
 * a NUL-terminated line in buf (empty when none, or when the server lacks the feature). */
int vfmed_vfu_last_error(struct vfmed_vfu *c, char *buf, uint32_t cap);
int vfmed_vfu_mig_data_size(struct vfmed_vfu *c, uint64_t *bytes);
/* VFMED_DIRTY_TRACKER (vfmed 0xf002): u32 mode VFMED_TRACKER_*. */
int vfmed_vfu_tracker_get(struct vfmed_vfu *c, uint32_t *mode);
int vfmed_vfu_tracker_set(struct vfmed_vfu *c, uint32_t mode);

/* DMA_LOGGING_START over one IOVA range at page_size, STOP, and REPORT: the bitmap of
 * [iova, iova + len) (one bit per page, LSB first, u64 words; bitmap_bytes must be
 * the whole-word size) is written to `bitmap` and cleared in the device. */
int vfmed_vfu_dma_logging_start(struct vfmed_vfu *c, uint64_t iova, uint64_t len, uint64_t page_size);
int vfmed_vfu_dma_logging_stop(struct vfmed_vfu *c);
int vfmed_vfu_dma_logging_report(struct vfmed_vfu *c, uint64_t iova, uint64_t len,
				 uint64_t page_size, uint64_t *bitmap, uint32_t bitmap_bytes);

/* REGION_READ/WRITE of len bytes (split into max_data_xfer_size pieces). */
int vfmed_vfu_region_read_buf(struct vfmed_vfu *c, uint32_t region, uint64_t off, void *buf,
			      uint32_t len);
int vfmed_vfu_region_write_buf(struct vfmed_vfu *c, uint32_t region, uint64_t off,
			       const void *buf, uint32_t len);

/* The index of the device-specific region with this type/subtype (looked for from
 * VFU_PCI_NUM_REGIONS to num_regions - 1), or -ENOENT. */
int vfmed_vfu_find_region(struct vfmed_vfu *c, uint32_t num_regions, uint32_t type,
			  uint32_t subtype);

#endif /* VFMED_GUEST_VFIO_USER_MIG_H */
