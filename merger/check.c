/* check.c — `mucluc check` for the merger's data: union records, member
 * summaries, the match-key index, the union feed and their counters, against
 * each other and against the source records, on one read snapshot.
 *
 * Every walk streams in key order with point look-ups (one arena reset per
 * item), so memory stays bounded whatever the store's size; the one set kept
 * is the records not merged yet (feed entries after the merger's cursor),
 * capped at MG_CHECK_PENDING_MAX. What is checked: schemas/check.md. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merger-internal.h"

#define PENDING_MAX MG_CHECK_PENDING_MAX
#define CHAIN_MAX 10000          /* survivor hops followed before calling it a loop */
#define TRIM_EVERY 256          /* items between looks at the RSS (each does point look-ups) */
#define REPAIR_RAISE_MAX 1000000 /* counter steps a repair takes at most */

struct ck {
	struct mc_reader *r;
	struct mc_check *c;
	struct mg_check_res *res;
	struct mc_arena *a;
	struct mc_record *rec;
	struct mc_buf b1, b2;
	struct mg_kidx *pending;     /* refs with feed entries after the cursor */
	int pending_ok;              /* record/member cross-checks possible */
	uint64_t pending_present;    /* ... of which present records */
	uint64_t members_ok;         /* members (merged) whose record is present */
	uint64_t slots;              /* members listed by live unions */
	uint64_t linked;             /* members whose union is live and lists them */
	int lists_bad;               /* some union's list is unsorted or has a ref twice */
	int lookups;                 /* the union walk's second pass: look the members up */
	uint64_t epoch;
	int rebuilding, keys_stale;
	uint64_t cursor, n;
	int rc;                      /* error that stops the check */
};

static void ck_tick(struct ck *x)
{
	if (++x->n % TRIM_EVERY == 0)
		mc_reader_trim(x->r, 0);
}

#define PROBLEM(x, ...) mc_check_report((x)->c, MC_CHECK_PROBLEM, __VA_ARGS__)

/* ---- look-ups ---- */

static int get_mem(struct ck *x, const char *ref, struct mg_mem *m)
{
	const void *v;
	size_t vl;
	int rc = mc_reader_kv_get(x->r, MG_DB_MEMBER, ref, strlen(ref), &v, &vl);

	return rc ? rc : mg_mem_unpack(v, vl, x->a, m);
}

static int get_union(struct ck *x, uint64_t id, struct mg_union *u)
{
	unsigned char k[8];
	const void *v;
	size_t vl;
	int rc;

	mc_put_be64(k, id);
	rc = mc_reader_kv_get(x->r, MG_DB_UNION, k, 8, &v, &vl);
	if (rc)
		return rc;
	u->id = id;
	return mg_union_unpack(v, vl, x->a, u);
}

static int lists(const struct mg_union *u, const char *ref)
{
	size_t lo = 0, hi = u->nmembers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(u->members[mid], ref);

		if (!d)
			return 1;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* The key is indexed (merge.c key_edit): the ref fits the store's key. */
static int indexed(const char *ref)
{
	return 8 + strlen(ref) < MC_MAX_ID_BYTES;
}

static int key_present(struct ck *x, const char *key, const char *ref)
{
	unsigned char k[8 + MC_MAX_ID_BYTES];
	size_t rl = strlen(ref);
	const void *v;
	size_t vl;

	mc_put_be64(k, mg_key_hash(key));
	memcpy(k + 8, ref, rl);
	return mc_reader_kv_get(x->r, MG_DB_KEY, k, 8 + rl, &v, &vl);
}

struct pfind {
	const char *ref;
	int found;
};

static int pfind_one(void *ctx, const char *ref)
{
	struct pfind *p = ctx;

	if (strcmp(p->ref, ref))
		return 0;
	p->found = 1;
	return 1;
}

static int is_pending(struct ck *x, const char *ref)
{
	struct pfind p = { ref, 0 };

	if (x->pending)
		mg_kidx_each(x->pending, mg_key_hash(ref), pfind_one, &p);
	return p.found;
}

/* ---- state, cursor, records not merged yet ---- */

static int pend_one(void *ctx, uint64_t seq, int op, const char *source, const char *local_id)
{
	struct ck *x = ctx;
	char ref[MG_MAX_REF + 2];

	if (mg_kidx_count(x->pending) >= PENDING_MAX) {
		x->pending_ok = 0;
		return 1;
	}
	ck_tick(x);
	snprintf(ref, sizeof(ref), "%s:%s", source, local_id);
	if (is_pending(x, ref))
		return 0;
	x->rc = mg_kidx_add(x->pending, mg_key_hash(ref), ref);
	/* how it is now, for the count of merged present records */
	if (!x->rc && !mc_reader_get(x->r, source, local_id, x->rec, NULL) &&
	    x->rec->status != MC_REC_DELETED)
		x->pending_present++;
	return x->rc != 0;
}

static int load_state(struct ck *x, const struct mc_store_check_res *sres)
{
	const void *v;
	size_t vl;
	char buf[64];
	int rc;

	rc = mc_reader_kv_get(x->r, MG_DB_STATE, "epoch", 5, &v, &vl);
	if (!rc && vl == 8)
		x->epoch = mc_get_be64(v);
	else if (!rc)
		PROBLEM(x, "mg_state: epoch is %zu bytes, not 8", vl);
	else if (rc != MC_E_NOTFOUND)
		return rc;
	x->rebuilding = mc_reader_kv_get(x->r, MG_DB_STATE, "rebuild", 7, &v, &vl) == 0;
	x->keys_stale = mc_reader_state_get(x->r, "merger", "keys", buf, sizeof(buf)) == 0;
	x->res->epoch = x->epoch;
	x->res->rebuilding = x->rebuilding;
	x->res->keys_stale = x->keys_stale;
	if (x->rebuilding)
		mc_check_report(x->c, MC_CHECK_NOTE,
				"a rebuild (epoch %" PRIu64 ") is under way or was cut short: the "
				"old catalogue's members and unions are not checked; "
				"`mucluc merge` finishes it", x->epoch);
	if (x->keys_stale)
		mc_check_report(x->c, MC_CHECK_NOTE,
				"mg_key is marked stale (a large merge runs or was cut short): "
				"not compared; the next `mucluc merge` rebuilds it");

	rc = mc_reader_state_get(x->r, "merger", "cursor", buf, sizeof(buf));
	if (rc == MC_E_NOTFOUND) {
		x->cursor = 0;
	} else if (rc) {
		x->cursor = UINT64_MAX;  /* reported by the store check */
	} else {
		char *end;

		x->cursor = strtoull(buf, &end, 10);
		if (*end)
			x->cursor = UINT64_MAX;
	}
	x->pending_ok = x->cursor != UINT64_MAX;
	if (x->pending_ok && x->cursor < sres->feed_last) {
		rc = mg_kidx_new(&x->pending);
		if (rc)
			return rc;
		rc = mc_reader_feed(x->r, x->cursor, 0, pend_one, x);
		if (x->rc)
			return x->rc;
		if (rc < 0) {
			/* the store check names the bad entry */
			x->pending_ok = 0;
			mc_check_report(x->c, MC_CHECK_NOTE, "the record feed after the merger's "
					"cursor cannot be read (%s): records and members not "
					"compared", mc_strerror(rc));
		} else if (!x->pending_ok) {
			mc_check_report(x->c, MC_CHECK_NOTE,
					"%" PRIu64 " record feed entries are not merged yet (more "
					"than %u): records and members not compared; run "
					"`mucluc merge` first",
					sres->feed_last - x->cursor, (unsigned)PENDING_MAX);
		}
	}
	x->res->pending = sres->feed_last > x->cursor && x->cursor != UINT64_MAX
				  ? sres->feed_last - x->cursor : 0;
	return 0;
}

/* ---- union records ---- */

/* A tombstone's survivor chain ends at a live union or a dissolved one. */
static void check_chain(struct ck *x, const struct mg_union *t)
{
	uint64_t id = t->survivor, prev = t->id;
	int hops;

	for (hops = 0; hops < CHAIN_MAX; hops++) {
		struct mg_union s;
		int rc;

		if (id == t->id) {
			PROBLEM(x, "union %" PRIu64 ": survivor chain loops back to it", t->id);
			return;
		}
		rc = get_union(x, id, &s);
		if (rc == MC_E_NOTFOUND) {
			PROBLEM(x, "union %" PRIu64 ": tombstone's survivor %" PRIu64
				" (reached from %" PRIu64 ") does not exist", t->id, id, prev);
			return;
		}
		if (rc)
			return;  /* reported where that union is walked */
		if (s.status == MG_UNION_LIVE || !s.survivor)
			return;
		prev = id;
		id = s.survivor;
	}
	PROBLEM(x, "union %" PRIu64 ": survivor chain longer than %d hops (a loop?)", t->id,
		CHAIN_MAX);
}

/* The members a live union lists exist and name it. */
static int union_members(struct ck *x, const struct mg_union *u)
{
	size_t i;
	int rc;

	for (i = 0; i < u->nmembers; i++) {
		struct mg_mem m;

		rc = get_mem(x, u->members[i], &m);
		if (rc == MC_E_NOTFOUND)
			PROBLEM(x, "union %" PRIu64 ": member %s does not exist (no member summary)",
				u->id, u->members[i]);
		else if (rc == -ENOMEM)
			return x->rc = rc, 1;
		else if (!rc && m.uid != u->id)
			PROBLEM(x, "union %" PRIu64 ": lists member %s, whose summary says union %" PRIu64,
				u->id, u->members[i], m.uid);
		else if (!rc && m.epoch < x->epoch)
			PROBLEM(x, "union %" PRIu64 ": lists member %s, not re-applied by the rebuild",
				u->id, u->members[i]);
		/* a summary that does not decode is reported by the member walk */
	}
	return 0;
}

/* First pass: the union records themselves (members only counted); the
 * second (x->lookups) looks the members up, when the counts say some
 * listed member is not linked back. */
static int union_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct ck *x = ctx;
	struct mg_union u;
	size_t i;
	int rc, first = !x->lookups;

	ck_tick(x);
	mc_arena_reset(x->a);
	if (kl != 8) {
		if (first)
			PROBLEM(x, "mg_union: a key of %zu bytes (not a union id)", kl);
		return 0;
	}
	u.id = mc_get_be64(k);
	if (first) {
		x->res->unions++;
		if (u.id > x->res->max_union)
			x->res->max_union = u.id;
		if (!u.id)
			PROBLEM(x, "union 0: union ids start at 1");
	}
	rc = mg_union_unpack(v, vl, x->a, &u);
	if (rc == -ENOMEM)
		return x->rc = rc, 1;
	if (rc) {
		if (first)
			PROBLEM(x, "union %" PRIu64 ": record does not decode (%s)", u.id,
				mc_strerror(rc));
		return 0;
	}
	if (x->rebuilding && u.epoch < x->epoch)
		return 0;   /* the old catalogue, until the rebuild's last step */
	if (!first)
		return u.status == MG_UNION_LIVE ? union_members(x, &u) : 0;
	if (u.epoch > x->epoch)
		PROBLEM(x, "union %" PRIu64 ": written in rebuild epoch %" PRIu64
			", after the current %" PRIu64, u.id, u.epoch, x->epoch);
	for (i = 1; i < u.nmembers; i++)
		if (strcmp(u.members[i - 1], u.members[i]) >= 0) {
			PROBLEM(x, "union %" PRIu64 ": members not sorted or listed twice (%s, %s)",
				u.id, u.members[i - 1], u.members[i]);
			x->lists_bad = 1;
		}
	if (u.status == MG_UNION_TOMB) {
		x->res->tombstones++;
		if (u.nmembers)
			PROBLEM(x, "union %" PRIu64 ": tombstone lists %zu members (first %s)", u.id,
				u.nmembers, u.members[0]);
		if (u.survivor)
			check_chain(x, &u);
		return 0;
	}
	if (u.status != MG_UNION_LIVE) {
		PROBLEM(x, "union %" PRIu64 ": unknown status %d", u.id, u.status);
		return 0;
	}
	x->res->live++;
	x->slots += u.nmembers;
	if (!u.nmembers)
		PROBLEM(x, "union %" PRIu64 ": live with no members", u.id);
	if (u.survivor)
		PROBLEM(x, "union %" PRIu64 ": live but names a survivor (%" PRIu64 ")", u.id,
			u.survivor);
	return 0;
}

/* ---- member summaries ---- */

static int has_key(const struct mg_mem *m, const char *k)
{
	size_t i;

	for (i = 0; i < m->nkeys; i++)
		if (!strcmp(m->keys[i], k))
			return 1;
	return 0;
}

/* The summary against the record it was made from. */
static void member_vs_record(struct ck *x, const struct mg_mem *m)
{
	const char *colon = strchr(m->ref, ':');
	char src[MC_MAX_SOURCE_ID + 1];
	struct mg_mem nw;
	struct mc_error e;
	size_t sl, i;
	int rc;

	if (!colon || (sl = (size_t)(colon - m->ref)) > MC_MAX_SOURCE_ID || !sl) {
		PROBLEM(x, "member %s: not a SOURCE:LOCAL-ID reference", m->ref);
		return;
	}
	memcpy(src, m->ref, sl);
	src[sl] = '\0';
	if (is_pending(x, m->ref))
		return;
	mc_error_clear(&e);
	rc = mc_reader_get(x->r, src, colon + 1, x->rec, &e);
	if (rc == MC_E_NOTFOUND) {
		PROBLEM(x, "member %s (union %" PRIu64 "): its record does not exist", m->ref, m->uid);
		return;
	}
	if (rc) {
		PROBLEM(x, "member %s (union %" PRIu64 "): its record does not decode (%s)", m->ref,
			m->uid, mc_strerror(rc));
		return;
	}
	if (x->rec->status == MC_REC_DELETED) {
		PROBLEM(x, "member %s (union %" PRIu64 "): its record is deleted", m->ref, m->uid);
		return;
	}
	x->members_ok++;
	rc = mg_mem_from_record(x->rec, x->a, &nw);
	if (rc) {
		PROBLEM(x, "member %s: no summary can be made of its record (%s)", m->ref,
			mc_strerror(rc));
		return;
	}
	/* what the merger compares for "unchanged" */
	nw.uid = m->uid;
	nw.epoch = m->epoch;
	nw.origin = m->origin;
	nw.datestamp = m->datestamp;
	if (mg_mem_pack(&nw, &x->b1) || mg_mem_pack(m, &x->b2))
		return;
	if (x->b1.len == x->b2.len && !memcmp(x->b1.data, x->b2.data, x->b1.len))
		return;
	for (i = 0; i < m->nkeys; i++)
		if (!has_key(&nw, m->keys[i])) {
			PROBLEM(x, "member %s: summary has match key '%s', which its record does not "
				"give (summary out of date: `mucluc merge --rebuild`)", m->ref,
				m->keys[i]);
			return;
		}
	for (i = 0; i < nw.nkeys; i++)
		if (!has_key(m, nw.keys[i])) {
			PROBLEM(x, "member %s: its record gives match key '%s', which the summary "
				"lacks (summary out of date: `mucluc merge --rebuild`)", m->ref,
				nw.keys[i]);
			return;
		}
	PROBLEM(x, "member %s: summary differs from its record (out of date: "
		"`mucluc merge --rebuild`)", m->ref);
}

static int member_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct ck *x = ctx;
	struct mg_mem m;
	struct mg_union u;
	size_t i, j;
	int rc;

	ck_tick(x);
	mc_arena_reset(x->a);
	x->res->members++;
	rc = mg_mem_unpack(v, vl, x->a, &m);
	if (rc == -ENOMEM)
		return x->rc = rc, 1;
	if (rc) {
		PROBLEM(x, "member %.*s: summary does not decode (%s)", (int)(kl > 200 ? 200 : kl),
			(const char *)k, mc_strerror(rc));
		return 0;
	}
	if (strlen(m.ref) != kl || memcmp(m.ref, k, kl)) {
		PROBLEM(x, "member %.*s: summary names %s", (int)(kl > 200 ? 200 : kl),
			(const char *)k, m.ref);
		return 0;
	}
	if (m.epoch > x->epoch)
		PROBLEM(x, "member %s: written in rebuild epoch %" PRIu64 ", after the current %" PRIu64,
			m.ref, m.epoch, x->epoch);
	if (m.epoch < x->epoch) {
		if (!x->rebuilding)
			PROBLEM(x, "member %s: from rebuild epoch %" PRIu64 ", older than the current %"
				PRIu64 " (left behind by a rebuild)", m.ref, m.epoch, x->epoch);
		return 0;   /* no keys, and its union is the old catalogue's */
	}
	/* its union */
	rc = get_union(x, m.uid, &u);
	if (rc == MC_E_NOTFOUND)
		PROBLEM(x, "member %s: its union %" PRIu64 " does not exist", m.ref, m.uid);
	else if (!rc && u.status != MG_UNION_LIVE)
		PROBLEM(x, "member %s: its union %" PRIu64 " is a tombstone", m.ref, m.uid);
	else if (!rc && !lists(&u, m.ref))
		PROBLEM(x, "member %s: its union %" PRIu64 " does not list it", m.ref, m.uid);
	else if (!rc)
		x->linked++;
	/* its keys in mg_key (one entry per distinct hash) */
	if (!x->keys_stale && indexed(m.ref)) {
		for (i = 0; i < m.nkeys; i++) {
			uint64_t h = mg_key_hash(m.keys[i]);

			for (j = 0; j < i; j++)
				if (mg_key_hash(m.keys[j]) == h)
					break;
			if (j < i)
				continue;
			x->res->keys_expected++;
			rc = key_present(x, m.keys[i], m.ref);
			if (rc == MC_E_NOTFOUND) {
				PROBLEM(x, "member %s: match key '%s' missing from mg_key", m.ref,
					m.keys[i]);
				x->res->keys_bad = 1;
			}
		}
	}
	if (x->pending_ok)
		member_vs_record(x, &m);
	return 0;
}

/* ---- the match-key index ---- */

static int key_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct ck *x = ctx;
	const unsigned char *p = k;
	char ref[MC_MAX_ID_BYTES + 1];
	struct mg_mem m;
	uint64_t h;
	size_t i;
	int rc;

	ck_tick(x);
	mc_arena_reset(x->a);
	if (kl <= 8 || kl - 8 > MC_MAX_ID_BYTES) {
		PROBLEM(x, "mg_key: an entry of %zu bytes (not hash + member)", kl);
		x->res->keys_bad = 1;
		return 0;
	}
	h = mc_get_be64(p);
	memcpy(ref, p + 8, kl - 8);
	ref[kl - 8] = '\0';
	rc = get_mem(x, ref, &m);
	if (rc == -ENOMEM)
		return x->rc = rc, 1;
	if (rc == MC_E_NOTFOUND) {
		PROBLEM(x, "mg_key: key %016" PRIx64 " lists %s, which is not a member", h, ref);
		x->res->keys_bad = 1;
		return 0;
	}
	if (rc)
		return 0;   /* reported by the member walk */
	if (m.epoch < x->epoch) {
		PROBLEM(x, "mg_key: key %016" PRIx64 " lists %s, a member not re-applied by the "
			"rebuild", h, ref);
		x->res->keys_bad = 1;
		return 0;
	}
	for (i = 0; i < m.nkeys; i++)
		if (mg_key_hash(m.keys[i]) == h)
			return 0;
	PROBLEM(x, "mg_key: key %016" PRIx64 " lists %s, but none of its match keys has that hash",
		h, ref);
	x->res->keys_bad = 1;
	return 0;
}

static int key_count(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct ck *x = ctx;

	ck_tick(x);
	x->res->keys++;
	return 0;
}

/* ---- present records are members ---- */

static int record_one(void *ctx, struct mc_record *rec)
{
	struct ck *x = ctx;
	char ref[MG_MAX_REF + 2];
	const void *v;
	size_t vl;
	int rc;

	if (rec->status == MC_REC_DELETED)
		return 0;
	snprintf(ref, sizeof(ref), "%s:%s", rec->source, rec->local_id);
	if (is_pending(x, ref))
		return 0;
	rc = mc_reader_kv_get(x->r, MG_DB_MEMBER, ref, strlen(ref), &v, &vl);
	if (rc == MC_E_NOTFOUND)
		PROBLEM(x, "record %s: present but in no union (no member summary; "
			"`mucluc merge --rebuild`)", ref);
	return 0;
}

/* ---- librarians' rules (mg_override) ---- */

static int is_ref(const char *s, size_t n)
{
	const char *c = memchr(s, ':', n);

	return n && n <= MG_MAX_REF && c && c != s && c + 1 < s + n && !memchr(s, '\t', n);
}

/* The partner list "J\t<a>" names b. */
static int partner_listed(struct ck *x, const char *a, size_t al, const char *b, size_t bl)
{
	char k[MG_MAX_REF + 3];
	struct mg_rd r;
	const void *v;
	size_t vl;
	uint64_t n, i;

	memcpy(k, "J\t", 2);
	memcpy(k + 2, a, al);
	if (mc_reader_kv_get(x->r, MG_DB_OVERRIDE, k, 2 + al, &v, &vl))
		return 0;
	r.p = v;
	r.end = (const unsigned char *)v + vl;
	r.bad = 0;
	n = mg_get_u(&r);
	for (i = 0; i < n && !r.bad; i++) {
		const char *p = mg_get_s(&r, x->a);

		if (p && strlen(p) == bl && !memcmp(p, b, bl))
			return 1;
	}
	return 0;
}

static int override_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct ck *x = ctx;
	const char *p = k, *tab;
	int kind = kl > 2 && p[1] == '\t' ? p[0] : 0;
	int show = (int)(kl > 200 ? 200 : kl), c;
	char name[201];

	/* the key as printed: tabs as spaces, cut at 200 bytes */
	for (c = 0; c < show; c++)
		name[c] = p[c] == '\t' || !p[c] ? ' ' : p[c];
	name[show] = '\0';

	ck_tick(x);
	mc_arena_reset(x->a);
	if (kind == 'J') {
		struct mg_rd r = { v, (const unsigned char *)v + vl, 0 };
		uint64_t n = mg_get_u(&r), i;

		for (i = 0; i < n && !r.bad && i <= vl; i++)
			mg_get_s(&r, x->a);
		if (r.bad || i > vl || r.p != r.end || !is_ref(p + 2, kl - 2))
			PROBLEM(x, "mg_override: partner list %s does not decode", name);
		return 0;
	}
	if (kind == 's') {
		if (!is_ref(p + 2, kl - 2) || vl)
			PROBLEM(x, "mg_override: split rule %s is malformed", name);
		return 0;
	}
	if (kind != 'n' && kind != 'j') {
		PROBLEM(x, "mg_override: unknown rule %s", name);
		return 0;
	}
	tab = memchr(p + 2, '\t', kl - 2);
	if (!tab || vl || !is_ref(p + 2, (size_t)(tab - p - 2)) ||
	    !is_ref(tab + 1, kl - (size_t)(tab + 1 - p))) {
		PROBLEM(x, "mg_override: rule %s is malformed", name);
		return 0;
	}
	{
		const char *a = p + 2, *b = tab + 1;
		size_t al = (size_t)(tab - a), bl = kl - (size_t)(b - p);
		int d = memcmp(a, b, al < bl ? al : bl);

		if (d > 0 || (d == 0 && al >= bl))
			PROBLEM(x, "mg_override: rule %s: refs not in byte order", name);
		else if (kind == 'j' && !partner_listed(x, a, al, b, bl))
			PROBLEM(x, "mg_override: join rule %.*s %.*s: J list of the first lacks the second",
				(int)al, a, (int)bl, b);
		else if (kind == 'j' && !partner_listed(x, b, bl, a, al))
			PROBLEM(x, "mg_override: join rule %.*s %.*s: J list of the second lacks the first",
				(int)al, a, (int)bl, b);
	}
	return 0;
}

/* ---- the union feed and the counters ---- */

struct ufeed {
	struct ck *x;
	uint64_t prev, gaps;
};

static int ufeed_one(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct ufeed *f = ctx;
	struct ck *x = f->x;
	const void *uv;
	size_t uvl;
	uint64_t seq, id;
	unsigned char uk[8];

	ck_tick(x);
	x->res->feed++;
	if (kl != 8 || vl != 8) {
		PROBLEM(x, "mg_feed: an entry of %zu + %zu bytes (not 8 + 8)", kl, vl);
		return 0;
	}
	seq = mc_get_be64(k);
	id = mc_get_be64(v);
	if (seq != f->prev + 1 && f->gaps++ < 10)
		PROBLEM(x, "mg_feed: sequence %" PRIu64 " follows %" PRIu64 " (entries missing)", seq,
			f->prev);
	f->prev = seq;
	x->res->feed_last = seq;
	mc_put_be64(uk, id);
	if (mc_reader_kv_get(x->r, MG_DB_UNION, uk, 8, &uv, &uvl) == MC_E_NOTFOUND)
		PROBLEM(x, "mg_feed: entry %" PRIu64 " names union %" PRIu64 ", which does not exist",
			seq, id);
	return 0;
}

static void check_counter(struct ck *x, const char *name, uint64_t max, const char *what,
			  int *bad)
{
	uint64_t v = 0;
	int rc = mc_reader_seq_get(x->r, name, &v);

	if (rc && rc != MC_E_NOTFOUND) {
		PROBLEM(x, "counter %s: %s", name, mc_strerror(rc));
		return;
	}
	if (v < max) {
		PROBLEM(x, "counter %s: %" PRIu64 " is behind the %s (%" PRIu64 "): it would give "
			"a number again", name, v, what, max);
		*bad = 1;
	}
}

int mg_check(struct mc_reader *r, const struct mc_store_check_res *sres, struct mc_check *c,
	     struct mg_check_res *res, struct mc_error *err)
{
	struct ck x;
	struct ufeed f;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&x, 0, sizeof(x));
	x.r = r;
	x.c = c;
	x.res = res;
	mc_buf_init(&x.b1, 64u << 20);
	mc_buf_init(&x.b2, 64u << 20);
	rc = mc_arena_new(64u << 20, &x.a);
	rc = rc ? rc : mc_record_new(&x.rec);
	rc = rc ? rc : load_state(&x, sres);
	if (!rc)
		rc = mc_reader_kv_each(r, MG_DB_UNION, NULL, 0, union_one, &x);
	if (!rc && !x.rc)
		rc = mc_reader_kv_each(r, MG_DB_MEMBER, NULL, 0, member_one, &x);
	/* Each member a live union lists, if linked back (its summary names a
	 * live union listing it), is a distinct slot: as many links as slots
	 * prove every listed member exists and names its union. */
	if (!rc && !x.rc && (x.linked != x.slots || x.lists_bad)) {
		x.lookups = 1;
		rc = mc_reader_kv_each(r, MG_DB_UNION, NULL, 0, union_one, &x);
	}
	/* Likewise every key of every member was found in mg_key: as many
	 * entries as keys prove there is no other; only a difference needs the
	 * walk that names the strays. */
	if (!rc && !x.rc && !x.keys_stale)
		rc = mc_reader_kv_each(r, MG_DB_KEY, NULL, 0, key_count, &x);
	if (!rc && !x.rc && !x.keys_stale && (res->keys != res->keys_expected || res->keys_bad))
		rc = mc_reader_kv_each(r, MG_DB_KEY, NULL, 0, key_one, &x);
	/* Every merged present record is a member: each member counted in
	 * members_ok is a distinct such record, so equal counts prove it and
	 * only a difference needs the walk that names them. */
	if (!rc && !x.rc && x.pending_ok &&
	    (!sres->records_complete || x.members_ok != sres->present - x.pending_present))
		rc = mc_reader_each(r, NULL, record_one, &x, NULL);
	if (rc == MC_E_CORRUPT || rc == MC_E_VERSION)
		rc = 0;   /* a record that does not decode: the store check names it */
	if (!rc && !x.rc)
		rc = mc_reader_kv_each(r, MG_DB_OVERRIDE, NULL, 0, override_one, &x);
	if (!rc && !x.rc) {
		f.x = &x;
		f.prev = f.gaps = 0;
		rc = mc_reader_kv_each(r, MG_DB_FEED, NULL, 0, ufeed_one, &f);
		if (f.gaps > 10)
			mc_check_report(c, MC_CHECK_NOTE, "mg_feed: %" PRIu64 " more gaps not shown",
					f.gaps - 10);
	}
	if (!rc && !x.rc) {
		check_counter(&x, MG_DB_UNION, res->max_union, "largest union id",
			      &res->union_seq_bad);
		check_counter(&x, MG_DB_FEED, res->feed_last, "union feed's last sequence",
			      &res->feed_seq_bad);
		if (!x.keys_stale && res->keys != res->keys_expected && !res->keys_bad)
			PROBLEM(&x, "mg_key: %" PRIu64 " entries, the members' keys give %" PRIu64,
				res->keys, res->keys_expected);
	}
	if (x.rc)
		rc = x.rc;
	mg_kidx_free(x.pending);
	mc_record_free(x.rec);
	mc_arena_free(x.a);
	mc_buf_free(&x.b1);
	mc_buf_free(&x.b2);
	if (rc)
		return mc_error_set(err, rc, "checking the union records: %s", mc_strerror(rc));
	return 0;
}

/* ---- repair ---- */

struct rp {
	struct mc_writer *w;
	struct mc_check *c;
	struct mc_arena *a;
	uint64_t epoch, n;
	char **extra;                /* mg_key entries to delete (key bytes, length first) */
	size_t nextra, cap;
	int rc;
};

static void rp_tick(struct rp *p)
{
	if (++p->n % TRIM_EVERY == 0)
		mc_writer_trim(p->w, MG_TRIM_RSS);
}

/* Every key of every current member is in mg_key (written while walking
 * mg_member, which is allowed). */
static int rp_member(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct rp *p = ctx;
	unsigned char key[8 + MC_MAX_ID_BYTES];
	struct mg_mem m;
	const void *ev;
	size_t evl, i, rl;

	rp_tick(p);
	mc_arena_reset(p->a);
	if (mg_mem_unpack(v, vl, p->a, &m) || m.epoch < p->epoch || !indexed(m.ref))
		return 0;
	rl = strlen(m.ref);
	memcpy(key + 8, m.ref, rl);
	for (i = 0; i < m.nkeys; i++) {
		mc_put_be64(key, mg_key_hash(m.keys[i]));
		p->rc = mc_writer_kv_get(p->w, MG_DB_KEY, key, 8 + rl, &ev, &evl);
		if (p->rc != MC_E_NOTFOUND)
			continue;
		p->rc = mc_writer_kv_put(p->w, MG_DB_KEY, key, 8 + rl, "", 0);
		if (p->rc)
			return 1;
		mc_check_report(p->c, MC_CHECK_REPAIRED, "mg_key: added key '%s' of %s", m.keys[i],
				m.ref);
	}
	p->rc = 0;
	return 0;
}

/* mg_key entries no current member's keys give: noted, deleted after the walk */
static int rp_key(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
	struct rp *p = ctx;
	char ref[MC_MAX_ID_BYTES + 1];
	const void *mv;
	size_t mvl, i;
	struct mg_mem m;
	uint64_t h;
	char *e;

	rp_tick(p);
	mc_arena_reset(p->a);
	if (kl > 8 && kl - 8 <= MC_MAX_ID_BYTES) {
		h = mc_get_be64(k);
		memcpy(ref, (const char *)k + 8, kl - 8);
		ref[kl - 8] = '\0';
		if (!mc_writer_kv_get(p->w, MG_DB_MEMBER, ref, kl - 8, &mv, &mvl) &&
		    !mg_mem_unpack(mv, mvl, p->a, &m) && m.epoch >= p->epoch)
			for (i = 0; i < m.nkeys; i++)
				if (mg_key_hash(m.keys[i]) == h)
					return 0;
	}
	if (p->nextra == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 64;
		void *np = realloc(p->extra, nc * sizeof(*p->extra));

		if (!np)
			return p->rc = -ENOMEM, 1;
		p->extra = np;
		p->cap = nc;
	}
	e = malloc(sizeof(size_t) + kl);
	if (!e)
		return p->rc = -ENOMEM, 1;
	memcpy(e, &kl, sizeof(size_t));
	memcpy(e + sizeof(size_t), k, kl);
	p->extra[p->nextra++] = e;
	return 0;
}

static int repair_keys(struct mc_writer *w, const struct mg_check_res *res, struct mc_check *c,
		       struct mc_error *err)
{
	struct rp p;
	size_t i;
	int rc;

	memset(&p, 0, sizeof(p));
	p.w = w;
	p.c = c;
	p.epoch = res->epoch;
	rc = mc_arena_new(64u << 20, &p.a);
	if (rc)
		return mc_error_set(err, rc, "out of memory");
	rc = mc_writer_kv_each(w, MG_DB_MEMBER, NULL, 0, rp_member, &p);
	if (!rc && !p.rc)
		rc = mc_writer_kv_each(w, MG_DB_KEY, NULL, 0, rp_key, &p);
	if (p.rc)
		rc = p.rc;
	for (i = 0; i < p.nextra; i++) {
		size_t kl;
		const unsigned char *kb = (const unsigned char *)p.extra[i] + sizeof(size_t);

		memcpy(&kl, p.extra[i], sizeof(size_t));
		if (!rc) {
			rc = mc_writer_kv_del(w, MG_DB_KEY, kb, kl);
			rc = rc == MC_E_NOTFOUND ? 0 : rc;
			if (!rc && kl > 8)
				mc_check_report(c, MC_CHECK_REPAIRED,
						"mg_key: removed key %016" PRIx64 " of %.*s",
						mc_get_be64(kb), (int)(kl - 8), (const char *)kb + 8);
			else if (!rc)
				mc_check_report(c, MC_CHECK_REPAIRED,
						"mg_key: removed an entry of %zu bytes", kl);
		}
		free(p.extra[i]);
	}
	free(p.extra);
	mc_arena_free(p.a);
	if (rc)
		return mc_error_set(err, rc, "repairing mg_key: %s", mc_strerror(rc));
	return 0;
}

/* Step counter name until it says max (the numbers up to max are in use). */
static int raise_counter(struct mc_writer *w, const char *name, uint64_t max, struct mc_check *c,
			 struct mc_error *err)
{
	uint64_t v = 0, steps = 0, first = 0;
	int rc;

	while (v < max && steps < REPAIR_RAISE_MAX) {
		rc = mc_writer_seq_next(w, name, &v);
		if (rc)
			return mc_error_set(err, rc, "raising the counter %s: %s", name, mc_strerror(rc));
		if (!steps++)
			first = v - 1;
	}
	if (v < max) {
		mc_check_report(c, MC_CHECK_NOTE, "counter %s: %" PRIu64 " steps behind; not raised "
				"(more than %u)", name, max - first, (unsigned)REPAIR_RAISE_MAX);
		return MC_E_TOOBIG;
	}
	mc_check_report(c, MC_CHECK_REPAIRED, "counter %s: raised from %" PRIu64 " to %" PRIu64,
			name, first, v);
	return 0;
}

int mg_check_repair(struct mc_writer *w, const struct mg_check_res *res, struct mc_check *c,
		    struct mc_error *err)
{
	int rc = 0;

	if (res->keys_bad && !res->keys_stale && !res->rebuilding)
		rc = repair_keys(w, res, c, err);
	if (!rc && res->union_seq_bad)
		rc = raise_counter(w, MG_DB_UNION, res->max_union, c, err);
	if (!rc && res->feed_seq_bad)
		rc = raise_counter(w, MG_DB_FEED, res->feed_last, c, err);
	return rc == MC_E_TOOBIG ? 0 : rc;
}
