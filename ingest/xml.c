/* xml.c — the XML parser's driver (xml-internal.h has the whole design):
 * the window of original bytes, libxml2's push parser, resynchronisation
 * after errors; and the ops table the front end (parse.c) calls. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "xml-internal.h"

/* ------------------------------------------------------------------ */
/* window */

static int win_append(struct ing_xml *x, const char *buf, size_t len)
{
	if (x->win_len + len > x->win_cap) {
		size_t ncap = x->win_cap ? x->win_cap : 4 * MC_PARSE_CHUNK;
		unsigned char *n;

		while (ncap < x->win_len + len)
			ncap *= 2;
		if (ncap > WIN_MAX + MC_PARSE_CHUNK)
			ncap = WIN_MAX + MC_PARSE_CHUNK;
		if (ncap < x->win_len + len)
			return MC_E_TOOBIG;
		n = realloc(x->win, ncap);
		if (!n)
			return -ENOMEM;
		x->win = n;
		x->win_cap = ncap;
	}
	memcpy(x->win + x->win_len, buf, len);
	x->win_len += len;
	return 0;
}

static int64_t count_nl(const unsigned char *b, size_t n)
{
	const unsigned char *e = b + n;
	int64_t k = 0;

	while (b < e && (b = memchr(b, '\n', (size_t)(e - b))) != NULL) {
		k++;
		b++;
	}
	return k;
}

/* Line number at input offset off (inside the window), from the anchor. */
static int64_t line_at(struct ing_xml *x, int64_t off)
{
	if (off < x->win_off || off > win_end(x) || x->anc_off < x->win_off)
		return 0;
	if (off == x->anc_off)
		return x->anc_line;  /* also when the window is still unallocated */
	if (off > x->anc_off)
		return x->anc_line + count_nl(win_at(x, x->anc_off), (size_t)(off - x->anc_off));
	return x->anc_line - count_nl(win_at(x, off), (size_t)(x->anc_off - off));
}

/* Forget window bytes before keep. */
static void win_drop(struct ing_xml *x, int64_t keep)
{
	size_t k;

	if (keep <= x->win_off)
		return;
	if (keep > win_end(x))
		keep = win_end(x);
	if (keep <= x->win_off)
		return;
	if (keep > x->anc_off) {
		x->anc_line = line_at(x, keep);
		x->anc_off = keep;
	}
	k = (size_t)(keep - x->win_off);
	memmove(x->win, x->win + k, x->win_len - k);
	x->win_len -= k;
	x->win_off = keep;
}

/* Input offset of the start of line (inside the window), or -1. */
static int64_t line_start(struct ing_xml *x, int64_t line)
{
	int64_t l = line_at(x, x->win_off);
	const unsigned char *b = x->win, *e;

	if (line < l || l == 0 || !b)
		return -1;
	e = b + x->win_len;
	while (l < line) {
		b = memchr(b, '\n', (size_t)(e - b));
		if (!b)
			return -1;
		b++;
		l++;
	}
	return x->win_off + (b - x->win);
}

/* ------------------------------------------------------------------ */
/* driving libxml2 */

/* libxml2 reports some faults (input encoding conversion) on its generic
 * error channel, which prints to stderr: collect them instead. */
static void on_generic_error(void *ctx, const char *msg, ...) __attribute__((format(printf, 2, 3)));
static void on_generic_error(void *ctx, const char *msg, ...)
{
	struct ing_xml *x = ctx;
	va_list ap;
	int n;

	if (!x || x->gen_len + 1 >= sizeof(x->gen_msg))
		return;
	va_start(ap, msg);
	n = vsnprintf(x->gen_msg + x->gen_len, sizeof(x->gen_msg) - x->gen_len, msg, ap);
	va_end(ap);
	if (n > 0)
		x->gen_len += (size_t)n < sizeof(x->gen_msg) - x->gen_len ? (size_t)n
									   : sizeof(x->gen_msg) - x->gen_len - 1;
}

/* xmlParseChunk with libxml2's generic error channel captured, and the
 * caller's restored afterwards. */
static void parse_chunk(struct ing_xml *x, const char *b, int n, int terminate)
{
	xmlGenericErrorFunc old = xmlGenericError;
	void *oldctx = xmlGenericErrorContext;

	xmlSetGenericErrorFunc(x, on_generic_error);
	xmlParseChunk(x->ctxt, b, n, terminate);
	xmlSetGenericErrorFunc(oldctx, old);
}

static int ctxt_new(struct ing_xml *x)
{
	if (x->ctxt)
		xmlFreeParserCtxt(x->ctxt);
	x->ctxt = xmlCreatePushParserCtxt(&x->sax, x, NULL, 0, NULL);
	if (!x->ctxt)
		return -ENOMEM;
	xmlCtxtUseOptions(x->ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	x->ctxt->replaceEntities = 0;
	x->ctxt->loadsubset = 0;
	x->ctxt->validate = 0;
	x->xerr = 0;
	x->xerr_enc = 0;
	x->gen_len = 0;
	x->gen_msg[0] = '\0';
	x->depth = 0;
	x->overflow = 0;
	x->collect = 0;
	memset(x->uri_cache, 0, sizeof(x->uri_cache));
	memset(x->nm, 0, sizeof(x->nm));
	return 0;
}

static void xml_free(void *st);

static int xml_new(struct mc_parser *p, void **ret)
{
	struct ing_xml *x = calloc(1, sizeof(*x));
	int rc;

	if (!x)
		return -ENOMEM;
	xmlInitParser();
	x->p = p;
	x->s.line = 1;
	x->anc_line = 1;
	x->flt_lost = -1;
	x->utf8 = 1;
	x->last_restart = -1;
	mc_buf_init(&x->san, 4 * MC_PARSE_CHUNK);
	mc_buf_init(&x->text, MC_MAX_FIELD_BYTES);
	mc_buf_init(&x->prologue, PROLOGUE_MAX);
	ing_xml_sax_init(&x->sax);
	rc = ctxt_new(x);
	if (rc) {
		xml_free(x);
		return rc;
	}
	*ret = x;
	return 0;
}

static void xml_free(void *st)
{
	struct ing_xml *x = st;

	if (!x)
		return;
	if (x->ctxt)
		xmlFreeParserCtxt(x->ctxt);
	free(x->win);
	free(x->ev);
	free(x->flt);
	free(x->rep);
	mc_buf_free(&x->san);
	mc_buf_free(&x->text);
	mc_buf_free(&x->prologue);
	free(x);
}

/* For a single-byte encoding declared by the document, find the bytes its
 * decoder refuses (unassigned in windows-1258, ...). They are then treated
 * like invalid UTF-8: libxml2 would stop at a conversion error and lose the
 * rest of the input; this way one bad byte spoils one record. Multi-byte
 * encodings get no such filter. */
static void probe_encoding(struct ing_xml *x)
{
	xmlGenericErrorFunc old = xmlGenericError;
	void *oldctx = xmlGenericErrorContext;
	xmlCharEncodingHandlerPtr h;
	xmlBufferPtr in, out;
	int c, single = 1;

	xmlSetGenericErrorFunc(x, on_generic_error);
	h = xmlFindCharEncodingHandler(x->enc);
	in = xmlBufferCreate();
	out = xmlBufferCreate();
	for (c = 0x80; c < 0x100 && h && in && out && single; c++) {
		xmlChar b = (xmlChar)c;
		int r;

		xmlBufferEmpty(in);
		xmlBufferEmpty(out);
		if (xmlBufferAdd(in, &b, 1) != 0)
			break;
		r = xmlCharEncInFunc(h, out, in);
		if (r >= 0 && xmlBufferLength(in) == 0)
			continue;  /* converted, or held to combine with what follows (cp1258) */
		if (r == -2) {
			x->badbyte[c] = 1;
			continue;
		}
		/* Not consumed: a refused byte, or the lead byte of a multi-byte
		 * character, which a following byte completes. */
		if (xmlBufferAdd(in, (const xmlChar *)"A", 1) != 0)
			break;
		r = xmlCharEncInFunc(h, out, in);
		if (r > 0 && xmlBufferLength(in) == 0)
			single = 0;
		else
			x->badbyte[c] = 1;
	}
	if (!single || c < 0x100)
		memset(x->badbyte, 0, sizeof(x->badbyte));
	xmlBufferFree(in);
	xmlBufferFree(out);
	if (h)
		xmlCharEncCloseFunc(h);
	xmlSetGenericErrorFunc(oldctx, old);
}

/* Look at the XML declaration: UTF-16 is refused, another declared
 * encoding turns UTF-8 checking off. Returns 0 when more bytes are needed
 * (*done left 0), or a fatal code. */
static int prolog(struct ing_xml *x, int eof)
{
	const unsigned char *b = x->win;
	size_t n = x->win_len, i = 0, e;
	const unsigned char *enc, *q;

	if (n >= 2 && ((b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE) ||
		       (b[0] == '<' && b[1] == 0) || (b[0] == 0 && b[1] == '<')))
		return ing_parser_fail(x->p, MC_E_ENCODING, 0, 1,
				      "UTF-16 XML is not supported: convert the file to UTF-8");
	if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
		i = 3;
	while (i < n && is_ws(b[i]))
		i++;
	if (n - i < 6 && !eof)
		return 0;
	if (i > 0 && n - i >= 5 && memcmp(b + i, "<?xml", 5) == 0) {
		/* Blank lines (and a BOM) before the XML declaration: real files
		 * have them; libxml2 refuses them. Start libxml2 at the '<'. */
		x->scan = (int64_t)i;
		x->s.line = 1 + count_nl(b, i);
		x->line_adj = x->s.line - 1;
		x->anc_off = x->scan;
		x->anc_line = x->s.line;
	} else {
		i = (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) ? 3 : 0;
	}
	if (n - i < 6 || memcmp(b + i, "<?xml", 5) != 0 || !is_ws(b[i + 5])) {
		x->prolog_done = 1;
		return 0;
	}
	q = NULL;
	for (e = i; e + 1 < n && e < i + 512; e++) {
		if (b[e] == '?' && b[e + 1] == '>') {
			q = b + e;
			break;
		}
	}
	if (!q) {
		if (!eof && n < i + 512)
			return 0;
		x->prolog_done = 1;  /* libxml2 will complain */
		return 0;
	}
	x->prolog_done = 1;
	enc = memmem(b + i, (size_t)(q - (b + i)), "encoding", 8);
	if (enc) {
		const unsigned char *v = enc + 8, *ve;
		int quote;

		while (v < q && (is_ws(*v) || *v == '='))
			v++;
		if (v >= q || (*v != '"' && *v != '\''))
			return 0;
		quote = *v++;
		ve = memchr(v, quote, (size_t)(q - v));
		if (!ve)
			return 0;
		ing_xml_copy_attr(x->enc, sizeof(x->enc), v, (size_t)(ve - v));
		if (strcasecmp(x->enc, "utf-8") == 0 || strcasecmp(x->enc, "utf8") == 0) {
			x->enc[0] = '\0';
		} else if (strncasecmp(x->enc, "utf-16", 6) == 0 || strncasecmp(x->enc, "ucs", 3) == 0 ||
			   strncasecmp(x->enc, "utf-32", 6) == 0) {
			return ing_parser_fail(x->p, MC_E_ENCODING, 0, 1,
					      "XML in %s is not supported: convert the file to UTF-8",
					      x->enc);
		} else {
			x->utf8 = 0;
			probe_encoding(x);
		}
	}
	return 0;
}

/* Hand bytes [x->scan, x->scan + n) to libxml2, replacing what the scanner
 * marked. */
static int push(struct ing_xml *x, size_t n, int terminate)
{
	const unsigned char *b = n ? win_at(x, x->scan) : NULL;
	int rc;

	if (x->nrep) {
		size_t i, pos = 0;

		mc_buf_reset(&x->san);
		rc = 0;
		for (i = 0; i < x->nrep && rc == 0; i++) {
			rc = mc_buf_add(&x->san, b + pos, x->rep[i].pos - pos);
			if (rc == 0)
				rc = x->utf8 ? mc_buf_add(&x->san, "\xEF\xBF\xBD", 3)
					     : mc_buf_addc(&x->san, '?');
			pos = x->rep[i].pos + x->rep[i].len;
		}
		if (rc == 0)
			rc = mc_buf_add(&x->san, b + pos, n - pos);
		if (rc)
			return rc;
		b = (const unsigned char *)x->san.data;
		n = x->san.len;
		x->nrep = 0;
	}
	parse_chunk(x, (const char *)b, (int)n, terminate);
	/* A fatal error libxml2 did not report through serror: an input
	 * encoding conversion failure halts the parser (disableSAX set, errNo
	 * and wellFormed untouched). We stopped it ourselves only with stop_rc
	 * or fatal_rc set. */
	if (!x->xerr && !x->p->stop_rc && !x->p->fatal_rc && x->ctxt->disableSAX) {
		char *nl = strchr(x->gen_msg, '\n');

		if (nl)
			*nl = '\0';
		x->xerr = 1;
		x->xerr_code = x->ctxt->errNo;
		x->xerr_line = x->ctxt->input ? x->ctxt->input->line : 0;
		x->xerr_enc = strstr(x->gen_msg, "conversion") || strstr(x->gen_msg, "encod");
		snprintf(x->xerr_msg, sizeof(x->xerr_msg), "%.255s",
			 x->gen_msg[0] ? x->gen_msg : "XML input error");
		x->gen_len = 0;
		x->gen_msg[0] = '\0';
	}
	return 0;
}

/* Where the next record may start, at or after from: "<" qname followed by a
 * delimiter. -1 if not in the window (yet); *resume = where to look next time. */
static int64_t find_unit(struct ing_xml *x, int64_t from, int eof, int64_t *resume)
{
	size_t ql = strlen(x->qname);
	const unsigned char *b = x->win, *e = x->win + x->win_len, *h;

	if (from < x->win_off)
		from = x->win_off;
	h = b + (from - x->win_off);
	while (h < e && (h = memchr(h, '<', (size_t)(e - h))) != NULL) {
		if ((size_t)(e - h) < ql + 2) {
			if (eof)
				break;
			*resume = x->win_off + (h - b);
			return -1;
		}
		if (memcmp(h + 1, x->qname, ql) == 0 &&
		    (is_ws(h[1 + ql]) || h[1 + ql] == '>' || h[1 + ql] == '/')) {
			/* In an OAI envelope with a default namespace, an inner MARC
			 * <record xmlns="...MARC21/slim"> is not an OAI record. */
			const unsigned char *gt = memchr(h, '>', (size_t)(e - h));

			if (!(x->unit_kind_last == K_OAI_RECORD && !strchr(x->qname, ':') && gt &&
			      memmem(h, (size_t)(gt - h), "MARC21/slim", 11)))
				return x->win_off + (h - b);
		}
		h++;
	}
	*resume = win_end(x) - (int64_t)(ql + 1);
	if (*resume < from)
		*resume = from;
	return -1;
}

/* Start of the next document after from: an XML declaration or a start
 * tag (not an end tag, comment, PI or DOCTYPE). -1 if none in the window. */
static int64_t find_doc(struct ing_xml *x, int64_t from)
{
	const unsigned char *b = x->win, *e = x->win + x->win_len, *h;

	if (from < x->win_off)
		from = x->win_off;
	for (h = b + (from - x->win_off); h + 1 < e && (h = memchr(h, '<', (size_t)(e - h))) != NULL;
	     h++) {
		if (h + 1 >= e)
			break;
		if (h[1] == '?' && (size_t)(e - h) >= 6 && memcmp(h, "<?xml", 5) == 0 && is_ws(h[5]))
			return x->win_off + (h - b);
		if (h[1] != '/' && h[1] != '!' && h[1] != '?')
			return x->win_off + (h - b);
	}
	return -1;
}

/* Start a fresh libxml2 context at input offset at: a record start tag
 * (prologue = 1: reopen its ancestors first) or a new document. */
static int restart(struct ing_xml *x, int64_t at, int prologue)
{
	int rc;
	int64_t line = line_at(x, at);

	rc = ctxt_new(x);
	if (rc)
		return ing_parser_fail(x->p, rc, at, line, "%s", mc_strerror(rc));
	memset(&x->u, 0, sizeof(x->u));
	memset(&x->s, 0, sizeof(x->s));
	x->s.st = S_TEXT;
	x->s.line = line;
	x->ev_n = x->ev_head = 0;
	x->flt_n = x->flt_head = 0;
	x->flt_lost = -1;
	x->nrep = 0;
	x->line_adj = line - 1;
	x->scan = at;
	x->anc_off = at;
	x->anc_line = line;
	x->seeking = 0;
	x->last_restart = at;
	x->root_done = 0;
	if (!prologue)
		return 0;
	if (x->enc[0]) {
		char decl[128];

		snprintf(decl, sizeof(decl), "<?xml version=\"1.0\" encoding=\"%s\"?>", x->enc);
		parse_chunk(x, decl, (int)strlen(decl), 0);
	}
	if (x->prologue.len)
		parse_chunk(x, x->prologue.data, (int)x->prologue.len, 0);
	if (x->xerr) {
		x->xerr = 0;
		return ing_parser_fail(x->p, MC_E_PARSE, at, line,
				      "cannot restart the XML parser after an error");
	}
	return 0;
}

/* Report the broken record kept back by xml_error; its raw bytes end at end
 * (the next record, or the end of the input), blanks trimmed. */
static int emit_pending(struct ing_xml *x, int64_t end)
{
	const char *raw = NULL;
	size_t raw_len = 0;

	if (!x->pending)
		return 0;
	x->pending = 0;
	if (!x->pending_lost && x->pending_off >= x->win_off && end > x->pending_off &&
	    end <= win_end(x) && end - x->pending_off <= (int64_t)MC_MAX_RECORD_BYTES) {
		raw = (const char *)win_at(x, x->pending_off);
		raw_len = (size_t)(end - x->pending_off);
		if (end == win_end(x) && x->qname_ok) {
			/* No record follows: stop after the record's last end tag, not
			 * at the end of the envelope. */
			size_t ql = strlen(x->qname), i;

			for (i = raw_len; i >= ql + 3; i--) {
				if (raw[i - 1] == '>' && raw[i - ql - 3] == '<' && raw[i - ql - 2] == '/' &&
				    memcmp(raw + i - ql - 1, x->qname, ql) == 0) {
					raw_len = i;
					break;
				}
			}
		}
		while (raw_len && is_ws((unsigned char)raw[raw_len - 1]))
			raw_len--;
	}
	if (ing_parser_emit(x->p, 1, x->pending_id, raw, raw_len))
		return x->p->stop_rc;
	return 0;
}

/* Look for the next record after an error; restart there if found. */
static int seek(struct ing_xml *x, int eof)
{
	int64_t resume = x->seek_from, at;
	int rc;

	at = find_unit(x, x->seek_from, eof, &resume);
	if (at < 0) {
		x->seek_from = resume;
		return 0;
	}
	rc = emit_pending(x, at);
	if (rc)
		return rc;
	return restart(x, at, 1);
}

/* The first fatal error of the current libxml2 context. */
static int xml_error(struct ing_xml *x, int eof)
{
	struct mc_parser *p = x->p;
	int64_t line = x->xerr_line > 0 ? x->xerr_line + x->line_adj : 0;
	int64_t off = line ? line_start(x, line) : -1, from;

	x->xerr = 0;
	if (x->xerr_enc) {
		/* libxml2 could not decode the input in its declared encoding
		 * (multi-byte encodings only: single-byte ones are filtered). */
		x->xerr_enc = 0;
		if (x->u.open)
			ing_xml_unit_fault(x, MC_E_ENCODING, x->u.off, line, "cannot decode the input as %s: %s",
				   x->enc, x->xerr_msg);
		if (!x->u.open)
			return ing_parser_fail(p, MC_E_ENCODING, off, line,
					      "cannot decode the input as %s: %s", x->enc, x->xerr_msg);
		/* Inside a record it spoils that record only, as invalid UTF-8
		 * does, even at the end of the input (libxml2 decodes lazily). */
		eof = 0;
	}
	if (x->u.open) {
		struct unit *u = &x->u;

		if (eof && !u->bad)
			/* libxml2's own words here ("Extra content ...") only mislead */
			ing_xml_unit_fault(x, MC_E_TRUNCATED, u->off, line,
				   "input ends inside the record (it starts at line %lld)",
				   (long long)u->line);
		else
			ing_xml_unit_fault(x, MC_E_PARSE, off >= 0 ? off : u->off, line,
				   "XML error: %s (record starts at line %lld)", x->xerr_msg,
				   (long long)u->line);
		from = u->off >= 0 ? u->off + 1 : (x->last_end > x->last_restart ? x->last_end : x->last_restart + 1);
		u->open = 0;
		x->pending = 1;
		x->pending_off = u->off;
		x->pending_lost = u->raw_lost || u->off < 0;
		x->pending_id = u->id;
		if (u->off >= 0 && u->off + 1 > x->last_end)
			x->last_end = u->off + 1;
		if (eof || !x->qname_ok || !x->prologue_ok) {
			int rc = emit_pending(x, win_end(x));

			if (rc)
				return rc;
			if (eof)
				return ing_parser_fail(p, MC_E_TRUNCATED, u->off, u->line,
						      "input ends inside a record");
			x->dead = 1;  /* cannot restart: the rest is skipped */
			return 0;
		}
		x->seeking = 1;
		x->seek_from = from;
		return seek(x, 0);
	}
	if (!x->units || !x->root_seen) {
		const unsigned char *h = x->win;
		size_t n = x->win_off == 0 && x->win_len < 1024 ? x->win_len : 1024;

		if (eof && x->root_seen && !x->root_done)
			return ing_parser_fail(p, MC_E_TRUNCATED, (int64_t)p->offset, line,
					      "input ends before the end of the document (%s)",
					      x->xerr_msg);
		if (x->win_off == 0 && h && (memmem(h, n, "<html", 5) || memmem(h, n, "<HTML", 5) ||
					memmem(h, n, "<!DOCTYPE html", 14) ||
					memmem(h, n, "<!doctype html", 14)))
			return ing_parser_fail(p, MC_E_PARSE, 0, 1, "not MARCXML/OAI-PMH: got <html>");
		if (!x->root_seen)
			return ing_parser_fail(p, MC_E_PARSE, off, line,
					      "not well-formed XML, not MARCXML/OAI-PMH: %s", x->xerr_msg);
		return ing_parser_fail(p, MC_E_PARSE, off, line, "XML error before the first record: %s",
				      x->xerr_msg);
	}
	/* Between records: in the envelope, or after the document element. */
	if (eof) {
		/* libxml2 says XML_ERR_DOCUMENT_END for "premature end" too. */
		if (x->root_done)
			return 0;
		return ing_parser_fail(p, MC_E_TRUNCATED, (int64_t)p->offset, line,
				      "input ends before the end of the document (%s)", x->xerr_msg);
	}
	if (x->root_done) {
		/* Another document follows the first ("cat a.xml b.xml"): look
		 * after the end tag of the first one's document element. */
		int64_t at = -1, after = x->last_end;

		if (!x->last_unit_root && x->root_q[0]) {
			char et[QNAME_MAX + 2];
			const unsigned char *e;

			snprintf(et, sizeof(et), "</%s", x->root_q);
			after = after < x->win_off ? x->win_off : after;
			e = memmem(win_at(x, after), (size_t)(win_end(x) - after), et, strlen(et));
			after = e ? x->win_off + (e - x->win) + 2 : -1;
		}
		if (after >= 0)
			at = find_doc(x, after);
		if (at >= 0)
			return restart(x, at, 0);
	}
	if (!x->root_done && !x->env_err) {
		x->env_err = 1;
		ing_parser_where(p, &x->env, MC_E_PARSE, off, line);
		snprintf(x->env.msg, sizeof(x->env.msg), "XML error outside any record: %s",
			 x->xerr_msg);
	}
	if (!x->qname_ok || !x->prologue_ok) {
		x->dead = 1;
		return 0;
	}
	from = x->last_end > x->last_restart ? x->last_end : x->last_restart + 1;
	x->seeking = 1;
	x->seek_from = from;
	return seek(x, 0);
}

/* Forget what no longer needs to be kept. */
static void win_trim(struct ing_xml *x)
{
	int64_t keep = x->scan, lag = 0;

	if (x->dead) {
		keep = win_end(x);
	} else if (x->seeking) {
		keep = x->seek_from;
		if (x->pending && !x->pending_lost) {
			if (keep - x->pending_off > (int64_t)MC_MAX_RECORD_BYTES)
				x->pending_lost = 1;
			else if (x->pending_off < keep)
				keep = x->pending_off;
		}
	} else if (x->u.open && x->u.off >= 0) {
		keep = x->u.off;
	} else {
		if (x->ctxt && x->ctxt->input && x->ctxt->input->end && x->ctxt->input->cur)
			lag = x->ctxt->input->end - x->ctxt->input->cur;
		keep = x->scan - lag - (int64_t)WIN_TAIL;
		if (keep < x->last_end)
			keep = x->last_end;
	}
	if (keep > x->scan && !x->seeking && !x->dead)
		keep = x->scan;
	if (x->u.open && x->scan - keep > (int64_t)MC_MAX_RECORD_BYTES) {
		/* The record is larger than the limit: give up its raw bytes. */
		ing_xml_unit_fault(x, MC_E_TOOBIG, x->u.off, x->u.line, "record larger than %u bytes",
			   MC_MAX_RECORD_BYTES);
		x->u.raw_lost = 1;
		keep = x->scan - (int64_t)WIN_TAIL;
	}
	if (win_end(x) - keep > (int64_t)WIN_MAX)
		keep = win_end(x) - (int64_t)WIN_MAX;
	if (keep - x->win_off >= (int64_t)(MC_PARSE_CHUNK * 4) ||
	    (keep > x->win_off && keep - x->win_off >= (int64_t)x->win_len / 2))
		win_drop(x, keep);
}

/* Scan and parse what the window holds. */
static int xml_run(struct ing_xml *x, int eof)
{
	struct mc_parser *p = x->p;
	int rc = 0;

	if (!x->prolog_done) {
		rc = prolog(x, eof);
		if (rc || !x->prolog_done)
			return rc;
	}
	while (!p->fatal_rc && !p->stop_rc && !x->dead) {
		int64_t avail;
		size_t n, used;

		if (x->seeking) {
			rc = seek(x, eof);
			if (rc || x->seeking)
				break;
		}
		avail = win_end(x) - x->scan;
		if (avail <= 0)
			break;
		n = avail > (int64_t)MC_PARSE_CHUNK ? MC_PARSE_CHUNK : (size_t)avail;
		rc = ing_xml_scan(x, win_at(x, x->scan), n, x->scan, eof && (int64_t)n == avail, &used);
		if (rc)
			break;
		if (!used)
			break;
		rc = push(x, used, 0);
		if (rc)
			break;
		x->scan += (int64_t)used;
		x->anc_off = x->scan;
		x->anc_line = x->s.line;
		if (p->fatal_rc || p->stop_rc)
			break;
		if (x->ctxt->input && x->ctxt->input->end - x->ctxt->input->cur > (long)MC_MAX_RECORD_BYTES &&
		    !x->xerr) {
			x->xerr = 1;
			x->xerr_code = XML_ERR_INTERNAL_ERROR;
			x->xerr_line = x->ctxt->input->line;
			snprintf(x->xerr_msg, sizeof(x->xerr_msg), "markup longer than %u bytes",
				 MC_MAX_RECORD_BYTES);
			xmlStopParser(x->ctxt);
		}
		if (x->xerr) {
			rc = xml_error(x, 0);
			if (rc)
				break;
		}
		win_trim(x);
	}
	win_trim(x);
	if (p->fatal_rc)
		return p->fatal_rc;
	if (p->stop_rc)
		return p->stop_rc;
	if (rc)
		return ing_parser_fail(p, rc, x->scan, 0, "%s", mc_strerror(rc));
	return 0;
}

static int xml_feed(void *st, const char *buf, size_t len)
{
	struct ing_xml *x = st;
	int rc = 0;

	while (len && rc == 0) {
		size_t take = len < MC_PARSE_CHUNK ? len : MC_PARSE_CHUNK;

		rc = win_append(x, buf, take);
		if (rc) {
			rc = ing_parser_fail(x->p, rc, win_end(x), 0, "%s", mc_strerror(rc));
			break;
		}
		buf += take;
		len -= take;
		rc = xml_run(x, 0);
	}
	return rc;
}

static int xml_finish(void *st)
{
	struct ing_xml *x = st;
	struct mc_parser *p = x->p;
	int rc;

	for (;;) {
		int64_t restarted = x->last_restart;

		rc = xml_run(x, 1);
		if (rc)
			return rc;
		if (!x->prolog_done)
			x->prolog_done = 1;
		if (x->seeking || x->dead) {
			/* No record after the last error: nothing more to deliver. */
			rc = emit_pending(x, win_end(x));
			if (rc)
				return rc;
			if (x->env_err)
				goto env;
			return 0;
		}
		rc = push(x, 0, 1);
		if (rc)
			return ing_parser_fail(p, rc, x->scan, 0, "%s", mc_strerror(rc));
		if (p->fatal_rc || p->stop_rc)
			return p->fatal_rc ? p->fatal_rc : p->stop_rc;
		if (!x->xerr)
			break;
		rc = xml_error(x, 1);
		if (rc)
			return rc;
		if (x->last_restart == restarted && !x->seeking)
			break;
		/* restarted (or looking for a record) after an error found only now */
	}
	if (!x->root_seen)
		return ing_parser_fail(p, MC_E_PARSE, 0, 0, "no XML document element");
env:
	if (x->env_err) {
		p->fatal = x->env;
		p->fatal_rc = x->env.code;
		return p->fatal_rc;
	}
	return 0;
}

const struct ing_format ing_format_xml = {
	.name = "xml",
	.new = xml_new,
	.feed = xml_feed,
	.finish = xml_finish,
	.free = xml_free,
};
