/* Escrow of a recovery password to Entra ID through the Device Registration
 * Service (step 3 of the flow; microsoft-wire.md §1a, §1b): authenticated
 * only by the device certificate, no token.
 *
 *   POST https://<drs>/manage/<tenant>/device/<deviceId>?api-version=1.0
 *   {"key":"<48 digits>","kid":"<protector id without braces>","vol":"OSV"}
 *   -> 200: escrowed (confirmed = a 2xx)
 *   GET  https://<drs>/manage/<tenant or common>/bitlocker/<deviceId>?api-version=1.2
 *   -> 200 {"keys":[{"kid":"<guid>","creationtime":"<ISO 8601>","volumetype":1}]}
 *      the ids of the keys the service holds for the device (no passwords)
 *   DELETE the same URL, {"kids":["<guid>",...]} (at most 16)
 *   -> 200 {"kids":[<the ones removed>]}
 *
 * Retries per escrow/http_retry.h (a repeated upload of the same key is
 * harmless). The upload body holds the password: it is built in a buffer
 * zeroed after use, and nothing here logs. */
#ifndef SSRP_ESCROW_DRS_H
#define SSRP_ESCROW_DRS_H

#include <stddef.h>
#include <stdint.h>

#include "escrow/config.h"
#include "escrow/http_retry.h"
#include "hal/identity.h"
#include "ssrp/volume.h"

typedef struct ssrp_drs_result {
	long status;         /* HTTP status of the last answer; 0 when none came */
	unsigned attempts;   /* requests sent, retries included */
	char request_id[64]; /* the service's request id, if it sent one */
} ssrp_drs_result;

/* Upload one recovery password. protector_id is "{GUID}" (braces optional),
 * password the 48-digit text, volume_type "OSV" (NULL: cfg->agent's, else
 * "OSV"). SSRP_OK on a 2xx; SSRP_E_PERMISSION for 401/403 (the certificate
 * was refused), SSRP_E_INVALID for other 4xx, SSRP_E_IO when no 2xx came
 * after the retries — each with a sentence naming the protector, never the
 * password. out may be NULL. */
int ssrp_drs_upload(const ssrp_cloud_config *cfg, const ssrp_device_identity *id,
		    const char *protector_id, const char *password, const char *volume_type,
		    const ssrp_retry_options *opt, ssrp_drs_result *out);

/* "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)", as Microsoft's
 * services write times, into Unix seconds: 0, or -1 when it is not one. */
int ssrp_iso8601_parse(const char *s, int64_t *out);

/* Entra ID keeps at most 200 recovery keys per device. */
#define SSRP_DRS_MAX_KEYS 200

typedef struct ssrp_drs_key {
	char kid[SSRP_PROTECTOR_ID_LEN + 1]; /* "{GUID}", upper case, as the volume spells it */
	int64_t created;   /* Unix seconds */
	int volume_type;   /* 1 OS, 2 fixed data, 3 removable */
} ssrp_drs_key;

typedef struct ssrp_drs_keys {
	ssrp_drs_key keys[SSRP_DRS_MAX_KEYS];
	size_t n;
} ssrp_drs_keys;

/* The ids of the recovery keys the service holds for this device (GET on
 * the bitlocker endpoint above, tenant id when known, else "common").
 * SSRP_OK with *keys filled on a 2xx whose body parses; otherwise as
 * ssrp_drs_upload (SSRP_E_PERMISSION, SSRP_E_INVALID, SSRP_E_IO), plus
 * SSRP_E_NOTFOUND for a 404 and SSRP_E_FORMAT for a body that is not a
 * key list. out may be NULL. */
int ssrp_drs_list_keys(const ssrp_cloud_config *cfg, const ssrp_device_identity *id,
		       const ssrp_retry_options *opt, ssrp_drs_keys *keys, ssrp_drs_result *out);

/* Parse the key list: an object whose "keys" is an array of at most
 * SSRP_DRS_MAX_KEYS objects, each with "kid" (a GUID, braces optional, any
 * case; each once), "creationtime" (ISO 8601 with a zone, or Unix seconds)
 * and "volumetype" (1, 2 or 3); the camel-case spellings "creationTime" and
 * "volumeType" are taken too, but not both spellings at once. Members not
 * named here are ignored (the service may add some). SSRP_E_FORMAT naming
 * the member at fault; *out is then empty. */
int ssrp_drs_keys_parse(ssrp_drs_keys *out, const char *json, size_t len);

/* The service deletes at most this many keys a request. */
#define SSRP_DRS_MAX_DELETE 16

/* Delete keys of this device (DELETE on the bitlocker endpoint, body
 * {"kids":["<guid>",...]}, 1 to SSRP_DRS_MAX_DELETE ids "{GUID}" or
 * "GUID"). SSRP_OK on a 2xx, *n_removed (may be NULL) the number of ids
 * the service says it removed; errors as ssrp_drs_list_keys. A repeated
 * DELETE is harmless, so it is retried like the other requests. */
int ssrp_drs_delete_keys(const ssrp_cloud_config *cfg, const ssrp_device_identity *id,
			 const char *const *kids, size_t n, const ssrp_retry_options *opt,
			 size_t *n_removed, ssrp_drs_result *out);

/* 1 when the list holds protector_id (any case, braces optional). */
int ssrp_drs_keys_has(const ssrp_drs_keys *keys, const char *protector_id);

#endif
