/* mg-pack.c — encoding of member summaries and union records (schemas/union.md). */
#include <errno.h>
#include <string.h>

#include "merger-internal.h"

#define MG_MEM_VERSION 2     /* 2: + epoch; 1 is read as epoch 0 */
#define MG_UNION_VERSION 2

int mg_put_u(struct mc_buf *b, uint64_t v)
{
	unsigned char t[MC_VARINT_MAX];

	return mc_buf_add(b, t, mc_varint_put(t, v));
}

int mg_put_s(struct mc_buf *b, const char *s)
{
	size_t l;
	int rc;

	if (!s)
		return mg_put_u(b, 0);
	l = strlen(s);
	rc = mg_put_u(b, l + 1);
	return rc ? rc : mc_buf_add(b, s, l);
}

uint64_t mg_get_u(struct mg_rd *r)
{
	uint64_t v = 0;

	if (mc_varint_get(&r->p, r->end, &v))
		r->bad = 1;
	return v;
}

const char *mg_get_s(struct mg_rd *r, struct mc_arena *a)
{
	uint64_t l = mg_get_u(r);
	const char *s;

	if (r->bad || !l)
		return NULL;
	l--;
	if (l > (uint64_t)(r->end - r->p)) {
		r->bad = 1;
		return NULL;
	}
	s = mc_arena_strndup(a, (const char *)r->p, l);
	if (!s)
		r->bad = 2;
	r->p += l;
	return s;
}

static int put_list(struct mc_buf *b, const char *const *v, size_t n)
{
	size_t i;
	int rc = mg_put_u(b, n);

	for (i = 0; !rc && i < n; i++)
		rc = mg_put_s(b, v[i]);
	return rc;
}

static const char **get_list(struct mg_rd *r, struct mc_arena *a, size_t *n)
{
	uint64_t c = mg_get_u(r), i;
	const char **v;

	*n = 0;
	if (r->bad || !c)
		return NULL;
	if (c > (uint64_t)(r->end - r->p)) {
		r->bad = 1;
		return NULL;
	}
	v = mc_arena_alloc(a, c * sizeof(*v));
	if (!v) {
		r->bad = 2;
		return NULL;
	}
	for (i = 0; i < c && !r->bad; i++)
		v[i] = mg_get_s(r, a);
	*n = c;
	return v;
}

/* The uid is written last so that the bytes before it compare content. */
int mg_mem_pack(const struct mg_mem *m, struct mc_buf *out)
{
	size_t i;
	int rc = 0;

	mc_buf_reset(out);
	rc = mc_buf_addc(out, MG_MEM_VERSION);
	rc = rc ? rc : mg_put_s(out, m->ref);
	rc = rc ? rc : mg_put_u(out, (uint64_t)m->year);
	rc = rc ? rc : mg_put_u(out, (uint64_t)m->edition);
	rc = rc ? rc : mg_put_u(out, (uint64_t)m->pages);
	rc = rc ? rc : mg_put_u(out, (uint64_t)m->score);
	rc = rc ? rc : mg_put_u(out, (uint64_t)m->format);
	rc = rc ? rc : mg_put_u(out, (uint64_t)m->items);
	rc = rc ? rc : mg_put_s(out, m->material);
	rc = rc ? rc : mg_put_s(out, m->title);
	rc = rc ? rc : mg_put_s(out, m->ftitle);
	rc = rc ? rc : mg_put_s(out, m->fmain);
	rc = rc ? rc : mg_put_s(out, m->fpub);
	rc = rc ? rc : mg_put_s(out, m->resp);
	rc = rc ? rc : mg_put_s(out, m->edition_s);
	rc = rc ? rc : mg_put_s(out, m->publisher);
	rc = rc ? rc : mg_put_s(out, m->place);
	rc = rc ? rc : mg_put_s(out, m->date);
	rc = rc ? rc : mg_put_s(out, m->extent);
	rc = rc ? rc : mg_put_s(out, m->call_number);
	rc = rc ? rc : mg_put_u(out, m->nids);
	for (i = 0; !rc && i < m->nids; i++) {
		rc = mg_put_s(out, m->ids[i].type);
		rc = rc ? rc : mg_put_s(out, m->ids[i].value);
	}
	rc = rc ? rc : put_list(out, m->names, m->nnames);
	rc = rc ? rc : put_list(out, m->fnames, m->nnames);
	rc = rc ? rc : put_list(out, m->subjects, m->nsubjects);
	rc = rc ? rc : put_list(out, m->links, m->nlinks);
	rc = rc ? rc : put_list(out, m->keys, m->nkeys);
	/* content ends here; then the datestamp and the union id */
	rc = rc ? rc : mg_put_u(out, mc_zigzag(m->datestamp));
	rc = rc ? rc : mg_put_u(out, m->uid);
	rc = rc ? rc : mg_put_u(out, m->epoch);
	rc = rc ? rc : mg_put_u(out, m->origin);
	return rc;
}

int mg_mem_unpack(const void *p, size_t len, struct mc_arena *a, struct mg_mem *m)
{
	struct mg_rd r = { p, (const unsigned char *)p + len, 0 };
	size_t i, n2;

	int ver;

	memset(m, 0, sizeof(*m));
	if (!len || !*r.p || *r.p > MG_MEM_VERSION)
		return len && *r.p > MG_MEM_VERSION ? MC_E_VERSION : MC_E_CORRUPT;
	ver = *r.p++;
	m->ref = mg_get_s(&r, a);
	m->year = (int)mg_get_u(&r);
	m->edition = (int)mg_get_u(&r);
	m->pages = (int)mg_get_u(&r);
	m->score = (int)mg_get_u(&r);
	m->format = (int)mg_get_u(&r);
	m->items = (int)mg_get_u(&r);
	m->material = mg_get_s(&r, a);
	m->title = mg_get_s(&r, a);
	m->ftitle = mg_get_s(&r, a);
	m->fmain = mg_get_s(&r, a);
	m->fpub = mg_get_s(&r, a);
	m->resp = mg_get_s(&r, a);
	m->edition_s = mg_get_s(&r, a);
	m->publisher = mg_get_s(&r, a);
	m->place = mg_get_s(&r, a);
	m->date = mg_get_s(&r, a);
	m->extent = mg_get_s(&r, a);
	m->call_number = mg_get_s(&r, a);
	m->nids = mg_get_u(&r);
	if (!r.bad && m->nids) {
		if (m->nids > len) {
			r.bad = 1;
		} else {
			m->ids = mc_arena_alloc(a, m->nids * sizeof(*m->ids));
			if (!m->ids)
				r.bad = 2;
			for (i = 0; !r.bad && i < m->nids; i++) {
				m->ids[i].type = mg_get_s(&r, a);
				m->ids[i].value = mg_get_s(&r, a);
			}
		}
	}
	m->names = get_list(&r, a, &m->nnames);
	m->fnames = get_list(&r, a, &n2);
	if (n2 != m->nnames)
		r.bad = 1;
	m->subjects = get_list(&r, a, &m->nsubjects);
	m->links = get_list(&r, a, &m->nlinks);
	m->keys = get_list(&r, a, &m->nkeys);
	m->datestamp = mc_unzigzag(mg_get_u(&r));
	m->uid = mg_get_u(&r);
	if (ver >= 2) {
		m->epoch = mg_get_u(&r);
		m->origin = mg_get_u(&r);
	}
	if (r.bad == 2)
		return -ENOMEM;
	if (r.bad || r.p != r.end || !m->ref)
		return MC_E_CORRUPT;
	return 0;
}

int mg_union_pack(const struct mg_union *u, struct mc_buf *out)
{
	int rc;

	mc_buf_reset(out);
	rc = mc_buf_addc(out, MG_UNION_VERSION);
	rc = rc ? rc : mg_put_u(out, (uint64_t)u->status);
	rc = rc ? rc : mg_put_u(out, u->survivor);
	rc = rc ? rc : mg_put_u(out, mc_zigzag(u->created));
	rc = rc ? rc : mg_put_u(out, mc_zigzag(u->datestamp));
	rc = rc ? rc : put_list(out, u->members, u->nmembers);
	rc = rc ? rc : mg_put_u(out, u->epoch);
	return rc;
}

int mg_union_unpack(const void *p, size_t len, struct mc_arena *a, struct mg_union *u)
{
	struct mg_rd r = { p, (const unsigned char *)p + len, 0 };
	uint64_t id = u->id;
	int ver;

	memset(u, 0, sizeof(*u));
	u->id = id;
	if (!len || !*r.p || *r.p > MG_UNION_VERSION)
		return len && *r.p > MG_UNION_VERSION ? MC_E_VERSION : MC_E_CORRUPT;
	ver = *r.p++;
	u->status = (int)mg_get_u(&r);
	u->survivor = mg_get_u(&r);
	u->created = mc_unzigzag(mg_get_u(&r));
	u->datestamp = mc_unzigzag(mg_get_u(&r));
	u->members = get_list(&r, a, &u->nmembers);
	u->cap = u->nmembers;
	if (ver >= 2)
		u->epoch = mg_get_u(&r);
	if (r.bad == 2)
		return -ENOMEM;
	if (r.bad || r.p != r.end)
		return MC_E_CORRUPT;
	return 0;
}
