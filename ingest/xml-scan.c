/* xml-scan.c — the byte pre-scan of the XML parser (xml-internal.h has the
 * whole design): UTF-8 and XML-character check and repair, record tag
 * offsets, DOCTYPE refusal; and the queues it fills for the SAX side. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "xml-internal.h"

/* ------------------------------------------------------------------ */
/* queues */

static int ev_push(struct ing_xml *x, int type, int64_t off, int64_t line)
{
	if (x->ev_head + x->ev_n == x->ev_cap) {
		if (x->ev_head) {
			memmove(x->ev, x->ev + x->ev_head, x->ev_n * sizeof(*x->ev));
			x->ev_head = 0;
		} else {
			size_t ncap = x->ev_cap ? x->ev_cap * 2 : 256;
			struct ev *n = realloc(x->ev, ncap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			x->ev = n;
			x->ev_cap = ncap;
		}
	}
	x->ev[x->ev_head + x->ev_n].type = type;
	x->ev[x->ev_head + x->ev_n].off = off;
	x->ev[x->ev_head + x->ev_n].line = line;
	x->ev_n++;
	return 0;
}

/* Next tag event; 0 if the queue does not have one of that type (the
 * scanner and libxml2 disagree: offsets become unknown). */
int ing_xml_ev_pop(struct ing_xml *x, int type, struct ev *out)
{
	if (!x->ev_n)
		return 0;
	*out = x->ev[x->ev_head];
	if (out->type != type) {
		x->ev_n = x->ev_head = 0;
		return 0;
	}
	x->ev_head++;
	if (--x->ev_n == 0)
		x->ev_head = 0;
	return 1;
}

#define FAULTS_MAX 65536u

static int flt_push(struct ing_xml *x, int64_t off, int64_t line, unsigned char byte, int kind)
{
	struct fault *f;

	if (x->flt_n >= FAULTS_MAX) {
		if (x->flt_lost < 0)
			x->flt_lost = off;
		return 0;
	}
	if (x->flt_head + x->flt_n == x->flt_cap) {
		if (x->flt_head) {
			memmove(x->flt, x->flt + x->flt_head, x->flt_n * sizeof(*x->flt));
			x->flt_head = 0;
		} else {
			size_t ncap = x->flt_cap ? x->flt_cap * 2 : 64;
			struct fault *n = realloc(x->flt, ncap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			x->flt = n;
			x->flt_cap = ncap;
		}
	}
	f = &x->flt[x->flt_head + x->flt_n++];
	f->off = off;
	f->line = line;
	f->byte = byte;
	f->kind = (unsigned char)kind;
	return 0;
}

/* First fault in [from, to), forgetting every fault before to. */
int ing_xml_flt_take(struct ing_xml *x, int64_t from, int64_t to, struct fault *out)
{
	int found = 0;

	while (x->flt_n && x->flt[x->flt_head].off < to) {
		if (!found && x->flt[x->flt_head].off >= from) {
			*out = x->flt[x->flt_head];
			found = 1;
		}
		x->flt_head++;
		x->flt_n--;
	}
	if (!x->flt_n)
		x->flt_head = 0;
	if (!found && x->flt_lost >= 0 && x->flt_lost < to) {
		if (x->flt_lost >= from) {
			memset(out, 0, sizeof(*out));
			out->off = x->flt_lost;
			found = 2;
		}
		if (!x->flt_n)
			x->flt_lost = -1;
	}
	return found;
}

static int rep_push(struct ing_xml *x, size_t pos, size_t len)
{
	if (x->nrep == x->rep_cap) {
		size_t ncap = x->rep_cap ? x->rep_cap * 2 : 64;
		struct rep *n = realloc(x->rep, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		x->rep = n;
		x->rep_cap = ncap;
	}
	x->rep[x->nrep].pos = pos;
	x->rep[x->nrep].len = len;
	x->nrep++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the pre-scanner */

/* Byte classes for the text fast path: C_PLAIN = nothing to do. */
enum { C_PLAIN = 0, C_LT, C_NL, C_OTHER };
#define CLS(c)                                                                               \
	((c) == '<' ? C_LT : (c) == '\n' ? C_NL                                                \
	 : (((c) < 0x20 && (c) != '\t' && (c) != '\r') || (c) >= 0x80) ? C_OTHER : C_PLAIN)
/* ASCII bytes that continue an element name (not a delimiter). */
#define NAMECH(c) ((c) > 0x20 && (c) < 0x7F && (c) != '>' && (c) != '/' && (c) != '<')
#define ROW(F, b)                                                                            \
	F((b) + 0), F((b) + 1), F((b) + 2), F((b) + 3), F((b) + 4), F((b) + 5), F((b) + 6),   \
	F((b) + 7), F((b) + 8), F((b) + 9), F((b) + 10), F((b) + 11), F((b) + 12),            \
	F((b) + 13), F((b) + 14), F((b) + 15)
#define TABLE(F)                                                                             \
	{ ROW(F, 0x00), ROW(F, 0x10), ROW(F, 0x20), ROW(F, 0x30), ROW(F, 0x40), ROW(F, 0x50), \
	  ROW(F, 0x60), ROW(F, 0x70), ROW(F, 0x80), ROW(F, 0x90), ROW(F, 0xA0), ROW(F, 0xB0), \
	  ROW(F, 0xC0), ROW(F, 0xD0), ROW(F, 0xE0), ROW(F, 0xF0) }
static const unsigned char cls[256] = TABLE(CLS);
static const unsigned char namech[256] = TABLE(NAMECH);

#define PACK6(a, b, c, d, e, f)                                                                \
	(((uint64_t)(a) << 40) | ((uint64_t)(b) << 32) | ((uint64_t)(c) << 24) |                \
	 ((uint64_t)(d) << 16) | ((uint64_t)(e) << 8) | (uint64_t)(f))
#define NAME_RECORD PACK6('r', 'e', 'c', 'o', 'r', 'd')
#define NAME_DC     (((uint64_t)'d' << 8) | 'c')

/* Is the name just read (local part) "record" or "dc"? */
static int name_is_unit(const struct scanst *s)
{
	uint64_t v = s->shift;

	if (s->name_len == 6 && (v & 0xFFFFFFFFFFFFull) == NAME_RECORD)
		return 1;
	if (s->name_len > 6 && (v & 0xFFFFFFFFFFFFFFull) == (((uint64_t)':' << 48) | NAME_RECORD))
		return 1;
	if (s->name_len == 2 && (v & 0xFFFF) == NAME_DC)
		return 1;
	if (s->name_len > 2 && (v & 0xFFFFFF) == (((uint64_t)':' << 16) | NAME_DC))
		return 1;
	return 0;
}

/* Are the 8 bytes at p all plain ASCII text (no '<', control or non-ASCII
 * byte)? Exact: the borrow tricks only misfire next to a real hit. */
static int plain8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t w, lt, v;

	memcpy(&w, p, 8);
	lt = (w - 0x20 * ones) & ~w;
	v = w ^ ('<' * ones);
	v = (v - ones) & ~v;
	return ((w | lt | v) & high) == 0;
}

/* Length of a valid UTF-8 sequence at s (1..4), 0 when invalid (*bad = bytes
 * to replace: the maximal invalid prefix), -1 when s[0..n) is a valid but
 * incomplete prefix. *xmlbad = 1 for U+FFFE/U+FFFF. */
static int u8_seq(const unsigned char *s, size_t n, size_t *bad, int *xmlbad)
{
	unsigned c = s[0];
	size_t need, i;
	unsigned lo = 0x80, hi = 0xBF;

	*xmlbad = 0;
	*bad = 1;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 2;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 3;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	for (i = 1; i <= need; i++) {
		if (i >= n)
			return -1;
		if (s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	if (c == 0xEF && s[1] == 0xBF && (s[2] == 0xBE || s[2] == 0xBF)) {
		*xmlbad = 1;
		*bad = 3;
		return 0;
	}
	return (int)need + 1;
}

/* A character that is neither ASCII markup nor a delimiter (a non-ASCII
 * character, or a replaced one): part of a name, ends any "-->"-style run. */
static void step_other(struct scanst *s)
{
	switch (s->st) {
	case S_LT:
		s->st = S_NAME;
		s->name_len = 1;
		s->shift = 0x80;
		break;
	case S_NAME:
	case S_ENDNAME:
		s->name_len++;
		s->shift = (s->shift << 8) | 0x80;
		break;
	case S_BANG:
		s->st = S_TEXT;
		break;
	default:
		s->prev = 0x80;
		s->count = 0;
		break;
	}
}

static int scan_fatal_doctype(struct ing_xml *x, int64_t off)
{
	return ing_parser_fail(x->p, MC_E_ENTITY, off, x->s.line,
			      "DOCTYPE with an internal subset refused (entity declarations are never "
			      "expanded: XXE / billion laughs protection)");
}

/* One ASCII byte c at input offset off. */
static int step(struct ing_xml *x, int c, int64_t off)
{
	struct scanst *s = &x->s;
	int rc = 0;

	switch (s->st) {
	case S_TEXT:
		break;
	case S_LT:
		if (c == '/') {
			s->st = S_ENDNAME;
			s->name_len = 0;
			s->shift = 0;
		} else if (c == '!') {
			s->st = S_BANG;
			s->bang_len = 0;
		} else if (c == '?') {
			s->st = S_PI;
			s->prev = 0;
		} else if (is_ws(c) || c == '>' || c == '/' || c == '<') {
			s->st = S_TEXT;  /* not a tag; libxml2 will say so */
			if (c == '<') {
				s->tag_off = off;
				s->tag_line = s->line;
				s->st = S_LT;
			}
		} else {
			s->st = S_NAME;
			s->name_len = 1;
			s->shift = (uint64_t)c;
		}
		break;
	case S_NAME:
	case S_ENDNAME:
		if (is_ws(c) || c == '>' || c == '/' || c == '<') {
			int unit = name_is_unit(s);

			if (s->st == S_NAME) {
				if (unit) {
					rc = ev_push(x, EV_START, s->tag_off, s->tag_line);
					s->st = S_RTAG;
					s->quote = 0;
					s->prev = c;
					if (c == '>')
						s->st = S_TEXT;
				} else {
					s->st = S_TEXT;
				}
			} else if (unit) {
				s->st = S_ETAG;
				if (c == '>') {
					rc = ev_push(x, EV_END, off + 1, s->line);
					s->st = S_TEXT;
				}
			} else {
				s->st = S_TEXT;
			}
			if (c == '<' && s->st == S_TEXT) {
				s->tag_off = off;
				s->tag_line = s->line;
				s->st = S_LT;
			}
		} else {
			s->name_len++;
			s->shift = (s->shift << 8) | (uint64_t)c;
		}
		break;
	case S_RTAG:
		if (s->quote) {
			if (c == s->quote)
				s->quote = 0;
		} else if (c == '"' || c == '\'') {
			s->quote = c;
		} else if (c == '>') {
			if (s->prev == '/')
				rc = ev_push(x, EV_END, off + 1, s->line);
			s->st = S_TEXT;
		} else if (c == '<') {
			s->tag_off = off;  /* broken tag; libxml2 will complain */
			s->tag_line = s->line;
			s->st = S_LT;
		}
		s->prev = c;
		break;
	case S_ETAG:
		if (c == '>') {
			rc = ev_push(x, EV_END, off + 1, s->line);
			s->st = S_TEXT;
		} else if (!is_ws(c)) {
			s->st = S_TEXT;
			if (c == '<') {
				s->tag_off = off;
				s->tag_line = s->line;
				s->st = S_LT;
			}
		}
		break;
	case S_BANG: {
		static const char *const what[] = { "--", "[CDATA[", "DOCTYPE" };
		size_t i;
		int prefix = 0;

		s->bang[s->bang_len++] = (char)c;
		for (i = 0; i < 3; i++) {
			size_t l = strlen(what[i]);

			if ((size_t)s->bang_len <= l && memcmp(s->bang, what[i], (size_t)s->bang_len) == 0) {
				prefix = 1;
				if ((size_t)s->bang_len == l) {
					s->st = i == 0 ? S_COMMENT : i == 1 ? S_CDATA : S_DOCTYPE;
					s->count = 0;
					s->quote = 0;
				}
			}
		}
		if (!prefix)
			s->st = S_TEXT;
		break;
	}
	case S_COMMENT:
		if (c == '>' && s->count >= 2)
			s->st = S_TEXT;
		s->count = c == '-' ? s->count + 1 : 0;
		break;
	case S_CDATA:
		if (c == '>' && s->count >= 2)
			s->st = S_TEXT;
		s->count = c == ']' ? s->count + 1 : 0;
		break;
	case S_PI:
		if (c == '>' && s->prev == '?')
			s->st = S_TEXT;
		s->prev = c;
		break;
	case S_DOCTYPE:
		if (s->quote) {
			if (c == s->quote)
				s->quote = 0;
		} else if (c == '"' || c == '\'') {
			s->quote = c;
		} else if (c == '[') {
			return scan_fatal_doctype(x, off);
		} else if (c == '>') {
			s->st = S_TEXT;
		}
		break;
	}
	return rc;
}

/* Scan b[0..n) (input offset base): tag events, faults, replacements (into
 * x->rep, positions relative to b). *used = bytes that can go to libxml2 now
 * (an incomplete UTF-8 sequence at the end is held back unless eof). */
int ing_xml_scan(struct ing_xml *x, const unsigned char *b, size_t n, int64_t base, int eof,
		size_t *used)
{
	struct scanst *s = &x->s;
	size_t i = 0;
	int rc = 0;

	x->nrep = 0;
	while (i < n && rc == 0) {
		unsigned c = b[i];

		if (s->st == S_TEXT) {
			while (i + 8 <= n && plain8(b + i))
				i += 8;
			if (i == n)
				goto out;
			c = b[i];
			while (!cls[c]) {
				if (++i == n)
					goto out;
				c = b[i];
			}
			if (c == '\n') {
				s->line++;
				i++;
				continue;
			}
			if (c == '<') {
				int end = 0;
				uint64_t sh = 0;
				size_t j, k;

				s->tag_off = base + (int64_t)i;
				s->tag_line = s->line;
				s->st = S_LT;
				i++;
				/* Fast path: read an ASCII name here; only its end (one
				 * delimiter) goes through step(). */
				if (i < n && b[i] == '/') {
					end = 1;
					i++;
				}
				if (i >= n || !namech[b[i]] || b[i] == '!' || b[i] == '?') {
					if (end) {
						s->st = S_ENDNAME;
						s->name_len = 0;
						s->shift = 0;
					}
					continue;
				}
				for (j = i; j < n && namech[b[j]]; j++)
					;
				for (k = j - i > 7 ? j - 7 : i; k < j; k++)
					sh = (sh << 8) | b[k];
				s->st = end ? S_ENDNAME : S_NAME;
				s->shift = sh;
				s->name_len = j - i;
				i = j;
				if (i < n && cls[b[i]] == C_PLAIN && !name_is_unit(s)) {
					/* An ordinary tag: back to text at the delimiter. */
					s->st = S_TEXT;
				}
				continue;
			}
		}
		if (c >= 0x80) {
			size_t bad = 1;
			int xmlbad = 0, l;

			if (!x->utf8) {
				if (x->badbyte[c]) {
					rc = flt_push(x, base + (int64_t)i, s->line, (unsigned char)c, F_BYTE);
					if (rc == 0)
						rc = rep_push(x, i, 1);
				}
				step_other(s);
				i++;
				continue;
			}
			l = u8_seq(b + i, n - i, &bad, &xmlbad);
			if (l < 0) {
				if (!eof)
					break;
				l = 0;
				bad = n - i;
			}
			if (l == 0) {
				rc = flt_push(x, base + (int64_t)i, s->line, (unsigned char)c,
					      xmlbad ? F_XMLCHAR : F_UTF8);
				if (rc == 0)
					rc = rep_push(x, i, bad);
				step_other(s);
				i += bad;
				continue;
			}
			step_other(s);
			i += (size_t)l;
			continue;
		}
		if (c == '\n') {
			s->line++;
		} else if (c < 0x20 && c != '\t' && c != '\r') {
			rc = flt_push(x, base + (int64_t)i, s->line, (unsigned char)c, F_CTRL);
			if (rc == 0)
				rc = rep_push(x, i, 1);
			step_other(s);
			i++;
			continue;
		}
		rc = step(x, (int)c, base + (int64_t)i);
		i++;
	}
out:
	*used = i;
	return rc;
}
