/* cmd-import.c — `mucluc import --source ID [--format F] [--encoding E] FILE...` */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"Usage: mucluc import --source ID [--format FORMAT] [--encoding ENC] FILE...\n"
	"\n"
	"Import records for the configured source ID from each FILE (- for standard input).\n"
	"\n"
	"  -s, --source ID      the [source \"ID\"] of the configuration the records belong to\n"
	"  -f, --format FORMAT  auto (default), marcxml, iso2709, oai_dc\n"
	"  -e, --encoding ENC   the files' character encoding when it is known: utf-8,\n"
	"                       tcvn3, vni, viscii, cp1258, latin-1, marc-8 (default: detect\n"
	"                       per record)\n"
	"      --no-merge       do not run the merge stage (nor the index) afterwards\n"
	"      --no-index       do not bring the search index up to date after the merge\n"
	"  -h, --help           show this help\n"
	"\n"
	"Prints one summary line per file; each bad record goes to stderr as\n"
	"FILE:LINE (offset N): source X record Y: message, and is copied to\n"
	"<data_dir>/quarantine/<source>/. Exit status: 0 all records stored, 1 some\n"
	"records bad or a file failed, 2 nothing could run.\n";

/* "FILE:LINE (offset N): source X record Y: message" */
static void report_bad(void *ctx, const struct mc_error *e)
{
	uint64_t *listed = ctx;
	char line[32] = "";

	(*listed)++;
	if (e->line > 0)
		snprintf(line, sizeof(line), ":%lld", (long long)e->line);
	fprintf(stderr, "%s%s (offset %lld): source %s record %s: %s\n", e->file, line,
		(long long)e->offset, e->source, e->record_id[0] ? e->record_id : "?",
		e->msg[0] ? e->msg : mc_strerror(e->code));
}

static void print_summary(const char *file, const struct mc_import_stats *st, uint64_t listed)
{
	size_t i;

	printf("%s: %llu read, %llu new, %llu changed, %llu unchanged, %llu deleted, %llu bad",
	       file, (unsigned long long)st->read, (unsigned long long)st->added,
	       (unsigned long long)st->changed, (unsigned long long)st->unchanged,
	       (unsigned long long)st->deleted, (unsigned long long)st->bad);
	if (st->nenc) {
		fputs(" (encodings:", stdout);
		for (i = 0; i < st->nenc; i++)
			printf("%s %s %llu", i ? "," : "", st->enc[i].name,
			       (unsigned long long)st->enc[i].n);
		fputc(')', stdout);
	}
	printf(" in %.2f s", st->seconds);
	if (st->duplicates)
		printf("; %llu duplicate ids in input (the later record wins)",
		       (unsigned long long)st->duplicates);
	if (st->repaired)
		printf("; %llu repaired (indicators or leader bytes MARC does not allow set to blank)",
		       (unsigned long long)st->repaired);
	fputc('\n', stdout);
	if (st->bad > listed)
		fprintf(stderr, "%s: %llu more bad records not listed one by one\n", file,
			(unsigned long long)(st->bad - listed));
	if (st->quarantined)
		fprintf(stderr, "%s: %llu bad records kept in %s\n", file,
			(unsigned long long)st->quarantined, st->quarantine);
	if (st->bad > st->quarantined)
		fprintf(stderr, "%s: %llu bad records not kept (quarantine full or not writable)\n",
			file, (unsigned long long)(st->bad - st->quarantined));
	fflush(stdout);
}

int cmd_import(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "encoding", required_argument, NULL, 'e' },
		{ "no-merge", no_argument, NULL, 'M' },
		{ "no-index", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mc_import_opts o;
	struct mc_import_stats st;
	struct mc_config *cfg = NULL;
	struct mc_store *store = NULL;
	struct mc_lock *lock = NULL;
	char lockname[MC_LOCK_NAME_MAX + 1];
	const struct mc_source *src;
	const char *source_id = NULL;
	struct mc_error e;
	int c, i, rc, ret = EXIT_ALL_GOOD, merge = 1, index = 1;

	memset(&o, 0, sizeof(o));
	while ((c = getopt_long(argc, argv, "s:f:e:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			source_id = optarg;
			break;
		case 'f':
			if (mc_input_parse(optarg, &o.input))
				return cli_usage_error("import", "--format: auto, marcxml, iso2709 or oai_dc");
			break;
		case 'e':
			if (mc_encoding_parse(optarg, &o.encoding))
				return cli_usage_error("import", "--encoding: utf-8, tcvn3, vni, viscii, "
								 "cp1258, latin-1 or marc-8");
			break;
		case 'M':
			merge = 0;
			break;
		case 'I':
			index = 0;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_ALL_GOOD;
		default:
			return cli_usage_error("import", NULL);
		}
	}
	if (!source_id)
		return cli_usage_error("import", "--source ID is required");
	if (optind >= argc)
		return cli_usage_error("import", "no FILE to import");
	if ((ret = cli_load_config(cli, &cfg)))
		return ret;
	src = mc_config_source(cfg, source_id);
	if (!src) {
		fprintf(stderr, "mucluc import: source \"%s\" is not in %s (add a [source \"%s\"] "
				"section)\n", source_id, cfg->path, source_id);
		ret = EXIT_NOTHING;
		goto out;
	}
	if ((ret = cli_open_store(cfg, 0, &store)))
		goto out;
	/* one writer of a source's records at a time: another import or a
	 * harvest of this source is waited for (schemas/concurrency.md) */
	if (snprintf(lockname, sizeof(lockname), "%s%s", MC_LOCK_SOURCE, source_id) >=
	    (int)sizeof(lockname) || (ret = cli_lock(cfg, lockname, "import", &lock))) {
		ret = EXIT_NOTHING;
		goto out;
	}
	o.quarantine_dir = cfg->quarantine_dir;
	for (i = optind; i < argc; i++) {
		uint64_t listed = 0;

		rc = mc_import_file(store, src, argv[i], &o, report_bad, &listed, &st, &e);
		print_summary(argv[i], &st, listed);
		if (rc) {
			cli_error(NULL, rc, &e);
			ret = EXIT_PARTLY;
		} else if (st.bad) {
			ret = EXIT_PARTLY;
		}
	}
	mc_lock_release(lock);
	lock = NULL;
	/* the next stage: merge what changed (cli is the one place stages run in
	 * order); the source lock is not held while it waits for the merge lock */
	if (merge && cli_run_merge(cfg, store, 0, 0) != EXIT_ALL_GOOD) {
		ret = EXIT_PARTLY;
	} else if (merge && index && cli_run_index(cfg, store, 0, 0) != EXIT_ALL_GOOD) {
		ret = EXIT_PARTLY;
	}
out:
	mc_lock_release(lock);
	mc_store_close(store);
	mc_config_free(cfg);
	return ret;
}
