/* store-trim.c — keeping the pages of LMDB's map that this process has
 * touched from piling up in its RSS (madvise(MADV_DONTNEED) on the map,
 * which is a shared read-only file mapping). */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <lmdb.h>

#include "mc-limits.h"
#include "mc-store.h"
#include "store-internal.h"

/* Find LMDB's map in this process: the mapping that holds a pointer a read
 * transaction returned. Strict: it must be a shared read-only file mapping
 * of exactly the map's size, or it is not used. */
static void store_locate_map(struct mc_store *s)
{
	char line[4096];
	MDB_envinfo info;
	struct stat st;
	int fd;
	FILE *f;

	s->map_base = NULL;
	s->map_len = 0;
	s->map_epoch_seen = s->map_epoch;
	/* the mapping of data.mdb (same device and inode) as large as the map:
	 * found without a transaction, so also from inside a batch */
	if (mdb_env_get_fd(s->env, &fd) || fstat(fd, &st) || mdb_env_info(s->env, &info))
		return;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, off, ino;
		unsigned maj, mnr;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &lo, &hi, perms, &off, &maj, &mnr,
			   &ino) != 7)
			continue;
		if (ino == (unsigned long)st.st_ino && maj == major(st.st_dev) &&
		    mnr == minor(st.st_dev) && !strcmp(perms, "r--s") && off == 0 &&
		    hi - lo == info.me_mapsize) {
			s->map_base = (void *)lo;
			s->map_len = hi - lo;
			break;
		}
	}
	fclose(f);
}

/* File-backed resident bytes of this process (the "shared" column of
 * /proc/self/statm: mapped file pages, LMDB's map included); 0 if unknown. */
static uint64_t rss_file_bytes(void)
{
	char buf[128];
	unsigned long size, resident, shared;
	ssize_t n;
	int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%lu %lu %lu", &size, &resident, &shared) != 3)
		return 0;
	return (uint64_t)shared * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Keep the pages of LMDB's map that this process has touched from piling up
 * in its RSS: every record a batch compares or a walk reads maps its page,
 * so a re-import or a full walk of a big store would otherwise count the
 * whole store in RSS. When the file-backed RSS passes MC_STORE_TRIM_RSS,
 * drop the map's page mappings (MADV_DONTNEED). The map is a shared,
 * read-only file mapping (no MDB_WRITEMAP): the pages stay in the page
 * cache and pointers held by open read transactions stay valid; the next
 * access maps them again. Re-mapping is costly on some kernels (large
 * folios), hence the threshold instead of trimming after every batch.
 * txn is an open transaction (the map cannot move while it is: a read
 * transaction is counted, a write transaction holds the write lock that map
 * growth needs), or NULL to use a short read transaction. */
void mci_store_trim(struct mc_store *s, MDB_txn *txn, uint64_t max_rss)
{
	MDB_txn *own = NULL;

	if (rss_file_bytes() < max_rss)
		return;
	/* The map cannot move while a counted transaction is open (txn, or
	 * own); trim_mu keeps two threads from trimming at once. */
	if (!txn && mci_store_rtxn_begin(s, NULL, &own, NULL) != 0)
		return;
	if (pthread_mutex_trylock(&s->trim_mu) == 0) {
		if (s->map_epoch_seen != s->map_epoch)   /* not looked for since the last remap */
			store_locate_map(s);
		if (s->map_base && madvise(s->map_base, s->map_len, MADV_DONTNEED) == 0)
			s->trims++;
		pthread_mutex_unlock(&s->trim_mu);
	}
	if (own)
		mci_store_rtxn_end(s, NULL, own, 0);
}

void mci_store_set_trim(struct mc_store *s, uint64_t rss_bytes)
{
	s->trim_rss = rss_bytes;
}

unsigned mci_store_trim_count(const struct mc_store *s)
{
	return s->trims;
}

void mc_writer_trim(struct mc_writer *w, uint64_t max_rss)
{
	if (!w || !w->txn || w->failed)
		return;
	if (!max_rss || max_rss > w->s->trim_rss)
		max_rss = w->s->trim_rss;
	mci_store_trim(w->s, w->txn, max_rss);
}
