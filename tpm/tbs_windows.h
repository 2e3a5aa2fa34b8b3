/* The TPM Base Services calls of the Windows transport
 * (tbs_transport_windows.c) as a table: tbs.dll's in production, a
 * scripted TBS in tests/mingw/unit_tbs_windows.c. Windows only; not
 * installed. */
#ifndef SSRP_TPM_TBS_WINDOWS_H
#define SSRP_TPM_TBS_WINDOWS_H

#include <windows.h>
#include <tbs.h>

#include "tpm/tbs_transport.h"

/* From Microsoft's tbs.h (Windows 8 and later), missing from mingw-w64's.
 * The structs get our own names, so that a tbs.h which does have them
 * cannot clash; their layouts are the documented ones. */
#ifndef TPM_VERSION_20
#define TPM_VERSION_12 1
#define TPM_VERSION_20 2
#endif

typedef struct ssrp_tpm_device_info { /* TPM_DEVICE_INFO */
	UINT32 structVersion;         /* must be TPM_VERSION_20 */
	UINT32 tpmVersion;
	UINT32 tpmInterfaceType;
	UINT32 tpmImpRevision;
} ssrp_tpm_device_info;

typedef TBS_RESULT(WINAPI *ssrp_tbs_get_device_info_fn)(UINT32 size, PVOID info);

typedef struct ssrp_tbs_api {
	/* Tbsi_GetDeviceInfo; NULL where tbs.dll has none (before Windows 8). */
	ssrp_tbs_get_device_info_fn get_device_info;
	TBS_RESULT(WINAPI *context_create)(const TBS_CONTEXT_PARAMS *params, TBS_HCONTEXT *context);
	TBS_RESULT(WINAPI *submit_command)(TBS_HCONTEXT context, TBS_COMMAND_LOCALITY locality,
					   TBS_COMMAND_PRIORITY priority, const BYTE *cmd, UINT32 cmd_len,
					   BYTE *rsp, UINT32 *rsp_len);
	TBS_RESULT(WINAPI *context_close)(TBS_HCONTEXT context);
} ssrp_tbs_api;

/* ssrp_tbs_transport_open_windows through api (copied into the transport). */
int ssrp_tbs_transport_open_api(ssrp_tbs_transport *out, const ssrp_tbs_api *api);

#endif
