/* SPDX-License-Identifier: MIT */
/* test-mailbox.c - V2PMAILBOX bits and the mailbox transport to the PF BAR, including the
 * igbvf probe sequence (RST, RSTD, VF_RESET handshake) with the test as PF driver. */
#define _GNU_SOURCE
#include <sys/eventfd.h>
#include <unistd.h>

#include "harness.h"
#include "tnic.h"

#define MBX E1000_V2PMAILBOX

TEST(mbx_rsti_until_pfrstd_then_rstd_read_to_clear)
{
	struct tnic t;
	uint32_t ev;

	tnic_open(&t, &(struct tnic_opts){ .no_pfrstd = true });
	CHECK_EQ(rd(&t, 0, MBX), E1000_V2PMAILBOX_RSTI);
	CHECK_EQ(rd(&t, 0, MBX), E1000_V2PMAILBOX_RSTI);   /* RSTI is not read-to-clear */
	ev = t.pf[VFPF_EVENT_SEQ / 4];
	t.pf[VFPF_CTRL_EXT / 4] = VFPF_CTRL_EXT_PFRSTD;
	vfmed_nic_poll(t.nic);
	CHECK_EQ(rd(&t, 0, MBX), E1000_V2PMAILBOX_RSTD);
	CHECK_EQ(rd(&t, 0, MBX), 0);                       /* RSTD is */
	CHECK_EQ(rd(&t, 1, MBX), E1000_V2PMAILBOX_RSTD);
	CHECK_EQ(t.pf[VFPF_EVENT_SEQ / 4], ev);
	/* PF driver going away: RSTI again. */
	t.pf[VFPF_CTRL_EXT / 4] = 0;
	vfmed_nic_poll(t.nic);
	CHECK_EQ(rd(&t, 0, MBX), E1000_V2PMAILBOX_RSTI);
	tnic_close(&t);
}

TEST(mbx_vfu_lock_and_commands_not_stored)
{
	struct tnic t;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	rd(&t, 0, MBX);
	wr(&t, 0, MBX, E1000_V2PMAILBOX_VFU);
	CHECK_EQ(rd(&t, 0, MBX), E1000_V2PMAILBOX_VFU);
	wr(&t, 0, MBX, E1000_V2PMAILBOX_ACK);   /* ACK without VFU drops the lock */
	CHECK_EQ(rd(&t, 0, MBX), 0);
	CHECK_EQ(VFPF_V2P_ACK_COUNT(t.pf[VFPF_V2P_SEQ(0) / 4]), 1);
	CHECK_EQ(VFPF_V2P_REQ_COUNT(t.pf[VFPF_V2P_SEQ(0) / 4]), 0);
	tnic_close(&t);
}

/* igbvf e1000_reset_hw_vf + posted write/read, against a PF played by the test. */
TEST(mbx_vf_reset_handshake)
{
	struct tnic t;
	uint32_t ev, rs, v, i, w[3];
	uint8_t mac[6];

	tnic_open(&t, &(struct tnic_opts){ .no_vf_enable = true });
	vf_mac(&t, 1, mac);
	CHECK_EQ(mac[5], 0x01);   /* base_mac + 1 */
	ev = t.pf[VFPF_EVENT_SEQ / 4];
	rs = t.pf[VFPF_VF_RESET_SEQ(1) / 4];
	/* 1. CTRL.RST: PF sees VF_RESET_SEQ and an event. */
	wr(&t, 1, E1000_VF_CTRL, rd(&t, 1, E1000_VF_CTRL) | E1000_CTRL_RST);
	CHECK_EQ(rd(&t, 1, E1000_VF_CTRL), 0);
	CHECK_EQ(t.pf[VFPF_VF_RESET_SEQ(1) / 4], rs + 1);
	CHECK_EQ(t.pf[VFPF_EVENT_SEQ / 4], ev + 1);
	/* 2. Poll while RSTI|RSTD: RSTD clears on the first read. */
	for (i = 0; i < 3 && (rd(&t, 1, MBX) & 0xC0); i++)
		;
	CHECK(i <= 1);
	/* 3. Posted write of VF_RESET. */
	wr(&t, 1, MBX, E1000_V2PMAILBOX_VFU);
	REQUIRE(rd(&t, 1, MBX) & E1000_V2PMAILBOX_VFU);
	wr(&t, 1, E1000_VMBMEM(0), E1000_VF_RESET);
	wr(&t, 1, MBX, E1000_V2PMAILBOX_REQ);
	CHECK_EQ(t.pf[VFPF_EVENT_SEQ / 4], ev + 2);
	CHECK_EQ(VFPF_V2P_REQ_COUNT(t.pf[VFPF_V2P_SEQ(1) / 4]), 1);
	CHECK_EQ(t.pf[VFPF_V2P_MSG(1, 0) / 4], E1000_VF_RESET);
	/* VF waits for PFACK: nothing yet. */
	CHECK_EQ(rd(&t, 1, MBX) & E1000_V2PMAILBOX_PFACK, 0);
	/* 4. PF: enable the VF, reply ACK + message (MAC) in one doorbell. */
	CHECK_EQ(admin(&t, VFPF_AQC_VF_ENABLE, 1, 3, 0, 0, 0, NULL), 0);
	w[0] = E1000_VF_RESET | E1000_VT_MSGTYPE_ACK;
	memcpy(&w[1], mac, 4);
	w[2] = mac[4] | mac[5] << 8;
	pf_reply(&t, 1, w, 3, VFPF_P2V_STS | VFPF_P2V_ACK);
	vfmed_nic_poll(t.nic);
	CHECK_EQ(t.pf[VFPF_P2V_DONE(1) / 4], t.p2v_seq[1]);
	v = rd(&t, 1, MBX);
	CHECK_EQ(v & (E1000_V2PMAILBOX_PFACK | E1000_V2PMAILBOX_PFSTS),
	         E1000_V2PMAILBOX_PFACK | E1000_V2PMAILBOX_PFSTS);
	CHECK_EQ(rd(&t, 1, MBX) & 0x30, 0);   /* both read-to-clear */
	/* 5. Posted read. */
	wr(&t, 1, MBX, E1000_V2PMAILBOX_VFU);
	CHECK_EQ(rd(&t, 1, E1000_VMBMEM(0)), 0x80000001);
	CHECK_EQ(rd(&t, 1, E1000_VMBMEM(1)), w[1]);
	CHECK_EQ(rd(&t, 1, E1000_VMBMEM(2)), w[2]);
	wr(&t, 1, MBX, E1000_V2PMAILBOX_ACK);
	CHECK_EQ(VFPF_V2P_ACK_COUNT(t.pf[VFPF_V2P_SEQ(1) / 4]), 1);
	/* The other VF saw none of it. */
	CHECK_EQ(t.pf[VFPF_V2P_SEQ(0) / 4], 0);
	tnic_close(&t);
}

TEST(mbx_message_held_while_vf_owns_buffer)
{
	struct tnic t;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	rd(&t, 0, MBX);
	wr(&t, 0, MBX, E1000_V2PMAILBOX_VFU);
	wr(&t, 0, E1000_VMBMEM(0), 0x1234);
	pf_reply(&t, 0, (uint32_t[]){ 0xAAAA }, 1, VFPF_P2V_STS);
	poll_n(&t, 2);
	/* Not delivered: the VF is writing its own message into VMBMEM. */
	CHECK_EQ(rd(&t, 0, E1000_VMBMEM(0)), 0x1234);
	CHECK(t.pf[VFPF_P2V_DONE(0) / 4] != t.p2v_seq[0]);
	wr(&t, 0, MBX, E1000_V2PMAILBOX_REQ);   /* posts 0x1234, drops VFU */
	CHECK_EQ(t.pf[VFPF_V2P_MSG(0, 0) / 4], 0x1234);
	vfmed_nic_poll(t.nic);
	CHECK_EQ(rd(&t, 0, E1000_VMBMEM(0)), 0xAAAA);
	CHECK_EQ(t.pf[VFPF_P2V_DONE(0) / 4], t.p2v_seq[0]);
	CHECK(rd(&t, 0, MBX) & E1000_V2PMAILBOX_PFSTS);
	tnic_close(&t);
}

TEST(mbx_ctrl_rst_stops_queues_and_gates_vf)
{
	struct tnic t;
	struct vfmed_vf_info info;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	rxq_setup(&t, 0, 0, GIOVA, 8, GIOVA + 0x10000, 2, false);
	txq_setup(&t, 0, 0, GIOVA + 0x1000, 8, false);
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 0, &info), 0);
	CHECK(info.q[0].rx_enabled && info.q[0].tx_enabled && info.rx_en && info.tx_en);
	wr(&t, 0, E1000_VF_EIMS, 0x5);
	wr(&t, 0, E1000_VF_CTRL, E1000_CTRL_RST);
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 0, &info), 0);
	CHECK(!info.q[0].rx_enabled && !info.q[0].tx_enabled && !info.rx_en && !info.tx_en);
	CHECK_EQ(rd(&t, 0, E1000_RXDCTL(0)) & E1000_XDCTL_ENABLE, 0);
	CHECK_EQ(rd(&t, 0, E1000_TXDCTL(0)) & E1000_XDCTL_ENABLE, 0);
	/* Ring configuration and interrupt masks survive (igb_vf_reset). */
	CHECK_EQ(rd(&t, 0, E1000_RDLEN(0)), 128);
	CHECK_EQ(rd(&t, 0, E1000_RDT(0)), 7);
	CHECK_EQ(rd(&t, 0, E1000_VF_EIMS), 0x5);
	tnic_close(&t);
}

TEST(mbx_pf_event_fd_signalled_on_every_event)
{
	struct tnic t;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint64_t v = 0;
	uint32_t ev;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	REQUIRE_EQ(vfmed_nic_set_pf_event_fd(t.nic, fd), 0);
	ev = t.pf[VFPF_EVENT_SEQ / 4];
	wr(&t, 0, E1000_V2PMAILBOX, E1000_V2PMAILBOX_REQ);      /* request */
	wr(&t, 1, E1000_V2PMAILBOX, E1000_V2PMAILBOX_ACK);      /* ack */
	wr(&t, 1, E1000_VF_CTRL, E1000_CTRL_RST);               /* VF reset */
	CHECK_EQ(t.pf[VFPF_EVENT_SEQ / 4], ev + 3);
	CHECK(read(fd, &v, sizeof(v)) == sizeof(v));
	CHECK_EQ(v, 3);
	CHECK_EQ(vfmed_nic_set_pf_event_fd(t.nic, -1), 0);
	wr(&t, 0, E1000_V2PMAILBOX, E1000_V2PMAILBOX_REQ);
	CHECK(read(fd, &v, sizeof(v)) < 0);
	CHECK_EQ(vfmed_nic_set_pf_event_fd(t.nic, -5), -EBADF);
	close(fd);
	tnic_close(&t);
}
