/* iso2709.c — streaming ISO 2709 (MARC 21 exchange format) parser.
 *
 * A record is a 24-byte leader, a directory of fixed-size entries (tag,
 * field length, starting position) ended by 0x1E, and a data area of fields
 * each ended by 0x1E (subfields introduced by 0x1F); 0x1D ends the record.
 * Values are kept as raw bytes: leader/09 says what the file claims and
 * mc_record_normalise decides.
 *
 * Real files break the rules, so the parser trusts the structure it can
 * check rather than the numbers it is told:
 *  - the record ends at the first 0x1D after the leader, whatever the record
 *    length in the leader says (UTF-8 exports from some Vietnamese systems
 *    count characters, not bytes); a missing 0x1D is tolerated when the
 *    leader's length lands exactly on a field end followed by a new leader;
 *  - directory entries are used when every one of them ends on a 0x1E inside
 *    the record; otherwise (lengths counted in characters, entries pointing
 *    past the end) the data area is split at 0x1E and the pieces are given to
 *    the directory's tags in order of their starting positions;
 *  - CR/LF, spaces, NUL, 0x1A and stray 0x1D between records are skipped;
 *    other junk is reported once as a bad record and skipped up to the next
 *    0x1D or the next thing that looks like a leader;
 *  - a record with no 0x1D within MC_MAX_RECORD_BYTES is reported MC_E_TOOBIG
 *    and skipped up to the next 0x1D; input ending inside a record is
 *    reported MC_E_TRUNCATED.
 * Memory: at most one record (MC_MAX_RECORD_BYTES) plus one feed chunk. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc-limits.h"
#include "ingest-internal.h"

#define ISO_RS 0x1D  /* record terminator */
#define ISO_FS 0x1E  /* field terminator */
#define ISO_US 0x1F  /* subfield delimiter */

enum { SKIP_NONE = 0, SKIP_TO_RS, SKIP_JUNK };
enum { REC_TERMINATED, REC_UNTERMINATED, REC_TRUNCATED, REC_TOOBIG };

struct iso {
	struct mc_parser *p;
	struct mc_buf buf;      /* bytes of a record not complete yet */
	int64_t buf_off;        /* input offset of buf.data[0] */
	int64_t off;            /* input offset of the next byte fed */
	size_t scanned;         /* bytes of the pending record known to hold no 0x1D */
	int skip;               /* SKIP_*: discarding bytes after a fault */
	int seen;               /* something that looked like a record was seen */
};

struct dirent_ {
	char tag[3];
	size_t start, len;      /* in the data area; len includes the 0x1E */
	int valid;              /* digits parsed */
};

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Value of n ASCII digits, or -1. */
static long digits(const unsigned char *s, size_t n)
{
	long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int is_filler(unsigned char c)
{
	return c == '\r' || c == '\n' || c == ' ' || c == '\t' || c == 0 || c == 0x1A ||
	       c == ISO_RS;
}

/* Does b (24 bytes available) look like a MARC leader? */
static int leader_like(const unsigned char *b)
{
	return digits(b, 5) >= 0 && digits(b + 12, 5) >= 0 && is_digit(b[20]) && is_digit(b[21]);
}

/* Printable preview of junk for messages. */
static void preview(const unsigned char *b, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < outsz; i++) {
		unsigned char c = b[i];

		if (c >= 0x20 && c < 0x7F && c != '\\') {
			out[o++] = (char)c;
		} else {
			static const char hex[] = "0123456789abcdef";

			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

/* Record the first fault of the record being built. */
static void fault(struct iso *s, int *bad, int code, int64_t off, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void fault(struct iso *s, int *bad, int code, int64_t off, const char *fmt, ...)
{
	char msg[sizeof(s->p->bad.msg)];
	va_list ap;

	if (*bad)
		return;
	*bad = code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ing_parser_bad(s->p, code, off, 0, "%s", msg);
}

static int cmp_start(const void *a, const void *b)
{
	const struct dirent_ *const *x = a, *const *y = b;

	if ((*x)->start != (*y)->start)
		return (*x)->start < (*y)->start ? -1 : 1;
	return *x < *y ? -1 : (*x > *y);
}

/* Split the data area at 0x1E and hand the pieces to the entries in the
 * order of their starting positions. Returns the number of pieces. */
static size_t split_fields(struct mc_record *r, struct dirent_ *ent, size_t nent,
			   const unsigned char *d, size_t dlen, int *err)
{
	struct dirent_ **order;
	size_t i, k = 0, pos = 0, npieces = 0;

	*err = 0;
	order = mc_arena_alloc(r->arena, (nent ? nent : 1) * sizeof(*order));
	if (!order) {
		*err = -ENOMEM;
		return 0;
	}
	for (i = 0; i < nent; i++) {
		order[i] = &ent[i];
		if (!ent[i].valid)
			ent[i].start = i;  /* unreadable position: keep directory order */
	}
	qsort(order, nent, sizeof(*order), cmp_start);
	while (pos < dlen) {
		const unsigned char *q = memchr(d + pos, ISO_FS, dlen - pos);
		size_t end = q ? (size_t)(q - d) + 1 : dlen;

		if (k < nent) {
			order[k]->start = pos;
			order[k]->len = end - pos;
			order[k]->valid = 1;
			k++;
		}
		npieces++;
		pos = end;
	}
	for (; k < nent; k++)
		order[k]->valid = 0;
	return npieces;
}

/* Build p->rec from one record's bytes b[0..n) (n includes the 0x1D when
 * there is one) and report it. */
static int iso_record(struct iso *s, const unsigned char *b, size_t n, int64_t off, int how)
{
	struct mc_parser *p = s->p;
	struct mc_record *r = p->rec;
	struct mc_marc *m = NULL;
	struct dirent_ *ent = NULL;
	const unsigned char *d;
	const char *id = NULL;
	size_t data_end, base, nent = 0, es, i, dlen;
	long v;
	int lf, ls, li, nind, bad = 0, fallback = 0, rc;

	mc_record_reset(r);
	r->source = p->o.source;
	r->in_offset = off;
	r->in_line = 0;
	if (how == REC_TRUNCATED)
		fault(s, &bad, MC_E_TRUNCATED, off,
		      "input ends inside an ISO 2709 record (%zu bytes read, leader says %ld)", n,
		      n >= 5 ? digits(b, 5) : -1L);
	else if (how == REC_TOOBIG)
		fault(s, &bad, MC_E_TOOBIG, off,
		      "ISO 2709 record without a record terminator (0x1D) in its first %zu bytes (the limit)",
		      n);
	if (n < 24) {
		fault(s, &bad, MC_E_PARSE, off, "ISO 2709 record shorter than its leader (%zu bytes)", n);
		goto emit;
	}
	m = mc_record_marc(r);
	if (!m) {
		rc = -ENOMEM;
		goto nomem;
	}
	memcpy(m->leader, b, 24);
	m->leader[24] = '\0';

	data_end = (how == REC_TERMINATED) ? n - 1 : n;
	nind = is_digit(b[10]) ? b[10] - '0' : 2;
	lf = is_digit(b[20]) && b[20] != '0' ? b[20] - '0' : 4;
	ls = is_digit(b[21]) && b[21] != '0' ? b[21] - '0' : 5;
	li = is_digit(b[22]) ? b[22] - '0' : 0;
	es = (size_t)(3 + lf + ls + li);

	/* End of the directory: the base address if it lands right after a 0x1E,
	 * else the first 0x1E after the leader. */
	v = digits(b + 12, 5);
	if (v > 24 && (size_t)v <= data_end && b[v - 1] == ISO_FS) {
		base = (size_t)v;
	} else {
		const unsigned char *q = memchr(b + 24, ISO_FS, data_end - 24);

		if (!q) {
			fault(s, &bad, MC_E_PARSE, off, "ISO 2709 record without a directory terminator (0x1E)");
			goto emit;
		}
		base = (size_t)(q - b) + 1;
	}
	nent = (base - 1 - 24) / es;
	if (nent > MC_MAX_FIELDS) {
		fault(s, &bad, MC_E_TOOBIG, off, "ISO 2709 directory with %zu entries (limit %d)", nent,
		      MC_MAX_FIELDS);
		goto emit;
	}
	if (nent) {
		ent = mc_arena_alloc(r->arena, nent * sizeof(*ent));
		if (!ent) {
			rc = -ENOMEM;
			goto nomem;
		}
	}
	d = b + base;
	dlen = data_end - base;
	for (i = 0; i < nent; i++) {
		const unsigned char *e = b + 24 + i * es;
		long len = digits(e + 3, (size_t)lf), start = digits(e + 3 + lf, (size_t)ls);

		memcpy(ent[i].tag, e, 3);
		ent[i].valid = len > 0 && start >= 0;
		ent[i].start = start >= 0 ? (size_t)start : 0;
		ent[i].len = len > 0 ? (size_t)len : 0;
		if (!ent[i].valid || ent[i].start >= dlen || ent[i].len > dlen - ent[i].start ||
		    d[ent[i].start + ent[i].len - 1] != ISO_FS)
			fallback = 1;
	}
	if (fallback) {
		int err;
		size_t npieces = split_fields(r, ent, nent, d, dlen, &err);

		if (err) {
			rc = err;
			goto nomem;
		}
		if (npieces != nent)
			fault(s, &bad, MC_E_PARSE, off,
			      "ISO 2709 directory lists %zu fields but the data area holds %zu", nent, npieces);
	}

	for (i = 0; i < nent; i++) {
		const unsigned char *f;
		size_t flen;
		int k;

		if (!ent[i].valid)
			continue;
		for (k = 0; k < 3; k++)
			if ((unsigned char)ent[i].tag[k] < 0x20 || (unsigned char)ent[i].tag[k] > 0x7E)
				break;
		if (k < 3) {
			fault(s, &bad, MC_E_PARSE, off, "ISO 2709 directory entry %zu has a bad tag", i + 1);
			continue;
		}
		f = d + ent[i].start;
		flen = ent[i].len;
		if (flen && f[flen - 1] == ISO_FS)
			flen--;
		if (ent[i].tag[0] == '0' && ent[i].tag[1] == '0' &&
		    !(flen > (size_t)nind && f[nind] == ISO_US)) {
			rc = mc_marc_add_control(r, ent[i].tag, (const char *)f, flen);
			if (rc == 0 && !id && memcmp(ent[i].tag, "001", 3) == 0)
				id = m->fields[m->nfields - 1].value;
		} else {
			struct mc_field *fld;
			char i1 = ' ', i2 = ' ';
			size_t pos = 0;

			/* Indicators, unless the field starts straight with a subfield. */
			if (flen && f[0] != ISO_US) {
				if (nind >= 1 && flen >= 1)
					i1 = (char)f[0];
				if (nind >= 2 && flen >= 2 && f[1] != ISO_US)
					i2 = (char)f[1];
				pos = (size_t)nind < flen ? (size_t)nind : flen;
			}
			rc = mc_marc_add_data(r, ent[i].tag, i1, i2, &fld);
			while (rc == 0 && pos < flen) {
				const unsigned char *q = memchr(f + pos, ISO_US, flen - pos);
				size_t end;

				if (!q)
					break;  /* bytes before the first delimiter: not a subfield */
				pos = (size_t)(q - f) + 1;
				q = memchr(f + pos, ISO_US, flen - pos);
				end = q ? (size_t)(q - f) : flen;
				if (end > pos)
					rc = mc_marc_add_sub(r, fld, (char)f[pos], (const char *)f + pos + 1,
							     end - pos - 1);
				pos = end;
			}
		}
		if (rc == -ENOMEM && mc_arena_over_cap(r->arena))
			rc = MC_E_TOOBIG;
		if (rc == -ENOMEM)
			goto nomem;
		if (rc) {
			/* a cap of the record: the rest of it is not worth reading */
			fault(s, &bad, rc, off, "ISO 2709 record %s (at field %.3s, directory entry %zu)",
			      r->limit ? r->limit : mc_strerror(rc), ent[i].tag, i + 1);
			break;
		}
	}
	if (!bad && (!m || m->nfields == 0))
		fault(s, &bad, MC_E_PARSE, off, "ISO 2709 record without fields");

emit:
	return ing_parser_emit(p, bad, id, (const char *)b, n);
nomem:
	/* past the record's arena: a fault of this record; else malloc failed */
	if (!mc_arena_over_cap(r->arena))
		return rc;
	fault(s, &bad, MC_E_TOOBIG, off, "ISO 2709 record %s",
	      r->limit ? r->limit : "needs more than the memory a record may use");
	goto emit;
}

/* Report junk at off (the bytes at b) and start skipping. */
static int junk(struct iso *s, const unsigned char *b, size_t n, int64_t off)
{
	char pv[64];

	preview(b, n < 12 ? n : 12, pv, sizeof(pv));
	mc_record_reset(s->p->rec);
	s->p->rec->source = s->p->o.source;
	s->p->rec->in_offset = off;
	ing_parser_bad(s->p, MC_E_PARSE, off, 0,
		      "not an ISO 2709 record (a leader starts with 5 digits): \"%s\"; skipped to the next record",
		      pv);
	s->skip = SKIP_JUNK;
	return ing_parser_emit(s->p, 1, NULL, (const char *)b, n < 24 ? n : 24);
}

/* Parse the complete records in b[0..n) (input offset base). *used: bytes
 * consumed; the rest is an incomplete record to be kept. */
static int consume(struct iso *s, const unsigned char *b, size_t n, int64_t base, int eof,
		   size_t *used)
{
	size_t i = 0;
	int rc = 0;

	while (i < n && rc == 0) {
		const unsigned char *r, *q;
		size_t rem, lim, from, end;
		long len;
		int how;

		if (s->skip == SKIP_TO_RS) {
			q = memchr(b + i, ISO_RS, n - i);
			i = q ? (size_t)(q - b) + 1 : n;
			if (q)
				s->skip = SKIP_NONE;
			continue;
		}
		if (s->skip == SKIP_JUNK) {
			for (; i < n; i++) {
				if (b[i] == ISO_RS) {
					i++;
					s->skip = SKIP_NONE;
					break;
				}
				if (is_digit(b[i])) {
					if (n - i < 24) {
						if (!eof)
							goto out;
						continue;
					}
					if (leader_like(b + i)) {
						s->skip = SKIP_NONE;
						break;
					}
				}
			}
			continue;
		}
		if (is_filler(b[i])) {
			i++;
			continue;
		}
		r = b + i;
		rem = n - i;
		if (digits(r, rem < 5 ? rem : 5) < 0) {
			if (!s->seen && r[0] == '<') {
				rc = ing_parser_fail(s->p, MC_E_PARSE, base + (int64_t)i, 0,
						    "not ISO 2709: input starts with '<' (XML? use the marcxml or auto input format)");
				break;
			}
			s->seen = 1;
			rc = junk(s, r, rem, base + (int64_t)i);
			i++;
			continue;
		}
		if (rem < 24)
			break;  /* wait for the rest of the leader (finish reports it) */
		s->seen = 1;
		lim = rem < MC_MAX_RECORD_BYTES ? rem : MC_MAX_RECORD_BYTES;
		from = s->scanned > 24 ? s->scanned : 24;
		q = from < lim ? memchr(r + from, ISO_RS, lim - from) : NULL;
		len = digits(r, 5);
		how = REC_TERMINATED;
		end = 0;
		if (len >= 26 && (!q || (size_t)(q - r) > (size_t)len - 1)) {
			/* No 0x1D where the leader says the record ends: if a field
			 * ends there and a leader follows, the 0x1D was dropped (the
			 * length counting it or not). */
			size_t k;

			for (k = (size_t)len - 1; k <= (size_t)len && !end; k++)
				if (k + 24 <= rem && r[k - 1] == ISO_FS && leader_like(r + k))
					end = k;
		}
		if (end) {
			how = REC_UNTERMINATED;
		} else if (q) {
			end = (size_t)(q - r) + 1;
		} else if (rem >= MC_MAX_RECORD_BYTES) {
			rc = iso_record(s, r, lim, base + (int64_t)i, REC_TOOBIG);
			i += lim;
			s->skip = SKIP_TO_RS;
			s->scanned = 0;
			continue;
		} else {
			s->scanned = rem;
			break;  /* incomplete: keep it */
		}
		rc = iso_record(s, r, end, base + (int64_t)i, how);
		i += end;
		s->scanned = 0;
	}
out:
	*used = i;
	return rc;
}

/* ISO 2709 state for parser p (borrowed). 0 or -ENOMEM; *ret set only on
 * success, freed by iso_free. */
static int iso_new(struct mc_parser *p, void **ret)
{
	struct iso *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->p = p;
	mc_buf_init(&s->buf, MC_MAX_RECORD_BYTES + MC_PARSE_CHUNK);
	*ret = s;
	return 0;
}

/* NULL is a no-op. */
static void iso_free(void *st)
{
	struct iso *s = st;

	if (!s)
		return;
	mc_buf_free(&s->buf);
	free(s);
}

/* Drop the first used bytes of the pending buffer. */
static void buf_drop(struct iso *s, size_t used)
{
	if (!used)
		return;
	memmove(s->buf.data, s->buf.data + used, s->buf.len - used);
	s->buf.len -= used;
	s->buf.data[s->buf.len] = '\0';
	s->buf_off += (int64_t)used;
}

/* Parse what buf completes; keep an incomplete record (at most
 * MC_MAX_RECORD_BYTES). 0, the callback's value, or a fatal code (set in
 * the parser with ing_parser_fail). */
static int iso_feed(void *st, const char *buf, size_t len)
{
	struct iso *s = st;
	const unsigned char *b = (const unsigned char *)buf;
	size_t used;
	int rc = 0;

	while (len > 0 && rc == 0) {
		if (s->buf.len == 0) {
			/* Nothing pending: parse straight from the caller's bytes. */
			rc = consume(s, b, len, s->off, 0, &used);
			s->off += (int64_t)used;
			b += used;
			len -= used;
			if (rc || len == 0)
				break;
			/* consume() keeps less than one record: hold it. */
			rc = mc_buf_add(&s->buf, b, len);
			if (rc)
				break;
			s->buf_off = s->off;
			s->off += (int64_t)len;
			len = 0;
		} else {
			size_t take = len < MC_PARSE_CHUNK ? len : MC_PARSE_CHUNK;

			rc = mc_buf_add(&s->buf, b, take);
			if (rc)
				break;
			b += take;
			len -= take;
			s->off += (int64_t)take;
			rc = consume(s, (const unsigned char *)s->buf.data, s->buf.len, s->buf_off, 0, &used);
			buf_drop(s, used);
		}
	}
	if (rc && rc != s->p->stop_rc && !s->p->fatal_rc)
		rc = ing_parser_fail(s->p, rc, s->off, 0, "%s", mc_strerror(rc));
	return rc;
}

/* End of input: a pending partial record is reported MC_E_TRUNCATED (to the
 * callback, and returned). */
static int iso_finish(void *st)
{
	struct iso *s = st;
	const unsigned char *b;
	size_t used, n, i;
	int rc;

	rc = consume(s, (const unsigned char *)(s->buf.data ? s->buf.data : ""), s->buf.len,
		     s->buf_off, 1, &used);
	if (rc)
		return rc;
	buf_drop(s, used);
	b = (const unsigned char *)s->buf.data;
	n = s->buf.len;
	for (i = 0; i < n && is_filler(b[i]); i++)
		;
	if (i == n || s->skip != SKIP_NONE)
		return 0;
	rc = iso_record(s, b + i, n - i, s->buf_off + (int64_t)i, REC_TRUNCATED);
	if (rc)
		return rc;
	return ing_parser_fail(s->p, MC_E_TRUNCATED, s->buf_off + (int64_t)i, 0,
			      "input ends inside an ISO 2709 record (%zu bytes of it read)", n - i);
}

const struct ing_format ing_format_iso2709 = {
	.name = "iso2709",
	.new = iso_new,
	.feed = iso_feed,
	.finish = iso_finish,
	.free = iso_free,
};
