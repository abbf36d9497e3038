// SPDX-License-Identifier: MIT
/*
 * vfpf-ctl.c - exercises the PF driver module's character device (/dev/vfpf, ioctls of
 * pf-driver/linux/vfpf_uapi.h) inside the kernel test's guest: what the mediator's kernel
 * path does with ioctl(2), as a static program because Node does not run in the guest.
 * Every call's result is checked; facts the host verifies on its side of the device are
 * printed as VFMED-DATA lines.
 *
 * Usage: vfpf-ctl info
 *        vfpf-ctl sriov N
 *        vfpf-ctl mac VF MAC [VF MAC]...      set, then read back through VF_CONFIG
 *        vfpf-ctl errors                      bad requests get the documented errno
 *        vfpf-ctl wait-enabled VF TIMEOUT_MS  until the VF's RX and TX are enabled (the
 *                                             VF driver finished its VF_RESET handshake)
 *        vfpf-ctl layout                      ioctl numbers and struct sizes as the C
 *                                             compiler sees them (checked against the
 *                                             Node/koffi probe's own declarations)
 *        vfpf-ctl save-load VF [--min-fifo N] [--timeout-ms T]
 *            quiesce, wait until >= N frames wait in the VF's RX FIFO (traffic in flight),
 *            save (blob checked here: magic, version, length, CRC-32), refuse a corrupt
 *            blob, load the saved one back, resume
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

static void vf_stats(uint32_t vf, struct vfpf_ioc_stats *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->vf = vf;
	rc = xioctl(VFPF_IOC_STATS, s);
	if (rc)
		kt_fail("STATS(%u): %s", vf, errname(-rc));
}

static void vf_cmd(unsigned long req, const char *what, uint32_t vf)
{
	struct vfpf_ioc_vf a = { .vf = vf };
	int rc = xioctl(req, &a);

	if (rc)
		kt_fail("%s(%u): %s", what, vf, errname(-rc));
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

/* IEEE CRC-32 (reflected, 0xEDB88320), as the state blob header's crc32. */
static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
	}
	return ~c;
}

/* Checks a saved blob independently of the driver: header, length, sections, CRC. */
static void check_blob(const uint8_t *b, uint32_t len, uint32_t vf)
{
	struct vfpf_state_hdr h;
	uint32_t off = sizeof(h), crc;
	uint8_t *copy;

	if (len < sizeof(h))
		kt_fail("blob of %u bytes is shorter than its header", len);
	memcpy(&h, b, sizeof(h));
	if (h.magic != VFPF_STATE_MAGIC || h.major != VFPF_STATE_MAJOR || h.total_len != len ||
	    h.model_id != VFPF_MODEL_ID || h.vf != vf)
		kt_fail("blob header: magic 0x%llx v%u.%u total %u (got %u) model 0x%x vf %u",
			(unsigned long long)h.magic, h.major, h.minor, h.total_len, len, h.model_id, h.vf);
	for (uint32_t i = 0; i < h.section_count; i++) {
		struct vfpf_state_sec s;

		if (off + sizeof(s) > len)
			kt_fail("blob section %u header beyond the end", i);
		memcpy(&s, b + off, sizeof(s));
		off += sizeof(s) + ((s.len + 7u) & ~7u);
		if (off > len)
			kt_fail("blob section %u (type 0x%x, %u bytes) beyond the end", i, s.type, s.len);
	}
	if (off != len)
		kt_fail("blob sections end at %u, blob is %u bytes", off, len);
	copy = malloc(len);
	if (!copy)
		kt_fail("out of memory");
	memcpy(copy, b, len);
	memset(copy + offsetof(struct vfpf_state_hdr, crc32), 0, sizeof(h.crc32));
	crc = crc32_ieee(copy, len);
	free(copy);
	if (crc != h.crc32)
		kt_fail("blob CRC-32 0x%08x, header says 0x%08x", crc, h.crc32);
	printf("blob: %u bytes, %u sections, CRC-32 0x%08x verified\n", len, h.section_count, crc);
	kt_data("state-sections", "%u", h.section_count);
	kt_data("state-crc32", "0x%08x", crc);
}

static int cmd_save_load(uint32_t vf, uint32_t min_fifo, uint32_t tmo_ms)
{
	uint64_t deadline = kt_now_ms() + tmo_ms;
	struct vfpf_ioc_state_size sz = { .vf = vf };
	struct vfpf_ioc_vf_config c;
	struct vfpf_ioc_stats st, st2;
	struct vfpf_ioc_blob b = { .vf = vf };
	uint8_t *blob, *bad;
	uint32_t len;
	int rc;

	vf_cmd(VFPF_IOC_VF_QUIESCE, "VF_QUIESCE", vf);
	vf_config(vf, &c);
	if (!c.quiesced)
		kt_fail("VF%u not quiesced after VF_QUIESCE", vf);
	printf("VF%u quiesced; waiting for %u frames in its RX FIFO\n", vf, min_fifo);
	for (;;) {
		vf_stats(vf, &st);
		if (st.fifo_frames >= min_fifo)
			break;
		if (kt_now_ms() > deadline)
			kt_fail("only %llu frames reached VF%u's RX FIFO while quiesced: no traffic?",
				(unsigned long long)st.fifo_frames, vf);
		kt_sleep_us(10000);
	}
	kt_data("fifo-frames-at-save", "%llu", (unsigned long long)st.fifo_frames);
	kt_data("rx-packets-at-save", "%llu", (unsigned long long)st.rx_packets);

	/*
	 * STATE_SIZE is "what SAVE needs now": frames keep reaching the quiesced VF's RX FIFO
	 * until SAVE seals it, so the blob may have grown by the time SAVE runs. A client
	 * re-queries and retries on ENOSPC (bounded), as it would against real hardware.
	 */
	blob = bad = NULL;
	for (int tries = 0;; tries++) {
		rc = xioctl(VFPF_IOC_STATE_SIZE, &sz);
		if (rc || sz.size < sizeof(struct vfpf_state_hdr) || sz.size > VFPF_IOC_STATE_MAX)
			kt_fail("STATE_SIZE(%u): %s, size %u", vf, errname(-rc), sz.size);
		free(blob);
		free(bad);
		blob = calloc(1, sz.size);
		bad = calloc(1, sz.size);
		if (!blob || !bad)
			kt_fail("out of memory");
		if (tries == 0) {
			/* Too small a buffer: refused, and the VF must stay saveable afterwards. */
			b.buf = (uintptr_t)blob;
			b.len = sizeof(struct vfpf_state_hdr);
			rc = xioctl(VFPF_IOC_SAVE, &b);
			if (rc != -ENOSPC)
				kt_fail("SAVE with a %u-byte buffer: %s, expected ENOSPC", b.len, errname(-rc));
		}
		b.buf = (uintptr_t)blob;
		b.len = sz.size;
		rc = xioctl(VFPF_IOC_SAVE, &b);
		if (!rc) {
			kt_data("save-retries", "%d", tries);
			break;
		}
		if (rc != -ENOSPC || tries == 10)
			kt_fail("SAVE(%u, %u bytes): %s after %d tries", vf, sz.size, errname(-rc), tries + 1);
		printf("SAVE: the state grew past STATE_SIZE %u (frames still arriving): re-query\n", sz.size);
	}
	len = b.len;
	if (len == 0 || len > sz.size)
		kt_fail("SAVE wrote %u bytes, STATE_SIZE said %u", len, sz.size);
	printf("VF%u saved: %u bytes (STATE_SIZE %u)\n", vf, len, sz.size);
	kt_data("state-bytes", "%u", len);
	check_blob(blob, len, vf);

	/* A corrupt blob (one payload byte flipped) is refused whole: nothing applied. */
	memcpy(bad, blob, len);
	bad[len - 1] ^= 0x5a;
	b.buf = (uintptr_t)bad;
	b.len = len;
	vf_stats(vf, &st);
	rc = xioctl(VFPF_IOC_LOAD, &b);
	kt_data("corrupt-load", "%s", errname(-rc));
	if (rc != -EBADMSG)
		kt_fail("LOAD of a corrupt blob: %s, expected EBADMSG", errname(-rc));
	vf_stats(vf, &st2);
	if (st2.rx_packets != st.rx_packets || st2.fifo_frames < st.fifo_frames)
		kt_fail("the refused LOAD changed the VF (rx_packets %llu -> %llu, fifo %llu -> %llu)",
			(unsigned long long)st.rx_packets, (unsigned long long)st2.rx_packets,
			(unsigned long long)st.fifo_frames, (unsigned long long)st2.fifo_frames);
	/* A bad user pointer: the copy fails before the device sees anything. */
	b.buf = 1;
	rc = xioctl(VFPF_IOC_LOAD, &b);
	if (rc != -EFAULT)
		kt_fail("LOAD from a bad pointer: %s, expected EFAULT", errname(-rc));

	b.buf = (uintptr_t)blob;
	b.len = len;
	rc = xioctl(VFPF_IOC_LOAD, &b);
	if (rc)
		kt_fail("LOAD of the saved blob: %s", errname(-rc));
	vf_config(vf, &c);
	if (!c.quiesced)
		kt_fail("VF%u not quiesced right after LOAD", vf);
	vf_stats(vf, &st2);
	kt_data("fifo-frames-after-load", "%llu", (unsigned long long)st2.fifo_frames);
	vf_cmd(VFPF_IOC_VF_RESUME, "VF_RESUME", vf);
	vf_config(vf, &c);
	if (c.quiesced)
		kt_fail("VF%u still quiesced after VF_RESUME", vf);
	printf("VF%u: corrupt blob refused, saved blob loaded back, resumed\n", vf);
	free(blob);
	free(bad);
	return 0;
}

static int cmd_layout(void)
{
	printf("GET_INFO=0x%08lx VF_CONFIG=0x%08lx info=%zu vf_config=%zu info.num_vfs=%zu "
	       "vf_config.enable=%zu\n", (unsigned long)VFPF_IOC_GET_INFO,
	       (unsigned long)VFPF_IOC_VF_CONFIG, sizeof(struct vfpf_ioc_info),
	       sizeof(struct vfpf_ioc_vf_config), offsetof(struct vfpf_ioc_info, num_vfs),
	       offsetof(struct vfpf_ioc_vf_config, enable));
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
	if (!strcmp(argv[1], "save-load") && argc >= 3) {
		uint32_t min_fifo = 2, tmo = 60000;

		for (int i = 3; i + 1 < argc; i += 2) {
			if (!strcmp(argv[i], "--min-fifo"))
				min_fifo = parse_u32(argv[i + 1], "--min-fifo");
			else if (!strcmp(argv[i], "--timeout-ms"))
				tmo = parse_u32(argv[i + 1], "--timeout-ms");
			else
				goto usage;
		}
		if (argc % 2 == 0)
			goto usage;
		return cmd_save_load(parse_u32(argv[2], "VF"), min_fifo, tmo);
	}
usage:
	fprintf(stderr, "usage: vfpf-ctl info | sriov N | mac VF MAC... | errors | wait-enabled VF MS | layout |\n"
			"                save-load VF [--min-fifo N] [--timeout-ms T]\n");
	return 2;
}
