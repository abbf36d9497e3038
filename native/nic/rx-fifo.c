/* SPDX-License-Identifier: MIT */
/*
 * rx-fifo.c - the per-VF receive FIFO: frames accepted by the switch (from another VF or
 * the uplink) that the device has not yet written into RX descriptors. This is the main
 * piece of VF state the driver cannot see and the reason VF_SAVE exists.
 *
 * A ring of frame pointers (grown on demand); capacity is accounted in frame bytes, the
 * bound the PF reports as rx_fifo_bytes. Frames leave strictly in order.
 *
 *   slot[]:  ... [head] [head+1] ... [head+count-1] ...   (mod nslots)
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
		s[i] = f->slot[(f->head + i) % f->nslots];
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
	fr = malloc(sizeof(*fr) + len);
	if (!fr)
		return -ENOMEM;
	fr->len = len;
	fr->flags = flags;
	memcpy(fr->data, data, len);
	f->slot[(f->head + f->count) % f->nslots] = fr;
	f->count++;
	f->bytes += len;
	return 0;
}

struct vfmed_frame *vfmed_fifo_peek(const struct vfmed_rx_fifo *f, uint32_t i)
{
	if (i >= f->count)
		return NULL;
	return f->slot[(f->head + i) % f->nslots];
}

void vfmed_fifo_pop(struct vfmed_rx_fifo *f)
{
	struct vfmed_frame *fr;

	if (!f->count)
		return;
	fr = f->slot[f->head];
	f->bytes -= fr->len;
	free(fr);
	f->head = (f->head + 1) % f->nslots;
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
