/* mg.h — the merger: deduplicates the records of all libraries into stable
 * union records (one per edition) that list every holding library.
 *
 * Records are matched by keys (ISBN-13, ISSN, LCCN, 035 control numbers
 * with a known prefix, 024, and a folded title + name + year key), each
 * candidate verified (year, edition, extent, material, title similarity,
 * conflicting ISBN/ISSN). A union record keeps its id while members come and
 * go; merged unions and dissolved ones leave tombstones. Data layout:
 * schemas/union.md. */
#ifndef MG_H
#define MG_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

struct mg_merger;

struct mg_stats {
	uint64_t records;      /* feed entries / records applied */
	uint64_t unchanged;    /* members whose summary did not change */
	uint64_t unions_new;
	uint64_t unions_merged;   /* unions that became tombstones by a merge */
	uint64_t unions_split;    /* new unions made by a split */
	uint64_t unions_dissolved;
	uint64_t unions_changed;  /* datestamp bumps (feed entries written) */
	uint64_t source_dups;     /* a member joined a union holding a record of its own source */
	uint64_t quick_rejects;   /* candidates rejected without reading their summary */
	uint64_t candidates_read; /* candidate summaries read and verified */
	uint64_t keys_in_memory;  /* a bulk run: match keys it kept in memory ... */
	uint64_t keys_bytes;      /* ... and the bytes they took */
	uint64_t foreign_writes;  /* a bulk run: times it found union data written by another
				   * writer between its batches (keys then reloaded from mg_member) */
};

/* A merger on an in-memory table (tests, benchmarks). Caller frees with
 * mg_merger_free. 0, -ENOMEM. */
int mg_merger_new_memory(struct mg_merger **ret);
/* A merger working inside the store batch w (borrowed: the caller commits
 * or aborts it, and must not use this merger after that without calling
 * mg_merger_use_writer again). 0, -ENOMEM, MC_E_USAGE (the store build has
 * no key/value databases). */
int mg_merger_new_writer(struct mc_writer *w, struct mg_merger **ret);
/* A read-only merger on the reader snapshot r (borrowed; export, explain):
 * writes fail with MC_E_USAGE. 0, -ENOMEM, MC_E_USAGE as above. */
int mg_merger_new_reader(struct mc_reader *r, struct mg_merger **ret);
/* Point an existing writer-backed merger at a new batch. */
void mg_merger_use_writer(struct mg_merger *m, struct mc_writer *w);
/* Free. NULL is a no-op. */
void mg_merger_free(struct mg_merger *m);
/* Time used for union datestamps (seconds since the epoch); default time(). */
void mg_merger_set_time(struct mg_merger *m, int64_t now);
/* Counters since creation (borrowed). */
const struct mg_stats *mg_merger_stats(const struct mg_merger *m);

/* Apply one record as it now is (present or deleted): update its summary,
 * its union and neighbouring unions, and the union feed. rec is only read.
 * 0, -ENOMEM, MC_E_TOOBIG, MC_E_CORRUPT, MC_E_STORE; err filled in. */
int mg_merger_apply(struct mg_merger *m, const struct mc_record *rec, struct mc_error *err);

/* Rebuild with stable ids: begin (a new epoch; the match keys are dropped,
 * members and union records stay as the old catalogue), apply every record
 * again (each takes back its old union id when no rebuilt union holds it),
 * finish (members not re-applied go; old unions nobody took back become
 * tombstones with feed entries). Interrupted in between, the mark in
 * mg_state makes the next mg_store_merge go on and finish. 0 or error. */
int mg_rebuild_begin(struct mg_merger *m);
int mg_rebuild_finish(struct mg_merger *m);

/* Run the merge stage on the store: consume the record change feed from
 * the cursor (state "merger"/"cursor") in batches of 10,000 entries,
 * committing union data, union feed and cursor together. A run with a large
 * backlog (at least 10,000 entries and 1/16 of the members) keeps the match
 * keys in memory and writes mg_key back in key order at the end
 * (MG_MERGE_BULK / MG_MERGE_NO_BULK force either way; same result).
 * Union data has one writer at a time: callers hold the merge lock
 * (mc-lock.h, MC_LOCK_MERGE; schemas/concurrency.md). A bulk run that
 * finds union data written by another writer between two of its batches
 * anyway (the merger's write generation in mg_state moved) reloads its
 * keys from mg_member and goes on (st->foreign_writes). flags:
 * MG_MERGE_REBUILD clears everything first and applies every stored record.
 * now: datestamp for union changes (0: time()). st (may be NULL) gets the
 * totals. 0 or error. */
enum { MG_MERGE_REBUILD = 1, MG_MERGE_BULK = 2, MG_MERGE_NO_BULK = 4 };
int mg_store_merge(struct mc_store *s, unsigned flags, int64_t now, struct mg_stats *st,
		   struct mc_error *err);

/* ---- reading union records ---- */

/* A union record as exported. Strings borrowed for the callback. */
struct mg_union_view {
	uint64_t id;
	int tombstone;
	uint64_t survivor;      /* tombstone of a merge: where it went; 0 otherwise */
	int64_t datestamp;
	int64_t created;        /* when the union was made (seconds since the epoch) */
	size_t nmembers;
	const char *const *members;   /* "source:local-id", sorted */
};

/* Merged record of union id as JSON (one line, no newline) appended to out:
 * {"id","datestamp","title",...,"ids","subjects","links","holdings":[{"library",
 * "name","call_number","items","link"}],"members":["source:local-id"],
 * "provenance":[{"source","local_id","datestamp"}]}; tombstones give
 * {"id","deleted":true,"survivor"}. names (may be NULL) maps a source id to
 * the library name; url (may be NULL) gives a link to the library's own record
 * (borrowed result or NULL). 0, MC_E_NOTFOUND, -ENOMEM. */
typedef const char *(*mg_name_fn)(void *ctx, const char *source);
typedef const char *(*mg_link_fn)(void *ctx, const char *source, const char *local_id,
				  struct mc_buf *scratch);
int mg_union_json(struct mg_merger *m, uint64_t id, mg_name_fn names, mg_link_fn link,
		  void *ctx, struct mc_buf *out);
/* The same merged record as MARCXML <record> (no collection wrapper). */
int mg_union_marcxml(struct mg_merger *m, uint64_t id, struct mc_buf *out);

/* Every union record (tombstones too) in id order; cb returns non-zero to
 * stop. 0 or the callback's value. */
int mg_union_each(struct mg_merger *m, int (*cb)(void *ctx, const struct mg_union_view *u),
		  void *ctx);
/* Union record id: cb called once with its view (strings borrowed for the
 * call). 0 or cb's value, MC_E_NOTFOUND, MC_E_CORRUPT, -ENOMEM. */
int mg_union_get(struct mg_merger *m, uint64_t id,
		 int (*cb)(void *ctx, const struct mg_union_view *u), void *ctx);
/* Union id of member "source:local-id". 0, MC_E_NOTFOUND. */
int mg_member_union(struct mg_merger *m, const char *ref, uint64_t *ret);
/* Union feed after seq (at most max, 0 = all). */
int mg_feed_each(struct mg_merger *m, uint64_t after, uint64_t max,
		 int (*cb)(void *ctx, uint64_t seq, uint64_t union_id), void *ctx);

/* Sequence of the last union feed entry in snapshot r (0: none yet).
 * 0, MC_E_CORRUPT, MC_E_STORE. */
int mg_feed_last(struct mc_reader *r, uint64_t *ret);

/* ---- librarians' corrections (persist, survive rebuilds) ---- */
enum mg_override_kind { MG_NEVER = 1, MG_JOIN = 2, MG_SPLIT = 3 };
/* MG_NEVER/MG_JOIN: ref1, ref2 are members "source:local-id"; MG_SPLIT:
 * ref1 is a member that must stand alone (ref2 NULL). The rule is stored;
 * the caller re-applies the records concerned (mg_store_override does).
 * 0, MC_E_USAGE. */
int mg_override_set(struct mg_merger *m, int kind, const char *ref1, const char *ref2);
/* Store an override and re-cluster on the store (one batch). A union id
 * given to MG_SPLIT splits every member of it. Callers hold the merge lock
 * as for mg_store_merge. 0 or error. */
int mg_store_override(struct mc_store *s, int kind, const char *id1, const char *id2,
		      int64_t now, struct mc_error *err);

/* Explain union id (or member ref): its members, their keys and, pair by
 * pair, the rule decisions, as text appended to out. 0, MC_E_NOTFOUND. */
int mg_explain(struct mg_merger *m, const char *id, struct mc_buf *out);

/* ---- integrity check (`mucluc check`; check.c, schemas/check.md) ---- */

/* Records not merged yet (feed entries after the merger's cursor) that the
 * check keeps in memory (about 100 bytes each); past it, records and members
 * are not compared (reported as a note). */
#define MG_CHECK_PENDING_MAX 1000000u

/* What mg_check saw, for mg_check_repair. */
struct mg_check_res {
	uint64_t unions, live, tombstones, members, keys, keys_expected, feed, pending;
	uint64_t max_union;      /* largest union id */
	uint64_t feed_last;      /* last union feed sequence */
	uint64_t epoch;
	int rebuilding, keys_stale;
	int keys_bad;            /* mg_key lacks or has entries the members' keys do not give */
	int union_seq_bad;       /* counter mg_union behind the largest id */
	int feed_seq_bad;        /* counter mg_feed behind the union feed */
};

/* Check the merger's data on snapshot r (after mc_store_check, whose sres
 * it uses): union records (live ones list existing members that name them,
 * tombstones list none and their survivor chain ends at a live or dissolved
 * union), member summaries (their union lists them; their record exists, is
 * present and gives the same summary), mg_key both ways against the members'
 * match keys, every present record merged, the union feed (sequences 1, 2,
 * ..., existing unions) and the counters mg_union / mg_feed. Records with
 * feed entries after the merger's cursor are not compared (not merged yet).
 * Each problem goes to c; res (zeroed first) gets the figures. Bounded
 * memory but for the set of records not merged yet. 0, or an error reading
 * the store (err filled in). */
int mg_check(struct mc_reader *r, const struct mc_store_check_res *sres, struct mc_check *c,
	     struct mg_check_res *res, struct mc_error *err);
/* In batch w, rebuild what mg_check found wrong and can be derived: mg_key
 * from the member summaries (missing entries added, stray ones removed; not
 * while a rebuild runs or the keys are marked stale) and counters behind
 * the ids in use raised. Each change goes to c as MC_CHECK_REPAIRED. 0 or
 * error (the caller aborts w). */
int mg_check_repair(struct mc_writer *w, const struct mg_check_res *res, struct mc_check *c,
		    struct mc_error *err);

#endif
