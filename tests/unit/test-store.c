/* test-store.c — the value encoding (pack.c) and the store's basic
 * operations (open, puts and their outcomes, deletes, walks, state, stored
 * values that do not decode), on real LMDB environments in temporary
 * directories. Map growth, processes and threads: test-store-grow.c; kv
 * databases: test-store-kv.c; several writing processes:
 * test-store-mp.c. (The writer's figures: bench/store-write.c.) */
#include "store-test.h"

/* ---- pack ---- */

static void test_pack_roundtrip_marc(void **state)
{
	struct mc_record *a = rec_new(), *b = rec_new();
	struct mc_buf buf, buf2;
	struct mc_field *f;
	static const char bin[] = { 'x', '\0', 'y' };

	(void)state;
	mc_buf_init(&buf, MC_STORE_VALUE_MAX);
	mc_buf_init(&buf2, MC_STORE_VALUE_MAX);
	fill_marc(a, "hanoi", "rec-1", 7, 0);
	/* edge cases: NUL inside a value, an empty value, blank and odd
	 * indicators, negative numbers, a negative datestamp */
	assert_int_equal(mc_marc_add_data(a, "999", '\\', '9', &f), 0);
	assert_int_equal(mc_marc_add_sub(a, f, 'a', bin, sizeof(bin)), 0);
	assert_int_equal(mc_marc_add_sub(a, f, 'b', "", 0), 0);
	assert_int_equal(mc_marc_add_control(a, "005", "", 0), 0);
	a->f.year = -44;
	a->f.names[1].kind = -7;
	a->datestamp = -86400;

	assert_int_equal(mc_record_pack(a, &buf), 0);
	assert_int_equal((unsigned char)buf.data[0], MC_PACK_VERSION);
	assert_int_equal(mc_record_unpack(buf.data, buf.len, b), 0);
	assert_record_eq(a, b);
	assert_null(b->source);   /* the key holds source and local id */
	assert_null(b->local_id);
	/* the decoded record packs to the same bytes */
	assert_int_equal(mc_record_pack(b, &buf2), 0);
	assert_int_equal(buf.len, buf2.len);
	assert_memory_equal(buf.data, buf2.data, buf.len);
	/* nothing in b points into the packed bytes */
	memset(buf.data, 0xee, buf.len);
	assert_string_equal(b->f.publisher, "Nxb. Khoa học xã hội");
	assert_memory_equal(b->marc->fields[b->marc->nfields - 2].sub[0].value, bin, sizeof(bin));

	/* a deleted record keeps its own encoding; the tombstone is minimal */
	assert_int_equal(mc_record_pack_deleted(1234567, &buf), 0);
	assert_int_equal(buf.len, MC_PACK_FIXED + 1);
	assert_int_equal(mc_record_unpack(buf.data, buf.len, b), 0);
	assert_int_equal(b->status, MC_REC_DELETED);
	assert_int_equal(b->datestamp, 1234567);
	assert_null(b->marc);
	assert_null(b->f.title);

	/* datestamp is outside the compared part: same content, other date */
	fill_marc(a, "hanoi", "rec-1", 7, 0);
	assert_int_equal(mc_record_pack(a, &buf), 0);
	a->datestamp += 1000;
	assert_int_equal(mc_record_pack(a, &buf2), 0);
	assert_int_equal(buf.len, buf2.len);
	assert_memory_not_equal(buf.data + MC_PACK_OFF_DATE, buf2.data + MC_PACK_OFF_DATE, 8);
	assert_memory_equal(buf.data + MC_PACK_OFF_STATUS, buf2.data + MC_PACK_OFF_STATUS,
			    buf.len - MC_PACK_OFF_STATUS);
	printf("# packed size of the realistic record: %zu bytes\n", buf.len);
	assert_in_range(buf.len, 1200, 2000);

	mc_buf_free(&buf);
	mc_buf_free(&buf2);
	mc_record_free(a);
	mc_record_free(b);
}

static void test_pack_roundtrip_dc(void **state)
{
	struct mc_record *a = rec_new(), *b = rec_new();
	struct mc_buf buf;

	(void)state;
	mc_buf_init(&buf, MC_STORE_VALUE_MAX);
	a->datestamp = 1600000000;
	a->encoding = "utf-8";
	assert_int_equal(mc_dc_add(a, "title", "Truyện Kiều", strlen("Truyện Kiều"), "vi"), 0);
	assert_int_equal(mc_dc_add(a, "creator", "Nguyễn Du", strlen("Nguyễn Du"), NULL), 0);
	assert_int_equal(mc_dc_add(a, "date", "1820", 4, NULL), 0);
	assert_int_equal(a->format, MC_FMT_OAI_DC);
	a->f.title = "Truyện Kiều";
	assert_int_equal(mc_record_pack(a, &buf), 0);
	assert_int_equal(buf.data[MC_PACK_OFF_SECT], MC_PACK_SECT_DC | MC_PACK_SECT_FIELDS);
	assert_int_equal(mc_record_unpack(buf.data, buf.len, b), 0);
	assert_record_eq(a, b);
	assert_null(b->marc);
	assert_string_equal(b->dc->elems[0].lang, "vi");
	assert_null(b->dc->elems[1].lang);

	/* a record with nothing extracted has no fields section */
	a->f.title = NULL;
	assert_int_equal(mc_record_pack(a, &buf), 0);
	assert_int_equal(buf.data[MC_PACK_OFF_SECT], MC_PACK_SECT_DC);
	assert_int_equal(mc_record_unpack(buf.data, buf.len, b), 0);
	assert_record_eq(a, b);

	mc_buf_free(&buf);
	mc_record_free(a);
	mc_record_free(b);
}

static void test_pack_errors(void **state)
{
	struct mc_record *a = rec_new(), *b = rec_new();
	struct mc_buf buf, small;
	char *copy;

	(void)state;
	mc_buf_init(&buf, MC_STORE_VALUE_MAX);
	mc_buf_init(&small, 100);
	fill_marc(a, "s", "1", 1, 0);
	assert_int_equal(mc_record_pack(a, &small), MC_E_TOOBIG);
	a->status = 5;
	assert_int_equal(mc_record_pack(a, &buf), MC_E_USAGE);
	a->status = MC_REC_PRESENT;
	assert_int_equal(mc_record_pack(a, &buf), 0);

	copy = malloc(buf.len + 1);
	assert_non_null(copy);
	memcpy(copy, buf.data, buf.len);
	/* a newer format is refused as such, not as corrupt */
	copy[0] = MC_PACK_VERSION + 1;
	assert_int_equal(mc_record_unpack(copy, buf.len, b), MC_E_VERSION);
	copy[0] = 0;
	assert_int_equal(mc_record_unpack(copy, buf.len, b), MC_E_CORRUPT);
	copy[0] = MC_PACK_VERSION;
	assert_int_equal(mc_record_unpack(copy, 0, b), MC_E_CORRUPT);
	assert_int_equal(mc_record_unpack(NULL, 0, b), MC_E_CORRUPT);
	/* one trailing byte */
	copy[buf.len] = 0;
	assert_int_equal(mc_record_unpack(copy, buf.len + 1, b), MC_E_CORRUPT);
	/* unknown section bit, bad status */
	copy[MC_PACK_OFF_SECT] |= 0x80;
	assert_int_equal(mc_record_unpack(copy, buf.len, b), MC_E_CORRUPT);
	copy[MC_PACK_OFF_SECT] &= 0x7f;
	copy[MC_PACK_OFF_STATUS] = 2;
	assert_int_equal(mc_record_unpack(copy, buf.len, b), MC_E_CORRUPT);
	/* on failure the record is left empty */
	assert_null(b->marc);
	assert_null(b->f.title);
	assert_int_equal(b->f.nnames, 0);
	free(copy);

	mc_buf_free(&buf);
	mc_buf_free(&small);
	mc_record_free(a);
	mc_record_free(b);
}

/* Walk every string of a decoded record (valgrind/ASan catch a bad one). */
static size_t touch_record(const struct mc_record *r)
{
	size_t n = 0;

	if (r->encoding)
		n += strlen(r->encoding);
	if (r->marc)
		for (size_t i = 0; i < r->marc->nfields; i++) {
			const struct mc_field *f = &r->marc->fields[i];

			n += strlen(f->tag);
			if (f->value) {
				assert_int_equal(f->value[f->len], '\0');
				n += f->len;
			}
			for (size_t j = 0; j < f->nsub; j++) {
				assert_int_equal(f->sub[j].value[f->sub[j].len], '\0');
				n += f->sub[j].len;
			}
		}
	if (r->dc)
		for (size_t i = 0; i < r->dc->n; i++)
			n += strlen(r->dc->elems[i].name) + r->dc->elems[i].len +
			     (r->dc->elems[i].lang ? strlen(r->dc->elems[i].lang) : 0);
	for (size_t i = 0; i < r->f.subjects.n; i++)
		n += r->f.subjects.v[i] ? strlen(r->f.subjects.v[i]) : 0;
	for (size_t i = 0; i < r->f.nholdings; i++)
		n += r->f.holdings[i].barcode ? strlen(r->f.holdings[i].barcode) : 0;
	return n;
}

/* Truncate a packed value at every length and flip every bit: unpack must
 * return an error, or a record that is consistent (re-packs and decodes to
 * the same bytes again). Each input is a fresh malloc of exactly its size
 * so that valgrind / ASan see any read past the end. */
static void test_pack_fuzz(void **state)
{
	struct mc_record *a = rec_new(), *b = rec_new(), *c = rec_new();
	struct mc_buf buf, re1, re2;
	size_t ok = 0, bad = 0;

	(void)state;
	mc_buf_init(&buf, MC_STORE_VALUE_MAX);
	mc_buf_init(&re1, MC_STORE_VALUE_MAX);
	mc_buf_init(&re2, MC_STORE_VALUE_MAX);
	for (int kind = 0; kind < 2; kind++) {
		if (kind == 0) {
			fill_marc(a, "s", "fz", 42, 1);
		} else {
			mc_record_reset(a);
			a->encoding = "vni";
			assert_int_equal(mc_dc_add(a, "title", "Nhật ký trong tù", 19, "vi"), 0);
			assert_int_equal(mc_dc_add(a, "subject", "Thơ", 4, NULL), 0);
			a->f.year = 1960;
		}
		assert_int_equal(mc_record_pack(a, &buf), 0);

		for (size_t len = 0; len < buf.len; len++) {
			char *p = malloc(len ? len : 1);

			assert_non_null(p);
			memcpy(p, buf.data, len);
			assert_int_not_equal(mc_record_unpack(p, len, b), 0);
			assert_null(b->marc);
			free(p);
			bad++;
		}
		for (size_t pos = 0; pos < buf.len; pos++) {
			for (int bit = 0; bit < 8; bit++) {
				char *p = malloc(buf.len);
				int rc;

				assert_non_null(p);
				memcpy(p, buf.data, buf.len);
				p[pos] ^= (char)(1 << bit);
				rc = mc_record_unpack(p, buf.len, b);
				if (rc) {
					assert_true(rc == MC_E_CORRUPT || rc == MC_E_VERSION);
					bad++;
				} else {
					touch_record(b);
					assert_int_equal(mc_record_pack(b, &re1), 0);
					assert_int_equal(mc_record_unpack(re1.data, re1.len, c), 0);
					assert_int_equal(mc_record_pack(c, &re2), 0);
					assert_int_equal(re1.len, re2.len);
					assert_memory_equal(re1.data, re2.data, re1.len);
					assert_record_eq(b, c);
					ok++;
				}
				free(p);
			}
		}
	}
	printf("# fuzz: %zu mutations decoded consistently, %zu refused\n", ok, bad);
	assert_true(ok > 0 && bad > 0);
	mc_buf_free(&buf);
	mc_buf_free(&re1);
	mc_buf_free(&re2);
	mc_record_free(a);
	mc_record_free(b);
	mc_record_free(c);
}


static void test_open(void **state)
{
	char *t = tmpdir_new(), *dir = store_path(t);
	struct mc_store *s = NULL;
	struct mc_error err;
	struct mc_reader *r;
	struct mc_writer *w = NULL;
	struct mc_store_info info;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 7, (void *)"version" }, v;
	unsigned char ver[4] = { 2, 0, 0, 0 };

	(void)state;
	assert_int_equal(mc_store_open(dir, 0, &s, &err), MC_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "no store"));
	assert_int_equal(mc_store_open(dir, MC_STORE_RDONLY, &s, &err), MC_E_NOTFOUND);
	assert_int_equal(mc_store_open(dir, MC_STORE_RDONLY | MC_STORE_CREATE, &s, &err), MC_E_USAGE);
	assert_null(s);
	/* an empty directory is not a store either */
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mc_store_open(dir, 0, &s, &err), MC_E_NOTFOUND);
	assert_int_equal(rmdir(dir), 0);

	assert_int_equal(mc_store_open(dir, MC_STORE_CREATE, &s, &err), 0);
	assert_non_null(s);
	assert_int_equal(mc_reader_begin(s, &r), 0);
	assert_int_equal(mc_reader_info(r, &info), 0);
	assert_int_equal(info.map_size, MC_STORE_MAP_INITIAL);
	assert_int_equal(info.records, 0);
	assert_int_equal(mc_reader_feed_last(r), 0);
	mc_reader_end(r);
	mc_store_close(s);
	s = NULL;

	/* reopen, with and without CREATE, and read-only */
	assert_int_equal(mc_store_open(dir, MC_STORE_CREATE, &s, &err), 0);
	mc_store_close(s);
	assert_int_equal(mc_store_open(dir, MC_STORE_RDONLY, &s, &err), 0);
	assert_int_equal(mc_writer_begin(s, &w, &err), MC_E_USAGE);
	assert_null(w);
	mc_store_close(s);
	assert_int_equal(mc_store_open(dir, 0, &s, &err), 0);
	w = wbegin(s);
	{
		struct mc_writer *w2 = NULL;

		assert_int_equal(mc_writer_begin(s, &w2, &err), MC_E_USAGE);
		assert_null(w2);
	}
	mc_writer_abort(w);
	mc_store_close(s);
	s = NULL;

	/* a store written by a newer schema is refused */
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	v.mv_size = 4;
	v.mv_data = ver;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	mc_error_clear(&err);
	assert_int_equal(mc_store_open(dir, 0, &s, &err), MC_E_VERSION);
	assert_int_equal(err.code, MC_E_VERSION);
	assert_non_null(strstr(err.msg, "schema version 2"));
	assert_int_equal(mc_store_open(dir, MC_STORE_RDONLY, &s, &err), MC_E_VERSION);
	assert_null(s);

	free(dir);
	tmpdir_free(t);
}

static void test_put_outcomes(void **state)
{
	struct fixture *fx = *state;
	struct mc_record *r = fx->r, *got = rec_new();
	struct mc_writer *w;
	struct mc_reader *rd;
	struct counts_seen cs;
	struct feed_seen fs = { 0 };
	struct mc_error err;
	int64_t t0 = time(NULL);

	w = wbegin(fx->s);
	fill_marc(r, "hanoi", "b1", 1, 0);
	assert_int_equal(put(w, r), MC_PUT_NEW);
	fill_marc(r, "hanoi", "b2", 2, 0);
	assert_int_equal(put(w, r), MC_PUT_NEW);
	/* the same content again in the same batch: unchanged */
	assert_int_equal(put(w, r), MC_PUT_UNCHANGED);
	fill_marc(r, "hue", "x1", 3, 0);
	assert_int_equal(put(w, r), MC_PUT_NEW);
	wcommit(w);

	w = wbegin(fx->s);
	/* only the datestamp differs: unchanged, and the stored datestamp stays */
	fill_marc(r, "hanoi", "b1", 1, 0);
	r->datestamp += 5000;
	assert_int_equal(put(w, r), MC_PUT_UNCHANGED);
	/* different title: changed */
	fill_marc(r, "hanoi", "b2", 2, 1);
	assert_int_equal(put(w, r), MC_PUT_CHANGED);
	/* the encoding alone counts as a change of content */
	fill_marc(r, "hue", "x1", 3, 0);
	r->encoding = "utf-8 (nfd)";
	assert_int_equal(put(w, r), MC_PUT_CHANGED);
	wcommit(w);

	assert_int_equal(mc_reader_begin(fx->s, &rd), 0);
	assert_int_equal(mc_reader_get(rd, "hanoi", "b1", got, &err), 0);
	assert_int_equal(got->datestamp, 1700000001);
	assert_string_equal(got->source, "hanoi");
	assert_string_equal(got->local_id, "b1");
	fill_marc(r, "hanoi", "b1", 1, 0);
	assert_record_eq(r, got);
	assert_int_equal(mc_reader_get(rd, "hanoi", "b2", got, &err), 0);
	assert_non_null(strstr(got->f.title, "(sửa)"));
	mc_error_clear(&err);
	assert_int_equal(mc_reader_get(rd, "hanoi", "nope", got, &err), MC_E_NOTFOUND);
	assert_string_equal(err.record_id, "nope");
	assert_string_equal(err.source, "hanoi");
	assert_int_equal(mc_reader_get(rd, "han", "b1", got, &err), MC_E_NOTFOUND);
	assert_int_equal(mc_reader_feed_last(rd), 5);
	mc_reader_end(rd);

	get_feed(fx->s, 0, 0, &fs);
	assert_int_equal(fs.n, 5);
	{
		static const struct { int op; const char *key; } want[] = {
			{ MC_PUT_NEW, "hanoi/b1" }, { MC_PUT_NEW, "hanoi/b2" }, { MC_PUT_NEW, "hue/x1" },
			{ MC_PUT_CHANGED, "hanoi/b2" }, { MC_PUT_CHANGED, "hue/x1" },
		};
		for (size_t i = 0; i < 5; i++) {
			assert_int_equal(fs.e[i].seq, i + 1);
			assert_int_equal(fs.e[i].op, want[i].op);
			assert_string_equal(fs.e[i].key, want[i].key);
		}
	}
	get_feed(fx->s, 3, 1, &fs);
	assert_int_equal(fs.n, 1);
	assert_int_equal(fs.e[0].seq, 4);
	get_feed(fx->s, 5, 0, &fs);
	assert_int_equal(fs.n, 0);
	get_feed(fx->s, UINT64_MAX, 0, &fs);
	assert_int_equal(fs.n, 0);

	get_counts(fx->s, &cs);
	assert_int_equal(cs.n, 2);
	assert_string_equal(cs.c[0].source, "hanoi");
	assert_int_equal(cs.c[0].present, 2);
	assert_int_equal(cs.c[0].deleted, 0);
	assert_true(cs.c[0].last_change >= t0 && cs.c[0].last_change <= time(NULL));
	assert_string_equal(cs.c[1].source, "hue");
	assert_int_equal(cs.c[1].present, 1);

	free(fs.e);
	mc_record_free(got);
}

static void test_delete(void **state)
{
	struct fixture *fx = *state;
	struct mc_record *r = fx->r, *got = rec_new();
	struct mc_writer *w;
	struct mc_reader *rd;
	struct counts_seen cs;
	struct feed_seen fs = { 0 };
	struct mc_error err;

	w = wbegin(fx->s);
	fill_marc(r, "hanoi", "d1", 1, 0);
	assert_int_equal(put(w, r), MC_PUT_NEW);
	fill_marc(r, "hanoi", "d2", 2, 0);
	assert_int_equal(put(w, r), MC_PUT_NEW);
	wcommit(w);

	w = wbegin(fx->s);
	assert_int_equal(del(w, "hanoi", "d1", 1800000000), MC_PUT_DELETED);
	assert_int_equal(del(w, "hanoi", "d1", 1800000001), MC_PUT_ABSENT);   /* already deleted */
	assert_int_equal(del(w, "hanoi", "never", 1800000000), MC_PUT_ABSENT);
	/* a deleted record given to put behaves as a delete */
	fill_marc(r, "hanoi", "d2", 2, 0);
	r->status = MC_REC_DELETED;
	r->datestamp = 1800000002;
	assert_int_equal(put(w, r), MC_PUT_DELETED);
	assert_int_equal(put(w, r), MC_PUT_ABSENT);
	fill_marc(r, "hanoi", "never2", 9, 0);
	r->status = MC_REC_DELETED;
	assert_int_equal(put(w, r), MC_PUT_ABSENT);
	wcommit(w);

	assert_int_equal(mc_reader_begin(fx->s, &rd), 0);
	assert_int_equal(mc_reader_get(rd, "hanoi", "d1", got, &err), 0);
	assert_int_equal(got->status, MC_REC_DELETED);
	assert_int_equal(got->datestamp, 1800000000);   /* the second delete wrote nothing */
	assert_null(got->marc);
	assert_null(got->f.title);
	assert_int_equal(mc_reader_get(rd, "hanoi", "d2", got, &err), 0);
	assert_int_equal(got->status, MC_REC_DELETED);
	assert_int_equal(got->datestamp, 1800000002);
	assert_int_equal(mc_reader_get(rd, "hanoi", "never", got, &err), MC_E_NOTFOUND);
	mc_reader_end(rd);

	get_counts(fx->s, &cs);
	assert_int_equal(cs.n, 1);
	assert_int_equal(cs.c[0].present, 0);
	assert_int_equal(cs.c[0].deleted, 2);

	/* present record over a tombstone: NEW (present +1, deleted -1) */
	w = wbegin(fx->s);
	fill_marc(r, "hanoi", "d1", 1, 0);
	assert_int_equal(put(w, r), MC_PUT_NEW);
	wcommit(w);
	get_counts(fx->s, &cs);
	assert_int_equal(cs.c[0].present, 1);
	assert_int_equal(cs.c[0].deleted, 1);

	get_feed(fx->s, 0, 0, &fs);
	assert_int_equal(fs.n, 5);
	assert_int_equal(fs.e[2].op, MC_PUT_DELETED);
	assert_string_equal(fs.e[2].key, "hanoi/d1");
	assert_int_equal(fs.e[3].op, MC_PUT_DELETED);
	assert_string_equal(fs.e[3].key, "hanoi/d2");
	assert_int_equal(fs.e[4].op, MC_PUT_NEW);
	assert_string_equal(fs.e[4].key, "hanoi/d1");
	free(fs.e);
	mc_record_free(got);
}

static void test_abort_and_validation(void **state)
{
	struct fixture *fx = *state;
	struct mc_record *r = fx->r, *got = rec_new();
	struct mc_writer *w;
	struct mc_reader *rd;
	struct mc_error err;
	struct counts_seen cs;
	char longid[600];
	int oc = 77;

	w = wbegin(fx->s);
	fill_marc(r, "hanoi", "a1", 1, 0);
	assert_int_equal(put(w, r), MC_PUT_NEW);
	assert_int_equal(mc_writer_state_set(w, "harvest:hanoi", "token", "abc"), 0);
	mc_writer_abort(w);
	mc_writer_abort(NULL);

	assert_int_equal(mc_reader_begin(fx->s, &rd), 0);
	assert_int_equal(mc_reader_get(rd, "hanoi", "a1", got, &err), MC_E_NOTFOUND);
	assert_int_equal(mc_reader_feed_last(rd), 0);
	{
		char buf[16];

		assert_int_equal(mc_reader_state_get(rd, "harvest:hanoi", "token", buf, sizeof(buf)),
				 MC_E_NOTFOUND);
	}
	mc_reader_end(rd);
	get_counts(fx->s, &cs);
	assert_int_equal(cs.n, 0);

	/* validation errors keep the batch usable */
	w = wbegin(fx->s);
	fill_marc(r, "bad source", "a1", 1, 0);
	mc_error_clear(&err);
	assert_int_equal(mc_writer_put(w, r, &oc, &err), MC_E_USAGE);
	assert_int_equal(oc, 77);   /* untouched on failure */
	assert_non_null(strstr(err.msg, "source"));
	fill_marc(r, "hanoi", "", 1, 0);
	assert_int_equal(mc_writer_put(w, r, &oc, &err), MC_E_USAGE);
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	fill_marc(r, "hanoi", longid, 1, 0);
	mc_error_clear(&err);
	assert_int_equal(mc_writer_put(w, r, &oc, &err), MC_E_TOOBIG);
	assert_int_equal(strlen(err.record_id), sizeof(err.record_id) - 1);
	/* the longest key that fits: source + NUL + id = 511 bytes */
	longid[511 - 6] = '\0';
	fill_marc(r, "hanoi", longid, 1, 0);
	assert_int_equal(put(w, r), MC_PUT_NEW);
	assert_int_equal(mc_writer_delete(w, "hanoi", NULL, 0, &oc, NULL), MC_E_USAGE);
	fill_marc(r, "hanoi", "ok", 2, 0);
	assert_int_equal(put(w, r), MC_PUT_NEW);
	wcommit(w);

	assert_int_equal(mc_reader_begin(fx->s, &rd), 0);
	assert_int_equal(mc_reader_get(rd, "hanoi", longid, got, &err), 0);
	assert_string_equal(got->local_id, longid);
	assert_int_equal(mc_reader_get(rd, "hanoi", "ok", got, &err), 0);
	mc_reader_end(rd);
	mc_record_free(got);
}

struct each_ctx {
	int n, stop_at;
	char ids[16][32];
	int status[16];
};

static int each_cb(void *ctx, struct mc_record *rec)
{
	struct each_ctx *e = ctx;

	if (e->n < 16) {
		snprintf(e->ids[e->n], sizeof(e->ids[0]), "%s/%s", rec->source, rec->local_id);
		e->status[e->n] = rec->status;
	}
	e->n++;
	return e->n == e->stop_at ? 42 : 0;
}

static void test_each(void **state)
{
	struct fixture *fx = *state;
	struct mc_record *r = fx->r;
	struct mc_writer *w;
	struct mc_reader *rd;
	struct each_ctx e;
	struct mc_error err;
	static const char *const keys[][2] = {
		{ "a", "1" }, { "ab", "1" }, { "a", "2" }, { "a-b", "z" }, { "b", "0" }, { "a", "10" },
	};

	w = wbegin(fx->s);
	for (size_t i = 0; i < 6; i++) {
		fill_marc(r, keys[i][0], keys[i][1], (int)i, 0);
		assert_int_equal(put(w, r), MC_PUT_NEW);
	}
	assert_int_equal(del(w, "a", "2", 5), MC_PUT_DELETED);
	wcommit(w);

	assert_int_equal(mc_reader_begin(fx->s, &rd), 0);
	/* source "a" only: not "ab" or "a-b"; key order; tombstone included */
	memset(&e, 0, sizeof(e));
	assert_int_equal(mc_reader_each(rd, "a", each_cb, &e, &err), 0);
	assert_int_equal(e.n, 3);
	assert_string_equal(e.ids[0], "a/1");
	assert_string_equal(e.ids[1], "a/10");
	assert_string_equal(e.ids[2], "a/2");
	assert_int_equal(e.status[2], MC_REC_DELETED);
	assert_int_equal(e.status[0], MC_REC_PRESENT);
	/* all */
	memset(&e, 0, sizeof(e));
	assert_int_equal(mc_reader_each(rd, NULL, each_cb, &e, &err), 0);
	assert_int_equal(e.n, 6);
	assert_string_equal(e.ids[3], "a-b/z");
	assert_string_equal(e.ids[5], "b/0");
	/* stop early: the callback's value comes back */
	memset(&e, 0, sizeof(e));
	e.stop_at = 2;
	assert_int_equal(mc_reader_each(rd, NULL, each_cb, &e, &err), 42);
	assert_int_equal(e.n, 2);
	/* unknown source: nothing */
	memset(&e, 0, sizeof(e));
	assert_int_equal(mc_reader_each(rd, "zz", each_cb, &e, &err), 0);
	assert_int_equal(e.n, 0);
	assert_int_equal(mc_reader_each(rd, "bad/src", each_cb, &e, &err), MC_E_USAGE);
	mc_reader_end(rd);
}

static void test_state(void **state)
{
	struct fixture *fx = *state;
	struct mc_writer *w;
	struct mc_reader *rd;
	char buf[64], *big;

	w = wbegin(fx->s);
	assert_int_equal(mc_writer_state_set(w, "harvest:hanoi", "token", "tok-1"), 0);
	assert_int_equal(mc_writer_state_set(w, "harvest:hanoi", "from", "2024-01-01"), 0);
	assert_int_equal(mc_writer_state_set(w, "merger", "cursor", "17"), 0);
	assert_int_equal(mc_writer_state_set(w, "", "cursor", "17"), MC_E_USAGE);
	big = malloc(MC_STORE_STATE_MAX + 2);
	assert_non_null(big);
	memset(big, 'v', MC_STORE_STATE_MAX + 1);
	big[MC_STORE_STATE_MAX + 1] = '\0';
	assert_int_equal(mc_writer_state_set(w, "merger", "big", big), MC_E_TOOBIG);
	free(big);
	wcommit(w);

	w = wbegin(fx->s);
	assert_int_equal(mc_writer_state_set(w, "harvest:hanoi", "token", NULL), 0);
	assert_int_equal(mc_writer_state_set(w, "harvest:hanoi", "absent", NULL), 0);
	assert_int_equal(mc_writer_state_set(w, "merger", "cursor", "18"), 0);
	wcommit(w);

	assert_int_equal(mc_reader_begin(fx->s, &rd), 0);
	assert_int_equal(mc_reader_state_get(rd, "harvest:hanoi", "token", buf, sizeof(buf)), MC_E_NOTFOUND);
	assert_int_equal(mc_reader_state_get(rd, "harvest:hanoi", "from", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2024-01-01");
	assert_int_equal(mc_reader_state_get(rd, "merger", "cursor", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "18");
	/* "10 bytes + NUL" does not fit in 10 */
	assert_int_equal(mc_reader_state_get(rd, "harvest:hanoi", "from", buf, 10), MC_E_TOOBIG);
	assert_int_equal(mc_reader_state_get(rd, "harvest:hanoi", "from", buf, 11), 0);
	/* state does not show up as records or feed entries */
	assert_int_equal(mc_reader_feed_last(rd), 0);
	mc_reader_end(rd);
}

static void test_corrupt_value(void **state)
{
	char *t = tmpdir_new(), *dir = store_path(t);
	struct mc_store *s;
	struct mc_record *r = rec_new();
	struct mc_writer *w;
	struct mc_reader *rd;
	struct mc_error err;
	struct each_ctx e;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = { 6, (void *)"src\0id" }, v = { 5, (void *)"\x01garb" };
	int oc;

	(void)state;
	assert_int_equal(mc_store_open(dir, MC_STORE_CREATE, &s, &err), 0);
	mc_store_close(s);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "records", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	assert_int_equal(mc_store_open(dir, 0, &s, &err), 0);
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	mc_error_clear(&err);
	assert_int_equal(mc_reader_get(rd, "src", "id", r, &err), MC_E_CORRUPT);
	assert_string_equal(err.record_id, "id");
	memset(&e, 0, sizeof(e));
	mc_error_clear(&err);
	assert_int_equal(mc_reader_each(rd, "src", each_cb, &e, &err), MC_E_CORRUPT);
	assert_string_equal(err.record_id, "id");
	assert_string_equal(err.source, "src");
	mc_reader_end(rd);
	/* the writer will not guess over a value it cannot read */
	w = wbegin(s);
	fill_marc(r, "src", "id", 1, 0);
	assert_int_equal(mc_writer_put(w, r, &oc, &err), MC_E_CORRUPT);
	fill_marc(r, "src", "other", 1, 0);
	assert_int_equal(mc_writer_put(w, r, &oc, &err), MC_E_CORRUPT);   /* batch poisoned */
	assert_int_equal(mc_writer_commit(w, &err), MC_E_CORRUPT);
	mc_store_close(s);
	mc_record_free(r);
	free(dir);
	tmpdir_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_roundtrip_marc),
		cmocka_unit_test(test_pack_roundtrip_dc),
		cmocka_unit_test(test_pack_errors),
		cmocka_unit_test(test_pack_fuzz),
		cmocka_unit_test(test_open),
		cmocka_unit_test_setup_teardown(test_put_outcomes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_and_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state, setup, teardown),
		cmocka_unit_test(test_corrupt_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
