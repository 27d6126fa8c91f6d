/* cmd-search.c — `mucluc search QUERY`: ix_search (or ix_suggest) on the
 * index of the data directory, for tests, benchmarks and librarians. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ix-search.h"

static const char search_usage[] =
	"Usage: mucluc search [--json] [--page N] [--size N] [--sort S] [--group none]\n"
	"                     [--filter FACET=VALUE ...] [--year-from Y] [--year-to Y]\n"
	"                     [--work KEY] [--no-facets] QUERY...\n"
	"       mucluc search --suggest [--json] PREFIX...\n"
	"\n"
	"Search the index (built by `mucluc index`). QUERY: words (all of them),\n"
	"\"phrases\", title: author: subject: isbn: year: (nhande: tacgia: chude:\n"
	"namxb:), AND OR NOT, ( ), year:1990..2000, word* for a prefix, an ISBN.\n"
	"\n"
	"  -j, --json           the answer as JSON (ix-search.h), one line\n"
	"  -p, --page N         page N (1-based; default 1)\n"
	"  -n, --size N         results per page (default 10, at most 100)\n"
	"  -s, --sort S         relevance (default), year, -year or title\n"
	"  -g, --group G        work (default: editions of a work as one result) or none\n"
	"  -f, --filter F=V     only records with facet F (library, province, type, lang,\n"
	"                       material, category, digital, year) of value V;\n"
	"                       values of one facet are ORed, facets ANDed\n"
	"      --year-from Y, --year-to Y   published in these years\n"
	"  -w, --work KEY       the editions of one work (a result's \"work\")\n"
	"      --no-facets      skip facet counting\n"
	"      --repeat N       run the search N times and print the time per run (p50,\n"
	"                       p99, max) on stderr: for measuring (the second and later\n"
	"                       runs reuse the first one's facet counts)\n"
	"      --queries FILE   time each line of FILE as the query, once (with the\n"
	"                       other options), and print the figures on stderr\n"
	"  -S, --suggest        autocomplete titles and authors starting with PREFIX\n"
	"  -h, --help           show this help\n"
	"\n"
	"Exit status: 0 searched (also when nothing was found), 1 a bad query (why on\n"
	"stderr), 2 nothing could run (configuration, no index).\n";

static int num(const char *s, long lo, long hi, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*ret = v;
	return 0;
}

static void print_human(const json_t *res, int suggest)
{
	const json_t *a, *v, *f;
	const char *k;
	size_t i;

	if (suggest) {
		json_array_foreach(json_object_get(res, "suggestions"), i, v)
			printf("%-6s %5lld  %s\n", json_string_value(json_object_get(v, "kind")),
			       (long long)json_integer_value(json_object_get(v, "count")),
			       json_string_value(json_object_get(v, "text")));
		return;
	}
	printf("%lld %s%s%s%s\n", (long long)json_integer_value(json_object_get(res, "total")),
	       strcmp(json_string_value(json_object_get(res, "group")), "work") == 0 ? "works"
										 : "records",
	       json_is_true(json_object_get(res, "relaxed")) ? " (not every word found)" : "",
	       json_is_true(json_object_get(res, "partial")) ? " (partial: time limit)" : "",
	       json_is_true(json_object_get(res, "corrected")) ? " (spelling corrected)" : "");
	if (json_is_string(json_object_get(res, "did_you_mean")))
		printf("did you mean: %s\n", json_string_value(json_object_get(res, "did_you_mean")));
	json_array_foreach(json_object_get(res, "results"), i, v) {
		long long y = json_integer_value(json_object_get(v, "year"));

		printf("%6lld  %s", (long long)json_integer_value(json_object_get(v, "id")),
		       json_string_value(json_object_get(v, "title")) ? json_string_value(json_object_get(v, "title")) : "");
		if (y)
			printf(" (%lld)", y);
		if (json_integer_value(json_object_get(v, "editions")) > 1)
			printf(" [%lld editions]", (long long)json_integer_value(json_object_get(v, "editions")));
		printf("\n");
	}
	json_object_foreach((json_t *)json_object_get(res, "facets"), k, a) {
		if (!json_is_array(a) || !json_array_size(a))
			continue;
		printf("%s:", k);
		json_array_foreach(a, i, f)
			printf(" %s (%lld)", json_string_value(json_object_get(f, "value")),
			       (long long)json_integer_value(json_object_get(f, "count")));
		printf("\n");
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* --repeat: n runs of the same request, their times on stderr. */
static int time_runs(struct ix_searcher *s, const struct ix_search_req *req, int suggest, long n,
		     struct mc_error *e)
{
	double *t = calloc((size_t)n, sizeof(*t));
	long i;
	int rc = 0;

	if (!t)
		return mc_error_set(e, -ENOMEM, "out of memory");
	for (i = 0; i < n && !rc; i++) {
		json_t *res = NULL;
		double t0 = mc_time_mono();

		rc = suggest ? ix_suggest(s, req->q, req->qlen, &res, e) : ix_search(s, req, &res, e);
		t[i] = (mc_time_mono() - t0) * 1e3;
		json_decref(res);
	}
	if (!rc) {
		qsort(t, (size_t)n, sizeof(*t), cmp_double);
		fprintf(stderr, "search: %ld runs: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", n,
			t[n / 2], t[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], t[n - 1]);
	}
	free(t);
	return rc;
}

/* --queries FILE: each line once; figures on stderr. 0 or -1 (printed). */
static int time_file(struct ix_searcher *s, struct ix_search_req *req, int suggest,
		     const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4 * IX_MAX_QUERY_BYTES];
	double *t = NULL, sum = 0;
	size_t n = 0, cap = 0, bad = 0;

	if (!f) {
		fprintf(stderr, "mucluc search: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct mc_error e;
		json_t *res = NULL;
		size_t len = strcspn(line, "\n");
		double t0;

		if (n == cap) {
			double *nt = cap < 10000000 ? realloc(t, (cap ? 2 * cap : 1024) * sizeof(*t)) : NULL;

			if (!nt)
				break;
			t = nt;
			cap = cap ? 2 * cap : 1024;
		}
		line[len] = '\0';
		req->q = line;
		req->qlen = len;
		t0 = mc_time_mono();
		if ((suggest ? ix_suggest(s, line, len, &res, &e) : ix_search(s, req, &res, &e)) != 0)
			bad++;
		t[n] = (mc_time_mono() - t0) * 1e3;
		sum += t[n++];
		json_decref(res);
	}
	fclose(f);
	if (n) {
		qsort(t, n, sizeof(*t), cmp_double);
		fprintf(stderr, "search: %zu queries (%zu refused): mean %.3f ms, p50 %.3f ms, "
				"p90 %.3f ms, p99 %.3f ms, max %.3f ms\n",
			n, bad, sum / (double)n, t[n / 2], t[n * 9 / 10], t[n * 99 / 100], t[n - 1]);
	}
	free(t);
	return 0;
}

int cmd_search(const struct cli *cli, int argc, char **argv)
{
	enum { O_YFROM = 256, O_YTO, O_NOFACETS, O_REPEAT, O_QUERIES };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },     { "page", required_argument, NULL, 'p' },
		{ "size", required_argument, NULL, 'n' }, { "sort", required_argument, NULL, 's' },
		{ "group", required_argument, NULL, 'g' }, { "filter", required_argument, NULL, 'f' },
		{ "work", required_argument, NULL, 'w' }, { "suggest", no_argument, NULL, 'S' },
		{ "year-from", required_argument, NULL, O_YFROM },
		{ "year-to", required_argument, NULL, O_YTO },
		{ "no-facets", no_argument, NULL, O_NOFACETS },
		{ "repeat", required_argument, NULL, O_REPEAT },
		{ "queries", required_argument, NULL, O_QUERIES },
		{ "help", no_argument, NULL, 'h' },     { NULL, 0, NULL, 0 },
	};
	struct ix_filter filters[IX_MAX_FILTERS + 1];
	struct ix_search_req req;
	struct mc_config *cfg = NULL;
	struct ix_searcher *s = NULL;
	struct mc_error e;
	struct mc_buf q;
	json_t *res = NULL;
	int c, json = 0, suggest = 0, rc, ret = EXIT_NOTHING;
	long repeat = 1;
	const char *queries = NULL;
	long v;

	memset(&req, 0, sizeof(req));
	req.page = 1;
	req.size = 10;
	req.filters = filters;
	mc_buf_init(&q, 64u << 10);
	while ((c = getopt_long(argc, argv, "jp:n:s:g:f:w:Sh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'p':
			if (num(optarg, 1, INT_MAX, &v))
				return cli_usage_error("search", "--page: a number from 1");
			req.page = (unsigned)v;
			break;
		case 'n':
			if (num(optarg, 0, INT_MAX, &v))
				return cli_usage_error("search", "--size: a number");
			req.size = (unsigned)v;
			break;
		case 's':
			if (strcmp(optarg, "relevance") == 0)
				req.sort = IX_SORT_RELEVANCE;
			else if (strcmp(optarg, "year") == 0)
				req.sort = IX_SORT_YEAR;
			else if (strcmp(optarg, "-year") == 0)
				req.sort = IX_SORT_YEAR_DESC;
			else if (strcmp(optarg, "title") == 0)
				req.sort = IX_SORT_TITLE;
			else
				return cli_usage_error("search", "--sort: relevance, year, -year or title");
			break;
		case 'g':
			if (strcmp(optarg, "work") == 0)
				req.group = IX_GROUP_WORK;
			else if (strcmp(optarg, "none") == 0)
				req.group = IX_GROUP_NONE;
			else
				return cli_usage_error("search", "--group: work or none");
			break;
		case 'f': {
			char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg)
				return cli_usage_error("search", "--filter: FACET=VALUE");
			if (req.nfilters == IX_MAX_FILTERS + 1)
				break;  /* one past the limit: ix_search says so */
			*eq = '\0';
			filters[req.nfilters].facet = optarg;
			filters[req.nfilters].value = eq + 1;
			req.nfilters++;
			break;
		}
		case 'w':
			req.work = optarg;
			break;
		case 'S':
			suggest = 1;
			break;
		case O_YFROM:
		case O_YTO:
			if (num(optarg, 1, 9999, &v))
				return cli_usage_error("search", "--year-from/--year-to: a year");
			if (c == O_YFROM)
				req.year_from = (int)v;
			else
				req.year_to = (int)v;
			break;
		case O_NOFACETS:
			req.no_facets = 1;
			break;
		case O_QUERIES:
			queries = optarg;
			break;
		case O_REPEAT:
			if (num(optarg, 1, 1000000, &repeat))
				return cli_usage_error("search", "--repeat: a number from 1");
			break;
		case 'h':
			fputs(search_usage, stdout);
			return EXIT_ALL_GOOD;
		default:
			return cli_usage_error("search", NULL);
		}
	}
	for (c = optind; c < argc; c++)
		if ((c > optind && mc_buf_addc(&q, ' ')) || mc_buf_adds(&q, argv[c])) {
			mc_buf_free(&q);
			return cli_usage_error("search", "the query is too long");
		}
	if (cli_load_config(cli, &cfg))
		goto out;
	mc_error_clear(&e);
	rc = ix_searcher_open(cfg->data_dir, &s, &e);
	if (rc) {
		if (rc == MC_E_NOTFOUND)
			fprintf(stderr, "mucluc: no index in %s: run 'mucluc index' first\n",
				cfg->data_dir);
		else
			cli_error("search", rc, &e);
		goto out;
	}
	if (queries) {
		ret = time_file(s, &req, suggest, queries) ? EXIT_NOTHING : EXIT_ALL_GOOD;
		goto out;
	}
	req.q = q.data ? q.data : "";
	req.qlen = q.len;
	rc = repeat > 1 ? time_runs(s, &req, suggest, repeat, &e) : 0;
	if (!rc)
		rc = suggest ? ix_suggest(s, req.q, req.qlen, &res, &e) : ix_search(s, &req, &res, &e);
	if (rc == MC_E_USAGE || rc == MC_E_TOOBIG) {
		fprintf(stderr, "mucluc search: %s\n", e.msg);
		ret = EXIT_PARTLY;
		goto out;
	}
	if (rc) {
		cli_error("search", rc, &e);
		goto out;
	}
	if (json) {
		char *text = json_dumps(res, JSON_COMPACT);

		if (!text) {
			cli_error("search", -ENOMEM, NULL);
			goto out;
		}
		printf("%s\n", text);
		free(text);
	} else {
		print_human(res, suggest);
	}
	ret = fflush(stdout) == 0 ? EXIT_ALL_GOOD : EXIT_NOTHING;
out:
	json_decref(res);
	ix_searcher_close(s);
	mc_config_free(cfg);
	mc_buf_free(&q);
	return ret;
}
