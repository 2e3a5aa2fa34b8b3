/* Time services: sleeping and a monotonic clock. */
#ifndef SSRP_HAL_CLOCK_H
#define SSRP_HAL_CLOCK_H

#include <stdint.h>

void ssrp_sleep_ms(unsigned ms);
/* Milliseconds from an arbitrary fixed point; never goes backwards. */
uint64_t ssrp_monotonic_ms(void);

#endif
