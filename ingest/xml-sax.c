/* xml-sax.c — the SAX semantics of the XML parser (xml-internal.h has the
 * whole design): what each MARCXML, oai_dc and OAI-PMH element means, the
 * record being built, and its faults. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "xml-internal.h"

/* ------------------------------------------------------------------ */
/* SAX handlers */

static enum nsid ns_of(struct ing_xml *x, const xmlChar *uri)
{
	static const char *const names[N_OTHER] = { NULL, NS_MARC, NS_OAI, NS_OAIDC, NS_DC };
	int i;

	if (!uri)
		return N_NONE;
	for (i = 1; i < N_OTHER; i++)
		if (uri == x->uri_cache[i])
			return (enum nsid)i;
	for (i = 1; i < N_OTHER; i++) {
		if (strcmp((const char *)uri, names[i]) == 0) {
			x->uri_cache[i] = uri;
			return (enum nsid)i;
		}
	}
	return N_OTHER;
}

static int streq(const xmlChar *a, const char *b)
{
	return strcmp((const char *)a, b) == 0;
}

static int is_nm(struct ing_xml *x, const xmlChar *local, int id)
{
	if (local == x->nm[id])
		return 1;
	if (x->nm[id])
		return 0;  /* another dictionary string: another name */
	if (!streq(local, nm_str[id]))
		return 0;
	x->nm[id] = local;
	return 1;
}

static void stop(struct ing_xml *x)
{
	if (x->ctxt)
		xmlStopParser(x->ctxt);
}

/* First fault of the open record. */
void ing_xml_unit_fault(struct ing_xml *x, int code, int64_t off, int64_t line, const char *fmt, ...)
{
	char msg[sizeof(x->p->bad.msg)];
	va_list ap;

	if (!x->u.open || x->u.bad)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x->u.bad = code;
	ing_parser_bad(x->p, code, off, line, "%s", msg);
}

/* Line of the element being parsed now, in the original input. */
static int64_t cur_line(struct ing_xml *x)
{
	if (!x->ctxt || !x->ctxt->input)
		return 0;
	return (int64_t)x->ctxt->input->line + x->line_adj;
}

static void text_begin(struct ing_xml *x)
{
	mc_buf_reset(&x->text);
	x->collect = 1;
	x->text_full = 0;
	x->text_depth = x->depth;
}

static void on_chars(void *ctx, const xmlChar *ch, int len)
{
	struct ing_xml *x = ctx;
	int rc;

	if (!x->collect || x->depth != x->text_depth + 1 || x->text_full || len <= 0)
		return;
	rc = mc_buf_add(&x->text, ch, (size_t)len);
	if (rc) {
		x->text_full = 1;
		if (x->u.open && rc == -ENOMEM)
			ing_xml_unit_fault(x, -ENOMEM, x->u.off, cur_line(x),
				   "collecting an XML value: %s", mc_strerror(-ENOMEM));
		else if (x->u.open)
			ing_xml_unit_fault(x, MC_E_TOOBIG, x->u.off, cur_line(x),
				   "XML value longer than %u bytes", MC_MAX_FIELD_BYTES);
	}
}

/* Value of attribute local (no namespace) in SAX2's attribute array. */
static const xmlChar *attr(const xmlChar **atts, int n, const char *local, size_t *len)
{
	int i;

	for (i = 0; i < n; i++) {
		const xmlChar **a = atts + 5 * i;

		if (a[2] == NULL && streq(a[0], local)) {
			*len = (size_t)(a[4] - a[3]);
			return a[3];
		}
	}
	*len = 0;
	return NULL;
}

/* The same for the attribute names compared on every MARC element. */
static const xmlChar *attr_nm(struct ing_xml *x, const xmlChar **atts, int n, int id, size_t *len)
{
	int i;

	for (i = 0; i < n; i++) {
		const xmlChar **a = atts + 5 * i;

		if (a[2] == NULL && is_nm(x, a[0], id)) {
			*len = (size_t)(a[4] - a[3]);
			return a[3];
		}
	}
	*len = 0;
	return NULL;
}

void ing_xml_copy_attr(char *dst, size_t dstsz, const xmlChar *v, size_t len)
{
	if (!v)
		len = 0;
	if (len >= dstsz) {
		/* cut at a character boundary: never half a UTF-8 sequence */
		len = dstsz - 1;
		while (len && (v[len] & 0xC0) == 0x80)
			len--;
	}
	if (len)
		memcpy(dst, v, len);
	dst[len] = '\0';
}

static int lang_ok(const xmlChar *v, size_t len, size_t max)
{
	size_t i;

	if (!len || len >= max)
		return 0;
	for (i = 0; i < len; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		      (v[i] >= '0' && v[i] <= '9') || v[i] == '-'))
			return 0;
	return 1;
}

static void copy_text(struct ing_xml *x, char *dst, size_t dstsz)
{
	ing_xml_copy_attr(dst, dstsz, (const xmlChar *)x->text.data, x->text.len);
}

static int64_t parse_i64(const xmlChar *v, size_t len)
{
	int64_t n = 0;
	size_t i;

	if (!v || !len || len > 18)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	return n;
}

/* The qualified name prefix:local into buf; 0 or -1 when it does not fit. */
int ing_xml_qname(char *buf, size_t bufsz, const xmlChar *prefix, const xmlChar *local)
{
	int n = prefix ? snprintf(buf, bufsz, "%s:%s", prefix, local)
		       : snprintf(buf, bufsz, "%s", local);

	return n < 0 || (size_t)n >= bufsz ? -1 : 0;
}

static int add_escaped(struct mc_buf *b, const xmlChar *s)
{
	int rc = 0;

	for (; *s && rc == 0; s++) {
		switch (*s) {
		case '&':
			rc = mc_buf_adds(b, "&amp;");
			break;
		case '<':
			rc = mc_buf_adds(b, "&lt;");
			break;
		case '"':
			rc = mc_buf_adds(b, "&quot;");
			break;
		default:
			rc = mc_buf_addc(b, (char)*s);
		}
	}
	return rc;
}

/* Remember how to reopen the ancestors of the record starting now: their
 * start tags, the first one carrying every namespace binding in scope. */
static void save_prologue(struct ing_xml *x, int nb_namespaces)
{
	xmlParserCtxtPtr c = x->ctxt;
	struct mc_buf *b = &x->prologue;
	int i, j, n, rc = 0;

	if (x->depth > 0 && x->prologue_ok && x->prologue_parent == x->stack[x->depth - 1].serial)
		return;
	mc_buf_reset(b);
	x->prologue_ok = 0;
	x->prologue_parent = x->depth > 0 ? x->stack[x->depth - 1].serial : 0;
	if (x->depth == 0) {
		x->prologue_ok = 1;  /* the record is the document element */
		return;
	}
	n = c->nsNr - 2 * nb_namespaces;
	for (i = 0; i < x->depth && rc == 0; i++) {
		const struct xel *e = &x->stack[i];

		if (streq(e->local, "record") || streq(e->local, "dc"))
			return;  /* would confuse the tag events */
		rc = mc_buf_addc(b, '<');
		if (rc == 0 && e->prefix)
			rc = mc_buf_addf(b, "%s:", (const char *)e->prefix);
		if (rc == 0)
			rc = mc_buf_adds(b, (const char *)e->local);
		for (j = 0; i == 0 && j < n && rc == 0; j += 2) {
			const xmlChar *pf = c->nsTab[j], *uri = c->nsTab[j + 1];
			int k, later = 0;

			for (k = j + 2; k < n; k += 2)
				if (xmlStrEqual(pf, c->nsTab[k]))
					later = 1;
			if (later || !uri)
				continue;
			rc = pf ? mc_buf_addf(b, " xmlns:%s=\"", (const char *)pf)
				: mc_buf_adds(b, " xmlns=\"");
			if (rc == 0)
				rc = add_escaped(b, uri);
			if (rc == 0)
				rc = mc_buf_addc(b, '"');
		}
		if (rc == 0)
			rc = mc_buf_addc(b, '>');
	}
	x->prologue_ok = rc == 0;
}

static void unit_begin(struct ing_xml *x, int kind, const xmlChar *prefix, const xmlChar *local,
		       const struct ev *ev, int nb_namespaces)
{
	struct mc_record *r = x->p->rec;
	struct unit *u = &x->u;

	mc_record_reset(r);
	r->source = x->p->o.source;
	memset(u, 0, sizeof(*u));
	u->open = 1;
	u->kind = kind;
	u->depth = x->depth;
	u->off = ev ? ev->off : -1;
	u->line = ev ? ev->line : cur_line(x);
	/* The tag event must be this very tag; else offsets are unknown. */
	if (u->off >= x->win_off && u->off < win_end(x)) {
		const unsigned char *t = win_at(x, u->off);
		size_t avail = (size_t)(win_end(x) - u->off), pl = prefix ? strlen((const char *)prefix) : 0,
		       ll = strlen((const char *)local);

		if (avail < 1 + pl + !!pl + ll || t[0] != '<' ||
		    (pl && (memcmp(t + 1, prefix, pl) || t[1 + pl] != ':')) ||
		    memcmp(t + 1 + pl + !!pl, local, ll))
			u->off = -1;
	} else {
		u->off = -1;
	}
	if (u->off < 0)
		u->raw_lost = 1;
	r->in_offset = u->off;
	r->in_line = u->line;
	x->qname_ok = ing_xml_qname(x->qname, sizeof(x->qname), prefix, local) == 0;
	x->unit_kind_last = kind;
	x->last_unit_root = x->depth == 0;
	save_prologue(x, nb_namespaces);
	x->units++;
}

static void unit_end(struct ing_xml *x, const struct ev *ev)
{
	struct mc_parser *p = x->p;
	struct mc_record *r = p->rec;
	struct unit *u = &x->u;
	int64_t end = ev ? ev->off : -1;
	const char *raw = NULL;
	size_t raw_len = 0;
	struct fault f;
	int rc;

	if (u->off >= 0 && end > u->off) {
		int found = ing_xml_flt_take(x, u->off, end, &f);

		if (found == 1 && f.kind == F_CTRL)
			ing_xml_unit_fault(x, MC_E_ENCODING, f.off, f.line,
				   "control character U+%04X is not allowed in XML (replaced)",
				   (unsigned)f.byte);
		else if (found == 1 && f.kind == F_XMLCHAR)
			ing_xml_unit_fault(x, MC_E_ENCODING, f.off, f.line,
				   "character U+FFFE or U+FFFF is not allowed in XML (replaced by U+FFFD)");
		else if (found == 1 && f.kind == F_BYTE)
			ing_xml_unit_fault(x, MC_E_ENCODING, f.off, f.line,
				   "byte 0x%02X means nothing in %s, the declared encoding (replaced by '?')",
				   (unsigned)f.byte, x->enc);
		else if (found == 1)
			ing_xml_unit_fault(x, MC_E_ENCODING, f.off, f.line,
				   "invalid UTF-8 byte 0x%02X (replaced by U+FFFD)", (unsigned)f.byte);
		else if (found == 2)
			ing_xml_unit_fault(x, MC_E_ENCODING, f.off, 0, "invalid UTF-8 or control characters");
	}
	if (!u->bad) {
		if (u->kind == K_OAI_RECORD && !u->have_meta && !u->deleted)
			ing_xml_unit_fault(x, MC_E_PARSE, u->off, u->line,
				   "OAI-PMH record without metadata and not deleted");
		else if (u->kind == K_OAI_RECORD && !u->deleted && !r->marc && !r->dc)
			ing_xml_unit_fault(x, MC_E_PARSE, u->off, u->line,
				   "OAI-PMH record whose metadata holds no MARC field and no DC element");
		else if (u->kind == K_MARC_RECORD && !r->marc)
			ing_xml_unit_fault(x, MC_E_PARSE, u->off, u->line, "empty MARC record");
		else if (u->kind == K_DC && !r->dc)
			ing_xml_unit_fault(x, MC_E_PARSE, u->off, u->line, "empty oai_dc record");
	}
	if (!u->raw_lost && u->off >= x->win_off && end > u->off && end <= win_end(x) &&
	    end - u->off <= (int64_t)MC_MAX_RECORD_BYTES) {
		raw = (const char *)win_at(x, u->off);
		raw_len = (size_t)(end - u->off);
	}
	u->open = 0;
	if (end > x->last_end)
		x->last_end = end;
	rc = ing_parser_emit(p, u->bad != 0, u->id, raw, raw_len);
	if (rc)
		stop(x);
}

/* What an element is, from its parent, namespace and name. */
static int classify(struct ing_xml *x, int parent, enum nsid ns, const xmlChar *local)
{
	int marcns = ns == N_MARC || ns == N_NONE;

	switch (parent) {
	case K_OAI_ROOT:
		if (ns != N_OAI)
			return K_IGNORE;
		if (streq(local, "responseDate"))
			return K_RESPONSE_DATE;
		if (streq(local, "request"))
			return K_REQUEST;
		if (streq(local, "error"))
			return K_OAI_ERROR;
		if (streq(local, "ListRecords") || streq(local, "GetRecord"))
			return K_LIST;
		if (streq(local, "Identify"))
			return K_IDENTIFY;
		if (streq(local, "ListIdentifiers") || streq(local, "ListSets") ||
		    streq(local, "ListMetadataFormats"))
			return K_LIST_OTHER;
		return K_IGNORE;
	case K_IDENTIFY:
		if (ns != N_OAI)
			return K_IGNORE;
		if (streq(local, "granularity"))
			return K_GRANULARITY;
		if (streq(local, "earliestDatestamp"))
			return K_EARLIEST;
		if (streq(local, "deletedRecord"))
			return K_DELETED_RECORD;
		return K_IGNORE;
	case K_LIST:
		if (ns == N_OAI && streq(local, "record"))
			return K_OAI_RECORD;
		/* fall through */
	case K_LIST_OTHER:
		if (ns == N_OAI && streq(local, "resumptionToken"))
			return K_TOKEN;
		return K_IGNORE;
	case K_OAI_RECORD:
		if (ns == N_OAI && streq(local, "header"))
			return K_HEADER;
		if (ns == N_OAI && streq(local, "metadata"))
			return K_METADATA;
		return K_IGNORE;
	case K_HEADER:
		if (ns == N_OAI && streq(local, "identifier"))
			return K_H_IDENTIFIER;
		if (ns == N_OAI && streq(local, "datestamp"))
			return K_H_DATESTAMP;
		return K_IGNORE;
	case K_METADATA:
	case K_MD_COLLECTION:
		if (marcns && streq(local, "record"))
			return K_MARC_RECORD;
		if (parent == K_METADATA && marcns && streq(local, "collection"))
			return K_MD_COLLECTION;
		if (parent == K_METADATA && ns == N_OAIDC && streq(local, "dc"))
			return K_DC;
		if (parent == K_METADATA)
			ing_xml_unit_fault(x, MC_E_FORMAT, x->u.off, cur_line(x),
				   "unsupported metadata format <%s> (namespace %s)", (const char *)local,
				   ns == N_NONE ? "none" : ns == N_OTHER ? "other" : "OAI");
		return K_IGNORE;
	case K_COLLECTION:
		if (marcns && streq(local, "record"))
			return K_MARC_RECORD;
		return K_IGNORE;
	case K_MARC_RECORD:
		if (!marcns)
			return K_IGNORE;
		if (is_nm(x, local, NM_DATAFIELD))
			return K_DATA;
		if (is_nm(x, local, NM_CONTROLFIELD))
			return K_CONTROL;
		if (is_nm(x, local, NM_LEADER))
			return K_LEADER;
		return K_IGNORE;
	case K_DATA:
		if (marcns && is_nm(x, local, NM_SUBFIELD))
			return K_SUB;
		return K_IGNORE;
	case K_DC:
		return ns == N_DC ? K_DC_ELEM : K_IGNORE;
	default:
		return K_IGNORE;
	}
}

static int tag_ok(const xmlChar *v, size_t len)
{
	return v && len == 3 && v[0] >= 0x20 && v[0] < 0x7F && v[1] >= 0x20 && v[1] < 0x7F &&
	       v[2] >= 0x20 && v[2] < 0x7F;
}

/* An indicator or subfield code attribute as one byte: its character when
 * it is one ASCII character, none when it is absent or empty, else 0x7F,
 * which no check accepts (a multi-byte or several-character value):
 * mc_record_check_marc repairs or refuses it like any other bad byte. */
static char xml_char1(const xmlChar *v, size_t len, char none)
{
	static const struct {
		const char *ref;
		char c;
	} refs[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
		     { "&apos;", '\'' } };
	size_t i;

	if (!v || !len)
		return none;
	if (len == 1)
		return v[0] < 0x80 ? (char)v[0] : 0x7F;
	/* libxml2 (replaceEntities off) hands attribute values over with "&"
	 * written "&#38;": one character written as a reference */
	if (len >= 4 && v[0] == '&' && v[1] == '#' && v[len - 1] == ';') {
		unsigned long c = 0;
		int hex = v[2] == 'x';

		for (i = 2 + (size_t)hex; i < len - 1; i++) {
			int d = v[i] >= '0' && v[i] <= '9' ? v[i] - '0'
				: hex && (v[i] | 0x20) >= 'a' && (v[i] | 0x20) <= 'f' ? (v[i] | 0x20) - 'a' + 10
				: -1;

			if (d < 0 || c > 0x7F)
				return 0x7F;
			c = c * (hex ? 16 : 10) + (unsigned long)d;
		}
		return i > 2 + (size_t)hex && c > 0 && c < 0x80 ? (char)c : 0x7F;
	}
	for (i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
		if (len == strlen(refs[i].ref) && memcmp(v, refs[i].ref, len) == 0)
			return refs[i].c;
	return 0x7F;
}

static int root_kind(enum nsid ns, const xmlChar *local)
{
	if (ns == N_OAI && streq(local, "OAI-PMH"))
		return K_OAI_ROOT;
	if ((ns == N_MARC || ns == N_NONE) && streq(local, "collection"))
		return K_COLLECTION;
	if ((ns == N_MARC || ns == N_NONE) && streq(local, "record"))
		return K_MARC_RECORD;
	if (ns == N_OAIDC && streq(local, "dc"))
		return K_DC;
	return -1;
}

static void on_start(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri,
		     int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
		     int nb_defaulted, const xmlChar **atts)
{
	struct ing_xml *x = ctx;
	struct mc_parser *p = x->p;
	struct mc_record *r = p->rec;
	enum nsid ns;
	struct ev ev, *evp = NULL;
	const xmlChar *v;
	size_t vl;
	int kind, rc;

	(void)namespaces;
	(void)nb_defaulted;
	if (is_nm(x, local, NM_RECORD) || is_nm(x, local, NM_DC))
		evp = ing_xml_ev_pop(x, EV_START, &ev) ? &ev : NULL;
	if (x->depth >= MC_MAX_XML_DEPTH) {
		x->overflow++;
		if (x->u.open)
			ing_xml_unit_fault(x, MC_E_TOOBIG, x->u.off, cur_line(x),
				   "XML nesting deeper than %d elements", MC_MAX_XML_DEPTH);
		else {
			ing_parser_fail(p, MC_E_TOOBIG, -1, cur_line(x),
				       "XML nesting deeper than %d elements", MC_MAX_XML_DEPTH);
			stop(x);
		}
		return;
	}
	ns = ns_of(x, uri);
	if (x->depth == 0) {
		kind = root_kind(ns, local);
		if (kind < 0) {
			char q[QNAME_MAX];

			if (ing_xml_qname(q, sizeof(q), prefix, local))
				snprintf(q, sizeof(q), "%.60s...", (const char *)local);
			if (!x->root_seen)
				ing_parser_fail(p, MC_E_PARSE, -1, cur_line(x),
					       "not MARCXML/OAI-PMH: got <%s>%s%s", q,
					       uri ? " in namespace " : "", uri ? (const char *)uri : "");
			else
				ing_parser_fail(p, MC_E_PARSE, -1, cur_line(x),
					       "unexpected document <%s> after the first one", q);
			stop(x);
			return;
		}
		x->root_seen = 1;
		if (ing_xml_qname(x->root_q, sizeof(x->root_q), prefix, local))
			x->root_q[0] = '\0';
		if (kind == K_OAI_ROOT)
			p->oai.envelope = 1;
	} else {
		kind = classify(x, x->stack[x->depth - 1].kind, ns, local);
	}
	x->stack[x->depth].kind = (unsigned char)kind;
	x->stack[x->depth].serial = ++x->serial;
	x->stack[x->depth].local = local;
	x->stack[x->depth].prefix = prefix;

	switch (kind) {
	case K_OAI_RECORD:
		unit_begin(x, K_OAI_RECORD, prefix, local, evp, nb_namespaces);
		break;
	case K_MARC_RECORD:
	case K_DC:
		if (!x->u.open) {
			unit_begin(x, kind, prefix, local, evp, nb_namespaces);
		} else if (x->u.have_meta) {
			ing_xml_unit_fault(x, MC_E_PARSE, x->u.off, cur_line(x),
				   "more than one metadata record inside one OAI-PMH record");
			kind = K_IGNORE;
			x->stack[x->depth].kind = K_IGNORE;
		}
		if (kind != K_IGNORE) {
			x->u.have_meta = 1;
			if (kind == K_MARC_RECORD && p->o.input == MC_IN_OAI_DC)
				ing_xml_unit_fault(x, MC_E_FORMAT, x->u.off, x->u.line,
					   "MARCXML record where oai_dc was expected");
			if (kind == K_DC && p->o.input == MC_IN_MARCXML)
				ing_xml_unit_fault(x, MC_E_FORMAT, x->u.off, x->u.line,
					   "oai_dc record where MARCXML was expected");
		}
		break;
	case K_HEADER:
		v = attr(atts, nb_attributes, "status", &vl);
		if (v && vl == 7 && memcmp(v, "deleted", 7) == 0) {
			x->u.deleted = 1;
			r->status = MC_REC_DELETED;
		}
		break;
	case K_CONTROL:
		v = attr_nm(x, atts, nb_attributes, NM_TAG, &vl);
		if (!tag_ok(v, vl)) {
			ing_xml_unit_fault(x, MC_E_PARSE, x->u.off, cur_line(x),
				   "controlfield without a 3-character ASCII tag");
			x->stack[x->depth].kind = K_IGNORE;
			break;
		}
		memcpy(x->tag, v, 3);
		x->tag[3] = '\0';
		text_begin(x);
		break;
	case K_DATA: {
		const xmlChar *i1, *i2;
		size_t l1, l2;

		v = attr_nm(x, atts, nb_attributes, NM_TAG, &vl);
		i1 = attr_nm(x, atts, nb_attributes, NM_IND1, &l1);
		i2 = attr_nm(x, atts, nb_attributes, NM_IND2, &l2);
		x->field = NULL;
		if (!tag_ok(v, vl)) {
			ing_xml_unit_fault(x, MC_E_PARSE, x->u.off, cur_line(x),
				   "datafield without a 3-character ASCII tag");
			x->stack[x->depth].kind = K_IGNORE;
			break;
		}
		if (x->u.bad)
			break;
		rc = mc_marc_add_data(r, (const char *)v, xml_char1(i1, l1, ' '), xml_char1(i2, l2, ' '),
				      &x->field);
		if (rc == -ENOMEM && mc_arena_over_cap(r->arena))
			rc = MC_E_TOOBIG;
		if (rc)
			ing_xml_unit_fault(x, rc, x->u.off, cur_line(x), "datafield %.3s: %s%s", (const char *)v,
				   rc == MC_E_TOOBIG ? "the record " : "",
				   rc == MC_E_TOOBIG ? (r->limit ? r->limit : "is too big")
						     : mc_strerror(rc));
		break;
	}
	case K_SUB:
		v = attr_nm(x, atts, nb_attributes, NM_CODE, &vl);
		x->code = xml_char1(v, vl, 0);
		text_begin(x);
		break;
	case K_DC_ELEM: {
		int i;

		x->has_lang = 0;
		for (i = 0; i < nb_attributes; i++) {
			const xmlChar **a = atts + 5 * i;

			if (a[2] && streq(a[0], "lang") && streq(a[2], NS_XML)) {
				/* a language tag (BCP 47: letters, digits, hyphens), else
				 * left out: it is no language anyone can use */
				x->has_lang = lang_ok(a[3], (size_t)(a[4] - a[3]), sizeof(x->lang));
				if (x->has_lang)
					ing_xml_copy_attr(x->lang, sizeof(x->lang), a[3],
							  (size_t)(a[4] - a[3]));
			}
		}
		text_begin(x);
		break;
	}
	case K_REQUEST:
		v = attr(atts, nb_attributes, "verb", &vl);
		ing_xml_copy_attr(p->oai.verb, sizeof(p->oai.verb), v, vl);
		break;
	case K_OAI_ERROR:
		if (!p->oai.error_code[0]) {
			v = attr(atts, nb_attributes, "code", &vl);
			ing_xml_copy_attr(p->oai.error_code, sizeof(p->oai.error_code), v, vl);
			if (!p->oai.error_code[0])
				mc_error_field(p->oai.error_code, sizeof(p->oai.error_code), "unknown");
			text_begin(x);
		}
		break;
	case K_TOKEN:
		p->oai.has_token = 1;
		v = attr(atts, nb_attributes, "completeListSize", &vl);
		p->oai.complete_list_size = parse_i64(v, vl);
		v = attr(atts, nb_attributes, "cursor", &vl);
		p->oai.cursor = parse_i64(v, vl);
		v = attr(atts, nb_attributes, "expirationDate", &vl);
		ing_xml_copy_attr(p->oai.token_expiration, sizeof(p->oai.token_expiration), v, vl);
		text_begin(x);
		break;
	case K_LEADER:
	case K_H_IDENTIFIER:
	case K_H_DATESTAMP:
	case K_RESPONSE_DATE:
	case K_GRANULARITY:
	case K_EARLIEST:
	case K_DELETED_RECORD:
		text_begin(x);
		break;
	default:
		break;
	}
	x->depth++;
}

static void text_end(struct ing_xml *x, int kind, const xmlChar *local)
{
	struct mc_parser *p = x->p;
	struct mc_record *r = p->rec;
	const char *t = x->text.data ? x->text.data : "";
	size_t n = x->text.len;
	int rc = 0;

	x->collect = 0;
	if (x->text_full)
		return;
	switch (kind) {
	case K_LEADER: {
		struct mc_marc *m;

		if (x->u.bad)
			break;
		m = mc_record_marc(r);
		if (!m) {
			rc = -ENOMEM;
			break;
		}
		memcpy(m->leader, t, n < 24 ? n : 24);
		break;
	}
	case K_CONTROL:
		if (x->u.bad)
			break;
		rc = mc_marc_add_control(r, x->tag, t, n);
		if (rc == 0 && !x->u.id && memcmp(x->tag, "001", 3) == 0)
			x->u.id = r->marc->fields[r->marc->nfields - 1].value;
		break;
	case K_SUB:
		if (x->u.bad || !x->field)
			break;
		rc = mc_marc_add_sub(r, x->field, x->code, t, n);
		break;
	case K_DC_ELEM:
		if (x->u.bad)
			break;
		rc = mc_dc_add(r, (const char *)local, t, n, x->has_lang ? x->lang : NULL);
		break;
	case K_H_IDENTIFIER:
		if (n > MC_MAX_ID_BYTES) {
			ing_xml_unit_fault(x, MC_E_TOOBIG, x->u.off, cur_line(x),
				   "OAI identifier longer than %d bytes", MC_MAX_ID_BYTES);
			break;
		}
		r->local_id = mc_arena_strndup(r->arena, t, n);
		if (!r->local_id)
			rc = -ENOMEM;
		else
			x->u.id = r->local_id;
		break;
	case K_H_DATESTAMP: {
		char ds[32];
		int64_t ts;

		copy_text(x, ds, sizeof(ds));
		/* An unreadable datestamp is left 0: the importer uses the import time. */
		if (n < sizeof(ds) && mc_datestamp_parse(ds, &ts) == 0)
			r->datestamp = ts;
		break;
	}
	case K_RESPONSE_DATE:
		copy_text(x, p->oai.response_date, sizeof(p->oai.response_date));
		break;
	case K_OAI_ERROR:
		copy_text(x, p->oai.error_msg, sizeof(p->oai.error_msg));
		break;
	case K_GRANULARITY:
		copy_text(x, p->oai.granularity, sizeof(p->oai.granularity));
		break;
	case K_EARLIEST:
		copy_text(x, p->oai.earliest_datestamp, sizeof(p->oai.earliest_datestamp));
		break;
	case K_DELETED_RECORD:
		copy_text(x, p->oai.deleted_record, sizeof(p->oai.deleted_record));
		break;
	case K_TOKEN:
		if (n >= sizeof(p->oai.token)) {
			ing_parser_fail(p, MC_E_TOOBIG, -1, cur_line(x),
				       "resumptionToken longer than %zu bytes", sizeof(p->oai.token) - 1);
			stop(x);
			break;
		}
		copy_text(x, p->oai.token, sizeof(p->oai.token));
		break;
	default:
		break;
	}
	if (rc == -ENOMEM && mc_arena_over_cap(r->arena))
		rc = MC_E_TOOBIG;
	if (rc)
		ing_xml_unit_fault(x, rc, x->u.off, cur_line(x), "%s %s: %s%s",
			   kind == K_DC_ELEM ? "dc element" : "MARC field",
			   kind == K_DC_ELEM ? (const char *)local : x->tag,
			   rc == MC_E_TOOBIG ? "the record " : "",
			   rc == MC_E_TOOBIG ? (r->limit ? r->limit : "is too big") : mc_strerror(rc));
}

static void on_end(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
	struct ing_xml *x = ctx;
	struct ev ev, *evp = NULL;
	int kind;

	(void)prefix;
	(void)uri;
	if (is_nm(x, local, NM_RECORD) || is_nm(x, local, NM_DC))
		evp = ing_xml_ev_pop(x, EV_END, &ev) ? &ev : NULL;
	if (x->overflow) {
		x->overflow--;
		return;
	}
	if (x->depth == 0)
		return;
	x->depth--;
	kind = x->stack[x->depth].kind;
	if (x->collect && x->text_depth == x->depth)
		text_end(x, kind, local);
	if (x->u.open && x->depth == x->u.depth)
		unit_end(x, evp);
	if (x->depth == 0)
		x->root_done = 1;
}

static void on_xml_error(void *ctx, xmlErrorPtr e)
{
	struct ing_xml *x = ctx;
	size_t n;

	if (!e || e->level != XML_ERR_FATAL || x->xerr)
		return;
	x->xerr = 1;
	x->xerr_code = e->code;
	x->xerr_line = e->line;
	snprintf(x->xerr_msg, sizeof(x->xerr_msg), "%s", e->message ? e->message : "XML error");
	n = strlen(x->xerr_msg);
	while (n && (x->xerr_msg[n - 1] == '\n' || x->xerr_msg[n - 1] == ' '))
		x->xerr_msg[--n] = '\0';
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *publicId,
			   const xmlChar *systemId, xmlChar *content)
{
	struct ing_xml *x = ctx;

	(void)type;
	(void)publicId;
	(void)systemId;
	(void)content;
	ing_parser_fail(x->p, MC_E_ENTITY, -1, cur_line(x), "XML entity declaration '%s' refused",
		       (const char *)name);
	stop(x);
}

static xmlEntityPtr on_get_entity(void *ctx, const xmlChar *name)
{
	(void)ctx;
	return xmlGetPredefinedEntity(name);
}

static xmlEntityPtr on_get_pentity(void *ctx, const xmlChar *name)
{
	(void)ctx;
	(void)name;
	return NULL;
}

static void on_internal_subset(void *ctx, const xmlChar *name, const xmlChar *ext,
			       const xmlChar *sys)
{
	(void)ctx;
	(void)name;
	(void)ext;
	(void)sys;
}

void ing_xml_sax_init(xmlSAXHandler *sax)
{
	sax->initialized = XML_SAX2_MAGIC;
	sax->startElementNs = on_start;
	sax->endElementNs = on_end;
	sax->characters = on_chars;
	sax->ignorableWhitespace = on_chars;
	sax->cdataBlock = on_chars;
	sax->serror = on_xml_error;
	sax->entityDecl = on_entity_decl;
	sax->getEntity = on_get_entity;
	sax->getParameterEntity = on_get_pentity;
	sax->internalSubset = on_internal_subset;
}
