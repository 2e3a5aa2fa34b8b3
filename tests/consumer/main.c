/* What an integrator writes first: open a TPM and print what went wrong. */
#include <stdio.h>
#include <string.h>

#include <ssrp/tpm.h>

int main(int argc, char **argv)
{
	ssrp_tpm *tpm = NULL;
	const char *spec = argc > 1 ? argv[1] : "tss2:nosuchtcti:x";
	int rc = ssrp_tpm_open(&tpm, spec);
	printf("ssrp %s: open '%s' -> %d (%s)\n", ssrp_version(), spec, rc, ssrp_error_last());
	if (rc == SSRP_OK) {
		ssrp_tpm_info info = SSRP_TPM_INFO_INIT;
		rc = ssrp_tpm_get_info(tpm, &info);
		printf("family %s, manufacturer %s\n", info.family, info.manufacturer);
		ssrp_tpm_close(tpm);
		return rc == SSRP_OK ? 0 : 1;
	}
	/* Without an argument the expected answer is a spec error. */
	return argc == 1 && rc == SSRP_E_SPEC && strstr(ssrp_error_last(), "nosuchtcti") ? 0 : 1;
}
