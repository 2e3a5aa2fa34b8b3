/* Self-service retrieval (the public calls: ssrp/recover.h), and what the
 * library's own tests and fuzzers reach beyond them: the parsers of Graph's
 * answers, and a sign-in with the retry engine's options. */
#ifndef SSRP_ESCROW_RECOVER_H
#define SSRP_ESCROW_RECOVER_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "bitlocker/recovery_password.h"
#include "escrow/config.h"
#include "escrow/graph_client.h"
#include "ssrp/recover.h"

/* ssrp_recover_connect with the retry engine's options (NULL: defaults). */
int ssrp_recover_connect_with(ssrp_graph **out, const ssrp_cloud_config *cfg,
			      const ssrp_recover_signin *how, const ssrp_graph_options *opt);

/* The parsers of Graph's answers, exposed for tests and fuzzing: one
 * element of ownedDevices (other directory object types are skipped:
 * SSRP_OK, nothing added), one element of the recovery-key list (added to
 * dev), and the single key's answer (the entity itself or {"value":{...}})
 * → the recovery password, checked to be 48 digits in 8 valid groups,
 * into out (SSRP_RECOVERY_PASSWORD_LEN + 1 bytes). SSRP_E_FORMAT names what is
 * wrong. */
int ssrp_recover_parse_device(ssrp_recover_list *l, const cJSON *item);
int ssrp_recover_parse_key_item(ssrp_recover_device *dev, const cJSON *item);
int ssrp_recover_parse_key(const cJSON *answer, char out[SSRP_RECOVERY_PASSWORD_LEN + 1]);

#endif
