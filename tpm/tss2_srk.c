/* The storage root key: the TCG SRK template (as systemd and the TCG
 * provisioning guidance use it), taken from persistent handle 0x81000001
 * when present, otherwise created as a transient primary each time — the
 * same seed gives the same key, so a blob finds its parent again. */
#include <string.h>
#include <tss2/tss2_mu.h>

#include "hal/crypto.h"
#include "tpm/tss2_internal.h"

#define SRK_ATTRIBUTES                                                                     \
	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |   \
	 TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED |               \
	 TPMA_OBJECT_DECRYPT)

static const TPMT_SYM_DEF_OBJECT srk_symmetric = {
	.algorithm = TPM2_ALG_AES,
	.keyBits.aes = 128,
	.mode.aes = TPM2_ALG_CFB,
};

static void srk_template(TPM2B_PUBLIC *out, uint16_t alg)
{
	memset(out, 0, sizeof *out);
	out->publicArea.nameAlg = TPM2_ALG_SHA256;
	out->publicArea.objectAttributes = SRK_ATTRIBUTES;
	if (alg == SSRP_TPM_ALG_ECC) {
		out->publicArea.type = TPM2_ALG_ECC;
		out->publicArea.parameters.eccDetail.symmetric = srk_symmetric;
		out->publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
		out->publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		out->publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	} else {
		out->publicArea.type = TPM2_ALG_RSA;
		out->publicArea.parameters.rsaDetail.symmetric = srk_symmetric;
		out->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
		out->publicArea.parameters.rsaDetail.keyBits = 2048;
	}
}

/* Name = nameAlg || SHA-256(marshalled TPMT_PUBLIC) (Part 1, 16). Computed
 * here because ESAPI's Esys_TR_GetName costs more than the TPM command it
 * follows (it sets up a hash context per call). */
static int name_of(TPM2B_NAME *out, const TPMT_PUBLIC *pub)
{
	uint8_t buf[sizeof(TPMT_PUBLIC)];
	size_t len = 0;
	if (pub->nameAlg != TPM2_ALG_SHA256 ||
	    Tss2_MU_TPMT_PUBLIC_Marshal(pub, buf, sizeof buf, &len) ||
	    Tss2_MU_UINT16_Marshal(pub->nameAlg, out->name, sizeof out->name,
				       &(size_t){0}) ||
	    ssrp_sha256(out->name + 2, buf, len))
		return ssrp_error_set(SSRP_E_TPM, "cannot compute the storage root key's Name");
	out->size = 2 + SSRP_SHA256_LEN;
	return SSRP_OK;
}

static TSS2_RC create_primary(ssrp_tss2 *t, uint16_t alg, ssrp_tss2_srk *out)
{
	TPM2B_PUBLIC tmpl, *pub = NULL;
	TPM2B_SENSITIVE_CREATE sensitive;
	TPM2B_DATA outside = {0};
	TPML_PCR_SELECTION no_pcrs = {0};
	memset(&sensitive, 0, sizeof sensitive);
	srk_template(&tmpl, alg);
	TSS2_RC rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
					ESYS_TR_NONE, &sensitive, &tmpl, &outside, &no_pcrs,
					&out->handle, &pub, NULL, NULL, NULL);
	if (rc == TSS2_RC_SUCCESS && name_of(&out->name, &pub->publicArea)) {
		Esys_FlushContext(t->esys, out->handle);
		out->handle = ESYS_TR_NONE;
		rc = TSS2_ESYS_RC_GENERAL_FAILURE;
	}
	Esys_Free(pub);
	return rc;
}

/* The TPM's answer when it lacks the curve or ECC altogether. */
static int is_unsupported_alg(TSS2_RC rc)
{
	uint32_t base = (rc & 0x80u) ? (rc & 0xBFu) : (rc & 0xFFFu);
	return (rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER &&
	       (base == TPM2_RC_CURVE || base == TPM2_RC_ASYMMETRIC || base == TPM2_RC_VALUE ||
		base == TPM2_RC_TYPE);
}

static int create_srk(ssrp_tss2 *t, ssrp_tss2_srk *out, uint16_t only_alg)
{
	TSS2_RC rc;
	if (only_alg != SSRP_TPM_ALG_RSA) {
		rc = create_primary(t, SSRP_TPM_ALG_ECC, out);
		if (rc == TSS2_RC_SUCCESS) {
			out->alg = SSRP_TPM_ALG_ECC;
			out->persistent = 0;
			return SSRP_OK;
		}
		if (only_alg == SSRP_TPM_ALG_ECC || !is_unsupported_alg(rc))
			return ssrp_tss2_error(rc, "creating the ECC storage root key");
	}
	rc = create_primary(t, SSRP_TPM_ALG_RSA, out);
	if (rc != TSS2_RC_SUCCESS)
		return ssrp_tss2_error(rc, "creating the RSA storage root key");
	out->alg = SSRP_TPM_ALG_RSA;
	out->persistent = 0;
	return SSRP_OK;
}

/* The persistent SRK, if 0x81000001 holds a restricted storage key.
 * Returns 1 found, 0 absent, negative on error. */
static int persistent_srk(ssrp_tss2 *t, ssrp_tss2_srk *out)
{
	ESYS_TR handle = ESYS_TR_NONE;
	if (t->no_persistent_srk)
		return 0;
	TSS2_RC rc = Esys_TR_FromTPMPublic(t->esys, SSRP_TPM_SRK_HANDLE, ESYS_TR_NONE, ESYS_TR_NONE,
					   ESYS_TR_NONE, &handle);
	if (rc != TSS2_RC_SUCCESS) {
		uint32_t base = (rc & 0x80u) ? (rc & 0xBFu) : (rc & 0xFFFu);
		if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER && base == TPM2_RC_HANDLE) {
			t->no_persistent_srk = 1;
			return 0;
		}
		return ssrp_tss2_error(rc, "looking for the persistent SRK at 0x81000001");
	}
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_NAME *name = NULL;
	rc = Esys_ReadPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub,
			     &name, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		Esys_TR_Close(t->esys, &handle);
		return ssrp_tss2_error(rc, "reading the persistent SRK");
	}
	TPMA_OBJECT want = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
	int usable = (pub->publicArea.objectAttributes & want) == want &&
		     (pub->publicArea.type == TPM2_ALG_ECC || pub->publicArea.type == TPM2_ALG_RSA);
	out->alg = pub->publicArea.type == TPM2_ALG_ECC ? SSRP_TPM_ALG_ECC : SSRP_TPM_ALG_RSA;
	out->name = *name;
	Esys_Free(pub);
	Esys_Free(name);
	if (!usable) {
		Esys_TR_Close(t->esys, &handle);
		return ssrp_error_set(SSRP_E_TPM,
				      "persistent handle 0x81000001 holds a key that is not a "
				      "storage root key (restricted decrypt ECC/RSA)");
	}
	out->handle = handle;
	out->persistent = 1;
	return 1;
}

int ssrp_tss2_srk_acquire(ssrp_tss2 *t, ssrp_tss2_srk *out)
{
	int found = persistent_srk(t, out);
	if (found < 0)
		return found;
	if (found)
		return SSRP_OK;
	return create_srk(t, out, 0);
}

static int same_name(const ssrp_tss2_srk *srk, const ssrp_sealed_parts *parts)
{
	return srk->name.size == parts->parent_name_len &&
	       !memcmp(srk->name.name, parts->parent_name, srk->name.size);
}

int ssrp_tss2_srk_for_blob(ssrp_tss2 *t, ssrp_tss2_srk *out, const ssrp_sealed_parts *parts)
{
	int found = persistent_srk(t, out);
	if (found < 0)
		return found;
	if (found) {
		if (same_name(out, parts))
			return SSRP_OK;
		ssrp_tss2_srk_release(t, out);
	}
	int rc = create_srk(t, out, parts->parent_alg);
	if (rc)
		return rc;
	if (same_name(out, parts))
		return SSRP_OK;
	ssrp_tss2_srk_release(t, out);
	return ssrp_error_set(SSRP_E_TPM_WRONG_TPM,
			      "this sealed blob was made by a different TPM (or before the TPM "
			      "was cleared): its storage root key is not this TPM's");
}

void ssrp_tss2_srk_release(ssrp_tss2 *t, ssrp_tss2_srk *srk)
{
	if (srk->handle == ESYS_TR_NONE)
		return;
	if (srk->persistent)
		Esys_TR_Close(t->esys, &srk->handle);
	else
		Esys_FlushContext(t->esys, srk->handle);
	srk->handle = ESYS_TR_NONE;
}

int ssrp_tss2_srk_provision(void *ctx, int *out_created)
{
	ssrp_tss2 *t = ctx;
	ssrp_tss2_srk srk = {.handle = ESYS_TR_NONE};
	*out_created = 0;
	int found = persistent_srk(t, &srk);
	if (found < 0)
		return found;
	if (found) {
		ssrp_tss2_srk_release(t, &srk);
		return SSRP_OK;
	}
	int rc = create_srk(t, &srk, 0);
	if (rc)
		return rc;
	ESYS_TR persisted = ESYS_TR_NONE;
	TSS2_RC trc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, srk.handle, ESYS_TR_PASSWORD,
					ESYS_TR_NONE, ESYS_TR_NONE, SSRP_TPM_SRK_HANDLE, &persisted);
	ssrp_tss2_srk_release(t, &srk);
	if (trc != TSS2_RC_SUCCESS)
		return ssrp_tss2_error(trc, "making the SRK persistent at 0x81000001");
	Esys_TR_Close(t->esys, &persisted);
	t->no_persistent_srk = 0;
	*out_created = 1;
	return SSRP_OK;
}
