/* cmd-show.c — `mucluc show SOURCE:ID` and `mucluc export`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define OUT_MAX (256u << 20)  /* one record's text, far above any stored record */

static const char show_usage[] =
	"Usage: mucluc show [--json] SOURCE:ID\n"
	"\n"
	"Show the stored record ID of source SOURCE: the extracted fields, then the\n"
	"metadata in the line format of yaz-marcdump (\"245 10 $a ... $c ...\").\n"
	"\n"
	"  -j, --json   the record as JSON (schemas/record.md), metadata included\n"
	"  -h, --help   show this help\n"
	"\n"
	"Exit status: 0 shown, 1 no such record, 2 nothing could run.\n";

static const char export_usage[] =
	"Usage: mucluc export [--source ID] [--format jsonl|marcxml] [--with-metadata]\n"
	"       mucluc export --union [--format jsonl|marcxml]\n"
	"\n"
	"Write the stored records to standard output, in (source, id) order.\n"
	"\n"
	"  -s, --source ID      only the records of source ID\n"
	"  -f, --format FORMAT  jsonl (default): one JSON object per line, deleted\n"
	"                       records included with \"status\": \"deleted\";\n"
	"                       marcxml: one MARCXML collection, deleted records left out,\n"
	"                       oai_dc records converted by the DC -> MARC crosswalk\n"
	"  -m, --with-metadata  jsonl: add \"marc\" / \"dc\" (the record as stored)\n"
	"  -u, --union          the live union records of the merger instead (JSON:\n"
	"                       \"members\": [\"source:local-id\", ...]); schemas/union.md\n"
	"  -h, --help           show this help\n";

static void field(const char *label, const char *v)
{
	if (v && *v)
		printf("%-15s %s\n", label, v);
}

static void fieldv(const char *label, const struct mc_strv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		field(label, v->v[i]);
}

static void fieldtv(const struct mc_tvv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		field(v->v[i].type, v->v[i].value);
}

static void print_human(const struct mc_record *r, const struct mc_buf *marc)
{
	const struct mc_fields *f = &r->f;
	char ts[32];
	size_t i;

	printf("%-15s %s:%s\n", "id", r->source, r->local_id);
	field("status", r->status == MC_REC_DELETED ? "deleted" : "present");
	mc_time_iso(r->datestamp, ts);
	field("datestamp", ts);
	field("format", r->format == MC_FMT_MARC21 ? "marc21" : r->format == MC_FMT_OAI_DC ? "oai_dc" : NULL);
	field("encoding", r->encoding);
	field("title", f->title);
	field("responsibility", f->responsibility);
	for (i = 0; i < f->nnames; i++) {
		const struct mc_name *n = &f->names[i];

		printf("%-15s %s%s%s%s%s%s\n", n->main_entry ? "main name" : "name", n->name,
		       n->dates ? ", " : "", n->dates ? n->dates : "", n->role ? " (" : "",
		       n->role ? n->role : "", n->role ? ")" : "");
	}
	fieldtv(&f->ids);
	field("edition", f->edition);
	field("place", f->place);
	field("publisher", f->publisher);
	field("date", f->date);
	if (f->year)
		printf("%-15s %d\n", "year", f->year);
	field("extent", f->extent);
	field("material", f->material);
	fieldv("language", &f->languages);
	fieldv("subject", &f->subjects);
	fieldtv(&f->classes);
	fieldv("series", &f->series);
	fieldv("note", &f->notes);
	for (i = 0; i < f->nlinks; i++)
		printf("%-15s %s%s%s%s\n", "link", f->links[i].url, f->links[i].label ? " (" : "",
		       f->links[i].label ? f->links[i].label : "", f->links[i].label ? ")" : "");
	for (i = 0; i < f->nholdings; i++) {
		const struct mc_holding *h = &f->holdings[i];
		const char *parts[6] = { h->library, h->location, h->call_number, h->barcode,
					 h->status, h->note };
		int k, first = 1;

		printf("%-15s", "holding");
		for (k = 0; k < 6; k++)
			if (parts[k] && *parts[k]) {
				printf("%s%s", first ? " " : " | ", parts[k]);
				first = 0;
			}
		putchar('\n');
	}
	if (marc->len) {
		putchar('\n');
		fwrite(marc->data, 1, marc->len, stdout);
	}
}

int cmd_show(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mc_config *cfg = NULL;
	struct mc_store *store = NULL;
	struct mc_reader *rd = NULL;
	struct mc_record *rec = NULL;
	struct mc_buf out;
	struct mc_error e;
	char source[MC_MAX_SOURCE_ID + 1];
	const char *colon, *local_id;
	int c, json = 0, rc, ret;

	mc_buf_init(&out, OUT_MAX);
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(show_usage, stdout);
			return EXIT_ALL_GOOD;
		default:
			return cli_usage_error("show", NULL);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("show", "give one SOURCE:ID");
	/* source ids have no ':', local ids may ("oai:example.org:12") */
	colon = strchr(argv[optind], ':');
	if (!colon || colon == argv[optind] || !colon[1] ||
	    (size_t)(colon - argv[optind]) > MC_MAX_SOURCE_ID)
		return cli_usage_error("show", "give the record as SOURCE:ID");
	memcpy(source, argv[optind], (size_t)(colon - argv[optind]));
	source[colon - argv[optind]] = '\0';
	local_id = colon + 1;

	if ((ret = cli_load_config(cli, &cfg)) || (ret = cli_open_store(cfg, MC_STORE_RDONLY, &store)))
		goto out;
	ret = EXIT_NOTHING;
	if ((rc = mc_record_new(&rec)) || (rc = mc_reader_begin(store, &rd))) {
		cli_error("show", rc, NULL);
		goto out;
	}
	mc_error_clear(&e);
	rc = mc_reader_get(rd, source, local_id, rec, &e);
	if (rc == MC_E_NOTFOUND) {
		fprintf(stderr, "mucluc show: no record %s:%s\n", source, local_id);
		ret = EXIT_PARTLY;
		goto out;
	}
	if (rc) {
		cli_error("show", rc, &e);
		goto out;
	}
	rc = json ? mc_record_json(rec, MC_JSON_METADATA | MC_JSON_PRETTY, &out)
		  : mc_record_marc_text(rec, &out);
	if (rc) {
		cli_error("show", rc, NULL);
		goto out;
	}
	if (json) {
		cli_write(stdout, &out);
		putchar('\n');
	} else {
		print_human(rec, &out);
	}
	ret = fflush(stdout) ? EXIT_PARTLY : EXIT_ALL_GOOD;
out:
	mc_buf_free(&out);
	mc_reader_end(rd);
	mc_record_free(rec);
	mc_store_close(store);
	mc_config_free(cfg);
	return ret;
}

struct export_ctx {
	int marcxml;
	unsigned json_flags;
	struct mc_buf out;
	uint64_t written;
	int rc;           /* first failure */
	char failed_id[MC_MAX_ID_BYTES + MC_MAX_SOURCE_ID + 2];
};

static int export_one(void *ctx, struct mc_record *rec)
{
	struct export_ctx *x = ctx;
	int rc;

	mc_buf_reset(&x->out);
	if (x->marcxml)
		rc = mc_record_marcxml(rec, MC_MARCXML_IN_COLLECTION, &x->out);
	else if (!(rc = mc_record_json(rec, x->json_flags, &x->out)))
		rc = mc_buf_addc(&x->out, '\n');
	if (rc) {
		/* a record that cannot be written is reported; the export goes on */
		fprintf(stderr, "mucluc export: %s:%s: %s\n", rec->source, rec->local_id,
			mc_strerror(rc));
		if (!x->rc)
			x->rc = rc;
		return 0;
	}
	if (cli_write(stdout, &x->out))
		return -EIO;
	x->written++;
	return 0;
}

int cmd_export(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "with-metadata", no_argument, NULL, 'm' },
		{ "union", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct export_ctx x;
	struct mc_config *cfg = NULL;
	struct mc_store *store = NULL;
	struct mc_reader *rd = NULL;
	const char *source = NULL;
	struct mc_error e;
	int c, rc, ret, want_union = 0;

	memset(&x, 0, sizeof(x));
	mc_buf_init(&x.out, OUT_MAX);
	while ((c = getopt_long(argc, argv, "s:f:muh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!mc_source_id_valid(optarg))
				return cli_usage_error("export", "--source: not a source id");
			source = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "marcxml") == 0)
				x.marcxml = 1;
			else if (strcmp(optarg, "jsonl") != 0)
				return cli_usage_error("export", "--format: jsonl or marcxml");
			break;
		case 'm':
			x.json_flags |= MC_JSON_METADATA;
			break;
		case 'u':
			want_union = 1;
			break;
		case 'h':
			fputs(export_usage, stdout);
			return EXIT_ALL_GOOD;
		default:
			return cli_usage_error("export", NULL);
		}
	}
	if (optind != argc)
		return cli_usage_error("export", "unexpected argument");
	if ((ret = cli_load_config(cli, &cfg)) || (ret = cli_open_store(cfg, MC_STORE_RDONLY, &store)))
		goto out;
	if (want_union) {
		ret = source ? cli_usage_error("export", "--union exports every source")
			     : cli_export_union(cfg, store, x.marcxml);
		goto out;
	}
	ret = EXIT_NOTHING;
	if ((rc = mc_reader_begin(store, &rd))) {
		cli_error("export", rc, NULL);
		goto out;
	}
	if (x.marcxml && (rc = mc_marcxml_begin(&x.out)) == 0 && cli_write(stdout, &x.out))
		rc = -EIO;
	mc_error_clear(&e);
	if (!rc)
		rc = mc_reader_each(rd, source, export_one, &x, &e);
	mc_buf_reset(&x.out);
	if (!rc && x.marcxml && (rc = mc_marcxml_end(&x.out)) == 0 && cli_write(stdout, &x.out))
		rc = -EIO;
	if (!rc && fflush(stdout))
		rc = -EIO;
	if (rc) {
		cli_error("export", rc, rc == -EIO ? NULL : &e);
		ret = EXIT_PARTLY;
		goto out;
	}
	ret = x.rc ? EXIT_PARTLY : EXIT_ALL_GOOD;
out:
	mc_buf_free(&x.out);
	mc_reader_end(rd);
	mc_store_close(store);
	mc_config_free(cfg);
	return ret;
}
