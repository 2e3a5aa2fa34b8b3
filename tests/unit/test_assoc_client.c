/* The device's association client (escrow/assoc_client.c) without a
 * network: the parsers of the service's and Automation's answers, the
 * summary line, and the configuration checks made before anything is
 * sent. The calls over HTTPS are in integration/test_assoc_serve.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "escrow/assoc_client.h"
#include "escrow/config.h"
#include "ssrp/error.h"

#define DEV "0c0c0c0c-1111-4222-8333-444444444444"

static int parse_service(const char *text, ssrp_assoc_client_result *r)
{
	memset(r, 0, sizeof *r);
	return ssrp_assoc_client_parse_service(text, strlen(text), r);
}

static void test_service_answer(void **st)
{
	(void)st;
	ssrp_assoc_client_result r;
	const char *ok =
		"{\"deviceId\":\"" DEV "\",\"decisions\":["
		"{\"user\":\"CONTOSO\\\\alice\",\"upn\":\"alice@contoso.example\","
		"\"relation\":\"registeredOwners\",\"outcome\":\"added\",\"licence\":\"ok\","
		"\"licence_plan\":\"AAD_PREMIUM\",\"detail\":\"added as owner\"},"
		"{\"user\":\"carol\",\"outcome\":\"unknown-user\",\"licence\":null}]}";
	assert_int_equal(parse_service(ok, &r), SSRP_OK);
	assert_string_equal(r.device_id, DEV);
	assert_int_equal(r.n_decisions, 2);
	assert_int_equal(r.n_settled, 1);
	assert_string_equal(r.decisions[0].user, "CONTOSO\\alice");
	assert_string_equal(r.decisions[0].licence_plan, "AAD_PREMIUM");
	assert_string_equal(r.decisions[1].outcome, "unknown-user");
	assert_string_equal(r.decisions[1].upn, "");
	assert_string_equal(r.decisions[1].licence, "");
	char line[256];
	ssrp_assoc_client_summary(&r, line, sizeof line);
	assert_string_equal(line, "CONTOSO\\alice: added (licence ok AAD_PREMIUM); carol: "
				  "unknown-user (licence not-checked)");
	/* A short buffer is cut, never overrun. */
	char tiny[8];
	ssrp_assoc_client_summary(&r, tiny, sizeof tiny);
	assert_int_equal(strlen(tiny), 7);
	ssrp_assoc_client_result_free(&r);
	ssrp_assoc_client_result_free(&r); /* twice is fine */
}

static void test_service_answer_refused(void **st)
{
	(void)st;
	static const struct {
		const char *text, *says;
	} bad[] = {
		{"", "not a JSON object"},
		{"[]", "not a JSON object"},
		{"{\"decisions\":[]}", "\"deviceId\""},
		{"{\"deviceId\":\"" DEV "\"}", "\"decisions\""},
		{"{\"deviceId\":\"" DEV "\",\"decisions\":[1]}", "decision 1 is not an object"},
		{"{\"deviceId\":\"" DEV "\",\"decisions\":[{\"outcome\":\"added\"},{\"user\":5,"
		 "\"outcome\":\"added\"}]}",
		 "decision 2: \"user\" is not a string"},
		{"{\"deviceId\":\"" DEV "\",\"decisions\":[{\"user\":\"a\"}]}", "no \"outcome\""},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ssrp_assoc_client_result r;
		assert_int_equal(parse_service(bad[i].text, &r), SSRP_E_FORMAT);
		if (!strstr(ssrp_error_last(), bad[i].says))
			fail_msg("case %zu: '%s' does not say '%s'", i, ssrp_error_last(),
				 bad[i].says);
		assert_int_equal(r.n_decisions, 0);
		assert_null(r.decisions);
	}
	/* More decisions than a request can produce. */
	char text[8192];
	size_t n = (size_t)snprintf(text, sizeof text, "{\"deviceId\":\"x\",\"decisions\":[");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "%s{\"outcome\":\"added\"}",
				      i ? "," : "");
	snprintf(text + n, sizeof text - n, "]}");
	ssrp_assoc_client_result r;
	assert_int_equal(parse_service(text, &r), SSRP_E_FORMAT);
}

static void test_webhook_and_error_answers(void **st)
{
	(void)st;
	ssrp_assoc_client_result r;
	memset(&r, 0, sizeof r);
	const char *ok = "{\"JobIds\":[\"5b7a1c2e-0000-4000-8000-000000000001\"]}";
	assert_int_equal(ssrp_assoc_client_parse_webhook(ok, strlen(ok), &r), SSRP_OK);
	assert_string_equal(r.job_id, "5b7a1c2e-0000-4000-8000-000000000001");
	char line[64];
	ssrp_assoc_client_summary(&r, line, sizeof line);
	assert_string_equal(line, "job 5b7a1c2e-0000-4000-8000-000000000001 accepted");
	assert_int_equal(ssrp_assoc_client_parse_webhook("{\"JobIds\":[]}", 13, &r),
			 SSRP_E_FORMAT);
	assert_string_equal(r.job_id, "");

	char msg[128];
	const char *e = "{\"error\":{\"code\":\"OtherDevice\",\"message\":\"only itself\"}}";
	assert_int_equal(ssrp_assoc_client_parse_error(e, strlen(e), &r, msg, sizeof msg), SSRP_OK);
	assert_string_equal(r.error_code, "OtherDevice");
	assert_string_equal(msg, "only itself");
	const char *az = "{\"Message\":\"Webhook is expired\"}";
	assert_int_equal(ssrp_assoc_client_parse_error(az, strlen(az), &r, msg, sizeof msg), SSRP_OK);
	assert_string_equal(r.error_code, "");
	assert_string_equal(msg, "Webhook is expired");
	assert_int_equal(ssrp_assoc_client_parse_error("<html>", 6, &r, msg, sizeof msg),
			 SSRP_E_FORMAT);
	assert_string_equal(msg, "");
}

static void test_configuration_checked_first(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = NULL;
	assert_int_equal(ssrp_cloud_config_parse(&cfg,
						 "{\"tenant_id\":\"7e7e7e7e-0000-4000-8000-000000000001\"}",
						 "test"),
			 SSRP_OK);
	const char *users[] = {"CONTOSO\\alice"};
	ssrp_assoc_client_result r = SSRP_ASSOC_CLIENT_RESULT_INIT;
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	assert_int_equal(ssrp_assoc_client_send_service(cfg, &id, users, 1, NULL, NULL, &r),
			 SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "no device id"));
	snprintf(id.device_id, sizeof id.device_id, "%s", DEV);
	assert_int_equal(ssrp_assoc_client_send_service(cfg, &id, users, 1, NULL, NULL, &r),
			 SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "assoc.url"));
	assert_int_equal(ssrp_assoc_client_send_service(cfg, &id, users, 0, NULL, NULL, &r),
			 SSRP_E_INVALID);
	assert_int_equal(ssrp_assoc_client_send_webhook(cfg, &id, users, 1, NULL, &r),
			 SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "webhook_url_file"));
	assert_int_equal(ssrp_assoc_client_send_webhook(cfg, NULL, users, 1, NULL, &r),
			 SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "identity"));
	ssrp_cloud_config_free(cfg);

	assert_int_equal(ssrp_cloud_config_parse(&cfg,
						 "{\"tenant_id\":\"7e7e7e7e-0000-4000-8000-000000000001\","
						 "\"assoc\":{\"url\":\"http://plain.example/\"}}",
						 "test"),
			 SSRP_OK);
	assert_int_equal(ssrp_assoc_client_send_service(cfg, &id, users, 1, NULL, NULL, &r),
			 SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "https://"));
	ssrp_cloud_config_free(cfg);

	assert_int_equal(ssrp_cloud_config_parse(&cfg,
						 "{\"tenant_id\":\"7e7e7e7e-0000-4000-8000-000000000001\","
						 "\"assoc\":{\"url\":\"https://svc.example/\"}}",
						 "test"),
			 SSRP_OK);
	assert_int_equal(ssrp_assoc_client_send_service(cfg, &id, users, 1, NULL, NULL, &r),
			 SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "has no certificate"));
	ssrp_cloud_config_free(cfg);
}

/* Structs of a version this library does not know are refused before
 * anything is read or sent, and a result is left as it was. */
static void test_versions_checked(void **st)
{
	(void)st;
	ssrp_cloud_config *cfg = NULL;
	assert_int_equal(ssrp_cloud_config_parse(&cfg,
						 "{\"tenant_id\":\"7e7e7e7e-0000-4000-8000-000000000001\","
						 "\"assoc\":{\"url\":\"https://svc.example/\"}}",
						 "test"),
			 SSRP_OK);
	const char *users[] = {"CONTOSO\\alice"};
	ssrp_device_identity id = SSRP_DEVICE_IDENTITY_INIT;
	snprintf(id.device_id, sizeof id.device_id, "%s", DEV);
	ssrp_assoc_client_result r;
	memset(&r, 0x5a, sizeof r);
	r.version = SSRP_ASSOC_CLIENT_RESULT_VERSION + 1;
	ssrp_assoc_client_result before = r;
	assert_int_equal(ssrp_assoc_client_send_service(cfg, &id, users, 1, NULL, NULL, &r),
			 SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "ssrp_assoc_client_result version"));
	assert_memory_equal(&r, &before, sizeof r);
	assert_int_equal(ssrp_assoc_client_result_init(&r, 0), SSRP_E_INVALID);
	assert_int_equal(ssrp_assoc_client_result_init(&r, SSRP_ASSOC_CLIENT_RESULT_VERSION),
			 SSRP_OK);
	assert_int_equal(r.status, 0);
	assert_null(r.decisions);

	ssrp_retry_options o = SSRP_RETRY_OPTIONS_INIT;
	o.version = 0;
	assert_int_equal(ssrp_assoc_client_send_service(cfg, &id, users, 1, NULL, &o, &r),
			 SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "ssrp_retry_options version 0"));
	assert_int_equal(ssrp_retry_options_init(&o, SSRP_RETRY_OPTIONS_VERSION + 1),
			 SSRP_E_INVALID);
	id.version = SSRP_DEVICE_IDENTITY_VERSION + 1;
	assert_int_equal(ssrp_assoc_client_send_webhook(cfg, &id, users, 1, NULL, &r),
			 SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "ssrp_device_identity version"));
	ssrp_cloud_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_answer),
		cmocka_unit_test(test_service_answer_refused),
		cmocka_unit_test(test_webhook_and_error_answers),
		cmocka_unit_test(test_configuration_checked_first),
		cmocka_unit_test(test_versions_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
