/* SPDX-License-Identifier: MIT */
/*
 * mmio-trap.h - the userspace "MMIO exit": a SIGSEGV handler that emulates loads and
 * stores to PROT_NONE pages of a trap window (a BAR reservation) through a backend.
 *
 * A window is a virtual address range whose unmapped (PROT_NONE) pages stand for device
 * registers. When the driver touches such a page, the handler decodes the faulting MOV
 * (x86-decode.h), performs it through the window's backend (REGION_READ/REGION_WRITE in
 * the runner, a fake register file in the self-test), writes a loaded value into the
 * destination register of the interrupted context and advances RIP past the instruction.
 *
 *   fault in a window, decodable      -> emulated, execution resumes after the MOV
 *   fault in a window, not decodable  -> abort() with the instruction bytes on stderr
 *   fault anywhere else               -> default SIGSEGV action (a normal crash)
 *
 * A backend error (the device refused the access) behaves like a failed PCIe read: loads
 * return all-ones, stores are dropped, and the error is counted. Backends are called from
 * the signal handler and must be async-signal-safe.
 *
 * Windows are added and removed from normal (non-signal) context of the single thread
 * that also performs the accesses; the handler runs on its own alternate stack, so even an
 * access with RSP as the base register works.
 */
#ifndef VFMED_GUEST_MMIO_TRAP_H
#define VFMED_GUEST_MMIO_TRAP_H

#include <stddef.h>
#include <stdint.h>

struct vfmed_trap_backend {
	/* off is relative to the window base; size is 1, 2, 4 or 8. Return 0 or -errno. */
	int (*read)(void *ctx, uint64_t off, unsigned size, uint64_t *val);
	int (*write)(void *ctx, uint64_t off, unsigned size, uint64_t val);
	void *ctx;
};

#define VFMED_TRAP_MAX_WINDOWS 4

/* What the handler did last (for the self-test and diagnostics). */
struct vfmed_trap_record {
	uint64_t rip;       /* address of the emulated instruction */
	uint64_t addr;      /* effective address */
	uint64_t off;       /* offset inside the window */
	uint64_t value;     /* value stored, or value read from the backend */
	uint8_t len;        /* instruction length (RIP advance) */
	uint8_t size;       /* access size */
	uint8_t is_store;
	uint8_t window;
};

struct vfmed_trap_stats {
	uint64_t reads;
	uint64_t writes;
	uint64_t errors;    /* backend refused the access */
};

/* Installs the SIGSEGV handler and its alternate stack. Idempotent. Returns 0 or -errno. */
int vfmed_trap_install(void);

/* Registers [base, base+size) with its backend; returns the window id (>= 0) or -errno
 * (-ENOSPC when full, -EINVAL for an empty or overlapping range). */
int vfmed_trap_add_window(uintptr_t base, size_t size, const char *name,
			  const struct vfmed_trap_backend *be);
void vfmed_trap_remove_window(int id);

/* Counters and the last record; read from normal context. */
void vfmed_trap_get_stats(struct vfmed_trap_stats *out);
void vfmed_trap_get_last(struct vfmed_trap_record *out);

#endif /* VFMED_GUEST_MMIO_TRAP_H */
