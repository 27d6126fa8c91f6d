/* xml-internal.h — what the three parts of the XML parser share: the
 * driver (xml.c: the window of original bytes, libxml2's push parser,
 * restarts), the byte pre-scan (xml-scan.c) and the SAX semantics
 * (xml-sax.c). Not part of ingest's public interface.
 *
 * MARCXML, oai_dc and OAI-PMH go through libxml2's SAX2 push parser, with three layers around it:
 *
 * 1. A window of the original bytes (struct ing_xml.win, xml.c) from the start of the
 *    record being parsed, so a record's raw bytes can go to the quarantine and
 *    the parser can restart after an error. Bounded by MC_MAX_RECORD_BYTES
 *    plus a chunk.
 * 2. A pre-scanner (xml-scan.c) that walks those bytes once before libxml2 sees them:
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
 * 3. Resynchronisation (xml.c): libxml2 stops at the first well-formedness error.
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
 * predefined entities resolve. What each element means is xml-sax.c. libxml2's messages go to the record's or the
 * input's mc_error, never to stderr. */
#ifndef ING_XML_INTERNAL_H
#define ING_XML_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/parser.h>

#include "ingest-internal.h"
#include "mc-limits.h"

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

struct ing_xml {
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

/* ---- xml-scan.c ---- */

/* Pre-scan b[0..n) (input offset base; eof: no more bytes come), sanitising
 * into x->san and queueing tag events and faults. */
int ing_xml_scan(struct ing_xml *x, const unsigned char *b, size_t n, int64_t base, int eof,
		size_t *used);
/* Take the oldest record tag event if it is of type (EV_START / EV_END). 1 and
 * *out, or 0. */
int ing_xml_ev_pop(struct ing_xml *x, int type, struct ev *out);
/* The first fault queued in [from, to) into *out: 0 none, 1 one, 2 several
 * (and drop those before to). */
int ing_xml_flt_take(struct ing_xml *x, int64_t from, int64_t to, struct fault *out);

/* ---- xml-sax.c ---- */

/* Point sax at the handlers (SAX2, no entity loading). */
void ing_xml_sax_init(xmlSAXHandler *sax);
/* First fault of the open record (ignored when none is open or it has one). */
void ing_xml_unit_fault(struct ing_xml *x, int code, int64_t off, int64_t line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Copy an attribute value (len bytes) into dst, truncated, NUL-terminated. */
void ing_xml_copy_attr(char *dst, size_t dstsz, const xmlChar *v, size_t len);
/* "prefix:local" or "local" into buf; 0, or -1 when it does not fit. */
int ing_xml_qname(char *buf, size_t bufsz, const xmlChar *prefix, const xmlChar *local);

/* ---- the window (xml.c) ---- */

static inline unsigned char *win_at(struct ing_xml *x, int64_t off)
{
	return x->win + (off - x->win_off);
}

static inline int64_t win_end(const struct ing_xml *x)
{
	return x->win_off + (int64_t)x->win_len;
}

static inline int is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

#endif
