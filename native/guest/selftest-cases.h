/* SPDX-License-Identifier: MIT */
/*
 * selftest-cases.h - the table of hand-encoded MMIO instructions the decoder self-test
 * executes (selftest-cases.c emits them with file-scope assembly), and the harness
 * entry points they need.
 *
 * Each case is a snippet "[setup] insn [teardown] jmp done". vfmed_st_run() loads every
 * GPR except RSP from vfmed_st_in, jumps to the snippet, and on "done" stores every GPR
 * into vfmed_st_out. The record says what the instruction must do, so the harness can
 * compute the expected registers and device access independently of the decoder.
 */
#ifndef VFMED_GUEST_SELFTEST_CASES_H
#define VFMED_GUEST_SELFTEST_CASES_H

#include <assert.h>
#include <stdint.h>

enum st_kind { ST_LOAD = 0, ST_STORE_REG = 1, ST_STORE_IMM = 2 };

#define ST_NONE   255  /* base/index: not used */
#define ST_RIP    254  /* base: RIP-relative to the window-0 symbol */
#define ST_MOFFS  253  /* base: absolute moffs address (window 1) */

#define ST_F_FS      0x01  /* FS segment override: address register holds ea - fs_base */
#define ST_F_GS      0x02  /* GS segment override */
#define ST_F_ADDR32  0x04  /* 67 prefix: bits 63:32 of address registers are ignored */
#define ST_F_RSP     0x08  /* base is RSP, loaded from vfmed_st_rsp_value by the snippet */

struct st_case {
	uint64_t entry;      /* snippet start */
	uint64_t insn;       /* tested instruction start */
	uint64_t insn_end;   /* one past it */
	uint8_t kind;        /* enum st_kind */
	uint8_t size;        /* memory access bytes */
	uint8_t dst_size;    /* load: destination register width */
	uint8_t ext;         /* load: 0 none, 1 zero, 2 sign */
	uint8_t reg;         /* load destination / store source GPR */
	uint8_t high8;       /* reg is AH/CH/DH/BH of GPR reg */
	uint8_t base;        /* GPR, ST_NONE, ST_RIP, ST_MOFFS */
	uint8_t index;       /* GPR or ST_NONE */
	uint8_t scale;
	uint8_t window;      /* 0: vfmed_st_bar (.bss), 1: fixed low mapping */
	uint8_t flags;       /* ST_F_* */
	uint8_t pad;
	int32_t disp;
	uint32_t off;        /* target offset inside the window */
	uint32_t reserved;
	uint64_t imm;        /* store immediate, sign-extended */
};
static_assert(sizeof(struct st_case) == 56, "matches the .quad/.byte/.long layout in asm");

struct st_gprs {
	uint64_t r[16];      /* indexed by enum x86_gpr; r[4] (RSP) unused */
};

#define ST_WINDOW_SIZE   0x4000u
#define ST_LOW_WINDOW    0x40000000ull  /* fixed address of window 1 (below 4 GiB) */

extern struct st_gprs vfmed_st_in, vfmed_st_out;
extern uint64_t vfmed_st_rsp_value;
extern uint8_t vfmed_st_bar[ST_WINDOW_SIZE];
extern const struct st_case __start_vfmed_st_cases[], __stop_vfmed_st_cases[];
void vfmed_st_run(uint64_t entry);
/* Runs "addl $1, (%rdi)": an instruction the decoder must refuse. */
void vfmed_st_undecodable(volatile void *p);

#endif /* VFMED_GUEST_SELFTEST_CASES_H */
