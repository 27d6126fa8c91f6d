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

/* The merge stage on an open store (cmd-merge.c), under the merge lock of
 * cfg's data directory (waited for, saying so): prints a summary line.
 * EXIT_ALL_GOOD or EXIT_PARTLY (error printed). */
int cli_run_merge(const struct mc_config *cfg, struct mc_store *s, unsigned flags, int verbose);
/* Take stage lock name (mc-lock.h) of cfg's data directory for command
 * holder, printing "mucluc: waiting for ... held by pid N" on stderr when
 * another process has it. 0 and *ret (release with mc_lock_release), or
 * EXIT_NOTHING (why printed). */
int cli_lock(const struct mc_config *cfg, const char *name, const char *holder,
	     struct mc_lock **ret);
/* The lock waiter's message (mc_lock_wait_fn): "mucluc: waiting for the
 * NAME held by pid N (HOLDER)" on stderr. ctx unused. */
void cli_lock_wait(void *ctx, const char *name, long pid, const char *holder);
/* A member's link to the library's own record page (DSpace identifiers
 * "oai:HOST:PREFIX/N" give https://HOST/handle/PREFIX/N), in scratch; NULL
 * when none (mg_link_fn; ctx unused). */
const char *cli_record_link(void *ctx, const char *source, const char *local_id,
			    struct mc_buf *scratch);
/* The index stage (cmd-index.c) on an open store: ix_index_run under the
 * index lock, printing a summary line. flags: enum ix_index_flags.
 * EXIT_ALL_GOOD or EXIT_PARTLY (error printed). */
int cli_run_index(const struct mc_config *cfg, struct mc_store *s, unsigned flags, int verbose);
int cmd_index(const struct cli *cli, int argc, char **argv);
/* `export --union`: every live union record to stdout. Exit status. */
int cli_export_union(const struct mc_config *cfg, struct mc_store *s, int marcxml);
int cmd_harvest(const struct cli *cli, int argc, char **argv);
int cmd_check(const struct cli *cli, int argc, char **argv);
int cmd_serve(const struct cli *cli, int argc, char **argv);
int cmd_search(const struct cli *cli, int argc, char **argv);

/* Run the command `name` as a later stage (harvest runs merge), with one
 * argument arg (may be NULL: none). Its exit status, or -1 when no such
 * command is built in. */
int cli_run_stage(const struct cli *cli, const char *name, const char *arg);

/* ---- the catalogue report (report.c), for `mucluc sources` and `mucluc stats` ---- */

struct cli_report_source {
	char id[64];
	const struct mc_source *cfg;  /* NULL: records in the store, source no longer configured */
	uint64_t present, deleted;
	int64_t last_change;          /* 0: never */
};

/* Libraries and records grouped by type or by province. */
struct cli_report_group {
	const char *key;              /* type name, province as configured, or "unspecified" */
	uint64_t configured;          /* sources configured */
	uint64_t with_records;        /* of which have present records */
	uint64_t present, deleted;
};

struct cli_report {
	const char *catalogue;        /* [catalogue] name */
	struct cli_report_source *sources; /* configured ones in file order, then the others by id */
	size_t nsources;
	struct cli_report_group *by_type;  /* by first appearance in the config */
	size_t ntypes;
	struct cli_report_group *by_province; /* by first appearance in the config */
	size_t nprovinces;
	uint64_t configured, with_records, unconfigured;
	uint64_t present, deleted;
	struct mc_store_info store;
	uint64_t disk_bytes;          /* size of the store's files */
};

/* Join the configured sources with the store's per-source counts (one read
 * snapshot). Caller frees with cli_report_free; *ret set only on success.
 * Strings borrowed from c: c must outlive the report. 0, -ENOMEM, MC_E_STORE. */
int cli_report_build(const struct mc_config *c, struct mc_store *s, struct cli_report **ret,
		    struct mc_error *err);
void cli_report_free(struct cli_report *r);
/* Append the report as JSON (schemas/record.md, "mucluc stats --json").
 * flags: MC_JSON_PRETTY. 0, MC_E_ENCODING, MC_E_TOOBIG (past out->max),
 * -ENOMEM; out is left as it was on failure. */
int cli_report_json(const struct cli_report *r, unsigned flags, struct mc_buf *out);

#endif
