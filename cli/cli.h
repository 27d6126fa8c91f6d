/* cli.h — what the mucluc command's files share (private to cli/). */
#ifndef MUCLUC_CLI_H
#define MUCLUC_CLI_H

#include <stdio.h>

#include "core.h"
#include "ingest.h"

/* Exit codes of every command. */
enum {
	EXIT_ALL_GOOD = 0,
	EXIT_PARTLY = 1,   /* some records bad, a file failed, a record not found */
	EXIT_NOTHING = 2,  /* nothing could run: usage, configuration, store */
};

struct cli {
	const char *config_opt;  /* -c FILE, or NULL */
};

/* Load the configuration; on failure print why and return EXIT_NOTHING. */
int cli_load_config(const struct cli *cli, struct mc_config **ret);
/* Open the store of cfg (flags as mc_store_open); on failure print why and
 * return EXIT_NOTHING. */
int cli_open_store(const struct mc_config *cfg, unsigned flags, struct mc_store **ret);
/* Print "mucluc: " and the formatted error on stderr. */
void cli_error(const char *what, int code, const struct mc_error *e);
/* Print "mucluc CMD: unknown option; try 'mucluc CMD --help'" and return EXIT_NOTHING. */
int cli_usage_error(const char *cmd, const char *msg);
/* Write out to f; 0 or -1 (stdout closed, disk full). */
int cli_write(FILE *f, const struct mc_buf *out);

int cmd_init(const struct cli *cli, int argc, char **argv);
int cmd_import(const struct cli *cli, int argc, char **argv);
int cmd_show(const struct cli *cli, int argc, char **argv);
int cmd_export(const struct cli *cli, int argc, char **argv);
int cmd_sources(const struct cli *cli, int argc, char **argv);
int cmd_stats(const struct cli *cli, int argc, char **argv);
int cmd_merge(const struct cli *cli, int argc, char **argv);
int cmd_dedup(const struct cli *cli, int argc, char **argv);

/* The merge stage on an open store (cmd-merge.c): prints a summary line.
 * EXIT_ALL_GOOD or EXIT_PARTLY (error printed). */
int cli_run_merge(struct mc_store *s, unsigned flags, int verbose);
/* `export --union`: every live union record to stdout. Exit status. */
int cli_export_union(const struct mc_config *cfg, struct mc_store *s, int marcxml);
int cmd_harvest(const struct cli *cli, int argc, char **argv);

/* Run the command `name` without arguments as a later stage (harvest runs
 * merge). Its exit status, or -1 when no such command is built in. */
int cli_run_stage(const struct cli *cli, const char *name);

#endif
