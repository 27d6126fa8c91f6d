/* test-merger.c — the merger: rules, keys, clustering, union records,
 * overrides, rebuild; on the in-memory table and on a real LMDB store. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core.h"
#include "merger-internal.h"
#include "mg.h"

struct spec {
	const char *src, *id, *title;
	int year;
	const char *isbn, *n1, *n2, *pub, *extent, *edition;
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
	r->f.title = s->title ? mc_arena_strdup(a, s->title) : NULL;
	r->f.year = s->year;
	r->f.material = "book";
	r->f.publisher = s->pub ? mc_arena_strdup(a, s->pub) : NULL;
	r->f.extent = s->extent ? mc_arena_strdup(a, s->extent) : NULL;
	r->f.edition = s->edition ? mc_arena_strdup(a, s->edition) : NULL;
	if (s->isbn)
		assert_int_equal(mc_tvv_add(r, &r->f.ids, "isbn", s->isbn, strlen(s->isbn)), 0);
	if (s->n1) {
		r->f.names = mc_arena_zalloc(a, 2 * sizeof(*r->f.names));
		r->f.names_cap = 2;
		r->f.names[r->f.nnames].name = mc_arena_strdup(a, s->n1);
		r->f.names[r->f.nnames++].kind = MC_NAME_PERSONAL;
		if (s->n2) {
			r->f.names[r->f.nnames].name = mc_arena_strdup(a, s->n2);
			r->f.names[r->f.nnames++].kind = MC_NAME_PERSONAL;
		}
	}
	return r;
}

static void apply(struct mg_merger *m, const struct spec *s)
{
	struct mc_record *r = mk(s);
	struct mc_error e;

	mc_error_clear(&e);
	assert_int_equal(mg_merger_apply(m, r, &e), 0);
	mc_record_free(r);
}

static void delete(struct mg_merger *m, const char *src, const char *id)
{
	struct mc_record *r;

	assert_int_equal(mc_record_new(&r), 0);
	r->source = src;
	r->local_id = id;
	r->status = MC_REC_DELETED;
	assert_int_equal(mg_merger_apply(m, r, NULL), 0);
	mc_record_free(r);
}

static uint64_t uid(struct mg_merger *m, const char *ref)
{
	uint64_t u = 0;

	assert_int_equal(mg_member_union(m, ref, &u), 0);
	return u;
}

struct view_copy {
	uint64_t id;
	int tomb;
	uint64_t survivor;
	int64_t datestamp;
	char members[512];
};

struct views {
	struct view_copy v[64];
	size_t n;
};

static int grab(void *ctx, const struct mg_union_view *u)
{
	struct views *x = ctx;
	struct view_copy *c;
	size_t i;

	if (x->n >= 64)
		return 1;
	c = &x->v[x->n++];
	c->id = u->id;
	c->tomb = u->tombstone;
	c->survivor = u->survivor;
	c->datestamp = u->datestamp;
	c->members[0] = '\0';
	for (i = 0; i < u->nmembers; i++) {
		strncat(c->members, u->members[i], sizeof(c->members) - strlen(c->members) - 2);
		strcat(c->members, " ");
	}
	return 0;
}

static const struct view_copy *view(struct mg_merger *m, struct views *vs, uint64_t id)
{
	size_t i;

	vs->n = 0;
	assert_int_equal(mg_union_each(m, grab, vs), 0);
	for (i = 0; i < vs->n; i++)
		if (vs->v[i].id == id)
			return &vs->v[i];
	fail_msg("union %llu not found", (unsigned long long)id);
	return NULL;
}

/* the partition: sorted lines "members" of the live unions */
static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void partition(struct mg_merger *m, char *out, size_t outsz)
{
	struct views vs;
	char *lines[64];
	size_t i, n = 0;

	vs.n = 0;
	assert_int_equal(mg_union_each(m, grab, &vs), 0);
	for (i = 0; i < vs.n; i++)
		if (!vs.v[i].tomb)
			lines[n++] = vs.v[i].members;
	qsort(lines, n, sizeof(*lines), cmp_line);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		strncat(out, lines[i], outsz - strlen(out) - 2);
		strcat(out, "|");
	}
}

/* live unions as "id=members|" in id order: the partition with its ids */
static void partition_ids(struct mg_merger *m, char *out, size_t outsz)
{
	struct views vs;
	char line[600];
	size_t i;

	vs.n = 0;
	assert_int_equal(mg_union_each(m, grab, &vs), 0);
	out[0] = '\0';
	for (i = 0; i < vs.n; i++)
		if (!vs.v[i].tomb) {
			snprintf(line, sizeof(line), "%llu=%s|", (unsigned long long)vs.v[i].id,
				 vs.v[i].members);
			strncat(out, line, outsz - strlen(out) - 1);
		}
}

static uint64_t feed_count(struct mg_merger *m)
{
	struct views dummy;

	(void)dummy;
	return mg_merger_stats(m)->unions_changed;
}

/* ---- rules ---- */

static void test_edition_extent(void **state)
{
	(void)state;
	assert_int_equal(mg_edition_number("Tái bản lần thứ 2"), 3);
	assert_int_equal(mg_edition_number("Tái bản lần thứ 1, có sửa chữa, bổ sung"), 2);
	assert_int_equal(mg_edition_number("In lần 2"), 2);
	assert_int_equal(mg_edition_number("2nd ed."), 2);
	assert_int_equal(mg_edition_number("Third edition"), 3);
	assert_int_equal(mg_edition_number("Xuất bản lần thứ 4"), 4);
	assert_int_equal(mg_edition_number("Bản đặc biệt"), 0);
	assert_int_equal(mg_edition_number(NULL), 0);
	assert_int_equal(mg_extent_pages("215 tr. ; 21 cm"), 215);
	assert_int_equal(mg_extent_pages("xii, 340 p. : ill."), 340);
	assert_int_equal(mg_extent_pages("1 v. (unpaged)"), 0);
	assert_int_equal(mg_edit_distance("abc", 3, "abd", 3, 2), 1);
	assert_int_equal(mg_edit_distance("abcdef", 6, "a", 1, 2), 3);
}

static int verify_specs(const struct spec *a, const struct spec *b, const char **why)
{
	struct mc_record *ra = mk(a), *rb = mk(b);
	struct mc_arena *ar;
	struct mg_mem ma, mb;
	int ok;

	assert_int_equal(mc_arena_new(0, &ar), 0);
	assert_int_equal(mg_mem_from_record(ra, ar, &ma), 0);
	assert_int_equal(mg_mem_from_record(rb, ar, &mb), 0);
	ok = mg_verify(&ma, &mb, why);
	if (getenv("MG_DEBUG"))
		fprintf(stderr, "verify %s / %s: %d %s\n", ma.ftitle, mb.ftitle, ok, *why);
	/* symmetric, so that the result does not depend on arrival order */
	assert_int_equal(ok, mg_verify(&mb, &ma, NULL));
	mc_arena_free(ar);
	mc_record_free(ra);
	mc_record_free(rb);
	return ok;
}

static void test_verify(void **state)
{
	const char *why;
	struct spec a = { "l1", "1", "Nhà giả kim : tiểu thuyết", 2015, "9786041234567",
			  "Paulo Coelho", NULL, "Nxb. Hội Nhà văn", "227 tr. ; 21 cm", NULL };
	struct spec b = a;

	(void)state;
	b.src = "l2";
	/* subtitle dropped, ALL CAPS, no diacritics, publisher written otherwise */
	b.title = "NHA GIA KIM";
	b.pub = "Hội Nhà văn";
	b.extent = "228 tr.";
	assert_true(verify_specs(&a, &b, &why));
	/* a shared ISBN does not merge two years (reprints reuse ISBNs) */
	b.year = 2018;
	assert_false(verify_specs(&a, &b, &why));
	assert_string_equal(why, "years differ");
	b.year = 2015;
	/* conflicting ISBNs */
	b.isbn = "9786041234574";
	assert_false(verify_specs(&a, &b, &why));
	assert_string_equal(why, "conflicting ISBNs");
	/* no ISBN: title + names + year; a typo is tolerated */
	b.isbn = NULL;
	b.title = "Nhà già kimm : tiểu thuyết";
	assert_true(verify_specs(&a, &b, &why));
	/* ... but not another name */
	b.n1 = "Nguyễn Nhật Ánh";
	assert_false(verify_specs(&a, &b, &why));
	b.n1 = "Paulo Coelho";
	/* editions differ */
	b.edition = "Tái bản lần thứ 2";
	a.edition = "In lần 2";
	assert_false(verify_specs(&a, &b, &why));
	assert_string_equal(why, "editions differ");
	a.edition = NULL;
	b.edition = NULL;
	/* page counts far apart */
	b.extent = "400 tr.";
	assert_false(verify_specs(&a, &b, &why));
	b.extent = NULL;
	/* a number in the title is never a typo */
	a.title = "Toán 10";
	b.title = "Toán 11";
	a.isbn = NULL;
	assert_false(verify_specs(&a, &b, &why));
}

/* ---- clustering ---- */

static const struct spec A1 = { "l1", "a1", "Dế mèn phiêu lưu ký", 2010, "9786042000000",
				"Tô Hoài", NULL, "Kim Đồng", "144 tr.", NULL };
static const struct spec C3 = { "l3", "c3", "De men phieu luu ky", 2010, NULL, "Tô Hoài Nguyễn Sen",
				NULL, "NXB Kim Đồng", "145 tr.", NULL };
static const struct spec B2 = { "l2", "b2", "Dế Mèn phiêu lưu ký : truyện", 2010, "9786042000000",
				"Tô Hoài", "Tô Hoài Nguyễn Sen", "Kim Đồng", "144 tr.", NULL };

static void test_bridge_split_delete(void **state)
{
	struct mg_merger *m;
	struct views vs;
	struct spec b;
	uint64_t ua, uc, before;
	const struct view_copy *v;
	int64_t ds;

	(void)state;
	assert_int_equal(mg_merger_new_memory(&m), 0);
	mg_merger_set_time(m, 1000);
	apply(m, &A1);
	mg_merger_set_time(m, 1001);
	apply(m, &C3);
	ua = uid(m, "l1:a1");
	uc = uid(m, "l3:c3");
	/* no identifier and no name in common: two unions */
	assert_int_not_equal(ua, uc);

	/* a bridging record joins both: the older id survives */
	mg_merger_set_time(m, 1002);
	apply(m, &B2);
	assert_int_equal(uid(m, "l2:b2"), ua);
	assert_int_equal(uid(m, "l3:c3"), ua);
	v = view(m, &vs, uc);
	assert_true(v->tomb);
	assert_int_equal(v->survivor, ua);
	v = view(m, &vs, ua);
	assert_false(v->tomb);
	assert_string_equal(v->members, "l1:a1 l2:b2 l3:c3 ");
	assert_int_equal(v->datestamp, 1002);

	/* unchanged re-import (new datestamp only): no bump, no feed entry */
	before = feed_count(m);
	mg_merger_set_time(m, 1003);
	{
		struct mc_record *r = mk(&A1);

		r->datestamp = 1800000000;
		assert_int_equal(mg_merger_apply(m, r, NULL), 0);
		mc_record_free(r);
	}
	assert_int_equal(feed_count(m), before);
	assert_int_equal(view(m, &vs, ua)->datestamp, 1002);

	/* the bridge changes (loses the second name): c3 splits off */
	b = B2;
	b.n2 = NULL;
	mg_merger_set_time(m, 1004);
	apply(m, &b);
	assert_int_equal(uid(m, "l1:a1"), ua);
	assert_int_equal(uid(m, "l2:b2"), ua);
	uc = uid(m, "l3:c3");
	assert_int_not_equal(uc, ua);
	v = view(m, &vs, ua);
	assert_string_equal(v->members, "l1:a1 l2:b2 ");
	assert_int_equal(v->datestamp, 1004);
	assert_string_equal(view(m, &vs, uc)->members, "l3:c3 ");

	/* deleting the last member dissolves the union: a tombstone */
	mg_merger_set_time(m, 1005);
	delete(m, "l3", "c3");
	v = view(m, &vs, uc);
	assert_true(v->tomb);
	assert_int_equal(v->survivor, 0);
	assert_int_equal(v->datestamp, 1005);
	assert_int_equal(mg_member_union(m, "l3:c3", &ua), MC_E_NOTFOUND);
	ds = view(m, &vs, uid(m, "l1:a1"))->datestamp;
	assert_int_equal(ds, 1004);
	mg_merger_free(m);
}

static void test_source_rule(void **state)
{
	struct mg_merger *m;
	struct spec x = A1;

	(void)state;
	assert_int_equal(mg_merger_new_memory(&m), 0);
	apply(m, &A1);
	/* the same library holds the same edition twice: kept, reported */
	x.id = "a1-copy";
	apply(m, &x);
	assert_int_equal(uid(m, "l1:a1"), uid(m, "l1:a1-copy"));
	assert_int_equal(mg_merger_stats(m)->source_dups, 1);
	mg_merger_free(m);
}


/* ---- the in-memory key index and the quick checks of a bulk run ---- */

static int collect_ref(void *ctx, const char *ref)
{
	char *out = ctx;

	strcat(out, ref);
	strcat(out, " ");
	return 0;
}

struct sorted_check {
	uint64_t h;
	char ref[64];
	size_t n;
};

static int check_sorted(void *ctx, uint64_t h, const char *ref)
{
	struct sorted_check *c = ctx;

	if (c->n)
		assert_true(h > c->h || (h == c->h && strcmp(ref, c->ref) > 0));
	c->h = h;
	snprintf(c->ref, sizeof(c->ref), "%s", ref);
	c->n++;
	return 0;
}

static void test_kidx(void **state)
{
	struct mg_kidx *x;
	struct mg_quick q, g;
	struct sorted_check sc;
	char out[1024], ref[32];
	size_t i;

	(void)state;
	assert_int_equal(mg_kidx_new(&x), 0);
	out[0] = 0;
	assert_int_equal(mg_kidx_each(x, 42, collect_ref, out), 0);   /* empty */
	assert_string_equal(out, "");
	assert_int_equal(mg_kidx_add(x, 42, "l1:a"), 0);
	assert_int_equal(mg_kidx_add(x, 42, "l2:b"), 0);
	assert_int_equal(mg_kidx_add(x, 42, "l1:a"), 0);               /* listed already */
	assert_int_equal(mg_kidx_add(x, 7, "l1:a"), 0);
	assert_int_equal(mg_kidx_count(x), 3);
	assert_int_equal(mg_kidx_each(x, 42, collect_ref, out), 0);
	assert_true(!strcmp(out, "l1:a l2:b ") || !strcmp(out, "l2:b l1:a "));
	assert_int_equal(mg_kidx_del(x, 42, "l1:a"), 0);
	assert_int_equal(mg_kidx_del(x, 42, "l9:none"), 0);            /* absent: no-op */
	out[0] = 0;
	assert_int_equal(mg_kidx_each(x, 42, collect_ref, out), 0);
	assert_string_equal(out, "l2:b ");
	assert_int_equal(mg_kidx_count(x), 2);
	/* quick data per ref */
	assert_int_equal(mg_kidx_quick_get(x, "l2:b", &g), MC_E_NOTFOUND);
	memset(&q, 0, sizeof(q));
	q.year = 2015;
	q.pages = 215;
	assert_int_equal(mg_kidx_quick_set(x, "l2:b", &q), 0);
	assert_int_equal(mg_kidx_quick_get(x, "l2:b", &g), 0);
	assert_int_equal(g.year, 2015);
	assert_int_equal(g.pages, 215);
	/* growth past many doublings; deletes leave the rest findable */
	for (i = 0; i < 100000; i++) {
		snprintf(ref, sizeof(ref), "s%zu:%zu", i % 7, i);
		assert_int_equal(mg_kidx_add(x, i % 5000, ref), 0);
	}
	for (i = 0; i < 100000; i += 2) {
		snprintf(ref, sizeof(ref), "s%zu:%zu", i % 7, i);
		assert_int_equal(mg_kidx_del(x, i % 5000, ref), 0);
	}
	assert_int_equal(mg_kidx_count(x), 2 + 50000);
	out[0] = 0;
	assert_int_equal(mg_kidx_each(x, 4999, collect_ref, out), 0);
	/* hash 4999: i = 4999 + 5000 k, all odd, all kept; hash 0: all even, gone */
	assert_non_null(strstr(out, "s1:4999 "));
	assert_non_null(strstr(out, "s3:9999 "));
	{
		size_t sp = 0;
		char *p;

		for (p = out; *p; p++)
			sp += *p == ' ';
		assert_int_equal(sp, 20);
	}
	out[0] = 0;
	assert_int_equal(mg_kidx_each(x, 0, collect_ref, out), 0);
	assert_string_equal(out, "");
	assert_int_equal(mg_kidx_quick_get(x, "l2:b", &g), 0);
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(mg_kidx_sorted(x, check_sorted, &sc), 0);
	assert_int_equal(sc.n, 2 + 50000);
	mg_kidx_free(x);
}

/* The quick checks never reject a pair that mg_verify accepts, over every
 * combination of the fields they look at (title, names and publisher kept
 * equal, so mg_verify's decision rests on those fields). */
static void test_quick_sound(void **state)
{
	static const int years[] = { 0, 2015, 2016, 70000, 70001 };
	static const int pages[] = { 0, 100, 103, 105, 200, 2000000000 };
	static const int eds[] = { 0, 1, 2, 300 };
	static const char *mats[] = { NULL, "book", "serial", "other" };
	static const char *isbns[][2] = { { NULL, NULL }, { "9786042000000", NULL },
					  { "9786040000019", NULL },
					  { "9786042000000", "9786040000019" } };
	static const char *names[] = { "to hoai" };
	struct mg_mem v[5 * 6 * 4 * 4 * 4];
	struct mg_tv ids[4][2];
	size_t n = 0, i, j, rejects = 0, accepts = 0;

	(void)state;
	for (i = 0; i < 4; i++) {
		ids[i][0].type = ids[i][1].type = "isbn";
		ids[i][0].value = isbns[i][0];
		ids[i][1].value = isbns[i][1];
	}
	for (size_t a = 0; a < 5; a++)
		for (size_t b = 0; b < 6; b++)
			for (size_t c = 0; c < 4; c++)
				for (size_t d = 0; d < 4; d++)
					for (size_t e = 0; e < 4; e++) {
						struct mg_mem *m = &v[n++];

						memset(m, 0, sizeof(*m));
						m->ref = "x:1";
						m->year = years[a];
						m->pages = pages[b];
						m->edition = eds[c];
						m->material = mats[d];
						m->ids = ids[e];
						m->nids = isbns[e][0] ? (isbns[e][1] ? 2 : 1) : 0;
						m->title = m->ftitle = m->fmain = "de men phieu luu ky";
						m->fpub = "kim dong";
						m->names = m->fnames = names;
						m->nnames = 1;
					}
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			struct mg_quick qa, qb;
			int ok = mg_verify(&v[i], &v[j], NULL);

			mg_quick_from_mem(&v[i], &qa);
			mg_quick_from_mem(&v[j], &qb);
			if (mg_quick_reject(&qa, &qb)) {
				assert_false(ok);
				rejects++;
			}
			accepts += ok;
		}
	/* and they do reject most of what mg_verify rejects here */
	assert_true(accepts > 0);
	assert_true(rejects > (n * n - accepts) * 9 / 10);
}

static const struct spec SET[] = {
	{ "l1", "a1", "Dế mèn phiêu lưu ký", 2010, "9786042000000", "Tô Hoài", NULL, "Kim Đồng", "144 tr.", NULL },
	{ "l2", "b2", "Dế Mèn phiêu lưu ký : truyện", 2010, "9786042000000", "Tô Hoài", NULL, "Kim Đồng", "144 tr.", NULL },
	{ "l3", "c3", "DE MEN PHIEU LUU KY", 2010, NULL, "To Hoai", NULL, "NXB Kim Đồng", "145 tr.", NULL },
	{ "l1", "a2", "Dế mèn phiêu lưu ký", 2015, "9786042000017", "Tô Hoài", NULL, "Kim Đồng", "150 tr.", "Tái bản lần thứ 1" },
	{ "l2", "b3", "Dế mèn phiêu lưu ký", 2015, NULL, "Tô Hoài", NULL, "Kim Đồng", "150 tr.", "Tái bản lần thứ 1" },
	{ "l1", "a3", "Số đỏ", 1936, NULL, "Vũ Trọng Phụng", NULL, "Hà Nội báo", NULL, NULL },
	{ "l4", "d1", "Số đỏ : tiểu thuyết", 1936, NULL, "Vũ Trọng Phụng", NULL, NULL, NULL, NULL },
	{ "l4", "d2", "Toán 10", 2020, "9786040000019", NULL, NULL, "Giáo dục", "200 tr.", NULL },
	{ "l3", "c4", "Toán 11", 2020, "9786040000026", NULL, NULL, "Giáo dục", "200 tr.", NULL },
};

static void test_overrides_rebuild(void **state)
{
	struct mg_merger *m;
	char inc[4096], reb[4096];
	size_t i;

	(void)state;
	assert_int_equal(mg_merger_new_memory(&m), 0);
	for (i = 0; i < sizeof(SET) / sizeof(SET[0]); i++)
		apply(m, &SET[i]);
	partition(m, inc, sizeof(inc));
	assert_string_equal(inc, "l1:a1 l2:b2 l3:c3 |l1:a2 l2:b3 |l1:a3 l4:d1 |l3:c4 |l4:d2 |");

	/* librarians: never a3/d1, split c3 out, join c4 with d2 */
	assert_int_equal(mg_override_set(m, MG_NEVER, "l1:a3", "l4:d1"), 0);
	assert_int_equal(mg_merger_replace(m, "l1:a3"), 0);
	assert_int_equal(mg_override_set(m, MG_SPLIT, "l3:c3", NULL), 0);
	assert_int_equal(mg_merger_replace(m, "l3:c3"), 0);
	assert_int_equal(mg_override_set(m, MG_JOIN, "l3:c4", "l4:d2"), 0);
	assert_int_equal(mg_merger_replace(m, "l3:c4"), 0);
	assert_int_equal(mg_override_set(m, MG_JOIN, "l3:c4", "l3:c4"), MC_E_USAGE);
	partition(m, inc, sizeof(inc));
	assert_string_equal(inc, "l1:a1 l2:b2 |l1:a2 l2:b3 |l1:a3 |l3:c3 |l3:c4 l4:d2 |l4:d1 |");

	/* rebuild: apply again, in another order: same partition, same ids */
	partition_ids(m, inc, sizeof(inc));
	assert_int_equal(mg_rebuild_begin(m), 0);
	for (i = sizeof(SET) / sizeof(SET[0]); i-- > 0;)
		apply(m, &SET[i]);
	assert_int_equal(mg_rebuild_finish(m), 0);
	partition_ids(m, reb, sizeof(reb));
	assert_string_equal(reb, inc);
	mg_merger_free(m);
}

static void test_rebuild_after_changes(void **state)
{
	struct mg_merger *m;
	char inc[4096], reb[4096];
	struct spec x;
	size_t i;

	(void)state;
	assert_int_equal(mg_merger_new_memory(&m), 0);
	for (i = 0; i < sizeof(SET) / sizeof(SET[0]); i++)
		apply(m, &SET[i]);
	/* history: b2 loses its ISBN and changes title; d1 deleted and back */
	x = SET[1];
	x.isbn = NULL;
	x.title = "Hà Nội 36 phố phường";
	apply(m, &x);
	delete(m, "l4", "d1");
	apply(m, &SET[6]);
	partition_ids(m, inc, sizeof(inc));
	assert_non_null(strstr(inc, "=l2:b2 |"));
	assert_int_equal(mg_rebuild_begin(m), 0);
	for (i = 0; i < sizeof(SET) / sizeof(SET[0]); i++)
		apply(m, i == 1 ? &x : &SET[i]);
	assert_int_equal(mg_rebuild_finish(m), 0);
	partition_ids(m, reb, sizeof(reb));
	assert_string_equal(reb, inc);

	/* a record gone from the store is not applied by the rebuild: its
	 * member goes, and a union it held alone becomes a tombstone */
	{
		struct views vs;
		uint64_t b2, none;

		assert_int_equal(mg_member_union(m, "l2:b2", &b2), 0);
		assert_int_equal(mg_rebuild_begin(m), 0);
		for (i = 0; i < sizeof(SET) / sizeof(SET[0]); i++)
			if (i != 1)
				apply(m, &SET[i]);
		assert_int_equal(mg_rebuild_finish(m), 0);
		assert_int_equal(mg_member_union(m, "l2:b2", &none), MC_E_NOTFOUND);
		assert_true(view(m, &vs, b2)->tomb);
		partition_ids(m, reb, sizeof(reb));
		assert_null(strstr(reb, "l2:b2"));
	}
	mg_merger_free(m);
}

static void test_json_export(void **state)
{
	struct mg_merger *m;
	struct mc_buf out;
	uint64_t u;

	(void)state;
	assert_int_equal(mg_merger_new_memory(&m), 0);
	apply(m, &SET[0]);
	apply(m, &SET[2]);
	apply(m, &SET[1]);
	u = uid(m, "l1:a1");
	mc_buf_init(&out, 1 << 20);
	assert_int_equal(mg_union_json(m, u, NULL, NULL, NULL, &out), 0);
	/* the base is the most complete member with diacritics, not the ALL CAPS one */
	assert_non_null(strstr(out.data, "\"title\":\"Dế mèn phiêu lưu ký\""));
	assert_non_null(strstr(out.data, "\"members\":[\"l1:a1\",\"l2:b2\",\"l3:c3\"]"));
	assert_non_null(strstr(out.data, "\"isbn\":[\"9786042000000\"]"));
	assert_non_null(strstr(out.data, "\"library\":\"l3\""));
	mc_buf_reset(&out);
	assert_int_equal(mg_union_marcxml(m, u, &out), 0);
	assert_non_null(strstr(out.data, "<controlfield tag=\"001\">"));
	assert_non_null(strstr(out.data, "tag=\"852\""));
	mc_buf_reset(&out);
	assert_int_equal(mg_explain(m, "l3:c3", &out), 0);
	assert_non_null(strstr(out.data, "link l2:b2 ~ l3:c3"));
	mc_buf_free(&out);
	mg_merger_free(m);
}

/* ---- on a real LMDB store, through the change feed ---- */

static void put_specs(struct mc_store *st, const struct spec *v, size_t n)
{
	struct mc_writer *w;
	struct mc_error e;
	size_t i;

	assert_int_equal(mc_writer_begin(st, &w, &e), 0);
	for (i = 0; i < n; i++) {
		struct mc_record *r = mk(&v[i]);

		assert_int_equal(mc_writer_put(w, r, NULL, &e), 0);
		mc_record_free(r);
	}
	assert_int_equal(mc_writer_commit(w, &e), 0);
}

static void store_partition(struct mc_store *st, char *out, size_t outsz)
{
	struct mc_reader *r;
	struct mg_merger *m;

	assert_int_equal(mc_reader_begin(st, &r), 0);
	assert_int_equal(mg_merger_new_reader(r, &m), 0);
	partition(m, out, outsz);
	mg_merger_free(m);
	mc_reader_end(r);
}

static void store_partition_ids(struct mc_store *st, char *out, size_t outsz)
{
	struct mc_reader *r;
	struct mg_merger *m;

	assert_int_equal(mc_reader_begin(st, &r), 0);
	assert_int_equal(mg_merger_new_reader(r, &m), 0);
	partition_ids(m, out, outsz);
	mg_merger_free(m);
	mc_reader_end(r);
}

static void test_store(void **state)
{
	char dir[] = "/tmp/test-merger.XXXXXX", cmd[128], inc[4096], reb[4096];
	struct mc_store *st;
	struct mg_stats s;
	struct mc_error e;
	struct spec x;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(mc_store_open(dir, MC_STORE_CREATE, &st, &e), 0);
	put_specs(st, SET, sizeof(SET) / sizeof(SET[0]));
	if (mg_store_merge(st, 0, 100, &s, &e) == MC_E_USAGE) {
		mc_store_close(st);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
		printf("this build's store has no key/value databases: %s\n", e.msg);
		skip();
	}
	assert_int_equal(s.records, sizeof(SET) / sizeof(SET[0]));
	store_partition(st, inc, sizeof(inc));
	assert_string_equal(inc, "l1:a1 l2:b2 l3:c3 |l1:a2 l2:b3 |l1:a3 l4:d1 |l3:c4 |l4:d2 |");

	/* nothing new in the feed: nothing to do */
	assert_int_equal(mg_store_merge(st, 0, 101, &s, &e), 0);
	assert_int_equal(s.records, 0);
	assert_int_equal(s.unions_changed, 0);

	/* the same records again (the store writes nothing): no union change */
	put_specs(st, SET, sizeof(SET) / sizeof(SET[0]));
	assert_int_equal(mg_store_merge(st, 0, 102, &s, &e), 0);
	assert_int_equal(s.unions_changed, 0);

	/* b2 changes beyond recognition; an override; then rebuild */
	x = SET[1];
	x.isbn = NULL;
	x.title = "Hà Nội 36 phố phường";
	put_specs(st, &x, 1);
	assert_int_equal(mg_store_merge(st, 0, 103, &s, &e), 0);
	assert_int_equal(s.records, 1);
	assert_int_equal(mg_store_override(st, MG_NEVER, "l1:a3", "l4:d1", 104, &e), 0);
	store_partition(st, inc, sizeof(inc));
	assert_string_equal(inc, "l1:a1 l3:c3 |l1:a2 l2:b3 |l1:a3 |l2:b2 |l3:c4 |l4:d1 |l4:d2 |");
	store_partition_ids(st, inc, sizeof(inc));
	assert_int_equal(mg_store_merge(st, MG_MERGE_REBUILD, 105, &s, &e), 0);
	store_partition_ids(st, reb, sizeof(reb));
	assert_string_equal(reb, inc);   /* same unions, same ids */
	mc_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

struct dump {
	char *buf;
	size_t len, cap;
};

static int dump_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct dump *d = ctx;

	if (d->len + kl + vl + 2 > d->cap) {
		d->cap = (d->len + kl + vl + 2) * 2;
		d->buf = realloc(d->buf, d->cap);
		assert_non_null(d->buf);
	}
	memcpy(d->buf + d->len, k, kl);
	d->len += kl;
	d->buf[d->len++] = '=';
	memcpy(d->buf + d->len, v, vl);
	d->len += vl;
	d->buf[d->len++] = '\n';
	return 0;
}

static void dump_db(struct mc_store *st, const char *db, struct dump *d)
{
	struct mc_reader *r;

	d->len = 0;
	assert_int_equal(mc_reader_begin(st, &r), 0);
	assert_true(mc_reader_kv_each(r, db, NULL, 0, dump_one, d) >= 0);
	mc_reader_end(r);
}

/* A bulk run (keys in memory) and a run that looks each key up give the
 * same unions and the same mg_key; a bulk run cut short (keys marked
 * stale, mg_key half written) is repaired by the next run. */
static void test_store_bulk(void **state)
{
	char d1[] = "/tmp/test-merger.XXXXXX", d2[] = "/tmp/test-merger.XXXXXX", cmd[128];
	char p1[4096], p2[4096], buf[16];
	struct dump k1 = { 0 }, k2 = { 0 };
	struct mc_store *s1, *s2;
	struct mc_writer *w;
	struct mg_stats s;
	struct mc_error e;
	struct spec x;

	(void)state;
	assert_non_null(mkdtemp(d1));
	assert_non_null(mkdtemp(d2));
	assert_int_equal(mc_store_open(d1, MC_STORE_CREATE, &s1, &e), 0);
	assert_int_equal(mc_store_open(d2, MC_STORE_CREATE, &s2, &e), 0);
	put_specs(s1, SET, sizeof(SET) / sizeof(SET[0]));
	put_specs(s2, SET, sizeof(SET) / sizeof(SET[0]));
	assert_int_equal(mg_store_merge(s1, MG_MERGE_BULK, 100, &s, &e), 0);
	assert_true(s.keys_in_memory > 0);
	assert_int_equal(mg_store_merge(s2, MG_MERGE_NO_BULK, 100, &s, &e), 0);
	assert_int_equal(s.keys_in_memory, 0);
	/* a change, applied in bulk on one and key by key on the other */
	x = SET[1];
	x.isbn = NULL;
	x.title = "Hà Nội 36 phố phường";
	put_specs(s1, &x, 1);
	put_specs(s2, &x, 1);
	assert_int_equal(mg_store_merge(s1, MG_MERGE_BULK, 101, &s, &e), 0);
	assert_int_equal(mg_store_merge(s2, MG_MERGE_NO_BULK, 101, &s, &e), 0);
	store_partition(s1, p1, sizeof(p1));
	store_partition(s2, p2, sizeof(p2));
	assert_string_equal(p1, p2);
	dump_db(s1, "mg_key", &k1);
	dump_db(s2, "mg_key", &k2);
	assert_true(k1.len > 0);
	assert_int_equal(k1.len, k2.len);
	assert_memory_equal(k1.buf, k2.buf, k1.len);
	dump_db(s1, "mg_union", &k1);
	dump_db(s2, "mg_union", &k2);
	assert_int_equal(k1.len, k2.len);
	assert_memory_equal(k1.buf, k2.buf, k1.len);

	/* cut short: mg_key emptied, marked stale; an override repairs first */
	assert_int_equal(mc_writer_begin(s1, &w, &e), 0);
	assert_int_equal(mc_writer_kv_clear(w, "mg_key"), 0);
	assert_int_equal(mc_writer_state_set(w, "merger", "keys", "stale"), 0);
	assert_int_equal(mc_writer_commit(w, &e), 0);
	assert_int_equal(mg_store_override(s1, MG_NEVER, "l1:a3", "l4:d1", 102, &e), 0);
	assert_int_equal(mg_store_override(s2, MG_NEVER, "l1:a3", "l4:d1", 102, &e), 0);
	{
		struct mc_reader *r;

		assert_int_equal(mc_reader_begin(s1, &r), 0);
		assert_int_equal(mc_reader_state_get(r, "merger", "keys", buf, sizeof(buf)),
				 MC_E_NOTFOUND);
		mc_reader_end(r);
	}
	dump_db(s1, "mg_key", &k1);
	dump_db(s2, "mg_key", &k2);
	assert_int_equal(k1.len, k2.len);
	assert_memory_equal(k1.buf, k2.buf, k1.len);
	store_partition(s1, p1, sizeof(p1));
	store_partition(s2, p2, sizeof(p2));
	assert_string_equal(p1, p2);
	/* a rebuild cut short right after it began: the next merge goes on
	 * from there and finishes it, ids kept */
	{
		struct mg_merger *m;
		struct mc_reader *r;
		char before[4096], after[4096];

		store_partition_ids(s1, before, sizeof(before));
		assert_int_equal(mc_writer_begin(s1, &w, &e), 0);
		assert_int_equal(mg_merger_new_writer(w, &m), 0);
		assert_int_equal(mg_rebuild_begin(m), 0);
		assert_int_equal(mc_writer_state_set(w, "merger", "cursor", NULL), 0);
		assert_int_equal(mc_writer_commit(w, &e), 0);
		mg_merger_free(m);
		assert_int_equal(mg_store_merge(s1, 0, 110, &s, &e), 0);
		assert_true(s.records > 0);
		store_partition_ids(s1, after, sizeof(after));
		assert_int_equal(mc_reader_begin(s1, &r), 0);
		assert_int_equal(mc_reader_state_get(r, "merger", "keys", buf, sizeof(buf)),
				 MC_E_NOTFOUND);
		mc_reader_end(r);
		assert_string_equal(after, before);
	}
	free(k1.buf);
	free(k2.buf);
	mc_store_close(s1);
	mc_store_close(s2);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", d1, d2);
	assert_int_equal(system(cmd), 0);
}

/* Another writer between two batches of a bulk run (what a merge without
 * the merge lock would do): the run notices it by the write generation,
 * reloads its keys, and ends with the same unions and mg_key as one writer
 * applying the same records one after the other. Before, the run kept its
 * stale keys: the record that matches what the other writer placed got a
 * union of its own, and that writer's keys vanished from mg_key. */
struct foreign {
	int calls;
};

static void foreign_between(void *ctx, struct mc_store *st)
{
	struct foreign *f = ctx;
	struct mg_stats s;
	struct mc_error e;

	if (f->calls++)
		return;
	put_specs(st, &SET[5], 1);
	assert_int_equal(mg_store_merge(st, MG_MERGE_NO_BULK, 100, &s, &e), 0);
	assert_true(s.records > 0);
	/* after it, a record that matches the one it placed */
	put_specs(st, &SET[6], 1);
}

static void test_store_foreign(void **state)
{
	char d1[] = "/tmp/test-merger.XXXXXX", d2[] = "/tmp/test-merger.XXXXXX", cmd[128];
	char p1[4096], p2[4096];
	struct dump k1 = { 0 }, k2 = { 0 };
	struct foreign f = { 0 };
	uint64_t foreign;
	struct mc_store *s1, *s2;
	struct mg_stats s;
	struct mc_error e;

	(void)state;
	assert_non_null(mkdtemp(d1));
	assert_non_null(mkdtemp(d2));
	assert_int_equal(mc_store_open(d1, MC_STORE_CREATE, &s1, &e), 0);
	assert_int_equal(mc_store_open(d2, MC_STORE_CREATE, &s2, &e), 0);
	put_specs(s1, SET, 5);
	assert_int_equal(mg_store_merge_batched(s1, MG_MERGE_BULK, 100, 2, foreign_between, &f, &s,
						&e), 0);
	assert_true(f.calls >= 1);
	foreign = s.foreign_writes;   /* asserted last: the damage shows first */
	put_specs(s2, SET, 7);
	assert_int_equal(mg_store_merge(s2, MG_MERGE_NO_BULK, 100, &s, &e), 0);
	assert_int_equal(s.foreign_writes, 0);
	store_partition(s1, p1, sizeof(p1));
	store_partition(s2, p2, sizeof(p2));
	assert_string_equal(p1, p2);
	dump_db(s1, "mg_key", &k1);
	dump_db(s2, "mg_key", &k2);
	assert_true(k1.len > 0);
	assert_int_equal(k1.len, k2.len);
	assert_memory_equal(k1.buf, k2.buf, k1.len);
	assert_true(foreign >= 1);
	free(k1.buf);
	free(k2.buf);
	mc_store_close(s1);
	mc_store_close(s2);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", d1, d2);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edition_extent),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_bridge_split_delete),
		cmocka_unit_test(test_source_rule),
		cmocka_unit_test(test_overrides_rebuild),
		cmocka_unit_test(test_rebuild_after_changes),
		cmocka_unit_test(test_json_export),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_kidx),
		cmocka_unit_test(test_quick_sound),
		cmocka_unit_test(test_store_bulk),
		cmocka_unit_test(test_store_foreign),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
