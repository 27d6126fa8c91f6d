/* test-harvest.c — the harvester's arithmetic (datestamps, backoff,
 * Retry-After, loop guard, saved state), the [harvest] configuration, and the
 * record-by-record import it drives (checkpoints, delete_unseen) against a
 * real parser and a real LMDB store. The HTTP side is tested by the
 * integration tests against tests/oai-provider. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core.h"
#include "harvester-internal.h"
#include "hv.h"

#include "unit-tmp.h"

static int make_tmpdir(void **state)
{
	return unit_tmpdir_make("harvest");
}

static int remove_tmpdir(void **state)
{
	return unit_tmpdir_remove();
}

/* ---- datestamps ---- */

static void next_from_follows_granularity(void **state)
{
	char buf[40];

	assert_true(hv_granularity_seconds("YYYY-MM-DDThh:mm:ssZ"));
	assert_false(hv_granularity_seconds("YYYY-MM-DD"));
	assert_false(hv_granularity_seconds(NULL));

	/* seconds: the same instant */
	assert_int_equal(hv_next_from("2026-01-02T03:04:05Z", "YYYY-MM-DDThh:mm:ssZ", buf,
				      sizeof(buf)), 0);
	assert_string_equal(buf, "2026-01-02T03:04:05Z");
	/* day: the day before, as a day */
	assert_int_equal(hv_next_from("2026-01-02T03:04:05Z", "YYYY-MM-DD", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-01-01");
	/* across a month, a year and a leap day */
	assert_int_equal(hv_next_from("2024-03-01T00:00:00Z", "YYYY-MM-DD", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2024-02-29");
	assert_int_equal(hv_next_from("2025-01-01", "YYYY-MM-DD", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2024-12-31");
	/* a day-granularity responseDate at seconds granularity keeps its midnight */
	assert_int_equal(hv_next_from("2025-06-30", "YYYY-MM-DDThh:mm:ssZ", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2025-06-30T00:00:00Z");
	/* not a datestamp */
	assert_int_equal(hv_next_from("yesterday", "YYYY-MM-DD", buf, sizeof(buf)), MC_E_PARSE);
	assert_int_equal(hv_next_from("", "YYYY-MM-DD", buf, sizeof(buf)), MC_E_PARSE);
	assert_int_equal(hv_next_from(NULL, "YYYY-MM-DD", buf, sizeof(buf)), MC_E_PARSE);
	/* too small a buffer is an error, never a cut datestamp */
	assert_int_equal(hv_next_from("2026-01-02T03:04:05Z", "YYYY-MM-DDThh:mm:ssZ", buf, 20),
			 MC_E_TOOBIG);
	assert_int_equal(hv_next_from("1970-01-02", "YYYY-MM-DD", buf, 11), 0);
	assert_string_equal(buf, "1970-01-01");
}

/* ---- backoff ---- */

static void backoff_grows_and_stays_bounded(void **state)
{
	double prev_max = 0, d;
	int a, k;

	assert_true(hv_backoff_delay(1, 2, 300, 0.5) == 0);  /* the first attempt waits not */
	for (a = 2; a <= 40; a++) {
		double lo = 1e9, hi = 0;

		for (k = 0; k < 100; k++) {
			d = hv_backoff_delay(a, 2, 300, k / 100.0);
			assert_true(d > 0);
			assert_true(d <= 300);
			if (d < lo)
				lo = d;
			if (d > hi)
				hi = d;
		}
		/* jitter: between half and all of the step, and some spread */
		assert_true(lo * 2 >= hi * 0.999);
		assert_true(hi > lo);
		assert_true(hi >= prev_max * 0.999);  /* never shrinks */
		prev_max = hi;
	}
	/* the schedule itself: 2, 4, 8 ... (u = 0.999 ~ the full step) */
	assert_true(hv_backoff_delay(2, 2, 300, 0.999) > 1.99 && hv_backoff_delay(2, 2, 300, 0.999) <= 2);
	assert_true(hv_backoff_delay(3, 2, 300, 0.999) > 3.99 && hv_backoff_delay(3, 2, 300, 0.999) <= 4);
	assert_true(hv_backoff_delay(2, 2, 300, 0) == 1);
	/* cap reached and kept, even for silly attempt numbers */
	assert_true(hv_backoff_delay(100000, 2, 300, 0.999) <= 300);
	assert_true(hv_backoff_delay(100000, 2, 300, 0.999) > 299);
	/* bad jitter values are taken as 0, never beyond the cap */
	assert_true(hv_backoff_delay(5, 2, 300, 7) <= 300);
	assert_true(hv_backoff_delay(5, 2, 300, -1) == 8);
	assert_true(hv_backoff_delay(5, 0, 300, 0.5) == 0);
}

/* ---- Retry-After ---- */

static void retry_after_is_parsed(void **state)
{
	/* Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 */
	const int64_t t = 1445412480;
	double d = -1;

	assert_int_equal(hv_retry_after_parse("120", t, &d), 0);
	assert_true(d == 120);
	assert_int_equal(hv_retry_after_parse(" 5 \r\n", t, &d), 0);
	assert_true(d == 5);
	assert_int_equal(hv_retry_after_parse("0", t, &d), 0);
	assert_true(d == 0);
	assert_int_equal(hv_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", t - 30, &d), 0);
	assert_true(d == 30);
	/* a date in the past: no wait */
	assert_int_equal(hv_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", t + 3600, &d), 0);
	assert_true(d == 0);
	d = 42;
	assert_int_equal(hv_retry_after_parse("soon", t, &d), MC_E_PARSE);
	assert_int_equal(hv_retry_after_parse("-5", t, &d), MC_E_PARSE);
	assert_int_equal(hv_retry_after_parse("5 minutes", t, &d), MC_E_PARSE);
	assert_int_equal(hv_retry_after_parse("", t, &d), MC_E_PARSE);
	assert_int_equal(hv_retry_after_parse(NULL, t, &d), MC_E_PARSE);
	assert_int_equal(hv_retry_after_parse("99999999999999999999999", t, &d), MC_E_PARSE);
	assert_true(d == 42);  /* untouched on failure */
}

/* ---- loop guard ---- */

/* the digest of a page holding records first..last ("oai:test:N") */
static struct hv_page_ids page_ids(int first, int last)
{
	struct hv_page_ids p;
	char id[32];
	int i;

	memset(&p, 0, sizeof(p));
	for (i = first; i <= last; i++) {
		snprintf(id, sizeof(id), "oai:test:%d", i);
		hv_page_ids_add(&p, id, strlen(id));
	}
	return p;
}

static void guard_detects_loops(void **state)
{
	struct hv_guard g;
	struct hv_page_ids p1 = page_ids(1, 100), p2 = page_ids(101, 200), p3 = page_ids(201, 300);
	struct hv_page_ids q, none;
	char why[256], tok[32];
	int i;

	memset(&none, 0, sizeof(none));
	/* the digest does not depend on the order of the identifiers */
	memset(&q, 0, sizeof(q));
	for (i = 100; i >= 1; i--) {
		snprintf(tok, sizeof(tok), "oai:test:%d", i);
		hv_page_ids_add(&q, tok, strlen(tok));
	}
	assert_memory_equal(&q, &p1, sizeof(q));
	q = page_ids(1, 99);
	assert_memory_not_equal(&q, &p1, sizeof(q));

	memset(&g, 0, sizeof(g));
	assert_int_equal(hv_guard_page(&g, "a", 100, &p1, "", why, sizeof(why)), 0);
	assert_int_equal(hv_guard_page(&g, "b", 100, &p2, "", why, sizeof(why)), 0);
	/* a token sent again with new records is progress (the reported provider) */
	assert_int_equal(hv_guard_page(&g, "b", 100, &p3, NULL, why, sizeof(why)), 0);
	assert_int_equal(g.stale_run, 0);
	/* the same token with the same identifiers: nothing new, tolerated
	 * MC_MAX_HARVEST_STALE_PAGES - 1 times in a row */
	for (i = 1; i < MC_MAX_HARVEST_STALE_PAGES; i++) {
		assert_int_equal(hv_guard_page(&g, "b", 100, &p3, "", why, sizeof(why)), 0);
		assert_int_equal(g.stale_run, i);
	}
	assert_int_equal(hv_guard_page(&g, "b", 100, &p3, "", why, sizeof(why)), MC_E_PARSE);
	assert_non_null(strstr(why, "loops"));
	assert_non_null(strstr(why, "'b'"));
	assert_non_null(strstr(why, "same 100 identifiers"));
	/* the end of the list is never a loop */
	assert_int_equal(hv_guard_page(&g, "", 100, &p1, "", why, sizeof(why)), 0);
	assert_int_equal(hv_guard_page(&g, NULL, 0, NULL, "", why, sizeof(why)), 0);
	hv_guard_free(&g);

	/* a page that brings something new resets the count */
	memset(&g, 0, sizeof(g));
	assert_int_equal(hv_guard_page(&g, "a", 100, &p1, "", why, sizeof(why)), 0);
	for (i = 1; i < MC_MAX_HARVEST_STALE_PAGES; i++)
		assert_int_equal(hv_guard_page(&g, "a", 100, &p1, "", why, sizeof(why)), 0);
	assert_int_equal(hv_guard_page(&g, "a", 100, &p2, "", why, sizeof(why)), 0);
	assert_int_equal(g.stale_run, 0);
	for (i = 1; i < MC_MAX_HARVEST_STALE_PAGES; i++)
		assert_int_equal(hv_guard_page(&g, "a", 100, &p2, "", why, sizeof(why)), 0);
	hv_guard_free(&g);

	/* a cycle of tokens over the same pages is a loop too */
	memset(&g, 0, sizeof(g));
	assert_int_equal(hv_guard_page(&g, "x", 100, &p1, "", why, sizeof(why)), 0);
	assert_int_equal(hv_guard_page(&g, "y", 100, &p2, "", why, sizeof(why)), 0);
	for (i = 1; i < MC_MAX_HARVEST_STALE_PAGES; i++)
		assert_int_equal(hv_guard_page(&g, i % 2 ? "x" : "y", 100, i % 2 ? &p1 : &p2, "",
					       why, sizeof(why)), 0);
	assert_int_equal(hv_guard_page(&g, "q", 100, &p3, "", why, sizeof(why)), 0);
	assert_int_equal(hv_guard_page(&g, "x", 100, &p1, "", why, sizeof(why)), 0);
	assert_int_equal(hv_guard_page(&g, "y", 100, &p2, "", why, sizeof(why)), 0);
	assert_int_equal(hv_guard_page(&g, "q", 100, &p3, "", why, sizeof(why)), MC_E_PARSE);
	hv_guard_free(&g);

	/* empty pages: HV_MAX_EMPTY_PAGES in a row are tolerated, one more is not */
	memset(&g, 0, sizeof(g));
	for (i = 0; i < HV_MAX_EMPTY_PAGES; i++) {
		snprintf(tok, sizeof(tok), "e%d", i);
		assert_int_equal(hv_guard_page(&g, tok, 0, &none, "", why, sizeof(why)), 0);
	}
	/* a page with records resets the count */
	assert_int_equal(hv_guard_page(&g, "full", 3, &p1, "", why, sizeof(why)), 0);
	for (i = 0; i < HV_MAX_EMPTY_PAGES; i++) {
		snprintf(tok, sizeof(tok), "f%d", i);
		assert_int_equal(hv_guard_page(&g, tok, 0, &none, "", why, sizeof(why)), 0);
	}
	assert_int_equal(hv_guard_page(&g, "f-last", 0, &none, "", why, sizeof(why)), MC_E_PARSE);
	assert_non_null(strstr(why, "empty pages"));
	hv_guard_free(&g);
	assert_null(g.seen);

	/* noRecordsMatch ends a list, unless it comes with a token */
	memset(&g, 0, sizeof(g));
	assert_int_equal(hv_guard_page(&g, "", 0, &none, "noRecordsMatch", why, sizeof(why)), 0);
	assert_int_equal(hv_guard_page(&g, "t1", 0, &none, "noRecordsMatch", why, sizeof(why)),
			 MC_E_PARSE);
	assert_non_null(strstr(why, "noRecordsMatch"));
	hv_guard_free(&g);

	/* many distinct pages are fine (a 100,000-page harvest); one met again
	 * MC_MAX_HARVEST_STALE_PAGES times in a row is a loop */
	memset(&g, 0, sizeof(g));
	for (i = 0; i < 100000; i++) {
		snprintf(tok, sizeof(tok), "page-%d", i);
		q = page_ids(i * 5, i * 5 + 4);
		assert_int_equal(hv_guard_page(&g, tok, 5, &q, "", why, sizeof(why)), 0);
	}
	q = page_ids(77777 * 5, 77777 * 5 + 4);
	for (i = 1; i < MC_MAX_HARVEST_STALE_PAGES; i++)
		assert_int_equal(hv_guard_page(&g, "page-77777", 5, &q, "", why, sizeof(why)), 0);
	assert_int_equal(hv_guard_page(&g, "page-77777", 5, &q, "", why, sizeof(why)), MC_E_PARSE);
	hv_guard_free(&g);
}

/* ---- saved state ---- */

static void state_round_trips(void **state)
{
	struct hv_state a, b;
	char buf[HV_STATE_BYTES];

	memset(&a, 0, sizeof(a));
	a.active = 1;
	a.set = 2;
	a.pages = 12345678901ull;
	snprintf(a.setspec, sizeof(a.setspec), "sach:thieunhi");
	/* tokens are opaque: escapes, newlines, '=' and '%' survive */
	snprintf(a.token, sizeof(a.token), "x=1&y=%%41%%\nline2\r\tend=");
	snprintf(a.from, sizeof(a.from), "2025-12-31");
	snprintf(a.until, sizeof(a.until), "2026-01-01T00:00:00Z");
	snprintf(a.prefix, sizeof(a.prefix), "marc21");
	snprintf(a.start, sizeof(a.start), "2026-01-02T03:04:05Z");
	snprintf(a.last_start, sizeof(a.last_start), "2026-01-01T03:04:05Z");
	assert_int_equal(hv_state_encode(&a, buf, sizeof(buf)), 0);
	assert_null(strchr(strchr(buf, '\n') + 1, '\r'));  /* one line per key */
	assert_int_equal(hv_state_decode(buf, &b), 0);
	assert_int_equal(b.active, 1);
	assert_int_equal(b.set, 2);
	assert_true(b.pages == 12345678901ull);
	assert_string_equal(b.setspec, a.setspec);
	assert_string_equal(b.token, a.token);
	assert_string_equal(b.from, a.from);
	assert_string_equal(b.until, a.until);
	assert_string_equal(b.prefix, a.prefix);
	assert_string_equal(b.start, a.start);
	assert_string_equal(b.last_start, a.last_start);

	/* a maximal token still fits the encoding buffer, even all escapes */
	memset(a.token, '\n', HV_MAX_TOKEN_BYTES);
	a.token[HV_MAX_TOKEN_BYTES] = '\0';
	assert_int_equal(hv_state_encode(&a, buf, sizeof(buf)), 0);
	assert_int_equal(hv_state_decode(buf, &b), 0);
	assert_string_equal(b.token, a.token);
	assert_int_equal(hv_state_encode(&a, buf, 100), MC_E_TOOBIG);

	/* later versions may add keys; damaged values are refused */
	assert_int_equal(hv_state_decode("v=1\nactive=0\nnewkey=zzz\ntoken=abc\n", &b), 0);
	assert_string_equal(b.token, "abc");
	assert_int_equal(hv_state_decode("v=1\nactive=1\ntoken=ab%G1\n", &b), MC_E_CORRUPT);
	assert_int_equal(hv_state_decode("v=1\nactive=x\n", &b), MC_E_CORRUPT);
	assert_int_equal(hv_state_decode("v=1\nactive=1", &b), MC_E_CORRUPT);  /* cut */
	assert_int_equal(hv_state_decode("v=2\nactive=1\n", &b), MC_E_CORRUPT);
	assert_int_equal(hv_state_decode("garbage\n", &b), MC_E_CORRUPT);
	assert_int_equal(b.active, 0);
	assert_string_equal(b.token, "");
}

/* ---- [harvest] configuration ---- */

static void harvest_config(void **state)
{
	struct mc_config *c;
	struct mc_error e;

	assert_int_equal(mc_config_load(write_file("h1.ini",
						   "[catalogue]\nadmin_email = a@b.vn\n"
						   "[source \"x\"]\nname = X\ntype = commune\n"
						   "url = http://127.0.0.1:1/oai\n"), &c, &e), 0);
	assert_int_equal(c->harvest.jobs, 4);
	assert_int_equal(c->harvest.retries, 5);
	assert_int_equal(c->harvest.connect_timeout, 30);
	assert_int_equal(c->harvest.low_speed_time, 60);
	assert_int_equal(c->harvest.timeout, 0);
	assert_true(c->harvest.retry_wait == 2);
	assert_true(c->harvest.retry_max_wait == 300);
	assert_null(c->harvest.ca_file);
	assert_string_equal(c->harvest.user_agent_contact, "a@b.vn");
	assert_false(c->sources[0].metadata_prefix_given);
	assert_string_equal(c->sources[0].metadata_prefix, "oai_dc");
	assert_int_equal(c->harvest.full_delete_limit, 50);
	assert_int_equal(c->sources[0].full_delete_limit, -1);   /* [harvest]'s */
	mc_config_free(c);

	assert_int_equal(mc_config_load(write_file("h2.ini",
						   "[harvest]\njobs = 8\ntimeout = 600\n"
						   "connect_timeout = 5\nlow_speed_time = 30\n"
						   "retries = 2\nretry_wait = 0.25\nretry_max_wait = 0\n"
						   "ca_file = ca.pem\nuser_agent_contact = https://x.vn/\n"
						   "full_delete_limit = 0\n"
						   "[source \"x\"]\nname = X\ntype = commune\n"
						   "metadata_prefix = marc21\nfull_delete_limit = 95%\n"
						   "[source \"y\"]\nname = Y\ntype = commune\n"
						   "full_delete_limit = 100\n"), &c, &e), 0);
	assert_int_equal(c->harvest.full_delete_limit, 0);
	assert_int_equal(c->sources[0].full_delete_limit, 95);
	assert_int_equal(c->sources[1].full_delete_limit, 100);
	assert_int_equal(c->harvest.jobs, 8);
	assert_int_equal(c->harvest.timeout, 600);
	assert_int_equal(c->harvest.connect_timeout, 5);
	assert_int_equal(c->harvest.low_speed_time, 30);
	assert_int_equal(c->harvest.retries, 2);
	assert_true(c->harvest.retry_wait == 0.25);
	assert_true(c->harvest.retry_max_wait == 0);
	assert_non_null(strstr(c->harvest.ca_file, "/ca.pem"));
	assert_true(c->harvest.ca_file[0] == '/');
	assert_string_equal(c->harvest.user_agent_contact, "https://x.vn/");
	assert_true(c->sources[0].metadata_prefix_given);
	mc_config_free(c);

	/* unknown keys and bad values name the line */
	assert_int_equal(mc_config_load(write_file("h3.ini", "[harvest]\njobz = 8\n"), &c, &e),
			 MC_E_CONFIG);
	assert_int_equal(e.line, 2);
	assert_non_null(strstr(e.msg, "unknown key 'jobz' in [harvest]"));
	assert_int_equal(mc_config_load(write_file("h4.ini", "[harvest]\n\njobs = 0\n"), &c, &e),
			 MC_E_CONFIG);
	assert_int_equal(e.line, 3);
	assert_non_null(strstr(e.msg, "jobs"));
	assert_int_equal(mc_config_load(write_file("h5.ini", "[harvest]\nretry_wait = soon\n"), &c, &e),
			 MC_E_CONFIG);
	assert_int_equal(mc_config_load(write_file("h6.ini", "[harvest]\nretries = 3x\n"), &c, &e),
			 MC_E_CONFIG);
	assert_int_equal(mc_config_load(write_file("h7.ini", "[harvest]\n[harvest]\n"), &c, &e),
			 MC_E_CONFIG);
	assert_non_null(strstr(e.msg, "duplicate section [harvest]"));
	assert_int_equal(mc_config_load(write_file("h8.ini", "[harvest]\nfull_delete_limit = 101%\n"),
					&c, &e), MC_E_CONFIG);
	assert_int_equal(e.line, 2);
	assert_non_null(strstr(e.msg, "bad full_delete_limit '101%' in [harvest]: a percentage"));
	assert_int_equal(mc_config_load(write_file("h9.ini",
						   "[source \"z\"]\nname = Z\ntype = commune\n"
						   "full_delete_limit = half\n"), &c, &e), MC_E_CONFIG);
	assert_int_equal(e.line, 4);
	assert_non_null(strstr(e.msg, "bad full_delete_limit 'half' in [source \"z\"]"));
	assert_int_equal(mc_config_load(write_file("h10.ini", "[harvest]\nfull_delete_limit = %\n"),
					&c, &e), MC_E_CONFIG);
}

/* ---- the record-by-record import ---- */

static const char page1[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\">\n"
	"<responseDate>2026-01-02T00:00:00Z</responseDate>\n"
	"<request verb=\"ListRecords\">http://x/oai</request>\n<ListRecords>\n"
	"<record><header><identifier>oai:x:1</identifier><datestamp>2025-01-01</datestamp></header>\n"
	"<metadata><record xmlns=\"http://www.loc.gov/MARC21/slim\"><leader>00000nam a2200000 a 4500</leader>"
	"<controlfield tag=\"001\">1</controlfield>"
	"<datafield tag=\"245\" ind1=\"0\" ind2=\"0\"><subfield code=\"a\">Một</subfield></datafield>"
	"</record></metadata></record>\n"
	"<record><header><identifier>oai:x:2</identifier><datestamp>2025-01-01</datestamp></header>\n"
	"<metadata><record xmlns=\"http://www.loc.gov/MARC21/slim\"><leader>00000nam a2200000 a 4500</leader>"
	"<controlfield tag=\"001\">2</controlfield>"
	"<datafield tag=\"245\" ind1=\"0\" ind2=\"0\"><subfield code=\"a\">Hai</subfield></datafield>"
	"</record></metadata></record>\n"
	"<resumptionToken>tok-1</resumptionToken>\n"
	"</ListRecords></OAI-PMH>\n";

static const char page2[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\">\n"
	"<responseDate>2026-01-02T00:00:00Z</responseDate>\n"
	"<request verb=\"ListRecords\">http://x/oai</request>\n<ListRecords>\n"
	"<record><header><identifier>oai:x:2</identifier><datestamp>2025-01-01</datestamp></header>\n"
	"<metadata><record xmlns=\"http://www.loc.gov/MARC21/slim\"><leader>00000nam a2200000 a 4500</leader>"
	"<controlfield tag=\"001\">2</controlfield>"
	"<datafield tag=\"245\" ind1=\"0\" ind2=\"0\"><subfield code=\"a\">Hai</subfield></datafield>"
	"</record></metadata></record>\n"
	"<resumptionToken/>\n"
	"</ListRecords></OAI-PMH>\n";

/* Feed one page through a push parser into the import, in small pieces as
 * libcurl would. Returns the parser's finish code; *info copied. */
static int feed_page(struct mc_import *im, const char *page, const char *url,
		     struct mc_oai_info *info)
{
	struct mc_parse_opts po;
	struct mc_parser *p;
	struct mc_error e;
	size_t off, n = strlen(page);
	int rc;

	memset(&po, 0, sizeof(po));
	po.input = MC_IN_XML;
	po.filename = url;
	po.source = "x";
	mc_import_set_input(im, url);
	assert_int_equal(mc_parser_new(&po, mc_import_record, im, &p), 0);
	for (off = 0; off < n; off += 7) {
		rc = mc_parser_feed(p, page + off, n - off < 7 ? n - off : 7, &e);
		assert_int_equal(rc, 0);
	}
	rc = mc_parser_finish(p, &e);
	*info = *mc_parser_oai(p);
	mc_parser_free(p);
	return rc;
}

static int get_state(struct mc_store *s, const char *key, char *buf, size_t sz)
{
	struct mc_reader *r;
	int rc;

	assert_int_equal(mc_reader_begin(s, &r), 0);
	rc = mc_reader_state_get(r, "harvest:x", key, buf, sz);
	mc_reader_end(r);
	return rc;
}

static int get_status(struct mc_store *s, const char *id)
{
	struct mc_reader *r;
	struct mc_record *rec;
	struct mc_error e;
	int rc;

	assert_int_equal(mc_record_new(&rec), 0);
	assert_int_equal(mc_reader_begin(s, &r), 0);
	rc = mc_reader_get(r, "x", id, rec, &e);
	if (!rc)
		rc = rec->status == MC_REC_DELETED ? 2 : 1;
	else if (rc == MC_E_NOTFOUND)
		rc = 0;
	mc_reader_end(r);
	mc_record_free(rec);
	return rc;
}

static void import_checkpoints_and_deletes_unseen(void **state)
{
	struct mc_config *c;
	struct mc_store *s;
	struct mc_import *im;
	struct mc_import_opts o;
	struct mc_import_stats st;
	struct mc_oai_info info;
	struct mc_error e;
	char buf[256];
	uint64_t nd = 99;
	const struct mc_source *src;

	assert_int_equal(mc_config_load(write_file("imp.ini",
						   "[catalogue]\ndata_dir = imp\n"
						   "[source \"x\"]\nname = X\ntype = provincial\n"
						   "url = http://127.0.0.1:1/oai\n"), &c, &e), 0);
	assert_int_equal(mc_config_make_dirs(c, &e), 0);
	assert_int_equal(mc_store_open(c->store_dir, MC_STORE_CREATE, &s, &e), 0);
	src = mc_config_source(c, "x");
	memset(&o, 0, sizeof(o));
	o.input = MC_IN_XML;
	o.quarantine_dir = c->quarantine_dir;
	o.now = 1767225600;

	/* page 1: two records and a token, checkpointed together */
	assert_int_equal(mc_import_begin(s, src, "http://x/oai?verb=ListRecords", &o, NULL, NULL, &im), 0);
	assert_int_equal(feed_page(im, page1, "http://x/oai?verb=ListRecords&metadataPrefix=marc21",
				   &info), 0);
	assert_string_equal(info.token, "tok-1");
	assert_int_equal(info.records, 2);
	assert_int_equal(get_state(s, "state", buf, sizeof(buf)), MC_E_NOTFOUND);
	assert_int_equal(mc_import_checkpoint(im, "harvest:x", "state", "token=tok-1\n", &e), 0);
	/* durable and visible to another snapshot before the import ends */
	assert_int_equal(get_state(s, "state", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "token=tok-1\n");
	assert_int_equal(get_status(s, "oai:x:1"), 1);
	assert_int_equal(get_status(s, "oai:x:2"), 1);
	/* an empty checkpoint (no records since) still stores the state */
	assert_int_equal(mc_import_checkpoint(im, "harvest:x", "state", "token=\n", &e), 0);
	assert_int_equal(get_state(s, "state", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "token=\n");
	/* without waiting: committed by the end of the import, with its records */
	assert_int_equal(feed_page(im, page2, "http://x/oai?verb=ListRecords&resumptionToken=tok-1",
				   &info), 0);
	assert_int_equal(mc_import_checkpoint_nowait(im, "harvest:x", "state", "token=last\n", &e), 0);
	assert_int_equal(mc_import_end(im, &st, &e), 0);
	assert_int_equal(get_state(s, "state", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "token=last\n");
	assert_int_equal(st.added, 2);
	assert_int_equal(st.unchanged, 1);   /* record 2 again, the same */
	assert_int_equal(st.read, 3);

	/* a later full run sees only record 2: delete_unseen marks 1 deleted */
	assert_int_equal(mc_import_begin(s, src, "http://x/oai", &o, NULL, NULL, &im), 0);
	assert_int_equal(feed_page(im, page2, "http://x/oai?verb=ListRecords&resumptionToken=t", &info), 0);
	assert_int_equal(info.has_token, 1);
	assert_string_equal(info.token, "");
	{
		uint64_t unseen = 99, present = 99;

		assert_int_equal(mc_import_unseen_count(im, &unseen, &present, &e), 0);
		assert_int_equal(unseen, 1);
		assert_int_equal(present, 2);
		/* counting deletes nothing */
		assert_int_equal(get_status(s, "oai:x:1"), 1);
	}
	assert_int_equal(mc_import_delete_unseen(im, &nd, &e), 0);
	assert_int_equal(nd, 1);
	assert_int_equal(mc_import_checkpoint(im, "harvest:x", "state", "done\n", &e), 0);
	assert_int_equal(mc_import_end(im, &st, &e), 0);
	assert_int_equal(st.deleted, 1);
	assert_int_equal(st.unchanged, 1);
	assert_int_equal(get_status(s, "oai:x:1"), 2);
	assert_int_equal(get_status(s, "oai:x:2"), 1);

	/* an import that saw nothing refuses to delete anything */
	assert_int_equal(mc_import_begin(s, src, "http://x/oai", &o, NULL, NULL, &im), 0);
	{
		uint64_t unseen = 99, present = 99;

		assert_int_equal(mc_import_unseen_count(im, &unseen, &present, &e), MC_E_USAGE);
		assert_int_equal(unseen, 99);
	}
	assert_int_equal(mc_import_delete_unseen(im, &nd, &e), MC_E_USAGE);
	assert_int_equal(mc_import_end(im, &st, &e), 0);
	assert_int_equal(get_status(s, "oai:x:2"), 1);

	/* hv_status_get reads what the harvester keeps for `mucluc sources` */
	{
		struct hv_status hs;
		struct mc_writer *w;

		assert_int_equal(hv_status_get(s, "x", &hs), 0);
		assert_string_equal(hs.last_success, "");
		assert_int_equal(mc_writer_begin(s, &w, &e), 0);
		assert_int_equal(mc_writer_state_set(w, "harvest:x", "last_success",
						     "2026-01-02T00:00:00Z"), 0);
		assert_int_equal(mc_writer_state_set(w, "harvest:x", "last_error", "HTTP 503"), 0);
		assert_int_equal(mc_writer_commit(w, &e), 0);
		assert_int_equal(hv_status_get(s, "x", &hs), 0);
		assert_string_equal(hs.last_success, "2026-01-02T00:00:00Z");
		assert_string_equal(hs.last_error, "HTTP 503");
	}
	mc_store_close(s);
	mc_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(next_from_follows_granularity),
		cmocka_unit_test(backoff_grows_and_stays_bounded),
		cmocka_unit_test(retry_after_is_parsed),
		cmocka_unit_test(guard_detects_loops),
		cmocka_unit_test(state_round_trips),
		cmocka_unit_test(harvest_config),
		cmocka_unit_test(import_checkpoints_and_deletes_unseen),
	};

	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
