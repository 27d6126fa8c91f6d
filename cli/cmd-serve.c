/* cmd-serve.c — `mucluc serve [--listen ADDR:PORT] [--threads N]`: the HTTP
 * API (api/, schemas/api.md) until SIGTERM. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cli.h"

static const char serve_usage[] =
	"Usage: mucluc serve [--listen ADDR:PORT] [--threads N]\n"
	"\n"
	"Serve the union catalogue over HTTP: /api/search, /api/suggest,\n"
	"/api/records/ID, /api/libraries, /health (schemas/api.md). Prints\n"
	"\"mucluc: serving http://ADDR:PORT/ (N threads)\" once it listens.\n"
	"SIGTERM or SIGINT: stop accepting, finish the requests in flight, exit 0.\n"
	"SIGHUP: re-read the configuration and reopen the access log.\n"
	"\n"
	"  --listen ADDR:PORT   instead of [server] listen (port 0: any free port)\n"
	"  --threads N          instead of [server] threads (1-64)\n"
	"  -h, --help           show this help\n"
	"\n"
	"Exit status: 0 stopped by a signal, 2 could not start (configuration,\n"
	"store, address in use).\n";

int cmd_serve(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct api_opts ao = { NULL, NULL, 0, stdout };
	struct mc_config *cfg = NULL;
	struct mc_error e;
	char *end;
	long n;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (!strrchr(optarg, ':'))
				return cli_usage_error("serve", "--listen wants ADDR:PORT");
			ao.listen = optarg;
			break;
		case 't':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 64)
				return cli_usage_error("serve", "--threads wants 1 to 64");
			ao.threads = (int)n;
			break;
		case 'h':
			fputs(serve_usage, stdout);
			return EXIT_ALL_GOOD;
		default:
			return cli_usage_error("serve", NULL);
		}
	}
	if (optind < argc)
		return cli_usage_error("serve", "no arguments expected");
	/* the configuration is checked here for its messages; the server loads
	 * its own copy (and again on SIGHUP) */
	if ((rc = cli_load_config(cli, &cfg)))
		return rc;
	mc_config_free(cfg);
	ao.config_path = mc_config_path(cli->config_opt);
	mc_error_clear(&e);
	rc = api_serve(&ao, &e);
	if (rc) {
		cli_error("serve", rc, &e);
		return EXIT_NOTHING;
	}
	return EXIT_ALL_GOOD;
}
