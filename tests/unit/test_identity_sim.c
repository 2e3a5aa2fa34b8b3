/* hal/identity.h's portable backend against the device certificates the
 * simulated cloud issues (`ssrp sim cloud start`, the binary in $SSRP_BIN):
 * the demo tenant's configuration reads as a registered device; in a seeded
 * tenant of four devices started with --device-certs 3, every issued
 * certificate reads for its own device id and is refused for another's, a
 * device's key is refused for another device's certificate, and the fourth
 * device, which has no certificate, is refused naming the missing file. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "escrow/config.h"
#include "hal/identity.h"
#include "integration/sim_helpers.h"
#include "ssrp/error.h"

static const char *ssrp_bin;
static char work[256], dir[320], dir2[320], sim_config[600], device_dir[600], device_id[64];
static int started, started2;

#define SEED_TENANT "7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
/* device i: object id ...000i, deviceId ...100i */
#define SEED_OBJECT "0c0c0c0c-1d1d-4e4e-8f8f-00000000000"
#define SEED_DEVICE "0d0d0d0d-1e1e-4f4f-8a8a-00000000100"
#define SEED_DEVICES 4

static int setup(void **st)
{
	(void)st;
	ssrp_bin = sim_bin();
	if (!ssrp_bin || sim_make_work(work, sizeof work, "ssrp-identity-sim"))
		return -1;
	snprintf(dir, sizeof dir, "%s/cloud", work);
	char *env, *env2;
	if (sim_cloud_start(ssrp_bin, dir, NULL, &env))
		return -1;
	started = 1;
	char path[400];
	/* the seeded tenant */
	char seed[2048];
	int len = snprintf(seed, sizeof seed,
			   "{\"tenant\":{\"id\":\"" SEED_TENANT "\",\"domain\":\"contoso.example\"},"
			   "\"devices\":[");
	for (int i = 0; i < SEED_DEVICES; i++)
		len += snprintf(seed + len, sizeof seed - (size_t)len,
				"%s{\"id\":\"" SEED_OBJECT "%d\",\"deviceId\":\"" SEED_DEVICE
				"%d\",\"displayName\":\"PC-%d\",\"accountEnabled\":true}",
				i ? "," : "", i, i, i);
	snprintf(seed + len, sizeof seed - (size_t)len, "]}");
	snprintf(path, sizeof path, "%s/seed.json", work);
	sim_write_text(path, seed, 0600);
	snprintf(dir2, sizeof dir2, "%s/seeded", work);
	const char *args2[] = {"--state", path, "--device-certs", "3", NULL};
	if (sim_cloud_start(ssrp_bin, dir2, args2, &env2)) {
		free(env);
		return -1;
	}
	started2 = 1;
	snprintf(device_dir, sizeof device_dir, "%s/devices", dir2);
	int rc = !env || sim_env_value(env, "SSRP_SIM_CONFIG", sim_config, sizeof sim_config) ||
		 sim_env_value(env, "SSRP_SIM_DEVICE_ID", device_id, sizeof device_id);
	free(env);
	if (rc) {
		free(env2);
		return -1;
	}
	/* the seeded simulator's certificates: its cloud.env names the folder */
	rc = !env2 || sim_env_value(env2, "SSRP_SIM_DEVICE_CERT_DIR", device_dir, sizeof device_dir);
	free(env2);
	return rc ? -1 : 0;
}

static int teardown(void **st)
{
	(void)st;
	if (started) {
		const char *args[] = {"cloud", "stop", "--dir", dir, NULL};
		sim_run(ssrp_bin, args);
	}
	if (started2) {
		const char *args[] = {"cloud", "stop", "--dir", dir2, NULL};
		sim_run(ssrp_bin, args);
	}
	sim_remove_work(work);
	return 0;
}

/* The configuration's members as the agent hands them to hal/. */
static ssrp_identity_config from_config(const ssrp_cloud_config *c)
{
	ssrp_identity_config ic = {
		.version = SSRP_IDENTITY_CONFIG_VERSION,
		.tenant_id = c->tenant_id,
		.device_id = c->device_id,
		.cert_file = c->device_cert_file,
		.key_file = c->device_key_file,
		.join_type = c->device_join_type,
		.display_name = c->device_display_name,
		.primary_users = (const char *const *)c->device_primary_users,
	};
	return ic;
}

static void test_simulator_config(void **st)
{
	(void)st;
	ssrp_cloud_config *c = NULL;
	if (ssrp_cloud_config_load(&c, sim_config))
		fail_msg("loading %s: %s", sim_config, ssrp_error_last());
	ssrp_identity_config ic = from_config(c);
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	if (ssrp_identity_read(&ic, &id))
		fail_msg("the simulator's device: %s", ssrp_error_last());
	assert_int_equal(id.join, SSRP_JOIN_AZUREAD);
	assert_string_equal(id.device_id, device_id);
	assert_string_equal(id.tenant_id, c->tenant_id);
	assert_string_equal(id.cert, c->device_cert_file);
	assert_string_equal(id.key, c->device_key_file);

	char **users = NULL;
	size_t n = 9;
	assert_int_equal(ssrp_primary_users_read(&ic, &users, &n), SSRP_OK);
	size_t want = 0;
	for (char **p = c->device_primary_users; p && *p; p++)
		assert_string_equal(users[want++], *p);
	assert_int_equal(n, want);
	ssrp_primary_users_free(users);

	/* without its "device" member the same tenant is not registered */
	ic.device_id = ic.cert_file = ic.key_file = NULL;
	assert_int_equal(ssrp_identity_read(&ic, &id), SSRP_E_NOTFOUND);
	assert_non_null(strstr(ssrp_error_last(), "not registered"));
	ssrp_cloud_config_free(c);
}

static void test_every_issued_certificate(void **st)
{
	(void)st;
	DIR *d = opendir(device_dir);
	assert_non_null(d);
	char ids[8][64];
	int n = 0;
	for (struct dirent *e; (e = readdir(d)) && n < 8;) {
		size_t len = strlen(e->d_name);
		if (len == 36 + 4 && !strcmp(e->d_name + 36, ".pem")) {
			memcpy(ids[n], e->d_name, 36);
			ids[n++][36] = '\0';
		}
	}
	closedir(d);
	assert_int_equal(n, 3); /* --device-certs 3 of 4 devices */
	for (int i = 0; i < n; i++) {
		char cert[800], key[800], other_key[800];
		snprintf(cert, sizeof cert, "%s/%s.pem", device_dir, ids[i]);
		snprintf(key, sizeof key, "%s/%s.key", device_dir, ids[i]);
		snprintf(other_key, sizeof other_key, "%s/%s.key", device_dir, ids[(i + 1) % n]);
		ssrp_identity_config ic = {.version = SSRP_IDENTITY_CONFIG_VERSION, .device_id = ids[i], .cert_file = cert, .key_file = key};
		ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
		if (ssrp_identity_read(&ic, &id))
			fail_msg("device %s: %s", ids[i], ssrp_error_last());
		assert_string_equal(id.device_id, ids[i]);
		/* another device's id with this certificate */
		ic.device_id = ids[(i + 1) % n];
		assert_int_equal(ssrp_identity_read(&ic, &id), SSRP_E_INVALID);
		assert_non_null(strstr(ssrp_error_last(), cert));
		/* another device's key with this certificate */
		ic.device_id = ids[i];
		ic.key_file = other_key;
		assert_int_equal(ssrp_identity_read(&ic, &id), SSRP_E_BAD_KEY);
		assert_non_null(strstr(ssrp_error_last(), other_key));
	}
	/* the fourth device got no certificate */
	int have_last = 0;
	for (int i = 0; i < n; i++)
		have_last |= !strcmp(ids[i], SEED_DEVICE "3");
	assert_false(have_last);
	char cert[800], key[800];
	snprintf(cert, sizeof cert, "%s/%s.pem", device_dir, SEED_DEVICE "3");
	snprintf(key, sizeof key, "%s/%s.key", device_dir, SEED_DEVICE "3");
	ssrp_identity_config ic = {.version = SSRP_IDENTITY_CONFIG_VERSION, .device_id = SEED_DEVICE "3", .cert_file = cert, .key_file = key};
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	assert_int_equal(ssrp_identity_read(&ic, &id), SSRP_E_IO);
	assert_non_null(strstr(ssrp_error_last(), cert));
	assert_non_null(strstr(ssrp_error_last(), "does not exist"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simulator_config),
		cmocka_unit_test(test_every_issued_certificate),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
