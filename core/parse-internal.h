/* parse-internal.h — what the parser front end (xmlparse.c: mc_parser_*,
 * sniffing, the MARCXML / OAI-PMH parser) shares with iso2709.c.
 * Not part of core's public interface. */
#ifndef MC_PARSE_INTERNAL_H
#define MC_PARSE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mc-parse.h"

/* Bytes handed to a format parser at a time (also the read size of mc_parse_file). */
#define MC_PARSE_CHUNK (64u << 10)
/* Leading bytes kept while the input format is not known yet. */
#define MC_PARSE_HEAD 4096u

struct mc_xml;
struct mc_iso;

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
	struct mc_xml *xml;
	struct mc_iso *iso;
};

/* Fill p->bad for a record fault (file and source from the options; the
 * record id is added by mc_parser_emit). off/line: -1/0 when unknown. */
void mc_parser_bad(struct mc_parser *p, int code, int64_t off, int64_t line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Make code the sticky fatal error of the whole input, with detail; returns code.
 * A fatal error already set is kept. */
int mc_parser_fail(struct mc_parser *p, int code, int64_t off, int64_t line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Hand p->rec to the callback: bad != 0 passes p->bad (its record_id set
 * from id, which may be NULL). Counts the record. Returns the callback's value;
 * a non-zero value is also stored in p->stop_rc. */
int mc_parser_emit(struct mc_parser *p, int bad, const char *id, const char *raw, size_t raw_len);

/* ISO 2709 stream parser (iso2709.c). Errors are set with mc_parser_fail and
 * returned; records go out through mc_parser_emit. */
int mc_iso_new(struct mc_parser *p, struct mc_iso **ret);
int mc_iso_feed(struct mc_iso *s, const char *buf, size_t len);
int mc_iso_finish(struct mc_iso *s);
void mc_iso_free(struct mc_iso *s);

#endif
