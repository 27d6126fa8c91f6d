/* ingest.h — the ingest module's public header: the import pipeline (a
 * file or a harvester's pages of records into the store for one source)
 * and the streaming parsers it is fed by. Used by cli/ and harvester/; the
 * other stages (merger, indexer, api) do not read input files and do not
 * include it. Depends on core/ only.
 *
 * ---- parsing ----
 *
 * Streaming parsers for MARCXML, oai_dc (bare or in an OAI-PMH envelope) and
 * ISO 2709.
 *
 * Parsers are push parsers: feed bytes as they arrive (a file read loop, or
 * libcurl's write callback), and a callback gets one record at a time.
 * Memory is bounded by the largest record, never by the input size. */
#ifndef MC_INGEST_H
#define MC_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "mc-config.h"
#include "mc-date.h"  /* mc_datestamp_parse, mc_marc005_parse */
#include "mc-error.h"
#include "mc-record.h"
#include "mc-store.h"
#include "mc-text.h"

enum mc_input {
	MC_IN_AUTO = 0,
	MC_IN_MARCXML,   /* MARCXML collection/record, with or without an OAI-PMH envelope */
	MC_IN_ISO2709,
	MC_IN_OAI_DC,    /* oai_dc, with or without an OAI-PMH envelope */
	MC_IN_XML,       /* any of the XML ones: decided per record by namespace */
};

/* "auto", "marcxml", "iso2709", "oai_dc". 0 or MC_E_USAGE. */
int mc_input_parse(const char *name, enum mc_input *ret);
/* Guess from the first bytes of a file: MC_IN_ISO2709 (5 digits, ...) or
 * MC_IN_XML (BOM / '<'); MC_IN_AUTO if neither. */
enum mc_input mc_input_sniff(const char *buf, size_t len);

/* What an OAI-PMH envelope said (filled as the response is parsed). */
struct mc_oai_info {
	int envelope;               /* 1 if an <OAI-PMH> root was seen */
	char response_date[40];     /* <responseDate> */
	char verb[32];              /* <request verb=...> */
	char error_code[64];        /* <error code=...>, first one */
	char error_msg[512];
	int has_token;              /* a <resumptionToken> element was seen */
	char token[1024];           /* its text (empty = list complete) */
	int64_t complete_list_size; /* -1 unknown */
	int64_t cursor;             /* -1 unknown */
	char token_expiration[40];
	/* Identify */
	char granularity[32];
	char earliest_datestamp[40];
	char deleted_record[16];
	uint64_t records;           /* <record> elements seen (present + deleted + bad) */
};

struct mc_parse_opts {
	enum mc_input input;        /* MC_IN_AUTO: sniff */
	const char *filename;       /* for error reports (file name or URL); may be NULL */
	const char *source;         /* for error reports; may be NULL */
};

/* Called once per record, in input order.
 *   rec:   the record; owned by the parser and valid only during the call
 *          (the parser resets and reuses it). rec->in_offset / in_line say
 *          where it started. Strings from XML are UTF-8 as the XML parser
 *          decoded them (not yet NFC); strings from ISO 2709 are the raw
 *          bytes (leader/09 says what the file claims). OAI header: when
 *          present, rec->local_id is the OAI identifier, rec->datestamp its
 *          datestamp and rec->status MC_REC_DELETED for status="deleted".
 *   bad:   NULL for a well-formed record, else what was wrong (code, offset,
 *          line, record id if it could be read); rec then holds whatever was
 *          read before the fault and must not be stored.
 *   raw:   the record's bytes as read, when the parser kept them (for the
 *          quarantine); may be NULL.
 * Return 0 to go on; any other value stops the parser, which returns it. */
typedef int (*mc_parse_cb)(void *ctx, struct mc_record *rec, const struct mc_error *bad,
			   const char *raw, size_t raw_len);

struct mc_parser;

/* New push parser. o is copied (strings borrowed: they must outlive the
 * parser). Caller frees with mc_parser_free. 0 or -ENOMEM. */
int mc_parser_new(const struct mc_parse_opts *o, mc_parse_cb cb, void *ctx,
		  struct mc_parser **ret);
/* Feed the next len bytes. Returns 0, the callback's non-zero value, or a
 * fatal error for the whole input (MC_E_ENTITY for a DTD with entity
 * declarations, MC_E_PARSE when the input is not a format we read at all,
 * e.g. an HTML page) with err filled in. Faults confined to one record are
 * reported through the callback and are not fatal. */
int mc_parser_feed(struct mc_parser *p, const char *buf, size_t len, struct mc_error *err);
/* End of input: a record still open is reported as MC_E_TRUNCATED. */
int mc_parser_finish(struct mc_parser *p, struct mc_error *err);
/* The OAI-PMH envelope information seen so far (borrowed, valid until free). */
const struct mc_oai_info *mc_parser_oai(const struct mc_parser *p);
/* Bytes consumed so far. */
uint64_t mc_parser_offset(const struct mc_parser *p);
void mc_parser_free(struct mc_parser *p);

struct mc_parse_stats {
	uint64_t records;   /* reported to the callback, good and bad */
	uint64_t bad;       /* reported with bad != NULL */
	uint64_t bytes;
};

/* Parse a whole file ("-" = standard input) with a push parser, reading in
 * 64 KiB chunks. st may be NULL. Returns as mc_parser_feed/finish, or -errno
 * when the file cannot be read. */
int mc_parse_file(const char *path, const struct mc_parse_opts *o, mc_parse_cb cb, void *ctx,
		  struct mc_parse_stats *st, struct mc_error *err);

/* ---- importing ----
 *
 * Importing a file of records into the store for one source.
 *
 * The file is streamed through mc_parse_file; each record gets its local id
 * (OAI identifier, else 001), its datestamp (OAI datestamp, else 005, else
 * the import time), is normalised to UTF-8 NFC, extracted, and stored in
 * batches of MC_IMPORT_BATCH records (one LMDB transaction each). A bad
 * record is counted, reported, copied to the quarantine and skipped; the
 * good ones around it are stored. On a fatal error the records already read
 * are committed before returning, so nothing good is lost. */

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
/* What mc_import_delete_unseen would do, without doing it: *unseen = the
 * present records of the source this import did not see, *present = all
 * present records of the source (both set only on success). Waits for the
 * records handed over so far to be committed. 0, MC_E_USAGE as
 * mc_import_delete_unseen (nothing seen, too many ids), or a store error. */
int mc_import_unseen_count(struct mc_import *im, uint64_t *unseen, uint64_t *present,
			   struct mc_error *err);
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

#endif
