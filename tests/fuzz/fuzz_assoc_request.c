/* libFuzzer target: the association requests a device or Automation sends,
 * and the batch input file. First byte % 3 picks the parser: 0 the request
 * body, 1 WebhookData, 2 the batch file. Each either refuses with
 * SSRP_E_FORMAT or accepts; what it accepts holds a GUID deviceId and 1 to
 * SSRP_ASSOC_MAX_USERS printable users, all of it valid UTF-8, and a
 * request body re-encoded by ssrp_assoc_request_body parses to the same
 * request. A refusal's message is valid UTF-8; the audit line of what was
 * accepted or of the refusal is one valid JSON object in valid UTF-8. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/assoc.h"
#include "escrow/assoc_util.h"
#include "escrow/utf8.h"
#include "hal/guid.h"
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

static void check_utf8(const char *s)
{
	if (ssrp_utf8_invalid_at(s, strlen(s)) != strlen(s))
		abort();
}

static void check_audit_line(const char *device, const char *name, const char *user,
			     const char *detail)
{
	ssrp_assoc_decision d = {.requester = "device:x", .device_id = device,
				 .device_name = name, .user = user, .upn = user,
				 .relation = "registeredOwners", .outcome = SSRP_ASSOC_REFUSED,
				 .detail = detail};
	char *line = ssrp_audit_decision_json(&d, "2026-01-01T00:00:00Z");
	if (!line)
		abort();
	check_utf8(line);
	cJSON *o = cJSON_Parse(line);
	if (!cJSON_IsObject(o))
		abort();
	cJSON_Delete(o);
	ssrp_free(line);
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
			if (!ssrp_guid_is_bare(in->jobs[i].device_id))
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
		check_utf8(ssrp_error_last());
		check_audit_line("", "", "", ssrp_error_last());
		return 0;
	}
	check_utf8(r->device_name);
	check_utf8(r->webhook_name);
	for (size_t i = 0; i < r->n_users; i++) {
		check_utf8(r->users[i]);
		check_audit_line(r->device_id, r->device_name, r->users[i], r->webhook_name);
	}
	if (!ssrp_guid_is_bare(r->device_id) || !r->webhook_name || !r->device_name)
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
