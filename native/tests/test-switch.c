/* SPDX-License-Identifier: MIT */
/* test-switch.c - L2 switch: VF-to-VF loopback, broadcast/multicast filters, unknown
 * unicast to the uplink, lossless backpressure between VFs, lossy uplink ingress. */
#include "harness.h"
#include "tnic.h"

#define RXR   (GIOVA)
#define TXR   (GIOVA + 0x1000)
#define TXB   (GIOVA + 0x8000)
#define RXB   (GIOVA + 0x10000)
#define DCMD  (E1000_ADVTXD_DTYP_DATA | E1000_ADVTXD_DCMD_DEXT | E1000_ADVTXD_DCMD_IFCS | \
               E1000_ADVTXD_DCMD_EOP | E1000_ADVTXD_DCMD_RS)

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Queue one frame on VF src's TX ring slot s and ring the doorbell. */
static void send(struct tnic *t, uint32_t src, uint32_t s, const uint8_t *dst, uint32_t seq,
                 uint32_t len)
{
	uint8_t mac[6];

	vf_mac(t, src, mac);
	mk_frame(gptr(t, src, TXB + s * 0x800), dst, mac, seq, len);
	tx_desc(t, src, TXR, s % 64, TXB + s * 0x800, len, DCMD, 0);
	wr(t, src, E1000_TDT(0), (s + 1) % 64);
}

TEST(switch_vf_to_vf_unicast_loopback)
{
	struct tnic t;
	uint8_t mac1[6], out[16384];
	struct vfmed_vf_info i0, i1;

	tnic_open(&t, &(struct tnic_opts){ .max_vfs = 3 });
	vf_mac(&t, 1, mac1);
	txq_setup(&t, 0, 0, TXR, 64, false);
	rxq_setup(&t, 1, 0, RXR, 8, RXB, 2, false);
	rxq_setup(&t, 2, 0, RXR, 8, RXB, 2, false);
	send(&t, 0, 0, mac1, 11, 200);
	CHECK(rx_desc(&t, 1, RXR, 0).status & E1000_RXD_STAT_LB);
	CHECK_EQ(frame_seq(gptr(&t, 1, RXB)), 11);
	CHECK_EQ(rx_desc(&t, 2, RXR, 0).status, 0);
	CHECK_EQ(vfmed_uplink_take(t.nic, out, sizeof(out)), -EAGAIN);
	CHECK_EQ(rd(&t, 0, E1000_VFGPTLBC), 1);
	CHECK_EQ(rd(&t, 0, E1000_VFGOTLBC), 204);
	CHECK_EQ(rd(&t, 1, E1000_VFGPRLBC), 1);
	CHECK_EQ(rd(&t, 1, E1000_VFGORLBC), 204);
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 0, &i0), 0);
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 1, &i1), 0);
	CHECK_EQ(i0.tx_packets, 1);
	CHECK_EQ(i1.rx_packets, 1);
	/* Admin SET_MAC moves the filter. */
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_MAC, 2, 0x44332202, 0x6655, 0, 0, NULL), 0);
	send(&t, 0, 1, (const uint8_t *)"\x02\x22\x33\x44\x55\x66", 12, 100);
	CHECK_EQ(frame_seq(gptr(&t, 2, RXB)), 12);
	/* A MAC no VF owns goes to the wire. */
	send(&t, 0, 2, (const uint8_t *)"\x02\x00\x00\x00\x00\x99", 13, 100);
	CHECK_EQ(vfmed_uplink_take(t.nic, out, sizeof(out)), 100);
	CHECK_EQ(frame_seq(out), 13);
	/* VFRE clear on the destination: dropped by the filter, not flooded. */
	CHECK_EQ(admin(&t, VFPF_AQC_VF_ENABLE, 1, VFPF_VF_EN_TX, 0, 0, 0, NULL), 0);
	send(&t, 0, 3, mac1, 14, 100);
	CHECK_EQ(rd(&t, 1, E1000_RDH(0)), 1);
	CHECK_EQ(vfmed_uplink_take(t.nic, out, sizeof(out)), -EAGAIN);
	tnic_close(&t);
}

TEST(switch_broadcast_and_multicast_filters)
{
	struct tnic t;
	uint8_t out[16384], mc[6] = { 0x01, 0x00, 0x5e, 0x00, 0x12, 0x34 };
	uint16_t hash = ((mc[4] >> 4) | (mc[5] << 4)) & 0xFFF;

	tnic_open(&t, &(struct tnic_opts){ .max_vfs = 4 });
	txq_setup(&t, 0, 0, TXR, 64, false);
	for (uint32_t v = 1; v < 4; v++)
		rxq_setup(&t, v, 0, RXR, 8, RXB, 2, false);
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 2, false);
	/* Broadcast: every other VF and the uplink, never the sender. */
	send(&t, 0, 0, bcast, 1, 100);
	for (uint32_t v = 1; v < 4; v++)
		CHECK_EQ(rd(&t, v, E1000_RDH(0)), 1);
	CHECK_EQ(rd(&t, 0, E1000_RDH(0)), 0);
	CHECK_EQ(vfmed_uplink_take(t.nic, out, sizeof(out)), 100);
	/* Multicast: VF 1 by hash, VF 3 by MC promiscuous, VF 2 not at all. */
	memcpy(pf_buf(&t, 0), &hash, 2);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_MC, 1, 1, 0, pf_buf_iova(0), 2, NULL), 0);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_PROMISC, 3, VFPF_PROMISC_MC, 0, 0, 0, NULL), 0);
	send(&t, 0, 1, mc, 2, 100);
	CHECK_EQ(rd(&t, 1, E1000_RDH(0)), 2);
	CHECK_EQ(rd(&t, 2, E1000_RDH(0)), 1);
	CHECK_EQ(rd(&t, 3, E1000_RDH(0)), 2);
	CHECK_EQ(rd(&t, 1, E1000_VFMPRC), 1);
	CHECK_EQ(vfmed_uplink_take(t.nic, out, sizeof(out)), 100);
	/* Loopback TX counters count the frame once. */
	CHECK_EQ(rd(&t, 0, E1000_VFGPTLBC), 2);
	/* From the wire: multicast reaches the same VFs. */
	mk_frame(out, mc, (const uint8_t *)"\x02\x01\x02\x03\x04\x05", 3, 80);
	CHECK_EQ(vfmed_uplink_inject(t.nic, out, 80), 0);
	CHECK_EQ(rd(&t, 1, E1000_RDH(0)), 3);
	CHECK_EQ(rd(&t, 2, E1000_RDH(0)), 1);
	CHECK_EQ(rx_desc(&t, 1, RXR, 2).status & E1000_RXD_STAT_LB, 0);
	tnic_close(&t);
}

TEST(switch_vlan_filter)
{
	struct tnic t;
	uint8_t f[100], mac[6];

	tnic_open(&t, &(struct tnic_opts){ 0 });
	vf_mac(&t, 0, mac);
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 2, false);
	mk_frame(f, mac, bcast, 1, 100);
	f[12] = 0x81; f[13] = 0x00; f[14] = 0x00; f[15] = 100;
	CHECK_EQ(vfmed_uplink_inject(t.nic, f, 100), 0);
	CHECK_EQ(rd(&t, 0, E1000_RDH(0)), 0);   /* VID 100 not configured */
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_VLAN, 0, 100, 1, 0, 0, NULL), 0);
	CHECK_EQ(vfmed_uplink_inject(t.nic, f, 100), 0);
	CHECK_EQ(rd(&t, 0, E1000_RDH(0)), 1);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SET_VLAN, 0, 100, 0, 0, 0, NULL), 0);
	CHECK_EQ(vfmed_uplink_inject(t.nic, f, 100), 0);
	CHECK_EQ(rd(&t, 0, E1000_RDH(0)), 1);
	tnic_close(&t);
}

TEST(switch_vf_to_vf_backpressure_is_lossless)
{
	struct tnic t;
	uint8_t mac1[6];
	struct vfmed_vf_info i0, i1;
	uint32_t s, got = 0, i, expect = 0, n = 40;

	/* Receiver: ring of 8 (7 usable), FIFO of 9728 = 9 frames of 1000 bytes. */
	tnic_open(&t, &(struct tnic_opts){ .fifo_bytes = 9728 });
	vf_mac(&t, 1, mac1);
	txq_setup(&t, 0, 0, TXR, 64, false);
	rxq_setup(&t, 1, 0, RXR, 8, RXB, 2, false);
	for (s = 0; s < n; s++) {
		mk_frame(gptr(&t, 0, TXB + s * 0x800), mac1, mac1, s, 1000);
		tx_desc(&t, 0, TXR, s, TXB + s * 0x800, 1000, DCMD, 0);
	}
	wr(&t, 0, E1000_TDT(0), n);
	/* 7 in the ring, 9 in the FIFO, the sender stalls on frame 16. */
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 0, &i0), 0);
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 1, &i1), 0);
	CHECK_EQ(i1.fifo_frames, 9);
	CHECK_EQ(i1.rx_packets, 7);
	CHECK_EQ(i0.tx_packets, 16);
	CHECK_EQ(rd(&t, 0, E1000_TDH(0)), 16);
	CHECK_EQ(((struct e1000_adv_tx_desc *)gptr(&t, 0, TXR))[16].olinfo_status & 1, 0);
	CHECK_EQ(i1.fifo_drops, 0);
	poll_n(&t, 3);
	CHECK_EQ(rd(&t, 0, E1000_TDH(0)), 16);
	/* The receiver drains; every frame arrives exactly once, in order. */
	for (i = 0; i < 50 && got < n; i++) {
		uint32_t h = rd(&t, 1, E1000_RDH(0)), tail = rd(&t, 1, E1000_RDT(0));
		uint32_t c = (tail + 1) % 8;

		while (c != h) {
			REQUIRE(rx_desc(&t, 1, RXR, c).status & E1000_RXD_STAT_DD);
			CHECK_EQ(frame_seq(gptr(&t, 1, RXB + c * 2048)), expect);
			expect++;
			got++;
			rxq_arm(&t, 1, RXR, c, RXB + c * 2048);
			c = (c + 1) % 8;
		}
		wr(&t, 1, E1000_RDT(0), (c + 7) % 8);
		vfmed_nic_poll(t.nic);
	}
	CHECK_EQ(got, n);
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 1, &i1), 0);
	CHECK_EQ(i1.fifo_drops, 0);
	CHECK_EQ(rd(&t, 0, E1000_TDH(0)), n);
	tnic_close(&t);
}

TEST(switch_uplink_ingress_is_lossy_and_counted)
{
	struct tnic t;
	uint8_t f[2000], mac[6];
	struct vfmed_vf_info info;
	uint32_t s, ok = 0, nospc = 0;

	tnic_open(&t, &(struct tnic_opts){ .fifo_bytes = 9728 });
	vf_mac(&t, 0, mac);
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 2, false);
	for (s = 0; s < 30; s++) {
		int rc;

		mk_frame(f, mac, bcast, s, 1000);
		f[6] = 0x02;   /* unicast source */
		rc = vfmed_uplink_inject(t.nic, f, 1000);
		if (rc == 0)
			ok++;
		else if (rc == -ENOSPC)
			nospc++;
	}
	CHECK_EQ(ok, 16);
	CHECK_EQ(nospc, 14);
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 0, &info), 0);
	CHECK_EQ(info.fifo_drops, 14);
	CHECK_EQ(rd(&t, 0, VFMED_VFFIFODROP), 14);
	/* Bad frames are refused outright. */
	CHECK_EQ(vfmed_uplink_inject(t.nic, f, 10), -EINVAL);
	CHECK_EQ(vfmed_uplink_inject(t.nic, f, 9729), -EINVAL);
	CHECK_EQ(vfmed_uplink_inject(t.nic, NULL, 100), -EINVAL);
	tnic_close(&t);
}

struct sink_ctx { uint32_t n, last_len; };
static void sink(void *ctx, const void *frame, uint32_t len)
{
	struct sink_ctx *c = ctx;

	(void)frame;
	c->n++;
	c->last_len = len;
}

TEST(switch_uplink_sink_and_take_buffer)
{
	struct tnic t;
	struct sink_ctx c = { 0 };
	uint8_t out[64];

	tnic_open(&t, &(struct tnic_opts){ 0 });
	txq_setup(&t, 0, 0, TXR, 64, false);
	send(&t, 0, 0, bcast, 1, 100);
	CHECK_EQ(vfmed_uplink_take(t.nic, out, sizeof(out)), -ENOSPC);   /* stays queued */
	CHECK_EQ(vfmed_uplink_set_sink(t.nic, sink, &c), 0);
	send(&t, 0, 1, bcast, 2, 120);
	CHECK_EQ(c.n, 1);
	CHECK_EQ(c.last_len, 120);
	CHECK_EQ(vfmed_uplink_set_sink(t.nic, NULL, NULL), 0);
	{
		uint8_t big[200];

		CHECK_EQ(vfmed_uplink_take(t.nic, big, sizeof(big)), 100);
		CHECK_EQ(vfmed_uplink_take(t.nic, big, sizeof(big)), -EAGAIN);
	}
	tnic_close(&t);
}
