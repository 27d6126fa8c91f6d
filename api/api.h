/* api.h — the HTTP server of the union catalogue (`mucluc serve`).
 *
 * libevent 2.1 evhttp, JSON with jansson, gzip with zlib. Endpoints, their
 * arguments, statuses and limits are documented for users in schemas/api.md;
 * the [server] keys in schemas/config.md. */
#ifndef API_H
#define API_H

#include <stdio.h>

#include "core.h"

/* What `mucluc serve` was asked for on its command line. */
struct api_opts {
	const char *config_path;  /* the configuration file (re-read on SIGHUP); borrowed */
	const char *listen;       /* "host:port" overriding [server] listen, or NULL */
	int threads;              /* overriding [server] threads when > 0 */
	FILE *out;                /* where the bound address is announced (stdout) */
};

/* Load the configuration, open the store, bind the listening socket, print
 * "mucluc: serving http://HOST:PORT/ (N threads)" to opts->out, and serve
 * until SIGTERM or SIGINT: then stop accepting, let the requests in flight
 * finish (at most [server] request_timeout seconds), and return 0. SIGHUP
 * re-reads the configuration (library names, visibility, CORS, the access
 * log is reopened; listen and threads stay) without dropping connections;
 * a configuration that fails to load is reported on stderr and the old one
 * kept. Blocks the signals it handles in the calling thread. 0; MC_E_CONFIG,
 * -errno (cannot bind: err names the address), MC_E_STORE, MC_E_NOTFOUND
 * (no store), -ENOMEM; err filled in. */
int api_serve(const struct api_opts *opts, struct mc_error *err);

#endif
