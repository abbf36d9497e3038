/* SPDX-License-Identifier: MIT */
/* test-admin.c - the PF admin queue: ring latch and errors, every opcode with its error
 * cases, VF function-level reset, device dirty log. */
#include "harness.h"
#include "tnic.h"

#define RXR   (GIOVA)
#define RXB   (GIOVA + 0x10000)

TEST(admin_ring_latch_errors)
{
	struct tnic t;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	t.pf[VFPF_AQ_CTRL / 4] = 0;
	vfmed_nic_poll(t.nic);
	CHECK_EQ(t.pf[VFPF_AQ_STATUS / 4], 0);
	t.pf[VFPF_AQ_LEN / 4] = 48;                              /* not a power of two */
	t.pf[VFPF_AQ_CTRL / 4] = 1;
	vfmed_nic_poll(t.nic);
	CHECK_EQ(t.pf[VFPF_AQ_STATUS / 4], VFPF_AQ_STATUS_ERROR);
	t.pf[VFPF_AQ_CTRL / 4] = 0;
	t.pf[VFPF_AQ_LEN / 4] = 64;
	t.pf[VFPF_AQ_BAL / 4] = (uint32_t)PF_IOVA + 32;          /* misaligned */
	vfmed_nic_poll(t.nic);
	t.pf[VFPF_AQ_CTRL / 4] = 1;
	vfmed_nic_poll(t.nic);
	CHECK_EQ(t.pf[VFPF_AQ_STATUS / 4], VFPF_AQ_STATUS_ERROR);
	t.pf[VFPF_AQ_CTRL / 4] = 0;
	vfmed_nic_poll(t.nic);
	t.pf[VFPF_AQ_BAL / 4] = (uint32_t)PF_IOVA + PF_MEMSZ - 1024;   /* runs off the map */
	t.pf[VFPF_AQ_CTRL / 4] = 1;
	vfmed_nic_poll(t.nic);
	CHECK_EQ(t.pf[VFPF_AQ_STATUS / 4], VFPF_AQ_STATUS_ERROR);
	t.pf[VFPF_AQ_CTRL / 4] = 0;
	vfmed_nic_poll(t.nic);
	t.pf[VFPF_AQ_BAL / 4] = (uint32_t)PF_IOVA;
	t.pf[VFPF_AQ_TAIL / 4] = 0;   /* the driver restarts its ring from 0 */
	t.pf[VFPF_AQ_CTRL / 4] = 1;
	vfmed_nic_poll(t.nic);
	CHECK_EQ(t.pf[VFPF_AQ_STATUS / 4], VFPF_AQ_STATUS_ENABLED);
	CHECK_EQ(t.pf[VFPF_AQ_HEAD / 4], 0);
	t.aq_tail = 0;
	/* Tail beyond the ring is ignored. */
	t.pf[VFPF_AQ_TAIL / 4] = 64;
	vfmed_nic_poll(t.nic);
	CHECK_EQ(t.pf[VFPF_AQ_HEAD / 4], 0);
	CHECK_EQ(admin(&t, VFPF_AQC_GET_INFO, 0, 0, 0, 0, 0, NULL), ENOSPC);
	/* Unmapping the ring under a live queue: error, no stray access. */
	REQUIRE_EQ(vfmed_nic_pf_dma_unmap(t.nic, PF_IOVA, PF_MEMSZ), 0);
	t.pf[VFPF_AQ_TAIL / 4] = 2;
	vfmed_nic_poll(t.nic);
	CHECK_EQ(t.pf[VFPF_AQ_STATUS / 4], VFPF_AQ_STATUS_ERROR);
	CHECK_EQ(t.pf[VFPF_AQ_HEAD / 4], 1);
	tnic_close(&t);
}

TEST(admin_get_info_and_sriov)
{
	struct tnic t;
	struct vfpf_dev_info *i;
	uint32_t ret;
	uint64_t v;

	tnic_open(&t, &(struct tnic_opts){ .max_vfs = 4, .num_vfs = 2, .fifo_bytes = 32768 });
	i = (void *)pf_buf(&t, 0);
	CHECK_EQ(admin(&t, VFPF_AQC_GET_INFO, 0, 0, 0, pf_buf_iova(0), 8, &ret), ENOSPC);
	CHECK_EQ(ret, sizeof(*i));
	CHECK_EQ(admin(&t, VFPF_AQC_GET_INFO, 0, 0, 0, 0x1000, 64, &ret), EFAULT);
	CHECK_EQ(admin(&t, VFPF_AQC_GET_INFO, 0, 0, 0, pf_buf_iova(0), 64, &ret), 0);
	CHECK_EQ(ret, sizeof(*i));
	CHECK_EQ(i->model_id, VFPF_MODEL_ID);
	CHECK_EQ(i->max_vfs, 4);
	CHECK_EQ(i->num_vfs, 2);
	CHECK_EQ(i->queues_per_vf, 2);
	CHECK_EQ(i->rx_fifo_bytes, 32768);
	CHECK_EQ(i->state_version, VFPF_STATE_MAJOR << 16 | VFPF_STATE_MINOR);
	CHECK_EQ(i->features, VFPF_FEAT_HEAD_WB | VFPF_FEAT_DIRTY_LOG | VFPF_FEAT_MULTI_DESC);
	CHECK_EQ(admin(&t, VFPF_AQC_SRIOV_ENABLE, 0, 5, 0, 0, 0, NULL), EINVAL);
	CHECK_EQ(admin(&t, VFPF_AQC_SRIOV_ENABLE, 0, 3, 0, 0, 0, NULL), EBUSY);
	CHECK_EQ(admin(&t, VFPF_AQC_SRIOV_ENABLE, 0, 2, 0, 0, 0, NULL), 0);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_ENABLE, 2, 3, 0, 0, 0, NULL), ENODEV);
	CHECK_EQ(admin(&t, 0x7777, 0, 0, 0, 0, 0, NULL), EOPNOTSUPP);
	CHECK_EQ(admin(&t, VFPF_AQC_SRIOV_ENABLE, 0, 0, 0, 0, 0, NULL), 0);
	CHECK_EQ(t.pf[VFPF_STATUS / 4] & VFPF_STATUS_IOV, 0);
	CHECK_EQ(vfmed_vf_reg_read(t.nic, 0, E1000_VF_STATUS, 4, &v), -ENODEV);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_ENABLE, 0, 3, 0, 0, 0, NULL), ENODEV);
	CHECK_EQ(admin(&t, VFPF_AQC_SRIOV_ENABLE, 0, 4, 0, 0, 0, NULL), 0);
	CHECK_EQ((t.pf[VFPF_STATUS / 4] >> VFPF_STATUS_NUMVFS_SHIFT) & 0xF, 4);
	/* Newly enabled VFs come up with RSTD (the PF already said reset done). */
	CHECK_EQ(rd(&t, 3, E1000_V2PMAILBOX), E1000_V2PMAILBOX_RSTD);
	tnic_close(&t);
}

TEST(admin_vf_filters_and_config)
{
	struct tnic t;
	struct vfpf_vf_config *c;
	uint16_t *h;
	uint32_t ret, i;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	c = (void *)pf_buf(&t, 0x1000);
	h = (void *)pf_buf(&t, 0);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_ENABLE, 0, 4, 0, 0, 0, NULL), EINVAL);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_MAC, 0, 0x00000001, 0, 0, 0, NULL), EINVAL);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_MAC, 0, 0x04030202, 0x10605, 0, 0, NULL), EINVAL);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_MAC, 0, 0x04030202, 0x0605, 0, 0, NULL), 0);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_MC, 0, 31, 0, pf_buf_iova(0), 64, NULL), EINVAL);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_MC, 0, 3, 0, pf_buf_iova(0), 4, NULL), EINVAL);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_MC, 0, 3, 0, 0x10, 6, NULL), EFAULT);
	h[0] = 0x123; h[1] = 0xFFF; h[2] = 0x1000;
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_MC, 0, 3, 0, pf_buf_iova(0), 6, NULL), EINVAL);
	h[2] = 0x7;
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_MC, 0, 3, 0, pf_buf_iova(0), 6, NULL), 0);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_VLAN, 0, 4096, 1, 0, 0, NULL), EINVAL);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_VLAN, 0, 5, 2, 0, 0, NULL), EINVAL);
	for (i = 1; i <= 32; i++)
		CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_VLAN, 0, i, 1, 0, 0, NULL), 0);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_VLAN, 0, 1, 1, 0, 0, NULL), 0);   /* already there */
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_VLAN, 0, 33, 1, 0, 0, NULL), ENOSPC);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_VLAN, 0, 32, 0, 0, 0, NULL), 0);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_LPE, 0, 63, 0, 0, 0, NULL), EINVAL);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_LPE, 0, 9729, 0, 0, 0, NULL), EINVAL);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_LPE, 0, 1522, 0, 0, 0, NULL), 0);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_PROMISC, 0, 1, 0, 0, 0, NULL), EINVAL);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_PROMISC, 0, VFPF_PROMISC_MC, 0, 0, 0, NULL), 0);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_GET_CONFIG, 0, 0, 0, pf_buf_iova(0x1000), 8, &ret), ENOSPC);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_GET_CONFIG, 0, 0, 0, pf_buf_iova(0x1000), 64, &ret), 0);
	CHECK_EQ(ret, sizeof(*c));
	CHECK(!memcmp(c->mac, "\x02\x02\x03\x04\x05\x06", 6));
	CHECK_EQ(c->enable, VFPF_VF_EN_RX | VFPF_VF_EN_TX);
	CHECK_EQ(c->max_frame, 1522);
	CHECK_EQ(c->mc_count, 3);
	CHECK_EQ(c->vlan_count, 31);
	CHECK_EQ(c->promisc, VFPF_PROMISC_MC);
	CHECK_EQ(c->quiesced, 0);
	/* FLR: the VF's registers go back to reset values, PF-owned filters stay. */
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 2, false);
	wr(&t, 0, E1000_VF_EIMS, 7);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_RESET, 0, 0, 0, 0, 0, NULL), 0);
	CHECK_EQ(rd(&t, 0, E1000_RDLEN(0)), 0);
	CHECK_EQ(rd(&t, 0, E1000_RXDCTL(0)), E1000_RXDCTL_RESET);
	CHECK_EQ(rd(&t, 0, E1000_VF_EIMS), 0);
	CHECK_EQ(rd(&t, 0, E1000_V2PMAILBOX), E1000_V2PMAILBOX_RSTD);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_GET_CONFIG, 0, 0, 0, pf_buf_iova(0x1000), 64, &ret), 0);
	CHECK_EQ(c->enable, 0);
	CHECK_EQ(c->mc_count, 3);
	CHECK(!memcmp(c->mac, "\x02\x02\x03\x04\x05\x06", 6));
	tnic_close(&t);
}

TEST(admin_stats_and_state_size)
{
	struct tnic t;
	struct vfpf_vf_stats *s;
	uint8_t f[500], mac[6];
	uint32_t ret, empty;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	s = (void *)pf_buf(&t, 0);
	vf_mac(&t, 0, mac);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_STATE_SIZE, 0, 0, 0, 0, 0, &empty), 0);
	CHECK(empty > sizeof(struct vfpf_state_hdr));
	mk_frame(f, mac, mac, 1, 500);
	CHECK_EQ(vfmed_uplink_inject(t.nic, f, 500), 0);   /* waits in the FIFO */
	CHECK_EQ(admin(&t, VFPF_AQC_VF_STATE_SIZE, 0, 0, 0, 0, 0, &ret), 0);
	CHECK_EQ(ret, empty + 512);   /* {len, flags} + 500 bytes, section padded to 8 */
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 2, false);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_STATS, 0, 0, 0, pf_buf_iova(0), 16, &ret), ENOSPC);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_STATS, 0, 0, 0, pf_buf_iova(0), sizeof(*s), &ret), 0);
	CHECK_EQ(s->rx_packets, 1);
	CHECK_EQ(s->rx_bytes, 500);
	CHECK_EQ(s->rx_no_desc, 1);   /* enabled with RDT = RDH before RDT = n - 1 */
	CHECK_EQ(s->fifo_frames, 0);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SAVE, 0, 0, 0, pf_buf_iova(0), 4096, &ret), EBUSY);
	tnic_close(&t);
}

static void dirty_report(struct tnic *t, uint64_t iova, uint64_t len, uint32_t bmlen,
                         int expect, uint8_t *bm_out)
{
	struct vfpf_dirty_report_req *r = (void *)pf_buf(t, 0x2000);
	uint32_t ret;

	r->iova = iova;
	r->length = len;
	r->bitmap_addr = pf_buf_iova(0x3000);
	r->bitmap_len = bmlen;
	memset(pf_buf(t, 0x3000), 0xEE, 64);
	CHECK_EQ(admin(t, VFPF_AQC_DIRTY_REPORT, 0, 0, 0, pf_buf_iova(0x2000), sizeof(*r), &ret),
	         expect);
	if (bm_out)
		memcpy(bm_out, pf_buf(t, 0x3000), 64);
}

TEST(admin_dirty_log)
{
	struct tnic t;
	struct vfpf_dirty_range *r;
	uint8_t f[3000], mac[6], bm[64];

	tnic_open(&t, &(struct tnic_opts){ 0 });
	r = (void *)pf_buf(&t, 0x1000);
	vf_mac(&t, 0, mac);
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 2, false);
	dirty_report(&t, GIOVA, GMEMSZ, 64, EINVAL, NULL);   /* not started */
	r[0].iova = GIOVA;
	r[0].length = GMEMSZ;
	CHECK_EQ(admin(&t, VFPF_AQC_DIRTY_START, 0, 11, 0, pf_buf_iova(0x1000), 16, NULL), EINVAL);
	CHECK_EQ(admin(&t, VFPF_AQC_DIRTY_START, 0, 12, 0, pf_buf_iova(0x1000), 15, NULL), EINVAL);
	r[1].iova = GIOVA + 4096;
	r[1].length = 4096;
	CHECK_EQ(admin(&t, VFPF_AQC_DIRTY_START, 0, 12, 0, pf_buf_iova(0x1000), 32, NULL), EINVAL);
	r[0].iova = GIOVA + 1;
	CHECK_EQ(admin(&t, VFPF_AQC_DIRTY_START, 0, 12, 0, pf_buf_iova(0x1000), 16, NULL), EINVAL);
	r[0].iova = GIOVA;
	/* 64 KiB granules: GMEMSZ = 16 granules. */
	CHECK_EQ(admin(&t, VFPF_AQC_DIRTY_START, 0, 16, 0, pf_buf_iova(0x1000), 16, NULL), 0);
	CHECK_EQ(admin(&t, VFPF_AQC_DIRTY_START, 0, 16, 0, pf_buf_iova(0x1000), 16, NULL), EBUSY);
	mk_frame(f, mac, mac, 1, 3000);
	CHECK_EQ(vfmed_uplink_inject(t.nic, f, 3000), 0);
	dirty_report(&t, GIOVA, GMEMSZ, 1, ENOSPC, NULL);
	dirty_report(&t, GIOVA, GMEMSZ + 0x10000, 64, EINVAL, NULL);   /* beyond the range */
	dirty_report(&t, GIOVA + 4096, 0x10000, 64, EINVAL, NULL);     /* unaligned */
	dirty_report(&t, GIOVA, GMEMSZ, 2, 0, bm);
	CHECK_EQ(bm[0], 0x03);   /* granule 0: ring; granule 1: RXB at +0x10000 */
	CHECK_EQ(bm[1], 0x00);
	CHECK_EQ(bm[2], 0xEE);   /* nothing written past the bitmap */
	dirty_report(&t, GIOVA, GMEMSZ, 2, 0, bm);
	CHECK_EQ(bm[0], 0x00);   /* report cleared it */
	CHECK_EQ(admin(&t, VFPF_AQC_DIRTY_STOP, 0, 0, 0, 0, 0, NULL), 0);
	dirty_report(&t, GIOVA, GMEMSZ, 2, EINVAL, NULL);
	tnic_close(&t);
}
