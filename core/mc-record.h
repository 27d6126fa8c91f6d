/* mc-record.h — the record model: MARC and Dublin Core as parsed, the
 * extracted fields, and the normalised record stored per (source, local id).
 *
 * All pointers inside these structures point into the record's arena
 * (struct mc_arena) and live exactly as long as it. Strings are UTF-8, NFC,
 * NUL-terminated; *_len members exist where values may hold NUL bytes. */
#ifndef MC_RECORD_H
#define MC_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "mc-buf.h"
#include "mc-error.h"

/* ---- MARC 21 (bibliographic and holdings) ---- */

struct mc_subfield {
	char code;            /* subfield code as found ('a', '0', ...) */
	const char *value;    /* NUL-terminated */
	size_t len;
};

struct mc_field {
	char tag[4];          /* "245", NUL-terminated; tags are 3 ASCII chars */
	char ind1, ind2;      /* ' ' when blank; 0 for control fields */
	const char *value;    /* control fields (00X): the data; else NULL */
	size_t len;
	struct mc_subfield *sub;  /* data fields: the subfields, in order */
	size_t nsub, sub_cap;
};

struct mc_marc {
	char leader[25];      /* 24 chars + NUL; positions as in MARC 21 */
	struct mc_field *fields;
	size_t nfields, cap;
	size_t nsub;          /* subfields of all fields (MC_MAX_RECORD_SUBFIELDS) */
};

/* ---- Dublin Core (oai_dc) ---- */

struct mc_dc_elem {
	const char *name;     /* local name without prefix: "title", "creator", ... */
	const char *value;
	size_t len;
	const char *lang;     /* xml:lang or NULL */
};

struct mc_dc {
	struct mc_dc_elem *elems;
	size_t n, cap;
};

/* ---- extracted fields ---- */

/* A typed value: identifiers ("isbn", "issn", "lccn", "oclc", ...),
 * classification ("udc", "ddc", "other:<scheme>"), languages ... */
struct mc_tv {
	const char *type;
	const char *value;
};

struct mc_strv {
	const char **v;
	size_t n, cap;
};

struct mc_tvv {
	struct mc_tv *v;
	size_t n, cap;
};

enum mc_name_kind { MC_NAME_PERSONAL = 1, MC_NAME_CORPORATE = 2, MC_NAME_MEETING = 3 };

struct mc_name {
	const char *name;     /* as catalogued; Vietnamese names stay in direct order */
	int kind;             /* enum mc_name_kind */
	int main_entry;       /* 1 for 1XX (main entry), 0 for 7XX / DC contributor */
	const char *role;     /* relator term or code ($e/$4), or NULL */
	const char *dates;    /* $d, or NULL */
};

struct mc_link {
	const char *url;
	const char *label;    /* $y / $3 / $z, or NULL */
};

/* One holding or item as the source reports it (852, or Koha's 952). */
struct mc_holding {
	const char *library;      /* 852$a / 952$a (home branch) */
	const char *location;     /* 852$b$c / 952$c (shelving location) */
	const char *call_number;  /* 852$h$i$k$m / 952$o */
	const char *barcode;      /* 852$p / 952$p */
	const char *status;       /* availability / not-for-loan / lost, as text, or NULL */
	const char *note;         /* public note, or NULL */
};

struct mc_fields {
	const char *title;          /* 245 $a $b $n $p, ISBD trailing punctuation trimmed */
	const char *responsibility; /* 245 $c */
	const char *edition;        /* 250 $a $b */
	const char *place;          /* 260/264 $a */
	const char *publisher;      /* 260/264 $b */
	const char *date;           /* 260/264 $c as printed */
	int year;                   /* 008/07-10 when numeric, else from date; 0 unknown */
	const char *extent;         /* 300 $a (and $b $c) */
	const char *material;       /* controlled: see schemas/record.md */
	struct mc_name *names;      /* 100/110/111, 700/710/711 (and 720) */
	size_t nnames, names_cap;
	struct mc_tvv ids;          /* isbn, isbn-invalid, issn, issn-invalid, lccn, nbn,
	                               control (035), std (024) */
	struct mc_strv languages;   /* ISO 639-2/B codes from 008/35-37 and 041 */
	struct mc_strv subjects;    /* 6XX, subdivisions joined with " -- " */
	struct mc_tvv classes;      /* udc (080), ddc (082), other (084 with $2) */
	struct mc_strv series;      /* 490 $a $v, 8XX */
	struct mc_strv notes;       /* 5XX $a */
	struct mc_link *links;      /* 856 $u */
	size_t nlinks, links_cap;
	struct mc_holding *holdings;
	size_t nholdings, holdings_cap;
};

/* ---- the stored record ---- */

enum mc_format { MC_FMT_NONE = 0, MC_FMT_MARC21 = 1, MC_FMT_OAI_DC = 2 };
enum mc_status { MC_REC_PRESENT = 0, MC_REC_DELETED = 1 };

struct mc_record {
	struct mc_arena *arena;     /* owns everything below */
	const char *source;         /* source id */
	const char *local_id;       /* the source's identifier (OAI identifier, or 001) */
	int status;                 /* enum mc_status */
	int64_t datestamp;          /* seconds since the epoch (UTC) of the source's datestamp,
	                               or of the import when the source gives none */
	int format;                 /* enum mc_format: format of origin */
	const char *encoding;       /* encoding the record arrived in, after detection:
	                               "utf-8", "utf-8 (nfd)", "tcvn3", "vni", "viscii",
	                               "cp1258", "marc-8", "latin-1" */
	struct mc_marc *marc;       /* when format == MC_FMT_MARC21 */
	struct mc_dc *dc;           /* when format == MC_FMT_OAI_DC */
	struct mc_fields f;         /* extracted */
	/* input position, for error reports (not stored) */
	int64_t in_offset;
	int64_t in_line;
	/* when a building helper returned MC_E_TOOBIG: which cap, as a phrase
	 * for messages ("more than 2000 subfields in one field"); static, NULL
	 * otherwise. Cleared by mc_record_reset. */
	const char *limit;
};

/* New empty record with its own arena (capped at MC_MAX_ARENA_BYTES).
 * Caller frees with mc_record_free. 0 or -ENOMEM. */
int mc_record_new(struct mc_record **ret);
/* Free the record and its arena. NULL is a no-op. */
void mc_record_free(struct mc_record *r);
/* Empty the record for reuse (keeps the arena's first block). */
void mc_record_reset(struct mc_record *r);

/* The record's MARC part, created empty (blank leader, format MC_FMT_MARC21)
 * on first use. Borrowed (lives in r->arena); NULL when out of memory. */
struct mc_marc *mc_record_marc(struct mc_record *r);
/* Building helpers (copy into the arena). 0, MC_E_TOOBIG (a cap of
 * mc-limits.h or the arena's cap: a fault of this record, r->limit says
 * which) or -ENOMEM (malloc failed). */
int mc_marc_add_control(struct mc_record *r, const char *tag, const char *v, size_t len);
int mc_marc_add_data(struct mc_record *r, const char *tag, char ind1, char ind2,
		     struct mc_field **ret);
int mc_marc_add_sub(struct mc_record *r, struct mc_field *f, char code, const char *v, size_t len);
int mc_dc_add(struct mc_record *r, const char *name, const char *v, size_t len, const char *lang);

/* Check the bytes of r's MARC part that no character conversion looks at,
 * against what MARC21slim.xsd allows (schemas/record.md, "Indicators,
 * subfield codes and the leader"):
 *  - repaired: a leader byte outside printable ASCII becomes a blank; an
 *    indicator outside [0-9a-z ] becomes a blank (both are positions of
 *    coded values, where blank means "undefined");
 *  - refused: a subfield code outside [0-9A-Za-z] and
 *    !"#$%&'()*+,-./:;<=>?{}_^`~[]\ (what the code would mean cannot be
 *    guessed), a tag with a byte outside printable ASCII.
 * *repairs (may be NULL) is set to the number of bytes repaired. 0 (r may
 * have been repaired in place), or MC_E_ENCODING with err (may be NULL)
 * naming the field and the byte. A record without a MARC part: 0. */
int mc_record_check_marc(struct mc_record *r, unsigned *repairs, struct mc_error *err);

/* 1 if c is an indicator MARC21slim.xsd allows ([0-9a-z ]), else 0. */
int mc_marc_ind_ok(unsigned char c);
/* 1 if c is a subfield code MARC21slim.xsd allows, else 0. */
int mc_marc_code_ok(unsigned char c);

/* Lookup helpers over a parsed MARC record. Borrowed pointers. */
const struct mc_field *mc_marc_first(const struct mc_marc *m, const char *tag);
const char *mc_field_sub(const struct mc_field *f, char code); /* first $code or NULL */

/* Append to vectors in the record's arena (value copied). */
int mc_strv_add(struct mc_record *r, struct mc_strv *v, const char *s, size_t len);
int mc_tvv_add(struct mc_record *r, struct mc_tvv *v, const char *type, const char *s, size_t len);

#endif
