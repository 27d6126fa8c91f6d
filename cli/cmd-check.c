/* cmd-check.c — `mucluc check [--repair]`: the catalogue's integrity check. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mg.h"
#include "ix-index.h"

static const char check_usage[] =
	"Usage: mucluc check [--repair]\n"
	"\n"
	"Check that the store is consistent, on one read snapshot (writers go on):\n"
	"the records against their per-source counts and the change feed, the\n"
	"consumers' cursors, and the union records against their members, the\n"
	"match keys, the union feed and the records. Prints one line per problem\n"
	"on stdout (nothing when all is well) and a summary on stderr.\n"
	"\n"
	"  --repair             rebuild what can be derived (match keys from the\n"
	"                       member summaries, source counts from the records,\n"
	"                       cursors past the feed's end, counters behind the ids\n"
	"                       in use) in one write batch, say what was done, and\n"
	"                       check again; what cannot be derived is only reported\n"
	"  -h, --help           show this help\n"
	"\n"
	"Exit status: 0 consistent (after --repair: consistent now), 1 problems\n"
	"found, 2 usage, configuration or store error.\n";

/* Snapshots a repair may find outdated by other writers before it gives up. */
#define CHECK_REPAIR_TRIES 5

static void check_line(void *ctx, int kind, const char *text)
{
	if (kind == MC_CHECK_PROBLEM)
		printf("%s\n", text);
	else if (kind == MC_CHECK_REPAIRED)
		printf("repaired: %s\n", text);
	else
		fprintf(stderr, "mucluc check: note: %s\n", text);
}

/* Both checks on one snapshot. 0 or EXIT_NOTHING (error printed). */
static int run_checks(struct mc_store *s, struct mc_check *c, struct mc_store_check_res *sres,
		      struct mg_check_res *mres, uint64_t *gen)
{
	struct mc_reader *r;
	struct mc_error e;
	int rc;

	mc_error_clear(&e);
	memset(sres, 0, sizeof(*sres));
	rc = mc_reader_begin(s, &r);
	if (rc) {
		cli_error("check: beginning a read snapshot", rc, NULL);
		return EXIT_NOTHING;
	}
	rc = mc_reader_generation(r, gen);
	rc = rc ? rc : mc_store_check(r, c, sres, &e);
	rc = rc ? rc : mg_check(r, sres, c, mres, &e);
	mc_reader_end(r);
	if (rc) {
		cli_error("check", rc, &e);
		return EXIT_NOTHING;
	}
	return 0;
}

/* The search index's state beside the store's change feeds (a note, never
 * a problem: the index catches up at its next run). */
static void index_state(const struct mc_config *cfg, struct mc_store *s)
{
	struct ix_index_state ix;
	struct mc_reader *r;
	struct mc_error e;
	uint64_t ulast = 0, rlast;
	int rc;

	mc_error_clear(&e);
	memset(&ix, 0, sizeof(ix));
	rc = ix_index_state(cfg, &ix, &e);
	if (rc == MC_E_NOTFOUND) {
		fprintf(stderr, "mucluc check: index: none built yet\n");
		return;
	}
	if (rc) {
		cli_error("check: reading the index's state", rc, &e);
		return;
	}
	if (mc_reader_begin(s, &r))
		return;
	rlast = mc_reader_feed_last(r);
	rc = mg_feed_last(r, &ulast);
	mc_reader_end(r);
	if (rc)
		return;
	if (ix.cursor >= ulast && ix.record_cursor >= rlast)
		fprintf(stderr, "mucluc check: index: %" PRIu64 " documents, at the end of the change "
			"feeds (union feed %" PRIu64 ", record feed %" PRIu64 ")\n", ix.docs, ulast, rlast);
	else
		fprintf(stderr, "mucluc check: index: %" PRIu64 " documents, behind the change feeds "
			"(union feed %" PRIu64 " of %" PRIu64 ", record feed %" PRIu64 " of %" PRIu64
			")\n", ix.docs, ix.cursor, ulast, ix.record_cursor, rlast);
}

static void summary(const struct mc_check *c, const struct mc_store_check_res *sres,
		    const struct mg_check_res *mres, double secs)
{
	fprintf(stderr,
		"mucluc check: %" PRIu64 " problem%s; %" PRIu64 " records (%" PRIu64
		" present), %" PRIu64 " unions (%" PRIu64 " live), %" PRIu64 " members, %" PRIu64
		" match keys, %" PRIu64 " union feed entries, %" PRIu64 " not merged yet; %.2f s\n",
		c->problems, c->problems == 1 ? "" : "s", sres->records, sres->present,
		mres->unions, mres->live, mres->members, mres->keys, mres->feed, mres->pending,
		secs);
}

/* The repair batch, derived from the snapshot of generation gen. 0,
 * EXIT_NOTHING (error printed, nothing changed), or 1 when another writer
 * committed since that snapshot (nothing changed: check again). */
static int repair(struct mc_store *s, struct mc_check *c, const struct mc_store_check_res *sres,
		  const struct mg_check_res *mres, uint64_t gen)
{
	struct mc_writer *w;
	struct mc_error e;
	uint64_t now;
	int rc;

	mc_error_clear(&e);
	rc = mc_writer_begin(s, &w, &e);
	if (rc) {
		cli_error("check --repair", rc, &e);
		return EXIT_NOTHING;
	}
	/* what the check found holds only for the store it read: a repair
	 * derived from an older snapshot would write stale counts or keys */
	rc = mc_writer_generation(w, &now);
	if (rc) {
		mc_writer_abort(w);
		cli_error("check --repair: reading the write generation", rc, NULL);
		return EXIT_NOTHING;
	}
	if (now != gen) {
		mc_writer_abort(w);
		return 1;
	}
	rc = mc_store_repair(w, sres, c, &e);
	rc = rc ? rc : mg_check_repair(w, mres, c, &e);
	if (rc) {
		mc_writer_abort(w);
		cli_error("check --repair (nothing changed)", rc, &e);
		return EXIT_NOTHING;
	}
	rc = mc_writer_commit(w, &e);
	if (rc) {
		cli_error("check --repair: committing (nothing changed)", rc, &e);
		return EXIT_NOTHING;
	}
	return 0;
}

int cmd_check(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repair", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mc_check c = { check_line, NULL, 0, 0, 0 };
	struct mc_store_check_res sres;
	struct mg_check_res mres;
	struct mc_config *cfg = NULL;
	struct mc_store *s = NULL;
	struct mc_lock *lock = NULL;
	int do_repair = 0, ret, opt, tries = 0;
	double t0 = mc_time_mono();
	uint64_t gen = 0;

	memset(&sres, 0, sizeof(sres));
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			do_repair = 1;
			break;
		case 'h':
			fputs(check_usage, stdout);
			return EXIT_ALL_GOOD;
		default:
			return cli_usage_error("check", NULL);
		}
	}
	if (optind < argc)
		return cli_usage_error("check", "no arguments expected");
	if ((ret = cli_load_config(cli, &cfg)))
		return ret;
	/* a repair writes union data (the keys): one writer of it at a time */
	if (do_repair && cli_lock(cfg, MC_LOCK_MERGE, "check --repair", &lock)) {
		ret = EXIT_NOTHING;
		goto done;
	}
	if ((ret = cli_open_store(cfg, do_repair ? 0 : MC_STORE_RDONLY, &s)))
		goto done;
again:
	ret = run_checks(s, &c, &sres, &mres, &gen);
	if (ret)
		goto done;
	if (do_repair && c.problems) {
		fflush(stdout);
		summary(&c, &sres, &mres, mc_time_mono() - t0);
		ret = repair(s, &c, &sres, &mres, gen);
		if (ret == 1) {
			if (++tries >= CHECK_REPAIR_TRIES) {
				fprintf(stderr, "mucluc check --repair: the store changed between "
					"the check and the repair %d times running; nothing "
					"repaired (run it again when imports are idle)\n", tries);
				ret = EXIT_PARTLY;
				goto done;
			}
			fprintf(stderr, "mucluc check: another process wrote since this check "
				"read the store; checking again\n");
			mc_store_check_res_free(&sres);
			c.problems = c.repaired = c.notes = 0;
			goto again;
		}
		if (ret)
			goto done;
		if (!c.repaired)
			fprintf(stderr, "mucluc check: nothing that can be derived was wrong\n");
		fflush(stdout);
		/* check again, on a new snapshot */
		fprintf(stderr, "mucluc check: %" PRIu64 " repaired; checking again\n", c.repaired);
		mc_store_check_res_free(&sres);
		c.problems = c.repaired = c.notes = 0;
		ret = run_checks(s, &c, &sres, &mres, &gen);
		if (ret)
			goto done;
	}
	fflush(stdout);
	index_state(cfg, s);
	summary(&c, &sres, &mres, mc_time_mono() - t0);
	ret = c.problems ? EXIT_PARTLY : EXIT_ALL_GOOD;
done:
	mc_store_check_res_free(&sres);
	mc_store_close(s);
	mc_lock_release(lock);
	mc_config_free(cfg);
	return ret;
}
