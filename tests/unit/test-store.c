/* test-store.c — the value encoding (pack.c) and the LMDB store (store.c),
 * on real LMDB environments in temporary directories. (The writer's
 * figures: bench/store-write.c.) */
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

/* ---- helpers ---- */

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static char *tmpdir_new(void)
{
	char *t = strdup("/tmp/mucluc-store-XXXXXX");

	assert_non_null(t);
	assert_non_null(mkdtemp(t));
	return t;
}

static void tmpdir_free(char *t)
{
	if (!t)
		return;
	nftw(t, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
}

/* <tmp>/store, created by the store itself. */
static char *store_path(const char *t)
{
	size_t n = strlen(t) + sizeof("/store");
	char *p = malloc(n);

	assert_non_null(p);
	snprintf(p, n, "%s/store", t);
	return p;
}

static const char *fmt(char *buf, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));
static const char *fmt(char *buf, size_t n, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, n, f, ap);
	va_end(ap);
	return buf;
}

static void add_sub(struct mc_record *r, struct mc_field *f, char code, const char *v)
{
	assert_int_equal(mc_marc_add_sub(r, f, code, v, strlen(v)), 0);
}

static const char *adup(struct mc_record *r, const char *s)
{
	const char *p = mc_arena_strdup(r->arena, s);

	assert_non_null(p);
	return p;
}

/* A realistic MARC record with every extracted field populated: about
 * 1.5 KB packed. variant changes the title (content change). */
static void fill_marc(struct mc_record *r, const char *source, const char *id, int i, int variant)
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

static void assert_str_eq(const char *a, const char *b)
{
	if (!a || !b) {
		assert_ptr_equal(a, b);
		return;
	}
	assert_string_equal(a, b);
}

static void assert_mem_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	assert_int_equal(alen, blen);
	assert_non_null(a);
	assert_non_null(b);
	assert_memory_equal(a, b, alen);
	assert_int_equal(a[alen], '\0');
}

static void assert_strv_eq(const struct mc_strv *a, const struct mc_strv *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		assert_str_eq(a->v[i], b->v[i]);
}

static void assert_tvv_eq(const struct mc_tvv *a, const struct mc_tvv *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_str_eq(a->v[i].type, b->v[i].type);
		assert_str_eq(a->v[i].value, b->v[i].value);
	}
}

/* Everything the store keeps (not source/local_id/input position). */
static void assert_record_eq(const struct mc_record *a, const struct mc_record *b)
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

static struct mc_record *rec_new(void)
{
	struct mc_record *r = NULL;

	assert_int_equal(mc_record_new(&r), 0);
	return r;
}

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

/* ---- store ---- */

struct fixture {
	char *tmp;
	char *dir;
	struct mc_store *s;
	struct mc_record *r;
};

static int setup(void **state)
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

static int teardown(void **state)
{
	struct fixture *fx = *state;

	mc_store_close(fx->s);
	mc_record_free(fx->r);
	tmpdir_free(fx->tmp);
	free(fx->dir);
	free(fx);
	return 0;
}

static int put(struct mc_writer *w, struct mc_record *r)
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

static int del(struct mc_writer *w, const char *source, const char *id, int64_t ds)
{
	int oc = -1;

	assert_int_equal(mc_writer_delete(w, source, id, ds, &oc, NULL), 0);
	return oc;
}

static struct mc_writer *wbegin(struct mc_store *s)
{
	struct mc_writer *w = NULL;
	struct mc_error err;

	assert_int_equal(mc_writer_begin(s, &w, &err), 0);
	return w;
}

static void wcommit(struct mc_writer *w)
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

static int counts_cb(void *ctx, const struct mc_source_counts *c)
{
	struct counts_seen *s = ctx;

	if (s->n < 8)
		s->c[s->n] = *c;
	s->n++;
	return 0;
}

static void get_counts(struct mc_store *s, struct counts_seen *cs)
{
	struct mc_reader *r;

	memset(cs, 0, sizeof(*cs));
	assert_int_equal(mc_reader_begin(s, &r), 0);
	assert_int_equal(mc_store_sources(r, counts_cb, cs), 0);
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

static int feed_cb(void *ctx, uint64_t seq, int op, const char *source, const char *id)
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

static void get_feed(struct mc_store *s, uint64_t after, uint64_t max, struct feed_seen *fs)
{
	struct mc_reader *r;

	free(fs->e);
	memset(fs, 0, sizeof(*fs));
	assert_int_equal(mc_reader_begin(s, &r), 0);
	assert_int_equal(mc_store_feed(r, after, max, feed_cb, fs), 0);
	mc_reader_end(r);
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
	assert_int_equal(mc_store_info(r, &info), 0);
	assert_int_equal(info.map_size, MC_STORE_MAP_INITIAL);
	assert_int_equal(info.records, 0);
	assert_int_equal(mc_store_feed_last(r), 0);
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
	assert_int_equal(mc_store_get(rd, "hanoi", "b1", got, &err), 0);
	assert_int_equal(got->datestamp, 1700000001);
	assert_string_equal(got->source, "hanoi");
	assert_string_equal(got->local_id, "b1");
	fill_marc(r, "hanoi", "b1", 1, 0);
	assert_record_eq(r, got);
	assert_int_equal(mc_store_get(rd, "hanoi", "b2", got, &err), 0);
	assert_non_null(strstr(got->f.title, "(sửa)"));
	mc_error_clear(&err);
	assert_int_equal(mc_store_get(rd, "hanoi", "nope", got, &err), MC_E_NOTFOUND);
	assert_string_equal(err.record_id, "nope");
	assert_string_equal(err.source, "hanoi");
	assert_int_equal(mc_store_get(rd, "han", "b1", got, &err), MC_E_NOTFOUND);
	assert_int_equal(mc_store_feed_last(rd), 5);
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
	assert_int_equal(mc_store_get(rd, "hanoi", "d1", got, &err), 0);
	assert_int_equal(got->status, MC_REC_DELETED);
	assert_int_equal(got->datestamp, 1800000000);   /* the second delete wrote nothing */
	assert_null(got->marc);
	assert_null(got->f.title);
	assert_int_equal(mc_store_get(rd, "hanoi", "d2", got, &err), 0);
	assert_int_equal(got->status, MC_REC_DELETED);
	assert_int_equal(got->datestamp, 1800000002);
	assert_int_equal(mc_store_get(rd, "hanoi", "never", got, &err), MC_E_NOTFOUND);
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
	assert_int_equal(mc_store_get(rd, "hanoi", "a1", got, &err), MC_E_NOTFOUND);
	assert_int_equal(mc_store_feed_last(rd), 0);
	{
		char buf[16];

		assert_int_equal(mc_store_state_get(rd, "harvest:hanoi", "token", buf, sizeof(buf)),
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
	assert_int_equal(mc_store_get(rd, "hanoi", longid, got, &err), 0);
	assert_string_equal(got->local_id, longid);
	assert_int_equal(mc_store_get(rd, "hanoi", "ok", got, &err), 0);
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
	assert_int_equal(mc_store_each(rd, "a", each_cb, &e, &err), 0);
	assert_int_equal(e.n, 3);
	assert_string_equal(e.ids[0], "a/1");
	assert_string_equal(e.ids[1], "a/10");
	assert_string_equal(e.ids[2], "a/2");
	assert_int_equal(e.status[2], MC_REC_DELETED);
	assert_int_equal(e.status[0], MC_REC_PRESENT);
	/* all */
	memset(&e, 0, sizeof(e));
	assert_int_equal(mc_store_each(rd, NULL, each_cb, &e, &err), 0);
	assert_int_equal(e.n, 6);
	assert_string_equal(e.ids[3], "a-b/z");
	assert_string_equal(e.ids[5], "b/0");
	/* stop early: the callback's value comes back */
	memset(&e, 0, sizeof(e));
	e.stop_at = 2;
	assert_int_equal(mc_store_each(rd, NULL, each_cb, &e, &err), 42);
	assert_int_equal(e.n, 2);
	/* unknown source: nothing */
	memset(&e, 0, sizeof(e));
	assert_int_equal(mc_store_each(rd, "zz", each_cb, &e, &err), 0);
	assert_int_equal(e.n, 0);
	assert_int_equal(mc_store_each(rd, "bad/src", each_cb, &e, &err), MC_E_USAGE);
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
	assert_int_equal(mc_store_state_get(rd, "harvest:hanoi", "token", buf, sizeof(buf)), MC_E_NOTFOUND);
	assert_int_equal(mc_store_state_get(rd, "harvest:hanoi", "from", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2024-01-01");
	assert_int_equal(mc_store_state_get(rd, "merger", "cursor", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "18");
	/* "10 bytes + NUL" does not fit in 10 */
	assert_int_equal(mc_store_state_get(rd, "harvest:hanoi", "from", buf, 10), MC_E_TOOBIG);
	assert_int_equal(mc_store_state_get(rd, "harvest:hanoi", "from", buf, 11), 0);
	/* state does not show up as records or feed entries */
	assert_int_equal(mc_store_feed_last(rd), 0);
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
	assert_int_equal(mc_store_get(rd, "src", "id", r, &err), MC_E_CORRUPT);
	assert_string_equal(err.record_id, "id");
	memset(&e, 0, sizeof(e));
	mc_error_clear(&err);
	assert_int_equal(mc_store_each(rd, "src", each_cb, &e, &err), MC_E_CORRUPT);
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

/* Write n records in batches into store s; the second pass (pass 1) mixes
 * unchanged, changed, deleted, re-added and new records. Outcomes go to oc. */
static void write_workload(struct mc_store *s, struct mc_record *r, int n, int batch, int pass,
			   int *oc)
{
	struct mc_writer *w = NULL;
	char id[32];
	int k = 0;

	for (int i = 0; i < n; i++) {
		if (!w)
			w = wbegin(s);
		snprintf(id, sizeof(id), "r%06d", (i * 7919) % n);   /* not in key order */
		if (pass == 0 || i % 4 == 0) {
			fill_marc(r, i % 3 ? "hanoi" : "hue", id, i, pass && i % 8 == 0);
			oc[k++] = put(w, r);
		} else if (i % 4 == 1) {
			oc[k++] = del(w, i % 3 ? "hanoi" : "hue", id, 1800000000 + i);
		} else if (i % 4 == 2) {
			assert_int_equal(mc_writer_state_set(w, "test", id, "state value"), 0);
			oc[k++] = -1;
		} else {
			fill_marc(r, "new", id, i, 0);
			oc[k++] = put(w, r);
		}
		if ((i + 1) % batch == 0) {
			wcommit(w);
			w = NULL;
		}
	}
	if (w)
		wcommit(w);
}

struct each_pack {
	struct mc_store *other;
	struct mc_record *o;
	struct mc_buf a, b;
	size_t n;
};

static int compare_cb(void *ctx, struct mc_record *rec)
{
	struct each_pack *p = ctx;
	struct mc_reader *rd;
	struct mc_error err;

	assert_int_equal(mc_reader_begin(p->other, &rd), 0);
	assert_int_equal(mc_store_get(rd, rec->source, rec->local_id, p->o, &err), 0);
	mc_reader_end(rd);
	assert_int_equal(mc_record_pack(rec, &p->a), 0);
	assert_int_equal(mc_record_pack(p->o, &p->b), 0);
	assert_int_equal(p->a.len, p->b.len);
	assert_memory_equal(p->a.data, p->b.data, p->a.len);
	p->n++;
	return 0;
}

/* A store that starts with a 256 KiB map grows it many times, transparently:
 * outcomes, feed, counts and records equal those of a store with a map big
 * enough from the start. */
static void test_map_growth(void **state)
{
	enum { N = 10000, BATCH = 1000 };
	char *t1 = tmpdir_new(), *d1 = store_path(t1), *t2 = tmpdir_new(), *d2 = store_path(t2);
	struct mc_store *tiny, *ref;
	struct mc_record *r = rec_new();
	struct mc_error err;
	struct mc_reader *rd;
	struct mc_store_info info;
	struct feed_seen f1 = { 0 }, f2 = { 0 };
	struct counts_seen c1, c2;
	struct each_pack ep;
	int *o1 = calloc(2 * N, sizeof(int)), *o2 = calloc(2 * N, sizeof(int));

	(void)state;
	assert_non_null(o1);
	assert_non_null(o2);
	assert_int_equal(mci_store_open_mapsize(d1, MC_STORE_CREATE, 256 << 10, &tiny, &err), 0);
	assert_int_equal(mci_store_open_mapsize(d2, MC_STORE_CREATE, 1ull << 30, &ref, &err), 0);
	write_workload(tiny, r, N, BATCH, 0, o1);
	write_workload(tiny, r, N, BATCH, 1, o1 + N);
	write_workload(ref, r, N, BATCH, 0, o2);
	write_workload(ref, r, N, BATCH, 1, o2 + N);
	printf("# tiny map grew %u times (%u full maps met at commit); reference grew %u times\n",
	       mci_store_grow_count(tiny, 0), mci_store_grow_count(tiny, 1), mci_store_grow_count(ref, 0));
	assert_true(mci_store_grow_count(tiny, 0) >= 5);
	assert_int_equal(mci_store_grow_count(ref, 0), 0);
	assert_memory_equal(o1, o2, 2 * N * sizeof(int));
	{
		int seen[5] = { 0 };

		for (int i = 0; i < 2 * N; i++)
			if (o1[i] >= 0)
				seen[o1[i]]++;
		assert_int_equal(seen[MC_PUT_NEW], N + N / 4);
		assert_true(seen[MC_PUT_UNCHANGED] > 0 && seen[MC_PUT_CHANGED] > 0 &&
			    seen[MC_PUT_DELETED] > 0);
	}

	get_feed(tiny, 0, 0, &f1);
	get_feed(ref, 0, 0, &f2);
	assert_int_equal(f1.n, f2.n);
	for (size_t i = 0; i < f1.n; i++) {
		assert_int_equal(f1.e[i].seq, i + 1);
		assert_int_equal(f1.e[i].seq, f2.e[i].seq);
		assert_int_equal(f1.e[i].op, f2.e[i].op);
		assert_string_equal(f1.e[i].key, f2.e[i].key);
	}
	get_counts(tiny, &c1);
	get_counts(ref, &c2);
	assert_int_equal(c1.n, 3);
	assert_int_equal(c1.n, c2.n);
	for (int i = 0; i < c1.n; i++) {
		assert_string_equal(c1.c[i].source, c2.c[i].source);
		assert_int_equal(c1.c[i].present, c2.c[i].present);
		assert_int_equal(c1.c[i].deleted, c2.c[i].deleted);
	}

	memset(&ep, 0, sizeof(ep));
	ep.other = ref;
	ep.o = rec_new();
	mc_buf_init(&ep.a, MC_STORE_VALUE_MAX);
	mc_buf_init(&ep.b, MC_STORE_VALUE_MAX);
	assert_int_equal(mc_reader_begin(tiny, &rd), 0);
	assert_int_equal(mc_store_info(rd, &info), 0);
	assert_int_equal(mc_store_each(rd, NULL, compare_cb, &ep, &err), 0);
	assert_int_equal(ep.n, info.records);
	assert_int_equal(info.records, N + N / 4);
	assert_int_equal(info.feed_entries, f1.n);
	assert_true(info.map_size > (256u << 10));
	assert_true(info.used_bytes <= info.map_size);
	mc_reader_end(rd);
	mc_store_close(tiny);

	/* the grown map size persists */
	assert_int_equal(mc_store_open(d1, MC_STORE_RDONLY, &tiny, &err), 0);
	assert_int_equal(mc_reader_begin(tiny, &rd), 0);
	{
		struct mc_store_info i2;

		assert_int_equal(mc_store_info(rd, &i2), 0);
		assert_int_equal(i2.map_size, info.map_size);
		assert_int_equal(i2.records, info.records);
	}
	mc_reader_end(rd);
	mc_store_close(tiny);

	mc_buf_free(&ep.a);
	mc_buf_free(&ep.b);
	mc_record_free(ep.o);
	mc_store_close(ref);
	mc_record_free(r);
	free(f1.e);
	free(f2.e);
	free(o1);
	free(o2);
	free(d1);
	free(d2);
	tmpdir_free(t1);
	tmpdir_free(t2);
}

/* Batches of k small records with churn (changed values, freed pages) into
 * a store; outcomes appended to oc. */
static size_t churn(struct mc_store *s, struct mc_record *r, int k, int *oc)
{
	char id[32], title[300];
	size_t n = 0;

	for (int b = 0; b < 30; b++) {
		struct mc_writer *w = wbegin(s);

		for (int i = 0; i < k; i++) {
			snprintf(id, sizeof(id), "i%d", (i * 13 + b * 7) % (3 * k));
			mc_record_reset(r);
			r->source = "s";
			r->local_id = id;
			r->datestamp = b;
			memset(title, 'a' + b % 20, sizeof(title) - 1);
			title[sizeof(title) - 1] = '\0';
			title[b % 200] = 'Z';
			r->f.title = title;
			oc[n++] = put(w, r);
		}
		wcommit(w);
	}
	return n;
}

/* A full map met while committing (counts flush, LMDB's free list) is
 * handled like one met in a put. Which batch hits it depends on page
 * arithmetic, so try batch sizes until some do. */
static void test_map_full_at_commit(void **state)
{
	struct mc_record *r = rec_new();
	int *o1 = malloc(30 * 120 * sizeof(int)), *o2 = malloc(30 * 120 * sizeof(int));
	int hits = 0;

	(void)state;
	assert_non_null(o1);
	assert_non_null(o2);
	for (int k = 40; k <= 120 && hits < 3; k++) {
		char *t1 = tmpdir_new(), *d1 = store_path(t1), *t2 = tmpdir_new(), *d2 = store_path(t2);
		struct mc_store *tiny, *ref;
		struct mc_error err;
		struct feed_seen f1 = { 0 }, f2 = { 0 };
		struct counts_seen c1, c2;
		size_t n1, n2;

		assert_int_equal(mci_store_open_mapsize(d1, MC_STORE_CREATE, 64 << 10, &tiny, &err), 0);
		assert_int_equal(mci_store_open_mapsize(d2, MC_STORE_CREATE, 64 << 20, &ref, &err), 0);
		n1 = churn(tiny, r, k, o1);
		n2 = churn(ref, r, k, o2);
		assert_int_equal(n1, n2);
		assert_memory_equal(o1, o2, n1 * sizeof(int));
		get_feed(tiny, 0, 0, &f1);
		get_feed(ref, 0, 0, &f2);
		assert_int_equal(f1.n, f2.n);
		for (size_t i = 0; i < f1.n; i++) {
			assert_int_equal(f1.e[i].op, f2.e[i].op);
			assert_string_equal(f1.e[i].key, f2.e[i].key);
		}
		get_counts(tiny, &c1);
		get_counts(ref, &c2);
		assert_int_equal(c1.c[0].present, c2.c[0].present);
		if (mci_store_grow_count(tiny, 1))
			hits++;
		mc_store_close(tiny);
		mc_store_close(ref);
		free(f1.e);
		free(f2.e);
		free(d1);
		free(d2);
		tmpdir_free(t1);
		tmpdir_free(t2);
	}
	printf("# full map met at commit in %d workloads, all replayed correctly\n", hits);
	assert_true(hits > 0);
	free(o1);
	free(o2);
	mc_record_free(r);
}

/* With a reader open in this process the map cannot grow: the batch fails
 * with MC_E_FULL and the store keeps what was committed before. */
static void test_map_full_with_reader(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_record *r = rec_new();
	struct mc_writer *w;
	struct mc_reader *rd, *rd2;
	struct mc_error err;
	struct mc_store_info info;
	char id[32];
	int rc = 0, oc, i;

	(void)state;
	assert_int_equal(mci_store_open_mapsize(d, MC_STORE_CREATE, 256 << 10, &s, &err), 0);
	w = wbegin(s);
	fill_marc(r, "hanoi", "first", 0, 0);
	assert_int_equal(put(w, r), MC_PUT_NEW);
	wcommit(w);

	assert_int_equal(mc_reader_begin(s, &rd), 0);
	w = wbegin(s);
	for (i = 0; i < 2000 && rc == 0; i++) {
		snprintf(id, sizeof(id), "x%d", i);
		fill_marc(r, "hanoi", id, i, 0);
		mc_error_clear(&err);
		rc = mc_writer_put(w, r, &oc, &err);
	}
	if (rc == 0)
		rc = mc_writer_commit(w, &err);
	else
		assert_int_equal(mc_writer_commit(w, NULL), MC_E_FULL);   /* poisoned batch */
	assert_int_equal(rc, MC_E_FULL);
	assert_non_null(strstr(err.msg, "read transaction"));
	mc_reader_end(rd);

	assert_int_equal(mc_reader_begin(s, &rd2), 0);
	assert_int_equal(mc_store_info(rd2, &info), 0);
	assert_int_equal(info.records, 1);
	assert_int_equal(mc_store_feed_last(rd2), 1);
	assert_int_equal(mc_store_get(rd2, "hanoi", "x0", r, &err), MC_E_NOTFOUND);
	mc_reader_end(rd2);

	/* without the reader the same batch goes through */
	w = wbegin(s);
	for (i = 0; i < 2000; i++) {
		snprintf(id, sizeof(id), "x%d", i);
		fill_marc(r, "hanoi", id, i, 0);
		assert_int_equal(put(w, r), MC_PUT_NEW);
	}
	wcommit(w);
	assert_true(mci_store_grow_count(s, 0) > 0);
	mc_store_close(s);
	mc_record_free(r);
	free(d);
	tmpdir_free(t);
}

static int put_range(struct mc_store *s, struct mc_record *r, int from, int to)
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

/* Child-side check: open read-only and look at what is committed. */
static int child_check(const char *dir, int want, int absent)
{
	struct mc_store *s;
	struct mc_reader *rd;
	struct mc_record *r;
	struct mc_error err;
	char id[32];
	int rc = 0;

	alarm(20);
	if (mc_store_open(dir, MC_STORE_RDONLY, &s, &err))
		return 10;
	if (mc_record_new(&r) || mc_reader_begin(s, &rd))
		return 11;
	for (int i = 0; i < want && !rc; i++) {
		snprintf(id, sizeof(id), "r%06d", i);
		if (mc_store_get(rd, "hanoi", id, r, &err) || r->datestamp != 1700000000 + i)
			rc = 12;
	}
	snprintf(id, sizeof(id), "r%06d", absent);
	if (!rc && mc_store_get(rd, "hanoi", id, r, &err) != MC_E_NOTFOUND)
		rc = 13;
	if (!rc && mc_store_feed_last(rd) != (uint64_t)want)
		rc = 14;
	mc_reader_end(rd);
	mc_record_free(r);
	mc_store_close(s);
	if (rc)
		return rc;
	/* a writable open does not wait for the other process's batch */
	if (mc_store_open(dir, 0, &s, &err))
		return 15;
	mc_store_close(s);
	return 0;
}

static int run_child(int (*fn)(const char *, int, int), const char *dir, int a, int b)
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

/* Another process opens the store read-only while this one is in the middle
 * of a write batch: it sees the last committed state. */
static void test_rdonly_while_writing(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_record *r = rec_new();
	struct mc_writer *w;
	struct mc_error err;
	char id[32];

	(void)state;
	assert_int_equal(mc_store_open(d, MC_STORE_CREATE, &s, &err), 0);
	put_range(s, r, 0, 100);
	w = wbegin(s);
	for (int i = 100; i < 200; i++) {
		snprintf(id, sizeof(id), "r%06d", i);
		fill_marc(r, "hanoi", id, i, 0);
		assert_int_equal(put(w, r), MC_PUT_NEW);
	}
	assert_int_equal(run_child(child_check, d, 100, 150), 0);
	wcommit(w);
	assert_int_equal(run_child(child_check, d, 200, 250), 0);
	mc_store_close(s);
	mc_record_free(r);
	free(d);
	tmpdir_free(t);
}

static long rss_file_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "RssFile:", 8))
			kb = strtol(line + 8, NULL, 10);
	fclose(f);
	return kb;
}

struct walk_check {
	int n;
	struct mc_record *want;
	struct mc_store *s;
	struct mc_writer *w;
};

static int walk_check_cb(void *ctx, struct mc_record *rec)
{
	struct walk_check *c = ctx;
	char id[32];

	snprintf(id, sizeof(id), "r%06d", c->n);
	assert_string_equal(rec->local_id, id);
	fill_marc(c->want, "hanoi", id, c->n, 0);
	assert_record_eq(c->want, rec);
	c->n++;
	return 0;
}

/* Dropping the map's page mappings (to bound RSS) while a cursor walks and
 * while a reader of the same handle stays open changes nothing visible. */
static void test_trim(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_record *r = rec_new();
	struct mc_reader *rd, *old;
	struct mc_error err;
	struct walk_check wc;
	long before, after;

	(void)state;
	assert_int_equal(mc_store_open(d, MC_STORE_CREATE, &s, &err), 0);
	put_range(s, r, 0, 5000);
	/* default threshold: a small store is never trimmed */
	assert_int_equal(mci_store_trim_count(s), 0);

	mci_store_set_trim(s, 0);
	assert_int_equal(mc_reader_begin(s, &old), 0);   /* an older snapshot stays open */
	put_range(s, r, 5000, 6000);                     /* commit trims */
	assert_int_equal(mci_store_trim_count(s), 1);

	mci_store_set_trim(s, UINT64_MAX);
	memset(&wc, 0, sizeof(wc));
	wc.want = rec_new();
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	assert_int_equal(mc_store_each(rd, "hanoi", walk_check_cb, &wc, &err), 0);
	assert_int_equal(wc.n, 6000);
	before = rss_file_kb();
	/* walk again, trimming every 1,024 records */
	mci_store_set_trim(s, 0);
	wc.n = 0;
	assert_int_equal(mc_store_each(rd, "hanoi", walk_check_cb, &wc, &err), 0);
	assert_int_equal(wc.n, 6000);
	after = rss_file_kb();
	assert_int_equal(mci_store_trim_count(s), 1 + 5);
	printf("# RssFile after a full walk: %ld kB untrimmed, %ld kB trimmed\n", before, after);
	assert_true(after < before);
	mc_reader_end(rd);

	/* the old snapshot still reads its own view */
	assert_int_equal(mc_store_get(old, "hanoi", "r004999", r, &err), 0);
	assert_int_equal(mc_store_get(old, "hanoi", "r005000", r, &err), MC_E_NOTFOUND);
	mc_reader_end(old);

	mc_record_free(wc.want);
	mc_store_close(s);
	mc_record_free(r);
	free(d);
	tmpdir_free(t);
}

/* Child: write records from..to with its own handle (the map grows). */
static int child_grow(const char *dir, int from, int to)
{
	struct mc_store *s;
	struct mc_record *r;
	struct mc_writer *w;
	struct mc_error err;
	char id[32];
	int oc;

	alarm(60);
	if (mc_store_open(dir, 0, &s, &err) || mc_record_new(&r))
		return 30;
	if (mc_writer_begin(s, &w, &err))
		return 31;
	for (int i = from; i < to; i++) {
		snprintf(id, sizeof(id), "r%06d", i);
		fill_marc(r, "hanoi", id, i, 0);
		if (mc_writer_put(w, r, &oc, &err) || oc != MC_PUT_NEW)
			return 32;
	}
	if (mc_writer_commit(w, &err))
		return 33;
	if (mci_store_grow_count(s, 0) == 0)
		return 34;
	mc_record_free(r);
	mc_store_close(s);
	return 0;
}

/* A long-lived read-only process (the API server) adopts a map that the
 * harvester process grew after it opened the store. */
static void test_map_resized_by_other_process(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s, *ro;
	struct mc_record *r = rec_new();
	struct mc_reader *rd;
	struct mc_error err;
	struct mc_store_info info;

	(void)state;
	assert_int_equal(mci_store_open_mapsize(d, MC_STORE_CREATE, 256 << 10, &s, &err), 0);
	put_range(s, r, 0, 10);
	mc_store_close(s);

	assert_int_equal(mc_store_open(d, MC_STORE_RDONLY, &ro, &err), 0);
	assert_int_equal(mc_reader_begin(ro, &rd), 0);
	assert_int_equal(mc_store_info(rd, &info), 0);
	assert_int_equal(info.map_size, 256 << 10);
	mc_reader_end(rd);

	assert_int_equal(run_child(child_grow, d, 10, 3000), 0);

	assert_int_equal(mc_reader_begin(ro, &rd), 0);
	assert_int_equal(mc_store_info(rd, &info), 0);
	assert_true(info.map_size > (256u << 10));
	assert_int_equal(info.records, 3000);
	assert_int_equal(mc_store_get(rd, "hanoi", "r002999", r, &err), 0);
	assert_int_equal(r->datestamp, 1700000000 + 2999);
	assert_int_equal(mc_store_feed_last(rd), 3000);
	mc_reader_end(rd);
	mc_store_close(ro);
	mc_record_free(r);
	free(d);
	tmpdir_free(t);
}

/* Child: commit a batch under a file size limit; must fail cleanly. */
static int child_fsize(const char *dir, int from, int to)
{
	struct mc_store *s;
	struct mc_record *r;
	struct mc_writer *w;
	struct mc_error err;
	struct stat st;
	struct rlimit rl;
	char path[512], id[32];
	int rc, oc;

	alarm(60);
	signal(SIGXFSZ, SIG_IGN);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st))
		return 20;
	if (mc_store_open(dir, 0, &s, &err) || mc_record_new(&r))
		return 21;
	rl.rlim_cur = rl.rlim_max = (rlim_t)st.st_size + (64 << 10);
	if (setrlimit(RLIMIT_FSIZE, &rl))
		return 22;
	if (mc_writer_begin(s, &w, &err))
		return 23;
	for (int i = from; i < to; i++) {
		snprintf(id, sizeof(id), "r%06d", i);
		fill_marc(r, "hanoi", id, i, 0);
		if (mc_writer_put(w, r, &oc, &err) || oc != MC_PUT_NEW)
			return 24;
	}
	mc_error_clear(&err);
	rc = mc_writer_commit(w, &err);
	if (rc != MC_E_FULL) {
		printf("# commit under RLIMIT_FSIZE returned %d: %s\n", rc, err.msg);
		fflush(stdout);
		return 25;
	}
	if (!strstr(err.msg, "commit"))
		return 26;
	printf("# failed commit reported: %s\n", err.msg);
	fflush(stdout);
	mc_record_free(r);
	mc_store_close(s);
	return 0;
}

static void test_commit_fails_fsize(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_record *r = rec_new();
	struct mc_reader *rd;
	struct mc_error err;
	struct counts_seen cs;
	struct mc_store_info info;
	char id[32];

	(void)state;
	assert_int_equal(mc_store_open(d, MC_STORE_CREATE, &s, &err), 0);
	put_range(s, r, 0, 300);
	mc_store_close(s);

	assert_int_equal(run_child(child_fsize, d, 300, 3000), 0);

	/* everything before is there; nothing of the failed batch */
	assert_int_equal(mc_store_open(d, 0, &s, &err), 0);
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "r%06d", i);
		assert_int_equal(mc_store_get(rd, "hanoi", id, r, &err), 0);
		assert_int_equal(r->datestamp, 1700000000 + i);
	}
	assert_int_equal(mc_store_get(rd, "hanoi", "r000300", r, &err), MC_E_NOTFOUND);
	assert_int_equal(mc_store_info(rd, &info), 0);
	assert_int_equal(info.records, 300);
	assert_int_equal(mc_store_feed_last(rd), 300);
	mc_reader_end(rd);
	get_counts(s, &cs);
	assert_int_equal(cs.c[0].present, 300);
	/* and the store takes the same batch now */
	put_range(s, r, 300, 3000);
	get_counts(s, &cs);
	assert_int_equal(cs.c[0].present, 3000);
	mc_store_close(s);
	mc_record_free(r);
	free(d);
	tmpdir_free(t);
}

/* ---- named key/value databases, counters, reads in a batch, threads ---- */

struct kv_seen {
	int n;
	char keys[64][64];
	char vals[64][64];
	int stop_at;   /* stop (return 7) at this pair; 0: never */
};

static int kv_collect(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct kv_seen *s = ctx;

	if (s->n < 64) {
		snprintf(s->keys[s->n], sizeof(s->keys[0]), "%.*s", (int)klen, (const char *)key);
		snprintf(s->vals[s->n], sizeof(s->vals[0]), "%.*s", (int)vlen, (const char *)val);
	}
	s->n++;
	return s->stop_at && s->n == s->stop_at ? 7 : 0;
}

static void kv_put_s(struct mc_writer *w, const char *db, const char *k, const char *v)
{
	assert_int_equal(mc_writer_kv_put(w, db, k, strlen(k), v, strlen(v)), 0);
}

static void wkv_expect(struct mc_writer *w, const char *db, const char *k, const char *want)
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

static void rkv_expect(struct mc_reader *r, const char *db, const char *k, const char *want)
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
	assert_int_equal(mc_store_get(rd, "hanoi", "r007", got, &err), MC_E_NOTFOUND);
	assert_int_equal(mc_store_state_get(rd, "merger", "feed", buf, sizeof(buf)), MC_E_NOTFOUND);
	assert_int_equal(mc_store_feed_last(rd), 0);
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

/* One batch of kv puts, deletes, clears, counters and records into a
 * 256 KiB map: it grows while the batch runs and the result equals that
 * of a store with a large map. */
static void kv_workload(struct mc_store *s, struct mc_record *r, uint64_t *seqs)
{
	struct mc_writer *w = wbegin(s);
	char k[32], v[400];
	int n = 0;

	for (int i = 0; i < 3000; i++) {
		snprintf(k, sizeof(k), "key%05d", (i * 7919) % 3000);
		memset(v, 'a' + i % 26, sizeof(v));
		snprintf(v, 20, "val%d", i);
		assert_int_equal(mc_writer_kv_put(w, i % 2 ? "mg_a" : "mg_b", k, strlen(k), v,
						  sizeof(v)), 0);
		if (i % 5 == 0)
			assert_int_equal(mc_writer_seq_next(w, "ctr", &seqs[n++]), 0);
		if (i % 7 == 0 && i) {
			snprintf(k, sizeof(k), "key%05d", ((i - 2) * 7919) % 3000);
			assert_int_equal(mc_writer_kv_del(w, i % 2 ? "mg_a" : "mg_b", k, strlen(k)), 0);
		}
		if (i == 1500)
			assert_int_equal(mc_writer_kv_clear(w, "mg_b"), 0);
		if (i % 100 == 0) {
			snprintf(k, sizeof(k), "r%05d", i);
			fill_marc(r, "hue", k, i, 0);
			assert_int_equal(put(w, r), MC_PUT_NEW);
		}
	}
	wcommit(w);
}

struct kv_dump {
	struct mc_buf b;
	size_t n;
};

static int dump_cb(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct kv_dump *d = ctx;

	d->n++;
	if (mc_buf_add(&d->b, key, klen) || mc_buf_addc(&d->b, '=') ||
	    mc_buf_add(&d->b, val, vlen) || mc_buf_addc(&d->b, '\n'))
		return 1;
	return 0;
}

static void kv_dump_db(struct mc_store *s, const char *db, struct kv_dump *d)
{
	struct mc_reader *rd;

	mc_buf_init(&d->b, 64u << 20);
	d->n = 0;
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	assert_int_equal(mc_reader_kv_each(rd, db, NULL, 0, dump_cb, d), 0);
	mc_reader_end(rd);
}

static void test_kv_growth_replay(void **state)
{
	char *t1 = tmpdir_new(), *d1 = store_path(t1), *t2 = tmpdir_new(), *d2 = store_path(t2);
	struct mc_store *tiny, *ref;
	struct mc_record *r = rec_new();
	struct mc_error err;
	uint64_t s1[700], s2[700];
	const char *dbs[] = { "mg_a", "mg_b" };

	(void)state;
	assert_int_equal(mci_store_open_mapsize(d1, MC_STORE_CREATE, 256 << 10, &tiny, &err), 0);
	assert_int_equal(mci_store_open_mapsize(d2, MC_STORE_CREATE, 1ull << 30, &ref, &err), 0);
	kv_workload(tiny, r, s1);
	kv_workload(ref, r, s2);
	printf("# kv batch into a 256 KiB map: grew %u times\n", mci_store_grow_count(tiny, 0));
	assert_true(mci_store_grow_count(tiny, 0) >= 3);
	assert_int_equal(mci_store_grow_count(ref, 0), 0);
	assert_memory_equal(s1, s2, 600 * sizeof(uint64_t));
	for (int i = 0; i < 600; i++)
		assert_int_equal(s1[i], (uint64_t)i + 1);
	for (int i = 0; i < 2; i++) {
		struct kv_dump a, b;

		kv_dump_db(tiny, dbs[i], &a);
		kv_dump_db(ref, dbs[i], &b);
		assert_true(a.n > 100);
		assert_int_equal(a.n, b.n);
		assert_int_equal(a.b.len, b.b.len);
		assert_memory_equal(a.b.data, b.b.data, a.b.len);
		mc_buf_free(&a.b);
		mc_buf_free(&b.b);
	}
	{
		struct mc_reader *rd;
		struct mc_store_info info;

		assert_int_equal(mc_reader_begin(tiny, &rd), 0);
		assert_int_equal(mc_store_info(rd, &info), 0);
		assert_int_equal(info.records, 30);
		assert_int_equal(mc_store_feed_last(rd), 30);
		mc_reader_end(rd);
	}
	mc_store_close(tiny);
	mc_store_close(ref);
	mc_record_free(r);
	free(d1);
	free(d2);
	tmpdir_free(t1);
	tmpdir_free(t2);
}

/* ---- threads ---- */

enum { TH_N = 8, TH_BATCHES = 50, TH_PER = 20 };

struct th_arg {
	struct mc_store *s;
	int idx;
	int rc;          /* 0, or where it failed */
	char msg[600];
};

static void *th_writer(void *p)
{
	struct th_arg *a = p;
	struct mc_record *r = NULL;
	struct mc_error err;
	char src[16], id[32];

	snprintf(src, sizeof(src), "src%d", a->idx);
	if (mc_record_new(&r)) {
		a->rc = 1;
		return NULL;
	}
	for (int b = 0; b < TH_BATCHES && !a->rc; b++) {
		struct mc_writer *w = NULL;
		uint64_t v;
		int oc;

		if (mc_writer_begin(a->s, &w, &err)) {
			a->rc = 2;
			snprintf(a->msg, sizeof(a->msg), "begin: %s", err.msg);
			break;
		}
		for (int i = 0; i < TH_PER && !a->rc; i++) {
			snprintf(id, sizeof(id), "b%02d-%02d", b, i);
			fill_marc(r, src, id, b * TH_PER + i, 0);
			if (mc_writer_put(w, r, &oc, &err) || oc != MC_PUT_NEW) {
				a->rc = 3;
				snprintf(a->msg, sizeof(a->msg), "put: %s", err.msg);
			}
		}
		if (!a->rc && (mc_writer_seq_next(w, "threads", &v) ||
			       mc_writer_kv_put(w, "mg_threads", src, strlen(src), id, strlen(id))))
			a->rc = 4;
		if (a->rc) {
			mc_writer_abort(w);
			break;
		}
		if (mc_writer_commit(w, &err)) {
			a->rc = 5;
			snprintf(a->msg, sizeof(a->msg), "commit: %s", err.msg);
		}
	}
	mc_record_free(r);
	return NULL;
}

struct th_reader {
	struct mc_store *s;
	int stop;
	int rc;
	unsigned long reads;
};

/* Short read transactions while the writers grow the map. */
static void *th_read(void *p)
{
	struct th_reader *a = p;

	while (!__atomic_load_n(&a->stop, __ATOMIC_SEQ_CST) && !a->rc) {
		struct mc_reader *rd;
		struct mc_store_info info;
		const void *v;
		size_t vn;
		int rc;

		if (mc_reader_begin(a->s, &rd)) {
			a->rc = 1;
			break;
		}
		if (mc_store_info(rd, &info))
			a->rc = 2;
		rc = mc_reader_kv_get(rd, "mg_threads", "src0", 4, &v, &vn);
		if (rc && rc != MC_E_NOTFOUND)
			a->rc = 3;
		mc_reader_end(rd);
		a->reads++;
	}
	return NULL;
}

/* 8 threads each commit 50 batches into their own source, with a tiny
 * map and readers running: every record present, counts right, the map
 * grew. */
static void test_threads(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_error err;
	struct th_arg args[TH_N];
	pthread_t th[TH_N], rt[2];
	struct th_reader ra[2];
	struct counts_seen cs;
	struct mc_reader *rd;
	struct mc_record *r = rec_new();
	struct mc_store_info info;
	char src[16], id[32];

	(void)state;
	assert_int_equal(mci_store_open_mapsize(d, MC_STORE_CREATE, 256 << 10, &s, &err), 0);
	for (int i = 0; i < 2; i++) {
		memset(&ra[i], 0, sizeof(ra[i]));
		ra[i].s = s;
		assert_int_equal(pthread_create(&rt[i], NULL, th_read, &ra[i]), 0);
	}
	for (int i = 0; i < TH_N; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].s = s;
		args[i].idx = i;
		assert_int_equal(pthread_create(&th[i], NULL, th_writer, &args[i]), 0);
	}
	for (int i = 0; i < TH_N; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (args[i].rc)
			fprintf(stderr, "thread %d failed (%d): %s\n", i, args[i].rc, args[i].msg);
		assert_int_equal(args[i].rc, 0);
	}
	for (int i = 0; i < 2; i++) {
		__atomic_store_n(&ra[i].stop, 1, __ATOMIC_SEQ_CST);
		assert_int_equal(pthread_join(rt[i], NULL), 0);
		assert_int_equal(ra[i].rc, 0);
	}
	printf("# %d threads x %d batches: map grew %u times; readers did %lu + %lu snapshots\n",
	       TH_N, TH_BATCHES, mci_store_grow_count(s, 0), ra[0].reads, ra[1].reads);
	assert_true(mci_store_grow_count(s, 0) >= 3);

	get_counts(s, &cs);
	assert_int_equal(cs.n, TH_N);
	for (int i = 0; i < TH_N; i++) {
		snprintf(src, sizeof(src), "src%d", i);
		assert_string_equal(cs.c[i].source, src);
		assert_int_equal(cs.c[i].present, TH_BATCHES * TH_PER);
		assert_int_equal(cs.c[i].deleted, 0);
	}
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	assert_int_equal(mc_store_info(rd, &info), 0);
	assert_int_equal(info.records, TH_N * TH_BATCHES * TH_PER);
	assert_int_equal(mc_store_feed_last(rd), TH_N * TH_BATCHES * TH_PER);
	for (int i = 0; i < TH_N; i++) {
		snprintf(src, sizeof(src), "src%d", i);
		for (int b = 0; b < TH_BATCHES; b++)
			for (int j = 0; j < TH_PER; j++) {
				snprintf(id, sizeof(id), "b%02d-%02d", b, j);
				assert_int_equal(mc_store_get(rd, src, id, r, &err), 0);
				assert_int_equal(r->datestamp, 1700000000 + b * TH_PER + j);
			}
		rkv_expect(rd, "mg_threads", src, "b49-19");
	}
	mc_reader_end(rd);
	{
		struct mc_writer *w = wbegin(s);
		uint64_t v;

		assert_int_equal(mc_writer_seq_next(w, "threads", &v), 0);
		assert_int_equal(v, TH_N * TH_BATCHES + 1);
		mc_writer_abort(w);
	}
	mc_store_close(s);
	mc_record_free(r);
	free(d);
	tmpdir_free(t);
}

struct hold_arg {
	struct mc_store *s;
	int ms;
	int started;
	int ending;   /* set just before the reader ends */
	int rc;
};

static void *th_hold_reader(void *p)
{
	struct hold_arg *a = p;
	struct mc_reader *rd;
	struct timespec ts = { a->ms / 1000, (long)(a->ms % 1000) * 1000000L };

	a->rc = mc_reader_begin(a->s, &rd);
	__atomic_store_n(&a->started, 1, __ATOMIC_SEQ_CST);
	if (a->rc)
		return NULL;
	nanosleep(&ts, NULL);
	__atomic_store_n(&a->ending, 1, __ATOMIC_SEQ_CST);
	mc_reader_end(rd);
	return NULL;
}

/* Fill a batch until the 256 KiB map must grow; return the batch's rc. */
static int fill_until_growth(struct mc_store *s, struct mc_record *r, const char *prefix,
			     struct mc_error *err)
{
	struct mc_writer *w = wbegin(s);
	char id[32];
	int rc = 0, oc;

	for (int i = 0; i < 600 && rc == 0; i++) {
		snprintf(id, sizeof(id), "%s%d", prefix, i);
		fill_marc(r, "hanoi", id, i, 0);
		mc_error_clear(err);
		rc = mc_writer_put(w, r, &oc, err);
	}
	if (rc == 0)
		return mc_writer_commit(w, err);
	mc_writer_abort(w);
	return rc;
}

/* A growth waits for a read transaction of another thread to end; one
 * held longer than the wait fails the batch with MC_E_FULL. */
static void test_growth_waits_for_readers(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_record *r = rec_new();
	struct mc_error err;
	struct hold_arg ha;
	pthread_t th;
	int rc, ended;

	(void)state;
	assert_int_equal(mci_store_open_mapsize(d, MC_STORE_CREATE, 256 << 10, &s, &err), 0);

	memset(&ha, 0, sizeof(ha));
	ha.s = s;
	ha.ms = 400;
	assert_int_equal(pthread_create(&th, NULL, th_hold_reader, &ha), 0);
	while (!__atomic_load_n(&ha.started, __ATOMIC_SEQ_CST))
		usleep(1000);
	rc = fill_until_growth(s, r, "a", &err);
	/* the growth could only run once the reader was ending */
	ended = __atomic_load_n(&ha.ending, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(ha.rc, 0);
	if (rc)
		fprintf(stderr, "batch: %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_true(mci_store_grow_count(s, 0) >= 1);
	assert_true(ended);

	/* a reader held past the wait */
	mci_store_set_grow_wait(s, 100);
	memset(&ha, 0, sizeof(ha));
	ha.s = s;
	ha.ms = 1500;
	assert_int_equal(pthread_create(&th, NULL, th_hold_reader, &ha), 0);
	while (!__atomic_load_n(&ha.started, __ATOMIC_SEQ_CST))
		usleep(1000);
	rc = fill_until_growth(s, r, "b", &err);
	assert_int_equal(rc, MC_E_FULL);
	assert_non_null(strstr(err.msg, "read transaction"));
	assert_int_equal(pthread_join(th, NULL), 0);
	/* and once it ended the same batch goes through */
	assert_int_equal(fill_until_growth(s, r, "b", &err), 0);

	mc_store_close(s);
	mc_record_free(r);
	free(d);
	tmpdir_free(t);
}

struct wait_arg {
	struct mc_store *s;
	int started, rc, saw;
	int committing;   /* set by the first batch just before its commit */
	int after;        /* the second batch began after that */
};

static void *th_second_writer(void *p)
{
	struct wait_arg *a = p;
	struct mc_writer *w;
	struct mc_record *r = NULL;
	struct mc_error err;

	__atomic_store_n(&a->started, 1, __ATOMIC_SEQ_CST);
	a->rc = mc_writer_begin(a->s, &w, &err);
	a->after = __atomic_load_n(&a->committing, __ATOMIC_SEQ_CST);
	if (a->rc)
		return NULL;
	if (mc_record_new(&r) == 0) {
		a->saw = mc_writer_get(w, "hanoi", "first", r, &err) == 0;
		mc_record_free(r);
	}
	a->rc = mc_writer_commit(w, &err);
	return NULL;
}

/* A batch begun in another thread waits for the open one to end (the
 * process-wide write lock), then sees what it committed; the thread that
 * holds a batch cannot begin a second one. */
static void test_second_writer_waits(void **state)
{
	struct fixture *fx = *state;
	struct mc_writer *w, *w2 = NULL;
	struct mc_error err;
	struct wait_arg wa;
	pthread_t th;

	w = wbegin(fx->s);
	fill_marc(fx->r, "hanoi", "first", 1, 0);
	assert_int_equal(put(w, fx->r), MC_PUT_NEW);
	assert_int_equal(mc_writer_begin(fx->s, &w2, &err), MC_E_USAGE);
	assert_null(w2);
	memset(&wa, 0, sizeof(wa));
	wa.s = fx->s;
	assert_int_equal(pthread_create(&th, NULL, th_second_writer, &wa), 0);
	while (!__atomic_load_n(&wa.started, __ATOMIC_SEQ_CST))
		usleep(1000);
	usleep(100000);   /* give it the chance to get in the way */
	__atomic_store_n(&wa.committing, 1, __ATOMIC_SEQ_CST);
	wcommit(w);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(wa.rc, 0);
	assert_true(wa.after);
	assert_true(wa.saw);
	/* and after both, this thread can begin again */
	w = wbegin(fx->s);
	mc_writer_abort(w);
}

/* Child: create a kv database (another process) and put a pair. */
static int child_kv(const char *dir, int a, int b)
{
	struct mc_store *s;
	struct mc_writer *w;
	struct mc_error err;

	(void)a;
	(void)b;
	alarm(20);
	if (mc_store_open(dir, 0, &s, &err) || mc_writer_begin(s, &w, &err))
		return 30;
	if (mc_writer_kv_put(w, "mg_child", "k", 1, "from child", 10))
		return 31;
	if (mc_writer_commit(w, &err))
		return 32;
	mc_store_close(s);
	return 0;
}

/* A database created by another process after this one opened the store
 * is seen by readers and writers begun afterwards. */
static void test_kv_other_process(void **state)
{
	struct fixture *fx = *state;
	struct mc_writer *w;
	struct mc_reader *rd, *old;

	w = wbegin(fx->s);
	kv_put_s(w, "mg_parent", "k", "from parent");
	wcommit(w);
	assert_int_equal(mc_reader_begin(fx->s, &old), 0);
	assert_int_equal(run_child(child_kv, fx->dir, 0, 0), 0);
	rkv_expect(old, "mg_child", "k", NULL);
	assert_int_equal(mc_reader_begin(fx->s, &rd), 0);
	rkv_expect(rd, "mg_child", "k", "from child");
	rkv_expect(rd, "mg_parent", "k", "from parent");
	rkv_expect(old, "mg_child", "k", NULL);   /* still not in the old snapshot */
	mc_reader_end(rd);
	mc_reader_end(old);
	w = wbegin(fx->s);
	wkv_expect(w, "mg_child", "k", "from child");
	kv_put_s(w, "mg_child", "k2", "parent again");
	wcommit(w);
	assert_int_equal(mc_reader_begin(fx->s, &rd), 0);
	rkv_expect(rd, "mg_child", "k2", "parent again");
	mc_reader_end(rd);
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
		cmocka_unit_test(test_map_growth),
		cmocka_unit_test(test_map_full_at_commit),
		cmocka_unit_test(test_map_full_with_reader),
		cmocka_unit_test(test_rdonly_while_writing),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_map_resized_by_other_process),
		cmocka_unit_test(test_commit_fails_fsize),
		cmocka_unit_test_setup_teardown(test_kv_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kv_refusals, setup, teardown),
		cmocka_unit_test(test_writer_reads),
		cmocka_unit_test(test_kv_growth_replay),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_growth_waits_for_readers),
		cmocka_unit_test_setup_teardown(test_kv_other_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_writer_waits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
