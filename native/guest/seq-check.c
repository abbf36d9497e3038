/* SPDX-License-Identifier: MIT */
/*
 * seq-check.c - sequence accounting (see seq-check.h).
 */
#include "seq-check.h"

#include <string.h>

#define W VFMED_SEQ_WINDOW

static void bit_set(struct vfmed_seq_stream *s, uint64_t seq)
{
	s->window[(seq % W) / 64] |= 1ull << (seq % 64);
}

static void bit_clear(struct vfmed_seq_stream *s, uint64_t seq)
{
	s->window[(seq % W) / 64] &= ~(1ull << (seq % 64));
}

static int bit_test(const struct vfmed_seq_stream *s, uint64_t seq)
{
	return (s->window[(seq % W) / 64] >> (seq % 64)) & 1;
}

/* Moves next to new_next, clearing the bits of the numbers it passes. */
static void advance(struct vfmed_seq_stream *s, uint64_t new_next)
{
	if (new_next - s->next >= W)
		memset(s->window, 0, sizeof(s->window));
	else
		for (uint64_t q = s->next; q < new_next; q++)
			bit_clear(s, q);
	s->next = new_next;
}

void vfmed_seq_start(struct vfmed_seq_stream *s, uint64_t first_expected)
{
	memset(s, 0, sizeof(*s));
	s->next = first_expected;
	s->started = 1;
}

void vfmed_seq_account(struct vfmed_seq_stream *s, uint64_t seq)
{
	if (!s->started)
		vfmed_seq_start(s, seq);

	if (seq >= s->next) {
		s->lost += seq - s->next;
		advance(s, seq + 1);
		bit_set(s, seq);
		s->received++;
		return;
	}
	if (s->next - seq > W) {
		s->stale++;
		return;
	}
	if (bit_test(s, seq)) {
		s->duplicated++;
		return;
	}
	bit_set(s, seq);
	s->received++;
	s->reordered++;
	if (s->lost)
		s->lost--;
}

void vfmed_seq_finish(struct vfmed_seq_stream *s, uint64_t sent)
{
	if (!s->started) {
		s->lost += sent;
		s->started = 1;
		return;
	}
	if (sent > s->next) {
		s->lost += sent - s->next;
		s->next = sent;
	}
}
