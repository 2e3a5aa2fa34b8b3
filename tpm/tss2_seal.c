/* Seal and unseal with the tss2 backend.
 *
 * Seal: SRK → PCR_Read → policy digest computed here (PolicyPCR over the
 * values read) → Create of a KEYEDHASH object whose only authorisation is
 * that policy, inside a salted HMAC session with command-parameter
 * encryption, so the secret crosses the bus encrypted.
 * Unseal: SRK (checked against the blob's parent Name) → Load → salted
 * policy session with response encryption → PolicyPCR → Unseal. Sessions
 * are started without continueSession, so the TPM closes each one after its
 * last command; every object is flushed. */
#include <string.h>
#include <tss2/tss2_mu.h>

#include "hal/crypto.h"
#include "hal/mem.h"
#include "tpm/tpm_backends.h"
#include "tpm/tss2_internal.h"

static const TPMT_SYM_DEF session_symmetric = {
	.algorithm = TPM2_ALG_AES,
	.keyBits.aes = 128,
	.mode.aes = TPM2_ALG_CFB,
};

/* policyDigest = H(0^32 || TPM_CC_PolicyPCR || selection || H(PCR values)),
 * TPM 2.0 Part 3, 23.7. */
static int policy_pcr_digest(TPM2B_DIGEST *out, const TPML_PCR_SELECTION *sel,
			     const ssrp_pcr_values *pcrs)
{
	uint8_t values[SSRP_TPM_PCR_COUNT * 32];
	size_t n = 0;
	for (unsigned pcr = 0; pcr < SSRP_TPM_PCR_COUNT; pcr++)
		if (pcrs->mask & (1u << pcr)) {
			memcpy(values + n, pcrs->digest[pcr], 32);
			n += 32;
		}
	uint8_t buf[32 + 4 + sizeof(TPML_PCR_SELECTION) + 32];
	size_t off = 32;
	memset(buf, 0, 32);
	if (Tss2_MU_TPM2_CC_Marshal(TPM2_CC_PolicyPCR, buf, sizeof buf, &off) ||
	    Tss2_MU_TPML_PCR_SELECTION_Marshal(sel, buf, sizeof buf, &off) ||
	    ssrp_sha256(buf + off, values, n))
		return ssrp_error_set(SSRP_E_GENERIC, "computing the PCR policy digest failed");
	off += 32;
	out->size = 32;
	if (ssrp_sha256(out->buffer, buf, off))
		return ssrp_error_set(SSRP_E_GENERIC, "computing the PCR policy digest failed");
	return SSRP_OK;
}

/* A salted session bound to nothing; attrs says which way parameters are
 * encrypted. */
static int start_session(ssrp_tss2 *t, ESYS_TR srk, TPM2_SE type, TPMA_SESSION attrs,
			 ESYS_TR *out)
{
	TSS2_RC rc = Esys_StartAuthSession(t->esys, srk, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
					   ESYS_TR_NONE, NULL, type, &session_symmetric,
					   TPM2_ALG_SHA256, out);
	if (rc != TSS2_RC_SUCCESS)
		return ssrp_tss2_error(rc, "starting a salted session with the SRK");
	rc = Esys_TRSess_SetAttributes(t->esys, *out, attrs, 0xFF);
	if (rc != TSS2_RC_SUCCESS) {
		Esys_FlushContext(t->esys, *out);
		*out = ESYS_TR_NONE;
		return ssrp_tss2_error(rc, "setting session attributes");
	}
	return SSRP_OK;
}

/* After a command that used a session without continueSession, the TPM
 * has closed it; ESAPI keeps its bookkeeping until told. When the command
 * failed, the session is still open in the TPM and must be flushed. */
static void end_session(ssrp_tss2 *t, ESYS_TR *session, TSS2_RC last_rc)
{
	if (*session == ESYS_TR_NONE)
		return;
	if (last_rc == TSS2_RC_SUCCESS)
		Esys_TR_Close(t->esys, session);
	else
		Esys_FlushContext(t->esys, *session);
	*session = ESYS_TR_NONE;
}

static void sealed_template(TPM2B_PUBLIC *out, const TPM2B_DIGEST *policy)
{
	memset(out, 0, sizeof *out);
	out->publicArea.type = TPM2_ALG_KEYEDHASH;
	out->publicArea.nameAlg = TPM2_ALG_SHA256;
	/* No userWithAuth: only the policy can authorise use. */
	out->publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT;
	out->publicArea.authPolicy = *policy;
	out->publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
}

static int store_parts(ssrp_sealed_parts *out, const ssrp_tss2_srk *srk,
		       const TPM2B_PUBLIC *pub, const TPM2B_PRIVATE *priv)
{
	size_t off = 0;
	if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, out->public_area, sizeof out->public_area, &off))
		return ssrp_error_set(SSRP_E_TPM, "the sealed object's public part is too large");
	out->public_len = (uint16_t)off;
	off = 0;
	if (Tss2_MU_TPM2B_PRIVATE_Marshal(priv, out->private_area, sizeof out->private_area, &off))
		return ssrp_error_set(SSRP_E_TPM, "the sealed object's private part is too large");
	out->private_len = (uint16_t)off;
	if (srk->name.size > sizeof out->parent_name)
		return ssrp_error_set(SSRP_E_TPM, "the SRK's Name is longer than expected");
	out->parent_name_len = srk->name.size;
	memcpy(out->parent_name, srk->name.name, srk->name.size);
	out->parent_handle = srk->persistent ? SSRP_TPM_SRK_HANDLE : 0;
	out->parent_alg = srk->alg;
	return SSRP_OK;
}

/* Read the PCRs through the backend's own pcr_read slot. */
static int read_pcrs(void *ctx, ssrp_pcr_values *out, uint32_t mask)
{
	memset(out, 0, sizeof *out);
	return ssrp_tpm_backend_tss2.pcr_read(ctx, out, mask);
}

int ssrp_tss2_seal(void *ctx, ssrp_sealed_parts *out, const uint8_t *secret, size_t len,
		   uint32_t pcr_mask)
{
	ssrp_tss2 *t = ctx;
	ssrp_tss2_srk srk = {.handle = ESYS_TR_NONE};
	ESYS_TR session = ESYS_TR_NONE;
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_PRIVATE *priv = NULL;
	TPML_PCR_SELECTION sel;
	TPM2B_DIGEST policy;
	ssrp_pcr_values pcrs;
	TPM2B_SENSITIVE_CREATE sensitive;
	memset(&sensitive, 0, sizeof sensitive);

	ssrp_tss2_pcr_selection(&sel, pcr_mask);
	int rc = read_pcrs(ctx, &pcrs, pcr_mask);
	if (!rc)
		rc = policy_pcr_digest(&policy, &sel, &pcrs);
	if (!rc)
		rc = ssrp_tss2_srk_acquire(t, &srk);
	if (!rc)
		rc = start_session(t, srk.handle, TPM2_SE_HMAC, TPMA_SESSION_DECRYPT, &session);
	if (!rc) {
		TPM2B_PUBLIC tmpl;
		TPM2B_DATA outside = {0};
		TPML_PCR_SELECTION no_pcrs = {0};
		sealed_template(&tmpl, &policy);
		sensitive.sensitive.data.size = (UINT16)len;
		memcpy(sensitive.sensitive.data.buffer, secret, len);
		TSS2_RC trc = Esys_Create(t->esys, srk.handle, session, ESYS_TR_NONE, ESYS_TR_NONE,
					  &sensitive, &tmpl, &outside, &no_pcrs, &priv, &pub, NULL,
					  NULL, NULL);
		end_session(t, &session, trc);
		if (trc != TSS2_RC_SUCCESS)
			rc = ssrp_tss2_error(trc, "sealing under the SRK");
	}
	ssrp_memzero(&sensitive, sizeof sensitive);
	if (!rc) {
		out->pcr_alg = SSRP_TPM_ALG_SHA256;
		out->pcr_mask = pcr_mask;
		rc = store_parts(out, &srk, pub, priv);
	}
	Esys_Free(pub);
	Esys_Free(priv);
	ssrp_tss2_srk_release(t, &srk);
	return rc;
}

static int parse_parts(TPM2B_PUBLIC *pub, TPM2B_PRIVATE *priv, const ssrp_sealed_parts *in)
{
	size_t off = 0;
	memset(pub, 0, sizeof *pub);
	memset(priv, 0, sizeof *priv);
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(in->public_area, in->public_len, &off, pub) ||
	    off != in->public_len)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "sealed blob: the public record is not a valid TPM2B_PUBLIC");
	if (pub->publicArea.type != TPM2_ALG_KEYEDHASH || pub->publicArea.nameAlg != TPM2_ALG_SHA256)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "sealed blob: the object is not a sha256 sealed data object");
	off = 0;
	if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(in->private_area, in->private_len, &off, priv) ||
	    off != in->private_len)
		return ssrp_error_set(SSRP_E_FORMAT,
				      "sealed blob: the private record is not a valid TPM2B_PRIVATE");
	return SSRP_OK;
}

int ssrp_tss2_unseal(void *ctx, uint8_t *out, size_t *out_len, const ssrp_sealed_parts *in)
{
	ssrp_tss2 *t = ctx;
	ssrp_tss2_srk srk = {.handle = ESYS_TR_NONE};
	ESYS_TR item = ESYS_TR_NONE, session = ESYS_TR_NONE;
	TPM2B_PUBLIC pub;
	TPM2B_PRIVATE priv;
	TPML_PCR_SELECTION sel;
	TPM2B_SENSITIVE_DATA *data = NULL;

	ssrp_tss2_pcr_selection(&sel, in->pcr_mask);
	int rc = parse_parts(&pub, &priv, in);
	if (!rc)
		rc = ssrp_tss2_srk_for_blob(t, &srk, in);
	if (!rc) {
		TSS2_RC trc = Esys_Load(t->esys, srk.handle, ESYS_TR_PASSWORD, ESYS_TR_NONE,
					ESYS_TR_NONE, &priv, &pub, &item);
		if (trc != TSS2_RC_SUCCESS)
			rc = ssrp_tss2_error(trc, "loading the sealed object");
	}
	if (!rc)
		rc = start_session(t, srk.handle, TPM2_SE_POLICY, TPMA_SESSION_ENCRYPT, &session);
	if (!rc) {
		TPM2B_DIGEST any = {0}; /* empty: the TPM uses the current values */
		TSS2_RC trc = Esys_PolicyPCR(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE,
					     ESYS_TR_NONE, &any, &sel);
		if (trc == TSS2_RC_SUCCESS)
			trc = Esys_Unseal(t->esys, item, session, ESYS_TR_NONE, ESYS_TR_NONE, &data);
		end_session(t, &session, trc);
		if (trc != TSS2_RC_SUCCESS)
			rc = ssrp_tss2_error(trc, "unsealing");
	}
	if (!rc) {
		if (data->size > SSRP_TPM_SEAL_MAX) {
			rc = ssrp_error_set(SSRP_E_TPM, "the unsealed secret is larger than %d bytes",
					    SSRP_TPM_SEAL_MAX);
		} else {
			memcpy(out, data->buffer, data->size);
			*out_len = data->size;
		}
	}
	if (data) {
		ssrp_memzero(data, sizeof *data);
		Esys_Free(data);
	}
	if (item != ESYS_TR_NONE)
		Esys_FlushContext(t->esys, item);
	ssrp_tss2_srk_release(t, &srk);
	return rc;
}
