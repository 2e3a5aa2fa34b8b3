/* hal/hex.h: every byte value of a digit, both cases, round trips, and
 * what is not exactly 2n digits refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hal/hex.h"

static void values(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++) {
		int want = c >= '0' && c <= '9'   ? c - '0'
			   : c >= 'a' && c <= 'f' ? c - 'a' + 10
			   : c >= 'A' && c <= 'F' ? c - 'A' + 10
						  : -1;
		assert_int_equal(ssrp_hex_value(c), want);
	}
	assert_int_equal(ssrp_hex_value(-1), -1);
}

static void round_trip(void **state)
{
	(void)state;
	uint8_t all[256], back[256];
	char text[2 * sizeof all + 1];
	for (size_t i = 0; i < sizeof all; i++)
		all[i] = (uint8_t)i;
	ssrp_hex_encode(text, all, sizeof all);
	assert_int_equal(strlen(text), 2 * sizeof all);
	assert_memory_equal(text, "000102", 6);
	assert_string_equal(text + 2 * 250, "fafbfcfdfeff");
	assert_int_equal(ssrp_hex_decode(back, sizeof back, text), 0);
	assert_memory_equal(back, all, sizeof all);

	uint8_t b[2];
	assert_int_equal(ssrp_hex_decode(b, 2, "aBcD"), 0);
	assert_int_equal(b[0], 0xab);
	assert_int_equal(b[1], 0xcd);
	ssrp_hex_encode(text, b, 0);
	assert_string_equal(text, "");
}

static void refusals(void **state)
{
	(void)state;
	uint8_t b[2];
	assert_int_equal(ssrp_hex_decode(b, 2, "abc"), -1);
	assert_int_equal(ssrp_hex_decode(b, 2, "abcde"), -1);
	assert_int_equal(ssrp_hex_decode(b, 2, "abcg"), -1);
	assert_int_equal(ssrp_hex_decode(b, 2, "ab c"), -1);
	assert_int_equal(ssrp_hex_decode(b, 2, "-bcd"), -1);
	assert_int_equal(ssrp_hex_decode(b, 2, NULL), -1);
	assert_int_equal(ssrp_hex_decode(b, 0, ""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
