/* marcxml-write.c — records out as MARCXML (MARC21slim.xsd) and as the
 * yaz-marcdump line format; the DC -> MARC crosswalk for oai_dc records. */
#include <errno.h>
#include <string.h>

#include "mc-extract.h"
#include "mc-output.h"
#include "mc-text.h"

#define MARC_NS "http://www.loc.gov/MARC21/slim"

/* ---- XML text ---- */

/* Length of the UTF-8 sequence led by c (1 for bytes that cannot lead one). */
static size_t seq_len(unsigned char c)
{
	if (c < 0xC0)
		return 1;
	if (c < 0xE0)
		return 2;
	if (c < 0xF0)
		return 3;
	return 4;
}

/* Append s[0..len) escaped for XML text and attribute values; characters XML
 * 1.0 does not allow (C0 controls other than TAB/LF/CR, U+FFFE, U+FFFF) and
 * bytes that are not UTF-8 are dropped. */
static int add_xml(struct mc_buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;
	const char *rep;
	size_t n;
	int rc;

	while (p < end) {
		unsigned char c = *p;

		/* the common case: plain characters, copied in runs */
		if ((c >= 0x20 && c < 0x80 && c != '&' && c != '<' && c != '>' && c != '"') ||
		    c == '\t' || c == '\n') {
			p++;
			continue;
		}
		if (c >= 0x80) {
			n = seq_len(c);
			if (n <= (size_t)(end - p) && c >= 0xC2 && mc_utf8_valid((const char *)p, n, NULL) &&
			    !(n == 3 && c == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF))) {
				p += n;
				continue;
			}
			n = 1; /* drop one byte and resynchronise */
			rep = "";
		} else {
			n = 1;
			switch (c) {
			case '&': rep = "&amp;"; break;
			case '<': rep = "&lt;"; break;
			case '>': rep = "&gt;"; break;
			case '"': rep = "&quot;"; break;
			case '\r': rep = "&#13;"; break;
			default: rep = ""; break; /* not allowed in XML 1.0 */
			}
		}
		if ((rc = mc_buf_add(out, run, (size_t)(p - run))) || (rc = mc_buf_adds(out, rep)))
			return rc;
		p += n;
		run = p;
	}
	return mc_buf_add(out, run, (size_t)(p - run));
}

/* ---- what MARC21slim.xsd accepts ---- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_lower(char c) { return c >= 'a' && c <= 'z'; }

/* controltagDataType: 00[1-9A-Za-z] */
static int control_tag_ok(const char *t)
{
	return t[0] == '0' && t[1] == '0' &&
	       ((t[2] >= '1' && t[2] <= '9') || is_upper(t[2]) || is_lower(t[2]));
}

/* tagDataType: 0[1-9A-Z][0-9A-Z] | 0[1-9a-z][0-9a-z] | [1-9A-Z][0-9A-Z]{2} | [1-9a-z][0-9a-z]{2} */
static int data_tag_ok(const char *t)
{
	int up = (is_digit(t[1]) || is_upper(t[1])) && (is_digit(t[2]) || is_upper(t[2]));
	int lo = (is_digit(t[1]) || is_lower(t[1])) && (is_digit(t[2]) || is_lower(t[2]));

	if (t[0] == '0')
		return t[1] != '0' && (up || lo);
	if ((t[0] >= '1' && t[0] <= '9') || is_upper(t[0]))
		return up;
	if (is_lower(t[0]))
		return lo;
	return 0;
}

/* indicatorDataType: [\da-z ] */
static char ind_ok(char c)
{
	return (is_digit(c) || is_lower(c) || c == ' ') ? c : ' ';
}

/* subfieldcodeDataType */
static int code_ok(char c)
{
	return c && (is_digit(c) || is_upper(c) || is_lower(c) ||
		     strchr("!\"#$%&'()*+,-./:;<=>?{}_^`~[]\\", c) != NULL);
}

/* leaderDataType: [\d ]{5}[\dA-Za-z ][\dA-Za-z][\dA-Za-z ]{3}(2| )(2| )[\d ]{5}[\dA-Za-z ]{3}(4500|    ) */
static void leader_fix(const char *in, char out[25])
{
	static const char dflt[] = "     nam a22     uu 4500";
	size_t i, n = strnlen(in, 24);
	int alnum_ok;

	memcpy(out, dflt, 25);
	for (i = 0; i < n; i++) {
		char c = in[i];

		alnum_ok = is_digit(c) || is_upper(c) || is_lower(c);
		if (i < 5 || (i >= 12 && i < 17)) {
			if (is_digit(c) || c == ' ')
				out[i] = c;
			else
				out[i] = ' ';
		} else if (i == 6) {
			if (alnum_ok)
				out[i] = c;
		} else if (i == 5 || (i >= 7 && i < 10) || (i >= 17 && i < 20)) {
			out[i] = alnum_ok || c == ' ' ? c : ' ';
		} else if (i == 10 || i == 11) {
			out[i] = c == '2' ? '2' : ' ';
		} /* 20-23 stay "4500" */
	}
}

/* ---- writing fields ---- */

static int open_datafield(struct mc_buf *out, const char *tag, char ind1, char ind2)
{
	return mc_buf_addf(out, "  <datafield tag=\"%.3s\" ind1=\"%c\" ind2=\"%c\">\n", tag,
			   ind_ok(ind1), ind_ok(ind2));
}

static int add_subfield(struct mc_buf *out, char code, const char *v, size_t len)
{
	int rc;

	if ((rc = mc_buf_adds(out, "    <subfield code=\"")) || (rc = add_xml(out, &code, 1)) ||
	    (rc = mc_buf_adds(out, "\">")) || (rc = add_xml(out, v, len)))
		return rc;
	return mc_buf_adds(out, "</subfield>\n");
}

static int close_datafield(struct mc_buf *out)
{
	return mc_buf_adds(out, "  </datafield>\n");
}

static int add_controlfield(struct mc_buf *out, const char *tag, const char *v, size_t len)
{
	int rc;

	if ((rc = mc_buf_addf(out, "  <controlfield tag=\"%.3s\">", tag)) ||
	    (rc = add_xml(out, v, len)))
		return rc;
	return mc_buf_adds(out, "</controlfield>\n");
}

/* One data field with a single subfield. */
static int add_simple(struct mc_buf *out, const char *tag, char ind1, char ind2, char code,
		      const char *v, size_t len)
{
	int rc;

	if ((rc = open_datafield(out, tag, ind1, ind2)) || (rc = add_subfield(out, code, v, len)))
		return rc;
	return close_datafield(out);
}

static int write_marc(const struct mc_marc *m, struct mc_buf *out)
{
	char leader[25];
	size_t i, j, nsub;
	int rc, pass;

	leader_fix(m->leader, leader);
	if ((rc = mc_buf_addf(out, "  <leader>%s</leader>\n", leader)))
		return rc;
	/* the schema wants every control field before the first data field */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < m->nfields; i++) {
			const struct mc_field *f = &m->fields[i];

			if (pass == 0) {
				if (f->value && control_tag_ok(f->tag) &&
				    (rc = add_controlfield(out, f->tag, f->value, f->len)))
					return rc;
				continue;
			}
			if (f->value || !data_tag_ok(f->tag))
				continue;
			for (nsub = 0, j = 0; j < f->nsub; j++)
				nsub += code_ok(f->sub[j].code);
			if (!nsub) /* a data field needs at least one subfield */
				continue;
			if ((rc = open_datafield(out, f->tag, f->ind1, f->ind2)))
				return rc;
			for (j = 0; j < f->nsub; j++)
				if (code_ok(f->sub[j].code) &&
				    (rc = add_subfield(out, f->sub[j].code, f->sub[j].value, f->sub[j].len)))
					return rc;
			if ((rc = close_datafield(out)))
				return rc;
		}
	}
	return 0;
}

/* ---- Dublin Core -> MARC (documented in schemas/record.md) ---- */

static int dc_is(const struct mc_dc_elem *e, const char *name)
{
	return strcmp(e->name, name) == 0;
}

static int is_url(const struct mc_dc_elem *e)
{
	return strncmp(e->value, "http://", 7) == 0 || strncmp(e->value, "https://", 8) == 0;
}

static int is_lang_code(const struct mc_dc_elem *e)
{
	return e->len == 3 && is_lower(e->value[0]) && is_lower(e->value[1]) && is_lower(e->value[2]);
}

/* DC elements that become 500 notes, with the label put in front. */
static const char *const note_elems[][2] = {
	{ "format", "Format" }, { "source", "Source" }, { "relation", "Relation" },
	{ "coverage", "Coverage" },
};

static int write_dc(const struct mc_record *r, struct mc_buf *out)
{
	const struct mc_dc *dc = r->dc;
	char norm[14];
	size_t i, k, ncreator = 0, npub = 0, ndate = 0, ntitle = 0;
	int rc = 0, has_1xx = 0;

	if ((rc = mc_buf_adds(out, "  <leader>     nam a22     uu 4500</leader>\n")) ||
	    (rc = add_controlfield(out, "001", r->local_id, strlen(r->local_id))))
		return rc;
	for (i = 0; i < dc->n; i++) {
		ncreator += dc_is(&dc->elems[i], "creator");
		npub += dc_is(&dc->elems[i], "publisher");
		ndate += dc_is(&dc->elems[i], "date");
	}
	has_1xx = ncreator > 0;
	/* 020 / 022 / 024: identifiers that are not URLs */
	for (i = 0; i < dc->n && !rc; i++) {
		const struct mc_dc_elem *e = &dc->elems[i];

		if (!dc_is(e, "identifier") || is_url(e))
			continue;
		if (mc_isbn_normalise(e->value, e->len, norm) == 0)
			rc = add_simple(out, "020", ' ', ' ', 'a', norm, strlen(norm));
		else if (mc_issn_normalise(e->value, e->len, norm) == 0)
			rc = add_simple(out, "022", ' ', ' ', 'a', norm, strlen(norm));
		else
			rc = add_simple(out, "024", '8', ' ', 'a', e->value, e->len);
	}
	/* 041: language codes; other language values become a 546 note below */
	for (i = 0; i < dc->n && !rc; i++)
		if (dc_is(&dc->elems[i], "language") && is_lang_code(&dc->elems[i]))
			rc = add_simple(out, "041", ' ', ' ', 'a', dc->elems[i].value, dc->elems[i].len);
	/* 100: the first creator */
	for (i = 0; i < dc->n && !rc; i++)
		if (dc_is(&dc->elems[i], "creator")) {
			rc = add_simple(out, "100", '1', ' ', 'a', dc->elems[i].value, dc->elems[i].len);
			break;
		}
	/* 245 (first title) and 246 (the others) */
	for (i = 0; i < dc->n && !rc; i++) {
		const struct mc_dc_elem *e = &dc->elems[i];

		if (!dc_is(e, "title"))
			continue;
		if (ntitle++ == 0)
			rc = add_simple(out, "245", has_1xx ? '1' : '0', '0', 'a', e->value, e->len);
		else
			rc = add_simple(out, "246", '3', '3', 'a', e->value, e->len);
	}
	/* 260: $b each publisher, $c the first date */
	if (!rc && (npub || ndate)) {
		rc = open_datafield(out, "260", ' ', ' ');
		for (i = 0; i < dc->n && !rc; i++)
			if (dc_is(&dc->elems[i], "publisher"))
				rc = add_subfield(out, 'b', dc->elems[i].value, dc->elems[i].len);
		for (i = 0; i < dc->n && !rc; i++)
			if (dc_is(&dc->elems[i], "date")) {
				rc = add_subfield(out, 'c', dc->elems[i].value, dc->elems[i].len);
				break;
			}
		if (!rc)
			rc = close_datafield(out);
	}
	/* 500 notes: format, source, relation, coverage with a label */
	for (k = 0; k < sizeof(note_elems) / sizeof(note_elems[0]) && !rc; k++)
		for (i = 0; i < dc->n && !rc; i++) {
			const struct mc_dc_elem *e = &dc->elems[i];

			if (!dc_is(e, note_elems[k][0]))
				continue;
			rc = open_datafield(out, "500", ' ', ' ');
			if (!rc)
				rc = mc_buf_addf(out, "    <subfield code=\"a\">%s: ", note_elems[k][1]);
			if (!rc)
				rc = add_xml(out, e->value, e->len);
			if (!rc)
				rc = mc_buf_adds(out, "</subfield>\n");
			if (!rc)
				rc = close_datafield(out);
		}
	for (i = 0; i < dc->n && !rc; i++) {
		const struct mc_dc_elem *e = &dc->elems[i];

		if (dc_is(e, "description"))
			rc = add_simple(out, "520", ' ', ' ', 'a', e->value, e->len);
	}
	for (i = 0; i < dc->n && !rc; i++) {
		const struct mc_dc_elem *e = &dc->elems[i];

		if (dc_is(e, "rights"))
			rc = add_simple(out, "540", ' ', ' ', 'a', e->value, e->len);
		else if (dc_is(e, "language") && !is_lang_code(e))
			rc = add_simple(out, "546", ' ', ' ', 'a', e->value, e->len);
	}
	for (i = 0; i < dc->n && !rc; i++)
		if (dc_is(&dc->elems[i], "subject"))
			rc = add_simple(out, "650", ' ', '4', 'a', dc->elems[i].value, dc->elems[i].len);
	for (i = 0; i < dc->n && !rc; i++)
		if (dc_is(&dc->elems[i], "type"))
			rc = add_simple(out, "655", ' ', '4', 'a', dc->elems[i].value, dc->elems[i].len);
	/* 700: the other creators, then contributors */
	for (i = 0, k = 0; i < dc->n && !rc; i++) {
		const struct mc_dc_elem *e = &dc->elems[i];

		if (dc_is(e, "creator") && k++ == 0)
			continue;
		if (dc_is(e, "creator") || dc_is(e, "contributor"))
			rc = add_simple(out, "700", '1', ' ', 'a', e->value, e->len);
	}
	for (i = 0; i < dc->n && !rc; i++)
		if (dc_is(&dc->elems[i], "identifier") && is_url(&dc->elems[i]))
			rc = add_simple(out, "856", '4', '0', 'u', dc->elems[i].value, dc->elems[i].len);
	return rc;
}

/* ---- public ---- */

int mc_marcxml_begin(struct mc_buf *out)
{
	return mc_buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				"<collection xmlns=\"" MARC_NS "\">\n");
}

int mc_marcxml_end(struct mc_buf *out)
{
	return mc_buf_adds(out, "</collection>\n");
}

int mc_record_marcxml(const struct mc_record *r, unsigned flags, struct mc_buf *out)
{
	size_t len0 = out->len;
	int rc;

	if (r->status == MC_REC_DELETED || (!r->marc && !r->dc))
		return 0;
	rc = mc_buf_adds(out, flags & MC_MARCXML_IN_COLLECTION ? "<record>\n"
							     : "<record xmlns=\"" MARC_NS "\">\n");
	if (!rc)
		rc = r->marc ? write_marc(r->marc, out) : write_dc(r, out);
	if (!rc)
		rc = mc_buf_adds(out, "</record>\n");
	if (rc && out->data) {
		out->len = len0;
		out->data[len0] = '\0';
	}
	return rc;
}

int mc_record_marc_text(const struct mc_record *r, struct mc_buf *out)
{
	size_t i, j;
	int rc = 0;

	if (r->marc) {
		const struct mc_marc *m = r->marc;

		rc = mc_buf_addf(out, "%.24s\n", m->leader);
		for (i = 0; i < m->nfields && !rc; i++) {
			const struct mc_field *f = &m->fields[i];

			if (f->value) {
				rc = mc_buf_addf(out, "%.3s ", f->tag);
				if (!rc)
					rc = mc_buf_add(out, f->value, f->len);
			} else {
				rc = mc_buf_addf(out, "%.3s %c%c", f->tag, f->ind1 ? f->ind1 : ' ',
						 f->ind2 ? f->ind2 : ' ');
				for (j = 0; j < f->nsub && !rc; j++) {
					rc = mc_buf_addf(out, " $%c ", f->sub[j].code);
					if (!rc)
						rc = mc_buf_add(out, f->sub[j].value, f->sub[j].len);
				}
			}
			if (!rc)
				rc = mc_buf_addc(out, '\n');
		}
	} else if (r->dc) {
		for (i = 0; i < r->dc->n && !rc; i++) {
			const struct mc_dc_elem *e = &r->dc->elems[i];

			rc = mc_buf_addf(out, "dc:%s ", e->name);
			if (!rc && e->lang)
				rc = mc_buf_addf(out, "[%s] ", e->lang);
			if (!rc)
				rc = mc_buf_add(out, e->value, e->len);
			if (!rc)
				rc = mc_buf_addc(out, '\n');
		}
	}
	return rc;
}
