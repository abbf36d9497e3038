/* SPDX-License-Identifier: MIT */
/*
 * selftest-decoder.c - `vfmed-guest selftest-decoder`: proves the MMIO trap path on this
 * very binary.
 *
 *   1. Every hand-encoded case of selftest-cases.c runs twice (memory patterns with the
 *      sign bit clear and set) against PROT_NONE trap windows backed by an in-process
 *      fake register file. Checked per run: the value that reached the fake device (store)
 *      or the destination register (load, with zero/sign extension and partial-register
 *      merge), that every other GPR is untouched, that exactly one device access of the
 *      right offset/size/direction happened, and that RIP advanced by the instruction's
 *      length (the trap record vs. the case's own labels).
 *   2. Compiler-generated volatile accesses (selftest-compiled.c) of every C width and
 *      signedness and the usual addressing shapes.
 *   3. Pure decoder checks on byte strings: refusals, truncation, lengths.
 * Prints one JSON line {"type":"selftest",...}; exit status 0 only if all passed.
 *
 * Modes for the failure paths (the test harness runs them in a child and checks how it
 * dies): --undecodable executes "addl $1,(%rdi)" on a trapped page (must abort naming
 * the bytes); --wild touches a PROT_NONE page outside every window (must die of SIGSEGV).
 */
#define _GNU_SOURCE
#include "selftest.h"

#include <asm/prctl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mmio-trap.h"
#include "selftest-cases.h"
#include "x86-decode.h"

static struct st_fake fakes[2];
static unsigned failures;

static int fake_read(void *ctx, uint64_t off, unsigned size, uint64_t *val)
{
	struct st_fake *f = ctx;
	uint64_t v = 0;

	if (off + size > sizeof(f->mem))
		return -EINVAL;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)f->mem[off + i] << (8 * i);
	*val = v;
	f->calls++;
	f->last_off = off;
	f->last_size = size;
	f->last_write = 0;
	f->last_val = v;
	return 0;
}

static int fake_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct st_fake *f = ctx;

	if (off + size > sizeof(f->mem))
		return -EINVAL;
	for (unsigned i = 0; i < size; i++)
		f->mem[off + i] = (uint8_t)(val >> (8 * i));
	f->calls++;
	f->last_off = off;
	f->last_size = size;
	f->last_write = 1;
	f->last_val = val;
	return 0;
}

void st_fail(const char *fmt, ...)
{
	va_list ap;

	failures++;
	if (failures > 40)
		return;
	va_start(ap, fmt);
	fputs("selftest-decoder: FAIL: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* xorshift64*: deterministic register and memory contents. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static uint64_t mask_of(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* Reference semantics, written independently of x86-decode.c. */
static uint64_t expect_load(const struct st_case *c, uint64_t old, uint64_t mem)
{
	uint64_t v = mem & mask_of(c->size);

	if (c->ext == 2 && (v >> (8 * c->size - 1)) & 1)
		v |= ~mask_of(c->size);
	if (c->high8)
		return (old & ~0xFF00ull) | ((v & 0xFF) << 8);
	if (c->dst_size == 4)
		return v & 0xFFFFFFFFull;
	if (c->dst_size == 8)
		return v;
	return (old & ~mask_of(c->dst_size)) | (v & mask_of(c->dst_size));
}

static uint64_t seg_base(int which)
{
	unsigned long base = 0;
	syscall(SYS_arch_prctl, which == 1 ? ARCH_GET_FS : ARCH_GET_GS, &base);
	return base;
}

static void describe(const struct st_case *c, unsigned idx, char *buf, size_t len)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)c->insn;
	size_t n = (size_t)(c->insn_end - c->insn), o;

	o = (size_t)snprintf(buf, len, "case %u [", idx);
	for (size_t i = 0; i < n && o + 4 < len; i++)
		o += (size_t)snprintf(buf + o, len - o, i ? " %02x" : "%02x", p[i]);
	snprintf(buf + o, len - o, "]");
}

static void run_case(const struct st_case *c, unsigned idx, int negative)
{
	struct st_fake *f = &fakes[c->window];
	uintptr_t win = c->window ? (uintptr_t)ST_LOW_WINDOW : (uintptr_t)vfmed_st_bar;
	uint64_t target = win + c->off, exp_mem = 0, idx_val = 3, base_val;
	struct st_gprs expect;
	struct vfmed_trap_record rec;
	char what[96];

	describe(c, idx, what, sizeof(what));
	for (size_t i = 0; i < sizeof(f->mem); i++) {
		uint8_t b = (uint8_t)rnd();
		f->mem[i] = negative ? (b | 0x80) : (b & 0x7F);
	}
	for (int i = 0; i < 16; i++)
		vfmed_st_in.r[i] = rnd();
	vfmed_st_in.r[4] = 0;

	/* Address registers so that the effective address is target. */
	if (c->base == ST_NONE) {  /* index * scale + disp */
		vfmed_st_in.r[c->index] = (target - (uint64_t)(int64_t)c->disp) / c->scale;
	} else if (c->base < 16) {
		if (c->index != ST_NONE)
			vfmed_st_in.r[c->index] = idx_val;
		base_val = target - (uint64_t)(int64_t)c->disp -
			   (c->index != ST_NONE ? idx_val * c->scale : 0);
		if (c->flags & ST_F_FS)
			base_val -= seg_base(1);
		if (c->flags & ST_F_GS)
			base_val -= seg_base(2);
		if (c->flags & ST_F_ADDR32) {  /* bits 63:32 must not matter */
			base_val = (base_val & 0xFFFFFFFFull) | (rnd() << 32);
			if (c->index != ST_NONE)
				vfmed_st_in.r[c->index] |= rnd() << 32;
		}
		if (c->flags & ST_F_RSP)
			vfmed_st_rsp_value = base_val;
		else
			vfmed_st_in.r[c->base] = base_val;
	}

	expect = vfmed_st_in;
	if (c->kind == ST_LOAD) {
		uint64_t m = 0;
		for (unsigned i = 0; i < c->size; i++)
			m |= (uint64_t)f->mem[c->off + i] << (8 * i);
		expect.r[c->reg] = expect_load(c, vfmed_st_in.r[c->reg], m);
	} else if (c->kind == ST_STORE_REG) {
		uint64_t src = vfmed_st_in.r[c->reg];
		exp_mem = (c->high8 ? src >> 8 : src) & mask_of(c->size);
	} else {
		exp_mem = c->imm & mask_of(c->size);
	}

	fakes[0].calls = fakes[1].calls = 0;
	vfmed_st_run(c->entry);
	vfmed_trap_get_last(&rec);

	for (int i = 0; i < 16; i++) {
		if (i == 4)
			continue;
		if (vfmed_st_out.r[i] != expect.r[i])
			st_fail("%s: gpr %d = %#" PRIx64 ", expected %#" PRIx64, what, i,
				vfmed_st_out.r[i], expect.r[i]);
	}
	if (f->calls != 1 || fakes[!c->window].calls != 0) {
		st_fail("%s: %u device accesses, expected 1", what, f->calls + fakes[!c->window].calls);
		return;
	}
	if (f->last_off != c->off || f->last_size != c->size || f->last_write != (c->kind != ST_LOAD))
		st_fail("%s: device saw %s off %#" PRIx64 " size %u, expected %s off %#x size %u",
			what, f->last_write ? "write" : "read", f->last_off, f->last_size,
			c->kind != ST_LOAD ? "write" : "read", c->off, c->size);
	if (c->kind != ST_LOAD) {
		uint64_t got = 0;
		for (unsigned i = 0; i < c->size; i++)
			got |= (uint64_t)f->mem[c->off + i] << (8 * i);
		if (got != exp_mem || f->last_val != exp_mem)
			st_fail("%s: stored %#" PRIx64 ", expected %#" PRIx64, what, got, exp_mem);
	}
	if (rec.rip != c->insn || rec.len != c->insn_end - c->insn || rec.addr != target)
		st_fail("%s: trap at rip %#" PRIx64 " len %u addr %#" PRIx64
			", expected %#" PRIx64 " len %u addr %#" PRIx64, what, rec.rip, rec.len,
			rec.addr, c->insn, (unsigned)(c->insn_end - c->insn), target);
}

/* ---- pure decoder checks ----------------------------------------------------------- */
struct dec_check {
	const char *name;
	uint8_t bytes[16];
	uint8_t n;
	int rc;        /* expected return */
	uint8_t len;   /* expected length when rc == 0 */
};

static const struct dec_check dec_checks[] = {
	{ "add m32, imm8",         { 0x83, 0x06, 0x01 }, 3, -EILSEQ, 0 },
	{ "cmp m32, imm8",         { 0x83, 0x3E, 0x00 }, 3, -EILSEQ, 0 },
	{ "lock mov",              { 0xF0, 0x89, 0x06 }, 3, -EILSEQ, 0 },
	{ "rep mov",               { 0xF3, 0x8B, 0x06 }, 3, -EILSEQ, 0 },
	{ "mov reg, reg",          { 0x89, 0xC0 }, 2, -EILSEQ, 0 },
	{ "C7 /1",                 { 0xC7, 0x0E, 1, 2, 3, 4 }, 6, -EILSEQ, 0 },
	{ "movnti",                { 0x0F, 0xC3, 0x06 }, 3, -EILSEQ, 0 },
	{ "movups (SSE)",          { 0x0F, 0x10, 0x06 }, 3, -EILSEQ, 0 },
	{ "vex vmovd",             { 0xC5, 0xF9, 0x6E, 0x06 }, 4, -EILSEQ, 0 },
	{ "xchg m32, r32",         { 0x87, 0x06 }, 2, -EILSEQ, 0 },
	{ "16 prefixes",           { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
				     0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x8B, 0x06 }, 16, -EILSEQ, 0 },
	{ "truncated disp32",      { 0x8B, 0x80, 0x00, 0x10 }, 4, -ENODATA, 0 },
	{ "truncated imm32",       { 0xC7, 0x06, 0x01, 0x02 }, 4, -ENODATA, 0 },
	{ "truncated SIB",         { 0x8B, 0x04 }, 2, -ENODATA, 0 },
	{ "14 prefixes + mov",     { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
				     0x66, 0x66, 0x66, 0x66, 0x66, 0x8B, 0x06 }, 15, 0, 15 },
	{ "rip-rel + imm32",       { 0xC7, 0x05, 1, 0, 0, 0, 2, 0, 0, 0 }, 10, 0, 10 },
	{ "sib disp32 no base",    { 0x8B, 0x04, 0x25, 0, 0x10, 0, 0 }, 7, 0, 7 },
	{ "r13 base disp8",        { 0x41, 0x8B, 0x45, 0x00 }, 4, 0, 4 },
};

static void run_decoder_checks(unsigned *n)
{
	for (size_t i = 0; i < sizeof(dec_checks) / sizeof(dec_checks[0]); i++) {
		const struct dec_check *d = &dec_checks[i];
		struct x86_mmio_insn in;
		int rc = vfmed_x86_decode(d->bytes, d->n, &in, NULL);
		(*n)++;
		if (rc != d->rc)
			st_fail("decode '%s': rc %d, expected %d", d->name, rc, d->rc);
		else if (rc == 0 && in.len != d->len)
			st_fail("decode '%s': len %u, expected %u", d->name, in.len, d->len);
	}
}

static int setup_windows(void)
{
	struct vfmed_trap_backend be0 = { fake_read, fake_write, &fakes[0] };
	struct vfmed_trap_backend be1 = { fake_read, fake_write, &fakes[1] };
	void *low;
	int rc;

	rc = vfmed_trap_install();
	if (rc) {
		fprintf(stderr, "selftest-decoder: cannot install the trap handler: %s\n", strerror(-rc));
		return rc;
	}
	if (mprotect(vfmed_st_bar, ST_WINDOW_SIZE, PROT_NONE) < 0) {
		fprintf(stderr, "selftest-decoder: mprotect: %s\n", strerror(errno));
		return -errno;
	}
	low = mmap((void *)(uintptr_t)ST_LOW_WINDOW, ST_WINDOW_SIZE, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (low == MAP_FAILED || low != (void *)(uintptr_t)ST_LOW_WINDOW) {
		fprintf(stderr, "selftest-decoder: cannot map the low window at %#llx: %s\n",
			(unsigned long long)ST_LOW_WINDOW, strerror(errno));
		return -ENOMEM;
	}
	if (vfmed_trap_add_window((uintptr_t)vfmed_st_bar, ST_WINDOW_SIZE, "window0", &be0) != 0 ||
	    vfmed_trap_add_window((uintptr_t)ST_LOW_WINDOW, ST_WINDOW_SIZE, "window1", &be1) != 1) {
		fprintf(stderr, "selftest-decoder: cannot register the trap windows\n");
		return -EINVAL;
	}
	return 0;
}

int vfmed_selftest_decoder(int argc, char **argv)
{
	const struct st_case *c;
	unsigned cases = 0, runs = 0, compiled = 0, decoder = 0;
	int mode = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--undecodable"))
			mode = 1;
		else if (!strcmp(argv[i], "--wild"))
			mode = 2;
		else {
			fprintf(stderr, "selftest-decoder: unknown option '%s' "
				"(expected --undecodable or --wild)\n", argv[i]);
			return 2;
		}
	}
	if (setup_windows())
		return 1;

	if (mode == 1) {
		vfmed_st_undecodable(vfmed_st_bar + 0x3818);
		fprintf(stderr, "selftest-decoder: the undecodable access was not refused\n");
		return 1;
	}
	if (mode == 2) {
		volatile uint32_t *wild = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if ((void *)wild == MAP_FAILED)
			return 1;
		(void)*wild;
		fprintf(stderr, "selftest-decoder: a wild access did not crash\n");
		return 1;
	}

	for (c = __start_vfmed_st_cases; c < __stop_vfmed_st_cases; c++, cases++) {
		run_case(c, cases, 0);
		run_case(c, cases, 1);
		runs += 2;
	}
	compiled = vfmed_selftest_compiled(vfmed_st_bar, &fakes[0]);
	run_decoder_checks(&decoder);

	struct vfmed_trap_stats ts;
	vfmed_trap_get_stats(&ts);
	printf("{\"type\":\"selftest\",\"name\":\"decoder\",\"asm_cases\":%u,\"asm_runs\":%u,"
	       "\"compiled_checks\":%u,\"decoder_checks\":%u,\"traps\":%" PRIu64 ","
	       "\"failures\":%u,\"ok\":%s}\n", cases, runs, compiled, decoder,
	       ts.reads + ts.writes, failures, failures ? "false" : "true");
	fflush(stdout);
	return failures ? 1 : 0;
}
