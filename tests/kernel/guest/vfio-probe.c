// SPDX-License-Identifier: MIT
/*
 * vfio-probe.c - drives one PCI device bound to vfio-pci through the standard VFIO uAPI
 * (include/uapi/linux/vfio.h), inside the QEMU guest of the kernel test: container and
 * group, the type1 IOMMU backed by QEMU's emulated VT-d, a DMA map/unmap, the device fd,
 * region info, config space, and BAR2 reached both by mmap and by read/write on the device
 * fd. The device is an ivshmem-plain device whose BAR2 is a host file the host test filled
 * with a known pattern, so what the guest reads and writes is checked on both sides.
 *
 * Host contract (tests/kernel): word i of the first 4 KiB of BAR2 is KT_BAR_PATTERN(i);
 * this program writes KT_TOKEN_MMAP at 0x2000 through the mmap and KT_TOKEN_RW at 0x2004
 * with pwrite on the device fd; the host reads both back from the file after the boot.
 *
 * Usage: vfio-probe BDF
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kt-util.h"

#define KT_BAR_PATTERN(i) (0x6b740000u | (uint32_t)(i))  /* "kt" | index */
#define KT_TOKEN_MMAP     0x766d6d70u                    /* written through the mmap */
#define KT_TOKEN_RW       0x76727772u                    /* written with pwrite */
#define DMA_IOVA          0x10000000ull
#define DMA_LEN           (1u << 20)

static int group_of(const char *bdf)
{
	char path[256], link[256];
	ssize_t n;
	const char *base;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		kt_fail("%s has no IOMMU group (%s): vfio-pci needs an IOMMU, and this kernel has no "
			"VFIO no-IOMMU mode", bdf, strerror(errno));
	link[n] = 0;
	base = strrchr(link, '/');
	return atoi(base ? base + 1 : link);
}

static void region(int dev, uint32_t index, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, ri) < 0)
		kt_fail("VFIO_DEVICE_GET_REGION_INFO(%u): %s", index, strerror(errno));
}

int main(int argc, char **argv)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_iommu_type1_info ii = { .argsz = sizeof(ii) };
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_region_info cfg, bar;
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	char path[64], drv[256];
	int container, group, dev, gnum, rc;
	uint16_t ids[2];
	uint32_t w;
	volatile uint32_t *b;
	void *dma;

	if (argc != 2) {
		fprintf(stderr, "usage: vfio-probe BDF\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = kt_pci_driver(argv[1], drv, sizeof(drv));
	if (rc < 0 || strcmp(drv, "vfio-pci") != 0)
		kt_fail("%s is bound to '%s', not vfio-pci", argv[1], rc < 0 ? "?" : drv);
	gnum = group_of(argv[1]);

	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		kt_fail("open /dev/vfio/vfio: %s", strerror(errno));
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		kt_fail("VFIO_GET_API_VERSION is not %d", VFIO_API_VERSION);
	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0)
		kt_fail("the type1v2 IOMMU backend is missing (vfio_iommu_type1 not loaded?)");

	snprintf(path, sizeof(path), "/dev/vfio/%d", gnum);
	group = open(path, O_RDWR | O_CLOEXEC);
	if (group < 0)
		kt_fail("open %s: %s", path, strerror(errno));
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &gs) < 0 || !(gs.flags & VFIO_GROUP_FLAGS_VIABLE))
		kt_fail("group %d is not viable (every device of the group must be bound to vfio)", gnum);
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0)
		kt_fail("VFIO_GROUP_SET_CONTAINER: %s", strerror(errno));
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
		kt_fail("VFIO_SET_IOMMU(type1v2): %s", strerror(errno));
	if (ioctl(container, VFIO_IOMMU_GET_INFO, &ii) < 0)
		kt_fail("VFIO_IOMMU_GET_INFO: %s", strerror(errno));
	printf("vfio: group %d viable, type1v2 IOMMU set, page sizes 0x%llx\n", gnum,
	       (unsigned long long)ii.iova_pgsizes);

	/* A DMA map through the emulated VT-d: pins the pages and installs the IOVA. */
	dma = mmap(NULL, DMA_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dma == MAP_FAILED)
		kt_fail("mmap DMA buffer: %s", strerror(errno));
	map.vaddr = (uintptr_t)dma;
	map.iova = DMA_IOVA;
	map.size = DMA_LEN;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map) < 0)
		kt_fail("VFIO_IOMMU_MAP_DMA 1 MiB at 0x%llx: %s", DMA_IOVA, strerror(errno));
	unmap.iova = DMA_IOVA;
	unmap.size = DMA_LEN;
	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) < 0 || unmap.size != DMA_LEN)
		kt_fail("VFIO_IOMMU_UNMAP_DMA: %s (unmapped %llu)", strerror(errno),
			(unsigned long long)unmap.size);
	printf("vfio: DMA map + unmap of 1 MiB at IOVA 0x%llx ok\n", DMA_IOVA);
	kt_data("vfio-dma-map", "ok");

	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[1]);
	if (dev < 0)
		kt_fail("VFIO_GROUP_GET_DEVICE_FD(%s): %s", argv[1], strerror(errno));
	if (ioctl(dev, VFIO_DEVICE_GET_INFO, &di) < 0)
		kt_fail("VFIO_DEVICE_GET_INFO: %s", strerror(errno));
	if (!(di.flags & VFIO_DEVICE_FLAGS_PCI) || di.num_regions < VFIO_PCI_NUM_REGIONS)
		kt_fail("device info: flags 0x%x, %u regions (a vfio-pci device has >= %d)", di.flags,
			di.num_regions, VFIO_PCI_NUM_REGIONS);
	printf("vfio: device fd: PCI, %u regions, %u irq types\n", di.num_regions, di.num_irqs);

	region(dev, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (pread(dev, ids, sizeof(ids), (off_t)cfg.offset) != (ssize_t)sizeof(ids))
		kt_fail("config space read: %s", strerror(errno));
	if (ids[0] != 0x1af4 || ids[1] != 0x1110)
		kt_fail("config space says %04x:%04x, expected 1af4:1110", ids[0], ids[1]);
	kt_data("vfio-config-id", "%04x:%04x", ids[0], ids[1]);

	region(dev, VFIO_PCI_BAR2_REGION_INDEX, &bar);
	if (!(bar.flags & VFIO_REGION_INFO_FLAG_MMAP) || !(bar.flags & VFIO_REGION_INFO_FLAG_READ) ||
	    !(bar.flags & VFIO_REGION_INFO_FLAG_WRITE) || bar.size < 0x3000)
		kt_fail("BAR2 region: flags 0x%x size 0x%llx", bar.flags, (unsigned long long)bar.size);
	kt_data("vfio-bar2-size", "0x%llx", (unsigned long long)bar.size);
	b = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, dev, (off_t)bar.offset);
	if (b == MAP_FAILED)
		kt_fail("mmap BAR2 region: %s", strerror(errno));
	for (uint32_t i = 0; i < 1024; i++)
		if (b[i] != KT_BAR_PATTERN(i))
			kt_fail("BAR2 word %u is 0x%08x, the host wrote 0x%08x", i, b[i], KT_BAR_PATTERN(i));
	printf("vfio: BAR2 mmap: the host's 4 KiB pattern reads back exactly\n");
	b[0x2000 / 4] = KT_TOKEN_MMAP;
	w = KT_TOKEN_RW;
	if (pwrite(dev, &w, 4, (off_t)(bar.offset + 0x2004)) != 4)
		kt_fail("pwrite BAR2+0x2004: %s", strerror(errno));
	w = 0;
	if (pread(dev, &w, 4, (off_t)(bar.offset + 0x2000)) != 4 || w != KT_TOKEN_MMAP)
		kt_fail("pread BAR2+0x2000 gives 0x%08x after the mmap store of 0x%08x", w, KT_TOKEN_MMAP);
	if (b[0x2004 / 4] != KT_TOKEN_RW)
		kt_fail("mmap BAR2+0x2004 reads 0x%08x after pwrite of 0x%08x", b[0x2004 / 4], KT_TOKEN_RW);
	printf("vfio: BAR2 mmap store and region pwrite agree both ways\n");
	kt_data("vfio-bar2-rw", "ok");

	munmap((void *)b, bar.size);
	close(dev);
	if (ioctl(group, VFIO_GROUP_UNSET_CONTAINER) < 0)
		kt_fail("VFIO_GROUP_UNSET_CONTAINER: %s", strerror(errno));
	close(group);
	close(container);
	munmap(dma, DMA_LEN);
	printf("vfio: done\n");
	return 0;
}
