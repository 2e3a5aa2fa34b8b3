/* The Device Registration Service's key list (escrow/drs_keys.c): the
 * simulator's and the camel-case shapes, times in ISO 8601 with any zone
 * and as Unix seconds, every refusal naming its member and leaving the
 * list empty, and the lookup by protector id in any spelling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "escrow/drs.h"
#include "ssrp/error.h"

#define KID_A "6b3f1c2e-0a1b-4c2d-8e3f-00112233aabb"
#define KID_B "0f0e0d0c-1111-4222-8333-444444444444"

static ssrp_drs_keys keys;

static int parse(const char *text)
{
	return ssrp_drs_keys_parse(&keys, text, strlen(text));
}

/* Refused with SSRP_E_FORMAT, the message holding want, nothing kept. */
static void refused(const char *text, const char *want)
{
	int rc = parse(text);
	if (rc != SSRP_E_FORMAT)
		fail_msg("'%s' gave %d, not SSRP_E_FORMAT", text, rc);
	if (!strstr(ssrp_error_last(), want))
		fail_msg("'%s': message '%s' lacks '%s'", text, ssrp_error_last(), want);
	assert_int_equal(keys.n, 0);
	assert_int_equal(keys.keys[0].kid[0], '\0');
}

static void test_simulator_shape(void **st)
{
	(void)st;
	assert_int_equal(parse("{\"keys\":[{\"kid\":\"" KID_A "\",\"creationtime\":"
			       "\"2026-12-05T03:00:00Z\",\"volumetype\":1},{\"kid\":\"" KID_B
			       "\",\"creationtime\":\"1970-01-01T00:00:00Z\",\"volumetype\":3}]}"),
			 SSRP_OK);
	assert_int_equal(keys.n, 2);
	assert_string_equal(keys.keys[0].kid, "{6B3F1C2E-0A1B-4C2D-8E3F-00112233AABB}");
	assert_int_equal(keys.keys[0].created, 1796439600);
	assert_int_equal(keys.keys[0].volume_type, 1);
	assert_string_equal(keys.keys[1].kid, "{0F0E0D0C-1111-4222-8333-444444444444}");
	assert_int_equal(keys.keys[1].created, 0);
	assert_int_equal(keys.keys[1].volume_type, 3);

	assert_int_equal(parse("{\"keys\":[]}"), SSRP_OK);
	assert_int_equal(keys.n, 0);
}

static void test_other_spellings(void **st)
{
	(void)st;
	/* camel case, braces, a fraction and a zone offset, members not read */
	assert_int_equal(parse("{\"keys\":[{\"kid\":\"{" KID_A "}\",\"creationTime\":"
			       "\"2024-02-29T12:00:00.1234567+02:00\",\"volumeType\":2,"
			       "\"extra\":[1]}],\"nextLink\":null}"),
			 SSRP_OK);
	assert_int_equal(keys.n, 1);
	assert_int_equal(keys.keys[0].created, 1709200800);
	assert_int_equal(keys.keys[0].volume_type, 2);
	/* Unix seconds */
	assert_int_equal(parse("{\"keys\":[{\"kid\":\"" KID_A "\",\"creationtime\":951868800,"
			       "\"volumetype\":1}]}"),
			 SSRP_OK);
	assert_int_equal(keys.keys[0].created, 951868800);
	/* a negative offset west of Greenwich */
	assert_int_equal(parse("{\"keys\":[{\"kid\":\"" KID_A "\",\"creationtime\":"
			       "\"2000-02-29T19:00:00-05:00\",\"volumetype\":1}]}"),
			 SSRP_OK);
	assert_int_equal(keys.keys[0].created, 951868800);
}

static void test_refusals(void **st)
{
	(void)st;
	refused("", "not JSON");
	refused("{\"keys\":[]} x", "not JSON");
	refused("[]", "not a JSON object");
	refused("{}", "no \"keys\"");
	refused("{\"keys\":{}}", "\"keys\" is not an array");
	refused("{\"keys\":[],\"keys\":[]}", "\"keys\" appears twice");
	refused("{\"keys\":[1]}", "\"keys[0]\" is not an object");
	refused("{\"keys\":[{\"creationtime\":0,\"volumetype\":1}]}", "\"keys[0]\" has no \"kid\"");
	refused("{\"keys\":[{\"kid\":\"x\",\"creationtime\":0,\"volumetype\":1}]}",
		"\"keys[0].kid\" is not a key protector id");
	refused("{\"keys\":[{\"kid\":7,\"creationtime\":0,\"volumetype\":1}]}",
		"\"keys[0].kid\" is not a key protector id");
	refused("{\"keys\":[{\"kid\":\"" KID_A "\",\"kid\":\"" KID_B
		"\",\"creationtime\":0,\"volumetype\":1}]}",
		"\"keys[0].kid\" appears twice");
	refused("{\"keys\":[{\"kid\":\"" KID_A "\",\"creationtime\":0,\"volumetype\":1},"
		"{\"kid\":\"{" KID_A "}\",\"creationtime\":0,\"volumetype\":1}]}",
		"\"keys[1].kid\" {6B3F1C2E-0A1B-4C2D-8E3F-00112233AABB} repeats \"keys[0].kid\"");
	refused("{\"keys\":[{\"kid\":\"" KID_A "\",\"volumetype\":1}]}",
		"\"keys[0]\" has no \"creationtime\"");
	refused("{\"keys\":[{\"kid\":\"" KID_A "\",\"creationtime\":0,\"creationTime\":0,"
		"\"volumetype\":1}]}",
		"both \"creationtime\" and \"creationTime\"");
	static const char *const bad_times[] = {
		"\"2026-12-05T03:00:00\"",  /* no zone */
		"\"2026-12-05 03:00:00Z\"", /* no T */
		"\"2023-02-29T00:00:00Z\"", /* not a leap year */
		"\"2026-13-01T00:00:00Z\"", "\"2026-12-05T24:00:00Z\"",
		"\"2026-12-05T03:00:00.Z\"", "\"2026-12-05T03:00:00+0200\"",
		"\"2026-12-05T03:00:00Zjunk\"", "\"1969-12-31T23:59:59Z\"",
		"\"\"",
	};
	for (size_t i = 0; i < sizeof bad_times / sizeof bad_times[0]; i++) {
		char text[256];
		snprintf(text, sizeof text,
			 "{\"keys\":[{\"kid\":\"" KID_A "\",\"creationtime\":%s,\"volumetype\":1}]}",
			 bad_times[i]);
		refused(text, "\"keys[0].creationtime\" is not an ISO 8601 time");
	}
	refused("{\"keys\":[{\"kid\":\"" KID_A "\",\"creationtime\":-1,\"volumetype\":1}]}",
		"\"keys[0].creationtime\" is not a whole, non-negative number");
	refused("{\"keys\":[{\"kid\":\"" KID_A "\",\"creationtime\":1.5,\"volumetype\":1}]}",
		"\"keys[0].creationtime\" is not a whole, non-negative number");
	refused("{\"keys\":[{\"kid\":\"" KID_A "\",\"creationtime\":true,\"volumetype\":1}]}",
		"\"keys[0].creationtime\" is neither a time string nor a number");
	refused("{\"keys\":[{\"kid\":\"" KID_A "\",\"creationtime\":0}]}",
		"\"keys[0]\" has no \"volumetype\"");
	static const char *const bad_types[] = {"0", "4", "1.5", "\"1\"", "null"};
	for (size_t i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++) {
		char text[256];
		snprintf(text, sizeof text,
			 "{\"keys\":[{\"kid\":\"" KID_A "\",\"creationtime\":0,\"volumetype\":%s}]}",
			 bad_types[i]);
		refused(text, "\"keys[0].volumetype\" is not 1, 2 or 3");
	}
	refused("{\"keys\":[{\"kid\":\"" KID_A "\",\"creationtime\":0,\"volumetype\":1,"
		"\"volumeType\":1}]}",
		"both \"volumetype\" and \"volumeType\"");

	/* the second entry bad: nothing of the first is kept */
	refused("{\"keys\":[{\"kid\":\"" KID_A "\",\"creationtime\":0,\"volumetype\":1},2]}",
		"\"keys[1]\" is not an object");

	const char nul[] = "{\"keys\":[]}\0";
	assert_int_equal(ssrp_drs_keys_parse(&keys, nul, sizeof nul - 1), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "NUL"));
	assert_int_equal(ssrp_drs_keys_parse(NULL, "{}", 2), SSRP_E_INVALID);
	assert_int_equal(ssrp_drs_keys_parse(&keys, NULL, 0), SSRP_E_INVALID);
}

static void test_limits(void **st)
{
	(void)st;
	/* 200 keys (Entra's most per device) parse; 201 do not */
	size_t cap = 128 * 210 + 32;
	char *text = malloc(cap);
	assert_non_null(text);
	for (int n = 200; n <= 201; n++) {
		size_t len = (size_t)snprintf(text, cap, "{\"keys\":[");
		for (int i = 0; i < n; i++)
			len += (size_t)snprintf(text + len, cap - len,
						"%s{\"kid\":\"6b3f1c2e-0a1b-4c2d-8e3f-%012x\","
						"\"creationtime\":%d,\"volumetype\":1}",
						i ? "," : "", i, i);
		len += (size_t)snprintf(text + len, cap - len, "]}");
		int rc = ssrp_drs_keys_parse(&keys, text, len);
		if (n == 200) {
			assert_int_equal(rc, SSRP_OK);
			assert_int_equal(keys.n, 200);
			assert_int_equal(keys.keys[199].created, 199);
		} else {
			assert_int_equal(rc, SSRP_E_FORMAT);
			assert_non_null(strstr(ssrp_error_last(), "201 entries, more than the 200"));
		}
	}
	/* more than 64 KiB */
	free(text);
	cap = 70 * 1024;
	text = malloc(cap);
	assert_non_null(text);
	memset(text, ' ', cap);
	memcpy(text, "{\"keys\":[]}", 11);
	assert_int_equal(ssrp_drs_keys_parse(&keys, text, cap), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "more than 65536"));
	free(text);
}

static void test_has(void **st)
{
	(void)st;
	assert_int_equal(parse("{\"keys\":[{\"kid\":\"" KID_A "\",\"creationtime\":0,"
			       "\"volumetype\":1}]}"),
			 SSRP_OK);
	assert_true(ssrp_drs_keys_has(&keys, "{6B3F1C2E-0A1B-4C2D-8E3F-00112233AABB}"));
	assert_true(ssrp_drs_keys_has(&keys, KID_A));
	assert_true(ssrp_drs_keys_has(&keys, "{" KID_A "}"));
	assert_false(ssrp_drs_keys_has(&keys, "{" KID_B "}"));
	assert_false(ssrp_drs_keys_has(&keys, "not a guid"));
	assert_false(ssrp_drs_keys_has(&keys, NULL));
	assert_false(ssrp_drs_keys_has(NULL, KID_A));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simulator_shape), cmocka_unit_test(test_other_spellings),
		cmocka_unit_test(test_refusals),	cmocka_unit_test(test_limits),
		cmocka_unit_test(test_has),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
