/* Shared between the tss2 backend's files: its private state and helpers. */
#ifndef SSRP_TSS2_INTERNAL_H
#define SSRP_TSS2_INTERNAL_H

#include <tss2/tss2_esys.h>

#include "ssrp/sys/tpm.h"
#include "tpm/tss2_counting_tcti.h"

typedef struct ssrp_tss2 {
	TSS2_TCTI_CONTEXT *tcti; /* from the TCTI loader */
	ssrp_counting_tcti counting;
	ESYS_CONTEXT *esys;
	char tcti_conf[256]; /* for messages */
	/* 1 once 0x81000001 was seen empty: later operations on this open TPM
	 * skip the lookup (a ReadPublic per seal and unseal) until
	 * srk_provision fills the handle. */
	int no_persistent_srk;
} ssrp_tss2;

/* The SRK a sealed object lives under (tss2_srk.c). */
typedef struct ssrp_tss2_srk {
	ESYS_TR handle;
	int persistent;  /* 1: ESYS_TR of 0x81000001 (TR_Close it), 0: transient (flush) */
	uint16_t alg;    /* SSRP_TPM_ALG_ECC or _RSA */
	TPM2B_NAME name; /* its TPM Name, the identity a sealed blob records */
} ssrp_tss2_srk;

/* Map an ESAPI/TCTI/TPM return code to an ssrp error, message "what: ...". */
int ssrp_tss2_error(TSS2_RC rc, const char *what);

/* The persistent SRK if there is one, else a primary from the TCG template
 * (ECC P-256, RSA-2048 when the TPM lacks the curve). */
int ssrp_tss2_srk_acquire(ssrp_tss2 *t, ssrp_tss2_srk *out);
/* The SRK a blob names: persistent when present with the same Name, else the
 * recorded template; SSRP_E_TPM_WRONG_TPM when the Name differs. */
int ssrp_tss2_srk_for_blob(ssrp_tss2 *t, ssrp_tss2_srk *out, const ssrp_sealed_parts *parts);
void ssrp_tss2_srk_release(ssrp_tss2 *t, ssrp_tss2_srk *srk);
int ssrp_tss2_srk_provision(void *ctx, int *out_created);

/* tss2_seal.c */
int ssrp_tss2_seal(void *ctx, ssrp_sealed_parts *out, const uint8_t *secret, size_t len,
		   uint32_t pcr_mask);
int ssrp_tss2_unseal(void *ctx, uint8_t *out, size_t *out_len, const ssrp_sealed_parts *in);

/* A sha256 TPML_PCR_SELECTION for a 24-bit mask. */
void ssrp_tss2_pcr_selection(TPML_PCR_SELECTION *out, uint32_t mask);

#endif
