/* SPDX-License-Identifier: MIT */
/*
 * mig-stream.c - codec, writer and receive buffer of the live-migration stream (see
 * mig-stream.h and docs/live-migration.md).
 */
#define _GNU_SOURCE
#include "mig-stream.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "frame-tag.h"   /* vfmed_crc32: IEEE, as zlib */

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static int bad(struct vfmed_mig_why *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct vfmed_mig_why *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
	va_end(ap);
	return -EPROTO;
}

const char *vfmed_mig_sec_name(uint32_t type)
{
	switch (type) {
	case VFMED_MIG_SEC_DEVICE_INITIAL: return "DEVICE_INITIAL";
	case VFMED_MIG_SEC_RAM_PAGES: return "RAM_PAGES";
	case VFMED_MIG_SEC_DEVICE_STATE: return "DEVICE_STATE";
	case VFMED_MIG_SEC_RAM_DIGEST: return "RAM_DIGEST";
	case VFMED_MIG_SEC_END: return "END";
	default: return "unknown";
	}
}

/* ---- header --------------------------------------------------------------------------- */

size_t vfmed_mig_header_encode(const struct vfmed_mig_header *h, uint8_t *out, size_t cap)
{
	size_t n = VFMED_MIG_HDR_FIXED + h->config_len + 4;

	if (h->config_len > VFMED_MIG_CONFIG_MAX || cap < n)
		return 0;
	memcpy(out, VFMED_MIG_MAGIC, 8);
	put32(out + 8, h->version);
	put32(out + 12, (uint32_t)n);
	put64(out + 16, h->ram_size);
	put64(out + 24, h->ram_base);
	put32(out + 32, h->page_size);
	put32(out + 36, h->config_len);
	memcpy(out + 40, h->config, h->config_len);
	put32(out + n - 4, vfmed_crc32(out, n - 4));
	return n;
}

int vfmed_mig_header_decode(const uint8_t *buf, size_t len, struct vfmed_mig_header *h,
			    size_t *used, struct vfmed_mig_why *why)
{
	uint32_t total, clen, crc;

	if (len < 16) {
		/* The magic can be judged as soon as its bytes are there. */
		if (memcmp(buf, VFMED_MIG_MAGIC, len < 8 ? len : 8))
			return bad(why, "stream header: bad magic (not a vfmed migration stream)");
		return -EAGAIN;
	}
	if (memcmp(buf, VFMED_MIG_MAGIC, 8))
		return bad(why, "stream header: bad magic (not a vfmed migration stream)");
	if (get32(buf + 8) != VFMED_MIG_VERSION)
		return bad(why, "stream header: version %" PRIu32 " (this runner speaks %u)",
			   get32(buf + 8), VFMED_MIG_VERSION);
	total = get32(buf + 12);
	if (total < VFMED_MIG_HDR_FIXED + 4 || total > VFMED_MIG_HDR_FIXED + VFMED_MIG_CONFIG_MAX + 4)
		return bad(why, "stream header: header_bytes %" PRIu32 " outside %u..%u", total,
			   VFMED_MIG_HDR_FIXED + 4, VFMED_MIG_HDR_FIXED + VFMED_MIG_CONFIG_MAX + 4);
	if (len < total)
		return -EAGAIN;
	clen = get32(buf + 36);
	if (clen != total - VFMED_MIG_HDR_FIXED - 4)
		return bad(why, "stream header: config_bytes %" PRIu32 " does not match header_bytes %" PRIu32,
			   clen, total);
	crc = vfmed_crc32(buf, total - 4);
	if (crc != get32(buf + total - 4))
		return bad(why, "stream header: CRC mismatch (computed %08" PRIx32 ", stream says %08" PRIx32 ")",
			   crc, get32(buf + total - 4));
	memset(h, 0, sizeof(*h));
	h->version = VFMED_MIG_VERSION;
	h->ram_size = get64(buf + 16);
	h->ram_base = get64(buf + 24);
	h->page_size = get32(buf + 32);
	h->config_len = clen;
	memcpy(h->config, buf + 40, clen);
	h->config[clen] = 0;
	if (h->page_size != VFMED_MIG_PAGE)
		return bad(why, "stream header: page size %" PRIu32 " (only 4096 is supported)", h->page_size);
	if (!h->ram_size || h->ram_size % VFMED_MIG_PAGE || h->ram_base % VFMED_MIG_PAGE)
		return bad(why, "stream header: RAM size %" PRIu64 " / base %#" PRIx64 " not page aligned",
			   h->ram_size, h->ram_base);
	*used = total;
	return 0;
}

/* ---- sections --------------------------------------------------------------------------- */

int vfmed_mig_section_decode(const uint8_t *buf, size_t len, struct vfmed_mig_section *s,
			     size_t *used, struct vfmed_mig_why *why)
{
	uint64_t plen;
	uint32_t type, crc;

	if (len < VFMED_MIG_SEC_HDR)
		return -EAGAIN;
	type = get32(buf);
	plen = get64(buf + 8);
	if (type < VFMED_MIG_SEC_DEVICE_INITIAL || type > VFMED_MIG_SEC_END)
		return bad(why, "section type %" PRIu32 " is unknown", type);
	if (get32(buf + 4))
		return bad(why, "%s section: flags %#" PRIx32 " (none are defined)", vfmed_mig_sec_name(type),
			   get32(buf + 4));
	if (plen > VFMED_MIG_MAX_PAYLOAD)
		return bad(why, "%s section: payload_bytes %" PRIu64 " over the limit %u",
			   vfmed_mig_sec_name(type), plen, VFMED_MIG_MAX_PAYLOAD);
	if (len < VFMED_MIG_SEC_HDR + plen + 4)
		return -EAGAIN;
	crc = vfmed_crc32(buf, VFMED_MIG_SEC_HDR + plen);
	if (crc != get32(buf + VFMED_MIG_SEC_HDR + plen))
		return bad(why, "%s section of %" PRIu64 " bytes: CRC mismatch (computed %08" PRIx32
			   ", stream says %08" PRIx32 ")", vfmed_mig_sec_name(type), plen, crc,
			   get32(buf + VFMED_MIG_SEC_HDR + plen));
	s->type = type;
	s->flags = 0;
	s->len = plen;
	s->payload = buf + VFMED_MIG_SEC_HDR;
	*used = VFMED_MIG_SEC_HDR + plen + 4;
	return 0;
}

int vfmed_mig_ram_decode(const struct vfmed_mig_section *s, uint64_t ram_pages,
			 struct vfmed_mig_ram *out, struct vfmed_mig_why *why)
{
	uint32_t count, ndata = 0;

	if (s->len < 8)
		return bad(why, "RAM_PAGES section: %" PRIu64 " payload bytes, need at least 8", s->len);
	count = get32(s->payload + 4);
	if ((uint64_t)count * VFMED_MIG_RAM_REC > s->len - 8)
		return bad(why, "RAM_PAGES section: %" PRIu32 " records do not fit %" PRIu64 " bytes",
			   count, s->len);
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *rec = s->payload + 8 + (size_t)i * VFMED_MIG_RAM_REC;
		uint64_t page = get64(rec);
		uint32_t kind = get32(rec + 8);
		if (page >= ram_pages)
			return bad(why, "RAM_PAGES section: record %" PRIu32 " names page %" PRIu64
				   " beyond RAM (%" PRIu64 " pages)", i, page, ram_pages);
		if (kind > VFMED_MIG_PAGE_ZERO)
			return bad(why, "RAM_PAGES section: record %" PRIu32 " has unknown kind %" PRIu32, i, kind);
		ndata += kind == VFMED_MIG_PAGE_DATA;
	}
	if (s->len != 8 + (uint64_t)count * VFMED_MIG_RAM_REC + (uint64_t)ndata * VFMED_MIG_PAGE)
		return bad(why, "RAM_PAGES section: %" PRIu64 " payload bytes for %" PRIu32 " records with %"
			   PRIu32 " data pages (expected %" PRIu64 ")", s->len, count, ndata,
			   8 + (uint64_t)count * VFMED_MIG_RAM_REC + (uint64_t)ndata * VFMED_MIG_PAGE);
	out->round = get32(s->payload);
	out->count = count;
	out->ndata = ndata;
	out->recs = s->payload + 8;
	out->data = s->payload + 8 + (size_t)count * VFMED_MIG_RAM_REC;
	return 0;
}

void vfmed_mig_ram_rec(const struct vfmed_mig_ram *r, uint32_t i, uint64_t *page, uint32_t *kind)
{
	*page = get64(r->recs + (size_t)i * VFMED_MIG_RAM_REC);
	*kind = get32(r->recs + (size_t)i * VFMED_MIG_RAM_REC + 8);
}

void vfmed_mig_ram_put_rec(uint8_t *recs, uint32_t i, uint64_t page, uint32_t kind)
{
	put64(recs + (size_t)i * VFMED_MIG_RAM_REC, page);
	put32(recs + (size_t)i * VFMED_MIG_RAM_REC + 8, kind);
}

/* ---- return path ---------------------------------------------------------------------------- */

size_t vfmed_mig_ret_encode(uint32_t type, const void *payload, uint32_t len, uint8_t *out,
			    size_t cap)
{
	size_t n = VFMED_MIG_RET_HDR + (size_t)len + 4;

	if (len > VFMED_MIG_RET_MAX || cap < n)
		return 0;
	put32(out, type);
	put32(out + 4, len);
	if (len)
		memcpy(out + 8, payload, len);
	put32(out + 8 + len, vfmed_crc32(out, 8 + (size_t)len));
	return n;
}

int vfmed_mig_ret_decode(const uint8_t *buf, size_t len, uint32_t *type, const uint8_t **payload,
			 uint32_t *plen, size_t *used, struct vfmed_mig_why *why)
{
	uint32_t t, l, crc;

	if (len < VFMED_MIG_RET_HDR)
		return -EAGAIN;
	t = get32(buf);
	l = get32(buf + 4);
	if (t < VFMED_MIG_RET_COMPAT_OK || t > VFMED_MIG_RET_ERROR)
		return bad(why, "return path: message type %" PRIu32 " is unknown", t);
	if (l > VFMED_MIG_RET_MAX)
		return bad(why, "return path: message of %" PRIu32 " bytes over the limit %u", l, VFMED_MIG_RET_MAX);
	if (t == VFMED_MIG_RET_COMPAT_OK && l)
		return bad(why, "return path: COMPAT_OK with %" PRIu32 " payload bytes (none expected)", l);
	if (t == VFMED_MIG_RET_CONFIRM && l != 8 && l != 16)
		return bad(why, "return path: CONFIRM with %" PRIu32 " payload bytes (8 or 16 expected)", l);
	if (len < VFMED_MIG_RET_HDR + (size_t)l + 4)
		return -EAGAIN;
	crc = vfmed_crc32(buf, VFMED_MIG_RET_HDR + (size_t)l);
	if (crc != get32(buf + VFMED_MIG_RET_HDR + l))
		return bad(why, "return path: CRC mismatch in a message of type %" PRIu32, t);
	*type = t;
	*payload = buf + VFMED_MIG_RET_HDR;
	*plen = l;
	*used = VFMED_MIG_RET_HDR + (size_t)l + 4;
	return 0;
}

static uint64_t fnv1a64_byte(uint64_t h, uint8_t b)
{
	return (h ^ b) * 0x100000001b3ull;
}

uint64_t vfmed_fnv1a64(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = VFMED_FNV1A64_INIT;

	for (size_t i = 0; i < len; i++)
		h = fnv1a64_byte(h, b[i]);
	return h;
}

uint64_t vfmed_fnv1a64_add_u64(uint64_t h, uint64_t v)
{
	for (unsigned b = 0; b < 8; b++)
		h = fnv1a64_byte(h, (uint8_t)(v >> (8 * b)));
	return h;
}

/* ---- writer ------------------------------------------------------------------------------------ */

int vfmed_mig_tx_init(struct vfmed_mig_tx *tx, int fd, size_t cap)
{
	memset(tx, 0, sizeof(*tx));
	tx->fd = fd;
	tx->buf = malloc(cap);
	tx->cap = cap;
	return tx->buf ? 0 : -ENOMEM;
}

void vfmed_mig_tx_free(struct vfmed_mig_tx *tx)
{
	free(tx->buf);
	tx->buf = NULL;
}

size_t vfmed_mig_tx_pending(const struct vfmed_mig_tx *tx)
{
	return tx->tail - tx->head;
}

static int room(struct vfmed_mig_tx *tx, size_t n)
{
	if (tx->cap - tx->tail >= n)
		return 1;
	if (tx->cap - (tx->tail - tx->head) < n)
		return 0;
	memmove(tx->buf, tx->buf + tx->head, tx->tail - tx->head);
	tx->tail -= tx->head;
	tx->head = 0;
	return 1;
}

int vfmed_mig_tx_fits(struct vfmed_mig_tx *tx, uint64_t payload_len)
{
	return payload_len <= VFMED_MIG_MAX_PAYLOAD && room(tx, VFMED_MIG_SEC_HDR + payload_len + 4);
}

int vfmed_mig_tx_put(struct vfmed_mig_tx *tx, const void *p, size_t len)
{
	if (!room(tx, len))
		return -ENOBUFS;
	memcpy(tx->buf + tx->tail, p, len);
	tx->tail += len;
	tx->queued += len;
	return 0;
}

uint8_t *vfmed_mig_tx_section_begin(struct vfmed_mig_tx *tx, uint32_t type, uint64_t payload_len)
{
	uint8_t *h;

	if (!vfmed_mig_tx_fits(tx, payload_len))
		return NULL;
	h = tx->buf + tx->tail;
	tx->open_at = tx->tail;
	put32(h, type);
	put32(h + 4, 0);
	put64(h + 8, payload_len);
	return h + VFMED_MIG_SEC_HDR;
}

void vfmed_mig_tx_section_end(struct vfmed_mig_tx *tx, uint64_t payload_len)
{
	uint8_t *h = tx->buf + tx->open_at;
	size_t n = VFMED_MIG_SEC_HDR + payload_len;

	put32(h + n, vfmed_crc32(h, n));
	tx->tail = tx->open_at + n + 4;
	tx->queued += n + 4;
}

int vfmed_mig_tx_flush(struct vfmed_mig_tx *tx, size_t max_bytes)
{
	size_t budget = max_bytes ? max_bytes : SIZE_MAX;

	while (tx->head < tx->tail && budget) {
		size_t n = tx->tail - tx->head;
		ssize_t w = send(tx->fd, tx->buf + tx->head, n < budget ? n : budget, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -EAGAIN;
			return -errno;
		}
		tx->head += (size_t)w;
		tx->sent += (uint64_t)w;
		budget -= (size_t)w;
	}
	if (tx->head == tx->tail)
		tx->head = tx->tail = 0;
	return tx->head == tx->tail ? 0 : -EAGAIN;
}

/* ---- receive buffer --------------------------------------------------------------------------------- */

int vfmed_mig_rx_init(struct vfmed_mig_rx *rx, int fd, size_t cap)
{
	memset(rx, 0, sizeof(*rx));
	rx->fd = fd;
	rx->buf = malloc(cap);
	rx->cap = cap;
	return rx->buf ? 0 : -ENOMEM;
}

void vfmed_mig_rx_free(struct vfmed_mig_rx *rx)
{
	free(rx->buf);
	rx->buf = NULL;
}

int vfmed_mig_rx_fill(struct vfmed_mig_rx *rx)
{
	ssize_t n;

	if (rx->head && rx->tail == rx->cap) {
		memmove(rx->buf, rx->buf + rx->head, rx->tail - rx->head);
		rx->tail -= rx->head;
		rx->head = 0;
	}
	if (rx->tail == rx->cap)
		return -ENOBUFS;  /* a unit larger than the buffer: the decoders prevent it */
	do
		n = recv(rx->fd, rx->buf + rx->tail, rx->cap - rx->tail, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	rx->tail += (size_t)n;
	rx->received += (uint64_t)n;
	return (int)n;
}

void vfmed_mig_rx_consume(struct vfmed_mig_rx *rx, size_t n)
{
	rx->head += n;
	if (rx->head == rx->tail)
		rx->head = rx->tail = 0;
}
