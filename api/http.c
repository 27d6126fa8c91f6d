/* http.c — answering a request: headers (CORS, Vary, caching), gzip, JSON
 * errors and the access log. One exit path per answer: api_send. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <zlib.h>

#include "api-internal.h"

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

void api_http_date(int64_t t, char *buf, size_t bufsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, bufsz, "%a, %d %b %Y %H:%M:%S GMT", &tm))
		snprintf(buf, bufsz, "Thu, 01 Jan 1970 00:00:00 GMT");
}

/* Does Accept-Encoding ask for gzip (and not with q=0)? */
int api_wants_gzip(const char *ae)
{
	const char *p = ae;

	while (p && *p) {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		n = strcspn(p, ",;");
		if ((n == 4 && strncasecmp(p, "gzip", 4) == 0) || (n == 1 && *p == '*')) {
			const char *q = p + n;

			while (*q == ' ' || *q == ';')
				q++;
			if (strncasecmp(q, "q=0", 3) == 0 && strspn(q + 3, ".0") == strcspn(q + 3, ","))
				return 0;
			return 1;
		}
		p = strchr(p, ',');
	}
	return 0;
}

/* Compress w->body into w->gz; 0 or -1 (send uncompressed). */
static int gzip_body(struct api_worker *w)
{
	z_stream *zs = w->zs;
	size_t inlen = evbuffer_get_length(w->body);
	unsigned char *in = evbuffer_pullup(w->body, -1);
	int rc;

	if (!zs || !in)
		return -1;
	if (deflateReset(zs) != Z_OK)
		return -1;
	evbuffer_drain(w->gz, evbuffer_get_length(w->gz));
	zs->next_in = in;
	zs->avail_in = (uInt)inlen;
	do {
		struct evbuffer_iovec v;

		if (evbuffer_reserve_space(w->gz, 16384, &v, 1) < 1)
			return -1;
		zs->next_out = v.iov_base;
		zs->avail_out = (uInt)v.iov_len;
		rc = deflate(zs, Z_FINISH);
		if (rc == Z_STREAM_ERROR)
			return -1;
		v.iov_len -= zs->avail_out;
		if (evbuffer_commit_space(w->gz, &v, 1))
			return -1;
	} while (rc != Z_STREAM_END);
	return 0;
}

/* Append s[0..n) to the log line, quotes, backslashes and bytes outside
 * printable ASCII as \xHH (a log line is one line whatever the client sent). */
static void log_esc(struct mc_buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			mc_buf_addf(b, "\\x%02x", c);
		else
			mc_buf_addc(b, (char)c);
	}
}

static void access_log(struct api_rq *rq, int status, size_t bytes)
{
	struct api_worker *w = rq->w;
	struct evhttp_connection *evcon = evhttp_request_get_connection(rq->req);
	struct evkeyvalq *in = evhttp_request_get_input_headers(rq->req);
	const char *method, *ref, *ua;
	char *host = NULL;
	ev_uint16_t port = 0;
	struct mc_buf *b = &w->logbuf;
	time_t now = time(NULL);
	ssize_t wr;

	if (w->srv->log_fd < 0)
		return;
	if (now != w->log_sec) {
		struct tm tm;

		localtime_r(&now, &tm);
		strftime(w->log_date, sizeof(w->log_date), "%d/%b/%Y:%H:%M:%S %z", &tm);
		w->log_sec = now;
	}
	if (evcon)
		evhttp_connection_get_peer(evcon, &host, &port);
	switch (evhttp_request_get_command(rq->req)) {
	case EVHTTP_REQ_GET: method = "GET"; break;
	case EVHTTP_REQ_HEAD: method = "HEAD"; break;
	case EVHTTP_REQ_POST: method = "POST"; break;
	case EVHTTP_REQ_PUT: method = "PUT"; break;
	case EVHTTP_REQ_DELETE: method = "DELETE"; break;
	case EVHTTP_REQ_OPTIONS: method = "OPTIONS"; break;
	case EVHTTP_REQ_TRACE: method = "TRACE"; break;
	case EVHTTP_REQ_CONNECT: method = "CONNECT"; break;
	case EVHTTP_REQ_PATCH: method = "PATCH"; break;
	default: method = "-"; break;
	}
	ref = in ? evhttp_find_header(in, "Referer") : NULL;
	ua = in ? evhttp_find_header(in, "User-Agent") : NULL;
	mc_buf_reset(b);
	mc_buf_addf(b, "%s - - [%s] \"%s ", host ? host : "-", w->log_date, method);
	log_esc(b, rq->uri, rq->urilen > 2048 ? 2048 : rq->urilen);
	mc_buf_addf(b, " HTTP/%d.%d\" %d %zu \"", rq->req->major, rq->req->minor, status, bytes);
	if (ref)
		log_esc(b, ref, strnlen(ref, 1024));
	else
		mc_buf_addc(b, '-');
	mc_buf_adds(b, "\" \"");
	if (ua)
		log_esc(b, ua, strnlen(ua, 1024));
	else
		mc_buf_addc(b, '-');
	mc_buf_adds(b, "\"\n");
	/* one write per line to an O_APPEND file: lines of several workers never mix */
	if (b->data)
		wr = write(w->srv->log_fd, b->data, b->len);
	(void)wr;
}

/* CORS: Access-Control-Allow-Origin for the request's Origin. */
static void cors(struct api_rq *rq, struct evkeyvalq *out)
{
	const char *allowed = rq->cfg ? rq->cfg->server.cors_origins : "*";
	const char *origin;
	size_t n;
	const char *p;

	if (!allowed || !*allowed)
		return;
	if (strcmp(allowed, "*") == 0) {
		evhttp_add_header(out, "Access-Control-Allow-Origin", "*");
		return;
	}
	evhttp_add_header(out, "Vary", "Origin");
	origin = evhttp_find_header(evhttp_request_get_input_headers(rq->req), "Origin");
	if (!origin)
		return;
	n = strlen(origin);
	for (p = allowed; *p;) {
		size_t m;

		while (*p == ' ' || *p == ',')
			p++;
		m = strcspn(p, " ,");
		if (m && m == n && memcmp(p, origin, n) == 0) {
			evhttp_add_header(out, "Access-Control-Allow-Origin", origin);
			return;
		}
		p += m;
	}
}

void api_send(struct api_rq *rq, int status, const char *ctype)
{
	struct api_worker *w = rq->w;
	struct evkeyvalq *out = evhttp_request_get_output_headers(rq->req);
	struct evbuffer *body = w->body;
	size_t len = evbuffer_get_length(body);

	if (ctype)
		evhttp_add_header(out, "Content-Type", ctype);
	cors(rq, out);
	if (status == 200 || status == 304)
		evhttp_add_header(out, "Vary", "Accept-Encoding");
	if (atomic_load(&w->srv->stopping))
		evhttp_add_header(out, "Connection", "close");
	if (status == 200 && rq->gzip && len >= API_GZIP_MIN && gzip_body(w) == 0) {
		evhttp_add_header(out, "Content-Encoding", "gzip");
		body = w->gz;
		len = evbuffer_get_length(body);
	}
	access_log(rq, status, rq->head ? 0 : len);
	evhttp_send_reply(rq->req, status, reason(status), len ? body : NULL);
	evbuffer_drain(w->body, evbuffer_get_length(w->body));
	evbuffer_drain(w->gz, evbuffer_get_length(w->gz));
}

static int dump_cb(const char *buf, size_t size, void *data)
{
	return evbuffer_add(data, buf, size);
}

void api_send_json(struct api_rq *rq, int status, json_t *o)
{
	struct api_worker *w = rq->w;

	evbuffer_drain(w->body, evbuffer_get_length(w->body));
	if (json_dump_callback(o, dump_cb, w->body, JSON_COMPACT) ||
	    evbuffer_add(w->body, "\n", 1)) {
		evbuffer_drain(w->body, evbuffer_get_length(w->body));
		evbuffer_add_printf(w->body,
				    "{\"error\":\"internal\",\"message\":\"out of memory\"}\n");
		status = 500;
	}
	api_send(rq, status, "application/json; charset=utf-8");
}

void api_error(struct api_rq *rq, int status, const char *code, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	json_t *o;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a message may quote the reader's bytes: keep it valid UTF-8 for JSON */
	if (!mc_utf8_valid(msg, strlen(msg), NULL))
		snprintf(msg, sizeof(msg), "%s", reason(status));
	o = json_pack("{s:s, s:s}", "error", code, "message", msg);
	api_send_json(rq, status, o);
	json_decref(o);
}

int api_rq_args(struct api_rq *rq)
{
	char msg[256];

	if (rq->args_parsed)
		return 0;
	if (api_args_parse(rq->qs, rq->qslen, rq->w->argbuf, (size_t)rq->w->srv->max_uri + 2,
			   &rq->args, msg, sizeof(msg))) {
		api_error(rq, 400, "bad_request", "%s", msg);
		return -1;
	}
	rq->args_parsed = 1;
	return 0;
}

/* Does the If-None-Match list name etag (weak comparison)? */
static int etag_match(const char *list, const char *etag)
{
	const char *p = list;
	const char *bare = etag[0] == 'W' ? etag + 2 : etag;
	size_t n = strlen(bare);

	while (*p) {
		size_t m;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (*p == '*')
			return 1;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		m = strcspn(p, ", \t");
		if (m == n && memcmp(p, bare, n) == 0)
			return 1;
		p += m;
	}
	return 0;
}

int api_cache_check(struct api_rq *rq, int64_t lastmod)
{
	struct api_worker *w = rq->w;
	struct evkeyvalq *in = evhttp_request_get_input_headers(rq->req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(rq->req);
	size_t len = evbuffer_get_length(w->body);
	unsigned char *p = evbuffer_pullup(w->body, -1);
	uint64_t h = mc_hash64(p ? (const char *)p : "", p ? len : 0);
	const char *inm = evhttp_find_header(in, "If-None-Match");
	const char *ims = evhttp_find_header(in, "If-Modified-Since");
	char etag[40], date[40];
	int fresh = 0;

	snprintf(etag, sizeof(etag), "W/\"%016llx\"", (unsigned long long)h);
	evhttp_add_header(out, "ETag", etag);
	if (lastmod > 0) {
		api_http_date(lastmod, date, sizeof(date));
		evhttp_add_header(out, "Last-Modified", date);
	}
	evhttp_add_header(out, "Cache-Control", "public, max-age=60");
	if (inm) {
		fresh = etag_match(inm, etag);
	} else if (ims && lastmod > 0) {
		struct tm tm;
		const char *end;

		memset(&tm, 0, sizeof(tm));
		end = strptime(ims, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		if (end && !*end)
			fresh = (int64_t)timegm(&tm) >= lastmod;
	}
	if (!fresh)
		return 0;
	evbuffer_drain(w->body, len);
	api_send(rq, 304, NULL);
	return 1;
}
