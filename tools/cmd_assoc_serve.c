/* `ssrp-assocd`: the device-authenticated association service in the
 * foreground (tools/assoc_server.h does the work).
 *
 *   ssrp-assocd [--config FILE] [--listen HOST:PORT] [--port-file FILE]
 *                    [--workers N] [--state-dir DIR] [--dry-run]
 *
 * The configuration is --config, else /etc/ssrp/config.json; its "assoc" member
 * names the listen address, the TLS certificate and key files, the device
 * CA and the audit log, and "assoc.serve" its limits (`ssrp help`). SIGTERM or SIGINT stops it: no new connections, the
 * requests in flight are answered, exit 0. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ssrp/config.h>
#include <ssrp/file.h>
#include <ssrp/error.h>
#include <ssrp/sys/error.h>
#include "tools/assoc_server.h"
#include "tools/cli_util.h"
#include "tools/cmd_assoc_serve.h"

#define DRAIN_TIMEOUT_MS 60000u

static const char usage[] =
	"usage: ssrp-assocd [--config FILE] [--listen HOST:PORT] [--port-file FILE]\n"
	"                        [--workers N] [--state-dir DIR] [--dry-run]\n"
	"\n"
	"Serve POST /v1/associate over HTTPS: a device, known by its certificate (issued by\n"
	"MS-Organization-Access, verified against assoc.device_ca_file), asks for its own\n"
	"primary users to become owners of it; GET /healthz answers {\"status\":\"ok\"}.\n"
	"\n"
	"  --config FILE      the client configuration (default /etc/ssrp/config.json); its \"assoc\"\n"
	"                     member gives listen, tls_cert_file, tls_key_file,\n"
	"                     device_ca_file and audit; \"assoc.serve\" the limits:\n"
	"                     handshake_timeout_s (5), idle_timeout_s (30),\n"
	"                     max_connections (4096), per_address (64), reserve (512),\n"
	"                     queue_max (20000), batch_max (100), batch_wait_ms (200),\n"
	"                     refusal_log_interval_s (60)\n"
	"  --listen HOST:PORT overrides assoc.listen; port 0 picks a free port\n"
	"  --port-file FILE   write the port there once listening\n"
	"  --workers N        engine runs at once (default 16), each worker keeping its own\n"
	"                     Graph clients and deciding up to batch_max devices per run\n"
	"  --state-dir DIR    where the devices' latest reports (their recovery protector ids\n"
	"                     and verdict, sent with their requests) are kept for `ssrp assoc\n"
	"                     report`, as DIR/device-reports.json (default /var/lib/ssrp)\n"
	"  --dry-run          decide and report, change nothing in the directory\n"
	"\n"
	"Runs until SIGTERM or SIGINT, then answers the requests in flight and exits 0.\n";

typedef struct serve_args {
	const char *config, *listen, *port_file, *workers, *state_dir;
	int dry_run, help;
} serve_args;

static const char key_hint[] =
	"name the key file as \"assoc.tls_key_file\" in the configuration";

static const cli_option options[] = {
	{"--config", CLI_VALUE, offsetof(serve_args, config), NULL},
	{"--listen", CLI_VALUE, offsetof(serve_args, listen), NULL},
	{"--port-file", CLI_VALUE, offsetof(serve_args, port_file), NULL},
	{"--workers", CLI_VALUE, offsetof(serve_args, workers), NULL},
	{"--state-dir", CLI_VALUE, offsetof(serve_args, state_dir), NULL},
	{"--dry-run", CLI_FLAG, offsetof(serve_args, dry_run), NULL},
	{"--key", CLI_REFUSE_SECRET, 0, key_hint},
	{"--tls-key", CLI_REFUSE_SECRET, 0, key_hint},
	{"--help", CLI_FLAG, offsetof(serve_args, help), NULL},
	{"-h", CLI_FLAG, offsetof(serve_args, help), NULL},
};

int ssrp_cmd_assoc_serve(int argc, char **argv)
{
	serve_args a;
	memset(&a, 0, sizeof a);
	const char *pos[1];
	int n_pos = 0;
	int rc = cli_parse_options(&a, options, sizeof options / sizeof *options, pos, 0, &n_pos,
				   argc - 1, argv + 1);
	if (rc)
		return rc;
	if (a.help) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	unsigned workers = 0;
	if (a.workers) {
		char *end;
		errno = 0;
		long v = strtol(a.workers, &end, 10);
		if (errno || end == a.workers || *end || v < 1 || v > 64)
			return cli_usage_error("--workers: expected 1 to 64, not '%s'", a.workers);
		workers = (unsigned)v;
	}
	if (a.listen) {
		char host[256];
		int port;
		if (assoc_parse_listen(a.listen, host, sizeof host, &port) != SSRP_OK)
			return cli_usage_error("--listen: %s", ssrp_error_last());
	}
	ssrp_cloud_config *cfg = NULL;
	if ((rc = cli_load_config(&cfg, a.config, NULL)) != 0)
		return rc;

	/* Blocked before any thread starts, so only sigwait below sees them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	assoc_server_config sc = {
		.cfg = cfg, .listen = a.listen, .dry_run = a.dry_run, .workers = workers,
		.state_dir = a.state_dir};
	assoc_server *srv = NULL;
	if ((rc = assoc_server_start(&srv, &sc)) != SSRP_OK) {
		int code = cli_fail(rc);
		ssrp_cloud_config_free(cfg);
		return code;
	}
	if (a.port_file) {
		char text[16];
		int n = snprintf(text, sizeof text, "%d\n", assoc_server_port(srv));
		if ((rc = ssrp_fs_write_atomic(a.port_file, text, (size_t)n, 0644)) != SSRP_OK) {
			int code = cli_fail(rc);
			assoc_server_stop(srv, 0);
			ssrp_cloud_config_free(cfg);
			return code;
		}
	}
	fprintf(stderr, "ssrp-assocd: listening on %s%s\n", assoc_server_url(srv),
		a.dry_run ? " (dry run: nothing is changed)" : "");
	fflush(stderr);

	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) == 0)
			break;
	}
	fprintf(stderr, "ssrp-assocd: stopping; answering the requests in flight\n");
	assoc_server_stop(srv, DRAIN_TIMEOUT_MS);
	ssrp_cloud_config_free(cfg);
	return EXIT_OK;
}
