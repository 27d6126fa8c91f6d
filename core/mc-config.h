/* mc-config.h — the catalogue's configuration file (one INI file).
 *
 * Found by `-c FILE`, else $MUCLUC_CONFIG, else ./mucluc.ini. Sections:
 * [catalogue], [server], and one [source "ID"] per library. Every key is
 * documented in schemas/config.md. Unknown sections or keys, bad values and
 * duplicate sources are errors naming the file and line. */
#ifndef MC_CONFIG_H
#define MC_CONFIG_H

#include <stddef.h>

#include "mc-error.h"

/* What kind of library a source is (for the provincial report). */
enum mc_source_type {
	MC_SRC_PROVINCIAL = 1, /* thư viện tỉnh: provincial library */
	MC_SRC_DISTRICT,       /* district (huyện) library */
	MC_SRC_COMMUNE,        /* commune (xã/phường) library or reading room */
	MC_SRC_SCHOOL,
	MC_SRC_UNIVERSITY,
	MC_SRC_SPECIALISED,
	MC_SRC_ARMED_FORCES,
	MC_SRC_COMMUNITY,
	MC_SRC_PRIVATE,
	MC_SRC_TYPE_COUNT
};

enum mc_visibility { MC_VIS_PUBLIC = 0, MC_VIS_RESTRICTED = 1 };

/* One [source "ID"] section. Strings are owned by the mc_config. */
struct mc_source {
	char id[64];              /* [A-Za-z0-9._-]{1,63} */
	const char *name;         /* required */
	int type;                 /* enum mc_source_type; required */
	const char *province;     /* free text, or NULL */
	const char *url;          /* OAI-PMH base URL, or NULL (file imports only) */
	const char *metadata_prefix; /* default "oai_dc" */
	int metadata_prefix_given;   /* 1 if the file sets it (else the harvester may choose) */
	const char **sets;        /* OAI sets to harvest; nsets == 0: the whole repository */
	size_t nsets, sets_cap;
	int visibility;           /* enum mc_visibility; default public */
	int full_delete_limit;    /* harvest --full marks at most this percentage of the
	                             source's records deleted (without --force);
	                             -1: [harvest] full_delete_limit */
	int line;                 /* line of the section header in the file */
};

/* The [harvest] section: how `mucluc harvest` talks to OAI-PMH providers. */
struct mc_harvest_config {
	int jobs;                 /* sources harvested in parallel; default 4 (1..64) */
	int timeout;              /* seconds for one whole request, 0 = none (default) */
	int connect_timeout;      /* seconds to connect; default 30 */
	int low_speed_time;       /* abort a transfer slower than 1 byte/s for this long; default 60 */
	int retries;              /* attempts per request before the source fails; default 5 */
	double retry_wait;        /* first backoff wait in seconds (doubles each time); default 2 */
	double retry_max_wait;    /* cap of one wait, and of a honoured Retry-After; default 300 */
	const char *ca_file;      /* extra CA certificates (PEM), or NULL */
	const char *user_agent_contact; /* "+contact" in the User-Agent; default admin_email */
	int full_delete_limit;    /* percent (0..100) of a source's records one --full run
	                             may mark deleted without --force; default 50 */
	int line;                 /* line of the section header, 0 if absent */
};

/* The [server] section beyond listen: limits and logging of `mucluc serve`. */
struct mc_server_config {
	int threads;              /* worker threads; 0 (default): one per CPU (1..64) */
	const char *access_log;   /* combined-log-format file, or NULL: no log (default) */
	int max_connections;      /* open client connections at most; default 4096 */
	int idle_timeout;         /* seconds a connection may stay silent; default 15 */
	int request_timeout;      /* seconds one request may take to arrive; default 10 */
	int max_header_bytes;     /* request headers (431 past it); default 8192 */
	int max_body_bytes;       /* request body (413 past it); default 4096 */
	int max_uri_bytes;        /* request target (414 past it); default 4096 */
	const char *cors_origins; /* "*" (default), or origins separated by spaces, or "" (none) */
};

struct mc_config {
	const char *path;         /* the file as given */
	const char *dir;          /* its directory, absolute */
	/* [catalogue] */
	const char *name;         /* default "mucluc" */
	const char *data_dir;     /* absolute (relative values are resolved against dir);
	                             default <dir>/data */
	const char *store_dir;    /* <data_dir>/store */
	const char *quarantine_dir; /* <data_dir>/quarantine */
	const char *repository_identifier; /* or NULL */
	const char *admin_email;  /* or NULL */
	/* [server] (schemas/config.md; `mucluc serve`) */
	const char *listen;       /* "host:port"; default "127.0.0.1:8080" */
	struct mc_server_config server;
	/* [harvest] */
	struct mc_harvest_config harvest;
	/* [source "ID"] sections, in file order */
	struct mc_source *sources;
	size_t nsources;
};

/* The config file to use: opt (from -c) if not NULL, else $MUCLUC_CONFIG if
 * set and non-empty, else "mucluc.ini". Borrowed (opt, the environment or a
 * static string). */
const char *mc_config_path(const char *opt);

/* Read and check the configuration in path. Caller frees with
 * mc_config_free; *ret set only on success. 0, -errno (cannot open: err
 * names the file), MC_E_CONFIG (err->file and err->line say where, err->msg
 * what: "unknown key 'nmae' in [source \"hcm\"]"), -ENOMEM.
 * mc_error_format(err) gives "mucluc.ini:12: unknown key ...". */
int mc_config_load(const char *path, struct mc_config **ret, struct mc_error *err);

/* Free the configuration and every string in it. NULL is a no-op. */
void mc_config_free(struct mc_config *c);

/* Create data_dir (and its parents), store_dir and quarantine_dir when
 * missing; existing ones are fine (`mucluc init` is idempotent). 0 or -errno
 * with err naming the directory. */
int mc_config_make_dirs(const struct mc_config *c, struct mc_error *err);

/* The source with this id, or NULL. Borrowed until mc_config_free. */
const struct mc_source *mc_config_source(const struct mc_config *c, const char *id);

/* 1 if s is a name of 1 to max bytes of [A-Za-z0-9._-], else 0: the one
 * rule for source ids, stage lock names and the store's kv database names
 * (each adds its own exceptions). s may be NULL (0). */
int mc_name_valid(const char *s, size_t max);
/* 1 if s is a valid source id ([A-Za-z0-9._-]{1,63}), else 0. */
int mc_source_id_valid(const char *s);

/* "provincial", "district", ... ("?" for an unknown value). Static storage. */
const char *mc_source_type_name(int type);
/* Parse a type name. 0 or MC_E_CONFIG. */
int mc_source_type_parse(const char *s, int *ret);
/* "public" / "restricted". Static storage. */
const char *mc_visibility_name(int vis);

#endif
