/* escrow/assoc.h: the request body a device sends, Automation's WebhookData
 * around it, and the body builder. Strict: sizes capped, types checked,
 * unknown or repeated members refused by name. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "escrow/assoc.h"
#include "escrow/assoc_util.h"
#include "escrow/device_report.h"
#include "escrow/utf8.h"
#include "hal/guid.h"
#include "hal/mem.h"
#include "ssrp/sys/error.h"

#define MAX_BODY_BYTES (64u * 1024u)
#define MAX_WEBHOOK_BYTES (1024u * 1024u)
#define MAX_USER_BYTES 256
#define MAX_NAME_BYTES 256

int ssrp_assoc_is_guid(const char *s)
{
	return ssrp_guid_is_bare(s);
}

/* A printable string: no control characters (bytes < 0x20 and DEL). */
static int clean_text(const char *s, size_t max)
{
	size_t n = 0;
	for (; s[n]; n++)
		if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f || n >= max)
			return 0;
	return n > 0;
}

void ssrp_assoc_request_free(ssrp_assoc_request *r)
{
	if (!r)
		return;
	ssrp_free(r->device_id);
	ssrp_free(r->device_name);
	for (size_t i = 0; r->users && i < r->n_users; i++)
		ssrp_free(r->users[i]);
	ssrp_free(r->users);
	ssrp_free(r->webhook_name);
	ssrp_free(r->report);
	ssrp_free(r);
}

/* Where a string of the JSON text holds the escape \u0000, else len:
 * cJSON would decode it into a NUL that silently ends the string. */
static size_t nul_escape_at(const char *json, size_t len)
{
	int in_string = 0;
	for (size_t i = 0; i < len; i++) {
		if (json[i] == '"') {
			in_string = !in_string;
		} else if (in_string && json[i] == '\\' && i + 1 < len) {
			if (json[i + 1] == 'u' && i + 6 <= len && !memcmp(json + i + 2, "0000", 4))
				return i;
			i++; /* the escaped character */
		}
	}
	return len;
}

/* Parse len bytes as exactly one JSON value: no NUL inside, valid UTF-8, no
 * \u0000 in a string, nothing after. */
static cJSON *parse_exact(const char *json, size_t len, const char *what)
{
	if (memchr(json, '\0', len)) {
		ssrp_error_set(SSRP_E_FORMAT, "%s: holds a NUL byte", what);
		return NULL;
	}
	size_t at = ssrp_utf8_invalid_at(json, len);
	if (at < len) {
		ssrp_error_set(SSRP_E_FORMAT, "%s: not valid UTF-8 (byte %zu)", what, at);
		return NULL;
	}
	if ((at = nul_escape_at(json, len)) < len) {
		ssrp_error_set(SSRP_E_FORMAT,
			       "%s: a string holds \\u0000 (byte %zu); NUL characters are not "
			       "allowed",
			       what, at);
		return NULL;
	}
	char *copy = ssrp_malloc(len + 1);
	if (!copy) {
		ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		return NULL;
	}
	memcpy(copy, json, len);
	copy[len] = '\0';
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithOpts(copy, &end, 1);
	if (!o) {
		size_t near = end && end >= copy ? (size_t)(end - copy) : 0;
		ssrp_error_set(SSRP_E_FORMAT, "%s: not valid JSON (near byte %zu)", what, near);
	} else if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = NULL;
		ssrp_error_set(SSRP_E_FORMAT, "%s: must be a JSON object", what);
	}
	ssrp_free(copy);
	return o;
}

static int repeated(const cJSON *obj, const cJSON *member)
{
	for (const cJSON *p = obj->child; p && p != member; p = p->next)
		if (!strcmp(p->string, member->string))
			return 1;
	return 0;
}

static int from_object(ssrp_assoc_request *r, const cJSON *o, const char *what)
{
	const cJSON *it, *dev = NULL, *users = NULL, *name = NULL, *report = NULL;
	cJSON_ArrayForEach(it, o) {
		if (repeated(o, it))
			return ssrp_error_set(SSRP_E_FORMAT, "%s: \"%.*s\" appears twice", what,
					      ssrp_utf8_prefix(it->string, 40), it->string);
		if (!strcmp(it->string, "deviceId"))
			dev = it;
		else if (!strcmp(it->string, "users"))
			users = it;
		else if (!strcmp(it->string, "deviceName"))
			name = it;
		else if (!strcmp(it->string, "report"))
			report = it;
		else
			return ssrp_error_set(SSRP_E_FORMAT, "%s: unknown member \"%.*s\"", what,
					      ssrp_utf8_prefix(it->string, 40), it->string);
	}
	if (!dev)
		return ssrp_error_set(SSRP_E_FORMAT, "%s: \"deviceId\" is missing", what);
	if (!cJSON_IsString(dev) || !ssrp_guid_is_bare(dev->valuestring))
		return ssrp_error_set(SSRP_E_FORMAT,
				      "%s: \"deviceId\" must be a GUID such as "
				      "\"7a1c0de5-0000-4000-8000-000000000001\"",
				      what);
	if (name && (!cJSON_IsString(name) ||
		     (name->valuestring[0] && !clean_text(name->valuestring, MAX_NAME_BYTES))))
		return ssrp_error_set(SSRP_E_FORMAT,
				      "%s: \"deviceName\" must be a string of at most %d printable "
				      "bytes",
				      what, MAX_NAME_BYTES);
	if (!users)
		return ssrp_error_set(SSRP_E_FORMAT, "%s: \"users\" is missing", what);
	int n = cJSON_IsArray(users) ? cJSON_GetArraySize(users) : -1;
	if (n < 1 || n > SSRP_ASSOC_MAX_USERS)
		return ssrp_error_set(SSRP_E_FORMAT, "%s: \"users\" must be an array of 1 to %d users",
				      what, SSRP_ASSOC_MAX_USERS);
	if (!(r->device_id = ssrp_strdup(dev->valuestring)) ||
	    !(r->device_name = ssrp_strdup(name ? name->valuestring : "")) ||
	    !(r->users = ssrp_calloc((size_t)n, sizeof *r->users)))
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	int i = 0;
	cJSON_ArrayForEach(it, users) {
		if (!cJSON_IsString(it) || !clean_text(it->valuestring, MAX_USER_BYTES))
			return ssrp_error_set(SSRP_E_FORMAT,
					      "%s: users[%d] must be a non-empty string of at most %d "
					      "bytes without control characters",
					      what, i, MAX_USER_BYTES);
		if (!(r->users[i] = ssrp_strdup(it->valuestring)))
			return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		r->n_users = (size_t)++i;
	}
	if (report) {
		if (!(r->report = ssrp_calloc(1, sizeof *r->report)))
			return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		if (ssrp_device_report_parse(report, r->report) != SSRP_OK)
			return ssrp_error_prefix(SSRP_E_FORMAT, "%s", what);
	}
	return SSRP_OK;
}

static int parse_body(ssrp_assoc_request **out, const char *json, size_t len, const char *what)
{
	if (!out || !json)
		return ssrp_error_set(SSRP_E_INVALID, "assoc: no request or output");
	*out = NULL;
	if (len > MAX_BODY_BYTES)
		return ssrp_error_set(SSRP_E_FORMAT, "%s: larger than %u bytes", what, MAX_BODY_BYTES);
	cJSON *o = parse_exact(json, len, what);
	if (!o)
		return ssrp_error_last_code();
	ssrp_assoc_request *r = ssrp_calloc(1, sizeof *r);
	int rc = r ? from_object(r, o, what) : ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	cJSON_Delete(o);
	if (!rc && !(r->webhook_name = ssrp_strdup("")))
		rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	if (rc) {
		ssrp_assoc_request_free(r);
		return rc;
	}
	*out = r;
	return SSRP_OK;
}

int ssrp_assoc_request_parse(ssrp_assoc_request **out, const char *json, size_t len)
{
	return parse_body(out, json, len, "request");
}

int ssrp_assoc_webhook_parse(ssrp_assoc_request **out, const char *json, size_t len)
{
	if (!out || !json)
		return ssrp_error_set(SSRP_E_INVALID, "assoc: no WebhookData or output");
	*out = NULL;
	if (len > MAX_WEBHOOK_BYTES)
		return ssrp_error_set(SSRP_E_FORMAT, "WebhookData: larger than %u bytes",
				      MAX_WEBHOOK_BYTES);
	cJSON *o = parse_exact(json, len, "WebhookData");
	if (!o)
		return ssrp_error_last_code();
	const cJSON *it, *name = NULL, *body = NULL;
	int rc = SSRP_OK;
	cJSON_ArrayForEach(it, o) {
		if (repeated(o, it)) {
			rc = ssrp_error_set(SSRP_E_FORMAT, "WebhookData: \"%.*s\" appears twice",
					    ssrp_utf8_prefix(it->string, 40), it->string);
			break;
		}
		if (!strcmp(it->string, "WebhookName")) {
			name = it;
			if (!cJSON_IsString(it) ||
			    (it->valuestring[0] && !clean_text(it->valuestring, MAX_NAME_BYTES)))
				rc = ssrp_error_set(SSRP_E_FORMAT,
						    "WebhookData: \"WebhookName\" must be a string of "
						    "at most %d printable bytes",
						    MAX_NAME_BYTES);
		} else if (!strcmp(it->string, "RequestBody")) {
			body = it;
			if (!cJSON_IsString(it))
				rc = ssrp_error_set(SSRP_E_FORMAT,
						    "WebhookData: \"RequestBody\" must be a string "
						    "holding the JSON request");
		} else if (!strcmp(it->string, "RequestHeader")) {
			if (!cJSON_IsObject(it) && !cJSON_IsNull(it))
				rc = ssrp_error_set(SSRP_E_FORMAT,
						    "WebhookData: \"RequestHeader\" must be an object");
		} else {
			rc = ssrp_error_set(SSRP_E_FORMAT, "WebhookData: unknown member \"%.*s\"",
					    ssrp_utf8_prefix(it->string, 40), it->string);
		}
		if (rc)
			break;
	}
	if (!rc && !body)
		rc = ssrp_error_set(SSRP_E_FORMAT, "WebhookData: \"RequestBody\" is missing");
	ssrp_assoc_request *r = NULL;
	if (!rc)
		rc = parse_body(&r, body->valuestring, strlen(body->valuestring),
				"WebhookData.RequestBody");
	if (!rc && name) {
		ssrp_free(r->webhook_name);
		if (!(r->webhook_name = ssrp_strdup(name->valuestring)))
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	cJSON_Delete(o);
	if (rc) {
		ssrp_assoc_request_free(r);
		return rc;
	}
	*out = r;
	return SSRP_OK;
}

char *ssrp_assoc_request_body(const char *device_id, const char *device_name,
			      const char *const *users, size_t n_users)
{
	if (!device_id || (n_users && !users))
		return NULL;
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = NULL;
	int ok = o && cJSON_AddStringToObject(o, "deviceId", device_id) &&
		 (arr = cJSON_AddArrayToObject(o, "users")) &&
		 (!device_name || !device_name[0] ||
		  cJSON_AddStringToObject(o, "deviceName", device_name));
	for (size_t i = 0; ok && i < n_users; i++) {
		cJSON *s = cJSON_CreateString(users[i] ? users[i] : "");
		ok = s && cJSON_AddItemToArray(arr, s);
	}
	char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!text)
		return NULL;
	char *copy = ssrp_strdup(text); /* freed with ssrp_free like the rest */
	cJSON_free(text);
	return copy;
}
