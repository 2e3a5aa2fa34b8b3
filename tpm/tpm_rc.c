/* TPM 2.0 response codes in a person's words. Portable: used by every
 * backend (tss2 passes ESAPI's TPM-layer codes, tbs the raw ones). */
#include <stdio.h>

#include "ssrp/sys/tpm.h"

/* Part 2, 6.6: format-one codes carry handle/parameter/session numbers in
 * bits 6 and 8-11; keeping bits 0-5 and 7 gives the error itself. */
static uint32_t rc_base(uint32_t rc)
{
	rc &= 0xFFFFu;
	return (rc & 0x080u) ? (rc & 0x0BFu) : (rc & 0xFFFu);
}

static const struct {
	uint32_t rc;
	int code;
	const char *text;
} known[] = {
	{0x922, SSRP_E_TPM_BUSY, "the TPM asked to retry the command"},
	{0x908, SSRP_E_TPM_BUSY, "the TPM yielded before finishing the command"},
	{0x90A, SSRP_E_TPM_BUSY, "the TPM is running its self-test"},
	{0x909, SSRP_E_TPM_BUSY, "the command was cancelled"},
	{0x921, SSRP_E_TPM_LOCKOUT,
	 "the TPM is in dictionary-attack lockout after too many failed authorisations"},
	{0x09D, SSRP_E_TPM_PCR_MISMATCH,
	 "the TPM refused because the PCR values differ from those it was sealed to; a "
	 "firmware update, a Secure Boot setting change or a different boot path is the "
	 "usual cause"},
	{0x128, SSRP_E_TPM_PCR_MISMATCH, "the PCR values changed during the command"},
	{0x09F, SSRP_E_TPM_INTEGRITY,
	 "the TPM's integrity check on the sealed object failed: the blob was altered, or "
	 "it was sealed under a different storage key"},
	{0x08E, SSRP_E_TPM, "authorisation failed"},
	{0x0A2, SSRP_E_TPM, "authorisation HMAC check failed"},
	{0x100, SSRP_E_TPM_ABSENT, "the TPM has not been started (TPM2_Startup missing)"},
	{0x101, SSRP_E_TPM_ABSENT, "the TPM is in failure mode"},
	{0x120, SSRP_E_TPM, "the command is disabled"},
	{0x085, SSRP_E_TPM, "the hierarchy is disabled or not valid for this command"},
	{0x08B, SSRP_E_TPM, "a handle does not refer to a loaded object"},
	{0x084, SSRP_E_TPM, "a value is out of range"},
	{0x095, SSRP_E_TPM, "a structure has the wrong size"},
	{0x0A6, SSRP_E_NOTSUPPORTED, "the TPM does not implement this ECC curve"},
	{0x081, SSRP_E_NOTSUPPORTED, "the TPM does not support this asymmetric algorithm"},
	{0x082, SSRP_E_NOTSUPPORTED, "the TPM does not support this algorithm"},
	{0x902, SSRP_E_TPM, "the TPM has no room for another object (flush or use a resource manager)"},
	{0x903, SSRP_E_TPM, "the TPM has no room for another session"},
	{0x905, SSRP_E_TPM, "the TPM is out of session handles"},
	{0x906, SSRP_E_TPM, "the TPM is out of object handles"},
	{0x920, SSRP_E_TPM_BUSY, "the TPM's NV memory is rate-limited; try again shortly"},
	{0x923, SSRP_E_TPM_BUSY, "the TPM's NV memory is unavailable for now"},
	{0x14C, SSRP_E_TPM, "the persistent handle is already in use"},
	{0x143, SSRP_E_TPM, "a command code is not implemented by this TPM"},
};

int ssrp_tpm_rc_error(uint32_t rc, const char *what)
{
	if (!what)
		what = "TPM command";
	if (rc == 0)
		return SSRP_OK;
	uint32_t base = rc_base(rc);
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (known[i].rc == base)
			return ssrp_error_set(known[i].code, "%s: %s (TPM rc 0x%03x)", what,
					      known[i].text, (unsigned)(rc & 0xFFFFu));
	return ssrp_error_set(SSRP_E_TPM, "%s: the TPM answered with response code 0x%03x", what,
			      (unsigned)(rc & 0xFFFFu));
}
