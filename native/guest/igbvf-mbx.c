/* SPDX-License-Identifier: MIT */
/*
 * igbvf-mbx.c - VF side of the 82576 PF/VF mailbox (igbvf-vf.md 3.1-3.3).
 *
 * V2PMAILBOX read-to-clear bits (PFSTS, PFACK, RSTD) are accumulated in st->mbx_r2c on
 * every read and consumed one at a time, so a single read that returns PFACK and PFSTS
 * together (what an emulated PF does) satisfies both waits, as in the Linux driver.
 * Every wait is bounded by vf->mbx_timeout_ms and ends in -ETIMEDOUT.
 */
#define _GNU_SOURCE
#include "igbvf-pmd.h"

#include <errno.h>
#include <time.h>

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void pause_us(unsigned us)
{
	struct timespec ts = { 0, (long)us * 1000 };
	nanosleep(&ts, NULL);
}

static uint32_t mbx_read(struct vfmed_vf *vf)
{
	uint32_t v = vf_rd32(vf, E1000_V2PMAILBOX);
	vf->st->mbx_r2c |= v & E1000_V2PMAILBOX_R2C_BITS;
	return v;
}

/* True (and consumed) if one of mask's read-to-clear bits has been seen. */
static int mbx_take(struct vfmed_vf *vf, uint32_t mask)
{
	mbx_read(vf);
	if (vf->st->mbx_r2c & mask) {
		vf->st->mbx_r2c &= ~mask;
		return 1;
	}
	return 0;
}

static int mbx_wait(struct vfmed_vf *vf, uint32_t mask, const char *what)
{
	uint64_t deadline = now_ms() + vf->mbx_timeout_ms;

	for (;;) {
		if (mbx_take(vf, mask))
			return 0;
		if (now_ms() >= deadline) {
			vf->err = what;
			return -ETIMEDOUT;
		}
		pause_us(50);
	}
}

static int mbx_lock(struct vfmed_vf *vf)
{
	uint64_t deadline = now_ms() + vf->mbx_timeout_ms;

	for (;;) {
		vf_wr32(vf, E1000_V2PMAILBOX, E1000_V2PMAILBOX_VFU);
		if (mbx_read(vf) & E1000_V2PMAILBOX_VFU)
			return 0;
		if (now_ms() >= deadline) {
			vf->err = "mailbox lock (VFU) not granted";
			return -ETIMEDOUT;
		}
		pause_us(50);
	}
}

int vfmed_mbx_write_posted(struct vfmed_vf *vf, const uint32_t *msg, unsigned n)
{
	int rc;

	if (n == 0 || n > E1000_VMBMEM_WORDS)
		return -EINVAL;
	rc = mbx_lock(vf);
	if (rc)
		return rc;
	/* We overwrite the buffer: any pending PF message or ack is stale now. */
	vf->st->mbx_r2c &= ~(E1000_V2PMAILBOX_PFSTS | E1000_V2PMAILBOX_PFACK);
	for (unsigned i = 0; i < n; i++)
		vf_wr32(vf, E1000_VMBMEM(i), msg[i]);
	/* REQ rings the PF and, having VFU clear, releases the lock. */
	vf_wr32(vf, E1000_V2PMAILBOX, E1000_V2PMAILBOX_REQ);
	return mbx_wait(vf, E1000_V2PMAILBOX_PFACK, "PF did not acknowledge the message (PFACK)");
}

int vfmed_mbx_read_posted(struct vfmed_vf *vf, uint32_t *msg, unsigned n)
{
	int rc;

	if (n == 0 || n > E1000_VMBMEM_WORDS)
		return -EINVAL;
	rc = mbx_wait(vf, E1000_V2PMAILBOX_PFSTS, "PF did not answer (PFSTS)");
	if (rc)
		return rc;
	rc = mbx_lock(vf);
	if (rc)
		return rc;
	for (unsigned i = 0; i < n; i++)
		msg[i] = vf_rd32(vf, E1000_VMBMEM(i));
	/* ACK tells the PF we consumed its message and releases the lock. */
	vf_wr32(vf, E1000_V2PMAILBOX, E1000_V2PMAILBOX_ACK);
	return 0;
}
