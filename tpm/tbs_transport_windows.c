/* The tbs backend's Windows transport: TPM Base Services (tbs.dll), the way
 * Windows shares its TPM between processes. Compiled only for Windows; link
 * with -ltbs. The handle TBS gives is the transport's whole state, so
 * nothing is allocated. */
#include <windows.h>
#include <tbs.h>

#include <string.h>

#include "tpm/tbs_transport.h"

/* From Microsoft's tbs.h (Windows 8 and later), missing from mingw-w64's.
 * The structs get our own names, so that a tbs.h which does have them
 * cannot clash; their layouts are the documented ones. A tbs.h that
 * defines TPM_VERSION_20 also declares Tbsi_GetDeviceInfo. */
#ifndef TPM_VERSION_20
#define TPM_VERSION_12 1
#define TPM_VERSION_20 2
TBS_RESULT WINAPI Tbsi_GetDeviceInfo(UINT32 Size, PVOID Info);
#endif

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

typedef struct ssrp_tpm_device_info { /* TPM_DEVICE_INFO */
	UINT32 structVersion;
	UINT32 tpmVersion;
	UINT32 tpmInterfaceType;
	UINT32 tpmImpRevision;
} ssrp_tpm_device_info;

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

static int tbs_submit(void *t, const uint8_t *cmd, size_t cmd_len, uint8_t *rsp, size_t rsp_cap,
		      size_t *rsp_len)
{
	*rsp_len = 0;
	if (cmd_len > UINT32_MAX || rsp_cap > UINT32_MAX)
		return ssrp_error_set(SSRP_E_INVALID, "a TPM command buffer over 4 GiB");
	UINT32 len = (UINT32)rsp_cap;
	TBS_RESULT result = Tbsip_Submit_Command((TBS_HCONTEXT)t, TBS_COMMAND_LOCALITY_ZERO,
						 TBS_COMMAND_PRIORITY_NORMAL, cmd, (UINT32)cmd_len,
						 rsp, &len);
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
	if (t)
		Tbsip_Context_Close((TBS_HCONTEXT)t);
}

int ssrp_tbs_transport_open_windows(ssrp_tbs_transport *out)
{
	memset(out, 0, sizeof *out);
	ssrp_tpm_device_info info;
	memset(&info, 0, sizeof info);
	TBS_RESULT result = Tbsi_GetDeviceInfo(sizeof info, &info);
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
	TBS_HCONTEXT context = NULL;
	result = Tbsi_Context_Create((const TBS_CONTEXT_PARAMS *)&params, &context);
	if (result != TBS_SUCCESS)
		return tbs_error(result, NULL);
	out->t = context;
	out->submit = tbs_submit;
	out->close = tbs_close;
	return SSRP_OK;
}
