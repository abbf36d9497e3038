/* SPDX-License-Identifier: MIT */
/*
 * uplink.c - the NIC's uplink port: the wire side of the L2 switch.
 *
 * Egress (switch -> wire): frames go to an installed sink (a backend: pcap capture, TAP)
 * or, without one, into a bounded queue that vfmed_uplink_take drains oldest first. When
 * the queue is full new frames are dropped and counted; the wire is lossy by nature and
 * must never stall VF transmission.
 * Ingress (wire -> switch): vfmed_uplink_inject, which may drop (and counts) when the
 * target FIFOs are full.
 *
 * The sink runs under the NIC lock: it must not call back into the NIC API.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../nic/internal.h"

void vfmed_uplink_init(struct vfmed_uplink *u)
{
	memset(u, 0, sizeof(*u));
}

void vfmed_uplink_free(struct vfmed_uplink *u)
{
	while (u->count) {
		free(u->slot[u->head]);
		u->head = (u->head + 1) % u->nslots;
		u->count--;
	}
	free(u->slot);
	memset(u, 0, sizeof(*u));
}

static int grow(struct vfmed_uplink *u)
{
	uint32_t n = u->nslots ? u->nslots * 2 : 64, i;
	struct vfmed_frame **s = malloc(n * sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (i = 0; i < u->count; i++)
		s[i] = u->slot[(u->head + i) % u->nslots];
	free(u->slot);
	u->slot = s;
	u->nslots = n;
	u->head = 0;
	return 0;
}

void vfmed_uplink_send(struct vfmed_nic *nic, const uint8_t *frame, uint32_t len)
{
	struct vfmed_uplink *u = &nic->uplink;
	struct vfmed_frame *f;

	u->tx_frames++;
	if (u->sink) {
		u->sink(u->sink_ctx, frame, len);
		return;
	}
	if (u->count >= VFMED_UPLINK_MAX_FRAMES || u->bytes + len > VFMED_UPLINK_MAX_BYTES ||
	    (u->count == u->nslots && grow(u))) {
		u->drops++;
		return;
	}
	f = malloc(sizeof(*f) + len);
	if (!f) {
		u->drops++;
		return;
	}
	f->len = len;
	f->flags = 0;
	memcpy(f->data, frame, len);
	u->slot[(u->head + u->count) % u->nslots] = f;
	u->count++;
	u->bytes += len;
}

/* Arguments of a frame entering from the wire. */
static bool ingress_ok(const struct vfmed_nic *nic, const void *frame, uint32_t len)
{
	return nic && frame && len >= VFMED_FRAME_MIN && len <= VFMED_FRAME_MAX;
}

int vfmed_uplink_inject(struct vfmed_nic *nic, const void *frame, uint32_t len)
{
	int rc;

	if (!ingress_ok(nic, frame, len))
		return -EINVAL;
	vfmed_nic_lock(nic);
	nic->uplink.rx_frames++;
	rc = vfmed_switch_from_uplink(nic, frame, len);
	vfmed_nic_unlock(nic);
	vfmed_nic_wake(nic);
	return rc;
}

int vfmed_uplink_offer(struct vfmed_nic *nic, const void *frame, uint32_t len)
{
	int rc;

	if (!ingress_ok(nic, frame, len))
		return -EINVAL;
	vfmed_nic_lock(nic);
	rc = vfmed_switch_offer_from_uplink(nic, frame, len);
	vfmed_nic_unlock(nic);
	if (rc == 0)
		vfmed_nic_wake(nic);
	return rc;
}

int vfmed_uplink_take(struct vfmed_nic *nic, void *buf, uint32_t cap)
{
	struct vfmed_uplink *u;
	struct vfmed_frame *f;
	int rc;

	if (!nic || (!buf && cap))
		return -EINVAL;
	vfmed_nic_lock(nic);
	u = &nic->uplink;
	if (!u->count) {
		rc = -EAGAIN;
	} else {
		f = u->slot[u->head];
		if (f->len > cap) {
			rc = -ENOSPC;   /* the frame stays queued; retry with a larger buffer */
		} else {
			memcpy(buf, f->data, f->len);
			rc = (int)f->len;
			u->bytes -= f->len;
			free(f);
			u->head = (u->head + 1) % u->nslots;
			u->count--;
		}
	}
	vfmed_nic_unlock(nic);
	return rc;
}

int vfmed_uplink_set_sink(struct vfmed_nic *nic, vfmed_uplink_sink_fn fn, void *ctx)
{
	if (!nic)
		return -EINVAL;
	vfmed_uplink_set_flow_sink(nic, fn, NULL, ctx);   /* a sink without flow control */
	return 0;
}

void vfmed_uplink_set_flow_sink(struct vfmed_nic *nic, vfmed_uplink_sink_fn fn,
				bool (*ready)(void *ctx, uint32_t len), void *ctx)
{
	vfmed_nic_lock(nic);
	nic->uplink.sink = fn;
	nic->uplink.sink_ctx = fn ? ctx : NULL;
	nic->uplink.ready = fn ? ready : NULL;
	vfmed_nic_unlock(nic);
}
