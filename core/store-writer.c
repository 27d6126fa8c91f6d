/* store-writer.c — the writer: a batch is one LMDB write transaction plus
 * a log of its operations (key + packed value, state, kv and counter
 * operations), so that when LMDB reports MDB_MAP_FULL the batch can abort,
 * double the map and replay the log in a new transaction: callers see the
 * same outcomes as if the map had been big enough. Also the per-source
 * counts, the feed entries and the write generations written at commit.
 * See schemas/lmdb.md. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include <lmdb.h>

#include "mc-limits.h"
#include "mc-store.h"
#include "store-internal.h"

/* Note which LMDB call (op, "mdb_put into") failed on which database, for
 * the batch's message; rc is returned. MDB_NOTFOUND is an answer, not a
 * failure. */
int mci_store_wloc(struct mc_writer *w, int rc, const char *op, MDB_dbi dbi)
{
	if (rc && rc != MDB_NOTFOUND) {
		w->fop = op;
		w->fdbi = dbi;
		w->fdb_set = dbi != NO_DBI;
	}
	return rc;
}

/* "mdb_put into mg_key: MDB_MAP_FULL: Environment mapsize limit reached"
 * for the failure mci_store_wloc noted (what, if none was), into buf. */
static void wloc_format(struct mc_writer *w, int rc, const char *what, char *buf, size_t bufsz)
{
	if (w->fop && w->fdb_set)
		snprintf(buf, bufsz, "%s %s: %s", w->fop, mci_store_db_label(w->s, w->fdbi),
			 mci_store_reason(rc));
	else if (w->fop)
		snprintf(buf, bufsz, "%s: %s", w->fop, mci_store_reason(rc));
	else
		snprintf(buf, bufsz, "%s: %s", what, mci_store_reason(rc));
}

/* Fail a writer call: the message goes to err (may be NULL) and stays
 * readable with mc_writer_errmsg. Returns code. */
__attribute__((format(printf, 4, 5)))
int mci_store_wfail(struct mc_writer *w, struct mc_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->emsg, sizeof(w->emsg), fmt, ap);
	va_end(ap);
	return mc_error_set(err, code, "%s", w->emsg);
}

/* As mci_store_wfail, and the batch is poisoned: later calls and the commit fail
 * with code and this message. */
__attribute__((format(printf, 4, 5)))
int mci_store_wpoison(struct mc_writer *w, struct mc_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->emsg, sizeof(w->emsg), fmt, ap);
	va_end(ap);
	snprintf(w->fmsg, sizeof(w->fmsg), "%s", w->emsg);
	w->failed = code;
	return mc_error_set(err, code, "%s", w->emsg);
}

void mci_store_writer_free(struct mc_writer *w)
{
	if (!w)
		return;
	mc_buf_free(&w->val);
	mc_buf_free(&w->log);
	free(w->cnt);
	free(w);
}

/* ---- writer ---- */

/* Begin the batch's transaction (again, after a growth or a new
 * database), with handles for every database in its snapshot. */
static int writer_txn_start(struct mc_writer *w)
{
	struct mc_store *s = w->s;
	int rc;

	for (int i = 0;; i++) {
		uint64_t seen = __atomic_load_n(&s->main_seen, __ATOMIC_ACQUIRE);
		struct mc_error terr;

		mc_error_clear(&terr);
		rc = mci_store_wloc(w, mci_store_wtxn_begin(s, &w->txn, &terr),
				    "mdb_txn_begin (write)", NO_DBI);
		if (rc) {
			if (terr.msg[0]) {   /* a map size it could not adopt */
				snprintf(w->ftxt, sizeof(w->ftxt), "%s", terr.msg);
				w->fop = w->ftxt;
			}
			w->txn = NULL;
			return rc;
		}
		if (i == 3 || !mci_store_db_stale(s, w->txn, seen))
			break;
		mci_store_wtxn_end(s, w->txn, 0);
		w->txn = NULL;
		rc = mci_store_wloc(w, mci_store_db_refresh(s),
				    "opening the databases other processes created in",
				    s->dbi_main);
		if (rc)
			return rc;
	}
	w->epoch++;
	w->ncnt = 0;
	w->cnt_last = 0;
	rc = mci_store_wloc(w, mci_store_feed_last_txn(s, w->txn, &w->seq),
			    "mdb_cursor_get (MDB_LAST) on", s->dbi_feed);
	if (rc) {
		mci_store_wtxn_end(s, w->txn, 0);
		w->txn = NULL;
	}
	return rc;
}

int mc_writer_begin(struct mc_store *s, struct mc_writer **ret, struct mc_error *err)
{
	struct mc_writer *w;
	int rc;

	if (!s || !ret)
		return mc_error_set(err, MC_E_USAGE, "mc_writer_begin: bad arguments");
	if (s->flags & MC_STORE_RDONLY)
		return mc_error_set(err, MC_E_USAGE, "store %s is open read-only", s->dir);
	if (__atomic_load_n(&s->writer_open, __ATOMIC_ACQUIRE) &&
	    pthread_equal(__atomic_load_n(&s->wowner, __ATOMIC_RELAXED), pthread_self()))
		return mc_error_set(err, MC_E_USAGE,
				    "this thread already has a writer open on this store");
	pthread_mutex_lock(&s->wmu);
	__atomic_store_n(&s->wowner, pthread_self(), __ATOMIC_RELAXED);
	__atomic_store_n(&s->writer_open, 1, __ATOMIC_RELEASE);
	rc = mci_store_lock_take(s, err);
	if (rc) {
		__atomic_store_n(&s->writer_open, 0, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&s->wmu);
		return rc;
	}
	w = s->spare;
	if (w) {
		s->spare = NULL;
	} else {
		w = calloc(1, sizeof(*w));
		if (!w) {
			rc = mc_error_set(err, -ENOMEM, "out of memory");
			goto fail;
		}
		mc_buf_init(&w->val, MC_STORE_VALUE_MAX);
		mc_buf_init(&w->log, MC_STORE_LOG_MAX);
	}
	w->s = s;
	w->failed = 0;
	w->kv_dirty = 0;
	w->fop = NULL;
	w->fmsg[0] = w->emsg[0] = '\0';
	w->now = (int64_t)time(NULL);
	mc_buf_reset(&w->log);
	rc = writer_txn_start(w);
	if (rc) {
		char why[300];

		wloc_format(w, rc, "mdb_txn_begin (write)", why, sizeof(why));
		s->spare = w;
		rc = mc_error_set(err, mci_store_xlate(rc), "beginning a batch: %s", why);
		goto fail;
	}
	*ret = w;
	return 0;

fail:
	mci_store_lock_drop(s);
	__atomic_store_n(&s->writer_open, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->wmu);
	return rc;
}

/* End the writer, keeping its buffers for the next batch (bounded: a
 * buffer grown past 4 MiB by a large batch is released), and release the
 * write lock. */
static void writer_release(struct mc_writer *w)
{
	struct mc_store *s = w->s;

	if (w->txn)
		mci_store_wtxn_end(s, w->txn, 0);
	w->txn = NULL;
	if (w->log.cap > (4u << 20))
		mc_buf_free(&w->log);
	if (w->val.cap > (4u << 20))
		mc_buf_free(&w->val);
	if (s->spare)
		mci_store_writer_free(s->spare);
	s->spare = w;
	mci_store_lock_drop(s);
	__atomic_store_n(&s->writer_open, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->wmu);
}

/* The cached counts of source (the key's first part), loaded on first use. */
static int counts_get(struct mc_writer *w, const char *key, size_t klen, struct counts_ent **ret)
{
	const char *nul = memchr(key, '\0', klen);
	size_t slen = nul ? (size_t)(nul - key) : klen;
	struct counts_ent *e = NULL;
	MDB_val k = { slen, (void *)key }, v;
	int rc;

	if (slen == 0 || slen > MC_MAX_SOURCE_ID)
		return mci_store_wloc(w, MC_E_CORRUPT, "finding the source of a key in",
				      w->s->dbi_records);
	if (w->cnt_last < w->ncnt) {
		e = &w->cnt[w->cnt_last];
		if (e->slen == slen && memcmp(e->source, key, slen) == 0) {
			*ret = e;
			return 0;
		}
	}
	for (size_t i = 0; i < w->ncnt; i++) {
		e = &w->cnt[i];
		if (e->slen == slen && memcmp(e->source, key, slen) == 0) {
			w->cnt_last = i;
			*ret = e;
			return 0;
		}
	}
	if (w->ncnt == w->cnt_cap) {
		size_t ncap = w->cnt_cap ? w->cnt_cap * 2 : 8;
		struct counts_ent *n = realloc(w->cnt, ncap * sizeof(*n));

		if (!n)
			return ENOMEM;
		w->cnt = n;
		w->cnt_cap = ncap;
	}
	e = &w->cnt[w->ncnt];
	memset(e, 0, sizeof(*e));
	memcpy(e->source, key, slen);
	e->slen = slen;
	rc = mci_store_wloc(w, mdb_get(w->txn, w->s->dbi_sources, &k, &v), "mdb_get from",
			    w->s->dbi_sources);
	if (rc == 0)
		rc = mci_store_wloc(
			w, mci_store_counts_decode(&v, &e->present, &e->deleted, &e->last_change),
			"decoding the counts of a source in", w->s->dbi_sources);
	else if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc)
		return rc;
	w->cnt_last = w->ncnt++;
	*ret = e;
	return 0;
}

int mci_store_counts_get(struct mc_writer *w, const char *key, size_t klen,
			 struct counts_ent **ret)
{
	return counts_get(w, key, klen, ret);
}

static int counts_flush(struct mc_writer *w)
{
	unsigned char buf[MC_COUNTS_SIZE];

	for (size_t i = 0; i < w->ncnt; i++) {
		struct counts_ent *e = &w->cnt[i];
		MDB_val k = { e->slen, e->source }, v = { sizeof(buf), buf };
		int rc;

		if (!e->dirty)
			continue;
		buf[0] = MC_COUNTS_VERSION;
		mc_put_le64(buf + 1, e->present);
		mc_put_le64(buf + 9, e->deleted);
		mc_put_le64(buf + 17, (uint64_t)e->last_change);
		rc = mci_store_wloc(w, mdb_put(w->txn, w->s->dbi_sources, &k, &v, 0),
				    "mdb_put into", w->s->dbi_sources);
		if (rc)
			return rc;
		e->dirty = 0;
	}
	return 0;
}

static int feed_append(struct mc_writer *w, int op, const void *key, size_t klen)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v = { klen + 1, NULL };
	int rc;

	mc_put_be64(kb, w->seq + 1);
	rc = mci_store_wloc(w, mdb_put(w->txn, w->s->dbi_feed, &k, &v, MDB_APPEND | MDB_RESERVE),
		  "mdb_put (MDB_APPEND) into", w->s->dbi_feed);
	if (rc)
		return rc;
	((unsigned char *)v.mv_data)[0] = (unsigned char)op;
	memcpy((unsigned char *)v.mv_data + 1, key, klen);
	w->seq++;
	return 0;
}

/* Apply one record operation (present value or tombstone) in w->txn.
 * Returns 0 or an LMDB/system code (MDB_MAP_FULL included) or MC_E_CORRUPT /
 * MC_E_VERSION for a stored value this program cannot judge. */
static int apply_rec(struct mc_writer *w, const unsigned char *key, size_t klen,
		     const unsigned char *val, size_t vlen, int *outcome)
{
	MDB_val k = { klen, (void *)key }, old, v = { vlen, (void *)val };
	const unsigned char *o;
	struct counts_ent *e = NULL;
	int newdel = val[MC_PACK_OFF_STATUS] == MC_REC_DELETED;
	int olddel = -1;   /* absent */
	int op, rc;

	rc = mci_store_wloc(w, mdb_get(w->txn, w->s->dbi_records, &k, &old), "mdb_get from",
			    w->s->dbi_records);
	if (rc == 0) {
		o = old.mv_data;
		if (old.mv_size >= 1 && o[0] > MC_PACK_VERSION)
			return mci_store_wloc(w, MC_E_VERSION, "judging the stored record in",
					      w->s->dbi_records);
		if (old.mv_size < MC_PACK_FIXED || o[0] == 0 ||
		    o[MC_PACK_OFF_STATUS] > MC_REC_DELETED)
			return mci_store_wloc(w, MC_E_CORRUPT, "judging the stored record in",
					      w->s->dbi_records);
		olddel = o[MC_PACK_OFF_STATUS];
		if (!newdel && !olddel && old.mv_size == vlen && o[0] == val[0] &&
		    memcmp(o + MC_PACK_OFF_STATUS, val + MC_PACK_OFF_STATUS,
			   vlen - MC_PACK_OFF_STATUS) == 0) {
			*outcome = MC_PUT_UNCHANGED;
			return 0;
		}
	} else if (rc != MDB_NOTFOUND) {
		return rc;
	}
	if (newdel) {
		if (olddel != 0) {
			*outcome = MC_PUT_ABSENT;
			return 0;
		}
		op = MC_PUT_DELETED;
	} else {
		op = olddel == 0 ? MC_PUT_CHANGED : MC_PUT_NEW;
	}
	rc = counts_get(w, (const char *)key, klen, &e);
	if (rc)
		return rc;
	rc = mci_store_wloc(w, mdb_put(w->txn, w->s->dbi_records, &k, &v, 0), "mdb_put into",
			    w->s->dbi_records);
	if (!rc)
		rc = feed_append(w, op, key, klen);
	if (rc)
		return rc;
	if (op == MC_PUT_NEW) {
		e->present++;
		if (olddel == 1 && e->deleted)
			e->deleted--;
	} else if (op == MC_PUT_DELETED) {
		if (e->present)
			e->present--;
		e->deleted++;
	}
	e->last_change = w->now;
	e->dirty = 1;
	*outcome = op;
	return 0;
}

/* The kv database named at the start of a kv log key ([u8 n][name][key]);
 * *rest / *rlen: the key after it. */
static const struct db_ent *log_db(struct mc_store *s, const unsigned char *key, size_t klen,
				   const unsigned char **rest, size_t *rlen)
{
	size_t n = klen ? key[0] : 0;

	if (!klen || n == 0 || 1 + n > klen)
		return NULL;
	*rest = key + 1 + n;
	*rlen = klen - 1 - n;
	return mci_store_db_find(s, (const char *)key + 1, n);
}

/* Next value of a counter (meta key `key`). val holds 8 bytes: 0 the first
 * time (the value is then written there), else the value the replay must
 * give. */
static int apply_seq(struct mc_writer *w, const unsigned char *key, size_t klen,
		     unsigned char *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v;
	unsigned char buf[8];
	uint64_t cur = 0, want;
	int rc;

	if (vlen != 8)
		return MC_E_CORRUPT;
	rc = mci_store_wloc(w, mdb_get(w->txn, w->s->dbi_meta, &k, &v), "mdb_get from",
			    w->s->dbi_meta);
	if (rc == 0) {
		if (v.mv_size != 8)
			return mci_store_wloc(w, MC_E_CORRUPT, "decoding a counter in",
					      w->s->dbi_meta);
		cur = mc_get_le64(v.mv_data);
	} else if (rc != MDB_NOTFOUND) {
		return rc;
	}
	if (cur == UINT64_MAX)
		return mci_store_wloc(w, MC_E_TOOBIG, "stepping a counter at its maximum in",
				      w->s->dbi_meta);
	want = mc_get_le64(val);
	if (want && want != cur + 1)   /* another writer moved the counter before a replay */
		return mci_store_wloc(w, MC_E_STORE,
				      "replaying a counter step (the counter had moved) in",
				      w->s->dbi_meta);
	mc_put_le64(buf, cur + 1);
	v.mv_size = 8;
	v.mv_data = buf;
	rc = mci_store_wloc(w, mdb_put(w->txn, w->s->dbi_meta, &k, &v, 0), "mdb_put into",
			    w->s->dbi_meta);
	if (!rc && !want)
		memcpy(val, buf, 8);
	return rc;
}

static int apply_entry(struct mc_writer *w, int type, const unsigned char *key, size_t klen,
		       unsigned char *val, size_t vlen, int *outcome)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	const struct db_ent *e = NULL;
	int rc;

	*outcome = 0;
	if (type == LOG_KV_PUT || type == LOG_KV_DEL || type == LOG_KV_CLEAR ||
	    type == LOG_KV_APPEND) {
		const unsigned char *rest;
		size_t rlen;

		e = log_db(w->s, key, klen, &rest, &rlen);
		if (!e)
			return mci_store_wloc(w, MC_E_CORRUPT,
					      "finding the database of a logged operation", NO_DBI);
		k.mv_data = (void *)rest;
		k.mv_size = rlen;
	}
	switch (type) {
	case LOG_REC:
		return apply_rec(w, key, klen, val, vlen, outcome);
	case LOG_STATE_SET:
		return mci_store_wloc(w, mdb_put(w->txn, w->s->dbi_state, &k, &v, 0),
				      "mdb_put into", w->s->dbi_state);
	case LOG_STATE_DEL:
		rc = mci_store_wloc(w, mdb_del(w->txn, w->s->dbi_state, &k, NULL), "mdb_del from",
			  w->s->dbi_state);
		return rc == MDB_NOTFOUND ? 0 : rc;
	case LOG_KV_PUT:
		return mci_store_wloc(w, mdb_put(w->txn, e->dbi, &k, &v, 0), "mdb_put into",
				      e->dbi);
	case LOG_KV_APPEND:
		/* MDB_KEYEXIST: the key is not above the last one (out of order) */
		return mci_store_wloc(w, mdb_put(w->txn, e->dbi, &k, &v, MDB_APPEND),
				      "mdb_put (MDB_APPEND) into", e->dbi);
	case LOG_KV_DEL:
		rc = mci_store_wloc(w, mdb_del(w->txn, e->dbi, &k, NULL), "mdb_del from", e->dbi);
		*outcome = rc == MDB_NOTFOUND ? KV_ABSENT : KV_DELETED;
		return rc == MDB_NOTFOUND ? 0 : rc;
	case LOG_KV_CLEAR:
		return mci_store_wloc(w, mdb_drop(w->txn, e->dbi, 0), "mdb_drop (empty) of",
				      e->dbi);
	case LOG_SEQ:
		return apply_seq(w, key, klen, val, vlen);
	case LOG_COUNTS:
		return mci_store_apply_counts(w, key, klen, val, vlen);
	}
	return mci_store_wloc(w, MC_E_CORRUPT, "replaying an operation of unknown type", NO_DBI);
}

static void log_entry(const struct mc_buf *log, size_t off, int *type, unsigned char **outc,
		      unsigned char **key, size_t *klen, unsigned char **val, size_t *vlen)
{
	unsigned char *p = (unsigned char *)log->data + off;
	uint32_t kl, vl;

	memcpy(&kl, p + 2, 4);
	memcpy(&vl, p + 6, 4);
	*type = p[0];
	*outc = p + 1;
	*key = p + LOG_HDR;
	*klen = kl;
	*val = p + LOG_HDR + kl;
	*vlen = vl;
}

/* Begin the batch's transaction again and replay the whole log: after
 * MDB_MAP_FULL (grow = 1: abort, grow, replay; again while the map is
 * still too small) or to see a database opened since the transaction
 * began (grow = 0). The entry still marked pending (the operation that hit
 * the full map) gets its outcome here. 0, or an error that poisons the
 * batch. */
int mci_store_writer_recover(struct mc_writer *w, int grow, struct mc_error *err)
{
	struct mc_store *s = w->s;
	const char *why = grow ? "growing the map" : "opening a database";
	char what[300];
	int rc = MDB_MAP_FULL;

	for (int attempt = 0; attempt < 48 && rc == MDB_MAP_FULL; attempt++) {
		size_t off = 0;

		if (w->txn)
			mci_store_wtxn_end(s, w->txn, 0);
		w->txn = NULL;
		if (grow || attempt > 0) {
			struct mc_error gerr;

			if (s->grow_hook)
				s->grow_hook(s->grow_ctx);
			mc_error_clear(&gerr);
			rc = mci_store_resize(s, 0, 0, NULL, &gerr);
			if (rc)
				return mci_store_wpoison(w, err, rc, "%s", gerr.msg);
		}
		w->fop = NULL;
		rc = writer_txn_start(w);
		if (rc)
			break;
		while (off < w->log.len) {
			unsigned char *outc, *key, *val;
			size_t klen, vlen;
			int type, oc;

			log_entry(&w->log, off, &type, &outc, &key, &klen, &val, &vlen);
			rc = apply_entry(w, type, key, klen, val, vlen, &oc);
			if (rc)
				break;
			if (*outc == OUTCOME_PENDING) {
				*outc = (unsigned char)oc;
			} else if (*outc != oc) {
				return mci_store_wpoison(
					w, err, MC_E_STORE,
					"replaying the batch after %s: an operation had another "
					"outcome than the first time (another program wrote to the "
					"store meanwhile); batch dropped",
					why);
			}
			off += LOG_HDR + klen + vlen;
		}
	}
	if (rc) {
		wloc_format(w, rc, "replaying", what, sizeof(what));
		return mci_store_wpoison(
			w, err, rc == MDB_KEYEXIST ? MC_E_USAGE : mci_store_xlate(rc),
			"replaying the batch after %s: %s; batch dropped", why, what);
	}
	return 0;
}

/* Log an operation, apply it (from the log's copy), recover from a full
 * map. 0, or an error that poisons the batch (the log's cap: MC_E_TOOBIG,
 * which does not). */
int mci_store_writer_apply(struct mc_writer *w, int type, const void *key, size_t klen,
			   const void *val, size_t vlen, int *outcome, struct mc_error *err)
{
	size_t mark = w->log.len;
	unsigned char hdr[LOG_HDR];
	uint32_t kl = (uint32_t)klen, vl = (uint32_t)vlen;
	int rc, oc = 0;

	hdr[0] = (unsigned char)type;
	hdr[1] = OUTCOME_PENDING;
	memcpy(hdr + 2, &kl, 4);
	memcpy(hdr + 6, &vl, 4);
	rc = mc_buf_reserve(&w->log, LOG_HDR + klen + vlen);
	if (rc)
		return mci_store_wfail(w, err, rc, rc == MC_E_TOOBIG ?
			     "batch too large for the writer's log (%u MiB); commit more often" :
			     "out of memory for the writer's log (%u MiB at most)",
			     MC_STORE_LOG_MAX >> 20);
	mc_buf_add(&w->log, hdr, LOG_HDR);
	mc_buf_add(&w->log, key, klen);
	if (vlen)
		mc_buf_add(&w->log, val, vlen);

	w->fop = NULL;
	rc = apply_entry(w, type, (unsigned char *)w->log.data + mark + LOG_HDR, klen,
			 (unsigned char *)w->log.data + mark + LOG_HDR + klen, vlen, &oc);
	if (rc == MDB_MAP_FULL) {
		rc = mci_store_writer_recover(w, 1, err);
		if (rc)
			return rc;
		oc = (unsigned char)w->log.data[mark + 1];
	} else if (rc) {
		char what[300];

		w->log.len = mark;
		wloc_format(w, rc, "writing", what, sizeof(what));
		if (rc == MDB_KEYEXIST)
			return mci_store_wpoison(w, err, MC_E_USAGE,
						 "%s (a key not above the last one)", what);
		return mci_store_wpoison(w, err, mci_store_xlate(rc), "%s", what);
	}
	if ((type == LOG_REC && (oc == MC_PUT_UNCHANGED || oc == MC_PUT_ABSENT)) ||
	    (type == LOG_KV_DEL && oc == KV_ABSENT))
		w->log.len = mark;   /* wrote nothing: nothing to replay */
	else
		w->log.data[mark + 1] = (char)oc;
	if (outcome)
		*outcome = oc;
	return 0;
}

int mci_store_writer_check(struct mc_writer *w, struct mc_error *err)
{
	if (!w)
		return mc_error_set(err, MC_E_USAGE, "no writer");
	if (w->failed)
		return mci_store_wfail(w, err, w->failed, "an earlier error ended this batch: %s",
				       w->fmsg);
	return 0;
}

/* Store w->val (packed with result pack_rc) under (source, local_id). */
static int writer_put_val(struct mc_writer *w, const char *source, const char *local_id,
			  int pack_rc, int *outcome, struct mc_error *err)
{
	int rc;

	mci_store_set_err_rec(err, source, local_id);
	if (pack_rc == MC_E_TOOBIG)
		return mc_error_set(err, pack_rc, "packed record larger than %u bytes",
				    MC_STORE_VALUE_MAX);
	if (pack_rc)
		return mc_error_set(err, pack_rc, "packing the record: %s", mc_strerror(pack_rc));
	rc = mci_store_record_key(w->s, w->key, &w->klen, source, local_id, err);
	if (rc)
		return rc;
	return mci_store_writer_apply(w, LOG_REC, w->key, w->klen, w->val.data, w->val.len, outcome,
				      err);
}

int mc_writer_put(struct mc_writer *w, const struct mc_record *rec, int *outcome,
		  struct mc_error *err)
{
	int rc = mci_store_writer_check(w, err);

	if (rc)
		return rc;
	if (!rec)
		return mc_error_set(err, MC_E_USAGE, "mc_writer_put: no record");
	if (rec->status == MC_REC_DELETED)
		rc = mc_record_pack_deleted(rec->datestamp, &w->val);
	else
		rc = mc_record_pack(rec, &w->val);
	return writer_put_val(w, rec->source, rec->local_id, rc, outcome, err);
}

int mc_writer_put_packed(struct mc_writer *w, const char *source, const char *local_id,
			 const void *val, size_t len, int *outcome, struct mc_error *err)
{
	int rc = mci_store_writer_check(w, err);

	if (rc)
		return rc;
	mc_buf_reset(&w->val);
	rc = mc_buf_add(&w->val, val, len);
	return writer_put_val(w, source, local_id, rc, outcome, err);
}

int mc_writer_delete(struct mc_writer *w, const char *source, const char *local_id,
		     int64_t datestamp, int *outcome, struct mc_error *err)
{
	int rc = mci_store_writer_check(w, err);

	if (rc)
		return rc;
	mci_store_set_err_rec(err, source, local_id);
	rc = mci_store_record_key(w->s, w->key, &w->klen, source, local_id, err);
	if (rc)
		return rc;
	rc = mc_record_pack_deleted(datestamp, &w->val);
	if (rc)
		return mc_error_set(err, rc, "packing the tombstone (%s)", mc_strerror(rc));
	return mci_store_writer_apply(w, LOG_REC, w->key, w->klen, w->val.data, w->val.len, outcome,
				      err);
}

int mc_writer_state_set(struct mc_writer *w, const char *scope, const char *key,
			const char *value)
{
	int rc = mci_store_writer_check(w, NULL);

	if (rc)
		return rc;
	if (!scope || !key || !scope[0] || !key[0])
		return MC_E_USAGE;
	rc = mci_store_make_key(w->key, w->s->maxkey, scope, strlen(scope), key, &w->klen);
	if (rc)
		return rc;
	mc_buf_reset(&w->val);
	if (value) {
		size_t n = strlen(value);

		if (n > MC_STORE_STATE_MAX)
			return MC_E_TOOBIG;
		rc = mc_buf_add(&w->val, value, n);
		if (rc)
			return rc;
	}
	return mci_store_writer_apply(w, value ? LOG_STATE_SET : LOG_STATE_DEL, w->key, w->klen,
				      w->val.data, w->val.len, NULL, NULL);
}

/* ---- write generations ----
 * meta "gen" counts the committed batches that wrote anything, meta
 * "gen:<db>" those that wrote into kv database <db>; both u64le, absent =
 * 0. Bumped in the batch's own transaction at commit, so they move exactly
 * when the writes become visible, whichever process made them. */

/* Add 1 to the u64le counter at meta key (key, klen) in the batch. LMDB
 * code or project code. */
static int meta_bump(struct mc_writer *w, const void *key, size_t klen)
{
	MDB_val k = { klen, (void *)key }, v;
	unsigned char buf[8];
	uint64_t cur = 0;
	int rc = mci_store_wloc(w, mdb_get(w->txn, w->s->dbi_meta, &k, &v), "mdb_get from",
				w->s->dbi_meta);

	if (rc == 0) {
		if (v.mv_size != 8)
			return mci_store_wloc(w, MC_E_CORRUPT, "decoding a write generation in",
					      w->s->dbi_meta);
		cur = mc_get_le64(v.mv_data);
	} else if (rc != MDB_NOTFOUND) {
		return rc;
	}
	mc_put_le64(buf, cur + 1);
	v.mv_size = 8;
	v.mv_data = buf;
	return mci_store_wloc(w, mdb_put(w->txn, w->s->dbi_meta, &k, &v, 0), "mdb_put into",
			      w->s->dbi_meta);
}

/* meta key of the generation of kv database e into buf; its length. */
size_t mci_store_gen_key(const struct db_ent *e, unsigned char *buf)
{
	memcpy(buf, "gen:", 4);
	memcpy(buf + 4, e->name, e->nlen);
	return 4 + e->nlen;
}

static int gen_flush(struct mc_writer *w)
{
	unsigned char key[4 + KV_NAME_MAX];
	int rc;

	if (!w->log.len)   /* every operation that wrote is in the log */
		return 0;
	rc = meta_bump(w, "gen", 3);
	for (unsigned i = 0; i < MAX_DBS && !rc; i++)
		if (w->kv_dirty >> i & 1)
			rc = meta_bump(w, key, mci_store_gen_key(&w->s->db[i], key));
	return rc;
}

/* A u64le value of meta (0 when absent) into *ret. LMDB or project code;
 * *op names the failed step. */
int mci_store_meta_u64(struct mc_store *s, MDB_txn *txn, const void *key, size_t klen,
		       uint64_t *ret, const char **op)
{
	MDB_val k = { klen, (void *)key }, v;
	int rc = mdb_get(txn, s->dbi_meta, &k, &v);

	*ret = 0;
	*op = "mdb_get from";
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	*op = "decoding a write generation in";
	if (v.mv_size != 8)
		return MC_E_CORRUPT;
	*ret = mc_get_le64(v.mv_data);
	return 0;
}

/* LMDB reports a short write as EIO. Name the likely cause: a full file
 * system or the process's file size limit (both MC_E_FULL), else a real I/O
 * error (MC_E_STORE). */
static int short_write(struct mc_writer *w, struct mc_error *err)
{
	const char *dir = w->s->dir;
	uint64_t need = (uint64_t)w->log.len + (1u << 20);
	struct statvfs sv;
	struct rlimit rl;
	struct stat st;
	char path[PATH_MAX];

	if (statvfs(dir, &sv) == 0 && (uint64_t)sv.f_bavail * sv.f_frsize < need)
		return mc_error_set(err, MC_E_FULL,
				    "committing to store %s failed, batch not kept: "
				    "no space left on its file system (short write)",
				    dir);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    stat(path, &st) == 0 && (uint64_t)st.st_size + need > (uint64_t)rl.rlim_cur)
		return mc_error_set(
			err, MC_E_FULL,
			"committing to store %s failed, batch not kept: "
			"file size limit reached (RLIMIT_FSIZE %llu bytes, short write)",
			dir, (unsigned long long)rl.rlim_cur);
	return mc_error_set(err, MC_E_STORE, "committing to store %s failed, batch not kept: %s",
			    dir, strerror(EIO));
}

int mc_writer_commit(struct mc_writer *w, struct mc_error *err)
{
	int rc = mci_store_writer_check(w, err);
	struct mc_store *s;

	if (rc) {
		if (w)
			writer_release(w);
		return rc;
	}
	s = w->s;
	for (;;) {
		w->fop = NULL;
		rc = counts_flush(w);
		if (!rc)
			rc = gen_flush(w);
		if (!rc) {
			rc = mci_store_wloc(w, mci_store_wtxn_end(s, w->txn, 1), "mdb_txn_commit",
					    NO_DBI);
			w->txn = NULL;   /* freed by LMDB whatever the outcome */
		}
		if (rc != MDB_MAP_FULL)
			break;
		w->s->commit_recoveries++;
		rc = mci_store_writer_recover(w, 1, err);
		if (rc)
			break;
	}
	if (rc == EIO) {
		rc = short_write(w, err);
	} else if (rc && rc != w->failed) {
		char what[300];

		wloc_format(w, rc, "mdb_txn_commit", what, sizeof(what));
		rc = mc_error_set(err, mci_store_xlate(rc),
				  "committing to store %s failed, batch not kept: %s", w->s->dir,
				  what);
	}
	writer_release(w);
	mci_store_trim(s, NULL, s->trim_rss);
	return rc;
}

void mc_writer_abort(struct mc_writer *w)
{
	if (w)
		writer_release(w);
}

/* ---- error detail ---- */

const char *mc_writer_errmsg(const struct mc_writer *w)
{
	return w ? w->emsg : "no writer";
}
