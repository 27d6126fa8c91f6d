/* kv-store.c — the merger on the LMDB store: its named databases inside a
 * batch, and the merge stage that follows the record change feed. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merger-internal.h"

#define BATCH 25000

static int sk_get(void *ctx, const char *db, const void *k, size_t kl, const void **v, size_t *vl)
{
	return mc_writer_kv_get(ctx, db, k, kl, v, vl);
}

static int sk_put(void *ctx, const char *db, const void *k, size_t kl, const void *v, size_t vl)
{
	return mc_writer_kv_put(ctx, db, k, kl, v, vl);
}

static int sk_del(void *ctx, const char *db, const void *k, size_t kl)
{
	return mc_writer_kv_del(ctx, db, k, kl);
}

static int sk_each(void *ctx, const char *db, const void *prefix, size_t pl, mc_kv_cb cb,
		   void *cbctx)
{
	return mc_writer_kv_each(ctx, db, prefix, pl, cb, cbctx);
}

static int sk_seq(void *ctx, const char *name, uint64_t *ret)
{
	return mc_writer_seq_next(ctx, name, ret);
}

static int sk_clear(void *ctx, const char *db)
{
	return mc_writer_kv_clear(ctx, db);
}

void mg_merger_use_writer(struct mg_merger *m, struct mc_writer *w)
{
	m->kv.ctx = w;
	m->kv.get = sk_get;
	m->kv.put = sk_put;
	m->kv.del = sk_del;
	m->kv.each = sk_each;
	m->kv.seq_next = sk_seq;
	m->kv.clear = sk_clear;
}

int mg_merger_new_writer(struct mc_writer *w, struct mg_merger **ret)
{
	struct mg_merger *m;
	int rc = mg_merger_new_memory(&m);

	if (rc)
		return rc;
	/* the in-memory table is not needed */
	mg_memkv_free(m->mem);
	m->mem = NULL;
	mg_merger_use_writer(m, w);
	*ret = m;
	return 0;
}

/* read-only, on a reader snapshot */
static int rk_get(void *ctx, const char *db, const void *k, size_t kl, const void **v, size_t *vl)
{
	return mc_reader_kv_get(ctx, db, k, kl, v, vl);
}

static int rk_put(void *ctx, const char *db, const void *k, size_t kl, const void *v, size_t vl)
{
	return MC_E_USAGE;
}

static int rk_del(void *ctx, const char *db, const void *k, size_t kl)
{
	return MC_E_USAGE;
}

static int rk_each(void *ctx, const char *db, const void *prefix, size_t pl, mc_kv_cb cb,
		   void *cbctx)
{
	return mc_reader_kv_each(ctx, db, prefix, pl, cb, cbctx);
}

static int rk_seq(void *ctx, const char *name, uint64_t *ret)
{
	return MC_E_USAGE;
}

static int rk_clear(void *ctx, const char *db)
{
	return MC_E_USAGE;
}

int mg_merger_new_reader(struct mc_reader *r, struct mg_merger **ret)
{
	struct mg_merger *m;
	int rc = mg_merger_new_memory(&m);

	if (rc)
		return rc;
	mg_memkv_free(m->mem);
	m->mem = NULL;
	m->kv.ctx = r;
	m->kv.get = rk_get;
	m->kv.put = rk_put;
	m->kv.del = rk_del;
	m->kv.each = rk_each;
	m->kv.seq_next = rk_seq;
	m->kv.clear = rk_clear;
	*ret = m;
	return 0;
}

/* ---- the stage ---- */

struct entry {
	uint64_t seq;
	char *ref;   /* "source\0local_id" */
	size_t sl;
};

struct collect {
	struct entry *v;
	size_t n;
	int rc;
};

static int collect_one(void *ctx, uint64_t seq, int op, const char *source, const char *local_id)
{
	struct collect *c = ctx;
	size_t sl = strlen(source), ll = strlen(local_id);
	char *p = malloc(sl + ll + 2);

	if (!p) {
		c->rc = -ENOMEM;
		return 1;
	}
	memcpy(p, source, sl + 1);
	memcpy(p + sl + 1, local_id, ll + 1);
	c->v[c->n].seq = seq;
	c->v[c->n].ref = p;
	c->v[c->n].sl = sl;
	c->n++;
	return c->n >= BATCH;
}

static void collect_free(struct collect *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].ref);
	c->n = 0;
}

static void add_stats(struct mg_stats *t, const struct mg_stats *s)
{
	t->records += s->records;
	t->unchanged += s->unchanged;
	t->unions_new += s->unions_new;
	t->unions_merged += s->unions_merged;
	t->unions_split += s->unions_split;
	t->unions_dissolved += s->unions_dissolved;
	t->unions_changed += s->unions_changed;
	t->source_dups += s->source_dups;
}

int mg_store_merge(struct mc_store *s, int rebuild, int64_t now, struct mg_stats *st,
		   struct mc_error *err)
{
	struct collect c = { NULL, 0, 0 };
	struct mg_merger *m = NULL;
	struct mc_record *rec = NULL;
	struct mc_writer *w = NULL;
	struct mg_stats total;
	char buf[32];
	uint64_t cursor;
	size_t i;
	int rc;

	memset(&total, 0, sizeof(total));
	c.v = calloc(BATCH, sizeof(*c.v));
	if (!c.v)
		return mc_error_set(err, -ENOMEM, "out of memory");
	rc = mc_record_new(&rec);
	if (rc)
		goto done;
	for (;;) {
		rc = mc_writer_begin(s, &w, err);
		if (rc)
			goto done;
		if (!m)
			rc = mg_merger_new_writer(w, &m);
		else
			mg_merger_use_writer(m, w);
		if (rc)
			goto done;
		if (now)
			mg_merger_set_time(m, now);
		if (rebuild) {
			rc = mg_merger_clear(m);
			rc = rc ? rc : mc_writer_state_set(w, "merger", "cursor", NULL);
			if (rc) {
				mc_error_set(err, rc, "clearing the union data: %s", mc_strerror(rc));
				goto done;
			}
			rebuild = 0;
		}
		cursor = 0;
		rc = mc_writer_state_get(w, "merger", "cursor", buf, sizeof(buf));
		if (!rc) {
			char *end;

			cursor = strtoull(buf, &end, 10);
			if (*end) {
				rc = mc_error_set(err, MC_E_CORRUPT, "merger cursor '%s' is not a number", buf);
				goto done;
			}
		} else if (rc != MC_E_NOTFOUND) {
			mc_error_set(err, rc, "reading the merger cursor: %s", mc_strerror(rc));
			goto done;
		}
		rc = mc_writer_feed(w, cursor, BATCH, collect_one, &c);
		if (c.rc)
			rc = c.rc;
		if (rc < 0) {
			mc_error_set(err, rc, "reading the change feed: %s", mc_strerror(rc));
			goto done;
		}
		rc = 0;
		if (!c.n)
			break;
		for (i = 0; i < c.n; i++) {
			const char *src = c.v[i].ref, *lid = c.v[i].ref + c.v[i].sl + 1;

			rc = mc_writer_get(w, src, lid, rec, err);
			if (rc == MC_E_NOTFOUND) {
				/* gone altogether: as deleted */
				mc_record_reset(rec);
				rec->source = src;
				rec->local_id = lid;
				rec->status = MC_REC_DELETED;
				rc = 0;
			}
			if (!rc)
				rc = mg_merger_apply(m, rec, err);
			if (rc)
				goto done;
		}
		snprintf(buf, sizeof(buf), "%" PRIu64, c.v[c.n - 1].seq);
		rc = mc_writer_state_set(w, "merger", "cursor", buf);
		collect_free(&c);
		if (rc) {
			mc_error_set(err, rc, "saving the merger cursor: %s", mc_strerror(rc));
			goto done;
		}
		rc = mc_writer_commit(w, err);
		w = NULL;
		if (rc)
			goto done;
		add_stats(&total, &m->st);
		memset(&m->st, 0, sizeof(m->st));
	}
	rc = mc_writer_commit(w, err);
	w = NULL;
	if (!rc)
		add_stats(&total, &m->st);
done:
	collect_free(&c);
	free(c.v);
	mc_writer_abort(w);
	mg_merger_free(m);
	mc_record_free(rec);
	if (!rc && st)
		*st = total;
	return rc;
}

int mg_store_override(struct mc_store *s, int kind, const char *id1, const char *id2,
		      int64_t now, struct mc_error *err)
{
	struct mc_writer *w = NULL;
	struct mg_merger *m = NULL;
	char **refs = NULL;
	size_t nrefs = 0, i;
	int rc;

	rc = mc_writer_begin(s, &w, err);
	if (rc)
		return rc;
	rc = mg_merger_new_writer(w, &m);
	if (rc)
		goto done;
	if (now)
		mg_merger_set_time(m, now);
	if (kind == MG_SPLIT && !strchr(id1, ':')) {
		/* a union id: every member stands alone */
		char buf[64];
		uint64_t uid;
		char *end;
		const void *v;
		size_t vl;
		struct mg_union u;
		unsigned char k[8];

		uid = strtoull(id1, &end, 10);
		if (*end || !uid) {
			rc = mc_error_set(err, MC_E_USAGE, "'%s' is neither a union id nor SOURCE:ID", id1);
			goto done;
		}
		mg_u64be(uid, k);
		rc = mc_writer_kv_get(w, MG_DB_UNION, k, 8, &v, &vl);
		u.id = uid;
		rc = rc ? rc : mg_union_unpack(v, vl, m->a, &u);
		if (rc) {
			snprintf(buf, sizeof(buf), "%s", id1);
			mc_error_set(err, rc, "union %s: %s", buf, mc_strerror(rc));
			goto done;
		}
		refs = calloc(u.nmembers ? u.nmembers : 1, sizeof(*refs));
		if (!refs) {
			rc = -ENOMEM;
			goto done;
		}
		for (i = 0; i < u.nmembers; i++)
			if (!(refs[nrefs++] = strdup(u.members[i]))) {
				rc = -ENOMEM;
				goto done;
			}
	} else {
		refs = calloc(2, sizeof(*refs));
		if (!refs || !(refs[nrefs++] = strdup(id1)) ||
		    (id2 && !(refs[nrefs++] = strdup(id2)))) {
			rc = -ENOMEM;
			goto done;
		}
	}
	for (i = 0; i < nrefs; i++) {
		uint64_t uid;

		if (mg_member_union(m, refs[i], &uid)) {
			rc = mc_error_set(err, MC_E_NOTFOUND, "%s is not a merged record", refs[i]);
			goto done;
		}
	}
	if (kind == MG_SPLIT) {
		for (i = 0; !rc && i < nrefs; i++)
			rc = mg_override_set(m, MG_SPLIT, refs[i], NULL);
	} else {
		rc = mg_override_set(m, kind, refs[0], refs[1]);
	}
	if (rc) {
		mc_error_set(err, rc, "storing the rule: %s", mc_strerror(rc));
		goto done;
	}
	for (i = 0; !rc && i < nrefs; i++)
		rc = mg_merger_replace(m, refs[i]);
	if (rc) {
		mc_error_set(err, rc, "re-clustering: %s", mc_strerror(rc));
		goto done;
	}
	rc = mc_writer_commit(w, err);
	w = NULL;
done:
	for (i = 0; refs && i < nrefs; i++)
		free(refs[i]);
	free(refs);
	mc_writer_abort(w);
	mg_merger_free(m);
	return rc;
}
