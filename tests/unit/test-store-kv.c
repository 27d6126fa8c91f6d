/* test-store-kv.c — named key/value databases, counters and the reads
 * inside a batch (records, feed, walks whose callback writes), on real
 * LMDB environments in temporary directories. */
#include "store-test.h"

/* ---- named key/value databases, counters, reads in a batch ---- */

/* put / get / del / each with prefixes and byte order, clear; readers see
 * committed pairs only; a database that does not exist yet reads as
 * empty. */
static void test_kv_basic(void **state)
{
	struct fixture *fx = *state;
	struct mc_writer *w;
	struct mc_reader *rd, *old;
	struct kv_seen ks;
	const void *v;
	size_t vn;
	static const unsigned char bin1[] = { 'a', 0, 'z' }, bin2[] = { 'a', 0xff };

	/* before anything exists */
	assert_int_equal(mc_reader_begin(fx->s, &old), 0);
	rkv_expect(old, "mg_union", "x", NULL);
	memset(&ks, 0, sizeof(ks));
	assert_int_equal(mc_reader_kv_each(old, "mg_union", NULL, 0, kv_collect, &ks), 0);
	assert_int_equal(ks.n, 0);

	w = wbegin(fx->s);
	wkv_expect(w, "mg_union", "x", NULL);
	assert_int_equal(mc_writer_kv_del(w, "mg_union", "x", 1), MC_E_NOTFOUND);
	assert_int_equal(mc_writer_kv_clear(w, "mg_union"), 0);
	kv_put_s(w, "mg_union", "b:2", "two");
	kv_put_s(w, "mg_union", "a:1", "one");
	kv_put_s(w, "mg_union", "b:10", "ten");
	kv_put_s(w, "mg_union", "b", "bee");
	kv_put_s(w, "mg_union", "c:1", "see");
	kv_put_s(w, "mg_keys", "b:1", "other db");
	assert_int_equal(mc_writer_kv_put(w, "mg_union", bin2, sizeof(bin2), "ff", 2), 0);
	assert_int_equal(mc_writer_kv_put(w, "mg_union", bin1, sizeof(bin1), "nul", 3), 0);
	assert_int_equal(mc_writer_kv_put(w, "mg_union", "empty", 5, NULL, 0), 0);
	wkv_expect(w, "mg_union", "b:2", "two");
	wkv_expect(w, "mg_union", "empty", "");
	wkv_expect(w, "mg_keys", "b:1", "other db");
	wkv_expect(w, "mg_keys", "b:2", NULL);
	/* overwrite */
	kv_put_s(w, "mg_union", "b:2", "TWO");
	wkv_expect(w, "mg_union", "b:2", "TWO");

	/* prefix "b:" in memcmp order: "b:10" < "b:2" */
	memset(&ks, 0, sizeof(ks));
	assert_int_equal(mc_writer_kv_each(w, "mg_union", "b:", 2, kv_collect, &ks), 0);
	assert_int_equal(ks.n, 2);
	assert_string_equal(ks.keys[0], "b:10");
	assert_string_equal(ks.keys[1], "b:2");
	assert_string_equal(ks.vals[1], "TWO");
	/* everything, in byte order: "a" 0 "z" < "a:1" < "a" 0xff < "b" < ... */
	memset(&ks, 0, sizeof(ks));
	assert_int_equal(mc_writer_kv_each(w, "mg_union", NULL, 0, kv_collect, &ks), 0);
	assert_int_equal(ks.n, 8);
	assert_string_equal(ks.keys[0], "a");      /* printed up to its NUL */
	assert_string_equal(ks.vals[0], "nul");
	assert_string_equal(ks.keys[1], "a:1");
	assert_string_equal(ks.vals[2], "ff");
	assert_string_equal(ks.keys[3], "b");
	assert_string_equal(ks.keys[4], "b:10");
	assert_string_equal(ks.keys[5], "b:2");
	assert_string_equal(ks.keys[6], "c:1");
	assert_string_equal(ks.keys[7], "empty");
	/* a prefix with no match, a prefix past every key, stopping early */
	memset(&ks, 0, sizeof(ks));
	assert_int_equal(mc_writer_kv_each(w, "mg_union", "bz", 2, kv_collect, &ks), 0);
	assert_int_equal(mc_writer_kv_each(w, "mg_union", "zzz", 3, kv_collect, &ks), 0);
	assert_int_equal(ks.n, 0);
	ks.stop_at = 3;
	assert_int_equal(mc_writer_kv_each(w, "mg_union", NULL, 0, kv_collect, &ks), 7);
	assert_int_equal(ks.n, 3);

	/* the old reader and a new one do not see the uncommitted pairs */
	rkv_expect(old, "mg_union", "a:1", NULL);
	assert_int_equal(mc_reader_begin(fx->s, &rd), 0);
	rkv_expect(rd, "mg_union", "a:1", NULL);
	memset(&ks, 0, sizeof(ks));
	assert_int_equal(mc_reader_kv_each(rd, "mg_union", NULL, 0, kv_collect, &ks), 0);
	assert_int_equal(ks.n, 0);
	mc_reader_end(rd);

	assert_int_equal(mc_writer_kv_del(w, "mg_union", "c:1", 3), 0);
	assert_int_equal(mc_writer_kv_del(w, "mg_union", "c:1", 3), MC_E_NOTFOUND);
	wkv_expect(w, "mg_union", "c:1", NULL);
	wcommit(w);

	/* the snapshot from before the batch still sees nothing */
	rkv_expect(old, "mg_union", "a:1", NULL);
	mc_reader_end(old);

	assert_int_equal(mc_reader_begin(fx->s, &rd), 0);
	rkv_expect(rd, "mg_union", "a:1", "one");
	rkv_expect(rd, "mg_union", "b:2", "TWO");
	rkv_expect(rd, "mg_union", "c:1", NULL);
	rkv_expect(rd, "mg_keys", "b:1", "other db");
	rkv_expect(rd, "mg_other", "b:1", NULL);
	assert_int_equal(mc_reader_kv_get(rd, "mg_union", bin1, sizeof(bin1), &v, &vn), 0);
	assert_int_equal(vn, 3);
	assert_memory_equal(v, "nul", 3);
	memset(&ks, 0, sizeof(ks));
	assert_int_equal(mc_reader_kv_each(rd, "mg_union", "b", 1, kv_collect, &ks), 0);
	assert_int_equal(ks.n, 3);
	assert_string_equal(ks.keys[0], "b");
	assert_string_equal(ks.keys[2], "b:2");
	mc_reader_end(rd);

	/* clear empties one database only; an aborted batch changes nothing */
	w = wbegin(fx->s);
	assert_int_equal(mc_writer_kv_clear(w, "mg_union"), 0);
	wkv_expect(w, "mg_union", "a:1", NULL);
	memset(&ks, 0, sizeof(ks));
	assert_int_equal(mc_writer_kv_each(w, "mg_union", NULL, 0, kv_collect, &ks), 0);
	assert_int_equal(ks.n, 0);
	kv_put_s(w, "mg_union", "after", "clear");
	mc_writer_abort(w);
	assert_int_equal(mc_reader_begin(fx->s, &rd), 0);
	rkv_expect(rd, "mg_union", "a:1", "one");
	rkv_expect(rd, "mg_union", "after", NULL);
	mc_reader_end(rd);

	w = wbegin(fx->s);
	assert_int_equal(mc_writer_kv_clear(w, "mg_union"), 0);
	kv_put_s(w, "mg_union", "after", "clear");
	wcommit(w);
	assert_int_equal(mc_reader_begin(fx->s, &rd), 0);
	memset(&ks, 0, sizeof(ks));
	assert_int_equal(mc_reader_kv_each(rd, "mg_union", NULL, 0, kv_collect, &ks), 0);
	assert_int_equal(ks.n, 1);
	assert_string_equal(ks.keys[0], "after");
	rkv_expect(rd, "mg_keys", "b:1", "other db");
	mc_reader_end(rd);

	/* the pairs survive reopening the store */
	mc_store_close(fx->s);
	fx->s = NULL;
	assert_int_equal(mc_store_open(fx->dir, MC_STORE_RDONLY, &fx->s, NULL), 0);
	assert_int_equal(mc_reader_begin(fx->s, &rd), 0);
	rkv_expect(rd, "mg_union", "after", "clear");
	rkv_expect(rd, "mg_keys", "b:1", "other db");
	mc_reader_end(rd);
}

/* Counters start at 1, are independent, are given again after an abort,
 * and persist. */
static void test_seq(void **state)
{
	struct fixture *fx = *state;
	struct mc_writer *w;
	uint64_t v = 0;
	char longname[300];

	w = wbegin(fx->s);
	for (uint64_t i = 1; i <= 5; i++) {
		assert_int_equal(mc_writer_seq_next(w, "union-id", &v), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(mc_writer_seq_next(w, "mg_feed", &v), 0);
	assert_int_equal(v, 1);
	wcommit(w);

	w = wbegin(fx->s);
	assert_int_equal(mc_writer_seq_next(w, "union-id", &v), 0);
	assert_int_equal(v, 6);
	mc_writer_abort(w);
	w = wbegin(fx->s);
	assert_int_equal(mc_writer_seq_next(w, "union-id", &v), 0);
	assert_int_equal(v, 6);
	assert_int_equal(mc_writer_seq_next(w, "", &v), MC_E_USAGE);
	assert_int_equal(mc_writer_seq_next(w, NULL, &v), MC_E_USAGE);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(mc_writer_seq_next(w, longname, &v), MC_E_USAGE);
	longname[255] = '\0';
	assert_int_equal(mc_writer_seq_next(w, longname, &v), 0);
	assert_int_equal(v, 1);
	wcommit(w);

	mc_store_close(fx->s);
	assert_int_equal(mc_store_open(fx->dir, 0, &fx->s, NULL), 0);
	w = wbegin(fx->s);
	assert_int_equal(mc_writer_seq_next(w, "union-id", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(mc_writer_seq_next(w, "mg_feed", &v), 0);
	assert_int_equal(v, 2);
	wcommit(w);
}

/* Bad names, keys and values are refused without spoiling the batch; at
 * most MC_STORE_MAX_KV databases. */
static void test_kv_refusals(void **state)
{
	struct fixture *fx = *state;
	struct mc_writer *w;
	struct mc_reader *rd;
	struct kv_seen ks;
	const void *v;
	size_t vn;
	char name[80], big[600];
	static const char *const bad[] = {
		"", "mc_union", "mc_", "meta", "records", "feed", "sources", "state",
		"has space", "slash/x", "tiếng-việt",
		"a234567890123456789012345678901234567890123456789012345678901234",   /* 64 */
	};

	w = wbegin(fx->s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(mc_writer_kv_put(w, bad[i], "k", 1, "v", 1), MC_E_USAGE);
		assert_int_equal(mc_writer_kv_get(w, bad[i], "k", 1, &v, &vn), MC_E_USAGE);
		assert_int_equal(mc_writer_kv_del(w, bad[i], "k", 1), MC_E_USAGE);
		assert_int_equal(mc_writer_kv_clear(w, bad[i]), MC_E_USAGE);
		assert_int_equal(mc_writer_kv_each(w, bad[i], NULL, 0, kv_collect, &ks), MC_E_USAGE);
	}
	assert_int_equal(mc_writer_kv_put(w, NULL, "k", 1, "v", 1), MC_E_USAGE);
	/* 63 characters is fine */
	kv_put_s(w, "a23456789012345678901234567890123456789012345678901234567890123", "k", "v");
	/* keys: empty, NULL, 512 bytes; values: NULL with a length, > 16 MiB */
	memset(big, 'k', sizeof(big));
	assert_int_equal(mc_writer_kv_put(w, "mg_x", "", 0, "v", 1), MC_E_USAGE);
	assert_int_equal(mc_writer_kv_put(w, "mg_x", NULL, 3, "v", 1), MC_E_USAGE);
	assert_int_equal(mc_writer_kv_put(w, "mg_x", big, 512, "v", 1), MC_E_TOOBIG);
	assert_int_equal(mc_writer_kv_put(w, "mg_x", big, 511, "v", 1), 0);
	assert_int_equal(mc_writer_kv_put(w, "mg_x", "k", 1, NULL, 5), MC_E_USAGE);
	assert_int_equal(mc_writer_kv_put(w, "mg_x", "k", 1, big, (16u << 20) + 1), MC_E_TOOBIG);
	assert_int_equal(mc_writer_kv_get(w, "mg_x", big, 512, &v, &vn), MC_E_NOTFOUND);
	assert_int_equal(mc_writer_kv_get(w, "mg_x", big, 511, &v, &vn), 0);
	/* up to MC_STORE_MAX_KV databases: two exist, 14 more */
	for (int i = 0; i < MC_STORE_MAX_KV - 2; i++) {
		snprintf(name, sizeof(name), "db%02d", i);
		kv_put_s(w, name, "k", name);
	}
	assert_int_equal(mc_writer_kv_put(w, "one-too-many", "k", 1, "v", 1), MC_E_USAGE);
	/* still usable: everything written is there and commits */
	wkv_expect(w, "db00", "k", "db00");
	wkv_expect(w, "mg_x", "k", NULL);
	wcommit(w);
	assert_int_equal(mc_reader_begin(fx->s, &rd), 0);
	for (int i = 0; i < MC_STORE_MAX_KV - 2; i++) {
		snprintf(name, sizeof(name), "db%02d", i);
		rkv_expect(rd, name, "k", name);
	}
	rkv_expect(rd, "one-too-many", "k", NULL);
	assert_int_equal(mc_reader_kv_get(rd, "meta", "version", 7, &v, &vn), MC_E_USAGE);
	assert_int_equal(mc_reader_kv_get(rd, "mc_x", "k", 1, &v, &vn), MC_E_USAGE);
	mc_reader_end(rd);
	/* after reopening the limit still holds */
	mc_store_close(fx->s);
	assert_int_equal(mc_store_open(fx->dir, 0, &fx->s, NULL), 0);
	w = wbegin(fx->s);
	assert_int_equal(mc_writer_kv_put(w, "one-too-many", "k", 1, "v", 1), MC_E_USAGE);
	kv_put_s(w, "db03", "k2", "still writable");
	wcommit(w);
}

struct feed_ctx {
	struct mc_writer *w;
	int n, writes;
	uint64_t last;
};

static int feed_write_cb(void *ctx, uint64_t seq, int op, const char *source, const char *id)
{
	struct feed_ctx *f = ctx;
	char k[128];

	(void)op;
	if (seq != f->last + 1)
		return 99;
	f->last = seq;
	f->n++;
	if (f->writes) {
		snprintf(k, sizeof(k), "%s/%s", source, id);
		if (mc_writer_kv_put(f->w, "mg_seen", k, strlen(k), k, strlen(k)))
			return 98;
	}
	return 0;
}

struct walk_ctx {
	struct mc_writer *w;
	int n;
	char prev[64];
	struct mc_buf pad;
};

static int each_write_cb(void *ctx, struct mc_record *rec)
{
	struct walk_ctx *e = ctx;
	char k[64];

	snprintf(k, sizeof(k), "%s", rec->local_id);
	if (e->n && strcmp(e->prev, k) >= 0)
		return 97;   /* order broken or a record seen twice */
	snprintf(e->prev, sizeof(e->prev), "%s", k);
	e->n++;
	/* ~2 KB per record: a 256 KiB map fills several times during the walk */
	if (mc_writer_kv_put(e->w, "mg_walk", k, strlen(k), e->pad.data, e->pad.len))
		return 96;
	return 0;
}

/* Reads in a batch see its own writes, a reader does not; walks whose
 * callback writes continue correctly when those writes grow the map. */
static void test_writer_reads(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_record *r = rec_new(), *got = rec_new();
	struct mc_writer *w;
	struct mc_reader *rd;
	struct mc_error err;
	struct feed_ctx fc;
	struct walk_ctx ec;
	struct kv_seen ks;
	char id[32], buf[64];

	(void)state;
	assert_int_equal(mci_store_open_mapsize(d, MC_STORE_CREATE, 256 << 10, &s, &err), 0);
	w = wbegin(s);
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "r%03d", i);
		fill_marc(r, "hanoi", id, i, 0);
		assert_int_equal(put(w, r), MC_PUT_NEW);
	}
	assert_int_equal(mc_writer_get(w, "hanoi", "r007", got, &err), 0);
	assert_string_equal(got->local_id, "r007");
	assert_int_equal(got->datestamp, 1700000000 + 7);
	assert_int_equal(mc_writer_get(w, "hanoi", "nope", got, &err), MC_E_NOTFOUND);
	assert_int_equal(mc_writer_state_set(w, "merger", "feed", "20"), 0);
	assert_int_equal(mc_writer_state_get(w, "merger", "feed", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "20");
	assert_int_equal(mc_writer_state_get(w, "merger", "feed", buf, 2), MC_E_TOOBIG);
	assert_int_equal(mc_writer_state_get(w, "merger", "none", buf, sizeof(buf)), MC_E_NOTFOUND);
	memset(&fc, 0, sizeof(fc));
	assert_int_equal(mc_writer_feed(w, 0, 0, feed_write_cb, &fc), 0);
	assert_int_equal(fc.n, 20);
	memset(&fc, 0, sizeof(fc));
	fc.last = 15;
	assert_int_equal(mc_writer_feed(w, 15, 3, feed_write_cb, &fc), 0);
	assert_int_equal(fc.n, 3);
	/* a reader sees none of it */
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	assert_int_equal(mc_reader_get(rd, "hanoi", "r007", got, &err), MC_E_NOTFOUND);
	assert_int_equal(mc_reader_state_get(rd, "merger", "feed", buf, sizeof(buf)), MC_E_NOTFOUND);
	assert_int_equal(mc_reader_feed_last(rd), 0);
	mc_reader_end(rd);
	/* a delete seen inside the batch */
	assert_int_equal(del(w, "hanoi", "r003", 1), MC_PUT_DELETED);
	assert_int_equal(mc_writer_get(w, "hanoi", "r003", got, &err), 0);
	assert_int_equal(got->status, MC_REC_DELETED);
	wcommit(w);

	/* the feed callback writes kv pairs (the merger's pattern) */
	w = wbegin(s);
	memset(&fc, 0, sizeof(fc));
	fc.w = w;
	fc.writes = 1;
	assert_int_equal(mc_writer_feed(w, 0, 0, feed_write_cb, &fc), 0);
	assert_int_equal(fc.n, 21);
	memset(&ks, 0, sizeof(ks));
	assert_int_equal(mc_writer_kv_each(w, "mg_seen", "hanoi/", 6, kv_collect, &ks), 0);
	assert_int_equal(ks.n, 20);
	wcommit(w);

	/* a walk whose callback grows the map several times */
	w = wbegin(s);
	for (int i = 20; i < 300; i++) {
		snprintf(id, sizeof(id), "r%03d", i);
		fill_marc(r, "hanoi", id, i, 0);
		assert_int_equal(put(w, r), MC_PUT_NEW);
	}
	wcommit(w);
	{
		unsigned g0 = mci_store_grow_count(s, 0);

		memset(&ec, 0, sizeof(ec));
		mc_buf_init(&ec.pad, 1 << 20);
		for (int i = 0; i < 2000; i++)
			assert_int_equal(mc_buf_addc(&ec.pad, (char)('a' + i % 26)), 0);
		w = wbegin(s);
		ec.w = w;
		assert_int_equal(mc_writer_each(w, "hanoi", each_write_cb, &ec, &err), 0);
		assert_int_equal(ec.n, 300);
		printf("# walk with writes: map grew %u times during it\n",
		       mci_store_grow_count(s, 0) - g0);
		assert_true(mci_store_grow_count(s, 0) > g0);
		wcommit(w);
		mc_buf_free(&ec.pad);
	}
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	memset(&ks, 0, sizeof(ks));
	assert_int_equal(mc_reader_kv_each(rd, "mg_walk", NULL, 0, kv_collect, &ks), 0);
	assert_int_equal(ks.n, 300);
	assert_string_equal(ks.keys[0], "r000");
	mc_reader_end(rd);

	mc_store_close(s);
	mc_record_free(r);
	mc_record_free(got);
	free(d);
	tmpdir_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kv_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kv_refusals, setup, teardown),
		cmocka_unit_test(test_writer_reads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
