/* The Microsoft Graph client: JSON requests with retries, paging and
 * $batch, with the access token of an OAuth client (escrow/oauth_client.h:
 * the grants, the token cache, the refresh-token keeper, who signed in)
 * over the same connection. The handle, its sign-in and the token share
 * are public (ssrp/graph.h); requests, paging and $batch are internal.
 *
 * A 401 from Graph drops the cached token and the request is sent once
 * more with a fresh one.
 *
 * Retries: escrow/http_retry.h's rules, under one deadline per call (a
 * request with its token fetch and its second pass after a 401; a $batch
 * with its rounds). Transport failures are retried for POST too: the POSTs
 * this client makes are token requests, $ref adds (a repeat reads as
 * "already there") and $batch of those.
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
#include "escrow/oauth_client.h"

/* ssrp_graph, ssrp_graph_token, ssrp_graph_free: public, ssrp/graph.h. */

/* The retry engine's options (deadline per call, attempts, backoff,
 * Retry-After cap, cancel). */
typedef ssrp_retry_options ssrp_graph_options;

typedef struct ssrp_graph_stats {
	unsigned long token_requests, graph_requests, retries;
	unsigned long throttled; /* 429s received: whole answers and $batch parts */
} ssrp_graph_stats;

int ssrp_graph_new(ssrp_graph **out, const ssrp_cloud_config *cfg, const ssrp_graph_auth *auth,
		   const ssrp_graph_options *opt);
const ssrp_graph_error *ssrp_graph_last_error(const ssrp_graph *g);
void ssrp_graph_get_stats(const ssrp_graph *g, ssrp_graph_stats *out);

/* Share the credential with other clients (escrow/oauth_client.h). */
void ssrp_graph_use_token_share(ssrp_graph *g, ssrp_graph_token_share *sh);

/* Who signed in, from the sign-in's id_token (the scope asked for openid);
 * NULL when no token answer carried one that passed its checks. */
const ssrp_oauth_user *ssrp_graph_signed_in(const ssrp_graph *g);

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
 * requests, no memory or the caller's cancel (SSRP_E_CANCELLED, results
 * freed). */
int ssrp_graph_batch_all(ssrp_graph *g, const ssrp_graph_batch_req *reqs, size_t n,
			 ssrp_graph_batch_result *results, char *err, size_t err_cap);

/* An OData string literal's content: every ' doubled, so a value such as
 * "x' or displayName eq 'y" stays one literal. Freed with ssrp_free. */
char *ssrp_odata_escape(const char *s);
/* "PREFIX?$filter=<prop> eq '<escaped value>'" percent-encoded, for
 * ssrp_graph_get/list; freed with ssrp_free. */
char *ssrp_graph_filter_eq(const char *prefix, const char *prop, const char *value);

#endif
