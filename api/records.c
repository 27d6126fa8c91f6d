/* records.c — GET /api/records/{id}?format=json|marcxml|dc|iso2709: a
 * union record read from the store (merger/mg.h), public members only;
 * merged-away ids answer 301 to their survivor, dissolved ones 410, unions
 * with no public member 404 (schemas/api.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <yaz/marcdisp.h>
#include <yaz/wrbuf.h>

#include "api-internal.h"
#include "mg.h"

enum { F_JSON, F_MARCXML, F_DC, F_ISO2709 };

#define MARC_NS "http://www.loc.gov/MARC21/slim"

static const char *library_name(void *ctx, const char *source)
{
	const struct mc_source *s = mc_config_source(ctx, source);

	return s ? s->name : NULL;
}

/* Is member "source:local-id" shown to the public? Its library is
 * configured public, the record is present and not restricted by itself
 * (MARC 506 first indicator 1). */
static int member_public(struct api_rq *rq, struct mc_reader *r, const char *ref,
			 json_t *links)
{
	const char *colon = strchr(ref, ':');
	char source[64];
	struct mc_record *rec = rq->w->rec;
	size_t i, n;

	if (!colon || (n = (size_t)(colon - ref)) >= sizeof(source))
		return 0;
	memcpy(source, ref, n);
	source[n] = '\0';
	if (!api_source_public(rq->cfg, source))
		return 0;
	if (mc_reader_get(r, source, colon + 1, rec, NULL) || rec->status != MC_REC_PRESENT)
		return 0;
	if (rec->marc)
		for (i = 0; i < rec->marc->nfields; i++)
			if (strcmp(rec->marc->fields[i].tag, "506") == 0 &&
			    rec->marc->fields[i].ind1 == '1')
				return 0;
	for (i = 0; links && i < rec->f.nlinks; i++)
		if (rec->f.links[i].url)
			json_array_append_new(links, json_string(rec->f.links[i].url));
	return 1;
}

static int in_list(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* Keep only the public members of union o (and their provenance, their
 * links and the holdings of their libraries); *libs gets the public
 * libraries and *links_out their links (caller decrefs both). The merged description (title, names,
 * subjects, identifiers) stays as the merger made it. Returns the number
 * of public members, -1 out of memory. */
static int keep_public(struct api_rq *rq, struct mc_reader *r, json_t *o, json_t **libs,
		       json_t **links_out, int *all)
{
	json_t *members = json_object_get(o, "members"), *pub = json_array(), *src = json_array();
	json_t *prov = json_object_get(o, "provenance"), *hold = json_object_get(o, "holdings");
	json_t *links = json_object_get(o, "links"), *publinks = json_array();
	json_t *v;
	size_t i;
	int n = 0;

	*all = 1;
	if (!pub || !src || !publinks) {
		json_decref(pub);
		json_decref(src);
		json_decref(publinks);
		return -1;
	}
	json_array_foreach(members, i, v) {
		const char *ref = json_string_value(v);
		const char *colon;

		if (!ref || !member_public(rq, r, ref, publinks)) {
			*all = 0;
			continue;
		}
		json_array_append(pub, v);
		colon = strchr(ref, ':');
		v = json_stringn(ref, (size_t)(colon - ref));
		if (!in_list(src, json_string_value(v)))
			json_array_append(src, v);
		json_decref(v);
		n++;
	}
	if (!*all) {
		json_t *keep = json_array();
		char ref[512];

		json_array_foreach(prov, i, v) {
			const char *ps = json_string_value(json_object_get(v, "source"));
			const char *pl = json_string_value(json_object_get(v, "local_id"));

			snprintf(ref, sizeof(ref), "%s:%s", ps ? ps : "", pl ? pl : "");
			if (in_list(pub, ref))
				json_array_append(keep, v);
		}
		if (prov)
			json_object_set(o, "provenance", keep);
		json_decref(keep);
		keep = json_array();
		json_array_foreach(hold, i, v) {
			const char *lib = json_string_value(json_object_get(v, "library"));

			if (lib && in_list(src, lib))
				json_array_append(keep, v);
		}
		if (hold)
			json_object_set(o, "holdings", keep);
		json_decref(keep);
		json_object_set(o, "members", pub);
		if (links) {
			keep = json_array();
			json_array_foreach(links, i, v)
				if (json_is_string(v) && in_list(publinks, json_string_value(v)))
					json_array_append(keep, v);
			json_object_set_new(o, "links", keep);
		}
	}
	json_decref(pub);
	*links_out = publinks;
	*libs = src;
	return n;
}

/* other_editions: the other records of the same work, from the index. */
static void other_editions(struct api_rq *rq, uint64_t id, json_t *o)
{
	struct ix_search_req req;
	struct ix_searcher *ix;
	struct mc_error e;
	json_t *doc = NULL, *res = NULL, *list, *v, *out;
	char work[64];
	size_t i;

	mc_error_clear(&e);
	if (!(ix = api_searcher(rq->w, &e)) || ix_lookup(ix, id, &doc, work, &e)) {
		json_decref(doc);
		return;
	}
	json_decref(doc);
	memset(&req, 0, sizeof(req));
	req.q = "";
	req.page = 1;
	req.size = API_OTHER_EDITIONS + 1;
	req.group = IX_GROUP_NONE;
	req.work = work;
	req.no_facets = 1;
	if (ix_search(ix, &req, &res, &e))
		return;
	out = json_array();
	list = json_object_get(res, "results");
	json_array_foreach(list, i, v) {
		json_t *vid = json_object_get(v, "id");

		if (json_is_integer(vid) && (uint64_t)json_integer_value(vid) == id)
			continue;
		if (json_is_string(vid) && strtoull(json_string_value(vid), NULL, 10) == id)
			continue;
		if (json_array_size(out) < API_OTHER_EDITIONS)
			json_array_append(out, v);
	}
	json_object_set_new(o, "work", json_string(work));
	json_object_set_new(o, "other_editions", out);
	json_decref(res);
}

/* ---- XML ---- */

static void xml_text(struct mc_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		switch (*p) {
		case '&': mc_buf_adds(b, "&amp;"); break;
		case '<': mc_buf_adds(b, "&lt;"); break;
		case '>': mc_buf_adds(b, "&gt;"); break;
		case '"': mc_buf_adds(b, "&quot;"); break;
		default:
			/* XML 1.0 has no other control characters */
			if (*p >= 0x20 || *p == '\t' || *p == '\n' || *p == '\r')
				mc_buf_addc(b, (char)*p);
		}
	}
}

static void dc_elem(struct mc_buf *b, const char *name, const char *v)
{
	if (!v || !*v)
		return;
	mc_buf_addf(b, "  <dc:%s>", name);
	xml_text(b, v);
	mc_buf_addf(b, "</dc:%s>\n", name);
}

static void dc_arr(struct mc_buf *b, const char *name, json_t *arr, const char *prefix)
{
	size_t i;
	json_t *v;
	char tmp[1024];

	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		if (!s)
			continue;
		if (prefix) {
			snprintf(tmp, sizeof(tmp), "%s%s", prefix, s);
			s = tmp;
		}
		dc_elem(b, name, s);
	}
}

/* The union as oai_dc (valid against oai_dc.xsd). */
static int dc_write(json_t *o, struct mc_buf *b)
{
	json_t *ids = json_object_get(o, "ids"), *hold = json_object_get(o, "holdings"), *v;
	char year[16];
	const char *key;
	size_t i;

	mc_buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<oai_dc:dc xmlns:oai_dc=\"http://www.openarchives.org/OAI/2.0/oai_dc/\" "
		    "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
		    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
		    "xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/oai_dc/ "
		    "http://www.openarchives.org/OAI/2.0/oai_dc.xsd\">\n");
	dc_elem(b, "title", json_string_value(json_object_get(o, "title")));
	dc_arr(b, "creator", json_object_get(o, "names"), NULL);
	dc_arr(b, "subject", json_object_get(o, "subjects"), NULL);
	dc_elem(b, "publisher", json_string_value(json_object_get(o, "publisher")));
	if (json_is_integer(json_object_get(o, "year"))) {
		snprintf(year, sizeof(year), "%lld",
			 (long long)json_integer_value(json_object_get(o, "year")));
		dc_elem(b, "date", year);
	} else {
		dc_elem(b, "date", json_string_value(json_object_get(o, "date")));
	}
	dc_elem(b, "type", json_string_value(json_object_get(o, "material")));
	dc_elem(b, "format", json_string_value(json_object_get(o, "extent")));
	json_object_foreach(ids, key, v) {
		char prefix[80];

		snprintf(prefix, sizeof(prefix), "%s:", strcmp(key, "isbn") == 0 ? "ISBN" :
			 strcmp(key, "issn") == 0 ? "ISSN" : key);
		if (strstr(key, "invalid"))
			continue;
		dc_arr(b, "identifier", v, prefix);
	}
	dc_arr(b, "identifier", json_object_get(o, "links"), NULL);
	dc_arr(b, "language", json_object_get(o, "languages"), NULL);
	json_array_foreach(hold, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));

		dc_elem(b, "contributor", name);
	}
	return mc_buf_adds(b, "</oai_dc:dc>\n");
}

/* Drop the 852 fields of libraries not in libs (holdings of restricted
 * members) and the 856 fields whose $u is not in links from the MARCXML
 * record in b. 0 or -1. */
static int marcxml_keep(struct mc_buf *b, json_t *libs, json_t *links, struct mc_buf *tmp)
{
	xmlDocPtr doc = xmlReadMemory(b->data, (int)b->len, NULL, "UTF-8",
				      XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	xmlNodePtr root, f, next, sf;
	xmlChar *mem = NULL;
	int len = 0, rc = -1;

	if (!doc || !(root = xmlDocGetRootElement(doc)))
		goto out;
	for (f = root->children; f; f = next) {
		xmlChar *tag;
		int drop = 0;

		next = f->next;
		if (f->type != XML_ELEMENT_NODE || !(tag = xmlGetProp(f, BAD_CAST "tag")))
			continue;
		if (xmlStrcmp(tag, BAD_CAST "852") == 0 || xmlStrcmp(tag, BAD_CAST "856") == 0) {
			int h = tag[2] == '2';

			drop = 1;
			for (sf = f->children; sf; sf = sf->next) {
				xmlChar *code = sf->type == XML_ELEMENT_NODE ?
							xmlGetProp(sf, BAD_CAST "code") : NULL;

				if (code && xmlStrcmp(code, BAD_CAST(h ? "a" : "u")) == 0) {
					xmlChar *v = xmlNodeGetContent(sf);

					drop = !v || !in_list(h ? libs : links, (const char *)v);
					xmlFree(v);
				}
				xmlFree(code);
			}
		}
		xmlFree(tag);
		if (drop) {
			xmlUnlinkNode(f);
			xmlFreeNode(f);
		}
	}
	xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", 1);
	if (!mem)
		goto out;
	mc_buf_reset(tmp);
	if (mc_buf_add(tmp, mem, (size_t)len))
		goto out;
	mc_buf_reset(b);
	rc = mc_buf_add(b, tmp->data, tmp->len) ? -1 : 0;
out:
	xmlFree(mem);
	xmlFreeDoc(doc);
	return rc;
}

/* MARCXML record in b -> ISO 2709 (UTF-8, leader/09 'a') through YAZ, in out. */
static int iso2709_write(const struct mc_buf *b, struct mc_buf *out)
{
	xmlDocPtr doc = xmlReadMemory(b->data, (int)b->len, NULL, "UTF-8", XML_PARSE_NONET);
	yaz_marc_t mt = yaz_marc_create();
	WRBUF wr = wrbuf_alloc();
	int rc = -1;

	if (!doc || !mt || !wr)
		goto out;
	if (yaz_marc_read_xml(mt, xmlDocGetRootElement(doc)))
		goto out;
	yaz_marc_modify_leader(mt, 9, "a");
	yaz_marc_xml(mt, YAZ_MARC_ISO2709);
	if (yaz_marc_write_mode(mt, wr))
		goto out;
	mc_buf_reset(out);
	rc = mc_buf_add(out, wrbuf_buf(wr), wrbuf_len(wr)) ? -1 : 0;
out:
	if (wr)
		wrbuf_destroy(wr);
	if (mt)
		yaz_marc_destroy(mt);
	xmlFreeDoc(doc);
	return rc;
}

static void redirect(struct api_rq *rq, uint64_t to)
{
	char loc[256];

	snprintf(loc, sizeof(loc), "/api/records/%llu%s%.*s", (unsigned long long)to,
		 rq->qslen && rq->qslen < 100 ? "?" : "", rq->qslen < 100 ? (int)rq->qslen : 0,
		 rq->qs);
	evhttp_add_header(evhttp_request_get_output_headers(rq->req), "Location", loc);
	api_error(rq, 301, "moved", "this record was merged into %s", loc);
}

static int dump_buf(const char *p, size_t n, void *b)
{
	return mc_buf_add(b, p, n);
}

static int parse_id(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (!v)
		return -1;
	*ret = v;
	return 0;
}

void api_record(struct api_rq *rq, const char *idstr, size_t idlen)
{
	struct api_worker *w = rq->w;
	const struct api_arg *fa;
	struct mc_reader *r = NULL;
	struct mg_merger *m = NULL;
	json_t *o = NULL, *libs = NULL, *links = NULL;
	uint64_t id = 0;
	int64_t lastmod = 0;
	int fmt = F_JSON, npub, all, rc;
	unsigned hops, n;
	json_error_t je;

	if (api_rq_args(rq))
		return;
	fa = api_args_get(&rq->args, "format", &n);
	if (fa) {
		if (n > 1)
			fa = NULL;
		else if (strcmp(fa->val, "json") == 0)
			fmt = F_JSON;
		else if (strcmp(fa->val, "marcxml") == 0)
			fmt = F_MARCXML;
		else if (strcmp(fa->val, "dc") == 0)
			fmt = F_DC;
		else if (strcmp(fa->val, "iso2709") == 0)
			fmt = F_ISO2709;
		else
			fa = NULL;
		if (!fa) {
			api_error(rq, 400, "bad_request", "format must be json, marcxml, dc or iso2709");
			return;
		}
	}
	if (mc_reader_begin(w->srv->store, &r)) {
		api_error(rq, 503, "store_unavailable", "%s", mc_reader_errmsg(NULL));
		return;
	}
	if (mg_merger_new_reader(r, &m)) {
		api_error(rq, 503, "store_unavailable", "the store has no union records");
		goto done;
	}
	if (parse_id(idstr, idlen, &id)) {
		/* a member's id, "source:local-id": where its union is */
		const char *colon = memchr(idstr, ':', idlen);
		char src[64];

		if (colon && (size_t)(colon - idstr) < sizeof(src) && !memchr(idstr, '\0', idlen)) {
			memcpy(src, idstr, (size_t)(colon - idstr));
			src[colon - idstr] = '\0';
			if (api_source_public(rq->cfg, src) && member_public(rq, r, idstr, NULL) &&
			    mg_member_union(m, idstr, &id) == 0) {
				redirect(rq, id);
				goto done;
			}
		}
		api_error(rq, 404, "not_found", "no such record");
		goto done;
	}
	/* tombstones: follow the survivors */
	for (hops = 0;; hops++) {
		json_t *surv;

		mc_buf_reset(&w->buf);
		rc = mg_union_json(m, id, library_name, NULL, (void *)rq->cfg, &w->buf);
		if (rc == MC_E_NOTFOUND) {
			api_error(rq, hops ? 410 : 404, hops ? "gone" : "not_found",
				  hops ? "this record was withdrawn" : "no such record");
			goto done;
		}
		if (rc || !(o = json_loadb(w->buf.data, w->buf.len, 0, &je))) {
			api_error(rq, 500, "internal", "cannot read union record %llu",
				  (unsigned long long)id);
			goto done;
		}
		if (!json_is_true(json_object_get(o, "deleted")))
			break;
		surv = json_object_get(o, "survivor");
		if (!json_is_integer(surv) || json_integer_value(surv) <= 0 ||
		    hops >= API_REDIRECT_HOPS) {
			api_error(rq, 410, "gone", "this record was withdrawn (its editions "
				  "were told apart or deleted)");
			goto done;
		}
		id = (uint64_t)json_integer_value(surv);
		json_decref(o);
		o = NULL;
	}
	if (hops) {
		redirect(rq, id);
		goto done;
	}
	npub = keep_public(rq, r, o, &libs, &links, &all);
	if (npub < 0) {
		api_error(rq, 500, "internal", "out of memory");
		goto done;
	}
	if (npub == 0) {
		api_error(rq, 404, "not_found", "no such record");
		goto done;
	}
	if (json_is_string(json_object_get(o, "datestamp")))
		mc_datestamp_parse(json_string_value(json_object_get(o, "datestamp")), &lastmod);

	evbuffer_drain(w->body, evbuffer_get_length(w->body));
	rc = 0;
	if (fmt == F_JSON) {
		char url[64];

		snprintf(url, sizeof(url), "/api/records/%llu", (unsigned long long)id);
		json_object_set_new(o, "url", json_string(url));
		/* the index lookup needs no store snapshot */
		mg_merger_free(m);
		m = NULL;
		mc_reader_end(r);
		r = NULL;
		other_editions(rq, id, o);
		mc_buf_reset(&w->buf);
		rc = json_dump_callback(o, dump_buf, &w->buf, JSON_COMPACT) ||
		     mc_buf_addc(&w->buf, '\n');
	} else if (fmt == F_DC) {
		mc_buf_reset(&w->buf);
		rc = dc_write(o, &w->buf);
	} else {
		mc_buf_reset(&w->buf);
		rc = mc_buf_adds(&w->buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
		mc_buf_reset(&w->buf2);
		if (!rc)
			rc = mg_union_marcxml(m, id, &w->buf2);
		if (!rc && strncmp(w->buf2.data, "<record>", 8) == 0) {
			rc = mc_buf_adds(&w->buf, "<record xmlns=\"" MARC_NS "\">") ||
			     mc_buf_add(&w->buf, w->buf2.data + 8, w->buf2.len - 8);
		} else if (!rc) {
			rc = mc_buf_add(&w->buf, w->buf2.data, w->buf2.len);
		}
		if (!rc && !all)
			rc = marcxml_keep(&w->buf, libs, links, &w->buf2);
		if (!rc && fmt == F_ISO2709) {
			rc = iso2709_write(&w->buf, &w->buf2);
			if (!rc) {
				mc_buf_reset(&w->buf);
				rc = mc_buf_add(&w->buf, w->buf2.data, w->buf2.len);
			}
		}
	}
	if (rc || evbuffer_add(w->body, w->buf.data ? w->buf.data : "", w->buf.len)) {
		api_error(rq, 500, "internal", "cannot write union record %llu",
			  (unsigned long long)id);
		goto done;
	}
	if (api_cache_check(rq, lastmod))
		goto done;
	api_send(rq, 200, fmt == F_JSON ? "application/json; charset=utf-8" :
			  fmt == F_MARCXML ? "application/marcxml+xml; charset=utf-8" :
			  fmt == F_DC ? "application/xml; charset=utf-8" : "application/marc");
done:
	json_decref(o);
	json_decref(libs);
	json_decref(links);
	mg_merger_free(m);
	mc_reader_end(r);
}
