/* `ssrp agent run|status`: a thin command over include/ssrp/agent.h.
 *
 *   ssrp agent run [--config F] [--volume SPEC] [--tpm SPEC] [--journal F]
 *                  [--force-association] [--verify] [--json] [--quiet]
 *   ssrp agent status [--config F] [--volume SPEC] [--journal F] [--json]
 *
 * Progress goes to standard error ("agent: ..."), one sentence per step,
 * then a summary line; --json prints the report on standard output. No
 * secret ever reaches either: the library's events and report hold none. */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ssrp/agent.h>
#include <ssrp/sys/error.h>
#include "tools/cli_util.h"
#include "tools/cmd_agent.h"

/* The agent's own exit codes, beside tools/cli_util.h's (listed in `ssrp
 * help`): work remains and a later run will do it; the device is not
 * registered in Entra ID, so nothing was done; another run holds the lock,
 * so this one did nothing. */
enum {
	EXIT_AGENT_NOT_YET = 11,
	EXIT_AGENT_NOT_REGISTERED = 12,
	EXIT_AGENT_BUSY = 13,
};

static const char usage[] =
	"usage: ssrp agent run [--config FILE] [--volume SPEC] [--tpm SPEC] [--journal FILE]\n"
	"                      [--force-association] [--verify] [--timeout SECONDS] [--json]\n"
	"                      [--quiet]\n"
	"       ssrp agent status [--config FILE] [--volume SPEC] [--journal FILE] [--json]\n"
	"\n"
	"run: make this device compliant: a TPM protector, a recovery password escrowed to\n"
	"Entra ID (Device Registration Service), protection on, the primary users sent to\n"
	"the association service, a used recovery password replaced. Safe to run often (a\n"
	"compliant device costs no network request and no TPM unseal) and to kill.\n"
	"Every agent.verify_interval_s (a day) and after every escrow or rotation, the\n"
	"service's key list is read: a recovery password missing there is escrowed again\n"
	"and keys of ones gone from the volume are deleted after agent.key_retention_days;\n"
	"--verify reads it now. --timeout stops the run after that many seconds: its\n"
	"network calls end by then, what was done is kept, and the next run goes on.\n"
	"status: where the device stands, from the journal and the volume alone.\n"
	"\n"
	"The configuration comes from --config (default /etc/ssrp/config.json; its \"device\"\n"
	"and \"agent\" members); --volume, --tpm and --journal override the \"agent\" member;\n"
	"the TPM defaults to agent.tpm, else the platform's.\n"
	"One run at a time: a run waits up to 5 s for another to finish (the lock is the\n"
	"journal's path + \".lock\"); status takes no lock. The journal must be writable by\n"
	"this user (or root) only, and its directory too; a journal that cannot be read\n"
	"is moved aside (JOURNAL.corrupt-<time>) and a fresh one started.\n"
	"Exit codes: 0 compliant, 11 not yet compliant (run again later), 12 not registered\n"
	"in Entra ID (nothing done), 13 another run is in progress (nothing done), 3 no TPM\n"
	"ready, 2 usage, 1 any other failure.\n";

typedef struct agent_args {
	const char *config, *volume, *tpm, *journal, *timeout;
	int force, verify, json, quiet, help;
	const char *positional;
} agent_args;

static void (*write_hook)(unsigned long n);

void ssrp_cmd_agent_on_write(void (*fn)(unsigned long n))
{
	write_hook = fn;
}

static void on_progress(const ssrp_agent_event *ev, void *ctx)
{
	const int *quiet = ctx;
	if (ev->step == SSRP_AGENT_STEP_WRITE) {
		if (write_hook)
			write_hook(ev->write_number);
		return;
	}
	if (*quiet)
		return;
	fprintf(stderr, "agent: %s\n", ev->message);
	fflush(stderr);
}

static const char *type_word(ssrp_protector_type t)
{
	switch (t) {
	case SSRP_PROTECTOR_TPM: return "tpm";
	case SSRP_PROTECTOR_RECOVERY_PASSWORD: return "recovery-password";
	case SSRP_PROTECTOR_CLEAR_KEY: return "clear-key";
	case SSRP_PROTECTOR_STARTUP_KEY: return "startup-key";
	case SSRP_PROTECTOR_TPM_PIN: return "tpm-pin";
	case SSRP_PROTECTOR_PASSWORD: return "password";
	default: return "other";
	}
}

static int print_json(const ssrp_agent_report *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *a = NULL, *assoc = NULL, *cost = NULL, *ver = NULL;
	int bad = !o || !cJSON_AddStringToObject(o, "state", ssrp_agent_state_name(r->state)) ||
		  !cJSON_AddStringToObject(o, "reason", r->reason) ||
		  !cJSON_AddStringToObject(o, "deviceId", r->device_id) ||
		  !cJSON_AddBoolToObject(o, "protectionOn", r->protection_on) ||
		  !(r->tpm_ready < 0 ? cJSON_AddNullToObject(o, "tpmReady")
				     : cJSON_AddBoolToObject(o, "tpmReady", r->tpm_ready)) ||
		  !(a = cJSON_AddArrayToObject(o, "protectors"));
	for (size_t i = 0; !bad && i < r->n_protectors; i++) {
		const ssrp_agent_protector *p = &r->protectors[i];
		cJSON *po = cJSON_CreateObject();
		bad = !po || !cJSON_AddItemToArray(a, po) || !cJSON_AddStringToObject(po, "id", p->id) ||
		      !cJSON_AddStringToObject(po, "type", type_word(p->type));
		if (!bad && p->type == SSRP_PROTECTOR_RECOVERY_PASSWORD)
			bad = !cJSON_AddBoolToObject(po, "escrowed", p->escrowed) ||
			      !cJSON_AddNumberToObject(po, "escrowedAt", (double)p->escrowed_at) ||
			      !cJSON_AddNumberToObject(po, "verifiedAt", (double)p->verified_at) ||
			      !(p->verified_by[0]
					? cJSON_AddStringToObject(po, "verifiedBy", p->verified_by)
					: cJSON_AddNullToObject(po, "verifiedBy"));
	}
	bad = bad || !(assoc = cJSON_AddObjectToObject(o, "association")) ||
	      !cJSON_AddStringToObject(assoc, "mode", r->association_mode) ||
	      !cJSON_AddNumberToObject(assoc, "last", (double)r->last_association) ||
	      !cJSON_AddBoolToObject(assoc, "pending", r->association_pending) ||
	      !cJSON_AddBoolToObject(o, "rotationPending", r->rotation_pending) ||
	      !(ver = cJSON_AddObjectToObject(o, "verification")) ||
	      !cJSON_AddNumberToObject(ver, "last", (double)r->last_verification) ||
	      !cJSON_AddNumberToObject(ver, "next", (double)r->next_verification) ||
	      !cJSON_AddBoolToObject(ver, "thisRun", r->verified_this_run) ||
	      !(r->drs_keys < 0 ? cJSON_AddNullToObject(ver, "keysInEntra")
				: cJSON_AddNumberToObject(ver, "keysInEntra", (double)r->drs_keys)) ||
	      !cJSON_AddNumberToObject(ver, "escrowedAgain", (double)r->keys_reescrowed) ||
	      !cJSON_AddNumberToObject(ver, "keysDeleted", (double)r->keys_deleted) ||
	      !(cost = cJSON_AddObjectToObject(o, "run")) ||
	      !cJSON_AddNumberToObject(cost, "httpRequests", (double)r->http_requests) ||
	      !cJSON_AddNumberToObject(cost, "tpmUnseals", (double)r->tpm_unseals) ||
	      !cJSON_AddNumberToObject(cost, "tpmCommands", (double)r->tpm_commands) ||
	      !cJSON_AddNumberToObject(cost, "volumeChanges", (double)r->volume_changes) ||
	      !cJSON_AddNumberToObject(cost, "journalWrites", (double)r->journal_writes) ||
	      !cJSON_AddNumberToObject(cost, "durableWrites",
				       (double)(r->volume_changes + r->journal_writes)) ||
	      !cJSON_AddNumberToObject(cost, "elapsedMs", (double)r->elapsed_ms) ||
	      !(r->journal_moved_to[0]
			? cJSON_AddStringToObject(o, "journalMovedTo", r->journal_moved_to)
			: cJSON_AddNullToObject(o, "journalMovedTo"));
	char *text = bad ? NULL : cJSON_Print(o);
	cJSON_Delete(o);
	if (!text)
		return cli_fail(ssrp_error_set(SSRP_E_NOMEM, "out of memory"));
	printf("%s\n", text);
	cJSON_free(text);
	return EXIT_OK;
}

static void print_status(const ssrp_agent_report *r)
{
	printf("state:        %s%s%s\n", ssrp_agent_state_name(r->state), r->reason[0] ? ": " : "",
	       r->reason);
	if (r->state == SSRP_AGENT_NOT_REGISTERED || r->state == SSRP_AGENT_FAILED)
		return;
	printf("device:       %s\n", r->device_id);
	printf("protection:   %s\n", r->protection_on ? "on" : "off");
	for (size_t i = 0; i < r->n_protectors; i++) {
		const ssrp_agent_protector *p = &r->protectors[i];
		printf("protector:    %s %s%s%s%s\n", p->id, type_word(p->type),
		       p->type != SSRP_PROTECTOR_RECOVERY_PASSWORD ? ""
		       : p->escrowed                              ? " (escrowed"
								  : " (not escrowed",
		       p->verified_by[0] ? ", last vouched for by " : "",
		       p->type != SSRP_PROTECTOR_RECOVERY_PASSWORD ? ""
		       : !p->verified_by[0]                       ? ")"
		       : !strcmp(p->verified_by, "drs")           ? "the key list)"
								  : "an upload)");
	}
	char when[64] = "never sent";
	if (r->last_association) {
		time_t t = (time_t)r->last_association;
		struct tm tm;
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof when, "last sent %Y-%m-%dT%H:%M:%SZ", &tm);
	}
	printf("association:  %s, %s%s\n", r->association_mode, when,
	       r->association_pending ? " (due)" : "");
	printf("rotation:     %s\n", r->rotation_pending ? "pending" : "none");
	char last[40] = "never", next[40] = "next run";
	struct tm tm;
	time_t t = (time_t)r->last_verification;
	if (r->last_verification && gmtime_r(&t, &tm))
		strftime(last, sizeof last, "%Y-%m-%dT%H:%M:%SZ", &tm);
	t = (time_t)r->next_verification;
	if (r->last_verification && gmtime_r(&t, &tm))
		strftime(next, sizeof next, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("verified:     %s against Entra ID's key list (next: %s)\n", last, next);
}

static int exit_code(int rc, const ssrp_agent_report *r)
{
	switch (r->state) {
	case SSRP_AGENT_COMPLIANT: return EXIT_OK;
	case SSRP_AGENT_NOT_YET: return EXIT_AGENT_NOT_YET;
	case SSRP_AGENT_NOT_REGISTERED: return EXIT_AGENT_NOT_REGISTERED;
	case SSRP_AGENT_FAILED: break;
	}
	if (rc == SSRP_E_BUSY)
		return EXIT_AGENT_BUSY;
	if (r->tpm_ready == 0 || rc == SSRP_E_TPM_ABSENT)
		return EXIT_NO_TPM;
	return EXIT_FAILURE_;
}

int ssrp_cmd_agent(int argc, char **argv)
{
	static const cli_option opts[] = {
		{"--config", CLI_VALUE, offsetof(agent_args, config), NULL},
		{"--volume", CLI_VALUE, offsetof(agent_args, volume), NULL},
		{"--tpm", CLI_VALUE, offsetof(agent_args, tpm), NULL},
		{"--journal", CLI_VALUE, offsetof(agent_args, journal), NULL},
		{"--force-association", CLI_FLAG, offsetof(agent_args, force), NULL},
		{"--verify", CLI_FLAG, offsetof(agent_args, verify), NULL},
		{"--timeout", CLI_VALUE, offsetof(agent_args, timeout), NULL},
		{"--json", CLI_FLAG, offsetof(agent_args, json), NULL},
		{"--quiet", CLI_FLAG, offsetof(agent_args, quiet), NULL},
		{"--help", CLI_FLAG, offsetof(agent_args, help), NULL},
	};
	agent_args a;
	memset(&a, 0, sizeof a);
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	int status = !strcmp(sub, "status");
	if (!status && strcmp(sub, "run"))
		return cli_usage_error("unknown agent command '%s' (run, status)", sub);
	int n_positional = 0;
	int rc = cli_parse_options(&a, opts, sizeof opts / sizeof opts[0], &a.positional, 0,
				   &n_positional, argc - 2, argv + 2);
	if (rc)
		return rc;
	if (a.help) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (status && (a.force || a.tpm || a.verify))
		return cli_usage_error("agent status changes nothing and asks no TPM: drop %s",
				       a.force ? "--force-association" : a.tpm ? "--tpm" : "--verify");
	ssrp_agent_options o = SSRP_AGENT_OPTIONS_INIT;
	o.config_path = cli_config_path(a.config);
	if (!o.config_path)
		return EXIT_USAGE;
	o.volume_spec = a.volume;
	o.tpm_spec = cli_tpm_spec(a.tpm);
	o.journal_path = a.journal;
	o.force_association = a.force;
	o.verify = a.verify;
	if (a.timeout) {
		uint64_t seconds;
		if (status)
			return cli_usage_error("agent status makes no network call: drop --timeout");
		if (cli_parse_uint(&seconds, a.timeout, 1, 86400))
			return cli_usage_error("--timeout takes whole seconds, 1 to 86400");
		o.timeout_ms = (unsigned long)(seconds * 1000);
	}
	int quiet = a.quiet || status;
	o.progress = quiet && !write_hook ? NULL : on_progress;
	o.progress_ctx = &quiet;
	ssrp_agent_report r = SSRP_AGENT_REPORT_INIT;
	rc = status ? ssrp_agent_status(&o, &r) : ssrp_agent_run(&o, &r);
	if (a.json) {
		int jrc = print_json(&r);
		if (jrc)
			return jrc;
	} else if (status) {
		print_status(&r);
	}
	if (rc && !a.quiet)
		fprintf(stderr, "ssrp: %s\n", ssrp_error_last());
	if (!status && !a.quiet) {
		if (r.state == SSRP_AGENT_COMPLIANT)
			fprintf(stderr,
				"agent: compliant (%lu HTTPS request%s, %lu unseal%s, %lu durable "
				"write%s, %llu ms)\n",
				r.http_requests, r.http_requests == 1 ? "" : "s", r.tpm_unseals,
				r.tpm_unseals == 1 ? "" : "s", r.volume_changes + r.journal_writes,
				r.volume_changes + r.journal_writes == 1 ? "" : "s",
				(unsigned long long)r.elapsed_ms);
		else if (r.state == SSRP_AGENT_NOT_YET)
			fprintf(stderr, "agent: not yet compliant: %s (run again later)\n", r.reason);
		else if (r.state == SSRP_AGENT_NOT_REGISTERED)
			fprintf(stderr, "agent: not registered: %s\n", r.reason);
		else if (!rc)
			fprintf(stderr, "agent: failed: %s\n", r.reason);
	}
	return exit_code(rc, &r);
}
