/* SPDX-License-Identifier: MIT */
/*
 * migrate.c - the runner as a migrating VMM (see migrate.h): the v2 and v1 migration
 * protocols over vfio-user, the pre-copy / stop-copy sequence and the switch of the runner
 * to the destination connection.
 *
 * The same three primitives serve both protocols:
 *   set_state  v2: DEVICE_FEATURE SET MIG_DEVICE_STATE; v1: device_state of region 9
 *              (PRE_COPY = SAVING|RUNNING, STOP_COPY = SAVING, RESUMING, RUNNING, STOP)
 *   src_read   v2: MIG_DATA_READ (short = no more); v1: pending_bytes, data_offset (stages
 *              the next chunk), data_size, then the data area
 *   dst_write  v2: MIG_DATA_WRITE; v1: data area, then data_size
 */
#define _GNU_SOURCE
#include "migrate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"
#include "stats-json.h"
#include "vfio-user-mig.h"

#define XFER_BUF     (64u * 1024u)
#define V1_DATA_AREA 0x10000u

static int v1(const struct vfmed_runner *r)
{
	return r->o->migration_v1;
}

static uint32_t to_v1(uint32_t s)
{
	switch (s) {
	case VFU_MIG_PRE_COPY: return VFU_MIG_V1_SAVING | VFU_MIG_V1_RUNNING;
	case VFU_MIG_STOP_COPY: return VFU_MIG_V1_SAVING;
	case VFU_MIG_RESUMING: return VFU_MIG_V1_RESUMING;
	case VFU_MIG_RUNNING: return VFU_MIG_V1_RUNNING;
	default: return VFU_MIG_V1_STOP;
	}
}

static int set_state(struct vfmed_runner *r, struct vfmed_vfu *c, int region, uint32_t s)
{
	if (v1(r))
		return vfmed_vfu_region_write(c, (uint32_t)region, VFU_MIG_V1_DEVICE_STATE, 4, to_v1(s));
	return vfmed_vfu_mig_set_state(c, s);
}

/* The next chunk of the source stream: bytes read, 0 = no more (for now / at all). */
static int src_read(struct vfmed_runner *r, uint8_t *buf, uint32_t cap)
{
	struct vfmed_vfu *c = &r->vfu;
	uint32_t region = (uint32_t)r->mig.src_region;
	uint64_t pending, off, size;
	int rc;

	if (!v1(r))
		return vfmed_vfu_mig_read(c, buf, cap);
	rc = vfmed_vfu_region_read(c, region, VFU_MIG_V1_PENDING_BYTES, 8, &pending);
	if (rc || !pending)
		return rc;
	rc = vfmed_vfu_region_read(c, region, VFU_MIG_V1_DATA_OFFSET, 8, &off);  /* stages */
	if (!rc)
		rc = vfmed_vfu_region_read(c, region, VFU_MIG_V1_DATA_SIZE, 8, &size);
	if (rc)
		return rc;
	if (size > cap || off < 0x1000 || off > 0x1000 + V1_DATA_AREA) {
		c->proto_err = "v1 migration region: data_offset/data_size outside the data area";
		return -EPROTO;
	}
	rc = vfmed_vfu_region_read_buf(c, region, off, buf, (uint32_t)size);
	return rc ? rc : (int)size;
}

static int dst_write(struct vfmed_runner *r, struct vfmed_vfu *c, int region, const uint8_t *buf,
		     uint32_t len)
{
	uint32_t chunk = v1(r) ? V1_DATA_AREA : (uint32_t)(c->max_data_xfer < XFER_BUF ? c->max_data_xfer : XFER_BUF);

	for (uint32_t at = 0; at < len; at += chunk) {
		uint32_t n = len - at < chunk ? len - at : chunk;
		int rc;
		if (v1(r)) {
			rc = vfmed_vfu_region_write_buf(c, (uint32_t)region, 0x1000, buf + at, n);
			if (!rc)
				rc = vfmed_vfu_region_write(c, (uint32_t)region, VFU_MIG_V1_DATA_SIZE, 8, n);
		} else {
			rc = vfmed_vfu_mig_write(c, buf + at, n);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* Moves everything the source has now to the destination; *moved += bytes. -1 on a read
 * error (-errno in *err), -2 on a write error (the destination refused). */
static int transfer(struct vfmed_runner *r, uint64_t *moved, int *err)
{
	struct vfmed_mig *m = &r->mig;
	uint32_t cap = v1(r) ? V1_DATA_AREA : (uint32_t)(r->vfu.max_data_xfer < m->buf_len ? r->vfu.max_data_xfer : m->buf_len);

	for (;;) {
		int n = src_read(r, m->buf, cap);
		if (n < 0) {
			*err = n;
			return -1;
		}
		if (n > 0) {
			int rc = dst_write(r, &m->dst, m->dst_region, m->buf, (uint32_t)n);
			if (rc) {
				*err = rc;
				return -2;
			}
			*moved += (uint64_t)n;
		}
		if (v1(r) ? n == 0 : (uint32_t)n < cap)
			return 0;
	}
}

static int find_v1_region(struct vfmed_vfu *c, uint32_t num_regions)
{
	return vfmed_vfu_find_region(c, num_regions, VFU_REGION_TYPE_MIGRATION_V1,
				     VFU_REGION_SUBTYPE_MIGRATION_V1);
}

static void close_dst(struct vfmed_mig *m)
{
	if (m->dst_open)
		vfmed_vfu_close(&m->dst);
	m->dst_open = 0;
}

/* Puts the source back to RUNNING after a failed attempt (best effort, reported). */
static void source_back(struct vfmed_runner *r)
{
	int rc = set_state(r, &r->vfu, r->mig.src_region, VFU_MIG_RUNNING);
	if (rc)
		fprintf(stderr, "vfmed-guest: migration: could not return the source to RUNNING: %s\n",
			strerror(-rc));
}

int vfmed_mig_begin(struct vfmed_runner *r)
{
	struct vfmed_mig *m = &r->mig;
	uint64_t flags = 0;
	int rc, err = 0;

	if (m->phase != VFMED_MIG_IDLE)
		return -EBUSY;
	if (!m->buf) {
		m->buf = malloc(XFER_BUF);
		if (!m->buf)
			return -ENOMEM;
		m->buf_len = XFER_BUF;
	}
	m->precopy_bytes = m->stopcopy_bytes = m->downtime_ns = 0;
	rc = vfmed_runner_open(r, &m->dst, r->o->migrate_to, &m->dst_dev);
	if (rc)
		return rc;
	m->dst_open = 1;
	vfmed_vfu_add_dma_target(&m->dst, r->ram.base, r->ram.size, r->ram.host);
	if (v1(r)) {
		m->src_region = find_v1_region(&r->vfu, r->dev.num_regions);
		m->dst_region = find_v1_region(&m->dst, m->dst_dev.num_regions);
		if (m->src_region < 0 || m->dst_region < 0) {
			rc = m->src_region < 0 ? m->src_region : m->dst_region;
			vfmed_json_migration(r, "failed", rc, "no v1 migration region");
			close_dst(m);
			return rc;
		}
	} else {
		rc = vfmed_vfu_mig_flags(&r->vfu, &flags);
		if (!rc && !(flags & VFU_MIGRATION_PRE_COPY))
			rc = -EOPNOTSUPP;
		if (rc) {
			vfmed_json_migration(r, "failed", rc, "the source has no PRE_COPY migration");
			close_dst(m);
			return rc;
		}
	}
	rc = set_state(r, &m->dst, m->dst_region, VFU_MIG_RESUMING);
	if (rc) {
		vfmed_json_migration(r, "failed", rc, "destination RESUMING");
		close_dst(m);
		return rc;
	}
	rc = set_state(r, &r->vfu, m->src_region, VFU_MIG_PRE_COPY);
	if (rc) {
		vfmed_json_migration(r, "failed", rc, "source PRE_COPY");
		close_dst(m);
		return rc;
	}
	/* The initial data opens with the device model and its parameters: an incompatible
	 * destination refuses it here, while the source still runs. */
	rc = transfer(r, &m->precopy_bytes, &err);
	if (rc) {
		vfmed_json_migration(r, rc == -2 ? "refused" : "failed", err,
				     rc == -2 ? "the destination refused the stream" : "reading the source");
		source_back(r);
		close_dst(m);
		if (rc == -2) {
			m->refused++;
			return 1;
		}
		return err;
	}
	m->phase = VFMED_MIG_PRECOPY;
	m->precopy_deadline_ns = vfmed_now_ns() + (uint64_t)r->o->precopy_ms * 1000000ull;
	vfmed_json_migration(r, "precopy", 0, NULL);
	return 0;
}

int vfmed_mig_complete(struct vfmed_runner *r)
{
	struct vfmed_mig *m = &r->mig;
	uint64_t t0 = vfmed_now_ns();
	int rc, err = 0;

	if (m->phase != VFMED_MIG_PRECOPY)
		return -EINVAL;
	/* The guest is stopped from here: this runs between two iterations of its loop. */
	rc = set_state(r, &r->vfu, m->src_region, VFU_MIG_STOP_COPY);
	if (rc) {
		vfmed_json_migration(r, "failed", rc, "source STOP_COPY");
		goto back;
	}
	rc = transfer(r, &m->stopcopy_bytes, &err);
	if (rc) {
		vfmed_json_migration(r, rc == -2 ? "refused" : "failed", err, "stop-copy data");
		rc = err;
		goto back;
	}
	/* Before the destination runs, it must reach guest RAM and decode its BARs. */
	rc = vfmed_vfu_dma_map(&m->dst, r->ram.base, r->ram.size, r->ram.fd, r->ram.file_off,
			       VFU_DMA_F_READ | VFU_DMA_F_WRITE);
	if (!rc)
		rc = vfmed_runner_pci_config(r, &m->dst);
	if (rc) {
		vfmed_json_migration(r, "failed", rc, "destination DMA_MAP / config space");
		goto back;
	}
	rc = set_state(r, &m->dst, m->dst_region, VFU_MIG_RUNNING);
	if (rc) {
		vfmed_json_migration(r, "refused", rc, "the destination could not load the state");
		goto back;
	}
	rc = set_state(r, &r->vfu, m->src_region, VFU_MIG_STOP);
	if (rc)
		fprintf(stderr, "vfmed-guest: migration: source STOP failed (%s); leaving it\n", strerror(-rc));
	/* Switch: the destination connection becomes the device. */
	vfmed_vfu_close(&r->vfu);
	r->vfu = m->dst;
	r->dev = m->dst_dev;
	m->dst_open = 0;
	r->dma_mapped = 1;
	rc = vfmed_runner_bind(r, 0, 0);
	if (rc) {
		vfmed_json_migration(r, "failed", rc, "re-binding on the destination");
		return rc;
	}
	m->downtime_ns = vfmed_now_ns() - t0;
	m->phase = VFMED_MIG_DONE;
	r->vf.st->migrations++;
	vfmed_json_migration(r, "done", 0, NULL);
	m->phase = VFMED_MIG_IDLE;
	return 0;
back:
	source_back(r);
	close_dst(m);
	m->phase = VFMED_MIG_IDLE;
	m->refused++;
	return 1;
}

int vfmed_mig_save_file(struct vfmed_runner *r)
{
	struct vfmed_mig *m = &r->mig;
	uint8_t *buf = malloc(XFER_BUF);
	uint64_t total = 0;
	int fd, rc;

	if (!buf)
		return -ENOMEM;
	fd = open(r->o->save_to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	if (v1(r))
		m->src_region = find_v1_region(&r->vfu, r->dev.num_regions);
	rc = v1(r) && m->src_region < 0 ? m->src_region : set_state(r, &r->vfu, m->src_region, VFU_MIG_STOP_COPY);
	m->buf = buf;
	m->buf_len = XFER_BUF;
	while (!rc) {
		uint32_t cap = v1(r) ? V1_DATA_AREA : XFER_BUF;
		int n = src_read(r, buf, cap);
		if (n < 0) {
			rc = n;
			break;
		}
		if (n && write(fd, buf, (size_t)n) != n) {
			rc = -EIO;
			break;
		}
		total += (uint64_t)n;
		if (v1(r) ? n == 0 : (uint32_t)n < cap)
			break;
	}
	if (close(fd) && !rc)
		rc = -errno;
	m->stopcopy_bytes = total;
	if (!rc)
		rc = set_state(r, &r->vfu, m->src_region, VFU_MIG_STOP);
	vfmed_json_migration(r, rc ? "failed" : "saved", rc, rc ? "saving the VF state" : NULL);
	return rc;
}

int vfmed_mig_load_file(struct vfmed_runner *r)
{
	struct vfmed_mig *m = &r->mig;
	uint8_t *buf;
	int fd, rc;
	ssize_t n = 0;

	fd = open(r->o->load_from, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(XFER_BUF);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	m->dst_region = v1(r) ? find_v1_region(&r->vfu, r->dev.num_regions) : 0;
	rc = m->dst_region < 0 ? m->dst_region : set_state(r, &r->vfu, m->dst_region, VFU_MIG_RESUMING);
	while (!rc && (n = read(fd, buf, XFER_BUF)) > 0) {
		rc = dst_write(r, &r->vfu, m->dst_region, buf, (uint32_t)n);
		m->stopcopy_bytes += (uint64_t)n;
	}
	if (!rc && n < 0)
		rc = -errno;
	close(fd);
	free(buf);
	if (!rc)
		rc = vfmed_runner_pci_config(r, &r->vfu);
	if (!rc)
		rc = set_state(r, &r->vfu, m->dst_region, VFU_MIG_RUNNING);
	vfmed_json_migration(r, rc ? "failed" : "loaded", rc, rc ? "loading the VF state" : NULL);
	return rc;
}

void vfmed_mig_cleanup(struct vfmed_runner *r)
{
	close_dst(&r->mig);
	free(r->mig.buf);
	r->mig.buf = NULL;
}
