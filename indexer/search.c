/* search.c — ix_search, ix_suggest, ix_lookup (ix-search.h): check the
 * request against every limit, parse the query, run it through the shim
 * (xapian-search.cc) and build the JSON answer with jansson. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ix-query.h"
#include "ix-search.h"
#include "ix-text.h"
#include "search-internal.h"

#define SUGGEST_DOCS 50u      /* documents looked at per kind for ix_suggest */
#define SUGGEST_KEYS 256u     /* distinct titles / names counted */

#define LABELS_MAX 512u       /* library names remembered per searcher */

struct label {
	char *id, *name;
};

#define CACHE_MAX 64u         /* facet answers remembered per searcher */

/* The facet counts and total of a request, for its other pages: counting
 * is most of a search's cost, paging through an answer should not repeat
 * it. Valid for one revision of the index. */
struct cached {
	char *key;            /* the request but its page (canonical), or NULL */
	uint64_t rev;
	json_t *facets;
	uint64_t total;
	int total_exact;
	uint64_t used;        /* for least recently used */
};

struct ix_searcher {
	struct ixx_db *db;
	struct label labels[LABELS_MAX];  /* library id -> name, from the holdings */
	size_t nlabels;
	struct cached cache[CACHE_MAX];
	uint64_t tick;
};

static void cache_clear(struct ix_searcher *s)
{
	size_t i;

	for (i = 0; i < CACHE_MAX; i++) {
		free(s->cache[i].key);
		json_decref(s->cache[i].facets);
		memset(&s->cache[i], 0, sizeof(s->cache[i]));
	}
}

static struct cached *cache_find(struct ix_searcher *s, const char *key, uint64_t rev)
{
	size_t i;

	for (i = 0; i < CACHE_MAX; i++)
		if (s->cache[i].key && s->cache[i].rev == rev && strcmp(s->cache[i].key, key) == 0) {
			s->cache[i].used = ++s->tick;
			return &s->cache[i];
		}
	return NULL;
}

/* Remember (a copy of) facets; on failure nothing is remembered. */
static void cache_put(struct ix_searcher *s, const char *key, uint64_t rev, const json_t *facets,
		      uint64_t total, int total_exact)
{
	struct cached *c = &s->cache[0];
	size_t i;

	for (i = 1; i < CACHE_MAX; i++)
		if (s->cache[i].used < c->used)
			c = &s->cache[i];
	free(c->key);
	json_decref(c->facets);
	c->key = strdup(key);
	c->facets = json_deep_copy(facets);
	if (!c->key || !c->facets) {
		free(c->key);
		json_decref(c->facets);
		memset(c, 0, sizeof(*c));
		return;
	}
	c->rev = rev;
	c->total = total;
	c->total_exact = total_exact;
	c->used = ++s->tick;
}

/* The request without its page and size, as a cache key. 0 or an error. */
static int cache_key(const struct ix_query *q, const struct ix_search_req *req, struct mc_buf *k)
{
	size_t i;
	int rc;

	rc = ix_query_dump(q, k);
	rc = rc ? rc : mc_buf_addf(k, "\x1eg%d\x1ey%d-%d\x1ew%s", req->group, req->year_from,
				  req->year_to, req->work ? req->work : "");
	for (i = 0; i < req->nfilters && !rc; i++)
		rc = mc_buf_addf(k, "\x1e%s=%s", req->filters[i].facet, req->filters[i].value);
	return rc;
}

static void labels_clear(struct ix_searcher *s)
{
	size_t i;

	for (i = 0; i < s->nlabels; i++) {
		free(s->labels[i].id);
		free(s->labels[i].name);
	}
	s->nlabels = 0;
}

/* The library's name: from the holdings of a document it holds (the index
 * keeps no list of libraries), remembered. NULL: unknown (the id serves). */
static const char *library_label(struct ix_searcher *s, const char *id)
{
	struct mc_buf term;
	struct mc_error e;
	char *data = NULL;
	const char *name = NULL;
	json_t *j, *h;
	size_t i, len;

	for (i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i].id, id) == 0)
			return s->labels[i].name;
	mc_buf_init(&term, 2 * IX_MAX_FILTER_BYTES);
	if (mc_buf_addf(&term, "XFlibrary:%s", id) ||
	    ixx_term_data(s->db, term.data, &data, &len, &e)) {
		mc_buf_free(&term);
		return NULL;
	}
	mc_buf_free(&term);
	j = json_loadb(data, len, 0, NULL);
	free(data);
	json_array_foreach(json_object_get(j, "holdings"), i, h)
		if (json_is_string(json_object_get(h, "library")) &&
		    strcmp(json_string_value(json_object_get(h, "library")), id) == 0 &&
		    json_is_string(json_object_get(h, "name"))) {
			name = json_string_value(json_object_get(h, "name"));
			break;
		}
	if (name && s->nlabels < LABELS_MAX) {
		struct label *l = &s->labels[s->nlabels];

		l->id = strdup(id);
		l->name = strdup(name);
		if (l->id && l->name) {
			s->nlabels++;
			name = l->name;
		} else {
			free(l->id);
			free(l->name);
			name = NULL;
		}
	} else {
		name = NULL;
	}
	json_decref(j);
	return name;
}

int ix_searcher_open(const char *data_dir, struct ix_searcher **ret, struct mc_error *err)
{
	struct ix_searcher *s;
	char stub[4096];
	int rc;

	mc_error_clear(err);
	if ((size_t)snprintf(stub, sizeof(stub), "%s/index", data_dir) >= sizeof(stub))
		return mc_error_set(err, MC_E_USAGE, "data directory name too long");
	s = calloc(1, sizeof(*s));
	if (!s)
		return mc_error_set(err, -ENOMEM, "out of memory");
	rc = ixx_open(stub, &s->db, err);
	if (rc) {
		free(s);
		return rc;
	}
	*ret = s;
	return 0;
}

void ix_searcher_close(struct ix_searcher *s)
{
	if (!s)
		return;
	labels_clear(s);
	cache_clear(s);
	ixx_close(s->db);
	free(s);
}

int ix_searcher_refresh(struct ix_searcher *s, struct mc_error *err)
{
	int rc;

	mc_error_clear(err);
	rc = ixx_refresh(s->db, err);
	if (rc == 1) {
		labels_clear(s);  /* a library may have been renamed */
		cache_clear(s);
	}
	return rc;
}

int ix_searcher_info(struct ix_searcher *s, struct ix_info *ret, struct mc_error *err)
{
	mc_error_clear(err);
	return ixx_info(s->db, ret, err);
}

/* ---- ix_search ---- */

static int facet_known(const char *f)
{
	unsigned i;

	for (i = 0; i < IXX_NFACETS; i++)
		if (strcmp(f, ixx_facet_names[i]) == 0)
			return 1;
	return 0;
}

static int check_req(const struct ix_search_req *req, struct mc_error *err)
{
	size_t i;

	if (req->size == 0)
		return mc_error_set(err, MC_E_USAGE, "size must be between 1 and %u", IX_MAX_PAGE_SIZE);
	if (req->size > IX_MAX_PAGE_SIZE)
		return mc_error_set(err, MC_E_TOOBIG, "size must be between 1 and %u", IX_MAX_PAGE_SIZE);
	if (req->page == 0)
		return mc_error_set(err, MC_E_USAGE, "page must be 1 or more");
	if ((uint64_t)req->page * req->size > IX_MAX_RESULT_DEPTH)
		return mc_error_set(err, MC_E_TOOBIG,
				    "results past the first %u cannot be paged to: narrow the search",
				    IX_MAX_RESULT_DEPTH);
	if (req->sort < IX_SORT_RELEVANCE || req->sort > IX_SORT_TITLE)
		return mc_error_set(err, MC_E_USAGE, "sort must be relevance, year, -year or title");
	if (req->group != IX_GROUP_WORK && req->group != IX_GROUP_NONE)
		return mc_error_set(err, MC_E_USAGE, "group must be work or none");
	if (req->year_from < 0 || req->year_from > 9999 || req->year_to < 0 || req->year_to > 9999)
		return mc_error_set(err, MC_E_USAGE, "year_from and year_to are years (1..9999)");
	if (req->nfilters && !req->filters)
		return mc_error_set(err, MC_E_USAGE, "filters missing");
	if (req->nfilters > IX_MAX_FILTERS)
		return mc_error_set(err, MC_E_TOOBIG, "more than %u filter values", IX_MAX_FILTERS);
	for (i = 0; i < req->nfilters; i++) {
		const struct ix_filter *f = &req->filters[i];
		size_t n;

		if (!f->facet || !facet_known(f->facet))
			return mc_error_set(err, MC_E_USAGE, "unknown facet '%.32s'",
					    f->facet ? f->facet : "");
		n = f->value ? strlen(f->value) : 0;
		if (n == 0)
			return mc_error_set(err, MC_E_USAGE, "empty %s filter", f->facet);
		if (n > IX_MAX_FILTER_BYTES)
			return mc_error_set(err, MC_E_TOOBIG, "a %s filter value is longer than %u bytes",
					    f->facet, IX_MAX_FILTER_BYTES);
		if (!mc_utf8_valid(f->value, n, NULL))
			return mc_error_set(err, MC_E_USAGE, "a %s filter value is not valid UTF-8",
					    f->facet);
	}
	if (req->work) {
		size_t n = strlen(req->work);

		if (n == 0 || n > 32 || strspn(req->work, "0123456789abcdef") != n)
			return mc_error_set(err, MC_E_USAGE, "work must be a work key (hex digits)");
	}
	return 0;
}

static json_t *facets_json(struct ix_searcher *s, const struct ixx_out *out)
{
	json_t *o = json_object(), *a, *v;
	unsigned f;
	size_t i;

	if (!o || json_object_set_new(o, "counts", json_string("editions")) ||
	    json_object_set_new(o, "exact", json_boolean(out->counts_exact)))
		goto nomem;
	for (f = 0; f < IXX_NFACETS; f++) {
		if (!(a = json_array()) || json_object_set_new(o, ixx_facet_names[f], a))
			goto nomem;
		for (i = 0; i < out->nfacet[f]; i++) {
			const struct ixx_value *x = &out->facet[f][i];
			const char *label = f == 0 ? library_label(s, x->value) : NULL;

			v = json_pack("{s:s, s:s, s:I}", "value", x->value, "label",
				      label ? label : x->value, "count", (json_int_t)x->count);
			if (!v || json_array_append_new(a, v))
				goto nomem;
		}
	}
	return o;
nomem:
	json_decref(o);
	return NULL;
}

int ix_search(struct ix_searcher *s, const struct ix_search_req *req, json_t **ret,
	      struct mc_error *err)
{
	struct ixx_spec spec;
	struct ixx_out out;
	struct ix_query *q = NULL;
	struct mc_buf dym, key;
	struct cached *hit = NULL;
	uint64_t rev = 0;
	json_t *res = NULL, *results, *j;
	double t0 = mc_time_mono();
	size_t i;
	int rc;

	mc_error_clear(err);
	memset(&out, 0, sizeof(out));
	mc_buf_init(&dym, 4 * IX_MAX_QUERY_BYTES + 256);
	mc_buf_init(&key, 8 * IX_MAX_QUERY_BYTES + IX_MAX_FILTERS * (IX_MAX_FILTER_BYTES + 16));
	if ((rc = check_req(req, err)) != 0)
		return rc;
	if ((rc = ix_query_parse(req->q ? req->q : "", req->q ? req->qlen : 0, &q, err)) != 0)
		return rc;
	if (!q->root && !req->nfilters && !req->work && !req->year_from && !req->year_to) {
		rc = mc_error_set(err, MC_E_USAGE, "nothing to search for: give words or a filter");
		goto done;
	}
	memset(&spec, 0, sizeof(spec));
	spec.q = q;
	spec.filters = req->filters;
	spec.nfilters = req->nfilters;
	spec.year_from = req->year_from;
	spec.year_to = req->year_to;
	spec.work = req->work;
	spec.first = (req->page - 1) * req->size;
	spec.size = req->size;
	spec.sort = req->sort;
	spec.group = req->work ? IX_GROUP_NONE : req->group;
	spec.facets = !req->no_facets;
	if (spec.facets) {
		rev = ixx_revision(s->db);
		if (cache_key(q, req, &key) == 0)
			hit = cache_find(s, key.data, rev);
		else
			mc_buf_free(&key);  /* no key: no caching */
		if (hit)
			spec.facets = 0;
	}
	if ((rc = ixx_search(s->db, &spec, &out, err)) != 0)
		goto done;
	if (hit) {
		out.total = hit->total;
		out.total_exact = hit->total_exact;
	}
	rc = -ENOMEM;
	results = json_array();
	res = json_pack("{s:I, s:b, s:I, s:I, s:s, s:o}", "total", (json_int_t)out.total,
			"total_exact", out.total_exact, "page", (json_int_t)req->page, "size",
			(json_int_t)req->size, "group",
			spec.group == IX_GROUP_WORK ? "work" : "none", "results", results);
	if (!res)
		goto done;
	for (i = 0; i < out.nhits; i++) {
		json_error_t je;

		j = json_loadb(out.hits[i].data, out.hits[i].len, 0, &je);
		if (!j || !json_is_object(j)) {
			json_decref(j);
			rc = mc_error_set(err, MC_E_STORE, "index: the data of a document is not JSON");
			goto done;
		}
		if (json_object_set_new(j, "editions", json_integer(out.hits[i].editions)) ||
		    json_array_append_new(results, j))
			goto done;
	}
	if (hit) {
		if (!(j = json_deep_copy(hit->facets)) || json_object_set_new(res, "facets", j))
			goto done;
	} else if (spec.facets) {
		if (!(j = facets_json(s, &out)))
			goto done;
		if (key.data && !out.partial)
			cache_put(s, key.data, rev, j, out.total, out.total_exact);
		if (json_object_set_new(res, "facets", j))
			goto done;
	} else if (json_object_set_new(res, "facets", json_pack("{s:s}", "counts", "editions"))) {
		goto done;
	}
	j = json_null();
	if (out.suggest && ix_query_format(q, &dym) == 0 && dym.len)
		j = json_stringn(dym.data, dym.len);
	if (json_object_set_new(res, "did_you_mean", j) ||
	    json_object_set_new(res, "relaxed", json_boolean(out.relaxed)) ||
	    json_object_set_new(res, "corrected", json_boolean(out.corrected)) ||
	    json_object_set_new(res, "partial", json_boolean(out.partial)) ||
	    json_object_set_new(res, "took_ms",
				json_real((double)(long long)((mc_time_mono() - t0) * 1e6) / 1e3)))
		goto done;
	*ret = res;
	res = NULL;
	rc = 0;
done:
	if (rc == -ENOMEM && !err->msg[0])
		mc_error_set(err, -ENOMEM, "out of memory");
	json_decref(res);
	ixx_out_free(&out);
	ix_query_free(q);
	mc_buf_free(&dym);
	mc_buf_free(&key);
	return rc;
}

/* ---- ix_suggest ---- */

struct fold_words {
	char w[IX_MAX_QUERY_TERMS][4 * IX_WORD_MAX + 1];
	size_t n;
	int over;
	struct mc_buf acc, fold;
};

static int fold_cb(void *ctx, const char *w, size_t n)
{
	struct fold_words *f = ctx;

	if (f->n == IX_MAX_QUERY_TERMS) {
		f->over = 1;
		return 1;
	}
	if (ix_text_word_forms(w, n, &f->acc, &f->fold) != 0)
		return 1;
	if (f->fold.len && f->fold.len < sizeof(f->w[0])) {
		memcpy(f->w[f->n], f->fold.data, f->fold.len + 1);
		f->n++;
	}
	return 0;
}

static void fold_text(const char *s, size_t len, struct fold_words *f)
{
	f->n = 0;
	f->over = 0;
	ix_text_words(s, len, fold_cb, f);
}

#define SUGG_WORKS 8u         /* works remembered per title suggestion */

struct sugg {
	char *text, *key;
	const char *kind;
	uint64_t count;
	char works[SUGG_WORKS][24];  /* titles: the works counted */
	size_t nworks;
};

struct sugg_ctx {
	struct ixx_db *db;
	const char *work;            /* the document's work key, or NULL */
	struct fold_words *qw, *tw;  /* the query's words; scratch for a candidate */
	int partial;
	const char *kind;
	struct sugg *v;
	size_t n;
	int nomem;
};

/* Does text start with the query's words (the last maybe partial)? */
static int starts_with(struct sugg_ctx *c, const char *text)
{
	size_t i;

	fold_text(text, strlen(text), c->tw);
	if (c->tw->n < c->qw->n)
		return 0;
	for (i = 0; i < c->qw->n; i++) {
		if (i + 1 == c->qw->n && c->partial) {
			if (strncmp(c->tw->w[i], c->qw->w[i], strlen(c->qw->w[i])) != 0)
				return 0;
		} else if (strcmp(c->tw->w[i], c->qw->w[i]) != 0) {
			return 0;
		}
	}
	return 1;
}

/* The main title as suggestions show it: the index's main title
 * (ix_text_main_title_len), also cut at " ; " (ISBD). */
static size_t main_len(const char *t)
{
	size_t n = ix_text_main_title_len(t, strlen(t));
	const char *p = memmem(t, n, " ; ", 3);

	return p ? (size_t)(p - t) : n;
}

/* 1 when the text has lower-case letters (not typed in capitals). */
static int has_lower(const char *t)
{
	for (; *t; t++)
		if (*t >= 'a' && *t <= 'z')
			return 1;
	return 0;
}

/* A title counts the editions of each of its works once (the index knows
 * how many: the work key's term), a name each record it was seen on. */
static void sugg_count(struct sugg_ctx *c, struct sugg *g)
{
	size_t i;

	if (!c->work || !*c->work || strlen(c->work) >= sizeof(g->works[0])) {
		g->count++;
		return;
	}
	for (i = 0; i < g->nworks; i++)
		if (strcmp(g->works[i], c->work) == 0)
			return;
	if (g->nworks < SUGG_WORKS)
		memcpy(g->works[g->nworks++], c->work, strlen(c->work) + 1);
	g->count += ixx_work_editions(c->db, c->work);
}

static void count_text(struct sugg_ctx *c, const char *full)
{
	char key[1024], text[1024];
	size_t i, k = 0, n;

	if (!full || !*full)
		return;
	n = strcmp(c->kind, "title") == 0 ? main_len(full) : strlen(full);
	if (n >= sizeof(text)) {
		n = sizeof(text) - 1;
		while (n > 0 && ((unsigned char)full[n] & 0xc0) == 0x80)
			n--;  /* cut at a character boundary */
	}
	memcpy(text, full, n);
	text[n] = '\0';
	if (!starts_with(c, text))
		return;
	for (i = 0; i < c->tw->n && k + 1 < sizeof(key); i++)
		k += (size_t)snprintf(key + k, sizeof(key) - k, "%s%s", i ? " " : "", c->tw->w[i]);
	for (i = 0; i < c->n; i++)
		if (c->v[i].kind == c->kind && strcmp(c->v[i].key, key) == 0) {
			sugg_count(c, &c->v[i]);
			/* shown as most catalogues write it, not in capitals */
			if (!has_lower(c->v[i].text) && has_lower(text)) {
				char *t = strdup(text);

				if (t) {
					free(c->v[i].text);
					c->v[i].text = t;
				}
			}
			return;
		}
	if (c->n == SUGGEST_KEYS)
		return;
	c->v[c->n].text = strdup(text);
	c->v[c->n].key = strdup(key);
	if (!c->v[c->n].text || !c->v[c->n].key) {
		free(c->v[c->n].text);
		free(c->v[c->n].key);
		c->nomem = 1;
		return;
	}
	c->v[c->n].kind = c->kind;
	c->v[c->n].count = 0;
	c->v[c->n].nworks = 0;
	sugg_count(c, &c->v[c->n]);
	c->n++;
}

static void sugg_doc(void *ctx, const char *data, size_t len)
{
	struct sugg_ctx *c = ctx;
	json_t *j = json_loadb(data, len, 0, NULL), *names, *v;
	size_t i;

	if (!j)
		return;
	if (strcmp(c->kind, "title") == 0) {
		c->work = json_string_value(json_object_get(j, "work"));
		count_text(c, json_string_value(json_object_get(j, "title")));
		c->work = NULL;
	} else {
		names = json_object_get(j, "names");
		json_array_foreach(names, i, v) {
			if (json_is_string(v))
				count_text(c, json_string_value(v));
			else if (json_is_object(v))
				count_text(c, json_string_value(json_object_get(v, "name")));
		}
	}
	json_decref(j);
}

static int sugg_cmp(const void *a, const void *b)
{
	const struct sugg *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->key, y->key);
}

int ix_suggest(struct ix_searcher *s, const char *q, size_t qlen, json_t **ret,
	       struct mc_error *err)
{
	static const struct { const char *kind, *prefix; } kinds[] = {
		{ "title", "XT" }, { "author", "XA" },
	};
	struct fold_words *qw = NULL, *tw = NULL;
	struct sugg_ctx c;
	const char *words[IX_MAX_QUERY_TERMS];
	json_t *res = NULL, *a;
	size_t i, k;
	int rc;

	mc_error_clear(err);
	memset(&c, 0, sizeof(c));
	if (!q)
		qlen = 0;
	if (qlen > IX_MAX_QUERY_BYTES)
		return mc_error_set(err, MC_E_TOOBIG, "the query is longer than %u bytes",
				    IX_MAX_QUERY_BYTES);
	if (qlen && (memchr(q, '\0', qlen) || !mc_utf8_valid(q, qlen, NULL)))
		return mc_error_set(err, MC_E_USAGE, "the query is not valid UTF-8 text");
	rc = -ENOMEM;
	qw = calloc(1, sizeof(*qw));
	tw = calloc(1, sizeof(*tw));
	c.v = calloc(SUGGEST_KEYS, sizeof(c.v[0]));
	if (!qw || !tw || !c.v)
		goto done;
	mc_buf_init(&qw->acc, 4 * IX_WORD_MAX);
	mc_buf_init(&qw->fold, 4 * IX_WORD_MAX);
	mc_buf_init(&tw->acc, 4 * IX_WORD_MAX);
	mc_buf_init(&tw->fold, 4 * IX_WORD_MAX);
	fold_text(q ? q : "", q ? qlen : 0, qw);
	if (qw->over) {
		rc = mc_error_set(err, MC_E_TOOBIG, "the query has more than %u words",
				  IX_MAX_QUERY_TERMS);
		goto done;
	}
	c.qw = qw;
	c.tw = tw;
	c.db = s->db;
	/* the last word is partial unless a space (or other separator) follows it */
	c.partial = qlen > 0 && ((unsigned char)q[qlen - 1] >= 0x80 ||
				 (q[qlen - 1] >= '0' && q[qlen - 1] <= '9') ||
				 ((q[qlen - 1] | 0x20) >= 'a' && (q[qlen - 1] | 0x20) <= 'z'));
	for (i = 0; i < qw->n; i++)
		words[i] = qw->w[i];
	for (k = 0; qw->n && k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		c.kind = kinds[k].kind;
		rc = ixx_prefix_docs(s->db, kinds[k].prefix, words, qw->n, c.partial, SUGGEST_DOCS,
				     sugg_doc, &c, err);
		if (rc)
			goto done;
		if (c.nomem) {
			rc = -ENOMEM;
			goto done;
		}
	}
	qsort(c.v, c.n, sizeof(c.v[0]), sugg_cmp);
	rc = -ENOMEM;
	a = json_array();
	res = json_pack("{s:s%, s:o}", "q", q ? q : "", q ? qlen : 0, "suggestions", a);
	if (!res)
		goto done;
	for (i = 0; i < c.n && i < IX_MAX_SUGGEST; i++)
		if (json_array_append_new(a, json_pack("{s:s, s:s, s:I}", "text", c.v[i].text, "kind",
						       c.v[i].kind, "count", (json_int_t)c.v[i].count)))
			goto done;
	*ret = res;
	res = NULL;
	rc = 0;
done:
	if (rc == -ENOMEM && !err->msg[0])
		mc_error_set(err, -ENOMEM, "out of memory");
	json_decref(res);
	for (i = 0; i < c.n; i++) {
		free(c.v[i].text);
		free(c.v[i].key);
	}
	free(c.v);
	if (qw) {
		mc_buf_free(&qw->acc);
		mc_buf_free(&qw->fold);
	}
	if (tw) {
		mc_buf_free(&tw->acc);
		mc_buf_free(&tw->fold);
	}
	free(qw);
	free(tw);
	return rc;
}

/* ---- ix_lookup ---- */

int ix_lookup(struct ix_searcher *s, uint64_t union_id, json_t **ret, char work[64],
	      struct mc_error *err)
{
	char *data = NULL;
	size_t len = 0;
	json_t *j;
	int rc;

	mc_error_clear(err);
	rc = ixx_lookup(s->db, union_id, &data, &len, work, err);
	if (rc)
		return rc;
	j = json_loadb(data, len, 0, NULL);
	free(data);
	if (!j)
		return mc_error_set(err, MC_E_STORE, "index: the data of union record %llu is not JSON",
				    (unsigned long long)union_id);
	*ret = j;
	return 0;
}
