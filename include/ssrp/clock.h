/* ssrp: the library's monotonic clock, the one its deadlines and retry
 * waits are measured on (a caller's timeouts agree with the library's).
 * Threads: safe from any thread. */
#ifndef SSRP_CLOCK_H
#define SSRP_CLOCK_H

#include <stdint.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Milliseconds from an arbitrary fixed point; never goes backwards. */
SSRP_API uint64_t ssrp_monotonic_ms(void);

#ifdef __cplusplus
}
#endif

#endif
