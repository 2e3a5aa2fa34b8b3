/* The built-in TPM backends and the spec-string resolver. */
#ifndef SSRP_TPM_BACKENDS_H
#define SSRP_TPM_BACKENDS_H

#include "ssrp/sys/tpm.h"

extern const ssrp_tpm_backend ssrp_tpm_backend_tss2; /* tpm/backend_tss2.c */
extern const ssrp_tpm_backend ssrp_tpm_backend_tbs;  /* tpm/backend_tbs.c */

/* Split a spec into a backend and its config (a pointer into spec, or "").
 * "name:config" with a built-in name picks that backend; anything else is a
 * TCTI string for tss2. NULL or "" is the platform default. */
int ssrp_tpm_spec_resolve(const ssrp_tpm_backend **out_backend, const char **out_config,
			  const char *spec);

#endif
