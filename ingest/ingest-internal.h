/* ingest-internal.h — what the parser front end (parse.c) shares with the
 * format parsers behind it (xml.c, iso2709.c). Not part of ingest's public
 * interface. Cross-file symbols of the module are prefixed ing_. */
#ifndef ING_INTERNAL_H
#define ING_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ingest.h"

/* Bytes handed to a format parser at a time (also the read size of mc_parse_file). */
#define MC_PARSE_CHUNK (64u << 10)
/* Leading bytes kept while the input format is not known yet. */
#define MC_PARSE_HEAD 4096u

/* One input format behind the front end, as curl's Curl_handler: the front
 * end picks one table from the first bytes and calls only these.
 *   new:    state for parser p (borrowed; it outlives the state). 0 or a
 *           negative code; *ret set only on success.
 *   feed:   the next len bytes. 0, the callback's non-zero value (the
 *           parser's stop_rc), or a fatal code set with ing_parser_fail.
 *           Faults of one record go out through ing_parser_emit.
 *   finish: end of input; as feed (MC_E_TRUNCATED for a cut record).
 *   free:   NULL is a no-op. */
struct ing_format {
	const char *name;
	int (*new)(struct mc_parser *p, void **ret);
	int (*feed)(void *st, const char *buf, size_t len);
	int (*finish)(void *st);
	void (*free)(void *st);
};

extern const struct ing_format ing_format_xml;     /* xml.c: MARCXML, oai_dc, OAI-PMH */
extern const struct ing_format ing_format_iso2709; /* iso2709.c */

struct mc_parser {
	struct mc_parse_opts o;
	mc_parse_cb cb;
	void *ctx;
	enum mc_input mode;           /* MC_IN_AUTO until decided, then ISO2709 or an XML mode */
	struct mc_record *rec;        /* reused for every record */
	struct mc_oai_info oai;
	struct mc_error bad;          /* detail handed to the callback for a bad record */
	struct mc_error fatal;        /* sticky fatal error for the whole input */
	int fatal_rc;
	int stop_rc;                  /* the callback's non-zero return, sticky */
	int finished;
	uint64_t offset;              /* bytes fed so far */
	uint64_t nrec, nbad;
	char head[MC_PARSE_HEAD];     /* first bytes, while the format is being sniffed */
	size_t head_len;
	const struct ing_format *fmt; /* NULL until decided */
	void *st;                     /* fmt's state */
};

/* Reset e to code at off/line, naming the parser's file and source. */
void ing_parser_where(struct mc_parser *p, struct mc_error *e, int code, int64_t off, int64_t line);

/* Fill p->bad for a record fault (file and source from the options; the
 * record id is added by ing_parser_emit). off/line: -1/0 when unknown. */
void ing_parser_bad(struct mc_parser *p, int code, int64_t off, int64_t line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Make code the sticky fatal error of the whole input, with detail; returns code.
 * A fatal error already set is kept. */
int ing_parser_fail(struct mc_parser *p, int code, int64_t off, int64_t line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Hand p->rec to the callback: bad != 0 passes p->bad (its record_id set
 * from id, which may be NULL). Counts the record. Returns the callback's value;
 * a non-zero value is also stored in p->stop_rc. */
int ing_parser_emit(struct mc_parser *p, int bad, const char *id, const char *raw, size_t raw_len);

#endif
