/* SPDX-License-Identifier: MIT */
/* test-tx.c - transmit path: gather, context descriptors, RS/DD and head write-back, VFTE
 * gating, descriptor faults, checksum and VLAN offloads. */
#include "harness.h"
#include "tnic.h"

#define TXR   (GIOVA + 0x1000)
#define HWB   (GIOVA + 0x4000)
#define TXB   (GIOVA + 0x8000)

#define DCMD  (E1000_ADVTXD_DTYP_DATA | E1000_ADVTXD_DCMD_DEXT | E1000_ADVTXD_DCMD_IFCS)
#define LAST  (E1000_ADVTXD_DCMD_EOP | E1000_ADVTXD_DCMD_RS)

static const uint8_t ext[6] = { 0x02, 0x99, 0x88, 0x77, 0x66, 0x55 };

static int take(struct tnic *t, uint8_t *buf)
{
	return vfmed_uplink_take(t->nic, buf, 16384);
}

TEST(tx_gather_three_descriptors_to_uplink)
{
	struct tnic t;
	uint8_t f[3000], out[16384], mac[6];
	uint32_t olinfo = 3000u << E1000_ADVTXD_PAYLEN_SHIFT;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	vf_mac(&t, 0, mac);
	txq_setup(&t, 0, 0, TXR, 8, false);
	mk_frame(f, ext, mac, 42, 3000);
	/* Fragments in scattered buffers. */
	memcpy(gptr(&t, 0, TXB + 0x4000), f, 1000);
	memcpy(gptr(&t, 0, TXB), f + 1000, 1500);
	memcpy(gptr(&t, 0, TXB + 0x2000), f + 2500, 500);
	tx_desc(&t, 0, TXR, 0, TXB + 0x4000, 1000, DCMD, olinfo);
	tx_desc(&t, 0, TXR, 1, TXB, 1500, DCMD, olinfo);
	tx_desc(&t, 0, TXR, 2, TXB + 0x2000, 500, DCMD | LAST, olinfo);
	/* Tail covering only two: nothing goes out, head moves over the fragments. */
	wr(&t, 0, E1000_TDT(0), 2);
	CHECK_EQ(take(&t, out), -EAGAIN);
	CHECK_EQ(rd(&t, 0, E1000_TDH(0)), 2);
	wr(&t, 0, E1000_TDT(0), 3);
	CHECK_EQ(take(&t, out), 3000);
	CHECK(!memcmp(out, f, 3000));
	CHECK_EQ(take(&t, out), -EAGAIN);
	CHECK_EQ(rd(&t, 0, E1000_TDH(0)), 3);
	/* DD only on the RS descriptor. */
	CHECK_EQ(((struct e1000_adv_tx_desc *)gptr(&t, 0, TXR))[0].olinfo_status & 1, 0);
	CHECK_EQ(((struct e1000_adv_tx_desc *)gptr(&t, 0, TXR))[2].olinfo_status & 1, 1);
	CHECK_EQ(rd(&t, 0, E1000_VFGPTC), 1);
	CHECK_EQ(rd(&t, 0, E1000_VFGOTC), 3004);
	tnic_close(&t);
}

TEST(tx_head_writeback_instead_of_dd)
{
	struct tnic t;
	uint8_t f[100], out[16384], mac[6];
	uint32_t i;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	vf_mac(&t, 0, mac);
	txq_setup(&t, 0, 0, TXR, 8, false);
	wr(&t, 0, E1000_TDWBAL(0), (uint32_t)HWB | E1000_TDWBAL_ENABLE);
	wr(&t, 0, E1000_TDWBAH(0), 0);
	*(uint32_t *)gptr(&t, 0, HWB) = 0xFFFF;
	for (i = 0; i < 10; i++) {
		uint32_t s = i % 8;

		mk_frame(f, ext, mac, i, 100);
		memcpy(gptr(&t, 0, TXB + s * 256), f, 100);
		tx_desc(&t, 0, TXR, s, TXB + s * 256, 100, DCMD | LAST, 0);
		wr(&t, 0, E1000_TDT(0), (s + 1) % 8);
		CHECK_EQ(*(volatile uint32_t *)gptr(&t, 0, HWB), (s + 1) % 8);
		CHECK_EQ(((struct e1000_adv_tx_desc *)gptr(&t, 0, TXR))[s].olinfo_status & 1, 0);
		CHECK_EQ(take(&t, out), 100);
		CHECK_EQ(frame_seq(out), i);
	}
	/* Write-back target outside the maps: queue error, not a stray write. */
	wr(&t, 0, E1000_TDWBAL(0), 0x1000 | E1000_TDWBAL_ENABLE);
	tx_desc(&t, 0, TXR, 2, TXB, 100, DCMD | LAST, 0);
	wr(&t, 0, E1000_TDT(0), 3);
	CHECK_EQ(rd(&t, 0, VFMED_TQERR(0)), VFMED_QERR_WRITEBACK);
	CHECK_EQ(rd(&t, 0, E1000_TXDCTL(0)) & E1000_XDCTL_ENABLE, 0);
	tnic_close(&t);
}

TEST(tx_no_head_wb_model_uses_dd)
{
	struct tnic t;
	uint8_t f[100], mac[6];

	tnic_open(&t, &(struct tnic_opts){ .flags = VFMED_NIC_F_NO_HEAD_WB });
	vf_mac(&t, 0, mac);
	txq_setup(&t, 0, 0, TXR, 8, false);
	wr(&t, 0, E1000_TDWBAL(0), (uint32_t)HWB | E1000_TDWBAL_ENABLE);
	*(uint32_t *)gptr(&t, 0, HWB) = 0xFFFF;
	mk_frame(f, ext, mac, 1, 100);
	memcpy(gptr(&t, 0, TXB), f, 100);
	tx_desc(&t, 0, TXR, 0, TXB, 100, DCMD | LAST, 0);
	wr(&t, 0, E1000_TDT(0), 1);
	CHECK_EQ(*(uint32_t *)gptr(&t, 0, HWB), 0xFFFF);
	CHECK_EQ(((struct e1000_adv_tx_desc *)gptr(&t, 0, TXR))[0].olinfo_status & 1, 1);
	tnic_close(&t);
}

TEST(tx_gated_by_vfte_and_quiesce_then_resumes)
{
	struct tnic t;
	uint8_t f[100], out[16384], mac[6];

	tnic_open(&t, &(struct tnic_opts){ 0 });
	vf_mac(&t, 0, mac);
	txq_setup(&t, 0, 0, TXR, 8, false);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_ENABLE, 0, VFPF_VF_EN_RX, 0, 0, 0, NULL), 0);
	mk_frame(f, ext, mac, 1, 100);
	memcpy(gptr(&t, 0, TXB), f, 100);
	tx_desc(&t, 0, TXR, 0, TXB, 100, DCMD | LAST, 0);
	wr(&t, 0, E1000_TDT(0), 1);
	CHECK_EQ(take(&t, out), -EAGAIN);
	CHECK_EQ(rd(&t, 0, E1000_TDH(0)), 0);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_QUIESCE, 0, 0, 0, 0, 0, NULL), 0);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_ENABLE, 0, 3, 0, 0, 0, NULL), 0);
	poll_n(&t, 2);
	CHECK_EQ(take(&t, out), -EAGAIN);      /* quiesced: the doorbell is latched */
	CHECK_EQ(admin(&t, VFPF_AQC_VF_RESUME, 0, 0, 0, 0, 0, NULL), 0);
	CHECK_EQ(take(&t, out), 100);
	tnic_close(&t);
}

TEST(tx_descriptor_faults)
{
	struct tnic t;
	struct vfmed_vf_info info;
	uint8_t out[16384];

	tnic_open(&t, &(struct tnic_opts){ 0 });
	/* Zero length. */
	txq_setup(&t, 0, 0, TXR, 8, false);
	tx_desc(&t, 0, TXR, 0, TXB, 0, DCMD | LAST, 0);
	wr(&t, 0, E1000_TDT(0), 1);
	CHECK_EQ(rd(&t, 0, VFMED_TQERR(0)), VFMED_QERR_DESC_LEN);
	CHECK_EQ(rd(&t, 0, VFMED_VFDMAERR), 1);
	/* Re-enable clears the error; buffer outside the maps. */
	txq_setup(&t, 0, 0, TXR, 8, false);
	CHECK_EQ(rd(&t, 0, VFMED_TQERR(0)), 0);
	tx_desc(&t, 0, TXR, 0, GIOVA + GMEMSZ - 50, 100, DCMD | LAST, 0);
	wr(&t, 0, E1000_TDT(0), 1);
	CHECK_EQ(rd(&t, 0, VFMED_TQERR(0)), VFMED_QERR_DESC_ADDR);
	CHECK_EQ(rd(&t, 0, E1000_TDH(0)), 0);
	/* Frame over the VF's max frame (LPE 1522), gathered from two descriptors. */
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_LPE, 0, 1522, 0, 0, 0, NULL), 0);
	txq_setup(&t, 0, 0, TXR, 8, false);
	tx_desc(&t, 0, TXR, 0, TXB, 1000, DCMD, 0);
	tx_desc(&t, 0, TXR, 1, TXB, 1000, DCMD | LAST, 0);
	wr(&t, 0, E1000_TDT(0), 2);
	CHECK_EQ(rd(&t, 0, VFMED_TQERR(0)), VFMED_QERR_DESC_LEN);
	CHECK_EQ(take(&t, out), -EAGAIN);
	/* Ring length not a multiple of 128. */
	wr(&t, 0, E1000_TXDCTL(0), 0);
	wr(&t, 0, E1000_TDLEN(0), 100);
	wr(&t, 0, E1000_TXDCTL(0), E1000_XDCTL_ENABLE);
	CHECK_EQ(rd(&t, 0, VFMED_TQERR(0)), VFMED_QERR_RING_LEN);
	/* Misaligned ring base. */
	wr(&t, 0, E1000_TXDCTL(0), 0);
	wr(&t, 0, E1000_TDLEN(0), 128);
	wr(&t, 0, E1000_TDBAL(0), (uint32_t)TXR + 64);
	wr(&t, 0, E1000_TXDCTL(0), E1000_XDCTL_ENABLE);
	CHECK_EQ(rd(&t, 0, VFMED_TQERR(0)), VFMED_QERR_RING_BASE);
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 0, &info), 0);
	CHECK_EQ(info.dma_errors, 5);
	CHECK_EQ(info.q[0].tx_error, VFMED_QERR_RING_BASE);
	CHECK(!info.q[0].tx_enabled);
	CHECK_EQ(rd(&t, 0, VFMED_VFDMAERR), 5);
	tnic_close(&t);
}

TEST(tx_legacy_descriptor_counted_and_skipped)
{
	struct tnic t;
	struct vfmed_vf_info info;
	uint8_t f[100], out[16384], mac[6];

	tnic_open(&t, &(struct tnic_opts){ 0 });
	vf_mac(&t, 0, mac);
	txq_setup(&t, 0, 0, TXR, 8, false);
	mk_frame(f, ext, mac, 5, 100);
	memcpy(gptr(&t, 0, TXB), f, 100);
	tx_desc(&t, 0, TXR, 0, TXB, 100, E1000_ADVTXD_DCMD_EOP | E1000_ADVTXD_DCMD_RS, 0);
	tx_desc(&t, 0, TXR, 1, TXB, 100, DCMD | LAST, 0);
	wr(&t, 0, E1000_TDT(0), 2);
	CHECK_EQ(take(&t, out), 100);
	CHECK_EQ(take(&t, out), -EAGAIN);
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 0, &info), 0);
	CHECK_EQ(info.tx_errors, 1);
	CHECK_EQ(info.tx_packets, 1);
	tnic_close(&t);
}

static uint16_t csum(const uint8_t *p, uint32_t n, uint32_t sum)
{
	for (uint32_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)sum;
}

TEST(tx_checksum_and_vlan_offload)
{
	struct tnic t;
	uint8_t f[200], out[16384], mac[6];
	struct e1000_adv_tx_desc *ctx;
	uint32_t len = 14 + 20 + 8 + 50, sum;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	vf_mac(&t, 0, mac);
	txq_setup(&t, 0, 0, TXR, 8, false);
	memset(f, 0, sizeof(f));
	memcpy(f, ext, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x08; f[13] = 0x00;
	f[14] = 0x45; f[16] = 0; f[17] = (uint8_t)(len - 14); f[22] = 64; f[23] = 17;
	f[24] = 0x12; f[25] = 0x34;   /* garbage checksum: must be replaced */
	f[26] = 10; f[29] = 1; f[30] = 10; f[33] = 2;
	f[34] = 0x30; f[35] = 0x39; f[36] = 0x00; f[37] = 0x35; f[39] = 58;
	f[40] = 0xAB; f[41] = 0xCD;
	for (uint32_t i = 42; i < len; i++)
		f[i] = (uint8_t)(i * 7);
	memcpy(gptr(&t, 0, TXB), f, len);
	/* Context slot 1: MACLEN 14, IPLEN 20, IPv4/UDP, VLAN 0x0123. */
	ctx = (struct e1000_adv_tx_desc *)gptr(&t, 0, TXR);
	memset(ctx, 0, 16);
	((uint32_t *)ctx)[0] = 20 | 14 << 9 | 0x0123u << 16;
	((uint32_t *)ctx)[2] = 0x400 | E1000_ADVTXD_DTYP_CTXT | E1000_ADVTXD_DCMD_DEXT;
	((uint32_t *)ctx)[3] = 1u << 4;
	tx_desc(&t, 0, TXR, 1, TXB, len, DCMD | LAST | E1000_ADVTXD_DCMD_VLE,
	        len << 14 | 1u << 4 | 3u << 8);
	wr(&t, 0, E1000_TDT(0), 2);
	REQUIRE_EQ(take(&t, out), (int)len + 4);
	/* Tag inserted after the MAC addresses. */
	CHECK_EQ(out[12], 0x81);
	CHECK_EQ(out[13], 0x00);
	CHECK_EQ(out[14] << 8 | out[15], 0x0123);
	CHECK(!memcmp(out + 16, f + 12, 2));
	/* IP header checksum verifies to 0xFFFF. */
	CHECK_EQ(csum(out + 18, 20, 0), 0xFFFF);
	/* UDP checksum over pseudo header + segment verifies. */
	sum = csum(out + 18 + 12, 8, 0) + 17 + (len - 34);
	CHECK_EQ(csum(out + 18 + 20, len - 34, sum), 0xFFFF);
	tnic_close(&t);
}
