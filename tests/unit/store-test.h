/* store-test.h — helpers shared by the store's unit tests (test-store*.c):
 * temporary stores, a realistic record, record comparison, a fixture with
 * an open store, writer shorthands, feed/count/kv collectors, children.
 * Header-only (static inline), so each test program takes what it uses. */
#ifndef STORE_TEST_H
#define STORE_TEST_H

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "mc-limits.h"
#include "mc-record.h"
#include "mc-store.h"
#include "store-internal.h"


static inline int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline char *tmpdir_new(void)
{
	char *t = strdup("/tmp/mucluc-store-XXXXXX");

	assert_non_null(t);
	assert_non_null(mkdtemp(t));
	return t;
}

static inline void tmpdir_free(char *t)
{
	if (!t)
		return;
	nftw(t, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
}

/* <tmp>/store, created by the store itself. */
static inline char *store_path(const char *t)
{
	size_t n = strlen(t) + sizeof("/store");
	char *p = malloc(n);

	assert_non_null(p);
	snprintf(p, n, "%s/store", t);
	return p;
}

static inline const char *fmt(char *buf, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));
static inline const char *fmt(char *buf, size_t n, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, n, f, ap);
	va_end(ap);
	return buf;
}

static inline void add_sub(struct mc_record *r, struct mc_field *f, char code, const char *v)
{
	assert_int_equal(mc_marc_add_sub(r, f, code, v, strlen(v)), 0);
}

static inline const char *adup(struct mc_record *r, const char *s)
{
	const char *p = mc_arena_strdup(r->arena, s);

	assert_non_null(p);
	return p;
}

/* A realistic MARC record with every extracted field populated: about
 * 1.5 KB packed. variant changes the title (content change). */
static inline void fill_marc(struct mc_record *r, const char *source, const char *id, int i, int variant)
{
	struct mc_field *f;
	char b[256];
	struct mc_name *n;
	struct mc_link *l;
	struct mc_holding *h;

	mc_record_reset(r);
	r->source = adup(r, source);
	r->local_id = adup(r, id);
	r->status = MC_REC_PRESENT;
	r->datestamp = 1700000000 + i;
	r->encoding = adup(r, i % 3 ? "utf-8" : "tcvn3");
	assert_int_equal(mc_marc_add_control(r, "001", id, strlen(id)), 0);
	memcpy(r->marc->leader, "01234nam a2200301 a 4500", 24);
	assert_int_equal(mc_marc_add_control(r, "008", "200101s2019    vm a          000 0 vie d", 40), 0);
	assert_int_equal(mc_marc_add_data(r, "020", ' ', ' ', &f), 0);
	add_sub(r, f, 'a', fmt(b, sizeof(b), "978604%07d", i));
	add_sub(r, f, 'c', "85000đ");
	assert_int_equal(mc_marc_add_data(r, "100", '1', ' ', &f), 0);
	add_sub(r, f, 'a', "Nguyễn Văn Trường");
	add_sub(r, f, 'd', "1945-2010");
	assert_int_equal(mc_marc_add_data(r, "245", '1', '0', &f), 0);
	add_sub(r, f, 'a', fmt(b, sizeof(b), "Lịch sử Việt Nam tập %d%s :", i, variant ? " (sửa)" : ""));
	add_sub(r, f, 'b', "từ nguồn gốc đến thế kỷ XIX /");
	add_sub(r, f, 'c', "Nguyễn Văn Trường chủ biên ; Trần Thị Hương, Lê Đức Anh");
	assert_int_equal(mc_marc_add_data(r, "260", ' ', ' ', &f), 0);
	add_sub(r, f, 'a', "Hà Nội :");
	add_sub(r, f, 'b', "Nxb. Khoa học xã hội,");
	add_sub(r, f, 'c', "2019");
	assert_int_equal(mc_marc_add_data(r, "300", ' ', ' ', &f), 0);
	add_sub(r, f, 'a', "535 tr. :");
	add_sub(r, f, 'b', "minh họa ;");
	add_sub(r, f, 'c', "24 cm");
	assert_int_equal(mc_marc_add_data(r, "500", ' ', ' ', &f), 0);
	add_sub(r, f, 'a', "ĐTTS ghi: Viện Hàn lâm Khoa học xã hội Việt Nam. Viện Sử học");
	assert_int_equal(mc_marc_add_data(r, "520", ' ', ' ', &f), 0);
	add_sub(r, f, 'a', "Trình bày lịch sử Việt Nam từ thời tiền sử qua các triều đại "
		"phong kiến đến thế kỷ XIX");
	assert_int_equal(mc_marc_add_data(r, "650", ' ', '7', &f), 0);
	add_sub(r, f, 'a', "Lịch sử");
	add_sub(r, f, 'z', "Việt Nam");
	add_sub(r, f, '2', "Bộ TK TVQG");
	assert_int_equal(mc_marc_add_data(r, "700", '1', ' ', &f), 0);
	add_sub(r, f, 'a', "Trần Thị Hương");
	add_sub(r, f, 'e', "biên soạn");
	assert_int_equal(mc_marc_add_data(r, "856", '4', '0', &f), 0);
	add_sub(r, f, 'u', fmt(b, sizeof(b), "http://thuvien.example.vn/opac/%d", i));
	assert_int_equal(mc_marc_add_data(r, "952", ' ', ' ', &f), 0);
	add_sub(r, f, 'a', "TVHN");
	add_sub(r, f, 'c', "Kho mượn");
	add_sub(r, f, 'o', fmt(b, sizeof(b), "959.7 L302S %d", i));
	add_sub(r, f, 'p', fmt(b, sizeof(b), "VV%08d", i));

	r->f.title = adup(r, fmt(b, sizeof(b), "Lịch sử Việt Nam tập %d%s : từ nguồn gốc đến thế kỷ XIX",
				 i, variant ? " (sửa)" : ""));
	r->f.responsibility = adup(r, "Nguyễn Văn Trường chủ biên ; Trần Thị Hương, Lê Đức Anh");
	r->f.edition = adup(r, "Tái bản lần thứ 2");
	r->f.place = adup(r, "Hà Nội");
	r->f.publisher = adup(r, "Nxb. Khoa học xã hội");
	r->f.date = adup(r, "2019");
	r->f.year = 2019;
	r->f.extent = adup(r, "535 tr. : minh họa ; 24 cm");
	r->f.material = adup(r, "book");
	assert_int_equal(mc_arena_grow(r->arena, (void **)&r->f.names, &r->f.nnames, &r->f.names_cap,
				       sizeof(*n)), 0);
	n = &r->f.names[r->f.nnames++];
	n->name = adup(r, "Nguyễn Văn Trường");
	n->kind = MC_NAME_PERSONAL;
	n->main_entry = 1;
	n->role = NULL;
	n->dates = adup(r, "1945-2010");
	assert_int_equal(mc_arena_grow(r->arena, (void **)&r->f.names, &r->f.nnames, &r->f.names_cap,
				       sizeof(*n)), 0);
	n = &r->f.names[r->f.nnames++];
	n->name = adup(r, "Viện Sử học");
	n->kind = MC_NAME_CORPORATE;
	n->main_entry = 0;
	n->role = adup(r, "biên soạn");
	n->dates = NULL;
	assert_int_equal(mc_tvv_add(r, &r->f.ids, "isbn", fmt(b, sizeof(b), "978604%07d", i), 13), 0);
	assert_int_equal(mc_tvv_add(r, &r->f.ids, "control", "(VN-HaNTVQG)123", 15), 0);
	assert_int_equal(mc_strv_add(r, &r->f.languages, "vie", 3), 0);
	assert_int_equal(mc_strv_add(r, &r->f.languages, "eng", 3), 0);
	assert_int_equal(mc_strv_add(r, &r->f.subjects, "Lịch sử -- Việt Nam", strlen("Lịch sử -- Việt Nam")), 0);
	assert_int_equal(mc_strv_add(r, &r->f.subjects, "Khảo cổ học", strlen("Khảo cổ học")), 0);
	assert_int_equal(mc_tvv_add(r, &r->f.classes, "ddc", "959.7", 5), 0);
	assert_int_equal(mc_tvv_add(r, &r->f.classes, "other:bbk", "63.3(1V)", 8), 0);
	assert_int_equal(mc_strv_add(r, &r->f.series, "Tủ sách lịch sử ; 5", strlen("Tủ sách lịch sử ; 5")), 0);
	assert_int_equal(mc_strv_add(r, &r->f.notes, "ĐTTS ghi: Viện Hàn lâm Khoa học xã hội Việt Nam",
				     strlen("ĐTTS ghi: Viện Hàn lâm Khoa học xã hội Việt Nam")), 0);
	assert_int_equal(mc_arena_grow(r->arena, (void **)&r->f.links, &r->f.nlinks, &r->f.links_cap,
				       sizeof(*l)), 0);
	l = &r->f.links[r->f.nlinks++];
	l->url = adup(r, fmt(b, sizeof(b), "http://thuvien.example.vn/opac/%d", i));
	l->label = adup(r, "Toàn văn");
	assert_int_equal(mc_arena_grow(r->arena, (void **)&r->f.holdings, &r->f.nholdings,
				       &r->f.holdings_cap, sizeof(*h)), 0);
	h = &r->f.holdings[r->f.nholdings++];
	h->library = adup(r, "TVHN");
	h->location = adup(r, "Kho mượn");
	h->call_number = adup(r, fmt(b, sizeof(b), "959.7 L302S %d", i));
	h->barcode = adup(r, fmt(b, sizeof(b), "VV%08d", i));
	h->status = adup(r, "available");
	h->note = NULL;
}

static inline void assert_str_eq(const char *a, const char *b)
{
	if (!a || !b) {
		assert_ptr_equal(a, b);
		return;
	}
	assert_string_equal(a, b);
}

static inline void assert_mem_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	assert_int_equal(alen, blen);
	assert_non_null(a);
	assert_non_null(b);
	assert_memory_equal(a, b, alen);
	assert_int_equal(a[alen], '\0');
}

static inline void assert_strv_eq(const struct mc_strv *a, const struct mc_strv *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		assert_str_eq(a->v[i], b->v[i]);
}

static inline void assert_tvv_eq(const struct mc_tvv *a, const struct mc_tvv *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_str_eq(a->v[i].type, b->v[i].type);
		assert_str_eq(a->v[i].value, b->v[i].value);
	}
}

/* Everything the store keeps (not source/local_id/input position). */
static inline void assert_record_eq(const struct mc_record *a, const struct mc_record *b)
{
	const struct mc_fields *x = &a->f, *y = &b->f;

	assert_int_equal(a->status, b->status);
	assert_int_equal(a->datestamp, b->datestamp);
	assert_int_equal(a->format, b->format);
	assert_str_eq(a->encoding, b->encoding);
	assert_int_equal(!a->marc, !b->marc);
	if (a->marc) {
		assert_memory_equal(a->marc->leader, b->marc->leader, 25);
		assert_int_equal(a->marc->nfields, b->marc->nfields);
		for (size_t i = 0; i < a->marc->nfields; i++) {
			const struct mc_field *f = &a->marc->fields[i], *g = &b->marc->fields[i];

			assert_string_equal(f->tag, g->tag);
			assert_int_equal(!f->value, !g->value);
			if (f->value) {
				assert_mem_eq(f->value, f->len, g->value, g->len);
				continue;
			}
			assert_int_equal(f->ind1, g->ind1);
			assert_int_equal(f->ind2, g->ind2);
			assert_int_equal(f->nsub, g->nsub);
			for (size_t j = 0; j < f->nsub; j++) {
				assert_int_equal(f->sub[j].code, g->sub[j].code);
				assert_mem_eq(f->sub[j].value, f->sub[j].len, g->sub[j].value, g->sub[j].len);
			}
		}
	}
	assert_int_equal(!a->dc, !b->dc);
	if (a->dc) {
		assert_int_equal(a->dc->n, b->dc->n);
		for (size_t i = 0; i < a->dc->n; i++) {
			assert_str_eq(a->dc->elems[i].name, b->dc->elems[i].name);
			assert_mem_eq(a->dc->elems[i].value, a->dc->elems[i].len, b->dc->elems[i].value,
				      b->dc->elems[i].len);
			assert_str_eq(a->dc->elems[i].lang, b->dc->elems[i].lang);
		}
	}
	assert_str_eq(x->title, y->title);
	assert_str_eq(x->responsibility, y->responsibility);
	assert_str_eq(x->edition, y->edition);
	assert_str_eq(x->place, y->place);
	assert_str_eq(x->publisher, y->publisher);
	assert_str_eq(x->date, y->date);
	assert_int_equal(x->year, y->year);
	assert_str_eq(x->extent, y->extent);
	assert_str_eq(x->material, y->material);
	assert_int_equal(x->nnames, y->nnames);
	for (size_t i = 0; i < x->nnames; i++) {
		assert_str_eq(x->names[i].name, y->names[i].name);
		assert_int_equal(x->names[i].kind, y->names[i].kind);
		assert_int_equal(x->names[i].main_entry, y->names[i].main_entry);
		assert_str_eq(x->names[i].role, y->names[i].role);
		assert_str_eq(x->names[i].dates, y->names[i].dates);
	}
	assert_tvv_eq(&x->ids, &y->ids);
	assert_strv_eq(&x->languages, &y->languages);
	assert_strv_eq(&x->subjects, &y->subjects);
	assert_tvv_eq(&x->classes, &y->classes);
	assert_strv_eq(&x->series, &y->series);
	assert_strv_eq(&x->notes, &y->notes);
	assert_int_equal(x->nlinks, y->nlinks);
	for (size_t i = 0; i < x->nlinks; i++) {
		assert_str_eq(x->links[i].url, y->links[i].url);
		assert_str_eq(x->links[i].label, y->links[i].label);
	}
	assert_int_equal(x->nholdings, y->nholdings);
	for (size_t i = 0; i < x->nholdings; i++) {
		const struct mc_holding *p = &x->holdings[i], *q = &y->holdings[i];

		assert_str_eq(p->library, q->library);
		assert_str_eq(p->location, q->location);
		assert_str_eq(p->call_number, q->call_number);
		assert_str_eq(p->barcode, q->barcode);
		assert_str_eq(p->status, q->status);
		assert_str_eq(p->note, q->note);
	}
}

static inline struct mc_record *rec_new(void)
{
	struct mc_record *r = NULL;

	assert_int_equal(mc_record_new(&r), 0);
	return r;
}

struct fixture {
	char *tmp;
	char *dir;
	struct mc_store *s;
	struct mc_record *r;
};

static inline int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct mc_error err;

	if (!fx)
		return -1;
	fx->tmp = tmpdir_new();
	fx->dir = store_path(fx->tmp);
	if (mc_store_open(fx->dir, MC_STORE_CREATE, &fx->s, &err) != 0) {
		fprintf(stderr, "open: %s\n", err.msg);
		return -1;
	}
	if (mc_record_new(&fx->r))
		return -1;
	*state = fx;
	return 0;
}

static inline int teardown(void **state)
{
	struct fixture *fx = *state;

	mc_store_close(fx->s);
	mc_record_free(fx->r);
	tmpdir_free(fx->tmp);
	free(fx->dir);
	free(fx);
	return 0;
}

static inline int put(struct mc_writer *w, struct mc_record *r)
{
	struct mc_error err;
	int oc = -1, rc;

	mc_error_clear(&err);
	rc = mc_writer_put(w, r, &oc, &err);
	if (rc)
		fprintf(stderr, "put %s: %s (%s)\n", r->local_id, mc_strerror(rc), err.msg);
	assert_int_equal(rc, 0);
	return oc;
}

static inline int del(struct mc_writer *w, const char *source, const char *id, int64_t ds)
{
	int oc = -1;

	assert_int_equal(mc_writer_delete(w, source, id, ds, &oc, NULL), 0);
	return oc;
}

static inline struct mc_writer *wbegin(struct mc_store *s)
{
	struct mc_writer *w = NULL;
	struct mc_error err;

	assert_int_equal(mc_writer_begin(s, &w, &err), 0);
	return w;
}

static inline void wcommit(struct mc_writer *w)
{
	struct mc_error err;
	int rc = mc_writer_commit(w, &err);

	if (rc)
		fprintf(stderr, "commit: %s\n", err.msg);
	assert_int_equal(rc, 0);
}

struct counts_seen {
	int n;
	struct mc_source_counts c[8];
};

static inline int counts_cb(void *ctx, const struct mc_source_counts *c)
{
	struct counts_seen *s = ctx;

	if (s->n < 8)
		s->c[s->n] = *c;
	s->n++;
	return 0;
}

static inline void get_counts(struct mc_store *s, struct counts_seen *cs)
{
	struct mc_reader *r;

	memset(cs, 0, sizeof(*cs));
	assert_int_equal(mc_reader_begin(s, &r), 0);
	assert_int_equal(mc_reader_sources(r, counts_cb, cs), 0);
	mc_reader_end(r);
}

struct feed_ent {
	uint64_t seq;
	int op;
	char key[600];
};

struct feed_seen {
	size_t n, cap;
	struct feed_ent *e;
};

static inline int feed_cb(void *ctx, uint64_t seq, int op, const char *source, const char *id)
{
	struct feed_seen *f = ctx;

	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->e = realloc(f->e, f->cap * sizeof(*f->e));
		if (!f->e)
			return -ENOMEM;
	}
	f->e[f->n].seq = seq;
	f->e[f->n].op = op;
	snprintf(f->e[f->n].key, sizeof(f->e[f->n].key), "%s/%s", source, id);
	f->n++;
	return 0;
}

static inline void get_feed(struct mc_store *s, uint64_t after, uint64_t max, struct feed_seen *fs)
{
	struct mc_reader *r;

	free(fs->e);
	memset(fs, 0, sizeof(*fs));
	assert_int_equal(mc_reader_begin(s, &r), 0);
	assert_int_equal(mc_reader_feed(r, after, max, feed_cb, fs), 0);
	mc_reader_end(r);
}

static inline int put_range(struct mc_store *s, struct mc_record *r, int from, int to)
{
	struct mc_writer *w = wbegin(s);
	char id[32];

	for (int i = from; i < to; i++) {
		snprintf(id, sizeof(id), "r%06d", i);
		fill_marc(r, "hanoi", id, i, 0);
		assert_int_equal(put(w, r), MC_PUT_NEW);
	}
	wcommit(w);
	return 0;
}

static inline int run_child(int (*fn)(const char *, int, int), const char *dir, int a, int b)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(dir, a, b));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

struct kv_seen {
	int n;
	char keys[64][64];
	char vals[64][64];
	int stop_at;   /* stop (return 7) at this pair; 0: never */
};

static inline int kv_collect(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct kv_seen *s = ctx;

	if (s->n < 64) {
		snprintf(s->keys[s->n], sizeof(s->keys[0]), "%.*s", (int)klen, (const char *)key);
		snprintf(s->vals[s->n], sizeof(s->vals[0]), "%.*s", (int)vlen, (const char *)val);
	}
	s->n++;
	return s->stop_at && s->n == s->stop_at ? 7 : 0;
}

static inline void kv_put_s(struct mc_writer *w, const char *db, const char *k, const char *v)
{
	assert_int_equal(mc_writer_kv_put(w, db, k, strlen(k), v, strlen(v)), 0);
}

static inline void wkv_expect(struct mc_writer *w, const char *db, const char *k, const char *want)
{
	const void *v = NULL;
	size_t n = 0;
	int rc = mc_writer_kv_get(w, db, k, strlen(k), &v, &n);

	if (!want) {
		assert_int_equal(rc, MC_E_NOTFOUND);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(v, want, n);
}

static inline void rkv_expect(struct mc_reader *r, const char *db, const char *k, const char *want)
{
	const void *v = NULL;
	size_t n = 0;
	int rc = mc_reader_kv_get(r, db, k, strlen(k), &v, &n);

	if (!want) {
		assert_int_equal(rc, MC_E_NOTFOUND);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(v, want, n);
}

#endif
