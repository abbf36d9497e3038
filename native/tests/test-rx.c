/* SPDX-License-Identifier: MIT */
/* test-rx.c - receive path: single and multi-descriptor frames, ring wrap, FIFO waiting for
 * descriptors, FIFO overflow drops, passthrough doorbells, queue steering. */
#include "harness.h"
#include "tnic.h"

#define RXR   (GIOVA)
#define RXR1  (GIOVA + 0x2000)
#define RXB   (GIOVA + 0x10000)

static const uint8_t peer[6] = { 0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE };

static uint32_t inject(struct tnic *t, uint32_t vf, uint32_t seq, uint32_t len)
{
	uint8_t f[VFMED_FRAME_MAX_TEST], mac[6];

	vf_mac(t, vf, mac);
	mk_frame(f, mac, peer, seq, len);
	return (uint32_t)vfmed_uplink_inject(t->nic, f, len);
}

TEST(rx_single_descriptor_frame)
{
	struct tnic t;
	struct rx_wb w;
	uint8_t mac[6], f[64];

	tnic_open(&t, &(struct tnic_opts){ 0 });
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 2, false);
	CHECK_EQ(inject(&t, 0, 7, 60), 0);
	w = rx_desc(&t, 0, RXR, 0);
	CHECK_EQ(w.status, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP);
	CHECK_EQ(w.length, 60);
	vf_mac(&t, 0, mac);
	mk_frame(f, mac, peer, 7, 60);
	CHECK(!memcmp(gptr(&t, 0, RXB), f, 60));
	CHECK_EQ(rd(&t, 0, E1000_RDH(0)), 1);
	CHECK_EQ(rx_desc(&t, 0, RXR, 1).status, 0);
	CHECK_EQ(rd(&t, 0, E1000_VFGPRC), 1);
	CHECK_EQ(rd(&t, 0, E1000_VFGORC), 64);   /* + CRC */
	/* Counters are not clear-on-read. */
	CHECK_EQ(rd(&t, 0, E1000_VFGPRC), 1);
	/* Another VF's MAC does not reach VF 0. */
	CHECK_EQ(inject(&t, 1, 8, 60), 0);
	CHECK_EQ(rd(&t, 0, E1000_RDH(0)), 1);
	tnic_close(&t);
}

TEST(rx_multi_descriptor_frame_and_wrap)
{
	struct tnic t;
	uint8_t mac[6], f[VFMED_FRAME_MAX_TEST];
	uint32_t i, idx, seq;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	vf_mac(&t, 0, mac);
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 1, false);   /* 1 KiB buffers */
	/* 3000 bytes = 3 descriptors; 7 usable descriptors in an 8 ring, so the second
	 * frame wraps (idx 3,4,5), the third waits until software frees more. */
	for (seq = 0; seq < 3; seq++)
		inject(&t, 0, seq, 3000);
	for (i = 0; i < 6; i++) {
		struct rx_wb w = rx_desc(&t, 0, RXR, i);

		CHECK(w.status & E1000_RXD_STAT_DD);
		CHECK_EQ(!!(w.status & E1000_RXD_STAT_EOP), i % 3 == 2);
		CHECK_EQ(w.length, i % 3 == 2 ? 3000 - 2048 : 1024);
	}
	CHECK_EQ(rx_desc(&t, 0, RXR, 6).status, 0);
	struct vfmed_vf_info info;
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 0, &info), 0);
	CHECK_EQ(info.fifo_frames, 1);
	CHECK_EQ(info.fifo_bytes, 3000);
	/* Data of frame 1 spans buffers 3..5 in order. */
	mk_frame(f, mac, peer, 1, 3000);
	CHECK(!memcmp(gptr(&t, 0, RXB + 3 * 1024), f, 1024));
	CHECK(!memcmp(gptr(&t, 0, RXB + 4 * 1024), f + 1024, 1024));
	CHECK(!memcmp(gptr(&t, 0, RXB + 5 * 1024), f + 2048, 3000 - 2048));
	/* Software consumes descriptors 0..5, re-arms them, RDT = 5 (igbvf convention):
	 * free = (5 - 6) mod 8 = 7 -> frame 2 fits at 6,7,0 (wraps). */
	for (i = 0; i < 6; i++)
		rxq_arm(&t, 0, RXR, i, RXB + i * 1024);
	wr(&t, 0, E1000_RDT(0), 5);
	for (i = 0; i < 3; i++) {
		idx = (6 + i) % 8;
		CHECK(rx_desc(&t, 0, RXR, idx).status & E1000_RXD_STAT_DD);
	}
	CHECK_EQ(rd(&t, 0, E1000_RDH(0)), 1);
	mk_frame(f, mac, peer, 2, 3000);
	CHECK(!memcmp(gptr(&t, 0, RXB + 0 * 1024), f + 2048, 3000 - 2048));
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 0, &info), 0);
	CHECK_EQ(info.fifo_frames, 0);
	CHECK_EQ(info.rx_packets, 3);
	tnic_close(&t);
}

TEST(rx_fifo_holds_frames_until_descriptors_then_drops_when_full)
{
	struct tnic t;
	struct vfmed_vf_info info;
	uint32_t seq, i, drops_reg;

	/* FIFO of 9728 bytes = 9 frames of 1000 bytes. */
	tnic_open(&t, &(struct tnic_opts){ .fifo_bytes = 9728 });
	for (seq = 0; seq < 9; seq++)
		CHECK_EQ(inject(&t, 0, seq, 1000), 0);   /* no queue yet: waits */
	CHECK_EQ(inject(&t, 0, 9, 1000), (uint32_t)-ENOSPC);
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 0, &info), 0);
	CHECK_EQ(info.fifo_frames, 9);
	CHECK_EQ(info.fifo_drops, 1);
	drops_reg = rd(&t, 0, VFMED_VFFIFODROP);
	CHECK_EQ(drops_reg, 1);
	/* A ring of 8 holds 7 frames; the rest stay in the FIFO, in order. */
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 2, false);
	for (i = 0; i < 7; i++)
		CHECK_EQ(frame_seq(gptr(&t, 0, RXB + i * 2048)), i);
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 0, &info), 0);
	CHECK_EQ(info.fifo_frames, 2);
	CHECK_EQ(info.rx_packets, 7);
	for (i = 0; i < 7; i++)
		rxq_arm(&t, 0, RXR, i, RXB + i * 2048);
	wr(&t, 0, E1000_RDT(0), 6);
	CHECK_EQ(frame_seq(gptr(&t, 0, RXB + 7 * 2048)), 7);
	CHECK_EQ(frame_seq(gptr(&t, 0, RXB + 0 * 2048)), 8);
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 0, &info), 0);
	CHECK_EQ(info.fifo_frames, 0);
	tnic_close(&t);
}

TEST(rx_passthrough_doorbell_and_dpdk_head_write)
{
	struct tnic t;
	uint32_t i;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	/* Whole setup through plain stores into the shared BAR, DPDK order: enable, then
	 * RDH = 0, RDT = n - 1. */
	rxq_setup(&t, 0, 0, RXR, 16, RXB, 2, true);
	for (i = 0; i < 3; i++)
		inject(&t, 0, i, 100);
	CHECK_EQ(t.vbar[0][E1000_RDH(0) / 4], 3);
	CHECK_EQ(rd(&t, 0, E1000_RDH(0)), 3);
	/* Tail >= count is ignored (the previous valid tail stays in effect). */
	pt_wr(&t, 0, E1000_RDT(0), 16);
	vfmed_nic_poll(t.nic);
	for (i = 3; i < 20; i++)
		inject(&t, 0, i, 100);
	CHECK_EQ(rd(&t, 0, E1000_RDH(0)), 15);
	/* Software re-initialises the ring while enabled: RDH = 0 is adopted. */
	for (i = 0; i < 16; i++)
		rxq_arm(&t, 0, RXR, i, RXB + i * 2048);
	pt_wr(&t, 0, E1000_RDH(0), 0);
	pt_wr(&t, 0, E1000_RDT(0), 4);
	vfmed_nic_poll(t.nic);
	CHECK_EQ(rd(&t, 0, E1000_RDH(0)), 4);
	CHECK_EQ(frame_seq(gptr(&t, 0, RXB)), 15);
	tnic_close(&t);
}

TEST(rx_missed_disable_enable_relatches)
{
	struct tnic t;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 2, true);
	inject(&t, 0, 1, 100);
	CHECK_EQ(rd(&t, 0, E1000_RDH(0)), 1);
	/* Disable, move the ring, enable - all between two device passes. */
	pt_wr(&t, 0, E1000_RXDCTL(0), 0);
	pt_wr(&t, 0, E1000_RDBAL(0), (uint32_t)RXR1);
	pt_wr(&t, 0, E1000_RDLEN(0), 16 * 16);
	for (uint32_t i = 0; i < 16; i++)
		rxq_arm(&t, 0, RXR1, i, RXB + 0x8000 + i * 2048);
	pt_wr(&t, 0, E1000_RXDCTL(0), E1000_XDCTL_ENABLE);
	pt_wr(&t, 0, E1000_RDH(0), 0);
	pt_wr(&t, 0, E1000_RDT(0), 15);
	vfmed_nic_poll(t.nic);
	inject(&t, 0, 2, 100);
	CHECK(rx_desc(&t, 0, RXR1, 0).status & E1000_RXD_STAT_DD);
	CHECK_EQ(frame_seq(gptr(&t, 0, RXB + 0x8000)), 2);
	tnic_close(&t);
}

TEST(rx_two_queues_flow_steering_is_stable)
{
	struct tnic t;
	uint8_t mac[6], f[128];
	uint32_t i, q0 = 0, q1 = 0;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	vf_mac(&t, 0, mac);
	rxq_setup(&t, 0, 0, RXR, 64, RXB, 2, false);
	rxq_setup(&t, 0, 1, RXR1, 64, RXB + 64 * 2048, 2, false);
	/* 32 flows (IPv4/UDP, varying source port), each sent twice. */
	for (i = 0; i < 64; i++) {
		memset(f, 0, sizeof(f));
		memcpy(f, mac, 6);
		memcpy(f + 6, peer, 6);
		f[12] = 0x08;
		f[13] = 0x00;
		f[14] = 0x45;
		f[23] = 17;
		f[26] = 10; f[29] = 1; f[30] = 10; f[33] = 2;
		f[34] = (uint8_t)(i % 32);
		f[35] = 0x10;
		f[37] = 53;
		f[60] = (uint8_t)i;   /* marker */
		CHECK_EQ(vfmed_uplink_inject(t.nic, f, 100), 0);
	}
	q0 = rd(&t, 0, E1000_RDH(0));
	q1 = rd(&t, 0, E1000_RDH(1));
	CHECK_EQ(q0 + q1, 64);
	CHECK(q0 > 0 && q1 > 0);
	/* Stability: both copies of a flow landed on the same queue. */
	for (i = 0; i < q0; i++) {
		uint8_t *b = gptr(&t, 0, RXB + i * 2048);
		uint32_t j, found = 0;

		for (j = 0; j < q0; j++)
			if (gptr(&t, 0, RXB + j * 2048)[34] == b[34])
				found++;
		CHECK_EQ(found, 2);
	}
	tnic_close(&t);
}

TEST(rx_disabled_ring_never_written_even_before_a_pass)
{
	struct tnic t;
	struct vfmed_vf_info info;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 2, true);
	/* Passthrough disable, no device pass yet; the driver reuses the ring memory. */
	pt_wr(&t, 0, E1000_RXDCTL(0), 0);
	memset(gptr(&t, 0, RXR), 0x5A, 128);
	CHECK_EQ(inject(&t, 0, 1, 100), 0);
	for (uint32_t i = 0; i < 128; i++)
		CHECK_EQ(gptr(&t, 0, RXR)[i], 0x5A);
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 0, &info), 0);
	CHECK_EQ(info.fifo_frames, 1);
	CHECK(!info.q[0].rx_enabled);
	tnic_close(&t);
}
