/* libFuzzer: the parsers of what the sign-in service and Graph answer
 * during self-service retrieval. The first byte picks the parser, the rest
 * is the answer's body:
 *   0  the devicecode endpoint's answer (ssrp_graph_devicecode_parse)
 *   1  a token-endpoint answer to a device_code poll, status from byte 2
 *   2  a page of ownedDevices, then the choice by a name / prefix taken
 *      from the devices themselves
 *   3  a page of recovery keys for one device, then choices by prefix
 *   4  the single key's answer (ssrp_recover_parse_key) */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "escrow/graph_client.h"
#include "escrow/recover.h"

static void each_value(const cJSON *page, int keys, ssrp_recover_list *l)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(page, "value");
	const cJSON *it;
	cJSON_ArrayForEach(it, v) {
		if (keys) {
			if (ssrp_recover_parse_key_item(&l->devices[0], it))
				break;
		} else if (ssrp_recover_parse_device(l, it)) {
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t which = data[0] % 5, st = data[1];
	const char *body = (const char *)data + 2;
	size_t len = size - 2;
	if (which == 0) {
		ssrp_graph_devicecode dc;
		if (ssrp_graph_devicecode_parse(body, len, &dc) == 0)
			ssrp_graph_devicecode_clear(&dc);
		return 0;
	}
	cJSON *o = cJSON_ParseWithLength(body, len);
	if (which == 1) {
		static const long statuses[] = {200, 400, 401, 403, 429, 500};
		(void)ssrp_graph_devicecode_poll_classify(statuses[st % 6], o);
	} else if (which == 2 || which == 3) {
		ssrp_recover_list l;
		memset(&l, 0, sizeof l);
		if (which == 3) {
			cJSON *d = cJSON_Parse("{\"id\":\"0b\",\"deviceId\":\"d1\",\"displayName\":\"PC\"}");
			ssrp_recover_parse_device(&l, d);
			cJSON_Delete(d);
		}
		if (l.n || which == 2)
			each_value(o, which == 3, &l);
		ssrp_recover_choice c;
		const char *name = l.n ? l.devices[l.n - 1].name : "PC";
		const char *prefix = l.n && l.devices[0].n_keys ? l.devices[0].keys[0].id : NULL;
		(void)ssrp_recover_choose(&l, st & 1 ? name : NULL, st & 2 ? prefix : NULL, &c);
		(void)ssrp_recover_choose(&l, NULL, st & 4 ? "1a2b3c4d" : "{1A2B-3C4D-}", &c);
		(void)ssrp_recover_candidates(&l, NULL, NULL, NULL, 0);
		ssrp_recover_list_free(&l);
	} else {
		char pw[SSRP_RECOVERY_PASSWORD_LEN + 1];
		(void)ssrp_recover_parse_key(o, pw);
	}
	cJSON_Delete(o);
	return 0;
}
