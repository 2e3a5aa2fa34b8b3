/* The client configuration's "device" and "agent" members
 * (escrow/config.c, escrow/config_agent.c): defaults, every member read,
 * and each refusal naming the member at fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "escrow/config.h"
#include "ssrp/error.h"

#define TENANT "\"tenant_id\":\"0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d\""

static ssrp_cloud_config *parse_ok(const char *json)
{
	ssrp_cloud_config *c = NULL;
	int rc = ssrp_cloud_config_parse(&c, json, "test.json");
	if (rc != SSRP_OK)
		fail_msg("%s refused: %s", json, ssrp_error_last());
	assert_non_null(c);
	return c;
}

/* Refused with SSRP_E_INVALID and a message naming origin and every word. */
static void refused(const char *json, ...)
{
	ssrp_cloud_config *c = (ssrp_cloud_config *)1;
	int rc = ssrp_cloud_config_parse(&c, json, "test.json");
	if (rc != SSRP_E_INVALID)
		fail_msg("%s: got %d (%s), expected a refusal", json, rc, ssrp_error_last());
	assert_null(c);
	const char *msg = ssrp_error_last();
	if (!strstr(msg, "test.json"))
		fail_msg("message \"%s\" does not name the file", msg);
	va_list ap;
	va_start(ap, json);
	for (const char *w; (w = va_arg(ap, const char *));)
		if (!strstr(msg, w))
			fail_msg("%s: message \"%s\" lacks \"%s\"", json, msg, w);
	va_end(ap);
}

static void test_agent_defaults(void **st)
{
	(void)st;
	ssrp_cloud_config *c = parse_ok("{" TENANT "}");
	const ssrp_agent_config *a = &c->agent;
	assert_null(a->volume);
	assert_null(a->tpm);
	assert_null(a->platform);
	assert_null(a->journal);
	assert_int_equal(a->pcr_mask, (1u << 7) | (1u << 11));
	assert_int_equal(a->association, SSRP_ASSOCIATION_DEFAULT);
	assert_int_equal(a->association_interval_s, 7ul * 24 * 3600);
	assert_true(a->escrow_before_protect);
	assert_true(a->rotate_after_recovery);
	assert_int_equal(a->verify_interval_s, 86400);
	assert_int_equal(a->key_retention_days, 90);
	assert_int_equal(a->rotate_after_days, 0);
	/* no device: nothing set, so the identity says "not registered" */
	assert_null(c->device_id);
	assert_null(c->device_cert_file);
	assert_null(c->device_join_type);
	assert_null(c->device_display_name);
	assert_null(c->device_primary_users);
	ssrp_cloud_config_free(c);
	/* an empty "agent" object keeps the defaults too */
	c = parse_ok("{" TENANT ",\"agent\":{}}");
	assert_int_equal(c->agent.pcr_mask, (1u << 7) | (1u << 11));
	assert_true(c->agent.escrow_before_protect);
	ssrp_cloud_config_free(c);
}

static void test_agent_members(void **st)
{
	(void)st;
	ssrp_cloud_config *c = parse_ok(
		"{" TENANT ",\"agent\":{\"volume\":\"sim:/var/lib/ssrp/os.img\",\"tpm\":\"swtpm:port=2321\","
		"\"platform\":\"windows:sccm_affinity=any\","
		"\"journal\":\"/var/lib/ssrp/agent.journal\",\"pcrs\":[0,7,23],"
		"\"association\":\"webhook\",\"association_interval_s\":3600,"
		"\"escrow_before_protect\":false,\"rotate_after_recovery\":false,"
		"\"volume_type\":\"FDV\",\"verify_interval_s\":3600,\"key_retention_days\":-1,"
		"\"rotate_after_days\":30}}");
	const ssrp_agent_config *a = &c->agent;
	assert_int_equal(a->verify_interval_s, 3600);
	assert_int_equal(a->key_retention_days, -1);
	assert_int_equal(a->rotate_after_days, 30);
	assert_string_equal(a->volume, "sim:/var/lib/ssrp/os.img");
	assert_string_equal(a->tpm, "swtpm:port=2321");
	assert_string_equal(a->platform, "windows:sccm_affinity=any");
	assert_string_equal(a->journal, "/var/lib/ssrp/agent.journal");
	assert_int_equal(a->pcr_mask, (1u << 0) | (1u << 7) | (1u << 23));
	assert_int_equal(a->association, SSRP_ASSOCIATION_WEBHOOK);
	assert_int_equal(a->association_interval_s, 3600);
	assert_false(a->escrow_before_protect);
	assert_false(a->rotate_after_recovery);
	assert_string_equal(a->volume_type, "FDV");
	ssrp_cloud_config_free(c);

	const char *modes[] = {"service", "webhook", "off"};
	ssrp_association_mode want[] = {SSRP_ASSOCIATION_SERVICE, SSRP_ASSOCIATION_WEBHOOK,
					SSRP_ASSOCIATION_OFF};
	for (int i = 0; i < 3; i++) {
		char json[160];
		snprintf(json, sizeof json, "{" TENANT ",\"agent\":{\"association\":\"%s\"}}",
			 modes[i]);
		c = parse_ok(json);
		assert_int_equal(c->agent.association, want[i]);
		ssrp_cloud_config_free(c);
	}
	/* a member given twice: the last one counts, nothing leaks */
	c = parse_ok("{" TENANT ",\"agent\":{\"volume\":\"sim:a\",\"volume\":\"sim:b\"}}");
	assert_string_equal(c->agent.volume, "sim:b");
	ssrp_cloud_config_free(c);
}

static void test_agent_refusals(void **st)
{
	(void)st;
	refused("{" TENANT ",\"agent\":[]}", "\"agent\"", "object", NULL);
	refused("{" TENANT ",\"agent\":{\"pcrs\":[24]}}", "agent.pcrs", NULL);
	refused("{" TENANT ",\"agent\":{\"pcrs\":[-1]}}", "agent.pcrs", NULL);
	refused("{" TENANT ",\"agent\":{\"pcrs\":[7.5]}}", "agent.pcrs", NULL);
	refused("{" TENANT ",\"agent\":{\"pcrs\":[]}}", "agent.pcrs", NULL);
	refused("{" TENANT ",\"agent\":{\"pcrs\":\"7\"}}", "agent.pcrs", NULL);
	refused("{" TENANT ",\"agent\":{\"pcrs\":[\"7\"]}}", "agent.pcrs", NULL);
	refused("{" TENANT ",\"agent\":{\"association\":\"sometimes\"}}", "agent.association",
		"service", NULL);
	refused("{" TENANT ",\"agent\":{\"association\":true}}", "agent.association", NULL);
	refused("{" TENANT ",\"agent\":{\"verify_interval_s\":0}}", "agent.verify_interval_s", NULL);
	refused("{" TENANT ",\"agent\":{\"verify_interval_s\":1.5}}", "agent.verify_interval_s",
		NULL);
	refused("{" TENANT ",\"agent\":{\"key_retention_days\":-2}}", "agent.key_retention_days",
		NULL);
	refused("{" TENANT ",\"agent\":{\"key_retention_days\":\"90\"}}",
		"agent.key_retention_days", NULL);
	refused("{" TENANT ",\"agent\":{\"rotate_after_days\":-1}}", "agent.rotate_after_days",
		NULL);
	refused("{" TENANT ",\"agent\":{\"association_interval_s\":59}}",
		"agent.association_interval_s", NULL);
	refused("{" TENANT ",\"agent\":{\"association_interval_s\":1e12}}",
		"agent.association_interval_s", NULL);
	refused("{" TENANT ",\"agent\":{\"association_interval_s\":\"1h\"}}",
		"agent.association_interval_s", NULL);
	refused("{" TENANT ",\"agent\":{\"escrow_before_protect\":1}}",
		"agent.escrow_before_protect", "true or false", NULL);
	refused("{" TENANT ",\"agent\":{\"rotate_after_recovery\":\"yes\"}}",
		"agent.rotate_after_recovery", NULL);
	refused("{" TENANT ",\"agent\":{\"volume_type\":\"USB\"}}", "agent.volume_type", NULL);
	refused("{" TENANT ",\"agent\":{\"volume\":\"\"}}", "agent.volume", "non-empty", NULL);
	refused("{" TENANT ",\"agent\":{\"tpm\":7}}", "agent.tpm", NULL);
	refused("{" TENANT ",\"agent\":{\"platform\":\"\"}}", "agent.platform", "non-empty", NULL);
	refused("{" TENANT ",\"agent\":{\"journal\":null}}", "agent.journal", NULL);
	refused("{" TENANT ",\"agent\":{\"volumes\":\"sim:x\"}}", "unknown member", "agent.volumes",
		NULL);
}

static void test_device_members(void **st)
{
	(void)st;
	ssrp_cloud_config *c = parse_ok(
		"{" TENANT ",\"device\":{\"device_id\":\"5b0e6c1d-2a3f-4e5d-8c7b-9a0f1e2d3c4b\","
		"\"cert_file\":\"/d/dev.pem\",\"key_file\":\"/d/dev.key\",\"join_type\":\"hybrid\","
		"\"display_name\":\"DESKTOP-1\",\"primary_users\":[\"CONTOSO\\\\alice\","
		"\"bob@contoso.example\"]}}");
	assert_string_equal(c->device_id, "5b0e6c1d-2a3f-4e5d-8c7b-9a0f1e2d3c4b");
	assert_string_equal(c->device_cert_file, "/d/dev.pem");
	assert_string_equal(c->device_key_file, "/d/dev.key");
	assert_string_equal(c->device_join_type, "hybrid");
	assert_string_equal(c->device_display_name, "DESKTOP-1");
	assert_non_null(c->device_primary_users);
	assert_string_equal(c->device_primary_users[0], "CONTOSO\\alice");
	assert_string_equal(c->device_primary_users[1], "bob@contoso.example");
	assert_null(c->device_primary_users[2]);
	ssrp_cloud_config_free(c);
	/* an empty list is a list: no primary users */
	c = parse_ok("{" TENANT ",\"device\":{\"primary_users\":[]}}");
	assert_non_null(c->device_primary_users);
	assert_null(c->device_primary_users[0]);
	ssrp_cloud_config_free(c);
	c = parse_ok("{" TENANT ",\"device\":{\"join_type\":\"registered\"}}");
	assert_string_equal(c->device_join_type, "registered");
	ssrp_cloud_config_free(c);
}

static void test_device_refusals(void **st)
{
	(void)st;
	refused("{" TENANT ",\"device\":{\"join_type\":\"domain\"}}", "device.join_type",
		"\"domain\"", NULL);
	refused("{" TENANT ",\"device\":{\"join_type\":\"\"}}", "device.join_type", NULL);
	refused("{" TENANT ",\"device\":{\"primary_users\":[\"\"]}}", "device.primary_users[0]",
		NULL);
	refused("{" TENANT ",\"device\":{\"primary_users\":[\"a\",7]}}", "device.primary_users[1]",
		NULL);
	refused("{" TENANT ",\"device\":{\"primary_users\":\"CONTOSO\\\\alice\"}}",
		"device.primary_users", "array", NULL);
	char json[700];
	char big[300];
	memset(big, 'u', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	snprintf(json, sizeof json, "{" TENANT ",\"device\":{\"primary_users\":[\"%s\"]}}", big);
	refused(json, "device.primary_users[0]", NULL);
	/* at most 32 users */
	char many[1024] = "{" TENANT ",\"device\":{\"primary_users\":[";
	for (int i = 0; i < 33; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), "%s\"u%d\"", i ? "," : "",
			 i);
	strcat(many, "]}}");
	refused(many, "device.primary_users", NULL);
	refused("{" TENANT ",\"device\":{\"cert_file\":\"/d/dev.pem\"}}", "device.cert_file",
		"device.key_file", NULL);
	refused("{" TENANT ",\"device\":{\"key_file\":\"/d/dev.key\"}}", "device.key_file", NULL);
	refused("{" TENANT ",\"device\":{\"device_id\":\"\"}}", "device.device_id", NULL);
	refused("{" TENANT ",\"device\":{\"display_name\":7}}", "device.display_name", NULL);
	refused("{" TENANT ",\"device\":{\"deviceid\":\"x\"}}", "unknown member", "device.deviceid",
		NULL);
	refused("{" TENANT ",\"device\":[]}", "\"device\"", "object", NULL);
	refused("{\"device\":{}}", "tenant_id", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agent_defaults),  cmocka_unit_test(test_agent_members),
		cmocka_unit_test(test_agent_refusals),  cmocka_unit_test(test_device_members),
		cmocka_unit_test(test_device_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
