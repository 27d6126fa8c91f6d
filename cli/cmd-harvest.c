/* cmd-harvest.c — `mucluc harvest [--source ID ...|--all] [--full [--force]] [--from D]
 * [--until D] [--jobs N] [--no-merge] [--no-index]` */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"
#include "hv.h"

static const char usage[] =
	"Usage: mucluc harvest [--source ID ...|--all] [--full [--force]] [--from DATE]\n"
	"                      [--until DATE] [--jobs N] [--no-merge]\n"
	"\n"
	"Harvest the configured OAI-PMH sources into the store. Each run fetches what\n"
	"changed since the start of the last successful run; a run that was interrupted\n"
	"resumes from its last stored page.\n"
	"\n"
	"  -s, --source ID   harvest this source (repeat for more); default: --all\n"
	"  -a, --all         every source with a url (the others are skipped)\n"
	"      --full        harvest everything and mark deleted the records the\n"
	"                    provider no longer has (not after errors or an empty run;\n"
	"                    refused when that is more than full_delete_limit, 50%,\n"
	"                    of a source's records)\n"
	"      --force       with --full: mark them deleted even past full_delete_limit\n"
	"      --from DATE   harvest changes from DATE (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)\n"
	"      --until DATE  ... up to DATE\n"
	"  -j, --jobs N      sources harvested in parallel (default: [harvest] jobs, 4);\n"
	"                    never two connections to one host\n"
	"      --no-merge    do not run the later stages (merge, index) afterwards\n"
	"      --no-index    run the merge afterwards but not the index\n"
	"  -h, --help        show this help\n"
	"\n"
	"Prints one line per source on stdout:\n"
	"  ID: ok: N new, N changed, N deleted, N unchanged, N errors, N pages in S.SS s\n"
	"  ID: FAILED: reason (N new, ..., N pages in S.SS s)\n"
	"Bad records, retries and kept pages go to stderr as \"ID: URL: message\".\n"
	"Exit status: 0 all good, 1 some sources failed or had bad records, 2 nothing\n"
	"could run (configuration, store, no source). A harvest that starts while\n"
	"another runs, or while a source it harvests is being imported, waits for it\n"
	"(saying so on stderr).\n";

static void on_note(void *ctx, const char *source, const char *url, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "%s: %s%s%s\n", source, url, *url ? ": " : "", msg);
}

/* 0 for a datestamp the OAI-PMH protocol allows. */
static int check_date(const char *s)
{
	int64_t t;

	return mc_datestamp_parse(s, &t);
}

static int cmp_source_id(const void *a, const void *b)
{
	const struct mc_source *x = *(const struct mc_source *const *)a;
	const struct mc_source *y = *(const struct mc_source *const *)b;

	return strcmp(x->id, y->id);
}

/* The harvest lock, then the lock of each source harvested in ascending id
 * order (the order every command keeps: schemas/concurrency.md), each
 * waited for. locks[0] is the harvest lock, locks[1..n] the sources'.
 * 0, or EXIT_NOTHING (message printed; what was taken stays in locks). */
static int take_locks(const struct mc_config *cfg, const struct mc_source **srcs, size_t n,
		      struct mc_lock **locks)
{
	const struct mc_source **sorted;
	char name[MC_LOCK_NAME_MAX + 1];
	size_t i;
	int rc = cli_lock(cfg, MC_LOCK_HARVEST, "harvest", &locks[0]);

	if (rc)
		return rc;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted) {
		fprintf(stderr, "mucluc: out of memory\n");
		return EXIT_NOTHING;
	}
	memcpy(sorted, srcs, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_source_id);
	for (i = 0; !rc && i < n; i++) {
		if (snprintf(name, sizeof(name), "%s%s", MC_LOCK_SOURCE, sorted[i]->id) >=
		    (int)sizeof(name)) {
			fprintf(stderr, "mucluc: source id %s too long for its lock\n", sorted[i]->id);
			rc = EXIT_NOTHING;
		} else {
			rc = cli_lock(cfg, name, "harvest", &locks[1 + i]);
		}
	}
	free(sorted);
	return rc;
}

static void release_locks(struct mc_lock **locks, size_t n)
{
	for (size_t i = 0; locks && i < n + 1; i++) {
		mc_lock_release(locks[i]);
		locks[i] = NULL;
	}
}

int cmd_harvest(const struct cli *cli, int argc, char **argv)
{
	enum { OPT_FULL = 256, OPT_FROM, OPT_UNTIL, OPT_NO_MERGE, OPT_NO_INDEX, OPT_FORCE };
	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "all", no_argument, NULL, 'a' },
		{ "full", no_argument, NULL, OPT_FULL },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "jobs", required_argument, NULL, 'j' },
		{ "no-merge", no_argument, NULL, OPT_NO_MERGE },
		{ "no-index", no_argument, NULL, OPT_NO_INDEX },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mc_config *cfg = NULL;
	struct mc_store *store = NULL;
	const struct mc_source **srcs = NULL;
	struct hv_result *res = NULL;
	struct hv_opts o;
	const char **named = NULL;
	size_t nnamed = 0, n = 0, i, k;
	int c, all = 0, no_merge = 0, no_index = 0, ret, rc;
	struct mc_lock **locks = NULL;
	char *end;
	long jobs;

	/* a closed stdout or a peer gone must be an error, not a kill */
	signal(SIGPIPE, SIG_IGN);
	memset(&o, 0, sizeof(o));
	named = calloc((size_t)argc + 1, sizeof(*named));
	if (!named) {
		fprintf(stderr, "mucluc: out of memory\n");
		return EXIT_NOTHING;
	}
	while ((c = getopt_long(argc, argv, "s:aj:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			named[nnamed++] = optarg;
			break;
		case 'a':
			all = 1;
			break;
		case OPT_FULL:
			o.full = 1;
			break;
		case OPT_FORCE:
			o.force = 1;
			break;
		case OPT_FROM:
		case OPT_UNTIL:
			if (check_date(optarg)) {
				fprintf(stderr, "mucluc harvest: bad date '%s': YYYY-MM-DD or "
						"YYYY-MM-DDThh:mm:ssZ\n", optarg);
				ret = EXIT_NOTHING;
				goto out;
			}
			if (c == OPT_FROM)
				o.from = optarg;
			else
				o.until = optarg;
			break;
		case 'j':
			errno = 0;
			jobs = strtol(optarg, &end, 10);
			if (errno || *end || jobs < 1 || jobs > 64) {
				ret = cli_usage_error("harvest", "--jobs takes a number from 1 to 64");
				goto out;
			}
			o.jobs = (int)jobs;
			break;
		case OPT_NO_MERGE:
			no_merge = 1;
			break;
		case OPT_NO_INDEX:
			no_index = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			ret = EXIT_ALL_GOOD;
			goto out;
		default:
			ret = cli_usage_error("harvest", NULL);
			goto out;
		}
	}
	if (optind != argc) {
		ret = cli_usage_error("harvest", "unexpected argument");
		goto out;
	}
	if (all && nnamed) {
		ret = cli_usage_error("harvest", "--all and --source exclude each other");
		goto out;
	}
	if (o.force && !o.full) {
		ret = cli_usage_error("harvest", "--force goes with --full");
		goto out;
	}
	if (o.full && o.from) {
		ret = cli_usage_error("harvest", "--full and --from exclude each other");
		goto out;
	}
	if ((ret = cli_load_config(cli, &cfg)))
		goto out;
	srcs = calloc(cfg->nsources + nnamed + 1, sizeof(*srcs));
	if (!srcs) {
		fprintf(stderr, "mucluc: out of memory\n");
		ret = EXIT_NOTHING;
		goto out;
	}
	if (nnamed) {
		for (i = 0; i < nnamed; i++) {
			const struct mc_source *s = mc_config_source(cfg, named[i]);

			if (!s) {
				fprintf(stderr, "mucluc harvest: no source \"%s\" in %s\n", named[i],
					cfg->path);
				ret = EXIT_NOTHING;
				goto out;
			}
			if (!s->url) {
				fprintf(stderr, "mucluc harvest: source \"%s\" has no url to harvest "
						"(%s:%d)\n", s->id, cfg->path, s->line);
				ret = EXIT_NOTHING;
				goto out;
			}
			for (k = 0; k < n && srcs[k] != s; k++)
				;
			if (k == n)
				srcs[n++] = s;
		}
	} else {
		for (i = 0; i < cfg->nsources; i++) {
			if (cfg->sources[i].url)
				srcs[n++] = &cfg->sources[i];
			else
				fprintf(stderr, "%s: skipped: no url (its records come from files)\n",
					cfg->sources[i].id);
		}
		if (!n) {
			fprintf(stderr, "mucluc harvest: no source with a url in %s\n", cfg->path);
			ret = EXIT_NOTHING;
			goto out;
		}
	}
	if ((ret = cli_open_store(cfg, 0, &store)))
		goto out;
	locks = calloc(n + 1, sizeof(*locks));
	if (!locks) {
		fprintf(stderr, "mucluc: out of memory\n");
		ret = EXIT_NOTHING;
		goto out;
	}
	if ((ret = take_locks(cfg, srcs, n, locks)))
		goto out;
	res = calloc(n, sizeof(*res));
	if (!res) {
		fprintf(stderr, "mucluc: out of memory\n");
		ret = EXIT_NOTHING;
		goto out;
	}
	rc = hv_harvest_run(store, cfg, srcs, n, &o, on_note, NULL, res);
	if (rc < 0) {
		cli_error("harvest", rc, NULL);
		ret = EXIT_NOTHING;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct hv_result *r = &res[i];
		char counts[256];

		snprintf(counts, sizeof(counts),
			 "%llu new, %llu changed, %llu deleted, %llu unchanged, %llu errors, "
			 "%llu pages in %.2f s",
			 (unsigned long long)r->added, (unsigned long long)r->changed,
			 (unsigned long long)r->deleted, (unsigned long long)r->unchanged,
			 (unsigned long long)r->errors, (unsigned long long)r->pages, r->seconds);
		if (r->rc)
			printf("%s: FAILED: %s (%s)\n", r->source, r->reason, counts);
		else
			printf("%s: ok: %s\n", r->source, counts);
	}
	fflush(stdout);
	ret = rc ? EXIT_PARTLY : EXIT_ALL_GOOD;
	/* the later stages run on the change feed, without the store or any
	 * lock held here: the merge takes its own */
	release_locks(locks, n);
	mc_store_close(store);
	store = NULL;
	if (!no_merge) {
		int mrc = cli_run_stage(cli, "merge", no_index ? "--no-index" : NULL);

		if (mrc > 0 && ret == EXIT_ALL_GOOD)
			ret = EXIT_PARTLY;
	}
out:
	release_locks(locks, n);
	free(locks);
	free(res);
	free(srcs);
	free(named);
	mc_store_close(store);
	mc_config_free(cfg);
	return ret;
}
