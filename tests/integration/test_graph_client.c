/* The Graph client (escrow/graph_client.h) against the simulated cloud,
 * started with `ssrp sim cloud start` (the binary in $SSRP_BIN) on a seeded
 * tenant of 131 devices, one of them named like an OData injection.
 *
 * Covered: the simulator's own config.json loads as it is; client
 * credentials by secret and by certificate assertion; listing devices over
 * several pages; a $filter whose value tries to break out of its literal
 * matches only itself; ROPC as a device administrator adds an owner (204)
 * and the duplicate reads as "already there"; an app-only add is refused
 * with a sentence holding Graph's code and request-id; $batch with
 * per-request results; a 429 (fractional Retry-After) then a 503 are retried
 * and the request log shows no early retry; one token request for many
 * Graph calls, seen in the request log; no secret in the request log. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tests/integration/sim_helpers.h"
#include "tests/test_rsa_key.h"
#include "escrow/config.h"
#include "escrow/graph_client.h"
#include "hal/curl_global.h"
#include "hal/clock.h"
#include "hal/http.h"
#include "hal/mem.h"
#include "ssrp/error.h"


#define N_DEVICES 130
#define APP_ID "0a0a0a0a-0000-4000-8000-000000000001"
#define APP_SECRET "graph-app-SECRET-do-not-log-77c1"
#define PUBLIC_ID "0a0a0a0a-0000-4000-8000-000000000002"
#define TENANT_ID "7e7e7e7e-0000-4000-8000-000000000001"
#define ADMIN_PW "Admin-pw-secret-do-not-log-3"
#define EVIL_NAME "x' or displayName eq 'PC-0001"
#define EVIL_OBJECT "0bbbbbbb-0000-4000-8000-0000000e0000"
#define DELEGATED_SCOPE                                                                        \
	"https://graph.microsoft.com/Directory.AccessAsUser.All "                            \
	"https://graph.microsoft.com/Device.Read.All https://graph.microsoft.com/User.Read"

static char work[256], dir[512], sim_config[600], config_path[600], log_path[600];
static char admin_token[128], admin_pw_file[600], refresh_file[700];
static const char *ssrp_bin;
static char *cert_pem;

static void device_object_id(char out[37], int i)
{
	snprintf(out, 37, "0bbbbbbb-0000-4000-8000-%012d", i);
}

static void user_id(char out[37], int i)
{
	snprintf(out, 37, "0aaaaaaa-0000-4000-8000-%012d", i);
}

static void sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* An RSA key and a self-signed certificate for the certificate assertion. */
static void make_app_cert(const char *cert_path, const char *key_path)
{
	EVP_PKEY *k = test_rsa_key();
	assert_non_null(k);
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"ssrp app", -1,
				   -1, 0);
	X509_set_issuer_name(x, n);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	FILE *f = fopen(cert_path, "w");
	PEM_write_X509(f, x);
	fclose(f);
	f = fopen(key_path, "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	chmod(key_path, 0600);
	X509_free(x);
	EVP_PKEY_free(k);
	cert_pem = sim_read_text(cert_path);
}

static char *seed_json(void)
{
	char buf[128], hex[65];
	cJSON *o = cJSON_CreateObject();
	cJSON *t = cJSON_AddObjectToObject(o, "tenant");
	cJSON_AddStringToObject(t, "id", TENANT_ID);
	cJSON_AddStringToObject(t, "domain", "contoso.example");
	cJSON *users = cJSON_AddArrayToObject(o, "users");
	for (int i = 0; i < 3; i++) {
		cJSON *u = cJSON_CreateObject();
		user_id(buf, i);
		cJSON_AddStringToObject(u, "id", buf);
		snprintf(buf, sizeof buf, "user%d@contoso.example", i);
		cJSON_AddStringToObject(u, "userPrincipalName", buf);
		snprintf(buf, sizeof buf, "User %d", i);
		cJSON_AddStringToObject(u, "displayName", buf);
		sha256_hex(i == 0 ? ADMIN_PW : "other-password-x", hex);
		cJSON_AddStringToObject(u, "passwordSha256", hex);
		if (i == 0)
			cJSON_AddItemToArray(cJSON_AddArrayToObject(u, "roles"),
					     cJSON_CreateString("Cloud Device Administrator"));
		cJSON_AddItemToArray(users, u);
	}
	cJSON *devices = cJSON_AddArrayToObject(o, "devices");
	for (int i = 0; i <= N_DEVICES; i++) {
		cJSON *d = cJSON_CreateObject();
		if (i < N_DEVICES) {
			device_object_id(buf, i);
			cJSON_AddStringToObject(d, "id", buf);
			snprintf(buf, sizeof buf, "dddddddd-0000-4000-8000-%012d", i);
			cJSON_AddStringToObject(d, "deviceId", buf);
			snprintf(buf, sizeof buf, "PC-%04d", i);
			cJSON_AddStringToObject(d, "displayName", buf);
		} else {
			cJSON_AddStringToObject(d, "id", EVIL_OBJECT);
			cJSON_AddStringToObject(d, "deviceId", "dddddddd-0000-4000-8000-0000000e0000");
			cJSON_AddStringToObject(d, "displayName", EVIL_NAME);
		}
		cJSON_AddBoolToObject(d, "accountEnabled", 1);
		cJSON_AddItemToArray(devices, d);
	}
	cJSON *apps = cJSON_AddArrayToObject(o, "apps");
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "appId", APP_ID);
	cJSON_AddStringToObject(a, "displayName", "ssrp association");
	sha256_hex(APP_SECRET, hex);
	cJSON_AddStringToObject(a, "secretSha256", hex);
	cJSON_AddStringToObject(a, "certificatePem", cert_pem);
	cJSON *roles = cJSON_AddArrayToObject(a, "roles");
	cJSON_AddItemToArray(roles, cJSON_CreateString("User.Read.All"));
	cJSON_AddItemToArray(roles, cJSON_CreateString("Device.Read.All"));
	cJSON_AddItemToArray(apps, a);
	a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "appId", PUBLIC_ID);
	cJSON_AddStringToObject(a, "displayName", "ssrp recover");
	cJSON_AddBoolToObject(a, "publicClient", 1);
	cJSON_AddItemToArray(apps, a);
	char *text = cJSON_Print(o);
	cJSON_Delete(o);
	return text;
}

/* The simulator's config.json plus this tenant's app: secrets by file. */
static int write_config(void)
{
	char *text = sim_read_text(sim_config);
	cJSON *c = text ? cJSON_Parse(text) : NULL;
	free(text);
	if (!c)
		return -1;
	char secret[600], cert[600], key[600];
	snprintf(refresh_file, sizeof refresh_file, "%s/refresh-token", work);
	snprintf(secret, sizeof secret, "%s/app-secret-test", work);
	snprintf(cert, sizeof cert, "%s/app.pem", work);
	snprintf(key, sizeof key, "%s/app.key", work);
	sim_write_text(secret, APP_SECRET "\n", 0600);
	cJSON_DeleteItemFromObject(c, "app_id");
	cJSON_DeleteItemFromObject(c, "app_secret_file");
	cJSON_DeleteItemFromObject(c, "public_client_id");
	cJSON_AddStringToObject(c, "app_id", APP_ID);
	cJSON_AddStringToObject(c, "app_secret_file", secret);
	cJSON_AddStringToObject(c, "app_cert_file", cert);
	cJSON_AddStringToObject(c, "app_key_file", key);
	cJSON_AddStringToObject(c, "public_client_id", PUBLIC_ID);
	cJSON_AddStringToObject(c, "refresh_token_file", refresh_file);
	text = cJSON_Print(c);
	cJSON_Delete(c);
	snprintf(config_path, sizeof config_path, "%s/client.json", work);
	sim_write_text(config_path, text, 0600);
	free(text);
	return 0;
}

static int setup(void **st)
{
	(void)st;
	ssrp_bin = sim_bin();
	if (!ssrp_bin || sim_make_work(work, sizeof work, "ssrp-graph-test"))
		return -1;
	char path[600], cert[600], key[600];
	snprintf(cert, sizeof cert, "%s/app.pem", work);
	snprintf(key, sizeof key, "%s/app.key", work);
	make_app_cert(cert, key);
	snprintf(path, sizeof path, "%s/seed.json", work);
	char *seed = seed_json();
	sim_write_text(path, seed, 0600);
	free(seed);
	snprintf(admin_pw_file, sizeof admin_pw_file, "%s/admin-pw", work);
	sim_write_text(admin_pw_file, ADMIN_PW, 0600);
	snprintf(dir, sizeof dir, "%s/cloud", work);
	const char *args[] = {"--state", path, NULL};
	char *env;
	if (sim_cloud_start(ssrp_bin, dir, args, &env))
		return -1;
	if (!env || sim_env_value(env, "SSRP_SIM_LOG", log_path, sizeof log_path) ||
	    sim_env_value(env, "SSRP_SIM_CONFIG", sim_config, sizeof sim_config) ||
	    sim_admin_token(env, admin_token, sizeof admin_token)) {
		free(env);
		return -1;
	}
	free(env);
	return write_config();
}

static int teardown(void **st)
{
	(void)st;
	const char *args[] = {"cloud", "stop", "--dir", dir, NULL};
	sim_run(ssrp_bin, args);
	free(cert_pem);
	sim_remove_work(work);
	return 0;
}

static ssrp_graph *client(ssrp_graph_auth_kind kind)
{
	ssrp_cloud_config *cfg = NULL;
	if (ssrp_cloud_config_load(&cfg, config_path))
		fail_msg("config: %s", ssrp_error_last());
	ssrp_graph_auth auth = {.kind = kind};
	if (kind == SSRP_GRAPH_AUTH_PASSWORD) {
		auth.username = "user0@contoso.example";
		auth.password_file = admin_pw_file;
	}
	if (kind == SSRP_GRAPH_AUTH_PASSWORD || kind == SSRP_GRAPH_AUTH_REFRESH_TOKEN)
		auth.scope = DELEGATED_SCOPE;
	ssrp_graph_options opt = {.jitter_seed = 42, .backoff_base_ms = 100, .deadline_ms = 120000};
	ssrp_graph *g = NULL;
	if (ssrp_graph_new(&g, cfg, &auth, &opt))
		fail_msg("graph client: %s", ssrp_error_last());
	ssrp_cloud_config_free(cfg);
	return g;
}

static void set_faults(const char *spec)
{
	sim_admin_post(config_path, admin_token, "/admin/faults", spec);
}

/* Request-log lines from line `from` on: count by host, and early retries. */
static int log_count(int from, const char *host, int *early)
{
	char *text = sim_read_text(log_path);
	assert_non_null(text);
	int line = 0, n = 0;
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n"), line++) {
		if (line < from)
			continue;
		cJSON *o = cJSON_Parse(l);
		assert_non_null(o);
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "host");
		if (!host || (cJSON_IsString(h) && !strcmp(h->valuestring, host)))
			n++;
		if (early && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "early_retry")))
			(*early)++;
		cJSON_Delete(o);
	}
	free(text);
	return n;
}

static void test_sim_config_loads(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = NULL;
	if (ssrp_cloud_config_load(&cfg, sim_config))
		fail_msg("%s", ssrp_error_last());
	assert_string_equal(cfg->tenant_id, TENANT_ID);
	assert_string_equal(cfg->graph_host, "graph.microsoft.com");
	assert_non_null(cfg->ca_file);
	assert_non_null(cfg->connect_to[0]);
	ssrp_cloud_config_free(cfg);
}

static int count_item(const cJSON *item, void *ctx)
{
	assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(item, "id")));
	(*(int *)ctx)++;
	return 0;
}

static void test_list_devices_paged(void **st)
{
	(void)st;
	ssrp_graph *g = client(SSRP_GRAPH_AUTH_APP_SECRET);
	int n = 0;
	if (ssrp_graph_list(g, "/v1.0/devices?$select=id,displayName", count_item, &n))
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(n, N_DEVICES + 1);
	ssrp_graph_stats s;
	ssrp_graph_get_stats(g, &s);
	assert_true(s.graph_requests >= 2); /* more than one page */
	assert_int_equal(s.token_requests, 1);
	ssrp_graph_free(g);
}

static int collect_name(const cJSON *item, void *ctx)
{
	cJSON_AddItemToArray(ctx, cJSON_Duplicate(
					   cJSON_GetObjectItemCaseSensitive(item, "displayName"), 1));
	return 0;
}

static void test_filter_escaping(void **st)
{
	(void)st;
	ssrp_graph *g = client(SSRP_GRAPH_AUTH_APP_SECRET);
	char *path = ssrp_graph_filter_eq("/v1.0/devices", "displayName", EVIL_NAME);
	assert_non_null(path);
	cJSON *names = cJSON_CreateArray();
	if (ssrp_graph_list(g, path, collect_name, names))
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(cJSON_GetArraySize(names), 1);
	assert_string_equal(cJSON_GetArrayItem(names, 0)->valuestring, EVIL_NAME);
	cJSON_Delete(names);
	ssrp_free(path);
	ssrp_graph_free(g);
}

static void test_add_owner(void **st)
{
	(void)st;
	char dev[37], user[37], ref[128];
	device_object_id(dev, 3);
	user_id(user, 1);
	snprintf(ref, sizeof ref, "/v1.0/devices/%s/registeredOwners/$ref", dev);

	/* app-only: refused, in a sentence with Graph's code and request-id */
	ssrp_graph *app = client(SSRP_GRAPH_AUTH_APP_SECRET);
	int already = -1;
	int rc = ssrp_graph_add_ref(app, ref, user, &already);
	assert_int_equal(rc, SSRP_E_PERMISSION);
	const char *msg = ssrp_error_last();
	if (strncmp(msg, "Graph refused POST /v1.0/devices/", 33) ||
	    !strstr(msg, "Authorization_RequestDenied: ") || !strstr(msg, "(request-id ") ||
	    strstr(msg, "(request-id none)"))
		fail_msg("unexpected message: %s", msg);
	assert_int_equal(ssrp_graph_last_error(app)->status, 403);
	ssrp_graph_free(app);

	ssrp_graph *g = client(SSRP_GRAPH_AUTH_PASSWORD);
	long status = 0;
	cJSON *body = cJSON_CreateObject();
	char odata[200];
	snprintf(odata, sizeof odata, "https://graph.microsoft.com/v1.0/directoryObjects/%s", user);
	cJSON_AddStringToObject(body, "@odata.id", odata);
	if (ssrp_graph_request(g, "POST", ref, body, &status, NULL))
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(status, 204);
	cJSON_Delete(body);
	if (ssrp_graph_add_ref(g, ref, user, &already))
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(already, 1);
	user_id(user, 2);
	assert_int_equal(ssrp_graph_add_ref(g, ref, user, &already), 0);
	assert_int_equal(already, 0);
	ssrp_graph_free(g);
}

static void test_batch(void **st)
{
	(void)st;
	ssrp_graph *g = client(SSRP_GRAPH_AUTH_APP_SECRET);
	char d[80];
	snprintf(d, sizeof d, "/devices/%s", EVIL_OBJECT);
	ssrp_graph_batch_req reqs[3] = {{"GET", d, NULL},
					{"GET", "/users/user1@contoso.example", NULL},
					{"GET", "/devices/0bbbbbbb-0000-4000-8000-00000000ffff", NULL}};
	ssrp_graph_batch_result res[3];
	if (ssrp_graph_batch(g, reqs, 3, res))
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(res[0].status, 200);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(res[0].body, "displayName")->valuestring,
			    EVIL_NAME);
	assert_int_equal(res[1].status, 200);
	assert_int_equal(res[2].status, 404);
	ssrp_graph_batch_results_free(res, 3);
	/* a request's own headers travel inside the $batch: an advanced query
	 * (ne is one) is answered with them and refused without */
	static const char *const eventual[] = {"ConsistencyLevel: eventual", NULL};
	const char *q = "/users?$filter=displayName%20ne%20'User%201'&$count=true";
	ssrp_graph_batch_req adv[2] = {{"GET", q, NULL, eventual}, {"GET", q, NULL, NULL}};
	if (ssrp_graph_batch(g, adv, 2, res))
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(res[0].status, 200);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(res[0].body, "@odata.count")->valueint, 2);
	assert_int_equal(res[1].status, 400);
	assert_string_equal(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res[1].body, "error"),
						 "code")
			->valuestring,
		"Request_UnsupportedQuery");
	ssrp_graph_batch_results_free(res, 2);
	static const char *const not_a_header[] = {"ConsistencyLevel eventual", NULL};
	ssrp_graph_batch_req bad = {"GET", q, NULL, not_a_header};
	assert_int_equal(ssrp_graph_batch(g, &bad, 1, res), SSRP_E_INVALID);
	ssrp_graph_batch_req too_many[SSRP_GRAPH_BATCH_MAX + 1];
	assert_int_equal(ssrp_graph_batch(g, too_many, SSRP_GRAPH_BATCH_MAX + 1, res),
			 SSRP_E_INVALID);
	ssrp_graph_free(g);
}

static void test_retries_honour_retry_after(void **st)
{
	(void)st;
	ssrp_graph *g = client(SSRP_GRAPH_AUTH_APP_SECRET);
	assert_int_equal(ssrp_graph_token(g), 0);
	int from = log_count(0, NULL, NULL);
	set_faults("GET graph/v1.0/devices*:429:0.4@1;GET graph/v1.0/devices*:503@2");
	uint64_t t0 = ssrp_monotonic_ms();
	cJSON *o = NULL;
	char path[80];
	device_object_id(path, 5);
	char url[128];
	snprintf(url, sizeof url, "/v1.0/devices/%s", path);
	if (ssrp_graph_get(g, url, &o))
		fail_msg("%s", ssrp_error_last());
	uint64_t ms = ssrp_monotonic_ms() - t0;
	set_faults("");
	assert_true(ms >= 400);
	cJSON_Delete(o);
	ssrp_graph_stats s;
	ssrp_graph_get_stats(g, &s);
	assert_int_equal(s.retries, 2);
	int early = 0;
	int graph_lines = log_count(from, "graph.microsoft.com", &early);
	assert_true(graph_lines >= 3);
	assert_int_equal(early, 0);

	/* every attempt throttled: the deadline ends it with the sentence */
	set_faults("GET graph/v1.0/devices*:429:2");
	ssrp_graph_free(g);
	ssrp_cloud_config *cfg = NULL;
	assert_int_equal(ssrp_cloud_config_load(&cfg, config_path), 0);
	ssrp_graph_auth auth = {.kind = SSRP_GRAPH_AUTH_APP_SECRET};
	/* three 429s fit (at about 0, 2 and 4 s), a fourth wait would not:
	 * slack enough for a slow run under valgrind */
	ssrp_graph_options opt = {.jitter_seed = 1, .deadline_ms = 6000};
	assert_int_equal(ssrp_graph_new(&g, cfg, &auth, &opt), 0);
	ssrp_cloud_config_free(cfg);
	assert_int_equal(ssrp_graph_get(g, url, &o), SSRP_E_IO);
	if (!strstr(ssrp_error_last(), "Graph refused GET /v1.0/devices/") ||
	    !strstr(ssrp_error_last(), "TooManyRequests") ||
	    !strstr(ssrp_error_last(), "attempts"))
		fail_msg("unexpected message: %s", ssrp_error_last());
	set_faults("");
	early = 0;
	log_count(from, NULL, &early);
	assert_int_equal(early, 0);
	ssrp_graph_free(g);
}

static void test_token_cached(void **st)
{
	(void)st;
	int from = log_count(0, NULL, NULL);
	ssrp_graph *g = client(SSRP_GRAPH_AUTH_APP_SECRET);
	for (int i = 0; i < 12; i++) {
		cJSON *o = NULL;
		char id[37], url[128];
		device_object_id(id, i);
		snprintf(url, sizeof url, "/v1.0/devices/%s", id);
		if (ssrp_graph_get(g, url, &o))
			fail_msg("%s", ssrp_error_last());
		cJSON_Delete(o);
	}
	assert_int_equal(log_count(from, "login.microsoftonline.com", NULL), 1);
	assert_int_equal(log_count(from, "graph.microsoft.com", NULL), 12);
	ssrp_graph_free(g);
}

static void test_certificate_assertion(void **st)
{
	(void)st;
	ssrp_graph *g = client(SSRP_GRAPH_AUTH_APP_CERT);
	cJSON *o = NULL;
	if (ssrp_graph_get(g, "/v1.0/users/user2@contoso.example", &o))
		fail_msg("%s", ssrp_error_last());
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "displayName")->valuestring,
			    "User 2");
	cJSON_Delete(o);
	/* a nextLink elsewhere never gets the token */
	assert_int_equal(ssrp_graph_get(g, "https://evil.example/v1.0/devices", &o),
			 SSRP_E_INVALID);
	ssrp_graph_free(g);
}

/* A delegated service account's refresh token from a file: used, and the
 * renewed one written back to the file. */
static void test_refresh_token(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = NULL;
	assert_int_equal(ssrp_cloud_config_load(&cfg, config_path), 0);
	ssrp_http *h = NULL;
	ssrp_http_options ho = {.ca_file = cfg->ca_file,
				.connect_to = (const char *const *)cfg->connect_to};
	assert_int_equal(ssrp_http_new(&h, &ho), 0);
	char *scope = ssrp_http_escape(DELEGATED_SCOPE " offline_access");
	char *pw = ssrp_http_escape(ADMIN_PW);
	char form[1024];
	snprintf(form, sizeof form,
		 "grant_type=password&client_id=" PUBLIC_ID
		 "&username=user0%%40contoso.example&password=%s&scope=%s",
		 pw, scope);
	ssrp_free(scope);
	ssrp_free(pw);
	const char *hdrs[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	ssrp_http_req rq = {.method = "POST",
			    .url = "https://login.microsoftonline.com/" TENANT_ID "/oauth2/v2.0/token",
			    .headers = hdrs, .body = form, .body_len = strlen(form)};
	ssrp_http_resp r;
	assert_int_equal(ssrp_http_request(h, &rq, &r), 0);
	assert_int_equal(r.status, 200);
	cJSON *o = cJSON_Parse(r.body);
	ssrp_http_resp_free(&r);
	ssrp_http_free(h);
	ssrp_cloud_config_free(cfg);
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(o, "refresh_token");
	assert_true(cJSON_IsString(rt));
	char *first = strdup(rt->valuestring);
	sim_write_text(refresh_file, first, 0600);
	cJSON_Delete(o);

	ssrp_graph *g = client(SSRP_GRAPH_AUTH_REFRESH_TOKEN);
	char id[37], url[128];
	device_object_id(id, 9);
	snprintf(url, sizeof url, "/v1.0/devices/%s", id);
	if (ssrp_graph_get(g, url, &o))
		fail_msg("%s", ssrp_error_last());
	cJSON_Delete(o);
	ssrp_graph_free(g);
	char *now = sim_read_text(refresh_file);
	assert_non_null(now);
	assert_true(strlen(now) > 20);
	assert_string_not_equal(now, first);
	struct stat sb;
	assert_int_equal(stat(refresh_file, &sb), 0);
	assert_int_equal(sb.st_mode & 077, 0);
	free(now);
	free(first);
}

/* The token endpoint: a 503 with Retry-After is waited out; a wrong
 * secret is an error naming the grant and AAD's code, without the secret. */
static void test_token_endpoint(void **st)
{
	(void)st;
	int from = log_count(0, NULL, NULL);
	set_faults("login/*:503:0.2@1");
	ssrp_graph *g = client(SSRP_GRAPH_AUTH_APP_SECRET);
	if (ssrp_graph_token(g))
		fail_msg("%s", ssrp_error_last());
	set_faults("");
	ssrp_graph_stats s;
	ssrp_graph_get_stats(g, &s);
	assert_int_equal(s.retries, 1);
	int early = 0;
	assert_int_equal(log_count(from, "login.microsoftonline.com", &early), 2);
	assert_int_equal(early, 0);
	ssrp_graph_free(g);

	char wrong[700];
	snprintf(wrong, sizeof wrong, "%s/wrong-secret", work);
	sim_write_text(wrong, "not-the-secret-x", 0600);
	ssrp_cloud_config *cfg = NULL;
	assert_int_equal(ssrp_cloud_config_load(&cfg, config_path), 0);
	char *saved = cfg->app_secret_file;
	cfg->app_secret_file = wrong;
	ssrp_graph_auth auth = {.kind = SSRP_GRAPH_AUTH_APP_SECRET};
	int rc = ssrp_graph_new(&g, cfg, &auth, NULL);
	cfg->app_secret_file = saved;
	ssrp_cloud_config_free(cfg);
	assert_int_equal(rc, 0);
	cJSON *o = NULL;
	assert_int_equal(ssrp_graph_get(g, "/v1.0/devices", &o), SSRP_E_PERMISSION);
	const char *msg = ssrp_error_last();
	const char *want = "the token endpoint refused the client_credentials grant (HTTP 401): "
			   "invalid_client: AADSTS";
	if (strncmp(msg, want, strlen(want)) ||
	    strstr(msg, "not-the-secret") || strchr(msg, '\n'))
		fail_msg("unexpected message: %s", msg);
	ssrp_graph_free(g);
}

static void test_no_secret_in_log(void **st)
{
	(void)st;
	char *text = sim_read_text(log_path);
	assert_non_null(text);
	assert_null(strstr(text, APP_SECRET));
	assert_null(strstr(text, ADMIN_PW));
	assert_null(strstr(text, "eyJ")); /* no token */
	free(text);
}

/* libcurl's copies of requests (bodies, the bearer token's header) went
 * through the wiping free, and the library says what it is. */
static void test_curl_memory_wiped(void **st)
{
	(void)st;
	assert_true(ssrp_curl_wiped_bytes() > 1000);
	const ssrp_version_info *v = ssrp_version_info_get();
	assert_int_equal(v->major, SSRP_VERSION_MAJOR);
	assert_string_equal(v->string, ssrp_version());
	assert_non_null(strstr(v->tls, "OpenSSL"));
}

int main(void)
{
	/* first, before anything initialises libcurl */
	if (ssrp_init() != SSRP_OK)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sim_config_loads),
		cmocka_unit_test(test_list_devices_paged),
		cmocka_unit_test(test_filter_escaping),
		cmocka_unit_test(test_add_owner),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_curl_memory_wiped),
		cmocka_unit_test(test_retries_honour_retry_after),
		cmocka_unit_test(test_token_cached),
		cmocka_unit_test(test_certificate_assertion),
		cmocka_unit_test(test_refresh_token),
		cmocka_unit_test(test_token_endpoint),
		cmocka_unit_test(test_no_secret_in_log),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
