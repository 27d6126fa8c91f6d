/* kv-store.c — the merger on the LMDB store: its named databases inside a
 * batch, and the merge stage that follows the record change feed. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merger-internal.h"

#define BATCH 10000

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

static void sk_trim(void *ctx)
{
	mc_writer_trim(ctx, MG_TRIM_RSS);
}

const char *mg_writer_why(const struct mc_writer *w, int rc)
{
	const char *t = w ? mc_writer_errmsg(w) : "";

	return t[0] ? t : mc_strerror(rc);
}

const char *mg_kv_why(const struct mg_kv *kv, int rc)
{
	const char *t = kv->why ? kv->why(kv->ctx) : NULL;

	return t && t[0] ? t : mc_strerror(rc);
}

static const char *sk_why(void *ctx)
{
	return mc_writer_errmsg(ctx);
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
	m->kv.trim = sk_trim;
	m->kv.why = sk_why;
	mg_merger_load_state(m);
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
	size_t n, max;
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
	return c->n >= c->max;
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
	t->quick_rejects += s->quick_rejects;
	t->candidates_read += s->candidates_read;
	t->foreign_writes += s->foreign_writes;
}

/* ---- the merger's write generation (merger-internal.h) ---- */
#define GEN_KEY "gen"

int mg_gen_get(struct mc_writer *w, uint64_t *ret)
{
	const void *v;
	size_t vl;
	int rc = mc_writer_kv_get(w, MG_DB_STATE, GEN_KEY, strlen(GEN_KEY), &v, &vl);

	*ret = 0;
	if (rc == MC_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (vl != 8)
		return MC_E_CORRUPT;
	*ret = mc_get_be64(v);
	return 0;
}

int mg_gen_bump(struct mc_writer *w, uint64_t *ret)
{
	unsigned char b[8];
	uint64_t g;
	int rc = mg_gen_get(w, &g);

	if (rc)
		return rc;
	mc_put_be64(b, ++g);
	rc = mc_writer_kv_put(w, MG_DB_STATE, GEN_KEY, strlen(GEN_KEY), b, 8);
	if (!rc && ret)
		*ret = g;
	return rc;
}

static int gen_bump_err(struct mc_writer *w, uint64_t *ret, struct mc_error *err)
{
	int rc = mg_gen_bump(w, ret);

	return rc ? mc_error_set(err, rc, "bumping the merger's write generation in %s: %s",
				 MG_DB_STATE, mg_writer_why(w, rc))
		  : 0;
}

/* ---- the match keys of a large run ----
 * A run with a backlog that is large next to the catalogue keeps the match
 * keys in memory (keyidx.c) instead of looking each one up and inserting it
 * in mg_key, and writes mg_key back in key order at the end. While it runs,
 * state merger/keys = "stale" (set in its first batch): mg_key lags behind
 * the members, and the next run (or an interrupted one's successor) rebuilds
 * the keys from mg_member, whose summaries list them. */
#define BULK_MIN 10000        /* smallest backlog merged with keys in memory */
#define BULK_SHARE 16         /* ... and at least 1/16 of the members */
#define KEYS_PER_BATCH 250000 /* mg_key pairs written back per transaction */

struct count {
	uint64_t n, max;
};

static int count_one(void *ctx, uint64_t seq, int op, const char *source, const char *local_id)
{
	struct count *c = ctx;

	return ++c->n >= c->max;
}

struct kload {
	struct mg_kidx *x;
	struct mc_arena *a;
	struct mc_writer *w;
	uint64_t epoch, n;
	int rc;
};

static int kload_member(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct kload *l = ctx;
	struct mg_mem mem;
	size_t i;

	struct mg_quick q;

	if (++l->n % MG_TRIM_WALK == 0)
		mc_writer_trim(l->w, MG_TRIM_RSS);
	mc_arena_reset(l->a);
	l->rc = mg_mem_unpack(v, vl, l->a, &mem);
	if (!l->rc && mem.epoch < l->epoch)
		return 0; /* not re-applied yet by a rebuild: no candidate */
	for (i = 0; !l->rc && i < mem.nkeys; i++)
		if (8 + strlen(mem.ref) < MC_MAX_ID_BYTES)
			l->rc = mg_kidx_add(l->x, mg_key_hash(mem.keys[i]), mem.ref);
	if (!l->rc) {
		mg_quick_from_mem(&mem, &q);
		l->rc = mg_kidx_quick_set(l->x, mem.ref, &q);
	}
	return l->rc != 0;
}

/* The keys and quick-verification data of every member as of batch w,
 * read from the member summaries (one pass in key order). */
static int keys_load(struct mc_writer *w, struct mg_kidx *x, uint64_t epoch,
		     struct mc_error *err)
{
	struct kload l = { x, NULL, w, epoch, 0, 0 };
	int rc;

	if (mc_arena_new(64u << 20, &l.a))
		return mc_error_set(err, -ENOMEM, "out of memory");
	rc = mc_writer_kv_each(w, MG_DB_MEMBER, NULL, 0, kload_member, &l);
	mc_arena_free(l.a);
	if (l.rc)
		rc = l.rc;
	if (rc)
		return mc_error_set(err, rc, "loading the match keys from %s: %s", MG_DB_MEMBER,
				    mg_writer_why(w, rc));
	return 0;
}

/* Has another writer written union data since this run's last batch
 * (generation `mine`)? Then the keys in memory miss what it did: load them
 * again from mg_member as batch w sees it, and mark mg_key stale again (the
 * other writer may have repaired the keys and cleared the mark, but mg_key
 * lags behind this run again from now on). *kidx is replaced and m pointed
 * at the new one. 0 (nothing foreign, or reloaded: m->st.foreign_writes
 * counts it) or error. */
static int keys_recheck(struct mc_writer *w, struct mg_merger *m, struct mg_kidx **kidx,
			uint64_t mine, struct mc_error *err)
{
	uint64_t g;
	int rc = mg_gen_get(w, &g);

	if (rc)
		return mc_error_set(err, rc, "reading the merger's write generation in %s: %s",
				    MG_DB_STATE, mg_writer_why(w, rc));
	if (g == mine)
		return 0;
	m->kidx = NULL;
	mg_kidx_free(*kidx);
	*kidx = NULL;
	rc = mg_kidx_new(kidx);
	if (rc)
		return mc_error_set(err, rc, "out of memory");
	rc = keys_load(w, *kidx, m->epoch, err);
	if (rc)
		return rc;
	m->kidx = *kidx;
	rc = mc_writer_state_set(w, "merger", "keys", "stale");
	if (rc)
		return mc_error_set(err, rc, "marking the match keys: %s", mg_writer_why(w, rc));
	m->st.foreign_writes++;
	return 0;
}

struct kwrite {
	struct mc_store *s;
	struct mc_writer *w;
	struct mc_error *err;
	uint64_t n, mine;
	int rc, foreign;
};

static int kwrite_one(void *ctx, uint64_t h, const char *ref)
{
	struct kwrite *k = ctx;
	unsigned char key[8 + MG_MAX_REF];
	size_t rl = strlen(ref);

	if (k->n && k->n % KEYS_PER_BATCH == 0) {
		uint64_t g = 0;

		k->rc = gen_bump_err(k->w, &k->mine, k->err);
		if (k->rc)
			return 1; /* k->w still open: keys_write aborts it */
		k->rc = mc_writer_commit(k->w, k->err);
		k->w = NULL;
		k->rc = k->rc ? k->rc : mc_writer_begin(k->s, &k->w, k->err);
		k->rc = k->rc ? k->rc : mg_gen_get(k->w, &g);
		if (k->rc)
			return 1;
		if (g != k->mine) {
			/* another writer came in: it found mg_key marked stale
			 * and rewrote it whole, or left the mark for the next
			 * run; appending more would mix two write-backs */
			k->foreign = 1;
			return 1;
		}
	}
	mc_put_be64(key, h);
	memcpy(key + 8, ref, rl);
	k->rc = mc_writer_kv_append(k->w, MG_DB_KEY, key, 8 + rl, "", 0);
	if (k->rc) {
		mc_error_set(k->err, k->rc, "writing the match keys: %s", mg_writer_why(k->w, k->rc));
		return 1;
	}
	k->n++;
	return 0;
}

/* Replace mg_key by the index *x, in key order, over as many batches as it
 * takes; the last one clears the stale mark. mine: the generation the run's
 * last batch left; when another writer came in since, *x is loaded again
 * first (m->st.foreign_writes counts it). */
static int keys_write(struct mc_store *s, struct mg_merger *m, struct mg_kidx **x,
		      uint64_t mine, struct mc_error *err)
{
	struct kwrite k = { s, NULL, err, 0, mine, 0, 0 };
	int rc = mc_writer_begin(s, &k.w, err);

	if (rc)
		return rc;
	mg_merger_use_writer(m, k.w);
	rc = keys_recheck(k.w, m, x, mine, err);
	if (rc) {
		mc_writer_abort(k.w);
		return rc;
	}
	rc = mc_writer_kv_clear(k.w, MG_DB_KEY);
	if (rc) {
		mc_error_set(err, rc, "clearing the match keys: %s", mg_writer_why(k.w, rc));
		mc_writer_abort(k.w);
		return rc;
	}
	rc = mg_kidx_sorted(*x, kwrite_one, &k);
	if (k.foreign) {
		m->st.foreign_writes++;
		mc_writer_abort(k.w);
		return 0;
	}
	if (k.rc)
		rc = k.rc;
	else if (rc)
		rc = mc_error_set(err, rc, "writing the match keys: %s", mg_writer_why(k.w, rc));
	if (!rc)
		rc = mc_writer_state_set(k.w, "merger", "keys", NULL);
	if (!rc)
		rc = gen_bump_err(k.w, NULL, err);
	if (!rc)
		return mc_writer_commit(k.w, err);
	mc_writer_abort(k.w);
	return rc;
}

int mg_store_merge(struct mc_store *s, unsigned flags, int64_t now, struct mg_stats *st,
		   struct mc_error *err)
{
	return mg_store_merge_batched(s, flags, now, 0, NULL, NULL, st, err);
}

int mg_store_merge_batched(struct mc_store *s, unsigned flags, int64_t now, size_t batch,
			   void (*between)(void *ctx, struct mc_store *s), void *bctx,
			   struct mg_stats *st, struct mc_error *err)
{
	int rebuild = !!(flags & MG_MERGE_REBUILD);
	struct collect c = { NULL, 0, batch ? batch : BATCH, 0 };
	struct mg_merger *m = NULL;
	struct mc_record *rec = NULL;
	struct mc_writer *w = NULL;
	struct mg_kidx *kidx = NULL;
	struct mg_stats total;
	char buf[32];
	uint64_t cursor, mine = 0;   /* mine: the generation this run's last batch left */
	size_t i;
	int rc, first = 1, dirty;

	memset(&total, 0, sizeof(total));
	c.v = calloc(c.max, sizeof(*c.v));
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
		dirty = 0;
		if (kidx && !first) {
			uint64_t seen = m->st.foreign_writes;

			rc = keys_recheck(w, m, &kidx, mine, err);
			if (rc)
				goto done;
			dirty = m->st.foreign_writes != seen;
		}
		if (rebuild) {
			dirty = 1;
			rc = mg_rebuild_begin(m);
			rc = rc ? rc : mc_writer_state_set(w, "merger", "cursor", NULL);
			if (rc) {
				mc_error_set(err, rc, "clearing the union data: %s", mg_writer_why(w, rc));
				goto done;
			}
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
			mc_error_set(err, rc, "reading the merger cursor: %s", mg_writer_why(w, rc));
			goto done;
		}
		if (first) {
			/* keys in memory for a large run, or to repair stale ones */
			uint64_t members = 0;
			struct count cn = { 0, BULK_MIN };
			int stale = mc_writer_state_get(w, "merger", "keys", buf, sizeof(buf)) == 0;

			rc = mc_writer_kv_count(w, MG_DB_MEMBER, &members);
			if (!rc && !stale && !rebuild && !(flags & (MG_MERGE_BULK | MG_MERGE_NO_BULK))) {
				if (members / BULK_SHARE > cn.max)
					cn.max = members / BULK_SHARE;
				rc = mc_writer_feed(w, cursor, cn.max, count_one, &cn);
				rc = rc < 0 ? rc : 0;
			}
			if (rc) {
				mc_error_set(err, rc, "sizing the run: %s", mg_writer_why(w, rc));
				goto done;
			}
			/* stale keys can only be repaired in memory */
			if (stale || (!(flags & MG_MERGE_NO_BULK) &&
				      (rebuild || (flags & MG_MERGE_BULK) || cn.n >= cn.max))) {
				rc = mg_kidx_new(&kidx);
				if (rc) {
					mc_error_set(err, rc, "out of memory");
					goto done;
				}
				if (!rebuild && (rc = keys_load(w, kidx, m->epoch, err)))
					goto done;
				rc = mc_writer_state_set(w, "merger", "keys", "stale");
				if (rc) {
					mc_error_set(err, rc, "marking the match keys: %s", mg_writer_why(w, rc));
					goto done;
				}
				dirty = 1;
			}
			m->kidx = kidx;
			first = 0;
		}
		rebuild = 0;
		rc = mc_writer_feed(w, cursor, BATCH, collect_one, &c);
		if (c.rc)
			rc = c.rc;
		if (rc < 0) {
			mc_error_set(err, rc, "reading the change feed: %s", mg_writer_why(w, rc));
			goto done;
		}
		rc = 0;
		if (!c.n) {
			if (dirty && (rc = gen_bump_err(w, &mine, err)))
				goto done;
			break;
		}
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
			if (i % MG_TRIM_EVERY == MG_TRIM_EVERY - 1)
				mc_writer_trim(w, MG_TRIM_RSS);
		}
		snprintf(buf, sizeof(buf), "%" PRIu64, c.v[c.n - 1].seq);
		rc = mc_writer_state_set(w, "merger", "cursor", buf);
		collect_free(&c);
		if (rc) {
			mc_error_set(err, rc, "saving the merger cursor: %s", mg_writer_why(w, rc));
			goto done;
		}
		if ((rc = gen_bump_err(w, &mine, err)))
			goto done;
		rc = mc_writer_commit(w, err);
		w = NULL;
		if (rc)
			goto done;
		add_stats(&total, &m->st);
		memset(&m->st, 0, sizeof(m->st));
		if (between)
			between(bctx, s);
	}
	rc = mc_writer_commit(w, err);
	w = NULL;
	if (!rc)
		add_stats(&total, &m->st);
	memset(&m->st, 0, sizeof(m->st));
	if (!rc && m->rebuilding) {
		/* the feed is consumed: the rebuild's last step */
		rc = mc_writer_begin(s, &w, err);
		if (!rc) {
			mg_merger_use_writer(m, w);
			if (now)
				mg_merger_set_time(m, now);
			rc = mg_rebuild_finish(m);
			if (rc)
				mc_error_set(err, rc, "finishing the rebuild: %s", mg_writer_why(w, rc));
			rc = rc ? rc : gen_bump_err(w, &mine, err);
			if (rc)
				mc_writer_abort(w);
			else
				rc = mc_writer_commit(w, err);
			w = NULL;
			if (!rc)
				add_stats(&total, &m->st);
		}
	}
	if (kidx) {
		total.keys_in_memory = mg_kidx_count(kidx);
		total.keys_bytes = mg_kidx_bytes(kidx);
	}
	if (!rc && kidx) {
		rc = keys_write(s, m, &kidx, mine, err);
		total.foreign_writes += m->st.foreign_writes;
	}
done:
	collect_free(&c);
	free(c.v);
	mc_writer_abort(w);
	mg_merger_free(m);
	mg_kidx_free(kidx);
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
	char mark[16];
	int rc;

	rc = mc_writer_begin(s, &w, err);
	if (rc)
		return rc;
	rc = mg_merger_new_writer(w, &m);
	if (rc)
		goto done;
	if (mc_writer_state_get(w, "merger", "keys", mark, sizeof(mark)) == 0 || m->rebuilding) {
		/* a large merge or a rebuild was cut short: finish it first */
		mc_writer_abort(w);
		w = NULL;
		rc = mg_store_merge(s, 0, now, NULL, err);
		rc = rc ? rc : mc_writer_begin(s, &w, err);
		if (rc)
			goto done;
		mg_merger_use_writer(m, w);
	}
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
		mc_put_be64(k, uid);
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
		mc_error_set(err, rc, "storing the rule: %s", mg_writer_why(w, rc));
		goto done;
	}
	for (i = 0; !rc && i < nrefs; i++)
		rc = mg_merger_replace(m, refs[i]);
	if (rc) {
		mc_error_set(err, rc, "re-clustering: %s", mg_writer_why(w, rc));
		goto done;
	}
	if ((rc = gen_bump_err(w, NULL, err)))
		goto done;
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
