/* The built-in volume backends. Which are built in is the build's choice
 * (CMakeLists.txt compiles one volume_builtin_*.c per platform), not the
 * core's. */
#ifndef SSRP_BITLOCKER_VOLUME_BACKENDS_H
#define SSRP_BITLOCKER_VOLUME_BACKENDS_H

#include "ssrp/sys/volume.h"

extern const ssrp_volume_backend ssrp_volume_backend_bitlk; /* bitlocker/bitlk_volume.c */
extern const ssrp_volume_backend ssrp_volume_backend_wmi;   /* bitlocker/backend_wmi.c */

/* NULL-terminated; from volume_builtin_posix.c or volume_builtin_windows.c. */
extern const ssrp_volume_backend *const ssrp_volume_builtin[];
/* The specs a user of this build may write, for error messages. */
extern const char SSRP_VOLUME_SPEC_HINT[];

#endif
