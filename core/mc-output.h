/* mc-output.h — writing records out: JSON (schemas/record.md), MARCXML
 * (MARC21slim), and the MARC line format of `mucluc show`.
 *
 * Every writer appends to a struct mc_buf (whose cap bounds the output) and
 * only reads the record. Output is UTF-8. */
#ifndef MC_OUTPUT_H
#define MC_OUTPUT_H

#include <stdint.h>

#include "mc-buf.h"
#include "mc-date.h"
#include "mc-record.h"

enum mc_json_flags {
	MC_JSON_METADATA = 1,  /* include "marc" / "dc": the record as stored */
	MC_JSON_PRETTY = 2,    /* indented, for people; default is one line */
};

/* Append the record as one JSON object (schemas/record.md): id, source,
 * local_id, status, datestamp, format, encoding and the extracted fields;
 * empty members are left out. A deleted record gives only id, source,
 * local_id, status and datestamp. No trailing newline.
 * 0, MC_E_ENCODING (a string that is not valid UTF-8), MC_E_TOOBIG (past
 * out->max), -ENOMEM. On failure out is left as it was. */
int mc_record_json(const struct mc_record *r, unsigned flags, struct mc_buf *out);

enum mc_marcxml_flags {
	MC_MARCXML_IN_COLLECTION = 1, /* leave out the xmlns (inside mc_marcxml_begin's wrapper) */
};

/* Append the XML declaration and <collection xmlns="http://www.loc.gov/MARC21/slim">.
 * 0, MC_E_TOOBIG, -ENOMEM. */
int mc_marcxml_begin(struct mc_buf *out);
/* Append </collection>. */
int mc_marcxml_end(struct mc_buf *out);

/* Append the record as <record> valid against MARC21slim.xsd: characters
 * not allowed in XML 1.0 are dropped, control fields come before data
 * fields, fields or subfields whose tag/code the schema refuses are left
 * out, and indicators it refuses become blanks. oai_dc records go through
 * the DC -> MARC crosswalk documented in schemas/record.md. A deleted record
 * (no metadata) appends nothing. 0, MC_E_TOOBIG, -ENOMEM; out unchanged on
 * failure. */
int mc_record_marcxml(const struct mc_record *r, unsigned flags, struct mc_buf *out);

/* Append the metadata in the line format of yaz-marcdump ("245 10 $a ...
 * $c ..."; leader first; oai_dc as "dc:title ..."). One line per field, each
 * ending in '\n'. 0, MC_E_TOOBIG, -ENOMEM. */
int mc_record_marc_text(const struct mc_record *r, struct mc_buf *out);

#endif
