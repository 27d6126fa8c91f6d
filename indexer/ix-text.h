/* ix-text.h — words of Vietnamese (and other) text for the index and the
 * query parser: both sides must cut and fold text the same way, so both use
 * these functions (schemas/index.md, "Words"). */
#ifndef IX_TEXT_H
#define IX_TEXT_H

#include <stddef.h>

#include "core.h"

/* Longest word kept, in bytes (longer words are cut at a character
 * boundary): term prefix + two words must stay under Xapian's 245 bytes. */
#define IX_WORD_MAX 64
/* The exact-title term (schemas/index.md, XZ): folded words joined by one
 * space, whole words up to this many bytes. */
#define IX_EXACT_TITLE_MAX 200

/* Call cb for each word of s[0..len) (UTF-8; invalid bytes separate words):
 * a run of letters, digits and combining marks. w is not NUL-terminated and
 * is borrowed for the call. cb returns non-zero to stop; that value is
 * returned, else 0. */
int ix_text_words(const char *s, size_t len, int (*cb)(void *ctx, const char *w, size_t n),
		  void *ctx);

/* The two forms of word w[0..n) (one word as ix_text_words gives it),
 * appended to acc and fold (both are reset first; NUL-terminated):
 *  acc  — lower case, NFC, a Vietnamese tone mark placed by the "old"
 *         convention (hòa, thủy, khỏe; also "hoà" -> "hòa", "thuỷ" -> "thủy");
 *  fold — lower case, every diacritic removed, đ -> d.
 * A word that is not a Vietnamese syllable keeps its marks where they are.
 * 0 or -ENOMEM (MC_E_TOOBIG when a buffer's cap is reached). */
int ix_text_word_forms(const char *w, size_t n, struct mc_buf *acc, struct mc_buf *fold);

/* Length of the main title of t[0..len): before the first " : ", " = " or
 * " / " (the rule of the work key and the exact-title term,
 * schemas/index.md), or len. */
size_t ix_text_main_title_len(const char *t, size_t len);

/* Append the folded word w[0..n) to the exact-title term t (schemas/index.md,
 * XZ): t holds "XZ" and the words so far, joined by one space. 0 added; 1
 * the word does not fit in IX_EXACT_TITLE_MAX bytes (the term ends there);
 * -ENOMEM or MC_E_TOOBIG from t. The index and the query side both build
 * the term with it. */
int ix_text_exact_add(struct mc_buf *t, const char *w, size_t n);

/* 1 if w[0..n) has a letter outside ASCII (the reader typed diacritics). */
int ix_text_has_marks(const char *w, size_t n);

#endif
