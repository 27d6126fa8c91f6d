/* test-ixtext.c — the index's words and word forms (indexer/ix-text.c):
 * tone placement both ways, NFD input, folding, word splitting, caps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ix-text.h"
#include "mc-buf.h"

#define S(lit) lit, sizeof(lit) - 1

static void forms(const char *w, const char *acc_want, const char *fold_want)
{
	struct mc_buf acc, fold;

	mc_buf_init(&acc, 4096);
	mc_buf_init(&fold, 4096);
	assert_int_equal(ix_text_word_forms(w, strlen(w), &acc, &fold), 0);
	if (strcmp(acc.data, acc_want) != 0 || strcmp(fold.data, fold_want) != 0)
		fail_msg("%s: got %s / %s, want %s / %s", w, acc.data, fold.data, acc_want,
			 fold_want);
	mc_buf_free(&acc);
	mc_buf_free(&fold);
}

static void test_tone_placement(void **state)
{
	(void)state;
	/* the two conventions meet */
	forms("hòa", "hòa", "hoa");
	forms("hoà", "hòa", "hoa");
	forms("thủy", "thủy", "thuy");
	forms("thuỷ", "thủy", "thuy");
	forms("khỏe", "khỏe", "khoe");
	forms("khoẻ", "khỏe", "khoe");
	forms("HOÀ", "hòa", "hoa");
	/* misplaced marks in front of a final consonant */
	forms("hòang", "hoàng", "hoang");
	forms("hoàng", "hoàng", "hoang");
	forms("tóan", "toán", "toan");
	/* qu, gi */
	forms("quý", "quý", "quy");
	forms("qúy", "quý", "quy");
	forms("quả", "quả", "qua");
	forms("già", "già", "gia");
	forms("gìn", "gìn", "gin");
	forms("giữa", "giữa", "giua");
	/* shape marks take the tone */
	forms("người", "người", "nguoi");
	forms("ngừơi", "người", "nguoi");   /* mark on the wrong vowel */
	forms("Nguyễn", "nguyễn", "nguyen");
	forms("thuyết", "thuyết", "thuyet");
	forms("hươu", "hươu", "huou");
	/* three vowels: the middle one */
	forms("ngoài", "ngoài", "ngoai");
	forms("khuỷu", "khuỷu", "khuyu");
	/* đ */
	forms("Đà", "đà", "da");
	forms("đường", "đường", "duong");
	/* two vowels, first */
	forms("mùa", "mùa", "mua");
	forms("tài", "tài", "tai");
	/* ASCII, digits, not Vietnamese */
	forms("Lich", "lich", "lich");
	forms("2024", "2024", "2024");
	forms("Müller", "müller", "muller");
	forms("café", "café", "cafe");
}

static void test_nfd_input(void **state)
{
	(void)state;
	/* "thể" decomposed: e + circumflex + hook above */
	forms("the\xcc\x82\xcc\x89", "thể", "the");
	/* hoà decomposed with the grave on a */
	forms("hoa\xcc\x80", "hòa", "hoa");
	/* marks in the other canonical order */
	forms("ngu\xcc\x9bo\xcc\x9b\xcc\x80i", "người", "nguoi");
}

struct collect {
	char words[16][IX_WORD_MAX + 1];
	int n;
};

static int collect_cb(void *ctx, const char *w, size_t n)
{
	struct collect *c = ctx;

	assert_true(n <= IX_WORD_MAX);
	if (c->n < 16) {
		memcpy(c->words[c->n], w, n);
		c->words[c->n][n] = '\0';
	}
	c->n++;
	return 0;
}

static void test_words(void **state)
{
	struct collect c = { .n = 0 };
	char big[300];

	(void)state;
	assert_int_equal(ix_text_words(S("Lịch sử Việt Nam: 1945-1975 (tập 2)"), collect_cb, &c), 0);
	assert_int_equal(c.n, 8);
	assert_string_equal(c.words[0], "Lịch");
	assert_string_equal(c.words[3], "Nam");
	assert_string_equal(c.words[4], "1945");
	assert_string_equal(c.words[7], "2");
	/* NFD marks stay inside their word */
	c.n = 0;
	assert_int_equal(ix_text_words(S("the\xcc\x82\xcc\x89 thao"), collect_cb, &c), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.words[0], "the\xcc\x82\xcc\x89");
	/* invalid UTF-8 separates, never crashes */
	c.n = 0;
	assert_int_equal(ix_text_words(S("ab\xff\xfe" "cd\xc3"), collect_cb, &c), 0);
	assert_int_equal(c.n, 2);
	/* a huge word is cut at a character boundary */
	for (size_t i = 0; i < sizeof big; i += 2)
		memcpy(big + i, "\xc3\xa0", 2);
	c.n = 0;
	assert_int_equal(ix_text_words(big, sizeof big, collect_cb, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(strlen(c.words[0]), IX_WORD_MAX);
	{
		struct mc_buf acc, fold;

		mc_buf_init(&acc, 4096);
		mc_buf_init(&fold, 4096);
		assert_int_equal(ix_text_word_forms(big, sizeof big, &acc, &fold), 0);
		assert_true(acc.len <= IX_WORD_MAX * 2 && fold.len <= IX_WORD_MAX);
		mc_buf_free(&acc);
		mc_buf_free(&fold);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tone_placement),
		cmocka_unit_test(test_nfd_input),
		cmocka_unit_test(test_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
