/* SPDX-License-Identifier: MIT */
/*
 * seq-check.h - per-stream receive accounting: lost, duplicated, reordered frames.
 *
 * A stream starts at the first sequence number received (or at 0 when told so, so that
 * loss of the first frames counts). For each further sequence s with next = highest+1:
 *
 *   s == next           in order
 *   s >  next           the s - next numbers in between are counted lost (for now)
 *   next-W <= s < next  seen before (window bit set): duplicated
 *                       not seen: it was counted lost; now it is reordered instead
 *   s <  next-W         stale: too old to tell a duplicate from a late frame
 *
 * The window (W = VFMED_SEQ_WINDOW) is a ring of bits indexed by s % W covering
 * [next - W, next); advancing next clears the bits it moves over.
 */
#ifndef VFMED_GUEST_SEQ_CHECK_H
#define VFMED_GUEST_SEQ_CHECK_H

#include <stdint.h>

#include "guest-state.h"

void vfmed_seq_start(struct vfmed_seq_stream *s, uint64_t first_expected);
void vfmed_seq_account(struct vfmed_seq_stream *s, uint64_t seq);
/* At the end, when the sender's total is known: frames never seen after the last one
 * received are lost too. */
void vfmed_seq_finish(struct vfmed_seq_stream *s, uint64_t sent);

#endif /* VFMED_GUEST_SEQ_CHECK_H */
