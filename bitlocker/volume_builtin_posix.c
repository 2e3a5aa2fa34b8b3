/* Built-in volume backends of a POSIX build: BitLocker volumes in files
 * and block devices. */
#include "bitlocker/volume_backends.h"

const ssrp_volume_backend *const ssrp_volume_builtin[] = {&ssrp_volume_backend_bitlk, NULL};
const char SSRP_VOLUME_SPEC_HINT[] = "bitlk:PATH";
