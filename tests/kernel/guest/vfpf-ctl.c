// SPDX-License-Identifier: MIT
/*
 * vfpf-ctl.c - a C client of the PF driver module's character device (/dev/vfpf, ioctls of
 * pf-driver/linux/vfpf_uapi.h) inside the kernel test's guest: the steps that run before
 * Node is started (bring-up, MACs, waits) and the raw uapi error cases as a C program sees
 * them. The mediator's own binding (KernelPf, run by kernel-pf.mjs) does the rest. Every
 * call's result is checked; facts the host verifies on its side of the device are printed
 * as VFMED-DATA lines.
 *
 * Usage: vfpf-ctl info
 *        vfpf-ctl sriov N
 *        vfpf-ctl mac VF MAC [VF MAC]...      set, then read back through VF_CONFIG
 *        vfpf-ctl errors                      bad requests get the documented errno
 *        vfpf-ctl wait-enabled VF TIMEOUT_MS  until the VF's RX and TX are enabled (the
 *                                             VF driver finished its VF_RESET handshake)
 *        vfpf-ctl layout                      every request number as the C compiler
 *                                             computes it (kernel-pf.mjs compares the
 *                                             binding's with it)
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vfmed/pf_regs.h"
#include "vfpf_uapi.h"
#include "kt-frame.h"
#include "kt-util.h"

static int dev_fd = -1;

static void open_dev(void)
{
	dev_fd = open("/dev/vfpf", O_RDWR | O_CLOEXEC);
	if (dev_fd < 0)
		kt_fail("open /dev/vfpf: %s", strerror(errno));
}

/* ioctl returning 0 or -errno. */
static int xioctl(unsigned long req, void *arg)
{
	return ioctl(dev_fd, req, arg) < 0 ? -errno : 0;
}

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case ENODEV: return "ENODEV";
	case EBUSY: return "EBUSY";
	case EBADMSG: return "EBADMSG";
	case EPROTO: return "EPROTO";
	case E2BIG: return "E2BIG";
	case ENOSPC: return "ENOSPC";
	case EFAULT: return "EFAULT";
	case ENOTTY: return "ENOTTY";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EIO: return "EIO";
	default: return strerror(e);
	}
}

static void vf_config(uint32_t vf, struct vfpf_ioc_vf_config *c)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->vf = vf;
	rc = xioctl(VFPF_IOC_VF_CONFIG, c);
	if (rc)
		kt_fail("VF_CONFIG(%u): %s", vf, errname(-rc));
}

static uint32_t parse_u32(const char *s, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (!*s || *end || v > 0xffffffffUL) {
		fprintf(stderr, "vfpf-ctl: bad %s '%s'\n", what, s);
		exit(2);
	}
	return (uint32_t)v;
}

static void fmt_mac(const uint8_t *m, char *out)
{
	sprintf(out, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int cmd_info(void)
{
	struct vfpf_ioc_info in = { 0 };
	int rc = xioctl(VFPF_IOC_GET_INFO, &in);

	if (rc)
		kt_fail("GET_INFO: %s", errname(-rc));
	printf("model 0x%08x abi %u.%u max_vfs %u num_vfs %u queues %u fifo %u state 0x%x features 0x%x\n",
	       in.model_id, in.abi_major, in.abi_minor, in.max_vfs, in.num_vfs, in.queues_per_vf,
	       in.rx_fifo_bytes, in.state_version, in.features);
	if (in.model_id != VFPF_MODEL_ID)
		kt_fail("model id 0x%08x, expected 0x%08x", in.model_id, VFPF_MODEL_ID);
	if (in.abi_major != VFPF_ABI_MAJOR)
		kt_fail("ABI major %u, this program speaks %u", in.abi_major, VFPF_ABI_MAJOR);
	if (in.max_vfs == 0 || in.max_vfs > VFPF_MAX_VFS)
		kt_fail("max_vfs %u", in.max_vfs);
	kt_data("model", "0x%08x", in.model_id);
	kt_data("max-vfs", "%u", in.max_vfs);
	kt_data("num-vfs", "%u", in.num_vfs);
	kt_data("state-version", "0x%x", in.state_version);
	return 0;
}

static int cmd_sriov(uint32_t n)
{
	struct vfpf_ioc_sriov s = { .num_vfs = n };
	struct vfpf_ioc_info in = { 0 };
	int rc = xioctl(VFPF_IOC_SRIOV_ENABLE, &s);

	if (rc)
		kt_fail("SRIOV_ENABLE(%u): %s", n, errname(-rc));
	if (s.num_vfs != n)
		kt_fail("SRIOV_ENABLE(%u) reports %u VFs", n, s.num_vfs);
	rc = xioctl(VFPF_IOC_GET_INFO, &in);
	if (rc || in.num_vfs != n)
		kt_fail("GET_INFO after SRIOV_ENABLE: %s, num_vfs %u", errname(-rc), in.num_vfs);
	printf("%u VFs enabled\n", n);
	kt_data("num-vfs", "%u", n);
	return 0;
}

static int cmd_mac(int argc, char **argv)
{
	if (argc < 2 || argc % 2) {
		fprintf(stderr, "usage: vfpf-ctl mac VF MAC [VF MAC]...\n");
		return 2;
	}
	for (int i = 0; i < argc; i += 2) {
		struct vfpf_ioc_mac m = { .vf = parse_u32(argv[i], "VF") };
		struct vfpf_ioc_vf_config c;
		char s[18];
		int rc;

		if (kt_parse_mac(argv[i + 1], m.mac) < 0) {
			fprintf(stderr, "vfpf-ctl: bad MAC '%s'\n", argv[i + 1]);
			return 2;
		}
		rc = xioctl(VFPF_IOC_SET_MAC, &m);
		if (rc)
			kt_fail("SET_MAC(%u, %s): %s", m.vf, argv[i + 1], errname(-rc));
		vf_config(m.vf, &c);
		fmt_mac(c.mac, s);
		if (memcmp(c.mac, m.mac, 6))
			kt_fail("VF%u: VF_CONFIG reports MAC %s after SET_MAC %s", m.vf, s, argv[i + 1]);
		printf("VF%u MAC %s (device filter confirmed)\n", m.vf, s);
		kt_data("mac", "%u=%s", m.vf, s);
	}
	return 0;
}

/* One bad request and the errno the uapi/core documentation promises for it. */
struct bad_call {
	const char *what;
	unsigned long req;
	void *arg;
	int want;
};

static int cmd_errors(void)
{
	struct vfpf_ioc_info in = { 0 };
	struct vfpf_ioc_mac mc = { .vf = 0, .mac = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 } };
	struct vfpf_ioc_mac bc = { .vf = 0, .mac = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	struct vfpf_ioc_mac off = { .vf = 3, .mac = { 0x02, 0, 0, 0, 0, 5 } };
	struct vfpf_ioc_mac padm = { .vf = 0, .mac = { 0x02, 0, 0, 0, 0, 7 }, .pad = { 1, 0 } };
	struct vfpf_ioc_sriov big, other = { .num_vfs = 1 };
	struct vfpf_ioc_vf padv = { .vf = 0, .pad = 1 };
	struct vfpf_ioc_blob tiny = { .vf = 1, .len = 8 }, huge = { .vf = 1, .len = VFPF_IOC_STATE_MAX + 1 };
	struct vfpf_ioc_blob save_live = { .vf = 1 };
	struct vfpf_ioc_state_size sz = { .vf = 1 };
	uint8_t small[8] = { 0 };
	static uint8_t buf[1 << 16];
	int fails = 0, rc;

	rc = xioctl(VFPF_IOC_GET_INFO, &in);
	if (rc || in.num_vfs < 2)
		kt_fail("errors: needs >= 2 VFs enabled (GET_INFO %s, num_vfs %u)", errname(-rc), in.num_vfs);
	big.num_vfs = in.max_vfs + 1;
	big.pad = 0;
	tiny.buf = (uintptr_t)small;
	huge.buf = (uintptr_t)buf;
	rc = xioctl(VFPF_IOC_STATE_SIZE, &sz);
	if (rc || sz.size == 0 || sz.size > sizeof(buf))
		kt_fail("STATE_SIZE(1): %s, size %u", errname(-rc), sz.size);
	save_live.len = sz.size;
	save_live.buf = (uintptr_t)buf;

	struct bad_call calls[] = {
		{ "SET_MAC multicast address", VFPF_IOC_SET_MAC, &mc, EINVAL },
		{ "SET_MAC broadcast address", VFPF_IOC_SET_MAC, &bc, EINVAL },
		{ "SET_MAC on a VF that is not enabled", VFPF_IOC_SET_MAC, &off, ENODEV },
		{ "SET_MAC with non-zero pad", VFPF_IOC_SET_MAC, &padm, EINVAL },
		{ "SRIOV_ENABLE beyond max_vfs", VFPF_IOC_SRIOV_ENABLE, &big, EINVAL },
		{ "SRIOV_ENABLE of another count while enabled", VFPF_IOC_SRIOV_ENABLE, &other, EBUSY },
		{ "VF_QUIESCE with non-zero pad", VFPF_IOC_VF_QUIESCE, &padv, EINVAL },
		{ "SAVE of a VF that is not quiesced", VFPF_IOC_SAVE, &save_live, EBUSY },
		{ "LOAD of 8 bytes (shorter than the header)", VFPF_IOC_LOAD, &tiny, EBADMSG },
		{ "LOAD beyond VFPF_IOC_STATE_MAX", VFPF_IOC_LOAD, &huge, E2BIG },
		{ "an ioctl number the driver does not have", _IO(VFPF_IOC_MAGIC, 0x7f), NULL, ENOTTY },
	};
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		rc = -xioctl(calls[i].req, calls[i].arg);
		printf("%-46s -> %-7s %s\n", calls[i].what, errname(rc),
		       rc == calls[i].want ? "ok" : "WRONG");
		if (rc != calls[i].want) {
			printf("  expected %s\n", errname(calls[i].want));
			fails++;
		}
	}
	/* The refused requests changed nothing: still the same VFs and MAC filters. */
	rc = xioctl(VFPF_IOC_GET_INFO, &in);
	if (rc || in.num_vfs < 2)
		kt_fail("after the bad requests: GET_INFO %s, num_vfs %u", errname(-rc), in.num_vfs);
	if (fails)
		kt_fail("%d bad request(s) got the wrong errno", fails);
	printf("every bad request got its documented errno, state unchanged\n");
	return 0;
}

static int cmd_wait_enabled(uint32_t vf, uint32_t tmo_ms)
{
	uint64_t deadline = kt_now_ms() + tmo_ms;
	struct vfpf_ioc_vf_config c;

	for (;;) {
		vf_config(vf, &c);
		if ((c.enable & (VFPF_VF_EN_RX | VFPF_VF_EN_TX)) == (VFPF_VF_EN_RX | VFPF_VF_EN_TX))
			break;
		if (kt_now_ms() > deadline)
			kt_fail("VF%u RX/TX not enabled after %u ms (enable 0x%x): no VF_RESET handshake?",
				vf, tmo_ms, c.enable);
		kt_sleep_us(20000);
	}
	printf("VF%u RX/TX enabled by the VF_RESET handshake\n", vf);
	return 0;
}

static int cmd_layout(void)
{
#define REQ(n) printf("%s%s=0x%08lx", first ? "" : " ", #n, (unsigned long)VFPF_IOC_##n), first = 0
	int first = 1;

	REQ(GET_INFO);
	REQ(SRIOV_ENABLE);
	REQ(SET_MAC);
	REQ(VF_QUIESCE);
	REQ(VF_RESUME);
	REQ(VF_FLR);
	REQ(STATE_SIZE);
	REQ(SAVE);
	REQ(LOAD);
	REQ(DIRTY_START);
	REQ(DIRTY_STOP);
	REQ(DIRTY_REPORT);
	REQ(STATS);
	REQ(VF_CONFIG);
#undef REQ
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "layout"))
		return cmd_layout(); /* needs no device */
	if (argc < 2)
		goto usage;
	open_dev();
	if (!strcmp(argv[1], "info") && argc == 2)
		return cmd_info();
	if (!strcmp(argv[1], "sriov") && argc == 3)
		return cmd_sriov(parse_u32(argv[2], "VF count"));
	if (!strcmp(argv[1], "mac"))
		return cmd_mac(argc - 2, argv + 2);
	if (!strcmp(argv[1], "errors") && argc == 2)
		return cmd_errors();
	if (!strcmp(argv[1], "wait-enabled") && argc == 4)
		return cmd_wait_enabled(parse_u32(argv[2], "VF"), parse_u32(argv[3], "timeout"));
usage:
	fprintf(stderr, "usage: vfpf-ctl info | sriov N | mac VF MAC... | errors | wait-enabled VF MS | layout\n");
	return 2;
}
