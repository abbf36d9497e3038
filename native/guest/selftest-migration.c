/* SPDX-License-Identifier: MIT */
/*
 * selftest-migration.c - table-driven checks of the live-migration pieces that the
 * end-to-end tests only reach with well-formed input (part of `vfmed-guest
 * selftest-units`): the stream codec against every single-byte corruption of a header and
 * a section, lengths over the limits (rejected before the payload arrives), malformed
 * RAM_PAGES records and return-path messages; the monitor request parser and the
 * `migrate` parameters; and the mprotect dirty tracker, including the EFAULT hazard of a
 * syscall writing into write-protected RAM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "json-req.h"
#include "mig-live.h"
#include "mig-stream.h"
#include "mmio-trap.h"
#include "ram-dirty.h"
#include "selftest.h"

static unsigned *n_checks, *n_fails;

#define CHECK(cond, ...)                                         \
	do {                                                     \
		(*n_checks)++;                                   \
		if (!(cond)) {                                   \
			(*n_fails)++;                            \
			fprintf(stderr, "selftest-migration: FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);            \
			fputc('\n', stderr);                     \
		}                                                \
	} while (0)

static void test_header(void)
{
	struct vfmed_mig_header h = { .version = VFMED_MIG_VERSION, .ram_size = 1 << 20, .ram_base = 0x100000,
				      .page_size = 4096, .config_len = 11 }, out;
	struct vfmed_mig_why why;
	uint8_t b[256];
	size_t n, used = 0;
	unsigned rejected = 0;

	memcpy(h.config, "workload=xy", 11);
	n = vfmed_mig_header_encode(&h, b, sizeof(b));
	CHECK(n == 40 + 11 + 4, "header length %zu", n);
	CHECK(vfmed_mig_header_decode(b, n, &out, &used, &why) == 0 && used == n &&
	      out.ram_size == h.ram_size && out.ram_base == h.ram_base && !strcmp(out.config, "workload=xy"),
	      "header round trip");
	for (size_t k = 0; k < n; k++)
		CHECK(vfmed_mig_header_decode(b, k, &out, &used, &why) == -EAGAIN, "prefix %zu wants more", k);
	/* Every single-byte corruption is rejected (CRC, or a field check before it). */
	for (size_t i = 0; i < n; i++) {
		b[i] ^= 0x20;
		int rc = vfmed_mig_header_decode(b, n, &out, &used, &why);
		rejected += rc == -EPROTO || (rc == -EAGAIN && i >= 12 && i < 16);  /* a larger header_bytes waits */
		b[i] ^= 0x20;
	}
	CHECK(rejected == n, "%u of %zu header corruptions rejected", rejected, n);
	b[0] = 'X';
	CHECK(vfmed_mig_header_decode(b, 3, &out, &used, &why) == -EPROTO && strstr(why.msg, "magic"),
	      "bad magic is judged from its first bytes: %s", why.msg);
	b[0] = 'V';
	b[8] = 2;
	CHECK(vfmed_mig_header_decode(b, n, &out, &used, &why) == -EPROTO && strstr(why.msg, "version 2"),
	      "version named: %s", why.msg);
	b[8] = 1;
	b[44] ^= 1;
	CHECK(vfmed_mig_header_decode(b, n, &out, &used, &why) == -EPROTO && strstr(why.msg, "CRC"),
	      "config corruption is a CRC mismatch: %s", why.msg);
	b[44] ^= 1;
	h.page_size = 8192;
	n = vfmed_mig_header_encode(&h, b, sizeof(b));
	CHECK(vfmed_mig_header_decode(b, n, &out, &used, &why) == -EPROTO && strstr(why.msg, "page size"),
	      "page size named: %s", why.msg);
	h.config_len = VFMED_MIG_CONFIG_MAX + 1;
	CHECK(vfmed_mig_header_encode(&h, b, sizeof(b)) == 0, "oversized config not encoded");
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* A RAM_PAGES section of 3 records (data, zero, data) in a writer; returns its bytes. */
static size_t ram_section(struct vfmed_mig_tx *tx, uint8_t **start)
{
	uint64_t len = 8 + 3 * 12 + 2 * 4096;
	uint8_t *p;

	tx->head = tx->tail = 0;
	p = vfmed_mig_tx_section_begin(tx, VFMED_MIG_SEC_RAM_PAGES, len);
	put32(p, 7);
	put32(p + 4, 3);
	vfmed_mig_ram_put_rec(p + 8, 0, 5, VFMED_MIG_PAGE_DATA);
	vfmed_mig_ram_put_rec(p + 8, 1, 6, VFMED_MIG_PAGE_ZERO);
	vfmed_mig_ram_put_rec(p + 8, 2, 9, VFMED_MIG_PAGE_DATA);
	memset(p + 44, 0xA5, 2 * 4096);
	vfmed_mig_tx_section_end(tx, len);
	*start = tx->buf;
	return tx->tail;
}

static void test_sections(void)
{
	struct vfmed_mig_tx tx;
	struct vfmed_mig_section s;
	struct vfmed_mig_ram ram;
	struct vfmed_mig_why why;
	uint8_t *b, raw[64];
	size_t n, used;
	unsigned rejected = 0;
	uint64_t page;
	uint32_t kind;

	if (vfmed_mig_tx_init(&tx, -1, 1 << 20)) {
		CHECK(0, "no memory");
		return;
	}
	n = ram_section(&tx, &b);
	CHECK(vfmed_mig_section_decode(b, n, &s, &used, &why) == 0 && used == n && s.type == VFMED_MIG_SEC_RAM_PAGES,
	      "section round trip");
	CHECK(vfmed_mig_ram_decode(&s, 16, &ram, &why) == 0 && ram.round == 7 && ram.count == 3 && ram.ndata == 2,
	      "RAM_PAGES decode: %s", why.msg);
	vfmed_mig_ram_rec(&ram, 1, &page, &kind);
	CHECK(page == 6 && kind == VFMED_MIG_PAGE_ZERO, "record 1");
	CHECK(vfmed_mig_ram_decode(&s, 9, &ram, &why) == -EPROTO && strstr(why.msg, "page 9 beyond RAM"),
	      "a page beyond RAM is named: %s", why.msg);
	CHECK(vfmed_mig_section_decode(b, n - 1, &s, &used, &why) == -EAGAIN, "one byte short waits");
	/* Flip one bit at a time across header, records and data: every flip is caught. */
	for (size_t i = 0; i < n; i += (i < 64 ? 1 : 509)) {
		int rc;
		b[i] ^= 0x01;
		rc = vfmed_mig_section_decode(b, n, &s, &used, &why);
		rejected += rc == -EPROTO || (rc == -EAGAIN && i >= 8 && i < 16);
		if (!rc)
			CHECK(0, "flip at %zu accepted", i);
		b[i] ^= 0x01;
	}
	CHECK(rejected > 0, "corruptions rejected");
	b[100] ^= 0x80;
	CHECK(vfmed_mig_section_decode(b, n, &s, &used, &why) == -EPROTO && strstr(why.msg, "RAM_PAGES section") &&
	      strstr(why.msg, "CRC mismatch"), "CRC message names the section: %s", why.msg);
	b[100] ^= 0x80;

	/* Lengths and types are judged from the 16-byte header alone. */
	memset(raw, 0, sizeof(raw));
	put32(raw, VFMED_MIG_SEC_DEVICE_STATE);
	put64(raw + 8, (uint64_t)VFMED_MIG_MAX_PAYLOAD + 1);
	CHECK(vfmed_mig_section_decode(raw, 16, &s, &used, &why) == -EPROTO && strstr(why.msg, "over the limit"),
	      "oversized payload refused before it arrives: %s", why.msg);
	put64(raw + 8, 1ull << 62);
	CHECK(vfmed_mig_section_decode(raw, 16, &s, &used, &why) == -EPROTO, "huge payload_bytes refused");
	put32(raw, 9);
	put64(raw + 8, 0);
	CHECK(vfmed_mig_section_decode(raw, 16, &s, &used, &why) == -EPROTO && strstr(why.msg, "type 9"),
	      "unknown type named: %s", why.msg);
	put32(raw, VFMED_MIG_SEC_END);
	put32(raw + 4, 1);
	CHECK(vfmed_mig_section_decode(raw, 20, &s, &used, &why) == -EPROTO && strstr(why.msg, "flags"),
	      "unknown flags refused: %s", why.msg);

	/* RAM_PAGES payloads that lie about themselves (CRC correct, content wrong). */
	{
		struct vfmed_mig_section f = { .type = VFMED_MIG_SEC_RAM_PAGES };
		uint8_t pl[8 + 12 + 4096];
		put32(pl, 0);
		put32(pl + 4, 1);
		vfmed_mig_ram_put_rec(pl + 8, 0, 1, 2);
		f.payload = pl;
		f.len = 8 + 12;
		CHECK(vfmed_mig_ram_decode(&f, 4, &ram, &why) == -EPROTO && strstr(why.msg, "unknown kind 2"),
		      "unknown kind: %s", why.msg);
		vfmed_mig_ram_put_rec(pl + 8, 0, 1, VFMED_MIG_PAGE_DATA);
		CHECK(vfmed_mig_ram_decode(&f, 4, &ram, &why) == -EPROTO && strstr(why.msg, "expected 4116"),
		      "data page missing: %s", why.msg);
		put32(pl + 4, 0x20000000);
		CHECK(vfmed_mig_ram_decode(&f, 4, &ram, &why) == -EPROTO && strstr(why.msg, "do not fit"),
		      "record count overflow: %s", why.msg);
		f.len = 4;
		CHECK(vfmed_mig_ram_decode(&f, 4, &ram, &why) == -EPROTO, "short RAM_PAGES");
	}
	vfmed_mig_tx_free(&tx);
}

static void test_return_path(void)
{
	uint8_t b[64];
	struct vfmed_mig_why why;
	const uint8_t *pl;
	uint32_t type, len;
	size_t n, used;
	uint64_t c[2] = { 123, 4 };

	n = vfmed_mig_ret_encode(VFMED_MIG_RET_CONFIRM, c, 16, b, sizeof(b));
	CHECK(vfmed_mig_ret_decode(b, n, &type, &pl, &len, &used, &why) == 0 && type == VFMED_MIG_RET_CONFIRM &&
	      len == 16 && used == n, "CONFIRM round trip");
	b[9] ^= 4;
	CHECK(vfmed_mig_ret_decode(b, n, &type, &pl, &len, &used, &why) == -EPROTO && strstr(why.msg, "CRC"),
	      "return-path CRC: %s", why.msg);
	n = vfmed_mig_ret_encode(VFMED_MIG_RET_CONFIRM, c, 3, b, sizeof(b));
	CHECK(vfmed_mig_ret_decode(b, n, &type, &pl, &len, &used, &why) == -EPROTO && strstr(why.msg, "CONFIRM"),
	      "CONFIRM of 3 bytes: %s", why.msg);
	put32(b, 77);
	CHECK(vfmed_mig_ret_decode(b, 8, &type, &pl, &len, &used, &why) == -EPROTO && strstr(why.msg, "type 77"),
	      "unknown return message: %s", why.msg);
	put32(b, VFMED_MIG_RET_ERROR);
	put32(b + 4, 1u << 20);
	CHECK(vfmed_mig_ret_decode(b, 8, &type, &pl, &len, &used, &why) == -EPROTO && strstr(why.msg, "limit"),
	      "oversized ERROR text: %s", why.msg);
}

static int parse(const char *s, struct vfmed_live_params *p, char *why, size_t cap)
{
	static struct vfmed_jreq req;
	const char *w = NULL;

	if (vfmed_jreq_parse(s, strlen(s), &req, &w)) {
		snprintf(why, cap, "json: %s", w);
		return -EINVAL;
	}
	return vfmed_live_parse_params(&req, p, why, cap);
}

static void test_requests(void)
{
	static struct vfmed_jreq req;
	struct vfmed_live_params p;
	const char *w = NULL;
	char why[256];
	static const char *const bad_json[] = {
		"", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":01}", "{\"a\":\"x}", "{\"a\":tru}",
		"{\"a\":1} x", "{\"a\":\"\\q\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\x01\"}",
		"{\"a\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}", "{\"a\":-}", "{\"a\":1.}",
	};

	static const char ok[] = "{\"cmd\":\"migrate\",\"x\":{\"y\":[1,2,{}]},\"s\":\"\\u00e9\\n\"}";
	CHECK(vfmed_jreq_parse(ok, strlen(ok), &req, &w) == 0 &&
	      req.n == 3 && vfmed_jreq_get(&req, "x")->type == VFMED_JV_COMPOSITE &&
	      !strcmp(vfmed_jreq_get(&req, "s")->str, "\xc3\xa9\n"), "valid request: %s", w ? w : "");
	for (size_t i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++) {
		w = NULL;
		CHECK(vfmed_jreq_parse(bad_json[i], strlen(bad_json[i]), &req, &w) == -EINVAL && w,
		      "invalid JSON #%zu accepted", i);
	}
	CHECK(parse("{\"cmd\":\"migrate\",\"to\":\"10.0.0.2:4444\"}", &p, why, sizeof(why)) == 0 &&
	      !strcmp(p.host, "10.0.0.2") && !strcmp(p.port, "4444") && p.downtime_limit_ms == 300 &&
	      p.max_rounds == 30 && p.timeout_ms == 30000 && !p.verify_ram && p.tracker == 0 && !p.tracker_given,
	      "defaults: %s", why);
	CHECK(parse("{\"cmd\":\"migrate\",\"to\":\"[::1]:9\",\"dirty_tracking\":\"all\",\"verify_ram\":true,"
		    "\"max_bandwidth\":1000000,\"max_rounds\":2}", &p, why, sizeof(why)) == 0 &&
	      !strcmp(p.host, "::1") && p.tracker == 2 && p.tracker_given && p.verify_ram &&
	      p.max_bandwidth == 1000000 && p.max_rounds == 2, "all fields: %s", why);
	CHECK(parse("{\"cmd\":\"migrate\"}", &p, why, sizeof(why)) == -EINVAL && strstr(why, "\"to\""), "missing to");
	CHECK(parse("{\"cmd\":\"migrate\",\"to\":\"host\"}", &p, why, sizeof(why)) == -EINVAL, "to without port");
	CHECK(parse("{\"cmd\":\"migrate\",\"to\":\"h:70000\"}", &p, why, sizeof(why)) == -EINVAL, "port range");
	CHECK(parse("{\"cmd\":\"migrate\",\"to\":\"h:1\",\"max_rounds\":0}", &p, why, sizeof(why)) == -EINVAL &&
	      strstr(why, "max_rounds"), "max_rounds 0: %s", why);
	CHECK(parse("{\"cmd\":\"migrate\",\"to\":\"h:1\",\"timeout_ms\":1.5}", &p, why, sizeof(why)) == -EINVAL,
	      "fractional timeout");
	CHECK(parse("{\"cmd\":\"migrate\",\"to\":\"h:1\",\"downtime_limit_ms\":-1}", &p, why, sizeof(why)) == -EINVAL,
	      "negative limit");
	CHECK(parse("{\"cmd\":\"migrate\",\"to\":\"h:1\",\"dirty_tracking\":\"dirty\"}", &p, why, sizeof(why)) == -EINVAL &&
	      strstr(why, "'dirty'"), "bad tracker: %s", why);
	CHECK(parse("{\"cmd\":\"migrate\",\"to\":\"h:1\",\"verify_ram\":1}", &p, why, sizeof(why)) == -EINVAL,
	      "verify_ram not a bool");
	CHECK(parse("{\"cmd\":\"migrate\",\"to\":\"h:1\",\"downtime_limt_ms\":5}", &p, why, sizeof(why)) == -EINVAL &&
	      strstr(why, "downtime_limt_ms"), "misspelt member named: %s", why);
}

static void test_dirty(void)
{
	const size_t pages = 64;
	uint8_t *ram = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct vfmed_ram_dirty d;
	uint64_t out[1] = { 0 };
	int fds[2];

	if (ram == MAP_FAILED || vfmed_trap_install() || vfmed_ram_dirty_init(&d, ram, pages * 4096) ||
	    pipe(fds)) {
		CHECK(0, "dirty tracker setup");
		return;
	}
	CHECK(vfmed_ram_dirty_start(&d) == 0, "start");
	ram[3 * 4096 + 17] = 1;               /* faults, marked, store re-executed */
	ram[10 * 4096] = 2;
	ram[10 * 4096 + 1] = 3;               /* already writable: no second fault */
	CHECK(ram[3 * 4096 + 17] == 1 && ram[10 * 4096 + 1] == 3, "stores landed");
	CHECK(d.faults == 2, "two faults, got %llu", (unsigned long long)d.faults);
	CHECK(vfmed_ram_dirty_take(&d, out) == 2 && out[0] == ((1ull << 3) | (1ull << 10)), "take: %#llx",
	      (unsigned long long)out[0]);
	out[0] = 0;
	ram[3 * 4096] = 4;                    /* protected again after the take */
	CHECK(d.faults == 3 && vfmed_ram_dirty_take(&d, out) == 1 && out[0] == 1ull << 3, "re-protected");
	/* A syscall writing into protected RAM fails with EFAULT unless prepared. */
	out[0] = 0;
	CHECK(write(fds[1], "abcd", 4) == 4 && read(fds[0], ram + 20 * 4096, 4) < 0 && errno == EFAULT,
	      "read() into write-protected RAM is EFAULT (the hazard exists)");
	vfmed_ram_dirty_prepare_write(ram + 20 * 4096 + 4090, 10);   /* spans pages 20 and 21 */
	CHECK(read(fds[0], ram + 20 * 4096 + 4090, 4) == 4 && !memcmp(ram + 20 * 4096 + 4090, "abcd", 4),
	      "prepared: read() lands");
	CHECK(vfmed_ram_dirty_take(&d, out) == 2 && out[0] == ((1ull << 20) | (1ull << 21)), "prepared pages are dirty");
	vfmed_ram_dirty_prepare_write(ram + pages * 4096, 4096);     /* outside RAM: ignored */
	CHECK(vfmed_ram_dirty_stop(&d) == 0, "stop");
	ram[40 * 4096] = 5;                   /* writable, no fault, not tracked */
	CHECK(d.faults == 3 + 0 && !vfmed_ram_dirty_fault((uintptr_t)ram), "stopped: no tracking");
	vfmed_ram_dirty_free(&d);
	close(fds[0]);
	close(fds[1]);
	munmap(ram, pages * 4096);
}

void vfmed_selftest_migration(unsigned *checks, unsigned *fails)
{
	n_checks = checks;
	n_fails = fails;
	test_header();
	test_sections();
	test_return_path();
	test_requests();
	test_dirty();
}
