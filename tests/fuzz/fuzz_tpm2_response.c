/* libFuzzer target: every TPM 2.0 response parser of the tbs command core.
 * The first input byte picks the parser and its arguments; the rest is the
 * response. A refusal must be SSRP_E_TPM-family with a message; an
 * acceptance must stay within the asked bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tpm/tpm2_marshal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_refusal(int rc)
{
	if (rc == SSRP_OK)
		return;
	if (rc > 0 || !ssrp_error_last()[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t pick = data[0];
	const uint8_t *rsp = data + 1;
	size_t len = size - 1;
	switch (pick % 4) {
	case 0: {
		uint8_t out[64];
		size_t asked = 1 + (pick >> 2) % 64, got = 0;
		int rc = ssrp_tpm2_parse_get_random(rsp, len, out, asked, &got);
		check_refusal(rc);
		if (rc == SSRP_OK && (got < 1 || got > asked))
			abort();
		break;
	}
	case 1: {
		ssrp_tpm2_property props[SSRP_TPM2_MAX_PROPERTIES];
		size_t n = 0;
		int more = 0;
		uint32_t asked = 1 + (pick >> 2) % SSRP_TPM2_MAX_PROPERTIES;
		int rc = ssrp_tpm2_parse_properties(rsp, len, SSRP_TPM2_PT_FAMILY_INDICATOR, asked,
						    props, &n, &more);
		check_refusal(rc);
		if (rc == SSRP_OK && n > asked)
			abort();
		break;
	}
	case 2: {
		ssrp_tpm2_pcr_selection sel[SSRP_TPM2_MAX_SELECTIONS];
		size_t n = 0;
		int more = 0;
		int rc = ssrp_tpm2_parse_pcrs(rsp, len, sel, &n, &more);
		check_refusal(rc);
		if (rc == SSRP_OK && n > SSRP_TPM2_MAX_SELECTIONS)
			abort();
		break;
	}
	default: {
		static ssrp_pcr_values v;
		uint32_t asked = ((uint32_t)pick << 16 | 0x0880u) & 0xFFFFFFu, read = 0, counter = 0;
		int rc = ssrp_tpm2_parse_pcr_read(rsp, len, asked, &v, &read, &counter);
		check_refusal(rc);
		if (rc == SSRP_OK && (read & ~asked))
			abort();
		break;
	}
	}
	return 0;
}
