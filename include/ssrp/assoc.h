/* ssrp: the association service's decisions (steps 5 and 6 of the flow):
 * make a device's primary users registered owners (and/or users) of the
 * device in the directory, and check they hold a licence that shows
 * devices in the self-service portal. Graph is the only store; the engine
 * keeps nothing between runs, so every decision is idempotent.
 *
 * Per user of a job: resolve the user (a UPN as given, DOMAIN\user through
 * the configured domains or by onPremisesSamAccountName when the account's
 * onPremisesDomainName proves DOMAIN; local accounts and unproven domains
 * are refused) → the device (by deviceId) → already registered? → the cap
 * on owners → add (unless a dry run) → licence check or assignment.
 * Unknown users and devices are decisions like any other, never fatal to
 * the rest of a job or of a batch.
 *
 * Tokens as Graph wants them: reads with the app-only token (the
 * configuration's app_id with a secret or certificate), owner changes and
 * licence assignment with the delegated token of a service account (its
 * refresh_token_file, written by ssrp_assoc_login). Many jobs go through
 * $batch with bounded concurrency, honouring throttling.
 *
 * Also here: the request a device sends, the batch input file, and the
 * audit trail (one JSON line per decision or refusal). Errors as
 * ssrp/error.h. Threads: say each object below. */
#ifndef SSRP_ASSOC_H
#define SSRP_ASSOC_H

#include <stddef.h>

#include "assoc_report.h"
#include "common.h"
#include "config.h"
#include "graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the engine ----------------------------------------------------------
 * An engine is one thread's at a time (its run uses worker threads of its
 * own); engines of one process run at once, sharing credentials through
 * token shares (ssrp/graph.h). */
typedef struct ssrp_assoc ssrp_assoc;
/* An audit trail (below): thread-safe. */
typedef struct ssrp_audit ssrp_audit;

typedef enum ssrp_assoc_outcome {
	SSRP_ASSOC_ADDED = 1,      /* registered now */
	SSRP_ASSOC_ALREADY,        /* was registered already: nothing sent */
	SSRP_ASSOC_WOULD_ADD,      /* dry run: would have been added */
	SSRP_ASSOC_UNKNOWN_USER,   /* no such user in the directory */
	SSRP_ASSOC_UNKNOWN_DEVICE, /* no such device in the directory */
	SSRP_ASSOC_CAP_REACHED,    /* the device has max_owners already */
	SSRP_ASSOC_REFUSED,        /* not allowed: a device asking about another, a
				    * user whose domain is not proven or local */
	SSRP_ASSOC_FAILED,         /* Graph kept failing; detail says how */
} ssrp_assoc_outcome;

typedef enum ssrp_assoc_licence {
	SSRP_ASSOC_LICENCE_NOT_CHECKED = 0, /* licence "off", or the user is unknown */
	SSRP_ASSOC_LICENCE_OK,              /* holds one of licence_plans */
	SSRP_ASSOC_LICENCE_MISSING,         /* holds none ("check" mode) */
	SSRP_ASSOC_LICENCE_ASSIGNED,        /* "assign" mode: licence_sku assigned now */
	SSRP_ASSOC_LICENCE_WOULD_ASSIGN,    /* "assign" mode, dry run */
	SSRP_ASSOC_LICENCE_ERROR,           /* could not check or assign; detail says why */
} ssrp_assoc_licence;

/** "added", "already", "would-add", "unknown-user", "unknown-device",
 * "cap-reached", "refused", "failed"; the licence as "ok", "missing",
 * "assigned", "would-assign", "error", "not-checked". */
SSRP_API const char *ssrp_assoc_outcome_name(ssrp_assoc_outcome o);
SSRP_API const char *ssrp_assoc_licence_name(ssrp_assoc_licence l);

/* One decision, handed to the caller's callback (library-owned: fields may
 * be added at the end). Strings are valid during the callback only; ""
 * when not known (e.g. user_object_id of an unknown user). */
typedef struct ssrp_assoc_decision {
	const char *requester;      /* who asked: "webhook:<name>", "device:<id>", "batch:<file>", "cli" */
	const char *device_id;      /* as asked */
	const char *device_name;    /* the directory's displayName */
	const char *user;           /* as asked: "CONTOSO\alice" or a UPN */
	const char *upn;            /* the directory user it resolved to */
	const char *user_object_id;
	const char *relation;       /* "registeredOwners" or "registeredUsers" */
	ssrp_assoc_outcome outcome;
	ssrp_assoc_licence licence;
	const char *licence_plan;   /* the plan found or assigned, else "" */
	const char *detail;         /* one sentence for people; Graph's code and
				     * request-id when Graph refused */
	int dry_run;
} ssrp_assoc_decision;

typedef void (*ssrp_assoc_decision_fn)(const ssrp_assoc_decision *d, void *ctx);

/* Progress of a run: jobs (devices) done of total; called from the
 * caller's thread between batches, at most a few times a second. */
typedef void (*ssrp_assoc_progress_fn)(size_t done, size_t total, void *ctx);

/* One device and its primary users (the caller's; an array of them is a
 * run's input, so this plain triple keeps its layout). */
typedef struct ssrp_assoc_job {
	const char *device_id;
	const char *const *users;
	size_t n_users;
} ssrp_assoc_job;

/* Versioned: start from SSRP_ASSOC_OPTIONS_INIT (or
 * ssrp_assoc_options_init()), then set what you need. */
#define SSRP_ASSOC_OPTIONS_VERSION 1
typedef struct ssrp_assoc_options {
	unsigned int version;       /* SSRP_ASSOC_OPTIONS_VERSION */
	int dry_run;
	unsigned concurrency;       /* workers for many jobs; 0: 4; capped at 32 */
	const char *requester;      /* for decisions and audit; NULL: "cli" */
	ssrp_audit *audit;          /* NULL: no audit lines */
	unsigned graph_deadline_ms; /* each Graph call with its retries; 0: 120 s */
	ssrp_assoc_progress_fn progress;
	void *progress_ctx;
	/* Engines of one process that serve at once (a server's workers) share
	 * each credential: token requests one at a time, one keeper of the
	 * rotated refresh token. NULL: the engine makes its own. The caller
	 * frees what it passes, after the engines. */
	ssrp_graph_token_share *reader_tokens, *writer_tokens;
} ssrp_assoc_options;

#define SSRP_ASSOC_OPTIONS_INIT {.version = SSRP_ASSOC_OPTIONS_VERSION}

/** *o = SSRP_ASSOC_OPTIONS_INIT for that version; SSRP_E_INVALID for a
 * version this library does not know. */
SSRP_API int ssrp_assoc_options_init(ssrp_assoc_options *o, unsigned int version);

/** cfg must outlive the engine; opt NULL: every default. Checks the
 * configuration (a writer credential unless dry_run, licence_sku for
 * "assign") and fails with a sentence naming what is missing; no network
 * traffic yet. */
SSRP_API int ssrp_assoc_new(ssrp_assoc **out, const ssrp_cloud_config *cfg,
			    const ssrp_assoc_options *opt);
SSRP_API void ssrp_assoc_free(ssrp_assoc *a);

/** Decide every user of every job; fn is called once per (job, user)
 * (relation), from the caller's thread. SSRP_OK when every job was decided
 * (whatever the outcomes), or an error when the run itself could not go on
 * (no token at all, configuration): then the undecided users get
 * SSRP_ASSOC_FAILED decisions first, so nothing is silently dropped. */
SSRP_API int ssrp_assoc_run(ssrp_assoc *a, const ssrp_assoc_job *jobs, size_t n,
			    ssrp_assoc_decision_fn fn, void *ctx);

/* What an engine's runs cost. Versioned: the caller sets the version
 * (SSRP_ASSOC_STATS_INIT); the library writes the fields it has. */
#define SSRP_ASSOC_STATS_VERSION 1
typedef struct ssrp_assoc_stats {
	unsigned int version;         /* SSRP_ASSOC_STATS_VERSION, set by the caller */
	unsigned long jobs, decisions;
	unsigned long http_requests;  /* Graph + token, every attempt */
	unsigned long token_requests;
	unsigned long throttled;      /* 429s received (outer and inner) */
	unsigned long retries;
} ssrp_assoc_stats;

#define SSRP_ASSOC_STATS_INIT {.version = SSRP_ASSOC_STATS_VERSION}

/** The engine's counts so far into *out (its version set). */
SSRP_API int ssrp_assoc_get_stats(const ssrp_assoc *a, ssrp_assoc_stats *out);

/** The service account's sign-in (`ssrp assoc login`): a person signs in
 * as the account (device code through prompt; the password grant with
 * username and password_file, for tests and the simulator) and its refresh
 * token is kept in the configuration's refresh_token_file (0600,
 * atomically), where the engine's owner changes renew from. The account's
 * user name goes to upn (cap bytes). */
SSRP_API int ssrp_assoc_login(const ssrp_cloud_config *cfg, const char *username,
			      const char *password_file, ssrp_graph_prompt_fn prompt,
			      void *prompt_ctx, char *upn, size_t cap);

/* ---- requests as they arrive ----------------------------------------------
 * The request body a device sends (to ssrp's service or to an Automation
 * webhook):
 *   {"deviceId":"<guid>","users":["CONTOSO\\alice","bob@contoso.example"],
 *    "deviceName":"DESKTOP-1",          (deviceName optional, informative)
 *    "report":{...}}                    (optional: ssrp/assoc_report.h)
 * At most SSRP_ASSOC_MAX_USERS users, each at most 256 bytes; the whole body
 * at most SSRP_ASSOC_SERVICE_MAX_BODY bytes, POSTed to the service's URL +
 * SSRP_ASSOC_SERVICE_PATH. A parsed request is plain data (library-owned:
 * fields may be added at the end), one thread's at a time. */
#define SSRP_ASSOC_MAX_USERS 16
#define SSRP_ASSOC_SERVICE_PATH "v1/associate"
#define SSRP_ASSOC_SERVICE_MAX_BODY (64u * 1024u)
typedef struct ssrp_assoc_request {
	char *device_id;
	char *device_name; /* "" when absent */
	char **users;      /* n_users entries */
	size_t n_users;
	char *webhook_name; /* WebhookData only, else "" */
	ssrp_device_report *report; /* the device's "report"; NULL when none */
} ssrp_assoc_request;

/** Parse a request body; SSRP_E_FORMAT naming the member at fault. */
SSRP_API int ssrp_assoc_request_parse(ssrp_assoc_request **out, const char *json, size_t len);
/** Parse Azure Automation's WebhookData {"WebhookName","RequestHeader",
 * "RequestBody"} whose RequestBody (a string) is the body above. */
SSRP_API int ssrp_assoc_webhook_parse(ssrp_assoc_request **out, const char *json, size_t len);
SSRP_API void ssrp_assoc_request_free(ssrp_assoc_request *r);

/** A deviceId as the engine accepts it: a GUID, 8-4-4-4-12 hex digits. */
SSRP_API int ssrp_assoc_is_guid(const char *s);

/* ---- the batch input (`ssrp assoc batch`) ----------------------------------
 * JSON lines {"deviceId":..,"users":[..]} (the request body's format, as
 * strict) or CSV lines "deviceId,user[,user...]"; a line starting with
 * "deviceId" (a header), blank lines and lines starting with '#' are
 * skipped; CR LF is accepted. A malformed line fails the whole file with
 * SSRP_E_FORMAT "line N: ...". Library-owned plain data. */
#define SSRP_ASSOC_INPUT_MAX_BYTES (256u * 1024u * 1024u)
#define SSRP_ASSOC_INPUT_MAX_JOBS 2000000u
typedef struct ssrp_assoc_input {
	ssrp_assoc_job *jobs; /* n entries; the strings belong to the input */
	size_t n;
	size_t n_users; /* over all jobs */
} ssrp_assoc_input;
SSRP_API int ssrp_assoc_input_parse(ssrp_assoc_input **out, const char *text, size_t len);
SSRP_API void ssrp_assoc_input_free(ssrp_assoc_input *in);

/* ---- the audit trail -------------------------------------------------------
 * One JSON line per decision or refusal, appended to a file (O_APPEND, one
 * write(2) per line, so several processes may share it), or sent to syslog
 * (LOG_AUTH), or to stderr ("-"). Lines never hold a secret. Every line is
 * valid JSON whatever the strings hold: bytes that are not UTF-8 become
 * U+FFFD. Thread-safe: any number of threads write to one trail at once.
 *   {"time":"2026-11-28T19:40:00Z","requester":"device:<id>","event":"decision",
 *    "device":"<id>","device_name":"...","user":"CONTOSO\\alice",
 *    "upn":"alice@contoso.example","relation":"registeredOwners",
 *    "outcome":"added","licence":"ok","licence_plan":"AAD_PREMIUM",
 *    "dry_run":false,"detail":"..."}
 *   {"time":...,"requester":"anonymous","event":"refused",
 *    "address":"192.0.2.7","count":1,"detail":"..."} */

/** spec: a file path (created 0600 if missing, parent must exist; never
 * through a symbolic link, never a FIFO), "syslog", or "-" for stderr. */
SSRP_API int ssrp_audit_open(ssrp_audit **out, const char *spec);
SSRP_API void ssrp_audit_close(ssrp_audit *a);
SSRP_API int ssrp_audit_decision(ssrp_audit *a, const ssrp_assoc_decision *d);
/** Anything that is not a per-user decision: event is a short word
 * ("refused", "bad-request"), device_id may be NULL. */
SSRP_API int ssrp_audit_event(ssrp_audit *a, const char *requester, const char *event,
			      const char *device_id, const char *detail);
/** A client refused before it proved who it is, at most one line per
 * address per interval: the first refusal of an interval is written at once
 * with "count":1; the ones after it in the same interval are counted and
 * written as one line with their count and the latest detail when the
 * interval is over (at the address's next refusal or
 * ssrp_audit_flush_refusals). At most 1023 addresses are tracked at once;
 * beyond that the others share the address "*". */
SSRP_API int ssrp_audit_refusal(ssrp_audit *a, const char *address, const char *detail);
/** The refusal interval (default 60 s). */
SSRP_API void ssrp_audit_set_refusal_interval(ssrp_audit *a, unsigned seconds);
/** Write the counted refusals of the intervals that are over (all: of every
 * interval, as when closing). Call it now and then; close calls it. */
SSRP_API int ssrp_audit_flush_refusals(ssrp_audit *a, int all);
/** The audit line of a decision without its newline (JSON; free with
 * ssrp_free); time NULL for the current UTC time. NULL when out of memory. */
SSRP_API char *ssrp_audit_decision_json(const ssrp_assoc_decision *d, const char *time);

#ifdef __cplusplus
}
#endif

#endif
