/* SPDX-License-Identifier: MIT */
/*
 * fast-path.h - serving a connection's plain BAR0 register accesses without JavaScript.
 *
 * A trapped register access is one REGION_READ/REGION_WRITE of a few bytes. Going through
 * the JS dispatcher costs more than the access itself (a MakeCallback, a Buffer, decode,
 * the device chain, encode), so the TypeScript side installs a per-connection *policy*
 * saying which accesses have no reason to reach it, and the transport serves exactly those
 * in its uv_poll callback (the same thread, before the next message is read):
 *
 *   message ─▶ fast path? ── no ──▶ JS (dispatcher) as before
 *                 │ yes: command REGION_READ/WRITE, flags 0 or NO_REPLY, no fds, size
 *                 │      exact, region = policy region, count 4 or 8 naturally aligned,
 *                 │      every dword of it set in the read/write mask, not paused
 *                 ▼
 *          vfmed_vf_reg_read/write ─▶ reply (or error reply with -rc) ─▶ counters (+ log)
 *
 * Nothing that could fail a protocol check ever takes the fast path, so every error reply
 * for a malformed or bad access is still the dispatcher's; the only errors produced here
 * are the device's own (-rc of the register call), which the JS path turns into the same
 * error reply. The TS side pauses the fast path while one of its commands is still pending
 * (an asynchronous handler may change the policy when it completes) and drains the
 * counters and the tail log before each message it handles, so ordering is that of the
 * connection.
 *
 * Tail log (optional, for the tail-trap dirty tracker): 4-byte writes of RDT0/1 and
 * TDT0/1 in the write mask are served and logged as (queue, head register at the write,
 * old tail, new tail) and, for RDT, the buffer addresses of the descriptors the write
 * posts, read from guest memory before the device sees the new tail:
 *
 *   entries[] : {kind, q, head, old_tail, new_tail, addr_start, naddr}
 *   addrs[]   : pkt_addr of descriptors [old_tail, new_tail)   (UINT64_MAX = unknown)
 *
 * A write whose facts cannot be recorded exactly (queue disabled, ring length invalid, a
 * tail out of range, the ring outside the guest memory windows, the log full) is not served
 * here: it goes to JS, which drains the log first and runs the tracker itself.
 *
 * post_tails: a logged tail write is then *posted* the way a passthrough store is — the
 * value is stored into the BAR register memory the device thread polls (and the thread is
 * kicked in case it sleeps) — instead of vfmed_vf_reg_write processing the queue inside
 * the call. That is the device behaviour a client has when the pages are not trapped;
 * the mediator uses it while it traps only to observe (tail-trap tracking).
 */
#ifndef VFMED_FAST_PATH_H
#define VFMED_FAST_PATH_H

#include <stddef.h>
#include <stdint.h>

#include <vector>

struct vfmed_nic;

namespace vfmed {

struct VfmedFastPathWindow {
	uint64_t iova;
	uint64_t size;
	const uint8_t *host; /* mapping of [iova, iova + size), kept alive by the owner */
};

enum : uint8_t {
	VFMED_FP_LOG_RX = 1,
	VFMED_FP_LOG_TX = 2,
};

struct VfmedFastPathLogEntry {
	uint8_t kind; /* VFMED_FP_LOG_* */
	uint8_t q;
	uint16_t head;     /* RDH/TDH just before the write */
	uint16_t old_tail; /* RDT/TDT register just before the write */
	uint16_t new_tail;
	uint32_t addr_start; /* index into addrs (RX) */
	uint32_t naddr;
};

struct VfmedFastPathConfig {
	struct vfmed_nic *nic = nullptr;
	uint32_t vf = 0;
	uint32_t region = 0;
	uint32_t region_size = 0;          /* bytes, a multiple of 4 */
	std::vector<uint8_t> read_mask;    /* bit i (LSB first) = dword i served for reads */
	std::vector<uint8_t> write_mask;   /* same for writes */
	bool tail_log = false;
	bool post_tails = false;          /* with tail_log: logged tail writes are posted */
	volatile uint32_t *bar = nullptr; /* register memory (required with tail_log) */
	std::vector<VfmedFastPathWindow> windows;
};

struct VfmedFastPathTotals {
	uint64_t reads = 0, writes = 0, errors = 0, logged = 0;
	uint64_t declined_log = 0; /* tail writes left to JS because they could not be logged */
	uint64_t posted = 0;       /* logged tail writes posted to the register memory */
};

class VfmedFastPath {
public:
	/* Bounds of the tail log between two drains. */
	static constexpr size_t LOG_MAX_ENTRIES = 4096;
	static constexpr size_t LOG_MAX_ADDRS = 1u << 16;

	explicit VfmedFastPath(VfmedFastPathConfig cfg);

	/* Serves msg (a whole message, header included) if the policy covers it. Returns false
	 * when JS must handle it (nothing was done). On true, *reply holds the reply to send
	 * (empty for NO_REPLY). */
	bool serve(const uint8_t *msg, size_t len, uint32_t transport_flags, size_t nfds,
		   std::vector<uint8_t> *reply);

	void set_paused(bool p) { paused_ = p; }
	bool paused() const { return paused_; }
	/* The NIC is going away: serve nothing from now on. */
	void detach_nic() { cfg_.nic = nullptr; }
	const VfmedFastPathConfig &config() const { return cfg_; }
	const VfmedFastPathTotals &totals() const { return totals_; }

	/* Counts since the last drain, as (dword, count) pairs; zeroes them. */
	void take_counts(std::vector<uint32_t> *reads, std::vector<uint32_t> *writes);
	/* The tail log since the last drain; empties it. */
	void take_log(std::vector<VfmedFastPathLogEntry> *entries, std::vector<uint64_t> *addrs);
	bool pending() const { return !touched_.empty() || !log_.empty(); }

private:
	bool covered(const std::vector<uint8_t> &mask, uint32_t off, uint32_t count) const;
	/* -1: not a logged register; 0: logged into the log; 1: must go to JS. */
	int log_tail(uint32_t off, uint32_t value);
	const uint8_t *guest(uint64_t iova, uint64_t len) const;
	void bump(uint32_t off, bool write);
	static void reply_ok(const uint8_t *msg, bool no_reply, bool write, uint32_t count,
			     uint64_t val, std::vector<uint8_t> *reply);

	VfmedFastPathConfig cfg_;
	bool paused_ = false;
	VfmedFastPathTotals totals_;
	std::vector<uint32_t> reads_, writes_; /* per dword since the last drain */
	std::vector<uint16_t> touched_;        /* dwords with a non-zero count */
	std::vector<uint8_t> is_touched_;
	std::vector<VfmedFastPathLogEntry> log_;
	std::vector<uint64_t> addrs_;
};

} /* namespace vfmed */

#endif /* VFMED_FAST_PATH_H */
