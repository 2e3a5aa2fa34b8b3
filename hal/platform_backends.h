/* The built-in platform backends: the build compiles one
 * platform_builtin_*.c per platform. */
#ifndef SSRP_HAL_PLATFORM_BACKENDS_H
#define SSRP_HAL_PLATFORM_BACKENDS_H

#include "ssrp/sys/platform.h"

extern const ssrp_platform_backend ssrp_platform_backend_config;  /* platform_builtin_posix.c */
extern const ssrp_platform_backend ssrp_platform_backend_windows; /* identity_windows.c */

/* NULL-terminated; the first is the default (an empty spec). */
extern const ssrp_platform_backend *const ssrp_platform_builtin[];

#endif
