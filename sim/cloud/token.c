/* The simulated Microsoft identity platform v2.0 token endpoint:
 *   POST /{tenant}/oauth2/v2.0/token       client credentials (secret or
 *        certificate assertion), password (ROPC), refresh_token, device_code
 *   POST /{tenant}/oauth2/v2.0/devicecode  starts a device-code sign-in
 * and the bearer-token check Graph handlers call (cloud_token_verify).
 * Errors come in the AADSTS shape with the codes Entra uses. The state lock
 * is held only while the request is checked against the tenant; tokens are
 * signed after it is released, since an RSA signature is the slow part. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "hal/crypto.h"
#include "hal/guid.h"
#include "hal/mem.h"
#include "hal/random.h"
#include "hal/text.h"
#include "sim/cloud/cloud.h"
#include "sim/cloud/cloud_util.h"
#include "sim/cloud/jwt.h"
#include "sim/cloud/token_cache.h"
#include "sim/cloud/token.h"
#include "ssrp/sys/error.h"

#define LOGIN_URL "https://login.microsoftonline.com/"
#define REFRESH_AUDIENCE "urn:ssrp:sim:refresh-token"
#define GRANT_CLIENT_CREDENTIALS "client_credentials"
#define GRANT_PASSWORD "password"
#define GRANT_REFRESH "refresh_token"
#define GRANT_DEVICE_CODE "urn:ietf:params:oauth:grant-type:device_code"
/* The short form Entra also accepts (and MSAL sends). */
#define GRANT_DEVICE_CODE_SHORT "device_code"
#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define MAX_BODY 65536
#define MAX_SCOPE 1024

static uint64_t now_of(const cloud_ctx *ctx)
{
	return ctx->now ? ctx->now() : (uint64_t)time(NULL);
}

/* ---- the request being served ------------------------------------------------ */

typedef struct treq {
	cloud_ctx *ctx;
	const cloud_request *rq;
	cloud_response *rs;
	uint64_t now;
	char tenant[128]; /* as given in the path */
	int generic;      /* "organizations" or "common": no tenant named */
	cloud_form form;
	char trace_id[CLOUD_ID_LEN + 1];
	char correlation_id[CLOUD_ID_LEN + 1];
	char acr;    /* how the client authenticated: '0' not, '1' secret, '2' certificate */
	int uri_aud; /* a Graph scope was named by URI: the token's aud is the URI */
} treq;

/* What a successful grant yields, worked out under the lock and turned
 * into signed tokens after it. */
typedef struct grant {
	cloud_principal p;
	int refresh;          /* also issue a refresh token */
	char scope_out[1024]; /* the response's "scope"; "" for app-only tokens */
	int id_token;         /* openid was asked for: also an id_token and client_info */
} grant;

static void aad_error(treq *t, int status, const char *error, unsigned code, const char *fmt, ...)
	SSRP_PRINTF(5, 6);

static void aad_error(treq *t, int status, const char *error, unsigned code, const char *fmt, ...)
{
	char what[1024], desc[1400], stamp[CLOUD_TIME_ISO_LEN + 1], uri[96];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	/* AADSTS timestamps read "2016-01-09 02:02:12Z". */
	cloud_time_format_iso(stamp, t->now);
	stamp[10] = ' ';
	/* Code 0: a simulator answer with no Entra counterpart, so no AADSTS
	 * number is claimed. */
	char head[24] = "";
	if (code)
		snprintf(head, sizeof head, "AADSTS%u: ", code);
	snprintf(desc, sizeof desc, "%s%s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", head,
		 what, t->trace_id, t->correlation_id, stamp);
	snprintf(uri, sizeof uri, "https://login.microsoftonline.com/error?code=%u", code);
	cJSON *root = cJSON_CreateObject();
	cJSON *codes = NULL;
	int ok = root && cJSON_AddStringToObject(root, "error", error) &&
		 cJSON_AddStringToObject(root, "error_description", desc) &&
		 (codes = cJSON_AddArrayToObject(root, "error_codes")) &&
		 (!code || cJSON_AddItemToArray(codes, cJSON_CreateNumber(code))) &&
		 cJSON_AddStringToObject(root, "timestamp", stamp) &&
		 cJSON_AddStringToObject(root, "trace_id", t->trace_id) &&
		 cJSON_AddStringToObject(root, "correlation_id", t->correlation_id) &&
		 (!code || cJSON_AddStringToObject(root, "error_uri", uri));
	char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	cloud_respond_json(t->rs, status, text);
}

static void missing(treq *t, const char *param)
{
	aad_error(t, 400, "invalid_request", 900144,
		  "The request body must contain the following parameter: '%s'.", param);
}

static void set_identity(treq *t, const char *kind, const char *who)
{
	snprintf(t->rs->identity, sizeof t->rs->identity, "%s:%s", kind, who);
}

/* ---- scopes -------------------------------------------------------------------- */

/* Graph's delegated permissions the simulator knows, in their canonical
 * spelling (Entra compares permission names case-insensitively). */
static const char *const delegated_known[] = {
	"User.Read", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All",
	"Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All",
	"Device.Read.All", "BitLockerKey.Read.All", "BitLockerKey.ReadBasic.All",
	"DeviceManagementManagedDevices.Read.All",
	"DeviceManagementManagedDevices.PrivilegedOperations.All", "Organization.Read.All",
	"LicenseAssignment.Read.All", "LicenseAssignment.ReadWrite.All", NULL};

static const char *const oidc_scopes[] = {"openid", "profile", "email", "offline_access", NULL};

static const char *known_name(const char *const *list, const char *name)
{
	for (size_t i = 0; list[i]; i++)
		if (ssrp_ascii_ieq(list[i], name))
			return list[i];
	return NULL;
}

/* The permission part of a scope aimed at Graph ("https://graph.microsoft.com/User.Read",
 * "00000003-.../User.Read" or a bare "User.Read"); NULL for another resource. */
static const char *graph_part(const char *word, int *had_prefix)
{
	static const char *const prefixes[] = {"https://graph.microsoft.com/", CLOUD_GRAPH_APP_ID "/", NULL};
	*had_prefix = 0;
	for (size_t i = 0; prefixes[i]; i++) {
		size_t n = strlen(prefixes[i]);
		char head[64];
		if (strlen(word) >= n) {
			memcpy(head, word, n);
			head[n] = '\0';
			if (ssrp_ascii_ieq(head, prefixes[i])) {
				*had_prefix = (int)i + 1; /* 1: by URI, 2: by app id */
				return word + n;
			}
		}
	}
	return strchr(word, '/') || strchr(word, ':') ? NULL : word;
}

static int append_word(char *list, size_t cap, const char *word)
{
	if (cloud_word_in(list, word))
		return 0;
	size_t len = strlen(list), wl = strlen(word);
	if (len + (len ? 1 : 0) + wl + 1 > cap)
		return -1;
	if (len)
		list[len++] = ' ';
	memcpy(list + len, word, wl + 1);
	return 0;
}

/* A requested scope → Graph delegated permissions (scp) and the response's
 * "scope"; notes offline_access. 0, or -1 with the AADSTS error written. */
static int delegated_scopes(treq *t, const char *scope, char *scp, size_t scp_cap, char *out, size_t out_cap,
			    int *offline)
{
	char words[MAX_SCOPE + 1];
	int has_default = 0, has_named = 0;
	scp[0] = out[0] = '\0';
	*offline = 0;
	if (strlen(scope) > MAX_SCOPE) {
		aad_error(t, 400, "invalid_scope", 70011,
			  "The provided value for the input parameter 'scope' is not valid. It is longer than %d "
			  "characters.",
			  MAX_SCOPE);
		return -1;
	}
	memcpy(words, scope, strlen(scope) + 1);
	for (char *save = NULL, *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		const char *oidc = known_name(oidc_scopes, w);
		if (oidc) {
			if (!strcmp(oidc, "offline_access"))
				*offline = 1;
			if (append_word(out, out_cap, oidc))
				goto too_long;
			continue;
		}
		int had_prefix;
		const char *perm = graph_part(w, &had_prefix);
		if (had_prefix == 1)
			t->uri_aud = 1;
		if (!perm) {
			aad_error(t, 400, "invalid_scope", 70011,
				  "The provided value for the input parameter 'scope' is not valid. The scope '%.200s' "
				  "names a resource the simulator does not serve (only Microsoft Graph).",
				  w);
			return -1;
		}
		if (!strcmp(perm, ".default") && had_prefix) {
			has_default = 1;
			continue;
		}
		const char *name = known_name(delegated_known, perm);
		if (!name) {
			aad_error(t, 400, "invalid_scope", 70011,
				  "The provided value for the input parameter 'scope' is not valid. The scope '%.200s' "
				  "does not exist on the resource '" CLOUD_GRAPH_APP_ID "'.",
				  w);
			return -1;
		}
		has_named = 1;
		if (append_word(scp, scp_cap, name))
			goto too_long;
	}
	if (has_default && has_named) {
		aad_error(t, 400, "invalid_scope", 70011,
			  "The provided value for the input parameter 'scope' is not valid. The .default scope "
			  "can't be combined with resource-specific scopes.");
		return -1;
	}
	if (has_default)
		snprintf(scp, scp_cap, "%s", CLOUD_DEFAULT_DELEGATED_SCOPES);
	else if (!has_named)
		/* Only OpenID Connect scopes: Entra then issues a Graph token
		 * for the basic profile. */
		snprintf(scp, scp_cap, "User.Read");
	/* The response lists the permissions first, then the OIDC scopes. */
	char both[1024];
	snprintf(both, sizeof both, "%s%s%s", scp, out[0] ? " " : "", out);
	snprintf(out, out_cap, "%s", both);
	return 0;
too_long:
	aad_error(t, 400, "invalid_scope", 70011,
		  "The provided value for the input parameter 'scope' is not valid. It names too many scopes.");
	return -1;
}

/* ---- client authentication ----------------------------------------------------- */

static int aud_matches(const treq *t, const char *aud)
{
	const char *tenants[] = {cloud_state_tenant_id(t->ctx->state), cloud_state_tenant_domain(t->ctx->state),
				 t->tenant};
	for (size_t i = 0; i < sizeof tenants / sizeof tenants[0]; i++) {
		char want[256];
		snprintf(want, sizeof want, LOGIN_URL "%s/oauth2/v2.0/token", tenants[i]);
		if (ssrp_ascii_ieq(aud, want))
			return 1;
	}
	return 0;
}

static void assertion_refused(treq *t, unsigned code, const char *fmt, ...) SSRP_PRINTF(3, 4);

static void assertion_refused(treq *t, unsigned code, const char *fmt, ...)
{
	char why[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (code == 700027)
		aad_error(t, 401, "invalid_client", code,
			  "Client assertion failed signature validation. (Reason - %s)", why);
	else
		aad_error(t, 401, "invalid_client", code, "%s", why);
}

/* A certificate's thumbprint as a JWT header carries it: base64url of the
 * SHA-1 (x5t) or SHA-256 (x5t#S256) of the DER encoding. */
static int thumbprint(char *out, size_t cap, X509 *x, const EVP_MD *md)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (X509_digest(x, md, d, &n) != 1)
		return -1;
	char *b = cloud_b64url_encode(d, n);
	if (!b)
		return -1;
	snprintf(out, cap, "%s", b);
	free(b);
	return 0;
}

static int check_assertion(treq *t, const cloud_app *app, const char *assertion)
{
	if (!app->certificate_pem) {
		assertion_refused(t, 700027, "The key was not found: app '%s' has no certificate registered.",
				  app->app_id);
		return -1;
	}
	cloud_jwt jwt;
	if (cloud_jwt_parse(&jwt, assertion) != SSRP_OK) {
		assertion_refused(t, 700027, "%s.", ssrp_error_last());
		return -1;
	}
	int rc = -1;
	BIO *bio = BIO_new_mem_buf(app->certificate_pem, -1);
	X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	ERR_clear_error();
	char want1[64], want256[64];
	if (!cert || thumbprint(want1, sizeof want1, cert, EVP_sha1()) ||
	    thumbprint(want256, sizeof want256, cert, EVP_sha256())) {
		assertion_refused(t, 700027, "The app's registered certificate cannot be read.");
		goto out;
	}
	const char *x5t = cloud_jwt_header_str(&jwt, "x5t");
	const char *x5t256 = cloud_jwt_header_str(&jwt, "x5t#S256");
	if (!x5t && !x5t256) {
		assertion_refused(t, 700027, "The assertion's header has neither x5t nor x5t#S256.");
		goto out;
	}
	if ((x5t && strcmp(x5t, want1)) || (x5t256 && strcmp(x5t256, want256))) {
		assertion_refused(t, 700027,
				  "The key was not found. Thumbprint of key used by client: '%.64s'. Please "
				  "visit the Azure Portal, Graph Explorer or directly use MS Graph to see "
				  "configured keys for app Id '%s'.",
				  x5t256 ? x5t256 : x5t, app->app_id);
		goto out;
	}
	if (cloud_jwt_verify(&jwt, X509_get0_pubkey(cert)) != SSRP_OK) {
		assertion_refused(t, 700027, "The signature does not verify under the registered certificate.");
		goto out;
	}
	const char *aud = cloud_jwt_claim_str(&jwt, "aud");
	if (!aud || !aud_matches(t, aud)) {
		assertion_refused(t, 700027,
				  "The audience claim '%.200s' is not this token endpoint "
				  "(" LOGIN_URL "%s/oauth2/v2.0/token).",
				  aud ? aud : "(missing)", cloud_state_tenant_id(t->ctx->state));
		goto out;
	}
	const char *iss = cloud_jwt_claim_str(&jwt, "iss"), *sub = cloud_jwt_claim_str(&jwt, "sub");
	if (!iss || !sub || !ssrp_ascii_ieq(iss, app->app_id) || !ssrp_ascii_ieq(sub, app->app_id)) {
		assertion_refused(t, 700021,
				  "Client assertion application identifier doesn't match 'client_id' parameter. "
				  "Both iss and sub must be '%s'.",
				  app->app_id);
		goto out;
	}
	uint64_t exp, nbf;
	int has_exp = cloud_jwt_claim_time(&jwt, "exp", &exp);
	int has_nbf = cloud_jwt_claim_time(&jwt, "nbf", &nbf);
	if (has_exp != 1 || has_nbf < 0) {
		assertion_refused(t, 700027, "The assertion needs a numeric exp claim (and nbf, if any, numeric).");
		goto out;
	}
	if (t->now > exp + CLOUD_CLOCK_SKEW || (has_nbf && nbf > t->now + CLOUD_CLOCK_SKEW)) {
		char cur[CLOUD_TIME_ISO_LEN + 1], from[CLOUD_TIME_ISO_LEN + 1], to[CLOUD_TIME_ISO_LEN + 1];
		cloud_time_format_iso(cur, t->now);
		cloud_time_format_iso(from, has_nbf ? nbf : 0);
		cloud_time_format_iso(to, exp);
		assertion_refused(t, 700024,
				  "Client assertion is not within its valid time range. Current time: %s, "
				  "assertion valid from %s, expiry time of assertion %s.",
				  cur, has_nbf ? from : "(unset)", to);
		goto out;
	}
	const char *jti = cloud_jwt_claim_str(&jwt, "jti");
	if (!jti || !jti[0]) {
		assertion_refused(t, 700027, "The assertion has no jti claim.");
		goto out;
	}
	rc = 0;
out:
	X509_free(cert);
	cloud_jwt_free(&jwt);
	return rc;
}

/* Who is asking: the app named by client_id, authenticated by a secret, a
 * certificate assertion, or (public clients in user flows) nothing.
 * Returns the app, or NULL with the error written. */
static const cloud_app *client_auth(treq *t, int client_credentials)
{
	const char *client_id = cloud_form_get(&t->form, "client_id");
	if (!client_id || !client_id[0]) {
		missing(t, "client_id");
		return NULL;
	}
	const cloud_app *app = cloud_app_find(t->ctx->state, client_id);
	if (!app) {
		aad_error(t, 400, "unauthorized_client", 700016,
			  "Application with identifier '%.64s' was not found in the directory '%s'. This can "
			  "happen if the application has not been installed by the administrator of the tenant "
			  "or consented to by any user in the tenant. You may have sent your authentication "
			  "request to the wrong tenant.",
			  client_id, t->generic ? t->tenant : cloud_state_tenant_domain(t->ctx->state));
		return NULL;
	}
	set_identity(t, "app", app->app_id);
	const char *secret = cloud_form_get(&t->form, "client_secret");
	const char *assertion = cloud_form_get(&t->form, "client_assertion");
	const char *atype = cloud_form_get(&t->form, "client_assertion_type");
	if (secret && assertion) {
		aad_error(t, 400, "invalid_request", 9000411,
			  "The request is not properly formatted. Send client_secret or client_assertion, not "
			  "both.");
		return NULL;
	}
	if (!secret && !assertion) {
		t->acr = '0';
		if (app->public_client && !client_credentials)
			return app;
		aad_error(t, 401, "invalid_client", 7000218,
			  "The request body must contain the following parameter: 'client_assertion' or "
			  "'client_secret'.");
		return NULL;
	}
	if (app->public_client && !app->has_secret && !app->certificate_pem) {
		aad_error(t, 401, "invalid_client", 700025,
			  "Client is public so neither 'client_assertion' nor 'client_secret' should be "
			  "presented.");
		return NULL;
	}
	if (secret) {
		if (!cloud_app_check_secret(app, secret)) {
			aad_error(t, 401, "invalid_client", 7000215,
				  "Invalid client secret provided. Ensure the secret being sent in the request is "
				  "the client secret value, not the client secret ID, for a secret added to app "
				  "'%s'.",
				  app->app_id);
			return NULL;
		}
		t->acr = '1';
		return app;
	}
	t->acr = '2';
	if (!atype) {
		missing(t, "client_assertion_type");
		return NULL;
	}
	if (strcmp(atype, ASSERTION_TYPE)) {
		assertion_refused(t, 700027, "client_assertion_type '%.100s' is not '" ASSERTION_TYPE "'.", atype);
		return NULL;
	}
	return check_assertion(t, app, assertion) ? NULL : app;
}

/* ---- the grants ------------------------------------------------------------------ */

static void fill_client(treq *t, grant *g, const cloud_app *app)
{
	snprintf(g->p.app_id, sizeof g->p.app_id, "%s", app->app_id);
	snprintf(g->p.app_name, sizeof g->p.app_name, "%s", app->display_name ? app->display_name : "");
	g->p.acr = t->acr ? t->acr : '0';
	g->p.aud_app_id = !t->uri_aud;
}

static void fill_app(treq *t, grant *g, const cloud_app *app)
{
	g->p.kind = CLOUD_PRINCIPAL_APP;
	fill_client(t, g, app);
	snprintf(g->p.sp_id, sizeof g->p.sp_id, "%s", app->sp_id);
	for (unsigned i = 0; i < app->n_roles; i++)
		append_word(g->p.roles, sizeof g->p.roles, app->roles[i]);
}

static void fill_user(treq *t, grant *g, const cloud_app *app, const cloud_user *u)
{
	g->p.kind = CLOUD_PRINCIPAL_USER;
	fill_client(t, g, app);
	snprintf(g->p.user_id, sizeof g->p.user_id, "%s", u->id);
	snprintf(g->p.upn, sizeof g->p.upn, "%s", u->upn);
	snprintf(g->p.name, sizeof g->p.name, "%s", u->display_name ? u->display_name : "");
	/* Entra answers openid with an id_token (and MSAL always asks). */
	g->id_token = cloud_word_in(g->scope_out, "openid");
}

static int grant_client_credentials(treq *t, grant *g)
{
	const char *scope = cloud_form_get(&t->form, "scope");
	if (!scope) {
		missing(t, "scope");
		return -1;
	}
	if (t->generic) {
		aad_error(t, 400, "invalid_request", 50059,
			  "No tenant-identifying information found in either the request or implied by any "
			  "provided credentials.");
		return -1;
	}
	const cloud_app *app = client_auth(t, 1);
	if (!app)
		return -1;
	char words[MAX_SCOPE + 1];
	snprintf(words, sizeof words, "%s", scope);
	char *save = NULL, *w = strtok_r(words, " ", &save);
	int had_prefix = 0;
	const char *perm = w ? graph_part(w, &had_prefix) : NULL;
	int single = w && !strtok_r(NULL, " ", &save);
	if (strlen(scope) <= MAX_SCOPE && single && perm && strcmp(perm, ".default")) {
		aad_error(t, 400, "invalid_scope", 1002012,
			  "The provided value for scope %.200s is not valid. Client credential flows must have a "
			  "scope value with /.default suffixed to the resource identifier (application ID URI).",
			  scope);
		return -1;
	}
	t->uri_aud = had_prefix == 1;
	if (strlen(scope) > MAX_SCOPE || !single || !perm || !had_prefix || strcmp(perm, ".default")) {
		aad_error(t, 400, "invalid_scope", 70011,
			  "The provided value for the input parameter 'scope' is not valid. The scope '%.200s' is "
			  "not valid: client credential flows need exactly "
			  "'https://graph.microsoft.com/.default'.",
			  scope);
		return -1;
	}
	fill_app(t, g, app);
	return 0;
}

static int grant_password(treq *t, grant *g)
{
	const char *username = cloud_form_get(&t->form, "username");
	const char *password = cloud_form_get(&t->form, "password");
	const char *scope = cloud_form_get(&t->form, "scope");
	if (!username || !username[0]) {
		missing(t, "username");
		return -1;
	}
	if (!password) {
		missing(t, "password");
		return -1;
	}
	if (!scope) {
		missing(t, "scope");
		return -1;
	}
	const cloud_app *app = client_auth(t, 0);
	if (!app)
		return -1;
	if (delegated_scopes(t, scope, g->p.scopes, sizeof g->p.scopes, g->scope_out, sizeof g->scope_out,
			     &g->refresh))
		return -1;
	const cloud_user *u = strchr(username, '@') ? cloud_user_find(t->ctx->state, username) : NULL;
	if (!u) {
		aad_error(t, 400, "invalid_grant", 50034,
			  "The user account {EUII Hidden} does not exist in the %s directory. To sign into this "
			  "application, the account must be added to the directory.",
			  cloud_state_tenant_domain(t->ctx->state));
		return -1;
	}
	if (!cloud_user_check_password(u, password)) {
		aad_error(t, 400, "invalid_grant", 50126,
			  "Error validating credentials due to invalid username or password.");
		return -1;
	}
	fill_user(t, g, app, u);
	set_identity(t, "user", u->upn);
	return 0;
}

static int grant_refresh(treq *t, grant *g)
{
	const char *token = cloud_form_get(&t->form, "refresh_token");
	if (!token || !token[0]) {
		missing(t, "refresh_token");
		return -1;
	}
	const cloud_app *app = client_auth(t, 0);
	if (!app)
		return -1;
	cloud_jwt jwt;
	int rc = -1;
	const char *aud, *tid, *appid, *oid, *scp;
	uint64_t exp;
	if (cloud_jwt_parse(&jwt, token) != SSRP_OK || cloud_jwt_verify(&jwt, t->ctx->token_key) != SSRP_OK ||
	    !(aud = cloud_jwt_claim_str(&jwt, "aud")) || strcmp(aud, REFRESH_AUDIENCE) ||
	    !(tid = cloud_jwt_claim_str(&jwt, "tid")) || strcmp(tid, cloud_state_tenant_id(t->ctx->state)) ||
	    !(appid = cloud_jwt_claim_str(&jwt, "appid")) || !(oid = cloud_jwt_claim_str(&jwt, "oid")) ||
	    !(scp = cloud_jwt_claim_str(&jwt, "scp")) || cloud_jwt_claim_time(&jwt, "exp", &exp) != 1) {
		/* Real refresh tokens are opaque: anything this endpoint did not
		 * issue is simply malformed to it. */
		aad_error(t, 400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.");
		goto out;
	}
	if (t->now >= exp) {
		aad_error(t, 400, "invalid_grant", 70008,
			  "The provided authorization code or refresh token has expired due to inactivity. Send "
			  "a new interactive authorization request for this user and resource.");
		goto out;
	}
	const cloud_user *u = cloud_user_find(t->ctx->state, oid);
	if (!ssrp_ascii_ieq(appid, app->app_id) || !u) {
		aad_error(t, 400, "invalid_grant", 70000,
			  "Provided grant is invalid or malformed. The refresh token was issued to another client "
			  "or for a user who no longer exists.");
		goto out;
	}
	const char *scope = cloud_form_get(&t->form, "scope");
	if (scope) {
		if (delegated_scopes(t, scope, g->p.scopes, sizeof g->p.scopes, g->scope_out,
				     sizeof g->scope_out, &g->refresh))
			goto out;
		/* A refresh can narrow the grant, never widen it. */
		char copy[sizeof g->p.scopes];
		snprintf(copy, sizeof copy, "%s", g->p.scopes);
		for (char *save = NULL, *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			if (!cloud_word_in(scp, w)) {
				aad_error(t, 400, "invalid_scope", 70011,
					  "The provided value for the input parameter 'scope' is not valid. The scope "
					  "'%s' was not granted with this refresh token.",
					  w);
				goto out;
			}
		}
	} else {
		const char *oidc = cloud_jwt_claim_str(&jwt, "xms_ssrp_oidc");
		snprintf(g->p.scopes, sizeof g->p.scopes, "%s", scp);
		snprintf(g->scope_out, sizeof g->scope_out, "%s%s%s offline_access", scp, oidc ? " " : "",
			 oidc ? oidc : "");
	}
	/* A used refresh token is replaced by a new one, as Entra does. */
	g->refresh = 1;
	if (!cloud_word_in(g->scope_out, "offline_access"))
		append_word(g->scope_out, sizeof g->scope_out, "offline_access");
	fill_user(t, g, app, u);
	set_identity(t, "user", u->upn);
	rc = 0;
out:
	cloud_jwt_free(&jwt);
	return rc;
}

static int grant_device_code(treq *t, grant *g)
{
	const char *code = cloud_form_get(&t->form, "device_code");
	if (!code || !code[0]) {
		missing(t, "device_code");
		return -1;
	}
	const cloud_app *app = client_auth(t, 0);
	if (!app)
		return -1;
	cloud_device_code *dc = cloud_devicecode_find(t->ctx->state, code);
	if (!dc || !ssrp_ascii_ieq(dc->app_id, app->app_id)) {
		aad_error(t, 400, "bad_verification_code", 70000,
			  "The provided value for the input parameter 'device_code' is not valid.");
		return -1;
	}
	if (t->now >= dc->expires) {
		cloud_devicecode_remove(t->ctx->state, dc);
		aad_error(t, 400, "expired_token", 70019, "Verification code expired.");
		return -1;
	}
	if (!dc->user_id[0]) {
		aad_error(t, 400, "authorization_pending", 70016,
			  "OAuth 2.0 device flow error. Authorization is pending. Continue polling.");
		return -1;
	}
	const cloud_user *u = cloud_user_find(t->ctx->state, dc->user_id);
	char scope[sizeof dc->scope];
	snprintf(scope, sizeof scope, "%s", dc->scope);
	cloud_devicecode_remove(t->ctx->state, dc);
	if (!u) {
		aad_error(t, 400, "invalid_grant", 70000, "Provided grant is invalid or malformed.");
		return -1;
	}
	/* The scope was checked when the code was issued. */
	if (delegated_scopes(t, scope, g->p.scopes, sizeof g->p.scopes, g->scope_out, sizeof g->scope_out,
			     &g->refresh))
		return -1;
	fill_user(t, g, app, u);
	set_identity(t, "user", u->upn);
	return 0;
}

/* ---- minting ---------------------------------------------------------------------- */

static int add_common_claims(cJSON *c, cloud_ctx *ctx, uint64_t now, uint64_t lifetime)
{
	char iss[128], uti[CLOUD_ID_LEN + 1];
	snprintf(iss, sizeof iss, "https://sts.windows.net/%s/", cloud_state_tenant_id(ctx->state));
	cloud_new_id(uti);
	return cJSON_AddStringToObject(c, "iss", iss) && cJSON_AddNumberToObject(c, "iat", (double)now) &&
	       cJSON_AddNumberToObject(c, "nbf", (double)now) &&
	       cJSON_AddNumberToObject(c, "exp", (double)(now + lifetime)) &&
	       cJSON_AddStringToObject(c, "tid", cloud_state_tenant_id(ctx->state)) &&
	       cJSON_AddStringToObject(c, "uti", uti);
}

/* A Graph access token is a v1.0 token whatever endpoint issued it (Graph
 * asks for v1.0 tokens), with the claims the access token claims reference
 * lists for it. */
char *cloud_token_mint(cloud_ctx *ctx, const cloud_principal *p, uint64_t lifetime_s)
{
	uint64_t now = now_of(ctx);
	cJSON *c = cJSON_CreateObject();
	int user = p->kind == CLOUD_PRINCIPAL_USER;
	/* An app-only token's subject is the app's service principal; tokens
	 * minted for tests without one fall back to the app id. */
	const char *oid = user ? p->user_id : p->sp_id[0] ? p->sp_id : p->app_id;
	char sub[64], acr[2] = {p->acr ? p->acr : '0', '\0'};
	if (user)
		cloud_token_pairwise_sub(sub, p->app_id, p->user_id);
	else
		snprintf(sub, sizeof sub, "%s", oid);
	int ok = c &&
		 cJSON_AddStringToObject(c, "aud", p->aud_app_id ? CLOUD_GRAPH_APP_ID : CLOUD_GRAPH_AUDIENCE) &&
		 add_common_claims(c, ctx, now, lifetime_s) && cJSON_AddStringToObject(c, "ver", "1.0") &&
		 cJSON_AddNumberToObject(c, "acct", 0) &&
		 (!p->app_name[0] || cJSON_AddStringToObject(c, "app_displayname", p->app_name)) &&
		 cJSON_AddStringToObject(c, "appid", p->app_id) && cJSON_AddStringToObject(c, "appidacr", acr) &&
		 cJSON_AddStringToObject(c, "idtyp", user ? "user" : "app") &&
		 cJSON_AddStringToObject(c, "oid", oid) && cJSON_AddStringToObject(c, "sub", sub) &&
		 (!cloud_state_tenant_created(ctx->state) ||
		  cJSON_AddNumberToObject(c, "xms_tcdt", (double)cloud_state_tenant_created(ctx->state))) &&
		 cJSON_AddNumberToObject(c, "xms_ssrp_epoch",
					 (double)__atomic_load_n(&ctx->token_epoch, __ATOMIC_ACQUIRE));
	if (ok && user) {
		cJSON *amr = cJSON_AddArrayToObject(c, "amr");
		ok = amr && cJSON_AddItemToArray(amr, cJSON_CreateString("pwd")) &&
		     (!p->name[0] || cJSON_AddStringToObject(c, "name", p->name)) &&
		     cJSON_AddStringToObject(c, "scp", p->scopes) && cJSON_AddStringToObject(c, "upn", p->upn) &&
		     cJSON_AddStringToObject(c, "unique_name", p->upn);
	}
	if (ok && !user && p->roles[0]) {
		cJSON *roles = cJSON_AddArrayToObject(c, "roles");
		char copy[sizeof p->roles];
		snprintf(copy, sizeof copy, "%s", p->roles);
		ok = roles != NULL;
		for (char *save = NULL, *w = strtok_r(copy, " ", &save); ok && w; w = strtok_r(NULL, " ", &save))
			ok = cJSON_AddItemToArray(roles, cJSON_CreateString(w));
	}
	char *token = NULL;
	if (ok)
		token = cloud_token_sign(ctx, c);
	else
		ssrp_error_set(SSRP_E_NOMEM, "token: out of memory");
	cJSON_Delete(c);
	return token;
}

/* oidc: the OpenID Connect scopes granted with it ("openid profile"), so a
 * refresh that names no scope brings the id_token back too; may be NULL. */
static char *mint_refresh(cloud_ctx *ctx, const cloud_principal *p, const char *oidc)
{
	cJSON *c = cJSON_CreateObject();
	int ok = c && cJSON_AddStringToObject(c, "aud", REFRESH_AUDIENCE) &&
		 add_common_claims(c, ctx, now_of(ctx), CLOUD_REFRESH_LIFETIME) &&
		 cJSON_AddStringToObject(c, "appid", p->app_id) && cJSON_AddStringToObject(c, "oid", p->user_id) &&
		 cJSON_AddStringToObject(c, "scp", p->scopes) &&
		 (!oidc || !oidc[0] || cJSON_AddStringToObject(c, "xms_ssrp_oidc", oidc));
	char *token = ok ? cloud_token_sign(ctx, c) : NULL;
	cJSON_Delete(c);
	return token;
}

void cloud_token_expire_all(cloud_ctx *ctx)
{
	__atomic_add_fetch(&ctx->token_epoch, 1, __ATOMIC_ACQ_REL);
}

char *cloud_token_refresh_for(cloud_ctx *ctx, const char *client_id, const char *upn)
{
	cloud_principal p;
	memset(&p, 0, sizeof p);
	p.kind = CLOUD_PRINCIPAL_USER;
	cloud_state_lock(ctx->state);
	const cloud_user *u = cloud_user_find(ctx->state, upn);
	if (u) {
		snprintf(p.user_id, sizeof p.user_id, "%s", u->id);
		snprintf(p.upn, sizeof p.upn, "%s", u->upn);
	}
	cloud_state_unlock(ctx->state);
	if (!u) {
		ssrp_error_set(SSRP_E_NOTFOUND, "no user %s in the tenant", upn);
		return NULL;
	}
	snprintf(p.app_id, sizeof p.app_id, "%s", client_id);
	snprintf(p.scopes, sizeof p.scopes, "%s", CLOUD_DEFAULT_DELEGATED_SCOPES);
	return mint_refresh(ctx, &p, NULL);
}

static void respond_tokens(treq *t, const grant *g)
{
	char *access = cloud_token_mint(t->ctx, &g->p, CLOUD_TOKEN_LIFETIME);
	char oidc[64] = "";
	for (size_t i = 0; oidc_scopes[i]; i++)
		if (strcmp(oidc_scopes[i], "offline_access") && cloud_word_in(g->scope_out, oidc_scopes[i]))
			append_word(oidc, sizeof oidc, oidc_scopes[i]);
	char *refresh = g->refresh && access ? mint_refresh(t->ctx, &g->p, oidc) : NULL;
	char *id_token = NULL, *client_info = NULL;
	if (g->id_token && g->p.kind == CLOUD_PRINCIPAL_USER) {
		id_token = cloud_id_token_mint(t->ctx, &g->p, cloud_form_get(&t->form, "nonce"), t->now);
		client_info = cloud_client_info(g->p.user_id, cloud_state_tenant_id(t->ctx->state));
	}
	if (!access || (g->refresh && !refresh) || (g->id_token && (!id_token || !client_info))) {
		aad_error(t, 500, "temporarily_unavailable", 50000,
			  "There was an error issuing a token. The simulator could not sign it.");
		goto out;
	}
	cJSON *root = cJSON_CreateObject();
	int ok = root && cJSON_AddStringToObject(root, "token_type", "Bearer") &&
		 (!g->scope_out[0] || cJSON_AddStringToObject(root, "scope", g->scope_out)) &&
		 cJSON_AddNumberToObject(root, "expires_in", CLOUD_TOKEN_LIFETIME) &&
		 cJSON_AddNumberToObject(root, "ext_expires_in", CLOUD_TOKEN_LIFETIME) &&
		 cJSON_AddStringToObject(root, "access_token", access) &&
		 (!refresh || cJSON_AddStringToObject(root, "refresh_token", refresh)) &&
		 (!id_token || cJSON_AddStringToObject(root, "id_token", id_token)) &&
		 (!client_info || cJSON_AddStringToObject(root, "client_info", client_info));
	char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	cloud_respond_json(t->rs, 200, text);
out:
	free(access);
	free(refresh);
	free(id_token);
	free(client_info);
}

/* ---- the device-code endpoint ------------------------------------------------------- */

static int new_user_code(cloud_state *s, char out[16])
{
	/* No 0/O, 1/I/L: the code is read off one screen and typed into
	 * another. 31 symbols; bytes at or above 248 (8 x 31) are skipped so
	 * every symbol is equally likely. */
	static const char alphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
	enum { LEN = 9, SYMBOLS = sizeof alphabet - 1 };
	for (int attempt = 0; attempt < 16; attempt++) {
		size_t n = 0;
		while (n < LEN) {
			uint8_t b[16];
			if (ssrp_random_bytes(b, sizeof b) != SSRP_OK)
				return -1;
			for (size_t i = 0; i < sizeof b && n < LEN; i++)
				if (b[i] < 256 / SYMBOLS * SYMBOLS)
					out[n++] = alphabet[b[i] % SYMBOLS];
		}
		out[LEN] = '\0';
		if (!cloud_devicecode_find_user_code(s, out))
			return 0;
	}
	return -1;
}

/* Returns the response body's pieces under the lock; the JSON is built by
 * the caller. 0, or -1 with the error written. */
static int devicecode_start(treq *t, char *device_code, size_t dc_cap, char *user_code, char *scope_out,
			    size_t scope_cap)
{
	const char *client_id = cloud_form_get(&t->form, "client_id");
	const char *scope = cloud_form_get(&t->form, "scope");
	if (!client_id || !client_id[0]) {
		missing(t, "client_id");
		return -1;
	}
	if (!scope) {
		missing(t, "scope");
		return -1;
	}
	const cloud_app *app = cloud_app_find(t->ctx->state, client_id);
	if (!app) {
		aad_error(t, 400, "unauthorized_client", 700016,
			  "Application with identifier '%.64s' was not found in the directory '%s'.", client_id,
			  t->generic ? t->tenant : cloud_state_tenant_domain(t->ctx->state));
		return -1;
	}
	set_identity(t, "app", app->app_id);
	char scp[512];
	int offline;
	if (delegated_scopes(t, scope, scp, sizeof scp, scope_out, scope_cap, &offline))
		return -1;
	cloud_device_code dc;
	memset(&dc, 0, sizeof dc);
	if (strlen(scope) >= sizeof dc.scope) {
		aad_error(t, 400, "invalid_scope", 70011,
			  "The provided value for the input parameter 'scope' is not valid. It is too long.");
		return -1;
	}
	uint8_t raw[48];
	char *text = NULL;
	if (ssrp_random_bytes(raw, sizeof raw) != SSRP_OK || !(text = cloud_b64url_encode(raw, sizeof raw)) ||
	    new_user_code(t->ctx->state, dc.user_code) || ssrp_sha256(dc.code_sha256, text, strlen(text))) {
		free(text);
		aad_error(t, 500, "temporarily_unavailable", 50000, "The simulator could not make a device code.");
		return -1;
	}
	snprintf(device_code, dc_cap, "%s", text);
	ssrp_free_secret(text, strlen(text));
	ssrp_memzero(raw, sizeof raw);
	snprintf(dc.app_id, sizeof dc.app_id, "%s", app->app_id);
	snprintf(dc.scope, sizeof dc.scope, "%s", scope);
	dc.expires = t->now + CLOUD_DEVICECODE_LIFETIME;
	if (cloud_devicecode_add(t->ctx->state, &dc, t->now) != SSRP_OK) {
		aad_error(t, 400, "slow_down", 50196,
			  "The server terminated an operation because it encountered a client request loop: too "
			  "many device codes are pending.");
		ssrp_memzero(&dc, sizeof dc);
		return -1;
	}
	memcpy(user_code, dc.user_code, sizeof dc.user_code);
	ssrp_memzero(&dc, sizeof dc);
	return 0;
}

static void devicecode_respond(treq *t, const char *device_code, const char *user_code)
{
	char message[256];
	snprintf(message, sizeof message,
		 "To sign in, use a web browser to open the page " CLOUD_DEVICELOGIN_URI
		 " and enter the code %s to authenticate.",
		 user_code);
	cJSON *root = cJSON_CreateObject();
	int ok = root && cJSON_AddStringToObject(root, "user_code", user_code) &&
		 cJSON_AddStringToObject(root, "device_code", device_code) &&
		 cJSON_AddStringToObject(root, "verification_uri", CLOUD_DEVICELOGIN_URI) &&
		 cJSON_AddNumberToObject(root, "expires_in", CLOUD_DEVICECODE_LIFETIME) &&
		 cJSON_AddNumberToObject(root, "interval", CLOUD_DEVICECODE_INTERVAL) &&
		 cJSON_AddStringToObject(root, "message", message);
	char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	cloud_respond_json(t->rs, 200, text);
}

/* ---- entry points ------------------------------------------------------------------ */

enum endpoint { EP_TOKEN, EP_DEVICECODE };

/* "/{tenant}/oauth2/v2.0/token" → tenant and endpoint; -1 for other paths. */
static int parse_path(treq *t, enum endpoint *ep)
{
	const char *path = t->rq->path ? t->rq->path : "";
	if (path[0] != '/')
		return -1;
	const char *slash = strchr(path + 1, '/');
	if (!slash || slash == path + 1 || (size_t)(slash - path - 1) >= sizeof t->tenant)
		return -1;
	memcpy(t->tenant, path + 1, (size_t)(slash - path - 1));
	t->tenant[slash - path - 1] = '\0';
	if (!strcmp(slash, "/oauth2/v2.0/token"))
		*ep = EP_TOKEN;
	else if (!strcmp(slash, "/oauth2/v2.0/devicecode"))
		*ep = EP_DEVICECODE;
	else
		return -1;
	return 0;
}

static int tenant_known(treq *t)
{
	if (ssrp_ascii_ieq(t->tenant, "organizations") || ssrp_ascii_ieq(t->tenant, "common")) {
		t->generic = 1;
		return 1;
	}
	return ssrp_ascii_ieq(t->tenant, cloud_state_tenant_id(t->ctx->state)) ||
	       ssrp_ascii_ieq(t->tenant, cloud_state_tenant_domain(t->ctx->state));
}

static int is_form(const cloud_request *rq)
{
	const char *ct = cloud_request_header(rq, "content-type");
	static const char want[] = "application/x-www-form-urlencoded";
	if (!ct)
		return 0;
	while (*ct == ' ')
		ct++;
	char head[sizeof want];
	size_t n = strnlen(ct, sizeof want - 1);
	memcpy(head, ct, n);
	head[n] = '\0';
	return n == sizeof want - 1 && ssrp_ascii_ieq(head, want) &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

void cloud_token_handle(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs)
{
	treq t;
	memset(&t, 0, sizeof t);
	t.ctx = ctx;
	t.rq = rq;
	t.rs = rs;
	t.now = now_of(ctx);
	if (rq->request_id && ssrp_guid_is_bare(rq->request_id))
		cloud_id_normalize(t.trace_id, rq->request_id);
	else
		cloud_new_id(t.trace_id);
	const char *crid = cloud_request_header(rq, "client-request-id");
	if (crid && ssrp_guid_is_bare(crid))
		cloud_id_normalize(t.correlation_id, crid);
	else
		cloud_new_id(t.correlation_id);
	cloud_response_header(rs, "Cache-Control", "no-store, no-cache");
	cloud_response_header(rs, "Pragma", "no-cache");
	cloud_response_header(rs, "x-ms-request-id", t.trace_id);
	if (cloud_discovery_handle(ctx, rq, rs))
		return;
	enum endpoint ep;
	if (parse_path(&t, &ep)) {
		aad_error(&t, 404, "invalid_request", 0,
			  "The endpoint '%.200s' does not exist. Use /{tenant}/oauth2/v2.0/token or "
			  "/{tenant}/oauth2/v2.0/devicecode.",
			  rq->path ? rq->path : "");
		return;
	}
	if (!rq->method || strcmp(rq->method, "POST")) {
		aad_error(&t, 400, "invalid_request", 900561,
			  "The endpoint only accepts POST, OPTIONS requests. Received a %.16s request.",
			  rq->method ? rq->method : "(none)");
		return;
	}
	if (!tenant_known(&t)) {
		aad_error(&t, 400, "invalid_request", 90002,
			  "Tenant '%.100s' not found. Check to make sure you have the correct tenant ID and are "
			  "signing into the correct cloud. Check with your subscription administrator, this may "
			  "happen if there are no active subscriptions for the tenant.",
			  t.tenant);
		return;
	}
	if (rq->body_len > MAX_BODY) {
		aad_error(&t, 400, "invalid_request", 9000411,
			  "The request is not properly formatted. The body is larger than %d bytes.", MAX_BODY);
		return;
	}
	/* Entra reads a body of any other type as no parameters at all; the
	 * missing-parameter error that follows is what a client then sees. */
	if (is_form(rq) && cloud_form_parse(&t.form, (const char *)rq->body, rq->body_len) != SSRP_OK) {
		aad_error(&t, 400, "invalid_request", 9000411, "The request is not properly formatted. %s",
			  ssrp_error_last());
		return;
	}
	grant g;
	memset(&g, 0, sizeof g);
	int rc = -1;
	if (ep == EP_DEVICECODE) {
		char device_code[128], user_code[16], scope_out[1024];
		cloud_state_lock(ctx->state);
		rc = devicecode_start(&t, device_code, sizeof device_code, user_code, scope_out, sizeof scope_out);
		cloud_state_unlock(ctx->state);
		if (rc == 0)
			devicecode_respond(&t, device_code, user_code);
		ssrp_memzero(device_code, sizeof device_code);
		cloud_form_free(&t.form);
		return;
	}
	const char *gt = cloud_form_get(&t.form, "grant_type");
	if (!gt) {
		missing(&t, "grant_type");
		cloud_form_free(&t.form);
		return;
	}
	cloud_state_lock(ctx->state);
	if (!strcmp(gt, GRANT_CLIENT_CREDENTIALS))
		rc = grant_client_credentials(&t, &g);
	else if (!strcmp(gt, GRANT_PASSWORD))
		rc = grant_password(&t, &g);
	else if (!strcmp(gt, GRANT_REFRESH))
		rc = grant_refresh(&t, &g);
	else if (!strcmp(gt, GRANT_DEVICE_CODE) || !strcmp(gt, GRANT_DEVICE_CODE_SHORT))
		rc = grant_device_code(&t, &g);
	else
		aad_error(&t, 400, "unsupported_grant_type", 70003,
			  "The app requested an unsupported grant type '%.64s'.", gt);
	cloud_state_unlock(ctx->state);
	if (rc == 0)
		respond_tokens(&t, &g);
	cloud_form_free(&t.form);
}

/* ---- device-code approval ------------------------------------------------------------ */

int cloud_devicecode_approve(cloud_ctx *ctx, const char *user_code, const char *upn, const char *password)
{
	if (!user_code || !upn || !password)
		return ssrp_error_set(SSRP_E_INVALID, "device login: user code, UPN and password are all needed");
	uint64_t now = now_of(ctx);
	int rc = SSRP_OK;
	cloud_state_lock(ctx->state);
	cloud_device_code *dc = cloud_devicecode_find_user_code(ctx->state, user_code);
	const cloud_user *u = cloud_user_find(ctx->state, upn);
	if (!dc || now >= dc->expires)
		rc = ssrp_error_set(SSRP_E_NOTFOUND, "device login: no pending sign-in has the code '%.16s'",
				    user_code);
	else if (!u || !strchr(upn, '@'))
		rc = ssrp_error_set(SSRP_E_NOTFOUND, "device login: the tenant has no user '%.128s'", upn);
	else if (!cloud_user_check_password(u, password))
		rc = ssrp_error_set(SSRP_E_BAD_KEY, "device login: wrong password for %s", u->upn);
	else if (dc->user_id[0] && strcmp(dc->user_id, u->id))
		rc = ssrp_error_set(SSRP_E_REFUSED, "device login: the code '%.16s' was approved by another user",
				    user_code);
	else
		memcpy(dc->user_id, u->id, sizeof dc->user_id);
	cloud_state_unlock(ctx->state);
	return rc;
}

/* ---- bearer tokens for Graph ------------------------------------------------------------ */

static int refuse_401(cloud_response *rs, const cloud_request *rq, const char *why)
{
	cloud_graph_error(rs, rq, 401, "InvalidAuthenticationToken", "%s", why);
	cloud_response_header(rs, "WWW-Authenticate",
			      "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/"
			      "oauth2/authorize\", client_id=\"" CLOUD_GRAPH_APP_ID "\"");
	return ssrp_error_set(SSRP_E_REFUSED, "bearer token refused: %s", why);
}

/* The roles claim (an array of strings) as one space-separated list. */
static int roles_text(const cloud_jwt *jwt, char *out, size_t cap)
{
	out[0] = '\0';
	const cJSON *roles = cJSON_GetObjectItemCaseSensitive(jwt->claims, "roles");
	if (!roles)
		return 0;
	if (!cJSON_IsArray(roles))
		return -1;
	for (const cJSON *r = roles->child; r; r = r->next)
		if (!cJSON_IsString(r) || strchr(r->valuestring, ' ') || append_word(out, cap, r->valuestring))
			return -1;
	return 0;
}

int cloud_token_verify(cloud_ctx *ctx, const cloud_request *rq, cloud_principal *out, cloud_response *rs)
{
	memset(out, 0, sizeof *out);
	const char *auth = cloud_request_header(rq, "authorization");
	if (!auth || !auth[0])
		return refuse_401(rs, rq, "Access token is empty.");
	char scheme[8];
	size_t sl = strnlen(auth, 7);
	memcpy(scheme, auth, sl);
	scheme[sl] = '\0';
	if (sl != 7 || !ssrp_ascii_ieq(scheme, "Bearer "))
		return refuse_401(rs, rq, "Access token is empty: the Authorization header is not 'Bearer <token>'.");
	const char *token = auth + 7;
	while (*token == ' ')
		token++;
	if (!*token)
		return refuse_401(rs, rq, "Access token is empty.");
	uint64_t epoch_now = __atomic_load_n(&ctx->token_epoch, __ATOMIC_ACQUIRE);
	if (cloud_token_cache_get(ctx->token_cache, token, now_of(ctx), CLOUD_CLOCK_SKEW, out) &&
	    out->epoch >= epoch_now) {
		if (out->kind == CLOUD_PRINCIPAL_APP)
			snprintf(rs->identity, sizeof rs->identity, "app:%s", out->app_id);
		else
			snprintf(rs->identity, sizeof rs->identity, "user:%s", out->upn);
		return SSRP_OK;
	}
	cloud_jwt jwt;
	char why[600];
	if (cloud_jwt_parse(&jwt, token) != SSRP_OK) {
		snprintf(why, sizeof why, "CompactToken parsing failed: %s.", ssrp_error_last());
		return refuse_401(rs, rq, why);
	}
	int rc;
	uint64_t now = now_of(ctx), exp, nbf, epoch = 0;
	const char *kid = cloud_jwt_header_str(&jwt, "kid");
	const char *aud = cloud_jwt_claim_str(&jwt, "aud");
	const char *iss = cloud_jwt_claim_str(&jwt, "iss");
	const char *tid = cloud_jwt_claim_str(&jwt, "tid");
	const char *idtyp = cloud_jwt_claim_str(&jwt, "idtyp");
	const char *appid = cloud_jwt_claim_str(&jwt, "appid");
	char want_iss[128];
	snprintf(want_iss, sizeof want_iss, "https://sts.windows.net/%s/", cloud_state_tenant_id(ctx->state));
	if (ctx->token_kid[0] && (!kid || strcmp(kid, ctx->token_kid))) {
		rc = refuse_401(rs, rq, "Access token validation failure. The signing key is not one of the "
					"tenant's (kid).");
	} else if (cloud_jwt_verify(&jwt, ctx->token_key) != SSRP_OK) {
		rc = refuse_401(rs, rq, "Access token validation failure. Invalid signature.");
	} else if (!aud || (strcmp(aud, CLOUD_GRAPH_AUDIENCE) && strcmp(aud, CLOUD_GRAPH_AUDIENCE "/") &&
			    strcmp(aud, CLOUD_GRAPH_APP_ID))) {
		rc = refuse_401(rs, rq, "Access token validation failure. Invalid audience.");
	} else if (!tid || strcmp(tid, cloud_state_tenant_id(ctx->state))) {
		rc = refuse_401(rs, rq, "Access token validation failure. The token was issued for another tenant.");
	} else if (!iss || strcmp(iss, want_iss)) {
		rc = refuse_401(rs, rq, "Access token validation failure. Invalid issuer.");
	} else if (cloud_jwt_claim_time(&jwt, "exp", &exp) != 1 || cloud_jwt_claim_time(&jwt, "nbf", &nbf) != 1) {
		rc = refuse_401(rs, rq, "Access token validation failure. The token has no valid exp and nbf.");
	} else if (now > exp + CLOUD_CLOCK_SKEW ||
		   (cloud_jwt_claim_time(&jwt, "xms_ssrp_epoch", &epoch) == 1 && epoch < epoch_now)) {
		rc = refuse_401(rs, rq, "Lifetime validation failed, the token is expired.");
	} else if (nbf > now + CLOUD_CLOCK_SKEW) {
		rc = refuse_401(rs, rq, "Lifetime validation failed, the token is not yet valid.");
	} else if (!appid || !ssrp_guid_is_bare(appid) || !idtyp ||
		   (strcmp(idtyp, "app") && strcmp(idtyp, "user"))) {
		rc = refuse_401(rs, rq, "Access token validation failure. The token names no client (appid, idtyp).");
	} else {
		rc = SSRP_OK;
		out->expires = exp;
		out->epoch = epoch;
		cloud_id_normalize(out->app_id, appid);
		if (!strcmp(idtyp, "app")) {
			out->kind = CLOUD_PRINCIPAL_APP;
			if (roles_text(&jwt, out->roles, sizeof out->roles))
				rc = refuse_401(rs, rq, "Access token validation failure. The roles claim is malformed.");
			else
				snprintf(rs->identity, sizeof rs->identity, "app:%s", out->app_id);
		} else {
			const char *scp = cloud_jwt_claim_str(&jwt, "scp");
			const char *upn = cloud_jwt_claim_str(&jwt, "upn");
			const char *oid = cloud_jwt_claim_str(&jwt, "oid");
			out->kind = CLOUD_PRINCIPAL_USER;
			if (!scp || !upn || !oid || strlen(scp) >= sizeof out->scopes ||
			    strlen(upn) >= sizeof out->upn || cloud_id_normalize(out->user_id, oid) != SSRP_OK) {
				rc = refuse_401(rs, rq, "Access token validation failure. The user claims (scp, upn, "
							"oid) are malformed.");
			} else {
				snprintf(out->scopes, sizeof out->scopes, "%s", scp);
				snprintf(out->upn, sizeof out->upn, "%s", upn);
				snprintf(rs->identity, sizeof rs->identity, "user:%s", out->upn);
			}
		}
		if (rc != SSRP_OK)
			memset(out, 0, sizeof *out);
		else
			cloud_token_cache_put(ctx->token_cache, token, out);
	}
	cloud_jwt_free(&jwt);
	return rc;
}
