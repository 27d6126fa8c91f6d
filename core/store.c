/* store.c — the LMDB store: source records, per-source counts, state,
 * the change feed and named key/value databases for later stages. Layout
 * and encodings: schemas/lmdb.md.
 *
 * The writer keeps a log of the operations of its batch (key + packed value,
 * state, kv and counter operations) so that when LMDB reports MDB_MAP_FULL
 * it can abort, double the map and replay the batch in a new transaction:
 * callers see the same outcomes as if the map had been big enough. Batches
 * of several threads take turns on a process-wide write lock. Growing the
 * map is only allowed while no other transaction is open in this process
 * (mdb_env_set_mapsize): a growth waits for the read transactions of other
 * threads to end (up to MC_STORE_GROW_WAIT_MS, then MC_E_FULL) while new
 * ones wait for it; a reader held by the growing thread itself fails the
 * batch with MC_E_FULL at once. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "mc-limits.h"
#include "mc-config.h"
#include "mc-store.h"
#include "store-internal.h"

#define SCHEMA_VERSION 1u

enum log_type {
	LOG_REC = 1, LOG_STATE_SET = 2, LOG_STATE_DEL = 3,
	LOG_KV_PUT = 4, LOG_KV_DEL = 5, LOG_KV_CLEAR = 6, LOG_SEQ = 7, LOG_KV_APPEND = 8,
	LOG_COUNTS = 9,   /* mc_writer_counts_set (repair): source -> u64le present, deleted */
};
#define OUTCOME_PENDING 0xff
#define LOG_HDR 10   /* type, outcome, u32 key length, u32 value length */
/* Outcomes of kv deletes (in the log, compared when replaying). */
#define KV_DELETED 0
#define KV_ABSENT  1

#define CORE_DBS  5            /* meta, records, feed, sources, state */
#define KV_NAME_MAX 63         /* a kv database name: [A-Za-z0-9._-]{1,63} */
#define SEQ_NAME_MAX 255       /* a counter name */
/* LMDB slots: ours, the kv databases, and room for named databases other
 * programs may have added (they are opened, never used). */
#define MAX_DBS   (CORE_DBS + MC_STORE_MAX_KV + 11)
/* Largest key of a log entry: a kv key with its database name in front. */
#define LOG_KEY_MAX (1 + KV_NAME_MAX + MC_STORE_KEY_MAX)

/* A named database this process has a handle for. Entries are appended
 * under dbi_mu and published by incrementing ndb; never changed after. */
struct db_ent {
	char name[KV_NAME_MAX + 1];
	size_t nlen;
	MDB_dbi dbi;
	int kv;                    /* a kv database (not one of the store's own or foreign) */
};

struct mc_store {
	MDB_env *env;
	MDB_dbi dbi_main, dbi_meta, dbi_records, dbi_feed, dbi_sources, dbi_state;
	unsigned flags;
	size_t maxkey;
	unsigned grows, commit_recoveries;
	unsigned map_epoch, map_epoch_seen;   /* map_epoch: +1 at every mdb_env_set_mapsize */
	void *map_base;                       /* LMDB's map, once located (store_trim) */
	size_t map_len;
	uint64_t trim_rss;                    /* MC_STORE_TRIM_RSS unless set for tests */
	unsigned trims;
	struct mc_writer *spare;   /* buffers kept between batches (under wmu) */
	char *dir;

	/* The process-wide write lock: held by a batch from mc_writer_begin to
	 * its commit or abort, so batches of several threads run one at a
	 * time. writer_open / wowner let a thread that already holds it get
	 * MC_E_USAGE instead of a deadlock. */
	pthread_mutex_t wmu;
	int writer_open;
	pthread_t wowner;
	/* Coordination of transactions with map size changes
	 * (mdb_env_set_mapsize needs no transaction open in the process):
	 * readers = read transactions open or being begun, wtxn = a write
	 * transaction open or being begun, growing = a size change waits or
	 * runs (new transactions wait for it to end). rlist: open readers, to
	 * tell a thread that would wait for itself. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int readers, wtxn, growing;
	struct mc_reader *rlist;
	unsigned grow_wait_ms;
	/* Named database handles (every mdb_dbi_open after open runs in a
	 * short transaction of its own under dbi_mu) and the number of named
	 * databases the main database held at the last scan. */
	pthread_mutex_t dbi_mu;
	struct db_ent db[MAX_DBS];
	unsigned ndb, nkv;
	uint64_t main_seen;
	pthread_mutex_t trim_mu;
	int sync_ok;               /* the mutexes were initialised */
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
	unsigned epoch;            /* +1 whenever txn is replaced (growth, new database) */
	uint64_t seq;              /* newest feed sequence in this transaction */
	int64_t now;
	int failed;                /* error that poisoned the batch; 0 if none */
	unsigned char key[LOG_KEY_MAX];
	size_t klen;
	struct mc_buf val, log;
	struct counts_ent *cnt;
	size_t ncnt, cnt_cap, cnt_last;
};

struct mc_reader {
	struct mc_store *s;
	MDB_txn *txn;
	pthread_t owner;
	struct mc_reader *next, *prev;
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

/* Begin a transaction while the store is being opened (no other thread
 * uses it yet), adopting a map grown by another process. */
static int txn_begin(struct mc_store *s, unsigned flags, MDB_txn **txn)
{
	int rc = mdb_txn_begin(s->env, NULL, flags, txn);

	if (rc == MDB_MAP_RESIZED) {
		rc = mdb_env_set_mapsize(s->env, 0);
		s->map_epoch++;
		if (!rc)
			rc = mdb_txn_begin(s->env, NULL, flags, txn);
	}
	return rc;
}

/* ---- transactions and map size changes ----
 * mdb_env_set_mapsize (growing the map, or adopting a size another process
 * chose) is only safe while no transaction is open in this process. Every
 * transaction after open is therefore begun through rtxn_begin/wtxn_begin,
 * which count it and wait while a size change is pending; a size change
 * (store_resize) waits, up to grow_wait_ms, for the counted transactions
 * to end. A thread never waits for a transaction it holds itself: that
 * case fails at once. */

/* Does the calling thread hold an open reader or the write transaction?
 * Called with s->mu held. */
static int thread_holds_txn(struct mc_store *s, int count_writer)
{
	pthread_t self = pthread_self();

	for (struct mc_reader *r = s->rlist; r; r = r->next)
		if (pthread_equal(r->owner, self))
			return 1;
	return count_writer && s->wtxn && __atomic_load_n(&s->writer_open, __ATOMIC_ACQUIRE) &&
	       pthread_equal(__atomic_load_n(&s->wowner, __ATOMIC_RELAXED), self);
}

static void deadline_after(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Change the map size: double it (adopt = 0; the caller holds the write
 * lock and has no transaction open) or take the size another process
 * recorded (adopt = 1; self_reader = the caller is counted in readers and
 * has no transaction open). Waits for this process's transactions to end.
 * 0, MC_E_FULL (a transaction stayed open, or the map is at its maximum),
 * or an LMDB error translated; err filled in. */
static int store_resize(struct mc_store *s, int adopt, int self_reader, struct mc_error *err)
{
	struct timespec until;
	MDB_envinfo info;
	uint64_t cur, want = 0;
	int rc = 0, timed_out = 0;

	pthread_mutex_lock(&s->mu);
	if (self_reader) {   /* not counted while waiting: another change may run first */
		s->readers--;
		pthread_cond_broadcast(&s->cv);
	}
	while (s->growing)
		pthread_cond_wait(&s->cv, &s->mu);
	mdb_env_info(s->env, &info);
	cur = info.me_mapsize;
	if (thread_holds_txn(s, 1)) {
		rc = mc_error_set(err, MC_E_FULL,
				  "store map full (%llu MiB) and cannot grow while this thread holds a "
				  "read transaction; nothing of the batch was kept",
				  (unsigned long long)(cur >> 20));
		goto out;
	}
	if (!adopt) {
		want = cur * 2;
		if (want > MC_STORE_MAP_MAX || want > SIZE_MAX) {
			rc = mc_error_set(err, MC_E_FULL, "store map full at its maximum size (%llu MiB)",
					  (unsigned long long)(cur >> 20));
			goto out;
		}
	}
	s->growing = 1;
	deadline_after(&until, s->grow_wait_ms);
	while ((s->readers || s->wtxn) && !timed_out)
		timed_out = pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT;
	if (s->readers || s->wtxn) {
		rc = mc_error_set(err, MC_E_FULL,
				  "store map full (%llu MiB) and cannot grow while a read transaction is "
				  "open in this process (waited %u ms); nothing of the batch was kept",
				  (unsigned long long)(cur >> 20), s->grow_wait_ms);
	} else {
		rc = mdb_env_set_mapsize(s->env, (size_t)want);
		s->map_epoch++;
		if (rc && adopt)
			rc = mc_error_set(err, xlate(rc), "adopting the store map size another "
					  "process set: %s", mdb_strerror(rc));
		else if (rc)
			rc = mc_error_set(err, xlate(rc), "growing the store map to %llu MiB: %s",
					  (unsigned long long)(want >> 20), mdb_strerror(rc));
		else if (!adopt)
			s->grows++;
	}
	s->growing = 0;
	pthread_cond_broadcast(&s->cv);
out:
	if (self_reader)
		s->readers++;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static void rlist_unlink(struct mc_store *s, struct mc_reader *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else if (s->rlist == r)
		s->rlist = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
}

/* Begin a counted read transaction; r (may be NULL) is linked into the
 * reader list. LMDB code or project code. */
static int rtxn_begin(struct mc_store *s, struct mc_reader *r, MDB_txn **txn)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	/* a thread that holds a reader or the write transaction must not wait
	 * for the size change that waits for it */
	while (s->growing && !thread_holds_txn(s, 1))
		pthread_cond_wait(&s->cv, &s->mu);
	s->readers++;
	pthread_mutex_unlock(&s->mu);
	for (int i = 0;; i++) {
		rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
		if (rc != MDB_MAP_RESIZED || i == 3)
			break;
		rc = store_resize(s, 1, 1, NULL);
		if (rc)
			break;
	}
	pthread_mutex_lock(&s->mu);
	if (rc) {
		s->readers--;
		pthread_cond_broadcast(&s->cv);
	} else if (r) {
		r->owner = pthread_self();
		r->prev = NULL;
		r->next = s->rlist;
		if (s->rlist)
			s->rlist->prev = r;
		s->rlist = r;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* End a transaction begun with rtxn_begin (commit = keep the database
 * handles it opened). */
static int rtxn_end(struct mc_store *s, struct mc_reader *r, MDB_txn *txn, int commit)
{
	int rc = 0;

	if (commit)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	pthread_mutex_lock(&s->mu);
	if (r)
		rlist_unlink(s, r);
	s->readers--;
	if (!s->readers)
		pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* Begin a write transaction (the caller holds the write lock). */
static int wtxn_begin(struct mc_store *s, MDB_txn **txn)
{
	int rc;

	for (int i = 0;; i++) {
		pthread_mutex_lock(&s->mu);
		while (s->growing)
			pthread_cond_wait(&s->cv, &s->mu);
		s->wtxn = 1;
		pthread_mutex_unlock(&s->mu);
		rc = mdb_txn_begin(s->env, NULL, 0, txn);
		if (rc) {
			pthread_mutex_lock(&s->mu);
			s->wtxn = 0;
			pthread_cond_broadcast(&s->cv);
			pthread_mutex_unlock(&s->mu);
		}
		if (rc != MDB_MAP_RESIZED || i == 3)
			break;
		rc = store_resize(s, 1, 0, NULL);
		if (rc)
			break;
	}
	return rc;
}

/* Commit (commit = 1) or abort a transaction of wtxn_begin. LMDB code. */
static int wtxn_end(struct mc_store *s, MDB_txn *txn, int commit)
{
	int rc = 0;

	if (commit)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	pthread_mutex_lock(&s->mu);
	s->wtxn = 0;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
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
static void store_locate_map(struct mc_store *s)
{
	char line[4096];
	MDB_envinfo info;
	struct stat st;
	int fd;
	FILE *f;

	s->map_base = NULL;
	s->map_len = 0;
	s->map_epoch_seen = s->map_epoch;
	/* the mapping of data.mdb (same device and inode) as large as the map:
	 * found without a transaction, so also from inside a batch */
	if (mdb_env_get_fd(s->env, &fd) || fstat(fd, &st) || mdb_env_info(s->env, &info))
		return;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, off, ino;
		unsigned maj, mnr;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &lo, &hi, perms, &off, &maj, &mnr,
			   &ino) != 7)
			continue;
		if (ino == (unsigned long)st.st_ino && maj == major(st.st_dev) &&
		    mnr == minor(st.st_dev) && !strcmp(perms, "r--s") && off == 0 &&
		    hi - lo == info.me_mapsize) {
			s->map_base = (void *)lo;
			s->map_len = hi - lo;
			break;
		}
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
 * txn is an open transaction (the map cannot move while it is: a read
 * transaction is counted, a write transaction holds the write lock that map
 * growth needs), or NULL to use a short read transaction. */
static void store_trim(struct mc_store *s, MDB_txn *txn, uint64_t max_rss)
{
	MDB_txn *own = NULL;

	if (rss_file_bytes() < max_rss)
		return;
	/* The map cannot move while a counted transaction is open (txn, or
	 * own); trim_mu keeps two threads from trimming at once. */
	if (!txn && rtxn_begin(s, NULL, &own) != 0)
		return;
	if (pthread_mutex_trylock(&s->trim_mu) == 0) {
		if (s->map_epoch_seen != s->map_epoch)   /* not looked for since the last remap */
			store_locate_map(s);
		if (s->map_base && madvise(s->map_base, s->map_len, MADV_DONTNEED) == 0)
			s->trims++;
		pthread_mutex_unlock(&s->trim_mu);
	}
	if (own)
		rtxn_end(s, NULL, own, 0);
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
static int kv_name_valid(const char *name, size_t *lenp)
{
	size_t n;

	if (!name)
		return 0;
	n = strnlen(name, KV_NAME_MAX + 1);
	if (n == 0 || n > KV_NAME_MAX || strncmp(name, "mc_", 3) == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	for (int i = 0; i < CORE_DBS; i++)
		if (!strcmp(name, db_names[i]))
			return 0;
	*lenp = n;
	return 1;
}

/* The handle of a named database, NULL if this process has none. */
static const struct db_ent *db_find(struct mc_store *s, const char *name, size_t nlen)
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
		if (db_find(s, name, k.mv_size) ||
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
		e->kv = kv_name_valid(name, &n);
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
 * scan? (Then its transaction must end, db_refresh run, and begin again.) */
static int db_stale(struct mc_store *s, MDB_txn *txn, uint64_t seen)
{
	MDB_stat st;

	return mdb_stat(txn, s->dbi_main, &st) == 0 && (uint64_t)st.ms_entries != seen;
}

/* Open the databases other processes created since the last scan, in a
 * short read transaction. The caller holds no transaction. LMDB code. */
static int db_refresh(struct mc_store *s)
{
	MDB_txn *txn;
	unsigned nnew = 0;
	uint64_t entries = 0;
	int rc;

	pthread_mutex_lock(&s->dbi_mu);
	rc = rtxn_begin(s, NULL, &txn);
	if (!rc) {
		rc = db_scan(s, txn, &nnew, &entries);
		if (rc)
			rtxn_end(s, NULL, txn, 0);
		else
			rc = rtxn_end(s, NULL, txn, 1);
		if (!rc)
			db_publish(s, nnew, entries);
	}
	pthread_mutex_unlock(&s->dbi_mu);
	return rc;
}

/* Create kv database name (nlen bytes) in a short write transaction. The
 * caller holds the write lock and no transaction. 0, MC_E_USAGE (already
 * MC_STORE_MAX_KV databases), MC_E_FULL, MC_E_STORE; err filled in. */
static int db_create(struct mc_store *s, const char *name, size_t nlen, struct mc_error *err)
{
	MDB_txn *txn;
	int rc;

	for (int attempt = 0; attempt < 48; attempt++) {
		pthread_mutex_lock(&s->dbi_mu);
		if (db_find(s, name, nlen)) {
			pthread_mutex_unlock(&s->dbi_mu);
			return 0;
		}
		if (s->nkv >= MC_STORE_MAX_KV || s->ndb >= MAX_DBS) {
			pthread_mutex_unlock(&s->dbi_mu);
			return mc_error_set(err, MC_E_USAGE,
					    "cannot create database %s: at most %d key/value databases",
					    name, MC_STORE_MAX_KV);
		}
		rc = wtxn_begin(s, &txn);
		if (!rc) {
			unsigned nnew = 0;
			uint64_t entries = 0;
			MDB_dbi dbi;

			rc = mdb_dbi_open(txn, name, MDB_CREATE, &dbi);
			if (!rc)   /* registers name with any others */
				rc = db_scan(s, txn, &nnew, &entries);
			if (rc)
				wtxn_end(s, txn, 0);
			else
				rc = wtxn_end(s, txn, 1);
			if (!rc)
				db_publish(s, nnew, entries);
		}
		pthread_mutex_unlock(&s->dbi_mu);
		if (rc != MDB_MAP_FULL)
			break;
		rc = store_resize(s, 0, 0, err);
		if (rc)
			return rc;
	}
	if (rc)
		return set_err(err, rc, "creating a key/value database");
	return 0;
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
		rc = set_err(err, rc, "creating the LMDB environment");
		goto fail;
	}
	mdb_env_set_maxdbs(s->env, MAX_DBS);
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
			rc = set_err(err, rc, "opening the databases");
			goto fail;
		}
		rc = mdb_txn_commit(txn);   /* keeps the dbi handles */
		if (rc) {
			rc = set_err(err, rc, "opening the databases");
			goto fail;
		}
		db_publish(s, nnew, entries);
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

void mc_store_set_grow_wait(struct mc_store *s, unsigned ms)
{
	pthread_mutex_lock(&s->mu);
	s->grow_wait_ms = ms;
	pthread_mutex_unlock(&s->mu);
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

/* ---- writer ---- */

/* Begin the batch's transaction (again, after a growth or a new
 * database), with handles for every database in its snapshot. */
static int writer_txn_start(struct mc_writer *w)
{
	struct mc_store *s = w->s;
	int rc;

	for (int i = 0;; i++) {
		uint64_t seen = __atomic_load_n(&s->main_seen, __ATOMIC_ACQUIRE);

		rc = wtxn_begin(s, &w->txn);
		if (rc) {
			w->txn = NULL;
			return rc;
		}
		if (i == 3 || !db_stale(s, w->txn, seen))
			break;
		wtxn_end(s, w->txn, 0);
		w->txn = NULL;
		rc = db_refresh(s);
		if (rc)
			return rc;
	}
	w->epoch++;
	w->ncnt = 0;
	w->cnt_last = 0;
	rc = feed_last_txn(s, w->txn, &w->seq);
	if (rc) {
		wtxn_end(s, w->txn, 0);
		w->txn = NULL;
	}
	return rc;
}

/* Begin a batch (one LMDB write transaction). Takes the store's write
 * lock: a batch of another thread of this process is waited for, and so
 * is another process's. One batch per thread: a thread that holds a writer
 * gets MC_E_USAGE. A batch must be committed or aborted by the thread that
 * began it. Caller ends it with mc_writer_commit or mc_writer_abort.
 * 0, MC_E_USAGE (read-only store, or this thread already has a writer),
 * MC_E_STORE, -ENOMEM; *ret set only on success. */
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
		return mc_error_set(err, MC_E_USAGE, "this thread already has a writer open on this store");
	pthread_mutex_lock(&s->wmu);
	__atomic_store_n(&s->wowner, pthread_self(), __ATOMIC_RELAXED);
	__atomic_store_n(&s->writer_open, 1, __ATOMIC_RELEASE);
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
	w->now = (int64_t)time(NULL);
	mc_buf_reset(&w->log);
	rc = writer_txn_start(w);
	if (rc) {
		s->spare = w;
		rc = set_err(err, rc, "beginning a write transaction");
		goto fail;
	}
	*ret = w;
	return 0;

fail:
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
		wtxn_end(s, w->txn, 0);
	w->txn = NULL;
	if (w->log.cap > (4u << 20))
		mc_buf_free(&w->log);
	if (w->val.cap > (4u << 20))
		mc_buf_free(&w->val);
	if (s->spare)
		writer_free(s->spare);
	s->spare = w;
	__atomic_store_n(&s->writer_open, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->wmu);
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
	return db_find(s, (const char *)key + 1, n);
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
	rc = mdb_get(w->txn, w->s->dbi_meta, &k, &v);
	if (rc == 0) {
		if (v.mv_size != 8)
			return MC_E_CORRUPT;
		cur = mc_get_le64(v.mv_data);
	} else if (rc != MDB_NOTFOUND) {
		return rc;
	}
	if (cur == UINT64_MAX)
		return MC_E_TOOBIG;
	want = mc_get_le64(val);
	if (want && want != cur + 1)
		return MC_E_STORE;   /* another writer moved the counter during a replay */
	mc_put_le64(buf, cur + 1);
	v.mv_size = 8;
	v.mv_data = buf;
	rc = mdb_put(w->txn, w->s->dbi_meta, &k, &v, 0);
	if (!rc && !want)
		memcpy(val, buf, 8);
	return rc;
}

static int apply_counts(struct mc_writer *w, const unsigned char *key, size_t klen,
			const unsigned char *val, size_t vlen);

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
			return MC_E_CORRUPT;
		k.mv_data = (void *)rest;
		k.mv_size = rlen;
	}
	switch (type) {
	case LOG_REC:
		return apply_rec(w, key, klen, val, vlen, outcome);
	case LOG_STATE_SET:
		return mdb_put(w->txn, w->s->dbi_state, &k, &v, 0);
	case LOG_STATE_DEL:
		rc = mdb_del(w->txn, w->s->dbi_state, &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : rc;
	case LOG_KV_PUT:
		return mdb_put(w->txn, e->dbi, &k, &v, 0);
	case LOG_KV_APPEND:
		rc = mdb_put(w->txn, e->dbi, &k, &v, MDB_APPEND);
		return rc == MDB_KEYEXIST ? MC_E_USAGE : rc;
	case LOG_KV_DEL:
		rc = mdb_del(w->txn, e->dbi, &k, NULL);
		*outcome = rc == MDB_NOTFOUND ? KV_ABSENT : KV_DELETED;
		return rc == MDB_NOTFOUND ? 0 : rc;
	case LOG_KV_CLEAR:
		return mdb_drop(w->txn, e->dbi, 0);
	case LOG_SEQ:
		return apply_seq(w, key, klen, val, vlen);
	case LOG_COUNTS:
		return apply_counts(w, key, klen, val, vlen);
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

/* Begin the batch's transaction again and replay the whole log: after
 * MDB_MAP_FULL (grow = 1: abort, grow, replay; again while the map is
 * still too small) or to see a database opened since the transaction
 * began (grow = 0). The entry still marked pending (the operation that hit
 * the full map) gets its outcome here. 0, or an error that poisons the
 * batch. */
static int writer_recover(struct mc_writer *w, int grow, struct mc_error *err)
{
	int rc = MDB_MAP_FULL;

	for (int attempt = 0; attempt < 48 && rc == MDB_MAP_FULL; attempt++) {
		size_t off = 0;

		if (w->txn)
			wtxn_end(w->s, w->txn, 0);
		w->txn = NULL;
		if (grow || attempt > 0) {
			rc = store_resize(w->s, 0, 0, err);
			if (rc)
				return w->failed = rc;
		}
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
	if (rc == MC_E_STORE)
		return w->failed = mc_error_set(err, rc, "the store changed under the writer while "
						"it replayed its batch; batch dropped");
	if (rc)
		return w->failed = set_err(err, rc, "replaying the batch after growing the map");
	return 0;
}

/* Log an operation, apply it (from the log's copy), recover from a full
 * map. 0, or an error that poisons the batch (the log's cap: MC_E_TOOBIG,
 * which does not). */
static int writer_apply(struct mc_writer *w, int type, const void *key, size_t klen,
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
		return mc_error_set(err, rc, rc == MC_E_TOOBIG ?
				    "batch too large for the writer's log; commit more often" :
				    "out of memory");
	mc_buf_add(&w->log, hdr, LOG_HDR);
	mc_buf_add(&w->log, key, klen);
	if (vlen)
		mc_buf_add(&w->log, val, vlen);

	rc = apply_entry(w, type, (unsigned char *)w->log.data + mark + LOG_HDR, klen,
			 (unsigned char *)w->log.data + mark + LOG_HDR + klen, vlen, &oc);
	if (rc == MDB_MAP_FULL) {
		rc = writer_recover(w, 1, err);
		if (rc)
			return rc;
		oc = (unsigned char)w->log.data[mark + 1];
	} else if (rc) {
		w->log.len = mark;
		if (rc == MC_E_CORRUPT || rc == MC_E_VERSION)
			w->failed = mc_error_set(err, rc, "stored value does not decode (%s)",
						 mc_strerror(rc));
		else if (rc == MC_E_TOOBIG)
			w->failed = mc_error_set(err, rc, "counter at its maximum");
		else
			w->failed = set_err(err, rc, "writing");
		return w->failed;
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
	return writer_apply(w, LOG_REC, w->key, w->klen, w->val.data, w->val.len, outcome, err);
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
	return writer_apply(w, LOG_REC, w->key, w->klen, w->val.data, w->val.len, outcome, err);
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
	return writer_apply(w, value ? LOG_STATE_SET : LOG_STATE_DEL, w->key, w->klen, w->val.data,
			    w->val.len, NULL, NULL);
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
			rc = wtxn_end(s, w->txn, 1);
			w->txn = NULL;   /* freed by LMDB whatever the outcome */
		}
		if (rc != MDB_MAP_FULL)
			break;
		w->s->commit_recoveries++;
		rc = writer_recover(w, 1, err);
		if (rc)
			break;
	}
	if (rc == EIO)
		rc = short_write(w, err);
	else if (rc && rc != w->failed)
		rc = mc_error_set(err, xlate(rc), "committing to store %s failed, batch not kept: %s",
				  w->s->dir, rc > 0 ? strerror(rc) : mdb_strerror(rc));
	writer_release(w);
	store_trim(s, NULL, s->trim_rss);
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
 * but keeps the pages it sees alive, so end it soon: a map growth in
 * another thread of this process waits for it). Caller ends it with
 * mc_reader_end. A reader may be used by one thread at a time; if it
 * begins a writer, that thread must end its readers first or the batch
 * cannot grow the map. 0, MC_E_STORE, -ENOMEM; *ret set only on
 * success. */
int mc_reader_begin(struct mc_store *s, struct mc_reader **ret)
{
	struct mc_reader *r;
	int rc;

	if (!s || !ret)
		return MC_E_USAGE;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->s = s;
	for (int i = 0;; i++) {
		uint64_t seen = __atomic_load_n(&s->main_seen, __ATOMIC_ACQUIRE);

		rc = rtxn_begin(s, r, &r->txn);
		if (rc)
			break;
		if (i == 3 || !db_stale(s, r->txn, seen))
			break;
		/* another process created databases: open them, then begin
		 * again so that this snapshot can use them */
		rtxn_end(s, r, r->txn, 0);
		r->txn = NULL;
		rc = db_refresh(s);
		if (rc)
			break;
	}
	if (rc) {
		free(r);
		return xlate(rc);
	}
	*ret = r;
	return 0;
}

/* End the snapshot and free r. NULL is a no-op. */
void mc_reader_end(struct mc_reader *r)
{
	if (!r)
		return;
	rtxn_end(r->s, r, r->txn, 0);
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

/* ---- reads shared by readers and writers ----
 * A view is a reader's transaction, or a writer's (which a write inside a
 * callback may replace: after a growth or a new database the writer has a
 * new transaction, and walks reopen their cursor at the key they were
 * at). */
struct view {
	struct mc_store *s;
	struct mc_writer *w;       /* NULL for a reader */
	MDB_txn *txn;              /* the reader's */
};

static struct view view_reader(struct mc_reader *r)
{
	struct view v = { r->s, NULL, r->txn };

	return v;
}

static struct view view_writer(struct mc_writer *w)
{
	struct view v = { w->s, w, w->txn };

	return v;
}

/* After a callback: the writer's batch poisoned (its error), the
 * transaction replaced (1: reopen the cursor), or as before (0). */
static int view_moved(struct view *v, unsigned *epoch)
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
static void view_close(const struct view *v, MDB_cursor *c, unsigned epoch)
{
	if (c && (!v->w || (v->w->txn && v->w->epoch == epoch)))
		mdb_cursor_close(c);
}

/* Open cursor c on v's new transaction (the old one and its cursor are
 * gone) after key last: at the first key greater than last. */
static int view_reopen(struct view *v, MDB_dbi dbi, MDB_cursor **c, const void *last,
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

	set_err_rec(err, source, local_id);
	if (!source_valid(source, &slen) || !local_id || !local_id[0])
		return mc_error_set(err, MC_E_USAGE, "invalid source id or local identifier");
	if (make_key(kb, s->maxkey, source, slen, local_id, &key.mv_size))
		return mc_error_set(err, MC_E_NOTFOUND, "no such record (key too long)");
	key.mv_data = kb;
	rc = mdb_get(txn, s->dbi_records, &key, &v);
	if (rc == MDB_NOTFOUND)
		return mc_error_set(err, MC_E_NOTFOUND, "no such record");
	if (rc)
		return set_err(err, rc, "reading the record");
	rc = load_record(&key, &v, rec);
	if (rc)
		return mc_error_set(err, rc, "stored record: %s", mc_strerror(rc));
	return 0;
}

/* Load (source, local_id) into rec (reset first; strings in rec->arena, so
 * they outlive the reader; rec->source / local_id set). Tombstones load with
 * status MC_REC_DELETED and their datestamp. 0, MC_E_NOTFOUND, MC_E_CORRUPT,
 * MC_E_VERSION, MC_E_USAGE, MC_E_STORE; err names the record. */
int mc_store_get(struct mc_reader *r, const char *source, const char *local_id,
		 struct mc_record *rec, struct mc_error *err)
{
	if (!r || !rec)
		return mc_error_set(err, MC_E_USAGE, "mc_store_get: bad arguments");
	return get_in(r->s, r->txn, source, local_id, rec, err);
}

/* As mc_store_get, inside the batch (its own writes included). Also the
 * batch's error if it was poisoned. */
int mc_writer_get(struct mc_writer *w, const char *source, const char *local_id,
		  struct mc_record *rec, struct mc_error *err)
{
	int rc = writer_check(w, err);

	if (rc)
		return rc;
	if (!rec)
		return mc_error_set(err, MC_E_USAGE, "mc_writer_get: bad arguments");
	return get_in(w->s, w->txn, source, local_id, rec, err);
}

static int each_in(struct view *vw, const char *source,
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
		if (!source_valid(source, &plen))
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
		rc = set_err(err, rc, "opening a cursor");
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
				mc_error_field(err->source, sizeof(err->source), n < k.mv_size ? kd : "?");
				if (n + 1 < k.mv_size)
					snprintf(err->record_id, sizeof(err->record_id), "%.*s",
						 (int)(k.mv_size - n - 1), kd + n + 1);
			}
			rc = mc_error_set(err, rc, "stored record: %s", mc_strerror(rc));
			goto done;
		}
		llen = k.mv_size;
		if (vw->w)   /* the callback may replace the transaction */
			memcpy(last, k.mv_data, llen);
		rc = cb(ctx, rec);
		if (rc)
			goto done;
		rc = view_moved(vw, &epoch);
		if (rc < 0)
			goto done;
		if (rc) {
			rc = view_reopen(vw, vw->s->dbi_records, &c, last, llen, &k, &v);
			continue;
		}
		if (!vw->w && ++seen % 1024 == 0)
			store_trim(vw->s, vw->txn, vw->s->trim_rss);
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc == MDB_NOTFOUND || rc == 0)
		rc = 0;
	else
		rc = set_err(err, rc, "walking the records");
done:
	view_close(vw, c, epoch);
	mc_record_free(rec);
	return rc;
}

/* Every record of source (all when NULL), in key order (byte order of the
 * local ids within a source), tombstones included. rec (owned by this
 * function) is reused between calls. cb returns non-zero to stop; that value
 * is returned. 0, cb's value, MC_E_CORRUPT / MC_E_VERSION (err names the
 * record), MC_E_USAGE, MC_E_STORE, -ENOMEM. */
int mc_store_each(struct mc_reader *r, const char *source,
		  int (*cb)(void *ctx, struct mc_record *rec), void *ctx, struct mc_error *err)
{
	struct view vw;

	if (!r)
		return mc_error_set(err, MC_E_USAGE, "mc_store_each: bad arguments");
	vw = view_reader(r);
	return each_in(&vw, source, cb, ctx, err);
}

/* As mc_store_each, inside the batch. cb may write to the batch (records
 * written behind the walk's position are seen); if a write fails and
 * poisons the batch, the walk stops with that error. */
int mc_writer_each(struct mc_writer *w, const char *source,
		   int (*cb)(void *ctx, struct mc_record *rec), void *ctx, struct mc_error *err)
{
	struct view vw;
	int rc = writer_check(w, err);

	if (rc)
		return rc;
	vw = view_writer(w);
	return each_in(&vw, source, cb, ctx, err);
}

static int feed_in(struct view *vw, uint64_t after, uint64_t max,
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
		return xlate(rc);
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
			view_close(vw, c, epoch);
			return rc;
		}
		n++;
		rc = view_moved(vw, &epoch);
		if (rc < 0) {
			view_close(vw, c, epoch);
			return rc;
		}
		if (rc) {
			mc_put_be64(kb, seq);
			rc = view_reopen(vw, vw->s->dbi_feed, &c, kb, 8, &k, &v);
			if (!c)
				return xlate(rc);
			continue;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	view_close(vw, c, epoch);
	return rc == 0 || rc == MDB_NOTFOUND ? 0 : xlate(rc);
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
	struct view vw;

	if (!r)
		return MC_E_USAGE;
	vw = view_reader(r);
	return feed_in(&vw, after, max, cb, ctx);
}

/* As mc_store_feed, inside the batch: entries the batch appended are
 * included; cb may write to the batch (entries it appends are walked too). */
int mc_writer_feed(struct mc_writer *w, uint64_t after, uint64_t max,
		   int (*cb)(void *ctx, uint64_t seq, int op, const char *source,
			     const char *local_id),
		   void *ctx)
{
	struct view vw;
	int rc = writer_check(w, NULL);

	if (rc)
		return rc;
	vw = view_writer(w);
	return feed_in(&vw, after, max, cb, ctx);
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

static int state_get_in(struct mc_store *s, MDB_txn *txn, const char *scope, const char *key,
			char *buf, size_t bufsz)
{
	unsigned char kb[MC_STORE_KEY_MAX];
	MDB_val kv, v;
	int rc;

	if (!scope || !key || !buf || !bufsz)
		return MC_E_USAGE;
	if (make_key(kb, s->maxkey, scope, strlen(scope), key, &kv.mv_size))
		return MC_E_NOTFOUND;
	kv.mv_data = kb;
	rc = mdb_get(txn, s->dbi_state, &kv, &v);
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

/* Copy the state string of (scope, key) into buf (NUL-terminated).
 * 0, MC_E_NOTFOUND, MC_E_TOOBIG (buf too small), MC_E_USAGE, MC_E_STORE. */
int mc_store_state_get(struct mc_reader *r, const char *scope, const char *key,
		       char *buf, size_t bufsz)
{
	if (!r)
		return MC_E_USAGE;
	return state_get_in(r->s, r->txn, scope, key, buf, bufsz);
}

/* As mc_store_state_get, inside the batch (its own state_set included). */
int mc_writer_state_get(struct mc_writer *w, const char *scope, const char *key,
			char *buf, size_t bufsz)
{
	int rc = writer_check(w, NULL);

	if (rc)
		return rc;
	return state_get_in(w->s, w->txn, scope, key, buf, bufsz);
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
	if (!kv_name_valid(name, &nlen))
		return mc_error_set(err, MC_E_USAGE, "bad database name (want [A-Za-z0-9._-]{1,%d}, "
				    "not starting \"mc_\", not one of the store's own)", KV_NAME_MAX);
	e = db_find(s, name, nlen);
	if (!e) {
		if (!create)
			return 0;
		if (__atomic_load_n(&s->nkv, __ATOMIC_RELAXED) >= MC_STORE_MAX_KV)
			return mc_error_set(err, MC_E_USAGE, "cannot create database %s: at most %d "
					    "key/value databases", name, MC_STORE_MAX_KV);
		wtxn_end(s, w->txn, 0);
		w->txn = NULL;
		rc = db_create(s, name, nlen, err);
		rc2 = writer_recover(w, 0, rc ? NULL : err);
		if (rc2)
			return rc2;
		if (rc == MC_E_USAGE)
			return rc;
		if (rc)
			return w->failed = rc;
		e = db_find(s, name, nlen);
		if (!e)
			return w->failed = mc_error_set(err, MC_E_STORE, "database %s vanished", name);
	} else if (mdb_dbi_flags(w->txn, e->dbi, &f) != 0) {
		/* opened (by another thread) after this transaction began */
		rc = writer_recover(w, 0, err);
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
	if (!r || !kv_name_valid(name, &nlen))
		return NULL;
	*rc = MC_E_NOTFOUND;
	e = db_find(r->s, name, nlen);
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
	int rc = writer_check(w, NULL);

	if (rc)
		return rc;
	rc = kv_key_check(w->s, key, klen);
	if (rc)
		return rc;
	if (!val && vlen)
		return MC_E_USAGE;
	if (vlen > MC_STORE_VALUE_MAX)
		return MC_E_TOOBIG;
	rc = writer_db(w, db, 1, &e, NULL);
	if (rc)
		return rc;
	kv_log_key(w, e, key, klen);
	return writer_apply(w, type, w->key, w->klen, val, vlen, NULL, NULL);
}

/* Store (key, val) in kv database db (created on first use), replacing
 * any value. key 1..511 bytes, val up to 16 MiB (val may be NULL when
 * vlen is 0); both copied. 0, MC_E_USAGE (bad name or key, too many
 * databases), MC_E_TOOBIG, or an error that poisons the batch. */
int mc_writer_kv_put(struct mc_writer *w, const char *db, const void *key, size_t klen,
		     const void *val, size_t vlen)
{
	return kv_write(w, LOG_KV_PUT, db, key, klen, val, vlen);
}

/* As mc_writer_kv_put for a key greater than every key of db: LMDB appends
 * it to the last page and fills pages completely (a database written in key
 * order takes about half the pages of one filled at random). A key out of
 * order: MC_E_USAGE, and the batch is poisoned. */
int mc_writer_kv_append(struct mc_writer *w, const char *db, const void *key, size_t klen,
			const void *val, size_t vlen)
{
	return kv_write(w, LOG_KV_APPEND, db, key, klen, val, vlen);
}

/* Inside a long batch that reads much of the store (the merge stage), give
 * back the map's pages when the file-backed RSS passes max_rss (0: the
 * store's threshold, as after commits). Pointers from earlier reads and open
 * cursors stay valid: the pages refault from the page cache. */
void mc_writer_trim(struct mc_writer *w, uint64_t max_rss)
{
	if (!w || !w->txn || w->failed)
		return;
	if (!max_rss || max_rss > w->s->trim_rss)
		max_rss = w->s->trim_rss;
	store_trim(w->s, w->txn, max_rss);
}

/* Number of pairs in kv database db as the batch sees it (0 when it does
 * not exist). 0 or an error. */
int mc_writer_kv_count(struct mc_writer *w, const char *db, uint64_t *ret)
{
	const struct db_ent *e;
	MDB_stat st;
	int rc = writer_check(w, NULL);

	*ret = 0;
	if (rc)
		return rc;
	rc = writer_db(w, db, 0, &e, NULL);
	if (rc || !e)
		return rc;
	rc = mdb_stat(w->txn, e->dbi, &st);
	if (rc)
		return set_err(NULL, rc, "counting");
	*ret = st.ms_entries;
	return 0;
}

/* The existing kv database db of a batch, for a read or delete of key: 0
 * with *e set, MC_E_NOTFOUND (no such database, or a key too long to have
 * been stored), or an error. */
static int writer_kv_existing(struct mc_writer *w, const char *db, const void *key,
			      size_t klen, const struct db_ent **e)
{
	int rc = writer_check(w, NULL);

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

/* Delete key from kv database db. 0, MC_E_NOTFOUND (no such key or
 * database: nothing written), MC_E_USAGE, MC_E_TOOBIG, or an error that
 * poisons the batch. */
int mc_writer_kv_del(struct mc_writer *w, const char *db, const void *key, size_t klen)
{
	const struct db_ent *e;
	int oc = KV_ABSENT, rc = writer_kv_existing(w, db, key, klen, &e);

	if (rc)
		return rc;
	kv_log_key(w, e, key, klen);
	rc = writer_apply(w, LOG_KV_DEL, w->key, w->klen, NULL, 0, &oc, NULL);
	if (rc)
		return rc;
	return oc == KV_ABSENT ? MC_E_NOTFOUND : 0;
}

/* The value of key in kv database db as the batch sees it. *val borrowed
 * until the batch's next write, commit or abort. 0, MC_E_NOTFOUND,
 * MC_E_USAGE, MC_E_STORE. */
int mc_writer_kv_get(struct mc_writer *w, const char *db, const void *key, size_t klen,
		     const void **val, size_t *vlen)
{
	const struct db_ent *e;
	MDB_val k = { klen, (void *)key }, v;
	int rc = writer_check(w, NULL);

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
		return xlate(rc);
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 0;
}

/* The value of key in kv database db in the reader's snapshot. *val
 * borrowed until mc_reader_end. 0, MC_E_NOTFOUND (no such key, or no such
 * database in the snapshot), MC_E_USAGE, MC_E_STORE. */
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
		return xlate(rc);
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 0;
}

static int kv_each_in(struct view *vw, MDB_dbi dbi, const void *prefix, size_t plen,
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
		return xlate(rc);
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
			view_close(vw, c, epoch);
			return rc;
		}
		rc = view_moved(vw, &epoch);
		if (rc < 0)
			break;
		if (rc) {
			rc = view_reopen(vw, dbi, &c, last, llen, &k, &v);
			continue;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	view_close(vw, c, epoch);
	if (rc == 0 || rc == MDB_NOTFOUND)
		return 0;
	return rc < 0 && rc > MC_E_BASE ? rc : xlate(rc);
}

/* Every pair of kv database db whose key starts with prefix (plen 0:
 * all), in key order, as the batch sees it; see mc-store.h. cb may write
 * to other databases of the batch. 0 (also for a database that does not
 * exist), cb's value, MC_E_USAGE, MC_E_CORRUPT, MC_E_STORE. */
int mc_writer_kv_each(struct mc_writer *w, const char *db, const void *prefix, size_t plen,
		      mc_kv_cb cb, void *ctx)
{
	const struct db_ent *e;
	struct view vw;
	int rc = writer_check(w, NULL);

	if (rc)
		return rc;
	rc = writer_db(w, db, 0, &e, NULL);
	if (rc || !e)
		return rc;
	vw = view_writer(w);
	return kv_each_in(&vw, e->dbi, prefix, plen, cb, ctx);
}

/* As mc_writer_kv_each, in the reader's snapshot. */
int mc_reader_kv_each(struct mc_reader *r, const char *db, const void *prefix, size_t plen,
		      mc_kv_cb cb, void *ctx)
{
	const struct db_ent *e;
	struct view vw;
	int rc;

	e = reader_db(r, db, &rc);
	if (!e)
		return rc == MC_E_NOTFOUND ? 0 : rc;
	vw = view_reader(r);
	return kv_each_in(&vw, e->dbi, prefix, plen, cb, ctx);
}

/* Next value (1, 2, ...) of the counter name (1..255 bytes), kept in the
 * meta database under "seq:" name; written in the batch (an aborted batch
 * gives its numbers again). 0 and *ret, MC_E_USAGE, MC_E_TOOBIG (counter
 * exhausted), or an error that poisons the batch. */
int mc_writer_seq_next(struct mc_writer *w, const char *name, uint64_t *ret)
{
	static const unsigned char zero[8];
	size_t n, mark, klen;
	int rc = writer_check(w, NULL);

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
	rc = writer_apply(w, LOG_SEQ, w->key, klen, zero, 8, NULL, NULL);
	if (rc)
		return rc;
	*ret = mc_get_le64((unsigned char *)w->log.data + mark + LOG_HDR + klen);
	return 0;
}

/* Remove every pair of kv database db (the database stays). 0 (also for a
 * database that does not exist), MC_E_USAGE, or an error that poisons the
 * batch. */
int mc_writer_kv_clear(struct mc_writer *w, const char *db)
{
	const struct db_ent *e;
	int rc = writer_check(w, NULL);

	if (rc)
		return rc;
	rc = writer_db(w, db, 0, &e, NULL);
	if (rc || !e)
		return rc;
	kv_log_key(w, e, NULL, 0);
	return writer_apply(w, LOG_KV_CLEAR, w->key, w->klen, NULL, 0, NULL, NULL);
}

/* ---- support for `mucluc check` (core/store-check.c) ---- */

/* Set the cached counts of a source (kept through a replay: logged). */
static int apply_counts(struct mc_writer *w, const unsigned char *key, size_t klen,
			const unsigned char *val, size_t vlen)
{
	struct counts_ent *e;
	int rc;

	if (vlen != 16)
		return MC_E_CORRUPT;
	rc = counts_get(w, (const char *)key, klen, &e);
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
	int rc = writer_check(w, NULL);

	if (rc)
		return rc;
	if (!source_valid(source, &slen))
		return MC_E_USAGE;
	rc = counts_get(w, source, slen, &e);
	if (rc)
		return w->failed = xlate(rc);
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
	rc = writer_apply(w, LOG_COUNTS, source, slen, v, 16, NULL, NULL);
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
		return xlate(rc);
	if (v.mv_size != 8)
		return MC_E_CORRUPT;
	*ret = mc_get_le64(v.mv_data);
	return 0;
}

void mc_reader_trim(struct mc_reader *r, uint64_t max_rss)
{
	if (r)
		store_trim(r->s, r->txn, max_rss ? max_rss : r->s->trim_rss);
}
