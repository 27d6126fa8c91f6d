/* extract-internal.h — what the files of the field extraction share
 * (extract.c, extract-marc.c, extract-ids.c, extract-holdings.c,
 * extract-danmarc.c, extract-dc.c). Not a public header: the public entry
 * point is mc_record_extract (mc-extract.h).
 *
 * Every string these functions return or store is allocated in the record's
 * arena (x->a) and lives as long as the record; nothing here is freed on its
 * own. Functions that build a string return it, or NULL with *rc telling
 * "nothing there" (0) from -ENOMEM. */
#ifndef MC_EXTRACT_INTERNAL_H
#define MC_EXTRACT_INTERNAL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mc-extract.h"
#include "mc-record.h"

/* A small open-addressing set of (type, value) pairs in the arena. */
struct dedup {
	const char **type;  /* may hold NULL types (plain strings) */
	const char **val;
	size_t cap, n;
};

/* One extraction: the record, its arena, its fields being filled, and the
 * sets that keep each list free of duplicates. */
struct ex {
	struct mc_record *r;
	struct mc_arena *a;
	struct mc_fields *f;
	struct dedup ids, langs, subjects, classes, series, notes, links, names;
};

/* ---- character helpers (ASCII; inline, private to these files) ---- */

static inline int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int to_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive ASCII comparison of s[0..len) with the NUL-terminated,
 * lower-case w. */
static inline int eq_ci(const char *s, size_t len, const char *w)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!w[i] || to_lower((unsigned char)s[i]) != (unsigned char)w[i])
			return 0;
	return w[len] == '\0';
}

/* s[0..len) starts with the lower-case w, ignoring case. */
static inline int prefix_ci(const char *s, size_t len, const char *w)
{
	size_t n = strlen(w);

	return len >= n && eq_ci(s, n, w);
}

/* Trim white space at both ends of the view (*s, *len). */
static inline void trim_ws(const char **s, size_t *len)
{
	while (*len && is_ws(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && is_ws((*s)[*len - 1]))
		(*len)--;
}

/* ---- building one string in the arena, capacity fixed up front ---- */

struct sb {
	char *p;
	size_t len, cap;
};

/* Start b with room for cap bytes (and the NUL). 0 or -ENOMEM. */
static inline int sb_new(struct ex *x, struct sb *b, size_t cap)
{
	b->p = mc_arena_alloc(x->a, cap + 1);
	if (!b->p)
		return -ENOMEM;
	b->len = 0;
	b->cap = cap;
	b->p[0] = '\0';
	return 0;
}

/* Append raw bytes (separators), cut at the capacity. */
static inline void sb_raw(struct sb *b, const char *s, size_t n)
{
	if (n > b->cap - b->len)
		n = b->cap - b->len;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Append text with runs of white space collapsed to one space. */
static inline void sb_text(struct sb *b, const char *s, size_t n)
{
	size_t i;
	int ws = 0;

	for (i = 0; i < n && b->len < b->cap; i++) {
		if (is_ws(s[i])) {
			ws = 1;
			continue;
		}
		if (ws && b->len && b->p[b->len - 1] != ' ')
			b->p[b->len++] = ' ';
		ws = 0;
		if (b->len < b->cap)
			b->p[b->len++] = s[i];
	}
	b->p[b->len] = '\0';
}

/* ---- extract.c: sets, strings, lists, languages ---- */

/* 1 when (type, val) is new (and now remembered in d), 0 when seen, -ENOMEM. */
int mci_extract_dedup_add(struct ex *x, struct dedup *d, const char *type, const char *val);

/* isbd_trim flag: keep a final "." unless it follows "]", ")" or a digit
 * (place, publisher, edition). */
enum { KEEP_PERIOD = 1 };

/* Remove trailing ISBD punctuation and white space from the view s[0..*len).
 * Returns the outermost punctuation character removed (the one nearest the
 * next element), 0 if none; *spaced (may be NULL) says whether a space
 * preceded it. */
char mci_extract_isbd_trim(const char *s, size_t *len, int flags, int *spaced);

/* A copy of s[0..len) with white space trimmed and collapsed; NULL when
 * empty or -ENOMEM (told apart by *rc). */
const char *mci_extract_clean(struct ex *x, const char *s, size_t len, int *rc);
/* mci_extract_clean after ISBD trimming (flags as mci_extract_isbd_trim). */
const char *mci_extract_clean_isbd(struct ex *x, const char *s, size_t len, int flags, int *rc);

/* Append s (borrowed: an arena string) to v unless empty or already in d
 * (d may be NULL: no de-duplication). 0 or -ENOMEM. */
int mci_extract_push_str(struct ex *x, struct mc_strv *v, struct dedup *d, const char *s);
/* Append (type, s) to v unless empty or already in d. 0 or -ENOMEM. */
int mci_extract_push_tv(struct ex *x, struct mc_tvv *v, struct dedup *d, const char *type,
			const char *s);
/* Append a name (kind MC_NAME_*; role and dates may be NULL). 0 or -ENOMEM. */
int mci_extract_push_name(struct ex *x, const char *name, int kind, int main_entry,
			  const char *role, const char *dates);
/* Append a link unless its URL is empty or already there. 0 or -ENOMEM. */
int mci_extract_push_link(struct ex *x, const char *url, const char *label);

/* Add one language code from s[0..len): 3 letters as given (lower case,
 * ISO 639-2/T mapped to /B), 2 letters or a known name mapped; others and
 * "und"/"zxx" dropped. 0 or -ENOMEM. */
int mci_extract_lang(struct ex *x, const char *s, size_t len);

/* ---- extract.c: MARC subfields ---- */

/* The tag of fl as a number, -1 if it is not three digits. */
int mci_extract_tag_num(const struct mc_field *fl);
/* Upper bound for a value built from the subfields of fl. */
size_t mci_extract_field_bound(const struct mc_field *fl);
/* The first subfield code of fl (borrowed from the record, not NUL
 * terminated: *len bytes), NULL if none. */
const char *mci_extract_sub_first(const struct mc_field *fl, char code, size_t *len);

/* A subfield taken into an ISBD-joined value and the separator in front of
 * it when the previous subfield's punctuation gives none. */
struct part_rule {
	char code;
	const char *dflt;
};

/* Join the subfields of fl named in rules (terminated by code 0) with ISBD
 * separators; ISBD-trim the result. Codes in carry (may be NULL) are not
 * taken but their final punctuation chooses the next separator; only the
 * punctuation characters in honour may choose one. NULL when nothing. */
const char *mci_extract_join_isbd(struct ex *x, const struct mc_field *fl,
				  const struct part_rule *rules, const char *carry,
				  const char *honour, int flags, int *rc);

/* mci_extract_join_codes trim: TRIM_EACH removes ISBD punctuation from each
 * part and the result, TRIM_FINAL only from the result. */
enum { TRIM_NONE = 0, TRIM_EACH = 1, TRIM_FINAL = 2 };

/* The subfields of fl whose codes are in codes, in field order, joined by
 * sep, white space collapsed. NULL when nothing. */
const char *mci_extract_join_codes(struct ex *x, const struct mc_field *fl, const char *codes,
				   const char *sep, int trim, int flags, int *rc);

/* ---- extract-marc.c ---- */

/* The rules of 300 (extent), for danMARC2 too. */
extern const struct part_rule mci_extract_extent_rules[];

/* Fill x->f from a MARC 21 (or danMARC2) record. 0 or -ENOMEM. */
int mci_extract_marc(struct ex *x, const struct mc_marc *m);
/* The $a of a 5XX (tag its number) to the notes, unless it is a 541, 542,
 * 561 or 583 marked private (ind1 0). 0 or -ENOMEM. */
int mci_extract_marc_note(struct ex *x, const struct mc_field *fl, int tag);
/* A 260/264 to place, publisher and date. 0 or -ENOMEM. */
int mci_extract_marc_publication(struct ex *x, const struct mc_field *fl);
/* The material name (static string) from leader/06-07, the 008 (len008
 * bytes) and whether a 502 is present. */
const char *mci_extract_material(const char *leader, const char *f008, size_t len008,
				 int has502);
/* The first four-digit number from 1400 to 2100 in s (may be NULL), else 0. */
int mci_extract_year_in(const char *s);

/* ---- extract-ids.c ---- */

/* Identifiers from an 010 015 016 020 022 024 035 (tag its number). 0 or -ENOMEM. */
int mci_extract_marc_ids(struct ex *x, const struct mc_field *fl, int tag);

/* ---- extract-holdings.c ---- */

/* 1 if the 952 fl is a Koha item (a non-empty $b, $o, $p or $y), else 0:
 * other systems use 952 locally. */
int mci_extract_koha_item(const struct mc_field *fl);
/* A holding from an 852 or a Koha 952 (tag its number). 0 or -ENOMEM. */
int mci_extract_marc_holding(struct ex *x, const struct mc_field *fl, int tag);

/* ---- extract-danmarc.c ---- */

/* 1 if m looks like a danMARC2 record (001 with subfields). */
int mci_extract_is_danmarc(const struct mc_marc *m);
/* Fill x->f from a danMARC2 record. 0 or -ENOMEM. */
int mci_extract_danmarc(struct ex *x, const struct mc_marc *m);

/* ---- extract-dc.c ---- */

/* Fill x->f from an oai_dc record. 0 or -ENOMEM. */
int mci_extract_dc(struct ex *x, const struct mc_dc *dc);

#endif
