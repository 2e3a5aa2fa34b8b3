/* The simulated token endpoint (sim/cloud/token.c) and the helpers under
 * it: every grant, client assertions signed here with a generated key and
 * certificate, each AADSTS refusal, mint → verify, and the 401s
 * cloud_token_verify gives expired, forged, foreign and unsigned tokens;
 * base64url, JWT, form and query parsing on their own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "hal/crypto.h"
#include "hal/guid.h"
#include "hal/hex.h"
#include "sim/cloud/cloud.h"
#include "sim/cloud/cloud_util.h"
#include "sim/cloud/jwt.h"
#include "sim/cloud/token.h"
#include "tests/test_rsa_key.h"
#include "ssrp/error.h"

#define TENANT "11111111-2222-4333-8444-555555555555"
#define DOMAIN "contoso.example"
#define ALICE "aaaaaaaa-0000-4000-8000-000000000001"
#define CONF "cccccccc-0000-4000-8000-000000000001"   /* secret and certificate */
#define PUB "cccccccc-0000-4000-8000-000000000002"    /* public client */
#define NOCERT "cccccccc-0000-4000-8000-000000000003" /* secret only */
#define REQUEST_ID "01234567-89ab-4cde-8f01-23456789abcd"
#define TOKEN_PATH "/" TENANT "/oauth2/v2.0/token"
#define TOKEN_URL "https://login.microsoftonline.com/" TENANT "/oauth2/v2.0/token"
#define GRAPH_DEFAULT "https://graph.microsoft.com/.default"
#define T0 1700000000u

static struct {
	EVP_PKEY *token_key, *cert_key, *other_key;
	X509 *cert;
	char *cert_pem;
	char x5t[64], x5t256[64];
	cloud_state *state;
	cloud_ctx ctx;
} fx;

static uint64_t fake_now = T0;

static uint64_t clock_now(void)
{
	return fake_now;
}

/* ---- fixture --------------------------------------------------------------- */

static char *sha256_hex(const char *text)
{
	static char hex[4][65];
	static int next;
	uint8_t h[32];
	assert_int_equal(ssrp_sha256(h, text, strlen(text)), 0);
	char *out = hex[next++ % 4];
	ssrp_hex_encode(out, h, 32);
	return out;
}

static X509 *self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"ssrp test app", -1, -1, 0);
	X509_set_issuer_name(x, n);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static void thumb(char *out, size_t cap, X509 *x, const EVP_MD *md)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n;
	assert_int_equal(X509_digest(x, md, d, &n), 1);
	char *b = cloud_b64url_encode(d, n);
	snprintf(out, cap, "%s", b);
	free(b);
}

static int group_setup(void **unused)
{
	(void)unused;
	fx.token_key = test_rsa_key();
	fx.cert_key = test_rsa_key();
	fx.other_key = test_rsa_key();
	if (!fx.token_key || !fx.cert_key || !fx.other_key)
		return -1;
	fx.cert = self_signed(fx.cert_key);
	BIO *bio = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(bio, fx.cert);
	char *data;
	long len = BIO_get_mem_data(bio, &data);
	fx.cert_pem = strndup(data, (size_t)len);
	BIO_free(bio);
	thumb(fx.x5t, sizeof fx.x5t, fx.cert, EVP_sha1());
	thumb(fx.x5t256, sizeof fx.x5t256, fx.cert, EVP_sha256());
	return 0;
}

static int group_teardown(void **unused)
{
	(void)unused;
	EVP_PKEY_free(fx.token_key);
	EVP_PKEY_free(fx.cert_key);
	EVP_PKEY_free(fx.other_key);
	X509_free(fx.cert);
	free(fx.cert_pem);
	return 0;
}

static cJSON *add_app(cJSON *apps, const char *id, const char *secret, int with_cert, int public_client)
{
	cJSON *a = cJSON_CreateObject();
	cJSON_AddItemToArray(apps, a);
	cJSON_AddStringToObject(a, "appId", id);
	cJSON_AddStringToObject(a, "displayName", "app");
	if (secret)
		cJSON_AddStringToObject(a, "secretSha256", sha256_hex(secret));
	if (with_cert)
		cJSON_AddStringToObject(a, "certificatePem", fx.cert_pem);
	cJSON_AddBoolToObject(a, "publicClient", public_client);
	cJSON *roles = cJSON_AddArrayToObject(a, "roles");
	if (!public_client) {
		cJSON_AddItemToArray(roles, cJSON_CreateString("User.Read.All"));
		cJSON_AddItemToArray(roles, cJSON_CreateString("BitLockerKey.Read.All"));
	}
	return a;
}

static cloud_state *make_state(const char *tenant)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *t = cJSON_AddObjectToObject(root, "tenant");
	cJSON_AddStringToObject(t, "id", tenant);
	cJSON_AddStringToObject(t, "domain", DOMAIN);
	cJSON_AddStringToObject(t, "createdDateTime", "2019-03-04T05:06:07Z");
	cJSON *users = cJSON_AddArrayToObject(root, "users");
	cJSON *u = cJSON_CreateObject();
	cJSON_AddItemToArray(users, u);
	cJSON_AddStringToObject(u, "id", ALICE);
	cJSON_AddStringToObject(u, "userPrincipalName", "alice@" DOMAIN);
	cJSON_AddStringToObject(u, "displayName", "Alice");
	cJSON_AddStringToObject(u, "passwordSha256", sha256_hex("alice pw+&="));
	cJSON *apps = cJSON_AddArrayToObject(root, "apps");
	add_app(apps, CONF, "conf-secret", 1, 0);
	add_app(apps, PUB, NULL, 0, 1);
	add_app(apps, NOCERT, "nocert-secret", 0, 0);
	char *text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	cloud_state *s = NULL;
	if (cloud_state_from_json(&s, text, strlen(text)) != SSRP_OK)
		fail_msg("fixture tenant: %s", ssrp_error_last());
	free(text);
	return s;
}

static int setup(void **unused)
{
	(void)unused;
	fake_now = T0;
	fx.state = make_state(TENANT);
	memset(&fx.ctx, 0, sizeof fx.ctx);
	fx.ctx.state = fx.state;
	fx.ctx.token_key = fx.token_key;
	snprintf(fx.ctx.token_kid, sizeof fx.ctx.token_kid, "sim-kid-1");
	fx.ctx.now = clock_now;
	return 0;
}

static int teardown(void **unused)
{
	(void)unused;
	cloud_state_free(fx.state);
	fx.state = NULL;
	return 0;
}

/* ---- requests --------------------------------------------------------------- */

/* Append name=value to a form body, percent-encoding the value. */
static void form_add(char *body, size_t cap, const char *name, const char *value)
{
	size_t n = strlen(body);
	n += (size_t)snprintf(body + n, cap - n, "%s%s=", n ? "&" : "", name);
	for (const unsigned char *p = (const unsigned char *)value; *p && n + 4 < cap; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p))
			body[n++] = (char)*p;
		else
			n += (size_t)snprintf(body + n, cap - n, "%%%02X", *p);
	}
	body[n] = '\0';
}

/* A form from name, value, ..., NULL. */
static char *form(const char *first, ...)
{
	static char body[16384];
	body[0] = '\0';
	va_list ap;
	va_start(ap, first);
	for (const char *name = first; name; name = va_arg(ap, const char *))
		form_add(body, sizeof body, name, va_arg(ap, const char *));
	va_end(ap);
	return body;
}

static cJSON *call(const char *method, const char *path, const char *body, cloud_response *rs)
{
	cloud_request rq;
	memset(&rq, 0, sizeof rq);
	rq.method = method;
	rq.host = CLOUD_HOST_LOGIN;
	rq.path = path;
	rq.query = "";
	rq.headers[0].name = "content-type";
	rq.headers[0].value = "application/x-www-form-urlencoded";
	rq.n_headers = 1;
	rq.body = (const uint8_t *)body;
	rq.body_len = strlen(body);
	rq.request_id = REQUEST_ID;
	cloud_response_init(rs);
	cloud_token_handle(&fx.ctx, &rq, rs);
	assert_non_null(rs->body);
	assert_non_null(strstr(rs->content_type, "application/json"));
	cJSON *json = cJSON_Parse(rs->body);
	assert_non_null(json);
	return json;
}

static cJSON *post(const char *body, cloud_response *rs)
{
	return call("POST", TOKEN_PATH, body, rs);
}

/* The AADSTS error shape, with the code in the description and the
 * request's trace id. */
static void expect_aad(const char *body, int status, const char *error, unsigned code)
{
	cloud_response rs;
	cJSON *j = post(body, &rs);
	const cJSON *e = cJSON_GetObjectItem(j, "error");
	const cJSON *codes = cJSON_GetObjectItem(j, "error_codes");
	const cJSON *desc = cJSON_GetObjectItem(j, "error_description");
	const cJSON *ts = cJSON_GetObjectItem(j, "timestamp");
	if (rs.status != status || !cJSON_IsString(e) || strcmp(e->valuestring, error) ||
	    !cJSON_IsArray(codes) || cJSON_GetArraySize(codes) != 1 ||
	    cJSON_GetArrayItem(codes, 0)->valuedouble != code)
		fail_msg("wanted %d %s AADSTS%u, got %d %s", status, error, code, rs.status, rs.body);
	char prefix[32];
	snprintf(prefix, sizeof prefix, "AADSTS%u: ", code);
	assert_true(cJSON_IsString(desc));
	assert_int_equal(strncmp(desc->valuestring, prefix, strlen(prefix)), 0);
	assert_non_null(strstr(desc->valuestring, "\r\nTrace ID: " REQUEST_ID "\r\nCorrelation ID: "));
	char stamp[CLOUD_TIME_ISO_LEN + 1], line[64];
	cloud_time_format_iso(stamp, fake_now);
	stamp[10] = ' '; /* "2023-11-14 22:13:20Z" */
	snprintf(line, sizeof line, "\r\nTimestamp: %s", stamp);
	assert_non_null(strstr(desc->valuestring, line));
	assert_string_equal(ts->valuestring, stamp);
	assert_string_equal(cJSON_GetObjectItem(j, "trace_id")->valuestring, REQUEST_ID);
	assert_true(ssrp_guid_is_bare(cJSON_GetObjectItem(j, "correlation_id")->valuestring));
	/* Secrets sent in the request never come back in an error. */
	assert_null(strstr(rs.body, "conf-secret"));
	assert_null(strstr(rs.body, "alice pw"));
	cJSON_Delete(j);
	cloud_response_free(&rs);
}

/* A 200 token response: the access token (malloc'd) and, when asked, the
 * refresh token and scope. */
static char *expect_token(const char *body, char **refresh, char *scope, size_t scope_cap, char *identity,
			  size_t id_cap)
{
	cloud_response rs;
	cJSON *j = post(body, &rs);
	if (rs.status != 200)
		fail_msg("wanted a token, got %d %s", rs.status, rs.body);
	assert_string_equal(cJSON_GetObjectItem(j, "token_type")->valuestring, "Bearer");
	assert_int_equal(cJSON_GetObjectItem(j, "expires_in")->valueint, 3599);
	assert_int_equal(cJSON_GetObjectItem(j, "ext_expires_in")->valueint, 3599);
	char *access = strdup(cJSON_GetObjectItem(j, "access_token")->valuestring);
	const cJSON *r = cJSON_GetObjectItem(j, "refresh_token");
	if (refresh)
		*refresh = r ? strdup(r->valuestring) : NULL;
	const cJSON *sc = cJSON_GetObjectItem(j, "scope");
	if (scope)
		snprintf(scope, scope_cap, "%s", sc ? sc->valuestring : "");
	if (identity)
		snprintf(identity, id_cap, "%s", rs.identity);
	cJSON_Delete(j);
	cloud_response_free(&rs);
	return access;
}

static int verify_with(cloud_ctx *ctx, const char *authorization, cloud_principal *p, cloud_response *rs)
{
	cloud_request rq;
	memset(&rq, 0, sizeof rq);
	rq.method = "GET";
	rq.host = CLOUD_HOST_GRAPH;
	rq.path = "/v1.0/users";
	rq.query = "";
	if (authorization) {
		rq.headers[0].name = "authorization";
		rq.headers[0].value = authorization;
		rq.n_headers = 1;
	}
	rq.request_id = REQUEST_ID;
	cloud_response_init(rs);
	return cloud_token_verify(ctx, &rq, p, rs);
}

static int verify(const char *token, cloud_principal *p)
{
	char auth[CLOUD_JWT_MAX_LEN + 16];
	snprintf(auth, sizeof auth, "Bearer %s", token);
	cloud_response rs;
	int rc = verify_with(&fx.ctx, auth, p, &rs);
	cloud_response_free(&rs);
	return rc;
}

/* A 401 InvalidAuthenticationToken whose message has words. */
static void expect_401(cloud_ctx *ctx, const char *authorization, const char *words)
{
	cloud_principal p;
	cloud_response rs;
	assert_int_not_equal(verify_with(ctx, authorization, &p, &rs), 0);
	assert_int_equal(rs.status, 401);
	cJSON *j = cJSON_Parse(rs.body);
	assert_non_null(j);
	const cJSON *e = cJSON_GetObjectItem(j, "error");
	assert_string_equal(cJSON_GetObjectItem(e, "code")->valuestring, "InvalidAuthenticationToken");
	const char *msg = cJSON_GetObjectItem(e, "message")->valuestring;
	if (!strstr(msg, words))
		fail_msg("401 message '%s' lacks '%s'", msg, words);
	const cJSON *inner = cJSON_GetObjectItem(e, "innerError");
	assert_string_equal(cJSON_GetObjectItem(inner, "request-id")->valuestring, REQUEST_ID);
	assert_non_null(cJSON_GetObjectItem(inner, "date"));
	int www = 0;
	for (size_t i = 0; i < rs.n_headers; i++)
		www |= !strcmp(rs.headers[i].name, "WWW-Authenticate");
	assert_true(www);
	assert_string_equal(p.app_id, "");
	cJSON_Delete(j);
	cloud_response_free(&rs);
}

/* A client assertion with the claims a test wants. */
struct assertion_spec {
	EVP_PKEY *key;
	const char *alg, *x5t, *x5t256, *aud, *iss, *sub;
	long exp_offset, nbf_offset;
	int no_jti;
};

static char *assertion(const struct assertion_spec *a)
{
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "aud", a->aud ? a->aud : TOKEN_URL);
	cJSON_AddStringToObject(c, "iss", a->iss ? a->iss : CONF);
	cJSON_AddStringToObject(c, "sub", a->sub ? a->sub : CONF);
	cJSON_AddNumberToObject(c, "exp", (double)((long)fake_now + (a->exp_offset ? a->exp_offset : 600)));
	cJSON_AddNumberToObject(c, "nbf", (double)((long)fake_now + a->nbf_offset));
	if (!a->no_jti)
		cJSON_AddStringToObject(c, "jti", "5f4c2a07-2b0e-4d2c-a44b-6c5f5c5b9a10");
	char *t = cloud_jwt_sign(a->key ? a->key : fx.cert_key, a->alg ? a->alg : "RS256", NULL,
				 a->x5t, a->x5t256, c);
	assert_non_null(t);
	cJSON_Delete(c);
	return t;
}

static char *assertion_body(const char *jwt)
{
	return form("client_id", CONF, "scope", GRAPH_DEFAULT, "client_assertion_type",
		    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion", jwt,
		    "grant_type", "client_credentials", NULL);
}

/* ---- client credentials ---------------------------------------------------------- */

static void client_credentials_secret(void **unused)
{
	(void)unused;
	char identity[160];
	char *t = expect_token(form("client_id", CONF, "scope", GRAPH_DEFAULT, "client_secret", "conf-secret",
				    "grant_type", "client_credentials", NULL),
			       NULL, NULL, 0, identity, sizeof identity);
	assert_string_equal(identity, "app:" CONF);
	cloud_principal p;
	assert_int_equal(verify(t, &p), 0);
	assert_int_equal(p.kind, CLOUD_PRINCIPAL_APP);
	assert_string_equal(p.app_id, CONF);
	assert_true(cloud_word_in(p.roles, "BitLockerKey.Read.All"));
	assert_true(cloud_word_in(p.roles, "User.Read.All"));
	assert_string_equal(p.scopes, "");
	assert_int_equal(p.expires, T0 + 3599);
	/* The claims Graph clients look at. */
	cloud_jwt jwt;
	assert_int_equal(cloud_jwt_parse(&jwt, t), SSRP_OK);
	assert_string_equal(cloud_jwt_header_str(&jwt, "kid"), "sim-kid-1");
	assert_string_equal(cloud_jwt_claim_str(&jwt, "iss"), "https://sts.windows.net/" TENANT "/");
	assert_string_equal(cloud_jwt_claim_str(&jwt, "tid"), TENANT);
	assert_string_equal(cloud_jwt_claim_str(&jwt, "idtyp"), "app");
	cloud_jwt_free(&jwt);
	free(t);

	/* The tenant by domain name and in upper case; the other resource
	 * spelling of .default. */
	free(expect_token(form("client_id", CONF, "scope", CLOUD_GRAPH_APP_ID "/.default", "client_secret",
			       "conf-secret", "grant_type", "client_credentials", NULL),
			  NULL, NULL, 0, NULL, 0));
	cloud_response rs;
	cJSON *j = call("POST", "/" DOMAIN "/oauth2/v2.0/token",
			form("client_id", CONF, "scope", GRAPH_DEFAULT, "client_secret", "conf-secret", "grant_type",
			     "client_credentials", NULL),
			&rs);
	assert_int_equal(rs.status, 200);
	cJSON_Delete(j);
	cloud_response_free(&rs);
	j = call("POST", "/11111111-2222-4333-8444-555555555555/oauth2/v2.0/token",
		 form("client_id", "CCCCCCCC-0000-4000-8000-000000000001", "scope", GRAPH_DEFAULT, "client_secret",
		      "conf-secret", "grant_type", "client_credentials", NULL),
		 &rs);
	assert_int_equal(rs.status, 200);
	cJSON_Delete(j);
	cloud_response_free(&rs);
}

static void client_credentials_refusals(void **unused)
{
	(void)unused;
	expect_aad(form("client_id", "dddddddd-0000-4000-8000-000000000009", "scope", GRAPH_DEFAULT, "client_secret",
			"x", "grant_type", "client_credentials", NULL),
		   400, "unauthorized_client", 700016);
	expect_aad(form("client_id", CONF, "scope", GRAPH_DEFAULT, "client_secret", "wrong", "grant_type",
			"client_credentials", NULL),
		   401, "invalid_client", 7000215);
	expect_aad(form("client_id", CONF, "scope", GRAPH_DEFAULT, "grant_type", "client_credentials", NULL), 401,
		   "invalid_client", 7000218);
	expect_aad(form("client_id", PUB, "scope", GRAPH_DEFAULT, "grant_type", "client_credentials", NULL), 401,
		   "invalid_client", 7000218);
	/* A named permission where the flow needs the resource's .default. */
	expect_aad(form("client_id", CONF, "scope", "https://graph.microsoft.com/User.Read.All", "client_secret",
			"conf-secret", "grant_type", "client_credentials", NULL),
		   400, "invalid_scope", 1002012);
	expect_aad(form("client_id", CONF, "scope", GRAPH_DEFAULT " " GRAPH_DEFAULT, "client_secret", "conf-secret",
			"grant_type", "client_credentials", NULL),
		   400, "invalid_scope", 70011);
	expect_aad(form("client_id", CONF, "scope", "https://vault.azure.net/.default", "client_secret",
			"conf-secret", "grant_type", "client_credentials", NULL),
		   400, "invalid_scope", 70011);
	expect_aad(form("client_id", CONF, "client_secret", "conf-secret", "grant_type", "client_credentials", NULL),
		   400, "invalid_request", 900144);
	expect_aad(form("scope", GRAPH_DEFAULT, "client_secret", "conf-secret", "grant_type", "client_credentials",
			NULL),
		   400, "invalid_request", 900144);
	expect_aad(form("client_id", CONF, "scope", GRAPH_DEFAULT, "client_secret", "conf-secret", NULL), 400,
		   "invalid_request", 900144);
	expect_aad(form("client_id", CONF, "scope", GRAPH_DEFAULT, "client_secret", "conf-secret", "grant_type",
			"authorization_code", NULL),
		   400, "unsupported_grant_type", 70003);
	expect_aad("client_id=" CONF "&client_id=" CONF "&grant_type=client_credentials", 400, "invalid_request",
		   9000411);
	expect_aad("client_id=" CONF "&grant_type=client%2", 400, "invalid_request", 9000411);
	/* Both credentials at once. */
	expect_aad(form("client_id", CONF, "scope", GRAPH_DEFAULT, "client_secret", "conf-secret",
			"client_assertion", "x.y.z", "client_assertion_type",
			"urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "grant_type", "client_credentials",
			NULL),
		   400, "invalid_request", 9000411);

	/* Tenants: unknown, and none named for an app-only token. */
	cloud_response rs;
	const char *body = form("client_id", CONF, "scope", GRAPH_DEFAULT, "client_secret", "conf-secret",
				"grant_type", "client_credentials", NULL);
	char copy[4096];
	snprintf(copy, sizeof copy, "%s", body);
	cJSON *j = call("POST", "/fabrikam.example/oauth2/v2.0/token", copy, &rs);
	assert_int_equal(rs.status, 400);
	assert_non_null(strstr(rs.body, "AADSTS90002"));
	cJSON_Delete(j);
	cloud_response_free(&rs);
	j = call("POST", "/organizations/oauth2/v2.0/token", copy, &rs);
	assert_int_equal(rs.status, 400);
	assert_non_null(strstr(rs.body, "AADSTS50059"));
	cJSON_Delete(j);
	cloud_response_free(&rs);
	j = call("GET", TOKEN_PATH, copy, &rs);
	assert_int_equal(rs.status, 400);
	assert_non_null(strstr(rs.body, "AADSTS900561"));
	cJSON_Delete(j);
	cloud_response_free(&rs);
	j = call("POST", "/" TENANT "/oauth2/token", copy, &rs);
	assert_int_equal(rs.status, 404);
	cJSON_Delete(j);
	cloud_response_free(&rs);
	/* A JSON body is no form: Entra sees no parameters at all. */
	cloud_request rq;
	memset(&rq, 0, sizeof rq);
	rq.method = "POST";
	rq.path = TOKEN_PATH;
	rq.query = "";
	rq.headers[0].name = "content-type";
	rq.headers[0].value = "application/json";
	rq.n_headers = 1;
	rq.body = (const uint8_t *)"{\"grant_type\":\"client_credentials\"}";
	rq.body_len = strlen((const char *)rq.body);
	cloud_response_init(&rs);
	cloud_token_handle(&fx.ctx, &rq, &rs);
	assert_int_equal(rs.status, 400);
	assert_non_null(strstr(rs.body, "AADSTS900144: The request body must contain the following parameter: "
					"'grant_type'."));
	cloud_response_free(&rs);
}

static void client_assertions(void **unused)
{
	(void)unused;
	/* RS256 with x5t (SHA-1), PS256 with x5t#S256, and both thumbprints. */
	struct assertion_spec rs256 = {.x5t = fx.x5t};
	struct assertion_spec ps256 = {.alg = "PS256", .x5t256 = fx.x5t256};
	struct assertion_spec both = {.x5t = fx.x5t, .x5t256 = fx.x5t256,
				      .aud = "https://login.microsoftonline.com/" DOMAIN "/oauth2/v2.0/token"};
	const struct assertion_spec *good[] = {&rs256, &ps256, &both};
	for (size_t i = 0; i < 3; i++) {
		char *a = assertion(good[i]);
		char identity[160];
		char *t = expect_token(assertion_body(a), NULL, NULL, 0, identity, sizeof identity);
		assert_string_equal(identity, "app:" CONF);
		cloud_principal p;
		assert_int_equal(verify(t, &p), 0);
		assert_string_equal(p.app_id, CONF);
		free(t);
		free(a);
	}

	struct {
		struct assertion_spec spec;
		unsigned code;
	} bad[] = {
		{{.key = NULL, .x5t = "AAAA"}, 700027},                   /* unknown thumbprint */
		{{.x5t256 = "AAAA"}, 700027},
		{{.key = NULL}, 700027},                                  /* no thumbprint at all */
		{{.aud = "https://login.microsoftonline.com/common/oauth2/v2.0/token", .x5t = NULL}, 700027},
		{{.iss = NOCERT, .x5t = NULL}, 700021},
		{{.sub = PUB, .x5t = NULL}, 700021},
		{{.exp_offset = -400, .nbf_offset = -1000, .x5t = NULL}, 700024}, /* expired */
		{{.nbf_offset = 400, .exp_offset = 1000, .x5t = NULL}, 700024},   /* not yet */
		{{.no_jti = 1, .x5t = NULL}, 700027},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct assertion_spec s = bad[i].spec;
		if (i >= 3)
			s.x5t = fx.x5t;
		char *a = assertion(&s);
		expect_aad(assertion_body(a), 401, "invalid_client", bad[i].code);
		free(a);
	}
	/* Signed by another key while naming the registered certificate. */
	struct assertion_spec forged = {.key = fx.other_key, .x5t = fx.x5t};
	char *a = assertion(&forged);
	expect_aad(assertion_body(a), 401, "invalid_client", 700027);
	/* Within the clock skew is fine. */
	struct assertion_spec skewed = {.x5t = fx.x5t, .exp_offset = -200, .nbf_offset = -800};
	char *ok = assertion(&skewed);
	free(expect_token(assertion_body(ok), NULL, NULL, 0, NULL, 0));
	free(ok);
	/* An unsigned assertion. */
	char *h = cloud_b64url_encode("{\"alg\":\"none\",\"x5t\":\"x\"}", 24);
	char *dot = strchr(a, '.');
	char none[8192];
	snprintf(none, sizeof none, "%s%.*s.", h, (int)(strrchr(a, '.') - dot), dot);
	free(h);
	expect_aad(assertion_body(none), 401, "invalid_client", 700027);
	free(a);
	/* The wrong assertion type, a missing one, an app without a certificate. */
	struct assertion_spec plain = {.x5t = fx.x5t};
	a = assertion(&plain);
	expect_aad(form("client_id", CONF, "scope", GRAPH_DEFAULT, "client_assertion_type", "jwt",
			"client_assertion", a, "grant_type", "client_credentials", NULL),
		   401, "invalid_client", 700027);
	expect_aad(form("client_id", CONF, "scope", GRAPH_DEFAULT, "client_assertion", a, "grant_type",
			"client_credentials", NULL),
		   400, "invalid_request", 900144);
	free(a);
	struct assertion_spec nocert = {.x5t = fx.x5t, .iss = NOCERT, .sub = NOCERT};
	a = assertion(&nocert);
	expect_aad(form("client_id", NOCERT, "scope", GRAPH_DEFAULT, "client_assertion_type",
			"urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion", a,
			"grant_type", "client_credentials", NULL),
		   401, "invalid_client", 700027);
	free(a);
}

/* ---- user grants -------------------------------------------------------------------- */

static void password_grant(void **unused)
{
	(void)unused;
	char *refresh = NULL, scope[1024], identity[160];
	char *t = expect_token(form("client_id", PUB, "scope", GRAPH_DEFAULT " offline_access openid", "username",
				    "Alice@Contoso.example", "password", "alice pw+&=", "grant_type", "password", NULL),
			       &refresh, scope, sizeof scope, identity, sizeof identity);
	assert_string_equal(identity, "user:alice@" DOMAIN);
	assert_non_null(refresh);
	assert_true(cloud_word_in(scope, "offline_access"));
	assert_true(cloud_word_in(scope, "openid"));
	assert_true(cloud_word_in(scope, "BitLockerKey.Read.All"));
	cloud_principal p;
	assert_int_equal(verify(t, &p), 0);
	assert_int_equal(p.kind, CLOUD_PRINCIPAL_USER);
	assert_string_equal(p.user_id, ALICE);
	assert_string_equal(p.upn, "alice@" DOMAIN);
	assert_string_equal(p.app_id, PUB);
	assert_string_equal(p.scopes, CLOUD_DEFAULT_DELEGATED_SCOPES);
	assert_string_equal(p.roles, "");
	free(t);
	free(refresh);

	/* Named scopes in any spelling, via "organizations"; no refresh token
	 * without offline_access. */
	cloud_response rs;
	char body[4096];
	snprintf(body, sizeof body, "%s",
		 form("client_id", PUB, "scope", "user.read https://graph.microsoft.com/BitlockerKey.Read.All",
		      "username", "alice@" DOMAIN, "password", "alice pw+&=", "grant_type", "password", NULL));
	cJSON *j = call("POST", "/organizations/oauth2/v2.0/token", body, &rs);
	assert_int_equal(rs.status, 200);
	assert_null(cJSON_GetObjectItem(j, "refresh_token"));
	t = cJSON_GetObjectItem(j, "access_token")->valuestring;
	assert_int_equal(verify(t, &p), 0);
	assert_string_equal(p.scopes, "User.Read BitLockerKey.Read.All");
	cJSON_Delete(j);
	cloud_response_free(&rs);

	/* A confidential client with its secret may use ROPC too. */
	free(expect_token(form("client_id", NOCERT, "client_secret", "nocert-secret", "scope", "User.Read",
			       "username", "alice@" DOMAIN, "password", "alice pw+&=", "grant_type", "password", NULL),
			  NULL, NULL, 0, NULL, 0));
}

static void password_refusals(void **unused)
{
	(void)unused;
	expect_aad(form("client_id", PUB, "scope", "User.Read", "username", "alice@" DOMAIN, "password", "wrong",
			"grant_type", "password", NULL),
		   400, "invalid_grant", 50126);
	expect_aad(form("client_id", PUB, "scope", "User.Read", "username", "carol@" DOMAIN, "password", "x",
			"grant_type", "password", NULL),
		   400, "invalid_grant", 50034);
	expect_aad(form("client_id", PUB, "scope", "User.Read", "username", "alice@" DOMAIN, "grant_type",
			"password", NULL),
		   400, "invalid_request", 900144);
	expect_aad(form("client_id", PUB, "username", "alice@" DOMAIN, "password", "alice pw+&=", "grant_type",
			"password", NULL),
		   400, "invalid_request", 900144);
	expect_aad(form("client_id", PUB, "client_secret", "x", "scope", "User.Read", "username", "alice@" DOMAIN,
			"password", "alice pw+&=", "grant_type", "password", NULL),
		   401, "invalid_client", 700025);
	expect_aad(form("client_id", NOCERT, "scope", "User.Read", "username", "alice@" DOMAIN, "password",
			"alice pw+&=", "grant_type", "password", NULL),
		   401, "invalid_client", 7000218);
	const char *bad_scopes[] = {"https://vault.azure.net/user_impersonation", "Mail.Send.Everything",
				    GRAPH_DEFAULT " User.Read", "api://x/y"};
	for (size_t i = 0; i < sizeof bad_scopes / sizeof bad_scopes[0]; i++)
		expect_aad(form("client_id", PUB, "scope", bad_scopes[i], "username", "alice@" DOMAIN, "password",
				"alice pw+&=", "grant_type", "password", NULL),
			   400, "invalid_scope", 70011);
}

static void refresh_grant(void **unused)
{
	(void)unused;
	char *refresh = NULL, *refresh2 = NULL, scope[1024];
	char *t = expect_token(form("client_id", PUB, "scope", "User.Read Device.Read.All offline_access",
				    "username", "alice@" DOMAIN, "password", "alice pw+&=", "grant_type", "password",
				    NULL),
			       &refresh, NULL, 0, NULL, 0);
	assert_non_null(refresh);
	/* A refresh token is not an access token. */
	cloud_principal p;
	assert_int_not_equal(verify(refresh, &p), 0);
	fake_now += 3000;
	char *t2 = expect_token(form("client_id", PUB, "refresh_token", refresh, "grant_type", "refresh_token", NULL),
				&refresh2, scope, sizeof scope, NULL, 0);
	assert_non_null(refresh2);
	assert_string_equal(scope, "User.Read Device.Read.All offline_access");
	assert_int_equal(verify(t2, &p), 0);
	assert_string_equal(p.scopes, "User.Read Device.Read.All");
	assert_int_equal(p.expires, T0 + 3000 + 3599);
	free(t2);
	/* Narrowing is allowed, widening is not. */
	char *t3 = expect_token(form("client_id", PUB, "refresh_token", refresh2, "scope", "User.Read",
				     "grant_type", "refresh_token", NULL),
				NULL, NULL, 0, NULL, 0);
	assert_int_equal(verify(t3, &p), 0);
	assert_string_equal(p.scopes, "User.Read");
	free(t3);
	expect_aad(form("client_id", PUB, "refresh_token", refresh2, "scope", "BitLockerKey.Read.All", "grant_type",
			"refresh_token", NULL),
		   400, "invalid_scope", 70011);
	/* Another client, garbage, an access token, nothing. */
	expect_aad(form("client_id", NOCERT, "client_secret", "nocert-secret", "refresh_token", refresh2,
			"grant_type", "refresh_token", NULL),
		   400, "invalid_grant", 70000);
	expect_aad(form("client_id", PUB, "refresh_token", "0.AAAA-not-ours", "grant_type", "refresh_token", NULL),
		   400, "invalid_grant", 9002313);
	expect_aad(form("client_id", PUB, "refresh_token", t, "grant_type", "refresh_token", NULL), 400,
		   "invalid_grant", 9002313);
	expect_aad(form("client_id", PUB, "grant_type", "refresh_token", NULL), 400, "invalid_request", 900144);
	/* After 90 days it has expired. */
	fake_now += CLOUD_REFRESH_LIFETIME;
	expect_aad(form("client_id", PUB, "refresh_token", refresh2, "grant_type", "refresh_token", NULL), 400,
		   "invalid_grant", 70008);
	free(t);
	free(refresh);
	free(refresh2);
}

static char *start_device_code(const char *client_id, char *user_code, size_t uc_cap)
{
	cloud_response rs;
	char body[1024];
	snprintf(body, sizeof body, "%s", form("client_id", client_id, "scope", GRAPH_DEFAULT " offline_access", NULL));
	cJSON *j = call("POST", "/organizations/oauth2/v2.0/devicecode", body, &rs);
	if (rs.status != 200)
		fail_msg("devicecode: %d %s", rs.status, rs.body);
	assert_string_equal(cJSON_GetObjectItem(j, "verification_uri")->valuestring, "https://microsoft.com/devicelogin");
	assert_int_equal(cJSON_GetObjectItem(j, "expires_in")->valueint, 900);
	assert_int_equal(cJSON_GetObjectItem(j, "interval")->valueint, 5);
	const char *uc = cJSON_GetObjectItem(j, "user_code")->valuestring;
	assert_int_equal(strlen(uc), 9);
	assert_non_null(strstr(cJSON_GetObjectItem(j, "message")->valuestring, uc));
	snprintf(user_code, uc_cap, "%s", uc);
	char *dc = strdup(cJSON_GetObjectItem(j, "device_code")->valuestring);
	assert_true(strlen(dc) >= 32);
	cJSON_Delete(j);
	cloud_response_free(&rs);
	return dc;
}

static void device_code_flow(void **unused)
{
	(void)unused;
	char user_code[16];
	char *dc = start_device_code(PUB, user_code, sizeof user_code);
	char poll[2048];
	snprintf(poll, sizeof poll, "%s",
		 form("client_id", PUB, "device_code", dc, "grant_type", "urn:ietf:params:oauth:grant-type:device_code",
		      NULL));
	expect_aad(poll, 400, "authorization_pending", 70016);
	expect_aad(form("client_id", NOCERT, "client_secret", "nocert-secret", "device_code", dc, "grant_type",
			"urn:ietf:params:oauth:grant-type:device_code", NULL),
		   400, "bad_verification_code", 70000);
	expect_aad(form("client_id", PUB, "grant_type", "urn:ietf:params:oauth:grant-type:device_code", NULL), 400,
		   "invalid_request", 900144);

	assert_int_equal(cloud_devicecode_approve(&fx.ctx, "NOSUCHCODE", "alice@" DOMAIN, "alice pw+&="),
			 SSRP_E_NOTFOUND);
	assert_int_equal(cloud_devicecode_approve(&fx.ctx, user_code, "alice@" DOMAIN, "wrong"), SSRP_E_BAD_KEY);
	assert_non_null(strstr(ssrp_error_last(), "wrong password"));
	assert_int_equal(cloud_devicecode_approve(&fx.ctx, user_code, "carol@" DOMAIN, "x"), SSRP_E_NOTFOUND);
	expect_aad(poll, 400, "authorization_pending", 70016);
	/* The user code is typed in any case. */
	for (char *c = user_code; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	assert_int_equal(cloud_devicecode_approve(&fx.ctx, user_code, "alice@" DOMAIN, "alice pw+&="), SSRP_OK);

	char *refresh = NULL, identity[160];
	char *t = expect_token(poll, &refresh, NULL, 0, identity, sizeof identity);
	assert_string_equal(identity, "user:alice@" DOMAIN);
	assert_non_null(refresh);
	cloud_principal p;
	assert_int_equal(verify(t, &p), 0);
	assert_string_equal(p.upn, "alice@" DOMAIN);
	assert_string_equal(p.app_id, PUB);
	free(t);
	free(refresh);
	/* A code is good for one token. */
	expect_aad(poll, 400, "bad_verification_code", 70000);
	free(dc);

	/* A code nobody approves expires. */
	dc = start_device_code(PUB, user_code, sizeof user_code);
	snprintf(poll, sizeof poll, "%s",
		 form("client_id", PUB, "device_code", dc, "grant_type", "urn:ietf:params:oauth:grant-type:device_code",
		      NULL));
	fake_now += 901;
	assert_int_equal(cloud_devicecode_approve(&fx.ctx, user_code, "alice@" DOMAIN, "alice pw+&="),
			 SSRP_E_NOTFOUND);
	expect_aad(poll, 400, "expired_token", 70019);
	free(dc);

	/* The device-code endpoint's own refusals. */
	cloud_response rs;
	cJSON *j = call("POST", "/organizations/oauth2/v2.0/devicecode", form("client_id", PUB, NULL), &rs);
	assert_int_equal(rs.status, 400);
	assert_non_null(strstr(rs.body, "AADSTS900144"));
	cJSON_Delete(j);
	cloud_response_free(&rs);
	j = call("POST", "/organizations/oauth2/v2.0/devicecode", form("client_id", PUB, "scope", "Nope.All", NULL), &rs);
	assert_int_equal(rs.status, 400);
	assert_non_null(strstr(rs.body, "AADSTS70011"));
	cJSON_Delete(j);
	cloud_response_free(&rs);
	j = call("POST", "/organizations/oauth2/v2.0/devicecode",
		 form("client_id", "dddddddd-0000-4000-8000-000000000009", "scope", "User.Read", NULL), &rs);
	assert_int_equal(rs.status, 400);
	assert_non_null(strstr(rs.body, "AADSTS700016"));
	cJSON_Delete(j);
	cloud_response_free(&rs);
}

/* ---- what MSAL and OIDC clients read ------------------------------------------------- */

static cJSON *decoded_part(const char *jwt_text, int part)
{
	const char *p = jwt_text;
	for (int i = 0; i < part; i++)
		p = strchr(p, '.') + 1;
	size_t n = strcspn(p, ".");
	uint8_t *raw;
	size_t raw_len;
	assert_int_equal(cloud_b64url_decode(&raw, &raw_len, p, n), SSRP_OK);
	cJSON *j = cJSON_Parse((const char *)raw);
	free(raw);
	assert_non_null(j);
	return j;
}

static const char *str_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!cJSON_IsString(v))
		fail_msg("no string member %s", name);
	return v->valuestring;
}

/* The short grant type MSAL sends for device code is the same grant. */
static void device_code_short_grant(void **unused)
{
	(void)unused;
	char user_code[16];
	char *dc = start_device_code(PUB, user_code, sizeof user_code);
	char poll[2048];
	snprintf(poll, sizeof poll, "%s", form("client_id", PUB, "device_code", dc, "grant_type", "device_code", NULL));
	expect_aad(poll, 400, "authorization_pending", 70016);
	assert_int_equal(cloud_devicecode_approve(&fx.ctx, user_code, "alice@" DOMAIN, "alice pw+&="), SSRP_OK);
	char *t = expect_token(poll, NULL, NULL, 0, NULL, 0);
	cloud_principal p;
	assert_int_equal(verify(t, &p), 0);
	assert_string_equal(p.upn, "alice@" DOMAIN);
	free(t);
	free(dc);
}

/* openid brings an id_token signed like access tokens and client_info;
 * without it neither comes. */
static void id_token_and_client_info(void **unused)
{
	(void)unused;
	cloud_response rs;
	cJSON *j = post(form("client_id", PUB, "username", "alice@" DOMAIN, "password", "alice pw+&=", "scope",
			     "openid profile offline_access User.Read", "nonce", "n-0S6_WzA2Mj", "grant_type",
			     "password", NULL),
			&rs);
	assert_int_equal(rs.status, 200);
	const char *id = str_of(j, "id_token");
	cloud_jwt jwt;
	assert_int_equal(cloud_jwt_parse(&jwt, id), SSRP_OK);
	assert_int_equal(cloud_jwt_verify(&jwt, fx.token_key), SSRP_OK);
	assert_string_equal(cloud_jwt_header_str(&jwt, "kid"), "sim-kid-1");
	assert_string_equal(cloud_jwt_header_str(&jwt, "x5t"), "sim-kid-1");
	assert_string_equal(cloud_jwt_claim_str(&jwt, "aud"), PUB);
	assert_string_equal(cloud_jwt_claim_str(&jwt, "iss"), "https://login.microsoftonline.com/" TENANT "/v2.0");
	assert_string_equal(cloud_jwt_claim_str(&jwt, "ver"), "2.0");
	assert_string_equal(cloud_jwt_claim_str(&jwt, "oid"), ALICE);
	assert_string_equal(cloud_jwt_claim_str(&jwt, "tid"), TENANT);
	assert_string_equal(cloud_jwt_claim_str(&jwt, "preferred_username"), "alice@" DOMAIN);
	assert_string_equal(cloud_jwt_claim_str(&jwt, "name"), "Alice");
	assert_string_equal(cloud_jwt_claim_str(&jwt, "nonce"), "n-0S6_WzA2Mj");
	assert_int_equal(strlen(cloud_jwt_claim_str(&jwt, "sub")), 43);
	uint64_t iat, nbf, exp;
	assert_int_equal(cloud_jwt_claim_time(&jwt, "iat", &iat), 1);
	assert_int_equal(cloud_jwt_claim_time(&jwt, "nbf", &nbf), 1);
	assert_int_equal(cloud_jwt_claim_time(&jwt, "exp", &exp), 1);
	assert_true(iat == T0 && nbf == T0 && exp > T0);
	char sub[64];
	snprintf(sub, sizeof sub, "%s", cloud_jwt_claim_str(&jwt, "sub"));
	cloud_jwt_free(&jwt);
	/* client_info: base64url JSON of uid and utid. */
	const char *ci = str_of(j, "client_info");
	uint8_t *raw;
	size_t raw_len;
	assert_int_equal(cloud_b64url_decode(&raw, &raw_len, ci, strlen(ci)), SSRP_OK);
	cJSON *info = cJSON_Parse((const char *)raw);
	free(raw);
	assert_string_equal(str_of(info, "uid"), ALICE);
	assert_string_equal(str_of(info, "utid"), TENANT);
	cJSON_Delete(info);
	/* The delegated access token: v1.0, public client, Graph by app id
	 * (the scope named no resource URI), the same pairwise sub. */
	cJSON *claims = decoded_part(str_of(j, "access_token"), 1);
	assert_string_equal(str_of(claims, "aud"), CLOUD_GRAPH_APP_ID);
	assert_string_equal(str_of(claims, "ver"), "1.0");
	assert_string_equal(str_of(claims, "iss"), "https://sts.windows.net/" TENANT "/");
	assert_string_equal(str_of(claims, "idtyp"), "user");
	assert_string_equal(str_of(claims, "appidacr"), "0");
	assert_string_equal(str_of(claims, "oid"), ALICE);
	assert_string_equal(str_of(claims, "sub"), sub);
	assert_string_equal(str_of(claims, "name"), "Alice");
	cJSON_Delete(claims);
	/* A refresh that names no scope keeps the OpenID scopes: the id_token
	 * comes back. */
	char refresh_body[8192];
	snprintf(refresh_body, sizeof refresh_body, "%s",
		 form("client_id", PUB, "refresh_token", str_of(j, "refresh_token"), "grant_type", "refresh_token",
		      NULL));
	cJSON_Delete(j);
	cloud_response_free(&rs);
	j = post(refresh_body, &rs);
	assert_int_equal(rs.status, 200);
	cJSON *idc = decoded_part(str_of(j, "id_token"), 1);
	assert_string_equal(str_of(idc, "oid"), ALICE);
	cJSON_Delete(idc);
	assert_non_null(strstr(str_of(j, "scope"), "openid"));
	cJSON_Delete(j);
	cloud_response_free(&rs);

	/* No openid: no id_token, no client_info; a scope by URI gives the URI aud. */
	j = post(form("client_id", PUB, "username", "alice@" DOMAIN, "password", "alice pw+&=", "scope",
		      "https://graph.microsoft.com/User.Read", "grant_type", "password", NULL),
		 &rs);
	assert_int_equal(rs.status, 200);
	assert_null(cJSON_GetObjectItem(j, "id_token"));
	assert_null(cJSON_GetObjectItem(j, "client_info"));
	claims = decoded_part(str_of(j, "access_token"), 1);
	assert_string_equal(str_of(claims, "aud"), CLOUD_GRAPH_AUDIENCE);
	cJSON_Delete(claims);
	cJSON_Delete(j);
	cloud_response_free(&rs);
}

/* App-only tokens name the service principal, not the app, as oid and
 * sub; appidacr tells a secret (1) from a certificate (2). */
static void app_token_claims(void **unused)
{
	(void)unused;
	cloud_state_lock(fx.state);
	char sp[CLOUD_ID_LEN + 1];
	snprintf(sp, sizeof sp, "%s", cloud_app_find(fx.state, CONF)->sp_id);
	cloud_state_unlock(fx.state);
	assert_true(ssrp_guid_is_bare(sp));
	assert_string_not_equal(sp, CONF);
	char *t = expect_token(form("client_id", CONF, "scope", GRAPH_DEFAULT, "client_secret", "conf-secret",
				    "grant_type", "client_credentials", NULL),
			       NULL, NULL, 0, NULL, 0);
	cJSON *c = decoded_part(t, 1);
	assert_string_equal(str_of(c, "oid"), sp);
	assert_string_equal(str_of(c, "sub"), sp);
	assert_string_equal(str_of(c, "appid"), CONF);
	assert_string_equal(str_of(c, "appidacr"), "1");
	assert_string_equal(str_of(c, "aud"), CLOUD_GRAPH_AUDIENCE);
	assert_string_equal(str_of(c, "ver"), "1.0");
	assert_string_equal(str_of(c, "app_displayname"), "app");
	/* The tenant's creation time, as xms_tcdt carries it. */
	assert_int_equal((long long)cJSON_GetObjectItem(c, "xms_tcdt")->valuedouble, 1551675967LL);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(c, "uti")));
	assert_null(cJSON_GetObjectItem(c, "scp"));
	cJSON_Delete(c);
	free(t);
	t = expect_token(form("client_id", CONF, "scope", CLOUD_GRAPH_APP_ID "/.default", "client_secret",
			      "conf-secret", "grant_type", "client_credentials", NULL),
			 NULL, NULL, 0, NULL, 0);
	c = decoded_part(t, 1);
	assert_string_equal(str_of(c, "aud"), CLOUD_GRAPH_APP_ID);
	cJSON_Delete(c);
	free(t);
	struct assertion_spec a = {.x5t = fx.x5t};
	char *jwt = assertion(&a);
	t = expect_token(assertion_body(jwt), NULL, NULL, 0, NULL, 0);
	c = decoded_part(t, 1);
	assert_string_equal(str_of(c, "appidacr"), "2");
	cJSON_Delete(c);
	free(t);
	free(jwt);
}

static cJSON *get_json(const char *path_and_query, int status)
{
	cloud_request rq;
	memset(&rq, 0, sizeof rq);
	char path[512];
	snprintf(path, sizeof path, "%s", path_and_query);
	char *q = strchr(path, '?');
	if (q)
		*q++ = '\0';
	rq.method = "GET";
	rq.host = CLOUD_HOST_LOGIN;
	rq.path = path;
	rq.query = q ? q : "";
	rq.request_id = REQUEST_ID;
	cloud_response rs;
	cloud_response_init(&rs);
	cloud_token_handle(&fx.ctx, &rq, &rs);
	if (rs.status != status)
		fail_msg("GET %s: wanted %d, got %d %s", path_and_query, status, rs.status, rs.body ? rs.body : "");
	cJSON *j = cJSON_Parse(rs.body);
	assert_non_null(j);
	cloud_response_free(&rs);
	return j;
}

static void discovery_documents(void **unused)
{
	(void)unused;
	cJSON *j = get_json("/" DOMAIN "/v2.0/.well-known/openid-configuration", 200);
	assert_string_equal(str_of(j, "issuer"), "https://login.microsoftonline.com/" TENANT "/v2.0");
	assert_string_equal(str_of(j, "token_endpoint"), "https://login.microsoftonline.com/" TENANT "/oauth2/v2.0/token");
	assert_string_equal(str_of(j, "jwks_uri"), "https://login.microsoftonline.com/" TENANT "/discovery/v2.0/keys");
	assert_string_equal(str_of(j, "device_authorization_endpoint"),
			    "https://login.microsoftonline.com/" TENANT "/oauth2/v2.0/devicecode");
	cJSON_Delete(j);
	j = get_json("/organizations/v2.0/.well-known/openid-configuration", 200);
	assert_string_equal(str_of(j, "issuer"), "https://login.microsoftonline.com/{tenantid}/v2.0");
	assert_string_equal(str_of(j, "token_endpoint"),
			    "https://login.microsoftonline.com/organizations/oauth2/v2.0/token");
	cJSON_Delete(j);
	j = get_json("/" TENANT "/.well-known/openid-configuration", 200);
	assert_string_equal(str_of(j, "issuer"), "https://sts.windows.net/" TENANT "/");
	assert_string_equal(str_of(j, "jwks_uri"), "https://login.microsoftonline.com/common/discovery/keys");
	cJSON_Delete(j);
	j = get_json("/nosuch.example/v2.0/.well-known/openid-configuration", 400);
	assert_non_null(strstr(str_of(j, "error_description"), "AADSTS90002"));
	cJSON_Delete(j);

	/* The JWKS names the key tokens are signed with (n, e, kid). */
	static const char *const key_paths[] = {"/" TENANT "/discovery/v2.0/keys", "/common/discovery/keys",
						"/common/discovery/v2.0/keys", NULL};
	for (size_t i = 0; key_paths[i]; i++) {
		j = get_json(key_paths[i], 200);
		const cJSON *k = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "keys"), 0);
		assert_non_null(k);
		assert_string_equal(str_of(k, "kid"), "sim-kid-1");
		assert_string_equal(str_of(k, "kty"), "RSA");
		assert_string_equal(str_of(k, "e"), "AQAB");
		uint8_t *n;
		size_t n_len;
		assert_int_equal(cloud_b64url_decode(&n, &n_len, str_of(k, "n"), strlen(str_of(k, "n"))), SSRP_OK);
		BIGNUM *want = NULL;
		assert_int_equal(EVP_PKEY_get_bn_param(fx.token_key, "n", &want), 1);
		BIGNUM *got = BN_bin2bn(n, (int)n_len, NULL);
		assert_int_equal(BN_cmp(want, got), 0);
		BN_free(want);
		BN_free(got);
		free(n);
		cJSON_Delete(j);
	}

	/* Instance discovery as MSAL asks for it. */
	j = get_json("/common/discovery/instance?api-version=1.1&authorization_endpoint=https%3A%2F%2Flogin."
		     "microsoftonline.com%2F" TENANT "%2Foauth2%2Fv2.0%2Fauthorize",
		     200);
	assert_string_equal(str_of(j, "tenant_discovery_endpoint"),
			    "https://login.microsoftonline.com/" TENANT "/v2.0/.well-known/openid-configuration");
	assert_string_equal(str_of(j, "api-version"), "1.1");
	const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "metadata"), 0);
	assert_string_equal(str_of(m, "preferred_network"), "login.microsoftonline.com");
	cJSON_Delete(j);
	j = get_json("/common/discovery/instance?api-version=1.1&authorization_endpoint=https%3A%2F%2Fevil.example"
		     "%2Fx%2Foauth2%2Fv2.0%2Fauthorize",
		     400);
	assert_string_equal(str_of(j, "error"), "invalid_instance");
	cJSON_Delete(j);
}

/* ---- cloud_token_verify -------------------------------------------------------------- */

static char *mint(cloud_ctx *ctx, cloud_principal_kind kind, uint64_t lifetime)
{
	cloud_principal p;
	memset(&p, 0, sizeof p);
	p.kind = kind;
	strcpy(p.app_id, CONF);
	if (kind == CLOUD_PRINCIPAL_USER) {
		strcpy(p.user_id, ALICE);
		strcpy(p.upn, "alice@" DOMAIN);
		strcpy(p.scopes, "User.Read BitLockerKey.Read.All");
	} else {
		strcpy(p.roles, "Device.Read.All BitLockerKey.Read.All");
	}
	char *t = cloud_token_mint(ctx, &p, lifetime);
	assert_non_null(t);
	return t;
}

static void mint_verify(void **unused)
{
	(void)unused;
	char *t = mint(&fx.ctx, CLOUD_PRINCIPAL_USER, 3599);
	cloud_principal p;
	cloud_response rs;
	char auth[4096];
	snprintf(auth, sizeof auth, "bearer  %s", t); /* scheme in any case */
	assert_int_equal(verify_with(&fx.ctx, auth, &p, &rs), 0);
	assert_string_equal(rs.identity, "user:alice@" DOMAIN);
	cloud_response_free(&rs);
	assert_int_equal(p.kind, CLOUD_PRINCIPAL_USER);
	assert_string_equal(p.scopes, "User.Read BitLockerKey.Read.All");
	assert_string_equal(p.user_id, ALICE);
	free(t);
	t = mint(&fx.ctx, CLOUD_PRINCIPAL_APP, 60);
	assert_int_equal(verify(t, &p), 0);
	assert_int_equal(p.kind, CLOUD_PRINCIPAL_APP);
	assert_string_equal(p.roles, "Device.Read.All BitLockerKey.Read.All");
	assert_int_equal(p.expires, T0 + 60);
	free(t);
}

static void verify_refusals(void **unused)
{
	(void)unused;
	char auth[8192];
	char *t = mint(&fx.ctx, CLOUD_PRINCIPAL_APP, 3599);
	expect_401(&fx.ctx, NULL, "Access token is empty.");
	expect_401(&fx.ctx, "Bearer ", "Access token is empty.");
	expect_401(&fx.ctx, "Basic YWxpY2U6cHc=", "not 'Bearer <token>'");
	expect_401(&fx.ctx, "Bearer abc.def", "CompactToken parsing failed");
	expect_401(&fx.ctx, "Bearer a.b.c", "CompactToken parsing failed");

	/* Expired beyond the five minutes of skew, and not yet valid. */
	snprintf(auth, sizeof auth, "Bearer %s", t);
	fake_now = T0 + 3599 + 299;
	cloud_principal p;
	assert_int_equal(verify(t, &p), 0);
	fake_now = T0 + 3599 + 301;
	expect_401(&fx.ctx, auth, "the token is expired");
	fake_now = T0 - 301;
	expect_401(&fx.ctx, auth, "not yet valid");
	fake_now = T0;

	/* Forged: the same claims signed by a key that is not the tenant's. */
	cloud_ctx forger = fx.ctx;
	forger.token_key = fx.other_key;
	char *forged = mint(&forger, CLOUD_PRINCIPAL_APP, 3599);
	snprintf(auth, sizeof auth, "Bearer %s", forged);
	expect_401(&fx.ctx, auth, "Invalid signature");
	free(forged);
	/* A flipped claim breaks the signature too. */
	char *tampered = strdup(t);
	char *mid = strchr(tampered, '.') + 5;
	*mid = *mid == 'A' ? 'B' : 'A';
	snprintf(auth, sizeof auth, "Bearer %s", tampered);
	expect_401(&fx.ctx, auth, "");
	free(tampered);

	/* Another tenant's token, signed with the same key. */
	cloud_state *other = make_state("99999999-2222-4333-8444-555555555555");
	cloud_ctx foreign = fx.ctx;
	foreign.state = other;
	char *theirs = mint(&foreign, CLOUD_PRINCIPAL_APP, 3599);
	snprintf(auth, sizeof auth, "Bearer %s", theirs);
	expect_401(&fx.ctx, auth, "another tenant");
	free(theirs);
	cloud_state_free(other);

	/* alg none: the claims of a good token, no signature. */
	const char *nh = "{\"typ\":\"JWT\",\"alg\":\"none\",\"kid\":\"sim-kid-1\"}";
	char *h = cloud_b64url_encode(nh, strlen(nh));
	const char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
	snprintf(auth, sizeof auth, "Bearer %s%.*s.", h, (int)(d2 - d1), d1);
	expect_401(&fx.ctx, auth, "alg \"none\" is refused");
	snprintf(auth, sizeof auth, "Bearer %s%s", h, d1);
	expect_401(&fx.ctx, auth, "alg \"none\" is refused");
	free(h);
	/* HS256 with the public key as the secret, the classic confusion. */
	const char *hs = "{\"typ\":\"JWT\",\"alg\":\"HS256\",\"kid\":\"sim-kid-1\"}";
	h = cloud_b64url_encode(hs, strlen(hs));
	snprintf(auth, sizeof auth, "Bearer %s%s", h, d1);
	expect_401(&fx.ctx, auth, "not supported");
	free(h);
	/* A kid that is not the tenant's. */
	cloud_ctx other_kid = fx.ctx;
	snprintf(other_kid.token_kid, sizeof other_kid.token_kid, "another-kid");
	char *k2 = mint(&other_kid, CLOUD_PRINCIPAL_APP, 3599);
	snprintf(auth, sizeof auth, "Bearer %s", k2);
	expect_401(&fx.ctx, auth, "signing key");
	free(k2);
	free(t);
}

static void wrong_audience(void **unused)
{
	(void)unused;
	/* A token for another resource, signed with the tenant's key. */
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "aud", "https://vault.azure.net");
	cJSON_AddStringToObject(c, "iss", "https://sts.windows.net/" TENANT "/");
	cJSON_AddStringToObject(c, "tid", TENANT);
	cJSON_AddNumberToObject(c, "nbf", T0);
	cJSON_AddNumberToObject(c, "exp", T0 + 3600);
	cJSON_AddStringToObject(c, "appid", CONF);
	cJSON_AddStringToObject(c, "idtyp", "app");
	char *t = cloud_jwt_sign(fx.token_key, "RS256", "sim-kid-1", NULL, NULL, c);
	char auth[4096];
	snprintf(auth, sizeof auth, "Bearer %s", t);
	expect_401(&fx.ctx, auth, "Invalid audience");
	free(t);
	/* The right audience, the wrong issuer. */
	cJSON_ReplaceItemInObject(c, "aud", cJSON_CreateString(CLOUD_GRAPH_APP_ID));
	cJSON_ReplaceItemInObject(c, "iss", cJSON_CreateString("https://login.microsoftonline.com/" TENANT "/v2.0"));
	t = cloud_jwt_sign(fx.token_key, "RS256", "sim-kid-1", NULL, NULL, c);
	snprintf(auth, sizeof auth, "Bearer %s", t);
	expect_401(&fx.ctx, auth, "Invalid issuer");
	free(t);
	/* Right issuer, but no numeric exp. */
	cJSON_ReplaceItemInObject(c, "iss", cJSON_CreateString("https://sts.windows.net/" TENANT "/"));
	cJSON_ReplaceItemInObject(c, "exp", cJSON_CreateString("tomorrow"));
	t = cloud_jwt_sign(fx.token_key, "RS256", "sim-kid-1", NULL, NULL, c);
	snprintf(auth, sizeof auth, "Bearer %s", t);
	expect_401(&fx.ctx, auth, "exp");
	free(t);
	/* Graph's GUID as audience is as good as its URL. */
	cJSON_ReplaceItemInObject(c, "exp", cJSON_CreateNumber(T0 + 3600));
	t = cloud_jwt_sign(fx.token_key, "PS256", "sim-kid-1", NULL, NULL, c);
	cloud_principal p;
	assert_int_equal(verify(t, &p), 0);
	free(t);
	cJSON_Delete(c);
}

/* ---- the pieces underneath ------------------------------------------------------------ */

static void base64url(void **unused)
{
	(void)unused;
	const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xfb\xff"};
	const char *coded[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy", "-_8"};
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
		char *e = cloud_b64url_encode(plain[i], strlen(plain[i]));
		assert_string_equal(e, coded[i]);
		free(e);
		uint8_t *d;
		size_t n;
		assert_int_equal(cloud_b64url_decode(&d, &n, coded[i], strlen(coded[i])), SSRP_OK);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(d, plain[i], n);
		free(d);
	}
	const char *bad[] = {"Zg==", "Zm9v\n", "Z", "Zh", "Zm9=", "+/8", "Zm 9v", "Zm9vY"};
	const char *why[] = {"padding", "alphabet", "whole", "stray", "padding", "alphabet", "alphabet", "whole"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint8_t *d = (uint8_t *)1;
		size_t n = 1;
		assert_int_equal(cloud_b64url_decode(&d, &n, bad[i], strlen(bad[i])), SSRP_E_FORMAT);
		assert_null(d);
		assert_int_equal(n, 0);
		if (!strstr(ssrp_error_last(), why[i]))
			fail_msg("'%s': message '%s' lacks '%s'", bad[i], ssrp_error_last(), why[i]);
	}
}

static void jwt_signatures(void **unused)
{
	(void)unused;
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "sub", "x");
	char *t = cloud_jwt_sign(fx.cert_key, "RS256", "k", "t1", "t2", c);
	assert_non_null(t);
	cloud_jwt jwt;
	assert_int_equal(cloud_jwt_parse(&jwt, t), SSRP_OK);
	assert_string_equal(jwt.alg, "RS256");
	assert_string_equal(cloud_jwt_header_str(&jwt, "x5t#S256"), "t2");
	assert_int_equal(cloud_jwt_verify(&jwt, fx.cert_key), SSRP_OK);
	assert_int_equal(cloud_jwt_verify(&jwt, fx.other_key), SSRP_E_BAD_KEY);
	/* RS256 is deterministic: OpenSSL signing the same input directly
	 * must give the very signature in the token. */
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[512];
	size_t sig_len = sizeof sig;
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, fx.cert_key), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)jwt.signing_input,
					jwt.signing_input_len),
			 1);
	EVP_MD_CTX_free(md);
	assert_int_equal(sig_len, jwt.sig_len);
	assert_memory_equal(sig, jwt.sig, sig_len);
	cloud_jwt_free(&jwt);
	free(t);
	/* PS256 verifies under its key and fails as RS256. */
	t = cloud_jwt_sign(fx.cert_key, "PS256", NULL, NULL, NULL, c);
	assert_int_equal(cloud_jwt_parse(&jwt, t), SSRP_OK);
	assert_int_equal(cloud_jwt_verify(&jwt, fx.cert_key), SSRP_OK);
	strcpy(jwt.alg, "RS256");
	assert_int_equal(cloud_jwt_verify(&jwt, fx.cert_key), SSRP_E_BAD_KEY);
	cloud_jwt_free(&jwt);
	free(t);
	assert_null(cloud_jwt_sign(fx.cert_key, "HS256", NULL, NULL, NULL, c));
	cJSON_Delete(c);

	/* Parse refusals, each with its reason. */
	struct {
		const char *header, *claims, *sig, *words;
	} bad[] = {
		{"{\"alg\":\"none\"}", "{}", "", "alg \"none\" is refused"},
		{"{\"alg\":\"HS256\"}", "{}", "AAAA", "not supported"},
		{"{\"typ\":\"JWT\"}", "{}", "AAAA", "no \"alg\""},
		{"{\"alg\":\"RS256\",\"alg\":\"RS256\"}", "{}", "AAAA", "twice"},
		{"{\"alg\":\"RS256\",\"crit\":[\"exp\"]}", "{}", "AAAA", "crit"},
		{"[1]", "{}", "AAAA", "not a JSON object"},
		{"{\"alg\":\"RS256\"} x", "{}", "AAAA", "bytes after"},
		{"{\"alg\":\"RS256\"}", "{\"a\":", "AAAA", "not valid JSON"},
		{"{\"alg\":\"RS256\"}", "{}", "", "empty signature"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *h = cloud_b64url_encode(bad[i].header, strlen(bad[i].header));
		char *cl = cloud_b64url_encode(bad[i].claims, strlen(bad[i].claims));
		char token[512];
		snprintf(token, sizeof token, "%s.%s.%s", h, cl, bad[i].sig);
		assert_int_equal(cloud_jwt_parse(&jwt, token), SSRP_E_FORMAT);
		if (!strstr(ssrp_error_last(), bad[i].words))
			fail_msg("case %zu: message '%s' lacks '%s'", i, ssrp_error_last(), bad[i].words);
		assert_null(jwt.header);
		free(h);
		free(cl);
	}
	const char *shapes[] = {"", "a", "a.b", "a.b.c.d", "eyJhbGciOiJSUzI1NiJ9.e30.AA==", "eyJhbGciOiJSUzI1NiJ9.e3=.AAAA"};
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
		assert_int_equal(cloud_jwt_parse(&jwt, shapes[i]), SSRP_E_FORMAT);
}

static void forms_and_queries(void **unused)
{
	(void)unused;
	cloud_form f;
	const char *body = "a=1&b=x+y%2Bz&&c=&d=%C3%A9&";
	assert_int_equal(cloud_form_parse(&f, body, strlen(body)), SSRP_OK);
	assert_int_equal(f.n, 4);
	assert_string_equal(cloud_form_get(&f, "b"), "x y+z");
	assert_string_equal(cloud_form_get(&f, "c"), "");
	assert_string_equal(cloud_form_get(&f, "d"), "\xc3\xa9");
	assert_null(cloud_form_get(&f, "e"));
	cloud_form_free(&f);
	const char *bad[] = {"a=1&a=2", "a=%2", "a=%zz", "a=%00", "=1", "a", "a=1&b"};
	const char *why[] = {"duplicated", "percent escape", "percent escape", "NUL", "empty name", "no '='", "no '='"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(cloud_form_parse(&f, bad[i], strlen(bad[i])), SSRP_E_FORMAT);
		assert_null(f.buf);
		if (!strstr(ssrp_error_last(), why[i]))
			fail_msg("'%s': message '%s' lacks '%s'", bad[i], ssrp_error_last(), why[i]);
	}
	/* Never more than the limit of parameters, and a length is honoured
	 * even without a NUL. */
	assert_int_equal(cloud_form_parse(&f, "a=1&b=2", 3), SSRP_OK);
	assert_int_equal(f.n, 1);
	cloud_form_free(&f);

	cloud_request rq;
	memset(&rq, 0, sizeof rq);
	rq.query = "%24filter=deviceId+eq+%27ab%27&$select=key&top=&flag&dup=1&dup=2";
	char out[64];
	assert_int_equal(cloud_query_param(&rq, "$filter", out, sizeof out), 1);
	assert_string_equal(out, "deviceId eq 'ab'");
	assert_int_equal(cloud_query_param(&rq, "$select", out, sizeof out), 1);
	assert_string_equal(out, "key");
	assert_int_equal(cloud_query_param(&rq, "top", out, sizeof out), 1);
	assert_string_equal(out, "");
	assert_int_equal(cloud_query_param(&rq, "flag", out, sizeof out), 1);
	assert_string_equal(out, "");
	assert_int_equal(cloud_query_param(&rq, "$top", out, sizeof out), 0);
	assert_int_equal(cloud_query_param(&rq, "dup", out, sizeof out), SSRP_E_FORMAT);
	assert_string_equal(out, "");
	char tiny[4];
	assert_int_equal(cloud_query_param(&rq, "$select", tiny, sizeof tiny), 1);
	assert_int_equal(cloud_query_param(&rq, "$filter", tiny, sizeof tiny), SSRP_E_BUFSIZE);
	assert_string_equal(tiny, "");
	rq.query = NULL;
	assert_int_equal(cloud_query_param(&rq, "x", out, sizeof out), 0);

	assert_true(cloud_word_in("User.Read  BitLockerKey.Read.All", "bitlockerkey.read.all"));
	assert_true(cloud_word_in("a b c", "c"));
	assert_false(cloud_word_in("a b c", "b c"));
	assert_false(cloud_word_in("User.Read.All", "User.Read"));
	assert_false(cloud_word_in(NULL, "a"));
	assert_false(cloud_word_in("a", ""));
}

static void responses(void **unused)
{
	(void)unused;
	cloud_request rq;
	memset(&rq, 0, sizeof rq);
	rq.headers[0].name = "client-request-id";
	rq.headers[0].value = "c0ffee00-0000-4000-8000-000000000000";
	rq.headers[1].name = "user-agent";
	rq.headers[1].value = "test";
	rq.n_headers = 2;
	rq.request_id = REQUEST_ID;
	assert_string_equal(cloud_request_header(&rq, "User-Agent"), "test");
	assert_null(cloud_request_header(&rq, "accept"));
	cloud_response rs;
	cloud_response_init(&rs);
	assert_int_equal(rs.status, 500);
	cloud_graph_error(&rs, &rq, 404, "Request_ResourceNotFound", "Resource '%s' does not exist.", "x");
	assert_int_equal(rs.status, 404);
	cJSON *j = cJSON_Parse(rs.body);
	const cJSON *e = cJSON_GetObjectItem(j, "error");
	assert_string_equal(cJSON_GetObjectItem(e, "code")->valuestring, "Request_ResourceNotFound");
	assert_string_equal(cJSON_GetObjectItem(e, "message")->valuestring, "Resource 'x' does not exist.");
	const cJSON *inner = cJSON_GetObjectItem(e, "innerError");
	assert_string_equal(cJSON_GetObjectItem(inner, "request-id")->valuestring, REQUEST_ID);
	assert_string_equal(cJSON_GetObjectItem(inner, "client-request-id")->valuestring,
			    "c0ffee00-0000-4000-8000-000000000000");
	const char *date = cJSON_GetObjectItem(inner, "date")->valuestring;
	assert_int_equal(strlen(date), 19);
	assert_int_equal(date[10], 'T');
	cJSON_Delete(j);
	cloud_response_header(&rs, "Retry-After", "10");
	cloud_response_header(&rs, "retry-after", "20");
	assert_int_equal(rs.n_headers, 1);
	assert_string_equal(rs.headers[0].value, "20");
	for (int i = 0; i < 20; i++) {
		char name[16];
		snprintf(name, sizeof name, "x-%d", i);
		cloud_response_header(&rs, name, "v");
	}
	assert_int_equal(rs.n_headers, CLOUD_MAX_RESPONSE_HEADERS);
	cloud_respond_json(&rs, 201, strdup("{}"));
	assert_int_equal(rs.status, 201);
	assert_int_equal(rs.body_len, 2);
	cloud_respond_json(&rs, 200, NULL);
	assert_int_equal(rs.status, 500);
	cloud_response_free(&rs);
	assert_null(rs.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(client_credentials_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(client_credentials_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(client_assertions, setup, teardown),
		cmocka_unit_test_setup_teardown(password_grant, setup, teardown),
		cmocka_unit_test_setup_teardown(password_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(refresh_grant, setup, teardown),
		cmocka_unit_test_setup_teardown(device_code_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(device_code_short_grant, setup, teardown),
		cmocka_unit_test_setup_teardown(id_token_and_client_info, setup, teardown),
		cmocka_unit_test_setup_teardown(app_token_claims, setup, teardown),
		cmocka_unit_test_setup_teardown(discovery_documents, setup, teardown),
		cmocka_unit_test_setup_teardown(mint_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(verify_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_audience, setup, teardown),
		cmocka_unit_test(base64url),
		cmocka_unit_test(jwt_signatures),
		cmocka_unit_test(forms_and_queries),
		cmocka_unit_test(responses),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
