/* test-query.c — the query parser (indexer/query.c): the tree it builds for
 * each piece of syntax, the word forms it carries, the repairs it makes and
 * the limits it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ix-query.h"
#include "ix-search.h"
#include "ix-text.h"

/* The dump of q's tree, or "ERR <code>: <msg>". */
static void parses(const char *q, size_t len, const char *want)
{
	struct ix_query *pq = NULL;
	struct mc_error err;
	struct mc_buf out;
	int rc;

	mc_buf_init(&out, 1 << 16);
	rc = ix_query_parse(q, len, &pq, &err);
	if (rc) {
		assert_null(pq);
		assert_int_equal(err.code, rc);
		mc_buf_addf(&out, "ERR %s: %s", rc == MC_E_TOOBIG ? "toobig" : rc == MC_E_USAGE ? "usage" : "other",
			    err.msg);
	} else {
		assert_int_equal(ix_query_dump(pq, &out), 0);
	}
	if (strncmp(want, "ERR ", 4) == 0 ? strncmp(out.data ? out.data : "", want, strlen(want)) != 0
					  : strcmp(out.data ? out.data : "", want) != 0)
		fail_msg("query [%.*s]:\n  got  %s\n  want %s", (int)(len > 200 ? 200 : len), q,
			 out.data ? out.data : "", want);
	ix_query_free(pq);
	mc_buf_free(&out);
}

#define P(q, want) parses(q, strlen(q), want)

static void words_and_forms(void **state)
{
	(void)state;
	P("lich su viet nam", "AND(any:lich any:su any:viet any:nam)");
	/* diacritics: folded form to match, the accented one kept to rank */
	P("lịch sử", "AND(any:lich[lịch] any:su[sử])");
	/* NFD and the other tone placement give the same forms as NFC */
	P("ho\xcc\x80" "a bi\xcc\x80nh", "AND(any:hoa[hòa] any:binh[bình])");
	P("hoà bình", "AND(any:hoa[hòa] any:binh[bình])");
	P("thuỷ", "any:thuy[thủy]");
	P("Đà Nẵng", "AND(any:da[đà] any:nang[nẵng])");
	P("VIỆT", "any:viet[việt]");
	P("", "");
	P("   \t ", "");
	P("--- ... ", "");
}

static void phrases_and_tokens(void **state)
{
	(void)state;
	P("\"lịch sử\" việt", "AND(any:\"lich su\" any:viet[việt])");
	/* an unclosed quote is closed at the end */
	P("\"lich su viet", "any:\"lich su viet\"");
	P("“lich su”", "any:\"lich su\"");
	/* a token of several words is a phrase */
	P("e-book", "any:\"e book\"");
	P("\"one\"", "any:one");
	P("\"\"", "");
}

static void fields(void **state)
{
	(void)state;
	P("title:lich author:nguyen subject:van", "AND(title:lich author:nguyen subject:van)");
	P("nhande:lich tacgia:nguyen chude:van", "AND(title:lich author:nguyen subject:van)");
	P("TITLE:\"lich su\"", "title:\"lich su\"");
	P("title:(lich OR su) x", "AND(OR(title:lich title:su) any:x)");
	P("title:author:x", "author:x");
	P("title:", "");
	/* an unknown name before : is a word */
	P("foo:bar", "AND(any:foo any:bar)");
	P("year:1990", "year:1990");
	P("namxb:1990..2000", "year:1990..2000");
	P("year:..2000", "year:..2000");
	P("year:1990..", "year:1990..");
	P("year:2000-1990", "year:1990..2000");
	P("year:abc", "ERR usage: year: expects");
	P("year:..", "ERR usage: year: expects");
	P("year:12345", "ERR usage: year: expects");
}

static void isbn(void **state)
{
	(void)state;
	P("isbn:978-604-2-12345-6", "ERR usage: isbn: '978-604-2-12345-6' is not a valid ISBN");
	P("isbn:9780306406157", "isbn:9780306406157");
	P("isbn:0-306-40615-2", "isbn:9780306406157");
	P("978-0-306-40615-7", "isbn:9780306406157");
	P("0306406152", "isbn:9780306406157");
	P("ISBN 0-306-40615-2", "isbn:9780306406157");
	P("isbn:\"0 306 40615 2\"", "isbn:9780306406157");
	P("080442957X", "isbn:9780804429573");
	/* digits that are no valid ISBN are words */
	P("0306406153", "any:0306406153");
	P("1990", "any:1990");
	P("978-0-306-40615-7 lich", "AND(isbn:9780306406157 any:lich)");
}

static void booleans(void **state)
{
	(void)state;
	P("a AND b", "AND(any:a any:b)");
	P("a OR b c", "OR(any:a AND(any:b any:c))");
	P("a NOT b", "AND(any:a NOT(any:b))");
	P("a -b", "AND(any:a NOT(any:b))");
	P("NOT b", "NOT(any:b)");
	P("NOT NOT b", "any:b");
	P("(a OR b) (c OR d)", "AND(OR(any:a any:b) OR(any:c any:d))");
	P("a and b", "AND(any:a any:and any:b)");
	/* Vietnamese operators, NFC and NFD, upper case only */
	P("a VÀ b", "AND(any:a any:b)");
	P("a HOẶC b", "OR(any:a any:b)");
	P("a HOA\xcc\xa3\xcc\x86" "C b", "OR(any:a any:b)");
	P("a KHÔNG b", "AND(any:a NOT(any:b))");
	P("lịch sử và văn hóa", "AND(any:lich[lịch] any:su[sử] any:va[và] any:van[văn] any:hoa[hóa])");
	/* operators in the wrong places are dropped */
	P("AND a", "any:a");
	P("a OR", "any:a");
	P("a OR OR b", "OR(any:a any:b)");
	P("a NOT", "any:a");
	P("OR AND NOT", "");
	/* nested groups flatten */
	P("a (b c)", "AND(any:a any:b any:c)");
}

static void repairs(void **state)
{
	struct ix_query *q = NULL;
	struct mc_error err;

	(void)state;
	P("(a b", "AND(any:a any:b)");
	P("a b)", "AND(any:a any:b)");
	P(")))a(((", "any:a");
	P("((a OR b)", "OR(any:a any:b)");
	assert_int_equal(ix_query_parse("(a b", 4, &q, &err), 0);
	assert_true(q->repaired);
	ix_query_free(q);
	assert_int_equal(ix_query_parse("(a b)", 5, &q, &err), 0);
	assert_false(q->repaired);
	ix_query_free(q);
}

static void wildcards(void **state)
{
	(void)state;
	P("lich*", "any:lich*");
	P("title:lịch*", "title:lich*[lịch]");
	P("lich su*", "AND(any:lich any:su*)");
	P("lich-su*", "AND(any:lich any:su*)");
	P("a*", "ERR usage: a prefix search needs at least 2 letters");
	P("***", "");
}

static void limits(void **state)
{
	char big[IX_MAX_QUERY_BYTES + 2];
	char buf[4096], want[4096];
	size_t i, n, m;

	(void)state;
	memset(big, 'a', sizeof(big));
	parses(big, IX_MAX_QUERY_BYTES + 1, "ERR toobig: the query is longer than 1024 bytes");
	/* exactly the limit is fine (one long word, cut as the index cuts it) */
	memset(want, 'a', sizeof(want));
	memcpy(want, "any:", 4);
	want[4 + IX_WORD_MAX] = '\0';
	parses(big, IX_MAX_QUERY_BYTES, want);
	/* terms: 32 are fine, 33 are refused */
	n = 0;
	m = (size_t)snprintf(want, sizeof(want), "AND(");
	for (i = 0; i < IX_MAX_QUERY_TERMS; i++) {
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "w%zu ", i);
		m += (size_t)snprintf(want + m, sizeof(want) - m, "%sany:w%zu", i ? " " : "", i);
	}
	snprintf(want + m, sizeof(want) - m, ")");
	parses(buf, n, want);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "one-more");
	parses(buf, n, "ERR toobig: the query has more than 32 words");
	/* depth */
	n = 0;
	for (i = 0; i < IX_MAX_QUERY_DEPTH; i++)
		buf[n++] = '(';
	buf[n++] = 'a';
	parses(buf, n, "any:a");
	memmove(buf + 1, buf, n);
	buf[0] = '(';
	parses(buf, n + 1, "ERR toobig: the query nests parentheses or NOT more than 8 deep");
	P("NOT (NOT (NOT (NOT (NOT (a)))))", "ERR toobig");
	P("-a -b -c -d -e -f -g -h -i -j", "AND(NOT(any:a) NOT(any:b) NOT(any:c) NOT(any:d) NOT(any:e) NOT(any:f) NOT(any:g) NOT(any:h) NOT(any:i) NOT(any:j))");
	/* NUL and invalid UTF-8 are refused with a message */
	parses("a\0b", 3, "ERR usage: the query holds a NUL byte");
	P("a \xff b", "ERR usage: the query is not valid UTF-8 (byte 2)");
	P("\xc0\xaf", "ERR usage: the query is not valid UTF-8");
	P("\xed\xa0\x80", "ERR usage: the query is not valid UTF-8");
}

static void format_for_did_you_mean(void **state)
{
	struct ix_query *q = NULL;
	struct mc_error err;
	struct mc_buf out;
	const char *s = "Lịch sỬ title:\"viet nam\" OR (a NOT b) year:1990..2000 isbn:0306406152 pre*";

	(void)state;
	mc_buf_init(&out, 4096);
	assert_int_equal(ix_query_parse(s, strlen(s), &q, &err), 0);
	assert_int_equal(ix_query_format(q, &out), 0);
	assert_string_equal(out.data, "(Lịch sỬ title:\"viet nam\") OR (a NOT b year:1990..2000 "
				      "isbn:9780306406157 pre*)");
	/* the search side sets fix on a misspelt word */
	assert_int_equal(q->root->kind, IX_Q_OR);
	assert_int_equal(q->root->kids[0]->kind, IX_Q_AND);
	q->root->kids[0]->kids[0]->words[0].fix = "lich";
	mc_buf_reset(&out);
	assert_int_equal(ix_query_format(q, &out), 0);
	assert_true(strncmp(out.data, "(lich sỬ", 9) == 0);
	assert_int_equal(q->nterms, 9);
	ix_query_free(q);
	ix_query_free(NULL);
	mc_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(words_and_forms),
		cmocka_unit_test(phrases_and_tokens),
		cmocka_unit_test(fields),
		cmocka_unit_test(isbn),
		cmocka_unit_test(booleans),
		cmocka_unit_test(repairs),
		cmocka_unit_test(wildcards),
		cmocka_unit_test(limits),
		cmocka_unit_test(format_for_did_you_mean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
