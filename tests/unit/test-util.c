/* test-util.c — the shared helpers of core/: the string hash (mc-hash.h),
 * the integer encodings (mc-varint.h) and dates (mc-date.h). The hash and
 * the encodings are on disk: their outputs are pinned here byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "mc-date.h"
#include "mc-error.h"
#include "mc-hash.h"
#include "mc-varint.h"

/* ---- hash ---- */

static void hash64_is_pinned(void **state)
{
	/* Values of the merger's stored mg_key index: never change. */
	assert_true(mc_hash64_str("") == 0x14650fb0739d0383ull);
	assert_true(mc_hash64_str("") == MC_HASH64_SEED);
	assert_true(mc_hash64_str("a") == 0x44bd8ad473cd9906ull);
	assert_true(mc_hash64_str("foobar") == 0x88fad7c0a8ff07f2ull);
	assert_true(mc_hash64_str("t:nguyen van a|2001") == 0xf5e336ec671dea2eull);
	assert_true(mc_hash64_str("Ti\xe1\xba\xbfng Vi\xe1\xbb\x87t") == 0xba83ff8def9209bbull);
}

static void hash64_pieces_compose(void **state)
{
	const char s[] = "mg_key\xffk\0x";
	uint64_t h;

	/* bytes, strings and single bytes fold the same way */
	assert_true(mc_hash64("foobar", 6) == mc_hash64_str("foobar"));
	h = mc_hash64_add_str(MC_HASH64_SEED, "foo");
	assert_true(mc_hash64_add(h, "bar", 3) == mc_hash64_str("foobar"));
	h = mc_hash64_byte(MC_HASH64_SEED, 'f');
	assert_true(mc_hash64_add_str(h, "oobar") == mc_hash64_str("foobar"));
	/* embedded NULs count with the length form */
	h = mc_hash64_add_str(MC_HASH64_SEED, "mg_key");
	h = mc_hash64_byte(h, 0xff);
	assert_true(mc_hash64_add(h, "k\0x", 3) == 0xec588b35909e8499ull);
	assert_true(mc_hash64(s, sizeof(s) - 1) == 0xec588b35909e8499ull);
	assert_true(mc_hash64(NULL, 0) == MC_HASH64_SEED);
	/* the sign of char does not leak in */
	assert_true(mc_hash64_str("\xe9") == mc_hash64_byte(MC_HASH64_SEED, 0xe9));
	assert_true(mc_hash64_str("ab") != mc_hash64_str("ba"));
}

static void hash32_is_fnv1a(void **state)
{
	/* FNV-1a 32-bit published test values */
	assert_int_equal(mc_hash32_str(""), 0x811c9dc5u);
	assert_int_equal(mc_hash32_str("a"), 0xe40c292cu);
	assert_int_equal(mc_hash32_str("foobar"), 0xbf9cf968u);
	assert_int_equal(mc_hash32("foobar", 6), 0xbf9cf968u);
	assert_int_equal(mc_hash32_str("t:nguyen van a|2001"), 0x9e388920u);
}

/* ---- varint ---- */

static void varint_bytes_are_leb128(void **state)
{
	static const struct {
		uint64_t v;
		size_t n;
		unsigned char b[MC_VARINT_MAX];
	} cases[] = {
		{ 0, 1, { 0x00 } },
		{ 1, 1, { 0x01 } },
		{ 127, 1, { 0x7f } },
		{ 128, 2, { 0x80, 0x01 } },
		{ 300, 2, { 0xac, 0x02 } },
		{ 16384, 3, { 0x80, 0x80, 0x01 } },
		{ UINT32_MAX, 5, { 0xff, 0xff, 0xff, 0xff, 0x0f } },
		{ UINT64_MAX, 10, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 } },
	};
	unsigned char buf[MC_VARINT_MAX + 1];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const unsigned char *p = buf;
		uint64_t v = 0;

		memset(buf, 0xaa, sizeof(buf));
		assert_int_equal(mc_varint_put(buf, cases[i].v), cases[i].n);
		assert_memory_equal(buf, cases[i].b, cases[i].n);
		assert_int_equal(buf[cases[i].n], 0xaa);  /* nothing past it */
		assert_int_equal(mc_varint_get(&p, buf + cases[i].n, &v), 0);
		assert_true(v == cases[i].v);
		assert_ptr_equal(p, buf + cases[i].n);
	}
}

static void varint_roundtrips_in_sequence(void **state)
{
	unsigned char buf[64 * MC_VARINT_MAX];
	const unsigned char *p = buf, *end;
	size_t n = 0;
	uint64_t v;
	int i;

	for (i = 0; i < 64; i++)
		n += mc_varint_put(buf + n, (1ull << i) - 1);
	end = buf + n;
	for (i = 0; i < 64; i++) {
		assert_int_equal(mc_varint_get(&p, end, &v), 0);
		assert_true(v == (1ull << i) - 1);
	}
	assert_ptr_equal(p, end);
	assert_int_equal(mc_varint_get(&p, end, &v), MC_E_CORRUPT);  /* nothing left */
}

static void varint_refuses_what_it_never_writes(void **state)
{
	static const unsigned char zero_tail[] = { 0x80, 0x00 };       /* 0 in two bytes */
	static const unsigned char long_zero[] = { 0xac, 0x82, 0x00 }; /* 300, padded */
	static const unsigned char truncated[] = { 0xac };
	static const unsigned char too_wide[] = { 0xff, 0xff, 0xff, 0xff, 0xff,
						  0xff, 0xff, 0xff, 0xff, 0x02 }; /* 65 bits */
	static const unsigned char too_long[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
						  0x80, 0x80, 0x80, 0x80, 0x01 }; /* 11 bytes */
	const unsigned char *p;
	uint64_t v = 42;

	p = zero_tail;
	assert_int_equal(mc_varint_get(&p, zero_tail + sizeof(zero_tail), &v), MC_E_CORRUPT);
	assert_ptr_equal(p, zero_tail);  /* untouched on failure */
	assert_true(v == 42);
	p = long_zero;
	assert_int_equal(mc_varint_get(&p, long_zero + sizeof(long_zero), &v), MC_E_CORRUPT);
	p = truncated;
	assert_int_equal(mc_varint_get(&p, truncated + sizeof(truncated), &v), MC_E_CORRUPT);
	p = truncated;
	assert_int_equal(mc_varint_get(&p, truncated, &v), MC_E_CORRUPT);  /* empty input */
	p = too_wide;
	assert_int_equal(mc_varint_get(&p, too_wide + sizeof(too_wide), &v), MC_E_CORRUPT);
	p = too_long;
	assert_int_equal(mc_varint_get(&p, too_long + sizeof(too_long), &v), MC_E_CORRUPT);
	assert_true(v == 42);
}

static void zigzag_interleaves_signs(void **state)
{
	static const int64_t vals[] = { 0, -1, 1, -2, 2, INT32_MIN, INT32_MAX, INT64_MIN, INT64_MAX };
	size_t i;

	assert_true(mc_zigzag(0) == 0);
	assert_true(mc_zigzag(-1) == 1);
	assert_true(mc_zigzag(1) == 2);
	assert_true(mc_zigzag(-2) == 3);
	assert_true(mc_zigzag(INT64_MAX) == UINT64_MAX - 1);
	assert_true(mc_zigzag(INT64_MIN) == UINT64_MAX);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		assert_true(mc_unzigzag(mc_zigzag(vals[i])) == vals[i]);
}

static void fixed64_byte_orders(void **state)
{
	static const unsigned char le[8] = { 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01 };
	static const unsigned char be[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
	unsigned char b[8];

	mc_put_le64(b, 0x0102030405060708ull);
	assert_memory_equal(b, le, 8);
	assert_true(mc_get_le64(b) == 0x0102030405060708ull);
	mc_put_be64(b, 0x0102030405060708ull);
	assert_memory_equal(b, be, 8);
	assert_true(mc_get_be64(b) == 0x0102030405060708ull);
	mc_put_be64(b, UINT64_MAX);
	assert_true(mc_get_be64(b) == UINT64_MAX);
	/* big-endian keys sort as numbers */
	{
		unsigned char x[8], y[8];

		mc_put_be64(x, 255);
		mc_put_be64(y, 256);
		assert_true(memcmp(x, y, 8) < 0);
	}
}

/* ---- dates ---- */

static void days_from_civil_agrees_with_timegm(void **state)
{
	int y, m;

	assert_int_equal(mc_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(mc_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(mc_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(mc_days_from_civil(1, 1, 1), -719162);
	for (y = 1; y <= 9999; y += (y < 2200 ? 1 : 37)) {
		for (m = 1; m <= 12; m++) {
			struct tm tm;

			memset(&tm, 0, sizeof(tm));
			tm.tm_year = y - 1900;
			tm.tm_mon = m - 1;
			tm.tm_mday = 28;
			assert_int_equal(mc_days_from_civil(y, (unsigned)m, 28) * 86400,
					 (int64_t)timegm(&tm));
		}
	}
}

static void date_valid_counts_leap_years(void **state)
{
	assert_true(mc_date_valid(2024, 2, 29));
	assert_true(mc_date_valid(2000, 2, 29));   /* divisible by 400 */
	assert_false(mc_date_valid(1900, 2, 29));  /* by 100, not by 400 */
	assert_false(mc_date_valid(2023, 2, 29));
	assert_true(mc_date_valid(2023, 12, 31));
	assert_false(mc_date_valid(2023, 4, 31));
	assert_false(mc_date_valid(2023, 13, 1));
	assert_false(mc_date_valid(2023, 0, 1));
	assert_false(mc_date_valid(2023, 1, 0));
	assert_false(mc_date_valid(0, 1, 1));
	assert_true(mc_date_valid(1, 1, 1));
}

static void datestamp_parses_both_granularities(void **state)
{
	int64_t t = -1;

	assert_int_equal(mc_datestamp_parse("2003-12-12", &t), 0);
	assert_int_equal(t, 1071187200);
	assert_int_equal(mc_datestamp_parse("2003-12-12T08:40:20Z", &t), 0);
	assert_int_equal(t, 1071187200 + 8 * 3600 + 40 * 60 + 20);
	assert_int_equal(mc_datestamp_parse("1969-12-31T23:59:59Z", &t), 0);
	assert_int_equal(t, -1);
	assert_int_equal(mc_datestamp_parse("0001-01-01", &t), 0);
	assert_int_equal(t, -62135596800ll);
	assert_int_equal(mc_datestamp_parse("9999-12-31T23:59:59Z", &t), 0);
	assert_int_equal(t, 253402300799ll);
	t = 7;
	assert_int_equal(mc_datestamp_parse(NULL, &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("0000-01-01", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("2003-12-32", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("1900-02-29", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("2003/12/12", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("2003-12-1x", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("2003-12-12T24:00:00Z", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("2003-12-12T23:60:00Z", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("2003-12-12T23:59:60Z", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("2003-12-12 08:40:20Z", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("2003-12-12T08:40:20z", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("-003-12-12", &t), MC_E_PARSE);
	assert_int_equal(t, 7);  /* untouched on failure */
}

static void marc005_parses_and_refuses(void **state)
{
	int64_t t = 7;

	assert_int_equal(mc_marc005_parse("19930521155141.9", 16, &t), 0);
	assert_int_equal(t, 737999501);
	assert_int_equal(mc_marc005_parse("20240229000000", 14, &t), 0);
	assert_int_equal(t, 1709164800);
	/* the length is the caller's: no NUL needed, anything after "." ignored */
	assert_int_equal(mc_marc005_parse("20240229000000.0junk", 14, &t), 0);
	assert_int_equal(mc_marc005_parse("20240229000000.0junk", 20, &t), 0);
	assert_int_equal(t, 1709164800);
	t = 7;
	assert_int_equal(mc_marc005_parse("20240229000000x", 15, &t), MC_E_PARSE);
	assert_int_equal(mc_marc005_parse("00000000000000.0", 16, &t), MC_E_PARSE);
	assert_int_equal(mc_marc005_parse("20230229120000.0", 16, &t), MC_E_PARSE);
	assert_int_equal(mc_marc005_parse("20230101240000", 14, &t), MC_E_PARSE);
	assert_int_equal(mc_marc005_parse("2023010112000", 13, &t), MC_E_PARSE);
	assert_int_equal(mc_marc005_parse("2023010112000x", 14, &t), MC_E_PARSE);
	assert_int_equal(t, 7);
}

static void date_formats(void **state)
{
	char buf[MC_DATE_BUFSZ];

	assert_int_equal(mc_date_format(1071218420, MC_DATE_SECONDS, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2003-12-12T08:40:20Z");
	assert_int_equal(mc_date_format(1071218420, MC_DATE_DAY, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2003-12-12");
	assert_int_equal(mc_date_format(1071218420, MC_DATE_COMPACT, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "20031212T084020Z");
	assert_int_equal(mc_date_format(-1, MC_DATE_SECONDS, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
	/* too small a buffer is an error and an empty string, never a cut date */
	assert_int_equal(mc_date_format(0, MC_DATE_SECONDS, buf, 20), MC_E_TOOBIG);
	assert_string_equal(buf, "");
	assert_int_equal(mc_date_format(0, MC_DATE_SECONDS, buf, 21), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	assert_int_equal(mc_date_format(0, MC_DATE_DAY, buf, 10), MC_E_TOOBIG);
	assert_int_equal(mc_date_format(0, MC_DATE_DAY, buf, 11), 0);
	assert_string_equal(buf, "1970-01-01");
	assert_int_equal(mc_date_format(INT64_MAX, MC_DATE_SECONDS, buf, sizeof(buf)), MC_E_PARSE);
	assert_string_equal(buf, "");
	mc_time_iso(1709164800, buf);
	assert_string_equal(buf, "2024-02-29T00:00:00Z");
	mc_time_iso(INT64_MAX, buf);
	assert_string_equal(buf, "");
}

static void date_parse_and_format_roundtrip(void **state)
{
	char buf[MC_DATE_BUFSZ];
	int64_t t, back;

	/* every 9,999,991 s (a prime: every hour, minute and second come up)
	 * from year 1000 (strftime does not pad years) to 9999 */
	for (t = -30610224000ll; t < 253402300799ll; t += 9999991) {
		assert_int_equal(mc_date_format(t, MC_DATE_SECONDS, buf, sizeof(buf)), 0);
		assert_int_equal(mc_datestamp_parse(buf, &back), 0);
		assert_true(back == t);
	}
}

static void mono_clock_never_goes_back(void **state)
{
	double a = mc_time_mono(), b = mc_time_mono();

	assert_true(a > 0);
	assert_true(b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hash64_is_pinned),
		cmocka_unit_test(hash64_pieces_compose),
		cmocka_unit_test(hash32_is_fnv1a),
		cmocka_unit_test(varint_bytes_are_leb128),
		cmocka_unit_test(varint_roundtrips_in_sequence),
		cmocka_unit_test(varint_refuses_what_it_never_writes),
		cmocka_unit_test(zigzag_interleaves_signs),
		cmocka_unit_test(fixed64_byte_orders),
		cmocka_unit_test(days_from_civil_agrees_with_timegm),
		cmocka_unit_test(date_valid_counts_leap_years),
		cmocka_unit_test(datestamp_parses_both_granularities),
		cmocka_unit_test(marc005_parses_and_refuses),
		cmocka_unit_test(date_formats),
		cmocka_unit_test(date_parse_and_format_roundtrip),
		cmocka_unit_test(mono_clock_never_goes_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
