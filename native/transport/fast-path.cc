// SPDX-License-Identifier: MIT
/*
 * fast-path.cc - the native BAR0 register fast path of one connection (see fast-path.h).
 *
 * Message layout read here (vfio-user): header {u16 msg_id, u16 command, u32 size,
 * u32 flags, u32 error}, then struct vfio_user_region_access {u64 offset, u32 region,
 * u32 count, u8 data[]}. A reply echoes msg_id and command with flags = REPLY; a read
 * reply carries the access struct and the data, a write reply the struct without data.
 */
#include <errno.h>
#include <string.h>

#include <vfmed/nic.h>
#include <vfmed/vf_regs.h>

#include "fast-path.h"

namespace vfmed {

namespace {

constexpr uint16_t CMD_REGION_READ = 9;
constexpr uint16_t CMD_REGION_WRITE = 10;
constexpr uint32_t FLAG_TYPE_REPLY = 0x1;
constexpr uint32_t FLAG_NO_REPLY = 0x10;
constexpr uint32_t FLAG_ERROR = 0x20;
constexpr size_t HDR = 16;
constexpr size_t ACCESS = 16;
constexpr uint32_t DESC_BYTES = 16;
/* TS reads descriptor addresses as JS numbers: exact below 2^53 (hi dword <= 0x1fffff). */
constexpr uint32_t ADDR_MAX_HI = 0x1fffff;

uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }
void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}
void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

void header(std::vector<uint8_t> *out, const uint8_t *req, size_t size, uint32_t flags,
	    uint32_t error)
{
	out->assign(size, 0);
	uint8_t *p = out->data();
	memcpy(p, req, 4); /* msg_id, command */
	put32(p + 4, (uint32_t)size);
	put32(p + 8, flags);
	put32(p + 12, error);
}

/* RDT0/1, TDT0/1: the registers the tail log records. */
bool is_tail_reg(uint32_t off)
{
	return off == (uint32_t)E1000_RDT(0) || off == (uint32_t)E1000_RDT(1) ||
	       off == (uint32_t)E1000_TDT(0) || off == (uint32_t)E1000_TDT(1);
}

} /* namespace */

VfmedFastPath::VfmedFastPath(VfmedFastPathConfig cfg) : cfg_(std::move(cfg))
{
	size_t dwords = cfg_.region_size / 4;
	reads_.assign(dwords, 0);
	writes_.assign(dwords, 0);
	is_touched_.assign(dwords, 0);
}

bool VfmedFastPath::covered(const std::vector<uint8_t> &mask, uint32_t off, uint32_t count) const
{
	for (uint32_t d = off / 4; d < (off + count) / 4; d++)
		if ((size_t)(d / 8) >= mask.size() || !(mask[d / 8] & (1u << (d % 8))))
			return false;
	return true;
}

void VfmedFastPath::bump(uint32_t off, bool write)
{
	uint32_t d = off / 4;
	(write ? writes_ : reads_)[d]++;
	if (!is_touched_[d]) {
		is_touched_[d] = 1;
		touched_.push_back((uint16_t)d);
	}
	if (write)
		totals_.writes++;
	else
		totals_.reads++;
}

const uint8_t *VfmedFastPath::guest(uint64_t iova, uint64_t len) const
{
	for (const auto &w : cfg_.windows) {
		if (iova >= w.iova && len <= w.size && iova - w.iova <= w.size - len)
			return w.host + (iova - w.iova);
	}
	return nullptr;
}

int VfmedFastPath::log_tail(uint32_t off, uint32_t value)
{
	int q = -1;
	uint8_t kind = 0;
	for (int i = 0; i < 2; i++) {
		if (off == (uint32_t)E1000_RDT(i)) {
			q = i;
			kind = VFMED_FP_LOG_RX;
		} else if (off == (uint32_t)E1000_TDT(i)) {
			q = i;
			kind = VFMED_FP_LOG_TX;
		}
	}
	if (q < 0)
		return -1;
	if (!cfg_.bar || log_.size() >= LOG_MAX_ENTRIES)
		return 1;
	const volatile uint32_t *r = cfg_.bar;
	VfmedFastPathLogEntry e {};
	e.kind = kind;
	e.q = (uint8_t)q;
	e.new_tail = (uint16_t)value;
	e.addr_start = (uint32_t)addrs_.size();
	if (kind == VFMED_FP_LOG_TX) {
		e.head = (uint16_t)(r[E1000_TDH(q) / 4] & 0xffff);
		e.old_tail = (uint16_t)(r[E1000_TDT(q) / 4] & 0xffff);
		log_.push_back(e);
		return 0;
	}
	/* RX: the exact set of descriptors this write posts must be readable now. */
	uint32_t rdlen = r[E1000_RDLEN(q) / 4];
	uint32_t count = rdlen / DESC_BYTES;
	uint32_t old_tail = r[E1000_RDT(q) / 4];
	if (!(r[E1000_RXDCTL(q) / 4] & E1000_XDCTL_ENABLE) || rdlen == 0 || rdlen % DESC_BYTES ||
	    count > 0x10000 || (value >> 16) != 0 || value >= count || old_tail >= count)
		return 1;
	uint64_t base = (uint64_t)r[E1000_RDBAH(q) / 4] << 32 | r[E1000_RDBAL(q) / 4];
	const uint8_t *ring = guest(base, (uint64_t)count * DESC_BYTES);
	uint32_t n = (value - old_tail + count) % count;
	if (!ring || addrs_.size() + n > LOG_MAX_ADDRS)
		return 1;
	e.head = (uint16_t)(r[E1000_RDH(q) / 4] & 0xffff);
	e.old_tail = (uint16_t)old_tail;
	e.naddr = n;
	for (uint32_t i = old_tail, k = 0; k < n; i = (i + 1) % count, k++) {
		const volatile uint8_t *d = ring + (size_t)i * DESC_BYTES;
		uint8_t raw[8];
		for (int b = 0; b < 8; b++)
			raw[b] = d[b];
		uint32_t hi = le32(raw + 4);
		addrs_.push_back(hi > ADDR_MAX_HI ? UINT64_MAX : le64(raw));
	}
	log_.push_back(e);
	return 0;
}

bool VfmedFastPath::serve(const uint8_t *msg, size_t len, uint32_t transport_flags, size_t nfds,
			  std::vector<uint8_t> *reply)
{
	if (paused_ || !cfg_.nic || transport_flags || nfds || len < HDR + ACCESS)
		return false;
	uint16_t cmd = le16(msg + 2);
	uint32_t flags = le32(msg + 8);
	if (le32(msg + 4) != len || (flags & ~FLAG_NO_REPLY) != 0)
		return false;
	if (cmd != CMD_REGION_READ && cmd != CMD_REGION_WRITE)
		return false;
	bool write = cmd == CMD_REGION_WRITE;
	uint64_t offset = le64(msg + HDR);
	uint32_t region = le32(msg + HDR + 8);
	uint32_t count = le32(msg + HDR + 12);
	if (region != cfg_.region || (count != 4 && count != 8) || offset % count ||
	    offset >= cfg_.region_size || offset + count > cfg_.region_size)
		return false;
	if (len != HDR + ACCESS + (write ? count : 0))
		return false;
	uint32_t off = (uint32_t)offset;
	if (!covered(write ? cfg_.write_mask : cfg_.read_mask, off, count))
		return false;
	uint32_t d = off / 4;
	if ((write ? writes_ : reads_)[d] == UINT32_MAX)
		return false; /* JS drains the counters first */

	bool no_reply = (flags & FLAG_NO_REPLY) != 0;
	int rc;
	uint64_t val = 0;
	if (write) {
		val = count == 8 ? le64(msg + HDR + ACCESS) : le32(msg + HDR + ACCESS);
		if (cfg_.tail_log && count == 4) {
			int l = log_tail(off, (uint32_t)val);
			if (l > 0) {
				totals_.declined_log++;
				return false;
			}
			if (l == 0)
				totals_.logged++;
			if (l == 0 && cfg_.post_tails) {
				/* A passthrough store: the device thread notices it by polling. */
				__atomic_store_n(&cfg_.bar[off / 4], (uint32_t)val, __ATOMIC_RELEASE);
				vfmed_nic_kick(cfg_.nic);
				totals_.posted++;
				bump(off, true);
				reply_ok(msg, no_reply, write, count, 0, reply);
				return true;
			}
		} else if (cfg_.tail_log && count == 8 &&
			   (is_tail_reg(off) || is_tail_reg(off + 4))) {
			return false;
		}
		rc = vfmed_vf_reg_write(cfg_.nic, cfg_.vf, off, count, val);
	} else {
		rc = vfmed_vf_reg_read(cfg_.nic, cfg_.vf, off, count, &val);
	}
	bump(off, write);
	if (rc < 0) {
		totals_.errors++;
		if (no_reply)
			reply->clear();
		else
			header(reply, msg, HDR, FLAG_TYPE_REPLY | FLAG_ERROR, (uint32_t)-rc);
		return true;
	}
	reply_ok(msg, no_reply, write, count, val, reply);
	return true;
}

void VfmedFastPath::reply_ok(const uint8_t *msg, bool no_reply, bool write, uint32_t count,
			     uint64_t val, std::vector<uint8_t> *reply)
{
	if (no_reply) {
		reply->clear();
		return;
	}
	size_t size = HDR + ACCESS + (write ? 0 : count);
	header(reply, msg, size, FLAG_TYPE_REPLY, 0);
	uint8_t *p = reply->data() + HDR;
	memcpy(p, msg + HDR, ACCESS); /* offset, region, count echoed */
	if (!write) {
		if (count == 8)
			put64(p + ACCESS, val);
		else
			put32(p + ACCESS, (uint32_t)val);
	}
}

void VfmedFastPath::take_counts(std::vector<uint32_t> *reads, std::vector<uint32_t> *writes)
{
	for (uint16_t d : touched_) {
		if (reads_[d]) {
			reads->push_back(d);
			reads->push_back(reads_[d]);
		}
		if (writes_[d]) {
			writes->push_back(d);
			writes->push_back(writes_[d]);
		}
		reads_[d] = writes_[d] = 0;
		is_touched_[d] = 0;
	}
	touched_.clear();
}

void VfmedFastPath::take_log(std::vector<VfmedFastPathLogEntry> *entries, std::vector<uint64_t> *addrs)
{
	entries->swap(log_);
	addrs->swap(addrs_);
	log_.clear();
	addrs_.clear();
}

} /* namespace vfmed */
