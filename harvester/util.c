/* util.c — the harvester's arithmetic: datestamps, backoff, Retry-After,
 * loop guard and the saved state. No I/O here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harvester-internal.h"

int hv_granularity_seconds(const char *granularity)
{
	return granularity && strstr(granularity, "hh:mm:ss") != NULL;
}

int hv_next_from(const char *response_date, const char *granularity, char *buf, size_t bufsz)
{
	int64_t t;
	int secs = hv_granularity_seconds(granularity);

	if (!response_date || mc_datestamp_parse(response_date, &t))
		return MC_E_PARSE;
	if (!secs)
		t -= 86400;
	return mc_date_format(t, secs ? MC_DATE_SECONDS : MC_DATE_DAY, buf, bufsz);
}

double hv_backoff_delay(int attempt, double base, double cap, double u)
{
	double d = base;
	int i;

	if (attempt <= 1 || base <= 0 || cap <= 0)
		return 0;
	for (i = 2; i < attempt && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	if (!(u >= 0 && u < 1))
		u = 0;
	return d * (0.5 + 0.5 * u);
}

int hv_retry_after_parse(const char *value, int64_t now, double *ret)
{
	const char *p = value;
	struct tm tm;
	char *end;
	long long n;
	int64_t t;

	if (!p)
		return MC_E_PARSE;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p >= '0' && *p <= '9') {
		errno = 0;
		n = strtoll(p, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (errno || *end || n < 0)
			return MC_E_PARSE;
		*ret = (double)n;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(p, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end)
		return MC_E_PARSE;
	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	if (*end)
		return MC_E_PARSE;
	t = (int64_t)timegm(&tm);
	*ret = t > now ? (double)(t - now) : 0;
	return 0;
}

void hv_page_ids_add(struct hv_page_ids *p, const char *id, size_t len)
{
	uint64_t h = mc_mix64(mc_hash64(id, len));

	p->sum += h;
	p->mix ^= mc_mix64(h ^ 0x9E3779B97F4A7C15ull);
	p->n++;
}

/* Insert h into the guard's set. 1 if it was there, 0 if added, -ENOMEM. */
static int seen_add(struct hv_guard *g, uint64_t h)
{
	size_t i;

	h = h ? h : 1;
	/* open addressing, at most half full */
	if ((g->n + 1) * 2 > g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 64, k;
		uint64_t *p = calloc(ncap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		for (k = 0; k < g->cap; k++) {
			if (!g->seen[k])
				continue;
			for (i = g->seen[k] & (ncap - 1); p[i]; i = (i + 1) & (ncap - 1))
				;
			p[i] = g->seen[k];
		}
		free(g->seen);
		g->seen = p;
		g->cap = ncap;
	}
	for (i = h & (g->cap - 1); g->seen[i]; i = (i + 1) & (g->cap - 1))
		if (g->seen[i] == h)
			return 1;
	g->seen[i] = h;
	g->n++;
	return 0;
}

int hv_guard_page(struct hv_guard *g, const char *token, uint64_t records,
		  const struct hv_page_ids *ids, const char *error_code, char *why,
		  size_t whysz)
{
	static const struct hv_page_ids none;
	int has = token && *token, rc;
	uint64_t h;

	if (!ids)
		ids = &none;
	if (error_code && strcmp(error_code, "noRecordsMatch") == 0 && has) {
		snprintf(why, whysz, "the provider answered noRecordsMatch with a resumption token");
		return MC_E_PARSE;
	}
	if (!has) {
		g->empty_run = 0;
		g->stale_run = 0;
		return 0;
	}
	/* the pair (token, identifiers of the page): met before = nothing new */
	h = mc_mix64(mc_hash64(token, strlen(token)) ^
		  mc_mix64(ids->sum ^ mc_mix64(ids->mix + ids->n * 0x9E3779B97F4A7C15ull)));
	rc = seen_add(g, h);
	if (rc < 0)
		return rc;
	if (rc) {
		if (++g->stale_run >= MC_MAX_HARVEST_STALE_PAGES) {
			snprintf(why, whysz,
				 "the provider loops: %d pages in a row brought nothing new (resumption "
				 "token '%.200s' again with the same %llu identifiers)",
				 g->stale_run, token, (unsigned long long)ids->n);
			return MC_E_PARSE;
		}
		return 0;
	}
	g->stale_run = 0;
	if (records == 0 && ++g->empty_run > HV_MAX_EMPTY_PAGES) {
		snprintf(why, whysz, "more than %d empty pages in a row with resumption tokens",
			 HV_MAX_EMPTY_PAGES);
		return MC_E_PARSE;
	}
	if (records)
		g->empty_run = 0;
	return 0;
}

void hv_guard_free(struct hv_guard *g)
{
	free(g->seen);
	memset(g, 0, sizeof(*g));
}

/* ---- state ---- */

static int put_esc(char **p, char *end, const char *key, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t kl = strlen(key);

	if ((size_t)(end - *p) < kl + 2)
		return MC_E_TOOBIG;
	memcpy(*p, key, kl);
	*p += kl;
	*(*p)++ = '=';
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;

		if (c == '%' || c < 0x20 || c == 0x7F) {
			if (end - *p < 4)
				return MC_E_TOOBIG;
			*(*p)++ = '%';
			*(*p)++ = hex[c >> 4];
			*(*p)++ = hex[c & 15];
		} else {
			if (end - *p < 2)
				return MC_E_TOOBIG;
			*(*p)++ = (char)c;
		}
	}
	if (end - *p < 2)
		return MC_E_TOOBIG;
	*(*p)++ = '\n';
	**p = '\0';
	return 0;
}

int hv_state_encode(const struct hv_state *st, char *buf, size_t bufsz)
{
	char *p = buf, *end = buf + bufsz, num[64];
	int rc;

	if (!bufsz)
		return MC_E_TOOBIG;
	*p = '\0';
	snprintf(num, sizeof(num), "%d", st->active);
	if ((rc = put_esc(&p, end, "v", "1")) || (rc = put_esc(&p, end, "active", num)))
		return rc;
	snprintf(num, sizeof(num), "%u", st->set);
	if ((rc = put_esc(&p, end, "set", num)))
		return rc;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)st->pages);
	if ((rc = put_esc(&p, end, "pages", num)) || (rc = put_esc(&p, end, "setspec", st->setspec)) ||
	    (rc = put_esc(&p, end, "from", st->from)) || (rc = put_esc(&p, end, "until", st->until)) ||
	    (rc = put_esc(&p, end, "prefix", st->prefix)) ||
	    (rc = put_esc(&p, end, "start", st->start)) ||
	    (rc = put_esc(&p, end, "last_start", st->last_start)) ||
	    (rc = put_esc(&p, end, "token", st->token)))
		return rc;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Unescape [v, e) into dst (dstsz). 0 or MC_E_CORRUPT. */
static int unesc(const char *v, const char *e, char *dst, size_t dstsz)
{
	size_t n = 0;
	int hi, lo;

	while (v < e) {
		char c = *v++;

		if (c == '%') {
			if (e - v < 2 || (hi = hexval(v[0])) < 0 || (lo = hexval(v[1])) < 0)
				return MC_E_CORRUPT;
			c = (char)(hi << 4 | lo);
			v += 2;
		}
		if (n + 1 >= dstsz)
			return MC_E_CORRUPT;
		dst[n++] = c;
	}
	dst[n] = '\0';
	return 0;
}

int hv_state_decode(const char *s, struct hv_state *st)
{
	char num[64], *end;
	const char *line, *nl, *eq;
	unsigned long long u;
	int version = 0;

	memset(st, 0, sizeof(*st));
	for (line = s; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			return MC_E_CORRUPT;
		eq = memchr(line, '=', (size_t)(nl - line));
		if (!eq)
			return MC_E_CORRUPT;
#define KEY(k) ((size_t)(eq - line) == sizeof(k) - 1 && memcmp(line, k, sizeof(k) - 1) == 0)
#define STR(k, dst) else if (KEY(k)) { if (unesc(eq + 1, nl, dst, sizeof(dst))) return MC_E_CORRUPT; }
		if (KEY("v") || KEY("active") || KEY("set") || KEY("pages")) {
			if (unesc(eq + 1, nl, num, sizeof(num)) || !num[0])
				return MC_E_CORRUPT;
			errno = 0;
			u = strtoull(num, &end, 10);
			if (errno || *end || num[0] == '-')
				return MC_E_CORRUPT;
			if (KEY("v"))
				version = (int)(u > 1000 ? 1000 : u);
			else if (KEY("active"))
				st->active = u != 0;
			else if (KEY("set"))
				st->set = u > 0xFFFFFFu ? 0xFFFFFFu : (unsigned)u;
			else
				st->pages = u;
		}
		STR("setspec", st->setspec)
		STR("from", st->from)
		STR("until", st->until)
		STR("prefix", st->prefix)
		STR("start", st->start)
		STR("last_start", st->last_start)
		STR("token", st->token)
#undef STR
#undef KEY
	}
	if (version != 1) {
		memset(st, 0, sizeof(*st));
		return MC_E_CORRUPT;
	}
	return 0;
}
