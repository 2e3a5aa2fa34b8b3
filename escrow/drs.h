/* Escrow of a recovery password to Entra ID through the Device Registration
 * Service (step 3 of the flow; microsoft-wire.md §1a): authenticated only by
 * the device certificate, no token.
 *
 *   POST https://<drs>/manage/<tenant>/device/<deviceId>?api-version=1.0
 *   {"key":"<48 digits>","kid":"<protector id without braces>","vol":"OSV"}
 *   -> 200: escrowed (confirmed = a 2xx)
 *
 * Retries per escrow/http_retry.h (a repeated upload of the same key is
 * harmless). The body holds the password: it is built in a buffer zeroed
 * after use, and nothing here logs. */
#ifndef SSRP_ESCROW_DRS_H
#define SSRP_ESCROW_DRS_H

#include "escrow/config.h"
#include "escrow/http_retry.h"
#include "hal/identity.h"

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

#endif
