/* text-internal.h — what text.c, text-legacy.c and normalise.c share.
 * Not a public interface: nothing outside core/ includes this. */
#ifndef MC_TEXT_INTERNAL_H
#define MC_TEXT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mc-buf.h"
#include "mc-limits.h"
#include "mc-text.h"

/* Scratch buffers hold one decoded value: UTF-8 can take 3 bytes for each
 * byte of an 8-bit encoding (4 for MARC-8 escapes into EACC). */
#define MCI_TEXT_SCRATCH_MAX (4u * MC_MAX_FIELD_BYTES + 64u)

/* ---- Vietnamese letters (text-legacy.c) ----
 * base: 0 a, 1 ă, 2 â, 3 e, 4 ê, 5 i, 6 o, 7 ô, 8 ơ, 9 u, 10 ư, 11 y, 12 đ.
 * tone: 0 none, 1 huyền (grave), 2 hỏi (hook), 3 ngã (tilde), 4 sắc (acute),
 * 5 nặng (dot below). */
enum { MCI_TEXT_VN_BASES = 13, MCI_TEXT_VN_TONES = 6 };

struct mci_text_vn {
	unsigned char base, tone, upper;
};

/* 1 and *ret filled if cp is one of the 146 Vietnamese letters (12 vowels x
 * 6 tones x 2 cases, plus đ Đ; the ASCII vowels included), else 0. */
int mci_text_vn_lookup(uint32_t cp, struct mci_text_vn *ret);
/* The code point of a base/tone/case combination. */
uint32_t mci_text_vn_compose(unsigned base, unsigned tone, int upper);

/* ---- UTF-8 helpers (text.c) ---- */

/* Decode the code point at s[*i] of text known to be valid UTF-8; advances *i. */
uint32_t mci_text_utf8_next(const unsigned char *s, size_t *i);
/* Append cp as UTF-8. 0, MC_E_TOOBIG, -ENOMEM. */
int mci_text_buf_put(struct mc_buf *b, uint32_t cp);

/* What mci_text_scan found in a string. */
enum {
	MCI_TEXT_NONASCII = 1,   /* a byte >= 0x80 */
	MCI_TEXT_INVALID = 2,    /* not well-formed UTF-8 (scan stopped there) */
	MCI_TEXT_NOTNFC = 4,     /* NFC quick check says NO or MAYBE */
	MCI_TEXT_CTL = 8,        /* C0 other than TAB/LF/CR, DEL, or (valid UTF-8) C1 */
	MCI_TEXT_ESC = 16,       /* 0x1B: a MARC-8 escape sequence */
	MCI_TEXT_VISCII_C0 = 32, /* one of the six C0 bytes VISCII uses for letters */
};

/* One pass over s: UTF-8 well-formedness, NFC quick check and control
 * characters. Returns MCI_TEXT_* flags; *bad_off (may be NULL) is the offset of
 * the first ill-formed byte when MCI_TEXT_INVALID is set. */
unsigned mci_text_scan(const char *s, size_t len, size_t *bad_off);

/* Normalise valid UTF-8 to NFC (nfd = 0) or NFD (nfd = 1) through ICU,
 * appending to out (unchanged on failure). 0, MC_E_TOOBIG, -ENOMEM. */
int mci_text_icu_normalize(int nfd, const char *in, size_t len, struct mc_buf *out);

/* Copy valid UTF-8 to out without control characters (see MCI_TEXT_CTL). */
int mci_text_strip_ctl(const char *s, size_t len, struct mc_buf *out);

/* ---- legacy decoding (text-legacy.c) ---- */

/* Decode to UTF-8 without normalising (VNI, CP1258 and MARC-8 give
 * combining marks). Strict when nbad is NULL: MC_E_ENCODING at the first
 * meaningless byte, *bad_off set. Lenient otherwise: such bytes become
 * U+FFFD and are counted in *nbad. enc is not MC_ENC_AUTO or MC_ENC_UTF8. */
int mci_text_decode_raw(enum mc_encoding enc, const char *in, size_t len, struct mc_buf *out,
			size_t *bad_off, unsigned *nbad);

/* Map UTF-8 text whose every character is a Windows-1252 (or Latin-1 C1)
 * rendering of a byte back to those bytes. MC_E_ENCODING when a character
 * has no such byte. */
int mci_text_cp1252_unmap(const char *utf8, size_t len, struct mc_buf *out);

/* ---- detection (text-legacy.c) ---- */

/* Candidates scored by mci_text_detect_*; MC_ENC_UTF8 is handled by the caller. */
struct mci_text_detect {
	enum mc_encoding hint;
	long score[MC_ENC_COUNT];
	long vn_words[MC_ENC_COUNT];  /* Vietnamese syllables in each reading */
	size_t fed;                 /* bytes looked at so far (capped) */
	struct mc_buf raw, nfc;     /* scratch */
};

void mci_text_detect_init(struct mci_text_detect *d, enum mc_encoding hint);
/* Score one value (the values of one record are fed one by one; words never
 * span two values). 0, -ENOMEM. */
int mci_text_detect_feed(struct mci_text_detect *d, const char *in, size_t len);
/* The best legacy encoding; *best (may be NULL) its score: below zero means
 * every decoding produced impossible text. *confidence 0..100 (may be NULL). */
enum mc_encoding mci_text_detect_result(const struct mci_text_detect *d, long *best,
					 int *confidence);
void mci_text_detect_done(struct mci_text_detect *d);

/* Mojibake (TCVN3 or VNI bytes read as Windows-1252) over valid UTF-8 values. */
struct mci_text_moji {
	int possible;               /* 0 once a character outside Windows-1252 was seen */
	long orig, tcvn3, vni;      /* scores of the text as is and re-decoded */
	size_t fed;
	struct mc_buf bytes, raw, nfc;
};

void mci_text_moji_init(struct mci_text_moji *m);
int mci_text_moji_feed(struct mci_text_moji *m, const char *utf8, size_t len);
/* MC_ENC_TCVN3, MC_ENC_VNI, or MC_ENC_UTF8 when the text looks genuine. */
enum mc_encoding mci_text_moji_result(const struct mci_text_moji *m);
void mci_text_moji_done(struct mci_text_moji *m);

#endif
