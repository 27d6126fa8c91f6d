// xapian-search.cc — the reading side of the index in Xapian (search-internal.h):
// open the stub and follow it across rebuilds, build a Xapian query from
// the parser's tree, run it with collapsing, sorting, facet counting and a
// time limit, and the typo fallback. Every entry point catches every
// exception; none crosses into C.
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include <xapian.h>

// core's hash helpers are C-only inline code this file does not use
#define MC_HASH_H
extern "C" {
#include "ix-text.h"
#include "search-internal.h"
}

namespace {

// Weights of the boosts beside the folded words that decide what matches.
const double W_ACCENT = 2.0;    // the marks the reader typed
const double W_TITLE = 1.0;     // the word in the title (XT)
const double W_NAME = 1.0;      // the word in a name (XA): "three title words and the author"
const double W_PAIR = 1.5;      // adjacent syllables (XB title, XC other fields)
const double W_EXACT = 2.0;     // the whole query is a title (XZ)
const double BM25_K1 = 0.6, BM25_B = 0.9;
const unsigned WILDCARD_MAX = 100;  // terms a prefix expands to (the most frequent) ...
const unsigned WILDCARD_TOTAL = 200; // ... and all the prefixes of a query together,
const unsigned WILDCARD_MIN = 8;     // but at least this many each
const unsigned SPELL_MIN = 3;       // shorter words get no spelling correction
const uint64_t FEW = 3;             // fewer results than this: suggest a correction
const Xapian::doccount SPELL_RATIO = 4;  // a correction of a known word: this much more frequent
const unsigned RELAX_SUBSETS_MAX = 5;  // up to this many words: "all but one"
const unsigned RELAX_ELITE = 6;        // more: any of this many (the rarest)
const size_t PAIRS_MAX = 8;            // adjacent pairs of a query that rank

const Xapian::valueno SLOT_YEAR = 0, SLOT_TITLE = 1, SLOT_WORK = 2, SLOT_LIBS = 4,
		      SLOT_FACET0 = 10, SLOT_FACETS = 17;

}  // namespace

extern "C" const char *const ixx_facet_names[IXX_NFACETS] = {
	"library", "province", "type", "lang", "material", "category", "digital", "year",
};

namespace {

// The facet values of each document, remembered by docid: counting the
// facets of the 1,000 or so documents a search looks at from the value
// streams costs about 6 ms at 1M records (a B-tree seek per document and
// slot); from here it costs microseconds. A document's values are one
// "combination" (documents share them: same libraries, language, year...),
// each value interned per facet. Valid for one revision of one database:
// cleared when the reader moves on. Bounded: past FC_MAX_COMBOS
// combinations or FC_MAX_DOCID documents it is cleared or not used.
const size_t FC_MAX_COMBOS = 1u << 20;
const Xapian::docid FC_MAX_DOCID = 1u << 26;  // 256 MiB of ids at most

class FacetCache {
public:
	// Ready for db (cleared when db is not the one cached); false: do
	// not cache (too many documents).
	bool sync(Xapian::Database &db)
	{
		Xapian::rev r = db.get_revision();
		Xapian::docid last = db.get_lastdocid();
		std::string u = db.get_uuid();

		if (r != rev || u != uuid || last + 1 != by_doc.size())
			clear();
		if (last >= FC_MAX_DOCID)
			return false;
		rev = r;
		uuid = u;
		if (by_doc.size() != last + 1)
			by_doc.assign(last + 1, 0);
		return true;
	}

	void clear()
	{
		std::vector<uint32_t>().swap(by_doc);
		combos.clear();
		combo_ids.clear();
		std::vector<uint32_t>().swap(seen);
		touched.clear();
		for (unsigned f = 0; f < IXX_NFACETS; f++) {
			values[f].clear();
			value_ids[f].clear();
		}
		rev = 0;
		uuid.clear();
	}

	// The combination with these raw values (put's key), 0 when none yet.
	uint32_t find(const std::string &key) const
	{
		auto it = combo_ids.find(key);
		return it == combo_ids.end() ? 0 : it->second;
	}

	// did has combination c (from find).
	void set(Xapian::docid did, uint32_t c)
	{
		if (did < by_doc.size())
			by_doc[did] = c;
	}

	// The combination of document did, 0 when not known yet.
	uint32_t of(Xapian::docid did) const { return did < by_doc.size() ? by_doc[did] : 0; }

	// Remember that did has these values (key: the raw slot values,
	// vals: (facet, value) pairs).
	void put(Xapian::docid did, const std::string &key,
		 const std::vector<std::pair<unsigned, std::string>> &vals)
	{
		auto it = combo_ids.find(key);
		uint32_t id;

		if (it != combo_ids.end()) {
			id = it->second;
		} else {
			if (combos.size() >= FC_MAX_COMBOS)
				return;  // full: this one is read again next time
			std::vector<uint32_t> c;
			for (const auto &fv : vals) {
				auto vi = value_ids[fv.first].find(fv.second);
				uint32_t v;
				if (vi == value_ids[fv.first].end()) {
					v = (uint32_t)values[fv.first].size();
					values[fv.first].push_back(fv.second);
					value_ids[fv.first].emplace(fv.second, v);
				} else {
					v = vi->second;
				}
				c.push_back((uint32_t)fv.first << 24 | v);
			}
			combos.push_back(std::move(c));
			id = (uint32_t)combos.size();
			combo_ids.emplace(key, id);
		}
		if (did < by_doc.size())
			by_doc[did] = id;
	}

	// One more document of combination c (from of()).
	void tally(uint32_t c)
	{
		if (seen.size() <= c)
			seen.resize(combos.size() + 1, 0);
		if (seen[c]++ == 0)
			touched.push_back(c);
	}

	// Add the values of the documents tallied to counts, and start again.
	void flush(std::unordered_map<std::string, uint64_t> *counts)
	{
		for (unsigned f = 0; f < IXX_NFACETS; f++)
			per_value[f].assign(values[f].size(), 0);
		for (uint32_t c : touched) {
			for (uint32_t fv : combos[c - 1])
				per_value[fv >> 24][fv & 0xffffff] += seen[c];
			seen[c] = 0;
		}
		touched.clear();
		for (unsigned f = 0; f < IXX_NFACETS; f++)
			for (size_t v = 0; v < per_value[f].size(); v++)
				if (per_value[f][v])
					counts[f][values[f][v]] += per_value[f][v];
	}

private:
	Xapian::rev rev = 0;
	std::string uuid;
	std::vector<uint32_t> by_doc;             // docid -> combination id (1-based), 0 unknown
	std::vector<std::vector<uint32_t>> combos; // facet << 24 | value id
	std::unordered_map<std::string, uint32_t> combo_ids;
	std::vector<std::string> values[IXX_NFACETS];
	std::unordered_map<std::string, uint32_t> value_ids[IXX_NFACETS];
	std::vector<uint32_t> seen, touched;        // tally(): per combination, the ones > 0
	std::vector<uint64_t> per_value[IXX_NFACETS];
};

// Whole answers remembered per searcher: the readers' common queries and
// the pages of a query come again, and an answer costs a thousand times
// less to give again (the hits' data read by docid) than to compute. Key:
// the Xapian query with its filters, its range, sort, group and whether
// facets were counted. Valid for one revision of one database; bounded by
// RC_MAX_BYTES (past it the whole cache is dropped: a cycle of more
// queries than fit would make an LRU miss every time).
const size_t RC_MAX_BYTES = 24u << 20;

struct cached_answer {
	uint64_t total;
	int total_exact, relaxed, counts_exact, has_facets;
	std::vector<std::pair<Xapian::docid, unsigned>> hits;  // docid, editions
	// per facet: its number of values (uint32), then each value's
	// length (uint32), bytes and count (uint64), packed (a third of the
	// memory of strings)
	std::string facets;
};

class ResultCache {
public:
	const cached_answer *get(Xapian::Database &db, const std::string &key)
	{
		sync(db);
		auto it = map.find(key);
		return it == map.end() ? NULL : &it->second;
	}

	void put(Xapian::Database &db, const std::string &key, cached_answer &&a)
	{
		// what it takes, with the allocator's and the map's overhead
		size_t n = key.size() + a.facets.size() + sizeof(a) + 128 + a.hits.size() * 8;

		sync(db);
		if (n > RC_MAX_BYTES / 16)
			return;
		if (bytes + n > RC_MAX_BYTES)
			clear();
		auto it = map.find(key);
		if (it != map.end())
			return;  // kept: its size is counted
		map.emplace(key, std::move(a));
		bytes += n;
	}

	void clear()
	{
		map.clear();
		bytes = 0;
	}

private:
	std::unordered_map<std::string, cached_answer> map;
	size_t bytes = 0;
	Xapian::rev rev = 0;
	std::string uuid;

	void sync(Xapian::Database &db)
	{
		Xapian::rev r = db.get_revision();
		std::string u = db.get_uuid();

		if (r != rev || u != uuid) {
			clear();
			rev = r;
			uuid = u;
		}
	}
};

}  // namespace

struct ixx_db {
	std::string stub;
	struct stat st;      // the stub as last opened
	Xapian::Database db;
	FacetCache facets;
	ResultCache answers;
};

namespace {

int fail_xapian(struct mc_error *err, const Xapian::Error &e)
{
	return mc_error_set(err, MC_E_STORE, "index: %s: %s", e.get_type(), e.get_msg().c_str());
}

int fail_nomem(struct mc_error *err)
{
	return mc_error_set(err, -ENOMEM, "out of memory");
}

bool same_file(const struct stat &a, const struct stat &b)
{
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
	       a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

// Every document: a new query each time. Xapian 1.4's static
// Query::MatchAll has a reference count that is not atomic, so copies of it
// in two threads (two server workers) race; the empty term is the same
// query without the shared object.
Xapian::Query match_all()
{
	return Xapian::Query(std::string());
}

std::string prefix_of(enum ix_qfield f)
{
	switch (f) {
	case IX_QF_TITLE: return "XT";
	case IX_QF_AUTHOR: return "XA";
	case IX_QF_SUBJECT: return "XK";
	default: return "";
	}
}

class Builder {
public:
	Builder(Xapian::Database &db_) : db(db_) {}

	// The typo fallback: a word gets its likely corrections beside it
	// (ORed in): each swap of two adjacent letters that some records have,
	// and Xapian's spelling suggestion (the folded title and name words).
	// known false: only words no record has; true (the query found
	// little): also words some have, corrected to much more frequent
	// ones. The most frequent correction is the word's fix (did-you-mean).
	// 1 if some word got one.
	int correct(struct ix_query *q, struct ix_qnode *n, bool known)
	{
		int any = 0;

		if (!n || n->kind == IX_Q_NOT)
			return 0;
		if (n->kind == IX_Q_WORD || n->kind == IX_Q_PHRASE) {
			if (n->kind == IX_Q_WORD && n->wildcard)
				return 0;
			for (size_t i = 0; i < n->nwords; i++)
				any |= correct_word(q, &n->words[i], known);
			return any;
		}
		for (size_t i = 0; i < n->nkids; i++)
			any |= correct(q, n->kids[i], known);
		return any;
	}

	// the alternatives of a word, for building
	const std::vector<std::string> *alts_of(const struct ix_qword *w) const
	{
		auto it = alts.find(w);
		return it == alts.end() ? NULL : &it->second;
	}

	Xapian::Query build(const struct ix_qnode *n, bool relax = false)
	{
		switch (n->kind) {
		case IX_Q_WORD:
			return word(n->words[0], n->field, n->wildcard);
		case IX_Q_PHRASE:
			return phrase(n);
		case IX_Q_ISBN:
			return Xapian::Query(std::string("XI") + n->isbn);
		case IX_Q_YEAR:
			return year(n->year_from, n->year_to);
		case IX_Q_NOT:
			return Xapian::Query(Xapian::Query::OP_AND_NOT, match_all(),
					     build(n->kids[0]));
		case IX_Q_OR: {
			std::vector<Xapian::Query> v;
			for (size_t i = 0; i < n->nkids; i++)
				v.push_back(build(n->kids[i]));
			return Xapian::Query(Xapian::Query::OP_OR, v.begin(), v.end());
		}
		case IX_Q_AND:
			return conj(n, relax);
		}
		return Xapian::Query();
	}

	// Share the expansion budget among the query's prefixes.
	void plan(const struct ix_qnode *n)
	{
		unsigned k = wildcards(n);

		wildcard_max = k ? std::max(WILDCARD_MIN, std::min(WILDCARD_MAX, WILDCARD_TOTAL / k))
				 : WILDCARD_MAX;
	}

	// Top-level AND with at least two positive parts: can be relaxed.
	static size_t positives(const struct ix_qnode *n)
	{
		size_t k = 0;

		if (!n || n->kind != IX_Q_AND)
			return n && n->kind != IX_Q_NOT ? 1 : 0;
		for (size_t i = 0; i < n->nkids; i++)
			k += n->kids[i]->kind != IX_Q_NOT;
		return k;
	}

private:
	Xapian::Database &db;
	unsigned wildcard_max = WILDCARD_MAX;

	static unsigned wildcards(const struct ix_qnode *n)
	{
		unsigned k = n->kind == IX_Q_WORD && n->wildcard;

		for (size_t i = 0; i < n->nkids; i++)
			k += wildcards(n->kids[i]);
		return k;
	}
	std::unordered_map<const struct ix_qword *, std::vector<std::string>> alts;

	int correct_word(struct ix_query *q, struct ix_qword *w, bool known)
	{
		std::string word(w->fold);
		Xapian::doccount tf = db.get_termfreq(word), best_tf = 0, min_tf;
		std::vector<std::string> &v = alts[w];
		std::string best;

		if (word.size() < SPELL_MIN || (!known && tf != 0) || !v.empty())
			return 0;
		min_tf = tf ? SPELL_RATIO * tf + 1 : 1;
		for (size_t i = 0; i + 1 < word.size(); i++) {
			if ((unsigned char)word[i] >= 0x80 || (unsigned char)word[i + 1] >= 0x80 ||
			    word[i] == word[i + 1])
				continue;
			std::string t = word;
			std::swap(t[i], t[i + 1]);
			Xapian::doccount f = db.get_termfreq(t);
			if (f >= min_tf) {
				v.push_back(t);
				if (f > best_tf) {
					best_tf = f;
					best = t;
				}
			}
		}
		std::string s = db.get_spelling_suggestion(word, 2);
		if (!s.empty() && s != word && std::find(v.begin(), v.end(), s) == v.end()) {
			Xapian::doccount f = db.get_termfreq(s);
			if (f >= min_tf) {
				v.push_back(s);
				if (f > best_tf) {
					best_tf = f;
					best = s;
				}
			}
		}
		if (v.empty())
			return 0;
		w->fix = mc_arena_strndup(q->arena, best.data(), best.size());
		return 1;
	}

	static Xapian::Query scaled(const Xapian::Query &q, double w)
	{
		return Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, q, w);
	}

	// The folded term matches; the typed marks and the title rank.
	Xapian::Query word(const struct ix_qword &w, enum ix_qfield f, bool wild)
	{
		std::string p = prefix_of(f);

		if (wild)
			return Xapian::Query(Xapian::Query::OP_WILDCARD, p + w.fold, wildcard_max,
					     Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT);
		Xapian::Query base(p + w.fold);
		if (const std::vector<std::string> *alt = alts_of(&w)) {
			std::vector<Xapian::Query> v{base};
			for (const std::string &a : *alt)
				v.push_back(Xapian::Query(p + a));
			base = Xapian::Query(Xapian::Query::OP_OR, v.begin(), v.end());
		}
		std::vector<Xapian::Query> boost;
		if (f == IX_QF_ANY) {
			boost.push_back(scaled(Xapian::Query("XT" + std::string(w.fold)), W_TITLE));
			boost.push_back(scaled(Xapian::Query("XA" + std::string(w.fold)), W_NAME));
		}
		if (w.marks && std::strcmp(w.acc, w.fold) != 0)
			boost.push_back(scaled(Xapian::Query(p + w.acc), W_ACCENT));
		if (boost.empty())
			return base;
		return Xapian::Query(Xapian::Query::OP_AND_MAYBE, base,
				     Xapian::Query(Xapian::Query::OP_OR, boost.begin(), boost.end()));
	}

	Xapian::Query phrase(const struct ix_qnode *n)
	{
		std::string p = prefix_of(n->field);
		std::vector<Xapian::Query> fold, acc;
		bool marks = false;

		for (size_t i = 0; i < n->nwords; i++) {
			const struct ix_qword &w = n->words[i];
			Xapian::Query t(p + w.fold);

			if (const std::vector<std::string> *alt = alts_of(&w)) {
				std::vector<Xapian::Query> v{t};
				for (const std::string &a : *alt)
					v.push_back(Xapian::Query(p + a));
				t = Xapian::Query(Xapian::Query::OP_OR, v.begin(), v.end());
			}
			fold.push_back(t);
			acc.push_back(Xapian::Query(p + w.acc));
			marks = marks || (w.marks && std::strcmp(w.acc, w.fold) != 0);
		}
		Xapian::Query q(Xapian::Query::OP_PHRASE, fold.begin(), fold.end(),
				(Xapian::termcount)fold.size());
		if (!marks)
			return q;
		return Xapian::Query(Xapian::Query::OP_AND_MAYBE, q,
				     scaled(Xapian::Query(Xapian::Query::OP_PHRASE, acc.begin(),
							  acc.end(), (Xapian::termcount)acc.size()),
					    W_ACCENT));
	}

	static Xapian::Query year(int from, int to)
	{
		if (from && to)
			return Xapian::Query(Xapian::Query::OP_VALUE_RANGE, SLOT_YEAR,
					     Xapian::sortable_serialise(from),
					     Xapian::sortable_serialise(to));
		if (from)
			return Xapian::Query(Xapian::Query::OP_VALUE_GE, SLOT_YEAR,
					     Xapian::sortable_serialise(from));
		return Xapian::Query(Xapian::Query::OP_VALUE_LE, SLOT_YEAR,
				     Xapian::sortable_serialise(to));
	}

	// Adjacent plain words of the same field: their pair terms rank.
	static void pairs(const struct ix_qnode *n, std::vector<Xapian::Query> &out)
	{
		for (size_t i = 0; i + 1 < n->nkids && out.size() < 2 * PAIRS_MAX; i++) {
			const struct ix_qnode *a = n->kids[i], *b = n->kids[i + 1];

			if (a->kind != IX_Q_WORD || b->kind != IX_Q_WORD || a->wildcard ||
			    b->wildcard || a->field != b->field)
				continue;
			std::string pr = std::string(a->words[0].fix ? a->words[0].fix : a->words[0].fold) +
					 " " + (b->words[0].fix ? b->words[0].fix : b->words[0].fold);
			if (a->field == IX_QF_ANY || a->field == IX_QF_TITLE)
				out.push_back(Xapian::Query("XB" + pr));
			if (a->field != IX_QF_TITLE)
				out.push_back(Xapian::Query("XC" + pr));
		}
	}

	// A query of plain words (any field or title) is maybe a whole title:
	// the exact-title term XZ (schemas/index.md) ranks it, built as the
	// writer builds it (whole folded words up to IX_EXACT_TITLE_MAX bytes).
	static void exact_title(const struct ix_qnode *n, std::vector<Xapian::Query> &out)
	{
		struct mc_buf t;
		int rc = 0;

		if (n->nkids < 2)
			return;
		for (size_t i = 0; i < n->nkids; i++) {
			const struct ix_qnode *k = n->kids[i];

			if (k->kind != IX_Q_WORD || k->wildcard ||
			    (k->field != IX_QF_ANY && k->field != IX_QF_TITLE))
				return;
		}
		mc_buf_init(&t, IX_EXACT_TITLE_MAX + 8);
		rc = mc_buf_add(&t, "XZ", 2);
		for (size_t i = 0; !rc && i < n->nkids; i++) {
			const struct ix_qnode *k = n->kids[i];

			for (size_t j = 0; !rc && j < k->nwords; j++) {
				const char *w = k->words[j].fix ? k->words[j].fix : k->words[j].fold;

				rc = ix_text_exact_add(&t, w, std::strlen(w));
			}
		}
		std::string term = rc < 0 || t.len <= 2 ? std::string() : std::string(t.data, t.len);
		mc_buf_free(&t);
		if (!term.empty())
			out.push_back(scaled(Xapian::Query(term), W_EXACT / W_PAIR));
	}

	Xapian::Query conj(const struct ix_qnode *n, bool relax)
	{
		std::vector<Xapian::Query> pos, neg, pr;

		for (size_t i = 0; i < n->nkids; i++) {
			if (n->kids[i]->kind == IX_Q_NOT)
				neg.push_back(build(n->kids[i]->kids[0]));
			else
				pos.push_back(build(n->kids[i]));
		}
		Xapian::Query q;
		if (pos.empty())
			q = match_all();
		else if (!relax || pos.size() < 2)
			q = Xapian::Query(Xapian::Query::OP_AND, pos.begin(), pos.end());
		else if (pos.size() <= 2)
			q = Xapian::Query(Xapian::Query::OP_OR, pos.begin(), pos.end());
		else if (pos.size() > RELAX_SUBSETS_MAX)
			// many words: any of the rarest few (an OR of them all
			// is slow and ranks the same)
			q = Xapian::Query(Xapian::Query::OP_ELITE_SET, pos.begin(), pos.end(),
					  RELAX_ELITE);
		else {
			// most of them: every way of leaving one out
			std::vector<Xapian::Query> alts;
			for (size_t skip = 0; skip < pos.size(); skip++) {
				std::vector<Xapian::Query> v;
				for (size_t i = 0; i < pos.size(); i++)
					if (i != skip)
						v.push_back(pos[i]);
				alts.push_back(Xapian::Query(Xapian::Query::OP_AND, v.begin(), v.end()));
			}
			q = Xapian::Query(Xapian::Query::OP_OR, alts.begin(), alts.end());
		}
		pairs(n, pr);
		exact_title(n, pr);
		if (!pr.empty() && !pos.empty())
			q = Xapian::Query(Xapian::Query::OP_AND_MAYBE, q,
					  scaled(Xapian::Query(Xapian::Query::OP_OR, pr.begin(), pr.end()),
						 W_PAIR));
		if (!neg.empty())
			q = Xapian::Query(Xapian::Query::OP_AND_NOT, q,
					  Xapian::Query(Xapian::Query::OP_OR, neg.begin(), neg.end()));
		return q;
	}
};

// Collects the documents the match considers (before collapsing: the
// counts are of editions); their facet values are read afterwards from the
// value streams in docid order, which is much cheaper than a random
// Document::get_value per document and slot.
class FacetSpy : public Xapian::MatchSpy {
public:
	std::vector<Xapian::docid> docs;
	std::unordered_map<std::string, uint64_t> counts[IXX_NFACETS];

	void operator()(const Xapian::Document &doc, double) override
	{
		docs.push_back(doc.get_docid());
	}

	// docs (sorted) counted: from the cache, and what it does not know
	// yet read from the value streams in docid order (much cheaper than
	// a random Document::get_value per document and slot) and remembered;
	// a document whose raw values are a known combination is not parsed
	void count(Xapian::Database &db, FacetCache &fc)
	{
		bool use = fc.sync(db);
		std::vector<Xapian::docid> miss;

		for (Xapian::docid did : docs) {
			uint32_t c = use ? fc.of(did) : 0;
			if (c)
				fc.tally(c);
			else
				miss.push_back(did);
		}
		if (!miss.empty()) {
			bool one = db.get_value_freq(SLOT_FACETS) > 0;
			std::vector<std::string> keys;
			std::vector<std::pair<unsigned, std::string>> vals;

			read(db, one, miss, keys);
			for (size_t i = 0; i < miss.size(); i++) {
				uint32_t c = use ? fc.find(keys[i]) : 0;

				if (c) {
					fc.set(miss[i], c);
				} else {
					vals.clear();
					parse(one, keys[i], vals);
					if (use) {
						fc.put(miss[i], keys[i], vals);
						c = fc.of(miss[i]);
					}
				}
				if (c)
					fc.tally(c);
				else
					for (const auto &fv : vals)
						counts[fv.first][fv.second]++;
			}
		}
		fc.flush(counts);
	}

private:
	// The raw values of docs in one slot (empty where a document has none).
	static void slot_values(Xapian::Database &db, Xapian::valueno slot,
				const std::vector<Xapian::docid> &docs, std::vector<std::string> &out)
	{
		Xapian::ValueIterator v = db.valuestream_begin(slot), end = db.valuestream_end(slot);

		out.assign(docs.size(), std::string());
		for (size_t i = 0; i < docs.size(); i++) {
			if (v == end)
				break;
			if (v.get_docid() < docs[i])
				v.skip_to(docs[i]);
			if (v == end)
				break;
			if (v.get_docid() == docs[i])
				out[i] = *v;
		}
	}

	// Each document's raw facet values (its key): slot 17 (every facet,
	// "library:x\x1fyear:1990...") where the index has it (one), else
	// slots 10..16 and the year (slot 0), each followed by \x1e.
	static void read(Xapian::Database &db, bool one, const std::vector<Xapian::docid> &docs,
			 std::vector<std::string> &keys)
	{
		std::vector<std::string> raw;

		if (one) {
			slot_values(db, SLOT_FACETS, docs, keys);
			return;
		}
		keys.assign(docs.size(), std::string());
		for (unsigned f = 0; f < IXX_NFACETS; f++) {
			Xapian::valueno slot = f + 1 < IXX_NFACETS ? SLOT_FACET0 + f : SLOT_YEAR;

			slot_values(db, slot, docs, raw);
			for (size_t i = 0; i < docs.size(); i++) {
				keys[i] += raw[i];
				keys[i] += '\x1e';
			}
		}
	}

	// The (facet, value) pairs of a key from read().
	static void parse(bool one, const std::string &s,
			  std::vector<std::pair<unsigned, std::string>> &vals)
	{
		size_t start = 0;

		if (one) {
			while (start < s.size()) {
				size_t e = s.find('\x1f', start);
				if (e == std::string::npos)
					e = s.size();
				size_t colon = s.find(':', start);
				if (colon != std::string::npos && colon < e)
					for (unsigned f = 0; f < IXX_NFACETS; f++)
						if (s.compare(start, colon - start, ixx_facet_names[f]) == 0 &&
						    std::strlen(ixx_facet_names[f]) == colon - start) {
							vals.emplace_back(f, s.substr(colon + 1, e - colon - 1));
							break;
						}
				start = e + 1;
			}
			return;
		}
		for (unsigned f = 0; f < IXX_NFACETS && start <= s.size(); f++) {
			// the year (last) is binary: up to the final \x1e
			size_t e = f + 1 == IXX_NFACETS ? s.size() - 1 : s.find('\x1e', start);
			if (e == std::string::npos || e < start)
				e = s.size();
			if (f + 1 == IXX_NFACETS) {
				if (e > start) {
					double d = Xapian::sortable_unserialise(s.substr(start, e - start));
					if (d >= 1 && d <= 9999)
						vals.emplace_back(f, std::to_string((int)d));
				}
			} else {
				size_t p = start;
				while (p < e) {
					size_t q = s.find('\x1f', p);
					if (q == std::string::npos || q > e)
						q = e;
					if (q > p)
						vals.emplace_back(f, s.substr(p, q - p));
					p = q + 1;
				}
			}
			start = e + 1;
		}
	}
};

double now_s()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Xapian::Query filters(const struct ixx_spec *spec, Xapian::Query q)
{
	std::vector<Xapian::Query> all;

	for (unsigned f = 0; f + 1 < IXX_NFACETS; f++) {
		std::vector<Xapian::Query> one;

		for (size_t i = 0; i < spec->nfilters; i++)
			if (std::strcmp(spec->filters[i].facet, ixx_facet_names[f]) == 0)
				one.push_back(Xapian::Query(std::string("XF") + ixx_facet_names[f] + ":" +
							    spec->filters[i].value));
		if (!one.empty())
			all.push_back(Xapian::Query(Xapian::Query::OP_OR, one.begin(), one.end()));
	}
	{
		std::vector<Xapian::Query> years;
		for (size_t i = 0; i < spec->nfilters; i++)
			if (std::strcmp(spec->filters[i].facet, "year") == 0)
				years.push_back(Xapian::Query(std::string("XFyear:") + spec->filters[i].value));
		if (!years.empty())
			all.push_back(Xapian::Query(Xapian::Query::OP_OR, years.begin(), years.end()));
	}
	if (spec->year_from || spec->year_to) {
		if (spec->year_from && spec->year_to)
			all.push_back(Xapian::Query(Xapian::Query::OP_VALUE_RANGE, SLOT_YEAR,
						    Xapian::sortable_serialise(spec->year_from),
						    Xapian::sortable_serialise(spec->year_to)));
		else if (spec->year_from)
			all.push_back(Xapian::Query(Xapian::Query::OP_VALUE_GE, SLOT_YEAR,
						    Xapian::sortable_serialise(spec->year_from)));
		else
			all.push_back(Xapian::Query(Xapian::Query::OP_VALUE_LE, SLOT_YEAR,
						    Xapian::sortable_serialise(spec->year_to)));
	}
	if (spec->work)
		all.push_back(Xapian::Query(std::string("XW") + spec->work));
	if (all.empty())
		return q;
	return Xapian::Query(Xapian::Query::OP_FILTER, q,
			     Xapian::Query(Xapian::Query::OP_AND, all.begin(), all.end()));
}

struct run_result {
	Xapian::MSet mset;
	bool partial = false;
};

void run(Xapian::Database &db, const struct ixx_spec *spec, const Xapian::Query &q,
	 FacetSpy *spy, run_result &r)
{
	Xapian::Enquire enq(db);
	double limit = IX_QUERY_TIME_MS / 1000.0, t0 = now_s();

	enq.set_query(q);
	// BM25 with less weight for repeats (k1 0.6) and more for short
	// records (b 0.9): a title typed whole finds "Nhập môn Hồ Chí Minh"
	// before "Nhập môn Hồ Chí Minh thế kỷ XX" (known-item title queries on
	// 100k generated records: success@1 0.953 -> 0.973, Xapian's 1, 0.5)
	enq.set_weighting_scheme(Xapian::BM25Weight(BM25_K1, 0, 1, BM25_B, 0.5));
	if (spec->group == IX_GROUP_WORK && !spec->work)
		enq.set_collapse_key(SLOT_WORK, 1);
	// records without a year (or title) sort last either way: a missing
	// value is "\xff" going up, "" going down
	Xapian::MultiValueKeyMaker keys;
	switch (spec->sort) {
	case IX_SORT_YEAR: keys.add_value(SLOT_YEAR, false, "\xff"); break;
	case IX_SORT_YEAR_DESC: keys.add_value(SLOT_YEAR, true, ""); break;
	case IX_SORT_TITLE: keys.add_value(SLOT_TITLE, false, "\xff"); break;
	default: break;
	}
	if (spec->sort == IX_SORT_RELEVANCE)
		enq.set_sort_by_relevance_then_value(SLOT_LIBS, true);
	else
		enq.set_sort_by_key_then_relevance(&keys, false);
	enq.set_time_limit(limit);
	if (spy)
		enq.add_matchspy(spy);
	// exact totals and facet counts up to IX_COUNT_AT_LEAST matches
	// (looking at every match costs about a microsecond each: too slow
	// for broad queries on a big index); past it they are estimates
	Xapian::doccount at_least = std::max<Xapian::doccount>(spec->first + spec->size,
							       spy ? IX_COUNT_AT_LEAST : 0);
	r.mset = enq.get_mset(spec->first, spec->size, at_least);
	r.partial = now_s() - t0 >= limit;
}

void top_values(const std::unordered_map<std::string, uint64_t> &m, struct ixx_out *out, unsigned f,
		double scale)
{
	std::vector<std::pair<std::string, uint64_t>> v(m.begin(), m.end());

	if (scale > 1)
		for (auto &kv : v)
			kv.second = (uint64_t)((double)kv.second * scale + 0.5);
	size_t n = std::min<size_t>(v.size(), IX_MAX_FACET_VALUES);

	std::partial_sort(v.begin(), v.begin() + (ptrdiff_t)n, v.end(),
			  [](const std::pair<std::string, uint64_t> &a,
			     const std::pair<std::string, uint64_t> &b) {
				  return a.second != b.second ? a.second > b.second : a.first < b.first;
			  });
	out->facet[f] = (struct ixx_value *)calloc(n ? n : 1, sizeof(struct ixx_value));
	if (!out->facet[f])
		throw std::bad_alloc();
	for (size_t i = 0; i < n; i++) {
		out->facet[f][i].value = strdup(v[i].first.c_str());
		if (!out->facet[f][i].value)
			throw std::bad_alloc();
		out->facet[f][i].count = v[i].second;
		out->nfacet[f] = i + 1;
	}
}

// out from a remembered answer: the hits' data read again by docid.
int from_cache(struct ixx_db *x, const struct ixx_spec *spec, const cached_answer &a,
	       struct ixx_out *out)
{
	out->total = a.total;
	out->total_exact = a.total_exact;
	out->relaxed = a.relaxed;
	out->hits = (struct ixx_hit *)calloc(a.hits.size() ? a.hits.size() : 1, sizeof(struct ixx_hit));
	if (!out->hits)
		throw std::bad_alloc();
	for (const auto &h : a.hits) {
		std::string data = x->db.get_document(h.first).get_data();
		struct ixx_hit *o = &out->hits[out->nhits];

		o->data = (char *)malloc(data.size() + 1);
		if (!o->data)
			throw std::bad_alloc();
		memcpy(o->data, data.data(), data.size());
		o->data[data.size()] = '\0';
		o->len = data.size();
		o->editions = h.second;
		out->nhits++;
	}
	if (spec->facets && a.has_facets) {
		const char *p = a.facets.data(), *end = p + a.facets.size();

		out->counts_exact = a.counts_exact;
		for (unsigned f = 0; f < IXX_NFACETS && p + 4 <= end; f++) {
			uint32_t n, len;
			uint64_t c;

			memcpy(&n, p, sizeof(n));
			p += sizeof(n);
			out->facet[f] = (struct ixx_value *)calloc(n ? n : 1, sizeof(struct ixx_value));
			if (!out->facet[f])
				throw std::bad_alloc();
			for (uint32_t i = 0; i < n && p + 4 <= end; i++) {
				memcpy(&len, p, sizeof(len));
				p += sizeof(len);
				if ((size_t)(end - p) < (size_t)len + sizeof(c))
					break;
				out->facet[f][i].value = strndup(p, len);
				if (!out->facet[f][i].value)
					throw std::bad_alloc();
				p += len;
				memcpy(&c, p, sizeof(c));
				p += sizeof(c);
				out->facet[f][i].count = c;
				out->nfacet[f] = i + 1;
			}
		}
	}
	return 0;
}

int do_search(struct ixx_db *x, const struct ixx_spec *spec, struct ixx_out *out)
{
	Builder b(x->db);
	struct ix_qnode *root = spec->q ? spec->q->root : NULL;
	FacetSpy spy;
	run_result r;

	if (root) {
		b.plan(root);
		out->corrected = b.correct(spec->q, root, false);
	}
	Xapian::Query q = root ? b.build(root) : match_all();
	Xapian::Query fq = filters(spec, q);
	std::string key;
	if (!out->corrected) {
		key = std::to_string(spec->first) + "," + std::to_string(spec->size) + "," +
		      std::to_string(spec->sort) + "," + std::to_string(spec->group) + "," +
		      (spec->facets ? "f," : "-,") + fq.get_description();
		if (const cached_answer *a = x->answers.get(x->db, key))
			return from_cache(x, spec, *a, out);
	}
	run(x->db, spec, fq, spec->facets ? &spy : NULL, r);
	if (root && r.mset.get_matches_estimated() < FEW && b.correct(spec->q, root, true)) {
		// little found: the corrections of known words too
		FacetSpy spy2;

		run(x->db, spec, filters(spec, b.build(root)), spec->facets ? &spy2 : NULL, r);
		spy.docs.swap(spy2.docs);
		out->corrected = 1;
	}
	if (r.mset.get_matches_estimated() == 0 && root && Builder::positives(root) >= 2 &&
	    root->kind == IX_Q_AND) {
		FacetSpy spy2;

		run(x->db, spec, filters(spec, b.build(root, true)), spec->facets ? &spy2 : NULL, r);
		out->relaxed = 1;
		spy.docs.swap(spy2.docs);
	}
	out->partial = r.partial;
	out->total = r.mset.get_matches_estimated();
	out->total_exact = r.mset.get_matches_lower_bound() == r.mset.get_matches_upper_bound();
	// the matcher looks at every match until it has seen check_at_least:
	// fewer seen means all were, and the spy's list is the whole answer
	uint64_t uncollapsed_est = r.mset.get_uncollapsed_matches_estimated();
	bool all_seen = spec->facets && spy.docs.size() < IX_COUNT_AT_LEAST && !r.partial;
	if (spec->facets) {
		if (!std::is_sorted(spy.docs.begin(), spy.docs.end()))
			std::sort(spy.docs.begin(), spy.docs.end());
		spy.count(x->db, x->facets);
	}
	if (all_seen) {
		// what the matcher kept of all it saw: exact
		out->total = r.mset.get_matches_lower_bound();
		out->total_exact = 1;
	} else if (spec->facets && !spy.docs.empty() && spy.docs.back() > 0) {
		// Xapian's estimate assumes the words independent (they are
		// not: "lịch" comes with "sử"), an extrapolation from how far
		// into the docids the matches seen went assumes them spread
		// evenly (they are not: docids follow the libraries' imports):
		// both tend to fall short, so the larger one
		double seen = (double)spy.docs.size();
		double recs = seen * (double)x->db.get_lastdocid() / (double)spy.docs.back();
		double works = (double)r.mset.get_matches_lower_bound() / seen;

		recs = std::max<double>(recs, (double)r.mset.get_uncollapsed_matches_estimated());
		recs = std::min<double>(recs, (double)r.mset.get_uncollapsed_matches_upper_bound());
		recs = std::max<double>(recs, (double)r.mset.get_uncollapsed_matches_lower_bound());
		if (spec->group == IX_GROUP_WORK && !spec->work)
			out->total = std::max<uint64_t>((uint64_t)(recs * works + 0.5),
							r.mset.get_matches_lower_bound());
		else
			out->total = (uint64_t)(recs + 0.5);
		uncollapsed_est = (uint64_t)(recs + 0.5);
	}
	out->suggest = out->corrected;
	out->hits = (struct ixx_hit *)calloc(r.mset.size() ? r.mset.size() : 1, sizeof(struct ixx_hit));
	if (!out->hits)
		throw std::bad_alloc();
	for (Xapian::MSetIterator it = r.mset.begin(); it != r.mset.end(); ++it) {
		std::string data = it.get_document().get_data();
		struct ixx_hit *h = &out->hits[out->nhits];

		h->data = (char *)malloc(data.size() + 1);
		if (!h->data)
			throw std::bad_alloc();
		memcpy(h->data, data.data(), data.size());
		h->data[data.size()] = '\0';
		h->len = data.size();
		if (spec->group == IX_GROUP_WORK && !spec->work) {
			// every edition of the work in the index (the collapse
			// count is only a lower bound past IX_COUNT_AT_LEAST)
			std::string key = it.get_collapse_key();
			Xapian::doccount n = key.empty() ? 1 : x->db.get_termfreq("XW" + key);

			h->editions = std::max<unsigned>(it.get_collapse_count() + 1, n);
		} else {
			h->editions = 1;
		}
		out->nhits++;
	}
	if (spec->facets) {
		// past IX_COUNT_AT_LEAST the documents looked at stand for all
		// the matches: their counts are scaled up (estimates)
		uint64_t est = uncollapsed_est;
		double scale = all_seen || spy.docs.empty() || est <= spy.docs.size()
				       ? 1.0 : (double)est / (double)spy.docs.size();

		out->counts_exact = all_seen;
		for (unsigned f = 0; f < IXX_NFACETS; f++)
			top_values(spy.counts[f], out, f, scale);
	}
	if (!key.empty() && !out->corrected && !out->partial) {
		cached_answer a;
		Xapian::MSetIterator it = r.mset.begin();

		a.total = out->total;
		a.total_exact = out->total_exact;
		a.relaxed = out->relaxed;
		a.counts_exact = out->counts_exact;
		a.has_facets = spec->facets;
		for (size_t i = 0; i < out->nhits && it != r.mset.end(); i++, ++it)
			a.hits.emplace_back(*it, out->hits[i].editions);
		for (unsigned f = 0; f < IXX_NFACETS && spec->facets; f++) {
			uint32_t n = (uint32_t)out->nfacet[f];

			a.facets.append((const char *)&n, sizeof(n));
			for (size_t i = 0; i < out->nfacet[f]; i++) {
				uint32_t len = (uint32_t)strlen(out->facet[f][i].value);
				uint64_t c = out->facet[f][i].count;

				a.facets.append((const char *)&len, sizeof(len));
				a.facets.append(out->facet[f][i].value, len);
				a.facets.append((const char *)&c, sizeof(c));
			}
		}
		x->answers.put(x->db, key, std::move(a));
	}
	return 0;
}

}  // namespace

namespace {

// Run f (which returns 0 or an error code) with every Xapian exception
// turned into an error; a commit that overtook this reader
// (DatabaseModifiedError) reopens it and runs f once more.
template <class F> int retried(struct ixx_db *x, struct mc_error *err, F f)
{
	for (int attempt = 0;; attempt++) {
		try {
			return f();
		} catch (const Xapian::DatabaseModifiedError &e) {
			if (attempt)
				return fail_xapian(err, e);
			try {
				x->db.reopen();
			} catch (const Xapian::Error &e2) {
				return fail_xapian(err, e2);
			}
		} catch (const Xapian::Error &e) {
			return fail_xapian(err, e);
		} catch (...) {
			return fail_nomem(err);
		}
	}
}

// A document's data as a malloc'd NUL-terminated copy in *data, *len.
int copy_data(const std::string &d, char **data, size_t *len, struct mc_error *err)
{
	char *c = (char *)malloc(d.size() + 1);

	if (!c)
		return fail_nomem(err);
	memcpy(c, d.data(), d.size());
	c[d.size()] = '\0';
	*data = c;
	*len = d.size();
	return 0;
}

} // namespace

extern "C" int ixx_open(const char *stub, struct ixx_db **ret, struct mc_error *err)
{
	struct ixx_db *x = NULL;

	try {
		x = new ixx_db();
		x->stub = stub;
		if (stat(stub, &x->st) != 0) {
			int e = errno;
			delete x;
			if (e == ENOENT)
				return mc_error_set(err, MC_E_NOTFOUND, "no index built yet (%s)", stub);
			return mc_error_set(err, MC_E_STORE, "%s: %s", stub, strerror(e));
		}
		x->db = Xapian::Database(x->stub);
		*ret = x;
		return 0;
	} catch (const Xapian::DatabaseNotFoundError &e) {
		delete x;
		return mc_error_set(err, MC_E_NOTFOUND, "no index built yet: %s", e.get_msg().c_str());
	} catch (const Xapian::Error &e) {
		delete x;
		return fail_xapian(err, e);
	} catch (...) {
		delete x;
		return fail_nomem(err);
	}
}

extern "C" void ixx_close(struct ixx_db *x)
{
	delete x;
}

extern "C" int ixx_refresh(struct ixx_db *x, struct mc_error *err)
{
	try {
		struct stat st;

		if (stat(x->stub.c_str(), &st) == 0 && !same_file(st, x->st)) {
			// a rebuild was swapped in under the stub
			Xapian::Database fresh(x->stub);
			x->db = fresh;
			x->facets.clear();
			x->answers.clear();
			x->st = st;
			return 1;
		}
		Xapian::rev before = x->db.get_revision();
		std::string uuid = x->db.get_uuid();
		x->db.reopen();
		return x->db.get_revision() != before || x->db.get_uuid() != uuid;
	} catch (const Xapian::Error &e) {
		return fail_xapian(err, e);
	} catch (...) {
		return fail_nomem(err);
	}
}

extern "C" int ixx_info(struct ixx_db *x, struct ix_info *ret, struct mc_error *err)
{
	return retried(x, err, [&]() -> int {
		std::string c = x->db.get_metadata("mucluc.cursor");
		std::string u = x->db.get_uuid();

		memset(ret, 0, sizeof(*ret));
		ret->docs = x->db.get_doccount();
		ret->cursor = strtoull(c.c_str(), NULL, 10);
		ret->revision = x->db.get_revision();
		snprintf(ret->uuid, sizeof(ret->uuid), "%s", u.c_str());
		return 0;
	});
}

extern "C" uint64_t ixx_work_editions(struct ixx_db *x, const char *work)
{
	try {
		return std::max<Xapian::doccount>(1, x->db.get_termfreq(std::string("XW") + work));
	} catch (...) {
		return 1;
	}
}

extern "C" uint64_t ixx_revision(struct ixx_db *x)
{
	try {
		return x->db.get_revision();
	} catch (...) {
		return 0;
	}
}

extern "C" int ixx_search(struct ixx_db *x, const struct ixx_spec *spec, struct ixx_out *out,
			  struct mc_error *err)
{
	return retried(x, err, [&]() -> int {
		ixx_out_free(out);
		return do_search(x, spec, out);
	});
}

extern "C" void ixx_out_free(struct ixx_out *out)
{
	for (size_t i = 0; i < out->nhits; i++)
		free(out->hits[i].data);
	free(out->hits);
	for (unsigned f = 0; f < IXX_NFACETS; f++) {
		for (size_t i = 0; i < out->nfacet[f]; i++)
			free(out->facet[f][i].value);
		free(out->facet[f]);
	}
	memset(out, 0, sizeof(*out));
}

extern "C" int ixx_term_data(struct ixx_db *x, const char *term, char **data, size_t *len,
			     struct mc_error *err)
{
	return retried(x, err, [&]() -> int {
		Xapian::PostingIterator p = x->db.postlist_begin(term);

		if (p == x->db.postlist_end(term))
			return mc_error_set(err, MC_E_NOTFOUND, "no document has %s", term);
		return copy_data(x->db.get_document(*p).get_data(), data, len, err);
	});
}

extern "C" int ixx_prefix_docs(struct ixx_db *x, const char *prefix, const char *const *words,
			       size_t n, int last_partial, unsigned max,
			       void (*cb)(void *ctx, const char *data, size_t len), void *ctx,
			       struct mc_error *err)
{
	return retried(x, err, [&]() -> int {
		std::vector<Xapian::Query> v;

		for (size_t i = 0; i < n; i++) {
			std::string t = std::string(prefix) + words[i];
			if (i + 1 == n && last_partial)
				v.push_back(Xapian::Query(Xapian::Query::OP_WILDCARD, t, WILDCARD_MAX,
							  Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT));
			else
				v.push_back(Xapian::Query(t));
		}
		Xapian::Enquire enq(x->db);
		enq.set_query(Xapian::Query(Xapian::Query::OP_AND, v.begin(), v.end()));
		// the first max matches, unweighted: typing must stay fast
		// (a short prefix expands to many terms)
		enq.set_weighting_scheme(Xapian::BoolWeight());
		enq.set_docid_order(Xapian::Enquire::ASCENDING);
		enq.set_time_limit(IX_QUERY_TIME_MS / 1000.0);
		Xapian::MSet m = enq.get_mset(0, max);
		for (Xapian::MSetIterator it = m.begin(); it != m.end(); ++it) {
			std::string d = it.get_document().get_data();
			cb(ctx, d.data(), d.size());
		}
		return 0;
	});
}

extern "C" int ixx_lookup(struct ixx_db *x, uint64_t id, char **data, size_t *len, char work[64],
			  struct mc_error *err)
{
	return retried(x, err, [&]() -> int {
		std::string term = "Q" + std::to_string(id);
		Xapian::PostingIterator p = x->db.postlist_begin(term);

		if (p == x->db.postlist_end(term))
			return mc_error_set(err, MC_E_NOTFOUND, "union record %llu is not in the index",
					    (unsigned long long)id);
		Xapian::Document doc = x->db.get_document(*p);
		snprintf(work, 64, "%s", doc.get_value(SLOT_WORK).c_str());
		return copy_data(doc.get_data(), data, len, err);
	});
}
