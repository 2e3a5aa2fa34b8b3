/* What BitLocker's WMI provider (Win32_EncryptableVolume) answers, in
 * ssrp's terms: its HRESULTs as ssrp error codes with a sentence, its key
 * protector types and its encryption methods. Portable on purpose, with no
 * Windows header, so the tables are unit-tested on any system; the wmi
 * backend (backend_wmi.c) is their user. */
#ifndef SSRP_BITLOCKER_FVE_ERRORS_H
#define SSRP_BITLOCKER_FVE_ERRORS_H

#include <stddef.h>
#include <stdint.h>

#include "ssrp/sys/error.h"
#include "ssrp/volume.h"

/* HRESULTs the wmi backend treats specially, by number because winerror.h
 * in mingw-w64 has no FVE_E_* and this file includes no Windows header. */
#define SSRP_HR_E_ACCESSDENIED 0x80070005u
#define SSRP_HR_E_INVALIDARG 0x80070057u
#define SSRP_HR_WBEM_E_NOT_FOUND 0x80041002u
#define SSRP_HR_FVE_E_LOCKED_VOLUME 0x80310000u
#define SSRP_HR_FVE_E_NOT_ENCRYPTED 0x80310001u
#define SSRP_HR_FVE_E_NOT_ACTIVATED 0x80310008u
#define SSRP_HR_FVE_E_FAILED_AUTHENTICATION 0x80310027u
#define SSRP_HR_FVE_E_PROTECTOR_NOT_FOUND 0x80310033u

typedef struct ssrp_fve_error {
	uint32_t hresult;
	int code;         /* SSRP_E_* */
	const char *name; /* "FVE_E_LOCKED_VOLUME" */
	const char *text; /* what it means for the caller, one sentence without the period */
} ssrp_fve_error;

/* The whole table (for tests and documentation), *n entries. */
const ssrp_fve_error *ssrp_fve_errors(size_t *n);

/* The entry for hr, or NULL when the table has none. */
const ssrp_fve_error *ssrp_fve_error_find(uint32_t hr);

/* Record hr as this thread's error and return its code: "context: text
 * (NAME, 0x8031001D)", or SSRP_E_GENERIC with the HRESULT in hex when the
 * table does not know it. fmt is a printf format for the context (NULL:
 * none). */
int ssrp_fve_error_set(uint32_t hr, const char *fmt, ...) SSRP_PRINTF(2, 3);

/* The EncryptionMethod of GetEncryptionMethod as BitLocker's on-disk
 * method (0x8000..0x8005), 0 for "not encrypted", or
 * SSRP_FVE_METHOD_UNKNOWN for a self-encrypting drive's hardware encryption
 * and for anything this code does not know. */
#define SSRP_FVE_METHOD_UNKNOWN SSRP_VOLUME_METHOD_UNKNOWN
uint16_t ssrp_fve_method(uint32_t wmi_method);

/* The KeyProtectorType of GetKeyProtectorType as an ssrp type, and in
 * *protection_code (may be NULL) BitLocker's on-disk protection value, 0
 * when that is not one of the documented ones. */
ssrp_protector_type ssrp_fve_protector_type(uint32_t wmi_type, uint16_t *protection_code);

/* GetProtectionStatus's ProtectionStatus as ssrp_protection. */
ssrp_protection ssrp_fve_protection(uint32_t wmi_status);

#endif
