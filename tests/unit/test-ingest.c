/* test-ingest.c — what the import checks before it stores a record: the
 * per-record caps and the arena (core/record.c), the byte check of
 * indicators, subfield codes and the leader (mc_record_check_marc); and the
 * small helpers of the front end: input format names, sniffing, OAI-PMH
 * datestamps. Parsing itself is test-parse.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ingest.h"
#include "mc-limits.h"

static void test_datestamp(void **state)
{
	int64_t t = -1;

	(void)state;
	assert_int_equal(mc_datestamp_parse("2003-12-12", &t), 0);
	assert_int_equal(t, 1071187200);
	assert_int_equal(mc_datestamp_parse("2003-12-12T08:40:20Z", &t), 0);
	assert_int_equal(t, 1071187200 + 8 * 3600 + 40 * 60 + 20);
	assert_int_equal(mc_datestamp_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(mc_datestamp_parse("2024-02-29", &t), 0);
	assert_int_equal(t, 1709164800);
	t = 7;
	assert_int_equal(mc_datestamp_parse("2023-02-29", &t), MC_E_PARSE);
	assert_int_equal(t, 7);  /* *ret untouched on failure */
	assert_int_equal(mc_datestamp_parse("2003-12-12T08:40:20", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("2003-12-12T08:40:20+07:00", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("2003-12-12 08:40:20Z", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("2003-13-01", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("2003-12-32", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("2003-12-12T24:00:00Z", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("2003-1-12", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse(" 2003-12-12", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse("", &t), MC_E_PARSE);
	assert_int_equal(mc_datestamp_parse(NULL, &t), MC_E_PARSE);
}

static void test_input_names_and_sniff(void **state)
{
	enum mc_input in = MC_IN_XML;

	(void)state;
	assert_int_equal(mc_input_parse("auto", &in), 0);
	assert_int_equal(in, MC_IN_AUTO);
	assert_int_equal(mc_input_parse("MARCXML", &in), 0);
	assert_int_equal(in, MC_IN_MARCXML);
	assert_int_equal(mc_input_parse("iso2709", &in), 0);
	assert_int_equal(in, MC_IN_ISO2709);
	assert_int_equal(mc_input_parse("oai_dc", &in), 0);
	assert_int_equal(in, MC_IN_OAI_DC);
	assert_int_equal(mc_input_parse("mods", &in), MC_E_USAGE);
	assert_int_equal(in, MC_IN_OAI_DC);
	assert_int_equal(mc_input_parse(NULL, &in), MC_E_USAGE);

	assert_int_equal(mc_input_sniff("<?xml version='1.0'?>", 21), MC_IN_XML);
	assert_int_equal(mc_input_sniff("\xEF\xBB\xBF<collection>", 15), MC_IN_XML);
	assert_int_equal(mc_input_sniff("\r\n  <record>", 12), MC_IN_XML);
	assert_int_equal(mc_input_sniff("00366nam  22001698a 4500", 24), MC_IN_ISO2709);
	assert_int_equal(mc_input_sniff("\n00366nam", 9), MC_IN_ISO2709);
	assert_int_equal(mc_input_sniff("0036", 4), MC_IN_AUTO);
	assert_int_equal(mc_input_sniff("\x1f\x8b\x08\x00", 4), MC_IN_AUTO);
	assert_int_equal(mc_input_sniff("Service Unavailable", 19), MC_IN_AUTO);
	assert_int_equal(mc_input_sniff("", 0), MC_IN_AUTO);
}

/* ---------------------------------------------------------------- real MARCXML */

/* A record past its arena's cap gets MC_E_TOOBIG and says why; -ENOMEM is
 * kept for malloc failing. */
static void test_record_caps(void **state)
{
	struct mc_record *r;
	struct mc_field *f;
	char *big = malloc(MC_MAX_FIELD_BYTES);
	size_t i;
	int rc = 0;

	(void)state;
	memset(big, 'x', MC_MAX_FIELD_BYTES);
	assert_int_equal(mc_record_new(&r), 0);
	for (i = 0; i < MC_MAX_FIELDS && rc == 0; i++)
		rc = mc_marc_add_control(r, "009", big, MC_MAX_FIELD_BYTES);
	assert_int_equal(rc, MC_E_TOOBIG);
	assert_true(i < MC_MAX_FIELDS);  /* the arena, not the field count */
	assert_non_null(r->limit);
	assert_non_null(strstr(r->limit, "64 MiB"));
	mc_record_reset(r);
	assert_null(r->limit);
	assert_int_equal(mc_marc_add_control(r, "001", big, MC_MAX_FIELD_BYTES + 1), MC_E_TOOBIG);
	assert_string_equal(r->limit, "has a field longer than 256 KiB");
	mc_record_reset(r);
	/* the subfield cap counts every field */
	for (i = 0, rc = 0; rc == 0 && i < 1000; i++) {
		size_t j;

		rc = mc_marc_add_data(r, "500", ' ', ' ', &f);
		for (j = 0; rc == 0 && j < 1000; j++)
			rc = mc_marc_add_sub(r, f, 'a', "", 0);
	}
	assert_int_equal(rc, MC_E_TOOBIG);
	assert_int_equal(r->marc->nsub, MC_MAX_RECORD_SUBFIELDS);
	assert_string_equal(r->limit, "has more than 100000 subfields");
	mc_record_free(r);
	free(big);
}

/* Indicators and leader bytes MARC does not allow are repaired to blank;
 * a subfield code it does not allow refuses the record. */
static void test_check_marc(void **state)
{
	struct mc_record *r;
	struct mc_field *f;
	struct mc_error e;
	unsigned rep = 99;

	(void)state;
	assert_int_equal(mc_record_new(&r), 0);
	assert_int_equal(mc_record_check_marc(r, &rep, &e), 0);  /* no MARC part */
	assert_int_equal(rep, 0);
	assert_int_equal(mc_marc_add_data(r, "245", (char)0xE9, (char)0xE8, &f), 0);
	assert_int_equal(mc_marc_add_sub(r, f, 'a', "x", 1), 0);
	assert_int_equal(mc_marc_add_data(r, "650", 'A', '7', &f), 0);
	assert_int_equal(mc_marc_add_sub(r, f, '$', "y", 1), 0);
	r->marc->leader[6] = (char)0xE9;
	r->marc->leader[7] = '\x01';
	assert_int_equal(mc_record_check_marc(r, &rep, &e), 0);
	assert_int_equal(rep, 5);
	assert_int_equal(r->marc->fields[0].ind1, ' ');
	assert_int_equal(r->marc->fields[0].ind2, ' ');
	assert_int_equal(r->marc->fields[1].ind1, ' ');
	assert_int_equal(r->marc->fields[1].ind2, '7');
	assert_memory_equal(r->marc->leader + 6, "  ", 2);
	assert_int_equal(mc_record_check_marc(r, &rep, &e), 0);
	assert_int_equal(rep, 0);  /* nothing left to repair */
	assert_int_equal(mc_marc_add_sub(r, f, (char)0xFF, "z", 1), 0);
	mc_error_clear(&e);
	assert_int_equal(mc_record_check_marc(r, &rep, &e), MC_E_ENCODING);
	assert_string_equal(e.msg, "field 650: subfield code 0xFF is not a MARC subfield code");
	assert_true(mc_marc_code_ok('A') && mc_marc_code_ok('\\') && mc_marc_code_ok('~'));
	assert_false(mc_marc_code_ok(' ') || mc_marc_code_ok('@') || mc_marc_code_ok('|') ||
		     mc_marc_code_ok(0) || mc_marc_code_ok(0x7F));
	assert_true(mc_marc_ind_ok(' ') && mc_marc_ind_ok('0') && mc_marc_ind_ok('z'));
	assert_false(mc_marc_ind_ok('A') || mc_marc_ind_ok('#') || mc_marc_ind_ok(0xE9));
	mc_record_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_datestamp),
		cmocka_unit_test(test_input_names_and_sniff),
		cmocka_unit_test(test_record_caps),
		cmocka_unit_test(test_check_marc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
