/* json.c — a record as JSON (jansson); the members are documented in
 * schemas/record.md. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "mc-output.h"
#include "mc-text.h"

static int utf8_ok(const char *s)
{
	return mc_utf8_valid(s, strlen(s), NULL);
}

/* Build helpers: each returns 0 or MC_E_ENCODING / -ENOMEM. A NULL or
 * empty value adds nothing ("empty members omitted"). */

static int set_new(json_t *obj, const char *key, json_t *v)
{
	if (!v)
		return -ENOMEM;
	return json_object_set_new(obj, key, v) ? -ENOMEM : 0;
}

static int str_of(const char *s, size_t len, json_t **ret)
{
	/* json_stringn checks UTF-8; a NULL here is bad text, not lack of memory */
	*ret = json_stringn(s, len);
	return *ret ? 0 : MC_E_ENCODING;
}

static int set_str(json_t *obj, const char *key, const char *s)
{
	json_t *v;
	int rc;

	if (!s || !*s)
		return 0;
	rc = str_of(s, strlen(s), &v);
	return rc ? rc : set_new(obj, key, v);
}

static int append_str(json_t *arr, const char *s, size_t len)
{
	json_t *v;
	int rc = str_of(s, len, &v);

	if (rc)
		return rc;
	return json_array_append_new(arr, v) ? -ENOMEM : 0;
}

static int set_strv(json_t *obj, const char *key, const struct mc_strv *v)
{
	json_t *arr;
	size_t i;
	int rc = 0;

	if (!v->n)
		return 0;
	arr = json_array();
	if (!arr)
		return -ENOMEM;
	for (i = 0; i < v->n && !rc; i++)
		if (v->v[i] && *v->v[i])
			rc = append_str(arr, v->v[i], strlen(v->v[i]));
	if (rc || !json_array_size(arr)) {
		json_decref(arr);
		return rc;
	}
	return set_new(obj, key, arr);
}

/* {"isbn": [...], "issn": [...]}: grouped by type, types in order of first appearance. */
static int set_tvv(json_t *obj, const char *key, const struct mc_tvv *v)
{
	json_t *groups, *arr;
	size_t i;
	int rc = 0;

	if (!v->n)
		return 0;
	groups = json_object();
	if (!groups)
		return -ENOMEM;
	for (i = 0; i < v->n && !rc; i++) {
		const struct mc_tv *tv = &v->v[i];

		if (!tv->type || !tv->value || !*tv->value)
			continue;
		arr = json_object_get(groups, tv->type);
		if (!arr) {
			if (!utf8_ok(tv->type)) {
				rc = MC_E_ENCODING;
				break;
			}
			arr = json_array();
			if (!arr || json_object_set_new(groups, tv->type, arr)) {
				rc = -ENOMEM;
				break;
			}
		}
		rc = append_str(arr, tv->value, strlen(tv->value));
	}
	if (rc || !json_object_size(groups)) {
		json_decref(groups);
		return rc;
	}
	return set_new(obj, key, groups);
}

static const char *name_kind(int kind)
{
	switch (kind) {
	case MC_NAME_PERSONAL: return "personal";
	case MC_NAME_CORPORATE: return "corporate";
	case MC_NAME_MEETING: return "meeting";
	default: return NULL;
	}
}

/* Members given as key/value pairs; NULL values are left out. */
static int set_strs(json_t *o, const char *const *kv, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = 0; i + 1 < n && !rc; i += 2)
		rc = set_str(o, kv[i], kv[i + 1]);
	return rc;
}

#define SKIP 1

/* Fill object o from item i of f: 0, SKIP (leave the item out) or an error. */
typedef int (*fill_fn)(json_t *o, const struct mc_fields *f, size_t i);

/* key: [ {...}, ... ] with one object per item that fill does not skip;
 * nothing when none is left. */
static int set_objects(json_t *obj, const char *key, const struct mc_fields *f, size_t n,
		       fill_fn fill)
{
	json_t *arr, *o;
	size_t i;
	int rc = 0;

	if (!n)
		return 0;
	arr = json_array();
	if (!arr)
		return -ENOMEM;
	for (i = 0; i < n && !rc; i++) {
		o = json_object();
		if (!o) {
			rc = -ENOMEM;
			break;
		}
		rc = fill(o, f, i);
		if (rc) {
			json_decref(o);
			rc = rc == SKIP ? 0 : rc;
			continue;
		}
		if (json_array_append_new(arr, o))
			rc = -ENOMEM;
	}
	if (rc || !json_array_size(arr)) {
		json_decref(arr);
		return rc;
	}
	return set_new(obj, key, arr);
}

static int fill_name(json_t *o, const struct mc_fields *f, size_t i)
{
	const struct mc_name *n = &f->names[i];
	const char *kv[] = { "name", n->name, "kind", name_kind(n->kind) };
	const char *kv2[] = { "role", n->role, "dates", n->dates };
	int rc;

	if (!n->name || !*n->name)
		return SKIP;
	if ((rc = set_strs(o, kv, 4)) || (rc = set_new(o, "main", json_boolean(n->main_entry))))
		return rc;
	return set_strs(o, kv2, 4);
}

static int fill_link(json_t *o, const struct mc_fields *f, size_t i)
{
	const char *kv[] = { "url", f->links[i].url, "label", f->links[i].label };

	if (!f->links[i].url || !*f->links[i].url)
		return SKIP;
	return set_strs(o, kv, 4);
}

static int fill_holding(json_t *o, const struct mc_fields *f, size_t i)
{
	const struct mc_holding *h = &f->holdings[i];
	const char *kv[] = { "library", h->library, "location", h->location,
			     "call_number", h->call_number, "barcode", h->barcode,
			     "status", h->status, "note", h->note };

	return set_strs(o, kv, 12);
}

/* "marc": {"leader": "...", "fields": [["001", "value"], ["245", "1", "0", [["a", "..."]]]]} */
static int add_marc(json_t *obj, const struct mc_marc *m)
{
	json_t *mo, *fields, *fa, *subs, *sa;
	char code[2] = { 0, 0 }, ind[2] = { 0, 0 };
	size_t i, j;
	int rc = 0;

	mo = json_object();
	if (!mo)
		return -ENOMEM;
	rc = str_of(m->leader, strnlen(m->leader, 24), &fa);
	if (!rc)
		rc = set_new(mo, "leader", fa);
	fields = json_array();
	if (!rc && set_new(mo, "fields", fields))
		rc = -ENOMEM;
	for (i = 0; i < m->nfields && !rc; i++) {
		const struct mc_field *f = &m->fields[i];

		fa = json_array();
		if (!fa || json_array_append_new(fields, fa)) {
			rc = -ENOMEM;
			break;
		}
		rc = append_str(fa, f->tag, strnlen(f->tag, 3));
		if (rc)
			break;
		if (f->value) {
			rc = append_str(fa, f->value, f->len);
			continue;
		}
		ind[0] = f->ind1 ? f->ind1 : ' ';
		rc = append_str(fa, ind, 1);
		ind[0] = f->ind2 ? f->ind2 : ' ';
		if (!rc)
			rc = append_str(fa, ind, 1);
		subs = json_array();
		if (!rc && (!subs || json_array_append_new(fa, subs)))
			rc = -ENOMEM;
		for (j = 0; j < f->nsub && !rc; j++) {
			sa = json_array();
			if (!sa || json_array_append_new(subs, sa)) {
				rc = -ENOMEM;
				break;
			}
			code[0] = f->sub[j].code;
			rc = append_str(sa, code, code[0] ? 1 : 0);
			if (!rc)
				rc = append_str(sa, f->sub[j].value, f->sub[j].len);
		}
	}
	if (rc) {
		json_decref(mo);
		return rc;
	}
	return set_new(obj, "marc", mo);
}

/* "dc": [["title", "..."], ["language", "vie"], ["title", "...", "en"]] (lang last when present) */
static int add_dc(json_t *obj, const struct mc_dc *dc)
{
	json_t *arr, *ea;
	size_t i;
	int rc = 0;

	arr = json_array();
	if (!arr)
		return -ENOMEM;
	for (i = 0; i < dc->n && !rc; i++) {
		const struct mc_dc_elem *e = &dc->elems[i];

		ea = json_array();
		if (!ea || json_array_append_new(arr, ea)) {
			rc = -ENOMEM;
			break;
		}
		rc = append_str(ea, e->name, strlen(e->name));
		if (!rc)
			rc = append_str(ea, e->value, e->len);
		if (!rc && e->lang && *e->lang)
			rc = append_str(ea, e->lang, strlen(e->lang));
	}
	if (rc) {
		json_decref(arr);
		return rc;
	}
	return set_new(obj, "dc", arr);
}

static int add_fields(json_t *o, const struct mc_fields *f)
{
	int rc;

	if ((rc = set_str(o, "title", f->title)) || (rc = set_str(o, "responsibility", f->responsibility)) ||
	    (rc = set_objects(o, "names", f, f->nnames, fill_name)) || (rc = set_tvv(o, "ids", &f->ids)) ||
	    (rc = set_str(o, "edition", f->edition)) || (rc = set_str(o, "place", f->place)) ||
	    (rc = set_str(o, "publisher", f->publisher)) || (rc = set_str(o, "date", f->date)))
		return rc;
	if (f->year && (rc = set_new(o, "year", json_integer(f->year))))
		return rc;
	if ((rc = set_str(o, "extent", f->extent)) || (rc = set_str(o, "material", f->material)) ||
	    (rc = set_strv(o, "languages", &f->languages)) ||
	    (rc = set_strv(o, "subjects", &f->subjects)) || (rc = set_tvv(o, "classes", &f->classes)) ||
	    (rc = set_strv(o, "series", &f->series)) || (rc = set_strv(o, "notes", &f->notes)) ||
	    (rc = set_objects(o, "links", f, f->nlinks, fill_link)) ||
	    (rc = set_objects(o, "holdings", f, f->nholdings, fill_holding)))
		return rc;
	return 0;
}

static const char *format_name(int format)
{
	switch (format) {
	case MC_FMT_MARC21: return "marc21";
	case MC_FMT_OAI_DC: return "oai_dc";
	default: return NULL;
	}
}

static int build(const struct mc_record *r, unsigned flags, json_t *o)
{
	char ts[32];
	json_t *v;
	int rc;

	if (!r->source || !r->local_id)
		return MC_E_USAGE;
	v = json_pack("s++", r->source, ":", r->local_id);
	if (!v)
		return utf8_ok(r->source) && utf8_ok(r->local_id) ? -ENOMEM : MC_E_ENCODING;
	if ((rc = set_new(o, "id", v)))
		return rc;
	if ((rc = set_str(o, "source", r->source)) || (rc = set_str(o, "local_id", r->local_id)) ||
	    (rc = set_str(o, "status", r->status == MC_REC_DELETED ? "deleted" : "present")))
		return rc;
	mc_time_iso(r->datestamp, ts);
	if ((rc = set_str(o, "datestamp", ts)))
		return rc;
	if (r->status == MC_REC_DELETED)
		return 0;
	if ((rc = set_str(o, "format", format_name(r->format))) ||
	    (rc = set_str(o, "encoding", r->encoding)) || (rc = add_fields(o, &r->f)))
		return rc;
	if (flags & MC_JSON_METADATA) {
		if (r->marc && (rc = add_marc(o, r->marc)))
			return rc;
		if (r->dc && (rc = add_dc(o, r->dc)))
			return rc;
	}
	return 0;
}

struct dump_ctx {
	struct mc_buf *out;
	int rc;
};

static int dump_cb(const char *buf, size_t size, void *data)
{
	struct dump_ctx *d = data;

	d->rc = mc_buf_add(d->out, buf, size);
	return d->rc ? -1 : 0;
}

int mc_record_json(const struct mc_record *r, unsigned flags, struct mc_buf *out)
{
	json_t *o = json_object();
	struct dump_ctx d = { out, 0 };
	size_t len0 = out->len;
	int rc;

	if (!o)
		return -ENOMEM;
	rc = build(r, flags, o);
	if (!rc && json_dump_callback(o, dump_cb, &d,
				      (flags & MC_JSON_PRETTY ? JSON_INDENT(2) : JSON_COMPACT) |
					      JSON_PRESERVE_ORDER))
		rc = d.rc ? d.rc : -ENOMEM;
	if (rc && out->data) {
		out->len = len0;
		out->data[len0] = '\0';
	}
	json_decref(o);
	return rc;
}
