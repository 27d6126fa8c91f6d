/* normalise.c — one encoding per record, every value to UTF-8 NFC.
 *
 * Pass 1 scans every value once (UTF-8 well-formedness, NFC quick check,
 * control characters). A record that is ASCII or NFC UTF-8 without control
 * characters stops there: nothing is copied. Otherwise the record's encoding
 * is decided once (declared, else UTF-8 when every value is well-formed —
 * unless it is TCVN3/VNI mojibake —, else detected over all values), and
 * pass 2 converts the values that need it into the record's arena. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mc-error.h"
#include "mc-limits.h"
#include "mc-record.h"
#include "mc-text.h"
#include "text-internal.h"

/* A value of the record, wherever it lives. */
struct vref {
	const char **v;
	size_t *len;
	const struct mc_field *f;     /* MARC field, or NULL for DC */
	char code;                    /* subfield code, 0 for a control field */
	const struct mc_dc_elem *dc;  /* DC element, or NULL */
};

struct vit {
	size_t f, s, d;
};

/* Next value in record order; 0 at the end. */
static int vit_next(struct mc_record *r, struct vit *it, struct vref *ref)
{
	struct mc_marc *m = r->marc;

	while (m && it->f < m->nfields) {
		struct mc_field *f = &m->fields[it->f];

		if (f->value) {
			if (it->s++ == 0) {
				ref->v = &f->value;
				ref->len = &f->len;
				ref->f = f;
				ref->code = 0;
				ref->dc = NULL;
				return 1;
			}
		} else if (it->s < f->nsub) {
			struct mc_subfield *sf = &f->sub[it->s++];

			ref->v = &sf->value;
			ref->len = &sf->len;
			ref->f = f;
			ref->code = sf->code;
			ref->dc = NULL;
			return 1;
		}
		it->f++;
		it->s = 0;
	}
	if (r->dc && it->d < r->dc->n) {
		struct mc_dc_elem *e = &r->dc->elems[it->d++];

		ref->v = &e->value;
		ref->len = &e->len;
		ref->f = NULL;
		ref->code = 0;
		ref->dc = e;
		return 1;
	}
	return 0;
}

/* "245$a", "008" or "dc:title" for messages. */
static void vref_label(const struct vref *ref, char *buf, size_t n)
{
	if (ref->dc)
		snprintf(buf, n, "dc:%s", ref->dc->name ? ref->dc->name : "?");
	else if (ref->code)
		snprintf(buf, n, "%s$%c", ref->f->tag, ref->code);
	else if (ref->f)
		snprintf(buf, n, "%s", ref->f->tag);
	else
		snprintf(buf, n, "?");
}

static int fail(struct mc_record *r, struct mc_error *err, int code, const struct vref *ref,
		const char *what, size_t off)
{
	char label[80];
	const char *id = r->local_id;

	if (!err)
		return code;
	vref_label(ref, label, sizeof(label));
	if (code == MC_E_ENCODING)
		mc_error_set(err, code, "%s: %s at byte offset %zu of the value", label, what, off);
	else
		mc_error_set(err, code, "%s: %s (%s)", label, what, mc_strerror(code));
	if (!id && r->marc) {
		const struct mc_field *f = mc_marc_first(r->marc, "001");

		id = f ? f->value : NULL;
	}
	if (id)
		mc_error_field(err->record_id, sizeof(err->record_id), id);
	if (r->in_offset >= 0)
		err->offset = r->in_offset;
	if (r->in_line > 0)
		err->line = r->in_line;
	return code;
}

static int store(struct mc_record *r, const struct vref *ref, const struct mc_buf *b)
{
	char *p = mc_arena_strndup(r->arena, b->data ? b->data : "", b->len);

	if (!p)
		return -ENOMEM;
	*ref->v = p;
	*ref->len = b->len;
	return 0;
}

/* Values in ASCII without control characters read the same in every
 * encoding we decode and are left alone. */
static int plain_ascii(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x7F || (c < 0x20 && c != '\t' && c != '\n' && c != '\r'))
			return 0;
	}
	return 1;
}

struct scratch {
	struct mc_buf a, b;
	int nfd;   /* some value was not in NFC */
};

/* UTF-8 value to NFC without control characters. 1 with *res set when the
 * value changes, 0 when it stays as it is. */
static int convert_utf8(const char *v, size_t len, struct scratch *s, struct mc_buf **res)
{
	unsigned fl = mci_text_scan(v, len, NULL);
	int rc, changed = 0;

	if (!(fl & (MCI_TEXT_NOTNFC | MCI_TEXT_CTL)))
		return 0;
	if (fl & MCI_TEXT_NOTNFC) {
		rc = mc_text_nfc(v, len, &s->a, &changed);
		if (rc)
			return rc;
		s->nfd |= changed;
		if (!(fl & MCI_TEXT_CTL)) {
			*res = &s->a;
			return 1;
		}
		v = s->a.data;
		len = s->a.len;
	}
	rc = mci_text_strip_ctl(v, len, &s->b);
	*res = &s->b;
	return rc ? rc : 1;
}

/* Legacy bytes to NFC without control characters, as convert_utf8.
 * MC_E_ENCODING with *off at a byte the encoding gives no meaning. */
static int convert_legacy(enum mc_encoding enc, const char *v, size_t len, struct scratch *s,
			  struct mc_buf **res, size_t *off)
{
	int rc;

	if (plain_ascii(v, len))
		return 0;
	rc = mci_text_decode_raw(enc, v, len, &s->b, off, NULL);
	if (!rc && s->b.len)
		rc = mc_text_nfc(s->b.data, s->b.len, &s->a, NULL);
	if (rc)
		return rc;
	mc_buf_reset(&s->b);
	rc = mci_text_strip_ctl(s->a.data ? s->a.data : "", s->a.len, &s->b);
	*res = &s->b;
	return rc ? rc : 1;
}

/* Mojibake: back to the bytes the text was misread from, then decode them.
 * Repair is best effort: a value that does not go back (a character outside
 * Windows-1252, a byte the encoding lacks) stays as the UTF-8 it is. */
static int convert_moji(enum mc_encoding enc, const char *v, size_t len, struct scratch *s,
			struct mc_buf *bytes, struct mc_buf **res)
{
	size_t off;
	int rc;

	if (plain_ascii(v, len))
		return 0;
	mc_buf_reset(bytes);
	rc = mci_text_cp1252_unmap(v, len, bytes);
	if (!rc) {
		rc = convert_legacy(enc, bytes->data, bytes->len, s, res, &off);
		if (rc != MC_E_ENCODING)
			return rc;
		mc_buf_reset(&s->a);
		mc_buf_reset(&s->b);
	} else if (rc != MC_E_ENCODING) {
		return rc;
	}
	return convert_utf8(v, len, s, res);
}

static const char *enc_label(enum mc_encoding enc, int moji, int nfd)
{
	if (moji)
		return enc == MC_ENC_TCVN3 ? "utf-8 (tcvn3 mojibake)" : "utf-8 (vni mojibake)";
	if (enc == MC_ENC_UTF8)
		return nfd ? "utf-8 (nfd)" : "utf-8";
	return mc_encoding_name(enc);
}

int mc_record_normalise(struct mc_record *r, enum mc_encoding declared, struct mc_error *err)
{
	enum mc_encoding hint = MC_ENC_AUTO, enc;
	struct scratch sc;
	struct mc_buf bytes;
	struct vit it = { 0, 0, 0 };
	struct vref ref, bad_ref;
	size_t bad_off = 0;
	unsigned all = 0;
	int have_bad = 0, moji = 0, rc = 0;

	if ((unsigned)declared >= MC_ENC_COUNT)
		return MC_E_USAGE;
	memset(&bad_ref, 0, sizeof(bad_ref));
	if (r->marc) {
		if (r->marc->leader[9] == 'a')
			hint = MC_ENC_UTF8;
		else if (r->marc->leader[9] == ' ')
			hint = MC_ENC_MARC8;
	}

	/* Pass 1. */
	while (vit_next(r, &it, &ref)) {
		size_t off = 0;
		unsigned fl = mci_text_scan(*ref.v, *ref.len, &off);

		all |= fl;
		if ((fl & MCI_TEXT_INVALID) && !have_bad) {
			have_bad = 1;
			bad_ref = ref;
			bad_off = off;
		}
	}

	mc_buf_init(&sc.a, MCI_TEXT_SCRATCH_MAX);
	mc_buf_init(&sc.b, MCI_TEXT_SCRATCH_MAX);
	mc_buf_init(&bytes, MCI_TEXT_SCRATCH_MAX);
	sc.nfd = 0;

	if (declared == MC_ENC_UTF8 || (declared == MC_ENC_AUTO && !have_bad)) {
		enc = MC_ENC_UTF8;
		if (have_bad) {
			rc = fail(r, err, MC_E_ENCODING, &bad_ref, "invalid UTF-8", bad_off);
			goto done;
		}
		if (declared == MC_ENC_AUTO && (all & MCI_TEXT_NONASCII)) {
			struct mci_text_moji m;

			mci_text_moji_init(&m);
			memset(&it, 0, sizeof(it));
			while (!rc && m.possible && vit_next(r, &it, &ref))
				rc = mci_text_moji_feed(&m, *ref.v, *ref.len);
			if (!rc && mci_text_moji_result(&m) != MC_ENC_UTF8) {
				enc = mci_text_moji_result(&m);
				moji = 1;
			}
			mci_text_moji_done(&m);
			if (rc)
				goto done;
		}
		if (!moji && !(all & (MCI_TEXT_NOTNFC | MCI_TEXT_CTL)))
			goto label;
	} else if (declared != MC_ENC_AUTO) {
		enc = declared;
		if (!(all & (MCI_TEXT_NONASCII | MCI_TEXT_CTL)))
			goto label;
	} else {
		struct mci_text_detect d;
		long best = 0;

		mci_text_detect_init(&d, hint);
		memset(&it, 0, sizeof(it));
		while (!rc && vit_next(r, &it, &ref))
			if (!plain_ascii(*ref.v, *ref.len))
				rc = mci_text_detect_feed(&d, *ref.v, *ref.len);
		enc = mci_text_detect_result(&d, &best, NULL);
		mci_text_detect_done(&d);
		if (rc)
			goto done;
		if (best < 0) {
			rc = fail(r, err, MC_E_ENCODING, &bad_ref,
				  "not valid UTF-8, and no other encoding fits the record", bad_off);
			goto done;
		}
	}

	/* Pass 2. On failure the record is left partly converted: discard it. */
	memset(&it, 0, sizeof(it));
	while (vit_next(r, &it, &ref)) {
		struct mc_buf *res = NULL;
		size_t off = 0;

		mc_buf_reset(&sc.a);
		mc_buf_reset(&sc.b);
		if (moji)
			rc = convert_moji(enc, *ref.v, *ref.len, &sc, &bytes, &res);
		else if (enc == MC_ENC_UTF8)
			rc = convert_utf8(*ref.v, *ref.len, &sc, &res);
		else
			rc = convert_legacy(enc, *ref.v, *ref.len, &sc, &res, &off);
		if (rc == 1)
			rc = store(r, &ref, res);
		if (rc == MC_E_ENCODING) {
			char what[64];

			snprintf(what, sizeof(what), "byte 0x%02X has no meaning in %s",
				 (unsigned char)(*ref.v)[off], mc_encoding_name(enc));
			rc = fail(r, err, rc, &ref, what, off);
			goto done;
		}
		if (rc) {
			rc = fail(r, err, rc, &ref, "cannot convert the value", 0);
			goto done;
		}
	}
label:
	if (declared != MC_ENC_AUTO)
		enc = declared;
	r->encoding = enc_label(enc, moji, sc.nfd);
	if (r->marc)
		r->marc->leader[9] = 'a';
done:
	mc_buf_free(&sc.a);
	mc_buf_free(&sc.b);
	mc_buf_free(&bytes);
	return rc;
}
