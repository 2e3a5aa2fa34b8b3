/* The configuration's "assoc.serve" member (escrow/config_serve.c): the
 * defaults, values taken, and refusals naming the member. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "escrow/config.h"
#include "ssrp/error.h"

static ssrp_cloud_config *load(const char *serve)
{
	char text[2048];
	snprintf(text, sizeof text,
		 "{\"tenant_id\":\"7e7e7e7e-0000-4000-8000-000000000001\"%s%s%s}",
		 serve ? ",\"assoc\":{\"serve\":" : "", serve ? serve : "", serve ? "}" : "");
	ssrp_cloud_config *c = NULL;
	return ssrp_cloud_config_parse(&c, text, "test.json") ? NULL : c;
}

static void refused(const char *serve, const char *needle)
{
	ssrp_cloud_config *c = load(serve);
	if (c) {
		ssrp_cloud_config_free(c);
		fail_msg("accepted: %s", serve);
	}
	if (!strstr(ssrp_error_last(), needle))
		fail_msg("message '%s' does not name '%s'", ssrp_error_last(), needle);
}

static void test_defaults(void **st)
{
	(void)st;
	ssrp_cloud_config *c = load(NULL);
	assert_non_null(c);
	const ssrp_assoc_serve_limits *s = &c->assoc.serve;
	assert_int_equal(s->version, SSRP_ASSOC_SERVE_LIMITS_VERSION);
	assert_int_equal(s->handshake_timeout_s, 5);
	assert_int_equal(s->idle_timeout_s, 30);
	assert_int_equal(s->max_connections, 4096);
	assert_int_equal(s->per_address, 64);
	assert_int_equal(s->reserve, 512);
	assert_int_equal(s->queue_max, 20000);
	assert_int_equal(s->batch_max, 100);
	assert_int_equal(s->batch_wait_ms, 200);
	assert_int_equal(s->refusal_log_interval_s, 60);
	ssrp_cloud_config_free(c);
}

static void test_values(void **st)
{
	(void)st;
	ssrp_cloud_config *c = load("{\"handshake_timeout_s\":2,\"per_address\":8,"
				    "\"max_connections\":64,\"reserve\":16,\"batch_wait_ms\":0,"
				    "\"batch_max\":1}");
	assert_non_null(c);
	const ssrp_assoc_serve_limits *s = &c->assoc.serve;
	assert_int_equal(s->handshake_timeout_s, 2);
	assert_int_equal(s->per_address, 8);
	assert_int_equal(s->max_connections, 64);
	assert_int_equal(s->reserve, 16);
	assert_int_equal(s->batch_wait_ms, 0);
	assert_int_equal(s->batch_max, 1);
	assert_int_equal(s->idle_timeout_s, 30); /* the others keep their defaults */
	ssrp_cloud_config_free(c);
}

static void test_refusals(void **st)
{
	(void)st;
	refused("[]", "\"assoc.serve\" must be an object");
	refused("{\"per_adress\":8}", "unknown member \"assoc.serve.per_adress\"");
	refused("{\"per_address\":0}", "\"assoc.serve.per_address\" must be a whole number from 1");
	refused("{\"per_address\":2.5}", "assoc.serve.per_address");
	refused("{\"per_address\":\"8\"}", "assoc.serve.per_address");
	refused("{\"handshake_timeout_s\":-1}", "assoc.serve.handshake_timeout_s");
	refused("{\"batch_max\":101}", "from 1 to 100");
	refused("{\"max_connections\":64,\"reserve\":64}",
		"\"assoc.serve.reserve\" (64) must be below \"assoc.serve.max_connections\" (64)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
