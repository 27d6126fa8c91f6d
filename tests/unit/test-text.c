/* test-text.c — UTF-8, NFC, legacy Vietnamese encodings, detection, folding
 * and mc_record_normalise, checked against independent references on the
 * machine: glibc iconv (VISCII, CP1258, TCVN5712-1), ICU, libyaz, and the
 * Danish Latin-1 record in idzebra's examples. */
#include <errno.h>
#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "mc-buf.h"
#include "mc-error.h"
#include "mc-limits.h"
#include "mc-record.h"
#include "mc-text.h"

/* A string literal and its length, without the NUL. */
#define S(lit) lit, sizeof(lit) - 1

#define SAMPLE_MARC "/usr/share/doc/idzebra-2.0/examples/marc21/sample-marc.gz"

static const enum mc_encoding legacy[] = {
	MC_ENC_TCVN3, MC_ENC_VNI, MC_ENC_VISCII, MC_ENC_CP1258,
};
#define NLEGACY (sizeof(legacy) / sizeof(legacy[0]))

/* ---- helpers ---- */

/* Decode with mc_text_decode into a NUL-terminated malloc'd string. */
static char *dec(enum mc_encoding e, const char *in, size_t len, int *rc_out)
{
	struct mc_buf b;
	int rc;

	mc_buf_init(&b, 1u << 24);
	rc = mc_text_decode(e, in, len, &b, NULL);
	if (rc_out)
		*rc_out = rc;
	if (rc) {
		mc_buf_free(&b);
		return NULL;
	}
	return b.data ? mc_buf_steal(&b, NULL) : strdup("");
}

static char *enc(enum mc_encoding e, const char *utf8, size_t *len, int *rc_out)
{
	struct mc_buf b;
	int rc;

	mc_buf_init(&b, 1u << 24);
	rc = mc_text_encode(e, utf8, strlen(utf8), &b);
	if (rc_out)
		*rc_out = rc;
	if (rc) {
		mc_buf_free(&b);
		return NULL;
	}
	if (len)
		*len = b.len;
	return b.data ? mc_buf_steal(&b, NULL) : strdup("");
}

/* glibc iconv; NULL if the conversion fails. */
static char *gconv(const char *to, const char *from, const char *in, size_t len, size_t *olen)
{
	iconv_t cd = iconv_open(to, from);
	size_t cap = 4 * len + 16, il = len, ol = cap;
	char *out, *ip = (char *)in, *op;

	if (cd == (iconv_t)-1)
		return NULL;
	out = calloc(1, cap + 1);
	op = out;
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 ||
	    iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1) {
		free(out);
		iconv_close(cd);
		return NULL;
	}
	iconv_close(cd);
	*op = '\0';
	if (olen)
		*olen = (size_t)(op - out);
	return out;
}

static char *u8(uint32_t cp)
{
	UChar s[2];
	int32_t n = 0, m = 0;
	UErrorCode e = U_ZERO_ERROR;
	char *out = calloc(1, 8);

	U16_APPEND_UNSAFE(s, n, (UChar32)cp);
	u_strToUTF8(out, 8, &m, s, n, &e);
	assert_true(U_SUCCESS(e));
	return out;
}

/* NFD (nfd = 1) or NFC of a UTF-8 string via ICU, an independent way to
 * make decomposed text. */
static char *icu_norm(const char *s, int nfd)
{
	UErrorCode e = U_ZERO_ERROR;
	const UNormalizer2 *n = nfd ? unorm2_getNFDInstance(&e) : unorm2_getNFCInstance(&e);
	size_t len = strlen(s);
	UChar *a = malloc((len + 1) * sizeof(UChar)), *b = malloc((3 * len + 1) * sizeof(UChar));
	int32_t na = 0, nb, m = 0;
	char *out = calloc(1, 9 * len + 1);

	u_strFromUTF8(a, (int32_t)len + 1, &na, s, (int32_t)len, &e);
	nb = unorm2_normalize(n, a, na, b, 3 * (int32_t)len + 1, &e);
	u_strToUTF8(out, 9 * (int32_t)len + 1, &m, b, nb, &e);
	assert_true(U_SUCCESS(e));
	free(a);
	free(b);
	return out;
}

static char *icu_nfd(const char *s)
{
	return icu_norm(s, 1);
}

/* The 134 precomposed Vietnamese letters plus the 12 ASCII vowels, built
 * with ICU (not the library's table): 12 bases x 6 tones x 2 cases, đ Đ. */
struct vnl {
	uint32_t cp;
	int upper, toned;
};

static size_t vn_letters(struct vnl *out)
{
	static const uint32_t bases[12] = { 'a', 0x103, 0xE2, 'e', 0xEA, 'i', 'o', 0xF4, 0x1A1, 'u', 0x1B0, 'y' };
	static const char *const marks[6] = { "", "\xcc\x80", "\xcc\x89", "\xcc\x83", "\xcc\x81", "\xcc\xa3" };
	size_t n = 0, b, t, i = 0;
	int up;

	for (b = 0; b < 12; b++)
		for (t = 0; t < 6; t++)
			for (up = 0; up < 2; up++) {
				char *base = u8(up ? (uint32_t)u_toupper((UChar32)bases[b]) : bases[b]), *c;
				char tmp[16];

				snprintf(tmp, sizeof(tmp), "%s%s", base, marks[t]);
				c = icu_norm(tmp, 0);
				i = 0;
				U8_NEXT_UNSAFE(c, i, out[n].cp);
				assert_int_equal(c[i], '\0'); /* one precomposed character */
				out[n].upper = up;
				out[n].toned = t != 0;
				n++;
				free(base);
				free(c);
			}
	out[n].cp = 0x111;
	out[n].upper = 0;
	out[n++].toned = 0;
	out[n].cp = 0x110;
	out[n].upper = 1;
	out[n++].toned = 0;
	return n;
}

/* ---- names ---- */

static void test_encoding_names(void **state)
{
	static const struct {
		const char *name;
		enum mc_encoding e;
	} ok[] = {
		{ "auto", MC_ENC_AUTO }, { "UTF-8", MC_ENC_UTF8 }, { "utf8", MC_ENC_UTF8 },
		{ "TCVN3", MC_ENC_TCVN3 }, { "abc", MC_ENC_TCVN3 }, { "VN3", MC_ENC_TCVN3 },
		{ "vni", MC_ENC_VNI }, { "VNI-Windows", MC_ENC_VNI }, { "viscii", MC_ENC_VISCII },
		{ "windows-1258", MC_ENC_CP1258 }, { "CP1258", MC_ENC_CP1258 },
		{ "iso-8859-1", MC_ENC_LATIN1 }, { "Latin1", MC_ENC_LATIN1 },
		{ "marc8", MC_ENC_MARC8 }, { "MARC-8", MC_ENC_MARC8 },
	};
	enum mc_encoding e, got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		got = MC_ENC_COUNT;
		assert_int_equal(mc_encoding_parse(ok[i].name, &got), 0);
		assert_int_equal(got, ok[i].e);
	}
	for (e = MC_ENC_AUTO; e < MC_ENC_COUNT; e++) {
		assert_int_equal(mc_encoding_parse(mc_encoding_name(e), &got), 0);
		assert_int_equal(got, e);
	}
	assert_string_equal(mc_encoding_name(MC_ENC_LATIN1), "latin-1");
	assert_string_equal(mc_encoding_name(MC_ENC_MARC8), "marc-8");
	got = MC_ENC_VNI;
	assert_int_equal(mc_encoding_parse("koi8-r", &got), MC_E_USAGE);
	assert_int_equal(mc_encoding_parse("utf-8-but-much-longer-than-any-alias-at-all", &got),
			 MC_E_USAGE);
	assert_int_equal(mc_encoding_parse(NULL, &got), MC_E_USAGE);
	assert_int_equal(got, MC_ENC_VNI); /* untouched on failure */
}

/* ---- UTF-8 ---- */

static void test_utf8_valid(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		int ok;
		size_t bad;
	} cases[] = {
		{ "plain ascii text, longer than eight", 35, 1, 0 },
		{ "Tr\xc6\xb0\xe1\xbb\x9dng", 9, 1, 0 },
		{ "\xf0\x9f\x98\x80", 4, 1, 0 },          /* U+1F600 */
		{ "\xf4\x8f\xbf\xbf", 4, 1, 0 },          /* U+10FFFF */
		{ "ab\xc0\x80", 4, 0, 2 },                /* overlong NUL */
		{ "abc\xc1\xbf", 5, 0, 3 },               /* overlong */
		{ "\xe0\x80\xaf", 3, 0, 0 },              /* overlong 3-byte */
		{ "x\xed\xa0\x80", 4, 0, 1 },             /* surrogate U+D800 */
		{ "\xf4\x90\x80\x80", 4, 0, 0 },          /* past U+10FFFF */
		{ "\xf8\x88\x80\x80\x80", 5, 0, 0 },      /* 5-byte form */
		{ "abcdefgh\x80", 9, 0, 8 },              /* lone continuation after a word */
		{ "Tr\xc6", 3, 0, 2 },                    /* truncated */
		{ "\xe1\xbb", 2, 0, 0 },                  /* truncated 3-byte */
		{ "Str\xe6k\xf8velser", 12, 0, 3 },       /* Latin-1 */
		{ "", 0, 1, 0 },
	};
	size_t i, bad;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bad = 999;
		assert_int_equal(mc_utf8_valid(cases[i].s, cases[i].len, &bad), cases[i].ok);
		if (!cases[i].ok)
			assert_int_equal(bad, cases[i].bad);
	}
	assert_int_equal(mc_utf8_valid("\xff", 1, NULL), 0);
}

/* ---- NFC ---- */

static void test_nfc(void **state)
{
	struct mc_buf b;
	int changed = -1;
	char *nfd, *big, *bignfd;
	size_t i;

	(void)state;
	mc_buf_init(&b, 1u << 20);

	assert_int_equal(mc_text_nfc("Hello", 5, &b, &changed), 0);
	assert_string_equal(b.data, "Hello");
	assert_int_equal(changed, 0);

	mc_buf_reset(&b);
	assert_int_equal(mc_text_nfc("Nguyễn Nhật Ánh", strlen("Nguyễn Nhật Ánh"), &b, &changed), 0);
	assert_string_equal(b.data, "Nguyễn Nhật Ánh");
	assert_int_equal(changed, 0);

	nfd = icu_nfd("Nguyễn Nhật Ánh — Đà Nẵng");
	assert_string_not_equal(nfd, "Nguyễn Nhật Ánh — Đà Nẵng");
	mc_buf_reset(&b);
	assert_int_equal(mc_text_nfc(nfd, strlen(nfd), &b, &changed), 0);
	assert_string_equal(b.data, "Nguyễn Nhật Ánh — Đà Nẵng");
	assert_int_equal(changed, 1);
	free(nfd);

	/* marks in either order compose to ậ */
	mc_buf_reset(&b);
	assert_int_equal(mc_text_nfc("a\xcc\x82\xcc\xa3 a\xcc\xa3\xcc\x82", 11, &b, &changed), 0);
	assert_string_equal(b.data, "ậ ậ");

	/* appends */
	assert_int_equal(mc_text_nfc("!", 1, &b, NULL), 0);
	assert_string_equal(b.data, "ậ ậ!");

	/* invalid input leaves the buffer as it was */
	assert_int_equal(mc_text_nfc("ok\xff", 3, &b, &changed), MC_E_ENCODING);
	assert_string_equal(b.data, "ậ ậ!");

	/* longer than the stack buffers */
	big = malloc(40001);
	for (i = 0; i < 40000; i += 4)
		memcpy(big + i, "ệ ", 4);
	big[40000] = '\0';
	bignfd = icu_nfd(big);
	mc_buf_reset(&b);
	assert_int_equal(mc_text_nfc(bignfd, strlen(bignfd), &b, &changed), 0);
	assert_int_equal(b.len, 40000);
	assert_memory_equal(b.data, big, 40000);
	free(big);
	free(bignfd);

	/* the cap is honoured */
	mc_buf_free(&b);
	mc_buf_init(&b, 4);
	assert_int_equal(mc_text_nfc("Hello", 5, &b, NULL), MC_E_TOOBIG);
	mc_buf_free(&b);
}

/* ---- legacy tables ---- */

/* Every Vietnamese letter through every encoding that can hold it. */
static void test_letters_roundtrip(void **state)
{
	struct vnl L[160];
	size_t n = vn_letters(L), i, k, len;

	(void)state;
	assert_int_equal(n, 146);
	for (i = 0; i < n; i++) {
		char *s = u8(L[i].cp);

		for (k = 0; k < NLEGACY; k++) {
			int rc;
			char *b = enc(legacy[k], s, &len, &rc), *back;

			if (legacy[k] == MC_ENC_TCVN3 && L[i].upper && L[i].toned) {
				/* TCVN3 (VN3) has no capitals with tones */
				assert_int_equal(rc, MC_E_ENCODING);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_non_null(b);
			back = dec(legacy[k], b, len, &rc);
			assert_int_equal(rc, 0);
			assert_string_equal(back, s);
			free(b);
			free(back);
		}
		/* MARC-8 (via libyaz) holds every letter as base + combining marks */
		{
			int rc;
			char *b = enc(MC_ENC_MARC8, s, &len, &rc), *back;

			assert_int_equal(rc, 0);
			back = dec(MC_ENC_MARC8, b, len, &rc);
			assert_int_equal(rc, 0);
			assert_string_equal(back, s);
			free(b);
			free(back);
		}
		/* Latin-1 holds exactly the letters below U+0100 */
		{
			int rc;
			char *b = enc(MC_ENC_LATIN1, s, &len, &rc);

			assert_int_equal(rc, L[i].cp < 0x100 ? 0 : MC_E_ENCODING);
			free(b);
		}
		free(s);
	}
}

/* Our VISCII, Windows-1258 and TCVN3 against glibc iconv, both directions. */
static void test_tables_vs_glibc(void **state)
{
	static const struct {
		enum mc_encoding e;
		const char *glibc;
	} refs[] = {
		{ MC_ENC_VISCII, "VISCII" }, { MC_ENC_CP1258, "CP1258" }, { MC_ENC_TCVN3, "TCVN5712-1" },
	};
	struct vnl L[160];
	size_t n = vn_letters(L), i, k, l1, l2;
	unsigned b;
	int rc;

	(void)state;
	for (k = 0; k < 3; k++) {
		unsigned agree = 0;

		/* encode: every letter we can encode gives glibc's bytes */
		for (i = 0; i < n; i++) {
			char *s = u8(L[i].cp), *ours = enc(refs[k].e, s, &l1, &rc);
			char *theirs = gconv(refs[k].glibc, "UTF-8", s, strlen(s), &l2);

			if (ours) {
				assert_non_null(theirs);
				assert_int_equal(l1, l2);
				assert_memory_equal(ours, theirs, l1);
				agree++;
			}
			free(s);
			free(ours);
			free(theirs);
		}
		assert_int_equal(agree, refs[k].e == MC_ENC_TCVN3 ? 146 - 60 : 146);
		/* decode: every byte we give a letter or symbol means the same to glibc */
		for (b = 1; b < 256; b++) {
			char in[2] = { (char)b, 0 };
			char *ours = dec(refs[k].e, in, 1, &rc);
			char *theirs = gconv("UTF-8", refs[k].glibc, in, 1, &l2);

			if (refs[k].e == MC_ENC_TCVN3 && b < 0xA0) {
				/* VN1 puts capitals with tones in C0 and 0x80-0x9F; VN3
				 * (ABC fonts) leaves them to ASCII / Windows-1252. */
				free(ours);
				free(theirs);
				continue;
			}
			if (ours && theirs)
				assert_string_equal(ours, theirs);
			else if (refs[k].e != MC_ENC_TCVN3)
				assert_true(!ours && !theirs);
			else
				assert_null(ours); /* VN3 leaves VN1's capitals unassigned */
			free(ours);
			free(theirs);
		}
	}
	/* the VISCII C0 letters decode as letters, not controls */
	{
		char *s = dec(MC_ENC_VISCII, S("\x02\x05\x06\x14\x19\x1e"), &rc);

		assert_string_equal(s, "ẲẴẪỶỸỴ");
		free(s);
	}
}

static void test_vni(void **state)
{
	static const struct {
		const char *vni, *utf8;
	} cases[] = {
		{ "Tr\xf6\xf4\xf8ng", "Trường" },
		{ "TR\xd6\xd4\xd8NG", "TRƯỜNG" },
		{ "Nguye\xe3n Nha\xe4t A\xd9nh", "Nguyễn Nhật Ánh" },
		{ "Vie\xe4t Nam", "Việt Nam" },
		{ "\xd1" "a\xf8 Na\xfc" "ng", "Đà Nẵng" },
		{ "l\xf6\xf4\xef" "c s\xf6\xfb", "lược sử" },
		{ "\xf1\xf6\xf4\xef" "c", "được" },
		{ "ta\xe9t \xf1" "e\xf8n", "tắt đèn" },
		{ "k\xed \xf1\xe6 l\xec \xf3 \xf2 \xee", "kí đỉ lì ĩ ị ỵ" },
		{ "Kie\xe0u", "Kiều" },
	};
	size_t i, len;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = dec(MC_ENC_VNI, cases[i].vni, strlen(cases[i].vni), &rc), *b;

		assert_int_equal(rc, 0);
		assert_string_equal(s, cases[i].utf8);
		b = enc(MC_ENC_VNI, cases[i].utf8, &len, &rc);
		assert_int_equal(rc, 0);
		assert_string_equal(b, cases[i].vni);
		free(s);
		free(b);
	}
	/* a byte with no meaning (Windows-1252 leaves 0x81 free) */
	{
		struct mc_buf b;
		size_t bad = 0;

		mc_buf_init(&b, 1024);
		assert_int_equal(mc_text_decode(MC_ENC_VNI, S("abc\x81"), &b, &bad), MC_E_ENCODING);
		assert_int_equal(bad, 3);
		mc_buf_free(&b);
	}
	/* not representable */
	assert_null(enc(MC_ENC_VNI, "Müller", NULL, &rc));
	assert_int_equal(rc, MC_E_ENCODING);
}

static void test_tcvn3(void **state)
{
	struct mc_buf b;
	size_t bad = 0, len;
	char *s;
	int rc;

	(void)state;
	s = dec(MC_ENC_TCVN3, S("Tr\xad\xeang"), &rc);
	assert_string_equal(s, "Trường");
	free(s);
	s = dec(MC_ENC_TCVN3, S("H\xb5 N\xe9i, \xa7\xb5 N\xbdng"), &rc);
	assert_string_equal(s, "Hà Nội, Đà Nẵng");
	free(s);
	/* capitals with tones: a word typed in a ".VnTimeH" capitals font */
	s = dec(MC_ENC_TCVN3, S("TR\xad\xeaNG \xa7\xb9I H\xe4\x43"), &rc);
	assert_string_equal(s, "TRƯỜNG ĐẠI HỌC");
	free(s);
	/* ... but a capital initial alone keeps the lowercase letters */
	s = dec(MC_ENC_TCVN3, S("\xa7\xb5 L\xb9t"), &rc);
	assert_string_equal(s, "Đà Lạt");
	free(s);
	/* Windows-1252 punctuation kept where VN3 has nothing */
	s = dec(MC_ENC_TCVN3, S("\x93Truy\xd6n Ki\xd2u\x94 \x96 "), &rc);
	assert_string_equal(s, "“Truyện Kiều” – ");
	free(s);
	/* bytes VN3 leaves free */
	mc_buf_init(&b, 1024);
	assert_int_equal(mc_text_decode(MC_ENC_TCVN3, S("ab\xb0"), &b, &bad), MC_E_ENCODING);
	assert_int_equal(bad, 2);
	assert_int_equal(mc_text_decode(MC_ENC_TCVN3, S("x\xff"), &b, &bad), MC_E_ENCODING);
	assert_int_equal(bad, 1);
	mc_buf_free(&b);
	assert_null(enc(MC_ENC_TCVN3, "Ảnh", &len, &rc));
	assert_int_equal(rc, MC_E_ENCODING);
	s = enc(MC_ENC_TCVN3, "Ăn Đường", &len, &rc);
	assert_string_equal(s, "\xa1n \xa7\xad\xeang");
	free(s);
}

static void test_cp1258_latin1(void **state)
{
	size_t len;
	char *s;
	int rc;

	(void)state;
	/* Windows-1258 decomposes tones; decoding composes them */
	s = dec(MC_ENC_CP1258, S("Vi\xea\xf2t Nam"), &rc);
	assert_string_equal(s, "Việt Nam");
	free(s);
	s = enc(MC_ENC_CP1258, "Nguyễn", &len, &rc);
	assert_string_equal(s, "Nguy\xea\xde\x6e");
	free(s);
	s = enc(MC_ENC_CP1258, "€ ₫", &len, &rc);
	assert_string_equal(s, "\x80 \xfe");
	free(s);
	assert_null(enc(MC_ENC_CP1258, "Ł", &len, &rc));
	/* Latin-1 is read as Windows-1252 */
	s = dec(MC_ENC_LATIN1, S("Str\xe6k\xf8velser \x93q\x94 \x80"), &rc);
	assert_string_equal(s, "Strækøvelser “q” €");
	free(s);
	s = enc(MC_ENC_LATIN1, "Ça va très bien — ÿ", &len, &rc);
	assert_string_equal(s, "\xc7\x61 va tr\xe8s bien \x97 \xff");
	free(s);
	assert_null(enc(MC_ENC_LATIN1, "Đà", &len, &rc));
	assert_int_equal(rc, MC_E_ENCODING);
	/* UTF-8 is validated */
	assert_null(dec(MC_ENC_UTF8, S("a\xe6"), &rc));
	assert_int_equal(rc, MC_E_ENCODING);
	assert_int_equal(mc_text_decode(MC_ENC_AUTO, S("a"), NULL, NULL), MC_E_USAGE);
}

static void test_marc8(void **state)
{
	struct mc_buf b;
	size_t bad = 0, len;
	char *s, *m;
	int rc;

	(void)state;
	s = dec(MC_ENC_MARC8, S("Caf\xe2\x65 \xe8uber \xa5sop \xb3\xe1\xbdng"), &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, "Café über Æsop đừng");
	free(s);
	mc_buf_init(&b, 1024);
	/* a combining mark with nothing after it */
	assert_int_equal(mc_text_decode(MC_ENC_MARC8, S("abc\xe2"), &b, &bad), MC_E_ENCODING);
	assert_int_equal(bad, 3);
	/* a byte ANSEL leaves undefined (yaz would drop it silently) */
	assert_int_equal(mc_text_decode(MC_ENC_MARC8, S("ab\xd0x"), &b, &bad), MC_E_ENCODING);
	assert_int_equal(bad, 2);
	mc_buf_free(&b);
	m = enc(MC_ENC_MARC8, "Dvořák, Gödel; Nguyễn Văn Đức", &len, &rc);
	assert_int_equal(rc, 0);
	s = dec(MC_ENC_MARC8, m, len, &rc);
	assert_string_equal(s, "Dvořák, Gödel; Nguyễn Văn Đức");
	free(s);
	free(m);
	/* MARC-8 cannot hold an emoji: not silently dropped */
	assert_null(enc(MC_ENC_MARC8, "smile \xf0\x9f\x98\x80", &len, &rc));
	assert_int_equal(rc, MC_E_ENCODING);
}

/* ---- Vietnamese records used by the detection and normalise tests ---- */

#define NVAL 6
struct vrec {
	const char *v[NVAL]; /* 001 id, 245$a title, 100$a author, 260$b publisher, 260$a place, 650$a subject */
};

/* No capital with a tone anywhere: TCVN3 cannot hold them. */
static const struct vrec vrecs[] = {
	{ { "vn001", "Truyện Kiều", "Nguyễn Du", "Văn học", "Hà Nội", "Văn học Việt Nam -- Thơ" } },
	{ { "vn002", "Dế Mèn phiêu lưu ký", "Tô Hoài", "Kim Đồng", "Hà Nội", "Văn học thiếu nhi" } },
	{ { "vn003", "Số đỏ : tiểu thuyết", "Vũ Trọng Phụng", "Hội Nhà văn", "Hà Nội", "Tiểu thuyết" } },
	{ { "vn004", "Tắt đèn", "Ngô Tất Tố", "Văn học", "Hà Nội", "Tiểu thuyết -- Việt Nam" } },
	{ { "vn005", "Đất rừng phương Nam", "Đoàn Giỏi", "Trẻ", "Thành phố Hồ Chí Minh",
	    "Văn học thiếu nhi" } },
	{ { "vn006", "Lịch sử Việt Nam : từ nguồn gốc đến thế kỷ XIX", "Đào Duy Anh",
	    "Giáo dục Việt Nam", "Đà Nẵng", "Lịch sử Việt Nam" } },
	{ { "vn007", "Địa chí Quảng Ngãi", "Phạm Thị Hường", "Khoa học xã hội", "Quảng Ngãi",
	    "Địa chí -- Quảng Ngãi" } },
	{ { "vn008", "Ăn uống và sức khoẻ", "Đặng Thị Yến", "Y học", "Huế", "Dinh dưỡng" } },
	{ { "vn009", "Ông già và biển cả", "Ernest Hemingway ; Lê Huy Bắc dịch", "Văn học",
	    "Hà Nội", "Văn học Mỹ -- Tiểu thuyết" } },
	{ { "vn010", "Ơn nghĩa sinh thành / Ưng Quốc Bảo", "Ưng Quốc Bảo", "Phụ nữ", "Cần Thơ",
	    "Âm nhạc dân gian -- Gia đình" } },
	{ { "vn011", "Những ngôi sao xa xôi", "Lê Minh Khuê", "Quân đội nhân dân", "Hà Nội",
	    "Truyện ngắn -- Việt Nam" } },
};
#define NVREC (sizeof(vrecs) / sizeof(vrecs[0]))

/* The bytes of s in encoding e: glibc where it has the encoding (VISCII,
 * CP1258, and TCVN5712-1 whose bytes equal VN3 for these letters), the
 * library's encoder for VNI, ICU for NFD. */
static char *legacy_bytes(enum mc_encoding e, const char *s, size_t *len)
{
	char *out;
	int rc;

	switch (e) {
	case MC_ENC_VISCII:
		out = gconv("VISCII", "UTF-8", s, strlen(s), len);
		break;
	case MC_ENC_CP1258:
		out = gconv("CP1258", "UTF-8", s, strlen(s), len);
		break;
	case MC_ENC_TCVN3:
		out = gconv("TCVN5712-1", "UTF-8", s, strlen(s), len);
		break;
	case MC_ENC_VNI:
		out = enc(MC_ENC_VNI, s, len, &rc);
		break;
	case MC_ENC_UTF8:
		out = icu_nfd(s);
		*len = strlen(out);
		break;
	default:
		out = NULL;
		break;
	}
	assert_non_null(out);
	return out;
}

static void join_record(const struct vrec *v, enum mc_encoding e, struct mc_buf *b)
{
	size_t k, len;

	mc_buf_reset(b);
	for (k = 1; k < NVAL; k++) {
		char *x = legacy_bytes(e, v->v[k], &len);

		assert_int_equal(mc_buf_add(b, x, len), 0);
		assert_int_equal(mc_buf_addc(b, '\n'), 0);
		free(x);
	}
}

static void test_detect_vietnamese(void **state)
{
	static const enum mc_encoding hints[] = { MC_ENC_AUTO, MC_ENC_MARC8, MC_ENC_UTF8 };
	struct mc_buf b;
	size_t i, k, h;
	int conf;

	(void)state;
	mc_buf_init(&b, 1u << 16);
	for (i = 0; i < NVREC; i++) {
		for (k = 0; k < NLEGACY; k++) {
			join_record(&vrecs[i], legacy[k], &b);
			assert_true(b.len >= 50 && b.len <= 500);
			for (h = 0; h < 3; h++) {
				enum mc_encoding got = mc_text_detect(b.data, b.len, hints[h], &conf);

				if (got != legacy[k])
					print_error("record %zu in %s (hint %s) detected as %s\n", i,
						    mc_encoding_name(legacy[k]),
						    mc_encoding_name(hints[h]), mc_encoding_name(got));
				assert_int_equal(got, legacy[k]);
				assert_true(conf > 30);
			}
		}
		/* NFD and NFC are UTF-8 */
		join_record(&vrecs[i], MC_ENC_UTF8, &b);
		assert_int_equal(mc_text_detect(b.data, b.len, MC_ENC_MARC8, NULL), MC_ENC_UTF8);
	}
	assert_int_equal(mc_text_detect(S("Plain ASCII title"), MC_ENC_MARC8, &conf), MC_ENC_UTF8);
	assert_int_equal(conf, 100);
	mc_buf_free(&b);
}

/* Records of 50-500 bytes made from the shared Vietnamese vocabulary (names,
 * works, publishers, places, subjects), in every legacy encoding, detected
 * under each leader/09 claim and normalised back to the same NFC text. */
static void test_detect_vocabulary(void **state)
{
	static const char *const files[] = {
		"family-names.txt", "middle-names.txt", "given-names.txt", "works.txt",
		"publishers.txt", "provinces-2008.txt", "provinces-2025.txt", "subjects.txt",
		"title-words.txt",
	};
	static const enum mc_encoding hints[] = { MC_ENC_AUTO, MC_ENC_MARC8, MC_ENC_UTF8 };
	const char *src = getenv("MUCLUC_SRCDIR");
	char path[1024], line[1024], *words[4096];
	size_t nw = 0, f, i, k, h, tested[MC_ENC_COUNT] = { 0 };
	unsigned seed = 7;
	struct mc_buf rec, b;

	(void)state;
	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		FILE *fp;

		snprintf(path, sizeof(path), "%s/../shared/data/vi/%s", src ? src : ".", files[f]);
		fp = fopen(path, "r");
		if (!fp) {
			print_message("skipped: %s not found (../shared beside the project)\n", path);
			skip();
		}
		while (fgets(line, sizeof(line), fp) && nw < 4096) {
			char *tok, *save = NULL;

			if (line[0] == '#')
				continue;
			line[strcspn(line, "\r\n")] = '\0';
			for (tok = strtok_r(line, "\t", &save); tok && nw < 4096;
			     tok = strtok_r(NULL, "\t", &save))
				if (*tok)
					words[nw++] = strdup(tok);
		}
		fclose(fp);
	}
	assert_true(nw > 300);
	mc_buf_init(&rec, 1u << 16);
	mc_buf_init(&b, 1u << 16);
	for (i = 0; i < 400; i++) {
		size_t parts;

		mc_buf_reset(&rec);
		seed = seed * 1103515245u + 12345u;
		parts = 3 + (seed >> 16) % 6;
		for (k = 0; k < parts; k++) {
			seed = seed * 1103515245u + 12345u;
			mc_buf_adds(&rec, words[(seed >> 8) % nw]);
			mc_buf_addc(&rec, k % 2 ? '\n' : ' ');
		}
		for (k = 0; k < NLEGACY; k++) {
			size_t len;
			char *x;

			if (legacy[k] == MC_ENC_TCVN3 && mc_text_encode(MC_ENC_TCVN3, rec.data, rec.len, &b))
				continue; /* a capital with a tone */
			mc_buf_reset(&b);
			x = legacy_bytes(legacy[k], rec.data, &len);
			if (len < 50 || len > 500 || mc_utf8_valid(x, len, NULL)) {
				free(x);
				continue;
			}
			for (h = 0; h < 3; h++) {
				enum mc_encoding got = mc_text_detect(x, len, hints[h], NULL);

				if (got != legacy[k])
					print_error("%s (hint %s) detected as %s: %s\n",
						    mc_encoding_name(legacy[k]), mc_encoding_name(hints[h]),
						    mc_encoding_name(got), rec.data);
				assert_int_equal(got, legacy[k]);
			}
			tested[legacy[k]]++;
			free(x);
		}
	}
	for (k = 0; k < NLEGACY; k++)
		assert_true(tested[legacy[k]] > 100);
	mc_buf_free(&rec);
	mc_buf_free(&b);
	for (i = 0; i < nw; i++)
		free(words[i]);
}

/* ---- the Danish Latin-1 record from idzebra's examples ---- */

struct iso_rec {
	char *data;
	size_t len;
};

/* Read sample-marc.gz (gzip via the gzip program) and return the ISO 2709
 * record holding needle. */
static int read_sample(const char *needle, struct iso_rec *out)
{
	FILE *p;
	char *buf = malloc(1 << 20), *rec, *end;
	size_t n;

	p = popen("gzip -dc " SAMPLE_MARC " 2>/dev/null", "r");
	if (!p) {
		free(buf);
		return -1;
	}
	n = fread(buf, 1, (1 << 20) - 1, p);
	pclose(p);
	if (!n) {
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	for (rec = buf; rec < buf + n; rec = end + 1) {
		end = memchr(rec, 0x1D, (size_t)(buf + n - rec));
		if (!end)
			break;
		if (memmem(rec, (size_t)(end - rec), needle, strlen(needle))) {
			out->len = (size_t)(end - rec);
			out->data = malloc(out->len);
			memcpy(out->data, rec, out->len);
			free(buf);
			return 0;
		}
	}
	free(buf);
	return -1;
}

/* A small ISO 2709 reader, enough for the sample: leader, directory, fields. */
static void iso_to_record(const struct iso_rec *ir, struct mc_record *r)
{
	const char *d = ir->data;
	size_t base = (size_t)strtoul((char[6]){ d[12], d[13], d[14], d[15], d[16], 0 }, NULL, 10);
	size_t e;

	for (e = 24; e + 12 <= base - 1 && d[e] != 0x1E; e += 12) {
		char tag[4] = { d[e], d[e + 1], d[e + 2], 0 };
		size_t flen = (size_t)strtoul((char[5]){ d[e + 3], d[e + 4], d[e + 5], d[e + 6], 0 }, NULL, 10);
		size_t start = (size_t)strtoul(
			(char[6]){ d[e + 7], d[e + 8], d[e + 9], d[e + 10], d[e + 11], 0 }, NULL, 10);
		const char *f = d + base + start;

		assert_true(base + start + flen <= ir->len);
		if (flen > 0 && f[flen - 1] == 0x1E)
			flen--;
		if (flen >= 3 && f[2] == 0x1F) {
			struct mc_field *fld;
			size_t i = 3;

			assert_int_equal(mc_marc_add_data(r, tag, f[0], f[1], &fld), 0);
			while (i < flen) {
				const char *sub = f + i;
				const char *nx = memchr(sub, 0x1F, flen - i);
				size_t sl = nx ? (size_t)(nx - sub) : flen - i;

				assert_int_equal(mc_marc_add_sub(r, fld, sub[0], sub + 1, sl - 1), 0);
				i += sl + 1;
			}
		} else {
			assert_int_equal(mc_marc_add_control(r, tag, f, flen), 0);
		}
	}
	memcpy(r->marc->leader, d, 24);
}

static void test_detect_danish(void **state)
{
	struct iso_rec ir = { NULL, 0 };
	struct mc_record *r = NULL;
	struct mc_buf b;
	struct mc_error err;
	const struct mc_field *f;
	size_t i;
	int conf;

	(void)state;
	if (read_sample("Str\xe6k", &ir) != 0) {
		print_message("skipped: %s not readable (install idzebra-2.0-examples)\n", SAMPLE_MARC);
		skip();
	}
	assert_int_equal(ir.data[9], ' '); /* leader/09 blank: claims MARC-8 */
	/* detection over the record's bytes, with the leader's claim as hint */
	mc_buf_init(&b, 1u << 16);
	for (i = 24; i < ir.len; i++)
		mc_buf_addc(&b, ir.data[i] == 0x1E || ir.data[i] == 0x1F ? '\n' : ir.data[i]);
	assert_int_equal(mc_text_detect(b.data, b.len, MC_ENC_MARC8, &conf), MC_ENC_LATIN1);
	assert_int_equal(mc_text_detect(b.data, b.len, MC_ENC_AUTO, NULL), MC_ENC_LATIN1);
	mc_buf_free(&b);

	assert_int_equal(mc_record_new(&r), 0);
	iso_to_record(&ir, r);
	mc_error_clear(&err);
	assert_int_equal(mc_record_normalise(r, MC_ENC_AUTO, &err), 0);
	assert_string_equal(r->encoding, "latin-1");
	assert_int_equal(r->marc->leader[9], 'a');
	f = mc_marc_first(r->marc, "245");
	assert_non_null(f);
	assert_string_equal(mc_field_sub(f, 'a'), "Strækøvelser");
	f = mc_marc_first(r->marc, "260");
	assert_string_equal(mc_field_sub(f, 'b'), "Clausen bøger");
	mc_record_free(r);
	free(ir.data);
}

static void test_detect_marc8(void **state)
{
	static const char *const texts[] = {
		"Dvořák, Antonín\nSymfonie č. 9 e moll\nPraha : Supraphon",
		"Gödel, Escher, Bach\nHofstadter, Douglas R.\nStuttgart : Klett-Cotta, 1985",
		"Les misérables\nHugo, Victor\nParis : Gallimard\nRoman français -- 19e siècle",
		"Nguyễn Du\nTruyện Kiều\nHà Nội : Văn học",
	};
	size_t i, len;
	int rc, conf;

	(void)state;
	/* ANSEL combining marks written by hand: 0xE2 'e' is é */
	assert_int_equal(mc_text_detect(S("Caf\xe2\x65 de la Paix\nParis : Seuil, 1990"),
					MC_ENC_MARC8, &conf),
			 MC_ENC_MARC8);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *m = enc(MC_ENC_MARC8, texts[i], &len, &rc); /* through libyaz */

		assert_int_equal(rc, 0);
		assert_int_equal(mc_text_detect(m, len, MC_ENC_MARC8, NULL), MC_ENC_MARC8);
		/* With no claim from the container, the first text is a tie with
		 * Latin-1 ("Dvoérâak" reads as a word too), and ties go to Latin-1. */
		if (i > 0)
			assert_int_equal(mc_text_detect(m, len, MC_ENC_AUTO, NULL), MC_ENC_MARC8);
		free(m);
	}
}

/* ---- mojibake ---- */

static void test_mojibake(void **state)
{
	static const char *const genuine[] = {
		"Trường", "Ça va très bien", "Müller", "Đà Nẵng", "Strækøvelser", "Les misérables",
		"Éditions de l'Université", "São Paulo", "Hà Nội", "Tô Hoài",
	};
	struct mc_buf b;
	size_t i, k, len;
	int rc;

	(void)state;
	/* the two examples of the brief */
	assert_int_equal(mc_text_detect_mojibake(S("Tr\xc2\xad\xc3\xaang")), MC_ENC_TCVN3);
	assert_int_equal(mc_text_detect_mojibake(S("Tr\xc3\xb6\xc3\xb4\xc3\xb8ng")), MC_ENC_VNI);
	for (i = 0; i < sizeof(genuine) / sizeof(genuine[0]); i++)
		assert_int_equal(mc_text_detect_mojibake(genuine[i], strlen(genuine[i])), MC_ENC_UTF8);
	/* every record, in TCVN3 and VNI, read as Windows-1252 by glibc */
	mc_buf_init(&b, 1u << 16);
	for (i = 0; i < NVREC; i++) {
		for (k = 0; k < 2; k++) {
			enum mc_encoding e = k ? MC_ENC_VNI : MC_ENC_TCVN3;
			char *moji;

			join_record(&vrecs[i], e, &b);
			moji = gconv("UTF-8", "CP1252", b.data, b.len, &len);
			if (!moji) /* glibc refuses 0x81 etc.; our Latin-1 reading does not */
				moji = dec(MC_ENC_LATIN1, b.data, b.len, &rc);
			assert_non_null(moji);
			assert_int_equal(mc_text_detect_mojibake(moji, strlen(moji)), e);
			free(moji);
		}
		join_record(&vrecs[i], MC_ENC_UTF8, &b);
		{
			char *nfc = dec(MC_ENC_UTF8, b.data, b.len, &rc);

			assert_int_equal(mc_text_detect_mojibake(nfc, strlen(nfc)), MC_ENC_UTF8);
			free(nfc);
		}
	}
	mc_buf_free(&b);
}

/* ---- folding ---- */

static void test_fold(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "Nguyễn Nhật Ánh", "nguyen nhat anh" },
		{ "Đường Kách Mệnh", "duong kach menh" },
		{ "Truyện Kiều : bản dịch /", "truyen kieu ban dich" },
		{ "  Hello,   World!! ", "hello world" },
		{ "[Hà Nội] : Kim Đồng, 2005.", "ha noi kim dong 2005" },
		{ "“Số đỏ” – Vũ Trọng Phụng…", "so do vu trong phung" },
		{ "Ça va très bien; Müller & Søn + Straße", "ca va tres bien muller søn straße" },
		{ "ISBN 978-604-2-00000-0 (q.1)", "isbn 978 604 2 00000 0 q 1" },
		{ "a'b\"c?d=e", "a b c d e" },
		{ "ĐẠI HỌC QUỐC GIA", "dai hoc quoc gia" },
		{ "Tr\xc2\xadường", "truong" }, /* soft hyphen is not a word break */
		{ "Москва́ · Ελλάδα", "москва ελλαδα" },
		{ "", "" },
		{ " .,;: ", "" },
	};
	struct mc_buf b;
	size_t i;
	char *nfd;

	(void)state;
	mc_buf_init(&b, 4096);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mc_buf_reset(&b);
		assert_int_equal(mc_text_fold(cases[i].in, strlen(cases[i].in), &b), 0);
		assert_string_equal(b.data ? b.data : "", cases[i].out);
	}
	/* decomposed input folds the same way */
	nfd = icu_nfd("Đường Kách Mệnh");
	mc_buf_reset(&b);
	assert_int_equal(mc_text_fold(nfd, strlen(nfd), &b), 0);
	assert_string_equal(b.data, "duong kach menh");
	free(nfd);
	/* appends after what is there, without a leading space */
	assert_int_equal(mc_text_fold(" X ", 3, &b), 0);
	assert_string_equal(b.data, "duong kach menhx");
	assert_int_equal(mc_text_fold("ok\xe6", 3, &b), MC_E_ENCODING);
	assert_string_equal(b.data, "duong kach menhx");
	mc_buf_free(&b);
}

/* ---- mc_record_normalise ---- */

static const char *const vtags[NVAL] = { "001", "245", "100", "260", "260", "650" };

static void build_marc(struct mc_record *r, const struct vrec *v, enum mc_encoding e, char ldr9)
{
	struct mc_field *f = NULL, *f260 = NULL;
	size_t k, len;

	assert_int_equal(mc_marc_add_control(r, "001", v->v[0], strlen(v->v[0])), 0);
	assert_int_equal(mc_marc_add_control(r, "008", "050101s2005    vm            000 0 vie d", 40), 0);
	for (k = 1; k < NVAL; k++) {
		char *x = e == MC_ENC_AUTO ? strdup(v->v[k]) : legacy_bytes(e, v->v[k], &len);

		if (e == MC_ENC_AUTO)
			len = strlen(x);
		if (!strcmp(vtags[k], "260")) {
			if (!f260)
				assert_int_equal(mc_marc_add_data(r, "260", ' ', ' ', &f260), 0);
			assert_int_equal(mc_marc_add_sub(r, f260, k == 3 ? 'b' : 'a', x, len), 0);
		} else {
			assert_int_equal(mc_marc_add_data(r, vtags[k], '1', '0', &f), 0);
			assert_int_equal(mc_marc_add_sub(r, f, 'a', x, len), 0);
		}
		free(x);
	}
	memcpy(r->marc->leader, "00000nam a2200000 i 4500", 24);
	r->marc->leader[9] = ldr9;
}

static void check_marc(const struct mc_record *r, const struct vrec *v)
{
	const struct mc_field *f;
	size_t k;

	for (k = 1; k < NVAL; k++) {
		const char *got;

		f = mc_marc_first(r->marc, vtags[k]);
		assert_non_null(f);
		got = mc_field_sub(f, !strcmp(vtags[k], "260") ? (k == 3 ? 'b' : 'a') : 'a');
		assert_non_null(got);
		if (strcmp(got, v->v[k]) != 0)
			print_error("%s: got \"%s\", want \"%s\"\n", v->v[0], got, v->v[k]);
		assert_string_equal(got, v->v[k]);
	}
	assert_int_equal(r->marc->leader[9], 'a');
}

static void test_normalise_same_text(void **state)
{
	static const struct {
		enum mc_encoding e;
		const char *label;
	} srcs[] = {
		{ MC_ENC_TCVN3, "tcvn3" }, { MC_ENC_VNI, "vni" }, { MC_ENC_VISCII, "viscii" },
		{ MC_ENC_CP1258, "cp1258" }, { MC_ENC_UTF8, "utf-8 (nfd)" }, { MC_ENC_AUTO, "utf-8" },
	};
	static const char ldr[] = { ' ', 'a', 'z' };
	struct mc_record *r;
	struct mc_error err;
	size_t i, k, l;

	(void)state;
	assert_int_equal(mc_record_new(&r), 0);
	for (i = 0; i < NVREC; i++)
		for (k = 0; k < sizeof(srcs) / sizeof(srcs[0]); k++) {
			/* detected, whatever leader/09 claims */
			for (l = 0; l < sizeof(ldr); l++) {
				mc_record_reset(r);
				build_marc(r, &vrecs[i], srcs[k].e, ldr[l]);
				mc_error_clear(&err);
				assert_int_equal(mc_record_normalise(r, MC_ENC_AUTO, &err), 0);
				check_marc(r, &vrecs[i]);
				assert_string_equal(r->encoding, srcs[k].label);
			}
			/* declared */
			mc_record_reset(r);
			build_marc(r, &vrecs[i], srcs[k].e, ' ');
			assert_int_equal(mc_record_normalise(r, srcs[k].e == MC_ENC_AUTO ? MC_ENC_UTF8
											 : srcs[k].e,
							     &err),
					 0);
			check_marc(r, &vrecs[i]);
		}
	mc_record_free(r);
}

static void test_normalise_dc(void **state)
{
	static const char *const names[NVAL] = { "identifier", "title", "creator", "publisher",
						 "coverage", "subject" };
	struct mc_record *r;
	struct mc_error err;
	size_t i, k, len;

	(void)state;
	assert_int_equal(mc_record_new(&r), 0);
	for (i = 0; i < NVREC; i++) {
		mc_record_reset(r);
		for (k = 0; k < NVAL; k++) {
			char *x = k ? legacy_bytes(MC_ENC_VISCII, vrecs[i].v[k], &len) : strdup(vrecs[i].v[0]);

			if (!k)
				len = strlen(x);
			assert_int_equal(mc_dc_add(r, names[k], x, len, "vi"), 0);
			free(x);
		}
		assert_int_equal(mc_record_normalise(r, MC_ENC_AUTO, &err), 0);
		assert_string_equal(r->encoding, "viscii");
		for (k = 0; k < NVAL; k++)
			assert_string_equal(r->dc->elems[k].value, vrecs[i].v[k]);
	}
	/* mojibake: TCVN3 read as Latin-1 by some earlier conversion */
	mc_record_reset(r);
	for (k = 1; k < NVAL; k++) {
		char *b = legacy_bytes(MC_ENC_TCVN3, vrecs[5].v[k], &len);
		char *m = dec(MC_ENC_LATIN1, b, len, NULL);

		assert_int_equal(mc_dc_add(r, names[k], m, strlen(m), NULL), 0);
		free(b);
		free(m);
	}
	assert_int_equal(mc_record_normalise(r, MC_ENC_AUTO, &err), 0);
	assert_string_equal(r->encoding, "utf-8 (tcvn3 mojibake)");
	for (k = 1; k < NVAL; k++)
		assert_string_equal(r->dc->elems[k - 1].value, vrecs[5].v[k]);
	mc_record_free(r);
}

static void test_normalise_fast_path(void **state)
{
	struct mc_record *r;
	struct mc_field *f;
	struct mc_error err;
	const char *before_a, *before_b;

	(void)state;
	assert_int_equal(mc_record_new(&r), 0);
	assert_int_equal(mc_marc_add_control(r, "001", "42", 2), 0);
	assert_int_equal(mc_marc_add_data(r, "245", '1', '0', &f), 0);
	assert_int_equal(mc_marc_add_sub(r, f, 'a', S("Plain title")), 0);
	assert_int_equal(mc_marc_add_sub(r, f, 'b', "Truyện Kiều", strlen("Truyện Kiều")), 0);
	r->marc->leader[9] = 'a';
	before_a = f->sub[0].value;
	before_b = f->sub[1].value;
	assert_int_equal(mc_record_normalise(r, MC_ENC_AUTO, &err), 0);
	/* nothing copied */
	assert_ptr_equal(f->sub[0].value, before_a);
	assert_ptr_equal(f->sub[1].value, before_b);
	assert_string_equal(r->encoding, "utf-8");
	/* ASCII with a declared legacy encoding stays too */
	assert_int_equal(mc_record_normalise(r, MC_ENC_LATIN1, &err), 0);
	assert_ptr_equal(f->sub[0].value, before_a);
	mc_record_free(r);
}

static void test_normalise_controls(void **state)
{
	struct mc_record *r;
	struct mc_field *f;
	struct mc_error err;

	(void)state;
	assert_int_equal(mc_record_new(&r), 0);
	assert_int_equal(mc_marc_add_data(r, "245", '1', '0', &f), 0);
	assert_int_equal(mc_marc_add_sub(r, f, 'a', S("a\x01" "b\tc\nd\re\x7f" "f\xc2\x85g")), 0);
	assert_int_equal(mc_marc_add_sub(r, f, 'b', S("Vi\xe1\xbb\x87t\x1b")), 0);
	r->marc->leader[9] = 'a';
	assert_int_equal(mc_record_normalise(r, MC_ENC_AUTO, &err), 0);
	assert_string_equal(f->sub[0].value, "ab\tc\nd\refg");
	assert_int_equal(f->sub[0].len, 10);
	assert_string_equal(f->sub[1].value, "Việt");
	mc_record_free(r);
}

static void test_normalise_errors(void **state)
{
	struct mc_record *r;
	struct mc_field *f;
	struct mc_error err;

	(void)state;
	assert_int_equal(mc_record_new(&r), 0);
	/* declared UTF-8, invalid byte: field, offset and 001 named */
	assert_int_equal(mc_marc_add_control(r, "001", "rec-17", 6), 0);
	assert_int_equal(mc_marc_add_data(r, "245", '1', '0', &f), 0);
	assert_int_equal(mc_marc_add_sub(r, f, 'a', S("Title")), 0);
	assert_int_equal(mc_marc_add_sub(r, f, 'c', S("by M\xfcller")), 0);
	r->in_offset = 1234;
	mc_error_clear(&err);
	assert_int_equal(mc_record_normalise(r, MC_ENC_UTF8, &err), MC_E_ENCODING);
	assert_int_equal(err.code, MC_E_ENCODING);
	assert_non_null(strstr(err.msg, "245$c"));
	assert_non_null(strstr(err.msg, "offset 4"));
	assert_string_equal(err.record_id, "rec-17");
	assert_int_equal(err.offset, 1234);
	/* the same record detected: Latin-1 */
	assert_int_equal(mc_record_normalise(r, MC_ENC_AUTO, &err), 0);
	assert_string_equal(f->sub[1].value, "by Müller");
	assert_string_equal(r->encoding, "latin-1");

	/* declared TCVN3, a byte VN3 leaves free; local_id wins over 001 */
	mc_record_reset(r);
	r->local_id = "oai:lib.example:9";
	assert_int_equal(mc_dc_add(r, "title", S("H\xb5 N\xe9i \xb0"), NULL), 0);
	mc_error_clear(&err);
	assert_int_equal(mc_record_normalise(r, MC_ENC_TCVN3, &err), MC_E_ENCODING);
	assert_non_null(strstr(err.msg, "dc:title"));
	assert_non_null(strstr(err.msg, "0xB0"));
	assert_non_null(strstr(err.msg, "tcvn3"));
	assert_non_null(strstr(err.msg, "offset 7"));
	assert_string_equal(err.record_id, "oai:lib.example:9");

	/* control characters and undecodable bytes everywhere: no encoding fits */
	mc_record_reset(r);
	assert_int_equal(mc_dc_add(r, "title", S("\x01\x81\x8d\x8f\x90\x9d\x03\x04"), NULL), 0);
	mc_error_clear(&err);
	assert_int_equal(mc_record_normalise(r, MC_ENC_AUTO, &err), MC_E_ENCODING);
	assert_non_null(strstr(err.msg, "dc:title"));
	assert_int_equal(mc_record_normalise(r, MC_ENC_COUNT, &err), MC_E_USAGE);
	mc_record_free(r);
}

/* Hostile input: random bytes and a maximal value, in every encoding. The
 * output must be valid NFC UTF-8, or a clean MC_E_ENCODING. */
static void test_hostile(void **state)
{
	struct mc_buf b;
	struct mc_record *r;
	struct mc_field *f;
	struct mc_error err;
	unsigned seed = 12345;
	char *big;
	int i, e, rc;

	(void)state;
	mc_buf_init(&b, 1u << 22);
	for (i = 0; i < 3000; i++) {
		char in[300];
		size_t n = (size_t)(seed % 300), k;

		for (k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			in[k] = (char)(seed >> 16);
		}
		for (e = MC_ENC_UTF8; e < MC_ENC_COUNT; e++) {
			int changed = 1;

			mc_buf_reset(&b);
			rc = mc_text_decode((enum mc_encoding)e, in, n, &b, NULL);
			assert_true(rc == 0 || rc == MC_E_ENCODING);
			if (rc == 0 && b.len) {
				struct mc_buf c;

				assert_true(mc_utf8_valid(b.data, b.len, NULL));
				mc_buf_init(&c, 1u << 22);
				assert_int_equal(mc_text_nfc(b.data, b.len, &c, &changed), 0);
				assert_int_equal(changed, 0);
				mc_buf_free(&c);
			}
		}
		(void)mc_text_detect(in, n, MC_ENC_MARC8, NULL);
		(void)mc_text_detect_mojibake(in, n);
	}
	/* one value at the field limit, all high bytes */
	big = malloc(MC_MAX_FIELD_BYTES);
	memset(big, 0xE2, MC_MAX_FIELD_BYTES);
	assert_int_equal(mc_record_new(&r), 0);
	assert_int_equal(mc_marc_add_data(r, "245", '1', '0', &f), 0);
	assert_int_equal(mc_marc_add_sub(r, f, 'a', big, MC_MAX_FIELD_BYTES), 0);
	rc = mc_record_normalise(r, MC_ENC_AUTO, &err);
	assert_true(rc == 0 || rc == MC_E_ENCODING);
	if (rc == 0)
		assert_true(mc_utf8_valid(f->sub[0].value, f->sub[0].len, NULL));
	for (e = MC_ENC_TCVN3; e < MC_ENC_COUNT; e++) {
		mc_record_reset(r);
		assert_int_equal(mc_marc_add_data(r, "245", '1', '0', &f), 0);
		assert_int_equal(mc_marc_add_sub(r, f, 'a', big, MC_MAX_FIELD_BYTES), 0);
		rc = mc_record_normalise(r, (enum mc_encoding)e, &err);
		assert_true(rc == 0 || rc == MC_E_ENCODING);
	}
	mc_record_free(r);
	free(big);
	mc_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoding_names),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_nfc),
		cmocka_unit_test(test_letters_roundtrip),
		cmocka_unit_test(test_tables_vs_glibc),
		cmocka_unit_test(test_vni),
		cmocka_unit_test(test_tcvn3),
		cmocka_unit_test(test_cp1258_latin1),
		cmocka_unit_test(test_marc8),
		cmocka_unit_test(test_detect_vietnamese),
		cmocka_unit_test(test_detect_vocabulary),
		cmocka_unit_test(test_detect_danish),
		cmocka_unit_test(test_detect_marc8),
		cmocka_unit_test(test_mojibake),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_normalise_same_text),
		cmocka_unit_test(test_normalise_dc),
		cmocka_unit_test(test_normalise_fast_path),
		cmocka_unit_test(test_normalise_controls),
		cmocka_unit_test(test_normalise_errors),
		cmocka_unit_test(test_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
