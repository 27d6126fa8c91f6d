/* store-internal.h — layout constants of the store and its value encoding,
 * shared by pack.c, store.c and the unit tests. Not a public header.
 * The byte-level layout is documented in schemas/lmdb.md. */
#ifndef MC_STORE_INTERNAL_H
#define MC_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mc-error.h"
#include "mc-store.h"
#include "mc-varint.h"  /* mc_put_le64, mc_get_be64, ...: the fixed-width encodings */

/* ---- record value (pack.c) ---- */
#define MC_PACK_VERSION     1
#define MC_PACK_OFF_DATE    1     /* i64 LE datestamp */
#define MC_PACK_OFF_STATUS  9     /* first byte that takes part in "unchanged" */
#define MC_PACK_OFF_FORMAT  10
#define MC_PACK_OFF_SECT    11
#define MC_PACK_FIXED       12    /* bytes of the fixed header */
#define MC_PACK_SECT_MARC   1u
#define MC_PACK_SECT_DC     2u
#define MC_PACK_SECT_FIELDS 4u

/* Largest packed record the writer accepts (metadata + extracted fields of a
 * record that was at most MC_MAX_RECORD_BYTES as read, legacy 8-bit text
 * expanding up to 3x in UTF-8). */
#define MC_STORE_VALUE_MAX  (16u << 20)
/* Largest operation log one batch may hold (replayed when the map grows). */
#define MC_STORE_LOG_MAX    (256u << 20)
/* Keys are at most this long whatever LMDB was built with, so a store stays
 * readable by every build. */
#define MC_STORE_KEY_MAX    511u
/* Largest value accepted by mc_writer_state_set. */
#define MC_STORE_STATE_MAX  (64u << 10)
/* Map size of a new environment, and the most it may grow to. */
#define MC_STORE_MAP_INITIAL (64ull << 20)
#define MC_STORE_MAP_MAX     (1ull << 40)

/* File-backed RSS above which the writer (after a commit) and a walk
 * (every 1024 records) drop their mappings of LMDB's pages. */
#define MC_STORE_TRIM_RSS    (96ull << 20)

/* How long a map size change waits for this process's other transactions
 * (read transactions of other threads) to end before the batch that needs
 * it fails with MC_E_FULL. */
#define MC_STORE_GROW_WAIT_MS 10000u

/* Per-source counts value: version, present, deleted, last_change. */
#define MC_COUNTS_VERSION   1
#define MC_COUNTS_SIZE      25

/* Extra open flags for benchmarks (mc_store_open_mapsize only): LMDB's
 * MDB_NOMETASYNC (meta page not synced: a crash may lose the last batch but
 * never corrupts) and MDB_NOSYNC (no sync at all). */
#define MC_STORE_X_NOMETASYNC (1u << 8)
#define MC_STORE_X_NOSYNC     (1u << 9)

/* As mc_store_open, but a new environment starts with a map of mapsize
 * bytes (rounded up by LMDB to a page multiple; 0 = MC_STORE_MAP_INITIAL).
 * For tests of map growth. Same return codes as mc_store_open. */
int mc_store_open_mapsize(const char *dir, unsigned flags, uint64_t mapsize,
			  struct mc_store **ret, struct mc_error *err);

/* How many times this store handle has grown its map (at_commit = 0), or
 * how many times a full map was met while committing (at_commit = 1).
 * For tests. */
unsigned mc_store_grow_count(const struct mc_store *s, int at_commit);

/* Set the file-backed RSS above which the store drops its mappings of
 * LMDB's pages (default MC_STORE_TRIM_RSS; 0 = after every commit and every
 * 1,024 records walked), and count how often it did. For tests. */
void mc_store_set_trim(struct mc_store *s, uint64_t rss_bytes);
unsigned mc_store_trim_count(const struct mc_store *s);

/* Set how long a map size change waits for other transactions of this
 * process (default MC_STORE_GROW_WAIT_MS). For tests. */
void mc_store_set_grow_wait(struct mc_store *s, unsigned ms);

#endif
