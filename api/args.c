/* args.c — the URL's query string: splitting, %-decoding, and the search
 * arguments (schemas/api.md). No libevent here: the fuzz target
 * tests/fuzz/fuzz-http-args.c drives these functions alone. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api-internal.h"

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode s[0..n) into out (room for n + 1); returns the decoded length or
 * -1 on a bad escape. */
static long decode(const char *s, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '+') {
			out[o++] = ' ';
		} else if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return (long)o;
}

int api_args_parse(const char *qs, size_t len, char *buf, size_t bufsz, struct api_args *ret,
		   char *msg, size_t msgsz)
{
	size_t pos = 0, used = 0;

	ret->n = 0;
	if (bufsz < len + 2) {
		snprintf(msg, msgsz, "query string too long");
		return MC_E_USAGE;
	}
	while (pos < len) {
		const char *seg = qs + pos, *amp = memchr(seg, '&', len - pos), *eq;
		size_t slen = amp ? (size_t)(amp - seg) : len - pos;
		struct api_arg *a;
		long k, v;

		pos += slen + 1;
		if (slen == 0)
			continue;
		if (ret->n == API_MAX_ARGS) {
			snprintf(msg, msgsz, "more than %u arguments", API_MAX_ARGS);
			return MC_E_USAGE;
		}
		a = &ret->a[ret->n];
		eq = memchr(seg, '=', slen);
		/* key + NUL + value + NUL fit in the segment's bytes + 1 ('=' or
		 * '&' gives the room of one NUL; the last segment uses the +2) */
		k = decode(seg, eq ? (size_t)(eq - seg) : slen, buf + used);
		if (k < 0)
			goto bad;
		a->key = buf + used;
		a->klen = (size_t)k;
		used += (size_t)k + 1;
		if (eq) {
			v = decode(eq + 1, slen - (size_t)(eq + 1 - seg), buf + used);
			if (v < 0)
				goto bad;
			a->val = buf + used;
			used += (size_t)v + 1;
		} else {
			/* no value: the key's terminator is the empty value (a segment
			 * of n bytes never takes more than n + 1 of buf) */
			a->val = a->key + a->klen;
			v = 0;
		}
		a->vlen = (size_t)v;
		ret->n++;
	}
	return 0;
bad:
	snprintf(msg, msgsz, "bad %%-escape in the query string (%%XX with two hex digits expected)");
	return MC_E_USAGE;
}

const struct api_arg *api_args_get(const struct api_args *a, const char *key, unsigned *count)
{
	const struct api_arg *first = NULL;
	size_t klen = strlen(key), i;
	unsigned n = 0;

	for (i = 0; i < a->n; i++)
		if (a->a[i].klen == klen && memcmp(a->a[i].key, key, klen) == 0) {
			if (!first)
				first = &a->a[i];
			n++;
		}
	if (count)
		*count = n;
	return first;
}

/* A text argument: no NUL byte, valid UTF-8. */
static int text_ok(const struct api_arg *v, char *msg, size_t msgsz)
{
	if (memchr(v->val, '\0', v->vlen)) {
		snprintf(msg, msgsz, "argument '%s' contains a NUL byte", v->key);
		return 0;
	}
	if (!mc_utf8_valid(v->val, v->vlen, NULL)) {
		snprintf(msg, msgsz, "argument '%s' is not valid UTF-8", v->key);
		return 0;
	}
	return 1;
}

/* A single-valued argument (NULL when absent; *bad set on a repeat). */
static const struct api_arg *single(const struct api_args *a, const char *key, int *bad,
				    char *msg, size_t msgsz)
{
	unsigned n;
	const struct api_arg *v = api_args_get(a, key, &n);

	if (n > 1) {
		snprintf(msg, msgsz, "argument '%s' given %u times (once expected)", key, n);
		*bad = 1;
		return NULL;
	}
	if (v && !text_ok(v, msg, msgsz)) {
		*bad = 1;
		return NULL;
	}
	return v;
}

/* A decimal integer in [lo, hi]. */
static int number(const struct api_arg *v, long lo, long hi, long *ret, char *msg, size_t msgsz)
{
	size_t i = 0;
	long x = 0;
	int neg = 0;

	if (v->vlen && v->val[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == v->vlen)
		goto bad;
	for (; i < v->vlen; i++) {
		if (v->val[i] < '0' || v->val[i] > '9')
			goto bad;
		if (x > 100000000000L)
			goto range;
		x = x * 10 + (v->val[i] - '0');
	}
	if (neg)
		x = -x;
	if (x < lo || x > hi)
		goto range;
	*ret = x;
	return 0;
bad:
	snprintf(msg, msgsz, "argument '%s' must be a whole number", v->key);
	return MC_E_USAGE;
range:
	snprintf(msg, msgsz, "argument '%s' must be between %ld and %ld", v->key, lo, hi);
	return MC_E_USAGE;
}

static const char *const facets[] = {
	"library", "province", "type", "lang", "material", "category", "digital", NULL,
};

int api_search_req_from_args(const struct api_args *a, struct ix_search_req *req,
			     struct ix_filter *filters, char *msg, size_t msgsz)
{
	const struct api_arg *v;
	int bad = 0;
	long n;
	size_t i, f;

	memset(req, 0, sizeof(*req));
	req->page = 1;
	req->size = 10;
	req->q = "";
	req->filters = filters;

	if ((v = single(a, "q", &bad, msg, msgsz))) {
		if (v->vlen > IX_MAX_QUERY_BYTES) {
			snprintf(msg, msgsz, "the query is %zu bytes long; at most %u", v->vlen,
				 IX_MAX_QUERY_BYTES);
			return MC_E_USAGE;
		}
		req->q = v->val;
		req->qlen = v->vlen;
	}
	if (bad)
		return MC_E_USAGE;
	if ((v = single(a, "size", &bad, msg, msgsz))) {
		if (number(v, 1, IX_MAX_PAGE_SIZE, &n, msg, msgsz))
			return MC_E_USAGE;
		req->size = (unsigned)n;
	}
	if (bad)
		return MC_E_USAGE;
	if ((v = single(a, "page", &bad, msg, msgsz))) {
		if (number(v, 1, IX_MAX_RESULT_DEPTH, &n, msg, msgsz))
			return MC_E_USAGE;
		req->page = (unsigned)n;
	}
	if (bad)
		return MC_E_USAGE;
	if ((unsigned long)req->page * req->size > IX_MAX_RESULT_DEPTH) {
		snprintf(msg, msgsz, "page %u of %u results goes past result %u: narrow the search",
			 req->page, req->size, IX_MAX_RESULT_DEPTH);
		return MC_E_USAGE;
	}
	if ((v = single(a, "sort", &bad, msg, msgsz))) {
		if (strcmp(v->val, "relevance") == 0)
			req->sort = IX_SORT_RELEVANCE;
		else if (strcmp(v->val, "year") == 0)
			req->sort = IX_SORT_YEAR;
		else if (strcmp(v->val, "-year") == 0)
			req->sort = IX_SORT_YEAR_DESC;
		else if (strcmp(v->val, "title") == 0)
			req->sort = IX_SORT_TITLE;
		else {
			snprintf(msg, msgsz, "sort must be relevance, year, -year or title");
			return MC_E_USAGE;
		}
	}
	if (bad)
		return MC_E_USAGE;
	if ((v = single(a, "group", &bad, msg, msgsz))) {
		if (strcmp(v->val, "work") == 0)
			req->group = IX_GROUP_WORK;
		else if (strcmp(v->val, "none") == 0)
			req->group = IX_GROUP_NONE;
		else {
			snprintf(msg, msgsz, "group must be work or none");
			return MC_E_USAGE;
		}
	}
	if (bad)
		return MC_E_USAGE;
	if ((v = single(a, "year_from", &bad, msg, msgsz))) {
		if (number(v, 0, 9999, &n, msg, msgsz))
			return MC_E_USAGE;
		req->year_from = (int)n;
	}
	if (bad)
		return MC_E_USAGE;
	if ((v = single(a, "year_to", &bad, msg, msgsz))) {
		if (number(v, 0, 9999, &n, msg, msgsz))
			return MC_E_USAGE;
		req->year_to = (int)n;
	}
	if (bad)
		return MC_E_USAGE;
	if (req->year_from && req->year_to && req->year_from > req->year_to) {
		snprintf(msg, msgsz, "year_from %d is after year_to %d", req->year_from,
			 req->year_to);
		return MC_E_USAGE;
	}
	if ((v = single(a, "work", &bad, msg, msgsz))) {
		if (v->vlen == 0 || v->vlen > 63) {
			snprintf(msg, msgsz, "work must be a work key as results give it");
			return MC_E_USAGE;
		}
		req->work = v->val;
	}
	if (bad)
		return MC_E_USAGE;
	if ((v = single(a, "facets", &bad, msg, msgsz))) {
		if (number(v, 0, 1, &n, msg, msgsz))
			return MC_E_USAGE;
		req->no_facets = n == 0;
	}
	if (bad)
		return MC_E_USAGE;

	/* filters: every value of every facet argument, in order */
	for (i = 0; i < a->n; i++) {
		const struct api_arg *x = &a->a[i];

		for (f = 0; facets[f]; f++)
			if (strcmp(x->key, facets[f]) == 0 && strlen(facets[f]) == x->klen)
				break;
		if (!facets[f])
			continue;
		if (!text_ok(x, msg, msgsz))
			return MC_E_USAGE;
		if (x->vlen == 0)
			continue;
		if (x->vlen > IX_MAX_FILTER_BYTES) {
			snprintf(msg, msgsz, "a %s value is %zu bytes long; at most %u", facets[f],
				 x->vlen, IX_MAX_FILTER_BYTES);
			return MC_E_USAGE;
		}
		if (req->nfilters == IX_MAX_FILTERS) {
			snprintf(msg, msgsz, "more than %u filter values", IX_MAX_FILTERS);
			return MC_E_USAGE;
		}
		filters[req->nfilters].facet = facets[f];
		filters[req->nfilters].value = x->val;
		req->nfilters++;
	}
	return 0;
}
