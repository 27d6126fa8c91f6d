/* mc-text.h — Vietnamese text: UTF-8 checks, NFC, legacy encodings, folding.
 *
 * Everything mucluc stores is UTF-8 in Unicode Normalization Form C. Records
 * arrive decomposed (NFD), or in the 8-bit encodings Vietnamese library
 * software still exports: TCVN3 (TCVN 5712:1993 VN3, "ABC" fonts), VNI
 * (VNI-Windows fonts: base letter + diacritic byte), VISCII, Windows-1258
 * (partly decomposed); European sources send MARC-8 or Latin-1. */
#ifndef MC_TEXT_H
#define MC_TEXT_H

#include <stddef.h>

#include "mc-buf.h"
#include "mc-error.h"

struct mc_record;

enum mc_encoding {
	MC_ENC_AUTO = 0,  /* detect */
	MC_ENC_UTF8,
	MC_ENC_TCVN3,
	MC_ENC_VNI,
	MC_ENC_VISCII,
	MC_ENC_CP1258,
	MC_ENC_LATIN1,
	MC_ENC_MARC8,
	MC_ENC_COUNT
};

/* Canonical name: "auto", "utf-8", "tcvn3", "vni", "viscii", "cp1258",
 * "latin-1", "marc-8". Static storage. */
const char *mc_encoding_name(enum mc_encoding e);
/* Parse a name or common alias (case-insensitive: "utf8", "abc", "vn3",
 * "windows-1258", "iso-8859-1", "marc8" ...). 0 or MC_E_USAGE. */
int mc_encoding_parse(const char *name, enum mc_encoding *ret);

/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, surrogates or values
 * past U+10FFFF), else 0 and *bad_off (if non-NULL) = offset of the first bad byte. */
int mc_utf8_valid(const char *s, size_t len, size_t *bad_off);

/* Normalise valid UTF-8 to NFC, appending to out. *changed (may be NULL) is
 * set to 1 when the output differs from the input. Fast path for ASCII and
 * text already in NFC. 0, MC_E_ENCODING (invalid UTF-8), MC_E_TOOBIG, -ENOMEM. */
int mc_text_nfc(const char *in, size_t len, struct mc_buf *out, int *changed);

/* Convert bytes in encoding enc to UTF-8 NFC, appending to out.
 * enc must not be MC_ENC_AUTO. For MC_ENC_UTF8 this is validation + NFC.
 * 0, MC_E_ENCODING (a byte sequence with no meaning in enc; *bad_off set
 * when bad_off is non-NULL), MC_E_TOOBIG, -ENOMEM. */
int mc_text_decode(enum mc_encoding enc, const char *in, size_t len, struct mc_buf *out,
		   size_t *bad_off);

/* Convert UTF-8 to enc (the reverse, for tests and the corpus generator).
 * MC_E_ENCODING when a character has no representation in enc. */
int mc_text_encode(enum mc_encoding enc, const char *utf8, size_t len, struct mc_buf *out);

/* Guess the encoding of a byte string (typically all the values of one record
 * joined). hint is the encoding the container claims (MARC leader/09 gives
 * MC_ENC_UTF8 or MC_ENC_MARC8; MC_ENC_AUTO if none). Returns the best
 * candidate; *confidence (may be NULL) 0..100. Pure ASCII gives MC_ENC_UTF8. */
enum mc_encoding mc_text_detect(const char *in, size_t len, enum mc_encoding hint,
				int *confidence);

/* Text that is valid UTF-8 but was produced by reading TCVN3 or VNI bytes as
 * Latin-1/Windows-1252 (a frequent conversion accident: "Tr\u00adêng" for
 * "Trường"). Returns the legacy encoding it decodes as, or MC_ENC_UTF8 when
 * the text looks like genuine Unicode. */
enum mc_encoding mc_text_detect_mojibake(const char *utf8, size_t len);

/* Folding for keys and search: NFC input, lower case, diacritics removed,
 * đ/Đ -> d, ISBD and other punctuation -> space, whitespace collapsed and
 * trimmed. Appends to out. 0, MC_E_ENCODING, MC_E_TOOBIG, -ENOMEM. */
int mc_text_fold(const char *in, size_t len, struct mc_buf *out);

/* Convert every string in r->marc / r->dc to UTF-8 NFC in place (new values
 * in r->arena) and set r->encoding to what was found ("utf-8",
 * "utf-8 (nfd)", "tcvn3", "vni", "viscii", "cp1258", "latin-1", "marc-8",
 * "utf-8 (tcvn3 mojibake)", ...). declared (from --encoding) wins; with
 * MC_ENC_AUTO the encoding is detected per record, using leader/09 as a hint.
 * Control characters other than TAB/LF/CR are removed. Leader/09 becomes 'a'.
 * 0, or MC_E_ENCODING with err->msg naming the field and offset. */
int mc_record_normalise(struct mc_record *r, enum mc_encoding declared, struct mc_error *err);

#endif
