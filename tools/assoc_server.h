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
 *                        A "report" in the body (escrow/device_report.h) is
 *                        kept as the device's latest, in state_dir's
 *                        device-reports.json (written every few seconds).
 *   GET /healthz         200 {"status":"ok"}, no certificate needed.
 *   anything else        401 without a valid certificate, else 404 / 405.
 *   429 (Retry-After)    this device's request with other users is being
 *                        decided; a request asking the same shares its answer.
 * A client without a valid certificate is answered 401 (and its connection
 * closed) as soon as its headers are in, before its body is read.
 * Errors are {"error":{"code","message"}}. Every refusal and every decision
 * is an audit line (escrow/audit.h); refusals before a certificate at most
 * one per address per interval, with a count.
 *
 * Limits (the configuration's assoc.serve, escrow/config.h): the handshake
 * deadline, connections per address, the reserve of connections for
 * devices (assoc_server_conns.c); the devices waiting, how many are decided
 * together and how long the first waits for company (assoc_server_queue.c).
 *
 * Threads: libmicrohttpd's thread pool (poll(): its epoll loop spins on
 * connections mid-handshake) does the I/O and never waits for
 * Graph: a request to decide is parsed there, its connection suspended and
 * its device queued; one of `workers` threads, each holding its own engine
 * (Graph clients and tokens, reused from one run to the next), decides up
 * to batch_max waiting devices in one run. A watchdog thread cuts
 * connections past their handshake deadline, drops requests whose client
 * has gone and writes counted refusals. Nothing about a decision is kept
 * afterwards, so instances scale out. */
#ifndef SSRP_TOOLS_ASSOC_SERVER_H
#define SSRP_TOOLS_ASSOC_SERVER_H

#include <stddef.h>

#include <ssrp/config.h>

typedef struct assoc_server assoc_server;

typedef struct assoc_server_config {
	const ssrp_cloud_config *cfg; /* must outlive the server */
	const char *listen;           /* "HOST:PORT", "[v6]:PORT"; NULL: cfg's assoc.listen */
	int dry_run;
	unsigned workers;             /* 0: 16 */
	const char *state_dir;        /* the devices' report cache; NULL: /var/lib/ssrp */
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
