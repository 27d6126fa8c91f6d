/* fuzz-common.h — shared by the parser fuzz targets.
 *
 * fuzz_parse() runs one input through a push parser, cut into pieces whose
 * sizes come from the input itself (so chunk boundaries get fuzzed too), and
 * checks what the callback receives. Without MC_FUZZING (the default build,
 * -Dfuzzing=false) a main() replays every file of the corpus directories given
 * on the command line, so `meson test` runs the committed corpus and every
 * crash reproducer added to it. */
#ifndef MC_FUZZ_COMMON_H
#define MC_FUZZ_COMMON_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mc-hash.h"
#include "mc-limits.h"
#include "mc-parse.h"

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

#ifndef MC_FUZZING
static int fuzz_run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return -1;
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int i, files = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *e;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: cannot stat\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (fuzz_run_file(argv[i]) != 0)
				return 1;
			files++;
			continue;
		}
		d = opendir(argv[i]);
		if (!d)
			return 1;
		while ((e = readdir(d)) != NULL) {
			char path[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			if (fuzz_run_file(path) != 0) {
				closedir(d);
				return 1;
			}
			files++;
		}
		closedir(d);
	}
	printf("replayed %d inputs\n", files);
	return files ? 0 : 1;
}
#endif

#endif
