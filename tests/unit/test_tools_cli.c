/* The command's helpers: PCR lists and private files. */
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

#include "ssrp/error.h"
#include "tools/cli_util.h"
#include "tests/unit/test_tmpdir.h"

static void pcr_lists(void **state)
{
	(void)state;
	uint32_t m = 0;
	assert_int_equal(cli_parse_pcrs(&m, "7,11"), SSRP_OK);
	assert_int_equal(m, (1u << 7) | (1u << 11));
	assert_int_equal(cli_parse_pcrs(&m, "0-3,23"), SSRP_OK);
	assert_int_equal(m, 0xFu | (1u << 23));
	const char *bad[] = {"", "24", "7,,11", "a", "5-2", "7;11", "-1", "99999999999999999999"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		m = 0;
		assert_int_equal(cli_parse_pcrs(&m, bad[i]), SSRP_E_INVALID);
		assert_int_equal(m, 0);
	}
	cli_parse_pcrs(&m, "7;11");
	assert_non_null(strstr(ssrp_error_last(), "unexpected ';'"));
}

static void private_file_roundtrip(void **state)
{
	(void)state;
	char dir[256];
	assert_non_null(test_tmpdir(dir, sizeof dir, "cli"));
	char path[300];
	snprintf(path, sizeof path, "%s/secret", dir);
	assert_int_equal(cli_write_private_file(path, (const uint8_t *)"abc", 3, 0), SSRP_OK);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
#ifndef _WIN32 /* no mode bits: the file's DACL is its directory's */
	assert_int_equal(st.st_mode & 0777, 0600);
#endif
	ssrp_buf b = SSRP_BUF_INIT;
	assert_int_equal(cli_read_file(&b, path, 3), SSRP_OK);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "abc", 3);
	ssrp_buf_free(&b);
	assert_int_equal(cli_read_file(&b, path, 2), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "larger than 2 bytes"));
	unlink(path);
	assert_int_equal(cli_read_file(&b, path, 2), SSRP_E_NOTFOUND);
	assert_non_null(strstr(ssrp_error_last(), "such file")); /* "No such file", "no such file" */
	rmdir(dir);
}

static void strict_numbers(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_int_equal(cli_parse_uint(&v, "18446744073709551615", 0, UINT64_MAX), SSRP_OK);
	assert_true(v == UINT64_MAX);
	assert_int_equal(cli_parse_uint(&v, "0", 0, 10), SSRP_OK);
	assert_int_equal(v, 0);
	const char *bad[] = {"18446744073709551616", "99999999999999999999999", "", "-1", "+1",
			     " 1", "1 ", "0x10", "1e3", "١"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = 7;
		assert_int_equal(cli_parse_uint(&v, bad[i], 0, UINT64_MAX), SSRP_E_INVALID);
		assert_int_equal(v, 7);
	}
	assert_int_equal(cli_parse_uint(&v, "18446744073709551616", 0, UINT64_MAX), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "too large"));
	assert_int_equal(cli_parse_uint(&v, "24", 0, 23), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "0 to 23"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pcr_lists),
		cmocka_unit_test(private_file_roundtrip),
		cmocka_unit_test(strict_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
