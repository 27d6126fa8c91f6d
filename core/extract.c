/* extract.c — fill struct mc_fields from MARC 21 or oai_dc: the entry point
 * and what every format shares (de-duplication, strings in the arena, ISBD
 * trimming, language codes, MARC subfield joining).
 *
 * Every value is built once, straight into the record's arena (no malloc per
 * value). The rules a cataloguer would ask about are written down once, at
 * the top of the file that applies them: here ISBD punctuation;
 * extract-marc.c MARC 21 title, names, publication, languages, subjects,
 * classes, series, notes, links and material; extract-ids.c identifiers;
 * extract-holdings.c 852 and Koha 952; extract-danmarc.c danMARC2;
 * extract-dc.c oai_dc.
 *
 * ISBD punctuation. MARC data carries the punctuation that separates ISBD
 * elements at the end of subfields (" /", " :", " ;", " =", ",", "."). It is
 * removed from the end of each value. A final "." is kept when it ends an
 * abbreviation or initial rather than the element: the word before it is a
 * single letter ("Cox, Jerome R.", "N.T.", "1 v."), is in a short list of
 * abbreviations (Jr, Sr, St, Co, Inc, Ltd, ed, Rev, etc, al, Pub, Nxb, Tp,
 * tr, in, ...), or the dots are an ellipsis ("..."; "...." loses one). So a
 * title like "Vitamin C." keeps its period: a known, accepted cost. Place
 * and publisher (260/264 $a $b) and the edition keep every "." except one
 * directly after "]", ")" or a digit, since there a final "." is almost
 * always an abbreviation ("Mo.", "Pub.", "riv. e corr.", "2nd ed."). Enclosing
 * square brackets of a supplied place or publisher ("[Wooster, Ohio]") are
 * removed; "[S.l.]", "[s.n.]", "n.p." mean "unknown" and give no value.
 * Runs of white space in every value become one space. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "extract-internal.h"
#include "mc-hash.h"
#include "mc-limits.h"

/* ---- de-duplication: a small open-addressing hash set in the arena ---- */

static uint64_t hash_pair(const char *type, const char *val)
{
	uint64_t h = type ? mc_hash64_str(type) : MC_HASH64_SEED;

	return mc_hash64_add_str(mc_hash64_byte(h, 0x1f), val);
}

static int same(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static size_t slot_of(const struct dedup *d, const char *type, const char *val)
{
	size_t i = (size_t)hash_pair(type, val) & (d->cap - 1);

	while (d->val[i] && !(same(d->type[i], type) && strcmp(d->val[i], val) == 0))
		i = (i + 1) & (d->cap - 1);
	return i;
}

/* 1 when (type, val) is new (and now remembered), 0 when seen, -ENOMEM. */
int mci_extract_dedup_add(struct ex *x, struct dedup *d, const char *type, const char *val)
{
	size_t i;

	if (d->n + 1 > d->cap / 2) {
		size_t ncap = d->cap ? d->cap * 2 : 16, j;
		struct dedup nd = { 0 };

		nd.type = mc_arena_zalloc(x->a, ncap * sizeof(*nd.type));
		nd.val = mc_arena_zalloc(x->a, ncap * sizeof(*nd.val));
		if (!nd.type || !nd.val)
			return -ENOMEM;
		nd.cap = ncap;
		for (j = 0; j < d->cap; j++) {
			if (d->val[j]) {
				size_t k = slot_of(&nd, d->type[j], d->val[j]);

				nd.type[k] = d->type[j];
				nd.val[k] = d->val[j];
				nd.n++;
			}
		}
		*d = nd;
	}
	i = slot_of(d, type, val);
	if (d->val[i])
		return 0;
	d->type[i] = type;
	d->val[i] = val;
	d->n++;
	return 1;
}

/* ---- ISBD trimming ---- */

/* Words whose abbreviation ends a value with a period that is data. */
static const char *const abbrev[] = {
	"al", "approx", "assoc", "bros", "ca", "cf", "co", "col", "comp", "corp", "dept", "diagrs",
	"dr", "ed", "eds", "enl", "etc", "facsim", "facsims", "gen", "govt", "hon", "ill", "illus",
	"in", "inc", "inst",
	"intl", "jr", "lt", "ltd", "min", "mono", "mr", "mrs", "ms", "natl", "no", "nos", "nxb",
	"pbk", "port", "ports", "prof", "pt", "pts", "pub", "publ", "repr", "rev", "sd", "soc",
	"sr", "st", "ste", "stereo", "tb", "tp", "tr", "trans", "univ", "viz", "vol", "vols", "vs",
	NULL,
};

/* s[len-1] is '.': is that period part of the data (initial, abbreviation,
 * ellipsis) rather than ISBD punctuation? */
static int period_is_data(const char *s, size_t len)
{
	size_t end = len - 1, b = end, i;

	if (len >= 3 && s[len - 2] == '.' && s[len - 3] == '.')
		return !(len >= 4 && s[len - 4] == '.');  /* "..." data, "...." one too many */
	while (b > 0 && !is_ws(s[b - 1]) && !strchr("([-/,\"'.", s[b - 1]))
		b--;
	if (b == end)
		return 0;  /* "]." ")." ".." */
	if (b > 0 && s[b - 1] == '.')
		return 1;  /* "U.S." "Ph.D." */
	/* A single letter: one ASCII letter or one multi-byte UTF-8 character. */
	if (end - b == 1 && is_alpha(s[b]))
		return 1;
	if (end - b >= 2 && end - b <= 4 && (unsigned char)s[b] >= 0xC0) {
		size_t n = (unsigned char)s[b] >= 0xF0 ? 4 : (unsigned char)s[b] >= 0xE0 ? 3 : 2;

		if (n == end - b)
			return 1;
	}
	for (i = 0; abbrev[i]; i++)
		if (eq_ci(s + b, end - b, abbrev[i]))
			return 1;
	return 0;
}

/* Remove trailing ISBD punctuation and white space from the view. Returns
 * the outermost punctuation character removed (the one nearest the next
 * element), 0 if none; *spaced says whether a space preceded it. */
char mci_extract_isbd_trim(const char *s, size_t *len, int flags, int *spaced)
{
	char outer = 0;
	int sp = 0;

	for (;;) {
		size_t n = *len;
		char c;

		while (n && is_ws(s[n - 1]))
			n--;
		*len = n;
		if (!n)
			break;
		c = s[n - 1];
		if (c == '/' || c == ':' || c == ';' || c == '=' || c == ',' || c == '+') {
			/* "/" inside a DDC number or a date range is data, "+" in
			 * "C++" too; only a spaced one is punctuation. */
			if ((c == '/' || c == '+') && !(n >= 2 && is_ws(s[n - 2])))
				break;
		} else if (c == '.') {
			if (flags & KEEP_PERIOD) {
				if (!(n >= 2 && (s[n - 2] == ']' || s[n - 2] == ')' || is_digit(s[n - 2]))))
					break;
			} else if (period_is_data(s, n)) {
				break;
			}
		} else {
			break;
		}
		if (!outer) {
			outer = c;
			sp = n >= 2 && is_ws(s[n - 2]);
		}
		*len = n - 1;
	}
	if (spaced)
		*spaced = sp;
	return outer;
}

/* ---- building strings in the arena ---- */

/* A copy of the view with white space collapsed; NULL for empty or -ENOMEM
 * (told apart by *rc). */
const char *mci_extract_clean(struct ex *x, const char *s, size_t len, int *rc)
{
	struct sb b;

	*rc = 0;
	trim_ws(&s, &len);
	if (!len)
		return NULL;
	*rc = sb_new(x, &b, len);
	if (*rc)
		return NULL;
	sb_text(&b, s, len);
	return b.p;
}

/* mci_extract_clean() after ISBD trimming. */
const char *mci_extract_clean_isbd(struct ex *x, const char *s, size_t len, int flags, int *rc)
{
	trim_ws(&s, &len);
	mci_extract_isbd_trim(s, &len, flags, NULL);
	return mci_extract_clean(x, s, len, rc);
}

/* ---- appending to r->f ---- */

int mci_extract_push_str(struct ex *x, struct mc_strv *v, struct dedup *d, const char *s)
{
	int rc;

	if (!s || !*s)
		return 0;
	if (d) {
		rc = mci_extract_dedup_add(x, d, NULL, s);
		if (rc <= 0)
			return rc;
	}
	rc = mc_arena_grow(x->a, (void **)&v->v, &v->n, &v->cap, sizeof(*v->v));
	if (rc)
		return rc;
	v->v[v->n++] = s;
	return 0;
}

int mci_extract_push_tv(struct ex *x, struct mc_tvv *v, struct dedup *d, const char *type,
			const char *s)
{
	int rc;

	if (!s || !*s)
		return 0;
	rc = mci_extract_dedup_add(x, d, type, s);
	if (rc <= 0)
		return rc;
	rc = mc_arena_grow(x->a, (void **)&v->v, &v->n, &v->cap, sizeof(*v->v));
	if (rc)
		return rc;
	v->v[v->n].type = type;
	v->v[v->n].value = s;
	v->n++;
	return 0;
}

int mci_extract_push_name(struct ex *x, const char *name, int kind, int main_entry,
			  const char *role, const char *dates)
{
	struct mc_fields *f = x->f;
	struct mc_name *n;
	int rc;

	if (!name || !*name)
		return 0;
	rc = mc_arena_grow(x->a, (void **)&f->names, &f->nnames, &f->names_cap, sizeof(*n));
	if (rc)
		return rc;
	n = &f->names[f->nnames++];
	n->name = name;
	n->kind = kind;
	n->main_entry = main_entry;
	n->role = role;
	n->dates = dates;
	return 0;
}

int mci_extract_push_link(struct ex *x, const char *url, const char *label)
{
	struct mc_fields *f = x->f;
	struct mc_link *l;
	int rc;

	if (!url || !*url)
		return 0;
	rc = mci_extract_dedup_add(x, &x->links, NULL, url);
	if (rc <= 0)
		return rc;
	rc = mc_arena_grow(x->a, (void **)&f->links, &f->nlinks, &f->links_cap, sizeof(*l));
	if (rc)
		return rc;
	l = &f->links[f->nlinks++];
	l->url = url;
	l->label = label;
	return 0;
}

/* ---- language codes ---- */

struct langmap {
	const char *from, *to;
};

/* ISO 639-1 and common English/Vietnamese names to ISO 639-2/B. */
static const struct langmap langs[] = {
	{ "ar", "ara" }, { "bg", "bul" }, { "cs", "cze" }, { "da", "dan" }, { "de", "ger" },
	{ "el", "gre" }, { "en", "eng" }, { "es", "spa" }, { "fi", "fin" }, { "fr", "fre" },
	{ "he", "heb" }, { "hi", "hin" }, { "hu", "hun" }, { "id", "ind" }, { "it", "ita" },
	{ "ja", "jpn" }, { "km", "khm" }, { "ko", "kor" }, { "la", "lat" }, { "lo", "lao" },
	{ "ms", "may" }, { "nl", "dut" }, { "no", "nor" }, { "pl", "pol" }, { "pt", "por" },
	{ "ro", "rum" }, { "ru", "rus" }, { "sv", "swe" }, { "th", "tha" }, { "tr", "tur" },
	{ "uk", "ukr" }, { "vi", "vie" }, { "zh", "chi" },
	{ "english", "eng" }, { "vietnamese", "vie" }, { "french", "fre" }, { "dutch", "dut" },
	{ "german", "ger" }, { "chinese", "chi" }, { "russian", "rus" }, { "japanese", "jpn" },
	{ "tiếng việt", "vie" }, { "tiếng anh", "eng" }, { "tiếng pháp", "fre" },
	{ "tiếng nga", "rus" }, { "tiếng trung", "chi" }, { "tiếng hán", "chi" },
	{ NULL, NULL },
};

/* ISO 639-2/T codes that differ from the /B form catalogues use. */
static const struct langmap lang_t2b[] = {
	{ "deu", "ger" }, { "fra", "fre" }, { "nld", "dut" }, { "zho", "chi" }, { "ces", "cze" },
	{ "ell", "gre" }, { "ron", "rum" }, { "msa", "may" }, { "fas", "per" }, { "slk", "slo" },
	{ NULL, NULL },
};

/* Add one language code from s[0..len): 3 letters as given (lower case,
 * /T mapped to /B), 2 letters or a known name mapped; others dropped. */
int mci_extract_lang(struct ex *x, const char *s, size_t len)
{
	char code[4];
	const char *out = NULL;
	size_t i;
	int rc;

	trim_ws(&s, &len);
	if (len == 3 && is_alpha(s[0]) && is_alpha(s[1]) && is_alpha(s[2])) {
		for (i = 0; i < 3; i++)
			code[i] = (char)to_lower((unsigned char)s[i]);
		code[3] = '\0';
		if (!strcmp(code, "und") || !strcmp(code, "zxx"))
			return 0;
		for (i = 0; lang_t2b[i].from; i++)
			if (!strcmp(code, lang_t2b[i].from))
				out = lang_t2b[i].to;
		if (!out) {
			out = mc_arena_strndup(x->a, code, 3);
			if (!out)
				return -ENOMEM;
		}
	} else {
		/* "en", "en_US", "en-GB", "English" */
		size_t n = len;

		if (len >= 3 && (s[2] == '_' || s[2] == '-'))
			n = 2;
		for (i = 0; langs[i].from; i++)
			if (eq_ci(s, n, langs[i].from))
				out = langs[i].to;
		if (!out)
			return 0;
	}
	rc = mci_extract_push_str(x, &x->f->languages, &x->langs, out);
	return rc;
}

/* ---- MARC helpers ---- */

int mci_extract_tag_num(const struct mc_field *fl)
{
	const char *t = fl->tag;

	if (!is_digit(t[0]) || !is_digit(t[1]) || !is_digit(t[2]))
		return -1;
	return (t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0');
}

/* Upper bound for a value built from the subfields of fl. */
size_t mci_extract_field_bound(const struct mc_field *fl)
{
	size_t i, n = 1;

	for (i = 0; i < fl->nsub; i++)
		n += fl->sub[i].len + 8;
	return n;
}

const char *mci_extract_sub_first(const struct mc_field *fl, char code, size_t *len)
{
	size_t i;

	for (i = 0; i < fl->nsub; i++) {
		if (fl->sub[i].code == code) {
			*len = fl->sub[i].len;
			return fl->sub[i].value;
		}
	}
	return NULL;
}

/* Separator in front of a part, from the punctuation that ended the part
 * before it, or the default for its subfield code. */
static const char *sep_for(char punct, int spaced, const char *dflt)
{
	switch (punct) {
	case ':':
		return spaced ? " : " : ": ";
	case ';':
		return spaced ? " ; " : "; ";
	case '=':
		return spaced ? " = " : "= ";
	case ',':
		return ", ";
	case '.':
		return ". ";
	case '+':
		return " + ";
	default:
		return dflt;
	}
}

/* Join the subfields of fl named in rules (others skipped; codes in
 * carry let their final punctuation choose the next separator) with ISBD
 * separators; ISBD-trim the result. Only the punctuation characters in
 * honour may choose a separator (a "." ends an abbreviation in an extent,
 * not an element). NULL when nothing was found. */
const char *mci_extract_join_isbd(struct ex *x, const struct mc_field *fl,
				  const struct part_rule *rules, const char *carry,
				  const char *honour, int flags, int *rc)
{
	struct sb b;
	size_t i, j;
	char pend = 0, prev_code = 0;
	int spaced = 0;

	*rc = sb_new(x, &b, mci_extract_field_bound(fl));
	if (*rc)
		return NULL;
	for (i = 0; i < fl->nsub; i++) {
		const struct mc_subfield *s = &fl->sub[i];
		const char *v = s->value, *sep = NULL;
		size_t len = s->len;
		char p;
		int sp;

		for (j = 0; rules[j].code; j++)
			if (rules[j].code == s->code)
				sep = rules[j].dflt;
		if (!sep) {
			if (carry && strchr(carry, s->code) && s->code) {
				size_t l = len;

				p = mci_extract_isbd_trim(v, &l, 0, &sp);
				if (p) {
					pend = strchr(honour, p) ? p : 0;
					spaced = sp;
				}
			}
			continue;
		}
		trim_ws(&v, &len);
		p = mci_extract_isbd_trim(v, &len, flags, &sp);
		if (!len)
			continue;
		if (b.len) {
			const char *ss = sep_for(pend, spaced, sep);

			if (s->code == 'p' && prev_code == 'n' && !pend)
				ss = ", ";
			if (!strcmp(ss, ". ") && b.p[b.len - 1] == '.')
				ss = " ";
			sb_raw(&b, ss, strlen(ss));
		}
		sb_text(&b, v, len);
		pend = p && strchr(honour, p) ? p : 0;
		spaced = sp;
		prev_code = s->code;
	}
	if (!b.len)
		return NULL;
	{
		size_t l = b.len;

		mci_extract_isbd_trim(b.p, &l, flags, NULL);
		b.p[l] = '\0';
	}
	return b.p;
}

/* Subfields joined by sep, white space collapsed. trim: TRIM_EACH removes
 * ISBD punctuation from each part and the result, TRIM_FINAL only from the
 * result (names keep the comma between $a and $c). codes lists the
 * subfields to take, in field order. */
const char *mci_extract_join_codes(struct ex *x, const struct mc_field *fl, const char *codes,
				   const char *sep, int trim, int flags, int *rc)
{
	struct sb b;
	size_t i, seplen = strlen(sep);

	*rc = sb_new(x, &b, mci_extract_field_bound(fl) + fl->nsub * seplen);
	if (*rc)
		return NULL;
	for (i = 0; i < fl->nsub; i++) {
		const char *v = fl->sub[i].value;
		size_t len = fl->sub[i].len;

		if (!fl->sub[i].code || !strchr(codes, fl->sub[i].code))
			continue;
		trim_ws(&v, &len);
		if (trim == TRIM_EACH)
			mci_extract_isbd_trim(v, &len, flags, NULL);
		if (!len)
			continue;
		if (b.len)
			sb_raw(&b, sep, seplen);
		sb_text(&b, v, len);
	}
	if (!b.len)
		return NULL;
	if (trim) {
		size_t l = b.len;

		mci_extract_isbd_trim(b.p, &l, flags, NULL);
		b.p[l] = '\0';
	}
	return b.len ? b.p : NULL;
}
int mc_record_extract(struct mc_record *r, struct mc_error *err)
{
	struct ex x;
	int rc = 0;

	memset(&x, 0, sizeof(x));
	memset(&r->f, 0, sizeof(r->f));
	x.r = r;
	x.a = r->arena;
	x.f = &r->f;
	if (r->format == MC_FMT_MARC21 && r->marc)
		rc = mci_extract_marc(&x, r->marc);
	else if (r->format == MC_FMT_OAI_DC && r->dc)
		rc = mci_extract_dc(&x, r->dc);
	else if (r->marc)
		rc = mci_extract_marc(&x, r->marc);
	else if (r->dc)
		rc = mci_extract_dc(&x, r->dc);
	if (rc) {
		if (rc == -ENOMEM && mc_arena_used(r->arena) + (1u << 20) > MC_MAX_ARENA_BYTES)
			rc = MC_E_TOOBIG;
		memset(&r->f, 0, sizeof(r->f));
		if (err) {
			mc_error_field(err->record_id, sizeof(err->record_id), r->local_id);
			mc_error_field(err->source, sizeof(err->source), r->source);
			if (r->in_offset >= 0)
				err->offset = r->in_offset;
			if (r->in_line > 0)
				err->line = r->in_line;
			mc_error_set(err, rc, "extracting fields: %s", mc_strerror(rc));
		}
	}
	return rc;
}

