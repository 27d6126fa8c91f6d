/* keyidx.c — the match-key index in memory, for large merge runs.
 *
 * A multimap from the 64-bit hash of a match key to member refs, as the
 * mg_key database holds it (schemas/union.md), but in two flat arrays with
 * open addressing: a run that applies many records looks each key up and
 * inserts it without touching the store's B-tree pages at random (which, on
 * a store larger than memory allows, is where a large merge spent its time
 * and its resident memory). Refs are interned once (string table + their
 * own open-addressing table), so an entry is 12 bytes.
 *
 * Slot states: ref == EMPTY (never used), ref == GONE (deleted; probing goes
 * on past it). Tables double at 3/4 occupancy (live + deleted). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "merger-internal.h"

#define EMPTY UINT32_MAX
#define GONE (UINT32_MAX - 1)
#define MAX_REFS (UINT32_MAX - 2)
#define CHUNK (1u << 20)   /* ref string storage grows by 1 MiB */

struct mg_kidx {
	/* entries */
	uint64_t *h;
	uint32_t *r;
	size_t cap, used, live;   /* used counts live + GONE */
	/* interned refs */
	char **str;               /* id -> string */
	struct mg_quick *q;       /* id -> quick-verification data */
	uint8_t *qset;            /* id -> q set */
	uint32_t nstr, strcap;
	uint32_t *rt;             /* open addressing over ids */
	size_t rtcap;
	char *chunk;              /* current string chunk */
	size_t chunk_used;
	char **chunks;
	size_t nchunks;
};

static int ref_id(struct mg_kidx *x, const char *ref, int create, uint32_t *ret);

static uint64_t str_hash(const char *s)
{
	return mc_mix64(mc_hash64_str(s));
}

int mg_kidx_new(struct mg_kidx **ret)
{
	struct mg_kidx *x = calloc(1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	*ret = x;
	return 0;
}

void mg_kidx_free(struct mg_kidx *x)
{
	size_t i;

	if (!x)
		return;
	free(x->h);
	free(x->r);
	free(x->str);
	free(x->q);
	free(x->qset);
	free(x->rt);
	for (i = 0; i < x->nchunks; i++)
		free(x->chunks[i]);
	free(x->chunks);
	free(x);
}

size_t mg_kidx_count(const struct mg_kidx *x)
{
	return x->live;
}

size_t mg_kidx_bytes(const struct mg_kidx *x)
{
	return x->cap * 12 + x->rtcap * 4 +
	       (size_t)x->strcap * (sizeof(char *) + sizeof(struct mg_quick) + 1) +
	       x->nchunks * CHUNK;
}

int mg_kidx_quick_set(struct mg_kidx *x, const char *ref, const struct mg_quick *q)
{
	uint32_t id;
	int rc = ref_id(x, ref, 1, &id);

	if (rc)
		return rc;
	x->q[id] = *q;
	x->qset[id] = 1;
	return 0;
}

int mg_kidx_quick_get(struct mg_kidx *x, const char *ref, struct mg_quick *q)
{
	uint32_t id;

	if (ref_id(x, ref, 0, &id) || !x->qset[id])
		return MC_E_NOTFOUND;
	*q = x->q[id];
	return 0;
}

static int ref_grow(struct mg_kidx *x)
{
	size_t ncap = x->rtcap ? x->rtcap * 2 : 1024, i;
	uint32_t *nt = malloc(ncap * sizeof(*nt));

	if (!nt)
		return -ENOMEM;
	memset(nt, 0xff, ncap * sizeof(*nt));
	for (i = 0; i < x->nstr; i++) {
		size_t s = mc_mix64(str_hash(x->str[i])) & (ncap - 1);

		while (nt[s] != EMPTY)
			s = (s + 1) & (ncap - 1);
		nt[s] = (uint32_t)i;
	}
	free(x->rt);
	x->rt = nt;
	x->rtcap = ncap;
	return 0;
}

/* Interned id of ref; create: add it when missing. 0, MC_E_NOTFOUND,
 * -ENOMEM, MC_E_TOOBIG. */
static int ref_id(struct mg_kidx *x, const char *ref, int create, uint32_t *ret)
{
	size_t s, l;
	char *p;

	if (x->rtcap) {
		for (s = mc_mix64(str_hash(ref)) & (x->rtcap - 1); x->rt[s] != EMPTY;
		     s = (s + 1) & (x->rtcap - 1))
			if (!strcmp(x->str[x->rt[s]], ref)) {
				*ret = x->rt[s];
				return 0;
			}
	}
	if (!create)
		return MC_E_NOTFOUND;
	if (x->nstr >= MAX_REFS)
		return MC_E_TOOBIG;
	if ((size_t)(x->nstr + 1) * 4 > x->rtcap * 3 && ref_grow(x))
		return -ENOMEM;
	if (x->nstr == x->strcap) {
		uint32_t nc = x->strcap ? x->strcap * 2 : 1024;
		char **ns = realloc(x->str, (size_t)nc * sizeof(*ns));
		struct mg_quick *nq;
		uint8_t *nqs;

		if (!ns)
			return -ENOMEM;
		x->str = ns;
		nq = realloc(x->q, (size_t)nc * sizeof(*nq));
		if (!nq)
			return -ENOMEM;
		x->q = nq;
		nqs = realloc(x->qset, nc);
		if (!nqs)
			return -ENOMEM;
		x->qset = nqs;
		memset(nqs + x->strcap, 0, nc - x->strcap);
		x->strcap = nc;
	}
	l = strlen(ref) + 1;
	if (l > CHUNK)
		return MC_E_TOOBIG;
	if (!x->chunk || x->chunk_used + l > CHUNK) {
		char **nc = realloc(x->chunks, (x->nchunks + 1) * sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		x->chunks = nc;
		if (!(x->chunk = malloc(CHUNK)))
			return -ENOMEM;
		x->chunks[x->nchunks++] = x->chunk;
		x->chunk_used = 0;
	}
	p = x->chunk + x->chunk_used;
	memcpy(p, ref, l);
	x->chunk_used += l;
	x->str[x->nstr] = p;
	for (s = mc_mix64(str_hash(ref)) & (x->rtcap - 1); x->rt[s] != EMPTY; s = (s + 1) & (x->rtcap - 1))
		;
	x->rt[s] = x->nstr;
	*ret = x->nstr++;
	return 0;
}

static int grow(struct mg_kidx *x)
{
	size_t ncap = x->cap ? (x->live * 2 > x->cap ? x->cap * 2 : x->cap) : 4096, i;
	uint64_t *nh = malloc(ncap * sizeof(*nh));
	uint32_t *nr = malloc(ncap * sizeof(*nr));

	if (!nh || !nr) {
		free(nh);
		free(nr);
		return -ENOMEM;
	}
	memset(nr, 0xff, ncap * sizeof(*nr));
	for (i = 0; i < x->cap; i++) {
		size_t s;

		if (x->r[i] >= GONE)
			continue;
		for (s = mc_mix64(x->h[i]) & (ncap - 1); nr[s] != EMPTY; s = (s + 1) & (ncap - 1))
			;
		nh[s] = x->h[i];
		nr[s] = x->r[i];
	}
	free(x->h);
	free(x->r);
	x->h = nh;
	x->r = nr;
	x->cap = ncap;
	x->used = x->live;
	return 0;
}

int mg_kidx_add(struct mg_kidx *x, uint64_t h, const char *ref)
{
	uint32_t id;
	size_t s, gone = SIZE_MAX;
	int rc = ref_id(x, ref, 1, &id);

	if (rc)
		return rc;
	if ((x->used + 1) * 4 > x->cap * 3 && (rc = grow(x)))
		return rc;
	for (s = mc_mix64(h) & (x->cap - 1); x->r[s] != EMPTY; s = (s + 1) & (x->cap - 1)) {
		if (x->r[s] == GONE) {
			if (gone == SIZE_MAX)
				gone = s;
		} else if (x->h[s] == h && x->r[s] == id) {
			return 0; /* listed already */
		}
	}
	if (gone != SIZE_MAX) {
		s = gone;
	} else {
		x->used++;
	}
	x->h[s] = h;
	x->r[s] = id;
	x->live++;
	return 0;
}

int mg_kidx_del(struct mg_kidx *x, uint64_t h, const char *ref)
{
	uint32_t id;
	size_t s;

	if (!x->cap || ref_id(x, ref, 0, &id))
		return 0;
	for (s = mc_mix64(h) & (x->cap - 1); x->r[s] != EMPTY; s = (s + 1) & (x->cap - 1))
		if (x->r[s] == id && x->h[s] == h) {
			x->r[s] = GONE;
			x->live--;
			return 0;
		}
	return 0;
}

int mg_kidx_each(struct mg_kidx *x, uint64_t h, int (*cb)(void *ctx, const char *ref),
		 void *ctx)
{
	size_t s;
	int rc;

	if (!x->cap)
		return 0;
	for (s = mc_mix64(h) & (x->cap - 1); x->r[s] != EMPTY; s = (s + 1) & (x->cap - 1))
		if (x->r[s] != GONE && x->h[s] == h && (rc = cb(ctx, x->str[x->r[s]])))
			return rc;
	return 0;
}

/* for writing the index back in key order: (hash, ref) sorted as the
 * mg_key database sorts its keys (hash big-endian, then the ref's bytes) */
struct kent {
	uint64_t h;
	const char *ref;
};

static int kent_cmp(const void *a, const void *b)
{
	const struct kent *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return strcmp(x->ref, y->ref);
}

int mg_kidx_sorted(struct mg_kidx *x, int (*cb)(void *ctx, uint64_t h, const char *ref),
		   void *ctx)
{
	struct kent *v;
	size_t i, n = 0;
	int rc = 0;

	if (!x->live)
		return 0;
	v = malloc(x->live * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < x->cap; i++)
		if (x->r[i] < GONE) {
			v[n].h = x->h[i];
			v[n].ref = x->str[x->r[i]];
			n++;
		}
	/* only the strings are needed from here on */
	free(x->h);
	free(x->r);
	free(x->q);
	free(x->qset);
	free(x->rt);
	x->h = NULL;
	x->r = NULL;
	x->q = NULL;
	x->qset = NULL;
	x->rt = NULL;
	x->cap = x->used = x->live = 0;
	x->rtcap = 0;
	x->strcap = 0;
	qsort(v, n, sizeof(*v), kent_cmp);
	for (i = 0; i < n && !rc; i++)
		rc = cb(ctx, v[i].h, v[i].ref);
	free(v);
	return rc;
}
