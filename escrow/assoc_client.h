/* The device's side of the association (step 5 of the flow): send "this
 * device's primary users are ..." either to ssrp's own association service
 * (`ssrp assoc serve`, authenticated by the device certificate) or to an
 * Azure Automation webhook (authenticated by the token in its URL).
 * Platform-neutral: the network through hal/http, files through hal/fs.
 *
 * Both send the request body of escrow/assoc.h:
 *   {"deviceId":"<guid>","users":["CONTOSO\\alice",...],"deviceName":"..."}
 *
 * Retries: escrow/http_retry.h's rules. Repeating is safe: the service's
 * decisions are idempotent, and a repeated webhook call only starts another
 * job that finds everything done.
 *
 * Nothing here logs. The webhook URL is a secret (its query string is the
 * token): it is read from cfg->webhook_url_file (refusing group/other
 * access), never copied into an error message, and zeroed after use. */
#ifndef SSRP_ESCROW_ASSOC_CLIENT_H
#define SSRP_ESCROW_ASSOC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "escrow/config.h"
#include "escrow/http_retry.h"
#include "ssrp/assoc.h"

/* SSRP_ASSOC_SERVICE_PATH (under cfg->assoc.url) and
 * SSRP_ASSOC_SERVICE_MAX_BODY: public, ssrp/assoc.h. */

/* The retry engine's options (escrow/http_retry.h). */
typedef ssrp_retry_options ssrp_assoc_client_options;

/* One decision as the service reported it; every string is malloc'd and
 * never NULL ("" when the service left it out). */
typedef struct ssrp_assoc_client_decision {
	char *user;         /* as asked */
	char *upn;          /* what it resolved to */
	char *relation;     /* "registeredOwners" | "registeredUsers" */
	char *outcome;      /* ssrp_assoc_outcome_name(): "added", "already", ... */
	char *licence;      /* ssrp_assoc_licence_name(): "ok", "missing", ... */
	char *licence_plan;
	char *detail;
} ssrp_assoc_client_decision;

typedef struct ssrp_assoc_client_result {
	long status;           /* HTTP status of the last answer; 0 when none came */
	unsigned attempts;     /* requests sent, retries included */
	char error_code[64];   /* the refusal's code ("OtherDevice", "Unauthorized"), else "" */
	char device_id[64];    /* service: the deviceId it answered for */
	char job_id[64];       /* webhook: the first of "JobIds" */
	ssrp_assoc_client_decision *decisions; /* service: n_decisions entries */
	size_t n_decisions;
	size_t n_settled;      /* decisions with outcome added, already or would-add */
} ssrp_assoc_client_result;

/* Free what a send or parse put in r (safe on a zeroed or freed result). */
void ssrp_assoc_client_result_free(ssrp_assoc_client_result *r);

/* POST the body to cfg->assoc.url + "v1/associate" with the device
 * certificate (cfg->device_cert_file / device_key_file), trusting
 * cfg->ca_file, through cfg->connect_to. device_id NULL: cfg->device_id;
 * device_name may be NULL. opt NULL: defaults. out is reset first; free it
 * with ssrp_assoc_client_result_free() in every case.
 *
 * Returns SSRP_OK when the service answered 200 with its decisions (look at
 * each outcome: "unknown-user" is a decision, not a failure); else an error
 * whose message is a sentence, out->status and out->error_code telling:
 *   SSRP_E_REFUSED     403, e.g. "the association service refused:
 *                      OtherDevice: ..." (a device may only ask about itself)
 *   SSRP_E_PERMISSION  401: the certificate was missing or not accepted
 *   SSRP_E_INVALID     other 4xx (400 names the member at fault), or a
 *                      configuration without assoc.url / a device
 *                      certificate / a device id
 *   SSRP_E_IO          no answer, or 429/5xx still after the retries
 *   SSRP_E_FORMAT      a 200 whose body is not the service's answer */
int ssrp_assoc_client_send_service(const ssrp_cloud_config *cfg, const char *device_id,
				   const char *device_name, const char *const *users, size_t n_users,
				   const ssrp_assoc_client_options *opt,
				   ssrp_assoc_client_result *out);

/* The same with the device's report (escrow/device_report.h) as the
 * request's "report" member; report NULL: none. */
struct ssrp_device_report;
int ssrp_assoc_client_send_report(const ssrp_cloud_config *cfg, const char *device_id,
				  const char *device_name, const char *const *users, size_t n_users,
				  const struct ssrp_device_report *report,
				  const ssrp_assoc_client_options *opt, ssrp_assoc_client_result *out);

/* POST the same body to the webhook URL read from cfg->webhook_url_file.
 * SSRP_OK on 202 {"JobIds":["<id>"]} (out->job_id); the job decides later,
 * so there are no decisions here. Errors as above, plus SSRP_E_PERMISSION
 * for Azure's 400 "expired or disabled, or the token is invalid",
 * SSRP_E_NOTFOUND for 404 (no such webhook). */
int ssrp_assoc_client_send_webhook(const ssrp_cloud_config *cfg, const char *device_id,
				   const char *device_name, const char *const *users, size_t n_users,
				   const ssrp_assoc_client_options *opt,
				   ssrp_assoc_client_result *out);

/* The parsers behind the two calls (untrusted input; fuzzed). They fill
 * out's decisions / job_id / error_code, leaving status and attempts alone.
 * parse_service: a 200 body {"deviceId","decisions":[{...}]}; parse_webhook:
 * a 202 body {"JobIds":[...]}; parse_error: {"error":{"code","message"}}
 * (the service) or {"Message":"..."} (Automation) into out->error_code and
 * msg (at most cap bytes; "" when neither). SSRP_E_FORMAT naming what is
 * wrong. */
int ssrp_assoc_client_parse_service(const char *body, size_t len, ssrp_assoc_client_result *out);
int ssrp_assoc_client_parse_webhook(const char *body, size_t len, ssrp_assoc_client_result *out);
int ssrp_assoc_client_parse_error(const char *body, size_t len, ssrp_assoc_client_result *out,
				  char *msg, size_t cap);

/* One line for people: "CONTOSO\alice: added (licence ok); bob: already
 * (licence missing)" or "job <id> accepted"; at most cap bytes. */
void ssrp_assoc_client_summary(const ssrp_assoc_client_result *r, char *buf, size_t cap);

#endif
