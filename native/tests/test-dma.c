/* SPDX-License-Identifier: MIT */
/* test-dma.c - DMA maps and bounds: map API errors, descriptors pointing just outside a
 * map (between guard pages of the backing file) fault the queue without touching them,
 * maps spanning adjacent ranges, read-only maps, unmap under a live ring, and the
 * ground-truth log. */
#define _GNU_SOURCE
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "tnic.h"

#define RXR   (GIOVA)
#define TXR   (GIOVA + 0x1000)
#define RXB   (GIOVA + 0x10000)
#define XIOVA 0x80000000ull     /* the guarded window */

static int mkfd(size_t size, uint8_t **map, uint8_t fill)
{
	int fd = memfd_create("dmatest", MFD_CLOEXEC);

	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, (off_t)size) == 0);
	*map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(*map != MAP_FAILED);
	memset(*map, fill, size);
	return fd;
}

static bool all(const uint8_t *p, size_t n, uint8_t v)
{
	while (n--)
		if (*p++ != v)
			return false;
	return true;
}

TEST(dma_map_api_errors)
{
	struct tnic t;
	uint8_t *m;
	int fd, efd;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	fd = mkfd(3 * 4096, &m, 0);
	CHECK_EQ(vfmed_vf_dma_map(t.nic, 0, XIOVA, 0, fd, 0, 3), -EINVAL);
	CHECK_EQ(vfmed_vf_dma_map(t.nic, 0, XIOVA, 4096, fd, 0, 0), -EINVAL);
	CHECK_EQ(vfmed_vf_dma_map(t.nic, 0, XIOVA, 4096, fd, 0, 8), -EINVAL);
	CHECK_EQ(vfmed_vf_dma_map(t.nic, 0, XIOVA, 4096, -1, 0, 3), -EBADF);
	CHECK_EQ(vfmed_vf_dma_map(t.nic, 0, XIOVA, 4096, 9999, 0, 3), -EBADF);
	CHECK_EQ(vfmed_vf_dma_map(t.nic, 0, XIOVA, 4096, fd, 3 * 4096, 3), -EINVAL);
	CHECK_EQ(vfmed_vf_dma_map(t.nic, 0, XIOVA, 3 * 4096 + 1, fd, 0, 3), -EINVAL);
	CHECK_EQ(vfmed_vf_dma_map(t.nic, 0, UINT64_MAX - 100, 4096, fd, 0, 3), -EINVAL);
	CHECK_EQ(vfmed_vf_dma_map(t.nic, 9, XIOVA, 4096, fd, 0, 3), -EINVAL);
	efd = eventfd(0, EFD_CLOEXEC);
	CHECK_EQ(vfmed_vf_dma_map(t.nic, 0, XIOVA, 4096, efd, 0, 3), -EINVAL);
	close(efd);
	/* Overlap with the fixture's guest RAM map, partial and total. */
	CHECK_EQ(vfmed_vf_dma_map(t.nic, 0, GIOVA - 4096, 8192, fd, 0, 3), -EEXIST);
	CHECK_EQ(vfmed_vf_dma_map(t.nic, 0, GIOVA + 4096, 4096, fd, 0, 3), -EEXIST);
	CHECK_EQ(vfmed_vf_dma_map(t.nic, 0, GIOVA + GMEMSZ - 1, 4096, fd, 0, 3), -EEXIST);
	/* Unaligned offsets are fine; the fd may be closed after mapping. */
	CHECK_EQ(vfmed_vf_dma_map(t.nic, 0, XIOVA, 100, fd, 4096 + 10, 3), 0);
	CHECK_EQ(vfmed_vf_dma_unmap(t.nic, 0, XIOVA, 99), -ENOENT);
	CHECK_EQ(vfmed_vf_dma_unmap(t.nic, 0, XIOVA + 1, 100), -ENOENT);
	CHECK_EQ(vfmed_vf_dma_unmap(t.nic, 0, XIOVA, 100), 0);
	CHECK_EQ(vfmed_vf_dma_unmap(t.nic, 0, XIOVA, 100), -ENOENT);
	/* Same IOVA on another VF is another address space. */
	CHECK_EQ(vfmed_vf_dma_map(t.nic, 1, XIOVA, 4096, fd, 0, 3), 0);
	CHECK_EQ(vfmed_vf_dma_unmap_all(t.nic, 1), 0);
	CHECK_EQ(vfmed_vf_dma_unmap(t.nic, 1, GIOVA, GMEMSZ), -ENOENT);
	munmap(m, 3 * 4096);
	close(fd);
	tnic_close(&t);
}

/* A 3-page file, only the middle page mapped at XIOVA: pages 0 and 2 are what a device bug
 * would overwrite through the file, and in the device's own address space the window is
 * flanked by PROT_NONE guard pages (dma-map.c), so a stray access would crash this test
 * rather than pass silently. Descriptors pointing one byte outside fault the queue. */
TEST(dma_descriptors_just_outside_map_fault_without_touching)
{
	struct tnic t;
	uint8_t *m, f[200], mac[6];
	int fd;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	vf_mac(&t, 0, mac);
	fd = mkfd(3 * 4096, &m, 0xA5);
	REQUIRE_EQ(vfmed_vf_dma_map(t.nic, 0, XIOVA, 4096, fd, 4096, 3), 0);
	close(fd);
	mk_frame(f, mac, mac, 1, 200);

	/* RX: buffer starts one byte before the map. */
	rxq_arm(&t, 0, RXR, 0, XIOVA - 1);
	rxq_setup(&t, 0, 0, RXR, 8, 0, 2, false);
	CHECK_EQ(vfmed_uplink_inject(t.nic, f, 200), 0);   /* accepted into the FIFO */
	CHECK_EQ(rd(&t, 0, VFMED_RQERR(0)), VFMED_QERR_DESC_ADDR);
	CHECK_EQ(rd(&t, 0, E1000_RXDCTL(0)) & E1000_XDCTL_ENABLE, 0);
	CHECK_EQ(rx_desc(&t, 0, RXR, 0).status, 0);        /* no write-back either */
	/* RX: buffer ends one byte past the map. */
	rxq_arm(&t, 0, RXR, 0, XIOVA + 4096 - 199);
	rxq_setup(&t, 0, 0, RXR, 8, 0, 2, false);
	CHECK_EQ(rd(&t, 0, VFMED_RQERR(0)), VFMED_QERR_DESC_ADDR);
	CHECK(all(m, 3 * 4096, 0xA5));
	/* Exactly fitting at the end is fine; the frame was kept across the faults. */
	rxq_arm(&t, 0, RXR, 0, XIOVA + 4096 - 200);
	rxq_setup(&t, 0, 0, RXR, 8, 0, 2, false);
	CHECK_EQ(rd(&t, 0, VFMED_RQERR(0)), 0);
	CHECK(!memcmp(m + 2 * 4096 - 200, f, 200));
	CHECK(all(m, 4096, 0xA5));
	CHECK(all(m + 2 * 4096, 4096, 0xA5));
	CHECK(all(m + 4096, 4096 - 200, 0xA5));

	/* TX: buffer crossing the end of the map. */
	txq_setup(&t, 0, 0, TXR, 8, false);
	tx_desc(&t, 0, TXR, 0, XIOVA + 4000, 200,
	        E1000_ADVTXD_DTYP_DATA | E1000_ADVTXD_DCMD_DEXT | E1000_ADVTXD_DCMD_EOP, 0);
	wr(&t, 0, E1000_TDT(0), 1);
	CHECK_EQ(rd(&t, 0, VFMED_TQERR(0)), VFMED_QERR_DESC_ADDR);
	/* Ring whose end pokes out of the map: 16 descriptors from 128 bytes before the end. */
	wr(&t, 0, E1000_RXDCTL(0), 0);
	wr(&t, 0, E1000_RDBAL(0), (uint32_t)(XIOVA + 4096 - 128));
	wr(&t, 0, E1000_RDBAH(0), (uint32_t)(XIOVA >> 32));
	wr(&t, 0, E1000_RDLEN(0), 256);
	wr(&t, 0, E1000_RXDCTL(0), E1000_XDCTL_ENABLE);
	wr(&t, 0, E1000_RDT(0), 5);
	CHECK_EQ(vfmed_uplink_inject(t.nic, f, 200), 0);
	CHECK_EQ(rd(&t, 0, VFMED_RQERR(0)), VFMED_QERR_RING_BASE);
	CHECK(all(m + 2 * 4096, 4096, 0xA5));
	CHECK_EQ(rd(&t, 0, VFMED_VFDMAERR), 4);
	munmap(m, 3 * 4096);
	tnic_close(&t);
}

TEST(dma_buffer_spanning_adjacent_maps)
{
	struct tnic t;
	uint8_t *a, *b, f[300], mac[6];
	int fa, fb;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	vf_mac(&t, 0, mac);
	fa = mkfd(4096, &a, 0);
	fb = mkfd(4096, &b, 0);
	REQUIRE_EQ(vfmed_vf_dma_map(t.nic, 0, XIOVA, 4096, fa, 0, 3), 0);
	REQUIRE_EQ(vfmed_vf_dma_map(t.nic, 0, XIOVA + 4096, 4096, fb, 0, 3), 0);
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 2, false);
	rxq_arm(&t, 0, RXR, 0, XIOVA + 4096 - 100);
	mk_frame(f, mac, mac, 3, 300);
	CHECK_EQ(vfmed_uplink_inject(t.nic, f, 300), 0);
	CHECK_EQ(rd(&t, 0, VFMED_RQERR(0)), 0);
	CHECK(!memcmp(a + 4096 - 100, f, 100));
	CHECK(!memcmp(b, f + 100, 200));
	munmap(a, 4096);
	munmap(b, 4096);
	close(fa);
	close(fb);
	tnic_close(&t);
}

TEST(dma_read_only_map_refuses_device_writes)
{
	struct tnic t;
	uint8_t *m, f[100], mac[6];
	int fd;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	vf_mac(&t, 0, mac);
	fd = mkfd(4096, &m, 0x5A);
	REQUIRE_EQ(vfmed_vf_dma_map(t.nic, 0, XIOVA, 4096, fd, 0, VFMED_DMA_READ), 0);
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 2, false);
	rxq_arm(&t, 0, RXR, 0, XIOVA);
	mk_frame(f, mac, mac, 3, 100);
	CHECK_EQ(vfmed_uplink_inject(t.nic, f, 100), 0);
	CHECK_EQ(rd(&t, 0, VFMED_RQERR(0)), VFMED_QERR_DESC_ADDR);
	CHECK(all(m, 4096, 0x5A));
	munmap(m, 4096);
	close(fd);
	tnic_close(&t);
}

TEST(dma_unmap_under_enabled_ring_faults_on_next_use)
{
	struct tnic t;
	uint8_t f[100], mac[6];

	tnic_open(&t, &(struct tnic_opts){ 0 });
	vf_mac(&t, 0, mac);
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 2, false);
	txq_setup(&t, 0, 0, TXR, 8, false);
	mk_frame(f, mac, mac, 1, 100);
	CHECK_EQ(vfmed_uplink_inject(t.nic, f, 100), 0);
	CHECK_EQ(rd(&t, 0, E1000_RDH(0)), 1);
	REQUIRE_EQ(vfmed_vf_dma_unmap(t.nic, 0, GIOVA, GMEMSZ), 0);
	CHECK_EQ(vfmed_uplink_inject(t.nic, f, 100), 0);
	CHECK_EQ(rd(&t, 0, VFMED_RQERR(0)), VFMED_QERR_RING_BASE);
	wr(&t, 0, E1000_TDT(0), 1);
	CHECK_EQ(rd(&t, 0, VFMED_TQERR(0)), VFMED_QERR_RING_BASE);
	/* Map again, re-enable: the frame that waited in the FIFO arrives. */
	REQUIRE_EQ(vfmed_vf_dma_map(t.nic, 0, GIOVA, GMEMSZ, t.gfd[0], 0, 3), 0);
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 2, false);
	CHECK_EQ(rd(&t, 0, VFMED_RQERR(0)), 0);
	CHECK(rx_desc(&t, 0, RXR, 0).status & E1000_RXD_STAT_DD);
	tnic_close(&t);
}

TEST(dma_truth_log_records_device_writes)
{
	struct tnic t;
	uint8_t f[3000], mac[6], bm[64];
	int n;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	vf_mac(&t, 0, mac);
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 2, false);
	CHECK_EQ(vfmed_vf_truth_read(t.nic, 0, GIOVA, GMEMSZ, bm, sizeof(bm), 1), 0);
	mk_frame(f, mac, mac, 1, 3000);   /* 2 buffers: RXB page 0..1 (4 KiB) */
	CHECK_EQ(vfmed_uplink_inject(t.nic, f, 3000), 0);
	n = vfmed_vf_truth_read(t.nic, 0, GIOVA, GMEMSZ, bm, sizeof(bm), 0);
	CHECK_EQ(n, 2);   /* ring page 0 and buffer page 0x10 (2 x 2 KiB in one page) */
	CHECK_EQ(bm[0], 0x01);
	CHECK_EQ(bm[2], 0x01);
	n = vfmed_vf_truth_read(t.nic, 0, GIOVA, GMEMSZ, bm, sizeof(bm), 1);
	CHECK_EQ(n, 2);
	CHECK_EQ(vfmed_vf_truth_read(t.nic, 0, GIOVA, GMEMSZ, bm, sizeof(bm), 0), 0);
	CHECK_EQ(vfmed_vf_truth_read(t.nic, 0, GIOVA + 1, 4096, bm, sizeof(bm), 0), -EINVAL);
	CHECK_EQ(vfmed_vf_truth_read(t.nic, 0, GIOVA, GMEMSZ, bm, 31, 0), -ENOSPC);
	CHECK_EQ(vfmed_vf_truth_read(t.nic, 0, GIOVA, 0, bm, 31, 0), -EINVAL);
	tnic_close(&t);
}
