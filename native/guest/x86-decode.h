/* SPDX-License-Identifier: MIT */
/*
 * x86-decode.h - decoder for the x86-64 instructions a compiler emits for volatile MMIO
 * loads and stores, used by the MMIO trap (mmio-trap.c) to emulate a faulting access the
 * way a VMM emulates an MMIO exit.
 *
 * Decoded forms (64-bit mode only):
 *   88 /r  MOV r/m8, r8          89 /r  MOV r/m16/32/64, r      (stores)
 *   8A /r  MOV r8, r/m8          8B /r  MOV r16/32/64, r/m      (loads)
 *   C6 /0  MOV r/m8, imm8        C7 /0  MOV r/m16/32/64, imm16/32 (imm32 sign-extended)
 *   0F B6/B7 MOVZX r, r/m8/16    0F BE/BF MOVSX r, r/m8/16
 *   63 /r  MOVSXD r64, r/m32 (and its 16/32-bit operand-size forms)
 *   A0-A3  MOV AL/rAX <-> moffs (absolute 64-bit or, with 67, 32-bit address)
 * with prefixes 66 (operand size), 67 (address size), REX (only when it immediately
 * precedes the opcode, as the CPU treats it), the null segment overrides 26/2E/36/3E and
 * FS/GS (64/65), and every ModRM/SIB/disp8/disp32/RIP-relative addressing form.
 * LOCK, REP/REPNE, VEX/EVEX and every other opcode are refused (-EILSEQ).
 *
 * Pure functions: no globals, no libc calls, usable from a signal handler.
 */
#ifndef VFMED_GUEST_X86_DECODE_H
#define VFMED_GUEST_X86_DECODE_H

#include <stddef.h>
#include <stdint.h>

#define X86_MAX_INSN_LEN 15u

/* General-purpose register numbers as encoded (REX bit << 3 | 3-bit field). */
enum x86_gpr {
	X86_RAX = 0, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
	X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
	X86_NUM_GPRS
};

enum x86_ext {
	X86_EXT_NONE = 0,  /* destination is as wide as the access */
	X86_EXT_ZERO = 1,  /* MOVZX */
	X86_EXT_SIGN = 2,  /* MOVSX, MOVSXD */
};

enum x86_seg {
	X86_SEG_NONE = 0,  /* no override, or a null override (ES/CS/SS/DS) */
	X86_SEG_FS = 4,
	X86_SEG_GS = 5,
};

struct x86_mmio_insn {
	uint8_t len;        /* instruction length in bytes */
	uint8_t is_store;   /* 1: memory is written, 0: memory is read */
	uint8_t size;       /* bytes accessed in memory: 1, 2, 4 or 8 */
	uint8_t dst_size;   /* load: width of the destination register write: 1, 2, 4, 8 */
	uint8_t ext;        /* load: enum x86_ext */
	uint8_t reg;        /* load destination / store source GPR (enum x86_gpr) */
	uint8_t reg_high8;  /* reg is AH/CH/DH/BH: bits 15:8 of GPR reg (0..3) */
	uint8_t has_imm;    /* store of an immediate (C6/C7) */
	uint64_t imm;       /* the immediate, sign-extended to 64 bits */

	/* Addressing. */
	uint8_t seg;        /* enum x86_seg */
	uint8_t addr32;     /* 67 prefix: 32-bit effective address */
	uint8_t rip_rel;    /* disp is relative to the next instruction */
	uint8_t moffs;      /* A0-A3: disp holds the absolute address */
	int8_t base;        /* GPR or -1 */
	int8_t index;       /* GPR or -1 */
	uint8_t scale;      /* 1, 2, 4, 8 */
	int64_t disp;
};

/*
 * Decodes the instruction at code[0..avail). Returns 0 and fills *out, -EILSEQ if the
 * bytes are not one of the forms above (including register-only forms, which cannot have
 * faulted on memory), or -ENODATA if the instruction needs more than avail bytes.
 * *consumed (may be NULL) receives how many bytes were examined, for error reporting.
 */
int vfmed_x86_decode(const uint8_t *code, size_t avail, struct x86_mmio_insn *out,
		     size_t *consumed);

/* Effective address, without any FS/GS segment base. gpr[] is indexed by enum x86_gpr;
 * rip is the address of the instruction itself. */
uint64_t vfmed_x86_effective_addr(const struct x86_mmio_insn *in, const uint64_t gpr[16],
				  uint64_t rip);

/* New value of the destination GPR of a load, given its old value and the bytes read
 * (little-endian, in the low in->size bytes of mem): extension, partial-register merge for
 * 8/16-bit destinations and zeroing of bits 63:32 for 32-bit destinations. */
uint64_t vfmed_x86_load_result(const struct x86_mmio_insn *in, uint64_t old_reg, uint64_t mem);

/* Value a store writes (low in->size bytes are meaningful), given the source GPR value. */
uint64_t vfmed_x86_store_value(const struct x86_mmio_insn *in, uint64_t src_reg);

#endif /* VFMED_GUEST_X86_DECODE_H */
