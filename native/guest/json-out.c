/* SPDX-License-Identifier: MIT */
/*
 * json-out.c - JSON object builder (see json-out.h).
 */
#include "json-out.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void vfmed_jo_init(struct vfmed_jout *j, char *buf, size_t cap)
{
	j->b = buf;
	j->cap = cap;
	j->n = 0;
	j->first = 1;
	j->overflow = 0;
	if (cap)
		buf[0] = 0;
}

static void put(struct vfmed_jout *j, const char *s, size_t len)
{
	if (j->n + len + 1 > j->cap) {
		j->overflow = 1;
		len = j->cap > j->n + 1 ? j->cap - j->n - 1 : 0;
	}
	memcpy(j->b + j->n, s, len);
	j->n += len;
	if (j->cap)
		j->b[j->n] = 0;
}

void vfmed_jo_raw(struct vfmed_jout *j, const char *s)
{
	put(j, s, strlen(s));
}

static void fmt(struct vfmed_jout *j, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void fmt(struct vfmed_jout *j, const char *f, ...)
{
	char tmp[64];
	va_list ap;
	int w;

	va_start(ap, f);
	w = vsnprintf(tmp, sizeof(tmp), f, ap);
	va_end(ap);
	if (w > 0)
		put(j, tmp, (size_t)w < sizeof(tmp) ? (size_t)w : sizeof(tmp) - 1);
}

static void escaped(struct vfmed_jout *j, const char *s)
{
	put(j, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			put(j, e, 2);
		} else if (c < 0x20) {
			fmt(j, "\\u%04x", c);
		} else {
			put(j, s, 1);
		}
	}
	put(j, "\"", 1);
}

static void key(struct vfmed_jout *j, const char *k)
{
	if (!j->first)
		put(j, ",", 1);
	j->first = 0;
	if (k) {
		escaped(j, k);
		put(j, ":", 1);
	}
}

void vfmed_jo_open(struct vfmed_jout *j, const char *k)
{
	if (j->n)
		key(j, k);
	put(j, "{", 1);
	j->first = 1;
}

void vfmed_jo_close(struct vfmed_jout *j)
{
	put(j, "}", 1);
	j->first = 0;
}

void vfmed_jo_arr_open(struct vfmed_jout *j, const char *k)
{
	key(j, k);
	put(j, "[", 1);
	j->first = 1;
}

void vfmed_jo_arr_close(struct vfmed_jout *j)
{
	put(j, "]", 1);
	j->first = 0;
}

void vfmed_jo_u64(struct vfmed_jout *j, const char *k, uint64_t v)
{
	key(j, k);
	fmt(j, "%" PRIu64, v);
}

void vfmed_jo_f(struct vfmed_jout *j, const char *k, double v)
{
	key(j, k);
	fmt(j, "%.3f", v);
}

void vfmed_jo_num(struct vfmed_jout *j, const char *k, double v)
{
	key(j, k);
	fmt(j, "%.17g", v);
}

void vfmed_jo_bool(struct vfmed_jout *j, const char *k, int v)
{
	key(j, k);
	vfmed_jo_raw(j, v ? "true" : "false");
}

void vfmed_jo_null(struct vfmed_jout *j, const char *k)
{
	key(j, k);
	vfmed_jo_raw(j, "null");
}

void vfmed_jo_str(struct vfmed_jout *j, const char *k, const char *v)
{
	key(j, k);
	escaped(j, v);
}

void vfmed_jo_val(struct vfmed_jout *j, const char *k, const char *json)
{
	key(j, k);
	vfmed_jo_raw(j, json);
}

const char *vfmed_jo_text(struct vfmed_jout *j)
{
	return j->b;
}
