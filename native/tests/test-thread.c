/* SPDX-License-Identifier: MIT */
/* test-thread.c - the device thread: it notices passthrough doorbells and PF BAR writes on
 * its own, start/stop are idempotent, destroy stops it, API calls interleave with it.
 * Waits are bounded loops on a condition (never timing assertions). */
#define _GNU_SOURCE
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "tnic.h"

#define RXR   (GIOVA)
#define RXB   (GIOVA + 0x10000)

/* Wait up to ~5 s for *p == want. */
static bool wait_eq(volatile uint32_t *p, uint32_t want)
{
	for (int i = 0; i < 5000; i++) {
		if (__atomic_load_n(p, __ATOMIC_ACQUIRE) == want)
			return true;
		usleep(1000);
	}
	return false;
}

static void run_thread_case(uint32_t mode)
{
	struct tnic t;
	uint8_t f[100], mac[6];
	uint32_t i, hb;

	tnic_open(&t, &(struct tnic_opts){ .poll_mode = mode });
	vfmed_nic_kick(t.nic);   /* no thread: harmless */
	vf_mac(&t, 0, mac);
	rxq_setup(&t, 0, 0, RXR, 8, RXB, 2, true);
	mk_frame(f, mac, mac, 1, 100);
	for (i = 0; i < 3; i++)
		REQUIRE_EQ(vfmed_uplink_inject(t.nic, f, 100), 0);
	/* Ring full (7); consume nothing yet. Start the thread, then give descriptors back
	 * with a plain store: the thread must see the doorbell. */
	for (i = 0; i < 10; i++)
		REQUIRE_EQ(vfmed_uplink_inject(t.nic, f, 100), 0);
	CHECK_EQ(vfmed_nic_start(t.nic), 0);
	CHECK_EQ(vfmed_nic_start(t.nic), 0);
	for (i = 0; i < 7; i++)
		rxq_arm(&t, 0, RXR, i, RXB + i * 2048);
	pt_wr(&t, 0, E1000_RDT(0), 6);
	CHECK(wait_eq(&t.vbar[0][E1000_RDH(0) / 4], (7 + 6) % 8));
	/* PF BAR: an admin command is picked up without vfmed_nic_poll. */
	hb = t.pf[VFPF_HEARTBEAT / 4];
	{
		struct vfpf_aq_desc *d = (struct vfpf_aq_desc *)t.pfmem + t.aq_tail;

		memset(d, 0, sizeof(*d));
		d->opcode = VFPF_AQC_VF_SET_PROMISC;
		d->param0 = VFPF_PROMISC_MC;
		t.aq_tail++;
		__atomic_store_n(&t.pf[VFPF_AQ_TAIL / 4], t.aq_tail, __ATOMIC_RELEASE);
		CHECK(wait_eq(&t.pf[VFPF_AQ_HEAD / 4], t.aq_tail));
		CHECK(__atomic_load_n(&d->flags, __ATOMIC_ACQUIRE) & VFPF_AQ_F_DONE);
		CHECK_EQ(d->status, 0);
	}
	CHECK(t.pf[VFPF_HEARTBEAT / 4] != hb);
	/* API calls interleave with the thread. */
	for (i = 0; i < 200; i++) {
		uint64_t v;

		CHECK_EQ(vfmed_vf_reg_read(t.nic, 0, E1000_VFGPRC, 4, &v), 0);
	}
	CHECK_EQ(vfmed_nic_stop(t.nic), 0);
	CHECK_EQ(vfmed_nic_stop(t.nic), 0);
	CHECK_EQ(vfmed_nic_start(t.nic), 0);
	tnic_close(&t);   /* destroy stops the running thread */
}

TEST(thread_adaptive_sees_passthrough_and_pf_bar)
{
	run_thread_case(VFMED_POLL_ADAPTIVE);
}

TEST(thread_busy_mode)
{
	run_thread_case(VFMED_POLL_BUSY);
}

TEST(irq_throttled_cause_delivered_at_expiry)
{
	struct tnic t;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint64_t total = 0, v;
	int i;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	REQUIRE_EQ(vfmed_vf_set_irq_fd(t.nic, 0, 2, fd), 0);
	wr(&t, 0, E1000_VF_EITR(2), 50 << 2);   /* 50 us */
	wr(&t, 0, E1000_VF_EIMS, 0x4);
	wr(&t, 0, E1000_VF_EIAC, 0x4);
	wr(&t, 0, E1000_VF_EICS, 0x4);
	wr(&t, 0, E1000_VF_EICS, 0x4);            /* within the interval: deferred */
	for (i = 0; i < 5000 && total < 2; i++) {
		vfmed_nic_poll(t.nic);
		if (read(fd, &v, sizeof(v)) == sizeof(v))
			total += v;
		usleep(100);
	}
	CHECK_EQ(total, 2);
	CHECK_EQ(rd(&t, 0, E1000_VF_EICR), 0);    /* auto-cleared by the deferred message */
	close(fd);
	tnic_close(&t);
}
