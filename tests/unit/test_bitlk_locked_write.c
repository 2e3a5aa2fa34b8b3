/* Every metadata write carries the validation structure cryptsetup >= 2.8.2
 * checks (AES-CCM under the VMK over the block's SHA-256), so a change to
 * a locked volume, where the VMK is unknown, is refused instead of written
 * with the CRC alone; once unlocked, the same change goes through sealed.
 * (Three key stretches: each costs seconds under memcheck.) */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bitlocker/fve_metadata.h"
#include "ssrp/error.h"
#include "ssrp/sim.h"
#include "ssrp/volume.h"

static const char pw1[] = "111683-110022-683298-209352-468105-648483-571252-334455";
static const char pw2[] = "135795-597531-012221-660000-010989-344707-046662-720885";

/* The three metadata regions, read past the volume's lock (it may be
 * open), for "nothing changed" and the trailer check. */
static void read_copies(const char *path, uint8_t *out)
{
	uint8_t sector[SSRP_FVE_SECTOR];
	ssrp_fve_boot boot;
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, sector, sizeof sector, 0), (ssize_t)sizeof sector);
	assert_int_equal(ssrp_fve_boot_parse(&boot, sector), SSRP_OK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pread(fd, out + (size_t)i * SSRP_FVE_REGION, SSRP_FVE_REGION,
				       (off_t)boot.copies[i]),
				 (ssize_t)SSRP_FVE_REGION);
	close(fd);
}

static void locked_change_is_refused_then_sealed(void **state)
{
	(void)state;
	char dir[] = "/tmp/ssrp-locked-XXXXXX", path[256], spec[300];
	char id1[SSRP_PROTECTOR_ID_LEN + 1], id2[SSRP_PROTECTOR_ID_LEN + 1];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/v.img", dir);
	snprintf(spec, sizeof spec, "bitlk:%s?rw", path);
	assert_int_equal(ssrp_sim_volume_create(path, 4u << 20), SSRP_OK);
	ssrp_volume *v = NULL;
	assert_int_equal(ssrp_volume_open(&v, spec), SSRP_OK); /* the clear key opens it */
	assert_int_equal(ssrp_volume_add_recovery_password(v, pw1, id1), SSRP_OK);
	assert_int_equal(ssrp_volume_add_recovery_password(v, pw2, id2), SSRP_OK);
	assert_int_equal(ssrp_volume_protection_on(v), SSRP_OK);
	ssrp_volume_close(v);

	uint8_t *before = malloc(3 * SSRP_FVE_REGION), *after = malloc(3 * SSRP_FVE_REGION);
	assert_non_null(before);
	assert_non_null(after);
	read_copies(path, before);
	assert_int_equal(ssrp_volume_open(&v, spec), SSRP_OK);
	assert_int_equal(ssrp_volume_delete_protector(v, id2), SSRP_E_LOCKED);
	assert_non_null(strstr(ssrp_error_last(), "unlock"));
	read_copies(path, after);
	assert_memory_equal(before, after, 3 * SSRP_FVE_REGION);

	assert_int_equal(ssrp_volume_unlock_recovery_password(v, pw1), SSRP_OK);
	assert_int_equal(ssrp_volume_delete_protector(v, id2), SSRP_OK);
	ssrp_volume_close(v);
	read_copies(path, after);
	for (int i = 0; i < 3; i++) {
		ssrp_fve_metadata *md = malloc(sizeof *md);
		assert_non_null(md);
		assert_int_equal(ssrp_fve_metadata_parse(md, after + (size_t)i * SSRP_FVE_REGION,
							 SSRP_FVE_REGION),
				 SSRP_OK);
		assert_true(md->has_validation);
		assert_int_equal(md->n_vmks, 1);
		free(md);
	}
	free(before);
	free(after);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(locked_change_is_refused_then_sealed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
