// SPDX-License-Identifier: MIT
/*
 * sock-listen.cc - creating the per-VF listening socket, accepting and connecting.
 *
 * The socket file must be owner-only (0600) whatever the process umask is, and there must
 * be no moment at which it exists with wider permissions or before listen(): bind() takes
 * the file mode from the umask, and umask() is process-wide (changing it would race with
 * every other thread that creates files). So the socket is born in a private directory:
 *
 *   mkdtemp(<dir>/.vfmed-sock-XXXXXX), chmod 0700     nobody else can reach inside
 *   bind(<tmp>/s); fchmodat(0600); listen()           complete before it becomes visible
 *   linkat(<tmp>/s -> path)                           atomic, never clobbers (EEXIST)
 *   unlink(<tmp>/s); rmdir(<tmp>)
 *
 * The bind goes through /proc/self/fd/<dirfd>/s so the temporary path stays short even
 * when the final path is close to the 108-byte sun_path limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "transport.h"

namespace vfmed {

static int fill_sockaddr(const std::string &path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (path.empty() || path.find('\0') != std::string::npos)
		return -EINVAL;
	if (path.size() >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path.c_str(), path.size());
	return 0;
}

/* Is something listening on the socket file at path? 1 yes, 0 stale, -errno otherwise. */
static int probe_live(const std::string &path)
{
	struct sockaddr_un sa;
	int rc = fill_sockaddr(path, &sa);
	if (rc < 0)
		return rc;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, reinterpret_cast<struct sockaddr *>(&sa), sizeof(sa));
	int err = rc < 0 ? errno : 0;
	close(fd);
	if (rc == 0 || err == EAGAIN || err == EINPROGRESS)
		return 1; /* accepted, or a full backlog: someone is there */
	if (err == ECONNREFUSED)
		return 0;
	return -err;
}

static std::string dir_of(const std::string &path)
{
	size_t slash = path.rfind('/');
	if (slash == std::string::npos)
		return ".";
	if (slash == 0)
		return "/";
	return path.substr(0, slash);
}

int vfmed_sock_listen(const std::string &path, int backlog, vfmed_sock_listen_info *out)
{
	struct sockaddr_un sa;
	struct stat st;
	int rc, fd = -1, dirfd = -1;
	bool stale = false;

	rc = fill_sockaddr(path, &sa);
	if (rc < 0)
		return rc;

	if (lstat(path.c_str(), &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST; /* never remove a file that is not a socket */
		rc = probe_live(path);
		if (rc < 0)
			return rc;
		if (rc == 1)
			return -EADDRINUSE;
		stale = true;
	} else if (errno != ENOENT) {
		return -errno;
	}

	std::string tmpl = dir_of(path) + "/.vfmed-sock-XXXXXX";
	std::vector<char> tmpdir(tmpl.begin(), tmpl.end());
	tmpdir.push_back('\0');
	if (!mkdtemp(tmpdir.data()))
		return -errno;
	/* mkdtemp honours the umask; make the mode exact (chmod does not). */
	if (chmod(tmpdir.data(), 0700) < 0) {
		rc = -errno;
		goto err_rmdir;
	}
	dirfd = open(tmpdir.data(), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		rc = -errno;
		goto err_rmdir;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto err_closedir;
	}
	{
		char via_proc[64];
		struct sockaddr_un tsa;
		snprintf(via_proc, sizeof(via_proc), "/proc/self/fd/%d/s", dirfd);
		rc = fill_sockaddr(via_proc, &tsa);
		if (rc == 0 && bind(fd, reinterpret_cast<struct sockaddr *>(&tsa), sizeof(tsa)) < 0)
			rc = -errno;
		if (rc < 0) {
			/* No /proc: bind by the real temporary path if it fits. */
			std::string direct = std::string(tmpdir.data()) + "/s";
			rc = fill_sockaddr(direct, &tsa);
			if (rc == 0 &&
			    bind(fd, reinterpret_cast<struct sockaddr *>(&tsa), sizeof(tsa)) < 0)
				rc = -errno;
			if (rc < 0)
				goto err_close;
		}
	}
	if (fchmodat(dirfd, "s", 0600, 0) < 0 || fstatat(dirfd, "s", &st, 0) < 0) {
		rc = -errno;
		goto err_unlink;
	}
	if (listen(fd, backlog > 0 ? backlog : 16) < 0) {
		rc = -errno;
		goto err_unlink;
	}

	if (stale && unlink(path.c_str()) < 0 && errno != ENOENT) {
		rc = -errno;
		goto err_unlink;
	}
	if (linkat(dirfd, "s", AT_FDCWD, path.c_str(), 0) < 0) {
		rc = errno == EEXIST ? -EADDRINUSE : -errno; /* lost a race with another server */
		goto err_unlink;
	}

	unlinkat(dirfd, "s", 0);
	close(dirfd);
	rmdir(tmpdir.data());
	out->fd = fd;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	return 0;

err_unlink:
	unlinkat(dirfd, "s", 0);
err_close:
	close(fd);
err_closedir:
	close(dirfd);
err_rmdir:
	rmdir(tmpdir.data());
	return rc;
}

void vfmed_sock_unlink_if_ours(const std::string &path, const vfmed_sock_listen_info &info)
{
	struct stat st;
	if (lstat(path.c_str(), &st) == 0 && st.st_dev == info.dev && st.st_ino == info.ino)
		unlink(path.c_str());
}

int vfmed_sock_accept(int listen_fd)
{
	int fd;
	do {
		fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

int vfmed_sock_connect(const std::string &path)
{
	struct sockaddr_un sa;
	int rc = fill_sockaddr(path, &sa);
	if (rc < 0)
		return rc;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	do {
		rc = connect(fd, reinterpret_cast<struct sockaddr *>(&sa), sizeof(sa));
	} while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

} /* namespace vfmed */
