// SPDX-License-Identifier: GPL-2.0
/*
 * vfpf_os.c (Linux) - PF DMA memory for the core: coherent allocations on the PCI
 * function. In the test VM the host maps the guest's RAM file as the PF DMA space, so the
 * bus address dma_alloc_coherent() returns (guest physical, no IOMMU) is the PF DMA
 * address the device model resolves.
 */
#include <linux/dma-mapping.h>

#include "vfpf_core.h"

int vfpf_os_dma_alloc(struct vfpf_os_dev *os, size_t size, struct vfpf_dma_buf *buf)
{
	dma_addr_t dma;
	void *va;

	if (!size || !buf)
		return -EINVAL;
	va = dma_alloc_coherent(os->dev, size, &dma, GFP_KERNEL);
	if (!va)
		return -ENOMEM;
	buf->va = va;
	buf->dma = dma;
	buf->size = size;
	return 0;
}

void vfpf_os_dma_free(struct vfpf_os_dev *os, struct vfpf_dma_buf *buf)
{
	if (!buf || !buf->va)
		return;
	dma_free_coherent(os->dev, buf->size, buf->va, (dma_addr_t)buf->dma);
	memset(buf, 0, sizeof(*buf));
}
