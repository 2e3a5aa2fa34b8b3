/* libFuzzer: the Device Registration Service's key list parser
 * (escrow/drs_keys.c), which reads what the network sent. A refusal leaves
 * the list empty; a list that parses holds canonical, distinct ids, each
 * found again by the lookup, with a volume type of 1 to 3. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/drs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ssrp_drs_keys k;
	if (ssrp_drs_keys_parse(&k, (const char *)data, size) != 0) {
		if (k.n || k.keys[0].kid[0])
			abort();
		return 0;
	}
	if (k.n > SSRP_DRS_MAX_KEYS)
		abort();
	for (size_t i = 0; i < k.n; i++) {
		const ssrp_drs_key *e = &k.keys[i];
		if (strlen(e->kid) != SSRP_PROTECTOR_ID_LEN || e->kid[0] != '{' ||
		    e->volume_type < 1 || e->volume_type > 3 || e->created < 0 ||
		    !ssrp_drs_keys_has(&k, e->kid))
			abort();
		for (size_t j = 0; j < i; j++)
			if (!strcmp(k.keys[j].kid, e->kid))
				abort();
	}
	return 0;
}
