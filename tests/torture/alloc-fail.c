/* alloc-fail.c — the allocation counter linked into mucluc-torture.
 *
 * mucluc-torture is the mucluc binary relinked with -Wl,--wrap for every
 * allocator the project's own code calls (malloc, calloc, realloc, strdup,
 * strndup, realpath with a NULL buffer), so each such call lands here first.
 * With MUCLUC_TORTURE_LIBS=libxml2,jansson (either or both) the
 * allocations libxml2 and jansson make for us are routed here too
 * (xmlMemSetup, json_set_alloc_funcs); LMDB, ICU and libc's own internals are
 * never counted.
 *
 * Environment:
 *   MUCLUC_TORTURE_FAIL=N   the Nth counted allocation (1-based, counted over
 *                           all threads) returns NULL with errno ENOMEM; only
 *                           that one. 0 or unset: nothing fails, count only.
 *   MUCLUC_TORTURE_LOG=F    file appended to: "fail N" plus a backtrace when
 *                           the failure fires, "count T" at exit (T = the
 *                           number of counted allocations).
 *
 * The log is written with open/write only: nothing here allocates through
 * the counter.
 */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libxml/xmlmemory.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t m, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
char *__real_realpath(const char *path, char *resolved);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t m, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
char *__wrap_realpath(const char *path, char *resolved);

static atomic_ulong torture_count;
static unsigned long torture_fail_at;
static const char *torture_log;

static void torture_write(int fd, const char *s)
{
	size_t len = strlen(s);

	while (len > 0) {
		ssize_t w = write(fd, s, len);

		if (w <= 0)
			return;
		s += w;
		len -= (size_t)w;
	}
}

static void torture_fmt(char *out, size_t cap, const char *word, unsigned long v)
{
	char digits[24];
	size_t i = 0, o = 0;

	do {
		digits[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && i < sizeof digits);
	while (*word && o + 1 < cap)
		out[o++] = *word++;
	if (o + 1 < cap)
		out[o++] = ' ';
	while (i > 0 && o + 2 < cap)
		out[o++] = digits[--i];
	out[o++] = '\n';
	out[o] = '\0';
}

static void torture_record(const char *word, unsigned long v, int with_trace)
{
	char line[64];
	int fd;

	if (!torture_log)
		return;
	fd = open(torture_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	torture_fmt(line, sizeof line, word, v);
	torture_write(fd, line);
	if (with_trace) {
		void *frames[48];
		int n = backtrace(frames, 48);

		backtrace_symbols_fd(frames, n, fd);
		torture_write(fd, "end\n");
	}
	close(fd);
}

/* 1 when this allocation is the one to fail */
static int torture_tick(void)
{
	unsigned long n = atomic_fetch_add(&torture_count, 1) + 1;

	if (torture_fail_at == 0 || n != torture_fail_at)
		return 0;
	torture_record("fail", n, 1);
	errno = ENOMEM;
	return 1;
}

void *__wrap_malloc(size_t n)
{
	return torture_tick() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t m, size_t n)
{
	return torture_tick() ? NULL : __real_calloc(m, n);
}

void *__wrap_realloc(void *p, size_t n)
{
	return torture_tick() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return torture_tick() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return torture_tick() ? NULL : __real_strndup(s, n);
}

char *__wrap_realpath(const char *path, char *resolved)
{
	if (!resolved && torture_tick())
		return NULL;
	return __real_realpath(path, resolved);
}

static void torture_free(void *p)
{
	free(p);
}

/* libxml2 wants a strdup of its own signature */
static char *torture_xml_strdup(const char *s)
{
	return __wrap_strdup(s);
}

static void torture_at_exit(void)
{
	torture_record("count", atomic_load(&torture_count), 0);
}

__attribute__((constructor)) static void torture_init(void)
{
	const char *fail = getenv("MUCLUC_TORTURE_FAIL");
	const char *libs = getenv("MUCLUC_TORTURE_LIBS");
	void *frames[1];

	torture_log = getenv("MUCLUC_TORTURE_LOG");
	if (fail && *fail) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(fail, &end, 10);
		if (errno == 0 && *end == '\0' && v < ULONG_MAX)
			torture_fail_at = v;
	}
	/* backtrace() loads libgcc on first use: do it now, not while failing */
	backtrace(frames, 1);
	if (libs && strstr(libs, "libxml2"))
		xmlMemSetup(torture_free, __wrap_malloc, __wrap_realloc, torture_xml_strdup);
	if (libs && strstr(libs, "jansson"))
		json_set_alloc_funcs(__wrap_malloc, torture_free);
	atexit(torture_at_exit);
}
