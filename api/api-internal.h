/* api-internal.h — what the files of api/ share (not a public header). */
#ifndef API_INTERNAL_H
#define API_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "api.h"
#include "core.h"
#include "ix-search.h"

/* ---- limits of request arguments (the URL's query string) ---- */
#define API_MAX_ARGS        64u    /* key=value pairs in one query string */
#define API_MAX_ID_BYTES    300u   /* a record or library id in a path */
#define API_OTHER_EDITIONS  20u    /* "other_editions" listed with a record */
#define API_REDIRECT_HOPS   16u    /* tombstone -> survivor steps followed */
#define API_GZIP_MIN        256u   /* smaller bodies go uncompressed */
#define API_RESPONSE_MAX    (64u << 20) /* one response body */

/* One argument, decoded (%XX and '+'); key and val are NUL-terminated in
 * the buffer given to api_args_parse and may contain NUL bytes (the
 * lengths count them). */
struct api_arg {
	const char *key, *val;
	size_t klen, vlen;
};

struct api_args {
	struct api_arg a[API_MAX_ARGS];
	size_t n;
};

/* Split and decode the query string qs[0..len) (without the '?') into
 * *ret, using buf (at least len + 2 bytes; borrowed by *ret). "a=1&b&c="
 * gives a=1, b="", c="". 0, or MC_E_USAGE with a message for the reader in
 * msg: a bad %-escape, more than API_MAX_ARGS arguments, buf too small. */
int api_args_parse(const char *qs, size_t len, char *buf, size_t bufsz, struct api_args *ret,
		   char *msg, size_t msgsz);
/* The value of key, or NULL when absent; *count (may be NULL) gets how many
 * times it was given. Borrowed from a. */
const struct api_arg *api_args_get(const struct api_args *a, const char *key, unsigned *count);

/* Fill req (and filters, room for IX_MAX_FILTERS) from the arguments of
 * GET /api/search (schemas/api.md). Strings are borrowed from a. Unknown
 * arguments are ignored. 0, or MC_E_USAGE with the reader's message in msg
 * (repeated single argument, not a number, out of range, NUL byte, not
 * UTF-8, too many or too long filter values). */
int api_search_req_from_args(const struct api_args *a, struct ix_search_req *req,
			     struct ix_filter *filters, char *msg, size_t msgsz);

/* ---- the server ---- */

/* A configuration as loaded, shared by the workers (reference counted: a
 * SIGHUP swaps in a new one; the old one goes with its last request). */
struct api_cfg {
	struct mc_config *cfg;
	atomic_int refs;
};

struct api_conn;
struct api_worker;

struct api_server {
	struct mc_store *store;
	const char *data_dir;        /* borrowed from the first configuration */
	int listen_fd;
	char addr[128];              /* "127.0.0.1:8080" as bound */
	int nworkers;
	struct api_worker *workers;
	pthread_mutex_t cfg_lock;
	struct api_cfg *cfg;         /* under cfg_lock */
	atomic_uint_fast64_t cfg_gen;
	atomic_int nconn;            /* open client connections, all workers */
	atomic_int stopping;
	int log_fd;                  /* access log (O_APPEND), -1: none */
	/* limits, fixed at start */
	int max_conn, idle_timeout, request_timeout;
	int max_header, max_body, max_uri;
};

struct api_worker {
	struct api_server *srv;
	int idx;
	pthread_t thread;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct event *adopt_ev, *sweep_ev, *stop_ev;
	struct api_conn *pending;    /* connections handed out by bevcb, not adopted yet */
	struct api_conn *conns;      /* adopted, most recent first */
	int nconns;
	struct api_cfg *cfg;
	uint64_t cfg_gen;
	struct ix_searcher *ix;
	time_t ix_retry;             /* no new open attempt before this */
	struct evbuffer *body;       /* reused for every response */
	struct evbuffer *gz;
	void *zs;                    /* z_stream, reused */
	struct mc_buf buf, buf2;     /* scratch, reused */
	struct mc_buf logbuf;        /* the access-log line (at most 32 KiB) */
	char *argbuf;                /* max_uri + 2 */
	struct mc_record *rec;
	time_t log_sec;
	char log_date[40];
};

/* One request being answered. */
struct api_rq {
	struct api_worker *w;
	struct evhttp_request *req;
	const struct mc_config *cfg;
	const char *uri;             /* the request target as sent */
	size_t urilen;
	const char *path;            /* uri up to '?' (not decoded) */
	size_t pathlen;
	const char *qs;              /* after '?', or "" */
	size_t qslen;
	int head;                    /* HEAD: no body sent */
	int gzip;                    /* the client accepts gzip */
	struct api_args args;
	int args_parsed;
};

/* ---- http.c: answering ---- */
enum {
	API_CACHE = 1,               /* etag / last_modified given: ETag, Last-Modified */
};
/* Send status with body (w->body, may be empty), Content-Type ctype, the
 * CORS, Vary and (when asked and worth it) gzip headers, and write the
 * access-log line. */
void api_send(struct api_rq *rq, int status, const char *ctype);
/* Send o (borrowed) as JSON. */
void api_send_json(struct api_rq *rq, int status, json_t *o);
/* {"error": code, "message": ...} with status. */
void api_error(struct api_rq *rq, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* ETag (from the body now in w->body) and Last-Modified (lastmod > 0);
 * answers 304 and returns 1 when the request's If-None-Match /
 * If-Modified-Since say the client has it; else adds the headers, 0. */
int api_cache_check(struct api_rq *rq, int64_t lastmod);
/* Parse the query string once (400 sent and -1 returned when bad). */
int api_rq_args(struct api_rq *rq);
/* 1 if an Accept-Encoding value asks for gzip (or *) without q=0. */
int api_wants_gzip(const char *ae);
/* An HTTP date (RFC 7231 IMF-fixdate) of t into buf (at least 32 bytes). */
void api_http_date(int64_t t, char *buf, size_t bufsz);

/* ---- handlers ---- */
void api_search(struct api_rq *rq);
void api_suggest(struct api_rq *rq);
void api_libraries(struct api_rq *rq, const char *id);
void api_health(struct api_rq *rq);
void api_record(struct api_rq *rq, const char *id, size_t idlen);

/* The worker's searcher, opened (again) when needed and refreshed; NULL
 * when there is no usable index (err says why). */
struct ix_searcher *api_searcher(struct api_worker *w, struct mc_error *err);
/* 1 if source id is configured and public. */
int api_source_public(const struct mc_config *cfg, const char *id);

#endif
