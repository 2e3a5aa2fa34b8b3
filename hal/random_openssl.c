/* hal/random.h over OpenSSL's DRBG (seeded from the OS by OpenSSL). */
#include <limits.h>

#include <openssl/err.h>
#include <openssl/rand.h>

#include "hal/random.h"
#include "ssrp/sys/error.h"

int ssrp_random_bytes(uint8_t *out, size_t len)
{
	if (!out && len)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_random_bytes: NULL argument");
	while (len) {
		/* RAND_bytes takes an int. */
		int n = len > INT_MAX ? INT_MAX : (int)len;
		if (RAND_bytes(out, n) != 1) {
			char why[256];
			ERR_error_string_n(ERR_get_error(), why, sizeof why);
			ERR_clear_error();
			return ssrp_error_set(SSRP_E_GENERIC, "no random bytes available: %s", why);
		}
		out += n;
		len -= (size_t)n;
	}
	return SSRP_OK;
}
