/* SPDX-License-Identifier: MIT */
/*
 * json-caps.c - recursive-descent JSON validator that picks the vfio-user capabilities
 * out of a VERSION payload (see json-caps.h). The parser keeps the path of object keys
 * leading to the current value (only the first few levels matter) and hands each scalar
 * to capture(), which knows the handful of members the client cares about.
 */
#include "json-caps.h"

#include <errno.h>
#include <string.h>

#define MAX_DEPTH 32
#define PATH_LEVELS 3
#define KEY_MAX 32

enum jtype { J_NUMBER, J_TRUE, J_FALSE, J_NULL, J_STRING, J_OBJECT, J_ARRAY };

struct parser {
	const char *s;
	size_t len, pos;
	int depth;
	const char *err;
	struct vfu_caps *caps;
	/* Keys leading to the current value; a key longer than KEY_MAX is marked unknown. */
	char path[PATH_LEVELS][KEY_MAX + 1];
	int path_len;
};

static int fail(struct parser *p, const char *why)
{
	if (!p->err)
		p->err = why;
	return -EINVAL;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int peek(struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int expect_lit(struct parser *p, const char *lit)
{
	size_t n = strlen(lit);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, lit, n) != 0)
		return fail(p, "invalid literal");
	p->pos += n;
	return 0;
}

/* Parses a string; copies up to cap-1 bytes of its raw content into out (if given). */
static int parse_string(struct parser *p, char *out, size_t cap, int *too_long)
{
	size_t o = 0;

	if (peek(p) != '"')
		return fail(p, "expected a string");
	p->pos++;
	if (too_long)
		*too_long = 0;
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->s[p->pos++];
		if (c == '"') {
			if (out)
				out[o] = 0;
			return 0;
		}
		if (c < 0x20)
			return fail(p, "control character in a string");
		if (c == '\\') {
			if (p->pos >= p->len)
				break;
			c = (unsigned char)p->s[p->pos++];
			if (c == 'u') {
				for (int i = 0; i < 4; i++, p->pos++) {
					char h = p->pos < p->len ? p->s[p->pos] : 0;
					if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
					      (h >= 'A' && h <= 'F')))
						return fail(p, "bad \\u escape");
				}
				c = '?';  /* keys we care about are plain ASCII */
			} else if (!strchr("\"\\/bfnrt", c)) {
				return fail(p, "bad escape");
			}
		}
		if (out) {
			if (o + 1 < cap)
				out[o++] = (char)c;
			else if (too_long)
				*too_long = 1;
		}
	}
	return fail(p, "unterminated string");
}

/* Number: returns its value in *u when it is a non-negative integer below 2^63. */
static int parse_number(struct parser *p, uint64_t *u, int *is_uint)
{
	size_t start = p->pos;
	uint64_t v = 0;
	int overflow = 0, neg = 0, frac = 0;

	if (peek(p) == '-') {
		neg = 1;
		p->pos++;
	}
	if (peek(p) == '0') {
		p->pos++;
	} else if (peek(p) >= '1' && peek(p) <= '9') {
		while (peek(p) >= '0' && peek(p) <= '9') {
			unsigned d = (unsigned)(p->s[p->pos++] - '0');
			if (v > (UINT64_C(0x7FFFFFFFFFFFFFFF) - d) / 10)
				overflow = 1;
			else
				v = v * 10 + d;
		}
	} else {
		return fail(p, "invalid number");
	}
	if (peek(p) == '.') {
		frac = 1;
		p->pos++;
		if (!(peek(p) >= '0' && peek(p) <= '9'))
			return fail(p, "invalid number");
		while (peek(p) >= '0' && peek(p) <= '9')
			p->pos++;
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		frac = 1;
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (!(peek(p) >= '0' && peek(p) <= '9'))
			return fail(p, "invalid number");
		while (peek(p) >= '0' && peek(p) <= '9')
			p->pos++;
	}
	(void)start;
	*u = v;
	*is_uint = !neg && !frac && !overflow;
	return 0;
}

static int path_is(const struct parser *p, int n, const char *a, const char *b, const char *c)
{
	const char *want[PATH_LEVELS] = { a, b, c };
	if (p->path_len != n)
		return 0;
	for (int i = 0; i < n; i++)
		if (strcmp(p->path[i], want[i]) != 0)
			return 0;
	return 1;
}

/* Records a scalar if its path is a known capability. */
static int capture(struct parser *p, enum jtype t, uint64_t u, int is_uint)
{
	struct vfu_caps *c = p->caps;
	static const struct { const char *key; size_t has, val; } ints[] = {
		{ "max_msg_fds", offsetof(struct vfu_caps, has_max_msg_fds),
		  offsetof(struct vfu_caps, max_msg_fds) },
		{ "max_data_xfer_size", offsetof(struct vfu_caps, has_max_data_xfer_size),
		  offsetof(struct vfu_caps, max_data_xfer_size) },
		{ "max_dma_maps", offsetof(struct vfu_caps, has_max_dma_maps),
		  offsetof(struct vfu_caps, max_dma_maps) },
		{ "pgsizes", offsetof(struct vfu_caps, has_pgsizes),
		  offsetof(struct vfu_caps, pgsizes) },
	};

	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		if (path_is(p, 2, "capabilities", ints[i].key, NULL)) {
			if (t != J_NUMBER || !is_uint)
				return fail(p, "a numeric capability is not a non-negative integer");
			*(int *)((char *)c + ints[i].has) = 1;
			*(uint64_t *)((char *)c + ints[i].val) = u;
			return 0;
		}
	}
	if (path_is(p, 3, "capabilities", "migration", "pgsize")) {
		if (t != J_NUMBER || !is_uint)
			return fail(p, "migration.pgsize is not a non-negative integer");
		c->has_mig_pgsize = 1;
		c->mig_pgsize = u;
	} else if (path_is(p, 3, "capabilities", "twin_socket", "supported")) {
		if (t != J_TRUE && t != J_FALSE)
			return fail(p, "twin_socket.supported is not a boolean");
		c->twin_socket_supported = t == J_TRUE;
	} else if (path_is(p, 3, "capabilities", "twin_socket", "fd_index")) {
		if (t != J_NUMBER || !is_uint)
			return fail(p, "twin_socket.fd_index is not a non-negative integer");
		c->has_twin_fd_index = 1;
		c->twin_fd_index = u;
	} else if (path_is(p, 2, "capabilities", "write_multiple", NULL)) {
		if (t != J_TRUE && t != J_FALSE)
			return fail(p, "write_multiple is not a boolean");
		c->write_multiple = t == J_TRUE;
	}
	return 0;
}

static int parse_value(struct parser *p);

/* Known containers must be objects (e.g. "capabilities": 3 is an error). */
static int check_container(struct parser *p, enum jtype t)
{
	if (path_is(p, 1, "capabilities", NULL, NULL) ||
	    path_is(p, 2, "capabilities", "migration", NULL) ||
	    path_is(p, 2, "capabilities", "twin_socket", NULL)) {
		if (t != J_OBJECT)
			return fail(p, "a capability group is not an object");
	}
	return 0;
}

static int parse_object(struct parser *p)
{
	int first = 1;

	p->pos++;  /* '{' */
	for (;;) {
		char key[KEY_MAX + 1];
		int too_long, rc;

		skip_ws(p);
		if (peek(p) == '}' && first) {
			p->pos++;
			return 0;
		}
		rc = parse_string(p, key, sizeof(key), &too_long);
		if (rc)
			return rc;
		skip_ws(p);
		if (peek(p) != ':')
			return fail(p, "expected ':'");
		p->pos++;
		if (p->path_len < PATH_LEVELS) {
			/* An over-long key can never match a known one. */
			strcpy(p->path[p->path_len], too_long ? "\x01" : key);
		}
		p->path_len++;
		rc = parse_value(p);
		p->path_len--;
		if (rc)
			return rc;
		skip_ws(p);
		if (peek(p) == ',') {
			p->pos++;
			first = 0;
			continue;
		}
		if (peek(p) == '}') {
			p->pos++;
			return 0;
		}
		return fail(p, "expected ',' or '}'");
	}
}

static int parse_array(struct parser *p)
{
	int first = 1, saved = p->path_len, rc;

	p->pos++;  /* '[' */
	/* Array elements never match a capability path. */
	if (p->path_len < PATH_LEVELS)
		strcpy(p->path[p->path_len], "\x01");
	p->path_len++;
	for (;;) {
		skip_ws(p);
		if (peek(p) == ']' && first) {
			p->pos++;
			break;
		}
		rc = parse_value(p);
		if (rc)
			return rc;
		skip_ws(p);
		if (peek(p) == ',') {
			p->pos++;
			first = 0;
			continue;
		}
		if (peek(p) == ']') {
			p->pos++;
			break;
		}
		return fail(p, "expected ',' or ']'");
	}
	p->path_len = saved;
	return 0;
}

static int parse_value(struct parser *p)
{
	uint64_t u = 0;
	int is_uint = 0, rc, c;

	if (++p->depth > MAX_DEPTH)
		return fail(p, "JSON nested too deeply");
	skip_ws(p);
	c = peek(p);
	switch (c) {
	case '{':
		rc = check_container(p, J_OBJECT);
		if (!rc)
			rc = parse_object(p);
		break;
	case '[':
		rc = check_container(p, J_ARRAY);
		if (!rc)
			rc = parse_array(p);
		break;
	case '"':
		rc = check_container(p, J_STRING);
		if (!rc)
			rc = parse_string(p, NULL, 0, NULL);
		if (!rc)
			rc = capture(p, J_STRING, 0, 0);
		break;
	case 't':
		rc = check_container(p, J_TRUE);
		if (!rc)
			rc = expect_lit(p, "true");
		if (!rc)
			rc = capture(p, J_TRUE, 0, 0);
		break;
	case 'f':
		rc = check_container(p, J_FALSE);
		if (!rc)
			rc = expect_lit(p, "false");
		if (!rc)
			rc = capture(p, J_FALSE, 0, 0);
		break;
	case 'n':
		rc = check_container(p, J_NULL);
		if (!rc)
			rc = expect_lit(p, "null");
		if (!rc)
			rc = capture(p, J_NULL, 0, 0);
		break;
	default:
		rc = check_container(p, J_NUMBER);
		if (!rc)
			rc = parse_number(p, &u, &is_uint);
		if (!rc)
			rc = capture(p, J_NUMBER, u, is_uint);
		break;
	}
	p->depth--;
	return rc;
}

int vfmed_json_parse_caps(const char *text, size_t len, struct vfu_caps *out, const char **err)
{
	struct parser p = { .s = text, .len = len, .caps = out };
	int rc;

	memset(out, 0, sizeof(*out));
	skip_ws(&p);
	if (peek(&p) != '{')
		rc = fail(&p, "the version data is not a JSON object");
	else
		rc = parse_value(&p);
	if (!rc) {
		skip_ws(&p);
		if (p.pos != p.len)
			rc = fail(&p, "trailing characters after the JSON object");
	}
	if (err)
		*err = rc ? p.err : NULL;
	return rc;
}
