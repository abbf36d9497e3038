/* SPDX-License-Identifier: MIT */
/*
 * tap.c - opening a Linux TAP interface for the uplink's TAP backend: /dev/net/tun with
 * IFF_TAP | IFF_NO_PI (whole Ethernet frames, no packet-information prefix), non-blocking
 * and close-on-exec, then IFF_UP so the host stack can use it as soon as it has an
 * address. The interface is not persistent: it disappears when the last fd closes, so a
 * daemon that dies leaves nothing behind. Needs CAP_NET_ADMIN (-EPERM otherwise).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"

static int set_up(const char *ifname)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = 0;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		rc = -errno;
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			rc = -errno;
	}
	close(s);
	return rc;
}

int vfmed_tap_open(const char *name, char ifname[16], int *fd_out)
{
	struct ifreq ifr;
	int fd, rc;

	if (!ifname || !fd_out)
		return -EINVAL;
	if (name && strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (name)
		strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
	ifname[IFNAMSIZ - 1] = 0;
	rc = set_up(ifname);
	if (rc) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}
