/* extract-dc.c — oai_dc records (Dublin Core).
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
 * "Series;Number" (DSpace) -> series "Series ; Number"; else notes. rights, */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "extract-internal.h"

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
		return out ? mci_extract_push_tv(x, &x->f->ids, &x->ids, "isbn", out) : -ENOMEM;
	}
	if (prefix_ci(v, len, "isbn") || prefix_ci(v, len, "urn:isbn:")) {
		out = mci_extract_clean(x, v, len, &rc);
		return rc ? rc : mci_extract_push_tv(x, &x->f->ids, &x->ids, "isbn-invalid", out);
	}
	if (mc_issn_normalise(v, len, issn) == 0) {
		out = mc_arena_strndup(x->a, issn, 9);
		return out ? mci_extract_push_tv(x, &x->f->ids, &x->ids, "issn", out) : -ENOMEM;
	}
	if (prefix_ci(v, len, "issn") || prefix_ci(v, len, "urn:issn:")) {
		out = mci_extract_clean(x, v, len, &rc);
		return rc ? rc : mci_extract_push_tv(x, &x->f->ids, &x->ids, "issn-invalid", out);
	}
	if (is_url(v, len)) {
		out = mci_extract_clean(x, v, len, &rc);
		return rc ? rc : mci_extract_push_link(x, out, NULL);
	}
	out = pid_url(x, v, len, &rc);
	if (rc)
		return rc;
	if (out)
		return mci_extract_push_link(x, out, NULL);
	out = mci_extract_clean(x, v, len, &rc);
	if (rc)
		return rc;
	if (len > 40 && memchr(v, ' ', len))
		return mci_extract_push_str(x, &x->f->notes, &x->notes, out);  /* a citation */
	return mci_extract_push_tv(x, &x->f->ids, &x->ids, "control", out);
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

		url = mci_extract_clean(x, sp + 1, len - (size_t)(sp + 1 - v), &rc);
		if (!label)
			return -ENOMEM;
		return rc ? rc : mci_extract_push_link(x, url, label);
	}
	if (is_url(v, len)) {
		url = mci_extract_clean(x, v, len, &rc);
		return rc ? rc : mci_extract_push_link(x, url, NULL);
	}
	if (!x->f->extent && looks_like_extent(v, len))
		x->f->extent = mci_extract_clean_isbd(x, v, len, 0, &rc);
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

int mci_extract_dc(struct ex *x, const struct mc_dc *dc)
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
		v = mci_extract_clean_isbd(x, e->value, e->len, KEEP_PERIOD, &rc);
		if (rc || !v)
			continue;
		rc = mci_extract_dedup_add(x, &creators, NULL, v);
		if (rc == 1)
			rc = mci_extract_push_name(x, v, MC_NAME_PERSONAL, ncreators++ == 0, NULL, NULL);
	}
	for (i = 0; i < dc->n && !rc; i++) {
		const struct mc_dc_elem *e = &dc->elems[i];
		const char *n = e->name, *v = e->value;
		size_t len = e->len;

		if (!strcmp(n, "title")) {
			if (!f->title) {
				f->title = mci_extract_clean_isbd(x, v, len, 0, &rc);
			} else {
				v = mci_extract_clean(x, v, len, &rc);
				if (!rc)
					rc = mci_extract_push_str(x, &f->notes, &x->notes, v);
			}
		} else if (!strcmp(n, "contributor")) {
			v = mci_extract_clean_isbd(x, v, len, KEEP_PERIOD, &rc);
			if (!rc && v) {
				rc = mci_extract_dedup_add(x, &creators, NULL, v);
				if (rc == 1)
					rc = mci_extract_push_name(x, v, MC_NAME_PERSONAL, 0, NULL, NULL);
			}
		} else if (!strcmp(n, "subject")) {
			size_t a = 0, b;

			while (a <= len && !rc) {
				const char *s;

				for (b = a; b < len && v[b] != ';'; b++)
					;
				s = mci_extract_clean_isbd(x, v + a, b - a, 0, &rc);
				if (!rc)
					rc = mci_extract_push_str(x, &f->subjects, &x->subjects, s);
				a = b + 1;
			}
		} else if (!strcmp(n, "description")) {
			v = mci_extract_clean(x, v, len, &rc);
			if (!rc)
				rc = mci_extract_push_str(x, &f->notes, &x->notes, v);
		} else if (!strcmp(n, "publisher")) {
			if (!f->publisher)
				f->publisher = mci_extract_clean_isbd(x, v, len, KEEP_PERIOD, &rc);
		} else if (!strcmp(n, "date")) {
			const char *d = mci_extract_clean(x, v, len, &rc);

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
			rc = mci_extract_lang(x, v, len);
		} else if (!strcmp(n, "relation")) {
			trim_ws(&v, &len);
			if (is_url(v, len)) {
				v = mci_extract_clean(x, v, len, &rc);
				if (!rc)
					rc = mci_extract_push_link(x, v, NULL);
			} else if (memchr(v, ';', len)) {
				/* DSpace "Series;Number" */
				const char *semi = memchr(v, ';', len);
				const char *t, *num = NULL;
				size_t tl = (size_t)(semi - v), nl = len - tl - 1;
				struct sb b;

				t = mci_extract_clean_isbd(x, v, tl, 0, &rc);
				if (!rc)
					num = mci_extract_clean_isbd(x, semi + 1, nl, 0, &rc);
				if (!rc && t) {
					rc = sb_new(x, &b, tl + nl + 3);
					if (!rc) {
						sb_raw(&b, t, strlen(t));
						if (num) {
							sb_raw(&b, " ; ", 3);
							sb_raw(&b, num, strlen(num));
						}
						rc = mci_extract_push_str(x, &f->series, &x->series, b.p);
					}
				}
			} else {
				v = mci_extract_clean(x, v, len, &rc);
				if (!rc)
					rc = mci_extract_push_str(x, &f->notes, &x->notes, v);
			}
		}
		/* rights, coverage, source: not used */
	}
	if (rc)
		return rc;
	if (!f->date)
		f->date = date_any;
	f->year = mci_extract_year_in(f->date);
	(void)had_type;
	f->material = material ? material : "other";
	return 0;
}
