/* import.c — a file of records into the store: parse, identify, normalise,
 * extract, store in batches; bad records reported and quarantined. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mc-extract.h"
#include "ingest.h"
#include "mc-hash.h"
#include "mc-limits.h"

/* The duplicate-id set holds 64-bit hashes; it stops growing at this many
 * slots (64 MiB, i.e. 4M distinct ids per file), past which duplicates are
 * no longer counted (they are still handled: the later record wins). */
#define DUP_MAX_SLOTS (1u << 23)

/* Records travel from the reading thread (parse, normalise, extract, pack)
 * to the writing thread (LMDB puts and commits) in batches, so parsing goes
 * on while a commit waits for the disk. A batch holds entries
 *   u32 id length, id, u32 value length, packed value, i64 offset, i64 line
 * for up to MC_IMPORT_BATCH records or BATCH_BYTES bytes. */
#define BATCH_BYTES (8u << 20)
#define NBATCH 3

struct batch {
	struct mc_buf buf;
	size_t n;
	/* a checkpoint: state stored in the same transaction (malloc'd), or NULL */
	char *scope, *key, *value;
};

struct imp {
	struct mc_store *store;
	const struct mc_source *src;
	const char *path;          /* the input in reports (guarded by mu once running) */
	struct mc_import_opts o;
	mc_import_report_cb cb;
	void *cbctx;
	struct mc_import_stats *st;
	struct mc_error *err;      /* the fatal error, when there is one */
	int fatal;                 /* its code */

	/* pipeline: guarded by mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t writer;
	int writer_running;
	int stopped;                    /* pipeline_stop has run */
	struct batch batches[NBATCH];
	struct batch *free_b[NBATCH];   /* batches ready to be filled */
	size_t nfree;
	struct batch *queued;           /* handed to the writer, not yet taken */
	int closing;                    /* the reader is done: the writer drains and ends */
	int wfatal;                     /* the writer's fatal error (stops the reader) */
	struct batch *cur;              /* the reader's batch (reader thread only) */
	struct mc_buf packed;           /* reader's scratch */
	uint64_t w_added, w_changed, w_unchanged, w_deleted;
	uint64_t sent, done;            /* batches handed to / finished by the writer */

	uint64_t *dup;             /* open addressing, 0 = empty */
	size_t dup_cap, dup_n;
	int dup_full;

	FILE *q;                   /* quarantine file, opened at the first bad record */
	uint64_t qbytes;
	int qdone;                 /* cap reached or the file cannot be written */
	uint64_t reported;
};

/* ---- reporting and quarantine ---- */

static void quarantine_open(struct imp *im)
{
	char dir[1024], file[1024], ts[32], safe[96];
	const char *base;
	size_t k;
	int n;

	if (!im->o.quarantine_dir || im->qdone)
		return;
	im->qdone = 1; /* until the file is open */
	base = strrchr(im->path, '/');
	base = base ? base + 1 : im->path;
	if (strcmp(im->path, "-") == 0 || !*base)
		base = "stdin";
	if (strstr(im->path, "://"))
		base = "harvest";  /* a page URL: one file per harvest run */
	/* a file name in a file name: no separators, no shell-hostile bytes */
	for (k = 0; base[k] && k < sizeof(safe) - 1; k++) {
		unsigned char ch = (unsigned char)base[k];

		safe[k] = ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_')
				  ? (char)ch : '_';
	}
	safe[k] = '\0';
	base = safe;
	if (mc_date_format(im->o.now, MC_DATE_COMPACT, ts, sizeof(ts)))
		return;
	n = snprintf(dir, sizeof(dir), "%s/%s", im->o.quarantine_dir, im->src->id);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return;
	if (mkdir(im->o.quarantine_dir, 0755) && errno != EEXIST)
		return;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return;
	n = snprintf(file, sizeof(file), "%s/%s-%s.bad", dir, ts, base);
	if (n < 0 || (size_t)n >= sizeof(file))
		return;
	im->q = fopen(file, "ae");
	if (!im->q)
		return;
	mc_error_field(im->st->quarantine, sizeof(im->st->quarantine), file);
	im->qdone = 0;
}

static void quarantine_put(struct imp *im, const struct mc_error *e, const char *raw,
			   size_t raw_len)
{
	char line[1024];
	size_t need;

	if (!im->q)
		quarantine_open(im);
	if (!im->q || im->qdone)
		return;
	mc_error_format(e, line, sizeof(line));
	/* the header must stay one line whatever the message or id holds */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	need = strlen(line) + raw_len + 64;
	if (im->qbytes + need > im->o.quarantine_max) {
		fprintf(im->q, "# quarantine cap of %llu bytes reached: later bad records are "
			       "only counted\n", (unsigned long long)im->o.quarantine_max);
		im->qdone = 1;
		return;
	}
	/* one header line per record, then its bytes as read */
	if (fprintf(im->q, "# %s [%zu bytes follow]\n", line, raw ? raw_len : (size_t)0) < 0 ||
	    (raw && raw_len && fwrite(raw, 1, raw_len, im->q) != raw_len) ||
	    fputc('\n', im->q) == EOF) {
		im->qdone = 1;
		return;
	}
	im->qbytes += need;
	im->st->quarantined++;
}

/* Count, report and quarantine one bad record. e may be partial: the
 * missing where/what is filled from the record. */
static void bad_record(struct imp *im, const struct mc_record *rec, const struct mc_error *e,
		       const char *raw, size_t raw_len)
{
	struct mc_error r = *e;

	if (!r.source[0])
		mc_error_field(r.source, sizeof(r.source), im->src->id);
	if (!r.record_id[0] && rec && rec->local_id)
		mc_error_field(r.record_id, sizeof(r.record_id), rec->local_id);
	if (r.offset < 0 && rec)
		r.offset = rec->in_offset;
	if (r.line <= 0 && rec)
		r.line = rec->in_line;
	if (!r.code)
		r.code = MC_E_PARSE;
	/* both threads report: the writer when the store refuses a record */
	pthread_mutex_lock(&im->mu);
	if (!r.file[0])
		mc_error_field(r.file, sizeof(r.file), im->path);
	im->st->bad++;
	quarantine_put(im, &r, raw, raw_len);
	if (im->cb && im->reported < MC_MAX_ERRORS_REPORTED) {
		im->reported++;
		im->cb(im->cbctx, &r);
	}
	pthread_mutex_unlock(&im->mu);
}

static void bad_msg(struct imp *im, const struct mc_record *rec, int code, const char *msg,
		    const char *raw, size_t raw_len)
{
	struct mc_error e;

	mc_error_clear(&e);
	mc_error_set(&e, code, "%s", msg);
	bad_record(im, rec, &e, raw, raw_len);
}

/* ---- per record ---- */

/* 1 if the id has no control characters and is valid UTF-8. */
static int id_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
			return 0;
	return mc_utf8_valid(s, n, NULL);
}

/* Set rec->local_id (OAI identifier, else 001 trimmed). 0 or an error
 * message in *why. */
static int set_local_id(struct mc_record *rec, const char **why)
{
	const struct mc_field *f;
	const char *p;
	size_t n;

	if (rec->local_id && *rec->local_id) {
		p = rec->local_id;
		n = strlen(p);
	} else {
		f = rec->marc ? mc_marc_first(rec->marc, "001") : NULL;
		p = f && f->value ? f->value : "";
		n = f && f->value ? f->len : 0;
		/* danMARC / UNIMARC-like exports carry 001 as a data field: take $a */
		if (f && !f->value && (p = mc_field_sub(f, 'a')) != NULL)
			n = strlen(p);
		else if (!n)
			p = "";
		while (n && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (!n) {
			*why = "no 001 and no OAI identifier";
			return MC_E_PARSE;
		}
	}
	if (n > MC_MAX_ID_BYTES) {
		*why = "local identifier longer than 512 bytes";
		return MC_E_TOOBIG;
	}
	if (!id_ok(p, n)) {
		*why = "local identifier with control characters or invalid UTF-8";
		return MC_E_ENCODING;
	}
	if (p != rec->local_id || p[n]) {
		p = mc_arena_strndup(rec->arena, p, n);
		if (!p) {
			*why = "out of memory";
			return -ENOMEM;
		}
		rec->local_id = p;
	}
	return 0;
}

/* 1 if id was already met in this input, 0 if not (and remember it). */
static int dup_seen(struct imp *im, const char *id)
{
	uint64_t h = mc_hash64_str(id);
	size_t i;

	if (!h)
		h = 1;  /* 0 marks an empty slot */
	if (im->dup_full)
		return 0;
	if ((im->dup_n + 1) * 2 > im->dup_cap) {
		size_t ncap = im->dup_cap ? im->dup_cap * 2 : 4096, j;
		uint64_t *nd;

		if (ncap > DUP_MAX_SLOTS || !(nd = calloc(ncap, sizeof(*nd)))) {
			im->dup_full = 1;
			return 0;
		}
		for (j = 0; j < im->dup_cap; j++) {
			if (!im->dup[j])
				continue;
			for (i = im->dup[j] & (ncap - 1); nd[i]; i = (i + 1) & (ncap - 1))
				;
			nd[i] = im->dup[j];
		}
		free(im->dup);
		im->dup = nd;
		im->dup_cap = ncap;
	}
	for (i = h & (im->dup_cap - 1); im->dup[i]; i = (i + 1) & (im->dup_cap - 1))
		if (im->dup[i] == h)
			return 1;
	im->dup[i] = h;
	im->dup_n++;
	return 0;
}

static void count_encoding(struct mc_import_stats *st, const char *enc)
{
	size_t i;

	if (!enc)
		return;
	for (i = 0; i < st->nenc; i++)
		if (strcmp(st->enc[i].name, enc) == 0)
			goto found;
	if (st->nenc < MC_IMPORT_ENCODINGS - 1) {
		mc_error_field(st->enc[st->nenc].name, sizeof(st->enc[0].name), enc);
		st->nenc++;
	} else {
		for (i = 0; i < st->nenc; i++)
			if (strcmp(st->enc[i].name, "other") == 0)
				goto found;
		mc_error_field(st->enc[st->nenc].name, sizeof(st->enc[0].name), "other");
		st->nenc++;
	}
found:
	st->enc[i].n++;
}

static void set_fatal(struct imp *im, int rc, const struct mc_error *e, const char *id,
		      int64_t offset, int64_t line)
{
	if (im->fatal)
		return;
	im->fatal = rc;
	if (!im->err)
		return;
	*im->err = *e;
	im->err->code = rc;
	if (!im->err->file[0])
		mc_error_field(im->err->file, sizeof(im->err->file), im->path);
	if (!im->err->source[0])
		mc_error_field(im->err->source, sizeof(im->err->source), im->src->id);
	if (id && !im->err->record_id[0])
		mc_error_field(im->err->record_id, sizeof(im->err->record_id), id);
	if (im->err->offset < 0)
		im->err->offset = offset;
	if (im->err->line <= 0)
		im->err->line = line;
}

static uint32_t get32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int64_t get64(const char *p)
{
	int64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Writer thread: one LMDB transaction per batch. Returns the fatal error. */
static int write_batch(struct imp *im, struct batch *b)
{
	struct mc_writer *w = NULL;
	struct mc_error e;
	const char *p = b->buf.data, *id = NULL;
	char idbuf[MC_MAX_ID_BYTES + 1];
	uint32_t il, vl;
	int64_t off = -1, line = 0;
	size_t i;
	int rc, outcome;

	mc_error_clear(&e);
	rc = mc_writer_begin(im->store, &w, &e);
	if (rc)
		goto fail;
	for (i = 0; i < b->n; i++) {
		il = get32(p);
		memcpy(idbuf, p + 4, il);
		idbuf[il] = '\0';
		id = idbuf;
		vl = get32(p + 4 + il);
		off = get64(p + 8 + il + vl);
		line = get64(p + 16 + il + vl);
		outcome = 0;
		mc_error_clear(&e);
		rc = mc_writer_put_packed(w, im->src->id, id, p + 8 + il, vl, &outcome, &e);
		p += 24 + il + vl;
		if (rc == MC_E_TOOBIG || rc == MC_E_USAGE) {
			/* refused before anything was written (id too long for a
			 * key, value too large): this record is bad, the batch goes on */
			e.offset = off;
			e.line = line;
			bad_record(im, NULL, &e, NULL, 0);
			continue;
		}
		if (rc)
			goto fail;
		switch (outcome) {
		case MC_PUT_NEW: im->w_added++; break;
		case MC_PUT_CHANGED: im->w_changed++; break;
		case MC_PUT_DELETED: im->w_deleted++; break;
		default: im->w_unchanged++; break;
		}
	}
	id = NULL;
	if (b->scope && (rc = mc_writer_state_set(w, b->scope, b->key, b->value))) {
		mc_error_set(&e, rc, "cannot store the state %s/%s", b->scope, b->key);
		goto fail;
	}
	rc = mc_writer_commit(w, &e);
	w = NULL;
	if (rc)
		goto fail;
	return 0;
fail:
	mc_writer_abort(w);
	pthread_mutex_lock(&im->mu);
	set_fatal(im, rc, &e, id, off, line);
	pthread_mutex_unlock(&im->mu);
	return rc;
}

static void *writer_main(void *arg)
{
	struct imp *im = arg;
	struct batch *b;
	int failed = 0;

	pthread_mutex_lock(&im->mu);
	for (;;) {
		while (!im->queued && !im->closing)
			pthread_cond_wait(&im->cv, &im->mu);
		if (!im->queued)
			break;
		b = im->queued;
		im->queued = NULL;
		pthread_cond_broadcast(&im->cv);
		pthread_mutex_unlock(&im->mu);
		/* after a failure, later batches are dropped: the store keeps
		 * every batch committed before it */
		if (!failed && write_batch(im, b))
			failed = 1;
		pthread_mutex_lock(&im->mu);
		if (failed)
			im->wfatal = 1;
		mc_buf_reset(&b->buf);
		b->n = 0;
		free(b->scope);
		free(b->key);
		free(b->value);
		b->scope = b->key = b->value = NULL;
		im->done++;
		im->free_b[im->nfree++] = b;
		pthread_cond_broadcast(&im->cv);
	}
	pthread_mutex_unlock(&im->mu);
	return NULL;
}

/* Reader thread: hand the current batch to the writer and take an empty
 * one. Returns non-zero when the writer has failed (the reader stops). */
static int hand_off(struct imp *im)
{
	int failed;

	pthread_mutex_lock(&im->mu);
	while (im->queued && !im->wfatal)
		pthread_cond_wait(&im->cv, &im->mu);
	failed = im->wfatal;
	if (!failed && im->cur && (im->cur->n || im->cur->scope)) {
		im->queued = im->cur;
		im->cur = NULL;
		im->sent++;
		pthread_cond_broadcast(&im->cv);
	}
	while (!failed && !im->cur) {
		if (im->nfree) {
			im->cur = im->free_b[--im->nfree];
			break;
		}
		pthread_cond_wait(&im->cv, &im->mu);
		failed = im->wfatal;
	}
	pthread_mutex_unlock(&im->mu);
	return failed ? im->fatal ? im->fatal : MC_E_STORE : 0;
}

static int put32(struct mc_buf *b, uint32_t v)
{
	return mc_buf_add(b, &v, sizeof(v));
}

static int put64(struct mc_buf *b, int64_t v)
{
	return mc_buf_add(b, &v, sizeof(v));
}

static int store_record(struct imp *im, struct mc_record *rec, const char *raw, size_t raw_len)
{
	struct mc_buf *b;
	size_t id_len = strlen(rec->local_id), mark;
	int rc;

	if (rec->status == MC_REC_DELETED)
		rc = mc_record_pack_deleted(rec->datestamp, &im->packed);
	else
		rc = mc_record_pack(rec, &im->packed);
	if (rc) {
		bad_msg(im, rec, rc, rc == MC_E_TOOBIG ? "record too large to store"
						       : "cannot encode the record",
			raw, raw_len);
		return rc == -ENOMEM ? rc : 0;
	}
	if (!im->cur && (rc = hand_off(im)))
		return rc;
	b = &im->cur->buf;
	mark = b->len;
	if ((rc = put32(b, (uint32_t)id_len)) || (rc = mc_buf_add(b, rec->local_id, id_len)) ||
	    (rc = put32(b, (uint32_t)im->packed.len)) ||
	    (rc = mc_buf_add(b, im->packed.data, im->packed.len)) ||
	    (rc = put64(b, rec->in_offset)) || (rc = put64(b, rec->in_line))) {
		b->len = mark;
		return rc;
	}
	im->cur->n++;
	if (im->cur->n >= MC_IMPORT_BATCH || b->len >= BATCH_BYTES)
		return hand_off(im);
	return 0;
}

static int pipeline_start(struct imp *im)
{
	size_t i;

	pthread_mutex_init(&im->mu, NULL);
	pthread_cond_init(&im->cv, NULL);
	mc_buf_init(&im->packed, 16u << 20);  /* the store's value limit */
	for (i = 0; i < NBATCH; i++) {
		/* a batch may go one record past BATCH_BYTES */
		mc_buf_init(&im->batches[i].buf, BATCH_BYTES + MC_MAX_RECORD_BYTES * 4 + 4096);
		im->free_b[im->nfree++] = &im->batches[i];
	}
	im->cur = im->free_b[--im->nfree];
	if (pthread_create(&im->writer, NULL, writer_main, im))
		return -EAGAIN;
	im->writer_running = 1;
	return 0;
}

/* Hand over what is left, let the writer drain, and join it. */
static void pipeline_stop(struct imp *im)
{
	size_t i;

	if (im->stopped)
		return;
	im->stopped = 1;
	if (im->writer_running) {
		if (im->cur && (im->cur->n || im->cur->scope))
			hand_off(im);
		pthread_mutex_lock(&im->mu);
		im->closing = 1;
		pthread_cond_broadcast(&im->cv);
		pthread_mutex_unlock(&im->mu);
		pthread_join(im->writer, NULL);
		im->writer_running = 0;
	}
	for (i = 0; i < NBATCH; i++) {
		mc_buf_free(&im->batches[i].buf);
		free(im->batches[i].scope);
		free(im->batches[i].key);
		free(im->batches[i].value);
	}
	mc_buf_free(&im->packed);
	im->st->added = im->w_added;
	im->st->changed = im->w_changed;
	im->st->unchanged = im->w_unchanged;
	im->st->deleted = im->w_deleted;
	pthread_cond_destroy(&im->cv);
	pthread_mutex_destroy(&im->mu);
}

/* A record fault from a building step: a -ENOMEM past the record's arena
 * is the record's fault (MC_E_TOOBIG), a real -ENOMEM stays fatal. */
static int record_rc(const struct mc_record *rec, int rc)
{
	return rc == -ENOMEM && mc_arena_over_cap(rec->arena) ? MC_E_TOOBIG : rc;
}

int mc_import_prepare(struct mc_record *rec, const char *source, enum mc_encoding enc,
		      int64_t now, unsigned *repairs, struct mc_error *err)
{
	const char *why = NULL;
	int rc;

	if (repairs)
		*repairs = 0;
	mc_error_clear(err);
	rc = record_rc(rec, set_local_id(rec, &why));
	if (rc)
		return mc_error_set(err, rc, "%s", rc == MC_E_TOOBIG && why && !strcmp(why, "out of memory")
					? "the record needs more than the memory a record may use" : why);
	rec->source = source;
	if (!rec->datestamp) {
		const struct mc_field *f = rec->marc ? mc_marc_first(rec->marc, "005") : NULL;

		if (!f || !f->value || mc_marc005_parse(f->value, f->len, &rec->datestamp))
			rec->datestamp = now;
	}
	if (rec->status == MC_REC_DELETED)
		return 0;
	rc = mc_record_check_marc(rec, repairs, err);
	if (rc)
		return rc;
	rc = mc_record_normalise(rec, enc, err);
	if (!rc)
		rc = mc_record_extract(rec, err);
	if (rc == -ENOMEM && mc_arena_over_cap(rec->arena))
		return mc_error_set(err, MC_E_TOOBIG, "the record %s",
				    rec->limit ? rec->limit : "needs more than the memory a record may use");
	if (rc && err && !err->code)
		mc_error_set(err, rc, "%s", mc_strerror(rc));
	if (rc && err)
		err->code = rc;
	return rc;
}

static int on_record(void *ctx, struct mc_record *rec, const struct mc_error *bad,
		     const char *raw, size_t raw_len)
{
	struct imp *im = ctx;
	struct mc_error e;
	unsigned repairs = 0;
	int rc;

	im->st->read++;
	if (bad) {
		bad_record(im, rec, bad, raw, raw_len);
		return 0;
	}
	rc = mc_import_prepare(rec, im->src->id, im->o.encoding, im->o.now, &repairs, &e);
	if (rc == -ENOMEM)
		return rc;
	if (rc) {
		bad_record(im, rec, &e, raw, raw_len);
		return 0;
	}
	if (repairs)
		im->st->repaired++;
	if (rec->status != MC_REC_DELETED)
		count_encoding(im->st, rec->encoding);
	if (dup_seen(im, rec->local_id))
		im->st->duplicates++;
	return store_record(im, rec, raw, raw_len);
}

/* ---- the record-by-record import ---- */

struct mc_import {
	struct imp im;
	struct mc_import_stats st;
	struct mc_error err;
	double t0;                 /* mc_time_mono() at the start */
	char *input;               /* current input name (guarded by im.mu) */
};

int mc_import_begin(struct mc_store *s, const struct mc_source *src, const char *input,
		    const struct mc_import_opts *o, mc_import_report_cb cb, void *ctx,
		    struct mc_import **ret)
{
	struct mc_import *mi;
	struct imp *im;
	int rc;

	mi = calloc(1, sizeof(*mi));
	if (!mi)
		return -ENOMEM;
	mi->input = strdup(input ? input : "");
	if (!mi->input) {
		free(mi);
		return -ENOMEM;
	}
	mc_error_clear(&mi->err);
	mi->t0 = mc_time_mono();
	im = &mi->im;
	im->store = s;
	im->src = src;
	im->path = mi->input;
	if (o)
		im->o = *o;
	if (!im->o.now)
		im->o.now = (int64_t)time(NULL);
	if (!im->o.quarantine_max)
		im->o.quarantine_max = MC_QUARANTINE_MAX_BYTES;
	im->cb = cb;
	im->cbctx = ctx;
	im->st = &mi->st;
	im->err = &mi->err;
	rc = pipeline_start(im);
	if (rc) {
		pipeline_stop(im);
		free(mi->input);
		free(mi);
		return rc;
	}
	*ret = mi;
	return 0;
}

void mc_import_set_input(struct mc_import *mi, const char *input)
{
	char *p = strdup(input ? input : "");

	if (!p)
		return;  /* reports keep naming the previous input */
	pthread_mutex_lock(&mi->im.mu);
	free(mi->input);
	mi->input = p;
	mi->im.path = p;
	pthread_mutex_unlock(&mi->im.mu);
}

int mc_import_record(void *ctx, struct mc_record *rec, const struct mc_error *bad,
		     const char *raw, size_t raw_len)
{
	struct mc_import *mi = ctx;

	return on_record(&mi->im, rec, bad, raw, raw_len);
}

/* Hand over the current batch (with its state, if any) and wait until the
 * writer has committed everything handed over. 0 or the fatal error. */
static int drain(struct imp *im)
{
	int rc = 0;

	if (im->cur && (im->cur->n || im->cur->scope))
		rc = hand_off(im);
	pthread_mutex_lock(&im->mu);
	while (!im->wfatal && im->done < im->sent)
		pthread_cond_wait(&im->cv, &im->mu);
	if (im->wfatal && !rc)
		rc = im->fatal ? im->fatal : MC_E_STORE;
	pthread_mutex_unlock(&im->mu);
	return rc;
}

static void copy_fatal(struct mc_import *mi, int rc, struct mc_error *err)
{
	if (!err)
		return;
	pthread_mutex_lock(&mi->im.mu);
	if (mi->im.fatal)
		*err = mi->err;
	else
		mc_error_set(err, rc, "%s", mc_strerror(rc));
	pthread_mutex_unlock(&mi->im.mu);
}

static int checkpoint(struct mc_import *mi, const char *scope, const char *key,
		      const char *value, int wait, struct mc_error *err)
{
	struct imp *im = &mi->im;
	struct batch *b;
	int rc;

	mc_error_clear(err);
	if (im->fatal) {
		copy_fatal(mi, im->fatal, err);
		return im->fatal;
	}
	if (!im->cur && (rc = hand_off(im)))
		goto fail;
	b = im->cur;
	free(b->scope);
	free(b->key);
	free(b->value);
	b->scope = strdup(scope);
	b->key = strdup(key);
	b->value = value ? strdup(value) : NULL;
	if (!b->scope || !b->key || (value && !b->value)) {
		free(b->scope);
		free(b->key);
		free(b->value);
		b->scope = b->key = b->value = NULL;
		return mc_error_set(err, -ENOMEM, "out of memory");
	}
	/* the state goes into the same transaction as the records before it */
	rc = wait ? drain(im) : hand_off(im);
	if (rc)
		goto fail;
	return 0;
fail:
	copy_fatal(mi, rc, err);
	return rc;
}

int mc_import_checkpoint(struct mc_import *mi, const char *scope, const char *key,
			 const char *value, struct mc_error *err)
{
	return checkpoint(mi, scope, key, value, 1, err);
}

int mc_import_checkpoint_nowait(struct mc_import *mi, const char *scope, const char *key,
				const char *value, struct mc_error *err)
{
	return checkpoint(mi, scope, key, value, 0, err);
}

/* 1 if id was seen by this import. */
static int dup_has(const struct imp *im, const char *id)
{
	uint64_t h = mc_hash64_str(id);
	size_t i;

	if (!h)
		h = 1;  /* 0 marks an empty slot */

	if (!im->dup_cap)
		return 0;
	for (i = h & (im->dup_cap - 1); im->dup[i]; i = (i + 1) & (im->dup_cap - 1))
		if (im->dup[i] == h)
			return 1;
	return 0;
}

struct unseen {
	struct imp *im;
	struct mc_buf ids;         /* NUL-separated ids to delete */
	size_t n;
	uint64_t present;          /* present records of the source */
	int count_only;            /* count, do not collect ids */
};

static int collect_unseen(void *ctx, struct mc_record *rec)
{
	struct unseen *u = ctx;

	if (rec->status == MC_REC_DELETED || !rec->local_id)
		return 0;
	u->present++;
	if (dup_has(u->im, rec->local_id))
		return 0;
	if (!u->count_only && mc_buf_add(&u->ids, rec->local_id, strlen(rec->local_id) + 1))
		return -ENOMEM;
	u->n++;
	return 0;
}

/* Scan the source's present records for those this import did not see (u
 * set up by the caller: count_only, or ids to collect). Refuses when the
 * import saw nothing or could not remember every id; waits for the records
 * handed over to be committed first. 0 or error (err filled in). */
static int unseen_scan(struct mc_import *mi, struct unseen *u, struct mc_error *err)
{
	struct imp *im = &mi->im;
	struct mc_reader *r;
	int rc;

	if (im->fatal) {
		copy_fatal(mi, im->fatal, err);
		return im->fatal;
	}
	if (!im->dup_n)
		return mc_error_set(err, MC_E_USAGE, "the import saw no record: nothing is deleted");
	if (im->dup_full)
		return mc_error_set(err, MC_E_USAGE,
				    "too many records to remember every id: nothing is deleted");
	rc = drain(im);
	if (rc) {
		copy_fatal(mi, rc, err);
		return rc;
	}
	/* everything handed over is committed and the writer thread is idle:
	 * a snapshot now sees every record of this import */
	rc = mc_reader_begin(im->store, &r);
	if (rc)
		return mc_error_set(err, rc, "cannot read the store");
	rc = mc_reader_each(r, im->src->id, collect_unseen, u, err);
	mc_reader_end(r);
	if (rc == -ENOMEM)
		mc_error_set(err, rc, "out of memory");
	return rc;
}

int mc_import_unseen_count(struct mc_import *mi, uint64_t *unseen, uint64_t *present,
			   struct mc_error *err)
{
	struct unseen u;
	int rc;

	mc_error_clear(err);
	memset(&u, 0, sizeof(u));
	u.im = &mi->im;
	u.count_only = 1;
	rc = unseen_scan(mi, &u, err);
	if (rc)
		return rc;
	*unseen = u.n;
	*present = u.present;
	return 0;
}

int mc_import_delete_unseen(struct mc_import *mi, uint64_t *ndeleted, struct mc_error *err)
{
	struct imp *im = &mi->im;
	struct mc_writer *w = NULL;
	struct unseen u;
	const char *p, *end;
	uint64_t n = 0;
	size_t inbatch;
	int rc, outcome;

	mc_error_clear(err);
	memset(&u, 0, sizeof(u));
	u.im = im;
	mc_buf_init(&u.ids, (size_t)1 << 31);  /* 4M ids (DUP_MAX_SLOTS / 2) of 512 bytes */
	rc = unseen_scan(mi, &u, err);
	if (rc)
		goto out;
	p = u.ids.data;
	end = p ? p + u.ids.len : NULL;
	while (p && p < end) {
		rc = mc_writer_begin(im->store, &w, err);
		if (rc)
			goto out;
		for (inbatch = 0; p < end && inbatch < MC_IMPORT_BATCH; inbatch++) {
			outcome = 0;
			rc = mc_writer_delete(w, im->src->id, p, im->o.now, &outcome, err);
			if (rc)
				goto out;
			if (outcome == MC_PUT_DELETED)
				n++;
			p += strlen(p) + 1;
		}
		rc = mc_writer_commit(w, err);
		w = NULL;
		if (rc)
			goto out;
	}
	pthread_mutex_lock(&im->mu);
	im->w_deleted += n;
	pthread_mutex_unlock(&im->mu);
	if (ndeleted)
		*ndeleted = n;
out:
	mc_writer_abort(w);
	mc_buf_free(&u.ids);
	return rc;
}

int mc_import_end(struct mc_import *mi, struct mc_import_stats *st, struct mc_error *err)
{
	struct imp *im = &mi->im;
	int rc;

	/* the good records read before any fault are written before we go on */
	pipeline_stop(im);
	rc = im->fatal;
	if (rc && err)
		*err = mi->err;
	else
		mc_error_clear(err);
	if (im->q)
		fclose(im->q);
	free(im->dup);
	mi->st.seconds = mc_time_mono() - mi->t0;
	if (st)
		*st = mi->st;
	free(mi->input);
	free(mi);
	return rc;
}

int mc_import_file(struct mc_store *s, const struct mc_source *src, const char *path,
		   const struct mc_import_opts *o, mc_import_report_cb cb, void *ctx,
		   struct mc_import_stats *st, struct mc_error *err)
{
	struct mc_parse_opts po;
	struct mc_parse_stats ps = { 0, 0, 0 };
	struct mc_error perr;
	struct mc_import *mi;
	int rc;

	if (st)
		memset(st, 0, sizeof(*st));
	mc_error_clear(err);
	rc = mc_import_begin(s, src, path, o, cb, ctx, &mi);
	if (rc)
		return mc_error_set(err, rc, "cannot start the import");
	memset(&po, 0, sizeof(po));
	po.input = mi->im.o.input;
	po.filename = path;
	po.source = src->id;
	mc_error_clear(&perr);
	rc = mc_parse_file(path, &po, mc_import_record, mi, &ps, &perr);
	mi->st.bytes = ps.bytes;
	pipeline_stop(&mi->im);
	if (rc && !mi->im.fatal) {
		/* the input failed as a whole: keep what was read before the fault */
		mi->im.fatal = rc;
		mi->err = perr;
		mi->err.code = rc;
		if (!mi->err.file[0])
			mc_error_field(mi->err.file, sizeof(mi->err.file), path);
		if (!mi->err.source[0])
			mc_error_field(mi->err.source, sizeof(mi->err.source), src->id);
	}
	return mc_import_end(mi, st, err);
}
