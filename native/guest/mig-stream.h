/* SPDX-License-Identifier: MIT */
/*
 * mig-stream.h - the live-migration stream of docs/live-migration.md: encoding and
 * validating decoding of the header, the sections and the return-path messages, a buffered
 * non-blocking writer and a receive buffer. Little-endian throughout.
 *
 *   header  "VFMEDMIG" u32 version u32 header_bytes u64 ram_size u64 ram_base
 *           u32 page_size u32 config_bytes config[] u32 crc32(magic..config)
 *   section u32 type u32 flags u64 payload_bytes payload[] u32 crc32(type..payload)
 *   return  u32 type u32 len payload[] u32 crc32(type..payload)
 *
 * header_bytes is the whole header, magic to CRC. Decoders never trust a length before
 * checking it against the limits below, check the CRC before anything is used, and return
 * -EAGAIN when more bytes are needed, -EPROTO with a message naming what was wrong.
 *
 * Writer buffer (linear, compacted when a section does not fit after tail):
 *
 *   0        head               tail               cap
 *   | sent   | queued, not sent | free              |
 */
#ifndef VFMED_GUEST_MIG_STREAM_H
#define VFMED_GUEST_MIG_STREAM_H

#include <stddef.h>
#include <stdint.h>

#define VFMED_MIG_MAGIC        "VFMEDMIG"
#define VFMED_MIG_VERSION      1u
#define VFMED_MIG_PAGE         4096u
#define VFMED_MIG_HDR_FIXED    40u               /* magic .. config_bytes */
#define VFMED_MIG_CONFIG_MAX   1024u
#define VFMED_MIG_SEC_HDR      16u
#define VFMED_MIG_MAX_PAYLOAD  (1048576u + 65536u)
#define VFMED_MIG_RET_HDR      8u
#define VFMED_MIG_RET_MAX      4096u

enum vfmed_mig_sec_type {
	VFMED_MIG_SEC_DEVICE_INITIAL = 1,
	VFMED_MIG_SEC_RAM_PAGES = 2,
	VFMED_MIG_SEC_DEVICE_STATE = 3,
	VFMED_MIG_SEC_RAM_DIGEST = 4,
	VFMED_MIG_SEC_END = 5,
};

enum vfmed_mig_ret_type {
	VFMED_MIG_RET_COMPAT_OK = 1,
	VFMED_MIG_RET_REFUSED = 2,
	VFMED_MIG_RET_CONFIRM = 3,   /* u64 resume time (ns, CLOCK_MONOTONIC) [u64 verify ns] */
	VFMED_MIG_RET_ERROR = 4,
};

/* RAM_PAGES payload: u32 round, u32 count, count x {u64 page_index, u32 kind}, then the
 * data of the kind-0 pages in record order. This writer puts at most 4096 records and 256
 * data pages in a section (8 + 48 KiB + 1 MiB <= VFMED_MIG_MAX_PAYLOAD). */
#define VFMED_MIG_PAGE_DATA    0u
#define VFMED_MIG_PAGE_ZERO    1u
#define VFMED_MIG_RAM_REC      12u
#define VFMED_MIG_RAM_MAX_RECS 4096u
#define VFMED_MIG_RAM_MAX_DATA 256u

struct vfmed_mig_why {
	char msg[256];
};

struct vfmed_mig_header {
	uint32_t version;
	uint64_t ram_size, ram_base;
	uint32_t page_size;
	uint32_t config_len;
	char config[VFMED_MIG_CONFIG_MAX + 1];   /* NUL-terminated copy */
};

struct vfmed_mig_section {
	uint32_t type, flags;
	uint64_t len;
	const uint8_t *payload;
};

struct vfmed_mig_ram {
	uint32_t round, count, ndata;
	const uint8_t *recs;   /* count x 12 bytes */
	const uint8_t *data;   /* ndata x 4096 bytes */
};

const char *vfmed_mig_sec_name(uint32_t type);

/* Header of h into out (cap bytes); returns its length, 0 if it does not fit. */
size_t vfmed_mig_header_encode(const struct vfmed_mig_header *h, uint8_t *out, size_t cap);
int vfmed_mig_header_decode(const uint8_t *buf, size_t len, struct vfmed_mig_header *h,
			    size_t *used, struct vfmed_mig_why *why);

/* One section at buf; s->payload points into buf. Checks type, flags (0), length limit
 * (before waiting for the payload) and CRC. */
int vfmed_mig_section_decode(const uint8_t *buf, size_t len, struct vfmed_mig_section *s,
			     size_t *used, struct vfmed_mig_why *why);
/* The RAM_PAGES payload of s: record count, every index < ram_pages, every kind known,
 * the length exactly 8 + 12 count + 4096 data pages. */
int vfmed_mig_ram_decode(const struct vfmed_mig_section *s, uint64_t ram_pages,
			 struct vfmed_mig_ram *out, struct vfmed_mig_why *why);
void vfmed_mig_ram_rec(const struct vfmed_mig_ram *r, uint32_t i, uint64_t *page, uint32_t *kind);
/* Fills a RAM_PAGES record (for the writer). */
void vfmed_mig_ram_put_rec(uint8_t *recs, uint32_t i, uint64_t page, uint32_t kind);

size_t vfmed_mig_ret_encode(uint32_t type, const void *payload, uint32_t len, uint8_t *out,
			    size_t cap);
int vfmed_mig_ret_decode(const uint8_t *buf, size_t len, uint32_t *type, const uint8_t **payload,
			 uint32_t *plen, size_t *used, struct vfmed_mig_why *why);

/* FNV-1a 64 of one page (RAM_DIGEST) and of a sequence of u64 (the RAM digest): start
 * from VFMED_FNV1A64_INIT and add each page digest's little-endian bytes. */
#define VFMED_FNV1A64_INIT 0xcbf29ce484222325ull
uint64_t vfmed_fnv1a64(const void *p, size_t len);
uint64_t vfmed_fnv1a64_add_u64(uint64_t h, uint64_t v);

/* ---- buffered non-blocking writer ---------------------------------------------------- */
struct vfmed_mig_tx {
	int fd;
	uint8_t *buf;
	size_t cap, head, tail;
	size_t open_at;       /* start of the section being built */
	uint64_t sent;        /* bytes handed to the kernel */
	uint64_t queued;      /* bytes put in the buffer */
};

int vfmed_mig_tx_init(struct vfmed_mig_tx *tx, int fd, size_t cap);
void vfmed_mig_tx_free(struct vfmed_mig_tx *tx);
size_t vfmed_mig_tx_pending(const struct vfmed_mig_tx *tx);
/* Can a section of this payload length be queued now (after compaction)? */
int vfmed_mig_tx_fits(struct vfmed_mig_tx *tx, uint64_t payload_len);
/* Raw bytes (the header). -ENOBUFS when there is no room. */
int vfmed_mig_tx_put(struct vfmed_mig_tx *tx, const void *p, size_t len);
/* Starts a section: writes its header and returns where the payload goes (NULL: no room).
 * section_end adds the CRC; nothing may be put in between. */
uint8_t *vfmed_mig_tx_section_begin(struct vfmed_mig_tx *tx, uint32_t type, uint64_t payload_len);
void vfmed_mig_tx_section_end(struct vfmed_mig_tx *tx, uint64_t payload_len);
/* Sends what it can without blocking: 0 when everything is sent, -EAGAIN when bytes
 * remain, -errno on a socket error. max_bytes bounds this call (0 = no bound). */
int vfmed_mig_tx_flush(struct vfmed_mig_tx *tx, size_t max_bytes);

/* ---- receive buffer ----------------------------------------------------------------- */
struct vfmed_mig_rx {
	int fd;
	uint8_t *buf;
	size_t cap, head, tail;   /* unconsumed bytes are [head, tail) */
	uint64_t received;
};

int vfmed_mig_rx_init(struct vfmed_mig_rx *rx, int fd, size_t cap);
void vfmed_mig_rx_free(struct vfmed_mig_rx *rx);
/* recv()s more (non-blocking socket): bytes read, 0 at EOF, -EAGAIN, -errno. */
int vfmed_mig_rx_fill(struct vfmed_mig_rx *rx);
static inline const uint8_t *vfmed_mig_rx_data(const struct vfmed_mig_rx *rx) { return rx->buf + rx->head; }
static inline size_t vfmed_mig_rx_len(const struct vfmed_mig_rx *rx) { return rx->tail - rx->head; }
void vfmed_mig_rx_consume(struct vfmed_mig_rx *rx, size_t n);

#endif /* VFMED_GUEST_MIG_STREAM_H */
