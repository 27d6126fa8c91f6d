/* error.c — error codes and detail records. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mc-error.h"

static const char *const project_msgs[] = {
	[MC_E_PARSE - MC_E_BASE] = "malformed input",
	[MC_E_ENCODING - MC_E_BASE] = "invalid character encoding",
	[MC_E_TOOBIG - MC_E_BASE] = "size limit exceeded",
	[MC_E_TRUNCATED - MC_E_BASE] = "input truncated",
	[MC_E_CONFIG - MC_E_BASE] = "configuration error",
	[MC_E_NOTFOUND - MC_E_BASE] = "not found",
	[MC_E_STORE - MC_E_BASE] = "store error",
	[MC_E_FORMAT - MC_E_BASE] = "unknown or unsupported format",
	[MC_E_USAGE - MC_E_BASE] = "usage error",
	[MC_E_CORRUPT - MC_E_BASE] = "stored value does not decode",
	[MC_E_VERSION - MC_E_BASE] = "written by a newer version",
	[MC_E_FULL - MC_E_BASE] = "disk or map full",
	[MC_E_LOCKED - MC_E_BASE] = "locked by another process",
	[MC_E_ENTITY - MC_E_BASE] = "XML DTD or entity refused",
};

const char *mc_strerror(int code)
{
	if (code == 0)
		return "success";
	if (code > MC_E_BASE && code < MC_E_LAST) {
		const char *m = project_msgs[code - MC_E_BASE];
		return m ? m : "unknown error";
	}
	if (code < 0 && code > -4096)
		return strerror(-code);
	return "unknown error";
}

void mc_error_clear(struct mc_error *e)
{
	if (!e)
		return;
	memset(e, 0, sizeof(*e));
	e->offset = -1;
}

int mc_error_set(struct mc_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

void mc_error_field(char *dst, size_t dstsz, const char *s)
{
	if (!dstsz)
		return;
	if (!s) {
		dst[0] = '\0';
		return;
	}
	snprintf(dst, dstsz, "%s", s);
}

void mc_error_format(const struct mc_error *e, char *buf, size_t bufsz)
{
	char where[400] = "";
	const char *reason;
	size_t n = 0, ml, rl;

	if (!bufsz)
		return;
	if (e->file[0])
		n += (size_t)snprintf(where + n, sizeof(where) - n, "%s", e->file);
	if (n < sizeof(where) && e->line > 0)
		n += (size_t)snprintf(where + n, sizeof(where) - n, ":%lld", (long long)e->line);
	if (n < sizeof(where) && e->offset >= 0)
		n += (size_t)snprintf(where + n, sizeof(where) - n, " (offset %lld)",
				      (long long)e->offset);
	if (n < sizeof(where) && e->source[0])
		n += (size_t)snprintf(where + n, sizeof(where) - n, "%ssource %s",
				      n ? ": " : "", e->source);
	if (n < sizeof(where) && e->record_id[0])
		snprintf(where + n, sizeof(where) - n, "%srecord %s", n ? ": " : "", e->record_id);
	/* a message that already ends with the reason ("...: Cannot allocate
	 * memory") does not get it twice */
	reason = e->msg[0] && e->code ? mc_strerror(e->code) : "";
	ml = strlen(e->msg);
	rl = strlen(reason);
	if (rl && ml >= rl && strcmp(e->msg + ml - rl, reason) == 0)
		reason = "";
	snprintf(buf, bufsz, "%s%s%s%s%s", where, where[0] ? ": " : "",
		 e->msg[0] ? e->msg : mc_strerror(e->code), reason[0] ? " — " : "", reason);
}
