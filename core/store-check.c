/* store-check.c — `mucluc check` for the store's own data: per-source
 * counts against the records, the record feed's sequence, consumer cursors;
 * and the store's few helpers for checks (a counter's value in a snapshot,
 * the RSS trim of a long read walk, and the repair of a source's counts,
 * logged like every batch operation so that a map growth replays it). The
 * checks read one snapshot and never wait for a writer. See schemas/check.md. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc-store.h"
#include "store-internal.h"

/* Consumers of the record feed that keep a cursor (state scope, key). */
static const struct {
	const char *scope, *key;
} cursors[] = {
	{ "merger", "cursor" },
	{ "indexer", "cursor" },
};

#define MAX_GAPS_SHOWN 10

void mc_check_report(struct mc_check *c, int kind, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (kind == MC_CHECK_PROBLEM)
		c->problems++;
	else if (kind == MC_CHECK_REPAIRED)
		c->repaired++;
	else
		c->notes++;
	if (!c->line)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->line(c->ctx, kind, buf);
}

void mc_store_check_res_free(struct mc_store_check_res *res)
{
	if (!res)
		return;
	free(res->sources);
	res->sources = NULL;
	res->nsources = 0;
}

/* ---- counts ---- */

struct counted {
	struct mc_source_counts *v;   /* as stored, in id order */
	size_t n, cap;
	char *seen;                   /* v[i] had records */
	int rc;
};

static int counts_one(void *ctx, const struct mc_source_counts *sc)
{
	struct counted *x = ctx;

	if (x->n == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 16;
		void *p = realloc(x->v, nc * sizeof(*x->v));

		if (!p)
			return x->rc = -ENOMEM;
		x->v = p;
		x->cap = nc;
	}
	x->v[x->n++] = *sc;
	return 0;
}

static struct mc_source_counts *counts_find(struct counted *x, const char *source, size_t *idx)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(x->v[mid].source, source);

		if (!d) {
			*idx = mid;
			return &x->v[mid];
		}
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* records walk: counts per source, compared when the source changes */
struct walk {
	struct mc_reader *r;
	struct mc_check *c;
	struct counted *cnt;
	struct mc_store_check_res *res;
	char source[64];
	uint64_t present, deleted;
};

static void source_done(struct walk *x)
{
	struct mc_source_counts *sc;
	size_t i;

	if (!x->source[0])
		return;
	sc = counts_find(x->cnt, x->source, &i);
	if (!sc) {
		mc_check_report(x->c, MC_CHECK_PROBLEM,
				"source %s: %" PRIu64 " present and %" PRIu64
				" deleted records but no counts in `sources`",
				x->source, x->present, x->deleted);
		x->res->counts_bad = 1;
	} else {
		x->cnt->seen[i] = 1;
		if (sc->present != x->present || sc->deleted != x->deleted) {
			mc_check_report(x->c, MC_CHECK_PROBLEM,
					"source %s: counts say %" PRIu64 " present, %" PRIu64
					" deleted; the records are %" PRIu64 " present, %" PRIu64
					" deleted",
					x->source, sc->present, sc->deleted, x->present, x->deleted);
			x->res->counts_bad = 1;
		}
	}
	x->source[0] = '\0';
}

/* Accepted means exportable: the bytes of the MARC part that the import
 * now checks (mc_record_check_marc) must pass on every stored record; a
 * store written before that check can hold ones MARCXML cannot carry.
 * Reported, never repaired here: importing the record again repairs it. */
static void exportable(struct mc_check *c, struct mc_record *rec)
{
	struct mc_error e;
	unsigned fixed = 0;

	if (!rec->marc)
		return;
	mc_error_clear(&e);
	if (mc_record_check_marc(rec, &fixed, &e))
		mc_check_report(c, MC_CHECK_PROBLEM,
				"record %s:%s: not exportable as MARCXML: %s (the import refuses "
				"such a record now; import it again or delete it)",
				rec->source, rec->local_id, e.msg);
	else if (fixed)
		mc_check_report(c, MC_CHECK_PROBLEM,
				"record %s:%s: not exportable as MARCXML: %u indicator or leader "
				"byte%s outside MARC 21 (the import repairs them now; import the "
				"record again)",
				rec->source, rec->local_id, fixed, fixed == 1 ? "" : "s");
}

static int walk_one(void *ctx, struct mc_record *rec)
{
	struct walk *x = ctx;

	if (strcmp(x->source, rec->source)) {
		source_done(x);
		snprintf(x->source, sizeof(x->source), "%s", rec->source);
		x->present = x->deleted = 0;
	}
	x->res->records++;
	if (rec->status == MC_REC_DELETED) {
		x->deleted++;
		x->res->deleted++;
	} else {
		x->present++;
		x->res->present++;
		exportable(x->c, rec);
	}
	return 0;
}

static int check_counts(struct mc_reader *r, struct mc_check *c, struct mc_store_check_res *res,
			struct mc_error *err)
{
	struct counted cnt = { NULL, 0, 0, NULL, 0 };
	struct walk x = { r, c, &cnt, res, "", 0, 0 };
	struct mc_error e;
	size_t i;
	int rc;

	rc = mc_reader_sources(r, counts_one, &cnt);
	if (cnt.rc)
		rc = cnt.rc;
	if (rc == MC_E_CORRUPT || rc == MC_E_VERSION) {
		mc_check_report(c, MC_CHECK_PROBLEM, "sources: a count entry does not decode (%s)",
				mc_strerror(rc));
		res->counts_bad = 1;
		rc = 0;
	}
	if (rc) {
		free(cnt.v);
		return mc_error_set(err, rc, "reading the source counts: %s", mc_strerror(rc));
	}
	cnt.seen = calloc(cnt.n ? cnt.n : 1, 1);
	res->sources = calloc(cnt.n ? cnt.n : 1, sizeof(*res->sources));
	if (!cnt.seen || !res->sources) {
		free(cnt.v);
		free(cnt.seen);
		return mc_error_set(err, -ENOMEM, "out of memory");
	}
	for (i = 0; i < cnt.n; i++)
		memcpy(res->sources[i], cnt.v[i].source, sizeof(res->sources[i]));
	res->nsources = cnt.n;
	mc_error_clear(&e);
	rc = mc_reader_each(r, NULL, walk_one, &x, &e);
	if (rc == MC_E_CORRUPT || rc == MC_E_VERSION) {
		/* the walk cannot go past a record it cannot decode */
		mc_check_report(c, MC_CHECK_PROBLEM, "record %s:%s: %s; the records after it were "
				"not checked", e.source[0] ? e.source : "?",
				e.record_id[0] ? e.record_id : "?", mc_strerror(rc));
		rc = 0;
		x.source[0] = '\0';
		memset(cnt.seen, 1, cnt.n);
	} else if (!rc) {
		source_done(&x);
		res->records_complete = 1;
	}
	for (i = 0; !rc && i < cnt.n; i++)
		if (!cnt.seen[i] && (cnt.v[i].present || cnt.v[i].deleted)) {
			mc_check_report(c, MC_CHECK_PROBLEM,
					"source %s: counts say %" PRIu64 " present, %" PRIu64
					" deleted; it has no records",
					cnt.v[i].source, cnt.v[i].present, cnt.v[i].deleted);
			res->counts_bad = 1;
		}
	free(cnt.v);
	free(cnt.seen);
	if (rc) {
		if (err)
			*err = e;
		return rc;
	}
	return 0;
}

/* ---- the feed ---- */

struct feedw {
	struct mc_reader *r;
	struct mc_check *c;
	uint64_t prev, n, gaps;
};

static int feed_one(void *ctx, uint64_t seq, int op, const char *source, const char *local_id)
{
	struct feedw *x = ctx;

	if (seq != x->prev + 1) {
		if (x->gaps++ < MAX_GAPS_SHOWN)
			mc_check_report(x->c, MC_CHECK_PROBLEM,
					"feed: sequence %" PRIu64 " follows %" PRIu64
					" (entries missing)", seq, x->prev);
		else
			x->c->problems++;
	}
	x->prev = seq;
	if (++x->n % 4096 == 0)
		mc_reader_trim(x->r, 0);
	return 0;
}

static int check_feed(struct mc_reader *r, struct mc_check *c, struct mc_store_check_res *res,
		      struct mc_error *err)
{
	struct feedw x = { r, c, 0, 0, 0 };
	int rc = mc_reader_feed(r, 0, 0, feed_one, &x);

	res->feed_last = mc_reader_feed_last(r);
	if (rc == MC_E_CORRUPT) {
		mc_check_report(c, MC_CHECK_PROBLEM,
				"feed: the entry after sequence %" PRIu64 " does not decode", x.prev);
		rc = 0;
	} else if (!rc && x.prev != res->feed_last) {
		mc_check_report(c, MC_CHECK_PROBLEM,
				"feed: walked to sequence %" PRIu64 " but the last is %" PRIu64,
				x.prev, res->feed_last);
	}
	if (x.gaps > MAX_GAPS_SHOWN)
		mc_check_report(c, MC_CHECK_NOTE, "feed: %" PRIu64 " more gaps not shown",
				x.gaps - MAX_GAPS_SHOWN);
	if (rc)
		return mc_error_set(err, rc, "reading the change feed: %s", mc_strerror(rc));
	return 0;
}

/* 0 and *ret; MC_E_NOTFOUND; MC_E_CORRUPT (not a number) */
static int cursor_parse(const char *buf, uint64_t *ret)
{
	char *end;

	if (!buf[0] || buf[0] < '0' || buf[0] > '9')
		return MC_E_CORRUPT;
	errno = 0;
	*ret = strtoull(buf, &end, 10);
	return *end || errno ? MC_E_CORRUPT : 0;
}

static int check_cursors(struct mc_reader *r, struct mc_check *c, struct mc_store_check_res *res)
{
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(cursors) / sizeof(cursors[0]); i++) {
		uint64_t v;
		int rc = mc_reader_state_get(r, cursors[i].scope, cursors[i].key, buf, sizeof(buf));

		if (rc == MC_E_NOTFOUND)
			continue;
		if (!rc)
			rc = cursor_parse(buf, &v);
		if (rc) {
			mc_check_report(c, MC_CHECK_PROBLEM, "cursor %s/%s: not a sequence number (%s)",
					cursors[i].scope, cursors[i].key,
					rc == MC_E_TOOBIG ? "too long" : mc_strerror(rc));
			continue;
		}
		if (v > res->feed_last) {
			mc_check_report(c, MC_CHECK_PROBLEM,
					"cursor %s/%s: %" PRIu64 " is past the feed's end (%" PRIu64 ")",
					cursors[i].scope, cursors[i].key, v, res->feed_last);
			res->cursor_bad = 1;
		}
	}
	return 0;
}

int mc_store_check(struct mc_reader *r, struct mc_check *c, struct mc_store_check_res *res,
		   struct mc_error *err)
{
	int rc;

	memset(res, 0, sizeof(*res));
	rc = check_feed(r, c, res, err);
	rc = rc ? rc : check_counts(r, c, res, err);
	rc = rc ? rc : check_cursors(r, c, res);
	return rc;
}

/* ---- repair ---- */

struct recount {
	struct mc_writer *w;
	struct mc_check *c;
	const struct mc_store_check_res *res;
	char source[64];
	uint64_t present, deleted, n;
	char *done;                 /* res->sources[i] recounted */
	int rc;
};

static int recount_flush(struct recount *x)
{
	struct mc_source_counts old;
	size_t i;
	int rc;

	if (!x->source[0])
		return 0;
	for (i = 0; i < x->res->nsources; i++)
		if (!strcmp(x->res->sources[i], x->source))
			x->done[i] = 1;
	rc = mc_writer_counts_set(x->w, x->source, x->present, x->deleted, &old);
	if (rc == 1) {
		mc_check_report(x->c, MC_CHECK_REPAIRED,
				"source %s: counts set to %" PRIu64 " present, %" PRIu64
				" deleted (were %" PRIu64 ", %" PRIu64 ")",
				x->source, x->present, x->deleted, old.present, old.deleted);
		rc = 0;
	}
	x->source[0] = '\0';
	return rc;
}

static int recount_one(void *ctx, struct mc_record *rec)
{
	struct recount *x = ctx;

	if (strcmp(x->source, rec->source)) {
		x->rc = recount_flush(x);
		if (x->rc)
			return 1;
		snprintf(x->source, sizeof(x->source), "%s", rec->source);
		x->present = x->deleted = 0;
	}
	if (rec->status == MC_REC_DELETED)
		x->deleted++;
	else
		x->present++;
	if (++x->n % 1024 == 0)
		mc_writer_trim(x->w, 0);
	return 0;
}

static int repair_counts(struct mc_writer *w, const struct mc_store_check_res *res,
			 struct mc_check *c, struct mc_error *err)
{
	struct recount x = { w, c, res, "", 0, 0, 0, NULL, 0 };
	size_t i;
	int rc;

	x.done = calloc(res->nsources ? res->nsources : 1, 1);
	if (!x.done)
		return mc_error_set(err, -ENOMEM, "out of memory");
	rc = mc_writer_each(w, NULL, recount_one, &x, err);
	if (x.rc)
		rc = x.rc;
	rc = rc ? rc : recount_flush(&x);
	/* sources that lost every record since */
	for (i = 0; !rc && i < res->nsources; i++) {
		struct mc_source_counts old;

		if (x.done[i])
			continue;
		rc = mc_writer_counts_set(w, res->sources[i], 0, 0, &old);
		if (rc == 1) {
			mc_check_report(c, MC_CHECK_REPAIRED,
					"source %s: counts set to 0 present, 0 deleted (were %" PRIu64
					", %" PRIu64 ")",
					res->sources[i], old.present, old.deleted);
			rc = 0;
		}
	}
	free(x.done);
	if (rc)
		return mc_error_set(err, rc, "recounting the records: %s", mc_strerror(rc));
	return 0;
}

static int last_one(void *ctx, uint64_t seq, int op, const char *source, const char *local_id)
{
	uint64_t *last = ctx;

	if (seq > *last)
		*last = seq;
	return 0;
}

static int repair_cursors(struct mc_writer *w, const struct mc_store_check_res *res,
			  struct mc_check *c, struct mc_error *err)
{
	uint64_t last = res->feed_last;
	char buf[64];
	size_t i;
	int rc;

	/* the feed as the batch sees it (it may have grown since the snapshot) */
	rc = mc_writer_feed(w, last, 0, last_one, &last);
	if (rc < 0)
		return mc_error_set(err, rc, "reading the change feed: %s", mc_strerror(rc));
	for (i = 0; i < sizeof(cursors) / sizeof(cursors[0]); i++) {
		uint64_t v;

		rc = mc_writer_state_get(w, cursors[i].scope, cursors[i].key, buf, sizeof(buf));
		if (rc || cursor_parse(buf, &v) || v <= last)
			continue;
		snprintf(buf, sizeof(buf), "%" PRIu64, last);
		rc = mc_writer_state_set(w, cursors[i].scope, cursors[i].key, buf);
		if (rc)
			return mc_error_set(err, rc, "setting the cursor %s/%s: %s", cursors[i].scope,
					    cursors[i].key, mc_strerror(rc));
		mc_check_report(c, MC_CHECK_REPAIRED, "cursor %s/%s: set to %" PRIu64
				" (the feed's end), was %" PRIu64,
				cursors[i].scope, cursors[i].key, last, v);
	}
	return 0;
}

int mc_store_repair(struct mc_writer *w, const struct mc_store_check_res *res,
		    struct mc_check *c, struct mc_error *err)
{
	int rc = 0;

	if (res->counts_bad)
		rc = repair_counts(w, res, c, err);
	if (!rc && res->cursor_bad)
		rc = repair_cursors(w, res, c, err);
	return rc;
}

/* ---- the store's helpers for checks ---- */

int mci_store_apply_counts(struct mc_writer *w, const unsigned char *key, size_t klen,
			   const unsigned char *val, size_t vlen)
{
	struct counts_ent *e;
	int rc;

	if (vlen != 16)
		return mci_store_wloc(w, MC_E_CORRUPT, "replaying a counts repair", NO_DBI);
	rc = mci_store_counts_get(w, (const char *)key, klen, &e);
	if (rc)
		return rc;
	e->present = mc_get_le64(val);
	e->deleted = mc_get_le64(val + 8);
	e->dirty = 1;
	return 0;
}

int mc_writer_counts_set(struct mc_writer *w, const char *source, uint64_t present,
			 uint64_t deleted, struct mc_source_counts *old)
{
	unsigned char v[16];
	struct counts_ent *e;
	size_t slen;
	int rc = mci_store_writer_check(w, NULL);

	if (rc)
		return rc;
	if (!mci_store_source_valid(source, &slen))
		return MC_E_USAGE;
	rc = mci_store_counts_get(w, source, slen, &e);
	if (rc)
		return mci_store_wpoison(w, NULL, mci_store_xlate(rc),
					 "reading the counts of source %s: %s", source,
					 mci_store_reason(rc));
	if (old) {
		memset(old, 0, sizeof(*old));
		memcpy(old->source, source, slen);
		old->present = e->present;
		old->deleted = e->deleted;
		old->last_change = e->last_change;
	}
	if (e->present == present && e->deleted == deleted)
		return 0;
	mc_put_le64(v, present);
	mc_put_le64(v + 8, deleted);
	rc = mci_store_writer_apply(w, LOG_COUNTS, source, slen, v, 16, NULL, NULL);
	return rc ? rc : 1;
}

int mc_reader_seq_get(struct mc_reader *r, const char *name, uint64_t *ret)
{
	unsigned char kb[4 + SEQ_NAME_MAX];
	MDB_val k, v;
	size_t n;
	int rc;

	if (!r || !name || !ret)
		return MC_E_USAGE;
	n = strnlen(name, SEQ_NAME_MAX + 1);
	if (n == 0 || n > SEQ_NAME_MAX)
		return MC_E_USAGE;
	memcpy(kb, "seq:", 4);
	memcpy(kb + 4, name, n);
	k.mv_size = 4 + n;
	k.mv_data = kb;
	*ret = 0;
	rc = mdb_get(r->txn, r->s->dbi_meta, &k, &v);
	if (rc == MDB_NOTFOUND)
		return MC_E_NOTFOUND;
	if (rc)
		return mci_store_rfail(r, rc, "mdb_get from", r->s->dbi_meta);
	if (v.mv_size != 8)
		return MC_E_CORRUPT;
	*ret = mc_get_le64(v.mv_data);
	return 0;
}

void mc_reader_trim(struct mc_reader *r, uint64_t max_rss)
{
	if (r)
		mci_store_trim(r->s, r->txn, max_rss ? max_rss : r->s->trim_rss);
}
