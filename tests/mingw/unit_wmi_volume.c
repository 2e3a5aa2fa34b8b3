/* The wmi volume backend (bitlocker/backend_wmi.c) through the volume core
 * over a scripted WMI (fake_wmi.c), checked against what Microsoft
 * documents for Win32_EncryptableVolume and WMI clients:
 *   - COM's process security is set (CoInitializeSecurity, packet privacy,
 *     before connecting; RPC_E_TOO_LATE taken as set) and every proxy
 *     gets the packet-privacy blanket;
 *   - DisableKeyProtectors on the OS volume carries DisableCount 0
 *     (suspended until EnableKeyProtectors, not for one restart);
 *   - ProtectKeyWithTPM leaves PlatformValidationProfile out unless the
 *     spec asks for the caller's PCRs ("?pcrs"): the scripted provider
 *     refuses, as Windows does, a profile that differs from Group Policy's;
 *   - GetConversionStatus gets its [in] PrecisionFactor.
 * A Windows program, run under Wine (which has no Win32_EncryptableVolume). */
#include <windows.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bitlocker/backend_wmi.h"
#include "bitlocker/volume_backends.h"
#include "fake_wmi.h"
#include "ssrp/volume.h"

#define HR_E_INVALIDARG 0x80070057u
#define BITLOCKER_NS L"ROOT\\CIMV2\\Security\\MicrosoftVolumeEncryption"
#define NEW_ID L"{1B2C3D4E-0000-4000-8000-00000000000A}"

/* The PCRs Group Policy sets in this scripted Windows (0: none). */
static uint32_t gp_profile;

static uint32_t profile_mask(const VARIANT *v)
{
	uint32_t mask = 0;
	UINT8 *data = NULL;
	LONG lo = 0, hi = -1;
	if (v->vt != (VT_ARRAY | VT_UI1) || FAILED(SafeArrayGetLBound(v->parray, 1, &lo)) ||
	    FAILED(SafeArrayGetUBound(v->parray, 1, &hi)) ||
	    FAILED(SafeArrayAccessData(v->parray, (void **)&data)))
		return 0xffffffffu;
	for (LONG i = 0; i <= hi - lo; i++)
		mask |= data[i] < 32 ? 1u << data[i] : 0;
	SafeArrayUnaccessData(v->parray);
	return mask;
}

static int given(const fake_obj *in, const WCHAR *name)
{
	const VARIANT *v = fake_obj_get(in, name);
	return v && v->vt != VT_NULL && v->vt != VT_EMPTY;
}

/* Win32_EncryptableVolume as a scripted Windows answers it. */
static HRESULT on_method(fake_wmi *w, const char *method, fake_obj *in, fake_obj **out)
{
	(void)w;
	fake_obj *o = fake_obj_new();
	UINT32 rv = 0;
	if (!strcmp(method, "GetProtectionStatus")) {
		fake_obj_set_u32(o, L"ProtectionStatus", 1);
	} else if (!strcmp(method, "GetLockStatus")) {
		fake_obj_set_u32(o, L"LockStatus", 0);
	} else if (!strcmp(method, "GetConversionStatus")) {
		fake_obj_set_u32(o, L"ConversionStatus", 2);
		fake_obj_set_u32(o, L"EncryptionPercentage", 57);
	} else if (!strcmp(method, "GetEncryptionMethod")) {
		fake_obj_set_u32(o, L"EncryptionMethod", 6); /* XTS-AES-128 */
	} else if (!strcmp(method, "ProtectKeyWithTPM")) {
		/* "If this parameter is specified while the corresponding Group
		 * Policy setting is enabled, it must match the Group Policy
		 * setting." */
		const VARIANT *p = fake_obj_get(in, L"PlatformValidationProfile");
		if (given(in, L"PlatformValidationProfile") && gp_profile &&
		    profile_mask(p) != gp_profile)
			rv = HR_E_INVALIDARG;
		else
			fake_obj_set_str(o, L"VolumeKeyProtectorID", NEW_ID);
	}
	fake_obj_set_u32(o, L"ReturnValue", rv);
	*out = o;
	return S_OK;
}

/* Objects alive before a test: one that failed half-way leaves some. */
static unsigned alive_before;

static int setup(void **state)
{
	(void)state;
	fake_wmi_reset();
	alive_before = fake_obj_alive();
	gp_profile = 0;
	fake.on_method = on_method;
	fake.klass = fake_obj_new();
	static const WCHAR *const none[] = {NULL};
	static const WCHAR *const conv[] = {L"PrecisionFactor", NULL};
	static const WCHAR *const disable[] = {L"DisableCount", NULL};
	static const WCHAR *const tpm[] = {L"FriendlyName", L"PlatformValidationProfile", NULL};
	fake_class_method(fake.klass, L"GetProtectionStatus", none);
	fake_class_method(fake.klass, L"GetLockStatus", none);
	fake_class_method(fake.klass, L"GetConversionStatus", conv);
	fake_class_method(fake.klass, L"GetEncryptionMethod", none);
	fake_class_method(fake.klass, L"DisableKeyProtectors", disable);
	fake_class_method(fake.klass, L"EnableKeyProtectors", none);
	fake_class_method(fake.klass, L"ProtectKeyWithTPM", tpm);
	fake_obj *row = fake_obj_new();
	fake_obj_set_str(row, L"__PATH",
			 L"\\\\HOST\\ROOT\\CIMV2\\Security\\MicrosoftVolumeEncryption:"
			 L"Win32_EncryptableVolume.DeviceID=\"\\\\\\\\?\\\\Volume{1}\\\\\"");
	fake.rows[fake.n_rows++] = row;
	return 0;
}

/* Every object the backend was given has been released. */
static int teardown(void **state)
{
	(void)state;
	fake_wmi_reset();
	assert_int_equal(fake_obj_alive(), alive_before);
	return 0;
}

static int open_scripted(void *ctx, const char *config)
{
	return ssrp_wmi_volume_open_api(ctx, config, &fake_wmi_api);
}

static ssrp_volume *open_volume(const char *config)
{
	static ssrp_volume_backend table;
	table = ssrp_volume_backend_wmi;
	table.open = open_scripted;
	ssrp_volume *vol = NULL;
	assert_int_equal(ssrp_volume_open_backend(&vol, &table, config), SSRP_OK);
	return vol;
}

static void open_sets_com_security(void **state)
{
	(void)state;
	ssrp_volume *vol = open_volume("C:");
	assert_int_equal(fake.initialize_calls, 1);
	assert_int_equal(fake.security_calls, 1);
	assert_int_equal(fake.security_authn_level, RPC_C_AUTHN_LEVEL_PKT_PRIVACY);
	assert_int_equal(fake.security_imp_level, RPC_C_IMP_LEVEL_IMPERSONATE);
	assert_true(fake.security_before_connect);
	assert_true(wcscmp(fake.ns, BITLOCKER_NS) == 0);
	assert_int_equal(fake.blanket_services, 1);
	assert_int_equal(fake.blanket_enum, 1);
	assert_int_equal(fake.blanket_below_privacy, 0);
	assert_non_null(wcsstr(fake.query, L"DriveLetter='C:'"));
	ssrp_volume_close(vol);
	assert_int_equal(fake.uninitialize_calls, 1);
}

/* Set before by the host (or COM itself): RPC_E_TOO_LATE is no failure.
 * Any other refusal is, naming the step, with COM's initialization undone. */
static void open_security_set_before(void **state)
{
	(void)state;
	fake.security_hr = RPC_E_TOO_LATE;
	ssrp_volume *vol = open_volume("C:");
	assert_int_equal(fake.blanket_services, 1);
	ssrp_volume_close(vol);

	static ssrp_volume_backend table;
	table = ssrp_volume_backend_wmi;
	table.open = open_scripted;
	fake.security_hr = E_ACCESSDENIED;
	unsigned connects = fake.connect_calls;
	assert_int_not_equal(ssrp_volume_open_backend(&vol, &table, "C:"), SSRP_OK);
	assert_non_null(strstr(ssrp_error_last(), "process security"));
	assert_int_equal(fake.connect_calls, connects);
	assert_int_equal(fake.initialize_calls, fake.uninitialize_calls);
}

/* The OS volume: DisableCount 0, "until EnableKeyProtectors". */
static void protection_off_until_on(void **state)
{
	(void)state;
	WCHAR windir[MAX_PATH];
	assert_true(GetSystemWindowsDirectoryW(windir, MAX_PATH) > 2);
	assert_true(windir[0] == L'C' || windir[0] == L'c'); /* Wine's Windows is on C: */
	ssrp_volume *vol = open_volume("C:");
	assert_int_equal(ssrp_volume_protection_off(vol), SSRP_OK);
	const fake_call *call = fake_wmi_call("DisableKeyProtectors", 0);
	assert_non_null(call);
	assert_non_null(call->in);
	const VARIANT *count = fake_obj_get(call->in, L"DisableCount");
	assert_non_null(count);
	assert_int_equal(count->vt, VT_I4);
	assert_int_equal(count->lVal, 0);
	ssrp_volume_close(vol);
}

/* A data volume: DisableCount exists for OS volumes only; not sent. */
static void protection_off_data_volume(void **state)
{
	(void)state;
	ssrp_volume *vol = open_volume("D:");
	assert_int_equal(ssrp_volume_protection_off(vol), SSRP_OK);
	const fake_call *call = fake_wmi_call("DisableKeyProtectors", 0);
	assert_non_null(call);
	assert_false(call->in && given(call->in, L"DisableCount"));
	ssrp_volume_close(vol);
}

/* Group Policy sets PCRs 0, 2, 4, 11: "wmi:C:" sends no profile, so
 * Windows applies Group Policy's and the protector is made. */
static void tpm_protector_profile_left_to_windows(void **state)
{
	(void)state;
	gp_profile = (1u << 0) | (1u << 2) | (1u << 4) | (1u << 11);
	ssrp_volume *vol = open_volume("C:");
	char id[SSRP_PROTECTOR_ID_LEN + 1] = "";
	assert_int_equal(ssrp_volume_add_tpm_protector(vol, NULL, 0, id), SSRP_OK);
	assert_string_equal(id, "{1B2C3D4E-0000-4000-8000-00000000000A}");
	const fake_call *call = fake_wmi_call("ProtectKeyWithTPM", 0);
	assert_non_null(call);
	assert_false(call->in && given(call->in, L"PlatformValidationProfile"));

	/* Other PCRs asked for without "?pcrs": refused by name, not dropped. */
	assert_int_equal(ssrp_volume_add_tpm_protector(vol, NULL, gp_profile, id), SSRP_E_INVALID);
	assert_non_null(strstr(ssrp_error_last(), "wmi:C:?pcrs"));
	assert_null(fake_wmi_call("ProtectKeyWithTPM", 1));
	ssrp_volume_close(vol);
}

/* "wmi:C:?pcrs" sends the caller's PCRs: Group Policy's are accepted, the
 * default 7 and 11 are refused by the scripted Windows (E_INVALIDARG). */
static void tpm_protector_profile_configured(void **state)
{
	(void)state;
	gp_profile = (1u << 0) | (1u << 2) | (1u << 4) | (1u << 11);
	ssrp_volume *vol = open_volume("C:?pcrs");
	char id[SSRP_PROTECTOR_ID_LEN + 1] = "";
	assert_int_equal(ssrp_volume_add_tpm_protector(vol, NULL, gp_profile, id), SSRP_OK);
	const fake_call *call = fake_wmi_call("ProtectKeyWithTPM", 0);
	assert_non_null(call);
	assert_true(given(call->in, L"PlatformValidationProfile"));
	assert_int_equal(profile_mask(fake_obj_get(call->in, L"PlatformValidationProfile")),
			 gp_profile);
	assert_int_not_equal(ssrp_volume_add_tpm_protector(vol, NULL, 0, id), SSRP_OK);
	assert_non_null(strstr(ssrp_error_last(), "ProtectKeyWithTPM"));
	ssrp_volume_close(vol);
}

/* PrecisionFactor is an [in] parameter of GetConversionStatus: 0, whole
 * percent. */
static void conversion_status_precision(void **state)
{
	(void)state;
	ssrp_volume *vol = open_volume("C:");
	ssrp_volume_status st = SSRP_VOLUME_STATUS_INIT;
	assert_int_equal(ssrp_volume_get_status(vol, &st), SSRP_OK);
	assert_int_equal(st.percent_encrypted, 57);
	assert_int_equal(st.protection, SSRP_PROTECTION_ON);
	assert_int_equal(st.locked, 0);
	const fake_call *call = fake_wmi_call("GetConversionStatus", 0);
	assert_non_null(call);
	assert_non_null(call->in);
	const VARIANT *pf = fake_obj_get(call->in, L"PrecisionFactor");
	assert_non_null(pf);
	assert_int_equal(pf->vt, VT_I4);
	assert_int_equal(pf->lVal, 0);
	ssrp_volume_close(vol);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(open_sets_com_security, setup, teardown),
		cmocka_unit_test_setup_teardown(open_security_set_before, setup, teardown),
		cmocka_unit_test_setup_teardown(protection_off_until_on, setup, teardown),
		cmocka_unit_test_setup_teardown(protection_off_data_volume, setup, teardown),
		cmocka_unit_test_setup_teardown(tpm_protector_profile_left_to_windows, setup,
						teardown),
		cmocka_unit_test_setup_teardown(tpm_protector_profile_configured, setup, teardown),
		cmocka_unit_test_setup_teardown(conversion_status_precision, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
