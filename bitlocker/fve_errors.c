/* BitLocker's WMI answers in ssrp's terms. The HRESULT values and names are
 * those of Microsoft's winerror.h (FACILITY_FVE 0x31, FACILITY_ITF WBEM
 * 0x8004_1xxx, TBS 0x8028_4xxx); which method returns which is in the
 * "Win32_EncryptableVolume class" pages (Return value sections). The
 * sentences are ssrp's own, saying what to do where that is clear. */
#include <stdarg.h>
#include <stdio.h>

#include "bitlocker/fve_errors.h"

static const ssrp_fve_error fve_errors[] = {
	/* BitLocker (FACILITY_FVE) */
	{0x80310000u, SSRP_E_LOCKED, "FVE_E_LOCKED_VOLUME",
	 "the volume is locked; unlock it first"},
	{0x80310001u, SSRP_E_NOTSUPPORTED, "FVE_E_NOT_ENCRYPTED",
	 "the volume is not encrypted by BitLocker, so this cannot be done"},
	{0x80310002u, SSRP_E_TPM_ABSENT, "FVE_E_NO_TPM_BIOS",
	 "the firmware does not make a TPM available to BitLocker (a firmware update or setting "
	 "may be needed)"},
	{0x80310007u, SSRP_E_REFUSED, "FVE_E_SECURE_KEY_REQUIRED",
	 "the volume has no key protector, so protection cannot be turned on; add a TPM or "
	 "recovery-password protector first"},
	{0x80310008u, SSRP_E_NOTFOUND, "FVE_E_NOT_ACTIVATED",
	 "BitLocker is not turned on for this volume: it has no key protectors yet"},
	{0x80310009u, SSRP_E_GENERIC, "FVE_E_ACTION_NOT_ALLOWED",
	 "BitLocker could not do this now, possibly because another request was running at the "
	 "same time; try again"},
	{0x80310015u, SSRP_E_NOTSUPPORTED, "FVE_E_NOT_SUPPORTED",
	 "BitLocker does not support this volume"},
	{0x80310018u, SSRP_E_TPM_ABSENT, "FVE_E_TPM_NOT_OWNED",
	 "the TPM is not initialized for use (not owned); prepare it with tpm.msc or "
	 "Initialize-Tpm first"},
	{0x8031001Du, SSRP_E_REFUSED, "FVE_E_KEY_REQUIRED",
	 "BitLocker will not remove the last key protector of an encrypted volume while "
	 "protection is on"},
	{0x8031001Fu, SSRP_E_REFUSED, "FVE_E_VOLUME_BOUND_ALREADY",
	 "automatic unlocking uses this protector; turn automatic unlocking off first"},
	{0x80310021u, SSRP_E_REFUSED, "FVE_E_PROTECTION_DISABLED",
	 "protection is suspended on this volume (its key is stored in the clear); resume "
	 "protection first"},
	{0x80310023u, SSRP_E_NOTSUPPORTED, "FVE_E_FOREIGN_VOLUME",
	 "a TPM protector can only be added to the volume Windows is running from"},
	{0x80310025u, SSRP_E_TPM, "FVE_E_TPM_SRK_AUTH_NOT_ZERO",
	 "the TPM's storage root key has an authorization value, which BitLocker cannot use"},
	{0x80310027u, SSRP_E_BAD_KEY, "FVE_E_FAILED_AUTHENTICATION",
	 "the recovery password does not unlock this volume"},
	{0x80310028u, SSRP_E_NOTSUPPORTED, "FVE_E_NOT_OS_VOLUME",
	 "this can only be done on the volume Windows is running from"},
	{0x8031002Cu, SSRP_E_REFUSED, "FVE_E_POLICY_PASSWORD_REQUIRED",
	 "Group Policy requires a recovery password before encryption may begin"},
	{0x80310031u, SSRP_E_REFUSED, "FVE_E_PROTECTOR_EXISTS",
	 "the volume already has a protector of this kind, and BitLocker allows only one"},
	{0x80310033u, SSRP_E_NOTFOUND, "FVE_E_PROTECTOR_NOT_FOUND",
	 "the volume has no such key protector"},
	{0x80310035u, SSRP_E_INVALID, "FVE_E_INVALID_PASSWORD_FORMAT",
	 "BitLocker rejected the recovery password's format (48 digits in 8 groups of 6, each "
	 "group divisible by 11)"},
	{0x80310037u, SSRP_E_REFUSED, "FVE_E_FIPS_PREVENTS_RECOVERY_PASSWORD",
	 "the FIPS-compliance policy forbids recovery passwords on this Windows version"},
	{0x8031003Au, SSRP_E_INVALID, "FVE_E_INVALID_PROTECTOR_TYPE",
	 "the key protector is not of the kind this operation needs"},
	{0x8031003Fu, SSRP_E_TPM_ABSENT, "FVE_E_TPM_DISABLED",
	 "the TPM is disabled or deactivated in the firmware settings"},
	{0x80310040u, SSRP_E_NOTSUPPORTED, "FVE_E_NOT_ALLOWED_IN_SAFE_MODE",
	 "in Safe Mode BitLocker can only be used for recovery"},
	{0x80310041u, SSRP_E_TPM_PCR_MISMATCH, "FVE_E_TPM_INVALID_PCR",
	 "the TPM would not release the key because the boot state changed"},
	{0x80310042u, SSRP_E_TPM, "FVE_E_TPM_NO_VMK",
	 "the TPM did not give up BitLocker's volume master key"},
	{0x80310049u, SSRP_E_NOTSUPPORTED, "FVE_E_NO_LICENSE",
	 "this edition of Windows does not include BitLocker"},
	{0x8031004Eu, SSRP_E_GENERIC, "FVE_E_REBOOT_REQUIRED",
	 "Windows must restart before BitLocker can do this"},
	{0x80310053u, SSRP_E_NOTSUPPORTED, "FVE_E_NOT_ALLOWED_IN_VERSION",
	 "this Windows version does not allow this BitLocker operation"},
	{0x80310057u, SSRP_E_GENERIC, "FVE_E_TRANSIENT_STATE",
	 "BitLocker is changing the volume's state; try again shortly"},
	{0x8031005Cu, SSRP_E_REFUSED, "FVE_E_POLICY_RECOVERY_PASSWORD_NOT_ALLOWED",
	 "Group Policy does not allow recovery passwords on this volume"},
	{0x8031005Du, SSRP_E_REFUSED, "FVE_E_POLICY_RECOVERY_PASSWORD_REQUIRED",
	 "Group Policy requires a recovery password on this volume"},
	{0x8031005Eu, SSRP_E_REFUSED, "FVE_E_POLICY_RECOVERY_KEY_NOT_ALLOWED",
	 "Group Policy does not allow recovery keys on this volume"},
	{0x8031005Fu, SSRP_E_REFUSED, "FVE_E_POLICY_RECOVERY_KEY_REQUIRED",
	 "Group Policy requires a recovery key on this volume"},
	{0x80310060u, SSRP_E_REFUSED, "FVE_E_POLICY_STARTUP_PIN_NOT_ALLOWED",
	 "Group Policy does not allow a startup PIN"},
	{0x80310061u, SSRP_E_REFUSED, "FVE_E_POLICY_STARTUP_PIN_REQUIRED",
	 "Group Policy requires a startup PIN, so a TPM-only protector is not allowed"},
	{0x80310062u, SSRP_E_REFUSED, "FVE_E_POLICY_STARTUP_KEY_NOT_ALLOWED",
	 "Group Policy does not allow a startup key"},
	{0x80310063u, SSRP_E_REFUSED, "FVE_E_POLICY_STARTUP_KEY_REQUIRED",
	 "Group Policy requires a startup key, so a TPM-only protector is not allowed"},
	{0x80310064u, SSRP_E_REFUSED, "FVE_E_POLICY_STARTUP_PIN_KEY_NOT_ALLOWED",
	 "Group Policy does not allow a startup PIN with a startup key"},
	{0x80310065u, SSRP_E_REFUSED, "FVE_E_POLICY_STARTUP_PIN_KEY_REQUIRED",
	 "Group Policy requires a startup PIN and a startup key, so a TPM-only protector is not "
	 "allowed"},
	{0x80310066u, SSRP_E_REFUSED, "FVE_E_POLICY_STARTUP_TPM_NOT_ALLOWED",
	 "Group Policy does not allow a TPM-only protector"},
	{0x80310067u, SSRP_E_REFUSED, "FVE_E_POLICY_STARTUP_TPM_REQUIRED",
	 "Group Policy requires a TPM-only protector"},
	{0x80310068u, SSRP_E_REFUSED, "FVE_E_POLICY_INVALID_PIN_LENGTH",
	 "the PIN's length is outside what Group Policy allows"},
	{0x80310069u, SSRP_E_NOTSUPPORTED, "FVE_E_KEY_PROTECTOR_NOT_SUPPORTED",
	 "this kind of key protector is not supported on this volume"},
	{0x8031006Au, SSRP_E_REFUSED, "FVE_E_POLICY_PASSPHRASE_NOT_ALLOWED",
	 "Group Policy does not allow passwords (passphrases) on this volume"},
	{0x8031006Bu, SSRP_E_REFUSED, "FVE_E_POLICY_PASSPHRASE_REQUIRED",
	 "Group Policy requires a password (passphrase) on this volume"},
	{0x80310090u, SSRP_E_REFUSED, "FVE_E_POLICY_CONFLICT_OSV_RP_OFF_ADB_ON",
	 "Group Policy conflicts: it forbids recovery passwords on the OS volume yet requires "
	 "them to be backed up to Active Directory"},
	/* TPM Base Services, as ProtectKeyWithTPM passes them on */
	{0x80284008u, SSRP_E_TPM_ABSENT, "TBS_E_SERVICE_NOT_RUNNING",
	 "no compatible TPM was found (the TPM Base Services service is not running)"},
	{0x8028400Fu, SSRP_E_TPM_ABSENT, "TBS_E_TPM_NOT_FOUND", "no compatible TPM was found"},
	/* WMI and COM, on the way to the provider */
	{0x80041002u, SSRP_E_NOTFOUND, "WBEM_E_NOT_FOUND", "WMI found no such object"},
	{0x80041003u, SSRP_E_PERMISSION, "WBEM_E_ACCESS_DENIED",
	 "access denied: BitLocker's WMI provider answers only an elevated Administrator (run "
	 "as Administrator)"},
	{0x80041006u, SSRP_E_NOMEM, "WBEM_E_OUT_OF_MEMORY", "WMI ran out of memory"},
	{0x8004100Eu, SSRP_E_NOTSUPPORTED, "WBEM_E_INVALID_NAMESPACE",
	 "this Windows has no BitLocker WMI provider (namespace "
	 "ROOT\\CIMV2\\Security\\MicrosoftVolumeEncryption)"},
	{0x80041010u, SSRP_E_NOTSUPPORTED, "WBEM_E_INVALID_CLASS",
	 "this Windows has no Win32_EncryptableVolume class"},
	{0x8004102Eu, SSRP_E_NOTSUPPORTED, "WBEM_E_INVALID_METHOD",
	 "this Windows version's Win32_EncryptableVolume lacks the method"},
	{0x8004102Fu, SSRP_E_INVALID, "WBEM_E_INVALID_METHOD_PARAMETERS",
	 "WMI rejected the method's parameters"},
	{0x80041087u, SSRP_E_GENERIC, "WBEM_E_ENCRYPTED_CONNECTION_REQUIRED",
	 "WMI requires an encrypted (packet privacy) connection to this namespace"},
	{0x80070005u, SSRP_E_PERMISSION, "E_ACCESSDENIED",
	 "access denied: managing BitLocker needs an elevated Administrator (run as "
	 "Administrator)"},
	{0x8007000Eu, SSRP_E_NOMEM, "E_OUTOFMEMORY", "out of memory"},
	{0x80070057u, SSRP_E_INVALID, "E_INVALIDARG", "BitLocker rejected an argument"},
};

#define FVE_ERRORS_N (sizeof fve_errors / sizeof fve_errors[0])

const ssrp_fve_error *ssrp_fve_errors(size_t *n)
{
	*n = FVE_ERRORS_N;
	return fve_errors;
}

const ssrp_fve_error *ssrp_fve_error_find(uint32_t hr)
{
	for (size_t i = 0; i < FVE_ERRORS_N; i++)
		if (fve_errors[i].hresult == hr)
			return &fve_errors[i];
	return NULL;
}

int ssrp_fve_error_set(uint32_t hr, const char *fmt, ...)
{
	char context[256] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(context, sizeof context, fmt, ap);
		va_end(ap);
	}
	const char *sep = context[0] ? ": " : "";
	const ssrp_fve_error *e = ssrp_fve_error_find(hr);
	if (e)
		return ssrp_error_set(e->code, "%s%s%s (%s, 0x%08lX)", context, sep, e->text,
				      e->name, (unsigned long)hr);
	/* FACILITY_FVE (0x31) is BitLocker's own; name it so the reader knows
	 * where to look the number up. */
	if ((hr & 0xFFFF0000u) == 0x80310000u)
		return ssrp_error_set(SSRP_E_GENERIC, "%s%sBitLocker failed with 0x%08lX", context,
				      sep, (unsigned long)hr);
	return ssrp_error_set(SSRP_E_GENERIC, "%s%sfailed with HRESULT 0x%08lX", context, sep,
			      (unsigned long)hr);
}

uint16_t ssrp_fve_method(uint32_t wmi_method)
{
	/* GetEncryptionMethod's values against the cipher ids in the metadata. */
	switch (wmi_method) {
	case 0: return 0;      /* None */
	case 1: return 0x8000; /* AES_128_WITH_DIFFUSER */
	case 2: return 0x8001; /* AES_256_WITH_DIFFUSER */
	case 3: return 0x8002; /* AES_128 */
	case 4: return 0x8003; /* AES_256 */
	case 6: return 0x8004; /* XTS_AES_128 */
	case 7: return 0x8005; /* XTS_AES_256 */
	default: return SSRP_FVE_METHOD_UNKNOWN; /* 5 HARDWARE_ENCRYPTION, (uint32)-1 UNKNOWN */
	}
}

ssrp_protector_type ssrp_fve_protector_type(uint32_t wmi_type, uint16_t *protection_code)
{
	/* GetKeyProtectorType's values; the clear key (on-disk 0x0000) is never
	 * listed by WMI, so 0 is free to mean "no documented value". */
	ssrp_protector_type type = SSRP_PROTECTOR_OTHER;
	uint16_t code = 0;
	switch (wmi_type) {
	case 1: type = SSRP_PROTECTOR_TPM; code = 0x0100; break;
	case 2: type = SSRP_PROTECTOR_STARTUP_KEY; code = 0x0200; break; /* external key */
	case 3: type = SSRP_PROTECTOR_RECOVERY_PASSWORD; code = 0x0800; break;
	case 4: type = SSRP_PROTECTOR_TPM_PIN; code = 0x0500; break;
	case 8: type = SSRP_PROTECTOR_PASSWORD; code = 0x2000; break; /* passphrase */
	default: break; /* TPM + startup key, public key, TPM certificate, SID, unknown */
	}
	if (protection_code)
		*protection_code = code;
	return type;
}

ssrp_protection ssrp_fve_protection(uint32_t wmi_status)
{
	switch (wmi_status) {
	case 0: return SSRP_PROTECTION_OFF; /* unencrypted, converting, or suspended */
	case 1: return SSRP_PROTECTION_ON;
	default: return SSRP_PROTECTION_UNKNOWN; /* 2: the volume is locked */
	}
}
