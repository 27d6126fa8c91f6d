/* record.c — building and querying the in-memory record model. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mc-limits.h"
#include "mc-record.h"

int mc_record_new(struct mc_record **ret)
{
	struct mc_record *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	rc = mc_arena_new(MC_MAX_ARENA_BYTES, &r->arena);
	if (rc) {
		free(r);
		return rc;
	}
	r->in_offset = -1;
	*ret = r;
	return 0;
}

void mc_record_free(struct mc_record *r)
{
	if (!r)
		return;
	mc_arena_free(r->arena);
	free(r);
}

void mc_record_reset(struct mc_record *r)
{
	struct mc_arena *a = r->arena;

	mc_arena_reset(a);
	memset(r, 0, sizeof(*r));
	r->arena = a;
	r->in_offset = -1;
}

struct mc_marc *mc_record_marc(struct mc_record *r)
{
	if (!r->marc) {
		r->marc = mc_arena_zalloc(r->arena, sizeof(*r->marc));
		if (!r->marc)
			return NULL;
		memset(r->marc->leader, ' ', 24);
		r->marc->leader[24] = '\0';
		r->format = MC_FMT_MARC21;
	}
	return r->marc;
}

#define STR_(x) #x
#define STR(x) STR_(x)
/* The messages name the byte limits in KiB/MiB: keep them in step. */
_Static_assert(MC_MAX_ARENA_BYTES == 64u << 20, "lim_arena names 64 MiB");
_Static_assert(MC_MAX_FIELD_BYTES == 256u << 10, "the field messages name 256 KiB");
static const char lim_arena[] = "needs more than the 64 MiB of memory a record may use";

/* MC_E_TOOBIG with r->limit set to why. */
static int too_big(struct mc_record *r, const char *why)
{
	if (!r->limit)
		r->limit = why;
	return MC_E_TOOBIG;
}

/* An arena allocation failed: the record's cap or malloc. */
static int no_mem(struct mc_record *r)
{
	return mc_arena_over_cap(r->arena) ? too_big(r, lim_arena) : -ENOMEM;
}

static int field_new(struct mc_record *r, const char *tag, struct mc_field **ret)
{
	struct mc_marc *m = mc_record_marc(r);
	struct mc_field *f;
	int rc;

	if (!m)
		return no_mem(r);
	if (m->nfields >= MC_MAX_FIELDS)
		return too_big(r, "has more than " STR(MC_MAX_FIELDS) " fields");
	rc = mc_arena_grow(r->arena, (void **)&m->fields, &m->nfields, &m->cap, sizeof(*f));
	if (rc)
		return rc == MC_E_TOOBIG ? too_big(r, lim_arena) : rc;
	f = &m->fields[m->nfields++];
	memset(f, 0, sizeof(*f));
	memcpy(f->tag, tag, 3);
	f->tag[3] = '\0';
	*ret = f;
	return 0;
}

int mc_marc_add_control(struct mc_record *r, const char *tag, const char *v, size_t len)
{
	struct mc_field *f;
	int rc;

	if (len > MC_MAX_FIELD_BYTES)
		return too_big(r, "has a field longer than 256 KiB");
	rc = field_new(r, tag, &f);
	if (rc)
		return rc;
	f->value = mc_arena_strndup(r->arena, v, len);
	if (!f->value) {
		r->marc->nfields--;
		return no_mem(r);
	}
	f->len = len;
	return 0;
}

int mc_marc_add_data(struct mc_record *r, const char *tag, char ind1, char ind2,
		     struct mc_field **ret)
{
	struct mc_field *f;
	int rc = field_new(r, tag, &f);

	if (rc)
		return rc;
	f->ind1 = ind1 ? ind1 : ' ';
	f->ind2 = ind2 ? ind2 : ' ';
	*ret = f;
	return 0;
}

int mc_marc_add_sub(struct mc_record *r, struct mc_field *f, char code, const char *v, size_t len)
{
	struct mc_subfield *s;
	int rc;

	if (len > MC_MAX_FIELD_BYTES)
		return too_big(r, "has a subfield longer than 256 KiB");
	if (f->nsub >= MC_MAX_SUBFIELDS)
		return too_big(r, "has more than " STR(MC_MAX_SUBFIELDS) " subfields in one field");
	if (r->marc && r->marc->nsub >= MC_MAX_RECORD_SUBFIELDS)
		return too_big(r, "has more than " STR(MC_MAX_RECORD_SUBFIELDS) " subfields");
	rc = mc_arena_grow(r->arena, (void **)&f->sub, &f->nsub, &f->sub_cap, sizeof(*s));
	if (rc)
		return rc == MC_E_TOOBIG ? too_big(r, lim_arena) : rc;
	s = &f->sub[f->nsub];
	s->code = code;
	s->value = mc_arena_strndup(r->arena, v, len);
	if (!s->value)
		return no_mem(r);
	s->len = len;
	f->nsub++;
	if (r->marc)
		r->marc->nsub++;
	return 0;
}

int mc_dc_add(struct mc_record *r, const char *name, const char *v, size_t len, const char *lang)
{
	struct mc_dc_elem *e;
	int rc;

	if (len > MC_MAX_FIELD_BYTES)
		return too_big(r, "has a dc element longer than 256 KiB");
	if (!r->dc) {
		r->dc = mc_arena_zalloc(r->arena, sizeof(*r->dc));
		if (!r->dc)
			return no_mem(r);
		r->format = MC_FMT_OAI_DC;
	}
	if (r->dc->n >= MC_MAX_DC_ELEMENTS)
		return too_big(r, "has more than " STR(MC_MAX_DC_ELEMENTS) " dc elements");
	rc = mc_arena_grow(r->arena, (void **)&r->dc->elems, &r->dc->n, &r->dc->cap, sizeof(*e));
	if (rc)
		return rc == MC_E_TOOBIG ? too_big(r, lim_arena) : rc;
	e = &r->dc->elems[r->dc->n];
	e->name = mc_arena_strdup(r->arena, name);
	e->value = mc_arena_strndup(r->arena, v, len);
	e->lang = lang ? mc_arena_strdup(r->arena, lang) : NULL;
	if (!e->name || !e->value || (lang && !e->lang))
		return no_mem(r);
	e->len = len;
	r->dc->n++;
	return 0;
}

int mc_marc_ind_ok(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == ' ';
}

int mc_marc_code_ok(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!\"#$%&'()*+,-./:;<=>?{}_^`~[]\\", c) != NULL);
}

static int printable(unsigned char c)
{
	return c >= 0x20 && c < 0x7F;
}

int mc_record_check_marc(struct mc_record *r, unsigned *repairs, struct mc_error *err)
{
	struct mc_marc *m = r->marc;
	unsigned n = 0;
	size_t i, j;
	int k;

	if (repairs)
		*repairs = 0;
	if (!m)
		return 0;
	for (k = 0; k < 24; k++)
		if (!printable((unsigned char)m->leader[k])) {
			m->leader[k] = ' ';
			n++;
		}
	m->leader[24] = '\0';
	for (i = 0; i < m->nfields; i++) {
		struct mc_field *f = &m->fields[i];

		for (k = 0; k < 3; k++)
			if (!printable((unsigned char)f->tag[k]))
				return mc_error_set(err, MC_E_ENCODING,
						    "field %zu: byte 0x%02X in its tag", i + 1,
						    (unsigned char)f->tag[k]);
		if (f->value)
			continue;
		if (!mc_marc_ind_ok((unsigned char)f->ind1)) {
			f->ind1 = ' ';
			n++;
		}
		if (!mc_marc_ind_ok((unsigned char)f->ind2)) {
			f->ind2 = ' ';
			n++;
		}
		for (j = 0; j < f->nsub; j++)
			if (!mc_marc_code_ok((unsigned char)f->sub[j].code))
				return mc_error_set(err, MC_E_ENCODING,
						    "field %.3s: subfield code 0x%02X is not a MARC subfield code",
						    f->tag, (unsigned char)f->sub[j].code);
	}
	if (repairs)
		*repairs = n;
	return 0;
}

const struct mc_field *mc_marc_first(const struct mc_marc *m, const char *tag)
{
	size_t i;

	if (!m)
		return NULL;
	for (i = 0; i < m->nfields; i++)
		if (memcmp(m->fields[i].tag, tag, 3) == 0)
			return &m->fields[i];
	return NULL;
}

const char *mc_field_sub(const struct mc_field *f, char code)
{
	size_t i;

	for (i = 0; f && i < f->nsub; i++)
		if (f->sub[i].code == code)
			return f->sub[i].value;
	return NULL;
}

int mc_strv_add(struct mc_record *r, struct mc_strv *v, const char *s, size_t len)
{
	const char *p;
	int rc;

	rc = mc_arena_grow(r->arena, (void **)&v->v, &v->n, &v->cap, sizeof(*v->v));
	if (rc)
		return rc == MC_E_TOOBIG ? too_big(r, lim_arena) : rc;
	p = mc_arena_strndup(r->arena, s, len);
	if (!p)
		return no_mem(r);
	v->v[v->n++] = p;
	return 0;
}

int mc_tvv_add(struct mc_record *r, struct mc_tvv *v, const char *type, const char *s, size_t len)
{
	struct mc_tv tv;
	int rc;

	rc = mc_arena_grow(r->arena, (void **)&v->v, &v->n, &v->cap, sizeof(*v->v));
	if (rc)
		return rc == MC_E_TOOBIG ? too_big(r, lim_arena) : rc;
	tv.type = mc_arena_strdup(r->arena, type);
	tv.value = mc_arena_strndup(r->arena, s, len);
	if (!tv.type || !tv.value)
		return no_mem(r);
	v->v[v->n++] = tv;
	return 0;
}
