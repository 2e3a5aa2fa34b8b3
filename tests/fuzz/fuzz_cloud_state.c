/* libFuzzer target: the tenant loader must never crash or leak; refuse
 * anything it does not accept with SSRP_E_FORMAT and a message; and for
 * anything it accepts, dump → load → dump must give the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cloud/state.h"
#include "ssrp/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes, so ASan catches a read past the end. */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	cloud_state *s = NULL;
	int rc = cloud_state_from_json(&s, text, size);
	free(text);
	if (rc != SSRP_OK) {
		if (rc != SSRP_E_FORMAT || s || !ssrp_error_last()[0])
			abort();
		return 0;
	}
	cloud_state_lock(s);
	char *one = cloud_state_to_json(s);
	cloud_state_unlock(s);
	cloud_state_free(s);
	if (!one)
		abort();
	cloud_state *again = NULL;
	if (cloud_state_from_json(&again, one, strlen(one)) != SSRP_OK)
		abort();
	cloud_state_lock(again);
	char *two = cloud_state_to_json(again);
	cloud_state_unlock(again);
	cloud_state_free(again);
	if (!two || strcmp(one, two))
		abort();
	free(one);
	free(two);
	return 0;
}
