// SPDX-License-Identifier: MIT
/*
 * uapi-layout.c - what the C compiler makes of pf-driver/linux/vfpf_uapi.h, printed for
 * tests/pf/uapi-layout.test.ts to compare with the koffi declarations of
 * mediator/pf/vfpf-uapi.ts:
 *
 *   struct NAME SIZE ALIGN
 *   field NAME.FIELD OFFSET SIZE
 *   ioctl NAME 0xREQUEST
 *
 * The field list is written by hand (C cannot enumerate members); the test proves it
 * complete by checking that each struct's fields tile [0, sizeof) without a gap, which
 * holds because the header has no implicit padding (kmod-build.test.ts: -Wpadded).
 */
#include <stddef.h>
#include <stdio.h>

#include "vfpf_uapi.h"

#define S(s) printf("struct %s %zu %zu\n", #s, sizeof(struct s), _Alignof(struct s))
#define F(s, f) printf("field %s.%s %zu %zu\n", #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f))
#define I(n) printf("ioctl %s 0x%08lx\n", #n, (unsigned long)VFPF_IOC_##n)

int main(void)
{
	S(vfpf_ioc_info);
	F(vfpf_ioc_info, model_id);
	F(vfpf_ioc_info, abi_major);
	F(vfpf_ioc_info, abi_minor);
	F(vfpf_ioc_info, max_vfs);
	F(vfpf_ioc_info, num_vfs);
	F(vfpf_ioc_info, queues_per_vf);
	F(vfpf_ioc_info, rx_fifo_bytes);
	F(vfpf_ioc_info, state_version);
	F(vfpf_ioc_info, features);

	S(vfpf_ioc_sriov);
	F(vfpf_ioc_sriov, num_vfs);
	F(vfpf_ioc_sriov, pad);

	S(vfpf_ioc_vf);
	F(vfpf_ioc_vf, vf);
	F(vfpf_ioc_vf, pad);

	S(vfpf_ioc_mac);
	F(vfpf_ioc_mac, vf);
	F(vfpf_ioc_mac, mac);
	F(vfpf_ioc_mac, pad);

	S(vfpf_ioc_state_size);
	F(vfpf_ioc_state_size, vf);
	F(vfpf_ioc_state_size, size);

	S(vfpf_ioc_blob);
	F(vfpf_ioc_blob, vf);
	F(vfpf_ioc_blob, len);
	F(vfpf_ioc_blob, buf);

	S(vfpf_ioc_dirty_range);
	F(vfpf_ioc_dirty_range, iova);
	F(vfpf_ioc_dirty_range, length);

	S(vfpf_ioc_dirty_start);
	F(vfpf_ioc_dirty_start, vf);
	F(vfpf_ioc_dirty_start, page_shift);
	F(vfpf_ioc_dirty_start, nr_ranges);
	F(vfpf_ioc_dirty_start, pad);
	F(vfpf_ioc_dirty_start, ranges);

	S(vfpf_ioc_dirty_report);
	F(vfpf_ioc_dirty_report, vf);
	F(vfpf_ioc_dirty_report, pad);
	F(vfpf_ioc_dirty_report, iova);
	F(vfpf_ioc_dirty_report, length);
	F(vfpf_ioc_dirty_report, bitmap);
	F(vfpf_ioc_dirty_report, bitmap_len);

	S(vfpf_ioc_stats);
	F(vfpf_ioc_stats, vf);
	F(vfpf_ioc_stats, pad);
	F(vfpf_ioc_stats, rx_packets);
	F(vfpf_ioc_stats, rx_bytes);
	F(vfpf_ioc_stats, tx_packets);
	F(vfpf_ioc_stats, tx_bytes);
	F(vfpf_ioc_stats, rx_mcast);
	F(vfpf_ioc_stats, rx_lb_packets);
	F(vfpf_ioc_stats, tx_lb_packets);
	F(vfpf_ioc_stats, rx_lb_bytes);
	F(vfpf_ioc_stats, tx_lb_bytes);
	F(vfpf_ioc_stats, rx_fifo_drops);
	F(vfpf_ioc_stats, rx_no_desc);
	F(vfpf_ioc_stats, dma_errors);
	F(vfpf_ioc_stats, tx_errors);
	F(vfpf_ioc_stats, fifo_frames);
	F(vfpf_ioc_stats, fifo_bytes);

	S(vfpf_ioc_vf_config);
	F(vfpf_ioc_vf_config, vf);
	F(vfpf_ioc_vf_config, mac);
	F(vfpf_ioc_vf_config, enable);
	F(vfpf_ioc_vf_config, max_frame);
	F(vfpf_ioc_vf_config, mc_count);
	F(vfpf_ioc_vf_config, vlan_count);
	F(vfpf_ioc_vf_config, promisc);
	F(vfpf_ioc_vf_config, quiesced);
	F(vfpf_ioc_vf_config, pad);

	I(GET_INFO);
	I(SRIOV_ENABLE);
	I(SET_MAC);
	I(VF_QUIESCE);
	I(VF_RESUME);
	I(VF_FLR);
	I(STATE_SIZE);
	I(SAVE);
	I(LOAD);
	I(DIRTY_START);
	I(DIRTY_STOP);
	I(DIRTY_REPORT);
	I(STATS);
	I(VF_CONFIG);

	printf("const STATE_MAX %u\n", VFPF_IOC_STATE_MAX);
	printf("const BITMAP_MAX %u\n", VFPF_IOC_BITMAP_MAX);
	printf("const DIRTY_MAX_RANGES %u\n", VFPF_IOC_DIRTY_MAX_RANGES);
	printf("const MAGIC %u\n", VFPF_IOC_MAGIC);
	return 0;
}
