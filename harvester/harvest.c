/* harvest.c — OAI-PMH over libcurl: Identify, ListMetadataFormats,
 * ListRecords pages streamed through the core parser into the record-by-
 * record import, with a checkpoint (records + resumption token in one
 * transaction) after every page, retries, loop guards and a quarantine of
 * problem pages. Sources run on a bounded pool of threads, grouped by host
 * so that a host never has two connections from us at once. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "harvester-internal.h"
#include "hv.h"

#ifndef MUCLUC_VERSION
#define MUCLUC_VERSION "0.1.0"
#endif

#define MARC_NS "http://www.loc.gov/MARC21/slim"

struct run {
	struct mc_store *store;
	const struct mc_config *cfg;
	struct hv_opts o;
	hv_note_cb note;
	void *note_ctx;
	pthread_mutex_t mu;        /* notes, the work queue */
	/* groups of sources sharing a host, taken in turn by the threads */
	size_t *order;             /* source indexes, grouped by host */
	size_t *group_start;       /* group g: order[group_start[g] .. group_start[g+1]) */
	size_t ngroups, next_group;
	const struct mc_source *const *srcs;
	struct hv_result *res;
};

/* One HTTP response being received. */
struct page {
	struct job *j;
	struct mc_parser *parser;  /* NULL: only keep the body (metadata requests) */
	struct mc_buf raw;         /* the first bytes of the body (quarantine / messages) */
	size_t keep;               /* cap of raw */
	int raw_cut;               /* raw holds only the start of the body */
	long status;
	int status_known;
	char ctype[128];
	char retry_after[128];
	int prc;                   /* the parser refused the input as a whole */
	double last_rx;            /* monotonic time when bytes last arrived */
	curl_off_t last_now;       /* bytes received then */
	int stalled;               /* aborted: nothing arrived for low_speed_time */
	struct mc_error perr;
	uint64_t bytes;
};

/* One source's harvest. */
struct job {
	struct run *run;
	const struct mc_source *src;
	struct hv_result *res;
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
	char scope[80];
	struct mc_import *im;
	uint64_t bad_seen;         /* bad records reported so far (import threads) */
	pthread_mutex_t bad_mu;
	char url[8192];            /* the request being made */
	unsigned saved_pages;
	uint64_t rnd;
	struct hv_page_ids ids;    /* identifiers of the page being received (loop guard) */
	/* Identify */
	char granularity[32], earliest[40], deleted_record[16], start[40];
	char prefix[64];
};

/* ---- notes ---- */

static void why_set(char *why, size_t sz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* snprintf into a reason buffer: messages are cut to fit, by design. */
static void why_set(char *why, size_t sz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sz, fmt, ap);
	va_end(ap);
}


static void note(struct job *j, const char *url, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note(struct job *j, const char *url, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!j->run->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&j->run->mu);
	j->run->note(j->run->note_ctx, j->src->id, url ? url : "", msg);
	pthread_mutex_unlock(&j->run->mu);
}

/* Import's report callback: a bad record (called from the import's threads). */
static void on_bad(void *ctx, const struct mc_error *e)
{
	struct job *j = ctx;
	char buf[1024];

	pthread_mutex_lock(&j->bad_mu);
	j->bad_seen++;
	pthread_mutex_unlock(&j->bad_mu);
	mc_error_format(e, buf, sizeof(buf));
	note(j, e->file, "bad record: %s", buf);
}

static uint64_t bad_count(struct job *j)
{
	uint64_t n;

	pthread_mutex_lock(&j->bad_mu);
	n = j->bad_seen;
	pthread_mutex_unlock(&j->bad_mu);
	return n;
}

/* ---- HTTP ---- */

static size_t on_header(char *buf, size_t size, size_t nitems, void *ctx)
{
	struct page *pg = ctx;
	size_t n = size * nitems, vl;
	const char *v;

	if (n > 12 && strncasecmp(buf, "HTTP/", 5) == 0) {
		/* a new response (after a redirect or 100-continue) */
		pg->ctype[0] = pg->retry_after[0] = '\0';
		return n;
	}
	if (n > 13 && strncasecmp(buf, "Content-Type:", 13) == 0)
		v = buf + 13;
	else if (n > 12 && strncasecmp(buf, "Retry-After:", 12) == 0)
		v = buf + 12;
	else
		return n;
	while (v < buf + n && (*v == ' ' || *v == '\t'))
		v++;
	vl = (size_t)(buf + n - v);
	while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
		vl--;
	if (buf[0] == 'C' || buf[0] == 'c')
		snprintf(pg->ctype, sizeof(pg->ctype), "%.*s", (int)vl, v);
	else
		snprintf(pg->retry_after, sizeof(pg->retry_after), "%.*s", (int)vl, v);
	return n;
}

static size_t on_body(char *buf, size_t size, size_t nmemb, void *ctx)
{
	struct page *pg = ctx;
	size_t n = size * nmemb, room;
	int rc;

	if (!pg->status_known) {
		curl_easy_getinfo(pg->j->curl, CURLINFO_RESPONSE_CODE, &pg->status);
		pg->status_known = 1;
	}
	pg->bytes += n;
	room = pg->keep > pg->raw.len ? pg->keep - pg->raw.len : 0;
	if (room) {
		if (mc_buf_add(&pg->raw, buf, n < room ? n : room))
			pg->raw_cut = 1;
	}
	if (n > room)
		pg->raw_cut = 1;
	if (pg->status != 200 || !pg->parser) {
		/* metadata requests must fit in memory; error bodies are not read */
		if (!pg->parser && pg->status == 200 && pg->raw_cut)
			return 0;
		return n;
	}
	rc = mc_parser_feed(pg->parser, buf, n, &pg->perr);
	if (rc) {
		pg->prc = rc;
		return 0;  /* stop the transfer: CURLE_WRITE_ERROR */
	}
	return n;
}

/* Stall detection: libcurl's low-speed check averages over a few seconds, so
 * a burst followed by silence goes unnoticed for longer than low_speed_time;
 * this aborts when no byte at all has come for low_speed_time. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct page *pg = ctx;
	double now = mc_time_mono();

	if (dlnow != pg->last_now || pg->last_rx == 0) {
		pg->last_now = dlnow;
		pg->last_rx = now;
		return 0;
	}
	if (now - pg->last_rx > (double)pg->j->run->cfg->harvest.low_speed_time) {
		pg->stalled = 1;
		return 1;
	}
	return 0;
}

static int retryable_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static double rnd01(struct job *j)
{
	/* xorshift: jitter only, no need for more */
	j->rnd ^= j->rnd << 13;
	j->rnd ^= j->rnd >> 7;
	j->rnd ^= j->rnd << 17;
	return (double)(j->rnd >> 11) / 9007199254740992.0;
}

static void sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Keep the raw bytes of a problem page under <quarantine>/<ID>/pages/. */
static void save_page(struct job *j, const struct page *pg, const char *why)
{
	const char *qdir = j->run->cfg->quarantine_dir;
	char dir[1024], path[1200], ts[32];
	FILE *f;
	int n;

	if (!pg->raw.len || j->saved_pages >= HV_MAX_SAVED_PAGES || !qdir)
		return;
	if (mc_date_format((int64_t)time(NULL), MC_DATE_COMPACT, ts, sizeof(ts)))
		return;
	n = snprintf(dir, sizeof(dir), "%s/%s", qdir, j->src->id);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return;
	mkdir(qdir, 0755);
	mkdir(dir, 0755);
	n = snprintf(dir, sizeof(dir), "%s/%s/pages", qdir, j->src->id);
	if (n < 0 || (size_t)n >= sizeof(dir) || (mkdir(dir, 0755) && errno != EEXIST))
		return;
	n = snprintf(path, sizeof(path), "%s/%s-%u.xml", dir, ts, j->saved_pages + 1);
	if (n < 0 || (size_t)n >= sizeof(path))
		return;
	f = fopen(path, "we");
	if (!f)
		return;
	j->saved_pages++;
	/* a comment first so the file says where it came from; the page follows as received */
	fprintf(f, "<!-- mucluc quarantine: source %s, %s, %s%s -->\n", j->src->id, j->url, why,
		pg->raw_cut ? " (only the start of the page is kept)" : "");
	fwrite(pg->raw.data, 1, pg->raw.len, f);
	if (fclose(f) == 0)
		note(j, j->url, "page kept in %s", path);
	if (j->saved_pages == HV_MAX_SAVED_PAGES)
		note(j, j->url, "%d pages kept: later problem pages are not saved", HV_MAX_SAVED_PAGES);
}

static void page_reset(struct page *pg)
{
	mc_parser_free(pg->parser);
	pg->parser = NULL;
	mc_buf_reset(&pg->raw);
	pg->raw_cut = 0;
	pg->status = 0;
	pg->status_known = 0;
	pg->ctype[0] = pg->retry_after[0] = '\0';
	pg->prc = 0;
	pg->last_rx = 0;
	pg->last_now = 0;
	pg->stalled = 0;
	mc_error_clear(&pg->perr);
	pg->bytes = 0;
}

/* Is the body HTML or something else than XML? For messages. */
static const char *body_kind(const struct page *pg)
{
	return pg->ctype[0] ? pg->ctype : "no Content-Type";
}

/* Records in a response that should have none (Identify) are ignored. */
static int no_record(void *ctx, struct mc_record *rec, const struct mc_error *bad,
		     const char *raw, size_t raw_len)
{
	return 0;
}

/* A record of a ListRecords page: to the import. A record cut by the end
 * of the input is not bad data but a failed transfer: the page is fetched
 * again (or the source fails saying so), so it is not reported as bad. */
static int page_record(void *ctx, struct mc_record *rec, const struct mc_error *bad,
		       const char *raw, size_t raw_len)
{
	struct job *j = ctx;

	if (bad && bad->code == MC_E_TRUNCATED)
		return 0;
	if (rec && rec->local_id)
		hv_page_ids_add(&j->ids, rec->local_id, strlen(rec->local_id));
	else if (bad && bad->record_id[0])
		hv_page_ids_add(&j->ids, bad->record_id, strlen(bad->record_id));
	else if (raw)
		hv_page_ids_add(&j->ids, raw, raw_len);
	else
		hv_page_ids_add(&j->ids, "", 0);
	return mc_import_record(j->im, rec, bad, raw, raw_len);
}

/* GET j->url with retries. parse: stream the body through a parser feeding
 * the import (ListRecords) or through a parser alone (Identify); else keep
 * the body in pg->raw (ListMetadataFormats). 0 when a complete OAI-PMH
 * response was read (pg->parser holds its envelope info); else the error
 * with why filled in. */
static int fetch(struct job *j, struct page *pg, int parse, int import, char *why, size_t whysz)
{
	const struct mc_harvest_config *h = &j->run->cfg->harvest;
	struct mc_parse_opts po;
	double wait = 0, ra;
	CURLcode cc;
	int attempt, rc = MC_E_PARSE, retry;

	for (attempt = 1; attempt <= h->retries; attempt++) {
		if (attempt > 1) {
			note(j, j->url, "attempt %d of %d failed: %s; retrying in %.1f s", attempt - 1,
			     h->retries, why, wait);
			sleep_s(wait);
		}
		page_reset(pg);
		memset(&j->ids, 0, sizeof(j->ids));
		pg->keep = parse ? HV_PAGE_KEEP_BYTES : HV_MAX_META_BYTES;
		why[0] = '\0';
		if (parse) {
			memset(&po, 0, sizeof(po));
			po.input = MC_IN_XML;
			po.filename = j->url;
			po.source = j->src->id;
			rc = mc_parser_new(&po, import ? page_record : no_record, j, &pg->parser);
			if (rc) {
				why_set(why, whysz, "cannot start the parser: %s", mc_strerror(rc));
				return rc;
			}
		}
		curl_easy_setopt(j->curl, CURLOPT_URL, j->url);
		curl_easy_setopt(j->curl, CURLOPT_WRITEDATA, pg);
		curl_easy_setopt(j->curl, CURLOPT_HEADERDATA, pg);
		curl_easy_setopt(j->curl, CURLOPT_XFERINFODATA, pg);
		j->errbuf[0] = '\0';
		cc = curl_easy_perform(j->curl);
		if (!pg->status_known)
			curl_easy_getinfo(j->curl, CURLINFO_RESPONSE_CODE, &pg->status);
		retry = 0;
		wait = hv_backoff_delay(attempt + 1, h->retry_wait, h->retry_max_wait, rnd01(j));
		if (pg->prc) {
			rc = pg->prc;
			if (rc == MC_E_PARSE || rc == MC_E_ENCODING) {
				why_set(why, whysz, "not an OAI-PMH response (got %s: %s)", body_kind(pg),
					 pg->perr.msg);
				retry = 1;
			} else {
				why_set(why, whysz, "%s", pg->perr.msg[0] ? pg->perr.msg : mc_strerror(rc));
			}
			save_page(j, pg, why);
		} else if (cc == CURLE_WRITE_ERROR && !parse && pg->raw_cut) {
			rc = MC_E_TOOBIG;
			why_set(why, whysz, "response larger than %u bytes", HV_MAX_META_BYTES);
		} else if (cc == CURLE_ABORTED_BY_CALLBACK && pg->stalled) {
			rc = -ETIMEDOUT;
			why_set(why, whysz, "nothing received for %d s (low_speed_time)", h->low_speed_time);
			retry = 1;
		} else if (cc != CURLE_OK) {
			rc = -EIO;
			why_set(why, whysz, "%s", j->errbuf[0] ? j->errbuf : curl_easy_strerror(cc));
			retry = retryable_curl(cc);
			if (cc == CURLE_PARTIAL_FILE || cc == CURLE_RECV_ERROR)
				save_page(j, pg, why);
		} else if (pg->status == 429 || pg->status >= 500) {
			rc = -EIO;
			why_set(why, whysz, "HTTP %ld", pg->status);
			retry = 1;
			if (pg->retry_after[0] &&
			    !hv_retry_after_parse(pg->retry_after, (int64_t)time(NULL), &ra)) {
				if (ra > h->retry_max_wait) {
					why_set(why, whysz, "HTTP %ld, Retry-After %.0f s is more than "
						 "retry_max_wait (%.0f s)", pg->status, ra,
						 h->retry_max_wait);
					retry = 0;
				} else {
					wait = ra;
				}
			}
		} else if (pg->status != 200) {
			rc = -EIO;
			why_set(why, whysz, "HTTP %ld", pg->status);
		} else if (!parse) {
			return 0;
		} else {
			rc = mc_parser_finish(pg->parser, &pg->perr);
			if (!rc && !mc_parser_oai(pg->parser)->envelope) {
				rc = MC_E_PARSE;
				why_set(why, whysz, "not an OAI-PMH response (got %s, no <OAI-PMH> root)",
					 body_kind(pg));
			} else if (rc == MC_E_TRUNCATED) {
				why_set(why, whysz, "truncated page: %s", pg->perr.msg);
			} else if (rc) {
				why_set(why, whysz, "%s%s",
					mc_parser_oai(pg->parser)->envelope ? "" : "not an OAI-PMH response: ",
					pg->perr.msg[0] ? pg->perr.msg : mc_strerror(rc));
			}
			if (!rc)
				return 0;
			retry = rc != -ENOMEM && rc != MC_E_STORE && rc != MC_E_FULL;
			save_page(j, pg, why);
		}
		if (!retry)
			break;
	}
	if (attempt > h->retries)
		note(j, j->url, "giving up after %d attempts: %s", h->retries, why);
	return rc;
}

/* Base URL + "verb=..." + arguments (escaped). 0 or MC_E_TOOBIG. */
static int make_url(struct job *j, const char *verb, const char *const *args)
{
	const char *base = j->src->url;
	size_t len;
	int n, i;

	n = snprintf(j->url, sizeof(j->url), "%s%sverb=%s", base, strchr(base, '?') ? "&" : "?",
		     verb);
	if (n < 0 || (size_t)n >= sizeof(j->url))
		return MC_E_TOOBIG;
	len = (size_t)n;
	for (i = 0; args && args[i]; i += 2) {
		char *e;

		if (!args[i + 1] || !args[i + 1][0])
			continue;
		e = curl_easy_escape(j->curl, args[i + 1], 0);
		if (!e)
			return -ENOMEM;
		n = snprintf(j->url + len, sizeof(j->url) - len, "&%s=%s", args[i], e);
		curl_free(e);
		if (n < 0 || (size_t)n >= sizeof(j->url) - len)
			return MC_E_TOOBIG;
		len += (size_t)n;
	}
	return 0;
}

/* Pick the metadata format from ListMetadataFormats: MARCXML (by namespace)
 * over oai_dc. */
static int choose_prefix(struct job *j, struct page *pg, char *why, size_t whysz)
{
	static const char *const none[] = { NULL };
	xmlDocPtr doc = NULL;
	xmlNodePtr n, c, root;
	char marc[64] = "", dc[64] = "";
	int rc;

	if ((rc = make_url(j, "ListMetadataFormats", none)))
		return rc;
	rc = fetch(j, pg, 0, 0, why, whysz);
	if (rc)
		return rc;
	if (pg->raw.len > INT32_MAX)
		return MC_E_TOOBIG;
	/* no DTD at all, so no entity can expand (the parser never reads one) */
	if (pg->raw.data && (memmem(pg->raw.data, pg->raw.len, "<!DOCTYPE", 9) ||
			     memmem(pg->raw.data, pg->raw.len, "<!ENTITY", 8))) {
		why_set(why, whysz, "ListMetadataFormats: a DTD in the response is refused");
		return MC_E_ENTITY;
	}
	doc = xmlReadMemory(pg->raw.data ? pg->raw.data : "", (int)pg->raw.len, j->url, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc || doc->intSubset || !(root = xmlDocGetRootElement(doc))) {
		why_set(why, whysz, "ListMetadataFormats: not an OAI-PMH response (got %s)",
			 body_kind(pg));
		rc = MC_E_PARSE;
		goto out;
	}
	for (n = root->children; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE || !xmlStrEqual(n->name, BAD_CAST "ListMetadataFormats"))
			continue;
		for (c = n->children; c; c = c->next) {
			xmlNodePtr k;
			xmlChar *prefix = NULL, *ns = NULL;

			if (c->type != XML_ELEMENT_NODE ||
			    !xmlStrEqual(c->name, BAD_CAST "metadataFormat"))
				continue;
			for (k = c->children; k; k = k->next) {
				if (k->type != XML_ELEMENT_NODE)
					continue;
				if (xmlStrEqual(k->name, BAD_CAST "metadataPrefix") && !prefix)
					prefix = xmlNodeGetContent(k);
				else if (xmlStrEqual(k->name, BAD_CAST "metadataNamespace") && !ns)
					ns = xmlNodeGetContent(k);
			}
			if (prefix && ns && strcmp((char *)ns, MARC_NS) == 0 && !marc[0] &&
			    strlen((char *)prefix) < sizeof(marc))
				snprintf(marc, sizeof(marc), "%s", (char *)prefix);
			if (prefix && strcmp((char *)prefix, "oai_dc") == 0)
				snprintf(dc, sizeof(dc), "oai_dc");
			xmlFree(prefix);
			xmlFree(ns);
		}
	}
	if (marc[0])
		snprintf(j->prefix, sizeof(j->prefix), "%s", marc);
	else if (dc[0])
		snprintf(j->prefix, sizeof(j->prefix), "%s", dc);
	else {
		why_set(why, whysz, "the provider offers neither MARCXML nor oai_dc");
		rc = MC_E_FORMAT;
	}
out:
	xmlFreeDoc(doc);
	return rc;
}

static int identify(struct job *j, struct page *pg, char *why, size_t whysz)
{
	static const char *const none[] = { NULL };
	const struct mc_oai_info *oi;
	int rc;

	if ((rc = make_url(j, "Identify", none)))
		return rc;
	rc = fetch(j, pg, 1, 0, why, whysz);
	if (rc)
		return rc;
	oi = mc_parser_oai(pg->parser);
	if (oi->error_code[0]) {
		why_set(why, whysz, "Identify: OAI error %s: %s", oi->error_code, oi->error_msg);
		return MC_E_PARSE;
	}
	snprintf(j->granularity, sizeof(j->granularity), "%s",
		 oi->granularity[0] ? oi->granularity : "YYYY-MM-DD");
	snprintf(j->earliest, sizeof(j->earliest), "%s", oi->earliest_datestamp);
	snprintf(j->deleted_record, sizeof(j->deleted_record), "%s", oi->deleted_record);
	snprintf(j->start, sizeof(j->start), "%s", oi->response_date);
	if (!j->start[0]) {
		int64_t now = (int64_t)time(NULL);

		mc_date_format(now, MC_DATE_SECONDS, j->start, sizeof(j->start));
	}
	return 0;
}

static void now_iso(char *buf, size_t sz)
{
	mc_date_format((int64_t)time(NULL), MC_DATE_SECONDS, buf, sz);
}

/* Store the per-source summary (for `mucluc sources`) and Identify facts. */
static void save_status(struct job *j)
{
	struct mc_writer *w = NULL;
	struct hv_result *r = j->res;
	char now[40], run[256], ident[256];

	now_iso(now, sizeof(now));
	snprintf(run, sizeof(run),
		 "%llu new, %llu changed, %llu deleted, %llu unchanged, %llu errors, %llu pages",
		 (unsigned long long)r->added, (unsigned long long)r->changed,
		 (unsigned long long)r->deleted, (unsigned long long)r->unchanged,
		 (unsigned long long)r->errors, (unsigned long long)r->pages);
	if (mc_writer_begin(j->run->store, &w, NULL))
		return;
	mc_writer_state_set(w, j->scope, "last_run", run);
	if (r->rc) {
		mc_writer_state_set(w, j->scope, "last_error_time", now);
		mc_writer_state_set(w, j->scope, "last_error", r->reason);
	} else {
		/* the last error stays: its time tells whether it is older */
		mc_writer_state_set(w, j->scope, "last_success", now);
	}
	if (j->granularity[0]) {
		snprintf(ident, sizeof(ident), "granularity=%s\nearliestDatestamp=%s\ndeletedRecord=%s\n",
			 j->granularity, j->earliest, j->deleted_record);
		mc_writer_state_set(w, j->scope, "identify", ident);
	}
	mc_writer_commit(w, NULL);
}

static int load_state(struct job *j, struct hv_state *st)
{
	struct mc_reader *r;
	char buf[HV_STATE_BYTES];
	int rc;

	memset(st, 0, sizeof(*st));
	if (mc_reader_begin(j->run->store, &r))
		return MC_E_STORE;
	rc = mc_reader_state_get(r, j->scope, "state", buf, sizeof(buf));
	mc_reader_end(r);
	if (rc == MC_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (hv_state_decode(buf, st)) {
		note(j, "", "the saved harvest state is unreadable: starting afresh");
		memset(st, 0, sizeof(*st));
	}
	return 0;
}

/* Save st with the records handed over before it (one transaction). wait:
 * return once it is committed; else the commit overlaps the next page. */
static int checkpoint(struct job *j, const struct hv_state *st, int wait, char *why,
		      size_t whysz)
{
	char buf[HV_STATE_BYTES];
	struct mc_error e;
	int rc;

	rc = hv_state_encode(st, buf, sizeof(buf));
	if (rc) {
		why_set(why, whysz, "harvest state too large to save");
		return rc;
	}
	mc_error_clear(&e);
	rc = wait ? mc_import_checkpoint(j->im, j->scope, "state", buf, &e)
		  : mc_import_checkpoint_nowait(j->im, j->scope, "state", buf, &e);
	if (rc) {
		char m[600];

		mc_error_format(&e, m, sizeof(m));
		why_set(why, whysz, "cannot store the page: %s", m);
	}
	return rc;
}

/* Harvest one list (one set, or the whole repository): pages until the
 * token is empty. st is the run's state, updated and saved after each page. */
static int harvest_list(struct job *j, struct page *pg, struct hv_state *st, char *why,
			size_t whysz)
{
	struct hv_guard g;
	const struct mc_oai_info *oi;
	uint64_t bad0;
	int rc, restarted = 0;

	memset(&g, 0, sizeof(g));
	for (;;) {
		if (st->token[0]) {
			const char *args[] = { "resumptionToken", st->token, NULL };

			rc = make_url(j, "ListRecords", args);
		} else {
			const char *args[] = { "metadataPrefix", st->prefix, "from", st->from,
					       "until", st->until, "set", st->setspec, NULL };

			rc = make_url(j, "ListRecords", args);
		}
		if (rc) {
			why_set(why, whysz, "request URL too long");
			break;
		}
		mc_import_set_input(j->im, j->url);
		bad0 = bad_count(j);
		rc = fetch(j, pg, 1, 1, why, whysz);
		if (rc)
			break;
		oi = mc_parser_oai(pg->parser);
		if (bad_count(j) > bad0)
			save_page(j, pg, "bad records");
		if (oi->error_code[0] && strcmp(oi->error_code, "badResumptionToken") == 0 &&
		    st->token[0] && !restarted) {
			note(j, j->url, "resumption token refused (%s): restarting the list from %s",
			     oi->error_msg, st->from[0] ? st->from : "the beginning");
			st->token[0] = '\0';
			restarted = 1;
			hv_guard_free(&g);
			continue;
		}
		if (oi->error_code[0] && strcmp(oi->error_code, "noRecordsMatch") != 0) {
			why_set(why, whysz, "OAI error %s: %s", oi->error_code, oi->error_msg);
			rc = MC_E_PARSE;
			break;
		}
		rc = hv_guard_page(&g, oi->token, oi->records, &j->ids, oi->error_code, why, whysz);
		if (rc)
			break;
		if (g.stale_run)
			note(j, j->url, "the page brought nothing new (resumption token '%.200s' and "
			     "its identifiers met before): %d of %d such pages in a row",
			     oi->token, g.stale_run, MC_MAX_HARVEST_STALE_PAGES);
		snprintf(st->token, sizeof(st->token), "%s", oi->token);
		st->pages++;
		rc = checkpoint(j, st, 0, why, whysz);
		if (rc)
			break;
		j->res->pages++;
		if (!st->token[0])
			break;
	}
	hv_guard_free(&g);
	return rc;
}

/* After a complete --full run: mark deleted the records the provider no
 * longer lists, unless that is more than the source's full_delete_limit
 * of its records and --force was not given (*refused = 1, why says so:
 * a provider that suddenly lists a tenth of its records is more likely
 * broken than weeded). 0 (also when refused or when there is nothing to
 * compare with), or a store error with why filled in. */
static int delete_unseen(struct job *j, int *refused, char *why, size_t whysz)
{
	const struct mc_source *src = j->src;
	int limit = src->full_delete_limit >= 0 ? src->full_delete_limit
						: j->run->cfg->harvest.full_delete_limit;
	uint64_t unseen = 0, present = 0, nd = 0;
	struct mc_error e;
	char lim[160];
	int rc;

	mc_error_clear(&e);
	rc = mc_import_unseen_count(j->im, &unseen, &present, &e);
	if (rc == MC_E_USAGE) {
		note(j, "", "--full: nothing marked deleted: %s", e.msg);
		return 0;
	}
	if (rc) {
		why_set(why, whysz, "cannot count the records to mark deleted: %s", e.msg);
		return rc;
	}
	if (src->full_delete_limit >= 0)
		snprintf(lim, sizeof(lim), "full_delete_limit of [source \"%s\"] (%d%%)", src->id,
			 limit);
	else
		snprintf(lim, sizeof(lim), "full_delete_limit of [harvest] (%d%%)", limit);
	if (unseen && unseen * 100 > present * (uint64_t)limit) {
		if (!j->run->o.force) {
			*refused = 1;
			why_set(why, whysz,
				"--full refused to mark %llu of %llu records deleted (%llu%%): more "
				"than the %s; nothing marked deleted. If the provider really dropped "
				"them, run again with --force (or raise full_delete_limit)",
				(unsigned long long)unseen, (unsigned long long)present,
				(unsigned long long)(unseen * 100 / present), lim);
			return 0;
		}
		note(j, "", "--full --force: marking %llu of %llu records deleted (%llu%%), more "
		     "than the %s", (unsigned long long)unseen, (unsigned long long)present,
		     (unsigned long long)(unseen * 100 / present), lim);
	}
	mc_error_clear(&e);
	rc = mc_import_delete_unseen(j->im, &nd, &e);
	if (rc == MC_E_USAGE) {
		note(j, "", "--full: nothing marked deleted: %s", e.msg);
		rc = 0;
	} else if (rc) {
		why_set(why, whysz, "cannot mark unseen records deleted: %s", e.msg);
	}
	return rc;
}

/* The whole run of one source. Fills j->res. */
static void harvest_source(struct job *j)
{
	const struct mc_source *src = j->src;
	struct hv_result *res = j->res;
	const struct hv_opts *o = &j->run->o;
	struct mc_import_opts io;
	struct mc_import_stats ist;
	struct mc_error e;
	struct hv_state st;
	struct page pg;
	double t0 = mc_time_mono();
	char why[512] = "";
	unsigned nsets, si;
	int rc, resume, refused = 0;

	memset(&pg, 0, sizeof(pg));
	pg.j = j;
	pg.keep = HV_PAGE_KEEP_BYTES;
	mc_buf_init(&pg.raw, HV_PAGE_KEEP_BYTES);
	memset(&ist, 0, sizeof(ist));
	snprintf(j->scope, sizeof(j->scope), "harvest:%s", src->id);
	j->rnd = (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)j << 16) ^ 0x9E3779B97F4A7C15ull;

	rc = load_state(j, &st);
	if (rc) {
		why_set(why, sizeof(why), "cannot read the harvest state: %s", mc_strerror(rc));
		goto out;
	}
	j->curl = curl_easy_init();
	if (!j->curl) {
		rc = -ENOMEM;
		why_set(why, sizeof(why), "cannot start libcurl");
		goto out;
	}
	{
		char ua[256];
		const char *contact = j->run->cfg->harvest.user_agent_contact;
		const struct mc_harvest_config *h = &j->run->cfg->harvest;

		snprintf(ua, sizeof(ua), "mucluc/%s%s%s%s", MUCLUC_VERSION, contact ? " (+" : "",
			 contact ? contact : "", contact ? ")" : "");
		curl_easy_setopt(j->curl, CURLOPT_USERAGENT, ua);
		curl_easy_setopt(j->curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(j->curl, CURLOPT_ERRORBUFFER, j->errbuf);
		curl_easy_setopt(j->curl, CURLOPT_ACCEPT_ENCODING, "");
		curl_easy_setopt(j->curl, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(j->curl, CURLOPT_MAXREDIRS, 5L);
#if LIBCURL_VERSION_NUM >= 0x075500
		curl_easy_setopt(j->curl, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(j->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
		curl_easy_setopt(j->curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
		curl_easy_setopt(j->curl, CURLOPT_REDIR_PROTOCOLS,
				 (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
		curl_easy_setopt(j->curl, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(j->curl, CURLOPT_SSL_VERIFYHOST, 2L);
		if (h->ca_file)
			curl_easy_setopt(j->curl, CURLOPT_CAINFO, h->ca_file);
		curl_easy_setopt(j->curl, CURLOPT_CONNECTTIMEOUT, (long)h->connect_timeout);
		curl_easy_setopt(j->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(j->curl, CURLOPT_LOW_SPEED_TIME, (long)h->low_speed_time);
		curl_easy_setopt(j->curl, CURLOPT_TIMEOUT, (long)h->timeout);
		curl_easy_setopt(j->curl, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(j->curl, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(j->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(j->curl, CURLOPT_NOPROGRESS, 0L);
	}

	rc = identify(j, &pg, why, sizeof(why));
	if (rc)
		goto out;
	resume = st.active && !o->full && !o->from && !o->until;
	if (resume) {
		/* an unfinished run: go on from its last committed page */
		snprintf(j->prefix, sizeof(j->prefix), "%s", st.prefix);
		snprintf(j->start, sizeof(j->start), "%s", st.start);
		note(j, "", "resuming the unfinished run (%llu pages done)",
		     (unsigned long long)st.pages);
	} else {
		if (src->metadata_prefix_given)
			snprintf(j->prefix, sizeof(j->prefix), "%s", src->metadata_prefix);
		else if ((rc = choose_prefix(j, &pg, why, sizeof(why))))
			goto out;
		st.active = 1;
		st.set = 0;
		st.pages = 0;
		st.token[0] = '\0';
		snprintf(st.prefix, sizeof(st.prefix), "%s", j->prefix);
		snprintf(st.start, sizeof(st.start), "%s", j->start);
		st.until[0] = '\0';
		if (o->until)
			snprintf(st.until, sizeof(st.until), "%s", o->until);
		st.from[0] = '\0';
		if (o->from)
			snprintf(st.from, sizeof(st.from), "%s", o->from);
		else if (!o->full && st.last_start[0] &&
			 hv_next_from(st.last_start, j->granularity, st.from, sizeof(st.from)))
			st.from[0] = '\0';
		/* the provider's earliest datestamp bounds nothing we need: omit it */
	}
	nsets = src->nsets ? (unsigned)src->nsets : 1;
	if (st.set >= nsets || (src->nsets && strcmp(st.setspec, src->sets[st.set]) != 0 && resume)) {
		note(j, "", "the configured sets changed since the unfinished run: starting over");
		st.set = 0;
		st.token[0] = '\0';
	}
	memset(&io, 0, sizeof(io));
	io.input = MC_IN_XML;
	io.quarantine_dir = j->run->cfg->quarantine_dir;
	rc = mc_import_begin(j->run->store, src, src->url, &io, on_bad, j, &j->im);
	if (rc) {
		why_set(why, sizeof(why), "cannot start the import: %s", mc_strerror(rc));
		goto out;
	}
	for (si = st.set; si < nsets; si++) {
		if (si != st.set) {
			st.token[0] = '\0';
			st.set = si;
		}
		snprintf(st.setspec, sizeof(st.setspec), "%s", src->nsets ? src->sets[si] : "");
		rc = harvest_list(j, &pg, &st, why, sizeof(why));
		if (rc)
			break;
	}
	if (!rc && o->full && bad_count(j) == 0)
		rc = delete_unseen(j, &refused, why, sizeof(why));
	else if (!rc && o->full)
		note(j, "", "--full: bad records in this run, so unseen records are not marked deleted");
	if (!rc) {
		/* the run is complete: the next one starts from this run's start */
		st.active = 0;
		st.token[0] = '\0';
		st.set = 0;
		/* a run that stopped at --until saw nothing after it: the next
		 * incremental run must not skip that */
		if (!st.until[0])
			snprintf(st.last_start, sizeof(st.last_start), "%s", st.start);
		rc = checkpoint(j, &st, 1, why, sizeof(why));
	}
	/* every record arrived, only the deletions were refused: the run is
	 * complete, the source's result is not */
	if (!rc && refused)
		rc = MC_E_USAGE;
out:
	if (j->im) {
		int erc;

		mc_error_clear(&e);
		erc = mc_import_end(j->im, &ist, &e);
		j->im = NULL;
		if (erc && !rc) {
			rc = erc;
			mc_error_format(&e, why, sizeof(why));
		}
	}
	res->added = ist.added;
	res->changed = ist.changed;
	res->deleted = ist.deleted;
	res->unchanged = ist.unchanged;
	res->errors = ist.bad;
	res->rc = rc;
	if (rc)
		why_set(res->reason, sizeof(res->reason), "%s", why[0] ? why : mc_strerror(rc));
	res->seconds = mc_time_mono() - t0;
	save_status(j);
	page_reset(&pg);
	mc_buf_free(&pg.raw);
	if (j->curl)
		curl_easy_cleanup(j->curl);
	j->curl = NULL;
}

/* ---- the pool ---- */

/* "host:port" of an http(s) URL into buf (lower-cased). */
static void url_host(const char *url, char *buf, size_t sz)
{
	const char *p = strstr(url, "://"), *e, *at;
	size_t n, i;

	p = p ? p + 3 : url;
	e = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(e - p));
	if (at)
		p = at + 1;
	n = (size_t)(e - p);
	if (n >= sz)
		n = sz - 1;
	for (i = 0; i < n; i++)
		buf[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
	buf[n] = '\0';
}

static void *worker(void *arg)
{
	struct run *r = arg;
	size_t g, k;

	for (;;) {
		pthread_mutex_lock(&r->mu);
		g = r->next_group < r->ngroups ? r->next_group++ : (size_t)-1;
		pthread_mutex_unlock(&r->mu);
		if (g == (size_t)-1)
			break;
		for (k = r->group_start[g]; k < r->group_start[g + 1]; k++) {
			struct job j;
			size_t i = r->order[k];

			memset(&j, 0, sizeof(j));
			j.run = r;
			j.src = r->srcs[i];
			j.res = &r->res[i];
			pthread_mutex_init(&j.bad_mu, NULL);
			harvest_source(&j);
			pthread_mutex_destroy(&j.bad_mu);
		}
	}
	return NULL;
}

int hv_harvest_run(struct mc_store *s, const struct mc_config *cfg,
		   const struct mc_source *const *srcs, size_t n, const struct hv_opts *o,
		   hv_note_cb notecb, void *ctx, struct hv_result *res)
{
	struct run r;
	char (*hosts)[256] = NULL;
	pthread_t *th = NULL;
	size_t i, k, nth = 0, jobs;
	int rc = 0, *placed = NULL;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		snprintf(res[i].source, sizeof(res[i].source), "%s", srcs[i]->id);
		if (!srcs[i]->url)
			return MC_E_USAGE;
	}
	if (!n)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -ENOMEM;
	r.store = s;
	r.cfg = cfg;
	if (o)
		r.o = *o;
	r.note = notecb;
	r.note_ctx = ctx;
	r.srcs = srcs;
	r.res = res;
	pthread_mutex_init(&r.mu, NULL);
	hosts = calloc(n, sizeof(*hosts));
	placed = calloc(n, sizeof(*placed));
	r.order = calloc(n, sizeof(*r.order));
	r.group_start = calloc(n + 1, sizeof(*r.group_start));
	if (!hosts || !placed || !r.order || !r.group_start) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		url_host(srcs[i]->url, hosts[i], sizeof(hosts[i]));
	/* group by host, keeping the configuration's order within a group */
	for (i = 0, k = 0; i < n; i++) {
		size_t m;

		if (placed[i])
			continue;
		r.group_start[r.ngroups++] = k;
		for (m = i; m < n; m++)
			if (!placed[m] && strcmp(hosts[m], hosts[i]) == 0) {
				placed[m] = 1;
				r.order[k++] = m;
			}
	}
	r.group_start[r.ngroups] = k;
	jobs = (size_t)(r.o.jobs > 0 ? r.o.jobs : cfg->harvest.jobs > 0 ? cfg->harvest.jobs : 4);
	if (jobs > r.ngroups)
		jobs = r.ngroups;
	th = calloc(jobs, sizeof(*th));
	if (!th) {
		rc = -ENOMEM;
		goto out;
	}
	for (nth = 0; nth < jobs; nth++)
		if (pthread_create(&th[nth], NULL, worker, &r))
			break;
	if (!nth)
		worker(&r);  /* no thread could start: do the work here */
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < n; i++)
		if (res[i].rc || res[i].errors)
			rc = 1;
out:
	free(th);
	free(hosts);
	free(placed);
	free(r.order);
	free(r.group_start);
	pthread_mutex_destroy(&r.mu);
	curl_global_cleanup();
	return rc;
}

int hv_status_get(struct mc_store *s, const char *id, struct hv_status *st)
{
	struct mc_reader *r;
	char scope[80];
	int rc;

	memset(st, 0, sizeof(*st));
	snprintf(scope, sizeof(scope), "harvest:%s", id);
	rc = mc_reader_begin(s, &r);
	if (rc)
		return rc;
	if (mc_reader_state_get(r, scope, "last_success", st->last_success, sizeof(st->last_success)))
		st->last_success[0] = '\0';
	if (mc_reader_state_get(r, scope, "last_error_time", st->last_error_time,
			       sizeof(st->last_error_time)))
		st->last_error_time[0] = '\0';
	if (mc_reader_state_get(r, scope, "last_error", st->last_error, sizeof(st->last_error)))
		st->last_error[0] = '\0';
	if (mc_reader_state_get(r, scope, "last_run", st->last_run, sizeof(st->last_run)))
		st->last_run[0] = '\0';
	mc_reader_end(r);
	return 0;
}
