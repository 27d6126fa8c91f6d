/* fuzz-http-args.c — the server's URL arguments (api/args.c): splitting and
 * %-decoding a query string, and turning it into a search request.
 *
 * Properties: api_args_parse answers 0 or MC_E_USAGE with a message; what
 * it accepts has at most API_MAX_ARGS arguments, each NUL-terminated inside
 * the buffer, and re-encoding them parses back to the same arguments.
 * api_search_req_from_args answers 0 or MC_E_USAGE with a message; a
 * request it accepts respects every limit of ix-search.h (page size,
 * result depth, query bytes, filters) and holds only UTF-8 text without
 * NUL bytes.
 *
 * Without MC_FUZZING, main() replays the corpus directories it is given. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(x)                                                                      \
	do {                                                                               \
		if (!(x)) {                                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x); \
			abort();                                                           \
		}                                                                          \
	} while (0)

static size_t encode(const char *s, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	return o;
}

static int text_ok(const char *s, size_t n)
{
	return !memchr(s, '\0', n) && mc_utf8_valid(s, n, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *qs = (const char *)data;
	char *buf = malloc(size + 2), *enc = NULL, *buf2 = NULL, msg[256];
	struct api_args a, b;
	struct ix_filter filters[IX_MAX_FILTERS];
	struct ix_search_req req;
	size_t i, elen = 0;
	int rc;

	if (!buf)
		return 0;
	msg[0] = '\0';
	rc = api_args_parse(qs, size, buf, size + 2, &a, msg, sizeof(msg));
	FUZZ_CHECK(rc == 0 || (rc == MC_E_USAGE && msg[0]));
	if (rc)
		goto out;
	FUZZ_CHECK(a.n <= API_MAX_ARGS);
	for (i = 0; i < a.n; i++) {
		FUZZ_CHECK(a.a[i].key >= buf && a.a[i].key + a.a[i].klen < buf + size + 2);
		FUZZ_CHECK(a.a[i].val >= buf && a.a[i].val + a.a[i].vlen < buf + size + 2);
		FUZZ_CHECK(a.a[i].key[a.a[i].klen] == '\0' && a.a[i].val[a.a[i].vlen] == '\0');
	}
	/* round trip: key=value&... fully %-encoded parses back the same */
	enc = malloc(size * 3 + a.n * 2 + 8);
	buf2 = malloc(size * 3 + a.n * 2 + 10);
	if (!enc || !buf2)
		goto out;
	for (i = 0; i < a.n; i++) {
		if (i)
			enc[elen++] = '&';
		elen += encode(a.a[i].key, a.a[i].klen, enc + elen);
		enc[elen++] = '=';
		elen += encode(a.a[i].val, a.a[i].vlen, enc + elen);
	}
	rc = api_args_parse(enc, elen, buf2, size * 3 + a.n * 2 + 10, &b, msg, sizeof(msg));
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(b.n == a.n);
	for (i = 0; i < a.n; i++) {
		FUZZ_CHECK(b.a[i].klen == a.a[i].klen && b.a[i].vlen == a.a[i].vlen);
		FUZZ_CHECK(!memcmp(b.a[i].key, a.a[i].key, a.a[i].klen));
		FUZZ_CHECK(!memcmp(b.a[i].val, a.a[i].val, a.a[i].vlen));
	}

	msg[0] = '\0';
	rc = api_search_req_from_args(&a, &req, filters, msg, sizeof(msg));
	FUZZ_CHECK(rc == 0 || (rc == MC_E_USAGE && msg[0]));
	if (rc)
		goto out;
	FUZZ_CHECK(req.size >= 1 && req.size <= IX_MAX_PAGE_SIZE);
	FUZZ_CHECK(req.page >= 1 && (unsigned long)req.page * req.size <= IX_MAX_RESULT_DEPTH);
	FUZZ_CHECK(req.qlen <= IX_MAX_QUERY_BYTES && text_ok(req.q, req.qlen));
	FUZZ_CHECK(req.sort >= IX_SORT_RELEVANCE && req.sort <= IX_SORT_TITLE);
	FUZZ_CHECK(req.group == IX_GROUP_WORK || req.group == IX_GROUP_NONE);
	FUZZ_CHECK(req.nfilters <= IX_MAX_FILTERS && req.filters == filters);
	for (i = 0; i < req.nfilters; i++) {
		size_t n = strlen(filters[i].value);

		FUZZ_CHECK(n > 0 && n <= IX_MAX_FILTER_BYTES && text_ok(filters[i].value, n));
	}
	FUZZ_CHECK(req.year_from >= 0 && req.year_from <= 9999 && req.year_to >= 0 &&
		   req.year_to <= 9999);
	FUZZ_CHECK(!req.work || (strlen(req.work) > 0 && strlen(req.work) < 64));
out:
	free(buf);
	free(enc);
	free(buf2);
	return 0;
}

#include "fuzz-replay.h"

#ifndef MC_FUZZING
int main(int argc, char **argv)
{
	int files = fuzz_replay(argc, argv);

	if (files < 0)
		return 1;
	printf("fuzz-http-args: %d inputs replayed\n", files);
	return files ? 0 : 1;
}
#endif
