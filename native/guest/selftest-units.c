/* SPDX-License-Identifier: MIT */
/*
 * selftest-units.c - `vfmed-guest selftest-units`: table-driven checks of the pure parts of
 * the runner that the end-to-end tests only reach with well-formed input: the
 * GET_REGION_INFO reply validator, the VERSION capability parser, sequence accounting,
 * the frame tag, the ARP/ICMP responder, and the live-migration pieces
 * (selftest-migration.c). Prints one JSON line; exit 0 only if all pass.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "frame-tag.h"
#include "json-caps.h"
#include "net-echo.h"
#include "region-info.h"
#include "selftest.h"
#include "seq-check.h"
#include "vfio-user-proto.h"

static unsigned checks, fails;

#define CHECK(cond, ...)                                         \
	do {                                                     \
		checks++;                                        \
		if (!(cond)) {                                   \
			fails++;                                 \
			fprintf(stderr, "selftest-units: FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);            \
			fputc('\n', stderr);                     \
		}                                                \
	} while (0)

/* ---- region info ------------------------------------------------------------------- */

struct ri_buf {
	uint8_t b[512];
	uint32_t len;
};

static void ri_init(struct ri_buf *r, uint32_t flags, uint64_t size, uint64_t offset, uint32_t cap_off)
{
	struct vfu_region_info ri = { .argsz = 32, .flags = flags, .index = 0, .cap_offset = cap_off,
				      .size = size, .offset = offset };
	memset(r, 0, sizeof(*r));
	memcpy(r->b, &ri, sizeof(ri));
	r->len = 32;
}

static void ri_sparse(struct ri_buf *r, uint32_t at, uint16_t version, uint32_t next,
		      uint32_t nr, const uint64_t (*areas)[2])
{
	struct vfu_cap_sparse_mmap c = { .header = { VFU_REGION_CAP_SPARSE_MMAP, version, next },
					 .nr_areas = nr };
	memcpy(r->b + at, &c, sizeof(c));
	for (uint32_t i = 0; i < nr; i++) {
		struct vfu_sparse_mmap_area a = { areas[i][0], areas[i][1] };
		memcpy(r->b + at + sizeof(c) + i * sizeof(a), &a, sizeof(a));
	}
	if (at + sizeof(c) + nr * 16 > r->len)
		r->len = (uint32_t)(at + sizeof(c) + nr * 16);
}

static void test_region_info(void)
{
	const uint32_t ALL = VFU_REGION_F_READ | VFU_REGION_F_WRITE | VFU_REGION_F_MMAP | VFU_REGION_F_CAPS;
	static const uint64_t q23[][2] = { { 0x2000, 0x2000 } };
	static const uint64_t two[][2] = { { 0x2000, 0x1000 }, { 0x3000, 0x1000 } };
	static const uint64_t odd[][2] = { { 0x2000, 0x800 }, { 0x3000, 0x1000 } };
	static const uint64_t out[][2] = { { 0x3000, 0x2000 } };
	struct vfmed_region_layout l;
	struct ri_buf r;
	const char *why;
	int rc;

	ri_init(&r, ALL, 0x4000, 0, 32);
	ri_sparse(&r, 32, 1, 0, 1, q23);
	rc = vfmed_region_layout_parse(r.b, r.len, 0, &l, &why);
	CHECK(rc == 0 && l.sparse && l.nr_areas == 1 && l.areas[0].offset == 0x2000 &&
	      l.areas[0].size == 0x2000, "pages 2-3 sparse area (rc %d %s)", rc, why ? why : "");

	ri_init(&r, ALL, 0x4000, 0x10000, 32);
	ri_sparse(&r, 32, 1, 0, 2, two);
	rc = vfmed_region_layout_parse(r.b, r.len, 0, &l, &why);
	CHECK(rc == 0 && l.nr_areas == 2 && l.offset == 0x10000, "two areas, mmap offset kept");

	ri_init(&r, ALL, 0x4000, 0, 32);
	ri_sparse(&r, 32, 1, 0, 2, odd);
	rc = vfmed_region_layout_parse(r.b, r.len, 0, &l, &why);
	CHECK(rc == 0 && l.nr_areas == 1 && l.ignored == 1, "sub-page area ignored (stays trapped)");

	ri_init(&r, ALL, 0x4000, 0, 32);
	ri_sparse(&r, 32, 1, 0, 0, NULL);
	rc = vfmed_region_layout_parse(r.b, r.len, 0, &l, &why);
	CHECK(rc == 0 && l.sparse && l.nr_areas == 0, "empty sparse list: nothing mappable");

	ri_init(&r, VFU_REGION_F_READ | VFU_REGION_F_WRITE | VFU_REGION_F_MMAP, 0x4000, 0, 0);
	rc = vfmed_region_layout_parse(r.b, r.len, 0, &l, &why);
	CHECK(rc == 0 && l.nr_areas == 1 && l.areas[0].size == 0x4000, "MMAP without caps: whole region");

	ri_init(&r, VFU_REGION_F_READ | VFU_REGION_F_WRITE | VFU_REGION_F_CAPS, 0x4000, 0, 32);
	ri_sparse(&r, 32, 1, 0, 1, q23);
	rc = vfmed_region_layout_parse(r.b, r.len, 0, &l, &why);
	CHECK(rc == 0 && l.nr_areas == 0, "sparse areas without MMAP are not mappable");

	/* Refusals. */
	ri_init(&r, ALL, 0x4000, 0, 32);
	ri_sparse(&r, 32, 1, 32, 1, q23);  /* next points to itself */
	CHECK(vfmed_region_layout_parse(r.b, r.len, 0, &l, &why) == -EPROTO, "capability loop");

	ri_init(&r, ALL, 0x4000, 0, 400);
	CHECK(vfmed_region_layout_parse(r.b, 64, 0, &l, &why) == -EPROTO, "cap_offset past the reply");

	ri_init(&r, ALL, 0x4000, 0, 36);
	CHECK(vfmed_region_layout_parse(r.b, 64, 0, &l, &why) == -EPROTO, "misaligned cap_offset");

	ri_init(&r, ALL, 0x4000, 0, 32);
	ri_sparse(&r, 32, 2, 0, 1, q23);
	CHECK(vfmed_region_layout_parse(r.b, r.len, 0, &l, &why) == -EPROTO, "sparse cap version 2");

	ri_init(&r, ALL, 0x4000, 0, 32);
	ri_sparse(&r, 32, 1, 0, 1, out);
	CHECK(vfmed_region_layout_parse(r.b, r.len, 0, &l, &why) == -EPROTO, "area outside the region");

	ri_init(&r, ALL, 0x4000, 0, 32);
	ri_sparse(&r, 32, 1, 0, 1, q23);
	{
		uint32_t big = 0x10000000;  /* nr_areas far beyond the payload */
		memcpy(r.b + 32 + 8, &big, 4);
	}
	CHECK(vfmed_region_layout_parse(r.b, r.len, 0, &l, &why) == -EPROTO, "nr_areas past the reply");

	ri_init(&r, ALL, 0x4000, 0, 32);
	ri_sparse(&r, 32, 1, 48, 1, q23);
	ri_sparse(&r, 48, 1, 0, 1, q23);
	CHECK(vfmed_region_layout_parse(r.b, r.len, 0, &l, &why) == -EPROTO, "two sparse caps");

	ri_init(&r, ALL, 0x4000, 0x800, 32);
	ri_sparse(&r, 32, 1, 0, 1, q23);
	CHECK(vfmed_region_layout_parse(r.b, r.len, 0, &l, &why) == -EPROTO, "unaligned mmap offset");

	ri_init(&r, ALL, 0x4000, 0, 0);
	CHECK(vfmed_region_layout_parse(r.b, 31, 0, &l, &why) == -EPROTO, "short reply");
	CHECK(vfmed_region_layout_parse(r.b, 32, 3, &l, &why) == -EPROTO, "other index");
}

/* ---- JSON capabilities ----------------------------------------------------------------- */

static int caps(const char *s, struct vfu_caps *c)
{
	const char *why;
	return vfmed_json_parse_caps(s, strlen(s), c, &why);
}

static void test_json(void)
{
	struct vfu_caps c;

	CHECK(caps("{\"capabilities\":{\"max_msg_fds\":8,\"max_data_xfer_size\":1048576,"
		   "\"migration\":{\"pgsize\":4096},\"pgsizes\":4096,\"max_dma_maps\":65535,"
		   "\"twin_socket\":{\"supported\":false},\"write_multiple\":true}}", &c) == 0 &&
	      c.max_msg_fds == 8 && c.max_data_xfer_size == 1048576 && c.mig_pgsize == 4096 &&
	      c.pgsizes == 4096 && c.max_dma_maps == 65535 && !c.twin_socket_supported &&
	      c.write_multiple, "full capability object");
	CHECK(caps(" { } ", &c) == 0 && !c.has_max_msg_fds, "empty object");
	CHECK(caps("{\"capabilities\":{}}", &c) == 0, "empty capabilities");
	CHECK(caps("{\"other\":[1,2.5e3,\"x\\u00e9\",null,true,{\"max_msg_fds\":\"no\"}],"
		   "\"capabilities\":{\"vendor\":{\"x\":[{}]},\"max_msg_fds\":3}}", &c) == 0 &&
	      c.max_msg_fds == 3, "unknown members of any type are ignored");
	CHECK(caps("{\"capabilities\":{\"max_msg_fds\":-1}}", &c) == -EINVAL, "negative");
	CHECK(caps("{\"capabilities\":{\"max_msg_fds\":1.5}}", &c) == -EINVAL, "fraction");
	CHECK(caps("{\"capabilities\":{\"max_msg_fds\":\"8\"}}", &c) == -EINVAL, "string number");
	CHECK(caps("{\"capabilities\":{\"max_msg_fds\":99999999999999999999}}", &c) == -EINVAL, "overflow");
	CHECK(caps("{\"capabilities\":3}", &c) == -EINVAL, "capabilities not an object");
	CHECK(caps("{\"capabilities\":{\"migration\":[]}}", &c) == -EINVAL, "migration not an object");
	CHECK(caps("{\"capabilities\":{\"twin_socket\":{\"supported\":1}}}", &c) == -EINVAL, "non-boolean");
	CHECK(caps("{\"capabilities\":{}} x", &c) == -EINVAL, "trailing garbage");
	CHECK(caps("{\"capabilities\":{\"a\":1,}}", &c) == -EINVAL, "trailing comma");
	CHECK(caps("{\"capabilities\":{\"a\":\"x}}", &c) == -EINVAL, "unterminated string");
	CHECK(caps("{\"a\":\"\x01\"}", &c) == -EINVAL, "control character");
	CHECK(caps("[1]", &c) == -EINVAL, "not an object");
	CHECK(caps("{\"a\":01}", &c) == -EINVAL, "leading zero");
	{
		char deep[200];
		size_t n = 0;
		n += (size_t)sprintf(deep, "{\"a\":");
		for (int i = 0; i < 40; i++)
			deep[n++] = '[';
		for (int i = 0; i < 40; i++)
			deep[n++] = ']';
		deep[n++] = '}';
		deep[n] = 0;
		CHECK(caps(deep, &c) == -EINVAL, "nesting limit");
	}
}

/* ---- sequence accounting ------------------------------------------------------------ */

static void test_seq(void)
{
	struct vfmed_seq_stream s;

	vfmed_seq_start(&s, 0);
	for (uint64_t i = 0; i < 100; i++)
		vfmed_seq_account(&s, i);
	CHECK(s.received == 100 && !s.lost && !s.duplicated && !s.reordered, "in order");

	vfmed_seq_start(&s, 0);
	uint64_t seqs[] = { 0, 1, 3, 2, 2, 5, 7, 6, 6, 4 };
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
		vfmed_seq_account(&s, seqs[i]);
	CHECK(s.received == 8 && s.lost == 0 && s.duplicated == 2 && s.reordered == 3,
	      "gap filled late: received %llu lost %llu dup %llu reord %llu",
	      (unsigned long long)s.received, (unsigned long long)s.lost,
	      (unsigned long long)s.duplicated, (unsigned long long)s.reordered);

	vfmed_seq_start(&s, 0);
	vfmed_seq_account(&s, 10);
	CHECK(s.lost == 10, "initial loss counted when starting at 0");
	vfmed_seq_finish(&s, 15);
	CHECK(s.lost == 14, "tail loss at finish");

	memset(&s, 0, sizeof(s));
	vfmed_seq_account(&s, 1000);
	CHECK(s.lost == 0 && s.next == 1001, "auto start at the first sequence");

	vfmed_seq_start(&s, 0);
	vfmed_seq_account(&s, 0);
	vfmed_seq_account(&s, 5000);  /* jump beyond the window */
	vfmed_seq_account(&s, 0);     /* far behind: stale, not a duplicate */
	vfmed_seq_account(&s, 5001 - VFMED_SEQ_WINDOW);  /* oldest in window, never seen */
	CHECK(s.stale == 1 && s.reordered == 1 && s.lost == 4998,
	      "window edges: stale %llu reord %llu lost %llu", (unsigned long long)s.stale,
	      (unsigned long long)s.reordered, (unsigned long long)s.lost);

	vfmed_seq_start(&s, 0);
	for (uint64_t i = 0; i < 3 * VFMED_SEQ_WINDOW; i++)
		vfmed_seq_account(&s, i);
	vfmed_seq_account(&s, 3 * VFMED_SEQ_WINDOW - 5);
	CHECK(s.duplicated == 1 && s.stale == 0, "duplicate detected after the window wrapped");
}

/* ---- frame tag and echo ------------------------------------------------------------------ */

static void test_frames(void)
{
	static const uint8_t a[6] = { 2, 0, 0, 0, 0, 1 }, b[6] = { 2, 0, 0, 0, 0, 2 };
	uint8_t f[1514], out[1514];
	struct vfmed_tag t;
	uint16_t n;

	for (uint16_t len = VFMED_FRAME_MIN; len <= VFMED_FRAME_MAX; len = (uint16_t)(len * 3 / 2)) {
		vfmed_frame_generate(f, len, a, b, 3, 0x123456789ull + len);
		CHECK(vfmed_frame_check(f, len, &t) == VFMED_TAG_OK && t.stream == 3 &&
		      t.seq == 0x123456789ull + len, "tag round trip at %u bytes", len);
	}
	vfmed_frame_generate(f, 100, a, b, 0, 7);
	memcpy(f, b, 6);  /* MAC rewrite by a forwarder keeps the tag valid */
	CHECK(vfmed_frame_check(f, 100, &t) == VFMED_TAG_OK, "MAC rewrite");
	f[40] ^= 1;
	CHECK(vfmed_frame_check(f, 100, &t) == VFMED_TAG_CORRUPT, "payload bit flip");
	f[40] ^= 1;
	CHECK(vfmed_frame_check(f, 99, &t) != VFMED_TAG_OK, "truncated frame");
	memset(f, 0x5A, sizeof(f));
	CHECK(vfmed_frame_check(f, 100, &t) == VFMED_TAG_NONE, "untagged");
	CHECK(vfmed_crc32("123456789", 9) == 0xCBF43926u, "CRC-32 check value");

	/* ARP request for 10.0.0.1 from 02:..:02 / 10.0.0.2. */
	static const uint8_t arp[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 2, 0x08, 0x06,
		0, 1, 0x08, 0x00, 6, 4, 0, 1, 2, 0, 0, 0, 0, 2, 10, 0, 0, 2,
		0, 0, 0, 0, 0, 0, 10, 0, 0, 1,
	};
	uint32_t ip = 0x0100000A;  /* 10.0.0.1, network order on little-endian */
	CHECK(vfmed_echo_reply(arp, 42, a, ip, out, sizeof(out), &n) == VFMED_ECHO_ARP && n == 60 &&
	      !memcmp(out, b, 6) && out[21] == 2, "ARP reply");
	CHECK(vfmed_echo_reply(arp, 41, a, ip, out, sizeof(out), &n) == VFMED_ECHO_NONE, "short ARP");
	CHECK(vfmed_echo_reply(arp, 42, a, 0x0200000A, out, sizeof(out), &n) == VFMED_ECHO_NONE,
	      "ARP for another address");

	/* ICMP echo request 10.0.0.2 -> 10.0.0.1. */
	uint8_t icmp[14 + 20 + 16] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00,
				       0x45, 0, 0, 36, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
				       8, 0, 0, 0, 0x12, 0x34, 0, 1, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h' };
	uint16_t c = vfmed_inet_csum(icmp + 14, 20);
	icmp[24] = (uint8_t)(c >> 8);
	icmp[25] = (uint8_t)c;
	c = vfmed_inet_csum(icmp + 34, 16);
	icmp[36] = (uint8_t)(c >> 8);
	icmp[37] = (uint8_t)c;
	CHECK(vfmed_echo_reply(icmp, sizeof(icmp), a, ip, out, sizeof(out), &n) == VFMED_ECHO_ICMP &&
	      n == 60 && out[34] == 0 && vfmed_inet_csum(out + 14, 20) == 0 &&
	      vfmed_inet_csum(out + 34, 16) == 0 && !memcmp(out + 42, "abcdefgh", 8), "ICMP reply");
	icmp[2 + 14] = 0x10;  /* total length beyond the frame */
	CHECK(vfmed_echo_reply(icmp, sizeof(icmp), a, ip, out, sizeof(out), &n) == VFMED_ECHO_NONE,
	      "IPv4 total length beyond the frame");
	icmp[2 + 14] = 0;
	icmp[20] = 0x20;  /* MF: a fragment */
	CHECK(vfmed_echo_reply(icmp, sizeof(icmp), a, ip, out, sizeof(out), &n) == VFMED_ECHO_NONE,
	      "fragment");
	icmp[20] = 0;
	CHECK(vfmed_echo_reply(icmp, sizeof(icmp), b, ip, out, sizeof(out), &n) == VFMED_ECHO_NONE,
	      "ICMP to another MAC");
}

int vfmed_selftest_units(void)
{
	test_region_info();
	test_json();
	test_seq();
	test_frames();
	vfmed_selftest_migration(&checks, &fails);
	printf("{\"type\":\"selftest\",\"name\":\"units\",\"checks\":%u,\"failures\":%u,\"ok\":%s}\n",
	       checks, fails, fails ? "false" : "true");
	fflush(stdout);
	return fails ? 1 : 0;
}
