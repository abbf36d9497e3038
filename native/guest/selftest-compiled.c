/* SPDX-License-Identifier: MIT */
/*
 * selftest-compiled.c - volatile MMIO accesses exactly as a C driver writes them, compiled
 * with the project's flags, executed against a trapped window. Whatever instruction forms
 * the compiler picks (MOV/MOVZX/MOVSX/MOVSXD, immediates, SIB with index registers,
 * displacements, high registers under pressure) must come out right; the expected values
 * are computed from the fake register file directly.
 *
 * The accessors are not inlined nor specialised, so that the address arrives in a register and the compiler
 * cannot fold anything; volatile guarantees one access per expression.
 */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "selftest.h"

/* noipa: no inlining, no constant propagation of the index arguments into clones. */
#if defined(__GNUC__) && !defined(__clang__)
#define NOINLINE __attribute__((noipa))
#else
#define NOINLINE __attribute__((noinline))
#endif

static struct st_fake *F;
static unsigned checks;

static uint64_t mem_le(size_t off, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)F->mem[off + i] << (8 * i);
	return v;
}

static void expect_eq(const char *what, uint64_t got, uint64_t want)
{
	checks++;
	if (got != want)
		st_fail("compiled %s: got %#" PRIx64 ", expected %#" PRIx64, what, got, want);
}

static void expect_calls(const char *what, unsigned before, unsigned n)
{
	checks++;
	if (F->calls - before != n)
		st_fail("compiled %s: %u device accesses, expected %u", what, F->calls - before, n);
}

NOINLINE static uint64_t rd8(volatile uint8_t *p) { return *p; }
NOINLINE static uint64_t rd16(volatile uint16_t *p) { return *p; }
NOINLINE static uint64_t rd32(volatile uint32_t *p) { return *p; }
NOINLINE static uint64_t rd64(volatile uint64_t *p) { return *p; }
NOINLINE static int64_t rds8(volatile int8_t *p) { return *p; }
NOINLINE static int64_t rds16(volatile int16_t *p) { return *p; }
NOINLINE static int64_t rds32(volatile int32_t *p) { return *p; }
NOINLINE static int32_t rds8_32(volatile int8_t *p) { return *p; }
NOINLINE static int32_t rds16_32(volatile int16_t *p) { return *p; }
NOINLINE static uint32_t rdu8_32(volatile uint8_t *p) { return *p; }
NOINLINE static uint16_t rdu16_16(volatile uint16_t *p) { return *p; }

NOINLINE static void wr8(volatile uint8_t *p, uint8_t v) { *p = v; }
NOINLINE static void wr16(volatile uint16_t *p, uint16_t v) { *p = v; }
NOINLINE static void wr32(volatile uint32_t *p, uint32_t v) { *p = v; }
NOINLINE static void wr64(volatile uint64_t *p, uint64_t v) { *p = v; }

/* Indexed forms: base register + index register * scale (+ displacement). */
NOINLINE static uint32_t rd32_idx(volatile uint32_t *b, long i) { return b[i]; }
NOINLINE static uint64_t rd64_idx(volatile uint64_t *b, long i) { return b[i + 2]; }
NOINLINE static uint16_t rd16_idx(volatile uint16_t *b, long i) { return b[i]; }
NOINLINE static void wr32_idx(volatile uint32_t *b, long i, uint32_t v) { b[i] = v; }
NOINLINE static void wr8_idx(volatile uint8_t *b, long i, uint8_t v) { b[i + 7] = v; }

/* Constant stores: C6/C7 immediates, a 64-bit constant through a register. */
NOINLINE static void wrc8(volatile uint8_t *p) { *p = 0xA5; }
NOINLINE static void wrc16(volatile uint16_t *p) { *p = 0xC0DE; }
NOINLINE static void wrc32(volatile uint32_t *p) { *p = 0x04000000; }
NOINLINE static void wrc64s(volatile uint64_t *p) { *p = (uint64_t)-3; }
NOINLINE static void wrc64(volatile uint64_t *p) { *p = 0x123456789ABCDEF0ull; }

/* A register block as a driver declares it. */
struct regblk {
	uint32_t ctrl;
	uint16_t lo;
	uint8_t b2;
	uint8_t b3;
	uint64_t wide;
	uint32_t arr[8];
};

NOINLINE static uint64_t rd_struct(volatile struct regblk *r, int k)
{
	return r->ctrl + r->lo + r->b2 + r->b3 + r->wide + r->arr[k];
}

NOINLINE static void wr_struct(volatile struct regblk *r, int k, uint32_t v)
{
	r->ctrl = v;
	r->lo = (uint16_t)v;
	r->b3 = (uint8_t)(v >> 8);
	r->arr[k] = ~v;
	r->wide = ((uint64_t)v << 32) | k;
}

/* Many live values: the compiler has to use R8-R15 as destinations. */
NOINLINE static uint64_t rd_many(volatile uint32_t *p)
{
	uint64_t a = p[0], b = p[1], c = p[2], d = p[3], e = p[4], f = p[5], g = p[6], h = p[7];
	uint64_t i = p[8], j = p[9], k = p[10], l = p[11], m = p[12], n = p[13];
	return a ^ (b << 1) ^ (c << 2) ^ (d << 3) ^ (e << 4) ^ (f << 5) ^ (g << 6) ^ (h << 7) ^
	       (i << 8) ^ (j << 9) ^ (k << 10) ^ (l << 11) ^ (m << 12) ^ (n << 13);
}

/* Read-modify-write as a driver does it: one load, one store. */
NOINLINE static void rmw_set(volatile uint32_t *p, uint32_t bits) { *p = *p | bits; }

unsigned vfmed_selftest_compiled(uint8_t *bar, struct st_fake *fake)
{
	unsigned before;
	uint64_t want;

	F = fake;
	checks = 0;
	for (size_t i = 0; i < sizeof(F->mem); i++)
		F->mem[i] = (uint8_t)(i * 0x9D + (i >> 8) * 0x31 + 0x85);

	/* Loads, every width and signedness. */
	before = F->calls;
	expect_eq("u8", rd8(bar + 0x0C41), mem_le(0x0C41, 1));
	expect_eq("u16", rd16((volatile uint16_t *)(bar + 0x0802)), mem_le(0x0802, 2));
	expect_eq("u32", rd32((volatile uint32_t *)(bar + 0x0C40)), mem_le(0x0C40, 4));
	expect_eq("u64", rd64((volatile uint64_t *)(bar + 0x3818)), mem_le(0x3818, 8));
	expect_eq("s8", (uint64_t)rds8((volatile int8_t *)(bar + 0x2003)),
		  (uint64_t)(int64_t)(int8_t)mem_le(0x2003, 1));
	expect_eq("s16", (uint64_t)rds16((volatile int16_t *)(bar + 0x2004)),
		  (uint64_t)(int64_t)(int16_t)mem_le(0x2004, 2));
	expect_eq("s32", (uint64_t)rds32((volatile int32_t *)(bar + 0x2008)),
		  (uint64_t)(int64_t)(int32_t)mem_le(0x2008, 4));
	expect_eq("s8->s32", (uint32_t)rds8_32((volatile int8_t *)(bar + 0x2011)),
		  (uint32_t)(int32_t)(int8_t)mem_le(0x2011, 1));
	expect_eq("s16->s32", (uint32_t)rds16_32((volatile int16_t *)(bar + 0x2012)),
		  (uint32_t)(int32_t)(int16_t)mem_le(0x2012, 2));
	expect_eq("u8->u32", rdu8_32(bar + 0x2015), mem_le(0x2015, 1));
	expect_eq("u16->u16", rdu16_16((volatile uint16_t *)(bar + 0x2016)), mem_le(0x2016, 2));
	expect_calls("loads", before, 11);

	/* Stores of variables. */
	before = F->calls;
	wr8(bar + 0x0808, 0xE1);
	expect_eq("wr8", mem_le(0x0808, 1), 0xE1);
	wr16((volatile uint16_t *)(bar + 0x080A), 0xF00D);
	expect_eq("wr16", mem_le(0x080A, 2), 0xF00D);
	wr32((volatile uint32_t *)(bar + 0x3818), 0x8000007F);
	expect_eq("wr32", mem_le(0x3818, 4), 0x8000007F);
	wr64((volatile uint64_t *)(bar + 0x3838), 0xFEDCBA9876543210ull);
	expect_eq("wr64", mem_le(0x3838, 8), 0xFEDCBA9876543210ull);
	expect_calls("stores", before, 4);

	/* Indexed. */
	before = F->calls;
	expect_eq("idx32", rd32_idx((volatile uint32_t *)(bar + 0x2800), 6), mem_le(0x2818, 4));
	expect_eq("idx64", rd64_idx((volatile uint64_t *)(bar + 0x3800), 5), mem_le(0x3838, 8));
	expect_eq("idx16", rd16_idx((volatile uint16_t *)(bar + 0x0800), 0x221), mem_le(0x0C42, 2));
	wr32_idx((volatile uint32_t *)(bar + 0x3800), 6, 0x00000123);
	expect_eq("wr idx32", mem_le(0x3818, 4), 0x123);
	wr8_idx(bar + 0x2800, 0x11, 0x3C);
	expect_eq("wr idx8", mem_le(0x2818, 1), 0x3C);
	expect_calls("indexed", before, 5);

	/* Constants. */
	before = F->calls;
	wrc8(bar + 0x0C40);
	expect_eq("c8", mem_le(0x0C40, 1), 0xA5);
	wrc16((volatile uint16_t *)(bar + 0x0C42));
	expect_eq("c16", mem_le(0x0C42, 2), 0xC0DE);
	wrc32((volatile uint32_t *)(bar + 0x0000));
	expect_eq("c32", mem_le(0x0000, 4), 0x04000000);
	wrc64s((volatile uint64_t *)(bar + 0x1000));
	expect_eq("c64 sign-extended", mem_le(0x1000, 8), (uint64_t)-3);
	wrc64((volatile uint64_t *)(bar + 0x1008));
	expect_eq("c64", mem_le(0x1008, 8), 0x123456789ABCDEF0ull);
	expect_calls("constants", before, 5);

	/* Struct fields (displacements), 6 loads and 5 stores. */
	before = F->calls;
	{
		volatile struct regblk *r = (volatile struct regblk *)(bar + 0x1500);
		want = mem_le(0x1500, 4) + mem_le(0x1504, 2) + mem_le(0x1506, 1) +
		       mem_le(0x1507, 1) + mem_le(0x1508, 8) + mem_le(0x1510 + 4 * 5, 4);
		expect_eq("struct read", rd_struct(r, 5), want);
		wr_struct(r, 3, 0xA1B2C3D4);
		expect_eq("struct ctrl", mem_le(0x1500, 4), 0xA1B2C3D4);
		expect_eq("struct lo", mem_le(0x1504, 2), 0xC3D4);
		expect_eq("struct b3", mem_le(0x1507, 1), 0xC3);
		expect_eq("struct arr", mem_le(0x1510 + 12, 4), (uint32_t)~0xA1B2C3D4u);
		expect_eq("struct wide", mem_le(0x1508, 8), (0xA1B2C3D4ull << 32) | 3);
	}
	expect_calls("struct", before, 11);

	/* Register pressure. */
	before = F->calls;
	want = 0;
	for (unsigned i = 0; i < 14; i++)
		want ^= mem_le(0x2900 + 4 * i, 4) << i;
	expect_eq("many", rd_many((volatile uint32_t *)(bar + 0x2900)), want);
	expect_calls("many", before, 14);

	/* Read-modify-write. */
	before = F->calls;
	want = mem_le(0x3828, 4) | 0x02000000;
	rmw_set((volatile uint32_t *)(bar + 0x3828), 0x02000000);
	expect_eq("rmw", mem_le(0x3828, 4), want);
	expect_calls("rmw", before, 2);

	return checks;
}
