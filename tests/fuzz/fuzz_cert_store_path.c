/* libFuzzer target: the certificate store path parser (hal/cert_store_path.c)
 * accepts only LOCATION\STORE\<40 hex digits> with a known location, then
 * gives the store and the thumbprint in upper case, and accepts its own
 * rendering of what it accepted as the same path; anything else is refused
 * with SSRP_E_INVALID and a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/cert_store_path.h"
#include "ssrp/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ssrp_cert_store_path p, again;
	int rc = ssrp_cert_store_path_parse(text, "device.cert_file", &p);
	int is = ssrp_cert_store_path_is(text);
	free(text);
	if (rc != SSRP_OK) {
		if (rc != SSRP_E_INVALID || !ssrp_error_last()[0])
			abort();
		return 0;
	}
	if (!is || !p.location || p.location_id < 1 || p.location_id > 9 || !p.store[0] ||
	    strchr(p.store, '\\') || strlen(p.thumbprint) != 40 ||
	    strspn(p.thumbprint, "0123456789ABCDEF") != 40)
		abort();
	char back[160];
	snprintf(back, sizeof back, "%s\\%s\\%s", p.location, p.store, p.thumbprint);
	if (ssrp_cert_store_path_parse(back, "device.cert_file", &again) != SSRP_OK ||
	    memcmp(&p, &again, sizeof p))
		abort();
	return 0;
}
