/* SPDX-License-Identifier: MIT */
/*
 * runner.c - VMM-side setup and teardown of vfmed-guest (see runner.h).
 *
 * vfio-user bring-up, in the order a VMM does it:
 *   connect, VERSION, DEVICE_GET_INFO, GET_REGION_INFO(BAR0) -> map the sparse areas,
 *   GET_IRQ_INFO + SET_IRQS(layout eventfd), DEVICE_RESET, DMA_MAP(guest RAM memfd),
 *   config space: check vendor/device, enable memory decoding and bus mastering,
 *   then the guest driver: CTRL.RST, mailbox VF_RESET, [SET_MAC_ADDR], link, rings.
 *
 * UIO-style bring-up (--uio PATH): the whole BAR0 is mapped from PATH as plain memory, so
 * nothing can trap. Pages 0-1 have side effects (read-to-clear mailbox bits, CTRL.RST) that
 * plain memory cannot provide, so in this mode the driver never touches them: no reset,
 * no mailbox, no interrupt registers, no statistics. The VF must already be enabled and
 * given its MAC by its PF driver (admin VF_ENABLE / VF_SET_MAC), the MAC is passed with
 * --mac, and the link is assumed up. Only pages 2-3 are used (ring registers, head/tail),
 * which the device polls just as it does for mapped pages in passthrough. Guest RAM must
 * be a file the device side maps too (--ram-file, --ram-base = its DMA address).
 */
#define _GNU_SOURCE
#include "runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "mmio-trap.h"
#include "monitor.h"
#include "region-info.h"
#include "sigsafe.h"
#include "stats-json.h"
#include "vfio-user-mig.h"

volatile sig_atomic_t vfmed_stop_requested;
volatile sig_atomic_t vfmed_migrate_requested;

uint64_t vfmed_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int err(int rc, const char *what, const char *detail)
{
	fprintf(stderr, "vfmed-guest: %s: %s%s%s\n", what, rc ? strerror(-rc) : "failed",
		detail ? " — " : "", detail ? detail : "");
	return rc ? rc : -EINVAL;
}

static int vfu_err(struct vfmed_runner *r, int rc, const char *what)
{
	return err(rc, what, rc == -EPROTO || r->vfu.broken ? r->vfu.proto_err : NULL);
}

/* ---- MMIO trap backend: REGION_READ/WRITE on BAR0 ----------------------------------- */

static __attribute__((noreturn)) void transport_lost(struct vfmed_runner *r, const char *op,
						     uint64_t off, int rc)
{
	struct sigsafe_buf b = { .len = 0 };

	if (rc == -EDEADLK) {
		/* A BAR access from code that runs while a vfio-user exchange is in flight:
		 * a runner bug, the stream would be corrupted if we went on. */
		sigsafe_str(&b, "vfmed-guest: re-entrant MMIO exit (");
		sigsafe_str(&b, op);
		sigsafe_str(&b, " of BAR0+");
		sigsafe_hex(&b, off);
		sigsafe_str(&b, ") while a vfio-user exchange was in progress\n");
		sigsafe_flush(&b, 2);
		_exit(4);
	}
	sigsafe_str(&b, "vfmed-guest: lost the vfio-user connection during ");
	sigsafe_str(&b, op);
	sigsafe_str(&b, " of BAR0+");
	sigsafe_hex(&b, off);
	sigsafe_str(&b, " (errno ");
	sigsafe_dec(&b, -rc);
	sigsafe_str(&b, r->vfu.proto_err ? ": " : "");
	sigsafe_str(&b, r->vfu.proto_err ? r->vfu.proto_err : "");
	sigsafe_str(&b, "); the guest cannot continue\n");
	sigsafe_flush(&b, 2);
	_exit(4);
}

static int bar0_read(void *ctx, uint64_t off, unsigned size, uint64_t *val)
{
	struct vfmed_runner *r = ctx;
	int rc = vfmed_vfu_region_read(&r->vfu, VFU_PCI_BAR0_REGION_INDEX, off, size, val);
	if (rc && (r->vfu.broken || rc == -EDEADLK))
		transport_lost(r, "REGION_READ", off, rc);
	return rc;
}

/* Latency of one trapped store, from the handler's view (the round trip to the device);
 * clock_gettime is async-signal-safe. */
static void record_latency(struct vfmed_runner *r, uint64_t ns)
{
	unsigned b = 0;

	while (b < 63 && (ns >> (b + 1)))
		b++;
	r->lat_hist[b]++;
	r->lat_count++;
	r->lat_sum += ns;
	if (ns > r->lat_max)
		r->lat_max = ns;
	if (r->lat_ring) {
		r->lat_ring[r->lat_next % r->o->lat_samples] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
		r->lat_next++;
	}
}

static int bar0_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct vfmed_runner *r = ctx;
	uint64_t t0 = vfmed_now_ns();
	/* --posted-writes: stores to the queue pages (doorbells, ring registers) do not wait
	 * for the device, as a CPU's MMIO write does not; pages 0-1 (mailbox, CTRL,
	 * interrupts) always complete before the store returns. */
	int rc = r->o->posted_writes && off >= 0x2000 ?
		vfmed_vfu_region_write_posted(&r->vfu, VFU_PCI_BAR0_REGION_INDEX, off, size, val) :
		vfmed_vfu_region_write(&r->vfu, VFU_PCI_BAR0_REGION_INDEX, off, size, val);
	if (rc && (r->vfu.broken || rc == -EDEADLK))
		transport_lost(r, "REGION_WRITE", off, rc);
	record_latency(r, vfmed_now_ns() - t0);
	return rc;
}

/* ---- BAR0 layout ------------------------------------------------------------------- */

/* Pages a layout lets the client map (what vfmed_bar_apply maps). */
static uint32_t wanted_pages(const struct vfmed_region_layout *l, const struct vfmed_bar *b, int trap_all)
{
	uint32_t want = 0;
	unsigned pages = (unsigned)(b->size / 4096);

	if (trap_all)
		return 0;
	for (unsigned a = 0; a < l->nr_areas; a++)
		for (uint64_t i = l->areas[a].offset / 4096; i < (l->areas[a].offset + l->areas[a].size) / 4096 && i < pages; i++)
			want |= 1u << i;
	return want;
}

/*
 * Re-reads BAR0's layout and applies it. With a trap-BAR info region (a mediating server)
 * this is the acknowledgement handshake: read the generation first, then the layout, apply
 * it, and write the generation back only if no page outside the new layout is still mapped
 * (a page that failed to map stays trapped, which is safe; one that failed to unmap is not).
 */
static int refresh_layout(struct vfmed_runner *r, int initial)
{
	uint8_t buf[4096];
	struct vfmed_region_layout l;
	const char *why;
	uint64_t generation = 0;
	uint32_t len;
	int fd, rc;

	if (r->trap_info >= 0) {
		rc = vfmed_vfu_region_read(&r->vfu, (uint32_t)r->trap_info, VFMED_TRAP_INFO_GENERATION, 4,
					   &generation);
		if (rc)
			return vfu_err(r, rc, "reading the BAR layout generation");
	}
	rc = vfmed_vfu_get_region_info(&r->vfu, VFU_PCI_BAR0_REGION_INDEX, buf, sizeof(buf), &len, &fd);
	if (rc)
		return vfu_err(r, rc, "GET_REGION_INFO(BAR0)");
	rc = vfmed_region_layout_parse(buf, len, VFU_PCI_BAR0_REGION_INDEX, &l, &why);
	if (!rc && l.size != VFMED_VF_BAR0_SIZE) {
		why = "BAR0 is not 16 KiB (not an 82576 VF)";
		rc = -EPROTO;
	}
	if (!rc && (l.flags & (VFU_REGION_F_READ | VFU_REGION_F_WRITE)) !=
		   (VFU_REGION_F_READ | VFU_REGION_F_WRITE)) {
		why = "BAR0 is not readable and writable";
		rc = -EPROTO;
	}
	if (!rc && l.nr_areas && fd < 0) {
		why = "BAR0 has mmap-able areas but the reply carried no file descriptor";
		rc = -EPROTO;
	}
	if (rc) {
		if (fd >= 0)
			close(fd);
		return err(rc, "BAR0 region info", why);
	}
	rc = vfmed_bar_apply(&r->bar, &l, fd, r->o->trap_all);
	if (fd >= 0)
		close(fd);
	if (rc) {
		/* Pages that failed to map stay trapped, which is correct, only slower. */
		if (initial)
			return err(rc, "mapping the BAR0 sparse-mmap areas", NULL);
		fprintf(stderr, "vfmed-guest: warning: remapping BAR0 after a layout change: %s "
			"(affected pages stay trapped)\n", strerror(-rc));
	}
	if (!initial)
		r->layout_changes++;
	if (r->trap_info >= 0) {
		if (r->bar.mapped & ~wanted_pages(&l, &r->bar, r->o->trap_all)) {
			fprintf(stderr, "vfmed-guest: BAR0 layout generation %llu not acknowledged: a withdrawn "
				"page is still mapped\n", (unsigned long long)generation);
		} else {
			rc = vfmed_vfu_region_write(&r->vfu, (uint32_t)r->trap_info, VFMED_TRAP_INFO_APPLIED, 4,
						    generation);
			if (rc)
				return vfu_err(r, rc, "acknowledging the BAR layout");
			r->layout_acks++;
		}
	}
	vfmed_json_layout(r, initial ? "initial" : "changed", l.ignored);
	return 0;
}

int vfmed_runner_layout_sync(struct vfmed_runner *r)
{
	uint64_t v;

	if (r->layout_fd >= 0 && read(r->layout_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	return refresh_layout(r, 0);
}

static int setup_layout_irq(struct vfmed_runner *r)
{
	struct vfu_irq_info ii;
	int rc, fd;

	if (r->layout_fd >= 0)
		close(r->layout_fd);  /* a previous connection's (after a migration) */
	r->layout_fd = -1;
	if (r->o->layout_irq < 0 || (uint32_t)r->o->layout_irq >= r->dev.num_irqs)
		return 0;  /* server without the notification: the layout is fixed */
	rc = vfmed_vfu_get_irq_info(&r->vfu, (uint32_t)r->o->layout_irq, &ii);
	if (rc)
		return vfu_err(r, rc, "GET_IRQ_INFO(BAR layout)");
	if (ii.count < 1 || !(ii.flags & VFU_IRQ_INFO_EVENTFD))
		return 0;
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return err(-errno, "eventfd", NULL);
	rc = vfmed_vfu_set_irq_eventfd(&r->vfu, (uint32_t)r->o->layout_irq, 0, fd);
	if (rc) {
		close(fd);
		return vfu_err(r, rc, "SET_IRQS(BAR layout eventfd)");
	}
	r->layout_fd = fd;
	return 0;
}

/* ---- PCI config space ---------------------------------------------------------------- */

int vfmed_runner_pci_config(struct vfmed_runner *r, struct vfmed_vfu *c)
{
	uint64_t id, cmd;
	int rc;

	rc = vfmed_vfu_region_read(c, VFU_PCI_CONFIG_REGION_INDEX, PCI_CFG_VENDOR_ID, 4, &id);
	if (rc)
		return vfu_err(r, rc, "reading the PCI vendor/device ID");
	r->pci_vendor = (uint16_t)id;
	r->pci_device = (uint16_t)(id >> 16);
	if (r->pci_vendor != VFMED_PCI_VENDOR_INTEL ||
	    (r->pci_device != VFMED_PCI_DEVICE_82576_VF && r->pci_device != 0x1520)) {
		char d[64];
		snprintf(d, sizeof(d), "found %04x:%04x, expected 8086:10ca", r->pci_vendor, r->pci_device);
		return err(-ENODEV, "PCI identity", d);
	}
	rc = vfmed_vfu_region_read(c, VFU_PCI_CONFIG_REGION_INDEX, PCI_CFG_COMMAND, 2, &cmd);
	if (!rc)
		rc = vfmed_vfu_region_write(c, VFU_PCI_CONFIG_REGION_INDEX, PCI_CFG_COMMAND, 2,
					    cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (rc)
		return vfu_err(r, rc, "enabling memory decoding and bus mastering");
	return 0;
}

/* ---- the guest driver ---------------------------------------------------------------- */

static int setup_driver(struct vfmed_runner *r)
{
	const struct vfmed_opts *o = r->o;
	struct vfmed_guest_state *st = r->vf.st;
	int rc;

	if (r->resumed) {
		/* Everything the driver knows is in guest RAM, and the VF has the device state
		 * that belongs to it: no reset, no ring setup. */
		r->link_up = (st->flags & VFMED_GS_F_LINK_UP) != 0;
		return 0;
	}
	if (r->bar.uio) {
		memcpy(st->mac, o->mac, 6);
		st->flags |= VFMED_GS_F_NO_MAILBOX | VFMED_GS_F_LINK_UP;
		r->link_up = 1;
	} else {
		rc = vfmed_igbvf_reset(&r->vf);
		if (rc)
			return err(rc, "VF reset handshake", r->vf.err);
		if (o->mac_set && memcmp(o->mac, st->mac, 6) != 0) {
			rc = vfmed_igbvf_set_mac(&r->vf, o->mac);
			if (rc < 0)
				return err(rc, "SET_MAC_ADDR", r->vf.err);
			r->mac_nacked = rc == 1;
		}
		r->link_up = vfmed_igbvf_wait_link(&r->vf, (unsigned)o->link_wait_ms);
	}
	memcpy(st->dst_mac, o->dst, 6);
	if (!o->dst_set) {
		/* Loopback talks to itself; others default to broadcast. */
		if (o->workload == VFMED_WL_LOOPBACK)
			memcpy(st->dst_mac, st->mac, 6);
		else
			memset(st->dst_mac, 0xFF, 6);
	}
	st->ip = o->ip;
	st->workload = o->workload;
	st->streams = o->streams;
	st->rx_buf_kib = o->rx_buf_kib;
	st->tx_split = (uint32_t)o->tx_split;
	rc = vfmed_igbvf_rings_up(&r->vf);
	if (rc)
		return err(rc, "ring setup", r->vf.err);
	return 0;
}

int vfmed_runner_reinit(struct vfmed_runner *r)
{
	int rc = vfmed_igbvf_reset(&r->vf);

	if (rc)
		return err(rc, "VF re-initialisation: reset handshake", r->vf.err);
	rc = vfmed_igbvf_rings_up(&r->vf);
	if (rc)
		return err(rc, "VF re-initialisation: rings", r->vf.err);
	r->vf.st->reinits++;
	return 0;
}

/* ---- setup / teardown ------------------------------------------------------------------ */

/* --ram-fill random: RAM the layout does not use gets pseudo-random bytes (xorshift64*,
 * fixed seed), so a migration has to move every byte of it. */
static void fill_random(struct vfmed_runner *r, uint64_t from)
{
	uint64_t x = 0x9E3779B97F4A7C15ull;

	for (uint64_t *p = (uint64_t *)(r->ram.host + from); p < (uint64_t *)(r->ram.host + r->ram.size); p++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		*p = x * 0x2545F4914F6CDD1Dull;
	}
}

static int setup_ram(struct vfmed_runner *r)
{
	const struct vfmed_opts *o = r->o;
	const char *why = NULL;
	uint64_t need = vfmed_guest_ram_needed(o->tx_ring, o->rx_ring, o->queues, o->rx_sets);
	int rc;

	if (!o->resume && o->ram_size < need) {
		char d[96];
		snprintf(d, sizeof(d), "--ram %llu KiB is below the %llu KiB the rings and buffers need",
			 (unsigned long long)(o->ram_size >> 10), (unsigned long long)(need >> 10));
		return err(-EINVAL, "guest RAM", d);
	}
	rc = vfmed_guest_ram_open(&r->ram, o->ram_size, o->ram_file, o->ram_offset, o->ram_base);
	if (rc)
		return err(rc, "guest RAM", o->ram_file);
	r->vf.ram = &r->ram;
	r->vf.mbx_timeout_ms = (unsigned)o->mbx_ms;
	if (o->incoming)
		return 0;   /* the guest state arrives with the migration (mig-incoming.c) */
	if (o->resume) {
		r->vf.st = vfmed_guest_state_find(&r->ram, &why);
		if (!r->vf.st)
			return err(-EINVAL, "--resume", why);
		r->resumed = 1;
	} else {
		r->vf.st = vfmed_guest_state_init(&r->ram, o->tx_ring, o->rx_ring, o->queues, o->rx_sets, &why);
		if (!r->vf.st)
			return err(-EINVAL, "guest RAM layout", why);
		if (o->ram_fill_random)
			fill_random(r, need);
	}
	return 0;
}

int vfmed_runner_open(struct vfmed_runner *r, struct vfmed_vfu *c, const char *path,
		      struct vfu_device_info *dev)
{
	const char *why;
	int rc;

	rc = vfmed_vfu_connect(c, path, r->o->connect_ms, r->o->reply_ms);
	if (rc)
		return err(rc, "connecting to the vfio-user server", path);
	rc = vfmed_vfu_negotiate(c, &why);
	if (rc) {
		err(rc, "vfio-user VERSION negotiation", why ? why : c->proto_err);
		vfmed_vfu_close(c);
		return rc;
	}
	rc = vfmed_vfu_get_device_info(c, dev);
	if (!rc && (!(dev->flags & VFU_DEVICE_F_PCI) || dev->num_regions <= VFU_PCI_CONFIG_REGION_INDEX)) {
		err(-ENODEV, "DEVICE_GET_INFO", "not a PCI device with a config space region");
		rc = -ENODEV;
	} else if (rc) {
		err(rc, "DEVICE_GET_INFO", c->proto_err);
	}
	if (rc)
		vfmed_vfu_close(c);
	return rc;
}

static int map_guest_ram(struct vfmed_runner *r)
{
	int rc = vfmed_vfu_dma_map(&r->vfu, r->ram.base, r->ram.size, r->ram.fd, r->ram.file_off,
				   VFU_DMA_F_READ | VFU_DMA_F_WRITE);
	if (rc)
		return vfu_err(r, rc, "DMA_MAP of guest RAM");
	r->dma_mapped = 1;
	vfmed_vfu_add_dma_target(&r->vfu, r->ram.base, r->ram.size, r->ram.host);
	return 0;
}

int vfmed_runner_bind(struct vfmed_runner *r, int map_dma, int reset)
{
	int rc;

	/* A mediating server describes its BAR0 trap state in a device-specific region. */
	r->trap_info = -1;
	if (r->dev.num_regions > VFU_PCI_NUM_REGIONS) {
		rc = vfmed_vfu_find_region(&r->vfu, r->dev.num_regions, VFMED_REGION_TYPE_VENDOR_INTEL,
					   VFMED_REGION_SUBTYPE_TRAP_INFO);
		if (rc >= 0)
			r->trap_info = rc;
		else if (rc != -ENOENT)
			return vfu_err(r, rc, "looking for the trap-BAR info region");
	}
	rc = refresh_layout(r, 1);
	if (rc)
		return rc;
	rc = setup_layout_irq(r);
	if (rc)
		return rc;
	if (reset && (r->dev.flags & VFU_DEVICE_F_RESET)) {
		rc = vfmed_vfu_device_reset(&r->vfu);
		if (rc)
			return vfu_err(r, rc, "DEVICE_RESET");
	}
	if (map_dma) {
		rc = map_guest_ram(r);
		if (rc)
			return rc;
	} else {
		vfmed_vfu_add_dma_target(&r->vfu, r->ram.base, r->ram.size, r->ram.host);
	}
	return vfmed_runner_pci_config(r, &r->vfu);
}

static int setup_vfio_user(struct vfmed_runner *r)
{
	const struct vfmed_opts *o = r->o;
	struct vfmed_trap_backend be = { bar0_read, bar0_write, r };
	int rc;

	rc = vfmed_trap_install();
	if (rc)
		return err(rc, "installing the MMIO trap handler", NULL);
	r->trap_window = vfmed_trap_add_window((uintptr_t)r->bar.base, r->bar.size, "BAR0", &be);
	if (r->trap_window < 0)
		return err(r->trap_window, "registering the BAR0 trap window", NULL);

	rc = vfmed_runner_open(r, &r->vfu, o->socket, &r->dev);
	if (rc)
		return rc;
	r->connected = 1;
	if (o->incoming) {
		/* The VF is ours (reserved) from here; it receives the migrated state. */
		rc = vfmed_migin_run(r);
		if (!rc)
			r->resumed = 1;
		return rc;
	}
	if (o->resume) {
		/* The VF continues a guest: never reset it. Its state either is there already
		 * or comes from --load-from, after guest RAM is mapped (the device resumes DMA
		 * as soon as it runs). */
		rc = map_guest_ram(r);
		if (!rc && o->load_from)
			rc = vfmed_mig_load_file(r);
		if (rc)
			return err(rc, "--resume", o->load_from);
		return vfmed_runner_bind(r, 0, 0);
	}
	return vfmed_runner_bind(r, 1, o->device_reset);
}

int vfmed_runner_setup(struct vfmed_runner *r, const struct vfmed_opts *o)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->o = o;
	r->layout_fd = -1;
	r->trap_window = -1;
	r->trap_info = -1;
	r->ram.fd = -1;
	r->vfu.sock = -1;
	r->vf.mbx_timeout_ms = (unsigned)o->mbx_ms;
	if (o->lat_samples) {
		r->lat_ring = calloc(o->lat_samples, sizeof(*r->lat_ring));
		if (!r->lat_ring)
			return err(-ENOMEM, "--lat-samples", NULL);
	}

	if (o->uio && !o->ram_file)
		return err(-EINVAL, "--uio", "the device must reach guest RAM: pass --ram-file "
			   "(a file the device side maps) and --ram-base (its DMA address)");
	if (o->uio && !o->mac_set)
		return err(-EINVAL, "--uio", "there is no mailbox in UIO mode: pass the VF's MAC "
			   "with --mac (assigned by the PF driver)");
	rc = setup_ram(r);
	if (rc)
		return rc;
	if (o->monitor) {
		rc = vfmed_live_monitor_open(r, o->monitor);
		if (rc)
			return err(rc, "--monitor", o->monitor);
	}
	rc = vfmed_bar_reserve(&r->bar, VFMED_VF_BAR0_SIZE);
	if (rc)
		return err(rc, "reserving the BAR0 address range", NULL);
	r->vf.bar = r->bar.base;

	if (o->uio) {
		rc = vfmed_bar_map_file(&r->bar, o->uio);
		if (rc)
			return err(rc, "mapping the BAR0 file", o->uio);
	} else {
		rc = setup_vfio_user(r);
		if (rc)
			return rc;
	}
	rc = setup_driver(r);
	if (rc)
		return rc;
	r->start_ns = r->last_stats_ns = vfmed_now_ns();
	r->pace_base = r->vf.st->tx_generated;
	vfmed_json_init(r);
	if (o->incoming)
		vfmed_migin_announce(r);   /* the bridges learn where the guest's MAC went */
	return 0;
}

/* Frames the guest handled so far (the --reinit-after trigger). */
static uint64_t handled(const struct vfmed_guest_state *st)
{
	return st->tx_packets + st->rx_packets + st->rx_frag_drops;
}

/* A point where the guest can stop for stop-copy: with --tx-split, right after a doorbell
 * that left the second half of a frame unposted (so the device holds a partial frame). */
static int stop_point(const struct vfmed_runner *r, uint64_t now_ns)
{
	const struct vfmed_guest_state *st = r->vf.st;

	if (!r->o->tx_split)
		return 1;
	for (unsigned q = 0; q < st->queues; q++)
		if (st->q[q].tx_half)
			return 1;
	/* No split frame in flight (e.g. nothing being sent): do not wait forever. */
	return now_ns - r->mig.precopy_deadline_ns > 500000000ull;
}

enum vfmed_stop vfmed_runner_service(struct vfmed_runner *r, uint64_t now_ns)
{
	const struct vfmed_opts *o = r->o;

	/* The layout eventfd is polled about every millisecond: one read(2) per ms is cheap,
	 * while a read per driver iteration would cost as much as the datapath. */
	if (r->layout_fd >= 0 && now_ns - r->last_layout_poll_ns >= 1000000) {
		uint64_t v;
		r->last_layout_poll_ns = now_ns;
		if (read(r->layout_fd, &v, sizeof(v)) == sizeof(v)) {
			if (refresh_layout(r, 0))
				return VFMED_STOP_ERROR;
		}
	}
	if (o->reinit_after && !r->vf.st->reinits && handled(r->vf.st) >= o->reinit_after) {
		if (vfmed_runner_reinit(r))
			return VFMED_STOP_ERROR;
	}
	if (r->live.mon && now_ns - r->last_monitor_poll_ns >= 1000000) {
		r->last_monitor_poll_ns = now_ns;
		vfmed_monitor_service(r->live.mon);
	}
	if (r->live.out) {
		int st = vfmed_migout_service(r, now_ns);
		if (st != VFMED_RUN_ON) {
			if (st == VFMED_STOP_MIGRATED)
				r->migrated_out = 1;  /* the VF state and the guest left */
			return (enum vfmed_stop)st;
		}
	}
	if (vfmed_migrate_requested && r->mig.phase == VFMED_MIG_IDLE && !r->live.out) {
		vfmed_migrate_requested = 0;
		if (o->save_to) {
			if (vfmed_mig_save_file(r))
				return VFMED_STOP_ERROR;
			r->migrated_out = 1;
			return VFMED_STOP_SAVED;
		}
		if (o->migrate_to && vfmed_mig_begin(r) < 0)
			return VFMED_STOP_ERROR;
	}
	if (r->mig.phase == VFMED_MIG_PRECOPY && now_ns >= r->mig.precopy_deadline_ns && stop_point(r, now_ns)) {
		if (vfmed_mig_complete(r) < 0)
			return VFMED_STOP_ERROR;
	}
	if (o->stats_ms && now_ns - r->last_stats_ns >= (uint64_t)o->stats_ms * 1000000) {
		vfmed_json_stats(r, now_ns);
		r->last_stats_ns = now_ns;
	}
	if (vfmed_stop_requested)
		return VFMED_STOP_SIGNAL;
	if (o->duration_ms && now_ns - r->start_ns >= o->duration_ms * 1000000)
		return VFMED_STOP_DURATION;
	return VFMED_RUN_ON;
}

void vfmed_runner_teardown(struct vfmed_runner *r)
{
	int keep;

	if (r->live.out)
		vfmed_migout_abort(r, "the runner is stopping");
	vfmed_live_close(r);
	keep = r->migrated_out;  /* the VF belongs to whoever loads the saved state */

	if (!keep && r->vf.st && (r->vf.st->flags & VFMED_GS_F_RINGS_UP) && !r->vfu.broken)
		vfmed_igbvf_rings_down(&r->vf);
	if (r->connected && !r->vfu.broken && !keep) {
		if (r->layout_fd >= 0)
			vfmed_vfu_set_irq_eventfd(&r->vfu, (uint32_t)r->o->layout_irq, 0, -1);
		if (r->dma_mapped)
			vfmed_vfu_dma_unmap(&r->vfu, r->ram.base, r->ram.size);
	}
	vfmed_mig_cleanup(r);
	if (r->connected)
		vfmed_vfu_close(&r->vfu);
	if (r->layout_fd >= 0)
		close(r->layout_fd);
	if (r->trap_window >= 0)
		vfmed_trap_remove_window(r->trap_window);
	vfmed_bar_release(&r->bar);
	vfmed_guest_ram_close(&r->ram);
	free(r->lat_ring);
	r->lat_ring = NULL;
	r->layout_fd = -1;
	r->trap_window = -1;
	r->connected = 0;
}
