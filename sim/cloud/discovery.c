/* What clients of login.microsoftonline.com read before they ask for a
 * token, answered as Entra answers them:
 *   GET /{tenant}/v2.0/.well-known/openid-configuration   OpenID Provider
 *   GET /{tenant}/.well-known/openid-configuration        metadata, v2 and v1
 *   GET /common/discovery/instance?authorization_endpoint=  MSAL's instance
 *                                                          discovery (api 1.1)
 *   GET /{tenant}/discovery/v2.0/keys, /{tenant}/discovery/keys
 *                                                          the JWKS with the
 *                                                          token signing key
 * {tenant} is the tenant id, its domain, "common" or "organizations". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "hal/text.h"
#include "sim/cloud/cloud.h"
#include "sim/cloud/cloud_util.h"
#include "sim/cloud/jwt.h"
#include "sim/cloud/token.h"

#define LOGIN "https://login.microsoftonline.com"

static void discovery_error(cloud_response *rs, int status, const char *error, unsigned code, const char *what)
{
	char desc[512];
	snprintf(desc, sizeof desc, "AADSTS%u: %s", code, what);
	cJSON *o = cJSON_CreateObject();
	cJSON *codes = o ? cJSON_AddArrayToObject(o, "error_codes") : NULL;
	int ok = codes && cJSON_AddStringToObject(o, "error", error) &&
		 cJSON_AddStringToObject(o, "error_description", desc) &&
		 cJSON_AddItemToArray(codes, cJSON_CreateNumber(code));
	cloud_respond_json(rs, status, ok ? cJSON_PrintUnformatted(o) : NULL);
	cJSON_Delete(o);
}

/* 1 for the tenant's id or domain (*generic 0) or common/organizations
 * (*generic 1). */
static int tenant_ok(cloud_ctx *ctx, const char *tenant, int *generic)
{
	*generic = ssrp_ascii_ieq(tenant, "common") || ssrp_ascii_ieq(tenant, "organizations");
	return *generic || ssrp_ascii_ieq(tenant, cloud_state_tenant_id(ctx->state)) ||
	       ssrp_ascii_ieq(tenant, cloud_state_tenant_domain(ctx->state));
}

static int add_strings(cJSON *o, const char *name, const char *const *list)
{
	cJSON *a = cJSON_AddArrayToObject(o, name);
	for (size_t i = 0; a && list[i]; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateString(list[i])))
			return 0;
	return a != NULL;
}

static void openid_configuration(cloud_ctx *ctx, cloud_response *rs, const char *tenant, int generic, int v2)
{
	/* A named tenant is answered with its id; a generic authority keeps
	 * its name in the endpoints and a placeholder in the issuer. */
	const char *seg = generic ? tenant : cloud_state_tenant_id(ctx->state);
	const char *tid = generic ? "{tenantid}" : cloud_state_tenant_id(ctx->state);
	const char *ver = v2 ? "/v2.0" : "";
	char issuer[320], token[320], authz[320], logout[320], devicecode[320], jwks[320], kerberos[320];
	if (v2)
		snprintf(issuer, sizeof issuer, LOGIN "/%s/v2.0", tid);
	else
		snprintf(issuer, sizeof issuer, "https://sts.windows.net/%s/", tid);
	snprintf(token, sizeof token, LOGIN "/%s/oauth2%s/token", seg, ver);
	snprintf(authz, sizeof authz, LOGIN "/%s/oauth2%s/authorize", seg, ver);
	snprintf(logout, sizeof logout, LOGIN "/%s/oauth2%s/logout", seg, ver);
	snprintf(devicecode, sizeof devicecode, LOGIN "/%s/oauth2%s/devicecode", seg, ver);
	snprintf(jwks, sizeof jwks, LOGIN "/%s/discovery%s/keys", v2 ? seg : "common", ver);
	snprintf(kerberos, sizeof kerberos, LOGIN "/%s/kerberos", seg);
	static const char *const auth_methods[] = {"client_secret_post", "private_key_jwt", "client_secret_basic",
						   NULL};
	static const char *const modes[] = {"query", "fragment", "form_post", NULL};
	static const char *const subjects[] = {"pairwise", NULL};
	static const char *const algs[] = {"RS256", NULL};
	static const char *const types_v2[] = {"code", "id_token", "code id_token", "id_token token", NULL};
	static const char *const types_v1[] = {"code", "id_token", "code id_token", "token id_token", "token", NULL};
	static const char *const scopes[] = {"openid", "profile", "email", "offline_access", NULL};
	static const char *const claims_v2[] = {"sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
						"cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat",
						"auth_time", "acr", "nonce", "preferred_username", "name", "tid",
						"ver", "at_hash", "c_hash", "email", NULL};
	static const char *const claims_v1[] = {"sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
						"cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat",
						"auth_time", "acr", "amr", "nonce", "email", "given_name",
						"family_name", "nickname", NULL};
	cJSON *o = cJSON_CreateObject();
	int ok = o && cJSON_AddStringToObject(o, "token_endpoint", token) &&
		 add_strings(o, "token_endpoint_auth_methods_supported", auth_methods) &&
		 cJSON_AddStringToObject(o, "jwks_uri", jwks) && add_strings(o, "response_modes_supported", modes) &&
		 add_strings(o, "subject_types_supported", subjects) &&
		 add_strings(o, "id_token_signing_alg_values_supported", algs) &&
		 add_strings(o, "response_types_supported", v2 ? types_v2 : types_v1) &&
		 add_strings(o, "scopes_supported", scopes) &&
		 cJSON_AddStringToObject(o, "issuer", issuer) &&
		 cJSON_AddBoolToObject(o, "request_uri_parameter_supported", 0) &&
		 cJSON_AddStringToObject(o, "userinfo_endpoint", "https://graph.microsoft.com/oidc/userinfo") &&
		 cJSON_AddStringToObject(o, "authorization_endpoint", authz) &&
		 cJSON_AddStringToObject(o, "device_authorization_endpoint", devicecode) &&
		 cJSON_AddBoolToObject(o, "http_logout_supported", 1) &&
		 cJSON_AddBoolToObject(o, "frontchannel_logout_supported", 1) &&
		 cJSON_AddStringToObject(o, "end_session_endpoint", logout) &&
		 add_strings(o, "claims_supported", v2 ? claims_v2 : claims_v1) &&
		 cJSON_AddStringToObject(o, "kerberos_endpoint", kerberos) &&
		 (generic || cJSON_AddStringToObject(o, "tenant_region_scope", "NA")) &&
		 cJSON_AddStringToObject(o, "cloud_instance_name", "microsoftonline.com") &&
		 cJSON_AddStringToObject(o, "cloud_graph_host_name", "graph.windows.net") &&
		 cJSON_AddStringToObject(o, "msgraph_host", "graph.microsoft.com") &&
		 cJSON_AddStringToObject(o, "rbac_url", "https://pas.windows.net");
	cloud_respond_json(rs, 200, ok ? cJSON_PrintUnformatted(o) : NULL);
	cJSON_Delete(o);
}

/* A BIGNUM parameter of an RSA key as base64url of its big-endian bytes. */
static char *rsa_param(EVP_PKEY *key, const char *name)
{
	BIGNUM *bn = NULL;
	if (EVP_PKEY_get_bn_param(key, name, &bn) != 1)
		return NULL;
	int n = BN_num_bytes(bn);
	unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
	char *text = buf && BN_bn2bin(bn, buf) == n ? cloud_b64url_encode(buf, (size_t)n) : NULL;
	free(buf);
	BN_free(bn);
	return text;
}

static void keys(cloud_ctx *ctx, cloud_response *rs, const char *tenant, int generic, int v2)
{
	char *n = rsa_param(ctx->token_key, OSSL_PKEY_PARAM_RSA_N);
	char *e = rsa_param(ctx->token_key, OSSL_PKEY_PARAM_RSA_E);
	char issuer[320];
	snprintf(issuer, sizeof issuer, LOGIN "/%s/v2.0", generic ? "{tenantid}" : cloud_state_tenant_id(ctx->state));
	(void)tenant;
	cJSON *o = cJSON_CreateObject(), *list = o ? cJSON_AddArrayToObject(o, "keys") : NULL, *k = NULL, *x5c;
	int ok = n && e && list && (k = cJSON_CreateObject()) && cJSON_AddItemToArray(list, k) &&
		 cJSON_AddStringToObject(k, "kty", "RSA") && cJSON_AddStringToObject(k, "use", "sig") &&
		 (!ctx->token_kid[0] || (cJSON_AddStringToObject(k, "kid", ctx->token_kid) &&
					 cJSON_AddStringToObject(k, "x5t", ctx->token_kid))) &&
		 cJSON_AddStringToObject(k, "n", n) && cJSON_AddStringToObject(k, "e", e) &&
		 (!ctx->token_x5c || ((x5c = cJSON_AddArrayToObject(k, "x5c")) &&
				      cJSON_AddItemToArray(x5c, cJSON_CreateString(ctx->token_x5c)))) &&
		 (!v2 || cJSON_AddStringToObject(k, "issuer", issuer));
	free(n);
	free(e);
	if (!ok) {
		cJSON_Delete(o);
		discovery_error(rs, 500, "temporarily_unavailable", 50000, "The signing key could not be published.");
		return;
	}
	cloud_response_header(rs, "Cache-Control", "max-age=86400, private");
	cloud_respond_json(rs, 200, cJSON_PrintUnformatted(o));
	cJSON_Delete(o);
}

/* MSAL's instance discovery: which authority hosts are one cloud, and
 * where the tenant's metadata is. */
static void instance(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs)
{
	(void)ctx;
	char authz[512], tenant[128];
	int has = cloud_query_param(rq, "authorization_endpoint", authz, sizeof authz);
	if (has != 1) {
		discovery_error(rs, 400, "invalid_request", 900144,
				"The request body must contain the following parameter: 'authorization_endpoint'.");
		return;
	}
	static const char prefix[] = LOGIN "/";
	const char *rest = !strncmp(authz, prefix, sizeof prefix - 1) ? authz + sizeof prefix - 1 : NULL;
	size_t tl = rest ? strcspn(rest, "/") : 0;
	if (!rest || !tl || tl >= sizeof tenant) {
		discovery_error(rs, 400, "invalid_instance", 50049, "Unknown or invalid instance.");
		return;
	}
	memcpy(tenant, rest, tl);
	tenant[tl] = '\0';
	char endpoint[300];
	snprintf(endpoint, sizeof endpoint, LOGIN "/%s/v2.0/.well-known/openid-configuration", tenant);
	static const char *const aliases[] = {"login.microsoftonline.com", "login.windows.net",
					      "login.microsoft.com", "sts.windows.net", NULL};
	cJSON *o = cJSON_CreateObject(), *meta = o ? cJSON_AddArrayToObject(o, "metadata") : NULL, *m = NULL;
	int ok = meta && cJSON_AddStringToObject(o, "tenant_discovery_endpoint", endpoint) &&
		 cJSON_AddStringToObject(o, "api-version", "1.1") && (m = cJSON_CreateObject()) &&
		 cJSON_AddItemToArray(meta, m) &&
		 cJSON_AddStringToObject(m, "preferred_network", "login.microsoftonline.com") &&
		 cJSON_AddStringToObject(m, "preferred_cache", "login.windows.net") &&
		 add_strings(m, "aliases", aliases);
	cloud_respond_json(rs, 200, ok ? cJSON_PrintUnformatted(o) : NULL);
	cJSON_Delete(o);
}

int cloud_discovery_handle(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs)
{
	const char *path = rq->path ? rq->path : "";
	if (!rq->method || strcmp(rq->method, "GET") || path[0] != '/')
		return 0;
	if (!strcmp(path, "/common/discovery/instance")) {
		instance(ctx, rq, rs);
		return 1;
	}
	const char *slash = strchr(path + 1, '/');
	char tenant[128];
	if (!slash || slash == path + 1 || (size_t)(slash - path - 1) >= sizeof tenant)
		return 0;
	memcpy(tenant, path + 1, (size_t)(slash - path - 1));
	tenant[slash - path - 1] = '\0';
	enum { OIDC_V2, OIDC_V1, KEYS_V2, KEYS_V1, NONE } what = NONE;
	if (!strcmp(slash, "/v2.0/.well-known/openid-configuration"))
		what = OIDC_V2;
	else if (!strcmp(slash, "/.well-known/openid-configuration"))
		what = OIDC_V1;
	else if (!strcmp(slash, "/discovery/v2.0/keys"))
		what = KEYS_V2;
	else if (!strcmp(slash, "/discovery/keys"))
		what = KEYS_V1;
	if (what == NONE)
		return 0;
	int generic;
	if (!tenant_ok(ctx, tenant, &generic)) {
		char what_text[256];
		snprintf(what_text, sizeof what_text,
			 "Tenant '%.100s' not found. Check to make sure you have the correct tenant ID and are "
			 "signing into the correct cloud.",
			 tenant);
		discovery_error(rs, 400, "invalid_tenant", 90002, what_text);
		return 1;
	}
	if (what == OIDC_V2 || what == OIDC_V1)
		openid_configuration(ctx, rs, tenant, generic, what == OIDC_V2);
	else
		keys(ctx, rs, tenant, generic, what == KEYS_V2);
	return 1;
}
