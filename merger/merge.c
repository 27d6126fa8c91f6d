/* merge.c — the clustering engine: members, union records, keys, overrides.
 *
 * A union record is a connected component of the graph whose edges are
 * verified pairs (mg_verify) between records that share a match key, plus
 * `join` overrides, minus `never` overrides and members that must stand
 * alone (`split`). Adding a record merges every union it links to into the
 * oldest of them (smallest id); a change or removal re-clusters the union it
 * left, and a part that comes loose gets a new id. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "merger-internal.h"

#define OV_NEVER "n\t"
#define OV_JOIN "j\t"
#define OV_SPLIT "s\t"

/* ---- creation ---- */

static int merger_alloc(struct mg_merger **ret)
{
	struct mg_merger *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	if (mc_arena_new(256u << 20, &m->a)) {
		free(m);
		return -ENOMEM;
	}
	mc_buf_init(&m->tmp, 64u << 20);
	mc_buf_init(&m->tmp2, 64u << 20);
	m->now = (int64_t)time(NULL);
	*ret = m;
	return 0;
}

int mg_merger_new_memory(struct mg_merger **ret)
{
	struct mg_merger *m;
	int rc = merger_alloc(&m);

	if (rc)
		return rc;
	rc = mg_memkv_new(&m->mem);
	if (rc) {
		mg_merger_free(m);
		return rc;
	}
	mg_memkv_ops(m->mem, &m->kv);
	*ret = m;
	return 0;
}

void mg_merger_free(struct mg_merger *m)
{
	if (!m)
		return;
	mg_memkv_free(m->mem);
	mc_arena_free(m->a);
	mc_buf_free(&m->tmp);
	mc_buf_free(&m->tmp2);
	free(m);
}

void mg_merger_set_time(struct mg_merger *m, int64_t now)
{
	m->now = now;
}

const struct mg_stats *mg_merger_stats(const struct mg_merger *m)
{
	return &m->st;
}

/* ---- storage helpers ---- */

static int get_mem(struct mg_merger *m, const char *ref, struct mg_mem *out)
{
	const void *v;
	size_t vl;
	int rc = m->kv.get(m->kv.ctx, MG_DB_MEMBER, ref, strlen(ref), &v, &vl);

	return rc ? rc : mg_mem_unpack(v, vl, m->a, out);
}

static int put_mem(struct mg_merger *m, const struct mg_mem *mem0)
{
	struct mg_mem t = *mem0, *mem = &t;
	int rc;

	t.epoch = m->epoch;
	rc = mg_mem_pack(mem, &m->tmp);

	if (!rc && m->kidx) {
		struct mg_quick q;

		mg_quick_from_mem(mem, &q);
		rc = mg_kidx_quick_set(m->kidx, mem->ref, &q);
	}
	return rc ? rc
		  : m->kv.put(m->kv.ctx, MG_DB_MEMBER, mem->ref, strlen(mem->ref), m->tmp.data,
			      m->tmp.len);
}

static int get_union(struct mg_merger *m, uint64_t id, struct mg_union *u)
{
	unsigned char k[8];
	const void *v;
	size_t vl;
	int rc;

	mc_put_be64(k, id);
	rc = m->kv.get(m->kv.ctx, MG_DB_UNION, k, 8, &v, &vl);
	if (rc)
		return rc;
	u->id = id;
	return mg_union_unpack(v, vl, m->a, u);
}

static int put_union(struct mg_merger *m, const struct mg_union *u0)
{
	struct mg_union t = *u0, *u = &t;
	unsigned char k[8];
	int rc;

	t.epoch = m->epoch;
	rc = mg_union_pack(u, &m->tmp);

	mc_put_be64(k, u->id);
	return rc ? rc : m->kv.put(m->kv.ctx, MG_DB_UNION, k, 8, m->tmp.data, m->tmp.len);
}

/* A change of u: new datestamp, one entry in the union feed. */
static int bump(struct mg_merger *m, struct mg_union *u)
{
	unsigned char k[8], v[8];
	uint64_t seq;
	int rc;

	u->datestamp = m->now > u->datestamp ? m->now : u->datestamp;
	rc = m->kv.seq_next(m->kv.ctx, MG_DB_FEED, &seq);
	if (rc)
		return rc;
	mc_put_be64(k, seq);
	mc_put_be64(v, u->id);
	m->st.unions_changed++;
	return m->kv.put(m->kv.ctx, MG_DB_FEED, k, 8, v, 8);
}

/* A new union record. During a rebuild, the record being placed takes back
 * the id it had before when nothing rebuilt holds that id yet: union ids
 * stay what they were for the same records. */
static int new_union(struct mg_merger *m, struct mg_union *u)
{
	uint64_t id = 0, pref[2] = { m->pref_uid, m->pref_uid2 };
	int64_t created = m->now;
	int rc, i;

	m->pref_uid = m->pref_uid2 = 0;
	for (i = 0; i < 2 && !id && m->rebuilding; i++) {
		struct mg_union o;

		if (!pref[i])
			continue;
		rc = get_union(m, pref[i], &o);
		if (rc && rc != MC_E_NOTFOUND)
			return rc;
		if (!rc && o.epoch < m->epoch) {
			id = pref[i];
			created = o.created;
		}
	}
	if (!id && (rc = m->kv.seq_next(m->kv.ctx, MG_DB_UNION, &id)))
		return rc;
	memset(u, 0, sizeof(*u));
	u->id = id;
	u->created = created;
	u->datestamp = m->now;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int union_add(struct mg_merger *m, struct mg_union *u, const char *ref)
{
	const char **nv;
	size_t i;

	for (i = 0; i < u->nmembers; i++)
		if (!strcmp(u->members[i], ref))
			return 0;
	nv = mc_arena_alloc(m->a, (u->nmembers + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	if (u->nmembers)
		memcpy(nv, u->members, u->nmembers * sizeof(*nv));
	nv[u->nmembers++] = ref;
	qsort(nv, u->nmembers, sizeof(*nv), cmp_str);
	u->members = nv;
	u->cap = u->nmembers;
	return 0;
}

static void union_remove(struct mg_union *u, const char *ref)
{
	size_t i;

	for (i = 0; i < u->nmembers; i++)
		if (!strcmp(u->members[i], ref)) {
			memmove(&u->members[i], &u->members[i + 1],
				(u->nmembers - i - 1) * sizeof(*u->members));
			u->nmembers--;
			return;
		}
}

/* key lists: key -> packed list of member refs */
static int get_list(struct mg_merger *m, const char *db, const char *key, const char ***refs,
		    size_t *n)
{
	struct mg_rd r;
	const void *v;
	size_t vl, i;
	uint64_t c;
	int rc = m->kv.get(m->kv.ctx, db, key, strlen(key), &v, &vl);

	*refs = NULL;
	*n = 0;
	if (rc == MC_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	r.p = v;
	r.end = (const unsigned char *)v + vl;
	r.bad = 0;
	c = mg_get_u(&r);
	if (r.bad || c > vl)
		return MC_E_CORRUPT;
	if (!c)
		return 0;
	*refs = mc_arena_alloc(m->a, c * sizeof(char *));
	if (!*refs)
		return -ENOMEM;
	for (i = 0; i < c && !r.bad; i++)
		(*refs)[i] = mg_get_s(&r, m->a);
	if (r.bad)
		return r.bad == 2 ? -ENOMEM : MC_E_CORRUPT;
	*n = c;
	return 0;
}

static int put_list(struct mg_merger *m, const char *db, const char *key, const char **refs,
		    size_t n)
{
	size_t i;
	int rc;

	if (!n) {
		rc = m->kv.del(m->kv.ctx, db, key, strlen(key));
		return rc == MC_E_NOTFOUND ? 0 : rc;
	}
	mc_buf_reset(&m->tmp2);
	rc = mg_put_u(&m->tmp2, n);
	for (i = 0; !rc && i < n; i++)
		rc = mg_put_s(&m->tmp2, refs[i]);
	return rc ? rc : m->kv.put(m->kv.ctx, db, key, strlen(key), m->tmp2.data, m->tmp2.len);
}

static int list_edit(struct mg_merger *m, const char *db, const char *key, const char *ref,
		     int add)
{
	const char **refs, **nv;
	size_t n, i;
	int rc = get_list(m, db, key, &refs, &n);

	if (rc)
		return rc;
	for (i = 0; i < n; i++)
		if (!strcmp(refs[i], ref))
			break;
	if (add) {
		if (i < n || n >= 2 * MG_MAX_KEY_REFS)
			return 0; /* listed, or the key is too common to help */
		nv = mc_arena_alloc(m->a, (n + 1) * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		if (n)
			memcpy(nv, refs, n * sizeof(*nv));
		nv[n++] = ref;
		return put_list(m, db, key, nv, n);
	}
	if (i == n)
		return 0;
	memmove(&refs[i], &refs[i + 1], (n - i - 1) * sizeof(*refs));
	return put_list(m, db, key, refs, n - 1);
}

/* match keys: (hash of the key, member ref) -> ""; members of a key by prefix */
struct keyrefs {
	struct mg_merger *m;
	const char **refs;
	size_t n, plen;
	int rc;
};

static int keyref_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct keyrefs *x = ctx;

	if (x->n > MG_MAX_KEY_REFS)
		return 1; /* too common to tell anything */
	x->refs[x->n] = mc_arena_strndup(x->m->a, (const char *)k + x->plen, kl - x->plen);
	if (!x->refs[x->n]) {
		x->rc = -ENOMEM;
		return 1;
	}
	x->n++;
	return 0;
}

/* A match key is indexed by its 64-bit FNV-1a hash (big-endian): short
 * index keys keep the index small; a collision only adds a candidate, and
 * every candidate is verified. */
uint64_t mg_key_hash(const char *key)
{
	return mc_hash64_str(key);
}

static void key_hash(const char *key, unsigned char out[8])
{
	mc_put_be64(out, mg_key_hash(key));
}

static int kidx_ref_one(void *ctx, const char *ref)
{
	struct keyrefs *x = ctx;

	if (x->n > MG_MAX_KEY_REFS)
		return 1;
	x->refs[x->n] = mc_arena_strdup(x->m->a, ref);
	if (!x->refs[x->n]) {
		x->rc = -ENOMEM;
		return 1;
	}
	x->n++;
	return 0;
}

static int key_refs(struct mg_merger *m, const char *key, const char ***refs, size_t *n)
{
	struct keyrefs x = { m, NULL, 0, 8, 0 };
	unsigned char h[8];
	int rc;

	x.refs = mc_arena_alloc(m->a, (MG_MAX_KEY_REFS + 2) * sizeof(char *));
	if (!x.refs)
		return -ENOMEM;
	if (m->kidx) {
		rc = mg_kidx_each(m->kidx, mg_key_hash(key), kidx_ref_one, &x);
	} else {
		key_hash(key, h);
		rc = m->kv.each(m->kv.ctx, MG_DB_KEY, h, 8, keyref_one, &x);
	}
	if (x.rc)
		return x.rc;
	if (rc < 0)
		return rc;
	*refs = x.refs;
	*n = x.n;
	return 0;
}

static int key_edit(struct mg_merger *m, const char *key, const char *ref, int add)
{
	size_t rl = strlen(ref);
	char buf[MC_MAX_ID_BYTES];
	int rc;

	if (8 + rl > sizeof(buf) - 1)
		return 0; /* not indexed (over the store's key size) */
	if (m->kidx)
		return add ? mg_kidx_add(m->kidx, mg_key_hash(key), ref) :
			     mg_kidx_del(m->kidx, mg_key_hash(key), ref);
	key_hash(key, (unsigned char *)buf);
	memcpy(buf + 8, ref, rl);
	if (add)
		return m->kv.put(m->kv.ctx, MG_DB_KEY, buf, 8 + rl, "", 0);
	rc = m->kv.del(m->kv.ctx, MG_DB_KEY, buf, 8 + rl);
	return rc == MC_E_NOTFOUND ? 0 : rc;
}

static int has_key(const struct mg_mem *x, const char *k)
{
	size_t i;

	for (i = 0; x && i < x->nkeys; i++)
		if (!strcmp(x->keys[i], k))
			return 1;
	return 0;
}

/* ---- overrides ---- */

static const char *pair_key(struct mg_merger *m, const char *pre, const char *a, const char *b)
{
	if (strcmp(a, b) > 0) {
		const char *t = a;

		a = b;
		b = t;
	}
	return mc_arena_printf(m->a, "%s%s\t%s", pre, a, b);
}

static int ov_has(struct mg_merger *m, const char *k)
{
	const void *v;
	size_t vl;

	return k && m->kv.get(m->kv.ctx, MG_DB_OVERRIDE, k, strlen(k), &v, &vl) == 0;
}

static int is_never(struct mg_merger *m, const char *a, const char *b)
{
	return ov_has(m, pair_key(m, OV_NEVER, a, b));
}

static int is_split(struct mg_merger *m, const char *a)
{
	return ov_has(m, mc_arena_printf(m->a, OV_SPLIT "%s", a));
}

static int is_join(struct mg_merger *m, const char *a, const char *b)
{
	return ov_has(m, pair_key(m, OV_JOIN, a, b));
}

int mg_override_set(struct mg_merger *m, int kind, const char *r1, const char *r2)
{
	const char *k, *lk;
	int rc;

	if (!r1 || !strchr(r1, ':') || strlen(r1) > MG_MAX_REF)
		return MC_E_USAGE;
	if (kind == MG_SPLIT) {
		k = mc_arena_printf(m->a, OV_SPLIT "%s", r1);
		return k ? m->kv.put(m->kv.ctx, MG_DB_OVERRIDE, k, strlen(k), "", 0) : -ENOMEM;
	}
	if (!r2 || !strchr(r2, ':') || strlen(r2) > MG_MAX_REF || !strcmp(r1, r2))
		return MC_E_USAGE;
	if (kind != MG_NEVER && kind != MG_JOIN)
		return MC_E_USAGE;
	/* a pair is either never or join: the newer rule replaces the older */
	k = pair_key(m, kind == MG_NEVER ? OV_JOIN : OV_NEVER, r1, r2);
	if (!k)
		return -ENOMEM;
	rc = m->kv.del(m->kv.ctx, MG_DB_OVERRIDE, k, strlen(k));
	if (rc && rc != MC_E_NOTFOUND)
		return rc;
	if (kind == MG_JOIN) {
		/* partner lists find joins from either side */
		lk = mc_arena_printf(m->a, "J\t%s", r1);
		rc = lk ? list_edit(m, MG_DB_OVERRIDE, lk, r2, 1) : -ENOMEM;
		lk = mc_arena_printf(m->a, "J\t%s", r2);
		rc = rc ? rc : lk ? list_edit(m, MG_DB_OVERRIDE, lk, r1, 1) : -ENOMEM;
		if (rc)
			return rc;
	}
	k = pair_key(m, kind == MG_NEVER ? OV_NEVER : OV_JOIN, r1, r2);
	return k ? m->kv.put(m->kv.ctx, MG_DB_OVERRIDE, k, strlen(k), "", 0) : -ENOMEM;
}

/* Edge between two members: verified or joined, and not forbidden. */
static int linked(struct mg_merger *m, const struct mg_mem *a, const struct mg_mem *b,
		  const char **why)
{
	if (is_never(m, a->ref, b->ref)) {
		*why = "never (override)";
		return 0;
	}
	if (is_join(m, a->ref, b->ref)) {
		*why = "join (override)";
		return 1;
	}
	if (is_split(m, a->ref) || is_split(m, b->ref)) {
		*why = "split (override): stands alone";
		return 0;
	}
	return mg_verify(a, b, why);
}

/* ---- re-clustering a union after a member changed or left ---- */

static size_t uf_find(size_t *p, size_t i)
{
	while (p[i] != i)
		i = p[i] = p[p[i]];
	return i;
}

static int recluster(struct mg_merger *m, uint64_t id)
{
	struct mg_union u, nu;
	struct mg_mem *mem = NULL;
	size_t *par = NULL, *size = NULL, n, i, j, keep;
	const char *why;
	int rc;

	rc = get_union(m, id, &u);
	if (rc || u.status != MG_UNION_LIVE || u.nmembers < 2 || u.nmembers > MG_MAX_CLUSTER)
		return rc == MC_E_NOTFOUND ? 0 : rc;
	n = u.nmembers;
	mem = mc_arena_alloc(m->a, n * sizeof(*mem));
	par = mc_arena_alloc(m->a, n * sizeof(*par));
	size = mc_arena_zalloc(m->a, n * sizeof(*size));
	if (!mem || !par || !size)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		rc = get_mem(m, u.members[i], &mem[i]);
		if (rc)
			return rc;
		par[i] = i;
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (uf_find(par, i) != uf_find(par, j) && linked(m, &mem[i], &mem[j], &why))
				par[uf_find(par, i)] = uf_find(par, j);
	for (i = 0; i < n; i++)
		size[uf_find(par, i)]++;
	/* the largest part keeps the id (ties: the part of the first member) */
	keep = uf_find(par, 0);
	for (i = 0; i < n; i++)
		if (size[i] > size[keep])
			keep = i;
	if (size[keep] == n)
		return 0;
	for (i = 0; i < n; i++) {
		size_t root = uf_find(par, i);

		if (root == keep || !size[root])
			continue;
		rc = new_union(m, &nu);
		for (j = i; !rc && j < n; j++)
			if (uf_find(par, j) == root) {
				mem[j].uid = nu.id;
				rc = put_mem(m, &mem[j]);
				rc = rc ? rc : union_add(m, &nu, mem[j].ref);
				union_remove(&u, mem[j].ref);
			}
		rc = rc ? rc : bump(m, &nu);
		rc = rc ? rc : put_union(m, &nu);
		if (rc)
			return rc;
		size[root] = 0;
		m->st.unions_split++;
	}
	rc = bump(m, &u);
	return rc ? rc : put_union(m, &u);
}

/* Take ref out of union id; an emptied union becomes a tombstone. */
static int leave(struct mg_merger *m, uint64_t id, const char *ref, int regroup)
{
	struct mg_union u;
	int rc = get_union(m, id, &u);

	if (rc)
		return rc == MC_E_NOTFOUND ? 0 : rc;
	union_remove(&u, ref);
	if (!u.nmembers && u.status == MG_UNION_LIVE) {
		u.status = MG_UNION_TOMB;
		u.survivor = 0;
		m->st.unions_dissolved++;
	}
	rc = bump(m, &u);
	rc = rc ? rc : put_union(m, &u);
	if (!rc && regroup && u.nmembers > 1)
		rc = recluster(m, id);
	return rc;
}

/* ---- applying one record ---- */

static int add_uid(uint64_t *v, size_t *n, size_t max, uint64_t id)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (v[i] == id)
			return 0;
	if (*n < max)
		v[(*n)++] = id;
	return 0;
}

static const char *source_of(struct mg_merger *m, const char *ref)
{
	const char *c = strchr(ref, ':');

	return c ? mc_arena_strndup(m->a, ref, (size_t)(c - ref)) : ref;
}

/* May union u take nw? At most one record per source, unless nw itself
 * matches that source's record (the source holds a duplicate). */
static int source_rule(struct mg_merger *m, const struct mg_union *u, const struct mg_mem *nw,
		       int *dup)
{
	const char *src = source_of(m, nw->ref);
	size_t sl = strlen(src), i;
	const char *why;

	for (i = 0; i < u->nmembers; i++) {
		struct mg_mem o;

		if (strncmp(u->members[i], src, sl) || u->members[i][sl] != ':' ||
		    !strcmp(u->members[i], nw->ref))
			continue;
		if (get_mem(m, u->members[i], &o))
			return 0;
		/* a source's own duplicate needs a shared identifier (or a join) */
		if (!linked(m, nw, &o, &why) || (!mg_shared_id(nw, &o) && !is_join(m, nw->ref, o.ref)))
			return 0;
		*dup = 1;
	}
	return 1;
}

/* Does union u hold a record of a source that one of the refs[0..n) has? */
static int sources_collide(const struct mg_union *u, const char **refs, size_t n)
{
	size_t i, j;

	for (i = 0; i < u->nmembers; i++) {
		const char *c = strchr(u->members[i], ':');
		size_t sl = c ? (size_t)(c - u->members[i]) : strlen(u->members[i]);

		for (j = 0; j < n; j++)
			if (!strncmp(refs[j], u->members[i], sl) && refs[j][sl] == ':' &&
			    strcmp(refs[j], u->members[i]))
				return 1;
	}
	return 0;
}

#define MAX_CAND 256

static int place(struct mg_merger *m, struct mg_mem *nw, const struct mg_mem *old)
{
	uint64_t ids[MAX_CAND], target = 0;
	const char **seen, **refs;
	size_t nids = 0, nseen = 0, nkeyed, i, j, n;
	struct mg_quick qn, qc;
	struct mg_union t;
	int rc = 0, alone_old = 0, old_in = 0, dup = 0;
	const char *why;

	seen = mc_arena_alloc(m->a, MAX_CAND * sizeof(*seen));
	if (!seen)
		return -ENOMEM;
	/* candidates through the keys, then join overrides */
	for (i = 0; i < nw->nkeys && !rc; i++) {
		rc = key_refs(m, nw->keys[i], &refs, &n);
		if (n > MG_MAX_KEY_REFS)
			continue;
		for (j = 0; !rc && j < n && nseen < MAX_CAND; j++) {
			size_t k;

			if (!strcmp(refs[j], nw->ref))
				continue;
			for (k = 0; k < nseen; k++)
				if (!strcmp(seen[k], refs[j]))
					break;
			if (k == nseen)
				seen[nseen++] = refs[j];
		}
	}
	nkeyed = nseen;
	if (!rc) {
		const char *lk = mc_arena_printf(m->a, "J\t%s", nw->ref);

		rc = lk ? get_list(m, MG_DB_OVERRIDE, lk, &refs, &n) : -ENOMEM;
		for (j = 0; !rc && j < n && nseen < MAX_CAND; j++)
			seen[nseen++] = refs[j];
	}
	if (rc)
		return rc;
	if (m->kidx)
		mg_quick_from_mem(nw, &qn);
	for (i = 0; i < nseen; i++) {
		struct mg_mem c;

		/* candidates through keys (not join partners) that fail the
		 * first rules are not read at all */
		if (m->kidx && i < nkeyed && !mg_kidx_quick_get(m->kidx, seen[i], &qc) &&
		    mg_quick_reject(&qn, &qc)) {
			m->st.quick_rejects++;
			continue;
		}
		m->st.candidates_read++;
		rc = get_mem(m, seen[i], &c);
		if (rc == MC_E_NOTFOUND || (!rc && c.epoch < m->epoch)) {
			rc = 0; /* gone, or not re-applied yet in a rebuild */
			continue;
		}
		if (rc)
			return rc;
		if (linked(m, nw, &c, &why))
			add_uid(ids, &nids, MAX_CAND, c.uid);
	}
	/* the record's own union stays its union when it still links to it or
	 * held nothing else */
	if (old) {
		struct mg_union ou;

		rc = get_union(m, old->uid, &ou);
		if (rc && rc != MC_E_NOTFOUND)
			return rc;
		if (!rc && ou.status == MG_UNION_LIVE && ou.nmembers == 1 &&
		    !strcmp(ou.members[0], nw->ref)) {
			alone_old = 1;
			add_uid(ids, &nids, MAX_CAND, old->uid);
		}
		rc = 0;
	}
	/* per-source rule, on each candidate union */
	for (i = 0; i < nids;) {
		struct mg_union cu;

		rc = get_union(m, ids[i], &cu);
		if (rc)
			return rc == MC_E_NOTFOUND ? MC_E_CORRUPT : rc;
		if (cu.status != MG_UNION_LIVE || !source_rule(m, &cu, nw, &dup)) {
			ids[i] = ids[--nids];
			continue;
		}
		i++;
	}
	/* unions to merge must not bring two records of one source together:
	 * the oldest unions win */
	if (nids > 1) {
		const char **acc;
		size_t nacc = 0, k;

		for (i = 1; i < nids; i++)
			for (j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
				uint64_t tmp = ids[j];

				ids[j] = ids[j - 1];
				ids[j - 1] = tmp;
			}
		acc = mc_arena_alloc(m->a, 4096 * sizeof(*acc));
		if (!acc)
			return -ENOMEM;
		for (i = 0, k = 0; i < nids; i++) {
			struct mg_union cu;

			rc = get_union(m, ids[i], &cu);
			if (rc)
				return rc;
			if (k && sources_collide(&cu, acc, nacc))
				continue;
			for (j = 0; j < cu.nmembers && nacc < 4096; j++)
				acc[nacc++] = cu.members[j];
			ids[k++] = ids[i];
		}
		nids = k;
	}
	if (dup)
		m->st.source_dups++;
	for (i = 0; old && i < nids; i++)
		if (ids[i] == old->uid)
			old_in = 1;
	for (i = 0; i < nids; i++)
		if (!target || ids[i] < target)
			target = ids[i];
	if (target) {
		rc = get_union(m, target, &t);
		if (rc)
			return rc;
	} else {
		rc = new_union(m, &t);
		if (rc)
			return rc;
		m->st.unions_new++;
		if (!nw->origin)
			nw->origin = t.id;
	}
	/* merge the other unions into the oldest */
	for (i = 0; i < nids; i++) {
		struct mg_union o;

		if (ids[i] == target)
			continue;
		rc = get_union(m, ids[i], &o);
		for (j = 0; !rc && j < o.nmembers; j++) {
			struct mg_mem x;

			if (!strcmp(o.members[j], nw->ref))
				continue;
			rc = get_mem(m, o.members[j], &x);
			if (rc)
				break;
			x.uid = target;
			rc = put_mem(m, &x);
			rc = rc ? rc : union_add(m, &t, x.ref);
		}
		if (rc)
			return rc;
		o.status = MG_UNION_TOMB;
		o.survivor = target;
		o.nmembers = 0;
		rc = bump(m, &o);
		rc = rc ? rc : put_union(m, &o);
		if (rc)
			return rc;
		m->st.unions_merged++;
	}
	nw->uid = target ? target : t.id;
	rc = union_add(m, &t, nw->ref);
	rc = rc ? rc : put_mem(m, nw);
	rc = rc ? rc : bump(m, &t);
	rc = rc ? rc : put_union(m, &t);
	if (rc)
		return rc;
	if (old && !old_in)
		rc = leave(m, old->uid, nw->ref, 1);
	else if (old && !alone_old && t.nmembers > 2)
		rc = recluster(m, nw->uid); /* it may have been the bridge */
	return rc;
}

static int update_keys(struct mg_merger *m, const struct mg_mem *old, const struct mg_mem *nw)
{
	size_t i;
	int rc = 0;

	for (i = 0; old && !rc && i < old->nkeys; i++)
		if (!has_key(nw, old->keys[i]))
			rc = key_edit(m, old->keys[i], old->ref, 0);
	for (i = 0; nw && !rc && i < nw->nkeys; i++)
		if (!has_key(old, nw->keys[i]))
			rc = key_edit(m, nw->keys[i], nw->ref, 1);
	return rc;
}

static int apply_ref(struct mg_merger *m, const char *ref, const struct mc_record *rec, int force)
{
	struct mg_mem old, nw;
	uint64_t origin = 0;
	int rc, have_old;

	rc = get_mem(m, ref, &old);
	if (rc && rc != MC_E_NOTFOUND)
		return rc;
	have_old = rc == 0;
	if (have_old && old.epoch < m->epoch) {
		/* from before the rebuild: its union is the old catalogue's, its
		 * keys are gone; it is placed afresh, keeping its id if it can */
		have_old = 0;
		if (!rec || rec->status == MC_REC_DELETED) {
			rc = m->kv.del(m->kv.ctx, MG_DB_MEMBER, ref, strlen(ref));
			return rc == MC_E_NOTFOUND ? 0 : rc;
		}
		/* the union it is in; when a rebuilt union holds that id already
		 * (it had merged into an older one), the union it started, so a
		 * replay of the same records in the same order gives every id,
		 * tombstones too, as it was */
		m->pref_uid = old.uid;
		m->pref_uid2 = old.origin;
		origin = old.origin;
	}
	if (!rec || rec->status == MC_REC_DELETED) {
		if (!have_old)
			return 0;
		rc = update_keys(m, &old, NULL);
		rc = rc ? rc : m->kv.del(m->kv.ctx, MG_DB_MEMBER, ref, strlen(ref));
		return rc ? rc : leave(m, old.uid, ref, 1);
	}
	rc = mg_mem_from_record(rec, m->a, &nw);
	if (rc)
		return rc;
	nw.origin = have_old ? old.origin : origin;
	if (have_old && !force) {
		struct mc_buf a;
		int same;

		/* same content (the datestamp alone does not count) */
		nw.uid = old.uid;
		nw.epoch = old.epoch;
		nw.origin = old.origin;
		nw.datestamp = old.datestamp;
		mc_buf_init(&a, 64u << 20);
		rc = mg_mem_pack(&nw, &a);
		rc = rc ? rc : mg_mem_pack(&old, &m->tmp);
		same = !rc && a.len == m->tmp.len && !memcmp(a.data, m->tmp.data, a.len);
		mc_buf_free(&a);
		nw.datestamp = rec->datestamp;
		if (rc)
			return rc;
		if (same) {
			m->st.unchanged++;
			return 0;
		}
	}
	rc = update_keys(m, have_old ? &old : NULL, &nw);
	return rc ? rc : place(m, &nw, have_old ? &old : NULL);
}

int mg_merger_apply(struct mg_merger *m, const struct mc_record *rec, struct mc_error *err)
{
	const char *ref;
	int rc;

	mc_arena_reset(m->a);
	m->st.records++;
	m->pref_uid = m->pref_uid2 = 0;
	ref = mc_arena_printf(m->a, "%s:%s", rec->source, rec->local_id);
	if (!ref)
		return mc_error_set(err, -ENOMEM, "out of memory");
	rc = apply_ref(m, ref, rec, 0);
	if (rc) {
		if (err) {
			mc_error_field(err->source, sizeof(err->source), rec->source);
			mc_error_field(err->record_id, sizeof(err->record_id), rec->local_id);
		}
		return mc_error_set(err, rc, "merging %s: %s", ref, mg_kv_why(&m->kv, rc));
	}
	return 0;
}

int mg_merger_replace(struct mg_merger *m, const char *ref)
{
	struct mg_mem old, nw;
	int rc;

	mc_arena_reset(m->a);
	rc = get_mem(m, ref, &old);
	if (rc)
		return rc;
	nw = old;
	return place(m, &nw, &old);
}

/* ---- rebuild epochs ---- */

int mg_merger_load_state(struct mg_merger *m)
{
	const void *v;
	size_t vl;
	int rc = m->kv.get(m->kv.ctx, MG_DB_STATE, "epoch", 5, &v, &vl);

	m->epoch = 0;
	m->rebuilding = 0;
	if (rc == MC_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (vl != 8)
		return MC_E_CORRUPT;
	m->epoch = mc_get_be64(v);
	rc = m->kv.get(m->kv.ctx, MG_DB_STATE, "rebuild", 7, &v, &vl);
	m->rebuilding = rc == 0;
	return rc == MC_E_NOTFOUND ? 0 : rc;
}

int mg_rebuild_begin(struct mg_merger *m)
{
	unsigned char e[8];
	int rc = mg_merger_load_state(m);

	if (rc)
		return rc;
	m->epoch++;
	m->rebuilding = 1;
	mc_put_be64(e, m->epoch);
	rc = m->kv.put(m->kv.ctx, MG_DB_STATE, "epoch", 5, e, 8);
	rc = rc ? rc : m->kv.put(m->kv.ctx, MG_DB_STATE, "rebuild", 7, "", 0);
	return rc ? rc : m->kv.clear(m->kv.ctx, MG_DB_KEY);
}

struct stale {
	struct mg_merger *m;
	char **refs;
	uint64_t *ids;
	size_t n, cap, seen;
	int rc;
};

static void stale_seen(struct stale *x)
{
	if (++x->seen % MG_TRIM_WALK == 0 && x->m->kv.trim)
		x->m->kv.trim(x->m->kv.ctx);
}

static int stale_room(struct stale *x, size_t elem, void **v)
{
	size_t nc = x->cap ? x->cap * 2 : 256;
	void *p;

	if (x->n < x->cap)
		return 0;
	p = realloc(*v, nc * elem);
	if (!p)
		return x->rc = -ENOMEM;
	*v = p;
	x->cap = nc;
	return 0;
}

static int stale_member(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct stale *x = ctx;
	struct mg_mem mem;

	stale_seen(x);
	mc_arena_reset(x->m->a);
	x->rc = mg_mem_unpack(v, vl, x->m->a, &mem);
	if (x->rc)
		return 1;
	if (mem.epoch >= x->m->epoch)
		return 0;
	if (stale_room(x, sizeof(*x->refs), (void **)&x->refs))
		return 1;
	if (!(x->refs[x->n] = strdup(mem.ref)))
		return x->rc = -ENOMEM, 1;
	x->n++;
	return 0;
}

static int stale_union(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct stale *x = ctx;
	struct mg_union u;

	if (kl != 8)
		return x->rc = MC_E_CORRUPT, 1;
	stale_seen(x);
	mc_arena_reset(x->m->a);
	u.id = mc_get_be64(k);
	x->rc = mg_union_unpack(v, vl, x->m->a, &u);
	if (x->rc)
		return 1;
	if (u.epoch >= x->m->epoch || u.status != MG_UNION_LIVE)
		return 0;
	if (stale_room(x, sizeof(*x->ids), (void **)&x->ids))
		return 1;
	x->ids[x->n++] = u.id;
	return 0;
}

/* After the last record of a rebuild: members nobody re-applied go, and
 * every union of the old catalogue that no rebuilt union took back becomes
 * a tombstone (pointing to where its first still present member went, or
 * dissolved), with a feed entry, so harvesters learn it is gone. */
int mg_rebuild_finish(struct mg_merger *m)
{
	struct stale x = { m, NULL, NULL, 0, 0, 0, 0 };
	size_t i, j;
	int rc;

	if (!m->rebuilding)
		return 0;
	rc = m->kv.each(m->kv.ctx, MG_DB_MEMBER, NULL, 0, stale_member, &x);
	if (x.rc)
		rc = x.rc;
	for (i = 0; rc >= 0 && i < x.n; i++) {
		rc = m->kv.del(m->kv.ctx, MG_DB_MEMBER, x.refs[i], strlen(x.refs[i]));
		rc = rc == MC_E_NOTFOUND ? 0 : rc;
	}
	for (i = 0; i < x.n; i++)
		free(x.refs[i]);
	free(x.refs);
	if (rc < 0)
		return rc;
	memset(&x, 0, sizeof(x));
	x.m = m;
	rc = m->kv.each(m->kv.ctx, MG_DB_UNION, NULL, 0, stale_union, &x);
	if (x.rc)
		rc = x.rc;
	for (i = 0; rc >= 0 && i < x.n; i++) {
		struct mg_union u;

		mc_arena_reset(m->a);
		rc = get_union(m, x.ids[i], &u);
		if (rc)
			break;
		u.survivor = 0;
		for (j = 0; j < u.nmembers; j++) {
			struct mg_mem mem;

			if (!get_mem(m, u.members[j], &mem) && mem.epoch == m->epoch &&
			    mem.uid != u.id) {
				u.survivor = mem.uid;
				break;
			}
		}
		if (u.survivor)
			m->st.unions_merged++;
		else
			m->st.unions_dissolved++;
		u.status = MG_UNION_TOMB;
		u.nmembers = 0;
		rc = bump(m, &u);
		rc = rc ? rc : put_union(m, &u);
	}
	free(x.ids);
	if (rc < 0 || rc > 1)
		return rc;
	rc = m->kv.del(m->kv.ctx, MG_DB_STATE, "rebuild", 7);
	m->rebuilding = 0;
	return rc == MC_E_NOTFOUND ? 0 : rc;
}

/* ---- reading ---- */

int mg_member_union(struct mg_merger *m, const char *ref, uint64_t *ret)
{
	struct mg_mem x;
	int rc;

	mc_arena_reset(m->a);
	rc = get_mem(m, ref, &x);
	if (!rc)
		*ret = x.uid;
	return rc;
}

struct each_ctx {
	struct mg_merger *m;
	int (*cb)(void *ctx, const struct mg_union_view *u);
	void *ctx;
	struct mc_arena *a;
};

static int each_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct each_ctx *x = ctx;
	struct mg_union u;
	struct mg_union_view view;
	int rc;

	if (kl != 8)
		return 0;
	mc_arena_reset(x->a);
	u.id = mc_get_be64(k);
	rc = mg_union_unpack(v, vl, x->a, &u);
	if (rc)
		return rc;
	view.id = u.id;
	view.tombstone = u.status != MG_UNION_LIVE;
	view.survivor = u.survivor;
	view.datestamp = u.datestamp;
	view.created = u.created;
	view.nmembers = u.nmembers;
	view.members = u.members;
	return x->cb(x->ctx, &view);
}

int mg_union_get(struct mg_merger *m, uint64_t id,
		 int (*cb)(void *ctx, const struct mg_union_view *u), void *ctx)
{
	struct each_ctx x = { m, cb, ctx, m->a };
	unsigned char k[8];
	const void *v;
	size_t vl;
	int rc;

	mc_put_be64(k, id);
	rc = m->kv.get(m->kv.ctx, MG_DB_UNION, k, 8, &v, &vl);
	return rc ? rc : each_one(&x, k, 8, v, vl);
}

int mg_union_each(struct mg_merger *m, int (*cb)(void *ctx, const struct mg_union_view *u),
		  void *ctx)
{
	struct each_ctx x = { m, cb, ctx, NULL };
	int rc = mc_arena_new(64u << 20, &x.a);

	if (rc)
		return rc;
	rc = m->kv.each(m->kv.ctx, MG_DB_UNION, NULL, 0, each_one, &x);
	mc_arena_free(x.a);
	return rc;
}

struct feed_ctx {
	int (*cb)(void *ctx, uint64_t seq, uint64_t id);
	void *ctx;
	uint64_t after, max, n;
};

static int feed_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct feed_ctx *x = ctx;
	uint64_t seq;
	int rc;

	if (kl != 8 || vl != 8)
		return 0;
	seq = mc_get_be64(k);
	if (seq <= x->after)
		return 0;
	rc = x->cb(x->ctx, seq, mc_get_be64(v));
	if (!rc && x->max && ++x->n >= x->max)
		return 1;
	return rc;
}

int mg_feed_each(struct mg_merger *m, uint64_t after, uint64_t max,
		 int (*cb)(void *ctx, uint64_t seq, uint64_t union_id), void *ctx)
{
	struct feed_ctx x = { cb, ctx, after, max, 0 };
	int rc = m->kv.each(m->kv.ctx, MG_DB_FEED, NULL, 0, feed_one, &x);

	return rc == 1 && x.max && x.n >= x.max ? 0 : rc;
}

int mg_feed_last(struct mc_reader *r, uint64_t *ret)
{
	int rc = mc_reader_seq_get(r, MG_DB_FEED, ret);

	return rc == MC_E_NOTFOUND ? 0 : rc;
}

/* ---- explain ---- */

static int explain_mem(struct mc_buf *out, const struct mg_mem *x)
{
	size_t i;
	int rc = mc_buf_addf(out, "member %s (union %llu)\n  title: %s\n  year %d, edition %d, pages %d, material %s\n  keys:",
			     x->ref, (unsigned long long)x->uid, x->title ? x->title : "-", x->year,
			     x->edition, x->pages, x->material ? x->material : "-");

	for (i = 0; !rc && i < x->nkeys; i++)
		rc = mc_buf_addf(out, " %s", x->keys[i]);
	return rc ? rc : mc_buf_addc(out, '\n');
}

int mg_explain(struct mg_merger *m, const char *id, struct mc_buf *out)
{
	struct mg_union u;
	struct mg_mem *mem;
	uint64_t uid = 0;
	size_t i, j;
	const char *why;
	int rc;

	mc_arena_reset(m->a);
	if (strchr(id, ':')) {
		struct mg_mem x;

		rc = get_mem(m, id, &x);
		if (rc)
			return rc;
		uid = x.uid;
	} else {
		char *end;

		uid = strtoull(id, &end, 10);
		if (*end || !uid)
			return MC_E_USAGE;
	}
	rc = get_union(m, uid, &u);
	if (rc)
		return rc;
	rc = mc_buf_addf(out, "union %llu: %s, %zu members\n", (unsigned long long)uid,
			 u.status == MG_UNION_LIVE ? "live"
			 : u.survivor            ? "merged (tombstone)"
						 : "dissolved (tombstone)",
			 u.nmembers);
	if (!rc && u.status != MG_UNION_LIVE && u.survivor)
		rc = mc_buf_addf(out, "survivor: %llu\n", (unsigned long long)u.survivor);
	if (rc || !u.nmembers)
		return rc;
	mem = mc_arena_alloc(m->a, u.nmembers * sizeof(*mem));
	if (!mem)
		return -ENOMEM;
	for (i = 0; !rc && i < u.nmembers; i++) {
		rc = get_mem(m, u.members[i], &mem[i]);
		rc = rc ? rc : explain_mem(out, &mem[i]);
	}
	for (i = 0; !rc && i < u.nmembers && i < 64; i++)
		for (j = i + 1; !rc && j < u.nmembers && j < 64; j++) {
			int ok = linked(m, &mem[i], &mem[j], &why);

			rc = mc_buf_addf(out, "%s %s ~ %s: %s\n", ok ? "link" : "no  ", mem[i].ref,
					 mem[j].ref, why);
		}
	return rc;
}
