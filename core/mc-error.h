/* mc-error.h — error codes and the error detail record shared by every module.
 *
 * Functions return int: 0 on success, a negative value on failure. System
 * errors are -errno; project errors are the enum mc_err values below.
 * Detail meant for the user (file, offset, record id, what was wrong) goes
 * into an optional struct mc_error out-parameter, never only into a log. */
#ifndef MC_ERROR_H
#define MC_ERROR_H

#include <stddef.h>
#include <stdint.h>

enum mc_err {
	MC_E_BASE = -20000,
	MC_E_PARSE,       /* malformed input (XML, ISO 2709, DC) */
	MC_E_ENCODING,    /* bytes that are not valid in the declared/detected encoding */
	MC_E_TOOBIG,      /* a size that input controls went past its limit */
	MC_E_TRUNCATED,   /* input ended in the middle of a record */
	MC_E_CONFIG,      /* bad configuration file or value */
	MC_E_NOTFOUND,    /* no such record / source / key */
	MC_E_STORE,       /* LMDB failure (detail in mc_error) */
	MC_E_FORMAT,      /* unknown or unsupported format */
	MC_E_USAGE,       /* bad command-line usage or API misuse */
	MC_E_CORRUPT,     /* stored value that does not decode */
	MC_E_VERSION,     /* stored value or store written by a newer version */
	MC_E_FULL,        /* disk or map full: nothing of the failed batch was kept */
	MC_E_LOCKED,      /* another process holds the lock */
	MC_E_ENTITY,      /* XML DTD/entity use refused (XXE, entity expansion) */
	MC_E_LAST
};

/* Where and what. Every member is optional; zeroed means unknown.
 * Strings are truncated to fit; they are always NUL-terminated. */
struct mc_error {
	int code;             /* the same value the function returned */
	char source[64];      /* source (library) id */
	char file[256];       /* input file name or URL */
	char record_id[128];  /* local identifier of the record, if known */
	int64_t offset;       /* byte offset in the input of the record or fault, -1 if unknown */
	int64_t line;         /* line in the input (XML), 0 if unknown */
	char msg[512];        /* human-readable description */
};

/* Message for a return code (project code or -errno). Never NULL; static storage. */
const char *mc_strerror(int code);

/* Reset *e to "no error" (offset -1). NULL is allowed (no-op). */
void mc_error_clear(struct mc_error *e);

/* Set e->code and e->msg (printf-style); returns code so callers can write
 * `return mc_error_set(err, MC_E_PARSE, "...")`. e may be NULL. Other members
 * are left as they are. */
int mc_error_set(struct mc_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Copy s into a fixed member (truncating, NUL-terminating). s may be NULL. */
void mc_error_field(char *dst, size_t dstsz, const char *s);

/* Format "file:line/offset: source record: msg (strerror)" into buf. */
void mc_error_format(const struct mc_error *e, char *buf, size_t bufsz);

#endif
