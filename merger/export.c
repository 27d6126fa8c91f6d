/* export.c — the merged record of a union: JSON and MARCXML. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "merger-internal.h"

struct merged {
	struct mg_union u;
	struct mg_mem *mem;
	size_t n, base;
};

static int cmp_mem(const void *a, const void *b)
{
	return strcmp(((const struct mg_mem *)a)->ref, ((const struct mg_mem *)b)->ref);
}

static int load(struct mg_merger *m, uint64_t id, struct merged *x)
{
	unsigned char k[8];
	const void *v;
	size_t vl, i;
	int rc;

	mc_arena_reset(m->a);
	memset(x, 0, sizeof(*x));
	mc_put_be64(k, id);
	rc = m->kv.get(m->kv.ctx, MG_DB_UNION, k, 8, &v, &vl);
	if (rc)
		return rc;
	x->u.id = id;
	rc = mg_union_unpack(v, vl, m->a, &x->u);
	if (rc || !x->u.nmembers)
		return rc;
	x->mem = mc_arena_alloc(m->a, x->u.nmembers * sizeof(*x->mem));
	if (!x->mem)
		return -ENOMEM;
	for (i = 0; i < x->u.nmembers; i++) {
		rc = m->kv.get(m->kv.ctx, MG_DB_MEMBER, x->u.members[i], strlen(x->u.members[i]), &v,
			       &vl);
		if (rc == MC_E_NOTFOUND)
			continue;
		rc = rc ? rc : mg_mem_unpack(v, vl, m->a, &x->mem[x->n]);
		if (rc)
			return rc;
		x->n++;
	}
	qsort(x->mem, x->n, sizeof(*x->mem), cmp_mem);
	/* the most complete member is the base (first ref on a tie) */
	for (i = 1; i < x->n; i++)
		if (x->mem[i].score > x->mem[x->base].score)
			x->base = i;
	return 0;
}

static int set_str(json_t *o, const char *k, const char *v)
{
	if (!v)
		return 0;
	return json_object_set_new(o, k, json_string(v)) ? -ENOMEM : 0;
}

static int arr_has(json_t *a, const char *v)
{
	size_t i;
	json_t *e;

	json_array_foreach(a, i, e)
		if (!strcmp(json_string_value(e), v))
			return 1;
	return 0;
}

static int arr_add(json_t *a, const char *v)
{
	if (!v || arr_has(a, v))
		return 0;
	return json_array_append_new(a, json_string(v)) ? -ENOMEM : 0;
}

static const char *source_part(struct mc_arena *a, const char *ref, const char **local)
{
	const char *c = strchr(ref, ':');

	*local = c ? c + 1 : "";
	return c ? mc_arena_strndup(a, ref, (size_t)(c - ref)) : ref;
}

int mg_union_json(struct mg_merger *m, uint64_t id, mg_name_fn names, mg_link_fn link, void *ctx,
		  struct mc_buf *out)
{
	struct merged x;
	json_t *o = NULL, *ids = NULL, *subj = NULL, *links = NULL, *hold = NULL, *mem = NULL,
	       *prov = NULL, *nm = NULL;
	struct mc_buf scratch;
	char when[32];
	size_t i, j;
	char *s = NULL;
	int rc;

	mc_buf_init(&scratch, 4096);
	rc = load(m, id, &x);
	if (rc)
		goto done;
	o = json_object();
	if (!o) {
		rc = -ENOMEM;
		goto done;
	}
	json_object_set_new(o, "id", json_integer((json_int_t)id));
	mc_time_iso(x.u.datestamp, when);
	set_str(o, "datestamp", when);
	if (x.u.status != MG_UNION_LIVE || !x.n) {
		json_object_set_new(o, "deleted", json_true());
		if (x.u.survivor)
			json_object_set_new(o, "survivor", json_integer((json_int_t)x.u.survivor));
	} else {
		const struct mg_mem *b = &x.mem[x.base];

		set_str(o, "title", b->title);
		set_str(o, "responsibility", b->resp);
		set_str(o, "edition", b->edition_s);
		set_str(o, "place", b->place);
		set_str(o, "publisher", b->publisher);
		set_str(o, "date", b->date);
		if (b->year)
			json_object_set_new(o, "year", json_integer(b->year));
		set_str(o, "extent", b->extent);
		set_str(o, "material", b->material);
		nm = json_array();
		ids = json_object();
		subj = json_array();
		links = json_array();
		hold = json_array();
		mem = json_array();
		prov = json_array();
		if (!nm || !ids || !subj || !links || !hold || !mem || !prov) {
			rc = -ENOMEM;
			goto done;
		}
		for (j = 0; j < b->nnames; j++)
			arr_add(nm, b->names[j]);
		for (i = 0; i < x.n; i++) {
			const struct mg_mem *e = &x.mem[i];
			const char *local, *src = source_part(m->a, e->ref, &local), *url = NULL;
			json_t *h, *p;

			for (j = 0; j < e->nids; j++) {
				json_t *t;

				if (!e->ids[j].type || !e->ids[j].value)
					continue;
				t = json_object_get(ids, e->ids[j].type);
				if (!t) {
					t = json_array();
					json_object_set_new(ids, e->ids[j].type, t);
				}
				if (t)
					arr_add(t, e->ids[j].value);
			}
			for (j = 0; j < e->nsubjects; j++)
				arr_add(subj, e->subjects[j]);
			for (j = 0; j < e->nlinks; j++)
				arr_add(links, e->links[j]);
			h = json_object();
			if (h) {
				const char *name = names ? names(ctx, src) : NULL;

				set_str(h, "library", src);
				set_str(h, "name", name);
				set_str(h, "call_number", e->call_number);
				json_object_set_new(h, "items", json_integer(e->items));
				mc_buf_reset(&scratch);
				url = link ? link(ctx, src, local, &scratch) : NULL;
				set_str(h, "link", url);
				json_array_append_new(hold, h);
			}
			arr_add(mem, e->ref);
			p = json_object();
			if (p) {
				set_str(p, "source", src);
				set_str(p, "local_id", local);
				mc_time_iso(e->datestamp, when);
				set_str(p, "datestamp", when);
				json_array_append_new(prov, p);
			}
		}
		if (json_array_size(nm))
			json_object_set(o, "names", nm);
		if (json_object_size(ids))
			json_object_set(o, "ids", ids);
		if (json_array_size(subj))
			json_object_set(o, "subjects", subj);
		if (json_array_size(links))
			json_object_set(o, "links", links);
		json_object_set(o, "holdings", hold);
		json_object_set(o, "members", mem);
		json_object_set(o, "provenance", prov);
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!s) {
		rc = -ENOMEM;
		goto done;
	}
	rc = mc_buf_adds(out, s);
done:
	free(s);
	json_decref(nm);
	json_decref(ids);
	json_decref(subj);
	json_decref(links);
	json_decref(hold);
	json_decref(mem);
	json_decref(prov);
	json_decref(o);
	mc_buf_free(&scratch);
	return rc;
}

static int sub(struct mc_record *r, struct mc_field *f, char code, const char *v)
{
	return v ? mc_marc_add_sub(r, f, code, v, strlen(v)) : 0;
}

static int data1(struct mc_record *r, const char *tag, char i1, char i2, char code, const char *v)
{
	struct mc_field *f;
	int rc;

	if (!v)
		return 0;
	rc = mc_marc_add_data(r, tag, i1, i2, &f);
	return rc ? rc : sub(r, f, code, v);
}

int mg_union_marcxml(struct mg_merger *m, uint64_t id, struct mc_buf *out)
{
	struct mc_record *r = NULL;
	struct mc_field *f;
	struct merged x;
	struct mc_marc *mm;
	char idbuf[32];
	size_t i, j;
	int rc;

	rc = load(m, id, &x);
	if (rc)
		return rc;
	if (x.u.status != MG_UNION_LIVE || !x.n)
		return 0;
	rc = mc_record_new(&r);
	if (rc)
		return rc;
	mm = mc_record_marc(r);
	if (!mm) {
		rc = -ENOMEM;
		goto done;
	}
	memcpy(mm->leader, "     nam a22     7a 4500", 24);
	if (x.mem[x.base].material && !strcmp(x.mem[x.base].material, "manuscript"))
		mm->leader[6] = 't';
	snprintf(idbuf, sizeof(idbuf), "%llu", (unsigned long long)id);
	rc = mc_marc_add_control(r, "001", idbuf, strlen(idbuf));
	{
		const struct mg_mem *b = &x.mem[x.base];

		for (i = 0; !rc && i < x.n; i++)
			for (j = 0; !rc && j < x.mem[i].nids; j++) {
				const struct mg_tv *t = &x.mem[i].ids[j];

				if (!t->type || !t->value)
					continue;
				if (!strcmp(t->type, "isbn"))
					rc = data1(r, "020", ' ', ' ', 'a', t->value);
				else if (!strcmp(t->type, "issn"))
					rc = data1(r, "022", ' ', ' ', 'a', t->value);
				else if (!strcmp(t->type, "control"))
					rc = data1(r, "035", ' ', ' ', 'a', t->value);
			}
		for (j = 0; !rc && j < b->nnames; j++)
			rc = data1(r, j ? "700" : "100", '0', ' ', 'a', b->names[j]);
		if (!rc && b->title) {
			rc = mc_marc_add_data(r, "245", b->nnames ? '1' : '0', '0', &f);
			rc = rc ? rc : sub(r, f, 'a', b->title);
			rc = rc ? rc : sub(r, f, 'c', b->resp);
		}
		rc = rc ? rc : data1(r, "250", ' ', ' ', 'a', b->edition_s);
		if (!rc && (b->place || b->publisher || b->date)) {
			rc = mc_marc_add_data(r, "260", ' ', ' ', &f);
			rc = rc ? rc : sub(r, f, 'a', b->place);
			rc = rc ? rc : sub(r, f, 'b', b->publisher);
			rc = rc ? rc : sub(r, f, 'c', b->date);
		}
		rc = rc ? rc : data1(r, "300", ' ', ' ', 'a', b->extent);
		for (j = 0; !rc && j < b->nsubjects; j++)
			rc = data1(r, "650", ' ', '4', 'a', b->subjects[j]);
		for (i = 0; !rc && i < x.n; i++) {
			const char *local, *src = source_part(m->a, x.mem[i].ref, &local);
			char items[16];

			snprintf(items, sizeof(items), "%d", x.mem[i].items);
			rc = mc_marc_add_data(r, "852", ' ', ' ', &f);
			rc = rc ? rc : sub(r, f, 'a', src);
			rc = rc ? rc : sub(r, f, 'h', x.mem[i].call_number);
			rc = rc ? rc : sub(r, f, 'p', local);
			rc = rc ? rc : sub(r, f, 't', items);
		}
		for (i = 0; !rc && i < x.n; i++)
			for (j = 0; !rc && j < x.mem[i].nlinks; j++)
				rc = data1(r, "856", '4', '0', 'u', x.mem[i].links[j]);
	}
	rc = rc ? rc : mc_record_marcxml(r, MC_MARCXML_IN_COLLECTION, out);
done:
	mc_record_free(r);
	return rc;
}
