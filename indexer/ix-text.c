/* ix-text.c — words and their two forms (accented, folded) for the index
 * and the query parser.
 *
 * Tone placement. Vietnamese writes the tone of a syllable on one of its
 * vowels; two conventions differ only for the clusters oa, oe, uy at the end
 * of a syllable: "old" hòa, khỏe, thủy, "new" hoà, khoẻ, thuỷ. Sources and
 * readers use both, and some writers misplace marks ("hòang"). So the
 * accented form takes the mark off and puts it back where the old convention
 * wants it (every syllable, not only those three clusters):
 *  1. the initial consonant is skipped; "qu" and "gi" (before a vowel) count
 *     as consonants (quả, già);
 *  2. a vowel with a shape mark (â ă ê ô ơ ư) takes it, the last such one
 *     (ươ → ơ);
 *  3. otherwise one vowel takes it; with a final consonant, the last vowel
 *     (hoàng); three vowels, the middle one (ngoài, khuỷu); two, the first
 *     (hòa, mùa, tài).
 * Words that are not Latin syllables (one vowel run, then one of the finals
 * c ch m n ng nh p t) with one tone mark are left alone ("café"). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#include "ix-text.h"

enum { MAXCP = IX_WORD_MAX * 4 };

static int is_word_cp(UChar32 c)
{
	int8_t t;

	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
	t = (int8_t)u_charType(c);
	return t == U_UPPERCASE_LETTER || t == U_LOWERCASE_LETTER || t == U_TITLECASE_LETTER ||
	       t == U_MODIFIER_LETTER || t == U_OTHER_LETTER || t == U_DECIMAL_DIGIT_NUMBER ||
	       t == U_LETTER_NUMBER || t == U_OTHER_NUMBER || t == U_NON_SPACING_MARK ||
	       t == U_COMBINING_SPACING_MARK || t == U_ENCLOSING_MARK;
}

int ix_text_words(const char *s, size_t len, int (*cb)(void *ctx, const char *w, size_t n),
		  void *ctx)
{
	size_t i = 0, start = 0, cut = 0;
	int in = 0, rc;

	while (i < len) {
		size_t at = i;
		UChar32 c;

		U8_NEXT((const uint8_t *)s, i, len, c);
		if (c >= 0 && is_word_cp(c)) {
			if (!in) {
				in = 1;
				start = at;
			}
			if (i - start <= IX_WORD_MAX)
				cut = i;
			continue;
		}
		if (in) {
			in = 0;
			if ((rc = cb(ctx, s + start, cut - start)) != 0)
				return rc;
		}
	}
	if (in && (rc = cb(ctx, s + start, cut - start)) != 0)
		return rc;
	return 0;
}

int ix_text_has_marks(const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)w[i] >= 0x80)
			return 1;
	return 0;
}

static int is_tone(UChar32 c)
{
	return c == 0x300 || c == 0x301 || c == 0x303 || c == 0x309 || c == 0x323;
}

static int is_shape(UChar32 c)
{
	return c == 0x302 || c == 0x306 || c == 0x31B;
}

static int is_vowel(UChar32 c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y';
}

/* Lower-case NFD code points of w into cp; returns the count, or -1 when
 * the word does not fit. */
static int decompose(const char *w, size_t n, UChar32 *cp, int max)
{
	UErrorCode e = U_ZERO_ERROR;
	const UNormalizer2 *nfd = unorm2_getNFDInstance(&e);
	size_t i = 0;
	int k = 0;

	if (U_FAILURE(e))
		return -1;
	while (i < n) {
		UChar32 c, d[8];
		UChar dec[16];
		int32_t m;

		U8_NEXT((const uint8_t *)w, i, n, c);
		if (c < 0)
			c = 0xFFFD;
		c = u_tolower(c);
		e = U_ZERO_ERROR;
		m = c < 0xC0 ? -1 : unorm2_getDecomposition(nfd, c, dec, 16, &e);
		if (m <= 0 || U_FAILURE(e)) {
			if (k >= max)
				return -1;
			cp[k++] = c;
			continue;
		}
		for (int32_t j = 0, nd = 0; j < m && nd < 8;) {
			U16_NEXT(dec, j, m, d[nd]);
			if (k >= max)
				return -1;
			cp[k++] = d[nd++];
		}
	}
	return k;
}

/* 1 if base letters from..nb of cp are a Vietnamese final consonant: none,
 * c, ch, m, n, ng, nh, p, t ("café" is not a syllable). */
static int final_ok(const UChar32 *cp, const int *base, int from, int nb)
{
	UChar32 a, b;

	if (from >= nb)
		return 1;
	a = cp[base[from]];
	if (nb - from == 1)
		return a == 'c' || a == 'm' || a == 'n' || a == 'p' || a == 't';
	if (nb - from > 2)
		return 0;
	b = cp[base[from + 1]];
	return (a == 'c' && b == 'h') || (a == 'n' && (b == 'g' || b == 'h'));
}

/* Move the one tone mark of a Vietnamese syllable to its canonical vowel
 * (rules at the top). cp has k code points (NFD, lower case); the result
 * goes to out (returns its count). */
static int place_tone(const UChar32 *cp, int k, UChar32 *out)
{
	int base[MAXCP], nb = 0, tone_at = -1, tone_i = -1, shape_last = -1;
	int v0 = -1, v1 = -1, target, j = 0;
	UChar32 tone = 0;

	for (int i = 0; i < k; i++) {
		UChar32 c = cp[i];

		if (is_tone(c)) {
			if (tone_at >= 0 || nb == 0)
				goto keep;
			tone_at = nb - 1;
			tone_i = i;
			tone = c;
		} else if (is_shape(c)) {
			if (nb == 0 || !is_vowel(cp[base[nb - 1]]))
				goto keep;
		} else if ((c >= 'a' && c <= 'z') || c == 0x111) {
			base[nb++] = i;
		} else {
			goto keep;
		}
	}
	if (tone_at < 0)
		goto keep;
	for (int b = 0; b < nb; b++) {
		UChar32 c = cp[base[b]];

		if (!is_vowel(c))
			continue;
		if (v0 < 0) {
			if (b > 0 && ((c == 'u' && cp[base[b - 1]] == 'q') ||
				      (c == 'i' && cp[base[b - 1]] == 'g' && b + 1 < nb &&
				       is_vowel(cp[base[b + 1]]))))
				continue;
			v0 = b;
		}
		if (v0 >= 0 && (v1 < 0 || v1 == b - 1))
			v1 = b;
	}
	if (v0 < 0 || !final_ok(cp, base, v1 + 1, nb))
		goto keep;
	for (int b = v0; b <= v1; b++) {
		int end = b + 1 < nb ? base[b + 1] : k;

		for (int i = base[b] + 1; i < end; i++)
			if (is_shape(cp[i]))
				shape_last = b;
	}
	if (shape_last >= 0)
		target = shape_last;
	else if (v0 == v1)
		target = v0;
	else if (v1 + 1 < nb)
		target = v1;
	else if (v1 - v0 >= 2)
		target = v0 + 1;
	else
		target = v0;
	for (int b = 0; b < nb; b++) {
		int end = b + 1 < nb ? base[b + 1] : k;

		for (int i = base[b]; i < end; i++)
			if (i != tone_i)
				out[j++] = cp[i];
		if (b == target)
			out[j++] = tone;
	}
	return j;
keep:
	memcpy(out, cp, (size_t)k * sizeof *out);
	return k;
}

/* Append code points cp[0..k) to out as UTF-8, NFC when nfc. */
static int put_utf8(const UChar32 *cp, int k, int nfc, struct mc_buf *out)
{
	UChar u[MAXCP * 2], v[MAXCP * 2];
	int32_t nu = 0, nv;
	UErrorCode e = U_ZERO_ERROR;
	int32_t need;
	int rc;

	for (int i = 0; i < k; i++) {
		UBool err = 0;

		U16_APPEND(u, nu, MAXCP * 2, cp[i], err);
		if (err)
			return MC_E_TOOBIG;
	}
	if (nfc) {
		const UNormalizer2 *n = unorm2_getNFCInstance(&e);

		nv = U_SUCCESS(e) ? unorm2_normalize(n, u, nu, v, MAXCP * 2, &e) : 0;
		if (U_FAILURE(e))
			return MC_E_TOOBIG;
	} else {
		memcpy(v, u, (size_t)nu * sizeof *u);
		nv = nu;
	}
	e = U_ZERO_ERROR;
	u_strToUTF8(NULL, 0, &need, v, nv, &e);
	if ((rc = mc_buf_reserve(out, (size_t)need + 1)) != 0)
		return rc;
	e = U_ZERO_ERROR;
	u_strToUTF8(out->data + out->len, need + 1, NULL, v, nv, &e);
	if (U_FAILURE(e))
		return MC_E_TOOBIG;
	out->len += (size_t)need;
	out->data[out->len] = '\0';
	return 0;
}

int ix_text_word_forms(const char *w, size_t n, struct mc_buf *acc, struct mc_buf *fold)
{
	UChar32 cp[MAXCP], placed[MAXCP], bare[MAXCP];
	int k, kp, kb = 0, rc;

	mc_buf_reset(acc);
	mc_buf_reset(fold);
	if (n > IX_WORD_MAX * 2)
		n = IX_WORD_MAX * 2;
	if (!ix_text_has_marks(w, n)) {
		if ((rc = mc_buf_reserve(acc, n + 1)) != 0 || (rc = mc_buf_reserve(fold, n + 1)) != 0)
			return rc;
		for (size_t i = 0; i < n; i++) {
			char c = w[i] >= 'A' && w[i] <= 'Z' ? (char)(w[i] + 32) : w[i];

			acc->data[i] = c;
			fold->data[i] = c;
		}
		acc->len = fold->len = n;
		acc->data[n] = fold->data[n] = '\0';
		return 0;
	}
	k = decompose(w, n, cp, MAXCP);
	if (k < 0)
		return MC_E_TOOBIG;
	kp = place_tone(cp, k, placed);
	if ((rc = put_utf8(placed, kp, 1, acc)) != 0)
		return rc;
	for (int i = 0; i < k; i++) {
		int8_t t = (int8_t)u_charType(cp[i]);

		if (t == U_NON_SPACING_MARK || t == U_COMBINING_SPACING_MARK || t == U_ENCLOSING_MARK)
			continue;
		bare[kb++] = cp[i] == 0x111 ? 'd' : cp[i];
	}
	return put_utf8(bare, kb, 1, fold);
}

size_t ix_text_main_title_len(const char *t, size_t len)
{
	static const char *const seps[] = { " : ", " = ", " / " };
	size_t cut = len;

	for (size_t i = 0; i < sizeof(seps) / sizeof(seps[0]); i++) {
		const char *p = memmem(t, len, seps[i], 3);

		if (p && (size_t)(p - t) < cut)
			cut = (size_t)(p - t);
	}
	return cut;
}

int ix_text_exact_add(struct mc_buf *t, const char *w, size_t n)
{
	int rc;

	if (t->len + 1 + n > IX_EXACT_TITLE_MAX + 2)
		return 1;
	if (t->len > 2 && (rc = mc_buf_addc(t, ' ')) != 0)
		return rc;
	return mc_buf_add(t, w, n);
}
