// SPDX-License-Identifier: MIT
/*
 * sock-io.cc - recvmsg/sendmsg on a UNIX stream socket with SCM_RIGHTS file descriptors.
 *
 * Stateless helpers used by conn.cc. The rules that keep fds from leaking:
 *  - received fds are close-on-exec from the start (MSG_CMSG_CLOEXEC);
 *  - when the kernel truncates the control data (MSG_CTRUNC) it has already closed the fds
 *    that did not fit; we only record that it happened;
 *  - fds beyond the caller's cap are closed here, never handed on.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "transport.h"

namespace vfmed {

/* Room for VFMED_SOCK_MAX_FDS fds per recvmsg, plus one more so that "exactly the cap" and
 * "more than the cap" can be told apart without MSG_CTRUNC. */
static constexpr size_t RECV_FDS_ROOM = VFMED_SOCK_MAX_FDS + 1;

ssize_t vfmed_sock_recv(int sock, void *buf, size_t len, std::vector<int> *fds,
			size_t fd_cap, bool *truncated)
{
	alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(int) * RECV_FDS_ROOM)];
	struct iovec iov = { buf, len };
	struct msghdr msg;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctrl;
	msg.msg_controllen = sizeof(ctrl);

	do {
		n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	if (msg.msg_flags & MSG_CTRUNC)
		*truncated = true;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue; /* nothing else carries resources on AF_UNIX without SO_PASS* */
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *p = CMSG_DATA(c);
		for (size_t i = 0; i < nfd; i++) {
			int fd;
			memcpy(&fd, p + i * sizeof(int), sizeof(int));
			if (fds->size() < fd_cap) {
				fds->push_back(fd);
			} else {
				close(fd);
				*truncated = true;
			}
		}
	}
	return n;
}

ssize_t vfmed_sock_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	alignas(struct cmsghdr) char ctrl[CMSG_SPACE(sizeof(int) * VFMED_SOCK_MAX_SEND_FDS)];
	struct iovec iov = { const_cast<void *>(buf), len };
	struct msghdr msg;
	ssize_t n;

	if (nfds > VFMED_SOCK_MAX_SEND_FDS)
		return -EINVAL;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		memset(ctrl, 0, sizeof(ctrl));
		msg.msg_control = ctrl;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}

	do {
		n = sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

void vfmed_sock_close_fds(std::vector<int> *fds)
{
	for (int fd : *fds)
		if (fd >= 0)
			close(fd);
	fds->clear();
}

} /* namespace vfmed */
