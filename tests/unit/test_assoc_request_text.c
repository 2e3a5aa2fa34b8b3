/* What text a device's request may carry into the association service, and
 * what the audit log makes of any text: invalid UTF-8 and \u0000 refused
 * by the request parser with a message saying so; audit lines valid JSON
 * and valid UTF-8 (checked with iconv, not with ssrp's own validator)
 * whatever they are given; refusals of one address written at most once
 * per interval, with a count. */
#include <errno.h>
#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "escrow/assoc.h"
#include "escrow/audit.h"
#include "ssrp/error.h"

#define DEV "7a1c0de5-0000-4000-8000-000000000001"

/* UTF-8 by glibc's iconv: converting to UTF-32 fails on any invalid byte. */
static int valid_utf8(const char *s, size_t n)
{
	iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
	assert_true(cd != (iconv_t)-1);
	char *in = (char *)s;
	size_t left = n;
	int ok = 1;
	while (left && ok) {
		char out[1024], *o = out;
		size_t room = sizeof out;
		if (iconv(cd, &in, &left, &o, &room) == (size_t)-1 && errno != E2BIG)
			ok = 0;
	}
	iconv_close(cd);
	return ok;
}

static void refused(const char *json, size_t len, const char *needle)
{
	ssrp_assoc_request *r = NULL;
	int rc = ssrp_assoc_request_parse(&r, json, len);
	if (rc == 0) {
		ssrp_assoc_request_free(r);
		fail_msg("accepted: %.*s", (int)len, json);
	}
	assert_int_equal(rc, SSRP_E_FORMAT);
	assert_null(r);
	const char *m = ssrp_error_last();
	if (!strstr(m, needle))
		fail_msg("message '%s' does not say '%s'", m, needle);
	assert_true(valid_utf8(m, strlen(m)));
}

static void refused_s(const char *json, const char *needle)
{
	refused(json, strlen(json), needle);
}

static void test_invalid_utf8_refused(void **st)
{
	(void)st;
	/* a stray continuation byte, a truncated sequence, an overlong '/', a
	 * surrogate, a code point above U+10FFFF, 0xFF */
	const char *bad[] = {"\x80", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
			     "\xff"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char json[256];
		snprintf(json, sizeof json, "{\"deviceId\":\"" DEV "\",\"users\":[\"al%sice@x\"]}",
			 bad[i]);
		refused_s(json, "not valid UTF-8");
		snprintf(json, sizeof json,
			 "{\"deviceId\":\"" DEV "\",\"users\":[\"a@x\"],\"deviceName\":\"PC%s\"}",
			 bad[i]);
		refused_s(json, "not valid UTF-8");
		snprintf(json, sizeof json, "{\"deviceId\":\"" DEV "\",\"users\":[\"a@x\"],\"k%s\":1}",
			 bad[i]);
		refused_s(json, "not valid UTF-8");
	}
	/* where: the byte offset */
	refused_s("{\"deviceId\":\"" DEV "\",\"users\":[\"\xff\"]}", "byte 61");
	/* Valid UTF-8 beyond ASCII is a user like any other. */
	const char *ok = "{\"deviceId\":\"" DEV "\",\"users\":[\"j\xc3\xbcrgen@x\",\"\xe2\x82\xac@x\","
			 "\"\xf0\x9f\x98\x80@x\"]}";
	ssrp_assoc_request *r = NULL;
	assert_int_equal(ssrp_assoc_request_parse(&r, ok, strlen(ok)), 0);
	assert_string_equal(r->users[0], "j\xc3\xbcrgen@x");
	ssrp_assoc_request_free(r);
}

static void test_nul_escape_refused(void **st)
{
	(void)st;
	refused_s("{\"deviceId\":\"" DEV "\",\"users\":[\"alice@x\\u0000CONTOSO\\\\mallory\"]}",
		  "\\u0000");
	refused_s("{\"deviceId\":\"" DEV "\",\"users\":[\"a@x\"],\"deviceName\":\"PC\\u0000\"}",
		  "NUL");
	refused_s("{\"deviceId\":\"" DEV "\\u0000\",\"users\":[\"a@x\"]}", "\\u0000");
	refused_s("{\"deviceId\":\"" DEV "\",\"users\\u0000x\":[\"a@x\"]}", "\\u0000");
	/* An escaped backslash followed by the letters u0000 is text, not NUL. */
	const char *ok = "{\"deviceId\":\"" DEV "\",\"users\":[\"CONTOSO\\\\u0000\"]}";
	ssrp_assoc_request *r = NULL;
	assert_int_equal(ssrp_assoc_request_parse(&r, ok, strlen(ok)), 0);
	assert_string_equal(r->users[0], "CONTOSO\\u0000");
	ssrp_assoc_request_free(r);
	/* WebhookData: in the outer text, and in the RequestBody it carries. */
	const char *wh = "{\"WebhookName\":\"w\",\"RequestBody\":\"{\\\"deviceId\\\":\\\"" DEV
			 "\\\",\\\"users\\\":[\\\"a@x\\u0000b\\\"]}\"}";
	assert_int_equal(ssrp_assoc_webhook_parse(&r, wh, strlen(wh)), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "\\u0000"));
	const char *wh2 = "{\"WebhookName\":\"w\",\"RequestBody\":\"{\\\"deviceId\\\":\\\"" DEV
			  "\\\",\\\"users\\\":[\\\"a@x\\\\u0000b\\\"]}\"}";
	assert_int_equal(ssrp_assoc_webhook_parse(&r, wh2, strlen(wh2)), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "RequestBody"));
}

static void test_message_cut_on_characters(void **st)
{
	(void)st;
	/* An unknown member of 30 two-byte characters: the message quotes at
	 * most 40 bytes of it, never half a character. */
	char json[512];
	int n = snprintf(json, sizeof json, "{\"deviceId\":\"" DEV "\",\"users\":[\"a@x\"],\"x");
	for (int i = 0; i < 30; i++)
		n += snprintf(json + n, sizeof json - (size_t)n, "\xc3\xa9");
	snprintf(json + n, sizeof json - (size_t)n, "\":1}");
	refused_s(json, "unknown member");
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Every line valid UTF-8 and one JSON object; the number of lines. */
static int check_lines(const char *text)
{
	int lines = 0;
	for (const char *l = text; *l;) {
		const char *e = strchr(l, '\n');
		assert_non_null(e);
		if (!valid_utf8(l, (size_t)(e - l)))
			fail_msg("audit line %d is not UTF-8: %.*s", lines + 1, (int)(e - l), l);
		char *copy = strndup(l, (size_t)(e - l));
		cJSON *o = cJSON_Parse(copy);
		if (!cJSON_IsObject(o))
			fail_msg("audit line %d is not a JSON object: %s", lines + 1, copy);
		cJSON_Delete(o);
		free(copy);
		lines++;
		l = e + 1;
	}
	return lines;
}

static void test_audit_lines_stay_json(void **st)
{
	(void)st;
	char dir[] = "/tmp/ssrp-audit-text.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/audit.jsonl", dir);
	ssrp_audit *a = NULL;
	assert_int_equal(ssrp_audit_open(&a, path), 0);
	const char *nasty = "GET /\xff\xfe\xc0\xaf\xed\xa0\x80 \x01\x1b[31m\"\\ from 127.0.0.1";
	assert_int_equal(ssrp_audit_event(a, nasty, "refused", nasty, nasty), 0);
	ssrp_assoc_decision d = {.requester = nasty, .device_id = nasty, .device_name = nasty,
				 .user = nasty, .upn = nasty, .user_object_id = nasty,
				 .relation = "registeredOwners", .outcome = SSRP_ASSOC_FAILED,
				 .licence = SSRP_ASSOC_LICENCE_ERROR, .licence_plan = nasty,
				 .detail = nasty};
	assert_int_equal(ssrp_audit_decision(a, &d), 0);
	assert_int_equal(ssrp_audit_refusal(a, "192.0.2.\xff", nasty), 0);
	ssrp_audit_close(a);
	char *text = read_all(path);
	assert_int_equal(check_lines(text), 3);
	/* what could be kept was kept */
	assert_non_null(strstr(text, "from 127.0.0.1"));
	unlink(path);
	rmdir(dir);
}

static int count_of(const char *text, const char *address, long *count)
{
	int lines = 0;
	*count = 0;
	for (const char *l = text; *l;) {
		const char *e = strchr(l, '\n');
		char *copy = strndup(l, (size_t)(e - l));
		cJSON *o = cJSON_Parse(copy);
		const cJSON *ad = cJSON_GetObjectItemCaseSensitive(o, "address");
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "count");
		if (cJSON_IsString(ad) && !strcmp(ad->valuestring, address)) {
			lines++;
			*count += cJSON_IsNumber(c) ? (long)c->valuedouble : 0;
		}
		cJSON_Delete(o);
		free(copy);
		l = e + 1;
	}
	return lines;
}

static void test_refusals_rate_limited(void **st)
{
	(void)st;
	char dir[] = "/tmp/ssrp-audit-refusals.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/audit.jsonl", dir);
	ssrp_audit *a = NULL;
	assert_int_equal(ssrp_audit_open(&a, path), 0);
	ssrp_audit_set_refusal_interval(a, 1);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ssrp_audit_refusal(a, "192.0.2.1", "no client certificate"), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(ssrp_audit_refusal(a, "192.0.2.2", "no client certificate"), 0);
	long count;
	char *text = read_all(path);
	assert_int_equal(check_lines(text), 2); /* the first of each address, at once */
	assert_int_equal(count_of(text, "192.0.2.1", &count), 1);
	assert_int_equal(count, 1);
	/* Within the interval nothing more is written; after it, the count. */
	assert_int_equal(ssrp_audit_flush_refusals(a, 0), 0);
	assert_int_equal(check_lines(read_all(path)), 2);
	struct timespec ts = {1, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	assert_int_equal(ssrp_audit_flush_refusals(a, 0), 0);
	text = read_all(path);
	assert_int_equal(check_lines(text), 4);
	assert_int_equal(count_of(text, "192.0.2.1", &count), 2);
	assert_int_equal(count, 1000);
	assert_int_equal(count_of(text, "192.0.2.2", &count), 2);
	assert_int_equal(count, 10);
	/* A new interval starts with a line again; close writes what is counted. */
	assert_int_equal(ssrp_audit_refusal(a, "192.0.2.1", "again"), 0);
	assert_int_equal(ssrp_audit_refusal(a, "192.0.2.1", "again"), 0);
	ssrp_audit_close(a);
	text = read_all(path);
	assert_int_equal(check_lines(text), 6);
	assert_int_equal(count_of(text, "192.0.2.1", &count), 4);
	assert_int_equal(count, 1002);
	unlink(path);
	rmdir(dir);
}

static void test_many_addresses_bounded(void **st)
{
	(void)st;
	char dir[] = "/tmp/ssrp-audit-many.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/audit.jsonl", dir);
	ssrp_audit *a = NULL;
	assert_int_equal(ssrp_audit_open(&a, path), 0);
	/* 5,000 addresses, 3 refusals each, in one interval: at most two lines
	 * per tracked address (1023), the rest under "*". */
	char ip[64];
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < 5000; i++) {
			snprintf(ip, sizeof ip, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
			assert_int_equal(ssrp_audit_refusal(a, ip, "no client certificate"), 0);
		}
	ssrp_audit_close(a);
	FILE *f = fopen(path, "r");
	int lines = 0, c;
	while ((c = fgetc(f)) != EOF)
		lines += c == '\n';
	fclose(f);
	assert_true(lines <= 2 * 1024);
	assert_true(lines >= 1024);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid_utf8_refused),
		cmocka_unit_test(test_nul_escape_refused),
		cmocka_unit_test(test_message_cut_on_characters),
		cmocka_unit_test(test_audit_lines_stay_json),
		cmocka_unit_test(test_refusals_rate_limited),
		cmocka_unit_test(test_many_addresses_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
