/**
 * The fields of struct vfpf_vf_stats (pf_regs.h), in C order, for koffi. Shared by the
 * libvfpf declaration (libvfpf-ffi.ts) and the ioctl one (vfpf-uapi.ts, whose
 * vfpf_ioc_stats is these fields after a vf + pad prefix); no imports, so the in-guest
 * Node step can load it without the libvfpf loader.
 */
export const VF_STATS_FIELDS = {
  rx_packets: 'uint64_t',
  rx_bytes: 'uint64_t',
  tx_packets: 'uint64_t',
  tx_bytes: 'uint64_t',
  rx_mcast: 'uint64_t',
  rx_lb_packets: 'uint64_t',
  tx_lb_packets: 'uint64_t',
  rx_lb_bytes: 'uint64_t',
  tx_lb_bytes: 'uint64_t',
  rx_fifo_drops: 'uint64_t',
  rx_no_desc: 'uint64_t',
  dma_errors: 'uint64_t',
  tx_errors: 'uint64_t',
  fifo_frames: 'uint64_t',
  fifo_bytes: 'uint64_t',
} as const;
