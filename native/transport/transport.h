/* SPDX-License-Identifier: MIT */
/*
 * transport.h - the vfio-user socket transport of vfmed (native part).
 *
 * Node cannot pass file descriptors over a UNIX socket, so the byte/fd plumbing of the
 * vfio-user server lives here and everything above it (message codec, dispatcher, device
 * model) is TypeScript. This layer knows exactly one thing about the protocol: every
 * message starts with a 16-byte header whose bytes 4..7 are the little-endian size of the
 * whole message. It uses that to cut the stream into messages; it never interprets
 * commands.
 *
 *   sock-io.cc      recvmsg/sendmsg with SCM_RIGHTS, no state
 *   sock-listen.cc  owner-only (0600, umask-independent) listening socket, stale-socket check
 *   conn.cc         one connection: framing, partial reads/writes, fd ownership, uv_poll
 *   transport-napi.cc  the JS classes (Listener, Connection, connect) and
 *                      vfmed_transport_init(), called by the addon's module init
 *
 * Every function returns 0 / a non-negative value or -errno. Nothing blocks the libuv loop:
 * sockets are non-blocking and readiness comes from uv_poll.
 */
#ifndef VFMED_TRANSPORT_H
#define VFMED_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

namespace vfmed {

/* vfio-user header: u16 msg_id, u16 command, u32 size (incl. header), u32 flags, u32 error. */
constexpr size_t VFMED_SOCK_HDR_SIZE = 16;
constexpr size_t VFMED_SOCK_HDR_SIZE_OFF = 4;

/* File descriptors accepted with one message; more are closed and the message is flagged.
 * (The server advertises a smaller max_msg_fds; this only bounds what we hold.) */
constexpr size_t VFMED_SOCK_MAX_FDS = 32;
/* Linux SCM_MAX_FD: the most fds one sendmsg can carry (a client may send that many). */
constexpr size_t VFMED_SOCK_MAX_SEND_FDS = 253;

/* Flags delivered with a message (mirrored in mediator/vfio/transport-native.ts). */
enum : uint32_t {
	VFMED_SOCK_MSG_OVERSIZE      = 0x1, /* size > limit: only the header is delivered and
	                                       the body is read and discarded */
	VFMED_SOCK_MSG_BADSIZE       = 0x2, /* size < 16: only the header is delivered */
	VFMED_SOCK_MSG_FDS_TRUNCATED = 0x4, /* the kernel or our cap dropped some fds (closed) */
};

/* ---- sock-io.cc ----------------------------------------------------------------------- */

/* recvmsg() of up to len bytes (MSG_DONTWAIT, MSG_CMSG_CLOEXEC). Received fds are appended
 * to *fds; if more than fd_cap arrive in total, the surplus is closed and *truncated set
 * (also set on MSG_CTRUNC). Returns bytes read (0 = EOF) or -errno (-EAGAIN: nothing). */
ssize_t vfmed_sock_recv(int sock, void *buf, size_t len, std::vector<int> *fds,
			size_t fd_cap, bool *truncated);

/* sendmsg() of len bytes with nfds fds as SCM_RIGHTS (MSG_DONTWAIT, MSG_NOSIGNAL).
 * Returns bytes written (the fds travel with the first byte) or -errno. */
ssize_t vfmed_sock_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds);

/* Closes every fd in the vector and empties it. */
void vfmed_sock_close_fds(std::vector<int> *fds);

/* ---- sock-listen.cc ------------------------------------------------------------------- */

struct vfmed_sock_listen_info {
	int fd;        /* listening socket, non-blocking, close-on-exec */
	dev_t dev;     /* identity of the socket inode we created, so close() only unlinks */
	ino_t ino;     /* the file if it is still ours */
};

/* Creates a listening socket at path with permissions 0600 regardless of the umask and
 * without a window in which another user could connect. A stale socket (nobody listening)
 * is replaced; a live one is -EADDRINUSE; a non-socket file is -EEXIST. */
int vfmed_sock_listen(const std::string &path, int backlog, vfmed_sock_listen_info *out);

/* Unlinks path if it is still the inode described by info (another daemon may own it). */
void vfmed_sock_unlink_if_ours(const std::string &path, const vfmed_sock_listen_info &info);

/* Non-blocking accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC. Returns fd or -errno. */
int vfmed_sock_accept(int listen_fd);

/* Blocking connect to a UNIX socket path, then O_NONBLOCK; returns fd or -errno. */
int vfmed_sock_connect(const std::string &path);

/* ---- conn.cc ------------------------------------------------------------------------------ */

struct vfmed_sock_peer {
	int32_t pid;
	uint32_t uid;
	uint32_t gid;
	bool valid;
};

/*
 * One connected socket. Reads are cut into whole vfio-user messages (never reading past a
 * message boundary, so SCM_RIGHTS fds are attributed to the message whose bytes carried
 * them); writes are queued when the socket is full.
 *
 *   read state:  [header 0..16) -> [body 16..size) -> deliver -> header ...
 *                          \-> size > max: deliver header (OVERSIZE) -> [drain body] -> header
 *
 * Ownership: fds delivered with a message belong to the callee from then on; fds of a
 * partial message at close, of a drained message and of queued output are closed here.
 */
class VfmedConn {
public:
	struct Callbacks {
		/* data is malloc'ed and owned by the callee (free()); fds are owned by the callee. */
		std::function<void(uint8_t *data, size_t len, std::vector<int> &fds, uint32_t flags)>
			on_message;
		/* Called once, from a uv_close callback, after the fd is closed. err: 0 on an
		 * orderly EOF / local close, else the positive errno that ended the connection. */
		std::function<void(int err)> on_closed;
	};

	VfmedConn(uv_loop_t *loop, int fd);
	~VfmedConn();
	VfmedConn(const VfmedConn &) = delete;
	VfmedConn &operator=(const VfmedConn &) = delete;

	/* Starts polling (reads are delivered from now on). 0 or -errno. */
	int start(Callbacks cb);
	/* Sends a whole message: tries at once, queues the rest. fds are duplicated when the
	 * message has to wait, so the caller keeps its own. 0 or -errno (-EPIPE when closed). */
	int send(const uint8_t *data, size_t len, const int *fds, size_t nfds);
	/* Stops reading and closes once the output queue is empty. */
	void end();
	/* Closes now; queued output is dropped. */
	void destroy(int err = 0);

	void set_max_message(size_t bytes) { max_message_ = bytes; }
	size_t max_message() const { return max_message_; }
	size_t queued_bytes() const { return queued_bytes_; }
	bool is_open() const { return state_ == State::Open; }
	bool is_closed() const { return state_ == State::Closed; }
	const vfmed_sock_peer &peer() const { return peer_; }

	/* Output queue thresholds: reading pauses above HIGH and resumes below LOW, so a client
	 * that never reads its replies cannot make us buffer without bound. */
	static constexpr size_t QUEUE_HIGH = 4u << 20;
	static constexpr size_t QUEUE_LOW = 1u << 20;
	/* Messages handled per readiness callback before yielding to the loop. */
	static constexpr int READ_BUDGET = 64;

private:
	enum class State { Idle, Open, Ending, Closing, Closed };

	struct OutMsg {
		std::vector<uint8_t> data;
		size_t off;
		std::vector<int> fds; /* duplicates, sent with the first byte, then closed */
	};

	static void on_poll(uv_poll_t *h, int status, int events);
	static void on_handle_closed(uv_handle_t *h);
	void handle_readable();
	void handle_writable();
	int flush_queue();
	void update_poll();
	void reset_read_state();
	void deliver(uint8_t *data, size_t len, uint32_t flags);

	uv_loop_t *loop_;
	uv_poll_t poll_;
	bool poll_inited_ = false;
	int fd_;
	State state_ = State::Idle;
	int close_err_ = 0;
	Callbacks cb_;
	vfmed_sock_peer peer_ {};
	int poll_events_ = 0;

	size_t max_message_ = 16 + 16 + (1u << 20);

	/* read state */
	uint8_t hdr_[VFMED_SOCK_HDR_SIZE];
	size_t hdr_got_ = 0;
	uint8_t *msg_ = nullptr;   /* whole message incl. header once the header is known */
	size_t msg_size_ = 0;
	size_t msg_got_ = 0;
	uint64_t drain_left_ = 0;  /* bytes of an oversized body still to discard */
	std::vector<int> fds_;     /* fds received with the message being read */
	bool fds_truncated_ = false;

	/* write state */
	std::deque<OutMsg> out_;
	size_t queued_bytes_ = 0;
	bool read_paused_ = false;
};

} /* namespace vfmed */

#endif /* VFMED_TRANSPORT_H */
