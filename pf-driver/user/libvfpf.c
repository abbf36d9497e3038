// SPDX-License-Identifier: MIT
/*
 * libvfpf.c - open/close of a PF for libvfpf.so: validates and maps the PF BAR and the
 * PF DMA memfd, wires the DMA allocator into the core, and tears it all down again.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "libvfpf.h"
#include "vfpf_user.h"

#define VFPF_DMA_MIN   (64u << 10)
#define VFPF_PAGE_MASK 0xFFFull

/* The fd must be able to back @len bytes, or touching the mapping raises SIGBUS. */
static int vfpf_check_fd(int fd, uint64_t len)
{
	struct stat st;

	if (fd < 0)
		return -EINVAL;
	if (fstat(fd, &st))
		return -errno;
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < len)
		return -EINVAL;
	return 0;
}

static void *vfpf_map(int fd, uint64_t len, int *rc)
{
	void *p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED) {
		*rc = -errno;
		return NULL;
	}
	*rc = 0;
	return p;
}

int vfpf_open(int bar_fd, uint64_t bar_len, int dma_fd, uint64_t dma_iova, uint64_t dma_len,
	      struct vfpf_dev **out)
{
	struct vfpf_user *u;
	const char *env;
	int rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (bar_len < VFPF_BAR_SIZE || bar_len > (1ull << 30))
		return -EINVAL;
	if (dma_len < VFPF_DMA_MIN || (dma_len & VFPF_PAGE_MASK) || (dma_iova & VFPF_PAGE_MASK) ||
	    dma_iova + dma_len < dma_iova || dma_len > (1ull << 40))
		return -EINVAL;
	rc = vfpf_check_fd(bar_fd, bar_len);
	if (!rc)
		rc = vfpf_check_fd(dma_fd, dma_len);
	if (rc)
		return rc;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->bar = vfpf_map(bar_fd, bar_len, &rc);
	if (!u->bar)
		goto err_free;
	u->bar_len = (size_t)bar_len;
	u->dma_map = vfpf_map(dma_fd, dma_len, &rc);
	if (!u->dma_map)
		goto err_bar;
	u->dma_len = (size_t)dma_len;
	rc = vfpf_user_dma_init(&u->dma, u->dma_map, dma_iova, u->dma_len);
	if (rc)
		goto err_dma;

	u->dev.bar = u->bar;
	u->dev.os.dma = &u->dma;
	env = getenv("VFPF_LOG");
	u->dev.os.log_level = env ? atoi(env) : 0;
	vfpf_dev_setup(&u->dev);
	*out = &u->dev;
	return 0;

err_dma:
	munmap(u->dma_map, u->dma_len);
err_bar:
	munmap(u->bar, u->bar_len);
err_free:
	free(u);
	return rc;
}

void vfpf_close(struct vfpf_dev *dev)
{
	struct vfpf_user *u = (struct vfpf_user *)dev;

	if (!dev)
		return;
	vfpf_dev_shutdown(dev);
	vfpf_dev_teardown(dev);
	vfpf_user_dma_fini(&u->dma);
	munmap(u->dma_map, u->dma_len);
	munmap(u->bar, u->bar_len);
	free(u);
}

void vfpf_set_log_level(struct vfpf_dev *dev, int level)
{
	if (dev)
		dev->os.log_level = level;
}
