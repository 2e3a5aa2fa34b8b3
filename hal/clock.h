/* Time services: sleeping and a monotonic clock. */
#ifndef SSRP_HAL_CLOCK_H
#define SSRP_HAL_CLOCK_H

#include <stdint.h>

#include "ssrp/clock.h"

void ssrp_sleep_ms(unsigned ms);
/* ssrp_monotonic_ms: public, in ssrp/clock.h. */
/* Wall-clock time as a Windows FILETIME (100 ns units since 1601). */
uint64_t ssrp_filetime_now(void);
/* FILETIME → Unix seconds (0 for 0). */
int64_t ssrp_filetime_to_unix(uint64_t filetime);

#endif
