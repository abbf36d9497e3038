/* SPDX-License-Identifier: MIT */
/*
 * json-caps.h - parser for the JSON capability object of a vfio-user VERSION message:
 *
 *   {"capabilities":{"max_msg_fds":8,"max_data_xfer_size":1048576,"max_dma_maps":65535,
 *                    "pgsizes":4096,"migration":{"pgsize":4096},
 *                    "twin_socket":{"supported":false},"write_multiple":false}}
 *
 * The whole text is validated as JSON (RFC 8259 grammar, nesting limited to 32); unknown
 * members are ignored, as the specification allows; a known member of the wrong type is
 * an error. No allocation.
 */
#ifndef VFMED_GUEST_JSON_CAPS_H
#define VFMED_GUEST_JSON_CAPS_H

#include <stddef.h>
#include <stdint.h>

struct vfu_caps {
	int has_max_msg_fds;         uint64_t max_msg_fds;
	int has_max_data_xfer_size;  uint64_t max_data_xfer_size;
	int has_max_dma_maps;        uint64_t max_dma_maps;
	int has_pgsizes;             uint64_t pgsizes;
	int has_mig_pgsize;          uint64_t mig_pgsize;
	int twin_socket_supported;   /* twin_socket.supported == true */
	int has_twin_fd_index;       uint64_t twin_fd_index;
	int write_multiple;          /* write_multiple == true */
};

/*
 * Parses text[0..len) (no NUL needed inside the range). Returns 0, or -EINVAL with
 * *err (may be NULL) pointing to a static description of the first problem.
 */
int vfmed_json_parse_caps(const char *text, size_t len, struct vfu_caps *out, const char **err);

#endif /* VFMED_GUEST_JSON_CAPS_H */
