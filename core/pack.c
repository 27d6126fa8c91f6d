/* pack.c — the stored form of a record: versioned, portable, compact.
 *
 * Layout (schemas/lmdb.md has it byte by byte): a 12-byte fixed header
 * (version, i64 LE datestamp, status, format, section bits) followed by
 * LEB128 varints and length-prefixed strings. The datestamp sits in the
 * header so that "same content" is one memcmp of everything from
 * MC_PACK_OFF_STATUS on. The encoding is canonical: equal records give equal
 * bytes. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "mc-limits.h"
#include "mc-store.h"
#include "mc-varint.h"
#include "store-internal.h"

/* ---- encoding ---- */

struct packer {
	struct mc_buf *b;
	int rc;               /* sticky: first error */
};

static unsigned char *pk_room(struct packer *p, size_t n)
{
	if (p->rc)
		return NULL;
	p->rc = mc_buf_reserve(p->b, n);
	if (p->rc)
		return NULL;
	return (unsigned char *)p->b->data + p->b->len;
}

static void pk_varint(struct packer *p, uint64_t v)
{
	unsigned char *d = pk_room(p, MC_VARINT_MAX);

	if (!d)
		return;
	p->b->len += mc_varint_put(d, v);
}

static void pk_u8(struct packer *p, unsigned v)
{
	unsigned char *d = pk_room(p, 1);

	if (!d)
		return;
	d[0] = (unsigned char)v;
	p->b->len++;
}

static void pk_bytes(struct packer *p, const void *s, size_t n)
{
	unsigned char *d = pk_room(p, n);

	if (!d)
		return;
	if (n)
		memcpy(d, s, n);
	p->b->len += n;
}

/* Optional string: varint 0 = NULL, else varint (len + 1) and the bytes. */
static void pk_str(struct packer *p, const char *s, size_t len)
{
	if (!s) {
		pk_u8(p, 0);
		return;
	}
	if (len >= p->b->max) {
		if (!p->rc)
			p->rc = MC_E_TOOBIG;
		return;
	}
	pk_varint(p, (uint64_t)len + 1);
	pk_bytes(p, s, len);
}

static void pk_cstr(struct packer *p, const char *s)
{
	pk_str(p, s, s ? strlen(s) : 0);
}

static void pk_strv(struct packer *p, const struct mc_strv *v)
{
	pk_varint(p, v->n);
	for (size_t i = 0; i < v->n && !p->rc; i++)
		pk_cstr(p, v->v[i]);
}

static void pk_tvv(struct packer *p, const struct mc_tvv *v)
{
	pk_varint(p, v->n);
	for (size_t i = 0; i < v->n && !p->rc; i++) {
		pk_cstr(p, v->v[i].type);
		pk_cstr(p, v->v[i].value);
	}
}

static void pk_marc(struct packer *p, const struct mc_marc *m)
{
	pk_bytes(p, m->leader, 24);
	pk_varint(p, m->nfields);
	for (size_t i = 0; i < m->nfields && !p->rc; i++) {
		const struct mc_field *f = &m->fields[i];

		pk_bytes(p, f->tag, 3);
		if (f->value) {
			pk_u8(p, 0);
			pk_str(p, f->value, f->len);
			continue;
		}
		pk_u8(p, 1);
		pk_u8(p, (unsigned char)f->ind1);
		pk_u8(p, (unsigned char)f->ind2);
		pk_varint(p, f->nsub);
		for (size_t j = 0; j < f->nsub && !p->rc; j++) {
			pk_u8(p, (unsigned char)f->sub[j].code);
			/* A subfield value is never NULL in a parsed record; an
			 * empty string keeps the record well-formed if it is. */
			pk_str(p, f->sub[j].value ? f->sub[j].value : "", f->sub[j].value ? f->sub[j].len : 0);
		}
	}
}

static void pk_dc(struct packer *p, const struct mc_dc *dc)
{
	pk_varint(p, dc->n);
	for (size_t i = 0; i < dc->n && !p->rc; i++) {
		pk_cstr(p, dc->elems[i].name);
		pk_str(p, dc->elems[i].value, dc->elems[i].len);
		pk_cstr(p, dc->elems[i].lang);
	}
}

static int fields_empty(const struct mc_fields *f)
{
	return !f->title && !f->responsibility && !f->edition && !f->place && !f->publisher &&
	       !f->date && !f->year && !f->extent && !f->material && !f->nnames && !f->ids.n &&
	       !f->languages.n && !f->subjects.n && !f->classes.n && !f->series.n && !f->notes.n &&
	       !f->nlinks && !f->nholdings;
}

static void pk_fields(struct packer *p, const struct mc_fields *f)
{
	pk_cstr(p, f->title);
	pk_cstr(p, f->responsibility);
	pk_cstr(p, f->edition);
	pk_cstr(p, f->place);
	pk_cstr(p, f->publisher);
	pk_cstr(p, f->date);
	pk_varint(p, mc_zigzag(f->year));
	pk_cstr(p, f->extent);
	pk_cstr(p, f->material);
	pk_varint(p, f->nnames);
	for (size_t i = 0; i < f->nnames && !p->rc; i++) {
		const struct mc_name *n = &f->names[i];

		pk_cstr(p, n->name);
		pk_varint(p, mc_zigzag(n->kind));
		pk_varint(p, mc_zigzag(n->main_entry));
		pk_cstr(p, n->role);
		pk_cstr(p, n->dates);
	}
	pk_tvv(p, &f->ids);
	pk_strv(p, &f->languages);
	pk_strv(p, &f->subjects);
	pk_tvv(p, &f->classes);
	pk_strv(p, &f->series);
	pk_strv(p, &f->notes);
	pk_varint(p, f->nlinks);
	for (size_t i = 0; i < f->nlinks && !p->rc; i++) {
		pk_cstr(p, f->links[i].url);
		pk_cstr(p, f->links[i].label);
	}
	pk_varint(p, f->nholdings);
	for (size_t i = 0; i < f->nholdings && !p->rc; i++) {
		const struct mc_holding *h = &f->holdings[i];

		pk_cstr(p, h->library);
		pk_cstr(p, h->location);
		pk_cstr(p, h->call_number);
		pk_cstr(p, h->barcode);
		pk_cstr(p, h->status);
		pk_cstr(p, h->note);
	}
}

int mc_record_pack(const struct mc_record *rec, struct mc_buf *out)
{
	struct packer p = { out, 0 };
	unsigned char *h;
	unsigned sect = 0;

	if (rec->status != MC_REC_PRESENT && rec->status != MC_REC_DELETED)
		return MC_E_USAGE;
	if (rec->format < MC_FMT_NONE || rec->format > MC_FMT_OAI_DC)
		return MC_E_USAGE;
	mc_buf_reset(out);
	if (rec->marc)
		sect |= MC_PACK_SECT_MARC;
	if (rec->dc)
		sect |= MC_PACK_SECT_DC;
	if (!fields_empty(&rec->f))
		sect |= MC_PACK_SECT_FIELDS;

	h = pk_room(&p, MC_PACK_FIXED);
	if (!h)
		return p.rc;
	h[0] = MC_PACK_VERSION;
	mc_put_le64(h + MC_PACK_OFF_DATE, (uint64_t)rec->datestamp);
	h[MC_PACK_OFF_STATUS] = (unsigned char)rec->status;
	h[MC_PACK_OFF_FORMAT] = (unsigned char)rec->format;
	h[MC_PACK_OFF_SECT] = (unsigned char)sect;
	out->len += MC_PACK_FIXED;

	pk_cstr(&p, rec->encoding);
	if (rec->marc)
		pk_marc(&p, rec->marc);
	if (rec->dc)
		pk_dc(&p, rec->dc);
	if (sect & MC_PACK_SECT_FIELDS)
		pk_fields(&p, &rec->f);
	if (p.rc)
		return p.rc;
	out->data[out->len] = '\0';
	return 0;
}

/* the pack of an empty deleted record */
int mc_record_pack_deleted(int64_t datestamp, struct mc_buf *out)
{
	struct mc_record r;

	memset(&r, 0, sizeof(r));
	r.status = MC_REC_DELETED;
	r.datestamp = datestamp;
	return mc_record_pack(&r, out);
}

/* ---- decoding ---- */

struct unpacker {
	const unsigned char *p, *end;
	struct mc_arena *a;
	int rc;               /* sticky: first error */
};

static size_t up_left(const struct unpacker *u)
{
	return (size_t)(u->end - u->p);
}

/* Canonical LEB128 only (mc_varint_get), at most 64 bits. */
static uint64_t up_varint(struct unpacker *u)
{
	uint64_t v = 0;

	if (u->rc)
		return 0;
	u->rc = mc_varint_get(&u->p, u->end, &v);
	return v;
}

static int64_t up_svarint(struct unpacker *u)
{
	return mc_unzigzag(up_varint(u));
}

static int up_int(struct unpacker *u)
{
	int64_t v = up_svarint(u);

	if (v < INT_MIN || v > INT_MAX) {
		if (!u->rc)
			u->rc = MC_E_CORRUPT;
		return 0;
	}
	return (int)v;
}

static unsigned char up_u8(struct unpacker *u)
{
	if (u->rc)
		return 0;
	if (u->p >= u->end) {
		u->rc = MC_E_CORRUPT;
		return 0;
	}
	return *u->p++;
}

/* Optional string copied into the arena; NULL for the NULL marker or on error. */
static const char *up_str(struct unpacker *u, size_t *lenp)
{
	uint64_t n = up_varint(u);
	char *s;

	if (lenp)
		*lenp = 0;
	if (u->rc || n == 0)
		return NULL;
	n--;
	if (n > up_left(u)) {
		u->rc = MC_E_CORRUPT;
		return NULL;
	}
	s = mc_arena_strndup(u->a, (const char *)u->p, (size_t)n);
	if (!s) {
		u->rc = -ENOMEM;
		return NULL;
	}
	u->p += n;
	if (lenp)
		*lenp = (size_t)n;
	return s;
}

/* A string that must be present (subfield, control field, DC value). */
static const char *up_str_req(struct unpacker *u, size_t *lenp)
{
	const char *s = up_str(u, lenp);

	if (!s && !u->rc)
		u->rc = MC_E_CORRUPT;
	return s;
}

/* An element count: each element takes at least minsz bytes, so a count the
 * remaining bytes cannot hold is corrupt; this bounds every allocation by
 * the size of the value. */
static size_t up_count(struct unpacker *u, size_t max, size_t minsz)
{
	uint64_t n = up_varint(u);

	if (u->rc)
		return 0;
	if (n > max || n > up_left(u) / minsz) {
		u->rc = MC_E_CORRUPT;
		return 0;
	}
	return (size_t)n;
}

static void *up_array(struct unpacker *u, size_t n, size_t elsz)
{
	void *p;

	if (u->rc || !n)
		return NULL;
	p = mc_arena_zalloc(u->a, n * elsz);   /* n <= bytes left: no overflow */
	if (!p)
		u->rc = -ENOMEM;
	return p;
}

static void up_strv(struct unpacker *u, struct mc_strv *v)
{
	size_t n = up_count(u, SIZE_MAX, 1);

	v->v = up_array(u, n, sizeof(*v->v));
	for (size_t i = 0; i < n && !u->rc; i++)
		v->v[i] = up_str(u, NULL);
	if (!u->rc)
		v->n = v->cap = n;
}

static void up_tvv(struct unpacker *u, struct mc_tvv *v)
{
	size_t n = up_count(u, SIZE_MAX, 2);

	v->v = up_array(u, n, sizeof(*v->v));
	for (size_t i = 0; i < n && !u->rc; i++) {
		v->v[i].type = up_str(u, NULL);
		v->v[i].value = up_str(u, NULL);
	}
	if (!u->rc)
		v->n = v->cap = n;
}

static struct mc_marc *up_marc(struct unpacker *u)
{
	struct mc_marc *m = mc_arena_zalloc(u->a, sizeof(*m));
	size_t n;

	if (!m) {
		u->rc = -ENOMEM;
		return NULL;
	}
	if (up_left(u) < 24) {
		u->rc = MC_E_CORRUPT;
		return NULL;
	}
	memcpy(m->leader, u->p, 24);
	m->leader[24] = '\0';
	u->p += 24;
	/* tag (3) + kind (1) + shortest body (1) */
	n = up_count(u, MC_MAX_FIELDS, 5);
	m->fields = up_array(u, n, sizeof(*m->fields));
	for (size_t i = 0; i < n && !u->rc; i++) {
		struct mc_field *f = &m->fields[i];
		unsigned char kind;

		if (up_left(u) < 3) {
			u->rc = MC_E_CORRUPT;
			break;
		}
		memcpy(f->tag, u->p, 3);
		f->tag[3] = '\0';
		u->p += 3;
		kind = up_u8(u);
		if (kind == 0) {
			f->value = up_str_req(u, &f->len);
		} else if (kind == 1) {
			size_t ns;

			f->ind1 = (char)up_u8(u);
			f->ind2 = (char)up_u8(u);
			ns = up_count(u, MC_MAX_SUBFIELDS, 2);
			f->sub = up_array(u, ns, sizeof(*f->sub));
			for (size_t j = 0; j < ns && !u->rc; j++) {
				f->sub[j].code = (char)up_u8(u);
				f->sub[j].value = up_str_req(u, &f->sub[j].len);
			}
			if (!u->rc)
				f->nsub = f->sub_cap = ns;
		} else if (!u->rc) {
			u->rc = MC_E_CORRUPT;
		}
	}
	if (!u->rc)
		m->nfields = m->cap = n;
	return m;
}

static struct mc_dc *up_dc(struct unpacker *u)
{
	struct mc_dc *dc = mc_arena_zalloc(u->a, sizeof(*dc));
	size_t n;

	if (!dc) {
		u->rc = -ENOMEM;
		return NULL;
	}
	n = up_count(u, MC_MAX_DC_ELEMENTS, 3);
	dc->elems = up_array(u, n, sizeof(*dc->elems));
	for (size_t i = 0; i < n && !u->rc; i++) {
		dc->elems[i].name = up_str_req(u, NULL);
		dc->elems[i].value = up_str_req(u, &dc->elems[i].len);
		dc->elems[i].lang = up_str(u, NULL);
	}
	if (!u->rc)
		dc->n = dc->cap = n;
	return dc;
}

static void up_fields(struct unpacker *u, struct mc_fields *f)
{
	size_t n;

	f->title = up_str(u, NULL);
	f->responsibility = up_str(u, NULL);
	f->edition = up_str(u, NULL);
	f->place = up_str(u, NULL);
	f->publisher = up_str(u, NULL);
	f->date = up_str(u, NULL);
	f->year = up_int(u);
	f->extent = up_str(u, NULL);
	f->material = up_str(u, NULL);

	n = up_count(u, SIZE_MAX, 5);
	f->names = up_array(u, n, sizeof(*f->names));
	for (size_t i = 0; i < n && !u->rc; i++) {
		struct mc_name *nm = &f->names[i];

		nm->name = up_str(u, NULL);
		nm->kind = up_int(u);
		nm->main_entry = up_int(u);
		nm->role = up_str(u, NULL);
		nm->dates = up_str(u, NULL);
	}
	if (!u->rc)
		f->nnames = f->names_cap = n;

	up_tvv(u, &f->ids);
	up_strv(u, &f->languages);
	up_strv(u, &f->subjects);
	up_tvv(u, &f->classes);
	up_strv(u, &f->series);
	up_strv(u, &f->notes);

	n = up_count(u, SIZE_MAX, 2);
	f->links = up_array(u, n, sizeof(*f->links));
	for (size_t i = 0; i < n && !u->rc; i++) {
		f->links[i].url = up_str(u, NULL);
		f->links[i].label = up_str(u, NULL);
	}
	if (!u->rc)
		f->nlinks = f->links_cap = n;

	n = up_count(u, SIZE_MAX, 6);
	f->holdings = up_array(u, n, sizeof(*f->holdings));
	for (size_t i = 0; i < n && !u->rc; i++) {
		struct mc_holding *h = &f->holdings[i];

		h->library = up_str(u, NULL);
		h->location = up_str(u, NULL);
		h->call_number = up_str(u, NULL);
		h->barcode = up_str(u, NULL);
		h->status = up_str(u, NULL);
		h->note = up_str(u, NULL);
	}
	if (!u->rc)
		f->nholdings = f->holdings_cap = n;
}

int mc_record_unpack(const void *data, size_t len, struct mc_record *rec)
{
	const unsigned char *d = data;
	struct unpacker u;
	unsigned sect;

	mc_record_reset(rec);
	if (len < 1 || !d)
		return MC_E_CORRUPT;
	if (d[0] > MC_PACK_VERSION)
		return MC_E_VERSION;
	if (d[0] != MC_PACK_VERSION || len < MC_PACK_FIXED)
		return MC_E_CORRUPT;
	sect = d[MC_PACK_OFF_SECT];
	if (d[MC_PACK_OFF_STATUS] > MC_REC_DELETED || d[MC_PACK_OFF_FORMAT] > MC_FMT_OAI_DC ||
	    (sect & ~(MC_PACK_SECT_MARC | MC_PACK_SECT_DC | MC_PACK_SECT_FIELDS)))
		return MC_E_CORRUPT;

	rec->datestamp = (int64_t)mc_get_le64(d + MC_PACK_OFF_DATE);
	rec->status = d[MC_PACK_OFF_STATUS];
	rec->format = d[MC_PACK_OFF_FORMAT];

	u.p = d + MC_PACK_FIXED;
	u.end = d + len;
	u.a = rec->arena;
	u.rc = 0;
	rec->encoding = up_str(&u, NULL);
	if (sect & MC_PACK_SECT_MARC)
		rec->marc = up_marc(&u);
	if (sect & MC_PACK_SECT_DC)
		rec->dc = up_dc(&u);
	if (sect & MC_PACK_SECT_FIELDS)
		up_fields(&u, &rec->f);
	if (!u.rc && u.p != u.end)
		u.rc = MC_E_CORRUPT;
	if (u.rc) {
		mc_record_reset(rec);
		return u.rc;
	}
	return 0;
}
