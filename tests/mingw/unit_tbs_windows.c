/* The Windows TBS transport (tpm/tbs_transport_windows.c) over a scripted
 * TPM Base Services: a table of fake tbs.dll functions that behave as
 * Microsoft documents them (Tbsi_GetDeviceInfo refuses a TPM_DEVICE_INFO
 * whose structVersion is not TPM_VERSION_20 with TBS_E_BAD_PARAMETER), and
 * the program's own import table. A Windows program, run under Wine. */
#include <windows.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ssrp/error.h"
#include "tpm/tbs_transport.h"
#include "tpm/tbs_windows.h"

#define TBS_E_BAD_PARAMETER_ 0x80284002u

static struct {
	unsigned device_info_calls, create_calls, close_calls;
	UINT32 struct_version_seen, size_seen;
	UINT32 tpm_version; /* what the TPM is */
	UINT32 params_version, params_flags;
	TBS_HCONTEXT closed;
} fake;

static int context_token; /* its address is the fake context handle */

static TBS_RESULT WINAPI fake_get_device_info(UINT32 size, PVOID info)
{
	fake.device_info_calls++;
	fake.size_seen = size;
	if (size < sizeof(ssrp_tpm_device_info) || !info)
		return TBS_E_BAD_PARAMETER_;
	ssrp_tpm_device_info *d = info;
	fake.struct_version_seen = d->structVersion;
	if (d->structVersion != TPM_VERSION_20) /* "must be set to TPM_VERSION_20" */
		return TBS_E_BAD_PARAMETER_;
	d->tpmVersion = fake.tpm_version;
	d->tpmInterfaceType = 0;
	d->tpmImpRevision = 0;
	return TBS_SUCCESS;
}

static TBS_RESULT WINAPI fake_context_create(const TBS_CONTEXT_PARAMS *params, TBS_HCONTEXT *out)
{
	fake.create_calls++;
	const UINT32 *p = (const UINT32 *)params; /* TBS_CONTEXT_PARAMS2: version, flags */
	fake.params_version = p[0];
	fake.params_flags = p[1];
	*out = &context_token;
	return TBS_SUCCESS;
}

/* Answers every command with the 10-byte TPM_RC_SUCCESS header. */
static TBS_RESULT WINAPI fake_submit(TBS_HCONTEXT ctx, TBS_COMMAND_LOCALITY loc,
				     TBS_COMMAND_PRIORITY prio, const BYTE *cmd, UINT32 cmd_len,
				     BYTE *rsp, UINT32 *rsp_len)
{
	(void)loc;
	(void)prio;
	(void)cmd;
	static const BYTE ok[10] = {0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0};
	if (ctx != &context_token || cmd_len < 10 || *rsp_len < sizeof ok)
		return TBS_E_BAD_PARAMETER_;
	memcpy(rsp, ok, sizeof ok);
	*rsp_len = sizeof ok;
	return TBS_SUCCESS;
}

static TBS_RESULT WINAPI fake_context_close(TBS_HCONTEXT ctx)
{
	fake.close_calls++;
	fake.closed = ctx;
	return TBS_SUCCESS;
}

static const ssrp_tbs_api fake_api = {
	.get_device_info = fake_get_device_info,
	.context_create = fake_context_create,
	.submit_command = fake_submit,
	.context_close = fake_context_close,
};

static int setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof fake);
	fake.tpm_version = TPM_VERSION_20;
	return 0;
}

/* TPM_DEVICE_INFO goes out with structVersion TPM_VERSION_20, so the TPM is
 * found; commands and close reach the context TBS gave. */
static void device_info_struct_version(void **state)
{
	(void)state;
	ssrp_tbs_transport t;
	assert_int_equal(ssrp_tbs_transport_open_api(&t, &fake_api), SSRP_OK);
	assert_int_equal(fake.device_info_calls, 1);
	assert_int_equal(fake.struct_version_seen, TPM_VERSION_20);
	assert_int_equal(fake.size_seen, 16);
	assert_int_equal(fake.create_calls, 1);
	assert_int_equal(fake.params_version, TPM_VERSION_20);
	assert_int_equal(fake.params_flags & 4u, 4u); /* includeTpm20 */

	uint8_t cmd[12] = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8}; /* GetRandom(8) */
	uint8_t rsp[64];
	size_t n = 0;
	assert_int_equal(t.submit(t.t, cmd, sizeof cmd, rsp, sizeof rsp, &n), SSRP_OK);
	assert_int_equal(n, 10);
	t.close(t.t);
	assert_int_equal(fake.close_calls, 1);
	assert_ptr_equal(fake.closed, &context_token);
}

/* A tbs.dll without Tbsi_GetDeviceInfo (before Windows 8): a sentence, no
 * context opened. */
static void device_info_missing(void **state)
{
	(void)state;
	ssrp_tbs_api api = fake_api;
	api.get_device_info = NULL;
	ssrp_tbs_transport t;
	assert_int_equal(ssrp_tbs_transport_open_api(&t, &api), SSRP_E_NOTSUPPORTED);
	assert_non_null(strstr(ssrp_error_last(), "Tbsi_GetDeviceInfo"));
	assert_non_null(strstr(ssrp_error_last(), "Windows 8 or later"));
	assert_int_equal(fake.create_calls, 0);
}

/* A TPM 1.2 is named as such; TBS's own refusals come back by name. */
static void device_info_answers(void **state)
{
	(void)state;
	ssrp_tbs_transport t;
	fake.tpm_version = TPM_VERSION_12;
	assert_int_equal(ssrp_tbs_transport_open_api(&t, &fake_api), SSRP_E_TPM_ABSENT);
	assert_non_null(strstr(ssrp_error_last(), "1.2"));
	assert_int_equal(fake.create_calls, 0);
}

/* The program (linked with the transport) imports tbs.dll's Vista-era
 * functions by name but not Tbsi_GetDeviceInfo: that one is looked up at
 * run time, so the program starts on a Windows without it. */
static int imports_function(const char *dll, const char *name)
{
	const BYTE *base = (const BYTE *)GetModuleHandleW(NULL);
	const IMAGE_DOS_HEADER *dos = (const IMAGE_DOS_HEADER *)base;
	const IMAGE_NT_HEADERS *nt = (const IMAGE_NT_HEADERS *)(base + dos->e_lfanew);
	const IMAGE_DATA_DIRECTORY *dir =
		&nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
	if (!dir->VirtualAddress)
		return 0;
	for (const IMAGE_IMPORT_DESCRIPTOR *d =
		     (const IMAGE_IMPORT_DESCRIPTOR *)(base + dir->VirtualAddress);
	     d->Name; d++) {
		if (lstrcmpiA((const char *)(base + d->Name), dll))
			continue;
		const IMAGE_THUNK_DATA *th = (const IMAGE_THUNK_DATA *)(base + d->OriginalFirstThunk);
		for (; th->u1.AddressOfData; th++) {
			if (IMAGE_SNAP_BY_ORDINAL(th->u1.Ordinal))
				continue;
			const IMAGE_IMPORT_BY_NAME *by =
				(const IMAGE_IMPORT_BY_NAME *)(base + th->u1.AddressOfData);
			if (!strcmp((const char *)by->Name, name))
				return 1;
		}
	}
	return 0;
}

static void device_info_not_imported(void **state)
{
	(void)state;
	assert_true(imports_function("tbs.dll", "Tbsi_Context_Create"));
	assert_true(imports_function("tbs.dll", "Tbsip_Submit_Command"));
	assert_false(imports_function("tbs.dll", "Tbsi_GetDeviceInfo"));
}

/* The production open finds Tbsi_GetDeviceInfo in the tbs.dll its imports
 * loaded (Wine's has it, and no TPM behind it): the answer is TBS's, not
 * "missing". */
static void device_info_found_at_run_time(void **state)
{
	(void)state;
	ssrp_tbs_transport t;
	int rc = ssrp_tbs_transport_open_windows(&t);
	if (rc == SSRP_OK) {
		t.close(t.t);
		return;
	}
	assert_null(strstr(ssrp_error_last(), "has no Tbsi_GetDeviceInfo"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(device_info_struct_version, setup),
		cmocka_unit_test_setup(device_info_missing, setup),
		cmocka_unit_test_setup(device_info_answers, setup),
		cmocka_unit_test_setup(device_info_not_imported, setup),
		cmocka_unit_test_setup(device_info_found_at_run_time, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
