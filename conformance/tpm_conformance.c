/* The TPM backend conformance suite (see ssrp/conformance.h). It touches only
 * PCR 23 (application use), so it is safe on a real machine's TPM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "ssrp/tpm.h"
#include "ssrp/conformance.h"

#define TEST_PCR 23u

static const char *suite_spec;

static ssrp_tpm *open_tpm(void)
{
	ssrp_tpm *tpm = NULL;
	if (ssrp_tpm_open(&tpm, suite_spec) != SSRP_OK)
		fail_msg("opening '%s': %s", suite_spec, ssrp_error_last());
	return tpm;
}

/* Skip (pass) the rest of a test when the backend disclaims a service, after
 * checking that it answers SSRP_E_NOTSUPPORTED rather than crashing. */
static int lacks(ssrp_tpm *tpm, uint32_t cap)
{
	return !(ssrp_tpm_capabilities(tpm) & cap);
}

static void names_itself(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_tpm();
	assert_true(strlen(ssrp_tpm_backend_name(tpm)) > 0);
	assert_true(ssrp_tpm_capabilities(tpm) != 0);
	ssrp_tpm_close(tpm);
}

static void reports_info(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_tpm();
	ssrp_tpm_info info = SSRP_TPM_INFO_INIT;
	if (lacks(tpm, SSRP_TPM_CAP_INFO)) {
		assert_int_equal(ssrp_tpm_get_info(tpm, &info), SSRP_E_NOTSUPPORTED);
		ssrp_tpm_close(tpm);
		return;
	}
	assert_int_equal(ssrp_tpm_get_info(tpm, &info), SSRP_OK);
	assert_true(info.present);
	assert_string_equal(info.family, "2.0");
	assert_true(strlen(info.manufacturer) > 0);
	assert_true(info.spec_revision >= 100);
	int sha256 = 0;
	for (unsigned i = 0; i < info.n_banks; i++)
		if (info.banks[i].alg == SSRP_TPM_ALG_SHA256) {
			sha256 = 1;
			assert_int_equal(info.banks[i].pcr_mask & 0xFFFFFF, 0xFFFFFF);
		}
	assert_true(sha256);
	assert_true(info.max_auth_fail > 0);
	assert_true(info.lockout_counter <= info.max_auth_fail);
	ssrp_tpm_close(tpm);
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void gives_random(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_tpm();
	uint8_t a[200], b[200];
	if (lacks(tpm, SSRP_TPM_CAP_RANDOM)) {
		assert_int_equal(ssrp_tpm_get_random(tpm, a, 1), SSRP_E_NOTSUPPORTED);
		ssrp_tpm_close(tpm);
		return;
	}
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	assert_int_equal(ssrp_tpm_get_random(tpm, a, 1), SSRP_OK);
	assert_int_equal(ssrp_tpm_get_random(tpm, a, 33), SSRP_OK);
	assert_int_equal(ssrp_tpm_get_random(tpm, a, sizeof a), SSRP_OK);
	assert_int_equal(ssrp_tpm_get_random(tpm, b, sizeof b), SSRP_OK);
	assert_false(all_zero(a + 150, 50)); /* the tail too, past several chunks */
	assert_memory_not_equal(a, b, sizeof a);
	ssrp_tpm_close(tpm);
}

static void reads_pcrs(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_tpm();
	ssrp_pcr_values v, w;
	if (lacks(tpm, SSRP_TPM_CAP_PCR_READ)) {
		assert_int_equal(ssrp_tpm_pcr_read(tpm, &v, 1), SSRP_E_NOTSUPPORTED);
		ssrp_tpm_close(tpm);
		return;
	}
	/* All 24 at once: more than one TPM response holds (8 per answer). */
	assert_int_equal(ssrp_tpm_pcr_read(tpm, &v, 0xFFFFFF), SSRP_OK);
	assert_int_equal(v.mask, 0xFFFFFF);
	assert_int_equal(v.alg, SSRP_TPM_ALG_SHA256);
	assert_int_equal(ssrp_tpm_pcr_read(tpm, &w, 1u << 17), SSRP_OK);
	assert_memory_equal(v.digest[17], w.digest[17], 32);
	assert_int_equal(ssrp_tpm_pcr_read(tpm, &w, 0), SSRP_E_INVALID);
	ssrp_tpm_close(tpm);
}

static void extends_pcrs(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_tpm();
	if (lacks(tpm, SSRP_TPM_CAP_PCR_EXTEND)) {
		assert_int_equal(ssrp_tpm_pcr_extend(tpm, TEST_PCR, "x", 1), SSRP_E_NOTSUPPORTED);
		ssrp_tpm_close(tpm);
		return;
	}
	ssrp_pcr_values before, after;
	static const char event[] = "ssrp conformance event";
	assert_int_equal(ssrp_tpm_pcr_read(tpm, &before, 1u << TEST_PCR), SSRP_OK);
	assert_int_equal(ssrp_tpm_pcr_extend(tpm, TEST_PCR, event, strlen(event)), SSRP_OK);
	assert_int_equal(ssrp_tpm_pcr_read(tpm, &after, 1u << TEST_PCR), SSRP_OK);
	/* PCR_Event: new = H(old || H(event)). */
	uint8_t buf[64];
	memcpy(buf, before.digest[TEST_PCR], 32);
	SHA256((const uint8_t *)event, strlen(event), buf + 32);
	uint8_t expect[32];
	SHA256(buf, sizeof buf, expect);
	assert_memory_equal(after.digest[TEST_PCR], expect, 32);
	assert_int_equal(ssrp_tpm_pcr_extend(tpm, 24, "x", 1), SSRP_E_INVALID);
	ssrp_tpm_close(tpm);
}

static void seal_roundtrips(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_tpm();
	ssrp_buf blob = SSRP_BUF_INIT, out = SSRP_BUF_INIT;
	uint8_t secret[SSRP_TPM_SEAL_MAX];
	if (lacks(tpm, SSRP_TPM_CAP_SEAL)) {
		assert_int_equal(ssrp_tpm_seal(tpm, &blob, secret, 1, 0), SSRP_E_NOTSUPPORTED);
		assert_int_equal(ssrp_tpm_unseal(tpm, &out, (const uint8_t *)"x", 1),
				 SSRP_E_NOTSUPPORTED);
		ssrp_tpm_close(tpm);
		return;
	}
	for (size_t i = 0; i < sizeof secret; i++)
		secret[i] = (uint8_t)(i * 7 + 1);
	static const size_t sizes[] = {1, 32, SSRP_TPM_SEAL_MAX};
	/* Several rounds: a leaked handle or session would exhaust the TPM's
	 * three slots of each long before the end. */
	for (int round = 0; round < 4; round++)
		for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
			assert_int_equal(ssrp_tpm_seal(tpm, &blob, secret, sizes[s], 1u << TEST_PCR),
					 SSRP_OK);
			assert_int_equal(ssrp_tpm_unseal(tpm, &out, blob.data, blob.len), SSRP_OK);
			assert_int_equal(out.len, sizes[s]);
			assert_memory_equal(out.data, secret, sizes[s]);
			ssrp_buf_free(&out);
			ssrp_buf_free(&blob);
		}
	ssrp_tpm_close(tpm);
}

static void pcr_change_refuses_unseal(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_tpm();
	if (lacks(tpm, SSRP_TPM_CAP_SEAL) || lacks(tpm, SSRP_TPM_CAP_PCR_EXTEND)) {
		ssrp_tpm_close(tpm);
		return;
	}
	ssrp_buf blob = SSRP_BUF_INIT, out = SSRP_BUF_INIT;
	assert_int_equal(ssrp_tpm_seal(tpm, &blob, (const uint8_t *)"vmk", 3, 1u << TEST_PCR),
			 SSRP_OK);
	assert_int_equal(ssrp_tpm_pcr_extend(tpm, TEST_PCR, "update", 6), SSRP_OK);
	assert_int_equal(ssrp_tpm_unseal(tpm, &out, blob.data, blob.len), SSRP_E_TPM_PCR_MISMATCH);
	assert_null(out.data);
	assert_non_null(strstr(ssrp_error_last(), "firmware update"));
	/* The refusal left nothing behind: sealing and unsealing still work. */
	ssrp_buf_free(&blob);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ssrp_tpm_seal(tpm, &blob, (const uint8_t *)"k", 1, 1u << TEST_PCR),
				 SSRP_OK);
		assert_int_equal(ssrp_tpm_pcr_extend(tpm, TEST_PCR, "again", 5), SSRP_OK);
		assert_int_equal(ssrp_tpm_unseal(tpm, &out, blob.data, blob.len),
				 SSRP_E_TPM_PCR_MISMATCH);
		ssrp_buf_free(&blob);
	}
	ssrp_tpm_close(tpm);
}

static void damaged_blobs_refused(void **state)
{
	(void)state;
	ssrp_tpm *tpm = open_tpm();
	if (lacks(tpm, SSRP_TPM_CAP_SEAL)) {
		ssrp_tpm_close(tpm);
		return;
	}
	ssrp_buf blob = SSRP_BUF_INIT, out = SSRP_BUF_INIT;
	assert_int_equal(ssrp_tpm_seal(tpm, &blob, (const uint8_t *)"vmk", 3, 1u << TEST_PCR),
			 SSRP_OK);
	assert_int_equal(ssrp_tpm_unseal(tpm, &out, blob.data, blob.len / 2), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "truncated"));
	blob.data[blob.len / 2] ^= 0x01;
	assert_int_equal(ssrp_tpm_unseal(tpm, &out, blob.data, blob.len), SSRP_E_FORMAT);
	assert_non_null(strstr(ssrp_error_last(), "checksum"));
	assert_int_equal(ssrp_tpm_unseal(tpm, &out, (const uint8_t *)"garbage", 7), SSRP_E_FORMAT);
	assert_null(out.data);
	ssrp_buf_free(&blob);
	ssrp_tpm_close(tpm);
}

int ssrp_conformance_tpm_run(const char *group_name, const char *spec)
{
	suite_spec = spec;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_itself),
		cmocka_unit_test(reports_info),
		cmocka_unit_test(gives_random),
		cmocka_unit_test(reads_pcrs),
		cmocka_unit_test(extends_pcrs),
		cmocka_unit_test(seal_roundtrips),
		cmocka_unit_test(pcr_change_refuses_unseal),
		cmocka_unit_test(damaged_blobs_refused),
	};
	return _cmocka_run_group_tests(group_name, tests, sizeof tests / sizeof tests[0], NULL,
				       NULL);
}
