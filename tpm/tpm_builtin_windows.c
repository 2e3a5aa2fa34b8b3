/* Built-in TPM backends of a Windows build: TPM Base Services. */
#include "tpm/tpm_backends.h"

const ssrp_tpm_backend *const ssrp_tpm_builtin[] = {&ssrp_tpm_backend_tbs, NULL};
const char SSRP_TPM_DEFAULT_SPEC[] = "tbs";
