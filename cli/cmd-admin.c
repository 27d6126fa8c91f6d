/* cmd-admin.c — `mucluc init`, `mucluc sources`, `mucluc stats`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hv.h"

static const char init_usage[] =
	"Usage: mucluc init\n"
	"\n"
	"Create the data directory named in [catalogue] data_dir, the store in\n"
	"<data_dir>/store and <data_dir>/quarantine. Running it again changes nothing.\n";

static const char sources_usage[] =
	"Usage: mucluc sources\n"
	"\n"
	"List the configured sources with their records: id, name, type, province,\n"
	"records present, deleted, and the time of the last change. Sources that\n"
	"have records but are no longer configured are listed after them.\n"
	"A harvested source gets a second, indented line: the time of its last\n"
	"successful harvest, the counts of its last run and its last error.\n";

static const char stats_usage[] =
	"Usage: mucluc stats [--json]\n"
	"\n"
	"Figures for the provincial report: libraries configured and with records, by\n"
	"type and by province; records present and deleted; the store's size and\n"
	"change feed.\n"
	"\n"
	"  -j, --json   as JSON (schemas/record.md, \"mucluc stats --json\")\n"
	"  -h, --help   show this help\n";

/* Options of a command that takes none but --help (and maybe --json). */
static int simple_opts(const char *cmd, const char *usage, int argc, char **argv, int *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, json ? "jh" : "h", json ? opts : opts + 1, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			return cli_usage_error(cmd, NULL);
		}
	}
	if (optind != argc)
		return cli_usage_error(cmd, "unexpected argument");
	return 0;
}

int cmd_init(const struct cli *cli, int argc, char **argv)
{
	struct mc_config *cfg = NULL;
	struct mc_store *store = NULL;
	struct mc_error e;
	int rc, ret;

	if ((ret = simple_opts("init", init_usage, argc, argv, NULL)))
		return ret < 0 ? EXIT_ALL_GOOD : ret;
	if ((ret = cli_load_config(cli, &cfg)))
		return ret;
	rc = mc_config_make_dirs(cfg, &e);
	if (rc) {
		cli_error("init", rc, &e);
		ret = EXIT_NOTHING;
		goto out;
	}
	if ((ret = cli_open_store(cfg, MC_STORE_CREATE, &store)))
		goto out;
	printf("%s: data in %s (%zu sources configured)\n", cfg->name, cfg->data_dir,
	       cfg->nsources);
out:
	mc_store_close(store);
	mc_config_free(cfg);
	return ret;
}

/* Open the store read-only and build the report. */
static int load_report(const struct cli *cli, struct mc_config **cfg, struct cli_report **rep)
{
	struct mc_store *store = NULL;
	struct mc_error e;
	int rc, ret;

	if ((ret = cli_load_config(cli, cfg)) || (ret = cli_open_store(*cfg, MC_STORE_RDONLY, &store)))
		return ret;
	rc = cli_report_build(*cfg, store, rep, &e);
	mc_store_close(store);
	if (rc) {
		cli_error(NULL, rc, &e);
		return EXIT_NOTHING;
	}
	return 0;
}

/* Columns are padded by characters, not bytes (names are Vietnamese). */
static size_t width(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void cell(const char *s, size_t w, int last)
{
	size_t n = width(s);

	fputs(s ? s : "", stdout);
	if (last)
		return;
	for (; n < w + 2; n++)
		putchar(' ');
}

/* "  harvest: last success T; last run: N new, ...; last error T: why" for a
 * source that was ever harvested; nothing for the others. */
static void print_harvest(struct mc_store *store, const char *id)
{
	struct hv_status hs;

	if (!store || hv_status_get(store, id, &hs))
		return;
	if (!hs.last_success[0] && !hs.last_error[0] && !hs.last_run[0])
		return;
	printf("  harvest: last success %s", hs.last_success[0] ? hs.last_success : "never");
	if (hs.last_run[0])
		printf("; last run: %s", hs.last_run);
	if (hs.last_error[0])
		printf("; last error %s: %s", hs.last_error_time[0] ? hs.last_error_time : "?",
		       hs.last_error);
	putchar('\n');
}

int cmd_sources(const struct cli *cli, int argc, char **argv)
{
	static const char *const head[7] = { "ID", "NAME", "TYPE", "PROVINCE", "RECORDS", "DELETED",
					     "LAST CHANGE" };
	struct mc_config *cfg = NULL;
	struct cli_report *rep = NULL;
	struct mc_store *store = NULL;
	struct mc_error e;
	char num[2][24], ts[32];
	size_t w[7], i, k;
	int ret;

	if ((ret = simple_opts("sources", sources_usage, argc, argv, NULL)))
		return ret < 0 ? EXIT_ALL_GOOD : ret;
	if ((ret = load_report(cli, &cfg, &rep)))
		goto out;
	/* for the harvest lines; without it the table alone is still right */
	mc_error_clear(&e);
	if (mc_store_open(cfg->store_dir, MC_STORE_RDONLY, &store, &e))
		store = NULL;
	for (k = 0; k < 7; k++)
		w[k] = width(head[k]);
	/* two passes: measure, then print */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			for (k = 0; k < 7; k++)
				cell(head[k], w[k], k == 6);
		if (pass == 1)
			putchar('\n');
		for (i = 0; i < rep->nsources; i++) {
			const struct cli_report_source *s = &rep->sources[i];
			const char *col[7];

			snprintf(num[0], sizeof(num[0]), "%llu", (unsigned long long)s->present);
			snprintf(num[1], sizeof(num[1]), "%llu", (unsigned long long)s->deleted);
			mc_time_iso(s->last_change, ts);
			col[0] = s->id;
			col[1] = s->cfg ? s->cfg->name : "(not configured)";
			col[2] = s->cfg ? mc_source_type_name(s->cfg->type) : "-";
			col[3] = s->cfg && s->cfg->province ? s->cfg->province : "-";
			col[4] = num[0];
			col[5] = num[1];
			col[6] = s->last_change ? ts : "-";
			for (k = 0; k < 7; k++) {
				if (pass == 0 && width(col[k]) > w[k])
					w[k] = width(col[k]);
				if (pass == 1)
					cell(col[k], w[k], k == 6);
			}
			if (pass == 1) {
				putchar('\n');
				print_harvest(store, s->id);
			}
		}
	}
	ret = fflush(stdout) ? EXIT_PARTLY : EXIT_ALL_GOOD;
out:
	mc_store_close(store);
	cli_report_free(rep);
	mc_config_free(cfg);
	return ret;
}

static void print_groups(const char *title, const struct cli_report_group *g, size_t n)
{
	size_t i, w = 0;

	printf("%s:\n", title);
	for (i = 0; i < n; i++)
		if (width(g[i].key) > w)
			w = width(g[i].key);
	for (i = 0; i < n; i++) {
		fputs("  ", stdout);
		cell(g[i].key, w, 0);
		printf("%llu configured, %llu with records, %llu records, %llu deleted\n",
		       (unsigned long long)g[i].configured, (unsigned long long)g[i].with_records,
		       (unsigned long long)g[i].present, (unsigned long long)g[i].deleted);
	}
}

/* "512 B", "40.0 KiB", "64.0 MiB", "1.2 GiB" */
static void size_text(uint64_t n, char out[32])
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = -1;

	while (v >= 1024.0 && u < 3) {
		v /= 1024.0;
		u++;
	}
	if (u < 0)
		snprintf(out, 32, "%llu B", (unsigned long long)n);
	else
		snprintf(out, 32, "%.1f %s", v, unit[u]);
}

int cmd_stats(const struct cli *cli, int argc, char **argv)
{
	char sz[3][32];
	struct mc_config *cfg = NULL;
	struct cli_report *rep = NULL;
	struct mc_buf out;
	int json = 0, rc, ret;

	mc_buf_init(&out, 64u << 20);
	if ((ret = simple_opts("stats", stats_usage, argc, argv, &json)))
		return ret < 0 ? EXIT_ALL_GOOD : ret;
	if ((ret = load_report(cli, &cfg, &rep)))
		goto out;
	if (json) {
		rc = cli_report_json(rep, MC_JSON_PRETTY, &out);
		if (rc) {
			cli_error("stats", rc, NULL);
			ret = EXIT_NOTHING;
			goto out;
		}
		cli_write(stdout, &out);
		putchar('\n');
	} else {
		printf("Catalogue:  %s\n", rep->catalogue);
		printf("Libraries:  %llu configured, %llu with records",
		       (unsigned long long)rep->configured, (unsigned long long)rep->with_records);
		if (rep->unconfigured)
			printf(" (and %llu no longer configured with records)",
			       (unsigned long long)rep->unconfigured);
		printf("\nRecords:    %llu present, %llu deleted\n", (unsigned long long)rep->present,
		       (unsigned long long)rep->deleted);
		print_groups("By type", rep->by_type, rep->ntypes);
		print_groups("By province", rep->by_province, rep->nprovinces);
		size_text(rep->disk_bytes, sz[0]);
		size_text(rep->store.used_bytes, sz[1]);
		size_text(rep->store.map_size, sz[2]);
		printf("Store:      %s on disk (%s used of a %s map), %llu records stored, "
		       "%llu change feed entries\n", sz[0], sz[1], sz[2],
		       (unsigned long long)rep->store.records,
		       (unsigned long long)rep->store.feed_entries);
	}
	ret = fflush(stdout) ? EXIT_PARTLY : EXIT_ALL_GOOD;
out:
	mc_buf_free(&out);
	cli_report_free(rep);
	mc_config_free(cfg);
	return ret;
}
