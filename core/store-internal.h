/* store-internal.h — layout constants of the store and its value encoding
 * (shared by pack.c, the store-*.c files and the unit tests), hooks for
 * tests, and the store's internal structures and cross-file functions
 * (mci_store_*, used by the store-*.c files only). Not a public header.
 * The byte-level layout is documented in schemas/lmdb.md. */
#ifndef MC_STORE_INTERNAL_H
#define MC_STORE_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "mc-buf.h"
#include "mc-error.h"
#include "mc-limits.h"
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

/* Read transactions open at once across every process on one store
 * (LMDB's reader table; its default is 126). */
#define MC_STORE_MAX_READERS 510

/* Per-source counts value: version, present, deleted, last_change. */
#define MC_COUNTS_VERSION   1
#define MC_COUNTS_SIZE      25

/* Extra open flags for benchmarks (mci_store_open_mapsize only): LMDB's
 * MDB_NOMETASYNC (meta page not synced: a crash may lose the last batch but
 * never corrupts) and MDB_NOSYNC (no sync at all). */
#define MC_STORE_X_NOMETASYNC (1u << 8)
#define MC_STORE_X_NOSYNC     (1u << 9)

/* As mc_store_open, but a new environment starts with a map of mapsize
 * bytes (rounded up by LMDB to a page multiple; 0 = MC_STORE_MAP_INITIAL).
 * For tests of map growth. Same return codes as mc_store_open. */
int mci_store_open_mapsize(const char *dir, unsigned flags, uint64_t mapsize,
			   struct mc_store **ret, struct mc_error *err);

/* How many times this store handle has grown its map (at_commit = 0), or
 * how many times a full map was met while committing (at_commit = 1).
 * For tests. */
unsigned mci_store_grow_count(const struct mc_store *s, int at_commit);

/* Set the file-backed RSS above which the store drops its mappings of
 * LMDB's pages (default MC_STORE_TRIM_RSS; 0 = after every commit and every
 * 1,024 records walked), and count how often it did. For tests. */
void mci_store_set_trim(struct mc_store *s, uint64_t rss_bytes);
unsigned mci_store_trim_count(const struct mc_store *s);

/* Set how long a map size change waits for other transactions of this
 * process (default MC_STORE_GROW_WAIT_MS). For tests. */
void mci_store_set_grow_wait(struct mc_store *s, unsigned ms);

/* Call fn(ctx) whenever a batch has ended its LMDB transaction to grow the
 * map and is about to grow it (the batch still holds the store's write
 * locks). For tests of writers in several processes. NULL: none. */
void mci_store_set_grow_hook(struct mc_store *s, void (*fn)(void *ctx), void *ctx);

/* ---- the store's internal structures ---- */

enum log_type {
	LOG_REC = 1, LOG_STATE_SET = 2, LOG_STATE_DEL = 3,
	LOG_KV_PUT = 4, LOG_KV_DEL = 5, LOG_KV_CLEAR = 6, LOG_SEQ = 7, LOG_KV_APPEND = 8,
	LOG_COUNTS = 9,   /* mc_writer_counts_set: source -> u64le present, deleted */
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
#define NO_DBI ((MDB_dbi)~0u)   /* mci_store_wloc: the failed call was on no database */

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
	void *map_base;                       /* LMDB's map, once located (mci_store_trim) */
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
	/* The cross-process write lock: flock on <dir>/writer.lock, held
	 * with wmu from mc_writer_begin to commit or abort, so that no other
	 * process writes while a batch has aborted its LMDB transaction to
	 * grow the map (-1: read-only store). */
	int lock_fd;
	void (*grow_hook)(void *ctx);   /* tests: runs while a growth has no transaction */
	void *grow_ctx;
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
	uint64_t kv_dirty;         /* bit i: the batch wrote into s->db[i] */
	const char *fop;           /* the LMDB call that failed last, and on which database */
	MDB_dbi fdbi;
	int fdb_set;
	char ftxt[512];            /* fop, when it is a message of its own */
	char fmsg[512];            /* what poisoned the batch */
	char emsg[512];            /* detail of the last failed call */
};

struct mc_reader {
	struct mc_store *s;
	MDB_txn *txn;
	pthread_t owner;
	struct mc_reader *next, *prev;
	char emsg[512];            /* detail of the last failed call */
};

_Static_assert(MAX_DBS <= 64, "kv_dirty is a 64-bit mask");

/* ---- reads shared by readers and writers ----
 * A view is a reader's transaction, or a writer's (which a write inside a
 * callback may replace: after a growth or a new database the writer has a
 * new transaction, and walks reopen their cursor at the key they were
 * at). */
struct store_view {
	struct mc_store *s;
	struct mc_writer *w;       /* NULL for a reader */
	MDB_txn *txn;              /* the reader's */
	char *emsg;                /* the reader's or writer's message of the last failure */
};

/* ---- cross-file functions of the store (static otherwise) ---- */

/* store-txn.c */
int mci_store_xlate(int rc);
const char *mci_store_reason(int rc);
int mci_store_set_err(struct mc_error *err, int rc, const char *what);
const char *mci_store_db_label(struct mc_store *s, MDB_dbi dbi);
void mci_store_set_err_rec(struct mc_error *err, const char *source, const char *id);
int mci_store_source_valid(const char *s, size_t *lenp);
int mci_store_make_key(unsigned char *kb, size_t maxkey, const char *a, size_t alen, const char *b,
		       size_t *klen);
int mci_store_record_key(struct mc_store *s, unsigned char *kb, size_t *klen, const char *source,
			 const char *local_id, struct mc_error *err);
int mci_store_txn_begin(struct mc_store *s, unsigned flags, MDB_txn **txn);
int mci_store_resize(struct mc_store *s, int adopt, int self_reader, unsigned *epoch,
		     struct mc_error *err);
int mci_store_rtxn_begin(struct mc_store *s, struct mc_reader *r, MDB_txn **txn,
			 struct mc_error *err);
int mci_store_rtxn_end(struct mc_store *s, struct mc_reader *r, MDB_txn *txn, int commit);
int mci_store_wtxn_begin(struct mc_store *s, MDB_txn **txn, struct mc_error *err);
int mci_store_lock_take(struct mc_store *s, struct mc_error *err);
void mci_store_lock_drop(struct mc_store *s);
int mci_store_wtxn_end(struct mc_store *s, MDB_txn *txn, int commit);

/* store-open.c */
int mci_store_kv_name_valid(const char *name, size_t *lenp);
const struct db_ent *mci_store_db_find(struct mc_store *s, const char *name, size_t nlen);
int mci_store_db_stale(struct mc_store *s, MDB_txn *txn, uint64_t seen);
int mci_store_db_refresh(struct mc_store *s);
int mci_store_db_create(struct mc_store *s, const char *name, size_t nlen, struct mc_error *err);

/* store-writer.c */
int mci_store_wloc(struct mc_writer *w, int rc, const char *op, MDB_dbi dbi);
__attribute__((format(printf, 4, 5)))
int mci_store_wfail(struct mc_writer *w, struct mc_error *err, int code, const char *fmt, ...);
__attribute__((format(printf, 4, 5)))
int mci_store_wpoison(struct mc_writer *w, struct mc_error *err, int code, const char *fmt, ...);
void mci_store_writer_free(struct mc_writer *w);
int mci_store_writer_recover(struct mc_writer *w, int grow, struct mc_error *err);
int mci_store_writer_apply(struct mc_writer *w, int type, const void *key, size_t klen,
			   const void *val, size_t vlen, int *outcome, struct mc_error *err);
int mci_store_writer_check(struct mc_writer *w, struct mc_error *err);
size_t mci_store_gen_key(const struct db_ent *e, unsigned char *buf);
int mci_store_meta_u64(struct mc_store *s, MDB_txn *txn, const void *key, size_t klen,
		       uint64_t *ret, const char **op);

/* store-read.c */
int mci_store_rfail(struct mc_reader *r, int rc, const char *op, MDB_dbi dbi);
int mci_store_feed_last_txn(struct mc_store *s, MDB_txn *txn, uint64_t *seq);
int mci_store_counts_decode(const MDB_val *v, uint64_t *present, uint64_t *deleted, int64_t *last);
struct store_view mci_store_view_reader(struct mc_reader *r);
struct store_view mci_store_view_writer(struct mc_writer *w);
int mci_store_vfail(struct store_view *v, int rc, const char *op, MDB_dbi dbi);
int mci_store_view_moved(struct store_view *v, unsigned *epoch);
void mci_store_view_close(const struct store_view *v, MDB_cursor *c, unsigned epoch);
int mci_store_view_reopen(struct store_view *v, MDB_dbi dbi, MDB_cursor **c, const void *last,
			  size_t llen, MDB_val *k, MDB_val *d);

/* store-check.c: the cached counts of a source (store-writer.c's
 * counts_get), and the replay of a LOG_COUNTS entry */
int mci_store_counts_get(struct mc_writer *w, const char *key, size_t klen,
			 struct counts_ent **ret);
int mci_store_apply_counts(struct mc_writer *w, const unsigned char *key, size_t klen,
			   const unsigned char *val, size_t vlen);

/* store-trim.c */
void mci_store_trim(struct mc_store *s, MDB_txn *txn, uint64_t max_rss);

#endif
