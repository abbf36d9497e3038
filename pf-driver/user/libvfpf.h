/* SPDX-License-Identifier: MIT */
/*
 * libvfpf.h - API of libvfpf.so: the vfmed PF driver core over the emulated PF's BAR in
 * shared memory, for the daemon (through koffi: mediator/pf/libvfpf-ffi.ts).
 *
 * Life cycle: vfpf_open() -> vfpf_dev_init() -> vfpf_sriov_enable() -> vfpf_service()
 * whenever the PF event fd fires (or periodically) and the per-VF helpers of vfpf_core.h
 * as needed -> vfpf_close(). The handle is a struct vfpf_dev *, so every function of
 * vfpf_core.h is part of this API. All are thread-safe and return -errno on failure.
 */
#ifndef LIBVFPF_H
#define LIBVFPF_H

#include "vfpf_core.h"

/**
 * vfpf_open() - map a PF and its DMA space.
 * @bar_fd:   fd of the PF BAR (memfd or file), at least @bar_len bytes
 * @bar_len:  >= VFPF_BAR_SIZE
 * @dma_fd:   fd of the PF DMA memory, already registered with the device at @dma_iova
 *            (offset 0 of the fd), at least @dma_len bytes
 * @dma_iova: device address of offset 0, 4 KiB aligned
 * @dma_len:  bytes, >= 64 KiB, a multiple of 4 KiB
 * @out:      receives the handle
 *
 * Both fds are mapped MAP_SHARED; the caller keeps ownership of the fds (they may be
 * closed after this returns). Touches no register: call vfpf_dev_init() next.
 *
 * Return: 0; -EINVAL for bad lengths, alignment, a negative fd or a NULL @out; -EINVAL
 * also when a file is smaller than the length given (mapping past its end would fault);
 * -EBADF/-EACCES/-ENODEV... from fstat/mmap; -ENOMEM.
 */
int vfpf_open(int bar_fd, uint64_t bar_len, int dma_fd, uint64_t dma_iova, uint64_t dma_len,
	      struct vfpf_dev **out);

/**
 * vfpf_close() - shut the PF down (admin queue off), unmap and free the handle.
 * NULL is ignored. The handle must not be used afterwards.
 */
void vfpf_close(struct vfpf_dev *dev);

/**
 * vfpf_set_log_level() - stderr logging: 0 quiet (default unless VFPF_LOG is set in the
 * environment at open), 1 errors, 2 warnings and info, 3 debug.
 */
void vfpf_set_log_level(struct vfpf_dev *dev, int level);

/* One field of a struct that crosses the koffi boundary (field "" = the whole struct). */
struct vfpf_abi_field {
	char type[32];
	char field[32];
	uint32_t offset;
	uint32_t size;
};

/**
 * vfpf_abi_layout() - entry @idx of the table of struct layouts of this build, so the
 * binding can compare its own declarations with what the compiler did.
 * Return: 0; -ENOENT past the last entry; -EINVAL for a NULL @out.
 */
int vfpf_abi_layout(uint32_t idx, struct vfpf_abi_field *out);

#endif /* LIBVFPF_H */
