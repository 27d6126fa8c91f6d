/* handlers.c — GET /api/search, /api/suggest, /api/libraries[/ID] and
 * /health (schemas/api.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/http.h>

#include "api-internal.h"

#ifndef MUCLUC_VERSION
#define MUCLUC_VERSION "0.1.0"
#endif

struct ix_searcher *api_searcher(struct api_worker *w, struct mc_error *err)
{
	time_t now;
	int rc;

	if (w->ix) {
		/* an error keeps the old view, which still answers */
		ix_searcher_refresh(w->ix, NULL);
		return w->ix;
	}
	now = time(NULL);
	if (now < w->ix_retry) {
		mc_error_set(err, MC_E_NOTFOUND, "the search index is not available yet");
		return NULL;
	}
	rc = ix_searcher_open(w->srv->data_dir, &w->ix, err);
	if (rc) {
		w->ix = NULL;
		w->ix_retry = now + 1;
		if (rc == MC_E_NOTFOUND)
			mc_error_set(err, rc, "no search index yet (run 'mucluc index')");
		return NULL;
	}
	return w->ix;
}

/* Answer an ix_* failure. */
static void ix_fail(struct api_rq *rq, int rc, const struct mc_error *e)
{
	if (rc == MC_E_USAGE || rc == MC_E_TOOBIG)
		api_error(rq, 400, "bad_query", "%s", e->msg[0] ? e->msg : "bad query");
	else if (rc == -ENOMEM)
		api_error(rq, 500, "internal", "out of memory");
	else
		api_error(rq, 503, "index_unavailable", "%s",
			  e->msg[0] ? e->msg : "the search index is not available");
}

/* The library facet's labels: the libraries' names from the configuration
 * (the index knows only their ids). */
static void library_labels(const struct mc_config *cfg, json_t *values)
{
	size_t i;
	json_t *v;

	json_array_foreach(values, i, v) {
		const char *id = json_string_value(json_object_get(v, "value"));
		const struct mc_source *s = id ? mc_config_source(cfg, id) : NULL;

		if (s && s->name)
			json_object_set_new(v, "label", json_string(s->name));
	}
}

void api_search(struct api_rq *rq)
{
	struct ix_filter filters[IX_MAX_FILTERS];
	struct ix_search_req req;
	struct ix_searcher *ix;
	struct mc_error e;
	json_t *res = NULL;
	char msg[256];
	int rc;

	if (api_rq_args(rq))
		return;
	if (api_search_req_from_args(&rq->args, &req, filters, msg, sizeof(msg))) {
		api_error(rq, 400, "bad_request", "%s", msg);
		return;
	}
	mc_error_clear(&e);
	if (!(ix = api_searcher(rq->w, &e))) {
		ix_fail(rq, MC_E_STORE, &e);
		return;
	}
	rc = ix_search(ix, &req, &res, &e);
	if (rc) {
		ix_fail(rq, rc, &e);
		return;
	}
	library_labels(rq->cfg, json_object_get(json_object_get(res, "facets"), "library"));
	api_send_json(rq, 200, res);
	json_decref(res);
}

void api_suggest(struct api_rq *rq)
{
	const struct api_arg *q;
	struct ix_searcher *ix;
	struct mc_error e;
	json_t *res = NULL;
	unsigned n;
	int rc;

	if (api_rq_args(rq))
		return;
	q = api_args_get(&rq->args, "q", &n);
	if (!q || n != 1) {
		api_error(rq, 400, "bad_request", "give the beginning of a title or name once: q=...");
		return;
	}
	if (memchr(q->val, '\0', q->vlen) || !mc_utf8_valid(q->val, q->vlen, NULL)) {
		api_error(rq, 400, "bad_request", "argument 'q' is not valid UTF-8 text");
		return;
	}
	if (q->vlen > IX_MAX_QUERY_BYTES) {
		api_error(rq, 400, "bad_request", "q is %zu bytes long; at most %u", q->vlen,
			  IX_MAX_QUERY_BYTES);
		return;
	}
	mc_error_clear(&e);
	if (!(ix = api_searcher(rq->w, &e))) {
		ix_fail(rq, MC_E_STORE, &e);
		return;
	}
	rc = ix_suggest(ix, q->val, q->vlen, &res, &e);
	if (rc) {
		ix_fail(rq, rc, &e);
		return;
	}
	api_send_json(rq, 200, res);
	json_decref(res);
}

/* ---- libraries ---- */

struct counts_ctx {
	const struct mc_config *cfg;
	struct mc_source_counts *c; /* one per configured source, in config order */
};

static int counts_cb(void *arg, const struct mc_source_counts *sc)
{
	struct counts_ctx *x = arg;
	size_t i;

	for (i = 0; i < x->cfg->nsources; i++)
		if (strcmp(x->cfg->sources[i].id, sc->source) == 0) {
			x->c[i] = *sc;
			break;
		}
	return 0;
}

static json_t *library_json(const struct mc_source *s, const struct mc_source_counts *c)
{
	char date[64] = "";

	if (c->last_change > 0)
		mc_date_format(c->last_change, MC_DATE_SECONDS, date, sizeof(date));
	return json_pack("{s:s, s:s, s:s, s:s?, s:I, s:I, s:s?, s:s+}", "id", s->id, "name",
			 s->name, "type", mc_source_type_name(s->type), "province", s->province,
			 "records", (json_int_t)c->present, "deleted", (json_int_t)c->deleted,
			 "last_change", date[0] ? date : NULL, "url", "/api/libraries/", s->id);
}

void api_libraries(struct api_rq *rq, const char *id)
{
	const struct mc_config *cfg = rq->cfg;
	struct counts_ctx x = { cfg, NULL };
	struct mc_reader *r = NULL;
	json_t *arr = NULL, *o = NULL;
	size_t i;

	if (id && !api_source_public(cfg, id)) {
		api_error(rq, 404, "not_found", "no such library");
		return;
	}
	x.c = calloc(cfg->nsources ? cfg->nsources : 1, sizeof(*x.c));
	if (!x.c) {
		api_error(rq, 500, "internal", "out of memory");
		return;
	}
	if (mc_reader_begin(rq->w->srv->store, &r)) {
		api_error(rq, 503, "store_unavailable", "%s", mc_reader_errmsg(NULL));
		goto done;
	}
	if (mc_reader_sources(r, counts_cb, &x)) {
		api_error(rq, 503, "store_unavailable", "%s", mc_reader_errmsg(r));
		goto done;
	}
	mc_reader_end(r);
	r = NULL;
	if (id) {
		for (i = 0; i < cfg->nsources; i++)
			if (strcmp(cfg->sources[i].id, id) == 0)
				o = library_json(&cfg->sources[i], &x.c[i]);
	} else {
		arr = json_array();
		for (i = 0; arr && i < cfg->nsources; i++)
			if (cfg->sources[i].visibility == MC_VIS_PUBLIC)
				json_array_append_new(arr, library_json(&cfg->sources[i], &x.c[i]));
		o = json_pack("{s:s, s:o}", "catalogue", cfg->name, "libraries", arr);
	}
	if (!o)
		api_error(rq, 500, "internal", "out of memory");
	else
		api_send_json(rq, 200, o);
	json_decref(o);
done:
	mc_reader_end(r);
	free(x.c);
}

/* ---- health ---- */

void api_health(struct api_rq *rq)
{
	struct api_worker *w = rq->w;
	struct mc_reader *r = NULL;
	struct mc_store_info info;
	struct ix_info ii;
	struct ix_searcher *ix;
	struct mc_error e;
	uint64_t ufeed = 0;
	json_t *o, *store, *index;
	int store_ok = 0, index_ok = 0;

	memset(&info, 0, sizeof(info));
	if (mc_reader_begin(w->srv->store, &r) == 0 && mc_reader_info(r, &info) == 0) {
		store_ok = 1;
		if (mc_reader_seq_get(r, "mg_feed", &ufeed))
			ufeed = 0; /* nothing merged yet */
		store = json_pack("{s:b, s:I, s:I, s:I}", "ok", 1, "records",
				  (json_int_t)info.records, "feed_last", (json_int_t)info.feed_entries,
				  "union_feed_last", (json_int_t)ufeed);
	} else {
		store = json_pack("{s:b, s:s}", "ok", 0, "error", mc_reader_errmsg(r));
	}
	mc_reader_end(r);
	mc_error_clear(&e);
	memset(&ii, 0, sizeof(ii));
	ix = api_searcher(w, &e);
	if (ix && ix_searcher_info(ix, &ii, &e) == 0) {
		index_ok = 1;
		index = json_pack("{s:b, s:I, s:I, s:I, s:s, s:I}", "ok", 1, "docs",
				  (json_int_t)ii.docs, "cursor", (json_int_t)ii.cursor, "revision",
				  (json_int_t)ii.revision, "uuid", ii.uuid, "lag",
				  (json_int_t)(ufeed > ii.cursor ? ufeed - ii.cursor : 0));
	} else {
		index = json_pack("{s:b, s:s}", "ok", 0, "error",
				  e.msg[0] ? e.msg : "the search index is not available");
	}
	o = json_pack("{s:s, s:s, s:s, s:o*, s:o*, s:i, s:i}", "status",
		      store_ok && index_ok ? "ok" : "unavailable", "catalogue", rq->cfg->name,
		      "version", MUCLUC_VERSION, "store", store, "index", index, "threads",
		      w->srv->nworkers, "connections", atomic_load(&w->srv->nconn));
	if (!o) {
		api_error(rq, 500, "internal", "out of memory");
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(rq->req), "Cache-Control", "no-store");
	api_send_json(rq, store_ok && index_ok ? 200 : 503, o);
	json_decref(o);
}
