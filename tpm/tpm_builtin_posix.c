/* Built-in TPM backends of a POSIX build: tpm2-tss, any TCTI. */
#include "tpm/tpm_backends.h"

const ssrp_tpm_backend *const ssrp_tpm_builtin[] = {&ssrp_tpm_backend_tss2, NULL};
const char SSRP_TPM_DEFAULT_SPEC[] = "tss2:";
