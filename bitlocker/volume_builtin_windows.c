/* Built-in volume backends of a Windows build: BitLocker through WMI, and
 * BitLocker volume images through the on-disk codec. */
#include "bitlocker/volume_backends.h"

const ssrp_volume_backend *const ssrp_volume_builtin[] = {&ssrp_volume_backend_wmi,
							  &ssrp_volume_backend_bitlk, NULL};
const char SSRP_VOLUME_SPEC_HINT[] = "wmi:C:";
