/* extract.c — fill struct mc_fields from MARC 21 or oai_dc.
 *
 * Every value is built once, straight into the record's arena (no malloc per
 * value). The rules a cataloguer would ask about are listed here once.
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
 * Runs of white space in every value become one space.
 *
 * Title: 245 $a $b $n $p; the separator in front of a part is the ISBD
 * punctuation that ended the previous subfield (also $h, the general
 * material designation, which is dropped): " : ", " = ", " ; ", ", ", ". ".
 * Without punctuation the default is " : " before $b, ". " before $n and
 * $p (", " for $p after $n). Responsibility: every 245 $c; edition 250 $a $b
 * (" / " before $b). Extent: the first 300, $a $b $c $e $f $g; only " : ",
 * " ; " and " + " from the data choose a separator there ("illus., maps.
 * $c 32 cm" gives "illus., maps ; 32 cm"), else " : " before $b, " ; "
 * before $c, " + " before $e.
 *
 * Names: 100/110/111 (main entry), 700/710/711 and 720; a name repeated
 * with the same dates (name/title entries) is kept once. Personal names are
 * $a $b $c $q in field order ("Smith, George Adam, Sir", "Baird, J. Arthur
 * (Joseph Arthur)") and are never inverted or reordered: Vietnamese names
 * stay "Nguyễn Nhật Ánh". Corporate: $a $b... Meeting: $a $q $e $n (the place
 * $c is left out). Dates: $d. Role: $e (for meetings $j) joined by ", ",
 * else the $4 codes. 720 is personal unless ind1 is 2.
 *
 * Identifiers: isbn (020 $a with a correct check digit, as 13 digits),
 * isbn-invalid (020 $z, or $a with a wrong check digit, as given), issn
 * (022 $a), issn-invalid (022 $y $z, or a bad $a), lccn (010 $a in the LC
 * normalised form: blanks and any "/..." revision suffix removed, "85-2"
 * becomes "85000002"), nbn (015 $a; 016 $a, as "agency:number" when $2 is
 * present), control (035 $a as given), std (024 $a, prefixed "isrc:",
 * "upc:", "ismn:", "ean:", "sici:" from ind1, or "$2:" when ind1 is 7).
 * Duplicates (same type and value) are dropped.
 *
 * Publication: the first 264 with ind2 1, else the first 260, else the first
 * 264: its first $a, $b and $c. The date is kept as printed ("[1972]",
 * "c1980") less final ISBD punctuation. Year: 008/07-10 when those are four
 * digits and 008/06 is a date type other than b, n or |; else the first
 * number of four digits from 1400 to 2100 in the date; 0 when unknown.
 *
 * Languages: 008/35-37 when three letters, except "und" (undetermined) and
 * "zxx" (no linguistic content), then 041 $a and $d split into 3-letter
 * codes ("grchebeng"), two-letter codes mapped to ISO 639-2/B; unique, in
 * order. Subjects: 600 610 611 630 647 648 650 651 653 654 655 656 657 658
 * 662 (69X is local and left out): the heading ($a and the other letter
 * subfields, except relator terms) and its subdivisions $v $x $y $z joined
 * with " -- "; each 653 $a is a keyword of its own; unique. Classes: udc
 * (080 $a, $x appended), ddc (082 $a as given, primes kept; one per $a),
 * lcc (050 $a with the $b that follows it, only when it is an LC class
 * number: one to three capitals then a digit; LC's shelf numbers "IN
 * PROCESS", "MLCS 2002/06831 (B)" are not), "other:<$2>" or "other" (084
 * $a). Series: 440/490/830 $a $n $p, and 800/810/811 the whole heading (name
 * and $t title: "United States. National Bureau of Standards. Special
 * publication"), each with " ; $v"; unique. Notes: $a of every 5XX, except 541, 542, 561 and
 * 583 when ind1 says private (0); unique. Links: each 856 $u, label $y, else
 * $3, else $z.
 *
 * Material (leader/06 type, leader/07 level): a -> book, serial (level s or
 * i), article (level a or b), thesis (502 present or 008/24-27 holds 'm'),
 * electronic (008/23 o, q or s: an online or electronic text is not on a
 * shelf, which is what a union catalogue reader needs to know); t ->
 * manuscript; c d -> music-score; e f -> map; g -> video; i -> sound; j ->
 * music-recording; k -> image; m -> electronic; o -> kit; p -> mixed; r ->
 * object; anything else -> other.
 *
 * danMARC2 records (001 with subfields: the ISO 2709 sample's Danish record)
 * get a small mapping of their own: 245 $a $c title, $d $e $f
 * responsibility; 100/700 $a surname, $h forename ("Anderson, Bob"); 021
 * ISBN; 008 $l and 041 $a languages; 250, 260, 300, 5XX as in MARC 21; 652
 * DK5 class ("other:dk5"). Nothing else is guessed.
 *
 * Authority (leader/06 z), classification (w) and community information (q)
 * records use different meanings for the same tags: only their heading
 * (1XX, as the title: "HF1-HF6182 Commerce" for 153), 010, 035 and holdings
 * are taken, material "other".
 *
 * Holdings: one per 852 ($a library, $b $c location, $k $h $i $m call
 * number (else $j), $p barcode, $z note) and per Koha 952 (a 952 with $b,
 * $o, $p or $y: LC uses 952 locally otherwise) ($a home branch,
 * $c location, $o call number, $p barcode, $z note; status from $0
 * withdrawn, $1 lost, $4 damaged, $7 not for loan (negative: on order), $q
 * on loan with its due date; NULL when none is set).
 *
 * oai_dc: title = the first dc:title (ISBD trimmed); other titles -> notes.
 * creator -> personal names (first main entry); contributor -> personal
 * names, skipped when equal to a creator (DSpace repeats them). subject ->
 * subjects, split on ";". description -> notes. publisher -> the first.
 * date -> the first that is not a timestamp (DSpace adds accession
 * datestamps "2003-04-22T13:13:44Z"), else the first; year from it. type ->
 * material (Text, Book, Working Paper, Report -> book; Article, Preprint,
 * Book chapter -> article; Thesis, Dissertation, Luận văn, Luận án ->
 * thesis; ... unknown -> other). format -> extent when it looks like one
 * ("123 p.", "24 cm", "250 tr."); a URL in a format ("application/pdf
 * https://...") -> a link labelled with the media type. identifier: ISBN
 * ("ISBN ...", "urn:isbn:...", or a bare number with a correct check digit),
 * ISSN likewise, http(s) URLs -> links, "hdl:" and "doi:" -> links through
 * hdl.handle.net / doi.org, a citation (spaces, over 40 bytes) -> notes,
 * "-" nothing, anything else -> control. language -> 639-2/B codes ("en",
 * "en_US", "English" -> "eng"); "other" is dropped. relation: URL -> link;
 * "Series;Number" (DSpace) -> series "Series ; Number"; else notes. rights,
 * coverage and source are not used. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "mc-extract.h"
#include "mc-hash.h"
#include "mc-limits.h"
#include "mc-record.h"

/* ---- de-duplication: a small open-addressing hash set in the arena ---- */

struct dedup {
	const char **type;  /* may hold NULL types (plain strings) */
	const char **val;
	size_t cap, n;
};

struct ex {
	struct mc_record *r;
	struct mc_arena *a;
	struct mc_fields *f;
	struct dedup ids, langs, subjects, classes, series, notes, links, names;
};

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
static int dedup_add(struct ex *x, struct dedup *d, const char *type, const char *val)
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

/* ---- character helpers ---- */

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int to_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive ASCII comparison of s[0..len) with the NUL-terminated w. */
static int eq_ci(const char *s, size_t len, const char *w)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!w[i] || to_lower((unsigned char)s[i]) != (unsigned char)w[i])
			return 0;
	return w[len] == '\0';
}

static int prefix_ci(const char *s, size_t len, const char *w)
{
	size_t n = strlen(w);

	return len >= n && eq_ci(s, n, w);
}

/* Trim white space at both ends of the view (*s, *len). */
static void trim_ws(const char **s, size_t *len)
{
	while (*len && is_ws(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && is_ws((*s)[*len - 1]))
		(*len)--;
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

enum { KEEP_PERIOD = 1 };

/* Remove trailing ISBD punctuation and white space from the view. Returns
 * the outermost punctuation character removed (the one nearest the next
 * element), 0 if none; *spaced says whether a space preceded it. */
static char isbd_trim(const char *s, size_t *len, int flags, int *spaced)
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

struct sb {
	char *p;
	size_t len, cap;
};

static int sb_new(struct ex *x, struct sb *b, size_t cap)
{
	b->p = mc_arena_alloc(x->a, cap + 1);
	if (!b->p)
		return -ENOMEM;
	b->len = 0;
	b->cap = cap;
	b->p[0] = '\0';
	return 0;
}

/* Append raw bytes (separators). Bounded by the capacity computed up front. */
static void sb_raw(struct sb *b, const char *s, size_t n)
{
	if (n > b->cap - b->len)
		n = b->cap - b->len;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Append text with runs of white space collapsed to one space. */
static void sb_text(struct sb *b, const char *s, size_t n)
{
	size_t i;
	int ws = 0;

	for (i = 0; i < n && b->len < b->cap; i++) {
		if (is_ws(s[i])) {
			ws = 1;
			continue;
		}
		if (ws && b->len && b->p[b->len - 1] != ' ')
			b->p[b->len++] = ' ';
		ws = 0;
		if (b->len < b->cap)
			b->p[b->len++] = s[i];
	}
	b->p[b->len] = '\0';
}

/* A copy of the view with white space collapsed; NULL for empty or -ENOMEM
 * (told apart by *rc). */
static const char *clean(struct ex *x, const char *s, size_t len, int *rc)
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

/* clean() after ISBD trimming. */
static const char *clean_isbd(struct ex *x, const char *s, size_t len, int flags, int *rc)
{
	trim_ws(&s, &len);
	isbd_trim(s, &len, flags, NULL);
	return clean(x, s, len, rc);
}

/* ---- appending to r->f ---- */

static int push_str(struct ex *x, struct mc_strv *v, struct dedup *d, const char *s)
{
	int rc;

	if (!s || !*s)
		return 0;
	if (d) {
		rc = dedup_add(x, d, NULL, s);
		if (rc <= 0)
			return rc;
	}
	rc = mc_arena_grow(x->a, (void **)&v->v, &v->n, &v->cap, sizeof(*v->v));
	if (rc)
		return rc;
	v->v[v->n++] = s;
	return 0;
}

static int push_tv(struct ex *x, struct mc_tvv *v, struct dedup *d, const char *type,
		   const char *s)
{
	int rc;

	if (!s || !*s)
		return 0;
	rc = dedup_add(x, d, type, s);
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

static int push_name(struct ex *x, const char *name, int kind, int main_entry, const char *role,
		     const char *dates)
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

static int push_link(struct ex *x, const char *url, const char *label)
{
	struct mc_fields *f = x->f;
	struct mc_link *l;
	int rc;

	if (!url || !*url)
		return 0;
	rc = dedup_add(x, &x->links, NULL, url);
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
static int add_lang(struct ex *x, const char *s, size_t len)
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
	rc = push_str(x, &x->f->languages, &x->langs, out);
	return rc;
}

/* ---- MARC helpers ---- */

static int tag_num(const struct mc_field *fl)
{
	const char *t = fl->tag;

	if (!is_digit(t[0]) || !is_digit(t[1]) || !is_digit(t[2]))
		return -1;
	return (t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0');
}

/* Upper bound for a value built from the subfields of fl. */
static size_t field_bound(const struct mc_field *fl)
{
	size_t i, n = 1;

	for (i = 0; i < fl->nsub; i++)
		n += fl->sub[i].len + 8;
	return n;
}

static const char *sub_first(const struct mc_field *fl, char code, size_t *len)
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

struct part_rule {
	char code;
	const char *dflt;  /* separator when the previous part gave none */
};

/* Join the subfields of fl named in rules (others skipped; codes in
 * carry let their final punctuation choose the next separator) with ISBD
 * separators; ISBD-trim the result. Only the punctuation characters in
 * honour may choose a separator (a "." ends an abbreviation in an extent,
 * not an element). NULL when nothing was found. */
static const char *join_isbd(struct ex *x, const struct mc_field *fl, const struct part_rule *rules,
			     const char *carry, const char *honour, int flags, int *rc)
{
	struct sb b;
	size_t i, j;
	char pend = 0, prev_code = 0;
	int spaced = 0;

	*rc = sb_new(x, &b, field_bound(fl));
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

				p = isbd_trim(v, &l, 0, &sp);
				if (p) {
					pend = strchr(honour, p) ? p : 0;
					spaced = sp;
				}
			}
			continue;
		}
		trim_ws(&v, &len);
		p = isbd_trim(v, &len, flags, &sp);
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

		isbd_trim(b.p, &l, flags, NULL);
		b.p[l] = '\0';
	}
	return b.p;
}

enum { TRIM_NONE = 0, TRIM_EACH = 1, TRIM_FINAL = 2 };

/* Subfields joined by sep, white space collapsed. trim: TRIM_EACH removes
 * ISBD punctuation from each part and the result, TRIM_FINAL only from the
 * result (names keep the comma between $a and $c). codes lists the
 * subfields to take, in field order. */
static const char *join_codes(struct ex *x, const struct mc_field *fl, const char *codes,
			      const char *sep, int trim, int flags, int *rc)
{
	struct sb b;
	size_t i, seplen = strlen(sep);

	*rc = sb_new(x, &b, field_bound(fl) + fl->nsub * seplen);
	if (*rc)
		return NULL;
	for (i = 0; i < fl->nsub; i++) {
		const char *v = fl->sub[i].value;
		size_t len = fl->sub[i].len;

		if (!fl->sub[i].code || !strchr(codes, fl->sub[i].code))
			continue;
		trim_ws(&v, &len);
		if (trim == TRIM_EACH)
			isbd_trim(v, &len, flags, NULL);
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

		isbd_trim(b.p, &l, flags, NULL);
		b.p[l] = '\0';
	}
	return b.len ? b.p : NULL;
}

/* ---- MARC: title, edition, extent ---- */

static const struct part_rule title_rules[] = {
	{ 'a', " : " }, { 'b', " : " }, { 'n', ". " }, { 'p', ". " }, { 0, NULL },
};

static const struct part_rule edition_rules[] = {
	{ 'a', " " }, { 'b', " / " }, { 0, NULL },
};

static const struct part_rule extent_rules[] = {
	{ 'a', " ; " }, { 'b', " : " }, { 'c', " ; " }, { 'e', " + " },
	{ 'f', " " },   { 'g', " " },   { 0, NULL },
};

static int marc_title(struct ex *x, const struct mc_field *fl)
{
	int rc;

	x->f->title = join_isbd(x, fl, title_rules, "h", ":;=,.", 0, &rc);
	if (rc)
		return rc;
	x->f->responsibility = join_codes(x, fl, "c", " ", TRIM_EACH, 0, &rc);
	return rc;
}

/* ---- MARC: names ---- */

/* Role: $e (or $j for meetings) terms joined by ", ", else $4 codes. */
static const char *name_role(struct ex *x, const struct mc_field *fl, int kind, int *rc)
{
	const char *r = join_codes(x, fl, kind == MC_NAME_MEETING ? "j" : "e", ", ", TRIM_EACH, 0, rc);

	if (r || *rc)
		return r;
	return join_codes(x, fl, "4", ", ", TRIM_EACH, 0, rc);
}

static int marc_name(struct ex *x, const struct mc_field *fl, int kind, int main_entry)
{
	const char *codes = kind == MC_NAME_PERSONAL ? "abcq" : kind == MC_NAME_CORPORATE ? "ab" : "aqen";
	const char *name, *dates, *role;
	int rc;

	name = join_codes(x, fl, codes, " ", TRIM_FINAL, 0, &rc);
	if (rc || !name)
		return rc;
	dates = join_codes(x, fl, "d", " ", TRIM_EACH, 0, &rc);
	if (rc)
		return rc;
	role = name_role(x, fl, kind, &rc);
	if (rc)
		return rc;
	/* A name repeated in name/title added entries (700 12 $a Rameau ... $t
	 * Dardanus) is one contributor: keep the first. */
	rc = dedup_add(x, &x->names, dates ? dates : "", name);
	if (rc <= 0)
		return rc;
	return push_name(x, name, kind, main_entry, role, dates);
}

/* ---- MARC: identifiers ---- */

/* LC's normalised LCCN: blanks out, "/..." out, "prefix-serial" to six digits. */
static const char *lccn_norm(struct ex *x, const char *s, size_t len, int *rc)
{
	struct sb b;
	size_t i, dash = SIZE_MAX;

	*rc = sb_new(x, &b, len + 6);
	if (*rc)
		return NULL;
	for (i = 0; i < len && s[i] != '/'; i++) {
		if (is_ws(s[i]))
			continue;
		if (s[i] == '-' && dash == SIZE_MAX) {
			dash = b.len;
			continue;
		}
		sb_raw(&b, &s[i], 1);
	}
	if (dash != SIZE_MAX) {
		size_t serial = b.len - dash;

		if (serial < 6) {
			size_t pad = 6 - serial;

			memmove(b.p + dash + pad, b.p + dash, serial + 1);
			memset(b.p + dash, '0', pad);
			b.len += pad;
		}
	}
	return b.len ? b.p : NULL;
}

static int marc_ids(struct ex *x, const struct mc_field *fl, int tag)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < fl->nsub && !rc; i++) {
		const struct mc_subfield *s = &fl->sub[i];
		const char *v = s->value, *type = NULL, *out = NULL;
		size_t len = s->len;

		switch (tag) {
		case 10:
			if (s->code == 'a') {
				type = "lccn";
				out = lccn_norm(x, v, len, &rc);
			}
			break;
		case 15:
			if (s->code == 'a') {
				type = "nbn";
				out = clean_isbd(x, v, len, KEEP_PERIOD, &rc);
			}
			break;
		case 16:
			if (s->code == 'a') {
				size_t al = 0;
				const char *agency = sub_first(fl, '2', &al);

				type = "nbn";
				out = clean_isbd(x, v, len, KEEP_PERIOD, &rc);
				if (out && agency) {
					trim_ws(&agency, &al);
					if (al)
						out = mc_arena_printf(x->a, "%.*s:%s", (int)al, agency, out);
					if (!out)
						rc = -ENOMEM;
				}
			}
			break;
		case 20: {
			char i13[14];

			if (s->code == 'a' && mc_isbn_normalise(v, len, i13) == 0) {
				type = "isbn";
				out = mc_arena_strndup(x->a, i13, 13);
				if (!out)
					rc = -ENOMEM;
			} else if (s->code == 'a' || s->code == 'z') {
				type = "isbn-invalid";
				out = clean_isbd(x, v, len, KEEP_PERIOD, &rc);
			}
			break;
		}
		case 22: {
			char is[10];

			if (s->code == 'a' && mc_issn_normalise(v, len, is) == 0) {
				type = "issn";
				out = mc_arena_strndup(x->a, is, 9);
				if (!out)
					rc = -ENOMEM;
			} else if (s->code == 'a' || s->code == 'y' || s->code == 'z') {
				type = "issn-invalid";
				out = clean_isbd(x, v, len, KEEP_PERIOD, &rc);
			}
			break;
		}
		case 24:
			if (s->code == 'a') {
				static const char *const pre[] = { "isrc", "upc", "ismn", "ean", "sici" };
				const char *p = NULL;
				size_t pl = 0;

				type = "std";
				out = clean_isbd(x, v, len, KEEP_PERIOD, &rc);
				if (fl->ind1 >= '0' && fl->ind1 <= '4') {
					p = pre[fl->ind1 - '0'];
					pl = strlen(p);
				} else if (fl->ind1 == '7') {
					p = sub_first(fl, '2', &pl);
					if (p)
						trim_ws(&p, &pl);
				}
				if (out && p && pl) {
					out = mc_arena_printf(x->a, "%.*s:%s", (int)pl, p, out);
					if (!out)
						rc = -ENOMEM;
				}
			}
			break;
		case 35:
			if (s->code == 'a') {
				type = "control";
				out = clean(x, v, len, &rc);
			}
			break;
		default:
			break;
		}
		if (!rc && type && out)
			rc = push_tv(x, &x->f->ids, &x->ids, type, out);
	}
	return rc;
}

/* ---- MARC: classes, subjects, series, notes, links ---- */

/* An LC class number starts with one to three capitals and a digit
 * ("QA76.9", "G1467.P8"); LC also puts shelf numbers ("IN PROCESS", "MLCS
 * 2002/06831 (B)", "Atlantic 1259") in 050, which are not classes. */
static int lcc_like(const char *s)
{
	int n = 0;

	while (n < 3 && s[n] >= 'A' && s[n] <= 'Z')
		n++;
	return n >= 1 && is_digit(s[n]);
}

static int marc_classes(struct ex *x, const struct mc_field *fl, int tag)
{
	size_t i;
	int rc = 0;
	const char *type = NULL;

	switch (tag) {
	case 80:
		type = "udc";
		break;
	case 82:
		type = "ddc";
		break;
	case 50:
		type = "lcc";
		break;
	case 84: {
		size_t l = 0;
		const char *sch = sub_first(fl, '2', &l);

		if (sch)
			trim_ws(&sch, &l);
		type = sch && l ? mc_arena_printf(x->a, "other:%.*s", (int)l, sch) : "other";
		if (!type)
			return -ENOMEM;
		break;
	}
	default:
		return 0;
	}
	for (i = 0; i < fl->nsub && !rc; i++) {
		const struct mc_subfield *s = &fl->sub[i];
		const char *out;
		size_t j, cap;
		struct sb b;

		if (s->code != 'a')
			continue;
		/* $a, and for LCC the $b (item number) and for UDC the $x
		 * (common auxiliaries) that follow it. */
		cap = s->len + 1;
		for (j = i + 1; j < fl->nsub && fl->sub[j].code != 'a'; j++)
			cap += fl->sub[j].len + 1;
		rc = sb_new(x, &b, cap);
		if (rc)
			break;
		{
			const char *v = s->value;
			size_t len = s->len;

			trim_ws(&v, &len);
			isbd_trim(v, &len, KEEP_PERIOD, NULL);
			sb_text(&b, v, len);
		}
		for (j = i + 1; j < fl->nsub && fl->sub[j].code != 'a'; j++) {
			const char *v = fl->sub[j].value;
			size_t len = fl->sub[j].len;

			if (!((tag == 50 && fl->sub[j].code == 'b') || (tag == 80 && fl->sub[j].code == 'x')))
				continue;
			trim_ws(&v, &len);
			if (!len)
				continue;
			if (tag == 50 && b.len)
				sb_raw(&b, " ", 1);
			sb_text(&b, v, len);
		}
		out = b.len ? b.p : NULL;
		if (out && tag == 50 && !lcc_like(out))
			out = NULL;
		if (out)
			rc = push_tv(x, &x->f->classes, &x->classes, type, out);
	}
	return rc;
}

static int is_subdiv(char c)
{
	return c == 'v' || c == 'x' || c == 'y' || c == 'z';
}

/* A heading: the main part (letter subfields other than subdivisions and
 * the excluded ones, joined by spaces) then " -- " and each subdivision. */
static const char *heading(struct ex *x, const struct mc_field *fl, const char *skip, int *rc)
{
	struct sb b;
	size_t i;
	int in_main = 1;

	*rc = sb_new(x, &b, field_bound(fl));
	if (*rc)
		return NULL;
	for (i = 0; i < fl->nsub; i++) {
		const struct mc_subfield *s = &fl->sub[i];
		const char *v = s->value;
		size_t len = s->len;
		int sub = is_subdiv(s->code);

		if (!is_alpha(s->code) || (skip && strchr(skip, s->code)))
			continue;
		trim_ws(&v, &len);
		if (sub || !in_main)
			isbd_trim(v, &len, 0, NULL);
		if (!len)
			continue;
		if (sub && in_main) {
			/* Close the main part: trim its final punctuation. */
			size_t l = b.len;

			isbd_trim(b.p, &l, 0, NULL);
			b.len = l;
			b.p[l] = '\0';
			in_main = 0;
		}
		if (b.len)
			sb_raw(&b, sub || !in_main ? " -- " : " ", sub || !in_main ? 4 : 1);
		sb_text(&b, v, len);
	}
	if (b.len) {
		size_t l = b.len;

		isbd_trim(b.p, &l, 0, NULL);
		b.len = l;
		b.p[l] = '\0';
	}
	return b.len ? b.p : NULL;
}

static int marc_subject(struct ex *x, const struct mc_field *fl, int tag)
{
	const char *s;
	size_t i;
	int rc = 0;

	if (tag == 653) {
		/* Uncontrolled index terms: every $a is a keyword. */
		for (i = 0; i < fl->nsub && !rc; i++) {
			if (fl->sub[i].code != 'a')
				continue;
			s = clean_isbd(x, fl->sub[i].value, fl->sub[i].len, 0, &rc);
			if (!rc)
				rc = push_str(x, &x->f->subjects, &x->subjects, s);
		}
		return rc;
	}
	/* $e/$j/$4 are relators ($e is a subordinate unit in 611, $j the
	 * relator there); $h is a medium; $w control. */
	s = heading(x, fl, tag == 611 ? "jhw" : "ehw", &rc);
	if (rc)
		return rc;
	return push_str(x, &x->f->subjects, &x->subjects, s);
}

/* Series title (for 8XX the whole heading, name and title, as catalogued)
 * then " ; $v". */
static int marc_series(struct ex *x, const struct mc_field *fl, const char *codes)
{
	const char *t, *v;
	struct sb b;
	int rc;

	t = join_codes(x, fl, codes, " ", TRIM_FINAL, 0, &rc);
	if (rc || !t)
		return rc;
	v = join_codes(x, fl, "v", " ", TRIM_EACH, 0, &rc);
	if (rc)
		return rc;
	if (v) {
		rc = sb_new(x, &b, strlen(t) + strlen(v) + 3);
		if (rc)
			return rc;
		sb_raw(&b, t, strlen(t));
		sb_raw(&b, " ; ", 3);
		sb_raw(&b, v, strlen(v));
		t = b.p;
	}
	return push_str(x, &x->f->series, &x->series, t);
}

static int marc_note(struct ex *x, const struct mc_field *fl, int tag)
{
	size_t len = 0;
	const char *v;
	int rc;

	if ((tag == 541 || tag == 542 || tag == 561 || tag == 583) && fl->ind1 == '0')
		return 0;  /* marked private */
	v = sub_first(fl, 'a', &len);
	if (!v)
		return 0;
	v = clean(x, v, len, &rc);
	if (rc)
		return rc;
	return push_str(x, &x->f->notes, &x->notes, v);
}

static int marc_links(struct ex *x, const struct mc_field *fl)
{
	const char *label = NULL;
	size_t i, len = 0;
	int rc = 0;

	if ((label = sub_first(fl, 'y', &len)) || (label = sub_first(fl, '3', &len)) ||
	    (label = sub_first(fl, 'z', &len))) {
		label = clean_isbd(x, label, len, KEEP_PERIOD, &rc);
		if (rc)
			return rc;
	}
	for (i = 0; i < fl->nsub && !rc; i++) {
		const char *u;

		if (fl->sub[i].code != 'u')
			continue;
		u = clean(x, fl->sub[i].value, fl->sub[i].len, &rc);
		if (!rc)
			rc = push_link(x, u, label);
	}
	return rc;
}

/* ---- MARC: publication ---- */

/* A bracket opened in one subfield and closed in the next ("$a [New York? :
 * $b RCA Victor]") is ISBD, not data: drop a lone "[" at the start or "]"
 * at the end. */
static void unbalanced(const char **s, size_t *len)
{
	if (*len && (*s)[0] == '[' && !memchr(*s, ']', *len)) {
		(*s)++;
		(*len)--;
	}
	if (*len && (*s)[*len - 1] == ']' && !memchr(*s, '[', *len))
		(*len)--;
}

/* Place or publisher: ISBD-trimmed, enclosing brackets removed, "unknown"
 * markers dropped. */
static const char *pub_value(struct ex *x, const char *s, size_t len, int *rc)
{
	static const char *const unknown[] = {
		"s.l.", "s.l", "s.n.", "s.n", "n.p.", "n.p", "sine loco", "sine nomine", "k.đ.",
		"knxb", "k.nxb.", NULL,
	};
	size_t i;

	*rc = 0;
	trim_ws(&s, &len);
	isbd_trim(s, &len, KEEP_PERIOD, NULL);
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']' && !memchr(s + 1, ']', len - 2)) {
		s++;
		len -= 2;
	}
	unbalanced(&s, &len);
	trim_ws(&s, &len);
	isbd_trim(s, &len, KEEP_PERIOD, NULL);
	for (i = 0; unknown[i]; i++)
		if (eq_ci(s, len, unknown[i]))
			return NULL;
	return clean(x, s, len, rc);
}

/* First number of four digits (not part of a longer one) in 1400..2100. */
static int year_in(const char *s)
{
	size_t i, n;

	if (!s)
		return 0;
	n = strlen(s);
	for (i = 0; i + 4 <= n; i++) {
		if (is_digit(s[i]) && is_digit(s[i + 1]) && is_digit(s[i + 2]) && is_digit(s[i + 3]) &&
		    (i == 0 || !is_digit(s[i - 1])) && (i + 4 == n || !is_digit(s[i + 4]))) {
			int y = (s[i] - '0') * 1000 + (s[i + 1] - '0') * 100 + (s[i + 2] - '0') * 10 +
				(s[i + 3] - '0');

			if (y >= 1400 && y <= 2100)
				return y;
		}
	}
	return 0;
}

static int marc_publication(struct ex *x, const struct mc_field *fl)
{
	size_t len = 0;
	const char *v;
	int rc = 0;

	if (!fl)
		return 0;
	if ((v = sub_first(fl, 'a', &len))) {
		x->f->place = pub_value(x, v, len, &rc);
		if (rc)
			return rc;
	}
	if ((v = sub_first(fl, 'b', &len))) {
		x->f->publisher = pub_value(x, v, len, &rc);
		if (rc)
			return rc;
	}
	if ((v = sub_first(fl, 'c', &len))) {
		trim_ws(&v, &len);
		isbd_trim(v, &len, 0, NULL);
		unbalanced(&v, &len);
		x->f->date = clean_isbd(x, v, len, 0, &rc);
	}
	return rc;
}

/* ---- MARC: holdings ---- */

static int marc_holding(struct ex *x, const struct mc_field *fl, int tag)
{
	struct mc_fields *f = x->f;
	struct mc_holding h;
	int rc = 0;

	memset(&h, 0, sizeof(h));
	if (tag == 852) {
		h.library = join_codes(x, fl, "a", " ", TRIM_EACH, KEEP_PERIOD, &rc);
		if (!rc)
			h.location = join_codes(x, fl, "bc", ", ", TRIM_EACH, KEEP_PERIOD, &rc);
		if (!rc) {
			/* $k prefix, $h classification, $i item, $m suffix; in
			 * that order whatever the field order. */
			static const char order[] = "khim";
			struct sb b;
			size_t k, i;

			rc = sb_new(x, &b, field_bound(fl));
			for (k = 0; !rc && order[k]; k++) {
				for (i = 0; i < fl->nsub; i++) {
					const char *v = fl->sub[i].value;
					size_t len = fl->sub[i].len;

					if (fl->sub[i].code != order[k])
						continue;
					trim_ws(&v, &len);
					if (!len)
						continue;
					if (b.len)
						sb_raw(&b, " ", 1);
					sb_text(&b, v, len);
				}
			}
			if (!rc)
				h.call_number = b.len ? b.p : NULL;
			if (!rc && !h.call_number)
				h.call_number = join_codes(x, fl, "j", " ", TRIM_NONE, 0, &rc);
		}
		if (!rc)
			h.barcode = join_codes(x, fl, "p", " ", TRIM_NONE, 0, &rc);
		if (!rc)
			h.note = join_codes(x, fl, "z", "; ", TRIM_NONE, 0, &rc);
	} else {
		static const struct {
			char code;
			const char *word;
		} flags[] = {
			{ '0', "withdrawn" }, { '1', "lost" }, { '4', "damaged" },
			{ '7', "not for loan" }, { 'q', "on loan" },
		};
		struct sb b;
		size_t k, len = 0;
		const char *v;

		h.library = join_codes(x, fl, "a", " ", TRIM_NONE, 0, &rc);
		if (!rc)
			h.location = join_codes(x, fl, "c", " ", TRIM_NONE, 0, &rc);
		if (!rc)
			h.call_number = join_codes(x, fl, "o", " ", TRIM_NONE, 0, &rc);
		if (!rc)
			h.barcode = join_codes(x, fl, "p", " ", TRIM_NONE, 0, &rc);
		if (!rc)
			h.note = join_codes(x, fl, "z", "; ", TRIM_NONE, 0, &rc);
		if (!rc)
			rc = sb_new(x, &b, field_bound(fl) + 64);
		/* A fixed order, whatever the order of the subfields. */
		for (k = 0; !rc && k < sizeof(flags) / sizeof(flags[0]); k++) {
			const char *word = flags[k].word;

			v = sub_first(fl, flags[k].code, &len);
			if (!v)
				continue;
			trim_ws(&v, &len);
			if (!len || (len == 1 && v[0] == '0'))
				continue;
			if (flags[k].code == '7' && v[0] == '-')
				word = "on order";
			if (b.len)
				sb_raw(&b, ", ", 2);
			sb_raw(&b, word, strlen(word));
			if (flags[k].code == 'q') {
				sb_raw(&b, " (due ", 6);
				sb_text(&b, v, len);
				sb_raw(&b, ")", 1);
			}
		}
		if (!rc)
			h.status = b.len ? b.p : NULL;
	}
	if (rc)
		return rc;
	if (!h.library && !h.location && !h.call_number && !h.barcode && !h.note && !h.status)
		return 0;
	rc = mc_arena_grow(x->a, (void **)&f->holdings, &f->nholdings, &f->holdings_cap, sizeof(h));
	if (rc)
		return rc;
	f->holdings[f->nholdings++] = h;
	return 0;
}

/* 952 is Koha's item field; others use it locally (LC: "952 $a New - Copy
 * Command"). A Koha item has a barcode, call number, holding branch or item
 * type besides the home branch. */
static int koha_item(const struct mc_field *fl)
{
	size_t i;

	for (i = 0; i < fl->nsub; i++)
		if (strchr("bopy", fl->sub[i].code) && fl->sub[i].code && fl->sub[i].len)
			return 1;
	return 0;
}

/* ---- MARC: the record ---- */

static const char *material_of(const char *leader, const char *f008, size_t len008, int has502)
{
	char type = leader[6], level = leader[7];

	switch (type) {
	case 'a':
		if (level == 's' || level == 'i')
			return "serial";
		if (level == 'a' || level == 'b')
			return "article";
		if (has502 || (len008 >= 28 && memchr(f008 + 24, 'm', 4)))
			return "thesis";
		if (len008 >= 24 && (f008[23] == 'o' || f008[23] == 'q' || f008[23] == 's'))
			return "electronic";
		return "book";
	case 't':
		return "manuscript";
	case 'c':
	case 'd':
		return "music-score";
	case 'e':
	case 'f':
		return "map";
	case 'g':
		return "video";
	case 'i':
		return "sound";
	case 'j':
		return "music-recording";
	case 'k':
		return "image";
	case 'm':
		return "electronic";
	case 'o':
		return "kit";
	case 'p':
		return "mixed";
	case 'r':
		return "object";
	default:
		return "other";
	}
}

static int year_008(const char *f008, size_t len)
{
	char t;

	if (!f008 || len < 11)
		return 0;
	t = f008[6];
	if (!strchr("cdeikmpqrstu", t) || !t)
		return 0;
	if (!is_digit(f008[7]) || !is_digit(f008[8]) || !is_digit(f008[9]) || !is_digit(f008[10]))
		return 0;
	{
		int y = (f008[7] - '0') * 1000 + (f008[8] - '0') * 100 + (f008[9] - '0') * 10 +
			(f008[10] - '0');

		return y >= 1 && y <= 2100 ? y : 0;
	}
}

/* Authority / classification / community information records: the heading. */
static int marc_nonbib(struct ex *x, const struct mc_marc *m)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < m->nfields && !rc; i++) {
		const struct mc_field *fl = &m->fields[i];
		int tag = tag_num(fl);

		if (tag == 10 || tag == 35)
			rc = marc_ids(x, fl, tag);
		else if (tag == 852 || (tag == 952 && koha_item(fl)))
			rc = marc_holding(x, fl, tag);
		else if (tag == 153 && !x->f->title) {
			/* $a[-$c] then the caption hierarchy $h and caption $j. */
			size_t la = 0, lc = 0;
			const char *a = sub_first(fl, 'a', &la), *c = sub_first(fl, 'c', &lc);
			const char *path = join_codes(x, fl, "hj", " -- ", TRIM_EACH, 0, &rc);
			struct sb b;

			if (rc)
				break;
			rc = sb_new(x, &b, la + lc + (path ? strlen(path) : 0) + 4);
			if (rc)
				break;
			if (a) {
				trim_ws(&a, &la);
				sb_text(&b, a, la);
			}
			if (c) {
				trim_ws(&c, &lc);
				sb_raw(&b, "-", 1);
				sb_text(&b, c, lc);
			}
			if (path) {
				if (b.len)
					sb_raw(&b, " ", 1);
				sb_raw(&b, path, strlen(path));
			}
			x->f->title = b.len ? b.p : NULL;
		} else if (tag >= 100 && tag < 200 && !x->f->title) {
			x->f->title = heading(x, fl, "w", &rc);
		}
	}
	x->f->material = "other";
	return rc;
}

/* danMARC2 (the Danish national format, which ISO 2709 files from Danish
 * sources use): 001 and 008 carry subfields there, and many tags mean other
 * things than in MARC 21 (010 is not an LCCN; 100 is $a surname, $h forename).
 * Only the fields whose meaning is certain are taken. */
static int is_danmarc(const struct mc_marc *m)
{
	const struct mc_field *f = mc_marc_first(m, "001");

	return f && !f->value && f->nsub > 0;
}

static const struct part_rule danmarc_title_rules[] = {
	{ 'a', " : " }, { 'c', " : " }, { 0, NULL },
};

static int danmarc_name(struct ex *x, const struct mc_field *fl, int main_entry)
{
	size_t al = 0, hl = 0;
	const char *a = sub_first(fl, 'a', &al), *h = sub_first(fl, 'h', &hl);
	struct sb b;
	int rc;

	if (!a)
		return 0;
	trim_ws(&a, &al);
	isbd_trim(a, &al, 0, NULL);
	if (h) {
		trim_ws(&h, &hl);
		isbd_trim(h, &hl, 0, NULL);
	}
	rc = sb_new(x, &b, al + hl + 2);
	if (rc)
		return rc;
	sb_text(&b, a, al);
	if (h && hl) {
		sb_raw(&b, ", ", 2);
		sb_text(&b, h, hl);
	}
	return push_name(x, b.len ? b.p : NULL, MC_NAME_PERSONAL, main_entry, NULL, NULL);
}

static int danmarc_extract(struct ex *x, const struct mc_marc *m)
{
	struct mc_fields *f = x->f;
	const struct mc_field *pub = NULL;
	size_t i, k;
	int rc = 0;

	for (i = 0; i < m->nfields && !rc; i++) {
		const struct mc_field *fl = &m->fields[i];
		int tag = tag_num(fl);

		switch (tag) {
		case 8: /* $l language */
		case 41: /* $a languages */
			for (k = 0; k < fl->nsub && !rc; k++)
				if (fl->sub[k].code == (tag == 8 ? 'l' : 'a'))
					rc = add_lang(x, fl->sub[k].value, fl->sub[k].len);
			break;
		case 21: /* ISBN */
			for (k = 0; k < fl->nsub && !rc; k++) {
				char i13[14];
				const char *v;

				if (fl->sub[k].code != 'a')
					continue;
				if (mc_isbn_normalise(fl->sub[k].value, fl->sub[k].len, i13) == 0) {
					v = mc_arena_strndup(x->a, i13, 13);
					rc = v ? push_tv(x, &f->ids, &x->ids, "isbn", v) : -ENOMEM;
				} else {
					v = clean_isbd(x, fl->sub[k].value, fl->sub[k].len, KEEP_PERIOD, &rc);
					if (!rc)
						rc = push_tv(x, &f->ids, &x->ids, "isbn-invalid", v);
				}
			}
			break;
		case 100:
		case 700:
			rc = danmarc_name(x, fl, tag == 100);
			break;
		case 110:
		case 710:
			rc = push_name(x, join_codes(x, fl, "a", " ", TRIM_EACH, 0, &rc),
				       MC_NAME_CORPORATE, tag == 110, NULL, NULL);
			break;
		case 245:
			if (!f->title) {
				f->title = join_isbd(x, fl, danmarc_title_rules, NULL, ":;=", 0, &rc);
				if (!rc)
					f->responsibility = join_codes(x, fl, "def", " ; ", TRIM_EACH, 0, &rc);
			}
			break;
		case 250:
			if (!f->edition)
				f->edition = join_codes(x, fl, "a", " ", TRIM_EACH, 0, &rc);
			break;
		case 260:
			if (!pub)
				pub = fl;
			break;
		case 300:
			if (!f->extent)
				f->extent = join_isbd(x, fl, extent_rules, NULL, ":;+", 0, &rc);
			break;
		case 652: { /* DK5 class number */
			const char *v = join_codes(x, fl, "m", " ", TRIM_EACH, KEEP_PERIOD, &rc);

			if (!rc && !v)
				v = join_codes(x, fl, "a", " ", TRIM_EACH, KEEP_PERIOD, &rc);
			if (!rc)
				rc = push_tv(x, &f->classes, &x->classes, "other:dk5", v);
			break;
		}
		default:
			if (tag >= 500 && tag < 600)
				rc = marc_note(x, fl, tag);
			break;
		}
	}
	if (!rc)
		rc = marc_publication(x, pub);
	if (rc)
		return rc;
	f->year = year_in(f->date);
	f->material = material_of(m->leader, "", 0, 0);
	return 0;
}

static int marc_extract(struct ex *x, const struct mc_marc *m)
{
	struct mc_fields *f = x->f;
	const struct mc_field *f008 = NULL, *pub260 = NULL, *pub264 = NULL, *pub264any = NULL;
	const char *leader = m->leader;
	size_t i, len008 = 0;
	int rc = 0, has502 = 0;

	if (strchr("zwq", leader[6]) && leader[6])
		return marc_nonbib(x, m);
	if (is_danmarc(m))
		return danmarc_extract(x, m);

	f008 = mc_marc_first(m, "008");
	if (f008 && f008->value) {
		len008 = f008->len;
		if (len008 >= 38)
			rc = add_lang(x, f008->value + 35, 3);
		if (rc)
			return rc;
	} else {
		f008 = NULL;
	}

	for (i = 0; i < m->nfields && !rc; i++) {
		const struct mc_field *fl = &m->fields[i];
		int tag = tag_num(fl);

		if (tag < 10)
			continue;  /* control fields, non-numeric tags */
		switch (tag) {
		case 10: case 15: case 16: case 20: case 22: case 24: case 35:
			rc = marc_ids(x, fl, tag);
			break;
		case 41: {
			size_t k;

			for (k = 0; k < fl->nsub && !rc; k++) {
				const char *v = fl->sub[k].value;
				size_t len = fl->sub[k].len, j;

				if (fl->sub[k].code != 'a' && fl->sub[k].code != 'd')
					continue;
				trim_ws(&v, &len);
				if (len % 3 == 0) {
					for (j = 0; j + 3 <= len && !rc; j += 3)
						rc = add_lang(x, v + j, 3);
				} else {
					rc = add_lang(x, v, len);
				}
			}
			break;
		}
		case 50: case 80: case 82: case 84:
			rc = marc_classes(x, fl, tag);
			break;
		case 100:
			rc = marc_name(x, fl, MC_NAME_PERSONAL, 1);
			break;
		case 110:
			rc = marc_name(x, fl, MC_NAME_CORPORATE, 1);
			break;
		case 111:
			rc = marc_name(x, fl, MC_NAME_MEETING, 1);
			break;
		case 700:
			rc = marc_name(x, fl, MC_NAME_PERSONAL, 0);
			break;
		case 710:
			rc = marc_name(x, fl, MC_NAME_CORPORATE, 0);
			break;
		case 711:
			rc = marc_name(x, fl, MC_NAME_MEETING, 0);
			break;
		case 720:
			rc = marc_name(x, fl, fl->ind1 == '2' ? MC_NAME_CORPORATE : MC_NAME_PERSONAL, 0);
			break;
		case 245:
			if (!f->title && !f->responsibility)
				rc = marc_title(x, fl);
			break;
		case 250:
			if (!f->edition)
				f->edition = join_isbd(x, fl, edition_rules, NULL, "/=,", KEEP_PERIOD, &rc);
			break;
		case 260:
			if (!pub260)
				pub260 = fl;
			break;
		case 264:
			if (fl->ind2 == '1' && !pub264)
				pub264 = fl;
			if (!pub264any)
				pub264any = fl;
			break;
		case 300:
			if (!f->extent)
				f->extent = join_isbd(x, fl, extent_rules, NULL, ":;+", 0, &rc);
			break;
		case 440:
		case 490:
			rc = marc_series(x, fl, "anp");
			break;
		case 800:
			rc = marc_series(x, fl, "abcdqtnplfkmors");
			break;
		case 810:
			rc = marc_series(x, fl, "abcdtnplfkmors");
			break;
		case 811:
			rc = marc_series(x, fl, "acdenqtplfkmors");
			break;
		case 830:
			rc = marc_series(x, fl, "anp");
			break;
		case 856:
			rc = marc_links(x, fl);
			break;
		case 852:
		case 952:
			if (tag == 852 || koha_item(fl))
				rc = marc_holding(x, fl, tag);
			break;
		case 600: case 610: case 611: case 630: case 647: case 648: case 650: case 651:
		case 653: case 654: case 655: case 656: case 657: case 658: case 662:
			rc = marc_subject(x, fl, tag);
			break;
		default:
			if (tag >= 500 && tag < 600) {
				if (tag == 502)
					has502 = 1;
				rc = marc_note(x, fl, tag);
			}
			break;
		}
	}
	if (rc)
		return rc;
	rc = marc_publication(x, pub264 ? pub264 : pub260 ? pub260 : pub264any);
	if (rc)
		return rc;
	f->year = year_008(f008 ? f008->value : NULL, len008);
	if (!f->year)
		f->year = year_in(f->date);
	f->material = material_of(leader, f008 ? f008->value : "", len008, has502);
	return 0;
}

/* ---- Dublin Core ---- */

static int is_url(const char *s, size_t len)
{
	return prefix_ci(s, len, "http://") || prefix_ci(s, len, "https://") ||
	       prefix_ci(s, len, "ftp://");
}

/* hdl:, doi:, info:doi/ and bare DOIs as resolvable URLs. NULL if not one. */
static const char *pid_url(struct ex *x, const char *s, size_t len, int *rc)
{
	const char *base = NULL;
	size_t skip = 0;

	*rc = 0;
	if (prefix_ci(s, len, "hdl:")) {
		base = "https://hdl.handle.net/";
		skip = 4;
	} else if (prefix_ci(s, len, "doi:")) {
		base = "https://doi.org/";
		skip = 4;
	} else if (prefix_ci(s, len, "info:doi/")) {
		base = "https://doi.org/";
		skip = 9;
	} else if (len > 8 && s[0] == '1' && s[1] == '0' && s[2] == '.' && is_digit(s[3]) &&
		   memchr(s, '/', len) && !memchr(s, ' ', len)) {
		base = "https://doi.org/";
	}
	if (!base)
		return NULL;
	s += skip;
	len -= skip;
	trim_ws(&s, &len);
	if (!len)
		return NULL;
	s = mc_arena_printf(x->a, "%s%.*s", base, (int)len, s);
	if (!s)
		*rc = -ENOMEM;
	return s;
}

static int dc_identifier(struct ex *x, const char *v, size_t len)
{
	char i13[14], issn[10];
	const char *out;
	int rc = 0;

	trim_ws(&v, &len);
	if (!len || (len == 1 && (v[0] == '-' || v[0] == '.')))
		return 0;
	if (mc_isbn_normalise(v, len, i13) == 0) {
		out = mc_arena_strndup(x->a, i13, 13);
		return out ? push_tv(x, &x->f->ids, &x->ids, "isbn", out) : -ENOMEM;
	}
	if (prefix_ci(v, len, "isbn") || prefix_ci(v, len, "urn:isbn:")) {
		out = clean(x, v, len, &rc);
		return rc ? rc : push_tv(x, &x->f->ids, &x->ids, "isbn-invalid", out);
	}
	if (mc_issn_normalise(v, len, issn) == 0) {
		out = mc_arena_strndup(x->a, issn, 9);
		return out ? push_tv(x, &x->f->ids, &x->ids, "issn", out) : -ENOMEM;
	}
	if (prefix_ci(v, len, "issn") || prefix_ci(v, len, "urn:issn:")) {
		out = clean(x, v, len, &rc);
		return rc ? rc : push_tv(x, &x->f->ids, &x->ids, "issn-invalid", out);
	}
	if (is_url(v, len)) {
		out = clean(x, v, len, &rc);
		return rc ? rc : push_link(x, out, NULL);
	}
	out = pid_url(x, v, len, &rc);
	if (rc)
		return rc;
	if (out)
		return push_link(x, out, NULL);
	out = clean(x, v, len, &rc);
	if (rc)
		return rc;
	if (len > 40 && memchr(v, ' ', len))
		return push_str(x, &x->f->notes, &x->notes, out);  /* a citation */
	return push_tv(x, &x->f->ids, &x->ids, "control", out);
}

/* Does a dc:format value read as a physical extent? */
static int looks_like_extent(const char *s, size_t len)
{
	static const char *const units[] = {
		"p.", "pp", "pages", "page", "tr.", "trang", "cm", "leaves", "l.", "v.", "vol",
		"tập", "tờ", "sheets", "tr", NULL,
	};
	size_t i, k;
	int digit = 0;

	if (memchr(s, '/', len) || is_url(s, len))
		return 0;
	for (i = 0; i < len; i++)
		if (is_digit(s[i]))
			digit = 1;
	if (!digit)
		return 0;
	for (i = 0; i < len; i++) {
		if (i > 0 && !is_ws(s[i - 1]) && !is_digit(s[i - 1]))
			continue;  /* a unit starts a word */
		for (k = 0; units[k]; k++) {
			size_t n = strlen(units[k]);

			if (len - i >= n && eq_ci(s + i, n, units[k]) &&
			    (i + n == len || !is_alpha(s[i + n])))
				return 1;
		}
	}
	return 0;
}

static int dc_format(struct ex *x, const char *v, size_t len)
{
	const char *sp, *url;
	int rc = 0;

	trim_ws(&v, &len);
	if (!len)
		return 0;
	/* DSpace: "application/pdf https://host/retrieve/6/file.pdf" */
	sp = memchr(v, ' ', len);
	if (sp && is_url(sp + 1, len - (size_t)(sp + 1 - v))) {
		const char *label = mc_arena_strndup(x->a, v, (size_t)(sp - v));

		url = clean(x, sp + 1, len - (size_t)(sp + 1 - v), &rc);
		if (!label)
			return -ENOMEM;
		return rc ? rc : push_link(x, url, label);
	}
	if (is_url(v, len)) {
		url = clean(x, v, len, &rc);
		return rc ? rc : push_link(x, url, NULL);
	}
	if (!x->f->extent && looks_like_extent(v, len))
		x->f->extent = clean_isbd(x, v, len, 0, &rc);
	return rc;
}

struct typemap {
	const char *from, *to;
};

static const struct typemap dc_types[] = {
	{ "text", "book" }, { "book", "book" }, { "monograph", "book" }, { "working paper", "book" },
	{ "technical report", "book" }, { "report", "book" }, { "inaugural address", "book" },
	{ "lecture", "book" }, { "sách", "book" }, { "article", "article" },
	{ "journal article", "article" }, { "preprint", "article" }, { "book chapter", "article" },
	{ "bài báo", "article" }, { "conference paper", "article" }, { "thesis", "thesis" },
	{ "dissertation", "thesis" }, { "doctoral thesis", "thesis" }, { "master thesis", "thesis" },
	{ "luận văn", "thesis" }, { "luận án", "thesis" }, { "khóa luận", "thesis" },
	{ "serial", "serial" }, { "journal", "serial" }, { "periodical", "serial" },
	{ "tạp chí", "serial" }, { "báo", "serial" },
	{ "image", "image" }, { "stillimage", "image" }, { "still image", "image" },
	{ "photograph", "image" }, { "movingimage", "video" }, { "moving image", "video" },
	{ "video", "video" }, { "sound", "sound" }, { "audio", "sound" }, { "map", "map" },
	{ "cartographic", "map" }, { "score", "music-score" }, { "dataset", "electronic" },
	{ "software", "electronic" }, { "interactiveresource", "electronic" },
	{ "interactive resource", "electronic" }, { "physicalobject", "object" },
	{ "physical object", "object" }, { "collection", "mixed" }, { "manuscript", "manuscript" },
	{ NULL, NULL },
};

static const char *dc_type(const char *s, size_t len)
{
	size_t i;

	trim_ws(&s, &len);
	/* Vietnamese terms compare byte-wise: NFC and usually lower case. */
	for (i = 0; dc_types[i].from; i++)
		if (eq_ci(s, len, dc_types[i].from))
			return dc_types[i].to;
	return NULL;
}

static int dc_extract(struct ex *x, const struct mc_dc *dc)
{
	struct mc_fields *f = x->f;
	const char *date_any = NULL, *material = NULL;
	struct dedup creators = { 0 };
	size_t i;
	int rc = 0, ncreators = 0, had_type = 0;

	/* Creators first, so that contributors repeating them can be skipped. */
	for (i = 0; i < dc->n && !rc; i++) {
		const struct mc_dc_elem *e = &dc->elems[i];
		const char *v;

		if (strcmp(e->name, "creator") != 0)
			continue;
		v = clean_isbd(x, e->value, e->len, KEEP_PERIOD, &rc);
		if (rc || !v)
			continue;
		rc = dedup_add(x, &creators, NULL, v);
		if (rc == 1)
			rc = push_name(x, v, MC_NAME_PERSONAL, ncreators++ == 0, NULL, NULL);
	}
	for (i = 0; i < dc->n && !rc; i++) {
		const struct mc_dc_elem *e = &dc->elems[i];
		const char *n = e->name, *v = e->value;
		size_t len = e->len;

		if (!strcmp(n, "title")) {
			if (!f->title) {
				f->title = clean_isbd(x, v, len, 0, &rc);
			} else {
				v = clean(x, v, len, &rc);
				if (!rc)
					rc = push_str(x, &f->notes, &x->notes, v);
			}
		} else if (!strcmp(n, "contributor")) {
			v = clean_isbd(x, v, len, KEEP_PERIOD, &rc);
			if (!rc && v) {
				rc = dedup_add(x, &creators, NULL, v);
				if (rc == 1)
					rc = push_name(x, v, MC_NAME_PERSONAL, 0, NULL, NULL);
			}
		} else if (!strcmp(n, "subject")) {
			size_t a = 0, b;

			while (a <= len && !rc) {
				const char *s;

				for (b = a; b < len && v[b] != ';'; b++)
					;
				s = clean_isbd(x, v + a, b - a, 0, &rc);
				if (!rc)
					rc = push_str(x, &f->subjects, &x->subjects, s);
				a = b + 1;
			}
		} else if (!strcmp(n, "description")) {
			v = clean(x, v, len, &rc);
			if (!rc)
				rc = push_str(x, &f->notes, &x->notes, v);
		} else if (!strcmp(n, "publisher")) {
			if (!f->publisher)
				f->publisher = clean_isbd(x, v, len, KEEP_PERIOD, &rc);
		} else if (!strcmp(n, "date")) {
			const char *d = clean(x, v, len, &rc);

			if (d && !date_any)
				date_any = d;
			if (d && !f->date && !strchr(d, 'T'))
				f->date = d;
		} else if (!strcmp(n, "type")) {
			const char *m = dc_type(v, len);

			had_type = 1;
			if (m && !material)
				material = m;
		} else if (!strcmp(n, "format")) {
			rc = dc_format(x, v, len);
		} else if (!strcmp(n, "identifier")) {
			rc = dc_identifier(x, v, len);
		} else if (!strcmp(n, "language")) {
			trim_ws(&v, &len);
			rc = add_lang(x, v, len);
		} else if (!strcmp(n, "relation")) {
			trim_ws(&v, &len);
			if (is_url(v, len)) {
				v = clean(x, v, len, &rc);
				if (!rc)
					rc = push_link(x, v, NULL);
			} else if (memchr(v, ';', len)) {
				/* DSpace "Series;Number" */
				const char *semi = memchr(v, ';', len);
				const char *t, *num = NULL;
				size_t tl = (size_t)(semi - v), nl = len - tl - 1;
				struct sb b;

				t = clean_isbd(x, v, tl, 0, &rc);
				if (!rc)
					num = clean_isbd(x, semi + 1, nl, 0, &rc);
				if (!rc && t) {
					rc = sb_new(x, &b, tl + nl + 3);
					if (!rc) {
						sb_raw(&b, t, strlen(t));
						if (num) {
							sb_raw(&b, " ; ", 3);
							sb_raw(&b, num, strlen(num));
						}
						rc = push_str(x, &f->series, &x->series, b.p);
					}
				}
			} else {
				v = clean(x, v, len, &rc);
				if (!rc)
					rc = push_str(x, &f->notes, &x->notes, v);
			}
		}
		/* rights, coverage, source: not used */
	}
	if (rc)
		return rc;
	if (!f->date)
		f->date = date_any;
	f->year = year_in(f->date);
	(void)had_type;
	f->material = material ? material : "other";
	return 0;
}

/* Fill r->f from r->marc or r->dc (cleared first; every string in
 * r->arena, living as long as the record). 0, -ENOMEM, or MC_E_TOOBIG when
 * the record's arena cap is reached; on failure r->f is left empty and err
 * (optional) names the record. */
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
		rc = marc_extract(&x, r->marc);
	else if (r->format == MC_FMT_OAI_DC && r->dc)
		rc = dc_extract(&x, r->dc);
	else if (r->marc)
		rc = marc_extract(&x, r->marc);
	else if (r->dc)
		rc = dc_extract(&x, r->dc);
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
