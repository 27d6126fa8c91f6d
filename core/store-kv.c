/* store-kv.c — named key/value databases of later stages, named counters,
 * and the write generations' getters. Writes go through the writer's log
 * (store-writer.c), so a map growth replays them like record puts. */
#include <string.h>

#include <lmdb.h>

#include "mc-limits.h"
#include "mc-store.h"
#include "store-internal.h"

/* ---- named key/value databases and counters ---- */

/* The handle of kv database name for the batch, creating the database
 * when create is set (the batch's transaction is then replaced: the
 * database is created, empty, in a transaction of its own that stays even
 * if the batch is aborted). *ret NULL: no such database (create unset).
 * 0, MC_E_USAGE (bad name, too many databases: the batch stays usable), or
 * an error that poisons the batch. */
static int writer_db(struct mc_writer *w, const char *name, int create,
		     const struct db_ent **ret, struct mc_error *err)
{
	struct mc_store *s = w->s;
	const struct db_ent *e;
	unsigned f;
	size_t nlen;
	int rc, rc2;

	*ret = NULL;
	if (!mci_store_kv_name_valid(name, &nlen))
		return mci_store_wfail(w, err, MC_E_USAGE,
				       "bad database name %.80s (want [A-Za-z0-9._-]{1,%d}, "
				       "not starting \"mc_\", not one of the store's own)",
				       name ? name : "(null)", KV_NAME_MAX);
	e = mci_store_db_find(s, name, nlen);
	if (!e) {
		struct mc_error cerr;

		if (!create)
			return 0;
		if (__atomic_load_n(&s->nkv, __ATOMIC_RELAXED) >= MC_STORE_MAX_KV)
			return mci_store_wfail(w, err, MC_E_USAGE,
					       "cannot create database %s: at most %d "
					       "key/value databases",
					       name, MC_STORE_MAX_KV);
		mci_store_wtxn_end(s, w->txn, 0);
		w->txn = NULL;
		mc_error_clear(&cerr);
		rc = mci_store_db_create(s, name, nlen, &cerr);
		rc2 = mci_store_writer_recover(w, 0, err);
		if (rc2)
			return rc2;
		if (rc == MC_E_USAGE)
			return mci_store_wfail(w, err, rc, "%s", cerr.msg);
		if (rc)
			return mci_store_wpoison(w, err, rc, "%s", cerr.msg);
		e = mci_store_db_find(s, name, nlen);
		if (!e)
			return mci_store_wpoison(w, err, MC_E_STORE,
						 "database %s has no handle after "
						 "mdb_dbi_open created it",
						 name);
	} else if (mdb_dbi_flags(w->txn, e->dbi, &f) != 0) {
		/* opened (by another thread) after this transaction began */
		rc = mci_store_writer_recover(w, 0, err);
		if (rc)
			return rc;
	}
	*ret = e;
	return 0;
}

/* The handle of kv database name for a reader; NULL with *rc = MC_E_USAGE
 * (bad name) or MC_E_NOTFOUND (no such database in its snapshot). */
static const struct db_ent *reader_db(struct mc_reader *r, const char *name, int *rc)
{
	const struct db_ent *e;
	unsigned f;
	size_t nlen;

	*rc = MC_E_USAGE;
	if (!r || !mci_store_kv_name_valid(name, &nlen))
		return NULL;
	*rc = MC_E_NOTFOUND;
	e = mci_store_db_find(r->s, name, nlen);
	if (!e || mdb_dbi_flags(r->txn, e->dbi, &f) != 0)
		return NULL;
	*rc = 0;
	return e;
}

/* w->key = [u8 name length][name][key]; w->klen set. */
static void kv_log_key(struct mc_writer *w, const struct db_ent *e, const void *key, size_t klen)
{
	w->key[0] = (unsigned char)e->nlen;
	memcpy(w->key + 1, e->name, e->nlen);
	if (klen)
		memcpy(w->key + 1 + e->nlen, key, klen);
	w->klen = 1 + e->nlen + klen;
}

static int kv_key_check(struct mc_store *s, const void *key, size_t klen)
{
	if (!key || klen == 0)
		return MC_E_USAGE;
	if (klen > s->maxkey)
		return MC_E_TOOBIG;
	return 0;
}

/* A put (LOG_KV_PUT) or append (LOG_KV_APPEND) of (key, val) into kv
 * database db, created on first use. */
static int kv_write(struct mc_writer *w, int type, const char *db, const void *key, size_t klen,
		    const void *val, size_t vlen)
{
	const struct db_ent *e;
	int rc = mci_store_writer_check(w, NULL);

	if (rc)
		return rc;
	rc = kv_key_check(w->s, key, klen);
	if (rc)
		return mci_store_wfail(w, NULL, rc, "a key of %zu bytes for %.80s (want 1..%zu)",
				       klen, db ? db : "(null)", w->s->maxkey);
	if (!val && vlen)
		return mci_store_wfail(w, NULL, MC_E_USAGE, "no value for %.80s",
				       db ? db : "(null)");
	if (vlen > MC_STORE_VALUE_MAX)
		return mci_store_wfail(w, NULL, MC_E_TOOBIG,
				       "a value of %zu bytes for %.80s (at most %u)", vlen,
				       db ? db : "(null)", MC_STORE_VALUE_MAX);
	rc = writer_db(w, db, 1, &e, NULL);
	if (rc)
		return rc;
	kv_log_key(w, e, key, klen);
	rc = mci_store_writer_apply(w, type, w->key, w->klen, val, vlen, NULL, NULL);
	if (!rc)
		w->kv_dirty |= 1ull << (e - w->s->db);
	return rc;
}

int mc_writer_kv_put(struct mc_writer *w, const char *db, const void *key, size_t klen,
		     const void *val, size_t vlen)
{
	return kv_write(w, LOG_KV_PUT, db, key, klen, val, vlen);
}

int mc_writer_kv_append(struct mc_writer *w, const char *db, const void *key, size_t klen,
			const void *val, size_t vlen)
{
	return kv_write(w, LOG_KV_APPEND, db, key, klen, val, vlen);
}

int mc_writer_kv_count(struct mc_writer *w, const char *db, uint64_t *ret)
{
	const struct db_ent *e;
	MDB_stat st;
	int rc = mci_store_writer_check(w, NULL);

	*ret = 0;
	if (rc)
		return rc;
	rc = writer_db(w, db, 0, &e, NULL);
	if (rc || !e)
		return rc;
	rc = mdb_stat(w->txn, e->dbi, &st);
	if (rc)
		return mci_store_wfail(w, NULL, mci_store_xlate(rc), "mdb_stat of %s: %s", e->name,
				       mci_store_reason(rc));
	*ret = st.ms_entries;
	return 0;
}

/* The existing kv database db of a batch, for a read or delete of key: 0
 * with *e set, MC_E_NOTFOUND (no such database, or a key too long to have
 * been stored), or an error. */
static int writer_kv_existing(struct mc_writer *w, const char *db, const void *key,
			      size_t klen, const struct db_ent **e)
{
	int rc = mci_store_writer_check(w, NULL);

	if (rc)
		return rc;
	rc = kv_key_check(w->s, key, klen);
	if (rc)
		return rc == MC_E_TOOBIG ? MC_E_NOTFOUND : rc;
	rc = writer_db(w, db, 0, e, NULL);
	if (rc)
		return rc;
	return *e ? 0 : MC_E_NOTFOUND;
}

int mc_writer_kv_del(struct mc_writer *w, const char *db, const void *key, size_t klen)
{
	const struct db_ent *e;
	int oc = KV_ABSENT, rc = writer_kv_existing(w, db, key, klen, &e);

	if (rc)
		return rc;
	kv_log_key(w, e, key, klen);
	rc = mci_store_writer_apply(w, LOG_KV_DEL, w->key, w->klen, NULL, 0, &oc, NULL);
	if (rc)
		return rc;
	if (oc == KV_ABSENT)
		return MC_E_NOTFOUND;
	w->kv_dirty |= 1ull << (e - w->s->db);
	return 0;
}

int mc_writer_kv_get(struct mc_writer *w, const char *db, const void *key, size_t klen,
		     const void **val, size_t *vlen)
{
	const struct db_ent *e;
	MDB_val k = { klen, (void *)key }, v;
	int rc = mci_store_writer_check(w, NULL);

	if (rc)
		return rc;
	if (!val || !vlen)
		return MC_E_USAGE;
	rc = writer_kv_existing(w, db, key, klen, &e);
	if (rc)
		return rc;
	rc = mdb_get(w->txn, e->dbi, &k, &v);
	if (rc == MDB_NOTFOUND)
		return MC_E_NOTFOUND;
	if (rc)
		return mci_store_wfail(w, NULL, mci_store_xlate(rc), "mdb_get from %s: %s", e->name,
				       mci_store_reason(rc));
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 0;
}

int mc_reader_kv_get(struct mc_reader *r, const char *db, const void *key, size_t klen,
		     const void **val, size_t *vlen)
{
	const struct db_ent *e;
	MDB_val k = { klen, (void *)key }, v;
	int rc;

	if (!val || !vlen)
		return MC_E_USAGE;
	e = reader_db(r, db, &rc);
	if (!e)
		return rc;
	rc = kv_key_check(r->s, key, klen);
	if (rc)
		return rc == MC_E_TOOBIG ? MC_E_NOTFOUND : rc;
	rc = mdb_get(r->txn, e->dbi, &k, &v);
	if (rc == MDB_NOTFOUND)
		return MC_E_NOTFOUND;
	if (rc)
		return mci_store_rfail(r, rc, "mdb_get from", e->dbi);
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 0;
}

static int kv_each_in(struct store_view *vw, MDB_dbi dbi, const void *prefix, size_t plen,
		      mc_kv_cb cb, void *ctx)
{
	unsigned char last[MC_STORE_KEY_MAX];
	unsigned epoch = vw->w ? vw->w->epoch : 0;
	MDB_cursor *c;
	MDB_val k = { plen, (void *)prefix }, v;
	size_t llen;
	int rc;

	if (!cb || (plen && !prefix))
		return MC_E_USAGE;
	if (plen > vw->s->maxkey)
		return 0;
	rc = mdb_cursor_open(vw->txn, dbi, &c);
	if (rc)
		return mci_store_vfail(vw, rc, "mdb_cursor_open on", dbi);
	rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0) {
		if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if (k.mv_size > sizeof(last)) {
			rc = MC_E_CORRUPT;
			break;
		}
		llen = k.mv_size;
		if (vw->w)   /* the callback may replace the transaction */
			memcpy(last, k.mv_data, llen);
		rc = cb(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		if (rc) {
			mci_store_view_close(vw, c, epoch);
			return rc;
		}
		rc = mci_store_view_moved(vw, &epoch);
		if (rc < 0)
			break;
		if (rc) {
			rc = mci_store_view_reopen(vw, dbi, &c, last, llen, &k, &v);
			continue;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mci_store_view_close(vw, c, epoch);
	if (rc == 0 || rc == MDB_NOTFOUND)
		return 0;
	if (rc == MC_E_CORRUPT)
		return mci_store_vfail(vw, rc, "a key longer than 511 bytes in", dbi);
	if (rc < 0 && rc > MC_E_BASE)   /* the writer's own error: its message is set */
		return rc;
	return mci_store_vfail(vw, rc, "mdb_cursor_get on", dbi);
}

int mc_writer_kv_each(struct mc_writer *w, const char *db, const void *prefix, size_t plen,
		      mc_kv_cb cb, void *ctx)
{
	const struct db_ent *e;
	struct store_view vw;
	int rc = mci_store_writer_check(w, NULL);

	if (rc)
		return rc;
	rc = writer_db(w, db, 0, &e, NULL);
	if (rc || !e)
		return rc;
	vw = mci_store_view_writer(w);
	return kv_each_in(&vw, e->dbi, prefix, plen, cb, ctx);
}

int mc_reader_kv_each(struct mc_reader *r, const char *db, const void *prefix, size_t plen,
		      mc_kv_cb cb, void *ctx)
{
	const struct db_ent *e;
	struct store_view vw;
	int rc;

	e = reader_db(r, db, &rc);
	if (!e)
		return rc == MC_E_NOTFOUND ? 0 : rc;
	vw = mci_store_view_reader(r);
	return kv_each_in(&vw, e->dbi, prefix, plen, cb, ctx);
}

int mc_writer_seq_next(struct mc_writer *w, const char *name, uint64_t *ret)
{
	static const unsigned char zero[8];
	size_t n, mark, klen;
	int rc = mci_store_writer_check(w, NULL);

	if (rc)
		return rc;
	if (!name || !ret)
		return MC_E_USAGE;
	n = strnlen(name, SEQ_NAME_MAX + 1);
	if (n == 0 || n > SEQ_NAME_MAX)
		return MC_E_USAGE;
	memcpy(w->key, "seq:", 4);
	memcpy(w->key + 4, name, n);
	klen = 4 + n;
	mark = w->log.len;
	rc = mci_store_writer_apply(w, LOG_SEQ, w->key, klen, zero, 8, NULL, NULL);
	if (rc)
		return rc;
	*ret = mc_get_le64((unsigned char *)w->log.data + mark + LOG_HDR + klen);
	return 0;
}

int mc_writer_kv_clear(struct mc_writer *w, const char *db)
{
	const struct db_ent *e;
	int rc = mci_store_writer_check(w, NULL);

	if (rc)
		return rc;
	rc = writer_db(w, db, 0, &e, NULL);
	if (rc || !e)
		return rc;
	kv_log_key(w, e, NULL, 0);
	rc = mci_store_writer_apply(w, LOG_KV_CLEAR, w->key, w->klen, NULL, 0, NULL, NULL);
	if (!rc)
		w->kv_dirty |= 1ull << (e - w->s->db);
	return rc;
}

/* ---- write generations (bumped at commit: store-writer.c) ---- */

int mc_writer_generation(struct mc_writer *w, uint64_t *ret)
{
	const char *op;
	int rc = mci_store_writer_check(w, NULL);

	if (rc)
		return rc;
	if (!ret)
		return MC_E_USAGE;
	rc = mci_store_meta_u64(w->s, w->txn, "gen", 3, ret, &op);
	if (rc)
		return mci_store_wfail(w, NULL, mci_store_xlate(rc), "%s meta: %s", op,
				       mci_store_reason(rc));
	*ret += w->log.len ? 1 : 0;
	return 0;
}

int mc_reader_generation(struct mc_reader *r, uint64_t *ret)
{
	const char *op;
	int rc;

	if (!r || !ret)
		return MC_E_USAGE;
	rc = mci_store_meta_u64(r->s, r->txn, "gen", 3, ret, &op);
	return rc ? mci_store_rfail(r, rc, op, r->s->dbi_meta) : 0;
}

int mc_writer_kv_generation(struct mc_writer *w, const char *db, uint64_t *ret)
{
	unsigned char key[4 + KV_NAME_MAX];
	const struct db_ent *e;
	const char *op;
	size_t nlen;
	int rc = mci_store_writer_check(w, NULL);

	if (rc)
		return rc;
	if (!ret)
		return MC_E_USAGE;
	*ret = 0;
	if (!mci_store_kv_name_valid(db, &nlen))
		return mci_store_wfail(w, NULL, MC_E_USAGE, "bad database name %.80s",
				       db ? db : "(null)");
	e = mci_store_db_find(w->s, db, nlen);
	if (!e)
		return 0;
	rc = mci_store_meta_u64(w->s, w->txn, key, mci_store_gen_key(e, key), ret, &op);
	if (rc)
		return mci_store_wfail(w, NULL, mci_store_xlate(rc), "%s meta: %s", op,
				       mci_store_reason(rc));
	*ret += (w->kv_dirty >> (e - w->s->db)) & 1;
	return 0;
}

int mc_reader_kv_generation(struct mc_reader *r, const char *db, uint64_t *ret)
{
	unsigned char key[4 + KV_NAME_MAX];
	struct db_ent e;
	const char *op;
	size_t nlen;
	int rc;

	if (!r || !ret)
		return MC_E_USAGE;
	*ret = 0;
	if (!mci_store_kv_name_valid(db, &nlen))
		return MC_E_USAGE;
	memcpy(e.name, db, nlen);
	e.nlen = nlen;
	rc = mci_store_meta_u64(r->s, r->txn, key, mci_store_gen_key(&e, key), ret, &op);
	return rc ? mci_store_rfail(r, rc, op, r->s->dbi_meta) : 0;
}
