/* search-internal.h — between search.c (requests, JSON) and the C++ shim
 * xapian-search.cc (everything Xapian). Private to indexer/. Plain C; no
 * exception crosses it: every ixx_ function catches and returns a code with
 * err->msg set. */
#ifndef IX_SEARCH_INTERNAL_H
#define IX_SEARCH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ix-query.h"
#include "ix-search.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The facets counted, in this order (value slots 10..16, then the year from
 * slot 0). */
#define IXX_NFACETS 8
extern const char *const ixx_facet_names[IXX_NFACETS];

struct ixx_db;

/* Open the stub file path read-only. 0, MC_E_NOTFOUND (no stub),
 * MC_E_STORE, -ENOMEM. Caller frees with ixx_close. */
int ixx_open(const char *stub, struct ixx_db **ret, struct mc_error *err);
void ixx_close(struct ixx_db *db);
/* ix_searcher_refresh: 1 changed, 0 unchanged, or an error. */
int ixx_refresh(struct ixx_db *db, struct mc_error *err);
int ixx_info(struct ixx_db *db, struct ix_info *ret, struct mc_error *err);
/* Documents with work key work (its editions in the index); at least 1. */
uint64_t ixx_work_editions(struct ixx_db *db, const char *work);
/* The revision of the database as this reader sees it (0 on an error). */
uint64_t ixx_revision(struct ixx_db *db);

struct ixx_spec {
	struct ix_query *q;               /* NULL or q->root NULL: every document */
	const struct ix_filter *filters;  /* facet names checked by the caller */
	size_t nfilters;
	int year_from, year_to;
	const char *work;
	unsigned first, size;
	int sort, group;
	int facets;                       /* count facets */
};

struct ixx_value {
	char *value;                      /* malloc'd */
	uint64_t count;
};

struct ixx_hit {
	char *data;                       /* document data (JSON), malloc'd */
	size_t len;
	unsigned editions;                /* 1 + the others of its work */
};

struct ixx_out {
	uint64_t total;                   /* results (works when grouped) */
	int total_exact;
	struct ixx_hit *hits;
	size_t nhits;
	struct ixx_value *facet[IXX_NFACETS];  /* by count, at most IX_MAX_FACET_VALUES */
	size_t nfacet[IXX_NFACETS];
	int counts_exact;                 /* facet counts exact (else scaled estimates) */
	int relaxed, partial;
	int corrected;                    /* some words had a fix put in (typo fallback) */
	int suggest;                      /* words' fix set for did-you-mean */
};

/* Run spec. The words' fix members of spec->q are set (in q's arena) where
 * a spelling correction was used or is suggested. Caller frees *out with
 * ixx_out_free (also after a failure). 0, MC_E_STORE, -ENOMEM.
 * db remembers, for the revision of the database it reads (a commit or a
 * rebuild clears both): the facet values of each document counted (one id
 * per docid, at most 4 bytes a document; 2^20 distinct combinations), and
 * whole answers (hits' docids and editions, totals, facet counts) keyed by
 * the Xapian query with its filters, range, sort, group and facets, at most
 * 24 MiB, then dropped whole. Corrected and partial answers are not kept. */
int ixx_search(struct ixx_db *db, const struct ixx_spec *spec, struct ixx_out *out,
	       struct mc_error *err);
void ixx_out_free(struct ixx_out *out);

/* The document data of the first document with term (any one), malloc'd
 * in *data. 0, MC_E_NOTFOUND, MC_E_STORE, -ENOMEM. */
int ixx_term_data(struct ixx_db *db, const char *term, char **data, size_t *len,
		  struct mc_error *err);

/* Up to max documents with field prefix ("XT" or "XA") words words[0..n)
 * where the last one is a prefix when last_partial; cb gets each document's
 * data (borrowed for the call). 0, MC_E_STORE, -ENOMEM. */
int ixx_prefix_docs(struct ixx_db *db, const char *prefix, const char *const *words, size_t n,
		    int last_partial, unsigned max,
		    void (*cb)(void *ctx, const char *data, size_t len), void *ctx,
		    struct mc_error *err);

/* The document data of union id (term Q<id>) and its work key (value slot
 * 2, cut to fit work[64]). *data malloc'd. 0, MC_E_NOTFOUND, MC_E_STORE. */
int ixx_lookup(struct ixx_db *db, uint64_t id, char **data, size_t *len, char work[64],
	       struct mc_error *err);

#ifdef __cplusplus
}
#endif

#endif
