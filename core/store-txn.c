/* store-txn.c — the store's transactions and map size changes: the error
 * helpers every store file uses, counted read and write transactions,
 * growing the map (and adopting a size another process chose), and the
 * cross-process write lock that keeps a growth safe. See schemas/lmdb.md
 * ("Several threads and processes", "The writer, map growth and
 * failures").
 *
 * Growing the map is only allowed while no other transaction is open in
 * this process (mdb_env_set_mapsize): a growth waits for the read
 * transactions of other threads to end (up to MC_STORE_GROW_WAIT_MS, then
 * MC_E_FULL) while new ones wait for it; a reader held by the growing
 * thread itself fails the batch with MC_E_FULL at once. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "mc-limits.h"
#include "mc-config.h"
#include "mc-store.h"
#include "store-internal.h"

/* ---- helpers ---- */

/* Translate an LMDB or system error into a project code. */
int mci_store_xlate(int rc)
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

/* LMDB's mci_store_reason for rc ("MDB_MAP_FULL: Environment mapsize limit
 * reached"), the system's for an errno value, ours for a project code. */
const char *mci_store_reason(int rc)
{
	if (rc > MC_E_BASE && rc < MC_E_LAST)
		return mc_strerror(rc);
	if (rc < 0 && rc > -4096)
		return strerror(-rc);
	return mdb_strerror(rc);
}

int mci_store_set_err(struct mc_error *err, int rc, const char *what)
{
	return mc_error_set(err, mci_store_xlate(rc), "%s: %s", what, mci_store_reason(rc));
}

/* The name of database dbi, for messages. */
const char *mci_store_db_label(struct mc_store *s, MDB_dbi dbi)
{
	unsigned n = __atomic_load_n(&s->ndb, __ATOMIC_ACQUIRE);

	if (dbi == s->dbi_main)
		return "the main database";
	for (unsigned i = 0; i < n; i++)
		if (s->db[i].dbi == dbi)
			return s->db[i].name;
	return "a named database";
}

void mci_store_set_err_rec(struct mc_error *err, const char *source, const char *id)
{
	if (!err)
		return;
	mc_error_field(err->source, sizeof(err->source), source);
	mc_error_field(err->record_id, sizeof(err->record_id), id);
}

/* The source id rule is the config's (mc_source_id_valid); *lenp its length. */
int mci_store_source_valid(const char *s, size_t *lenp)
{
	if (!s || !mc_source_id_valid(s))
		return 0;
	*lenp = strlen(s);
	return 1;
}

/* kb = a "\0" b (no terminator); kb holds MC_STORE_KEY_MAX bytes.
 * 0 or MC_E_TOOBIG. */
int mci_store_make_key(unsigned char *kb, size_t maxkey, const char *a, size_t alen, const char *b,
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

int mci_store_record_key(struct mc_store *s, unsigned char *kb, size_t *klen, const char *source,
			 const char *local_id, struct mc_error *err)
{
	size_t slen;

	if (!mci_store_source_valid(source, &slen))
		return mc_error_set(err, MC_E_USAGE,
				    "invalid source id (want [A-Za-z0-9._-]{1,%d})",
				    MC_MAX_SOURCE_ID);
	if (!local_id || !local_id[0])
		return mc_error_set(err, MC_E_USAGE, "record without a local identifier");
	if (mci_store_make_key(kb, s->maxkey, source, slen, local_id, klen))
		return mc_error_set(err, MC_E_TOOBIG,
				    "source id + local identifier longer than %zu bytes",
				    s->maxkey - 1);
	return 0;
}

/* Begin a transaction while the store is being opened (no other thread
 * uses it yet), adopting a map grown by another process. */
int mci_store_txn_begin(struct mc_store *s, unsigned flags, MDB_txn **txn)
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
 * transaction after open is therefore begun through mci_store_rtxn_begin/mci_store_wtxn_begin,
 * which count it and wait while a size change is pending; a size change
 * (mci_store_resize) waits, up to grow_wait_ms, for the counted transactions
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
 * lock, the cross-process one included, and has no transaction open) or
 * take the size another process recorded (adopt = 1; self_reader = the
 * caller is counted in readers and has no transaction open; *epoch: the
 * map_epoch the caller's failed mdb_txn_begin ran under — if the map has
 * changed since, another thread adopted already and nothing is done).
 * Waits for this process's transactions to end: mdb_env_set_mapsize
 * remaps this process's view only, so other processes' readers do not
 * matter (each adopts the new size when its next transaction begins).
 * 0, MC_E_FULL (a transaction stayed open, or the map is at its maximum),
 * or an LMDB error translated; err filled in. */
int mci_store_resize(struct mc_store *s, int adopt, int self_reader, unsigned *epoch,
		     struct mc_error *err)
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
	if (adopt && epoch && *epoch != s->map_epoch) {
		*epoch = s->map_epoch;   /* adopted meanwhile: the caller tries again */
		goto out;
	}
	mdb_env_info(s->env, &info);
	cur = info.me_mapsize;
	if (thread_holds_txn(s, 1)) {
		if (adopt)
			rc = mc_error_set(err, MC_E_FULL,
				"another process grew the store's map past this process's "
				"%llu MiB; it cannot be adopted while this thread holds a read "
				"transaction",
				(unsigned long long)(cur >> 20));
		else
			rc = mc_error_set(err, MC_E_FULL,
				"store map full (%llu MiB) and cannot grow while this thread "
				"holds a read transaction; nothing of the batch was kept",
				(unsigned long long)(cur >> 20));
		goto out;
	}
	if (!adopt) {
		want = cur * 2;
		if (want > MC_STORE_MAP_MAX || want > SIZE_MAX) {
			rc = mc_error_set(err, MC_E_FULL,
					  "store map full at its maximum size (%llu MiB)",
					  (unsigned long long)(cur >> 20));
			goto out;
		}
	}
	s->growing = 1;
	deadline_after(&until, s->grow_wait_ms);
	while ((s->readers || s->wtxn) && !timed_out)
		timed_out = pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT;
	if ((s->readers || s->wtxn) && adopt) {
		rc = mc_error_set(err, MC_E_FULL,
			"another process grew the store's map past this process's %llu MiB; "
			"it cannot be adopted while a transaction is open in this process "
			"(waited %u ms)",
			(unsigned long long)(cur >> 20), s->grow_wait_ms);
	} else if (s->readers || s->wtxn) {
		rc = mc_error_set(err, MC_E_FULL,
			"store map full (%llu MiB) and cannot grow while a read transaction is "
			"open in this process (waited %u ms); nothing of the batch was kept",
			(unsigned long long)(cur >> 20), s->grow_wait_ms);
	} else {
		rc = mdb_env_set_mapsize(s->env, (size_t)want);
		s->map_epoch++;
		if (epoch)
			*epoch = s->map_epoch;
		if (rc && adopt)
			rc = mc_error_set(err, mci_store_xlate(rc),
					  "mdb_env_set_mapsize (adopting the size "
					  "another process set): %s",
					  mci_store_reason(rc));
		else if (rc)
			rc = mc_error_set(err, mci_store_xlate(rc),
					  "mdb_env_set_mapsize (growing the map to "
					  "%llu MiB): %s",
					  (unsigned long long)(want >> 20), mci_store_reason(rc));
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
 * reader list. LMDB code or project code; err (may be NULL) says what
 * failed. */
int mci_store_rtxn_begin(struct mc_store *s, struct mc_reader *r, MDB_txn **txn,
			 struct mc_error *err)
{
	unsigned epoch;
	int rc, checked = 0;

	pthread_mutex_lock(&s->mu);
	/* a thread that holds a reader or the write transaction must not wait
	 * for the size change that waits for it */
	while (s->growing && !thread_holds_txn(s, 1))
		pthread_cond_wait(&s->cv, &s->mu);
	s->readers++;
	epoch = s->map_epoch;
	pthread_mutex_unlock(&s->mu);
	for (int i = 0;; i++) {
		rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
		if (rc == MDB_READERS_FULL && !checked) {
			int dead = 0;

			/* slots still held by processes that died (kill -9) */
			checked = 1;
			if (mdb_reader_check(s->env, &dead) == 0 && dead > 0)
				continue;
		}
		if (rc != MDB_MAP_RESIZED || i == 8)
			break;
		/* another process grew the map and wrote past this process's
		 * view of it */
		rc = mci_store_resize(s, 1, 1, &epoch, err);
		if (rc)
			break;
	}
	if (rc == MDB_READERS_FULL)
		mc_error_set(err, MC_E_STORE, "mdb_txn_begin (read-only): %s (every one of the "
			     "%d reader slots is held by a live process)", mci_store_reason(rc),
			     MC_STORE_MAX_READERS);
	else if (rc && (rc < MC_E_BASE || rc >= MC_E_LAST))
		mci_store_set_err(err, rc, "mdb_txn_begin (read-only)");
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

/* End a transaction begun with mci_store_rtxn_begin (commit = keep the database
 * handles it opened). */
int mci_store_rtxn_end(struct mc_store *s, struct mc_reader *r, MDB_txn *txn, int commit)
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

/* Begin a write transaction (the caller holds the write lock). LMDB or
 * project code; err (may be NULL) filled in for a project code. */
int mci_store_wtxn_begin(struct mc_store *s, MDB_txn **txn, struct mc_error *err)
{
	unsigned epoch;
	int rc;

	for (int i = 0;; i++) {
		pthread_mutex_lock(&s->mu);
		while (s->growing)
			pthread_cond_wait(&s->cv, &s->mu);
		s->wtxn = 1;
		epoch = s->map_epoch;
		pthread_mutex_unlock(&s->mu);
		rc = mdb_txn_begin(s->env, NULL, 0, txn);
		if (rc) {
			pthread_mutex_lock(&s->mu);
			s->wtxn = 0;
			pthread_cond_broadcast(&s->cv);
			pthread_mutex_unlock(&s->mu);
		}
		if (rc != MDB_MAP_RESIZED || i == 8)
			break;
		rc = mci_store_resize(s, 1, 0, &epoch, err);
		if (rc)
			break;
	}
	return rc;
}

/* ---- the cross-process write lock ----
 * LMDB's own write lock is held only while a write transaction is open,
 * and a map growth must end the transaction (mdb_env_set_mapsize wants
 * none open in the process). Without a lock of its own, another process
 * could commit between the abort and the replay, and the replay would
 * find a different store (a counter moved, a key gone): the batch failed.
 * So a batch also holds flock(LOCK_EX) on <dir>/writer.lock from begin to
 * commit or abort, taken after the process-wide wmu and before LMDB's
 * lock (always in that order); the kernel drops it when a process dies. */

int mci_store_lock_take(struct mc_store *s, struct mc_error *err)
{
	while (flock(s->lock_fd, LOCK_EX) != 0)
		if (errno != EINTR)
			return mc_error_set(err, -errno, "flock on %s/writer.lock: %s", s->dir,
					    strerror(errno));
	return 0;
}

void mci_store_lock_drop(struct mc_store *s)
{
	flock(s->lock_fd, LOCK_UN);
}

/* Commit (commit = 1) or abort a transaction of mci_store_wtxn_begin. LMDB code. */
int mci_store_wtxn_end(struct mc_store *s, MDB_txn *txn, int commit)
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

unsigned mci_store_grow_count(const struct mc_store *s, int at_commit)
{
	return at_commit ? s->commit_recoveries : s->grows;
}

void mci_store_set_grow_wait(struct mc_store *s, unsigned ms)
{
	pthread_mutex_lock(&s->mu);
	s->grow_wait_ms = ms;
	pthread_mutex_unlock(&s->mu);
}

void mci_store_set_grow_hook(struct mc_store *s, void (*fn)(void *ctx), void *ctx)
{
	s->grow_hook = fn;
	s->grow_ctx = ctx;
}
