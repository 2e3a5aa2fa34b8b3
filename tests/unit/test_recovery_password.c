/* Recovery passwords (bitlocker/recovery_password.c): the known answer of
 * the reference notes, the forms a person may type, refusals that name
 * every wrong group, generation and the extreme values. No OpenSSL: the
 * Windows build runs it too (tests/windows_unit.cmake). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bitlocker/recovery_password.h"
#include "hal/hex.h"
#include "ssrp/error.h"
#include "tests/unit/test_expect.h"

static const char KAT_RP[] = "111683-110022-683298-209352-468105-648483-571252-334455";
static const char KAT_KEY16[] = "a9271227a6f2584a3ba649e6dccac576";


static void rp_known_answer(void **state)
{
	(void)state;
	uint8_t key[16], want[16];
	assert_int_equal(ssrp_hex_decode(want, sizeof want, KAT_KEY16), 0);
	assert_int_equal(ssrp_rp_parse(key, KAT_RP, strlen(KAT_RP)), SSRP_OK);
	assert_memory_equal(key, want, 16);

	char text[SSRP_RECOVERY_PASSWORD_LEN + 1];
	memset(text, 'x', sizeof text);
	ssrp_rp_format(text, want);
	assert_string_equal(text, KAT_RP);
	assert_int_equal(strlen(text), SSRP_RECOVERY_PASSWORD_LEN);
}

static void rp_accepted_forms(void **state)
{
	(void)state;
	static const char *const forms[] = {
		"111683-110022-683298-209352-468105-648483-571252-334455",
		"111683 110022 683298 209352 468105 648483 571252 334455",
		"111683  110022   683298 209352\t468105 648483 571252 334455",
		"111683110022683298209352468105648483571252334455",
		"  111683-110022-683298-209352-468105-648483-571252-334455\r\n",
		"\t111683 110022-683298 209352-468105 648483-571252 334455 \n",
	};
	uint8_t want[16];
	assert_int_equal(ssrp_hex_decode(want, sizeof want, KAT_KEY16), 0);
	for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
		uint8_t key[16];
		if (ssrp_rp_parse(key, forms[i], strlen(forms[i])) != SSRP_OK)
			fail_msg("'%s' refused: %s", forms[i], ssrp_error_last());
		assert_memory_equal(key, want, 16);
	}
	/* The length is the caller's: no NUL needed, nothing read past it. */
	char noterm[48];
	memcpy(noterm, forms[3], 48);
	uint8_t key[16];
	assert_int_equal(ssrp_rp_parse(key, noterm, sizeof noterm), SSRP_OK);
	assert_memory_equal(key, want, 16);
}

static void expect_rp_refusal(const char *text, size_t len, const char *words)
{
	uint8_t key[16];
	memset(key, 0xAA, sizeof key);
	int rc = ssrp_rp_parse(key, text, len);
	if (rc != SSRP_E_INVALID)
		fail_msg("'%.*s' gave %d, not SSRP_E_INVALID", (int)len, text, rc);
	assert_true(all_zero(key, sizeof key));
	expect_message(words);
}

static void rp_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *text, *words;
	} cases[] = {
		/* the full message, to pin its shape */
		{"111683-110022-683299-209352-468105-648483-571252-72a455",
		 "recovery password: group 3 (683299) is not divisible by 11; group 8 (72a455) "
		 "has a non-digit"},
		{"111683-110022-683298-209352-468105-648483-571252-33445",
		 "recovery password: it has 47 digits; a recovery password has 48 in 8 groups "
		 "of 6; group 8 (33445) has 5 characters, not 6"},
		{"111683-110022-683298-209352-468105-648483-571252", "it has 42 digits"},
		{"11168311002268329820935246810564848357125233445", "it has 47 digits"},
		{"1116831100226832982093524681056484835712523344556", "it has 49 digits"},
		{"111683-110022-683298-209352-468105-648483-571252-334455-111683",
		 "it has 54 digits"},
		{"720896-110022-683298-209352-468105-648483-571252-334455",
		 "group 1 (720896) is over 720885"},
		{"111683110022-683298-209352-468105-648483-571252-334455",
		 "it has 7 groups; a recovery password has 48 digits in 8 groups of 6"},
		{"11168-3110022-683298-209352-468105-648483-571252-334455",
		 "group 1 (11168) has 5 characters, not 6; group 2 (3110022) has 7 characters"},
		{"111683--110022-683298-209352-468105-648483-571252-334455",
		 "the separator '--' after group 1 is neither one '-' nor spaces"},
		{"111683-110022 - 683298-209352-468105-648483-571252-334455",
		 "the separator ' - ' after group 2 is neither"},
		{"-111683-110022-683298-209352-468105-648483-571252-334455", "it starts with '-'"},
		{"111683-110022-683298-209352-468105-648483-571252-334455-", "it ends with '-'"},
		{"111683_110022_683298_209352_468105_648483_571252_334455",
		 "it has 48 digits and 7 other characters"},
		{"hello", "it has 0 digits and 5 other characters"},
		{"", "it is empty"},
		{" \t\r\n", "it is empty"},
		{"111683-110022-683298-209352-468105-648483-571252-3344S5",
		 "group 8 (3344S5) has a non-digit"},
		{"111683-110022-683298-209352-468105-648483-571252-334456",
		 "group 8 (334456) is not divisible by 11"},
		/* every group wrong: every group named */
		{"111684-110023-683299-209353-468106-648484-571253-334456",
		 "group 1 (111684) is not divisible by 11; group 2 (110023) is not divisible by "
		 "11; group 3 (683299) is not divisible by 11; group 4 (209353) is not divisible "
		 "by 11; group 5 (468106) is not divisible by 11; group 6 (648484) is not "
		 "divisible by 11; group 7 (571253) is not divisible by 11; group 8 (334456) is "
		 "not divisible by 11"},
		/* a long group is quoted only in part */
		{"111683-110022-683298-209352-468105-648483-571252-33445500000000000000000",
		 "group 8 (334455000000...) has 23 characters"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		expect_rp_refusal(cases[i].text, strlen(cases[i].text), cases[i].words);

	/* A NUL inside counts as a stray character, not as the end. */
	static const char with_nul[] = "111683-110022-683298-209352-468105-648483-571252-33\0"
				       "455";
	expect_rp_refusal(with_nul, sizeof with_nul - 1, "group 8 (33?455) has a non-digit");

	uint8_t key[16];
	assert_int_equal(ssrp_rp_parse(NULL, KAT_RP, 10), SSRP_E_INVALID);
	assert_int_equal(ssrp_rp_parse(key, NULL, 10), SSRP_E_INVALID);
	assert_int_equal(ssrp_rp_parse(key, NULL, 0), SSRP_E_INVALID);
	expect_message("empty");
}

static void rp_generate_roundtrip(void **state)
{
	(void)state;
	uint8_t first[16];
	assert_int_equal(ssrp_rp_generate(first), SSRP_OK);
	int differs = 0;
	for (int n = 0; n < 1000; n++) {
		uint8_t key[16], back[16];
		char text[SSRP_RECOVERY_PASSWORD_LEN + 1];
		assert_int_equal(ssrp_rp_generate(key), SSRP_OK);
		differs |= memcmp(key, first, 16) != 0;
		ssrp_rp_format(text, key);
		assert_int_equal(strlen(text), SSRP_RECOVERY_PASSWORD_LEN);
		for (int g = 0; g < 8; g++) {
			const char *p = text + 7 * g;
			if (g < 7)
				assert_int_equal(p[6], '-');
			char digits[7];
			memcpy(digits, p, 6);
			digits[6] = '\0';
			assert_int_equal(strspn(digits, "0123456789"), 6);
			unsigned long v = strtoul(digits, NULL, 10);
			assert_true(v <= 720885);
			assert_int_equal(v % 11, 0);
			assert_int_equal(v / 11, key[2 * g] | key[2 * g + 1] << 8);
		}
		assert_int_equal(ssrp_rp_parse(back, text, strlen(text)), SSRP_OK);
		assert_memory_equal(back, key, 16);
	}
	assert_true(differs);
	assert_int_equal(ssrp_rp_generate(NULL), SSRP_E_INVALID);
}

static void rp_edges(void **state)
{
	(void)state;
	uint8_t key[16], back[16];
	char text[SSRP_RECOVERY_PASSWORD_LEN + 1];
	memset(key, 0, sizeof key);
	ssrp_rp_format(text, key);
	assert_string_equal(text, "000000-000000-000000-000000-000000-000000-000000-000000");
	memset(key, 0xff, sizeof key);
	ssrp_rp_format(text, key);
	assert_string_equal(text, "720885-720885-720885-720885-720885-720885-720885-720885");
	assert_int_equal(ssrp_rp_parse(back, text, strlen(text)), SSRP_OK);
	assert_memory_equal(back, key, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rp_known_answer),
		cmocka_unit_test(rp_accepted_forms),
		cmocka_unit_test(rp_refusals),
		cmocka_unit_test(rp_generate_roundtrip),
		cmocka_unit_test(rp_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
