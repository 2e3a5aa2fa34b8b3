/* The association service's HTTPS endpoint behind `ssrp assoc serve`
 * (libmicrohttpd + GnuTLS).
 *
 *   POST /v1/associate   a device, known by its TLS client certificate (it
 *                        must verify against assoc.device_ca_file and be
 *                        issued by CN=MS-Organization-Access; its subject CN
 *                        is the device id), asks the engine (escrow/assoc.h)
 *                        to decide its own primary users. The body is
 *                        escrow/assoc.h's request (at most 64 KiB, else 413);
 *                        its deviceId must be the certificate's (else 403
 *                        OtherDevice, nothing decided). 200:
 *                        {"deviceId":"..","decisions":[{"user","upn",
 *                        "relation","outcome","licence","licence_plan",
 *                        "detail"}]}; 503 (Retry-After) when the run itself
 *                        could not go on, with the decisions made.
 *   GET /healthz         200 {"status":"ok"}, no certificate needed.
 *   anything else        401 without a valid certificate, else 404 / 405.
 * Errors are {"error":{"code","message"}}. Every refusal and every decision
 * is an audit line (escrow/audit.h).
 *
 * Threads: libmicrohttpd's epoll pool does the I/O and never waits for
 * Graph: a request to decide is parsed there, its connection suspended and
 * the job handed to one of `workers` threads, each holding its own engine
 * (Graph clients and tokens, reused from one request to the next). Nothing
 * about a decision is kept afterwards, so instances scale out. */
#ifndef SSRP_TOOLS_ASSOC_SERVER_H
#define SSRP_TOOLS_ASSOC_SERVER_H

#include <stddef.h>

#include "escrow/config.h"

typedef struct assoc_server assoc_server;

typedef struct assoc_server_config {
	const ssrp_cloud_config *cfg; /* must outlive the server */
	const char *listen;           /* "HOST:PORT", "[v6]:PORT"; NULL: cfg's assoc.listen */
	int dry_run;
	unsigned workers;             /* 0: 4 */
} assoc_server_config;

/* Check the configuration, make the engines, load the certificates and
 * start listening. Call it with the signals the caller waits for blocked:
 * the threads it starts inherit the mask. */
int assoc_server_start(assoc_server **out, const assoc_server_config *c);
/* The bound port (the real one when 0 was asked) and "https://HOST:PORT/". */
int assoc_server_port(const assoc_server *s);
const char *assoc_server_url(const assoc_server *s);
/* Stop accepting connections and wait (at most timeout_ms) until the
 * requests in flight have been answered; then stop. */
void assoc_server_stop(assoc_server *s, unsigned timeout_ms);

/* "HOST:PORT" → host (brackets removed) and port; SSRP_E_INVALID naming
 * what is wrong. */
int assoc_parse_listen(const char *text, char *host, size_t cap, int *port);

#endif
