/* index.c — the index run (`mucluc index`): the union feed from the cursor
 * in Xapian metadata, batches committed with their cursor, and --rebuild
 * into index.d/N+1 with an atomic swap of the stub (schemas/index.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ix-index-internal.h"

#define IX_SCHEMA "1"
#define IX_PATH_MAX 4096

struct run {
	const struct mc_config *cfg;
	const struct ix_index_opts *o;
	struct ix_index_stats *st;
	struct mc_error *err;
	struct ix_docb *b;
	struct ixw_db *db;
	struct ixw_doc *doc;
	struct mc_reader *r;
	struct mg_merger *m;
	char identity[64];
	uint64_t written;     /* documents written (the crash test counts them) */
	uint64_t pending;     /* changes since the last commit */
	uint64_t batch;       /* commit after this many changes */
	int fresh;            /* db built from nothing: add, never replace */
	unsigned part, nparts; /* a rebuild's builder: unions with id % nparts == part */
	/* incremental: the feed entries of one snapshot */
	uint64_t *ids;        /* the unions one snapshot's feed entries name */
	size_t nids, capids;
	uint64_t nfeed, nrec; /* entries read from the union feed / record feed */
	uint64_t useq, rseq;  /* the last of each read */
};

static int path_of(char *buf, const char *data_dir, const char *rest, unsigned gen)
{
	int n = gen ? snprintf(buf, IX_PATH_MAX, "%s/%s%u", data_dir, rest, gen)
		    : snprintf(buf, IX_PATH_MAX, "%s/%s", data_dir, rest);

	return n < 0 || n >= IX_PATH_MAX ? -ENAMETOOLONG : 0;
}

/* The stub <data_dir>/index: "auto index.d/N". 0 and *gen (0: no stub),
 * MC_E_CORRUPT (another content), -errno. */
static int stub_read(const char *data_dir, unsigned *gen, struct mc_error *err)
{
	char path[IX_PATH_MAX], line[128];
	unsigned long g;
	char *end;
	FILE *f;
	int rc;

	*gen = 0;
	rc = path_of(path, data_dir, "index", 0);
	if (rc)
		return mc_error_set(err, rc, "data_dir too long");
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		return mc_error_set(err, rc, "cannot open %s: %s", path, strerror(-rc));
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	if (strncmp(line, "auto index.d/", 13))
		return mc_error_set(err, MC_E_CORRUPT, "%s: not an index stub written by mucluc",
				    path);
	errno = 0;
	g = strtoul(line + 13, &end, 10);
	if (errno || g == 0 || g > 1000000000ul || (*end != '\n' && *end != '\0'))
		return mc_error_set(err, MC_E_CORRUPT, "%s: not an index stub written by mucluc",
				    path);
	*gen = (unsigned)g;
	return 0;
}

static int fsync_path(const char *path, int dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		rc = -errno;
	close(fd);
	return rc;
}

/* Write the stub naming index.d/gen: index.tmp, fsync, rename (atomic). */
static int stub_write(const char *data_dir, unsigned gen, struct mc_error *err)
{
	char tmp[IX_PATH_MAX], path[IX_PATH_MAX];
	FILE *f;
	int rc;

	if (path_of(tmp, data_dir, "index.tmp", 0) || path_of(path, data_dir, "index", 0))
		return mc_error_set(err, -ENAMETOOLONG, "data_dir too long");
	f = fopen(tmp, "we");
	if (!f) {
		rc = -errno;
		return mc_error_set(err, rc, "cannot create %s: %s", tmp, strerror(-rc));
	}
	rc = fprintf(f, "auto index.d/%u\n", gen) < 0 ? -EIO : 0;
	if (fflush(f) || fsync(fileno(f)))
		rc = -errno;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (!rc)
		rc = fsync_path(data_dir, 1);
	if (rc) {
		unlink(tmp);
		return mc_error_set(err, rc, "cannot write %s: %s", path, strerror(-rc));
	}
	return 0;
}

static int sync_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag != FTW_F && flag != FTW_DP && flag != FTW_D)
		return 0;
	return fsync_path(p, flag != FTW_F);
}

/* fsync every file of directory path, and the directory. */
static int sync_tree(const char *path)
{
	int rc = nftw(path, sync_one, 16, FTW_DEPTH | FTW_PHYS);

	return rc > 0 ? -EIO : rc;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(p) : unlink(p)) ? -errno : 0;
}

static int rm_tree(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb))
		return errno == ENOENT ? 0 : -errno;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Remove every index.d/N but keep (a rebuild killed before its swap
 * leaves one; we hold the index lock, so nobody is writing it). */
static void rm_others(const char *data_dir, unsigned keep)
{
	char dir[IX_PATH_MAX], p[IX_PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (path_of(dir, data_dir, "index.d", 0))
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		unsigned long g = strtoul(de->d_name, &end, 10);

		/* index.d/N, and the parts index.d/N.pK of a rebuild killed early */
		if (de->d_name[0] < '0' || de->d_name[0] > '9' || (!*end && g == keep))
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) < (int)sizeof(p))
			rm_tree(p);
	}
	closedir(d);
}

static int crash_point(struct run *x)
{
	x->written++;
	if (x->o->crash_after && x->written >= x->o->crash_after)
		_exit(137);
	return 0;
}

static int commit(struct run *x, uint64_t cursor, uint64_t rcursor, int with_meta)
{
	char v[32];
	int rc = 0;

	if (with_meta) {
		snprintf(v, sizeof(v), "%" PRIu64, cursor);
		rc = ixw_meta_set(x->db, "mucluc.cursor", v, x->err);
		snprintf(v, sizeof(v), "%" PRIu64, rcursor);
		rc = rc ? rc : ixw_meta_set(x->db, "mucluc.record_cursor", v, x->err);
		rc = rc ? rc : ixw_meta_set(x->db, "mucluc.schema", IX_SCHEMA, x->err);
		rc = rc ? rc : ixw_meta_set(x->db, "mucluc.store", x->identity, x->err);
	}
	rc = rc ? rc : ixw_commit(x->db, x->err);
	if (!rc) {
		x->st->commits++;
		x->pending = 0;
	}
	/* a long walk of one snapshot: let the store's pages go */
	if (x->r)
		mc_reader_trim(x->r, 0);
	return rc;
}

/* Index (or delete) one union as snapshot x->r has it. */
static int one_union(void *ctx, const struct mg_union_view *u)
{
	struct run *x = ctx;
	char ut[32];
	int rc, had = 0;

	ix_uterm(u->id, ut, sizeof(ut));
	rc = u->tombstone ? 0 : ix_docb_build(x->b, x->r, u, x->doc, x->err);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		if (x->fresh) {
			rc = ixw_add(x->db, x->doc, x->err);
			x->st->added++;
		} else {
			rc = ixw_replace(x->db, ut, x->doc, ix_spell_prefixes, &had, x->err);
			if (had)
				x->st->replaced++;
			else
				x->st->added++;
		}
	} else if (x->fresh) {
		x->st->skipped++;
		return 0;
	} else {
		rc = ixw_delete(x->db, ut, ix_spell_prefixes, &had, x->err);
		if (had)
			x->st->deleted++;
		else
			x->st->skipped++;
	}
	if (rc)
		return rc;
	x->pending++;
	return crash_point(x);
}

/* ---- rebuild: every live union of one snapshot into a new database ---- */

static int rebuild_one(void *ctx, const struct mg_union_view *u)
{
	struct run *x = ctx;
	int rc;

	if (u->tombstone || u->id % x->nparts != x->part)
		return 0;
	rc = one_union(x, u);
	/* commits bound the memory; the cursor comes with the last one, and
	 * nobody reads this database before the stub names it */
	if (!rc && x->pending >= x->batch)
		rc = commit(x, 0, 0, 0);
	return rc;
}

static int begin_snapshot(struct run *x, struct mc_store *s, uint64_t *feed_last)
{
	int rc = mc_reader_begin(s, &x->r);

	if (rc)
		return mc_error_set(x->err, rc, "index: %s", mc_reader_errmsg(NULL));
	rc = mg_merger_new_reader(x->r, &x->m);
	rc = rc ? rc : mg_feed_last(x->r, feed_last);
	if (rc)
		return mc_error_set(x->err, rc, "index: reading the union feed: %s",
				    mc_reader_errmsg(x->r));
	return 0;
}

static void end_snapshot(struct run *x)
{
	mg_merger_free(x->m);
	x->m = NULL;
	mc_reader_end(x->r);
	x->r = NULL;
}

/* One builder thread of a rebuild: the unions whose id % nparts is its
 * number, from its own snapshot, into its own database. The snapshots must
 * be one: each builder takes its snapshot, then waits for the word of the
 * main thread, which compares their store write generations. */
struct start {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned ready;       /* builders that took their snapshot (or failed) */
	int go;               /* 0 wait, 1 build, -1 give up */
};

struct part {
	struct run x;
	struct ix_index_stats st;
	struct mc_error err;
	struct mc_store *s;
	struct start *start;
	uint64_t gen, ulast, rlast;
	int rc;
	char dir[IX_PATH_MAX];
};

#define IX_SNAPSHOT_MOVED 1 /* the builders' snapshots differ: try again */

static void *part_run(void *arg)
{
	struct part *p = arg;
	struct run *x = &p->x;
	int rc, go;

	rc = ix_docb_new(x->cfg, x->o->link, x->o->link_ctx, &x->b, x->err);
	rc = rc ? rc : ixw_doc_new(&x->doc);
	rc = rc ? rc : ixw_open(p->dir, IXW_CREATE | IXW_NOSYNC, &x->db, x->err);
	rc = rc ? rc : begin_snapshot(x, p->s, &p->ulast);
	if (!rc) {
		p->rlast = mc_reader_feed_last(x->r);
		rc = mc_reader_generation(x->r, &p->gen);
	}
	p->rc = rc;
	pthread_mutex_lock(&p->start->mu);
	p->start->ready++;
	pthread_cond_broadcast(&p->start->cv);
	while (!p->start->go)
		pthread_cond_wait(&p->start->cv, &p->start->mu);
	go = p->start->go;
	pthread_mutex_unlock(&p->start->mu);
	if (!rc && go < 0)
		rc = IX_SNAPSHOT_MOVED;
	if (!rc) {
		rc = mg_union_each(x->m, rebuild_one, x);
		if (rc == MC_E_NOTFOUND) /* never merged: an empty index */
			rc = 0;
	}
	end_snapshot(x);
	rc = rc ? rc : commit(x, 0, 0, 0);
	ixw_close(x->db);
	x->db = NULL;
	ixw_doc_free(x->doc);
	x->doc = NULL;
	ix_docb_free(x->b);
	x->b = NULL;
	p->rc = rc;
	return NULL;
}

/* Builder threads: $MUCLUC_INDEX_JOBS, else the processors online, at
 * most IX_INDEX_JOBS_MAX. */
static unsigned jobs(void)
{
	const char *e = getenv("MUCLUC_INDEX_JOBS");
	long n = e && *e ? strtol(e, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > IX_INDEX_JOBS_MAX ? IX_INDEX_JOBS_MAX : (unsigned)n;
}

/* Start the builders, let them build when their snapshots are one. 0,
 * IX_SNAPSHOT_MOVED, or an error of a builder (x->err). */
static int build_once(struct run *x, struct part *parts, unsigned n)
{
	struct start st = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
	pthread_t th[IX_INDEX_JOBS_MAX];
	unsigned i, started;
	int rc = 0, go = 1;

	for (i = 0; i < n; i++)
		parts[i].start = &st;
	for (started = 0; started < n; started++)
		if (pthread_create(&th[started], NULL, part_run, &parts[started]))
			break;
	pthread_mutex_lock(&st.mu);
	while (st.ready < started)
		pthread_cond_wait(&st.cv, &st.mu);
	if (started < n)
		go = -1;
	for (i = 0; i < started; i++)
		if (parts[i].rc || parts[i].gen != parts[0].gen)
			go = -1;
	st.go = go;
	pthread_cond_broadcast(&st.cv);
	pthread_mutex_unlock(&st.mu);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (started < n)
		return mc_error_set(x->err, -EAGAIN, "cannot start the index builder threads");
	for (i = 0; i < n && !rc; i++)
		if (parts[i].rc && parts[i].rc != IX_SNAPSHOT_MOVED) {
			rc = parts[i].rc;
			*x->err = parts[i].err;
		}
	for (i = 0; i < n && !rc; i++)
		if (parts[i].rc == IX_SNAPSHOT_MOVED)
			rc = IX_SNAPSHOT_MOVED;
	pthread_cond_destroy(&st.cv);
	pthread_mutex_destroy(&st.mu);
	return rc;
}

/* Build every part, until the builders' snapshots agree (5 tries). */
static int build_parts(struct run *x, struct mc_store *s, struct part *parts, unsigned n,
		       unsigned gen)
{
	unsigned i, try;
	int rc = IX_SNAPSHOT_MOVED;

	for (try = 0; try < 5 && rc == IX_SNAPSHOT_MOVED; try++) {
		memset(parts, 0, n * sizeof(*parts));
		for (i = 0; i < n; i++) {
			struct part *p = &parts[i];

			p->x = *x;
			p->x.st = &p->st;
			p->x.err = &p->err;
			p->x.part = i;
			p->x.nparts = n;
			p->s = s;
			mc_error_clear(&p->err);
			snprintf(p->dir, sizeof(p->dir), "%s/index.d/%u.p%u", x->cfg->data_dir, gen, i);
			rc = rm_tree(p->dir);
			if (rc)
				return mc_error_set(x->err, rc, "cannot remove %s: %s", p->dir,
						    strerror(-rc));
		}
		rc = build_once(x, parts, n);
	}
	if (rc == IX_SNAPSHOT_MOVED)
		return mc_error_set(x->err, MC_E_STORE, "the store kept changing while the index "
				    "builders took their snapshots");
	for (i = 0; !rc && i < n; i++) {
		x->st->added += parts[i].st.added;
		x->st->skipped += parts[i].st.skipped;
		x->st->commits += parts[i].st.commits;
	}
	return rc;
}

static int rebuild(struct run *x, struct mc_store *s, unsigned old_gen)
{
	struct part *parts = NULL;
	const char *dirs[IX_INDEX_JOBS_MAX];
	char dir[IX_PATH_MAX];
	unsigned gen = old_gen + 1, n = jobs(), i;
	int rc;

	rc = path_of(dir, x->cfg->data_dir, "index.d", 0);
	if (rc)
		return mc_error_set(x->err, rc, "data_dir too long");
	if (mkdir(dir, 0755) && errno != EEXIST) {
		rc = -errno;
		return mc_error_set(x->err, rc, "cannot create %s: %s", dir, strerror(-rc));
	}
	path_of(dir, x->cfg->data_dir, "index.d/", gen);
	rc = rm_tree(dir);
	if (rc)
		return mc_error_set(x->err, rc, "cannot remove %s: %s", dir, strerror(-rc));
	parts = calloc(n, sizeof(*parts));
	if (!parts)
		return -ENOMEM;
	x->fresh = 1;
	rc = build_parts(x, s, parts, n, gen);
	/* the parts into one compact database (full blocks: smaller, faster
	 * to search), then the cursors of the parts' common snapshot */
	for (i = 0; i < n; i++)
		dirs[i] = parts[i].dir;
	rc = rc ? rc : ixw_compact(dirs, n, dir, x->err);
	for (i = 0; i < n; i++)
		rm_tree(parts[i].dir);
	rc = rc ? rc : ixw_open(dir, 0, &x->db, x->err);
	x->fresh = 0;
	rc = rc ? rc : commit(x, parts[0].ulast, parts[0].rlast, 1);
	if (!rc) {
		x->st->cursor = parts[0].ulast;
		x->st->record_cursor = parts[0].rlast;
		x->st->docs = ixw_doc_count(x->db);
	}
	free(parts);
	ixw_close(x->db);
	x->db = NULL;
	if (!rc) {
		rc = sync_tree(dir);
		if (rc)
			mc_error_set(x->err, rc, "cannot sync %s: %s", dir, strerror(-rc));
	}
	if (rc) {
		rm_tree(dir);
		return rc;
	}
	rc = stub_write(x->cfg->data_dir, gen, x->err);
	if (rc) {
		rm_tree(dir);
		return rc;
	}
	x->st->rebuilt = 1;
	x->st->generation = gen;
	/* readers that opened the old database keep their open files */
	rm_others(x->cfg->data_dir, gen);
	return 0;
}

/* ---- incremental: the union feed and the record feed after the cursors ----
 *
 * The union feed names the unions whose membership or summary changed;
 * the record feed also names records whose change the merger's summary does
 * not see (notes, series, classification, languages, MARC 506), indexed
 * through their union. Both are read in one snapshot, their union ids
 * sorted and made unique, applied in batches of IX_INDEX_BATCH documents;
 * the cursors move with the last batch (earlier batches commit the old
 * cursors: a run killed in between does that part again, which gives the
 * same documents). */

static int grow_ids(struct run *x)
{
	if (x->nids == x->capids) {
		size_t nc = x->capids ? 2 * x->capids : 4096;
		uint64_t *n = realloc(x->ids, nc * sizeof(*n));

		if (!n)
			return -ENOMEM;
		x->ids = n;
		x->capids = nc;
	}
	return 0;
}

static int collect_union(void *ctx, uint64_t seq, uint64_t id)
{
	struct run *x = ctx;
	int rc = grow_ids(x);

	if (rc)
		return rc;
	x->ids[x->nids++] = id;
	x->useq = seq;
	x->nfeed++;
	x->st->feed++;
	return 0;
}

static int collect_record(void *ctx, uint64_t seq, int op, const char *source,
			  const char *local_id)
{
	struct run *x = ctx;
	char ref[640]; /* source, ":", local id: a store key is at most 511 bytes */
	uint64_t id = 0;
	int rc;

	(void)op;
	x->rseq = seq;
	x->nrec++;
	x->st->feed++;
	if (snprintf(ref, sizeof(ref), "%s:%s", source, local_id) >= (int)sizeof(ref))
		return 0;
	rc = mg_member_union(x->m, ref, &id);
	if (rc == MC_E_NOTFOUND)
		return 0; /* not merged yet: the union feed will name its union */
	if (rc)
		return rc;
	rc = grow_ids(x);
	if (rc)
		return rc;
	x->ids[x->nids++] = id;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int apply_one(struct run *x, uint64_t id)
{
	int rc = mg_union_get(x->m, id, one_union, x);

	if (rc == MC_E_NOTFOUND) {
		/* a feed entry for a union that is not there: no document */
		char ut[32];
		int had = 0;

		ix_uterm(id, ut, sizeof(ut));
		rc = ixw_delete(x->db, ut, ix_spell_prefixes, &had, x->err);
		if (had)
			x->st->deleted++;
		else
			x->st->skipped++;
	}
	return rc;
}

static int incremental(struct run *x, struct mc_store *s, uint64_t ucur, uint64_t rcur)
{
	uint64_t ulast = 0, rlast;
	int rc = 0;

	for (;;) {
		size_t i, n;

		x->nids = x->nfeed = x->nrec = 0;
		x->useq = ucur;
		x->rseq = rcur;
		rc = begin_snapshot(x, s, &ulast);
		if (rc)
			break;
		rlast = mc_reader_feed_last(x->r);
		if (ulast <= ucur && rlast <= rcur)
			break;
		if (ulast > ucur) {
			rc = mg_feed_each(x->m, ucur, IX_INDEX_FEED_MAX, collect_union, x);
			if (rc == MC_E_NOTFOUND)
				rc = 0;
		}
		if (!rc && rlast > rcur)
			rc = mc_reader_feed(x->r, rcur, IX_INDEX_FEED_MAX, collect_record, x);
		if (rc) {
			mc_error_set(x->err, rc, "index: reading the change feeds: %s",
				     mc_reader_errmsg(x->r));
			break;
		}
		qsort(x->ids, x->nids, sizeof(*x->ids), cmp_u64);
		for (i = n = 0; i < x->nids; i++)
			if (!i || x->ids[i] != x->ids[i - 1])
				x->ids[n++] = x->ids[i];
		for (i = 0; !rc && i < n; i++) {
			rc = apply_one(x, x->ids[i]);
			if (!rc && i + 1 < n && x->pending >= x->batch)
				rc = commit(x, ucur, rcur, 1);
		}
		if (!rc)
			rc = commit(x, x->useq, x->rseq, 1);
		if (rc)
			break;
		ucur = x->useq;
		rcur = x->rseq;
		end_snapshot(x);
		if (x->nfeed < IX_INDEX_FEED_MAX && x->nrec < IX_INDEX_FEED_MAX)
			break;
	}
	end_snapshot(x);
	x->st->cursor = ucur;
	x->st->record_cursor = rcur;
	return rc;
}

int ix_index_run(const struct mc_config *cfg, struct mc_store *s, const struct ix_index_opts *o,
		 struct ix_index_stats *st, struct mc_error *err)
{
	static const struct ix_index_opts none;
	struct ix_index_stats dummy;
	struct mc_lock *lock = NULL;
	struct mc_store_info info;
	struct mc_buf meta;
	struct run x;
	unsigned gen = 0;
	uint64_t cursor = 0, rcursor = 0;
	int rc, need_rebuild;

	memset(&x, 0, sizeof(x));
	if (!o)
		o = &none;
	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	x.cfg = cfg;
	x.o = o;
	x.st = st;
	x.err = err;
	mc_buf_init(&meta, 4096);
	rc = mc_lock_take(cfg->data_dir, MC_LOCK_INDEX, "index", o->on_wait, o->wait_ctx, &lock,
			  err);
	if (rc)
		return rc;
	{
		const char *ca = getenv("MUCLUC_INDEX_CRASH_AFTER"), *bs = getenv("MUCLUC_INDEX_BATCH");
		static struct ix_index_opts copy;

		if (ca && *ca && !o->crash_after) {
			copy = *o;
			copy.crash_after = strtoull(ca, NULL, 10);
			x.o = o = &copy;
		}
		x.batch = o->batch ? o->batch : IX_INDEX_BATCH;
		if (bs && *bs && !o->batch)
			x.batch = strtoull(bs, NULL, 10);
		if (x.batch < 1 || x.batch > 10 * IX_INDEX_BATCH)
			x.batch = IX_INDEX_BATCH;
	}
	/* the store's identity: a store made anew restarts the index */
	rc = mc_reader_begin(s, &x.r);
	if (!rc) {
		rc = mc_reader_info(x.r, &info);
		mc_reader_end(x.r);
		x.r = NULL;
	}
	if (rc) {
		mc_error_set(err, rc, "index: %s", mc_reader_errmsg(NULL));
		goto done;
	}
	snprintf(x.identity, sizeof(x.identity), "created:%" PRId64, info.created);
	rc = ix_docb_new(cfg, o->link, o->link_ctx, &x.b, err);
	rc = rc ? rc : ixw_doc_new(&x.doc);
	rc = rc ? rc : stub_read(cfg->data_dir, &gen, err);
	if (rc)
		goto done;
	need_rebuild = !gen || (o->flags & IX_INDEX_REBUILD);
	if (!need_rebuild) {
		char dir[IX_PATH_MAX];

		path_of(dir, cfg->data_dir, "index.d/", gen);
		rm_others(cfg->data_dir, gen);
		rc = ixw_open(dir, 0, &x.db, err);
		if (rc)
			goto done;
		if (ixw_meta_get(x.db, "mucluc.schema", &meta, err) || strcmp(meta.data, IX_SCHEMA) ||
		    ixw_meta_get(x.db, "mucluc.store", &meta, err) ||
		    strcmp(meta.data, x.identity) ||
		    ixw_meta_get(x.db, "mucluc.cursor", &meta, err)) {
			need_rebuild = 1;
		} else {
			cursor = strtoull(meta.data, NULL, 10);
			if (ixw_meta_get(x.db, "mucluc.record_cursor", &meta, err))
				need_rebuild = 1;
			else
				rcursor = strtoull(meta.data, NULL, 10);
		}
		mc_error_clear(err);
		if (!need_rebuild) {
			uint64_t feed_last = 0;

			/* a feed behind the cursor is another store's: rebuild */
			rc = begin_snapshot(&x, s, &feed_last);
			if (!rc && (feed_last < cursor || mc_reader_feed_last(x.r) < rcursor))
				need_rebuild = 1;
			end_snapshot(&x);
			if (rc)
				goto done;
		}
		if (need_rebuild) {
			ixw_close(x.db);
			x.db = NULL;
		}
	}
	if (need_rebuild) {
		rc = rebuild(&x, s, gen);
		goto done;
	}
	st->generation = gen;
	rc = incremental(&x, s, cursor, rcursor);
	st->docs = ixw_doc_count(x.db);
done:
	end_snapshot(&x);
	ixw_close(x.db);
	ixw_doc_free(x.doc);
	ix_docb_free(x.b);
	free(x.ids);
	mc_buf_free(&meta);
	mc_lock_release(lock);
	return rc;
}

int ix_index_state(const struct mc_config *cfg, struct ix_index_state *ret,
		   struct mc_error *err)
{
	char dir[IX_PATH_MAX];
	unsigned gen = 0;
	int rc = stub_read(cfg->data_dir, &gen, err);

	if (rc)
		return rc;
	if (!gen)
		return MC_E_NOTFOUND;
	path_of(dir, cfg->data_dir, "index.d/", gen);
	ret->generation = gen;
	return ixw_peek(dir, &ret->cursor, &ret->record_cursor, &ret->docs, err);
}
