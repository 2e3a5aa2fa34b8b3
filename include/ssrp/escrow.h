/* ssrp: escrow of a device's recovery passwords to Entra ID through the
 * Device Registration Service (step 3 of the flow), authenticated by the
 * device certificate alone (no token):
 *
 *   POST   https://<drs>/manage/<tenant>/device/<deviceId>?api-version=1.0
 *          {"key":"<48 digits>","kid":"<protector id>","vol":"OSV"}   upload
 *   GET    https://<drs>/manage/<tenant>/bitlocker/<deviceId>?api-version=1.2
 *          the ids of the keys the service holds (never the passwords)
 *   DELETE the same URL, {"kids":[...]}                                 delete
 *
 * The device is who ssrp_platform_read_identity says (ssrp/platform.h):
 * its id, tenant and certificate; the hosts, CA and connect-to mappings
 * come from the configuration (ssrp/config.h). Requests retry by
 * ssrp/retry.h's rules (a repeated upload or delete is harmless).
 *
 * The password passed to an upload stays the caller's: wipe it when done
 * (ssrp_memzero). The library copies it only into the request body, which
 * it zeroes; no message holds it, and nothing here logs.
 *
 * Errors as ssrp/error.h, each with a sentence naming the device and the
 * protector: SSRP_E_PERMISSION when the service refused the certificate
 * (401/403), SSRP_E_INVALID for a bad argument, another 4xx or a struct
 * version this library does not know, SSRP_E_IO when no answer (or still a
 * 429/5xx) came after the retries, SSRP_E_CANCELLED when the options'
 * cancel asked to stop.
 *
 * Threads: every call runs on the caller's thread with its own connection;
 * calls in different threads run at once. The structs are the caller's. */
#ifndef SSRP_ESCROW_H
#define SSRP_ESCROW_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "config.h"
#include "platform.h"
#include "retry.h"
#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the service answered to one call. Versioned: the caller sets the
 * version (SSRP_DRS_RESULT_INIT); the library writes the fields it has. */
#define SSRP_DRS_RESULT_VERSION 1
typedef struct ssrp_drs_result {
	unsigned int version;  /* SSRP_DRS_RESULT_VERSION, set by the caller */
	long status;           /* HTTP status of the last answer; 0 when none came */
	unsigned attempts;     /* requests sent, retries included */
	char request_id[64];   /* the service's request id, if it sent one */
} ssrp_drs_result;

#define SSRP_DRS_RESULT_INIT {.version = SSRP_DRS_RESULT_VERSION}

/** *r = SSRP_DRS_RESULT_INIT for that version; SSRP_E_INVALID for a
 * version this library does not know. */
SSRP_API int ssrp_drs_result_init(ssrp_drs_result *r, unsigned int version);

/** Upload one recovery password. protector_id is "{GUID}" (braces
 * optional), password the 48-digit text, volume_type "OSV", "FDV" or "RDV"
 * (NULL: the configuration's agent.volume_type, else "OSV"). opt NULL:
 * every default; out may be NULL. SSRP_OK on a 2xx: the tenant holds it. */
SSRP_API int ssrp_drs_upload(const ssrp_cloud_config *cfg, const ssrp_device_identity *id,
			     const char *protector_id, const char *password,
			     const char *volume_type, const ssrp_retry_options *opt,
			     ssrp_drs_result *out);

/* Entra ID keeps at most 200 recovery keys per device. */
#define SSRP_DRS_MAX_KEYS 200

/* One key the service holds (its layout is fixed: an array of them sits in
 * ssrp_drs_keys). */
typedef struct ssrp_drs_key {
	char kid[SSRP_PROTECTOR_ID_LEN + 1]; /* "{GUID}", upper case, as the volume spells it */
	int64_t created;   /* Unix seconds */
	int volume_type;   /* 1 OS, 2 fixed data, 3 removable */
} ssrp_drs_key;

/* The keys of one device, filled by the library into the caller's struct
 * (no allocation). Versioned: the caller sets the version
 * (SSRP_DRS_KEYS_INIT). */
#define SSRP_DRS_KEYS_VERSION 1
typedef struct ssrp_drs_keys {
	unsigned int version; /* SSRP_DRS_KEYS_VERSION, set by the caller */
	ssrp_drs_key keys[SSRP_DRS_MAX_KEYS];
	size_t n;
} ssrp_drs_keys;

#define SSRP_DRS_KEYS_INIT {.version = SSRP_DRS_KEYS_VERSION}

/** *k = SSRP_DRS_KEYS_INIT for that version; SSRP_E_INVALID for a version
 * this library does not know. */
SSRP_API int ssrp_drs_keys_init(ssrp_drs_keys *k, unsigned int version);

/** The ids of the recovery keys the service holds for the device (its
 * tenant, else "common") into *keys (its version set). SSRP_OK on a 2xx
 * whose body is a key list; errors as above, plus SSRP_E_NOTFOUND for a
 * 404 and SSRP_E_FORMAT for a body that is not a key list (keys then
 * empty). opt NULL: every default; out may be NULL. */
SSRP_API int ssrp_drs_list_keys(const ssrp_cloud_config *cfg, const ssrp_device_identity *id,
				const ssrp_retry_options *opt, ssrp_drs_keys *keys,
				ssrp_drs_result *out);

/* The service deletes at most this many keys a request. */
#define SSRP_DRS_MAX_DELETE 16

/** Delete keys of the device: 1 to SSRP_DRS_MAX_DELETE ids, "{GUID}" or
 * "GUID". SSRP_OK on a 2xx, *n_removed (may be NULL) the number of ids the
 * service says it removed; errors as ssrp_drs_list_keys. */
SSRP_API int ssrp_drs_delete_keys(const ssrp_cloud_config *cfg, const ssrp_device_identity *id,
				  const char *const *kids, size_t n, const ssrp_retry_options *opt,
				  size_t *n_removed, ssrp_drs_result *out);

/** 1 when the list holds protector_id (any case, braces optional), else 0. */
SSRP_API int ssrp_drs_keys_has(const ssrp_drs_keys *keys, const char *protector_id);

#ifdef __cplusplus
}
#endif

#endif
