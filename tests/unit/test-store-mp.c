/* test-store-mp.c — several processes writing one store at once (store.c),
 * on real LMDB environments in temporary directories: map growth while
 * another process wants to write, many writers growing a tiny map, the
 * write generations seen across processes, error messages that name the
 * operation, the database and LMDB's reason. */
#include <poll.h>

#include "store-test.h"

/* A record of about 1 KiB, so that a few hundred fill a 256 KiB map. */
static int fill(struct mc_record *r, const char *source, const char *id, int i)
{
	char buf[64];
	struct mc_field *f;
	int n;

	mc_record_reset(r);
	r->source = mc_arena_strdup(r->arena, source);
	r->local_id = mc_arena_strdup(r->arena, id);
	r->status = MC_REC_PRESENT;
	r->datestamp = 1700000000 + i;
	if (!r->source || !r->local_id || mc_marc_add_control(r, "001", id, strlen(id)) ||
	    mc_marc_add_data(r, "245", '1', '0', &f))
		return -1;
	memcpy(r->marc->leader, "01234nam a2200301 a 4500", 24);
	for (int k = 0; k < 16; k++) {
		n = snprintf(buf, sizeof(buf), "Lịch sử tỉnh %d, phần %d — bản %d", i, k, i * 7 + k);
		if (mc_marc_add_sub(r, f, 'a', buf, (size_t)n))
			return -1;
	}
	return 0;
}

/* Fork fn(dir, arg, ctx) in a child; its exit status is collected by reap. */
static pid_t spawn(int (*fn)(const char *, int, void *), const char *dir, int arg, void *ctx)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc = fn(dir, arg, ctx);

		fflush(stdout);
		_exit(rc);
	}
	return pid;
}

static int reap(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return WEXITSTATUS(status);
}

/* ---- a write that comes in while a growth has no transaction ----
 * Process A's batch steps a counter, then fills the tiny map: to grow it,
 * A must end its LMDB transaction (mdb_env_set_mapsize wants none open).
 * At that moment (the grow hook) A lets process B begin a batch that steps
 * the same counter, and waits up to 2 s for B to commit. Before the store
 * held a lock of its own across the growth, B committed in that gap and
 * A's replay found the counter moved: A's batch failed with MC_E_STORE
 * ("store error"). Now B waits for A's batch, A commits, then B. */

struct gap {
	int go[2];     /* A -> B: in the gap */
	int done[2];   /* B -> A: committed */
	int fired;
};

static void gap_hook(void *ctx)
{
	struct gap *g = ctx;
	struct pollfd p = { g->done[0], POLLIN, 0 };
	char c = 'g';

	if (g->fired++)
		return;
	if (write(g->go[1], &c, 1) != 1)
		return;
	/* the wait ends early only if B could commit while A had no
	 * transaction — the failure this test is about */
	poll(&p, 1, 2000);
}

static int child_grower(const char *dir, int arg, void *ctx)
{
	struct gap *g = ctx;
	struct mc_store *s;
	struct mc_writer *w;
	struct mc_record *r;
	struct mc_error err;
	uint64_t v;
	char id[32];
	int rc = 0, oc;

	(void)arg;
	alarm(60);
	mc_error_clear(&err);
	if (mc_store_open(dir, 0, &s, &err) || mc_record_new(&r))
		return 10;
	mci_store_set_grow_hook(s, gap_hook, g);
	if (mc_writer_begin(s, &w, &err) || mc_writer_seq_next(w, "union", &v) || v != 1)
		return 11;
	for (int i = 0; i < 2000 && !rc && !g->fired; i++) {
		snprintf(id, sizeof(id), "a%05d", i);
		if (fill(r, "hanoi", id, i))
			return 12;
		rc = mc_writer_put(w, r, &oc, &err);
	}
	if (!g->fired)
		return 13;   /* the map never had to grow */
	if (!rc)
		rc = mc_writer_commit(w, &err);
	else
		mc_writer_abort(w);
	if (rc) {
		printf("# the growing batch failed: %s\n", err.msg);
		return 14;
	}
	mc_record_free(r);
	mc_store_close(s);
	return 0;
}

static int child_intruder(const char *dir, int arg, void *ctx)
{
	struct gap *g = ctx;
	struct mc_store *s;
	struct mc_writer *w;
	struct mc_error err;
	uint64_t v;
	char c;

	(void)arg;
	alarm(60);
	if (mc_store_open(dir, 0, &s, &err))
		return 20;
	if (read(g->go[0], &c, 1) != 1)
		return 21;
	if (mc_writer_begin(s, &w, &err) || mc_writer_seq_next(w, "union", &v) ||
	    mc_writer_kv_put(w, "mg_test", "b", 1, "B", 1))
		return 22;
	if (mc_writer_commit(w, &err))
		return 23;
	c = (char)v;
	if (write(g->done[1], &c, 1) != 1)
		return 24;
	mc_store_close(s);
	return 0;
}

static void test_write_during_growth(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_reader *rd;
	struct mc_error err;
	struct gap g;
	char buf[32];
	uint64_t gen, v;
	pid_t a, b;
	int ra, rb;

	(void)state;
	assert_int_equal(mci_store_open_mapsize(d, MC_STORE_CREATE, 256 << 10, &s, &err), 0);
	mc_store_close(s);
	memset(&g, 0, sizeof(g));
	assert_int_equal(pipe(g.go), 0);
	assert_int_equal(pipe(g.done), 0);
	b = spawn(child_intruder, d, 0, &g);
	a = spawn(child_grower, d, 0, &g);
	ra = reap(a);
	rb = reap(b);
	assert_int_equal(ra, 0);
	assert_int_equal(rb, 0);
	/* B stepped the counter after A: A's value 1 held through its replay */
	assert_int_equal(read(g.done[0], buf, 1), 1);
	assert_int_equal(buf[0], 2);
	assert_int_equal(mc_store_open(d, 0, &s, &err), 0);
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	assert_int_equal(mc_reader_generation(rd, &gen), 0);
	assert_int_equal(gen, 2);   /* two batches wrote */
	assert_int_equal(mc_reader_kv_generation(rd, "mg_test", &v), 0);
	assert_int_equal(v, 1);
	mc_reader_end(rd);
	mc_store_close(s);
	for (int i = 0; i < 2; i++) {
		close(g.go[i]);
		close(g.done[i]);
	}
	free(d);
	tmpdir_free(t);
}

/* ---- many writers growing one tiny map ----
 * NPROC processes each commit NBATCH batches into a store whose map
 * starts at 256 KiB: each batch takes a union id from a shared counter,
 * records it in a kv database, and puts NREC records of its own source;
 * between batches each process reads (adopting the map others grew).
 * Nothing may fail, nothing be lost, no id be given twice. */

#define NPROC  6
#define NBATCH 12
#define NREC   25

static int child_writer(const char *dir, int me, void *ctx)
{
	struct mc_store *s;
	struct mc_writer *w;
	struct mc_reader *rd;
	struct mc_record *r;
	struct mc_error err;
	char src[16], id[32], key[32];
	uint64_t v;
	int oc;

	(void)ctx;
	alarm(120);
	mc_error_clear(&err);
	if (mc_store_open(dir, 0, &s, &err) || mc_record_new(&r))
		return 30;
	snprintf(src, sizeof(src), "p%d", me);
	for (int b = 0; b < NBATCH; b++) {
		if (mc_writer_begin(s, &w, &err))
			goto fail;
		if (mc_writer_seq_next(w, "union", &v)) {
			printf("# child %d: seq_next: %s\n", me, mc_writer_errmsg(w));
			return 31;
		}
		snprintf(key, sizeof(key), "%020llu", (unsigned long long)v);
		if (mc_writer_kv_put(w, "mg_ids", key, strlen(key), src, strlen(src))) {
			printf("# child %d: kv_put: %s\n", me, mc_writer_errmsg(w));
			return 32;
		}
		for (int i = 0; i < NREC; i++) {
			snprintf(id, sizeof(id), "b%03d-%03d", b, i);
			if (fill(r, src, id, b * NREC + i))
				return 33;
			if (mc_writer_put(w, r, &oc, &err) || oc != MC_PUT_NEW)
				goto fail;
		}
		if (mc_writer_commit(w, &err))
			goto fail;
		if (mc_reader_begin(s, &rd)) {
			printf("# child %d: reader: %s\n", me, mc_reader_errmsg(NULL));
			return 34;
		}
		snprintf(id, sizeof(id), "b%03d-%03d", b, NREC - 1);
		if (mc_reader_get(rd, src, id, r, &err))
			goto fail;
		mc_reader_end(rd);
	}
	mc_record_free(r);
	mc_store_close(s);
	return 0;
fail:
	printf("# child %d: %s\n", me, err.msg);
	return 35;
}

struct ids_seen {
	uint64_t n, last;
	int ordered;
};

static int ids_cb(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct ids_seen *is = ctx;
	char buf[32];
	uint64_t v;

	(void)val;
	(void)vlen;
	if (klen >= sizeof(buf))
		return 1;
	memcpy(buf, key, klen);
	buf[klen] = '\0';
	v = strtoull(buf, NULL, 10);
	if (v != is->last + 1)
		is->ordered = 0;
	is->last = v;
	is->n++;
	return 0;
}

static int sources_cb(void *ctx, const struct mc_source_counts *c)
{
	uint64_t *total = ctx;

	if (c->present != NBATCH * NREC || c->deleted)
		return 1;
	*total += c->present;
	return 0;
}

static void test_many_writers_grow(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_reader *rd;
	struct mc_error err;
	struct mc_store_info info;
	struct ids_seen is = { 0, 0, 1 };
	uint64_t total = 0, gen, kgen;
	pid_t pid[NPROC];
	int failed = 0;

	(void)state;
	assert_int_equal(mci_store_open_mapsize(d, MC_STORE_CREATE, 256 << 10, &s, &err), 0);
	mc_store_close(s);
	for (int i = 0; i < NPROC; i++)
		pid[i] = spawn(child_writer, d, i, NULL);
	for (int i = 0; i < NPROC; i++)
		failed += reap(pid[i]) != 0;
	assert_int_equal(failed, 0);

	assert_int_equal(mc_store_open(d, MC_STORE_RDONLY, &s, &err), 0);
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	assert_int_equal(mc_reader_info(rd, &info), 0);
	printf("# %d processes x %d batches: map grew from 256 KiB to %llu KiB\n", NPROC, NBATCH,
	       (unsigned long long)(info.map_size >> 10));
	assert_true(info.map_size > (256u << 10));
	assert_int_equal(info.records, NPROC * NBATCH * NREC);
	assert_int_equal(info.feed_entries, NPROC * NBATCH * NREC);
	assert_int_equal(mc_reader_feed_last(rd), NPROC * NBATCH * NREC);
	assert_int_equal(mc_reader_sources(rd, sources_cb, &total), 0);
	assert_int_equal(total, NPROC * NBATCH * NREC);
	/* every union id given once, 1..NPROC*NBATCH without a gap */
	assert_int_equal(mc_reader_kv_each(rd, "mg_ids", NULL, 0, ids_cb, &is), 0);
	assert_int_equal(is.n, NPROC * NBATCH);
	assert_true(is.ordered);
	assert_int_equal(is.last, NPROC * NBATCH);
	/* one generation per committed batch, whichever process made it */
	assert_int_equal(mc_reader_generation(rd, &gen), 0);
	assert_int_equal(gen, NPROC * NBATCH);
	assert_int_equal(mc_reader_kv_generation(rd, "mg_ids", &kgen), 0);
	assert_int_equal(kgen, NPROC * NBATCH);
	mc_reader_end(rd);
	mc_store_close(s);
	free(d);
	tmpdir_free(t);
}

/* ---- write generations ---- */

static void test_generation(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_writer *w;
	struct mc_reader *rd;
	struct mc_record *r;
	struct mc_error err;
	uint64_t g, k, v;
	int oc;

	(void)state;
	assert_int_equal(mc_record_new(&r), 0);
	assert_int_equal(mc_store_open(d, MC_STORE_CREATE, &s, &err), 0);
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	assert_int_equal(mc_reader_generation(rd, &g), 0);
	assert_int_equal(g, 0);
	assert_int_equal(mc_reader_kv_generation(rd, "mg_key", &k), 0);
	assert_int_equal(k, 0);
	assert_int_equal(mc_reader_kv_generation(rd, "mc_bad", &k), MC_E_USAGE);
	mc_reader_end(rd);

	/* a batch that writes: +1 once it wrote, whatever the number of writes */
	assert_int_equal(mc_writer_begin(s, &w, &err), 0);
	assert_int_equal(mc_writer_generation(w, &g), 0);
	assert_int_equal(g, 0);
	assert_int_equal(fill(r, "hanoi", "1", 1), 0);
	assert_int_equal(mc_writer_put(w, r, &oc, &err), 0);
	assert_int_equal(mc_writer_generation(w, &g), 0);
	assert_int_equal(g, 1);
	assert_int_equal(mc_writer_kv_put(w, "mg_key", "a", 1, "1", 1), 0);
	assert_int_equal(mc_writer_kv_put(w, "mg_key", "b", 1, "2", 1), 0);
	assert_int_equal(mc_writer_generation(w, &g), 0);
	assert_int_equal(g, 1);
	assert_int_equal(mc_writer_kv_generation(w, "mg_key", &k), 0);
	assert_int_equal(k, 1);
	assert_int_equal(mc_writer_kv_generation(w, "mg_other", &k), 0);
	assert_int_equal(k, 0);
	assert_int_equal(mc_writer_commit(w, &err), 0);

	/* a batch that writes nothing leaves it */
	assert_int_equal(mc_writer_begin(s, &w, &err), 0);
	assert_int_equal(mc_writer_put(w, r, &oc, &err), 0);
	assert_int_equal(oc, MC_PUT_UNCHANGED);
	assert_int_equal(mc_writer_kv_del(w, "mg_key", "zz", 2), MC_E_NOTFOUND);
	assert_int_equal(mc_writer_generation(w, &g), 0);
	assert_int_equal(g, 1);
	assert_int_equal(mc_writer_commit(w, &err), 0);
	/* nor does an aborted one */
	assert_int_equal(mc_writer_begin(s, &w, &err), 0);
	assert_int_equal(mc_writer_kv_put(w, "mg_key", "c", 1, "3", 1), 0);
	mc_writer_abort(w);

	assert_int_equal(mc_reader_begin(s, &rd), 0);
	assert_int_equal(mc_reader_generation(rd, &g), 0);
	assert_int_equal(g, 1);
	assert_int_equal(mc_reader_kv_generation(rd, "mg_key", &k), 0);
	assert_int_equal(k, 1);
	/* a batch that only touches records bumps the store's, not mg_key's */
	assert_int_equal(mc_writer_begin(s, &w, &err), 0);
	assert_int_equal(mc_writer_delete(w, "hanoi", "1", 1700000100, &oc, &err), 0);
	assert_int_equal(mc_writer_commit(w, &err), 0);
	/* the reader's snapshot does not move */
	assert_int_equal(mc_reader_generation(rd, &g), 0);
	assert_int_equal(g, 1);
	mc_reader_end(rd);
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	assert_int_equal(mc_reader_generation(rd, &g), 0);
	assert_int_equal(g, 2);
	assert_int_equal(mc_reader_kv_generation(rd, "mg_key", &k), 0);
	assert_int_equal(k, 1);
	mc_reader_end(rd);
	/* a counter step and a kv delete count */
	assert_int_equal(mc_writer_begin(s, &w, &err), 0);
	assert_int_equal(mc_writer_seq_next(w, "x", &v), 0);
	assert_int_equal(mc_writer_kv_del(w, "mg_key", "a", 1), 0);
	assert_int_equal(mc_writer_commit(w, &err), 0);
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	assert_int_equal(mc_reader_generation(rd, &g), 0);
	assert_int_equal(g, 3);
	assert_int_equal(mc_reader_kv_generation(rd, "mg_key", &k), 0);
	assert_int_equal(k, 2);
	mc_reader_end(rd);
	mc_store_close(s);
	mc_record_free(r);
	free(d);
	tmpdir_free(t);
}

/* ---- error messages ---- */

/* A failure without an mc_error argument leaves the operation, the
 * database and LMDB's reason in mc_writer_errmsg, and the commit of the
 * poisoned batch repeats it, never just "store error". */
static void test_error_messages(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_writer *w;
	struct mc_error err;
	int rc;

	(void)state;
	assert_int_equal(mc_store_open(d, MC_STORE_CREATE, &s, &err), 0);
	assert_int_equal(mc_writer_begin(s, &w, &err), 0);
	assert_string_equal(mc_writer_errmsg(w), "");
	assert_int_equal(mc_writer_kv_append(w, "mg_key", "b", 1, "", 0), 0);
	assert_int_equal(mc_writer_kv_append(w, "mg_key", "a", 1, "", 0), MC_E_USAGE);
	printf("# %s\n", mc_writer_errmsg(w));
	assert_non_null(strstr(mc_writer_errmsg(w), "mdb_put (MDB_APPEND) into mg_key: "
					       "MDB_KEYEXIST"));
	assert_int_equal(mc_writer_kv_put(w, "mg_key", "c", 1, "", 0), MC_E_USAGE);
	assert_non_null(strstr(mc_writer_errmsg(w), "an earlier error ended this batch: "
					       "mdb_put (MDB_APPEND) into mg_key"));
	mc_error_clear(&err);
	rc = mc_writer_commit(w, &err);
	assert_int_equal(rc, MC_E_USAGE);
	assert_non_null(strstr(err.msg, "mdb_put (MDB_APPEND) into mg_key: MDB_KEYEXIST"));
	/* a bad name: said so, the batch stays usable */
	assert_int_equal(mc_writer_begin(s, &w, &err), 0);
	assert_int_equal(mc_writer_kv_put(w, "mc_own", "k", 1, "v", 1), MC_E_USAGE);
	assert_non_null(strstr(mc_writer_errmsg(w), "bad database name mc_own"));
	assert_int_equal(mc_writer_kv_put(w, "mg_key", "k", 1, "v", 1), 0);
	assert_int_equal(mc_writer_commit(w, &err), 0);
	mc_store_close(s);
	free(d);
	tmpdir_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generation),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_write_during_growth),
		cmocka_unit_test(test_many_writers_grow),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
