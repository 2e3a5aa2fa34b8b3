/* libFuzzer target: the sealed-blob parser must refuse any input it does not
 * accept with SSRP_E_FORMAT and a message, never crash, and re-encode what
 * it accepts to the same bytes (the format has one spelling per blob when no
 * optional records are present). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tpm/blob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ssrp_sealed_parts parts;
	static uint8_t again[SSRP_BLOB_HEADER + 4096 + SSRP_BLOB_TRAILER];
	int rc = ssrp_blob_decode(&parts, data, size);
	if (rc != SSRP_OK) {
		if (rc != SSRP_E_FORMAT || !ssrp_error_last()[0])
			abort();
		return 0;
	}
	size_t len = 0;
	if (ssrp_blob_encode(again, sizeof again, &len, &parts) != SSRP_OK)
		abort();
	ssrp_sealed_parts reparsed;
	if (ssrp_blob_decode(&reparsed, again, len) != SSRP_OK ||
	    memcmp(&reparsed, &parts, sizeof parts))
		abort();
	return 0;
}
