/* extract-ids.c — identifiers of MARC 21 records (010 015 016 020 022 024 035).
 *
 * Identifiers: isbn (020 $a with a correct check digit, as 13 digits),
 * isbn-invalid (020 $z, or $a with a wrong check digit, as given), issn
 * (022 $a), issn-invalid (022 $y $z, or a bad $a), lccn (010 $a in the LC
 * normalised form: blanks and any "/..." revision suffix removed, "85-2"
 * becomes "85000002"), nbn (015 $a; 016 $a, as "agency:number" when $2 is
 * present), control (035 $a as given), std (024 $a, prefixed "isrc:",
 * "upc:", "ismn:", "ean:", "sici:" from ind1, or "$2:" when ind1 is 7).
 * Duplicates (same type and value) are dropped. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "extract-internal.h"

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

int mci_extract_marc_ids(struct ex *x, const struct mc_field *fl, int tag)
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
				out = mci_extract_clean_isbd(x, v, len, KEEP_PERIOD, &rc);
			}
			break;
		case 16:
			if (s->code == 'a') {
				size_t al = 0;
				const char *agency = mci_extract_sub_first(fl, '2', &al);

				type = "nbn";
				out = mci_extract_clean_isbd(x, v, len, KEEP_PERIOD, &rc);
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
				out = mci_extract_clean_isbd(x, v, len, KEEP_PERIOD, &rc);
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
				out = mci_extract_clean_isbd(x, v, len, KEEP_PERIOD, &rc);
			}
			break;
		}
		case 24:
			if (s->code == 'a') {
				static const char *const pre[] = { "isrc", "upc", "ismn", "ean", "sici" };
				const char *p = NULL;
				size_t pl = 0;

				type = "std";
				out = mci_extract_clean_isbd(x, v, len, KEEP_PERIOD, &rc);
				if (fl->ind1 >= '0' && fl->ind1 <= '4') {
					p = pre[fl->ind1 - '0'];
					pl = strlen(p);
				} else if (fl->ind1 == '7') {
					p = mci_extract_sub_first(fl, '2', &pl);
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
				out = mci_extract_clean(x, v, len, &rc);
			}
			break;
		default:
			break;
		}
		if (!rc && type && out)
			rc = mci_extract_push_tv(x, &x->f->ids, &x->ids, type, out);
	}
	return rc;
}
