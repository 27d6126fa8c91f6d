/* fuzz-common.h — shared by the end-to-end fuzz targets.
 *
 * fuzz_parse() runs one input through a push parser, cut into pieces whose
 * sizes come from the input itself (so chunk boundaries get fuzzed too), and
 * checks what the callback receives. Every record then goes the way an import
 * takes it and back out: mc_import_prepare (local id, byte check, normalise,
 * extract), pack, unpack, JSON with and without metadata, MARCXML. The
 * property checked is "accepted means exportable": a record the import would
 * store must come out of every writer without error, its JSON must parse, its
 * MARCXML must be well-formed, valid against MARC21slim.xsd when the schema
 * is found ($MC_FUZZ_XSD, else $MUCLUC_SRCDIR/../shared/xsd/MARC21slim.xsd),
 * and read back by our own parser as one good record that writes out the
 * same. A failed check aborts, so libFuzzer reports it.
 *
 * Without MC_FUZZING (the default build, -Dfuzzing=false) a main() replays
 * every file of the corpus directories given on the command line, so
 * `meson test` and tests/run.sh run the committed corpus and every crash
 * reproducer added to it. */
#ifndef MC_FUZZ_COMMON_H
#define MC_FUZZ_COMMON_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "ingest.h"
#include "mc-hash.h"
#include "mc-limits.h"
#include "mc-output.h"
#include "mc-store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(x)                                                                      \
	do {                                                                               \
		if (!(x)) {                                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x); \
			abort();                                                           \
		}                                                                          \
	} while (0)

static void fuzz_check_str(const char *s, size_t len)
{
	FUZZ_CHECK(s != NULL);
	FUZZ_CHECK(s[len] == '\0');
}

/* ---- accepted means exportable ---- */

static void fuzz_silent(void *ctx, xmlErrorPtr e)
{
	(void)ctx;
	(void)e;
}

/* The MARC21slim schema, loaded once; NULL when it cannot be found. */
static xmlSchemaPtr fuzz_schema(void)
{
	static int tried;
	static xmlSchemaPtr schema;
	char path[4096];
	const char *env = getenv("MC_FUZZ_XSD"), *src = getenv("MUCLUC_SRCDIR");
	xmlSchemaParserCtxtPtr pc;

	if (tried)
		return schema;
	tried = 1;
	if (env && *env)
		snprintf(path, sizeof(path), "%s", env);
	else if (src && *src)
		snprintf(path, sizeof(path), "%s/../shared/xsd/MARC21slim.xsd", src);
	else
		snprintf(path, sizeof(path), "../shared/xsd/MARC21slim.xsd");
	if (access(path, R_OK) != 0)
		return NULL;
	pc = xmlSchemaNewParserCtxt(path);
	if (!pc)
		return NULL;
	schema = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	FUZZ_CHECK(schema != NULL);
	return schema;
}

/* Well-formed, and valid when the schema is there. */
static void fuzz_check_marcxml_valid(const char *xml, size_t len)
{
	xmlSchemaPtr schema = fuzz_schema();
	xmlDocPtr doc;

	xmlSetStructuredErrorFunc(NULL, fuzz_silent);
	doc = xmlReadMemory(xml, (int)len, "out.xml", "UTF-8", XML_PARSE_NONET);
	if (!doc)
		fprintf(stderr, "not well-formed MARCXML:\n%.*s\n", (int)(len < 4000 ? len : 4000), xml);
	FUZZ_CHECK(doc != NULL);
	if (schema) {
		xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
		int v;

		FUZZ_CHECK(vc != NULL);
		xmlSchemaSetValidStructuredErrors(vc, fuzz_silent, NULL);
		v = xmlSchemaValidateDoc(vc, doc);
		if (v != 0)
			fprintf(stderr, "MARCXML not valid against MARC21slim.xsd:\n%.*s\n",
				(int)(len < 4000 ? len : 4000), xml);
		FUZZ_CHECK(v == 0);
		xmlSchemaFreeValidCtxt(vc);
	}
	xmlFreeDoc(doc);
}

struct fuzz_back {
	int n, bad;
	struct mc_buf xml;
};

static int fuzz_back_cb(void *ctx, struct mc_record *r, const struct mc_error *bad,
			const char *raw, size_t raw_len)
{
	struct fuzz_back *b = ctx;

	(void)raw;
	(void)raw_len;
	b->n++;
	if (bad) {
		b->bad++;
		fprintf(stderr, "our MARCXML read back as a bad record: %s\n", bad->msg);
		return 0;
	}
	FUZZ_CHECK(mc_record_marcxml(r, 0, &b->xml) == 0);
	return 0;
}

/* Our MARCXML, read by our parser, is one good record that writes the same. */
static void fuzz_check_marcxml_back(const char *xml, size_t len)
{
	struct mc_parse_opts o = { .input = MC_IN_MARCXML, .filename = "back", .source = "fuzz" };
	struct fuzz_back b = { 0, 0, { NULL, 0, 0, 0 } };
	struct mc_parser *p;
	struct mc_error err;
	int rc;

	/* escaping can make the MARCXML of a big record bigger than a record
	 * may be as read: that one is not read back */
	if (len > MC_MAX_RECORD_BYTES / 2)
		return;
	mc_buf_init(&b.xml, 4 * (size_t)MC_MAX_RECORD_BYTES);
	FUZZ_CHECK(mc_parser_new(&o, fuzz_back_cb, &b, &p) == 0);
	rc = mc_parser_feed(p, xml, len, &err);
	if (rc == 0)
		rc = mc_parser_finish(p, &err);
	if (rc)
		fprintf(stderr, "our MARCXML does not parse: %s\n", err.msg);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(b.n == 1 && b.bad == 0);
	if (b.xml.len != len || memcmp(b.xml.data, xml, len) != 0)
		fprintf(stderr, "MARCXML written, read and written again differs:\n%.*s\n---\n%.*s\n",
			(int)(len < 4000 ? len : 4000), xml,
			(int)(b.xml.len < 4000 ? b.xml.len : 4000), b.xml.data ? b.xml.data : "");
	FUZZ_CHECK(b.xml.len == len && memcmp(b.xml.data, xml, len) == 0);
	mc_parser_free(p);
	mc_buf_free(&b.xml);
}

static void fuzz_check_json(const struct mc_record *r, unsigned flags, struct mc_buf *out)
{
	json_error_t je;
	json_t *j;
	int rc;

	mc_buf_reset(out);
	rc = mc_record_json(r, flags, out);
	if (rc)
		fprintf(stderr, "JSON of an accepted record fails: %s\n", mc_strerror(rc));
	FUZZ_CHECK(rc == 0);
	j = json_loadb(out->data, out->len, JSON_ALLOW_NUL, &je);
	FUZZ_CHECK(j != NULL);
	json_decref(j);
}

/* The import's way for one well-formed record, then every writer. */
static void fuzz_e2e(struct mc_record *r)
{
	struct mc_buf packed, json, json2, xml;
	struct mc_record *back = NULL;
	struct mc_error e;
	unsigned repairs = 0;
	int rc;

	rc = mc_import_prepare(r, "fuzz", MC_ENC_AUTO, 1700000000, &repairs, &e);
	if (rc) {
		/* refused: a reason, never a crash */
		FUZZ_CHECK(rc < 0);
		FUZZ_CHECK(rc == -ENOMEM || e.code == rc);
		FUZZ_CHECK(memchr(e.msg, '\0', sizeof(e.msg)) != NULL);
		return;
	}
	FUZZ_CHECK(r->local_id && *r->local_id);
	mc_buf_init(&packed, 16u << 20);  /* the store's value limit, as the import has it */
	mc_buf_init(&json, 64u << 20);
	mc_buf_init(&json2, 64u << 20);
	mc_buf_init(&xml, 64u << 20);
	rc = r->status == MC_REC_DELETED ? mc_record_pack_deleted(r->datestamp, &packed)
					 : mc_record_pack(r, &packed);
	if (rc == MC_E_TOOBIG)
		goto out;  /* the import refuses it: "record too large to store" */
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(mc_record_new(&back) == 0);
	rc = mc_record_unpack(packed.data, packed.len, back);
	if (rc)
		fprintf(stderr, "unpack of what pack wrote fails: %s\n", mc_strerror(rc));
	FUZZ_CHECK(rc == 0);
	back->source = r->source;
	back->local_id = r->local_id;
	/* what the store gives back is what went in */
	fuzz_check_json(back, MC_JSON_METADATA, &json);
	if (r->status != MC_REC_DELETED) {
		fuzz_check_json(r, MC_JSON_METADATA, &json2);
		if (json.len != json2.len || memcmp(json.data, json2.data, json.len) != 0)
			fprintf(stderr, "pack/unpack changed the record:\n%.*s\n---\n%.*s\n",
				(int)(json2.len < 4000 ? json2.len : 4000), json2.data,
				(int)(json.len < 4000 ? json.len : 4000), json.data);
		FUZZ_CHECK(json.len == json2.len && memcmp(json.data, json2.data, json.len) == 0);
	}
	fuzz_check_json(back, 0, &json);
	fuzz_check_json(back, MC_JSON_PRETTY | MC_JSON_METADATA, &json);
	rc = mc_record_marcxml(back, 0, &xml);
	FUZZ_CHECK(rc == 0);
	if (back->status == MC_REC_DELETED) {
		FUZZ_CHECK(xml.len == 0);
		goto out;
	}
	FUZZ_CHECK(xml.len > 0);
	fuzz_check_marcxml_valid(xml.data, xml.len);
	if (back->marc)
		fuzz_check_marcxml_back(xml.data, xml.len);
	mc_buf_reset(&json);
	FUZZ_CHECK(mc_record_marc_text(back, &json) == 0);
out:
	mc_record_free(back);
	mc_buf_free(&packed);
	mc_buf_free(&json);
	mc_buf_free(&json2);
	mc_buf_free(&xml);
}

static int fuzz_cb(void *ctx, struct mc_record *r, const struct mc_error *bad, const char *raw,
		   size_t raw_len)
{
	size_t i, j;

	(*(uint64_t *)ctx)++;
	FUZZ_CHECK(r != NULL && r->arena != NULL);
	FUZZ_CHECK(raw_len <= MC_MAX_RECORD_BYTES);
	FUZZ_CHECK((raw == NULL) == (raw_len == 0));
	if (raw_len) {
		volatile char sink = raw[0] ^ raw[raw_len - 1];

		(void)sink;
	}
	if (bad) {
		FUZZ_CHECK(bad->code < 0);
		FUZZ_CHECK(memchr(bad->msg, '\0', sizeof(bad->msg)) != NULL);
		FUZZ_CHECK(memchr(bad->record_id, '\0', sizeof(bad->record_id)) != NULL);
	}
	if (r->local_id)
		FUZZ_CHECK(strlen(r->local_id) <= MC_MAX_ID_BYTES);
	if (r->marc) {
		FUZZ_CHECK(strlen(r->marc->leader) <= 24);
		FUZZ_CHECK(r->marc->nfields <= MC_MAX_FIELDS);
		for (i = 0; i < r->marc->nfields; i++) {
			const struct mc_field *f = &r->marc->fields[i];

			FUZZ_CHECK(f->tag[3] == '\0');
			if (f->value)
				fuzz_check_str(f->value, f->len);
			FUZZ_CHECK(f->nsub <= MC_MAX_SUBFIELDS);
			for (j = 0; j < f->nsub; j++) {
				FUZZ_CHECK(f->sub[j].len <= MC_MAX_FIELD_BYTES);
				fuzz_check_str(f->sub[j].value, f->sub[j].len);
			}
		}
	}
	if (r->dc) {
		FUZZ_CHECK(r->dc->n <= MC_MAX_DC_ELEMENTS);
		for (i = 0; i < r->dc->n; i++) {
			FUZZ_CHECK(strlen(r->dc->elems[i].name) > 0);
			fuzz_check_str(r->dc->elems[i].value, r->dc->elems[i].len);
			if (r->dc->elems[i].lang)
				(void)strlen(r->dc->elems[i].lang);
		}
	}
	if (!bad)
		fuzz_e2e(r);
	return 0;
}

static void fuzz_parse(const uint8_t *data, size_t size, enum mc_input in)
{
	struct mc_parse_opts o = { .input = in, .filename = "fuzz", .source = "fuzz" };
	struct mc_parser *p;
	struct mc_error err;
	const struct mc_oai_info *oai;
	uint64_t n = 0;
	size_t pos = 0;
	unsigned h;
	int rc = 0;

	if (mc_parser_new(&o, fuzz_cb, &n, &p) != 0)
		return;
	h = mc_hash32(data, size < 64 ? size : 64);
	while (pos < size && rc == 0) {
		size_t k = 1 + (h % 4096);

		h = h * 1103515245u + 12345u;
		if (k > size - pos)
			k = size - pos;
		rc = mc_parser_feed(p, (const char *)data + pos, k, &err);
		pos += k;
	}
	if (rc == 0)
		rc = mc_parser_finish(p, &err);
	if (rc) {
		FUZZ_CHECK(rc < 0);
		FUZZ_CHECK(err.code == rc);
		FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
	}
	oai = mc_parser_oai(p);
	FUZZ_CHECK(memchr(oai->token, '\0', sizeof(oai->token)) != NULL);
	FUZZ_CHECK(oai->records == n);
	FUZZ_CHECK(mc_parser_offset(p) <= size);
	mc_parser_free(p);
}

#include "fuzz-replay.h"

#ifndef MC_FUZZING
int main(int argc, char **argv)
{
	int files = fuzz_replay(argc, argv);

	if (files < 0)
		return 1;
	printf("replayed %d inputs\n", files);
	return files ? 0 : 1;
}
#endif

#endif
