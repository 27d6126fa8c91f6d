/* match.c — member summaries, match keys and pair verification. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "merger-internal.h"

/* ---- small text helpers ---- */

static const char *fold(struct mc_arena *a, struct mc_buf *b, const char *s, size_t len, int *rc)
{
	const char *r;

	mc_buf_reset(b);
	if (!s || !len)
		return NULL;
	if (len > MG_MAX_STR)
		len = MG_MAX_STR;
	*rc = mc_text_fold(s, len, b);
	if (*rc == MC_E_ENCODING) {
		/* a value cut inside a character: drop the tail and fold again */
		while (len && ((unsigned char)s[len - 1] & 0xc0) == 0x80)
			len--;
		if (len)
			len--;
		mc_buf_reset(b);
		*rc = len ? mc_text_fold(s, len, b) : 0;
	}
	if (*rc || !b->len)
		return NULL;
	r = mc_arena_strndup(a, b->data, b->len);
	if (!r)
		*rc = -ENOMEM;
	return r;
}

static const char *dup_cap(struct mc_arena *a, const char *s, int *rc)
{
	size_t l;
	const char *r;

	if (!s)
		return NULL;
	l = strlen(s);
	if (l > MG_MAX_STR) {
		l = MG_MAX_STR;
		while (l && ((unsigned char)s[l] & 0xc0) == 0x80)
			l--;
	}
	r = mc_arena_strndup(a, s, l);
	if (!r)
		*rc = -ENOMEM;
	return r;
}

/* next space-separated token of folded text */
static int next_tok(const char **p, const char **t, size_t *tl)
{
	const char *s = *p;

	while (*s == ' ')
		s++;
	if (!*s)
		return 0;
	*t = s;
	while (*s && *s != ' ')
		s++;
	*tl = (size_t)(s - *t);
	*p = s;
	return 1;
}

static int tok_is(const char *t, size_t tl, const char *w)
{
	return strlen(w) == tl && !memcmp(t, w, tl);
}

static int tok_num(const char *t, size_t tl)
{
	int v = 0;
	size_t i;

	if (!tl || tl > 5)
		return -1;
	for (i = 0; i < tl; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -1;
		v = v * 10 + (t[i] - '0');
	}
	return v;
}

/* leading number of a token such as "2nd" */
static int tok_lead_num(const char *t, size_t tl)
{
	size_t i = 0;
	int v = 0;

	while (i < tl && i < 4 && t[i] >= '0' && t[i] <= '9')
		v = v * 10 + (t[i++] - '0');
	return i ? v : -1;
}

int mg_edition_number(const char *s)
{
	static const char *const ord[] = { "first", "second", "third", "fourth", "fifth",
					   "sixth", "seventh", "eighth", "ninth", "tenth" };
	struct mc_buf b;
	const char *p, *t, *toks[32];
	size_t tl, lens[32], n = 0, i, k;
	int v = 0, reprint = 0, rc;

	if (!s || !*s)
		return 0;
	mc_buf_init(&b, 4096);
	rc = mc_text_fold(s, strnlen(s, 1024), &b);
	if (rc || !b.data) {
		mc_buf_free(&b);
		return 0;
	}
	p = b.data;
	while (n < 32 && next_tok(&p, &t, &tl)) {
		toks[n] = t;
		lens[n++] = tl;
	}
	for (i = 0; i < n && !v; i++) {
		if (tok_is(toks[i], lens[i], "tai") && i + 1 < n && tok_is(toks[i + 1], lens[i + 1], "ban")) {
			reprint = 1;
			/* "tái bản lần thứ 2" / "tái bản lần 2" */
			for (k = i + 2; k < n && k < i + 5; k++) {
				int x = tok_num(toks[k], lens[k]);

				if (x > 0) {
					v = x + 1;
					break;
				}
			}
			if (!v)
				v = 2;
		} else if (tok_is(toks[i], lens[i], "lan")) {
			/* "in lần 2", "xuất bản lần thứ 3", "lần thứ 2" */
			for (k = i + 1; k < n && k < i + 3; k++) {
				int x = tok_num(toks[k], lens[k]);

				if (x > 0) {
					v = x;
					break;
				}
			}
		} else if (tok_is(toks[i], lens[i], "ed") || tok_is(toks[i], lens[i], "edition") ||
			   tok_is(toks[i], lens[i], "ed.") || tok_is(toks[i], lens[i], "auflage") ||
			   tok_is(toks[i], lens[i], "aufl") || tok_is(toks[i], lens[i], "edn")) {
			if (i > 0) {
				int x = tok_lead_num(toks[i - 1], lens[i - 1]);

				if (x > 0)
					v = x;
				for (k = 0; !v && k < sizeof(ord) / sizeof(ord[0]); k++)
					if (tok_is(toks[i - 1], lens[i - 1], ord[k]))
						v = (int)k + 1;
			}
			if (!v && i + 1 < n) {
				int x = tok_num(toks[i + 1], lens[i + 1]);

				if (x > 0)
					v = x;
			}
		}
	}
	(void)reprint;
	mc_buf_free(&b);
	return v > 0 && v < 1000 ? v : 0;
}

int mg_extent_pages(const char *s)
{
	struct mc_buf b;
	const char *p, *t, *pt = NULL;
	size_t tl, ptl = 0;
	int best = 0, rc;

	if (!s || !*s)
		return 0;
	mc_buf_init(&b, 4096);
	if ((rc = mc_text_fold(s, strnlen(s, 1024), &b)) || !b.data) {
		mc_buf_free(&b);
		return rc == -ENOMEM ? -ENOMEM : 0;
	}
	p = b.data;
	while (next_tok(&p, &t, &tl)) {
		if (pt && (tok_is(t, tl, "tr") || tok_is(t, tl, "trang") || tok_is(t, tl, "p") ||
			   tok_is(t, tl, "pp") || tok_is(t, tl, "pages") || tok_is(t, tl, "page") ||
			   tok_is(t, tl, "s") || tok_is(t, tl, "to") || tok_is(t, tl, "la"))) {
			int x = tok_num(pt, ptl);

			if (x > best)
				best = x;
		}
		pt = t;
		ptl = tl;
	}
	mc_buf_free(&b);
	return best;
}

int mg_edit_distance(const char *a, size_t al, const char *b, size_t bl, int max)
{
	int row[258], i, j;

	if (al > 256 || bl > 256)
		return al == bl && !memcmp(a, b, al) ? 0 : max + 1;
	if ((int)(al > bl ? al - bl : bl - al) > max)
		return max + 1;
	for (j = 0; j <= (int)bl; j++)
		row[j] = j;
	for (i = 1; i <= (int)al; i++) {
		int prev = row[0], lo = max + 1;

		row[0] = i;
		for (j = 1; j <= (int)bl; j++) {
			int cur = row[j];
			int best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
			if (best < lo)
				lo = best;
		}
		if (lo > max)
			return max + 1;
	}
	return row[bl] > max ? max + 1 : row[bl];
}

/* ---- summaries ---- */

static int has_upper_run(const char *s)
{
	int up = 0, low = 0;

	for (; s && *s; s++) {
		if (isupper((unsigned char)*s))
			up++;
		else if (islower((unsigned char)*s))
			low++;
	}
	return up > 3 && low == 0;
}

static int non_ascii(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

static int known_control(const char *v)
{
	static const char *const pre[] = { "(OCoLC)", "(DLC)", "(VNNLV)", "(VN-", "(NLV)",
					   "(DNB)", "(Uk)", "(CaOONL)", "(BNF)", "(FrPBN)" };
	size_t i;

	for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
		if (!strncmp(v, pre[i], strlen(pre[i])))
			return 1;
	return 0;
}

static int add_key(struct mc_arena *a, const char **keys, size_t *n, const char *k)
{
	size_t i;

	if (!k)
		return -ENOMEM;
	if (*n >= MG_MAX_KEYS || strlen(k) > 200)
		return 0;
	for (i = 0; i < *n; i++)
		if (!strcmp(keys[i], k))
			return 0;
	keys[(*n)++] = k;
	return 0;
}

/* first n tokens of folded text */
static const char *first_tokens(struct mc_arena *a, const char *s, int n)
{
	const char *p = s, *t, *start = NULL, *end = NULL;
	size_t tl;

	while (n-- > 0 && next_tok(&p, &t, &tl)) {
		if (!start)
			start = t;
		end = t + tl;
	}
	if (!start)
		return NULL;
	return mc_arena_strndup(a, start, (size_t)(end - start));
}

/* Publisher folded without the words that say "publishing house". */
static const char *pub_core(struct mc_arena *a, const char *f, int *rc)
{
	static const char *const drop[] = { "nxb", "nha", "xuat", "ban", "publishing", "publisher",
					    "publishers", "house", "press", "inc", "ltd", "co",
					    "cong", "ty", "tnhh", "va" };
	struct mc_buf b;
	const char *p = f, *t, *r = NULL;
	size_t tl, i;

	if (!f)
		return NULL;
	mc_buf_init(&b, MG_MAX_STR);
	while (next_tok(&p, &t, &tl)) {
		int skip = 0, brc;

		for (i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
			if (tok_is(t, tl, drop[i]))
				skip = 1;
		if (skip)
			continue;
		brc = b.len ? mc_buf_addc(&b, ' ') : 0;
		if (!brc)
			brc = mc_buf_add(&b, t, tl);
		if (brc == -ENOMEM) {  /* too long (MC_E_TOOBIG) just cuts it */
			*rc = brc;
			break;
		}
	}
	if (b.len && !*rc && !(r = mc_arena_strndup(a, b.data, b.len)))
		*rc = -ENOMEM;
	mc_buf_free(&b);
	return r;
}

int mg_mem_from_record(const struct mc_record *rec, struct mc_arena *a, struct mg_mem *m)
{
	const struct mc_fields *f = &rec->f;
	struct mc_buf b;
	const char **keys = NULL;
	size_t i, n;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	mc_buf_init(&b, 4 * MG_MAX_STR);
	m->ref = mc_arena_printf(a, "%s:%s", rec->source, rec->local_id);
	if (!m->ref) {
		rc = -ENOMEM;
		goto out;
	}
	m->datestamp = rec->datestamp;
	m->format = rec->format;
	m->year = f->year > 0 && f->year < 10000 ? f->year : 0;
	m->edition_s = dup_cap(a, f->edition, &rc);
	m->edition = mg_edition_number(f->edition);
	m->extent = dup_cap(a, f->extent, &rc);
	m->pages = mg_extent_pages(f->extent);
	if (m->pages < 0) {
		rc = m->pages;
		goto out;
	}
	m->material = dup_cap(a, f->material, &rc);
	m->title = dup_cap(a, f->title, &rc);
	m->resp = dup_cap(a, f->responsibility, &rc);
	m->publisher = dup_cap(a, f->publisher, &rc);
	m->place = dup_cap(a, f->place, &rc);
	m->date = dup_cap(a, f->date, &rc);
	if (rc)
		goto out;
	if (f->title) {
		size_t tl = strlen(f->title), ml = tl;
		const char *c;

		m->ftitle = fold(a, &b, f->title, tl, &rc);
		if (rc)
			goto out;
		/* main title: up to the subtitle, parallel title or part */
		if ((c = strstr(f->title, " : ")) && (size_t)(c - f->title) < ml)
			ml = (size_t)(c - f->title);
		if ((c = strstr(f->title, " = ")) && (size_t)(c - f->title) < ml)
			ml = (size_t)(c - f->title);
		if ((c = strstr(f->title, ". ")) && (size_t)(c - f->title) < ml && c - f->title > 3)
			ml = (size_t)(c - f->title);
		m->fmain = fold(a, &b, f->title, ml, &rc);
		if (rc)
			goto out;
		if (!m->fmain)
			m->fmain = m->ftitle;
	}
	if (f->publisher) {
		const char *fp = fold(a, &b, f->publisher, strlen(f->publisher), &rc);

		if (rc)
			goto out;
		m->fpub = pub_core(a, fp, &rc);
		if (rc)
			goto out;
	}
	/* identifiers */
	n = f->ids.n < MG_MAX_LIST ? f->ids.n : MG_MAX_LIST;
	if (n) {
		m->ids = mc_arena_alloc(a, n * sizeof(*m->ids));
		if (!m->ids) {
			rc = -ENOMEM;
			goto out;
		}
		for (i = 0; i < n; i++) {
			m->ids[i].type = dup_cap(a, f->ids.v[i].type, &rc);
			m->ids[i].value = dup_cap(a, f->ids.v[i].value, &rc);
		}
		m->nids = n;
	}
	n = f->nnames < 16 ? f->nnames : 16;
	if (n) {
		m->names = mc_arena_alloc(a, n * sizeof(*m->names));
		m->fnames = mc_arena_alloc(a, n * sizeof(*m->fnames));
		if (!m->names || !m->fnames) {
			rc = -ENOMEM;
			goto out;
		}
		for (i = 0; i < n; i++) {
			const char *nm = f->names[i].name ? f->names[i].name : "";

			m->names[i] = dup_cap(a, nm, &rc);
			m->fnames[i] = fold(a, &b, nm, strlen(nm), &rc);
			if (!rc && !m->fnames[i])
				m->fnames[i] = "";
		}
		m->nnames = n;
	}
	n = f->subjects.n < MG_MAX_LIST ? f->subjects.n : MG_MAX_LIST;
	if (n) {
		m->subjects = mc_arena_alloc(a, n * sizeof(char *));
		if (!m->subjects) {
			rc = -ENOMEM;
			goto out;
		}
		for (i = 0; i < n; i++)
			m->subjects[i] = dup_cap(a, f->subjects.v[i], &rc);
		m->nsubjects = n;
	}
	n = f->nlinks < MG_MAX_LIST ? f->nlinks : MG_MAX_LIST;
	if (n) {
		m->links = mc_arena_alloc(a, n * sizeof(char *));
		if (!m->links) {
			rc = -ENOMEM;
			goto out;
		}
		for (i = 0; i < n; i++)
			m->links[i] = dup_cap(a, f->links[i].url ? f->links[i].url : "", &rc);
		m->nlinks = n;
	}
	m->items = (int)(f->nholdings < 100000 ? f->nholdings : 100000);
	for (i = 0; i < f->nholdings; i++)
		if (f->holdings[i].call_number) {
			m->call_number = dup_cap(a, f->holdings[i].call_number, &rc);
			break;
		}
	if (rc)
		goto out;

	/* completeness: more fields, real diacritics, not ALL CAPS */
	m->score = (m->title != NULL) + (m->resp != NULL) + (m->edition_s != NULL) +
		   (m->publisher != NULL) + (m->place != NULL) + (m->date != NULL) +
		   (m->extent != NULL) + (int)m->nids + (int)m->nnames + (int)m->nsubjects +
		   (int)m->nlinks + (non_ascii(m->title) ? 5 : 0) - (has_upper_run(m->title) ? 5 : 0);
	if (m->score < 0)
		m->score = 0;

	/* match keys */
	keys = mc_arena_alloc(a, MG_MAX_KEYS * sizeof(*keys));
	if (!keys) {
		rc = -ENOMEM;
		goto out;
	}
	n = 0;
	for (i = 0; !rc && i < m->nids; i++) {
		const char *t = m->ids[i].type, *v = m->ids[i].value;

		if (!t || !v || !*v)
			continue;
		if (!strcmp(t, "isbn"))
			rc = add_key(a, keys, &n, mc_arena_printf(a, "i%s", v));
		else if (!strcmp(t, "issn"))
			rc = add_key(a, keys, &n, mc_arena_printf(a, "s%s", v));
		else if (!strcmp(t, "lccn"))
			rc = add_key(a, keys, &n, mc_arena_printf(a, "l%s", v));
		else if (!strcmp(t, "nbn"))
			rc = add_key(a, keys, &n, mc_arena_printf(a, "b%s", v));
		else if (!strcmp(t, "std"))
			rc = add_key(a, keys, &n, mc_arena_printf(a, "o%s", v));
		else if (!strcmp(t, "control") && known_control(v))
			rc = add_key(a, keys, &n, mc_arena_printf(a, "c%s", v));
	}
	if (!rc && m->fmain) {
		const char *t4 = first_tokens(a, m->fmain, 4);

		if (t4)
			rc = add_key(a, keys, &n, mc_arena_printf(a, "t%s|%d", t4, m->year));
	}
	/* name keys: initial of the first word + the last word + year, so that
	 * "N. R. Jennings" and "Nicholas R. Jennings" meet */
	for (i = 0; !rc && i < m->nnames && i < 2; i++) {
		const char *fn = m->fnames[i], *last;

		if (!fn || !*fn || !m->ftitle)
			continue;
		last = strrchr(fn, ' ');
		last = last ? last + 1 : fn;
		/* with the title's first two letters: "Nguyễn ... Anh" alone is common */
		rc = add_key(a, keys, &n, mc_arena_printf(a, "n%c %s|%d|%.1s", fn[0], last, m->year,
							  m->ftitle));
	}
	m->keys = keys;
	m->nkeys = n;
out:
	mc_buf_free(&b);
	return rc;
}

/* ---- verification ---- */

static int id_sets(const struct mg_mem *a, const struct mg_mem *b, const char *type, int *shared)
{
	size_t i, j;
	int na = 0, nb = 0;

	*shared = 0;
	for (i = 0; i < a->nids; i++) {
		if (!a->ids[i].type || strcmp(a->ids[i].type, type))
			continue;
		na++;
		for (j = 0; j < b->nids; j++)
			if (b->ids[j].type && !strcmp(b->ids[j].type, type) && b->ids[j].value &&
			    a->ids[i].value && !strcmp(a->ids[i].value, b->ids[j].value))
				*shared = 1;
	}
	for (j = 0; j < b->nids; j++)
		if (b->ids[j].type && !strcmp(b->ids[j].type, type))
			nb++;
	return na && nb; /* both have some */
}

int mg_shared_id(const struct mg_mem *a, const struct mg_mem *b)
{
	size_t i, j;

	for (i = 0; i < a->nkeys; i++) {
		char c = a->keys[i][0];

		if (c == 't' || c == 'n')
			continue;
		for (j = 0; j < b->nkeys; j++)
			if (!strcmp(a->keys[i], b->keys[j]))
				return 1;
	}
	return 0;
}

#define MAXTOK 64

static size_t tokens(const char *s, const char **t, size_t *l)
{
	const char *p = s;
	size_t n = 0;

	while (s && n < MAXTOK && next_tok(&p, &t[n], &l[n]))
		n++;
	return n;
}

static int same_tok(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && !memcmp(a, b, al);
}

/* span of tokens t[i..j) as one string (pointers into the source) */
static int span_dist(const char **ta, size_t *la, size_t ia, size_t ja, const char **tb,
		     size_t *lb, size_t ib, size_t jb, int max)
{
	const char *a0 = ia < ja ? ta[ia] : "", *b0 = ib < jb ? tb[ib] : "";
	size_t al = ia < ja ? (size_t)(ta[ja - 1] + la[ja - 1] - a0) : 0;
	size_t bl = ib < jb ? (size_t)(tb[jb - 1] + lb[jb - 1] - b0) : 0;

	return mg_edit_distance(a0, al, b0, bl, max);
}

static int span_digit(const char **t, size_t *l, size_t i, size_t j)
{
	size_t k, c;

	for (k = i; k < j; k++)
		for (c = 0; c < l[k]; c++)
			if (t[k][c] >= '0' && t[k][c] <= '9')
				return 1;
	return 0;
}

/* Title similarity on folded text: equal; one is the other with a block of
 * words left out (subtitle dropped); or a small typo (edit distance <= 2 on
 * the differing words, also next to a dropped block). loose: identifiers
 * already agree, so a shared main title is enough. */
static int title_ok(const struct mg_mem *a, const struct mg_mem *b, int loose, const char **why)
{
	const char *ta[MAXTOK], *tb[MAXTOK];
	size_t la[MAXTOK], lb[MAXTOK], na, nb, p = 0, s = 0, ra, rb;

	if (!a->ftitle || !b->ftitle) {
		*why = "title missing";
		return loose;
	}
	if (!strcmp(a->ftitle, b->ftitle)) {
		*why = "title equal";
		return 1;
	}
	na = tokens(a->ftitle, ta, la);
	nb = tokens(b->ftitle, tb, lb);
	while (p < na && p < nb && same_tok(ta[p], la[p], tb[p], lb[p]))
		p++;
	while (s < na - p && s < nb - p &&
	       same_tok(ta[na - 1 - s], la[na - 1 - s], tb[nb - 1 - s], lb[nb - 1 - s]))
		s++;
	ra = na - p - s;
	rb = nb - p - s;
	if ((!ra || !rb) && p > 0 && a->pages && b->pages) {
		/* "Title" and "Title : Tập 1" of the same extent: the part left out */
		*why = "title with a block of words left out (same extent)";
		return 1;
	}
	if (span_digit(ta, la, p, p + ra) || span_digit(tb, lb, p, p + rb)) {
		/* "Toán 10" is not "Toán 11", nor "Tập 1" of a set the set */
		*why = "titles differ in a number";
		goto last;
	}
	if (!ra || !rb) {
		/* a block of words only in one: dropped subtitle or part */
		if (p + s == 0) {
			*why = "title differs";
			return 0;
		}
		*why = "title with a block of words left out";
		return 1;
	}
	if (span_dist(ta, la, p, p + ra, tb, lb, p, p + rb, 2) <= 2) {
		*why = "title with a small typo";
		return 1;
	}
	/* typo next to a dropped block: compare the shorter remainder with the
	 * same number of words at either end of the longer one */
	if (ra < rb && p + s > 0) {
		if (span_dist(ta, la, p, p + ra, tb, lb, p, p + ra, 2) <= 2 ||
		    span_dist(ta, la, p, p + ra, tb, lb, p + rb - ra, p + rb, 2) <= 2) {
			*why = "title with a typo and a block left out";
			return 1;
		}
	} else if (rb < ra && p + s > 0) {
		if (span_dist(ta, la, p, p + rb, tb, lb, p, p + rb, 2) <= 2 ||
		    span_dist(ta, la, p + ra - rb, p + ra, tb, lb, p, p + rb, 2) <= 2) {
			*why = "title with a typo and a block left out";
			return 1;
		}
	}
	{
		/* long titles: most words in common (a word changed or added) */
		size_t i, j, common = 0;

		if (na >= 5 && nb >= 5) {
			for (i = 0; i < na; i++)
				for (j = 0; j < nb; j++)
					if (same_tok(ta[i], la[i], tb[j], lb[j])) {
						common++;
						break;
					}
			if (common * 10 >= (na + nb) * 4) { /* Dice >= 0.8 */
				*why = "titles share most words";
				return 1;
			}
		}
	}
	*why = "title differs";
last:
	if (loose && a->fmain && b->fmain && !strcmp(a->fmain, b->fmain)) {
		*why = "main title equal (identifiers agree)";
		return 1;
	}
	return 0;
}

/* Token t of a name matches u: equal, an initial ("n" / "nicholas") or a
 * short form ("don" / "donald"). */
static int name_tok_ok(const char *t, size_t tl, const char *u, size_t ul)
{
	if (same_tok(t, tl, u, ul))
		return 1;
	if ((tl == 1 || ul == 1) && t[0] == u[0])
		return 1;
	if (tl >= 3 && ul > tl && !memcmp(t, u, tl))
		return 1;
	return ul >= 3 && tl > ul && !memcmp(t, u, ul);
}

/* Two forms of one name: nearly equal, the same words in another order, or
 * the same last word with the other words matching in order as initials or
 * short forms ("N. R. Jennings" / "Nicholas R. Jennings"). Vietnamese names
 * are compared in direct order as they stand. */
static int name_compat(const char *x, const char *y)
{
	const char *tx[16], *ty[16];
	size_t lx[16], ly[16], nx = 0, ny = 0, i, j;
	const char *p;

	if (!*x || !*y)
		return 0;
	if (mg_edit_distance(x, strlen(x), y, strlen(y), 2) <= 2)
		return 1;
	p = x;
	while (nx < 16 && next_tok(&p, &tx[nx], &lx[nx]))
		nx++;
	p = y;
	while (ny < 16 && next_tok(&p, &ty[ny], &ly[ny]))
		ny++;
	if (!nx || !ny)
		return 0;
	if (nx == ny) {
		/* same words, another order ("Coelho, Paulo") */
		size_t hit = 0;

		for (i = 0; i < nx; i++)
			for (j = 0; j < ny; j++)
				if (same_tok(tx[i], lx[i], ty[j], ly[j])) {
					hit++;
					break;
				}
		if (hit == nx)
			return 1;
	}
	if (!same_tok(tx[nx - 1], lx[nx - 1], ty[ny - 1], ly[ny - 1]) || lx[nx - 1] < 2)
		return 0;
	{
		/* sh: the shorter name, lo: the longer */
		const char **sh = nx <= ny ? tx : ty, **lo = nx <= ny ? ty : tx;
		size_t *shl = nx <= ny ? lx : ly, *lol = nx <= ny ? ly : lx;
		size_t ns = nx <= ny ? nx : ny, nl = nx <= ny ? ny : nx;

		/* every word but the last of the shorter, in order, in the longer */
		for (i = 0, j = 0; i + 1 < ns; i++) {
			while (j + 1 < nl && !name_tok_ok(sh[i], shl[i], lo[j], lol[j]))
				j++;
			if (j + 1 >= nl)
				return 0;
			j++;
		}
	}
	return 1;
}

static int names_ok(const struct mg_mem *a, const struct mg_mem *b)
{
	size_t i, j;

	if (!a->nnames || !b->nnames)
		return 1;
	for (i = 0; i < a->nnames; i++)
		for (j = 0; j < b->nnames; j++)
			if (name_compat(a->fnames[i], b->fnames[j]))
				return 1;
	return 0;
}

static int pub_ok(const struct mg_mem *a, const struct mg_mem *b)
{
	const char *ta[MAXTOK], *tb[MAXTOK];
	size_t la[MAXTOK], lb[MAXTOK], na, nb, i, j;

	if (!a->fpub || !b->fpub)
		return 1;
	na = tokens(a->fpub, ta, la);
	nb = tokens(b->fpub, tb, lb);
	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			if (same_tok(ta[i], la[i], tb[j], lb[j]))
				return 1;
	return 0;
}

static int material_known(const char *m)
{
	return m && *m && strcmp(m, "other") && strcmp(m, "mixed");
}

/* Rule 5, shared by mg_verify and the quick checks: both extents known and
 * more than 3 pages and 5 % apart. */
static int pages_differ(int32_t a, int32_t b)
{
	int64_t d = (int64_t)a - b, big = a > b ? a : b;

	if (!a || !b)
		return 0;
	if (d < 0)
		d = -d;
	return d > 3 && d * 20 > big;
}

static int cap(int v, int max)
{
	return v < 0 ? 0 : v > max ? max : v;
}

void mg_quick_from_mem(const struct mg_mem *m, struct mg_quick *q)
{
	size_t i;

	memset(q, 0, sizeof(*q));
	q->pages = m->pages;
	q->year = (uint16_t)cap(m->year, 65535);
	q->edition = (uint8_t)cap(m->edition, 255);
	q->material = material_known(m->material) ? (uint16_t)(mc_hash32_str(m->material) | 1) : 0;
	for (i = 0; i < m->nids; i++) {
		const struct mg_tv *t = &m->ids[i];
		uint32_t h;

		if (!t->type)
			continue;
		h = t->value ? mc_hash32_str(t->value) : 0;
		if (!strcmp(t->type, "isbn")) {
			q->has |= 1;
			if (t->value)
				q->isbn |= (uint16_t)(1u << (h & 15));
		} else if (!strcmp(t->type, "issn")) {
			q->has |= 2;
			if (t->value)
				q->issn |= (uint8_t)(1u << (h & 7));
		}
	}
}

/* Each test mirrors a rule of mg_verify that rejects whatever else holds.
 * Years and editions are compared when both are non-zero, as there (a
 * negative one is capped to 0 here, where mg_verify would compare it: no
 * rejection is the safe side). */
int mg_quick_reject(const struct mg_quick *a, const struct mg_quick *b)
{
	if ((a->has & b->has & 1) && !(a->isbn & b->isbn))
		return 1;
	if ((a->has & b->has & 2) && !(a->issn & b->issn))
		return 1;
	if (a->year && b->year && a->year != b->year)
		return 1;
	if (a->material && b->material && a->material != b->material)
		return 1;
	if (a->edition && b->edition && a->edition != b->edition)
		return 1;
	return pages_differ(a->pages, b->pages);
}

int mg_verify(const struct mg_mem *a, const struct mg_mem *b, const char **why)
{
	const char *w = "";
	int sh, idmatch = 0, ok = 0;

	if (id_sets(a, b, "isbn", &sh)) {
		if (!sh) {
			w = "conflicting ISBNs";
			goto out;
		}
	}
	idmatch |= sh;
	if (id_sets(a, b, "issn", &sh)) {
		if (!sh) {
			w = "conflicting ISSNs";
			goto out;
		}
	}
	idmatch |= sh;
	idmatch |= mg_shared_id(a, b);
	if (a->year && b->year && a->year != b->year) {
		w = "years differ";
		goto out;
	}
	if (material_known(a->material) && material_known(b->material) &&
	    strcmp(a->material, b->material)) {
		w = "material types differ";
		goto out;
	}
	if (a->edition && b->edition && a->edition != b->edition) {
		w = "editions differ";
		goto out;
	}
	if (pages_differ(a->pages, b->pages)) {
		w = "page counts differ";
		goto out;
	}
	if (!title_ok(a, b, idmatch, &w))
		goto out;
	if (!idmatch) {
		if (!names_ok(a, b)) {
			w = "no name in common";
			goto out;
		}
		if (!pub_ok(a, b)) {
			w = "publishers differ";
			goto out;
		}
	}
	ok = 1;
	w = idmatch ? "identifier and title agree" : "title, names, year and publisher agree";
out:
	if (why)
		*why = w;
	return ok;
}
