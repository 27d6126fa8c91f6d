/* kv-mem.c — the merger's key/value backend on an in-memory hash table
 * (unit tests and benchmarks; the store's named databases otherwise). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "merger-internal.h"

struct ent {
	struct ent *next;
	char *db;
	unsigned char *k, *v;
	size_t kl, vl;
	uint64_t h;
};

struct mg_memkv {
	struct ent **tab;
	size_t nb, n;
	struct {
		char name[32];
		uint64_t v;
	} seq[8];
};

static uint64_t hash(const char *db, const void *k, size_t kl)
{
	return mc_hash64_add(mc_hash64_byte(mc_hash64_str(db), 0xff), k, kl);
}

int mg_memkv_new(struct mg_memkv **ret)
{
	struct mg_memkv *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->nb = 1024;
	m->tab = calloc(m->nb, sizeof(*m->tab));
	if (!m->tab) {
		free(m);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

static void ent_free(struct ent *e)
{
	free(e->db);
	free(e->k);
	free(e->v);
	free(e);
}

void mg_memkv_free(struct mg_memkv *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nb; i++) {
		struct ent *e = m->tab[i], *nx;

		for (; e; e = nx) {
			nx = e->next;
			ent_free(e);
		}
	}
	free(m->tab);
	free(m);
}

static struct ent **find(struct mg_memkv *m, const char *db, const void *k, size_t kl, uint64_t h)
{
	struct ent **pe = &m->tab[h & (m->nb - 1)];

	for (; *pe; pe = &(*pe)->next)
		if ((*pe)->h == h && (*pe)->kl == kl && !memcmp((*pe)->k, k, kl) &&
		    !strcmp((*pe)->db, db))
			return pe;
	return pe;
}

static int mk_get(void *ctx, const char *db, const void *k, size_t kl, const void **v, size_t *vl)
{
	struct mg_memkv *m = ctx;
	struct ent **pe = find(m, db, k, kl, hash(db, k, kl));

	if (!*pe)
		return MC_E_NOTFOUND;
	*v = (*pe)->v;
	*vl = (*pe)->vl;
	return 0;
}

static int grow(struct mg_memkv *m)
{
	size_t nb = m->nb * 2, i;
	struct ent **t = calloc(nb, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (i = 0; i < m->nb; i++) {
		struct ent *e = m->tab[i], *nx;

		for (; e; e = nx) {
			nx = e->next;
			e->next = t[e->h & (nb - 1)];
			t[e->h & (nb - 1)] = e;
		}
	}
	free(m->tab);
	m->tab = t;
	m->nb = nb;
	return 0;
}

static int mk_put(void *ctx, const char *db, const void *k, size_t kl, const void *v, size_t vl)
{
	struct mg_memkv *m = ctx;
	uint64_t h = hash(db, k, kl);
	struct ent **pe = find(m, db, k, kl, h), *e;
	unsigned char *nv = malloc(vl ? vl : 1);

	if (!nv)
		return -ENOMEM;
	if (vl)
		memcpy(nv, v, vl);
	if (*pe) {
		free((*pe)->v);
		(*pe)->v = nv;
		(*pe)->vl = vl;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->db = strdup(db)) || !(e->k = malloc(kl ? kl : 1))) {
		if (e)
			free(e->db);
		free(e);
		free(nv);
		return -ENOMEM;
	}
	memcpy(e->k, k, kl);
	e->kl = kl;
	e->v = nv;
	e->vl = vl;
	e->h = h;
	e->next = *pe;
	*pe = e;
	if (++m->n > m->nb * 2 && grow(m))
		return 0; /* still stored; the table stays slower */
	return 0;
}

static int mk_del(void *ctx, const char *db, const void *k, size_t kl)
{
	struct mg_memkv *m = ctx;
	struct ent **pe = find(m, db, k, kl, hash(db, k, kl)), *e;

	if (!*pe)
		return MC_E_NOTFOUND;
	e = *pe;
	*pe = e->next;
	ent_free(e);
	m->n--;
	return 0;
}

static int cmp_ent(const void *x, const void *y)
{
	const struct ent *a = *(struct ent *const *)x, *b = *(struct ent *const *)y;
	size_t l = a->kl < b->kl ? a->kl : b->kl;
	int c = memcmp(a->k, b->k, l);

	if (c)
		return c;
	return a->kl < b->kl ? -1 : a->kl > b->kl;
}

static int mk_each(void *ctx, const char *db, const void *prefix, size_t pl, mc_kv_cb cb,
		   void *cbctx)
{
	struct mg_memkv *m = ctx;
	struct ent **v = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (m->n) {
		v = malloc(m->n * sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	for (i = 0; i < m->nb; i++) {
		struct ent *e;

		for (e = m->tab[i]; e; e = e->next)
			if (!strcmp(e->db, db) && e->kl >= pl && (!pl || !memcmp(e->k, prefix, pl)))
				v[n++] = e;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_ent);
	/* callbacks may not write to db; copies are not needed */
	for (i = 0; i < n && !rc; i++)
		rc = cb(cbctx, v[i]->k, v[i]->kl, v[i]->v, v[i]->vl);
	free(v);
	return rc;
}

static int mk_seq(void *ctx, const char *name, uint64_t *ret)
{
	struct mg_memkv *m = ctx;
	size_t i;

	for (i = 0; i < sizeof(m->seq) / sizeof(m->seq[0]); i++) {
		if (!m->seq[i].name[0])
			mc_error_field(m->seq[i].name, sizeof(m->seq[i].name), name);
		if (!strcmp(m->seq[i].name, name)) {
			*ret = ++m->seq[i].v;
			return 0;
		}
	}
	return MC_E_USAGE;
}

static int mk_clear(void *ctx, const char *db)
{
	struct mg_memkv *m = ctx;
	size_t i;

	for (i = 0; i < m->nb; i++) {
		struct ent **pe = &m->tab[i];

		while (*pe) {
			if (!strcmp((*pe)->db, db)) {
				struct ent *e = *pe;

				*pe = e->next;
				ent_free(e);
				m->n--;
			} else {
				pe = &(*pe)->next;
			}
		}
	}
	return 0;
}

void mg_memkv_ops(struct mg_memkv *m, struct mg_kv *kv)
{
	kv->ctx = m;
	kv->get = mk_get;
	kv->put = mk_put;
	kv->del = mk_del;
	kv->each = mk_each;
	kv->seq_next = mk_seq;
	kv->clear = mk_clear;
}
