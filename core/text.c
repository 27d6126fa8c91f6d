/* text.c — encoding names, UTF-8 checks, NFC, decoding entry point, folding.
 *
 * The hot path is text that is already ASCII or NFC UTF-8: it is checked in
 * one pass over the bytes (eight at a time while they are ASCII) and copied
 * or left alone. ICU is only asked to normalise when the quick check fails,
 * and only then is the text converted to UTF-16. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "mc-error.h"
#include "mc-text.h"
#include "text-internal.h"

/* ---- names ---- */

static const char *const enc_names[MC_ENC_COUNT] = {
	[MC_ENC_AUTO] = "auto",     [MC_ENC_UTF8] = "utf-8",    [MC_ENC_TCVN3] = "tcvn3",
	[MC_ENC_VNI] = "vni",       [MC_ENC_VISCII] = "viscii", [MC_ENC_CP1258] = "cp1258",
	[MC_ENC_LATIN1] = "latin-1", [MC_ENC_MARC8] = "marc-8",
};

const char *mc_encoding_name(enum mc_encoding e)
{
	if ((unsigned)e >= MC_ENC_COUNT)
		return "unknown";
	return enc_names[e];
}

/* Aliases with '-', '_', ' ' and '.' removed, lower case. */
static const struct {
	const char *alias;
	enum mc_encoding enc;
} enc_aliases[] = {
	{ "auto", MC_ENC_AUTO },       { "detect", MC_ENC_AUTO },
	{ "utf8", MC_ENC_UTF8 },       { "unicode", MC_ENC_UTF8 },
	{ "tcvn3", MC_ENC_TCVN3 },     { "tcvn", MC_ENC_TCVN3 },       { "abc", MC_ENC_TCVN3 },
	{ "vn3", MC_ENC_TCVN3 },       { "tcvn5712", MC_ENC_TCVN3 },   { "tcvn57121993", MC_ENC_TCVN3 },
	{ "vni", MC_ENC_VNI },         { "vniwindows", MC_ENC_VNI },   { "vniwin", MC_ENC_VNI },
	{ "viscii", MC_ENC_VISCII },   { "viscii11", MC_ENC_VISCII },  { "csviscii", MC_ENC_VISCII },
	{ "cp1258", MC_ENC_CP1258 },   { "windows1258", MC_ENC_CP1258 }, { "win1258", MC_ENC_CP1258 },
	{ "mscp1258", MC_ENC_CP1258 },
	{ "latin1", MC_ENC_LATIN1 },   { "iso88591", MC_ENC_LATIN1 },  { "l1", MC_ENC_LATIN1 },
	{ "cp1252", MC_ENC_LATIN1 },   { "windows1252", MC_ENC_LATIN1 }, { "ascii", MC_ENC_LATIN1 },
	{ "marc8", MC_ENC_MARC8 },     { "ansel", MC_ENC_MARC8 },      { "z3947", MC_ENC_MARC8 },
};

int mc_encoding_parse(const char *name, enum mc_encoding *ret)
{
	char key[32];
	size_t i, n = 0;

	if (!name)
		return MC_E_USAGE;
	for (i = 0; name[i]; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '-' || c == '_' || c == ' ' || c == '.')
			continue;
		if (n + 1 >= sizeof(key))
			return MC_E_USAGE;
		key[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	key[n] = '\0';
	for (i = 0; i < sizeof(enc_aliases) / sizeof(enc_aliases[0]); i++) {
		if (strcmp(key, enc_aliases[i].alias) == 0) {
			*ret = enc_aliases[i].enc;
			return 0;
		}
	}
	return MC_E_USAGE;
}

/* ---- UTF-8 ---- */

#define ONES (~(uint64_t)0 / 255)
#define HIGHS (ONES * 0x80)

/* Length of the well-formed sequence at s[i] (1..4) with *cp, or 0 when it
 * is ill-formed (Unicode 15, table 3-7: no overlongs, surrogates, or values
 * past U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
	unsigned c = s[i];
	size_t left = len - i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c < 0xC2)
		return 0;
	if (c < 0xE0) {
		if (left < 2 || (s[i + 1] & 0xC0) != 0x80)
			return 0;
		*cp = ((uint32_t)(c & 0x1F) << 6) | (s[i + 1] & 0x3Fu);
		return 2;
	}
	if (c < 0xF0) {
		unsigned lo = 0x80, hi = 0xBF;

		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
		if (left < 3 || s[i + 1] < lo || s[i + 1] > hi || (s[i + 2] & 0xC0) != 0x80)
			return 0;
		*cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) |
		      (s[i + 2] & 0x3Fu);
		return 3;
	}
	if (c < 0xF5) {
		unsigned lo = 0x80, hi = 0xBF;

		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
		if (left < 4 || s[i + 1] < lo || s[i + 1] > hi || (s[i + 2] & 0xC0) != 0x80 ||
		    (s[i + 3] & 0xC0) != 0x80)
			return 0;
		*cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) |
		      ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3Fu);
		return 4;
	}
	return 0;
}

int mc_utf8_valid(const char *s, size_t len, size_t *bad_off)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if (len - i >= 8) {
			uint64_t w;

			memcpy(&w, u + i, 8);
			if (!(w & HIGHS)) {
				i += 8;
				continue;
			}
		}
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_seq(u, len, i, &cp);
		if (!n) {
			if (bad_off)
				*bad_off = i;
			return 0;
		}
		i += n;
	}
	return 1;
}

uint32_t mci_text_utf8_next(const unsigned char *s, size_t *i)
{
	unsigned c = s[*i];
	uint32_t cp;

	if (c < 0x80) {
		*i += 1;
		return c;
	}
	if (c < 0xE0) {
		cp = ((uint32_t)(c & 0x1F) << 6) | (s[*i + 1] & 0x3Fu);
		*i += 2;
	} else if (c < 0xF0) {
		cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[*i + 1] & 0x3F) << 6) |
		     (s[*i + 2] & 0x3Fu);
		*i += 3;
	} else {
		cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[*i + 1] & 0x3F) << 12) |
		     ((uint32_t)(s[*i + 2] & 0x3F) << 6) | (s[*i + 3] & 0x3Fu);
		*i += 4;
	}
	return cp;
}

int mci_text_buf_put(struct mc_buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return mc_buf_add(b, u, n);
}

/* Bytes of an ASCII word below 0x20 or equal to 0x7F. */
static int word_has_ctl(uint64_t w)
{
	uint64_t lt = (w - ONES * 0x20) & ~w & HIGHS;
	uint64_t x = w ^ (ONES * 0x7F);
	uint64_t del = (x - ONES) & ~x & HIGHS;

	return (lt | del) != 0;
}

static unsigned ascii_ctl_flags(unsigned c)
{
	if (c == '\t' || c == '\n' || c == '\r')
		return 0;
	if (c == 0x1B)
		return MCI_TEXT_CTL | MCI_TEXT_ESC;
	if (c == 0x02 || c == 0x05 || c == 0x06 || c == 0x14 || c == 0x19 || c == 0x1E)
		return MCI_TEXT_CTL | MCI_TEXT_VISCII_C0;
	return MCI_TEXT_CTL;
}

unsigned mci_text_scan(const char *s, size_t len, size_t *bad_off)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned flags = 0;
	uint8_t last_ccc = 0;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if (len - i >= 8) {
			uint64_t w;

			memcpy(&w, u + i, 8);
			if (!(w & HIGHS)) {
				if (word_has_ctl(w)) {
					size_t k;

					for (k = 0; k < 8; k++)
						if (u[i + k] < 0x20 || u[i + k] == 0x7F)
							flags |= ascii_ctl_flags(u[i + k]);
				}
				last_ccc = 0;
				i += 8;
				continue;
			}
		}
		if (u[i] < 0x80) {
			if (u[i] < 0x20 || u[i] == 0x7F)
				flags |= ascii_ctl_flags(u[i]);
			last_ccc = 0;
			i++;
			continue;
		}
		flags |= MCI_TEXT_NONASCII;
		n = utf8_seq(u, len, i, &cp);
		if (!n) {
			if (bad_off)
				*bad_off = i;
			return flags | MCI_TEXT_INVALID;
		}
		i += n;
		if (cp < 0xA0) {
			flags |= MCI_TEXT_CTL;
			last_ccc = 0;
			continue;
		}
		if (flags & MCI_TEXT_NOTNFC)
			continue;
		/* Everything below U+0300 and the Latin Extended Additional
		 * block (all precomposed Vietnamese) is NFC_QC=Yes with ccc 0. */
		if (cp < 0x300 || (cp >= 0x1E00 && cp <= 0x1EFF)) {
			last_ccc = 0;
		} else {
			uint8_t ccc = u_getCombiningClass((UChar32)cp);

			if ((ccc && last_ccc > ccc) ||
			    u_getIntPropertyValue((UChar32)cp, UCHAR_NFC_QUICK_CHECK) != UNORM_YES)
				flags |= MCI_TEXT_NOTNFC;
			last_ccc = ccc;
		}
	}
	return flags;
}

int mci_text_strip_ctl(const char *s, size_t len, struct mc_buf *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0;
	int rc;

	while (i < len) {
		unsigned c = u[i];
		size_t skip = 0;

		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			skip = 1;
		else if (c == 0x7F)
			skip = 1;
		else if (c == 0xC2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] < 0xA0)
			skip = 2;
		if (!skip) {
			i++;
			continue;
		}
		rc = mc_buf_add(out, s + start, i - start);
		if (rc)
			return rc;
		i += skip;
		start = i;
	}
	return mc_buf_add(out, s + start, len - start);
}

/* ---- NFC ---- */

#define STACK_UNITS 512

int mci_text_icu_normalize(int nfd, const char *in, size_t len, struct mc_buf *out)
{
	UChar sa[STACK_UNITS], sb[STACK_UNITS * 2];
	UChar *a = sa, *b = sb;
	int32_t na = 0, nb, need = 0;
	UErrorCode e = U_ZERO_ERROR;
	const UNormalizer2 *nfc = nfd ? unorm2_getNFDInstance(&e) : unorm2_getNFCInstance(&e);
	int rc = 0;

	if (U_FAILURE(e))
		return -ENOMEM;
	/* ICU lengths are int32_t; UTF-16 never needs more units than UTF-8
	 * has bytes. */
	if (len > INT32_MAX / 4)
		return MC_E_TOOBIG;
	if (len > STACK_UNITS) {
		a = malloc(len * sizeof(UChar));
		if (!a)
			return -ENOMEM;
	}
	u_strFromUTF8(a, (int32_t)(a == sa ? STACK_UNITS : len), &na, in, (int32_t)len, &e);
	if (U_FAILURE(e)) {
		rc = MC_E_ENCODING;
		goto done;
	}
	nb = unorm2_normalize(nfc, a, na, b, STACK_UNITS * 2, &e);
	if (e == U_BUFFER_OVERFLOW_ERROR) {
		e = U_ZERO_ERROR;
		b = malloc((size_t)nb * sizeof(UChar));
		if (!b) {
			rc = -ENOMEM;
			goto done;
		}
		nb = unorm2_normalize(nfc, a, na, b, nb, &e);
	}
	if (U_FAILURE(e)) {
		rc = -ENOMEM;
		goto done;
	}
	u_strToUTF8(NULL, 0, &need, b, nb, &e);
	if (e != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(e)) {
		rc = MC_E_ENCODING;
		goto done;
	}
	e = U_ZERO_ERROR;
	rc = mc_buf_reserve(out, (size_t)need);
	if (rc)
		goto done;
	u_strToUTF8(out->data + out->len, need + 1, NULL, b, nb, &e);
	if (U_FAILURE(e)) {
		rc = MC_E_ENCODING;
		goto done;
	}
	out->len += (size_t)need;
	out->data[out->len] = '\0';
done:
	if (a != sa)
		free(a);
	if (b != sb)
		free(b);
	return rc;
}

int mc_text_nfc(const char *in, size_t len, struct mc_buf *out, int *changed)
{
	size_t start = out->len;
	unsigned flags = mci_text_scan(in, len, NULL);
	int rc;

	if (flags & MCI_TEXT_INVALID)
		return MC_E_ENCODING;
	if (!(flags & MCI_TEXT_NOTNFC)) {
		rc = mc_buf_add(out, in, len);
		if (!rc && changed)
			*changed = 0;
		return rc;
	}
	rc = mci_text_icu_normalize(0, in, len, out);
	if (rc)
		return rc;
	if (changed)
		*changed = out->len - start != len || memcmp(out->data + start, in, len) != 0;
	return 0;
}

/* ---- decoding ---- */

int mc_text_decode(enum mc_encoding enc, const char *in, size_t len, struct mc_buf *out,
		   size_t *bad_off)
{
	struct mc_buf raw;
	size_t bad = 0;
	int rc;

	if (enc == MC_ENC_AUTO || (unsigned)enc >= MC_ENC_COUNT)
		return MC_E_USAGE;
	if (enc == MC_ENC_UTF8) {
		if (!mc_utf8_valid(in, len, &bad)) {
			if (bad_off)
				*bad_off = bad;
			return MC_E_ENCODING;
		}
		return mc_text_nfc(in, len, out, NULL);
	}
	if (len > (SIZE_MAX - 64) / 4)
		return MC_E_TOOBIG;
	/* Decoding yields at most four bytes of UTF-8 per input byte. */
	mc_buf_init(&raw, 4 * len + 64);
	rc = mci_text_decode_raw(enc, in, len, &raw, &bad, NULL);
	if (rc == MC_E_ENCODING && bad_off)
		*bad_off = bad;
	if (!rc && raw.len)
		rc = mc_text_nfc(raw.data, raw.len, out, NULL);
	mc_buf_free(&raw);
	return rc;
}

/* ---- folding ---- */

static int is_sep_type(int8_t t)
{
	switch (t) {
	case U_DASH_PUNCTUATION: case U_START_PUNCTUATION: case U_END_PUNCTUATION:
	case U_CONNECTOR_PUNCTUATION: case U_OTHER_PUNCTUATION:
	case U_INITIAL_PUNCTUATION: case U_FINAL_PUNCTUATION:
	case U_MATH_SYMBOL: case U_CURRENCY_SYMBOL: case U_MODIFIER_SYMBOL: case U_OTHER_SYMBOL:
	case U_SPACE_SEPARATOR: case U_LINE_SEPARATOR: case U_PARAGRAPH_SEPARATOR:
	case U_CONTROL_CHAR:
		return 1;
	default:
		return 0;
	}
}

/* Fold one non-ASCII code point: 0 = dropped, 1 = separator, 2 = appended. */
static int fold_cp(uint32_t cp, const UNormalizer2 *nfd, struct mc_buf *out, int sep_pending,
		   size_t start, int *rc)
{
	static const char vn_ascii[MCI_TEXT_VN_BASES] = "aaaeeiooouuyd";
	struct mci_text_vn vn;
	UChar d[16];
	int32_t n, k;
	int8_t t;
	UErrorCode e = U_ZERO_ERROR;

	*rc = 0;
	if (mci_text_vn_lookup(cp, &vn)) {
		if (sep_pending && out->len > start)
			*rc = mc_buf_addc(out, ' ');
		if (!*rc)
			*rc = mc_buf_addc(out, vn_ascii[vn.base]);
		return 2;
	}
	t = u_charType((UChar32)cp);
	if (t == U_NON_SPACING_MARK || t == U_ENCLOSING_MARK || t == U_FORMAT_CHAR)
		return 0;
	if (is_sep_type(t))
		return 1;
	if (sep_pending && out->len > start) {
		*rc = mc_buf_addc(out, ' ');
		if (*rc)
			return 2;
	}
	n = unorm2_getDecomposition(nfd, (UChar32)cp, d, 16, &e);
	if (U_FAILURE(e) || n <= 0) {
		*rc = mci_text_buf_put(out, (uint32_t)u_tolower((UChar32)cp));
		return 2;
	}
	for (k = 0; k < n && !*rc;) {
		UChar32 c;

		U16_NEXT(d, k, n, c);
		if (u_charType(c) == U_NON_SPACING_MARK)
			continue;
		*rc = mci_text_buf_put(out, (uint32_t)u_tolower(c));
	}
	return 2;
}

int mc_text_fold(const char *in, size_t len, struct mc_buf *out)
{
	const unsigned char *u = (const unsigned char *)in;
	const UNormalizer2 *nfd = NULL;
	size_t start = out->len, i = 0, n;
	int sep = 0, rc = 0, r;
	uint32_t cp;

	while (i < len && !rc) {
		unsigned c = u[i];

		if (c < 0x80) {
			if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
				if (sep && out->len > start)
					rc = mc_buf_addc(out, ' ');
				if (!rc)
					rc = mc_buf_addc(out, (char)c);
				sep = 0;
			} else if (c >= 'A' && c <= 'Z') {
				if (sep && out->len > start)
					rc = mc_buf_addc(out, ' ');
				if (!rc)
					rc = mc_buf_addc(out, (char)(c + 32));
				sep = 0;
			} else {
				sep = 1;
			}
			i++;
			continue;
		}
		n = utf8_seq(u, len, i, &cp);
		if (!n) {
			rc = MC_E_ENCODING;
			break;
		}
		i += n;
		if (!nfd) {
			UErrorCode e = U_ZERO_ERROR;

			nfd = unorm2_getNFDInstance(&e);
			if (U_FAILURE(e)) {
				rc = -ENOMEM;
				break;
			}
		}
		r = fold_cp(cp, nfd, out, sep, start, &rc);
		if (r == 1)
			sep = 1;
		else if (r == 2)
			sep = 0;
	}
	if (rc && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	return rc;
}
