/* mc-parse.h — streaming parsers for MARCXML, oai_dc (bare or in an OAI-PMH
 * envelope) and ISO 2709.
 *
 * Parsers are push parsers: feed bytes as they arrive (a file read loop, or
 * libcurl's write callback), and a callback gets one record at a time.
 * Memory is bounded by the largest record, never by the input size. */
#ifndef MC_PARSE_H
#define MC_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "mc-date.h"  /* mc_datestamp_parse */
#include "mc-error.h"
#include "mc-record.h"

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

#endif
