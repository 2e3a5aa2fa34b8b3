/* Small checks the codec's unit tests share (cmocka; include after
 * <cmocka.h> and "ssrp/error.h"). */
#ifndef SSRP_TEST_EXPECT_H
#define SSRP_TEST_EXPECT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* 1 when all len bytes at p are zero (a wiped or refused output). */
static inline int all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Fails the test unless the last error message holds words. */
static inline void expect_message(const char *words)
{
	if (!strstr(ssrp_error_last(), words))
		fail_msg("message '%s' lacks '%s'", ssrp_error_last(), words);
}

#endif
