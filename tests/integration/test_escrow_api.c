/* The device's escrow and association client through the public calls only
 * (<ssrp/escrow.h>, <ssrp/assoc_client.h>), against the simulated cloud
 * (`ssrp-sim cloud start`, $SSRP_BIN) and the association service
 * (`ssrp-assocd`, $SSRP_ASSOCD_BIN) over HTTPS, as the demo device the
 * simulator's configuration names (its identity read through
 * ssrp_cloud_config_identity and ssrp_platform_read_identity):
 *   - a recovery password uploaded is listed among the keys the tenant
 *     holds for the device; deleted, it is listed no more;
 *   - a device certificate the simulator never issued is refused
 *     (SSRP_E_PERMISSION, HTTP 401), for an upload and a list;
 *   - results, key lists, options and identities of a version this library
 *     does not know are refused (SSRP_E_INVALID) before anything is sent,
 *     the caller's struct left as it was;
 *   - the device's primary user sent to ssrp-assocd is "added", and
 *     "already" on a second send;
 *   - the device asking about another device is refused (SSRP_E_REFUSED,
 *     403 OtherDevice). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <ssrp/assoc_client.h>
#include <ssrp/buf.h>
#include <ssrp/config.h>
#include <ssrp/error.h>
#include <ssrp/escrow.h>
#include <ssrp/platform.h>
#include <ssrp/retry.h>

#include "tests/integration/sim_helpers.h"

extern char **environ;

#define OTHER_DEVICE "0c0c0c0c-1111-4222-8333-444444444444"

static const char *ssrp_bin;
static char work[256], dir[512], sim_config[700], assocd_log[700];
static char bad_cert[700], bad_key[700];
static pid_t assocd_pid = -1;
static ssrp_cloud_config *cfg;
static ssrp_platform *plat;
static ssrp_identity_config idc = SSRP_IDENTITY_CONFIG_INIT;
static ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
static ssrp_retry_options quick = SSRP_RETRY_OPTIONS_INIT;

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* bytes from the kernel's generator */
static void random_bytes(void *out, size_t n)
{
	int fd = open("/dev/urandom", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, out, n), (ssize_t)n);
	close(fd);
}

/* A recovery password the service accepts: eight groups, each a multiple
 * of 11 below 720896. */
static void new_password(char out[SSRP_RECOVERY_PASSWORD_LEN + 1])
{
	uint16_t k[8];
	random_bytes(k, sizeof k);
	for (int i = 0; i < 8; i++)
		snprintf(out + 7 * i, 8, "%06u%s", 11u * k[i], i < 7 ? "-" : "");
	ssrp_memzero(k, sizeof k);
}

static void new_protector_id(char out[SSRP_PROTECTOR_ID_LEN + 1])
{
	uint8_t b[16];
	random_bytes(b, sizeof b);
	snprintf(out, SSRP_PROTECTOR_ID_LEN + 1,
		 "{%02X%02X%02X%02X-%02X%02X-4%01X%02X-8%01X%02X-%02X%02X%02X%02X%02X%02X}", b[0],
		 b[1], b[2], b[3], b[4], b[5], b[6] & 15, b[7], b[8] & 15, b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

/* ssrp-assocd on the simulator's configuration (its assoc.listen), until
 * it says it listens. */
static int start_assocd(void)
{
	const char *assocd = getenv("SSRP_ASSOCD_BIN");
	if (!assocd) {
		fprintf(stderr, "SSRP_ASSOCD_BIN must name the ssrp-assocd command\n");
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, assocd_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char *argv[] = {(char *)assocd, "--config", sim_config, NULL};
	int e = posix_spawn(&assocd_pid, assocd, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e)
		return -1;
	for (int i = 0; i < 3000; i++) {
		char *log = sim_read_text(assocd_log);
		int up = log && strstr(log, "listening");
		free(log);
		if (up)
			return 0;
		int st;
		if (waitpid(assocd_pid, &st, WNOHANG) == assocd_pid) {
			assocd_pid = -1;
			return -1;
		}
		sleep_ms(10);
	}
	return -1;
}

static int setup(void **st)
{
	(void)st;
	ssrp_bin = sim_bin();
	if (!ssrp_bin || sim_make_work(work, sizeof work, "ssrp-escrow-api"))
		return -1;
	snprintf(dir, sizeof dir, "%s/cloud", work);
	snprintf(assocd_log, sizeof assocd_log, "%s/assocd.log", work);
	char *env = NULL;
	if (sim_cloud_start(ssrp_bin, dir, NULL, &env) || !env ||
	    sim_env_value(env, "SSRP_SIM_CONFIG", sim_config, sizeof sim_config)) {
		free(env);
		return -1;
	}
	free(env);
	/* A device certificate no one the simulator trusts issued. */
	snprintf(bad_cert, sizeof bad_cert, "%s/unknown.pem", work);
	snprintf(bad_key, sizeof bad_key, "%s/unknown.key", work);
	const char *openssl[] = {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
				 "-subj", "/CN=" OTHER_DEVICE, "-keyout", bad_key, "-out", bad_cert,
				 NULL};
	if (sim_run("/usr/bin/openssl", openssl) != 0 || start_assocd() != 0)
		return -1;
	if (ssrp_cloud_config_load(&cfg, sim_config) || ssrp_cloud_config_identity(cfg, &idc) ||
	    ssrp_platform_open(&plat, NULL) || ssrp_platform_read_identity(plat, &idc, &id)) {
		fprintf(stderr, "%s\n", ssrp_error_last());
		return -1;
	}
	quick.backoff_base_ms = 100;
	quick.deadline_ms = 60000;
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	ssrp_platform_close(plat);
	ssrp_cloud_config_free(cfg);
	if (assocd_pid > 0) {
		kill(assocd_pid, SIGTERM);
		waitpid(assocd_pid, NULL, 0);
	}
	const char *args[] = {"cloud", "stop", "--dir", dir, NULL};
	sim_run(ssrp_bin, args);
	sim_remove_work(work);
	return 0;
}

static int listed(const char *kid)
{
	ssrp_drs_keys *keys = malloc(sizeof *keys);
	assert_non_null(keys);
	assert_int_equal(ssrp_drs_keys_init(keys, SSRP_DRS_KEYS_VERSION), SSRP_OK);
	ssrp_drs_result res = SSRP_DRS_RESULT_INIT;
	if (ssrp_drs_list_keys(cfg, &id, &quick, keys, &res))
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(res.status, 200);
	int has = ssrp_drs_keys_has(keys, kid);
	free(keys);
	return has;
}

static void test_escrow_listed_then_deleted(void **st)
{
	(void)st;
	char pw[SSRP_RECOVERY_PASSWORD_LEN + 1], kid[SSRP_PROTECTOR_ID_LEN + 1];
	new_password(pw);
	new_protector_id(kid);
	assert_false(listed(kid));
	ssrp_drs_result res;
	assert_int_equal(ssrp_drs_result_init(&res, SSRP_DRS_RESULT_VERSION), SSRP_OK);
	int rc = ssrp_drs_upload(cfg, &id, kid, pw, NULL, &quick, &res);
	ssrp_memzero(pw, sizeof pw);
	if (rc)
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(res.status, 200);
	assert_true(res.attempts >= 1);
	assert_true(listed(kid));

	const char *kids[] = {kid};
	size_t removed = 0;
	if (ssrp_drs_delete_keys(cfg, &id, kids, 1, &quick, &removed, &res))
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(res.status, 200);
	assert_int_equal(removed, 1);
	assert_false(listed(kid));
}

static void test_unknown_certificate_refused(void **st)
{
	(void)st;
	ssrp_device_identity stranger = id;
	snprintf(stranger.cert, sizeof stranger.cert, "%s", bad_cert);
	snprintf(stranger.key, sizeof stranger.key, "%s", bad_key);
	char pw[SSRP_RECOVERY_PASSWORD_LEN + 1], kid[SSRP_PROTECTOR_ID_LEN + 1];
	new_password(pw);
	new_protector_id(kid);
	ssrp_drs_result res = SSRP_DRS_RESULT_INIT;
	int rc = ssrp_drs_upload(cfg, &stranger, kid, pw, NULL, &quick, &res);
	assert_int_equal(rc, SSRP_E_PERMISSION);
	assert_int_equal(res.status, 401);
	assert_null(strstr(ssrp_error_last(), pw));
	ssrp_memzero(pw, sizeof pw);
	assert_non_null(strstr(ssrp_error_last(), "certificate was refused"));
	assert_false(listed(kid));

	ssrp_drs_keys *keys = malloc(sizeof *keys);
	assert_non_null(keys);
	*keys = (ssrp_drs_keys)SSRP_DRS_KEYS_INIT;
	assert_int_equal(ssrp_drs_list_keys(cfg, &stranger, &quick, keys, &res), SSRP_E_PERMISSION);
	assert_int_equal(res.status, 401);
	free(keys);
}

static void test_unknown_versions_refused(void **st)
{
	(void)st;
	char pw[SSRP_RECOVERY_PASSWORD_LEN + 1], kid[SSRP_PROTECTOR_ID_LEN + 1];
	new_password(pw);
	new_protector_id(kid);
	ssrp_drs_result res, before;
	memset(&res, 0x5a, sizeof res);
	res.version = SSRP_DRS_RESULT_VERSION + 1;
	before = res;
	assert_int_equal(ssrp_drs_upload(cfg, &id, kid, pw, NULL, &quick, &res), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "SSRP_DRS_RESULT_INIT"));
	assert_memory_equal(&res, &before, sizeof res);
	assert_int_equal(ssrp_drs_result_init(&res, 0), SSRP_E_INVALID);

	res = (ssrp_drs_result)SSRP_DRS_RESULT_INIT;
	ssrp_retry_options newer = quick;
	newer.version = SSRP_RETRY_OPTIONS_VERSION + 1;
	assert_int_equal(ssrp_drs_upload(cfg, &id, kid, pw, NULL, &newer, &res), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "ssrp_retry_options"));
	assert_int_equal(res.attempts, 0);
	ssrp_device_identity older = id;
	older.version = 0;
	assert_int_equal(ssrp_drs_upload(cfg, &older, kid, pw, NULL, &quick, &res), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "ssrp_device_identity"));
	assert_int_equal(res.attempts, 0);
	ssrp_memzero(pw, sizeof pw);

	ssrp_drs_keys *keys = calloc(1, sizeof *keys);
	assert_non_null(keys);
	keys->version = SSRP_DRS_KEYS_VERSION + 1;
	assert_int_equal(ssrp_drs_list_keys(cfg, &id, &quick, keys, &res), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "SSRP_DRS_KEYS_INIT"));
	assert_int_equal(res.attempts, 0);
	assert_int_equal(ssrp_drs_keys_init(keys, SSRP_DRS_KEYS_VERSION + 1), SSRP_E_INVALID);
	free(keys);
	assert_false(listed(kid));

	const char *users[] = {"CONTOSO\\alice"};
	ssrp_assoc_client_result r = SSRP_ASSOC_CLIENT_RESULT_INIT;
	r.version = SSRP_ASSOC_CLIENT_RESULT_VERSION + 1;
	assert_int_equal(ssrp_assoc_client_send_service(cfg, &id, users, 1, NULL, &quick, &r),
			 SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "SSRP_ASSOC_CLIENT_RESULT_INIT"));
	assert_int_equal(r.attempts, 0);
}

static void test_primary_user_added_then_already(void **st)
{
	(void)st;
	char **users = NULL;
	size_t n = 0;
	if (ssrp_platform_read_primary_users(plat, &idc, &users, &n, NULL))
		fail_msg("%s", ssrp_error_last());
	assert_int_equal(n, 1);
	assert_string_equal(users[0], "CONTOSO\\alice");
	ssrp_assoc_client_result r;
	assert_int_equal(ssrp_assoc_client_result_init(&r, SSRP_ASSOC_CLIENT_RESULT_VERSION),
			 SSRP_OK);
	static const char *const outcomes[] = {"added", "already"};
	for (int i = 0; i < 2; i++) {
		if (ssrp_assoc_client_send_service(cfg, &id, (const char *const *)users, n, NULL,
						   &quick, &r))
			fail_msg("%s", ssrp_error_last());
		assert_int_equal(r.status, 200);
		assert_string_equal(r.device_id, id.device_id);
		assert_int_equal(r.n_decisions, 1);
		assert_int_equal(r.n_settled, 1);
		assert_string_equal(r.decisions[0].user, "CONTOSO\\alice");
		assert_string_equal(r.decisions[0].relation, "registeredOwners");
		assert_string_equal(r.decisions[0].outcome, outcomes[i]);
		char line[400], want[64];
		ssrp_assoc_client_summary(&r, line, sizeof line);
		snprintf(want, sizeof want, "CONTOSO\\alice: %s", outcomes[i]);
		assert_non_null(strstr(line, want));
		ssrp_assoc_client_result_free(&r);
		assert_null(r.decisions);
	}
	ssrp_primary_users_free(users);
}

static void test_other_device_refused(void **st)
{
	(void)st;
	ssrp_device_identity other = id;
	snprintf(other.device_id, sizeof other.device_id, "%s", OTHER_DEVICE);
	const char *users[] = {"CONTOSO\\alice"};
	ssrp_assoc_client_result r = SSRP_ASSOC_CLIENT_RESULT_INIT;
	int rc = ssrp_assoc_client_send_service(cfg, &other, users, 1, NULL, &quick, &r);
	assert_int_equal(rc, SSRP_E_REFUSED);
	assert_int_equal(r.status, 403);
	assert_string_equal(r.error_code, "OtherDevice");
	assert_int_equal(r.n_decisions, 0);
	assert_non_null(strstr(ssrp_error_last(), "the association service refused"));
	ssrp_assoc_client_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_primary_user_added_then_already),
		cmocka_unit_test(test_other_device_refused),
		cmocka_unit_test(test_escrow_listed_then_deleted),
		cmocka_unit_test(test_unknown_certificate_refused),
		cmocka_unit_test(test_unknown_versions_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
