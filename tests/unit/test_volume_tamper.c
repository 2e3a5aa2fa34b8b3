/* A simulated volume whose wrapped FVEK was altered: the right recovery
 * password opens its protector, so the failure after it is tampering
 * (SSRP_E_FORMAT, exit 6), never "wrong password" (SSRP_E_BAD_KEY, exit 8).
 * (Two key stretches only: each costs seconds under memcheck.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ssrp/sim.h"
#include "bitlocker/bitlk_store.h"
#include "ssrp/error.h"
#include "ssrp/volume.h"

static const char pw[] = "111683-110022-683298-209352-468105-648483-571252-334455";

static void make_volume(const char *path)
{
	char spec[300];
	snprintf(spec, sizeof spec, "sim:%s", path);
	assert_int_equal(ssrp_sim_volume_create(path, 4u << 20), SSRP_OK);
	ssrp_volume *v = NULL;
	assert_int_equal(ssrp_volume_open(&v, spec), SSRP_OK);
	char id[SSRP_PROTECTOR_ID_LEN + 1];
	assert_int_equal(ssrp_volume_add_recovery_password(v, pw, id), SSRP_OK);
	ssrp_volume_close(v);
}

/* Flip one bit of the wrapped FVEK and write every copy back with a good
 * CRC, as someone editing the disk would. */
static void alter_fvek(const char *path)
{
	ssrp_bitlk_store s;
	ssrp_fve_metadata md;
	assert_int_equal(ssrp_bitlk_store_open(&s, path, 1, NULL), SSRP_OK);
	assert_int_equal(ssrp_bitlk_store_read_metadata(&s, &md), SSRP_OK);
	md.fvek.ct[3] ^= 0x10;
	/* Without the VMK only the CRC form can be written; ssrp itself
	 * refuses to. */
	assert_int_equal(ssrp_bitlk_store_write_metadata(&s, &md, NULL), SSRP_E_LOCKED);
	static uint8_t region[SSRP_FVE_REGION];
	size_t len = 0;
	memset(region, 0, sizeof region);
	assert_int_equal(ssrp_fve_metadata_encode(region, sizeof region, &len, &md), SSRP_OK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ssrp_bitlk_store_pwrite(&s, region, sizeof region, s.boot.copies[i]),
				 SSRP_OK);
	ssrp_bitlk_store_close(&s);
}

static void tampered_fvek_is_tampering(void **state)
{
	(void)state;
	char dir[] = "/tmp/ssrp-tamper-XXXXXX", path[256], spec[300];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/v.img", dir);
	snprintf(spec, sizeof spec, "sim:%s", path);
	make_volume(path);
	alter_fvek(path);

	ssrp_volume *v = NULL;
	assert_int_equal(ssrp_volume_open(&v, spec), SSRP_OK);
	assert_int_equal(ssrp_volume_unlock_recovery_password(v, pw), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "tampered"));
	ssrp_volume_close(v);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	if (ssrp_sim_register_backends())
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tampered_fvek_is_tampering),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
