/* main.c — `mucluc [-c FILE] COMMAND ...`: global options and dispatch. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef MUCLUC_VERSION
#define MUCLUC_VERSION "0.1.0"
#endif

static const char usage[] =
	"Usage: mucluc [-c FILE] COMMAND [OPTIONS] [ARGS]\n"
	"\n"
	"mucluc gathers the catalogues of Vietnamese libraries into one union catalogue.\n"
	"\n"
	"Commands:\n"
	"  init                 create the data directory and the store (idempotent)\n"
	"  import --source ID FILE...\n"
	"                       import MARCXML, ISO 2709 or oai_dc files for a source\n"
	"  show SOURCE:ID       show one record (--json for JSON)\n"
	"  export               write records to stdout as JSON lines or MARCXML\n"
	"  sources              list the configured sources and their record counts\n"
	"  stats                figures for the provincial report (--json for JSON)\n"
	"  merge [--rebuild]    deduplicate all sources into union records\n"
	"  dedup --explain ID | --split ID | --never ID1 ID2 | --join ID1 ID2\n"
	"                       explain and correct the merger's decisions\n"
	"  harvest [--source ID ...|--all] [--full] [--from D] [--until D] [--jobs N]\n"
	"                       harvest the sources' OAI-PMH servers into the store\n"
	"  check [--repair]     check the store's consistency (and repair what can be derived)\n"
	"  index [--rebuild]    bring the search index up to date with the union records\n"
	"  serve [--listen ADDR:PORT]\n"
	"                       serve the catalogue over HTTP (schemas/api.md)\n"
	"  search QUERY         search the index (--json, --page, --size, --filter, --suggest)\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE    configuration file (default: $MUCLUC_CONFIG, else ./mucluc.ini)\n"
	"  -h, --help           show this help; `mucluc COMMAND --help` for a command\n"
	"  -V, --version        show the version\n"
	"\n"
	"Exit status: 0 all good, 1 some records bad or some files failed,\n"
	"2 nothing could run (usage, configuration or store).\n";

static const struct {
	const char *name;
	int (*run)(const struct cli *cli, int argc, char **argv);
} commands[] = {
	{ "init", cmd_init },       { "import", cmd_import }, { "show", cmd_show },
	{ "export", cmd_export },   { "sources", cmd_sources }, { "stats", cmd_stats },
	{ "merge", cmd_merge },     { "dedup", cmd_dedup },
	{ "harvest", cmd_harvest },
	{ "check", cmd_check },
	{ "index", cmd_index },
	{ "serve", cmd_serve },
	{ "search", cmd_search },
};

int cli_run_stage(const struct cli *cli, const char *name, const char *arg)
{
	char *argv[3] = { (char *)name, (char *)arg, NULL };
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0) {
			optind = 0; /* glibc: a fresh getopt for the stage */
			return commands[i].run(cli, arg ? 2 : 1, argv);
		}
	return -1;
}

void cli_error(const char *what, int code, const struct mc_error *e)
{
	char buf[1024];

	if (e && (e->msg[0] || e->file[0])) {
		mc_error_format(e, buf, sizeof(buf));
		fprintf(stderr, "mucluc: %s%s%s\n", what ? what : "", what ? ": " : "", buf);
	} else {
		fprintf(stderr, "mucluc: %s%s%s\n", what ? what : "", what ? ": " : "",
			mc_strerror(code));
	}
}

int cli_usage_error(const char *cmd, const char *msg)
{
	if (msg)
		fprintf(stderr, "mucluc %s: %s\n", cmd, msg);
	fprintf(stderr, "Try 'mucluc %s --help'.\n", cmd);
	return EXIT_NOTHING;
}

int cli_load_config(const struct cli *cli, struct mc_config **ret)
{
	const char *path = mc_config_path(cli->config_opt);
	struct mc_error e;
	int rc = mc_config_load(path, ret, &e);

	if (!rc)
		return 0;
	if (rc == MC_E_CONFIG || e.line > 0)
		fprintf(stderr, "mucluc: %s:%lld: %s\n", path, (long long)e.line, e.msg);
	else
		fprintf(stderr, "mucluc: cannot read the configuration %s: %s%s\n", path,
			mc_strerror(rc),
			rc == -ENOENT && !cli->config_opt ? " (give one with -c FILE or MUCLUC_CONFIG)"
							  : "");
	return EXIT_NOTHING;
}

int cli_open_store(const struct mc_config *cfg, unsigned flags, struct mc_store **ret)
{
	struct mc_error e;
	int rc;

	mc_error_clear(&e);
	rc = mc_store_open(cfg->store_dir, flags, ret, &e);
	if (!rc)
		return 0;
	if (rc == MC_E_NOTFOUND)
		fprintf(stderr, "mucluc: no store in %s: run 'mucluc init' first\n", cfg->store_dir);
	else
		cli_error(cfg->store_dir, rc, &e);
	return EXIT_NOTHING;
}

int cli_write(FILE *f, const struct mc_buf *out)
{
	if (out->len && fwrite(out->data, 1, out->len, f) != out->len)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { NULL };
	size_t i;
	int c;

	/* '+': stop at the command name; its options are its own */
	while ((c = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cli.config_opt = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_ALL_GOOD;
		case 'V':
			printf("mucluc %s\n", MUCLUC_VERSION);
			return EXIT_ALL_GOOD;
		default:
			fputs("Try 'mucluc --help'.\n", stderr);
			return EXIT_NOTHING;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return EXIT_NOTHING;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0) {
			argc -= optind;
			argv += optind;
			optind = 0; /* glibc: start the command's own getopt afresh */
			return commands[i].run(&cli, argc, argv);
		}
	fprintf(stderr, "mucluc: unknown command '%s'\nTry 'mucluc --help'.\n", argv[optind]);
	return EXIT_NOTHING;
}
