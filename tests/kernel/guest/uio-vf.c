// SPDX-License-Identifier: MIT
/*
 * uio-vf.c - a userspace poll-mode driver for one emulated 82576 VF, run inside the QEMU
 * guest of the kernel test: the "Userspace (UIO) NIC VF" path for real. The VF's BAR0 is an
 * ivshmem-plain device whose BAR2 is the hardware model's VF BAR file; the device is bound
 * to uio_pci_generic and this program maps the BAR through
 * /sys/bus/pci/devices/<bdf>/resource2 (uio_pci_generic itself exposes no BAR maps), the
 * way DPDK's igb_uio/uio_pci_generic path does.
 *
 * What it touches, and why only that:
 *  - Pages 2-3 of BAR0 (RX/TX queue registers and the RDT/TDT doorbells): the passthrough
 *    part of the BAR. Stores land in the shared file; the host-side device polls them.
 *  - Never pages 0-1 (CTRL.RST, the mailbox, EICR): their registers have side effects on
 *    read or write that a plain shared-memory BAR cannot trap. In the kernel test the host
 *    performs the VF reset and the VF_RESET mailbox handshake through the model's trapped
 *    register path (as a mediator does for trapped pages); the PF driver in this guest
 *    answers that handshake. /init starts this program only after the PF reports the VF's
 *    RX/TX enabled, i.e. after the handshake.
 *  - DMA memory: one 2 MiB hugepage (physically contiguous, locked, never migrated),
 *    addressed by guest-physical address from /proc/self/pagemap. With uio_pci_generic there
 *    is no IOMMU between the device and RAM; the host maps the guest RAM file as this VF's
 *    DMA space with IOVA = guest physical address (DPDK's "IOVA as PA").
 *
 * Test traffic (the format of kt-frame.h):
 *  - RX: expects --rx N frames of stream 1, seq 0..N-1 in order, every byte checked; the
 *    ring (64 entries) is recycled, so N > 64 exercises the tail wrap.
 *  - TX: sends --tx M frames of stream 2, seq 0..M-1, from --mac to --peer, waits for DD on
 *    every descriptor.
 *
 * Usage: uio-vf BDF --mac MAC --peer MAC [--rx N] [--tx M] [--timeout-ms T]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfmed/vf_regs.h"
#include "kt-frame.h"
#include "kt-util.h"

#define RING        64u
#define BUF_SIZE    2048u
#define HUGE_SIZE   (2u << 20)
/*
 * Layout of the hugepage (offsets; device addresses are pa + offset):
 *   0x00000 RX ring | 0x01000 TX ring | 0x10000 RX buffers (RING x 2 KiB) | TX buffers
 */
#define OFF_RXR     0x00000u
#define OFF_TXR     0x01000u
#define OFF_RXB     0x10000u
#define OFF_TXB     (OFF_RXB + RING * BUF_SIZE)

struct vf {
	volatile uint32_t *bar;   /* 16 KiB, only pages 2-3 touched */
	uint8_t *mem;             /* hugepage */
	uint64_t pa;              /* its guest-physical address */
	volatile struct e1000_adv_rx_desc_read *rxr;
	volatile struct e1000_adv_tx_desc *txr;
	uint32_t rx_next;         /* next RX descriptor to look at */
	uint32_t tx_next, tx_clean;
};

static void wr(struct vf *v, uint32_t off, uint32_t val)
{
	if (off < 2 * VFMED_PAGE_SIZE || off >= VFMED_VF_BAR0_SIZE)
		kt_fail("internal: store to 0x%x outside the passthrough pages", off);
	__atomic_store_n(&v->bar[off / 4], val, __ATOMIC_SEQ_CST);
}

static uint32_t rd(struct vf *v, uint32_t off)
{
	if (off < 2 * VFMED_PAGE_SIZE || off >= VFMED_VF_BAR0_SIZE)
		kt_fail("internal: load from 0x%x outside the passthrough pages", off);
	return __atomic_load_n(&v->bar[off / 4], __ATOMIC_SEQ_CST);
}

/* Checks the UIO binding, opens /dev/uioN (kept open for the program's life, as DPDK does)
 * and turns on bus mastering, which uio_pci_generic leaves to userspace. */
static int uio_open(const char *bdf)
{
	char drv[256], path[256], buf[256];
	uint16_t cmd;
	int fd, cfg, rc;

	rc = kt_pci_driver(bdf, drv, sizeof(drv));
	if (rc < 0)
		kt_fail("%s: cannot read its driver link: %s", bdf, strerror(-rc));
	if (strcmp(drv, "uio_pci_generic") != 0)
		kt_fail("%s is bound to '%s', not uio_pci_generic", bdf, drv[0] ? drv : "(none)");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/uio", bdf);
	{
		/* The uio/ directory holds exactly one uioN entry. */
		DIR *d = opendir(path);
		struct dirent *e;

		buf[0] = 0;
		while (d && (e = readdir(d)))
			if (!strncmp(e->d_name, "uio", 3))
				snprintf(buf, sizeof(buf), "%s", e->d_name);
		if (d)
			closedir(d);
		if (!buf[0])
			kt_fail("%s: no uio device under %s", bdf, path);
	}
	snprintf(path, sizeof(path), "/dev/%s", buf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		kt_fail("open %s: %s", path, strerror(errno));
	printf("uio: %s is %s\n", bdf, path);
	kt_data("uio-dev", "%s", buf);

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	cfg = open(path, O_RDWR | O_CLOEXEC);
	if (cfg < 0 || pread(cfg, &cmd, 2, 4) != 2)
		kt_fail("read PCI command register of %s: %s", bdf, strerror(errno));
	cmd |= 0x4; /* PCI_COMMAND_MASTER */
	if (pwrite(cfg, &cmd, 2, 4) != 2)
		kt_fail("set bus master on %s: %s", bdf, strerror(errno));
	close(cfg);
	return fd;
}

static void map_bar(struct vf *v, const char *bdf)
{
	char path[256];
	struct stat st;
	void *p;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource2", bdf);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		kt_fail("open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)VFMED_VF_BAR0_SIZE)
		kt_fail("%s: %lld bytes, a VF BAR0 has %u", path, (long long)st.st_size,
			VFMED_VF_BAR0_SIZE);
	p = mmap(NULL, VFMED_VF_BAR0_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		kt_fail("mmap %s: %s", path, strerror(errno));
	close(fd);
	v->bar = p;
	printf("uio: mapped %s (%lld bytes BAR, 16 KiB used)\n", path, (long long)st.st_size);
}

static void map_dma(struct vf *v)
{
	uint64_t pa = 0;
	void *p;
	int rc;

	p = mmap(NULL, HUGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE | MAP_LOCKED, -1, 0);
	if (p == MAP_FAILED)
		kt_fail("2 MiB hugepage: %s (boot with hugepages=N)", strerror(errno));
	memset(p, 0, HUGE_SIZE);
	rc = kt_virt_to_phys(p, &v->pa);
	if (rc < 0)
		kt_fail("pagemap lookup: %s", strerror(-rc));
	/* A hugepage is one physically contiguous block: check what we rely on. */
	for (uint32_t off = 0; off < HUGE_SIZE; off += 4096) {
		rc = kt_virt_to_phys((uint8_t *)p + off, &pa);
		if (rc < 0 || pa != v->pa + off)
			kt_fail("hugepage not contiguous at +0x%x (pa 0x%llx, expected 0x%llx)", off,
				(unsigned long long)pa, (unsigned long long)(v->pa + off));
	}
	if (v->pa & (HUGE_SIZE - 1))
		kt_fail("hugepage pa 0x%llx not 2 MiB aligned", (unsigned long long)v->pa);
	v->mem = p;
	v->rxr = (volatile void *)(v->mem + OFF_RXR);
	v->txr = (volatile void *)(v->mem + OFF_TXR);
	printf("uio: DMA memory: 2 MiB hugepage at pa 0x%llx\n", (unsigned long long)v->pa);
	kt_data("uio-dma-pa", "0x%llx", (unsigned long long)v->pa);
}

static void rx_arm(struct vf *v, uint32_t i)
{
	v->rxr[i].pkt_addr = v->pa + OFF_RXB + (uint64_t)i * BUF_SIZE;
	v->rxr[i].hdr_addr = 0; /* clears DD (bit 0 of the status dword's quadword) */
}

/* igbvf-vf.md 5, steps 5-6, on queue 0, through the passthrough pages only. */
static void rings_setup(struct vf *v)
{
	uint64_t rx = v->pa + OFF_RXR, tx = v->pa + OFF_TXR;

	wr(v, E1000_TXDCTL(0), rd(v, E1000_TXDCTL(0)) & ~E1000_XDCTL_ENABLE);
	wr(v, E1000_TDBAL(0), (uint32_t)tx);
	wr(v, E1000_TDBAH(0), (uint32_t)(tx >> 32));
	wr(v, E1000_TDLEN(0), RING * E1000_DESC_SIZE);
	wr(v, E1000_TDH(0), 0);
	wr(v, E1000_TDT(0), 0);
	wr(v, E1000_TXDCTL(0), E1000_XDCTL_ENABLE | E1000_RXDCTL_RESET);

	wr(v, E1000_RXDCTL(0), rd(v, E1000_RXDCTL(0)) & ~E1000_XDCTL_ENABLE);
	wr(v, E1000_RDBAL(0), (uint32_t)rx);
	wr(v, E1000_RDBAH(0), (uint32_t)(rx >> 32));
	wr(v, E1000_RDLEN(0), RING * E1000_DESC_SIZE);
	wr(v, E1000_SRRCTL(0), E1000_SRRCTL_DESCTYPE_ADV_ONEBUF | (BUF_SIZE / 1024));
	for (uint32_t i = 0; i < RING; i++)
		rx_arm(v, i);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr(v, E1000_RXDCTL(0), E1000_XDCTL_ENABLE | E1000_RXDCTL_RESET);
	wr(v, E1000_RDH(0), 0);
	wr(v, E1000_RDT(0), RING - 1); /* one descriptor held back: head == tail means empty */
	v->rx_next = 0;
	v->tx_next = v->tx_clean = 0;
	printf("uio: rings programmed: RX %u x %u B, TX %u (RXDCTL 0x%08x TXDCTL 0x%08x)\n",
	       RING, BUF_SIZE, RING, rd(v, E1000_RXDCTL(0)), rd(v, E1000_TXDCTL(0)));
}

static void check_queue_errors(struct vf *v, const char *when)
{
	uint32_t re = rd(v, VFMED_RQERR(0)), te = rd(v, VFMED_TQERR(0));

	if (re || te)
		kt_fail("%s: the device stopped a queue (RQERR %u TQERR %u, see vf_regs.h vfmed_qerr)",
			when, re, te);
}

static void do_rx(struct vf *v, uint32_t n, uint64_t deadline)
{
	uint32_t got = 0, stream, seq;
	char why[160];

	while (got < n) {
		volatile struct e1000_adv_rx_desc_wb *wb = (volatile void *)&v->rxr[v->rx_next];
		uint32_t st = wb->status_error, len;

		if (!(st & E1000_RXD_STAT_DD)) {
			/* A stopped queue never completes: report it now, not at the deadline. */
			check_queue_errors(v, "RX");
			if (kt_now_ms() > deadline) {
				check_queue_errors(v, "RX timeout");
				kt_fail("RX: %u of %u frames after the deadline (RDH %u RDT %u)", got, n,
					rd(v, E1000_RDH(0)), rd(v, E1000_RDT(0)));
			}
			kt_sleep_us(200);
			continue;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE); /* DD first, then the rest */
		len = wb->length;
		if (!(st & E1000_RXD_STAT_EOP))
			kt_fail("RX frame %u spans descriptors (status 0x%x); frames here fit 2 KiB", got, st);
		if (st & (E1000_RXDEXT_ERR_CE | E1000_RXDEXT_ERR_SE | E1000_RXDEXT_ERR_SEQ |
			  E1000_RXDEXT_ERR_CXE | E1000_RXDEXT_ERR_RXE))
			kt_fail("RX frame %u has error bits 0x%x", got, st);
		if (kt_frame_check(v->mem + OFF_RXB + v->rx_next * BUF_SIZE, len, &stream, &seq, why,
				   sizeof(why)) < 0)
			kt_fail("RX frame %u: %s", got, why);
		if (stream != 1 || seq != got)
			kt_fail("RX frame %u is stream %u seq %u (expected stream 1 seq %u: lost, "
				"duplicated or reordered)", got, stream, seq, got);
		got++;
		rx_arm(v, v->rx_next);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		wr(v, E1000_RDT(0), v->rx_next); /* hand the slot back: tail = last refilled */
		v->rx_next = (v->rx_next + 1) % RING;
	}
	printf("uio: RX %u frames, in order, every byte checked\n", got);
	kt_data("uio-rx-frames", "%u", got);
}

static void tx_reclaim(struct vf *v)
{
	while (v->tx_clean != v->tx_next &&
	       (v->txr[v->tx_clean].olinfo_status & E1000_ADVTXD_STA_DD))
		v->tx_clean = (v->tx_clean + 1) % RING;
}

static void do_tx(struct vf *v, uint32_t n, const uint8_t mac[6], const uint8_t peer[6],
		  uint64_t deadline)
{
	for (uint32_t seq = 0; seq < n; seq++) {
		uint32_t len = 60 + (seq * 97u) % 1454u, slot;

		while ((v->tx_next + 1) % RING == v->tx_clean) { /* keep one slot unused */
			tx_reclaim(v);
			check_queue_errors(v, "TX");
			if (kt_now_ms() > deadline) {
				check_queue_errors(v, "TX timeout");
				kt_fail("TX: ring full, no DD after the deadline (TDH %u TDT %u)",
					rd(v, E1000_TDH(0)), rd(v, E1000_TDT(0)));
			}
			kt_sleep_us(200);
		}
		slot = v->tx_next;
		kt_frame_build(v->mem + OFF_TXB + slot * BUF_SIZE, len, peer, mac, 2, seq);
		v->txr[slot].buffer_addr = v->pa + OFF_TXB + (uint64_t)slot * BUF_SIZE;
		v->txr[slot].cmd_type_len = len | E1000_ADVTXD_DTYP_DATA | E1000_ADVTXD_DCMD_DEXT |
					    E1000_ADVTXD_DCMD_IFCS | E1000_ADVTXD_DCMD_EOP |
					    E1000_ADVTXD_DCMD_RS;
		v->txr[slot].olinfo_status = len << E1000_ADVTXD_PAYLEN_SHIFT;
		v->tx_next = (slot + 1) % RING;
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* wmb(); writel(tail) */
		wr(v, E1000_TDT(0), v->tx_next);
	}
	while (v->tx_clean != v->tx_next) {
		tx_reclaim(v);
		check_queue_errors(v, "TX completion");
		if (kt_now_ms() > deadline) {
			check_queue_errors(v, "TX completion timeout");
			kt_fail("TX: descriptors without DD after the deadline (TDH %u TDT %u)",
				rd(v, E1000_TDH(0)), rd(v, E1000_TDT(0)));
		}
		kt_sleep_us(200);
	}
	printf("uio: TX %u frames, all completed (DD)\n", n);
	kt_data("uio-tx-frames", "%u", n);
}

int main(int argc, char **argv)
{
	const char *bdf = NULL;
	uint8_t mac[6], peer[6];
	int have_mac = 0, have_peer = 0, uio;
	unsigned long nrx = 0, ntx = 0, tmo = 60000;
	struct vf v = { 0 };
	uint64_t deadline;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mac") && i + 1 < argc)
			have_mac = kt_parse_mac(argv[++i], mac) == 0;
		else if (!strcmp(argv[i], "--peer") && i + 1 < argc)
			have_peer = kt_parse_mac(argv[++i], peer) == 0;
		else if (!strcmp(argv[i], "--rx") && i + 1 < argc)
			nrx = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--tx") && i + 1 < argc)
			ntx = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc)
			tmo = strtoul(argv[++i], NULL, 0);
		else if (argv[i][0] != '-' && !bdf)
			bdf = argv[i];
		else
			bdf = NULL, i = argc;
	}
	if (!bdf || !have_mac || !have_peer || nrx > 100000 || ntx > 100000) {
		fprintf(stderr, "usage: uio-vf BDF --mac MAC --peer MAC [--rx N] [--tx M] [--timeout-ms T]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	deadline = kt_now_ms() + tmo;

	uio = uio_open(bdf);
	map_bar(&v, bdf);
	map_dma(&v);
	rings_setup(&v);
	check_queue_errors(&v, "after ring setup");
	if (nrx)
		do_rx(&v, (uint32_t)nrx, deadline);
	if (ntx)
		do_tx(&v, (uint32_t)ntx, mac, peer, deadline);
	check_queue_errors(&v, "after traffic");

	/* Driver stop: disable both queues, as igbvf/DPDK do on close. */
	wr(&v, E1000_RXDCTL(0), rd(&v, E1000_RXDCTL(0)) & ~E1000_XDCTL_ENABLE);
	wr(&v, E1000_TXDCTL(0), rd(&v, E1000_TXDCTL(0)) & ~E1000_XDCTL_ENABLE);
	munmap((void *)v.bar, VFMED_VF_BAR0_SIZE);
	munmap(v.mem, HUGE_SIZE);
	close(uio);
	printf("uio: done\n");
	return 0;
}
