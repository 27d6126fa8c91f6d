/* extract-marc.c — MARC 21 bibliographic records: title, names,
 * publication, languages, subjects, classes, series, notes, links, material,
 * and the walk over the fields (mci_extract_marc).
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
 * Authority (leader/06 z), classification (w) and community information (q)
 * records use different meanings for the same tags: only their heading
 * (1XX, as the title: "HF1-HF6182 Commerce" for 153), 010, 035 and holdings
 * are taken, material "other". */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "extract-internal.h"

/* ---- MARC: title, edition, extent ---- */

static const struct part_rule title_rules[] = {
	{ 'a', " : " }, { 'b', " : " }, { 'n', ". " }, { 'p', ". " }, { 0, NULL },
};

static const struct part_rule edition_rules[] = {
	{ 'a', " " }, { 'b', " / " }, { 0, NULL },
};

const struct part_rule mci_extract_extent_rules[] = {
	{ 'a', " ; " }, { 'b', " : " }, { 'c', " ; " }, { 'e', " + " },
	{ 'f', " " },   { 'g', " " },   { 0, NULL },
};

static int marc_title(struct ex *x, const struct mc_field *fl)
{
	int rc;

	x->f->title = mci_extract_join_isbd(x, fl, title_rules, "h", ":;=,.", 0, &rc);
	if (rc)
		return rc;
	x->f->responsibility = mci_extract_join_codes(x, fl, "c", " ", TRIM_EACH, 0, &rc);
	return rc;
}

/* ---- MARC: names ---- */

/* Role: $e (or $j for meetings) terms joined by ", ", else $4 codes. */
static const char *name_role(struct ex *x, const struct mc_field *fl, int kind, int *rc)
{
	const char *r = mci_extract_join_codes(x, fl, kind == MC_NAME_MEETING ? "j" : "e", ", ",
					       TRIM_EACH, 0, rc);

	if (r || *rc)
		return r;
	return mci_extract_join_codes(x, fl, "4", ", ", TRIM_EACH, 0, rc);
}

static int marc_name(struct ex *x, const struct mc_field *fl, int kind, int main_entry)
{
	const char *codes = kind == MC_NAME_PERSONAL ? "abcq" : kind == MC_NAME_CORPORATE ? "ab" : "aqen";
	const char *name, *dates, *role;
	int rc;

	name = mci_extract_join_codes(x, fl, codes, " ", TRIM_FINAL, 0, &rc);
	if (rc || !name)
		return rc;
	dates = mci_extract_join_codes(x, fl, "d", " ", TRIM_EACH, 0, &rc);
	if (rc)
		return rc;
	role = name_role(x, fl, kind, &rc);
	if (rc)
		return rc;
	/* A name repeated in name/title added entries (700 12 $a Rameau ... $t
	 * Dardanus) is one contributor: keep the first. */
	rc = mci_extract_dedup_add(x, &x->names, dates ? dates : "", name);
	if (rc <= 0)
		return rc;
	return mci_extract_push_name(x, name, kind, main_entry, role, dates);
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
		const char *sch = mci_extract_sub_first(fl, '2', &l);

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
			mci_extract_isbd_trim(v, &len, KEEP_PERIOD, NULL);
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
			rc = mci_extract_push_tv(x, &x->f->classes, &x->classes, type, out);
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

	*rc = sb_new(x, &b, mci_extract_field_bound(fl));
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
			mci_extract_isbd_trim(v, &len, 0, NULL);
		if (!len)
			continue;
		if (sub && in_main) {
			/* Close the main part: trim its final punctuation. */
			size_t l = b.len;

			mci_extract_isbd_trim(b.p, &l, 0, NULL);
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

		mci_extract_isbd_trim(b.p, &l, 0, NULL);
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
			s = mci_extract_clean_isbd(x, fl->sub[i].value, fl->sub[i].len, 0, &rc);
			if (!rc)
				rc = mci_extract_push_str(x, &x->f->subjects, &x->subjects, s);
		}
		return rc;
	}
	/* $e/$j/$4 are relators ($e is a subordinate unit in 611, $j the
	 * relator there); $h is a medium; $w control. */
	s = heading(x, fl, tag == 611 ? "jhw" : "ehw", &rc);
	if (rc)
		return rc;
	return mci_extract_push_str(x, &x->f->subjects, &x->subjects, s);
}

/* Series title (for 8XX the whole heading, name and title, as catalogued)
 * then " ; $v". */
static int marc_series(struct ex *x, const struct mc_field *fl, const char *codes)
{
	const char *t, *v;
	struct sb b;
	int rc;

	t = mci_extract_join_codes(x, fl, codes, " ", TRIM_FINAL, 0, &rc);
	if (rc || !t)
		return rc;
	v = mci_extract_join_codes(x, fl, "v", " ", TRIM_EACH, 0, &rc);
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
	return mci_extract_push_str(x, &x->f->series, &x->series, t);
}

int mci_extract_marc_note(struct ex *x, const struct mc_field *fl, int tag)
{
	size_t len = 0;
	const char *v;
	int rc;

	if ((tag == 541 || tag == 542 || tag == 561 || tag == 583) && fl->ind1 == '0')
		return 0;  /* marked private */
	v = mci_extract_sub_first(fl, 'a', &len);
	if (!v)
		return 0;
	v = mci_extract_clean(x, v, len, &rc);
	if (rc)
		return rc;
	return mci_extract_push_str(x, &x->f->notes, &x->notes, v);
}

static int marc_links(struct ex *x, const struct mc_field *fl)
{
	const char *label = NULL;
	size_t i, len = 0;
	int rc = 0;

	if ((label = mci_extract_sub_first(fl, 'y', &len)) ||
	    (label = mci_extract_sub_first(fl, '3', &len)) ||
	    (label = mci_extract_sub_first(fl, 'z', &len))) {
		label = mci_extract_clean_isbd(x, label, len, KEEP_PERIOD, &rc);
		if (rc)
			return rc;
	}
	for (i = 0; i < fl->nsub && !rc; i++) {
		const char *u;

		if (fl->sub[i].code != 'u')
			continue;
		u = mci_extract_clean(x, fl->sub[i].value, fl->sub[i].len, &rc);
		if (!rc)
			rc = mci_extract_push_link(x, u, label);
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
	mci_extract_isbd_trim(s, &len, KEEP_PERIOD, NULL);
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']' && !memchr(s + 1, ']', len - 2)) {
		s++;
		len -= 2;
	}
	unbalanced(&s, &len);
	trim_ws(&s, &len);
	mci_extract_isbd_trim(s, &len, KEEP_PERIOD, NULL);
	for (i = 0; unknown[i]; i++)
		if (eq_ci(s, len, unknown[i]))
			return NULL;
	return mci_extract_clean(x, s, len, rc);
}

/* First number of four digits (not part of a longer one) in 1400..2100. */
int mci_extract_year_in(const char *s)
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

int mci_extract_marc_publication(struct ex *x, const struct mc_field *fl)
{
	size_t len = 0;
	const char *v;
	int rc = 0;

	if (!fl)
		return 0;
	if ((v = mci_extract_sub_first(fl, 'a', &len))) {
		x->f->place = pub_value(x, v, len, &rc);
		if (rc)
			return rc;
	}
	if ((v = mci_extract_sub_first(fl, 'b', &len))) {
		x->f->publisher = pub_value(x, v, len, &rc);
		if (rc)
			return rc;
	}
	if ((v = mci_extract_sub_first(fl, 'c', &len))) {
		trim_ws(&v, &len);
		mci_extract_isbd_trim(v, &len, 0, NULL);
		unbalanced(&v, &len);
		x->f->date = mci_extract_clean_isbd(x, v, len, 0, &rc);
	}
	return rc;
}

/* ---- MARC: the record ---- */

const char *mci_extract_material(const char *leader, const char *f008, size_t len008, int has502)
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
		int tag = mci_extract_tag_num(fl);

		if (tag == 10 || tag == 35)
			rc = mci_extract_marc_ids(x, fl, tag);
		else if (tag == 852 || (tag == 952 && mci_extract_koha_item(fl)))
			rc = mci_extract_marc_holding(x, fl, tag);
		else if (tag == 153 && !x->f->title) {
			/* $a[-$c] then the caption hierarchy $h and caption $j. */
			size_t la = 0, lc = 0;
			const char *a = mci_extract_sub_first(fl, 'a', &la), *c = mci_extract_sub_first(fl, 'c', &lc);
			const char *path = mci_extract_join_codes(x, fl, "hj", " -- ", TRIM_EACH, 0, &rc);
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

int mci_extract_marc(struct ex *x, const struct mc_marc *m)
{
	struct mc_fields *f = x->f;
	const struct mc_field *f008 = NULL, *pub260 = NULL, *pub264 = NULL, *pub264any = NULL;
	const char *leader = m->leader;
	size_t i, len008 = 0;
	int rc = 0, has502 = 0;

	if (strchr("zwq", leader[6]) && leader[6])
		return marc_nonbib(x, m);
	if (mci_extract_is_danmarc(m))
		return mci_extract_danmarc(x, m);

	f008 = mc_marc_first(m, "008");
	if (f008 && f008->value) {
		len008 = f008->len;
		if (len008 >= 38)
			rc = mci_extract_lang(x, f008->value + 35, 3);
		if (rc)
			return rc;
	} else {
		f008 = NULL;
	}

	for (i = 0; i < m->nfields && !rc; i++) {
		const struct mc_field *fl = &m->fields[i];
		int tag = mci_extract_tag_num(fl);

		if (tag < 10)
			continue;  /* control fields, non-numeric tags */
		switch (tag) {
		case 10: case 15: case 16: case 20: case 22: case 24: case 35:
			rc = mci_extract_marc_ids(x, fl, tag);
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
						rc = mci_extract_lang(x, v + j, 3);
				} else {
					rc = mci_extract_lang(x, v, len);
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
				f->edition = mci_extract_join_isbd(x, fl, edition_rules, NULL, "/=,", KEEP_PERIOD, &rc);
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
				f->extent = mci_extract_join_isbd(x, fl, mci_extract_extent_rules, NULL, ":;+", 0, &rc);
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
			if (tag == 852 || mci_extract_koha_item(fl))
				rc = mci_extract_marc_holding(x, fl, tag);
			break;
		case 600: case 610: case 611: case 630: case 647: case 648: case 650: case 651:
		case 653: case 654: case 655: case 656: case 657: case 658: case 662:
			rc = marc_subject(x, fl, tag);
			break;
		default:
			if (tag >= 500 && tag < 600) {
				if (tag == 502)
					has502 = 1;
				rc = mci_extract_marc_note(x, fl, tag);
			}
			break;
		}
	}
	if (rc)
		return rc;
	rc = mci_extract_marc_publication(x, pub264 ? pub264 : pub260 ? pub260 : pub264any);
	if (rc)
		return rc;
	f->year = year_008(f008 ? f008->value : NULL, len008);
	if (!f->year)
		f->year = mci_extract_year_in(f->date);
	f->material = mci_extract_material(leader, f008 ? f008->value : "", len008, has502);
	return 0;
}
