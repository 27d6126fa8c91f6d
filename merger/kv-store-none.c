/* kv-store-none.c — stands in for kv-store.c while the store has no
 * key/value databases: the store-backed merger is refused. */
#include "merger-internal.h"

void mg_merger_use_writer(struct mg_merger *m, struct mc_writer *w)
{
	(void)m;
	(void)w;
}

int mg_merger_new_writer(struct mc_writer *w, struct mg_merger **ret)
{
	(void)w;
	(void)ret;
	return MC_E_USAGE;
}

int mg_store_merge(struct mc_store *s, int rebuild, int64_t now, struct mg_stats *st,
		   struct mc_error *err)
{
	return mc_error_set(err, MC_E_USAGE, "this build's store has no key/value databases");
}

int mg_store_override(struct mc_store *s, int kind, const char *id1, const char *id2,
		      int64_t now, struct mc_error *err)
{
	return mc_error_set(err, MC_E_USAGE, "this build's store has no key/value databases");
}

int mg_merger_new_reader(struct mc_reader *r, struct mg_merger **ret)
{
	(void)r;
	(void)ret;
	return MC_E_USAGE;
}
