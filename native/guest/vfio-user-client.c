/* SPDX-License-Identifier: MIT */
/*
 * vfio-user-client.c - the commands the guest runner sends (see vfio-user-client.h), each
 * a thin layer over vfmed_vfu_call() that builds the payload of the specification and
 * validates the reply's size and echoed fields before anything of it is used.
 */
#define _GNU_SOURCE
#include "vfio-user-client.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static int proto(struct vfmed_vfu *c, const char *why)
{
	c->proto_err = why;
	return -EPROTO;
}

int vfmed_vfu_negotiate(struct vfmed_vfu *c, const char **why)
{
	static const char caps[] =
		"{\"capabilities\":{\"max_msg_fds\":8,\"max_data_xfer_size\":1048576}}";
	uint8_t req[sizeof(struct vfu_version) + sizeof(caps)];
	uint8_t rep[4096];
	struct vfu_version v = { VFU_PROTO_MAJOR, VFU_PROTO_MINOR };
	struct vfu_xfer x = { .req = req, .req_len = sizeof(req), .rep = rep, .rep_cap = sizeof(rep) - 1 };
	const char *jerr = NULL;
	int rc;

	static_assert(VFMED_VFU_MAX_FDS == 8 && VFMED_VFU_MAX_XFER == 1048576,
		      "keep the announced capabilities in sync");
	*why = NULL;
	memcpy(req, &v, sizeof(v));
	memcpy(req + sizeof(v), caps, sizeof(caps));  /* includes the terminating NUL */
	rc = vfmed_vfu_call(c, VFU_CMD_VERSION, &x);
	if (rc == -EMSGSIZE) {
		*why = "VERSION reply larger than 4 KiB";
		return -EPROTO;
	}
	if (rc)
		return rc;
	if (x.rep_len < sizeof(v)) {
		*why = "VERSION reply shorter than 4 bytes";
		return proto(c, *why);
	}
	memcpy(&v, rep, sizeof(v));
	if (v.major != VFU_PROTO_MAJOR) {
		*why = "server replied with a different major version";
		return proto(c, *why);
	}
	if (v.minor > VFU_PROTO_MINOR) {
		*why = "server replied with a minor version above the proposal";
		return proto(c, *why);
	}
	c->major = v.major;
	c->minor = v.minor;
	memset(&c->server_caps, 0, sizeof(c->server_caps));
	if (x.rep_len > sizeof(v)) {
		const char *json = (const char *)rep + sizeof(v);
		size_t jlen = x.rep_len - sizeof(v);
		if (json[jlen - 1] != '\0') {
			*why = "VERSION JSON is not NUL-terminated";
			return proto(c, *why);
		}
		if (memchr(json, 0, jlen - 1)) {
			*why = "VERSION JSON contains a NUL byte";
			return proto(c, *why);
		}
		if (jlen > 1 && vfmed_json_parse_caps(json, jlen - 1, &c->server_caps, &jerr)) {
			*why = jerr;
			return proto(c, *why);
		}
	}
	if (c->server_caps.twin_socket_supported) {
		*why = "server enabled twin-socket mode, which this client did not propose";
		return proto(c, *why);
	}
	if (c->server_caps.has_max_msg_fds) {
		if (c->server_caps.max_msg_fds == 0) {
			*why = "server accepts no file descriptors (max_msg_fds 0); DMA_MAP needs one";
			return proto(c, *why);
		}
		c->max_msg_fds = (uint32_t)(c->server_caps.max_msg_fds > 255 ? 255 :
					    c->server_caps.max_msg_fds);
	}
	if (c->server_caps.has_max_data_xfer_size) {
		if (c->server_caps.max_data_xfer_size < 8) {
			*why = "server max_data_xfer_size below 8 bytes";
			return proto(c, *why);
		}
		c->max_data_xfer = c->server_caps.max_data_xfer_size;
	}
	return 0;
}

int vfmed_vfu_get_device_info(struct vfmed_vfu *c, struct vfu_device_info *info)
{
	struct vfu_device_info req = { .argsz = sizeof(req) };
	struct vfu_xfer x = { .req = &req, .req_len = sizeof(req), .rep = info, .rep_cap = sizeof(*info) };
	int rc = vfmed_vfu_call(c, VFU_CMD_DEVICE_GET_INFO, &x);

	if (rc)
		return rc;
	if (x.rep_len != sizeof(*info))
		return proto(c, "DEVICE_GET_INFO reply is not 16 bytes");
	if (info->argsz < sizeof(*info))
		return proto(c, "DEVICE_GET_INFO reply argsz below 16");
	return 0;
}

int vfmed_vfu_get_region_info(struct vfmed_vfu *c, uint32_t index, void *buf, uint32_t cap,
			      uint32_t *len, int *fd)
{
	struct vfu_region_info req = { .argsz = sizeof(req), .index = index };
	struct vfu_region_info *ri = buf;
	int fds[VFMED_VFU_MAX_FDS];
	int rc;

	*fd = -1;
	*len = 0;
	if (cap < sizeof(req))
		return -EINVAL;
	for (int attempt = 0; attempt < 2; attempt++) {
		struct vfu_xfer x = {
			.req = &req, .req_len = sizeof(req), .rep = buf, .rep_cap = cap,
			.rfds = fds, .rfd_cap = VFMED_VFU_MAX_FDS,
		};
		rc = vfmed_vfu_call(c, VFU_CMD_DEVICE_GET_REGION_INFO, &x);
		if (rc) {
			for (unsigned i = 0; i < x.nrfds; i++)
				close(fds[i]);
			return rc;
		}
		if (x.rep_len < sizeof(*ri) || x.rep_len > req.argsz) {
			for (unsigned i = 0; i < x.nrfds; i++)
				close(fds[i]);
			return proto(c, "GET_REGION_INFO reply size outside [32, argsz]");
		}
		if (ri->index != index) {
			for (unsigned i = 0; i < x.nrfds; i++)
				close(fds[i]);
			return proto(c, "GET_REGION_INFO reply for another region index");
		}
		if (ri->argsz > req.argsz) {
			/* Truncated: ask again with the size the server needs. */
			for (unsigned i = 0; i < x.nrfds; i++)
				close(fds[i]);
			if (attempt == 1)
				return proto(c, "GET_REGION_INFO argsz grew between two queries");
			if (ri->argsz > cap)
				return -EMSGSIZE;
			req.argsz = ri->argsz;
			continue;
		}
		if (x.nrfds > 1) {
			for (unsigned i = 0; i < x.nrfds; i++)
				close(fds[i]);
			return proto(c, "GET_REGION_INFO reply carried more than one fd");
		}
		*fd = x.nrfds ? fds[0] : -1;
		*len = x.rep_len;
		return 0;
	}
	return -EPROTO;
}

int vfmed_vfu_get_irq_info(struct vfmed_vfu *c, uint32_t index, struct vfu_irq_info *info)
{
	struct vfu_irq_info req = { .argsz = sizeof(req), .index = index };
	struct vfu_xfer x = { .req = &req, .req_len = sizeof(req), .rep = info, .rep_cap = sizeof(*info) };
	int rc = vfmed_vfu_call(c, VFU_CMD_DEVICE_GET_IRQ_INFO, &x);

	if (rc)
		return rc;
	if (x.rep_len != sizeof(*info))
		return proto(c, "GET_IRQ_INFO reply is not 16 bytes");
	if (info->index != index)
		return proto(c, "GET_IRQ_INFO reply for another IRQ index");
	return 0;
}

int vfmed_vfu_set_irq_eventfd(struct vfmed_vfu *c, uint32_t index, uint32_t start, int fd)
{
	struct vfu_irq_set req = {
		.argsz = sizeof(req),
		.flags = VFU_IRQ_SET_ACTION_TRIGGER |
			 (fd >= 0 ? VFU_IRQ_SET_DATA_EVENTFD : VFU_IRQ_SET_DATA_NONE),
		.index = index,
		.start = fd >= 0 ? start : 0,
		.count = fd >= 0 ? 1 : 0,  /* count 0 + DATA_NONE disables the index */
	};
	struct vfu_xfer x = { .req = &req, .req_len = sizeof(req), .fds = &fd, .nfds = fd >= 0 };
	int rc = vfmed_vfu_call(c, VFU_CMD_DEVICE_SET_IRQS, &x);

	if (!rc && x.rep_len)
		return proto(c, "SET_IRQS reply has a payload");
	return rc;
}

int vfmed_vfu_dma_map(struct vfmed_vfu *c, uint64_t iova, uint64_t size, int fd,
		      uint64_t offset, uint32_t flags)
{
	struct vfu_dma_map req = {
		.argsz = sizeof(req), .flags = flags, .offset = offset, .addr = iova, .size = size,
	};
	struct vfu_xfer x = { .req = &req, .req_len = sizeof(req), .fds = &fd, .nfds = fd >= 0 };
	int rc = vfmed_vfu_call(c, VFU_CMD_DMA_MAP, &x);

	if (!rc && x.rep_len)
		return proto(c, "DMA_MAP reply has a payload");
	return rc;
}

int vfmed_vfu_dma_unmap(struct vfmed_vfu *c, uint64_t iova, uint64_t size)
{
	struct vfu_dma_unmap req = { .argsz = sizeof(req), .addr = iova, .size = size }, rep;
	struct vfu_xfer x = { .req = &req, .req_len = sizeof(req), .rep = &rep, .rep_cap = sizeof(rep) };
	int rc = vfmed_vfu_call(c, VFU_CMD_DMA_UNMAP, &x);

	if (rc)
		return rc;
	/* The server echoes the entry; accept an empty reply too (some servers send none). */
	if (x.rep_len && (x.rep_len != sizeof(rep) || rep.addr != iova || rep.size != size))
		return proto(c, "DMA_UNMAP reply does not echo the request");
	return 0;
}

int vfmed_vfu_device_reset(struct vfmed_vfu *c)
{
	struct vfu_xfer x = { 0 };
	return vfmed_vfu_call(c, VFU_CMD_DEVICE_RESET, &x);
}

static int size_ok(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

int vfmed_vfu_region_read(struct vfmed_vfu *c, uint32_t region, uint64_t off, unsigned size,
			  uint64_t *val)
{
	struct vfu_region_access req = { .offset = off, .region = region, .count = size };
	uint8_t rep[sizeof(req) + 8];
	struct vfu_region_access echo;
	struct vfu_xfer x = { .req = &req, .req_len = sizeof(req), .rep = rep, .rep_cap = sizeof(rep) };
	uint64_t v = 0;
	int rc;

	if (!size_ok(size) || size > c->max_data_xfer)
		return -EINVAL;
	rc = vfmed_vfu_call(c, VFU_CMD_REGION_READ, &x);
	if (rc)
		return rc;
	memcpy(&echo, rep, x.rep_len < sizeof(echo) ? x.rep_len : sizeof(echo));
	if (x.rep_len != sizeof(req) + size || echo.offset != off || echo.region != region ||
	    echo.count != size)
		return proto(c, "REGION_READ reply does not match the request");
	memcpy(&v, rep + sizeof(req), size);  /* little-endian host */
	*val = v;
	return 0;
}

int vfmed_vfu_region_write(struct vfmed_vfu *c, uint32_t region, uint64_t off, unsigned size,
			   uint64_t val)
{
	struct vfu_region_access req = { .offset = off, .region = region, .count = size }, rep;
	struct vfu_xfer x = {
		.req = &req, .req_len = sizeof(req), .data = &val, .data_len = size,
		.rep = &rep, .rep_cap = sizeof(rep),
	};
	int rc;

	if (!size_ok(size) || size > c->max_data_xfer)
		return -EINVAL;
	rc = vfmed_vfu_call(c, VFU_CMD_REGION_WRITE, &x);
	if (rc)
		return rc;
	if (x.rep_len != sizeof(rep) || rep.offset != off || rep.region != region ||
	    rep.count != size)
		return proto(c, "REGION_WRITE reply does not match the request");
	return 0;
}

int vfmed_vfu_region_write_posted(struct vfmed_vfu *c, uint32_t region, uint64_t off,
				  unsigned size, uint64_t val)
{
	struct vfu_region_access req = { .offset = off, .region = region, .count = size };

	if (!size_ok(size) || size > c->max_data_xfer)
		return -EINVAL;
	return vfmed_vfu_post(c, VFU_CMD_REGION_WRITE, &req, sizeof(req), &val, size);
}

int vfmed_vfu_add_dma_target(struct vfmed_vfu *c, uint64_t iova, uint64_t size, uint8_t *host)
{
	if (c->ndma >= VFMED_VFU_MAX_DMA_TARGETS)
		return -ENOSPC;
	c->dma[c->ndma++] = (struct vfmed_vfu_dma_target){ iova, size, host };
	return 0;
}
