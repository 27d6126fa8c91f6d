/* harvester-internal.h — the harvester's pure helpers (util.c), shared by
 * harvest.c and the unit tests. Private to harvester/ and its tests. */
#ifndef HV_INTERNAL_H
#define HV_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "ingest.h"

#define HV_MAX_EMPTY_PAGES   10           /* consecutive empty pages with a token */
#define HV_MAX_TOKEN_BYTES   1023         /* as struct mc_oai_info.token */
#define HV_PAGE_KEEP_BYTES   (4u << 20)   /* raw bytes of a page kept for the quarantine */
#define HV_MAX_SAVED_PAGES   50           /* raw pages saved per source and run */
#define HV_MAX_META_BYTES    (1u << 20)   /* an Identify / ListMetadataFormats response */
#define HV_STATE_BYTES       4096         /* an encoded harvest state */

/* 1 if the OAI granularity string means seconds ("YYYY-MM-DDThh:mm:ssZ"),
 * 0 for day granularity ("YYYY-MM-DD", and anything unknown). */
int hv_granularity_seconds(const char *granularity);

/* The `from` of the next incremental run, given the responseDate of the
 * start of the last successful run and the provider's granularity: the same
 * instant at seconds granularity; the day before at day granularity (the
 * overlap makes sure nothing changed that day is missed).
 * 0 or MC_E_PARSE (response_date is not a datestamp), MC_E_TOOBIG. */
int hv_next_from(const char *response_date, const char *granularity, char *buf, size_t bufsz);

/* Seconds to wait before attempt number `attempt` (2, 3, ...; attempt 1 is
 * not delayed): base * 2^(attempt-2), capped at cap, then scaled by a
 * jitter in [0.5, 1.0) taken from u (uniform in [0, 1)). Never negative,
 * never more than cap. */
double hv_backoff_delay(int attempt, double base, double cap, double u);

/* Parse an HTTP Retry-After value: delta-seconds ("120") or an HTTP-date
 * ("Wed, 21 Oct 2015 07:28:00 GMT", relative to now). A date in the past
 * gives 0. 0 and *ret set, or MC_E_PARSE. */
int hv_retry_after_parse(const char *value, int64_t now, double *ret);

/* A page's identifiers, folded in any order into one value: two pages with
 * the same set of identifiers (and no other) have the same digest. */
struct hv_page_ids {
	uint64_t sum, mix;  /* sum and xor of per-identifier hashes */
	uint64_t n;         /* identifiers added */
};

/* Add one identifier (len bytes, not necessarily NUL-terminated). */
void hv_page_ids_add(struct hv_page_ids *p, const char *id, size_t len);

/* Loop guard for one list request (one set of one run). A loop is not a
 * token met again (some providers keep a cursor behind one token, or send
 * the token they were asked with once before moving on) but pages that bring
 * nothing new: a (token, identifiers) pair met before in this list,
 * MC_MAX_HARVEST_STALE_PAGES times in a row. */
struct hv_guard {
	uint64_t *seen;     /* hashes of the (token, identifiers) pairs met (open
	                       addressing; 0 = empty) */
	size_t n, cap;
	int empty_run;      /* consecutive pages without a record that carried a token */
	int stale_run;      /* consecutive pages that brought nothing new */
};

/* Check one page: its resumption token ("" or NULL = the list ends), the
 * number of records it held, the digest of their identifiers and its OAI
 * error code ("" or NULL = none). 0 when the harvest may go on (a page that
 * brings nothing new but is not yet the MC_MAX_HARVEST_STALE_PAGES-th in a
 * row also gives 0: g->stale_run says how many). MC_E_PARSE with why filled
 * in when the provider loops (MC_MAX_HARVEST_STALE_PAGES pages in a row
 * with nothing new, more than HV_MAX_EMPTY_PAGES empty pages in a row, a
 * token on noRecordsMatch). -ENOMEM. */
int hv_guard_page(struct hv_guard *g, const char *token, uint64_t records,
		  const struct hv_page_ids *ids, const char *error_code, char *why,
		  size_t whysz);
/* Free the guard's memory (the struct itself is the caller's). */
void hv_guard_free(struct hv_guard *g);

/* What is saved after every committed page (store state "harvest:<ID>",
 * key "state"). */
struct hv_state {
	int active;              /* 1: a run is unfinished (resume it) */
	unsigned set;            /* index of the set being harvested */
	char setspec[256];       /* its spec, to notice a changed configuration */
	uint64_t pages;          /* pages committed in this run */
	char token[HV_MAX_TOKEN_BYTES + 1]; /* resumption token, "" at a list's start */
	char from[40], until[40];/* the run's arguments, "" when absent */
	char prefix[64];         /* the run's metadataPrefix */
	char start[40];          /* Identify responseDate at the start of this run */
	char last_start[40];     /* ... of the last successful run ("" = none) */
};

/* Encode st as "key=value" lines (values %-escaped). 0 or MC_E_TOOBIG. */
int hv_state_encode(const struct hv_state *st, char *buf, size_t bufsz);
/* Decode what hv_state_encode wrote (unknown keys are ignored, so later
 * versions may add some). 0 or MC_E_CORRUPT; *st is zeroed first. */
int hv_state_decode(const char *s, struct hv_state *st);

#endif
