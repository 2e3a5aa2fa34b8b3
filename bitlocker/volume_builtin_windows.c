/* Built-in volume backends of a Windows build: BitLocker through WMI. */
#include "bitlocker/volume_backends.h"

const ssrp_volume_backend *const ssrp_volume_builtin[] = {&ssrp_volume_backend_wmi, NULL};
const char SSRP_VOLUME_SPEC_HINT[] = "wmi:C:";
