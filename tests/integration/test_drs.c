/* Escrow through the Device Registration Service (escrow/drs.c) against the
 * simulated cloud (`ssrp sim cloud start --state SEED --device-certs 2`, the
 * binary in $SSRP_BIN) over HTTPS with the device certificates it made,
 * on a seeded tenant of two devices, each with its certificate:
 *   - an upload is answered 200 and the key shows through Graph (an
 *     administrator's password-grant token lists it by deviceId) and in the
 *     tenant's state, password and all;
 *   - uploading the same kid again is harmless (one key, still there);
 *   - another device's certificate uploading for the demo device is
 *     refused with SSRP_E_PERMISSION;
 *   - a 429 with Retry-After, 503s and a dropped connection on the DRS are
 *     retried, and the request log shows no early retry;
 *   - bad arguments are refused before anything is sent; a password with a
 *     wrong checksum is refused by the service (SSRP_E_INVALID);
 *   - the device's key list (GET .../bitlocker/{deviceId}) names exactly the
 *     keys uploaded for it, not another device's; another device's
 *     certificate is refused; a 503 is retried; a tenant without an id
 *     goes to "common";
 *   - no recovery password appears in the request log or in any message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <openssl/evp.h>

#include "tests/integration/sim_helpers.h"
#include "bitlocker/recovery_password.h"
#include "escrow/config.h"
#include "escrow/drs.h"
#include "escrow/graph_client.h"
#include "hal/clock.h"
#include "hal/http.h"
#include "hal/identity.h"
#include "ssrp/error.h"

#define KID1 "{5A1B2C3D-0000-4000-8000-00000000D501}"
#define KID2 "{5A1B2C3D-0000-4000-8000-00000000D502}"
#define KID3 "{5A1B2C3D-0000-4000-8000-00000000D503}"
#define KID4 "{5A1B2C3D-0000-4000-8000-00000000D504}"

static char work[256], dir[512], sim_config[600], log_path[600], admin_token[128];
static char demo_id[64], demo_cert[600], demo_key[600], tenant_id[64], cert_dir[600];
static char admin_upn[128], admin_pw_file[600];
static char other_id[64], other_cert[600], other_key[600];
static const char *ssrp_bin;
static ssrp_cloud_config *cfg;

/* Every password this test sent and every message it saw, checked last. */
#define MAX_KEPT 32
static char passwords[MAX_KEPT][SSRP_RECOVERY_PASSWORD_LEN + 1];
static int n_passwords;
static char *messages[MAX_KEPT];
static int n_messages;

static const char *new_password(void)
{
	uint8_t key[SSRP_RP_KEY_LEN];
	assert_int_equal(ssrp_rp_generate(key), 0);
	assert_true(n_passwords < MAX_KEPT);
	ssrp_rp_format(passwords[n_passwords], key);
	return passwords[n_passwords++];
}

static void keep_message(void)
{
	if (n_messages < MAX_KEPT)
		messages[n_messages++] = strdup(ssrp_error_last());
}

static void identity_of(ssrp_device_identity *id, const char *device_id, const char *cert,
			const char *key)
{
	*id = (ssrp_device_identity)SSRP_DEVICE_IDENTITY_INIT;
	id->join = SSRP_JOIN_AZUREAD;
	snprintf(id->device_id, sizeof id->device_id, "%s", device_id);
	snprintf(id->tenant_id, sizeof id->tenant_id, "%s", tenant_id);
	snprintf(id->cert, sizeof id->cert, "%s", cert);
	snprintf(id->key, sizeof id->key, "%s", key);
	snprintf(id->source, sizeof id->source, "config");
}

#define TENANT "7e7e7e7e-0000-4000-8000-00000000d500"
#define DEMO_ID "dddddddd-0000-4000-8000-00000000d5a1"
#define OTHER_ID "dddddddd-0000-4000-8000-00000000d5b2"
#define PUBLIC_ID "0a0a0a0a-0000-4000-8000-00000000d503"
#define ADMIN_UPN "admin@contoso.example"
#define ADMIN_PW "Drs-admin-pw-secret-do-not-log-5"

static void sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* A tenant with two devices (the demo tenant has one), a device
 * administrator and a public client for the password grant. */
static char *seed_json(void)
{
	char hex[65];
	cJSON *o = cJSON_CreateObject();
	cJSON *t = cJSON_AddObjectToObject(o, "tenant");
	cJSON_AddStringToObject(t, "id", TENANT);
	cJSON_AddStringToObject(t, "domain", "contoso.example");
	cJSON *u = cJSON_CreateObject();
	cJSON_AddStringToObject(u, "id", "0aaaaaaa-0000-4000-8000-00000000d501");
	cJSON_AddStringToObject(u, "userPrincipalName", ADMIN_UPN);
	cJSON_AddStringToObject(u, "displayName", "Device Admin");
	sha256_hex(ADMIN_PW, hex);
	cJSON_AddStringToObject(u, "passwordSha256", hex);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(u, "roles"),
			     cJSON_CreateString("Cloud Device Administrator"));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "users"), u);
	cJSON *devices = cJSON_AddArrayToObject(o, "devices");
	static const char *const ids[][3] = {
		{"0bbbbbbb-0000-4000-8000-00000000d5a1", DEMO_ID, "DESKTOP-DRS1"},
		{"0bbbbbbb-0000-4000-8000-00000000d5b2", OTHER_ID, "DESKTOP-DRS2"}};
	for (int i = 0; i < 2; i++) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "id", ids[i][0]);
		cJSON_AddStringToObject(d, "deviceId", ids[i][1]);
		cJSON_AddStringToObject(d, "displayName", ids[i][2]);
		cJSON_AddBoolToObject(d, "accountEnabled", 1);
		cJSON_AddItemToArray(devices, d);
	}
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "appId", PUBLIC_ID);
	cJSON_AddStringToObject(a, "displayName", "ssrp recover");
	cJSON_AddBoolToObject(a, "publicClient", 1);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "apps"), a);
	char *text = cJSON_Print(o);
	cJSON_Delete(o);
	return text;
}

static void stop_sim(void)
{
	const char *args[] = {"cloud", "stop", "--dir", dir, NULL};
	sim_run(ssrp_bin, args);
}

/* The device's configuration the simulator wrote (DIR/devices/<id>.json,
 * its certificate in "device"), plus the public client for the password
 * grant; loaded into cfg, the certificate paths into cert/key. */
static int load_device_config(const char *device_id, char *cert, char *key, size_t cap)
{
	char path[800];
	snprintf(path, sizeof path, "%s/%s.json", cert_dir, device_id);
	char *text = sim_read_text(path);
	cJSON *c = text ? cJSON_Parse(text) : NULL;
	free(text);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(c, "device");
	const cJSON *cf = cJSON_GetObjectItemCaseSensitive(d, "cert_file");
	const cJSON *kf = cJSON_GetObjectItemCaseSensitive(d, "key_file");
	if (!cJSON_IsString(cf) || !cJSON_IsString(kf)) {
		fprintf(stderr, "%s names no device certificate\n", path);
		cJSON_Delete(c);
		return -1;
	}
	snprintf(cert, cap, "%s", cf->valuestring);
	snprintf(key, cap, "%s", kf->valuestring);
	if (!cfg) {
		cJSON_DeleteItemFromObject(c, "public_client_id");
		cJSON_AddStringToObject(c, "public_client_id", PUBLIC_ID);
		text = cJSON_Print(c);
		int rc = ssrp_cloud_config_parse(&cfg, text, path);
		free(text);
		if (rc) {
			fprintf(stderr, "%s\n", ssrp_error_last());
			cJSON_Delete(c);
			return -1;
		}
	}
	cJSON_Delete(c);
	return 0;
}

static int setup(void **st)
{
	(void)st;
	ssrp_bin = sim_bin();
	if (!ssrp_bin || sim_make_work(work, sizeof work, "ssrp-drs-test"))
		return -1;
	char seed[700];
	snprintf(seed, sizeof seed, "%s/seed.json", work);
	char *text = seed_json();
	sim_write_text(seed, text, 0600);
	free(text);
	snprintf(admin_pw_file, sizeof admin_pw_file, "%s/admin-pw", work);
	sim_write_text(admin_pw_file, ADMIN_PW, 0600);
	snprintf(admin_upn, sizeof admin_upn, ADMIN_UPN);
	snprintf(tenant_id, sizeof tenant_id, TENANT);
	snprintf(demo_id, sizeof demo_id, DEMO_ID);
	snprintf(other_id, sizeof other_id, OTHER_ID);
	snprintf(dir, sizeof dir, "%s/cloud", work);
	const char *args[] = {"--state", seed, "--device-certs", "2", NULL};
	char *env;
	if (sim_cloud_start(ssrp_bin, dir, args, &env))
		return -1;
	if (!env || sim_env_value(env, "SSRP_SIM_CONFIG", sim_config, sizeof sim_config) ||
	    sim_env_value(env, "SSRP_SIM_LOG", log_path, sizeof log_path) ||
	    sim_admin_token(env, admin_token, sizeof admin_token) ||
	    sim_env_value(env, "SSRP_SIM_DEVICE_CERT_DIR", cert_dir, sizeof cert_dir) ||
	    load_device_config(demo_id, demo_cert, demo_key, sizeof demo_cert) ||
	    load_device_config(other_id, other_cert, other_key, sizeof other_cert)) {
		free(env);
		stop_sim();
		return -1;
	}
	free(env);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	stop_sim();
	ssrp_cloud_config_free(cfg);
	for (int i = 0; i < n_messages; i++)
		free(messages[i]);
	memset(passwords, 0, sizeof passwords);
	sim_remove_work(work);
	return 0;
}

/* An admin endpoint of the simulator; the body of a 200, or NULL. */
static char *admin(const char *method, const char *path, const char *body)
{
	ssrp_http *h = NULL;
	ssrp_http_options ho = {.ca_file = cfg->ca_file,
				.connect_to = (const char *const *)cfg->connect_to};
	assert_int_equal(ssrp_http_new(&h, &ho), 0);
	char auth[200], url[300];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", admin_token);
	snprintf(url, sizeof url, "https://graph.microsoft.com%s", path);
	const char *hdrs[] = {auth, NULL};
	ssrp_http_req rq = {.method = method, .url = url, .headers = hdrs, .body = body,
			    .body_len = body ? strlen(body) : 0};
	ssrp_http_resp r;
	assert_int_equal(ssrp_http_request(h, &rq, &r), 0);
	if (r.status != 200)
		fail_msg("%s %s: HTTP %ld %s", method, path, r.status, r.body);
	char *text = strdup(r.body);
	ssrp_http_resp_free(&r);
	ssrp_http_free(h);
	return text;
}

static void set_faults(const char *spec)
{
	free(admin("POST", "/admin/faults", spec));
}

/* The stored key with this id (any spelling) in the tenant's state: its
 * password, and how many keys have that id. */
static int state_key(const char *kid, char *password, size_t cap)
{
	char want[40];
	size_t n = 0;
	for (const char *p = kid; *p && n < 36; p++)
		if (*p != '{' && *p != '}')
			want[n++] = *p;
	want[n] = '\0';
	char *text = admin("GET", "/admin/state", NULL);
	cJSON *o = cJSON_Parse(text);
	free(text);
	assert_non_null(o);
	int count = 0;
	const cJSON *k;
	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(o, "recoveryKeys")) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(k, "id");
		const cJSON *key = cJSON_GetObjectItemCaseSensitive(k, "key");
		const cJSON *dev = cJSON_GetObjectItemCaseSensitive(k, "deviceId");
		if (cJSON_IsString(id) && !strcasecmp(id->valuestring, want)) {
			count++;
			assert_true(cJSON_IsString(dev) && !strcasecmp(dev->valuestring, demo_id));
			if (password && cJSON_IsString(key))
				snprintf(password, cap, "%s", key->valuestring);
		}
	}
	cJSON_Delete(o);
	return count;
}

/* Number of request-log lines; with from >= 0, counts DRS requests and
 * early retries from line `from` on. */
static int log_lines(int from, int *drs, int *early)
{
	char *text = sim_read_text(log_path);
	assert_non_null(text);
	int line = 0;
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n"), line++) {
		if (from < 0 || line < from)
			continue;
		cJSON *o = cJSON_Parse(l);
		assert_non_null(o);
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "host");
		if (drs && cJSON_IsString(h) &&
		    !strcmp(h->valuestring, "enterpriseregistration.windows.net"))
			(*drs)++;
		if (early && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "early_retry")))
			(*early)++;
		cJSON_Delete(o);
	}
	free(text);
	return line;
}

static const ssrp_retry_options quick = {.version = SSRP_RETRY_OPTIONS_VERSION,
					 .jitter_seed = 11,
					 .backoff_base_ms = 100,
					 .deadline_ms = 60000};

static void test_upload_visible(void **st)
{
	(void)st;
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	identity_of(&id, demo_id, demo_cert, demo_key);
	const char *pw = new_password();
	ssrp_drs_result res = SSRP_DRS_RESULT_INIT;
	/* lower case without braces: the protector id in any spelling */
	if (ssrp_drs_upload(cfg, &id, "5a1b2c3d-0000-4000-8000-00000000d501", pw, NULL, &quick,
			    &res))
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(res.status, 200);
	assert_int_equal(res.attempts, 1);

	char stored[80] = "";
	assert_int_equal(state_key(KID1, stored, sizeof stored), 1);
	assert_string_equal(stored, pw);

	/* Graph: an administrator lists the device's keys and finds this one. */
	ssrp_graph_auth auth = {.kind = SSRP_GRAPH_AUTH_PASSWORD,
				.username = admin_upn,
				.password_file = admin_pw_file,
				.scope = "https://graph.microsoft.com/BitLockerKey.ReadBasic.All"};
	ssrp_graph_options go = {.jitter_seed = 3, .deadline_ms = 60000};
	ssrp_graph *g = NULL;
	if (ssrp_graph_new(&g, cfg, &auth, &go))
		fail_msg("graph: %s", ssrp_error_last());
	char path[300];
	snprintf(path, sizeof path,
		 "/v1.0/informationProtection/bitlocker/recoveryKeys?$filter=deviceId%%20eq%%20'%s'",
		 demo_id);
	cJSON *o = NULL;
	if (ssrp_graph_get(g, path, &o))
		fail_msg("graph: %s", ssrp_error_last());
	int found = 0;
	const cJSON *k;
	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(o, "value")) {
		const cJSON *kid = cJSON_GetObjectItemCaseSensitive(k, "id");
		if (cJSON_IsString(kid) &&
		    !strcasecmp(kid->valuestring, "5a1b2c3d-0000-4000-8000-00000000d501"))
			found++;
	}
	cJSON_Delete(o);
	ssrp_graph_free(g);
	assert_int_equal(found, 1);
}

static void test_repeat_is_harmless(void **st)
{
	(void)st;
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	identity_of(&id, demo_id, demo_cert, demo_key);
	const char *pw = new_password();
	for (int i = 0; i < 3; i++) {
		ssrp_drs_result res = SSRP_DRS_RESULT_INIT;
		if (ssrp_drs_upload(cfg, &id, KID2, pw, "OSV", &quick, &res))
			fail_msg("upload %d: %s", i + 1, ssrp_error_last());
		assert_int_equal(res.status, 200);
	}
	char stored[80] = "";
	assert_int_equal(state_key(KID2, stored, sizeof stored), 1);
	assert_string_equal(stored, pw);
	/* the first key is still there too */
	assert_int_equal(state_key(KID1, NULL, 0), 1);
}

static void test_other_device_refused(void **st)
{
	(void)st;
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	/* the demo device's id, another device's certificate */
	identity_of(&id, demo_id, other_cert, other_key);
	const char *pw = new_password();
	ssrp_drs_result res = SSRP_DRS_RESULT_INIT;
	int rc = ssrp_drs_upload(cfg, &id, KID3, pw, NULL, &quick, &res);
	keep_message();
	assert_int_equal(rc, SSRP_E_PERMISSION);
	assert_int_equal(res.status, 403);
	assert_int_equal(res.attempts, 1); /* a refusal is not retried */
	assert_non_null(strstr(ssrp_error_last(), KID3));
	assert_null(strstr(ssrp_error_last(), pw));
	assert_int_equal(state_key(KID3, NULL, 0), 0);

	/* its own certificate for its own id works: the refusal was the mismatch */
	identity_of(&id, other_id, other_cert, other_key);
	assert_int_equal(ssrp_drs_upload(cfg, &id, KID4, pw, NULL, &quick, &res), 0);
	assert_int_equal(res.status, 200);

	/* no certificate at all */
	identity_of(&id, demo_id, "", "");
	assert_int_equal(ssrp_drs_upload(cfg, &id, KID3, pw, NULL, &quick, &res), SSRP_E_INVALID);
	keep_message();
}

static void test_retries_never_early(void **st)
{
	(void)st;
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	identity_of(&id, demo_id, demo_cert, demo_key);
	int from = log_lines(-1, NULL, NULL);
	set_faults("POST drs/manage/*:429:1@1");
	const char *pw = new_password();
	ssrp_drs_result res = SSRP_DRS_RESULT_INIT;
	int rc = ssrp_drs_upload(cfg, &id, "{5a1b2c3d-0000-4000-8000-00000000d505}", pw, NULL,
				 &quick, &res);
	if (rc)
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(res.status, 200);
	assert_int_equal(res.attempts, 2);

	/* a dropped connection (on a fresh one: curl itself resends only on a
	 * reused one), then two 503s without Retry-After (backoff) */
	set_faults("POST drs/manage/*:reset@1; POST drs/manage/*:503@2-3");
	pw = new_password();
	rc = ssrp_drs_upload(cfg, &id, "{5a1b2c3d-0000-4000-8000-00000000d506}", pw, NULL, &quick,
			     &res);
	if (rc)
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(res.attempts, 4);

	/* a service that stays busy: SSRP_E_IO naming the protector */
	set_faults("POST drs/manage/*:503");
	pw = new_password();
	ssrp_retry_options few = quick;
	few.max_attempts = 2;
	rc = ssrp_drs_upload(cfg, &id, "{5a1b2c3d-0000-4000-8000-00000000d507}", pw, NULL, &few,
			     &res);
	keep_message();
	assert_int_equal(rc, SSRP_E_IO);
	assert_int_equal(res.status, 503);
	assert_int_equal(res.attempts, 2);
	assert_non_null(strstr(ssrp_error_last(), "{5A1B2C3D-0000-4000-8000-00000000D507}"));
	set_faults("");

	int drs = 0, early = 0;
	log_lines(from, &drs, &early);
	assert_int_equal(drs, 2 + 4 + 2);
	assert_int_equal(early, 0);
}

/* One Retry-After rule for every caller: an answer asking for an hour is
 * waited the cap (here 300 ms), not given up on at once, by the Device
 * Registration client (upload and key list), the Graph client's token
 * request, its request and its $batch parts alike. */
static void test_retry_after_capped(void **st)
{
	(void)st;
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	identity_of(&id, demo_id, demo_cert, demo_key);
	ssrp_retry_options capped = {.version = SSRP_RETRY_OPTIONS_VERSION,
				     .jitter_seed = 5,
				     .deadline_ms = 20000,
				     .retry_after_cap_ms = 300};
	ssrp_drs_result res = SSRP_DRS_RESULT_INIT;
	set_faults("POST drs/manage/*:429:3600@1");
	uint64_t t0 = ssrp_monotonic_ms();
	if (ssrp_drs_upload(cfg, &id, "{5a1b2c3d-0000-4000-8000-00000000d50c}", new_password(),
			    NULL, &capped, &res))
		fail_msg("DRS upload: %s", ssrp_error_last());
	uint64_t took = ssrp_monotonic_ms() - t0;
	assert_int_equal(res.attempts, 2);
	if (took < 300 || took > 10000)
		fail_msg("the DRS upload took %llu ms, not the 300 ms cap",
			 (unsigned long long)took);

	set_faults("GET drs/manage/*:503:3600@1");
	static ssrp_drs_keys keys = SSRP_DRS_KEYS_INIT;
	if (ssrp_drs_list_keys(cfg, &id, &capped, &keys, &res))
		fail_msg("DRS key list: %s", ssrp_error_last());
	assert_int_equal(res.attempts, 2);

	ssrp_graph_auth auth = {.kind = SSRP_GRAPH_AUTH_PASSWORD, .username = admin_upn,
				.password_file = admin_pw_file,
				.scope = "https://graph.microsoft.com/BitLockerKey.ReadBasic.All"};
	ssrp_graph *g = NULL;
	if (ssrp_graph_new(&g, cfg, &auth, &capped))
		fail_msg("graph: %s", ssrp_error_last());
	set_faults("login/*:429:3600@1; GET graph/v1.0/informationProtection/*:429:3600@1");
	char path[300];
	snprintf(path, sizeof path,
		 "/v1.0/informationProtection/bitlocker/recoveryKeys?$filter=deviceId%%20eq%%20'%s'",
		 demo_id);
	cJSON *o = NULL;
	t0 = ssrp_monotonic_ms();
	if (ssrp_graph_get(g, path, &o))
		fail_msg("Graph GET: %s", ssrp_error_last());
	took = ssrp_monotonic_ms() - t0;
	cJSON_Delete(o);
	ssrp_graph_stats gs;
	ssrp_graph_get_stats(g, &gs);
	assert_int_equal(gs.throttled, 2); /* the token endpoint's and Graph's */
	assert_int_equal(gs.retries, 2);
	if (took < 600 || took > 15000)
		fail_msg("the Graph GET took %llu ms, not two 300 ms caps",
			 (unsigned long long)took);

	/* a $batch part asked to wait an hour is sent again 300 ms later */
	set_faults("GET graph*/informationProtection/*:429:3600@1");
	ssrp_graph_batch_req br = {.method = "GET", .url = path + strlen("/v1.0")};
	ssrp_graph_batch_result out;
	if (ssrp_graph_batch(g, &br, 1, &out))
		fail_msg("Graph $batch: %s", ssrp_error_last());
	assert_int_equal(out.status, 200);
	ssrp_graph_batch_results_free(&out, 1);
	ssrp_graph_get_stats(g, &gs);
	assert_int_equal(gs.throttled, 3);
	set_faults("");
	ssrp_graph_free(g);
}

static void test_bad_arguments(void **st)
{
	(void)st;
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	identity_of(&id, demo_id, demo_cert, demo_key);
	int before = log_lines(-1, NULL, NULL);
	const char *pw = new_password();
	ssrp_drs_result res = SSRP_DRS_RESULT_INIT;
	assert_int_equal(ssrp_drs_upload(cfg, &id, "{5A1B2C3D}", pw, NULL, &quick, &res),
			 SSRP_E_INVALID);
	keep_message();
	assert_int_equal(ssrp_drs_upload(cfg, &id, KID3, "123", NULL, &quick, &res),
			 SSRP_E_INVALID);
	keep_message();
	assert_non_null(strstr(ssrp_error_last(), KID3));
	assert_int_equal(ssrp_drs_upload(cfg, &id, KID3, pw, "XYZ", &quick, &res), SSRP_E_INVALID);
	keep_message();
	ssrp_device_identity none = SSRP_DEVICE_IDENTITY_INIT;
	memset(&none, 0, sizeof none);
	assert_int_equal(ssrp_drs_upload(cfg, &none, KID3, pw, NULL, &quick, &res),
			 SSRP_E_INVALID);
	keep_message();
	assert_int_equal(log_lines(-1, NULL, NULL), before); /* nothing was sent */

	/* the right shape, a wrong checksum: the service refuses it */
	char wrong[SSRP_RECOVERY_PASSWORD_LEN + 1];
	snprintf(wrong, sizeof wrong, "%s", pw);
	wrong[0] = wrong[0] == '9' ? '0' : (char)(wrong[0] + 1);
	assert_true(n_passwords < MAX_KEPT);
	snprintf(passwords[n_passwords++], sizeof passwords[0], "%s", wrong);
	int rc = ssrp_drs_upload(cfg, &id, KID3, wrong, NULL, &quick, &res);
	keep_message();
	assert_int_equal(rc, SSRP_E_INVALID);
	assert_int_equal(res.status, 400);
	assert_int_equal(res.attempts, 1);
	assert_non_null(strstr(ssrp_error_last(), KID3));
}

static void test_list_keys(void **st)
{
	(void)st;
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	identity_of(&id, demo_id, demo_cert, demo_key);
	ssrp_drs_keys *keys = calloc(1, sizeof *keys);
	assert_non_null(keys);
	keys->version = SSRP_DRS_KEYS_VERSION;
	ssrp_drs_result res = SSRP_DRS_RESULT_INIT;
	if (ssrp_drs_list_keys(cfg, &id, &quick, keys, &res))
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(res.status, 200);
	assert_int_equal(res.attempts, 1);
	/* KID1, KID2 and the three of test_retries_never_early; D507 never
	 * arrived, KID3 was refused, KID4 is the other device's */
	assert_int_equal(keys->n, 4);
	assert_true(ssrp_drs_keys_has(keys, KID1));
	assert_true(ssrp_drs_keys_has(keys, KID2));
	assert_true(ssrp_drs_keys_has(keys, "{5a1b2c3d-0000-4000-8000-00000000d505}"));
	assert_true(ssrp_drs_keys_has(keys, "{5a1b2c3d-0000-4000-8000-00000000d506}"));
	assert_false(ssrp_drs_keys_has(keys, KID3));
	assert_false(ssrp_drs_keys_has(keys, KID4));
	assert_false(ssrp_drs_keys_has(keys, "{5a1b2c3d-0000-4000-8000-00000000d507}"));
	for (size_t i = 0; i < keys->n; i++) {
		assert_int_equal(keys->keys[i].volume_type, 1);
		assert_true(keys->keys[i].created > 1700000000);
	}

	/* the other device sees its own key only */
	identity_of(&id, other_id, other_cert, other_key);
	assert_int_equal(ssrp_drs_list_keys(cfg, &id, &quick, keys, &res), SSRP_OK);
	assert_int_equal(keys->n, 1);
	assert_true(ssrp_drs_keys_has(keys, KID4));

	/* the demo device's keys with the other device's certificate */
	identity_of(&id, demo_id, other_cert, other_key);
	assert_int_equal(ssrp_drs_list_keys(cfg, &id, &quick, keys, &res), SSRP_E_PERMISSION);
	keep_message();
	assert_int_equal(res.status, 403);
	assert_int_equal(res.attempts, 1);
	assert_int_equal(keys->n, 0);
	assert_non_null(strstr(ssrp_error_last(), demo_id));

	/* a busy service is asked again; "common" when no tenant is known */
	identity_of(&id, demo_id, demo_cert, demo_key);
	id.tenant_id[0] = '\0';
	char *saved = cfg->tenant_id;
	cfg->tenant_id = NULL;
	int from = log_lines(-1, NULL, NULL);
	set_faults("GET drs/manage/common/bitlocker/*:503@1");
	int rc = ssrp_drs_list_keys(cfg, &id, &quick, keys, &res);
	cfg->tenant_id = saved;
	set_faults("");
	if (rc)
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(res.attempts, 2);
	assert_int_equal(keys->n, 4);
	int drs = 0, early = 0;
	log_lines(from, &drs, &early);
	assert_int_equal(drs, 2);
	assert_int_equal(early, 0);

	/* not registered: nothing is sent */
	ssrp_device_identity none = SSRP_DEVICE_IDENTITY_INIT;
	memset(&none, 0, sizeof none);
	from = log_lines(-1, NULL, NULL);
	assert_int_equal(ssrp_drs_list_keys(cfg, &none, &quick, keys, &res), SSRP_E_INVALID);
	keep_message();
	assert_int_equal(log_lines(-1, NULL, NULL), from);
	free(keys);
}

/* Deletion: only this device's keys go, 16 ids a request at most, a reset
 * is retried (a repeated DELETE is harmless), bad ids send nothing. */
static void test_delete_keys(void **st)
{
	(void)st;
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	identity_of(&id, demo_id, demo_cert, demo_key);
	ssrp_drs_keys *keys = calloc(1, sizeof *keys);
	assert_non_null(keys);
	keys->version = SSRP_DRS_KEYS_VERSION;
	ssrp_drs_result res = SSRP_DRS_RESULT_INIT;
	size_t removed = 99;
	const char *kids[] = {KID2, "5A1B2C3D-0000-4000-8000-00000000D505", KID4};
	int from = log_lines(-1, NULL, NULL);
	set_faults("DELETE drs/manage/*:reset@1");
	int rc = ssrp_drs_delete_keys(cfg, &id, kids, 3, &quick, &removed, &res);
	set_faults("");
	if (rc)
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(res.status, 200);
	assert_int_equal(res.attempts, 2);
	assert_int_equal(removed, 2); /* KID4 is the other device's */
	int drs = 0, early = 0;
	log_lines(from, &drs, &early);
	assert_int_equal(drs, 2);
	assert_int_equal(early, 0);
	assert_int_equal(ssrp_drs_list_keys(cfg, &id, &quick, keys, &res), SSRP_OK);
	assert_int_equal(keys->n, 2);
	assert_true(ssrp_drs_keys_has(keys, KID1));
	assert_false(ssrp_drs_keys_has(keys, KID2));
	identity_of(&id, other_id, other_cert, other_key);
	assert_int_equal(ssrp_drs_list_keys(cfg, &id, &quick, keys, &res), SSRP_OK);
	assert_true(ssrp_drs_keys_has(keys, KID4));

	/* refused before anything is sent */
	const char *many[SSRP_DRS_MAX_DELETE + 1];
	for (size_t i = 0; i <= SSRP_DRS_MAX_DELETE; i++)
		many[i] = KID1;
	const char *bad[] = {KID1, "not-a-guid"};
	from = log_lines(-1, NULL, NULL);
	assert_int_equal(ssrp_drs_delete_keys(cfg, &id, many, SSRP_DRS_MAX_DELETE + 1, &quick,
					      &removed, &res),
			 SSRP_E_INVALID);
	assert_int_equal(ssrp_drs_delete_keys(cfg, &id, many, 0, &quick, &removed, &res),
			 SSRP_E_INVALID);
	assert_int_equal(ssrp_drs_delete_keys(cfg, &id, bad, 2, &quick, &removed, &res),
			 SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "not-a-guid"));
	assert_int_equal(log_lines(-1, NULL, NULL), from);
	free(keys);
}

/* Last: no recovery password in the request log or in any message. */
static void test_no_password_anywhere(void **st)
{
	(void)st;
	char *log = sim_read_text(log_path);
	assert_non_null(log);
	assert_true(n_passwords >= 6);
	for (int i = 0; i < n_passwords; i++) {
		char digits[49];
		size_t n = 0;
		for (const char *p = passwords[i]; *p; p++)
			if (*p != '-')
				digits[n++] = *p;
		digits[n] = '\0';
		if (strstr(log, passwords[i]) || strstr(log, digits))
			fail_msg("recovery password %d is in the request log", i);
		for (int m = 0; m < n_messages; m++)
			if (strstr(messages[m], passwords[i]) || strstr(messages[m], digits))
				fail_msg("recovery password %d is in message '%s'", i, messages[m]);
	}
	free(log);
	assert_true(n_messages >= 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upload_visible),	     cmocka_unit_test(test_repeat_is_harmless),
		cmocka_unit_test(test_other_device_refused), cmocka_unit_test(test_retries_never_early),
		cmocka_unit_test(test_bad_arguments),	     cmocka_unit_test(test_list_keys),
		cmocka_unit_test(test_delete_keys),	     cmocka_unit_test(test_retry_after_capped),
		cmocka_unit_test(test_no_password_anywhere),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
