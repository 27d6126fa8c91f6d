/* test-extract.c — field extraction (core/extract.c) and standard numbers
 * (core/isbn.c).
 *
 * Hand-built records check each mapping rule; the golden tests run the real
 * parsers, the real normaliser and the extractor over the Library of
 * Congress MARCXML samples and the ISO 2709 sample shipped in
 * idzebra-2.0-examples and over every oai_dc record captured in
 * ../shared/data/oai-captures/, and compare a dump of every extracted value
 * with tests/data/golden/<input>.fields. MC_GOLDEN_UPDATE=1 rewrites the
 * golden files instead (review the diff against yaz-marcdump before
 * committing). */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mc-buf.h"
#include "mc-error.h"
#include "mc-extract.h"
#include "mc-limits.h"
#include "ingest.h"
#include "mc-record.h"
#include "mc-text.h"

#define IDZ "/usr/share/doc/idzebra-2.0/examples"

/* Timing bounds hold for optimised builds; sanitiser and -O0 builds only
 * report the figure (and get a generous bound against hangs). */
#if defined(__SANITIZE_ADDRESS__) || !defined(__OPTIMIZE__)
#define SLOW_BUILD 20.0
#else
#define SLOW_BUILD 1.0
#endif

/* ---- building records from a compact text form ----
 * One field per line: "LDR <leader>", "008 <data>" (control fields), or
 * "245 10 ‡aTitle :‡bsubtitle" (data fields; ‡ introduces a subfield; a
 * 00X written so is a data field, as danMARC2 has them). */

#define DAGGER "\xe2\x80\xa1"

static struct mc_record *marc(const char *spec)
{
	struct mc_record *r = NULL;
	const char *p = spec;

	assert_int_equal(mc_record_new(&r), 0);
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char tag[4];

		assert_true(n >= 4);
		memcpy(tag, p, 3);
		tag[3] = '\0';
		if (!strcmp(tag, "LDR")) {
			struct mc_field *dummy;

			/* make sure r->marc exists, then set the leader */
			assert_int_equal(mc_marc_add_data(r, "999", ' ', ' ', &dummy), 0);
			r->marc->nfields--;
			assert_true(n - 4 <= 24);
			memcpy(r->marc->leader, p + 4, n - 4);
		} else if (tag[0] == '0' && tag[1] == '0' && !(n > 10 && !memcmp(p + 7, DAGGER, 3))) {
			/* a control field (a 00X with subfields is danMARC2's) */
			assert_int_equal(mc_marc_add_control(r, tag, p + 4, n - 4), 0);
		} else {
			struct mc_field *f;
			const char *s = p + 7, *end = p + n;

			assert_true(n >= 7);
			assert_int_equal(mc_marc_add_data(r, tag, p[4], p[5], &f), 0);
			while (s < end) {
				const char *next;
				char code;

				assert_memory_equal(s, DAGGER, 3);
				code = s[3];
				s += 4;
				next = strstr(s, DAGGER);
				if (!next || next > end)
					next = end;
				assert_int_equal(mc_marc_add_sub(r, f, code, s, (size_t)(next - s)), 0);
				s = next;
			}
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	return r;
}

/* "name=value" lines. */
static struct mc_record *dc(const char *spec)
{
	struct mc_record *r = NULL;
	const char *p = spec;

	assert_int_equal(mc_record_new(&r), 0);
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		char name[32];

		assert_non_null(eq);
		assert_true((size_t)(eq - p) < sizeof(name));
		memcpy(name, p, (size_t)(eq - p));
		name[eq - p] = '\0';
		assert_int_equal(mc_dc_add(r, name, eq + 1, n - (size_t)(eq - p) - 1, NULL), 0);
		p += n;
		if (*p == '\n')
			p++;
	}
	return r;
}

static struct mc_record *extracted(struct mc_record *r)
{
	struct mc_error err;

	mc_error_clear(&err);
	assert_int_equal(mc_record_extract(r, &err), 0);
	return r;
}

/* The value of id/class type t, or NULL; the n-th one with that type. */
static const char *tv(const struct mc_tvv *v, const char *t, size_t nth)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!strcmp(v->v[i].type, t) && nth-- == 0)
			return v->v[i].value;
	return NULL;
}

/* ---- golden dump ---- */

static void dump_val(struct mc_buf *out, const char *id, const char *field, const char *v)
{
	const char *p;

	if (!v)
		return;
	assert_int_equal(mc_buf_addf(out, "%s\t%s\t", id, field), 0);
	for (p = v; *p; p++) {
		switch (*p) {
		case '\t':
			assert_int_equal(mc_buf_adds(out, "\\t"), 0);
			break;
		case '\n':
			assert_int_equal(mc_buf_adds(out, "\\n"), 0);
			break;
		case '\r':
			assert_int_equal(mc_buf_adds(out, "\\r"), 0);
			break;
		case '\\':
			assert_int_equal(mc_buf_adds(out, "\\\\"), 0);
			break;
		default:
			assert_int_equal(mc_buf_addc(out, *p), 0);
		}
	}
	assert_int_equal(mc_buf_addc(out, '\n'), 0);
}

static void dump_int(struct mc_buf *out, const char *id, const char *field, long v)
{
	char b[32];

	snprintf(b, sizeof(b), "%ld", v);
	dump_val(out, id, field, b);
}

static const char *kind_name(int k)
{
	return k == MC_NAME_PERSONAL ? "personal" : k == MC_NAME_CORPORATE ? "corporate" :
	       k == MC_NAME_MEETING ? "meeting" : "?";
}

/* Every extracted value of r, one "id<TAB>field<TAB>value" line each. */
static void dump_fields(struct mc_buf *out, const char *id, const struct mc_record *r)
{
	const struct mc_fields *f = &r->f;
	char key[80];
	size_t i;

	if (r->status == MC_REC_DELETED)
		dump_val(out, id, "status", "deleted");
	dump_val(out, id, "encoding", r->encoding);
	dump_val(out, id, "material", f->material);
	dump_val(out, id, "title", f->title);
	dump_val(out, id, "responsibility", f->responsibility);
	dump_val(out, id, "edition", f->edition);
	for (i = 0; i < f->nnames; i++) {
		dump_val(out, id, "name", f->names[i].name);
		dump_val(out, id, "name.kind", kind_name(f->names[i].kind));
		dump_int(out, id, "name.main_entry", f->names[i].main_entry);
		dump_val(out, id, "name.dates", f->names[i].dates);
		dump_val(out, id, "name.role", f->names[i].role);
	}
	dump_val(out, id, "place", f->place);
	dump_val(out, id, "publisher", f->publisher);
	dump_val(out, id, "date", f->date);
	if (f->year)
		dump_int(out, id, "year", f->year);
	dump_val(out, id, "extent", f->extent);
	for (i = 0; i < f->ids.n; i++) {
		snprintf(key, sizeof(key), "id:%s", f->ids.v[i].type);
		dump_val(out, id, key, f->ids.v[i].value);
	}
	for (i = 0; i < f->languages.n; i++)
		dump_val(out, id, "language", f->languages.v[i]);
	for (i = 0; i < f->subjects.n; i++)
		dump_val(out, id, "subject", f->subjects.v[i]);
	for (i = 0; i < f->classes.n; i++) {
		snprintf(key, sizeof(key), "class:%s", f->classes.v[i].type);
		dump_val(out, id, key, f->classes.v[i].value);
	}
	for (i = 0; i < f->series.n; i++)
		dump_val(out, id, "series", f->series.v[i]);
	for (i = 0; i < f->notes.n; i++)
		dump_val(out, id, "note", f->notes.v[i]);
	for (i = 0; i < f->nlinks; i++) {
		dump_val(out, id, "link", f->links[i].url);
		dump_val(out, id, "link.label", f->links[i].label);
	}
	for (i = 0; i < f->nholdings; i++) {
		const struct mc_holding *h = &f->holdings[i];

		dump_int(out, id, "holding", (long)i + 1);
		dump_val(out, id, "holding.library", h->library);
		dump_val(out, id, "holding.location", h->location);
		dump_val(out, id, "holding.call_number", h->call_number);
		dump_val(out, id, "holding.barcode", h->barcode);
		dump_val(out, id, "holding.status", h->status);
		dump_val(out, id, "holding.note", h->note);
	}
}

/* ---- golden run: real parser + normaliser + extractor ---- */

struct golden_run {
	struct mc_buf out;
	unsigned long n, bad;
	int saw_latin1_title;   /* the ISO 2709 sample's Danish record */
};

static int golden_cb(void *ctx, struct mc_record *rec, const struct mc_error *bad, const char *raw,
		     size_t raw_len)
{
	struct golden_run *g = ctx;
	const struct mc_field *f001;
	const char *v001;
	struct mc_error err;
	char id[160];
	int rc;

	g->n++;
	/* As the importer names records: the OAI identifier, else 001 trimmed
	 * (else $a of a danMARC2 001), else the position in the file. */
	f001 = rec->marc ? mc_marc_first(rec->marc, "001") : NULL;
	v001 = f001 ? (f001->value ? f001->value : mc_field_sub(f001, 'a')) : NULL;
	if (rec->local_id && *rec->local_id) {
		snprintf(id, sizeof(id), "%s", rec->local_id);
	} else if (v001 && v001[strspn(v001, " ")]) {
		size_t n;

		snprintf(id, sizeof(id), "%s", v001 + strspn(v001, " "));
		n = strlen(id);
		while (n && id[n - 1] == ' ')
			id[--n] = '\0';
	} else {
		snprintf(id, sizeof(id), "#%lu", g->n);
	}
	if (bad) {
		g->bad++;
		dump_val(&g->out, id, "error", mc_strerror(bad->code));
		return 0;
	}
	mc_error_clear(&err);
	rc = mc_record_normalise(rec, MC_ENC_AUTO, &err);
	if (rc) {
		dump_val(&g->out, id, "error", err.msg);
		return 0;
	}
	rc = mc_record_extract(rec, &err);
	if (rc) {
		dump_val(&g->out, id, "error", err.msg);
		return 0;
	}
	if (rec->f.title && !strcmp(rec->f.title, "Strækøvelser"))
		g->saw_latin1_title = 1;
	dump_fields(&g->out, id, rec);
	return 0;
}

static char *read_all(FILE *fp, size_t *len)
{
	struct mc_buf b;
	char chunk[65536];
	size_t n;

	mc_buf_init(&b, 64u << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		assert_int_equal(mc_buf_add(&b, chunk, n), 0);
	return mc_buf_steal(&b, len);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *s;

	if (!fp)
		return NULL;
	s = read_all(fp, len);
	fclose(fp);
	if (!s) {
		s = calloc(1, 1);
		*len = 0;
	}
	return s;
}

/* Parse one input (gunzipped through gzip(1) when it ends in .gz) and
 * compare the dump with the golden file; returns the records seen. */
static unsigned long golden_check(const char *input, const char *name, struct golden_run *g)
{
	const char *src = getenv("MUCLUC_SRCDIR");
	char gpath[1024], hdr[512];
	struct mc_parse_opts o = { .input = MC_IN_AUTO, .filename = input, .source = "golden" };
	struct mc_error err;
	size_t glen = 0, len = strlen(input);
	char *want;
	int rc;

	memset(g, 0, sizeof(*g));
	mc_buf_init(&g->out, 64u << 20);
	mc_error_clear(&err);
	snprintf(hdr, sizeof(hdr),
		 "# %s: fields extracted by mucluc (record-id TAB field TAB value).\n"
		 "# Written by tests/unit/test-extract.c with MC_GOLDEN_UPDATE=1 and reviewed by hand"
		 " (MARC against yaz-marcdump, oai_dc against the XML).\n", name);
	assert_int_equal(mc_buf_adds(&g->out, hdr), 0);
	if (len > 3 && !strcmp(input + len - 3, ".gz")) {
		char cmd[1200];
		struct mc_parser *p = NULL;
		size_t dlen = 0;
		char *data;
		FILE *fp;

		snprintf(cmd, sizeof(cmd), "gzip -dc -- '%s'", input);
		fp = popen(cmd, "r");
		assert_non_null(fp);
		data = read_all(fp, &dlen);
		assert_int_equal(pclose(fp), 0);
		assert_non_null(data);
		assert_int_equal(mc_parser_new(&o, golden_cb, g, &p), 0);
		rc = mc_parser_feed(p, data, dlen, &err);
		if (!rc)
			rc = mc_parser_finish(p, &err);
		mc_parser_free(p);
		free(data);
	} else {
		rc = mc_parse_file(input, &o, golden_cb, g, NULL, &err);
	}
	if (rc)
		print_message("%s: %s (%s)\n", input, mc_strerror(rc), err.msg);
	assert_int_equal(rc, 0);

	snprintf(gpath, sizeof(gpath), "%s/tests/data/golden/%s.fields", src ? src : "../..", name);
	if (getenv("MC_GOLDEN_UPDATE") && !strcmp(getenv("MC_GOLDEN_UPDATE"), "1")) {
		FILE *fp;

		if (g->n == 0)
			goto done;
		fp = fopen(gpath, "wb");
		assert_non_null(fp);
		assert_int_equal(fwrite(g->out.data, 1, g->out.len, fp), g->out.len);
		assert_int_equal(fclose(fp), 0);
		print_message("wrote %s (%lu records)\n", gpath, g->n);
		goto done;
	}
	want = slurp(gpath, &glen);
	if (!want) {
		if (g->n == 0)
			goto done;  /* an OAI response without records (Identify, ListSets, ...) */
		print_message("missing %s: run with MC_GOLDEN_UPDATE=1 and review it\n", gpath);
		fail();
	}
	if (glen != g->out.len || memcmp(want, g->out.data, glen) != 0) {
		/* Show the first line that differs. */
		const char *a = want, *b = g->out.data;
		int line = 1;

		while (*a && *b && *a == *b) {
			if (*a == '\n')
				line++;
			a++;
			b++;
		}
		while (a > want && a[-1] != '\n') {
			a--;
			b--;
		}
		print_message("%s differs at line %d\n  want: %.*s\n  got:  %.*s\n", gpath, line,
			      (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b);
		free(want);
		fail();
	}
	free(want);
done:
	mc_buf_free(&g->out);
	return g->n;
}

static void test_golden_lc_marcxml(void **state)
{
	static const char *const files[] = {
		"collection-2.xml.gz", "collection-clasmrc.xml.gz", "collection-namemrc.xml.gz",
		"collection-opera-43.xml.gz", "collection-sandburg-1.xml", "collection-subjmrc.xml.gz",
	};
	struct golden_run g;
	unsigned long total = 0;
	size_t i;

	(void)state;
	if (access(IDZ "/marcxml/collection-sandburg-1.xml", R_OK) != 0) {
		print_message("skip: idzebra-2.0-examples is not installed (" IDZ ")\n");
		skip();
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512], name[256];
		size_t n;

		snprintf(path, sizeof(path), IDZ "/marcxml/%s", files[i]);
		snprintf(name, sizeof(name), "%s", files[i]);
		n = strlen(name);
		if (n > 3 && !strcmp(name + n - 3, ".gz"))
			name[n - 3] = '\0';
		total += golden_check(path, name, &g);
		assert_int_equal(g.bad, 0);
	}
	/* 2 + 20 + 20 + 43 + 1 + 20 records in the six LC files */
	assert_int_equal(total, 106);
}

static void test_golden_iso2709(void **state)
{
	struct golden_run g;
	unsigned long n;

	(void)state;
	if (access(IDZ "/marc21/sample-marc.gz", R_OK) != 0) {
		print_message("skip: idzebra-2.0-examples is not installed (" IDZ ")\n");
		skip();
	}
	n = golden_check(IDZ "/marc21/sample-marc.gz", "sample-marc", &g);
	assert_int_equal(n, 24);
	/* The Latin-1 (danMARC) record comes out as UTF-8. */
	assert_true(g.saw_latin1_title);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every *.xml under dir (recursively), sorted, appended to names. */
static void list_xml(const char *dir, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[1024];
		struct stat st;
		size_t l = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			list_xml(path, names, n);
		} else if (l > 4 && !strcmp(e->d_name + l - 4, ".xml")) {
			*names = realloc(*names, (*n + 1) * sizeof(**names));
			assert_non_null(*names);
			(*names)[(*n)++] = strdup(path);
		}
	}
	closedir(d);
}

static void test_golden_oai_dc(void **state)
{
	const char *src = getenv("MUCLUC_SRCDIR");
	char base[1024];
	char **files = NULL;
	size_t n = 0, i;
	unsigned long total = 0;
	struct golden_run g;

	(void)state;
	snprintf(base, sizeof(base), "%s/../shared/data/oai-captures", src ? src : "../..");
	if (access(base, R_OK) != 0) {
		print_message("skip: %s is absent (../shared is not beside the source tree)\n", base);
		skip();
	}
	list_xml(base, &files, &n);
	qsort(files, n, sizeof(*files), cmp_str);
	for (i = 0; i < n; i++) {
		char name[512], *p;

		/* oai-captures/dspace-erasmus/fake1/00005.xml -> dspace-erasmus-fake1-00005.xml */
		snprintf(name, sizeof(name), "%s", files[i] + strlen(base) + 1);
		for (p = name; *p; p++)
			if (*p == '/')
				*p = '-';
		total += golden_check(files[i], name, &g);
		assert_int_equal(g.bad, 0);
		free(files[i]);
	}
	free(files);
	/* GetRecord 1 + ListRecords 16 + bare oai_dc 1, GetRecord 2 + ListRecords 81 */
	assert_int_equal(total, 101);
}

/* ---- ISBN / ISSN ---- */

static void isbn_ok(const char *in, const char *want)
{
	char out[14];

	memset(out, 'z', sizeof(out));
	assert_int_equal(mc_isbn_normalise(in, strlen(in), out), 0);
	assert_string_equal(out, want);
}

static void isbn_bad(const char *in)
{
	char out[14] = "untouched";

	assert_int_equal(mc_isbn_normalise(in, strlen(in), out), MC_E_PARSE);
}

static void test_isbn(void **state)
{
	char ten[11];

	(void)state;
	isbn_ok("978-0-306-40615-7", "9780306406157");
	isbn_ok("0-306-40615-2", "9780306406157");
	isbn_ok("90-9014980-5", "9789090149806");          /* DSpace capture */
	isbn_ok("0-8044-2957-X", "9780804429573");
	isbn_ok("0-8044-2957-x", "9780804429573");          /* lower-case x */
	isbn_ok("ISBN 0 306 40615 2", "9780306406157");     /* spaces */
	isbn_ok("ISBN-13: 978-0-306-40615-7", "9780306406157");
	isbn_ok("isbn:0306406152", "9780306406157");
	isbn_ok("urn:isbn:978-604-1-00000-1", "9786041000001");
	isbn_ok("0879832355 (pbk.) :", "9780879832353");    /* LC sample 020 $a */
	isbn_ok("978-604-1-00000-1 (bìa mềm)", "9786041000001");
	isbn_ok("  9791030000009 ", "9791030000009");
	isbn_ok("90 - 5892 - 032 - 1", "9789058920324");   /* DSpace capture */
	isbn_bad("978-0-306-40615-8");                      /* wrong check digit */
	isbn_bad("0-306-40615-3");
	isbn_bad("90-9014980-4");
	isbn_bad("97803064061571");                         /* 14 digits */
	isbn_bad("030640615");                              /* 9 digits */
	isbn_bad("0-306-40615-2X");
	isbn_bad("0-306----40615-2");                       /* four separators */
	isbn_bad("9780306406157abc");                       /* glued to text */
	isbn_bad("X-306-40615-2");
	isbn_bad("1234567890123");                          /* not 978/979 */
	isbn_bad("ISBN");
	isbn_bad("");
	isbn_bad("Nguyễn Nhật Ánh");

	assert_int_equal(mc_isbn13_to_10("9780306406157", ten), 0);
	assert_string_equal(ten, "0306406152");
	assert_int_equal(mc_isbn13_to_10("9780804429573", ten), 0);
	assert_string_equal(ten, "080442957X");
	assert_int_equal(mc_isbn13_to_10("9791030000009", ten), MC_E_PARSE);  /* 979: no ISBN-10 */
	assert_int_equal(mc_isbn13_to_10("9780306406158", ten), MC_E_PARSE);  /* bad check */
	assert_int_equal(mc_isbn13_to_10("97803064X6157", ten), MC_E_PARSE);
}

static void test_issn(void **state)
{
	char out[10];

	(void)state;
	assert_int_equal(mc_issn_normalise("1064-3923", 9, out), 0);
	assert_string_equal(out, "1064-3923");
	assert_int_equal(mc_issn_normalise("ISSN 0378-5955", 14, out), 0);
	assert_string_equal(out, "0378-5955");
	assert_int_equal(mc_issn_normalise("urn:issn:0000-006x", 18, out), 0);
	assert_string_equal(out, "0000-006X");
	assert_int_equal(mc_issn_normalise("03178471", 8, out), 0);
	assert_string_equal(out, "0317-8471");
	assert_int_equal(mc_issn_normalise("1566-7294 (print)", 17, out), 0);
	assert_string_equal(out, "1566-7294");
	assert_int_equal(mc_issn_normalise("0378-5956", 9, out), MC_E_PARSE);
	assert_int_equal(mc_issn_normalise("0378-59555", 10, out), MC_E_PARSE);
	assert_int_equal(mc_issn_normalise("037-85955", 9, out), MC_E_PARSE);
	assert_int_equal(mc_issn_normalise("ISSN", 4, out), MC_E_PARSE);
	assert_int_equal(mc_issn_normalise("", 0, out), MC_E_PARSE);
}

/* ---- MARC mapping ---- */

static void test_marc_book(void **state)
{
	struct mc_record *r;
	const struct mc_fields *f;

	(void)state;
	r = extracted(marc(
		"LDR 01126nam  2200265 a 4500\n"
		"001 80082329\n"
		"008 810526s1980    ctuaf         00010 eng  \n"
		"010    " DAGGER "a   80082329 \n"
		"020    " DAGGER "a0879832355 (pbk.) :" DAGGER "c$4.95\n"
		"020    " DAGGER "a0879832356\n"
		"020    " DAGGER "z0-306-40615-2\n"
		"020    " DAGGER "a978-0-87983-235-3\n"
		"035    " DAGGER "a(OCoLC)12345\n"
		"050 00 " DAGGER "aBS1433" DAGGER "b.S5 1980\n"
		"082 00 " DAGGER "a223/.2077" DAGGER "219\n"
		"100 10 " DAGGER "aSmith, George Adam," DAGGER "cSir," DAGGER "d1856-1942.\n"
		"245 10 " DAGGER "aFour psalms :" DAGGER "bXXIII, XXXVI, LII, CXXI /"
		DAGGER "cinterpreted by George Adam Smith ; introduction by F.F. Bruce.\n"
		"250    " DAGGER "aShepherd illustrated classic ed.\n"
		"260 0  " DAGGER "aNew Canaan, Conn. :" DAGGER "bKeats Pub.," DAGGER "cc1980.\n"
		"300    " DAGGER "a81 p., [5] leaves of plates :" DAGGER "bill. ;" DAGGER "c21 cm.\n"
		"440  2 " DAGGER "aA Shepherd illustrated classic\n"
		"500    " DAGGER "aIncludes index.\n"
		"630 00 " DAGGER "aBible." DAGGER "pO.T." DAGGER "pPsalms XXIII" DAGGER
		"xCriticism, interpretation, etc.\n"
		"650  0 " DAGGER "aPsalms" DAGGER "xCriticism." DAGGER "0(uri)\n"
		"650  0 " DAGGER "aPsalms" DAGGER "xCriticism\n"
		"700 10 " DAGGER "aBruce, F. F." DAGGER "eauthor of introduction." DAGGER "4aui\n"
		"856 41 " DAGGER "uhttp://example.org/toc" DAGGER "yTable of contents\n"));
	f = &r->f;
	assert_string_equal(f->material, "book");
	assert_string_equal(f->title, "Four psalms : XXIII, XXXVI, LII, CXXI");
	assert_string_equal(f->responsibility,
			    "interpreted by George Adam Smith ; introduction by F.F. Bruce");
	assert_string_equal(f->edition, "Shepherd illustrated classic ed.");
	assert_int_equal(f->nnames, 2);
	assert_string_equal(f->names[0].name, "Smith, George Adam, Sir");
	assert_string_equal(f->names[0].dates, "1856-1942");
	assert_int_equal(f->names[0].kind, MC_NAME_PERSONAL);
	assert_int_equal(f->names[0].main_entry, 1);
	assert_null(f->names[0].role);
	assert_string_equal(f->names[1].name, "Bruce, F. F.");
	assert_string_equal(f->names[1].role, "author of introduction");
	assert_int_equal(f->names[1].main_entry, 0);
	assert_string_equal(f->place, "New Canaan, Conn.");
	assert_string_equal(f->publisher, "Keats Pub.");
	assert_string_equal(f->date, "c1980");
	assert_int_equal(f->year, 1980);
	assert_string_equal(f->extent, "81 p., [5] leaves of plates : ill. ; 21 cm");
	/* the same ISBN as 10 and 13 digits is kept once */
	assert_string_equal(tv(&f->ids, "isbn", 0), "9780879832353");
	assert_null(tv(&f->ids, "isbn", 1));
	assert_string_equal(tv(&f->ids, "isbn-invalid", 0), "0879832356");
	assert_string_equal(tv(&f->ids, "isbn-invalid", 1), "0-306-40615-2");  /* $z as given */
	assert_string_equal(tv(&f->ids, "lccn", 0), "80082329");
	assert_string_equal(tv(&f->ids, "control", 0), "(OCoLC)12345");
	assert_string_equal(tv(&f->classes, "lcc", 0), "BS1433 .S5 1980");
	assert_string_equal(tv(&f->classes, "ddc", 0), "223/.2077");
	assert_int_equal(f->languages.n, 1);
	assert_string_equal(f->languages.v[0], "eng");
	assert_int_equal(f->subjects.n, 2);
	assert_string_equal(f->subjects.v[0],
			    "Bible. O.T. Psalms XXIII -- Criticism, interpretation, etc.");
	assert_string_equal(f->subjects.v[1], "Psalms -- Criticism");
	assert_int_equal(f->series.n, 1);
	assert_string_equal(f->series.v[0], "A Shepherd illustrated classic");
	assert_int_equal(f->notes.n, 1);
	assert_string_equal(f->notes.v[0], "Includes index.");
	assert_int_equal(f->nlinks, 1);
	assert_string_equal(f->links[0].url, "http://example.org/toc");
	assert_string_equal(f->links[0].label, "Table of contents");
	mc_record_free(r);
}

/* A Vietnamese record as a province library's Koha exports it. */
static void test_marc_vietnamese_koha(void **state)
{
	struct mc_record *r;
	const struct mc_fields *f;

	(void)state;
	r = extracted(marc(
		"LDR 00000nam a22000007a 4500\n"
		"001 000123\n"
		"008 240115s2023    vm            000 0 vie d\n"
		"020    " DAGGER "a978-604-1-00000-1 (bìa mềm) :" DAGGER "c85000đ\n"
		"041 0  " DAGGER "avie" DAGGER "aeng\n"
		"082 04 " DAGGER "a895.9223" DAGGER "223\n"
		"084    " DAGGER "aV23" DAGGER "2Khung phân loại 19 lớp\n"
		"084    " DAGGER "aVN\n"
		"100 0  " DAGGER "aNguyễn Nhật Ánh," DAGGER "etác giả\n"
		"245 10 " DAGGER "aCho tôi xin một vé đi tuổi thơ :" DAGGER "btruyện /"
		DAGGER "cNguyễn Nhật Ánh ; Đỗ Hoàng Tường minh hoạ\n"
		"250    " DAGGER "aTái bản lần thứ 50\n"
		"264  1 " DAGGER "aTp. Hồ Chí Minh :" DAGGER "bNxb. Trẻ," DAGGER "c2023\n"
		"260    " DAGGER "aH. :" DAGGER "bKim Đồng," DAGGER "c2010\n"
		"300    " DAGGER "a218 tr. ;" DAGGER "c20 cm\n"
		"490 0  " DAGGER "aTủ sách tuổi thơ ;" DAGGER "vt. 3\n"
		"650  7 " DAGGER "aVăn học thiếu nhi" DAGGER "zViệt Nam" DAGGER "2Bộ TK TVQG\n"
		"653    " DAGGER "aTruyện ngắn" DAGGER "aTuổi thơ\n"
		"700 0  " DAGGER "aĐỗ Hoàng Tường," DAGGER "eminh hoạ.\n"
		"952    " DAGGER "aTVTINH" DAGGER "bTVTINH" DAGGER "cKHO-MUON" DAGGER "o895.9223 NG-A"
		DAGGER "pVV.012345" DAGGER "70" DAGGER "10" DAGGER "yBK\n"
		"952    " DAGGER "aTVTINH" DAGGER "cDOC" DAGGER "o895.9223 NG-A" DAGGER "pVV.012346"
		DAGGER "71" DAGGER "11" DAGGER "zBản đọc tại chỗ\n"
		"952    " DAGGER "aTVHUYEN" DAGGER "pVV.9" DAGGER "q2025-01-31\n"
		"852 0  " DAGGER "aTV Tỉnh" DAGGER "bKho mượn" DAGGER "cTầng 2" DAGGER "h895.9223"
		DAGGER "iNG-A" DAGGER "kVH" DAGGER "p000999" DAGGER "zCòn 2 bản\n"));
	f = &r->f;
	assert_string_equal(f->material, "book");
	assert_string_equal(f->title, "Cho tôi xin một vé đi tuổi thơ : truyện");
	assert_string_equal(f->responsibility, "Nguyễn Nhật Ánh ; Đỗ Hoàng Tường minh hoạ");
	/* direct order, never inverted */
	assert_string_equal(f->names[0].name, "Nguyễn Nhật Ánh");
	assert_string_equal(f->names[0].role, "tác giả");
	assert_string_equal(f->names[1].name, "Đỗ Hoàng Tường");
	assert_string_equal(f->names[1].role, "minh hoạ");
	/* 264 _1 wins over 260 */
	assert_string_equal(f->place, "Tp. Hồ Chí Minh");
	assert_string_equal(f->publisher, "Nxb. Trẻ");
	assert_string_equal(f->date, "2023");
	assert_int_equal(f->year, 2023);
	assert_string_equal(f->extent, "218 tr. ; 20 cm");
	assert_string_equal(tv(&f->ids, "isbn", 0), "9786041000001");
	assert_int_equal(f->languages.n, 2);
	assert_string_equal(f->languages.v[0], "vie");
	assert_string_equal(f->languages.v[1], "eng");
	assert_string_equal(tv(&f->classes, "ddc", 0), "895.9223");
	assert_string_equal(tv(&f->classes, "other:Khung phân loại 19 lớp", 0), "V23");
	assert_string_equal(tv(&f->classes, "other", 0), "VN");
	assert_int_equal(f->subjects.n, 3);
	assert_string_equal(f->subjects.v[0], "Văn học thiếu nhi -- Việt Nam");
	assert_string_equal(f->subjects.v[1], "Truyện ngắn");
	assert_string_equal(f->subjects.v[2], "Tuổi thơ");
	assert_string_equal(f->series.v[0], "Tủ sách tuổi thơ ; t. 3");
	assert_int_equal(f->nholdings, 4);
	assert_string_equal(f->holdings[0].library, "TVTINH");
	assert_string_equal(f->holdings[0].location, "KHO-MUON");
	assert_string_equal(f->holdings[0].call_number, "895.9223 NG-A");
	assert_string_equal(f->holdings[0].barcode, "VV.012345");
	assert_null(f->holdings[0].status);
	assert_string_equal(f->holdings[1].status, "lost, not for loan");
	assert_string_equal(f->holdings[1].note, "Bản đọc tại chỗ");
	assert_string_equal(f->holdings[2].library, "TVHUYEN");
	assert_string_equal(f->holdings[2].status, "on loan (due 2025-01-31)");
	assert_string_equal(f->holdings[3].library, "TV Tỉnh");
	assert_string_equal(f->holdings[3].location, "Kho mượn, Tầng 2");
	assert_string_equal(f->holdings[3].call_number, "VH 895.9223 NG-A");
	assert_string_equal(f->holdings[3].barcode, "000999");
	assert_string_equal(f->holdings[3].note, "Còn 2 bản");
	mc_record_free(r);
}

static void test_marc_title_punctuation(void **state)
{
	struct mc_record *r;

	(void)state;
	/* $h dropped, its " :" separates $a from $b */
	r = extracted(marc("LDR 00915nam  2200229Ka 4500\n"
			   "245 10 " DAGGER "aDealing with dropouts" DAGGER "hmicroform :" DAGGER
			   "bthe urban superintendents' call to action /" DAGGER "cby Nancy Paulu.\n"));
	assert_string_equal(r->f.title, "Dealing with dropouts : the urban superintendents' call to action");
	assert_string_equal(r->f.responsibility, "by Nancy Paulu");
	mc_record_free(r);

	/* parallel title, part number and name, ellipsis kept, initial kept */
	r = extracted(marc("LDR 00000nam  2200000 a 4500\n"
			   "245 00 " DAGGER "aLịch sử Việt Nam =" DAGGER "bHistory of Vietnam." DAGGER
			   "nTập 2," DAGGER "pTừ 1858 đến 1945 /" DAGGER "cedited by Jerome R. Cox, Jr.\n"));
	assert_string_equal(r->f.title, "Lịch sử Việt Nam = History of Vietnam. Tập 2, Từ 1858 đến 1945");
	assert_string_equal(r->f.responsibility, "edited by Jerome R. Cox, Jr.");
	mc_record_free(r);

	r = extracted(marc("LDR 00000nas  2200000 a 4500\n"
			   "245 00 " DAGGER "aFEDLINK services directory for fiscal year ... /" DAGGER
			   "cFLICC/FEDLINK.\n"
			   "260 00 " DAGGER "a[Washington, D.C]. :" DAGGER "b[s.n.]," DAGGER "c[1957?]\n"));
	assert_string_equal(r->f.material, "serial");
	assert_string_equal(r->f.title, "FEDLINK services directory for fiscal year ...");
	assert_string_equal(r->f.responsibility, "FLICC/FEDLINK");
	assert_string_equal(r->f.place, "Washington, D.C");
	assert_null(r->f.publisher);  /* [s.n.]: unknown */
	assert_string_equal(r->f.date, "[1957?]");
	assert_int_equal(r->f.year, 1957);  /* no 008: from the date */
	mc_record_free(r);

	/* old record without ISBD spacing; single-letter initial in a name */
	r = extracted(marc("LDR 00000cam  2200000   4500\n"
			   "100 10 " DAGGER "aEnglund, Carl R.\n"
			   "245 10 " DAGGER "aWashington metropolitan area rail computer feasibility study;"
			   DAGGER "bfinal report" DAGGER "c[by] Carl R. Englund, Jr.\n"
			   "300    " DAGGER "a92 l." DAGGER "billus." DAGGER "c28 cm.\n"));
	assert_string_equal(r->f.title,
			    "Washington metropolitan area rail computer feasibility study; final report");
	assert_string_equal(r->f.names[0].name, "Englund, Carl R.");
	assert_string_equal(r->f.extent, "92 l. : illus. ; 28 cm");
	mc_record_free(r);
}

/* Details found reviewing the LC samples against yaz-marcdump. */
static void test_marc_isbd_details(void **state)
{
	struct mc_record *r;

	(void)state;
	r = extracted(marc(
		"LDR 01387cam a22002771  4500\n"
		"050 00 " DAGGER "aIN PROCESS\n"
		"050 00 " DAGGER "aMLCS 2002/06831 (B)\n"
		"050 00 " DAGGER "aMT95" DAGGER "b.T36\n"
		"245 00 " DAGGER "a10 operatic masterpieces;" DAGGER "cdesigned by Merle Armitage.\n"
		"260    " DAGGER "a[New York? :" DAGGER "bRCA Victor]" DAGGER "c[1957?]\n"
		"300    " DAGGER "a569 p." DAGGER "billus., music." DAGGER "c32 cm.\n"
		"952    " DAGGER "aNew - Copy Command\n"));
	assert_string_equal(r->f.title, "10 operatic masterpieces");
	assert_string_equal(r->f.place, "New York?");
	assert_string_equal(r->f.publisher, "RCA Victor");
	assert_string_equal(r->f.date, "[1957?]");
	assert_string_equal(r->f.extent, "569 p. : illus., music ; 32 cm");
	assert_int_equal(r->f.classes.n, 1);
	assert_string_equal(tv(&r->f.classes, "lcc", 0), "MT95 .T36");
	assert_int_equal(r->f.nholdings, 0);  /* LC's local 952 is not a Koha item */
	mc_record_free(r);

	r = extracted(marc(
		"LDR 01266njm a22002537a 4500\n"
		"245 00 " DAGGER "aGesänge" DAGGER "h[sound recording] /" DAGGER "cEva Johansson.\n"
		"300    " DAGGER "a1 sound disc :" DAGGER "bdigital, stereo. ;" DAGGER "c4 3/4 in. +"
		DAGGER "e1 booklet (39 p.)\n"));
	assert_string_equal(r->f.title, "Gesänge");
	assert_string_equal(r->f.extent, "1 sound disc : digital, stereo. ; 4 3/4 in. + 1 booklet (39 p.)");
	mc_record_free(r);

	/* 245 $f (inclusive dates in MARC 21) is not part of the title */
	r = extracted(marc("LDR 00000ntc  2200000 a 4500\n"
			   "245 00 " DAGGER "aPapers," DAGGER "f1858-1945.\n"));
	assert_string_equal(r->f.title, "Papers");
	assert_string_equal(r->f.material, "manuscript");
	mc_record_free(r);
}

/* The Danish record of the ISO 2709 sample is danMARC2, not MARC 21. */
static void test_danmarc(void **state)
{
	struct mc_record *r;
	const struct mc_fields *f;

	(void)state;
	r = extracted(marc("LDR 00725nam0a2200253   45  \n"
			   "001 00 " DAGGER "aD000015937\n"
			   "008 00 " DAGGER "ar19881981" DAGGER "bdk" DAGGER "ldan\n"
			   "021 00 " DAGGER "a87-11-04010-6" DAGGER "chf.\n"
			   "041 00 " DAGGER "adan" DAGGER "ceng\n"
			   "100 00 " DAGGER "aAnderson" DAGGER "hBob\n"
			   "245 00 " DAGGER "aStrækøvelser" DAGGER "dBob Anderson" DAGGER
			   "fillustreret af Jean Anderson\n"
			   "260 00 " DAGGER "a[Kbh.]" DAGGER "bClausen bøger" DAGGER "c1988\n"
			   "652 00 " DAGGER "a79.601\n"
			   "010 00 " DAGGER "a870970" DAGGER "b05675030\n"));
	f = &r->f;
	assert_string_equal(f->title, "Strækøvelser");
	assert_string_equal(f->responsibility, "Bob Anderson ; illustreret af Jean Anderson");
	assert_string_equal(f->names[0].name, "Anderson, Bob");
	assert_string_equal(tv(&f->ids, "isbn", 0), "9788711040102");
	assert_null(tv(&f->ids, "lccn", 0));  /* 010 is not an LCCN in danMARC2 */
	assert_string_equal(tv(&f->classes, "other:dk5", 0), "79.601");
	assert_int_equal(f->languages.n, 1);
	assert_string_equal(f->languages.v[0], "dan");
	assert_string_equal(f->place, "Kbh.");
	assert_int_equal(f->year, 1988);
	assert_string_equal(f->material, "book");
	mc_record_free(r);
}

static void test_marc_ids(void **state)
{
	struct mc_record *r;
	const struct mc_tvv *ids;

	(void)state;
	r = extracted(marc(
		"LDR 01433nas  2200421 a 4500\n"
		"010    " DAGGER "a   92646062 " DAGGER "zsn 92004430 \n"
		"010    " DAGGER "an  85-2 //r82\n"
		"015    " DAGGER "aGB9912345" DAGGER "2bnb\n"
		"016 7  " DAGGER "a012345678" DAGGER "2Uk\n"
		"016    " DAGGER "a98765\n"
		"022 0  " DAGGER "a1187-7081" DAGGER "y0025-9535" DAGGER "z1234-5678\n"
		"022    " DAGGER "a1187-7082\n"
		"024 0  " DAGGER "aUSRC17607839\n"
		"024 1  " DAGGER "a036000291452\n"
		"024 3  " DAGGER "a4006381333931\n"
		"024 7  " DAGGER "a10.1000/182" DAGGER "2doi\n"
		"024 8  " DAGGER "aX-123\n"
		"035    " DAGGER "a(OCoLC)26273275\n"
		"035    " DAGGER "a(OCoLC)26273275\n"));
	ids = &r->f.ids;
	assert_string_equal(tv(ids, "lccn", 0), "92646062");
	assert_string_equal(tv(ids, "lccn", 1), "n85000002");
	assert_null(tv(ids, "lccn", 2));
	assert_string_equal(tv(ids, "nbn", 0), "GB9912345");
	assert_string_equal(tv(ids, "nbn", 1), "Uk:012345678");
	assert_string_equal(tv(ids, "nbn", 2), "98765");
	assert_string_equal(tv(ids, "issn", 0), "1187-7081");
	assert_null(tv(ids, "issn", 1));
	assert_string_equal(tv(ids, "issn-invalid", 0), "0025-9535");
	assert_string_equal(tv(ids, "issn-invalid", 1), "1234-5678");
	assert_string_equal(tv(ids, "issn-invalid", 2), "1187-7082");
	assert_string_equal(tv(ids, "std", 0), "isrc:USRC17607839");
	assert_string_equal(tv(ids, "std", 1), "upc:036000291452");
	assert_string_equal(tv(ids, "std", 2), "ean:4006381333931");
	assert_string_equal(tv(ids, "std", 3), "doi:10.1000/182");
	assert_string_equal(tv(ids, "std", 4), "X-123");
	assert_string_equal(tv(ids, "control", 0), "(OCoLC)26273275");
	assert_null(tv(ids, "control", 1));  /* duplicate dropped */
	assert_string_equal(r->f.material, "serial");
	mc_record_free(r);
}

static void test_marc_names_kinds(void **state)
{
	struct mc_record *r;
	const struct mc_fields *f;

	(void)state;
	r = extracted(marc(
		"LDR 01369cam  2200265 i 4500\n"
		"111 20 " DAGGER "aWorkshop on Computer Processing of Dynamic Images," DAGGER
		"cWashington University," DAGGER "d1971.\n"
		"700 10 " DAGGER "aBaird, J. Arthur" DAGGER "q(Joseph Arthur)\n"
		"700 10 " DAGGER "aFreedman, David Noel," DAGGER "d1922-\n"
		"710 20 " DAGGER "aWashington University, St. Louis." DAGGER
		"bBiomedical Computer Laboratory.\n"
		"711 2  " DAGGER "aHội thảo khoa học" DAGGER "n(3 ;" DAGGER "d2019 ;" DAGGER
		"cHà Nội)" DAGGER "jbiên tập\n"
		"720 1  " DAGGER "aLê Văn A" DAGGER "4edt\n"
		"720 2  " DAGGER "aThư viện tỉnh Hà Tĩnh\n"));
	f = &r->f;
	assert_int_equal(f->nnames, 7);
	assert_string_equal(f->names[0].name, "Workshop on Computer Processing of Dynamic Images");
	assert_int_equal(f->names[0].kind, MC_NAME_MEETING);
	assert_int_equal(f->names[0].main_entry, 1);
	assert_string_equal(f->names[0].dates, "1971");
	assert_string_equal(f->names[1].name, "Baird, J. Arthur (Joseph Arthur)");
	assert_string_equal(f->names[2].name, "Freedman, David Noel");
	assert_string_equal(f->names[2].dates, "1922-");
	assert_string_equal(f->names[3].name,
			    "Washington University, St. Louis. Biomedical Computer Laboratory");
	assert_int_equal(f->names[3].kind, MC_NAME_CORPORATE);
	assert_int_equal(f->names[3].main_entry, 0);
	assert_int_equal(f->names[4].kind, MC_NAME_MEETING);
	assert_string_equal(f->names[4].role, "biên tập");
	assert_string_equal(f->names[5].name, "Lê Văn A");
	assert_int_equal(f->names[5].kind, MC_NAME_PERSONAL);
	assert_string_equal(f->names[5].role, "edt");
	assert_int_equal(f->names[6].kind, MC_NAME_CORPORATE);
	assert_int_equal(f->year, 0);
	mc_record_free(r);
}

static void test_marc_languages_year(void **state)
{
	struct mc_record *r;

	(void)state;
	/* 008 multiple dates; 041 packed codes; duplicates dropped */
	r = extracted(marc("LDR 00942cam  22002531a 4500\n"
			   "008 780306m19009999ohu           00000 grc  \n"
			   "041 0  " DAGGER "agrchebeng" DAGGER "dENG" DAGGER "hfre\n"
			   "260 0  " DAGGER "c<1973-c1980   >\n"));
	assert_int_equal(r->f.year, 1900);
	assert_string_equal(r->f.date, "<1973-c1980 >");
	assert_int_equal(r->f.languages.n, 3);
	assert_string_equal(r->f.languages.v[0], "grc");
	assert_string_equal(r->f.languages.v[1], "heb");
	assert_string_equal(r->f.languages.v[2], "eng");
	mc_record_free(r);

	/* 19uu is not a year: fall back to the date; "und" and "|||" dropped */
	r = extracted(marc("LDR 00000nam  2200000 a 4500\n"
			   "008 910225c19uu9999dcuar        f0uuu 0und  \n"
			   "260    " DAGGER "aH. :" DAGGER "bVăn học," DAGGER "c[199-?], in lại 2005.\n"));
	assert_int_equal(r->f.year, 2005);
	assert_string_equal(r->f.place, "H.");
	assert_int_equal(r->f.languages.n, 0);
	mc_record_free(r);

	/* 008/06 'n' (dates unknown) and 'b' (B.C.): not used */
	r = extracted(marc("LDR 00000nam  2200000 a 4500\n"
			   "008 910225n19871990xx            000 0 vie  \n"
			   "264  4 " DAGGER "c©1999\n"));
	assert_int_equal(r->f.year, 1999);
	assert_string_equal(r->f.date, "©1999");
	mc_record_free(r);

	/* a short or hostile 008 gives nothing and does not crash */
	r = extracted(marc("LDR 00000nam  2200000 a 4500\n"
			   "008 9102\n"));
	assert_int_equal(r->f.year, 0);
	assert_int_equal(r->f.languages.n, 0);
	mc_record_free(r);
}

static void test_marc_material(void **state)
{
	static const struct {
		const char *leader, *f008, *extra, *want;
	} cases[] = {
		{ "00000nam  2200000 a 4500", "", "", "book" },
		{ "00000nas  2200000 a 4500", "", "", "serial" },
		{ "00000nai  2200000 a 4500", "", "", "serial" },
		{ "00000nab  2200000 a 4500", "", "", "article" },
		{ "00000naa  2200000 a 4500", "", "", "article" },
		{ "00000nam  2200000 a 4500", "", "502    " DAGGER "aLuận án tiến sĩ", "thesis" },
		{ "00000nam  2200000 a 4500", "000000s2001    vm       m          vie  ", "",
		  "thesis" },
		{ "00000nam  2200000 a 4500", "000000s2001    vm      o           vie  ", "",
		  "electronic" },
		{ "00000ntm  2200000 a 4500", "", "", "manuscript" },
		{ "00000ncm  2200000 a 4500", "", "", "music-score" },
		{ "00000ndm  2200000 a 4500", "", "", "music-score" },
		{ "00000nem  2200000 a 4500", "", "", "map" },
		{ "00000nfm  2200000 a 4500", "", "", "map" },
		{ "00000ngm  2200000 a 4500", "", "", "video" },
		{ "00000nim  2200000 a 4500", "", "", "sound" },
		{ "00000njm  2200000 a 4500", "", "", "music-recording" },
		{ "00000nkm  2200000 a 4500", "", "", "image" },
		{ "00000nmm  2200000 a 4500", "", "", "electronic" },
		{ "00000nom  2200000 a 4500", "", "", "kit" },
		{ "00000npm  2200000 a 4500", "", "", "mixed" },
		{ "00000nrm  2200000 a 4500", "", "", "object" },
		{ "00000n m  2200000 a 4500", "", "", "other" },
		{ "00000nzm  2200000 a 4500", "", "", "other" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char spec[256];
		struct mc_record *r;

		snprintf(spec, sizeof(spec), "LDR %s%s%s%s%s", cases[i].leader,
			 *cases[i].f008 ? "\n008 " : "", cases[i].f008, *cases[i].extra ? "\n" : "",
			 cases[i].extra);
		r = extracted(marc(spec));
		if (strcmp(r->f.material, cases[i].want) != 0)
			print_message("case %zu: %s\n", i, spec);
		assert_string_equal(r->f.material, cases[i].want);
		mc_record_free(r);
	}
}

/* Authority and classification records: heading only, no bibliographic mapping. */
static void test_marc_authority(void **state)
{
	struct mc_record *r;

	(void)state;
	r = extracted(marc("LDR 00549cz   2200169n  4500\n"
			   "008 000906n| acannaabn          |n aba      \n"
			   "010    " DAGGER "an  00015403 \n"
			   "100 10 " DAGGER "aWatson, George\n"
			   "670    " DAGGER "aDogs have souls too, c2001:" DAGGER "bt.p. (George Watson)\n"));
	assert_string_equal(r->f.material, "other");
	assert_string_equal(r->f.title, "Watson, George");
	assert_int_equal(r->f.nnames, 0);
	assert_int_equal(r->f.subjects.n, 0);
	assert_int_equal(r->f.languages.n, 0);
	assert_int_equal(r->f.year, 0);
	assert_string_equal(tv(&r->f.ids, "lccn", 0), "n00015403");
	mc_record_free(r);

	r = extracted(marc("LDR 00669cz   2200169n  4500\n"
			   "150    " DAGGER "aKites (Birds)" DAGGER "xBehavior" DAGGER "zViệt Nam\n"));
	assert_string_equal(r->f.title, "Kites (Birds) -- Behavior -- Việt Nam");
	mc_record_free(r);

	r = extracted(marc("LDR 00834nw   2200193n  4500\n"
			   "084 0  " DAGGER "alcc\n"
			   "153    " DAGGER "aHF3000" DAGGER "cHF3163" DAGGER "hCommerce" DAGGER
			   "hBy region or country" DAGGER "jUnited States\n"));
	assert_string_equal(r->f.title, "HF3000-HF3163 Commerce -- By region or country -- United States");
	assert_int_equal(r->f.classes.n, 0);
	mc_record_free(r);
}

static void test_marc_notes_series_links(void **state)
{
	struct mc_record *r;
	const struct mc_fields *f;

	(void)state;
	r = extracted(marc(
		"LDR 00000nam  2200000 a 4500\n"
		"490 1  " DAGGER "aNBS special publication ;" DAGGER "v500-8\n"
		"504    " DAGGER "aIncludes bibliographical references.\n"
		"505 0  " DAGGER "aThe Ray -- My melancholy baby.\n"
		"520    " DAGGER "aTóm tắt:   nội dung\t  về lịch sử.\n"
		"541 0  " DAGGER "aMua của ông X, giá 50.000đ\n"
		"541 1  " DAGGER "aTặng\n"
		"583 0  " DAGGER "aweeded\n"
		"500    " DAGGER "aIncludes bibliographical references.\n"
		"800 1  " DAGGER "aSmith, John." DAGGER "tCollected works ;" DAGGER "vv. 2.\n"
		"810 1  " DAGGER "aUnited States." DAGGER "bNational Bureau of Standards." DAGGER
		"tSpecial publication ;" DAGGER "v500-8.\n"
		"830  0 " DAGGER "aGifford lectures," DAGGER "v1904-1906.\n"
		"856 40 " DAGGER "3Full text" DAGGER "uhttp://a.example/1" DAGGER "uhttp://b.example/1\n"
		"856 42 " DAGGER "uhttp://a.example/1" DAGGER "zduplicate\n"
		"856 4  " DAGGER "uhttps://c.example/x" DAGGER "zPublic note.\n"));
	f = &r->f;
	assert_int_equal(f->series.n, 4);
	assert_string_equal(f->series.v[0], "NBS special publication ; 500-8");
	assert_string_equal(f->series.v[1], "Smith, John. Collected works ; v. 2");
	assert_string_equal(f->series.v[2],
			    "United States. National Bureau of Standards. Special publication ; 500-8");
	assert_string_equal(f->series.v[3], "Gifford lectures ; 1904-1906");
	assert_int_equal(f->notes.n, 4);
	assert_string_equal(f->notes.v[0], "Includes bibliographical references.");
	assert_string_equal(f->notes.v[1], "The Ray -- My melancholy baby.");
	assert_string_equal(f->notes.v[2], "Tóm tắt: nội dung về lịch sử.");
	assert_string_equal(f->notes.v[3], "Tặng");  /* private 541/583 left out */
	assert_int_equal(f->nlinks, 3);
	assert_string_equal(f->links[0].label, "Full text");
	assert_string_equal(f->links[1].url, "http://b.example/1");
	assert_string_equal(f->links[2].url, "https://c.example/x");
	assert_string_equal(f->links[2].label, "Public note.");
	mc_record_free(r);
}

/* ---- Dublin Core mapping ---- */

static void test_dc(void **state)
{
	struct mc_record *r;
	const struct mc_fields *f;

	(void)state;
	r = extracted(dc(
		"creator=Jong, G. de\n"
		"contributor=Jong, G. de\n"
		"creator=Nooteboom, B.\n"
		"contributor=Smit, A.\n"
		"date=2003-03-11T14:00:50Z\n"
		"date=2001-01-04\n"
		"identifier=http://hdl.handle.net/1765/9\n"
		"identifier=90-9014980-5\n"
		"identifier=ISBN 978-0-306-40615-8\n"
		"identifier=1566-7294\n"
		"identifier=urn:issn:1566-7295\n"
		"identifier=hdl:1765/10\n"
		"identifier=doi:10.1000/182\n"
		"identifier=RePEc:dgr:eureri:2001134\n"
		"identifier=-\n"
		"identifier=Steijn, A.J. (2001). Work systems. New Technology, Work, and Employment, 16(3).\n"
		"description=This study   examines\tthe logic.\n"
		"description=This study examines the logic.\n"
		"language=en\n"
		"language=en_US\n"
		"language=other\n"
		"language=vi\n"
		"language=Tiếng Việt\n"
		"publisher=Erasmus Research Institute of Management (ERIM)\n"
		"relation=ERS; ERS-2001-73-ORG\n"
		"relation=https://example.org/series\n"
		"relation=January 2004\n"
		"rights=Copyright 2001\n"
		"subject=Automobile industries\n"
		"subject=M;M10; L2;;\n"
		"subject=Automobile industries\n"
		"title=The Causality of Supply Relationships.\n"
		"title=Causality (alternative title)\n"
		"type=Working Paper\n"
		"type=Text\n"
		"format=application/pdf https://ep.eur.nl/retrieve/6/erim.pdf\n"
		"format=151500\n"
		"format=xii, 250 p. ; 24 cm\n"));
	f = &r->f;
	assert_string_equal(f->title, "The Causality of Supply Relationships");
	assert_int_equal(f->nnames, 3);
	assert_string_equal(f->names[0].name, "Jong, G. de");
	assert_int_equal(f->names[0].main_entry, 1);
	assert_string_equal(f->names[1].name, "Nooteboom, B.");
	assert_int_equal(f->names[1].main_entry, 0);
	assert_string_equal(f->names[2].name, "Smit, A.");
	assert_int_equal(f->names[2].kind, MC_NAME_PERSONAL);
	assert_string_equal(f->date, "2001-01-04");
	assert_int_equal(f->year, 2001);
	assert_string_equal(f->material, "book");
	assert_string_equal(f->publisher, "Erasmus Research Institute of Management (ERIM)");
	assert_string_equal(f->extent, "xii, 250 p. ; 24 cm");
	assert_string_equal(tv(&f->ids, "isbn", 0), "9789090149806");
	assert_string_equal(tv(&f->ids, "isbn-invalid", 0), "ISBN 978-0-306-40615-8");
	assert_string_equal(tv(&f->ids, "issn", 0), "1566-7294");
	assert_string_equal(tv(&f->ids, "issn-invalid", 0), "urn:issn:1566-7295");
	assert_string_equal(tv(&f->ids, "control", 0), "RePEc:dgr:eureri:2001134");
	assert_null(tv(&f->ids, "control", 1));
	assert_int_equal(f->nlinks, 5);
	assert_string_equal(f->links[0].url, "http://hdl.handle.net/1765/9");
	assert_string_equal(f->links[1].url, "https://hdl.handle.net/1765/10");
	assert_string_equal(f->links[2].url, "https://doi.org/10.1000/182");
	assert_string_equal(f->links[3].url, "https://example.org/series");
	assert_string_equal(f->links[4].url, "https://ep.eur.nl/retrieve/6/erim.pdf");
	assert_string_equal(f->links[4].label, "application/pdf");
	assert_int_equal(f->languages.n, 2);
	assert_string_equal(f->languages.v[0], "eng");
	assert_string_equal(f->languages.v[1], "vie");
	assert_int_equal(f->subjects.n, 4);
	assert_string_equal(f->subjects.v[0], "Automobile industries");
	assert_string_equal(f->subjects.v[1], "M");
	assert_string_equal(f->subjects.v[2], "M10");
	assert_string_equal(f->subjects.v[3], "L2");
	assert_int_equal(f->series.n, 1);
	assert_string_equal(f->series.v[0], "ERS ; ERS-2001-73-ORG");
	/* the citation, one description (the repeat dropped), the relation,
	 * the second title */
	assert_int_equal(f->notes.n, 4);
	assert_string_equal(f->notes.v[0],
			    "Steijn, A.J. (2001). Work systems. New Technology, Work, and Employment, 16(3).");
	assert_string_equal(f->notes.v[1], "This study examines the logic.");
	assert_string_equal(f->notes.v[2], "January 2004");
	assert_string_equal(f->notes.v[3], "Causality (alternative title)");
	mc_record_free(r);
}

static void test_dc_types(void **state)
{
	static const struct {
		const char *type, *want;
	} cases[] = {
		{ "Text", "book" },        { "Book", "book" },       { "Thesis", "thesis" },
		{ "Article", "article" },  { "Preprint", "article" }, { "Book chapter", "article" },
		{ "Image", "image" },      { "StillImage", "image" }, { "MovingImage", "video" },
		{ "Sound", "sound" },      { "Dataset", "electronic" }, { "Luận văn", "thesis" },
		{ "Luận án", "thesis" },   { "Sách", "book" },       { "Other", "other" },
		{ "Inaugural Address", "book" }, { "Technical Report", "book" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char spec[128];
		struct mc_record *r;

		snprintf(spec, sizeof(spec), "title=x\ntype=%s", cases[i].type);
		r = extracted(dc(spec));
		assert_string_equal(r->f.material, cases[i].want);
		mc_record_free(r);
	}
}

static void test_dc_no_type(void **state)
{
	struct mc_record *r = extracted(dc("title=x"));

	(void)state;
	assert_string_equal(r->f.material, "other");
	assert_int_equal(r->f.year, 0);
	mc_record_free(r);
}

/* ---- robustness ---- */

static void test_empty_and_reuse(void **state)
{
	struct mc_record *r;
	struct mc_field *fl;

	(void)state;
	assert_int_equal(mc_record_new(&r), 0);
	assert_int_equal(mc_record_extract(r, NULL), 0);  /* neither MARC nor DC */
	assert_null(r->f.title);
	assert_int_equal(r->f.nnames, 0);
	mc_record_free(r);

	/* fields without subfields, empty subfields, non-numeric tags */
	r = marc("LDR 00000nam  2200000 a 4500\n"
		 "245 10 " DAGGER "a" DAGGER "b   " DAGGER "c\n"
		 "100 10 " DAGGER "a ,\n"
		 "020    " DAGGER "a\n"
		 "ABC 10 " DAGGER "afoo\n"
		 "650  0 " DAGGER "x" DAGGER "v\n");
	assert_int_equal(mc_marc_add_data(r, "260", ' ', ' ', &fl), 0);
	extracted(r);
	assert_null(r->f.title);
	assert_null(r->f.responsibility);
	assert_int_equal(r->f.nnames, 0);
	assert_int_equal(r->f.subjects.n, 0);
	assert_null(r->f.place);
	/* extracting again clears and gives the same */
	extracted(r);
	assert_null(r->f.title);
	assert_string_equal(r->f.material, "book");
	mc_record_free(r);
}

/* Thousands of distinct subjects: de-duplication must stay linear. */
static void test_hostile_many_values(void **state)
{
	struct mc_record *r;
	struct mc_field *fl;
	char v[32];
	int i, n;
	clock_t t0;

	(void)state;
	r = marc("LDR 00000nam  2200000 a 4500");
	assert_int_equal(mc_marc_add_data(r, "653", ' ', ' ', &fl), 0);
	for (i = 0; i < MC_MAX_SUBFIELDS; i++) {
		n = snprintf(v, sizeof(v), "keyword %d", i % 1500);
		assert_int_equal(mc_marc_add_sub(r, fl, 'a', v, (size_t)n), 0);
	}
	for (i = 0; i < 5000; i++) {
		assert_int_equal(mc_marc_add_data(r, "650", ' ', '0', &fl), 0);
		n = snprintf(v, sizeof(v), "Subject %d", i);
		assert_int_equal(mc_marc_add_sub(r, fl, 'a', v, (size_t)n), 0);
	}
	t0 = clock();
	extracted(r);
	assert_int_equal(r->f.subjects.n, 1500 + 5000);
	assert_string_equal(r->f.subjects.v[1499], "keyword 1499");
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0 * SLOW_BUILD);
	mc_record_free(r);
}

/* A huge field value is handled within the arena cap. */
static void test_huge_field(void **state)
{
	struct mc_record *r;
	struct mc_field *fl;
	char *big = malloc(MC_MAX_FIELD_BYTES);

	(void)state;
	assert_non_null(big);
	memset(big, 'a', MC_MAX_FIELD_BYTES);
	memcpy(big + MC_MAX_FIELD_BYTES - 2, " /", 2);
	r = marc("LDR 00000nam  2200000 a 4500");
	assert_int_equal(mc_marc_add_data(r, "245", '1', '0', &fl), 0);
	assert_int_equal(mc_marc_add_sub(r, fl, 'a', big, MC_MAX_FIELD_BYTES), 0);
	extracted(r);
	assert_int_equal(strlen(r->f.title), MC_MAX_FIELD_BYTES - 2);
	mc_record_free(r);
	free(big);
}

/* Many extractions of a typical record reuse nothing stale (and the log
 * shows the time per record). */
static void test_speed(void **state)
{
	static const char spec[] =
		"LDR 01126nam  2200265 a 4500\n"
		"008 810526s1980    ctuaf         00010 vie  \n"
		"020    " DAGGER "a978-604-1-00000-1 :" DAGGER "c85000đ\n"
		"082 04 " DAGGER "a895.9223" DAGGER "223\n"
		"100 0  " DAGGER "aNguyễn Nhật Ánh\n"
		"245 10 " DAGGER "aCho tôi xin một vé đi tuổi thơ :" DAGGER "btruyện /" DAGGER
		"cNguyễn Nhật Ánh\n"
		"260    " DAGGER "aTp. Hồ Chí Minh :" DAGGER "bTrẻ," DAGGER "c2023\n"
		"300    " DAGGER "a218 tr. ;" DAGGER "c20 cm\n"
		"650  7 " DAGGER "aVăn học thiếu nhi" DAGGER "zViệt Nam\n"
		"952    " DAGGER "aTVTINH" DAGGER "cKHO" DAGGER "o895.9223 NG-A" DAGGER "pVV.1";
	struct timespec t0, t1;
	double total = 0, per;
	int i, n = 20000;

	(void)state;
	for (i = 0; i < n; i++) {
		struct mc_record *r = marc(spec);

		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(mc_record_extract(r, NULL), 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		total += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
		assert_int_equal(r->f.nholdings, 1);
		mc_record_free(r);
	}
	per = total / n;
	/* A figure for the log, not a timed assertion: speed is measured by
	 * bench/ingest, where the machine's load can be seen. */
	print_message("# extract: %.2f us/record\n", per * 1e6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_isbn),
		cmocka_unit_test(test_issn),
		cmocka_unit_test(test_marc_book),
		cmocka_unit_test(test_marc_vietnamese_koha),
		cmocka_unit_test(test_marc_title_punctuation),
		cmocka_unit_test(test_marc_isbd_details),
		cmocka_unit_test(test_danmarc),
		cmocka_unit_test(test_marc_ids),
		cmocka_unit_test(test_marc_names_kinds),
		cmocka_unit_test(test_marc_languages_year),
		cmocka_unit_test(test_marc_material),
		cmocka_unit_test(test_marc_authority),
		cmocka_unit_test(test_marc_notes_series_links),
		cmocka_unit_test(test_dc),
		cmocka_unit_test(test_dc_types),
		cmocka_unit_test(test_dc_no_type),
		cmocka_unit_test(test_empty_and_reuse),
		cmocka_unit_test(test_hostile_many_values),
		cmocka_unit_test(test_huge_field),
		cmocka_unit_test(test_speed),
		cmocka_unit_test(test_golden_lc_marcxml),
		cmocka_unit_test(test_golden_iso2709),
		cmocka_unit_test(test_golden_oai_dc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
