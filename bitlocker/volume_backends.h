/* The built-in volume backends and the spec-string resolver. */
#ifndef SSRP_BITLOCKER_VOLUME_BACKENDS_H
#define SSRP_BITLOCKER_VOLUME_BACKENDS_H

#include "ssrp/sys/volume.h"

#ifndef _WIN32
extern const ssrp_volume_backend ssrp_volume_backend_sim;   /* sim/volume_sim.c (POSIX) */
extern const ssrp_volume_backend ssrp_volume_backend_bitlk; /* the same code, read-only */
#else
extern const ssrp_volume_backend ssrp_volume_backend_wmi; /* bitlocker/backend_wmi.c */
#endif

#endif
