/* report.c — the catalogue report that `mucluc sources` and `mucluc stats`
 * print: the configured sources joined with the store's per-source counts,
 * grouped by library type and by province; as JSON for `stats --json`
 * (schemas/record.md, "mucluc stats --json"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli.h"

struct report_build {
	struct cli_report *r;
	const struct mc_config *c;
	const struct mc_source **sorted; /* configured sources by id, for lookups */
	size_t cap;
	int rc;
};

static int cmp_source_ptr(const void *a, const void *b)
{
	const struct mc_source *const *x = a, *const *y = b;

	return strcmp((*x)->id, (*y)->id);
}

static int cmp_id_source(const void *key, const void *b)
{
	const struct mc_source *const *y = b;

	return strcmp(key, (*y)->id);
}

static int report_source_cb(void *ctx, const struct mc_source_counts *sc)
{
	struct report_build *b = ctx;
	struct cli_report *r = b->r;
	const struct mc_source **hit;
	struct cli_report_source *rs;

	hit = b->c->nsources ? bsearch(sc->source, b->sorted, b->c->nsources, sizeof(*b->sorted),
				       cmp_id_source)
			     : NULL;
	if (hit) {
		rs = &r->sources[*hit - b->c->sources];
	} else {
		if (r->nsources == b->cap) {
			size_t ncap = b->cap * 2 + 16;
			void *p = realloc(r->sources, ncap * sizeof(*r->sources));

			if (!p)
				return b->rc = -ENOMEM;
			r->sources = p;
			b->cap = ncap;
		}
		rs = &r->sources[r->nsources++];
		memset(rs, 0, sizeof(*rs));
		mc_error_field(rs->id, sizeof(rs->id), sc->source);
		r->unconfigured++;
	}
	rs->present = sc->present;
	rs->deleted = sc->deleted;
	rs->last_change = sc->last_change;
	r->present += sc->present;
	r->deleted += sc->deleted;
	return 0;
}

static struct cli_report_group *group_of(struct cli_report_group **v, size_t *n, const char *key)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i].key, key) == 0)
			return &(*v)[i];
	(*v)[*n].key = key;
	return &(*v)[(*n)++];
}

static uint64_t file_size(const char *dir, const char *name)
{
	char path[4096];
	struct stat sb;
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &sb))
		return 0;
	return (uint64_t)sb.st_blocks * 512u;
}

void cli_report_free(struct cli_report *r)
{
	if (!r)
		return;
	free(r->sources);
	free(r->by_type);
	free(r->by_province);
	free(r);
}

int cli_report_build(const struct mc_config *c, struct mc_store *s, struct cli_report **ret,
		    struct mc_error *err)
{
	struct report_build b;
	struct cli_report *r;
	struct mc_reader *rd = NULL;
	size_t i;
	int rc;

	memset(&b, 0, sizeof(b));
	mc_error_clear(err);
	r = calloc(1, sizeof(*r));
	b.r = r;
	b.c = c;
	b.cap = c->nsources;
	if (!r)
		return -ENOMEM;
	r->catalogue = c->name;
	r->sources = calloc(c->nsources + 1, sizeof(*r->sources));
	r->by_type = calloc(MC_SRC_TYPE_COUNT, sizeof(*r->by_type));
	r->by_province = calloc(c->nsources + 1, sizeof(*r->by_province));
	b.sorted = calloc(c->nsources + 1, sizeof(*b.sorted));
	if (!r->sources || !r->by_type || !r->by_province || !b.sorted) {
		rc = -ENOMEM;
		goto out;
	}
	b.cap = c->nsources + 1;
	for (i = 0; i < c->nsources; i++) {
		struct cli_report_source *rs = &r->sources[i];

		mc_error_field(rs->id, sizeof(rs->id), c->sources[i].id);
		rs->cfg = &c->sources[i];
		b.sorted[i] = &c->sources[i];
	}
	r->nsources = c->nsources;
	r->configured = c->nsources;
	qsort(b.sorted, c->nsources, sizeof(*b.sorted), cmp_source_ptr);

	rc = mc_reader_begin(s, &rd);
	if (rc) {
		mc_error_set(err, rc, "cannot read the store");
		goto out;
	}
	rc = mc_reader_sources(rd, report_source_cb, &b);
	if (!rc)
		rc = mc_reader_info(rd, &r->store);
	if (rc) {
		mc_error_set(err, b.rc ? b.rc : rc, "cannot read the store's counts");
		goto out;
	}
	for (i = 0; i < c->nsources; i++) {
		const struct cli_report_source *rs = &r->sources[i];
		const char *prov = rs->cfg->province ? rs->cfg->province : "unspecified";
		struct cli_report_group *g[2];
		int k;

		r->with_records += rs->present > 0;
		g[0] = group_of(&r->by_type, &r->ntypes, mc_source_type_name(rs->cfg->type));
		g[1] = group_of(&r->by_province, &r->nprovinces, prov);
		for (k = 0; k < 2; k++) {
			g[k]->configured++;
			g[k]->with_records += rs->present > 0;
			g[k]->present += rs->present;
			g[k]->deleted += rs->deleted;
		}
	}
	r->disk_bytes = file_size(c->store_dir, "data.mdb") + file_size(c->store_dir, "lock.mdb");
	*ret = r;
	r = NULL;
out:
	mc_reader_end(rd);
	free(b.sorted);
	cli_report_free(r);
	return rc;
}

static int group_json(json_t *arr, const char *keyname, const struct cli_report_group *g)
{
	json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I}", keyname, g->key,
			      "configured", (json_int_t)g->configured,
			      "with_records", (json_int_t)g->with_records,
			      "present", (json_int_t)g->present, "deleted", (json_int_t)g->deleted);

	if (!o)
		return mc_utf8_valid(g->key, strlen(g->key), NULL) ? -ENOMEM : MC_E_ENCODING;
	return json_array_append_new(arr, o) ? -ENOMEM : 0;
}

int cli_report_json(const struct cli_report *r, unsigned flags, struct mc_buf *out)
{
	json_t *o, *types, *provs, *srcs, *so;
	size_t i;
	char ts[32];
	int rc = 0;

	types = json_array();
	provs = json_array();
	srcs = json_array();
	o = json_pack("{s:s?, s:{s:I, s:I, s:I}, s:{s:I, s:I}, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I, s:I}}",
		      "catalogue", r->catalogue,
		      "libraries", "configured", (json_int_t)r->configured,
		      "with_records", (json_int_t)r->with_records,
		      "unconfigured_with_records", (json_int_t)r->unconfigured,
		      "records", "present", (json_int_t)r->present, "deleted", (json_int_t)r->deleted,
		      "by_type", types, "by_province", provs, "sources", srcs,
		      "store", "map_size", (json_int_t)r->store.map_size,
		      "used_bytes", (json_int_t)r->store.used_bytes,
		      "disk_bytes", (json_int_t)r->disk_bytes,
		      "records", (json_int_t)r->store.records,
		      "feed_entries", (json_int_t)r->store.feed_entries);
	if (!o) /* json_pack has taken (and freed) the arrays that the "o" steals */
		return r->catalogue && !mc_utf8_valid(r->catalogue, strlen(r->catalogue), NULL) ? MC_E_ENCODING : -ENOMEM;
	for (i = 0; i < r->ntypes && !rc; i++)
		rc = group_json(types, "type", &r->by_type[i]);
	for (i = 0; i < r->nprovinces && !rc; i++)
		rc = group_json(provs, "province", &r->by_province[i]);
	for (i = 0; i < r->nsources && !rc; i++) {
		const struct cli_report_source *rs = &r->sources[i];

		mc_time_iso(rs->last_change, ts);
		so = json_pack("{s:s, s:s?, s:s?, s:s?, s:b, s:I, s:I, s:s?}", "id", rs->id,
			       "name", rs->cfg ? rs->cfg->name : NULL,
			       "type", rs->cfg ? mc_source_type_name(rs->cfg->type) : NULL,
			       "province", rs->cfg ? rs->cfg->province : NULL,
			       "configured", rs->cfg != NULL,
			       "present", (json_int_t)rs->present, "deleted", (json_int_t)rs->deleted,
			       "last_change", rs->last_change ? ts : NULL);
		if (!so)
			rc = MC_E_ENCODING;
		else if (json_array_append_new(srcs, so))
			rc = -ENOMEM;
	}
	if (!rc) {
		char *text = json_dumps(o, flags & MC_JSON_PRETTY ? JSON_INDENT(2) : JSON_COMPACT);

		rc = text ? mc_buf_adds(out, text) : -ENOMEM;
		free(text);
	}
	json_decref(o);
	return rc;
}
