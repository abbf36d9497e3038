/* SPDX-License-Identifier: GPL-2.0 */
/*
 * stdint.h shim for the kernel build only: native/include/vfmed/vf_regs.h (shared with
 * userspace) includes <stdint.h> unconditionally, which a -nostdinc kernel build lacks.
 * <linux/types.h> provides the same fixed-width names (uint8_t .. uint64_t).
 */
#ifndef VFPF_STDINT_SHIM_H
#define VFPF_STDINT_SHIM_H
#include <linux/types.h>
#endif
