/* The built-in platform backend of a Windows build. */
#include "hal/platform_backends.h"

const ssrp_platform_backend *const ssrp_platform_builtin[] = {&ssrp_platform_backend_windows,
							      NULL};
