/* The built-in TPM backends and the spec-string resolver. Which backends
 * are built in is the build's choice (CMakeLists.txt compiles one
 * tpm_builtin_*.c per platform), not the core's. */
#ifndef SSRP_TPM_BACKENDS_H
#define SSRP_TPM_BACKENDS_H

#include "ssrp/sys/tpm.h"

extern const ssrp_tpm_backend ssrp_tpm_backend_tss2; /* tpm/backend_tss2.c */
extern const ssrp_tpm_backend ssrp_tpm_backend_tbs;  /* tpm/backend_tbs.c */

/* NULL-terminated; from tpm_builtin_posix.c or tpm_builtin_windows.c. */
extern const ssrp_tpm_backend *const ssrp_tpm_builtin[];
/* The spec used when none is given: "tss2:" (the TCTI loader's default)
 * or "tbs". */
extern const char SSRP_TPM_DEFAULT_SPEC[];

/* A table's version, required slots and capability bits against slots. */
int ssrp_tpm_check_backend(const ssrp_tpm_backend *b);

/* Split a spec into a backend and its config (a pointer into spec, or "").
 * "name:config" with a built-in or registered name picks that backend;
 * anything else is a TCTI string for tss2 when tss2 is built in. NULL or ""
 * is the platform default. */
int ssrp_tpm_spec_resolve(const ssrp_tpm_backend **out_backend, const char **out_config,
			  const char *spec);

#endif
