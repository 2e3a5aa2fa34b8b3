/* The tbs backend's Windows transport: TPM Base Services (tbs.dll), the way
 * Windows shares its TPM between processes. Compiled only for Windows; link
 * with -ltbs.
 *
 * Tbsi_Context_Create, Tbsip_Submit_Command and Tbsip_Context_Close are in
 * tbs.dll since Windows Vista and imported as usual; Tbsi_GetDeviceInfo
 * only since Windows 8, so it is looked up at run time in the tbs.dll those
 * imports loaded: on an older Windows the open fails with a sentence
 * instead of the program not starting. The calls go through a table
 * (ssrp_tbs_api, tpm/tbs_windows.h) that a test fills with a scripted TBS.
 * The transport's state is that table and the context handle. */
#include <windows.h>
#include <tbs.h>

#include <string.h>

#include "hal/mem.h"
#include "tpm/tbs_transport.h"
#include "tpm/tbs_windows.h"

typedef struct ssrp_tbs_context_params2 { /* TBS_CONTEXT_PARAMS2 */
	UINT32 version;
	union {
		struct {
			UINT32 requestRaw : 1;
			UINT32 includeTpm12 : 1;
			UINT32 includeTpm20 : 1;
		};
		UINT32 asUINT32;
	};
} ssrp_tbs_context_params2;

/* TBS result codes (Microsoft's "TBS Return Codes"), by number because
 * winerror.h defines them as signed HRESULTs and not all of them. */
static const struct {
	uint32_t result;
	int code;
	const char *name;
	const char *text;
} tbs_results[] = {
	{0x80284001u, SSRP_E_TPM, "TBS_E_INTERNAL_ERROR", "TPM Base Services had an internal error"},
	{0x80284002u, SSRP_E_INVALID, "TBS_E_BAD_PARAMETER", "TPM Base Services refused a parameter"},
	{0x80284003u, SSRP_E_INVALID, "TBS_E_INVALID_OUTPUT_POINTER", "an output pointer was bad"},
	{0x80284004u, SSRP_E_INVALID, "TBS_E_INVALID_CONTEXT", "the TBS context is not valid"},
	{0x80284005u, SSRP_E_BUFSIZE, "TBS_E_INSUFFICIENT_BUFFER",
	 "the TPM's response did not fit in the buffer"},
	{0x80284006u, SSRP_E_IO, "TBS_E_IOERROR", "communicating with the TPM failed"},
	{0x80284007u, SSRP_E_NOTSUPPORTED, "TBS_E_INVALID_CONTEXT_PARAM",
	 "TPM Base Services refused a TPM 2.0 context (Windows 8 or later is needed)"},
	{0x80284008u, SSRP_E_TPM_ABSENT, "TBS_E_SERVICE_NOT_RUNNING",
	 "the TPM Base Services service (TBS) is not running and could not be started"},
	{0x80284009u, SSRP_E_TPM, "TBS_E_TOO_MANY_TBS_CONTEXTS",
	 "too many TPM Base Services contexts are open"},
	{0x8028400Au, SSRP_E_TPM, "TBS_E_TOO_MANY_RESOURCES",
	 "too many TPM virtual resources are open"},
	{0x8028400Bu, SSRP_E_TPM_BUSY, "TBS_E_SERVICE_START_PENDING",
	 "the TPM Base Services service is still starting; try again shortly"},
	{0x8028400Du, SSRP_E_TPM_BUSY, "TBS_E_COMMAND_CANCELED", "the TPM command was cancelled"},
	{0x8028400Eu, SSRP_E_INVALID, "TBS_E_BUFFER_TOO_LARGE",
	 "the command or response buffer is too large"},
	{0x8028400Fu, SSRP_E_TPM_ABSENT, "TBS_E_TPM_NOT_FOUND", "no TPM 2.0 found"},
	{0x80284010u, SSRP_E_TPM_ABSENT, "TBS_E_SERVICE_DISABLED",
	 "the TPM Base Services service (TBS) is disabled"},
	{0x80284012u, SSRP_E_TPM, "TBS_E_ACCESS_DENIED",
	 "access denied: Windows does not let this caller send that TPM command"},
};

/* "what: meaning (TBS_E_NAME)"; what may be NULL. */
static int tbs_error(TBS_RESULT result, const char *what)
{
	const char *sep = what ? ": " : "";
	if (!what)
		what = "";
	for (size_t i = 0; i < sizeof tbs_results / sizeof tbs_results[0]; i++)
		if (tbs_results[i].result == (uint32_t)result)
			return ssrp_error_set(tbs_results[i].code, "%s%s%s (%s)", what, sep,
					      tbs_results[i].text, tbs_results[i].name);
	return ssrp_error_set(SSRP_E_TPM, "%s%sTPM Base Services failed with 0x%08lx", what, sep,
			      (unsigned long)result);
}

typedef struct tbs_conn {
	ssrp_tbs_api api;
	TBS_HCONTEXT context;
} tbs_conn;

static int tbs_submit(void *t, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp, size_t rsp_cap,
		      size_t *rsp_len)
{
	tbs_conn *conn = t;
	*rsp_len = 0;
	if (cmd_len > UINT32_MAX || rsp_cap > UINT32_MAX)
		return ssrp_error_set(SSRP_E_INVALID, "a TPM command buffer over 4 GiB");
	UINT32 len = (UINT32)rsp_cap;
	TBS_RESULT result = conn->api.submit_command(conn->context, TBS_COMMAND_LOCALITY_ZERO,
						     TBS_COMMAND_PRIORITY_NORMAL, cmd,
						     (UINT32)cmd_len, rsp, &len);
	if (result != TBS_SUCCESS)
		return tbs_error(result, "sending a TPM command through TBS");
	if (len > rsp_cap)
		return ssrp_error_set(SSRP_E_TPM, "TBS reported %u response bytes for a %zu-byte "
						  "buffer",
				      (unsigned)len, rsp_cap);
	*rsp_len = len;
	return SSRP_OK;
}

static void tbs_close(void *t)
{
	tbs_conn *conn = t;
	if (!conn)
		return;
	conn->api.context_close(conn->context);
	ssrp_free(conn);
}

int ssrp_tbs_transport_open_api(ssrp_tbs_transport *out, const ssrp_tbs_api *api)
{
	memset(out, 0, sizeof *out);
	if (!api->get_device_info)
		return ssrp_error_set(SSRP_E_NOTSUPPORTED,
				      "this Windows' TPM Base Services (tbs.dll) has no "
				      "Tbsi_GetDeviceInfo: ssrp reaches a TPM 2.0 through TBS on "
				      "Windows 8 or later");
	ssrp_tpm_device_info info;
	memset(&info, 0, sizeof info);
	info.structVersion = TPM_VERSION_20; /* "must be set to TPM_VERSION_20" (TPM_DEVICE_INFO) */
	TBS_RESULT result = api->get_device_info(sizeof info, &info);
	if (result != TBS_SUCCESS)
		return tbs_error(result, NULL);
	if (info.tpmVersion != TPM_VERSION_20)
		return ssrp_error_set(SSRP_E_TPM_ABSENT,
				      "the TPM is version %s; ssrp needs a TPM 2.0",
				      info.tpmVersion == TPM_VERSION_12 ? "1.2" : "unknown");

	ssrp_tbs_context_params2 params;
	memset(&params, 0, sizeof params);
	params.version = TPM_VERSION_20; /* as Microsoft documents for PARAMS2 */
	params.includeTpm20 = 1;
	tbs_conn *conn = ssrp_calloc(1, sizeof *conn);
	if (!conn)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory opening TPM Base Services");
	conn->api = *api;
	result = api->context_create((const TBS_CONTEXT_PARAMS *)&params, &conn->context);
	if (result != TBS_SUCCESS) {
		ssrp_free(conn);
		return tbs_error(result, NULL);
	}
	out->t = conn;
	out->submit = tbs_submit;
	out->close = tbs_close;
	return SSRP_OK;
}

int ssrp_tbs_transport_open_windows(ssrp_tbs_transport *out)
{
	ssrp_tbs_api api = {
		.context_create = Tbsi_Context_Create,
		.submit_command = Tbsip_Submit_Command,
		.context_close = Tbsip_Context_Close,
	};
	/* The module the imports above loaded; never NULL while they are. */
	HMODULE tbs = GetModuleHandleW(L"tbs.dll");
	if (tbs)
		api.get_device_info =
			(ssrp_tbs_get_device_info_fn)(void (*)(void))GetProcAddress(tbs, "Tbsi_GetDeviceInfo");
	return ssrp_tbs_transport_open_api(out, &api);
}
