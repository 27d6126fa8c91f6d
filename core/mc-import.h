/* mc-import.h — importing a file of records into the store for one source.
 *
 * The file is streamed through mc_parse_file; each record gets its local id
 * (OAI identifier, else 001), its datestamp (OAI datestamp, else 005, else
 * the import time), is normalised to UTF-8 NFC, extracted, and stored in
 * batches of MC_IMPORT_BATCH records (one LMDB transaction each). A bad
 * record is counted, reported, copied to the quarantine and skipped; the
 * good ones around it are stored. On a fatal error the records already read
 * are committed before returning, so nothing good is lost. */
#ifndef MC_IMPORT_H
#define MC_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "mc-config.h"
#include "mc-error.h"
#include "mc-parse.h"
#include "mc-store.h"
#include "mc-text.h"

#define MC_IMPORT_BATCH          1000
#define MC_IMPORT_ENCODINGS      16            /* distinct encodings counted; the rest are "other" */
#define MC_QUARANTINE_MAX_BYTES  (64u << 20)   /* default cap of one run's quarantine file */

struct mc_import_opts {
	enum mc_input input;        /* MC_IN_AUTO: sniff the file */
	enum mc_encoding encoding;  /* declared encoding; MC_ENC_AUTO: detect per record */
	const char *quarantine_dir; /* <data_dir>/quarantine; NULL keeps no copies */
	uint64_t quarantine_max;    /* bytes written to the quarantine per run; 0: default */
	int64_t now;                /* the import time (seconds, UTC); 0: time(NULL) */
};

struct mc_import_enc {
	char name[32];              /* r->encoding: "utf-8", "tcvn3", ... or "other" */
	uint64_t n;
};

struct mc_import_stats {
	uint64_t read;              /* records met in the input, good and bad */
	uint64_t added;             /* new in the store */
	uint64_t changed;
	uint64_t unchanged;         /* identical to the stored record (or a delete of a
	                               record that was not there) */
	uint64_t deleted;           /* present records that the input marks deleted */
	uint64_t bad;               /* not stored: reported and quarantined */
	uint64_t repaired;          /* stored after a repair by mc_record_check_marc
	                               (indicator or leader byte set to blank) */
	uint64_t duplicates;        /* ids met more than once in this input (the later wins) */
	uint64_t bytes;             /* input bytes read */
	struct mc_import_enc enc[MC_IMPORT_ENCODINGS];
	size_t nenc;
	double seconds;
	char quarantine[512];       /* the quarantine file written, "" if none */
	uint64_t quarantined;       /* bad records copied there (the cap may stop copies) */
};

/* Called for each bad record (at most MC_MAX_ERRORS_REPORTED per run; the
 * rest are only counted). e names file, offset/line, source, record id and
 * what was wrong; borrowed for the call. */
typedef void (*mc_import_report_cb)(void *ctx, const struct mc_error *e);

/* Import the records in path ("-" = standard input) for source src into s.
 * o may be NULL (defaults); cb may be NULL; st (may be NULL) is filled in
 * whatever the outcome.
 * 0 when the whole input was read (bad records are not failures: see
 * st->bad); otherwise the fatal error (-errno: the file cannot be read;
 * MC_E_PARSE / MC_E_ENTITY: the input as a whole is unusable; MC_E_STORE,
 * MC_E_FULL, ...: the store failed) with err filled in. The records read
 * before a fatal input error are stored. */
int mc_import_file(struct mc_store *s, const struct mc_source *src, const char *path,
		   const struct mc_import_opts *o, mc_import_report_cb cb, void *ctx,
		   struct mc_import_stats *st, struct mc_error *err);

/* ---- the same pipeline fed record by record (the harvester) ----
 * mc_import_file is mc_import_begin + mc_parse_file(..., mc_import_record, im)
 * + mc_import_end. */
struct mc_import;

/* Start an import for src into s; input names the input in error reports
 * (a file name or a page URL; copied). 0 or error; *ret set only on
 * success. Caller ends it with mc_import_end. */
int mc_import_begin(struct mc_store *s, const struct mc_source *src, const char *input,
		    const struct mc_import_opts *o, mc_import_report_cb cb, void *ctx,
		    struct mc_import **ret);
/* Change the input named in later error reports (the next page's URL). */
void mc_import_set_input(struct mc_import *im, const char *input);
/* An mc_parse_cb: ctx is the struct mc_import. Non-zero return = a fatal
 * store error (the parser stops). */
int mc_import_record(void *ctx, struct mc_record *rec, const struct mc_error *bad,
		     const char *raw, size_t raw_len);
/* Store (scope, key) = value in the same transaction as every record handed
 * over before it, and commit that transaction: after a crash either both the
 * records and the state are there or neither (the harvester's resumption
 * token). Waits until it is durable. 0 or the fatal store error. */
int mc_import_checkpoint(struct mc_import *im, const char *scope, const char *key,
			 const char *value, struct mc_error *err);
/* The same without waiting for the commit: the records and the state are
 * handed to the import's writer thread, which commits them in one
 * transaction, in order, while the caller goes on (the harvester fetches the
 * next page meanwhile). A later mc_import_checkpoint, delete_unseen or end
 * waits for it; a failure of that commit is returned by a later call.
 * 0 or an error already known. */
int mc_import_checkpoint_nowait(struct mc_import *im, const char *scope, const char *key,
				const char *value, struct mc_error *err);
/* After a complete harvest (--full): mark deleted every present record of
 * the source that this import did not see. Refuses (MC_E_USAGE) when the
 * import saw no record or could not remember every id. *ndeleted may be NULL. */
int mc_import_delete_unseen(struct mc_import *im, uint64_t *ndeleted, struct mc_error *err);
/* Drain the pipeline, commit, fill st (may be NULL), free im. Returns the
 * first fatal error of the import (err filled in) or 0. */
int mc_import_end(struct mc_import *im, struct mc_import_stats *st, struct mc_error *err);

/* What the import does to one record the parser found well-formed, before
 * it is packed and stored: its local id (OAI identifier, else 001), source
 * (borrowed: must outlive rec), datestamp (OAI datestamp, else 005, else
 * now), and unless it is a deletion mc_record_check_marc (*repairs, may be
 * NULL, gets the bytes repaired), mc_record_normalise with the declared
 * encoding enc, and mc_record_extract.
 * 0: accepted, the store takes rec as it now is; -ENOMEM: out of memory
 * (fatal); any other code: the record is bad (MC_E_PARSE: no id,
 * MC_E_ENCODING, MC_E_TOOBIG: past a cap of mc-limits.h, ...) and err (may
 * be NULL) says why. Every accepted record can be exported as JSON and
 * MARCXML: the fuzz targets check it (tests/fuzz). */
int mc_import_prepare(struct mc_record *rec, const char *source, enum mc_encoding enc,
		      int64_t now, unsigned *repairs, struct mc_error *err);

/* Seconds since the epoch for a MARC 005 value ("yyyymmddhhmmss[.f]").
 * 0 or MC_E_PARSE (not a valid date and time, e.g. all zeros). */
int mc_marc005_parse(const char *s, size_t len, int64_t *ret);

#endif
