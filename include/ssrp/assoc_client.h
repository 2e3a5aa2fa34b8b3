/* ssrp: the device's side of the association (step 4 of the flow): send
 * "this device's primary users are ..." to ssrp's own association service
 * (`ssrp-assocd`, which knows a device only by its certificate) or to an
 * Azure Automation webhook (authenticated by the token in its URL, which
 * anyone holding it can use for any device: the weaker mode).
 *
 * Both send the request body of ssrp/assoc.h:
 *   {"deviceId":"<guid>","users":["CONTOSO\\alice",...],"deviceName":"..."}
 * for the device ssrp_platform_read_identity gave (ssrp/platform.h): its
 * id, display name and, to the service, its certificate. The service's
 * URL (assoc.url + SSRP_ASSOC_SERVICE_PATH), the CA and connect-to
 * mappings come from the configuration (ssrp/config.h); the webhook URL is
 * a secret read from its webhook_url_file (refused when group or others
 * may read it), never copied into a message and zeroed after use.
 *
 * Requests retry by ssrp/retry.h's rules; repeating is safe: the service's
 * decisions are idempotent, and a repeated webhook call only starts
 * another job that finds everything done. Nothing here logs.
 *
 * Errors as ssrp/error.h, each with a sentence (out->status and
 * out->error_code say more):
 *   SSRP_E_REFUSED     403, e.g. "the association service refused:
 *                      OtherDevice: ..." (a device may only ask about itself)
 *   SSRP_E_PERMISSION  401: the certificate was missing or not accepted;
 *                      the webhook's 400 (its token wrong, disabled or expired)
 *   SSRP_E_NOTFOUND    404 (no such webhook)
 *   SSRP_E_INVALID     other 4xx (400 names the member at fault); no users
 *                      or more than SSRP_ASSOC_MAX_USERS; a configuration
 *                      without assoc.url or webhook_url_file; an identity
 *                      without a device id or certificate; a struct version
 *                      this library does not know (out untouched then)
 *   SSRP_E_IO          no answer, or 429/5xx still after the retries
 *   SSRP_E_FORMAT      a success whose body is not the expected answer
 *   SSRP_E_CANCELLED   the options' cancel asked to stop
 *
 * Threads: each call runs on the caller's thread with its own connection;
 * calls in different threads, on different results, run at once. */
#ifndef SSRP_ASSOC_CLIENT_H
#define SSRP_ASSOC_CLIENT_H

#include <stddef.h>

#include "assoc.h"
#include "assoc_report.h"
#include "common.h"
#include "config.h"
#include "platform.h"
#include "retry.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One decision as the service reported it (library-allocated: fields may
 * be added at the end). Every string is the library's, never NULL ("" when
 * the service left it out). */
typedef struct ssrp_assoc_client_decision {
	char *user;         /* as asked */
	char *upn;          /* what it resolved to */
	char *relation;     /* "registeredOwners" | "registeredUsers" */
	char *outcome;      /* ssrp_assoc_outcome_name(): "added", "already", ... */
	char *licence;      /* ssrp_assoc_licence_name(): "ok", "missing", ... */
	char *licence_plan;
	char *detail;
} ssrp_assoc_client_decision;

/* What a send brought back. Versioned: the caller sets the version
 * (SSRP_ASSOC_CLIENT_RESULT_INIT); the library writes the fields it has and
 * owns the decisions: free them with ssrp_assoc_client_result_free after
 * every send, whatever it returned. */
#define SSRP_ASSOC_CLIENT_RESULT_VERSION 1
typedef struct ssrp_assoc_client_result {
	unsigned int version;  /* SSRP_ASSOC_CLIENT_RESULT_VERSION, set by the caller */
	long status;           /* HTTP status of the last answer; 0 when none came */
	unsigned attempts;     /* requests sent, retries included */
	char error_code[64];   /* the refusal's code ("OtherDevice", "Unauthorized"), else "" */
	char device_id[64];    /* service: the deviceId it answered for */
	char job_id[64];       /* webhook: the first of "JobIds" */
	ssrp_assoc_client_decision *decisions; /* service: n_decisions entries */
	size_t n_decisions;
	size_t n_settled;      /* decisions with outcome added, already or would-add */
} ssrp_assoc_client_result;

#define SSRP_ASSOC_CLIENT_RESULT_INIT {.version = SSRP_ASSOC_CLIENT_RESULT_VERSION}

/** *r = SSRP_ASSOC_CLIENT_RESULT_INIT for that version; SSRP_E_INVALID for
 * a version this library does not know. */
SSRP_API int ssrp_assoc_client_result_init(ssrp_assoc_client_result *r, unsigned int version);

/** Free the decisions a send put in r (the other fields and the version
 * stay); NULL and a result never sent are fine. */
SSRP_API void ssrp_assoc_client_result_free(ssrp_assoc_client_result *r);

/** POST the device's primary users (1 to SSRP_ASSOC_MAX_USERS) to the
 * association service with the device certificate, and with report (NULL:
 * none; ssrp/assoc_report.h) as the request's "report" member. SSRP_OK when
 * the service answered 200 with its decisions, for this device: look at
 * each outcome ("unknown-user" is a decision, not a failure). opt NULL:
 * every default. */
SSRP_API int ssrp_assoc_client_send_service(const ssrp_cloud_config *cfg,
					    const ssrp_device_identity *id,
					    const char *const *users, size_t n_users,
					    const ssrp_device_report *report,
					    const ssrp_retry_options *opt,
					    ssrp_assoc_client_result *out);

/** POST the same body to the webhook URL in the configuration's
 * webhook_url_file. SSRP_OK on 202 {"JobIds":["<id>"]} (out->job_id); the
 * job decides later, so there are no decisions. */
SSRP_API int ssrp_assoc_client_send_webhook(const ssrp_cloud_config *cfg,
					    const ssrp_device_identity *id,
					    const char *const *users, size_t n_users,
					    const ssrp_retry_options *opt,
					    ssrp_assoc_client_result *out);

/** One line for people into buf (at most cap bytes): "CONTOSO\alice: added
 * (licence ok); bob: already (licence missing)", "job <id> accepted" or
 * "no decisions". */
SSRP_API void ssrp_assoc_client_summary(const ssrp_assoc_client_result *r, char *buf,
					size_t cap);

#ifdef __cplusplus
}
#endif

#endif
