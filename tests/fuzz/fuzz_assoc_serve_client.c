/* libFuzzer: the device client's parsers of what the association service
 * and an Automation webhook answer (escrow/assoc_client.h). The service's
 * own input, the request body, is the engine's parser
 * (ssrp_assoc_request_parse), fuzzed with the engine. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/assoc_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The client hands the parsers a NUL-terminated body (hal/http). */
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ssrp_assoc_client_result r;
	memset(&r, 0, sizeof r);
	if (ssrp_assoc_client_parse_service(text, size, &r) == 0) {
		char line[512];
		ssrp_assoc_client_summary(&r, line, sizeof line);
		/* Every decision's strings are there and terminated. */
		for (size_t i = 0; i < r.n_decisions; i++)
			if (!r.decisions[i].user || !r.decisions[i].outcome ||
			    strlen(r.decisions[i].detail) > size)
				abort();
	}
	ssrp_assoc_client_result_free(&r);
	ssrp_assoc_client_parse_webhook(text, size, &r);
	char msg[128];
	ssrp_assoc_client_parse_error(text, size, &r, msg, sizeof msg);
	if (strlen(msg) >= sizeof msg || strlen(r.error_code) >= sizeof r.error_code)
		abort();
	free(text);
	return 0;
}
