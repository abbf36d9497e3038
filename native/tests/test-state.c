/* SPDX-License-Identifier: MIT */
/* test-state.c - VF_SAVE/VF_LOAD: migrating a VF mid-traffic to a second NIC instance with
 * every frame delivered exactly once (ring, FIFO, latched doorbell, partial TX frame,
 * context descriptors, pending mailbox request, interrupt and filter state), and rejection
 * of corrupted, truncated and incompatible blobs with the target VF untouched. */
#include <stdlib.h>

#include "harness.h"
#include "tnic.h"

#define RXR   (GIOVA)
#define TXR   (GIOVA + 0x1000)
#define TXB   (GIOVA + 0x8000)
#define RXB   (GIOVA + 0x10000)
#define NRX   8u
#define BLOB  0x20000u       /* PF buffer offset of blobs */
#define DCMD  (E1000_ADVTXD_DTYP_DATA | E1000_ADVTXD_DCMD_DEXT | E1000_ADVTXD_DCMD_IFCS)

static const uint8_t peer[6] = { 0x02, 0x55, 0x44, 0x33, 0x22, 0x11 };

/* Independent CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320). */
static uint32_t crc32_ref(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
	}
	return ~c;
}

static void fix_crc(uint8_t *b)
{
	struct vfpf_state_hdr *h = (void *)b;

	h->crc32 = 0;
	h->crc32 = crc32_ref(b, h->total_len);
}

/* Section payload of the given type inside a blob (first match), or NULL. */
static uint8_t *find_sec(uint8_t *b, uint16_t type, uint32_t *len)
{
	struct vfpf_state_hdr *h = (void *)b;
	uint32_t off = sizeof(*h), i;

	for (i = 0; i < h->section_count; i++) {
		struct vfpf_state_sec *s = (void *)(b + off);

		if (s->type == type) {
			*len = s->len;
			return b + off + sizeof(*s);
		}
		off += sizeof(*s) + ((s->len + 7) & ~7u);
	}
	return NULL;
}

struct rxc { uint32_t c; uint32_t seqs[256]; uint32_t n; };

/* Guest RX: take every completed descriptor, re-arm it, give it back (RDT = c - 1). */
static void consume(struct tnic *t, struct tnic *mem, uint32_t vf, struct rxc *r, bool pt)
{
	uint32_t before = r->n;

	while (rx_desc(mem, vf, RXR, r->c).status & E1000_RXD_STAT_DD) {
		REQUIRE(rx_desc(mem, vf, RXR, r->c).status & E1000_RXD_STAT_EOP);
		r->seqs[r->n++] = frame_seq(gptr(mem, vf, RXB + r->c * 2048));
		rxq_arm(mem, vf, RXR, r->c, RXB + r->c * 2048);
		r->c = (r->c + 1) % NRX;
	}
	if (r->n == before)
		return;
	if (pt)
		pt_wr(t, vf, E1000_RDT(0), (r->c + NRX - 1) % NRX);
	else
		wr(t, vf, E1000_RDT(0), (r->c + NRX - 1) % NRX);
}

static int inject(struct tnic *t, uint32_t vf, uint32_t seq)
{
	uint8_t f[300], mac[6];

	vf_mac(t, vf, mac);
	mk_frame(f, mac, peer, seq, 300);
	return vfmed_uplink_inject(t->nic, f, 300);
}

static int save(struct tnic *t, uint32_t vf, uint32_t *len)
{
	return admin(t, VFPF_AQC_VF_SAVE, (uint16_t)vf, 0, 0, pf_buf_iova(BLOB), 0x40000, len);
}

static int load(struct tnic *t, uint32_t vf, const uint8_t *blob, uint32_t len)
{
	memcpy(pf_buf(t, BLOB), blob, len);
	return admin(t, VFPF_AQC_VF_LOAD, (uint16_t)vf, 0, 0, pf_buf_iova(BLOB), len, NULL);
}

TEST(state_migrate_mid_traffic_exactly_once)
{
	struct tnic a, b;
	struct rxc r = { 0 };
	uint8_t *blob, out[16384], mac[6], frag[3][400], *ctxp;
	uint32_t len, seq = 0, i, ret;
	struct vfmed_vf_info info;
	struct vfpf_vf_stats *st;

	tnic_open(&a, &(struct tnic_opts){ .max_vfs = 2 });
	tnic_open(&b, &(struct tnic_opts){ .max_vfs = 2 });
	vf_mac(&a, 0, mac);
	/* Filters the PF set on the source; they must travel. */
	REQUIRE_EQ(admin(&a, VFPF_AQC_VF_SET_MAC, 0, 0x33221102, 0x5544, 0, 0, NULL), 0);
	REQUIRE_EQ(admin(&a, VFPF_AQC_VF_SET_VLAN, 0, 77, 1, 0, 0, NULL), 0);
	REQUIRE_EQ(admin(&a, VFPF_AQC_VF_SET_LPE, 0, 2000, 0, 0, 0, NULL), 0);
	vf_mac(&a, 0, mac);
	rxq_setup(&a, 0, 0, RXR, NRX, RXB, 2, true);
	txq_setup(&a, 0, 0, TXR, 8, true);
	wr(&a, 0, E1000_VF_IVAR0, 0x8081);
	wr(&a, 0, E1000_VF_EIMS, 0x3);
	wr(&a, 0, E1000_VF_EITR(1), 0x400);

	/* Traffic: 7 frames fill the ring, 5 wait in the FIFO; the guest takes the 7, the
	 * device then moves the 5 into the ring. */
	for (; seq < 12; seq++)
		REQUIRE_EQ(inject(&a, 0, seq), 0);
	consume(&a, &a, 0, &r, true);
	vfmed_nic_poll(a.nic);
	CHECK_EQ(r.n, 7);
	/* TX: context descriptor + 2 of 3 fragments gathered, EOP not posted yet. */
	for (i = 0; i < 3; i++) {
		mk_frame(frag[i], peer, mac, 100 + i, 400);
		memcpy(gptr(&a, 0, TXB + i * 0x1000), frag[i], 400);
	}
	ctxp = gptr(&a, 0, TXR);
	memset(ctxp, 0, 16);
	((uint32_t *)ctxp)[0] = 0x0ABCu << 16;
	((uint32_t *)ctxp)[2] = E1000_ADVTXD_DTYP_CTXT | E1000_ADVTXD_DCMD_DEXT;
	tx_desc(&a, 0, TXR, 1, TXB, 400, DCMD | E1000_ADVTXD_DCMD_VLE, 1200u << 14);
	tx_desc(&a, 0, TXR, 2, TXB + 0x1000, 400, DCMD, 1200u << 14);
	pt_wr(&a, 0, E1000_TDT(0), 3);
	vfmed_nic_poll(a.nic);
	CHECK_EQ(rd(&a, 0, E1000_TDH(0)), 3);
	CHECK_EQ(vfmed_uplink_take(a.nic, out, sizeof(out)), -EAGAIN);
	/* Mailbox: the VF posted SET_LPE; the source PF never answers. */
	rd(&a, 0, E1000_V2PMAILBOX);
	wr(&a, 0, E1000_V2PMAILBOX, E1000_V2PMAILBOX_VFU);
	wr(&a, 0, E1000_VMBMEM(0), E1000_VF_SET_LPE);
	wr(&a, 0, E1000_VMBMEM(1), 2000);
	wr(&a, 0, E1000_V2PMAILBOX, E1000_V2PMAILBOX_REQ);

	/* Stop: quiesce. Frames keep arriving into the FIFO; the guest's RDT doorbell is
	 * latched, not acted on. */
	REQUIRE_EQ(admin(&a, VFPF_AQC_VF_QUIESCE, 0, 0, 0, 0, 0, NULL), 0);
	for (; seq < 14; seq++)
		REQUIRE_EQ(inject(&a, 0, seq), 0);
	consume(&a, &a, 0, &r, true);
	CHECK_EQ(r.n, 12);
	vfmed_nic_poll(a.nic);
	CHECK_EQ(rd(&a, 0, E1000_RDH(0)), 12 % NRX);   /* unchanged while quiesced */
	REQUIRE_EQ(vfmed_vf_get_info(a.nic, 0, &info), 0);
	CHECK_EQ(info.fifo_frames, 2);   /* 12, 13 */
	CHECK(info.quiesced);
	REQUIRE_EQ(save(&a, 0, &len), 0);
	blob = malloc(len);
	memcpy(blob, pf_buf(&a, BLOB), len);
	{
		/* The CRC is the standard IEEE one over the blob with the field zeroed. */
		uint8_t *c = malloc(len);

		memcpy(c, blob, len);
		fix_crc(c);
		CHECK(!memcmp(c, blob, len));
		CHECK_EQ(((struct vfpf_state_hdr *)blob)->total_len, len);
		CHECK_EQ(crc32_ref((const uint8_t *)"123456789", 9), 0xCBF43926);
		free(c);
	}
	/* After SAVE the source is sealed: a frame now would be lost, so it is refused. */
	CHECK_EQ(inject(&a, 0, 99), -ENOSPC);

	/* Destination: the same guest RAM (as after pre-copy), fresh VF, load, resume. */
	REQUIRE_EQ(vfmed_vf_dma_unmap(b.nic, 0, GIOVA, GMEMSZ), 0);
	REQUIRE_EQ(vfmed_vf_dma_map(b.nic, 0, GIOVA, GMEMSZ, a.gfd[0], 0, 3), 0);
	REQUIRE_EQ(load(&b, 0, blob, len), 0);
	REQUIRE_EQ(vfmed_vf_get_info(b.nic, 0, &info), 0);
	CHECK(info.quiesced);
	CHECK_EQ(info.fifo_frames, 2);
	CHECK(!memcmp(info.mac, "\x02\x11\x22\x33\x44\x55", 6));
	/* The unanswered mailbox request is posted to the destination PF. */
	CHECK_EQ(VFPF_V2P_REQ_COUNT(b.pf[VFPF_V2P_SEQ(0) / 4]), 1);
	CHECK_EQ(b.pf[VFPF_V2P_MSG(0, 0) / 4], E1000_VF_SET_LPE);
	CHECK_EQ(b.pf[VFPF_V2P_MSG(0, 1) / 4], 2000);
	REQUIRE_EQ(admin(&b, VFPF_AQC_VF_RESUME, 0, 0, 0, 0, 0, NULL), 0);
	/* The latched doorbell (RDT written while quiesced) is acted on: 12, 13 land. */
	consume(&b, &a, 0, &r, true);
	vfmed_nic_poll(b.nic);
	consume(&b, &a, 0, &r, true);
	vfmed_nic_poll(b.nic);
	CHECK_EQ(r.n, 14);
	/* Traffic continues on the destination. */
	for (seq = 14; seq < 30; seq++) {
		REQUIRE_EQ(inject(&b, 0, seq), 0);
		consume(&b, &a, 0, &r, true);
		vfmed_nic_poll(b.nic);
	}
	consume(&b, &a, 0, &r, true);
	CHECK_EQ(r.n, 30);
	for (i = 0; i < r.n; i++)
		CHECK_EQ(r.seqs[i], i);   /* exactly once, in order */
	/* The TX frame completes on the destination with the migrated fragments and
	 * context (VLAN 0x0ABC inserted). */
	tx_desc(&a, 0, TXR, 3, TXB + 0x2000, 400,
	        DCMD | E1000_ADVTXD_DCMD_EOP | E1000_ADVTXD_DCMD_RS, 1200u << 14);
	pt_wr(&b, 0, E1000_TDT(0), 4);
	vfmed_nic_poll(b.nic);
	REQUIRE_EQ(vfmed_uplink_take(b.nic, out, sizeof(out)), 1204);
	CHECK(!memcmp(out, frag[0], 12));
	CHECK_EQ(out[14] << 8 | out[15], 0x0ABC);
	CHECK(!memcmp(out + 16, frag[0] + 12, 388));
	CHECK(!memcmp(out + 404, frag[1], 400));
	CHECK(!memcmp(out + 804, frag[2], 400));
	CHECK_EQ(vfmed_uplink_take(a.nic, out, sizeof(out)), -EAGAIN);
	/* Register file, interrupt state and statistics travelled. */
	CHECK_EQ(rd(&b, 0, E1000_VF_IVAR0), 0x8081);
	CHECK_EQ(rd(&b, 0, E1000_VF_EIMS), 0x3);
	CHECK_EQ(rd(&b, 0, E1000_VF_EITR(1)), 0x400);
	CHECK_EQ(rd(&b, 0, E1000_VFGPRC), 30);
	st = (void *)pf_buf(&b, 0);
	REQUIRE_EQ(admin(&b, VFPF_AQC_VF_STATS, 0, 0, 0, pf_buf_iova(0), sizeof(*st), &ret), 0);
	CHECK_EQ(st->rx_packets, 30);
	CHECK_EQ(st->tx_packets, 1);
	CHECK_EQ(st->rx_fifo_drops, 0);
	/* The source, resumed after a failed migration, would continue where it stopped. */
	REQUIRE_EQ(admin(&a, VFPF_AQC_VF_RESUME, 0, 0, 0, 0, 0, NULL), 0);
	CHECK_EQ(inject(&a, 0, 99), 0);
	free(blob);
	tnic_close(&a);
	tnic_close(&b);
}

/* Append a section {type, version=1, len} with a zero payload, fixing header and CRC. */
static uint32_t append_sec(uint8_t *b, uint16_t type, uint32_t plen)
{
	struct vfpf_state_hdr *h = (void *)b;
	struct vfpf_state_sec *s = (void *)(b + h->total_len);

	s->type = type;
	s->version = 1;
	s->len = plen;
	memset(s + 1, 0, (plen + 7) & ~7u);
	h->total_len += sizeof(*s) + ((plen + 7) & ~7u);
	h->section_count++;
	fix_crc(b);
	return h->total_len;
}

struct bad_ctx {
	struct tnic *t;
	const uint8_t *good;
	uint32_t len;
	const uint8_t *snap;
	uint32_t snap_len;
	uint8_t *work;
};

/* Load work[0..len) into VF 1, expect err, and prove VF 1 is byte-for-byte unchanged. */
static void expect_reject(struct bad_ctx *c, uint32_t len, int err, int line)
{
	uint32_t n;
	int rc = load(c->t, 1, c->work, len);

	if (rc != err)
		test_fail(__FILE__, line, "load: status %d, expected %d", rc, err);
	REQUIRE_EQ(save(c->t, 1, &n), 0);
	if (n != c->snap_len || memcmp(pf_buf(c->t, BLOB), c->snap, n))
		test_fail(__FILE__, line, "VF 1 changed by a failed load");
}
#define REJECT(c, len, err) expect_reject(c, len, err, __LINE__)

static uint8_t *fresh(struct bad_ctx *c)
{
	memcpy(c->work, c->good, c->len);
	return c->work;
}

TEST(state_bad_blobs_rejected_vf_untouched)
{
	struct tnic t;
	struct bad_ctx c = { .t = &t };
	struct rxc r = { 0 };
	uint8_t *p, *snap;
	uint32_t len, n, i, seq;
	struct sec_q { uint8_t is_tx, idx, enabled, stalled; uint32_t len; uint64_t base;
	               uint32_t count, srrctl, head, head_written, last_tail, err; } *q;

	tnic_open(&t, &(struct tnic_opts){ .max_vfs = 2 });
	/* Source VF 0: ring + FIFO contents. */
	rxq_setup(&t, 0, 0, RXR, NRX, RXB, 2, false);
	for (seq = 0; seq < 12; seq++)
		REQUIRE_EQ(inject(&t, 0, seq), 0);
	REQUIRE_EQ(admin(&t, VFPF_AQC_VF_QUIESCE, 0, 0, 0, 0, 0, NULL), 0);
	REQUIRE_EQ(save(&t, 0, &len), 0);
	c.good = memcpy(malloc(len), pf_buf(&t, BLOB), len);
	c.len = len;
	c.work = malloc(len + 256);
	/* Target VF 1 with a state of its own. */
	rxq_setup(&t, 1, 0, RXR, NRX, RXB, 2, false);
	for (seq = 100; seq < 110; seq++)
		REQUIRE_EQ(inject(&t, 1, seq), 0);
	consume(&t, &t, 1, &r, false);
	wr(&t, 1, E1000_VF_EIMS, 5);
	REQUIRE_EQ(admin(&t, VFPF_AQC_VF_QUIESCE, 1, 0, 0, 0, 0, NULL), 0);
	REQUIRE_EQ(save(&t, 1, &n), 0);
	snap = memcpy(malloc(n), pf_buf(&t, BLOB), n);
	c.snap = snap;
	c.snap_len = n;

	/* Truncated. */
	fresh(&c);
	REJECT(&c, len - 1, EBADMSG);
	REJECT(&c, len - 8, EBADMSG);
	REJECT(&c, sizeof(struct vfpf_state_hdr), EBADMSG);
	REJECT(&c, 7, EBADMSG);
	REJECT(&c, 0, EBADMSG);
	/* Single bit flips anywhere (header, section headers, payload, CRC). */
	for (i = 0; i < len; i += 29) {
		fresh(&c)[i] ^= (uint8_t)(1u << (i % 8));
		REJECT(&c, len, EBADMSG);
	}
	/* total_len inconsistent with the sections (CRC fixed). */
	p = fresh(&c);
	memset(p + len, 0, 8);
	((struct vfpf_state_hdr *)p)->total_len += 8;
	fix_crc(p);
	REJECT(&c, len + 8, EBADMSG);
	p = fresh(&c);
	((struct vfpf_state_hdr *)p)->section_count++;
	fix_crc(p);
	REJECT(&c, len, EBADMSG);
	/* Incompatible: major version, model, unknown mandatory section, newer section. */
	p = fresh(&c);
	((struct vfpf_state_hdr *)p)->major++;
	fix_crc(p);
	REJECT(&c, len, EPROTO);
	p = fresh(&c);
	((struct vfpf_state_hdr *)p)->model_id ^= 1;
	fix_crc(p);
	REJECT(&c, len, EPROTO);
	REJECT(&c, append_sec(fresh(&c), 0x0042, 12), EPROTO);
	p = fresh(&c);
	((struct vfpf_state_sec *)(p + sizeof(struct vfpf_state_hdr)))->version = 2;
	fix_crc(p);
	REJECT(&c, len, EPROTO);
	/* Valid CRC, invalid content. */
	p = fresh(&c);
	q = (void *)find_sec(p, 2, &n);
	REQUIRE(q && n == 4 * sizeof(*q));
	REQUIRE(q[0].enabled);
	q[0].head = q[0].count;
	fix_crc(p);
	REJECT(&c, len, EBADMSG);
	p = fresh(&c);
	q = (void *)find_sec(p, 2, &n);
	q[0].base += 4096;   /* disagrees with RDBAL */
	fix_crc(p);
	REJECT(&c, len, EBADMSG);
	p = fresh(&c);
	{
		uint32_t *fifo = (void *)find_sec(p, 7, &n);

		REQUIRE(fifo && fifo[0] == 5);
		fifo[2] = 20000;   /* first frame length */
		fix_crc(p);
		REJECT(&c, len, EBADMSG);
		fresh(&c);
		fifo = (void *)find_sec(c.work, 7, &n);
		fifo[0] = 6;       /* one frame more than present */
		fix_crc(c.work);
		REJECT(&c, len, EBADMSG);
	}
	p = fresh(&c);
	find_sec(p, 4, &n)[0] = 0x01;   /* filter MAC becomes a group address */
	fix_crc(p);
	REJECT(&c, len, EBADMSG);
	p = fresh(&c);
	((uint32_t *)find_sec(p, 1, &n))[1] = 0x0100;   /* not a saved register */
	fix_crc(p);
	REJECT(&c, len, EBADMSG);
	/* A mandatory section disguised as an unknown optional one: skipped, then missing. */
	p = fresh(&c);
	((struct vfpf_state_sec *)(find_sec(p, 8, &n) - 8))->type = 0x8042;
	fix_crc(p);
	REJECT(&c, len, EBADMSG);
	/* Duplicated section. */
	p = fresh(&c);
	((struct vfpf_state_sec *)(find_sec(p, 5, &n) - 8))->type = 6;
	fix_crc(p);
	REJECT(&c, len, EBADMSG);

	/* A newer minor's optional section is skipped: the load succeeds. */
	p = fresh(&c);
	((struct vfpf_state_hdr *)p)->minor++;
	n = append_sec(p, 0x8042, 20);
	CHECK_EQ(load(&t, 1, p, n), 0);
	{
		struct vfmed_vf_info info;

		REQUIRE_EQ(vfmed_vf_get_info(t.nic, 1, &info), 0);
		CHECK_EQ(info.fifo_frames, 5);
		CHECK_EQ(info.rx_packets, 7);
	}
	free((void *)c.good);
	free(c.work);
	free(snap);
	tnic_close(&t);
}

TEST(state_load_preconditions)
{
	struct tnic t, small;
	uint8_t *blob;
	uint32_t len, seq;

	tnic_open(&t, &(struct tnic_opts){ .max_vfs = 2 });
	tnic_open(&small, &(struct tnic_opts){ .max_vfs = 2, .fifo_bytes = 9728 });
	for (seq = 0; seq < 40; seq++)   /* 12000 bytes in VF 0's FIFO (no queue) */
		REQUIRE_EQ(inject(&t, 0, seq), 0);
	REQUIRE_EQ(admin(&t, VFPF_AQC_VF_QUIESCE, 0, 0, 0, 0, 0, NULL), 0);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SAVE, 0, 0, 0, pf_buf_iova(BLOB), 100, &len), ENOSPC);
	CHECK(len > 12000);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_SAVE, 0, 0, 0, PF_IOVA + PF_MEMSZ - 100, 0x10000, NULL),
	         EFAULT);
	REQUIRE_EQ(save(&t, 0, &len), 0);
	blob = memcpy(malloc(len), pf_buf(&t, BLOB), len);
	/* The destination's FIFO is too small for the saved contents. */
	CHECK_EQ(load(&small, 0, blob, len), EPROTO);
	/* A running VF (queue enabled, not quiesced) refuses a load. */
	rxq_setup(&t, 1, 0, RXR, NRX, RXB, 2, false);
	CHECK_EQ(load(&t, 1, blob, len), EBUSY);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_LOAD, 1, 0, 0, 0x10, len, NULL), EBUSY);
	REQUIRE_EQ(admin(&t, VFPF_AQC_VF_QUIESCE, 1, 0, 0, 0, 0, NULL), 0);
	CHECK_EQ(admin(&t, VFPF_AQC_VF_LOAD, 1, 0, 0, 0x10, len, NULL), EFAULT);
	CHECK_EQ(load(&t, 1, blob, len), 0);
	free(blob);
	tnic_close(&t);
	tnic_close(&small);
}

/* Statistics registers are 32-bit and wrap; the 64-bit totals keep counting. The counter is
 * set near its limit through a (valid) blob, the only way software can write it. */
TEST(state_stats_registers_wrap)
{
	struct tnic t;
	uint8_t *b;
	uint32_t len, n, i, *regs;
	struct vfmed_vf_info info;

	tnic_open(&t, &(struct tnic_opts){ 0 });
	rxq_setup(&t, 0, 0, RXR, NRX, RXB, 2, false);
	REQUIRE_EQ(inject(&t, 0, 1), 0);
	REQUIRE_EQ(admin(&t, VFPF_AQC_VF_QUIESCE, 0, 0, 0, 0, 0, NULL), 0);
	REQUIRE_EQ(save(&t, 0, &len), 0);
	b = pf_buf(&t, BLOB);
	regs = (uint32_t *)find_sec(b, 1, &n);
	REQUIRE(regs);
	for (i = 0; i < regs[0]; i++)
		if (regs[1 + 2 * i] == E1000_VFGPRC)
			regs[2 + 2 * i] = 0xFFFFFFFFu;
	fix_crc(b);
	REQUIRE_EQ(admin(&t, VFPF_AQC_VF_LOAD, 0, 0, 0, pf_buf_iova(BLOB), len, NULL), 0);
	REQUIRE_EQ(admin(&t, VFPF_AQC_VF_RESUME, 0, 0, 0, 0, 0, NULL), 0);
	CHECK_EQ(rd(&t, 0, E1000_VFGPRC), 0xFFFFFFFFu);
	REQUIRE_EQ(inject(&t, 0, 2), 0);
	CHECK_EQ(rd(&t, 0, E1000_VFGPRC), 0);
	REQUIRE_EQ(inject(&t, 0, 3), 0);
	CHECK_EQ(rd(&t, 0, E1000_VFGPRC), 1);
	REQUIRE_EQ(vfmed_vf_get_info(t.nic, 0, &info), 0);
	CHECK_EQ(info.rx_packets, 3);
	tnic_close(&t);
}
