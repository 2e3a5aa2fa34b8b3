/* The association service's decisions (steps 5 and 6 of the flow): make a
 * device's primary users registered owners (and/or users) of the device in
 * the directory, and check they hold a licence that shows devices in the
 * self-service portal. Graph is the only store; the engine keeps nothing
 * between runs, so every decision is idempotent.
 *
 * Per user of a job:
 *   resolve the user (UPN as given, DOMAIN\user through the configured
 *   domain → UPN suffix map, else by onPremisesSamAccountName when the
 *   account's onPremisesDomainName proves DOMAIN; local accounts and
 *   unproven domains are refused) → the device
 *   (by deviceId) → already registered? → cap on owners → add (unless dry
 *   run) → licence check / assignment.
 * Unknown users and devices are decisions like any other, never fatal to
 * the rest of the job or of a batch.
 *
 * Tokens as Graph wants them: reads with the app-only token (config app_id
 * + secret or certificate), owner changes and licence assignment with the
 * delegated token of a service account (config refresh_token_file). Many
 * jobs at once go through $batch with bounded concurrency (one Graph client
 * pair per worker), honouring throttling through the Graph client.
 *
 * Every decision is reported to the caller's callback, and written as one
 * audit line when an audit sink is given (escrow/audit.h). */
#ifndef SSRP_ESCROW_ASSOC_H
#define SSRP_ESCROW_ASSOC_H

#include <stddef.h>

#include "escrow/config.h"
#include "escrow/graph_client.h"

typedef struct ssrp_assoc ssrp_assoc;
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

/* "added", "already", "would-add", "unknown-user", "unknown-device",
 * "cap-reached", "refused", "failed"; the licence as "ok", "missing",
 * "assigned", "would-assign", "error", "not-checked". */
const char *ssrp_assoc_outcome_name(ssrp_assoc_outcome o);
const char *ssrp_assoc_licence_name(ssrp_assoc_licence l);

/* One decision. Strings are valid during the callback only; "" when not
 * known (e.g. user_object_id of an unknown user). */
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

/* One device and its primary users. */
typedef struct ssrp_assoc_job {
	const char *device_id;
	const char *const *users;
	size_t n_users;
} ssrp_assoc_job;

typedef struct ssrp_assoc_options {
	int dry_run;
	unsigned concurrency;       /* workers for many jobs; 0: 4; capped at 32 */
	const char *requester;      /* for decisions and audit; NULL: "cli" */
	ssrp_audit *audit;          /* NULL: no audit lines */
	ssrp_graph_options graph;   /* passed to every Graph client */
	/* Override the config's credentials (tests; `assoc login` has stored
	 * the refresh token otherwise). NULL: app secret or certificate from
	 * the config for reads, its refresh_token_file for changes. */
	const ssrp_graph_auth *reader;
	const ssrp_graph_auth *writer;
	ssrp_assoc_progress_fn progress;
	void *progress_ctx;
	/* Engines of one process that serve at once (a server's workers) share
	 * each credential: token requests one at a time, one keeper of the
	 * rotated refresh token. NULL: the engine makes its own. The caller
	 * frees what it passes, after the engines. */
	ssrp_graph_token_share *reader_tokens, *writer_tokens;
} ssrp_assoc_options;

typedef struct ssrp_assoc_stats {
	unsigned long jobs, decisions;
	unsigned long http_requests;  /* Graph + token, every attempt */
	unsigned long token_requests;
	unsigned long throttled;      /* 429s received (outer and inner) */
	unsigned long retries;
} ssrp_assoc_stats;

/* cfg must outlive the engine. Checks the configuration (a writer
 * credential unless dry_run, licence_sku for "assign") and fails with a
 * sentence naming what is missing; no network traffic yet. */
int ssrp_assoc_new(ssrp_assoc **out, const ssrp_cloud_config *cfg, const ssrp_assoc_options *opt);
void ssrp_assoc_free(ssrp_assoc *a);

/* Decide every user of every job; fn is called once per (job, user)
 * (relation), from the caller's thread. Returns SSRP_OK when every job was
 * decided (whatever the outcomes), or an error when the run itself could
 * not go on (no token at all, configuration): then the undecided users get
 * SSRP_ASSOC_FAILED decisions first, so nothing is silently dropped. */
int ssrp_assoc_run(ssrp_assoc *a, const ssrp_assoc_job *jobs, size_t n, ssrp_assoc_decision_fn fn,
		   void *ctx);
void ssrp_assoc_get_stats(const ssrp_assoc *a, ssrp_assoc_stats *out);

/* ---- requests as they arrive ------------------------------------------ */

/* The request body a device sends (to ssrp's service or to an Automation
 * webhook):
 *   {"deviceId":"<guid>","users":["CONTOSO\\alice","bob@contoso.example"],
 *    "deviceName":"DESKTOP-1",          (deviceName optional, informative)
 *    "report":{...}}                    (optional: escrow/device_report.h)
 * At most SSRP_ASSOC_MAX_USERS users, each at most 256 bytes. */
#define SSRP_ASSOC_MAX_USERS 16
typedef struct ssrp_assoc_request {
	char *device_id;
	char *device_name; /* "" when absent */
	char **users;      /* n_users entries */
	size_t n_users;
	char *webhook_name; /* WebhookData only, else "" */
	/* The device's "report" (escrow/device_report.h); NULL when none. */
	struct ssrp_device_report *report;
} ssrp_assoc_request;

/* Parse a request body; SSRP_E_FORMAT naming the member at fault. */
int ssrp_assoc_request_parse(ssrp_assoc_request **out, const char *json, size_t len);
/* Parse Azure Automation's WebhookData {"WebhookName","RequestHeader",
 * "RequestBody"} whose RequestBody (a string) is the body above. */
int ssrp_assoc_webhook_parse(ssrp_assoc_request **out, const char *json, size_t len);
void ssrp_assoc_request_free(ssrp_assoc_request *r);
/* The request body for a device (what the agent sends); malloc'd JSON. */
char *ssrp_assoc_request_body(const char *device_id, const char *device_name,
			      const char *const *users, size_t n_users);

/* Map a user as SCCM gives it to a UPN by the configured domains:
 * "CONTOSO\alice" → "alice@contoso.example"; a UPN is returned unchanged;
 * an unmapped DOMAIN\user gives SSRP_E_NOTFOUND (then look it up by
 * onPremisesSamAccountName if sam_lookup). SSRP_E_FORMAT for anything that
 * is neither. out gets at most cap bytes. */
int ssrp_assoc_map_user(const ssrp_assoc_config *ac, const char *user, char *out, size_t cap);

/* The trust rule for DOMAIN\user: a name stands for a directory user only
 * when its domain is proven, by assoc.domains or by the looked-up account's
 * onPremisesDomainName (ssrp_assoc_domain_proven); a local account never
 * does, whatever is configured. */

/* 1 when user is DOMAIN\user of a local or built-in account (WORKGROUP,
 * ".", BUILTIN, NT AUTHORITY, NT SERVICE) or of the device itself (its
 * name, device_name, or that name cut to 15 characters; NULL: not known),
 * with why "DOMAIN\user: ..."; 0 otherwise. */
int ssrp_assoc_local_account(const char *user, const char *device_name, char *why, size_t cap);
/* The DNS name assoc.netbios_dns gives domain[0..dl), or NULL. */
const char *ssrp_assoc_dns_name(const ssrp_assoc_config *ac, const char *domain, size_t dl);
/* 1 when an account's onPremisesDomainName is domain[0..dl) itself or the
 * DNS name mapped for it, compared without case; 0 when it is absent or
 * anything else. */
int ssrp_assoc_domain_proven(const ssrp_assoc_config *ac, const char *domain, size_t dl,
			     const char *on_prem_domain);

#endif
