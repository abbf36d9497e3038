/* SPDX-License-Identifier: MIT */
/*
 * ram-dirty.h - CPU dirty tracking of guest RAM for live migration: which 4 KiB pages the
 * runner's CPU (the driver loop and the workload) wrote since the last look.
 *
 * mprotect-based, not userfaultfd write-protect:
 *   - the runner is one thread: the CPU and the VMM are the same thread, so "take the
 *     bitmap, clear it, write-protect RAM" is atomic with respect to the guest without any
 *     locking (no vCPU can store between the take and the protect), and a fault is handled
 *     synchronously on that thread;
 *   - the runner already turns SIGSEGV into MMIO exits (mmio-trap.c); a write-protect fault
 *     in guest RAM is one more case of the same handler: mark the page, make it writable
 *     again, return, the store re-executes. userfaultfd would need a second thread (or a
 *     poll between every guest store) to resolve faults, since the faulting thread blocks;
 *   - UFFDIO_WRITEPROTECT on shmem (the memfd that backs guest RAM, shared with the device)
 *     needs Linux >= 5.19 with CONFIG_PTE_MARKER_UFFD_WP, and unprivileged userfaultfd may
 *     be disabled (vm.unprivileged_userfaultfd=0); mprotect works everywhere.
 * The cost is one fault + one mprotect per page per round, the same order as a uffd-wp
 * fault. Device writes to RAM go through the device's own mapping of the memfd and never
 * fault here: the device's dirty pages come from DMA_LOGGING_REPORT.
 *
 * The EFAULT hazard: a syscall that writes INTO write-protected RAM (recv of a
 * server-to-client DMA_WRITE payload) does not fault, it fails with EFAULT. Such paths call
 * vfmed_ram_dirty_prepare_write() first (mark + unprotect).
 *
 * Bitmap: one bit per page, LSB first in u64 words (page p = word p/64, bit p%64):
 *
 *   bits[0]  b0 b1 ... b63 | bits[1]  b64 ... b127 | ...
 *
 * If an mprotect fails (e.g. vm.max_map_count reached by a very fragmented RAM), the
 * tracker makes all of RAM writable, sets `overflow`, and the next take reports every page
 * dirty: slower, never wrong.
 */
#ifndef VFMED_GUEST_RAM_DIRTY_H
#define VFMED_GUEST_RAM_DIRTY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define VFMED_PAGE_SIZE 4096u

struct vfmed_ram_dirty {
	uint8_t *host;
	uint64_t size;
	uint64_t pages;
	uint64_t words;               /* u64 words of a bitmap */
	uint64_t *bits;               /* written since the last take */
	volatile sig_atomic_t tracking;
	volatile sig_atomic_t overflow;
	uint64_t faults;              /* write-protect faults handled */
	uint64_t prepared;            /* pages unprotected for a syscall write */
};

/* Bitmap of guest RAM (host, size: multiple of 4 KiB). 0 or -errno. */
int vfmed_ram_dirty_init(struct vfmed_ram_dirty *d, uint8_t *host, uint64_t size);
void vfmed_ram_dirty_free(struct vfmed_ram_dirty *d);

/* Clears the bitmap, write-protects RAM and makes the fault handler mark pages. 0/-errno
 * (RAM left writable on failure). One tracker at a time. */
int vfmed_ram_dirty_start(struct vfmed_ram_dirty *d);
/* out[] |= pages written since the last take/start; clears them and write-protects RAM
 * again. Returns the number of pages added to out, or -errno. */
int64_t vfmed_ram_dirty_take(struct vfmed_ram_dirty *d, uint64_t *out);
/* Stops tracking and makes RAM writable. 0 or -errno. */
int vfmed_ram_dirty_stop(struct vfmed_ram_dirty *d);

/* From the SIGSEGV handler: a write fault at addr. 1 when it was a protected RAM page
 * (marked and writable again: return and let the store re-execute), 0 otherwise.
 * Async-signal-safe. */
int vfmed_ram_dirty_fault(uintptr_t addr);
/* Before a syscall writes [p, p+len) of guest RAM: mark and unprotect those pages. No-op
 * outside RAM or when not tracking. Async-signal-safe. */
void vfmed_ram_dirty_prepare_write(void *p, size_t len);

/* Pages set in a bitmap of `words` u64 words. */
uint64_t vfmed_bitmap_count(const uint64_t *bits, uint64_t words);

#endif /* VFMED_GUEST_RAM_DIRTY_H */
