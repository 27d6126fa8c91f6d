/* cmd-index.c — `mucluc index [--rebuild] [-v]`: the search index stage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ix-index.h"

static const char index_usage[] =
	"Usage: mucluc index [--rebuild] [-v]\n"
	"\n"
	"Bring the search index (<data_dir>/index) up to date with the union\n"
	"records: apply the union change feed from where the last run stopped\n"
	"(import, harvest and merge run this too unless --no-index).\n"
	"\n"
	"  --rebuild            build a new index from every union record beside the\n"
	"                       live one and swap it in (searches keep being answered)\n"
	"  -v, --verbose        also print the feed entries read, commits and cursor\n"
	"  -h, --help           show this help\n";

int cli_run_index(const struct mc_config *cfg, struct mc_store *s, unsigned flags, int verbose)
{
	struct ix_index_opts o;
	struct ix_index_stats st;
	struct mc_error e;
	double t0, secs;
	uint64_t n;
	int rc;

	memset(&o, 0, sizeof(o));
	o.flags = flags;
	o.link = cli_record_link;
	o.on_wait = cli_lock_wait;
	mc_error_clear(&e);
	t0 = mc_time_mono();
	rc = ix_index_run(cfg, s, &o, &st, &e);
	secs = mc_time_mono() - t0;
	if (rc) {
		cli_error("index", rc, &e);
		return EXIT_PARTLY;
	}
	n = st.added + st.replaced + st.deleted;
	printf("index: %llu documents added, %llu replaced, %llu deleted%s in %.2f s (%.0f docs/s); "
	       "%llu documents\n",
	       (unsigned long long)st.added, (unsigned long long)st.replaced,
	       (unsigned long long)st.deleted, st.rebuilt ? " (rebuilt)" : "", secs,
	       secs > 0 ? (double)n / secs : 0.0, (unsigned long long)st.docs);
	if (verbose)
		printf("index: %llu union feed entries read, %llu unions without a public member, "
		       "%llu commits, cursor %llu, index.d/%u\n",
		       (unsigned long long)st.feed, (unsigned long long)st.skipped,
		       (unsigned long long)st.commits, (unsigned long long)st.cursor, st.generation);
	fflush(stdout);
	return EXIT_ALL_GOOD;
}

int cmd_index(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rebuild", no_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mc_config *cfg = NULL;
	struct mc_store *s = NULL;
	unsigned flags = 0;
	int c, verbose = 0, rc;

	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			flags |= IX_INDEX_REBUILD;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			fputs(index_usage, stdout);
			return EXIT_ALL_GOOD;
		default:
			return cli_usage_error("index", NULL);
		}
	}
	if (optind < argc)
		return cli_usage_error("index", "unexpected argument");
	rc = cli_load_config(cli, &cfg);
	if (rc)
		return rc;
	rc = cli_open_store(cfg, MC_STORE_RDONLY, &s);
	if (!rc)
		rc = cli_run_index(cfg, s, flags, verbose);
	mc_store_close(s);
	mc_config_free(cfg);
	return rc;
}
