// SPDX-License-Identifier: MIT
/*
 * vfpf_abi.c - the layout table behind vfpf_abi_layout(): sizeof and offsetof of every
 * struct that crosses the koffi boundary, as this compiler laid them out. The binding's
 * layout test compares its koffi declarations with it field by field.
 */
#include "libvfpf.h"

#define VFPF_ABI_STRUCT(t) { #t, "", 0, sizeof(struct t) }
#define VFPF_ABI_FIELD(t, f) \
	{ #t, #f, __builtin_offsetof(struct t, f), sizeof(((struct t *)0)->f) }

static const struct vfpf_abi_field vfpf_abi_table[] = {
	VFPF_ABI_STRUCT(vfpf_dev_info),
	VFPF_ABI_FIELD(vfpf_dev_info, model_id),
	VFPF_ABI_FIELD(vfpf_dev_info, abi_major),
	VFPF_ABI_FIELD(vfpf_dev_info, abi_minor),
	VFPF_ABI_FIELD(vfpf_dev_info, max_vfs),
	VFPF_ABI_FIELD(vfpf_dev_info, num_vfs),
	VFPF_ABI_FIELD(vfpf_dev_info, queues_per_vf),
	VFPF_ABI_FIELD(vfpf_dev_info, rx_fifo_bytes),
	VFPF_ABI_FIELD(vfpf_dev_info, state_version),
	VFPF_ABI_FIELD(vfpf_dev_info, features),

	VFPF_ABI_STRUCT(vfpf_vf_config),
	VFPF_ABI_FIELD(vfpf_vf_config, mac),
	VFPF_ABI_FIELD(vfpf_vf_config, enable),
	VFPF_ABI_FIELD(vfpf_vf_config, max_frame),
	VFPF_ABI_FIELD(vfpf_vf_config, mc_count),
	VFPF_ABI_FIELD(vfpf_vf_config, vlan_count),
	VFPF_ABI_FIELD(vfpf_vf_config, promisc),
	VFPF_ABI_FIELD(vfpf_vf_config, quiesced),
	VFPF_ABI_FIELD(vfpf_vf_config, reserved),

	VFPF_ABI_STRUCT(vfpf_vf_stats),
	VFPF_ABI_FIELD(vfpf_vf_stats, rx_packets),
	VFPF_ABI_FIELD(vfpf_vf_stats, rx_bytes),
	VFPF_ABI_FIELD(vfpf_vf_stats, tx_packets),
	VFPF_ABI_FIELD(vfpf_vf_stats, tx_bytes),
	VFPF_ABI_FIELD(vfpf_vf_stats, rx_mcast),
	VFPF_ABI_FIELD(vfpf_vf_stats, rx_lb_packets),
	VFPF_ABI_FIELD(vfpf_vf_stats, tx_lb_packets),
	VFPF_ABI_FIELD(vfpf_vf_stats, rx_lb_bytes),
	VFPF_ABI_FIELD(vfpf_vf_stats, tx_lb_bytes),
	VFPF_ABI_FIELD(vfpf_vf_stats, rx_fifo_drops),
	VFPF_ABI_FIELD(vfpf_vf_stats, rx_no_desc),
	VFPF_ABI_FIELD(vfpf_vf_stats, dma_errors),
	VFPF_ABI_FIELD(vfpf_vf_stats, tx_errors),
	VFPF_ABI_FIELD(vfpf_vf_stats, fifo_frames),
	VFPF_ABI_FIELD(vfpf_vf_stats, fifo_bytes),

	VFPF_ABI_STRUCT(vfpf_dirty_range),
	VFPF_ABI_FIELD(vfpf_dirty_range, iova),
	VFPF_ABI_FIELD(vfpf_dirty_range, length),

	VFPF_ABI_STRUCT(vfpf_vf_status),
	VFPF_ABI_FIELD(vfpf_vf_status, mac),
	VFPF_ABI_FIELD(vfpf_vf_status, perm_mac),
	VFPF_ABI_FIELD(vfpf_vf_status, flags),
	VFPF_ABI_FIELD(vfpf_vf_status, mc_count),
	VFPF_ABI_FIELD(vfpf_vf_status, vlan_count),
	VFPF_ABI_FIELD(vfpf_vf_status, max_frame),
	VFPF_ABI_FIELD(vfpf_vf_status, promisc),
	VFPF_ABI_FIELD(vfpf_vf_status, msgs),
	VFPF_ABI_FIELD(vfpf_vf_status, vf_acks),
	VFPF_ABI_FIELD(vfpf_vf_status, nacks),
	VFPF_ABI_FIELD(vfpf_vf_status, resets),
	VFPF_ABI_FIELD(vfpf_vf_status, stale),
	VFPF_ABI_FIELD(vfpf_vf_status, errors),
	VFPF_ABI_FIELD(vfpf_vf_status, mc_hashes),
	VFPF_ABI_FIELD(vfpf_vf_status, reserved),

	VFPF_ABI_STRUCT(vfpf_abi_field),
	VFPF_ABI_FIELD(vfpf_abi_field, type),
	VFPF_ABI_FIELD(vfpf_abi_field, field),
	VFPF_ABI_FIELD(vfpf_abi_field, offset),
	VFPF_ABI_FIELD(vfpf_abi_field, size),
};

int vfpf_abi_layout(uint32_t idx, struct vfpf_abi_field *out)
{
	if (!out)
		return -EINVAL;
	if (idx >= sizeof(vfpf_abi_table) / sizeof(vfpf_abi_table[0]))
		return -ENOENT;
	*out = vfpf_abi_table[idx];
	return 0;
}
