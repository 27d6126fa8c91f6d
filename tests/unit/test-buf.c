/* test-buf.c — capped buffers, arenas, error formatting, record building. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mc-buf.h"
#include "mc-error.h"
#include "mc-limits.h"
#include "mc-record.h"

static void buf_cap_refuses_growth(void **state)
{
	struct mc_buf b;

	mc_buf_init(&b, 10);
	assert_int_equal(mc_buf_adds(&b, "0123456789"), 0);
	assert_int_equal(b.len, 10);
	assert_int_equal(mc_buf_addc(&b, 'x'), MC_E_TOOBIG);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "0123456789");
	mc_buf_reset(&b);
	assert_int_equal(mc_buf_addf(&b, "%d-%s", 42, "ab"), 0);
	assert_string_equal(b.data, "42-ab");
	assert_int_equal(mc_buf_addf(&b, "%s", "too long now"), MC_E_TOOBIG);
	assert_string_equal(b.data, "42-ab");
	mc_buf_free(&b);
}

static void buf_huge_request_does_not_overflow(void **state)
{
	struct mc_buf b;

	mc_buf_init(&b, SIZE_MAX);
	assert_int_equal(mc_buf_adds(&b, "abc"), 0);
	assert_int_equal(mc_buf_reserve(&b, SIZE_MAX - 1), MC_E_TOOBIG);
	mc_buf_free(&b);
}

static void arena_allocates_aligned_and_caps(void **state)
{
	struct mc_arena *a;
	char *s;
	void *p;
	int i;

	assert_int_equal(mc_arena_new(100000, &a), 0);
	for (i = 0; i < 1000; i++) {
		p = mc_arena_alloc(a, (size_t)(i % 13) + 1);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 8, 0);
	}
	s = mc_arena_printf(a, "%s-%d", "rec", 7);
	assert_string_equal(s, "rec-7");
	/* a big block beside small ones */
	assert_non_null(mc_arena_alloc(a, 50000));
	assert_null(mc_arena_alloc(a, 60000));  /* over the cap */
	mc_arena_reset(a);
	assert_int_equal(mc_arena_used(a), 0);
	assert_non_null(mc_arena_alloc(a, 60000));
	mc_arena_free(a);
	mc_arena_free(NULL);
}

static void record_builds_marc_and_dc(void **state)
{
	struct mc_record *r;
	struct mc_field *f;
	int i;

	assert_int_equal(mc_record_new(&r), 0);
	assert_int_equal(mc_marc_add_control(r, "001", "123", 3), 0);
	assert_int_equal(mc_marc_add_data(r, "245", '1', '0', &f), 0);
	for (i = 0; i < 40; i++)
		assert_int_equal(mc_marc_add_sub(r, f, (char)('a' + i % 26), "v", 1), 0);
	assert_int_equal(f->nsub, 40);
	assert_int_equal(r->format, MC_FMT_MARC21);
	assert_string_equal(mc_marc_first(r->marc, "001")->value, "123");
	assert_string_equal(mc_field_sub(mc_marc_first(r->marc, "245"), 'c'), "v");
	assert_null(mc_marc_first(r->marc, "100"));
	{
		char big[16];

		memset(big, 'x', sizeof(big));
		assert_int_equal(mc_marc_add_sub(r, f, 'z', big, MC_MAX_FIELD_BYTES + 1),
				 MC_E_TOOBIG);
	}
	mc_record_reset(r);
	assert_null(r->marc);
	assert_int_equal(mc_dc_add(r, "title", "Số đỏ", strlen("Số đỏ"), "vi"), 0);
	assert_int_equal(r->format, MC_FMT_OAI_DC);
	assert_string_equal(r->dc->elems[0].lang, "vi");
	mc_record_free(r);
}

static void error_messages_name_the_place(void **state)
{
	struct mc_error e;
	char buf[1024];

	mc_error_clear(&e);
	assert_int_equal(e.offset, -1);
	mc_error_field(e.file, sizeof(e.file), "lib.xml");
	mc_error_field(e.record_id, sizeof(e.record_id), "oai:x:1");
	e.line = 12;
	assert_int_equal(mc_error_set(&e, MC_E_PARSE, "bad tag <%s>", "x"), MC_E_PARSE);
	mc_error_format(&e, buf, sizeof(buf));
	assert_non_null(strstr(buf, "lib.xml:12"));
	assert_non_null(strstr(buf, "record oai:x:1"));
	assert_non_null(strstr(buf, "bad tag <x>"));
	assert_string_equal(mc_strerror(-ENOENT), "No such file or directory");
	assert_string_equal(mc_strerror(MC_E_TOOBIG), "size limit exceeded");
	assert_string_equal(mc_strerror(12345), "unknown error");
}

/* the reason is said once: not "merging x: Cannot allocate memory — Cannot
 * allocate memory" (found by tests/torture) */
static void error_reason_is_not_repeated(void **state)
{
	struct mc_error e;
	char buf[1024];

	mc_error_clear(&e);
	mc_error_set(&e, -ENOMEM, "merging l1:a1: %s", mc_strerror(-ENOMEM));
	mc_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "merging l1:a1: Cannot allocate memory");
	mc_error_set(&e, -ENOMEM, "out of memory");
	mc_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "out of memory — Cannot allocate memory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_cap_refuses_growth),
		cmocka_unit_test(buf_huge_request_does_not_overflow),
		cmocka_unit_test(arena_allocates_aligned_and_caps),
		cmocka_unit_test(record_builds_marc_and_dc),
		cmocka_unit_test(error_messages_name_the_place),
		cmocka_unit_test(error_reason_is_not_repeated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
