/* test-index.c — the index writer on a real store and a real Xapian
 * database: restricted sources and self-restricted (MARC 506) members leave
 * no trace, the terms and values of a document, incremental runs (a change,
 * the last public member gone), and an incremental index equal to a rebuild,
 * spelling table included. */
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
#include "ix-index.h"
#include "ix-index-internal.h"
#include "mg.h"
#include "unit-tmp.h"

struct spec {
	const char *src, *id, *title;
	int year;
	const char *isbn, *name;
	int restricted_506;
};

/* l1:a1, l2:b1, l3:c1 one edition (ISBN-10 of the same book in c1); l3 is a
 * restricted source; l2:b2 restricts itself (506 ind1 1); l1:a2 alone. */
static const struct spec SET[] = {
	{ "l1", "a1", "Dế mèn phiêu lưu ký", 2010, "9786042000000", "Tô Hoài", 0 },
	{ "l2", "b1", "Dế Mèn phiêu lưu ký : truyện", 2010, "9786042000000", "Tô Hoài", 0 },
	{ "l3", "c1", "Dế mèn phiêu lưu ký bí mật", 2010, "9786042000000", "Tô Hoài", 0 },
	{ "l1", "a2", "Lịch sử Việt Nam", 1998, "0306406152", "Trần Trọng Kim", 0 },
	{ "l2", "b2", "Truyện Kiều", 2005, NULL, "Nguyễn Du", 1 },
	{ "l3", "c2", "Số đỏ", 1999, NULL, "Vũ Trọng Phụng", 0 },
};

static const char CONFIG[] =
	"[catalogue]\nname = t\ndata_dir = %s/%s\n\n"
	"[source \"l1\"]\nname = Thư viện Một\ntype = provincial\nprovince = Hà Nội\n\n"
	"[source \"l2\"]\nname = Thư viện Hai\ntype = school\n\n"
	"[source \"l3\"]\nname = Thư viện Ba\ntype = district\nvisibility = restricted\n";

static struct mc_record *mk(const struct spec *s, const char *title)
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
	r->f.title = mc_arena_strdup(a, title ? title : s->title);
	r->f.year = s->year;
	r->f.material = "book";
	r->f.publisher = "Kim Đồng";
	if (s->isbn) {
		char i13[14];

		assert_int_equal(mc_isbn_normalise(s->isbn, strlen(s->isbn), i13), 0);
		assert_int_equal(mc_tvv_add(r, &r->f.ids, "isbn", i13, 13), 0);
	}
	r->f.names = mc_arena_zalloc(a, sizeof(*r->f.names));
	r->f.names_cap = 1;
	r->f.names[0].name = mc_arena_strdup(a, s->name);
	r->f.names[0].kind = MC_NAME_PERSONAL;
	r->f.nnames = 1;
	assert_int_equal(mc_strv_add(r, &r->f.subjects, "Văn học thiếu nhi", 19), 0);
	if (s->restricted_506) {
		struct mc_field *f;

		assert_non_null(mc_record_marc(r));
		assert_int_equal(mc_marc_add_data(r, "506", '1', ' ', &f), 0);
		assert_int_equal(mc_marc_add_sub(r, f, 'a', "Hạn chế", strlen("Hạn chế")), 0);
	}
	return r;
}

struct cat {
	struct mc_config *cfg;
	struct mc_store *st;
};

static void cat_open(struct cat *c, const char *name)
{
	char text[2048], file[64];
	const char *path;
	struct mc_error e;

	snprintf(text, sizeof(text), CONFIG, tmpdir, name);
	snprintf(file, sizeof(file), "%.16s.ini", name);
	path = write_file(file, text);
	mc_error_clear(&e);
	assert_int_equal(mc_config_load(path, &c->cfg, &e), 0);
	assert_int_equal(mc_config_make_dirs(c->cfg, &e), 0);
	assert_int_equal(mc_store_open(c->cfg->store_dir, MC_STORE_CREATE, &c->st, &e), 0);
}

static void cat_close(struct cat *c)
{
	mc_store_close(c->st);
	mc_config_free(c->cfg);
}

/* put (title NULL: as in SET) or delete records, then merge */
static void put(struct cat *c, size_t i, const char *title, int del)
{
	struct mc_writer *w;
	struct mc_error e;

	mc_error_clear(&e);
	assert_int_equal(mc_writer_begin(c->st, &w, &e), 0);
	if (del) {
		assert_int_equal(mc_writer_delete(w, SET[i].src, SET[i].id, 1700000100, NULL, &e), 0);
	} else {
		struct mc_record *r = mk(&SET[i], title);

		assert_int_equal(mc_writer_put(w, r, NULL, &e), 0);
		mc_record_free(r);
	}
	assert_int_equal(mc_writer_commit(w, &e), 0);
	assert_int_equal(mg_store_merge(c->st, 0, 1700000200, NULL, &e), 0);
}

static void index_run(struct cat *c, unsigned flags, struct ix_index_stats *st)
{
	struct ix_index_opts o;
	struct mc_error e;

	memset(&o, 0, sizeof(o));
	o.flags = flags;
	mc_error_clear(&e);
	assert_int_equal(ix_index_run(c->cfg, c->st, &o, st, &e), 0);
}

static uint64_t union_of(struct cat *c, const char *ref)
{
	struct mc_reader *r;
	struct mg_merger *m;
	uint64_t id = 0;

	assert_int_equal(mc_reader_begin(c->st, &r), 0);
	assert_int_equal(mg_merger_new_reader(r, &m), 0);
	assert_int_equal(mg_member_union(m, ref, &id), 0);
	mg_merger_free(m);
	mc_reader_end(r);
	return id;
}

/* the live database of c (the stub's directory) */
static struct ixw_db *db_open(struct cat *c)
{
	struct ixw_db *db;
	struct mc_error e;
	char path[1024], line[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/index", c->cfg->data_dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	assert_int_equal(strncmp(line, "auto ", 5), 0);
	snprintf(path, sizeof(path), "%s/%s", c->cfg->data_dir, line + 5);
	mc_error_clear(&e);
	assert_int_equal(ixw_open(path, 0, &db, &e), 0);
	return db;
}

static int has(struct ixw_db *db, const char *t)
{
	struct mc_error e;

	mc_error_clear(&e);
	return ixw_has_term(db, t, &e);
}

struct terms {
	char text[65536];
	size_t len;
};

static int add_term(void *ctx, const char *t, size_t n, unsigned wdf)
{
	struct terms *x = ctx;
	int k = snprintf(x->text + x->len, sizeof(x->text) - x->len, "%.*s/%u\n", (int)n, t, wdf);

	assert_true(k > 0 && (size_t)k < sizeof(x->text) - x->len);
	x->len += (size_t)k;
	return 0;
}

/* the terms of union id's document, "term/wdf" lines; "" when none */
static void terms_of(struct ixw_db *db, uint64_t id, struct terms *x)
{
	char ut[32];
	struct mc_error e;
	int rc;

	x->len = 0;
	x->text[0] = '\0';
	ix_uterm(id, ut, sizeof(ut));
	mc_error_clear(&e);
	rc = ixw_doc_terms(db, ut, add_term, x, &e);
	assert_true(rc == 0 || rc == MC_E_NOTFOUND);
}

static void test_public_only(void **state)
{
	struct ix_index_stats st;
	struct ixw_db *db;
	struct terms t;
	struct cat c;
	uint64_t dm, ls, kieu, sodo;
	size_t i;
	char q[32];

	(void)state;
	cat_open(&c, "pub");
	for (i = 0; i < sizeof(SET) / sizeof(SET[0]); i++)
		put(&c, i, NULL, 0);
	index_run(&c, 0, &st);
	assert_int_equal(st.rebuilt, 1);
	dm = union_of(&c, "l1:a1");
	assert_int_equal(union_of(&c, "l2:b1"), dm);
	ls = union_of(&c, "l1:a2");
	kieu = union_of(&c, "l2:b2");
	sodo = union_of(&c, "l3:c2");
	/* Dế mèn and Lịch sử; Truyện Kiều restricts itself, Số đỏ is restricted */
	assert_int_equal(st.docs, 2);
	assert_int_equal(st.added, 2);
	db = db_open(&c);
	ix_uterm(dm, q, sizeof(q));
	assert_int_equal(has(db, q), 1);
	ix_uterm(kieu, q, sizeof(q));
	assert_int_equal(has(db, q), 0);
	ix_uterm(sodo, q, sizeof(q));
	assert_int_equal(has(db, q), 0);
	/* no trace of the restricted source or record */
	assert_int_equal(has(db, "XLl3:c1"), 0);
	assert_int_equal(has(db, "XLc1"), 0);
	assert_int_equal(has(db, "XFlibrary:l3"), 0);
	assert_int_equal(has(db, "XTmật"), 0);
	assert_int_equal(has(db, "mat"), 0);
	assert_int_equal(has(db, "kieu"), 0);
	assert_int_equal(has(db, "XAphung"), 0);
	/* the document of Dế mèn: both forms, both members, facets */
	terms_of(db, dm, &t);
	assert_non_null(strstr(t.text, "XTdế/"));
	assert_non_null(strstr(t.text, "XTde/"));
	assert_non_null(strstr(t.text, "\nde/"));
	assert_non_null(strstr(t.text, "XBde men/"));
	assert_non_null(strstr(t.text, "XAhoai/"));
	assert_non_null(strstr(t.text, "XKthiếu/"));
	assert_non_null(strstr(t.text, "XCvan hoc/"));
	assert_non_null(strstr(t.text, "XI9786042000000/0"));
	assert_non_null(strstr(t.text, "XLl1:a1/0"));
	assert_non_null(strstr(t.text, "XLl2:b1/0"));
	assert_non_null(strstr(t.text, "XFlibrary:l1/0"));
	assert_non_null(strstr(t.text, "XFlibrary:l2/0"));
	assert_non_null(strstr(t.text, "XFprovince:ha-noi/0"));
	assert_non_null(strstr(t.text, "XFtype:school/0"));
	assert_non_null(strstr(t.text, "XFyear:2010/0"));
	assert_non_null(strstr(t.text, "XFmaterial:book/0"));
	/* title words weigh 3 per value: "phiêu" in two different titles */
	assert_non_null(strstr(t.text, "XTphiêu/6"));
	assert_null(strstr(t.text, "XL"  "l3"));
	/* ISBN-10 became 13 digits */
	terms_of(db, ls, &t);
	assert_non_null(strstr(t.text, "XI9780306406157/0"));
	assert_null(strstr(t.text, "XFcategory:rare"));
	ixw_close(db);
	cat_close(&c);
}

static void test_incremental(void **state)
{
	struct ix_index_stats st;
	struct ixw_db *db;
	struct terms t;
	struct cat c;
	uint64_t ls, kieu;
	size_t i;
	char q[32];

	(void)state;
	cat_open(&c, "inc");
	for (i = 0; i < sizeof(SET) / sizeof(SET[0]); i++)
		put(&c, i, NULL, 0);
	index_run(&c, 0, &st);
	assert_int_equal(st.docs, 2);
	/* nothing changed: nothing touched */
	index_run(&c, 0, &st);
	assert_int_equal(st.added + st.replaced + st.deleted, 0);
	assert_int_equal(st.rebuilt, 0);
	/* a changed title: that document only */
	put(&c, 3, "Lịch sử Việt Nam thời Lý", 0);
	ls = union_of(&c, "l1:a2");
	index_run(&c, 0, &st);
	assert_int_equal(st.replaced, 1);
	assert_int_equal(st.added + st.deleted, 0);
	assert_int_equal(st.docs, 2);
	db = db_open(&c);
	terms_of(db, ls, &t);
	assert_non_null(strstr(t.text, "XTlý/3"));
	ixw_close(db);
	/* Truyện Kiều's member no longer restricts itself: the union appears */
	{
		struct spec s = SET[4];
		struct mc_writer *w;
		struct mc_record *r;
		struct mc_error e;

		s.restricted_506 = 0;
		r = mk(&s, NULL);
		mc_error_clear(&e);
		assert_int_equal(mc_writer_begin(c.st, &w, &e), 0);
		assert_int_equal(mc_writer_put(w, r, NULL, &e), 0);
		assert_int_equal(mc_writer_commit(w, &e), 0);
		mc_record_free(r);
		assert_int_equal(mg_store_merge(c.st, 0, 1700000300, NULL, &e), 0);
	}
	kieu = union_of(&c, "l2:b2");
	index_run(&c, 0, &st);
	assert_int_equal(st.added, 1);
	assert_int_equal(st.docs, 3);
	/* the last public member gone: deleted */
	put(&c, 3, NULL, 1);
	index_run(&c, 0, &st);
	assert_int_equal(st.deleted, 1);
	assert_int_equal(st.docs, 2);
	db = db_open(&c);
	ix_uterm(ls, q, sizeof(q));
	assert_int_equal(has(db, q), 0);
	ix_uterm(kieu, q, sizeof(q));
	assert_int_equal(has(db, q), 1);
	assert_int_equal(has(db, "XTlý"), 0);
	ixw_close(db);
	cat_close(&c);
}

/* every document's terms, and the spelling words, in one text */
struct dump {
	struct terms t;
	char all[1 << 18];
	size_t len;
};

static void dump_index(struct cat *c, uint64_t maxid, struct dump *d)
{
	struct ixw_db *db = db_open(c);
	uint64_t id;

	d->len = 0;
	for (id = 1; id <= maxid; id++) {
		terms_of(db, id, &d->t);
		assert_true(d->len + d->t.len + 32 < sizeof(d->all));
		d->len += (size_t)snprintf(d->all + d->len, sizeof(d->all) - d->len, "#%llu\n%s",
					   (unsigned long long)id, d->t.text);
	}
	ixw_close(db);
}

static int spelling_of(struct cat *c, const char *w)
{
	struct ixw_db *db = db_open(c);
	struct mc_error e;
	int n;

	mc_error_clear(&e);
	n = ixw_spelling_freq(db, w, &e);
	ixw_close(db);
	return n;
}

static void test_equals_rebuild(void **state)
{
	static struct dump inc, reb;
	struct ix_index_stats st;
	struct cat c;
	size_t i;
	int f_inc[4], f_reb[4];
	static const char *const words[] = { "men", "ly", "kieu", "hoai" };

	(void)state;
	cat_open(&c, "eq");
	for (i = 0; i < sizeof(SET) / sizeof(SET[0]); i++) {
		put(&c, i, NULL, 0);
		index_run(&c, 0, &st);
	}
	put(&c, 3, "Lịch sử Việt Nam thời Lý", 0);
	index_run(&c, 0, &st);
	put(&c, 0, "Dế mèn của Tô Hoài", 0); /* "hoai" in the title and the name */
	index_run(&c, 0, &st);
	put(&c, 3, "Lịch sử Việt Nam của Hoài", 0);
	index_run(&c, 0, &st);
	put(&c, 1, NULL, 1);
	index_run(&c, 0, &st);
	put(&c, 0, "Dế mèn của Tô Hoài tập hai", 0); /* re-indexed: "hoai" stays in two documents */
	index_run(&c, 0, &st);
	dump_index(&c, 12, &inc);
	for (i = 0; i < 4; i++)
		f_inc[i] = spelling_of(&c, words[i]);
	index_run(&c, IX_INDEX_REBUILD, &st);
	assert_int_equal(st.rebuilt, 1);
	assert_int_equal(st.generation, 2);
	dump_index(&c, 12, &reb);
	for (i = 0; i < 4; i++)
		f_reb[i] = spelling_of(&c, words[i]);
	assert_string_equal(inc.all, reb.all);
	for (i = 0; i < 4; i++)
		assert_int_equal(f_inc[i], f_reb[i]);
	assert_int_equal(f_reb[3], 2); /* once per document, though in two fields of one */
	assert_int_equal(f_reb[0], 1); /* "men": one document has it */
	assert_int_equal(f_reb[1], 0); /* "ly": the title changed again */
	assert_int_equal(f_reb[2], 0); /* "kieu": never public */
	/* the old database directory is gone after the swap */
	{
		char p[1024];
		FILE *f;

		snprintf(p, sizeof(p), "%s/index.d/1/iamglass", c.cfg->data_dir);
		f = fopen(p, "r");
		assert_null(f);
	}
	cat_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_public_only),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_equals_rebuild),
	};
	int rc;

	unit_tmpdir_make("index");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unit_tmpdir_remove();
	return rc;
}
