/* SPDX-License-Identifier: MIT */
/*
 * sigsafe.h - message formatting that is async-signal-safe (no malloc, no stdio, no
 * locale): a fixed buffer with append helpers, flushed with write(2). Used by the MMIO
 * trap handler and the vfio-user transport for the diagnostics they print from inside
 * the SIGSEGV handler.
 */
#ifndef VFMED_GUEST_SIGSAFE_H
#define VFMED_GUEST_SIGSAFE_H

#include <stddef.h>
#include <stdint.h>

struct sigsafe_buf {
	char text[512];
	size_t len;
};

void sigsafe_str(struct sigsafe_buf *b, const char *s);
void sigsafe_hex(struct sigsafe_buf *b, uint64_t v);        /* 0x... */
void sigsafe_hexbyte(struct sigsafe_buf *b, uint8_t v);     /* two digits */
void sigsafe_dec(struct sigsafe_buf *b, int64_t v);
/* Writes the text to fd (2 normally), retrying on EINTR / partial writes. */
void sigsafe_flush(struct sigsafe_buf *b, int fd);

#endif /* VFMED_GUEST_SIGSAFE_H */
