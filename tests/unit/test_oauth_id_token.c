/* ssrp_oauth_id_token_parse (escrow/oauth_id_token.c): who signed in, from
 * an id_token's claims, checked against what was asked — the tenant's
 * issuer on our login host, our client id as audience, the configured
 * tenant, not expired; malformed tokens refused by name; control characters
 * blanked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "escrow/oauth_client.h"
#include "hal/sign.h"
#include "ssrp/error.h"

#define HOST "login.microsoftonline.com"
#define TID "0b1e5c4a-1111-4222-8333-444455556666"
#define CLIENT "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
#define NOW 1800000000

/* header.claims.signature with claims as given (the signature is not read). */
static const char *jwt(const char *claims)
{
	static char out[4096];
	char c64[3000];
	assert_true(ssrp_base64url((const uint8_t *)claims, strlen(claims), c64, sizeof c64) >= 0);
	snprintf(out, sizeof out, "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.%s.c2ln", c64);
	return out;
}

static const char *claims_with(const char *iss, const char *aud, const char *tid, long exp)
{
	static char c[1024];
	snprintf(c, sizeof c,
		 "{\"iss\":\"%s\",\"aud\":%s,\"tid\":\"%s\",\"exp\":%ld,\"oid\":\"u-1\","
		 "\"preferred_username\":\"alice@contoso.example\",\"name\":\"Alice\\u001b[2J\"}",
		 iss, aud, tid, exp);
	return c;
}

static int parse(const char *token, const char *tenant, ssrp_oauth_user *u)
{
	return ssrp_oauth_id_token_parse(token, strlen(token), HOST, tenant, CLIENT, NOW, u);
}

static void test_good_token(void **st)
{
	(void)st;
	ssrp_oauth_user u;
	const char *t = jwt(claims_with("https://" HOST "/" TID "/v2.0", "\"" CLIENT "\"", TID,
					NOW + 3600));
	assert_int_equal(parse(t, TID, &u), SSRP_OK);
	assert_string_equal(u.upn, "alice@contoso.example");
	assert_string_equal(u.oid, "u-1");
	assert_string_equal(u.tid, TID);
	assert_string_equal(u.name, "Alice [2J"); /* the escape blanked */
	/* the tenant in another spelling, an audience list, a domain tenant */
	assert_int_equal(parse(t, "{0B1E5C4A-1111-4222-8333-444455556666}", &u), SSRP_OK);
	t = jwt(claims_with("https://" HOST "/" TID "/v2.0", "[\"x\",\"" CLIENT "\"]", TID,
			    NOW + 10));
	assert_int_equal(parse(t, "contoso.onmicrosoft.com", &u), SSRP_OK);
	/* expired, but within the 5 minutes' clock skew */
	t = jwt(claims_with("https://" HOST "/" TID "/v2.0", "\"" CLIENT "\"", TID, NOW - 200));
	assert_int_equal(parse(t, TID, &u), SSRP_OK);
}

static void test_claims_checked(void **st)
{
	(void)st;
	ssrp_oauth_user u;
	const char *iss = "https://" HOST "/" TID "/v2.0", *aud = "\"" CLIENT "\"";
	struct {
		const char *iss, *aud, *tid;
		long exp;
		const char *raw; /* instead of the claims from the four above */
		const char *words;
		int rc;
	} bad[] = {
		{iss, aud, "99999999-1111-4222-8333-444455556666", NOW + 60, NULL,
		 "not the configured", SSRP_E_PERMISSION},
		{"https://evil.example/" TID "/v2.0", aud, TID, NOW + 60, NULL, "issuer",
		 SSRP_E_PERMISSION},
		{iss, "\"someone-else\"", TID, NOW + 60, NULL, "not issued to this client",
		 SSRP_E_PERMISSION},
		{iss, "[]", TID, NOW + 60, NULL, "not issued to this client", SSRP_E_PERMISSION},
		{iss, aud, TID, NOW - 400, NULL, "expired", SSRP_E_PERMISSION},
		{NULL, NULL, NULL, 0,
		 "{\"iss\":\"https://" HOST "/" TID "/v2.0\",\"aud\":\"" CLIENT "\",\"tid\":\"" TID
		 "\"}",
		 "no expiry", SSRP_E_FORMAT},
		{NULL, NULL, NULL, 0, "{\"aud\":\"" CLIENT "\",\"exp\":1900000000}", "no tenant",
		 SSRP_E_FORMAT},
		{NULL, NULL, NULL, 0, "[1,2]", "not a JSON object", SSRP_E_FORMAT},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *t = jwt(bad[i].raw ? bad[i].raw
					       : claims_with(bad[i].iss, bad[i].aud, bad[i].tid,
							     bad[i].exp));
		assert_int_equal(parse(t, TID, &u), bad[i].rc);
		if (!strstr(ssrp_error_last(), bad[i].words))
			fail_msg("case %zu: '%s' does not say '%s'", i, ssrp_error_last(),
				 bad[i].words);
		assert_string_equal(u.upn, "");
	}
}

static void test_not_a_jwt(void **st)
{
	(void)st;
	ssrp_oauth_user u;
	const char *bad[] = {"", "abc", "abc.def", "a.!!!.c", "a.Zm9v.c" /* "foo" */,
			     "a.Z.c" /* a length base64 never has */};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(parse(bad[i], TID, &u), SSRP_E_FORMAT);
	assert_int_equal(ssrp_oauth_id_token_parse(NULL, 0, HOST, TID, CLIENT, NOW, &u),
			 SSRP_E_FORMAT);
	assert_int_equal(ssrp_oauth_id_token_parse("a.b.c", 5, HOST, TID, CLIENT, NOW, NULL),
			 SSRP_E_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_token),
		cmocka_unit_test(test_claims_checked),
		cmocka_unit_test(test_not_a_jwt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
