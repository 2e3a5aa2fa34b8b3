/* The Microsoft Graph client: OAuth2 tokens, JSON requests with retries,
 * paging and $batch. Internal for now (escrow/, the command and the
 * association service use it); it moves to include/ssrp/graph.h once the
 * association and retrieval work has settled its shape.
 *
 * Tokens: client secret, certificate assertion (RS256 JWT with the
 * certificate's x5t), a refresh token read from a file (a delegated service
 * account; the renewed token Entra returns is written back to that file,
 * 0600, atomically), the password grant (tests and the simulator only) or
 * a device-code sign-in (a person, at a browser; renewed with the refresh
 * token it returned, which save_refresh_file can keep). A token
 * is reused until 5 minutes before it expires; a 401 from Graph drops it
 * and the request is sent once more with a fresh one.
 *
 * Retries: escrow/http_retry.h's rules, under one deadline per call (a
 * request with its token fetch and its second pass after a 401; a $batch
 * with its rounds). Transport failures are retried for POST too: the POSTs this client makes are token requests, $ref adds
 * (a repeat reads as "already there") and $batch of those.
 *
 * Errors read like a sentence and keep Graph's code, message and
 * request-id: "Graph refused GET /v1.0/devices: Authorization_RequestDenied:
 * Insufficient privileges to complete the operation. (request-id ...)";
 * ssrp_graph_last_error() gives the parts. */
#ifndef SSRP_ESCROW_GRAPH_CLIENT_H
#define SSRP_ESCROW_GRAPH_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "escrow/config.h"
#include "escrow/http_retry.h"

typedef struct ssrp_graph ssrp_graph;

typedef enum ssrp_graph_auth_kind {
	SSRP_GRAPH_AUTH_APP_SECRET = 1, /* config app_id + app_secret_file */
	SSRP_GRAPH_AUTH_APP_CERT,       /* config app_id + app_cert_file/app_key_file */
	SSRP_GRAPH_AUTH_REFRESH_TOKEN,  /* config public_client_id + refresh_token_file */
	SSRP_GRAPH_AUTH_PASSWORD,       /* public_client_id + username + password_file */
	SSRP_GRAPH_AUTH_DEVICE_CODE,    /* public_client_id; a person signs in in a browser */
} ssrp_graph_auth_kind;

/* DEVICE_CODE: tell the person where to go and what to type. message is
 * the sign-in service's own sentence (control characters blanked). */
typedef void (*ssrp_graph_prompt_fn)(const char *verification_uri, const char *user_code,
				     const char *message, void *ctx);

typedef struct ssrp_graph_auth {
	ssrp_graph_auth_kind kind;
	const char *username;      /* PASSWORD */
	const char *password_file; /* PASSWORD */
	const char *scope;         /* NULL: "https://GRAPH/.default", plus " offline_access"
				    * for DEVICE_CODE and when save_refresh_file is set */
	/* DEVICE_CODE: required. The first token is a device-code sign-in
	 * (POST .../oauth2/v2.0/devicecode, then the token endpoint polled at
	 * the interval it gave, 5 s more after each slow_down, until the code
	 * expires); later tokens come from the refresh token it returned.
	 * Call ssrp_graph_token() first: the sign-in lasts as long as the
	 * person takes, and inside a request it would use up its deadline. */
	ssrp_graph_prompt_fn prompt;
	void *prompt_ctx;
	unsigned poll_unit_ms; /* ms per second of interval/expiry; 0: 1000 (tests shorten) */
	/* DEVICE_CODE, PASSWORD: the refresh token the sign-in returned (and
	 * each renewed one) is written here, 0600, atomically. A PASSWORD
	 * client that got a refresh token forgets the password and renews
	 * with the refresh token from then on. */
	const char *save_refresh_file;
} ssrp_graph_auth;

/* The retry engine's options (deadline per call, attempts, backoff,
 * Retry-After cap, cancel). */
typedef ssrp_retry_options ssrp_graph_options;

/* Graph's side of the last failure of this client. */
typedef struct ssrp_graph_error {
	long status;          /* HTTP status, 0 if none arrived */
	char code[96];        /* Graph's error.code, or the token endpoint's error */
	char message[512];
	char request_id[64];
} ssrp_graph_error;

typedef struct ssrp_graph_stats {
	unsigned long token_requests, graph_requests, retries;
	unsigned long throttled; /* 429s received: whole answers and $batch parts */
} ssrp_graph_stats;

int ssrp_graph_new(ssrp_graph **out, const ssrp_cloud_config *cfg, const ssrp_graph_auth *auth,
		   const ssrp_graph_options *opt);
void ssrp_graph_free(ssrp_graph *g);
const ssrp_graph_error *ssrp_graph_last_error(const ssrp_graph *g);
void ssrp_graph_get_stats(const ssrp_graph *g, ssrp_graph_stats *out);

/* Clients of the same credential in several threads (one client per
 * thread, as libcurl wants) share it: their token requests go one at a
 * time, so a throttled token endpoint never sees one client's request
 * inside another's Retry-After, and a rotated refresh token has one keeper
 * (the next client to renew starts from it). Each client keeps its own
 * access token. The share must outlive the clients using it. */
typedef struct ssrp_graph_token_share ssrp_graph_token_share;
int ssrp_graph_token_share_new(ssrp_graph_token_share **out);
void ssrp_graph_token_share_free(ssrp_graph_token_share *sh);
void ssrp_graph_use_token_share(ssrp_graph *g, ssrp_graph_token_share *sh);

/* Make sure a valid token is cached (fetching one if needed). */
int ssrp_graph_token(ssrp_graph *g);

/* One JSON request. path is "/v1.0/..." on the configured Graph host, or a
 * full https URL on that same host (an @odata.nextLink); anything else is
 * refused so the token never goes elsewhere. body may be NULL. On a 2xx
 * answer: SSRP_OK, *status and *out (NULL for an empty body; out may be
 * NULL). Otherwise an error whose message is the sentence above:
 * SSRP_E_NOTFOUND (404), SSRP_E_PERMISSION (401, 403), SSRP_E_INVALID (other
 * 4xx), SSRP_E_IO (transport, 5xx after the retries). */
int ssrp_graph_request(ssrp_graph *g, const char *method, const char *path, const cJSON *body,
		       long *status, cJSON **out);
int ssrp_graph_get(ssrp_graph *g, const char *path, cJSON **out);
int ssrp_graph_post(ssrp_graph *g, const char *path, const cJSON *body, cJSON **out);
int ssrp_graph_delete(ssrp_graph *g, const char *path);

/* Add a directory object to a $ref collection, e.g.
 * "/v1.0/devices/{id}/registeredOwners/$ref". *already (may be NULL) is 1
 * when Graph said the reference already exists, which counts as success. */
int ssrp_graph_add_ref(ssrp_graph *g, const char *ref_path, const char *object_id,
		       int *already);

/* Call fn for each element of "value" over every page (@odata.nextLink).
 * fn returns 0 to go on, anything else stops and is returned. */
typedef int (*ssrp_graph_item_fn)(const cJSON *item, void *ctx);
int ssrp_graph_list(ssrp_graph *g, const char *path, ssrp_graph_item_fn fn, void *ctx);

/* $batch: up to SSRP_GRAPH_BATCH_MAX requests in one POST. Requests whose
 * inner answer is 429 or 5xx are sent again (in a smaller batch, after the
 * longest inner Retry-After) under the call's deadline. Each result holds
 * the final inner status and body; SSRP_OK means the batch went through,
 * not that every inner request succeeded. */
#define SSRP_GRAPH_BATCH_MAX 20
typedef struct ssrp_graph_batch_req {
	const char *method;
	const char *url; /* relative, "/devices/{id}" */
	const cJSON *body;
	/* this request's own headers, "Name: value" (e.g. "ConsistencyLevel:
	 * eventual" for an advanced query), NULL-terminated; NULL: none */
	const char *const *headers;
} ssrp_graph_batch_req;
typedef struct ssrp_graph_batch_result {
	long status;
	cJSON *body; /* owned; freed by ssrp_graph_batch_results_free */
} ssrp_graph_batch_result;
int ssrp_graph_batch(ssrp_graph *g, const ssrp_graph_batch_req *reqs, size_t n,
		     ssrp_graph_batch_result *results);
void ssrp_graph_batch_results_free(ssrp_graph_batch_result *results, size_t n);
/* Any number of requests, SSRP_GRAPH_BATCH_MAX to a $batch POST, the POSTs
 * one after another; the retryable ones of all of them are sent again
 * together after one wait (the longest inner Retry-After among them). A
 * request whose POST failed keeps status 0 and body NULL, and err (when
 * given) holds the last such failure. Returns an error only for bad
 * requests or no memory. */
int ssrp_graph_batch_all(ssrp_graph *g, const ssrp_graph_batch_req *reqs, size_t n,
			 ssrp_graph_batch_result *results, char *err, size_t err_cap);

/* An OData string literal's content: every ' doubled, so a value such as
 * "x' or displayName eq 'y" stays one literal. Freed with ssrp_free. */
char *ssrp_odata_escape(const char *s);
/* "PREFIX?$filter=<prop> eq '<escaped value>'" percent-encoded, for
 * ssrp_graph_get/list; freed with ssrp_free. */
char *ssrp_graph_filter_eq(const char *prefix, const char *prop, const char *value);

/* ---- device-code sign-in: the parsers, exposed for tests and fuzzing ---- */

/* The devicecode endpoint's answer. user_code must be printable ASCII and
 * verification_uri an https URL without spaces (both end up on a
 * terminal); expires_in defaults to 900 and interval to 5 (kept in 1..60). */
typedef struct ssrp_graph_devicecode {
	char *device_code; /* a secret; freed by ssrp_graph_devicecode_clear */
	char user_code[64];
	char verification_uri[256];
	char message[512];
	unsigned expires_in, interval; /* seconds */
} ssrp_graph_devicecode;
int ssrp_graph_devicecode_parse(const char *body, size_t len, ssrp_graph_devicecode *out);
void ssrp_graph_devicecode_clear(ssrp_graph_devicecode *dc);

/* What one answer of the token endpoint to a device_code poll means. */
typedef enum ssrp_graph_poll {
	SSRP_GRAPH_POLL_ERROR = 0, /* anything else: stop with the endpoint's words */
	SSRP_GRAPH_POLL_DONE,      /* 200 with an access_token */
	SSRP_GRAPH_POLL_PENDING,   /* authorization_pending: poll again */
	SSRP_GRAPH_POLL_SLOW_DOWN, /* slow_down: poll again, 5 s later than before */
	SSRP_GRAPH_POLL_EXPIRED,   /* expired_token / code_expired */
	SSRP_GRAPH_POLL_DENIED,    /* access_denied / authorization_declined */
} ssrp_graph_poll;
ssrp_graph_poll ssrp_graph_devicecode_poll_classify(long status, const cJSON *answer);

#endif
