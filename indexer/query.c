/* query.c — the query parser (ix-query.h): a hand-written lexer and a
 * recursive-descent parser whose recursion is bounded by IX_MAX_QUERY_DEPTH,
 * so no input can make it deep or slow. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ix-query.h"
#include "ix-search.h"
#include "ix-text.h"

#define ARENA_MAX (512u << 10)   /* far above what 1 kB of query can need */
#define FORM_MAX (4u * IX_WORD_MAX)

enum tok { T_EOF, T_LP, T_RP, T_PHRASE, T_WORD, T_AND, T_OR, T_NOT, T_FIELD };

enum field { F_ANY = IX_QF_ANY, F_TITLE = IX_QF_TITLE, F_AUTHOR = IX_QF_AUTHOR,
	     F_SUBJECT = IX_QF_SUBJECT, F_ISBN, F_YEAR };

struct token {
	enum tok t;
	const char *p;   /* WORD, PHRASE: the text */
	size_t n;
	int field;       /* FIELD */
	int wild;        /* WORD ended with * */
};

struct parser {
	const char *s;
	size_t len, pos;
	struct token la;  /* lookahead */
	int have_la;
	struct ix_query *q;
	struct mc_error *err;
	struct mc_buf acc, fold;
	int rc;           /* first error; parsing stops */
};

static int is_space(unsigned char c)
{
	return c <= 0x20 || c == 0x7f;
}

/* “ ” (U+201C, U+201D): phones type them for quotes. */
static size_t quote_len(const char *s, size_t n)
{
	if (n >= 1 && s[0] == '"')
		return 1;
	if (n >= 3 && (unsigned char)s[0] == 0xe2 && (unsigned char)s[1] == 0x80 &&
	    ((unsigned char)s[2] == 0x9c || (unsigned char)s[2] == 0x9d))
		return 3;
	return 0;
}

static int is_break(const struct parser *p, size_t i)
{
	unsigned char c = (unsigned char)p->s[i];

	return is_space(c) || c == '(' || c == ')' || c == ':' || quote_len(p->s + i, p->len - i);
}

static int ascii_ieq(const char *a, size_t n, const char *b)
{
	size_t i;

	if (strlen(b) != n)
		return 0;
	for (i = 0; i < n; i++) {
		char c = a[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != b[i])
			return 0;
	}
	return 1;
}

static int field_of(const char *w, size_t n)
{
	static const struct { const char *name; int field; } names[] = {
		{ "title", F_TITLE },     { "nhande", F_TITLE },   { "author", F_AUTHOR },
		{ "tacgia", F_AUTHOR },   { "subject", F_SUBJECT }, { "chude", F_SUBJECT },
		{ "isbn", F_ISBN },       { "year", F_YEAR },      { "namxb", F_YEAR },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (ascii_ieq(w, n, names[i].name))
			return names[i].field;
	return -1;
}

static int op_of(const char *w, size_t n)
{
	/* the Vietnamese operators in NFC and in NFD, upper case only: "và"
	 * is a common word of titles */
	static const struct { const char *s; enum tok t; } ops[] = {
		{ "AND", T_AND }, { "OR", T_OR }, { "NOT", T_NOT },
		{ "V\xc3\x80", T_AND }, { "VA\xcc\x80", T_AND },
		{ "HO\xe1\xba\xb6" "C", T_OR }, { "HOA\xcc\xa3\xcc\x86" "C", T_OR },
		{ "KH\xc3\x94NG", T_NOT }, { "KHO\xcc\x82NG", T_NOT },
		{ "&&", T_AND }, { "||", T_OR },
	};
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strlen(ops[i].s) == n && memcmp(ops[i].s, w, n) == 0)
			return (int)ops[i].t;
	return -1;
}

static void lex(struct parser *p, struct token *t)
{
	size_t start, end, ql;

	memset(t, 0, sizeof(*t));
	for (;;) {
		while (p->pos < p->len && (is_space((unsigned char)p->s[p->pos]) ||
					   p->s[p->pos] == ':' || p->s[p->pos] == '+'))
			p->pos++;
		if (p->pos >= p->len) {
			t->t = T_EOF;
			return;
		}
		break;
	}
	if (p->s[p->pos] == '(') {
		p->pos++;
		t->t = T_LP;
		return;
	}
	if (p->s[p->pos] == ')') {
		p->pos++;
		t->t = T_RP;
		return;
	}
	ql = quote_len(p->s + p->pos, p->len - p->pos);
	if (ql) {
		p->pos += ql;
		start = p->pos;
		while (p->pos < p->len && !(ql = quote_len(p->s + p->pos, p->len - p->pos)))
			p->pos++;
		t->t = T_PHRASE;
		t->p = p->s + start;
		t->n = p->pos - start;
		if (p->pos < p->len)
			p->pos += ql;
		else
			p->q->repaired = 1;
		return;
	}
	if (p->s[p->pos] == '-' && p->pos + 1 < p->len &&
	    !is_space((unsigned char)p->s[p->pos + 1]) && !strchr(")-:", p->s[p->pos + 1])) {
		p->pos++;
		t->t = T_NOT;
		return;
	}
	start = p->pos;
	while (p->pos < p->len && !is_break(p, p->pos))
		p->pos++;
	end = p->pos;
	if (p->pos < p->len && p->s[p->pos] == ':') {
		int f = field_of(p->s + start, end - start);

		if (f >= 0) {
			p->pos++;
			t->t = T_FIELD;
			t->field = f;
			return;
		}
	}
	{
		int op = op_of(p->s + start, end - start);

		if (op >= 0) {
			t->t = (enum tok)op;
			return;
		}
	}
	while (end > start && p->s[end - 1] == '*') {
		end--;
		t->wild = 1;
	}
	t->t = T_WORD;
	t->p = p->s + start;
	t->n = end - start;
}

static const struct token *peek(struct parser *p)
{
	if (!p->have_la) {
		lex(p, &p->la);
		p->have_la = 1;
	}
	return &p->la;
}

static void next(struct parser *p, struct token *t)
{
	peek(p);
	*t = p->la;
	p->have_la = 0;
}

static int fail(struct parser *p, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The first error wins; parsing stops at it. */
static int fail(struct parser *p, int code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!p->rc) {
		p->rc = code;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		mc_error_set(p->err, code, "%s", msg);
	}
	return code;
}

/* At most 64 bytes of what the reader typed go back in a message. */
static int cut(size_t n)
{
	return (int)(n > 64 ? 64 : n);
}

static struct ix_qnode *node_new(struct parser *p, enum ix_qkind k)
{
	struct ix_qnode *n = mc_arena_zalloc(p->q->arena, sizeof(*n));

	if (!n && !p->rc) {
		p->rc = -ENOMEM;
		mc_error_set(p->err, -ENOMEM, "out of memory");
	}
	if (n)
		n->kind = k;
	return n;
}

static int count_term(struct parser *p)
{
	if (++p->q->nterms > IX_MAX_QUERY_TERMS) {
		if (!p->rc) {
			p->rc = MC_E_TOOBIG;
			mc_error_set(p->err, MC_E_TOOBIG, "the query has more than %u words",
				     IX_MAX_QUERY_TERMS);
		}
		return -1;
	}
	return 0;
}

static int add_kid(struct parser *p, struct ix_qnode *parent, struct ix_qnode *kid, size_t *cap)
{
	int rc;

	if (!kid)
		return 0;
	rc = mc_arena_grow(p->q->arena, (void **)&parent->kids, &parent->nkids, cap,
			   sizeof(parent->kids[0]));
	if (rc) {
		if (!p->rc) {
			p->rc = rc == MC_E_TOOBIG ? -ENOMEM : rc;
			mc_error_set(p->err, p->rc, "out of memory");
		}
		return -1;
	}
	parent->kids[parent->nkids++] = kid;
	return 0;
}

/* ---- words of a token ---- */

struct wctx {
	struct parser *p;
	struct ix_qword *w;
	size_t n, cap;
};

static int word_cb(void *ctx, const char *w, size_t n)
{
	struct wctx *c = ctx;
	struct parser *p = c->p;
	struct ix_qword *qw;
	int rc;

	if (count_term(p))
		return 1;
	rc = ix_text_word_forms(w, n, &p->acc, &p->fold);
	if (rc) {
		p->rc = rc == MC_E_TOOBIG ? MC_E_TOOBIG : -ENOMEM;
		mc_error_set(p->err, p->rc, "a word of the query is too long");
		return 1;
	}
	if (!p->fold.len)
		return 0;
	rc = mc_arena_grow(p->q->arena, (void **)&c->w, &c->n, &c->cap, sizeof(c->w[0]));
	if (rc)
		goto nomem;
	qw = &c->w[c->n];
	memset(qw, 0, sizeof(*qw));
	qw->raw = mc_arena_strndup(p->q->arena, w, n);
	qw->acc = mc_arena_strndup(p->q->arena, p->acc.data, p->acc.len);
	qw->fold = mc_arena_strndup(p->q->arena, p->fold.data, p->fold.len);
	if (!qw->raw || !qw->acc || !qw->fold)
		goto nomem;
	qw->marks = ix_text_has_marks(w, n);
	c->n++;
	return 0;
nomem:
	p->rc = -ENOMEM;
	mc_error_set(p->err, -ENOMEM, "out of memory");
	return 1;
}

static int isbn_shaped(const char *s, size_t n)
{
	size_t i, digits = 0;

	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if ((s[i] == 'X' || s[i] == 'x') && i == n - 1)
			digits++;
		else if (s[i] != '-')
			return 0;
	}
	return digits == 10 || digits == 13;
}

static struct ix_qnode *isbn_node(struct parser *p, const char *s, size_t n, int strict)
{
	char out[14];
	struct ix_qnode *node;

	if (mc_isbn_normalise(s, n, out) != 0) {
		if (strict)
			fail(p, MC_E_USAGE, "isbn: '%.*s' is not a valid ISBN", cut(n), s);
		return NULL;
	}
	if (count_term(p))
		return NULL;
	node = node_new(p, IX_Q_ISBN);
	if (node)
		memcpy(node->isbn, out, sizeof(out));
	return node;
}

/* 1..4 digits; -1 when s[0..n) is not that. */
static int year_num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	if (n == 0 || n > 4)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v > 0 ? v : -1;
}

static struct ix_qnode *year_node(struct parser *p, const char *s, size_t n)
{
	const char *sep = NULL;
	size_t seplen = 0, i;
	int from = 0, to = 0;
	struct ix_qnode *node;

	for (i = 0; i < n; i++) {
		if (i + 1 < n && s[i] == '.' && s[i + 1] == '.') {
			sep = s + i;
			seplen = 2;
			break;
		}
		if (s[i] == '-' && i > 0) {
			sep = s + i;
			seplen = 1;
			break;
		}
	}
	if (!sep) {
		from = to = year_num(s, n);
		if (from < 0)
			goto bad;
	} else {
		size_t a = (size_t)(sep - s), b = n - a - seplen;

		if (a && (from = year_num(s, a)) < 0)
			goto bad;
		if (b && (to = year_num(sep + seplen, b)) < 0)
			goto bad;
		if (!a && !b)
			goto bad;
		if (from && to && from > to) {
			int t = from;

			from = to;
			to = t;
		}
	}
	if (count_term(p))
		return NULL;
	node = node_new(p, IX_Q_YEAR);
	if (node) {
		node->year_from = from;
		node->year_to = to;
	}
	return node;
bad:
	fail(p, MC_E_USAGE, "year: expects a year (1990) or a range (1990..2000), not '%.*s'",
	     cut(n), s);
	return NULL;
}

/* A WORD or PHRASE token's text under field f. */
static struct ix_qnode *text_node(struct parser *p, int f, const char *s, size_t n, int wild,
				  int phrase)
{
	struct wctx c = { p, NULL, 0, 0 };
	struct ix_qnode *node;
	size_t i, cap = 0;

	if (f == F_ISBN)
		return isbn_node(p, s, n, 1);
	if (f == F_YEAR)
		return year_node(p, s, n);
	if (!phrase && !wild && f == F_ANY && isbn_shaped(s, n)) {
		node = isbn_node(p, s, n, 0);
		if (node || p->rc)
			return node;
	}
	if (ix_text_words(s, n, word_cb, &c) || p->rc)
		return NULL;
	if (c.n == 0)
		return NULL;
	if (wild && strlen(c.w[c.n - 1].fold) < IX_QUERY_MIN_PREFIX) {
		fail(p, MC_E_USAGE, "a prefix search needs at least %u letters before the *",
		     IX_QUERY_MIN_PREFIX);
		return NULL;
	}
	if (c.n == 1 || wild) {
		struct ix_qnode *and_node = NULL;

		if (c.n > 1 && !(and_node = node_new(p, IX_Q_AND)))
			return NULL;
		for (i = 0; i < c.n; i++) {
			node = node_new(p, IX_Q_WORD);
			if (!node)
				return NULL;
			node->field = (enum ix_qfield)f;
			node->words = &c.w[i];
			node->nwords = 1;
			node->wildcard = wild && i == c.n - 1;
			if (!and_node)
				return node;
			if (add_kid(p, and_node, node, &cap))
				return NULL;
		}
		return and_node;
	}
	node = node_new(p, IX_Q_PHRASE);
	if (!node)
		return NULL;
	node->field = (enum ix_qfield)f;
	node->words = c.w;
	node->nwords = c.n;
	return node;
}

/* ---- grammar ----
 *   or      := and (OR and)*
 *   and     := unary ((AND)? unary)*
 *   unary   := NOT unary | primary
 *   primary := '(' or ')' | FIELD primary | PHRASE | WORD */

static struct ix_qnode *parse_or(struct parser *p, unsigned depth, int f);

static int deeper(struct parser *p, unsigned depth)
{
	if (depth > IX_MAX_QUERY_DEPTH) {
		if (!p->rc) {
			p->rc = MC_E_TOOBIG;
			mc_error_set(p->err, MC_E_TOOBIG,
				     "the query nests parentheses or NOT more than %u deep",
				     IX_MAX_QUERY_DEPTH);
		}
		return -1;
	}
	if (depth > p->q->depth)
		p->q->depth = depth;
	return 0;
}

static struct ix_qnode *parse_primary(struct parser *p, unsigned depth, int f)
{
	struct token t;
	const struct token *la;

	next(p, &t);
	switch (t.t) {
	case T_LP: {
		struct ix_qnode *n;

		if (deeper(p, depth + 1))
			return NULL;
		n = parse_or(p, depth + 1, f);
		if (p->rc)
			return NULL;
		if (peek(p)->t == T_RP)
			next(p, &t);
		else
			p->q->repaired = 1;
		return n;
	}
	case T_FIELD:
		f = t.field;
		while (peek(p)->t == T_FIELD) {  /* title:author:x: the last one */
			next(p, &t);
			f = t.field;
		}
		la = peek(p);
		if (la->t == T_LP || la->t == T_PHRASE || la->t == T_WORD || la->t == T_FIELD)
			return parse_primary(p, depth, f);
		return NULL;  /* "title:" with nothing after it */
	case T_PHRASE:
		return text_node(p, f, t.p, t.n, 0, 1);
	case T_WORD:
		/* "ISBN 978-..." */
		if (f == F_ANY && ascii_ieq(t.p, t.n, "isbn") && peek(p)->t == T_WORD &&
		    isbn_shaped(p->la.p, p->la.n)) {
			struct ix_qnode *n = isbn_node(p, p->la.p, p->la.n, 0);

			if (n || p->rc) {
				next(p, &t);
				return n;
			}
		}
		return text_node(p, f, t.p, t.n, t.wild, 0);
	default:
		return NULL;  /* not reached: the callers peek first */
	}
}

static struct ix_qnode *parse_unary(struct parser *p, unsigned depth, int f)
{
	struct token t;
	struct ix_qnode *kid, *n;

	if (peek(p)->t != T_NOT)
		return parse_primary(p, depth, f);
	next(p, &t);
	if (deeper(p, depth + 1))
		return NULL;
	switch (peek(p)->t) {
	case T_EOF: case T_RP: case T_OR: case T_AND:
		return NULL;  /* a dangling NOT */
	default:
		break;
	}
	kid = parse_unary(p, depth + 1, f);
	if (!kid)
		return NULL;
	if (kid->kind == IX_Q_NOT)
		return kid->kids[0];  /* NOT NOT x */
	n = node_new(p, IX_Q_NOT);
	if (!n)
		return NULL;
	n->kids = mc_arena_alloc(p->q->arena, sizeof(n->kids[0]));
	if (!n->kids) {
		fail(p, -ENOMEM, "out of memory");
		return NULL;
	}
	n->kids[0] = kid;
	n->nkids = 1;
	return n;
}

static struct ix_qnode *simplify(struct ix_qnode *n)
{
	if (!n || n->kind == IX_Q_NOT || (n->kind != IX_Q_AND && n->kind != IX_Q_OR))
		return n;
	if (n->nkids == 0)
		return NULL;
	if (n->nkids == 1)
		return n->kids[0];
	return n;
}

static int add_flat(struct parser *p, struct ix_qnode *parent, struct ix_qnode *kid, size_t *cap)
{
	size_t i;

	if (kid && kid->kind == parent->kind) {
		for (i = 0; i < kid->nkids; i++)
			if (add_kid(p, parent, kid->kids[i], cap))
				return -1;
		return 0;
	}
	return add_kid(p, parent, kid, cap);
}

static struct ix_qnode *parse_and(struct parser *p, unsigned depth, int f)
{
	struct ix_qnode *n = node_new(p, IX_Q_AND);
	size_t cap = 0;
	struct token t;

	if (!n)
		return NULL;
	for (;;) {
		const struct token *la = peek(p);

		if (la->t == T_EOF || la->t == T_RP || la->t == T_OR)
			break;
		if (la->t == T_AND) {
			next(p, &t);
			continue;
		}
		if (add_flat(p, n, parse_unary(p, depth, f), &cap) || p->rc)
			return NULL;
	}
	return simplify(n);
}

static struct ix_qnode *parse_or(struct parser *p, unsigned depth, int f)
{
	struct ix_qnode *n = node_new(p, IX_Q_OR);
	size_t cap = 0;
	struct token t;

	if (!n)
		return NULL;
	for (;;) {
		if (add_flat(p, n, parse_and(p, depth, f), &cap) || p->rc)
			return NULL;
		if (peek(p)->t != T_OR)
			break;
		next(p, &t);
	}
	return simplify(n);
}

int ix_query_parse(const char *q, size_t len, struct ix_query **ret, struct mc_error *err)
{
	struct parser p;
	struct ix_query *query;
	struct ix_qnode *top;
	size_t bad, cap = 0;
	struct token t;
	int rc;

	mc_error_clear(err);
	if (len > IX_MAX_QUERY_BYTES)
		return mc_error_set(err, MC_E_TOOBIG, "the query is longer than %u bytes",
				    IX_MAX_QUERY_BYTES);
	if (len && memchr(q, '\0', len))
		return mc_error_set(err, MC_E_USAGE, "the query holds a NUL byte");
	if (!mc_utf8_valid(q, len, &bad))
		return mc_error_set(err, MC_E_USAGE, "the query is not valid UTF-8 (byte %zu)", bad);
	query = calloc(1, sizeof(*query));
	if (!query)
		return mc_error_set(err, -ENOMEM, "out of memory");
	rc = mc_arena_new(ARENA_MAX, &query->arena);
	if (rc) {
		free(query);
		return mc_error_set(err, rc, "out of memory");
	}
	memset(&p, 0, sizeof(p));
	p.s = q;
	p.len = len;
	p.q = query;
	p.err = err;
	mc_buf_init(&p.acc, FORM_MAX);
	mc_buf_init(&p.fold, FORM_MAX);
	top = node_new(&p, IX_Q_AND);
	while (top && !p.rc) {
		if (add_flat(&p, top, parse_or(&p, 0, F_ANY), &cap) || p.rc)
			break;
		if (peek(&p)->t == T_EOF)
			break;
		next(&p, &t);  /* a stray ) */
		query->repaired = 1;
	}
	mc_buf_free(&p.acc);
	mc_buf_free(&p.fold);
	if (p.rc) {
		ix_query_free(query);
		return p.rc;
	}
	query->root = simplify(top);
	*ret = query;
	return 0;
}

void ix_query_free(struct ix_query *q)
{
	if (!q)
		return;
	mc_arena_free(q->arena);
	free(q);
}

/* ---- text forms ---- */

static const char *field_name(enum ix_qfield f)
{
	switch (f) {
	case IX_QF_TITLE: return "title";
	case IX_QF_AUTHOR: return "author";
	case IX_QF_SUBJECT: return "subject";
	default: return "any";
	}
}

static int fmt_node(const struct ix_qnode *n, struct mc_buf *o, int nested)
{
	const char *w;
	size_t i;
	int rc = 0;

	switch (n->kind) {
	case IX_Q_WORD:
		if (n->field != IX_QF_ANY)
			rc = mc_buf_addf(o, "%s:", field_name(n->field));
		w = n->words[0].fix ? n->words[0].fix : n->words[0].raw;
		/* a word that would read as an operator ("OR" cut from "OR&")
		 * or an ISBN (";080442957X") keeps being a word in quotes */
		if (!rc)
			rc = !n->wildcard && (op_of(w, strlen(w)) >= 0 || isbn_shaped(w, strlen(w)))
				     ? mc_buf_addf(o, "\"%s\"", w)
				     : mc_buf_adds(o, w);
		if (!rc && n->wildcard)
			rc = mc_buf_addc(o, '*');
		return rc;
	case IX_Q_PHRASE:
		if (n->field != IX_QF_ANY)
			rc = mc_buf_addf(o, "%s:", field_name(n->field));
		if (!rc)
			rc = mc_buf_addc(o, '"');
		for (i = 0; i < n->nwords && !rc; i++)
			rc = mc_buf_addf(o, "%s%s", i ? " " : "",
					 n->words[i].fix ? n->words[i].fix : n->words[i].raw);
		return rc ? rc : mc_buf_addc(o, '"');
	case IX_Q_ISBN:
		return mc_buf_addf(o, "isbn:%s", n->isbn);
	case IX_Q_YEAR:
		if (n->year_from == n->year_to)
			return mc_buf_addf(o, "year:%d", n->year_from);
		rc = mc_buf_adds(o, "year:");
		if (!rc && n->year_from)
			rc = mc_buf_addf(o, "%d", n->year_from);
		if (!rc)
			rc = mc_buf_adds(o, "..");
		if (!rc && n->year_to)
			rc = mc_buf_addf(o, "%d", n->year_to);
		return rc;
	case IX_Q_NOT:
		rc = mc_buf_adds(o, "NOT ");
		return rc ? rc : fmt_node(n->kids[0], o, 1);
	case IX_Q_AND:
	case IX_Q_OR:
		if (nested)
			rc = mc_buf_addc(o, '(');
		for (i = 0; i < n->nkids && !rc; i++) {
			if (i)
				rc = mc_buf_adds(o, n->kind == IX_Q_OR ? " OR " : " ");
			if (!rc)
				rc = fmt_node(n->kids[i], o, 1);
		}
		if (!rc && nested)
			rc = mc_buf_addc(o, ')');
		return rc;
	}
	return 0;
}

int ix_query_format(const struct ix_query *q, struct mc_buf *out)
{
	return q->root ? fmt_node(q->root, out, 0) : 0;
}

static int dump_node(const struct ix_qnode *n, struct mc_buf *o)
{
	size_t i;
	int rc = 0;

	switch (n->kind) {
	case IX_Q_WORD:
		rc = mc_buf_addf(o, "%s:%s%s", field_name(n->field), n->words[0].fold,
				 n->wildcard ? "*" : "");
		if (!rc && n->words[0].marks)
			rc = mc_buf_addf(o, "[%s]", n->words[0].acc);
		return rc;
	case IX_Q_PHRASE:
		rc = mc_buf_addf(o, "%s:\"", field_name(n->field));
		for (i = 0; i < n->nwords && !rc; i++)
			rc = mc_buf_addf(o, "%s%s", i ? " " : "", n->words[i].fold);
		return rc ? rc : mc_buf_addc(o, '"');
	case IX_Q_ISBN:
	case IX_Q_YEAR:
		return fmt_node(n, o, 0);
	case IX_Q_NOT:
	case IX_Q_AND:
	case IX_Q_OR:
		rc = mc_buf_adds(o, n->kind == IX_Q_NOT ? "NOT(" : n->kind == IX_Q_AND ? "AND(" : "OR(");
		for (i = 0; i < n->nkids && !rc; i++) {
			if (i)
				rc = mc_buf_addc(o, ' ');
			if (!rc)
				rc = dump_node(n->kids[i], o);
		}
		return rc ? rc : mc_buf_addc(o, ')');
	}
	return 0;
}

int ix_query_dump(const struct ix_query *q, struct mc_buf *out)
{
	return q->root ? dump_node(q->root, out) : 0;
}
