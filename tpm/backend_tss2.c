/* The tss2 backend: ESAPI over the tpm2-tss TCTI loader, so any TCTI string
 * tpm2-tools accepts works. Sealing lives in tss2_seal.c, the SRK in
 * tss2_srk.c; this file opens, closes and answers the simple services. */
#include <stdio.h>
#include <string.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "tpm/tpm_backends.h"
#include "tpm/tss2_internal.h"

/* Is there a TCTI library of this name at all? Tells a wrong spec apart
 * from a TPM that does not answer. */
static int tcti_name_known(const char *conf)
{
	char name[64];
	size_t n = strcspn(conf, ":");
	if (n == 0 || n >= sizeof name)
		return 0;
	memcpy(name, conf, n);
	name[n] = '\0';
	TSS2_TCTI_INFO *info = NULL;
	if (Tss2_TctiLdr_GetInfo(name, &info) != TSS2_RC_SUCCESS)
		return 0;
	Tss2_TctiLdr_FreeInfo(&info);
	return 1;
}

static int tss2_open(void *ctx, const char *config)
{
	ssrp_tss2 *t = ctx;
	snprintf(t->tcti_conf, sizeof t->tcti_conf, "%s", *config ? config : "(TCTI loader default)");
	TSS2_RC rc = Tss2_TctiLdr_Initialize(*config ? config : NULL, &t->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		if (*config && !tcti_name_known(config))
			return ssrp_error_set(SSRP_E_SPEC,
					      "'%s' is not a usable TCTI string: there is no TCTI "
					      "library for '%.*s' (try swtpm:host=H,port=P, "
					      "device:/dev/tpmrm0 or tabrmd)",
					      config, (int)strcspn(config, ":"), config);
		TSS2_RC base = rc & 0xFFFFu;
		if (base == TSS2_BASE_RC_BAD_VALUE || base == TSS2_BASE_RC_BAD_REFERENCE)
			return ssrp_error_set(SSRP_E_SPEC, "TCTI string '%s' has a bad parameter (%s)",
					      config, Tss2_RC_Decode(rc));
		return ssrp_error_set(SSRP_E_TPM_ABSENT, "no TPM answered through TCTI '%s' (%s)",
				      t->tcti_conf, Tss2_RC_Decode(rc));
	}
	ssrp_counting_tcti_init(&t->counting, t->tcti);
	rc = Esys_Initialize(&t->esys, (TSS2_TCTI_CONTEXT *)&t->counting, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		Tss2_TctiLdr_Finalize(&t->tcti);
		return ssrp_tss2_error(rc, "starting ESAPI");
	}
	return SSRP_OK;
}

static void tss2_close(void *ctx)
{
	ssrp_tss2 *t = ctx;
	if (t->esys)
		Esys_Finalize(&t->esys);
	if (t->tcti)
		Tss2_TctiLdr_Finalize(&t->tcti);
}

/* Read TPM properties from first on, following moreData. */
static int read_properties(ssrp_tss2 *t, ssrp_tpm_info *out, uint32_t first, uint32_t last)
{
	TPMI_YES_NO more = TPM2_YES;
	uint32_t next = first;
	while (more && next <= last) {
		TPMS_CAPABILITY_DATA *data = NULL;
		TSS2_RC rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
						TPM2_CAP_TPM_PROPERTIES, next, last - next + 1,
						&more, &data);
		if (rc != TSS2_RC_SUCCESS)
			return ssrp_tss2_error(rc, "reading TPM properties");
		const TPML_TAGGED_TPM_PROPERTY *props = &data->data.tpmProperties;
		if (props->count == 0) {
			Esys_Free(data);
			break;
		}
		for (uint32_t i = 0; i < props->count; i++)
			ssrp_tpm_info_apply_property(out, props->tpmProperty[i].property,
						     props->tpmProperty[i].value);
		next = props->tpmProperty[props->count - 1].property + 1;
		Esys_Free(data);
	}
	return SSRP_OK;
}

static int tss2_get_info(void *ctx, ssrp_tpm_info *out)
{
	ssrp_tss2 *t = ctx;
	int rc = read_properties(t, out, TPM2_PT_FIXED, TPM2_PT_FIXED + 0x3F);
	if (!rc)
		rc = read_properties(t, out, TPM2_PT_VAR, TPM2_PT_VAR + 0x1F);
	if (rc)
		return rc;
	TPMS_CAPABILITY_DATA *data = NULL;
	TPMI_YES_NO more = TPM2_NO;
	TSS2_RC trc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
					 TPM2_CAP_PCRS, 0, 1, &more, &data);
	if (trc != TSS2_RC_SUCCESS)
		return ssrp_tss2_error(trc, "reading the PCR banks");
	const TPML_PCR_SELECTION *sel = &data->data.assignedPCR;
	for (uint32_t i = 0; i < sel->count; i++)
		ssrp_tpm_info_add_bank(out, sel->pcrSelections[i].hash,
				       sel->pcrSelections[i].pcrSelect,
				       sel->pcrSelections[i].sizeofSelect);
	Esys_Free(data);
	out->present = 1;
	return SSRP_OK;
}

static int tss2_get_random(void *ctx, uint8_t *out, size_t len)
{
	ssrp_tss2 *t = ctx;
	TPM2B_DIGEST *random = NULL;
	TSS2_RC rc = Esys_GetRandom(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				    (UINT16)len, &random);
	if (rc != TSS2_RC_SUCCESS)
		return ssrp_tss2_error(rc, "getting random bytes");
	int ok = random->size == len;
	if (ok)
		memcpy(out, random->buffer, len);
	Esys_Free(random);
	if (!ok)
		return ssrp_error_set(SSRP_E_TPM, "the TPM returned a different number of random "
						  "bytes than asked for");
	return SSRP_OK;
}

void ssrp_tss2_pcr_selection(TPML_PCR_SELECTION *out, uint32_t mask)
{
	memset(out, 0, sizeof *out);
	out->count = 1;
	out->pcrSelections[0].hash = TPM2_ALG_SHA256;
	out->pcrSelections[0].sizeofSelect = 3;
	for (int i = 0; i < 3; i++)
		out->pcrSelections[0].pcrSelect[i] = (uint8_t)(mask >> (8 * i));
}

/* The TPM may return fewer PCRs than asked (8 digests per response), so ask
 * again for what is still missing. */
static int tss2_pcr_read(void *ctx, ssrp_pcr_values *out, uint32_t mask)
{
	ssrp_tss2 *t = ctx;
	out->alg = SSRP_TPM_ALG_SHA256;
	while (out->mask != mask) {
		TPML_PCR_SELECTION want, *got = NULL;
		TPML_DIGEST *values = NULL;
		ssrp_tss2_pcr_selection(&want, mask & ~out->mask);
		TSS2_RC rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &want,
					   NULL, &got, &values);
		if (rc != TSS2_RC_SUCCESS)
			return ssrp_tss2_error(rc, "reading PCRs");
		uint32_t read = 0;
		if (got->count == 1 && got->pcrSelections[0].hash == TPM2_ALG_SHA256)
			for (int i = 0; i < 3; i++)
				read |= (uint32_t)got->pcrSelections[0].pcrSelect[i] << (8 * i);
		read &= mask & ~out->mask;
		uint32_t k = 0;
		int ok = read != 0;
		for (unsigned pcr = 0; ok && pcr < SSRP_TPM_PCR_COUNT; pcr++) {
			if (!(read & (1u << pcr)))
				continue;
			if (k >= values->count || values->digests[k].size != 32) {
				ok = 0;
				break;
			}
			memcpy(out->digest[pcr], values->digests[k++].buffer, 32);
		}
		Esys_Free(got);
		Esys_Free(values);
		if (!ok)
			return ssrp_error_set(SSRP_E_TPM,
					      "the TPM's PCR_Read answer does not match the PCRs asked "
					      "for (is the sha256 bank allocated?)");
		out->mask |= read;
	}
	return SSRP_OK;
}

static int tss2_pcr_extend(void *ctx, unsigned pcr, const uint8_t *data, size_t len)
{
	ssrp_tss2 *t = ctx;
	TPM2B_EVENT event = {.size = (UINT16)len};
	memcpy(event.buffer, data, len);
	TPML_DIGEST_VALUES *digests = NULL;
	TSS2_RC rc = Esys_PCR_Event(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
				    ESYS_TR_NONE, &event, &digests);
	Esys_Free(digests);
	if (rc != TSS2_RC_SUCCESS) {
		char what[32];
		snprintf(what, sizeof what, "extending PCR %u", pcr);
		return ssrp_tss2_error(rc, what);
	}
	return SSRP_OK;
}

static int tss2_get_stats(void *ctx, ssrp_tpm_stats *out)
{
	ssrp_tss2 *t = ctx;
	out->commands = t->counting.commands;
	out->retries = t->counting.retries;
	return SSRP_OK;
}

const ssrp_tpm_backend ssrp_tpm_backend_tss2 = {
	.version = SSRP_TPM_BACKEND_VERSION,
	.info = {
		.name = "tss2",
		.description = "tpm2-tss ESAPI over any TCTI (swtpm, /dev/tpmrm0, tabrmd)",
		.config_help = "a TCTI string: swtpm:host=127.0.0.1,port=2321 | "
			       "device:/dev/tpmrm0 | tabrmd | empty for the loader's default",
	},
	.caps = SSRP_TPM_CAP_INFO | SSRP_TPM_CAP_RANDOM | SSRP_TPM_CAP_PCR_READ |
		SSRP_TPM_CAP_PCR_EXTEND | SSRP_TPM_CAP_SEAL | SSRP_TPM_CAP_SRK_PROVISION,
	.ctx_size = sizeof(ssrp_tss2),
	.open = tss2_open,
	.close = tss2_close,
	.get_info = tss2_get_info,
	.get_random = tss2_get_random,
	.pcr_read = tss2_pcr_read,
	.pcr_extend = tss2_pcr_extend,
	.seal = ssrp_tss2_seal,
	.unseal = ssrp_tss2_unseal,
	.srk_provision = ssrp_tss2_srk_provision,
	.get_stats = tss2_get_stats,
};
