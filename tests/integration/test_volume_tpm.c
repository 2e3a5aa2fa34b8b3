/* A volume's TPM protector across boots, on a private swtpm: a firmware
 * update changes PCR 11, the TPM refuses, the recovery password gets the
 * user in and the volume says so; a reboot with the same measurements
 * lets the TPM open it again. */
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
#include "ssrp/volume.h"
#include "tests/integration/swtpm_fixture.h"

#define VOLUME_SIZE (4u * 1024 * 1024)

static const char password[] = "111683-110022-683298-209352-468105-648483-571252-334455";

typedef struct fixture {
	ssrp_sim_swtpm tpm;
	char spec[1200];
} fixture;

#define OK(call)                                                                          \
	do {                                                                              \
		int rc_ = (call);                                                         \
		if (rc_ != SSRP_OK)                                                       \
			fail_msg("%s: %d (%s)", #call, rc_, ssrp_error_last());           \
	} while (0)

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	swtpm_fixture_start(&f->tpm);
	/* The volume lives next to the TPM state; teardown removes it first. */
	snprintf(f->spec, sizeof f->spec, "sim:%s/volume.img", f->tpm.dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	unlink(f->spec + 4);
	swtpm_fixture_stop(&f->tpm);
	free(f);
	return 0;
}

static ssrp_tpm *open_tpm(const fixture *f)
{
	ssrp_tpm *tpm = NULL;
	OK(ssrp_tpm_open(&tpm, f->tpm.spec));
	return tpm;
}

static ssrp_volume *open_volume(const fixture *f)
{
	ssrp_volume *v = NULL;
	OK(ssrp_volume_open(&v, f->spec));
	return v;
}

/* What a boot measures: the same every time. */
static void measure_boot(const fixture *f)
{
	ssrp_tpm *tpm = open_tpm(f);
	OK(ssrp_tpm_pcr_extend(tpm, 7, "secure boot policy", 18));
	OK(ssrp_tpm_pcr_extend(tpm, 11, "boot manager 10.0.19041", 23));
	ssrp_tpm_close(tpm);
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(((i * 131u + seed * 7919u) >> 3) ^ seed);
}

static const struct {
	uint64_t offset;
	size_t len;
} data_at[] = {{0, 9000}, {1234567, 4321}, {VOLUME_SIZE - 512, 512}};

static void write_data(ssrp_volume *v)
{
	uint8_t buf[9000];
	for (unsigned i = 0; i < sizeof data_at / sizeof data_at[0]; i++) {
		fill(buf, data_at[i].len, i + 1);
		OK(ssrp_volume_write(v, data_at[i].offset, buf, data_at[i].len));
	}
}

static void check_data(ssrp_volume *v)
{
	uint8_t want[9000], got[9000];
	for (unsigned i = 0; i < sizeof data_at / sizeof data_at[0]; i++) {
		fill(want, data_at[i].len, i + 1);
		OK(ssrp_volume_read(v, data_at[i].offset, got, data_at[i].len));
		assert_memory_equal(got, want, data_at[i].len);
	}
}

/* A volume with a TPM protector (and a recovery password when asked),
 * protection on, data written. */
static void make_volume(const fixture *f, char tpm_id[SSRP_PROTECTOR_ID_LEN + 1],
			char rp_id[SSRP_PROTECTOR_ID_LEN + 1])
{
	OK(ssrp_sim_volume_create(f->spec + 4, VOLUME_SIZE));
	ssrp_volume *v = open_volume(f);
	if (rp_id)
		OK(ssrp_volume_add_recovery_password(v, password, rp_id));
	ssrp_tpm *tpm = open_tpm(f);
	OK(ssrp_volume_add_tpm_protector(v, tpm, 0, tpm_id));
	ssrp_tpm_close(tpm);
	OK(ssrp_volume_protection_on(v));
	write_data(v);
	ssrp_volume_close(v);
}

static void firmware_update_needs_the_recovery_password(void **state)
{
	fixture *f = *state;
	char tpm_id[SSRP_PROTECTOR_ID_LEN + 1], rp_id[SSRP_PROTECTOR_ID_LEN + 1];
	measure_boot(f);
	make_volume(f, tpm_id, rp_id);

	/* Before the update the TPM opens it. */
	ssrp_volume *v = open_volume(f);
	ssrp_tpm *tpm = open_tpm(f);
	OK(ssrp_volume_unlock_tpm(v, tpm));
	ssrp_volume_close(v);

	OK(ssrp_tpm_pcr_extend(tpm, 11, "firmware update", 15));
	v = open_volume(f);
	ssrp_volume_status st = SSRP_VOLUME_STATUS_INIT;
	OK(ssrp_volume_get_status(v, &st));
	assert_true(st.locked);
	assert_int_equal(ssrp_volume_unlock_tpm(v, tpm), SSRP_E_TPM_PCR_MISMATCH);
	const char *why = ssrp_error_last();
	if (!strstr(why, tpm_id) || !strstr(why, "firmware"))
		fail_msg("the refusal names neither the protector %s nor the firmware: '%s'", tpm_id,
			 why);
	ssrp_tpm_close(tpm);
	OK(ssrp_volume_get_status(v, &st));
	assert_true(st.locked);
	assert_false(st.last_unlock_recovery);

	OK(ssrp_volume_unlock_recovery_password(v, password));
	OK(ssrp_volume_get_status(v, &st));
	assert_false(st.locked);
	assert_true(st.last_unlock_recovery);
	check_data(v);
	ssrp_volume_close(v);

	/* The next session sees it too, naming the password to rotate. */
	v = open_volume(f);
	OK(ssrp_volume_get_status(v, &st));
	assert_true(st.locked);
	assert_true(st.last_unlock_recovery);
	assert_string_equal(st.last_unlock_recovery_id, rp_id);
	ssrp_protector ps[8];
	size_t n = 0;
	OK(ssrp_volume_list_protectors(v, ps, 8, &n));
	assert_int_equal(n, 2);

	/* After the recovery unlock the TPM protector is sealed to the new
	 * boot state, keeping its id; from then on the TPM opens it again. */
	tpm = open_tpm(f);
	assert_int_equal(ssrp_volume_reseal_tpm_protector(v, tpm, 0), SSRP_E_LOCKED);
	OK(ssrp_volume_unlock_recovery_password(v, password));
	OK(ssrp_volume_reseal_tpm_protector(v, tpm, 0));
	ssrp_volume_close(v);
	v = open_volume(f);
	OK(ssrp_volume_unlock_tpm(v, tpm));
	check_data(v);
	OK(ssrp_volume_list_protectors(v, ps, 8, &n));
	assert_int_equal(n, 2);
	assert_true(!strcmp(ps[0].id, tpm_id) || !strcmp(ps[1].id, tpm_id));
	ssrp_tpm_close(tpm);
	ssrp_volume_close(v);
}

static void same_boot_after_restart_unlocks(void **state)
{
	fixture *f = *state;
	char tpm_id[SSRP_PROTECTOR_ID_LEN + 1];
	measure_boot(f);
	make_volume(f, tpm_id, NULL);

	/* Power cycle: PCRs reset, the TPM's seeds stay. */
	OK(ssrp_sim_swtpm_restart(&f->tpm));
	ssrp_volume *v = open_volume(f);
	ssrp_tpm *tpm = open_tpm(f);
	/* Before the boot is measured the PCRs are all zero: refused. */
	assert_int_equal(ssrp_volume_unlock_tpm(v, tpm), SSRP_E_TPM_PCR_MISMATCH);
	ssrp_tpm_close(tpm);
	measure_boot(f);
	tpm = open_tpm(f);
	OK(ssrp_volume_unlock_tpm(v, tpm));
	ssrp_tpm_close(tpm);
	ssrp_volume_status st = SSRP_VOLUME_STATUS_INIT;
	OK(ssrp_volume_get_status(v, &st));
	assert_false(st.locked);
	assert_false(st.last_unlock_recovery);
	check_data(v);
	ssrp_volume_close(v);

	/* And after a second restart with a different boot path, refused. */
	OK(ssrp_sim_swtpm_restart(&f->tpm));
	tpm = open_tpm(f);
	OK(ssrp_tpm_pcr_extend(tpm, 7, "secure boot policy", 18));
	OK(ssrp_tpm_pcr_extend(tpm, 11, "another boot manager", 20));
	v = open_volume(f);
	assert_int_equal(ssrp_volume_unlock_tpm(v, tpm), SSRP_E_TPM_PCR_MISMATCH);
	assert_non_null(strstr(ssrp_error_last(), tpm_id));
	ssrp_tpm_close(tpm);
	ssrp_volume_close(v);
}

int main(void)
{
	if (ssrp_sim_register_backends())
		return 1;
	setenv("TSS2_LOG", "all+NONE", 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(firmware_update_needs_the_recovery_password, setup,
						teardown),
		cmocka_unit_test_setup_teardown(same_boot_after_restart_unlocks, setup, teardown),
	};
	return cmocka_run_group_tests_name("volume and TPM across boots", tests, NULL, NULL);
}
