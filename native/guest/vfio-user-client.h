/* SPDX-License-Identifier: MIT */
/*
 * vfio-user-client.h - the client ("VMM") side of a vfio-user connection over a UNIX
 * stream socket: message transport with SCM_RIGHTS fd passing, the commands the guest
 * runner sends, and service of the server-to-client DMA_READ/DMA_WRITE commands from
 * the guest memory it registered.
 *
 * One connection, one thread. vfmed_vfu_call() and everything built on it use only
 * sendmsg/recvmsg/close and no allocation, so the MMIO trap may call
 * vfmed_vfu_region_read/write from its SIGSEGV handler; a call that arrives while another
 * is in progress on the same connection fails with -EDEADLK instead of corrupting the
 * stream. A transport failure (EOF, timeout, protocol violation) marks the connection
 * broken: every later call returns -ENOTCONN.
 *
 * Functions return 0 (or a non-negative count) on success and -errno on failure; an
 * error reply from the server is returned as -(its errno), or -EIO when it sent none.
 */
#ifndef VFMED_GUEST_VFIO_USER_CLIENT_H
#define VFMED_GUEST_VFIO_USER_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "json-caps.h"
#include "vfio-user-proto.h"

#define VFMED_VFU_MAX_FDS        8u      /* fds this client accepts per message */
#define VFMED_VFU_MAX_XFER       1048576u/* max_data_xfer_size this client announces */
#define VFMED_VFU_MAX_DMA_TARGETS 4u

/* Guest memory served to DMA_READ/DMA_WRITE (the same ranges as the DMA_MAPs). */
struct vfmed_vfu_dma_target {
	uint64_t iova;
	uint64_t size;
	uint8_t *host;
};

struct vfmed_vfu {
	int sock;
	uint16_t next_id;
	uint16_t major, minor;        /* negotiated version */
	struct vfu_caps server_caps;  /* as announced by the server */
	uint64_t max_data_xfer;       /* effective: server's or the spec default */
	uint32_t max_msg_fds;         /* effective: server's or the spec default */
	volatile sig_atomic_t busy;   /* a call is in progress */
	volatile sig_atomic_t broken; /* the stream is unusable */
	const char *proto_err;        /* static text of the last protocol violation */
	struct vfmed_vfu_dma_target dma[VFMED_VFU_MAX_DMA_TARGETS];
	unsigned ndma;
	uint64_t served_dma;          /* DMA_READ/WRITE commands served */
	uint64_t posted;              /* NO_REPLY commands sent */
	uint64_t refused_cmds;        /* other server commands answered with an error */
};

/* One request/reply exchange; see vfmed_vfu_call(). */
struct vfu_xfer {
	const void *req;   uint32_t req_len;   /* payload after the header */
	const void *data;  uint32_t data_len;  /* more payload appended (REGION_WRITE data) */
	const int *fds;    unsigned nfds;      /* sent with the request (SCM_RIGHTS) */
	void *rep;         uint32_t rep_cap;   /* reply payload buffer */
	uint32_t rep_len;                      /* out: reply payload length */
	int *rfds;         unsigned rfd_cap;   /* buffer for fds received with the reply */
	unsigned nrfds;                        /* out: fds received (caller owns them) */
};

/* Connects to the server socket at path, retrying for up to connect_ms while it does not
 * exist yet or refuses; reply_ms bounds every later wait for a reply (0 = no limit). */
int vfmed_vfu_connect(struct vfmed_vfu *c, const char *path, int connect_ms, int reply_ms);
void vfmed_vfu_close(struct vfmed_vfu *c);

/* Sends command cmd and waits for its reply, serving DMA_READ/WRITE meanwhile.
 * -EMSGSIZE if the reply payload exceeds rep_cap (the connection stays usable). */
int vfmed_vfu_call(struct vfmed_vfu *c, uint16_t cmd, struct vfu_xfer *x);

/* Sends command cmd with NO_REPLY and does not wait: a posted write. The server handles a
 * connection's commands in order, so a later call (e.g. a REGION_READ) is answered only
 * after it, as a PCIe read pushes earlier posted writes; an error is not reported (the
 * server sends no reply), as a posted PCIe write that fails. Async-signal-safe. */
int vfmed_vfu_post(struct vfmed_vfu *c, uint16_t cmd, const void *req, uint32_t req_len,
		   const void *data, uint32_t data_len);

/* VERSION negotiation: proposes VFU_PROTO_MAJOR.MINOR with this client's capabilities and
 * checks the reply (same major, minor not above the proposal, valid JSON). */
int vfmed_vfu_negotiate(struct vfmed_vfu *c, const char **why);

int vfmed_vfu_get_device_info(struct vfmed_vfu *c, struct vfu_device_info *info);

/* GET_REGION_INFO with the argsz retry: the first request asks for the bare struct; if the
 * server needs more (capabilities) it is asked again with its argsz. buf receives the full
 * payload (struct vfu_region_info + caps) and *len its length; *fd the region fd or -1. */
int vfmed_vfu_get_region_info(struct vfmed_vfu *c, uint32_t index, void *buf, uint32_t cap,
			      uint32_t *len, int *fd);

int vfmed_vfu_get_irq_info(struct vfmed_vfu *c, uint32_t index, struct vfu_irq_info *info);
/* Attaches (fd >= 0) or detaches (fd < 0) one eventfd to sub-index start of an IRQ index. */
int vfmed_vfu_set_irq_eventfd(struct vfmed_vfu *c, uint32_t index, uint32_t start, int fd);

int vfmed_vfu_dma_map(struct vfmed_vfu *c, uint64_t iova, uint64_t size, int fd,
		      uint64_t offset, uint32_t flags);
int vfmed_vfu_dma_unmap(struct vfmed_vfu *c, uint64_t iova, uint64_t size);
int vfmed_vfu_device_reset(struct vfmed_vfu *c);

/* Region access of 1, 2, 4 or 8 bytes; async-signal-safe. */
int vfmed_vfu_region_read(struct vfmed_vfu *c, uint32_t region, uint64_t off, unsigned size,
			  uint64_t *val);
int vfmed_vfu_region_write(struct vfmed_vfu *c, uint32_t region, uint64_t off, unsigned size,
			   uint64_t val);
/* The same as a posted write (vfmed_vfu_post); async-signal-safe. */
int vfmed_vfu_region_write_posted(struct vfmed_vfu *c, uint32_t region, uint64_t off,
				  unsigned size, uint64_t val);

/* Registers guest memory for DMA_READ/DMA_WRITE service. */
int vfmed_vfu_add_dma_target(struct vfmed_vfu *c, uint64_t iova, uint64_t size, uint8_t *host);

#endif /* VFMED_GUEST_VFIO_USER_CLIENT_H */
