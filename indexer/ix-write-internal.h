/* ix-write-internal.h — the C side of the Xapian writing shim
 * (xapian-write.cc), private to indexer/.
 *
 * Plain C: no Xapian type appears here. Every function catches every
 * exception: Xapian errors become MC_E_STORE (MC_E_LOCKED when another
 * writer holds the database) with "Xapian <type>: <message>" in err->msg,
 * std::bad_alloc becomes -ENOMEM; nothing is thrown out of the shim. */
#ifndef IX_WRITE_INTERNAL_H
#define IX_WRITE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "mc-error.h"
#include "mc-buf.h"

/* Xapian's longest term, in bytes: longer terms are not indexed (skipped
 * by ixw_doc_* with MC_E_TOOBIG, which callers ignore). */
#define IXW_TERM_MAX 240

struct ixw_db;
struct ixw_doc;

enum {
	IXW_CREATE = 1,   /* make the database when missing (the parent must exist) */
	IXW_NOSYNC = 2,   /* commits do not fsync (a database nobody reads yet: the
			     caller syncs its files before naming it in the stub) */
};
/* Open the glass database in directory dir for writing (flags above).
 * Caller closes with ixw_close. 0, MC_E_LOCKED (another writer has it),
 * MC_E_STORE, -ENOMEM. */
int ixw_open(const char *dir, unsigned flags, struct ixw_db **ret, struct mc_error *err);
/* Close without committing (changes since the last commit are dropped).
 * NULL is a no-op. */
void ixw_close(struct ixw_db *db);
/* Commit everything added since the last commit (documents, spelling,
 * metadata) as one Xapian revision. 0, MC_E_STORE, -ENOMEM. */
int ixw_commit(struct ixw_db *db, struct mc_error *err);
/* User metadata key into out (reset first). 0, MC_E_NOTFOUND (absent or
 * empty), MC_E_STORE, MC_E_TOOBIG, -ENOMEM. */
int ixw_meta_get(struct ixw_db *db, const char *key, struct mc_buf *out, struct mc_error *err);
/* Set user metadata key to value (NUL-terminated; committed with the next
 * ixw_commit). 0, MC_E_STORE, -ENOMEM. */
int ixw_meta_set(struct ixw_db *db, const char *key, const char *value, struct mc_error *err);
/* Documents in the database (as of the last commit and what is pending). */
uint64_t ixw_doc_count(struct ixw_db *db);
/* 1 if a document has term t (NUL-terminated), 0 if not, or an error. */
int ixw_has_term(struct ixw_db *db, const char *t, struct mc_error *err);

/* A document under construction. Caller frees with ixw_doc_free; reuse
 * with ixw_doc_clear. 0, -ENOMEM. */
int ixw_doc_new(struct ixw_doc **ret);
void ixw_doc_free(struct ixw_doc *d);
void ixw_doc_clear(struct ixw_doc *d);
/* Term t[0..n) at position pos (>= 1), wdf increased by wdf. 0,
 * MC_E_TOOBIG (term too long: not added), -ENOMEM. */
int ixw_doc_posting(struct ixw_doc *d, const char *t, size_t n, unsigned pos, unsigned wdf);
/* Term without position (wdf 0: a boolean term). Same returns. */
int ixw_doc_term(struct ixw_doc *d, const char *t, size_t n, unsigned wdf);
/* Value slot := v[0..n). 0, -ENOMEM. */
int ixw_doc_value(struct ixw_doc *d, unsigned slot, const void *v, size_t n);
/* Value slot := Xapian::sortable_serialise(x). 0, -ENOMEM. */
int ixw_doc_value_num(struct ixw_doc *d, unsigned slot, double x);
/* Document data := p[0..n). 0, -ENOMEM. */
int ixw_doc_data(struct ixw_doc *d, const void *p, size_t n);
/* A spelling word of this document (each once per document: a word's
 * spelling frequency is the number of documents that have it). 0,
 * MC_E_TOOBIG, -ENOMEM. */
int ixw_doc_spelling(struct ixw_doc *d, const char *w, size_t n);

/* Add d as a new document (a database being built from nothing: no
 * document has its unique term). d is only read. 0, MC_E_STORE, -ENOMEM. */
int ixw_add(struct ixw_db *db, const struct ixw_doc *d, struct mc_error *err);
/* Replace the document with unique term uterm by d (or add it): the old
 * document's spelling words (terms with a prefix in spell_prefixes, each a
 * NUL-terminated prefix, list ended by NULL, whose word is ASCII letters
 * and digits) are removed from the spelling table first. *replaced (may be
 * NULL) 1 when an old document was there. 0, MC_E_STORE, -ENOMEM. */
int ixw_replace(struct ixw_db *db, const char *uterm, const struct ixw_doc *d,
		const char *const *spell_prefixes, int *replaced, struct mc_error *err);
/* Delete the document with unique term uterm (its spelling words as
 * above). *deleted (may be NULL) 1 when there was one. 0, MC_E_STORE. */
int ixw_delete(struct ixw_db *db, const char *uterm, const char *const *spell_prefixes,
	       int *deleted, struct mc_error *err);

/* Call cb for each term of the document with unique term uterm, in term
 * order (t borrowed for the call; wdf its wdf). For tests and comparisons.
 * 0, MC_E_NOTFOUND, MC_E_STORE, cb's non-zero value. */
int ixw_doc_terms(struct ixw_db *db, const char *uterm,
		  int (*cb)(void *ctx, const char *t, size_t n, unsigned wdf), void *ctx,
		  struct mc_error *err);

/* Compact the databases in dirs[0..n) (built with ixw_add; closed) into a
 * new database in directory out (which must not exist): their documents
 * (renumbered), spelling tables (frequencies added), values. User
 * metadata is not carried over. 0, MC_E_STORE, -ENOMEM. */
int ixw_compact(const char *const *dirs, size_t n, const char *out, struct mc_error *err);

/* The spelling frequency of word w (0 when absent), or an error. */
int ixw_spelling_freq(struct ixw_db *db, const char *w, struct mc_error *err);

/* Read-only look at the database in dir: its metadata mucluc.cursor and
 * mucluc.record_cursor (0 when absent) and document count. 0, MC_E_STORE. */
int ixw_peek(const char *dir, uint64_t *cursor, uint64_t *rcursor, uint64_t *docs,
	     struct mc_error *err);

#ifdef __cplusplus
}
#endif

#endif
