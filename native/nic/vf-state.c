/* SPDX-License-Identifier: MIT */
/*
 * vf-state.c - the VF state blob of VF_SAVE / VF_LOAD: everything needed to continue a
 * quiesced VF on another NIC instance with nothing lost and nothing duplicated.
 *
 * Layout (pf_regs.h): struct vfpf_state_hdr, then section_count sections
 *   { u16 type, u16 version, u32 len } payload[len] pad-to-8
 * crc32 = IEEE CRC-32 of total_len bytes with the crc32 field zeroed.
 *
 *   type  name     ver  payload
 *   0x01  REGS      1   u32 n, n x {u32 off, u32 val}: the VF-visible register file that
 *                       lives in BAR memory (VMBMEM, PSRTYPE, statistics, every queue
 *                       register of pages 2-3 incl. heads/tails/RQDPC/xQERR)
 *   0x02  QUEUES    1   4 x struct sec_queue (RX0, RX1, TX0, TX1): latched config, head,
 *                       head the device last wrote, last valid tail, error, stall flag
 *   0x03  TXPART    1   per TX queue with a gathered-but-unsent frame or stored context
 *                       descriptors: struct sec_txp + the partial bytes
 *   0x04  FILTERS   1   struct sec_filters: MAC, MC hashes, VLANs, LPE, promisc, VFRE/VFTE
 *   0x05  MAILBOX   1   struct sec_mbx: V2PMAILBOX bits, unanswered request and its words
 *   0x06  IRQ       1   struct sec_irq: EICR, EIMS, EIAC, EIAM, EITR0-2, IVARs, deferred
 *   0x07  FIFO      1   u32 count, u32 bytes, then count x {u32 len, u32 flags, data
 *                       padded to 4}: the RX FIFO in order
 *   0x08  STATS     1   struct vfmed_stats64 (13 x u64)
 * All eight are mandatory (TXPART may be absent: no partial state). A section type with
 * VFPF_STATE_SEC_OPTIONAL that this version does not know is skipped (minor versions add
 * only such sections); an unknown mandatory type or a newer section version is EPROTO.
 *
 * Load is two-phase: parse and validate everything into a staging copy (including the new
 * FIFO's frames, so no allocation can fail later), then apply with no failure path.
 * EBADMSG = corrupt/truncated/inconsistent, EPROTO = other major version, model or an
 * unknown mandatory section, ENOMEM. A failed load leaves the VF exactly as it was.
 * After a load the VF is quiesced; VF_RESUME starts it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum {
	SEC_REGS = 1, SEC_QUEUES = 2, SEC_TXPART = 3, SEC_FILTERS = 4, SEC_MAILBOX = 5,
	SEC_IRQ = 6, SEC_FIFO = 7, SEC_STATS = 8,
};
#define SEC_MANDATORY ((1u << SEC_REGS) | (1u << SEC_QUEUES) | (1u << SEC_FILTERS) | \
                       (1u << SEC_MAILBOX) | (1u << SEC_IRQ) | (1u << SEC_FIFO) | \
                       (1u << SEC_STATS))

struct sec_queue {
	uint8_t  is_tx, idx, enabled, stalled;
	uint32_t len;
	uint64_t base;
	uint32_t count, srrctl, head, head_written, last_tail, err;
};

struct sec_txp {
	uint32_t q, len, ndesc, first_cmd, first_olinfo, ctx_valid;
	uint8_t  ctx[2][16];
};

struct sec_filters {
	uint8_t  mac[6];
	uint16_t pad;
	uint32_t rx_en, tx_en, max_frame, promisc, mc_count, vlan_count;
	uint16_t mc[VFMED_MAX_MC];
	uint16_t vlan[VFMED_MAX_VLANS];
};

struct sec_mbx {
	uint32_t bits, req_pending;
	uint32_t msg[VFPF_MBX_WORDS];
};

struct sec_irq {
	uint32_t eicr, eims, eiac, eiam;
	uint32_t eitr[VFMED_VF_MSIX_VECTORS];
	uint32_t ivar0, ivar_misc, deferred;
};

_Static_assert(sizeof(struct vfpf_state_hdr) == 32, "state header layout");
_Static_assert(sizeof(struct vfpf_state_sec) == 8, "section header layout");
_Static_assert(sizeof(struct sec_queue) == 40, "queue section layout");
_Static_assert(sizeof(struct vfmed_stats64) == 13 * 8, "stats section layout");

#define MBX_STORED (E1000_V2PMAILBOX_VFU | E1000_V2PMAILBOX_PFSTS | E1000_V2PMAILBOX_PFACK | \
                    E1000_V2PMAILBOX_RSTI | E1000_V2PMAILBOX_RSTD)

uint32_t vfmed_crc32(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t tab[256];
	const uint8_t *p = buf;

	if (!tab[1]) {
		uint32_t i, k, c;

		for (i = 0; i < 256; i++) {
			for (c = i, k = 0; k < 8; k++)
				c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
			tab[i] = c;
		}
	}
	crc = ~crc;
	while (len--)
		crc = tab[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

/* ---- the register list ---------------------------------------------------------------- */

static uint32_t saved_regs(uint32_t *out)
{
	static const uint32_t page0[] = {
		E1000_PSRTYPE, E1000_VFGPRC, E1000_VFGPTC, E1000_VFGORC, E1000_VFGOTC,
		E1000_VFMPRC, E1000_VFGPRLBC, E1000_VFGPTLBC, E1000_VFGORLBC, E1000_VFGOTLBC,
		VFMED_VFDMAERR, VFMED_VFFIFODROP,
	};
	static const uint32_t rxq[] = { 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x28, 0x30, 0x34 };
	static const uint32_t txq[] = { 0x00, 0x04, 0x08, 0x10, 0x14, 0x18, 0x28, 0x34, 0x38, 0x3C };
	uint32_t n = 0, i, q;

	for (i = 0; i < E1000_VMBMEM_WORDS; i++)
		out[n++] = E1000_VMBMEM(i);
	for (i = 0; i < sizeof(page0) / 4; i++)
		out[n++] = page0[i];
	for (q = 0; q < VFMED_VF_NUM_QUEUES; q++) {
		for (i = 0; i < sizeof(rxq) / 4; i++)
			out[n++] = 0x2800 + 0x100 * q + rxq[i];
		for (i = 0; i < sizeof(txq) / 4; i++)
			out[n++] = 0x3800 + 0x100 * q + txq[i];
	}
	return n;
}
#define MAX_SAVED_REGS 80

static int reg_slot(uint32_t off)
{
	uint32_t r[MAX_SAVED_REGS], n = saved_regs(r), i;

	for (i = 0; i < n; i++)
		if (r[i] == off)
			return (int)i;
	return -1;
}

/* ---- writer ------------------------------------------------------------------------------ */

struct writer {
	uint8_t *buf;       /* NULL: only measure */
	uint32_t cap, off, sec_off, nsec;
	bool overflow;
};

static void put(struct writer *w, const void *p, uint32_t n)
{
	if (w->buf) {
		if (w->off + n > w->cap)
			w->overflow = true;
		else
			memcpy(w->buf + w->off, p, n);
	}
	w->off += n;
}

static void put32(struct writer *w, uint32_t v)
{
	put(w, &v, 4);
}

static void pad(struct writer *w, uint32_t a)
{
	static const uint8_t z[8];

	if (w->off % a)
		put(w, z, a - w->off % a);
}

static void sec_begin(struct writer *w, uint16_t type)
{
	struct vfpf_state_sec s = { .type = type, .version = 1, .len = 0 };

	w->sec_off = w->off;
	put(w, &s, sizeof(s));
}

static void sec_end(struct writer *w)
{
	uint32_t len = w->off - w->sec_off - (uint32_t)sizeof(struct vfpf_state_sec);

	if (w->buf && !w->overflow)
		memcpy(w->buf + w->sec_off + offsetof(struct vfpf_state_sec, len), &len, 4);
	pad(w, 8);
	w->nsec++;
}

static void serialize(struct vfmed_vf *vf, struct writer *w)
{
	struct vfpf_state_hdr h = { 0 };
	uint32_t r[MAX_SAVED_REGS], n = saved_regs(r), i, q;

	put(w, &h, sizeof(h));

	sec_begin(w, SEC_REGS);
	put32(w, n);
	for (i = 0; i < n; i++) {
		put32(w, r[i]);
		put32(w, bar_rd(vf->bar, r[i]));
	}
	sec_end(w);

	sec_begin(w, SEC_QUEUES);
	for (i = 0; i < 4; i++) {
		const struct vfmed_queue *qq = i < 2 ? &vf->rxq[i] : &vf->txq[i - 2];
		struct sec_queue s = {
			.is_tx = qq->is_tx, .idx = qq->idx, .enabled = qq->enabled,
			.stalled = qq->stalled, .len = qq->len, .base = qq->base, .count = qq->count,
			.srrctl = qq->srrctl, .head = qq->head, .head_written = qq->head_written,
			.last_tail = qq->last_tail, .err = qq->err,
		};
		put(w, &s, sizeof(s));
	}
	sec_end(w);

	for (q = 0; q < VFMED_VF_NUM_QUEUES; q++) {
		const struct vfmed_tx_partial *p = vf->txq[q].tx;
		struct sec_txp s = { .q = q };

		if (!p->len && !p->ndesc && !p->ctx_valid)
			continue;
		s.len = p->len;
		s.ndesc = p->ndesc;
		s.first_cmd = p->first_cmd;
		s.first_olinfo = p->first_olinfo;
		s.ctx_valid = p->ctx_valid;
		memcpy(s.ctx, p->ctx, sizeof(s.ctx));
		sec_begin(w, SEC_TXPART);
		put(w, &s, sizeof(s));
		put(w, p->buf, p->len);
		sec_end(w);
	}

	sec_begin(w, SEC_FILTERS);
	{
		struct sec_filters s = {
			.rx_en = vf->rx_en, .tx_en = vf->tx_en, .max_frame = vf->max_frame,
			.promisc = vf->promisc, .mc_count = vf->mc_count,
			.vlan_count = vf->vlan_count,
		};
		memcpy(s.mac, vf->mac, 6);
		memcpy(s.mc, vf->mc_hash, sizeof(s.mc));
		memcpy(s.vlan, vf->vlan, sizeof(s.vlan));
		put(w, &s, sizeof(s));
	}
	sec_end(w);

	sec_begin(w, SEC_MAILBOX);
	{
		struct sec_mbx s = { .bits = vf->mbx_bits & MBX_STORED,
		                     .req_pending = vf->mbx_req_pending };

		memcpy(s.msg, vf->mbx_req_msg, sizeof(s.msg));
		put(w, &s, sizeof(s));
	}
	sec_end(w);

	sec_begin(w, SEC_IRQ);
	{
		struct sec_irq s = {
			.eicr = vf->irq.eicr, .eims = vf->irq.eims, .eiac = vf->irq.eiac,
			.eiam = vf->irq.eiam, .ivar0 = vf->irq.ivar0, .ivar_misc = vf->irq.ivar_misc,
		};
		for (i = 0; i < VFMED_VF_MSIX_VECTORS; i++) {
			s.eitr[i] = vf->irq.eitr[i];
			if (vf->irq.deferred[i])
				s.deferred |= 1u << i;
		}
		put(w, &s, sizeof(s));
	}
	sec_end(w);

	sec_begin(w, SEC_FIFO);
	put32(w, vf->fifo.count);
	put32(w, vf->fifo.bytes);
	for (i = 0; i < vf->fifo.count; i++) {
		const struct vfmed_frame *f = vfmed_fifo_peek(&vf->fifo, i);

		put32(w, f->len);
		put32(w, f->flags);
		put(w, f->data, f->len);
		pad(w, 4);
	}
	sec_end(w);

	sec_begin(w, SEC_STATS);
	put(w, &vf->st, sizeof(vf->st));
	sec_end(w);
}

uint32_t vfmed_vf_state_size(struct vfmed_vf *vf)
{
	struct writer w = { 0 };

	serialize(vf, &w);
	return w.off;
}

int vfmed_vf_state_save(struct vfmed_vf *vf, uint8_t *buf, uint32_t cap, uint32_t *out_len)
{
	struct writer w = { .buf = buf, .cap = cap };
	struct vfpf_state_hdr h = {
		.magic = VFPF_STATE_MAGIC, .major = VFPF_STATE_MAJOR, .minor = VFPF_STATE_MINOR,
		.model_id = VFPF_MODEL_ID, .vf = vf->idx,
	};

	serialize(vf, &w);
	if (w.overflow)
		return -ENOSPC;
	h.total_len = w.off;
	h.section_count = w.nsec;
	h.crc32 = 0;
	memcpy(buf, &h, sizeof(h));
	h.crc32 = vfmed_crc32(0, buf, w.off);
	memcpy(buf, &h, sizeof(h));
	*out_len = w.off;
	return 0;
}

/* ---- load ------------------------------------------------------------------------------- */

struct staged {
	uint32_t seen;
	uint32_t reg_val[MAX_SAVED_REGS];
	uint8_t  reg_set[MAX_SAVED_REGS];
	struct sec_queue q[4];
	bool     txp_present[VFMED_VF_NUM_QUEUES];
	struct sec_txp txp[VFMED_VF_NUM_QUEUES];
	uint8_t  txp_data[VFMED_VF_NUM_QUEUES][VFMED_FRAME_MAX + 4];
	struct sec_filters filt;
	struct sec_mbx mbx;
	struct sec_irq irq;
	struct vfmed_rx_fifo fifo;
	struct vfmed_stats64 st;
};

static int parse_regs(struct staged *s, const uint8_t *p, uint32_t len)
{
	uint32_t n, i;

	if (len < 4)
		return -EBADMSG;
	memcpy(&n, p, 4);
	if (n > MAX_SAVED_REGS || len != 4 + n * 8)
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		uint32_t off, val;
		int slot;

		memcpy(&off, p + 4 + i * 8, 4);
		memcpy(&val, p + 8 + i * 8, 4);
		slot = reg_slot(off);
		if (slot < 0 || s->reg_set[slot])
			return -EBADMSG;
		if (off >= 0x2000 && ((off & 0xFF) == 0x10 || (off & 0xFF) == 0x18) && val > 0xFFFF)
			return -EBADMSG;
		if (off >= 0x2000 && (off & 0xFF) == 0x34 && val > VFMED_QERR_RING_LEN)
			return -EBADMSG;
		s->reg_set[slot] = 1;
		s->reg_val[slot] = val;
	}
	return 0;
}

static int parse_queues(struct staged *s, const uint8_t *p, uint32_t len)
{
	uint32_t i;

	if (len != sizeof(s->q))
		return -EBADMSG;
	memcpy(s->q, p, sizeof(s->q));
	for (i = 0; i < 4; i++) {
		const struct sec_queue *q = &s->q[i];

		if (q->is_tx != (i >= 2) || q->idx != i % 2 || q->enabled > 1 || q->stalled > 1)
			return -EBADMSG;
		if (q->err > VFMED_QERR_RING_LEN)
			return -EBADMSG;
		if (!q->enabled)
			continue;
		if (!q->len || q->len % 128 || q->len > VFMED_RING_MAX_BYTES ||
		    q->count != q->len / E1000_DESC_SIZE || (q->base & (VFMED_RING_ALIGN - 1)))
			return -EBADMSG;
		if (q->head >= q->count || q->head_written >= q->count ||
		    q->last_tail >= q->count || q->err)
			return -EBADMSG;
	}
	return 0;
}

static int parse_txp(struct staged *s, const uint8_t *p, uint32_t len)
{
	struct sec_txp t;

	if (len < sizeof(t))
		return -EBADMSG;
	memcpy(&t, p, sizeof(t));
	if (t.q >= VFMED_VF_NUM_QUEUES || s->txp_present[t.q] || t.len > VFMED_FRAME_MAX ||
	    len != sizeof(t) + t.len || t.ctx_valid > 3 || (t.ndesc && !t.len) ||
	    t.ndesc > 65536)
		return -EBADMSG;
	s->txp[t.q] = t;
	s->txp_present[t.q] = true;
	memcpy(s->txp_data[t.q], p + sizeof(t), t.len);
	return 0;
}

static int parse_filters(struct staged *s, const uint8_t *p, uint32_t len)
{
	struct sec_filters *f = &s->filt;
	uint32_t i;

	if (len != sizeof(*f))
		return -EBADMSG;
	memcpy(f, p, sizeof(*f));
	if ((f->mac[0] & 1) || f->rx_en > 1 || f->tx_en > 1 || (f->promisc & ~VFPF_PROMISC_MC) ||
	    f->mc_count > VFMED_MAX_MC || f->vlan_count > VFMED_MAX_VLANS)
		return -EBADMSG;
	if (f->max_frame && (f->max_frame < 64 || f->max_frame > VFMED_FRAME_MAX))
		return -EBADMSG;
	for (i = 0; i < f->mc_count; i++)
		if (f->mc[i] > 0xFFF)
			return -EBADMSG;
	for (i = 0; i < f->vlan_count; i++)
		if (f->vlan[i] > 4095)
			return -EBADMSG;
	return 0;
}

static int parse_mbx(struct staged *s, const uint8_t *p, uint32_t len)
{
	if (len != sizeof(s->mbx))
		return -EBADMSG;
	memcpy(&s->mbx, p, sizeof(s->mbx));
	if ((s->mbx.bits & ~MBX_STORED) || s->mbx.req_pending > 1)
		return -EBADMSG;
	return 0;
}

static int parse_irq(struct staged *s, const uint8_t *p, uint32_t len)
{
	struct sec_irq *q = &s->irq;
	uint32_t i;

	if (len != sizeof(*q))
		return -EBADMSG;
	memcpy(q, p, sizeof(*q));
	if ((q->eicr | q->eims | q->eiac | q->eiam | q->deferred) & ~E1000_EICR_MASK)
		return -EBADMSG;
	if ((q->ivar0 & ~0x83838383u) || (q->ivar_misc & ~0x83u))
		return -EBADMSG;
	for (i = 0; i < VFMED_VF_MSIX_VECTORS; i++)
		if (q->eitr[i] & 0x80000000u)
			return -EBADMSG;
	return 0;
}

static int parse_fifo(struct staged *s, struct vfmed_vf *vf, const uint8_t *p, uint32_t len)
{
	uint32_t n, bytes, i, off = 8, sum = 0;

	if (len < 8)
		return -EBADMSG;
	memcpy(&n, p, 4);
	memcpy(&bytes, p + 4, 4);
	if (bytes > vf->fifo.capacity)
		return -EPROTO;   /* this NIC's FIFO is smaller than the saved contents */
	for (i = 0; i < n; i++) {
		uint32_t fl, flags;

		if (len - off < 8)
			return -EBADMSG;
		memcpy(&fl, p + off, 4);
		memcpy(&flags, p + off + 4, 4);
		off += 8;
		if (fl < VFMED_FRAME_MIN || fl > VFMED_FRAME_MAX + 4 || (flags & ~VFMED_FRAME_F_LB))
			return -EBADMSG;
		if (len - off < ((fl + 3) & ~3u))
			return -EBADMSG;
		sum += fl;
		if (sum > bytes)
			return -EBADMSG;
		if (vfmed_fifo_push(&s->fifo, p + off, fl, flags))
			return -ENOMEM;
		off += (fl + 3) & ~3u;
	}
	if (off != len || sum != bytes)
		return -EBADMSG;
	return 0;
}

static int parse_stats(struct staged *s, const uint8_t *p, uint32_t len)
{
	if (len != sizeof(s->st))
		return -EBADMSG;
	memcpy(&s->st, p, sizeof(s->st));
	return 0;
}

/* Registers and latched queue state must agree, or the first pass after resume would
 * re-latch the queue and lose its position. */
static int cross_check(struct staged *s)
{
	uint32_t i;

	for (i = 0; i < 4; i++) {
		const struct sec_queue *q = &s->q[i];
		uint32_t b = (q->is_tx ? 0x3800u : 0x2800u) + 0x100u * q->idx;
		int bal = reg_slot(b), bah = reg_slot(b + 4), l = reg_slot(b + 8),
		    x = reg_slot(b + 0x28), srr = reg_slot(b + 0x0C);
		uint64_t base;

		if (!q->enabled)
			continue;
		if (!s->reg_set[bal] || !s->reg_set[bah] || !s->reg_set[l] || !s->reg_set[x])
			return -EBADMSG;
		base = (uint64_t)s->reg_val[bah] << 32 | s->reg_val[bal];
		if (!(s->reg_val[x] & E1000_XDCTL_ENABLE) || base != q->base || s->reg_val[l] != q->len)
			return -EBADMSG;
		if (!q->is_tx && (!s->reg_set[srr] || s->reg_val[srr] != q->srrctl))
			return -EBADMSG;
	}
	for (i = 0; i < VFMED_VF_NUM_QUEUES; i++)
		if (s->txp_present[i] && s->txp[i].len && !s->q[2 + i].enabled)
			return -EBADMSG;
	return 0;
}

static int parse(struct staged *s, struct vfmed_vf *vf, const uint8_t *buf, uint32_t len)
{
	struct vfpf_state_hdr h;
	uint32_t off, i, crc;
	uint8_t *tmp;

	if (len < sizeof(h))
		return -EBADMSG;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != VFPF_STATE_MAGIC)
		return -EBADMSG;
	if (h.total_len < sizeof(h) || h.total_len > len || h.total_len % 8)
		return -EBADMSG;
	tmp = malloc(h.total_len);
	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, buf, h.total_len);
	memset(tmp + offsetof(struct vfpf_state_hdr, crc32), 0, 4);
	crc = vfmed_crc32(0, tmp, h.total_len);
	free(tmp);
	if (crc != h.crc32)
		return -EBADMSG;
	if (h.major != VFPF_STATE_MAJOR || h.model_id != VFPF_MODEL_ID)
		return -EPROTO;

	off = sizeof(h);
	for (i = 0; i < h.section_count; i++) {
		struct vfpf_state_sec sh;
		const uint8_t *p;
		uint16_t type;
		int rc = 0;

		if (h.total_len - off < sizeof(sh))
			return -EBADMSG;
		memcpy(&sh, buf + off, sizeof(sh));
		off += sizeof(sh);
		if (sh.len > h.total_len - off || ((sh.len + 7) & ~7u) > h.total_len - off)
			return -EBADMSG;
		p = buf + off;
		off += (sh.len + 7) & ~7u;
		type = sh.type & ~VFPF_STATE_SEC_OPTIONAL;
		if (type < SEC_REGS || type > SEC_STATS || sh.version != 1) {
			if (sh.type & VFPF_STATE_SEC_OPTIONAL)
				continue;   /* a newer minor's optional section */
			return -EPROTO;
		}
		if (type != SEC_TXPART && (s->seen & (1u << type)))
			return -EBADMSG;
		s->seen |= 1u << type;
		switch (type) {
		case SEC_REGS:    rc = parse_regs(s, p, sh.len); break;
		case SEC_QUEUES:  rc = parse_queues(s, p, sh.len); break;
		case SEC_TXPART:  rc = parse_txp(s, p, sh.len); break;
		case SEC_FILTERS: rc = parse_filters(s, p, sh.len); break;
		case SEC_MAILBOX: rc = parse_mbx(s, p, sh.len); break;
		case SEC_IRQ:     rc = parse_irq(s, p, sh.len); break;
		case SEC_FIFO:    rc = parse_fifo(s, vf, p, sh.len); break;
		case SEC_STATS:   rc = parse_stats(s, p, sh.len); break;
		}
		if (rc)
			return rc;
	}
	if (off != h.total_len || (s->seen & SEC_MANDATORY) != SEC_MANDATORY)
		return -EBADMSG;
	return cross_check(s);
}

static void apply(struct staged *s, struct vfmed_vf *vf)
{
	uint32_t r[MAX_SAVED_REGS], n = saved_regs(r), i, q, dropped;
	uint64_t now = vfmed_now_ns();

	/* Register file: power-on values, then the saved ones. */
	for (i = 0; i < VFMED_VF_NUM_QUEUES; i++) {
		bar_wr(vf->bar, E1000_RXDCTL(i), E1000_RXDCTL_RESET);
		bar_wr(vf->bar, E1000_TXCTL(i), E1000_TXCTL_RESET);
	}
	for (i = 0; i < n; i++) {
		uint32_t def = 0;

		if ((r[i] & ~0x100u) == E1000_RXDCTL(0))
			def = E1000_RXDCTL_RESET;
		else if ((r[i] & ~0x100u) == E1000_TXCTL(0))
			def = E1000_TXCTL_RESET;
		bar_wr(vf->bar, r[i], s->reg_set[i] ? s->reg_val[i] : def);
	}

	for (i = 0; i < 4; i++) {
		struct vfmed_queue *qq = i < 2 ? &vf->rxq[i] : &vf->txq[i - 2];
		const struct sec_queue *sq = &s->q[i];

		vfmed_queue_disable(vf, qq);
		qq->enabled = sq->enabled;
		qq->stalled = sq->stalled;
		qq->base = sq->base;
		qq->len = sq->len;
		qq->count = sq->count;
		qq->srrctl = sq->srrctl;
		qq->head = sq->head;
		qq->head_written = sq->head_written;
		qq->last_tail = sq->last_tail;
		qq->err = sq->err;
	}
	for (q = 0; q < VFMED_VF_NUM_QUEUES; q++) {
		struct vfmed_tx_partial *p = vf->txq[q].tx;

		p->len = p->ndesc = 0;
		p->ctx_valid = 0;
		if (!s->txp_present[q])
			continue;
		p->len = s->txp[q].len;
		p->ndesc = s->txp[q].ndesc;
		p->first_cmd = s->txp[q].first_cmd;
		p->first_olinfo = s->txp[q].first_olinfo;
		p->ctx_valid = (uint8_t)s->txp[q].ctx_valid;
		memcpy(p->ctx, s->txp[q].ctx, sizeof(p->ctx));
		memcpy(p->buf, s->txp_data[q], p->len);
	}

	memcpy(vf->mac, s->filt.mac, 6);
	vf->rx_en = s->filt.rx_en;
	vf->tx_en = s->filt.tx_en;
	vf->max_frame = s->filt.max_frame;
	vf->promisc = s->filt.promisc;
	vf->mc_count = s->filt.mc_count;
	memcpy(vf->mc_hash, s->filt.mc, sizeof(vf->mc_hash));
	vf->vlan_count = s->filt.vlan_count;
	memcpy(vf->vlan, s->filt.vlan, sizeof(vf->vlan));

	vf->irq.eicr = s->irq.eicr;
	vf->irq.eims = s->irq.eims;
	vf->irq.eiac = s->irq.eiac;
	vf->irq.eiam = s->irq.eiam;
	vf->irq.ivar0 = s->irq.ivar0;
	vf->irq.ivar_misc = s->irq.ivar_misc;
	for (i = 0; i < VFMED_VF_MSIX_VECTORS; i++) {
		vf->irq.eitr[i] = s->irq.eitr[i];
		vf->irq.deferred[i] = (s->irq.deferred >> i) & 1;
		vf->irq.next_ok_ns[i] = now;   /* throttled causes go out at the first pass */
	}

	/* Frames of the VF being overwritten are lost by the PF driver's choice: counted. */
	dropped = vfmed_fifo_flush(&vf->fifo);
	vfmed_fifo_free(&vf->fifo);
	vf->fifo = s->fifo;
	vf->fifo.capacity = vf->nic->rx_fifo_bytes;
	memset(&s->fifo, 0, sizeof(s->fifo));

	vf->st = s->st;
	vf->st.rx_fifo_drops += dropped;

	vf->mbx_bits = s->mbx.bits;
	vf->mbx_req_pending = s->mbx.req_pending;
	memcpy(vf->mbx_req_msg, s->mbx.msg, sizeof(vf->mbx_req_msg));
	vfmed_mbx_repost(vf);

	vf->quiesced = true;
	vf->sealed = false;
}

int vfmed_vf_state_load(struct vfmed_vf *vf, const uint8_t *buf, uint32_t len)
{
	struct staged *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	vfmed_fifo_init(&s->fifo, vf->fifo.capacity);
	rc = parse(s, vf, buf, len);
	if (!rc)
		apply(s, vf);
	vfmed_fifo_free(&s->fifo);
	free(s);
	return rc;
}
