/* SPDX-License-Identifier: MIT */
/* test-basic.c - NIC lifetime, PF BAR identity, BAR backing and register access rules. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "tnic.h"

TEST(create_rejects_bad_config)
{
	struct vfmed_nic_config c = { .max_vfs = 0 };
	struct vfmed_nic *n = (void *)1;

	CHECK_EQ(vfmed_nic_create(&c, &n), -EINVAL);
	CHECK(n == NULL);
	c.max_vfs = 9;
	CHECK_EQ(vfmed_nic_create(&c, &n), -EINVAL);
	c.max_vfs = 2;
	c.rx_fifo_bytes = 100;
	CHECK_EQ(vfmed_nic_create(&c, &n), -EINVAL);
	c.rx_fifo_bytes = 0;
	c.poll_mode = 7;
	CHECK_EQ(vfmed_nic_create(&c, &n), -EINVAL);
	c.poll_mode = 0;
	c.base_mac[0] = 1;
	CHECK_EQ(vfmed_nic_create(&c, &n), -EINVAL);
	c.base_mac[0] = 2;
	c.shm_dir = "/tmp";
	c.shm_prefix = "a/b";
	CHECK_EQ(vfmed_nic_create(&c, &n), -EINVAL);
	CHECK_EQ(vfmed_nic_create(NULL, &n), -EINVAL);
}

TEST(pf_bar_identity)
{
	struct tnic t;
	uint32_t st, hb;

	tnic_open(&t, &(struct tnic_opts){ .max_vfs = 4, .num_vfs = 3 });
	CHECK_EQ(t.pf[VFPF_MAGIC_REG / 4], VFPF_MAGIC);
	CHECK_EQ(t.pf[VFPF_ABI_VERSION / 4], VFPF_ABI_MAJOR << 16 | VFPF_ABI_MINOR);
	CHECK_EQ(t.pf[VFPF_MODEL / 4], VFPF_MODEL_ID);
	CHECK_EQ(VFPF_CAPS_MAX_VFS(t.pf[VFPF_CAPS / 4]), 4);
	CHECK_EQ(VFPF_CAPS_QUEUES(t.pf[VFPF_CAPS / 4]), 2);
	CHECK(t.pf[VFPF_CAPS / 4] & VFPF_CAPS_DIRTY_LOG);
	st = t.pf[VFPF_STATUS / 4];
	CHECK(st & VFPF_STATUS_LU);
	CHECK(st & VFPF_STATUS_IOV);
	CHECK_EQ((st >> VFPF_STATUS_NUMVFS_SHIFT) & 0xF, 3);
	/* The VF sees the PF's STATUS. */
	CHECK_EQ(rd(&t, 0, E1000_VF_STATUS), st);
	hb = t.pf[VFPF_HEARTBEAT / 4];
	vfmed_nic_poll(t.nic);
	CHECK_EQ(t.pf[VFPF_HEARTBEAT / 4], hb + 1);
	CHECK_EQ(vfmed_nic_max_vfs(t.nic), 4);
	CHECK(vfmed_nic_pf_bar_path(t.nic) == NULL);
	tnic_close(&t);
}

TEST(shm_dir_files_created_and_removed)
{
	char dir[] = "/tmp/vfmed-test-XXXXXX", path[256];
	struct vfmed_nic_config c = { .max_vfs = 2, .shm_dir = NULL, .shm_prefix = "nicA" };
	struct vfmed_nic *n, *n2;
	struct stat st;

	REQUIRE(mkdtemp(dir));
	c.shm_dir = dir;
	REQUIRE_EQ(vfmed_nic_create(&c, &n), 0);
	snprintf(path, sizeof(path), "%s/nicA-pf-bar", dir);
	CHECK(!strcmp(vfmed_nic_pf_bar_path(n), path));
	CHECK(stat(path, &st) == 0 && st.st_size == VFPF_BAR_SIZE);
	snprintf(path, sizeof(path), "%s/nicA-vf1-bar0", dir);
	CHECK(!strcmp(vfmed_nic_vf_bar_path(n, 1), path));
	CHECK(stat(path, &st) == 0 && st.st_size == VFMED_VF_BAR0_SIZE);
	CHECK(vfmed_nic_vf_bar_path(n, 2) == NULL);
	/* A second instance with the same prefix must not silently share the BARs. */
	CHECK_EQ(vfmed_nic_create(&c, &n2), -EEXIST);
	vfmed_nic_destroy(n);
	CHECK(stat(path, &st) < 0 && errno == ENOENT);
	snprintf(path, sizeof(path), "%s/nicA-pf-bar", dir);
	CHECK(stat(path, &st) < 0 && errno == ENOENT);
	rmdir(dir);
}

TEST(reg_access_rules)
{
	struct tnic t;
	uint64_t v;

	tnic_open(&t, &(struct tnic_opts){ .max_vfs = 3, .num_vfs = 2 });
	CHECK_EQ(vfmed_vf_reg_read(t.nic, 0, 0x4000, 4, &v), -EINVAL);
	CHECK_EQ(vfmed_vf_reg_read(t.nic, 0, 0x3FFC, 8, &v), -EINVAL);
	CHECK_EQ(vfmed_vf_reg_read(t.nic, 0, 0x2, 4, &v), -EINVAL);
	CHECK_EQ(vfmed_vf_reg_read(t.nic, 0, 0x0, 3, &v), -EINVAL);
	CHECK_EQ(vfmed_vf_reg_read(t.nic, 3, 0x0, 4, &v), -EINVAL);
	CHECK_EQ(vfmed_vf_reg_write(t.nic, 0, 0x1, 2, 0), -EINVAL);
	/* VF 2 exists but SR-IOV did not enable it. */
	CHECK_EQ(vfmed_vf_reg_read(t.nic, 2, 0x8, 4, &v), -ENODEV);
	/* Unknown offsets read 0 and ignore writes, even when the client scribbled there. */
	wr(&t, 0, 0x2FF0, 0x12345678);
	CHECK_EQ(rd(&t, 0, 0x2FF0), 0);
	t.vbar[0][0x2FF0 / 4] = 0xAAAA5555;
	CHECK_EQ(rd(&t, 0, 0x2FF0), 0);
	CHECK_EQ(rd(&t, 0, 0x0100), 0);
	/* Reset values. */
	CHECK_EQ(rd(&t, 0, E1000_RXDCTL(0)), E1000_RXDCTL_RESET);
	CHECK_EQ(rd(&t, 0, E1000_TXCTL(1)), E1000_TXCTL_RESET);
	CHECK_EQ(rd(&t, 0, E1000_TXDCTL(0)), 0);
	/* Narrow and wide accesses of plain registers. */
	wr(&t, 0, E1000_RDBAL(1), 0x11223344);
	CHECK_EQ(vfmed_vf_reg_write(t.nic, 0, E1000_RDBAL(1) + 2, 2, 0xBEEF), 0);
	CHECK_EQ(rd(&t, 0, E1000_RDBAL(1)), 0xBEEF3344);
	CHECK_EQ(vfmed_vf_reg_read(t.nic, 0, E1000_RDBAL(1) + 1, 1, &v), 0);
	CHECK_EQ(v, 0x33);
	CHECK_EQ(vfmed_vf_reg_write(t.nic, 0, E1000_RDBAL(1), 8, 0x0000000500001000ull), 0);
	CHECK_EQ(vfmed_vf_reg_read(t.nic, 0, E1000_RDBAL(1), 8, &v), 0);
	CHECK_EQ(v, 0x0000000500001000ull);
	/* Heads/tails are 16 bits; RQDPC/RQERR are read-only. */
	wr(&t, 0, E1000_RDT(1), 0x12345);
	CHECK_EQ(rd(&t, 0, E1000_RDT(1)), 0x2345);
	wr(&t, 0, VFMED_RQERR(0), 3);
	CHECK_EQ(rd(&t, 0, VFMED_RQERR(0)), 0);
	/* STATUS and statistics ignore writes. */
	wr(&t, 0, E1000_VFGPRC, 77);
	CHECK_EQ(rd(&t, 0, E1000_VFGPRC), 0);
	CHECK_EQ(rd(&t, 0, E1000_VF_CTRL), 0);
	tnic_close(&t);
}
