/* ix-search.h — searching the union index (the query side of indexer/).
 *
 * The index layout (terms, values, document data) is schemas/index.md.
 * A searcher wraps one read-only Xapian database; Xapian objects are not
 * thread-safe, so every thread (every server worker) opens its own. Nothing
 * here throws: the C++ shim catches every Xapian exception and turns it into
 * an error code with a message in struct mc_error. */
#ifndef IX_SEARCH_H
#define IX_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core.h"

/* ---- limits (every one is checked; past it the request is refused with
 * MC_E_USAGE or MC_E_TOOBIG and a message, never silently cut) ---- */
#define IX_MAX_QUERY_BYTES   1024u  /* the q argument, after URL decoding */
#define IX_MAX_QUERY_TERMS   32u    /* words, phrases and field terms in one query */
#define IX_MAX_QUERY_DEPTH   8u     /* nested parentheses / boolean operators */
#define IX_MAX_PAGE_SIZE     100u   /* size */
#define IX_MAX_RESULT_DEPTH  10000u /* (page - 1) * size + size */
#define IX_MAX_FILTERS       32u    /* filter values in one request, all facets */
#define IX_MAX_FILTER_BYTES  256u   /* one filter value */
#define IX_QUERY_TIME_MS     1000u  /* per query: past it, partial results ("partial": true) */
#define IX_MAX_FACET_VALUES  30u    /* values listed per facet */
#define IX_MAX_SUGGEST       10u    /* suggestions returned */
/* Matches looked at for the total and the facet counts: both are exact up
 * to this many matching records; past it "total_exact" and the facets'
 * "exact" are false and the figures are estimates (the counts of the
 * records looked at, scaled to the estimated total). Looking at every match
 * costs about a microsecond each: too slow for broad queries over 1M. */
#define IX_COUNT_AT_LEAST    1000u

struct ix_searcher;

/* Open the index of data_dir (the stub <data_dir>/index, schemas/index.md)
 * read-only. Caller frees with ix_searcher_close. 0, MC_E_NOTFOUND (no
 * index built yet), MC_E_STORE (Xapian error; err->msg says which), -ENOMEM. */
int ix_searcher_open(const char *data_dir, struct ix_searcher **ret, struct mc_error *err);
/* Close. NULL is a no-op. */
void ix_searcher_close(struct ix_searcher *s);
/* Pick up the latest commit, and a rebuilt index swapped in under the stub.
 * Cheap when nothing changed (call it before every request). 1 changed,
 * 0 unchanged, or an error (the old view stays usable). */
int ix_searcher_refresh(struct ix_searcher *s, struct mc_error *err);

/* What /health reports. */
struct ix_info {
	uint64_t docs;        /* documents (live public union records) */
	uint64_t cursor;      /* last union feed sequence in the index */
	uint64_t revision;    /* Xapian revision */
	char uuid[40];        /* the database's UUID (changes with a rebuild) */
};
int ix_searcher_info(struct ix_searcher *s, struct ix_info *ret, struct mc_error *err);

enum ix_sort { IX_SORT_RELEVANCE = 0, IX_SORT_YEAR, IX_SORT_YEAR_DESC, IX_SORT_TITLE };
enum ix_group { IX_GROUP_WORK = 0, IX_GROUP_NONE };

/* One filter value: facet is one of "library", "province", "type", "lang",
 * "material", "category", "digital", "year" (values as the facets list them).
 * Values of one facet are ORed, facets ANDed. */
struct ix_filter {
	const char *facet;
	const char *value;
};

struct ix_search_req {
	const char *q;        /* the reader's query (UTF-8, any normal form); may be empty
	                         when filters are given (then: everything filtered) */
	size_t qlen;
	unsigned page;        /* 1-based */
	unsigned size;        /* results per page, 1..IX_MAX_PAGE_SIZE */
	int sort;             /* enum ix_sort */
	int group;            /* enum ix_group */
	const struct ix_filter *filters;
	size_t nfilters;
	int year_from, year_to; /* 0: open */
	const char *work;     /* only the editions of this work key (results' "work"), or NULL */
	int no_facets;        /* 1: skip facet counting */
};

/* Run a search. *ret (caller decrefs) is
 *   {"total": N, "total_exact": bool, "page", "size", "group": "work"|"none",
 *    "results": [{"id", "title", "names", "year", "publisher", "isbn",
 *                 "material", "work", "editions", "holdings": [{"library",
 *                 "name", "call_number", "items", "link"}]}],
 *    "facets": {"counts": "editions", "exact": bool,
 *               "library": [{"value", "label", "count"}], "province", "type",
 *               "lang", "material", "category", "digital", "year"},
 *    "did_you_mean": "corrected query" | null, "relaxed": bool,
 *    "corrected": bool, "partial": bool, "took_ms": N}
 * "relaxed": no record had every word, so most of them were asked for
 * (all but one, or any of them).
 * "editions": the editions of the result's work in the index, whatever the
 * query and filters (1 with group none: what work=<work> lists).
 * "corrected": words were also searched as their likely corrections (each
 * swap of two adjacent letters some records have, Xapian's spelling
 * suggestion) because no record has them or the query found little;
 * "did_you_mean" is the query with the most frequent corrections.
 * "partial": the time limit cut the match.
 * Facet values by count, at most IX_MAX_FACET_VALUES each; the library's
 * label is its name. A filter's facet may also be "year". Sorts by year or
 * title put records without one last. With work, group is none.
 * The facet counts and total of a request are remembered by the searcher
 * for its other pages, and whole answers and each document's facet values
 * for the next time (until the index changes; memory: see
 * indexer/search-internal.h).
 * 0; MC_E_USAGE (a bad request: err->msg is the message for the reader, as
 * for an empty query without filters); MC_E_TOOBIG (a limit above);
 * MC_E_STORE; -ENOMEM. */
int ix_search(struct ix_searcher *s, const struct ix_search_req *req, json_t **ret,
	      struct mc_error *err);

/* Autocomplete titles and authors starting with q (the last word may be
 * partial; folded comparison). *ret: {"q", "suggestions": [{"text", "kind":
 * "title"|"author", "count"}]}, by count: a title (the main title, before
 * " : ") counts the editions of its works, a name the records it was seen
 * on, among the first 50 matches of each kind (typing must stay fast).
 * Same errors as ix_search. */
int ix_suggest(struct ix_searcher *s, const char *q, size_t qlen, json_t **ret,
	       struct mc_error *err);

/* The union record id's indexed document data (schemas/index.md, "Document
 * data") as a new JSON object in *ret, and its work key in work (the
 * caller's, 64 bytes). 0, MC_E_NOTFOUND (not in the public index:
 * restricted, deleted or not indexed yet). */
int ix_lookup(struct ix_searcher *s, uint64_t union_id, json_t **ret, char work[64],
	      struct mc_error *err);

#endif
