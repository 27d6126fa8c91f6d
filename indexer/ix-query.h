/* ix-query.h — the reader's query string as a tree (private to indexer/).
 *
 * Plain C, no Xapian: the parser can be fuzzed alone. The search side
 * (xapian-search.cc) turns the tree into a Xapian query. Syntax:
 *
 *   words            all of them (implicit AND)
 *   "a phrase"       the words at adjacent positions (an unclosed quote is
 *                    closed at the end of the query)
 *   a-b, a.b         a token of several words is a phrase too
 *   field:x          title: author: subject: isbn: year: and the Vietnamese
 *                    nhande: (title) tacgia: (author) chude: (subject)
 *                    namxb: (year); x may be a word, a phrase or a (group)
 *   year:1990..2000  a year range (..2000 and 1990.. are open; 1990-2000 too)
 *   AND OR NOT       upper case (VÀ HOẶC KHÔNG too); -word is NOT word
 *   ( )              grouping; a missing ) is added at the end, a stray )
 *                    dropped
 *   word*            a prefix (at least IX_QUERY_MIN_PREFIX bytes folded)
 *   978-604-...      a token of digits and hyphens that is a valid ISBN-10 or
 *                    ISBN-13 is an ISBN query (also after the word "ISBN")
 *
 * Every limit of ix-search.h that the text controls is checked here: bytes,
 * terms, depth. Operators in the wrong place (a leading AND, "a OR", a
 * trailing NOT) are ignored. */
#ifndef IX_QUERY_H
#define IX_QUERY_H

#include <stddef.h>

#include "core.h"

#define IX_QUERY_MIN_PREFIX 2u  /* folded bytes before a trailing * */

enum ix_qfield { IX_QF_ANY = 0, IX_QF_TITLE, IX_QF_AUTHOR, IX_QF_SUBJECT };

enum ix_qkind {
	IX_Q_WORD,    /* one word: words[0] */
	IX_Q_PHRASE,  /* words[0..nwords), nwords >= 2 */
	IX_Q_ISBN,    /* isbn */
	IX_Q_YEAR,    /* year_from..year_to (0: open) */
	IX_Q_AND,     /* kids */
	IX_Q_OR,      /* kids */
	IX_Q_NOT,     /* everything but kids[0] (under an AND: AND NOT) */
};

struct ix_qword {
	const char *raw;   /* as typed, one word as ix_text_words cuts it */
	const char *acc;   /* accented form (ix_text_word_forms) */
	const char *fold;  /* folded form */
	int marks;         /* typed with diacritics (ix_text_has_marks) */
	const char *fix;   /* set by the search side: the spelling correction, or NULL */
};

struct ix_qnode {
	enum ix_qkind kind;
	enum ix_qfield field;         /* WORD, PHRASE */
	int wildcard;                 /* WORD: a trailing *, fold is the prefix */
	struct ix_qword *words;
	size_t nwords;
	char isbn[14];                /* ISBN: 13 digits */
	int year_from, year_to;       /* YEAR */
	struct ix_qnode **kids;
	size_t nkids;
};

struct ix_query {
	struct mc_arena *arena;       /* everything below lives in it */
	struct ix_qnode *root;        /* NULL: nothing to search for (empty query) */
	unsigned nterms;              /* words, ISBNs and years counted */
	unsigned depth;               /* deepest nesting of ( ) and NOT */
	int repaired;                 /* an unclosed quote or parenthesis was fixed */
};

/* Parse q[0..len). *ret (caller frees with ix_query_free) is set only on
 * success. 0; MC_E_TOOBIG (more than IX_MAX_QUERY_BYTES, IX_MAX_QUERY_TERMS
 * or IX_MAX_QUERY_DEPTH); MC_E_USAGE (invalid UTF-8, a NUL byte, a bad
 * isbn: or year: value, a prefix too short); -ENOMEM. err->msg is a message
 * for the reader. */
int ix_query_parse(const char *q, size_t len, struct ix_query **ret, struct mc_error *err);
/* Free. NULL is a no-op. */
void ix_query_free(struct ix_query *q);

/* The query as text a reader may type again, with every word's fix (when
 * set) in place of what was typed: the did-you-mean line. Appends to out.
 * 0, -ENOMEM, MC_E_TOOBIG. */
int ix_query_format(const struct ix_query *q, struct mc_buf *out);
/* The tree in a compact form for tests: AND(any:lich[lịch] title:"a b"
 * NOT(any:x) isbn:978... year:1990..2000 any:pre*). Appends to out. */
int ix_query_dump(const struct ix_query *q, struct mc_buf *out);

#endif
