/* mc-lock.h — stage locks: the stages of mucluc that must not overlap on one
 * data directory wait for each other here (schemas/concurrency.md).
 *
 * A lock is an flock(2) on <data_dir>/locks/<name>.lock; the file holds
 * "<pid> <holder>\n" of the process that has it, for the message of those
 * who wait. The kernel releases an flock when its last descriptor closes,
 * so a process killed with SIGKILL never leaves a lock held: the pid in the
 * file is then only a stale note, rewritten by the next holder. Locks are
 * advisory and between open file descriptions: two threads of one process
 * taking the same lock also wait for each other.
 *
 * Readers (export, show, stats, the server) take no lock: they read an LMDB
 * snapshot and never wait for a writer. Deadlock freedom comes from one
 * order, kept by cli/: harvest, then source locks in ascending id order,
 * released before merge; the merge lock is taken with no other held. */
#ifndef MC_LOCK_H
#define MC_LOCK_H

#include "mc-error.h"

struct mc_lock;

/* Lock names. A source's lock is MC_LOCK_SOURCE followed by its id. */
#define MC_LOCK_MERGE "merge"     /* union data: merge, rebuild, dedup corrections */
#define MC_LOCK_HARVEST "harvest" /* one harvest run at a time (one connection per host) */
#define MC_LOCK_SOURCE "source-"  /* one writer of a source's records: import or harvest */
#define MC_LOCK_INDEX "index"     /* the search index: one `mucluc index` at a time */
#define MC_LOCK_NAME_MAX 96       /* longest lock name */

/* Called once when the lock is held by another process and the caller
 * will wait: name as given, the holder's pid (0
 * when the file does not say) and its holder text ("" when unknown);
 * strings borrowed for the call. */
typedef void (*mc_lock_wait_fn)(void *ctx, const char *name, long pid, const char *holder);

/* Take lock name (see above; [A-Za-z0-9._-], at most MC_LOCK_NAME_MAX
 * bytes, not starting with '.') under data_dir, creating <data_dir>/locks
 * when missing, waiting as long as it takes (the holder is working; if it
 * dies the kernel releases the lock). holder (may be NULL) is a short word
 * naming the command ("import", "merge") written beside the pid. on_wait
 * may be NULL. A signal that interrupts the wait is retried. Caller
 * releases with mc_lock_release. 0 and *ret; MC_E_USAGE (bad name),
 * -ENOMEM, -errno (the lock file cannot be created, opened or locked); err
 * filled in. *ret set only on success. */
int mc_lock_take(const char *data_dir, const char *name, const char *holder,
		 mc_lock_wait_fn on_wait, void *ctx, struct mc_lock **ret, struct mc_error *err);

/* Release and free. NULL is a no-op. */
void mc_lock_release(struct mc_lock *l);

/* The name the lock was taken with (borrowed until mc_lock_release). */
const char *mc_lock_name(const struct mc_lock *l);

#endif
