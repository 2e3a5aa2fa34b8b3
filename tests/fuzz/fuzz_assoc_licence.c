/* libFuzzer target: the licence rule over what Graph answers (escrow/
 * assoc_licence.c). The input is a user's assignedLicenses, a NUL byte,
 * then the value of GET /subscribedSkus; texts that are not JSON are
 * skipped, as the engine never hands them on. Whatever the members and
 * their types, the answer is OK with one of the configured plans, or
 * MISSING with none. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "escrow/assoc_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *plans[] = {"AAD_PREMIUM", "INTUNE_A", NULL};
	const uint8_t *nul = memchr(data, 0, size);
	if (!nul)
		return 0;
	size_t n1 = (size_t)(nul - data);
	cJSON *assigned = cJSON_ParseWithLength((const char *)data, n1);
	cJSON *skus = cJSON_ParseWithLength((const char *)nul + 1, size - n1 - 1);
	if (assigned && skus) {
		const char *plan = NULL;
		ssrp_assoc_licence l = assoc_licence_of(assigned, skus, plans, &plan);
		if (l == SSRP_ASSOC_LICENCE_OK) {
			if (plan != plans[0] && plan != plans[1])
				abort();
		} else if (l != SSRP_ASSOC_LICENCE_MISSING || plan) {
			abort();
		}
	}
	cJSON_Delete(assigned);
	cJSON_Delete(skus);
	return 0;
}
