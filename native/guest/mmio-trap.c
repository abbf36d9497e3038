/* SPDX-License-Identifier: MIT */
/*
 * mmio-trap.c - SIGSEGV-based MMIO emulation for trap windows (see mmio-trap.h).
 *
 * Handler flow for a fault at address A with RIP = R:
 *   0. A write fault in write-protected guest RAM (migration dirty tracking, ram-dirty.h):
 *      mark the page, make it writable, return: the store re-executes.
 *   1. A inside a registered window and si_code == SEGV_ACCERR (the page is PROT_NONE)?
 *      Otherwise: restore SIG_DFL and re-raise -> ordinary crash with a core.
 *   2. Decode the bytes at R. Undecodable: print them and abort().
 *   3. Compute the effective address from the saved registers and check it covers A
 *      (catches a decoder error instead of emulating the wrong access). FS/GS-relative
 *      forms are trusted to A since the segment base is not in the ucontext.
 *   4. Read the source register or immediate (store) / call the backend (load), merge the
 *      loaded value into the destination register, RIP += length.
 */
#define _GNU_SOURCE
#include "mmio-trap.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "ram-dirty.h"
#include "sigsafe.h"
#include "x86-decode.h"

struct trap_window {
	uintptr_t base;
	size_t size;
	const char *name;
	struct vfmed_trap_backend be;
	int used;
};

static struct trap_window windows[VFMED_TRAP_MAX_WINDOWS];
static struct vfmed_trap_stats stats;
static struct vfmed_trap_record last;
static int installed;
static void *altstack;

#define ALTSTACK_SIZE (64 * 1024)

/* enum x86_gpr -> index in mcontext gregs. */
static const int gpr_to_greg[X86_NUM_GPRS] = {
	[X86_RAX] = REG_RAX, [X86_RCX] = REG_RCX, [X86_RDX] = REG_RDX, [X86_RBX] = REG_RBX,
	[X86_RSP] = REG_RSP, [X86_RBP] = REG_RBP, [X86_RSI] = REG_RSI, [X86_RDI] = REG_RDI,
	[X86_R8] = REG_R8,   [X86_R9] = REG_R9,   [X86_R10] = REG_R10, [X86_R11] = REG_R11,
	[X86_R12] = REG_R12, [X86_R13] = REG_R13, [X86_R14] = REG_R14, [X86_R15] = REG_R15,
};

static void reraise_default(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	/* Pending until the handler returns (SIGSEGV is blocked in it), then fatal. A real
	 * fault would also recur on the re-executed instruction. */
	raise(SIGSEGV);
}

static struct trap_window *find_window(uintptr_t a, int *id)
{
	for (int i = 0; i < VFMED_TRAP_MAX_WINDOWS; i++) {
		if (windows[i].used && a >= windows[i].base && a - windows[i].base < windows[i].size) {
			*id = i;
			return &windows[i];
		}
	}
	return NULL;
}

static __attribute__((noreturn)) void fatal_insn(const char *why, const struct trap_window *w,
						 uintptr_t addr, uintptr_t rip,
						 const uint8_t *bytes, size_t n)
{
	struct sigsafe_buf b = { .len = 0 };

	sigsafe_str(&b, "vfmed-guest: MMIO trap: ");
	sigsafe_str(&b, why);
	sigsafe_str(&b, " at rip ");
	sigsafe_hex(&b, rip);
	sigsafe_str(&b, " accessing ");
	sigsafe_str(&b, w->name);
	sigsafe_str(&b, "+");
	sigsafe_hex(&b, addr - w->base);
	sigsafe_str(&b, "; instruction bytes:");
	for (size_t i = 0; i < n; i++) {
		sigsafe_str(&b, " ");
		sigsafe_hexbyte(&b, bytes[i]);
	}
	sigsafe_str(&b, "\n");
	sigsafe_flush(&b, 2);
	abort();
}

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	uintptr_t addr = (uintptr_t)si->si_addr;
	uintptr_t rip = (uintptr_t)g[REG_RIP];
	struct trap_window *w;
	struct x86_mmio_insn in;
	uint8_t bytes[X86_MAX_INSN_LEN];
	size_t avail, consumed = 0, page_left;
	uint64_t gpr[X86_NUM_GPRS], ea, off, val = 0;
	int id, wid, rc, saved_errno = errno;

	(void)sig;
	/* A store to write-protected guest RAM while migration tracks dirty pages: marked and
	 * made writable again; returning re-executes the store. */
	if (si->si_code == SEGV_ACCERR && vfmed_ram_dirty_fault(addr))
		goto out;
	w = find_window(addr, &id);
	if (!w || si->si_code != SEGV_ACCERR) {
		reraise_default();
		goto out;
	}
	if (find_window(rip, &wid)) {  /* executing from the BAR: not an access */
		reraise_default();
		goto out;
	}

	/* Copy the instruction. Bytes up to the end of RIP's page are certainly mapped; more
	 * are read only if the decoder asks for them (then the CPU fetched them too). */
	page_left = 4096 - (rip & 4095);
	avail = page_left < X86_MAX_INSN_LEN ? page_left : X86_MAX_INSN_LEN;
	memcpy(bytes, (const void *)rip, avail);
	rc = vfmed_x86_decode(bytes, avail, &in, &consumed);
	if (rc == -ENODATA && avail < X86_MAX_INSN_LEN) {
		memcpy(bytes + avail, (const void *)(rip + avail), X86_MAX_INSN_LEN - avail);
		avail = X86_MAX_INSN_LEN;
		rc = vfmed_x86_decode(bytes, avail, &in, &consumed);
	}
	if (rc) {
		/* Name the bytes examined, and a little context after them. */
		size_t n = consumed + 4 > 8 ? consumed + 4 : 8;
		fatal_insn("cannot decode the faulting instruction", w, addr, rip, bytes,
			   n < avail ? n : avail);
	}

	for (int i = 0; i < X86_NUM_GPRS; i++)
		gpr[i] = (uint64_t)g[gpr_to_greg[i]];
	if (in.seg == X86_SEG_NONE) {
		ea = vfmed_x86_effective_addr(&in, gpr, rip);
		if (addr < ea || addr - ea >= in.size)
			fatal_insn("decoded address does not match the fault address", w, addr,
				   rip, bytes, in.len);
	} else {
		ea = addr;
	}
	if (ea < w->base || ea - w->base > w->size - in.size)
		fatal_insn("access crosses the end of the window", w, addr, rip, bytes, in.len);
	off = ea - w->base;

	if (in.is_store) {
		val = vfmed_x86_store_value(&in, gpr[in.reg]);
		rc = w->be.write(w->be.ctx, off, in.size, val);
		stats.writes++;
		if (rc)
			stats.errors++;
	} else {
		rc = w->be.read(w->be.ctx, off, in.size, &val);
		stats.reads++;
		if (rc) {
			stats.errors++;
			val = ~0ull;  /* like a failed PCIe read */
		}
		g[gpr_to_greg[in.reg]] =
			(greg_t)vfmed_x86_load_result(&in, gpr[in.reg], val);
	}
	g[REG_RIP] = (greg_t)(rip + in.len);

	last.rip = rip;
	last.addr = ea;
	last.off = off;
	last.value = val;
	last.len = in.len;
	last.size = in.size;
	last.is_store = in.is_store;
	last.window = (uint8_t)id;
out:
	errno = saved_errno;
}

int vfmed_trap_install(void)
{
	struct sigaction sa;
	stack_t ss;

	if (installed)
		return 0;
	altstack = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (altstack == MAP_FAILED)
		return -errno;
	ss.ss_sp = altstack;
	ss.ss_size = ALTSTACK_SIZE;
	ss.ss_flags = 0;
	if (sigaltstack(&ss, NULL) < 0)
		return -errno;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	/* Keep asynchronous stop requests out of a half-emulated access. */
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	if (sigaction(SIGSEGV, &sa, NULL) < 0)
		return -errno;
	installed = 1;
	return 0;
}

int vfmed_trap_add_window(uintptr_t base, size_t size, const char *name,
			  const struct vfmed_trap_backend *be)
{
	if (!size || base + size < base || !be || !be->read || !be->write)
		return -EINVAL;
	for (int i = 0; i < VFMED_TRAP_MAX_WINDOWS; i++) {
		struct trap_window *w = &windows[i];
		if (w->used && base < w->base + w->size && w->base < base + size)
			return -EINVAL;
	}
	for (int i = 0; i < VFMED_TRAP_MAX_WINDOWS; i++) {
		if (!windows[i].used) {
			windows[i].base = base;
			windows[i].size = size;
			windows[i].name = name ? name : "window";
			windows[i].be = *be;
			__atomic_store_n(&windows[i].used, 1, __ATOMIC_RELEASE);
			return i;
		}
	}
	return -ENOSPC;
}

void vfmed_trap_remove_window(int id)
{
	if (id >= 0 && id < VFMED_TRAP_MAX_WINDOWS)
		__atomic_store_n(&windows[id].used, 0, __ATOMIC_RELEASE);
}

void vfmed_trap_get_stats(struct vfmed_trap_stats *out)
{
	*out = stats;
}

void vfmed_trap_get_last(struct vfmed_trap_record *out)
{
	*out = last;
}
