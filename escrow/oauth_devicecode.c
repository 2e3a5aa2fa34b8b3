/* The device-code sign-in (RFC 8628 as Entra ID speaks it): ask the
 * devicecode endpoint for a code, show it through the caller's prompt,
 * poll the token endpoint at the interval given until the person has
 * signed in, declined or the code expired. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/http_retry.h"
#include "escrow/oauth_private.h"
#include "escrow/strutil.h"
#include "hal/clock.h"
#include "hal/http.h"
#include "hal/mem.h"
#include "ssrp/sys/error.h"

static int plain_token(const char *s, size_t cap)
{
	size_t n = 0;
	for (; s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
			return 0;
	return n > 0 && n < cap;
}

static unsigned seconds_member(const cJSON *o, const char *name, unsigned dflt, unsigned lo,
			       unsigned hi)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	double d = cJSON_IsNumber(v)   ? v->valuedouble
		   : cJSON_IsString(v) ? strtod(v->valuestring, NULL)
				       : (double)dflt;
	if (!(d >= lo)) /* NaN too */
		return v ? lo : dflt;
	return d > hi ? hi : (unsigned)d;
}

void ssrp_graph_devicecode_clear(ssrp_graph_devicecode *dc)
{
	if (!dc)
		return;
	oauth_free_str(dc->device_code);
	ssrp_memzero(dc, sizeof *dc);
}

int ssrp_graph_devicecode_parse(const char *body, size_t len, ssrp_graph_devicecode *out)
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "graph: nowhere to put the device code");
	memset(out, 0, sizeof *out);
	cJSON *o = body ? cJSON_ParseWithLength(body, len) : NULL;
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return ssrp_error_set(SSRP_E_FORMAT,
				      "the device-code answer of the sign-in service is not a JSON object");
	}
	cJSON *dcode = cJSON_GetObjectItemCaseSensitive(o, "device_code");
	const cJSON *ucode = cJSON_GetObjectItemCaseSensitive(o, "user_code");
	const cJSON *uri = cJSON_GetObjectItemCaseSensitive(o, "verification_uri");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, "message");
	int rc = SSRP_OK;
	if (!cJSON_IsString(dcode) || !plain_token(dcode->valuestring, 8192))
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    "the device-code answer has no usable \"device_code\"");
	else if (!cJSON_IsString(ucode) || !plain_token(ucode->valuestring, sizeof out->user_code))
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    "the device-code answer has no usable \"user_code\" (printable, "
				    "at most %zu characters)",
				    sizeof out->user_code - 1);
	else if (!cJSON_IsString(uri) || strncmp(uri->valuestring, "https://", 8) ||
		 !plain_token(uri->valuestring, sizeof out->verification_uri))
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    "the device-code answer has no usable \"verification_uri\" (an "
				    "https URL)");
	if (!rc) {
		snprintf(out->user_code, sizeof out->user_code, "%s", ucode->valuestring);
		snprintf(out->verification_uri, sizeof out->verification_uri, "%s",
			 uri->valuestring);
		ssrp_copy_printable(out->message, sizeof out->message,
			       cJSON_IsString(msg) ? msg->valuestring : "");
		out->expires_in = seconds_member(o, "expires_in", 900, 1, 86400);
		out->interval = seconds_member(o, "interval", 5, 1, 60);
		size_t n = strlen(dcode->valuestring);
		out->device_code = ssrp_strdup(dcode->valuestring);
		ssrp_memzero(dcode->valuestring, n);
		if (!out->device_code)
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	} else if (cJSON_IsString(dcode)) {
		ssrp_memzero(dcode->valuestring, strlen(dcode->valuestring));
	}
	cJSON_Delete(o);
	if (rc)
		ssrp_graph_devicecode_clear(out);
	return rc;
}

ssrp_graph_poll ssrp_graph_devicecode_poll_classify(long status, const cJSON *answer)
{
	if (status == 200) {
		const cJSON *at = cJSON_GetObjectItemCaseSensitive(answer, "access_token");
		return cJSON_IsString(at) && at->valuestring[0] ? SSRP_GRAPH_POLL_DONE
								: SSRP_GRAPH_POLL_ERROR;
	}
	if (status != 400 && status != 401 && status != 403)
		return SSRP_GRAPH_POLL_ERROR;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(answer, "error");
	if (!cJSON_IsString(e))
		return SSRP_GRAPH_POLL_ERROR;
	const char *c = e->valuestring;
	if (!strcmp(c, "authorization_pending"))
		return SSRP_GRAPH_POLL_PENDING;
	if (!strcmp(c, "slow_down"))
		return SSRP_GRAPH_POLL_SLOW_DOWN;
	if (!strcmp(c, "expired_token") || !strcmp(c, "code_expired"))
		return SSRP_GRAPH_POLL_EXPIRED;
	if (!strcmp(c, "access_denied") || !strcmp(c, "authorization_declined"))
		return SSRP_GRAPH_POLL_DENIED;
	return SSRP_GRAPH_POLL_ERROR;
}

int oauth_device_code_sign_in(ssrp_oauth *o)
{
	uint64_t t0 = ssrp_monotonic_ms();
	char *scope = ssrp_http_escape(o->scope);
	char *id = ssrp_http_escape(o->client_id);
	char *form = scope && id ? ssrp_strjoin("client_id=", id, "&scope=", scope, (char *)NULL) : NULL;
	ssrp_free(scope);
	if (!form) {
		ssrp_free(id);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	cJSON *answer = NULL;
	ssrp_retry r;
	ssrp_retry_begin(&r, &o->opt);
	int rc = oauth_post(o, "devicecode", form, &r, &answer);
	ssrp_free(form);
	if (rc) {
		ssrp_free(id);
		return ssrp_error_prefix(rc, "cannot start the device-code sign-in");
	}
	if (o->err.status != 200) {
		oauth_read_error(o, answer);
		cJSON_Delete(answer);
		ssrp_free(id);
		return ssrp_error_set(o->err.status == 400 || o->err.status == 401 ? SSRP_E_PERMISSION
										  : SSRP_E_IO,
				      "the sign-in service refused to start a device-code sign-in "
				      "(HTTP %ld): %s: %s%s%s%s",
				      o->err.status, o->err.code, o->err.message, oauth_rid_open(o),
				      o->err.request_id, oauth_rid_close(o));
	}
	char *text = cJSON_PrintUnformatted(answer);
	cJSON_Delete(answer);
	ssrp_graph_devicecode dc;
	rc = text ? ssrp_graph_devicecode_parse(text, strlen(text), &dc)
		  : ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	oauth_free_str(text);
	if (rc) {
		ssrp_free(id);
		return rc;
	}
	char *code = ssrp_http_escape(dc.device_code);
	form = code ? ssrp_strjoin("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
			     "&client_id=", id, "&device_code=", code, (char *)NULL)
		    : NULL;
	oauth_free_str(code);
	ssrp_free(id);
	if (!form) {
		ssrp_graph_devicecode_clear(&dc);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	o->prompt(dc.verification_uri, dc.user_code, dc.message, o->prompt_ctx);
	uint64_t unit = o->poll_unit_ms, interval = dc.interval;
	uint64_t expires_at = t0 + (uint64_t)dc.expires_in * unit;
	for (;;) {
		uint64_t wait = interval * unit, now = ssrp_monotonic_ms();
		if (now + wait >= expires_at) {
			rc = ssrp_error_set(SSRP_E_PERMISSION,
					    "nobody completed the sign-in with the code %s at %s "
					    "within %u minute%s; run the command again for a new code",
					    dc.user_code, dc.verification_uri,
					    (dc.expires_in + 59) / 60, dc.expires_in > 60 ? "s" : "");
			break;
		}
		ssrp_sleep_ms((unsigned)wait);
		ssrp_retry_begin(&r, &o->opt);
		if (r.deadline > expires_at)
			r.deadline = expires_at;
		rc = oauth_post(o, "token", form, &r, &answer);
		if (rc) {
			rc = ssrp_error_prefix(rc, "waiting for the device-code sign-in");
			break;
		}
		ssrp_graph_poll p = ssrp_graph_devicecode_poll_classify(o->err.status, answer);
		if (p == SSRP_GRAPH_POLL_DONE) {
			rc = oauth_accept(o, answer, ssrp_monotonic_ms());
			break;
		}
		oauth_read_error(o, answer);
		cJSON_Delete(answer);
		if (p == SSRP_GRAPH_POLL_PENDING)
			continue;
		if (p == SSRP_GRAPH_POLL_SLOW_DOWN) {
			interval += 5;
			continue;
		}
		if (p == SSRP_GRAPH_POLL_EXPIRED)
			rc = ssrp_error_set(SSRP_E_PERMISSION,
					    "the sign-in code %s expired before the sign-in at %s was "
					    "completed; run the command again for a new code",
					    dc.user_code, dc.verification_uri);
		else if (p == SSRP_GRAPH_POLL_DENIED)
			rc = ssrp_error_set(SSRP_E_PERMISSION,
					    "the sign-in with the code %s was declined at %s: %s",
					    dc.user_code, dc.verification_uri, o->err.message);
		else
			rc = ssrp_error_set(o->err.status >= 400 && o->err.status < 500
						    ? SSRP_E_PERMISSION
						    : SSRP_E_IO,
					    "the token endpoint refused the device-code sign-in (HTTP "
					    "%ld): %s: %s%s%s%s",
					    o->err.status, o->err.code, o->err.message, oauth_rid_open(o),
					    o->err.request_id, oauth_rid_close(o));
		break;
	}
	oauth_free_str(form);
	ssrp_graph_devicecode_clear(&dc);
	return rc;
}
