/* hal/random.h for Windows: the system-preferred RNG through CNG. */
#include <windows.h>

#include <bcrypt.h>

#include "hal/random.h"
#include "ssrp/sys/error.h"

int ssrp_random_bytes(uint8_t *out, size_t len)
{
	if (!out && len)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_random_bytes: NULL argument");
	while (len) {
		ULONG n = len > 0x10000000u ? 0x10000000u : (ULONG)len;
		NTSTATUS st = BCryptGenRandom(NULL, out, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG);
		if (st < 0)
			return ssrp_error_set(SSRP_E_GENERIC,
					      "no random bytes available: BCryptGenRandom failed "
					      "(NTSTATUS 0x%08lx)",
					      (unsigned long)st);
		out += n;
		len -= n;
	}
	return SSRP_OK;
}
