/* SPDX-License-Identifier: MIT */
/*
 * kt-util.h - small helpers shared by the static programs that run inside the QEMU guest of
 * the kernel test (tests/kernel): sysfs reads, PCI device paths, result lines, and the
 * virtual-to-physical lookup a UIO driver needs (there is no IOMMU between a uio_pci_generic
 * device and RAM, so the device is given guest-physical addresses, exactly like DPDK's
 * "IOVA as PA" mode).
 *
 * Result lines: a program prints `VFMED-DATA <key> <value>` for facts the host side checks
 * (the guest's /init forwards every VFMED-* line to the result channel). Human-readable
 * progress goes to stdout as plain text. Programs exit 0 on success, 1 on a failed check,
 * 2 on a usage error.
 */
#ifndef VFMED_KT_UTIL_H
#define VFMED_KT_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline void kt_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static inline void kt_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("FAIL: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
	exit(1);
}

static inline void kt_data(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void kt_data(const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("VFMED-DATA %s ", key);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
}

static inline uint64_t kt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void kt_sleep_us(unsigned us)
{
	struct timespec ts = { .tv_sec = us / 1000000u, .tv_nsec = (long)(us % 1000000u) * 1000 };

	nanosleep(&ts, NULL);
}

/* Reads a small sysfs/procfs file into buf (NUL-terminated, trailing newline cut).
 * Returns the length or -errno. */
static inline int kt_read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	if (n < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = 0;
	return (int)n;
}

/* Name of the driver bound to a PCI device ("" when none), or -errno. */
static inline int kt_pci_driver(const char *bdf, char *name, size_t cap)
{
	char path[256], link[256];
	ssize_t n;
	const char *base;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		if (errno == ENOENT) {
			name[0] = 0;
			return 0;
		}
		return -errno;
	}
	link[n] = 0;
	base = strrchr(link, '/');
	snprintf(name, cap, "%s", base ? base + 1 : link);
	return 0;
}

/*
 * Physical address of a resident, locked page of this process, from /proc/self/pagemap
 * (entry: bit 63 present, bits 54:0 PFN; the PFN reads as 0 without CAP_SYS_ADMIN).
 * Returns 0 and sets *pa, or -errno (-EPERM when the PFN is hidden, -EFAULT if not present).
 */
static inline int kt_virt_to_phys(const void *va, uint64_t *pa)
{
	long psz = sysconf(_SC_PAGESIZE);
	uint64_t v = (uint64_t)(uintptr_t)va, ent;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, &ent, sizeof(ent), (off_t)(v / (uint64_t)psz * sizeof(ent)));
	close(fd);
	if (n != (ssize_t)sizeof(ent))
		return n < 0 ? -errno : -EIO;
	if (!(ent >> 63))
		return -EFAULT;
	if ((ent & ((1ull << 55) - 1)) == 0)
		return -EPERM;
	*pa = (ent & ((1ull << 55) - 1)) * (uint64_t)psz + v % (uint64_t)psz;
	return 0;
}

#endif /* VFMED_KT_UTIL_H */
