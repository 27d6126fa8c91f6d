/* xmlparse.c — the parser front end (mc_parser_*, format sniffing,
 * mc_parse_file, datestamps) and the MARCXML / oai_dc / OAI-PMH parser.
 *
 * XML goes through libxml2's SAX2 push parser, with three layers around it:
 *
 * 1. A window of the original bytes (struct mc_xml.win) from the start of the
 *    record being parsed, so a record's raw bytes can go to the quarantine and
 *    the parser can restart after an error. Bounded by MC_MAX_RECORD_BYTES
 *    plus a chunk.
 * 2. A pre-scanner that walks those bytes once before libxml2 sees them:
 *    - it checks UTF-8 and replaces each invalid sequence and each character
 *      XML forbids (C0 controls other than TAB/LF/CR, U+FFFE/U+FFFF) with
 *      U+FFFD, remembering where: the enclosing record is reported
 *      MC_E_ENCODING with the exact offset, and the records around it are
 *      unaffected. A document declaring a single-byte encoding (ISO-8859-1,
 *      windows-1258, ...) gets its control bytes and the bytes that encoding
 *      leaves undefined replaced by '?' instead (libxml2 would stop at them);
 *      multi-byte encodings are decoded by libxml2 alone, so a bad sequence
 *      spoils the record being parsed when libxml2 meets it (it converts
 *      ahead, so that may be an earlier record) and the parser restarts;
 *      UTF-16 is refused;
 *    - it notes the offset and line of every start and end tag whose local
 *      name is "record" or "dc" (outside comments, CDATA and PIs), which
 *      gives exact record offsets and raw byte ranges; libxml2's own
 *      position is in the sanitised stream and only approximate;
 *    - it refuses a DOCTYPE with an internal subset (entity declarations,
 *      billion laughs, XXE) before libxml2 reads a byte of it: MC_E_ENTITY.
 * 3. Resynchronisation: libxml2 stops at the first well-formedness error.
 *    The record being parsed is reported MC_E_PARSE with the error's line,
 *    then the raw bytes after that record's start are searched for the next
 *    start tag with the same qualified name as the last record ("record",
 *    "marc:record", ...), and a fresh parser is fed a synthetic prologue that
 *    reopens the record's ancestors ("<OAI-PMH xmlns=...><ListRecords>")
 *    with every namespace then in scope, followed by the raw bytes from that
 *    tag on. Limits: a record-like tag inside a comment or CDATA section
 *    after the error is taken for a record; an error outside any record
 *    (in the envelope) is remembered and returned by mc_parser_finish after
 *    the following records are delivered; an error before the first record
 *    is fatal. Concatenated documents ("cat a.xml b.xml") are read as one.
 *
 * No external entity, DTD or network access ever: XML_PARSE_NONET, no
 * NOENT/DTDLOAD/DTDATTR/HUGE, entity declarations refused, only the five
 * predefined entities resolve. libxml2's messages go to the record's or the
 * input's mc_error, never to stderr. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libxml/encoding.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "mc-limits.h"
#include "parse-internal.h"

#define NS_MARC  "http://www.loc.gov/MARC21/slim"
#define NS_OAI   "http://www.openarchives.org/OAI/2.0/"
#define NS_OAIDC "http://www.openarchives.org/OAI/2.0/oai_dc/"
#define NS_DC    "http://purl.org/dc/elements/1.1/"
#define NS_XML   "http://www.w3.org/XML/1998/namespace"

/* Bytes kept before the scan position when no record is open, so a restart
 * after an envelope error can look a little behind libxml2's position. */
#define WIN_TAIL (64u << 10)
/* The window may hold a whole record plus the chunk being scanned. */
#define WIN_MAX (MC_MAX_RECORD_BYTES + 4 * MC_PARSE_CHUNK)
#define PROLOGUE_MAX (16u << 10)
#define QNAME_MAX 128

/* ------------------------------------------------------------------ */
/* front end */

static void err_where(struct mc_parser *p, struct mc_error *e, int code, int64_t off, int64_t line)
{
	mc_error_clear(e);
	e->code = code;
	e->offset = off;
	e->line = line;
	mc_error_field(e->file, sizeof(e->file), p->o.filename);
	mc_error_field(e->source, sizeof(e->source), p->o.source);
}

void mc_parser_bad(struct mc_parser *p, int code, int64_t off, int64_t line, const char *fmt, ...)
{
	va_list ap;

	err_where(p, &p->bad, code, off, line);
	va_start(ap, fmt);
	vsnprintf(p->bad.msg, sizeof(p->bad.msg), fmt, ap);
	va_end(ap);
}

int mc_parser_fail(struct mc_parser *p, int code, int64_t off, int64_t line, const char *fmt, ...)
{
	va_list ap;

	if (p->fatal_rc)
		return p->fatal_rc;
	err_where(p, &p->fatal, code, off, line);
	va_start(ap, fmt);
	vsnprintf(p->fatal.msg, sizeof(p->fatal.msg), fmt, ap);
	va_end(ap);
	p->fatal_rc = code;
	return code;
}

int mc_parser_emit(struct mc_parser *p, int bad, const char *id, const char *raw, size_t raw_len)
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

static int xml_new(struct mc_parser *p, struct mc_xml **ret);
static int xml_feed(struct mc_xml *x, const char *buf, size_t len);
static int xml_finish(struct mc_xml *x);
static void xml_free(struct mc_xml *x);

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
	xmlInitParser();
	*ret = p;
	return 0;
}

/* Free the parser, its record and buffers. NULL is a no-op. */
void mc_parser_free(struct mc_parser *p)
{
	if (!p)
		return;
	xml_free(p->xml);
	mc_iso_free(p->iso);
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
			err_where(p, err, rc, (int64_t)p->offset, 0);
	}
	return rc;
}

/* Choose the format parser once enough leading bytes are known. */
static int decide(struct mc_parser *p, int eof)
{
	const unsigned char *h = (const unsigned char *)p->head;
	enum sniff s = sniff(h, p->head_len, eof);
	int rc;

	if (s == SNIFF_GZIP)
		return mc_parser_fail(p, MC_E_FORMAT, 0, 0, "compressed input: gunzip first");
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
			return mc_parser_fail(p, MC_E_PARSE, 0, 0, "empty input");
		return mc_parser_fail(p, MC_E_PARSE, (int64_t)i, 0,
				      "not MARCXML, OAI-PMH or ISO 2709: input starts with byte 0x%02x",
				      h[i]);
	}
	if (p->mode == MC_IN_ISO2709)
		rc = mc_iso_new(p, &p->iso);
	else
		rc = xml_new(p, &p->xml);
	if (rc)
		return mc_parser_fail(p, rc, 0, 0, "%s", mc_strerror(rc));
	return 0;
}

static int dispatch(struct mc_parser *p, const char *buf, size_t len)
{
	if (p->iso)
		return mc_iso_feed(p->iso, buf, len);
	return xml_feed(p->xml, buf, len);
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
		return ret_err(p, mc_parser_fail(p, MC_E_USAGE, (int64_t)p->offset, 0,
						 "mc_parser_feed after mc_parser_finish"), err);
	if (!len)
		return 0;
	if (!p->iso && !p->xml) {
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
		if (!p->iso && !p->xml) {
			if (p->head_len < MC_PARSE_HEAD)
				return 0;
			rc = mc_parser_fail(p, MC_E_PARSE, 0, 0,
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
	if (!p->iso && !p->xml) {
		rc = decide(p, 1);
		if (rc)
			return ret_err(p, rc, err);
		if (!p->iso && !p->xml)
			return ret_err(p, mc_parser_fail(p, MC_E_PARSE, 0, 0, "empty input"), err);
		rc = dispatch(p, p->head, p->head_len);
		if (rc)
			return ret_err(p, rc, err);
	}
	rc = p->iso ? mc_iso_finish(p->iso) : xml_finish(p->xml);
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
				err_where(p, err, rc, (int64_t)p->offset, 0);
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

static int two(const char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* OAI-PMH datestamp, strictly "YYYY-MM-DD" or "YYYY-MM-DDThh:mm:ssZ" (UTC),
 * to seconds since the epoch. 0 or MC_E_PARSE; *ret set only on success. */
int mc_datestamp_parse(const char *s, int64_t *ret)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct tm tm;
	size_t n;
	int y1, y2, y, mo, d, h = 0, mi = 0, sec = 0, dim;
	time_t t;

	if (!s)
		return MC_E_PARSE;
	n = strlen(s);
	if (n != 10 && n != 20)
		return MC_E_PARSE;
	y1 = two(s);
	y2 = two(s + 2);
	mo = two(s + 5);
	d = two(s + 8);
	if (y1 < 0 || y2 < 0 || mo < 0 || d < 0 || s[4] != '-' || s[7] != '-')
		return MC_E_PARSE;
	y = y1 * 100 + y2;
	if (n == 20) {
		h = two(s + 11);
		mi = two(s + 14);
		sec = two(s + 17);
		if (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' || h < 0 || mi < 0 ||
		    sec < 0)
			return MC_E_PARSE;
	}
	if (y < 1 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59)
		return MC_E_PARSE;
	dim = mdays[mo - 1] + (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
	if (d < 1 || d > dim)
		return MC_E_PARSE;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*ret = (int64_t)t;
	return 0;
}

/* ------------------------------------------------------------------ */
/* XML: state */

enum kind {
	K_IGNORE = 0,
	K_OAI_ROOT, K_RESPONSE_DATE, K_REQUEST, K_OAI_ERROR, K_LIST, K_LIST_OTHER,
	K_IDENTIFY, K_GRANULARITY, K_EARLIEST, K_DELETED_RECORD, K_TOKEN,
	K_OAI_RECORD, K_HEADER, K_H_IDENTIFIER, K_H_DATESTAMP, K_METADATA, K_MD_COLLECTION,
	K_COLLECTION, K_MARC_RECORD, K_LEADER, K_CONTROL, K_DATA, K_SUB,
	K_DC, K_DC_ELEM,
};

enum nsid { N_NONE, N_MARC, N_OAI, N_OAIDC, N_DC, N_OTHER };

/* Element names compared on every element: libxml2 interns names in its
 * dictionary, so once seen they compare by pointer. */
enum {
	NM_RECORD, NM_DC, NM_SUBFIELD, NM_DATAFIELD, NM_CONTROLFIELD, NM_LEADER,
	NM_TAG, NM_IND1, NM_IND2, NM_CODE, NM_COUNT
};
static const char *const nm_str[NM_COUNT] = {
	"record", "dc", "subfield", "datafield", "controlfield", "leader",
	"tag", "ind1", "ind2", "code",
};

/* scanner states */
enum { S_TEXT, S_LT, S_NAME, S_ENDNAME, S_RTAG, S_ETAG, S_BANG, S_COMMENT, S_CDATA, S_PI, S_DOCTYPE };

enum { EV_START = 1, EV_END = 2 };

struct ev {
	int64_t off, line;
	int type;
};

enum { F_UTF8, F_CTRL, F_XMLCHAR, F_BYTE };

struct fault {
	int64_t off, line;
	unsigned char byte;
	unsigned char kind;     /* F_*: bad UTF-8, forbidden control character, U+FFFE/U+FFFF,
				   byte the declared 8-bit encoding does not define */
};

struct rep {
	size_t pos, len;        /* within the segment being fed */
};

struct xel {
	unsigned char kind;
	uint32_t serial;
	const xmlChar *local, *prefix;
};

struct unit {
	int open;
	int depth;              /* stack index of the unit element */
	int kind;
	int64_t off, line;      /* start tag; -1/0 unknown */
	int bad;                /* first fault's code, 0 if none */
	int have_meta, deleted, raw_lost;
	const char *id;         /* OAI identifier or 001 (arena) */
};

struct scanst {
	int st;
	int64_t line;           /* line at the scan position, 1-based */
	int64_t tag_off, tag_line;
	uint64_t shift;         /* last bytes of the name being read */
	size_t name_len;
	int quote, prev, count;
	char bang[8];
	int bang_len;
};

struct mc_xml {
	struct mc_parser *p;
	xmlParserCtxtPtr ctxt;
	xmlSAXHandler sax;

	unsigned char *win;     /* original bytes [win_off, win_off + win_len) */
	size_t win_len, win_cap;
	int64_t win_off;
	int64_t anc_off, anc_line;  /* a known (offset, line) inside the window */
	int64_t scan;           /* bytes before this offset went to libxml2 */

	struct scanst s;
	struct ev *ev;
	size_t ev_head, ev_n, ev_cap;
	struct fault *flt;
	size_t flt_head, flt_n, flt_cap;
	int64_t flt_lost;       /* offset of the first fault not queued (queue full) */
	struct rep *rep;
	size_t nrep, rep_cap;
	struct mc_buf san;

	int prolog_done;
	int utf8;               /* sanitise as UTF-8 (else 8-bit: controls only) */
	unsigned char badbyte[256];  /* bytes the declared 8-bit encoding does not define */
	char enc[64];           /* encoding declared, if not UTF-8 */
	int64_t line_adj;       /* original line = libxml2 line + line_adj */
	int in_prologue;

	/* SAX */
	struct xel stack[MC_MAX_XML_DEPTH];
	int depth, overflow;
	uint32_t serial;
	int root_seen, root_done;
	char root_q[QNAME_MAX];  /* qualified name of the document element ("" if too long) */
	int last_unit_root;      /* the last record was the document element itself */
	struct unit u;
	struct mc_buf text;
	int collect, text_depth, text_full;
	struct mc_field *field;
	char tag[4];
	char code;
	char lang[64];
	int has_lang;
	const xmlChar *uri_cache[N_OTHER];  /* dictionary pointers seen for each namespace */
	const xmlChar *nm[NM_COUNT];        /* dictionary pointers of the names we test often */

	/* libxml2's first fatal error in the current context */
	int xerr, xerr_code, xerr_line, xerr_enc;
	char xerr_msg[300];
	char gen_msg[256];      /* what libxml2 sent to its generic error channel */
	size_t gen_len;

	/* restart */
	char qname[QNAME_MAX];
	int qname_ok;
	struct mc_buf prologue;
	uint32_t prologue_parent;
	int prologue_ok;
	int unit_kind_last;
	int64_t last_end;       /* input offset after the last record reported */
	int64_t last_restart;
	int seeking;
	int64_t seek_from;
	uint64_t units;
	int env_err;
	struct mc_error env;
	int dead;               /* cannot restart after an error: the rest is skipped */
	/* a broken record waiting for the restart point, which ends its raw bytes */
	int pending, pending_lost;
	int64_t pending_off;
	const char *pending_id;
};

/* ------------------------------------------------------------------ */
/* queues */

static int ev_push(struct mc_xml *x, int type, int64_t off, int64_t line)
{
	if (x->ev_head + x->ev_n == x->ev_cap) {
		if (x->ev_head) {
			memmove(x->ev, x->ev + x->ev_head, x->ev_n * sizeof(*x->ev));
			x->ev_head = 0;
		} else {
			size_t ncap = x->ev_cap ? x->ev_cap * 2 : 256;
			struct ev *n = realloc(x->ev, ncap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			x->ev = n;
			x->ev_cap = ncap;
		}
	}
	x->ev[x->ev_head + x->ev_n].type = type;
	x->ev[x->ev_head + x->ev_n].off = off;
	x->ev[x->ev_head + x->ev_n].line = line;
	x->ev_n++;
	return 0;
}

/* Next tag event; 0 if the queue does not have one of that type (the
 * scanner and libxml2 disagree: offsets become unknown). */
static int ev_pop(struct mc_xml *x, int type, struct ev *out)
{
	if (!x->ev_n)
		return 0;
	*out = x->ev[x->ev_head];
	if (out->type != type) {
		x->ev_n = x->ev_head = 0;
		return 0;
	}
	x->ev_head++;
	if (--x->ev_n == 0)
		x->ev_head = 0;
	return 1;
}

#define FAULTS_MAX 65536u

static int flt_push(struct mc_xml *x, int64_t off, int64_t line, unsigned char byte, int kind)
{
	struct fault *f;

	if (x->flt_n >= FAULTS_MAX) {
		if (x->flt_lost < 0)
			x->flt_lost = off;
		return 0;
	}
	if (x->flt_head + x->flt_n == x->flt_cap) {
		if (x->flt_head) {
			memmove(x->flt, x->flt + x->flt_head, x->flt_n * sizeof(*x->flt));
			x->flt_head = 0;
		} else {
			size_t ncap = x->flt_cap ? x->flt_cap * 2 : 64;
			struct fault *n = realloc(x->flt, ncap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			x->flt = n;
			x->flt_cap = ncap;
		}
	}
	f = &x->flt[x->flt_head + x->flt_n++];
	f->off = off;
	f->line = line;
	f->byte = byte;
	f->kind = (unsigned char)kind;
	return 0;
}

/* First fault in [from, to), forgetting every fault before to. */
static int flt_take(struct mc_xml *x, int64_t from, int64_t to, struct fault *out)
{
	int found = 0;

	while (x->flt_n && x->flt[x->flt_head].off < to) {
		if (!found && x->flt[x->flt_head].off >= from) {
			*out = x->flt[x->flt_head];
			found = 1;
		}
		x->flt_head++;
		x->flt_n--;
	}
	if (!x->flt_n)
		x->flt_head = 0;
	if (!found && x->flt_lost >= 0 && x->flt_lost < to) {
		if (x->flt_lost >= from) {
			memset(out, 0, sizeof(*out));
			out->off = x->flt_lost;
			found = 2;
		}
		if (!x->flt_n)
			x->flt_lost = -1;
	}
	return found;
}

static int rep_push(struct mc_xml *x, size_t pos, size_t len)
{
	if (x->nrep == x->rep_cap) {
		size_t ncap = x->rep_cap ? x->rep_cap * 2 : 64;
		struct rep *n = realloc(x->rep, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		x->rep = n;
		x->rep_cap = ncap;
	}
	x->rep[x->nrep].pos = pos;
	x->rep[x->nrep].len = len;
	x->nrep++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the pre-scanner */

/* Byte classes for the text fast path: C_PLAIN = nothing to do. */
enum { C_PLAIN = 0, C_LT, C_NL, C_OTHER };
#define CLS(c)                                                                               \
	((c) == '<' ? C_LT : (c) == '\n' ? C_NL                                                \
	 : (((c) < 0x20 && (c) != '\t' && (c) != '\r') || (c) >= 0x80) ? C_OTHER : C_PLAIN)
/* ASCII bytes that continue an element name (not a delimiter). */
#define NAMECH(c) ((c) > 0x20 && (c) < 0x7F && (c) != '>' && (c) != '/' && (c) != '<')
#define ROW(F, b)                                                                            \
	F((b) + 0), F((b) + 1), F((b) + 2), F((b) + 3), F((b) + 4), F((b) + 5), F((b) + 6),   \
	F((b) + 7), F((b) + 8), F((b) + 9), F((b) + 10), F((b) + 11), F((b) + 12),            \
	F((b) + 13), F((b) + 14), F((b) + 15)
#define TABLE(F)                                                                             \
	{ ROW(F, 0x00), ROW(F, 0x10), ROW(F, 0x20), ROW(F, 0x30), ROW(F, 0x40), ROW(F, 0x50), \
	  ROW(F, 0x60), ROW(F, 0x70), ROW(F, 0x80), ROW(F, 0x90), ROW(F, 0xA0), ROW(F, 0xB0), \
	  ROW(F, 0xC0), ROW(F, 0xD0), ROW(F, 0xE0), ROW(F, 0xF0) }
static const unsigned char cls[256] = TABLE(CLS);
static const unsigned char namech[256] = TABLE(NAMECH);

#define PACK6(a, b, c, d, e, f)                                                                \
	(((uint64_t)(a) << 40) | ((uint64_t)(b) << 32) | ((uint64_t)(c) << 24) |                \
	 ((uint64_t)(d) << 16) | ((uint64_t)(e) << 8) | (uint64_t)(f))
#define NAME_RECORD PACK6('r', 'e', 'c', 'o', 'r', 'd')
#define NAME_DC     (((uint64_t)'d' << 8) | 'c')

/* Is the name just read (local part) "record" or "dc"? */
static int name_is_unit(const struct scanst *s)
{
	uint64_t v = s->shift;

	if (s->name_len == 6 && (v & 0xFFFFFFFFFFFFull) == NAME_RECORD)
		return 1;
	if (s->name_len > 6 && (v & 0xFFFFFFFFFFFFFFull) == (((uint64_t)':' << 48) | NAME_RECORD))
		return 1;
	if (s->name_len == 2 && (v & 0xFFFF) == NAME_DC)
		return 1;
	if (s->name_len > 2 && (v & 0xFFFFFF) == (((uint64_t)':' << 16) | NAME_DC))
		return 1;
	return 0;
}

/* Are the 8 bytes at p all plain ASCII text (no '<', control or non-ASCII
 * byte)? Exact: the borrow tricks only misfire next to a real hit. */
static int plain8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t w, lt, v;

	memcpy(&w, p, 8);
	lt = (w - 0x20 * ones) & ~w;
	v = w ^ ('<' * ones);
	v = (v - ones) & ~v;
	return ((w | lt | v) & high) == 0;
}

static int is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Length of a valid UTF-8 sequence at s (1..4), 0 when invalid (*bad = bytes
 * to replace: the maximal invalid prefix), -1 when s[0..n) is a valid but
 * incomplete prefix. *xmlbad = 1 for U+FFFE/U+FFFF. */
static int u8_seq(const unsigned char *s, size_t n, size_t *bad, int *xmlbad)
{
	unsigned c = s[0];
	size_t need, i;
	unsigned lo = 0x80, hi = 0xBF;

	*xmlbad = 0;
	*bad = 1;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 2;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 3;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	for (i = 1; i <= need; i++) {
		if (i >= n)
			return -1;
		if (s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	if (c == 0xEF && s[1] == 0xBF && (s[2] == 0xBE || s[2] == 0xBF)) {
		*xmlbad = 1;
		*bad = 3;
		return 0;
	}
	return (int)need + 1;
}

/* A character that is neither ASCII markup nor a delimiter (a non-ASCII
 * character, or a replaced one): part of a name, ends any "-->"-style run. */
static void step_other(struct scanst *s)
{
	switch (s->st) {
	case S_LT:
		s->st = S_NAME;
		s->name_len = 1;
		s->shift = 0x80;
		break;
	case S_NAME:
	case S_ENDNAME:
		s->name_len++;
		s->shift = (s->shift << 8) | 0x80;
		break;
	case S_BANG:
		s->st = S_TEXT;
		break;
	default:
		s->prev = 0x80;
		s->count = 0;
		break;
	}
}

static int scan_fatal_doctype(struct mc_xml *x, int64_t off)
{
	return mc_parser_fail(x->p, MC_E_ENTITY, off, x->s.line,
			      "DOCTYPE with an internal subset refused (entity declarations are never "
			      "expanded: XXE / billion laughs protection)");
}

/* One ASCII byte c at input offset off. */
static int step(struct mc_xml *x, int c, int64_t off)
{
	struct scanst *s = &x->s;
	int rc = 0;

	switch (s->st) {
	case S_TEXT:
		break;
	case S_LT:
		if (c == '/') {
			s->st = S_ENDNAME;
			s->name_len = 0;
			s->shift = 0;
		} else if (c == '!') {
			s->st = S_BANG;
			s->bang_len = 0;
		} else if (c == '?') {
			s->st = S_PI;
			s->prev = 0;
		} else if (is_ws(c) || c == '>' || c == '/' || c == '<') {
			s->st = S_TEXT;  /* not a tag; libxml2 will say so */
			if (c == '<') {
				s->tag_off = off;
				s->tag_line = s->line;
				s->st = S_LT;
			}
		} else {
			s->st = S_NAME;
			s->name_len = 1;
			s->shift = (uint64_t)c;
		}
		break;
	case S_NAME:
	case S_ENDNAME:
		if (is_ws(c) || c == '>' || c == '/' || c == '<') {
			int unit = name_is_unit(s);

			if (s->st == S_NAME) {
				if (unit) {
					rc = ev_push(x, EV_START, s->tag_off, s->tag_line);
					s->st = S_RTAG;
					s->quote = 0;
					s->prev = c;
					if (c == '>')
						s->st = S_TEXT;
				} else {
					s->st = S_TEXT;
				}
			} else if (unit) {
				s->st = S_ETAG;
				if (c == '>') {
					rc = ev_push(x, EV_END, off + 1, s->line);
					s->st = S_TEXT;
				}
			} else {
				s->st = S_TEXT;
			}
			if (c == '<' && s->st == S_TEXT) {
				s->tag_off = off;
				s->tag_line = s->line;
				s->st = S_LT;
			}
		} else {
			s->name_len++;
			s->shift = (s->shift << 8) | (uint64_t)c;
		}
		break;
	case S_RTAG:
		if (s->quote) {
			if (c == s->quote)
				s->quote = 0;
		} else if (c == '"' || c == '\'') {
			s->quote = c;
		} else if (c == '>') {
			if (s->prev == '/')
				rc = ev_push(x, EV_END, off + 1, s->line);
			s->st = S_TEXT;
		} else if (c == '<') {
			s->tag_off = off;  /* broken tag; libxml2 will complain */
			s->tag_line = s->line;
			s->st = S_LT;
		}
		s->prev = c;
		break;
	case S_ETAG:
		if (c == '>') {
			rc = ev_push(x, EV_END, off + 1, s->line);
			s->st = S_TEXT;
		} else if (!is_ws(c)) {
			s->st = S_TEXT;
			if (c == '<') {
				s->tag_off = off;
				s->tag_line = s->line;
				s->st = S_LT;
			}
		}
		break;
	case S_BANG: {
		static const char *const what[] = { "--", "[CDATA[", "DOCTYPE" };
		size_t i;
		int prefix = 0;

		s->bang[s->bang_len++] = (char)c;
		for (i = 0; i < 3; i++) {
			size_t l = strlen(what[i]);

			if ((size_t)s->bang_len <= l && memcmp(s->bang, what[i], (size_t)s->bang_len) == 0) {
				prefix = 1;
				if ((size_t)s->bang_len == l) {
					s->st = i == 0 ? S_COMMENT : i == 1 ? S_CDATA : S_DOCTYPE;
					s->count = 0;
					s->quote = 0;
				}
			}
		}
		if (!prefix)
			s->st = S_TEXT;
		break;
	}
	case S_COMMENT:
		if (c == '>' && s->count >= 2)
			s->st = S_TEXT;
		s->count = c == '-' ? s->count + 1 : 0;
		break;
	case S_CDATA:
		if (c == '>' && s->count >= 2)
			s->st = S_TEXT;
		s->count = c == ']' ? s->count + 1 : 0;
		break;
	case S_PI:
		if (c == '>' && s->prev == '?')
			s->st = S_TEXT;
		s->prev = c;
		break;
	case S_DOCTYPE:
		if (s->quote) {
			if (c == s->quote)
				s->quote = 0;
		} else if (c == '"' || c == '\'') {
			s->quote = c;
		} else if (c == '[') {
			return scan_fatal_doctype(x, off);
		} else if (c == '>') {
			s->st = S_TEXT;
		}
		break;
	}
	return rc;
}

/* Scan b[0..n) (input offset base): tag events, faults, replacements (into
 * x->rep, positions relative to b). *used = bytes that can go to libxml2 now
 * (an incomplete UTF-8 sequence at the end is held back unless eof). */
static int scan(struct mc_xml *x, const unsigned char *b, size_t n, int64_t base, int eof,
		size_t *used)
{
	struct scanst *s = &x->s;
	size_t i = 0;
	int rc = 0;

	x->nrep = 0;
	while (i < n && rc == 0) {
		unsigned c = b[i];

		if (s->st == S_TEXT) {
			while (i + 8 <= n && plain8(b + i))
				i += 8;
			if (i == n)
				goto out;
			c = b[i];
			while (!cls[c]) {
				if (++i == n)
					goto out;
				c = b[i];
			}
			if (c == '\n') {
				s->line++;
				i++;
				continue;
			}
			if (c == '<') {
				int end = 0;
				uint64_t sh = 0;
				size_t j, k;

				s->tag_off = base + (int64_t)i;
				s->tag_line = s->line;
				s->st = S_LT;
				i++;
				/* Fast path: read an ASCII name here; only its end (one
				 * delimiter) goes through step(). */
				if (i < n && b[i] == '/') {
					end = 1;
					i++;
				}
				if (i >= n || !namech[b[i]] || b[i] == '!' || b[i] == '?') {
					if (end) {
						s->st = S_ENDNAME;
						s->name_len = 0;
						s->shift = 0;
					}
					continue;
				}
				for (j = i; j < n && namech[b[j]]; j++)
					;
				for (k = j - i > 7 ? j - 7 : i; k < j; k++)
					sh = (sh << 8) | b[k];
				s->st = end ? S_ENDNAME : S_NAME;
				s->shift = sh;
				s->name_len = j - i;
				i = j;
				if (i < n && cls[b[i]] == C_PLAIN && !name_is_unit(s)) {
					/* An ordinary tag: back to text at the delimiter. */
					s->st = S_TEXT;
				}
				continue;
			}
		}
		if (c >= 0x80) {
			size_t bad = 1;
			int xmlbad = 0, l;

			if (!x->utf8) {
				if (x->badbyte[c]) {
					rc = flt_push(x, base + (int64_t)i, s->line, (unsigned char)c, F_BYTE);
					if (rc == 0)
						rc = rep_push(x, i, 1);
				}
				step_other(s);
				i++;
				continue;
			}
			l = u8_seq(b + i, n - i, &bad, &xmlbad);
			if (l < 0) {
				if (!eof)
					break;
				l = 0;
				bad = n - i;
			}
			if (l == 0) {
				rc = flt_push(x, base + (int64_t)i, s->line, (unsigned char)c,
					      xmlbad ? F_XMLCHAR : F_UTF8);
				if (rc == 0)
					rc = rep_push(x, i, bad);
				step_other(s);
				i += bad;
				continue;
			}
			step_other(s);
			i += (size_t)l;
			continue;
		}
		if (c == '\n') {
			s->line++;
		} else if (c < 0x20 && c != '\t' && c != '\r') {
			rc = flt_push(x, base + (int64_t)i, s->line, (unsigned char)c, F_CTRL);
			if (rc == 0)
				rc = rep_push(x, i, 1);
			step_other(s);
			i++;
			continue;
		}
		rc = step(x, (int)c, base + (int64_t)i);
		i++;
	}
out:
	*used = i;
	return rc;
}

/* ------------------------------------------------------------------ */
/* window */

static unsigned char *win_at(struct mc_xml *x, int64_t off)
{
	return x->win + (off - x->win_off);
}

static int64_t win_end(const struct mc_xml *x)
{
	return x->win_off + (int64_t)x->win_len;
}

static int win_append(struct mc_xml *x, const char *buf, size_t len)
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
static int64_t line_at(struct mc_xml *x, int64_t off)
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
static void win_drop(struct mc_xml *x, int64_t keep)
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
static int64_t line_start(struct mc_xml *x, int64_t line)
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
/* SAX handlers */

static enum nsid ns_of(struct mc_xml *x, const xmlChar *uri)
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

static int is_nm(struct mc_xml *x, const xmlChar *local, int id)
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

static void stop(struct mc_xml *x)
{
	if (x->ctxt)
		xmlStopParser(x->ctxt);
}

/* First fault of the open record. */
static void unit_fault(struct mc_xml *x, int code, int64_t off, int64_t line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void unit_fault(struct mc_xml *x, int code, int64_t off, int64_t line, const char *fmt, ...)
{
	char msg[sizeof(x->p->bad.msg)];
	va_list ap;

	if (!x->u.open || x->u.bad)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x->u.bad = code;
	mc_parser_bad(x->p, code, off, line, "%s", msg);
}

/* Line of the element being parsed now, in the original input. */
static int64_t cur_line(struct mc_xml *x)
{
	if (!x->ctxt || !x->ctxt->input)
		return 0;
	return (int64_t)x->ctxt->input->line + x->line_adj;
}

static void text_begin(struct mc_xml *x)
{
	mc_buf_reset(&x->text);
	x->collect = 1;
	x->text_full = 0;
	x->text_depth = x->depth;
}

static void on_chars(void *ctx, const xmlChar *ch, int len)
{
	struct mc_xml *x = ctx;
	int rc;

	if (!x->collect || x->depth != x->text_depth + 1 || x->text_full || len <= 0)
		return;
	rc = mc_buf_add(&x->text, ch, (size_t)len);
	if (rc) {
		x->text_full = 1;
		if (x->u.open)
			unit_fault(x, rc == -ENOMEM ? -ENOMEM : MC_E_TOOBIG, x->u.off, cur_line(x),
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
static const xmlChar *attr_nm(struct mc_xml *x, const xmlChar **atts, int n, int id, size_t *len)
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

static void copy_attr(char *dst, size_t dstsz, const xmlChar *v, size_t len)
{
	if (!v)
		len = 0;
	if (len >= dstsz)
		len = dstsz - 1;
	if (len)
		memcpy(dst, v, len);
	dst[len] = '\0';
}

static void copy_text(struct mc_xml *x, char *dst, size_t dstsz)
{
	copy_attr(dst, dstsz, (const xmlChar *)x->text.data, x->text.len);
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
static int qname(char *buf, size_t bufsz, const xmlChar *prefix, const xmlChar *local)
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
static void save_prologue(struct mc_xml *x, int nb_namespaces)
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

static void unit_begin(struct mc_xml *x, int kind, const xmlChar *prefix, const xmlChar *local,
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
	x->qname_ok = qname(x->qname, sizeof(x->qname), prefix, local) == 0;
	x->unit_kind_last = kind;
	x->last_unit_root = x->depth == 0;
	save_prologue(x, nb_namespaces);
	x->units++;
}

static void unit_end(struct mc_xml *x, const struct ev *ev)
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
		int found = flt_take(x, u->off, end, &f);

		if (found == 1 && f.kind == F_CTRL)
			unit_fault(x, MC_E_ENCODING, f.off, f.line,
				   "control character U+%04X is not allowed in XML (replaced)",
				   (unsigned)f.byte);
		else if (found == 1 && f.kind == F_XMLCHAR)
			unit_fault(x, MC_E_ENCODING, f.off, f.line,
				   "character U+FFFE or U+FFFF is not allowed in XML (replaced by U+FFFD)");
		else if (found == 1 && f.kind == F_BYTE)
			unit_fault(x, MC_E_ENCODING, f.off, f.line,
				   "byte 0x%02X means nothing in %s, the declared encoding (replaced by '?')",
				   (unsigned)f.byte, x->enc);
		else if (found == 1)
			unit_fault(x, MC_E_ENCODING, f.off, f.line,
				   "invalid UTF-8 byte 0x%02X (replaced by U+FFFD)", (unsigned)f.byte);
		else if (found == 2)
			unit_fault(x, MC_E_ENCODING, f.off, 0, "invalid UTF-8 or control characters");
	}
	if (!u->bad) {
		if (u->kind == K_OAI_RECORD && !u->have_meta && !u->deleted)
			unit_fault(x, MC_E_PARSE, u->off, u->line,
				   "OAI-PMH record without metadata and not deleted");
		else if (u->kind == K_MARC_RECORD && !r->marc)
			unit_fault(x, MC_E_PARSE, u->off, u->line, "empty MARC record");
		else if (u->kind == K_DC && !r->dc)
			unit_fault(x, MC_E_PARSE, u->off, u->line, "empty oai_dc record");
	}
	if (!u->raw_lost && u->off >= x->win_off && end > u->off && end <= win_end(x) &&
	    end - u->off <= (int64_t)MC_MAX_RECORD_BYTES) {
		raw = (const char *)win_at(x, u->off);
		raw_len = (size_t)(end - u->off);
	}
	u->open = 0;
	if (end > x->last_end)
		x->last_end = end;
	rc = mc_parser_emit(p, u->bad != 0, u->id, raw, raw_len);
	if (rc)
		stop(x);
}

/* What an element is, from its parent, namespace and name. */
static int classify(struct mc_xml *x, int parent, enum nsid ns, const xmlChar *local)
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
			unit_fault(x, MC_E_FORMAT, x->u.off, cur_line(x),
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
	if (!v || !len)
		return none;
	return len == 1 && v[0] < 0x80 ? (char)v[0] : 0x7F;
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
	struct mc_xml *x = ctx;
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
		evp = ev_pop(x, EV_START, &ev) ? &ev : NULL;
	if (x->depth >= MC_MAX_XML_DEPTH) {
		x->overflow++;
		if (x->u.open)
			unit_fault(x, MC_E_TOOBIG, x->u.off, cur_line(x),
				   "XML nesting deeper than %d elements", MC_MAX_XML_DEPTH);
		else {
			mc_parser_fail(p, MC_E_TOOBIG, -1, cur_line(x),
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

			if (qname(q, sizeof(q), prefix, local))
				snprintf(q, sizeof(q), "%.60s...", (const char *)local);
			if (!x->root_seen)
				mc_parser_fail(p, MC_E_PARSE, -1, cur_line(x),
					       "not MARCXML/OAI-PMH: got <%s>%s%s", q,
					       uri ? " in namespace " : "", uri ? (const char *)uri : "");
			else
				mc_parser_fail(p, MC_E_PARSE, -1, cur_line(x),
					       "unexpected document <%s> after the first one", q);
			stop(x);
			return;
		}
		x->root_seen = 1;
		if (qname(x->root_q, sizeof(x->root_q), prefix, local))
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
			unit_fault(x, MC_E_PARSE, x->u.off, cur_line(x),
				   "more than one metadata record inside one OAI-PMH record");
			kind = K_IGNORE;
			x->stack[x->depth].kind = K_IGNORE;
		}
		if (kind != K_IGNORE) {
			x->u.have_meta = 1;
			if (kind == K_MARC_RECORD && p->o.input == MC_IN_OAI_DC)
				unit_fault(x, MC_E_FORMAT, x->u.off, x->u.line,
					   "MARCXML record where oai_dc was expected");
			if (kind == K_DC && p->o.input == MC_IN_MARCXML)
				unit_fault(x, MC_E_FORMAT, x->u.off, x->u.line,
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
			unit_fault(x, MC_E_PARSE, x->u.off, cur_line(x),
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
			unit_fault(x, MC_E_PARSE, x->u.off, cur_line(x),
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
			unit_fault(x, rc, x->u.off, cur_line(x), "datafield %.3s: %s%s", (const char *)v,
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
				copy_attr(x->lang, sizeof(x->lang), a[3], (size_t)(a[4] - a[3]));
				x->has_lang = 1;
			}
		}
		text_begin(x);
		break;
	}
	case K_REQUEST:
		v = attr(atts, nb_attributes, "verb", &vl);
		copy_attr(p->oai.verb, sizeof(p->oai.verb), v, vl);
		break;
	case K_OAI_ERROR:
		if (!p->oai.error_code[0]) {
			v = attr(atts, nb_attributes, "code", &vl);
			copy_attr(p->oai.error_code, sizeof(p->oai.error_code), v, vl);
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
		copy_attr(p->oai.token_expiration, sizeof(p->oai.token_expiration), v, vl);
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

static void text_end(struct mc_xml *x, int kind, const xmlChar *local)
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
			unit_fault(x, MC_E_TOOBIG, x->u.off, cur_line(x),
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
			mc_parser_fail(p, MC_E_TOOBIG, -1, cur_line(x),
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
		unit_fault(x, rc, x->u.off, cur_line(x), "%s %s: %s%s",
			   kind == K_DC_ELEM ? "dc element" : "MARC field",
			   kind == K_DC_ELEM ? (const char *)local : x->tag,
			   rc == MC_E_TOOBIG ? "the record " : "",
			   rc == MC_E_TOOBIG ? (r->limit ? r->limit : "is too big") : mc_strerror(rc));
}

static void on_end(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
	struct mc_xml *x = ctx;
	struct ev ev, *evp = NULL;
	int kind;

	(void)prefix;
	(void)uri;
	if (is_nm(x, local, NM_RECORD) || is_nm(x, local, NM_DC))
		evp = ev_pop(x, EV_END, &ev) ? &ev : NULL;
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
	struct mc_xml *x = ctx;
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
	struct mc_xml *x = ctx;

	(void)type;
	(void)publicId;
	(void)systemId;
	(void)content;
	mc_parser_fail(x->p, MC_E_ENTITY, -1, cur_line(x), "XML entity declaration '%s' refused",
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

/* ------------------------------------------------------------------ */
/* driving libxml2 */

/* libxml2 reports some faults (input encoding conversion) on its generic
 * error channel, which prints to stderr: collect them instead. */
static void on_generic_error(void *ctx, const char *msg, ...) __attribute__((format(printf, 2, 3)));
static void on_generic_error(void *ctx, const char *msg, ...)
{
	struct mc_xml *x = ctx;
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
static void parse_chunk(struct mc_xml *x, const char *b, int n, int terminate)
{
	xmlGenericErrorFunc old = xmlGenericError;
	void *oldctx = xmlGenericErrorContext;

	xmlSetGenericErrorFunc(x, on_generic_error);
	xmlParseChunk(x->ctxt, b, n, terminate);
	xmlSetGenericErrorFunc(oldctx, old);
}

static int ctxt_new(struct mc_xml *x)
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

static int xml_new(struct mc_parser *p, struct mc_xml **ret)
{
	struct mc_xml *x = calloc(1, sizeof(*x));
	int rc;

	if (!x)
		return -ENOMEM;
	x->p = p;
	x->s.line = 1;
	x->anc_line = 1;
	x->flt_lost = -1;
	x->utf8 = 1;
	x->last_restart = -1;
	mc_buf_init(&x->san, 4 * MC_PARSE_CHUNK);
	mc_buf_init(&x->text, MC_MAX_FIELD_BYTES);
	mc_buf_init(&x->prologue, PROLOGUE_MAX);
	x->sax.initialized = XML_SAX2_MAGIC;
	x->sax.startElementNs = on_start;
	x->sax.endElementNs = on_end;
	x->sax.characters = on_chars;
	x->sax.ignorableWhitespace = on_chars;
	x->sax.cdataBlock = on_chars;
	x->sax.serror = on_xml_error;
	x->sax.entityDecl = on_entity_decl;
	x->sax.getEntity = on_get_entity;
	x->sax.getParameterEntity = on_get_pentity;
	x->sax.internalSubset = on_internal_subset;
	rc = ctxt_new(x);
	if (rc) {
		xml_free(x);
		return rc;
	}
	*ret = x;
	return 0;
}

static void xml_free(struct mc_xml *x)
{
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
static void probe_encoding(struct mc_xml *x)
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
static int prolog(struct mc_xml *x, int eof)
{
	const unsigned char *b = x->win;
	size_t n = x->win_len, i = 0, e;
	const unsigned char *enc, *q;

	if (n >= 2 && ((b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE) ||
		       (b[0] == '<' && b[1] == 0) || (b[0] == 0 && b[1] == '<')))
		return mc_parser_fail(x->p, MC_E_ENCODING, 0, 1,
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
		copy_attr(x->enc, sizeof(x->enc), v, (size_t)(ve - v));
		if (strcasecmp(x->enc, "utf-8") == 0 || strcasecmp(x->enc, "utf8") == 0) {
			x->enc[0] = '\0';
		} else if (strncasecmp(x->enc, "utf-16", 6) == 0 || strncasecmp(x->enc, "ucs", 3) == 0 ||
			   strncasecmp(x->enc, "utf-32", 6) == 0) {
			return mc_parser_fail(x->p, MC_E_ENCODING, 0, 1,
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
static int push(struct mc_xml *x, size_t n, int terminate)
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
static int64_t find_unit(struct mc_xml *x, int64_t from, int eof, int64_t *resume)
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
static int64_t find_doc(struct mc_xml *x, int64_t from)
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
static int restart(struct mc_xml *x, int64_t at, int prologue)
{
	int rc;
	int64_t line = line_at(x, at);

	rc = ctxt_new(x);
	if (rc)
		return mc_parser_fail(x->p, rc, at, line, "%s", mc_strerror(rc));
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
		return mc_parser_fail(x->p, MC_E_PARSE, at, line,
				      "cannot restart the XML parser after an error");
	}
	return 0;
}

/* Report the broken record kept back by xml_error; its raw bytes end at end
 * (the next record, or the end of the input), blanks trimmed. */
static int emit_pending(struct mc_xml *x, int64_t end)
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
	if (mc_parser_emit(x->p, 1, x->pending_id, raw, raw_len))
		return x->p->stop_rc;
	return 0;
}

/* Look for the next record after an error; restart there if found. */
static int seek(struct mc_xml *x, int eof)
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
static int xml_error(struct mc_xml *x, int eof)
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
			unit_fault(x, MC_E_ENCODING, x->u.off, line, "cannot decode the input as %s: %s",
				   x->enc, x->xerr_msg);
		if (!x->u.open)
			return mc_parser_fail(p, MC_E_ENCODING, off, line,
					      "cannot decode the input as %s: %s", x->enc, x->xerr_msg);
		/* Inside a record it spoils that record only, as invalid UTF-8
		 * does, even at the end of the input (libxml2 decodes lazily). */
		eof = 0;
	}
	if (x->u.open) {
		struct unit *u = &x->u;

		if (eof && !u->bad)
			/* libxml2's own words here ("Extra content ...") only mislead */
			unit_fault(x, MC_E_TRUNCATED, u->off, line,
				   "input ends inside the record (it starts at line %lld)",
				   (long long)u->line);
		else
			unit_fault(x, MC_E_PARSE, off >= 0 ? off : u->off, line,
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
				return mc_parser_fail(p, MC_E_TRUNCATED, u->off, u->line,
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
			return mc_parser_fail(p, MC_E_TRUNCATED, (int64_t)p->offset, line,
					      "input ends before the end of the document (%s)",
					      x->xerr_msg);
		if (x->win_off == 0 && h && (memmem(h, n, "<html", 5) || memmem(h, n, "<HTML", 5) ||
					memmem(h, n, "<!DOCTYPE html", 14) ||
					memmem(h, n, "<!doctype html", 14)))
			return mc_parser_fail(p, MC_E_PARSE, 0, 1, "not MARCXML/OAI-PMH: got <html>");
		if (!x->root_seen)
			return mc_parser_fail(p, MC_E_PARSE, off, line,
					      "not well-formed XML, not MARCXML/OAI-PMH: %s", x->xerr_msg);
		return mc_parser_fail(p, MC_E_PARSE, off, line, "XML error before the first record: %s",
				      x->xerr_msg);
	}
	/* Between records: in the envelope, or after the document element. */
	if (eof) {
		/* libxml2 says XML_ERR_DOCUMENT_END for "premature end" too. */
		if (x->root_done)
			return 0;
		return mc_parser_fail(p, MC_E_TRUNCATED, (int64_t)p->offset, line,
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
		err_where(p, &x->env, MC_E_PARSE, off, line);
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
static void win_trim(struct mc_xml *x)
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
		unit_fault(x, MC_E_TOOBIG, x->u.off, x->u.line, "record larger than %u bytes",
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
static int xml_run(struct mc_xml *x, int eof)
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
		rc = scan(x, win_at(x, x->scan), n, x->scan, eof && (int64_t)n == avail, &used);
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
		return mc_parser_fail(p, rc, x->scan, 0, "%s", mc_strerror(rc));
	return 0;
}

static int xml_feed(struct mc_xml *x, const char *buf, size_t len)
{
	int rc = 0;

	while (len && rc == 0) {
		size_t take = len < MC_PARSE_CHUNK ? len : MC_PARSE_CHUNK;

		rc = win_append(x, buf, take);
		if (rc) {
			rc = mc_parser_fail(x->p, rc, win_end(x), 0, "%s", mc_strerror(rc));
			break;
		}
		buf += take;
		len -= take;
		rc = xml_run(x, 0);
	}
	return rc;
}

static int xml_finish(struct mc_xml *x)
{
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
			return mc_parser_fail(p, rc, x->scan, 0, "%s", mc_strerror(rc));
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
		return mc_parser_fail(p, MC_E_PARSE, 0, 0, "no XML document element");
env:
	if (x->env_err) {
		p->fatal = x->env;
		p->fatal_rc = x->env.code;
		return p->fatal_rc;
	}
	return 0;
}
