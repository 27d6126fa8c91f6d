/* mc-store.h — the LMDB store: source records, sources, a change feed.
 *
 * One LMDB environment under <data_dir>/store. Every put that changes a
 * record, and every delete, appends (sequence -> record key) to the change
 * feed; later stages (merger, indexer, OAI provider) read the feed from
 * their own saved cursor. Values use a versioned, portable encoding
 * (pack.c), never raw structs. The map grows by itself. Any number of
 * processes may have one store open at once. See schemas/lmdb.md.
 *
 * Errors: a call that takes a struct mc_error * fills it on failure with
 * the operation, the database and LMDB's reason ("mdb_put into mg_key:
 * MDB_MAP_FULL: Environment mapsize limit reached"); for calls without
 * one, mc_writer_errmsg / mc_reader_errmsg give the same text. err may
 * always be NULL. */
#ifndef MC_STORE_H
#define MC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "mc-error.h"
#include "mc-record.h"

struct mc_store;
struct mc_writer;
struct mc_reader;

enum mc_store_flags {
	MC_STORE_CREATE = 1,   /* create the environment if missing (`mucluc init`) */
	MC_STORE_RDONLY = 2,
};

/* Open (or create, with MC_STORE_CREATE) the store in directory dir (its
 * parent must exist; dir is created 0700). A new environment gets a 64 MiB
 * map that doubles whenever it fills. Open a store at most once per
 * process (an LMDB rule: closing a second handle would drop the first
 * one's locks) and share the handle between threads. Reader slots of
 * processes that died are reclaimed here. Caller closes with
 * mc_store_close. 0, MC_E_NOTFOUND (no store and no MC_STORE_CREATE),
 * MC_E_VERSION, MC_E_CORRUPT, MC_E_STORE, MC_E_USAGE, -errno; *ret set
 * only on success; err filled in on failure. */
int mc_store_open(const char *dir, unsigned flags, struct mc_store **ret, struct mc_error *err);
/* Close the store. Every reader and writer must have ended. NULL is a no-op. */
void mc_store_close(struct mc_store *s);

/* ---- writing: one batch = one LMDB write transaction ----
 * Batches may be begun from several threads of one process (harvesting
 * sources in parallel) and from several processes on one store (imports,
 * a harvest, a merge at once): they run one at a time, in the order they
 * get the store's write locks (a mutex for the threads, flock on
 * <store>/writer.lock for the processes, then LMDB's own), and a map
 * growth never races another batch, in this process or another.
 * The writer keeps a log of its operations so that when the map is full it
 * can abort, grow the map and replay them transparently. Only one writer
 * exists at a time; hold one for at most a few thousand records (every
 * other writer of every process waits for it).
 *
 * Errors that leave the transaction untouched (MC_E_USAGE for a bad
 * argument, MC_E_TOOBIG for an over-long key or value, MC_E_NOTFOUND) keep
 * the batch usable; any other error poisons it: later calls and the commit
 * return that error (mc_writer_errmsg: "an earlier error ended this
 * batch: ...") and the caller aborts. */

enum mc_put_outcome {
	MC_PUT_UNCHANGED = 0,  /* identical content already stored: nothing written */
	MC_PUT_NEW = 1,
	MC_PUT_CHANGED = 2,
	MC_PUT_DELETED = 3,    /* a present record became deleted */
	MC_PUT_ABSENT = 4,     /* delete of a record never stored or already deleted */
};

/* Begin a batch. Takes the store's write locks: a batch of another thread
 * of this process is waited for, and so is another process's. One batch
 * per thread: a thread that holds a writer gets MC_E_USAGE. A batch must
 * be committed or aborted by the thread that began it, which should hold
 * no reader (else a map growth of this batch fails with MC_E_FULL).
 * Caller ends it with mc_writer_commit or mc_writer_abort. 0, MC_E_USAGE
 * (read-only store, or this thread already has a writer), MC_E_FULL,
 * MC_E_STORE, -errno; *ret set only on success. */
int mc_writer_begin(struct mc_store *s, struct mc_writer **ret, struct mc_error *err);
/* Store rec (present or deleted) under (rec->source, rec->local_id).
 * Content equal to what is stored (metadata and status; the datestamp alone
 * does not count) writes nothing and appends no feed entry. A record with
 * status MC_REC_DELETED is stored as a tombstone (its metadata is not kept)
 * exactly as mc_writer_delete would; a present record over a tombstone is
 * MC_PUT_NEW. *outcome may be NULL. rec is only read. 0, MC_E_USAGE (bad
 * source id, no local id), MC_E_TOOBIG (key over 511 bytes, packed value
 * over 16 MiB, the batch's log full: commit more often), or an error that
 * poisons the batch; err names the record. */
int mc_writer_put(struct mc_writer *w, const struct mc_record *rec, int *outcome,
		  struct mc_error *err);
/* The same with the value already encoded by mc_record_pack or
 * mc_record_pack_deleted (so packing can run on another thread). val is
 * copied. Outcomes and errors as mc_writer_put. */
int mc_writer_put_packed(struct mc_writer *w, const char *source, const char *local_id,
			 const void *val, size_t len, int *outcome, struct mc_error *err);
/* Mark a record deleted, keeping a tombstone with datestamp. Outcome
 * MC_PUT_DELETED, or MC_PUT_ABSENT (never stored or already deleted:
 * nothing written). Errors as mc_writer_put. */
int mc_writer_delete(struct mc_writer *w, const char *source, const char *local_id,
		     int64_t datestamp, int *outcome, struct mc_error *err);
/* Per-source and per-consumer state, small strings (harvest state,
 * cursors): set (value non-NULL) or delete (value NULL) the string under
 * (scope, key); neither may be empty, together at most 510 bytes; value at
 * most 64 KiB. All three are copied. 0, MC_E_USAGE, MC_E_TOOBIG, or an
 * error that poisons the batch. */
int mc_writer_state_set(struct mc_writer *w, const char *scope, const char *key,
			const char *value);
/* Make the batch durable (LMDB syncs data and meta page; per-source
 * counts and write generations are written here; a full map is grown and
 * the batch replayed) and free w in every case. 0; MC_E_FULL (disk full,
 * file size limit, or a map that cannot grow), MC_E_STORE (I/O error), or
 * the error that poisoned the batch: nothing of the batch is stored and
 * the store is as it was; err says what happened. */
int mc_writer_commit(struct mc_writer *w, struct mc_error *err);
/* Drop the batch (nothing of it is stored) and free w. NULL is a no-op. */
void mc_writer_abort(struct mc_writer *w);

/* What the last failed call on w was doing, on which database, and why
 * ("mdb_del from mg_key: MDB_CORRUPTED: ..."); after a call that poisoned
 * the batch, what poisoned it. "" before any failure. Borrowed: valid
 * until the next call on w (do not free). Never NULL. */
const char *mc_writer_errmsg(const struct mc_writer *w);

/* Reads inside a batch (they see the batch's own writes). Later stages
 * (merger, indexer) read the feed and records and write their own data in
 * one transaction, so a crash never separates the two. Same semantics and
 * return codes as the reader functions below, plus the
 * batch's error if it was poisoned. mc_writer_feed: entries the batch
 * appended are included, and cb may write to the batch (entries it appends
 * are walked too). mc_writer_each: cb may write to the batch (records
 * written behind the walk's position are seen); if a write fails and
 * poisons the batch, the walk stops with that error. */
int mc_writer_get(struct mc_writer *w, const char *source, const char *local_id,
		  struct mc_record *rec, struct mc_error *err);
int mc_writer_feed(struct mc_writer *w, uint64_t after, uint64_t max,
		   int (*cb)(void *ctx, uint64_t seq, int op, const char *source,
			     const char *local_id),
		   void *ctx);
int mc_writer_each(struct mc_writer *w, const char *source,
		   int (*cb)(void *ctx, struct mc_record *rec), void *ctx, struct mc_error *err);
/* 0 and the value copied into buf, MC_E_NOTFOUND, MC_E_TOOBIG. */
int mc_writer_state_get(struct mc_writer *w, const char *scope, const char *key,
			char *buf, size_t bufsz);

/* ---- write generations ----
 * The store counts the committed batches that wrote anything: the store
 * generation, kept in the store's meta database (so every process sees
 * the same counter), 0 for a new store. Bumped by 1 by mc_writer_commit of
 * every batch that put, changed or deleted a record, set or deleted state,
 * wrote, deleted or cleared kv pairs, or stepped a counter (a batch whose
 * calls all wrote nothing — unchanged puts, deletes of absent keys —
 * leaves it; a state delete of a missing key or a clear of an empty
 * database still counts). Never bumped otherwise, never decreases.
 * What it proves: two reads that give the same generation saw the same
 * committed store; a writer that knows the generation its last commit
 * left and sees another at its next batch knows another batch (another
 * thread or process) committed writes in between. A generation per kv
 * database does the same for writes into that one database (bumped once
 * per committed batch that wrote into it, whoever wrote).
 *
 * The writer's value is what the store will have when the batch commits:
 * the committed generation of its snapshot, plus 1 once the batch has
 * written anything. So a bulk writer that saw g at the end of batch k
 * (just before committing it) sees g again at the start of batch k+1 if
 * and only if nobody else committed writes in between.
 * 0 and *ret, MC_E_USAGE, MC_E_CORRUPT, MC_E_STORE (or the batch's error). */
int mc_writer_generation(struct mc_writer *w, uint64_t *ret);
/* The same for kv database db (0 when it does not exist or was never
 * written); MC_E_USAGE for a bad name. */
int mc_writer_kv_generation(struct mc_writer *w, const char *db, uint64_t *ret);
/* The committed generations in the reader's snapshot. */
int mc_reader_generation(struct mc_reader *r, uint64_t *ret);
int mc_reader_kv_generation(struct mc_reader *r, const char *db, uint64_t *ret);

/* ---- named key/value databases for later stages ----
 * A stage keeps its own data (union records, match keys, its feed) in named
 * databases of the same environment, opened by name on first use ("mg_union",
 * "mg_keys", ...; names are [A-Za-z0-9._-]{1,63}, and names starting "mc_" and
 * the store's own are refused with MC_E_USAGE; at most MC_STORE_MAX_KV of
 * them). Keys are 1..511 bytes, compared as bytes (memcmp order); values up to
 * 16 MiB. Writes go through the batch's operation log, so map growth replays
 * them like record puts. Keys and values passed in are copied.
 * Borrowed values (*val) are valid until the next write in the same batch,
 * its commit or abort (writer), or mc_reader_end (reader). */
#define MC_STORE_MAX_KV 16

/* Store (key, val) in kv database db (created on first use, in a short
 * transaction of its own that stays even if the batch is aborted),
 * replacing any value. val may be NULL when vlen is 0. 0, MC_E_USAGE (bad
 * name or key, too many databases: the batch stays usable), MC_E_TOOBIG,
 * or an error that poisons the batch. */
int mc_writer_kv_put(struct mc_writer *w, const char *db, const void *key, size_t klen,
		     const void *val, size_t vlen);
/* The same for a key greater than every key of db (bulk loads in key
 * order: LMDB fills pages completely, about half the pages of a database
 * filled at random). Out of order: MC_E_USAGE, batch poisoned. */
int mc_writer_kv_append(struct mc_writer *w, const char *db, const void *key, size_t klen,
			const void *val, size_t vlen);
/* Delete key from db. 0, MC_E_NOTFOUND (no such key or database: nothing
 * written), MC_E_USAGE, or an error that poisons the batch. */
int mc_writer_kv_del(struct mc_writer *w, const char *db, const void *key, size_t klen);
/* The value of key in db, as the batch sees it (writer) or in the
 * snapshot (reader). *val borrowed as said above. 0, MC_E_NOTFOUND (no such
 * key, or no such database), MC_E_USAGE, MC_E_STORE. */
int mc_writer_kv_get(struct mc_writer *w, const char *db, const void *key, size_t klen,
		     const void **val, size_t *vlen);
int mc_reader_kv_get(struct mc_reader *r, const char *db, const void *key, size_t klen,
		     const void **val, size_t *vlen);
/* Every pair whose key starts with prefix (plen 0: all), in key order; cb
 * returns non-zero to stop (that value is returned). Pointers borrowed for
 * the call. In a writer, cb may write to other databases of the batch, not
 * to the same one. 0 (also for a database that does not exist), cb's
 * value, MC_E_USAGE, MC_E_CORRUPT, MC_E_STORE. */
typedef int (*mc_kv_cb)(void *ctx, const void *key, size_t klen, const void *val, size_t vlen);
int mc_writer_kv_each(struct mc_writer *w, const char *db, const void *prefix, size_t plen,
		      mc_kv_cb cb, void *ctx);
int mc_reader_kv_each(struct mc_reader *r, const char *db, const void *prefix, size_t plen,
		      mc_kv_cb cb, void *ctx);
/* Next value (1, 2, ...) of a named 64-bit counter (name 1..255 bytes),
 * kept in the batch (union ids, a stage's own feed sequence; an aborted
 * batch gives its numbers again). 0 and *ret, MC_E_USAGE, MC_E_TOOBIG
 * (counter exhausted), or an error that poisons the batch. */
int mc_writer_seq_next(struct mc_writer *w, const char *name, uint64_t *ret);
/* A long batch that reads much of the store calls this now and then: past
 * max_rss bytes of file-backed RSS (0: the store's threshold, 96 MiB), the
 * map's pages are given back (madvise), as after each commit. Pointers and
 * open cursors stay valid (the pages refault from the page cache). */
void mc_writer_trim(struct mc_writer *w, uint64_t max_rss);
/* Pairs in a named database as the batch sees it (0: no such database).
 * 0 or an error. */
int mc_writer_kv_count(struct mc_writer *w, const char *db, uint64_t *ret);
/* Drop every pair of a named database (for rebuilds; the database stays).
 * 0 (also for a database that does not exist), MC_E_USAGE, or an error
 * that poisons the batch. */
int mc_writer_kv_clear(struct mc_writer *w, const char *db);

/* ---- reading: a read snapshot ---- */

/* Begin a read snapshot (an LMDB read transaction). It never waits for a
 * writer of this or another process; it waits only while this process
 * changes its map size (a growth, or adopting the size another process
 * grew the map to), which waits for this process's open transactions. It
 * keeps the pages it sees alive: end it soon. A reader may be used by one
 * thread at a time. Caller ends it with mc_reader_end. 0, MC_E_USAGE,
 * MC_E_FULL (the new map size could not be adopted: this thread holds
 * another reader), MC_E_STORE (e.g. every reader slot held by live
 * processes), -ENOMEM; *ret set only on success, else
 * mc_reader_errmsg(NULL) says why. */
int mc_reader_begin(struct mc_store *s, struct mc_reader **ret);
/* End the snapshot and free r. NULL is a no-op. */
void mc_reader_end(struct mc_reader *r);
/* As mc_writer_errmsg, for the last failed call on r; r NULL: why the
 * calling thread's last mc_reader_begin failed. Borrowed until the next
 * call on r (or mc_reader_begin in this thread). Never NULL. */
const char *mc_reader_errmsg(const struct mc_reader *r);

/* Load a record into rec (reset first; strings in rec->arena, so they
 * outlive the reader; rec->source / local_id set). Tombstones load with
 * status MC_REC_DELETED and their datestamp. 0, MC_E_NOTFOUND,
 * MC_E_CORRUPT, MC_E_VERSION, MC_E_USAGE, MC_E_STORE; err names the
 * record. */
int mc_reader_get(struct mc_reader *r, const char *source, const char *local_id,
		 struct mc_record *rec, struct mc_error *err);

/* Call cb for every record of source (all sources when NULL), in key order
 * (byte order of the local ids within a source), deleted ones included
 * (check rec->status). rec is owned by this function and reused between
 * calls. cb returns non-zero to stop; that value is returned. 0, cb's
 * value, MC_E_CORRUPT / MC_E_VERSION (err names the record), MC_E_USAGE,
 * MC_E_STORE, -ENOMEM. */
int mc_reader_each(struct mc_reader *r, const char *source,
		  int (*cb)(void *ctx, struct mc_record *rec), void *ctx, struct mc_error *err);

/* The change feed. Entries after seq `after`, at most max (0 = all), in order.
 * op is MC_PUT_NEW / MC_PUT_CHANGED / MC_PUT_DELETED. source and local_id
 * are NUL-terminated copies borrowed for the duration of the call. cb
 * returns non-zero to stop; that value is returned. 0, cb's value,
 * MC_E_CORRUPT, MC_E_STORE. */
int mc_reader_feed(struct mc_reader *r, uint64_t after, uint64_t max,
		  int (*cb)(void *ctx, uint64_t seq, int op, const char *source,
			    const char *local_id),
		  void *ctx);
/* Sequence number of the newest feed entry in the snapshot (0 when empty
 * or unreadable). */
uint64_t mc_reader_feed_last(struct mc_reader *r);

/* State written with mc_writer_state_set; copied into buf (NUL-terminated).
 * 0, MC_E_NOTFOUND, MC_E_TOOBIG (buf too small), MC_E_USAGE, MC_E_STORE. */
int mc_reader_state_get(struct mc_reader *r, const char *scope, const char *key,
		       char *buf, size_t bufsz);

/* Per-source counts, kept up to date by every put/delete. */
struct mc_source_counts {
	char source[64];
	uint64_t present;
	uint64_t deleted;
	int64_t last_change;   /* time of the newest change, seconds since the epoch */
};
/* Call cb for every source that has records, in id order; c is borrowed
 * for the call. cb returns non-zero to stop; that value is returned. 0,
 * cb's value, MC_E_CORRUPT, MC_E_VERSION, MC_E_STORE. */
int mc_reader_sources(struct mc_reader *r,
		     int (*cb)(void *ctx, const struct mc_source_counts *c), void *ctx);

/* Environment figures for `mucluc stats`. */
struct mc_store_info {
	uint64_t map_size;      /* bytes (this process's view of the map) */
	uint64_t used_bytes;    /* pages in use * page size */
	uint64_t records;       /* entries in the records database */
	uint64_t feed_entries;
	int64_t created;        /* meta `created`: when `mucluc init` made the store (0: unknown) */
};
/* Fill *info. 0, MC_E_USAGE, MC_E_STORE. */
int mc_reader_info(struct mc_reader *r, struct mc_store_info *info);

/* ---- value encoding (pack.c) ----
 * Exposed for tests and for stages that keep their own databases. */

/* Encode a record's stored form (status, datestamp, format, encoding,
 * metadata, extracted fields) into out, replacing what out held. rec is only
 * read; rec->source, rec->local_id and the input position are not stored
 * (the key holds the first two). out keeps its cap (out->max): a value that
 * would pass it gives MC_E_TOOBIG. 0, MC_E_TOOBIG, MC_E_USAGE (status or
 * format out of range), -ENOMEM. On failure out's content is undefined. */
int mc_record_pack(const struct mc_record *rec, struct mc_buf *out);
/* Encode the tombstone of a deleted record (status deleted, datestamp, no
 * metadata) into out (replacing its content). 0, MC_E_TOOBIG, -ENOMEM. */
int mc_record_pack_deleted(int64_t datestamp, struct mc_buf *out);
/* Decode a value written by mc_record_pack into rec. rec is reset first;
 * every string is copied into rec->arena and NUL-terminated, so nothing
 * points into data afterwards. rec->source and rec->local_id stay NULL (they
 * live in the key). Every length is checked against the bytes left; bytes
 * after the last section are an error. 0, MC_E_CORRUPT, MC_E_VERSION
 * (written by a newer format), -ENOMEM (the arena's cap). On failure rec is
 * reset again (empty, consistent). */
int mc_record_unpack(const void *data, size_t len, struct mc_record *rec);

/* ---- integrity check and repair (`mucluc check`; core/store-check.c) ---- */

/* Last value given by counter name (mc_writer_seq_next) in the snapshot:
 * 0 and *ret, MC_E_NOTFOUND (never used; *ret = 0), MC_E_CORRUPT, MC_E_STORE. */
int mc_reader_seq_get(struct mc_reader *r, const char *name, uint64_t *ret);
/* As mc_writer_trim, for a long walk of a reader (0: the store's threshold). */
void mc_reader_trim(struct mc_reader *r, uint64_t max_rss);
/* Repair: set the counts of source to present/deleted in the batch
 * (last_change kept). old (may be NULL) gets the counts as they were.
 * 1 when they changed, 0 when they were already so, or an error (MC_E_USAGE:
 * bad source id; others poison the batch). */
int mc_writer_counts_set(struct mc_writer *w, const char *source, uint64_t present,
			 uint64_t deleted, struct mc_source_counts *old);

/* Where the checks of every stage report. line (may be NULL) gets each
 * finding as one line of text (borrowed for the call); the counters are
 * kept by mc_check_report. */
enum mc_check_kind {
	MC_CHECK_PROBLEM = 0,   /* something inconsistent */
	MC_CHECK_REPAIRED = 1,  /* what --repair did */
	MC_CHECK_NOTE = 2,      /* a check that could not run, and why */
};
struct mc_check {
	void (*line)(void *ctx, int kind, const char *text);
	void *ctx;
	uint64_t problems, repaired, notes;
};
/* Format a finding and pass it to c->line; counts it by kind. */
void mc_check_report(struct mc_check *c, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* What mc_store_check saw, for mc_store_repair and the stages' checks.
 * Free with mc_store_check_res_free. */
struct mc_store_check_res {
	uint64_t feed_last;     /* newest record feed sequence */
	uint64_t records, present, deleted;
	int records_complete;   /* every record was walked (none failed to decode) */
	int counts_bad;         /* some source count disagrees with its records */
	int cursor_bad;         /* some consumer cursor is past the feed's end */
	char (*sources)[64];    /* sources listed in `sources` (owned) */
	size_t nsources;
};
void mc_store_check_res_free(struct mc_store_check_res *res);

/* The store's own invariants on the snapshot r: every record decodes; the
 * per-source counts equal the records' (present, deleted); the feed's
 * sequences run 1, 2, ... without a gap; every consumer cursor
 * (merger/cursor, indexer/cursor) is a number not past the feed's end.
 * Each problem goes to c. res (zeroed first) gets the figures. 0 (problems
 * or not), or an error reading the store (err filled in). */
int mc_store_check(struct mc_reader *r, struct mc_check *c, struct mc_store_check_res *res,
		   struct mc_error *err);
/* In batch w, rebuild what mc_store_check found wrong and can be derived:
 * the counts of every source from its records (walked in the batch), and
 * cursors past the feed's end set to its last sequence. Each change goes to c
 * as MC_CHECK_REPAIRED. 0 or error (the caller aborts w). */
int mc_store_repair(struct mc_writer *w, const struct mc_store_check_res *res,
		    struct mc_check *c, struct mc_error *err);

#endif
