/* merger-internal.h — what the merger's files share (private to merger/).
 *
 * A record becomes a member summary (struct mg_mem): the few fields matching
 * and the merged view need, its match keys, and the id of the union record
 * it belongs to. Summaries, union records, key lists, the union feed and the
 * overrides live in named key/value databases reached through struct mg_kv,
 * so the same engine runs on the LMDB store (a batch of mc_writer) and on an
 * in-memory table (unit tests, benchmarks). Layout: schemas/union.md. */
#ifndef MG_MERGER_INTERNAL_H
#define MG_MERGER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "mg.h"

/* database names */
#define MG_DB_MEMBER "mg_member"
#define MG_DB_UNION "mg_union"
#define MG_DB_KEY "mg_key"
#define MG_DB_FEED "mg_feed"
#define MG_DB_OVERRIDE "mg_override"
#define MG_DB_STATE "mg_state"     /* "epoch" (u64be), "rebuild" (present while one runs),
				    * "gen" (u64be, see mg_gen_bump) */

#define MG_MAX_KEYS 24            /* match keys per record */
#define MG_MAX_KEY_REFS 64        /* members listed under one key: more = not discriminating */
#define MG_MAX_CLUSTER 256        /* members of one union re-clustered pairwise */
#define MG_MAX_LIST 64            /* identifiers / subjects / links kept per member */
#define MG_MAX_STR 2048           /* any one string kept in a summary */
#define MG_MAX_REF (MC_MAX_SOURCE_ID + 1 + MC_MAX_ID_BYTES)

/* ---- key/value backend ---- */
struct mg_kv {
	void *ctx;
	int (*get)(void *ctx, const char *db, const void *k, size_t kl, const void **v, size_t *vl);
	int (*put)(void *ctx, const char *db, const void *k, size_t kl, const void *v, size_t vl);
	int (*del)(void *ctx, const char *db, const void *k, size_t kl);
	int (*each)(void *ctx, const char *db, const void *prefix, size_t pl, mc_kv_cb cb,
		    void *cbctx);
	int (*seq_next)(void *ctx, const char *name, uint64_t *ret);
	int (*clear)(void *ctx, const char *db);
	/* optional: called every few hundred reads of a long walk or run, to
	 * keep the store's mapped pages out of RSS */
	void (*trim)(void *ctx);
	/* optional: what the last failed call was doing and why, in the
	 * backend's words ("mdb_put into mg_key: MDB_MAP_FULL: ..."); "" or
	 * NULL when it has nothing to add to the error code. Borrowed. */
	const char *(*why)(void *ctx);
};

/* The backend's account of the last failure, else mc_strerror(rc). */
const char *mg_kv_why(const struct mg_kv *kv, int rc);
/* mc_writer_errmsg(w) when it says something, else mc_strerror(rc). */
const char *mg_writer_why(const struct mc_writer *w, int rc);

#define MG_TRIM_EVERY 32          /* records applied between trims */
#define MG_TRIM_WALK 1024         /* pairs of a walk between trims */
#define MG_TRIM_RSS (64u << 20)   /* file-backed RSS the merge keeps under */

/* in-memory backend (kv-mem.c) */
struct mg_memkv;
int mg_memkv_new(struct mg_memkv **ret);
void mg_memkv_free(struct mg_memkv *m);
void mg_memkv_ops(struct mg_memkv *m, struct mg_kv *kv);

/* ---- member summary ---- */
struct mg_tv {
	const char *type, *value;
};

struct mg_mem {
	uint64_t uid;            /* union record it belongs to */
	uint64_t epoch;          /* rebuild epoch it was written in */
	uint64_t origin;         /* the union it started when first placed (0: joined one) */
	int64_t datestamp;
	const char *ref;         /* "source:local_id" */
	int year, edition, pages;
	int score;               /* completeness, for choosing the base */
	int format;
	const char *material, *title, *ftitle, *fmain, *fpub;
	const char *resp, *edition_s, *publisher, *place, *date, *extent;
	const char *call_number;
	int items;
	struct mg_tv *ids;
	size_t nids;
	const char **names, **fnames;
	size_t nnames;
	const char **subjects;
	size_t nsubjects;
	const char **links;
	size_t nlinks;
	const char **keys;
	size_t nkeys;
};

/* Build the summary of a present record (strings in a). 0, -ENOMEM,
 * MC_E_TOOBIG. */
int mg_mem_from_record(const struct mc_record *rec, struct mc_arena *a, struct mg_mem *m);
/* Encode without uid (for "unchanged" comparison: same bytes = same content)
 * or with it. */
int mg_mem_pack(const struct mg_mem *m, struct mc_buf *out);
int mg_mem_unpack(const void *p, size_t len, struct mc_arena *a, struct mg_mem *m);

/* Pair verification: 1 same manifestation, 0 not; why (may be NULL) gets the
 * deciding rule, static storage. Symmetric. */
int mg_verify(const struct mg_mem *a, const struct mg_mem *b, const char **why);

/* What mg_verify's first rules (ISBNs, ISSNs, year, material, edition,
 * pages) look at, in 16 bytes: a candidate that fails them is rejected
 * without reading its summary. Identifier values and the material type are
 * reduced to hashes or bit masks (different masks or hashes mean different
 * values), year and edition are capped (values at the cap compare equal, so
 * a cap never rejects): a quick rejection is always a rejection. */
struct mg_quick {
	int32_t pages;
	uint16_t year;            /* capped at 65535 */
	uint16_t material;        /* hash | 1 of a known material type; 0 unknown */
	uint16_t isbn;            /* one bit per value */
	uint8_t edition;          /* capped at 255 */
	uint8_t issn;             /* one bit per value */
	uint8_t has;              /* 1: some ISBN, 2: some ISSN */
};
void mg_quick_from_mem(const struct mg_mem *m, struct mg_quick *q);
/* 1 when mg_verify(a, b) is certainly 0 (never 1 when it would accept). */
int mg_quick_reject(const struct mg_quick *a, const struct mg_quick *b);

/* 1 when a and b share an identifier key (ISBN, ISSN, LCCN, 035, 024). */
int mg_shared_id(const struct mg_mem *a, const struct mg_mem *b);
/* Edition statement to a number ("Tái bản lần thứ 2" = 3, "2nd ed." = 2,
 * "In lần 2" = 2); 0 when none is recognised. */
int mg_edition_number(const char *s);
/* Pages from an extent ("215 tr. ; 21 cm", "xii, 340 p."): the largest
 * number followed by a page word; 0 when none, -ENOMEM when out of memory. */
int mg_extent_pages(const char *s);
/* Bounded edit distance of a[0..al) and b[0..bl); returns max+1 when above max. */
int mg_edit_distance(const char *a, size_t al, const char *b, size_t bl, int max);

/* ---- union record ---- */
enum { MG_UNION_LIVE = 0, MG_UNION_TOMB = 1 };

struct mg_union {
	uint64_t id;
	int status;
	uint64_t survivor;       /* tombstone of a merge: the union it went into; 0 dissolved */
	int64_t created, datestamp;
	uint64_t epoch;          /* rebuild epoch it was written in */
	const char **members;    /* refs, sorted */
	size_t nmembers, cap;
};

int mg_union_pack(const struct mg_union *u, struct mc_buf *out);
int mg_union_unpack(const void *p, size_t len, struct mc_arena *a, struct mg_union *u);

/* ---- varint/str encoding helpers (mg-pack.c) ---- */
struct mg_rd {
	const unsigned char *p, *end;
	int bad;
};
int mg_put_u(struct mc_buf *b, uint64_t v);
int mg_put_s(struct mc_buf *b, const char *s);
uint64_t mg_get_u(struct mg_rd *r);
const char *mg_get_s(struct mg_rd *r, struct mc_arena *a);

/* ---- match keys in memory (keyidx.c), for large runs ---- */
struct mg_kidx;
int mg_kidx_new(struct mg_kidx **ret);
void mg_kidx_free(struct mg_kidx *x);
/* (hash of a match key, member ref): add (no-op when listed), delete (no-op
 * when absent). 0, -ENOMEM, MC_E_TOOBIG. */
int mg_kidx_add(struct mg_kidx *x, uint64_t h, const char *ref);
int mg_kidx_del(struct mg_kidx *x, uint64_t h, const char *ref);
/* The refs listed under h; cb's non-zero return stops and is returned. */
int mg_kidx_each(struct mg_kidx *x, uint64_t h, int (*cb)(void *ctx, const char *ref),
		 void *ctx);
/* Every entry in mg_key order (hash, then ref bytes). 0, -ENOMEM or cb's
 * value. The last use of x: its tables are freed first (only mg_kidx_free
 * may follow). */
int mg_kidx_sorted(struct mg_kidx *x, int (*cb)(void *ctx, uint64_t h, const char *ref),
		   void *ctx);
/* Quick-verification data of a member ref (kept beside its key entries). */
int mg_kidx_quick_set(struct mg_kidx *x, const char *ref, const struct mg_quick *q);
/* 0 and *q, MC_E_NOTFOUND (never set). */
int mg_kidx_quick_get(struct mg_kidx *x, const char *ref, struct mg_quick *q);
size_t mg_kidx_count(const struct mg_kidx *x);
size_t mg_kidx_bytes(const struct mg_kidx *x);
/* 64-bit FNV-1a of a match key: the mg_key index key (big-endian). */
uint64_t mg_key_hash(const char *key);

/* ---- the engine ---- */
struct mg_merger {
	struct mg_kv kv;
	struct mg_kidx *kidx;    /* borrowed: match keys kept here instead of mg_key */
	struct mg_memkv *mem;    /* owned when the in-memory backend is used */
	struct mc_arena *a;      /* per-operation scratch */
	struct mc_buf tmp, tmp2;
	int64_t now;
	struct mg_stats st;
	uint64_t epoch;          /* current rebuild epoch (mg_state) */
	int rebuilding;          /* a rebuild runs: older-epoch data is the old catalogue */
	uint64_t pref_uid;       /* a rebuild: the union id the record being placed had ... */
	uint64_t pref_uid2;      /* ... and the one it started */
};

/* ---- the merger's write generation (kv-store.c) ----
 * mg_state "gen" (u64be; absent = 0) is bumped by every batch that writes
 * union data (merge batches, rebuild steps, the key write-back, overrides,
 * and `check --repair` when it rewrites mg_ data), before it commits. A run
 * that keeps state across batches (a bulk run's keys in memory) remembers
 * the value its last batch left: another value at the start of its next
 * batch means another writer came in between.
 * To use a store-wide counter instead (mc_writer_generation), change these
 * two; note that one would also move with every import batch. */
/* The generation as batch w sees it. 0 or a store error. */
int mg_gen_get(struct mc_writer *w, uint64_t *ret);
/* Bump it in batch w; *ret (may be NULL) gets the new value. 0 or error. */
int mg_gen_bump(struct mc_writer *w, uint64_t *ret);

/* mg_store_merge with batches of `batch` feed entries (0: 10,000),
 * calling between(ctx, s) after each committed batch of the run, no batch
 * open (tests: another writer comes in between). */
int mg_store_merge_batched(struct mc_store *s, unsigned flags, int64_t now, size_t batch,
			   void (*between)(void *ctx, struct mc_store *s), void *ctx,
			   struct mg_stats *st, struct mc_error *err);

/* Read epoch and rebuild mark from mg_state (after the kv changed). */
int mg_merger_load_state(struct mg_merger *m);

/* Place a member again from its stored summary (after an override). */
int mg_merger_replace(struct mg_merger *m, const char *ref);

#endif
