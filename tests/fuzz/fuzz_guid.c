/* libFuzzer target: the GUID text parsers (hal/guid.h) must agree: parse,
 * lower and is_bare accept the same texts (is_bare those without braces),
 * refusals are SSRP_E_INVALID with a message and a zeroed GUID, and an
 * accepted GUID comes back unchanged from both of its text forms. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hal/guid.h"
#include "ssrp/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[SSRP_GUID_LEN];
	/* A NUL-terminated copy of exactly size bytes, so ASan catches a read
	 * past its end. */
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	uint8_t g[SSRP_GUID_LEN], back[SSRP_GUID_LEN];
	char low[SSRP_GUID_BARE_LEN + 1], up[SSRP_GUID_TEXT_LEN + 1];
	int rc = ssrp_guid_parse(g, text);
	int lrc = ssrp_guid_lower(low, text);
	int bare = ssrp_guid_is_bare(text);
	int braced = strlen(text) == SSRP_GUID_TEXT_LEN;
	free(text);
	if (lrc != rc || (bare && rc != SSRP_OK) || (rc == SSRP_OK && !bare && !braced))
		abort();
	if (rc != SSRP_OK) {
		if (rc != SSRP_E_INVALID || !ssrp_error_last()[0] || memcmp(g, zero, sizeof g) ||
		    low[0])
			abort();
		return 0;
	}
	ssrp_guid_format(up, g);
	if (ssrp_guid_parse(back, up) != SSRP_OK || memcmp(back, g, sizeof g) ||
	    ssrp_guid_parse(back, low) != SSRP_OK || memcmp(back, g, sizeof g) ||
	    !ssrp_guid_is_bare(low))
		abort();
	return 0;
}
