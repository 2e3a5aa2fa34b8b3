/* The OAuth 2.0 client of Microsoft's identity platform (the token
 * endpoint, v2.0): it gets and keeps the access token a Graph client sends.
 * Internal; escrow/graph_client.h is its only user and re-exports the types
 * (their ssrp_graph_ names are older than this split).
 *
 * Grants: client secret, certificate assertion (RS256 JWT with the
 * certificate's x5t), a refresh token read from a file (a delegated service
 * account), the password grant (tests and the simulator only) or a
 * device-code sign-in (a person, at a browser). One refresh-token keeper for
 * all of them: the refresh token read from its file or returned by a
 * sign-in is what the next token request renews with, and each new one
 * Entra returns replaces it in memory and in its file (0600, atomically).
 * A token is reused until 5 minutes before it expires.
 *
 * Requests retry per escrow/http_retry.h; a Retry-After the token endpoint
 * gave that outlives the call holds for the next call (and every client of
 * a token share): nothing is sent before it. */
#ifndef SSRP_ESCROW_OAUTH_CLIENT_H
#define SSRP_ESCROW_OAUTH_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "escrow/config.h"
#include "escrow/http_retry.h"
#include "hal/http.h"
#include "ssrp/graph.h"

typedef enum ssrp_graph_auth_kind {
	SSRP_GRAPH_AUTH_APP_SECRET = 1, /* config app_id + app_secret_file */
	SSRP_GRAPH_AUTH_APP_CERT,       /* config app_id + app_cert_file/app_key_file */
	SSRP_GRAPH_AUTH_REFRESH_TOKEN,  /* config public_client_id + refresh_token_file */
	SSRP_GRAPH_AUTH_PASSWORD,       /* public_client_id + username + password_file */
	SSRP_GRAPH_AUTH_DEVICE_CODE,    /* public_client_id; a person signs in in a browser */
} ssrp_graph_auth_kind;

/* DEVICE_CODE: ssrp_graph_prompt_fn (ssrp/graph.h) tells the person where
 * to go and what to type. */

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

/* The service's side of the last failure: the token endpoint's or Graph's. */
typedef struct ssrp_graph_error {
	long status;          /* HTTP status, 0 if none arrived */
	char code[96];        /* Graph's error.code, or the token endpoint's error */
	char message[512];
	char request_id[64];
} ssrp_graph_error;

/* ssrp_graph_token_share: a credential shared by the clients of several
 * threads (public, ssrp/graph.h). */

/* Who signed in, from the id_token of a delegated sign-in (PASSWORD,
 * DEVICE_CODE, REFRESH_TOKEN with openid asked for). Strings are "" when
 * the claim was absent. */
typedef struct ssrp_oauth_user {
	char oid[64];       /* the user's object id */
	char tid[64];       /* the tenant's id */
	char upn[256];      /* preferred_username */
	char name[256];     /* name */
} ssrp_oauth_user;

/* Parse an id_token's claims (header.claims.signature, base64url JSON) and
 * check them against what was asked: iss is
 * "https://LOGIN_HOST/TID/v2.0", aud is client_id, tid is tenant (when
 * tenant is a GUID; a domain or "organizations" matches any), exp not past
 * at now (Unix seconds; 5 minutes' skew allowed). The signature is not
 * checked: see oauth_id_token.c. Strings in out are printable (control
 * characters blanked). */
int ssrp_oauth_id_token_parse(const char *jwt, size_t len, const char *login_host,
			      const char *tenant, const char *client_id, int64_t now,
			      ssrp_oauth_user *out);

typedef struct ssrp_oauth ssrp_oauth;

typedef struct ssrp_oauth_stats {
	unsigned long requests, retries, throttled;
} ssrp_oauth_stats;

/* A client of cfg's tenant on cfg's login host for auth's grant; the scope
 * defaults name resource_host. Requests go over http (borrowed: it must
 * outlive the client) under opt. */
int ssrp_oauth_new(ssrp_oauth **out, const ssrp_cloud_config *cfg, const ssrp_graph_auth *auth,
		   const char *resource_host, const ssrp_retry_options *opt, ssrp_http *http);
void ssrp_oauth_free(ssrp_oauth *o);
void ssrp_oauth_use_share(ssrp_oauth *o, ssrp_graph_token_share *sh);

/* A valid access token in *token (fetched if none is cached or it is due
 * for renewal); it stays valid until the next call on o. On failure
 * ssrp_oauth_last_error() holds the endpoint's words. */
int ssrp_oauth_token(ssrp_oauth *o, const char **token);
/* Forget the cached access token (a 401 said it is no longer good). */
void ssrp_oauth_drop_token(ssrp_oauth *o);
const ssrp_graph_error *ssrp_oauth_last_error(const ssrp_oauth *o);
void ssrp_oauth_get_stats(const ssrp_oauth *o, ssrp_oauth_stats *out);
/* Who signed in, from the latest token answer's id_token; NULL when no
 * answer so far carried one that passed the checks. */
const ssrp_oauth_user *ssrp_oauth_signed_in(const ssrp_oauth *o);

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
