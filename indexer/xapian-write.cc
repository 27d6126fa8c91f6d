// xapian-write.cc — the Xapian shim of the index writer (ix-write-internal.h).
// Every entry point catches every exception; none crosses into C.
#include <xapian.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "ix-write-internal.h"

struct ixw_db {
	Xapian::WritableDatabase db;
};

struct ixw_doc {
	Xapian::Document doc;
	std::vector<std::string> spell;
};

namespace {

int fail_xapian(struct mc_error *err, const Xapian::Error &e)
{
	// Xapian::Error is not polymorphic: tell the lock error by its type name
	int code = std::strcmp(e.get_type(), "DatabaseLockError") == 0 ? MC_E_LOCKED : MC_E_STORE;

	return mc_error_set(err, code, "Xapian %s: %s", e.get_type(), e.get_msg().c_str());
}

int fail_other(struct mc_error *err)
{
	return mc_error_set(err, MC_E_STORE, "Xapian: unexpected exception");
}

// Run f (0 or an error code) with every exception turned into an error:
// Xapian's with its message, out of memory as -ENOMEM ("out of memory
// <what>" when what is given).
template <class F> int guarded(struct mc_error *err, const char *what, F f)
{
	try {
		return f();
	} catch (const Xapian::Error &e) {
		return fail_xapian(err, e);
	} catch (const std::bad_alloc &) {
		return what ? mc_error_set(err, -ENOMEM, "out of memory %s", what) : -ENOMEM;
	} catch (...) {
		return fail_other(err);
	}
}

// A spelling word: ASCII letters and digits only (the folded forms).
bool spelling_word(const std::string &t, size_t from)
{
	if (from >= t.size())
		return false;
	for (size_t i = from; i < t.size(); i++) {
		unsigned char c = (unsigned char)t[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

// Remove the spelling words of document did (terms under spell_prefixes):
// each word once, as ixw_doc_spelling added it once per document.
void unspell(Xapian::WritableDatabase &db, Xapian::docid did, const char *const *prefixes)
{
	std::vector<std::string> words;

	if (!prefixes)
		return;
	for (size_t p = 0; prefixes[p]; p++) {
		std::string pre(prefixes[p]);
		Xapian::TermIterator it = db.termlist_begin(did), end = db.termlist_end(did);

		for (it.skip_to(pre); it != end; ++it) {
			const std::string &t = *it;

			if (t.compare(0, pre.size(), pre) != 0)
				break;
			// a longer prefix of capitals is another field (XT vs XTX...)
			if (t.size() > pre.size() && t[pre.size()] >= 'A' && t[pre.size()] <= 'Z')
				continue;
			if (spelling_word(t, pre.size()))
				words.push_back(t.substr(pre.size()));
		}
	}
	std::sort(words.begin(), words.end());
	words.erase(std::unique(words.begin(), words.end()), words.end());
	for (const std::string &w : words)
		db.remove_spelling(w, 1);
}

// The document with unique term uterm, or 0.
Xapian::docid find(Xapian::WritableDatabase &db, const std::string &uterm)
{
	Xapian::PostingIterator p = db.postlist_begin(uterm);

	return p == db.postlist_end(uterm) ? 0 : *p;
}

void spell(Xapian::WritableDatabase &db, const struct ixw_doc *d)
{
	for (const std::string &w : d->spell)
		db.add_spelling(w, 1);
}

} // namespace

extern "C" {

int ixw_open(const char *dir, unsigned flags, struct ixw_db **ret, struct mc_error *err)
{
	try {
		// commits happen when the indexer says (with its cursor), not every
		// 10,000 changes behind its back; the indexer bounds its batches
		setenv("XAPIAN_FLUSH_THRESHOLD", "1000000", 1);
		int xf = ((flags & IXW_CREATE) ? Xapian::DB_CREATE_OR_OPEN : Xapian::DB_OPEN) |
			 ((flags & IXW_NOSYNC) ? Xapian::DB_NO_SYNC : 0) | Xapian::DB_BACKEND_GLASS;
		ixw_db *db = new ixw_db{ Xapian::WritableDatabase(dir, xf) };

		*ret = db;
		return 0;
	} catch (const Xapian::Error &e) {
		return fail_xapian(err, e);
	} catch (const std::bad_alloc &) {
		return mc_error_set(err, -ENOMEM, "out of memory opening %s", dir);
	} catch (...) {
		return fail_other(err);
	}
}

void ixw_close(struct ixw_db *db)
{
	if (!db)
		return;
	try {
		// closing drops what was not committed (WritableDatabase's
		// destructor would commit it: not what a failed batch wants)
		db->db.close();
	} catch (...) {
	}
	try {
		delete db;
	} catch (...) {
	}
}

int ixw_commit(struct ixw_db *db, struct mc_error *err)
{
	try {
		db->db.commit();
		return 0;
	} catch (const Xapian::Error &e) {
		return fail_xapian(err, e);
	} catch (const std::bad_alloc &) {
		return mc_error_set(err, -ENOMEM, "out of memory committing the index");
	} catch (...) {
		return fail_other(err);
	}
}

int ixw_meta_get(struct ixw_db *db, const char *key, struct mc_buf *out, struct mc_error *err)
{
	return guarded(err, NULL, [&]() -> int {
		std::string v = db->db.get_metadata(key);

		mc_buf_reset(out);
		if (v.empty())
			return MC_E_NOTFOUND;
		return mc_buf_add(out, v.data(), v.size());
	});
}

int ixw_meta_set(struct ixw_db *db, const char *key, const char *value, struct mc_error *err)
{
	return guarded(err, NULL, [&]() -> int {
		db->db.set_metadata(key, value);
		return 0;
	});
}

uint64_t ixw_doc_count(struct ixw_db *db)
{
	try {
		return db->db.get_doccount();
	} catch (...) {
		return 0;
	}
}

int ixw_has_term(struct ixw_db *db, const char *t, struct mc_error *err)
{
	try {
		return db->db.term_exists(t) ? 1 : 0;
	} catch (const Xapian::Error &e) {
		return fail_xapian(err, e);
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return fail_other(err);
	}
}

int ixw_doc_new(struct ixw_doc **ret)
{
	try {
		*ret = new ixw_doc();
		return 0;
	} catch (...) {
		return -ENOMEM;
	}
}

void ixw_doc_free(struct ixw_doc *d)
{
	try {
		delete d;
	} catch (...) {
	}
}

void ixw_doc_clear(struct ixw_doc *d)
{
	try {
		d->doc = Xapian::Document();
		d->spell.clear();
	} catch (...) {
	}
}

int ixw_doc_posting(struct ixw_doc *d, const char *t, size_t n, unsigned pos, unsigned wdf)
{
	if (n == 0 || n > IXW_TERM_MAX)
		return MC_E_TOOBIG;
	try {
		d->doc.add_posting(std::string(t, n), pos, wdf);
		return 0;
	} catch (...) {
		return -ENOMEM;
	}
}

int ixw_doc_term(struct ixw_doc *d, const char *t, size_t n, unsigned wdf)
{
	if (n == 0 || n > IXW_TERM_MAX)
		return MC_E_TOOBIG;
	try {
		d->doc.add_term(std::string(t, n), wdf);
		return 0;
	} catch (...) {
		return -ENOMEM;
	}
}

int ixw_doc_value(struct ixw_doc *d, unsigned slot, const void *v, size_t n)
{
	try {
		d->doc.add_value(slot, std::string((const char *)v, n));
		return 0;
	} catch (...) {
		return -ENOMEM;
	}
}

int ixw_doc_value_num(struct ixw_doc *d, unsigned slot, double x)
{
	try {
		d->doc.add_value(slot, Xapian::sortable_serialise(x));
		return 0;
	} catch (...) {
		return -ENOMEM;
	}
}

int ixw_doc_data(struct ixw_doc *d, const void *p, size_t n)
{
	try {
		d->doc.set_data(std::string((const char *)p, n));
		return 0;
	} catch (...) {
		return -ENOMEM;
	}
}

int ixw_doc_spelling(struct ixw_doc *d, const char *w, size_t n)
{
	if (n == 0 || n > IXW_TERM_MAX)
		return MC_E_TOOBIG;
	try {
		std::string s(w, n);

		if (std::find(d->spell.begin(), d->spell.end(), s) == d->spell.end())
			d->spell.push_back(std::move(s));
		return 0;
	} catch (...) {
		return -ENOMEM;
	}
}

int ixw_add(struct ixw_db *db, const struct ixw_doc *d, struct mc_error *err)
{
	try {
		db->db.add_document(d->doc);
		spell(db->db, d);
		return 0;
	} catch (const Xapian::Error &e) {
		return fail_xapian(err, e);
	} catch (const std::bad_alloc &) {
		return mc_error_set(err, -ENOMEM, "out of memory adding a document");
	} catch (...) {
		return fail_other(err);
	}
}

int ixw_replace(struct ixw_db *db, const char *uterm, const struct ixw_doc *d,
		const char *const *spell_prefixes, int *replaced, struct mc_error *err)
{
	return guarded(err, "replacing a document", [&]() -> int {
		std::string u(uterm);
		Xapian::docid old = find(db->db, u);

		if (old)
			unspell(db->db, old, spell_prefixes);
		db->db.replace_document(u, d->doc);
		spell(db->db, d);
		if (replaced)
			*replaced = old != 0;
		return 0;
	});
}

int ixw_delete(struct ixw_db *db, const char *uterm, const char *const *spell_prefixes,
	       int *deleted, struct mc_error *err)
{
	return guarded(err, "deleting a document", [&]() -> int {
		std::string u(uterm);
		Xapian::docid old = find(db->db, u);

		if (old) {
			unspell(db->db, old, spell_prefixes);
			db->db.delete_document(u);
		}
		if (deleted)
			*deleted = old != 0;
		return 0;
	});
}

int ixw_doc_terms(struct ixw_db *db, const char *uterm,
		  int (*cb)(void *ctx, const char *t, size_t n, unsigned wdf), void *ctx,
		  struct mc_error *err)
{
	return guarded(err, NULL, [&]() -> int {
		Xapian::docid did = find(db->db, uterm);

		if (!did)
			return MC_E_NOTFOUND;
		for (Xapian::TermIterator it = db->db.termlist_begin(did);
		     it != db->db.termlist_end(did); ++it) {
			const std::string &t = *it;
			int rc = cb(ctx, t.data(), t.size(), it.get_wdf());

			if (rc)
				return rc;
		}
		return 0;
	});
}

} // extern "C"

extern "C" int ixw_peek(const char *dir, uint64_t *cursor, uint64_t *rcursor, uint64_t *docs,
			struct mc_error *err)
{
	try {
		Xapian::Database db(dir, Xapian::DB_BACKEND_GLASS);
		std::string v = db.get_metadata("mucluc.cursor");

		*cursor = v.empty() ? 0 : std::strtoull(v.c_str(), nullptr, 10);
		v = db.get_metadata("mucluc.record_cursor");
		*rcursor = v.empty() ? 0 : std::strtoull(v.c_str(), nullptr, 10);
		*docs = db.get_doccount();
		return 0;
	} catch (const Xapian::Error &e) {
		return fail_xapian(err, e);
	} catch (...) {
		return fail_other(err);
	}
}

extern "C" int ixw_spelling_freq(struct ixw_db *db, const char *w, struct mc_error *err)
{
	try {
		Xapian::TermIterator it = db->db.spellings_begin();
		Xapian::doccount f = 0;

		it.skip_to(w);
		if (it != db->db.spellings_end() && *it == w)
			f = it.get_termfreq();

		return f > 0x7fffffff ? 0x7fffffff : (int)f;
	} catch (const Xapian::Error &e) {
		return fail_xapian(err, e);
	} catch (...) {
		return fail_other(err);
	}
}

extern "C" int ixw_compact(const char *const *dirs, size_t n, const char *out,
			   struct mc_error *err)
{
	try {
		Xapian::Database db;

		for (size_t i = 0; i < n; i++)
			db.add_database(Xapian::Database(dirs[i], Xapian::DB_BACKEND_GLASS));
		db.compact(out, Xapian::DBCOMPACT_MULTIPASS);
		return 0;
	} catch (const Xapian::Error &e) {
		return fail_xapian(err, e);
	} catch (const std::bad_alloc &) {
		return mc_error_set(err, -ENOMEM, "out of memory compacting the index");
	} catch (...) {
		return fail_other(err);
	}
}
