/* escrow/recover.h against the simulated cloud (`ssrp sim cloud start`,
 * demo tenant, the binary in $SSRP_BIN): a key uploaded through DRS with the
 * device certificate; alice and bob own nothing and see nothing; Graph
 * itself refuses bob the key when asked by id (its code and request-id
 * kept, SSRP_E_REFUSED); once alice is a registered owner (the admin's
 * delegated $ref add) she lists the device with its key, chooses it by name
 * and by key-id prefix and reads the password, while bob is still refused
 * by name, by prefix and by Graph; `ssrp assoc login` with the password
 * grant writes a refresh token file (0600) that a REFRESH_TOKEN client then
 * signs in with. */
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

#include "escrow/config.h"
#include "escrow/graph_client.h"
#include "escrow/recover.h"
#include "hal/http.h"
#include "ssrp/error.h"
#include "tests/integration/sim_helpers.h"

#define KID "5c1d2e3f-0000-4000-8000-0000000000aa"
#define RP "111111-222222-333333-444444-555555-666666-000011-123453"

static char work[256], dir[512], sim_config[600];
static char alice[128], alice_pw[600], bob[128], bob_pw[600], admin[128], admin_pw[600];
static char svc[128], svc_pw[600], device_id[64], device_name[128], device_cert[600],
	device_key[600], tenant[64];
static const char *ssrp_bin;

static int env(const char *text, const char *name, char *out, size_t cap)
{
	return sim_env_value(text, name, out, cap);
}

static int setup(void **st)
{
	(void)st;
	ssrp_bin = sim_bin();
	if (!ssrp_bin || sim_make_work(work, sizeof work, "ssrp-recover-test"))
		return -1;
	snprintf(dir, sizeof dir, "%s/cloud", work);
	char *e;
	if (sim_cloud_start(ssrp_bin, dir, NULL, &e))
		return -1;
	int bad = !e || env(e, "SSRP_SIM_CONFIG", sim_config, sizeof sim_config) ||
		  env(e, "SSRP_SIM_USER_UPN", alice, sizeof alice) ||
		  env(e, "SSRP_SIM_USER_PASSWORD_FILE", alice_pw, sizeof alice_pw) ||
		  env(e, "SSRP_SIM_USER2_UPN", bob, sizeof bob) ||
		  env(e, "SSRP_SIM_USER2_PASSWORD_FILE", bob_pw, sizeof bob_pw) ||
		  env(e, "SSRP_SIM_ADMIN_UPN", admin, sizeof admin) ||
		  env(e, "SSRP_SIM_ADMIN_PASSWORD_FILE", admin_pw, sizeof admin_pw) ||
		  env(e, "SSRP_SIM_SERVICE_UPN", svc, sizeof svc) ||
		  env(e, "SSRP_SIM_SERVICE_PASSWORD_FILE", svc_pw, sizeof svc_pw) ||
		  env(e, "SSRP_SIM_DEVICE_ID", device_id, sizeof device_id) ||
		  env(e, "SSRP_SIM_DEVICE_NAME", device_name, sizeof device_name) ||
		  env(e, "SSRP_SIM_DEVICE_CERT", device_cert, sizeof device_cert) ||
		  env(e, "SSRP_SIM_DEVICE_KEY", device_key, sizeof device_key) ||
		  env(e, "SSRP_SIM_TENANT_ID", tenant, sizeof tenant);
	free(e);
	return bad ? -1 : 0;
}

static int teardown(void **st)
{
	(void)st;
	const char *args[] = {"cloud", "stop", "--dir", dir, NULL};
	sim_run(ssrp_bin, args);
	sim_remove_work(work);
	return 0;
}

static ssrp_cloud_config *config(void)
{
	ssrp_cloud_config *cfg = NULL;
	if (ssrp_cloud_config_load(&cfg, sim_config))
		fail_msg("config: %s", ssrp_error_last());
	return cfg;
}

/* The device backs its key up as Windows does: DRS, device certificate. */
static void upload_key(void)
{
	ssrp_cloud_config *cfg = config();
	ssrp_http *h = NULL;
	ssrp_http_options ho = {.ca_file = cfg->ca_file,
				.connect_to = (const char *const *)cfg->connect_to,
				.cert_file = device_cert, .key_file = device_key};
	assert_int_equal(ssrp_http_new(&h, &ho), 0);
	char url[400], body[200];
	snprintf(url, sizeof url,
		 "https://enterpriseregistration.windows.net/manage/%s/device/%s?api-version=1.0",
		 tenant, device_id);
	snprintf(body, sizeof body, "{\"key\":\"%s\",\"kid\":\"{%s}\",\"vol\":\"OSV\"}", RP, KID);
	const char *hdrs[] = {"Content-Type: application/json", NULL};
	ssrp_http_req rq = {.method = "POST", .url = url, .headers = hdrs, .body = body,
			    .body_len = strlen(body)};
	ssrp_http_resp r;
	assert_int_equal(ssrp_http_request(h, &rq, &r), 0);
	assert_int_equal(r.status, 200);
	ssrp_http_resp_free(&r);
	ssrp_http_free(h);
	ssrp_cloud_config_free(cfg);
}

static ssrp_graph *person(const char *upn, const char *pw_file)
{
	ssrp_cloud_config *cfg = config();
	ssrp_recover_signin how = {.version = SSRP_RECOVER_SIGNIN_VERSION, .username = upn,
				   .password_file = pw_file};
	ssrp_graph_options opt = {.jitter_seed = 7, .deadline_ms = 120000};
	ssrp_graph *g = NULL;
	if (ssrp_recover_connect_with(&g, cfg, &how, &opt))
		fail_msg("connect: %s", ssrp_error_last());
	ssrp_cloud_config_free(cfg);
	return g;
}

static void make_owner(const char *upn)
{
	ssrp_cloud_config *cfg = config();
	ssrp_graph_auth auth = {.kind = SSRP_GRAPH_AUTH_PASSWORD, .username = admin,
				.password_file = admin_pw};
	ssrp_graph *g = NULL;
	assert_int_equal(ssrp_graph_new(&g, cfg, &auth, NULL), 0);
	ssrp_cloud_config_free(cfg);
	char *path = ssrp_graph_filter_eq("/v1.0/devices?$select=id", "deviceId", device_id);
	cJSON *o = NULL;
	if (ssrp_graph_get(g, path, &o))
		fail_msg("%s", ssrp_error_last());
	free(path);
	char oid[64], uid[64], ref[200];
	snprintf(oid, sizeof oid, "%s",
		 cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "value"), 0), "id")
			 ->valuestring);
	cJSON_Delete(o);
	snprintf(ref, sizeof ref, "/v1.0/users/%s?$select=id", upn);
	if (ssrp_graph_get(g, ref, &o))
		fail_msg("%s", ssrp_error_last());
	snprintf(uid, sizeof uid, "%s", cJSON_GetObjectItem(o, "id")->valuestring);
	cJSON_Delete(o);
	snprintf(ref, sizeof ref, "/v1.0/devices/%s/registeredOwners/$ref", oid);
	if (ssrp_graph_add_ref(g, ref, uid, NULL))
		fail_msg("%s", ssrp_error_last());
	ssrp_graph_free(g);
}

/* Graph's own answer when bob asks for the key by its id. */
static void graph_refuses(ssrp_graph *g)
{
	char pw[SSRP_RECOVERY_PASSWORD_LEN + 1];
	assert_int_equal(ssrp_recover_fetch_key(g, KID, pw), SSRP_E_REFUSED);
	assert_string_equal(pw, "");
	assert_non_null(strstr(ssrp_error_last(), "Graph refused GET /v1.0/informationProtection/"
						  "bitlocker/recoveryKeys/" KID));
	assert_non_null(strstr(ssrp_error_last(), "request-id"));
	assert_int_equal(ssrp_graph_last_error(g)->status, 403);
}

static void test_owner_and_stranger(void **st)
{
	(void)st;
	upload_key();
	ssrp_graph *a = person(alice, alice_pw), *b = person(bob, bob_pw);
	char upn[128];
	assert_int_equal(ssrp_recover_whoami(a, upn, sizeof upn), 0);
	assert_string_equal(upn, alice);

	/* before: nobody owns the device */
	ssrp_recover_list l = SSRP_RECOVER_LIST_INIT;
	ssrp_recover_choice c;
	assert_int_equal(ssrp_recover_list_devices(a, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(ssrp_recover_choose(&l, device_name, NULL, &c), SSRP_E_REFUSED);
	ssrp_recover_list_free(&l);
	graph_refuses(a);
	graph_refuses(b);

	make_owner(alice);

	assert_int_equal(ssrp_recover_list_devices(a, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.devices[0].name, device_name);
	assert_string_equal(l.devices[0].device_id, device_id);
	assert_int_equal(l.devices[0].n_keys, 1);
	assert_string_equal(l.devices[0].keys[0].id, KID);
	assert_true(strlen(l.devices[0].keys[0].created) >= 20);
	/* Graph writes the volumeType enum by member name. */
	assert_string_equal(l.devices[0].keys[0].volume_type, "operatingSystemVolume");
	assert_int_equal(ssrp_recover_choose(&l, device_name, NULL, &c), 0);
	assert_string_equal(c.key->id, KID);
	assert_int_equal(ssrp_recover_choose(&l, NULL, "5C1D2E3F", &c), 0);
	char pw[SSRP_RECOVERY_PASSWORD_LEN + 1];
	if (ssrp_recover_fetch_key(a, c.key->id, pw))
		fail_msg("%s", ssrp_error_last());
	assert_string_equal(pw, RP);
	ssrp_recover_list_free(&l);

	/* bob still owns nothing: refused here, and by Graph */
	assert_int_equal(ssrp_recover_list_devices(b, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(ssrp_recover_choose(&l, device_name, NULL, &c), SSRP_E_REFUSED);
	assert_non_null(strstr(ssrp_error_last(), "is not one of your devices"));
	assert_int_equal(ssrp_recover_choose(&l, NULL, "5c1d2e3f", &c), SSRP_E_REFUSED);
	ssrp_recover_list_free(&l);
	graph_refuses(b);
	ssrp_graph_free(a);
	ssrp_graph_free(b);
}

static void test_assoc_login(void **st)
{
	(void)st;
	char *text = sim_read_text(sim_config);
	cJSON *c = cJSON_Parse(text);
	free(text);
	char rt[700], cfg_path[700];
	snprintf(rt, sizeof rt, "%s/svc-refresh-token", work);
	snprintf(cfg_path, sizeof cfg_path, "%s/svc.json", work);
	cJSON_DeleteItemFromObject(c, "refresh_token_file");
	cJSON_AddStringToObject(c, "refresh_token_file", rt);
	text = cJSON_Print(c);
	cJSON_Delete(c);
	sim_write_text(cfg_path, text, 0600);
	free(text);
	const char *args[] = {"assoc", "login", "--config", cfg_path, "--username", svc,
			      "--password-file", svc_pw, NULL};
	assert_int_equal(sim_run(ssrp_bin, args), 0);
	struct stat sb;
	assert_int_equal(stat(rt, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	char *before = sim_read_text(rt);
	assert_non_null(before);

	ssrp_cloud_config *cfg = NULL;
	assert_int_equal(ssrp_cloud_config_load(&cfg, cfg_path), 0);
	ssrp_graph_auth auth = {.kind = SSRP_GRAPH_AUTH_REFRESH_TOKEN};
	ssrp_graph *g = NULL;
	assert_int_equal(ssrp_graph_new(&g, cfg, &auth, NULL), 0);
	ssrp_cloud_config_free(cfg);
	char upn[128];
	if (ssrp_recover_whoami(g, upn, sizeof upn))
		fail_msg("%s", ssrp_error_last());
	assert_string_equal(upn, svc);
	ssrp_graph_free(g);
	free(before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner_and_stranger),
		cmocka_unit_test(test_assoc_login),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
