/* server.c — `mucluc serve`: the listening socket, the worker threads (each
 * its own event_base, evhttp and index searcher), connection accounting
 * (max_connections, request_timeout against slow clients), the router, and
 * the signals (SIGTERM/SIGINT: drain and stop; SIGHUP: reload).
 *
 * Connections: evhttp accepts them itself; its bufferevent callback (bevcb)
 * hands us each new connection's bufferevent before evhttp owns it. A
 * priority-0 event adopts it right after the accept callback returns
 * (before any I/O on it can be processed, which runs at priority 1): it
 * learns the evhttp_connection from the bufferevent's callback argument,
 * sets a close callback (the accounting), and watches the input and output
 * buffers to know whether a request is being read (since when) or the
 * connection is idle. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <zlib.h>

#include "api-internal.h"

enum { C_IDLE = 0, C_READING, C_WRITING };

struct api_conn {
	struct api_worker *w;
	struct bufferevent *bev;
	struct evhttp_connection *evcon;
	struct api_conn *prev, *next;
	struct evbuffer_cb_entry *in_cb, *out_cb;
	int state;
	time_t since;        /* start of the state */
};

/* ---- configuration ---- */

static void cfg_put(struct api_cfg *c)
{
	if (c && atomic_fetch_sub(&c->refs, 1) == 1) {
		mc_config_free(c->cfg);
		free(c);
	}
}

static int cfg_load(const char *path, struct api_cfg **ret, struct mc_error *err)
{
	struct api_cfg *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return mc_error_set(err, -ENOMEM, "out of memory");
	rc = mc_config_load(path, &c->cfg, err);
	if (rc) {
		free(c);
		return rc;
	}
	atomic_init(&c->refs, 1);
	*ret = c;
	return 0;
}

/* The worker's configuration, brought up to date after a SIGHUP. */
static void worker_cfg(struct api_worker *w)
{
	struct api_server *srv = w->srv;
	uint64_t gen = atomic_load(&srv->cfg_gen);
	struct api_cfg *old;

	if (gen == w->cfg_gen && w->cfg)
		return;
	pthread_mutex_lock(&srv->cfg_lock);
	old = w->cfg;
	w->cfg = srv->cfg;
	atomic_fetch_add(&w->cfg->refs, 1);
	w->cfg_gen = atomic_load(&srv->cfg_gen);
	pthread_mutex_unlock(&srv->cfg_lock);
	cfg_put(old);
}

int api_source_public(const struct mc_config *cfg, const char *id)
{
	const struct mc_source *s = mc_config_source(cfg, id);

	return s && s->visibility == MC_VIS_PUBLIC;
}

/* ---- connections ---- */

static void conn_unlink(struct api_conn *c)
{
	struct api_worker *w = c->w;

	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	w->nconns--;
	atomic_fetch_sub(&w->srv->nconn, 1);
}

static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct api_conn *c = arg;

	/* the buffers outlive this call a little: they must not call us back */
	if (c->in_cb)
		evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
	if (c->out_cb)
		evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
	conn_unlink(c);
	free(c);
}

static void conn_state(struct api_conn *c, int state)
{
	if (c->state != state) {
		c->state = state;
		c->since = time(NULL);
	}
}

static void conn_in_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct api_conn *c = arg;

	if (info->n_added && c->state == C_IDLE)
		conn_state(c, C_READING);
}

static void conn_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct api_conn *c = arg;

	if (info->n_added)
		conn_state(c, C_WRITING);
	else if (info->n_deleted && info->orig_size == info->n_deleted) {
		/* the answer is out; bytes of a next request may already wait */
		conn_state(c, evbuffer_get_length(bufferevent_get_input(c->bev)) ? C_READING
										  : C_IDLE);
	}
}

/* Close c now (it is idle or reading a request: nothing of ours is lost). */
static void conn_kill(struct api_conn *c)
{
	evhttp_connection_free(c->evcon); /* calls conn_closed */
}

static struct bufferevent *bevcb(struct event_base *base, void *arg)
{
	struct api_worker *w = arg;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	struct api_conn *c;

	if (!bev)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return bev; /* served, not counted */
	c->w = w;
	c->bev = bev;
	c->next = w->pending;
	w->pending = c;
	event_active(w->adopt_ev, EV_TIMEOUT, 0);
	return bev;
}

/* The longest idle connection of w other than except, or NULL. */
static struct api_conn *oldest_idle(struct api_worker *w, struct api_conn *except)
{
	struct api_conn *c, *best = NULL;

	for (c = w->conns; c; c = c->next)
		if (c != except && c->state == C_IDLE && (!best || c->since <= best->since))
			best = c;
	return best;
}

static void adopt_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_worker *w = arg;
	struct api_conn *c;

	while ((c = w->pending)) {
		void *cbarg = NULL;

		w->pending = c->next;
		c->next = NULL;
		bufferevent_getcb(c->bev, NULL, NULL, NULL, &cbarg);
		if (!cbarg) { /* evhttp did not take it (out of memory) */
			free(c);
			continue;
		}
		c->evcon = cbarg;
		evhttp_connection_set_closecb(c->evcon, conn_closed, c);
		c->in_cb = evbuffer_add_cb(bufferevent_get_input(c->bev), conn_in_cb, c);
		c->out_cb = evbuffer_add_cb(bufferevent_get_output(c->bev), conn_out_cb, c);
		c->since = time(NULL);
		c->next = w->conns;
		if (w->conns)
			w->conns->prev = c;
		w->conns = c;
		w->nconns++;
		if (atomic_fetch_add(&w->srv->nconn, 1) >= w->srv->max_conn) {
			/* full: the longest idle connection makes room, else this one goes */
			struct api_conn *victim = oldest_idle(w, c);

			conn_kill(victim ? victim : c);
		}
	}
}

/* Every second (every 100 ms while stopping): slow requests, and idle
 * connections when stopping. */
static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_worker *w = arg;
	struct api_server *srv = w->srv;
	int stopping = atomic_load(&srv->stopping);
	time_t now = time(NULL);
	struct api_conn *c, *next;

	for (c = w->conns; c; c = next) {
		next = c->next;
		if (c->state == C_READING && now - c->since >= srv->request_timeout)
			conn_kill(c);
		else if (stopping && c->state == C_IDLE)
			conn_kill(c);
		else if (stopping && now - c->since >= srv->request_timeout + srv->idle_timeout)
			conn_kill(c);
	}
	if (stopping && !w->conns && !w->pending)
		event_base_loopexit(w->base, NULL);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct api_worker *w = arg;
	struct timeval tv = { 0, 100000 };

	if (w->bound) {
		evhttp_del_accept_socket(w->http, w->bound);
		w->bound = NULL;
	}
	event_del(w->sweep_ev);
	event_add(w->sweep_ev, &tv);
	sweep_cb(-1, 0, w);
}

/* ---- the router ---- */

/* Decode the %-escapes of a path segment into out (API_MAX_ID_BYTES + 1);
 * -1 when bad, too long, or holding NUL or '/'. */
static long path_id(const char *s, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o >= API_MAX_ID_BYTES)
			return -1;
		if (c == '%') {
			char hex[3] = { 0 };
			char *end;
			long v;

			if (i + 2 >= n)
				return -1;
			hex[0] = s[i + 1];
			hex[1] = s[i + 2];
			v = strtol(hex, &end, 16);
			if (*end || v == 0 || v == '/')
				return -1;
			c = (unsigned char)v;
			i += 2;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (long)o;
}

static size_t headers_size(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	struct evkeyval *kv;
	size_t n = 0;

	for (kv = h->tqh_first; kv; kv = kv->next.tqe_next)
		n += strlen(kv->key) + strlen(kv->value) + 4;
	return n;
}

static int path_is(const struct api_rq *rq, const char *p)
{
	size_t n = strlen(p);

	return rq->pathlen == n && memcmp(rq->path, p, n) == 0;
}

static int path_under(const struct api_rq *rq, const char *p, const char **rest, size_t *restlen)
{
	size_t n = strlen(p);

	if (rq->pathlen <= n || memcmp(rq->path, p, n) != 0)
		return 0;
	*rest = rq->path + n;
	*restlen = rq->pathlen - n;
	return 1;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct api_worker *w = arg;
	struct api_server *srv = w->srv;
	struct api_rq rq;
	enum evhttp_cmd_type cmd;
	const char *q, *rest, *ae;
	size_t restlen;
	char id[API_MAX_ID_BYTES + 1];

	memset(&rq, 0, sizeof(rq));
	rq.w = w;
	rq.req = req;
	worker_cfg(w);
	rq.cfg = w->cfg->cfg;
	rq.uri = evhttp_request_get_uri(req);
	if (!rq.uri)
		rq.uri = "";
	rq.urilen = strlen(rq.uri);
	rq.path = rq.uri;
	q = memchr(rq.uri, '?', rq.urilen);
	rq.pathlen = q ? (size_t)(q - rq.uri) : rq.urilen;
	rq.qs = q ? q + 1 : "";
	rq.qslen = q ? rq.urilen - rq.pathlen - 1 : 0;
	cmd = evhttp_request_get_command(req);
	rq.head = cmd == EVHTTP_REQ_HEAD;
	ae = evhttp_find_header(evhttp_request_get_input_headers(req), "Accept-Encoding");
	rq.gzip = ae ? api_wants_gzip(ae) : 0;

	if (rq.urilen > (size_t)srv->max_uri) {
		api_error(&rq, 414, "uri_too_long", "the request target is %zu bytes; at most %d",
			  rq.urilen, srv->max_uri);
		return;
	}
	if (headers_size(req) > (size_t)srv->max_header) {
		api_error(&rq, 431, "headers_too_large", "request headers over %d bytes",
			  srv->max_header);
		return;
	}
	if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) > (size_t)srv->max_body) {
		api_error(&rq, 413, "body_too_large", "request body over %d bytes", srv->max_body);
		return;
	}
	if (rq.uri[0] != '/') {
		api_error(&rq, 400, "bad_request", "the request target must be a path");
		return;
	}
	if (cmd == EVHTTP_REQ_OPTIONS) {
		struct evkeyvalq *out = evhttp_request_get_output_headers(req);

		evhttp_add_header(out, "Allow", "GET, HEAD, OPTIONS");
		evhttp_add_header(out, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
		evhttp_add_header(out, "Access-Control-Allow-Headers",
				  "Accept, Accept-Encoding, Accept-Language, If-None-Match, "
				  "If-Modified-Since, Content-Type");
		evhttp_add_header(out, "Access-Control-Max-Age", "86400");
		api_send(&rq, 204, NULL);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
				  "GET, HEAD, OPTIONS");
		api_error(&rq, 405, "method_not_allowed", "only GET, HEAD and OPTIONS are served");
		return;
	}
	if (path_is(&rq, "/health")) {
		api_health(&rq);
	} else if (path_is(&rq, "/api/search")) {
		api_search(&rq);
	} else if (path_is(&rq, "/api/suggest")) {
		api_suggest(&rq);
	} else if (path_is(&rq, "/api/libraries")) {
		api_libraries(&rq, NULL);
	} else if (path_under(&rq, "/api/libraries/", &rest, &restlen)) {
		if (path_id(rest, restlen, id) <= 0)
			api_error(&rq, 404, "not_found", "no such library");
		else
			api_libraries(&rq, id);
	} else if (path_under(&rq, "/api/records/", &rest, &restlen)) {
		long n = path_id(rest, restlen, id);

		if (n <= 0)
			api_error(&rq, 404, "not_found", "no such record");
		else
			api_record(&rq, id, (size_t)n);
	} else {
		api_error(&rq, 404, "not_found", "no such endpoint (see /health, /api/search, "
			  "/api/suggest, /api/records/ID, /api/libraries)");
	}
}

/* ---- workers ---- */

static void worker_free(struct api_worker *w)
{
	struct api_conn *c;

	while ((c = w->pending)) {
		w->pending = c->next;
		free(c);
	}
	if (w->http)
		evhttp_free(w->http); /* closes what is left: conn_closed for each */
	if (w->adopt_ev)
		event_free(w->adopt_ev);
	if (w->sweep_ev)
		event_free(w->sweep_ev);
	if (w->stop_ev)
		event_free(w->stop_ev);
	if (w->body)
		evbuffer_free(w->body);
	if (w->gz)
		evbuffer_free(w->gz);
	if (w->zs) {
		deflateEnd(w->zs);
		free(w->zs);
	}
	if (w->base)
		event_base_free(w->base);
	if (w->ix)
		ix_searcher_close(w->ix);
	mc_buf_free(&w->buf);
	mc_buf_free(&w->buf2);
	mc_buf_free(&w->logbuf);
	mc_record_free(w->rec);
	free(w->argbuf);
	cfg_put(w->cfg);
}

static int worker_init(struct api_server *srv, struct api_worker *w, struct mc_error *err)
{
	struct timeval tv = { 1, 0 };
	int fd;

	w->srv = srv;
	mc_buf_init(&w->buf, API_RESPONSE_MAX);
	mc_buf_init(&w->buf2, API_RESPONSE_MAX);
	mc_buf_init(&w->logbuf, 32768); /* escaped: 4 x (2048 + 1024 + 1024) + the rest */
	if (!(w->base = event_base_new()) || event_base_priority_init(w->base, 2) ||
	    !(w->http = evhttp_new(w->base)) || !(w->body = evbuffer_new()) ||
	    !(w->gz = evbuffer_new()) ||
	    !(w->adopt_ev = event_new(w->base, -1, 0, adopt_cb, w)) ||
	    !(w->sweep_ev = event_new(w->base, -1, EV_PERSIST, sweep_cb, w)) ||
	    !(w->stop_ev = event_new(w->base, -1, 0, stop_cb, w)) ||
	    !(w->argbuf = malloc((size_t)srv->max_uri + 2)) || mc_record_new(&w->rec))
		return mc_error_set(err, -ENOMEM, "out of memory setting up a worker");
	event_priority_set(w->adopt_ev, 0);
	w->zs = calloc(1, sizeof(z_stream));
	if (w->zs && deflateInit2(w->zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(w->zs);
		w->zs = NULL;
	}
	evhttp_set_gencb(w->http, on_request, w);
	evhttp_set_bevcb(w->http, bevcb, w);
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
						    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
						    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	/* evhttp's own limits are the backstop past ours (it answers those with a bare
	 * 413 and closes); below them our handler answers 414 / 431 / 413 in JSON */
	evhttp_set_max_headers_size(w->http, (ev_ssize_t)srv->max_header * 4 + srv->max_uri * 2);
	evhttp_set_max_body_size(w->http, (ev_ssize_t)srv->max_body * 4 + 65536);
	evhttp_set_timeout(w->http, srv->idle_timeout);
	fd = dup(srv->listen_fd);
	if (fd < 0 || !(w->bound = evhttp_accept_socket_with_handle(w->http, fd))) {
		if (fd >= 0)
			close(fd);
		return mc_error_set(err, -errno ? -errno : -ENOMEM, "cannot accept on %s",
				    srv->addr);
	}
	event_add(w->sweep_ev, &tv);
	worker_cfg(w);
	return 0;
}

static void *worker_main(void *arg)
{
	struct api_worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

/* ---- listening ---- */

static int listen_on(struct api_server *srv, const char *spec, struct mc_error *err)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	size_t hl;
	int fd = -1, one = 1, rc;
	char hbuf[NI_MAXHOST], pbuf[NI_MAXSERV];

	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		return mc_error_set(err, MC_E_CONFIG, "bad listen address '%s'", spec);
	{
		char *end;
		long port;

		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno || end == colon + 1 || *end || port < 0 || port > 65535)
			return mc_error_set(err, MC_E_CONFIG,
					    "bad listen address '%s': port 0-65535 expected", spec);
	}
	hl = (size_t)(colon - spec);
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai);
	if (rc)
		return mc_error_set(err, MC_E_CONFIG, "cannot resolve listen address '%s': %s",
				    spec, gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 1024) ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl)) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return mc_error_set(err, rc, "cannot listen on %s: %s", spec, strerror(-rc));
	}
	freeaddrinfo(ai);
	if (getnameinfo((struct sockaddr *)&ss, sl, hbuf, sizeof(hbuf), pbuf, sizeof(pbuf),
			NI_NUMERICHOST | NI_NUMERICSERV))
		snprintf(hbuf, sizeof(hbuf), "?");
	snprintf(srv->addr, sizeof(srv->addr), ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
		 hbuf, pbuf);
	srv->listen_fd = fd;
	return 0;
}

static int log_open(const char *path)
{
	return path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640) : -1;
}

/* SIGHUP: a new configuration for the workers, the access log reopened
 * (after logrotate moved it) in place of the old descriptor. */
static void reload(struct api_server *srv, const char *path)
{
	struct api_cfg *c, *old;
	struct mc_error e;
	char msg[1024];

	mc_error_clear(&e);
	if (cfg_load(path, &c, &e)) {
		mc_error_format(&e, msg, sizeof(msg));
		fprintf(stderr, "mucluc serve: SIGHUP: keeping the old configuration: %s: %s\n",
			path, msg);
		return;
	}
	if (c->cfg->server.access_log) {
		int fd = log_open(c->cfg->server.access_log);

		if (fd < 0) {
			fprintf(stderr, "mucluc serve: cannot open access log %s: %s\n",
				c->cfg->server.access_log, strerror(errno));
		} else if (srv->log_fd >= 0) {
			dup2(fd, srv->log_fd); /* atomic for the workers writing to it */
			close(fd);
		} else {
			srv->log_fd = fd;
		}
	}
	pthread_mutex_lock(&srv->cfg_lock);
	old = srv->cfg;
	srv->cfg = c;
	atomic_fetch_add(&srv->cfg_gen, 1);
	pthread_mutex_unlock(&srv->cfg_lock);
	cfg_put(old);
	fprintf(stderr, "mucluc serve: configuration reloaded (%zu sources)\n",
		c->cfg->nsources);
}

static void raise_nofile(int want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)want) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)want ? rl.rlim_max : (rlim_t)want;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int api_serve(const struct api_opts *opts, struct mc_error *err)
{
	struct api_server srv;
	const struct mc_server_config *sv;
	sigset_t set;
	int rc, i, sig, started = 0;
	long ncpu;

	memset(&srv, 0, sizeof(srv));
	srv.listen_fd = -1;
	srv.log_fd = -1;
	pthread_mutex_init(&srv.cfg_lock, NULL);
	if ((rc = cfg_load(opts->config_path, &srv.cfg, err)))
		return rc;
	sv = &srv.cfg->cfg->server;
	srv.data_dir = srv.cfg->cfg->data_dir;
	srv.max_conn = sv->max_connections;
	srv.idle_timeout = sv->idle_timeout;
	srv.request_timeout = sv->request_timeout;
	srv.max_header = sv->max_header_bytes;
	srv.max_body = sv->max_body_bytes;
	srv.max_uri = sv->max_uri_bytes;
	srv.nworkers = opts->threads > 0 ? opts->threads : sv->threads;
	if (srv.nworkers <= 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		srv.nworkers = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (int)ncpu;
	}
	raise_nofile(srv.max_conn + 64 + 8 * srv.nworkers);
	if (sv->access_log && (srv.log_fd = log_open(sv->access_log)) < 0) {
		rc = mc_error_set(err, -errno, "cannot open access log %s: %s", sv->access_log,
				  strerror(errno));
		goto out;
	}
	if ((rc = mc_store_open(srv.cfg->cfg->store_dir, MC_STORE_RDONLY, &srv.store, err)))
		goto out;
	if ((rc = listen_on(&srv, opts->listen ? opts->listen : srv.cfg->cfg->listen, err)))
		goto out;

	/* the signals are handled here, by sigwait: block them in every thread */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	json_object_seed(0);

	srv.workers = calloc((size_t)srv.nworkers, sizeof(*srv.workers));
	if (!srv.workers) {
		rc = mc_error_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < srv.nworkers; i++) {
		srv.workers[i].idx = i;
		if ((rc = worker_init(&srv, &srv.workers[i], err)))
			goto out;
	}
	for (started = 0; started < srv.nworkers; started++)
		if ((rc = pthread_create(&srv.workers[started].thread, NULL, worker_main,
					 &srv.workers[started]))) {
			rc = mc_error_set(err, -rc, "cannot start a worker thread");
			break;
		}
	if (!rc) {
		fprintf(opts->out, "mucluc: serving http://%s/ (%d threads)\n", srv.addr,
			srv.nworkers);
		fflush(opts->out);
	}
	while (!rc) {
		if (sigwait(&set, &sig))
			continue;
		if (sig == SIGHUP) {
			reload(&srv, opts->config_path);
			continue;
		}
		break;
	}
	/* stop: no new connections; the workers finish what is in flight */
	atomic_store(&srv.stopping, 1);
	for (i = 0; i < started; i++)
		event_active(srv.workers[i].stop_ev, EV_TIMEOUT, 0);
	/* with the workers' copies gone too, the kernel refuses new connections */
	if (srv.listen_fd >= 0)
		close(srv.listen_fd);
	srv.listen_fd = -1;
	for (i = 0; i < started; i++)
		pthread_join(srv.workers[i].thread, NULL);
out:
	if (srv.workers)
		for (i = 0; i < srv.nworkers; i++)
			worker_free(&srv.workers[i]);
	free(srv.workers);
	if (srv.listen_fd >= 0)
		close(srv.listen_fd);
	if (srv.log_fd >= 0)
		close(srv.log_fd);
	mc_store_close(srv.store);
	cfg_put(srv.cfg);
	pthread_mutex_destroy(&srv.cfg_lock);
	return rc;
}
