/* bench/store-write.c — figures for the store's writer: records/s of
 * pack + put + commit, in batches of 1,000, for new records and for the
 * same records again (the "unchanged" path), with ordered and random keys,
 * under the three sync modes (LMDB's default, MDB_NOMETASYNC, MDB_NOSYNC),
 * and the peak RSS of each run (one child process per configuration).
 *
 *   build/bench/store-write [N]      N records per run (default 200,000)
 *
 * Moved here from the unit suite, which asserts behaviour, not speed. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mc-buf.h"
#include "mc-extract.h"
#include "mc-record.h"
#include "mc-store.h"
#include "store-internal.h"

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *t)
{
	nftw(t, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* One subfield; 0 or -1. */
static int sub(struct mc_record *r, struct mc_field *f, char code, const char *v)
{
	return mc_marc_add_sub(r, f, code, v, strlen(v)) ? -1 : 0;
}

/* A realistic MARC record (about 1.5 KB packed), its fields extracted as
 * an import would. 0 or -1. */
static int fill(struct mc_record *r, const char *source, const char *id, int i)
{
	struct mc_field *f;
	char b[128];
	int bad = 0;

	mc_record_reset(r);
	r->source = mc_arena_strdup(r->arena, source);
	r->local_id = mc_arena_strdup(r->arena, id);
	r->status = MC_REC_PRESENT;
	r->datestamp = 1700000000 + i;
	r->encoding = mc_arena_strdup(r->arena, i % 3 ? "utf-8" : "tcvn3");
	if (!r->source || !r->local_id || !r->encoding ||
	    mc_marc_add_control(r, "001", id, strlen(id)))
		return -1;
	memcpy(r->marc->leader, "01234nam a2200301 a 4500", 24);
	bad |= mc_marc_add_control(r, "008", "200101s2019    vm a          000 0 vie d", 40);
	bad |= mc_marc_add_data(r, "020", ' ', ' ', &f);
	snprintf(b, sizeof(b), "978604%07d", i);
	bad |= sub(r, f, 'a', b) | sub(r, f, 'c', "85000đ");
	bad |= mc_marc_add_data(r, "100", '1', ' ', &f);
	bad |= sub(r, f, 'a', "Nguyễn Văn Trường") | sub(r, f, 'd', "1945-2010");
	bad |= mc_marc_add_data(r, "245", '1', '0', &f);
	snprintf(b, sizeof(b), "Lịch sử Việt Nam tập %d :", i);
	bad |= sub(r, f, 'a', b) | sub(r, f, 'b', "từ nguồn gốc đến thế kỷ XIX /") |
	       sub(r, f, 'c', "Nguyễn Văn Trường chủ biên ; Trần Thị Hương, Lê Đức Anh");
	bad |= mc_marc_add_data(r, "260", ' ', ' ', &f);
	bad |= sub(r, f, 'a', "Hà Nội :") | sub(r, f, 'b', "Nxb. Khoa học xã hội,") |
	       sub(r, f, 'c', "2019");
	bad |= mc_marc_add_data(r, "300", ' ', ' ', &f);
	bad |= sub(r, f, 'a', "535 tr. :") | sub(r, f, 'b', "minh họa ;") | sub(r, f, 'c', "24 cm");
	bad |= mc_marc_add_data(r, "500", ' ', ' ', &f);
	bad |= sub(r, f, 'a', "ĐTTS ghi: Viện Hàn lâm Khoa học xã hội Việt Nam. Viện Sử học");
	bad |= mc_marc_add_data(r, "520", ' ', ' ', &f);
	bad |= sub(r, f, 'a', "Trình bày lịch sử Việt Nam từ thời tiền sử qua các triều đại "
		   "phong kiến đến thế kỷ XIX");
	bad |= mc_marc_add_data(r, "650", ' ', '7', &f);
	bad |= sub(r, f, 'a', "Lịch sử") | sub(r, f, 'z', "Việt Nam") | sub(r, f, '2', "Bộ TK TVQG");
	bad |= mc_marc_add_data(r, "700", '1', ' ', &f);
	bad |= sub(r, f, 'a', "Trần Thị Hương") | sub(r, f, 'e', "biên soạn");
	bad |= mc_marc_add_data(r, "856", '4', '0', &f);
	snprintf(b, sizeof(b), "http://thuvien.example.vn/opac/%d", i);
	bad |= sub(r, f, 'u', b);
	bad |= mc_marc_add_data(r, "952", ' ', ' ', &f);
	bad |= sub(r, f, 'a', "TVHN") | sub(r, f, 'c', "Kho mượn");
	snprintf(b, sizeof(b), "959.7 L302S %d", i);
	bad |= sub(r, f, 'o', b);
	snprintf(b, sizeof(b), "VV%08d", i);
	bad |= sub(r, f, 'p', b);
	if (bad || mc_record_extract(r, NULL))
		return -1;
	return 0;
}


static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void print_rss(const char *label)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "RssAnon", 7) || !strncmp(line, "RssFile", 7) ||
		    !strncmp(line, "VmHWM", 5))
			printf("# bench %-10s %s", label, line);
	fclose(f);
}

#define BENCH_CHECK(x) do { if (!(x)) { printf("# bench failed: %s\n", #x); fflush(stdout); \
	_exit(1); } } while (0)

/* Runs in a child process so that each configuration has its own peak RSS. */
static int bench_one(const char *label, unsigned extra, int n, int batch, int random)
{
	char t[] = "/tmp/mucluc-store-bench-XXXXXX", d[64];
	struct mc_store *s;
	struct mc_record *r = NULL;
	struct mc_writer *w = NULL;
	struct mc_error err;
	struct mc_buf pb;
	char id[32];
	double t0, t1, t2, tp = 0;
	size_t bytes = 0;
	int oc;

	if (!mkdtemp(t))
		return 1;
	snprintf(d, sizeof(d), "%s/store", t);
	mc_buf_init(&pb, MC_STORE_VALUE_MAX);
	BENCH_CHECK(mc_record_new(&r) == 0);
	BENCH_CHECK(mci_store_open_mapsize(d, MC_STORE_CREATE | extra, 0, &s, &err) == 0);
	/* pass 1: new records; pass 2: same content (unchanged path) */
	for (int pass = 0; pass < 2; pass++) {
		t0 = now_s();
		tp = 0;
		for (int i = 0; i < n; i++) {
			double a;

			if (!w)
				BENCH_CHECK(mc_writer_begin(s, &w, &err) == 0);
			snprintf(id, sizeof(id), "%08d",
				 random ? (int)(((uint64_t)i * 2654435761u) % (uint64_t)n) : i);
			a = now_s();
			BENCH_CHECK(fill(r, "hanoi", id, i) == 0);
			tp += now_s() - a;
			if (pass == 0 && i < 1000) {
				BENCH_CHECK(mc_record_pack(r, &pb) == 0);
				bytes += pb.len;
			}
			BENCH_CHECK(mc_writer_put(w, r, &oc, &err) == 0);
			BENCH_CHECK(oc == (pass ? MC_PUT_UNCHANGED : MC_PUT_NEW));
			if ((i + 1) % batch == 0) {
				BENCH_CHECK(mc_writer_commit(w, &err) == 0);
				w = NULL;
			}
		}
		if (w) {
			BENCH_CHECK(mc_writer_commit(w, &err) == 0);
			w = NULL;
		}
		t1 = now_s();
		t2 = t1 - t0 - tp;
		printf("# bench %-10s %-7s keys, pass %d (%-9s): %d records (%zu B packed avg), "
		       "batch %d: %.0f records/s (pack+put+commit), %.2f s\n",
		       label, random ? "random" : "ordered", pass + 1, pass ? "unchanged" : "new",
		       n, bytes / 1000, batch, n / t2, t2);
	}
	print_rss(label);
	fflush(stdout);
	mc_store_close(s);
	mc_buf_free(&pb);
	mc_record_free(r);
	rm_tree(t);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct { const char *label; unsigned flags; } modes[] = {
		{ "sync", 0 }, { "nometasync", MC_STORE_X_NOMETASYNC }, { "nosync", MC_STORE_X_NOSYNC },
	};
	int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 0;
	int failed = 0;

	if (n < 1000)
		n = 200000;
	for (int random = 0; random < 2; random++)
		for (size_t m = 0; m < 3; m++) {
			pid_t pid;
			int status;

			fflush(NULL);
			pid = fork();
			if (pid < 0)
				return 1;
			if (pid == 0)
				_exit(bench_one(modes[m].label, modes[m].flags, n, 1000, random));
			if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
			    WEXITSTATUS(status) != 0)
				failed = 1;
		}
	return failed;
}
