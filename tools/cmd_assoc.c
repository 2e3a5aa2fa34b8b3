/* `ssrp assoc`: the association engine (ssrp/assoc.h) from the command
 * line.
 *
 *   ssrp assoc handle [--dry-run] [--json]         Automation WebhookData on stdin
 *   ssrp assoc run --device ID --user U [--user U ...] [--dry-run] [--json]
 *   ssrp assoc batch --in FILE [--concurrency N] [--dry-run] [--json] [--summary-json]
 *   (the HTTPS endpoint for devices is ssrp-assocd: tools/cmd_assoc_serve.c)
 *   ssrp assoc login ...   (tools/cmd_assoc_login.c)
 *   ssrp assoc report ...  (tools/cmd_assoc_report.c)
 *
 * The configuration is --config FILE, else /etc/ssrp/config.json. One line per
 * decision on stdout (--json: one JSON object per line, the audit line's
 * fields); the audit trail goes where assoc.audit says. Exit 0 when every
 * decision is added / already / would-add, 1 when any is unknown, capped,
 * refused or failed (or the run failed), 2 for usage, 6 for malformed
 * input. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ssrp/assoc.h>
#include <ssrp/buf.h>
#include <ssrp/clock.h>
#include <ssrp/config.h>
#include <ssrp/buf.h>
#include <ssrp/sys/error.h>
#include "tools/cli_util.h"
#include "tools/cmd_assoc.h"
#include "tools/cmd_assoc_login.h"
#include "tools/cmd_assoc_report.h"

#define MAX_WEBHOOK_INPUT (1024u * 1024u)

static const char usage[] =
	"usage: ssrp assoc handle [--dry-run] [--json]        decide one Automation WebhookData\n"
	"                                                     (read from stdin)\n"
	"       ssrp assoc run --device ID --user U [--user U ...] [--dry-run] [--json]\n"
	"       ssrp assoc batch --in FILE [--concurrency N] [--dry-run] [--json]\n"
	"                        [--summary-json]             JSON lines or CSV deviceId,user...\n"
	"       ssrp assoc login ...                          sign the service account in\n"
	"       ssrp assoc report [--json | --csv | --html FILE]  keys and owners of every device\n"
	"\n"
	"All take --config FILE (default: /etc/ssrp/config.json). Exit 0 when every user was added,\n"
	"already there or would be added; 1 when any was unknown, capped, refused or failed;\n"
	"2 for usage; 6 for malformed input.\n";

typedef struct assoc_args {
	const char *config, *device, *in, *concurrency;
	int dry_run, json, summary_json, help;
	const char *positional;
} assoc_args;

static const char secret_hint[] =
	"the service account signs in with 'ssrp assoc login'; secrets are read from the files "
	"the configuration names";

static const cli_option options[] = {
	{"--config", CLI_VALUE, offsetof(assoc_args, config), NULL},
	{"--device", CLI_VALUE, offsetof(assoc_args, device), NULL},
	{"--in", CLI_VALUE, offsetof(assoc_args, in), NULL},
	{"--concurrency", CLI_VALUE, offsetof(assoc_args, concurrency), NULL},
	{"--dry-run", CLI_FLAG, offsetof(assoc_args, dry_run), NULL},
	{"--json", CLI_FLAG, offsetof(assoc_args, json), NULL},
	{"--summary-json", CLI_FLAG, offsetof(assoc_args, summary_json), NULL},
	{"--help", CLI_FLAG, offsetof(assoc_args, help), NULL},
	{"-h", CLI_FLAG, offsetof(assoc_args, help), NULL},
	{"--password", CLI_REFUSE_SECRET, 0, secret_hint},
	{"--token", CLI_REFUSE_SECRET, 0, secret_hint},
	{"--secret", CLI_REFUSE_SECRET, 0, secret_hint},
	{"--client-secret", CLI_REFUSE_SECRET, 0, secret_hint},
	{"--refresh-token", CLI_REFUSE_SECRET, 0, secret_hint},
	{"--access-token", CLI_REFUSE_SECRET, 0, secret_hint},
};

/* What the callback counts and prints. */
typedef struct tally {
	int json, quiet;
	unsigned long by_outcome[SSRP_ASSOC_FAILED + 1];
	unsigned long licence_missing, decisions;
} tally;

static void print_decision(const ssrp_assoc_decision *d, void *ctx)
{
	tally *t = ctx;
	t->decisions++;
	if ((int)d->outcome >= 1 && d->outcome <= SSRP_ASSOC_FAILED)
		t->by_outcome[d->outcome]++;
	if (d->licence == SSRP_ASSOC_LICENCE_MISSING)
		t->licence_missing++;
	if (t->quiet)
		return;
	if (t->json) {
		char *line = ssrp_audit_decision_json(d, NULL);
		if (line) {
			printf("%s\n", line);
			ssrp_free(line);
		}
		return;
	}
	const char *who = d->upn[0] ? d->upn : d->user;
	const char *dev = d->device_name[0] ? d->device_name : d->device_id;
	printf("%s \xe2\x86\x92 %s: %s", who, dev, d->detail);
	if (d->licence != SSRP_ASSOC_LICENCE_NOT_CHECKED) {
		printf("; licence %s", ssrp_assoc_licence_name(d->licence));
		if (d->licence_plan[0])
			printf(" (%s)", d->licence_plan);
	}
	printf("\n");
}

static int all_good(const tally *t)
{
	return t->by_outcome[SSRP_ASSOC_UNKNOWN_USER] + t->by_outcome[SSRP_ASSOC_UNKNOWN_DEVICE] +
		       t->by_outcome[SSRP_ASSOC_CAP_REACHED] + t->by_outcome[SSRP_ASSOC_REFUSED] +
		       t->by_outcome[SSRP_ASSOC_FAILED] ==
	       0;
}

typedef struct progress_ctx {
	uint64_t t0;
} progress_ctx;

static void show_progress(size_t done, size_t total, void *ctx)
{
	progress_ctx *p = ctx;
	double s = (double)(ssrp_monotonic_ms() - p->t0) / 1000.0;
	double rate = s > 0 ? (double)done / s : 0;
	double eta = rate > 0 ? (double)(total - done) / rate : 0;
	fprintf(stderr, "\r%zu/%zu devices, %.0f devices/s, ETA %.0f s   ", done, total, rate, eta);
	if (done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

/* Load the configuration, open the audit sink, make the engine. */
static int setup(const assoc_args *a, const char *requester, ssrp_cloud_config **cfg,
		 ssrp_audit **audit, ssrp_assoc **eng, progress_ctx *prog)
{
	const char *path = cli_config_path(a->config);
	if (!path)
		return EXIT_USAGE;
	int rc = ssrp_cloud_config_load(cfg, path);
	if (!rc)
		rc = ssrp_audit_open(audit, ssrp_cloud_config_string(*cfg, "assoc.audit"));
	if (rc) {
		cli_fail(rc);
		return EXIT_FAILURE_;
	}
	ssrp_assoc_options o = SSRP_ASSOC_OPTIONS_INIT;
	o.dry_run = a->dry_run;
	o.requester = requester;
	o.audit = *audit;
	if (a->concurrency) {
		uint64_t n = 0;
		if (cli_parse_uint(&n, a->concurrency, 1, 32))
			return cli_usage_error("--concurrency must be a number from 1 to 32");
		o.concurrency = (unsigned)n;
	}
	if (prog && isatty(STDERR_FILENO)) {
		o.progress = show_progress;
		o.progress_ctx = prog;
	}
	if ((rc = ssrp_assoc_new(eng, *cfg, &o))) {
		cli_fail(rc);
		return EXIT_FAILURE_;
	}
	return EXIT_OK;
}

static int finish(int rc, const tally *t)
{
	if (rc) {
		cli_fail(rc);
		return EXIT_FAILURE_;
	}
	return all_good(t) ? EXIT_OK : EXIT_FAILURE_;
}

static int cmd_handle(const assoc_args *a)
{
	ssrp_buf in = {0};
	int rc = cli_read_file(&in, "-", MAX_WEBHOOK_INPUT);
	if (rc) {
		cli_fail(rc);
		return rc == SSRP_E_INVALID ? EXIT_BAD_DATA : EXIT_FAILURE_;
	}
	ssrp_assoc_request *r = NULL;
	rc = ssrp_assoc_webhook_parse(&r, (const char *)in.data, in.len);
	ssrp_buf_free(&in);
	char requester[300];
	snprintf(requester, sizeof requester, "webhook:%s", r ? r->webhook_name : "");
	if (rc) {
		char why[600];
		snprintf(why, sizeof why, "%s", ssrp_error_last());
		/* still audited: someone sent something */
		const char *path = a->config ? a->config : ssrp_config_default_path();
		ssrp_cloud_config *cfg = NULL;
		ssrp_audit *audit = NULL;
		if (path && !ssrp_cloud_config_load(&cfg, path) &&
		    !ssrp_audit_open(&audit, ssrp_cloud_config_string(cfg, "assoc.audit")))
			ssrp_audit_event(audit, "webhook", "bad-request", NULL, why);
		ssrp_audit_close(audit);
		ssrp_cloud_config_free(cfg);
		ssrp_error_set(rc, "%s", why);
		cli_fail(rc);
		return EXIT_BAD_DATA;
	}
	ssrp_cloud_config *cfg = NULL;
	ssrp_audit *audit = NULL;
	ssrp_assoc *eng = NULL;
	int ex = setup(a, requester, &cfg, &audit, &eng, NULL);
	tally t = {.json = a->json};
	if (ex == EXIT_OK) {
		ssrp_assoc_job job = {.device_id = r->device_id,
				      .users = (const char *const *)r->users,
				      .n_users = r->n_users};
		ex = finish(ssrp_assoc_run(eng, &job, 1, print_decision, &t), &t);
	}
	fflush(stdout);
	ssrp_assoc_free(eng);
	ssrp_audit_close(audit);
	ssrp_cloud_config_free(cfg);
	ssrp_assoc_request_free(r);
	return ex;
}

static int cmd_run(const assoc_args *a, const char **users, size_t n_users)
{
	if (!a->device)
		return cli_usage_error("'assoc run' needs --device ID");
	if (!n_users)
		return cli_usage_error("'assoc run' needs at least one --user");
	if (n_users > SSRP_ASSOC_MAX_USERS)
		return cli_usage_error("at most %d users per device", SSRP_ASSOC_MAX_USERS);
	if (!ssrp_assoc_is_guid(a->device)) {
		ssrp_error_set(SSRP_E_FORMAT, "--device must be a deviceId (a GUID), not '%.60s'",
			       a->device);
		cli_fail(SSRP_E_FORMAT);
		return EXIT_BAD_DATA;
	}
	ssrp_cloud_config *cfg = NULL;
	ssrp_audit *audit = NULL;
	ssrp_assoc *eng = NULL;
	int ex = setup(a, "cli", &cfg, &audit, &eng, NULL);
	tally t = {.json = a->json};
	if (ex == EXIT_OK) {
		ssrp_assoc_job job = {.device_id = a->device, .users = users, .n_users = n_users};
		ex = finish(ssrp_assoc_run(eng, &job, 1, print_decision, &t), &t);
	}
	fflush(stdout);
	ssrp_assoc_free(eng);
	ssrp_audit_close(audit);
	ssrp_cloud_config_free(cfg);
	return ex;
}

static int cmd_batch(const assoc_args *a)
{
	if (!a->in)
		return cli_usage_error("'assoc batch' needs --in FILE");
	ssrp_buf in = {0};
	int rc = cli_read_file(&in, a->in, SSRP_ASSOC_INPUT_MAX_BYTES);
	if (rc) {
		cli_fail(rc);
		return rc == SSRP_E_INVALID ? EXIT_BAD_DATA : EXIT_FAILURE_;
	}
	ssrp_assoc_input *jobs = NULL;
	rc = ssrp_assoc_input_parse(&jobs, (const char *)in.data, in.len);
	ssrp_buf_free(&in);
	if (rc) {
		ssrp_error_prefix(rc, "%s", a->in);
		cli_fail(rc);
		return EXIT_BAD_DATA;
	}
	const char *base = strrchr(a->in, '/');
	char requester[300];
	snprintf(requester, sizeof requester, "batch:%s", base ? base + 1 : a->in);
	ssrp_cloud_config *cfg = NULL;
	ssrp_audit *audit = NULL;
	ssrp_assoc *eng = NULL;
	progress_ctx prog = {.t0 = ssrp_monotonic_ms()};
	int ex = setup(a, requester, &cfg, &audit, &eng, &prog);
	tally t = {.json = a->json, .quiet = a->summary_json && !a->json};
	if (ex == EXIT_OK) {
		uint64_t t0 = ssrp_monotonic_ms();
		rc = ssrp_assoc_run(eng, jobs->jobs, jobs->n, print_decision, &t);
		double secs = (double)(ssrp_monotonic_ms() - t0) / 1000.0;
		fflush(stdout);
		ssrp_assoc_stats st = SSRP_ASSOC_STATS_INIT;
		ssrp_assoc_get_stats(eng, &st);
		double dps = secs > 0 ? (double)jobs->n / secs : 0;
		double rpd = jobs->n ? (double)st.http_requests / (double)jobs->n : 0;
		const unsigned long *o = t.by_outcome;
		fprintf(stderr,
			"%zu devices, %lu decisions: %lu added, %lu already, %lu would-add, %lu "
			"unknown user, %lu unknown device, %lu cap reached, %lu failed; %lu without "
			"a licence\n"
			"%.2f s, %.1f devices/s, %lu HTTP requests (%lu token), %.3f per device, %lu "
			"throttled (429), %lu retries\n",
			jobs->n, t.decisions, o[SSRP_ASSOC_ADDED], o[SSRP_ASSOC_ALREADY],
			o[SSRP_ASSOC_WOULD_ADD], o[SSRP_ASSOC_UNKNOWN_USER],
			o[SSRP_ASSOC_UNKNOWN_DEVICE], o[SSRP_ASSOC_CAP_REACHED],
			o[SSRP_ASSOC_FAILED] + o[SSRP_ASSOC_REFUSED], t.licence_missing, secs, dps,
			st.http_requests, st.token_requests, rpd, st.throttled, st.retries);
		if (a->summary_json) {
			printf("{\"devices\":%zu,\"decisions\":%lu,\"added\":%lu,\"already\":%lu,"
			       "\"would_add\":%lu,\"unknown_user\":%lu,\"unknown_device\":%lu,"
			       "\"cap_reached\":%lu,\"failed\":%lu,\"licence_missing\":%lu,"
			       "\"seconds\":%.3f,\"devices_per_s\":%.1f,\"http_requests\":%lu,"
			       "\"token_requests\":%lu,\"requests_per_device\":%.4f,\"throttled\":%lu,"
			       "\"retries\":%lu}\n",
			       jobs->n, t.decisions, o[SSRP_ASSOC_ADDED], o[SSRP_ASSOC_ALREADY],
			       o[SSRP_ASSOC_WOULD_ADD], o[SSRP_ASSOC_UNKNOWN_USER],
			       o[SSRP_ASSOC_UNKNOWN_DEVICE], o[SSRP_ASSOC_CAP_REACHED],
			       o[SSRP_ASSOC_FAILED] + o[SSRP_ASSOC_REFUSED], t.licence_missing, secs,
			       dps, st.http_requests, st.token_requests, rpd, st.throttled,
			       st.retries);
			fflush(stdout);
		}
		ex = finish(rc, &t);
	}
	ssrp_assoc_free(eng);
	ssrp_audit_close(audit);
	ssrp_cloud_config_free(cfg);
	ssrp_assoc_input_free(jobs);
	return ex;
}

int ssrp_cmd_assoc(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "serve"))
		return cli_usage_error("the association service's HTTPS endpoint is its own "
				       "command: ssrp-assocd (same options)");
	if (argc >= 2 && !strcmp(argv[1], "login"))
		return ssrp_cmd_assoc_login(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "report"))
		return ssrp_cmd_assoc_report(argc - 1, argv + 1);
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "handle") && strcmp(sub, "run") && strcmp(sub, "batch"))
		return cli_usage_error("unknown 'assoc' command '%s'", sub);
	/* --user repeats, which the option parser does not do: take them out */
	int n_rest = 0;
	size_t n_users = 0;
	char **rest = calloc((size_t)argc + 1, sizeof *rest);
	const char **users = calloc((size_t)argc + 1, sizeof *users);
	if (!rest || !users) {
		free(rest);
		free(users);
		fputs("ssrp: out of memory\n", stderr);
		return EXIT_FAILURE_;
	}
	int ex = EXIT_OK;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--user")) {
			if (i + 1 >= argc) {
				ex = cli_usage_error("--user needs a value");
				break;
			}
			users[n_users++] = argv[++i];
		} else if (!strncmp(argv[i], "--user=", 7)) {
			users[n_users++] = argv[i] + 7;
		} else {
			rest[n_rest++] = argv[i];
		}
	}
	assoc_args a = {0};
	const char *pos = NULL;
	int n_pos = 0;
	if (ex == EXIT_OK)
		ex = cli_parse_options(&a, options, sizeof options / sizeof options[0], &pos, 0,
				       &n_pos, n_rest, rest);
	if (ex == EXIT_OK && a.help) {
		fputs(usage, stdout);
	} else if (ex == EXIT_OK) {
		if (n_users && strcmp(sub, "run"))
			ex = cli_usage_error("--user belongs to 'assoc run'");
		else if (!strcmp(sub, "handle"))
			ex = cmd_handle(&a);
		else if (!strcmp(sub, "run"))
			ex = cmd_run(&a, users, n_users);
		else
			ex = cmd_batch(&a);
	}
	free(rest);
	free(users);
	return ex;
}
