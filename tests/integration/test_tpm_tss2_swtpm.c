/* The tss2 backend against a real swtpm, for what needs the simulator's
 * powers: reboots, a second TPM, a TPM without and then with a persistent
 * SRK, and a blob altered behind its checksum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hal/crypto.h"
#include "ssrp/sys/tpm.h"
#include "tests/integration/swtpm_fixture.h"
#include "tpm/blob.h"

static ssrp_sim_swtpm sim;

static int setup(void **state)
{
	(void)state;
	swtpm_fixture_start(&sim);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	swtpm_fixture_stop(&sim);
	return 0;
}

static ssrp_tpm *open_sim(const ssrp_sim_swtpm *s)
{
	ssrp_tpm *tpm = NULL;
	if (ssrp_tpm_open(&tpm, s->spec))
		fail_msg("open %s: %s", s->spec, ssrp_error_last());
	return tpm;
}

/* Seal under PCRs 7 and 11 after a "boot" measured them. */
static void boot(ssrp_tpm *tpm)
{
	assert_int_equal(ssrp_tpm_pcr_extend(tpm, 7, "secure boot db", 14), SSRP_OK);
	assert_int_equal(ssrp_tpm_pcr_extend(tpm, 11, "os loader", 9), SSRP_OK);
}

static void seal(ssrp_tpm *tpm, ssrp_buf *blob)
{
	static const uint8_t vmk[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	assert_int_equal(ssrp_tpm_seal(tpm, blob, vmk, sizeof vmk, 0), SSRP_OK);
}

static void restart_allows_unseal_again(void **state)
{
	(void)state;
	ssrp_buf blob = SSRP_BUF_INIT, out = SSRP_BUF_INIT;
	ssrp_tpm *tpm = open_sim(&sim);
	boot(tpm);
	seal(tpm, &blob);
	assert_int_equal(ssrp_tpm_unseal(tpm, &out, blob.data, blob.len), SSRP_OK);
	ssrp_buf_free(&out);
	/* A firmware update: PCR 11 measures something else. */
	assert_int_equal(ssrp_tpm_pcr_extend(tpm, 11, "firmware 2.0", 12), SSRP_OK);
	assert_int_equal(ssrp_tpm_unseal(tpm, &out, blob.data, blob.len), SSRP_E_TPM_PCR_MISMATCH);
	ssrp_tpm_close(tpm);

	assert_int_equal(ssrp_sim_swtpm_restart(&sim), SSRP_OK);
	tpm = open_sim(&sim);
	/* Before the boot measurements the PCRs are zero: still refused. */
	assert_int_equal(ssrp_tpm_unseal(tpm, &out, blob.data, blob.len), SSRP_E_TPM_PCR_MISMATCH);
	boot(tpm);
	assert_int_equal(ssrp_tpm_unseal(tpm, &out, blob.data, blob.len), SSRP_OK);
	assert_int_equal(out.len, 32);
	assert_int_equal(out.data[15], 16);
	ssrp_buf_free(&out);
	ssrp_buf_free(&blob);
	ssrp_tpm_close(tpm);
}

static void blob_from_another_tpm(void **state)
{
	(void)state;
	ssrp_buf blob = SSRP_BUF_INIT, out = SSRP_BUF_INIT;
	ssrp_sim_swtpm other;
	swtpm_fixture_start(&other);
	ssrp_tpm *tpm = open_sim(&other);
	seal(tpm, &blob);
	ssrp_tpm_close(tpm);
	swtpm_fixture_stop(&other);

	tpm = open_sim(&sim);
	assert_int_equal(ssrp_tpm_unseal(tpm, &out, blob.data, blob.len), SSRP_E_TPM_WRONG_TPM);
	assert_non_null(strstr(ssrp_error_last(), "different TPM"));
	ssrp_buf_free(&blob);
	ssrp_tpm_close(tpm);
}

/* Alter the sealed object's private part and fix the blob's checksum: only
 * the TPM's own integrity check can notice. */
static void tampered_object_refused_by_tpm(void **state)
{
	(void)state;
	ssrp_buf blob = SSRP_BUF_INIT, out = SSRP_BUF_INIT;
	ssrp_tpm *tpm = open_sim(&sim);
	seal(tpm, &blob);
	ssrp_sealed_parts parts;
	assert_int_equal(ssrp_blob_decode(&parts, blob.data, blob.len), SSRP_OK);
	parts.private_area[parts.private_len - 5] ^= 0x20;
	size_t len = 0;
	assert_int_equal(ssrp_blob_encode(blob.data, blob.len, &len, &parts), SSRP_OK);
	assert_int_equal(ssrp_tpm_unseal(tpm, &out, blob.data, len), SSRP_E_TPM_INTEGRITY);
	assert_non_null(strstr(ssrp_error_last(), "integrity"));
	/* A public part that is not a sealed-data object is refused before the TPM. */
	assert_int_equal(ssrp_blob_decode(&parts, blob.data, blob.len), SSRP_OK);
	parts.public_area[3] = 0x01; /* type: RSA */
	assert_int_equal(ssrp_blob_encode(blob.data, blob.len, &len, &parts), SSRP_OK);
	assert_int_equal(ssrp_tpm_unseal(tpm, &out, blob.data, len), SSRP_E_FORMAT);
	ssrp_buf_free(&blob);
	ssrp_tpm_close(tpm);
}

static void persistent_srk_absent_then_present(void **state)
{
	(void)state;
	ssrp_sim_swtpm own;
	swtpm_fixture_start(&own);
	ssrp_buf before = SSRP_BUF_INIT, after = SSRP_BUF_INIT, out = SSRP_BUF_INIT;
	ssrp_sealed_parts parts;
	ssrp_tpm *tpm = open_sim(&own);

	/* Absent: the blob names a primary made from the ECC template. */
	seal(tpm, &before);
	assert_int_equal(ssrp_blob_decode(&parts, before.data, before.len), SSRP_OK);
	assert_int_equal(parts.parent_handle, 0);
	assert_int_equal(parts.parent_alg, SSRP_TPM_ALG_ECC);

	int created = -1;
	assert_int_equal(ssrp_tpm_srk_provision(tpm, &created), SSRP_OK);
	assert_int_equal(created, 1);
	assert_int_equal(ssrp_tpm_srk_provision(tpm, &created), SSRP_OK);
	assert_int_equal(created, 0);

	/* Present: new blobs name the persistent handle... */
	seal(tpm, &after);
	assert_int_equal(ssrp_blob_decode(&parts, after.data, after.len), SSRP_OK);
	assert_int_equal(parts.parent_handle, SSRP_TPM_SRK_HANDLE);
	/* ...and both old and new blobs unseal (same seed, same template, same key). */
	assert_int_equal(ssrp_tpm_unseal(tpm, &out, after.data, after.len), SSRP_OK);
	ssrp_buf_free(&out);
	assert_int_equal(ssrp_tpm_unseal(tpm, &out, before.data, before.len), SSRP_OK);
	ssrp_buf_free(&out);
	ssrp_tpm_stats st = SSRP_TPM_STATS_INIT;
	assert_int_equal(ssrp_tpm_get_stats(tpm, &st), SSRP_OK);
	assert_true(st.commands > 10);
	ssrp_buf_free(&before);
	ssrp_buf_free(&after);
	ssrp_tpm_close(tpm);
	swtpm_fixture_stop(&own);
}

static void tpm_gone_is_reported(void **state)
{
	(void)state;
	ssrp_sim_swtpm gone;
	swtpm_fixture_start(&gone);
	char spec[256];
	snprintf(spec, sizeof spec, "%s", gone.spec);
	swtpm_fixture_stop(&gone);
	ssrp_tpm *tpm = NULL;
	assert_int_equal(ssrp_tpm_open(&tpm, spec), SSRP_E_TPM_ABSENT);
	assert_non_null(strstr(ssrp_error_last(), "no TPM answered"));
	assert_null(tpm);
}

int main(void)
{
	setenv("TSS2_LOG", "all+NONE", 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(restart_allows_unseal_again),
		cmocka_unit_test(blob_from_another_tpm),
		cmocka_unit_test(tampered_object_refused_by_tpm),
		cmocka_unit_test(persistent_srk_absent_then_present),
		cmocka_unit_test(tpm_gone_is_reported),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
