/* hal/clock.h for POSIX and Windows. */
#include "hal/clock.h"

/* Seconds from 1601-01-01 to 1970-01-01. */
#define FILETIME_UNIX_OFFSET 11644473600ull

int64_t ssrp_filetime_to_unix(uint64_t filetime)
{
	if (!filetime)
		return 0;
	return (int64_t)(filetime / 10000000u) - (int64_t)FILETIME_UNIX_OFFSET;
}

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

uint64_t ssrp_filetime_now(void)
{
	FILETIME ft;
	GetSystemTimeAsFileTime(&ft);
	return ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
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

uint64_t ssrp_filetime_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec + FILETIME_UNIX_OFFSET) * 10000000u +
	       (uint64_t)ts.tv_nsec / 100u;
}
#endif
