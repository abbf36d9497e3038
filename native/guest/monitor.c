/* SPDX-License-Identifier: MIT */
/*
 * monitor.c - the monitor socket transport (see monitor.h).
 */
#define _GNU_SOURCE
#include "monitor.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define OUT_CAP (256u * 1024u)

struct mon_client {
	int fd;                       /* -1: free slot */
	char *in;                     /* VFMED_MON_LINE_MAX + 1 */
	size_t in_len;
	char *out;                    /* OUT_CAP */
	size_t out_len;
	int closing;                  /* close once out is sent */
};

struct vfmed_monitor {
	int lfd;
	char path[108];
	vfmed_mon_handler fn;
	void *ctx;
	struct mon_client c[VFMED_MON_MAX_CLIENTS];
};

int vfmed_monitor_open(struct vfmed_monitor **out, const char *path, vfmed_mon_handler fn, void *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vfmed_monitor *m;
	struct stat st;
	int rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (unsigned i = 0; i < VFMED_MON_MAX_CLIENTS; i++)
		m->c[i].fd = -1;
	strcpy(sa.sun_path, path);
	strcpy(m->path, path);
	m->fn = fn;
	m->ctx = ctx;
	/* A stale socket of an earlier runner is replaced; any other file is not. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			free(m);
			return -EEXIST;
		}
		unlink(path);
	}
	m->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (m->lfd < 0) {
		rc = -errno;
		free(m);
		return rc;
	}
	/* 0600 from the start: no window in which another user could connect. */
	mode_t old = umask(0177);
	rc = bind(m->lfd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old);
	if (!rc && chmod(path, 0600))
		rc = -errno;
	if (!rc && listen(m->lfd, 8))
		rc = -errno;
	if (rc) {
		close(m->lfd);
		free(m);
		return rc;
	}
	*out = m;
	return 0;
}

static void drop(struct mon_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void vfmed_monitor_close(struct vfmed_monitor *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < VFMED_MON_MAX_CLIENTS; i++)
		drop(&m->c[i]);
	close(m->lfd);
	unlink(m->path);
	free(m);
}

unsigned vfmed_monitor_clients(const struct vfmed_monitor *m)
{
	unsigned n = 0;

	for (unsigned i = 0; m && i < VFMED_MON_MAX_CLIENTS; i++)
		n += m->c[i].fd >= 0;
	return n;
}

static void flush(struct mon_client *c)
{
	while (c->out_len) {
		ssize_t w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				drop(c);
			return;
		}
		memmove(c->out, c->out + w, c->out_len - (size_t)w);
		c->out_len -= (size_t)w;
	}
	if (c->closing)
		drop(c);
}

/* Queues line + '\n'; a client that let its buffer overflow is dropped. */
static void queue(struct mon_client *c, const char *line)
{
	size_t n = strlen(line);

	if (c->fd < 0)
		return;
	if (c->out_len + n + 1 > OUT_CAP) {
		drop(c);
		return;
	}
	memcpy(c->out + c->out_len, line, n);
	c->out[c->out_len + n] = '\n';
	c->out_len += n + 1;
	flush(c);
}

static void error_and_close(struct mon_client *c, const char *why)
{
	char buf[512];
	struct vfmed_jout j;

	vfmed_jo_init(&j, buf, sizeof(buf));
	vfmed_jo_open(&j, NULL);
	vfmed_jo_str(&j, "error", why);
	vfmed_jo_close(&j);
	c->closing = 1;
	queue(c, buf);
}

static void handle_line(struct vfmed_monitor *m, struct mon_client *c, const char *line, size_t len)
{
	static struct vfmed_jreq req;    /* large; one request at a time (single thread) */
	static char buf[16384];
	const struct vfmed_jmember *id, *cmd;
	const char *why = NULL;
	struct vfmed_jout j;

	if (vfmed_jreq_parse(line, len, &req, &why)) {
		char msg[128];
		snprintf(msg, sizeof(msg), "invalid request: %s", why);
		error_and_close(c, msg);
		return;
	}
	id = vfmed_jreq_get(&req, "id");
	cmd = vfmed_jreq_get(&req, "cmd");
	vfmed_jo_init(&j, buf, sizeof(buf));
	vfmed_jo_open(&j, NULL);
	if (id && id->type == VFMED_JV_NUMBER)
		vfmed_jo_num(&j, "id", id->num);
	if (!cmd || cmd->type != VFMED_JV_STRING) {
		vfmed_jo_bool(&j, "ok", 0);
		vfmed_jo_str(&j, "error", "missing \"cmd\" (a string)");
	} else {
		m->fn(m->ctx, cmd->str, &req, &j);
	}
	vfmed_jo_close(&j);
	queue(c, buf);
}

static void read_client(struct vfmed_monitor *m, struct mon_client *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, VFMED_MON_LINE_MAX + 1 - c->in_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				drop(c);
			return;
		}
		if (n == 0) {
			drop(c);
			return;
		}
		c->in_len += (size_t)n;
		for (;;) {
			char *nl = memchr(c->in, '\n', c->in_len);
			size_t len;
			if (!nl)
				break;
			len = (size_t)(nl - c->in);
			if (len > VFMED_MON_LINE_MAX) {
				error_and_close(c, "line longer than 64 KiB");
				return;
			}
			handle_line(m, c, c->in, len);
			if (c->fd < 0 || c->closing)
				return;
			memmove(c->in, nl + 1, c->in_len - len - 1);
			c->in_len -= len + 1;
		}
		if (c->in_len > VFMED_MON_LINE_MAX) {
			error_and_close(c, "line longer than 64 KiB");
			return;
		}
	}
}

void vfmed_monitor_service(struct vfmed_monitor *m)
{
	if (!m)
		return;
	for (;;) {
		int fd = accept4(m->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		unsigned i;
		if (fd < 0)
			break;
		for (i = 0; i < VFMED_MON_MAX_CLIENTS && m->c[i].fd >= 0; i++)
			;
		if (i == VFMED_MON_MAX_CLIENTS) {
			static const char full[] = "{\"error\":\"too many monitor clients\"}\n";
			send(fd, full, sizeof(full) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		m->c[i].in = malloc(VFMED_MON_LINE_MAX + 1);
		m->c[i].out = malloc(OUT_CAP);
		m->c[i].fd = fd;
		if (!m->c[i].in || !m->c[i].out)
			drop(&m->c[i]);
	}
	for (unsigned i = 0; i < VFMED_MON_MAX_CLIENTS; i++) {
		struct mon_client *c = &m->c[i];
		if (c->fd < 0)
			continue;
		if (c->out_len)
			flush(c);
		if (c->fd >= 0 && !c->closing)
			read_client(m, c);
	}
}

void vfmed_monitor_broadcast(struct vfmed_monitor *m, const char *json)
{
	for (unsigned i = 0; m && i < VFMED_MON_MAX_CLIENTS; i++)
		if (m->c[i].fd >= 0 && !m->c[i].closing)
			queue(&m->c[i], json);
}
