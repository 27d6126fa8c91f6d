/* config.c — the INI configuration file (inih), checked key by key. */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "mc-buf.h"
#include "mc-config.h"
#include "mc-limits.h"
#include "mc-text.h"

static const char *const type_names[MC_SRC_TYPE_COUNT] = {
	[MC_SRC_PROVINCIAL] = "provincial",
	[MC_SRC_DISTRICT] = "district",
	[MC_SRC_COMMUNE] = "commune",
	[MC_SRC_SCHOOL] = "school",
	[MC_SRC_UNIVERSITY] = "university",
	[MC_SRC_SPECIALISED] = "specialised",
	[MC_SRC_ARMED_FORCES] = "armed-forces",
	[MC_SRC_COMMUNITY] = "community",
	[MC_SRC_PRIVATE] = "private",
};

const char *mc_source_type_name(int type)
{
	if (type <= 0 || type >= MC_SRC_TYPE_COUNT)
		return "?";
	return type_names[type];
}

int mc_source_type_parse(const char *s, int *ret)
{
	int t;

	for (t = 1; t < MC_SRC_TYPE_COUNT; t++)
		if (strcmp(s, type_names[t]) == 0) {
			*ret = t;
			return 0;
		}
	return MC_E_CONFIG;
}

const char *mc_visibility_name(int vis)
{
	return vis == MC_VIS_RESTRICTED ? "restricted" : "public";
}

int mc_name_valid(const char *s, size_t max)
{
	size_t n;

	if (!s)
		return 0;
	for (n = 0; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n >= max)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return n > 0;
}

int mc_source_id_valid(const char *s)
{
	return mc_name_valid(s, MC_MAX_SOURCE_ID);
}

const char *mc_config_path(const char *opt)
{
	const char *env;

	if (opt)
		return opt;
	env = getenv("MUCLUC_CONFIG");
	if (env && *env)
		return env;
	return "mucluc.ini";
}

/* ---- parsing ---- */

enum section_kind { SEC_NONE, SEC_CATALOGUE, SEC_SERVER, SEC_HARVEST, SEC_SOURCE };

/* Keys of each section, as bits in a "seen" mask (duplicates are errors). */
static const char *const catalogue_keys[] = {
	"name", "data_dir", "repository_identifier", "admin_email", NULL,
};
static const char *const server_keys[] = {
	"listen", "threads", "access_log", "max_connections", "idle_timeout", "request_timeout",
	"max_header_bytes", "max_body_bytes", "max_uri_bytes", "cors_origins", NULL,
};
static const char *const harvest_keys[] = {
	"jobs", "timeout", "connect_timeout", "low_speed_time", "retries", "retry_wait",
	"retry_max_wait", "ca_file", "user_agent_contact", "full_delete_limit", NULL,
};
static const char *const source_keys[] = {
	"name", "type", "province", "url", "metadata_prefix", "set", "visibility",
	"full_delete_limit", NULL,
};

struct load_ctx {
	FILE *f;
	struct mc_config *cfg;
	struct mc_arena *arena;
	size_t sources_cap;
	int lineno;            /* line the reader handed to inih last */
	enum section_kind kind;
	char section[256];   /* current section name, for messages */
	unsigned seen;         /* keys seen in the current section */
	int catalogue_line, server_line, harvest_line;
	int seen_retry_wait, seen_retry_max_wait, seen_full_delete_limit, seen_max_body;
	/* first error */
	int err_code;
	int err_line;
	char err_msg[512];
};

static int fail(struct load_ctx *c, int line, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct load_ctx *c, int line, int code, const char *fmt, ...)
{
	va_list ap;

	if (c->err_code)
		return 0;
	c->err_code = code;
	c->err_line = line;
	va_start(ap, fmt);
	vsnprintf(c->err_msg, sizeof(c->err_msg), fmt, ap);
	va_end(ap);
	return 0;
}

static int key_index(const char *const *keys, const char *name)
{
	int i;

	for (i = 0; keys[i]; i++)
		if (strcmp(keys[i], name) == 0)
			return i;
	return -1;
}

static struct mc_source *cur_source(struct load_ctx *c)
{
	return &c->cfg->sources[c->cfg->nsources - 1];
}

/* A section header line "[...]" was read: start a new section. */
static void section_begin(struct load_ctx *c, const char *name, size_t len)
{
	struct mc_config *cfg = c->cfg;
	char id[256];
	struct mc_source *s;
	size_t i, idlen;

	c->seen = 0;
	c->kind = SEC_NONE;
	snprintf(c->section, sizeof(c->section), "%.*s", (int)len, name);
	if (strcmp(c->section, "catalogue") == 0) {
		if (c->catalogue_line) {
			fail(c, c->lineno, MC_E_CONFIG, "duplicate section [catalogue] (first at line %d)",
			     c->catalogue_line);
			return;
		}
		c->catalogue_line = c->lineno;
		c->kind = SEC_CATALOGUE;
		return;
	}
	if (strcmp(c->section, "server") == 0) {
		if (c->server_line) {
			fail(c, c->lineno, MC_E_CONFIG, "duplicate section [server] (first at line %d)",
			     c->server_line);
			return;
		}
		c->server_line = c->lineno;
		c->kind = SEC_SERVER;
		return;
	}
	if (strcmp(c->section, "harvest") == 0) {
		if (c->harvest_line) {
			fail(c, c->lineno, MC_E_CONFIG, "duplicate section [harvest] (first at line %d)",
			     c->harvest_line);
			return;
		}
		c->harvest_line = c->lineno;
		cfg->harvest.line = c->lineno;
		c->kind = SEC_HARVEST;
		return;
	}
	if (len < 8 || memcmp(name, "source", 6) != 0 || (name[6] != ' ' && name[6] != '\t')) {
		fail(c, c->lineno, MC_E_CONFIG,
		     "unknown section [%s] (expected [catalogue], [server], [harvest] or "
		     "[source \"ID\"])",
		     c->section);
		return;
	}
	name += 7;
	len -= 7;
	while (len && (*name == ' ' || *name == '\t')) {
		name++;
		len--;
	}
	if (len < 2 || name[0] != '"' || name[len - 1] != '"') {
		fail(c, c->lineno, MC_E_CONFIG, "bad section [%s]: the id must be quoted: [source \"ID\"]",
		     c->section);
		return;
	}
	idlen = len - 2;
	memcpy(id, name + 1, idlen);
	id[idlen] = '\0';
	if (!mc_source_id_valid(id)) {
		fail(c, c->lineno, MC_E_CONFIG,
		     "bad source id \"%s\": use 1 to %d of A-Z a-z 0-9 . _ -", id, MC_MAX_SOURCE_ID);
		return;
	}
	for (i = 0; i < cfg->nsources; i++)
		if (strcmp(cfg->sources[i].id, id) == 0) {
			fail(c, c->lineno, MC_E_CONFIG, "duplicate source \"%s\" (first at line %d)", id,
			     cfg->sources[i].line);
			return;
		}
	if (cfg->nsources >= MC_MAX_CONFIG_SOURCES) {
		fail(c, c->lineno, MC_E_TOOBIG, "more than %d sources", MC_MAX_CONFIG_SOURCES);
		return;
	}
	if (cfg->nsources == c->sources_cap) {
		size_t ncap = c->sources_cap ? c->sources_cap * 2 : 16;
		void *p = realloc(cfg->sources, ncap * sizeof(*cfg->sources));

		if (!p) {
			fail(c, c->lineno, -ENOMEM, "out of memory");
			return;
		}
		cfg->sources = p;
		c->sources_cap = ncap;
	}
	s = &cfg->sources[cfg->nsources++];
	memset(s, 0, sizeof(*s));
	memcpy(s->id, id, idlen + 1);
	s->line = c->lineno;
	s->metadata_prefix = "oai_dc";
	s->visibility = MC_VIS_PUBLIC;
	s->full_delete_limit = -1;
	c->kind = SEC_SOURCE;
}

/* inih reader: one line at a time, counting lines and noticing section
 * headers (inih reports sections only with their first key, which would
 * miss empty and duplicate sections). */
static char *reader(char *str, int num, void *stream)
{
	struct load_ctx *c = stream;
	size_t len;
	char *p, *end;

	if (c->err_code == -ENOMEM || c->err_code == MC_E_TOOBIG)
		return NULL;
	if (!fgets(str, num, c->f))
		return NULL;
	c->lineno++;
	len = strlen(str);
	if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(c->f)) {
		fail(c, c->lineno, MC_E_CONFIG, "line longer than %d bytes", num - 3);
		return NULL;
	}
	p = str;
	if (c->lineno == 1 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end) {
			fail(c, c->lineno, MC_E_CONFIG, "section header without ']'");
		} else {
			p++;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			section_begin(c, p, (size_t)(end - p));
		}
	}
	return str;
}

static const char *keep(struct load_ctx *c, const char *s)
{
	const char *p = mc_arena_strdup(c->arena, s);

	if (!p)
		fail(c, c->lineno, -ENOMEM, "out of memory");
	return p;
}

static int check_listen(const char *v)
{
	const char *colon = strrchr(v, ':');
	char *end;
	long port;

	if (!colon || colon == v || !colon[1])
		return -1;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || port < 0 || port > 65535)
		return -1;
	return 0;
}

/* An integer key of [server] within [lo, hi]. */
static int server_int(struct load_ctx *c, const char *name, const char *value, long lo, long hi,
		      int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || *end || end == value || v < lo || v > hi)
		return fail(c, c->lineno, MC_E_CONFIG, "bad %s '%s' in [server]: %ld to %ld", name,
			    value, lo, hi);
	*ret = (int)v;
	return 1;
}

static int server_key(struct load_ctx *c, const char *name, const char *value)
{
	struct mc_config *cfg = c->cfg;
	struct mc_server_config *sv = &cfg->server;

	if (strcmp(name, "listen") == 0) {
		if (check_listen(value))
			return fail(c, c->lineno, MC_E_CONFIG,
				    "bad listen '%s': expected host:port (port 0-65535)", value);
		cfg->listen = keep(c, value);
	} else if (strcmp(name, "threads") == 0) {
		return server_int(c, name, value, 0, 64, &sv->threads);
	} else if (strcmp(name, "access_log") == 0) {
		if (value[0] == '/')
			sv->access_log = keep(c, value);
		else if (!(sv->access_log = mc_arena_printf(c->arena, "%s/%s", cfg->dir, value)))
			fail(c, c->lineno, -ENOMEM, "out of memory");
	} else if (strcmp(name, "max_connections") == 0) {
		return server_int(c, name, value, 1, 1000000, &sv->max_connections);
	} else if (strcmp(name, "idle_timeout") == 0) {
		return server_int(c, name, value, 1, 3600, &sv->idle_timeout);
	} else if (strcmp(name, "request_timeout") == 0) {
		return server_int(c, name, value, 1, 3600, &sv->request_timeout);
	} else if (strcmp(name, "max_header_bytes") == 0) {
		return server_int(c, name, value, 1024, 1048576, &sv->max_header_bytes);
	} else if (strcmp(name, "max_body_bytes") == 0) {
		c->seen_max_body = 1;
		return server_int(c, name, value, 0, 1048576, &sv->max_body_bytes);
	} else if (strcmp(name, "max_uri_bytes") == 0) {
		return server_int(c, name, value, 256, 65536, &sv->max_uri_bytes);
	} else {
		sv->cors_origins = keep(c, strcmp(value, "none") == 0 ? "" : value);
	}
	return 1;
}

static int add_sets(struct load_ctx *c, struct mc_source *s, const char *v)
{
	const char *p = v, *q;
	size_t n, i;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		for (q = p; *q && *q != ','; q++)
			;
		n = (size_t)(q - p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		for (i = 0; i < n; i++)
			if (p[i] == ' ' || p[i] == '\t')
				return fail(c, c->lineno, MC_E_CONFIG,
					    "bad set \"%.*s\": set specs have no spaces (separate sets "
					    "with commas)", (int)n, p);
		if (mc_arena_grow(c->arena, (void **)&s->sets, &s->nsets, &s->sets_cap,
				  sizeof(*s->sets)) ||
		    !(s->sets[s->nsets] = mc_arena_strndup(c->arena, p, n)))
			return fail(c, c->lineno, -ENOMEM, "out of memory");
		s->nsets++;
		p = q;
	}
	return 1;
}

/* An integer in [lo, hi]. 0 or -1. */
static int parse_int(const char *v, long lo, long hi, int *ret)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return -1;
	*ret = (int)n;
	return 0;
}

/* A share in percent: a whole number 0..100, "%" after it allowed. 0 or -1. */
static int parse_percent(const char *v, int *ret)
{
	char tmp[16];
	size_t n = strlen(v);

	if (n && v[n - 1] == '%')
		n--;
	if (!n || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	return parse_int(tmp, 0, 100, ret);
}

/* A number of seconds in [lo, hi] (decimals allowed). 0 or -1. */
static int parse_seconds(const char *v, double lo, double hi, double *ret)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !(d >= lo && d <= hi))
		return -1;
	*ret = d;
	return 0;
}

static int harvest_key(struct load_ctx *c, const char *name, const char *value)
{
	struct mc_harvest_config *h = &c->cfg->harvest;
	int bad = 0;

	if (strcmp(name, "jobs") == 0)
		bad = parse_int(value, 1, 64, &h->jobs);
	else if (strcmp(name, "timeout") == 0)
		bad = parse_int(value, 0, 86400, &h->timeout);
	else if (strcmp(name, "connect_timeout") == 0)
		bad = parse_int(value, 1, 3600, &h->connect_timeout);
	else if (strcmp(name, "low_speed_time") == 0)
		bad = parse_int(value, 1, 3600, &h->low_speed_time);
	else if (strcmp(name, "retries") == 0)
		bad = parse_int(value, 1, 100, &h->retries);
	else if (strcmp(name, "retry_wait") == 0)
		bad = parse_seconds(value, 0, 3600, &h->retry_wait), c->seen_retry_wait = 1;
	else if (strcmp(name, "retry_max_wait") == 0)
		bad = parse_seconds(value, 0, 86400, &h->retry_max_wait), c->seen_retry_max_wait = 1;
	else if (strcmp(name, "ca_file") == 0)
		h->ca_file = value[0] == '/' ? keep(c, value)
					     : mc_arena_printf(c->arena, "%s/%s", c->cfg->dir, value);
	else if (strcmp(name, "full_delete_limit") == 0)
		bad = parse_percent(value, &h->full_delete_limit), c->seen_full_delete_limit = 1;
	else
		h->user_agent_contact = keep(c, value);
	if (bad && strcmp(name, "full_delete_limit") == 0)
		return fail(c, c->lineno, MC_E_CONFIG,
			    "bad full_delete_limit '%s' in [harvest]: a percentage from 0%% to 100%%",
			    value);
	if (bad)
		return fail(c, c->lineno, MC_E_CONFIG, "bad %s '%s' in [harvest]: %s", name, value,
			    strcmp(name, "jobs") == 0 ? "a whole number from 1 to 64"
			    : strcmp(name, "retries") == 0 ? "a whole number from 1 to 100"
			    : strncmp(name, "retry_", 6) == 0 ? "a number of seconds"
							      : "a whole number of seconds");
	if (!h->ca_file && strcmp(name, "ca_file") == 0)
		return fail(c, c->lineno, -ENOMEM, "out of memory");
	return c->err_code ? 0 : 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *c = user;
	struct mc_config *cfg = c->cfg;
	const char *const *keys;
	struct mc_source *s = NULL;
	char where[320];
	int k;

	if (c->err_code)
		return 0;
	switch (c->kind) {
	case SEC_CATALOGUE:
		keys = catalogue_keys;
		snprintf(where, sizeof(where), "[catalogue]");
		break;
	case SEC_SERVER:
		keys = server_keys;
		snprintf(where, sizeof(where), "[server]");
		break;
	case SEC_HARVEST:
		keys = harvest_keys;
		snprintf(where, sizeof(where), "[harvest]");
		break;
	case SEC_SOURCE:
		keys = source_keys;
		s = cur_source(c);
		snprintf(where, sizeof(where), "[source \"%s\"]", s->id);
		break;
	default:
		return fail(c, c->lineno, MC_E_CONFIG, "key '%s' outside any section", name);
	}
	(void)section;
	k = key_index(keys, name);
	if (k < 0)
		return fail(c, c->lineno, MC_E_CONFIG, "unknown key '%s' in %s", name, where);
	if ((c->seen & (1u << k)) && !(s && strcmp(name, "set") == 0))
		return fail(c, c->lineno, MC_E_CONFIG, "duplicate key '%s' in %s", name, where);
	c->seen |= 1u << k;
	if (!mc_utf8_valid(value, strlen(value), NULL))
		return fail(c, c->lineno, MC_E_CONFIG, "value of '%s' in %s is not valid UTF-8",
			    name, where);
	if (!*value && strcmp(name, "set") != 0)
		return fail(c, c->lineno, MC_E_CONFIG, "empty value for '%s' in %s", name, where);

	if (c->kind == SEC_CATALOGUE) {
		if (strcmp(name, "name") == 0) {
			cfg->name = keep(c, value);
		} else if (strcmp(name, "data_dir") == 0) {
			if (value[0] == '/')
				cfg->data_dir = keep(c, value);
			else if (!(cfg->data_dir = mc_arena_printf(c->arena, "%s/%s", cfg->dir, value)))
				fail(c, c->lineno, -ENOMEM, "out of memory");
		} else if (strcmp(name, "repository_identifier") == 0) {
			const char *p;

			for (p = value; *p; p++)
				if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
					return fail(c, c->lineno, MC_E_CONFIG,
						    "bad repository_identifier '%s': a domain name "
						    "(A-Z a-z 0-9 . -) is expected", value);
			cfg->repository_identifier = keep(c, value);
		} else {
			if (!strchr(value, '@'))
				return fail(c, c->lineno, MC_E_CONFIG,
					    "bad admin_email '%s': no '@'", value);
			cfg->admin_email = keep(c, value);
		}
	} else if (c->kind == SEC_HARVEST) {
		return harvest_key(c, name, value);
	} else if (c->kind == SEC_SERVER) {
		return server_key(c, name, value);
	} else if (strcmp(name, "name") == 0) {
		s->name = keep(c, value);
	} else if (strcmp(name, "type") == 0) {
		if (mc_source_type_parse(value, &s->type))
			return fail(c, c->lineno, MC_E_CONFIG,
				    "bad type '%s' in %s: one of provincial, district, commune, "
				    "school, university, specialised, armed-forces, community, private",
				    value, where);
	} else if (strcmp(name, "province") == 0) {
		s->province = keep(c, value);
	} else if (strcmp(name, "url") == 0) {
		if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
			return fail(c, c->lineno, MC_E_CONFIG,
				    "bad url '%s' in %s: http:// or https:// expected", value, where);
		s->url = keep(c, value);
	} else if (strcmp(name, "metadata_prefix") == 0) {
		if (strpbrk(value, " \t"))
			return fail(c, c->lineno, MC_E_CONFIG, "bad metadata_prefix '%s' in %s",
				    value, where);
		s->metadata_prefix = keep(c, value);
		s->metadata_prefix_given = 1;
	} else if (strcmp(name, "set") == 0) {
		return add_sets(c, s, value);
	} else if (strcmp(name, "full_delete_limit") == 0) {
		if (parse_percent(value, &s->full_delete_limit))
			return fail(c, c->lineno, MC_E_CONFIG,
				    "bad full_delete_limit '%s' in %s: a percentage from 0%% to 100%%",
				    value, where);
	} else {
		if (strcmp(value, "public") == 0)
			s->visibility = MC_VIS_PUBLIC;
		else if (strcmp(value, "restricted") == 0)
			s->visibility = MC_VIS_RESTRICTED;
		else
			return fail(c, c->lineno, MC_E_CONFIG,
				    "bad visibility '%s' in %s: public or restricted", value, where);
	}
	return c->err_code ? 0 : 1;
}

/* Absolute directory of path. Caller frees. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d, *abs;

	if (!slash)
		d = strdup(".");
	else if (slash == path)
		d = strdup("/");
	else
		d = strndup(path, (size_t)(slash - path));
	if (!d)
		return NULL;
	abs = realpath(d, NULL);
	free(d);
	return abs;
}

/* The public struct and the arena that owns its strings, freed together. */
struct config_priv {
	struct mc_config pub;
	struct mc_arena *arena;
};

void mc_config_free(struct mc_config *c)
{
	struct config_priv *p = (struct config_priv *)c;

	if (!c)
		return;
	free(c->sources);
	mc_arena_free(p->arena);
	free(p);
}

int mc_config_load(const char *path, struct mc_config **ret, struct mc_error *err)
{
	struct load_ctx *c = NULL;
	struct config_priv *priv = NULL;
	struct mc_config *cfg;
	char *dir = NULL;
	size_t i;
	int rc, irc;

	mc_error_clear(err);
	if (err)
		mc_error_field(err->file, sizeof(err->file), path);
	priv = calloc(1, sizeof(*priv));
	c = calloc(1, sizeof(*c));
	if (!priv || !c) {
		rc = mc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	cfg = &priv->pub;
	rc = mc_arena_new(0, &priv->arena);
	if (rc) {
		mc_error_set(err, rc, "out of memory");
		goto out;
	}
	c->f = fopen(path, "r");
	if (!c->f) {
		rc = -errno;
		mc_error_set(err, rc, "cannot open the configuration file");
		goto out;
	}
	dir = dir_of(path);
	if (!dir) {
		rc = -errno;
		mc_error_set(err, rc, "cannot resolve the configuration file's directory");
		goto out;
	}
	c->cfg = cfg;
	c->arena = priv->arena;
	cfg->path = mc_arena_strdup(priv->arena, path);
	cfg->dir = mc_arena_strdup(priv->arena, dir);
	if (!cfg->path || !cfg->dir) {
		rc = mc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}

	irc = ini_parse_stream(reader, c, handler, c);
	if (!c->err_code && ferror(c->f))
		fail(c, c->lineno, -EIO, "read error");
	if (!c->err_code && irc == -2)
		fail(c, c->lineno, -ENOMEM, "out of memory");
	if (!c->err_code && irc > 0)
		fail(c, irc, MC_E_CONFIG, "syntax error: expected 'key = value', [section] or a comment");
	for (i = 0; !c->err_code && i < cfg->nsources; i++) {
		const struct mc_source *s = &cfg->sources[i];

		if (!s->name)
			fail(c, s->line, MC_E_CONFIG, "[source \"%s\"] has no 'name'", s->id);
		else if (!s->type)
			fail(c, s->line, MC_E_CONFIG, "[source \"%s\"] has no 'type'", s->id);
	}
	if (c->err_code) {
		rc = c->err_code;
		if (err) {
			err->code = rc;
			err->line = c->err_line;
			mc_error_field(err->msg, sizeof(err->msg), c->err_msg);
		}
		goto out;
	}
	if (!cfg->name)
		cfg->name = "mucluc";
	if (!cfg->listen)
		cfg->listen = "127.0.0.1:8080";
	if (!cfg->server.max_connections)
		cfg->server.max_connections = 4096;
	if (!cfg->server.idle_timeout)
		cfg->server.idle_timeout = 15;
	if (!cfg->server.request_timeout)
		cfg->server.request_timeout = 10;
	if (!cfg->server.max_header_bytes)
		cfg->server.max_header_bytes = 8192;
	if (!c->seen_max_body)
		cfg->server.max_body_bytes = 4096;
	if (!cfg->server.max_uri_bytes)
		cfg->server.max_uri_bytes = 4096;
	if (!cfg->server.cors_origins)
		cfg->server.cors_origins = "*";
	if (!cfg->harvest.jobs)
		cfg->harvest.jobs = 4;
	if (!cfg->harvest.connect_timeout)
		cfg->harvest.connect_timeout = 30;
	if (!cfg->harvest.low_speed_time)
		cfg->harvest.low_speed_time = 60;
	if (!cfg->harvest.retries)
		cfg->harvest.retries = 5;
	if (!c->seen_retry_wait)
		cfg->harvest.retry_wait = 2;
	if (!c->seen_retry_max_wait)
		cfg->harvest.retry_max_wait = 300;
	if (!c->seen_full_delete_limit)
		cfg->harvest.full_delete_limit = 50;
	if (!cfg->harvest.user_agent_contact)
		cfg->harvest.user_agent_contact = cfg->admin_email;
	if (!cfg->data_dir)
		cfg->data_dir = mc_arena_printf(priv->arena, "%s/data", dir);
	if (cfg->data_dir) {
		cfg->store_dir = mc_arena_printf(priv->arena, "%s/store", cfg->data_dir);
		cfg->quarantine_dir = mc_arena_printf(priv->arena, "%s/quarantine", cfg->data_dir);
	}
	if (!cfg->data_dir || !cfg->store_dir || !cfg->quarantine_dir) {
		rc = mc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	*ret = cfg;
	priv = NULL;
	rc = 0;
out:
	if (c && c->f)
		fclose(c->f);
	free(c);
	free(dir);
	if (priv)
		mc_config_free(&priv->pub);
	return rc;
}

/* mkdir -p */
static int make_dir(const char *path, struct mc_error *err)
{
	char buf[4096];
	size_t i, n = strlen(path);
	struct stat sb;

	if (n >= sizeof(buf))
		return mc_error_set(err, -ENAMETOOLONG, "directory name too long: %s", path);
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return mc_error_set(err, -errno, "cannot create directory %s: %s", buf,
					    strerror(errno));
		buf[i] = path[i];
	}
	if (stat(path, &sb))
		return mc_error_set(err, -errno, "cannot create directory %s: %s", path,
				    strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return mc_error_set(err, -ENOTDIR, "%s exists and is not a directory", path);
	return 0;
}

int mc_config_make_dirs(const struct mc_config *c, struct mc_error *err)
{
	int rc;

	mc_error_clear(err);
	if ((rc = make_dir(c->data_dir, err)) || (rc = make_dir(c->store_dir, err)) ||
	    (rc = make_dir(c->quarantine_dir, err)))
		return rc;
	return 0;
}

const struct mc_source *mc_config_source(const struct mc_config *c, const char *id)
{
	size_t i;

	for (i = 0; c && id && i < c->nsources; i++)
		if (strcmp(c->sources[i].id, id) == 0)
			return &c->sources[i];
	return NULL;
}
