/* libFuzzer target: the association requests a device or Automation sends,
 * and the batch input file. First byte % 3 picks the parser: 0 the request
 * body, 1 WebhookData, 2 the batch file. Each either refuses with
 * SSRP_E_FORMAT or accepts; what it accepts holds a GUID deviceId and 1 to
 * SSRP_ASSOC_MAX_USERS printable users, and a request body re-encoded by
 * ssrp_assoc_request_body parses to the same request. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/assoc.h"
#include "escrow/assoc_util.h"
#include "hal/mem.h"
#include "ssrp/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_users(const char *const *users, size_t n)
{
	if (n < 1 || n > SSRP_ASSOC_MAX_USERS)
		abort();
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(users[i]);
		if (len == 0 || len > 256)
			abort();
		for (size_t k = 0; k < len; k++)
			if ((unsigned char)users[i][k] < 0x20 || users[i][k] == 0x7f)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int mode = data[0] % 3;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	if (mode == 2) {
		ssrp_assoc_input *in = NULL;
		int rc = ssrp_assoc_input_parse(&in, text, len);
		if (rc) {
			if (rc != SSRP_E_FORMAT || in)
				abort();
			return 0;
		}
		for (size_t i = 0; i < in->n; i++) {
			if (!ssrp_assoc_is_guid(in->jobs[i].device_id))
				abort();
			check_users(in->jobs[i].users, in->jobs[i].n_users);
		}
		ssrp_assoc_input_free(in);
		return 0;
	}
	ssrp_assoc_request *r = NULL;
	int rc = mode == 0 ? ssrp_assoc_request_parse(&r, text, len)
			   : ssrp_assoc_webhook_parse(&r, text, len);
	if (rc) {
		if ((rc != SSRP_E_FORMAT && rc != SSRP_E_NOMEM) || r)
			abort();
		return 0;
	}
	if (!ssrp_assoc_is_guid(r->device_id) || !r->webhook_name || !r->device_name)
		abort();
	check_users((const char *const *)r->users, r->n_users);
	char *body = ssrp_assoc_request_body(r->device_id, r->device_name,
					     (const char *const *)r->users, r->n_users);
	if (!body)
		abort();
	ssrp_assoc_request *again = NULL;
	if (ssrp_assoc_request_parse(&again, body, strlen(body)) || again->n_users != r->n_users ||
	    strcmp(again->device_id, r->device_id) || strcmp(again->device_name, r->device_name))
		abort();
	for (size_t i = 0; i < r->n_users; i++)
		if (strcmp(again->users[i], r->users[i]))
			abort();
	ssrp_assoc_request_free(again);
	ssrp_free(body);
	ssrp_assoc_request_free(r);
	return 0;
}
