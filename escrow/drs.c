/* Escrow of a recovery password through the Device Registration Service,
 * and the list of the keys it holds for the device (see drs.h). The upload
 * body is the only place the password is copied to; it is zeroed whatever
 * happens. Nothing here logs, and no message holds the password: a refusal
 * that repeats it is not quoted. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bitlocker/recovery_password.h"
#include "escrow/config.h"
#include "escrow/drs.h"
#include "escrow/http_retry.h"
#include "hal/guid.h"
#include "hal/http.h"
#include "hal/mem.h"
#include "hal/struct_version.h"
#include "ssrp/error.h"
#include "ssrp/sys/error.h"

#define WHERE "the Device Registration Service"
#define KID_LEN 36   /* a GUID without braces */
#define BODY_CAP 192

/* "{GUID}" or "GUID", any case → "GUID" upper case (BitLocker's own
 * spelling of a KeyProtectorId, braces taken off as the Wigleven script
 * does) and "{GUID}" for messages. */
static int protector_kid(const char *in, char kid[KID_LEN + 1], char named[KID_LEN + 3])
{
	if (!in || ssrp_guid_canonical(named, in) != SSRP_OK)
		return -1;
	memcpy(kid, named + 1, KID_LEN);
	kid[KID_LEN] = '\0';
	return 0;
}

/* The shape of a recovery password: eight groups of six digits joined by
 * dashes. Its checksum is the service's business; what matters here is
 * that nothing else ends up in the body. */
static int password_shape_ok(const char *pw)
{
	if (!pw || strlen(pw) != SSRP_RECOVERY_PASSWORD_LEN)
		return 0;
	for (size_t i = 0; i < SSRP_RECOVERY_PASSWORD_LEN; i++) {
		if (i % 7 == 6 ? pw[i] != '-' : !(pw[i] >= '0' && pw[i] <= '9'))
			return 0;
	}
	return 1;
}

/* Does text repeat the password, with or without its dashes? */
static int repeats_password(const char *text, const char *pw)
{
	if (!text || !*text || !pw)
		return 0;
	if (strstr(text, pw))
		return 1;
	char digits[49];
	size_t n = 0;
	for (const char *p = pw; *p && n < 48; p++)
		if (*p != '-')
			digits[n++] = *p;
	digits[n] = '\0';
	int hit = strstr(text, digits) != NULL;
	ssrp_memzero(digits, sizeof digits);
	return hit;
}

/* The service's own words from an error body: {"code","subcode","message",
 * "requestid"} (the shape ADRS logs; undocumented, so best effort). pw, when
 * not NULL, is the password the request carried: words repeating it are not
 * quoted. */
static void error_words(const ssrp_http_resp *resp, const char *pw, char *words, size_t cap,
			char *request_id, size_t rid_cap)
{
	words[0] = '\0';
	cJSON *o = resp->body_len ? cJSON_ParseWithLength(resp->body, resp->body_len) : NULL;
	const cJSON *sub = cJSON_GetObjectItemCaseSensitive(o, "subcode");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, "message");
	const cJSON *rid = cJSON_GetObjectItemCaseSensitive(o, "requestid");
	const char *c = cJSON_IsString(sub) && *sub->valuestring	 ? sub->valuestring
			: cJSON_IsString(code) && *code->valuestring ? code->valuestring
								     : "";
	const char *m = cJSON_IsString(msg) ? msg->valuestring : "";
	if (repeats_password(c, pw) || repeats_password(m, pw))
		snprintf(words, cap, "its message repeated the key and is not shown");
	else
		snprintf(words, cap, "%.64s%s%.300s", c, *c && *m ? ": " : "", m);
	/* Control characters from the network are blanked. */
	for (char *p = words; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (!request_id[0] && cJSON_IsString(rid))
		snprintf(request_id, rid_cap, "%s", rid->valuestring);
	for (char *p = request_id; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			*p = '_';
	cJSON_Delete(o);
}

/* The identity checks both requests make and an HTTP client with the device
 * certificate. failing ends each refusal: "protector {X} cannot be
 * escrowed". *tenant is the tenant id, or NULL when none is known. */
static int drs_client(const ssrp_cloud_config *cfg, const ssrp_device_identity *id,
		      const ssrp_retry_options *opt, const char *failing, const char **tenant,
		      ssrp_http **h)
{
	*h = NULL;
	*tenant = id->tenant_id[0] ? id->tenant_id : cfg->tenant_id && *cfg->tenant_id
							     ? cfg->tenant_id
							     : NULL;
	if (id->join == SSRP_JOIN_NONE || !id->device_id[0])
		return ssrp_error_set(SSRP_E_INVALID,
				      "this device is not registered in Entra ID: %s", failing);
	if (!id->cert[0])
		return ssrp_error_set(SSRP_E_INVALID,
				      "device %s has no certificate, and the Device Registration "
				      "Service knows a device only by it: %s",
				      id->device_id, failing);
	ssrp_http_options ho = {
		.ca_file = cfg->ca_file,
		.connect_to = (const char *const *)cfg->connect_to,
		.cert_file = id->cert,
		.key_file = id->key[0] ? id->key : NULL,
		.timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : 60000,
		.max_body = 64u * 1024u,
	};
	int rc = ssrp_http_new(h, &ho);
	return rc ? ssrp_error_prefix(rc, "%s", failing) : SSRP_OK;
}

static const char *drs_host(const ssrp_cloud_config *cfg)
{
	return cfg->drs_host && *cfg->drs_host ? cfg->drs_host : SSRP_HOST_DRS;
}

/* The error for a request that got no 2xx (rc from the retry engine, resp
 * its last answer). action says what was asked: "escrow protector {X} for
 * device D". pw as error_words. */
static int drs_failure(int rc, const ssrp_http_resp *resp, const char *pw, const char *action,
		       ssrp_drs_result *out)
{
	if (rc != SSRP_OK) {
		/* hal/http names the URL (no secret in it) and curl's reason. */
		return ssrp_error_prefix(rc == SSRP_E_BUFSIZE ? SSRP_E_IO : rc,
					 "cannot reach " WHERE " to %s after %u attempt%s", action,
					 out->attempts, out->attempts == 1 ? "" : "s");
	}
	char words[400];
	error_words(resp, pw, words, sizeof words, out->request_id, sizeof out->request_id);
	long st = resp->status;
	int code = st == 401 || st == 403	? SSRP_E_PERMISSION
		   : st == 429 || st >= 500	? SSRP_E_IO
		   : st == 404 && !pw		? SSRP_E_NOTFOUND
						: SSRP_E_INVALID;
	char why[64];
	if (code == SSRP_E_PERMISSION)
		snprintf(why, sizeof why, "the device certificate was refused");
	else if (code == SSRP_E_IO)
		snprintf(why, sizeof why, "still after %u attempt%s", out->attempts,
			 out->attempts == 1 ? "" : "s");
	else
		snprintf(why, sizeof why, "the request was refused");
	const char *rid = out->request_id;
	return ssrp_error_set(code, WHERE " did not %s: HTTP %ld, %s%s%s%s%s%s%s", action, st, why,
			      words[0] || rid[0] ? " (" : "", words, words[0] && rid[0] ? "; " : "",
			      rid[0] ? "request-id " : "", rid, words[0] || rid[0] ? ")" : "");
}

int ssrp_drs_result_init(ssrp_drs_result *r, unsigned int version)
{
	int rc = ssrp_struct_version_check("ssrp_drs_result", version, SSRP_DRS_RESULT_VERSION,
					   "SSRP_DRS_RESULT_INIT");
	if (rc)
		return rc;
	memset(r, 0, sizeof *r);
	r->version = version;
	return SSRP_OK;
}

/* What every call does first: the caller's structs checked (versions this
 * library knows; out untouched otherwise), out's fields reset, the options
 * taken into ro. call names the function in messages. */
static int drs_begin(const char *call, const ssrp_cloud_config *cfg,
		     const ssrp_device_identity *id, const ssrp_retry_options *opt,
		     ssrp_retry_options *ro, ssrp_drs_result *out)
{
	int rc = ssrp_struct_version_check("ssrp_drs_result", out->version,
					   SSRP_DRS_RESULT_VERSION, "SSRP_DRS_RESULT_INIT");
	if (rc)
		return rc;
	out->status = 0;
	out->attempts = 0;
	out->request_id[0] = '\0';
	if (!cfg || !id)
		return ssrp_error_set(SSRP_E_INVALID, "%s: no configuration or device identity",
				      call);
	rc = ssrp_struct_version_check("ssrp_device_identity", id->version,
				       SSRP_DEVICE_IDENTITY_VERSION, "SSRP_DEVICE_IDENTITY_INIT");
	return rc ? rc : ssrp_retry_options_take(ro, opt);
}

int ssrp_drs_upload(const ssrp_cloud_config *cfg, const ssrp_device_identity *id,
		    const char *protector_id, const char *password, const char *volume_type,
		    const ssrp_retry_options *opt, ssrp_drs_result *out)
{
	ssrp_drs_result local = SSRP_DRS_RESULT_INIT;
	if (!out)
		out = &local;
	ssrp_retry_options ro;
	int rc = drs_begin("ssrp_drs_upload", cfg, id, opt, &ro, out);
	if (rc)
		return rc;
	char kid[KID_LEN + 1], named[KID_LEN + 3];
	if (protector_kid(protector_id, kid, named))
		return ssrp_error_set(SSRP_E_INVALID,
				      "'%.40s' is not a key protector id ({GUID}): nothing escrowed",
				      protector_id ? protector_id : "(null)");
	if (!password_shape_ok(password))
		return ssrp_error_set(SSRP_E_INVALID,
				      "the recovery password of protector %s is not 48 digits in "
				      "eight groups of six: nothing escrowed",
				      named);
	if (!volume_type)
		volume_type = cfg->agent.volume_type && *cfg->agent.volume_type
				      ? cfg->agent.volume_type
				      : "OSV";
	if (strcmp(volume_type, "OSV") && strcmp(volume_type, "FDV") && strcmp(volume_type, "RDV"))
		return ssrp_error_set(SSRP_E_INVALID,
				      "volume type '%.16s' is none of OSV, FDV, RDV: protector %s "
				      "not escrowed",
				      volume_type, named);
	char failing[96];
	snprintf(failing, sizeof failing, "protector %s cannot be escrowed", named);
	const char *tenant;
	ssrp_http *h = NULL;
	rc = drs_client(cfg, id, &ro, failing, &tenant, &h);
	if (!rc && !tenant)
		rc = ssrp_error_set(SSRP_E_INVALID, "no tenant id: %s", failing);
	char url[512];
	if (!rc && (size_t)snprintf(url, sizeof url, "https://%s/manage/%s/device/%s?api-version=1.0",
				    drs_host(cfg), tenant, id->device_id) >= sizeof url)
		rc = ssrp_error_set(SSRP_E_INVALID,
				    "the Device Registration URL for device %s is too long",
				    id->device_id);
	char *body = rc ? NULL : ssrp_malloc(BODY_CAP);
	if (!rc && !body)
		rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	if (rc) {
		ssrp_http_free(h);
		return rc;
	}
	int len = snprintf(body, BODY_CAP, "{\"key\":\"%s\",\"kid\":\"%s\",\"vol\":\"%s\"}",
			   password, kid, volume_type);
	static const char *const headers[] = {"Content-Type: application/json",
					      "Accept: application/json", NULL};
	ssrp_http_req rq = {.method = "POST", .url = url, .headers = headers, .body = body,
			    .body_len = (size_t)len};
	ssrp_http_resp resp;
	rc = ssrp_http_request_retrying(h, &rq, &resp, &ro, &out->attempts);
	ssrp_free_secret(body, BODY_CAP);
	body = NULL;
	rq.body = NULL;
	out->status = resp.status;
	snprintf(out->request_id, sizeof out->request_id, "%s", resp.request_id);

	if (rc == SSRP_OK && resp.status >= 200 && resp.status < 300) {
		rc = SSRP_OK;
	} else {
		char action[160];
		snprintf(action, sizeof action, "escrow protector %s for device %s", named,
			 id->device_id);
		rc = drs_failure(rc, &resp, password, action, out);
	}
	ssrp_http_resp_free(&resp);
	ssrp_http_free(h);
	return rc;
}

/* The bitlocker endpoint's URL for this device into url. */
static int keys_url(const ssrp_cloud_config *cfg, const ssrp_device_identity *id,
		    const char *tenant, char *url, size_t cap)
{
	if ((size_t)snprintf(url, cap, "https://%s/manage/%s/bitlocker/%s?api-version=1.2",
			     drs_host(cfg), tenant ? tenant : "common", id->device_id) >= cap)
		return ssrp_error_set(SSRP_E_INVALID,
				      "the Device Registration URL for device %s is too long",
				      id->device_id);
	return SSRP_OK;
}

int ssrp_drs_list_keys(const ssrp_cloud_config *cfg, const ssrp_device_identity *id,
		       const ssrp_retry_options *opt, ssrp_drs_keys *keys, ssrp_drs_result *out)
{
	ssrp_drs_result local = SSRP_DRS_RESULT_INIT;
	if (!out)
		out = &local;
	ssrp_retry_options ro;
	int rc = drs_begin("ssrp_drs_list_keys", cfg, id, opt, &ro, out);
	if (rc)
		return rc;
	if (!keys)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_drs_list_keys: no key list to fill");
	if ((rc = ssrp_struct_version_check("ssrp_drs_keys", keys->version, SSRP_DRS_KEYS_VERSION,
					    "SSRP_DRS_KEYS_INIT")) != SSRP_OK)
		return rc;
	keys->n = 0;
	const char *tenant;
	ssrp_http *h = NULL;
	rc = drs_client(cfg, id, &ro, "the keys escrowed for it cannot be listed", &tenant, &h);
	char url[512];
	if (!rc)
		rc = keys_url(cfg, id, tenant, url, sizeof url);
	if (rc) {
		ssrp_http_free(h);
		return rc;
	}
	static const char *const headers[] = {"Accept: application/json", NULL};
	ssrp_http_req rq = {.method = "GET", .url = url, .headers = headers};
	ssrp_http_resp resp;
	rc = ssrp_http_request_retrying(h, &rq, &resp, &ro, &out->attempts);
	out->status = resp.status;
	snprintf(out->request_id, sizeof out->request_id, "%s", resp.request_id);
	char action[160];
	snprintf(action, sizeof action, "list the recovery keys of device %s", id->device_id);
	if (rc == SSRP_OK && resp.status >= 200 && resp.status < 300) {
		rc = ssrp_drs_keys_parse(keys, resp.body, resp.body_len);
		if (rc)
			ssrp_error_prefix(rc, WHERE " answered but did not %s", action);
	} else {
		rc = drs_failure(rc, &resp, NULL, action, out);
	}
	ssrp_http_resp_free(&resp);
	ssrp_http_free(h);
	return rc;
}

int ssrp_drs_delete_keys(const ssrp_cloud_config *cfg, const ssrp_device_identity *id,
			 const char *const *kids, size_t n, const ssrp_retry_options *opt,
			 size_t *n_removed, ssrp_drs_result *out)
{
	ssrp_drs_result local = SSRP_DRS_RESULT_INIT;
	if (!out)
		out = &local;
	if (n_removed)
		*n_removed = 0;
	ssrp_retry_options ro;
	int rc = drs_begin("ssrp_drs_delete_keys", cfg, id, opt, &ro, out);
	if (rc)
		return rc;
	if (!kids || n < 1 || n > SSRP_DRS_MAX_DELETE)
		return ssrp_error_set(SSRP_E_INVALID,
				      "ssrp_drs_delete_keys: 1 to %d key ids are deleted a request",
				      SSRP_DRS_MAX_DELETE);
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = o ? cJSON_AddArrayToObject(o, "kids") : NULL;
	rc = arr ? SSRP_OK : ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i++) {
		char kid[KID_LEN + 1], named[KID_LEN + 3];
		if (protector_kid(kids[i], kid, named))
			rc = ssrp_error_set(SSRP_E_INVALID,
					    "'%.40s' is not a key protector id ({GUID}): nothing deleted",
					    kids[i] ? kids[i] : "(null)");
		else if (!cJSON_AddItemToArray(arr, cJSON_CreateString(kid)))
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	char *body = rc ? NULL : cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!rc && !body)
		rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	const char *tenant;
	ssrp_http *h = NULL;
	if (!rc)
		rc = drs_client(cfg, id, &ro, "its old keys cannot be deleted", &tenant, &h);
	char url[512];
	if (!rc)
		rc = keys_url(cfg, id, tenant, url, sizeof url);
	if (rc) {
		cJSON_free(body);
		ssrp_http_free(h);
		return rc;
	}
	static const char *const headers[] = {"Content-Type: application/json",
					      "Accept: application/json", NULL};
	ssrp_http_req rq = {.method = "DELETE", .url = url, .headers = headers, .body = body,
			    .body_len = strlen(body)};
	ssrp_http_resp resp;
	rc = ssrp_http_request_retrying(h, &rq, &resp, &ro, &out->attempts);
	cJSON_free(body);
	out->status = resp.status;
	snprintf(out->request_id, sizeof out->request_id, "%s", resp.request_id);
	char action[160];
	snprintf(action, sizeof action, "delete %zu recovery key%s of device %s", n,
		 n == 1 ? "" : "s", id->device_id);
	if (rc == SSRP_OK && resp.status >= 200 && resp.status < 300) {
		cJSON *r = cJSON_ParseWithLength(resp.body, resp.body_len);
		const cJSON *removed = cJSON_GetObjectItemCaseSensitive(r, "kids");
		if (n_removed && cJSON_IsArray(removed))
			*n_removed = (size_t)cJSON_GetArraySize(removed);
		cJSON_Delete(r);
	} else {
		rc = drs_failure(rc, &resp, NULL, action, out);
	}
	ssrp_http_resp_free(&resp);
	ssrp_http_free(h);
	return rc;
}
