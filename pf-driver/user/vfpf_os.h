/* SPDX-License-Identifier: MIT */
/*
 * vfpf_os.h (userspace) - what the PF driver core needs from its OS, for libvfpf.so: the
 * PF BAR and the PF DMA space are both MAP_SHARED mappings of memory the device model
 * (another thread, or another process) reads and writes concurrently. BAR accesses are
 * sequentially consistent 32-bit atomics, the userspace stand-in for ioread32/iowrite32
 * (each one ordered against every other access, as on uncached MMIO).
 */
#ifndef VFPF_OS_USER_H
#define VFPF_OS_USER_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define __iomem

struct vfpf_user_dma;   /* the allocator over the DMA memfd (vfpf_os.c) */

struct vfpf_os_dev {
	struct vfpf_user_dma *dma;
	int log_level;          /* 0 quiet, 1 errors, 2 + warnings/info, 3 + debug */
};

static inline uint32_t vfpf_rd32(void __iomem *base, uint32_t off)
{
	return __atomic_load_n((volatile uint32_t *)((char *)base + off), __ATOMIC_SEQ_CST);
}

static inline void vfpf_wr32(void __iomem *base, uint32_t off, uint32_t val)
{
	__atomic_store_n((volatile uint32_t *)((char *)base + off), val, __ATOMIC_SEQ_CST);
}

static inline uint16_t vfpf_dma_rd16(const void *p)
{
	return __atomic_load_n((const volatile uint16_t *)p, __ATOMIC_ACQUIRE);
}

static inline uint32_t vfpf_dma_rd32(const void *p)
{
	return __atomic_load_n((const volatile uint32_t *)p, __ATOMIC_ACQUIRE);
}

static inline void vfpf_dma_rmb(void)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}

static inline void vfpf_dma_wmb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline void vfpf_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
}

static inline uint64_t vfpf_time_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline void vfpf_sleep_us(uint32_t us)
{
	struct timespec ts = { .tv_sec = us / 1000000u, .tv_nsec = (long)(us % 1000000u) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

typedef pthread_mutex_t vfpf_lock_t;

static inline void vfpf_lock_init(vfpf_lock_t *l)
{
	pthread_mutex_init(l, NULL);
}

static inline void vfpf_lock_destroy(vfpf_lock_t *l)
{
	pthread_mutex_destroy(l);
}

static inline void vfpf_lock(vfpf_lock_t *l)
{
	pthread_mutex_lock(l);
}

static inline void vfpf_unlock(vfpf_lock_t *l)
{
	pthread_mutex_unlock(l);
}

#define vfpf_log_(dev, lvl, tag, fmt, ...)                                              \
	do {                                                                            \
		if ((dev)->os.log_level >= (lvl))                                       \
			fprintf(stderr, "vfpf: " tag fmt, ##__VA_ARGS__);               \
	} while (0)
#define vfpf_err(dev, fmt, ...)  vfpf_log_(dev, 1, "error: ", fmt, ##__VA_ARGS__)
#define vfpf_warn(dev, fmt, ...) vfpf_log_(dev, 2, "warning: ", fmt, ##__VA_ARGS__)
#define vfpf_info(dev, fmt, ...) vfpf_log_(dev, 2, "", fmt, ##__VA_ARGS__)
#define vfpf_dbg(dev, fmt, ...)  vfpf_log_(dev, 3, "debug: ", fmt, ##__VA_ARGS__)

#endif /* VFPF_OS_USER_H */
