/* tbs_probe.exe [SPEC]: open the TPM through the tbs backend (default
 * "tbs", Windows TPM Base Services) and print what it reports. The mingw
 * test builds it to prove the backend compiles and links for Windows; run
 * it on a Windows machine to try a real TPM. */
#include <stdio.h>

#include "ssrp/tpm.h"

static int fail(const char *step)
{
	fprintf(stderr, "tbs_probe: %s: %s\n", step, ssrp_error_last());
	return 1;
}

int main(int argc, char **argv)
{
	const char *spec = argc > 1 ? argv[1] : "tbs";
	ssrp_tpm *tpm = NULL;
	if (ssrp_tpm_open(&tpm, spec))
		return fail("open");

	ssrp_tpm_info info = SSRP_TPM_INFO_INIT;
	uint8_t random[16];
	ssrp_pcr_values pcrs;
	int rc = 0;
	if (ssrp_tpm_get_info(tpm, &info)) {
		rc = fail("info");
	} else {
		printf("TPM %s, manufacturer %s (%s), spec revision %u.%02u, lockout %u/%u\n",
		       info.family, info.manufacturer, info.vendor, info.spec_revision / 100,
		       info.spec_revision % 100, info.lockout_counter, info.max_auth_fail);
		for (unsigned i = 0; i < info.n_banks; i++)
			printf("bank %s: PCRs 0x%06x\n", ssrp_tpm_alg_name(info.banks[i].alg),
			       (unsigned)info.banks[i].pcr_mask);
	}
	if (!rc && ssrp_tpm_get_random(tpm, random, sizeof random))
		rc = fail("random");
	if (!rc && ssrp_tpm_pcr_read(tpm, &pcrs, SSRP_TPM_PCRS_DEFAULT))
		rc = fail("pcr_read");
	for (unsigned pcr = 0; !rc && pcr < SSRP_TPM_PCR_COUNT; pcr++) {
		if (!(pcrs.mask & (1u << pcr)))
			continue;
		printf("sha256 PCR %2u: ", pcr);
		for (int i = 0; i < 32; i++)
			printf("%02x", pcrs.digest[pcr][i]);
		printf("\n");
	}
	ssrp_tpm_close(tpm);
	return rc;
}
