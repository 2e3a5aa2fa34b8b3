/* The Graph client's pure parts: OData string escaping and the $filter
 * path, the backoff schedule with a seeded jitter source, Retry-After
 * parsing, and the strict configuration loader with its secret files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "escrow/config.h"
#include "escrow/graph_client.h"
#include "hal/http.h"
#include "hal/mem.h"
#include "ssrp/error.h"
#include "tests/unit/test_tmpdir.h"

static void test_odata_escape(void **st)
{
	(void)st;
	const char *cases[][2] = {
		{"PC-0001", "PC-0001"},
		{"", ""},
		{"'", "''"},
		{"x' or displayName eq 'y", "x'' or displayName eq ''y"},
		{"O'Brien''s", "O''Brien''''s"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *e = ssrp_odata_escape(cases[i][0]);
		assert_non_null(e);
		assert_string_equal(e, cases[i][1]);
		ssrp_free(e);
	}
	assert_null(ssrp_odata_escape(NULL));
}

static void test_filter_path(void **st)
{
	(void)st;
	char *p = ssrp_graph_filter_eq("/v1.0/devices", "displayName", "a' or 'b");
	assert_string_equal(p, "/v1.0/devices?$filter=displayName%20eq%20%27a%27%27%20or%20%27%27b%27");
	ssrp_free(p);
	p = ssrp_graph_filter_eq("/v1.0/devices?$select=id", "deviceId", "d&x=1");
	assert_string_equal(p, "/v1.0/devices?$select=id&$filter=deviceId%20eq%20%27d%26x%3D1%27");
	ssrp_free(p);
}

static void test_backoff(void **st)
{
	(void)st;
	uint64_t a = 12345, b = 12345;
	unsigned seq_a[12], seq_b[12];
	for (unsigned i = 0; i < 12; i++) {
		seq_a[i] = ssrp_retry_backoff_ms(i + 1, 500, 30000, &a);
		seq_b[i] = ssrp_retry_backoff_ms(i + 1, 500, 30000, &b);
	}
	/* the same seed gives the same schedule */
	assert_memory_equal(seq_a, seq_b, sizeof seq_a);
	for (unsigned i = 0; i < 12; i++) {
		unsigned step = 500u << (i < 6 ? i : 6);
		if (step > 30000)
			step = 30000;
		assert_true(seq_a[i] >= step - step / 2);
		assert_true(seq_a[i] <= step);
	}
	/* another seed gives another schedule (jitter is real) */
	uint64_t c = 999;
	int differ = 0;
	for (unsigned i = 0; i < 12; i++)
		differ |= ssrp_retry_backoff_ms(i + 1, 500, 30000, &c) != seq_a[i];
	assert_true(differ);
	/* capped, never zero for a non-zero base */
	uint64_t d = 7;
	assert_true(ssrp_retry_backoff_ms(40, 500, 30000, &d) <= 30000);
	assert_true(ssrp_retry_backoff_ms(1, 1, 30000, &d) >= 1);
}

static void test_retry_after(void **st)
{
	(void)st;
	assert_true(ssrp_http_parse_retry_after("10") == 10.0);
	assert_true(ssrp_http_parse_retry_after(" 2.128\r\n") > 2.127 &&
		    ssrp_http_parse_retry_after("2.128") < 2.129);
	assert_true(ssrp_http_parse_retry_after("0") == 0.0);
	assert_true(ssrp_http_parse_retry_after("-1") < 0);
	assert_true(ssrp_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") < 0);
	assert_true(ssrp_http_parse_retry_after("5s") < 0);
	assert_true(ssrp_http_parse_retry_after("") < 0);
	assert_true(ssrp_http_parse_retry_after(NULL) < 0);
}

static void expect_refused(const char *json, const char *words)
{
	ssrp_cloud_config *c = (ssrp_cloud_config *)1;
	int rc = ssrp_cloud_config_parse(&c, json, "t.json");
	assert_int_equal(rc, SSRP_E_INVALID);
	assert_null(c);
	if (!strstr(ssrp_error_last(), words))
		fail_msg("message \"%s\" lacks \"%s\"", ssrp_error_last(), words);
}

static void test_config(void **st)
{
	(void)st;
	ssrp_cloud_config *c = NULL;
	assert_int_equal(ssrp_cloud_config_parse(&c, "{\"tenant_id\":\"t1\"}", "t.json"), 0);
	assert_string_equal(c->login_host, SSRP_HOST_LOGIN);
	assert_string_equal(c->graph_host, SSRP_HOST_GRAPH);
	assert_string_equal(c->drs_host, SSRP_HOST_DRS);
	assert_null(c->connect_to[0]);
	assert_null(c->ca_file);
	ssrp_cloud_config_free(c);

	const char *full =
		"{\"tenant_id\":\"t\",\"tenant_domain\":\"contoso.example\","
		"\"hosts\":{\"login\":\"l\",\"graph\":\"g\",\"drs\":\"d\"},\"ca_file\":\"/ca.pem\","
		"\"connect_to\":[\"g:443:127.0.0.1:1\",\"l:443:127.0.0.1:1\"],\"app_id\":\"a\","
		"\"app_secret_file\":\"/s\",\"public_client_id\":\"p\","
		"\"device\":{\"device_id\":\"dev\",\"cert_file\":\"/c\",\"key_file\":\"/k\"},"
		"\"webhook_url_file\":\"/w\"}";
	assert_int_equal(ssrp_cloud_config_parse(&c, full, "t.json"), 0);
	assert_string_equal(c->graph_host, "g");
	assert_string_equal(c->connect_to[1], "l:443:127.0.0.1:1");
	assert_null(c->connect_to[2]);
	assert_string_equal(c->device_key_file, "/k");
	assert_string_equal(c->webhook_url_file, "/w");
	ssrp_cloud_config_free(c);

	expect_refused("{\"tenant_id\":\"t\",\"app_secret\":\"x\"}", "unknown member \"app_secret\"");
	expect_refused("{\"tenant_id\":\"t\",\"hosts\":{\"grpah\":\"x\"}}",
		       "unknown member \"hosts.grpah\"");
	expect_refused("{\"tenant_id\":\"t\",\"device\":{\"id\":\"x\"}}",
		       "unknown member \"device.id\"");
	expect_refused("{\"tenant_domain\":\"x\"}", "\"tenant_id\" is required");
	expect_refused("{\"tenant_id\":5}", "\"tenant_id\" must be a non-empty string");
	expect_refused("{\"tenant_id\":\"\"}", "must be a non-empty string");
	expect_refused("{\"tenant_id\":\"t\",\"connect_to\":\"a:1:b:2\"}", "connect_to");
	expect_refused("{\"tenant_id\":\"t\",\"connect_to\":[\"nocolon\"]}", "connect_to[0]");
	expect_refused("{\"tenant_id\":\"t\",\"hosts\":[]}", "\"hosts\" must be an object");
	expect_refused("{\"tenant_id\":\"t\",\"app_cert_file\":\"/c\"}", "go together");
	expect_refused("{\"tenant_id\":\"t\",\"device\":{\"key_file\":\"/k\"}}", "go together");
	expect_refused("{\"tenant_id\":\"t\",\"device\":{\"cert_file\":\"/c\"}}", "go together");
	/* A certificate in a Windows store comes alone: its key stays there. */
	assert_int_equal(ssrp_cloud_config_parse(&c,
						 "{\"tenant_id\":\"t\",\"device\":{\"cert_file\":"
						 "\"LocalMachine\\\\MY\\\\0123456789abcdef0123456789"
						 "ABCDEF0123456789\"}}",
						 "t.json"),
			 0);
	assert_string_equal(c->device_cert_file,
			    "LocalMachine\\MY\\0123456789abcdef0123456789ABCDEF0123456789");
	assert_null(c->device_key_file);
	ssrp_cloud_config_free(c);
	expect_refused("[1]", "must be a JSON object");
	expect_refused("{\"tenant_id\":", "not valid JSON");
}

static void test_config_files(void **st)
{
	(void)st;
	char dir[256];
	assert_non_null(test_tmpdir(dir, sizeof dir, "graph-unit"));
	char path[300], secret[300];
	snprintf(path, sizeof path, "%s/c.json", dir);
	snprintf(secret, sizeof secret, "%s/secret", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "{\"tenant_id\":\"t\",\"app_secret_file\":\"%s\"}", secret);
	fclose(f);
	f = fopen(secret, "w");
	fputs("s3cret\n", f);
	fclose(f);

	ssrp_cloud_config *c = NULL;
	assert_int_equal(ssrp_cloud_config_load(&c, path), 0);
	char *s = NULL;
	size_t n = 0;
#ifndef _WIN32 /* Windows: who may read it is its DACL (tests/mingw/run_windows_build.sh) */
	chmod(secret, 0640);
	assert_int_equal(ssrp_cloud_config_secret(c->app_secret_file, &s, &n), SSRP_E_PERMISSION);
	assert_non_null(strstr(ssrp_error_last(), "chmod 600"));
	assert_null(s);
	chmod(secret, 0600);
	assert_int_equal(ssrp_cloud_config_secret(c->app_secret_file, &s, &n), 0);
	assert_string_equal(s, "s3cret");
	assert_int_equal(n, 6);
	ssrp_free_secret(s, n);
#endif
	ssrp_cloud_config_free(c);

	assert_int_equal(ssrp_cloud_config_secret(NULL, &s, &n), SSRP_E_INVALID);
	snprintf(path, sizeof path, "%s/missing.json", dir);
	assert_int_equal(ssrp_cloud_config_load(&c, path), SSRP_E_NOTFOUND);
	assert_non_null(strstr(ssrp_error_last(), "missing.json"));
	unlink(secret);
	snprintf(path, sizeof path, "%s/c.json", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_odata_escape),
		cmocka_unit_test(test_filter_path),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_config_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
