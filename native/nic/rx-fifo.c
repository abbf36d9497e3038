/* SPDX-License-Identifier: MIT */
/*
 * rx-fifo.c - the per-VF receive FIFO: frames accepted by the switch (from another VF or
 * the uplink) that the device has not yet written into RX descriptors. This is the main
 * piece of VF state the driver cannot see and the reason VF_SAVE exists.
 *
 * A ring of frame pointers (grown on demand, a power of two); capacity is accounted in
 * frame bytes, the bound the PF reports as rx_fifo_bytes. Frames leave strictly in order.
 * Popped frames of up to VFMED_FIFO_SPARE_CAP bytes are kept (at most VFMED_FIFO_SPARES)
 * and reused by the next pushes: every frame between two VFs passes through here, and a
 * malloc/free pair per frame was a visible share of the device thread's time.
 *
 *   slot[]:  ... [head] [head+1] ... [head+count-1] ...   (& (nslots - 1))
 *                 oldest                 newest
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int vfmed_fifo_init(struct vfmed_rx_fifo *f, uint32_t capacity)
{
	memset(f, 0, sizeof(*f));
	f->capacity = capacity;
	return 0;
}

void vfmed_fifo_free(struct vfmed_rx_fifo *f)
{
	vfmed_fifo_flush(f);
	while (f->nspare)
		free(f->spare[--f->nspare]);
	free(f->slot);
	f->slot = NULL;
	f->nslots = 0;
}

static int grow(struct vfmed_rx_fifo *f)
{
	uint32_t n = f->nslots ? f->nslots * 2 : 64, i;
	struct vfmed_frame **s = malloc(n * sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (i = 0; i < f->count; i++)
		s[i] = f->slot[(f->head + i) & (f->nslots - 1)];
	free(f->slot);
	f->slot = s;
	f->nslots = n;
	f->head = 0;
	return 0;
}

int vfmed_fifo_push(struct vfmed_rx_fifo *f, const void *data, uint32_t len, uint32_t flags)
{
	struct vfmed_frame *fr;

	if (len > vfmed_fifo_room(f))
		return -ENOSPC;
	if (f->count == f->nslots && grow(f))
		return -ENOMEM;
	if (f->nspare && len <= VFMED_FIFO_SPARE_CAP) {
		fr = f->spare[--f->nspare];
	} else {
		uint32_t cap = len <= VFMED_FIFO_SPARE_CAP ? VFMED_FIFO_SPARE_CAP : len;

		fr = malloc(sizeof(*fr) + cap);
		if (!fr)
			return -ENOMEM;
		fr->cap = cap;
	}
	fr->len = len;
	fr->flags = flags;
	memcpy(fr->data, data, len);
	f->slot[(f->head + f->count) & (f->nslots - 1)] = fr;
	f->count++;
	f->bytes += len;
	return 0;
}

struct vfmed_frame *vfmed_fifo_peek(const struct vfmed_rx_fifo *f, uint32_t i)
{
	if (i >= f->count)
		return NULL;
	return f->slot[(f->head + i) & (f->nslots - 1)];
}

void vfmed_fifo_pop(struct vfmed_rx_fifo *f)
{
	struct vfmed_frame *fr;

	if (!f->count)
		return;
	fr = f->slot[f->head];
	f->bytes -= fr->len;
	if (fr->cap == VFMED_FIFO_SPARE_CAP && f->nspare < VFMED_FIFO_SPARES)
		f->spare[f->nspare++] = fr;
	else
		free(fr);
	f->head = (f->head + 1) & (f->nslots - 1);
	f->count--;
}

uint32_t vfmed_fifo_flush(struct vfmed_rx_fifo *f)
{
	uint32_t n = f->count;

	while (f->count)
		vfmed_fifo_pop(f);
	f->head = 0;
	return n;
}
