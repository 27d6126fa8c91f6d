/* test-check.c — `mucluc check` on a real LMDB store: a merged store is
 * clean; each deliberate damage is found with the right message; --repair
 * fixes what can be derived and reports the rest. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core.h"
#include "merger-internal.h"
#include "mg.h"
#include "store-internal.h"
#include "unit-tmp.h"

struct spec {
	const char *src, *id, *title;
	int year;
	const char *isbn, *name;
};

/* l1:a1, l2:b1, l3:c1 are one edition (same ISBN); l1:a2 and l2:b2 stand
 * alone; l3:c2 is deleted. */
static const struct spec SET[] = {
	{ "l1", "a1", "Dế mèn phiêu lưu ký", 2010, "9786042000000", "Tô Hoài" },
	{ "l2", "b1", "Dế Mèn phiêu lưu ký : truyện", 2010, "9786042000000", "Tô Hoài" },
	{ "l3", "c1", "De men phieu luu ky", 2010, "9786042000000", "To Hoai" },
	{ "l1", "a2", "Lịch sử Việt Nam", 1998, NULL, "Trần Trọng Kim" },
	{ "l2", "b2", "Truyện Kiều", 2005, NULL, "Nguyễn Du" },
	{ "l3", "c2", "Số đỏ", 1999, NULL, "Vũ Trọng Phụng" },
};

static struct mc_record *mk(const struct spec *s)
{
	struct mc_record *r;
	struct mc_arena *a;

	assert_int_equal(mc_record_new(&r), 0);
	a = r->arena;
	r->source = mc_arena_strdup(a, s->src);
	r->local_id = mc_arena_strdup(a, s->id);
	r->status = MC_REC_PRESENT;
	r->datestamp = 1700000000;
	r->format = MC_FMT_MARC21;
	r->f.title = mc_arena_strdup(a, s->title);
	r->f.year = s->year;
	r->f.material = "book";
	r->f.publisher = "Kim Đồng";
	if (s->isbn)
		assert_int_equal(mc_tvv_add(r, &r->f.ids, "isbn", s->isbn, strlen(s->isbn)), 0);
	r->f.names = mc_arena_zalloc(a, sizeof(*r->f.names));
	r->f.names_cap = 1;
	r->f.names[0].name = mc_arena_strdup(a, s->name);
	r->f.names[0].kind = MC_NAME_PERSONAL;
	r->f.nnames = 1;
	return r;
}

/* ---- running the checks, collecting their lines ---- */

struct lines {
	char text[16384];
	size_t len;
};

static void collect(void *ctx, int kind, const char *text)
{
	struct lines *l = ctx;
	int n = snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s%s\n",
			 kind == MC_CHECK_REPAIRED ? "repaired: " : kind == MC_CHECK_NOTE ? "note: " : "",
			 text);

	if (n > 0 && (size_t)n < sizeof(l->text) - l->len)
		l->len += (size_t)n;
}

struct run {
	struct lines out;
	struct mc_check c;
	struct mc_store_check_res sres;
	struct mg_check_res mres;
};

/* Both checks on one snapshot; the number of problems. */
static uint64_t check(struct mc_store *st, struct run *x)
{
	struct mc_reader *r;
	struct mc_error e;

	memset(x, 0, sizeof(*x));
	x->c.line = collect;
	x->c.ctx = &x->out;
	mc_error_clear(&e);
	assert_int_equal(mc_reader_begin(st, &r), 0);
	assert_int_equal(mc_store_check(r, &x->c, &x->sres, &e), 0);
	assert_int_equal(mg_check(r, &x->sres, &x->c, &x->mres, &e), 0);
	mc_reader_end(r);
	if (getenv("TEST_CHECK_VERBOSE"))
		printf("--- check:\n%s", x->out.text);
	return x->c.problems;
}

/* check, repair in one batch (as `mucluc check --repair`); the repairs made */
static uint64_t repair(struct mc_store *st, struct run *x)
{
	struct mc_writer *w;
	struct mc_error e;

	mc_error_clear(&e);
	x->c.repaired = 0;
	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	assert_int_equal(mc_store_repair(w, &x->sres, &x->c, &e), 0);
	assert_int_equal(mg_check_repair(w, &x->mres, &x->c, &e), 0);
	assert_int_equal(mc_writer_commit(w, &e), 0);
	mc_store_check_res_free(&x->sres);
	if (getenv("TEST_CHECK_VERBOSE"))
		printf("--- after repair:\n%s", x->out.text);
	return x->c.repaired;
}

static void has(const struct run *x, const char *needle)
{
	if (!strstr(x->out.text, needle)) {
		printf("expected a line with \"%s\" in:\n%s", needle, x->out.text);
		fail();
	}
}

/* ---- a store with the set merged ---- */

static int ncase;

static struct mc_store *mk_store(void)
{
	char dir[512];
	struct mc_store *st;
	struct mc_writer *w;
	struct mc_error e;
	struct run x;
	size_t i;

	snprintf(dir, sizeof(dir), "%s/s%d", tmpdir, ncase++);
	assert_int_equal(mc_store_open(dir, MC_STORE_CREATE, &st, &e), 0);
	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	for (i = 0; i < sizeof(SET) / sizeof(SET[0]); i++) {
		struct mc_record *r = mk(&SET[i]);

		assert_int_equal(mc_writer_put(w, r, NULL, &e), 0);
		mc_record_free(r);
	}
	assert_int_equal(mc_writer_commit(w, &e), 0);
	assert_int_equal(mg_store_merge(st, 0, 100, NULL, &e), 0);
	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	assert_int_equal(mc_writer_delete(w, "l3", "c2", 1700000100, NULL, &e), 0);
	assert_int_equal(mc_writer_commit(w, &e), 0);
	assert_int_equal(mg_store_merge(st, 0, 101, NULL, &e), 0);
	if (check(st, &x)) {
		printf("a fresh store is not clean:\n%s", x.out.text);
		fail();
	}
	mc_store_check_res_free(&x.sres);
	return st;
}

/* the member summary of ref, unpacked into a (borrowed from the batch) */
static void member(struct mc_writer *w, const char *ref, struct mc_arena *a, struct mg_mem *m)
{
	const void *v;
	size_t vl;

	assert_int_equal(mc_writer_kv_get(w, MG_DB_MEMBER, ref, strlen(ref), &v, &vl), 0);
	assert_int_equal(mg_mem_unpack(v, vl, a, m), 0);
}

static size_t key_of(const char *key, const char *ref, unsigned char *out)
{
	mc_put_be64(out, mg_key_hash(key));
	memcpy(out + 8, ref, strlen(ref));
	return 8 + strlen(ref);
}

/* ---- the tests ---- */

static void test_clean(void **state)
{
	struct mc_store *st = mk_store();
	struct mc_writer *w;
	struct mc_error e;
	struct run x;

	(void)state;
	assert_int_equal(check(st, &x), 0);
	assert_int_equal(x.sres.records, 6);
	assert_int_equal(x.sres.present, 5);
	assert_int_equal(x.mres.members, 5);
	assert_int_equal(x.mres.live, 3);
	assert_true(x.mres.keys > 0);
	assert_int_equal(x.mres.keys, x.mres.keys_expected);
	mc_store_check_res_free(&x.sres);
	/* a record not merged yet is not a problem */
	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	{
		static const struct spec n = { "l1", "new", "Tắt đèn", 1939, NULL, "Ngô Tất Tố" };
		struct mc_record *r = mk(&n);

		assert_int_equal(mc_writer_put(w, r, NULL, &e), 0);
		mc_record_free(r);
	}
	assert_int_equal(mc_writer_delete(w, "l2", "b2", 1700000200, NULL, &e), 0);
	assert_int_equal(mc_writer_commit(w, &e), 0);
	assert_int_equal(check(st, &x), 0);
	assert_int_equal(x.mres.pending, 2);
	mc_store_check_res_free(&x.sres);
	mc_store_close(st);
}

static void test_member_deleted(void **state)
{
	struct mc_store *st = mk_store();
	struct mc_writer *w;
	struct mc_error e;
	struct run x;

	(void)state;
	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	assert_int_equal(mc_writer_kv_del(w, MG_DB_MEMBER, "l2:b1", 5), 0);
	assert_int_equal(mc_writer_commit(w, &e), 0);
	assert_true(check(st, &x) >= 3);
	has(&x, ": member l2:b1 does not exist (no member summary)");
	has(&x, "record l2:b1: present but in no union");
	has(&x, "lists l2:b1, which is not a member");
	/* the stray keys go; the member cannot be derived: still reported */
	assert_true(repair(st, &x) > 0);
	has(&x, "repaired: mg_key: removed key");
	assert_true(check(st, &x) >= 2);
	has(&x, ": member l2:b1 does not exist (no member summary)");
	has(&x, "record l2:b1: present but in no union");
	assert_null(strstr(x.out.text, "which is not a member"));
	mc_store_check_res_free(&x.sres);
	mc_store_close(st);
}

static void test_key_removed(void **state)
{
	struct mc_store *st = mk_store();
	struct mc_writer *w;
	struct mc_arena *a;
	struct mc_error e;
	struct mg_mem m;
	unsigned char k[600];
	char want[512];
	struct run x;

	(void)state;
	assert_int_equal(mc_arena_new(1 << 20, &a), 0);
	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	member(w, "l1:a1", a, &m);
	assert_true(m.nkeys > 0);
	snprintf(want, sizeof(want), "member l1:a1: match key '%s' missing from mg_key", m.keys[0]);
	assert_int_equal(mc_writer_kv_del(w, MG_DB_KEY, k, key_of(m.keys[0], "l1:a1", k)), 0);
	assert_int_equal(mc_writer_commit(w, &e), 0);
	assert_int_equal(check(st, &x), 1);
	has(&x, want);
	assert_int_equal(repair(st, &x), 1);
	has(&x, "repaired: mg_key: added key");
	assert_int_equal(check(st, &x), 0);
	mc_store_check_res_free(&x.sres);
	mc_arena_free(a);
	mc_store_close(st);
}

static void test_key_added(void **state)
{
	struct mc_store *st = mk_store();
	struct mc_writer *w;
	struct mc_error e;
	unsigned char k[600];
	struct run x;

	(void)state;
	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	assert_int_equal(mc_writer_kv_put(w, MG_DB_KEY, k, key_of("tbogus|1900", "l1:a2", k), "", 0), 0);
	assert_int_equal(mc_writer_kv_put(w, MG_DB_KEY, k, key_of("tbogus|1900", "l9:nobody", k), "", 0),
			 0);
	assert_int_equal(mc_writer_commit(w, &e), 0);
	assert_int_equal(check(st, &x), 2);
	has(&x, "lists l1:a2, but none of its match keys has that hash");
	has(&x, "lists l9:nobody, which is not a member");
	assert_int_equal(repair(st, &x), 2);
	assert_int_equal(check(st, &x), 0);
	mc_store_check_res_free(&x.sres);
	mc_store_close(st);
}

static void test_count_changed(void **state)
{
	struct mc_store *st = mk_store();
	struct mc_writer *w;
	struct mc_error e;
	struct run x;

	(void)state;
	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	assert_int_equal(mc_writer_counts_set(w, "l1", 7, 1, NULL), 1);
	assert_int_equal(mc_writer_counts_set(w, "zz", 3, 0, NULL), 1);
	assert_int_equal(mc_writer_commit(w, &e), 0);
	assert_int_equal(check(st, &x), 2);
	has(&x, "source l1: counts say 7 present, 1 deleted; the records are 2 present, 0 deleted");
	has(&x, "source zz: counts say 3 present, 0 deleted; it has no records");
	assert_int_equal(repair(st, &x), 2);
	has(&x, "repaired: source l1: counts set to 2 present, 0 deleted (were 7, 1)");
	assert_int_equal(check(st, &x), 0);
	mc_store_check_res_free(&x.sres);
	mc_store_close(st);
}

static void test_member_record_gone(void **state)
{
	struct mc_store *st = mk_store();
	struct mc_writer *w;
	struct mc_arena *a;
	struct mc_error e;
	struct mg_mem m;
	struct mg_union u;
	struct mc_buf b;
	unsigned char uk[8];
	const void *v;
	size_t vl;
	const char **mv;
	char last[32];
	struct mc_reader *r;
	struct run x;

	(void)state;
	assert_int_equal(mc_arena_new(1 << 20, &a), 0);
	mc_buf_init(&b, 1 << 20);
	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	/* a member (listed by its union) whose record never was */
	member(w, "l1:a1", a, &m);
	m.ref = "l4:ghost";
	assert_int_equal(mg_mem_pack(&m, &b), 0);
	assert_int_equal(mc_writer_kv_put(w, MG_DB_MEMBER, "l4:ghost", 8, b.data, b.len), 0);
	mc_put_be64(uk, m.uid);
	assert_int_equal(mc_writer_kv_get(w, MG_DB_UNION, uk, 8, &v, &vl), 0);
	u.id = m.uid;
	assert_int_equal(mg_union_unpack(v, vl, a, &u), 0);
	mv = mc_arena_alloc(a, (u.nmembers + 1) * sizeof(*mv));
	memcpy(mv, u.members, u.nmembers * sizeof(*mv));
	mv[u.nmembers++] = "l4:ghost";   /* sorts last */
	u.members = mv;
	assert_int_equal(mg_union_pack(&u, &b), 0);
	assert_int_equal(mc_writer_kv_put(w, MG_DB_UNION, uk, 8, b.data, b.len), 0);
	/* and a member whose record was deleted behind the merger's back */
	assert_int_equal(mc_writer_delete(w, "l2", "b2", 1700000300, NULL, &e), 0);
	assert_int_equal(mc_writer_commit(w, &e), 0);
	assert_int_equal(mc_reader_begin(st, &r), 0);
	snprintf(last, sizeof(last), "%llu", (unsigned long long)mc_reader_feed_last(r));
	mc_reader_end(r);
	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	assert_int_equal(mc_writer_state_set(w, "merger", "cursor", last), 0);
	assert_int_equal(mc_writer_commit(w, &e), 0);

	assert_true(check(st, &x) >= 2);
	has(&x, "member l4:ghost (union ");
	has(&x, "): its record does not exist");
	has(&x, "member l2:b2 (union ");
	has(&x, "): its record is deleted");
	/* nothing derivable: reported again after a repair */
	repair(st, &x);
	assert_true(check(st, &x) >= 2);
	has(&x, "): its record does not exist");
	has(&x, "): its record is deleted");
	mc_store_check_res_free(&x.sres);
	mc_buf_free(&b);
	mc_arena_free(a);
	mc_store_close(st);
}

static void test_cursor_past_end(void **state)
{
	struct mc_store *st = mk_store();
	struct mc_writer *w;
	struct mc_error e;
	struct run x;
	char want[128];

	(void)state;
	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	assert_int_equal(mc_writer_state_set(w, "merger", "cursor", "1000"), 0);
	assert_int_equal(mc_writer_commit(w, &e), 0);
	assert_int_equal(check(st, &x), 1);
	snprintf(want, sizeof(want), "cursor merger/cursor: 1000 is past the feed's end (%llu)",
		 (unsigned long long)x.sres.feed_last);
	has(&x, want);
	assert_int_equal(repair(st, &x), 1);
	has(&x, "repaired: cursor merger/cursor: set to");
	assert_int_equal(check(st, &x), 0);
	mc_store_check_res_free(&x.sres);
	mc_store_close(st);
}

static void test_unions_damaged(void **state)
{
	struct mc_store *st = mk_store();
	struct mc_writer *w;
	struct mc_arena *a;
	struct mc_error e;
	struct mg_union u;
	struct mg_mem m;
	struct mc_buf b;
	unsigned char uk[8];
	struct run x;
	char want[128];

	(void)state;
	assert_int_equal(mc_arena_new(1 << 20, &a), 0);
	mc_buf_init(&b, 1 << 20);
	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	/* a tombstone pointing to a union that never was */
	memset(&u, 0, sizeof(u));
	u.status = MG_UNION_TOMB;
	u.survivor = 999;
	assert_int_equal(mg_union_pack(&u, &b), 0);
	mc_put_be64(uk, 50);
	assert_int_equal(mc_writer_kv_put(w, MG_DB_UNION, uk, 8, b.data, b.len), 0);
	/* a union emptied but left live: its member's summary points elsewhere */
	member(w, "l1:a2", a, &m);
	u.status = MG_UNION_LIVE;
	u.survivor = 0;
	assert_int_equal(mg_union_pack(&u, &b), 0);
	mc_put_be64(uk, m.uid);
	assert_int_equal(mc_writer_kv_put(w, MG_DB_UNION, uk, 8, b.data, b.len), 0);
	assert_int_equal(mc_writer_commit(w, &e), 0);
	check(st, &x);
	has(&x, "union 50: tombstone's survivor 999 (reached from 50) does not exist");
	snprintf(want, sizeof(want), "union %llu: live with no members", (unsigned long long)m.uid);
	has(&x, want);
	snprintf(want, sizeof(want), "member l1:a2: its union %llu does not list it",
		 (unsigned long long)m.uid);
	has(&x, want);
	/* union 50 is past the counter mg_union: that much is derivable */
	has(&x, "counter mg_union: ");
	repair(st, &x);
	has(&x, "repaired: counter mg_union: raised from ");
	check(st, &x);
	assert_null(strstr(x.out.text, "counter mg_union"));
	has(&x, "union 50: tombstone's survivor 999");
	mc_store_check_res_free(&x.sres);
	mc_buf_free(&b);
	mc_arena_free(a);
	mc_store_close(st);
}

/* a member listed by a second live union: in exactly one union, no more */
static void test_member_twice(void **state)
{
	struct mc_store *st = mk_store();
	struct mc_writer *w;
	struct mc_arena *a;
	struct mc_error e;
	struct mg_mem m1, m2;
	struct mg_union u;
	struct mc_buf b;
	unsigned char uk[8];
	const void *v;
	size_t vl;
	const char **mv;
	struct run x;
	char want[160];

	(void)state;
	assert_int_equal(mc_arena_new(1 << 20, &a), 0);
	mc_buf_init(&b, 1 << 20);
	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	member(w, "l1:a1", a, &m1);
	member(w, "l2:b2", a, &m2);
	assert_true(m1.uid != m2.uid);
	mc_put_be64(uk, m2.uid);
	assert_int_equal(mc_writer_kv_get(w, MG_DB_UNION, uk, 8, &v, &vl), 0);
	u.id = m2.uid;
	assert_int_equal(mg_union_unpack(v, vl, a, &u), 0);
	assert_int_equal(u.nmembers, 1);
	mv = mc_arena_alloc(a, 2 * sizeof(*mv));
	mv[0] = "l1:a1";
	mv[1] = u.members[0];
	u.members = mv;
	u.nmembers = 2;
	assert_int_equal(mg_union_pack(&u, &b), 0);
	assert_int_equal(mc_writer_kv_put(w, MG_DB_UNION, uk, 8, b.data, b.len), 0);
	assert_int_equal(mc_writer_commit(w, &e), 0);
	assert_int_equal(check(st, &x), 1);
	snprintf(want, sizeof(want), "union %llu: lists member l1:a1, whose summary says union %llu",
		 (unsigned long long)m2.uid, (unsigned long long)m1.uid);
	has(&x, want);
	mc_store_check_res_free(&x.sres);
	mc_buf_free(&b);
	mc_arena_free(a);
	mc_store_close(st);
}

static void test_overrides(void **state)
{
	struct mc_store *st = mk_store();
	struct mc_writer *w;
	struct mc_error e;
	struct run x;

	(void)state;
	assert_int_equal(mg_store_override(st, MG_JOIN, "l2:b2", "l1:a2", 102, &e), 0);
	assert_int_equal(mg_store_override(st, MG_NEVER, "l1:a1", "l3:c1", 103, &e), 0);
	assert_int_equal(mg_store_override(st, MG_SPLIT, "l2:b1", NULL, 104, &e), 0);
	assert_int_equal(check(st, &x), 0);
	mc_store_check_res_free(&x.sres);
	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	assert_int_equal(mc_writer_kv_del(w, MG_DB_OVERRIDE, "J\tl2:b2", 7), 0);
	assert_int_equal(mc_writer_kv_put(w, MG_DB_OVERRIDE, "x\tl1:a1", 7, "", 0), 0);
	assert_int_equal(mc_writer_kv_put(w, MG_DB_OVERRIDE, "n\tl3:c1\tl1:a1", 13, "", 0), 0);
	assert_int_equal(mc_writer_commit(w, &e), 0);
	assert_int_equal(check(st, &x), 3);
	has(&x, "mg_override: join rule l1:a2 l2:b2: J list of the second lacks the first");
	has(&x, "mg_override: unknown rule x l1:a1");
	has(&x, "mg_override: rule n l3:c1 l1:a1: refs not in byte order");
	mc_store_check_res_free(&x.sres);
	mc_store_close(st);
}

/* a counts repair is replayed like every batch operation when the map grows */
/* Records stored before the import checked indicators and subfield codes
 * (written here straight through the store API, which does not check). */
static void test_not_exportable(void **state)
{
	struct mc_store *st = mk_store();
	struct mc_writer *w;
	struct mc_record *r;
	struct mc_field *f;
	struct mc_error e;
	struct run x;
	int i;

	(void)state;
	mc_error_clear(&e);
	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	for (i = 0; i < 2; i++) {
		struct spec sp = { "l1", i ? "odd-code" : "odd-ind", "Nhật ký trong tù", 1960,
				   NULL, "Hồ Chí Minh" };

		r = mk(&sp);
		assert_non_null(mc_record_marc(r));
		assert_int_equal(mc_marc_add_data(r, "245", i ? '1' : (char)0xE9,
						  i ? '0' : (char)0xE8, &f), 0);
		assert_int_equal(mc_marc_add_sub(r, f, i ? (char)0xFF : 'a', "Nhật ký", 10), 0);
		assert_int_equal(mc_writer_put(w, r, NULL, &e), 0);
		mc_record_free(r);
	}
	assert_int_equal(mc_writer_commit(w, &e), 0);
	assert_int_equal(check(st, &x), 2);
	has(&x, "record l1:odd-ind: not exportable as MARCXML: 2 indicator or leader bytes "
		"outside MARC 21");
	has(&x, "record l1:odd-code: not exportable as MARCXML: field 245: subfield code 0xFF");
	mc_store_check_res_free(&x.sres);
	mc_store_close(st);
}

static int counts_of(void *ctx, const struct mc_source_counts *c)
{
	struct mc_source_counts *want = ctx;

	if (!strcmp(c->source, want->source))
		*want = *c;
	return 0;
}

static void test_counts_set_replayed(void **state)
{
	char dir[512];
	struct mc_store *st;
	struct mc_writer *w;
	struct mc_reader *r;
	struct mc_error e;
	struct mc_source_counts c;
	char val[4096];
	unsigned char k[8];
	unsigned i;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/grow", tmpdir);
	assert_int_equal(mci_store_open_mapsize(dir, MC_STORE_CREATE, 1u << 20, &st, &e), 0);
	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	assert_int_equal(mc_writer_counts_set(w, "l1", 42, 7, NULL), 1);
	assert_int_equal(mc_writer_counts_set(w, "l1", 42, 7, NULL), 0);   /* already so */
	memset(val, 'x', sizeof(val));
	for (i = 0; i < 2000; i++) {
		mc_put_be64(k, i);
		assert_int_equal(mc_writer_kv_put(w, "ck_fill", k, 8, val, sizeof(val)), 0);
	}
	assert_int_equal(mc_writer_commit(w, &e), 0);
	assert_true(mci_store_grow_count(st, 0) + mci_store_grow_count(st, 1) > 0);
	memset(&c, 0, sizeof(c));
	strcpy(c.source, "l1");
	assert_int_equal(mc_reader_begin(st, &r), 0);
	assert_int_equal(mc_reader_sources(r, counts_of, &c), 0);
	mc_reader_end(r);
	assert_int_equal(c.present, 42);
	assert_int_equal(c.deleted, 7);
	mc_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_member_deleted),
		cmocka_unit_test(test_key_removed),
		cmocka_unit_test(test_key_added),
		cmocka_unit_test(test_count_changed),
		cmocka_unit_test(test_member_record_gone),
		cmocka_unit_test(test_cursor_past_end),
		cmocka_unit_test(test_unions_damaged),
		cmocka_unit_test(test_member_twice),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_counts_set_replayed),
		cmocka_unit_test(test_not_exportable),
	};
	int rc;

	unit_tmpdir_make("check");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unit_tmpdir_remove();
	return rc;
}
