/* SPDX-License-Identifier: MIT */
/*
 * main.c - command line of vfmed-guest, the guest runner: parses the workload and its
 * options, brings up the device through runner.c and runs workloads.c.
 *
 * Exit status: 0 done, 1 runtime error, 2 usage error, 3 --strict verification failed,
 * 4 device connection lost during an MMIO access.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame-tag.h"
#include "runner.h"
#include "selftest.h"
#include "workloads.h"

static const char usage_text[] =
"usage: vfmed-guest <workload> (--socket PATH | --uio PATH) [options]\n"
"       vfmed-guest selftest-decoder [--undecodable | --wild]\n"
"       vfmed-guest selftest-units\n"
"\n"
"Plays a VMM and its guest: connects to a vfmed VF as a vfio-user client, shares guest\n"
"RAM with DMA_MAP, maps the mmap-able part of BAR0 and traps the rest, and runs an\n"
"igbvf-style poll-mode driver. JSON lines on stdout (init, bar_layout, stats, summary).\n"
"\n"
"workloads: txgen | rxsink | fwd | echo | loopback | mmio-lat\n"
"\n"
"device:\n"
"  -s, --socket PATH        vfio-user server socket of the VF\n"
"      --uio PATH           map all of BAR0 from PATH (sysfs resource0, BAR file): no\n"
"                           trapping, no mailbox; needs --mac, --ram-file, --ram-base\n"
"      --trap-all           ignore the sparse-mmap areas: trap every BAR0 access\n"
"      --posted-writes      trapped stores to the queue pages do not wait for a reply\n"
"                           (vfio-user NO_REPLY; pages 0-1 always wait)\n"
"      --layout-irq N       IRQ index of the BAR layout notification (default 5, -1 off)\n"
"      --no-device-reset    do not send DEVICE_RESET before bring-up\n"
"guest:\n"
"      --ram SIZE           guest RAM size, k/M/G suffixes (default 16M)\n"
"      --ram-file PATH      back guest RAM with PATH instead of a memfd\n"
"      --ram-offset N       offset of guest RAM inside --ram-file (default 0)\n"
"      --ram-base GPA       guest-physical (= DMA) address of guest RAM (default 0)\n"
"      --ring N             TX and RX ring entries, multiple of 8 in 8..4096 (default 256)\n"
"      --mac MAC            MAC to set with SET_MAC_ADDR (required with --uio)\n"
"      --dst MAC            destination of generated frames (default broadcast;\n"
"                           loopback: own MAC)\n"
"      --ip A.B.C.D         echo: the IPv4 address to answer ARP and ping for\n"
"traffic:\n"
"  -n, --count N            frames to send/receive/forward/answer (0 = no limit)\n"
"  -d, --duration SEC       stop after SEC seconds (decimals allowed)\n"
"  -r, --rate PPS           txgen/loopback pacing in frames per second (0 = unpaced)\n"
"      --size BYTES         generated frame length without FCS, 60..1514 (default 60)\n"
"      --streams N          stream ids 0..N-1 used round-robin, 1..16 (default 1)\n"
"      --pcap FILE          txgen/loopback: replay the frames of a pcap file\n"
"      --no-stamp           send pcap frames unmodified (no sequence trailer)\n"
"      --seq-from-zero      rxsink: streams start at sequence 0 (count initial loss)\n"
"      --fwd-l2             fwd: send to --dst instead of back to the sender\n"
"      --burst N            frames per TX burst and RX poll, 1..1024 (default 32)\n"
"mmio-lat (time single BAR0 accesses; --count samples, default 10000):\n"
"      --lat-op OP          write (TDT0, unchanged), read (TDH0) or doorbell (one frame)\n"
"      --lat-warmup N       untimed accesses first (default 1000)\n"
"driver variants:\n"
"      --queues N           queue pairs 1..2 (default 1); stream s uses queue s %% N\n"
"      --rx-repost          re-arm RX descriptors with buffers at new addresses\n"
"      --rx-buf-kib K       RX buffer size the device may fill, 1 or 2 (default 2;\n"
"                           1: larger frames span descriptors and are dropped)\n"
"      --tx-split           post frames >= 120 bytes as two descriptors with a doorbell\n"
"                           between them\n"
"      --reinit-after N     reset the VF and set the rings up again once, after N frames\n"
"migration (guest RAM shared, e.g. --ram-file under /dev/shm):\n"
"      --migrate-to PATH    on SIGUSR1 move the VF to the vfio-user server at PATH\n"
"                           (pre-copy, stop-copy, resume there) and go on\n"
"      --migration-v1       use the v1 migration region instead of v2\n"
"      --precopy-ms MS      keep running in PRE_COPY this long (default 50)\n"
"      --precopy-rx-hold    do not poll RX during PRE_COPY (a busy guest: frames wait\n"
"                           in the ring and the device's RX FIFO when the VF is saved)\n"
"      --save-to FILE       on SIGUSR1 save the VF state into FILE and exit\n"
"      --resume             continue the guest found in --ram-file (no reset, no init)\n"
"      --load-from FILE     with --resume: load this VF state into the device first\n"
"      --lat-samples N      keep the last N trapped-store latencies for the summary\n"
"live migration between hosts (docs/live-migration.md):\n"
"      --monitor PATH       monitor socket (JSON lines: migrate, migrate-cancel,\n"
"                           query-migrate; events)\n"
"      --incoming tcp:ADDR:PORT  destination: reserve the VF, accept one migration\n"
"                           on ADDR:PORT (port 0: any, printed), load it, go on\n"
"      --ram-fill zero|random  what RAM outside the driver's layout holds at start\n"
"output and timing:\n"
"      --stats-interval MS  period of stats lines (default 1000; 0 = summary only)\n"
"      --busy-poll          never sleep when idle\n"
"      --strict             exit 3 on loss, duplicates, reordering, corruption or\n"
"                           frames still in flight at the end\n"
"      --connect-timeout MS (default 5000)   --reply-timeout MS (default 10000)\n"
"      --mbx-timeout MS     (default 1000)   --link-wait MS     (default 3000)\n"
"      --drain-timeout MS   (default 2000)\n"
"\n"
"exit status: 0 done, 1 error, 2 usage, 3 --strict check failed, 4 device lost\n";

enum {
	OPT_UIO = 256, OPT_TRAP_ALL, OPT_LAYOUT_IRQ, OPT_NO_RESET, OPT_RAM, OPT_RAM_FILE,
	OPT_RAM_OFFSET, OPT_RAM_BASE, OPT_RING, OPT_MAC, OPT_DST, OPT_IP, OPT_SIZE, OPT_STREAMS,
	OPT_PCAP, OPT_NO_STAMP, OPT_SEQ0, OPT_FWD_L2, OPT_BURST, OPT_STATS, OPT_BUSY, OPT_STRICT,
	OPT_CONNECT_TO, OPT_REPLY_TO, OPT_MBX_TO, OPT_LINK_WAIT, OPT_DRAIN_TO, OPT_HELP,
	OPT_LAT_OP, OPT_LAT_WARMUP,
	OPT_QUEUES, OPT_POSTED, OPT_RX_REPOST, OPT_RX_BUF_KIB, OPT_TX_SPLIT, OPT_REINIT_AFTER, OPT_MIGRATE_TO,
	OPT_MIGRATION_V1, OPT_PRECOPY_MS, OPT_PRECOPY_RX_HOLD, OPT_SAVE_TO, OPT_RESUME, OPT_LOAD_FROM, OPT_LAT_SAMPLES,
	OPT_MONITOR, OPT_INCOMING, OPT_RAM_FILL,
};

static const struct option long_opts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "uio", required_argument, NULL, OPT_UIO },
	{ "trap-all", no_argument, NULL, OPT_TRAP_ALL },
	{ "layout-irq", required_argument, NULL, OPT_LAYOUT_IRQ },
	{ "no-device-reset", no_argument, NULL, OPT_NO_RESET },
	{ "ram", required_argument, NULL, OPT_RAM },
	{ "ram-file", required_argument, NULL, OPT_RAM_FILE },
	{ "ram-offset", required_argument, NULL, OPT_RAM_OFFSET },
	{ "ram-base", required_argument, NULL, OPT_RAM_BASE },
	{ "ring", required_argument, NULL, OPT_RING },
	{ "mac", required_argument, NULL, OPT_MAC },
	{ "dst", required_argument, NULL, OPT_DST },
	{ "ip", required_argument, NULL, OPT_IP },
	{ "count", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'd' },
	{ "rate", required_argument, NULL, 'r' },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "streams", required_argument, NULL, OPT_STREAMS },
	{ "pcap", required_argument, NULL, OPT_PCAP },
	{ "no-stamp", no_argument, NULL, OPT_NO_STAMP },
	{ "seq-from-zero", no_argument, NULL, OPT_SEQ0 },
	{ "fwd-l2", no_argument, NULL, OPT_FWD_L2 },
	{ "burst", required_argument, NULL, OPT_BURST },
	{ "stats-interval", required_argument, NULL, OPT_STATS },
	{ "busy-poll", no_argument, NULL, OPT_BUSY },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TO },
	{ "reply-timeout", required_argument, NULL, OPT_REPLY_TO },
	{ "mbx-timeout", required_argument, NULL, OPT_MBX_TO },
	{ "link-wait", required_argument, NULL, OPT_LINK_WAIT },
	{ "drain-timeout", required_argument, NULL, OPT_DRAIN_TO },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "lat-op", required_argument, NULL, OPT_LAT_OP },
	{ "lat-warmup", required_argument, NULL, OPT_LAT_WARMUP },
	{ "queues", required_argument, NULL, OPT_QUEUES },
	{ "posted-writes", no_argument, NULL, OPT_POSTED },
	{ "rx-repost", no_argument, NULL, OPT_RX_REPOST },
	{ "rx-buf-kib", required_argument, NULL, OPT_RX_BUF_KIB },
	{ "tx-split", no_argument, NULL, OPT_TX_SPLIT },
	{ "reinit-after", required_argument, NULL, OPT_REINIT_AFTER },
	{ "migrate-to", required_argument, NULL, OPT_MIGRATE_TO },
	{ "migration-v1", no_argument, NULL, OPT_MIGRATION_V1 },
	{ "precopy-ms", required_argument, NULL, OPT_PRECOPY_MS },
	{ "precopy-rx-hold", no_argument, NULL, OPT_PRECOPY_RX_HOLD },
	{ "save-to", required_argument, NULL, OPT_SAVE_TO },
	{ "resume", no_argument, NULL, OPT_RESUME },
	{ "load-from", required_argument, NULL, OPT_LOAD_FROM },
	{ "lat-samples", required_argument, NULL, OPT_LAT_SAMPLES },
	{ "monitor", required_argument, NULL, OPT_MONITOR },
	{ "incoming", required_argument, NULL, OPT_INCOMING },
	{ "ram-fill", required_argument, NULL, OPT_RAM_FILL },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(const char *fmt, const char *arg)
{
	fputs("vfmed-guest: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n(run 'vfmed-guest --help' for the options)\n", stderr);
	return 2;
}

/* Unsigned integer with optional k/M/G suffix (binary) when sized. */
static int parse_u64(const char *s, uint64_t max, int sized, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	if (sized && *end) {
		switch (*end) {
		case 'k': case 'K': mul = 1ull << 10; break;
		case 'm': case 'M': mul = 1ull << 20; break;
		case 'g': case 'G': mul = 1ull << 30; break;
		default: return -1;
		}
		end++;
		if (*end == 'i' && end[1] == 'B')
			end += 2;
		else if (*end == 'B')
			end++;
	}
	if (*end || v > max / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6 || strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

/* tcp:HOST:PORT with a numeric port; HOST may be empty (any) or [V6]. */
static int valid_incoming(const char *s)
{
	const char *colon, *p;

	if (strncmp(s, "tcp:", 4))
		return 0;
	s += 4;
	if (*s == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':' || end - s > 64)
			return 0;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon || colon - s > 64)
			return 0;
	}
	if (!colon[1] || strlen(colon + 1) > 5)
		return 0;
	for (p = colon + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return atoi(colon + 1) <= 65535;
}

static void on_stop(int sig)
{
	(void)sig;
	vfmed_stop_requested = 1;
}

static void on_migrate(int sig)
{
	(void)sig;
	vfmed_migrate_requested = 1;
}

#define NUM(field, max, sized, name)                                              \
	do {                                                                      \
		uint64_t v_;                                                      \
		if (parse_u64(optarg, (max), (sized), &v_))                       \
			return usage_error("invalid value '%s' for " name, optarg); \
		field = v_;                                                       \
	} while (0)

static int parse_args(int argc, char **argv, struct vfmed_opts *o)
{
	uint64_t ms;
	int c;

	memset(o, 0, sizeof(*o));
	o->ram_size = 16ull << 20;
	o->tx_ring = o->rx_ring = VFMED_RING_DEFAULT;
	o->layout_irq = VFMED_IRQ_INDEX_BAR_LAYOUT;
	o->device_reset = 1;
	o->size = VFMED_FRAME_MIN;
	o->streams = 1;
	o->pcap_stamp = 1;
	o->burst = 32;
	o->stats_ms = 1000;
	o->connect_ms = 5000;
	o->reply_ms = 10000;
	o->mbx_ms = 1000;
	o->link_wait_ms = 3000;
	o->drain_ms = 2000;
	o->lat_op = VFMED_LAT_WRITE;
	o->lat_warmup = 1000;
	o->queues = 1;
	o->rx_sets = 1;
	o->rx_buf_kib = 2;
	o->precopy_ms = 50;

	if (argc < 2)
		return usage_error("%s", "missing workload (txgen, rxsink, fwd, echo, loopback, mmio-lat)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return -1;
	}
	if (vfmed_workload_parse(argv[1], &o->workload))
		return usage_error("unknown workload '%s' (txgen, rxsink, fwd, echo, loopback, mmio-lat)", argv[1]);

	optind = 2;
	while ((c = getopt_long(argc, argv, "s:n:d:r:", long_opts, NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case OPT_UIO: o->uio = optarg; break;
		case OPT_TRAP_ALL: o->trap_all = 1; break;
		case OPT_LAYOUT_IRQ:
			if (!strcmp(optarg, "-1"))
				o->layout_irq = -1;
			else
				NUM(o->layout_irq, 1023, 0, "--layout-irq");
			break;
		case OPT_NO_RESET: o->device_reset = 0; break;
		case OPT_RAM: NUM(o->ram_size, 1ull << 40, 1, "--ram"); break;
		case OPT_RAM_FILE: o->ram_file = optarg; break;
		case OPT_RAM_OFFSET: NUM(o->ram_offset, 1ull << 50, 1, "--ram-offset"); break;
		case OPT_RAM_BASE: NUM(o->ram_base, 1ull << 52, 1, "--ram-base"); break;
		case OPT_RING: NUM(o->tx_ring, VFMED_RING_MAX, 0, "--ring"); o->rx_ring = o->tx_ring; break;
		case OPT_MAC:
			if (parse_mac(optarg, o->mac) || (o->mac[0] & 1))
				return usage_error("invalid unicast MAC '%s' for --mac", optarg);
			o->mac_set = 1;
			break;
		case OPT_DST:
			if (parse_mac(optarg, o->dst))
				return usage_error("invalid MAC '%s' for --dst", optarg);
			o->dst_set = 1;
			break;
		case OPT_IP:
			if (inet_pton(AF_INET, optarg, &o->ip) != 1)
				return usage_error("invalid IPv4 address '%s' for --ip", optarg);
			o->ip_set = 1;
			break;
		case 'n': NUM(o->count, UINT64_MAX, 0, "--count"); break;
		case 'd': {
			char *end;
			double d;
			errno = 0;
			d = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(d > 0) || d > 1e7)
				return usage_error("invalid duration '%s' (seconds > 0)", optarg);
			o->duration_ms = (uint64_t)(d * 1000 + 0.5);
			if (!o->duration_ms)
				o->duration_ms = 1;
			break;
		}
		case 'r': NUM(o->rate_pps, 1000000000ull, 0, "--rate"); break;
		case OPT_SIZE: NUM(o->size, VFMED_FRAME_MAX, 0, "--size"); break;
		case OPT_STREAMS: NUM(o->streams, VFMED_MAX_STREAMS, 0, "--streams"); break;
		case OPT_PCAP: o->pcap = optarg; break;
		case OPT_NO_STAMP: o->pcap_stamp = 0; break;
		case OPT_SEQ0: o->seq_from_zero = 1; break;
		case OPT_FWD_L2: o->fwd_l2 = 1; break;
		case OPT_BURST: NUM(o->burst, 1024, 0, "--burst"); break;
		case OPT_STATS: NUM(o->stats_ms, 3600000, 0, "--stats-interval"); break;
		case OPT_BUSY: o->busy_poll = 1; break;
		case OPT_STRICT: o->strict = 1; break;
		case OPT_CONNECT_TO: NUM(ms, 3600000, 0, "--connect-timeout"); o->connect_ms = (int)ms; break;
		case OPT_REPLY_TO: NUM(ms, 3600000, 0, "--reply-timeout"); o->reply_ms = (int)ms; break;
		case OPT_MBX_TO: NUM(ms, 600000, 0, "--mbx-timeout"); o->mbx_ms = (int)ms; break;
		case OPT_LINK_WAIT: NUM(ms, 600000, 0, "--link-wait"); o->link_wait_ms = (int)ms; break;
		case OPT_DRAIN_TO: NUM(ms, 3600000, 0, "--drain-timeout"); o->drain_ms = (int)ms; break;
		case OPT_HELP: fputs(usage_text, stdout); return -1;
		case OPT_LAT_OP:
			if (!strcmp(optarg, "write"))
				o->lat_op = VFMED_LAT_WRITE;
			else if (!strcmp(optarg, "read"))
				o->lat_op = VFMED_LAT_READ;
			else if (!strcmp(optarg, "doorbell"))
				o->lat_op = VFMED_LAT_DOORBELL;
			else
				return usage_error("invalid value '%s' for --lat-op (write, read, doorbell)", optarg);
			break;
		case OPT_LAT_WARMUP: NUM(o->lat_warmup, 100000000, 0, "--lat-warmup"); break;
		case OPT_QUEUES: NUM(o->queues, VFMED_MAX_QUEUES, 0, "--queues"); break;
		case OPT_RX_REPOST: o->rx_sets = 2; break;
		case OPT_POSTED: o->posted_writes = 1; break;
		case OPT_RX_BUF_KIB: NUM(o->rx_buf_kib, 2, 0, "--rx-buf-kib"); break;
		case OPT_TX_SPLIT: o->tx_split = 1; break;
		case OPT_REINIT_AFTER: NUM(o->reinit_after, UINT64_MAX, 0, "--reinit-after"); break;
		case OPT_MIGRATE_TO: o->migrate_to = optarg; break;
		case OPT_MIGRATION_V1: o->migration_v1 = 1; break;
		case OPT_PRECOPY_MS: NUM(o->precopy_ms, 600000, 0, "--precopy-ms"); break;
		case OPT_PRECOPY_RX_HOLD: o->precopy_rx_hold = 1; break;
		case OPT_SAVE_TO: o->save_to = optarg; break;
		case OPT_RESUME: o->resume = 1; break;
		case OPT_LOAD_FROM: o->load_from = optarg; break;
		case OPT_LAT_SAMPLES: NUM(o->lat_samples, 100000, 0, "--lat-samples"); break;
		case OPT_MONITOR: o->monitor = optarg; break;
		case OPT_INCOMING:
			if (!valid_incoming(optarg))
				return usage_error("invalid --incoming '%s' (tcp:ADDR:PORT, tcp:[V6]:PORT, tcp::PORT)", optarg);
			o->incoming = optarg;
			break;
		case OPT_RAM_FILL:
			if (!strcmp(optarg, "zero"))
				o->ram_fill_random = 0;
			else if (!strcmp(optarg, "random"))
				o->ram_fill_random = 1;
			else
				return usage_error("invalid value '%s' for --ram-fill (zero, random)", optarg);
			break;
		default: return usage_error("%s", "invalid option");
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (o->workload == VFMED_WL_MMIO_LAT && !o->count)
		o->count = 10000;

	if (!o->socket == !o->uio)
		return usage_error("%s", "exactly one of --socket PATH and --uio PATH is required");
	if (o->uio && o->trap_all)
		return usage_error("%s", "--trap-all needs --socket: a UIO mapping cannot trap");
	if (o->ram_size & 4095)
		return usage_error("%s", "--ram must be a multiple of 4 KiB");
	if (o->ram_offset & 4095)
		return usage_error("%s", "--ram-offset must be a multiple of 4 KiB");
	if (o->ram_base & 4095)
		return usage_error("%s", "--ram-base must be a multiple of 4 KiB");
	if (o->ram_offset && !o->ram_file)
		return usage_error("%s", "--ram-offset needs --ram-file");
	if (o->tx_ring < VFMED_RING_MIN || o->tx_ring % 8)
		return usage_error("%s", "--ring must be a multiple of 8 in 8..4096");
	if (o->size < VFMED_FRAME_MIN)
		return usage_error("%s", "--size must be in 60..1514 (bytes without FCS)");
	if (!o->streams)
		return usage_error("%s", "--streams must be in 1..16");
	if (!o->burst)
		return usage_error("%s", "--burst must be in 1..1024");
	if (!o->queues)
		return usage_error("%s", "--queues must be 1 or 2");
	if (!o->rx_buf_kib)
		return usage_error("%s", "--rx-buf-kib must be 1 or 2");
	if ((o->migrate_to || o->save_to || o->resume) && !o->socket)
		return usage_error("%s", "migration and --resume need --socket");
	if (o->migrate_to && o->save_to)
		return usage_error("%s", "--migrate-to and --save-to exclude each other");
	if (o->resume && !o->ram_file)
		return usage_error("%s", "--resume needs --ram-file: the guest RAM to continue from");
	if (o->load_from && !o->resume)
		return usage_error("%s", "--load-from needs --resume");
	if (o->incoming && !o->socket)
		return usage_error("%s", "--incoming needs --socket (the VF that receives the guest)");
	if (o->incoming && (o->resume || o->migrate_to || o->save_to))
		return usage_error("%s", "--incoming excludes --resume, --migrate-to and --save-to");
	if ((o->monitor || o->incoming) && o->workload == VFMED_WL_MMIO_LAT)
		return usage_error("%s", "live migration does not apply to mmio-lat");
	if (o->workload == VFMED_WL_ECHO && !o->ip_set)
		return usage_error("%s", "echo needs --ip A.B.C.D");
	if (o->pcap && o->workload != VFMED_WL_TXGEN && o->workload != VFMED_WL_LOOPBACK)
		return usage_error("%s", "--pcap applies to txgen and loopback only");
	if (o->workload == VFMED_WL_LOOPBACK && o->pcap && !o->pcap_stamp)
		return usage_error("%s", "loopback verifies the sequence trailer: --no-stamp is not allowed");
	return 0;
}

int main(int argc, char **argv)
{
	struct vfmed_opts o;
	struct vfmed_runner r;
	struct vfmed_pcap pcap = { 0 };
	struct sigaction sa;
	int rc;

	if (argc >= 2 && !strcmp(argv[1], "selftest-decoder"))
		return vfmed_selftest_decoder(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "selftest-units"))
		return vfmed_selftest_units();

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_migrate;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Input files are checked before the device is touched. */
	if (o.pcap) {
		const char *why = NULL;
		rc = vfmed_pcap_load(o.pcap, VFMED_BUF_SIZE, &pcap, &why);
		if (rc) {
			fprintf(stderr, "vfmed-guest: --pcap %s: %s\n", o.pcap, why);
			return 1;
		}
		if (pcap.skipped)
			fprintf(stderr, "vfmed-guest: warning: %zu pcap frames skipped (shorter than 14 "
				"or longer than %u bytes)\n", pcap.skipped, VFMED_BUF_SIZE);
		o.pcap_frames = &pcap;
	}

	if (vfmed_runner_setup(&r, &o)) {
		vfmed_runner_teardown(&r);
		vfmed_pcap_free(&pcap);
		return 1;
	}
	rc = o.workload == VFMED_WL_MMIO_LAT ? vfmed_mmio_latency_run(&r) : vfmed_workload_run(&r);
	vfmed_runner_teardown(&r);
	vfmed_pcap_free(&pcap);
	return rc;
}
