/* store-open.c — opening and closing the store, and the handles of its
 * named databases (the store's own and the kv databases of later stages,
 * including those another process creates). See schemas/lmdb.md. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "mc-config.h"  /* mc_name_valid */
#include "mc-limits.h"
#include "mc-store.h"
#include "store-internal.h"

#define SCHEMA_VERSION 1u

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
		return mci_store_set_err(err, rc, "reading the schema version");
	if (v.mv_size != 4)
		return mc_error_set(err, MC_E_CORRUPT, "store %s: bad schema version value",
				    s->dir);
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
	int rc = mdb_dbi_open(txn, NULL, 0, &s->dbi_main);

	for (int i = 0; i < 5 && !rc; i++) {
		rc = mdb_dbi_open(txn, db_names[i], flags, d[i]);
		if (!rc) {
			struct db_ent *e = &s->db[i];

			e->nlen = strlen(db_names[i]);
			memcpy(e->name, db_names[i], e->nlen + 1);
			e->dbi = *d[i];
			e->kv = 0;
		}
	}
	if (!rc)
		s->ndb = CORE_DBS;
	return rc;
}

/* ---- named databases ----
 * LMDB's rules for mdb_dbi_open: one transaction at a time may use it and
 * must end before another does, a handle opened in a transaction is only
 * kept if that transaction commits, and a transaction can only use handles
 * that existed when it began. So every open after mc_store_open runs in a
 * short transaction of its own, committed at once, under dbi_mu; readers
 * and writers check when they begin whether the main database names
 * databases this process has no handle for (created by another process)
 * and open them first; a writer that needs a new database ends its
 * transaction, creates it in a short write transaction and replays its
 * log. */

/* kv database names: [A-Za-z0-9._-]{1,63}, not "mc_*", not the store's own. */
int mci_store_kv_name_valid(const char *name, size_t *lenp)
{
	size_t n;

	if (!name)
		return 0;
	if (!mc_name_valid(name, KV_NAME_MAX) || strncmp(name, "mc_", 3) == 0)
		return 0;
	n = strlen(name);
	for (int i = 0; i < CORE_DBS; i++)
		if (!strcmp(name, db_names[i]))
			return 0;
	*lenp = n;
	return 1;
}

/* The handle of a named database, NULL if this process has none. */
const struct db_ent *mci_store_db_find(struct mc_store *s, const char *name, size_t nlen)
{
	unsigned n = __atomic_load_n(&s->ndb, __ATOMIC_ACQUIRE);

	for (unsigned i = CORE_DBS; i < n; i++)
		if (s->db[i].nlen == nlen && memcmp(s->db[i].name, name, nlen) == 0)
			return &s->db[i];
	return NULL;
}

/* Open every named database of the main database that has no handle yet,
 * in txn; the new entries go after s->ndb, *nnew of them, and *entries is
 * what the main database holds. db_publish makes them visible once txn
 * has committed. Called under dbi_mu, or during mc_store_open. LMDB code. */
static int db_scan(struct mc_store *s, MDB_txn *txn, unsigned *nnew, uint64_t *entries)
{
	MDB_cursor *c;
	MDB_val k, v;
	MDB_stat st;
	char name[KV_NAME_MAX + 1];
	int rc = mdb_cursor_open(txn, s->dbi_main, &c);

	if (rc)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	for (; rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct db_ent *e;
		MDB_dbi dbi;
		size_t n;

		if (k.mv_size == 0 || k.mv_size > KV_NAME_MAX || memchr(k.mv_data, '\0', k.mv_size))
			continue;   /* not a name we could use */
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if (mci_store_db_find(s, name, k.mv_size) ||
		    (k.mv_size <= 7 && (!strcmp(name, "meta") || !strcmp(name, "records") ||
					!strcmp(name, "feed") || !strcmp(name, "sources") ||
					!strcmp(name, "state"))))
			continue;
		if (s->ndb + *nnew == MAX_DBS)
			break;
		if (mdb_dbi_open(txn, name, 0, &dbi) != 0)
			continue;   /* a plain key, or not a database */
		e = &s->db[s->ndb + *nnew];
		memcpy(e->name, name, k.mv_size + 1);
		e->nlen = k.mv_size;
		e->dbi = dbi;
		e->kv = mci_store_kv_name_valid(name, &n);
		++*nnew;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	rc = mdb_stat(txn, s->dbi_main, &st);
	if (!rc)
		*entries = st.ms_entries;
	return rc;
}

/* After the scan's transaction committed: publish its entries. */
static void db_publish(struct mc_store *s, unsigned nnew, uint64_t entries)
{
	for (unsigned i = 0; i < nnew; i++)
		if (s->db[s->ndb + i].kv)
			s->nkv++;
	__atomic_store_n(&s->ndb, s->ndb + nnew, __ATOMIC_RELEASE);
	__atomic_store_n(&s->main_seen, entries, __ATOMIC_RELEASE);
}

/* Does txn's main database name more databases than seen at the last
 * scan? (Then its transaction must end, mci_store_db_refresh run, and begin again.) */
int mci_store_db_stale(struct mc_store *s, MDB_txn *txn, uint64_t seen)
{
	MDB_stat st;

	return mdb_stat(txn, s->dbi_main, &st) == 0 && (uint64_t)st.ms_entries != seen;
}

/* Open the databases other processes created since the last scan, in a
 * short read transaction. The caller holds no transaction. LMDB code. */
int mci_store_db_refresh(struct mc_store *s)
{
	MDB_txn *txn;
	unsigned nnew = 0;
	uint64_t entries = 0;
	int rc;

	pthread_mutex_lock(&s->dbi_mu);
	rc = mci_store_rtxn_begin(s, NULL, &txn, NULL);
	if (!rc) {
		rc = db_scan(s, txn, &nnew, &entries);
		if (rc)
			mci_store_rtxn_end(s, NULL, txn, 0);
		else
			rc = mci_store_rtxn_end(s, NULL, txn, 1);
		if (!rc)
			db_publish(s, nnew, entries);
	}
	pthread_mutex_unlock(&s->dbi_mu);
	return rc;
}

/* Create kv database name (nlen bytes) in a short write transaction. The
 * caller holds the write lock and no transaction. 0, MC_E_USAGE (already
 * MC_STORE_MAX_KV databases), MC_E_FULL, MC_E_STORE; err filled in. */
int mci_store_db_create(struct mc_store *s, const char *name, size_t nlen, struct mc_error *err)
{
	const char *op = "creating";
	MDB_txn *txn;
	int rc = 0;

	for (int attempt = 0; attempt < 48; attempt++) {
		pthread_mutex_lock(&s->dbi_mu);
		if (mci_store_db_find(s, name, nlen)) {
			pthread_mutex_unlock(&s->dbi_mu);
			return 0;
		}
		if (s->nkv >= MC_STORE_MAX_KV || s->ndb >= MAX_DBS) {
			pthread_mutex_unlock(&s->dbi_mu);
			return mc_error_set(
				err, MC_E_USAGE,
				"cannot create database %s: at most %d key/value databases", name,
				MC_STORE_MAX_KV);
		}
		op = "mdb_txn_begin (write) to create";
		rc = mci_store_wtxn_begin(s, &txn, err);
		if (!rc) {
			unsigned nnew = 0;
			uint64_t entries = 0;
			MDB_dbi dbi;

			op = "mdb_dbi_open (MDB_CREATE) of";
			rc = mdb_dbi_open(txn, name, MDB_CREATE, &dbi);
			if (!rc) {   /* registers name with any others */
				op = "opening the databases after creating";
				rc = db_scan(s, txn, &nnew, &entries);
			}
			if (rc) {
				mci_store_wtxn_end(s, txn, 0);
			} else {
				op = "mdb_txn_commit of the new database";
				rc = mci_store_wtxn_end(s, txn, 1);
			}
			if (!rc)
				db_publish(s, nnew, entries);
		}
		pthread_mutex_unlock(&s->dbi_mu);
		if (rc != MDB_MAP_FULL)
			break;
		rc = mci_store_resize(s, 0, 0, NULL, err);
		if (rc)
			return rc;
	}
	if (rc)
		return mc_error_set(err, mci_store_xlate(rc), "%s %s: %s", op, name,
				    mci_store_reason(rc));
	return 0;
}

/* Create the named databases and the meta entries in one transaction. */
static int store_init(struct mc_store *s, struct mc_error *err)
{
	MDB_txn *txn;
	MDB_val k = { 7, (void *)"version" }, v;
	unsigned char ver[4] = { SCHEMA_VERSION, 0, 0, 0 }, created[8];
	int rc = mci_store_txn_begin(s, 0, &txn);

	if (rc)
		return mci_store_set_err(err, rc, "beginning the initial transaction");
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
		return mci_store_set_err(err, rc, "creating the store");
	}
	rc = meta_check(s, txn, err);
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	if (rc)
		return mci_store_set_err(err, rc, "committing the new store");
	return 0;
}

int mci_store_open_mapsize(const char *dir, unsigned flags, uint64_t mapsize,
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
			return mc_error_set(err, -errno, "store directory %s: %s", dir,
					    strerror(errno));
		if (!(flags & MC_STORE_CREATE))
			return mc_error_set(err, MC_E_NOTFOUND,
					    "no store in %s (run `mucluc init`)", dir);
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return mc_error_set(err, -errno, "creating %s: %s", dir, strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		return mc_error_set(err, -ENOTDIR, "store %s is not a directory", dir);
	}

	s = calloc(1, sizeof(*s));
	if (s) {
		s->lock_fd = -1;
		s->dir = strdup(dir);
	}
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
	if (pthread_mutex_init(&s->wmu, NULL) || pthread_mutex_init(&s->mu, NULL) ||
	    pthread_cond_init(&s->cv, NULL) || pthread_mutex_init(&s->dbi_mu, NULL) ||
	    pthread_mutex_init(&s->trim_mu, NULL)) {
		rc = mc_error_set(err, -ENOMEM, "initialising the store's locks");
		goto fail;
	}
	s->sync_ok = 1;
	s->grow_wait_ms = MC_STORE_GROW_WAIT_MS;
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
		rc = mci_store_set_err(err, rc, "creating the LMDB environment");
		goto fail;
	}
	mdb_env_set_maxdbs(s->env, MAX_DBS);
	/* Slots for read transactions of every process (LMDB's default is
	 * 126; twelve imports, a harvest with eight jobs and a server share
	 * them). Takes effect when the first process creates lock.mdb. */
	mdb_env_set_maxreaders(s->env, MC_STORE_MAX_READERS);
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
			rc = mci_store_set_err(err, rc, "opening the store");
		goto fail;
	}
	s->maxkey = (size_t)mdb_env_get_maxkeysize(s->env);
	if (s->maxkey > MC_STORE_KEY_MAX)
		s->maxkey = MC_STORE_KEY_MAX;
	/* slots of readers whose process died: they would pin old pages
	 * (the file grows) and use up the table */
	mdb_reader_check(s->env, NULL);
	if (!(flags & MC_STORE_RDONLY)) {
		size_t n = strlen(dir) + sizeof("/writer.lock");
		char *lp = malloc(n);

		if (lp) {
			snprintf(lp, n, "%s/writer.lock", dir);
			s->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
			if (s->lock_fd < 0)
				rc = mc_error_set(err, -errno, "opening %s: %s", lp,
						  strerror(errno));
			free(lp);
		} else {
			rc = mc_error_set(err, -ENOMEM, "out of memory");
		}
		if (s->lock_fd < 0)
			goto fail;
	}

	/* Existing store: open the databases in a read transaction so that
	 * opening never waits for another process's write batch. */
	rc = mci_store_txn_begin(s, MDB_RDONLY, &txn);
	if (rc) {
		rc = mci_store_set_err(err, rc, "beginning a read transaction");
		goto fail;
	}
	rc = open_dbis(s, txn, 0);
	if (rc == 0) {
		unsigned nnew = 0;
		uint64_t entries = 0;

		rc = meta_check(s, txn, err);
		if (rc) {
			mdb_txn_abort(txn);
			goto fail;
		}
		rc = db_scan(s, txn, &nnew, &entries);
		if (rc) {
			mdb_txn_abort(txn);
			rc = mci_store_set_err(err, rc, "opening the databases");
			goto fail;
		}
		rc = mdb_txn_commit(txn);   /* keeps the dbi handles */
		if (rc) {
			rc = mci_store_set_err(err, rc, "opening the databases");
			goto fail;
		}
		db_publish(s, nnew, entries);
	} else {
		mdb_txn_abort(txn);
		if (rc != MDB_NOTFOUND) {
			rc = mci_store_set_err(err, rc, "opening the databases");
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

int mc_store_open(const char *dir, unsigned flags, struct mc_store **ret, struct mc_error *err)
{
	if (flags & ~(unsigned)(MC_STORE_CREATE | MC_STORE_RDONLY))
		return mc_error_set(err, MC_E_USAGE, "mc_store_open: unknown flags");
	return mci_store_open_mapsize(dir, flags, 0, ret, err);
}

void mc_store_close(struct mc_store *s)
{
	if (!s)
		return;
	mci_store_writer_free(s->spare);
	if (s->env)
		mdb_env_close(s->env);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->sync_ok) {
		pthread_mutex_destroy(&s->wmu);
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->dbi_mu);
		pthread_mutex_destroy(&s->trim_mu);
	}
	free(s->dir);
	free(s);
}
