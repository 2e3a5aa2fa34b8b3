/* The TPM backend conformance suite: what any backend must do, checked
 * through the public API, skipping what its capability bits disclaim. A
 * vendor runs it against their backend with `tpm_conformance SPEC`. */
#ifndef SSRP_TESTS_TPM_CONFORMANCE_H
#define SSRP_TESTS_TPM_CONFORMANCE_H

/* Run the suite against spec; returns the number of failed tests. */
int tpm_conformance_run(const char *group_name, const char *spec);

#endif
