/* SPDX-License-Identifier: MIT */
/*
 * vfio-user-mig.c - migration commands of the guest runner's vfio-user client (see
 * vfio-user-mig.h). Every reply is checked against the request before it is used.
 */
#define _GNU_SOURCE
#include "vfio-user-mig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "region-info.h"

#define FEATURE_MAX_DATA 1024u   /* the largest feature data: LAST_ERROR's text */

static int proto(struct vfmed_vfu *c, const char *why)
{
	c->proto_err = why;
	return -EPROTO;
}

int vfmed_vfu_feature(struct vfmed_vfu *c, uint32_t flags, const void *in, uint32_t in_len,
		      void *out, uint32_t out_cap, uint32_t *out_len)
{
	uint8_t req[sizeof(struct vfu_device_feature) + FEATURE_MAX_DATA];
	uint8_t rep[sizeof(struct vfu_device_feature) + FEATURE_MAX_DATA];
	struct vfu_device_feature h = { 0 }, echo;
	struct vfu_xfer x = { .req = req, .rep = rep, .rep_cap = sizeof(rep) };
	int rc;

	if (in_len > FEATURE_MAX_DATA || out_cap > FEATURE_MAX_DATA)
		return -EINVAL;
	h.argsz = (uint32_t)sizeof(h) + (in_len > out_cap ? in_len : out_cap);
	h.flags = flags;
	memcpy(req, &h, sizeof(h));
	if (in_len)
		memcpy(req + sizeof(h), in, in_len);
	x.req_len = (uint32_t)sizeof(h) + in_len;
	rc = vfmed_vfu_call(c, VFU_CMD_DEVICE_FEATURE, &x);
	if (rc)
		return rc;
	if (x.rep_len < sizeof(echo))
		return proto(c, "DEVICE_FEATURE reply shorter than 8 bytes");
	memcpy(&echo, rep, sizeof(echo));
	if (echo.flags != flags)
		return proto(c, "DEVICE_FEATURE reply does not echo the flags");
	if (out_len)
		*out_len = x.rep_len - (uint32_t)sizeof(echo);
	if (out && out_cap) {
		uint32_t n = x.rep_len - (uint32_t)sizeof(echo);
		memcpy(out, rep + sizeof(echo), n < out_cap ? n : out_cap);
	}
	return 0;
}

int vfmed_vfu_mig_flags(struct vfmed_vfu *c, uint64_t *flags)
{
	uint32_t n = 0;
	int rc = vfmed_vfu_feature(c, VFU_FEATURE_GET | VFU_FEATURE_MIGRATION, NULL, 0, flags,
				   sizeof(*flags), &n);
	if (!rc && n != sizeof(*flags))
		return proto(c, "MIGRATION feature reply is not 8 data bytes");
	return rc;
}

int vfmed_vfu_mig_get_state(struct vfmed_vfu *c, uint32_t *state)
{
	uint32_t d[2], n = 0;
	int rc = vfmed_vfu_feature(c, VFU_FEATURE_GET | VFU_FEATURE_MIG_DEVICE_STATE, NULL, 0, d,
				   sizeof(d), &n);
	if (rc)
		return rc;
	if (n != sizeof(d))
		return proto(c, "MIG_DEVICE_STATE reply is not 8 data bytes");
	*state = d[0];
	return 0;
}

int vfmed_vfu_mig_set_state(struct vfmed_vfu *c, uint32_t state)
{
	uint32_t d[2] = { state, 0 };
	return vfmed_vfu_feature(c, VFU_FEATURE_SET | VFU_FEATURE_MIG_DEVICE_STATE, d, sizeof(d),
				 NULL, 0, NULL);
}

int vfmed_vfu_mig_read(struct vfmed_vfu *c, void *buf, uint32_t cap)
{
	struct vfu_mig_data req = { .argsz = (uint32_t)sizeof(req) + cap, .size = cap }, rep;
	uint8_t *tmp;
	struct vfu_xfer x = { .req = &req, .req_len = sizeof(req) };
	int rc;

	if (cap > c->max_data_xfer)
		return -EINVAL;
	tmp = malloc(sizeof(rep) + cap);
	if (!tmp)
		return -ENOMEM;
	x.rep = tmp;
	x.rep_cap = (uint32_t)sizeof(rep) + cap;
	rc = vfmed_vfu_call(c, VFU_CMD_MIG_DATA_READ, &x);
	if (!rc) {
		memcpy(&rep, tmp, x.rep_len < sizeof(rep) ? x.rep_len : sizeof(rep));
		if (x.rep_len < sizeof(rep) || rep.size > cap || x.rep_len != sizeof(rep) + rep.size ||
		    rep.argsz != sizeof(rep) + rep.size) {
			rc = proto(c, "MIG_DATA_READ reply size does not match its header");
		} else {
			memcpy(buf, tmp + sizeof(rep), rep.size);
			rc = (int)rep.size;
		}
	}
	free(tmp);
	return rc;
}

int vfmed_vfu_mig_write(struct vfmed_vfu *c, const void *buf, uint32_t len)
{
	struct vfu_mig_data req = { .argsz = (uint32_t)sizeof(req) + len, .size = len };
	struct vfu_xfer x = { .req = &req, .req_len = sizeof(req), .data = buf, .data_len = len };
	int rc;

	if (len > c->max_data_xfer)
		return -EINVAL;
	rc = vfmed_vfu_call(c, VFU_CMD_MIG_DATA_WRITE, &x);
	if (!rc && x.rep_len)
		return proto(c, "MIG_DATA_WRITE reply has a payload");
	return rc;
}

int vfmed_vfu_precopy_info(struct vfmed_vfu *c, uint64_t *initial, uint64_t *dirty)
{
	uint64_t d[2];
	uint32_t n = 0;
	int rc = vfmed_vfu_feature(c, VFU_FEATURE_GET | VFMED_FEATURE_PRECOPY_INFO, NULL, 0, d,
				   sizeof(d), &n);
	if (!rc && n != sizeof(d))
		return proto(c, "PRECOPY_INFO reply is not 16 data bytes");
	if (!rc) {
		*initial = d[0];
		*dirty = d[1];
	}
	return rc;
}

int vfmed_vfu_last_error(struct vfmed_vfu *c, char *buf, uint32_t cap)
{
	uint32_t n = 0;
	int rc;

	if (!cap)
		return -EINVAL;
	if (cap > FEATURE_MAX_DATA)
		cap = FEATURE_MAX_DATA;
	rc = vfmed_vfu_feature(c, VFU_FEATURE_GET | VFMED_FEATURE_LAST_ERROR, NULL, 0, buf, cap - 1, &n);
	buf[rc || n >= cap ? 0 : n] = '\0';
	for (uint32_t i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20)
			buf[i] = ' ';   /* one line in our own messages, whatever the server sent */
	return rc;
}

int vfmed_vfu_mig_data_size(struct vfmed_vfu *c, uint64_t *bytes)
{
	uint32_t n = 0;
	int rc = vfmed_vfu_feature(c, VFU_FEATURE_GET | VFU_FEATURE_MIG_DATA_SIZE, NULL, 0, bytes,
				   sizeof(*bytes), &n);
	if (!rc && n != sizeof(*bytes))
		return proto(c, "MIG_DATA_SIZE reply is not 8 data bytes");
	return rc;
}

int vfmed_vfu_tracker_get(struct vfmed_vfu *c, uint32_t *mode)
{
	uint32_t n = 0;
	int rc = vfmed_vfu_feature(c, VFU_FEATURE_GET | VFMED_FEATURE_DIRTY_TRACKER, NULL, 0, mode,
				   sizeof(*mode), &n);
	if (!rc && n != sizeof(*mode))
		return proto(c, "DIRTY_TRACKER reply is not 4 data bytes");
	return rc;
}

int vfmed_vfu_tracker_set(struct vfmed_vfu *c, uint32_t mode)
{
	return vfmed_vfu_feature(c, VFU_FEATURE_SET | VFMED_FEATURE_DIRTY_TRACKER, &mode, sizeof(mode),
				 NULL, 0, NULL);
}

int vfmed_vfu_dma_logging_start(struct vfmed_vfu *c, uint64_t iova, uint64_t len, uint64_t page_size)
{
	/* { u64 page_size, u32 num_ranges, u32 reserved, {u64 iova, u64 length} } */
	uint8_t d[32] = { 0 };
	uint32_t one = 1;

	memcpy(d, &page_size, 8);
	memcpy(d + 8, &one, 4);
	memcpy(d + 16, &iova, 8);
	memcpy(d + 24, &len, 8);
	return vfmed_vfu_feature(c, VFU_FEATURE_SET | VFU_FEATURE_DMA_LOGGING_START, d, sizeof(d),
				 NULL, 0, NULL);
}

int vfmed_vfu_dma_logging_stop(struct vfmed_vfu *c)
{
	return vfmed_vfu_feature(c, VFU_FEATURE_SET | VFU_FEATURE_DMA_LOGGING_STOP, NULL, 0, NULL, 0, NULL);
}

int vfmed_vfu_dma_logging_report(struct vfmed_vfu *c, uint64_t iova, uint64_t len,
				 uint64_t page_size, uint64_t *bitmap, uint32_t bitmap_bytes)
{
	/* Request { argsz, flags, u64 iova, u64 length, u64 page_size }; the reply echoes the
	 * 24 bytes and appends the bitmap (argsz: the largest reply we accept). */
	uint8_t req[8 + 24];
	struct vfu_device_feature h = {
		.argsz = (uint32_t)(8 + 24 + bitmap_bytes),
		.flags = VFU_FEATURE_GET | VFU_FEATURE_DMA_LOGGING_REPORT,
	};
	uint32_t cap = 8 + 24 + bitmap_bytes;
	uint8_t *rep;
	struct vfu_xfer x = { .req = req, .req_len = sizeof(req) };
	int rc;

	if (bitmap_bytes % 8 || (uint64_t)bitmap_bytes * 8 * page_size < len || cap > c->max_data_xfer + 32)
		return -EINVAL;
	memcpy(req, &h, 8);
	memcpy(req + 8, &iova, 8);
	memcpy(req + 16, &len, 8);
	memcpy(req + 24, &page_size, 8);
	rep = malloc(cap);
	if (!rep)
		return -ENOMEM;
	x.rep = rep;
	x.rep_cap = cap;
	rc = vfmed_vfu_call(c, VFU_CMD_DEVICE_FEATURE, &x);
	if (!rc) {
		struct vfu_device_feature echo;
		memcpy(&echo, rep, sizeof(echo));
		if (x.rep_len != cap || echo.flags != h.flags || memcmp(rep + 8, req + 8, 24))
			rc = proto(c, "DMA_LOGGING_REPORT reply does not match the request");
		else
			memcpy(bitmap, rep + 32, bitmap_bytes);
	}
	free(rep);
	return rc;
}

int vfmed_vfu_region_read_buf(struct vfmed_vfu *c, uint32_t region, uint64_t off, void *buf,
			      uint32_t len)
{
	uint32_t chunk = c->max_data_xfer < 65536 ? (uint32_t)c->max_data_xfer : 65536u;
	uint8_t *tmp = malloc(sizeof(struct vfu_region_access) + chunk);
	int rc = 0;

	if (!tmp)
		return -ENOMEM;
	for (uint32_t at = 0; at < len && !rc; at += chunk) {
		uint32_t n = len - at < chunk ? len - at : chunk;
		struct vfu_region_access req = { .offset = off + at, .region = region, .count = n }, echo;
		struct vfu_xfer x = { .req = &req, .req_len = sizeof(req), .rep = tmp,
				      .rep_cap = (uint32_t)sizeof(req) + n };
		rc = vfmed_vfu_call(c, VFU_CMD_REGION_READ, &x);
		if (rc)
			break;
		memcpy(&echo, tmp, x.rep_len < sizeof(echo) ? x.rep_len : sizeof(echo));
		if (x.rep_len != sizeof(req) + n || echo.offset != req.offset || echo.count != n)
			rc = proto(c, "REGION_READ reply does not match the request");
		else
			memcpy((uint8_t *)buf + at, tmp + sizeof(req), n);
	}
	free(tmp);
	return rc;
}

int vfmed_vfu_region_write_buf(struct vfmed_vfu *c, uint32_t region, uint64_t off,
			       const void *buf, uint32_t len)
{
	uint32_t chunk = c->max_data_xfer < 65536 ? (uint32_t)c->max_data_xfer : 65536u;
	int rc = 0;

	for (uint32_t at = 0; at < len && !rc; at += chunk) {
		uint32_t n = len - at < chunk ? len - at : chunk;
		struct vfu_region_access req = { .offset = off + at, .region = region, .count = n }, rep;
		struct vfu_xfer x = { .req = &req, .req_len = sizeof(req), .data = (const uint8_t *)buf + at,
				      .data_len = n, .rep = &rep, .rep_cap = sizeof(rep) };
		rc = vfmed_vfu_call(c, VFU_CMD_REGION_WRITE, &x);
		if (!rc && (x.rep_len != sizeof(rep) || rep.offset != req.offset || rep.count != n))
			rc = proto(c, "REGION_WRITE reply does not match the request");
	}
	return rc;
}

int vfmed_vfu_find_region(struct vfmed_vfu *c, uint32_t num_regions, uint32_t type,
			  uint32_t subtype)
{
	uint8_t buf[1024];

	for (uint32_t i = VFU_PCI_NUM_REGIONS; i < num_regions && i < 64; i++) {
		uint32_t len, t, st;
		int fd, rc;

		rc = vfmed_vfu_get_region_info(c, i, buf, sizeof(buf), &len, &fd);
		if (fd >= 0)
			close(fd);
		if (rc == -EINVAL)
			continue;  /* no such region: keep looking */
		if (rc)
			return rc;
		if (!vfmed_region_type(buf, len, &t, &st) && t == type && st == subtype)
			return (int)i;
	}
	return -ENOENT;
}
