/* The wmi backend's portable tables (bitlocker/fve_errors.c): BitLocker's
 * HRESULTs become the right ssrp code with a sentence naming the HRESULT,
 * unknown ones say their number, and the protector-type and method maps
 * agree with Microsoft's Win32_EncryptableVolume pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bitlocker/fve_errors.h"

static void expect_words(const char *words)
{
	if (!strstr(ssrp_error_last(), words))
		fail_msg("message '%s' lacks '%s'", ssrp_error_last(), words);
}

/* hr maps to code, and the message carries context, name, hex and words. */
static void expect_mapping(uint32_t hr, int code, const char *name, const char *hex,
			   const char *words)
{
	ssrp_error_clear();
	assert_int_equal(ssrp_fve_error_set(hr, "wmi backend: %s on drive %c", "Method", 'C'),
			 code);
	assert_int_equal(ssrp_error_last_code(), code);
	expect_words("wmi backend: Method on drive C: ");
	expect_words(name);
	expect_words(hex);
	expect_words(words);
}

static void known_codes(void **state)
{
	(void)state;
	expect_mapping(0x80310000u, SSRP_E_LOCKED, "FVE_E_LOCKED_VOLUME", "0x80310000", "locked");
	expect_mapping(0x80310008u, SSRP_E_NOTFOUND, "FVE_E_NOT_ACTIVATED", "0x80310008",
		       "not turned on");
	expect_mapping(0x80310027u, SSRP_E_BAD_KEY, "FVE_E_FAILED_AUTHENTICATION", "0x80310027",
		       "does not unlock");
	expect_mapping(0x80310033u, SSRP_E_NOTFOUND, "FVE_E_PROTECTOR_NOT_FOUND", "0x80310033",
		       "no such key protector");
	expect_mapping(0x80310031u, SSRP_E_REFUSED, "FVE_E_PROTECTOR_EXISTS", "0x80310031",
		       "only one");
	expect_mapping(0x80310069u, SSRP_E_NOTSUPPORTED, "FVE_E_KEY_PROTECTOR_NOT_SUPPORTED",
		       "0x80310069", "not supported");
	expect_mapping(0x8031001Du, SSRP_E_REFUSED, "FVE_E_KEY_REQUIRED", "0x8031001D",
		       "last key protector");
	expect_mapping(0x80310007u, SSRP_E_REFUSED, "FVE_E_SECURE_KEY_REQUIRED", "0x80310007",
		       "no key protector");
	expect_mapping(0x8031001Fu, SSRP_E_REFUSED, "FVE_E_VOLUME_BOUND_ALREADY", "0x8031001F",
		       "automatic unlocking");
	expect_mapping(0x80310041u, SSRP_E_TPM_PCR_MISMATCH, "FVE_E_TPM_INVALID_PCR",
		       "0x80310041", "boot state changed");
	expect_mapping(0x80310035u, SSRP_E_INVALID, "FVE_E_INVALID_PASSWORD_FORMAT", "0x80310035",
		       "48 digits");
}

static void tpm_absent(void **state)
{
	(void)state;
	expect_mapping(0x80310018u, SSRP_E_TPM_ABSENT, "FVE_E_TPM_NOT_OWNED", "0x80310018",
		       "not initialized");
	expect_mapping(0x8031003Fu, SSRP_E_TPM_ABSENT, "FVE_E_TPM_DISABLED", "0x8031003F",
		       "disabled");
	expect_mapping(0x80310002u, SSRP_E_TPM_ABSENT, "FVE_E_NO_TPM_BIOS", "0x80310002",
		       "firmware");
	expect_mapping(0x80284008u, SSRP_E_TPM_ABSENT, "TBS_E_SERVICE_NOT_RUNNING", "0x80284008",
		       "no compatible TPM");
	expect_mapping(0x8028400Fu, SSRP_E_TPM_ABSENT, "TBS_E_TPM_NOT_FOUND", "0x8028400F",
		       "no compatible TPM");
}

static void group_policy(void **state)
{
	(void)state;
	/* Every FVE_E_POLICY_* in the table is a refusal that names Group Policy. */
	size_t n = 0, policies = 0;
	const ssrp_fve_error *t = ssrp_fve_errors(&n);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(t[i].name, "FVE_E_POLICY_", 13))
			continue;
		policies++;
		assert_int_equal(t[i].code, SSRP_E_REFUSED);
		if (!strstr(t[i].text, "Group Policy"))
			fail_msg("%s: '%s' does not name Group Policy", t[i].name, t[i].text);
	}
	assert_true(policies >= 14);
	expect_mapping(0x80310066u, SSRP_E_REFUSED, "FVE_E_POLICY_STARTUP_TPM_NOT_ALLOWED",
		       "0x80310066", "TPM-only");
	expect_mapping(0x8031005Cu, SSRP_E_REFUSED, "FVE_E_POLICY_RECOVERY_PASSWORD_NOT_ALLOWED",
		       "0x8031005C", "recovery passwords");
}

static void access_denied(void **state)
{
	(void)state;
	expect_mapping(0x80070005u, SSRP_E_PERMISSION, "E_ACCESSDENIED", "0x80070005",
		       "Administrator");
	expect_mapping(0x80041003u, SSRP_E_PERMISSION, "WBEM_E_ACCESS_DENIED", "0x80041003",
		       "Administrator");
	expect_mapping(0x8004100Eu, SSRP_E_NOTSUPPORTED, "WBEM_E_INVALID_NAMESPACE", "0x8004100E",
		       "MicrosoftVolumeEncryption");
	expect_mapping(0x80070057u, SSRP_E_INVALID, "E_INVALIDARG", "0x80070057", "argument");
}

static void unknown_codes(void **state)
{
	(void)state;
	ssrp_error_clear();
	assert_int_equal(ssrp_fve_error_set(0x803100FEu, "ctx"), SSRP_E_GENERIC);
	expect_words("ctx: BitLocker failed with 0x803100FE");
	assert_int_equal(ssrp_fve_error_set(0x80004005u, "ctx %d", 2), SSRP_E_GENERIC);
	expect_words("ctx 2: failed with HRESULT 0x80004005");
	/* No context: the sentence stands alone. */
	assert_int_equal(ssrp_fve_error_set(0xC0000022u, NULL), SSRP_E_GENERIC);
	assert_string_equal(ssrp_error_last(), "failed with HRESULT 0xC0000022");
	assert_int_equal(ssrp_fve_error_set(0x80310000u, NULL), SSRP_E_LOCKED);
	assert_string_equal(ssrp_error_last(), "the volume is locked; unlock it first "
					       "(FVE_E_LOCKED_VOLUME, 0x80310000)");
	assert_null(ssrp_fve_error_find(0));
	assert_null(ssrp_fve_error_find(0x803100FEu));
}

static void table_is_sound(void **state)
{
	(void)state;
	size_t n = 0;
	const ssrp_fve_error *t = ssrp_fve_errors(&n);
	assert_true(n > 40);
	for (size_t i = 0; i < n; i++) {
		/* A failure HRESULT (severity bit), a real ssrp error, words. */
		assert_true(t[i].hresult & 0x80000000u);
		assert_true(t[i].code < 0);
		assert_true(t[i].name && t[i].name[0]);
		assert_true(t[i].text && strlen(t[i].text) > 10);
		assert_true(t[i].text[strlen(t[i].text) - 1] != '.');
		assert_ptr_equal(ssrp_fve_error_find(t[i].hresult), &t[i]);
		/* The names follow their facility's numbering. */
		if (!strncmp(t[i].name, "FVE_E_", 6))
			assert_int_equal(t[i].hresult >> 16, 0x8031);
		else if (!strncmp(t[i].name, "WBEM_E_", 7))
			assert_int_equal(t[i].hresult >> 16, 0x8004);
		else if (!strncmp(t[i].name, "TBS_E_", 6))
			assert_int_equal(t[i].hresult >> 16, 0x8028);
		else if (!strncmp(t[i].name, "E_", 2))
			assert_int_equal(t[i].hresult >> 16, 0x8007);
		else
			fail_msg("unexpected name %s", t[i].name);
		for (size_t j = 0; j < i; j++)
			if (t[j].hresult == t[i].hresult || !strcmp(t[j].name, t[i].name))
				fail_msg("%s listed twice", t[i].name);
	}
	/* The numbers the backend compares against agree with the table. */
	assert_string_equal(ssrp_fve_error_find(SSRP_HR_FVE_E_LOCKED_VOLUME)->name,
			    "FVE_E_LOCKED_VOLUME");
	assert_string_equal(ssrp_fve_error_find(SSRP_HR_FVE_E_NOT_ENCRYPTED)->name,
			    "FVE_E_NOT_ENCRYPTED");
	assert_string_equal(ssrp_fve_error_find(SSRP_HR_FVE_E_NOT_ACTIVATED)->name,
			    "FVE_E_NOT_ACTIVATED");
	assert_string_equal(ssrp_fve_error_find(SSRP_HR_FVE_E_FAILED_AUTHENTICATION)->name,
			    "FVE_E_FAILED_AUTHENTICATION");
	assert_string_equal(ssrp_fve_error_find(SSRP_HR_FVE_E_PROTECTOR_NOT_FOUND)->name,
			    "FVE_E_PROTECTOR_NOT_FOUND");
	assert_string_equal(ssrp_fve_error_find(SSRP_HR_E_INVALIDARG)->name, "E_INVALIDARG");
	assert_string_equal(ssrp_fve_error_find(SSRP_HR_E_ACCESSDENIED)->name, "E_ACCESSDENIED");
	assert_string_equal(ssrp_fve_error_find(SSRP_HR_WBEM_E_NOT_FOUND)->name,
			    "WBEM_E_NOT_FOUND");
}

static void protector_types(void **state)
{
	(void)state;
	static const struct {
		uint32_t wmi;
		ssrp_protector_type type;
		uint16_t code;
	} cases[] = {
		{0, SSRP_PROTECTOR_OTHER, 0},
		{1, SSRP_PROTECTOR_TPM, 0x0100},
		{2, SSRP_PROTECTOR_STARTUP_KEY, 0x0200},
		{3, SSRP_PROTECTOR_RECOVERY_PASSWORD, 0x0800},
		{4, SSRP_PROTECTOR_TPM_PIN, 0x0500},
		{5, SSRP_PROTECTOR_OTHER, 0}, /* TPM and startup key */
		{6, SSRP_PROTECTOR_OTHER, 0}, /* TPM, PIN and startup key */
		{7, SSRP_PROTECTOR_OTHER, 0}, /* public key */
		{8, SSRP_PROTECTOR_PASSWORD, 0x2000},
		{9, SSRP_PROTECTOR_OTHER, 0},  /* TPM certificate */
		{10, SSRP_PROTECTOR_OTHER, 0}, /* SID */
		{0xFFFFFFFFu, SSRP_PROTECTOR_OTHER, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint16_t code = 0xBEEF;
		assert_int_equal(ssrp_fve_protector_type(cases[i].wmi, &code), cases[i].type);
		assert_int_equal(code, cases[i].code);
		assert_int_equal(ssrp_fve_protector_type(cases[i].wmi, NULL), cases[i].type);
	}
}

static void methods_and_protection(void **state)
{
	(void)state;
	static const uint16_t methods[] = {0,      0x8000, 0x8001, 0x8002,
					   0x8003, SSRP_FVE_METHOD_UNKNOWN, 0x8004, 0x8005};
	for (uint32_t m = 0; m < sizeof methods / sizeof methods[0]; m++)
		assert_int_equal(ssrp_fve_method(m), methods[m]);
	assert_int_equal(ssrp_fve_method(8), SSRP_FVE_METHOD_UNKNOWN);
	assert_int_equal(ssrp_fve_method(0xFFFFFFFFu), SSRP_FVE_METHOD_UNKNOWN);

	assert_int_equal(ssrp_fve_protection(0), SSRP_PROTECTION_OFF);
	assert_int_equal(ssrp_fve_protection(1), SSRP_PROTECTION_ON);
	assert_int_equal(ssrp_fve_protection(2), SSRP_PROTECTION_UNKNOWN);
	assert_int_equal(ssrp_fve_protection(7), SSRP_PROTECTION_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_codes),
		cmocka_unit_test(tpm_absent),
		cmocka_unit_test(group_policy),
		cmocka_unit_test(access_denied),
		cmocka_unit_test(unknown_codes),
		cmocka_unit_test(table_is_sound),
		cmocka_unit_test(protector_types),
		cmocka_unit_test(methods_and_protection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
