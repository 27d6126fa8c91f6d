/* mc-store.h — the LMDB store: source records, sources, a change feed.
 *
 * One LMDB environment under <data_dir>/store. Every put that changes a
 * record, and every delete, appends (sequence -> record key) to the change
 * feed; later stages (merger, indexer, OAI provider) read the feed from
 * their own saved cursor. Values use a versioned, portable encoding
 * (pack.c), never raw structs. The map grows by itself. See schemas/lmdb.md. */
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

/* Open (or create) the store in directory dir. Caller closes with
 * mc_store_close. 0, MC_E_NOTFOUND (no store and no MC_STORE_CREATE),
 * MC_E_VERSION, MC_E_STORE, -errno; err filled in on failure. */
int mc_store_open(const char *dir, unsigned flags, struct mc_store **ret, struct mc_error *err);
void mc_store_close(struct mc_store *s);

/* ---- writing: one batch = one LMDB write transaction ----
 * Batches may be begun from several threads of one process (harvesting
 * sources in parallel): they run one at a time, in the order they get the
 * store's write lock, and a map growth never races another batch.
 * The writer keeps a log of its operations so that when the map is full it
 * can abort, grow the map and replay them transparently. Only one writer
 * exists at a time (LMDB serialises them); hold one for at most a few
 * thousand records. */

enum mc_put_outcome {
	MC_PUT_UNCHANGED = 0,  /* identical content already stored: nothing written */
	MC_PUT_NEW = 1,
	MC_PUT_CHANGED = 2,
	MC_PUT_DELETED = 3,    /* a present record became deleted */
	MC_PUT_ABSENT = 4,     /* delete of a record never stored or already deleted */
};

/* Begin a batch. 0 or error; *ret set only on success. */
int mc_writer_begin(struct mc_store *s, struct mc_writer **ret, struct mc_error *err);
/* Store rec (present or deleted) under (rec->source, rec->local_id).
 * Content equal to what is stored (metadata and status; the datestamp alone
 * does not count) writes nothing and appends no feed entry. *outcome may be
 * NULL. rec is only read. 0 or error (the batch must then be aborted). */
int mc_writer_put(struct mc_writer *w, const struct mc_record *rec, int *outcome,
		  struct mc_error *err);
/* The same with the value already encoded by mc_record_pack or
 * mc_record_pack_deleted (so packing can run on another thread). val is
 * copied. Outcomes and errors as mc_writer_put. */
int mc_writer_put_packed(struct mc_writer *w, const char *source, const char *local_id,
			 const void *val, size_t len, int *outcome, struct mc_error *err);
/* Mark a record deleted (keeps a tombstone with the datestamp). */
int mc_writer_delete(struct mc_writer *w, const char *source, const char *local_id,
		     int64_t datestamp, int *outcome, struct mc_error *err);
/* Per-source and per-consumer state, small strings (harvest state, cursors):
 * set/get by (scope, key). value NULL deletes. */
int mc_writer_state_set(struct mc_writer *w, const char *scope, const char *key,
			const char *value);
/* Make the batch durable and free w (in all cases). On MC_E_FULL nothing of
 * the batch is stored and the store is as before. */
int mc_writer_commit(struct mc_writer *w, struct mc_error *err);
/* Drop the batch and free w. NULL is a no-op. */
void mc_writer_abort(struct mc_writer *w);

/* Reads inside a batch (they see the batch's own writes). Later stages
 * (merger, indexer) read the feed and records and write their own data in
 * one transaction, so a crash never separates the two. Same semantics as
 * the mc_store_* / mc_reader_* functions below. */
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

/* ---- named key/value databases for later stages ----
 * A stage keeps its own data (union records, match keys, its feed) in named
 * databases of the same environment, opened by name on first use ("mg_union",
 * "mg_keys", ...; names starting "mc_" and the store's own are refused with
 * MC_E_USAGE; at most MC_STORE_MAX_KV of them). Keys are 1..511 bytes, compared
 * as bytes (memcmp order); values up to 16 MiB. Writes go through the batch's
 * operation log, so map growth replays them like record puts.
 * Borrowed values (*val) are valid until the next write in the same batch,
 * its commit or abort (writer), or mc_reader_end (reader). */
#define MC_STORE_MAX_KV 16

int mc_writer_kv_put(struct mc_writer *w, const char *db, const void *key, size_t klen,
		     const void *val, size_t vlen);
/* The same for a key greater than every key of db (bulk loads in key
 * order: full pages). Out of order: MC_E_USAGE, batch poisoned. */
int mc_writer_kv_append(struct mc_writer *w, const char *db, const void *key, size_t klen,
			const void *val, size_t vlen);
/* 0, or MC_E_NOTFOUND when there was no such key (nothing written). */
int mc_writer_kv_del(struct mc_writer *w, const char *db, const void *key, size_t klen);
/* 0, MC_E_NOTFOUND. */
int mc_writer_kv_get(struct mc_writer *w, const char *db, const void *key, size_t klen,
		     const void **val, size_t *vlen);
int mc_reader_kv_get(struct mc_reader *r, const char *db, const void *key, size_t klen,
		     const void **val, size_t *vlen);
/* Every pair whose key starts with prefix (plen 0: all), in key order; cb
 * returns non-zero to stop (that value is returned). Pointers borrowed for
 * the call. In a writer, cb must not write to the same database. */
typedef int (*mc_kv_cb)(void *ctx, const void *key, size_t klen, const void *val, size_t vlen);
int mc_writer_kv_each(struct mc_writer *w, const char *db, const void *prefix, size_t plen,
		      mc_kv_cb cb, void *ctx);
int mc_reader_kv_each(struct mc_reader *r, const char *db, const void *prefix, size_t plen,
		      mc_kv_cb cb, void *ctx);
/* Next value (1, 2, ...) of a named 64-bit counter kept in the batch (union
 * ids, a stage's own feed sequence). */
int mc_writer_seq_next(struct mc_writer *w, const char *name, uint64_t *ret);
/* A long batch that reads much of the store calls this now and then: past
 * max_rss bytes of file-backed RSS (0: the store's threshold, 96 MiB), the
 * map's pages are given back (madvise), as after each commit. Pointers and
 * open cursors stay valid. */
void mc_writer_trim(struct mc_writer *w, uint64_t max_rss);
/* Pairs in a named database as the batch sees it (0: no such database). */
int mc_writer_kv_count(struct mc_writer *w, const char *db, uint64_t *ret);
/* Drop every pair of a named database (for rebuilds). */
int mc_writer_kv_clear(struct mc_writer *w, const char *db);

/* ---- reading: a read snapshot ---- */

int mc_reader_begin(struct mc_store *s, struct mc_reader **ret);
void mc_reader_end(struct mc_reader *r);

/* Load a record into rec (reset first; strings in rec->arena, so they outlive
 * the reader). 0, MC_E_NOTFOUND, MC_E_CORRUPT, MC_E_VERSION. */
int mc_store_get(struct mc_reader *r, const char *source, const char *local_id,
		 struct mc_record *rec, struct mc_error *err);

/* Call cb for every record of source (all sources when NULL), in key order,
 * deleted ones included (check rec->status). rec is reused between calls.
 * cb returns non-zero to stop; that value is returned. */
int mc_store_each(struct mc_reader *r, const char *source,
		  int (*cb)(void *ctx, struct mc_record *rec), void *ctx, struct mc_error *err);

/* The change feed. Entries after seq `after`, at most max (0 = all), in order.
 * op is MC_PUT_NEW / MC_PUT_CHANGED / MC_PUT_DELETED. Strings borrowed for
 * the duration of the call. */
int mc_store_feed(struct mc_reader *r, uint64_t after, uint64_t max,
		  int (*cb)(void *ctx, uint64_t seq, int op, const char *source,
			    const char *local_id),
		  void *ctx);
/* Sequence number of the newest feed entry (0 when empty). */
uint64_t mc_store_feed_last(struct mc_reader *r);

/* State written with mc_writer_state_set; copied into buf (NUL-terminated).
 * 0, MC_E_NOTFOUND, MC_E_TOOBIG (buf too small). */
int mc_store_state_get(struct mc_reader *r, const char *scope, const char *key,
		       char *buf, size_t bufsz);

/* Per-source counts, kept up to date by every put/delete. */
struct mc_source_counts {
	char source[64];
	uint64_t present;
	uint64_t deleted;
	int64_t last_change;   /* time of the newest change, seconds since the epoch */
};
/* Call cb for every source that has records, in id order. */
int mc_store_sources(struct mc_reader *r,
		     int (*cb)(void *ctx, const struct mc_source_counts *c), void *ctx);

/* Environment figures for `mucluc stats`. */
struct mc_store_info {
	uint64_t map_size;      /* bytes */
	uint64_t used_bytes;    /* pages in use * page size */
	uint64_t records;       /* entries in the records database */
	uint64_t feed_entries;
};
int mc_store_info(struct mc_reader *r, struct mc_store_info *info);

/* ---- value encoding (pack.c) ----
 * Exposed for tests and for stages that keep their own databases. */

/* Encode a record's stored form (status, datestamp, format, encoding,
 * metadata, extracted fields) into out. 0, MC_E_TOOBIG, -ENOMEM. */
int mc_record_pack(const struct mc_record *rec, struct mc_buf *out);
/* Encode the tombstone of a deleted record (status deleted, datestamp, no
 * metadata) into out (replacing its content). 0, MC_E_TOOBIG, -ENOMEM. */
int mc_record_pack_deleted(int64_t datestamp, struct mc_buf *out);
/* Decode into rec (reset first; strings copied into rec->arena).
 * 0, MC_E_CORRUPT, MC_E_VERSION. */
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
