/* unit-tmp.h — a scratch directory for one unit-test executable.
 * Include after <cmocka.h>. */
#ifndef UNIT_TMP_H
#define UNIT_TMP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmpdir[256];

/* Create $TMPDIR/mc-test-<what>.XXXXXX as tmpdir. */
static inline int unit_tmpdir_make(const char *what)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/mc-test-%s.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", what);
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static inline int unit_tmpdir_remove(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write text to <tmpdir>/name; returns the path (static buffer). */
static inline const char *write_file(const char *name, const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	return path;
}

#endif
