/* SPDX-License-Identifier: MIT */
/*
 * nic.c - lifetime of an emulated NIC: create/destroy, the shared-memory BARs (memfd, or
 * files under shm_dir so QEMU ivshmem / a guest UIO driver can map them), the DMA-map and
 * interrupt-fd entry points, and the device loop (one pass = PF BAR + every enabled VF).
 *
 * Device thread, adaptive mode: after a pass that did work it runs the next pass at once;
 * once idle it keeps spinning for SPIN_NS, then sleeps in ppoll() on wake_fd with a timeout
 * doubling from SLEEP_MIN_NS up to SLEEP_MAX_NS (1 ms), bounded by the next deferred
 * interrupt. vfmed_nic_kick and API calls that create work write wake_fd. Busy mode never
 * sleeps. API callers announce themselves in api_waiters so the thread yields the lock
 * between passes instead of starving them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define SPIN_NS       200000ull   /* 200 us of spinning after the last work */
#define SLEEP_MIN_NS  20000ull
#define SLEEP_MAX_NS  1000000ull

uint64_t vfmed_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vfmed_nic_lock(struct vfmed_nic *nic)
{
	__atomic_add_fetch(&nic->api_waiters, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&nic->lock);
	__atomic_sub_fetch(&nic->api_waiters, 1, __ATOMIC_RELAXED);
}

void vfmed_nic_unlock(struct vfmed_nic *nic)
{
	pthread_mutex_unlock(&nic->lock);
}

void vfmed_nic_wake(struct vfmed_nic *nic)
{
	uint64_t one = 1;

	if (nic->wake_fd >= 0 && write(nic->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already non-zero, the thread will wake anyway. */
	}
}

void vfmed_nic_kick(struct vfmed_nic *nic)
{
	if (nic)
		vfmed_nic_wake(nic);
}

/* ---- BAR backing ---------------------------------------------------------------------- */

static int bar_create(struct vfmed_nic *nic, const char *name, size_t size, int *fd_out,
                      volatile uint32_t **map_out, char **path_out)
{
	int fd;
	void *p;

	*path_out = NULL;
	if (nic->shm_dir) {
		size_t n = strlen(nic->shm_dir) + strlen(nic->shm_prefix) + strlen(name) + 3;
		char *path = malloc(n);

		if (!path)
			return -ENOMEM;
		snprintf(path, n, "%s/%s-%s", nic->shm_dir, nic->shm_prefix, name);
		/* O_EXCL: never silently share a BAR with another live instance. */
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			int e = errno;

			free(path);
			return -e;
		}
		*path_out = path;
	} else {
		char mname[64];

		snprintf(mname, sizeof(mname), "vfmed-%s", name);
		fd = memfd_create(mname, MFD_CLOEXEC);
		if (fd < 0)
			return -errno;
	}
	if (ftruncate(fd, (off_t)size) < 0)
		goto err;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto err;
	memset(p, 0, size);
	*fd_out = fd;
	*map_out = p;
	return 0;
err:
	{
		int e = errno;

		close(fd);
		if (*path_out) {
			unlink(*path_out);
			free(*path_out);
			*path_out = NULL;
		}
		return -e;
	}
}

static void bar_destroy(int *fd, volatile uint32_t **map, size_t size, char **path)
{
	if (*map)
		munmap((void *)*map, size);
	*map = NULL;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	if (*path) {
		unlink(*path);
		free(*path);
		*path = NULL;
	}
}

/* ---- create / destroy ------------------------------------------------------------------ */

static bool prefix_ok(const char *p)
{
	if (!*p || strlen(p) > 64)
		return false;
	for (; *p; p++)
		if (*p == '/' || (unsigned char)*p < 0x20)
			return false;
	return true;
}

static void vf_init(struct vfmed_nic *nic, struct vfmed_vf *vf, uint32_t idx)
{
	uint32_t q, i;

	vf->nic = nic;
	vf->idx = idx;
	vf->bar_fd = -1;
	for (i = 0; i < VFMED_VF_MSIX_VECTORS; i++)
		vf->irq.fd[i] = -1;
	for (q = 0; q < VFMED_VF_NUM_QUEUES; q++) {
		vf->rxq[q].idx = (uint8_t)q;
		vf->txq[q].idx = (uint8_t)q;
		vf->txq[q].is_tx = 1;
	}
	vfmed_fifo_init(&vf->fifo, nic->rx_fifo_bytes);
	vfmed_pagelog_init(&vf->truth);
	vfmed_pagelog_init(&vf->dirty.pages);
	vf->dma.truth = &vf->truth;
	vf->dma.dirty = &vf->dirty;
}

int vfmed_nic_create(const struct vfmed_nic_config *cfg, struct vfmed_nic **out)
{
	struct vfmed_nic *nic;
	uint32_t i, q;
	int rc;

	if (!cfg || !out)
		return -EINVAL;
	*out = NULL;
	if (cfg->max_vfs < 1 || cfg->max_vfs > VFPF_MAX_VFS)
		return -EINVAL;
	if (cfg->rx_fifo_bytes &&
	    (cfg->rx_fifo_bytes < VFMED_FIFO_MIN || cfg->rx_fifo_bytes > VFMED_FIFO_MAX))
		return -EINVAL;
	if (cfg->poll_mode > VFMED_POLL_BUSY || (cfg->flags & ~VFMED_NIC_F_NO_HEAD_WB))
		return -EINVAL;
	if (cfg->shm_prefix && !prefix_ok(cfg->shm_prefix))
		return -EINVAL;
	if (cfg->base_mac[0] & 1)   /* a multicast base would give every VF a group address */
		return -EINVAL;

	nic = calloc(1, sizeof(*nic));
	if (!nic)
		return -ENOMEM;
	pthread_mutex_init(&nic->lock, NULL);
	nic->max_vfs = cfg->max_vfs;
	nic->rx_fifo_bytes = cfg->rx_fifo_bytes ? cfg->rx_fifo_bytes : VFMED_FIFO_DEFAULT;
	nic->poll_mode = cfg->poll_mode;
	nic->flags = cfg->flags;
	memcpy(nic->base_mac, cfg->base_mac, 6);
	nic->pf_bar_fd = -1;
	nic->pf_event_fd = -1;
	nic->wake_fd = -1;
	vfmed_uplink_init(&nic->uplink);
	for (i = 0; i < VFPF_MAX_VFS; i++)
		vf_init(nic, &nic->vf[i], i);

	rc = -ENOMEM;
	if (cfg->shm_dir) {
		nic->shm_dir = strdup(cfg->shm_dir);
		nic->shm_prefix = strdup(cfg->shm_prefix ? cfg->shm_prefix : "vfmed");
		if (!nic->shm_dir || !nic->shm_prefix)
			goto err;
	}
	nic->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (nic->wake_fd < 0) {
		rc = -errno;
		goto err;
	}
	rc = bar_create(nic, "pf-bar", VFPF_BAR_SIZE, &nic->pf_bar_fd, &nic->pf_bar,
	                &nic->pf_bar_path);
	if (rc)
		goto err;
	for (i = 0; i < nic->max_vfs; i++) {
		char name[32];
		struct vfmed_vf *vf = &nic->vf[i];

		snprintf(name, sizeof(name), "vf%u-bar0", i);
		rc = bar_create(nic, name, VFMED_VF_BAR0_SIZE, &vf->bar_fd, &vf->bar,
		                &vf->bar_path);
		if (rc)
			goto err;
		for (q = 0; q < VFMED_VF_NUM_QUEUES; q++) {
			vf->txq[q].tx = calloc(1, sizeof(*vf->txq[q].tx));
			if (!vf->txq[q].tx) {
				rc = -ENOMEM;
				goto err;
			}
		}
		vfmed_vf_full_reset(vf, false);
	}
	rc = vfmed_pf_device_init(nic);
	if (rc)
		goto err;
	*out = nic;
	return 0;
err:
	vfmed_nic_destroy(nic);
	return rc;
}

void vfmed_nic_destroy(struct vfmed_nic *nic)
{
	uint32_t i, q, v;

	if (!nic)
		return;
	vfmed_nic_stop(nic);
	for (i = 0; i < VFPF_MAX_VFS; i++) {
		struct vfmed_vf *vf = &nic->vf[i];

		bar_destroy(&vf->bar_fd, &vf->bar, VFMED_VF_BAR0_SIZE, &vf->bar_path);
		vfmed_dma_space_clear(&vf->dma);
		vfmed_fifo_free(&vf->fifo);
		vfmed_pagelog_free(&vf->truth);
		vfmed_pagelog_free(&vf->dirty.pages);
		for (v = 0; v < VFMED_VF_MSIX_VECTORS; v++)
			if (vf->irq.fd[v] >= 0)
				close(vf->irq.fd[v]);
		for (q = 0; q < VFMED_VF_NUM_QUEUES; q++)
			free(vf->txq[q].tx);
	}
	bar_destroy(&nic->pf_bar_fd, &nic->pf_bar, VFPF_BAR_SIZE, &nic->pf_bar_path);
	vfmed_dma_space_clear(&nic->pf_dma);
	vfmed_uplink_free(&nic->uplink);
	if (nic->pf_event_fd >= 0)
		close(nic->pf_event_fd);
	if (nic->wake_fd >= 0)
		close(nic->wake_fd);
	free(nic->shm_dir);
	free(nic->shm_prefix);
	pthread_mutex_destroy(&nic->lock);
	free(nic);
}

uint32_t vfmed_nic_max_vfs(struct vfmed_nic *nic)
{
	return nic ? nic->max_vfs : 0;
}

int vfmed_nic_pf_bar_fd(struct vfmed_nic *nic)
{
	return nic ? nic->pf_bar_fd : -EINVAL;
}

int vfmed_nic_vf_bar_fd(struct vfmed_nic *nic, uint32_t vf)
{
	if (!nic || vf >= nic->max_vfs)
		return -EINVAL;
	return nic->vf[vf].bar_fd;
}

const char *vfmed_nic_pf_bar_path(struct vfmed_nic *nic)
{
	return nic ? nic->pf_bar_path : NULL;
}

const char *vfmed_nic_vf_bar_path(struct vfmed_nic *nic, uint32_t vf)
{
	if (!nic || vf >= nic->max_vfs)
		return NULL;
	return nic->vf[vf].bar_path;
}

/* ---- DMA maps --------------------------------------------------------------------------- */

int vfmed_nic_pf_dma_map(struct vfmed_nic *nic, uint64_t iova, uint64_t len, int fd,
                         uint64_t offset)
{
	int rc;

	if (!nic)
		return -EINVAL;
	vfmed_nic_lock(nic);
	rc = vfmed_dma_space_map(&nic->pf_dma, iova, len, fd, offset,
	                         VFMED_DMA_READ | VFMED_DMA_WRITE);
	vfmed_nic_unlock(nic);
	return rc;
}

int vfmed_nic_pf_dma_unmap(struct vfmed_nic *nic, uint64_t iova, uint64_t len)
{
	int rc;

	if (!nic)
		return -EINVAL;
	vfmed_nic_lock(nic);
	rc = vfmed_dma_space_unmap(&nic->pf_dma, iova, len);
	vfmed_nic_unlock(nic);
	return rc;
}

int vfmed_vf_dma_map(struct vfmed_nic *nic, uint32_t vf, uint64_t iova, uint64_t len,
                     int fd, uint64_t offset, uint32_t prot)
{
	int rc;

	if (!nic || vf >= nic->max_vfs)
		return -EINVAL;
	vfmed_nic_lock(nic);
	rc = vfmed_dma_space_map(&nic->vf[vf].dma, iova, len, fd, offset, prot);
	vfmed_nic_unlock(nic);
	if (!rc)
		vfmed_nic_wake(nic);   /* a queue waiting on a missing map may proceed */
	return rc;
}

int vfmed_vf_dma_unmap(struct vfmed_nic *nic, uint32_t vf, uint64_t iova, uint64_t len)
{
	int rc;

	if (!nic || vf >= nic->max_vfs)
		return -EINVAL;
	vfmed_nic_lock(nic);
	rc = vfmed_dma_space_unmap(&nic->vf[vf].dma, iova, len);
	vfmed_nic_unlock(nic);
	return rc;
}

int vfmed_vf_dma_unmap_all(struct vfmed_nic *nic, uint32_t vf)
{
	if (!nic || vf >= nic->max_vfs)
		return -EINVAL;
	vfmed_nic_lock(nic);
	vfmed_dma_space_clear(&nic->vf[vf].dma);
	vfmed_nic_unlock(nic);
	return 0;
}

/* ---- interrupt fds ----------------------------------------------------------------------- */

static int dup_or_detach(int fd, int *slot)
{
	int n = -1;

	if (fd < -1)
		return -EBADF;
	if (fd >= 0) {
		n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (n < 0)
			return -errno;
	}
	if (*slot >= 0)
		close(*slot);
	*slot = n;
	return 0;
}

int vfmed_vf_set_irq_fd(struct vfmed_nic *nic, uint32_t vf, uint32_t vector, int fd)
{
	int rc;

	if (!nic || vf >= nic->max_vfs || vector >= VFMED_VF_MSIX_VECTORS)
		return -EINVAL;
	vfmed_nic_lock(nic);
	rc = dup_or_detach(fd, &nic->vf[vf].irq.fd[vector]);
	vfmed_nic_unlock(nic);
	return rc;
}

int vfmed_nic_set_pf_event_fd(struct vfmed_nic *nic, int fd)
{
	int rc;

	if (!nic)
		return -EINVAL;
	vfmed_nic_lock(nic);
	rc = dup_or_detach(fd, &nic->pf_event_fd);
	vfmed_nic_unlock(nic);
	return rc;
}

/* ---- device loop ----------------------------------------------------------------------- */

static bool irq_deferred(const struct vfmed_vf *vf)
{
	uint32_t v;

	for (v = 0; v < VFMED_VF_MSIX_VECTORS; v++)
		if (vf->irq.deferred[v])
			return true;
	return false;
}

static int nic_pass(struct vfmed_nic *nic)
{
	uint64_t now = 0;   /* read only when a throttled interrupt waits: a clock read per
			     * pass was a tenth of the device thread's time */
	int work = 0;
	uint32_t i;

	nic->next_deadline_ns = 0;
	work += vfmed_pf_device_poll(nic);
	for (i = 0; i < nic->num_vfs; i++) {
		struct vfmed_vf *vf = &nic->vf[i];

		if (!vf->sriov_enabled)
			continue;
		work += vfmed_mbx_poll(vf);
		work += vfmed_vf_process(vf);
		if (irq_deferred(vf)) {
			if (!now)
				now = vfmed_now_ns();
			work += vfmed_irq_poll(vf, now);
		}
	}
	return work;
}

int vfmed_nic_poll(struct vfmed_nic *nic)
{
	int work;

	if (!nic)
		return -EINVAL;
	vfmed_nic_lock(nic);
	work = nic_pass(nic);
	vfmed_nic_unlock(nic);
	return work;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static void *device_thread(void *arg)
{
	struct vfmed_nic *nic = arg;
	uint64_t idle_since = vfmed_now_ns(), sleep_ns = 0;
	uint32_t idle_passes = 0;
	bool busy = false;

	while (!__atomic_load_n(&nic->stop_req, __ATOMIC_ACQUIRE)) {
		uint64_t now, deadline;
		int work;

		pthread_mutex_lock(&nic->lock);
		work = nic_pass(nic);
		deadline = nic->next_deadline_ns;
		pthread_mutex_unlock(&nic->lock);
		if (__atomic_load_n(&nic->api_waiters, __ATOMIC_RELAXED))
			sched_yield();
		/* The clock is read when the device goes idle and then every 64 idle passes,
		 * not on every pass: busy passes do not need it. */
		if (work > 0) {
			busy = true;
			sleep_ns = 0;
			continue;
		}
		if (busy) {
			busy = false;
			idle_since = vfmed_now_ns();
			idle_passes = 0;
		}
		if (nic->poll_mode == VFMED_POLL_BUSY || (++idle_passes & 63)) {
			cpu_relax();
			continue;
		}
		now = vfmed_now_ns();
		if (now - idle_since < SPIN_NS) {
			cpu_relax();
			continue;
		}
		sleep_ns = sleep_ns ? sleep_ns * 2 : SLEEP_MIN_NS;
		if (sleep_ns > SLEEP_MAX_NS)
			sleep_ns = SLEEP_MAX_NS;
		{
			uint64_t ns = sleep_ns;
			struct pollfd pfd = { .fd = nic->wake_fd, .events = POLLIN };
			struct timespec ts;
			uint64_t cnt;

			if (deadline && deadline > now && deadline - now < ns)
				ns = deadline - now;
			else if (deadline && deadline <= now)
				ns = 0;
			ts.tv_sec = (time_t)(ns / 1000000000ull);
			ts.tv_nsec = (long)(ns % 1000000000ull);
			if (ppoll(&pfd, 1, &ts, NULL) > 0) {
				if (read(nic->wake_fd, &cnt, sizeof(cnt)) < 0) {
					/* EAGAIN: raced with another reader; nothing to do */
				}
				idle_since = vfmed_now_ns();
				sleep_ns = 0;
			}
		}
	}
	return NULL;
}

int vfmed_nic_start(struct vfmed_nic *nic)
{
	int rc = 0;

	if (!nic)
		return -EINVAL;
	vfmed_nic_lock(nic);
	if (!nic->thread_running) {
		__atomic_store_n(&nic->stop_req, 0, __ATOMIC_RELEASE);
		rc = -pthread_create(&nic->thread, NULL, device_thread, nic);
		if (!rc)
			nic->thread_running = true;
	}
	vfmed_nic_unlock(nic);
	return rc;
}

int vfmed_nic_stop(struct vfmed_nic *nic)
{
	bool running;
	pthread_t t;

	if (!nic)
		return -EINVAL;
	vfmed_nic_lock(nic);
	running = nic->thread_running;
	t = nic->thread;
	nic->thread_running = false;
	if (running)
		__atomic_store_n(&nic->stop_req, 1, __ATOMIC_RELEASE);
	vfmed_nic_unlock(nic);
	if (running) {
		vfmed_nic_wake(nic);
		pthread_join(t, NULL);
	}
	return 0;
}

/* ---- introspection --------------------------------------------------------------------- */

int vfmed_vf_truth_read(struct vfmed_nic *nic, uint32_t vf, uint64_t iova, uint64_t len,
                        uint8_t *bitmap, size_t bitmap_len, int clear)
{
	uint64_t pages, n;

	if (!nic || vf >= nic->max_vfs || !bitmap)
		return -EINVAL;
	if (!len || (iova & (VFMED_PAGE_SIZE - 1)) || iova + len < iova)
		return -EINVAL;
	pages = (len + VFMED_PAGE_SIZE - 1) / VFMED_PAGE_SIZE;
	if (bitmap_len < (pages + 7) / 8)
		return -ENOSPC;
	vfmed_nic_lock(nic);
	if (nic->vf[vf].truth.oom) {
		vfmed_nic_unlock(nic);
		return -ENOMEM;
	}
	n = vfmed_pagelog_read(&nic->vf[vf].truth, iova, len, 12, bitmap, clear != 0);
	vfmed_nic_unlock(nic);
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

static void queue_info(struct vfmed_vf *vf, uint32_t q, struct vfmed_vf_queue_info *qi)
{
	struct vfmed_queue *rx = &vf->rxq[q], *tx = &vf->txq[q];

	qi->rx_enabled = rx->enabled;
	qi->tx_enabled = tx->enabled;
	qi->rx_head = bar_rd(vf->bar, E1000_RDH(q)) & 0xFFFF;
	qi->rx_tail = bar_rd(vf->bar, E1000_RDT(q)) & 0xFFFF;
	qi->tx_head = bar_rd(vf->bar, E1000_TDH(q)) & 0xFFFF;
	qi->tx_tail = bar_rd(vf->bar, E1000_TDT(q)) & 0xFFFF;
	qi->rx_count = rx->enabled ? rx->count : 0;
	qi->tx_count = tx->enabled ? tx->count : 0;
	qi->rx_error = rx->err;
	qi->tx_error = tx->err;
}

int vfmed_vf_get_info(struct vfmed_nic *nic, uint32_t vfi, struct vfmed_vf_info *info)
{
	struct vfmed_vf *vf;
	uint32_t q;

	if (!nic || vfi >= nic->max_vfs || !info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	vfmed_nic_lock(nic);
	vf = &nic->vf[vfi];
	info->enabled = vf->sriov_enabled;
	info->rx_en = vf->rx_en;
	info->tx_en = vf->tx_en;
	info->quiesced = vf->quiesced;
	memcpy(info->mac, vf->mac, 6);
	info->fifo_frames = vf->fifo.count;
	info->fifo_bytes = vf->fifo.bytes;
	info->fifo_capacity = vf->fifo.capacity;
	info->fifo_drops = vf->st.rx_fifo_drops;
	info->dma_errors = vf->st.dma_errors;
	info->tx_errors = vf->st.tx_errors;
	info->rx_packets = vf->st.rx_packets;
	info->tx_packets = vf->st.tx_packets;
	info->rx_bytes = vf->st.rx_bytes;
	info->tx_bytes = vf->st.tx_bytes;
	for (q = 0; q < VFMED_VF_NUM_QUEUES; q++)
		queue_info(vf, q, &info->q[q]);
	vfmed_nic_unlock(nic);
	return 0;
}
