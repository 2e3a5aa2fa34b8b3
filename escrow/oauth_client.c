/* escrow/oauth_client.h: the token endpoint's grants, the token cache and
 * the one refresh-token keeper. */
#include "escrow/oauth_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "escrow/http_retry.h"
#include "escrow/oauth_private.h"
#include "escrow/strutil.h"
#include "hal/clock.h"
#include "hal/fs.h"
#include "hal/http.h"
#include "hal/mem.h"
#include "hal/thread.h"
#include "ssrp/sys/error.h"

#define TOKEN_MARGIN_MS (5u * 60u * 1000u)

/* Clients of one credential in several threads: their token requests go
 * one at a time (a throttled token endpoint then sees each client's wait
 * honoured, never a second client's request inside it), and a rotated
 * refresh token has one keeper, read by the next client that renews. Each
 * client keeps its own access token. */
struct ssrp_graph_token_share {
	ssrp_mutex mu;
	char *rt; /* the newest refresh token */
	size_t rt_len;
	uint64_t not_before; /* a Retry-After one client was given holds for all */
};

void oauth_free_str(char *s)
{
	if (s)
		ssrp_free_secret(s, strlen(s));
}

static int replace_secret(char **dst, size_t *dst_len, const char *src, size_t len)
{
	char *copy = ssrp_malloc(len + 1);
	if (!copy)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	memcpy(copy, src, len);
	copy[len] = '\0';
	if (*dst)
		ssrp_free_secret(*dst, *dst_len);
	*dst = copy;
	*dst_len = len;
	return SSRP_OK;
}

const char *oauth_rid_open(const ssrp_oauth *o)
{
	return o->err.request_id[0] ? " (request-id " : "";
}

const char *oauth_rid_close(const ssrp_oauth *o)
{
	return o->err.request_id[0] ? ")" : "";
}

/* The first line of an AAD error_description ("AADSTS70011: ...\r\nTrace ID..."). */
static void first_line(char *dst, size_t cap, const char *s)
{
	size_t n = strcspn(s, "\r\n");
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

void oauth_read_error(ssrp_oauth *o, const cJSON *answer)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(answer, "error");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(answer, "error_description");
	snprintf(o->err.code, sizeof o->err.code, "%s",
		 cJSON_IsString(e) ? e->valuestring : "unknown_error");
	first_line(o->err.message, sizeof o->err.message,
		   cJSON_IsString(d) ? d->valuestring : "no description");
}

int oauth_post(ssrp_oauth *o, const char *endpoint, const char *form, ssrp_retry *r,
	       cJSON **out)
{
	char url[600];
	snprintf(url, sizeof url, "https://%s/%s/oauth2/v2.0/%s", o->login_host, o->tenant,
		 endpoint);
	const char *headers[] = {"Content-Type: application/x-www-form-urlencoded",
				 "Accept: application/json", NULL};
	ssrp_http_req rq = {.method = "POST", .url = url, .headers = headers, .body = form,
			    .body_len = strlen(form)};
	ssrp_http_resp resp;
	unsigned waits = r->waits, throttled = r->throttled, attempts = r->attempts;
	o->stats.requests++;
	int rc = ssrp_retry_send(r, o->http, &rq, &resp);
	o->stats.retries += r->waits - waits;
	o->stats.throttled += r->throttled - throttled;
	attempts = r->attempts - attempts;
	/* A Retry-After that outlives this call holds for the next one too. */
	if (rc == SSRP_OK && ssrp_retry_status(resp.status) && resp.retry_after >= 0)
		o->token_not_before = ssrp_monotonic_ms() + ssrp_retry_wait_ms(r, resp.retry_after);
	o->err.status = resp.status;
	snprintf(o->err.request_id, sizeof o->err.request_id, "%s", resp.request_id);
	*out = rc ? NULL : cJSON_ParseWithLength(resp.body, resp.body_len);
	ssrp_http_resp_free(&resp);
	if (rc)
		return ssrp_error_prefix(rc, "POST /%s/oauth2/v2.0/%s failed after %u attempt%s",
					 o->tenant, endpoint, attempts, attempts == 1 ? "" : "s");
	return SSRP_OK;
}

/* The form for the configured grant; a secret, freed with oauth_free_str. */
static char *token_form(ssrp_oauth *o, const char **grant)
{
	char *scope = ssrp_http_escape(o->scope);
	char *id = ssrp_http_escape(o->client_id);
	char *form = NULL, *sec = NULL, *user = NULL, *assertion = NULL;
	if (!scope || !id)
		goto out;
	if (o->rt) { /* a refresh token read from its file or given by a sign-in */
		*grant = "refresh_token";
		if ((sec = ssrp_http_escape(o->rt)))
			form = ssrp_strjoin("grant_type=refresh_token&client_id=", id,
					    "&refresh_token=", sec, "&scope=", scope, (char *)NULL);
		goto out;
	}
	switch (o->kind) {
	case SSRP_GRAPH_AUTH_APP_SECRET:
		*grant = "client_credentials";
		if ((sec = ssrp_http_escape(o->secret)))
			form = ssrp_strjoin("grant_type=client_credentials&client_id=", id,
					    "&client_secret=", sec, "&scope=", scope, (char *)NULL);
		break;
	case SSRP_GRAPH_AUTH_APP_CERT:
		*grant = "client_credentials (certificate)";
		if ((assertion = oauth_client_assertion(o)))
			form = ssrp_strjoin("grant_type=client_credentials&client_id=", id,
					    "&client_assertion_type=",
					    "urn%3Aietf%3Aparams%3Aoauth%3A"
					    "client-assertion-type%3Ajwt-bearer",
					    "&client_assertion=", assertion, "&scope=", scope,
					    (char *)NULL);
		break;
	case SSRP_GRAPH_AUTH_PASSWORD:
		*grant = "password";
		if ((sec = ssrp_http_escape(o->secret)) && (user = ssrp_http_escape(o->username)))
			form = ssrp_strjoin("grant_type=password&client_id=", id, "&username=", user,
					    "&password=", sec, "&scope=", scope, (char *)NULL);
		break;
	case SSRP_GRAPH_AUTH_REFRESH_TOKEN: /* rt always set */
	case SSRP_GRAPH_AUTH_DEVICE_CODE:   /* signs in first when rt is unset */
		*grant = "refresh_token";
		break;
	}
out:
	oauth_free_str(sec);
	oauth_free_str(assertion);
	ssrp_free(user);
	ssrp_free(scope);
	ssrp_free(id);
	return form;
}

/* The one refresh-token keeper. Entra returns a refresh token with each
 * delegated token and replaces the old one on use: keep the newest in
 * memory and, when there is a file for it, in that file (atomically, 0600)
 * so the next run has it. A password is not needed any more once a refresh
 * token stands in for it, and is forgotten. */
static int keep_refresh_token(ssrp_oauth *o, cJSON *rt)
{
	if (!cJSON_IsString(rt) || !rt->valuestring[0]) {
		if (o->rt_required && !o->rt)
			return ssrp_error_set(SSRP_E_PERMISSION,
					      "the sign-in returned no refresh token to save in %s "
					      "(was offline_access granted?)",
					      o->rt_file);
		return SSRP_OK;
	}
	size_t n = strlen(rt->valuestring);
	int rc = replace_secret(&o->rt, &o->rt_len, rt->valuestring, n);
	ssrp_free_secret(rt->valuestring, n);
	rt->valuestring = NULL;
	if (rc)
		return rc;
	if (o->kind == SSRP_GRAPH_AUTH_PASSWORD && o->secret) {
		ssrp_free_secret(o->secret, o->secret_len);
		o->secret = NULL;
		o->secret_len = 0;
	}
	if (o->rt_file && (rc = ssrp_fs_write_atomic(o->rt_file, o->rt, o->rt_len, 0600)))
		return ssrp_error_prefix(rc, "cannot keep the refresh token in %s", o->rt_file);
	return SSRP_OK;
}

/* The id_token names who signed in; one that fails the checks is not
 * used (the token itself is still good: Graph checks it). */
static void keep_user(ssrp_oauth *o, cJSON *id_token)
{
	if (!cJSON_IsString(id_token))
		return;
	ssrp_oauth_user u;
	const char *jwt = id_token->valuestring;
	if (ssrp_oauth_id_token_parse(jwt, strlen(jwt), o->login_host, o->tenant, o->client_id,
				      (int64_t)time(NULL), &u) == SSRP_OK) {
		o->user = u;
		o->have_user = 1;
	} else {
		ssrp_error_clear();
	}
	ssrp_free_secret(id_token->valuestring, strlen(jwt));
	id_token->valuestring = NULL;
}

int oauth_accept(ssrp_oauth *o, cJSON *answer, uint64_t t0)
{
	cJSON *at = cJSON_GetObjectItemCaseSensitive(answer, "access_token");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(answer, "expires_in");
	if (!cJSON_IsString(at) || !at->valuestring[0]) {
		cJSON_Delete(answer);
		return ssrp_error_set(SSRP_E_FORMAT,
				      "the token endpoint answered without an access token");
	}
	if (o->kind != SSRP_GRAPH_AUTH_APP_SECRET && o->kind != SSRP_GRAPH_AUTH_APP_CERT) {
		int rc = keep_refresh_token(o, cJSON_GetObjectItemCaseSensitive(answer,
										 "refresh_token"));
		if (rc) {
			cJSON_Delete(answer);
			return rc;
		}
		keep_user(o, cJSON_GetObjectItemCaseSensitive(answer, "id_token"));
	}
	double secs = cJSON_IsNumber(exp)   ? exp->valuedouble
		      : cJSON_IsString(exp) ? strtod(exp->valuestring, NULL)
					    : 3599;
	oauth_free_str(o->token);
	o->token_len = strlen(at->valuestring);
	o->token = ssrp_strdup(at->valuestring);
	/* the parsed copy of the token goes too */
	ssrp_free_secret(at->valuestring, o->token_len);
	at->valuestring = NULL;
	cJSON_Delete(answer);
	if (!o->token)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	uint64_t life = secs > 0 ? (uint64_t)(secs * 1000.0) : 0;
	/* Renew 5 minutes early; a token shorter-lived than that is used once. */
	o->token_refresh_at = t0 + (life > TOKEN_MARGIN_MS ? life - TOKEN_MARGIN_MS : 0);
	return SSRP_OK;
}

static int fetch_token(ssrp_oauth *o)
{
	oauth_free_str(o->token);
	o->token = NULL;
	memset(&o->err, 0, sizeof o->err);
	if (o->kind == SSRP_GRAPH_AUTH_DEVICE_CODE && !o->rt)
		return oauth_device_code_sign_in(o);
	ssrp_retry r;
	ssrp_retry_begin(&r, &o->opt);
	/* A Retry-After that outlived the last call still holds: wait it out
	 * if the deadline allows, else fail without sending. */
	uint64_t now = ssrp_monotonic_ms();
	if (o->token_not_before > now) {
		uint64_t wait = o->token_not_before - now;
		int p = ssrp_retry_pause(&r, (unsigned)wait);
		if (p == 1)
			return ssrp_error_set(SSRP_E_IO,
					      "the token endpoint asked for %llu ms more before the "
					      "next request, beyond this call's deadline",
					      (unsigned long long)wait);
		if (p)
			return p;
	}
	const char *grant = "";
	char *form = token_form(o, &grant);
	if (!form)
		return ssrp_error_set(SSRP_E_NOMEM, "cannot build the token request (%s)", grant);
	uint64_t t0 = ssrp_monotonic_ms();
	cJSON *answer = NULL;
	int rc = oauth_post(o, "token", form, &r, &answer);
	oauth_free_str(form);
	if (rc)
		return ssrp_error_prefix(rc, "token request (%s)", grant);
	cJSON *at = cJSON_GetObjectItemCaseSensitive(answer, "access_token");
	if (o->err.status != 200 || !cJSON_IsString(at)) {
		oauth_read_error(o, answer);
		cJSON_Delete(answer);
		return ssrp_error_set(o->err.status == 400 || o->err.status == 401
					      ? SSRP_E_PERMISSION
					      : SSRP_E_IO,
				      "the token endpoint refused the %s grant (HTTP %ld): %s: %s%s%s%s",
				      grant, o->err.status, o->err.code, o->err.message,
				      oauth_rid_open(o), o->err.request_id, oauth_rid_close(o));
	}
	return oauth_accept(o, answer, t0);
}

/* Under the share's lock: start from the newest refresh token and the
 * latest Retry-After, fetch, leave what this fetch learnt for the next. */
static int shared_token(ssrp_oauth *o)
{
	ssrp_graph_token_share *sh = o->share;
	ssrp_mutex_lock(&sh->mu);
	int rc = SSRP_OK;
	if (sh->not_before > o->token_not_before)
		o->token_not_before = sh->not_before;
	if (sh->rt)
		rc = replace_secret(&o->rt, &o->rt_len, sh->rt, sh->rt_len);
	if (rc == SSRP_OK)
		rc = fetch_token(o);
	if (o->token_not_before > sh->not_before)
		sh->not_before = o->token_not_before;
	if (rc == SSRP_OK && o->rt)
		rc = replace_secret(&sh->rt, &sh->rt_len, o->rt, o->rt_len);
	ssrp_mutex_unlock(&sh->mu);
	return rc;
}

int ssrp_oauth_token(ssrp_oauth *o, const char **token)
{
	if (token)
		*token = NULL;
	if (!o)
		return ssrp_error_set(SSRP_E_INVALID, "oauth: no client");
	int rc = SSRP_OK;
	if (!o->token || ssrp_monotonic_ms() >= o->token_refresh_at)
		rc = o->share ? shared_token(o) : fetch_token(o);
	if (rc == SSRP_OK && token)
		*token = o->token;
	return rc;
}

void ssrp_oauth_drop_token(ssrp_oauth *o)
{
	if (!o)
		return;
	oauth_free_str(o->token);
	o->token = NULL;
}

const ssrp_graph_error *ssrp_oauth_last_error(const ssrp_oauth *o)
{
	return o ? &o->err : NULL;
}

void ssrp_oauth_get_stats(const ssrp_oauth *o, ssrp_oauth_stats *out)
{
	if (o && out)
		*out = o->stats;
}

const ssrp_oauth_user *ssrp_oauth_signed_in(const ssrp_oauth *o)
{
	return o && o->have_user ? &o->user : NULL;
}

int ssrp_graph_token_share_new(ssrp_graph_token_share **out)
{
	*out = ssrp_calloc(1, sizeof **out);
	if (!*out)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	ssrp_mutex_init(&(*out)->mu);
	return SSRP_OK;
}

void ssrp_graph_token_share_free(ssrp_graph_token_share *sh)
{
	if (!sh)
		return;
	ssrp_mutex_destroy(&sh->mu);
	if (sh->rt)
		ssrp_free_secret(sh->rt, sh->rt_len);
	ssrp_free_secret(sh, sizeof *sh);
}

void ssrp_oauth_use_share(ssrp_oauth *o, ssrp_graph_token_share *sh)
{
	if (o)
		o->share = sh;
}

/* ---- the client -------------------------------------------------------------- */

static int credentials(ssrp_oauth *o, const ssrp_cloud_config *cfg, const ssrp_graph_auth *auth)
{
	int rc = SSRP_OK;
	switch (auth->kind) {
	case SSRP_GRAPH_AUTH_APP_SECRET:
		return ssrp_cloud_config_secret(cfg->app_secret_file, &o->secret, &o->secret_len);
	case SSRP_GRAPH_AUTH_APP_CERT:
		return cfg->app_cert_file
			       ? oauth_load_cert(o, cfg->app_cert_file, cfg->app_key_file)
			       : ssrp_error_set(SSRP_E_INVALID,
						"the configuration has no \"app_cert_file\"");
	case SSRP_GRAPH_AUTH_REFRESH_TOKEN:
		rc = ssrp_cloud_config_secret(cfg->refresh_token_file, &o->rt, &o->rt_len);
		if (!rc && !(o->rt_file = ssrp_strdup(cfg->refresh_token_file)))
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		return rc;
	case SSRP_GRAPH_AUTH_PASSWORD:
		if (!auth->username || !auth->password_file)
			return ssrp_error_set(SSRP_E_INVALID,
					      "the password grant needs a user name and a password file");
		rc = ssrp_secret_file_read(auth->password_file, &o->secret, &o->secret_len);
		if (!rc && !(o->username = ssrp_strdup(auth->username)))
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		break;
	case SSRP_GRAPH_AUTH_DEVICE_CODE:
		if (!auth->prompt)
			return ssrp_error_set(SSRP_E_INVALID,
					      "the device-code sign-in needs a way to show its code");
		o->prompt = auth->prompt;
		o->prompt_ctx = auth->prompt_ctx;
		o->poll_unit_ms = auth->poll_unit_ms ? auth->poll_unit_ms : 1000;
		break;
	default:
		return ssrp_error_set(SSRP_E_INVALID, "graph: unknown credential kind %d",
				      (int)auth->kind);
	}
	/* PASSWORD, DEVICE_CODE: where the sign-in's refresh token goes */
	if (!rc && auth->save_refresh_file) {
		o->rt_required = 1;
		if (!(o->rt_file = ssrp_strdup(auth->save_refresh_file)))
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	return rc;
}

int ssrp_oauth_new(ssrp_oauth **out, const ssrp_cloud_config *cfg, const ssrp_graph_auth *auth,
		   const char *resource_host, const ssrp_retry_options *opt, ssrp_http *http)
{
	if (!out || !cfg || !auth || !resource_host || !http)
		return ssrp_error_set(SSRP_E_INVALID, "oauth: no configuration or credentials");
	*out = NULL;
	ssrp_oauth *o = ssrp_calloc(1, sizeof *o);
	if (!o)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	o->http = http;
	ssrp_retry defaults;
	ssrp_retry_begin(&defaults, opt);
	o->opt = defaults.opt;
	o->kind = auth->kind;
	snprintf(o->tenant, sizeof o->tenant, "%s", cfg->tenant_id);
	snprintf(o->login_host, sizeof o->login_host, "%s",
		 cfg->login_host ? cfg->login_host : SSRP_HOST_LOGIN);
	int app = auth->kind == SSRP_GRAPH_AUTH_APP_SECRET || auth->kind == SSRP_GRAPH_AUTH_APP_CERT;
	const char *id = app ? cfg->app_id : cfg->public_client_id;
	int rc = id ? credentials(o, cfg, auth)
		    : ssrp_error_set(SSRP_E_INVALID, "the configuration has no \"%s\"",
				     app ? "app_id" : "public_client_id");
	if (rc)
		goto fail;
	snprintf(o->client_id, sizeof o->client_id, "%s", id);
	if (auth->scope)
		o->scope = ssrp_strdup(auth->scope);
	else if (auth->kind == SSRP_GRAPH_AUTH_DEVICE_CODE || o->rt_required)
		o->scope = ssrp_strjoin("https://", resource_host, "/.default offline_access",
					(char *)NULL);
	else
		o->scope = ssrp_strjoin("https://", resource_host, "/.default", (char *)NULL);
	if (!o->scope) {
		rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		goto fail;
	}
	*out = o;
	return SSRP_OK;
fail:
	ssrp_oauth_free(o);
	return rc;
}

void ssrp_oauth_free(ssrp_oauth *o)
{
	if (!o)
		return;
	if (o->secret)
		ssrp_free_secret(o->secret, o->secret_len);
	if (o->rt)
		ssrp_free_secret(o->rt, o->rt_len);
	oauth_free_str(o->token);
	ssrp_free(o->username);
	ssrp_free(o->scope);
	ssrp_free(o->rt_file);
	ssrp_sign_key_free(o->key);
	ssrp_free_secret(o, sizeof *o);
}
