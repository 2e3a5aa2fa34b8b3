/* The run lock's waiting, for POSIX (fs_lock.c) and Windows
 * (fs_lock_windows.c) alike: poll until the deadline, then give up. */
#include "hal/clock.h"
#include "hal/fs.h"
#include "ssrp/sys/error.h"

#define LOCK_POLL_MS 50

int ssrp_fs_lock_wait_turn(uint64_t deadline, const char *path, unsigned wait_ms)
{
	uint64_t now = ssrp_monotonic_ms();
	if (now >= deadline)
		return ssrp_error_set(SSRP_E_BUSY,
				      "another run is in progress (it holds %s); waited %u ms", path,
				      wait_ms);
	uint64_t left = deadline - now;
	ssrp_sleep_ms(left < LOCK_POLL_MS ? (unsigned)left : LOCK_POLL_MS);
	return SSRP_OK;
}
