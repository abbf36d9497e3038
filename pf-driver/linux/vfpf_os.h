/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfpf_os.h (Linux) - what the PF driver core needs from the kernel: MMIO through
 * ioread32/iowrite32 on the ivshmem BAR, coherent DMA memory, sleeping mutexes, ktime.
 */
#ifndef VFPF_OS_LINUX_H
#define VFPF_OS_LINUX_H

#include <linux/types.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/io.h>
#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mutex.h>
#include <linux/device.h>
#include <linux/compiler.h>
#include <asm/barrier.h>
#include <asm/processor.h>

struct vfpf_os_dev {
	struct device *dev;     /* the PCI function: DMA allocations and logging */
};

static inline u32 vfpf_rd32(void __iomem *base, u32 off)
{
	return ioread32(base + off);
}

static inline void vfpf_wr32(void __iomem *base, u32 off, u32 val)
{
	iowrite32(val, base + off);
}

#define vfpf_dma_rd16(p)        READ_ONCE(*(const u16 *)(p))
#define vfpf_dma_rd32(p)        READ_ONCE(*(const u32 *)(p))
#define vfpf_dma_rmb()          dma_rmb()
/* Orders descriptor stores before the doorbell (iowrite32) as well. */
#define vfpf_dma_wmb()          wmb()
#define vfpf_cpu_relax()        cpu_relax()

static inline u64 vfpf_time_us(void)
{
	return div_u64(ktime_get_ns(), NSEC_PER_USEC);
}

static inline void vfpf_sleep_us(u32 us)
{
	usleep_range(us, 2 * us);
}

typedef struct mutex vfpf_lock_t;
#define vfpf_lock_init(l)       mutex_init(l)
#define vfpf_lock_destroy(l)    mutex_destroy(l)
#define vfpf_lock(l)            mutex_lock(l)
#define vfpf_unlock(l)          mutex_unlock(l)

#define vfpf_err(d, fmt, ...)   dev_err((d)->os.dev, fmt, ##__VA_ARGS__)
#define vfpf_warn(d, fmt, ...)  dev_warn((d)->os.dev, fmt, ##__VA_ARGS__)
#define vfpf_info(d, fmt, ...)  dev_info((d)->os.dev, fmt, ##__VA_ARGS__)
#define vfpf_dbg(d, fmt, ...)   dev_dbg((d)->os.dev, fmt, ##__VA_ARGS__)

#endif /* VFPF_OS_LINUX_H */
