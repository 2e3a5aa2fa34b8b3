/* The simulated Graph v1.0, driven through cloud_graph_handle with tokens
 * minted for an app, the demo admin (a device-admin role), and the two
 * ordinary demo users. Every rule the simulator enforces is exercised on
 * both sides: the request Graph accepts, and each refusal with Graph's
 * status, error code and message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "bitlocker/recovery_password.h"
#include "sim/cloud/cloud.h"
#include "sim/cloud/faults.h"
#include "ssrp/error.h"
#include "tests/test_rsa_key.h"

#define NOW 1750000000ull
#define DENIED "Insufficient privileges to complete the operation."
#define APP_ROLES "User.Read.All Device.Read.All BitLockerKey.Read.All"
#define USER_SCOPES "User.Read Directory.AccessAsUser.All BitLockerKey.Read.All"
#define KEY1 "6f1d2c3b-0a1b-4c2d-8e3f-1234567890ab"
#define KEY2 "7a2e3d4c-1b2c-4d3e-9f40-234567890abc"
/* The demo tenant's SKUs: alice holds AAD_PREMIUM, bob INTUNE_A. */
#define INTUNE_A "061f9ace-7d42-4136-88ac-31dc755f143f"
#define AAD_P1 "078d2b04-f1bd-4111-bbd4-b4b1b354cef4"

static EVP_PKEY *signing_key;
static uint64_t fake_now = NOW;

static uint64_t test_clock(void)
{
	return fake_now;
}

typedef struct fx {
	cloud_ctx ctx;
	cloud_demo_secrets sec;
	char admin_id[CLOUD_ID_LEN + 1], alice_id[CLOUD_ID_LEN + 1], bob_id[CLOUD_ID_LEN + 1];
	char device_oid[CLOUD_ID_LEN + 1]; /* the demo device's object id */
	char *app, *admin, *alice, *bob;   /* bearer tokens */
} fx;

typedef struct resp {
	cloud_response rs;
	cJSON *j;
} resp;

/* ---- fixture ---------------------------------------------------------------- */

static char *mint(fx *f, cloud_principal_kind kind, const char *user_upn, const char *perms)
{
	cloud_principal p;
	memset(&p, 0, sizeof p);
	p.kind = kind;
	if (kind == CLOUD_PRINCIPAL_APP) {
		snprintf(p.app_id, sizeof p.app_id, "%s", f->sec.app_id);
		snprintf(p.roles, sizeof p.roles, "%s", perms);
	} else {
		snprintf(p.app_id, sizeof p.app_id, "%s", f->sec.public_client_id);
		cloud_state_lock(f->ctx.state);
		const cloud_user *u = cloud_user_find(f->ctx.state, user_upn);
		assert_non_null(u);
		snprintf(p.user_id, sizeof p.user_id, "%s", u->id);
		snprintf(p.upn, sizeof p.upn, "%s", u->upn);
		cloud_state_unlock(f->ctx.state);
		snprintf(p.scopes, sizeof p.scopes, "%s", perms);
	}
	p.expires = fake_now + 3600;
	char *t = cloud_token_mint(&f->ctx, &p, 3600);
	assert_non_null(t);
	return t;
}

static void user_id_of(fx *f, const char *upn, char out[CLOUD_ID_LEN + 1])
{
	cloud_state_lock(f->ctx.state);
	const cloud_user *u = cloud_user_find(f->ctx.state, upn);
	assert_non_null(u);
	memcpy(out, u->id, CLOUD_ID_LEN + 1);
	cloud_state_unlock(f->ctx.state);
}

static void refresh_ids(fx *f)
{
	user_id_of(f, f->sec.admin_upn, f->admin_id);
	user_id_of(f, f->sec.user_upn, f->alice_id);
	user_id_of(f, f->sec.user2_upn, f->bob_id);
	cloud_state_lock(f->ctx.state);
	const cloud_device *d = cloud_device_find_by_device_id(f->ctx.state, f->sec.device_id);
	assert_non_null(d);
	memcpy(f->device_oid, d->id, CLOUD_ID_LEN + 1);
	cloud_state_unlock(f->ctx.state);
}

static int group_setup(void **state)
{
	(void)state;
	signing_key = test_rsa_key();
	return signing_key ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(signing_key);
	return 0;
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	fake_now = NOW;
	if (cloud_state_new_demo(&f->ctx.state, &f->sec) != SSRP_OK) {
		free(f);
		return -1;
	}
	f->ctx.token_key = signing_key;
	snprintf(f->ctx.token_kid, sizeof f->ctx.token_kid, "test-kid");
	f->ctx.now = test_clock;
	refresh_ids(f);
	f->app = mint(f, CLOUD_PRINCIPAL_APP, NULL, APP_ROLES);
	f->admin = mint(f, CLOUD_PRINCIPAL_USER, f->sec.admin_upn, USER_SCOPES);
	f->alice = mint(f, CLOUD_PRINCIPAL_USER, f->sec.user_upn, USER_SCOPES);
	f->bob = mint(f, CLOUD_PRINCIPAL_USER, f->sec.user2_upn, USER_SCOPES);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	cloud_state_free(f->ctx.state);
	free(f->app);
	free(f->admin);
	free(f->alice);
	free(f->bob);
	free(f);
	return 0;
}

/* ---- requests ----------------------------------------------------------------- */

enum { NO_UA = 1, NO_CT = 2, EVENTUAL = 4 /* ConsistencyLevel: eventual */ };

static void call_ex(fx *f, resp *r, const char *method, const char *url, const char *token,
		    const char *body, unsigned flags, const char *content_type)
{
	char path[2048], auth[8192];
	const char *qm = strchr(url, '?');
	size_t n = qm ? (size_t)(qm - url) : strlen(url);
	assert_true(n < sizeof path);
	memcpy(path, url, n);
	path[n] = '\0';
	cloud_request rq;
	memset(&rq, 0, sizeof rq);
	rq.method = method;
	rq.host = CLOUD_HOST_GRAPH;
	rq.path = path;
	rq.query = qm ? qm + 1 : "";
	rq.request_id = "00000000-0000-4000-8000-000000000001";
	rq.client_addr = "127.0.0.1:1";
	if (token) {
		snprintf(auth, sizeof auth, "Bearer %s", token);
		rq.headers[rq.n_headers++] = (cloud_header){"authorization", auth};
	}
	if (!(flags & NO_UA))
		rq.headers[rq.n_headers++] = (cloud_header){"user-agent", "ssrp-tests/1.0"};
	if (flags & EVENTUAL)
		rq.headers[rq.n_headers++] = (cloud_header){"consistencylevel", "eventual"};
	if (body && !(flags & NO_CT))
		rq.headers[rq.n_headers++] =
			(cloud_header){"content-type", content_type ? content_type : "application/json"};
	rq.body = (const uint8_t *)body;
	rq.body_len = body ? strlen(body) : 0;
	cloud_response_init(&r->rs);
	cloud_graph_handle(&f->ctx, &rq, &r->rs);
	r->j = r->rs.body ? cJSON_Parse(r->rs.body) : NULL;
	if (r->rs.body && !r->j)
		fail_msg("%s %s: body is not JSON: %s", method, url, r->rs.body);
}

static void call(fx *f, resp *r, const char *method, const char *url, const char *token, const char *body)
{
	call_ex(f, r, method, url, token, body, 0, NULL);
}

static void done(resp *r)
{
	cJSON_Delete(r->j);
	r->j = NULL;
	cloud_response_free(&r->rs);
}

static const char *str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *item(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static void expect_status(resp *r, int status)
{
	if (r->rs.status != status)
		fail_msg("status %d, wanted %d: %s", r->rs.status, status, r->rs.body ? r->rs.body : "");
}

/* Graph's error shape, with the code and a part of the message. */
static void expect_error_json(const cJSON *j, int status, int got, const char *code, const char *words)
{
	const cJSON *e = item(j, "error");
	if (got != status || !e)
		fail_msg("status %d, wanted %d with %s", got, status, code);
	if (!str(e, "code") || strcmp(str(e, "code"), code))
		fail_msg("code %s, wanted %s (%s)", str(e, "code"), code, str(e, "message"));
	if (!str(e, "message") || !strstr(str(e, "message"), words))
		fail_msg("message '%s' lacks '%s'", str(e, "message"), words);
	const cJSON *inner = item(e, "innerError");
	assert_true(cJSON_IsObject(inner));
	assert_non_null(str(inner, "request-id"));
	assert_non_null(str(inner, "date"));
}

static void expect_error(resp *r, int status, const char *code, const char *words)
{
	expect_error_json(r->j, status, r->rs.status, code, words);
}

/* One request that must fail in a given way. */
static void refused(fx *f, const char *method, const char *url, const char *token, const char *body,
		    int status, const char *code, const char *words)
{
	resp r;
	call(f, &r, method, url, token, body);
	expect_error(&r, status, code, words);
	done(&r);
}

static int value_count(const resp *r)
{
	const cJSON *v = item(r->j, "value");
	assert_true(cJSON_IsArray(v));
	return cJSON_GetArraySize(v);
}

static const cJSON *value_at(const resp *r, int i)
{
	return cJSON_GetArrayItem(item(r->j, "value"), i);
}

static char *ref_body(const char *kind, const char *id)
{
	char *b = malloc(256);
	assert_non_null(b);
	snprintf(b, 256, "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/%s/%s\"}", kind, id);
	return b;
}

static void add_owner(fx *f, const char *user_id)
{
	char url[256];
	char *body = ref_body("directoryObjects", user_id);
	snprintf(url, sizeof url, "/v1.0/devices/%s/registeredOwners/$ref", f->device_oid);
	resp r;
	call(f, &r, "POST", url, f->admin, body);
	expect_status(&r, 204);
	assert_null(r.rs.body);
	done(&r);
	free(body);
}

static void put_key(fx *f, const char *id, int volume_type, uint8_t seed)
{
	uint8_t raw[SSRP_RP_KEY_LEN];
	memset(raw, seed, sizeof raw);
	cloud_recovery_key k;
	memset(&k, 0, sizeof k);
	snprintf(k.id, sizeof k.id, "%s", id);
	snprintf(k.device_id, sizeof k.device_id, "%s", f->sec.device_id);
	ssrp_rp_format(k.key, raw);
	k.volume_type = volume_type;
	k.created = 1592228730; /* 2020-06-15T13:45:30Z */
	cloud_state_lock(f->ctx.state);
	assert_int_equal(cloud_key_put(f->ctx.state, &k), SSRP_OK);
	cloud_state_unlock(f->ctx.state);
}

static int audit_reads(fx *f, const char *key_id, const char *actor)
{
	cloud_state_lock(f->ctx.state);
	char *text = cloud_state_to_json(f->ctx.state);
	cloud_state_unlock(f->ctx.state);
	assert_non_null(text);
	cJSON *j = cJSON_Parse(text);
	free(text);
	assert_non_null(j);
	int n = 0;
	const cJSON *a;
	cJSON_ArrayForEach(a, item(j, "audit"))
	{
		if (str(a, "target") && !strcmp(str(a, "target"), key_id) && str(a, "actor") &&
		    !strcmp(str(a, "actor"), actor))
			n++;
	}
	cJSON_Delete(j);
	return n;
}

/* ---- authentication and routing -------------------------------------------------- */

static void bearer_token_required(void **state)
{
	fx *f = *state;
	resp r;
	call(f, &r, "GET", "/v1.0/users", NULL, NULL);
	expect_status(&r, 401);
	assert_string_equal(str(item(r.j, "error"), "code"), "InvalidAuthenticationToken");
	done(&r);
	call(f, &r, "GET", "/v1.0/users", "not.a.token", NULL);
	expect_status(&r, 401);
	done(&r);
	/* A token past its expiry. */
	fake_now += 7200;
	call(f, &r, "GET", "/v1.0/users", f->app, NULL);
	expect_status(&r, 401);
	done(&r);
	fake_now = NOW;
	/* Another key's signature. */
	EVP_PKEY *other = test_rsa_key();
	assert_non_null(other);
	f->ctx.token_key = other;
	char *forged = mint(f, CLOUD_PRINCIPAL_APP, NULL, APP_ROLES);
	f->ctx.token_key = signing_key;
	call(f, &r, "GET", "/v1.0/users", forged, NULL);
	expect_status(&r, 401);
	done(&r);
	free(forged);
	EVP_PKEY_free(other);
}

static void routing_and_query_options(void **state)
{
	fx *f = *state;
	refused(f, "GET", "/beta/users", f->app, NULL, 400, "BadRequest", "Invalid version: 'beta'");
	refused(f, "GET", "/v1.0/groups", f->app, NULL, 400, "BadRequest",
		"Resource not found for the segment 'groups'");
	refused(f, "GET", "/v1.0/", f->app, NULL, 400, "BadRequest", "Resource not found for the segment ''");
	refused(f, "GET", "/v1.0/users//x", f->app, NULL, 400, "BadRequest", "segment ''");
	refused(f, "DELETE", "/v1.0/users", f->app, NULL, 405, "Request_BadRequest", "not allowed");
	refused(f, "GET", "/v1.0/users?$search=%22displayName:a%22", f->app, NULL, 400,
		"Request_UnsupportedQuery",
		"Request with $search query parameter only works through MSGraph with a special request header: "
		"'ConsistencyLevel: eventual'");
	refused(f, "GET", "/v1.0/users?$expand=manager", f->app, NULL, 400, "BadRequest", "'$expand'");
	refused(f, "GET", "/v1.0/users?$frobnicate=1", f->app, NULL, 400, "BadRequest",
		"The query parameter '$frobnicate' is not supported.");
	refused(f, "GET", "/v1.0/users?$top=5&$top=6", f->app, NULL, 400, "BadRequest",
		"specified more than once");
	refused(f, "GET", "/v1.0/users?$filter=%zz", f->app, NULL, 400, "BadRequest", "percent-encoding");
	refused(f, "GET", "/v1.0/users/x?$top=5", f->app, NULL, 400, "BadRequest",
		"Query option 'Top' is not allowed");
	/* Options without '$' are custom options, which OData ignores. */
	resp r;
	call(f, &r, "GET", "/v1.0/users?foo=bar", f->app, NULL);
	expect_status(&r, 200);
	/* Who called, for the request log. */
	char want[200];
	snprintf(want, sizeof want, "app:%s", f->sec.app_id);
	assert_string_equal(r.rs.identity, want);
	done(&r);
	call(f, &r, "GET", "/v1.0/me", f->alice, NULL);
	snprintf(want, sizeof want, "user:%s", f->sec.user_upn);
	assert_string_equal(r.rs.identity, want);
	done(&r);
}

/* ---- users ----------------------------------------------------------------------- */

static void users_by_upn_and_id(void **state)
{
	fx *f = *state;
	char url[512];
	resp r;
	snprintf(url, sizeof url, "/v1.0/users/%s", f->sec.user_upn);
	call(f, &r, "GET", url, f->app, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "@odata.context"), "https://graph.microsoft.com/v1.0/$metadata#users/$entity");
	assert_string_equal(str(r.j, "id"), f->alice_id);
	assert_string_equal(str(r.j, "userPrincipalName"), f->sec.user_upn);
	assert_non_null(str(r.j, "displayName"));
	/* Graph's default property set: the unset ones null or empty, the
	 * others only on $select. */
	assert_true(cJSON_IsArray(item(r.j, "businessPhones")));
	static const char *const unset[] = {"givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
					    "preferredLanguage", "surname", NULL};
	for (size_t i = 0; unset[i]; i++)
		assert_true(cJSON_IsNull(item(r.j, unset[i])));
	assert_null(item(r.j, "onPremisesSamAccountName"));
	assert_null(item(r.j, "usageLocation"));
	assert_null(item(r.j, "assignedLicenses"));
	assert_int_equal(cJSON_GetArraySize(r.j), 12); /* the 11 and @odata.context */
	done(&r);
	snprintf(url, sizeof url, "/v1.0/users/%s?$select=id,onPremisesSamAccountName,usageLocation,assignedLicenses",
		 f->sec.user_upn);
	call(f, &r, "GET", url, f->app, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "onPremisesSamAccountName"), "alice");
	assert_non_null(str(r.j, "usageLocation"));
	assert_null(item(r.j, "displayName"));
	const cJSON *lic = item(r.j, "assignedLicenses");
	assert_true(cJSON_GetArraySize(lic) >= 1);
	assert_non_null(str(cJSON_GetArrayItem(lic, 0), "skuId"));
	assert_true(cJSON_IsArray(item(cJSON_GetArrayItem(lic, 0), "disabledPlans")));
	done(&r);

	snprintf(url, sizeof url, "/v1.0/users/%s?$select=onPremisesSamAccountName", f->bob_id);
	call(f, &r, "GET", url, f->app, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "onPremisesSamAccountName"), "bob");
	done(&r);

	refused(f, "GET", "/v1.0/users/nobody@contoso.example", f->app, NULL, 404, "Request_ResourceNotFound",
		"Resource 'nobody@contoso.example' does not exist or one of its queried reference-property "
		"objects are not present.");
	/* What is echoed stays valid UTF-8: a stray byte becomes '?'. */
	refused(f, "GET", "/v1.0/users/j\xc3\xbcrgen\xff\xc3@contoso.example", f->app, NULL, 404,
		"Request_ResourceNotFound", "Resource 'j\xc3\xbcrgen??@contoso.example' does not exist");
}

static void users_select_and_filter(void **state)
{
	fx *f = *state;
	char url[512];
	resp r;
	snprintf(url, sizeof url, "/v1.0/users/%s?$select=id,displayName", f->sec.user_upn);
	call(f, &r, "GET", url, f->app, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "@odata.context"),
			    "https://graph.microsoft.com/v1.0/$metadata#users(id,displayName)/$entity");
	assert_non_null(str(r.j, "id"));
	assert_non_null(str(r.j, "displayName"));
	assert_null(item(r.j, "userPrincipalName"));
	assert_null(item(r.j, "assignedLicenses"));
	done(&r);
	refused(f, "GET", "/v1.0/users?$select=id,shoeSize", f->app, NULL, 400, "BadRequest",
		"Could not find a property named 'shoeSize' on type 'microsoft.graph.user'");

	snprintf(url, sizeof url, "/v1.0/users?$filter=userPrincipalName%%20eq%%20'%s'", f->sec.user_upn);
	call(f, &r, "GET", url, f->app, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 1);
	assert_string_equal(str(value_at(&r, 0), "id"), f->alice_id);
	done(&r);
	/* onPremisesSamAccountName only in an advanced query. */
	refused(f, "GET", "/v1.0/users?$filter=onPremisesSamAccountName+eq+'BOB'", f->app, NULL, 400,
		"Request_UnsupportedQuery",
		"Unsupported or invalid query filter clause specified for property 'onPremisesSamAccountName' "
		"of resource 'User'.");
	call_ex(f, &r, "GET", "/v1.0/users?$filter=onPremisesSamAccountName+eq+'BOB'", f->app, NULL, EVENTUAL,
		NULL);
	expect_status(&r, 400); /* the header without $count=true */
	done(&r);
	call_ex(f, &r, "GET", "/v1.0/users?$filter=onPremisesSamAccountName+eq+'BOB'&$count=true", f->app, NULL,
		EVENTUAL, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 1);
	assert_string_equal(str(value_at(&r, 0), "id"), f->bob_id);
	done(&r);
	call_ex(f, &r, "GET",
		"/v1.0/users?$filter=onPremisesSamAccountName+eq+'alice'+or+onPremisesSamAccountName+eq+'bob'"
		"&$count=true",
		f->app, NULL, EVENTUAL, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 2);
	done(&r);
	refused(f, "GET", "/v1.0/users?$filter=deviceId+eq+'x'", f->app, NULL, 400, "BadRequest",
		"Invalid filter clause: Could not find a property named 'deviceId' on type 'microsoft.graph.user'");
	refused(f, "GET", "/v1.0/users?$filter=contains(displayName,'a')", f->app, NULL, 400,
		"Request_UnsupportedQuery", "unsupported function 'contains'");
	refused(f, "GET", "/v1.0/users?$filter=displayName+eq+true", f->app, NULL, 400, "BadRequest",
		"Invalid filter clause: a binary operator with incompatible types");
}

/* The account-name lookup as an advanced query (ConsistencyLevel: eventual
 * and $count=true); onPremisesDomainName, the DNS name, only on $select. */
static void users_advanced_query(void **state)
{
	fx *f = *state;
	resp r;
	call_ex(f, &r, "GET",
		"/v1.0/users?$filter=onPremisesSamAccountName+eq+'alice'"
		"&$select=id,onPremisesSamAccountName,onPremisesDomainName&$count=true",
		f->app, NULL, EVENTUAL, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 1);
	assert_int_equal((int)item(r.j, "@odata.count")->valuedouble, 1);
	assert_string_equal(str(value_at(&r, 0), "id"), f->alice_id);
	assert_string_equal(str(value_at(&r, 0), "onPremisesDomainName"), "corp.contoso.example");
	done(&r);
	/* $count counts every match, not the page */
	call_ex(f, &r, "GET", "/v1.0/users?$top=1&$count=true", f->app, NULL, EVENTUAL, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 1);
	assert_true(item(r.j, "@odata.count")->valuedouble >= 4);
	done(&r);
	call_ex(f, &r, "GET", "/v1.0/users?$count=false", f->app, NULL, EVENTUAL, NULL);
	expect_status(&r, 200);
	assert_null(item(r.j, "@odata.count"));
	done(&r);
	/* not named in $select: not shown */
	call_ex(f, &r, "GET",
		"/v1.0/users?$filter=onPremisesSamAccountName+eq+'alice'&$count=true"
		"&$select=id,onPremisesSamAccountName",
		f->app, NULL, EVENTUAL, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(value_at(&r, 0), "onPremisesSamAccountName"), "alice");
	assert_null(item(value_at(&r, 0), "onPremisesDomainName"));
	done(&r);
	call_ex(f, &r, "GET", "/v1.0/users?$count=maybe", f->app, NULL, EVENTUAL, NULL);
	expect_error(&r, 400, "BadRequest", "'maybe'");
	done(&r);
	/* Without the header, $count=true is silently ignored ("Error handling
	 * for advanced queries"), and so is no advanced query. */
	call(f, &r, "GET", "/v1.0/devices?$count=true", f->app, NULL);
	expect_status(&r, 200);
	assert_null(item(r.j, "@odata.count"));
	assert_true(value_count(&r) >= 1);
	done(&r);
	refused(f, "GET", "/v1.0/users?$filter=onPremisesSamAccountName+eq+'alice'&$count=true", f->app, NULL,
		400, "Request_UnsupportedQuery", "'onPremisesSamAccountName' of resource 'User'");
}

/* Each operator on users as Graph offers it: by default (eq, in,
 * startsWith, booleans), only in an advanced query (ne, not, endsWith,
 * null), or not at all; the advanced ones answer 400
 * Request_UnsupportedQuery without ConsistencyLevel: eventual and
 * $count=true, and the same query with both works. */
static void filter_operators(void **state)
{
	fx *f = *state;
	resp r;
	static const struct {
		const char *filter;
		int want; /* users matched; -1: refused even as an advanced query */
		int advanced;
		const char *words; /* in the refusal */
	} cases[] = {
		{"startsWith(displayName,'ali')", 1, 0, NULL},
		{"startswith(userPrincipalName,'BOB@')", 1, 0, NULL},
		{"displayName in ('Alice Anders','Bob Berg','nobody')", 2, 0, NULL},
		{"accountEnabled eq true and usageLocation eq 'US'", 4, 0, NULL},
		{"accountEnabled eq false", 0, 0, NULL},
		{"startsWith(usageLocation,'u') and startsWith(displayName,'b')", 1, 0, NULL},
		{"displayName eq 'Alice Anders' OR displayName eq 'Bob Berg'", 2, 0, NULL},
		{"displayName ne 'Alice Anders'", 3, 1, "Operator 'ne' is not supported because the required parameters"},
		{"not(displayName eq 'Alice Anders')", 3, 1, "Operator 'not'"},
		{"NOT startsWith(displayName,'Bob')", 3, 1, "Operator 'not'"},
		{"endsWith(userPrincipalName,'@contoso.example')", 4, 1, "Operator 'endsWith'"},
		{"displayName ne null", 4, 1, "Operator 'ne'"},
		{"displayName eq null", 0, 1, "for property 'displayName' of resource 'User'"},
		{"startsWith(onPremisesSamAccountName,'al')", 1, 1, "'onPremisesSamAccountName' of resource 'User'"},
		{"onPremisesSamAccountName in ('alice','bob')", 2, 1, "Operator 'in'"},
		{"accountEnabled ne false", 4, 1, "Operator 'ne'"},
		/* Not offered at all: the tables have no entry. */
		{"endsWith(displayName,'Anders')", -1, 1, "for property 'displayName' of resource 'User'"},
		{"startsWith(id,'a')", -1, 1, "for property 'id' of resource 'User'"},
		{"userPrincipalName eq null", -1, 1, "for property 'userPrincipalName' of resource 'User'"},
		{"onPremisesSamAccountName eq null", -1, 1, "'onPremisesSamAccountName'"},
	};
	char url[512], enc[400];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		/* The filter percent-encoded, as a client sends it. */
		size_t k = 0;
		for (const char *p = cases[i].filter; *p && k + 4 < sizeof enc; p++) {
			if (*p == ' ' || *p == '\'' || *p == '(' || *p == ')' || *p == ',' || *p == '@')
				k += (size_t)snprintf(enc + k, sizeof enc - k, "%%%02X", (unsigned char)*p);
			else
				enc[k++] = *p;
		}
		enc[k] = '\0';
		snprintf(url, sizeof url, "/v1.0/users?$filter=%s", enc);
		call(f, &r, "GET", url, f->app, NULL);
		if (cases[i].advanced) {
			if (r.rs.status != 400)
				fail_msg("%s: %d without the advanced-query parameters", cases[i].filter, r.rs.status);
			expect_error(&r, 400, "Request_UnsupportedQuery", cases[i].words);
			done(&r);
			snprintf(url, sizeof url, "/v1.0/users?$filter=%s&$count=true", enc);
			call_ex(f, &r, "GET", url, f->app, NULL, EVENTUAL, NULL);
		}
		if (cases[i].want < 0) {
			expect_error(&r, 400, "Request_UnsupportedQuery", cases[i].words);
		} else {
			if (r.rs.status != 200)
				fail_msg("%s: %d %s", cases[i].filter, r.rs.status, r.rs.body);
			if (value_count(&r) != cases[i].want)
				fail_msg("%s: %d users, wanted %d", cases[i].filter, value_count(&r), cases[i].want);
		}
		done(&r);
	}
	/* A device's properties on devices, by the device table. */
	call(f, &r, "GET", "/v1.0/devices?$filter=startsWith(operatingSystem,'win')%20and%20accountEnabled%20eq%20true",
	     f->app, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 1);
	done(&r);
	refused(f, "GET", "/v1.0/devices?$filter=startsWith(deviceId,'a')", f->app, NULL, 400,
		"Request_UnsupportedQuery", "for property 'deviceId' of resource 'Device'");
	refused(f, "GET", "/v1.0/devices?$filter=trustType%20ne%20'AzureAd'", f->app, NULL, 400,
		"Request_UnsupportedQuery", "Operator 'ne'");
	refused(f, "GET", "/v1.0/devices?$filter=startsWith(userPrincipalName,'a')", f->app, NULL, 400,
		"BadRequest", "Could not find a property named 'userPrincipalName' on type 'microsoft.graph.device'");
	/* Recovery keys are no directory object: deviceId eq, and nothing more. */
	refused(f, "GET", "/v1.0/informationProtection/bitlocker/recoveryKeys?$filter=deviceId%20ne%20'x'",
		f->app, NULL, 400, "Request_UnsupportedQuery", "'deviceId' of resource 'BitlockerRecoveryKey'");
	refused(f, "GET", "/v1.0/informationProtection/bitlocker/recoveryKeys?$filter=deviceId%20in%20('x')",
		f->app, NULL, 400, "Request_UnsupportedQuery", "'deviceId' of resource 'BitlockerRecoveryKey'");
}

/* $search: only with ConsistencyLevel: eventual, "property:text" clauses
 * joined by upper-case AND/OR, displayName by tokens. $orderby: by the
 * sorting table, and with $filter only as an advanced query. */
static void search_and_orderby(void **state)
{
	fx *f = *state;
	resp r;
	static const struct {
		const char *search; /* percent-encoded */
		int want;
	} found[] = {
		{"%22displayName:ali%22", 1},
		{"%22displayName:anders%20al%22", 1},          /* tokens in any order */
		{"%22displayName:nders%22", 0},                /* tokens match at their start */
		{"%22displayName:Berg%22%20OR%20%22displayName:Admin%22", 2},
		{"%22displayName:bob%22%20AND%20%22userPrincipalName:bob@%22", 1},
		{"(%22displayName:bob%22%20OR%20%22displayName:alice%22)%20AND%20%22userPrincipalName:a%22", 1},
		{"%22userPrincipalName:contoso%22", 0},        /* other properties: startsWith */
	};
	char url[512];
	for (size_t i = 0; i < sizeof found / sizeof found[0]; i++) {
		snprintf(url, sizeof url, "/v1.0/users?$search=%s", found[i].search);
		call_ex(f, &r, "GET", url, f->app, NULL, EVENTUAL, NULL);
		if (r.rs.status != 200 || value_count(&r) != found[i].want)
			fail_msg("$search=%s: %d, %s", found[i].search, r.rs.status, r.rs.body);
		done(&r);
	}
	static const struct {
		const char *search;
		const char *code, *words;
	} bad[] = {
		{"displayName:ali", "BadRequest", "expected a clause in double quotes"},
		{"%22ali%22", "BadRequest", "names its property"},
		{"%22displayName:ali%22%20or%20%22displayName:bob%22", "BadRequest", "upper case"},
		{"%22displayName:ali", "BadRequest", "unterminated search clause"},
		{"%22displayName:%22", "BadRequest", "needs text after the ':'"},
		{"%22shoeSize:9%22", "BadRequest", "unknown or unsearchable property 'shoeSize'"},
		{"%22deviceId:9%22", "BadRequest", "Could not find a property named 'deviceId'"},
		{"%22accountEnabled:true%22", "Request_UnsupportedQuery", "Unsupported search clause"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(url, sizeof url, "/v1.0/users?$search=%s", bad[i].search);
		call_ex(f, &r, "GET", url, f->app, NULL, EVENTUAL, NULL);
		expect_error(&r, 400, bad[i].code, bad[i].words);
		done(&r);
	}
	/* $search with $filter: both must hold. */
	call_ex(f, &r, "GET", "/v1.0/users?$search=%22displayName:b%22&$filter=accountEnabled%20eq%20true", f->app,
		NULL, EVENTUAL, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 1);
	done(&r);

	/* $orderby on users' displayName works by default, both ways. */
	call(f, &r, "GET", "/v1.0/users?$orderby=displayName&$select=displayName", f->app, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 4);
	assert_string_equal(str(value_at(&r, 0), "displayName"), "Alice Anders");
	assert_string_equal(str(value_at(&r, 1), "displayName"), "Bob Berg");
	assert_string_equal(str(value_at(&r, 2), "displayName"), "Contoso Admin");
	assert_string_equal(str(value_at(&r, 3), "displayName"), "ssrp association service");
	done(&r);
	call(f, &r, "GET", "/v1.0/users?$orderby=userPrincipalName%20desc&$top=2", f->app, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(value_at(&r, 0), "userPrincipalName"), "ssrp-svc@contoso.example");
	done(&r);
	/* Pages of a sorted list follow the order, and keep the advanced query. */
	call_ex(f, &r, "GET", "/v1.0/users?$orderby=displayName%20desc&$top=3&$count=true", f->app, NULL, EVENTUAL,
		NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 3);
	assert_string_equal(str(value_at(&r, 2), "displayName"), "Bob Berg");
	const char *link = str(r.j, "@odata.nextLink");
	assert_non_null(link);
	assert_non_null(strstr(link, "$orderby=displayName%20desc"));
	assert_non_null(strstr(link, "$count=true"));
	snprintf(url, sizeof url, "%s", strstr(link, "/v1.0/"));
	done(&r);
	call_ex(f, &r, "GET", url, f->app, NULL, EVENTUAL, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 1);
	assert_string_equal(str(value_at(&r, 0), "displayName"), "Alice Anders");
	assert_int_equal((int)item(r.j, "@odata.count")->valuedouble, 4);
	done(&r);
	/* $orderby with $filter: advanced only. */
	refused(f, "GET", "/v1.0/users?$orderby=displayName&$filter=startsWith(displayName,'a')", f->app, NULL, 400,
		"Request_UnsupportedQuery", "$orderby with $filter");
	call_ex(f, &r, "GET", "/v1.0/users?$orderby=displayName&$filter=accountEnabled%20eq%20true&$count=true",
		f->app, NULL, EVENTUAL, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 4);
	done(&r);
	/* Devices sort by displayName only as an advanced query. */
	refused(f, "GET", "/v1.0/devices?$orderby=displayName", f->app, NULL, 400, "Request_UnsupportedQuery",
		"Sorting on 'displayName' is not supported because the required parameters might be missing");
	call_ex(f, &r, "GET", "/v1.0/devices?$orderby=displayName&$count=true", f->app, NULL, EVENTUAL, NULL);
	expect_status(&r, 200);
	done(&r);
	refused(f, "GET", "/v1.0/users?$orderby=id", f->app, NULL, 400, "Request_UnsupportedQuery",
		"Sorting on property 'id' of resource 'User' is not supported");
	refused(f, "GET", "/v1.0/users?$orderby=shoeSize", f->app, NULL, 400, "BadRequest",
		"Could not find a property named 'shoeSize'");
	refused(f, "GET", "/v1.0/users?$orderby=displayName,userPrincipalName", f->app, NULL, 400,
		"Request_UnsupportedQuery", "more than one property");
	refused(f, "GET", "/v1.0/users?$orderby=displayName%20up", f->app, NULL, 400, "BadRequest",
		"asc or desc");
	refused(f, "GET", "/v1.0/informationProtection/bitlocker/recoveryKeys?$orderby=createdDateTime", f->app,
		NULL, 400, "BadRequest", "Query option 'OrderBy' is not allowed");
}

static void users_permissions(void **state)
{
	fx *f = *state;
	char url[512];
	resp r;
	char *devices_only = mint(f, CLOUD_PRINCIPAL_APP, NULL, "Device.Read.All");
	char *alice_basic = mint(f, CLOUD_PRINCIPAL_USER, f->sec.user_upn, "User.Read");
	char *alice_readbasic = mint(f, CLOUD_PRINCIPAL_USER, f->sec.user_upn, "User.ReadBasic.All");
	snprintf(url, sizeof url, "/v1.0/users/%s", f->sec.user2_upn);
	refused(f, "GET", url, devices_only, NULL, 403, "Authorization_RequestDenied", DENIED);
	refused(f, "GET", "/v1.0/users", devices_only, NULL, 403, "Authorization_RequestDenied", DENIED);
	/* User.Read: oneself only. */
	call(f, &r, "GET", "/v1.0/me?$select=id,onPremisesSamAccountName", alice_basic, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "id"), f->alice_id);
	assert_string_equal(str(r.j, "onPremisesSamAccountName"), "alice");
	done(&r);
	snprintf(url, sizeof url, "/v1.0/users/%s", f->alice_id);
	call(f, &r, "GET", url, alice_basic, NULL);
	expect_status(&r, 200);
	done(&r);
	snprintf(url, sizeof url, "/v1.0/users/%s", f->sec.user2_upn);
	refused(f, "GET", url, alice_basic, NULL, 403, "Authorization_RequestDenied", DENIED);
	refused(f, "GET", "/v1.0/users", alice_basic, NULL, 403, "Authorization_RequestDenied", DENIED);
	/* User.ReadBasic.All: others' basic profile only. */
	snprintf(url, sizeof url, "/v1.0/users/%s?$select=id,onPremisesSamAccountName,assignedLicenses",
		 f->sec.user2_upn);
	call(f, &r, "GET", url, alice_readbasic, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "id"), f->bob_id);
	assert_null(item(r.j, "onPremisesSamAccountName"));
	assert_null(item(r.j, "assignedLicenses"));
	done(&r);
	/* /me needs a user. */
	refused(f, "GET", "/v1.0/me", f->app, NULL, 400, "BadRequest",
		"/me request is only valid with delegated authentication flow.");
	free(devices_only);
	free(alice_basic);
	free(alice_readbasic);
}

/* ---- licences ---------------------------------------------------------------------- */

static void license_details(void **state)
{
	fx *f = *state;
	char url[512];
	resp r;
	snprintf(url, sizeof url, "/v1.0/users/%s/licenseDetails", f->sec.user_upn);
	/* Application: "Not supported" on the page, whatever the app holds. */
	refused(f, "GET", url, f->app, NULL, 403, "Authorization_RequestDenied", DENIED);
	char *app_all = mint(f, CLOUD_PRINCIPAL_APP, NULL,
			     "LicenseAssignment.ReadWrite.All Directory.ReadWrite.All User.ReadWrite.All");
	refused(f, "GET", url, app_all, NULL, 403, "Authorization_RequestDenied", DENIED);
	free(app_all);
	char *reader = mint(f, CLOUD_PRINCIPAL_USER, f->sec.user_upn, "LicenseAssignment.Read.All");
	call(f, &r, "GET", url, reader, NULL);
	expect_status(&r, 200);
	assert_non_null(strstr(str(r.j, "@odata.context"), "/licenseDetails"));
	assert_true(value_count(&r) >= 1);
	int p1 = 0;
	const cJSON *l;
	cJSON_ArrayForEach(l, item(r.j, "value"))
	{
		assert_non_null(str(l, "id"));
		assert_non_null(str(l, "skuId"));
		assert_non_null(str(l, "skuPartNumber"));
		const cJSON *p = cJSON_GetArrayItem(item(l, "servicePlans"), 0);
		assert_non_null(str(p, "servicePlanId"));
		assert_non_null(str(p, "servicePlanName"));
		assert_string_equal(str(p, "provisioningStatus"), "Success");
		assert_string_equal(str(p, "appliesTo"), "User");
		if (!strcmp(str(l, "skuPartNumber"), "AAD_PREMIUM")) {
			p1 = 1;
			assert_string_equal(str(l, "skuId"), "078d2b04-f1bd-4111-bbd4-b4b1b354cef4");
			assert_string_equal(str(p, "servicePlanName"), "AAD_PREMIUM");
		}
	}
	assert_true(p1);
	done(&r);
	/* Oneself with User.Read, others not. */
	char *alice_basic = mint(f, CLOUD_PRINCIPAL_USER, f->sec.user_upn, "User.Read");
	call(f, &r, "GET", "/v1.0/me/licenseDetails", alice_basic, NULL);
	expect_status(&r, 200);
	done(&r);
	snprintf(url, sizeof url, "/v1.0/users/%s/licenseDetails", f->sec.user2_upn);
	refused(f, "GET", url, alice_basic, NULL, 403, "Authorization_RequestDenied", DENIED);
	free(alice_basic);
	/* LicenseAssignment.Read.All reads anyone's; Directory.AccessAsUser.All
	 * is not on the page's list. */
	call(f, &r, "GET", url, reader, NULL);
	expect_status(&r, 200);
	done(&r);
	char *broad = mint(f, CLOUD_PRINCIPAL_USER, f->sec.admin_upn, "Directory.AccessAsUser.All");
	refused(f, "GET", url, broad, NULL, 403, "Authorization_RequestDenied", DENIED);
	free(broad);
	/* $select, and nothing that is not a licenseDetails property. */
	snprintf(url, sizeof url, "/v1.0/users/%s/licenseDetails?$select=skuPartNumber", f->sec.user2_upn);
	call(f, &r, "GET", url, reader, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(value_at(&r, 0), "skuPartNumber"), "INTUNE_A");
	assert_null(item(value_at(&r, 0), "servicePlans"));
	assert_null(item(value_at(&r, 0), "skuId"));
	done(&r);
	snprintf(url, sizeof url, "/v1.0/users/%s/licenseDetails?$select=shoeSize", f->sec.user2_upn);
	refused(f, "GET", url, reader, NULL, 400, "BadRequest",
		"Could not find a property named 'shoeSize' on type 'microsoft.graph.licenseDetails'");
	free(reader);
}


static int has_license(const resp *r, const char *sku)
{
	const cJSON *l;
	cJSON_ArrayForEach(l, item(r->j, "assignedLicenses"))
	{
		if (str(l, "skuId") && !strcmp(str(l, "skuId"), sku))
			return 1;
	}
	return 0;
}

static void assign_license(void **state)
{
	fx *f = *state;
	char url[512];
	resp r;
	char *writer = mint(f, CLOUD_PRINCIPAL_APP, NULL, "User.ReadWrite.All");
	snprintf(url, sizeof url, "/v1.0/users/%s/assignLicense", f->sec.user_upn);

	/* Delegated: a licence administrator with LicenseAssignment.ReadWrite.All
	 * (or User/Directory.ReadWrite.All), not with Directory.AccessAsUser.All,
	 * which the assignLicense page does not list; and never without the role. */
	char *svc_broad = mint(f, CLOUD_PRINCIPAL_USER, f->sec.service_upn, "Directory.AccessAsUser.All");
	refused(f, "POST", url, svc_broad, "{\"addLicenses\":[],\"removeLicenses\":[]}", 403,
		"Authorization_RequestDenied", DENIED);
	free(svc_broad);
	char *alice_lic = mint(f, CLOUD_PRINCIPAL_USER, f->sec.user_upn, "LicenseAssignment.ReadWrite.All");
	refused(f, "POST", url, alice_lic, "{\"addLicenses\":[],\"removeLicenses\":[]}", 403,
		"Authorization_RequestDenied", DENIED);
	free(alice_lic);
	char *svc = mint(f, CLOUD_PRINCIPAL_USER, f->sec.service_upn, "LicenseAssignment.ReadWrite.All");
	call(f, &r, "POST", url, svc, "{\"addLicenses\":[],\"removeLicenses\":[]}");
	expect_status(&r, 200);
	done(&r);
	free(svc);

	call(f, &r, "POST", url, writer, "{\"addLicenses\":[],\"removeLicenses\":[\"" AAD_P1 "\"]}");
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "id"), f->alice_id);
	assert_null(item(r.j, "assignedLicenses")); /* the user's default set, as Graph answers */
	done(&r);
	snprintf(url, sizeof url, "/v1.0/users/%s?$select=assignedLicenses", f->sec.user_upn);
	call(f, &r, "GET", url, f->app, NULL);
	assert_false(has_license(&r, AAD_P1));
	done(&r);
	snprintf(url, sizeof url, "/v1.0/users/%s/assignLicense", f->sec.user_upn);
	refused(f, "POST", url, writer, "{\"addLicenses\":[],\"removeLicenses\":[\"" AAD_P1 "\"]}", 400,
		"Request_BadRequest", "User does not have a corresponding license.");
	/* Add one and give one back in a single call. */
	call(f, &r, "POST", url, writer,
	     "{\"addLicenses\":[{\"skuId\":\"" INTUNE_A "\",\"disabledPlans\":[]},{\"skuId\":\"" AAD_P1
	     "\"}],\"removeLicenses\":[]}");
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "@odata.context"), "https://graph.microsoft.com/v1.0/$metadata#users/$entity");
	done(&r);
	snprintf(url, sizeof url, "/v1.0/users/%s?$select=assignedLicenses", f->sec.user_upn);
	call(f, &r, "GET", url, f->app, NULL);
	assert_true(has_license(&r, INTUNE_A));
	assert_true(has_license(&r, AAD_P1));
	done(&r);
	/* The change is in the directory, not only in the answer. */
	snprintf(url, sizeof url, "/v1.0/users/%s/licenseDetails", f->alice_id);
	char *lic_reader = mint(f, CLOUD_PRINCIPAL_USER, f->sec.admin_upn, "LicenseAssignment.Read.All");
	call(f, &r, "GET", url, lic_reader, NULL);
	free(lic_reader);
	assert_int_equal(value_count(&r), 2);
	int found = 0;
	for (int i = 0; i < value_count(&r); i++)
		found |= !strcmp(str(value_at(&r, i), "skuPartNumber"), "INTUNE_A");
	assert_true(found);
	done(&r);
	snprintf(url, sizeof url, "/v1.0/users/%s/assignLicense", f->sec.user_upn);
	refused(f, "POST", url, writer,
		"{\"addLicenses\":[{\"skuId\":\"" INTUNE_A "\"}],\"removeLicenses\":[\"" INTUNE_A "\"]}", 400,
		"Request_BadRequest", "both addLicenses and removeLicenses");
	refused(f, "POST", url, writer,
		"{\"addLicenses\":[{\"skuId\":\"00000000-0000-0000-0000-000000000000\"}],\"removeLicenses\":[]}",
		400, "Request_BadRequest",
		"License 00000000-0000-0000-0000-000000000000 does not correspond to a valid company License.");
	refused(f, "POST", url, writer,
		"{\"addLicenses\":[{\"skuId\":\"" INTUNE_A
		"\",\"disabledPlans\":[\"11111111-1111-1111-1111-111111111111\"]}],\"removeLicenses\":[]}",
		400, "Request_BadRequest", "'disabledPlans'");
	refused(f, "POST", url, writer, "{\"addLicenses\":[]}", 400, "Request_BadRequest",
		"Invalid value specified for property 'removeLicenses'");
	refused(f, "POST", url, writer, "{\"addLicenses\":\"x\",\"removeLicenses\":[]}", 400,
		"Request_BadRequest", "'addLicenses'");
	refused(f, "POST", url, writer, "not json", 400, "BadRequest", "Unable to read JSON request payload");
	refused(f, "POST", url, writer, "[1]", 400, "BadRequest", "Unable to read JSON request payload");
	refused(f, "POST", url, writer, "{} trailing", 400, "BadRequest", "Unable to read JSON");
	call_ex(f, &r, "POST", url, writer, "{\"addLicenses\":[],\"removeLicenses\":[]}", 0, "text/plain");
	expect_error(&r, 415, "UnsupportedMediaType", "text/plain");
	done(&r);
	call_ex(f, &r, "POST", url, writer, "{\"addLicenses\":[],\"removeLicenses\":[]}", NO_CT, NULL);
	expect_error(&r, 400, "BadRequest", "Content-Type");
	done(&r);

	/* No usage location, no licence. */
	cloud_state_lock(f->ctx.state);
	cloud_user *bob = cloud_user_find(f->ctx.state, f->bob_id);
	bob->usage_location[0] = '\0';
	cloud_user_remove_license(bob, INTUNE_A);
	cloud_state_unlock(f->ctx.state);
	snprintf(url, sizeof url, "/v1.0/users/%s/assignLicense", f->bob_id);
	refused(f, "POST", url, writer, "{\"addLicenses\":[{\"skuId\":\"" AAD_P1 "\"}],\"removeLicenses\":[]}",
		400, "Request_BadRequest",
		"License assignment cannot be done for user with invalid usage location.");
	snprintf(url, sizeof url, "/v1.0/users/%s?$select=assignedLicenses,usageLocation", f->bob_id);
	call(f, &r, "GET", url, f->app, NULL);
	assert_false(has_license(&r, AAD_P1));
	assert_true(cJSON_IsNull(item(r.j, "usageLocation")));
	done(&r);

	/* Who may assign: the demo app lacks User.ReadWrite.All, and the demo
	 * admin's device roles do not cover licences. */
	snprintf(url, sizeof url, "/v1.0/users/%s/assignLicense", f->sec.user_upn);
	const char *body = "{\"addLicenses\":[],\"removeLicenses\":[]}";
	refused(f, "POST", url, f->app, body, 403, "Authorization_RequestDenied", DENIED);
	refused(f, "POST", url, f->admin, body, 403, "Authorization_RequestDenied", DENIED);
	refused(f, "POST", url, f->alice, body, 403, "Authorization_RequestDenied", DENIED);
	refused(f, "GET", url, writer, NULL, 405, "Request_BadRequest", "not allowed");
	refused(f, "POST", "/v1.0/users/nobody@contoso.example/assignLicense", writer, body, 404,
		"Request_ResourceNotFound", "nobody@contoso.example");
	free(writer);
}

/* ---- devices ---------------------------------------------------------------------- */

/* The subscribedSku whose skuId is sku in a List subscribedSkus answer. */
static const cJSON *sku_in(const resp *r, const char *sku)
{
	const cJSON *k;
	cJSON_ArrayForEach(k, item(r->j, "value"))
	{
		if (str(k, "skuId") && !strcmp(str(k, "skuId"), sku))
			return k;
	}
	fail_msg("no subscribedSku %s", sku);
	return NULL;
}

static double num(const cJSON *o, const char *name)
{
	const cJSON *v = item(o, name);
	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static void subscribed_skus(void **state)
{
	fx *f = *state;
	resp r;
	char want_id[2 * CLOUD_ID_LEN + 2], url[256];
	snprintf(want_id, sizeof want_id, "%s_%s", cloud_state_tenant_id(f->ctx.state), AAD_P1);

	/* List subscribedSkus' permissions, application and delegated alike:
	 * LicenseAssignment.Read.All, Organization.Read(Write).All,
	 * Directory.Read(Write).All; a user-read role is not enough. */
	refused(f, "GET", "/v1.0/subscribedSkus", f->app, NULL, 403, "Authorization_RequestDenied", DENIED);
	char *user_rw = mint(f, CLOUD_PRINCIPAL_APP, NULL, "User.ReadWrite.All Device.ReadWrite.All");
	refused(f, "GET", "/v1.0/subscribedSkus", user_rw, NULL, 403, "Authorization_RequestDenied", DENIED);
	free(user_rw);
	refused(f, "GET", "/v1.0/subscribedSkus", f->alice, NULL, 403, "Authorization_RequestDenied", DENIED);
	static const char *const granted[] = {"LicenseAssignment.Read.All", "Organization.Read.All",
					      "Organization.ReadWrite.All", "Directory.Read.All",
					      "Directory.ReadWrite.All"};
	for (size_t i = 0; i < sizeof granted / sizeof granted[0]; i++) {
		for (int delegated = 0; delegated < 2; delegated++) {
			char *t = mint(f, delegated ? CLOUD_PRINCIPAL_USER : CLOUD_PRINCIPAL_APP,
				       delegated ? f->sec.admin_upn : NULL, granted[i]);
			call(f, &r, "GET", "/v1.0/subscribedSkus", t, NULL);
			if (r.rs.status != 200)
				fail_msg("%s (%s): %d", granted[i], delegated ? "delegated" : "app", r.rs.status);
			done(&r);
			free(t);
		}
	}

	/* The resource's shape: both demo SKUs, AAD_PREMIUM held by alice. */
	char *reader = mint(f, CLOUD_PRINCIPAL_APP, NULL, "LicenseAssignment.Read.All");
	call(f, &r, "GET", "/v1.0/subscribedSkus", reader, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "@odata.context"),
			    "https://graph.microsoft.com/v1.0/$metadata#subscribedSkus");
	assert_int_equal(value_count(&r), 2);
	const cJSON *k = sku_in(&r, AAD_P1);
	assert_string_equal(str(k, "id"), want_id);
	assert_string_equal(str(k, "skuPartNumber"), "AAD_PREMIUM");
	assert_string_equal(str(k, "appliesTo"), "User");
	assert_string_equal(str(k, "capabilityStatus"), "Enabled");
	assert_string_equal(str(k, "accountId"), cloud_state_tenant_id(f->ctx.state));
	assert_true(num(k, "consumedUnits") == 1);
	const cJSON *pre = item(k, "prepaidUnits");
	assert_true(num(pre, "enabled") >= 1);
	assert_true(num(pre, "suspended") == 0 && num(pre, "warning") == 0 && num(pre, "lockedOut") == 0);
	const cJSON *plan = cJSON_GetArrayItem(item(k, "servicePlans"), 0);
	assert_non_null(str(plan, "servicePlanId"));
	assert_string_equal(str(plan, "servicePlanName"), "AAD_PREMIUM");
	assert_string_equal(str(plan, "provisioningStatus"), "Success");
	assert_string_equal(str(plan, "appliesTo"), "User");
	assert_true(cJSON_IsArray(item(k, "subscriptionIds")));
	done(&r);

	/* consumedUnits counts the users holding it, as they change. */
	char *writer = mint(f, CLOUD_PRINCIPAL_APP, NULL, "LicenseAssignment.ReadWrite.All");
	snprintf(url, sizeof url, "/v1.0/users/%s/assignLicense", f->sec.user2_upn);
	call(f, &r, "POST", url, writer, "{\"addLicenses\":[{\"skuId\":\"" AAD_P1 "\"}],\"removeLicenses\":[]}");
	expect_status(&r, 200);
	done(&r);
	free(writer);
	call(f, &r, "GET", "/v1.0/subscribedSkus", reader, NULL);
	assert_true(num(sku_in(&r, AAD_P1), "consumedUnits") == 2);
	done(&r);

	/* $select only ("does not support $filter"). */
	call(f, &r, "GET", "/v1.0/subscribedSkus?$select=skuId,servicePlans", reader, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "@odata.context"),
			    "https://graph.microsoft.com/v1.0/$metadata#subscribedSkus(skuId,servicePlans)");
	k = sku_in(&r, INTUNE_A);
	assert_null(item(k, "skuPartNumber"));
	assert_null(item(k, "id"));
	assert_true(cJSON_IsArray(item(k, "servicePlans")));
	done(&r);
	refused(f, "GET", "/v1.0/subscribedSkus?$select=shoeSize", reader, NULL, 400, "BadRequest",
		"Could not find a property named 'shoeSize' on type 'microsoft.graph.subscribedSku'");
	refused(f, "GET", "/v1.0/subscribedSkus?$filter=skuPartNumber%20eq%20'INTUNE_A'", reader, NULL, 400,
		"BadRequest", "Query option 'Filter' is not allowed");
	refused(f, "GET", "/v1.0/subscribedSkus?$top=1", reader, NULL, 400, "BadRequest", "Query option 'Top' is not allowed");
	refused(f, "POST", "/v1.0/subscribedSkus", reader, "{}", 405, "Request_BadRequest", "not allowed");

	/* Get subscribedSku by its id. */
	snprintf(url, sizeof url, "/v1.0/subscribedSkus/%s?$select=skuPartNumber", want_id);
	call(f, &r, "GET", url, reader, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "skuPartNumber"), "AAD_PREMIUM");
	done(&r);
	snprintf(url, sizeof url, "/v1.0/subscribedSkus/%s", AAD_P1);
	refused(f, "GET", url, reader, NULL, 404, "Request_ResourceNotFound", AAD_P1);
	free(reader);
}

static void devices_get(void **state)
{
	fx *f = *state;
	char url[512];
	resp r;
	call(f, &r, "GET", "/v1.0/devices", f->app, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "@odata.context"), "https://graph.microsoft.com/v1.0/$metadata#devices");
	assert_int_equal(value_count(&r), 1);
	const cJSON *d = value_at(&r, 0);
	assert_string_equal(str(d, "id"), f->device_oid);
	assert_string_equal(str(d, "deviceId"), f->sec.device_id);
	assert_string_equal(str(d, "displayName"), f->sec.device_name);
	assert_non_null(str(d, "operatingSystem"));
	assert_true(cJSON_IsBool(item(d, "accountEnabled")));
	assert_null(item(r.j, "@odata.nextLink"));
	done(&r);

	snprintf(url, sizeof url, "/v1.0/devices?$filter=deviceId%%20eq%%20'%s'&$select=id,deviceId",
		 f->sec.device_id);
	call(f, &r, "GET", url, f->app, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 1);
	assert_string_equal(str(value_at(&r, 0), "id"), f->device_oid);
	assert_null(item(value_at(&r, 0), "displayName"));
	assert_string_equal(str(r.j, "@odata.context"),
			    "https://graph.microsoft.com/v1.0/$metadata#devices(id,deviceId)");
	done(&r);
	call(f, &r, "GET", "/v1.0/devices?$filter=deviceId+eq+'00000000-0000-0000-0000-000000000000'", f->app,
	     NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 0);
	done(&r);

	snprintf(url, sizeof url, "/v1.0/devices(deviceId='%s')", f->sec.device_id);
	call(f, &r, "GET", url, f->app, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "id"), f->device_oid);
	assert_string_equal(str(r.j, "@odata.context"),
			    "https://graph.microsoft.com/v1.0/$metadata#devices/$entity");
	done(&r);
	snprintf(url, sizeof url, "/v1.0/devices/%s", f->device_oid);
	call(f, &r, "GET", url, f->admin, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "deviceId"), f->sec.device_id);
	done(&r);

	refused(f, "GET", "/v1.0/devices/00000000-0000-0000-0000-000000000000", f->app, NULL, 404,
		"Request_ResourceNotFound", "Resource '00000000-0000-0000-0000-000000000000' does not exist");
	refused(f, "GET", "/v1.0/devices(deviceId='nope')", f->app, NULL, 404, "Request_ResourceNotFound",
		"'nope'");
	refused(f, "GET", "/v1.0/devices(displayName='x')", f->app, NULL, 400, "BadRequest",
		"Resource not found for the segment");
	refused(f, "GET", "/v1.0/devices?$filter=userPrincipalName+eq+'x'", f->app, NULL, 400, "BadRequest",
		"Could not find a property named 'userPrincipalName' on type 'microsoft.graph.device'");
	refused(f, "GET", "/v1.0/devices?$select=registeredOwners", f->app, NULL, 400, "BadRequest",
		"Could not find a property named 'registeredOwners'");

	/* Who may read devices. */
	char *users_only = mint(f, CLOUD_PRINCIPAL_APP, NULL, "User.Read.All");
	char *alice_basic = mint(f, CLOUD_PRINCIPAL_USER, f->sec.user_upn, "User.Read");
	char *alice_dev = mint(f, CLOUD_PRINCIPAL_USER, f->sec.user_upn, "Device.Read.All");
	refused(f, "GET", "/v1.0/devices", users_only, NULL, 403, "Authorization_RequestDenied", DENIED);
	refused(f, "GET", "/v1.0/devices", alice_basic, NULL, 403, "Authorization_RequestDenied", DENIED);
	call(f, &r, "GET", "/v1.0/devices", alice_dev, NULL);
	expect_status(&r, 200);
	done(&r);
	free(users_only);
	free(alice_basic);
	free(alice_dev);
}

/* Replace the demo state with the same tenant plus extra devices, through
 * the state's own JSON (its dump and load). */
static void add_devices(fx *f, int count, const char *const *names, size_t n_names)
{
	cloud_state_lock(f->ctx.state);
	char *text = cloud_state_to_json(f->ctx.state);
	cloud_state_unlock(f->ctx.state);
	assert_non_null(text);
	cJSON *j = cJSON_Parse(text);
	free(text);
	cJSON *devs = cJSON_GetObjectItemCaseSensitive(j, "devices");
	assert_non_null(devs);
	for (int i = 0; i < count + (int)n_names; i++) {
		char id[64], did[64], name[64];
		snprintf(id, sizeof id, "10000000-0000-4000-8000-%012d", i);
		snprintf(did, sizeof did, "20000000-0000-4000-8000-%012d", i);
		snprintf(name, sizeof name, "PC-%04d", i);
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "id", id);
		cJSON_AddStringToObject(d, "deviceId", did);
		cJSON_AddStringToObject(d, "displayName", i >= count ? names[i - count] : name);
		cJSON_AddStringToObject(d, "operatingSystem", "Windows");
		cJSON_AddBoolToObject(d, "accountEnabled", 1);
		cJSON_AddItemToObject(d, "registeredOwners", cJSON_CreateArray());
		cJSON_AddItemToObject(d, "registeredUsers", cJSON_CreateArray());
		cJSON_AddItemToArray(devs, d);
	}
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	cloud_state *s = NULL;
	if (cloud_state_from_json(&s, text, strlen(text)) != SSRP_OK)
		fail_msg("state reload: %s", ssrp_error_last());
	free(text);
	cloud_state_free(f->ctx.state);
	f->ctx.state = s;
	refresh_ids(f);
}

/* "https://graph.microsoft.com/v1.0/devices?...": the part after the host. */
static void next_url(const resp *r, char *out, size_t cap)
{
	const char *link = str(r->j, "@odata.nextLink");
	assert_non_null(link);
	const char *root = "https://graph.microsoft.com";
	assert_memory_equal(link, root, strlen(root));
	assert_true(strlen(link + strlen(root)) < cap);
	strcpy(out, link + strlen(root));
}

#define THREE_NAMES \
	"displayName+eq+'PC-0003'+or+displayName+eq+'PC-0200'+or+displayName+eq+'PC-0249'"

static void devices_paging(void **state)
{
	fx *f = *state;
	add_devices(f, 250, NULL, 0);
	char url[2048];
	resp r;
	/* 251 devices at 100 a page: 100, 100, 51. */
	int sizes[3], pages = 0, total = 0;
	char seen[251][CLOUD_ID_LEN + 1];
	snprintf(url, sizeof url, "/v1.0/devices");
	for (;;) {
		call(f, &r, "GET", url, f->app, NULL);
		expect_status(&r, 200);
		assert_true(pages < 3);
		sizes[pages++] = value_count(&r);
		for (int i = 0; i < value_count(&r); i++) {
			const char *id = str(value_at(&r, i), "id");
			for (int k = 0; k < total; k++)
				assert_string_not_equal(seen[k], id);
			snprintf(seen[total++], CLOUD_ID_LEN + 1, "%s", id);
		}
		if (!item(r.j, "@odata.nextLink")) {
			done(&r);
			break;
		}
		next_url(&r, url, sizeof url);
		assert_non_null(strstr(url, "/v1.0/devices?"));
		assert_non_null(strstr(url, "$skiptoken="));
		done(&r);
	}
	assert_int_equal(pages, 3);
	assert_int_equal(sizes[0], 100);
	assert_int_equal(sizes[1], 100);
	assert_int_equal(sizes[2], 51);
	assert_int_equal(total, 251);

	/* $top up to 999, carried into the next link with the filter and select. */
	call(f, &r, "GET", "/v1.0/devices?$top=999", f->app, NULL);
	assert_int_equal(value_count(&r), 251);
	assert_null(item(r.j, "@odata.nextLink"));
	done(&r);
	call(f, &r, "GET", "/v1.0/devices?$top=7&$select=id&$filter=" THREE_NAMES, f->app, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 3);
	assert_null(item(r.j, "@odata.nextLink"));
	done(&r);
	call(f, &r, "GET", "/v1.0/devices?$top=2&$select=id,displayName&$filter=" THREE_NAMES, f->app, NULL);
	assert_int_equal(value_count(&r), 2);
	assert_string_equal(str(value_at(&r, 1), "displayName"), "PC-0200");
	next_url(&r, url, sizeof url);
	assert_non_null(strstr(url, "$top=2"));
	assert_non_null(strstr(url, "$select=id,displayName"));
	assert_non_null(strstr(url, "$filter=displayName%20eq%20%27PC-0003%27"));
	done(&r);
	call(f, &r, "GET", url, f->app, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 1);
	assert_string_equal(str(value_at(&r, 0), "displayName"), "PC-0249");
	assert_null(item(r.j, "@odata.nextLink"));
	done(&r);

	/* A token is good only for the query it came from, and only as given. */
	call(f, &r, "GET", "/v1.0/devices", f->app, NULL);
	next_url(&r, url, sizeof url);
	done(&r);
	char *tok = strstr(url, "$skiptoken=");
	char other[2100];
	snprintf(other, sizeof other, "/v1.0/devices?$top=5&%s", tok);
	refused(f, "GET", other, f->app, NULL, 400, "Request_BadRequest", "$skiptoken");
	snprintf(other, sizeof other, "/v1.0/users?%s", tok);
	refused(f, "GET", other, f->app, NULL, 400, "Request_BadRequest", "$skiptoken");
	url[strlen(url) - 1] = url[strlen(url) - 1] == 'f' ? 'e' : 'f';
	url[strlen(url) - 2] = 'z';
	refused(f, "GET", url, f->app, NULL, 400, "Request_BadRequest", "$skiptoken");
	refused(f, "GET", "/v1.0/devices?$skiptoken=abc", f->app, NULL, 400, "Request_BadRequest", "$skiptoken");
	refused(f, "GET", "/v1.0/devices?$top=0", f->app, NULL, 400, "Request_BadRequest",
		"Invalid page size specified: '0'. Must be between 1 and 999 inclusive.");
	refused(f, "GET", "/v1.0/devices?$top=1000", f->app, NULL, 400, "Request_BadRequest",
		"Invalid page size");
	refused(f, "GET", "/v1.0/devices?$top=-1", f->app, NULL, 400, "Request_BadRequest", "Invalid page size");
	refused(f, "GET", "/v1.0/devices?$top=1e2", f->app, NULL, 400, "Request_BadRequest", "Invalid page size");
}

/* A device named like an injection attempt: the escaped filter finds it
 * and only it; the same text pasted unescaped finds the other two. */
static void filter_escaping(void **state)
{
	fx *f = *state;
	static const char *const names[] = {"x' or displayName eq 'y", "x", "y", "O'Brien"};
	add_devices(f, 0, names, 4);
	resp r;
	call(f, &r, "GET", "/v1.0/devices?$filter=displayName%20eq%20'x''%20or%20displayName%20eq%20''y'",
	     f->app, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 1);
	assert_string_equal(str(value_at(&r, 0), "displayName"), "x' or displayName eq 'y");
	done(&r);
	call(f, &r, "GET", "/v1.0/devices?$filter=displayName%20eq%20'x'%20or%20displayName%20eq%20'y'", f->app,
	     NULL);
	assert_int_equal(value_count(&r), 2);
	done(&r);
	call(f, &r, "GET", "/v1.0/devices?$filter=displayName+eq+'O''Brien'", f->app, NULL);
	assert_int_equal(value_count(&r), 1);
	assert_string_equal(str(value_at(&r, 0), "displayName"), "O'Brien");
	done(&r);
	/* An unbalanced quote is an error, not a wider query. */
	refused(f, "GET", "/v1.0/devices?$filter=displayName+eq+'x'+or+displayName+eq+'y", f->app, NULL, 400,
		"BadRequest", "Invalid filter clause: unterminated string literal");
	refused(f, "GET", "/v1.0/devices?$filter=displayName+eq+'x'+or+1+eq+1", f->app, NULL, 400,
		"BadRequest", "Invalid filter clause");
	refused(f, "GET", "/v1.0/devices?$filter=", f->app, NULL, 400, "BadRequest",
		"Invalid filter clause: empty filter");
}

/* ---- registered owners and users ------------------------------------------------------ */

static void registered_owners(void **state)
{
	fx *f = *state;
	char url[512], url2[512];
	resp r;
	snprintf(url, sizeof url, "/v1.0/devices/%s/registeredOwners/$ref", f->device_oid);
	char *body = ref_body("directoryObjects", f->alice_id);

	/* Who may add: only a delegated device admin with Directory.AccessAsUser.All. */
	refused(f, "POST", url, f->app, body, 403, "Authorization_RequestDenied", DENIED);
	char *app_rw = mint(f, CLOUD_PRINCIPAL_APP, NULL, "Directory.ReadWrite.All Device.ReadWrite.All");
	refused(f, "POST", url, app_rw, body, 403, "Authorization_RequestDenied", DENIED);
	refused(f, "POST", url, f->alice, body, 403, "Authorization_RequestDenied", DENIED);
	char *admin_narrow = mint(f, CLOUD_PRINCIPAL_USER, f->sec.admin_upn, "Directory.Read.All");
	refused(f, "POST", url, admin_narrow, body, 403, "Authorization_RequestDenied", DENIED);

	call(f, &r, "POST", url, f->admin, body);
	expect_status(&r, 204);
	done(&r);
	refused(f, "POST", url, f->admin, body, 400, "Request_BadRequest",
		"One or more added object references already exist for the following modified properties: "
		"'registeredOwners'.");

	snprintf(url2, sizeof url2, "/v1.0/devices/%s/registeredOwners", f->device_oid);
	call(f, &r, "GET", url2, f->app, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "@odata.context"),
			    "https://graph.microsoft.com/v1.0/$metadata#directoryObjects");
	assert_int_equal(value_count(&r), 1);
	assert_string_equal(str(value_at(&r, 0), "@odata.type"), "#microsoft.graph.user");
	assert_string_equal(str(value_at(&r, 0), "id"), f->alice_id);
	assert_string_equal(str(value_at(&r, 0), "userPrincipalName"), f->sec.user_upn);
	done(&r);

	/* .../users/{id} is accepted as a reference too; addressing the device by deviceId. */
	char *bob_ref = ref_body("users", f->bob_id);
	snprintf(url, sizeof url, "/v1.0/devices(deviceId='%s')/registeredUsers/$ref", f->sec.device_id);
	call(f, &r, "POST", url, f->admin, bob_ref);
	expect_status(&r, 204);
	done(&r);
	refused(f, "POST", url, f->admin, bob_ref, 400, "Request_BadRequest", "'registeredUsers'.");
	snprintf(url2, sizeof url2, "/v1.0/devices/%s/registeredUsers", f->device_oid);
	call(f, &r, "GET", url2, f->alice, NULL);
	assert_int_equal(value_count(&r), 1);
	assert_string_equal(str(value_at(&r, 0), "id"), f->bob_id);
	done(&r);

	/* Bad references. */
	refused(f, "POST", url, f->admin, "{\"@odata.id\":\"https://evil.example/v1.0/users/x\"}", 400,
		"BadRequest", "@odata.id");
	refused(f, "POST", url, f->admin, "{\"@odata.id\":42}", 400, "BadRequest", "@odata.id");
	refused(f, "POST", url, f->admin, "{}", 400, "BadRequest", "@odata.id");
	char *ghost = ref_body("directoryObjects", "99999999-9999-4999-8999-999999999999");
	refused(f, "POST", url, f->admin, ghost, 404, "Request_ResourceNotFound",
		"Resource '99999999-9999-4999-8999-999999999999' does not exist");
	refused(f, "POST", "/v1.0/devices/99999999-9999-4999-8999-999999999999/registeredOwners/$ref", f->admin,
		body, 404, "Request_ResourceNotFound", "99999999-9999-4999-8999-999999999999");

	/* Removal: by path and by $id. */
	snprintf(url, sizeof url, "/v1.0/devices/%s/registeredOwners/%s/$ref", f->device_oid, f->alice_id);
	refused(f, "DELETE", url, f->app, NULL, 403, "Authorization_RequestDenied", DENIED);
	refused(f, "DELETE", url, f->bob, NULL, 403, "Authorization_RequestDenied", DENIED);
	call(f, &r, "DELETE", url, f->admin, NULL);
	expect_status(&r, 204);
	done(&r);
	refused(f, "DELETE", url, f->admin, NULL, 404, "Request_ResourceNotFound", f->alice_id);
	snprintf(url2, sizeof url2, "/v1.0/devices/%s/registeredOwners", f->device_oid);
	call(f, &r, "GET", url2, f->app, NULL);
	assert_int_equal(value_count(&r), 0);
	done(&r);
	snprintf(url, sizeof url,
		 "/v1.0/devices/%s/registeredUsers/$ref?$id=https://graph.microsoft.com/v1.0/directoryObjects/%s",
		 f->device_oid, f->bob_id);
	call(f, &r, "DELETE", url, f->admin, NULL);
	expect_status(&r, 204);
	done(&r);
	snprintf(url, sizeof url, "/v1.0/devices/%s/registeredUsers/$ref", f->device_oid);
	refused(f, "DELETE", url, f->admin, NULL, 400, "BadRequest", "$id=");
	refused(f, "GET", url, f->admin, NULL, 405, "Request_BadRequest", "not allowed");

	free(body);
	free(bob_ref);
	free(ghost);
	free(app_rw);
	free(admin_narrow);
}

/* "Limited information": a caller that may read devices but not users
 * sees each owner as @odata.type and id, every other property null. */
static void owners_limited(void **state)
{
	fx *f = *state;
	resp r;
	char url[512];
	snprintf(url, sizeof url, "/v1.0/devices/%s/registeredOwners/$ref", f->device_oid);
	char *body = ref_body("directoryObjects", f->alice_id);
	call(f, &r, "POST", url, f->admin, body);
	expect_status(&r, 204);
	done(&r);
	free(body);
	snprintf(url, sizeof url, "/v1.0/devices/%s/registeredOwners?$select=id,userPrincipalName",
		 f->device_oid);

	char *dev_only = mint(f, CLOUD_PRINCIPAL_APP, NULL, "Device.Read.All BitLockerKey.ReadBasic.All");
	call(f, &r, "GET", url, dev_only, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 1);
	const cJSON *o = value_at(&r, 0);
	assert_string_equal(str(o, "@odata.type"), "#microsoft.graph.user");
	assert_string_equal(str(o, "id"), f->alice_id);
	assert_true(cJSON_IsNull(item(o, "userPrincipalName")));
	assert_int_equal(cJSON_GetArraySize(o), 3);
	done(&r);
	/* without $select: the default set, all null but id */
	snprintf(url, sizeof url, "/v1.0/devices/%s/registeredOwners", f->device_oid);
	call(f, &r, "GET", url, dev_only, NULL);
	o = value_at(&r, 0);
	assert_string_equal(str(o, "id"), f->alice_id);
	assert_true(cJSON_IsNull(item(o, "displayName")));
	assert_true(cJSON_IsNull(item(o, "userPrincipalName")));
	done(&r);
	/* the cast to users too */
	snprintf(url, sizeof url, "/v1.0/devices/%s/registeredOwners/microsoft.graph.user", f->device_oid);
	call(f, &r, "GET", url, dev_only, NULL);
	expect_status(&r, 200);
	assert_true(cJSON_IsNull(item(value_at(&r, 0), "userPrincipalName")));
	done(&r);
	free(dev_only);

	/* A user-read permission shows the owner: app-only User.Read.All (or
	 * Directory.Read.All); delegated User.ReadBasic.All or more. */
	snprintf(url, sizeof url, "/v1.0/devices/%s/registeredOwners?$select=id,userPrincipalName",
		 f->device_oid);
	static const struct {
		int delegated;
		const char *perms;
	} full[] = {{0, "Device.Read.All User.Read.All"},
		    {0, "Directory.Read.All"},
		    {1, "Device.Read.All User.ReadBasic.All"},
		    {1, "Directory.AccessAsUser.All"}};
	for (size_t i = 0; i < sizeof full / sizeof full[0]; i++) {
		char *t = mint(f, full[i].delegated ? CLOUD_PRINCIPAL_USER : CLOUD_PRINCIPAL_APP,
			       full[i].delegated ? f->sec.user2_upn : NULL, full[i].perms);
		call(f, &r, "GET", url, t, NULL);
		expect_status(&r, 200);
		if (!str(value_at(&r, 0), "userPrincipalName") ||
		    strcmp(str(value_at(&r, 0), "userPrincipalName"), f->sec.user_upn))
			fail_msg("%s: the owner's userPrincipalName is not shown", full[i].perms);
		done(&r);
		free(t);
	}
	/* delegated with a device-read scope alone: others limited, oneself in full */
	char *bob_dev = mint(f, CLOUD_PRINCIPAL_USER, f->sec.user2_upn, "Device.Read.All");
	call(f, &r, "GET", url, bob_dev, NULL);
	assert_true(cJSON_IsNull(item(value_at(&r, 0), "userPrincipalName")));
	done(&r);
	free(bob_dev);
	char *alice_dev = mint(f, CLOUD_PRINCIPAL_USER, f->sec.user_upn, "Device.Read.All User.Read");
	call(f, &r, "GET", url, alice_dev, NULL);
	assert_string_equal(str(value_at(&r, 0), "userPrincipalName"), f->sec.user_upn);
	done(&r);
	free(alice_dev);
}

static void owned_devices(void **state)
{
	fx *f = *state;
	resp r;
	call(f, &r, "GET", "/v1.0/me/ownedDevices", f->alice, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 0);
	done(&r);
	add_owner(f, f->alice_id);
	call(f, &r, "GET", "/v1.0/me/ownedDevices", f->alice, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 1);
	assert_string_equal(str(value_at(&r, 0), "@odata.type"), "#microsoft.graph.device");
	assert_string_equal(str(value_at(&r, 0), "deviceId"), f->sec.device_id);
	done(&r);
	call(f, &r, "GET", "/v1.0/me/ownedDevices", f->bob, NULL);
	assert_int_equal(value_count(&r), 0);
	done(&r);
	char url[256];
	snprintf(url, sizeof url, "/v1.0/users/%s/ownedDevices?$select=deviceId", f->sec.user_upn);
	call(f, &r, "GET", url, f->alice, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 1);
	assert_null(item(value_at(&r, 0), "displayName"));
	done(&r);
	/* List ownedDevices: delegated only (application "Not supported"). */
	refused(f, "GET", url, f->app, NULL, 403, "Authorization_RequestDenied", DENIED);
	refused(f, "GET", "/v1.0/me/ownedDevices", f->app, NULL, 400, "BadRequest", "/me request");
	/* User.Read is enough; without device-read permission, limited
	 * information: type and id, the rest null. */
	char *alice_basic = mint(f, CLOUD_PRINCIPAL_USER, f->sec.user_upn, "User.Read");
	call(f, &r, "GET", "/v1.0/me/ownedDevices", alice_basic, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 1);
	assert_string_equal(str(value_at(&r, 0), "@odata.type"), "#microsoft.graph.device");
	assert_string_equal(str(value_at(&r, 0), "id"), f->device_oid);
	assert_true(cJSON_IsNull(item(value_at(&r, 0), "deviceId")));
	assert_true(cJSON_IsNull(item(value_at(&r, 0), "displayName")));
	done(&r);
	char *alice_none = mint(f, CLOUD_PRINCIPAL_USER, f->sec.user_upn, "BitLockerKey.Read.All");
	refused(f, "GET", "/v1.0/me/ownedDevices", alice_none, NULL, 403, "Authorization_RequestDenied", DENIED);
	free(alice_none);
	free(alice_basic);
}

/* ---- recovery keys ----------------------------------------------------------------------- */

static void keys_list(void **state)
{
	fx *f = *state;
	put_key(f, KEY1, 1, 0x11);
	put_key(f, KEY2, 2, 0x22);
	char url[512];
	resp r;
	snprintf(url, sizeof url, "/v1.0/informationProtection/bitlocker/recoveryKeys?$filter=deviceId+eq+'%s'",
		 f->sec.device_id);
	call(f, &r, "GET", url, f->app, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "@odata.context"),
			    "https://graph.microsoft.com/v1.0/$metadata#informationProtection/bitlocker/recoveryKeys");
	assert_int_equal(value_count(&r), 2);
	const cJSON *k = value_at(&r, 0);
	assert_string_equal(str(k, "@odata.type"), "#microsoft.graph.bitlockerRecoveryKey");
	assert_string_equal(str(k, "id"), KEY1);
	assert_string_equal(str(k, "createdDateTime"), "2020-06-15T13:45:30.0000000Z");
	assert_string_equal(str(k, "volumeType"), "operatingSystemVolume");
	assert_string_equal(str(k, "deviceId"), f->sec.device_id);
	assert_null(item(k, "key"));
	assert_string_equal(str(value_at(&r, 1), "volumeType"), "fixedDataVolume");
	assert_null(strstr(r.rs.body, "\"key\""));
	done(&r);
	/* No filter: every key, for an app. */
	call(f, &r, "GET", "/v1.0/informationProtection/bitlocker/recoveryKeys", f->app, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 2);
	done(&r);
	call(f, &r, "GET",
	     "/v1.0/informationProtection/bitlocker/recoveryKeys"
	     "?$filter=deviceId+eq+'00000000-0000-0000-0000-000000000000'",
	     f->app, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 0);
	done(&r);

	/* As documented: $top is refused, User-Agent is required, no key in lists. */
	refused(f, "GET", "/v1.0/informationProtection/bitlocker/recoveryKeys?$top=1", f->app, NULL, 400,
		"BadRequest", "Query option 'Top' is not allowed");
	call_ex(f, &r, "GET", url, f->app, NULL, NO_UA, NULL);
	expect_error(&r, 400, "BadRequest", "User-Agent");
	done(&r);
	refused(f, "GET", "/v1.0/informationProtection/bitlocker/recoveryKeys?$select=key", f->app, NULL, 400,
		"BadRequest", "single recovery key");
	refused(f, "GET", "/v1.0/informationProtection/bitlocker/recoveryKeys?$filter=displayName+eq+'x'",
		f->app, NULL, 400, "BadRequest",
		"Could not find a property named 'displayName' on type 'microsoft.graph.bitlockerRecoveryKey'");
	refused(f, "POST", "/v1.0/informationProtection/bitlocker/recoveryKeys", f->app, "{}", 405,
		"Request_BadRequest", "not allowed");
	refused(f, "GET", "/v1.0/informationProtection/bitlocker", f->app, NULL, 400, "BadRequest",
		"Resource not found for the segment ''");

	/* Permissions: some BitLocker permission, and for a user, the device. */
	char *no_bitlocker = mint(f, CLOUD_PRINCIPAL_APP, NULL, "Device.Read.All");
	refused(f, "GET", url, no_bitlocker, NULL, 403, "Authorization_RequestDenied", DENIED);
	char *basic = mint(f, CLOUD_PRINCIPAL_APP, NULL, "bitlockerkey.readbasic.all");
	call(f, &r, "GET", url, basic, NULL);
	expect_status(&r, 200);
	done(&r);
	refused(f, "GET", url, f->alice, NULL, 403, "Authorization_RequestDenied", DENIED);
	add_owner(f, f->alice_id);
	call(f, &r, "GET", url, f->alice, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 2);
	done(&r);
	refused(f, "GET", url, f->bob, NULL, 403, "Authorization_RequestDenied", DENIED);
	/* An unfiltered list would show others' keys to a non-admin. */
	refused(f, "GET", "/v1.0/informationProtection/bitlocker/recoveryKeys", f->bob, NULL, 403,
		"Authorization_RequestDenied", DENIED);
	call(f, &r, "GET", "/v1.0/informationProtection/bitlocker/recoveryKeys", f->admin, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 2);
	done(&r);
	free(no_bitlocker);
	free(basic);
}

static void keys_get(void **state)
{
	fx *f = *state;
	put_key(f, KEY1, 1, 0x11);
	char url[512], keyurl[600], want_key[SSRP_RECOVERY_PASSWORD_LEN + 1];
	uint8_t raw[SSRP_RP_KEY_LEN];
	memset(raw, 0x11, sizeof raw);
	ssrp_rp_format(want_key, raw);
	char app_actor[128], alice_actor[200], admin_actor[200];
	snprintf(app_actor, sizeof app_actor, "app:%s", f->sec.app_id);
	snprintf(alice_actor, sizeof alice_actor, "user:%s", f->sec.user_upn);
	snprintf(admin_actor, sizeof admin_actor, "user:%s", f->sec.admin_upn);
	resp r;

	/* Metadata without $select: no key, no audit. */
	snprintf(url, sizeof url, "/v1.0/informationProtection/bitlocker/recoveryKeys/%s", KEY1);
	call(f, &r, "GET", url, f->app, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "@odata.context"),
			    "https://graph.microsoft.com/v1.0/$metadata#informationProtection/bitlocker/recoveryKeys/$entity");
	assert_string_equal(str(r.j, "id"), KEY1);
	assert_string_equal(str(r.j, "deviceId"), f->sec.device_id);
	assert_null(item(r.j, "key"));
	assert_null(item(r.j, "value"));
	done(&r);
	assert_int_equal(audit_reads(f, KEY1, app_actor), 0);

	/* With $select=key: the key, and one audit record per read. */
	snprintf(keyurl, sizeof keyurl, "%s?$select=key", url);
	for (int i = 1; i <= 2; i++) {
		call(f, &r, "GET", keyurl, f->app, NULL);
		expect_status(&r, 200);
		assert_string_equal(str(r.j, "key"), want_key);
		assert_string_equal(str(r.j, "id"), KEY1);
		assert_string_equal(str(r.j, "volumeType"), "operatingSystemVolume");
		assert_string_equal(str(r.j, "createdDateTime"), "2020-06-15T13:45:30.0000000Z");
		assert_non_null(strstr(str(r.j, "@odata.context"), "recoveryKeys(key)/$entity"));
		done(&r);
		assert_int_equal(audit_reads(f, KEY1, app_actor), i);
	}
	/* The id is a GUID: any case finds it. */
	char upper[700];
	snprintf(upper, sizeof upper, "/v1.0/informationProtection/bitlocker/recoveryKeys/%s?$select=key",
		 "6F1D2C3B-0A1B-4C2D-8E3F-1234567890AB");
	call(f, &r, "GET", upper, f->app, NULL);
	expect_status(&r, 200);
	done(&r);
	assert_int_equal(audit_reads(f, KEY1, app_actor), 3);

	/* ReadBasic reads metadata but never the key; refusals leave no audit record. */
	char *basic = mint(f, CLOUD_PRINCIPAL_APP, NULL, "BitLockerKey.ReadBasic.All");
	call(f, &r, "GET", url, basic, NULL);
	expect_status(&r, 200);
	done(&r);
	refused(f, "GET", keyurl, basic, NULL, 403, "Authorization_RequestDenied", DENIED);
	char *alice_basic = mint(f, CLOUD_PRINCIPAL_USER, f->sec.user_upn, "BitLockerKey.ReadBasic.All");
	add_owner(f, f->alice_id);
	refused(f, "GET", keyurl, alice_basic, NULL, 403, "Authorization_RequestDenied", DENIED);
	assert_int_equal(audit_reads(f, KEY1, alice_actor), 0);

	/* A delegated caller: owner of the device, or an admin role. */
	call(f, &r, "GET", keyurl, f->alice, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "key"), want_key);
	done(&r);
	assert_int_equal(audit_reads(f, KEY1, alice_actor), 1);
	refused(f, "GET", keyurl, f->bob, NULL, 403, "Authorization_RequestDenied", DENIED);
	refused(f, "GET", url, f->bob, NULL, 403, "Authorization_RequestDenied", DENIED);
	call(f, &r, "GET", keyurl, f->admin, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "key"), want_key);
	done(&r);
	assert_int_equal(audit_reads(f, KEY1, admin_actor), 1);

	refused(f, "GET",
		"/v1.0/informationProtection/bitlocker/recoveryKeys/00000000-0000-0000-0000-000000000000"
		"?$select=key",
		f->app, NULL, 404, "Request_ResourceNotFound", "00000000-0000-0000-0000-000000000000");
	snprintf(upper, sizeof upper, "%s?$select=key,pin", url);
	refused(f, "GET", upper, f->app, NULL, 400, "BadRequest", "'pin'");
	call_ex(f, &r, "GET", keyurl, f->app, NULL, NO_UA, NULL);
	expect_error(&r, 400, "BadRequest", "User-Agent");
	done(&r);
	snprintf(upper, sizeof upper, "%s/extra", url);
	refused(f, "GET", upper, f->app, NULL, 400, "BadRequest", "segment 'extra'");
	assert_int_equal(audit_reads(f, KEY1, app_actor), 3);
	free(basic);
	free(alice_basic);
}

/* The key list pages at 100 without $top, and the next link carries the filter. */
static void keys_paging(void **state)
{
	fx *f = *state;
	for (int i = 0; i < 150; i++) {
		char id[CLOUD_ID_LEN + 1];
		snprintf(id, sizeof id, "6f1d2c3b-0a1b-4c2d-8e3f-%012d", i);
		put_key(f, id, 1 + i % 3, (uint8_t)i);
	}
	char url[1024];
	resp r;
	snprintf(url, sizeof url, "/v1.0/informationProtection/bitlocker/recoveryKeys?$filter=deviceId+eq+'%s'",
		 f->sec.device_id);
	call(f, &r, "GET", url, f->app, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 100);
	assert_string_equal(str(value_at(&r, 99), "id"), "6f1d2c3b-0a1b-4c2d-8e3f-000000000099");
	next_url(&r, url, sizeof url);
	assert_non_null(strstr(url, "$filter=deviceId"));
	assert_null(strstr(url, "$top"));
	done(&r);
	call(f, &r, "GET", url, f->app, NULL);
	expect_status(&r, 200);
	assert_int_equal(value_count(&r), 50);
	assert_string_equal(str(value_at(&r, 0), "id"), "6f1d2c3b-0a1b-4c2d-8e3f-000000000100");
	assert_null(item(r.j, "@odata.nextLink"));
	done(&r);
}

/* ---- $batch --------------------------------------------------------------------------------- */

static const cJSON *batch_part(const resp *r, const char *id)
{
	const cJSON *p;
	cJSON_ArrayForEach(p, item(r->j, "responses"))
	{
		if (str(p, "id") && !strcmp(str(p, "id"), id))
			return p;
	}
	fail_msg("no response for request '%s'", id);
	return NULL;
}

static int part_status(const cJSON *p)
{
	const cJSON *s = item(p, "status");
	assert_true(cJSON_IsNumber(s));
	return s->valueint;
}

static void batch_basics(void **state)
{
	fx *f = *state;
	char body[4096];
	resp r;
	snprintf(body, sizeof body,
		 "{\"requests\":["
		 "{\"id\":\"1\",\"method\":\"GET\",\"url\":\"/users/%s?$select=id\"},"
		 "{\"id\":\"2\",\"method\":\"GET\",\"url\":\"/devices?$filter=deviceId%%20eq%%20'%s'\"},"
		 "{\"id\":\"3\",\"method\":\"GET\",\"url\":\"users/nobody@contoso.example\"},"
		 "{\"id\":\"4\",\"method\":\"GET\",\"url\":\"/users/%s\",\"dependsOn\":[\"3\"]},"
		 "{\"id\":\"5\",\"method\":\"GET\",\"url\":\"/users/%s\",\"dependsOn\":[\"1\",\"2\"]},"
		 "{\"id\":\"6\",\"method\":\"GET\",\"url\":\"/users/%s\",\"dependsOn\":[\"4\"]}"
		 "]}",
		 f->sec.user_upn, f->sec.device_id, f->sec.user2_upn, f->sec.user2_upn, f->sec.user2_upn);
	call(f, &r, "POST", "/v1.0/$batch", f->app, body);
	expect_status(&r, 200);
	assert_int_equal(cJSON_GetArraySize(item(r.j, "responses")), 6);
	const cJSON *p1 = batch_part(&r, "1");
	assert_int_equal(part_status(p1), 200);
	assert_string_equal(str(item(p1, "body"), "id"), f->alice_id);
	assert_non_null(strstr(str(item(p1, "headers"), "Content-Type"), "application/json"));
	const cJSON *p2 = batch_part(&r, "2");
	assert_int_equal(part_status(p2), 200);
	assert_int_equal(cJSON_GetArraySize(item(item(p2, "body"), "value")), 1);
	const cJSON *p3 = batch_part(&r, "3");
	expect_error_json(item(p3, "body"), 404, part_status(p3), "Request_ResourceNotFound",
			  "nobody@contoso.example");
	/* A failed dependency, and a dependency on that failure. */
	const cJSON *p4 = batch_part(&r, "4");
	expect_error_json(item(p4, "body"), 424, part_status(p4), "FailedDependency", "'3'");
	expect_error_json(item(batch_part(&r, "6"), "body"), 424, part_status(batch_part(&r, "6")),
			  "FailedDependency", "'4'");
	const cJSON *p5 = batch_part(&r, "5");
	assert_int_equal(part_status(p5), 200);
	assert_string_equal(str(item(p5, "body"), "id"), f->bob_id);
	done(&r);
}

/* /users/$count only as an advanced query; the OData cast of a device's
 * owners to users. */
static void count_and_cast(void **state)
{
	fx *f = *state;
	resp r;
	refused(f, "GET", "/v1.0/users/$count", f->app, NULL, 400, "Request_BadRequest", "ConsistencyLevel");
	call_ex(f, &r, "GET", "/v1.0/users/$count", f->app, NULL, EVENTUAL, NULL);
	assert_int_equal(r.rs.status, 200);
	assert_string_equal(r.rs.content_type, "text/plain");
	cloud_state_lock(f->ctx.state);
	size_t users = cloud_user_count(f->ctx.state);
	cloud_state_unlock(f->ctx.state);
	assert_int_equal(strtoul(r.rs.body, NULL, 10), users);
	done(&r);

	add_owner(f, f->alice_id);
	char url[256];
	snprintf(url, sizeof url, "/v1.0/devices/%s/registeredOwners/microsoft.graph.user", f->device_oid);
	call(f, &r, "GET", url, f->app, NULL);
	expect_status(&r, 200);
	assert_string_equal(str(r.j, "@odata.context"), "https://graph.microsoft.com/v1.0/$metadata#users");
	assert_int_equal(value_count(&r), 1);
	assert_string_equal(str(value_at(&r, 0), "id"), f->alice_id);
	done(&r);
	snprintf(url, sizeof url, "/v1.0/devices/%s/registeredOwners/microsoft.graph.device", f->device_oid);
	call(f, &r, "GET", url, f->app, NULL);
	assert_int_equal(r.rs.status, 400);
	done(&r);
}

/* What clients of Graph's $batch must cope with: answers in another order
 * than the requests, ids that differ only in case being the same id, and
 * one part throttled while the others succeed. */
static void batch_order_ids_and_part_faults(void **state)
{
	fx *f = *state;
	char body[4096];
	resp r;
	snprintf(body, sizeof body,
		 "{\"requests\":["
		 "{\"id\":\"a\",\"method\":\"GET\",\"url\":\"/users/%s?$select=id\"},"
		 "{\"id\":\"b\",\"method\":\"GET\",\"url\":\"/users/%s?$select=id\",\"dependsOn\":[\"A\"]},"
		 "{\"id\":\"c\",\"method\":\"GET\",\"url\":\"/devices?$top=1\"}"
		 "]}",
		 f->sec.user_upn, f->sec.user2_upn);
	call(f, &r, "POST", "/v1.0/$batch", f->app, body);
	expect_status(&r, 200);
	const cJSON *first = cJSON_GetArrayItem(item(r.j, "responses"), 0);
	assert_string_not_equal(str(first, "id"), "a");
	assert_int_equal(part_status(batch_part(&r, "b")), 200); /* "A" named "a" */
	done(&r);
	refused(f, "POST", "/v1.0/$batch", f->app,
		"{\"requests\":[{\"id\":\"x\",\"method\":\"GET\",\"url\":\"/me\"},"
		"{\"id\":\"X\",\"method\":\"GET\",\"url\":\"/me\"}]}",
		400, "BadRequest", "must be unique");

	/* The fault script reaches inside the batch: the second users read
	 * is throttled, the rest answer. */
	cloud_faults *faults;
	assert_int_equal(cloud_faults_new(&faults), SSRP_OK);
	assert_int_equal(cloud_faults_set(faults, "GET graph/v1.0/users/*:429:3@2"), SSRP_OK);
	f->ctx.faults = faults;
	call(f, &r, "POST", "/v1.0/$batch", f->app, body);
	f->ctx.faults = NULL;
	cloud_faults_free(faults);
	expect_status(&r, 200);
	assert_int_equal(part_status(batch_part(&r, "a")), 200);
	const cJSON *b = batch_part(&r, "b");
	assert_int_equal(part_status(b), 429);
	assert_string_equal(str(item(b, "headers"), "Retry-After"), "3");
	assert_string_equal(str(item(item(b, "body"), "error"), "code"), "TooManyRequests");
	assert_int_equal(part_status(batch_part(&r, "c")), 200);
	done(&r);
}

static void batch_writes_and_authorization(void **state)
{
	fx *f = *state;
	char body[4096];
	resp r;
	/* The batch's token applies to every part: the app may read, not add owners. */
	snprintf(body, sizeof body,
		 "{\"requests\":["
		 "{\"id\":\"a\",\"method\":\"POST\",\"url\":\"/devices/%s/registeredOwners/$ref\","
		 "\"headers\":{\"Content-Type\":\"application/json\"},"
		 "\"body\":{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/%s\"}},"
		 "{\"id\":\"b\",\"method\":\"GET\",\"url\":\"/devices/%s/registeredOwners\",\"dependsOn\":[\"a\"]}"
		 "]}",
		 f->device_oid, f->alice_id, f->device_oid);
	call(f, &r, "POST", "/v1.0/$batch", f->app, body);
	expect_status(&r, 200);
	const cJSON *a = batch_part(&r, "a");
	expect_error_json(item(a, "body"), 403, part_status(a), "Authorization_RequestDenied", DENIED);
	assert_int_equal(part_status(batch_part(&r, "b")), 424);
	done(&r);

	call(f, &r, "POST", "/v1.0/$batch", f->admin, body);
	expect_status(&r, 200);
	a = batch_part(&r, "a");
	assert_int_equal(part_status(a), 204);
	assert_null(item(a, "body"));
	const cJSON *b = batch_part(&r, "b");
	assert_int_equal(part_status(b), 200);
	assert_string_equal(str(cJSON_GetArrayItem(item(item(b, "body"), "value"), 0), "id"), f->alice_id);
	done(&r);
	/* The same again: the duplicate is the part's 400, not the batch's. */
	call(f, &r, "POST", "/v1.0/$batch", f->admin, body);
	expect_status(&r, 200);
	a = batch_part(&r, "a");
	expect_error_json(item(a, "body"), 400, part_status(a), "Request_BadRequest", "already exist");
	done(&r);

	/* The recovery-key rules hold inside a batch, with the batch's User-Agent. */
	put_key(f, KEY1, 1, 0x33);
	snprintf(body, sizeof body,
		 "{\"requests\":[{\"id\":\"k\",\"method\":\"GET\","
		 "\"url\":\"/informationProtection/bitlocker/recoveryKeys/%s?$select=key\"}]}",
		 KEY1);
	call(f, &r, "POST", "/v1.0/$batch", f->bob, body);
	a = batch_part(&r, "k");
	expect_error_json(item(a, "body"), 403, part_status(a), "Authorization_RequestDenied", DENIED);
	done(&r);
	call(f, &r, "POST", "/v1.0/$batch", f->alice, body);
	a = batch_part(&r, "k");
	assert_int_equal(part_status(a), 200);
	assert_non_null(str(item(a, "body"), "key"));
	done(&r);
	char alice_actor[200];
	snprintf(alice_actor, sizeof alice_actor, "user:%s", f->sec.user_upn);
	assert_int_equal(audit_reads(f, KEY1, alice_actor), 1);

	/* A batch needs a token of its own. */
	refused(f, "POST", "/v1.0/$batch", NULL, body, 401, "InvalidAuthenticationToken", "");
}

static void batch_refusals(void **state)
{
	fx *f = *state;
	char body[8192];
	size_t n = (size_t)snprintf(body, sizeof body, "{\"requests\":[");
	for (int i = 1; i <= 21; i++)
		n += (size_t)snprintf(body + n, sizeof body - n, "%s{\"id\":\"%d\",\"method\":\"GET\",\"url\":\"/me\"}",
				      i > 1 ? "," : "", i);
	snprintf(body + n, sizeof body - n, "]}");
	refused(f, "POST", "/v1.0/$batch", f->alice, body, 400, "BadRequest", "limit of 20");
	/* 20 is fine. */
	char *cut = strstr(body, ",{\"id\":\"21\"");
	strcpy(cut, "]}");
	resp r;
	call(f, &r, "POST", "/v1.0/$batch", f->alice, body);
	expect_status(&r, 200);
	assert_int_equal(cJSON_GetArraySize(item(r.j, "responses")), 20);
	assert_int_equal(part_status(batch_part(&r, "20")), 200);
	done(&r);

	refused(f, "POST", "/v1.0/$batch", f->alice,
		"{\"requests\":[{\"id\":\"1\",\"method\":\"GET\",\"url\":\"/me\"},"
		"{\"id\":\"1\",\"method\":\"GET\",\"url\":\"/me\"}]}",
		400, "BadRequest", "unique");
	refused(f, "POST", "/v1.0/$batch", f->alice, "{\"requests\":[{\"method\":\"GET\",\"url\":\"/me\"}]}", 400,
		"BadRequest", "'id'");
	refused(f, "POST", "/v1.0/$batch", f->alice,
		"{\"requests\":[{\"id\":1,\"method\":\"GET\",\"url\":\"/me\"}]}", 400, "BadRequest", "'id'");
	refused(f, "POST", "/v1.0/$batch", f->alice,
		"{\"requests\":[{\"id\":\"1\",\"method\":\"GET\",\"url\":\"https://graph.microsoft.com/v1.0/me\"}]}",
		400, "BadRequest", "relative");
	refused(f, "POST", "/v1.0/$batch", f->alice, "{\"requests\":[{\"id\":\"1\",\"method\":\"GET\"}]}", 400,
		"BadRequest", "'url'");
	refused(f, "POST", "/v1.0/$batch", f->alice,
		"{\"requests\":[{\"id\":\"1\",\"method\":\"BREW\",\"url\":\"/me\"}]}", 400, "BadRequest",
		"unsupported method");
	refused(f, "POST", "/v1.0/$batch", f->alice,
		"{\"requests\":[{\"id\":\"1\",\"method\":\"GET\",\"url\":\"/me\",\"dependsOn\":[\"2\"]},"
		"{\"id\":\"2\",\"method\":\"GET\",\"url\":\"/me\"}]}",
		400, "BadRequest", "not an earlier request");
	refused(f, "POST", "/v1.0/$batch", f->alice,
		"{\"requests\":[{\"id\":\"1\",\"method\":\"GET\",\"url\":\"/me\",\"dependsOn\":\"x\"}]}", 400,
		"BadRequest", "dependsOn");
	refused(f, "POST", "/v1.0/$batch", f->alice,
		"{\"requests\":[{\"id\":\"1\",\"method\":\"POST\",\"url\":\"/me\",\"body\":{}}]}", 400,
		"BadRequest", "Write request id : 1 does not contain Content-Type header or body.");
	refused(f, "POST", "/v1.0/$batch", f->alice,
		"{\"requests\":[{\"id\":\"1\",\"method\":\"POST\",\"url\":\"/me\","
		"\"headers\":{\"content-type\":\"application/json\"}}]}",
		400, "BadRequest", "does not contain Content-Type header or body");
	refused(f, "POST", "/v1.0/$batch", f->alice,
		"{\"requests\":[{\"id\":\"1\",\"method\":\"GET\",\"url\":\"/me\",\"headers\":{\"x\":1}}]}", 400,
		"BadRequest", "header");
	refused(f, "POST", "/v1.0/$batch", f->alice, "{\"requests\":[]}", 400, "BadRequest", "no requests");
	refused(f, "POST", "/v1.0/$batch", f->alice, "{\"requests\":{}}", 400, "BadRequest", "'requests'");
	refused(f, "POST", "/v1.0/$batch", f->alice, "{\"requests\":[", 400, "BadRequest", "Unable to read JSON");
	refused(f, "GET", "/v1.0/$batch", f->alice, NULL, 405, "Request_BadRequest", "not allowed");

	/* No batch inside a batch; a bad escape is the part's problem. */
	call(f, &r, "POST", "/v1.0/$batch", f->alice,
	     "{\"requests\":[{\"id\":\"1\",\"method\":\"POST\",\"url\":\"/$batch\","
	     "\"headers\":{\"Content-Type\":\"application/json\"},\"body\":{\"requests\":[]}},"
	     "{\"id\":\"2\",\"method\":\"GET\",\"url\":\"/users/%zz\"}]}");
	expect_status(&r, 200);
	const cJSON *p = batch_part(&r, "1");
	expect_error_json(item(p, "body"), 400, part_status(p), "BadRequest", "cannot hold another $batch");
	p = batch_part(&r, "2");
	expect_error_json(item(p, "body"), 400, part_status(p), "BadRequest", "malformed 'url'");
	done(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bearer_token_required, setup, teardown),
		cmocka_unit_test_setup_teardown(routing_and_query_options, setup, teardown),
		cmocka_unit_test_setup_teardown(users_by_upn_and_id, setup, teardown),
		cmocka_unit_test_setup_teardown(users_select_and_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(users_advanced_query, setup, teardown),
		cmocka_unit_test_setup_teardown(filter_operators, setup, teardown),
		cmocka_unit_test_setup_teardown(search_and_orderby, setup, teardown),
		cmocka_unit_test_setup_teardown(users_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(license_details, setup, teardown),
		cmocka_unit_test_setup_teardown(assign_license, setup, teardown),
		cmocka_unit_test_setup_teardown(subscribed_skus, setup, teardown),
		cmocka_unit_test_setup_teardown(devices_get, setup, teardown),
		cmocka_unit_test_setup_teardown(devices_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(filter_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(registered_owners, setup, teardown),
		cmocka_unit_test_setup_teardown(owners_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(owned_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(keys_list, setup, teardown),
		cmocka_unit_test_setup_teardown(keys_get, setup, teardown),
		cmocka_unit_test_setup_teardown(keys_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_basics, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_order_ids_and_part_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(count_and_cast, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_writes_and_authorization, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
