/* The simulated cloud's fault scripts and early-retry tracker
 * (sim/cloud/faults.h): the parser, its error messages, the exact
 * sequence of decisions a script makes, and whose retries the tracker
 * keeps apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sim/cloud/faults.h"
#include "ssrp/error.h"

static cloud_faults *script(const char *spec)
{
	cloud_faults *f = NULL;
	assert_int_equal(cloud_faults_new(&f), SSRP_OK);
	if (cloud_faults_set(f, spec) != SSRP_OK)
		fail_msg("'%s' did not parse: %s", spec, ssrp_error_last());
	return f;
}

static cloud_fault decide(cloud_faults *f, const char *method, const char *subject)
{
	cloud_fault out;
	cloud_faults_decide(f, method, subject, &out);
	return out;
}

/* The parse error for spec must mention every one of the words. */
static void expect_error(const char *spec, const char *w1, const char *w2)
{
	cloud_faults *f = NULL;
	assert_int_equal(cloud_faults_new(&f), SSRP_OK);
	int rc = cloud_faults_set(f, spec);
	if (rc != SSRP_E_INVALID)
		fail_msg("'%s' parsed (rc %d) but should not", spec, rc);
	const char *msg = ssrp_error_last();
	if (!strstr(msg, w1) || (w2 && !strstr(msg, w2)))
		fail_msg("error for '%s' is '%s': lacks '%s'%s%s", spec, msg, w1, w2 ? " or " : "",
			 w2 ? w2 : "");
	assert_int_equal(cloud_faults_rule_count(f), 0);
	cloud_faults_free(f);
}

static void test_empty_injects_nothing(void **st)
{
	(void)st;
	cloud_faults *f = script(NULL);
	assert_int_equal(cloud_faults_rule_count(f), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(decide(f, "GET", "graph/v1.0/users").kind, CLOUD_FAULT_NONE);
	assert_int_equal(cloud_faults_set(f, "  ;  ; "), SSRP_OK);
	assert_int_equal(cloud_faults_rule_count(f), 0);
	cloud_faults_free(f);
}

static void test_nth_request(void **st)
{
	(void)st;
	cloud_faults *f = script("graph/v1.0/devices*:429:2@3");
	assert_int_equal(decide(f, "GET", "graph/v1.0/devices").kind, CLOUD_FAULT_NONE);
	/* other paths do not count */
	assert_int_equal(decide(f, "GET", "graph/v1.0/users").kind, CLOUD_FAULT_NONE);
	assert_int_equal(decide(f, "GET", "graph/v1.0/devices(deviceId='x')").kind,
			 CLOUD_FAULT_NONE);
	cloud_fault x = decide(f, "POST", "graph/v1.0/devices/abc/registeredOwners/$ref");
	assert_int_equal(x.kind, CLOUD_FAULT_STATUS);
	assert_int_equal(x.status, 429);
	assert_string_equal(x.retry_after, "2");
	assert_string_equal(x.label, "429:2");
	assert_int_equal(x.rule, 1);
	for (int i = 0; i < 10; i++)
		assert_int_equal(decide(f, "GET", "graph/v1.0/devices").kind, CLOUD_FAULT_NONE);
	cloud_faults_free(f);
}

static void test_ranges_and_every(void **st)
{
	(void)st;
	cloud_faults *f = script("login/*:503@2-3; drs/*:reset@4+; webhook/webhooks:500");
	int got[6];
	for (int i = 0; i < 6; i++)
		got[i] = decide(f, "POST", "login/t/oauth2/v2.0/token").status;
	int want[6] = {0, 503, 503, 0, 0, 0};
	assert_memory_equal(got, want, sizeof got);
	assert_string_equal(decide(f, "POST", "login/x").retry_after, ""); /* 503: none unless given */
	for (int i = 1; i <= 6; i++)
		assert_int_equal(decide(f, "POST", "drs/manage/t/device/d").kind,
				 i >= 4 ? CLOUD_FAULT_RESET : CLOUD_FAULT_NONE);
	for (int i = 0; i < 3; i++)
		assert_int_equal(decide(f, "POST", "webhook/webhooks").status, 500);
	cloud_faults_free(f);
}

static void test_kinds(void **st)
{
	(void)st;
	cloud_faults *f = script("a:latency:250; b:slowbody:800; c:truncate; d:reset; e:504:7; "
				 "f:429:2.128; g:429:none; h:429");
	cloud_fault x = decide(f, "GET", "a");
	assert_int_equal(x.kind, CLOUD_FAULT_LATENCY);
	assert_int_equal(x.ms, 250);
	assert_string_equal(x.label, "latency:250");
	x = decide(f, "GET", "b");
	assert_int_equal(x.kind, CLOUD_FAULT_SLOWBODY);
	assert_int_equal(x.ms, 800);
	assert_int_equal(decide(f, "GET", "c").kind, CLOUD_FAULT_TRUNCATE);
	assert_int_equal(decide(f, "GET", "d").kind, CLOUD_FAULT_RESET);
	x = decide(f, "GET", "e");
	assert_int_equal(x.status, 504);
	assert_string_equal(x.retry_after, "7");
	assert_string_equal(decide(f, "GET", "f").retry_after, "2.128");
	assert_string_equal(decide(f, "GET", "g").retry_after, "");
	assert_string_equal(decide(f, "GET", "g").label, "429");
	assert_string_equal(decide(f, "GET", "h").retry_after, "1"); /* Graph always says when */
	cloud_faults_free(f);
}

static void test_glob_and_method(void **st)
{
	(void)st;
	cloud_faults *f = script("POST graph/*/$batch:502; GRAPH/V1.0/USERS/*@CONTOSO.EXAMPLE:500");
	assert_int_equal(decide(f, "GET", "graph/v1.0/$batch").kind, CLOUD_FAULT_NONE);
	assert_int_equal(decide(f, "POST", "graph/v1.0/$batch").status, 502);
	assert_int_equal(decide(f, "GET", "graph/v1.0/users/alice@contoso.example").status, 500);
	assert_int_equal(decide(f, "GET", "graph/v1.0/users/alice@fabrikam.example").kind,
			 CLOUD_FAULT_NONE);
	cloud_faults_free(f);
}

static void test_first_rule_wins_all_count(void **st)
{
	(void)st;
	/* Both rules see every request; rule 2 fires on its own 2nd match
	 * even though rule 1 won that request's predecessor. */
	cloud_faults *f = script("*:503@1; graph/*:429@2");
	cloud_fault a = decide(f, "GET", "graph/v1.0/users");
	cloud_fault b = decide(f, "GET", "graph/v1.0/users");
	assert_int_equal(a.status, 503);
	assert_int_equal(a.rule, 1);
	assert_int_equal(b.status, 429);
	assert_int_equal(b.rule, 2);
	cloud_faults_free(f);
	f = script("*:503@1; graph/*:429@1");
	assert_int_equal(decide(f, "GET", "graph/x").status, 503); /* both fire: the first wins */
	assert_int_equal(decide(f, "GET", "graph/x").kind, CLOUD_FAULT_NONE);
	cloud_faults_free(f);
}

static void test_rate_is_deterministic(void **st)
{
	(void)st;
	cloud_faults *a = script("*:503@rate=0.1,seed=42");
	cloud_faults *b = script("*:503@rate=0.1,seed=42");
	cloud_faults *c = script("*:503@rate=0.1,seed=43");
	int hits = 0, differs = 0;
	for (int i = 0; i < 10000; i++) {
		int x = decide(a, "GET", "graph/x").kind != CLOUD_FAULT_NONE;
		int y = decide(b, "GET", "graph/y").kind != CLOUD_FAULT_NONE;
		int z = decide(c, "GET", "graph/x").kind != CLOUD_FAULT_NONE;
		assert_int_equal(x, y);
		hits += x;
		differs += x != z;
	}
	/* 10 % of 10000, give or take 4 standard deviations (30 each). */
	assert_in_range(hits, 880, 1120);
	assert_true(differs > 0);
	cloud_faults_free(a);
	cloud_faults_free(b);
	cloud_faults_free(c);

	cloud_faults *never = script("*:500@rate=0"), *always = script("*:500@rate=1");
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(decide(never, "GET", "x").kind, CLOUD_FAULT_NONE);
		assert_int_equal(decide(always, "GET", "x").status, 500);
	}
	cloud_faults_free(never);
	cloud_faults_free(always);

	/* The same script set again starts the same sequence again. */
	cloud_faults *r = script("*:503@rate=0.5,seed=7");
	int first[64], again[64];
	for (int i = 0; i < 64; i++)
		first[i] = decide(r, "GET", "x").kind;
	assert_int_equal(cloud_faults_set(r, "*:503@rate=0.5,seed=7"), SSRP_OK);
	for (int i = 0; i < 64; i++)
		again[i] = decide(r, "GET", "x").kind;
	assert_memory_equal(first, again, sizeof first);
	cloud_faults_free(r);
}

static void test_parse_errors_name_the_part(void **st)
{
	(void)st;
	expect_error("graph/*", "rule 1", "no ':'");
	expect_error("graph/*:418", "unknown kind '418'", "rule 1");
	expect_error("a:429; b:latency", "rule 2", "latency needs milliseconds");
	expect_error("a:latency:fast", "latency needs milliseconds", "fast");
	expect_error("a:latency:999999999", "at most", NULL);
	expect_error("a:reset:5", "reset takes no argument", NULL);
	expect_error("a:429:soon", "bad Retry-After 'soon'", NULL);
	expect_error("a:503@0", "@0", NULL);
	expect_error("a:503@5-2", "bad range '@5-2'", NULL);
	expect_error("a:503@rate=2", "bad rate '2'", NULL);
	expect_error("a:503@rate=0.5,salt=1", "seed=N", "salt=1");
	expect_error("a:503@", "nothing after it", NULL);
	expect_error(":503", "empty pattern", NULL);
	expect_error("get a:503", "bad method 'get'", NULL);
	expect_error("a:503:1:2", "too many ':'", NULL);
	expect_error("a:429:", "empty argument", NULL);
}

static void test_failed_set_keeps_old_script(void **st)
{
	(void)st;
	cloud_faults *f = script("x:500@2");
	assert_int_equal(decide(f, "GET", "x").kind, CLOUD_FAULT_NONE);
	assert_int_equal(cloud_faults_set(f, "x:500; y:bogus"), SSRP_E_INVALID);
	assert_int_equal(cloud_faults_rule_count(f), 1);
	/* the counter went on: this is the 2nd match */
	assert_int_equal(decide(f, "GET", "x").status, 500);
	/* a successful set resets counters */
	assert_int_equal(cloud_faults_set(f, "x:500@2"), SSRP_OK);
	assert_int_equal(decide(f, "GET", "x").kind, CLOUD_FAULT_NONE);
	assert_int_equal(decide(f, "GET", "x").status, 500);
	assert_int_equal(cloud_faults_set(f, ""), SSRP_OK);
	assert_int_equal(decide(f, "GET", "x").kind, CLOUD_FAULT_NONE);
	cloud_faults_free(f);
}

static void test_early_retry(void **st)
{
	(void)st;
	cloud_retry_tracker *t = NULL;
	assert_int_equal(cloud_retry_tracker_new(&t), SSRP_OK);
	const char *k = "auth:1234 GET graph.microsoft.com/v1.0/users";
	assert_false(cloud_retry_is_early(t, k, 1000));
	cloud_retry_note(t, k, 1000, "2");
	assert_true(cloud_retry_is_early(t, k, 1001));
	assert_true(cloud_retry_is_early(t, k, 2999));
	assert_false(cloud_retry_is_early(t, k, 3000));
	assert_false(cloud_retry_is_early(t, "auth:5678 GET graph.microsoft.com/v1.0/users", 1500));
	cloud_retry_note(t, k, 5000, "0.5");
	assert_true(cloud_retry_is_early(t, k, 5499));
	assert_false(cloud_retry_is_early(t, k, 5500));
	cloud_retry_note(t, k, 6000, "soon"); /* not a number: ignored */
	assert_false(cloud_retry_is_early(t, k, 6001));
	/* many callers: the table forgets old entries but never misfires */
	char key[64];
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof key, "ip:%d GET /x", i);
		cloud_retry_note(t, key, 10000, "1");
	}
	assert_true(cloud_retry_is_early(t, "ip:19999 GET /x", 10500));
	assert_false(cloud_retry_is_early(t, "ip:19999 GET /x", 11000));
	cloud_retry_tracker_free(t);
}

/* The key of a POST to the token endpoint from 127.0.0.1 with this form
 * body (and an Authorization header when auth is not NULL). */
static void token_key(char *out, size_t cap, const char *form, const char *auth)
{
	cloud_request rq;
	memset(&rq, 0, sizeof rq);
	rq.method = "POST";
	rq.host = "login.microsoftonline.com";
	rq.path = "/5a5a5a5a-0000-4000-8000-00000000a9e7/oauth2/v2.0/token";
	rq.body = (const uint8_t *)form;
	rq.body_len = form ? strlen(form) : 0;
	if (auth) {
		rq.headers[0] = (cloud_header){"authorization", auth};
		rq.n_headers = 1;
	}
	cloud_retry_key(&rq, "127.0.0.1", out, cap);
}

/* Token requests carry their credential in the body: an application and a
 * user signing in from one address are two callers, and a Retry-After one
 * of them was given does not make the other's request early. */
static void test_retry_key_per_credential(void **st)
{
	(void)st;
	char app[1400], app_again[1400], app_assert[1400], app_assert2[1400], rt[1400],
		rt_again[1400], rt_other[1400], alice[1400], alice_upper[1400], bob[1400],
		none[1400], basic[1400];
	token_key(app, sizeof app,
		  "grant_type=client_credentials&client_id=5b5b-app&client_secret=s3cret-one"
		  "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
		  NULL);
	token_key(app_again, sizeof app_again,
		  "client_id=5b5b-app&grant_type=client_credentials&client_secret=s3cret-one"
		  "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
		  NULL);
	/* a client assertion is new every time: the application is the caller */
	token_key(app_assert, sizeof app_assert,
		  "grant_type=client_credentials&client_id=5b5b-app&client_assertion=eyJ.one.sig",
		  NULL);
	token_key(app_assert2, sizeof app_assert2,
		  "grant_type=client_credentials&client_id=5b5b-app&client_assertion=eyJ.two.sig",
		  NULL);
	token_key(rt, sizeof rt,
		  "grant_type=refresh_token&client_id=5b5b-public&refresh_token=RT-first", NULL);
	token_key(rt_again, sizeof rt_again,
		  "grant_type=refresh_token&refresh_token=RT-first&client_id=5b5b-public", NULL);
	token_key(rt_other, sizeof rt_other,
		  "grant_type=refresh_token&client_id=5b5b-public&refresh_token=RT-second", NULL);
	token_key(alice, sizeof alice,
		  "grant_type=password&client_id=5b5b-public&username=alice%40contoso.example"
		  "&password=pw-alice",
		  NULL);
	token_key(alice_upper, sizeof alice_upper,
		  "grant_type=password&client_id=5b5b-public&username=Alice%40Contoso.example"
		  "&password=pw-alice",
		  NULL);
	token_key(bob, sizeof bob,
		  "grant_type=password&client_id=5b5b-public&username=bob%40contoso.example"
		  "&password=pw-bob",
		  NULL);
	token_key(none, sizeof none, NULL, NULL);
	token_key(basic, sizeof basic, "grant_type=client_credentials",
		  "Basic NWI1Yi1hcHA6czNjcmV0LW9uZQ==");

	assert_string_equal(app, app_again);
	assert_string_equal(app_assert, app_assert2);
	assert_string_equal(rt, rt_again);
	assert_string_equal(alice, alice_upper);
	const char *distinct[] = {app, rt, rt_other, alice, bob, none, basic};
	size_t n = sizeof distinct / sizeof *distinct;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (!strcmp(distinct[i], distinct[j]))
				fail_msg("two callers share the key '%s'", distinct[i]);
	/* the path and method are part of it; no secret is kept as is */
	for (size_t i = 0; i < n; i++) {
		assert_non_null(strstr(distinct[i], " POST login.microsoftonline.com/"));
		const char *secret[] = {"s3cret", "RT-", "pw-", "alice", "NWI1Yi"};
		for (size_t k = 0; k < sizeof secret / sizeof *secret; k++)
			if (strstr(distinct[i], secret[k]))
				fail_msg("the key '%s' holds '%s'", distinct[i], secret[k]);
	}
	assert_non_null(strstr(none, "ip:127.0.0.1 "));

	/* what the tracker makes of it: the application was told to wait, the
	 * user was not */
	cloud_retry_tracker *t = NULL;
	assert_int_equal(cloud_retry_tracker_new(&t), SSRP_OK);
	cloud_retry_note(t, app, 1000, "0.3");
	assert_false(cloud_retry_is_early(t, rt, 1168));
	assert_true(cloud_retry_is_early(t, app_again, 1168));
	assert_false(cloud_retry_is_early(t, app_again, 1300));
	cloud_retry_tracker_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_injects_nothing),
		cmocka_unit_test(test_nth_request),
		cmocka_unit_test(test_ranges_and_every),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_glob_and_method),
		cmocka_unit_test(test_first_rule_wins_all_count),
		cmocka_unit_test(test_rate_is_deterministic),
		cmocka_unit_test(test_parse_errors_name_the_part),
		cmocka_unit_test(test_failed_set_keeps_old_script),
		cmocka_unit_test(test_early_retry),
		cmocka_unit_test(test_retry_key_per_credential),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
