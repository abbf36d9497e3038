/* SPDX-License-Identifier: MIT */
/*
 * json-out.h - a small JSON object builder into a caller's buffer, with string escaping
 * (monitor replies and live-migration events). Output that does not fit is cut and
 * `overflow` set; the caller decides what to do with it.
 */
#ifndef VFMED_GUEST_JSON_OUT_H
#define VFMED_GUEST_JSON_OUT_H

#include <stddef.h>
#include <stdint.h>

struct vfmed_jout {
	char *b;
	size_t cap, n;
	int first;      /* no member written yet at the current level */
	int overflow;
};

void vfmed_jo_init(struct vfmed_jout *j, char *buf, size_t cap);
void vfmed_jo_raw(struct vfmed_jout *j, const char *s);
void vfmed_jo_open(struct vfmed_jout *j, const char *key);   /* '{' (key NULL: top level/array) */
void vfmed_jo_close(struct vfmed_jout *j);                   /* '}' */
void vfmed_jo_arr_open(struct vfmed_jout *j, const char *key);
void vfmed_jo_arr_close(struct vfmed_jout *j);
void vfmed_jo_u64(struct vfmed_jout *j, const char *key, uint64_t v);
void vfmed_jo_f(struct vfmed_jout *j, const char *key, double v);
/* Shortest form that reads back the same (%.17g): integers without a fraction. */
void vfmed_jo_num(struct vfmed_jout *j, const char *key, double v);
void vfmed_jo_bool(struct vfmed_jout *j, const char *key, int v);
void vfmed_jo_null(struct vfmed_jout *j, const char *key);
void vfmed_jo_str(struct vfmed_jout *j, const char *key, const char *v);
/* Inserts pre-built JSON value text. */
void vfmed_jo_val(struct vfmed_jout *j, const char *key, const char *json);
/* NUL-terminated result. */
const char *vfmed_jo_text(struct vfmed_jout *j);

#endif /* VFMED_GUEST_JSON_OUT_H */
