/* extract-danmarc.c — danMARC2 records.
 *
 * danMARC2 records (001 with subfields: the ISO 2709 sample's Danish record)
 * get a small mapping of their own: 245 $a $c title, $d $e $f
 * responsibility; 100/700 $a surname, $h forename ("Anderson, Bob"); 021
 * ISBN; 008 $l and 041 $a languages; 250, 260, 300, 5XX as in MARC 21; 652
 * DK5 class ("other:dk5"). Nothing else is guessed. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "extract-internal.h"

/* danMARC2 (the Danish national format, which ISO 2709 files from Danish
 * sources use): 001 and 008 carry subfields there, and many tags mean other
 * things than in MARC 21 (010 is not an LCCN; 100 is $a surname, $h forename).
 * Only the fields whose meaning is certain are taken. */
int mci_extract_is_danmarc(const struct mc_marc *m)
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
	const char *a = mci_extract_sub_first(fl, 'a', &al), *h = mci_extract_sub_first(fl, 'h', &hl);
	struct sb b;
	int rc;

	if (!a)
		return 0;
	trim_ws(&a, &al);
	mci_extract_isbd_trim(a, &al, 0, NULL);
	if (h) {
		trim_ws(&h, &hl);
		mci_extract_isbd_trim(h, &hl, 0, NULL);
	}
	rc = sb_new(x, &b, al + hl + 2);
	if (rc)
		return rc;
	sb_text(&b, a, al);
	if (h && hl) {
		sb_raw(&b, ", ", 2);
		sb_text(&b, h, hl);
	}
	return mci_extract_push_name(x, b.len ? b.p : NULL, MC_NAME_PERSONAL, main_entry, NULL, NULL);
}

int mci_extract_danmarc(struct ex *x, const struct mc_marc *m)
{
	struct mc_fields *f = x->f;
	const struct mc_field *pub = NULL;
	size_t i, k;
	int rc = 0;

	for (i = 0; i < m->nfields && !rc; i++) {
		const struct mc_field *fl = &m->fields[i];
		int tag = mci_extract_tag_num(fl);

		switch (tag) {
		case 8: /* $l language */
		case 41: /* $a languages */
			for (k = 0; k < fl->nsub && !rc; k++)
				if (fl->sub[k].code == (tag == 8 ? 'l' : 'a'))
					rc = mci_extract_lang(x, fl->sub[k].value, fl->sub[k].len);
			break;
		case 21: /* ISBN */
			for (k = 0; k < fl->nsub && !rc; k++) {
				char i13[14];
				const char *v;

				if (fl->sub[k].code != 'a')
					continue;
				if (mc_isbn_normalise(fl->sub[k].value, fl->sub[k].len, i13) == 0) {
					v = mc_arena_strndup(x->a, i13, 13);
					rc = v ? mci_extract_push_tv(x, &f->ids, &x->ids, "isbn", v) : -ENOMEM;
				} else {
					v = mci_extract_clean_isbd(x, fl->sub[k].value, fl->sub[k].len, KEEP_PERIOD, &rc);
					if (!rc)
						rc = mci_extract_push_tv(x, &f->ids, &x->ids, "isbn-invalid", v);
				}
			}
			break;
		case 100:
		case 700:
			rc = danmarc_name(x, fl, tag == 100);
			break;
		case 110:
		case 710:
			rc = mci_extract_push_name(x, mci_extract_join_codes(x, fl, "a", " ", TRIM_EACH,
									      0, &rc),
						   MC_NAME_CORPORATE, tag == 110, NULL, NULL);
			break;
		case 245:
			if (!f->title) {
				f->title = mci_extract_join_isbd(x, fl, danmarc_title_rules, NULL, ":;=", 0, &rc);
				if (!rc)
					f->responsibility = mci_extract_join_codes(x, fl, "def", " ; ", TRIM_EACH, 0, &rc);
			}
			break;
		case 250:
			if (!f->edition)
				f->edition = mci_extract_join_codes(x, fl, "a", " ", TRIM_EACH, 0, &rc);
			break;
		case 260:
			if (!pub)
				pub = fl;
			break;
		case 300:
			if (!f->extent)
				f->extent = mci_extract_join_isbd(x, fl, mci_extract_extent_rules, NULL, ":;+", 0, &rc);
			break;
		case 652: { /* DK5 class number */
			const char *v = mci_extract_join_codes(x, fl, "m", " ", TRIM_EACH, KEEP_PERIOD, &rc);

			if (!rc && !v)
				v = mci_extract_join_codes(x, fl, "a", " ", TRIM_EACH, KEEP_PERIOD, &rc);
			if (!rc)
				rc = mci_extract_push_tv(x, &f->classes, &x->classes, "other:dk5", v);
			break;
		}
		default:
			if (tag >= 500 && tag < 600)
				rc = mci_extract_marc_note(x, fl, tag);
			break;
		}
	}
	if (!rc)
		rc = mci_extract_marc_publication(x, pub);
	if (rc)
		return rc;
	f->year = mci_extract_year_in(f->date);
	f->material = mci_extract_material(m->leader, "", 0, 0);
	return 0;
}
