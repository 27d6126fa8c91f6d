/* cmd-merge.c — `mucluc merge`, `mucluc dedup`, `mucluc export --union`. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "mg.h"

static const char merge_usage[] =
	"Usage: mucluc merge [--rebuild] [--bulk | --no-bulk] [-v]\n"
	"\n"
	"Deduplicate the records of all sources into union records: consume the\n"
	"record change feed from where the last merge stopped (import and harvest\n"
	"run this too unless --no-merge).\n"
	"\n"
	"  --rebuild            drop every union record and recompute them all (the\n"
	"                       librarians' dedup rules are kept)\n"
	"  --bulk, --no-bulk    keep the match keys in memory for this run, or look\n"
	"                       each up in the store (default: in memory when the\n"
	"                       backlog is large next to the catalogue)\n"
	"      --no-index       do not bring the search index up to date afterwards\n"
	"  -v, --verbose        also print how many candidates were verified\n"
	"  -h, --help           show this help\n";

static const char dedup_usage[] =
	"Usage: mucluc dedup --explain ID | --split ID | --never ID1 ID2 | --join ID1 ID2\n"
	"       mucluc dedup --source-dups\n"
	"\n"
	"Look at and correct the merger's decisions. ID is a union record number or\n"
	"a member record SOURCE:LOCAL-ID. The rules persist and survive --rebuild.\n"
	"\n"
	"  --explain ID         the union's members, their match keys and every rule decision\n"
	"  --split ID           the member stands alone (a union number: every member does)\n"
	"  --never ID1 ID2      these two records are never the same edition\n"
	"  --join ID1 ID2       these two records are the same edition\n"
	"  --source-dups        list the union records that hold two or more records\n"
	"                       of one library (the library's own duplicates)\n"
	"  -h, --help           show this help\n";

static void cli_merge_print(const struct mg_stats *st, double secs, int verbose)
{
	printf("merge: %llu records (%llu unchanged), %llu new unions, %llu merged, %llu split, "
	       "%llu dissolved, %llu union changes",
	       (unsigned long long)st->records, (unsigned long long)st->unchanged,
	       (unsigned long long)st->unions_new, (unsigned long long)st->unions_merged,
	       (unsigned long long)st->unions_split, (unsigned long long)st->unions_dissolved,
	       (unsigned long long)st->unions_changed);
	if (st->source_dups)
		printf("; %llu records duplicate another of their own source",
		       (unsigned long long)st->source_dups);
	printf(" in %.2f s\n", secs);
	if (verbose) {
		printf("merge: %llu candidates verified, %llu rejected by the quick checks\n",
		       (unsigned long long)st->candidates_read, (unsigned long long)st->quick_rejects);
		if (st->keys_in_memory)
			printf("merge: match keys in memory: %llu (%.1f MiB)\n",
			       (unsigned long long)st->keys_in_memory, st->keys_bytes / 1048576.0);
		if (st->foreign_writes)
			printf("merge: another writer changed the union data during this run (%llu "
			       "times): the match keys in memory were reloaded from the store\n",
			       (unsigned long long)st->foreign_writes);
	}
	fflush(stdout);
}

void cli_lock_wait(void *ctx, const char *name, long pid, const char *holder)
{
	char who[96];

	(void)ctx;
	/* the holder writes its note just after it gets the lock: rarely absent */
	if (pid)
		snprintf(who, sizeof(who), "pid %ld%s%.32s%s", pid, holder[0] ? " (" : "", holder,
			 holder[0] ? ")" : "");
	else
		snprintf(who, sizeof(who), "another process");
	if (!strncmp(name, MC_LOCK_SOURCE, strlen(MC_LOCK_SOURCE)))
		fprintf(stderr, "mucluc: waiting for source %s, held by %s\n",
			name + strlen(MC_LOCK_SOURCE), who);
	else
		fprintf(stderr, "mucluc: waiting for the %s held by %s\n", name, who);
	fflush(stderr);
}

int cli_lock(const struct mc_config *cfg, const char *name, const char *holder,
	     struct mc_lock **ret)
{
	struct mc_error e;
	int rc;

	mc_error_clear(&e);
	rc = mc_lock_take(cfg->data_dir, name, holder, cli_lock_wait, NULL, ret, &e);
	if (rc) {
		cli_error(NULL, rc, &e);
		return EXIT_NOTHING;
	}
	return 0;
}

int cli_run_merge(const struct mc_config *cfg, struct mc_store *s, unsigned flags, int verbose)
{
	struct mc_lock *lock = NULL;
	struct mg_stats st;
	struct mc_error e;
	double t0;
	int rc;

	/* union data has one writer at a time (schemas/concurrency.md) */
	if (cli_lock(cfg, MC_LOCK_MERGE, "merge", &lock))
		return EXIT_PARTLY;
	t0 = mc_time_mono();
	mc_error_clear(&e);
	rc = mg_store_merge(s, flags, 0, &st, &e);
	mc_lock_release(lock);
	if (rc) {
		cli_error("merge", rc, &e);
		return EXIT_PARTLY;
	}
	cli_merge_print(&st, mc_time_mono() - t0, verbose);
	return EXIT_ALL_GOOD;
}

int cmd_merge(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rebuild", no_argument, NULL, 'r' },
		{ "bulk", no_argument, NULL, 'b' },
		{ "no-bulk", no_argument, NULL, 'B' },
		{ "no-index", no_argument, NULL, 'I' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mc_config *cfg = NULL;
	struct mc_store *s = NULL;
	unsigned flags = 0;
	int c, verbose = 0, rc, index = 1;

	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			flags |= MG_MERGE_REBUILD;
			break;
		case 'I':
			index = 0;
			break;
		case 'b':
			flags = (flags & ~MG_MERGE_NO_BULK) | MG_MERGE_BULK;
			break;
		case 'B':
			flags = (flags & ~MG_MERGE_BULK) | MG_MERGE_NO_BULK;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			fputs(merge_usage, stdout);
			return EXIT_ALL_GOOD;
		default:
			return cli_usage_error("merge", NULL);
		}
	}
	if (optind < argc)
		return cli_usage_error("merge", "unexpected argument");
	rc = cli_load_config(cli, &cfg);
	if (rc)
		return rc;
	rc = cli_open_store(cfg, 0, &s);
	if (!rc)
		rc = cli_run_merge(cfg, s, flags, verbose);
	if (!rc && index)
		rc = cli_run_index(cfg, s, 0, 0);
	mc_store_close(s);
	mc_config_free(cfg);
	return rc;
}

/* dedup --source-dups: "UNION SOURCE: REF REF ..." for each library with
 * more than one record in a live union record */
struct srcdups {
	unsigned long long unions, records;
};

static int srcdup_one(void *ctx, const struct mg_union_view *u)
{
	struct srcdups *d = ctx;
	size_t i, j;

	if (u->tombstone)
		return 0;
	/* members are sorted, so one source's refs are next to each other */
	for (i = 0; i < u->nmembers; i = j) {
		size_t sl = strcspn(u->members[i], ":");

		for (j = i + 1; j < u->nmembers && !strncmp(u->members[j], u->members[i], sl + 1); j++)
			;
		if (j - i < 2)
			continue;
		printf("%llu %.*s:", (unsigned long long)u->id, (int)sl, u->members[i]);
		for (size_t k = i; k < j; k++)
			printf(" %s", u->members[k]);
		putchar('\n');
		d->unions++;
		d->records += j - i;
	}
	return 0;
}

int cmd_dedup(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "explain", required_argument, NULL, 'e' },
		{ "split", required_argument, NULL, 's' },
		{ "never", required_argument, NULL, 'n' },
		{ "join", required_argument, NULL, 'j' },
		{ "source-dups", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mc_config *cfg = NULL;
	struct mc_store *s = NULL;
	struct mc_reader *r = NULL;
	struct mg_merger *m = NULL;
	struct mc_lock *lock = NULL;
	const char *id1 = NULL, *id2 = NULL;
	struct mc_error e;
	struct mc_buf out;
	int c, kind = 0, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(dedup_usage, stdout);
			return EXIT_ALL_GOOD;
		}
		if (c != 'e' && c != 's' && c != 'n' && c != 'j' && c != 'd')
			return cli_usage_error("dedup", NULL);
		if (kind)
			return cli_usage_error("dedup", "give one of --explain, --split, --never, --join, "
							 "--source-dups");
		kind = c;
		id1 = optarg;
	}
	if (!kind)
		return cli_usage_error("dedup", "give one of --explain, --split, --never, --join, "
						 "--source-dups");
	if (kind == 'd') {
		struct srcdups d = { 0, 0 };

		if (optind != argc)
			return cli_usage_error("dedup", "unexpected argument");
		rc = cli_load_config(cli, &cfg);
		if (rc)
			return rc;
		rc = cli_open_store(cfg, MC_STORE_RDONLY, &s);
		if (!rc) {
			rc = mc_reader_begin(s, &r);
			rc = rc ? rc : mg_merger_new_reader(r, &m);
			rc = rc ? rc : mg_union_each(m, srcdup_one, &d);
			if (rc) {
				cli_error("dedup", rc, NULL);
				rc = EXIT_PARTLY;
			} else {
				printf("dedup: %llu records in %llu groups duplicate another record of "
				       "their own library\n", d.records, d.unions);
				rc = EXIT_ALL_GOOD;
			}
		}
		goto done;
	}
	if (kind == 'n' || kind == 'j') {
		if (optind + 1 != argc)
			return cli_usage_error("dedup", "--never and --join take two records");
		id2 = argv[optind];
	} else if (optind != argc) {
		return cli_usage_error("dedup", "unexpected argument");
	}
	if (kind != 'e' && (!strchr(id1, ':') && kind != 's'))
		return cli_usage_error("dedup", "records are given as SOURCE:LOCAL-ID");
	if (id2 && !strchr(id2, ':'))
		return cli_usage_error("dedup", "records are given as SOURCE:LOCAL-ID");
	rc = cli_load_config(cli, &cfg);
	if (rc)
		return rc;
	rc = cli_open_store(cfg, kind == 'e' ? MC_STORE_RDONLY : 0, &s);
	if (rc)
		goto done;
	mc_error_clear(&e);
	if (kind == 'e') {
		mc_buf_init(&out, 64u << 20);
		rc = mc_reader_begin(s, &r);
		rc = rc ? rc : mg_merger_new_reader(r, &m);
		rc = rc ? rc : mg_explain(m, id1, &out);
		if (!rc && cli_write(stdout, &out))
			rc = -EIO;
		mc_buf_free(&out);
		if (rc) {
			if (rc == MC_E_NOTFOUND)
				fprintf(stderr, "mucluc dedup: %s: no such union record or merged record\n", id1);
			else
				cli_error("dedup", rc, NULL);
			rc = EXIT_PARTLY;
		}
		goto done;
	}
	/* a correction writes union data: one writer at a time, as the merge */
	if (cli_lock(cfg, MC_LOCK_MERGE, "dedup", &lock)) {
		rc = EXIT_NOTHING;
		goto done;
	}
	rc = mg_store_override(s, kind == 's' ? MG_SPLIT : kind == 'n' ? MG_NEVER : MG_JOIN, id1, id2,
			       0, &e);
	mc_lock_release(lock);
	lock = NULL;
	if (rc) {
		cli_error("dedup", rc, &e);
		rc = EXIT_PARTLY;
		goto done;
	}
	printf("dedup: rule stored (%s %s%s%s)\n", kind == 's' ? "split" : kind == 'n' ? "never" : "join",
	       id1, id2 ? " " : "", id2 ? id2 : "");
	rc = EXIT_ALL_GOOD;
done:
	mc_lock_release(lock);
	mg_merger_free(m);
	mc_reader_end(r);
	mc_store_close(s);
	mc_config_free(cfg);
	return rc;
}

/* ---- export --union ---- */

struct uexp {
	struct mg_merger *m;
	const struct mc_config *cfg;
	struct mc_buf out;
	int marcxml;
	int rc;
	uint64_t n;
};

static const char *lib_name(void *ctx, const char *source)
{
	struct uexp *x = ctx;
	const struct mc_source *src = mc_config_source(x->cfg, source);

	return src ? src->name : NULL;
}

/* A DSpace OAI identifier "oai:HOST:PREFIX/N" gives https://HOST/handle/PREFIX/N. */
const char *cli_record_link(void *ctx, const char *source, const char *local_id,
			    struct mc_buf *scratch)
{
	const char *host, *rest;

	(void)ctx;
	(void)source;
	if (strncmp(local_id, "oai:", 4))
		return NULL;
	host = local_id + 4;
	rest = strchr(host, ':');
	if (!rest || rest == host || !strchr(rest + 1, '/'))
		return NULL;
	if (mc_buf_addf(scratch, "https://%.*s/handle/%s", (int)(rest - host), host, rest + 1))
		return NULL;
	return scratch->data;
}

static int uexp_one(void *ctx, const struct mg_union_view *u)
{
	struct uexp *x = ctx;
	int rc;

	if (u->tombstone)
		return 0;
	mc_buf_reset(&x->out);
	if (x->marcxml)
		rc = mg_union_marcxml(x->m, u->id, &x->out);
	else
		rc = mg_union_json(x->m, u->id, lib_name, cli_record_link, x, &x->out);
	if (!rc && !x->marcxml)
		rc = mc_buf_addc(&x->out, '\n');
	if (rc) {
		fprintf(stderr, "mucluc export: union %llu: %s\n", (unsigned long long)u->id,
			mc_strerror(rc));
		x->rc = rc;
		return 0;
	}
	if (cli_write(stdout, &x->out))
		return -EIO;
	x->n++;
	return 0;
}

int cli_export_union(const struct mc_config *cfg, struct mc_store *s, int marcxml)
{
	struct mc_reader *r = NULL;
	struct uexp x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.cfg = cfg;
	x.marcxml = marcxml;
	mc_buf_init(&x.out, 64u << 20);
	rc = mc_reader_begin(s, &r);
	rc = rc ? rc : mg_merger_new_reader(r, &x.m);
	if (!rc && marcxml) {
		rc = mc_marcxml_begin(&x.out);
		if (!rc && cli_write(stdout, &x.out))
			rc = -EIO;
	}
	rc = rc ? rc : mg_union_each(x.m, uexp_one, &x);
	if (!rc && marcxml) {
		mc_buf_reset(&x.out);
		rc = mc_marcxml_end(&x.out);
		if (!rc && cli_write(stdout, &x.out))
			rc = -EIO;
	}
	if (rc == MC_E_NOTFOUND)
		rc = 0; /* never merged: nothing to export */
	if (!rc && fflush(stdout))
		rc = -EIO;
	mg_merger_free(x.m);
	mc_reader_end(r);
	mc_buf_free(&x.out);
	if (rc) {
		cli_error("export", rc, NULL);
		return EXIT_PARTLY;
	}
	return x.rc ? EXIT_PARTLY : EXIT_ALL_GOOD;
}
