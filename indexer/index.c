/* index.c — the index run (`mucluc index`): the union feed from the cursor
 * in Xapian metadata, batches committed with their cursor, and --rebuild
 * into index.d/N+1 with an atomic swap of the stub (schemas/index.md). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ix-index-internal.h"

#define IX_SCHEMA "1"
#define IX_PATH_MAX 4096

struct fentry {
	uint64_t seq, id;
};

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
	int fresh;            /* db built from nothing: add, never replace */
	/* incremental: the feed entries of one snapshot */
	struct fentry *ent;
	size_t nent, capent;
	uint64_t *ids;        /* one batch's union ids, sorted */
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

		if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end || g == keep)
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

static int commit(struct run *x, uint64_t cursor, int with_meta)
{
	char v[32];
	int rc = 0;

	if (with_meta) {
		snprintf(v, sizeof(v), "%" PRIu64, cursor);
		rc = ixw_meta_set(x->db, "mucluc.cursor", v, x->err);
		rc = rc ? rc : ixw_meta_set(x->db, "mucluc.schema", IX_SCHEMA, x->err);
		rc = rc ? rc : ixw_meta_set(x->db, "mucluc.store", x->identity, x->err);
	}
	rc = rc ? rc : ixw_commit(x->db, x->err);
	if (!rc) {
		x->st->commits++;
		x->pending = 0;
	}
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

	if (u->tombstone)
		return 0;
	rc = one_union(x, u);
	/* commits bound the memory; the cursor comes with the last one, and
	 * nobody reads this database before the stub names it */
	if (!rc && x->pending >= IX_INDEX_BATCH)
		rc = commit(x, 0, 0);
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

static int rebuild(struct run *x, struct mc_store *s, unsigned old_gen)
{
	char dir[IX_PATH_MAX];
	unsigned gen = old_gen + 1;
	uint64_t feed_last = 0;
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
	rc = ixw_open(dir, 1, &x->db, x->err);
	if (rc)
		return rc;
	x->fresh = 1;
	rc = begin_snapshot(x, s, &feed_last);
	if (!rc) {
		rc = mg_union_each(x->m, rebuild_one, x);
		if (rc == MC_E_NOTFOUND) /* never merged: an empty index */
			rc = 0;
	}
	end_snapshot(x);
	rc = rc ? rc : commit(x, feed_last, 1);
	if (!rc) {
		x->st->cursor = feed_last;
		x->st->docs = ixw_doc_count(x->db);
	}
	ixw_close(x->db);
	x->db = NULL;
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

/* ---- incremental: the union feed after the cursor ---- */

static int collect(void *ctx, uint64_t seq, uint64_t id)
{
	struct run *x = ctx;

	if (x->nent == x->capent) {
		size_t nc = x->capent ? 2 * x->capent : 4096;
		struct fentry *n = realloc(x->ent, nc * sizeof(*n));

		if (!n)
			return -ENOMEM;
		x->ent = n;
		x->capent = nc;
	}
	x->ent[x->nent].seq = seq;
	x->ent[x->nent].id = id;
	x->nent++;
	x->st->feed++;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Apply feed entries ent[from..to): each union once, as the snapshot has
 * it; commit with the cursor at the last entry's sequence. */
static int apply_batch(struct run *x, size_t from, size_t to)
{
	size_t i, n = to - from;
	int rc = 0;

	for (i = 0; i < n; i++)
		x->ids[i] = x->ent[from + i].id;
	qsort(x->ids, n, sizeof(*x->ids), cmp_u64);
	for (i = 0; !rc && i < n; i++) {
		if (i > 0 && x->ids[i] == x->ids[i - 1])
			continue;
		rc = mg_union_get(x->m, x->ids[i], one_union, x);
		if (rc == MC_E_NOTFOUND) {
			/* a feed entry for a union that is not there: nothing to index */
			char ut[32];
			int had = 0;

			ix_uterm(x->ids[i], ut, sizeof(ut));
			rc = ixw_delete(x->db, ut, ix_spell_prefixes, &had, x->err);
			if (had)
				x->st->deleted++;
		}
	}
	return rc ? rc : commit(x, x->ent[to - 1].seq, 1);
}

static int incremental(struct run *x, struct mc_store *s, uint64_t cursor)
{
	uint64_t feed_last = 0;
	int rc = 0;

	x->ids = malloc(IX_INDEX_BATCH * sizeof(*x->ids));
	if (!x->ids)
		return -ENOMEM;
	for (;;) {
		size_t i, from;

		x->nent = 0;
		rc = begin_snapshot(x, s, &feed_last);
		if (rc || feed_last <= cursor)
			break;
		rc = mg_feed_each(x->m, cursor, IX_INDEX_FEED_MAX, collect, x);
		if (rc == MC_E_NOTFOUND)
			rc = 0;
		if (rc || !x->nent)
			break;
		for (from = 0; !rc && from < x->nent; from = i) {
			i = from + IX_INDEX_BATCH < x->nent ? from + IX_INDEX_BATCH : x->nent;
			rc = apply_batch(x, from, i);
			if (!rc)
				cursor = x->ent[i - 1].seq;
		}
		end_snapshot(x);
		if (rc || x->nent < IX_INDEX_FEED_MAX)
			break;
	}
	end_snapshot(x);
	x->st->cursor = cursor;
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
	uint64_t cursor = 0;
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
		const char *ca = getenv("MUCLUC_INDEX_CRASH_AFTER");
		static struct ix_index_opts copy;

		if (ca && *ca && !o->crash_after) {
			copy = *o;
			copy.crash_after = strtoull(ca, NULL, 10);
			x.o = o = &copy;
		}
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
		}
		mc_error_clear(err);
		if (!need_rebuild) {
			uint64_t feed_last = 0;

			/* a feed behind the cursor is another store's: rebuild */
			rc = begin_snapshot(&x, s, &feed_last);
			end_snapshot(&x);
			if (rc)
				goto done;
			if (feed_last < cursor)
				need_rebuild = 1;
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
	rc = incremental(&x, s, cursor);
	st->docs = ixw_doc_count(x.db);
done:
	end_snapshot(&x);
	ixw_close(x.db);
	ixw_doc_free(x.doc);
	ix_docb_free(x.b);
	free(x.ids);
	free(x.ent);
	mc_buf_free(&meta);
	mc_lock_release(lock);
	return rc;
}

int ix_index_state(const struct mc_config *cfg, uint64_t *cursor, uint64_t *docs,
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
	return ixw_peek(dir, cursor, docs, err);
}
