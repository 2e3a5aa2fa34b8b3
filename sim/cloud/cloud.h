/* The simulated Microsoft cloud: shared types.
 *
 * One HTTPS server (server.c: libmicrohttpd + GnuTLS) stands in for four
 * services, told apart by the Host header:
 *   login.microsoftonline.com            token endpoint       (token.c, id_token.c)
 *                                        OpenID metadata, JWKS (discovery.c)
 *   graph.microsoft.com                  Graph v1.0           (graph*.c)
 *   enterpriseregistration.windows.net   Device Registration  (drs.c)
 *   *.azure-automation.net               Automation webhooks  (webhook.c)
 * Handlers are plain functions from a cloud_request to a cloud_response,
 * with no HTTP library in sight, so unit tests and fuzzers call them
 * directly. All tenant data lives in a cloud_state (state.h) behind one
 * mutex; handlers take it for the duration of a request. */
#ifndef SSRP_SIM_CLOUD_H
#define SSRP_SIM_CLOUD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "sim/cloud/state.h"

#define CLOUD_HOST_LOGIN "login.microsoftonline.com"
#define CLOUD_HOST_GRAPH "graph.microsoft.com"
#define CLOUD_HOST_DRS "enterpriseregistration.windows.net"
#define CLOUD_HOST_AUTOMATION_SUFFIX ".azure-automation.net"
/* The self-service "My devices" page (portal.c), step 7's portal. */
#define CLOUD_HOST_PORTAL "myaccount.microsoft.com"
/* Where the simulator's files expect `ssrp assoc serve` (its certificate). */
#define CLOUD_HOST_ASSOC "ssrp-assoc.contoso.example"
#define CLOUD_SKU_AAD_PREMIUM "078d2b04-f1bd-4111-bbd4-b4b1b354cef4"

typedef struct cloud_header {
	const char *name; /* lower case */
	const char *value;
} cloud_header;

#define CLOUD_MAX_REQUEST_HEADERS 32

typedef struct cloud_request {
	const char *method;  /* "GET", "POST", ... */
	const char *host;    /* Host header without port, lower case */
	const char *path;    /* percent-decoded path, e.g. "/v1.0/users/a@b.c" */
	const char *query;   /* the raw query string after '?', "" when none */
	size_t n_headers;
	cloud_header headers[CLOUD_MAX_REQUEST_HEADERS];
	const uint8_t *body;
	size_t body_len;
	/* Subject CN of the TLS client certificate, when the client sent one
	 * and it chains to the simulator's CA; NULL otherwise. */
	const char *client_cert_cn;
	const char *client_addr; /* "127.0.0.1:54321" */
	const char *request_id;  /* a GUID the server makes for each request */
} cloud_request;

#define CLOUD_MAX_RESPONSE_HEADERS 8

typedef struct cloud_response {
	int status;
	char *body; /* malloc'd, NUL-terminated; NULL for an empty body */
	size_t body_len;
	char content_type[64];
	size_t n_headers;
	struct {
		char name[48];
		char value[512];
	} headers[CLOUD_MAX_RESPONSE_HEADERS];
	/* For the request log: who the caller was ("app:<appId>",
	 * "user:<upn>", "device:<deviceId>", "webhook:<name>") when known. */
	char identity[160];
} cloud_response;

/* Everything a handler may use. One per server; shared by all threads. */
typedef struct cloud_ctx {
	cloud_state *state;   /* the tenant, with its own lock */
	EVP_PKEY *token_key;  /* signs access and refresh tokens (RS256) */
	char token_kid[64];   /* its certificate's x5t, the JWKS kid */
	char *token_x5c;      /* that certificate, base64 DER (malloc'd); NULL: none */
	char base_dir[1024];  /* where the server keeps its files (certs, jobs) */
	const char *job_command; /* webhook job handler: argv[0] of a program, or NULL */
	uint64_t (*now)(void); /* seconds since the epoch; tests may replace it */
	/* Runs webhook jobs in the background (jobs.h); NULL runs them inline,
	 * as unit tests and fuzzers that call the handlers directly do. */
	struct cloud_jobs *jobs;
	/* Verified bearer tokens (token_cache.h); NULL: check every time. */
	struct cloud_token_cache *token_cache;
	/* Access tokens carry the epoch they were minted in; POST
	 * /admin/tokens/expire moves it on, and older tokens then count as
	 * expired (refresh tokens stay valid). Read and bumped atomically. */
	uint64_t token_epoch;
	/* The "My devices" page's signed-in sessions (portal.c); NULL until
	 * the first sign-in. */
	struct cloud_portal *portal;
	/* The fault script (faults.h), also consulted for each request inside
	 * a Graph $batch; NULL: none (unit tests, fuzzers). */
	struct cloud_faults *faults;
} cloud_ctx;

/* ---- responses ---------------------------------------------------------- */

/* A value lookup among the request headers (name in lower case). */
const char *cloud_request_header(const cloud_request *rq, const char *name);
/* The value of one query parameter, percent-decoded ('+' as space) into out:
 * 1 if present, 0 if absent; negative (SSRP_E_FORMAT for a bad escape or a
 * parameter given twice, SSRP_E_BUFSIZE when the value does not fit) with
 * out set to "" and an error message. Test with == 1, not as a boolean. */
int cloud_query_param(const cloud_request *rq, const char *name, char *out, size_t cap);

/* Zeroes rs and sets status 500, so a handler that never answers shows up
 * as a server error. */
void cloud_response_init(cloud_response *rs);
void cloud_response_free(cloud_response *rs);
/* Set status and a JSON body (takes ownership of text, a malloc'd string). */
void cloud_respond_json(cloud_response *rs, int status, char *text);
/* Add a response header. */
void cloud_response_header(cloud_response *rs, const char *name, const char *value);
/* Graph's error shape: {"error":{"code","message","innerError":{"request-id","date"}}}. */
void cloud_graph_error(cloud_response *rs, const cloud_request *rq, int status, const char *code,
		       const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 5, 6)))
#endif
	;

/* ---- tokens (token.c, jwt.c) ---------------------------------------------- */

/* Who a bearer token speaks for. */
typedef enum { CLOUD_PRINCIPAL_APP, CLOUD_PRINCIPAL_USER } cloud_principal_kind;

typedef struct cloud_principal {
	cloud_principal_kind kind;
	char app_id[CLOUD_ID_LEN + 1];  /* the client that got the token */
	char user_id[CLOUD_ID_LEN + 1]; /* delegated tokens: the signed-in user */
	char upn[128];
	char scopes[512]; /* delegated: space-separated scp ("User.Read BitLockerKey.Read.All") */
	char roles[512];  /* app-only: space-separated application permissions */
	/* What minting puts in the token besides the above (unused by checks). */
	char sp_id[CLOUD_ID_LEN + 1]; /* app-only: the service principal, the token's oid */
	char app_name[128];           /* app_displayname */
	char name[128];               /* delegated: the user's display name */
	char acr;                     /* appidacr: '0' public, '1' secret, '2' certificate */
	int aud_app_id;               /* aud as Graph's app id rather than its URI */
	uint64_t expires; /* Unix seconds */
	uint64_t epoch;   /* cloud_ctx.token_epoch when the token was minted */
} cloud_principal;

/* A signed JWT access token (RS256, kid, iss/aud/tid/exp/nbf/iat and the
 * principal's claims), malloc'd. */
char *cloud_token_mint(cloud_ctx *ctx, const cloud_principal *p, uint64_t lifetime_s);
/* Expire every access token minted so far (the admin endpoint). */
void cloud_token_expire_all(cloud_ctx *ctx);
/* A refresh token for a user signed in to a public client with Graph's
 * default delegated scopes, as if they had signed in with the password
 * grant (the demo tenant's service account). malloc'd; secret. */
char *cloud_token_refresh_for(cloud_ctx *ctx, const char *client_id, const char *upn);

/* Check "Authorization: Bearer <jwt>" for Graph: signature, expiry, audience
 * and tenant. On failure fill rs with Graph's 401 (InvalidAuthenticationToken)
 * and return non-zero. Takes no lock. On success rs->identity is set. */
int cloud_token_verify(cloud_ctx *ctx, const cloud_request *rq, cloud_principal *out,
		       cloud_response *rs);

/* Space-separated list membership ("a b c" contains "b"), ignoring ASCII
 * case: Entra compares permission names case-insensitively, and Microsoft's
 * own pages spell "BitlockerKey.Read.All" and "BitLockerKey.Read.All". */
int cloud_word_in(const char *list, const char *word);

/* ---- the services ------------------------------------------------------- */

void cloud_token_handle(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs);
void cloud_graph_handle(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs);
void cloud_drs_handle(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs);
/* POST /admin/keys/delete {"kids":[...]}: keys deleted as an administrator
 * would (sim/cloud/drs.c). */
void cloud_drs_admin_delete(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs);
/* https://myaccount.microsoft.com/: sign-in, "My devices", "Show BitLocker key". */
void cloud_portal_handle(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs);
/* Free ctx->portal (sessions are secrets: zeroed). */
void cloud_portal_free(struct cloud_portal *p);
void cloud_webhook_handle(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs);

/* Route by Host to one of the above; unknown hosts get 421. */
void cloud_dispatch(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs);

#endif
