/* ix-index.h — writing the union index (the write side of indexer/):
 * `mucluc index`. The layout is schemas/index.md.
 *
 * The indexer reads the store (union records, the union change feed, the
 * members' stored records) in read snapshots and writes only its own
 * Xapian database under <data_dir>/index.d/, named by the stub file
 * <data_dir>/index. One writer at a time: a run holds the stage lock
 * MC_LOCK_INDEX (mc-lock.h). Nothing here throws or prints. */
#ifndef IX_INDEX_H
#define IX_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

/* Documents added, replaced or deleted per Xapian commit. Xapian keeps a
 * batch's postings in maps whose depth grows with it: on 65,000 generated
 * unions, batches of 500 / 1,000 / 2,000 / 10,000 / 40,000 took 27.7 / 27.1 /
 * 25.5 / 33.6 / 54.0 s of CPU and 208 / 217 / 235 / 353 / 794 MB. */
#define IX_INDEX_BATCH 2000u
/* Builder threads of a rebuild, at most (each its own snapshot — one
 * snapshot in fact: equal store write generations —, builder and Xapian
 * database, with the unions whose id % threads is its number; the parts are
 * then compacted into one database). Default: the processors online;
 * $MUCLUC_INDEX_JOBS sets it. */
#define IX_INDEX_JOBS_MAX 8u
/* Union feed entries read per store snapshot (16 bytes each in memory). */
#define IX_INDEX_FEED_MAX 1000000u

enum ix_index_flags {
	IX_INDEX_REBUILD = 1,  /* build index.d/N+1 from every live union, swap the stub */
};

struct ix_index_stats {
	uint64_t feed;        /* union feed and record feed entries read */
	uint64_t added;       /* documents new to the index */
	uint64_t replaced;    /* documents re-indexed */
	uint64_t deleted;     /* documents removed (tombstone, or no public member left) */
	uint64_t skipped;     /* unions without a public member and without a document */
	uint64_t commits;     /* Xapian commits */
	uint64_t cursor;      /* union feed sequence the index is at after the run */
	uint64_t record_cursor; /* record feed sequence the index is at after the run */
	uint64_t docs;        /* documents in the index after the run */
	int rebuilt;          /* 1: a new database was built and swapped in */
	unsigned generation;  /* N of index.d/N now live */
};

/* Holding link of a member (the library's own record page), as
 * mg_link_fn in merger/mg.h: borrowed result or NULL. */
typedef const char *(*ix_link_fn)(void *ctx, const char *source, const char *local_id,
				  struct mc_buf *scratch);

/* Called once when the index lock is held by another process and the run
 * will wait (as mc_lock_wait_fn). */
typedef void (*ix_wait_fn)(void *ctx, const char *name, long pid, const char *holder);

struct ix_index_opts {
	unsigned flags;        /* enum ix_index_flags */
	ix_link_fn link;       /* may be NULL: holdings without links */
	void *link_ctx;
	ix_wait_fn on_wait;    /* may be NULL */
	void *wait_ctx;
	/* documents per commit, 1..10 * IX_INDEX_BATCH (0: IX_INDEX_BATCH, or
	 * $MUCLUC_INDEX_BATCH: tests use small batches to have many commits) */
	uint64_t batch;
	/* tests: _exit(137) after this many documents were written (0: never;
	 * also $MUCLUC_INDEX_CRASH_AFTER), to test that a killed run leaves a
	 * consistent index */
	uint64_t crash_after;
};

/* Bring the index of cfg's data directory up to date with store s: take
 * the index lock (waiting, on_wait called once), then
 *  - no index yet, another store's index (metadata mucluc.store), or
 *    IX_INDEX_REBUILD: build a new database in index.d/N+1 from every live
 *    union of one snapshot and swap the stub to it atomically (readers of
 *    the old one keep answering; the old directory is removed after);
 *  - else: apply the union feed after the cursor, re-indexing or deleting
 *    each union it names, committing the cursor with each batch of at most
 *    IX_INDEX_BATCH documents.
 * cfg and s are borrowed. st (may be NULL) gets the figures. 0;
 * MC_E_STORE (store or Xapian error), MC_E_CORRUPT, -ENOMEM, -errno (files
 * of the index directory); err says which. A failed run leaves the index
 * at its last commit (consistent with its cursor). */
int ix_index_run(const struct mc_config *cfg, struct mc_store *s, const struct ix_index_opts *opts,
		 struct ix_index_stats *st, struct mc_error *err);

struct ix_index_state {
	uint64_t cursor;        /* union feed sequence indexed */
	uint64_t record_cursor; /* record feed sequence indexed */
	uint64_t docs;
	unsigned generation;    /* N of the live index.d/N */
};

/* The live index's cursors and document count, read-only and without the
 * lock (for `mucluc check`). 0, MC_E_NOTFOUND (no index built yet),
 * MC_E_CORRUPT (the stub), MC_E_STORE (Xapian). */
int ix_index_state(const struct mc_config *cfg, struct ix_index_state *ret,
		   struct mc_error *err);

#endif
