/* ssrp_volume_get_status and the caller's struct version: an unknown or
 * uninitialised one is refused with the struct untouched; a known one gets
 * what the backend filled, the backend seeing this library's layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ssrp/sys/volume.h"

static unsigned int backend_saw_version;
static int backend_saw_percent;

static int fake_open(void *ctx, const char *config)
{
	(void)ctx;
	(void)config;
	return SSRP_OK;
}
static void fake_close(void *ctx)
{
	(void)ctx;
}
static int fake_status(void *ctx, ssrp_volume_status *out)
{
	(void)ctx;
	backend_saw_version = out->version;
	backend_saw_percent = out->percent_encrypted;
	out->protection = SSRP_PROTECTION_ON;
	out->sector_size = 4096;
	return SSRP_OK;
}
static const ssrp_volume_backend fake = {
	.version = SSRP_VOLUME_BACKEND_VERSION,
	.info = {.name = "statusonly", .description = "status", .config_help = ""},
	.caps = SSRP_VOLUME_CAP_STATUS,
	.open = fake_open,
	.close = fake_close,
	.get_status = fake_status,
};

static void versions(void **state)
{
	(void)state;
	ssrp_volume *v = NULL;
	assert_int_equal(ssrp_volume_open_backend(&v, &fake, ""), SSRP_OK);

	ssrp_volume_status st;
	memset(&st, 0x5A, sizeof st);
	st.version = 0; /* not initialised from SSRP_VOLUME_STATUS_INIT */
	assert_int_equal(ssrp_volume_get_status(v, &st), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "SSRP_VOLUME_STATUS_INIT"));
	assert_int_equal(st.sector_size, 0x5A5A5A5Au);
	st.version = SSRP_VOLUME_STATUS_VERSION + 1; /* from a newer header */
	assert_int_equal(ssrp_volume_get_status(v, &st), SSRP_E_INVALID);
	assert_int_equal(st.sector_size, 0x5A5A5A5Au);

	ssrp_volume_status ok = SSRP_VOLUME_STATUS_INIT;
	assert_int_equal(ssrp_volume_get_status(v, &ok), SSRP_OK);
	assert_int_equal(backend_saw_version, SSRP_VOLUME_STATUS_VERSION);
	assert_int_equal(backend_saw_percent, -1);
	assert_int_equal(ok.version, SSRP_VOLUME_STATUS_VERSION);
	assert_int_equal(ok.protection, SSRP_PROTECTION_ON);
	assert_int_equal(ok.sector_size, 4096);
	assert_int_equal(ok.percent_encrypted, -1);
	ssrp_volume_close(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(versions)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
