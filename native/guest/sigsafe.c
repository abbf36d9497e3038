/* SPDX-License-Identifier: MIT */
/*
 * sigsafe.c - async-signal-safe message formatting (see sigsafe.h).
 */
#include "sigsafe.h"

#include <errno.h>
#include <unistd.h>

static void put(struct sigsafe_buf *b, char c)
{
	if (b->len < sizeof(b->text) - 1)
		b->text[b->len++] = c;
}

void sigsafe_str(struct sigsafe_buf *b, const char *s)
{
	while (s && *s)
		put(b, *s++);
}

void sigsafe_hexbyte(struct sigsafe_buf *b, uint8_t v)
{
	static const char digits[] = "0123456789abcdef";
	put(b, digits[v >> 4]);
	put(b, digits[v & 15]);
}

void sigsafe_hex(struct sigsafe_buf *b, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	int n = 0;

	put(b, '0');
	put(b, 'x');
	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	while (n)
		put(b, tmp[--n]);
}

void sigsafe_dec(struct sigsafe_buf *b, int64_t v)
{
	char tmp[20];
	int n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	if (v < 0)
		put(b, '-');
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (n)
		put(b, tmp[--n]);
}

void sigsafe_flush(struct sigsafe_buf *b, int fd)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = write(fd, b->text + off, b->len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	b->len = 0;
}
