/* hv.h — the OAI-PMH harvester: brings every configured library's changes
 * into the store, incrementally, resuming after a crash from the last
 * committed page. The only public header of harvester/. */
#ifndef HV_H
#define HV_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"

struct hv_opts {
	int full;                 /* no `from`; delete what the run did not see, unless
	                             that is more than the source's full_delete_limit */
	int force;                /* with full: delete even past full_delete_limit */
	const char *from;         /* override the incremental `from` (OAI datestamp), or NULL */
	const char *until;        /* `until`, or NULL */
	int jobs;                 /* sources in parallel; 0: the config's [harvest] jobs */
};

/* The outcome of one source's run. */
struct hv_result {
	char source[64];
	int rc;                   /* 0: the run completed; else why it failed (MC_E_USAGE:
	                             every record arrived but --full refused the
	                             deletions, past full_delete_limit) */
	char reason[512];         /* when rc != 0: what went wrong, for people */
	uint64_t added, changed, deleted, unchanged;
	uint64_t errors;          /* bad records (reported, quarantined, not stored) */
	uint64_t pages;           /* list pages committed */
	double seconds;
};

/* Called for details meant for an operator (a bad record, a retry, a
 * quarantined page): source id, the URL concerned (may be ""), message.
 * Calls are serialised by the harvester; strings are borrowed for the call. */
typedef void (*hv_note_cb)(void *ctx, const char *source, const char *url, const char *msg);

/* Harvest the n sources srcs (each must have a url) of cfg into s, on up to
 * o->jobs threads, one connection per host at a time. res must hold n
 * results, filled in the order of srcs. o may be NULL (incremental run).
 * Each source's state (resumption token, last success, last error, counts)
 * is kept in the store, scope "harvest:<ID>".
 * Returns 0 when every source completed without bad records, 1 when some
 * failed or had bad records (see res), or a negative error when nothing
 * could run (-ENOMEM, MC_E_USAGE). Not reentrant: one run per process at a
 * time (libcurl global state). */
int hv_harvest_run(struct mc_store *s, const struct mc_config *cfg,
		   const struct mc_source *const *srcs, size_t n, const struct hv_opts *o,
		   hv_note_cb note, void *ctx, struct hv_result *res);

/* What `mucluc sources` shows for a source, read from the store (empty
 * strings / zero when never harvested). */
struct hv_status {
	char last_success[40];    /* UTC time of the end of the last successful run */
	char last_error_time[40];
	char last_error[512];     /* "" when the last run succeeded */
	char last_run[256];       /* counts of the last run: "N new, N changed, ..." */
};
/* Read the harvest status of source id. 0 (fields empty when never
 * harvested) or a store error. */
int hv_status_get(struct mc_store *s, const char *id, struct hv_status *st);

#endif
