/* SPDX-License-Identifier: MIT */
/*
 * selftest-cases.c - hand-encoded MMIO instructions for the decoder self-test (see
 * selftest-cases.h), emitted as file-scope GNU assembly so that every register, operand
 * size, prefix and addressing form appears exactly as chosen, independently of what the
 * compiler happens to generate (selftest-compiled.c covers that side).
 *
 * Case macro arguments, in order:
 *   kind size dsize ext  reg high8  base index scale  window flags  disp off imm  insn...
 * (see struct st_case; 255 = none, 254 = RIP-relative, 253 = absolute moffs).
 *
 * Window 0 is vfmed_st_bar in .bss (reachable RIP-relative), window 1 is a fixed mapping at
 * ST_LOW_WINDOW below 4 GiB (reachable with 32-bit addresses and moffs).
 */
#include <stdint.h>

#include "selftest-cases.h"

#define VIS __attribute__((visibility("hidden"), used))

VIS struct st_gprs vfmed_st_in, vfmed_st_out;
VIS uint64_t vfmed_st_rsp_value;
VIS uint64_t vfmed_st_saved_rsp;
VIS uint64_t vfmed_st_target;
VIS uint8_t vfmed_st_bar[ST_WINDOW_SIZE] __attribute__((aligned(4096)));

__asm__(
"	.pushsection .text.vfmed_st, \"ax\", @progbits\n"

/* ---- record and case macros ---- */
"	.macro STREC kind, size, dsize, ext, reg, high8, base, index, scale, win, flags, disp, off, imm, e, i, x\n"
"	.pushsection vfmed_st_cases, \"aw\"\n"
"	.balign 8\n"
"	.quad \\e, \\i, \\x\n"
"	.byte \\kind, \\size, \\dsize, \\ext, \\reg, \\high8, \\base, \\index, \\scale, \\win, \\flags, 0\n"
"	.long \\disp, \\off, 0\n"
"	.quad \\imm\n"
"	.popsection\n"
"	.endm\n"

"	.macro STCASE kind, size, dsize, ext, reg, high8, base, index, scale, win, flags, disp, off, imm, insn:vararg\n"
".Lste\\@:\n"
"	\\insn\n"
".Lstx\\@:\n"
"	jmp vfmed_st_done\n"
"	STREC \\kind, \\size, \\dsize, \\ext, \\reg, \\high8, \\base, \\index, \\scale, \\win, \\flags, \\disp, \\off, \\imm, .Lste\\@, .Lste\\@, .Lstx\\@\n"
"	.endm\n"

/* RSP as the base register: the snippet swaps RSP for the case and back. */
"	.macro STCASE_RSP kind, size, dsize, ext, reg, high8, base, index, scale, win, flags, disp, off, imm, insn:vararg\n"
".Lste\\@:\n"
"	mov %rsp, vfmed_st_saved_rsp(%rip)\n"
"	mov vfmed_st_rsp_value(%rip), %rsp\n"
".Lsti\\@:\n"
"	\\insn\n"
".Lstx\\@:\n"
"	mov vfmed_st_saved_rsp(%rip), %rsp\n"
"	jmp vfmed_st_done\n"
"	STREC \\kind, \\size, \\dsize, \\ext, \\reg, \\high8, \\base, \\index, \\scale, \\win, \\flags, \\disp, \\off, \\imm, .Lste\\@, .Lsti\\@, .Lstx\\@\n"
"	.endm\n"

/* Every operation with every data register (base RSI, window 0). */
"	.macro REGCASES q, d, w, b, n\n"
"	STCASE 0,1,1,0, \\n,0, 6,255,1, 0,0, 0,0x0C41,0, movb (%rsi), %\\b\n"
"	STCASE 0,2,2,0, \\n,0, 6,255,1, 0,0, 0,0x0802,0, movw (%rsi), %\\w\n"
"	STCASE 0,4,4,0, \\n,0, 6,255,1, 0,0, 0,0x0C40,0, movl (%rsi), %\\d\n"
"	STCASE 0,8,8,0, \\n,0, 6,255,1, 0,0, 0,0x3818,0, movq (%rsi), %\\q\n"
"	STCASE 0,1,2,1, \\n,0, 6,255,1, 0,0, 0,0x1003,0, movzbw (%rsi), %\\w\n"
"	STCASE 0,1,4,1, \\n,0, 6,255,1, 0,0, 0,0x1004,0, movzbl (%rsi), %\\d\n"
"	STCASE 0,1,8,1, \\n,0, 6,255,1, 0,0, 0,0x1005,0, movzbq (%rsi), %\\q\n"
"	STCASE 0,2,4,1, \\n,0, 6,255,1, 0,0, 0,0x1006,0, movzwl (%rsi), %\\d\n"
"	STCASE 0,2,8,1, \\n,0, 6,255,1, 0,0, 0,0x1008,0, movzwq (%rsi), %\\q\n"
"	STCASE 0,1,2,2, \\n,0, 6,255,1, 0,0, 0,0x2001,0, movsbw (%rsi), %\\w\n"
"	STCASE 0,1,4,2, \\n,0, 6,255,1, 0,0, 0,0x2002,0, movsbl (%rsi), %\\d\n"
"	STCASE 0,1,8,2, \\n,0, 6,255,1, 0,0, 0,0x2003,0, movsbq (%rsi), %\\q\n"
"	STCASE 0,2,4,2, \\n,0, 6,255,1, 0,0, 0,0x2004,0, movswl (%rsi), %\\d\n"
"	STCASE 0,2,8,2, \\n,0, 6,255,1, 0,0, 0,0x2006,0, movswq (%rsi), %\\q\n"
"	STCASE 0,4,8,2, \\n,0, 6,255,1, 0,0, 0,0x2008,0, movslq (%rsi), %\\q\n"
"	STCASE 1,1,0,0, \\n,0, 6,255,1, 0,0, 0,0x0808,0, movb %\\b, (%rsi)\n"
"	STCASE 1,2,0,0, \\n,0, 6,255,1, 0,0, 0,0x080A,0, movw %\\w, (%rsi)\n"
"	STCASE 1,4,0,0, \\n,0, 6,255,1, 0,0, 0,0x2818,0, movl %\\d, (%rsi)\n"
"	STCASE 1,8,0,0, \\n,0, 6,255,1, 0,0, 0,0x3818,0, movq %\\q, (%rsi)\n"
"	.endm\n"

/* Every base register and displacement size (destination EDX, or ECX when RDX is the base). */
"	.macro BASECASES q, n, dst, dn\n"
"	STCASE 0,4,4,0, \\dn,0, \\n,255,1, 0,0, 0,0x0808,0, movl (%\\q), %\\dst\n"
"	STCASE 0,4,4,0, \\dn,0, \\n,255,1, 0,0, 0x7c,0x0808,0, movl 0x7c(%\\q), %\\dst\n"
"	STCASE 0,4,4,0, \\dn,0, \\n,255,1, 0,0, -0x80,0x0808,0, movl -0x80(%\\q), %\\dst\n"
"	STCASE 0,4,4,0, \\dn,0, \\n,255,1, 0,0, 0x12345,0x1520,0, movl 0x12345(%\\q), %\\dst\n"
"	STCASE 1,4,0,0, \\dn,0, \\n,255,1, 0,0, -0x5678,0x2818,0, movl %\\dst, -0x5678(%\\q)\n"
"	STCASE 2,4,0,0, 0,0, \\n,255,1, 0,0, 0x40,0x3818,0x1234567, movl $0x1234567, 0x40(%\\q)\n"
"	.endm\n"

/* Every index register and scale, with a base, and without one (SIB base=101, mod=00). */
"	.macro IDXCASES iq, in, bq, bn\n"
"	STCASE 0,4,4,0, 2,0, \\bn,\\in,1, 0,0, 0x10,0x0C40,0, movl 0x10(%\\bq,%\\iq,1), %edx\n"
"	STCASE 0,4,4,0, 2,0, \\bn,\\in,2, 0,0, -0x20,0x0C40,0, movl -0x20(%\\bq,%\\iq,2), %edx\n"
"	STCASE 0,2,2,0, 2,0, \\bn,\\in,4, 0,0, 0,0x0802,0, movw (%\\bq,%\\iq,4), %dx\n"
"	STCASE 1,8,0,0, 2,0, \\bn,\\in,8, 0,0, 0x1000,0x3818,0, movq %rdx, 0x1000(%\\bq,%\\iq,8)\n"
"	STCASE 0,4,4,0, 2,0, 255,\\in,8, 0,0, 0x40,0x0C40,0, movl 0x40(,%\\iq,8), %edx\n"
"	.endm\n"

/* ---- the C-callable runner ---- */
"	.globl vfmed_st_run\n"
"	.hidden vfmed_st_run\n"
"	.type vfmed_st_run, @function\n"
"vfmed_st_run:\n"
"	push %rbx\n	push %rbp\n	push %r12\n	push %r13\n	push %r14\n	push %r15\n"
"	mov %rdi, vfmed_st_target(%rip)\n"
"	mov vfmed_st_in+0(%rip), %rax\n"
"	mov vfmed_st_in+8(%rip), %rcx\n"
"	mov vfmed_st_in+16(%rip), %rdx\n"
"	mov vfmed_st_in+24(%rip), %rbx\n"
"	mov vfmed_st_in+40(%rip), %rbp\n"
"	mov vfmed_st_in+48(%rip), %rsi\n"
"	mov vfmed_st_in+56(%rip), %rdi\n"
"	mov vfmed_st_in+64(%rip), %r8\n"
"	mov vfmed_st_in+72(%rip), %r9\n"
"	mov vfmed_st_in+80(%rip), %r10\n"
"	mov vfmed_st_in+88(%rip), %r11\n"
"	mov vfmed_st_in+96(%rip), %r12\n"
"	mov vfmed_st_in+104(%rip), %r13\n"
"	mov vfmed_st_in+112(%rip), %r14\n"
"	mov vfmed_st_in+120(%rip), %r15\n"
"	jmp *vfmed_st_target(%rip)\n"
"vfmed_st_done:\n"
"	mov %rax, vfmed_st_out+0(%rip)\n"
"	mov %rcx, vfmed_st_out+8(%rip)\n"
"	mov %rdx, vfmed_st_out+16(%rip)\n"
"	mov %rbx, vfmed_st_out+24(%rip)\n"
"	mov %rbp, vfmed_st_out+40(%rip)\n"
"	mov %rsi, vfmed_st_out+48(%rip)\n"
"	mov %rdi, vfmed_st_out+56(%rip)\n"
"	mov %r8, vfmed_st_out+64(%rip)\n"
"	mov %r9, vfmed_st_out+72(%rip)\n"
"	mov %r10, vfmed_st_out+80(%rip)\n"
"	mov %r11, vfmed_st_out+88(%rip)\n"
"	mov %r12, vfmed_st_out+96(%rip)\n"
"	mov %r13, vfmed_st_out+104(%rip)\n"
"	mov %r14, vfmed_st_out+112(%rip)\n"
"	mov %r15, vfmed_st_out+120(%rip)\n"
"	pop %r15\n	pop %r14\n	pop %r13\n	pop %r12\n	pop %rbp\n	pop %rbx\n"
"	ret\n"

"	.globl vfmed_st_undecodable\n"
"	.hidden vfmed_st_undecodable\n"
"	.type vfmed_st_undecodable, @function\n"
"vfmed_st_undecodable:\n"
"	addl $1, (%rdi)\n"
"	ret\n"

/* ---- the cases ---- */
"	REGCASES rax, eax, ax, al, 0\n"
"	REGCASES rcx, ecx, cx, cl, 1\n"
"	REGCASES rdx, edx, dx, dl, 2\n"
"	REGCASES rbx, ebx, bx, bl, 3\n"
"	REGCASES rbp, ebp, bp, bpl, 5\n"
"	REGCASES rsi, esi, si, sil, 6\n"
"	REGCASES rdi, edi, di, dil, 7\n"
"	REGCASES r8, r8d, r8w, r8b, 8\n"
"	REGCASES r9, r9d, r9w, r9b, 9\n"
"	REGCASES r10, r10d, r10w, r10b, 10\n"
"	REGCASES r11, r11d, r11w, r11b, 11\n"
"	REGCASES r12, r12d, r12w, r12b, 12\n"
"	REGCASES r13, r13d, r13w, r13b, 13\n"
"	REGCASES r14, r14d, r14w, r14b, 14\n"
"	REGCASES r15, r15d, r15w, r15b, 15\n"

/* AH/CH/DH/BH (no REX allowed). */
"	STCASE 0,1,1,0, 0,1, 6,255,1, 0,0, 0,0x0C41,0, movb (%rsi), %ah\n"
"	STCASE 0,1,1,0, 1,1, 6,255,1, 0,0, 0,0x0C41,0, movb (%rsi), %ch\n"
"	STCASE 0,1,1,0, 2,1, 6,255,1, 0,0, 0,0x0C41,0, movb (%rsi), %dh\n"
"	STCASE 0,1,1,0, 3,1, 6,255,1, 0,0, 0,0x0C41,0, movb (%rsi), %bh\n"
"	STCASE 1,1,0,0, 0,1, 6,255,1, 0,0, 0,0x0808,0, movb %ah, (%rsi)\n"
"	STCASE 1,1,0,0, 1,1, 6,255,1, 0,0, 0,0x0808,0, movb %ch, (%rsi)\n"
"	STCASE 1,1,0,0, 2,1, 6,255,1, 0,0, 0,0x0808,0, movb %dh, (%rsi)\n"
"	STCASE 1,1,0,0, 3,1, 6,255,1, 0,0, 0,0x0808,0, movb %bh, (%rsi)\n"

/* Immediate stores (C6/C7; imm32 sign-extended to 64 bits with REX.W). */
"	STCASE 2,1,0,0, 0,0, 6,255,1, 0,0, 0,0x0C40,-0x64, movb $0x9c, (%rsi)\n"
"	STCASE 2,2,0,0, 0,0, 6,255,1, 0,0, 0,0x0C42,-0x4111, movw $0xbeef, (%rsi)\n"
"	STCASE 2,4,0,0, 0,0, 6,255,1, 0,0, 0,0x0C40,-0x21524111, movl $0xdeadbeef, (%rsi)\n"
"	STCASE 2,8,0,0, 0,0, 6,255,1, 0,0, 0,0x3818,-0x21524111, movq $-0x21524111, (%rsi)\n"
"	STCASE 2,8,0,0, 0,0, 6,255,1, 0,0, 0,0x3818,0x7fffffff, movq $0x7fffffff, (%rsi)\n"

"	BASECASES rax, 0, edx, 2\n"
"	BASECASES rcx, 1, edx, 2\n"
"	BASECASES rdx, 2, ecx, 1\n"
"	BASECASES rbx, 3, edx, 2\n"
"	BASECASES rbp, 5, edx, 2\n"
"	BASECASES rsi, 6, edx, 2\n"
"	BASECASES rdi, 7, edx, 2\n"
"	BASECASES r8, 8, edx, 2\n"
"	BASECASES r9, 9, edx, 2\n"
"	BASECASES r10, 10, edx, 2\n"
"	BASECASES r11, 11, edx, 2\n"
"	BASECASES r12, 12, edx, 2\n"
"	BASECASES r13, 13, edx, 2\n"
"	BASECASES r14, 14, edx, 2\n"
"	BASECASES r15, 15, edx, 2\n"

"	IDXCASES rax, 0, rbx, 3\n"
"	IDXCASES rcx, 1, rbx, 3\n"
"	IDXCASES rdx, 2, rbx, 3\n"
"	IDXCASES rbx, 3, rcx, 1\n"
"	IDXCASES rbp, 5, rbx, 3\n"
"	IDXCASES rsi, 6, rbx, 3\n"
"	IDXCASES rdi, 7, rbx, 3\n"
"	IDXCASES r8, 8, r13, 13\n"
"	IDXCASES r9, 9, r12, 12\n"
"	IDXCASES r10, 10, rbp, 5\n"
"	IDXCASES r11, 11, rbx, 3\n"
"	IDXCASES r12, 12, rbx, 3\n"
"	IDXCASES r13, 13, rbx, 3\n"
"	IDXCASES r14, 14, rbx, 3\n"
"	IDXCASES r15, 15, rbx, 3\n"

/* RSP as base (needs SIB; the handler runs on the alternate stack). */
"	STCASE_RSP 0,4,4,0, 2,0, 4,255,1, 0,8, 0,0x0C40,0, movl (%rsp), %edx\n"
"	STCASE_RSP 0,4,4,0, 2,0, 4,255,1, 0,8, 8,0x0C40,0, movl 8(%rsp), %edx\n"
"	STCASE_RSP 0,8,8,0, 2,0, 4,255,1, 0,8, 0x100,0x3818,0, movq 0x100(%rsp), %rdx\n"
"	STCASE_RSP 1,4,0,0, 2,0, 4,255,1, 0,8, -8,0x2818,0, movl %edx, -8(%rsp)\n"
"	STCASE_RSP 0,4,4,0, 2,0, 4,1,4, 0,8, 0x10,0x0C40,0, movl 0x10(%rsp,%rcx,4), %edx\n"
"	STCASE_RSP 2,8,0,0, 0,0, 4,255,1, 0,8, 0x18,0x3818,-2, movq $-2, 0x18(%rsp)\n"

/* RIP-relative (the displacement counts from the end of the instruction, after any imm). */
"	STCASE 0,4,4,0, 0,0, 254,255,1, 0,0, 0,0x0C40,0, movl vfmed_st_bar+0x0C40(%rip), %eax\n"
"	STCASE 0,8,8,0, 9,0, 254,255,1, 0,0, 0,0x3818,0, movq vfmed_st_bar+0x3818(%rip), %r9\n"
"	STCASE 1,2,0,0, 10,0, 254,255,1, 0,0, 0,0x2818,0, movw %r10w, vfmed_st_bar+0x2818(%rip)\n"
"	STCASE 2,4,0,0, 0,0, 254,255,1, 0,0, 0,0x3818,-0x76543211, movl $0x89abcdef, vfmed_st_bar+0x3818(%rip)\n"
"	STCASE 2,1,0,0, 0,0, 254,255,1, 0,0, 0,0x0C40,0x5a, movb $0x5a, vfmed_st_bar+0x0C40(%rip)\n"
"	STCASE 2,8,0,0, 0,0, 254,255,1, 0,0, 0,0x1000,-2, movq $-2, vfmed_st_bar+0x1000(%rip)\n"
"	STCASE 2,2,0,0, 0,0, 254,255,1, 0,0, 0,0x0802,0x1234, movw $0x1234, vfmed_st_bar+0x0802(%rip)\n"
"	STCASE 0,2,4,2, 1,0, 254,255,1, 0,0, 0,0x2002,0, movswl vfmed_st_bar+0x2002(%rip), %ecx\n"
"	STCASE 0,1,8,1, 12,0, 254,255,1, 0,0, 0,0x2003,0, movzbq vfmed_st_bar+0x2003(%rip), %r12\n"
"	STCASE 0,4,8,2, 13,0, 254,255,1, 0,0, 0,0x2008,0, movslq vfmed_st_bar+0x2008(%rip), %r13\n"

/* FS/GS overrides: the handler trusts the fault address (no segment base in ucontext). */
"	STCASE 0,4,4,0, 2,0, 6,255,1, 0,1, 0,0x0C40,0, movl %fs:(%rsi), %edx\n"
"	STCASE 1,4,0,0, 2,0, 6,255,1, 0,1, 0x10,0x2818,0, movl %edx, %fs:0x10(%rsi)\n"
"	STCASE 0,8,8,0, 2,0, 6,255,1, 0,2, 0,0x3818,0, movq %gs:(%rsi), %rdx\n"

/* Window 1 (below 4 GiB): moffs forms and 32-bit addressing (67). */
"	STCASE 0,4,4,0, 0,0, 253,255,1, 1,0, 0,0x0C40,0, movabs 0x40000C40, %eax\n"
"	STCASE 0,8,8,0, 0,0, 253,255,1, 1,0, 0,0x3818,0, movabs 0x40003818, %rax\n"
"	STCASE 1,1,0,0, 0,0, 253,255,1, 1,0, 0,0x0808,0, movabs %al, 0x40000808\n"
"	STCASE 1,2,0,0, 0,0, 253,255,1, 1,0, 0,0x080A,0, movabs %ax, 0x4000080A\n"
"	STCASE 0,1,1,0, 0,0, 253,255,1, 1,0, 0,0x0C41,0, movabs 0x40000C41, %al\n"
"	STCASE 0,4,4,0, 0,0, 253,255,1, 1,4, 0,0x0C44,0, .byte 0x67,0xA1,0x44,0x0C,0x00,0x40\n"
"	STCASE 0,4,4,0, 2,0, 6,255,1, 1,4, 0,0x0C40,0, movl (%esi), %edx\n"
"	STCASE 0,4,4,0, 2,0, 3,1,4, 1,4, 0x10,0x0C40,0, movl 0x10(%ebx,%ecx,4), %edx\n"
"	STCASE 2,4,0,0, 0,0, 13,255,1, 1,4, 0x20,0x3818,0x11223344, movl $0x11223344, 0x20(%r13d)\n"

/* Raw encodings: prefix order rules, REX/no-REX byte registers, rare operand sizes. */
"	STCASE 0,2,2,0, 0,0, 6,255,1, 0,0, 0,0x0802,0, .byte 0x48,0x66,0x8B,0x06\n"      /* REX then 66: REX ignored */
"	STCASE 0,8,8,0, 0,0, 6,255,1, 0,0, 0,0x3818,0, .byte 0x66,0x48,0x8B,0x06\n"      /* REX.W beats 66 */
"	STCASE 0,4,4,0, 0,0, 6,255,1, 0,0, 0,0x0C40,0, .byte 0x48,0x2E,0x8B,0x06\n"      /* REX then CS: ignored */
"	STCASE 0,8,8,0, 0,0, 6,255,1, 0,0, 0,0x3818,0, .byte 0x2E,0x48,0x8B,0x06\n"      /* CS then REX.W */
"	STCASE 0,4,4,0, 0,0, 6,255,1, 0,0, 0,0x0C40,0, .byte 0x3E,0x8B,0x06\n"           /* DS override */
"	STCASE 0,8,8,0, 0,0, 6,255,1, 0,0, 0,0x3818,0, .byte 0x41,0x48,0x8B,0x06\n"      /* two REX: last wins */
"	STCASE 0,1,1,0, 7,0, 6,255,1, 0,0, 0,0x0C41,0, .byte 0x40,0x8A,0x3E\n"           /* DIL */
"	STCASE 0,1,1,0, 3,1, 6,255,1, 0,0, 0,0x0C41,0, .byte 0x8A,0x3E\n"                /* BH */
"	STCASE 1,1,0,0, 6,0, 6,255,1, 0,0, 0,0x0808,0, .byte 0x40,0x88,0x36\n"           /* SIL */
"	STCASE 1,1,0,0, 2,1, 6,255,1, 0,0, 0,0x0808,0, .byte 0x88,0x36\n"                /* DH */
"	STCASE 0,2,2,1, 0,0, 6,255,1, 0,0, 0,0x0802,0, .byte 0x66,0x0F,0xB7,0x06\n"      /* movzx r16, m16 */
"	STCASE 0,1,2,2, 0,0, 6,255,1, 0,0, 0,0x0803,0, .byte 0x66,0x0F,0xBE,0x06\n"      /* movsx r16, m8 */
"	STCASE 0,4,4,0, 0,0, 6,255,1, 0,0, 0,0x0C40,0, .byte 0x63,0x06\n"                /* movsxd r32, m32 */
"	STCASE 0,2,2,0, 0,0, 6,255,1, 0,0, 0,0x0802,0, .byte 0x66,0x63,0x06\n"           /* movsxd r16, m16 */
"	STCASE 2,2,0,0, 0,0, 6,255,1, 0,0, 0,0x0802,0x1234, .byte 0x66,0xC7,0x06,0x34,0x12\n"
"	STCASE 2,8,0,0, 0,0, 6,255,1, 0,0, 0,0x3818,-1, .byte 0x48,0xC7,0x06,0xFF,0xFF,0xFF,0xFF\n"
"	STCASE 2,1,0,0, 0,0, 6,255,1, 0,0, 0,0x0C40,0x7f, .byte 0x40,0xC6,0x06,0x7F\n"
"	STCASE 0,4,4,0, 0,0, 6,255,1, 0,0, 0,0x0C41,0, movl (%rsi), %eax\n"              /* unaligned */
"	STCASE 0,8,8,0, 0,0, 6,255,1, 0,0, 0,0x0FFC,0, movq (%rsi), %rax\n"              /* spans pages 0-1 */

"	.popsection\n"
);
