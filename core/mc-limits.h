/* mc-limits.h — every size that input controls, in one place.
 *
 * A value past one of these is an error naming the record (MC_E_TOOBIG),
 * never a crash or an unbounded allocation. The per-record caps
 * (MC_MAX_RECORD_BYTES, MC_MAX_FIELDS, MC_MAX_RECORD_SUBFIELDS,
 * MC_MAX_DC_ELEMENTS, MC_MAX_ARENA_BYTES) and the per-field caps
 * (MC_MAX_FIELD_BYTES, MC_MAX_SUBFIELDS) make that one record bad: it is
 * reported, quarantined and counted, and the records after it are read. */
#ifndef MC_LIMITS_H
#define MC_LIMITS_H

#define MC_MAX_RECORD_BYTES    (4u << 20)   /* one record, as read (ISO 2709 allows 99,999) */
#define MC_MAX_FIELD_BYTES     (256u << 10) /* one MARC field / subfield / DC element value */
#define MC_MAX_FIELDS          10000        /* fields in one MARC record */
#define MC_MAX_SUBFIELDS       2000         /* subfields in one field */
#define MC_MAX_RECORD_SUBFIELDS 100000      /* subfields in one MARC record, all fields together */
#define MC_MAX_DC_ELEMENTS     10000        /* elements in one oai_dc record */
#define MC_MAX_ID_BYTES        512          /* local identifier, OAI identifier */
#define MC_MAX_SOURCE_ID       63           /* source id: [A-Za-z0-9._-]{1,63} */
#define MC_MAX_XML_DEPTH       64           /* element nesting in any XML we read */
#define MC_MAX_ARENA_BYTES     (64u << 20)  /* per-record arena */
#define MC_MAX_ERRORS_REPORTED 1000         /* per import run, details beyond are counted only */
#define MC_MAX_CONFIG_SOURCES  10000
#define MC_MAX_LINE_BYTES      (64u << 10)  /* a text line in config or lists */
#define MC_MAX_HARVEST_STALE_PAGES 3        /* list pages in a row that bring nothing new
                                               (token and identifiers met before): a loop */

#endif
