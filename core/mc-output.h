/* mc-output.h — writing records out: JSON (schemas/record.md), MARCXML
 * (MARC21slim), and the MARC line format of `mucluc show`.
 *
 * Every writer appends to a struct mc_buf (whose cap bounds the output) and
 * only reads the record. Output is UTF-8. */
#ifndef MC_OUTPUT_H
#define MC_OUTPUT_H

#include <stdint.h>

#include "mc-buf.h"
#include "mc-config.h"
#include "mc-date.h"
#include "mc-record.h"
#include "mc-store.h"

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

/* ---- the catalogue report (`mucluc sources`, `mucluc stats`) ---- */

struct mc_report_source {
	char id[64];
	const struct mc_source *cfg;  /* NULL: records in the store, source no longer configured */
	uint64_t present, deleted;
	int64_t last_change;          /* 0: never */
};

/* Libraries and records grouped by type or by province. */
struct mc_report_group {
	const char *key;              /* type name, province as configured, or "unspecified" */
	uint64_t configured;          /* sources configured */
	uint64_t with_records;        /* of which have present records */
	uint64_t present, deleted;
};

struct mc_report {
	const char *catalogue;        /* [catalogue] name */
	struct mc_report_source *sources; /* configured ones in file order, then the others by id */
	size_t nsources;
	struct mc_report_group *by_type;  /* by first appearance in the config */
	size_t ntypes;
	struct mc_report_group *by_province; /* by first appearance in the config */
	size_t nprovinces;
	uint64_t configured, with_records, unconfigured;
	uint64_t present, deleted;
	struct mc_store_info store;
	uint64_t disk_bytes;          /* size of the store's files */
};

/* Join the configured sources with the store's per-source counts (one read
 * snapshot). Caller frees with mc_report_free; *ret set only on success.
 * Strings borrowed from c: c must outlive the report. 0, -ENOMEM, MC_E_STORE. */
int mc_report_build(const struct mc_config *c, struct mc_store *s, struct mc_report **ret,
		    struct mc_error *err);
void mc_report_free(struct mc_report *r);
/* Append the report as JSON (schemas/record.md, "stats"). flags: MC_JSON_PRETTY.
 * 0, MC_E_ENCODING, MC_E_TOOBIG, -ENOMEM. */
int mc_report_json(const struct mc_report *r, unsigned flags, struct mc_buf *out);

#endif
