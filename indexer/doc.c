/* doc.c — one Xapian document from one union record (schemas/index.md,
 * "Documents"): the public members' stored records give the words, exact
 * terms, facets, values and the document data. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ucol.h>
#include <unicode/ustring.h>

#include "ix-index-internal.h"
#include "ix-text.h"

const char *const ix_spell_prefixes[] = { "XT", "XA", NULL };

/* facet slots 10..16, in this order */
enum { F_LIBRARY, F_PROVINCE, F_TYPE, F_LANG, F_MATERIAL, F_CATEGORY, F_DIGITAL, F_COUNT };
static const char *const facet_names[F_COUNT] = { "library", "province", "type", "lang",
						  "material", "category", "digital" };
#define FACET_SLOT0 10u
/* every facet in one value (schemas/index.md, slot 17) */
#define IX_SLOT_FACETS 17u

/* the longest main title and name the work key folds, bytes */
#define WORK_TITLE_MAX 2048u
/* the longest title given to the collator, bytes */
#define SORT_TITLE_MAX 512u

struct ix_docb {
	const struct mc_config *cfg;
	ix_link_fn link;
	void *link_ctx;
	UCollator *coll;
	struct mc_record *recs[IX_DOC_MAX_MEMBERS]; /* allocated on first use, reused */
	const struct mc_source *srcs[IX_DOC_MAX_MEMBERS];
	size_t n;                 /* public members read for this union */
	struct mc_buf acc, fold, term, prev, tmp, scratch, link_buf;
	struct mc_buf facets[F_COUNT];
	uint64_t seen[IX_DOC_MAX_VALUES];
	size_t nseen;
	/* the field being indexed */
	struct ixw_doc *doc;
	const char *prefix, *pairp;
	unsigned wdf, pos, nwords;
	int spell;
	UChar u16[SORT_TITLE_MAX + 1];
	uint8_t *key;
	size_t keycap;
	char *json;               /* the document data, IX_DOC_MAX_DATA bytes */
};

int ix_docb_new(const struct mc_config *cfg, ix_link_fn link, void *link_ctx,
		struct ix_docb **ret, struct mc_error *err)
{
	UErrorCode st = U_ZERO_ERROR;
	struct ix_docb *b = calloc(1, sizeof(*b));
	size_t i;

	if (!b)
		return -ENOMEM;
	b->cfg = cfg;
	b->link = link;
	b->link_ctx = link_ctx;
	b->coll = ucol_open("vi", &st);
	if (U_FAILURE(st) || !b->coll) {
		free(b);
		return mc_error_set(err, MC_E_STORE, "ICU collator for 'vi': %s", u_errorName(st));
	}
	mc_buf_init(&b->acc, 4 * IX_WORD_MAX + 16);
	mc_buf_init(&b->fold, 4 * IX_WORD_MAX + 16);
	mc_buf_init(&b->term, 1024);
	mc_buf_init(&b->prev, 4 * IX_WORD_MAX + 16);
	mc_buf_init(&b->tmp, 64u << 10);
	mc_buf_init(&b->scratch, 64u << 10);
	/* a link is at most a host, a prefix and a local id (510 bytes) */
	mc_buf_init(&b->link_buf, 4096);
	for (i = 0; i < F_COUNT; i++)
		mc_buf_init(&b->facets[i], 64u << 10);
	b->json = malloc(IX_DOC_MAX_DATA);
	if (!b->json || mc_buf_reserve(&b->link_buf, 4095)) {
		ix_docb_free(b);
		return -ENOMEM;
	}
	*ret = b;
	return 0;
}

void ix_docb_free(struct ix_docb *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < IX_DOC_MAX_MEMBERS; i++)
		mc_record_free(b->recs[i]);
	ucol_close(b->coll);
	mc_buf_free(&b->acc);
	mc_buf_free(&b->fold);
	mc_buf_free(&b->term);
	mc_buf_free(&b->prev);
	mc_buf_free(&b->tmp);
	mc_buf_free(&b->scratch);
	mc_buf_free(&b->link_buf);
	for (i = 0; i < F_COUNT; i++)
		mc_buf_free(&b->facets[i]);
	free(b->key);
	free(b->json);
	free(b);
}

void ix_uterm(uint64_t id, char *buf, size_t n)
{
	snprintf(buf, n, "Q%llu", (unsigned long long)id);
}

/* ---- helpers ---- */

static int ascii_word(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return n > 0;
}

/* Too long for Xapian: the term is left out, the document still goes in. */
static int skip_toobig(int rc)
{
	return rc == MC_E_TOOBIG ? 0 : rc;
}

/* A boolean term: prefix then the formatted rest. */
static int bterm(struct ix_docb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bterm(struct ix_docb *b, const char *fmt, ...)
{
	va_list ap;
	char buf[IXW_TERM_MAX + 2];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n > IXW_TERM_MAX)
		return 0;
	return skip_toobig(ixw_doc_term(b->doc, buf, (size_t)n, 0));
}

/* 1 when the field being indexed had value h already (else remembers it). */
static int seen(struct ix_docb *b, uint64_t h)
{
	size_t i;

	for (i = 0; i < b->nseen; i++)
		if (b->seen[i] == h)
			return 1;
	if (b->nseen == IX_DOC_MAX_VALUES)
		return 1; /* past the cap: the rest of the field's values are left out */
	b->seen[b->nseen++] = h;
	return 0;
}

static void field_begin(struct ix_docb *b, const char *prefix, const char *pairp, unsigned wdf,
			int spell)
{
	b->prefix = prefix;
	b->pairp = pairp;
	b->wdf = wdf;
	b->spell = spell;
	b->nseen = 0;
}

static int post(struct ix_docb *b, const char *prefix, const struct mc_buf *w)
{
	int rc;

	mc_buf_reset(&b->term);
	rc = mc_buf_adds(&b->term, prefix);
	rc = rc ? rc : mc_buf_add(&b->term, w->data, w->len);
	if (rc)
		return skip_toobig(rc);
	return skip_toobig(ixw_doc_posting(b->doc, b->term.data, b->term.len, b->pos, b->wdf));
}

static int word_cb(void *ctx, const char *w, size_t n)
{
	struct ix_docb *b = ctx;
	int rc = ix_text_word_forms(w, n, &b->acc, &b->fold);

	if (rc)
		return skip_toobig(rc);
	if (!b->fold.len || !b->acc.len)
		return 0;
	b->pos++;
	rc = post(b, b->prefix, &b->acc);
	rc = rc ? rc : post(b, "", &b->acc);
	if (!rc && (b->acc.len != b->fold.len || memcmp(b->acc.data, b->fold.data, b->fold.len))) {
		rc = post(b, b->prefix, &b->fold);
		rc = rc ? rc : post(b, "", &b->fold);
	}
	if (!rc && b->nwords) {
		mc_buf_reset(&b->term);
		rc = mc_buf_adds(&b->term, b->pairp);
		rc = rc ? rc : mc_buf_add(&b->term, b->prev.data, b->prev.len);
		rc = rc ? rc : mc_buf_addc(&b->term, ' ');
		rc = rc ? rc : mc_buf_add(&b->term, b->fold.data, b->fold.len);
		rc = rc ? skip_toobig(rc)
			: skip_toobig(ixw_doc_term(b->doc, b->term.data, b->term.len, 1));
	}
	if (!rc && b->spell && ascii_word(b->fold.data, b->fold.len))
		rc = skip_toobig(ixw_doc_spelling(b->doc, b->fold.data, b->fold.len));
	if (rc)
		return rc;
	mc_buf_reset(&b->prev);
	b->nwords++;
	return skip_toobig(mc_buf_add(&b->prev, b->fold.data, b->fold.len));
}

/* Index one value of the current field (once per document). */
static int text(struct ix_docb *b, const char *s)
{
	if (!s || !*s || seen(b, mc_hash64_str(s)))
		return 0;
	b->pos += IX_POS_GAP;
	b->nwords = 0;
	return ix_text_words(s, strlen(s), word_cb, b);
}

/* Add value v to facet f (slot list and XF term), once. */
static int facet(struct ix_docb *b, int f, const char *v)
{
	struct mc_buf *l = &b->facets[f];
	size_t vl, i;
	int rc;

	if (!v || !*v)
		return 0;
	vl = strlen(v);
	if (vl > IXW_TERM_MAX - 16 || memchr(v, '\x1f', vl))
		return 0;
	for (i = 0; i < l->len;) {
		const char *e = memchr(l->data + i, '\x1f', l->len - i);
		size_t el = e ? (size_t)(e - (l->data + i)) : l->len - i;

		if (el == vl && !memcmp(l->data + i, v, vl))
			return 0;
		i += el + 1;
	}
	rc = l->len ? mc_buf_addc(l, '\x1f') : 0;
	rc = rc ? rc : mc_buf_add(l, v, vl);
	if (rc)
		return skip_toobig(rc);
	return bterm(b, "XF%s:%s", facet_names[f], v);
}

/* Folded text with spaces as '-' (province facet values). */
static int fold_dashed(struct ix_docb *b, const char *s, struct mc_buf *out)
{
	size_t i;
	int rc;

	mc_buf_reset(out);
	rc = mc_text_fold(s, strlen(s), out);
	if (rc)
		return rc;
	for (i = 0; i < out->len; i++)
		if (out->data[i] == ' ')
			out->data[i] = '-';
	return 0;
}

/* 1 when folded s holds the words of folded phrase p ("dia chi"), 0 when
 * not (or s does not fold), -ENOMEM. */
static int has_phrase(struct ix_docb *b, const char *s, const char *p)
{
	size_t pl = strlen(p), sl = s ? strlen(s) : 0;
	const char *hit, *d;
	int rc;

	/* a long note: its first 16 kB */
	if (sl > 16384) {
		sl = 16384;
		while (sl > 0 && ((unsigned char)s[sl] & 0xc0) == 0x80)
			sl--;
	}
	if (!sl)
		return 0;
	mc_buf_reset(&b->scratch);
	rc = mc_text_fold(s, sl, &b->scratch);
	if (rc == -ENOMEM)
		return rc;
	if (rc || !b->scratch.len)
		return 0;
	d = b->scratch.data;
	for (hit = strstr(d, p); hit; hit = strstr(hit + 1, p))
		if ((hit == d || hit[-1] == ' ') && (hit[pl] == '\0' || hit[pl] == ' '))
			return 1;
	return 0;
}

/* *flag = 1 when s has phrase p. 0 or -ENOMEM. */
static int phrase_flag(struct ix_docb *b, const char *s, const char *p, int *flag)
{
	int rc = has_phrase(b, s, p);

	if (rc < 0)
		return rc;
	if (rc)
		*flag = 1;
	return 0;
}

static int lower_ascii_term(struct ix_docb *b, const char *type, const char *v)
{
	char buf[IXW_TERM_MAX + 2];
	int n = snprintf(buf, sizeof(buf), "XO%s:%s", type, v);
	int i;

	if (n < 0 || (size_t)n > IXW_TERM_MAX)
		return 0;
	for (i = 2; i < n; i++)
		if (buf[i] >= 'A' && buf[i] <= 'Z')
			buf[i] = (char)(buf[i] - 'A' + 'a');
	return skip_toobig(ixw_doc_term(b->doc, buf, (size_t)n, 0));
}

/* Member restricted by the record itself: MARC 506 with first indicator 1. */
static int self_restricted(const struct mc_record *rec)
{
	size_t i;

	if (!rec->marc)
		return 0;
	for (i = 0; i < rec->marc->nfields; i++)
		if (!strcmp(rec->marc->fields[i].tag, "506") && rec->marc->fields[i].ind1 == '1')
			return 1;
	return 0;
}

static int has_upper_run(const char *s)
{
	int run = 0;

	for (; s && *s; s++) {
		run = (*s >= 'A' && *s <= 'Z') ? run + 1 : 0;
		if (run >= 4)
			return 1;
	}
	return 0;
}

static int non_ascii(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

/* The merger's completeness score (merger/match.c), on the stored fields. */
static int score(const struct mc_fields *f)
{
	int s = (f->title != NULL) + (f->responsibility != NULL) + (f->edition != NULL) +
		(f->publisher != NULL) + (f->place != NULL) + (f->date != NULL) +
		(f->extent != NULL) + (int)f->ids.n + (int)f->nnames + (int)f->subjects.n +
		(int)f->nlinks + (non_ascii(f->title) ? 5 : 0) - (has_upper_run(f->title) ? 5 : 0);

	return s < 0 ? 0 : s;
}

/* ---- the pieces of a document ---- */

static int read_members(struct ix_docb *b, struct mc_reader *r, const struct mg_union_view *u,
			struct mc_error *err)
{
	size_t i;
	int rc;

	b->n = 0;
	for (i = 0; i < u->nmembers && b->n < IX_DOC_MAX_MEMBERS; i++) {
		const char *ref = u->members[i], *c = strchr(ref, ':');
		char src[64];
		const struct mc_source *cs;
		struct mc_record *rec;

		if (!c || c == ref || (size_t)(c - ref) >= sizeof(src))
			continue;
		memcpy(src, ref, (size_t)(c - ref));
		src[c - ref] = '\0';
		cs = mc_config_source(b->cfg, src);
		/* a source no longer configured has no known visibility: left out */
		if (!cs || cs->visibility != MC_VIS_PUBLIC)
			continue;
		if (!b->recs[b->n] && (rc = mc_record_new(&b->recs[b->n])))
			return rc;
		rec = b->recs[b->n];
		rc = mc_reader_get(r, src, c + 1, rec, err);
		if (rc == MC_E_NOTFOUND)
			continue;
		if (rc)
			return rc;
		if (rec->status != MC_REC_PRESENT || self_restricted(rec))
			continue;
		b->srcs[b->n] = cs;
		b->n++;
	}
	return 0;
}

/* The exact-title term: XZ and the folded words of a title joined by one
 * space, whole words up to IX_EXACT_TITLE_MAX bytes (schemas/index.md). The
 * query side builds the same term from a query's words. */
struct exact_ctx {
	struct ix_docb *b;
	int rc;
};

static int exact_cb(void *ctx, const char *w, size_t n)
{
	struct exact_ctx *x = ctx;
	struct ix_docb *b = x->b;

	x->rc = ix_text_word_forms(w, n, &b->acc, &b->fold);
	if (x->rc)
		return 1;
	x->rc = ix_text_exact_add(&b->scratch, b->fold.data, b->fold.len);
	if (x->rc == 1)
		x->rc = 0;
	else if (x->rc == 0)
		return 0;
	return 1;
}

static int exact_title(struct ix_docb *b, const char *t, size_t len)
{
	struct exact_ctx x = { b, 0 };
	int rc;

	mc_buf_reset(&b->scratch);
	if ((rc = mc_buf_add(&b->scratch, "XZ", 2)) != 0)
		return rc;
	ix_text_words(t, len, exact_cb, &x);
	if (x.rc)
		return skip_toobig(x.rc);
	if (b->scratch.len <= 2)
		return 0;
	return skip_toobig(ixw_doc_term(b->doc, b->scratch.data, b->scratch.len, 1));
}

/* Every public member's title, and its main title, as exact-title terms. */
static int exact_titles(struct ix_docb *b)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < b->n; i++) {
		const char *t = b->recs[i]->f.title;
		size_t tl, cut;

		if (!t)
			continue;
		tl = strlen(t);
		cut = ix_text_main_title_len(t, tl);
		rc = exact_title(b, t, tl);
		if (!rc && cut < tl)
			rc = exact_title(b, t, cut);
	}
	return rc;
}

static int words(struct ix_docb *b)
{
	size_t i, j;
	int rc = 0;

	field_begin(b, "XT", "XB", 3, 1);
	for (i = 0; !rc && i < b->n; i++)
		rc = text(b, b->recs[i]->f.title);
	field_begin(b, "XA", "XC", 2, 1);
	for (i = 0; !rc && i < b->n; i++)
		for (j = 0; !rc && j < b->recs[i]->f.nnames; j++)
			rc = text(b, b->recs[i]->f.names[j].name);
	field_begin(b, "XK", "XC", 1, 0);
	for (i = 0; !rc && i < b->n; i++)
		for (j = 0; !rc && j < b->recs[i]->f.subjects.n; j++)
			rc = text(b, b->recs[i]->f.subjects.v[j]);
	field_begin(b, "XE", "XC", 1, 0);
	for (i = 0; !rc && i < b->n; i++)
		for (j = 0; !rc && j < b->recs[i]->f.series.n; j++)
			rc = text(b, b->recs[i]->f.series.v[j]);
	field_begin(b, "XP", "XC", 1, 0);
	for (i = 0; !rc && i < b->n; i++) {
		rc = text(b, b->recs[i]->f.publisher);
		rc = rc ? rc : text(b, b->recs[i]->f.place);
	}
	field_begin(b, "XN", "XC", 1, 0);
	for (i = 0; !rc && i < b->n; i++)
		for (j = 0; !rc && j < b->recs[i]->f.notes.n; j++)
			rc = text(b, b->recs[i]->f.notes.v[j]);
	field_begin(b, "XU", "XC", 1, 0);
	for (i = 0; !rc && i < b->n; i++)
		for (j = 0; !rc && j < b->recs[i]->f.classes.n; j++)
			rc = text(b, b->recs[i]->f.classes.v[j].value);
	return rc;
}

/* Identifiers: XI, XS, XO, and the ISBN list of the document data. */
static int idterms(struct ix_docb *b, json_t *isbns)
{
	size_t i, j;
	int rc = 0;

	for (i = 0; !rc && i < b->n; i++) {
		const struct mc_tvv *ids = &b->recs[i]->f.ids;

		for (j = 0; !rc && j < ids->n; j++) {
			const char *t = ids->v[j].type, *v = ids->v[j].value;
			char i13[14], is[10];

			if (!t || !v || !*v)
				continue;
			if (!strcmp(t, "isbn")) {
				if (mc_isbn_normalise(v, strlen(v), i13))
					continue;
				rc = bterm(b, "XI%s", i13);
				if (!rc && isbns) {
					size_t k;
					json_t *e;
					int dup = 0;

					json_array_foreach(isbns, k, e)
						if (!strcmp(json_string_value(e), i13))
							dup = 1;
					if (!dup && json_array_append_new(isbns, json_string(i13)))
						rc = -ENOMEM;
				}
			} else if (!strcmp(t, "issn")) {
				if (mc_issn_normalise(v, strlen(v), is))
					continue;
				rc = bterm(b, "XS%.4s%.4s", is, is + 5);
			} else {
				rc = lower_ascii_term(b, t, v);
			}
		}
		rc = rc ? rc : bterm(b, "XL%s:%s", b->recs[i]->source, b->recs[i]->local_id);
		rc = rc ? rc : bterm(b, "XL%s", b->recs[i]->local_id);
	}
	return rc;
}

/* Slot 17: every facet of the document in one value, "name:value" joined by
 * \x1f (schemas/index.md), so that counting reads one value stream. */
static int all_facets(struct ix_docb *b, int year)
{
	struct mc_buf *o = &b->tmp;
	int rc = 0;

	mc_buf_reset(o);
	for (size_t i = 0; !rc && i < F_COUNT; i++) {
		const struct mc_buf *l = &b->facets[i];

		for (size_t at = 0; !rc && at < l->len;) {
			const char *e = memchr(l->data + at, '\x1f', l->len - at);
			size_t el = e ? (size_t)(e - (l->data + at)) : l->len - at;

			rc = o->len ? mc_buf_addc(o, '\x1f') : 0;
			rc = rc ? rc : mc_buf_addf(o, "%s:", facet_names[i]);
			rc = rc ? rc : mc_buf_add(o, l->data + at, el);
			at += el + 1;
		}
	}
	if (!rc && year > 0)
		rc = mc_buf_addf(o, "%syear:%d", o->len ? "\x1f" : "", year);
	if (rc)
		return skip_toobig(rc);
	return o->len ? ixw_doc_value(b->doc, IX_SLOT_FACETS, o->data, o->len) : 0;
}

static int facets(struct ix_docb *b, int year)
{
	size_t i, j;
	int rc = 0, thesis = 0, diachi = 0, rare = year > 0 && year < 1945, digital = 0;

	for (i = 0; i < F_COUNT; i++)
		mc_buf_reset(&b->facets[i]);
	for (i = 0; !rc && i < b->n; i++) {
		const struct mc_record *rec = b->recs[i];
		const struct mc_fields *f = &rec->f;

		rc = facet(b, F_LIBRARY, b->srcs[i]->id);
		if (!rc && b->srcs[i]->province) {
			rc = fold_dashed(b, b->srcs[i]->province, &b->tmp);
			rc = rc ? skip_toobig(rc) : facet(b, F_PROVINCE, b->tmp.data);
		}
		rc = rc ? rc : facet(b, F_TYPE, mc_source_type_name(b->srcs[i]->type));
		for (j = 0; !rc && j < f->languages.n; j++) {
			rc = facet(b, F_LANG, f->languages.v[j]);
			if (!strcmp(f->languages.v[j], "chi"))
				rare = 1;
		}
		rc = rc ? rc : facet(b, F_MATERIAL, f->material);
		if (f->material && !strcmp(f->material, "thesis"))
			thesis = 1;
		if (rec->marc && mc_marc_first(rec->marc, "502"))
			thesis = 1;
		for (j = 0; !rc && !diachi && j < f->subjects.n; j++)
			rc = phrase_flag(b, f->subjects.v[j], "dia chi", &diachi);
		for (j = 0; !rc && j < f->notes.n; j++) {
			rc = diachi ? 0 : phrase_flag(b, f->notes.v[j], "dia chi", &diachi);
			rc = rc || rare ? rc : phrase_flag(b, f->notes.v[j], "han nom", &rare);
		}
		if (f->nlinks)
			digital = 1;
	}
	if (!rc && diachi)
		rc = facet(b, F_CATEGORY, "dia-chi");
	if (!rc && thesis)
		rc = facet(b, F_CATEGORY, "thesis");
	if (!rc && rare)
		rc = facet(b, F_CATEGORY, "rare");
	if (!rc && digital)
		rc = facet(b, F_DIGITAL, "1");
	if (!rc && year > 0)
		rc = bterm(b, "XFyear:%04d", year);
	for (i = 0; !rc && i < F_COUNT; i++)
		if (b->facets[i].len)
			rc = ixw_doc_value(b->doc, FACET_SLOT0 + (unsigned)i, b->facets[i].data,
					   b->facets[i].len);
	return rc ? rc : all_facets(b, year);
}

/* Work key: mc_hash64 of "<folded main title>|<folded last word of the
 * first name>", 16 hex digits. */
static int work_key(struct ix_docb *b, const struct mc_fields *f, char out[17])
{
	const char *t = f->title ? f->title : "";
	size_t cut = ix_text_main_title_len(t, strlen(t));
	size_t start;
	int rc;

	/* a main title longer than this is cut (at a character boundary) */
	if (cut > WORK_TITLE_MAX) {
		cut = WORK_TITLE_MAX;
		while (cut > 0 && ((unsigned char)t[cut] & 0xc0) == 0x80)
			cut--;
	}
	mc_buf_reset(&b->tmp);
	rc = mc_text_fold(t, cut, &b->tmp);
	rc = rc ? rc : mc_buf_addc(&b->tmp, '|');
	if (!rc && f->nnames && f->names[0].name) {
		mc_buf_reset(&b->scratch);
		size_t nl = strlen(f->names[0].name);

		if (nl > WORK_TITLE_MAX) {
			nl = WORK_TITLE_MAX;
			while (nl > 0 && ((unsigned char)f->names[0].name[nl] & 0xc0) == 0x80)
				nl--;
		}
		rc = mc_text_fold(f->names[0].name, nl, &b->scratch);
		if (!rc) {
			start = b->scratch.len;
			while (start > 0 && b->scratch.data[start - 1] != ' ')
				start--;
			rc = mc_buf_add(&b->tmp, b->scratch.data + start, b->scratch.len - start);
		}
	}
	if (rc)
		return rc;
	snprintf(out, 17, "%016llx", (unsigned long long)mc_hash64(b->tmp.data, b->tmp.len));
	return 0;
}

static int sort_key(struct ix_docb *b, const char *title)
{
	UErrorCode st = U_ZERO_ERROR;
	size_t tl = title ? strlen(title) : 0;
	int32_t n = 0, kl;

	if (!tl)
		return 0;
	if (tl > SORT_TITLE_MAX) {
		tl = SORT_TITLE_MAX;
		while (tl > 0 && ((unsigned char)title[tl] & 0xc0) == 0x80)
			tl--;
	}
	u_strFromUTF8Lenient(b->u16, SORT_TITLE_MAX, &n, title, (int32_t)tl, &st);
	if (U_FAILURE(st) || n <= 0)
		return 0;
	kl = ucol_getSortKey(b->coll, b->u16, n, b->key, (int32_t)b->keycap);
	if (kl > 0 && (size_t)kl > b->keycap) {
		uint8_t *k = realloc(b->key, (size_t)kl);

		if (!k)
			return -ENOMEM;
		b->key = k;
		b->keycap = (size_t)kl;
		kl = ucol_getSortKey(b->coll, b->u16, n, b->key, (int32_t)b->keycap);
	}
	if (kl <= 1)
		return 0;
	/* without the trailing NUL */
	return ixw_doc_value(b->doc, 1, b->key, (size_t)kl - 1);
}

static int set_str(json_t *o, const char *k, const char *v)
{
	if (!v)
		return 0;
	return json_object_set_new(o, k, json_string(v)) ? -ENOMEM : 0;
}

static int set_new(json_t *o, const char *k, json_t *v)
{
	/* json_object_set_new takes v even when it fails (NULL: out of memory) */
	return json_object_set_new(o, k, v) ? -ENOMEM : 0;
}

static int data(struct ix_docb *b, uint64_t id, const struct mc_fields *base, int year,
		json_t *isbns, const char *work, size_t maxhold)
{
	json_t *o = json_object(), *names = json_array(), *hold = json_array();
	size_t i, j;
	int rc = (!o || !names || !hold) ? -ENOMEM : 0;

	rc = rc ? rc : set_new(o, "id", json_integer((json_int_t)id));
	rc = rc ? rc : set_str(o, "title", base->title);
	for (j = 0; !rc && j < base->nnames && j < 32; j++)
		if (base->names[j].name)
			rc = json_array_append_new(names, json_string(base->names[j].name)) ?
				     -ENOMEM : 0;
	rc = rc ? rc : set_new(o, "names", json_incref(names));
	if (!rc && year)
		rc = set_new(o, "year", json_integer(year));
	rc = rc ? rc : set_str(o, "publisher", base->publisher);
	rc = rc ? rc : set_new(o, "isbn", json_incref(isbns));
	rc = rc ? rc : set_str(o, "material", base->material);
	rc = rc ? rc : set_str(o, "work", work);
	for (i = 0; !rc && i < b->n && i < maxhold; i++) {
		const struct mc_record *rec = b->recs[i];
		json_t *h = json_object();
		const char *cn = NULL, *url;

		if (!h) {
			rc = -ENOMEM;
			break;
		}
		for (j = 0; j < rec->f.nholdings && !cn; j++)
			cn = rec->f.holdings[j].call_number;
		rc = set_str(h, "library", b->srcs[i]->id);
		rc = rc ? rc : set_str(h, "name", b->srcs[i]->name);
		rc = rc ? rc : set_str(h, "call_number", cn);
		rc = rc ? rc : set_new(h, "items", json_integer((json_int_t)(
						rec->f.nholdings < 100000 ? rec->f.nholdings : 100000)));
		/* the link buffer has room for any link (reserved at the start):
		 * NULL means no link, never a shortage */
		mc_buf_reset(&b->link_buf);
		url = b->link ? b->link(b->link_ctx, rec->source, rec->local_id, &b->link_buf) : NULL;
		rc = rc ? rc : set_str(h, "link", url);
		if (json_array_append_new(hold, h))
			rc = -ENOMEM;
	}
	rc = rc ? rc : set_new(o, "holdings", json_incref(hold));
	if (!rc) {
		/* into a buffer of our own: json_dumps drops a key whose copy
		 * fails for want of memory (jansson 2.14) and says nothing */
		size_t n = json_dumpb(o, b->json, IX_DOC_MAX_DATA, JSON_COMPACT | JSON_PRESERVE_ORDER);

		if (n == 0)
			rc = -ENOMEM;
		else if (n > IX_DOC_MAX_DATA)
			rc = MC_E_TOOBIG;
		else
			rc = ixw_doc_data(b->doc, b->json, n);
	}
	json_decref(names);
	json_decref(hold);
	json_decref(o);
	return rc;
}

int ix_docb_build(struct ix_docb *b, struct mc_reader *r, const struct mg_union_view *u,
		  struct ixw_doc *doc, struct mc_error *err)
{
	const struct mc_fields *base;
	json_t *isbns = NULL;
	char work[17], ut[32];
	size_t i, bi = 0, libs = 0;
	int rc, year = 0, best = -1;

	ixw_doc_clear(doc);
	b->doc = doc;
	b->pos = 0;
	rc = read_members(b, r, u, err);
	if (rc || !b->n)
		return rc;
	for (i = 0; i < b->n; i++) {
		int s = score(&b->recs[i]->f);

		if (s > best) {
			best = s;
			bi = i;
		}
		if (i == 0 || b->srcs[i] != b->srcs[i - 1])
			libs++;
	}
	base = &b->recs[bi]->f;
	year = base->year;
	for (i = 0; !year && i < b->n; i++)
		year = b->recs[i]->f.year;
	isbns = json_array();
	if (!isbns)
		return -ENOMEM;
	ix_uterm(u->id, ut, sizeof(ut));
	rc = ixw_doc_term(doc, ut, strlen(ut), 0);
	rc = rc ? rc : words(b);
	rc = rc ? rc : exact_titles(b);
	rc = rc ? rc : idterms(b, isbns);
	rc = rc ? rc : work_key(b, base, work);
	rc = rc ? rc : bterm(b, "XW%s", work);
	rc = rc ? rc : facets(b, year);
	if (!rc && year)
		rc = ixw_doc_value_num(doc, 0, year);
	rc = rc ? rc : sort_key(b, base->title);
	rc = rc ? rc : ixw_doc_value(doc, 2, work, 16);
	rc = rc ? rc : ixw_doc_value_num(doc, 3, (double)u->created);
	rc = rc ? rc : ixw_doc_value_num(doc, 4, (double)libs);
	/* past its cap, the data lists fewer holdings (the terms keep them all) */
	for (i = b->n; !rc; i /= 2) {
		int drc = data(b, u->id, base, year, isbns, work, i);

		if (drc == MC_E_TOOBIG && i == 0) {
			/* even so (huge names or title): the id and work key only */
			char min[96];
			int n = snprintf(min, sizeof(min), "{\"id\":%llu,\"work\":\"%s\"}",
					 (unsigned long long)u->id, work);

			drc = ixw_doc_data(doc, min, (size_t)n);
		}
		if (drc != MC_E_TOOBIG || i == 0) {
			rc = drc;
			break;
		}
	}
	json_decref(isbns);
	if (rc) {
		if (err && !err->msg[0])
			mc_error_set(err, rc, "union %llu: %s", (unsigned long long)u->id,
				     mc_strerror(rc));
		return rc;
	}
	return 1;
}
