/* SPDX-License-Identifier: MIT */
/*
 * json-req.c - recursive-descent parser of monitor requests (see json-req.h).
 */
#include "json-req.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 16

struct p {
	const char *s;
	size_t len, pos;
	int depth;
	const char *why;
};

static int fail(struct p *p, const char *why)
{
	if (!p->why)
		p->why = why;
	return -EINVAL;
}

static void ws(struct p *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int peek(struct p *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int hex4(struct p *p, unsigned *v)
{
	*v = 0;
	if (p->len - p->pos < 4)
		return fail(p, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos++];
		*v <<= 4;
		if (c >= '0' && c <= '9') *v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f') *v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F') *v |= (unsigned)(c - 'A' + 10);
		else return fail(p, "bad \\u escape");
	}
	return 0;
}

/* String at p->pos ('"'); into out (cap bytes incl. NUL) when out != NULL. */
static int string(struct p *p, char *out, size_t cap)
{
	size_t n = 0;

	p->pos++;  /* opening quote */
	for (;;) {
		unsigned c, u;
		char enc[4];
		size_t k = 0;

		if (p->pos >= p->len)
			return fail(p, "unterminated string");
		c = (unsigned char)p->s[p->pos++];
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(p, "control character in a string");
		if (c != '\\') {
			enc[k++] = (char)c;
		} else {
			if (p->pos >= p->len)
				return fail(p, "unterminated escape");
			c = (unsigned char)p->s[p->pos++];
			switch (c) {
			case '"': case '\\': case '/': enc[k++] = (char)c; break;
			case 'b': enc[k++] = '\b'; break;
			case 'f': enc[k++] = '\f'; break;
			case 'n': enc[k++] = '\n'; break;
			case 'r': enc[k++] = '\r'; break;
			case 't': enc[k++] = '\t'; break;
			case 'u':
				if (hex4(p, &u))
					return -EINVAL;
				if (u >= 0xD800 && u <= 0xDBFF) {
					unsigned lo;
					if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
						return fail(p, "unpaired surrogate");
					p->pos += 2;
					if (hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF)
						return fail(p, "unpaired surrogate");
					u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
				} else if (u >= 0xDC00 && u <= 0xDFFF) {
					return fail(p, "unpaired surrogate");
				}
				if (!u)
					return fail(p, "NUL in a string");
				if (u < 0x80) {
					enc[k++] = (char)u;
				} else if (u < 0x800) {
					enc[k++] = (char)(0xC0 | (u >> 6));
					enc[k++] = (char)(0x80 | (u & 0x3F));
				} else if (u < 0x10000) {
					enc[k++] = (char)(0xE0 | (u >> 12));
					enc[k++] = (char)(0x80 | ((u >> 6) & 0x3F));
					enc[k++] = (char)(0x80 | (u & 0x3F));
				} else {
					enc[k++] = (char)(0xF0 | (u >> 18));
					enc[k++] = (char)(0x80 | ((u >> 12) & 0x3F));
					enc[k++] = (char)(0x80 | ((u >> 6) & 0x3F));
					enc[k++] = (char)(0x80 | (u & 0x3F));
				}
				break;
			default:
				return fail(p, "bad escape in a string");
			}
		}
		if (out) {
			if (n + k >= cap)
				return fail(p, "string too long");
			memcpy(out + n, enc, k);
			n += k;
		}
	}
	if (out)
		out[n] = 0;
	return 0;
}

static int number(struct p *p, double *v)
{
	size_t start = p->pos;
	char tmp[64];

	if (peek(p) == '-')
		p->pos++;
	if (peek(p) == '0') {
		p->pos++;
	} else if (peek(p) >= '1' && peek(p) <= '9') {
		while (peek(p) >= '0' && peek(p) <= '9')
			p->pos++;
	} else {
		return fail(p, "invalid number");
	}
	if (peek(p) == '.') {
		p->pos++;
		if (!(peek(p) >= '0' && peek(p) <= '9'))
			return fail(p, "invalid number");
		while (peek(p) >= '0' && peek(p) <= '9')
			p->pos++;
	}
	if (peek(p) == 'e' || peek(p) == 'E') {
		p->pos++;
		if (peek(p) == '+' || peek(p) == '-')
			p->pos++;
		if (!(peek(p) >= '0' && peek(p) <= '9'))
			return fail(p, "invalid number");
		while (peek(p) >= '0' && peek(p) <= '9')
			p->pos++;
	}
	if (p->pos - start >= sizeof(tmp))
		return fail(p, "number too long");
	memcpy(tmp, p->s + start, p->pos - start);
	tmp[p->pos - start] = 0;
	*v = strtod(tmp, NULL);
	return 0;
}

static int lit(struct p *p, const char *l)
{
	size_t n = strlen(l);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, l, n))
		return fail(p, "invalid literal");
	p->pos += n;
	return 0;
}

static int value(struct p *p, struct vfmed_jmember *m);

static int composite(struct p *p, int obj)
{
	char close = obj ? '}' : ']';

	if (++p->depth > MAX_DEPTH)
		return fail(p, "nesting too deep");
	p->pos++;
	ws(p);
	if (peek(p) == close) {
		p->pos++;
		p->depth--;
		return 0;
	}
	for (;;) {
		ws(p);
		if (obj) {
			if (peek(p) != '"')
				return fail(p, "expected a member name");
			if (string(p, NULL, 0))
				return -EINVAL;
			ws(p);
			if (peek(p) != ':')
				return fail(p, "expected ':'");
			p->pos++;
			ws(p);
		}
		if (value(p, NULL))
			return -EINVAL;
		ws(p);
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) == close) {
			p->pos++;
			p->depth--;
			return 0;
		}
		return fail(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static int value(struct p *p, struct vfmed_jmember *m)
{
	struct vfmed_jmember dummy;
	double d;

	if (!m)
		m = &dummy;
	switch (peek(p)) {
	case '"':
		m->type = VFMED_JV_STRING;
		return string(p, m == &dummy ? NULL : m->str, sizeof(m->str));
	case '{':
	case '[':
		m->type = VFMED_JV_COMPOSITE;
		return composite(p, peek(p) == '{');
	case 't':
		m->type = VFMED_JV_BOOL;
		m->boolean = 1;
		return lit(p, "true");
	case 'f':
		m->type = VFMED_JV_BOOL;
		m->boolean = 0;
		return lit(p, "false");
	case 'n':
		m->type = VFMED_JV_NULL;
		return lit(p, "null");
	default:
		m->type = VFMED_JV_NUMBER;
		if (number(p, &d))
			return -EINVAL;
		m->num = d;
		return 0;
	}
}

int vfmed_jreq_parse(const char *s, size_t len, struct vfmed_jreq *out, const char **why)
{
	struct p p = { .s = s, .len = len };

	out->n = 0;
	ws(&p);
	if (peek(&p) != '{') {
		*why = "not a JSON object";
		return -EINVAL;
	}
	p.pos++;
	ws(&p);
	if (peek(&p) == '}') {
		p.pos++;
	} else {
		for (;;) {
			struct vfmed_jmember *m;
			char key[VFMED_JREQ_KEY_MAX + 1];
			ws(&p);
			if (peek(&p) != '"') {
				fail(&p, "expected a member name");
				break;
			}
			if (string(&p, key, sizeof(key)))
				break;
			ws(&p);
			if (peek(&p) != ':') {
				fail(&p, "expected ':'");
				break;
			}
			p.pos++;
			ws(&p);
			if (out->n == VFMED_JREQ_MAX_MEMBERS) {
				fail(&p, "too many members");
				break;
			}
			m = &out->m[out->n];
			memset(m, 0, sizeof(*m));
			memcpy(m->key, key, sizeof(key));
			if (value(&p, m))
				break;
			out->n++;
			ws(&p);
			if (peek(&p) == ',') {
				p.pos++;
				continue;
			}
			if (peek(&p) == '}') {
				p.pos++;
				break;
			}
			fail(&p, "expected ',' or '}'");
			break;
		}
	}
	if (!p.why) {
		ws(&p);
		if (p.pos != p.len)
			fail(&p, "text after the object");
	}
	if (p.why) {
		*why = p.why;
		return -EINVAL;
	}
	return 0;
}

const struct vfmed_jmember *vfmed_jreq_get(const struct vfmed_jreq *r, const char *key)
{
	for (unsigned i = r->n; i-- > 0;)
		if (!strcmp(r->m[i].key, key))
			return &r->m[i];
	return NULL;
}
