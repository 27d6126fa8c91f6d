/* store.c — the LMDB store: source records, per-source counts, state and
 * the change feed. Layout and encodings: schemas/lmdb.md.
 *
 * The writer keeps a log of the operations of its batch (key + packed value)
 * so that when LMDB reports MDB_MAP_FULL it can abort, double the map and
 * replay the batch in a new transaction: callers see the same outcomes as if
 * the map had been big enough. Growing the map is only allowed while no
 * other transaction is open in this process (mdb_env_set_mapsize), so a
 * reader left open across a batch turns a full map into MC_E_FULL. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "mc-limits.h"
#include "mc-config.h"
#include "mc-store.h"
#include "store-internal.h"

#define SCHEMA_VERSION 1u

enum log_type { LOG_REC = 1, LOG_STATE_SET = 2, LOG_STATE_DEL = 3 };
#define OUTCOME_PENDING 0xff
#define LOG_HDR 10   /* type, outcome, u32 key length, u32 value length */

struct mc_store {
	MDB_env *env;
	MDB_dbi dbi_meta, dbi_records, dbi_feed, dbi_sources, dbi_state;
	unsigned flags;
	size_t maxkey;
	int readers;               /* read transactions open in this process */
	int writer_open;
	unsigned grows, commit_recoveries;
	unsigned map_epoch, map_epoch_seen;   /* map_epoch: +1 at every mdb_env_set_mapsize */
	void *map_base;                       /* LMDB's map, once located (store_trim) */
	size_t map_len;
	uint64_t trim_rss;                    /* MC_STORE_TRIM_RSS unless set for tests */
	unsigned trims;
	struct mc_writer *spare;   /* buffers kept between batches */
	char *dir;
};

struct counts_ent {
	char source[MC_MAX_SOURCE_ID + 1];
	size_t slen;
	uint64_t present, deleted;
	int64_t last_change;
	int dirty;
};

struct mc_writer {
	struct mc_store *s;
	MDB_txn *txn;
	uint64_t seq;              /* newest feed sequence in this transaction */
	int64_t now;
	int failed;                /* error that poisoned the batch; 0 if none */
	unsigned char key[MC_STORE_KEY_MAX];
	size_t klen;
	struct mc_buf val, log;
	struct counts_ent *cnt;
	size_t ncnt, cnt_cap, cnt_last;
};

struct mc_reader {
	struct mc_store *s;
	MDB_txn *txn;
};

/* ---- helpers ---- */

/* Translate an LMDB or system error into a project code. */
static int xlate(int rc)
{
	if (rc > MC_E_BASE && rc < MC_E_LAST)
		return rc;
	switch (rc) {
	case MDB_MAP_FULL:
	case ENOSPC:
	case EFBIG:
	case EDQUOT:
		return MC_E_FULL;
	case ENOMEM:
		return -ENOMEM;
	case MDB_VERSION_MISMATCH:
		return MC_E_VERSION;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
		return MC_E_CORRUPT;
	default:
		return MC_E_STORE;
	}
}

static int set_err(struct mc_error *err, int rc, const char *what)
{
	int code = xlate(rc);

	if (code == rc)
		return mc_error_set(err, code, "%s: %s", what, mc_strerror(code));
	return mc_error_set(err, code, "%s: %s", what, mdb_strerror(rc));
}

static void set_err_rec(struct mc_error *err, const char *source, const char *id)
{
	if (!err)
		return;
	mc_error_field(err->source, sizeof(err->source), source);
	mc_error_field(err->record_id, sizeof(err->record_id), id);
}

/* The source id rule is the config's (mc_source_id_valid); *lenp its length. */
static int source_valid(const char *s, size_t *lenp)
{
	if (!s || !mc_source_id_valid(s))
		return 0;
	*lenp = strlen(s);
	return 1;
}

/* kb = a "\0" b (no terminator); kb holds MC_STORE_KEY_MAX bytes.
 * 0 or MC_E_TOOBIG. */
static int make_key(unsigned char *kb, size_t maxkey, const char *a, size_t alen, const char *b,
		    size_t *klen)
{
	size_t blen = strlen(b);

	if (alen + 1 + blen > maxkey)
		return MC_E_TOOBIG;
	memcpy(kb, a, alen);
	kb[alen] = '\0';
	memcpy(kb + alen + 1, b, blen);
	*klen = alen + 1 + blen;
	return 0;
}

static int record_key(struct mc_store *s, unsigned char *kb, size_t *klen, const char *source,
		      const char *local_id, struct mc_error *err)
{
	size_t slen;

	if (!source_valid(source, &slen))
		return mc_error_set(err, MC_E_USAGE, "invalid source id (want [A-Za-z0-9._-]{1,%d})",
				    MC_MAX_SOURCE_ID);
	if (!local_id || !local_id[0])
		return mc_error_set(err, MC_E_USAGE, "record without a local identifier");
	if (make_key(kb, s->maxkey, source, slen, local_id, klen))
		return mc_error_set(err, MC_E_TOOBIG,
				    "source id + local identifier longer than %zu bytes", s->maxkey - 1);
	return 0;
}

/* Begin a transaction, adopting a map grown by another process. */
static int txn_begin(struct mc_store *s, unsigned flags, MDB_txn **txn)
{
	int rc = mdb_txn_begin(s->env, NULL, flags, txn);

	if (rc == MDB_MAP_RESIZED && !__atomic_load_n(&s->readers, __ATOMIC_SEQ_CST) &&
	    !(s->writer_open && (flags & MDB_RDONLY))) {
		rc = mdb_env_set_mapsize(s->env, 0);
		s->map_epoch++;
		if (!rc)
			rc = mdb_txn_begin(s->env, NULL, flags, txn);
	}
	return rc;
}

static int feed_last_txn(struct mc_store *s, MDB_txn *txn, uint64_t *seq)
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

static int counts_decode(const MDB_val *v, uint64_t *present, uint64_t *deleted, int64_t *last)
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

/* Find LMDB's map in this process: the mapping that holds a pointer a read
 * transaction returned. Strict: it must be a shared read-only file mapping
 * of exactly the map's size, or it is not used. */
static void store_locate_map(struct mc_store *s, MDB_txn *txn)
{
	MDB_val k = { 7, (void *)"version" }, v;
	MDB_envinfo info;
	char line[4096];
	uintptr_t p;
	FILE *f;

	s->map_base = NULL;
	s->map_len = 0;
	s->map_epoch_seen = s->map_epoch;
	if (mdb_get(txn, s->dbi_meta, &k, &v) || mdb_env_info(s->env, &info))
		return;
	p = (uintptr_t)v.mv_data;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || p < lo || p >= hi)
			continue;
		if (!strcmp(perms, "r--s") && hi - lo == info.me_mapsize && strchr(line, '/')) {
			s->map_base = (void *)lo;
			s->map_len = hi - lo;
		}
		break;
	}
	fclose(f);
}

/* File-backed resident bytes of this process (the "shared" column of
 * /proc/self/statm: mapped file pages, LMDB's map included); 0 if unknown. */
static uint64_t rss_file_bytes(void)
{
	char buf[128];
	unsigned long size, resident, shared;
	ssize_t n;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%lu %lu %lu", &size, &resident, &shared) != 3)
		return 0;
	return (uint64_t)shared * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Keep the pages of LMDB's map that this process has touched from piling up
 * in its RSS: every record a batch compares or a walk reads maps its page,
 * so a re-import or a full walk of a big store would otherwise count the
 * whole store in RSS. When the file-backed RSS passes MC_STORE_TRIM_RSS,
 * drop the map's page mappings (MADV_DONTNEED). The map is a shared,
 * read-only file mapping (no MDB_WRITEMAP): the pages stay in the page
 * cache and pointers held by open read transactions stay valid; the next
 * access maps them again. Re-mapping is costly on some kernels (large
 * folios), hence the threshold instead of trimming after every batch.
 * txn is an open read transaction, or NULL to use a short one. */
static void store_trim(struct mc_store *s, MDB_txn *txn)
{
	MDB_txn *own = NULL;

	if (rss_file_bytes() < s->trim_rss)
		return;
	if (s->map_epoch_seen != s->map_epoch) {   /* not looked for since the last remap */
		if (!txn && mdb_txn_begin(s->env, NULL, MDB_RDONLY, &own) != 0)
			return;
		store_locate_map(s, txn ? txn : own);
		if (own)
			mdb_txn_abort(own);
	}
	if (s->map_base && madvise(s->map_base, s->map_len, MADV_DONTNEED) == 0)
		s->trims++;
}

/* ---- open / close ---- */

static int meta_check(struct mc_store *s, MDB_txn *txn, struct mc_error *err)
{
	MDB_val k = { 7, (void *)"version" }, v;
	const unsigned char *p;
	uint32_t ver;
	int rc = mdb_get(txn, s->dbi_meta, &k, &v);

	if (rc == MDB_NOTFOUND)
		return mc_error_set(err, MC_E_CORRUPT, "store %s has no schema version", s->dir);
	if (rc)
		return set_err(err, rc, "reading the schema version");
	if (v.mv_size != 4)
		return mc_error_set(err, MC_E_CORRUPT, "store %s: bad schema version value", s->dir);
	p = v.mv_data;
	ver = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	if (ver > SCHEMA_VERSION)
		return mc_error_set(err, MC_E_VERSION,
				    "store %s has schema version %u; this program knows up to %u",
				    s->dir, ver, SCHEMA_VERSION);
	if (ver < 1)
		return mc_error_set(err, MC_E_CORRUPT, "store %s: schema version 0", s->dir);
	return 0;
}

static const char *const db_names[5] = { "meta", "records", "feed", "sources", "state" };

static int open_dbis(struct mc_store *s, MDB_txn *txn, unsigned flags)
{
	MDB_dbi *d[5] = { &s->dbi_meta, &s->dbi_records, &s->dbi_feed, &s->dbi_sources,
			  &s->dbi_state };
	int rc = 0;

	for (int i = 0; i < 5 && !rc; i++)
		rc = mdb_dbi_open(txn, db_names[i], flags, d[i]);
	return rc;
}

/* Create the named databases and the meta entries in one transaction. */
static int store_init(struct mc_store *s, struct mc_error *err)
{
	MDB_txn *txn;
	MDB_val k = { 7, (void *)"version" }, v;
	unsigned char ver[4] = { SCHEMA_VERSION, 0, 0, 0 }, created[8];
	int rc = txn_begin(s, 0, &txn);

	if (rc)
		return set_err(err, rc, "beginning the initial transaction");
	rc = open_dbis(s, txn, MDB_CREATE);
	if (!rc) {
		rc = mdb_get(txn, s->dbi_meta, &k, &v);
		if (rc == MDB_NOTFOUND) {
			v.mv_size = 4;
			v.mv_data = ver;
			rc = mdb_put(txn, s->dbi_meta, &k, &v, 0);
			if (!rc) {
				mc_put_le64(created, (uint64_t)time(NULL));
				k.mv_size = 7;
				k.mv_data = (void *)"created";
				v.mv_size = 8;
				v.mv_data = created;
				rc = mdb_put(txn, s->dbi_meta, &k, &v, 0);
			}
		}
	}
	if (rc) {
		mdb_txn_abort(txn);
		return set_err(err, rc, "creating the store");
	}
	rc = meta_check(s, txn, err);
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	if (rc)
		return set_err(err, rc, "committing the new store");
	return 0;
}

int mc_store_open_mapsize(const char *dir, unsigned flags, uint64_t mapsize,
			  struct mc_store **ret, struct mc_error *err)
{
	struct mc_store *s = NULL;
	struct stat st;
	char *path = NULL;
	int rc, newenv;
	unsigned eflags;
	MDB_txn *txn = NULL;

	if (!dir || !ret ||
	    (flags & ~(unsigned)(MC_STORE_CREATE | MC_STORE_RDONLY | MC_STORE_X_NOMETASYNC |
				 MC_STORE_X_NOSYNC)) ||
	    ((flags & MC_STORE_CREATE) && (flags & MC_STORE_RDONLY)))
		return mc_error_set(err, MC_E_USAGE, "mc_store_open: bad arguments");
	if (!mapsize)
		mapsize = MC_STORE_MAP_INITIAL;
	if (err)
		mc_error_field(err->file, sizeof(err->file), dir);

	if (stat(dir, &st) != 0) {
		if (errno != ENOENT)
			return mc_error_set(err, -errno, "store directory %s: %s", dir, strerror(errno));
		if (!(flags & MC_STORE_CREATE))
			return mc_error_set(err, MC_E_NOTFOUND, "no store in %s (run `mucluc init`)", dir);
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return mc_error_set(err, -errno, "creating %s: %s", dir, strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		return mc_error_set(err, -ENOTDIR, "store %s is not a directory", dir);
	}

	s = calloc(1, sizeof(*s));
	if (s)
		s->dir = strdup(dir);
	if (s && s->dir) {
		size_t n = strlen(dir) + sizeof("/data.mdb");

		path = malloc(n);
		if (path)
			snprintf(path, n, "%s/data.mdb", dir);
	}
	if (!s || !s->dir || !path) {
		rc = mc_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	s->flags = flags;
	s->map_epoch = 1;
	s->trim_rss = MC_STORE_TRIM_RSS;
	newenv = stat(path, &st) != 0;
	if (newenv && !(flags & MC_STORE_CREATE)) {
		rc = mc_error_set(err, MC_E_NOTFOUND, "no store in %s (run `mucluc init`)", dir);
		goto fail;
	}

	rc = mdb_env_create(&s->env);
	if (rc) {
		s->env = NULL;
		rc = set_err(err, rc, "creating the LMDB environment");
		goto fail;
	}
	mdb_env_set_maxdbs(s->env, 16);
	if (newenv)
		mdb_env_set_mapsize(s->env, (size_t)mapsize);
	eflags = MDB_NOTLS | ((flags & MC_STORE_RDONLY) ? MDB_RDONLY : 0) |
		 ((flags & MC_STORE_X_NOMETASYNC) ? MDB_NOMETASYNC : 0) |
		 ((flags & MC_STORE_X_NOSYNC) ? MDB_NOSYNC : 0);
	rc = mdb_env_open(s->env, dir, eflags, 0600);
	if (rc) {
		if (rc == ENOENT)
			rc = mc_error_set(err, MC_E_NOTFOUND, "no store in %s", dir);
		else if (rc > 0)
			rc = mc_error_set(err, -rc, "opening store %s: %s", dir, strerror(rc));
		else
			rc = set_err(err, rc, "opening the store");
		goto fail;
	}
	s->maxkey = (size_t)mdb_env_get_maxkeysize(s->env);
	if (s->maxkey > MC_STORE_KEY_MAX)
		s->maxkey = MC_STORE_KEY_MAX;
	if (!(flags & MC_STORE_RDONLY))
		mdb_reader_check(s->env, NULL);   /* slots of crashed readers */

	/* Existing store: open the databases in a read transaction so that
	 * opening never waits for another process's write batch. */
	rc = txn_begin(s, MDB_RDONLY, &txn);
	if (rc) {
		rc = set_err(err, rc, "beginning a read transaction");
		goto fail;
	}
	rc = open_dbis(s, txn, 0);
	if (rc == 0) {
		rc = meta_check(s, txn, err);
		if (rc) {
			mdb_txn_abort(txn);
			goto fail;
		}
		rc = mdb_txn_commit(txn);   /* keeps the dbi handles */
		if (rc) {
			rc = set_err(err, rc, "opening the databases");
			goto fail;
		}
	} else {
		mdb_txn_abort(txn);
		if (rc != MDB_NOTFOUND) {
			rc = set_err(err, rc, "opening the databases");
			goto fail;
		}
		if (!(flags & MC_STORE_CREATE)) {
			rc = mc_error_set(err, MC_E_NOTFOUND, "%s holds no mucluc store", dir);
			goto fail;
		}
		rc = store_init(s, err);
		if (rc)
			goto fail;
	}
	free(path);
	if (err)
		mc_error_clear(err);
	*ret = s;
	return 0;

fail:
	free(path);
	mc_store_close(s);
	return rc;
}

/* Open (or create) the store in dir; see mc-store.h. A new environment gets
 * a 64 MiB map that doubles whenever it fills. Open a store at most once per
 * process (an LMDB rule: closing a second handle would drop the first one's
 * locks); share the handle. Caller closes with mc_store_close. */
int mc_store_open(const char *dir, unsigned flags, struct mc_store **ret, struct mc_error *err)
{
	if (flags & ~(unsigned)(MC_STORE_CREATE | MC_STORE_RDONLY))
		return mc_error_set(err, MC_E_USAGE, "mc_store_open: unknown flags");
	return mc_store_open_mapsize(dir, flags, 0, ret, err);
}

unsigned mc_store_grow_count(const struct mc_store *s, int at_commit)
{
	return at_commit ? s->commit_recoveries : s->grows;
}

void mc_store_set_trim(struct mc_store *s, uint64_t rss_bytes)
{
	s->trim_rss = rss_bytes;
}

unsigned mc_store_trim_count(const struct mc_store *s)
{
	return s->trims;
}

static void writer_free(struct mc_writer *w)
{
	if (!w)
		return;
	mc_buf_free(&w->val);
	mc_buf_free(&w->log);
	free(w->cnt);
	free(w);
}

/* Close the store. Every reader and writer must have ended. NULL is a no-op. */
void mc_store_close(struct mc_store *s)
{
	if (!s)
		return;
	writer_free(s->spare);
	if (s->env)
		mdb_env_close(s->env);
	free(s->dir);
	free(s);
}

/* ---- writer ---- */

static int writer_txn_start(struct mc_writer *w)
{
	int rc = txn_begin(w->s, 0, &w->txn);

	if (rc) {
		w->txn = NULL;
		return rc;
	}
	w->ncnt = 0;
	w->cnt_last = 0;
	rc = feed_last_txn(w->s, w->txn, &w->seq);
	return rc;
}

/* Begin a batch (one LMDB write transaction; waits while another process
 * writes). One writer per store handle at a time. Caller ends it with
 * mc_writer_commit or mc_writer_abort. 0, MC_E_USAGE (read-only store, or a
 * writer already open), MC_E_STORE, -ENOMEM; *ret set only on success. */
int mc_writer_begin(struct mc_store *s, struct mc_writer **ret, struct mc_error *err)
{
	struct mc_writer *w;
	int rc;

	if (!s || !ret)
		return mc_error_set(err, MC_E_USAGE, "mc_writer_begin: bad arguments");
	if (s->flags & MC_STORE_RDONLY)
		return mc_error_set(err, MC_E_USAGE, "store %s is open read-only", s->dir);
	if (s->writer_open)
		return mc_error_set(err, MC_E_USAGE, "a writer is already open on this store");
	w = s->spare;
	if (w) {
		s->spare = NULL;
	} else {
		w = calloc(1, sizeof(*w));
		if (!w)
			return mc_error_set(err, -ENOMEM, "out of memory");
		mc_buf_init(&w->val, MC_STORE_VALUE_MAX);
		mc_buf_init(&w->log, MC_STORE_LOG_MAX);
	}
	w->s = s;
	w->failed = 0;
	w->now = (int64_t)time(NULL);
	mc_buf_reset(&w->log);
	rc = writer_txn_start(w);
	if (rc) {
		if (w->txn)
			mdb_txn_abort(w->txn);
		w->txn = NULL;
		s->spare = w;
		return set_err(err, rc, "beginning a write transaction");
	}
	s->writer_open = 1;
	*ret = w;
	return 0;
}

/* End the writer, keeping its buffers for the next batch (bounded: a
 * buffer grown past 4 MiB by a large batch is released). */
static void writer_release(struct mc_writer *w)
{
	struct mc_store *s = w->s;

	if (w->txn)
		mdb_txn_abort(w->txn);
	w->txn = NULL;
	if (w->log.cap > (4u << 20))
		mc_buf_free(&w->log);
	if (w->val.cap > (4u << 20))
		mc_buf_free(&w->val);
	s->writer_open = 0;
	if (s->spare)
		writer_free(s->spare);
	s->spare = w;
}

/* The cached counts of source (the key's first part), loaded on first use. */
static int counts_get(struct mc_writer *w, const char *key, size_t klen, struct counts_ent **ret)
{
	const char *nul = memchr(key, '\0', klen);
	size_t slen = nul ? (size_t)(nul - key) : klen;
	struct counts_ent *e;
	MDB_val k = { slen, (void *)key }, v;
	int rc;

	if (slen == 0 || slen > MC_MAX_SOURCE_ID)
		return MC_E_CORRUPT;
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
	rc = mdb_get(w->txn, w->s->dbi_sources, &k, &v);
	if (rc == 0)
		rc = counts_decode(&v, &e->present, &e->deleted, &e->last_change);
	else if (rc == MDB_NOTFOUND)
		rc = 0;
	if (rc)
		return rc;
	w->cnt_last = w->ncnt++;
	*ret = e;
	return 0;
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
		rc = mdb_put(w->txn, w->s->dbi_sources, &k, &v, 0);
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
	rc = mdb_put(w->txn, w->s->dbi_feed, &k, &v, MDB_APPEND | MDB_RESERVE);
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
	struct counts_ent *e;
	int newdel = val[MC_PACK_OFF_STATUS] == MC_REC_DELETED;
	int olddel = -1;   /* absent */
	int op, rc;

	rc = mdb_get(w->txn, w->s->dbi_records, &k, &old);
	if (rc == 0) {
		o = old.mv_data;
		if (old.mv_size >= 1 && o[0] > MC_PACK_VERSION)
			return MC_E_VERSION;
		if (old.mv_size < MC_PACK_FIXED || o[0] == 0 || o[MC_PACK_OFF_STATUS] > MC_REC_DELETED)
			return MC_E_CORRUPT;
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
	rc = mdb_put(w->txn, w->s->dbi_records, &k, &v, 0);
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

static int apply_entry(struct mc_writer *w, int type, const unsigned char *key, size_t klen,
		       const unsigned char *val, size_t vlen, int *outcome)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc;

	*outcome = 0;
	switch (type) {
	case LOG_REC:
		return apply_rec(w, key, klen, val, vlen, outcome);
	case LOG_STATE_SET:
		return mdb_put(w->txn, w->s->dbi_state, &k, &v, 0);
	case LOG_STATE_DEL:
		rc = mdb_del(w->txn, w->s->dbi_state, &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	return MC_E_CORRUPT;
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

/* Double the map; only with no transaction open in this process. */
static int store_grow(struct mc_store *s, struct mc_error *err)
{
	MDB_envinfo info;
	uint64_t cur, want;
	int rc;

	mdb_env_info(s->env, &info);
	cur = info.me_mapsize;
	if (__atomic_load_n(&s->readers, __ATOMIC_SEQ_CST))
		return mc_error_set(err, MC_E_FULL,
				    "store map full (%llu MiB) and cannot grow while a read "
				    "transaction is open in this process; nothing of the batch was kept",
				    (unsigned long long)(cur >> 20));
	want = cur * 2;
	if (want > MC_STORE_MAP_MAX || want > SIZE_MAX)
		return mc_error_set(err, MC_E_FULL, "store map full at its maximum size (%llu MiB)",
				    (unsigned long long)(cur >> 20));
	rc = mdb_env_set_mapsize(s->env, (size_t)want);
	s->map_epoch++;
	if (rc)
		return mc_error_set(err, xlate(rc), "growing the store map to %llu MiB: %s",
				    (unsigned long long)(want >> 20), mdb_strerror(rc));
	s->grows++;
	return 0;
}

/* After MDB_MAP_FULL: abort, grow, begin again and replay the whole log.
 * The entry still marked pending (the operation that hit the full map)
 * gets its outcome here. 0, or an error that poisons the batch. */
static int writer_recover(struct mc_writer *w, struct mc_error *err)
{
	int rc = MDB_MAP_FULL;

	for (int attempt = 0; attempt < 48 && rc == MDB_MAP_FULL; attempt++) {
		size_t off = 0;

		if (w->txn)
			mdb_txn_abort(w->txn);
		w->txn = NULL;
		rc = store_grow(w->s, err);
		if (rc)
			return w->failed = rc;
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
				return w->failed = mc_error_set(err, MC_E_STORE,
					"the store changed under the writer while its map grew; "
					"batch dropped");
			}
			off += LOG_HDR + klen + vlen;
		}
	}
	if (rc)
		return w->failed = set_err(err, rc, "replaying the batch after growing the map");
	return 0;
}

/* Log the operation in w->key / w->val, apply it, recover from a full map. */
static int writer_apply(struct mc_writer *w, int type, int *outcome, struct mc_error *err)
{
	size_t mark = w->log.len;
	unsigned char hdr[LOG_HDR];
	uint32_t kl = (uint32_t)w->klen, vl = (uint32_t)w->val.len;
	int rc, oc = 0;

	hdr[0] = (unsigned char)type;
	hdr[1] = OUTCOME_PENDING;
	memcpy(hdr + 2, &kl, 4);
	memcpy(hdr + 6, &vl, 4);
	rc = mc_buf_reserve(&w->log, LOG_HDR + w->klen + w->val.len);
	if (rc)
		return mc_error_set(err, rc, rc == MC_E_TOOBIG ?
				    "batch too large for the writer's log; commit more often" :
				    "out of memory");
	mc_buf_add(&w->log, hdr, LOG_HDR);
	mc_buf_add(&w->log, w->key, w->klen);
	mc_buf_add(&w->log, w->val.data, w->val.len);

	rc = apply_entry(w, type, w->key, w->klen,
			 (unsigned char *)w->val.data, w->val.len, &oc);
	if (rc == MDB_MAP_FULL) {
		rc = writer_recover(w, err);
		if (rc)
			return rc;
		oc = (unsigned char)w->log.data[mark + 1];
	} else if (rc) {
		w->log.len = mark;
		if (rc == MC_E_CORRUPT || rc == MC_E_VERSION)
			w->failed = mc_error_set(err, rc, "stored value does not decode (%s)",
						 mc_strerror(rc));
		else
			w->failed = set_err(err, rc, "writing");
		return w->failed;
	}
	if (type == LOG_REC && (oc == MC_PUT_UNCHANGED || oc == MC_PUT_ABSENT))
		w->log.len = mark;   /* wrote nothing: nothing to replay */
	else
		w->log.data[mark + 1] = (char)oc;
	if (outcome)
		*outcome = oc;
	return 0;
}

static int writer_check(struct mc_writer *w, struct mc_error *err)
{
	if (!w)
		return mc_error_set(err, MC_E_USAGE, "no writer");
	if (w->failed)
		return mc_error_set(err, w->failed, "an earlier error ended this batch (%s); abort it",
				    mc_strerror(w->failed));
	return 0;
}

/* Store rec under (rec->source, rec->local_id); see mc-store.h. A record
 * with status MC_REC_DELETED is stored as a tombstone (its metadata is not
 * kept) exactly as mc_writer_delete would. A present record over a
 * tombstone is MC_PUT_NEW. rec is only read. Errors that leave the
 * transaction untouched (MC_E_USAGE for a bad source id or missing local
 * id, MC_E_TOOBIG for an over-long key or packed value) keep the batch
 * usable; any other error poisons it (later calls and commit fail). */
/* Store w->val (packed with result pack_rc) under (source, local_id). */
static int writer_put_val(struct mc_writer *w, const char *source, const char *local_id,
			  int pack_rc, int *outcome, struct mc_error *err)
{
	int rc;

	set_err_rec(err, source, local_id);
	if (pack_rc == MC_E_TOOBIG)
		return mc_error_set(err, pack_rc, "packed record larger than %u bytes",
				    MC_STORE_VALUE_MAX);
	if (pack_rc)
		return mc_error_set(err, pack_rc, "packing the record: %s", mc_strerror(pack_rc));
	rc = record_key(w->s, w->key, &w->klen, source, local_id, err);
	if (rc)
		return rc;
	return writer_apply(w, LOG_REC, outcome, err);
}

int mc_writer_put(struct mc_writer *w, const struct mc_record *rec, int *outcome,
		  struct mc_error *err)
{
	int rc = writer_check(w, err);

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

/* As mc_writer_put, with the value already packed by mc_record_pack (or a
 * tombstone). Lets a pipeline pack records on one thread and write them on
 * another. val is copied. */
int mc_writer_put_packed(struct mc_writer *w, const char *source, const char *local_id,
			 const void *val, size_t len, int *outcome, struct mc_error *err)
{
	int rc = writer_check(w, err);

	if (rc)
		return rc;
	mc_buf_reset(&w->val);
	rc = mc_buf_add(&w->val, val, len);
	return writer_put_val(w, source, local_id, rc, outcome, err);
}

/* Mark (source, local_id) deleted, keeping a tombstone with datestamp.
 * Outcome MC_PUT_DELETED, or MC_PUT_ABSENT (never stored or already
 * deleted: nothing written). Errors as mc_writer_put. */
int mc_writer_delete(struct mc_writer *w, const char *source, const char *local_id,
		     int64_t datestamp, int *outcome, struct mc_error *err)
{
	int rc = writer_check(w, err);

	if (rc)
		return rc;
	set_err_rec(err, source, local_id);
	rc = record_key(w->s, w->key, &w->klen, source, local_id, err);
	if (rc)
		return rc;
	rc = mc_record_pack_deleted(datestamp, &w->val);
	if (rc)
		return mc_error_set(err, rc, "packing the tombstone (%s)", mc_strerror(rc));
	return writer_apply(w, LOG_REC, outcome, err);
}

/* Set (value non-NULL) or delete (value NULL) the state string under
 * (scope, key); neither may be empty, together at most 510 bytes; value at
 * most MC_STORE_STATE_MAX bytes. 0, MC_E_USAGE, MC_E_TOOBIG, or an error
 * that poisons the batch. */
int mc_writer_state_set(struct mc_writer *w, const char *scope, const char *key,
			const char *value)
{
	int rc = writer_check(w, NULL);

	if (rc)
		return rc;
	if (!scope || !key || !scope[0] || !key[0])
		return MC_E_USAGE;
	rc = make_key(w->key, w->s->maxkey, scope, strlen(scope), key, &w->klen);
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
	return writer_apply(w, value ? LOG_STATE_SET : LOG_STATE_DEL, NULL, NULL);
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
		return mc_error_set(err, MC_E_FULL, "committing to store %s failed, batch not kept: "
				    "no space left on its file system (short write)", dir);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    stat(path, &st) == 0 && (uint64_t)st.st_size + need > (uint64_t)rl.rlim_cur)
		return mc_error_set(err, MC_E_FULL, "committing to store %s failed, batch not kept: "
				    "file size limit reached (RLIMIT_FSIZE %llu bytes, short write)",
				    dir, (unsigned long long)rl.rlim_cur);
	return mc_error_set(err, MC_E_STORE, "committing to store %s failed, batch not kept: %s",
			    dir, strerror(EIO));
}

/* Commit the batch (durable: LMDB syncs data and meta page) and free w in
 * every case. Per-source counts are written here. A full map is grown and
 * the batch replayed. 0; MC_E_FULL (disk full, file size limit, or a map
 * that cannot grow) or MC_E_STORE (I/O error): nothing of the batch is
 * stored and the store is as it was; err->msg says what happened. */
int mc_writer_commit(struct mc_writer *w, struct mc_error *err)
{
	int rc = writer_check(w, err);
	struct mc_store *s;

	if (rc) {
		if (w)
			writer_release(w);
		return rc;
	}
	s = w->s;
	for (;;) {
		rc = counts_flush(w);
		if (!rc) {
			rc = mdb_txn_commit(w->txn);
			w->txn = NULL;   /* freed by LMDB whatever the outcome */
		}
		if (rc != MDB_MAP_FULL)
			break;
		w->s->commit_recoveries++;
		rc = writer_recover(w, err);
		if (rc)
			break;
	}
	if (rc == EIO)
		rc = short_write(w, err);
	else if (rc && rc != w->failed)
		rc = mc_error_set(err, xlate(rc), "committing to store %s failed, batch not kept: %s",
				  w->s->dir, rc > 0 ? strerror(rc) : mdb_strerror(rc));
	writer_release(w);
	store_trim(s, NULL);
	return rc;
}

/* Drop the batch (nothing of it is stored) and free w. NULL is a no-op. */
void mc_writer_abort(struct mc_writer *w)
{
	if (w)
		writer_release(w);
}

/* ---- reader ---- */

/* Begin a read snapshot (MDB_RDONLY transaction; does not block writers,
 * but keeps the pages it sees alive, so end it soon). Caller ends it with
 * mc_reader_end. 0, MC_E_STORE, -ENOMEM; *ret set only on success. */
int mc_reader_begin(struct mc_store *s, struct mc_reader **ret)
{
	struct mc_reader *r;
	int rc;

	if (!s || !ret)
		return MC_E_USAGE;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	rc = txn_begin(s, MDB_RDONLY, &r->txn);
	if (rc) {
		free(r);
		return xlate(rc);
	}
	r->s = s;
	__atomic_add_fetch(&s->readers, 1, __ATOMIC_SEQ_CST);
	*ret = r;
	return 0;
}

/* End the snapshot and free r. NULL is a no-op. */
void mc_reader_end(struct mc_reader *r)
{
	if (!r)
		return;
	mdb_txn_abort(r->txn);
	__atomic_sub_fetch(&r->s->readers, 1, __ATOMIC_SEQ_CST);
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

/* Load (source, local_id) into rec (reset first; strings in rec->arena, so
 * they outlive the reader; rec->source / local_id set). Tombstones load with
 * status MC_REC_DELETED and their datestamp. 0, MC_E_NOTFOUND, MC_E_CORRUPT,
 * MC_E_VERSION, MC_E_USAGE, MC_E_STORE; err names the record. */
int mc_store_get(struct mc_reader *r, const char *source, const char *local_id,
		 struct mc_record *rec, struct mc_error *err)
{
	unsigned char kb[MC_STORE_KEY_MAX];
	MDB_val key, v;
	size_t slen;
	int rc;

	if (!r || !rec)
		return mc_error_set(err, MC_E_USAGE, "mc_store_get: bad arguments");
	set_err_rec(err, source, local_id);
	if (!source_valid(source, &slen) || !local_id || !local_id[0])
		return mc_error_set(err, MC_E_USAGE, "invalid source id or local identifier");
	if (make_key(kb, r->s->maxkey, source, slen, local_id, &key.mv_size))
		return mc_error_set(err, MC_E_NOTFOUND, "no such record (key too long)");
	key.mv_data = kb;
	rc = mdb_get(r->txn, r->s->dbi_records, &key, &v);
	if (rc == MDB_NOTFOUND)
		return mc_error_set(err, MC_E_NOTFOUND, "no such record");
	if (rc)
		return set_err(err, rc, "reading the record");
	rc = load_record(&key, &v, rec);
	if (rc)
		return mc_error_set(err, rc, "stored record: %s", mc_strerror(rc));
	return 0;
}

/* Every record of source (all when NULL), in key order (byte order of the
 * local ids within a source), tombstones included. rec (owned by this
 * function) is reused between calls. cb returns non-zero to stop; that value
 * is returned. 0, cb's value, MC_E_CORRUPT / MC_E_VERSION (err names the
 * record), MC_E_USAGE, MC_E_STORE, -ENOMEM. */
int mc_store_each(struct mc_reader *r, const char *source,
		  int (*cb)(void *ctx, struct mc_record *rec), void *ctx, struct mc_error *err)
{
	struct mc_record *rec = NULL;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	char prefix[MC_MAX_SOURCE_ID + 1];
	size_t plen = 0, seen = 0;
	int rc;

	if (!r || !cb)
		return mc_error_set(err, MC_E_USAGE, "mc_store_each: bad arguments");
	if (source) {
		if (!source_valid(source, &plen))
			return mc_error_set(err, MC_E_USAGE, "invalid source id");
		memcpy(prefix, source, plen);
		prefix[plen++] = '\0';
	}
	rc = mc_record_new(&rec);
	if (rc)
		return mc_error_set(err, rc, "out of memory");
	rc = mdb_cursor_open(r->txn, r->s->dbi_records, &c);
	if (rc) {
		rc = set_err(err, rc, "opening a cursor");
		goto done;
	}
	k.mv_size = plen;
	k.mv_data = prefix;
	rc = mdb_cursor_get(c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0) {
		if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0))
			break;
		rc = load_record(&k, &v, rec);
		if (rc) {
			const char *kd = k.mv_data;
			size_t n = strnlen(kd, k.mv_size);

			if (err) {
				mc_error_field(err->source, sizeof(err->source), n < k.mv_size ? kd : "?");
				if (n + 1 < k.mv_size)
					snprintf(err->record_id, sizeof(err->record_id), "%.*s",
						 (int)(k.mv_size - n - 1), kd + n + 1);
			}
			rc = mc_error_set(err, rc, "stored record: %s", mc_strerror(rc));
			goto done;
		}
		rc = cb(ctx, rec);
		if (rc)
			goto done;
		if (++seen % 1024 == 0)
			store_trim(r->s, r->txn);
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == MDB_NOTFOUND || rc == 0)
		rc = 0;
	else
		rc = set_err(err, rc, "walking the records");
done:
	if (c)
		mdb_cursor_close(c);
	mc_record_free(rec);
	return rc;
}

/* Feed entries after `after`, at most max (0 = all), in sequence order.
 * source and local_id are NUL-terminated copies valid during the call.
 * cb returns non-zero to stop; that value is returned. 0, cb's value,
 * MC_E_CORRUPT, MC_E_STORE. */
int mc_store_feed(struct mc_reader *r, uint64_t after, uint64_t max,
		  int (*cb)(void *ctx, uint64_t seq, int op, const char *source,
			    const char *local_id),
		  void *ctx)
{
	unsigned char kb[8];
	char buf[MC_STORE_KEY_MAX + 2];
	MDB_cursor *c;
	MDB_val k = { 8, kb }, v;
	uint64_t n = 0;
	int rc;

	if (!r || !cb)
		return MC_E_USAGE;
	if (after == UINT64_MAX)
		return 0;
	rc = mdb_cursor_open(r->txn, r->s->dbi_feed, &c);
	if (rc)
		return xlate(rc);
	mc_put_be64(kb, after + 1);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && (!max || n < max)) {
		const unsigned char *d = v.mv_data;
		const char *nul;
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
		rc = cb(ctx, mc_get_be64(k.mv_data), op, buf, nul + 1);
		if (rc) {
			mdb_cursor_close(c);
			return rc;
		}
		n++;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : xlate(rc);
}

/* Sequence of the newest feed entry in this snapshot; 0 when the feed is
 * empty (or cannot be read). */
uint64_t mc_store_feed_last(struct mc_reader *r)
{
	uint64_t seq = 0;

	if (!r || feed_last_txn(r->s, r->txn, &seq))
		return 0;
	return seq;
}

/* Copy the state string of (scope, key) into buf (NUL-terminated).
 * 0, MC_E_NOTFOUND, MC_E_TOOBIG (buf too small), MC_E_USAGE, MC_E_STORE. */
int mc_store_state_get(struct mc_reader *r, const char *scope, const char *key,
		       char *buf, size_t bufsz)
{
	unsigned char kb[MC_STORE_KEY_MAX];
	MDB_val kv, v;
	int rc;

	if (!r || !scope || !key || !buf || !bufsz)
		return MC_E_USAGE;
	if (make_key(kb, r->s->maxkey, scope, strlen(scope), key, &kv.mv_size))
		return MC_E_NOTFOUND;
	kv.mv_data = kb;
	rc = mdb_get(r->txn, r->s->dbi_state, &kv, &v);
	if (rc == MDB_NOTFOUND)
		return MC_E_NOTFOUND;
	if (rc)
		return xlate(rc);
	if (v.mv_size >= bufsz)
		return MC_E_TOOBIG;
	memcpy(buf, v.mv_data, v.mv_size);
	buf[v.mv_size] = '\0';
	return 0;
}

/* Per-source counts in source id order. cb returns non-zero to stop; that
 * value is returned. 0, cb's value, MC_E_CORRUPT, MC_E_VERSION, MC_E_STORE. */
int mc_store_sources(struct mc_reader *r,
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
		return xlate(rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		memset(&sc, 0, sizeof(sc));
		if (k.mv_size == 0 || k.mv_size > MC_MAX_SOURCE_ID) {
			rc = MC_E_CORRUPT;
			break;
		}
		rc = counts_decode(&v, &sc.present, &sc.deleted, &sc.last_change);
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
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : xlate(rc);
}

/* Environment figures. 0 or MC_E_STORE. */
int mc_store_info(struct mc_reader *r, struct mc_store_info *info)
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
		return xlate(rc);
	info->map_size = ei.me_mapsize;
	info->used_bytes = ((uint64_t)ei.me_last_pgno + 1) * st.ms_psize;
	rc = mdb_stat(r->txn, r->s->dbi_records, &st);
	if (rc)
		return xlate(rc);
	info->records = st.ms_entries;
	rc = mdb_stat(r->txn, r->s->dbi_feed, &st);
	if (rc)
		return xlate(rc);
	info->feed_entries = st.ms_entries;
	return 0;
}
