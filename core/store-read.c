/* store-read.c — reads: read snapshots (mc_reader_*), and the record,
 * feed, state and count reads that readers and writers share (a writer's
 * walk survives its transaction being replaced by a growth). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "mc-limits.h"
#include "mc-store.h"
#include "store-internal.h"

/* A reader call failed in LMDB (op on dbi): note it for mc_reader_errmsg
 * and return the project code. */
int mci_store_rfail(struct mc_reader *r, int rc, const char *op, MDB_dbi dbi)
{
	snprintf(r->emsg, sizeof(r->emsg), "%s %s: %s", op, mci_store_db_label(r->s, dbi),
		 mci_store_reason(rc));
	return mci_store_xlate(rc);
}

int mci_store_feed_last_txn(struct mc_store *s, MDB_txn *txn, uint64_t *seq)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, s->dbi_feed, &c);

	if (rc)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND) {
		*seq = 0;
		return 0;
	}
	if (rc)
		return rc;
	if (k.mv_size != 8)
		return MC_E_CORRUPT;
	*seq = mc_get_be64(k.mv_data);
	return 0;
}

int mci_store_counts_decode(const MDB_val *v, uint64_t *present, uint64_t *deleted, int64_t *last)
{
	const unsigned char *p = v->mv_data;

	if (v->mv_size >= 1 && p[0] > MC_COUNTS_VERSION)
		return MC_E_VERSION;
	if (v->mv_size != MC_COUNTS_SIZE || p[0] != MC_COUNTS_VERSION)
		return MC_E_CORRUPT;
	*present = mc_get_le64(p + 1);
	*deleted = mc_get_le64(p + 9);
	*last = (int64_t)mc_get_le64(p + 17);
	return 0;
}

/* ---- reader ---- */

/* Why the calling thread's last mc_reader_begin failed (mc_reader_errmsg(NULL)). */
static __thread char begin_msg[512];

int mc_reader_begin(struct mc_store *s, struct mc_reader **ret)
{
	struct mc_error berr;
	struct mc_reader *r;
	int rc;

	mc_error_clear(&berr);
	if (!s || !ret)
		return MC_E_USAGE;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->s = s;
	for (int i = 0;; i++) {
		uint64_t seen = __atomic_load_n(&s->main_seen, __ATOMIC_ACQUIRE);

		rc = mci_store_rtxn_begin(s, r, &r->txn, &berr);
		if (rc)
			break;
		if (i == 3 || !mci_store_db_stale(s, r->txn, seen))
			break;
		/* another process created databases: open them, then begin
		 * again so that this snapshot can use them */
		mci_store_rtxn_end(s, r, r->txn, 0);
		r->txn = NULL;
		rc = mci_store_db_refresh(s);
		if (rc) {
			mci_store_set_err(&berr, rc,
					  "opening the databases other processes created");
			break;
		}
	}
	if (rc) {
		snprintf(begin_msg, sizeof(begin_msg), "%s",
			 berr.msg[0] ? berr.msg : mci_store_reason(rc));
		free(r);
		return mci_store_xlate(rc);
	}
	*ret = r;
	return 0;
}

void mc_reader_end(struct mc_reader *r)
{
	if (!r)
		return;
	mci_store_rtxn_end(r->s, r, r->txn, 0);
	free(r);
}

/* Fill rec from a record value and its key (source "\0" local id). */
static int load_record(const MDB_val *k, const MDB_val *v, struct mc_record *rec)
{
	const char *key = k->mv_data;
	const char *nul = memchr(key, '\0', k->mv_size);
	int rc;

	if (!nul)
		return MC_E_CORRUPT;
	rc = mc_record_unpack(v->mv_data, v->mv_size, rec);
	if (rc)
		return rc;
	rec->source = mc_arena_strndup(rec->arena, key, (size_t)(nul - key));
	rec->local_id = mc_arena_strndup(rec->arena, nul + 1, k->mv_size - (size_t)(nul - key) - 1);
	if (!rec->source || !rec->local_id) {
		mc_record_reset(rec);
		return -ENOMEM;
	}
	return 0;
}

struct store_view mci_store_view_reader(struct mc_reader *r)
{
	struct store_view v = { r->s, NULL, r->txn, r->emsg };

	return v;
}

struct store_view mci_store_view_writer(struct mc_writer *w)
{
	struct store_view v = { w->s, w, w->txn, w->emsg };

	return v;
}

/* A read failed (op on dbi, LMDB or project code rc): note it in the
 * view's message and return the project code. */
int mci_store_vfail(struct store_view *v, int rc, const char *op, MDB_dbi dbi)
{
	snprintf(v->emsg, 512, "%s %s: %s", op, mci_store_db_label(v->s, dbi),
		 mci_store_reason(rc));
	return mci_store_xlate(rc);
}

/* After a callback: the writer's batch poisoned (its error), the
 * transaction replaced (1: reopen the cursor), or as before (0). */
int mci_store_view_moved(struct store_view *v, unsigned *epoch)
{
	if (!v->w)
		return 0;
	if (v->w->failed)
		return v->w->failed;
	if (v->w->epoch == *epoch)
		return 0;
	*epoch = v->w->epoch;
	v->txn = v->w->txn;
	return 1;
}

/* Close a walk's cursor, unless it died with the writer's transaction
 * (LMDB frees the cursors of a write transaction when it ends). epoch:
 * the writer's epoch when the cursor was opened. */
void mci_store_view_close(const struct store_view *v, MDB_cursor *c, unsigned epoch)
{
	if (c && (!v->w || (v->w->txn && v->w->epoch == epoch)))
		mdb_cursor_close(c);
}

/* Open cursor c on v's new transaction (the old one and its cursor are
 * gone) after key last: at the first key greater than last. */
int mci_store_view_reopen(struct store_view *v, MDB_dbi dbi, MDB_cursor **c, const void *last,
			  size_t llen, MDB_val *k, MDB_val *d)
{
	int rc;

	*c = NULL;
	rc = mdb_cursor_open(v->txn, dbi, c);
	if (rc) {
		*c = NULL;
		return rc;
	}
	k->mv_size = llen;
	k->mv_data = (void *)last;
	rc = mdb_cursor_get(*c, k, d, MDB_SET_RANGE);
	if (rc == 0 && k->mv_size == llen && memcmp(k->mv_data, last, llen) == 0)
		rc = mdb_cursor_get(*c, k, d, MDB_NEXT);
	return rc;
}

static int get_in(struct mc_store *s, MDB_txn *txn, const char *source, const char *local_id,
		  struct mc_record *rec, struct mc_error *err)
{
	unsigned char kb[MC_STORE_KEY_MAX];
	MDB_val key, v;
	size_t slen;
	int rc;

	mci_store_set_err_rec(err, source, local_id);
	if (!mci_store_source_valid(source, &slen) || !local_id || !local_id[0])
		return mc_error_set(err, MC_E_USAGE, "invalid source id or local identifier");
	if (mci_store_make_key(kb, s->maxkey, source, slen, local_id, &key.mv_size))
		return mc_error_set(err, MC_E_NOTFOUND, "no such record (key too long)");
	key.mv_data = kb;
	rc = mdb_get(txn, s->dbi_records, &key, &v);
	if (rc == MDB_NOTFOUND)
		return mc_error_set(err, MC_E_NOTFOUND, "no such record");
	if (rc)
		return mci_store_set_err(err, rc, "mdb_get from records");
	rc = load_record(&key, &v, rec);
	if (rc)
		return mc_error_set(err, rc, "decoding the stored record from records: %s",
				    mc_strerror(rc));
	return 0;
}

int mc_reader_get(struct mc_reader *r, const char *source, const char *local_id,
		 struct mc_record *rec, struct mc_error *err)
{
	if (!r || !rec)
		return mc_error_set(err, MC_E_USAGE, "mc_reader_get: bad arguments");
	return get_in(r->s, r->txn, source, local_id, rec, err);
}

int mc_writer_get(struct mc_writer *w, const char *source, const char *local_id,
		  struct mc_record *rec, struct mc_error *err)
{
	int rc = mci_store_writer_check(w, err);

	if (rc)
		return rc;
	if (!rec)
		return mc_error_set(err, MC_E_USAGE, "mc_writer_get: bad arguments");
	return get_in(w->s, w->txn, source, local_id, rec, err);
}

static int each_in(struct store_view *vw, const char *source,
		   int (*cb)(void *ctx, struct mc_record *rec), void *ctx, struct mc_error *err)
{
	struct mc_record *rec = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	unsigned char last[MC_STORE_KEY_MAX];
	char prefix[MC_MAX_SOURCE_ID + 1];
	size_t plen = 0, seen = 0, llen;
	unsigned epoch = vw->w ? vw->w->epoch : 0;
	int rc;

	if (!cb)
		return mc_error_set(err, MC_E_USAGE, "each: no callback");
	if (source) {
		if (!mci_store_source_valid(source, &plen))
			return mc_error_set(err, MC_E_USAGE, "invalid source id");
		memcpy(prefix, source, plen);
		prefix[plen++] = '\0';
	}
	rc = mc_record_new(&rec);
	if (rc)
		return mc_error_set(err, rc, "out of memory");
	rc = mdb_cursor_open(vw->txn, vw->s->dbi_records, &c);
	if (rc) {
		c = NULL;
		rc = mci_store_set_err(err, rc, "mdb_cursor_open on records");
		goto done;
	}
	k.mv_size = plen;
	k.mv_data = prefix;
	rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0) {
		if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
			break;
		rc = k.mv_size <= sizeof(last) ? load_record(&k, &v, rec) : MC_E_CORRUPT;
		if (rc) {
			const char *kd = k.mv_data;
			size_t n = strnlen(kd, k.mv_size);

			if (err) {
				mc_error_field(err->source, sizeof(err->source),
					       n < k.mv_size ? kd : "?");
				if (n + 1 < k.mv_size)
					snprintf(err->record_id, sizeof(err->record_id), "%.*s",
						 (int)(k.mv_size - n - 1), kd + n + 1);
			}
			rc = mc_error_set(err, rc, "decoding a stored record from records: %s",
					  mc_strerror(rc));
			goto done;
		}
		llen = k.mv_size;
		if (vw->w)   /* the callback may replace the transaction */
			memcpy(last, k.mv_data, llen);
		rc = cb(ctx, rec);
		if (rc)
			goto done;
		rc = mci_store_view_moved(vw, &epoch);
		if (rc < 0)
			goto done;
		if (rc) {
			rc = mci_store_view_reopen(vw, vw->s->dbi_records, &c, last, llen, &k, &v);
			continue;
		}
		if (!vw->w && ++seen % 1024 == 0)
			mci_store_trim(vw->s, vw->txn, vw->s->trim_rss);
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == MDB_NOTFOUND || rc == 0)
		rc = 0;
	else
		rc = mci_store_set_err(err, rc, "mdb_cursor_get (walking) on records");
done:
	mci_store_view_close(vw, c, epoch);
	mc_record_free(rec);
	return rc;
}

int mc_reader_each(struct mc_reader *r, const char *source,
		  int (*cb)(void *ctx, struct mc_record *rec), void *ctx, struct mc_error *err)
{
	struct store_view vw;

	if (!r)
		return mc_error_set(err, MC_E_USAGE, "mc_reader_each: bad arguments");
	vw = mci_store_view_reader(r);
	return each_in(&vw, source, cb, ctx, err);
}

int mc_writer_each(struct mc_writer *w, const char *source,
		   int (*cb)(void *ctx, struct mc_record *rec), void *ctx, struct mc_error *err)
{
	struct store_view vw;
	int rc = mci_store_writer_check(w, err);

	if (rc)
		return rc;
	vw = mci_store_view_writer(w);
	return each_in(&vw, source, cb, ctx, err);
}

static int feed_in(struct store_view *vw, uint64_t after, uint64_t max,
		   int (*cb)(void *ctx, uint64_t seq, int op, const char *source,
			     const char *local_id),
		   void *ctx)
{
	unsigned char kb[8];
	char buf[MC_STORE_KEY_MAX + 2];
	MDB_cursor *c;
	MDB_val k = { 8, kb }, v;
	uint64_t n = 0;
	unsigned epoch = vw->w ? vw->w->epoch : 0;
	int rc;

	if (!cb)
		return MC_E_USAGE;
	if (after == UINT64_MAX)
		return 0;
	rc = mdb_cursor_open(vw->txn, vw->s->dbi_feed, &c);
	if (rc)
		return mci_store_vfail(vw, rc, "mdb_cursor_open on", vw->s->dbi_feed);
	mc_put_be64(kb, after + 1);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && (!max || n < max)) {
		const unsigned char *d = v.mv_data;
		const char *nul;
		uint64_t seq;
		int op;

		if (k.mv_size != 8 || v.mv_size < 3 || v.mv_size - 1 > MC_STORE_KEY_MAX) {
			rc = MC_E_CORRUPT;
			break;
		}
		op = d[0];
		if (op != MC_PUT_NEW && op != MC_PUT_CHANGED && op != MC_PUT_DELETED) {
			rc = MC_E_CORRUPT;
			break;
		}
		memcpy(buf, d + 1, v.mv_size - 1);
		buf[v.mv_size - 1] = '\0';
		nul = memchr(buf, '\0', v.mv_size - 1);
		if (!nul || nul == buf) {
			rc = MC_E_CORRUPT;
			break;
		}
		seq = mc_get_be64(k.mv_data);
		rc = cb(ctx, seq, op, buf, nul + 1);
		if (rc) {
			mci_store_view_close(vw, c, epoch);
			return rc;
		}
		n++;
		rc = mci_store_view_moved(vw, &epoch);
		if (rc < 0) {
			mci_store_view_close(vw, c, epoch);
			return rc;
		}
		if (rc) {
			mc_put_be64(kb, seq);
			rc = mci_store_view_reopen(vw, vw->s->dbi_feed, &c, kb, 8, &k, &v);
			if (!c)
				return mci_store_vfail(vw, rc, "mdb_cursor_open (again) on",
						       vw->s->dbi_feed);
			continue;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mci_store_view_close(vw, c, epoch);
	if (rc == MC_E_CORRUPT)
		return mci_store_vfail(vw, rc, "decoding an entry of", vw->s->dbi_feed);
	return rc == 0 || rc == MDB_NOTFOUND
		       ? 0
		       : mci_store_vfail(vw, rc, "mdb_cursor_get on", vw->s->dbi_feed);
}

int mc_reader_feed(struct mc_reader *r, uint64_t after, uint64_t max,
		  int (*cb)(void *ctx, uint64_t seq, int op, const char *source,
			    const char *local_id),
		  void *ctx)
{
	struct store_view vw;

	if (!r)
		return MC_E_USAGE;
	vw = mci_store_view_reader(r);
	return feed_in(&vw, after, max, cb, ctx);
}

int mc_writer_feed(struct mc_writer *w, uint64_t after, uint64_t max,
		   int (*cb)(void *ctx, uint64_t seq, int op, const char *source,
			     const char *local_id),
		   void *ctx)
{
	struct store_view vw;
	int rc = mci_store_writer_check(w, NULL);

	if (rc)
		return rc;
	vw = mci_store_view_writer(w);
	return feed_in(&vw, after, max, cb, ctx);
}

uint64_t mc_reader_feed_last(struct mc_reader *r)
{
	uint64_t seq = 0;

	if (!r || mci_store_feed_last_txn(r->s, r->txn, &seq))
		return 0;
	return seq;
}

static int state_get_in(struct store_view *vw, const char *scope, const char *key, char *buf,
			size_t bufsz)
{
	unsigned char kb[MC_STORE_KEY_MAX];
	MDB_val kv, v;
	int rc;

	if (!scope || !key || !buf || !bufsz)
		return MC_E_USAGE;
	if (mci_store_make_key(kb, vw->s->maxkey, scope, strlen(scope), key, &kv.mv_size))
		return MC_E_NOTFOUND;
	kv.mv_data = kb;
	rc = mdb_get(vw->txn, vw->s->dbi_state, &kv, &v);
	if (rc == MDB_NOTFOUND)
		return MC_E_NOTFOUND;
	if (rc)
		return mci_store_vfail(vw, rc, "mdb_get from", vw->s->dbi_state);
	if (v.mv_size >= bufsz)
		return MC_E_TOOBIG;
	memcpy(buf, v.mv_data, v.mv_size);
	buf[v.mv_size] = '\0';
	return 0;
}

int mc_reader_state_get(struct mc_reader *r, const char *scope, const char *key,
		       char *buf, size_t bufsz)
{
	struct store_view vw;

	if (!r)
		return MC_E_USAGE;
	vw = mci_store_view_reader(r);
	return state_get_in(&vw, scope, key, buf, bufsz);
}

int mc_writer_state_get(struct mc_writer *w, const char *scope, const char *key,
			char *buf, size_t bufsz)
{
	struct store_view vw;
	int rc = mci_store_writer_check(w, NULL);

	if (rc)
		return rc;
	vw = mci_store_view_writer(w);
	return state_get_in(&vw, scope, key, buf, bufsz);
}

int mc_reader_sources(struct mc_reader *r,
		     int (*cb)(void *ctx, const struct mc_source_counts *c), void *ctx)
{
	MDB_cursor *c;
	MDB_val k, v;
	struct mc_source_counts sc;
	int rc;

	if (!r || !cb)
		return MC_E_USAGE;
	rc = mdb_cursor_open(r->txn, r->s->dbi_sources, &c);
	if (rc)
		return mci_store_rfail(r, rc, "mdb_cursor_open on", r->s->dbi_sources);
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		memset(&sc, 0, sizeof(sc));
		if (k.mv_size == 0 || k.mv_size > MC_MAX_SOURCE_ID) {
			rc = MC_E_CORRUPT;
			break;
		}
		rc = mci_store_counts_decode(&v, &sc.present, &sc.deleted, &sc.last_change);
		if (rc)
			break;
		memcpy(sc.source, k.mv_data, k.mv_size);
		rc = cb(ctx, &sc);
		if (rc) {
			mdb_cursor_close(c);
			return rc;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc == MC_E_CORRUPT || rc == MC_E_VERSION)
		return mci_store_rfail(r, rc, "decoding the counts in", r->s->dbi_sources);
	return rc == 0 || rc == MDB_NOTFOUND
		       ? 0
		       : mci_store_rfail(r, rc, "mdb_cursor_get on", r->s->dbi_sources);
}

int mc_reader_info(struct mc_reader *r, struct mc_store_info *info)
{
	MDB_envinfo ei;
	MDB_stat st;
	int rc;

	if (!r || !info)
		return MC_E_USAGE;
	memset(info, 0, sizeof(*info));
	rc = mdb_env_info(r->s->env, &ei);
	if (!rc)
		rc = mdb_env_stat(r->s->env, &st);
	if (rc)
		return mci_store_rfail(r, rc, "mdb_env_stat of", r->s->dbi_main);
	info->map_size = ei.me_mapsize;
	info->used_bytes = ((uint64_t)ei.me_last_pgno + 1) * st.ms_psize;
	rc = mdb_stat(r->txn, r->s->dbi_records, &st);
	if (rc)
		return mci_store_rfail(r, rc, "mdb_stat of", r->s->dbi_records);
	info->records = st.ms_entries;
	rc = mdb_stat(r->txn, r->s->dbi_feed, &st);
	if (rc)
		return mci_store_rfail(r, rc, "mdb_stat of", r->s->dbi_feed);
	info->feed_entries = st.ms_entries;
	{
		MDB_val k = { 7, (void *)"created" }, v;

		if (!mdb_get(r->txn, r->s->dbi_meta, &k, &v) && v.mv_size == 8)
			info->created = (int64_t)mc_get_le64(v.mv_data);
	}
	return 0;
}

const char *mc_reader_errmsg(const struct mc_reader *r)
{
	return r ? r->emsg : begin_msg;
}
