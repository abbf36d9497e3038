// SPDX-License-Identifier: MIT
/*
 * pci-bar.c - reads or writes one 32-bit word of a PCI device's BAR2 through the
 * /sys/bus/pci/devices/<bdf>/resource2 mmap, inside the kernel test's guest. busybox has no
 * tool for it: read()/write() on a resource file of a memory BAR fail with EIO, only mmap
 * works (measured, see docs/kernel-test.md). Used to show what a uio_pci_generic-bound
 * device's BAR holds and that a guest store reaches the host's file.
 *
 * Usage: pci-bar BDF OFFSET            prints the word as 0x%08x
 *        pci-bar BDF OFFSET VALUE      stores VALUE, reads it back
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kt-util.h"

int main(int argc, char **argv)
{
	char path[256], *end;
	unsigned long off, val = 0;
	struct stat st;
	volatile uint32_t *b;
	int fd;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: pci-bar BDF OFFSET [VALUE]\n");
		return 2;
	}
	off = strtoul(argv[2], &end, 0);
	if (*end || off % 4) {
		fprintf(stderr, "pci-bar: offset '%s' is not a multiple of 4\n", argv[2]);
		return 2;
	}
	if (argc == 4) {
		val = strtoul(argv[3], &end, 0);
		if (*end || val > 0xffffffffUL) {
			fprintf(stderr, "pci-bar: value '%s' is not a 32-bit number\n", argv[3]);
			return 2;
		}
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource2", argv[1]);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		kt_fail("open %s: %s", path, strerror(errno));
	if (off + 4 > (unsigned long)st.st_size)
		kt_fail("offset 0x%lx is outside the %lld-byte BAR", off, (long long)st.st_size);
	b = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (b == MAP_FAILED)
		kt_fail("mmap %s: %s", path, strerror(errno));
	if (argc == 4) {
		b[off / 4] = (uint32_t)val;
		if (b[off / 4] != (uint32_t)val)
			kt_fail("stored 0x%08lx at 0x%lx, reads back 0x%08x", val, off, b[off / 4]);
	}
	printf("0x%08x\n", b[off / 4]);
	return 0;
}
