/* extract-holdings.c — holdings: MARC 852 and Koha 952 items.
 *
 * Holdings: one per 852 ($a library, $b $c location, $k $h $i $m call
 * number (else $j), $p barcode, $z note) and per Koha 952 (a 952 with $b,
 * $o, $p or $y: LC uses 952 locally otherwise) ($a home branch,
 * $c location, $o call number, $p barcode, $z note; status from $0
 * withdrawn, $1 lost, $4 damaged, $7 not for loan (negative: on order), $q
 * on loan with its due date; NULL when none is set). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "extract-internal.h"

int mci_extract_marc_holding(struct ex *x, const struct mc_field *fl, int tag)
{
	struct mc_fields *f = x->f;
	struct mc_holding h;
	int rc = 0;

	memset(&h, 0, sizeof(h));
	if (tag == 852) {
		h.library = mci_extract_join_codes(x, fl, "a", " ", TRIM_EACH, KEEP_PERIOD, &rc);
		if (!rc)
			h.location = mci_extract_join_codes(x, fl, "bc", ", ", TRIM_EACH, KEEP_PERIOD, &rc);
		if (!rc) {
			/* $k prefix, $h classification, $i item, $m suffix; in
			 * that order whatever the field order. */
			static const char order[] = "khim";
			struct sb b;
			size_t k, i;

			rc = sb_new(x, &b, mci_extract_field_bound(fl));
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
				h.call_number = mci_extract_join_codes(x, fl, "j", " ", TRIM_NONE, 0, &rc);
		}
		if (!rc)
			h.barcode = mci_extract_join_codes(x, fl, "p", " ", TRIM_NONE, 0, &rc);
		if (!rc)
			h.note = mci_extract_join_codes(x, fl, "z", "; ", TRIM_NONE, 0, &rc);
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

		h.library = mci_extract_join_codes(x, fl, "a", " ", TRIM_NONE, 0, &rc);
		if (!rc)
			h.location = mci_extract_join_codes(x, fl, "c", " ", TRIM_NONE, 0, &rc);
		if (!rc)
			h.call_number = mci_extract_join_codes(x, fl, "o", " ", TRIM_NONE, 0, &rc);
		if (!rc)
			h.barcode = mci_extract_join_codes(x, fl, "p", " ", TRIM_NONE, 0, &rc);
		if (!rc)
			h.note = mci_extract_join_codes(x, fl, "z", "; ", TRIM_NONE, 0, &rc);
		if (!rc)
			rc = sb_new(x, &b, mci_extract_field_bound(fl) + 64);
		/* A fixed order, whatever the order of the subfields. */
		for (k = 0; !rc && k < sizeof(flags) / sizeof(flags[0]); k++) {
			const char *word = flags[k].word;

			v = mci_extract_sub_first(fl, flags[k].code, &len);
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
int mci_extract_koha_item(const struct mc_field *fl)
{
	size_t i;

	for (i = 0; i < fl->nsub; i++)
		if (strchr("bopy", fl->sub[i].code) && fl->sub[i].code && fl->sub[i].len)
			return 1;
	return 0;
}
