// SPDX-License-Identifier: MIT
/*
 * conn.cc - one vfio-user connection: message framing over a non-blocking UNIX stream
 * socket, fd passing, output queue with backpressure, readiness from uv_poll.
 *
 * Reads never cross a message boundary: the header is read first (16 bytes, possibly in
 * pieces), then exactly size-16 body bytes. On AF_UNIX stream sockets the kernel ends a
 * recvmsg() after the skb that carried SCM_RIGHTS, so reading message by message is what
 * attributes fds to the right message (QEMU's client does the same).
 *
 * Lifetime: Idle -> start() -> Open -> end() -> Ending (output draining) -> Closing
 * (uv_close pending) -> Closed (on_closed called). destroy() goes to Closing from anywhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport.h"

namespace vfmed {

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

VfmedConn::VfmedConn(uv_loop_t *loop, int fd) : loop_(loop), fd_(fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		peer_.pid = cred.pid;
		peer_.uid = cred.uid;
		peer_.gid = cred.gid;
		peer_.valid = true;
	}
	memset(hdr_, 0, sizeof(hdr_));
}

VfmedConn::~VfmedConn()
{
	/* The owner keeps us alive until on_closed; this only covers a never-started conn. */
	if (fd_ >= 0)
		close(fd_);
	free(msg_);
	vfmed_sock_close_fds(&fds_);
	for (auto &m : out_)
		vfmed_sock_close_fds(&m.fds);
}

int VfmedConn::start(Callbacks cb)
{
	if (state_ != State::Idle)
		return -EALREADY;
	cb_ = std::move(cb);
	int rc = uv_poll_init(loop_, &poll_, fd_);
	if (rc < 0)
		return rc; /* libuv errors are -errno on Unix */
	poll_inited_ = true;
	poll_.data = this;
	state_ = State::Open;
	update_poll();
	return 0;
}

void VfmedConn::update_poll()
{
	if (!poll_inited_ || (state_ != State::Open && state_ != State::Ending))
		return;
	int ev = 0;
	if (state_ == State::Open && !read_paused_)
		ev |= UV_READABLE;
	if (!out_.empty())
		ev |= UV_WRITABLE;
	if (ev == poll_events_)
		return;
	poll_events_ = ev;
	if (ev)
		uv_poll_start(&poll_, ev, on_poll);
	else
		uv_poll_stop(&poll_);
}

void VfmedConn::on_poll(uv_poll_t *h, int status, int events)
{
	VfmedConn *c = static_cast<VfmedConn *>(h->data);
	if (status < 0) {
		c->destroy(-status);
		return;
	}
	if (events & UV_WRITABLE)
		c->handle_writable();
	if ((events & UV_READABLE) && c->state_ == State::Open)
		c->handle_readable();
}

void VfmedConn::reset_read_state()
{
	hdr_got_ = 0;
	msg_ = nullptr;
	msg_size_ = 0;
	msg_got_ = 0;
	fds_truncated_ = false;
}

void VfmedConn::deliver(uint8_t *data, size_t len, uint32_t flags)
{
	std::vector<int> fds;
	fds.swap(fds_);
	if (fds_truncated_)
		flags |= VFMED_SOCK_MSG_FDS_TRUNCATED;
	reset_read_state();
	if (cb_.on_message) {
		cb_.on_message(data, len, fds, flags);
	} else {
		free(data);
	}
	/* Whatever the callee did not take is still ours to close. */
	vfmed_sock_close_fds(&fds);
}

void VfmedConn::handle_readable()
{
	uint8_t scratch[16384];

	for (int budget = READ_BUDGET; budget > 0 && state_ == State::Open && !read_paused_;) {
		void *dst;
		size_t want;
		bool draining = drain_left_ > 0;

		if (draining) {
			dst = scratch;
			want = drain_left_ < sizeof(scratch) ? (size_t)drain_left_ : sizeof(scratch);
		} else if (hdr_got_ < VFMED_SOCK_HDR_SIZE) {
			dst = hdr_ + hdr_got_;
			want = VFMED_SOCK_HDR_SIZE - hdr_got_;
		} else {
			dst = msg_ + msg_got_;
			want = msg_size_ - msg_got_;
		}

		ssize_t n;
		if (draining) {
			/* fds that arrive with a discarded body are closed right away. */
			std::vector<int> junk;
			bool trunc = false;
			n = vfmed_sock_recv(fd_, dst, want, &junk, VFMED_SOCK_MAX_FDS, &trunc);
			vfmed_sock_close_fds(&junk);
		} else {
			n = vfmed_sock_recv(fd_, dst, want, &fds_, VFMED_SOCK_MAX_FDS,
					    &fds_truncated_);
		}
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return;
		if (n < 0) {
			destroy((int)-n);
			return;
		}
		if (n == 0) {
			/* EOF: orderly between messages, a truncated message otherwise. */
			bool mid = draining || hdr_got_ > 0;
			destroy(mid ? ECONNRESET : 0);
			return;
		}

		if (draining) {
			drain_left_ -= (uint64_t)n;
			continue;
		}
		if (hdr_got_ < VFMED_SOCK_HDR_SIZE) {
			hdr_got_ += (size_t)n;
			if (hdr_got_ < VFMED_SOCK_HDR_SIZE)
				continue;
			uint32_t size = le32(hdr_ + VFMED_SOCK_HDR_SIZE_OFF);
			budget--;
			if (size < VFMED_SOCK_HDR_SIZE || size > max_message_) {
				uint8_t *h = static_cast<uint8_t *>(malloc(VFMED_SOCK_HDR_SIZE));
				if (!h) {
					destroy(ENOMEM);
					return;
				}
				memcpy(h, hdr_, VFMED_SOCK_HDR_SIZE);
				if (size > max_message_)
					drain_left_ = size - VFMED_SOCK_HDR_SIZE;
				deliver(h, VFMED_SOCK_HDR_SIZE,
					size < VFMED_SOCK_HDR_SIZE ? VFMED_SOCK_MSG_BADSIZE
								   : VFMED_SOCK_MSG_OVERSIZE);
				continue;
			}
			msg_ = static_cast<uint8_t *>(malloc(size));
			if (!msg_) {
				destroy(ENOMEM);
				return;
			}
			memcpy(msg_, hdr_, VFMED_SOCK_HDR_SIZE);
			msg_size_ = size;
			msg_got_ = VFMED_SOCK_HDR_SIZE;
		} else {
			msg_got_ += (size_t)n;
		}
		if (msg_got_ == msg_size_)
			deliver(msg_, msg_size_, 0);
	}
}

int VfmedConn::flush_queue()
{
	while (!out_.empty()) {
		OutMsg &m = out_.front();
		ssize_t n = vfmed_sock_send(fd_, m.data.data() + m.off, m.data.size() - m.off,
					    m.fds.data(), m.fds.size());
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return 0;
		if (n < 0)
			return (int)n;
		if (n > 0)
			vfmed_sock_close_fds(&m.fds); /* they travelled with the first byte */
		m.off += (size_t)n;
		queued_bytes_ -= (size_t)n;
		if (m.off == m.data.size())
			out_.pop_front();
	}
	return 0;
}

void VfmedConn::handle_writable()
{
	int rc = flush_queue();
	if (rc < 0) {
		destroy(-rc);
		return;
	}
	if (read_paused_ && queued_bytes_ <= QUEUE_LOW)
		read_paused_ = false;
	if (state_ == State::Ending && out_.empty()) {
		destroy(0);
		return;
	}
	update_poll();
}

int VfmedConn::send(const uint8_t *data, size_t len, const int *fds, size_t nfds)
{
	if (state_ != State::Open && state_ != State::Ending && state_ != State::Idle)
		return -EPIPE;
	if (nfds > VFMED_SOCK_MAX_SEND_FDS)
		return -EINVAL;
	if (len == 0)
		return 0;

	size_t off = 0;
	bool fds_sent = false;
	/* Also before start(): the socket is non-blocking, only waiting needs the poll. */
	if (out_.empty()) {
		ssize_t n = vfmed_sock_send(fd_, data, len, fds, nfds);
		if (n < 0 && n != -EAGAIN && n != -EWOULDBLOCK) {
			/* The peer is gone; the read side will see it too, but do not wait. */
			destroy((int)-n);
			return (int)n;
		}
		if (n > 0) {
			off = (size_t)n;
			fds_sent = true;
		}
		if (off == len)
			return 0;
	}

	OutMsg m;
	m.data.assign(data + off, data + len);
	m.off = 0;
	if (!fds_sent) {
		for (size_t i = 0; i < nfds; i++) {
			int d = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
			if (d < 0) {
				int err = errno;
				vfmed_sock_close_fds(&m.fds);
				return -err;
			}
			m.fds.push_back(d);
		}
	}
	queued_bytes_ += m.data.size();
	out_.push_back(std::move(m));
	if (queued_bytes_ > QUEUE_HIGH)
		read_paused_ = true;
	update_poll();
	return 0;
}

void VfmedConn::end()
{
	if (state_ == State::Idle) {
		destroy(0);
		return;
	}
	if (state_ != State::Open)
		return;
	state_ = State::Ending;
	if (out_.empty()) {
		destroy(0);
		return;
	}
	update_poll();
}

void VfmedConn::destroy(int err)
{
	if (state_ == State::Closing || state_ == State::Closed)
		return;
	close_err_ = err;
	if (poll_inited_)
		uv_poll_stop(&poll_);
	if (fd_ >= 0) {
		close(fd_);
		fd_ = -1;
	}
	free(msg_);
	msg_ = nullptr;
	vfmed_sock_close_fds(&fds_);
	for (auto &m : out_)
		vfmed_sock_close_fds(&m.fds);
	out_.clear();
	queued_bytes_ = 0;
	if (!poll_inited_) {
		state_ = State::Closed;
		if (cb_.on_closed)
			cb_.on_closed(err);
		return;
	}
	state_ = State::Closing;
	uv_close(reinterpret_cast<uv_handle_t *>(&poll_), on_handle_closed);
}

void VfmedConn::on_handle_closed(uv_handle_t *h)
{
	VfmedConn *c = static_cast<VfmedConn *>(h->data);
	c->state_ = State::Closed;
	c->poll_inited_ = false;
	/* Last statement: the owner may drop us from inside the callback's consequences. */
	if (c->cb_.on_closed) {
		auto cb = c->cb_.on_closed;
		cb(c->close_err_);
	}
}

} /* namespace vfmed */
