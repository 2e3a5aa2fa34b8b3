/* libFuzzer target: the recovery-password parser must refuse any input it
 * does not accept with SSRP_E_INVALID and a message, leave the key zeroed,
 * never read past the given length, and accept its own formatting of every
 * key it accepts, giving the same key back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bitlocker/recovery_password.h"
#include "ssrp/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[SSRP_RP_KEY_LEN];
	uint8_t key[SSRP_RP_KEY_LEN], again[SSRP_RP_KEY_LEN];
	/* A copy of exactly size bytes, so ASan catches a read past the end. */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	int rc = ssrp_rp_parse(key, text, size);
	free(text);
	if (rc != SSRP_OK) {
		if (rc != SSRP_E_INVALID || !ssrp_error_last()[0] || memcmp(key, zero, sizeof key))
			abort();
		return 0;
	}
	char formatted[SSRP_RECOVERY_PASSWORD_LEN + 1];
	ssrp_rp_format(formatted, key);
	if (strlen(formatted) != SSRP_RECOVERY_PASSWORD_LEN ||
	    ssrp_rp_parse(again, formatted, SSRP_RECOVERY_PASSWORD_LEN) != SSRP_OK ||
	    memcmp(again, key, sizeof key))
		abort();
	return 0;
}
