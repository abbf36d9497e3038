/* SPDX-License-Identifier: MIT */
/*
 * wire-port.c - struct vfmed_wire, the uplink port's backends (see wire.h for the picture
 * and the lock order): the uplink sink that tees egress frames to a pcap capture and a TAP
 * interface, and the thread that reads the TAP and injects what the host sends.
 *
 * Egress never blocks the switch: the TAP fd is non-blocking and a full TAP queue drops
 * the frame (counted), like a wire with nothing listening; the capture buffers in memory
 * and writes 64 KiB at a time.
 * Ingress from the TAP is padded to 60 bytes: the host stack hands the TAP unpadded
 * frames (an ARP request is 42 bytes), while on a real wire the sending MAC pads every
 * frame to the 64-byte minimum, so a VF never receives a runt.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../nic/internal.h"
#include "wire.h"

#define WIRE_MIN_FRAME 60u

struct vfmed_wire {
	struct vfmed_nic *nic;
	pthread_mutex_t lock;   /* protects everything below */
	struct vfmed_wire_stats st;
	struct vfmed_pcap_writer *cap;
	int tap_fd;             /* our dup, -1 = none */
	int tap_stop_fd;        /* eventfd that ends the reader thread */
	pthread_t tap_thread;
	bool tap_thread_running;
};

/* The uplink sink: NIC lock held (wire.h: order NIC -> wire). */
static void wire_sink(void *ctx, const void *frame, uint32_t len)
{
	struct vfmed_wire *w = ctx;
	bool claimed = false;

	pthread_mutex_lock(&w->lock);
	w->st.egress_frames++;
	w->st.egress_bytes += len;
	if (w->cap) {
		int rc = vfmed_pcap_writer_add(w->cap, frame, len);

		claimed = true;
		if (rc < 0) {
			w->st.cap_error = rc;   /* sticky in the writer: capture stopped */
		} else {
			w->st.cap_frames++;
			w->st.cap_bytes += len;
			w->st.cap_truncated += (uint64_t)rc;
		}
	}
	if (w->tap_fd >= 0) {
		ssize_t n = write(w->tap_fd, frame, len);

		claimed = true;
		if (n == (ssize_t)len) {
			w->st.tap_tx_frames++;
			w->st.tap_tx_bytes += len;
		} else {
			w->st.tap_tx_drops++;
			if (n < 0 && errno != EAGAIN)
				w->st.tap_error = -errno;
		}
	}
	if (!claimed)
		w->st.unclaimed++;
	pthread_mutex_unlock(&w->lock);
}

int vfmed_wire_create(struct vfmed_nic *nic, struct vfmed_wire **out)
{
	struct vfmed_wire *w;
	int rc;

	if (!nic || !out)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->nic = nic;
	w->tap_fd = -1;
	w->tap_stop_fd = -1;
	pthread_mutex_init(&w->lock, NULL);
	rc = vfmed_uplink_set_sink(nic, wire_sink, w);
	if (rc) {
		pthread_mutex_destroy(&w->lock);
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void vfmed_wire_destroy(struct vfmed_wire *w)
{
	if (!w)
		return;
	/* Under the NIC lock: once this returns no sink call is running or will run. Only
	 * remove the sink if it is still ours. */
	vfmed_nic_lock(w->nic);
	if (w->nic->uplink.sink == wire_sink && w->nic->uplink.sink_ctx == w) {
		w->nic->uplink.sink = NULL;
		w->nic->uplink.sink_ctx = NULL;
	}
	vfmed_nic_unlock(w->nic);
	vfmed_wire_tap_detach(w);
	vfmed_wire_capture_stop(w);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* ---- capture ------------------------------------------------------------------------ */

int vfmed_wire_capture_start(struct vfmed_wire *w, const char *path, uint32_t snaplen)
{
	struct vfmed_pcap_writer *pw;
	int rc;

	if (!w || !path)
		return -EINVAL;
	pthread_mutex_lock(&w->lock);
	if (w->cap) {
		pthread_mutex_unlock(&w->lock);
		return -EBUSY;
	}
	pthread_mutex_unlock(&w->lock);
	/* Open (file system work) outside the lock, so the sink is never held up by it. */
	rc = vfmed_pcap_writer_open(path, snaplen, &pw);
	if (rc)
		return rc;
	pthread_mutex_lock(&w->lock);
	if (w->cap) {   /* raced with another start */
		pthread_mutex_unlock(&w->lock);
		vfmed_pcap_writer_close(pw);
		return -EBUSY;
	}
	w->cap = pw;
	w->st.cap_active = 1;
	w->st.cap_snaplen = snaplen ? snaplen : 65535;
	w->st.cap_error = 0;
	w->st.cap_frames = w->st.cap_bytes = w->st.cap_truncated = 0;
	pthread_mutex_unlock(&w->lock);
	return 0;
}

int vfmed_wire_capture_flush(struct vfmed_wire *w)
{
	int rc;

	if (!w)
		return -EINVAL;
	pthread_mutex_lock(&w->lock);
	rc = w->cap ? vfmed_pcap_writer_flush(w->cap) : -ENOENT;
	if (rc < 0 && rc != -ENOENT)
		w->st.cap_error = rc;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

int vfmed_wire_capture_stop(struct vfmed_wire *w)
{
	struct vfmed_pcap_writer *pw;
	int rc;

	if (!w)
		return -EINVAL;
	pthread_mutex_lock(&w->lock);
	pw = w->cap;
	w->cap = NULL;
	w->st.cap_active = 0;
	pthread_mutex_unlock(&w->lock);
	if (!pw)
		return -ENOENT;
	rc = vfmed_pcap_writer_close(pw);
	if (rc) {
		pthread_mutex_lock(&w->lock);
		w->st.cap_error = rc;
		pthread_mutex_unlock(&w->lock);
	}
	return rc;
}

/* ---- TAP ---------------------------------------------------------------------------- */

static void *tap_reader(void *arg)
{
	struct vfmed_wire *w = arg;
	uint8_t *buf = malloc(65536);
	int fd, stop;

	if (!buf)
		return NULL;
	pthread_mutex_lock(&w->lock);
	fd = w->tap_fd;
	stop = w->tap_stop_fd;
	pthread_mutex_unlock(&w->lock);
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = stop, .events = POLLIN } };
		ssize_t n;
		int rc;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			pthread_mutex_lock(&w->lock);
			w->st.tap_error = -EIO;
			pthread_mutex_unlock(&w->lock);
			break;
		}
		n = read(fd, buf, 65536);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			pthread_mutex_lock(&w->lock);
			w->st.tap_error = -errno;
			pthread_mutex_unlock(&w->lock);
			break;
		}
		if (n < (ssize_t)VFMED_FRAME_MIN || n > (ssize_t)VFMED_FRAME_MAX) {
			pthread_mutex_lock(&w->lock);
			w->st.tap_rx_bad++;
			pthread_mutex_unlock(&w->lock);
			continue;
		}
		if (n < (ssize_t)WIRE_MIN_FRAME) {
			memset(buf + n, 0, WIRE_MIN_FRAME - (size_t)n);
			n = WIRE_MIN_FRAME;
		}
		rc = vfmed_uplink_inject(w->nic, buf, (uint32_t)n);
		pthread_mutex_lock(&w->lock);
		if (rc == 0) {
			w->st.tap_rx_frames++;
			w->st.tap_rx_bytes += (uint64_t)n;
		} else if (rc == -ENOSPC) {
			w->st.tap_rx_drops++;
		} else {
			w->st.tap_rx_bad++;
		}
		pthread_mutex_unlock(&w->lock);
	}
	free(buf);
	return NULL;
}

int vfmed_wire_tap_attach(struct vfmed_wire *w, int fd)
{
	int dupfd, stopfd, rc;

	if (!w || fd < 0)
		return -EINVAL;
	pthread_mutex_lock(&w->lock);
	rc = w->tap_fd >= 0 ? -EBUSY : 0;
	pthread_mutex_unlock(&w->lock);
	if (rc)
		return rc;
	dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dupfd < 0)
		return -errno;
	if (fcntl(dupfd, F_SETFL, fcntl(dupfd, F_GETFL) | O_NONBLOCK) < 0) {
		rc = -errno;
		close(dupfd);
		return rc;
	}
	stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (stopfd < 0) {
		rc = -errno;
		close(dupfd);
		return rc;
	}
	pthread_mutex_lock(&w->lock);
	if (w->tap_fd >= 0) {
		pthread_mutex_unlock(&w->lock);
		close(dupfd);
		close(stopfd);
		return -EBUSY;
	}
	w->tap_fd = dupfd;
	w->tap_stop_fd = stopfd;
	w->st.tap_active = 1;
	w->st.tap_error = 0;
	w->st.tap_tx_frames = w->st.tap_tx_bytes = w->st.tap_tx_drops = 0;
	w->st.tap_rx_frames = w->st.tap_rx_bytes = w->st.tap_rx_drops = w->st.tap_rx_bad = 0;
	rc = -pthread_create(&w->tap_thread, NULL, tap_reader, w);
	if (rc) {
		w->tap_fd = -1;
		w->tap_stop_fd = -1;
		w->st.tap_active = 0;
		pthread_mutex_unlock(&w->lock);
		close(dupfd);
		close(stopfd);
		return rc;
	}
	w->tap_thread_running = true;
	pthread_mutex_unlock(&w->lock);
	return 0;
}

int vfmed_wire_tap_detach(struct vfmed_wire *w)
{
	int fd, stopfd;
	bool running;

	if (!w)
		return -EINVAL;
	pthread_mutex_lock(&w->lock);
	fd = w->tap_fd;
	stopfd = w->tap_stop_fd;
	running = w->tap_thread_running;
	w->tap_fd = -1;            /* the sink stops writing from here on */
	w->tap_stop_fd = -1;
	w->tap_thread_running = false;
	w->st.tap_active = 0;
	pthread_mutex_unlock(&w->lock);
	if (fd < 0)
		return -ENOENT;
	if (running) {
		uint64_t one = 1;

		if (write(stopfd, &one, sizeof(one)) < 0) {
			/* cannot fail for a fresh eventfd; the join below would then hang, so
			 * cancel instead */
			pthread_cancel(w->tap_thread);
		}
		pthread_join(w->tap_thread, NULL);
	}
	close(stopfd);
	close(fd);
	return 0;
}

int vfmed_wire_get_stats(struct vfmed_wire *w, struct vfmed_wire_stats *st)
{
	struct vfmed_uplink *u;

	if (!w || !st)
		return -EINVAL;
	vfmed_nic_lock(w->nic);   /* order NIC -> wire */
	pthread_mutex_lock(&w->lock);
	*st = w->st;
	u = &w->nic->uplink;
	st->up_tx_frames = u->tx_frames;
	st->up_tx_drops = u->drops;
	st->up_rx_frames = u->rx_frames;
	st->up_rx_filtered = u->rx_drops;
	st->up_queued = u->count;
	pthread_mutex_unlock(&w->lock);
	vfmed_nic_unlock(w->nic);
	return 0;
}
