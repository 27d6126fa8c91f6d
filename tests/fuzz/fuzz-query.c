/* fuzz-query.c — the query parser (indexer/query.c), and ix_search /
 * ix_suggest over a small index when one is given.
 *
 * Properties: the parser answers every input with 0, MC_E_USAGE or
 * MC_E_TOOBIG and a message; a tree it accepts respects the limits, dumps
 * and formats, and the formatted text (the did-you-mean line) parses back
 * to the same tree unless its added parentheses pass the depth limit.
 * With $MUCLUC_FUZZ_INDEX naming a data directory with an index
 * (tests/integration/test-search.sh builds one), every input also goes to
 * ix_search (options taken from its first byte) and ix_suggest: an answer
 * or a reader's error, never anything else; at most size results; asked
 * twice, the same answer (the second one's facets remembered).
 *
 * Without MC_FUZZING, main() replays the corpus directories it is given. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "ix-query.h"
#include "ix-search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(x)                                                                      \
	do {                                                                               \
		if (!(x)) {                                                                \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x); \
			abort();                                                           \
		}                                                                          \
	} while (0)

static void check_parse(const char *q, size_t len)
{
	struct ix_query *pq = NULL, *back = NULL;
	struct mc_buf dump, text, dump2;
	struct mc_error err;
	int rc;

	rc = ix_query_parse(q, len, &pq, &err);
	if (rc) {
		FUZZ_CHECK(rc == MC_E_USAGE || rc == MC_E_TOOBIG || rc == -ENOMEM);
		FUZZ_CHECK(err.code == rc && err.msg[0] != '\0');
		FUZZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
		FUZZ_CHECK(pq == NULL);
		return;
	}
	FUZZ_CHECK(pq->nterms <= IX_MAX_QUERY_TERMS);
	FUZZ_CHECK(pq->depth <= IX_MAX_QUERY_DEPTH);
	mc_buf_init(&dump, 1u << 20);
	mc_buf_init(&text, 1u << 20);
	mc_buf_init(&dump2, 1u << 20);
	FUZZ_CHECK(ix_query_dump(pq, &dump) == 0);
	FUZZ_CHECK(ix_query_format(pq, &text) == 0);
	FUZZ_CHECK((pq->root == NULL) == (text.len == 0));
	rc = ix_query_parse(text.data ? text.data : "", text.len, &back, &err);
	if (rc == 0) {
		FUZZ_CHECK(ix_query_dump(back, &dump2) == 0);
		if (dump.len != dump2.len || (dump.len && memcmp(dump.data, dump2.data, dump.len)))
			fprintf(stderr, "formatted query parses differently:\n%s\n%s\n%s\n",
				dump.data ? dump.data : "", text.data ? text.data : "",
				dump2.data ? dump2.data : "");
		FUZZ_CHECK(dump.len == dump2.len && (!dump.len || !memcmp(dump.data, dump2.data, dump.len)));
	} else {
		/* the format's parentheses can only add depth */
		FUZZ_CHECK(rc == MC_E_TOOBIG);
	}
	ix_query_free(back);
	ix_query_free(pq);
	mc_buf_free(&dump);
	mc_buf_free(&text);
	mc_buf_free(&dump2);
}

static struct ix_searcher *searcher(void)
{
	static int tried;
	static struct ix_searcher *s;
	const char *dir = getenv("MUCLUC_FUZZ_INDEX");
	struct mc_error err;

	if (tried)
		return s;
	tried = 1;
	if (dir && *dir)
		FUZZ_CHECK(ix_searcher_open(dir, &s, &err) == 0);
	return s;
}

static void check_search(struct ix_searcher *s, const uint8_t *data, size_t size)
{
	static const struct ix_filter filters[] = {
		{ "library", "nb-tv-tinh" }, { "lang", "vie" }, { "digital", "1" },
	};
	struct ix_search_req req;
	struct mc_error err;
	json_t *res = NULL;
	unsigned o = size ? data[0] : 0;
	int rc;

	memset(&req, 0, sizeof(req));
	req.q = (const char *)data + (size ? 1 : 0);
	req.qlen = size ? size - 1 : 0;
	req.page = 1 + (o & 3);
	req.size = 1 + ((o >> 2) & 7) * 3;
	req.sort = (int)((o >> 5) & 3);
	req.group = (o >> 7) & 1;
	req.filters = filters;
	req.nfilters = (o & 0x10) ? (o >> 1) % 4 : 0;
	rc = ix_search(s, &req, &res, &err);
	if (rc) {
		FUZZ_CHECK(rc == MC_E_USAGE || rc == MC_E_TOOBIG);
		FUZZ_CHECK(err.msg[0] != '\0');
		FUZZ_CHECK(res == NULL);
	} else {
		json_t *again = NULL;

		FUZZ_CHECK(json_is_object(res));
		FUZZ_CHECK(json_is_array(json_object_get(res, "results")));
		FUZZ_CHECK(json_array_size(json_object_get(res, "results")) <= req.size);
		FUZZ_CHECK(json_is_integer(json_object_get(res, "total")));
		/* the same request again (its facets come from the searcher's
		 * memory now) is the same answer */
		FUZZ_CHECK(ix_search(s, &req, &again, &err) == 0);
		json_object_del(res, "took_ms");
		json_object_del(again, "took_ms");
		if (!json_is_true(json_object_get(res, "partial")))
			FUZZ_CHECK(json_equal(res, again));
		json_decref(again);
		json_decref(res);
	}
	res = NULL;
	rc = ix_suggest(s, req.q, req.qlen, &res, &err);
	if (rc) {
		FUZZ_CHECK(rc == MC_E_USAGE || rc == MC_E_TOOBIG);
	} else {
		FUZZ_CHECK(json_array_size(json_object_get(res, "suggestions")) <= IX_MAX_SUGGEST);
		json_decref(res);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ix_searcher *s = searcher();

	check_parse((const char *)data, size);
	if (s)
		check_search(s, data, size);
	return 0;
}

#include "fuzz-replay.h"

#ifndef MC_FUZZING
int main(int argc, char **argv)
{
	int files = fuzz_replay(argc, argv);

	if (files < 0)
		return 1;
	printf("replayed %d inputs%s\n", files, searcher() ? " (parser and search)" : " (parser)");
	ix_searcher_close(searcher());
	return files ? 0 : 1;
}
#endif
