/* test-parse.c — MARCXML, oai_dc, OAI-PMH and ISO 2709 parsing on real data
 * (idzebra examples, DSpace OAI captures in ../shared) and on the hostile
 * inputs in tests/data/parse/ (regenerate them with make.py there).
 *
 * Run from tests/unit with MUCLUC_SRCDIR set (meson test does both). */
#include <errno.h>
#include <fcntl.h>
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

#include "mc-hash.h"
#include "mc-limits.h"
#include "ingest.h"

#define ZEBRA "/usr/share/doc/idzebra-2.0/examples"

/* ---------------------------------------------------------------- helpers */

struct got {
	char id[128];        /* OAI identifier, else 001 (control or $a of a 001 data field) */
	char title[256];     /* 245 $a, or dc:title */
	int bad;             /* 0 or the error code */
	int64_t off, line;   /* rec->in_offset / in_line */
	int64_t err_off, err_line;
	char err_msg[512];
	char err_id[128];
	int status, format;
	int64_t datestamp;
	size_t nfields, ndc;
	size_t raw_len;
	char raw_head[32], raw_tail[32];
	char first_dc[128];
	int has_fffd;        /* some value holds U+FFFD */
};

struct coll {
	struct got *r;
	size_t n, cap;
	int stop_at;         /* callback returns 42 at this record (1-based); 0 = never */
	uint64_t digest;     /* FNV over every value seen, in order */
};

static void cpy(char *dst, size_t sz, const char *s, size_t n)
{
	if (n >= sz)
		n = sz - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static int collect(void *ctx, struct mc_record *rec, const struct mc_error *bad, const char *raw,
		   size_t raw_len)
{
	struct coll *c = ctx;
	struct got *g;
	size_t i, j;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->r = realloc(c->r, c->cap * sizeof(*c->r));
		assert_non_null(c->r);
	}
	g = &c->r[c->n++];
	memset(g, 0, sizeof(*g));
	g->off = rec->in_offset;
	g->line = rec->in_line;
	g->status = rec->status;
	g->format = rec->format;
	g->datestamp = rec->datestamp;
	c->digest = mc_hash64_add(c->digest, &g->status, sizeof(g->status));
	if (rec->local_id) {
		cpy(g->id, sizeof(g->id), rec->local_id, strlen(rec->local_id));
		c->digest = mc_hash64_add(c->digest, rec->local_id, strlen(rec->local_id));
	}
	if (bad) {
		assert_int_not_equal(bad->code, 0);
		g->bad = bad->code;
		g->err_off = bad->offset;
		g->err_line = bad->line;
		cpy(g->err_msg, sizeof(g->err_msg), bad->msg, strlen(bad->msg));
		cpy(g->err_id, sizeof(g->err_id), bad->record_id, strlen(bad->record_id));
		c->digest = mc_hash64_add(c->digest, &bad->code, sizeof(bad->code));
		c->digest = mc_hash64_add(c->digest, &bad->offset, sizeof(bad->offset));
	}
	if (rec->marc) {
		const struct mc_marc *m = rec->marc;

		assert_int_equal(strlen(m->leader), 24);
		c->digest = mc_hash64_add(c->digest, m->leader, 24);
		g->nfields = m->nfields;
		for (i = 0; i < m->nfields; i++) {
			const struct mc_field *f = &m->fields[i];

			assert_int_equal(strlen(f->tag), 3);
			c->digest = mc_hash64_add(c->digest, f->tag, 3);
			if (f->value) {
				assert_int_equal(f->value[f->len], '\0');
				c->digest = mc_hash64_add(c->digest, f->value, f->len);
				if (!g->id[0] && strcmp(f->tag, "001") == 0)
					cpy(g->id, sizeof(g->id), f->value, f->len);
				if (memmem(f->value, f->len, "\xEF\xBF\xBD", 3))
					g->has_fffd = 1;
				continue;
			}
			c->digest = mc_hash64_add(c->digest, &f->ind1, 1);
			c->digest = mc_hash64_add(c->digest, &f->ind2, 1);
			for (j = 0; j < f->nsub; j++) {
				const struct mc_subfield *s = &f->sub[j];

				assert_int_equal(s->value[s->len], '\0');
				c->digest = mc_hash64_add(c->digest, &s->code, 1);
				c->digest = mc_hash64_add(c->digest, s->value, s->len);
				if (memmem(s->value, s->len, "\xEF\xBF\xBD", 3))
					g->has_fffd = 1;
				if (strcmp(f->tag, "245") == 0 && s->code == 'a' && !g->title[0])
					cpy(g->title, sizeof(g->title), s->value, s->len);
				if (strcmp(f->tag, "001") == 0 && s->code == 'a' && !g->id[0])
					cpy(g->id, sizeof(g->id), s->value, s->len);
			}
		}
	}
	if (rec->dc) {
		g->ndc = rec->dc->n;
		for (i = 0; i < rec->dc->n; i++) {
			const struct mc_dc_elem *e = &rec->dc->elems[i];

			assert_int_equal(e->value[e->len], '\0');
			c->digest = mc_hash64_add(c->digest, e->name, strlen(e->name));
			c->digest = mc_hash64_add(c->digest, e->value, e->len);
			if (i == 0)
				snprintf(g->first_dc, sizeof(g->first_dc), "%s=%s", e->name, e->value);
			if (strcmp(e->name, "title") == 0 && !g->title[0])
				cpy(g->title, sizeof(g->title), e->value, e->len);
		}
	}
	if (raw) {
		g->raw_len = raw_len;
		cpy(g->raw_head, sizeof(g->raw_head), raw, raw_len < 31 ? raw_len : 31);
		cpy(g->raw_tail, sizeof(g->raw_tail), raw + (raw_len > 31 ? raw_len - 31 : 0),
		    raw_len < 31 ? raw_len : 31);
	}
	if (c->stop_at && (int)c->n == c->stop_at)
		return 42;
	return 0;
}

static void coll_free(struct coll *c)
{
	free(c->r);
	memset(c, 0, sizeof(*c));
}

static const char *srcdir(void)
{
	const char *s = getenv("MUCLUC_SRCDIR");

	return s ? s : "../..";
}

static void path_of(char *buf, size_t sz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void path_of(char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
}

static void data_path(char *buf, size_t sz, const char *name)
{
	path_of(buf, sz, "%s/tests/data/parse/%s", srcdir(), name);
}

/* ../shared beside the source tree, or skip the test. */
static void shared_path(char *buf, size_t sz, const char *rel)
{
	struct stat st;

	path_of(buf, sz, "%s/../shared/%s", srcdir(), rel);
	if (stat(buf, &st) != 0) {
		print_message("skipped: %s not found (../shared is absent)\n", buf);
		skip();
	}
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	size_t n = 0, cap = 0, k;

	assert_non_null(f);
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			b = realloc(b, cap + 1);
			assert_non_null(b);
		}
		k = fread(b + n, 1, cap - n, f);
		n += k;
	} while (k);
	fclose(f);
	b[n] = '\0';
	*len = n;
	return b;
}

/* gzip -dc into memory (zlib is not a dependency). */
static char *gunzip(const char *path, size_t *len)
{
	char cmd[1024], *b = NULL;
	size_t n = 0, cap = 0, k;
	FILE *f;

	path_of(cmd, sizeof(cmd), "gzip -dc '%s'", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			b = realloc(b, cap + 1);
			assert_non_null(b);
		}
		k = fread(b + n, 1, cap - n, f);
		n += k;
	} while (k);
	assert_int_equal(pclose(f), 0);
	b[n] = '\0';
	*len = n;
	return b;
}

/* Parse buf with a fresh parser in chunks of chunk bytes (0 = all at once;
 * SIZE_MAX = random sizes 1..97). Returns finish's (or feed's) code; err filled. */
static int parse_mem(const char *buf, size_t len, enum mc_input in, size_t chunk, struct coll *c,
		     struct mc_error *err, struct mc_parser **keep)
{
	struct mc_parse_opts o = { .input = in, .filename = "mem.xml", .source = "test" };
	struct mc_parser *p;
	size_t pos = 0;
	unsigned seed = 12345;
	int rc;

	assert_int_equal(mc_parser_new(&o, collect, c, &p), 0);
	mc_error_clear(err);
	rc = 0;
	while (pos < len && rc == 0) {
		size_t n = chunk == 0 ? len - pos : chunk;

		if (chunk == SIZE_MAX) {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 97;
		}
		if (n > len - pos)
			n = len - pos;
		rc = mc_parser_feed(p, buf + pos, n, err);
		pos += n;
	}
	if (rc == 0) {
		assert_int_equal(mc_parser_offset(p), len);
		rc = mc_parser_finish(p, err);
	}
	if (keep)
		*keep = p;
	else
		mc_parser_free(p);
	return rc;
}

static int parse_path(const char *path, enum mc_input in, struct coll *c, struct mc_error *err)
{
	struct mc_parse_opts o = { .input = in, .source = "test" };
	struct mc_parse_stats st;
	int rc = mc_parse_file(path, &o, collect, c, &st, err);

	assert_int_equal(st.records, c->n);
	return rc;
}

static size_t find(const char *hay, size_t n, const char *needle, size_t from)
{
	const char *p = memmem(hay + from, n - from, needle, strlen(needle));

	assert_non_null(p);
	return (size_t)(p - hay);
}

/* Offset of the last needle starting before pos. */
static int64_t rfind(const char *hay, size_t pos, const char *needle)
{
	size_t n = strlen(needle);

	while (pos-- > 0)
		if (memcmp(hay + pos, needle, n) == 0)
			return (int64_t)pos;
	fail_msg("%s not found", needle);
	return -1;
}

static int64_t line_of(const char *buf, size_t off)
{
	int64_t l = 1;
	size_t i;

	for (i = 0; i < off; i++)
		l += buf[i] == '\n';
	return l;
}

/* ---------------------------------------------------------------- basics */

static void test_zebra_marcxml(void **state)
{
	static const struct {
		const char *name;
		size_t n;
	} files[] = {
		{ "collection-sandburg-1.xml", 1 }, { "collection-clasmrc.xml.gz", 20 },
		{ "collection-namemrc.xml.gz", 20 }, { "collection-opera-43.xml.gz", 43 },
		{ "collection-subjmrc.xml.gz", 20 }, { "collection-2.xml.gz", 2 },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512];
		struct coll c = { 0 };
		struct mc_error err;
		size_t len;
		char *buf;

		path_of(path, sizeof(path), "%s/marcxml/%s", ZEBRA, files[i].name);
		buf = strstr(path, ".gz") ? gunzip(path, &len) : slurp(path, &len);
		assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 0, &c, &err, NULL), 0);
		assert_int_equal(c.n, files[i].n);
		for (k = 0; k < c.n; k++) {
			assert_int_equal(c.r[k].bad, 0);
			assert_int_equal(c.r[k].format, MC_FMT_MARC21);
			assert_true(c.r[k].nfields > 3);
			/* Offsets point at the record's start tag, raw is the whole element. */
			assert_true(c.r[k].off > 0);
			assert_int_equal(buf[c.r[k].off], '<');
			assert_int_equal(c.r[k].line, line_of(buf, (size_t)c.r[k].off));
			assert_true(strncmp(c.r[k].raw_head, "<record", 7) == 0 ||
				    strncmp(c.r[k].raw_head, "<marc:record", 12) == 0);
			assert_non_null(strstr(c.r[k].raw_tail, "record>"));
			assert_memory_equal(buf + c.r[k].off, c.r[k].raw_head, strlen(c.r[k].raw_head));
		}
		if (i == 0) {
			/* values as in the file, spaces kept */
			assert_string_equal(c.r[0].id, "   92005291 ");
			assert_string_equal(c.r[0].title, "Arithmetic /");
			assert_int_equal(c.r[0].nfields, 23);
			assert_int_equal(c.r[0].line, 3);
		}
		if (i == 5) {
			/* marc: prefixed records */
			assert_string_equal(c.r[0].id, "5637241");
			assert_string_equal(c.r[0].title, "The Great Ray Charles");
			assert_string_equal(c.r[0].raw_head, "<marc:record>\r\n\t\t<marc:leader>0");  /* CRLF */
		}
		free(buf);
		coll_free(&c);
	}
}

/* The record itself, field by field, against the file. */
static int check_sandburg(void *ctx, struct mc_record *r, const struct mc_error *bad, const char *raw,
			  size_t raw_len)
{
	const struct mc_marc *m = r->marc;
	const struct mc_field *f;

	assert_null(bad);
	assert_non_null(raw);
	assert_int_equal(raw_len, 3412);
	assert_null(r->local_id);  /* no OAI header */
	assert_string_equal(r->source, "hcm");
	assert_string_equal(m->leader, "01142cam  2200301 a 4500");
	assert_int_equal(m->nfields, 23);
	assert_string_equal(m->fields[3].tag, "008");
	assert_string_equal(m->fields[3].value, "920219s1993    caua   j      000 0 eng  ");
	assert_int_equal(m->fields[3].len, 40);
	assert_int_equal(m->fields[3].ind1, 0);
	f = mc_marc_first(m, "020");
	assert_non_null(f);
	assert_null(f->value);
	assert_int_equal(f->nsub, 2);
	assert_string_equal(mc_field_sub(f, 'a'), "0152038655 :");
	assert_string_equal(mc_field_sub(f, 'c'), "$15.95");
	f = mc_marc_first(m, "100");
	assert_int_equal(f->ind1, '1');
	assert_int_equal(f->ind2, ' ');
	assert_string_equal(mc_field_sub(f, 'd'), "1878-1967.");
	f = &m->fields[m->nfields - 1];
	assert_string_equal(f->tag, "700");
	assert_string_equal(mc_field_sub(f, 'a'), "Rand, Ted,");
	assert_string_equal(mc_field_sub(f, 'e'), "ill.");
	(*(int *)ctx)++;
	return 0;
}

static void test_sandburg_values(void **state)
{
	struct mc_parse_opts o = { .source = "hcm" };
	struct mc_parser *p;
	size_t len;
	char *buf = slurp(ZEBRA "/marcxml/collection-sandburg-1.xml", &len);
	int n = 0;

	(void)state;
	assert_int_equal(mc_parser_new(&o, check_sandburg, &n, &p), 0);
	assert_int_equal(mc_parser_feed(p, buf, len, NULL), 0);
	assert_int_equal(mc_parser_finish(p, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(mc_parser_offset(p), len);
	assert_int_equal(mc_parser_oai(p)->envelope, 0);
	assert_int_equal(mc_parser_oai(p)->records, 1);
	mc_parser_free(p);
	free(buf);
}

/* The records delivered do not depend on how the input is cut. */
static void test_chunking(void **state)
{
	static const char *const names[] = { "bad-utf8.xml", "wf-error.xml", "oai-wf-error.xml",
					     "ctrl-char.xml", "latin1.xml", "concatenated.xml" };
	size_t i, len, k;
	char path[512], *buf;

	(void)state;
	for (i = 0; i < 2 + sizeof(names) / sizeof(names[0]); i++) {
		struct coll a = { 0 }, b = { 0 }, d = { 0 };
		struct mc_error err;
		int ra, rb, rd;

		if (i == 0) {
			buf = gunzip(ZEBRA "/oai-pmh/data/oai-caltech.xml.gz", &len);
		} else if (i == 1) {
			buf = gunzip(ZEBRA "/marcxml/collection-2.xml.gz", &len);
		} else {
			data_path(path, sizeof(path), names[i - 2]);
			buf = slurp(path, &len);
		}
		ra = parse_mem(buf, len, MC_IN_AUTO, 0, &a, &err, NULL);
		rb = parse_mem(buf, len, MC_IN_AUTO, SIZE_MAX, &b, &err, NULL);
		rd = parse_mem(buf, len, MC_IN_AUTO, 1, &d, &err, NULL);
		assert_int_equal(ra, rb);
		assert_int_equal(ra, rd);
		assert_true(a.n > 0);
		assert_int_equal(a.n, b.n);
		assert_int_equal(a.n, d.n);
		assert_true(a.digest == b.digest);
		assert_true(a.digest == d.digest);
		for (k = 0; k < a.n; k++) {
			assert_int_equal(a.r[k].off, b.r[k].off);
			assert_int_equal(a.r[k].off, d.r[k].off);
			assert_int_equal(a.r[k].line, d.r[k].line);
			assert_int_equal(a.r[k].bad, d.r[k].bad);
			assert_int_equal(a.r[k].err_off, d.r[k].err_off);
			assert_int_equal(a.r[k].raw_len, d.r[k].raw_len);
		}
		free(buf);
		coll_free(&a);
		coll_free(&b);
		coll_free(&d);
	}
}

/* ---------------------------------------------------------------- OAI-PMH */

static void test_oai_dspace(void **state)
{
	char path[512];
	struct coll c = { 0 };
	struct mc_error err;
	struct mc_parser *p;
	const struct mc_oai_info *oai;
	size_t len, k, deleted = 0;
	char *buf;

	(void)state;
	shared_path(path, sizeof(path), "data/oai-captures/dspace-erasmus/fake1/00005.xml");
	assert_int_equal(parse_path(path, MC_IN_AUTO, &c, &err), 0);
	assert_int_equal(c.n, 16);
	for (k = 0; k < c.n; k++) {
		assert_int_equal(c.r[k].bad, 0);
		assert_int_equal(c.r[k].format, MC_FMT_OAI_DC);
		assert_true(strncmp(c.r[k].id, "hdl:1765/", 9) == 0);
		assert_true(c.r[k].datestamp > 1049932800);  /* after 2003-04-10 */
		assert_true(c.r[k].ndc > 3);
	}
	assert_string_equal(c.r[0].id, "hdl:1765/308");
	assert_int_equal(c.r[0].datestamp, 1050401931);  /* 2003-04-15T10:18:51Z */
	coll_free(&c);

	shared_path(path, sizeof(path), "data/oai-captures/dspace-erasmus/fake2/00002.xml");
	buf = slurp(path, &len);
	assert_int_equal(parse_mem(buf, len, MC_IN_OAI_DC, 0, &c, &err, &p), 0);
	assert_int_equal(c.n, 81);
	for (k = 0; k < c.n; k++) {
		assert_int_equal(c.r[k].bad, 0);
		if (c.r[k].status == MC_REC_DELETED) {
			deleted++;
			assert_int_equal(c.r[k].ndc, 0);
			assert_int_equal(c.r[k].format, MC_FMT_NONE);
		}
		assert_int_equal(buf[c.r[k].off], '<');
		assert_true(strncmp(c.r[k].raw_head, "<record>", 8) == 0);
		assert_string_equal(c.r[k].raw_tail + strlen(c.r[k].raw_tail) - 9, "</record>");
	}
	assert_int_equal(deleted, 2);
	oai = mc_parser_oai(p);
	assert_int_equal(oai->envelope, 1);
	assert_string_equal(oai->verb, "ListRecords");
	assert_string_equal(oai->response_date, "2004-02-17T13:44:55Z");
	assert_int_equal(oai->has_token, 0);
	assert_int_equal(oai->records, 81);
	mc_parser_free(p);
	free(buf);
	coll_free(&c);

	/* GetRecord */
	shared_path(path, sizeof(path), "data/oai-captures/dspace-erasmus/fake1/00004.xml");
	assert_int_equal(parse_path(path, MC_IN_AUTO, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.r[0].id, "hdl:1765/315");
	assert_int_equal(c.r[0].datestamp, 1051017224);  /* 2003-04-22T13:13:44Z */
	assert_string_equal(c.r[0].first_dc, "contributor=Edwards, A.R.");
	coll_free(&c);

	/* GetRecord of a deleted record: header only */
	shared_path(path, sizeof(path), "data/oai-captures/dspace-erasmus/fake2/00000.xml");
	assert_int_equal(parse_path(path, MC_IN_AUTO, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].bad, 0);
	assert_int_equal(c.r[0].status, MC_REC_DELETED);
	assert_int_equal(c.r[0].format, MC_FMT_NONE);
	assert_string_equal(c.r[0].id, "hdl:1765/1160");
	coll_free(&c);

	/* a bare oai_dc document (GetMetadata) */
	shared_path(path, sizeof(path), "data/oai-captures/dspace-erasmus/fake1/00006.xml");
	assert_int_equal(parse_path(path, MC_IN_AUTO, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].format, MC_FMT_OAI_DC);
	assert_string_equal(c.r[0].first_dc, "contributor=Edwards, A.R.");
	assert_string_equal(c.r[0].id, "");
	assert_int_equal(c.r[0].off, 39);
	coll_free(&c);

	/* Identify */
	shared_path(path, sizeof(path), "data/oai-captures/dspace-erasmus/fake1/00001.xml");
	buf = slurp(path, &len);
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 0, &c, &err, &p), 0);
	assert_int_equal(c.n, 0);
	oai = mc_parser_oai(p);
	assert_string_equal(oai->verb, "Identify");
	assert_string_equal(oai->granularity, "YYYY-MM-DDThh:mm:ssZ");
	assert_string_equal(oai->earliest_datestamp, "2001-01-01T00:00:00Z");
	assert_string_equal(oai->deleted_record, "no");
	assert_string_equal(oai->error_code, "");
	mc_parser_free(p);
	free(buf);
	coll_free(&c);

	/* ListSets, ListMetadataFormats, ListIdentifiers: no records, no error */
	for (k = 0; k < 4; k++) {
		static const char *const f[] = { "fake1/00000.xml", "fake1/00002.xml", "fake1/00003.xml",
						 "fake1/00003.xml" };
		char rel[128];

		path_of(rel, sizeof(rel), "data/oai-captures/dspace-erasmus/%s", f[k]);
		shared_path(path, sizeof(path), rel);
		assert_int_equal(parse_path(path, k == 3 ? MC_IN_OAI_DC : MC_IN_AUTO, &c, &err), 0);
		assert_int_equal(c.n, 0);
		coll_free(&c);
	}
}

static void test_oai_caltech(void **state)
{
	size_t len, k;
	char *buf = gunzip(ZEBRA "/oai-pmh/data/oai-caltech.xml.gz", &len);
	struct coll c = { 0 };
	struct mc_error err;
	struct mc_parser *p;
	const struct mc_oai_info *oai;

	(void)state;
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 4096, &c, &err, &p), 0);
	assert_int_equal(c.n, 100);
	for (k = 0; k < c.n; k++) {
		assert_int_equal(c.r[k].bad, 0);
		assert_true(strncmp(c.r[k].id, "oai:caltechcstr.library.caltech.edu:", 36) == 0);
		assert_int_equal(c.r[k].line, line_of(buf, (size_t)c.r[k].off));
	}
	assert_string_equal(c.r[0].title, "A Language Processor and a Sample Language");
	assert_int_equal(c.r[0].datestamp, 1071187200);  /* day granularity: 2003-12-12 */
	oai = mc_parser_oai(p);
	assert_int_equal(oai->has_token, 1);
	assert_string_equal(oai->token, "archive/100/1704605/oai_dc");
	assert_int_equal(oai->complete_list_size, -1);
	assert_int_equal(oai->cursor, -1);
	assert_string_equal(oai->response_date, "2005-12-20T08:40:20Z");
	mc_parser_free(p);
	coll_free(&c);
	free(buf);
}

static void test_oai_marc(void **state)
{
	char path[512];
	size_t len;
	char *buf;
	struct coll c = { 0 };
	struct mc_error err;
	struct mc_parser *p;
	const struct mc_oai_info *oai;

	(void)state;
	data_path(path, sizeof(path), "oai-marc.xml");
	buf = slurp(path, &len);
	assert_int_equal(parse_mem(buf, len, MC_IN_MARCXML, 0, &c, &err, &p), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.r[0].id, "oai:lib.vn:1");
	assert_int_equal(c.r[0].format, MC_FMT_MARC21);
	assert_string_equal(c.r[0].title, "Tiêu đề");
	assert_int_equal(c.r[0].datestamp, 1751270400);
	assert_int_equal(c.r[1].status, MC_REC_DELETED);
	assert_int_equal(c.r[1].bad, 0);
	assert_int_equal(c.r[1].nfields, 0);
	assert_int_equal(c.r[2].datestamp, 1751241600);
	assert_int_equal(c.r[2].off, (int64_t)find(buf, len, "<record><header><identifier>oai:lib.vn:3", 0));
	oai = mc_parser_oai(p);
	assert_int_equal(oai->has_token, 1);
	assert_string_equal(oai->token, "tok|100|marc21");
	assert_int_equal(oai->complete_list_size, 1234);
	assert_int_equal(oai->cursor, 0);
	assert_string_equal(oai->token_expiration, "2025-07-02T10:00:00Z");
	mc_parser_free(p);
	free(buf);
	coll_free(&c);

	/* the same records are refused with the wrong expected format */
	assert_int_equal(parse_path(path, MC_IN_OAI_DC, &c, &err), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.r[0].bad, MC_E_FORMAT);
	assert_int_equal(c.r[1].bad, 0);  /* deleted: no metadata to object to */
	assert_int_equal(c.r[2].bad, MC_E_FORMAT);
	coll_free(&c);
}

static void test_oai_error_and_mods(void **state)
{
	char path[512];
	size_t len;
	char *buf;
	struct coll c = { 0 };
	struct mc_error err;
	struct mc_parser *p;

	(void)state;
	data_path(path, sizeof(path), "oai-error.xml");
	buf = slurp(path, &len);
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 0, &c, &err, &p), 0);
	assert_int_equal(c.n, 0);
	assert_string_equal(mc_parser_oai(p)->error_code, "noRecordsMatch");
	assert_string_equal(mc_parser_oai(p)->error_msg, "No records match the request");
	assert_int_equal(mc_parser_oai(p)->has_token, 0);
	mc_parser_free(p);
	free(buf);

	data_path(path, sizeof(path), "oai-mods.xml");
	assert_int_equal(parse_path(path, MC_IN_AUTO, &c, &err), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.r[0].bad, MC_E_FORMAT);
	assert_string_equal(c.r[0].err_id, "oai:x:1");
	assert_non_null(strstr(c.r[0].err_msg, "mods"));
	assert_int_equal(c.r[1].bad, 0);
	assert_string_equal(c.r[1].title, "Tiêu đề");
	coll_free(&c);
}

/* ---------------------------------------------------------------- hostile XML */

/* r1 good, r2 bad with code, r3 good; returns the file for more checks. */
static char *three(const char *name, int code, struct coll *c, size_t *len)
{
	char path[512];
	struct mc_error err;
	char *buf;

	data_path(path, sizeof(path), name);
	buf = slurp(path, len);
	assert_int_equal(parse_mem(buf, *len, MC_IN_AUTO, 0, c, &err, NULL), 0);
	assert_int_equal(c->n, 3);
	assert_int_equal(c->r[0].bad, 0);
	assert_int_equal(c->r[1].bad, code);
	assert_int_equal(c->r[2].bad, 0);
	assert_string_equal(c->r[0].id, "r1");
	assert_string_equal(c->r[1].err_id, "r2");
	assert_string_equal(c->r[2].id, "r3");
	assert_string_equal(c->r[0].title, "Tiêu đề");
	assert_string_equal(c->r[2].title, "Tiêu đề");
	assert_int_equal(c->r[2].off, rfind(buf, find(buf, *len, ">r3<", 0), "record>") -
					      (buf[rfind(buf, find(buf, *len, ">r3<", 0), "record>") - 1] == ':' ? 6 : 1));
	assert_int_equal(buf[c->r[1].off], '<');
	assert_int_equal(buf[c->r[2].off], '<');
	assert_true(c->r[1].off < c->r[2].off);
	assert_int_equal(c->r[1].line, line_of(buf, (size_t)c->r[1].off));
	assert_int_equal(c->r[2].line, line_of(buf, (size_t)c->r[2].off));
	return buf;
}

static void test_bad_utf8(void **state)
{
	struct coll c = { 0 };
	size_t len, bad;
	char *buf = three("bad-utf8.xml", MC_E_ENCODING, &c, &len);

	(void)state;
	bad = find(buf, len, "caf\xC3(", 0) + 3;
	assert_int_equal(c.r[1].err_off, (int64_t)bad);
	assert_int_equal(c.r[1].err_line, line_of(buf, bad));
	assert_non_null(strstr(c.r[1].err_msg, "0xC3"));
	/* the bytes were replaced, and the raw bytes are the original ones */
	assert_int_equal(c.r[1].has_fffd, 1);
	assert_int_equal(c.r[1].raw_len, find(buf, len, "</record>", bad) + 9 - (size_t)c.r[1].off);
	free(buf);
	coll_free(&c);
}

static void test_control_chars(void **state)
{
	struct coll c = { 0 };
	size_t len, bad;
	char *buf = three("ctrl-char.xml", MC_E_ENCODING, &c, &len);

	(void)state;
	bad = find(buf, len, "\x07", 0);
	assert_int_equal(c.r[1].err_off, (int64_t)bad);
	assert_non_null(strstr(c.r[1].err_msg, "U+0007"));
	assert_int_equal(c.r[1].has_fffd, 1);
	free(buf);
	coll_free(&c);
}

static void test_wf_error(void **state)
{
	static const char *const names[] = { "wf-error.xml", "wf-error-prefixed.xml",
					     "undeclared-entity.xml" };
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct coll c = { 0 };
		size_t len, at;
		char *buf = three(names[i], MC_E_PARSE, &c, &len);

		at = find(buf, len, i == 2 ? "&eacute;" : i == 1 ? "</marc:subfeld>" : "</datafeld>", 0);
		assert_int_equal(c.r[1].err_line, line_of(buf, at));
		assert_true(c.r[1].err_off <= (int64_t)at && c.r[1].err_off > c.r[1].off);
		assert_non_null(strstr(c.r[1].err_msg, i == 2 ? "eacute" : "mismatch"));
		/* the quarantined bytes stop before the next record */
		assert_int_equal(c.r[1].raw_len, (size_t)(c.r[2].off - c.r[1].off) - 3);
		free(buf);
		coll_free(&c);
	}
}

static void test_oai_wf_error(void **state)
{
	char path[512];
	size_t len;
	char *buf;
	struct coll c = { 0 };
	struct mc_error err;
	struct mc_parser *p;

	(void)state;
	data_path(path, sizeof(path), "oai-wf-error.xml");
	buf = slurp(path, &len);
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 0, &c, &err, &p), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.r[0].bad, 0);
	assert_int_equal(c.r[1].bad, MC_E_PARSE);
	assert_string_equal(c.r[1].err_id, "oai:lib.vn:2");
	assert_int_equal(c.r[2].bad, 0);
	assert_string_equal(c.r[2].id, "oai:lib.vn:3");
	assert_string_equal(c.r[2].title, "Tiêu đề");
	/* the envelope after the restart is still read */
	assert_string_equal(mc_parser_oai(p)->token, "tok2");
	mc_parser_free(p);
	free(buf);
	coll_free(&c);
}

static void test_truncated_xml(void **state)
{
	char path[512];
	size_t len;
	char *buf;
	struct coll c = { 0 };
	struct mc_error err;

	(void)state;
	data_path(path, sizeof(path), "truncated.xml");
	buf = slurp(path, &len);
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 0, &c, &err, NULL), MC_E_TRUNCATED);
	assert_int_equal(err.code, MC_E_TRUNCATED);
	assert_string_equal(err.file, "mem.xml");
	assert_int_equal(c.n, 2);
	assert_int_equal(c.r[0].bad, 0);
	assert_int_equal(c.r[1].bad, MC_E_TRUNCATED);
	assert_int_equal(c.r[1].off, (int64_t)find(buf, len, "<record>", (size_t)c.r[0].off + 1));
	assert_int_equal(err.offset, c.r[1].off);
	assert_string_equal(c.r[1].err_id, "r2");
	free(buf);
	coll_free(&c);

	/* cut between records: nothing bad, but the document is incomplete */
	data_path(path, sizeof(path), "wf-error.xml");
	buf = slurp(path, &len);
	len = find(buf, len, "</record>", 0) + 9;
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 7, &c, &err, NULL), MC_E_TRUNCATED);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].bad, 0);
	free(buf);
	coll_free(&c);
}

static char *make_collection(size_t big, size_t *len)
{
	static const char head[] = "<?xml version=\"1.0\"?>\n<collection xmlns=\"http://www.loc.gov/MARC21/slim\">\n";
	static const char rec[] = "<record><leader>00000nam a2200000 a 4500</leader>"
				  "<controlfield tag=\"001\">r%d</controlfield>"
				  "<datafield tag=\"245\" ind1=\"1\" ind2=\"0\"><subfield code=\"a\">";
	static const char tail[] = "</subfield></datafield></record>\n";
	char *b = malloc(big + 4096), *p = b;
	int i;

	assert_non_null(b);
	p += sprintf(p, "%s", head);
	for (i = 1; i <= 3; i++) {
		p += sprintf(p, rec, i);
		if (i == 2) {
			memset(p, 'x', big);
			p += big;
		} else {
			p += sprintf(p, "T%d", i);
		}
		p += sprintf(p, "%s", tail);
	}
	p += sprintf(p, "</collection>\n");
	*len = (size_t)(p - b);
	return b;
}

static void test_huge_values(void **state)
{
	struct coll c = { 0 };
	struct mc_error err;
	size_t len;
	char *buf;

	(void)state;
	/* 1 MB subfield: over MC_MAX_FIELD_BYTES, under libxml2's own limit */
	buf = make_collection(1u << 20, &len);
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 65536, &c, &err, NULL), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.r[0].bad, 0);
	assert_int_equal(c.r[1].bad, MC_E_TOOBIG);
	assert_string_equal(c.r[1].err_id, "r2");
	assert_true(c.r[1].raw_len > (1u << 20));  /* still quarantined whole */
	assert_int_equal(c.r[2].bad, 0);
	assert_string_equal(c.r[2].title, "T3");
	free(buf);
	coll_free(&c);

	/* a record over MC_MAX_RECORD_BYTES: no raw bytes, others fine */
	buf = make_collection(MC_MAX_RECORD_BYTES + 1000, &len);
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 65536, &c, &err, NULL), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.r[1].bad, MC_E_TOOBIG);
	assert_int_equal(c.r[1].raw_len, 0);
	assert_int_equal(c.r[2].bad, 0);
	assert_string_equal(c.r[2].title, "T3");
	free(buf);
	coll_free(&c);
}

static void test_deep_nesting(void **state)
{
	struct coll c = { 0 };
	struct mc_error err;
	size_t len, i, n;
	char *buf = three("deep.xml", MC_E_TOOBIG, &c, &len);

	(void)state;
	assert_non_null(strstr(c.r[1].err_msg, "nesting"));
	free(buf);
	coll_free(&c);

	/* 1,000,000 nested elements outside any record: refused, quickly */
	n = 1000000;
	buf = malloc(n * 3 + 100);
	len = (size_t)sprintf(buf, "<collection xmlns=\"http://www.loc.gov/MARC21/slim\">");
	for (i = 0; i < n; i++) {
		memcpy(buf + len, "<a>", 3);
		len += 3;
	}
	assert_int_not_equal(parse_mem(buf, len, MC_IN_AUTO, 65536, &c, &err, NULL), 0);
	assert_int_equal(err.code, MC_E_TOOBIG);
	assert_int_equal(c.n, 0);
	free(buf);
	coll_free(&c);
}

static void test_not_marcxml(void **state)
{
	char path[512];
	struct coll c = { 0 };
	struct mc_error err;
	static const char text[] = "Service Unavailable\n";
	static const char other[] = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel/></rss>";

	(void)state;
	data_path(path, sizeof(path), "html.xml");
	assert_int_equal(parse_path(path, MC_IN_AUTO, &c, &err), MC_E_PARSE);
	assert_int_equal(err.code, MC_E_PARSE);
	assert_non_null(strstr(err.msg, "not MARCXML/OAI-PMH: got <html>"));
	assert_non_null(strstr(err.file, "html.xml"));
	assert_int_equal(c.n, 0);

	assert_int_equal(parse_mem(text, sizeof(text) - 1, MC_IN_AUTO, 0, &c, &err, NULL), MC_E_PARSE);
	assert_non_null(strstr(err.msg, "not MARCXML, OAI-PMH or ISO 2709"));
	assert_int_equal(parse_mem(other, sizeof(other) - 1, MC_IN_AUTO, 0, &c, &err, NULL),
			 MC_E_PARSE);
	assert_non_null(strstr(err.msg, "got <rss>"));
	assert_int_equal(parse_mem("", 0, MC_IN_AUTO, 0, &c, &err, NULL), MC_E_PARSE);
	assert_non_null(strstr(err.msg, "empty input"));
	assert_int_equal(c.n, 0);
}

static void test_entities(void **state)
{
	char path[512];
	struct coll c = { 0 };
	struct mc_error err;
	struct timespec a, b;
	double secs;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	data_path(path, sizeof(path), "billion-laughs.xml");
	assert_int_equal(parse_path(path, MC_IN_AUTO, &c, &err), MC_E_ENTITY);
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	assert_true(secs < 1.0);
	assert_int_equal(err.code, MC_E_ENTITY);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "DOCTYPE"));
	assert_int_equal(c.n, 0);

	data_path(path, sizeof(path), "xxe.xml");
	assert_int_equal(parse_path(path, MC_IN_AUTO, &c, &err), MC_E_ENTITY);
	assert_int_equal(c.n, 0);

	/* a plain DOCTYPE is tolerated */
	data_path(path, sizeof(path), "doctype-plain.xml");
	assert_int_equal(parse_path(path, MC_IN_AUTO, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].bad, 0);
	coll_free(&c);
}

static void test_encodings_and_layout(void **state)
{
	char path[512];
	struct coll c = { 0 };
	struct mc_error err;
	size_t len;
	char *buf;

	(void)state;
	/* declared Latin-1: decoded to UTF-8 by libxml2, control bytes still caught */
	data_path(path, sizeof(path), "latin1.xml");
	buf = slurp(path, &len);
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 0, &c, &err, NULL), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.r[0].bad, 0);
	assert_string_equal(c.r[0].title, "caf\xC3\xA9");
	assert_int_equal(c.r[1].bad, MC_E_ENCODING);
	assert_int_equal(c.r[1].err_off, (int64_t)find(buf, len, "\x01", 0));
	free(buf);
	coll_free(&c);

	/* blank lines before the XML declaration */
	data_path(path, sizeof(path), "leading-blank.xml");
	buf = slurp(path, &len);
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 0, &c, &err, NULL), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].line, 5);
	assert_int_equal(c.r[0].off, (int64_t)find(buf, len, "<record>", 0));
	free(buf);
	coll_free(&c);

	/* two documents one after the other */
	data_path(path, sizeof(path), "concatenated.xml");
	buf = slurp(path, &len);
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 0, &c, &err, NULL), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.r[0].id, "r1");
	assert_string_equal(c.r[1].id, "r2");
	assert_int_equal(c.r[1].bad, 0);
	assert_int_equal(c.r[1].off, (int64_t)find(buf, len, "<marc:record>", 0));
	free(buf);
	coll_free(&c);

	/* two OAI-PMH pages back to back: the first page's resumptionToken,
	 * after its last record, is not taken for a new document */
	{
		char p2[512], *b1, *b2, *both;
		size_t l1, l2;
		struct mc_parser *p;

		data_path(path, sizeof(path), "oai-marc.xml");
		data_path(p2, sizeof(p2), "oai-wf-error.xml");
		b1 = slurp(path, &l1);
		b2 = slurp(p2, &l2);
		both = malloc(l1 + l2);
		memcpy(both, b1, l1);
		memcpy(both + l1, b2, l2);
		assert_int_equal(parse_mem(both, l1 + l2, MC_IN_AUTO, 0, &c, &err, &p), 0);
		assert_int_equal(c.n, 6);
		assert_int_equal(c.r[3].off, (int64_t)(l1 + find(b2, l2, "<record>", 0)));
		assert_int_equal(c.r[4].bad, MC_E_PARSE);
		assert_string_equal(c.r[5].id, "oai:lib.vn:3");
		assert_string_equal(mc_parser_oai(p)->token, "tok2");
		mc_parser_free(p);
		free(b1);
		free(b2);
		free(both);
		coll_free(&c);
	}

	/* record-like text in a comment, a PI and CDATA is not a record */
	data_path(path, sizeof(path), "comment-cdata.xml");
	buf = slurp(path, &len);
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 1, &c, &err, NULL), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.r[0].bad + c.r[1].bad, 0);
	assert_int_equal(c.r[0].off, (int64_t)find(buf, len, "  <record>", 0) + 2);
	assert_int_equal(c.r[1].off, (int64_t)find(buf, len, "  <record>", (size_t)c.r[0].off) + 2);
	assert_string_equal(c.r[1].title, "a <record> b </record> c & <dc>");
	assert_string_equal(c.r[1].raw_tail + strlen(c.r[1].raw_tail) - 9, "</record>");
	free(buf);
	coll_free(&c);

	/* UTF-16 is refused clearly */
	assert_int_equal(parse_mem("\xFF\xFE<\0r\0", 6, MC_IN_AUTO, 0, &c, &err, NULL), MC_E_ENCODING);
	assert_non_null(strstr(err.msg, "UTF-16"));
}

/* Declared 8-bit encodings: libxml2 decodes them; a byte the encoding does
 * not define spoils its record only (libxml2 itself would stop there). */
static void test_declared_encodings(void **state)
{
	char path[512];
	struct coll c = { 0 };
	struct mc_error err;
	size_t len;
	char *buf;

	(void)state;
	data_path(path, sizeof(path), "cp1258-undefined.xml");
	buf = slurp(path, &len);
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 0, &c, &err, NULL), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.r[0].bad, 0);
	assert_memory_equal(c.r[0].title, "Ti\xC3\xAAu \xC4\x91i", 9);  /* "Tiêu đi" */
	assert_int_equal(c.r[1].bad, MC_E_ENCODING);
	assert_int_equal(c.r[1].err_off, (int64_t)find(buf, len, "\x81", 0));
	assert_non_null(strstr(c.r[1].err_msg, "0x81"));
	assert_non_null(strstr(c.r[1].err_msg, "windows-1258"));
	assert_int_equal(c.r[2].bad, 0);
	assert_string_equal(c.r[2].title, "Ti\xC3\xAAu");
	free(buf);
	coll_free(&c);

	/* a multi-byte encoding libxml2 cannot decode: the record is bad */
	data_path(path, sizeof(path), "sjis-undecodable.xml");
	buf = slurp(path, &len);
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 0, &c, &err, NULL), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.r[0].bad, MC_E_ENCODING);
	assert_non_null(strstr(c.r[0].err_msg, "Shift_JIS"));
	free(buf);
	coll_free(&c);
}

/* Library code prints nothing, whatever libxml2 thinks of the input. */
static void test_silent(void **state)
{
	static const char *const names[] = {
		"bad-utf8.xml", "ctrl-char.xml", "wf-error.xml", "undeclared-entity.xml",
		"truncated.xml", "deep.xml", "html.xml", "billion-laughs.xml", "xxe.xml",
		"latin1.xml", "cp1258-undefined.xml", "sjis-undecodable.xml", "oai-wf-error.xml",
		"garbage.mrc", "corrupt.mrc", "truncated.mrc",
	};
	char path[512], tmp[] = "/tmp/mucluc-test-stderr-XXXXXX";
	struct coll c = { 0 };
	struct mc_error err;
	struct stat st;
	size_t i;
	int fd = mkstemp(tmp), saved;

	(void)state;
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t len;
		char *buf;

		data_path(path, sizeof(path), names[i]);
		buf = slurp(path, &len);
		parse_mem(buf, len, MC_IN_AUTO, 0, &c, &err, NULL);
		parse_mem(buf, len, MC_IN_AUTO, 3, &c, &err, NULL);
		free(buf);
	}
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	unlink(tmp);
	assert_int_equal(st.st_size, 0);
	assert_true(c.n > 20);
	coll_free(&c);
}

/* ---------------------------------------------------------------- files */

static void test_files(void **state)
{
	char path[512], tmp[] = "/tmp/mucluc-test-parse-XXXXXX";
	struct coll c = { 0 };
	struct mc_error err;
	struct mc_parse_stats st;
	struct mc_parse_opts o = { .source = "hcm" };
	int fd, saved;

	(void)state;
	/* gzip is detected, not parsed */
	path_of(path, sizeof(path), "%s/marcxml/collection-2.xml.gz", ZEBRA);
	assert_int_equal(mc_parse_file(path, &o, collect, &c, &st, &err), MC_E_FORMAT);
	assert_non_null(strstr(err.msg, "compressed input: gunzip first"));
	assert_string_equal(err.file, path);
	assert_string_equal(err.source, "hcm");
	assert_int_equal(c.n, 0);

	assert_int_equal(mc_parse_file("/nonexistent/x.xml", &o, collect, &c, &st, &err), -ENOENT);
	assert_int_equal(err.code, -ENOENT);
	assert_string_equal(err.file, "/nonexistent/x.xml");
	assert_int_equal(st.records, 0);

	/* an empty file */
	fd = mkstemp(tmp);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(mc_parse_file(tmp, NULL, collect, &c, &st, &err), MC_E_PARSE);
	assert_non_null(strstr(err.msg, "empty"));

	/* "-" reads standard input */
	fd = open(ZEBRA "/marcxml/collection-sandburg-1.xml", O_RDONLY);
	assert_true(fd >= 0);
	saved = dup(STDIN_FILENO);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	assert_int_equal(mc_parse_file("-", NULL, collect, &c, &st, &err), 0);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	assert_int_equal(st.records, 1);
	assert_int_equal(st.bad, 0);
	assert_int_equal(st.bytes, 3523);
	assert_string_equal(c.r[0].id, "   92005291 ");
	unlink(tmp);
	coll_free(&c);
}

static void test_callback_stops(void **state)
{
	struct coll c = { .stop_at = 2 };
	struct mc_error err;
	struct mc_parse_stats st;
	struct mc_parser *p;
	size_t len;
	char *buf = gunzip(ZEBRA "/marcxml/collection-clasmrc.xml.gz", &len);

	(void)state;
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 0, &c, &err, &p), 42);
	assert_int_equal(c.n, 2);
	/* the parser stays stopped */
	assert_int_equal(mc_parser_feed(p, "<x/>", 4, &err), 42);
	assert_int_equal(mc_parser_finish(p, &err), 42);
	mc_parser_free(p);
	coll_free(&c);
	free(buf);

	buf = gunzip(ZEBRA "/marc21/sample-marc.gz", &len);
	c.stop_at = 3;
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 1000, &c, &err, NULL), 42);
	assert_int_equal(c.n, 3);
	coll_free(&c);
	free(buf);
	(void)st;
}

/* ---------------------------------------------------------------- ISO 2709 */

static void test_iso_sample(void **state)
{
	/* record offsets as printed by yaz-marcdump -p */
	static const int64_t offs[24] = { 0,     366,   732,   2101,  3043,  4076,  5076,  6569,
					  7447,  8238,  8924,  9592,  10480, 11606, 13039, 14369,
					  15172, 15938, 17262, 18821, 19976, 20891, 21944, 22980 };
	size_t len, k, chunk;
	char *buf = gunzip(ZEBRA "/marc21/sample-marc.gz", &len);
	uint64_t digest = 0;

	(void)state;
	assert_int_equal(len, 23708);
	for (chunk = 0; chunk < 4; chunk++) {
		struct coll c = { 0 };
		struct mc_error err;
		size_t sizes[4] = { 0, SIZE_MAX, 1, 400 };

		assert_int_equal(parse_mem(buf, len, chunk ? MC_IN_ISO2709 : MC_IN_AUTO, sizes[chunk], &c,
					   &err, NULL),
				 0);
		assert_int_equal(c.n, 24);
		for (k = 0; k < 24; k++) {
			assert_int_equal(c.r[k].bad, 0);
			assert_int_equal(c.r[k].off, offs[k]);
			assert_int_equal(c.r[k].format, MC_FMT_MARC21);
			assert_int_equal(c.r[k].raw_len, (size_t)((k < 23 ? offs[k + 1] : 23705) - offs[k]));
			assert_int_equal(c.r[k].raw_tail[strlen(c.r[k].raw_tail) - 1], 0x1D);
		}
		assert_string_equal(c.r[0].id, "   11224466 ");
		assert_string_equal(c.r[0].title, "How to program a computer");
		assert_int_equal(c.r[0].nfields, 12);
		assert_string_equal(c.r[2].id, "   73090924 //r82");
		assert_string_equal(c.r[2].title,
				    "Computer processing of dynamic images from an Anger scintillation camera :");
		assert_string_equal(c.r[2].raw_head, "01369cam  2200265 i 45000010018");
		/* danMARC: 00X fields with indicators and subfields; Latin-1 bytes kept */
		assert_string_equal(c.r[23].id, "D000015937");
		assert_string_equal(c.r[23].title, "Str\xE6k\xF8velser");
		assert_int_equal(c.r[23].nfields, 19);
		if (chunk == 0)
			digest = c.digest;
		assert_true(c.digest == digest);
		coll_free(&c);
	}
	free(buf);
}

static void test_iso_faults(void **state)
{
	char path[512];
	size_t len;
	char *buf;
	struct coll c = { 0 };
	struct mc_error err;
	size_t k;

	(void)state;
	/* lengths counted in characters, a directory pointing past the end, a
	 * missing record terminator: read anyway, nothing bad */
	for (k = 0; k < 3; k++) {
		static const char *const names[] = { "charcount.mrc", "badptr.mrc", "noterm.mrc" };

		data_path(path, sizeof(path), names[k]);
		buf = slurp(path, &len);
		assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, SIZE_MAX, &c, &err, NULL), 0);
		assert_int_equal(c.n, 3);
		assert_int_equal(c.r[0].bad + c.r[1].bad + c.r[2].bad, 0);
		assert_string_equal(c.r[0].id, "r1");
		assert_string_equal(c.r[1].id, "r2");
		assert_string_equal(c.r[2].id, "r3");
		assert_string_equal(c.r[0].title, "Truyện Kiều");
		assert_string_equal(c.r[2].title, "Đoạn trường tân thanh");
		if (k == 0)
			assert_string_equal(c.r[1].title, "Lục Vân Tiên — Nguyễn Đình Chiểu");
		if (k == 1)
			assert_int_equal(c.r[1].nfields, 3);
		assert_int_equal(c.r[1].off, (int64_t)c.r[0].raw_len);
		free(buf);
		coll_free(&c);
	}

	/* junk between records: skipped, reported once, records around it fine */
	data_path(path, sizeof(path), "garbage.mrc");
	buf = slurp(path, &len);
	assert_int_equal(parse_mem(buf, len, MC_IN_AUTO, 0, &c, &err, NULL), 0);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.r[0].off, 2);
	assert_string_equal(c.r[1].id, "r2");
	assert_int_equal(c.r[2].bad, MC_E_PARSE);
	assert_int_equal(c.r[2].err_off, (int64_t)find(buf, len, "JUNK", 0));
	assert_non_null(strstr(c.r[2].err_msg, "JUNK"));
	assert_string_equal(c.r[3].id, "r3");
	assert_int_equal(c.r[3].bad, 0);
	free(buf);
	coll_free(&c);

	/* a corrupt directory: the record is reported, the next one is read */
	data_path(path, sizeof(path), "corrupt.mrc");
	assert_int_equal(parse_path(path, MC_IN_ISO2709, &c, &err), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.r[0].bad, 0);
	assert_int_equal(c.r[1].bad, MC_E_PARSE);
	assert_int_equal(c.r[1].err_off, 139);
	assert_string_equal(c.r[2].id, "r3");
	assert_int_equal(c.r[2].bad, 0);
	coll_free(&c);

	/* a truncated last record */
	data_path(path, sizeof(path), "truncated.mrc");
	assert_int_equal(parse_path(path, MC_IN_AUTO, &c, &err), MC_E_TRUNCATED);
	assert_int_equal(err.offset, 139);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.r[0].bad, 0);
	assert_int_equal(c.r[1].bad, MC_E_TRUNCATED);
	assert_int_equal(c.r[1].err_off, 139);
	assert_string_equal(c.r[1].err_id, "r2");
	assert_int_equal(c.r[1].raw_len, 60);
	coll_free(&c);

	/* XML given as ISO 2709 */
	data_path(path, sizeof(path), "wf-error.xml");
	assert_int_equal(parse_path(path, MC_IN_ISO2709, &c, &err), MC_E_PARSE);
	assert_non_null(strstr(err.msg, "not ISO 2709"));
	assert_int_equal(c.n, 0);
}

static void test_iso_toobig(void **state)
{
	size_t n = MC_MAX_RECORD_BYTES + 100000, len;
	char *buf = malloc(n + 200), *good;
	struct coll c = { 0 };
	struct mc_error err;
	char path[512];

	(void)state;
	data_path(path, sizeof(path), "badptr.mrc");
	good = slurp(path, &len);
	/* a leader, then megabytes without a record terminator, then a good record */
	memcpy(buf, "99999nam a2200061 a 4500", 24);
	memset(buf + 24, 'x', n - 25);
	buf[n - 1] = 0x1D;
	memcpy(buf + n, good, 139);
	assert_int_equal(parse_mem(buf, n + 139, MC_IN_AUTO, 65536, &c, &err, NULL), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.r[0].bad, MC_E_TOOBIG);
	assert_int_equal(c.r[0].err_off, 0);
	assert_int_equal(c.r[1].bad, 0);
	assert_string_equal(c.r[1].id, "r1");
	assert_int_equal(c.r[1].off, (int64_t)n);
	free(buf);
	free(good);
	coll_free(&c);
}

/* One ISO 2709 record from (tag, value) pairs; returns its length. */
static size_t iso_build(char *out, const char *const *tags, const char *const *vals,
			const size_t *lens, size_t n)
{
	size_t i, dlen = 0, base = 24 + 12 * n + 1, pos;

	for (i = 0; i < n; i++)
		dlen += lens[i] + 1;
	snprintf(out, 25, "%05zunam a22%05zu a 4500", base + dlen + 1 > 99999 ? (size_t)99999 : base + dlen + 1, base);
	pos = 24;
	for (i = 0, dlen = 0; i < n; i++) {
		char e[13];

		snprintf(e, sizeof(e), "%.3s%04zu%05zu", tags[i], lens[i] + 1 > 9999 ? (size_t)9999 : lens[i] + 1,
			 dlen > 99999 ? (size_t)99999 : dlen);
		memcpy(out + pos, e, 12);
		pos += 12;
		dlen += lens[i] + 1;
	}
	out[pos++] = 0x1E;
	for (i = 0; i < n; i++) {
		memcpy(out + pos, vals[i], lens[i]);
		pos += lens[i];
		out[pos++] = 0x1E;
	}
	out[pos++] = 0x1D;
	return pos;
}

/* The case: a good record, 1,000 fields of 1,999 empty subfields
 * (4 MB), a good record. The big one is a fault of its own (the per-record
 * subfield cap), reported with its offset and id; the third is read. */
static void test_iso_hostile_subfields(void **state)
{
	static const char *const gtags[] = { "001", "245" };
	const char *gvals[] = { "g1", "00\x1f" "aGood" };
	size_t glens[] = { 2, 8 };
	size_t nf = 1001, i, len = 0, flen = 2 + 2 * 1999;
	const char **tags = calloc(nf, sizeof(*tags)), **vals = calloc(nf, sizeof(*vals));
	size_t *lens = calloc(nf, sizeof(*lens));
	char *field = malloc(flen), *buf = malloc(5u << 20);
	struct coll c = { 0 };
	struct mc_error err;

	(void)state;
	memset(field, ' ', 2);
	for (i = 0; i < 1999; i++) {
		field[2 + 2 * i] = 0x1F;
		field[3 + 2 * i] = 'a';
	}
	tags[0] = "001";
	vals[0] = "big1";
	lens[0] = 4;
	for (i = 1; i < nf; i++) {
		tags[i] = "500";
		vals[i] = field;
		lens[i] = flen;
	}
	len += iso_build(buf + len, gtags, gvals, glens, 2);
	len += iso_build(buf + len, tags, vals, lens, nf);
	assert_true(len > 4000000);
	gvals[0] = "g3";
	len += iso_build(buf + len, gtags, gvals, glens, 2);
	assert_int_equal(parse_mem(buf, len, MC_IN_ISO2709, 65536, &c, &err, NULL), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.r[0].bad, 0);
	assert_int_equal(c.r[1].bad, MC_E_TOOBIG);
	assert_string_equal(c.r[1].err_id, "big1");
	assert_int_equal(c.r[1].err_off, c.r[1].off);
	assert_non_null(strstr(c.r[1].err_msg, "more than 100000 subfields"));
	assert_int_equal(c.r[2].bad, 0);
	assert_string_equal(c.r[2].id, "g3");
	free(tags);
	free(vals);
	free(lens);
	free(field);
	free(buf);
	coll_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zebra_marcxml),
		cmocka_unit_test(test_sandburg_values),
		cmocka_unit_test(test_chunking),
		cmocka_unit_test(test_oai_dspace),
		cmocka_unit_test(test_oai_caltech),
		cmocka_unit_test(test_oai_marc),
		cmocka_unit_test(test_oai_error_and_mods),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_control_chars),
		cmocka_unit_test(test_wf_error),
		cmocka_unit_test(test_oai_wf_error),
		cmocka_unit_test(test_truncated_xml),
		cmocka_unit_test(test_huge_values),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_not_marcxml),
		cmocka_unit_test(test_entities),
		cmocka_unit_test(test_encodings_and_layout),
		cmocka_unit_test(test_declared_encodings),
		cmocka_unit_test(test_silent),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_iso_sample),
		cmocka_unit_test(test_iso_faults),
		cmocka_unit_test(test_iso_toobig),
		cmocka_unit_test(test_iso_hostile_subfields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
