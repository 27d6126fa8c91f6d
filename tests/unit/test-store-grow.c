/* test-store-grow.c — the store when its map fills (growth and replay,
 * at a put or at the commit, with readers open), when another process
 * reads, grows or writes, when a commit cannot be written, when RSS is
 * trimmed, and with several threads; real LMDB in temporary directories. */
#include "store-test.h"

/* Write n records in batches into store s; the second pass (pass 1) mixes
 * unchanged, changed, deleted, re-added and new records. Outcomes go to oc. */
static void write_workload(struct mc_store *s, struct mc_record *r, int n, int batch, int pass,
			   int *oc)
{
	struct mc_writer *w = NULL;
	char id[32];
	int k = 0;

	for (int i = 0; i < n; i++) {
		if (!w)
			w = wbegin(s);
		snprintf(id, sizeof(id), "r%06d", (i * 7919) % n);   /* not in key order */
		if (pass == 0 || i % 4 == 0) {
			fill_marc(r, i % 3 ? "hanoi" : "hue", id, i, pass && i % 8 == 0);
			oc[k++] = put(w, r);
		} else if (i % 4 == 1) {
			oc[k++] = del(w, i % 3 ? "hanoi" : "hue", id, 1800000000 + i);
		} else if (i % 4 == 2) {
			assert_int_equal(mc_writer_state_set(w, "test", id, "state value"), 0);
			oc[k++] = -1;
		} else {
			fill_marc(r, "new", id, i, 0);
			oc[k++] = put(w, r);
		}
		if ((i + 1) % batch == 0) {
			wcommit(w);
			w = NULL;
		}
	}
	if (w)
		wcommit(w);
}

struct each_pack {
	struct mc_store *other;
	struct mc_record *o;
	struct mc_buf a, b;
	size_t n;
};

static int compare_cb(void *ctx, struct mc_record *rec)
{
	struct each_pack *p = ctx;
	struct mc_reader *rd;
	struct mc_error err;

	assert_int_equal(mc_reader_begin(p->other, &rd), 0);
	assert_int_equal(mc_reader_get(rd, rec->source, rec->local_id, p->o, &err), 0);
	mc_reader_end(rd);
	assert_int_equal(mc_record_pack(rec, &p->a), 0);
	assert_int_equal(mc_record_pack(p->o, &p->b), 0);
	assert_int_equal(p->a.len, p->b.len);
	assert_memory_equal(p->a.data, p->b.data, p->a.len);
	p->n++;
	return 0;
}

/* A store that starts with a 256 KiB map grows it many times, transparently:
 * outcomes, feed, counts and records equal those of a store with a map big
 * enough from the start. */
static void test_map_growth(void **state)
{
	enum { N = 10000, BATCH = 1000 };
	char *t1 = tmpdir_new(), *d1 = store_path(t1), *t2 = tmpdir_new(), *d2 = store_path(t2);
	struct mc_store *tiny, *ref;
	struct mc_record *r = rec_new();
	struct mc_error err;
	struct mc_reader *rd;
	struct mc_store_info info;
	struct feed_seen f1 = { 0 }, f2 = { 0 };
	struct counts_seen c1, c2;
	struct each_pack ep;
	int *o1 = calloc(2 * N, sizeof(int)), *o2 = calloc(2 * N, sizeof(int));

	(void)state;
	assert_non_null(o1);
	assert_non_null(o2);
	assert_int_equal(mci_store_open_mapsize(d1, MC_STORE_CREATE, 256 << 10, &tiny, &err), 0);
	assert_int_equal(mci_store_open_mapsize(d2, MC_STORE_CREATE, 1ull << 30, &ref, &err), 0);
	write_workload(tiny, r, N, BATCH, 0, o1);
	write_workload(tiny, r, N, BATCH, 1, o1 + N);
	write_workload(ref, r, N, BATCH, 0, o2);
	write_workload(ref, r, N, BATCH, 1, o2 + N);
	printf("# tiny map grew %u times (%u full maps met at commit); reference grew %u times\n",
	       mci_store_grow_count(tiny, 0), mci_store_grow_count(tiny, 1), mci_store_grow_count(ref, 0));
	assert_true(mci_store_grow_count(tiny, 0) >= 5);
	assert_int_equal(mci_store_grow_count(ref, 0), 0);
	assert_memory_equal(o1, o2, 2 * N * sizeof(int));
	{
		int seen[5] = { 0 };

		for (int i = 0; i < 2 * N; i++)
			if (o1[i] >= 0)
				seen[o1[i]]++;
		assert_int_equal(seen[MC_PUT_NEW], N + N / 4);
		assert_true(seen[MC_PUT_UNCHANGED] > 0 && seen[MC_PUT_CHANGED] > 0 &&
			    seen[MC_PUT_DELETED] > 0);
	}

	get_feed(tiny, 0, 0, &f1);
	get_feed(ref, 0, 0, &f2);
	assert_int_equal(f1.n, f2.n);
	for (size_t i = 0; i < f1.n; i++) {
		assert_int_equal(f1.e[i].seq, i + 1);
		assert_int_equal(f1.e[i].seq, f2.e[i].seq);
		assert_int_equal(f1.e[i].op, f2.e[i].op);
		assert_string_equal(f1.e[i].key, f2.e[i].key);
	}
	get_counts(tiny, &c1);
	get_counts(ref, &c2);
	assert_int_equal(c1.n, 3);
	assert_int_equal(c1.n, c2.n);
	for (int i = 0; i < c1.n; i++) {
		assert_string_equal(c1.c[i].source, c2.c[i].source);
		assert_int_equal(c1.c[i].present, c2.c[i].present);
		assert_int_equal(c1.c[i].deleted, c2.c[i].deleted);
	}

	memset(&ep, 0, sizeof(ep));
	ep.other = ref;
	ep.o = rec_new();
	mc_buf_init(&ep.a, MC_STORE_VALUE_MAX);
	mc_buf_init(&ep.b, MC_STORE_VALUE_MAX);
	assert_int_equal(mc_reader_begin(tiny, &rd), 0);
	assert_int_equal(mc_reader_info(rd, &info), 0);
	assert_int_equal(mc_reader_each(rd, NULL, compare_cb, &ep, &err), 0);
	assert_int_equal(ep.n, info.records);
	assert_int_equal(info.records, N + N / 4);
	assert_int_equal(info.feed_entries, f1.n);
	assert_true(info.map_size > (256u << 10));
	assert_true(info.used_bytes <= info.map_size);
	mc_reader_end(rd);
	mc_store_close(tiny);

	/* the grown map size persists */
	assert_int_equal(mc_store_open(d1, MC_STORE_RDONLY, &tiny, &err), 0);
	assert_int_equal(mc_reader_begin(tiny, &rd), 0);
	{
		struct mc_store_info i2;

		assert_int_equal(mc_reader_info(rd, &i2), 0);
		assert_int_equal(i2.map_size, info.map_size);
		assert_int_equal(i2.records, info.records);
	}
	mc_reader_end(rd);
	mc_store_close(tiny);

	mc_buf_free(&ep.a);
	mc_buf_free(&ep.b);
	mc_record_free(ep.o);
	mc_store_close(ref);
	mc_record_free(r);
	free(f1.e);
	free(f2.e);
	free(o1);
	free(o2);
	free(d1);
	free(d2);
	tmpdir_free(t1);
	tmpdir_free(t2);
}

/* Batches of k small records with churn (changed values, freed pages) into
 * a store; outcomes appended to oc. */
static size_t churn(struct mc_store *s, struct mc_record *r, int k, int *oc)
{
	char id[32], title[300];
	size_t n = 0;

	for (int b = 0; b < 30; b++) {
		struct mc_writer *w = wbegin(s);

		for (int i = 0; i < k; i++) {
			snprintf(id, sizeof(id), "i%d", (i * 13 + b * 7) % (3 * k));
			mc_record_reset(r);
			r->source = "s";
			r->local_id = id;
			r->datestamp = b;
			memset(title, 'a' + b % 20, sizeof(title) - 1);
			title[sizeof(title) - 1] = '\0';
			title[b % 200] = 'Z';
			r->f.title = title;
			oc[n++] = put(w, r);
		}
		wcommit(w);
	}
	return n;
}

/* A full map met while committing (counts flush, LMDB's free list) is
 * handled like one met in a put. Which batch hits it depends on page
 * arithmetic, so try batch sizes until some do. */
static void test_map_full_at_commit(void **state)
{
	struct mc_record *r = rec_new();
	int *o1 = malloc(30 * 120 * sizeof(int)), *o2 = malloc(30 * 120 * sizeof(int));
	int hits = 0;

	(void)state;
	assert_non_null(o1);
	assert_non_null(o2);
	for (int k = 40; k <= 120 && hits < 3; k++) {
		char *t1 = tmpdir_new(), *d1 = store_path(t1), *t2 = tmpdir_new(), *d2 = store_path(t2);
		struct mc_store *tiny, *ref;
		struct mc_error err;
		struct feed_seen f1 = { 0 }, f2 = { 0 };
		struct counts_seen c1, c2;
		size_t n1, n2;

		assert_int_equal(mci_store_open_mapsize(d1, MC_STORE_CREATE, 64 << 10, &tiny, &err), 0);
		assert_int_equal(mci_store_open_mapsize(d2, MC_STORE_CREATE, 64 << 20, &ref, &err), 0);
		n1 = churn(tiny, r, k, o1);
		n2 = churn(ref, r, k, o2);
		assert_int_equal(n1, n2);
		assert_memory_equal(o1, o2, n1 * sizeof(int));
		get_feed(tiny, 0, 0, &f1);
		get_feed(ref, 0, 0, &f2);
		assert_int_equal(f1.n, f2.n);
		for (size_t i = 0; i < f1.n; i++) {
			assert_int_equal(f1.e[i].op, f2.e[i].op);
			assert_string_equal(f1.e[i].key, f2.e[i].key);
		}
		get_counts(tiny, &c1);
		get_counts(ref, &c2);
		assert_int_equal(c1.c[0].present, c2.c[0].present);
		if (mci_store_grow_count(tiny, 1))
			hits++;
		mc_store_close(tiny);
		mc_store_close(ref);
		free(f1.e);
		free(f2.e);
		free(d1);
		free(d2);
		tmpdir_free(t1);
		tmpdir_free(t2);
	}
	printf("# full map met at commit in %d workloads, all replayed correctly\n", hits);
	assert_true(hits > 0);
	free(o1);
	free(o2);
	mc_record_free(r);
}

/* With a reader open in this process the map cannot grow: the batch fails
 * with MC_E_FULL and the store keeps what was committed before. */
static void test_map_full_with_reader(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_record *r = rec_new();
	struct mc_writer *w;
	struct mc_reader *rd, *rd2;
	struct mc_error err;
	struct mc_store_info info;
	char id[32];
	int rc = 0, oc, i;

	(void)state;
	assert_int_equal(mci_store_open_mapsize(d, MC_STORE_CREATE, 256 << 10, &s, &err), 0);
	w = wbegin(s);
	fill_marc(r, "hanoi", "first", 0, 0);
	assert_int_equal(put(w, r), MC_PUT_NEW);
	wcommit(w);

	assert_int_equal(mc_reader_begin(s, &rd), 0);
	w = wbegin(s);
	for (i = 0; i < 2000 && rc == 0; i++) {
		snprintf(id, sizeof(id), "x%d", i);
		fill_marc(r, "hanoi", id, i, 0);
		mc_error_clear(&err);
		rc = mc_writer_put(w, r, &oc, &err);
	}
	if (rc == 0)
		rc = mc_writer_commit(w, &err);
	else
		assert_int_equal(mc_writer_commit(w, NULL), MC_E_FULL);   /* poisoned batch */
	assert_int_equal(rc, MC_E_FULL);
	assert_non_null(strstr(err.msg, "read transaction"));
	mc_reader_end(rd);

	assert_int_equal(mc_reader_begin(s, &rd2), 0);
	assert_int_equal(mc_reader_info(rd2, &info), 0);
	assert_int_equal(info.records, 1);
	assert_int_equal(mc_reader_feed_last(rd2), 1);
	assert_int_equal(mc_reader_get(rd2, "hanoi", "x0", r, &err), MC_E_NOTFOUND);
	mc_reader_end(rd2);

	/* without the reader the same batch goes through */
	w = wbegin(s);
	for (i = 0; i < 2000; i++) {
		snprintf(id, sizeof(id), "x%d", i);
		fill_marc(r, "hanoi", id, i, 0);
		assert_int_equal(put(w, r), MC_PUT_NEW);
	}
	wcommit(w);
	assert_true(mci_store_grow_count(s, 0) > 0);
	mc_store_close(s);
	mc_record_free(r);
	free(d);
	tmpdir_free(t);
}



/* Child-side check: open read-only and look at what is committed. */
static int child_check(const char *dir, int want, int absent)
{
	struct mc_store *s;
	struct mc_reader *rd;
	struct mc_record *r;
	struct mc_error err;
	char id[32];
	int rc = 0;

	alarm(20);
	if (mc_store_open(dir, MC_STORE_RDONLY, &s, &err))
		return 10;
	if (mc_record_new(&r) || mc_reader_begin(s, &rd))
		return 11;
	for (int i = 0; i < want && !rc; i++) {
		snprintf(id, sizeof(id), "r%06d", i);
		if (mc_reader_get(rd, "hanoi", id, r, &err) || r->datestamp != 1700000000 + i)
			rc = 12;
	}
	snprintf(id, sizeof(id), "r%06d", absent);
	if (!rc && mc_reader_get(rd, "hanoi", id, r, &err) != MC_E_NOTFOUND)
		rc = 13;
	if (!rc && mc_reader_feed_last(rd) != (uint64_t)want)
		rc = 14;
	mc_reader_end(rd);
	mc_record_free(r);
	mc_store_close(s);
	if (rc)
		return rc;
	/* a writable open does not wait for the other process's batch */
	if (mc_store_open(dir, 0, &s, &err))
		return 15;
	mc_store_close(s);
	return 0;
}



/* Another process opens the store read-only while this one is in the middle
 * of a write batch: it sees the last committed state. */
static void test_rdonly_while_writing(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_record *r = rec_new();
	struct mc_writer *w;
	struct mc_error err;
	char id[32];

	(void)state;
	assert_int_equal(mc_store_open(d, MC_STORE_CREATE, &s, &err), 0);
	put_range(s, r, 0, 100);
	w = wbegin(s);
	for (int i = 100; i < 200; i++) {
		snprintf(id, sizeof(id), "r%06d", i);
		fill_marc(r, "hanoi", id, i, 0);
		assert_int_equal(put(w, r), MC_PUT_NEW);
	}
	assert_int_equal(run_child(child_check, d, 100, 150), 0);
	wcommit(w);
	assert_int_equal(run_child(child_check, d, 200, 250), 0);
	mc_store_close(s);
	mc_record_free(r);
	free(d);
	tmpdir_free(t);
}

static long rss_file_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "RssFile:", 8))
			kb = strtol(line + 8, NULL, 10);
	fclose(f);
	return kb;
}

struct walk_check {
	int n;
	struct mc_record *want;
	struct mc_store *s;
	struct mc_writer *w;
};

static int walk_check_cb(void *ctx, struct mc_record *rec)
{
	struct walk_check *c = ctx;
	char id[32];

	snprintf(id, sizeof(id), "r%06d", c->n);
	assert_string_equal(rec->local_id, id);
	fill_marc(c->want, "hanoi", id, c->n, 0);
	assert_record_eq(c->want, rec);
	c->n++;
	return 0;
}

/* Dropping the map's page mappings (to bound RSS) while a cursor walks and
 * while a reader of the same handle stays open changes nothing visible. */
static void test_trim(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_record *r = rec_new();
	struct mc_reader *rd, *old;
	struct mc_error err;
	struct walk_check wc;
	long before, after;

	(void)state;
	assert_int_equal(mc_store_open(d, MC_STORE_CREATE, &s, &err), 0);
	put_range(s, r, 0, 5000);
	/* default threshold: a small store is never trimmed */
	assert_int_equal(mci_store_trim_count(s), 0);

	mci_store_set_trim(s, 0);
	assert_int_equal(mc_reader_begin(s, &old), 0);   /* an older snapshot stays open */
	put_range(s, r, 5000, 6000);                     /* commit trims */
	assert_int_equal(mci_store_trim_count(s), 1);

	mci_store_set_trim(s, UINT64_MAX);
	memset(&wc, 0, sizeof(wc));
	wc.want = rec_new();
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	assert_int_equal(mc_reader_each(rd, "hanoi", walk_check_cb, &wc, &err), 0);
	assert_int_equal(wc.n, 6000);
	before = rss_file_kb();
	/* walk again, trimming every 1,024 records */
	mci_store_set_trim(s, 0);
	wc.n = 0;
	assert_int_equal(mc_reader_each(rd, "hanoi", walk_check_cb, &wc, &err), 0);
	assert_int_equal(wc.n, 6000);
	after = rss_file_kb();
	assert_int_equal(mci_store_trim_count(s), 1 + 5);
	printf("# RssFile after a full walk: %ld kB untrimmed, %ld kB trimmed\n", before, after);
	assert_true(after < before);
	mc_reader_end(rd);

	/* the old snapshot still reads its own view */
	assert_int_equal(mc_reader_get(old, "hanoi", "r004999", r, &err), 0);
	assert_int_equal(mc_reader_get(old, "hanoi", "r005000", r, &err), MC_E_NOTFOUND);
	mc_reader_end(old);

	mc_record_free(wc.want);
	mc_store_close(s);
	mc_record_free(r);
	free(d);
	tmpdir_free(t);
}

/* Child: write records from..to with its own handle (the map grows). */
static int child_grow(const char *dir, int from, int to)
{
	struct mc_store *s;
	struct mc_record *r;
	struct mc_writer *w;
	struct mc_error err;
	char id[32];
	int oc;

	alarm(60);
	if (mc_store_open(dir, 0, &s, &err) || mc_record_new(&r))
		return 30;
	if (mc_writer_begin(s, &w, &err))
		return 31;
	for (int i = from; i < to; i++) {
		snprintf(id, sizeof(id), "r%06d", i);
		fill_marc(r, "hanoi", id, i, 0);
		if (mc_writer_put(w, r, &oc, &err) || oc != MC_PUT_NEW)
			return 32;
	}
	if (mc_writer_commit(w, &err))
		return 33;
	if (mci_store_grow_count(s, 0) == 0)
		return 34;
	mc_record_free(r);
	mc_store_close(s);
	return 0;
}

/* A long-lived read-only process (the API server) adopts a map that the
 * harvester process grew after it opened the store. */
static void test_map_resized_by_other_process(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s, *ro;
	struct mc_record *r = rec_new();
	struct mc_reader *rd;
	struct mc_error err;
	struct mc_store_info info;

	(void)state;
	assert_int_equal(mci_store_open_mapsize(d, MC_STORE_CREATE, 256 << 10, &s, &err), 0);
	put_range(s, r, 0, 10);
	mc_store_close(s);

	assert_int_equal(mc_store_open(d, MC_STORE_RDONLY, &ro, &err), 0);
	assert_int_equal(mc_reader_begin(ro, &rd), 0);
	assert_int_equal(mc_reader_info(rd, &info), 0);
	assert_int_equal(info.map_size, 256 << 10);
	mc_reader_end(rd);

	assert_int_equal(run_child(child_grow, d, 10, 3000), 0);

	assert_int_equal(mc_reader_begin(ro, &rd), 0);
	assert_int_equal(mc_reader_info(rd, &info), 0);
	assert_true(info.map_size > (256u << 10));
	assert_int_equal(info.records, 3000);
	assert_int_equal(mc_reader_get(rd, "hanoi", "r002999", r, &err), 0);
	assert_int_equal(r->datestamp, 1700000000 + 2999);
	assert_int_equal(mc_reader_feed_last(rd), 3000);
	mc_reader_end(rd);
	mc_store_close(ro);
	mc_record_free(r);
	free(d);
	tmpdir_free(t);
}

/* Child: commit a batch under a file size limit; must fail cleanly. */
static int child_fsize(const char *dir, int from, int to)
{
	struct mc_store *s;
	struct mc_record *r;
	struct mc_writer *w;
	struct mc_error err;
	struct stat st;
	struct rlimit rl;
	char path[512], id[32];
	int rc, oc;

	alarm(60);
	signal(SIGXFSZ, SIG_IGN);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (stat(path, &st))
		return 20;
	if (mc_store_open(dir, 0, &s, &err) || mc_record_new(&r))
		return 21;
	rl.rlim_cur = rl.rlim_max = (rlim_t)st.st_size + (64 << 10);
	if (setrlimit(RLIMIT_FSIZE, &rl))
		return 22;
	if (mc_writer_begin(s, &w, &err))
		return 23;
	for (int i = from; i < to; i++) {
		snprintf(id, sizeof(id), "r%06d", i);
		fill_marc(r, "hanoi", id, i, 0);
		if (mc_writer_put(w, r, &oc, &err) || oc != MC_PUT_NEW)
			return 24;
	}
	mc_error_clear(&err);
	rc = mc_writer_commit(w, &err);
	if (rc != MC_E_FULL) {
		printf("# commit under RLIMIT_FSIZE returned %d: %s\n", rc, err.msg);
		fflush(stdout);
		return 25;
	}
	if (!strstr(err.msg, "commit"))
		return 26;
	printf("# failed commit reported: %s\n", err.msg);
	fflush(stdout);
	mc_record_free(r);
	mc_store_close(s);
	return 0;
}

static void test_commit_fails_fsize(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_record *r = rec_new();
	struct mc_reader *rd;
	struct mc_error err;
	struct counts_seen cs;
	struct mc_store_info info;
	char id[32];

	(void)state;
	assert_int_equal(mc_store_open(d, MC_STORE_CREATE, &s, &err), 0);
	put_range(s, r, 0, 300);
	mc_store_close(s);

	assert_int_equal(run_child(child_fsize, d, 300, 3000), 0);

	/* everything before is there; nothing of the failed batch */
	assert_int_equal(mc_store_open(d, 0, &s, &err), 0);
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "r%06d", i);
		assert_int_equal(mc_reader_get(rd, "hanoi", id, r, &err), 0);
		assert_int_equal(r->datestamp, 1700000000 + i);
	}
	assert_int_equal(mc_reader_get(rd, "hanoi", "r000300", r, &err), MC_E_NOTFOUND);
	assert_int_equal(mc_reader_info(rd, &info), 0);
	assert_int_equal(info.records, 300);
	assert_int_equal(mc_reader_feed_last(rd), 300);
	mc_reader_end(rd);
	get_counts(s, &cs);
	assert_int_equal(cs.c[0].present, 300);
	/* and the store takes the same batch now */
	put_range(s, r, 300, 3000);
	get_counts(s, &cs);
	assert_int_equal(cs.c[0].present, 3000);
	mc_store_close(s);
	mc_record_free(r);
	free(d);
	tmpdir_free(t);
}


/* One batch of kv puts, deletes, clears, counters and records into a
 * 256 KiB map: it grows while the batch runs and the result equals that
 * of a store with a large map. */
static void kv_workload(struct mc_store *s, struct mc_record *r, uint64_t *seqs)
{
	struct mc_writer *w = wbegin(s);
	char k[32], v[400];
	int n = 0;

	for (int i = 0; i < 3000; i++) {
		snprintf(k, sizeof(k), "key%05d", (i * 7919) % 3000);
		memset(v, 'a' + i % 26, sizeof(v));
		snprintf(v, 20, "val%d", i);
		assert_int_equal(mc_writer_kv_put(w, i % 2 ? "mg_a" : "mg_b", k, strlen(k), v,
						  sizeof(v)), 0);
		if (i % 5 == 0)
			assert_int_equal(mc_writer_seq_next(w, "ctr", &seqs[n++]), 0);
		if (i % 7 == 0 && i) {
			snprintf(k, sizeof(k), "key%05d", ((i - 2) * 7919) % 3000);
			assert_int_equal(mc_writer_kv_del(w, i % 2 ? "mg_a" : "mg_b", k, strlen(k)), 0);
		}
		if (i == 1500)
			assert_int_equal(mc_writer_kv_clear(w, "mg_b"), 0);
		if (i % 100 == 0) {
			snprintf(k, sizeof(k), "r%05d", i);
			fill_marc(r, "hue", k, i, 0);
			assert_int_equal(put(w, r), MC_PUT_NEW);
		}
	}
	wcommit(w);
}

struct kv_dump {
	struct mc_buf b;
	size_t n;
};

static int dump_cb(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct kv_dump *d = ctx;

	d->n++;
	if (mc_buf_add(&d->b, key, klen) || mc_buf_addc(&d->b, '=') ||
	    mc_buf_add(&d->b, val, vlen) || mc_buf_addc(&d->b, '\n'))
		return 1;
	return 0;
}

static void kv_dump_db(struct mc_store *s, const char *db, struct kv_dump *d)
{
	struct mc_reader *rd;

	mc_buf_init(&d->b, 64u << 20);
	d->n = 0;
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	assert_int_equal(mc_reader_kv_each(rd, db, NULL, 0, dump_cb, d), 0);
	mc_reader_end(rd);
}

static void test_kv_growth_replay(void **state)
{
	char *t1 = tmpdir_new(), *d1 = store_path(t1), *t2 = tmpdir_new(), *d2 = store_path(t2);
	struct mc_store *tiny, *ref;
	struct mc_record *r = rec_new();
	struct mc_error err;
	uint64_t s1[700], s2[700];
	const char *dbs[] = { "mg_a", "mg_b" };

	(void)state;
	assert_int_equal(mci_store_open_mapsize(d1, MC_STORE_CREATE, 256 << 10, &tiny, &err), 0);
	assert_int_equal(mci_store_open_mapsize(d2, MC_STORE_CREATE, 1ull << 30, &ref, &err), 0);
	kv_workload(tiny, r, s1);
	kv_workload(ref, r, s2);
	printf("# kv batch into a 256 KiB map: grew %u times\n", mci_store_grow_count(tiny, 0));
	assert_true(mci_store_grow_count(tiny, 0) >= 3);
	assert_int_equal(mci_store_grow_count(ref, 0), 0);
	assert_memory_equal(s1, s2, 600 * sizeof(uint64_t));
	for (int i = 0; i < 600; i++)
		assert_int_equal(s1[i], (uint64_t)i + 1);
	for (int i = 0; i < 2; i++) {
		struct kv_dump a, b;

		kv_dump_db(tiny, dbs[i], &a);
		kv_dump_db(ref, dbs[i], &b);
		assert_true(a.n > 100);
		assert_int_equal(a.n, b.n);
		assert_int_equal(a.b.len, b.b.len);
		assert_memory_equal(a.b.data, b.b.data, a.b.len);
		mc_buf_free(&a.b);
		mc_buf_free(&b.b);
	}
	{
		struct mc_reader *rd;
		struct mc_store_info info;

		assert_int_equal(mc_reader_begin(tiny, &rd), 0);
		assert_int_equal(mc_reader_info(rd, &info), 0);
		assert_int_equal(info.records, 30);
		assert_int_equal(mc_reader_feed_last(rd), 30);
		mc_reader_end(rd);
	}
	mc_store_close(tiny);
	mc_store_close(ref);
	mc_record_free(r);
	free(d1);
	free(d2);
	tmpdir_free(t1);
	tmpdir_free(t2);
}

/* ---- threads ---- */

enum { TH_N = 8, TH_BATCHES = 50, TH_PER = 20 };

struct th_arg {
	struct mc_store *s;
	int idx;
	int rc;          /* 0, or where it failed */
	char msg[600];
};

static void *th_writer(void *p)
{
	struct th_arg *a = p;
	struct mc_record *r = NULL;
	struct mc_error err;
	char src[16], id[32];

	snprintf(src, sizeof(src), "src%d", a->idx);
	if (mc_record_new(&r)) {
		a->rc = 1;
		return NULL;
	}
	for (int b = 0; b < TH_BATCHES && !a->rc; b++) {
		struct mc_writer *w = NULL;
		uint64_t v;
		int oc;

		if (mc_writer_begin(a->s, &w, &err)) {
			a->rc = 2;
			snprintf(a->msg, sizeof(a->msg), "begin: %s", err.msg);
			break;
		}
		for (int i = 0; i < TH_PER && !a->rc; i++) {
			snprintf(id, sizeof(id), "b%02d-%02d", b, i);
			fill_marc(r, src, id, b * TH_PER + i, 0);
			if (mc_writer_put(w, r, &oc, &err) || oc != MC_PUT_NEW) {
				a->rc = 3;
				snprintf(a->msg, sizeof(a->msg), "put: %s", err.msg);
			}
		}
		if (!a->rc && (mc_writer_seq_next(w, "threads", &v) ||
			       mc_writer_kv_put(w, "mg_threads", src, strlen(src), id, strlen(id))))
			a->rc = 4;
		if (a->rc) {
			mc_writer_abort(w);
			break;
		}
		if (mc_writer_commit(w, &err)) {
			a->rc = 5;
			snprintf(a->msg, sizeof(a->msg), "commit: %s", err.msg);
		}
	}
	mc_record_free(r);
	return NULL;
}

struct th_reader {
	struct mc_store *s;
	int stop;
	int rc;
	unsigned long reads;
};

/* Short read transactions while the writers grow the map. */
static void *th_read(void *p)
{
	struct th_reader *a = p;

	while (!__atomic_load_n(&a->stop, __ATOMIC_SEQ_CST) && !a->rc) {
		struct mc_reader *rd;
		struct mc_store_info info;
		const void *v;
		size_t vn;
		int rc;

		if (mc_reader_begin(a->s, &rd)) {
			a->rc = 1;
			break;
		}
		if (mc_reader_info(rd, &info))
			a->rc = 2;
		rc = mc_reader_kv_get(rd, "mg_threads", "src0", 4, &v, &vn);
		if (rc && rc != MC_E_NOTFOUND)
			a->rc = 3;
		mc_reader_end(rd);
		a->reads++;
	}
	return NULL;
}

/* 8 threads each commit 50 batches into their own source, with a tiny
 * map and readers running: every record present, counts right, the map
 * grew. */
static void test_threads(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_error err;
	struct th_arg args[TH_N];
	pthread_t th[TH_N], rt[2];
	struct th_reader ra[2];
	struct counts_seen cs;
	struct mc_reader *rd;
	struct mc_record *r = rec_new();
	struct mc_store_info info;
	char src[16], id[32];

	(void)state;
	assert_int_equal(mci_store_open_mapsize(d, MC_STORE_CREATE, 256 << 10, &s, &err), 0);
	for (int i = 0; i < 2; i++) {
		memset(&ra[i], 0, sizeof(ra[i]));
		ra[i].s = s;
		assert_int_equal(pthread_create(&rt[i], NULL, th_read, &ra[i]), 0);
	}
	for (int i = 0; i < TH_N; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].s = s;
		args[i].idx = i;
		assert_int_equal(pthread_create(&th[i], NULL, th_writer, &args[i]), 0);
	}
	for (int i = 0; i < TH_N; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (args[i].rc)
			fprintf(stderr, "thread %d failed (%d): %s\n", i, args[i].rc, args[i].msg);
		assert_int_equal(args[i].rc, 0);
	}
	for (int i = 0; i < 2; i++) {
		__atomic_store_n(&ra[i].stop, 1, __ATOMIC_SEQ_CST);
		assert_int_equal(pthread_join(rt[i], NULL), 0);
		assert_int_equal(ra[i].rc, 0);
	}
	printf("# %d threads x %d batches: map grew %u times; readers did %lu + %lu snapshots\n",
	       TH_N, TH_BATCHES, mci_store_grow_count(s, 0), ra[0].reads, ra[1].reads);
	assert_true(mci_store_grow_count(s, 0) >= 3);

	get_counts(s, &cs);
	assert_int_equal(cs.n, TH_N);
	for (int i = 0; i < TH_N; i++) {
		snprintf(src, sizeof(src), "src%d", i);
		assert_string_equal(cs.c[i].source, src);
		assert_int_equal(cs.c[i].present, TH_BATCHES * TH_PER);
		assert_int_equal(cs.c[i].deleted, 0);
	}
	assert_int_equal(mc_reader_begin(s, &rd), 0);
	assert_int_equal(mc_reader_info(rd, &info), 0);
	assert_int_equal(info.records, TH_N * TH_BATCHES * TH_PER);
	assert_int_equal(mc_reader_feed_last(rd), TH_N * TH_BATCHES * TH_PER);
	for (int i = 0; i < TH_N; i++) {
		snprintf(src, sizeof(src), "src%d", i);
		for (int b = 0; b < TH_BATCHES; b++)
			for (int j = 0; j < TH_PER; j++) {
				snprintf(id, sizeof(id), "b%02d-%02d", b, j);
				assert_int_equal(mc_reader_get(rd, src, id, r, &err), 0);
				assert_int_equal(r->datestamp, 1700000000 + b * TH_PER + j);
			}
		rkv_expect(rd, "mg_threads", src, "b49-19");
	}
	mc_reader_end(rd);
	{
		struct mc_writer *w = wbegin(s);
		uint64_t v;

		assert_int_equal(mc_writer_seq_next(w, "threads", &v), 0);
		assert_int_equal(v, TH_N * TH_BATCHES + 1);
		mc_writer_abort(w);
	}
	mc_store_close(s);
	mc_record_free(r);
	free(d);
	tmpdir_free(t);
}

struct hold_arg {
	struct mc_store *s;
	int ms;
	int started;
	int ending;   /* set just before the reader ends */
	int rc;
};

static void *th_hold_reader(void *p)
{
	struct hold_arg *a = p;
	struct mc_reader *rd;
	struct timespec ts = { a->ms / 1000, (long)(a->ms % 1000) * 1000000L };

	a->rc = mc_reader_begin(a->s, &rd);
	__atomic_store_n(&a->started, 1, __ATOMIC_SEQ_CST);
	if (a->rc)
		return NULL;
	nanosleep(&ts, NULL);
	__atomic_store_n(&a->ending, 1, __ATOMIC_SEQ_CST);
	mc_reader_end(rd);
	return NULL;
}

/* Fill a batch until the 256 KiB map must grow; return the batch's rc. */
static int fill_until_growth(struct mc_store *s, struct mc_record *r, const char *prefix,
			     struct mc_error *err)
{
	struct mc_writer *w = wbegin(s);
	char id[32];
	int rc = 0, oc;

	for (int i = 0; i < 600 && rc == 0; i++) {
		snprintf(id, sizeof(id), "%s%d", prefix, i);
		fill_marc(r, "hanoi", id, i, 0);
		mc_error_clear(err);
		rc = mc_writer_put(w, r, &oc, err);
	}
	if (rc == 0)
		return mc_writer_commit(w, err);
	mc_writer_abort(w);
	return rc;
}

/* A growth waits for a read transaction of another thread to end; one
 * held longer than the wait fails the batch with MC_E_FULL. */
static void test_growth_waits_for_readers(void **state)
{
	char *t = tmpdir_new(), *d = store_path(t);
	struct mc_store *s;
	struct mc_record *r = rec_new();
	struct mc_error err;
	struct hold_arg ha;
	pthread_t th;
	int rc, ended;

	(void)state;
	assert_int_equal(mci_store_open_mapsize(d, MC_STORE_CREATE, 256 << 10, &s, &err), 0);

	memset(&ha, 0, sizeof(ha));
	ha.s = s;
	ha.ms = 400;
	assert_int_equal(pthread_create(&th, NULL, th_hold_reader, &ha), 0);
	while (!__atomic_load_n(&ha.started, __ATOMIC_SEQ_CST))
		usleep(1000);
	rc = fill_until_growth(s, r, "a", &err);
	/* the growth could only run once the reader was ending */
	ended = __atomic_load_n(&ha.ending, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(ha.rc, 0);
	if (rc)
		fprintf(stderr, "batch: %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_true(mci_store_grow_count(s, 0) >= 1);
	assert_true(ended);

	/* a reader held past the wait */
	mci_store_set_grow_wait(s, 100);
	memset(&ha, 0, sizeof(ha));
	ha.s = s;
	ha.ms = 1500;
	assert_int_equal(pthread_create(&th, NULL, th_hold_reader, &ha), 0);
	while (!__atomic_load_n(&ha.started, __ATOMIC_SEQ_CST))
		usleep(1000);
	rc = fill_until_growth(s, r, "b", &err);
	assert_int_equal(rc, MC_E_FULL);
	assert_non_null(strstr(err.msg, "read transaction"));
	assert_int_equal(pthread_join(th, NULL), 0);
	/* and once it ended the same batch goes through */
	assert_int_equal(fill_until_growth(s, r, "b", &err), 0);

	mc_store_close(s);
	mc_record_free(r);
	free(d);
	tmpdir_free(t);
}

struct wait_arg {
	struct mc_store *s;
	int started, rc, saw;
	int committing;   /* set by the first batch just before its commit */
	int after;        /* the second batch began after that */
};

static void *th_second_writer(void *p)
{
	struct wait_arg *a = p;
	struct mc_writer *w;
	struct mc_record *r = NULL;
	struct mc_error err;

	__atomic_store_n(&a->started, 1, __ATOMIC_SEQ_CST);
	a->rc = mc_writer_begin(a->s, &w, &err);
	a->after = __atomic_load_n(&a->committing, __ATOMIC_SEQ_CST);
	if (a->rc)
		return NULL;
	if (mc_record_new(&r) == 0) {
		a->saw = mc_writer_get(w, "hanoi", "first", r, &err) == 0;
		mc_record_free(r);
	}
	a->rc = mc_writer_commit(w, &err);
	return NULL;
}

/* A batch begun in another thread waits for the open one to end (the
 * process-wide write lock), then sees what it committed; the thread that
 * holds a batch cannot begin a second one. */
static void test_second_writer_waits(void **state)
{
	struct fixture *fx = *state;
	struct mc_writer *w, *w2 = NULL;
	struct mc_error err;
	struct wait_arg wa;
	pthread_t th;

	w = wbegin(fx->s);
	fill_marc(fx->r, "hanoi", "first", 1, 0);
	assert_int_equal(put(w, fx->r), MC_PUT_NEW);
	assert_int_equal(mc_writer_begin(fx->s, &w2, &err), MC_E_USAGE);
	assert_null(w2);
	memset(&wa, 0, sizeof(wa));
	wa.s = fx->s;
	assert_int_equal(pthread_create(&th, NULL, th_second_writer, &wa), 0);
	while (!__atomic_load_n(&wa.started, __ATOMIC_SEQ_CST))
		usleep(1000);
	usleep(100000);   /* give it the chance to get in the way */
	__atomic_store_n(&wa.committing, 1, __ATOMIC_SEQ_CST);
	wcommit(w);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(wa.rc, 0);
	assert_true(wa.after);
	assert_true(wa.saw);
	/* and after both, this thread can begin again */
	w = wbegin(fx->s);
	mc_writer_abort(w);
}

/* Child: create a kv database (another process) and put a pair. */
static int child_kv(const char *dir, int a, int b)
{
	struct mc_store *s;
	struct mc_writer *w;
	struct mc_error err;

	(void)a;
	(void)b;
	alarm(20);
	if (mc_store_open(dir, 0, &s, &err) || mc_writer_begin(s, &w, &err))
		return 30;
	if (mc_writer_kv_put(w, "mg_child", "k", 1, "from child", 10))
		return 31;
	if (mc_writer_commit(w, &err))
		return 32;
	mc_store_close(s);
	return 0;
}

/* A database created by another process after this one opened the store
 * is seen by readers and writers begun afterwards. */
static void test_kv_other_process(void **state)
{
	struct fixture *fx = *state;
	struct mc_writer *w;
	struct mc_reader *rd, *old;

	w = wbegin(fx->s);
	kv_put_s(w, "mg_parent", "k", "from parent");
	wcommit(w);
	assert_int_equal(mc_reader_begin(fx->s, &old), 0);
	assert_int_equal(run_child(child_kv, fx->dir, 0, 0), 0);
	rkv_expect(old, "mg_child", "k", NULL);
	assert_int_equal(mc_reader_begin(fx->s, &rd), 0);
	rkv_expect(rd, "mg_child", "k", "from child");
	rkv_expect(rd, "mg_parent", "k", "from parent");
	rkv_expect(old, "mg_child", "k", NULL);   /* still not in the old snapshot */
	mc_reader_end(rd);
	mc_reader_end(old);
	w = wbegin(fx->s);
	wkv_expect(w, "mg_child", "k", "from child");
	kv_put_s(w, "mg_child", "k2", "parent again");
	wcommit(w);
	assert_int_equal(mc_reader_begin(fx->s, &rd), 0);
	rkv_expect(rd, "mg_child", "k2", "parent again");
	mc_reader_end(rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_growth),
		cmocka_unit_test(test_map_full_at_commit),
		cmocka_unit_test(test_map_full_with_reader),
		cmocka_unit_test(test_rdonly_while_writing),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_map_resized_by_other_process),
		cmocka_unit_test(test_commit_fails_fsize),
		cmocka_unit_test(test_kv_growth_replay),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_growth_waits_for_readers),
		cmocka_unit_test_setup_teardown(test_kv_other_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_writer_waits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
