/* What a device reports (escrow/device_report.c): the wire member checked
 * member by member, the service's cache (latest per device, bounded, its
 * file read back, garbage refused or skipped and counted), and the key
 * reads counted from an audit log (escrow/key_reads.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "escrow/device_report.h"
#include "escrow/key_reads.h"
#include "hal/mem.h"
#include "ssrp/error.h"

#define DEV_A "6b3f1c2e-0a1b-4c2d-8e3f-00112233aabb"
#define DEV_B "0f0e0d0c-1111-4222-8333-444444444444"
#define KID "{6A3C0000-1111-4222-8333-444444444444}"

static int parse(const char *json, ssrp_device_report *r)
{
	cJSON *v = cJSON_Parse(json);
	int rc = ssrp_device_report_parse(v, r);
	cJSON_Delete(v);
	return rc;
}

static void refused(const char *json, const char *want)
{
	ssrp_device_report r;
	assert_int_equal(parse(json, &r), SSRP_E_FORMAT);
	if (!strstr(ssrp_error_last(), want))
		fail_msg("'%s' does not say '%s'", ssrp_error_last(), want);
	assert_int_equal(r.n, 0);
}

static void test_wire(void **st)
{
	(void)st;
	ssrp_device_report r;
	assert_int_equal(parse("{\"state\":\"compliant\",\"verifiedAt\":1764900000,"
			       "\"protectors\":[\"6a3c0000-1111-4222-8333-444444444444\"]}",
			       &r),
			 SSRP_OK);
	assert_string_equal(r.state, "compliant");
	assert_int_equal(r.verified_at, 1764900000);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.protectors[0], KID); /* the volume's spelling */
	/* and back: what the agent sends parses to the same */
	cJSON *j = ssrp_device_report_json(&r);
	char *text = cJSON_PrintUnformatted(j);
	ssrp_device_report again;
	assert_int_equal(parse(text, &again), SSRP_OK);
	assert_memory_equal(&r, &again, sizeof r);
	cJSON_free(text);
	cJSON_Delete(j);

	refused("[]", "must be an object");
	refused("{\"state\":\"fine\",\"protectors\":[]}", "\"state\"");
	refused("{\"state\":\"compliant\"}", "\"protectors\"");
	refused("{\"state\":\"compliant\",\"protectors\":[\"{1234}\"]}", "protectors[0]");
	refused("{\"state\":\"compliant\",\"protectors\":[7]}", "protectors[0]");
	refused("{\"state\":\"compliant\",\"protectors\":[\"" KID "\",\"" KID "\"]}", "twice");
	refused("{\"state\":\"compliant\",\"verifiedAt\":-1,\"protectors\":[]}", "verifiedAt");
	refused("{\"state\":\"compliant\",\"verifiedAt\":1.5,\"protectors\":[]}", "verifiedAt");
	refused("{\"state\":\"compliant\",\"protectors\":[],\"x\":1}", "unknown member \"x\"");
	refused("{\"state\":\"compliant\",\"state\":\"compliant\",\"protectors\":[]}", "twice");
	/* a device's own id and receipt time are the service's, not the wire's */
	refused("{\"state\":\"compliant\",\"protectors\":[],\"deviceId\":\"" DEV_A "\"}",
		"unknown member");
	/* at most 32 */
	char many[2048] = "{\"state\":\"compliant\",\"protectors\":[";
	for (int i = 0; i < 33; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many),
			 "%s\"%08d-0000-4000-8000-000000000000\"", i ? "," : "", i);
	strcat(many, "]}");
	refused(many, "at most 32");
}

static ssrp_device_report make(const char *dev, int64_t at, const char *kid)
{
	ssrp_device_report r;
	memset(&r, 0, sizeof r);
	snprintf(r.device_id, sizeof r.device_id, "%s", dev);
	snprintf(r.state, sizeof r.state, "compliant");
	r.received_at = at;
	if (kid)
		snprintf(r.protectors[r.n++], sizeof r.protectors[0], "%s", kid);
	return r;
}

static void test_cache(void **st)
{
	(void)st;
	ssrp_device_reports c = {0};
	ssrp_device_report a = make(DEV_A, 10, KID), b = make(DEV_B, 20, NULL);
	assert_int_equal(ssrp_device_reports_put(&c, &a), SSRP_OK);
	assert_int_equal(ssrp_device_reports_put(&c, &b), SSRP_OK);
	a.received_at = 30;
	a.n = 0;
	assert_int_equal(ssrp_device_reports_put(&c, &a), SSRP_OK); /* replaces */
	assert_int_equal(c.n, 2);
	assert_string_equal(c.v[0]->device_id, DEV_B); /* sorted */
	const ssrp_device_report *f = ssrp_device_reports_find(&c, "6B3F1C2E-0A1B-4C2D-8E3F-00112233AABB");
	assert_non_null(f);
	assert_int_equal(f->received_at, 30);
	assert_int_equal(f->n, 0);
	assert_null(ssrp_device_reports_find(&c, "nope"));

	/* the file's text reads back the same */
	size_t len = 0, skipped = 9;
	char *text = ssrp_device_reports_text(&c, &len);
	assert_non_null(text);
	ssrp_device_reports back = {0};
	char why[200];
	assert_int_equal(ssrp_device_reports_parse(&back, text, len, "t", &skipped, why, sizeof why),
			 SSRP_OK);
	assert_int_equal(skipped, 0);
	assert_int_equal(back.n, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(back.v[i]->device_id, c.v[i]->device_id);
		assert_string_equal(back.v[i]->state, c.v[i]->state);
		assert_int_equal(back.v[i]->received_at, c.v[i]->received_at);
		assert_int_equal(back.v[i]->n, c.v[i]->n);
	}
	ssrp_free(text);
	ssrp_device_reports_free(&back);
	ssrp_device_reports_free(&c);
}

static void test_cache_file_faults(void **st)
{
	(void)st;
	ssrp_device_reports c = {0};
	size_t skipped = 0;
	char why[200];
	static const char *const garbage[] = {"", "not json {", "[]", "{\"version\":2,\"devices\":[]}",
					      "{\"version\":1}", "{\"version\":1,\"devices\":{}}"};
	for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++) {
		assert_int_equal(ssrp_device_reports_parse(&c, garbage[i], strlen(garbage[i]), "F",
							   &skipped, why, sizeof why),
				 SSRP_E_FORMAT);
		assert_non_null(strstr(ssrp_error_last(), "F is not a device report cache"));
		assert_int_equal(c.n, 0);
	}
	/* bad entries skipped and counted; a device named twice keeps its latest */
	const char *mixed =
		"{\"version\":1,\"devices\":["
		"{\"deviceId\":\"" DEV_A "\",\"receivedAt\":5,\"state\":\"compliant\",\"protectors\":[]},"
		"{\"deviceId\":\"not-a-guid\",\"receivedAt\":5,\"state\":\"compliant\",\"protectors\":[]},"
		"7,"
		"{\"deviceId\":\"" DEV_A "\",\"receivedAt\":9,\"state\":\"not-yet\",\"protectors\":[\"" KID "\"]},"
		"{\"deviceId\":\"" DEV_B "\",\"state\":\"compliant\",\"protectors\":[]}]}";
	assert_int_equal(ssrp_device_reports_parse(&c, mixed, strlen(mixed), "F", &skipped, why,
						   sizeof why),
			 SSRP_OK);
	assert_int_equal(skipped, 3);
	assert_non_null(strstr(why, "devices[1]"));
	assert_int_equal(c.n, 1);
	assert_int_equal(c.v[0]->received_at, 9);
	assert_string_equal(c.v[0]->state, "not-yet");
	ssrp_device_reports_free(&c);
	/* a missing file is an empty cache */
	assert_int_equal(ssrp_device_reports_load(&c, "/nonexistent/device-reports.json", &skipped,
						  why, sizeof why),
			 SSRP_OK);
	assert_int_equal(c.n, 0);
}

static void count(const char *text, ssrp_key_reads *kr)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	fputs(text, f);
	rewind(f);
	assert_int_equal(ssrp_key_reads_count_stream(f, 1000000000, 1800000000, kr), SSRP_OK);
	fclose(f);
}

static void test_key_reads(void **st)
{
	(void)st;
	ssrp_key_reads kr = SSRP_KEY_READS_INIT;
	count("{\"activityDisplayName\":\"Read BitLocker key\",\"activityDateTime\":\"2026-12-01T09:30:00Z\"}\n"
	      "{\"activityDisplayName\":\"Read BitLocker key\",\"activityDateTime\":\"2026-12-01T09:30:00.1234567+01:00\"}\r\n"
	      "{\"action\":\"Read BitLocker key\",\"time\":\"2026-11-01T00:00:00Z\"}\n"
	      "{\"activityDisplayName\":\"Read BitLocker key\",\"activityDateTime\":\"2001-01-01T00:00:00Z\"}\n"
	      "{\"activityDisplayName\":\"Read BitLocker key\",\"activityDateTime\":\"2099-01-01T00:00:00Z\"}\n"
	      "{\"activityDisplayName\":\"Delete BitLocker key\",\"activityDateTime\":\"2026-12-01T09:30:00Z\"}\n"
	      "\n   \n"
	      "not json\n"
	      "{\"activityDisplayName\":\"Read BitLocker key\"}\n"
	      "{\"activityDisplayName\":\"Read BitLocker key\",\"activityDateTime\":\"2026-12-01\"}\n"
	      "{\"id\":1}\n"
	      "{\"activityDisplayName\":\"Read BitLocker key\",\"activityDateTime\":\"2026-12-01T09:30:00Z\"} x\n"
	      "{\"activityDisplayName\":\"Read BitLocker key\",\"activityDateTime\":\"2026-12-02T09:30:00Z\"}",
	      &kr);
	assert_int_equal(kr.reads, 4); /* the last line has no newline */
	assert_int_equal(kr.reads_other, 2);
	assert_int_equal(kr.other, 1);
	assert_int_equal(kr.bad, 5);
	assert_int_equal(kr.first_bad, 9);
	assert_string_equal(kr.first_bad_why, "not a JSON object");

	/* a line longer than the limit is skipped, the next one still read */
	size_t big = SSRP_KEY_READS_MAX_LINE + 10;
	char *text = malloc(big + 200);
	assert_non_null(text);
	memset(text, 'x', big);
	strcpy(text + big, "\n{\"action\":\"Read BitLocker key\",\"time\":\"2026-11-01T00:00:00Z\"}\n");
	count(text, &kr);
	free(text);
	assert_int_equal(kr.bad, 1);
	assert_int_equal(kr.reads, 1);
	assert_int_equal(ssrp_key_reads_count("/nonexistent/audit.jsonl", 0, 1, &kr), SSRP_E_IO);
	/* counts without a version (not from SSRP_KEY_READS_INIT) are refused */
	ssrp_key_reads unversioned = {0};
	assert_int_equal(ssrp_key_reads_count("/nonexistent/audit.jsonl", 0, 1, &unversioned),
			 SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "SSRP_KEY_READS_INIT"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_file_faults),
		cmocka_unit_test(test_key_reads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
