/* SPDX-License-Identifier: MIT */
/*
 * json-req.h - parser for one monitor request line: a JSON object (RFC 8259 grammar,
 * nesting limited to 16) whose top-level members with scalar values are collected; nested
 * values are validated and kept only as "composite". No allocation; strings longer than
 * the member buffer are an error (the monitor has no use for them).
 */
#ifndef VFMED_GUEST_JSON_REQ_H
#define VFMED_GUEST_JSON_REQ_H

#include <stddef.h>
#include <stdint.h>

#define VFMED_JREQ_MAX_MEMBERS 24
#define VFMED_JREQ_KEY_MAX     32
#define VFMED_JREQ_STR_MAX     256

enum vfmed_jv_type { VFMED_JV_STRING, VFMED_JV_NUMBER, VFMED_JV_BOOL, VFMED_JV_NULL, VFMED_JV_COMPOSITE };

struct vfmed_jmember {
	char key[VFMED_JREQ_KEY_MAX + 1];
	enum vfmed_jv_type type;
	char str[VFMED_JREQ_STR_MAX + 1];   /* STRING, UTF-8 */
	double num;                         /* NUMBER */
	int boolean;                        /* BOOL */
};

struct vfmed_jreq {
	unsigned n;
	struct vfmed_jmember m[VFMED_JREQ_MAX_MEMBERS];
};

/* 0, or -EINVAL with *why a static description. */
int vfmed_jreq_parse(const char *s, size_t len, struct vfmed_jreq *out, const char **why);
/* The last member with this key (JSON allows duplicates; the last wins), or NULL. */
const struct vfmed_jmember *vfmed_jreq_get(const struct vfmed_jreq *r, const char *key);

#endif /* VFMED_GUEST_JSON_REQ_H */
