/* SPDX-License-Identifier: MIT */
/* tnic.c - test fixture implementation (see tnic.h). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "tnic.h"

static volatile uint32_t *map_fd(int fd, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	REQUIRE(p != MAP_FAILED);
	return p;
}

static int memfd(size_t size, uint8_t **map)
{
	int fd = memfd_create("tnic", MFD_CLOEXEC);

	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, (off_t)size) == 0);
	*map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	REQUIRE(*map != MAP_FAILED);
	return fd;
}

int poll_n(struct tnic *t, int n)
{
	int w = 0;

	while (n--)
		w += vfmed_nic_poll(t->nic);
	return w;
}

void tnic_open(struct tnic *t, const struct tnic_opts *o)
{
	struct vfmed_nic_config cfg = {
		.max_vfs = o->max_vfs ? o->max_vfs : 2,
		.rx_fifo_bytes = o->fifo_bytes,
		.base_mac = { 0x02, 0x00, 0x00, 0x00, 0x10, 0x00 },
		.flags = o->flags,
		.poll_mode = o->poll_mode,
	};
	uint32_t i, n = o->num_vfs ? o->num_vfs : cfg.max_vfs;

	memset(t, 0, sizeof(*t));
	REQUIRE_EQ(vfmed_nic_create(&cfg, &t->nic), 0);
	t->pf = map_fd(vfmed_nic_pf_bar_fd(t->nic), VFPF_BAR_SIZE);
	REQUIRE_EQ(t->pf[VFPF_MAGIC_REG / 4], VFPF_MAGIC);
	t->pf_fd = memfd(PF_MEMSZ, &t->pfmem);
	REQUIRE_EQ(vfmed_nic_pf_dma_map(t->nic, PF_IOVA, PF_MEMSZ, t->pf_fd, 0), 0);
	t->pf[VFPF_AQ_BAL / 4] = (uint32_t)PF_IOVA;
	t->pf[VFPF_AQ_BAH / 4] = (uint32_t)(PF_IOVA >> 32);
	t->pf[VFPF_AQ_LEN / 4] = PF_AQ_LEN;
	t->pf[VFPF_AQ_CTRL / 4] = VFPF_AQ_CTRL_ENABLE;
	vfmed_nic_poll(t->nic);
	REQUIRE_EQ(t->pf[VFPF_AQ_STATUS / 4], VFPF_AQ_STATUS_ENABLED);
	REQUIRE_EQ(admin(t, VFPF_AQC_SRIOV_ENABLE, 0, n, 0, 0, 0, NULL), 0);
	t->num_vfs = n;
	if (!o->no_pfrstd) {
		t->pf[VFPF_CTRL_EXT / 4] = VFPF_CTRL_EXT_PFRSTD;
		vfmed_nic_poll(t->nic);
	}
	for (i = 0; i < cfg.max_vfs; i++) {
		t->vbar[i] = map_fd(vfmed_nic_vf_bar_fd(t->nic, i), VFMED_VF_BAR0_SIZE);
		t->gfd[i] = memfd(GMEMSZ, &t->gmem[i]);
		REQUIRE_EQ(vfmed_vf_dma_map(t->nic, i, GIOVA, GMEMSZ, t->gfd[i], 0,
		                            VFMED_DMA_READ | VFMED_DMA_WRITE), 0);
		if (i < n && !o->no_vf_enable)
			REQUIRE_EQ(admin(t, VFPF_AQC_VF_ENABLE, (uint16_t)i,
			                 VFPF_VF_EN_RX | VFPF_VF_EN_TX, 0, 0, 0, NULL), 0);
	}
}

void tnic_close(struct tnic *t)
{
	uint32_t i;

	if (!t->nic)
		return;
	for (i = 0; i < VFPF_MAX_VFS; i++) {
		if (t->vbar[i])
			munmap((void *)t->vbar[i], VFMED_VF_BAR0_SIZE);
		if (t->gmem[i]) {
			munmap(t->gmem[i], GMEMSZ);
			close(t->gfd[i]);
		}
	}
	munmap((void *)t->pf, VFPF_BAR_SIZE);
	munmap(t->pfmem, PF_MEMSZ);
	close(t->pf_fd);
	vfmed_nic_destroy(t->nic);
	memset(t, 0, sizeof(*t));
}

int admin(struct tnic *t, uint16_t op, uint16_t vf, uint32_t p0, uint32_t p1, uint64_t addr,
          uint32_t len, uint32_t *ret)
{
	struct vfpf_aq_desc *d = (struct vfpf_aq_desc *)(t->pfmem) + t->aq_tail;

	memset(d, 0, sizeof(*d));
	d->opcode = op;
	d->vf = vf;
	d->param0 = p0;
	d->param1 = p1;
	d->addr = addr;
	d->len = len;
	d->status = 0xFFFF;
	d->ret = 0xDEADBEEF;
	t->aq_tail = (t->aq_tail + 1) % PF_AQ_LEN;
	__atomic_store_n(&t->pf[VFPF_AQ_TAIL / 4], t->aq_tail, __ATOMIC_RELEASE);
	vfmed_nic_poll(t->nic);
	REQUIRE(__atomic_load_n(&d->flags, __ATOMIC_ACQUIRE) & VFPF_AQ_F_DONE);
	REQUIRE_EQ(t->pf[VFPF_AQ_HEAD / 4], t->aq_tail);
	if (ret)
		*ret = d->ret;
	return d->status;
}

uint32_t rd(struct tnic *t, uint32_t vf, uint32_t off)
{
	uint64_t v = 0;

	REQUIRE_EQ(vfmed_vf_reg_read(t->nic, vf, off, 4, &v), 0);
	return (uint32_t)v;
}

void wr(struct tnic *t, uint32_t vf, uint32_t off, uint32_t val)
{
	REQUIRE_EQ(vfmed_vf_reg_write(t->nic, vf, off, 4, val), 0);
}

void pt_wr(struct tnic *t, uint32_t vf, uint32_t off, uint32_t val)
{
	REQUIRE(off >= 0x2000);
	__atomic_store_n(&t->vbar[vf][off / 4], val, __ATOMIC_RELEASE);
}

static void reg(struct tnic *t, uint32_t vf, uint32_t off, uint32_t val, bool pt)
{
	if (pt)
		pt_wr(t, vf, off, val);
	else
		wr(t, vf, off, val);
}

void rxq_arm(struct tnic *t, uint32_t vf, uint64_t ring, uint32_t idx, uint64_t buf)
{
	struct e1000_adv_rx_desc_read *d =
		(struct e1000_adv_rx_desc_read *)gptr(t, vf, ring) + idx;

	d->pkt_addr = buf;
	d->hdr_addr = 0;
}

void rxq_setup(struct tnic *t, uint32_t vf, uint32_t q, uint64_t ring, uint32_t n,
               uint64_t bufs, uint32_t bsize_kib, bool pt)
{
	uint32_t i;

	/* igbvf order: disable, ring, RDH = RDT = 0, SRRCTL, enable; then DPDK's RDH = 0
	 * after enabling (harmless here) and RDT = n - 1. */
	reg(t, vf, E1000_RXDCTL(q), 0, pt);
	reg(t, vf, E1000_RDBAL(q), (uint32_t)ring, pt);
	reg(t, vf, E1000_RDBAH(q), (uint32_t)(ring >> 32), pt);
	reg(t, vf, E1000_RDLEN(q), n * 16, pt);
	reg(t, vf, E1000_RDH(q), 0, pt);
	reg(t, vf, E1000_RDT(q), 0, pt);
	reg(t, vf, E1000_SRRCTL(q), E1000_SRRCTL_DESCTYPE_ADV_ONEBUF | bsize_kib, pt);
	if (bufs)   /* 0: keep the descriptors the test prepared */
		for (i = 0; i < n; i++)
			rxq_arm(t, vf, ring, i,
			        bufs + (uint64_t)i * (bsize_kib ? bsize_kib : 2) * 1024);
	reg(t, vf, E1000_RXDCTL(q), E1000_XDCTL_ENABLE | E1000_RXDCTL_RESET, pt);
	reg(t, vf, E1000_RDH(q), 0, pt);
	reg(t, vf, E1000_RDT(q), n - 1, pt);
	if (pt)
		vfmed_nic_poll(t->nic);
}

void txq_setup(struct tnic *t, uint32_t vf, uint32_t q, uint64_t ring, uint32_t n, bool pt)
{
	memset(gptr(t, vf, ring), 0, n * 16);
	reg(t, vf, E1000_TXDCTL(q), 0, pt);
	reg(t, vf, E1000_TDBAL(q), (uint32_t)ring, pt);
	reg(t, vf, E1000_TDBAH(q), (uint32_t)(ring >> 32), pt);
	reg(t, vf, E1000_TDLEN(q), n * 16, pt);
	reg(t, vf, E1000_TDH(q), 0, pt);
	reg(t, vf, E1000_TDT(q), 0, pt);
	reg(t, vf, E1000_TXDCTL(q), E1000_XDCTL_ENABLE | (1u << 16), pt);
	if (pt)
		vfmed_nic_poll(t->nic);
}

void tx_desc(struct tnic *t, uint32_t vf, uint64_t ring, uint32_t idx, uint64_t buf,
             uint32_t len, uint32_t cmd, uint32_t olinfo)
{
	struct e1000_adv_tx_desc *d = (struct e1000_adv_tx_desc *)gptr(t, vf, ring) + idx;

	d->buffer_addr = buf;
	d->cmd_type_len = len | cmd;
	d->olinfo_status = olinfo;
}

struct rx_wb rx_desc(struct tnic *t, uint32_t vf, uint64_t ring, uint32_t idx)
{
	const struct e1000_adv_rx_desc_wb *d =
		(const struct e1000_adv_rx_desc_wb *)gptr(t, vf, ring) + idx;
	struct rx_wb w = { __atomic_load_n(&d->status_error, __ATOMIC_ACQUIRE), d->length };

	return w;
}

uint32_t mk_frame(uint8_t *b, const uint8_t *dst, const uint8_t *src, uint32_t seq, uint32_t len)
{
	uint32_t i;

	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	b[12] = 0x88;   /* local experimental ethertype */
	b[13] = 0xB5;
	memcpy(b + 14, &seq, 4);
	for (i = 18; i < len; i++)
		b[i] = (uint8_t)(seq + i);
	return len;
}

uint32_t frame_seq(const uint8_t *b)
{
	uint32_t s;

	memcpy(&s, b + 14, 4);
	return s;
}

void vf_mac(struct tnic *t, uint32_t vf, uint8_t *mac)
{
	struct vfmed_vf_info info;

	REQUIRE_EQ(vfmed_vf_get_info(t->nic, vf, &info), 0);
	memcpy(mac, info.mac, 6);
}

void pf_reply(struct tnic *t, uint32_t vf, const uint32_t *w, uint32_t n, uint32_t flags)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		t->pf[VFPF_P2V_MSG(vf, i) / 4] = w[i];
	t->p2v_seq[vf] = (t->p2v_seq[vf] + 1) & 0xFFFFFF;
	if (!t->p2v_seq[vf])
		t->p2v_seq[vf] = 1;
	__atomic_store_n(&t->pf[VFPF_P2V_DOORBELL(vf) / 4], t->p2v_seq[vf] << 8 | flags,
	                 __ATOMIC_RELEASE);
}
