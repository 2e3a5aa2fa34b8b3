/* The Device Registration Service's BitLocker key endpoints
 * (microsoft-wire.md §1), authenticated only by the device's TLS client
 * certificate (CN=<deviceId>, issued by MS-Organization-Access):
 *
 *   POST   /manage/{tenant}/device/{deviceId}?api-version=1.0
 *          {"key":"<48 digits>","kid":"<protector id>","vol":"OSV|FDV|RDV"}
 *          (application/json, or the form-urlencoded content type that
 *          PowerShell's Invoke-WebRequest sends with the same JSON text)
 *          -> 200 {"kid","deviceId","volumeType"}
 *   GET    /manage/common/bitlocker/{deviceId}?api-version=1.2
 *          (also /manage/{tenant}/bitlocker/{deviceId})
 *          -> 200 {"keys":[{"kid","creationtime","volumetype"}]}
 *   DELETE the same, body {"kids":["<guid>",...]} (at most 16)
 *          -> 200 {"kids":[<the ones removed>]}
 *
 * An administrator's deletion (the portal's, or a clean-up script's) is
 * POST /admin/keys/delete {"kids":[...]} on the admin endpoints
 * (cloud_drs_admin_delete): any device's keys, audited as "Delete
 * BitLocker key" by "admin".
 *
 * Past CLOUD_MAX_KEYS_PER_DEVICE keys an upload is refused with 409
 * error_key_limit: Entra ID documents the limit (200 a device) and that
 * the client's backup then fails, not the wire shape of the refusal.
 *
 * The real error bodies are not documented; errors here are
 * {"code","subcode","message","operation","requestid","time"}, the shape
 * ADRS uses in its logs, and clients should go by the status alone. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "bitlocker/recovery_password.h"
#include "hal/guid.h"
#include "hal/text.h"
#include "sim/cloud/cloud.h"
#include "ssrp/error.h"

#define DRS_MAX_BODY (64u * 1024u)
#define DRS_MAX_DELETE 16

static void iso_time(char out[32], uint64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void drs_error(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs, int status,
		      const char *code, const char *subcode, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 7, 8)))
#endif
	;

static void drs_error(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs, int status,
		      const char *code, const char *subcode, const char *fmt, ...)
{
	char msg[512], when[32];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	iso_time(when, ctx->now());
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "code", code);
	cJSON_AddStringToObject(o, "subcode", subcode);
	cJSON_AddStringToObject(o, "message", msg);
	cJSON_AddStringToObject(o, "operation", "BitLocker");
	cJSON_AddStringToObject(o, "requestid", rq->request_id ? rq->request_id : "");
	cJSON_AddStringToObject(o, "time", when);
	cloud_respond_json(rs, status, cJSON_PrintUnformatted(o));
	cJSON_Delete(o);
}

/* A GUID in any accepted spelling into its lower-case form without braces. */
static int canonical_guid(const char *text, char out[CLOUD_ID_LEN + 1])
{
	uint8_t g[SSRP_GUID_LEN];
	char t[SSRP_GUID_TEXT_LEN + 1];
	if (ssrp_guid_parse(g, text) != 0)
		return -1;
	ssrp_guid_format(t, g);
	for (size_t i = 0; i < CLOUD_ID_LEN; i++)
		out[i] = (char)ssrp_ascii_lower((unsigned char)t[i + 1]);
	out[CLOUD_ID_LEN] = '\0';
	return 0;
}

/* Split "/manage/A/B/C" into at most 4 segments (copies, bounded). */
static int split_path(const char *path, char seg[4][128])
{
	int n = 0;
	const char *p = path;
	while (*p == '/')
		p++;
	while (*p) {
		size_t len = strcspn(p, "/");
		if (n == 4 || len >= 128)
			return -1;
		memcpy(seg[n], p, len);
		seg[n][len] = '\0';
		n++;
		p += len;
		while (*p == '/')
			p++;
	}
	return n;
}

/* The caller's certificate must name device_id, which must exist and be
 * enabled. Fills rs (and returns NULL) otherwise. With the state lock held. */
static cloud_device *authenticate(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs,
				  const char *device_id)
{
	if (!rq->client_cert_cn) {
		drs_error(ctx, rq, rs, 401, "unauthorized_client", "error_missing_device_certificate",
			  "The request carries no device certificate issued by "
			  "MS-Organization-Access.");
		return NULL;
	}
	snprintf(rs->identity, sizeof rs->identity, "device:%s", rq->client_cert_cn);
	if (!ssrp_ascii_ieq(rq->client_cert_cn, device_id)) {
		drs_error(ctx, rq, rs, 403, "unauthorized_client", "error_device_mismatch",
			  "The device certificate is for %s, not for device %s.",
			  rq->client_cert_cn, device_id);
		return NULL;
	}
	cloud_device *d = cloud_device_find_by_device_id(ctx->state, device_id);
	if (!d) {
		drs_error(ctx, rq, rs, 404, "invalid_request", "error_missing_device",
			  "The device object by the given id (%s) is not found.", device_id);
		return NULL;
	}
	if (!d->account_enabled) {
		drs_error(ctx, rq, rs, 403, "unauthorized_client", "error_device_disabled",
			  "The device %s is disabled.", device_id);
		return NULL;
	}
	return d;
}

static int tenant_matches(cloud_ctx *ctx, const char *tenant)
{
	const char *id = cloud_state_tenant_id(ctx->state);
	const char *domain = cloud_state_tenant_domain(ctx->state);
	return (id && ssrp_ascii_ieq(tenant, id)) || (domain && ssrp_ascii_ieq(tenant, domain));
}

static int content_type_ok(const cloud_request *rq)
{
	const char *ct = cloud_request_header(rq, "content-type");
	if (!ct || !*ct)
		return 1;
	size_t n = strcspn(ct, ";");
	while (n && ct[n - 1] == ' ')
		n--;
	return (n == 16 && ssrp_ascii_ieq_n(ct, "application/json", 16)) ||
	       (n == 33 && ssrp_ascii_ieq_n(ct, "application/x-www-form-urlencoded", 33));
}

static cJSON *parse_body(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs)
{
	if (rq->body_len > DRS_MAX_BODY) {
		drs_error(ctx, rq, rs, 413, "invalid_request", "error_body_too_large",
			  "The request body is larger than %u bytes.", DRS_MAX_BODY);
		return NULL;
	}
	cJSON *o = rq->body_len ? cJSON_ParseWithLength((const char *)rq->body, rq->body_len) : NULL;
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		drs_error(ctx, rq, rs, 400, "invalid_request", "error_bad_json",
			  "The request body is not a JSON object.");
		return NULL;
	}
	return o;
}

static int api_version_is(const cloud_request *rq, const char *want)
{
	char v[32];
	return cloud_query_param(rq, "api-version", v, sizeof v) && !strcmp(v, want);
}

/* POST /manage/{tenant}/device/{deviceId}?api-version=1.0 */
static void upload_key(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs,
		       const char *tenant, const char *device_id)
{
	if (!api_version_is(rq, "1.0")) {
		drs_error(ctx, rq, rs, 400, "invalid_request", "error_api_version",
			  "api-version=1.0 is required for this endpoint.");
		return;
	}
	cloud_state_lock(ctx->state);
	cloud_device *d = authenticate(ctx, rq, rs, device_id);
	if (!d)
		goto out;
	if (!tenant_matches(ctx, tenant)) {
		drs_error(ctx, rq, rs, 403, "unauthorized_client", "error_tenant_mismatch",
			  "The device does not belong to tenant '%s'.", tenant);
		goto out;
	}
	if (!content_type_ok(rq)) {
		drs_error(ctx, rq, rs, 415, "invalid_request", "error_content_type",
			  "Content-Type must be application/json or "
			  "application/x-www-form-urlencoded.");
		goto out;
	}
	cJSON *body = parse_body(ctx, rq, rs);
	if (!body)
		goto out;
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(body, "key");
	const cJSON *kid = cJSON_GetObjectItemCaseSensitive(body, "kid");
	const cJSON *vol = cJSON_GetObjectItemCaseSensitive(body, "vol");
	cloud_recovery_key k;
	memset(&k, 0, sizeof k);
	uint8_t raw[SSRP_RP_KEY_LEN];
	if (!cJSON_IsString(key) ||
	    ssrp_rp_parse(raw, key->valuestring, strlen(key->valuestring)) != 0) {
		drs_error(ctx, rq, rs, 400, "invalid_request", "error_bad_key",
			  "\"key\" is not a valid 48-digit recovery password.");
	} else if (!cJSON_IsString(kid) || canonical_guid(kid->valuestring, k.id) != 0) {
		drs_error(ctx, rq, rs, 400, "invalid_request", "error_bad_kid",
			  "\"kid\" is not a key protector id (a GUID).");
	} else if (!cJSON_IsString(vol) ||
		   !(k.volume_type = !strcmp(vol->valuestring, "OSV")   ? 1
				     : !strcmp(vol->valuestring, "FDV") ? 2
				     : !strcmp(vol->valuestring, "RDV") ? 3
									: 0)) {
		drs_error(ctx, rq, rs, 400, "invalid_request", "error_bad_volume_type",
			  "\"vol\" must be \"OSV\", \"FDV\" or \"RDV\".");
	} else {
		cloud_recovery_key *old = cloud_key_find(ctx->state, k.id);
		ssrp_rp_format(k.key, raw);
		memcpy(k.device_id, d->device_id, sizeof k.device_id);
		k.created = ctx->now();
		int rc;
		if (old && !ssrp_ascii_ieq(old->device_id, d->device_id)) {
			drs_error(ctx, rq, rs, 409, "invalid_request", "error_kid_conflict",
				  "Key protector %s belongs to another device.", k.id);
		} else if ((rc = cloud_key_put(ctx->state, &k)) == SSRP_E_REFUSED) {
			drs_error(ctx, rq, rs, 409, "invalid_request", "error_key_limit",
				  "Device %s already has %d BitLocker recovery keys, the most a "
				  "device can hold.",
				  device_id, CLOUD_MAX_KEYS_PER_DEVICE);
		} else if (rc != SSRP_OK) {
			drs_error(ctx, rq, rs, 500, "server_error", "error_store",
				  "The key could not be stored.");
		} else {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "kid", k.id);
			cJSON_AddStringToObject(o, "deviceId", d->device_id);
			cJSON_AddNumberToObject(o, "volumeType", k.volume_type);
			cloud_respond_json(rs, 200, cJSON_PrintUnformatted(o));
			cJSON_Delete(o);
		}
	}
	memset(raw, 0, sizeof raw);
	memset(&k, 0, sizeof k);
	/* The parsed body held the recovery password: wipe it before freeing. */
	if (cJSON_IsString(key))
		memset(key->valuestring, 0, strlen(key->valuestring));
	cJSON_Delete(body);
out:
	cloud_state_unlock(ctx->state);
}

/* GET or DELETE /manage/{common|tenant}/bitlocker/{deviceId}?api-version=1.2 */
static void manage_keys(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs,
			const char *tenant, const char *device_id)
{
	int get = !strcmp(rq->method, "GET"), del = !strcmp(rq->method, "DELETE");
	if (!get && !del) {
		drs_error(ctx, rq, rs, 405, "invalid_request", "error_method",
			  "Only GET and DELETE are supported here.");
		cloud_response_header(rs, "Allow", "GET, DELETE");
		return;
	}
	if (!api_version_is(rq, "1.2")) {
		drs_error(ctx, rq, rs, 400, "invalid_request", "error_api_version",
			  "api-version=1.2 is required for this endpoint.");
		return;
	}
	cloud_state_lock(ctx->state);
	cloud_device *d = authenticate(ctx, rq, rs, device_id);
	if (!d)
		goto out;
	if (!ssrp_ascii_ieq(tenant, "common") && !tenant_matches(ctx, tenant)) {
		drs_error(ctx, rq, rs, 403, "unauthorized_client", "error_tenant_mismatch",
			  "The device does not belong to tenant '%s'.", tenant);
		goto out;
	}
	cloud_recovery_key *keys[CLOUD_MAX_KEYS_PER_DEVICE];
	if (get) {
		size_t n = cloud_keys_list(ctx->state, d->device_id, keys, CLOUD_MAX_KEYS_PER_DEVICE);
		cJSON *o = cJSON_CreateObject();
		cJSON *arr = cJSON_AddArrayToObject(o, "keys");
		for (size_t i = 0; i < n; i++) {
			char when[32];
			iso_time(when, keys[i]->created);
			cJSON *k = cJSON_CreateObject();
			cJSON_AddStringToObject(k, "kid", keys[i]->id);
			cJSON_AddStringToObject(k, "creationtime", when);
			cJSON_AddNumberToObject(k, "volumetype", keys[i]->volume_type);
			cJSON_AddItemToArray(arr, k);
		}
		cloud_respond_json(rs, 200, cJSON_PrintUnformatted(o));
		cJSON_Delete(o);
		goto out;
	}
	cJSON *body = parse_body(ctx, rq, rs);
	if (!body)
		goto out;
	const cJSON *kids = cJSON_GetObjectItemCaseSensitive(body, "kids");
	int n = cJSON_IsArray(kids) ? cJSON_GetArraySize(kids) : -1;
	char ids[DRS_MAX_DELETE][CLOUD_ID_LEN + 1];
	const cJSON *it;
	int bad = n < 1 || n > DRS_MAX_DELETE, i = 0;
	if (!bad) {
		cJSON_ArrayForEach(it, kids) {
			if (!cJSON_IsString(it) || canonical_guid(it->valuestring, ids[i]) != 0) {
				bad = 1;
				break;
			}
			i++;
		}
	}
	if (bad) {
		drs_error(ctx, rq, rs, 400, "invalid_request", "error_bad_kids",
			  "\"kids\" must be an array of 1 to %d key protector ids.", DRS_MAX_DELETE);
	} else {
		cJSON *o = cJSON_CreateObject();
		cJSON *removed = cJSON_AddArrayToObject(o, "kids");
		for (int k = 0; k < n; k++) {
			cloud_recovery_key *key = cloud_key_find(ctx->state, ids[k]);
			/* Only this device's keys; others' stay and are not named. */
			if (key && ssrp_ascii_ieq(key->device_id, d->device_id) &&
			    cloud_key_delete(ctx->state, ids[k]) == 0)
				cJSON_AddItemToArray(removed, cJSON_CreateString(ids[k]));
		}
		cloud_respond_json(rs, 200, cJSON_PrintUnformatted(o));
		cJSON_Delete(o);
	}
	cJSON_Delete(body);
out:
	cloud_state_unlock(ctx->state);
}

void cloud_drs_handle(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs)
{
	char seg[4][128];
	int n = split_path(rq->path, seg);
	if (n == 4 && !strcmp(seg[0], "manage") && !strcmp(seg[2], "device")) {
		if (strcmp(rq->method, "POST") != 0) {
			drs_error(ctx, rq, rs, 405, "invalid_request", "error_method",
				  "Only POST is supported here.");
			cloud_response_header(rs, "Allow", "POST");
			return;
		}
		upload_key(ctx, rq, rs, seg[1], seg[3]);
		return;
	}
	if (n == 4 && !strcmp(seg[0], "manage") && !strcmp(seg[2], "bitlocker")) {
		manage_keys(ctx, rq, rs, seg[1], seg[3]);
		return;
	}
	drs_error(ctx, rq, rs, 404, "invalid_request", "error_not_found",
		  "No such endpoint: %s %s.", rq->method, rq->path);
}

void cloud_drs_admin_delete(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs)
{
	cJSON *body = parse_body(ctx, rq, rs);
	if (!body)
		return;
	const cJSON *kids = cJSON_GetObjectItemCaseSensitive(body, "kids");
	const cJSON *it;
	int bad = !cJSON_IsArray(kids) || cJSON_GetArraySize(kids) < 1;
	cJSON_ArrayForEach(it, kids) {
		char id[CLOUD_ID_LEN + 1];
		bad = bad || !cJSON_IsString(it) || canonical_guid(it->valuestring, id) != 0;
	}
	if (bad) {
		drs_error(ctx, rq, rs, 400, "invalid_request", "error_bad_kids",
			  "\"kids\" must be a non-empty array of key protector ids.");
		cJSON_Delete(body);
		return;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON *removed = cJSON_AddArrayToObject(o, "kids");
	cloud_state_lock(ctx->state);
	cJSON_ArrayForEach(it, kids) {
		char id[CLOUD_ID_LEN + 1], dev[CLOUD_ID_LEN + 1];
		canonical_guid(it->valuestring, id);
		cloud_recovery_key *k = cloud_key_find(ctx->state, id);
		if (!k)
			continue;
		memcpy(dev, k->device_id, sizeof dev);
		if (cloud_key_delete(ctx->state, id) == 0) {
			cloud_audit_add(ctx->state, ctx->now(), "admin", "Delete BitLocker key", id, dev);
			cJSON_AddItemToArray(removed, cJSON_CreateString(id));
		}
	}
	cloud_state_unlock(ctx->state);
	cloud_respond_json(rs, 200, cJSON_PrintUnformatted(o));
	cJSON_Delete(o);
	cJSON_Delete(body);
}
