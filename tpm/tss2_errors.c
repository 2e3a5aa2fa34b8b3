/* ESAPI return codes in a person's words. TPM-layer codes go to the shared
 * table (tpm_rc.c); TSS-layer codes are mostly transport trouble. */
#include <tss2/tss2_rc.h>

#include "tpm/tss2_internal.h"

int ssrp_tss2_error(TSS2_RC rc, const char *what)
{
	if (rc == TSS2_RC_SUCCESS)
		return SSRP_OK;
	TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;
	if (layer == TSS2_TPM_RC_LAYER)
		return ssrp_tpm_rc_error(rc, what);
	switch (rc & 0xFFFFu) {
	case TSS2_BASE_RC_IO_ERROR:
	case TSS2_BASE_RC_NO_CONNECTION:
		return ssrp_error_set(SSRP_E_TPM_ABSENT,
				      "%s: the connection to the TPM failed (%s)", what,
				      Tss2_RC_Decode(rc));
	case TSS2_BASE_RC_TRY_AGAIN:
		return ssrp_error_set(SSRP_E_TPM_BUSY, "%s: the TPM did not answer in time (%s)",
				      what, Tss2_RC_Decode(rc));
	case TSS2_BASE_RC_RSP_AUTH_FAILED:
		return ssrp_error_set(SSRP_E_TPM,
				      "%s: the TPM's response failed its HMAC check; something "
				      "altered it on the way (%s)",
				      what, Tss2_RC_Decode(rc));
	case TSS2_BASE_RC_MALFORMED_RESPONSE:
	case TSS2_BASE_RC_INSUFFICIENT_RESPONSE:
		return ssrp_error_set(SSRP_E_TPM, "%s: the TPM sent a malformed response (%s)",
				      what, Tss2_RC_Decode(rc));
	case TSS2_BASE_RC_MEMORY:
		return ssrp_error_set(SSRP_E_NOMEM, "%s: out of memory in tpm2-tss", what);
	default:
		return ssrp_error_set(SSRP_E_TPM, "%s: %s", what, Tss2_RC_Decode(rc));
	}
}
