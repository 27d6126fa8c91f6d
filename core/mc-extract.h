/* mc-extract.h — extracted fields (title, names, identifiers, ...) from MARC 21
 * and Dublin Core, and standard-number checks. */
#ifndef MC_EXTRACT_H
#define MC_EXTRACT_H

#include <stddef.h>

#include "mc-error.h"
#include "mc-record.h"

/* Fill r->f from r->marc (MARC 21 bibliographic, Koha 952 items) or r->dc
 * (the rules: the comments at the top of core/extract*.c). Values must
 * already be UTF-8 NFC (mc_record_normalise first). Strings are allocated in
 * r->arena and live as long as the record; r->f is cleared first.
 * 0, -ENOMEM, or MC_E_TOOBIG when the record's arena cap is reached; on
 * failure r->f is left empty and err (optional) names the record (source,
 * local id, line or offset). */
int mc_record_extract(struct mc_record *r, struct mc_error *err);

/* ISBN: the ISBN at the start of in[0..len): ISBN-10 or ISBN-13 with
 * hyphens, spaces, an "ISBN" label and trailing qualifiers ("978-604-2-12345-6
 * (bìa mềm)"); check the check digit; write the 13-digit form (ISBN-10
 * converted to 978-) to the caller's out13 (14 bytes, NUL-terminated).
 * 0, or MC_E_PARSE when the text holds no ISBN with a correct check digit;
 * out13 is untouched then. */
int mc_isbn_normalise(const char *in, size_t len, char out13[14]);
/* ISBN-13 (978 prefix) to ISBN-10; 0 or MC_E_PARSE (979 has no ISBN-10). */
int mc_isbn13_to_10(const char in13[13], char out10[11]);
/* ISSN: the ISSN at the start of in[0..len), check digit verified, as
 * "1234-567X" in the caller's out (10 bytes, NUL-terminated).
 * 0 or MC_E_PARSE (malformed or a wrong check digit). */
int mc_issn_normalise(const char *in, size_t len, char out[10]);

/* Controlled material types (r->f.material): "book", "serial", "article",
 * "thesis", "map", "music-score", "sound", "music-recording", "video",
 * "image", "electronic", "kit", "mixed", "manuscript", "object", "other". */

#endif
