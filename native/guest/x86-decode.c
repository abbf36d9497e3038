/* SPDX-License-Identifier: MIT */
/*
 * x86-decode.c - decoder for the MOV-family instructions that access MMIO (see
 * x86-decode.h for the exact list), written from the Intel SDM vol. 2 encoding rules:
 *
 *   [legacy prefixes] [REX] opcode [ModRM] [SIB] [disp8/disp32] [imm]
 *
 *   ModRM = mod(7:6) reg(5:3) rm(2:0); SIB = scale(7:6) index(5:3) base(2:0)
 *   mod=11          register operand (not a memory access: refused)
 *   rm=100          a SIB byte follows; index=100 (without REX.X) means "no index";
 *                   base=101 with mod=00 means "no base, disp32"
 *   mod=00, rm=101  RIP-relative disp32 (64-bit mode)
 *   mod=01 / 10     disp8 / disp32 follows
 *
 * A REX prefix counts only when it immediately precedes the opcode; a legacy prefix after
 * it cancels it, exactly as on the CPU. Without any REX, 8-bit register numbers 4-7 name
 * AH/CH/DH/BH; with any REX they name SPL/BPL/SIL/DIL.
 */
#include "x86-decode.h"

#include <errno.h>

struct cursor {
	const uint8_t *code;
	size_t avail;
	size_t pos;
	int truncated;
};

static int take(struct cursor *c, uint8_t *b)
{
	if (c->pos >= c->avail || c->pos >= X86_MAX_INSN_LEN) {
		c->truncated = c->pos >= c->avail && c->pos < X86_MAX_INSN_LEN;
		return -1;
	}
	*b = c->code[c->pos++];
	return 0;
}

static int take_le(struct cursor *c, unsigned bytes, uint64_t *v)
{
	uint64_t r = 0;
	for (unsigned i = 0; i < bytes; i++) {
		uint8_t b;
		if (take(c, &b))
			return -1;
		r |= (uint64_t)b << (8 * i);
	}
	*v = r;
	return 0;
}

static int64_t sext(uint64_t v, unsigned bytes)
{
	unsigned shift = 64 - 8 * bytes;
	return bytes >= 8 ? (int64_t)v : (int64_t)(v << shift) >> shift;
}

/* Parses ModRM (+SIB, +displacement) for a memory operand. Returns the reg field
 * extended by REX.R in *reg. */
static int parse_modrm(struct cursor *c, uint8_t rex, struct x86_mmio_insn *in, unsigned *reg)
{
	uint8_t modrm, sib;
	uint64_t d;
	unsigned mod, rm;

	if (take(c, &modrm))
		return -1;
	mod = modrm >> 6;
	rm = modrm & 7;
	*reg = ((modrm >> 3) & 7) | ((rex & 0x4) ? 8 : 0);
	if (mod == 3)
		return -2;  /* register operand: no memory access */

	in->base = -1;
	in->index = -1;
	in->scale = 1;
	in->disp = 0;
	in->rip_rel = 0;

	if (rm == 4) {
		unsigned idx, base;
		if (take(c, &sib))
			return -1;
		in->scale = (uint8_t)(1u << (sib >> 6));
		idx = ((sib >> 3) & 7) | ((rex & 0x2) ? 8 : 0);
		if (idx != X86_RSP)  /* 100 without REX.X: no index */
			in->index = (int8_t)idx;
		base = sib & 7;
		if (base == 5 && mod == 0) {
			if (take_le(c, 4, &d))
				return -1;
			in->disp = sext(d, 4);
		} else {
			in->base = (int8_t)(base | ((rex & 0x1) ? 8 : 0));
		}
	} else if (rm == 5 && mod == 0) {
		if (take_le(c, 4, &d))
			return -1;
		in->disp = sext(d, 4);
		in->rip_rel = 1;
	} else {
		in->base = (int8_t)(rm | ((rex & 0x1) ? 8 : 0));
	}

	if (mod == 1) {
		if (take_le(c, 1, &d))
			return -1;
		in->disp = sext(d, 1);
	} else if (mod == 2) {
		if (take_le(c, 4, &d))
			return -1;
		in->disp = sext(d, 4);
	}
	return 0;
}

/* 8-bit register operand: without REX, 4..7 are AH, CH, DH, BH. */
static void set_reg8(struct x86_mmio_insn *in, unsigned reg, int have_rex)
{
	if (!have_rex && reg >= 4 && reg <= 7) {
		in->reg = (uint8_t)(reg - 4);
		in->reg_high8 = 1;
	} else {
		in->reg = (uint8_t)reg;
		in->reg_high8 = 0;
	}
}

int vfmed_x86_decode(const uint8_t *code, size_t avail, struct x86_mmio_insn *out,
		     size_t *consumed)
{
	struct cursor c = { .code = code, .avail = avail };
	struct x86_mmio_insn in = { 0 };
	uint8_t b, rex = 0, op, op2;
	int have_rex = 0, opsize16 = 0, rc;
	unsigned reg, vsize;
	uint64_t v;

	/* Prefixes. */
	for (;;) {
		if (take(&c, &b))
			goto short_or_bad;
		if (b >= 0x40 && b <= 0x4F) {
			rex = b;       /* a later REX replaces an earlier one */
			have_rex = 1;
			continue;
		}
		switch (b) {
		case 0x66: opsize16 = 1; break;
		case 0x67: in.addr32 = 1; break;
		case 0x26: case 0x2E: case 0x36: case 0x3E: in.seg = X86_SEG_NONE; break;
		case 0x64: in.seg = X86_SEG_FS; break;
		case 0x65: in.seg = X86_SEG_GS; break;
		case 0xF0: case 0xF2: case 0xF3:
			goto bad;  /* LOCK / REP: never part of an MMIO MOV */
		default:
			goto opcode;
		}
		/* A legacy prefix after REX cancels the REX. */
		rex = 0;
		have_rex = 0;
	}

opcode:
	op = b;
	vsize = (rex & 0x8) ? 8 : (opsize16 ? 2 : 4);

	switch (op) {
	case 0x88:  /* MOV r/m8, r8 */
	case 0x8A:  /* MOV r8, r/m8 */
		rc = parse_modrm(&c, rex, &in, &reg);
		if (rc)
			goto modrm_fail;
		set_reg8(&in, reg, have_rex);
		in.size = 1;
		in.dst_size = 1;
		in.is_store = op == 0x88;
		break;
	case 0x89:  /* MOV r/m, r */
	case 0x8B:  /* MOV r, r/m */
		rc = parse_modrm(&c, rex, &in, &reg);
		if (rc)
			goto modrm_fail;
		in.reg = (uint8_t)reg;
		in.size = (uint8_t)vsize;
		in.dst_size = (uint8_t)vsize;
		in.is_store = op == 0x89;
		break;
	case 0x63:  /* MOVSXD r, r/m32 (REX.W); 16/32-bit forms are plain moves */
		rc = parse_modrm(&c, rex, &in, &reg);
		if (rc)
			goto modrm_fail;
		in.reg = (uint8_t)reg;
		in.dst_size = (uint8_t)vsize;
		in.size = vsize == 2 ? 2 : 4;
		in.ext = vsize == 8 ? X86_EXT_SIGN : X86_EXT_NONE;
		break;
	case 0xC6:  /* MOV r/m8, imm8 */
	case 0xC7:  /* MOV r/m, imm16/imm32 */
		rc = parse_modrm(&c, rex, &in, &reg);
		if (rc)
			goto modrm_fail;
		if ((reg & 7) != 0)
			goto bad;  /* /0 only (C6 F8 / C7 F8 are XABORT/XBEGIN, register forms) */
		in.is_store = 1;
		in.has_imm = 1;
		in.size = op == 0xC6 ? 1 : (uint8_t)vsize;
		{
			unsigned isz = in.size == 8 ? 4 : in.size;
			if (take_le(&c, isz, &v))
				goto short_or_bad;
			in.imm = (uint64_t)sext(v, isz);
		}
		break;
	case 0xA0: case 0xA1:  /* MOV AL/rAX, moffs */
	case 0xA2: case 0xA3:  /* MOV moffs, AL/rAX */
		if (take_le(&c, in.addr32 ? 4 : 8, &v))
			goto short_or_bad;
		in.moffs = 1;
		in.base = -1;
		in.index = -1;
		in.scale = 1;
		in.disp = (int64_t)v;
		in.reg = X86_RAX;
		in.size = (op & 1) ? (uint8_t)vsize : 1;
		in.dst_size = in.size;
		in.is_store = op >= 0xA2;
		break;
	case 0x0F:
		if (take(&c, &op2))
			goto short_or_bad;
		if (op2 != 0xB6 && op2 != 0xB7 && op2 != 0xBE && op2 != 0xBF)
			goto bad;
		rc = parse_modrm(&c, rex, &in, &reg);
		if (rc)
			goto modrm_fail;
		in.reg = (uint8_t)reg;
		in.size = (op2 & 1) ? 2 : 1;
		in.dst_size = (uint8_t)vsize;
		in.ext = (op2 & 0x8) ? X86_EXT_SIGN : X86_EXT_ZERO;
		break;
	default:
		goto bad;
	}

	in.len = (uint8_t)c.pos;
	*out = in;
	if (consumed)
		*consumed = c.pos;
	return 0;

modrm_fail:
	if (rc == -2)
		goto bad;
short_or_bad:
	if (consumed)
		*consumed = c.pos;
	return c.truncated ? -ENODATA : -EILSEQ;
bad:
	if (consumed)
		*consumed = c.pos;
	return -EILSEQ;
}

uint64_t vfmed_x86_effective_addr(const struct x86_mmio_insn *in, const uint64_t gpr[16],
				  uint64_t rip)
{
	uint64_t ea;

	if (in->moffs)
		ea = (uint64_t)in->disp;
	else if (in->rip_rel)
		ea = rip + in->len + (uint64_t)in->disp;
	else {
		ea = (uint64_t)in->disp;
		if (in->base >= 0)
			ea += gpr[in->base];
		if (in->index >= 0)
			ea += gpr[in->index] * in->scale;
	}
	if (in->addr32)
		ea &= 0xFFFFFFFFull;
	return ea;
}

static uint64_t mask_bytes(unsigned bytes)
{
	return bytes >= 8 ? ~0ull : ((1ull << (8 * bytes)) - 1);
}

uint64_t vfmed_x86_load_result(const struct x86_mmio_insn *in, uint64_t old_reg, uint64_t mem)
{
	uint64_t v = mem & mask_bytes(in->size);

	if (in->ext == X86_EXT_SIGN)
		v = (uint64_t)sext(v, in->size);

	if (in->reg_high8)
		return (old_reg & ~0xFF00ull) | ((v & 0xFF) << 8);
	switch (in->dst_size) {
	case 1: return (old_reg & ~0xFFull) | (v & 0xFF);
	case 2: return (old_reg & ~0xFFFFull) | (v & 0xFFFF);
	case 4: return v & 0xFFFFFFFFull;  /* a 32-bit write zeroes bits 63:32 */
	default: return v;
	}
}

uint64_t vfmed_x86_store_value(const struct x86_mmio_insn *in, uint64_t src_reg)
{
	if (in->has_imm)
		return in->imm & mask_bytes(in->size);
	if (in->reg_high8)
		return (src_reg >> 8) & 0xFF;
	return src_reg & mask_bytes(in->size);
}
