/* escrow/graph_client.h: tokens, retries, paging and $batch over hal/http. */
#include "escrow/graph_client.h"
#include "escrow/http_retry.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "hal/clock.h"
#include "hal/fs.h"
#include "hal/http.h"
#include "hal/mem.h"
#include "hal/random.h"
#include "hal/sign.h"
#include "hal/thread.h"
#include "hal/text.h"
#include "ssrp/sys/error.h"

#define TOKEN_MARGIN_MS (5u * 60u * 1000u)
#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

struct ssrp_graph {
	ssrp_http *http;
	char tenant[64];
	char login_host[256], graph_host[256];
	char client_id[64];
	ssrp_graph_auth_kind kind;
	char *secret; /* client secret, password or refresh token */
	size_t secret_len;
	char *username;
	char *scope;
	char *refresh_file; /* REFRESH_TOKEN: where a rotated token is written back */
	char *rt;           /* DEVICE_CODE, PASSWORD: the refresh token a sign-in returned */
	size_t rt_len;
	char *save_refresh_file; /* DEVICE_CODE, PASSWORD: where rt is written */
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
	ssrp_graph_options opt;
	ssrp_graph_error err;
	ssrp_graph_stats stats;
	ssrp_graph_token_share *share; /* NULL: a credential of its own */
};

/* Clients of one credential in several threads: their token requests go
 * one at a time (a throttled token endpoint then sees each client's wait
 * honoured, never a second client's request inside it), and a rotated
 * refresh token has one keeper, read by the next client that renews. Each
 * client keeps its own access token: Graph answers and throttles each
 * connection's requests as they come. */
struct ssrp_graph_token_share {
	ssrp_mutex mu;
	char *secret;      /* REFRESH_TOKEN: the newest refresh token */
	size_t secret_len;
	uint64_t not_before; /* a Retry-After one client was given holds for all */
};

/* ---- small helpers ------------------------------------------------------- */

/* Concatenate NULL-terminated pieces into a fresh string. */
static char *concat(const char *first, ...)
{
	va_list ap;
	size_t n = 0;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *))
		n += strlen(s);
	va_end(ap);
	char *o = ssrp_malloc(n + 1), *w = o;
	if (!o)
		return NULL;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *)) {
		size_t l = strlen(s);
		memcpy(w, s, l);
		w += l;
	}
	va_end(ap);
	*w = '\0';
	return o;
}

static void free_secret_str(char *s)
{
	if (s)
		ssrp_free_secret(s, strlen(s));
}

char *ssrp_odata_escape(const char *s)
{
	if (!s)
		return NULL;
	size_t n = 0;
	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 2 : 1;
	char *o = ssrp_malloc(n + 1), *w = o;
	if (!o)
		return NULL;
	for (const char *p = s; *p; p++) {
		*w++ = *p;
		if (*p == '\'')
			*w++ = '\'';
	}
	*w = '\0';
	return o;
}

char *ssrp_graph_filter_eq(const char *prefix, const char *prop, const char *value)
{
	char *lit = ssrp_odata_escape(value);
	char *expr = lit ? concat(prop, " eq '", lit, "'", (char *)NULL) : NULL;
	char *enc = expr ? ssrp_http_escape(expr) : NULL;
	char *out = enc ? concat(prefix, strchr(prefix, '?') ? "&" : "?", "$filter=", enc,
				 (char *)NULL)
			: NULL;
	ssrp_free(lit);
	ssrp_free(expr);
	ssrp_free(enc);
	return out;
}

/* One call's retries on this client's connection, counted in its stats. */
static int exchange(ssrp_graph *g, ssrp_retry *r, ssrp_http_req *rq, ssrp_http_resp *resp)
{
	unsigned waits = r->waits, throttled = r->throttled;
	int rc = ssrp_retry_send(r, g->http, rq, resp);
	g->stats.retries += r->waits - waits;
	g->stats.throttled += r->throttled - throttled;
	return rc;
}

/* ---- tokens ---------------------------------------------------------------- */

static int load_app_cert(ssrp_graph *g, const char *cert_file, const char *key_file)
{
	char *key_text = NULL;
	size_t key_len = 0;
	int rc = ssrp_secret_file_read(key_file, &key_text, &key_len);
	if (rc)
		return rc;
	uint8_t thumb[SSRP_SHA1_LEN];
	rc = ssrp_sign_key_load(&g->key, key_text, key_len, key_file, cert_file, thumb);
	ssrp_free_secret(key_text, key_len);
	if (!rc && ssrp_base64url(thumb, sizeof thumb, g->x5t, sizeof g->x5t) < 0)
		rc = ssrp_error_set(SSRP_E_GENERIC, "cannot write the thumbprint of %s", cert_file);
	return rc;
}

/* The client assertion: header.claims.signature, RS256, valid 10 minutes. */
static char *client_assertion(ssrp_graph *g)
{
	unsigned char jti_raw[16];
	if (ssrp_random_bytes(jti_raw, sizeof jti_raw) != 0)
		return NULL;
	jti_raw[6] = (unsigned char)((jti_raw[6] & 0x0f) | 0x40);
	jti_raw[8] = (unsigned char)((jti_raw[8] & 0x3f) | 0x80);
	char jti[40], aud[512], header[160], claims[1024];
	snprintf(jti, sizeof jti,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 jti_raw[0], jti_raw[1], jti_raw[2], jti_raw[3], jti_raw[4], jti_raw[5],
		 jti_raw[6], jti_raw[7], jti_raw[8], jti_raw[9], jti_raw[10], jti_raw[11],
		 jti_raw[12], jti_raw[13], jti_raw[14], jti_raw[15]);
	snprintf(aud, sizeof aud, "https://%s/%s/oauth2/v2.0/token", g->login_host, g->tenant);
	long long now = (long long)time(NULL);
	snprintf(header, sizeof header, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":\"%s\"}",
		 g->x5t);
	snprintf(claims, sizeof claims,
		 "{\"aud\":\"%s\",\"iss\":\"%s\",\"sub\":\"%s\",\"jti\":\"%s\",\"nbf\":%lld,"
		 "\"iat\":%lld,\"exp\":%lld}",
		 aud, g->client_id, g->client_id, jti, now, now, now + 600);
	char h64[256], c64[1400], sig64[1400];
	unsigned char sig[1024];
	size_t siglen = sizeof sig;
	if (ssrp_base64url((const uint8_t *)header, strlen(header), h64, sizeof h64) < 0 ||
	    ssrp_base64url((const uint8_t *)claims, strlen(claims), c64, sizeof c64) < 0)
		return NULL;
	char *signing = concat(h64, ".", c64, (char *)NULL);
	if (!signing)
		return NULL;
	int ok = ssrp_sign_rs256(g->key, signing, strlen(signing), sig, &siglen) == SSRP_OK &&
		 ssrp_base64url(sig, siglen, sig64, sizeof sig64) >= 0;
	char *jwt = ok ? concat(signing, ".", sig64, (char *)NULL) : NULL;
	ssrp_free(signing);
	return jwt;
}

/* The form for the configured grant; a secret, freed with free_secret_str. */
static char *token_form(ssrp_graph *g, const char **grant)
{
	char *scope = ssrp_http_escape(g->scope);
	char *id = ssrp_http_escape(g->client_id);
	char *form = NULL, *sec = NULL, *user = NULL, *assertion = NULL;
	if (!scope || !id)
		goto out;
	switch (g->kind) {
	case SSRP_GRAPH_AUTH_APP_SECRET:
		*grant = "client_credentials";
		if ((sec = ssrp_http_escape(g->secret)))
			form = concat("grant_type=client_credentials&client_id=", id,
				      "&client_secret=", sec, "&scope=", scope, (char *)NULL);
		break;
	case SSRP_GRAPH_AUTH_APP_CERT:
		*grant = "client_credentials (certificate)";
		if ((assertion = client_assertion(g)))
			form = concat("grant_type=client_credentials&client_id=", id,
				      "&client_assertion_type=", "urn%3Aietf%3Aparams%3Aoauth%3A"
				      "client-assertion-type%3Ajwt-bearer",
				      "&client_assertion=", assertion, "&scope=", scope, (char *)NULL);
		break;
	case SSRP_GRAPH_AUTH_REFRESH_TOKEN:
		*grant = "refresh_token";
		if ((sec = ssrp_http_escape(g->secret)))
			form = concat("grant_type=refresh_token&client_id=", id, "&refresh_token=",
				      sec, "&scope=", scope, (char *)NULL);
		break;
	case SSRP_GRAPH_AUTH_PASSWORD:
	case SSRP_GRAPH_AUTH_DEVICE_CODE:
		if (g->rt) { /* renewing what a sign-in gave */
			*grant = "refresh_token";
			if ((sec = ssrp_http_escape(g->rt)))
				form = concat("grant_type=refresh_token&client_id=", id,
					      "&refresh_token=", sec, "&scope=", scope, (char *)NULL);
			break;
		}
		*grant = "password";
		if (g->kind == SSRP_GRAPH_AUTH_PASSWORD && (sec = ssrp_http_escape(g->secret)) &&
		    (user = ssrp_http_escape(g->username)))
			form = concat("grant_type=password&client_id=", id, "&username=", user,
				      "&password=", sec, "&scope=", scope, (char *)NULL);
		break;
	}
out:
	free_secret_str(sec);
	free_secret_str(assertion);
	ssrp_free(user);
	ssrp_free(scope);
	ssrp_free(id);
	return form;
}

static void clear_err(ssrp_graph *g)
{
	memset(&g->err, 0, sizeof g->err);
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

/* Entra replaces a refresh token on use: keep the new one, in memory and
 * in its file (atomically, 0600), so the next run of the service has it. */
static int keep_rotated_refresh_token(ssrp_graph *g, cJSON *rt)
{
	if (!cJSON_IsString(rt) || !rt->valuestring[0])
		return SSRP_OK;
	size_t n = strlen(rt->valuestring);
	char *copy = ssrp_strdup(rt->valuestring);
	ssrp_free_secret(rt->valuestring, n);
	rt->valuestring = NULL;
	if (!copy)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	ssrp_free_secret(g->secret, g->secret_len);
	g->secret = copy;
	g->secret_len = n;
	int rc = ssrp_fs_write_atomic(g->refresh_file, copy, n, 0600);
	if (rc)
		return ssrp_error_prefix(rc, "cannot keep the renewed refresh token");
	return SSRP_OK;
}

/* DEVICE_CODE, PASSWORD: keep the refresh token a sign-in returned (and
 * each renewed one) in memory and, when asked, in save_refresh_file. A
 * PASSWORD client then needs the password no more and forgets it. */
static int keep_signin_refresh_token(ssrp_graph *g, cJSON *rt)
{
	if (!cJSON_IsString(rt) || !rt->valuestring[0]) {
		if (g->save_refresh_file && !g->rt)
			return ssrp_error_set(SSRP_E_PERMISSION,
					      "the sign-in returned no refresh token to save in %s "
					      "(was offline_access granted?)",
					      g->save_refresh_file);
		return SSRP_OK;
	}
	size_t n = strlen(rt->valuestring);
	char *copy = ssrp_strdup(rt->valuestring);
	ssrp_free_secret(rt->valuestring, n);
	rt->valuestring = NULL;
	if (!copy)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	if (g->rt)
		ssrp_free_secret(g->rt, g->rt_len);
	g->rt = copy;
	g->rt_len = n;
	if (g->kind == SSRP_GRAPH_AUTH_PASSWORD && g->secret) {
		ssrp_free_secret(g->secret, g->secret_len);
		g->secret = NULL;
		g->secret_len = 0;
	}
	if (g->save_refresh_file) {
		int rc = ssrp_fs_write_atomic(g->save_refresh_file, copy, n, 0600);
		if (rc)
			return ssrp_error_prefix(rc, "cannot save the refresh token in %s",
						 g->save_refresh_file);
	}
	return SSRP_OK;
}

/* ---- device-code sign-in -------------------------------------------------------- */

/* Copy s into dst, control characters (terminal escapes) made spaces. */
static void copy_printable(char *dst, size_t cap, const char *s)
{
	size_t i = 0;
	for (; s[i] && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	dst[i] = '\0';
}

static int plain_token(const char *s, size_t cap)
{
	size_t n = 0;
	for (; s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
			return 0;
	return n > 0 && n < cap;
}

static unsigned seconds_member(const cJSON *o, const char *name, unsigned dflt, unsigned lo,
			       unsigned hi)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	double d = cJSON_IsNumber(v)   ? v->valuedouble
		   : cJSON_IsString(v) ? strtod(v->valuestring, NULL)
				       : (double)dflt;
	if (!(d >= lo)) /* NaN too */
		return v ? lo : dflt;
	return d > hi ? hi : (unsigned)d;
}

void ssrp_graph_devicecode_clear(ssrp_graph_devicecode *dc)
{
	if (!dc)
		return;
	free_secret_str(dc->device_code);
	ssrp_memzero(dc, sizeof *dc);
}

int ssrp_graph_devicecode_parse(const char *body, size_t len, ssrp_graph_devicecode *out)
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "graph: nowhere to put the device code");
	memset(out, 0, sizeof *out);
	cJSON *o = body ? cJSON_ParseWithLength(body, len) : NULL;
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return ssrp_error_set(SSRP_E_FORMAT,
				      "the device-code answer of the sign-in service is not a JSON object");
	}
	cJSON *dcode = cJSON_GetObjectItemCaseSensitive(o, "device_code");
	const cJSON *ucode = cJSON_GetObjectItemCaseSensitive(o, "user_code");
	const cJSON *uri = cJSON_GetObjectItemCaseSensitive(o, "verification_uri");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, "message");
	int rc = SSRP_OK;
	if (!cJSON_IsString(dcode) || !plain_token(dcode->valuestring, 8192))
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    "the device-code answer has no usable \"device_code\"");
	else if (!cJSON_IsString(ucode) || !plain_token(ucode->valuestring, sizeof out->user_code))
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    "the device-code answer has no usable \"user_code\" (printable, "
				    "at most %zu characters)",
				    sizeof out->user_code - 1);
	else if (!cJSON_IsString(uri) || strncmp(uri->valuestring, "https://", 8) ||
		 !plain_token(uri->valuestring, sizeof out->verification_uri))
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    "the device-code answer has no usable \"verification_uri\" (an "
				    "https URL)");
	if (!rc) {
		snprintf(out->user_code, sizeof out->user_code, "%s", ucode->valuestring);
		snprintf(out->verification_uri, sizeof out->verification_uri, "%s",
			 uri->valuestring);
		copy_printable(out->message, sizeof out->message,
			       cJSON_IsString(msg) ? msg->valuestring : "");
		out->expires_in = seconds_member(o, "expires_in", 900, 1, 86400);
		out->interval = seconds_member(o, "interval", 5, 1, 60);
		size_t n = strlen(dcode->valuestring);
		out->device_code = ssrp_strdup(dcode->valuestring);
		ssrp_memzero(dcode->valuestring, n);
		if (!out->device_code)
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	} else if (cJSON_IsString(dcode)) {
		ssrp_memzero(dcode->valuestring, strlen(dcode->valuestring));
	}
	cJSON_Delete(o);
	if (rc)
		ssrp_graph_devicecode_clear(out);
	return rc;
}

ssrp_graph_poll ssrp_graph_devicecode_poll_classify(long status, const cJSON *answer)
{
	if (status == 200) {
		const cJSON *at = cJSON_GetObjectItemCaseSensitive(answer, "access_token");
		return cJSON_IsString(at) && at->valuestring[0] ? SSRP_GRAPH_POLL_DONE
								: SSRP_GRAPH_POLL_ERROR;
	}
	if (status != 400 && status != 401 && status != 403)
		return SSRP_GRAPH_POLL_ERROR;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(answer, "error");
	if (!cJSON_IsString(e))
		return SSRP_GRAPH_POLL_ERROR;
	const char *c = e->valuestring;
	if (!strcmp(c, "authorization_pending"))
		return SSRP_GRAPH_POLL_PENDING;
	if (!strcmp(c, "slow_down"))
		return SSRP_GRAPH_POLL_SLOW_DOWN;
	if (!strcmp(c, "expired_token") || !strcmp(c, "code_expired"))
		return SSRP_GRAPH_POLL_EXPIRED;
	if (!strcmp(c, "access_denied") || !strcmp(c, "authorization_declined"))
		return SSRP_GRAPH_POLL_DENIED;
	return SSRP_GRAPH_POLL_ERROR;
}

/* The token endpoint's error and first description line into g->err. */
static void read_token_error(ssrp_graph *g, const cJSON *o)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "error_description");
	snprintf(g->err.code, sizeof g->err.code, "%s",
		 cJSON_IsString(e) ? e->valuestring : "unknown_error");
	first_line(g->err.message, sizeof g->err.message,
		   cJSON_IsString(d) ? d->valuestring : "no description");
}

static int accept_token(ssrp_graph *g, cJSON *o, uint64_t t0);

/* POST form to the login host's path; the answer parsed (NULL if not JSON). */
static int login_post(ssrp_graph *g, const char *path, const char *form, ssrp_retry *r,
		      cJSON **out)
{
	char url[600];
	snprintf(url, sizeof url, "https://%s/%s/oauth2/v2.0/%s", g->login_host, g->tenant, path);
	const char *headers[] = {"Content-Type: application/x-www-form-urlencoded",
				 "Accept: application/json", NULL};
	ssrp_http_req rq = {.method = "POST", .url = url, .headers = headers, .body = form,
			    .body_len = strlen(form)};
	ssrp_http_resp resp;
	g->stats.token_requests++;
	int rc = exchange(g, r, &rq, &resp);
	unsigned attempts = r->attempts;
	g->err.status = resp.status;
	snprintf(g->err.request_id, sizeof g->err.request_id, "%s", resp.request_id);
	*out = rc ? NULL : cJSON_ParseWithLength(resp.body, resp.body_len);
	ssrp_http_resp_free(&resp);
	if (rc)
		return ssrp_error_prefix(rc, "POST /%s/oauth2/v2.0/%s failed after %u attempt%s",
					 g->tenant, path, attempts, attempts == 1 ? "" : "s");
	return SSRP_OK;
}

static const char *rid_open(const ssrp_graph *g)
{
	return g->err.request_id[0] ? " (request-id " : "";
}

static const char *rid_close(const ssrp_graph *g)
{
	return g->err.request_id[0] ? ")" : "";
}

static int device_code_sign_in(ssrp_graph *g)
{
	uint64_t t0 = ssrp_monotonic_ms();
	char *scope = ssrp_http_escape(g->scope);
	char *id = ssrp_http_escape(g->client_id);
	char *form = scope && id ? concat("client_id=", id, "&scope=", scope, (char *)NULL) : NULL;
	ssrp_free(scope);
	if (!form) {
		ssrp_free(id);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	cJSON *o = NULL;
	ssrp_retry r;
	ssrp_retry_begin(&r, &g->opt);
	int rc = login_post(g, "devicecode", form, &r, &o);
	ssrp_free(form);
	if (rc) {
		ssrp_free(id);
		return ssrp_error_prefix(rc, "cannot start the device-code sign-in");
	}
	if (g->err.status != 200) {
		read_token_error(g, o);
		cJSON_Delete(o);
		ssrp_free(id);
		return ssrp_error_set(g->err.status == 400 || g->err.status == 401 ? SSRP_E_PERMISSION
										  : SSRP_E_IO,
				      "the sign-in service refused to start a device-code sign-in "
				      "(HTTP %ld): %s: %s%s%s%s",
				      g->err.status, g->err.code, g->err.message, rid_open(g),
				      g->err.request_id, rid_close(g));
	}
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	ssrp_graph_devicecode dc;
	rc = text ? ssrp_graph_devicecode_parse(text, strlen(text), &dc)
		  : ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	free_secret_str(text);
	if (rc) {
		ssrp_free(id);
		return rc;
	}
	char *code = ssrp_http_escape(dc.device_code);
	form = code ? concat("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
			     "&client_id=", id, "&device_code=", code, (char *)NULL)
		    : NULL;
	free_secret_str(code);
	ssrp_free(id);
	if (!form) {
		ssrp_graph_devicecode_clear(&dc);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	g->prompt(dc.verification_uri, dc.user_code, dc.message, g->prompt_ctx);
	uint64_t unit = g->poll_unit_ms, interval = dc.interval;
	uint64_t expires_at = t0 + (uint64_t)dc.expires_in * unit;
	for (;;) {
		uint64_t wait = interval * unit, now = ssrp_monotonic_ms();
		if (now + wait >= expires_at) {
			rc = ssrp_error_set(SSRP_E_PERMISSION,
					    "nobody completed the sign-in with the code %s at %s "
					    "within %u minute%s; run the command again for a new code",
					    dc.user_code, dc.verification_uri,
					    (dc.expires_in + 59) / 60, dc.expires_in > 60 ? "s" : "");
			break;
		}
		ssrp_sleep_ms((unsigned)wait);
		ssrp_retry_begin(&r, &g->opt);
		if (r.deadline > expires_at)
			r.deadline = expires_at;
		rc = login_post(g, "token", form, &r, &o);
		if (rc) {
			rc = ssrp_error_prefix(rc, "waiting for the device-code sign-in");
			break;
		}
		ssrp_graph_poll p = ssrp_graph_devicecode_poll_classify(g->err.status, o);
		if (p == SSRP_GRAPH_POLL_DONE) {
			rc = accept_token(g, o, ssrp_monotonic_ms());
			break;
		}
		read_token_error(g, o);
		cJSON_Delete(o);
		if (p == SSRP_GRAPH_POLL_PENDING)
			continue;
		if (p == SSRP_GRAPH_POLL_SLOW_DOWN) {
			interval += 5;
			continue;
		}
		if (p == SSRP_GRAPH_POLL_EXPIRED)
			rc = ssrp_error_set(SSRP_E_PERMISSION,
					    "the sign-in code %s expired before the sign-in at %s was "
					    "completed; run the command again for a new code",
					    dc.user_code, dc.verification_uri);
		else if (p == SSRP_GRAPH_POLL_DENIED)
			rc = ssrp_error_set(SSRP_E_PERMISSION,
					    "the sign-in with the code %s was declined at %s: %s",
					    dc.user_code, dc.verification_uri, g->err.message);
		else
			rc = ssrp_error_set(g->err.status >= 400 && g->err.status < 500
						    ? SSRP_E_PERMISSION
						    : SSRP_E_IO,
					    "the token endpoint refused the device-code sign-in (HTTP "
					    "%ld): %s: %s%s%s%s",
					    g->err.status, g->err.code, g->err.message, rid_open(g),
					    g->err.request_id, rid_close(g));
		break;
	}
	free_secret_str(form);
	ssrp_graph_devicecode_clear(&dc);
	return rc;
}

/* A 200 from the token endpoint with an access_token: keep the token (and
 * any refresh token, per the kind), then free o. */
static int accept_token(ssrp_graph *g, cJSON *o, uint64_t t0)
{
	cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "access_token");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(o, "expires_in");
	if (!cJSON_IsString(at) || !at->valuestring[0]) {
		cJSON_Delete(o);
		return ssrp_error_set(SSRP_E_FORMAT, "the token endpoint answered without an access token");
	}
	if (g->kind == SSRP_GRAPH_AUTH_REFRESH_TOKEN) {
		cJSON *rt = cJSON_GetObjectItemCaseSensitive(o, "refresh_token");
		int keep_rc = keep_rotated_refresh_token(g, rt);
		if (keep_rc) {
			cJSON_Delete(o);
			return keep_rc;
		}
	} else if (g->kind == SSRP_GRAPH_AUTH_PASSWORD || g->kind == SSRP_GRAPH_AUTH_DEVICE_CODE) {
		cJSON *rt = cJSON_GetObjectItemCaseSensitive(o, "refresh_token");
		int keep_rc = keep_signin_refresh_token(g, rt);
		if (keep_rc) {
			cJSON_Delete(o);
			return keep_rc;
		}
	}
	double secs = cJSON_IsNumber(exp) ? exp->valuedouble
		      : cJSON_IsString(exp) ? strtod(exp->valuestring, NULL)
					    : 3599;
	free_secret_str(g->token);
	g->token_len = strlen(at->valuestring);
	g->token = ssrp_strdup(at->valuestring);
	/* the parsed copy of the token goes too */
	ssrp_free_secret(at->valuestring, g->token_len);
	at->valuestring = NULL;
	cJSON_Delete(o);
	if (!g->token)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	uint64_t life = secs > 0 ? (uint64_t)(secs * 1000.0) : 0;
	/* Renew 5 minutes early; a token shorter-lived than that is used once. */
	g->token_refresh_at = t0 + (life > TOKEN_MARGIN_MS ? life - TOKEN_MARGIN_MS : 0);
	return SSRP_OK;
}

static int fetch_token(ssrp_graph *g)
{
	free_secret_str(g->token);
	g->token = NULL;
	clear_err(g);
	if (g->kind == SSRP_GRAPH_AUTH_DEVICE_CODE && !g->rt)
		return device_code_sign_in(g);
	/* A Retry-After that outlived the last call still holds: wait it out
	 * if the deadline allows, else fail without sending. */
	ssrp_retry r;
	ssrp_retry_begin(&r, &g->opt);
	uint64_t now = ssrp_monotonic_ms();
	if (g->token_not_before > now) {
		uint64_t wait = g->token_not_before - now;
		if (now + wait >= r.deadline)
			return ssrp_error_set(SSRP_E_IO,
					      "the token endpoint asked for %llu ms more before the "
					      "next request, beyond this call's deadline",
					      (unsigned long long)wait);
		ssrp_sleep_ms((unsigned)wait);
	}
	const char *grant = "";
	char *form = token_form(g, &grant);
	char url[600];
	snprintf(url, sizeof url, "https://%s/%s/oauth2/v2.0/token", g->login_host, g->tenant);
	if (!form)
		return ssrp_error_set(SSRP_E_NOMEM, "cannot build the token request (%s)", grant);
	const char *headers[] = {"Content-Type: application/x-www-form-urlencoded",
				 "Accept: application/json", NULL};
	ssrp_http_req rq = {.method = "POST", .url = url, .headers = headers, .body = form,
			    .body_len = strlen(form)};
	ssrp_http_resp resp;
	uint64_t t0 = ssrp_monotonic_ms();
	g->stats.token_requests++;
	int rc = exchange(g, &r, &rq, &resp);
	unsigned attempts = r.attempts;
	free_secret_str(form);
	if (rc == SSRP_OK && ssrp_retry_status(resp.status) && resp.retry_after >= 0)
		g->token_not_before = ssrp_monotonic_ms() + ssrp_retry_wait_ms(&r, resp.retry_after);
	g->err.status = resp.status;
	snprintf(g->err.request_id, sizeof g->err.request_id, "%s", resp.request_id);
	if (rc) {
		ssrp_http_resp_free(&resp);
		return ssrp_error_prefix(rc, "token request (%s) failed after %u attempt%s", grant,
					 attempts, attempts == 1 ? "" : "s");
	}
	cJSON *o = cJSON_ParseWithLength(resp.body, resp.body_len);
	ssrp_http_resp_free(&resp);
	cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "access_token");
	if (g->err.status != 200 || !cJSON_IsString(at)) {
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "error_description");
		snprintf(g->err.code, sizeof g->err.code, "%s",
			 cJSON_IsString(e) ? e->valuestring : "unknown_error");
		first_line(g->err.message, sizeof g->err.message,
			   cJSON_IsString(d) ? d->valuestring : "no description");
		cJSON_Delete(o);
		return ssrp_error_set(g->err.status == 400 || g->err.status == 401
					      ? SSRP_E_PERMISSION
					      : SSRP_E_IO,
				      "the token endpoint refused the %s grant (HTTP %ld): %s: %s%s%s%s",
				      grant, g->err.status, g->err.code, g->err.message,
				      g->err.request_id[0] ? " (request-id " : "", g->err.request_id,
				      g->err.request_id[0] ? ")" : "");
	}
	return accept_token(g, o, t0);
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

/* Under the share's lock: start from the newest refresh token, fetch,
 * keep the refresh token the answer rotated in. */
static int shared_token(ssrp_graph *g)
{
	ssrp_graph_token_share *sh = g->share;
	ssrp_mutex_lock(&sh->mu);
	int rc = SSRP_OK;
	if (sh->not_before > g->token_not_before)
		g->token_not_before = sh->not_before;
	if (g->kind == SSRP_GRAPH_AUTH_REFRESH_TOKEN && sh->secret)
		rc = replace_secret(&g->secret, &g->secret_len, sh->secret, sh->secret_len);
	if (rc == SSRP_OK)
		rc = fetch_token(g);
	if (g->token_not_before > sh->not_before)
		sh->not_before = g->token_not_before;
	if (rc == SSRP_OK && g->kind == SSRP_GRAPH_AUTH_REFRESH_TOKEN && g->secret)
		rc = replace_secret(&sh->secret, &sh->secret_len, g->secret, g->secret_len);
	ssrp_mutex_unlock(&sh->mu);
	return rc;
}

int ssrp_graph_token(ssrp_graph *g)
{
	if (!g)
		return ssrp_error_set(SSRP_E_INVALID, "graph: no client");
	if (g->token && ssrp_monotonic_ms() < g->token_refresh_at)
		return SSRP_OK;
	if (g->share)
		return shared_token(g);
	return fetch_token(g);
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
	if (sh->secret)
		ssrp_free_secret(sh->secret, sh->secret_len);
	ssrp_free_secret(sh, sizeof *sh);
}

void ssrp_graph_use_token_share(ssrp_graph *g, ssrp_graph_token_share *sh)
{
	if (g)
		g->share = sh;
}

/* ---- the client -------------------------------------------------------------- */

int ssrp_graph_new(ssrp_graph **out, const ssrp_cloud_config *cfg, const ssrp_graph_auth *auth,
		   const ssrp_graph_options *opt)
{
	if (!out || !cfg || !auth)
		return ssrp_error_set(SSRP_E_INVALID, "graph: no configuration or credentials");
	*out = NULL;
	ssrp_graph *g = ssrp_calloc(1, sizeof *g);
	if (!g)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	ssrp_retry defaults;
	ssrp_retry_begin(&defaults, opt);
	g->opt = defaults.opt;
	g->kind = auth->kind;
	snprintf(g->tenant, sizeof g->tenant, "%s", cfg->tenant_id);
	snprintf(g->login_host, sizeof g->login_host, "%s",
		 cfg->login_host ? cfg->login_host : SSRP_HOST_LOGIN);
	snprintf(g->graph_host, sizeof g->graph_host, "%s",
		 cfg->graph_host ? cfg->graph_host : SSRP_HOST_GRAPH);
	int rc = SSRP_OK;
	int app = auth->kind == SSRP_GRAPH_AUTH_APP_SECRET || auth->kind == SSRP_GRAPH_AUTH_APP_CERT;
	const char *id = app ? cfg->app_id : cfg->public_client_id;
	if (!id) {
		rc = ssrp_error_set(SSRP_E_INVALID, "the configuration has no \"%s\"",
				    app ? "app_id" : "public_client_id");
		goto fail;
	}
	snprintf(g->client_id, sizeof g->client_id, "%s", id);
	switch (auth->kind) {
	case SSRP_GRAPH_AUTH_APP_SECRET:
		rc = ssrp_cloud_config_secret(cfg->app_secret_file, &g->secret, &g->secret_len);
		break;
	case SSRP_GRAPH_AUTH_APP_CERT:
		rc = cfg->app_cert_file
			     ? load_app_cert(g, cfg->app_cert_file, cfg->app_key_file)
			     : ssrp_error_set(SSRP_E_INVALID,
					      "the configuration has no \"app_cert_file\"");
		break;
	case SSRP_GRAPH_AUTH_REFRESH_TOKEN:
		rc = ssrp_cloud_config_secret(cfg->refresh_token_file, &g->secret, &g->secret_len);
		if (!rc && !(g->refresh_file = ssrp_strdup(cfg->refresh_token_file)))
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		break;
	case SSRP_GRAPH_AUTH_PASSWORD:
		if (!auth->username || !auth->password_file) {
			rc = ssrp_error_set(SSRP_E_INVALID,
					    "the password grant needs a user name and a password file");
			break;
		}
		rc = ssrp_secret_file_read(auth->password_file, &g->secret, &g->secret_len);
		if (!rc && !(g->username = ssrp_strdup(auth->username)))
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		break;
	case SSRP_GRAPH_AUTH_DEVICE_CODE:
		if (!auth->prompt)
			rc = ssrp_error_set(SSRP_E_INVALID,
					    "the device-code sign-in needs a way to show its code");
		g->prompt = auth->prompt;
		g->prompt_ctx = auth->prompt_ctx;
		g->poll_unit_ms = auth->poll_unit_ms ? auth->poll_unit_ms : 1000;
		break;
	default:
		rc = ssrp_error_set(SSRP_E_INVALID, "graph: unknown credential kind %d",
				    (int)auth->kind);
	}
	int signin = auth->kind == SSRP_GRAPH_AUTH_PASSWORD ||
		     auth->kind == SSRP_GRAPH_AUTH_DEVICE_CODE;
	if (!rc && signin && auth->save_refresh_file &&
	    !(g->save_refresh_file = ssrp_strdup(auth->save_refresh_file)))
		rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	if (rc)
		goto fail;
	if (auth->scope)
		g->scope = ssrp_strdup(auth->scope);
	else if (auth->kind == SSRP_GRAPH_AUTH_DEVICE_CODE || g->save_refresh_file)
		g->scope = concat("https://", g->graph_host, "/.default offline_access",
				  (char *)NULL);
	else
		g->scope = concat("https://", g->graph_host, "/.default", (char *)NULL);
	if (!g->scope) {
		rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		goto fail;
	}
	ssrp_http_options ho = {.ca_file = cfg->ca_file,
				.connect_to = (const char *const *)cfg->connect_to,
				.timeout_ms = g->opt.timeout_ms};
	if ((rc = ssrp_http_new(&g->http, &ho)))
		goto fail;
	*out = g;
	return SSRP_OK;
fail:
	ssrp_graph_free(g);
	return rc;
}

void ssrp_graph_free(ssrp_graph *g)
{
	if (!g)
		return;
	ssrp_http_free(g->http);
	if (g->secret)
		ssrp_free_secret(g->secret, g->secret_len);
	free_secret_str(g->token);
	ssrp_free(g->username);
	ssrp_free(g->scope);
	ssrp_free(g->refresh_file);
	if (g->rt)
		ssrp_free_secret(g->rt, g->rt_len);
	ssrp_free(g->save_refresh_file);
	ssrp_sign_key_free(g->key);
	ssrp_free_secret(g, sizeof *g);
}

const ssrp_graph_error *ssrp_graph_last_error(const ssrp_graph *g)
{
	return g ? &g->err : NULL;
}

void ssrp_graph_get_stats(const ssrp_graph *g, ssrp_graph_stats *out)
{
	if (g && out)
		*out = g->stats;
}

/* path → full URL on the Graph host, or NULL (refused) */
static char *graph_url(const ssrp_graph *g, const char *path)
{
	if (path[0] == '/')
		return concat("https://", g->graph_host, path, (char *)NULL);
	size_t hl = strlen(g->graph_host);
	if (!strncmp(path, "https://", 8) && !strncmp(path + 8, g->graph_host, hl) &&
	    path[8 + hl] == '/')
		return ssrp_strdup(path);
	return NULL;
}

/* "/v1.0/devices" from a path or URL, for messages: no host, no query. */
static void shown_path(const ssrp_graph *g, const char *path, char *out, size_t cap)
{
	if (!strncmp(path, "https://", 8))
		path += 8 + strlen(g->graph_host);
	size_t n = strcspn(path, "?");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, path, n);
	out[n] = '\0';
}

static void read_graph_error(ssrp_graph *g, const ssrp_http_resp *resp)
{
	g->err.status = resp->status;
	snprintf(g->err.request_id, sizeof g->err.request_id, "%s", resp->request_id);
	cJSON *o = cJSON_ParseWithLength(resp->body, resp->body_len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
	const cJSON *inner = cJSON_GetObjectItemCaseSensitive(e, "innerError");
	const cJSON *rid = cJSON_GetObjectItemCaseSensitive(inner, "request-id");
	snprintf(g->err.code, sizeof g->err.code, "%s",
		 cJSON_IsString(code) ? code->valuestring : "HTTP error");
	snprintf(g->err.message, sizeof g->err.message, "%s",
		 cJSON_IsString(msg) ? msg->valuestring : "no error message in the answer");
	if (!g->err.request_id[0] && cJSON_IsString(rid))
		snprintf(g->err.request_id, sizeof g->err.request_id, "%s", rid->valuestring);
	cJSON_Delete(o);
}

static int status_code(long st)
{
	if (st == 404)
		return SSRP_E_NOTFOUND;
	if (st == 401 || st == 403)
		return SSRP_E_PERMISSION;
	if (st >= 400 && st < 500 && st != 429)
		return SSRP_E_INVALID;
	return SSRP_E_IO;
}

int ssrp_graph_request(ssrp_graph *g, const char *method, const char *path, const cJSON *body,
		       long *status, cJSON **out)
{
	if (out)
		*out = NULL;
	if (status)
		*status = 0;
	if (!g || !method || !path)
		return ssrp_error_set(SSRP_E_INVALID, "graph: a request needs a method and a path");
	clear_err(g);
	char shown[256];
	shown_path(g, path, shown, sizeof shown);
	char *url = graph_url(g, path);
	if (!url)
		return ssrp_error_set(SSRP_E_INVALID,
				      "refusing to send a Graph token to %.200s: not on %s", path,
				      g->graph_host);
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	if (body && !text) {
		ssrp_free(url);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	ssrp_retry r;
	ssrp_retry_begin(&r, &g->opt);
	ssrp_http_resp resp = {0};
	int rc = SSRP_OK, token_failed = 0;
	/* A second pass only after a 401: the cached token may have been revoked
	 * or expired early. */
	for (int pass = 0; pass < 2; pass++) {
		if ((rc = ssrp_graph_token(g))) {
			token_failed = 1;
			break;
		}
		char *auth = concat("Authorization: Bearer ", g->token, (char *)NULL);
		if (!auth) {
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
			break;
		}
		const char *headers[] = {auth, "Accept: application/json",
					 "ocp-client-name: ssrp", "ocp-client-version: 0.1",
					 text ? "Content-Type: application/json" : NULL, NULL};
		ssrp_http_req rq = {.method = method, .url = url, .headers = headers, .body = text,
				    .body_len = text ? strlen(text) : 0};
		g->stats.graph_requests++;
		rc = exchange(g, &r, &rq, &resp);
		free_secret_str(auth);
		if (rc == SSRP_OK && resp.status == 401 && pass == 0) {
			free_secret_str(g->token);
			g->token = NULL;
			ssrp_http_resp_free(&resp);
			continue;
		}
		break;
	}
	if (text)
		ssrp_free_secret(text, strlen(text));
	ssrp_free(url);
	unsigned attempts = r.attempts;
	if (rc) {
		ssrp_http_resp_free(&resp);
		if (token_failed) /* its message already says what happened */
			return rc;
		return ssrp_error_prefix(rc, "Graph request %s %s failed after %u attempt%s",
					 method, shown, attempts, attempts == 1 ? "" : "s");
	}
	if (status)
		*status = resp.status;
	if (resp.status < 200 || resp.status > 299) {
		read_graph_error(g, &resp);
		ssrp_http_resp_free(&resp);
		char tail[64] = "";
		if (attempts > 1)
			snprintf(tail, sizeof tail, " after %u attempts", attempts);
		return ssrp_error_set(status_code(g->err.status),
				      "Graph refused %s %s: %s: %s (request-id %s)%s", method, shown,
				      g->err.code, g->err.message,
				      g->err.request_id[0] ? g->err.request_id : "none", tail);
	}
	if (out && resp.body_len) {
		*out = cJSON_ParseWithLength(resp.body, resp.body_len);
		if (!*out) {
			g->err.status = resp.status;
			snprintf(g->err.request_id, sizeof g->err.request_id, "%s", resp.request_id);
			ssrp_http_resp_free(&resp);
			return ssrp_error_set(SSRP_E_FORMAT,
					      "Graph answered %s %s with a body that is not JSON "
					      "(request-id %s)",
					      method, shown, g->err.request_id);
		}
	}
	ssrp_http_resp_free(&resp);
	return SSRP_OK;
}

int ssrp_graph_get(ssrp_graph *g, const char *path, cJSON **out)
{
	return ssrp_graph_request(g, "GET", path, NULL, NULL, out);
}

int ssrp_graph_post(ssrp_graph *g, const char *path, const cJSON *body, cJSON **out)
{
	return ssrp_graph_request(g, "POST", path, body, NULL, out);
}

int ssrp_graph_delete(ssrp_graph *g, const char *path)
{
	return ssrp_graph_request(g, "DELETE", path, NULL, NULL, NULL);
}

int ssrp_graph_add_ref(ssrp_graph *g, const char *ref_path, const char *object_id, int *already)
{
	if (already)
		*already = 0;
	if (!g || !ref_path || !object_id)
		return ssrp_error_set(SSRP_E_INVALID, "graph: add_ref needs a path and an object id");
	char *ref = concat("https://", g->graph_host, "/v1.0/directoryObjects/", object_id,
			   (char *)NULL);
	cJSON *body = cJSON_CreateObject();
	int rc = (!ref || !body || !cJSON_AddStringToObject(body, "@odata.id", ref))
			 ? ssrp_error_set(SSRP_E_NOMEM, "out of memory")
			 : ssrp_graph_request(g, "POST", ref_path, body, NULL, NULL);
	cJSON_Delete(body);
	ssrp_free(ref);
	/* Graph's answer to a duplicate: 400 Request_BadRequest "One or more
	 * added object references already exist ...". */
	if (rc == SSRP_E_INVALID && g->err.status == 400 &&
	    strstr(g->err.message, "already exist")) {
		if (already)
			*already = 1;
		ssrp_error_clear();
		return SSRP_OK;
	}
	return rc;
}

int ssrp_graph_list(ssrp_graph *g, const char *path, ssrp_graph_item_fn fn, void *ctx)
{
	if (!g || !path || !fn)
		return ssrp_error_set(SSRP_E_INVALID, "graph: list needs a path and a callback");
	char *next = ssrp_strdup(path);
	int rc = next ? SSRP_OK : ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	while (!rc && next) {
		cJSON *page = NULL;
		rc = ssrp_graph_get(g, next, &page);
		ssrp_free(next);
		next = NULL;
		if (rc)
			break;
		const cJSON *value = cJSON_GetObjectItemCaseSensitive(page, "value");
		if (!cJSON_IsArray(value)) {
			cJSON_Delete(page);
			rc = ssrp_error_set(SSRP_E_FORMAT, "Graph answered a list with no \"value\" array");
			break;
		}
		const cJSON *it;
		cJSON_ArrayForEach(it, value) {
			if ((rc = fn(it, ctx)))
				break;
		}
		const cJSON *nl = cJSON_GetObjectItemCaseSensitive(page, "@odata.nextLink");
		if (!rc && cJSON_IsString(nl) && !(next = ssrp_strdup(nl->valuestring)))
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		cJSON_Delete(page);
	}
	ssrp_free(next);
	return rc;
}

/* ---- $batch -------------------------------------------------------------------- */


static double inner_retry_after(const cJSON *resp)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(resp, "headers");
	const cJSON *it;
	cJSON_ArrayForEach(it, h) {
		if (it->string && ssrp_ascii_ieq(it->string, "Retry-After")) {
			if (cJSON_IsString(it))
				return ssrp_http_parse_retry_after(it->valuestring);
			if (cJSON_IsNumber(it))
				return it->valuedouble;
		}
	}
	return -1;
}

void ssrp_graph_batch_results_free(ssrp_graph_batch_result *results, size_t n)
{
	for (size_t i = 0; results && i < n; i++) {
		cJSON_Delete(results[i].body);
		results[i].body = NULL;
	}
}

/* "Name: value" into the inner request's headers object; -1 out of memory. */
static int batch_header(cJSON *h, const char *line)
{
	const char *colon = strchr(line, ':');
	char name[128];
	size_t n = colon ? (size_t)(colon - line) : 0;
	if (!n || n >= sizeof name)
		return 0; /* not a header: checked by ssrp_graph_batch */
	memcpy(name, line, n);
	name[n] = '\0';
	const char *v = colon + 1;
	while (*v == ' ')
		v++;
	return cJSON_AddStringToObject(h, name, v) ? 0 : -1;
}

/* Send the requests whose index is in pending[0..n); fill their results. */
static int batch_once(ssrp_graph *g, const ssrp_graph_batch_req *reqs, const size_t *pending,
		      size_t n, ssrp_graph_batch_result *results, double *max_retry_after)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(root, "requests");
	int oom = !arr;
	for (size_t k = 0; k < n && !oom; k++) {
		const ssrp_graph_batch_req *r = &reqs[pending[k]];
		char id[24];
		snprintf(id, sizeof id, "%zu", pending[k] + 1);
		cJSON *o = cJSON_CreateObject();
		oom = !o || !cJSON_AddItemToArray(arr, o) || !cJSON_AddStringToObject(o, "id", id) ||
		      !cJSON_AddStringToObject(o, "method", r->method) ||
		      !cJSON_AddStringToObject(o, "url", r->url);
		cJSON *h = NULL;
		if (!oom && (r->body || r->headers))
			oom = !(h = cJSON_AddObjectToObject(o, "headers"));
		if (!oom && r->body) {
			cJSON *b = cJSON_Duplicate(r->body, 1);
			oom = !b || !cJSON_AddItemToObject(o, "body", b) ||
			      !cJSON_AddStringToObject(h, "Content-Type", "application/json");
		}
		for (const char *const *p = r->headers; !oom && p && *p; p++)
			oom = batch_header(h, *p);
	}
	if (oom) {
		cJSON_Delete(root);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	cJSON *answer = NULL;
	int rc = ssrp_graph_post(g, "/v1.0/$batch", root, &answer);
	cJSON_Delete(root);
	if (rc)
		return rc;
	const cJSON *responses = cJSON_GetObjectItemCaseSensitive(answer, "responses");
	const cJSON *it;
	cJSON_ArrayForEach(it, responses) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "status");
		char *end = NULL;
		unsigned long idx = cJSON_IsString(id) ? strtoul(id->valuestring, &end, 10) : 0;
		size_t k = 0;
		while (k < n && pending[k] + 1 != idx)
			k++;
		if (k == n || !end || *end || !cJSON_IsNumber(st))
			continue; /* not one we sent: ignored, and the request stays 0 */
		ssrp_graph_batch_result *res = &results[pending[k]];
		res->status = (long)st->valuedouble;
		if (res->status == 429)
			g->stats.throttled++;
		cJSON_Delete(res->body);
		res->body = cJSON_DetachItemFromObjectCaseSensitive((cJSON *)it, "body");
		double ra = inner_retry_after(it);
		if (ra > *max_retry_after)
			*max_retry_after = ra;
	}
	cJSON_Delete(answer);
	return SSRP_OK;
}

/* The requests' form, and their results emptied. */
static int batch_check(const ssrp_graph_batch_req *reqs, size_t n, ssrp_graph_batch_result *results)
{
	for (size_t i = 0; i < n; i++) {
		if (!reqs[i].method || !reqs[i].url)
			return ssrp_error_set(SSRP_E_INVALID,
					      "graph: batch request %zu needs a method and a URL", i + 1);
		for (const char *const *p = reqs[i].headers; p && *p; p++) {
			const char *colon = strchr(*p, ':');
			if (!colon || colon == *p || colon - *p >= 128 || strpbrk(*p, "\r\n"))
				return ssrp_error_set(SSRP_E_INVALID,
						      "graph: batch request %zu: header '%.40s' is not "
						      "\"Name: value\"",
						      i + 1, *p);
		}
		results[i].status = 0;
		results[i].body = NULL;
	}
	return SSRP_OK;
}

int ssrp_graph_batch(ssrp_graph *g, const ssrp_graph_batch_req *reqs, size_t n,
		     ssrp_graph_batch_result *results)
{
	if (!g || !reqs || !results || n == 0 || n > SSRP_GRAPH_BATCH_MAX)
		return ssrp_error_set(SSRP_E_INVALID, "graph: a batch holds 1 to %d requests",
				      SSRP_GRAPH_BATCH_MAX);
	int rc = batch_check(reqs, n, results);
	if (rc)
		return rc;
	size_t pending[SSRP_GRAPH_BATCH_MAX], m = n;
	for (size_t i = 0; i < n; i++)
		pending[i] = i;
	ssrp_retry r;
	ssrp_retry_begin(&r, &g->opt);
	for (;;) {
		double ra = -1;
		r.attempts++; /* a round: its POST keeps retries of its own */
		rc = batch_once(g, reqs, pending, m, results, &ra);
		if (rc) {
			ssrp_graph_batch_results_free(results, n);
			return rc;
		}
		size_t again = 0;
		for (size_t k = 0; k < m; k++)
			if (ssrp_retry_status(results[pending[k]].status))
				pending[again++] = pending[k];
		if (!again || r.attempts >= r.opt.max_attempts)
			return SSRP_OK;
		int p = ssrp_retry_pause(&r, ssrp_retry_wait_ms(&r, ra));
		if (p == 1)
			return SSRP_OK; /* the throttled ones keep their 429/5xx */
		if (p) {
			ssrp_graph_batch_results_free(results, n);
			return p;
		}
		m = again;
		g->stats.retries++;
	}
}

int ssrp_graph_batch_all(ssrp_graph *g, const ssrp_graph_batch_req *reqs, size_t n,
			 ssrp_graph_batch_result *results, char *err, size_t err_cap)
{
	if (err && err_cap)
		err[0] = '\0';
	if (!g || !reqs || !results || n == 0)
		return ssrp_error_set(SSRP_E_INVALID, "graph: a batch needs requests");
	int rc = batch_check(reqs, n, results);
	if (rc)
		return rc;
	size_t *pending = ssrp_calloc(n, sizeof *pending), m = n;
	if (!pending)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		pending[i] = i;
	ssrp_retry r;
	ssrp_retry_begin(&r, &g->opt);
	for (;;) {
		double ra = -1;
		r.attempts++; /* a round: each POST keeps retries of its own */
		for (size_t at = 0; at < m; at += SSRP_GRAPH_BATCH_MAX) {
			size_t part = m - at < SSRP_GRAPH_BATCH_MAX ? m - at : SSRP_GRAPH_BATCH_MAX;
			if (batch_once(g, reqs, pending + at, part, results, &ra) == SSRP_OK)
				continue;
			/* this POST failed: its requests stay unanswered */
			if (err && err_cap)
				snprintf(err, err_cap, "%s", ssrp_error_last());
			for (size_t k = at; k < at + part; k++) {
				cJSON_Delete(results[pending[k]].body);
				results[pending[k]].body = NULL;
				results[pending[k]].status = 0;
			}
		}
		size_t again = 0;
		for (size_t k = 0; k < m; k++)
			if (ssrp_retry_status(results[pending[k]].status))
				pending[again++] = pending[k];
		if (!again || r.attempts >= r.opt.max_attempts)
			break;
		/* one wait for all: the longest Retry-After among them */
		if ((rc = ssrp_retry_pause(&r, ssrp_retry_wait_ms(&r, ra))))
			break; /* 1: the throttled ones keep their 429/5xx */
		m = again;
		g->stats.retries++;
	}
	ssrp_free(pending);
	return rc == SSRP_E_CANCELLED ? rc : SSRP_OK;
}
