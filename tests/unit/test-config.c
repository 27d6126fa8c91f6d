/* test-config.c — the configuration file, the JSON and MARCXML writers, and
 * mc_import_file against a real parser and a real LMDB store. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core.h"
#include "ingest.h"

#include "unit-tmp.h"

static int make_tmpdir(void **state)
{
	return unit_tmpdir_make("config");
}

static int remove_tmpdir(void **state)
{
	return unit_tmpdir_remove();
}

static const char good_ini[] =
	"; a catalogue\n"
	"[catalogue]\n"
	"name = Thư viện tỉnh Lâm Đồng\n"
	"data_dir = var/data\n"
	"repository_identifier = thuvien.lamdong.gov.vn\n"
	"admin_email = admin@lamdong.gov.vn\n"
	"\n"
	"[server]\n"
	"listen = 127.0.0.1:8080\n"
	"\n"
	"[source \"ld-tinh\"]\n"
	"name = Thư viện tỉnh Lâm Đồng\n"
	"type = provincial\n"
	"province = Lâm Đồng\n"
	"url = https://opac.lamdong.example/oai\n"
	"metadata_prefix = marc21\n"
	"set = sach, bao\n"
	"set = luanvan\n"
	"visibility = restricted\n"
	"\n"
	"[source \"dl.school_1\"]\n"
	"name = Trường THPT Bảo Lộc\n"
	"type = school\n";

static void config_loads_every_key(void **state)
{
	struct mc_config *c;
	const struct mc_source *s;
	struct mc_error e;
	char want[512];

	assert_int_equal(mc_config_load(write_file("good.ini", good_ini), &c, &e), 0);
	assert_string_equal(c->name, "Thư viện tỉnh Lâm Đồng");
	/* relative data_dir: against the config file's directory */
	snprintf(want, sizeof(want), "%s/var/data", c->dir);
	assert_string_equal(c->data_dir, want);
	snprintf(want, sizeof(want), "%s/var/data/store", c->dir);
	assert_string_equal(c->store_dir, want);
	assert_string_equal(c->repository_identifier, "thuvien.lamdong.gov.vn");
	assert_string_equal(c->admin_email, "admin@lamdong.gov.vn");
	assert_string_equal(c->listen, "127.0.0.1:8080");
	assert_int_equal(c->nsources, 2);

	s = mc_config_source(c, "ld-tinh");
	assert_non_null(s);
	assert_int_equal(s->type, MC_SRC_PROVINCIAL);
	assert_string_equal(s->province, "Lâm Đồng");
	assert_string_equal(s->url, "https://opac.lamdong.example/oai");
	assert_string_equal(s->metadata_prefix, "marc21");
	assert_int_equal(s->nsets, 3);
	assert_string_equal(s->sets[0], "sach");
	assert_string_equal(s->sets[1], "bao");
	assert_string_equal(s->sets[2], "luanvan");
	assert_int_equal(s->visibility, MC_VIS_RESTRICTED);
	assert_int_equal(s->line, 11);

	/* defaults */
	s = mc_config_source(c, "dl.school_1");
	assert_non_null(s);
	assert_int_equal(s->type, MC_SRC_SCHOOL);
	assert_null(s->url);
	assert_null(s->province);
	assert_string_equal(s->metadata_prefix, "oai_dc");
	assert_int_equal(s->nsets, 0);
	assert_int_equal(s->visibility, MC_VIS_PUBLIC);
	assert_null(mc_config_source(c, "nope"));
	mc_config_free(c);
	mc_config_free(NULL);
}

static void config_defaults_without_sections(void **state)
{
	struct mc_config *c;
	struct mc_error e;
	char want[512];

	assert_int_equal(mc_config_load(write_file("empty.ini", "# nothing\n"), &c, &e), 0);
	assert_string_equal(c->name, "mucluc");
	assert_string_equal(c->listen, "127.0.0.1:8080");
	snprintf(want, sizeof(want), "%s/data", c->dir);
	assert_string_equal(c->data_dir, want);
	assert_null(c->repository_identifier);
	assert_int_equal(c->nsources, 0);
	mc_config_free(c);
}

/* Each bad file gives MC_E_CONFIG at the right line with the right words. */
static void expect_error(const char *text, int line, const char *msg)
{
	struct mc_config *c = NULL;
	struct mc_error e;
	const char *path = write_file("bad.ini", text);
	char formatted[1024];

	assert_int_equal(mc_config_load(path, &c, &e), MC_E_CONFIG);
	assert_null(c);
	assert_int_equal(e.code, MC_E_CONFIG);
	assert_string_equal(e.file, path);
	if (e.line != line || !strstr(e.msg, msg))
		fail_msg("want line %d '%s', got line %lld '%s'", line, msg, (long long)e.line, e.msg);
	mc_error_format(&e, formatted, sizeof(formatted));
	assert_non_null(strstr(formatted, path));
}

static void config_errors_name_line_and_problem(void **state)
{
	const char *src = "[source \"hcm\"]\nname = HCM\ntype = provincial\n";
	char big[400];

	expect_error("[source \"hcm\"]\ntype = provincial\nnmae = x\n", 3,
		     "unknown key 'nmae' in [source \"hcm\"]");
	expect_error("[catalogue]\nname = x\n[sever]\nlisten = 1:2\n", 3, "unknown section [sever]");
	expect_error("[source \"a\"]\nname = A\ntype = library\n", 3, "bad type 'library'");
	expect_error("[source \"a\"]\nname = A\ntype = school\nvisibility = secret\n", 4,
		     "bad visibility 'secret'");
	/* duplicate source: the line of the second header, naming the first */
	{
		char text[512];

		snprintf(text, sizeof(text), "%s\n%s", src, src);
		expect_error(text, 5, "duplicate source \"hcm\" (first at line 1)");
	}
	/* an empty duplicate section is caught too */
	expect_error("[source \"x\"]\nname=X\ntype=school\n[source \"x\"]\n", 4, "duplicate source");
	expect_error("[source \"a\"]\nname = A\nname = B\ntype = school\n", 3, "duplicate key 'name'");
	expect_error("[source \"bad id!\"]\nname = A\n", 1, "bad source id");
	expect_error("[source hcm]\nname = A\n", 1, "must be quoted");
	expect_error("\n[source \"a\"]\ntype = school\n", 2, "has no 'name'");
	expect_error("[source \"a\"]\nname = A\n", 1, "has no 'type'");
	expect_error("name = x\n", 1, "outside any section");
	expect_error("[catalogue]\nname = x\nthis line has no equals sign\n", 3, "syntax error");
	expect_error("[server]\nlisten = localhost\n", 2, "bad listen");
	expect_error("[server]\nlisten = 127.0.0.1:70000\n", 2, "bad listen");
	expect_error("[source \"a\"]\nname = A\ntype = school\nurl = ftp://x\n", 4, "bad url");
	expect_error("[catalogue]\nname = a\n[catalogue]\nadmin_email = a@b\n", 3,
		     "duplicate section [catalogue]");
	expect_error("[catalogue]\nadmin_email = nobody\n", 2, "bad admin_email");
	expect_error("[catalogue]\nname = \xff\xfe\n", 2, "not valid UTF-8");
	expect_error("[catalogue]\nname =\n", 2, "empty value");
	expect_error("[source \"a\"]\nname = A\ntype = school\nset = a b\n", 4, "bad set");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	{
		char text[600];

		snprintf(text, sizeof(text), "[catalogue]\nname = %s\n", big);
		expect_error(text, 2, "line longer than");
	}
}

static void config_missing_file(void **state)
{
	struct mc_config *c = NULL;
	struct mc_error e;
	char path[512];

	snprintf(path, sizeof(path), "%s/does-not-exist.ini", tmpdir);
	assert_int_equal(mc_config_load(path, &c, &e), -ENOENT);
	assert_null(c);
	assert_string_equal(e.file, path);
}

static void config_path_precedence(void **state)
{
	unsetenv("MUCLUC_CONFIG");
	assert_string_equal(mc_config_path(NULL), "mucluc.ini");
	setenv("MUCLUC_CONFIG", "/etc/mucluc/x.ini", 1);
	assert_string_equal(mc_config_path(NULL), "/etc/mucluc/x.ini");
	assert_string_equal(mc_config_path("given.ini"), "given.ini");
	setenv("MUCLUC_CONFIG", "", 1);
	assert_string_equal(mc_config_path(NULL), "mucluc.ini");
	unsetenv("MUCLUC_CONFIG");
}

static void config_names_and_ids(void **state)
{
	int t, v;

	for (t = 1; t < MC_SRC_TYPE_COUNT; t++) {
		assert_int_equal(mc_source_type_parse(mc_source_type_name(t), &v), 0);
		assert_int_equal(v, t);
	}
	assert_int_equal(mc_source_type_parse("armed-forces", &v), 0);
	assert_int_equal(v, MC_SRC_ARMED_FORCES);
	assert_int_equal(mc_source_type_parse("Provincial", &v), MC_E_CONFIG);
	assert_true(mc_source_id_valid("a.b_c-9"));
	assert_false(mc_source_id_valid(""));
	assert_false(mc_source_id_valid("a:b"));
	assert_false(mc_source_id_valid("0123456789012345678901234567890123456789012345678901234567890123"));
	assert_true(mc_source_id_valid("012345678901234567890123456789012345678901234567890123456789012"));
}

static void config_make_dirs_is_idempotent(void **state)
{
	struct mc_config *c;
	struct mc_error e;
	struct stat sb;

	assert_int_equal(mc_config_load(write_file("dirs.ini", "[catalogue]\ndata_dir = d/e/f\n"), &c,
					&e), 0);
	assert_int_equal(mc_config_make_dirs(c, &e), 0);
	assert_int_equal(mc_config_make_dirs(c, &e), 0);
	assert_int_equal(stat(c->store_dir, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(stat(c->quarantine_dir, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	mc_config_free(c);
}

/* ---- writers ---- */

/* A small MARC record built by hand, normalised and extracted for real. */
static struct mc_record *sample_marc(void)
{
	struct mc_record *r;
	struct mc_field *f;
	struct mc_error e;

	assert_int_equal(mc_record_new(&r), 0);
	assert_int_equal(mc_marc_add_data(r, "245", '1', '0', &f), 0);
	assert_int_equal(mc_marc_add_sub(r, f, 'a', "Truyện Kiều & <thơ> /",
					 strlen("Truyện Kiều & <thơ> /")), 0);
	assert_int_equal(mc_marc_add_sub(r, f, 'c', "Nguyễn Du.", strlen("Nguyễn Du.")), 0);
	/* the control field comes after a data field: MARCXML wants it first */
	assert_int_equal(mc_marc_add_control(r, "001", "kieu-1", 6), 0);
	assert_int_equal(mc_marc_add_data(r, "100", '0', ' ', &f), 0);
	assert_int_equal(mc_marc_add_sub(r, f, 'a', "Nguyễn Du,", strlen("Nguyễn Du,")), 0);
	assert_int_equal(mc_marc_add_sub(r, f, 'd', "1765-1820", 9), 0);
	assert_int_equal(mc_marc_add_data(r, "020", ' ', ' ', &f), 0);
	assert_int_equal(mc_marc_add_sub(r, f, 'a', "9786042123457", 13), 0);
	/* a control character XML 1.0 does not allow, and an indicator it refuses */
	assert_int_equal(mc_marc_add_data(r, "500", 'X', ' ', &f), 0);
	assert_int_equal(mc_marc_add_sub(r, f, 'a', "bell\x01here", 9), 0);
	memcpy(r->marc->leader, "00000nam a2200000 a 4500", 24);
	assert_int_equal(mc_record_normalise(r, MC_ENC_UTF8, &e), 0);
	assert_int_equal(mc_record_extract(r, &e), 0);
	r->source = "hn";
	r->local_id = "kieu-1";
	r->datestamp = 1704164645; /* 2024-01-02T03:04:05Z */
	return r;
}

static void json_has_documented_members(void **state)
{
	struct mc_record *r = sample_marc();
	struct mc_buf b;

	mc_buf_init(&b, 1u << 20);
	assert_int_equal(mc_record_json(r, 0, &b), 0);
	assert_null(strchr(b.data, '\n'));
	assert_non_null(strstr(b.data, "{\"id\":\"hn:kieu-1\",\"source\":\"hn\",\"local_id\":\"kieu-1\","
					"\"status\":\"present\",\"datestamp\":\"2024-01-02T03:04:05Z\","
					"\"format\":\"marc21\""));
	assert_non_null(strstr(b.data, "\"title\":\"Truyện Kiều & <thơ>"));
	assert_non_null(strstr(b.data, "\"names\":[{\"name\":\"Nguyễn Du"));
	assert_non_null(strstr(b.data, "\"main\":true"));
	assert_non_null(strstr(b.data, "\"ids\":{\"isbn\":["));
	/* empty members are left out, metadata only on request */
	assert_null(strstr(b.data, "\"series\""));
	assert_null(strstr(b.data, "\"marc\""));

	mc_buf_reset(&b);
	assert_int_equal(mc_record_json(r, MC_JSON_METADATA, &b), 0);
	assert_non_null(strstr(b.data, "\"marc\":{\"leader\":\"00000nam a2200000 a 4500\",\"fields\":["
					"[\"245\",\"1\",\"0\",[[\"a\",\"Truyện Kiều & <thơ> /\"]"));
	assert_non_null(strstr(b.data, "[\"001\",\"kieu-1\"]"));

	/* a deleted record: identity and status only */
	r->status = MC_REC_DELETED;
	mc_buf_reset(&b);
	assert_int_equal(mc_record_json(r, MC_JSON_METADATA, &b), 0);
	assert_string_equal(b.data, "{\"id\":\"hn:kieu-1\",\"source\":\"hn\",\"local_id\":\"kieu-1\","
				    "\"status\":\"deleted\",\"datestamp\":\"2024-01-02T03:04:05Z\"}");

	/* the cap holds: nothing half-written */
	r->status = MC_REC_PRESENT;
	mc_buf_free(&b);
	mc_buf_init(&b, 40);
	assert_int_equal(mc_buf_adds(&b, "keep"), 0);
	assert_int_equal(mc_record_json(r, 0, &b), MC_E_TOOBIG);
	assert_string_equal(b.data, "keep");
	mc_buf_free(&b);
	mc_record_free(r);
}

static void marcxml_escapes_orders_and_sanitises(void **state)
{
	struct mc_record *r = sample_marc();
	struct mc_buf b;
	const char *ctl, *dat;

	mc_buf_init(&b, 1u << 20);
	assert_int_equal(mc_record_marcxml(r, 0, &b), 0);
	assert_non_null(strstr(b.data, "<record xmlns=\"http://www.loc.gov/MARC21/slim\">"));
	assert_non_null(strstr(b.data, "<leader>00000nam a2200000 a 4500</leader>"));
	assert_non_null(strstr(b.data, "Truyện Kiều &amp; &lt;thơ&gt; /"));
	/* control fields first */
	ctl = strstr(b.data, "<controlfield tag=\"001\">kieu-1</controlfield>");
	dat = strstr(b.data, "<datafield");
	assert_non_null(ctl);
	assert_true(ctl < dat);
	/* bad indicator blanked, control character dropped by normalise or writer */
	assert_non_null(strstr(b.data, "<datafield tag=\"500\" ind1=\" \" ind2=\" \">"));
	assert_null(memchr(b.data, '\x01', b.len));

	mc_buf_reset(&b);
	assert_int_equal(mc_record_marc_text(r, &b), 0);
	assert_non_null(strstr(b.data, "00000nam a2200000 a 4500\n"));
	assert_non_null(strstr(b.data, "245 10 $a Truyện Kiều & <thơ> / $c Nguyễn Du.\n"));
	assert_non_null(strstr(b.data, "001 kieu-1\n"));
	mc_buf_free(&b);
	mc_record_free(r);
}

static void marcxml_crosswalks_dublin_core(void **state)
{
	static const char *const dc[][2] = {
		{ "title", "Lịch sử Đà Lạt" }, { "creator", "Trần Văn A" }, { "creator", "Lê Thị B" },
		{ "subject", "Lịch sử" }, { "publisher", "NXB Trẻ" }, { "date", "2019" },
		{ "identifier", "ISBN 978-604-1-00000-1" }, { "identifier", "http://x.example/1" },
		{ "language", "vie" }, { "description", "Tóm tắt" }, { "format", "21 cm" },
	};
	struct mc_record *r;
	struct mc_error e;
	struct mc_buf b;
	size_t i;

	assert_int_equal(mc_record_new(&r), 0);
	for (i = 0; i < sizeof(dc) / sizeof(dc[0]); i++)
		assert_int_equal(mc_dc_add(r, dc[i][0], dc[i][1], strlen(dc[i][1]), NULL), 0);
	assert_int_equal(mc_record_normalise(r, MC_ENC_UTF8, &e), 0);
	assert_int_equal(mc_record_extract(r, &e), 0);
	r->source = "dl";
	r->local_id = "oai:dl:7";
	mc_buf_init(&b, 1u << 20);
	assert_int_equal(mc_record_marcxml(r, MC_MARCXML_IN_COLLECTION, &b), 0);
	assert_non_null(strstr(b.data, "<record>\n  <leader>     nam a22     uu 4500</leader>"));
	assert_non_null(strstr(b.data, "<controlfield tag=\"001\">oai:dl:7</controlfield>"));
	assert_non_null(strstr(b.data, "<datafield tag=\"245\" ind1=\"1\" ind2=\"0\">\n"
					"    <subfield code=\"a\">Lịch sử Đà Lạt</subfield>"));
	assert_non_null(strstr(b.data, "tag=\"100\" ind1=\"1\" ind2=\" \">\n    <subfield code=\"a\">Trần Văn A"));
	assert_non_null(strstr(b.data, "tag=\"700\" ind1=\"1\" ind2=\" \">\n    <subfield code=\"a\">Lê Thị B"));
	assert_non_null(strstr(b.data, "<subfield code=\"a\">9786041000001</subfield>"));
	assert_non_null(strstr(b.data, "tag=\"856\" ind1=\"4\" ind2=\"0\">\n    <subfield code=\"u\">http://x.example/1"));
	assert_non_null(strstr(b.data, "<subfield code=\"b\">NXB Trẻ</subfield>\n    <subfield code=\"c\">2019</subfield>"));
	assert_non_null(strstr(b.data, "tag=\"041\""));
	assert_non_null(strstr(b.data, "tag=\"520\""));
	assert_non_null(strstr(b.data, "tag=\"650\" ind1=\" \" ind2=\"4\""));
	assert_non_null(strstr(b.data, "<subfield code=\"a\">Format: 21 cm</subfield>"));
	mc_buf_free(&b);
	mc_record_free(r);
}

/* ---- import ---- */

struct reports {
	int n;
	struct mc_error last;
};

static void collect(void *ctx, const struct mc_error *e)
{
	struct reports *r = ctx;

	r->n++;
	r->last = *e;
}

static const char marcxml_two[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<collection xmlns=\"http://www.loc.gov/MARC21/slim\">\n"
	"<record><leader>00000nam a2200000 a 4500</leader>\n"
	"<controlfield tag=\"001\">  r1 </controlfield>\n"
	"<controlfield tag=\"005\">20240102030405.0</controlfield>\n"
	"<datafield tag=\"245\" ind1=\"0\" ind2=\"0\"><subfield code=\"a\">Một</subfield></datafield>\n"
	"</record>\n"
	"<record><leader>00000nam a2200000 a 4500</leader>\n"
	"<datafield tag=\"245\" ind1=\"0\" ind2=\"0\"><subfield code=\"a\">No id</subfield></datafield>\n"
	"</record>\n"
	"<record><leader>00000nam a2200000 a 4500</leader>\n"
	"<controlfield tag=\"001\">r2</controlfield>\n"
	"<datafield tag=\"245\" ind1=\"0\" ind2=\"0\"><subfield code=\"a\">Hai</subfield></datafield>\n"
	"</record>\n"
	"<record><leader>00000nam a2200000 a 4500</leader>\n"
	"<controlfield tag=\"001\">r2</controlfield>\n"
	"<datafield tag=\"245\" ind1=\"0\" ind2=\"0\"><subfield code=\"a\">Hai (sửa)</subfield></datafield>\n"
	"</record>\n"
	"</collection>\n";

static void import_stores_reports_and_quarantines(void **state)
{
	struct mc_config *c;
	struct mc_store *s;
	struct mc_reader *rd;
	struct mc_record *rec;
	struct mc_import_opts o;
	struct mc_import_stats st;
	struct reports rep = { 0 };
	struct mc_error e;
	const char *file;
	char qtext[4096];
	FILE *q;
	size_t n;

	assert_int_equal(mc_config_load(write_file("imp.ini",
						   "[catalogue]\ndata_dir = imp\n"
						   "[source \"ld\"]\nname = LD\ntype = provincial\n"),
					&c, &e), 0);
	assert_int_equal(mc_config_make_dirs(c, &e), 0);
	assert_int_equal(mc_store_open(c->store_dir, MC_STORE_CREATE, &s, &e), 0);
	file = write_file("two.xml", marcxml_two);

	memset(&o, 0, sizeof(o));
	o.quarantine_dir = c->quarantine_dir;
	o.now = 1700000000;
	assert_int_equal(mc_import_file(s, mc_config_source(c, "ld"), file, &o, collect, &rep, &st, &e), 0);
	assert_int_equal(st.read, 4);
	assert_int_equal(st.added, 2);
	assert_int_equal(st.changed, 1);   /* the second r2 replaced the first */
	assert_int_equal(st.bad, 1);
	assert_int_equal(st.duplicates, 1);
	assert_int_equal(st.nenc, 1);
	assert_string_equal(st.enc[0].name, "utf-8");
	assert_int_equal(st.enc[0].n, 3);
	/* the bad record is reported with file, line and what was wrong */
	assert_int_equal(rep.n, 1);
	assert_string_equal(rep.last.file, file);
	assert_string_equal(rep.last.source, "ld");
	assert_int_equal(rep.last.line, 8);
	assert_non_null(strstr(rep.last.msg, "no 001 and no OAI identifier"));
	/* ... and kept in the quarantine */
	assert_int_equal(st.quarantined, 1);
	assert_non_null(strstr(st.quarantine, "/quarantine/ld/"));
	q = fopen(st.quarantine, "r");
	assert_non_null(q);
	n = fread(qtext, 1, sizeof(qtext) - 1, q);
	qtext[n] = '\0';
	fclose(q);
	assert_non_null(strstr(qtext, "no 001 and no OAI identifier"));
	assert_non_null(strstr(qtext, "No id"));

	/* stored: id trimmed, datestamp from 005, the later duplicate won */
	assert_int_equal(mc_record_new(&rec), 0);
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	assert_int_equal(mc_reader_get(rd, "ld", "r1", rec, &e), 0);
	assert_int_equal(rec->datestamp, 1704164645);
	assert_string_equal(rec->f.title, "Một");
	assert_int_equal(mc_reader_get(rd, "ld", "r2", rec, &e), 0);
	assert_string_equal(rec->f.title, "Hai (sửa)");
	assert_int_equal(rec->datestamp, 1700000000);
	mc_reader_end(rd);

	/* again: nothing new; r1 unchanged. Each occurrence of the duplicate r2
	 * is stored in turn (streaming cannot know a later one is coming), so
	 * both count as changed and the later one is what stays. */
	assert_int_equal(mc_import_file(s, mc_config_source(c, "ld"), file, &o, NULL, NULL, &st, &e), 0);
	assert_int_equal(st.added, 0);
	assert_int_equal(st.unchanged, 1);
	assert_int_equal(st.changed, 2);
	assert_int_equal(st.duplicates, 1);

	/* a file that is not there: -ENOENT, nothing stored */
	assert_int_equal(mc_import_file(s, mc_config_source(c, "ld"), "/nonexistent/x.xml", &o, NULL,
					NULL, &st, &e), -ENOENT);
	assert_int_equal(st.read, 0);

	mc_record_free(rec);
	mc_store_close(s);
	mc_config_free(c);
}

static void import_keeps_good_records_before_a_fatal_error(void **state)
{
	struct mc_config *c;
	struct mc_store *s;
	struct mc_reader *rd;
	struct mc_record *rec;
	struct mc_import_stats st;
	struct mc_error e;
	char text[sizeof(marcxml_two)];
	const char *file;
	char *cut;
	int rc;

	assert_int_equal(mc_config_load(write_file("trunc.ini",
						   "[catalogue]\ndata_dir = trunc\n"
						   "[source \"ld\"]\nname = LD\ntype = provincial\n"),
					&c, &e), 0);
	assert_int_equal(mc_config_make_dirs(c, &e), 0);
	assert_int_equal(mc_store_open(c->store_dir, MC_STORE_CREATE, &s, &e), 0);
	/* cut the file in the middle of the third record */
	memcpy(text, marcxml_two, sizeof(text));
	cut = strstr(text, "Hai</subfield>");
	*cut = '\0';
	file = write_file("cut.xml", text);
	rc = mc_import_file(s, mc_config_source(c, "ld"), file, NULL, NULL, NULL, &st, &e);
	/* the open record is bad, and the input as a whole is truncated: r1,
	 * read before the fault, is committed all the same */
	assert_int_equal(rc, MC_E_TRUNCATED);
	assert_int_equal(e.code, MC_E_TRUNCATED);
	assert_string_equal(e.file, file);
	assert_int_equal(st.read, 3);
	assert_int_equal(st.bad, 2);
	assert_int_equal(st.added, 1);
	assert_int_equal(mc_record_new(&rec), 0);
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	assert_int_equal(mc_reader_get(rd, "ld", "r1", rec, &e), 0);
	assert_int_equal(mc_reader_get(rd, "ld", "r2", rec, &e), MC_E_NOTFOUND);
	mc_reader_end(rd);
	mc_record_free(rec);
	mc_store_close(s);
	mc_config_free(c);
}

/* Many bad records: reports stop at MC_MAX_ERRORS_REPORTED, the quarantine
 * at its cap, the counts go on. */
static void import_caps_reports_and_quarantine(void **state)
{
	struct mc_config *c;
	struct mc_store *s;
	struct mc_import_opts o;
	struct mc_import_stats st;
	struct reports rep = { 0 };
	struct mc_error e;
	char path[512], qtext[8192];
	FILE *f, *q;
	size_t n;
	int i;

	assert_int_equal(mc_config_load(write_file("caps.ini",
						   "[catalogue]\ndata_dir = caps\n"
						   "[source \"ld\"]\nname = LD\ntype = provincial\n"),
					&c, &e), 0);
	assert_int_equal(mc_config_make_dirs(c, &e), 0);
	assert_int_equal(mc_store_open(c->store_dir, MC_STORE_CREATE, &s, &e), 0);
	snprintf(path, sizeof(path), "%s/many-bad.xml", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("<collection xmlns=\"http://www.loc.gov/MARC21/slim\">\n", f);
	for (i = 0; i < MC_MAX_ERRORS_REPORTED + 5; i++)
		fprintf(f, "<record><leader>00000nam a2200000 a 4500</leader><datafield tag=\"245\" "
			   "ind1=\"0\" ind2=\"0\"><subfield code=\"a\">bad %d</subfield></datafield>"
			   "</record>\n", i);
	fputs("<record><controlfield tag=\"001\">ok</controlfield></record>\n</collection>\n", f);
	assert_int_equal(fclose(f), 0);

	memset(&o, 0, sizeof(o));
	o.quarantine_dir = c->quarantine_dir;
	o.quarantine_max = 2000;
	assert_int_equal(mc_import_file(s, mc_config_source(c, "ld"), path, &o, collect, &rep, &st, &e), 0);
	assert_int_equal(st.read, MC_MAX_ERRORS_REPORTED + 6);
	assert_int_equal(st.bad, MC_MAX_ERRORS_REPORTED + 5);
	assert_int_equal(st.added, 1);
	assert_int_equal(rep.n, MC_MAX_ERRORS_REPORTED);
	assert_true(st.quarantined > 0 && st.quarantined < 20);
	q = fopen(st.quarantine, "r");
	assert_non_null(q);
	n = fread(qtext, 1, sizeof(qtext) - 1, q);
	qtext[n] = '\0';
	fclose(q);
	assert_true(n < 2200);
	assert_non_null(strstr(qtext, "bad 0"));
	assert_non_null(strstr(qtext, "quarantine cap of 2000 bytes reached"));
	mc_store_close(s);
	mc_config_free(c);
}

static void marc005_is_checked(void **state)
{
	int64_t t;

	assert_int_equal(mc_marc005_parse("19930521155141.9", 16, &t), 0);
	assert_int_equal(t, 737999501);
	assert_int_equal(mc_marc005_parse("00000000000000.0", 16, &t), MC_E_PARSE);
	assert_int_equal(mc_marc005_parse("20230231120000.0", 16, &t), MC_E_PARSE);
	assert_int_equal(mc_marc005_parse("2023", 4, &t), MC_E_PARSE);
	assert_int_equal(mc_marc005_parse("2023010112000x", 14, &t), MC_E_PARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_loads_every_key),
		cmocka_unit_test(config_defaults_without_sections),
		cmocka_unit_test(config_errors_name_line_and_problem),
		cmocka_unit_test(config_missing_file),
		cmocka_unit_test(config_path_precedence),
		cmocka_unit_test(config_names_and_ids),
		cmocka_unit_test(config_make_dirs_is_idempotent),
		cmocka_unit_test(json_has_documented_members),
		cmocka_unit_test(marcxml_escapes_orders_and_sanitises),
		cmocka_unit_test(marcxml_crosswalks_dublin_core),
		cmocka_unit_test(import_stores_reports_and_quarantines),
		cmocka_unit_test(import_keeps_good_records_before_a_fatal_error),
		cmocka_unit_test(import_caps_reports_and_quarantine),
		cmocka_unit_test(marc005_is_checked),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
