/* stagelock.c — stage locks (mc-lock.h): flock on <data_dir>/locks/NAME.lock. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mc-config.h"  /* mc_name_valid */
#include "mc-lock.h"

#define NOTE_MAX 64   /* "<pid> <holder>\n" as written and read back */

struct mc_lock {
	int fd;
	char name[MC_LOCK_NAME_MAX + 1];
};

static int name_valid(const char *name)
{
	return mc_name_valid(name, MC_LOCK_NAME_MAX) && name[0] != '.';
}

/* The holder's note: pid (0 unknown) and holder word ("" unknown). */
static void note_read(int fd, long *pid, char *holder, size_t hsz)
{
	char buf[NOTE_MAX + 1], *end;
	ssize_t n = pread(fd, buf, NOTE_MAX, 0);

	*pid = 0;
	holder[0] = '\0';
	if (n <= 0)
		return;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	errno = 0;
	*pid = strtol(buf, &end, 10);
	if (errno || end == buf || *pid < 0)
		*pid = 0;
	if (*pid && *end == ' ')
		snprintf(holder, hsz, "%s", end + 1);
}

/* Write our note. The lock holds without it; only the waiters' message
 * would lack the pid, so a failure is not an error. */
static void note_write(int fd, const char *holder)
{
	char buf[NOTE_MAX];
	int n = snprintf(buf, sizeof(buf), "%ld %.32s\n", (long)getpid(), holder ? holder : "");

	if (n < 0 || n >= (int)sizeof(buf))
		return;
	if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) == n) {
		/* written */
	}
}

int mc_lock_take(const char *data_dir, const char *name, const char *holder,
		 mc_lock_wait_fn on_wait, void *ctx, struct mc_lock **ret, struct mc_error *err)
{
	char path[PATH_MAX], who[NOTE_MAX];
	struct mc_lock *l;
	long pid;
	int fd, rc;

	if (!data_dir || !ret || !name_valid(name))
		return mc_error_set(err, MC_E_USAGE, "bad lock name '%s'", name ? name : "(null)");
	if (snprintf(path, sizeof(path), "%s/locks", data_dir) >= (int)sizeof(path))
		return mc_error_set(err, -ENAMETOOLONG, "data_dir too long for its lock files");
	if (mkdir(path, 0755) && errno != EEXIST) {
		rc = -errno;
		return mc_error_set(err, rc, "cannot create %s: %s", path, strerror(-rc));
	}
	if (snprintf(path, sizeof(path), "%s/locks/%s.lock", data_dir, name) >= (int)sizeof(path))
		return mc_error_set(err, -ENAMETOOLONG, "data_dir too long for its lock files");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		return mc_error_set(err, rc, "cannot open lock file %s: %s", path, strerror(-rc));
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK) {
			rc = -errno;
			close(fd);
			return mc_error_set(err, rc, "cannot lock %s: %s", path, strerror(-rc));
		}
		note_read(fd, &pid, who, sizeof(who));
		if (on_wait)
			on_wait(ctx, name, pid, who);
		while (flock(fd, LOCK_EX)) {
			if (errno != EINTR) {
				rc = -errno;
				close(fd);
				return mc_error_set(err, rc, "cannot lock %s: %s", path, strerror(-rc));
			}
		}
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		return mc_error_set(err, -ENOMEM, "out of memory");
	}
	note_write(fd, holder);
	l->fd = fd;
	snprintf(l->name, sizeof(l->name), "%s", name);
	*ret = l;
	return 0;
}

void mc_lock_release(struct mc_lock *l)
{
	if (!l)
		return;
	/* the note stays: a stale pid is harmless, and truncating here would
	 * race the next holder's write */
	close(l->fd);
	free(l);
}

const char *mc_lock_name(const struct mc_lock *l)
{
	return l->name;
}
