/* mc-date.h — dates and times of mucluc: always UTC, always seconds since
 * the epoch (int64_t), proleptic Gregorian calendar.
 *
 * Read: OAI-PMH datestamps and MARC 005 values. Written: ISO 8601 for JSON
 * and OAI-PMH, a compact form for file names. The parsers do their own
 * calendar arithmetic (no TZ, no locale, no global state), so they are
 * safe from any thread. */
#ifndef MC_DATE_H
#define MC_DATE_H

#include <stddef.h>
#include <stdint.h>

/* Days from 1970-01-01 to y-m-d (negative before it), for any year of the
 * proleptic Gregorian calendar; m 1..12, d 1..31 (not checked against the
 * month: mc_date_valid does that). */
int64_t mc_days_from_civil(int64_t y, unsigned m, unsigned d);

/* 1 if y-m-d is a day of the calendar (y >= 1, leap years counted), else 0. */
int mc_date_valid(int y, int m, int d);

/* Parse an OAI-PMH datestamp, strictly "YYYY-MM-DD" or "YYYY-MM-DDThh:mm:ssZ"
 * (UTC; year 0001..9999, a real day, hh <= 23, mm and ss <= 59) to seconds
 * since the epoch (a day alone is its midnight). 0 or MC_E_PARSE (also for
 * NULL); *ret set only on success. */
int mc_datestamp_parse(const char *s, int64_t *ret);

/* Parse a MARC 005 value, "yyyymmddhhmmss" optionally followed by "." and
 * anything (the tenths; ignored), len bytes at s (no NUL needed), to seconds
 * since the epoch. Same checks as mc_datestamp_parse. 0 or MC_E_PARSE (e.g.
 * all zeros, February 30, fewer than 14 digits); *ret set only on success. */
int mc_marc005_parse(const char *s, size_t len, int64_t *ret);

enum mc_date_form {
	MC_DATE_SECONDS,  /* "2024-01-02T03:04:05Z": JSON, OAI-PMH seconds granularity */
	MC_DATE_DAY,      /* "2024-01-02": OAI-PMH day granularity */
	MC_DATE_COMPACT,  /* "20240102T030405Z": in file names */
};

/* Longest text mc_date_format writes, with its NUL, for any int64_t that
 * gmtime accepts. */
#define MC_DATE_BUFSZ 32

/* Write t (seconds, UTC) in the given form to buf (bufsz bytes, NUL
 * terminated). 0, MC_E_PARSE (t outside what the C library's calendar
 * takes) or MC_E_TOOBIG (buf too small); buf is left as "" on failure when
 * bufsz > 0. */
int mc_date_format(int64_t t, enum mc_date_form form, char *buf, size_t bufsz);

/* mc_date_format(secs, MC_DATE_SECONDS, out, 32), "" if out of range. */
void mc_time_iso(int64_t secs, char out[MC_DATE_BUFSZ]);

/* Seconds of the monotonic clock (CLOCK_MONOTONIC), for durations and
 * deadlines only: its zero is arbitrary and it never goes back. */
double mc_time_mono(void);

#endif
