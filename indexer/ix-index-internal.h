/* ix-index-internal.h — what the index writer's files share (private to
 * indexer/): the document builder (doc.c) used by the run (index.c). */
#ifndef IX_INDEX_INTERNAL_H
#define IX_INDEX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "mg.h"
#include "ix-index.h"
#include "ix-write-internal.h"

/* Members of one union read for its document (a larger union is indexed
 * from its first IX_DOC_MAX_MEMBERS public members, in member order). */
#define IX_DOC_MAX_MEMBERS 512u
/* Values of one field indexed per document (all members together). */
#define IX_DOC_MAX_VALUES 4096u
/* Document data JSON, bytes. */
#define IX_DOC_MAX_DATA (256u << 10)

/* Gap in term positions between fields and between values of a field. */
#define IX_POS_GAP 100u

/* Prefixes whose ASCII words are spelling words (schemas/index.md). */
extern const char *const ix_spell_prefixes[];

struct ix_docb;

/* A document builder for configuration cfg (borrowed; it must outlive the
 * builder); link as in struct ix_index_opts. Caller frees with
 * ix_docb_free. 0, -ENOMEM, MC_E_STORE (ICU collator for "vi" missing). */
int ix_docb_new(const struct mc_config *cfg, ix_link_fn link, void *link_ctx,
		struct ix_docb **ret, struct mc_error *err);
void ix_docb_free(struct ix_docb *b);

/* Build into doc (cleared first) the document of live union u (borrowed),
 * reading its members' records in snapshot r. 1: built; 0: the union has
 * no public member (no document); or an error (MC_E_CORRUPT, MC_E_STORE,
 * -ENOMEM; err names the record). */
int ix_docb_build(struct ix_docb *b, struct mc_reader *r, const struct mg_union_view *u,
		  struct ixw_doc *doc, struct mc_error *err);

/* Unique term of union id into buf (at least 24 bytes). */
void ix_uterm(uint64_t id, char *buf, size_t n);

#endif
