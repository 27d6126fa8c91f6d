/* parse.c — the parser front end: mc_parser_*, format sniffing,
 * mc_parse_file. The format parsers sit behind one small ops table each
 * (struct ing_format: xml.c, iso2709.c), chosen from the first bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ingest-internal.h"
#include "mc-limits.h"

/* ------------------------------------------------------------------ */
/* front end */

void ing_parser_where(struct mc_parser *p, struct mc_error *e, int code, int64_t off, int64_t line)
{
	mc_error_clear(e);
	e->code = code;
	e->offset = off;
	e->line = line;
	mc_error_field(e->file, sizeof(e->file), p->o.filename);
	mc_error_field(e->source, sizeof(e->source), p->o.source);
}

void ing_parser_bad(struct mc_parser *p, int code, int64_t off, int64_t line, const char *fmt, ...)
{
	va_list ap;

	ing_parser_where(p, &p->bad, code, off, line);
	va_start(ap, fmt);
	vsnprintf(p->bad.msg, sizeof(p->bad.msg), fmt, ap);
	va_end(ap);
}

int ing_parser_fail(struct mc_parser *p, int code, int64_t off, int64_t line, const char *fmt, ...)
{
	va_list ap;

	if (p->fatal_rc)
		return p->fatal_rc;
	ing_parser_where(p, &p->fatal, code, off, line);
	va_start(ap, fmt);
	vsnprintf(p->fatal.msg, sizeof(p->fatal.msg), fmt, ap);
	va_end(ap);
	p->fatal_rc = code;
	return code;
}

int ing_parser_emit(struct mc_parser *p, int bad, const char *id, const char *raw, size_t raw_len)
{
	int rc;

	p->rec->source = p->o.source;
	if (bad) {
		mc_error_field(p->bad.record_id, sizeof(p->bad.record_id), id);
		p->nbad++;
	}
	p->nrec++;
	p->oai.records++;
	rc = p->cb(p->ctx, p->rec, bad ? &p->bad : NULL, raw_len ? raw : NULL, raw_len);
	if (rc && !p->stop_rc)
		p->stop_rc = rc;
	return rc;
}

/* Input format by name (also "xml", "marc21", "iso", "oai-dc"). 0 or
 * MC_E_USAGE; *ret set only on success. */
int mc_input_parse(const char *name, enum mc_input *ret)
{
	static const struct {
		const char *name;
		enum mc_input in;
	} names[] = {
		{ "auto", MC_IN_AUTO },         { "marcxml", MC_IN_MARCXML },
		{ "iso2709", MC_IN_ISO2709 },   { "oai_dc", MC_IN_OAI_DC },
		{ "xml", MC_IN_XML },           { "marc21", MC_IN_ISO2709 },
		{ "iso", MC_IN_ISO2709 },       { "oai-dc", MC_IN_OAI_DC },
	};
	size_t i;

	for (i = 0; name && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(name, names[i].name) == 0) {
			*ret = names[i].in;
			return 0;
		}
	}
	return MC_E_USAGE;
}

enum sniff { SNIFF_MORE, SNIFF_XML, SNIFF_ISO, SNIFF_GZIP, SNIFF_UNKNOWN };

static enum sniff sniff(const unsigned char *b, size_t n, int eof)
{
	size_t i = 0, k;

	if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return SNIFF_GZIP;
	if (n < 2 && !eof)
		return SNIFF_MORE;
	if (n >= 2 && ((b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE)))
		return SNIFF_XML;
	if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
		return SNIFF_XML;
	if (n >= 2 && ((b[0] == '<' && b[1] == 0) || (b[0] == 0 && b[1] == '<')))
		return SNIFF_XML;  /* UTF-16 without a BOM */
	while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
		i++;
	if (i == n)
		return eof ? SNIFF_UNKNOWN : SNIFF_MORE;
	if (b[i] == '<')
		return SNIFF_XML;
	for (k = 0; k < 5; k++) {
		if (i + k == n)
			return eof ? SNIFF_UNKNOWN : SNIFF_MORE;
		if (b[i + k] < '0' || b[i + k] > '9')
			return SNIFF_UNKNOWN;
	}
	return SNIFF_ISO;
}

/* Format from the first bytes: XML (BOM, '<' after blanks), ISO 2709 (five
 * digits after blanks), else MC_IN_AUTO (gzip, text, too few bytes). */
enum mc_input mc_input_sniff(const char *buf, size_t len)
{
	switch (sniff((const unsigned char *)buf, len, 1)) {
	case SNIFF_XML:
		return MC_IN_XML;
	case SNIFF_ISO:
		return MC_IN_ISO2709;
	default:
		return MC_IN_AUTO;
	}
}

/* New push parser; the format parser is chosen from the first bytes fed
 * (MC_IN_AUTO) or by o->input. o is copied, its strings borrowed. 0,
 * MC_E_USAGE (no callback) or -ENOMEM; *ret set only on success, freed by
 * mc_parser_free. */
int mc_parser_new(const struct mc_parse_opts *o, mc_parse_cb cb, void *ctx, struct mc_parser **ret)
{
	struct mc_parser *p;
	int rc;

	if (!cb)
		return MC_E_USAGE;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (o)
		p->o = *o;
	p->cb = cb;
	p->ctx = ctx;
	p->oai.complete_list_size = -1;
	p->oai.cursor = -1;
	mc_error_clear(&p->bad);
	mc_error_clear(&p->fatal);
	rc = mc_record_new(&p->rec);
	if (rc) {
		free(p);
		return rc;
	}
	*ret = p;
	return 0;
}

/* Free the parser, its record and buffers. NULL is a no-op. */
void mc_parser_free(struct mc_parser *p)
{
	if (!p)
		return;
	if (p->fmt)
		p->fmt->free(p->st);
	mc_record_free(p->rec);
	free(p);
}

/* OAI-PMH envelope seen so far; borrowed until mc_parser_free. */
const struct mc_oai_info *mc_parser_oai(const struct mc_parser *p)
{
	return &p->oai;
}

/* Bytes fed so far. */
uint64_t mc_parser_offset(const struct mc_parser *p)
{
	return p->offset;
}

static int ret_err(struct mc_parser *p, int rc, struct mc_error *err)
{
	if (rc && err) {
		if (p->fatal_rc && rc == p->fatal_rc)
			*err = p->fatal;
		else if (!p->stop_rc || rc != p->stop_rc)
			ing_parser_where(p, err, rc, (int64_t)p->offset, 0);
	}
	return rc;
}

/* Choose the format parser once enough leading bytes are known. */
static int decide(struct mc_parser *p, int eof)
{
	const unsigned char *h = (const unsigned char *)p->head;
	enum sniff s = sniff(h, p->head_len, eof);
	const struct ing_format *fmt;
	int rc;

	if (s == SNIFF_GZIP)
		return ing_parser_fail(p, MC_E_FORMAT, 0, 0, "compressed input: gunzip first");
	if (s == SNIFF_MORE)
		return 0;
	if (p->o.input != MC_IN_AUTO) {
		p->mode = p->o.input;
	} else if (s == SNIFF_XML) {
		p->mode = MC_IN_XML;
	} else if (s == SNIFF_ISO) {
		p->mode = MC_IN_ISO2709;
	} else {
		size_t i = 0;

		while (i < p->head_len && (h[i] == ' ' || h[i] == '\t' || h[i] == '\r' || h[i] == '\n'))
			i++;
		if (i == p->head_len)
			return ing_parser_fail(p, MC_E_PARSE, 0, 0, "empty input");
		return ing_parser_fail(p, MC_E_PARSE, (int64_t)i, 0,
				      "not MARCXML, OAI-PMH or ISO 2709: input starts with byte 0x%02x",
				      h[i]);
	}
	fmt = p->mode == MC_IN_ISO2709 ? &ing_format_iso2709 : &ing_format_xml;
	rc = fmt->new(p, &p->st);
	if (rc)
		return ing_parser_fail(p, rc, 0, 0, "%s", mc_strerror(rc));
	p->fmt = fmt;
	return 0;
}

static int dispatch(struct mc_parser *p, const char *buf, size_t len)
{
	return p->fmt->feed(p->st, buf, len);
}

/* Feed bytes (any amount; split internally). Records go to the callback as
 * they complete. Returns 0, the callback's non-zero value, or a fatal error
 * for the whole input with err filled: MC_E_ENTITY (DTD internal subset),
 * MC_E_PARSE (not a format we read, XML broken before the first record),
 * MC_E_FORMAT (gzip), MC_E_ENCODING (UTF-16, undecodable envelope),
 * MC_E_TOOBIG (nesting or markup outside records, resumptionToken), -ENOMEM.
 * After a fatal error or a callback stop every call returns the same code. */
int mc_parser_feed(struct mc_parser *p, const char *buf, size_t len, struct mc_error *err)
{
	int rc;

	if (p->fatal_rc || p->stop_rc)
		return ret_err(p, p->fatal_rc ? p->fatal_rc : p->stop_rc, err);
	if (p->finished)
		return ret_err(p, ing_parser_fail(p, MC_E_USAGE, (int64_t)p->offset, 0,
						 "mc_parser_feed after mc_parser_finish"), err);
	if (!len)
		return 0;
	if (!p->fmt) {
		size_t take = MC_PARSE_HEAD - p->head_len;

		if (take > len)
			take = len;
		memcpy(p->head + p->head_len, buf, take);
		p->head_len += take;
		p->offset += take;
		buf += take;
		len -= take;
		rc = decide(p, 0);
		if (rc)
			return ret_err(p, rc, err);
		if (!p->fmt) {
			if (p->head_len < MC_PARSE_HEAD)
				return 0;
			rc = ing_parser_fail(p, MC_E_PARSE, 0, 0,
					    "not MARCXML, OAI-PMH or ISO 2709: %u blank bytes at the start",
					    MC_PARSE_HEAD);
			return ret_err(p, rc, err);
		}
		rc = dispatch(p, p->head, p->head_len);
		if (rc)
			return ret_err(p, rc, err);
	}
	p->offset += len;
	rc = len ? dispatch(p, buf, len) : 0;
	return ret_err(p, rc, err);
}

/* End of input. A record still open is reported to the callback as
 * MC_E_TRUNCATED, and finish then returns MC_E_TRUNCATED too, as it does when
 * the XML document element is not closed or an ISO 2709 record is cut: the
 * input is incomplete (for OAI-PMH: do not trust the missing token). An XML
 * error outside any record seen earlier is returned here (MC_E_PARSE), after
 * the records that followed it were delivered. 0 when the input was
 * complete, even if some records were bad. */
int mc_parser_finish(struct mc_parser *p, struct mc_error *err)
{
	int rc;

	if (p->fatal_rc || p->stop_rc)
		return ret_err(p, p->fatal_rc ? p->fatal_rc : p->stop_rc, err);
	if (p->finished)
		return 0;
	p->finished = 1;
	if (!p->fmt) {
		rc = decide(p, 1);
		if (rc)
			return ret_err(p, rc, err);
		if (!p->fmt)
			return ret_err(p, ing_parser_fail(p, MC_E_PARSE, 0, 0, "empty input"), err);
		rc = dispatch(p, p->head, p->head_len);
		if (rc)
			return ret_err(p, rc, err);
	}
	rc = p->fmt->finish(p->st);
	return ret_err(p, rc, err);
}

/* Parse a file ("-" = standard input) in 64 KiB reads; returns as
 * mc_parser_feed/finish, or -errno (err->msg says open or read). o may be
 * NULL; o->filename defaults to path. st (may be NULL) is filled in all cases. */
int mc_parse_file(const char *path, const struct mc_parse_opts *o, mc_parse_cb cb, void *ctx,
		  struct mc_parse_stats *st, struct mc_error *err)
{
	struct mc_parse_opts opts = { 0 };
	struct mc_parser *p = NULL;
	char *buf = NULL;
	int fd = -1, rc;

	if (o)
		opts = *o;
	if (!opts.filename)
		opts.filename = path;
	mc_error_clear(err);
	if (!path)
		return MC_E_USAGE;
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = -errno;
			if (err) {
				mc_error_clear(err);
				err->code = rc;
				mc_error_field(err->file, sizeof(err->file), opts.filename);
				mc_error_field(err->source, sizeof(err->source), opts.source);
				snprintf(err->msg, sizeof(err->msg), "cannot open: %s", strerror(-rc));
			}
			return rc;
		}
	}
	buf = malloc(MC_PARSE_CHUNK);
	rc = buf ? mc_parser_new(&opts, cb, ctx, &p) : -ENOMEM;
	if (rc)
		goto done;
	for (;;) {
		ssize_t n = read(fd, buf, MC_PARSE_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			if (err) {
				ing_parser_where(p, err, rc, (int64_t)p->offset, 0);
				snprintf(err->msg, sizeof(err->msg), "read error: %s", strerror(-rc));
			}
			goto done;
		}
		if (n == 0)
			break;
		rc = mc_parser_feed(p, buf, (size_t)n, err);
		if (rc)
			goto done;
	}
	rc = mc_parser_finish(p, err);
done:
	if (st && p) {
		st->records = p->nrec;
		st->bad = p->nbad;
		st->bytes = p->offset;
	} else if (st) {
		memset(st, 0, sizeof(*st));
	}
	if (rc == -ENOMEM && err && !err->msg[0]) {
		mc_error_clear(err);
		err->code = rc;
		mc_error_field(err->file, sizeof(err->file), opts.filename);
	}
	mc_parser_free(p);
	free(buf);
	if (fd > STDIN_FILENO)
		close(fd);
	return rc;
}
