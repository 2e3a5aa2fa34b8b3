/* The verified-token cache: hits only for the same token, never past its
 * expiry, and a colliding token evicts rather than aliases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sim/cloud/token_cache.h"
#include "ssrp/error.h"

static cloud_principal principal(const char *upn, uint64_t expires)
{
	cloud_principal p;
	memset(&p, 0, sizeof p);
	p.kind = CLOUD_PRINCIPAL_USER;
	snprintf(p.upn, sizeof p.upn, "%s", upn);
	p.expires = expires;
	return p;
}

static void hits_only_the_same_token(void **state)
{
	(void)state;
	cloud_token_cache *c;
	assert_int_equal(cloud_token_cache_new(&c), SSRP_OK);
	cloud_principal p = principal("alice@contoso.example", 1000), out;
	assert_false(cloud_token_cache_get(c, "tok-a", 10, 0, &out));
	cloud_token_cache_put(c, "tok-a", &p);
	assert_true(cloud_token_cache_get(c, "tok-a", 10, 0, &out));
	assert_string_equal(out.upn, "alice@contoso.example");
	assert_false(cloud_token_cache_get(c, "tok-b", 10, 0, &out));
	assert_false(cloud_token_cache_get(c, "tok-a ", 10, 0, &out));
	cloud_token_cache_free(c);
}

static void never_past_expiry(void **state)
{
	(void)state;
	cloud_token_cache *c;
	assert_int_equal(cloud_token_cache_new(&c), SSRP_OK);
	cloud_principal p = principal("bob@contoso.example", 1000), out;
	cloud_token_cache_put(c, "tok", &p);
	assert_true(cloud_token_cache_get(c, "tok", 1000, 0, &out));
	assert_true(cloud_token_cache_get(c, "tok", 1300, 300, &out));
	assert_false(cloud_token_cache_get(c, "tok", 1001, 0, &out));
	assert_false(cloud_token_cache_get(c, "tok", 1301, 300, &out));
	cloud_token_cache_free(c);
}

static void many_tokens_never_alias(void **state)
{
	(void)state;
	cloud_token_cache *c;
	char tok[32], upn[64];
	assert_int_equal(cloud_token_cache_new(&c), SSRP_OK);
	for (int i = 0; i < 5000; i++) {
		snprintf(tok, sizeof tok, "token-%d", i);
		snprintf(upn, sizeof upn, "user%d@contoso.example", i);
		cloud_principal p = principal(upn, 100);
		cloud_token_cache_put(c, tok, &p);
	}
	/* Whatever a lookup returns belongs to the token asked for. */
	int hits = 0;
	for (int i = 0; i < 5000; i++) {
		cloud_principal out;
		snprintf(tok, sizeof tok, "token-%d", i);
		snprintf(upn, sizeof upn, "user%d@contoso.example", i);
		if (cloud_token_cache_get(c, tok, 1, 0, &out)) {
			hits++;
			assert_string_equal(out.upn, upn);
		}
	}
	assert_true(hits > 0 && hits <= 1024);
	assert_false(cloud_token_cache_get(NULL, "x", 1, 0, NULL));
	cloud_token_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hits_only_the_same_token),
		cmocka_unit_test(never_past_expiry),
		cmocka_unit_test(many_tokens_never_alias),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
