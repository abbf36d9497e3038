/* SPDX-License-Identifier: MIT */
/* test-irq.c - page 1: EICR/EICS/EIMS/EIMC/EIAC/EIAM, IVAR routing, EITR throttling. */
#define _GNU_SOURCE
#include <sys/eventfd.h>
#include <unistd.h>

#include "harness.h"
#include "tnic.h"

static uint64_t efd_take(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

static void attach(struct tnic *t, uint32_t vf, int *fds)
{
	uint32_t i;

	for (i = 0; i < 3; i++) {
		fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		REQUIRE(fds[i] >= 0);
		REQUIRE_EQ(vfmed_vf_set_irq_fd(t->nic, vf, i, fds[i]), 0);
	}
}

static void detach(int *fds)
{
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}

TEST(irq_eicr_read_to_clear_and_w1c)
{
	struct tnic t;
	int fd[3];

	tnic_open(&t, &(struct tnic_opts){ 0 });
	attach(&t, 0, fd);
	wr(&t, 0, E1000_VF_EICS, 0x5);     /* masked: cause only */
	CHECK_EQ(efd_take(fd[0]), 0);
	CHECK_EQ(efd_take(fd[2]), 0);
	CHECK_EQ(rd(&t, 0, E1000_VF_EICR), 0x5);
	CHECK_EQ(rd(&t, 0, E1000_VF_EICR), 0);   /* read-to-clear */
	wr(&t, 0, E1000_VF_EICS, 0xFFFFFFFF);
	wr(&t, 0, E1000_VF_EICR, 0x2);           /* W1C */
	CHECK_EQ(rd(&t, 0, E1000_VF_EICR), 0x5);
	/* EICS/EIMC are write-only. */
	CHECK_EQ(rd(&t, 0, E1000_VF_EICS), 0);
	detach(fd);
	tnic_close(&t);
}

TEST(irq_mask_autoclear_automask)
{
	struct tnic t;
	int fd[3];

	tnic_open(&t, &(struct tnic_opts){ 0 });
	attach(&t, 0, fd);
	wr(&t, 0, E1000_VF_EIMS, 0x7);
	CHECK_EQ(rd(&t, 0, E1000_VF_EIMS), 0x7);
	wr(&t, 0, E1000_VF_EIMC, 0x2);
	CHECK_EQ(rd(&t, 0, E1000_VF_EIMS), 0x5);
	wr(&t, 0, E1000_VF_EICS, 0x3);
	CHECK_EQ(efd_take(fd[0]), 1);
	CHECK_EQ(efd_take(fd[1]), 0);              /* masked */
	CHECK_EQ(rd(&t, 0, E1000_VF_EICR), 0x3);   /* no EIAC: cause stays */
	/* Unmasking a pending cause fires it. */
	wr(&t, 0, E1000_VF_EICS, 0x2);
	wr(&t, 0, E1000_VF_EIMS, 0x2);
	CHECK_EQ(efd_take(fd[1]), 1);
	/* EIAC clears the cause when the message goes out, EIAM masks the vector. */
	rd(&t, 0, E1000_VF_EICR);
	wr(&t, 0, E1000_VF_EIAC, 0x4);
	wr(&t, 0, E1000_VF_EIAM, 0x4);
	CHECK_EQ(rd(&t, 0, E1000_VF_EIAC), 0x4);
	wr(&t, 0, E1000_VF_EICS, 0x4);
	CHECK_EQ(efd_take(fd[2]), 1);
	CHECK_EQ(rd(&t, 0, E1000_VF_EICR), 0);
	CHECK_EQ(rd(&t, 0, E1000_VF_EIMS) & 0x4, 0);
	/* Masked now: a new cause does not fire until EIMS is written again. */
	wr(&t, 0, E1000_VF_EICS, 0x4);
	CHECK_EQ(efd_take(fd[2]), 0);
	wr(&t, 0, E1000_VF_EIMS, 0x4);
	CHECK_EQ(efd_take(fd[2]), 1);
	/* Detached vector: cause still latched, no crash. */
	REQUIRE_EQ(vfmed_vf_set_irq_fd(t.nic, 0, 0, -1), 0);
	wr(&t, 0, E1000_VF_EICS, 0x1);
	CHECK_EQ(efd_take(fd[0]), 0);
	CHECK_EQ(vfmed_vf_set_irq_fd(t.nic, 0, 3, fd[0]), -EINVAL);
	detach(fd);
	tnic_close(&t);
}

TEST(irq_eitr_throttles_to_one_message)
{
	struct tnic t;
	int fd[3];

	tnic_open(&t, &(struct tnic_opts){ 0 });
	attach(&t, 0, fd);
	/* 0x7FFC >> 2 = 8191 us: far longer than this test runs, so no timing race. */
	wr(&t, 0, E1000_VF_EITR(1), 0x80007FFC);
	CHECK_EQ(rd(&t, 0, E1000_VF_EITR(1)), 0x7FFC);   /* without CNT_IGNR */
	wr(&t, 0, E1000_VF_EIAC, 0x2);
	wr(&t, 0, E1000_VF_EIMS, 0x2);
	wr(&t, 0, E1000_VF_EICS, 0x2);
	CHECK_EQ(efd_take(fd[1]), 1);                    /* first goes out, arms the timer */
	wr(&t, 0, E1000_VF_EICS, 0x2);
	wr(&t, 0, E1000_VF_EICS, 0x2);
	poll_n(&t, 3);
	CHECK_EQ(efd_take(fd[1]), 0);                    /* deferred */
	CHECK_EQ(rd(&t, 0, E1000_VF_EICR) & 0x2, 0x2);   /* cause pending */
	/* An unthrottled vector is unaffected: every cause is a message. */
	wr(&t, 0, E1000_VF_EIMS, 0x1);
	wr(&t, 0, E1000_VF_EICS, 0x1);
	wr(&t, 0, E1000_VF_EICS, 0x1);
	CHECK_EQ(efd_take(fd[0]), 2);
	detach(fd);
	tnic_close(&t);
}

TEST(irq_ivar_routes_queue_and_misc_causes)
{
	struct tnic t;
	int fd[3];

	tnic_open(&t, &(struct tnic_opts){ 0 });
	attach(&t, 0, fd);
	wr(&t, 0, E1000_VF_IVAR0, 0xFFFF8081);   /* TX0 -> 0, RX0 -> 1, junk masked */
	CHECK_EQ(rd(&t, 0, E1000_VF_IVAR0), 0x83838081);
	wr(&t, 0, E1000_VF_IVAR0, 0x00008081);
	wr(&t, 0, E1000_VF_IVAR_MISC, 0x82);
	CHECK_EQ(rd(&t, 0, E1000_VF_IVAR_MISC), 0x82);
	wr(&t, 0, E1000_VF_EIMS, 0x7);
	wr(&t, 0, E1000_VF_EIAC, 0x7);
	/* A mailbox message from the PF raises the misc vector. */
	pf_reply(&t, 0, (uint32_t[]){ E1000_PF_CONTROL_MSG | E1000_VT_MSGTYPE_CTS }, 1,
	         VFPF_P2V_STS);
	vfmed_nic_poll(t.nic);
	CHECK_EQ(efd_take(fd[2]), 1);
	CHECK_EQ(efd_take(fd[0]) + efd_take(fd[1]), 0);
	/* IVAR_MISC without VALID: cause is not routed anywhere. */
	wr(&t, 0, E1000_VF_IVAR_MISC, 0x02);
	pf_reply(&t, 0, (uint32_t[]){ E1000_PF_CONTROL_MSG }, 1, VFPF_P2V_STS);
	vfmed_nic_poll(t.nic);
	CHECK_EQ(efd_take(fd[2]), 0);
	detach(fd);
	tnic_close(&t);
}
