/* hal/clock.h for POSIX and Windows. */
#include "hal/clock.h"

#ifdef _WIN32
#include <windows.h>

void ssrp_sleep_ms(unsigned ms)
{
	Sleep(ms);
}

uint64_t ssrp_monotonic_ms(void)
{
	return GetTickCount64();
}
#else
#include <errno.h>
#include <time.h>

void ssrp_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

uint64_t ssrp_monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
#endif
