/* audit-tpm-conformance INNER-SPEC: register "audit:", run the installed
 * TPM conformance suite on "audit:INNER-SPEC", then check what the audit
 * saw: every service was reached through the wrapper and every handle the
 * suite opened was closed. Exit 0 only when all of it holds. */
#include <stdio.h>
#include <stdlib.h>

#include <ssrp/conformance.h>
#include <ssrp/error.h>

#include "audit_tpm.h"

static int expect(int ok, const char *what)
{
	if (!ok)
		fprintf(stderr, "audit-tpm-conformance: %s\n", what);
	return !ok;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s INNER-TPM-SPEC   (e.g. tss2:swtpm:port=2321)\n", argv[0]);
		return 2;
	}
	if (audit_tpm_register()) {
		fprintf(stderr, "registering audit: %s\n", ssrp_error_last());
		return 1;
	}
	char spec[1024];
	snprintf(spec, sizeof spec, "audit:%s", argv[1]);
	int failed = ssrp_conformance_tpm_run("audit TPM backend", spec);

	audit_tpm_counts c;
	audit_tpm_counts_get(&c);
	printf("audit: %lu opens, %lu closes, %lu info, %lu random, %lu PCR reads, "
	       "%lu extends, %lu seals, %lu unseals, %lu refused\n",
	       c.opens, c.closes, c.get_info, c.get_random, c.pcr_read, c.pcr_extend, c.seal,
	       c.unseal, c.failures);
	failed += expect(c.opens > 0 && c.opens == c.closes, "a handle was left open");
	failed += expect(c.get_info > 0 && c.get_random > 0 && c.pcr_read > 0 && c.pcr_extend > 0,
			 "a service did not go through the wrapper");
	failed += expect(c.seal > 0 && c.unseal > 0, "sealing did not go through the wrapper");
	/* The suite's PCR-mismatch and damaged-blob checks are refusals. */
	failed += expect(c.failures > 0, "no refusal was passed on");
	return failed ? 1 : 0;
}
