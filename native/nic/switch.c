/* SPDX-License-Identifier: MIT */
/*
 * switch.c - the NIC's internal L2 switch between the VFs and the uplink (VMDq pools with
 * loopback, as on the 82576).
 *
 * Forwarding:
 *   from a VF   unicast to another VF's MAC filter  -> that VF (loopback);
 *               unicast to an unknown MAC (or the sender's own) -> uplink;
 *               broadcast/multicast -> every OTHER VF whose filters accept it + uplink.
 *   from uplink unicast -> the VF owning the MAC (else dropped, counted on the uplink);
 *               broadcast/multicast -> every accepting VF.
 * A VF accepts a frame when SR-IOV enabled it, VFRE is set, the frame is no longer than its
 * max frame (LPE), the destination matches (own MAC; broadcast always; multicast if the
 * SET_MC 12-bit hash ((d[4] >> 4) | (d[5] << 4)) & 0xFFF is listed, or MC promiscuous) and,
 * for an 802.1Q-tagged frame with VID != 0, the VID is in its VLAN list. Tags are not
 * stripped (VP is never set).
 *
 * FIFO policy:
 *   VF -> VF is lossless: if a destination FIFO lacks room (or the destination is sealed
 *   after VF_SAVE) and the destination is "live" (an RX queue enabled, or quiesced for
 *   migration), the sender stalls: nothing is delivered anywhere and the sender's EOP
 *   descriptor is retried later (802.3x-PAUSE-like; one slow receiver stalls senders to
 *   it). A destination with no RX queue enabled will not drain, so there the frame is
 *   dropped and counted instead of stalling the sender forever.
 *   uplink -> VF is lossy: a full FIFO drops the frame and counts it (VFFIFODROP,
 *   rx_fifo_drops).
 *   VF -> uplink never stalls, except behind a flow-controlled sink (a lossless fabric,
 *   native/wire/fabric.c) that says it is full: then a unicast sender stalls as above.
 * Destinations are drained into their rings synchronously after delivery.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

uint32_t vfmed_vf_max_frame(const struct vfmed_vf *vf)
{
	return vf->max_frame ? vf->max_frame : VFMED_FRAME_MAX;
}

bool vfmed_vf_lossless(const struct vfmed_vf *vf)
{
	return vf->quiesced || vf->sealed || vf->rxq[0].enabled || vf->rxq[1].enabled;
}

void vfmed_vf_count_fifo_drop(struct vfmed_vf *vf)
{
	vfmed_vf_stat_add(vf, VFMED_VFFIFODROP, 1);
	vf->st.rx_fifo_drops++;
}

static bool is_bcast(const uint8_t *d)
{
	return !memcmp(d, "\xff\xff\xff\xff\xff\xff", 6);
}

static bool mc_match(const struct vfmed_vf *vf, const uint8_t *d)
{
	uint16_t h = (uint16_t)(((d[4] >> 4) | (d[5] << 4)) & 0xFFF);
	uint32_t i;

	if (vf->promisc & VFPF_PROMISC_MC)
		return true;
	for (i = 0; i < vf->mc_count; i++)
		if (vf->mc_hash[i] == h)
			return true;
	return false;
}

static bool vlan_ok(const struct vfmed_vf *vf, const uint8_t *f, uint32_t len)
{
	uint16_t vid;
	uint32_t i;

	if (len < 18 || f[12] != 0x81 || f[13] != 0x00)
		return true;
	vid = (uint16_t)(((f[14] << 8) | f[15]) & 0xFFF);
	if (!vid)
		return true;   /* priority tag */
	for (i = 0; i < vf->vlan_count; i++)
		if (vf->vlan[i] == vid)
			return true;
	return false;
}

static bool accepts(const struct vfmed_vf *vf, const uint8_t *f, uint32_t len)
{
	if (!vf->sriov_enabled || !vf->rx_en || len > vfmed_vf_max_frame(vf))
		return false;
	if (!vlan_ok(vf, f, len))
		return false;
	if (is_bcast(f))
		return true;
	if (f[0] & 1)
		return mc_match(vf, f);
	return !memcmp(vf->mac, f, 6);
}

static bool mac_is_zero(const uint8_t *m)
{
	return !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}

/* Destinations among the VFs (excluding src). *uplink tells whether it also goes out. */
static uint32_t targets(struct vfmed_nic *nic, const struct vfmed_vf *src, const uint8_t *f,
                        uint32_t len, struct vfmed_vf **out, bool *uplink)
{
	uint32_t i, n = 0;

	if (f[0] & 1) {
		for (i = 0; i < nic->num_vfs; i++) {
			struct vfmed_vf *vf = &nic->vf[i];

			if (vf != src && accepts(vf, f, len))
				out[n++] = vf;
		}
		*uplink = true;
		return n;
	}
	*uplink = true;
	for (i = 0; i < nic->num_vfs; i++) {
		struct vfmed_vf *vf = &nic->vf[i];

		if (vf == src || !vf->sriov_enabled || mac_is_zero(vf->mac) || memcmp(vf->mac, f, 6))
			continue;
		/* The MAC is a known pool: never flood it to the wire. */
		*uplink = false;
		if (accepts(vf, f, len))
			out[n++] = vf;
		break;
	}
	return n;
}

static bool has_room(const struct vfmed_vf *vf, uint32_t len)
{
	return !vf->sealed && vfmed_fifo_room(&vf->fifo) >= len;
}

int vfmed_switch_from_vf(struct vfmed_nic *nic, struct vfmed_vf *src, const uint8_t *f,
                         uint32_t len)
{
	struct vfmed_vf *t[VFPF_MAX_VFS];
	bool uplink, got[VFPF_MAX_VFS] = { false };
	uint32_t n = targets(nic, src, f, len, t, &uplink), i, delivered = 0;

	for (i = 0; i < n; i++)
		if (!has_room(t[i], len) && vfmed_vf_lossless(t[i]))
			return VFMED_SW_STALL;
	/* A flow-controlled uplink (a lossless fabric) that is full pauses unicast senders. */
	if (uplink && !n && !(f[0] & 1) && nic->uplink.sink && nic->uplink.ready &&
	    !nic->uplink.ready(nic->uplink.sink_ctx, len))
		return VFMED_SW_STALL;
	for (i = 0; i < n; i++) {
		if (has_room(t[i], len) &&
		    !vfmed_fifo_push(&t[i]->fifo, f, len, VFMED_FRAME_F_LB)) {
			got[i] = true;
			delivered++;
		} else {
			vfmed_vf_count_fifo_drop(t[i]);
		}
	}
	if (n) {
		/* Loopback TX counters count the frame once, however many pools got it. */
		src->st.tx_lb_packets++;
		src->st.tx_lb_bytes += len;
		vfmed_vf_stat_add(src, E1000_VFGPTLBC, 1);
		vfmed_vf_stat_add(src, E1000_VFGOTLBC, len + 4);
	}
	if (uplink)
		vfmed_uplink_send(nic, f, len);
	for (i = 0; i < n; i++)
		if (got[i])
			vfmed_vf_rx_process(t[i]);
	(void)delivered;
	return 0;
}

/* Pushes an uplink frame into the FIFOs of its n target VFs (lossy: a full FIFO drops and
 * counts). 0 if at least one took it, -ENOSPC if none did. */
static int uplink_deliver(const uint8_t *f, uint32_t len, struct vfmed_vf *const *t, uint32_t n)
{
	uint32_t i, delivered = 0;

	for (i = 0; i < n; i++) {
		if (has_room(t[i], len) && !vfmed_fifo_push(&t[i]->fifo, f, len, 0)) {
			delivered++;
			vfmed_vf_rx_process(t[i]);
		} else {
			vfmed_vf_count_fifo_drop(t[i]);
		}
	}
	return delivered ? 0 : -ENOSPC;
}

int vfmed_switch_from_uplink(struct vfmed_nic *nic, const uint8_t *f, uint32_t len)
{
	struct vfmed_vf *t[VFPF_MAX_VFS];
	bool uplink;
	uint32_t n = targets(nic, NULL, f, len, t, &uplink);

	if (!n) {
		nic->uplink.rx_drops++;   /* nobody wants it: filtered, like any NIC */
		return 0;
	}
	return uplink_deliver(f, len, t, n);
}

/*
 * A frame from a lossless fabric (native/wire/fabric.c): delivered only if every VF that
 * would receive it can take it now, else nothing happens and the fabric keeps the frame.
 *   0        delivered (to at least one VF)
 *   -EAGAIN  the unicast owner exists but is sealed, quiesced or out of FIFO room
 *   -ENOENT  no VF of this NIC wants it (unicast: nobody owns the MAC)
 * Broadcast/multicast frames are delivered where there is room (lossy, like inject).
 */
int vfmed_switch_offer_from_uplink(struct vfmed_nic *nic, const uint8_t *f, uint32_t len)
{
	struct vfmed_vf *t[VFPF_MAX_VFS];
	bool uplink;
	uint32_t n = targets(nic, NULL, f, len, t, &uplink);

	if (!n)
		return -ENOENT;
	if (!(f[0] & 1) && (t[0]->quiesced || !has_room(t[0], len)))
		return -EAGAIN;
	nic->uplink.rx_frames++;
	return uplink_deliver(f, len, t, n) == 0 ? 0 : -EAGAIN;
}
