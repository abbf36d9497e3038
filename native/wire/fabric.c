/* SPDX-License-Identifier: MIT */
/*
 * fabric.c - a lossless L2 fabric joining the uplinks of several emulated NICs: the
 * network between "hosts" of a live migration when they run in one process (the migration
 * benchmark). It is the idealised data-centre fabric with 802.3x PAUSE: a frame is never
 * dropped because its receiver is momentarily unable to take it.
 *
 *   NIC A uplink ─sink─▶ ┌──────── queue (arrival order) ────────┐ ──offer──▶ NIC A, NIC B…
 *   NIC B uplink ─sink─▶ │ f0 f1 f2 …   head retried until taken │
 *                        └───────────────────────────────────────┘
 *
 * Delivery (one thread): unicast frames are offered to every NIC, the sender's too (the
 * fabric hairpins, so a guest sending to its own MAC gets its frames back, wherever it
 * runs); the NIC whose VF owns the MAC takes it. When an owner exists but cannot take it
 * now (its FIFO is full, or it is sealed/quiesced: a VF being migrated), the frame stays at
 * the head and is retried: later frames wait behind it, so order is kept. A unicast frame
 * nobody owns is dropped and counted (`unknown`). Broadcast/multicast go to every NIC but
 * the sender's, where there is room.
 *
 * Flow control: past FABRIC_PAUSE_AT queued frames the fabric tells the NICs' switches it
 * is full, and a VF sending a unicast frame to the uplink stalls (its descriptor is retried)
 * until the queue is half drained and the NICs are woken: PAUSE, so a sender faster than
 * the fabric is slowed down instead of losing frames.
 *
 * Lock order: a NIC lock (the sink runs under it) -> fabric.lock. The thread never holds
 * fabric.lock while it calls into a NIC.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../nic/internal.h"
#include "wire.h"

#define FABRIC_MAX_NICS   4u
#define FABRIC_MAX_FRAMES 65536u
#define FABRIC_RETRY_NS   20000L   /* head-of-line retry while its owner cannot take it */
#define FABRIC_PAUSE_AT   8192u    /* queued frames at which unicast senders are paused */

struct fabric_frame {
	uint32_t len, from;
	uint8_t data[];
};

struct fabric_port {
	struct vfmed_fabric *fabric;
	uint32_t index;
};

struct vfmed_fabric {
	struct vfmed_nic *nic[FABRIC_MAX_NICS];
	struct fabric_port port[FABRIC_MAX_NICS];
	uint32_t nnics;
	pthread_t thread;
	pthread_mutex_t lock;          /* protects everything below */
	pthread_cond_t cond;
	struct fabric_frame *ring[FABRIC_MAX_FRAMES];
	uint32_t head, count;
	bool stop;
	bool paused;                   /* a sender was told to wait: wake the NICs when drained */
	struct vfmed_fabric_stats st;
};

static void sink(void *ctx, const void *frame, uint32_t len)
{
	struct fabric_port *p = ctx;
	struct vfmed_fabric *fb = p->fabric;
	struct fabric_frame *f = malloc(sizeof(*f) + len);

	pthread_mutex_lock(&fb->lock);
	fb->st.frames++;
	if (!f || fb->count == FABRIC_MAX_FRAMES) {
		fb->st.overflow++;
		pthread_mutex_unlock(&fb->lock);
		free(f);
		return;
	}
	f->len = len;
	f->from = p->index;
	memcpy(f->data, frame, len);
	fb->ring[(fb->head + fb->count) % FABRIC_MAX_FRAMES] = f;
	fb->count++;
	if (fb->count > fb->st.held_max)
		fb->st.held_max = fb->count;
	pthread_cond_signal(&fb->cond);
	pthread_mutex_unlock(&fb->lock);
}

static bool ready(void *ctx, uint32_t len)
{
	struct fabric_port *p = ctx;
	struct vfmed_fabric *fb = p->fabric;
	bool ok;

	(void)len;
	pthread_mutex_lock(&fb->lock);
	ok = fb->count < FABRIC_PAUSE_AT;
	if (!ok) {
		fb->paused = true;
		fb->st.pauses++;
	}
	pthread_mutex_unlock(&fb->lock);
	return ok;
}

/* true when the frame is done with (delivered or dropped), false to retry it later. */
static bool deliver(struct vfmed_fabric *fb, const struct fabric_frame *f)
{
	bool busy = false;
	uint32_t i;

	if (f->data[0] & 1) {
		for (i = 0; i < fb->nnics; i++)
			if (i != f->from)
				(void)vfmed_uplink_offer(fb->nic[i], f->data, f->len);
		__atomic_fetch_add(&fb->st.delivered, 1, __ATOMIC_RELAXED);
		return true;
	}
	for (i = 0; i < fb->nnics; i++) {
		int rc = vfmed_uplink_offer(fb->nic[i], f->data, f->len);

		if (rc == 0) {
			__atomic_fetch_add(&fb->st.delivered, 1, __ATOMIC_RELAXED);
			return true;
		}
		if (rc == -EAGAIN)
			busy = true;
	}
	if (busy) {
		__atomic_fetch_add(&fb->st.retries, 1, __ATOMIC_RELAXED);
		return false;
	}
	__atomic_fetch_add(&fb->st.unknown, 1, __ATOMIC_RELAXED);
	return true;
}

static void *fabric_thread(void *arg)
{
	struct vfmed_fabric *fb = arg;

	pthread_mutex_lock(&fb->lock);
	while (!fb->stop) {
		struct fabric_frame *f;

		if (!fb->count) {
			pthread_cond_wait(&fb->cond, &fb->lock);
			continue;
		}
		f = fb->ring[fb->head];
		pthread_mutex_unlock(&fb->lock);
		if (deliver(fb, f)) {
			pthread_mutex_lock(&fb->lock);
			fb->ring[fb->head] = NULL;
			fb->head = (fb->head + 1) % FABRIC_MAX_FRAMES;
			fb->count--;
			free(f);
			if (fb->paused && fb->count <= FABRIC_PAUSE_AT / 2) {
				uint32_t i;

				fb->paused = false;
				for (i = 0; i < fb->nnics; i++)
					vfmed_nic_wake(fb->nic[i]);   /* stalled senders retry */
			}
		} else {
			struct timespec ts = { 0, FABRIC_RETRY_NS };

			nanosleep(&ts, NULL);
			pthread_mutex_lock(&fb->lock);
		}
	}
	pthread_mutex_unlock(&fb->lock);
	return NULL;
}

int vfmed_fabric_create(struct vfmed_nic *const *nics, uint32_t n, struct vfmed_fabric **out)
{
	struct vfmed_fabric *fb;
	uint32_t i, j;
	int rc;

	if (!nics || !out || n < 1 || n > FABRIC_MAX_NICS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!nics[i])
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (nics[j] == nics[i])
				return -EINVAL;
	}
	fb = calloc(1, sizeof(*fb));
	if (!fb)
		return -ENOMEM;
	pthread_mutex_init(&fb->lock, NULL);
	pthread_cond_init(&fb->cond, NULL);
	fb->nnics = n;
	for (i = 0; i < n; i++) {
		fb->nic[i] = nics[i];
		fb->port[i].fabric = fb;
		fb->port[i].index = i;
	}
	rc = -pthread_create(&fb->thread, NULL, fabric_thread, fb);
	if (rc) {
		pthread_cond_destroy(&fb->cond);
		pthread_mutex_destroy(&fb->lock);
		free(fb);
		return rc;
	}
	for (i = 0; i < n; i++)
		vfmed_uplink_set_flow_sink(nics[i], sink, ready, &fb->port[i]);
	*out = fb;
	return 0;
}

void vfmed_fabric_destroy(struct vfmed_fabric *fb)
{
	uint32_t i;

	if (!fb)
		return;
	for (i = 0; i < fb->nnics; i++)
		vfmed_uplink_set_sink(fb->nic[i], NULL, NULL);   /* no sink call after this */
	pthread_mutex_lock(&fb->lock);
	fb->stop = true;
	pthread_cond_signal(&fb->cond);
	pthread_mutex_unlock(&fb->lock);
	pthread_join(fb->thread, NULL);
	while (fb->count) {
		free(fb->ring[fb->head]);
		fb->head = (fb->head + 1) % FABRIC_MAX_FRAMES;
		fb->count--;
	}
	pthread_cond_destroy(&fb->cond);
	pthread_mutex_destroy(&fb->lock);
	free(fb);
}

int vfmed_fabric_get_stats(struct vfmed_fabric *fb, struct vfmed_fabric_stats *st)
{
	if (!fb || !st)
		return -EINVAL;
	pthread_mutex_lock(&fb->lock);
	*st = fb->st;
	st->delivered = __atomic_load_n(&fb->st.delivered, __ATOMIC_RELAXED);
	st->unknown = __atomic_load_n(&fb->st.unknown, __ATOMIC_RELAXED);
	st->retries = __atomic_load_n(&fb->st.retries, __ATOMIC_RELAXED);
	st->held = fb->count;
	pthread_mutex_unlock(&fb->lock);
	return 0;
}
