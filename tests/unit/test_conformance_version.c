/* ssrp_conformance_volume_run and the caller's struct version: an unknown
 * or uninitialised one is refused with a sentence naming the struct and its
 * INIT macro, before any test runs or any volume is asked for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ssrp/conformance.h"
#include "ssrp/error.h"

static int fresh_calls;

static int fresh(void *ctx, char *spec, size_t cap)
{
	(void)ctx;
	(void)spec;
	(void)cap;
	fresh_calls++;
	return -1;
}

static void refused(unsigned int version)
{
	ssrp_conformance_volume_target t = SSRP_CONFORMANCE_VOLUME_TARGET_INIT;
	t.version = version;
	t.name = "refused";
	t.fresh = fresh;
	fresh_calls = 0;
	assert_int_equal(ssrp_conformance_volume_run(&t), -1);
	assert_int_equal(fresh_calls, 0);
	const char *msg = ssrp_error_last();
	if (!strstr(msg, "ssrp_conformance_volume_target version") ||
	    !strstr(msg, "SSRP_CONFORMANCE_VOLUME_TARGET_INIT"))
		fail_msg("message '%s' names neither the struct nor its INIT", msg);
}

static void unknown_versions(void **state)
{
	(void)state;
	refused(0);
	refused(SSRP_CONFORMANCE_VOLUME_TARGET_VERSION + 1);
	refused(~0u);
}

static void no_target(void **state)
{
	(void)state;
	assert_int_equal(ssrp_conformance_volume_run(NULL), -1);
}

static void init_is_current(void **state)
{
	(void)state;
	ssrp_conformance_volume_target t = SSRP_CONFORMANCE_VOLUME_TARGET_INIT;
	assert_int_equal(t.version, SSRP_CONFORMANCE_VOLUME_TARGET_VERSION);
	assert_null(t.name);
	assert_null(t.fresh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unknown_versions),
		cmocka_unit_test(no_target),
		cmocka_unit_test(init_is_current),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
