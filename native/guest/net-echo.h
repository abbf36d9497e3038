/* SPDX-License-Identifier: MIT */
/*
 * net-echo.h - the minimal host stack of the "echo" workload: answers ARP requests for
 * its IPv4 address and ICMP echo requests sent to it, so that a real `ping` (through the
 * TAP backend of the emulated uplink) can talk to the VF. Pure functions on byte buffers.
 */
#ifndef VFMED_GUEST_NET_ECHO_H
#define VFMED_GUEST_NET_ECHO_H

#include <stdint.h>

enum vfmed_echo_kind {
	VFMED_ECHO_NONE = 0,  /* not for us, or malformed: no reply */
	VFMED_ECHO_ARP = 1,
	VFMED_ECHO_ICMP = 2,
};

/*
 * Builds the reply to frame[0..len) into out (capacity cap, >= 60) when the frame is an
 * ARP request for ip or a valid ICMP echo request to mac/ip. ip is in network byte order.
 * Returns the kind and sets *out_len (padded to 60 bytes).
 */
enum vfmed_echo_kind vfmed_echo_reply(const uint8_t *frame, uint16_t len, const uint8_t mac[6],
				      uint32_t ip, uint8_t *out, uint16_t cap, uint16_t *out_len);

/* Internet checksum (RFC 1071) of buf[0..len). */
uint16_t vfmed_inet_csum(const uint8_t *buf, uint32_t len);

#endif /* VFMED_GUEST_NET_ECHO_H */
