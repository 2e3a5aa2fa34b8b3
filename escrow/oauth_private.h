/* What the oauth_*.c files share: the client's state and their internal
 * calls. Nothing outside escrow/oauth_*.c includes this. */
#ifndef SSRP_ESCROW_OAUTH_PRIVATE_H
#define SSRP_ESCROW_OAUTH_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "escrow/http_retry.h"
#include "escrow/oauth_client.h"
#include "hal/sign.h"

struct ssrp_oauth {
	ssrp_http *http; /* borrowed */
	char tenant[64];
	char login_host[256];
	char client_id[64];
	ssrp_graph_auth_kind kind;
	char *secret; /* client secret or password; NULL once a refresh token replaces it */
	size_t secret_len;
	char *username;
	char *scope;
	/* The one refresh token: read from refresh_token_file, or returned by
	 * a sign-in; renewed on each use. */
	char *rt;
	size_t rt_len;
	char *rt_file;   /* where each new refresh token is kept; NULL: memory only */
	int rt_required; /* a sign-in that returns none fails (save_refresh_file given) */
	ssrp_graph_prompt_fn prompt;
	void *prompt_ctx;
	unsigned poll_unit_ms;
	ssrp_sign_key *key; /* APP_CERT */
	char x5t[64];
	char *token;
	size_t token_len;
	uint64_t token_refresh_at; /* monotonic ms */
	/* the token endpoint's last Retry-After ran to here (monotonic ms):
	 * no token request is sent before it */
	uint64_t token_not_before;
	ssrp_retry_options opt;
	ssrp_graph_error err;
	ssrp_oauth_stats stats;
	ssrp_oauth_user user;
	int have_user;
	ssrp_graph_token_share *share; /* NULL: a credential of its own */
};

void oauth_free_str(char *s);

/* APP_CERT: the key and the certificate's x5t. */
int oauth_load_cert(ssrp_oauth *o, const char *cert_file, const char *key_file);
/* The client assertion JWT, freed with oauth_free_str; NULL on failure. */
char *oauth_client_assertion(ssrp_oauth *o);

/* POST form to https://LOGIN/TENANT/oauth2/v2.0/<endpoint> under r; the
 * answer's status in o->err.status and its parsed JSON in *out (NULL when
 * not JSON). An error only when no answer came. */
int oauth_post(ssrp_oauth *o, const char *endpoint, const char *form, ssrp_retry *r,
	       cJSON **out);
/* The endpoint's error and the first line of its description into o->err. */
void oauth_read_error(ssrp_oauth *o, const cJSON *answer);
/* A 200 with an access_token: keep it (and its refresh and id tokens),
 * then free answer. t0: when the request went out (monotonic ms). */
int oauth_accept(ssrp_oauth *o, cJSON *answer, uint64_t t0);
/* The device-code sign-in, start to token. */
int oauth_device_code_sign_in(ssrp_oauth *o);

/* " (request-id X)" or "", for messages. */
const char *oauth_rid_open(const ssrp_oauth *o);
const char *oauth_rid_close(const ssrp_oauth *o);

#endif
