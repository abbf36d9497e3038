/* SPDX-License-Identifier: MIT */
/*
 * net-echo.c - ARP and ICMP echo responder (see net-echo.h). Every length and checksum
 * of the request is validated before a reply is built; anything else is ignored.
 *
 *   ARP (28 B after Ethernet): htype 1, ptype 0x0800, hlen 6, plen 4, oper, sha, spa, tha, tpa
 *   IPv4: ver/ihl, tos, total length, id, flags/frag, ttl, proto 1, csum, src, dst
 *   ICMP: type 8 (request) -> 0 (reply), code 0, csum over the whole ICMP message
 */
#include "net-echo.h"

#include <string.h>

#define ETH_HLEN 14
#define ETH_P_ARP 0x0806
#define ETH_P_IP  0x0800

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

uint16_t vfmed_inet_csum(const uint8_t *buf, uint32_t len)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
	if (len & 1)
		sum += (uint32_t)buf[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t pad60(uint8_t *out, uint16_t n)
{
	if (n < 60) {
		memset(out + n, 0, 60u - n);
		n = 60;
	}
	return n;
}

static enum vfmed_echo_kind arp(const uint8_t *f, uint16_t len, const uint8_t mac[6], uint32_t ip,
				uint8_t *out, uint16_t *out_len)
{
	const uint8_t *a = f + ETH_HLEN;
	uint8_t *r = out + ETH_HLEN;

	if (len < ETH_HLEN + 28 || be16(a) != 1 || be16(a + 2) != ETH_P_IP || a[4] != 6 ||
	    a[5] != 4 || be16(a + 6) != 1 /* request */ || memcmp(a + 24, &ip, 4) != 0)
		return VFMED_ECHO_NONE;
	if (a[8] & 1)  /* sender hardware address must be unicast */
		return VFMED_ECHO_NONE;
	memcpy(out, a + 8, 6);          /* to the requester */
	memcpy(out + 6, mac, 6);
	put_be16(out + 12, ETH_P_ARP);
	put_be16(r, 1);
	put_be16(r + 2, ETH_P_IP);
	r[4] = 6;
	r[5] = 4;
	put_be16(r + 6, 2);             /* reply */
	memcpy(r + 8, mac, 6);          /* sha: us */
	memcpy(r + 14, &ip, 4);         /* spa: our IP */
	memcpy(r + 18, a + 8, 6);       /* tha: requester */
	memcpy(r + 24, a + 14, 4);      /* tpa: requester's IP */
	*out_len = pad60(out, ETH_HLEN + 28);
	return VFMED_ECHO_ARP;
}

static enum vfmed_echo_kind icmp(const uint8_t *f, uint16_t len, const uint8_t mac[6], uint32_t ip,
				 uint8_t *out, uint16_t cap, uint16_t *out_len)
{
	const uint8_t *h = f + ETH_HLEN;
	unsigned ihl, total;
	uint8_t *rh, *ic;

	if (memcmp(f, mac, 6) != 0 || len < ETH_HLEN + 20)
		return VFMED_ECHO_NONE;
	ihl = (h[0] & 15u) * 4;
	total = be16(h + 2);
	if ((h[0] >> 4) != 4 || ihl < 20 || total < ihl + 8 || ETH_HLEN + total > len ||
	    ETH_HLEN + total > cap || h[9] != 1 /* ICMP */ || memcmp(h + 16, &ip, 4) != 0 ||
	    (be16(h + 6) & 0x3FFF) /* MF or offset: fragment */ ||
	    vfmed_inet_csum(h, ihl) != 0)
		return VFMED_ECHO_NONE;
	if (h[ihl] != 8 || h[ihl + 1] != 0 || vfmed_inet_csum(h + ihl, total - ihl) != 0)
		return VFMED_ECHO_NONE;
	if (h[12] == 0xFF || (h[12] & 0xF0) == 0xE0)  /* broadcast/multicast source */
		return VFMED_ECHO_NONE;

	memcpy(out, f + 6, 6);
	memcpy(out + 6, mac, 6);
	put_be16(out + 12, ETH_P_IP);
	rh = out + ETH_HLEN;
	memcpy(rh, h, total);
	memcpy(rh + 12, h + 16, 4);     /* src = us */
	memcpy(rh + 16, h + 12, 4);     /* dst = requester */
	rh[8] = 64;                     /* TTL */
	put_be16(rh + 10, 0);
	put_be16(rh + 10, vfmed_inet_csum(rh, ihl));
	ic = rh + ihl;
	ic[0] = 0;                      /* echo reply */
	put_be16(ic + 2, 0);
	put_be16(ic + 2, vfmed_inet_csum(ic, total - ihl));
	*out_len = pad60(out, (uint16_t)(ETH_HLEN + total));
	return VFMED_ECHO_ICMP;
}

enum vfmed_echo_kind vfmed_echo_reply(const uint8_t *frame, uint16_t len, const uint8_t mac[6],
				      uint32_t ip, uint8_t *out, uint16_t cap, uint16_t *out_len)
{
	if (len < ETH_HLEN || cap < 60)
		return VFMED_ECHO_NONE;
	switch (be16(frame + 12)) {
	case ETH_P_ARP:
		return arp(frame, len, mac, ip, out, out_len);
	case ETH_P_IP:
		return icmp(frame, len, mac, ip, out, cap, out_len);
	default:
		return VFMED_ECHO_NONE;
	}
}
