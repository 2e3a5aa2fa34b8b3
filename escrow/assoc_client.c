/* The device's side of the association (ssrp/assoc_client.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "escrow/assoc.h"
#include "escrow/assoc_client.h"
#include "escrow/config.h"
#include "escrow/device_report.h"
#include "escrow/http_retry.h"
#include "hal/http.h"
#include "hal/mem.h"
#include "hal/struct_version.h"
#include "hal/text.h"
#include "ssrp/error.h"
#include "ssrp/sys/error.h"

#define WHERE_SERVICE "the association service"
#define WHERE_WEBHOOK "the Automation webhook"

/* ---- results --------------------------------------------------------------- */

static void decision_free(ssrp_assoc_client_decision *d)
{
	ssrp_free(d->user);
	ssrp_free(d->upn);
	ssrp_free(d->relation);
	ssrp_free(d->outcome);
	ssrp_free(d->licence);
	ssrp_free(d->licence_plan);
	ssrp_free(d->detail);
}

int ssrp_assoc_client_result_init(ssrp_assoc_client_result *r, unsigned int version)
{
	int rc = ssrp_struct_version_check("ssrp_assoc_client_result", version,
					   SSRP_ASSOC_CLIENT_RESULT_VERSION,
					   "SSRP_ASSOC_CLIENT_RESULT_INIT");
	if (rc)
		return rc;
	memset(r, 0, sizeof *r);
	r->version = version;
	return SSRP_OK;
}

void ssrp_assoc_client_result_free(ssrp_assoc_client_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_decisions; i++)
		decision_free(&r->decisions[i]);
	ssrp_free(r->decisions);
	r->decisions = NULL;
	r->n_decisions = 0;
	r->n_settled = 0;
}

static void copy_field(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

/* ---- parsers ----------------------------------------------------------------- */

static int take_string(const cJSON *o, const char *name, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (v && !cJSON_IsString(v) && !cJSON_IsNull(v))
		return -1;
	*out = ssrp_strdup(cJSON_IsString(v) ? v->valuestring : "");
	return *out ? 0 : -2;
}

int ssrp_assoc_client_parse_service(const char *body, size_t len, ssrp_assoc_client_result *out)
{
	ssrp_assoc_client_result_free(out);
	out->device_id[0] = '\0';
	cJSON *root = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return ssrp_error_set(SSRP_E_FORMAT, WHERE_SERVICE "'s answer is not a JSON object");
	}
	int rc = SSRP_OK;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "deviceId");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "decisions");
	if (!cJSON_IsString(id) || strlen(id->valuestring) >= sizeof out->device_id) {
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    WHERE_SERVICE "'s answer has no \"deviceId\" string");
		goto done;
	}
	copy_field(out->device_id, sizeof out->device_id, id->valuestring);
	if (!cJSON_IsArray(list)) {
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    WHERE_SERVICE "'s answer has no \"decisions\" array");
		goto done;
	}
	int n = cJSON_GetArraySize(list);
	/* Each user at most twice (owner and user): anything more is not the
	 * service's answer to our request. */
	if (n < 0 || n > 2 * SSRP_ASSOC_MAX_USERS) {
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    WHERE_SERVICE "'s answer has %d decisions, more than %d", n,
				    2 * SSRP_ASSOC_MAX_USERS);
		goto done;
	}
	if (n) {
		out->decisions = ssrp_calloc((size_t)n, sizeof *out->decisions);
		if (!out->decisions) {
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
			goto done;
		}
	}
	const cJSON *it;
	size_t i = 0;
	cJSON_ArrayForEach(it, list) {
		ssrp_assoc_client_decision *d = &out->decisions[i];
		static const char *const names[] = {"user",    "upn",	       "relation", "outcome",
						    "licence", "licence_plan", "detail"};
		char **slots[] = {&d->user,    &d->upn,		 &d->relation, &d->outcome,
				  &d->licence, &d->licence_plan, &d->detail};
		if (!cJSON_IsObject(it)) {
			rc = ssrp_error_set(SSRP_E_FORMAT,
					    WHERE_SERVICE "'s decision %zu is not an object", i + 1);
			goto done;
		}
		out->n_decisions = ++i; /* so a failure below frees what this one has */
		for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
			int e = take_string(it, names[k], slots[k]);
			if (e == -2) {
				rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
				goto done;
			}
			if (e) {
				rc = ssrp_error_set(SSRP_E_FORMAT,
						    WHERE_SERVICE "'s decision %zu: \"%s\" is not a string",
						    i, names[k]);
				goto done;
			}
		}
		if (!*d->outcome) {
			rc = ssrp_error_set(SSRP_E_FORMAT,
					    WHERE_SERVICE "'s decision %zu has no \"outcome\"", i);
			goto done;
		}
		if (!strcmp(d->outcome, "added") || !strcmp(d->outcome, "already") ||
		    !strcmp(d->outcome, "would-add"))
			out->n_settled++;
	}
done:
	cJSON_Delete(root);
	if (rc)
		ssrp_assoc_client_result_free(out);
	return rc;
}

int ssrp_assoc_client_parse_webhook(const char *body, size_t len, ssrp_assoc_client_result *out)
{
	out->job_id[0] = '\0';
	cJSON *root = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(root, "JobIds");
	const cJSON *first = cJSON_GetArrayItem(ids, 0);
	int rc = SSRP_OK;
	if (!cJSON_IsArray(ids) || !cJSON_IsString(first) || !*first->valuestring ||
	    strlen(first->valuestring) >= sizeof out->job_id)
		rc = ssrp_error_set(SSRP_E_FORMAT,
				    WHERE_WEBHOOK "'s answer has no \"JobIds\" with a job id");
	else
		copy_field(out->job_id, sizeof out->job_id, first->valuestring);
	cJSON_Delete(root);
	return rc;
}

int ssrp_assoc_client_parse_error(const char *body, size_t len, ssrp_assoc_client_result *out,
				  char *msg, size_t cap)
{
	out->error_code[0] = '\0';
	if (cap)
		msg[0] = '\0';
	cJSON *root = body && len ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *m = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "message")
					   : cJSON_GetObjectItemCaseSensitive(root, "Message");
	int rc = SSRP_OK;
	if (cJSON_IsString(code))
		copy_field(out->error_code, sizeof out->error_code, code->valuestring);
	if (cJSON_IsString(m) && cap)
		copy_field(msg, cap, m->valuestring);
	if (!cJSON_IsString(code) && !cJSON_IsString(m))
		rc = ssrp_error_set(SSRP_E_FORMAT, "the error answer has neither a code nor a message");
	cJSON_Delete(root);
	return rc;
}

void ssrp_assoc_client_summary(const ssrp_assoc_client_result *r, char *buf, size_t cap)
{
	if (!cap)
		return;
	buf[0] = '\0';
	size_t used = 0;
	if (r->job_id[0]) {
		snprintf(buf, cap, "job %s accepted", r->job_id);
		return;
	}
	if (!r->n_decisions) {
		snprintf(buf, cap, "no decisions");
		return;
	}
	for (size_t i = 0; i < r->n_decisions && used < cap; i++) {
		const ssrp_assoc_client_decision *d = &r->decisions[i];
		int n = snprintf(buf + used, cap - used, "%s%s: %s (licence %s%s%s)", i ? "; " : "",
				 d->user, d->outcome, *d->licence ? d->licence : "not-checked",
				 *d->licence_plan ? " " : "", d->licence_plan);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* ---- sending ------------------------------------------------------------------ */

/* Wipe the thread's error message before setting ours: hal/http's
 * transport messages name the URL, which for a webhook holds its token. */
static void scrub_error(void)
{
	ssrp_error_set(SSRP_E_GENERIC, "%1023s", "");
	ssrp_error_clear();
}

/* Send rq with the retry rules of escrow/http_retry.h. Returns
 * ssrp_http_request's code of the last attempt; for a secret URL the
 * thread's message buffer (which every attempt's transport failure wrote)
 * is wiped whole, and a transport message is replaced by curl's reason
 * alone. */
static int exchange(const ssrp_retry_options *ro, ssrp_http *h, ssrp_http_req *rq,
		    ssrp_http_resp *resp, unsigned *attempts, int secret_url)
{
	int rc = ssrp_http_request_retrying(h, rq, resp, ro, attempts);
	if (!secret_url)
		return rc;
	if (rc != SSRP_OK) {
		/* "POST <url>: <curl's reason>" → keep the reason only. */
		char reason[256] = "";
		const char *last = ssrp_error_last(), *p = strstr(last, "://");
		p = p ? strstr(p, ": ") : NULL;
		snprintf(reason, sizeof reason, "%s", p ? p + 2 : "no answer");
		scrub_error();
		ssrp_error_set(rc, "%s", reason);
	} else {
		scrub_error();
	}
	return rc;
}

/* The error for an answer that is not a success: a sentence naming who
 * refused, their code and message. */
static int refusal(const char *where, const ssrp_http_resp *resp, ssrp_assoc_client_result *out)
{
	char msg[512];
	ssrp_assoc_client_parse_error(resp->body, resp->body_len, out, msg, sizeof msg);
	long st = resp->status;
	int code = st == 403				? SSRP_E_REFUSED
		   : st == 401				? SSRP_E_PERMISSION
		   : st == 404				? SSRP_E_NOTFOUND
		   : ssrp_retry_status(st) || st >= 500	? SSRP_E_IO
							: SSRP_E_INVALID;
	if (!out->error_code[0] && !msg[0])
		return ssrp_error_set(code, "%s answered HTTP %ld%s", where, st,
				      ssrp_retry_status(st) ? " (still, after retrying)" : "");
	return ssrp_error_set(code, "%s refused (HTTP %ld): %s%s%s", where, st, out->error_code,
			      out->error_code[0] && msg[0] ? ": " : "", msg);
}

/* The request body with the device's report added (body is freed). */
static char *with_report(char *body, const ssrp_device_report *report)
{
	cJSON *o = body ? cJSON_Parse(body) : NULL;
	cJSON *r = o ? ssrp_device_report_json(report) : NULL;
	ssrp_free(body);
	if (!r || !cJSON_AddItemToObject(o, "report", r)) {
		cJSON_Delete(r);
		cJSON_Delete(o);
		return NULL;
	}
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	char *copy = text ? ssrp_strdup(text) : NULL;
	cJSON_free(text);
	return copy;
}

/* What both sends check first: the caller's structs (versions this
 * library knows; out untouched otherwise), out's fields reset, the request
 * itself, the options taken into ro. */
static int begin(const ssrp_cloud_config *cfg, const ssrp_device_identity *id,
		 const char *const *users, size_t n_users, const ssrp_retry_options *opt,
		 ssrp_retry_options *ro, ssrp_assoc_client_result *out)
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "no result structure");
	int rc = ssrp_struct_version_check("ssrp_assoc_client_result", out->version,
					   SSRP_ASSOC_CLIENT_RESULT_VERSION,
					   "SSRP_ASSOC_CLIENT_RESULT_INIT");
	if (rc)
		return rc;
	out->status = 0;
	out->attempts = 0;
	out->error_code[0] = out->device_id[0] = out->job_id[0] = '\0';
	out->decisions = NULL;
	out->n_decisions = out->n_settled = 0;
	if (!cfg)
		return ssrp_error_set(SSRP_E_INVALID, "no configuration was given");
	if (!id)
		return ssrp_error_set(SSRP_E_INVALID, "no device identity was given");
	if ((rc = ssrp_struct_version_check("ssrp_device_identity", id->version,
					    SSRP_DEVICE_IDENTITY_VERSION,
					    "SSRP_DEVICE_IDENTITY_INIT")) != SSRP_OK)
		return rc;
	if (!id->device_id[0])
		return ssrp_error_set(SSRP_E_INVALID,
				      "no device id: the device's identity names none (is it "
				      "registered in Entra ID?)");
	if (!n_users || !users)
		return ssrp_error_set(SSRP_E_INVALID, "no users to associate with the device");
	if (n_users > SSRP_ASSOC_MAX_USERS)
		return ssrp_error_set(SSRP_E_INVALID, "%zu users is more than the %d a request may name",
				      n_users, SSRP_ASSOC_MAX_USERS);
	return ssrp_retry_options_take(ro, opt);
}

/* The request body for the device ("" display name: none). */
static char *request_body(const ssrp_device_identity *id, const char *const *users,
			  size_t n_users)
{
	return ssrp_assoc_request_body(id->device_id, id->display_name[0] ? id->display_name : NULL,
				       users, n_users);
}

static int new_http(ssrp_http **h, const ssrp_cloud_config *cfg, const ssrp_retry_options *ro,
		    const ssrp_device_identity *with_cert)
{
	ssrp_http_options ho = {
		.ca_file = cfg->ca_file,
		.connect_to = (const char *const *)cfg->connect_to,
		.cert_file = with_cert ? with_cert->cert : NULL,
		.key_file = with_cert && with_cert->key[0] ? with_cert->key : NULL,
		.timeout_ms = ro->timeout_ms > 0 ? ro->timeout_ms : 60000,
		.max_body = 1024u * 1024u,
	};
	return ssrp_http_new(h, &ho);
}

int ssrp_assoc_client_send_service(const ssrp_cloud_config *cfg, const ssrp_device_identity *id,
				   const char *const *users, size_t n_users,
				   const ssrp_device_report *report, const ssrp_retry_options *opt,
				   ssrp_assoc_client_result *out)
{
	ssrp_retry_options ro;
	int rc = begin(cfg, id, users, n_users, opt, &ro, out);
	if (rc)
		return rc;
	if (!cfg->assoc.url || !*cfg->assoc.url)
		return ssrp_error_set(SSRP_E_INVALID, "the configuration has no \"assoc.url\": where "
						      "is the association service?");
	if (strncmp(cfg->assoc.url, "https://", 8) != 0)
		return ssrp_error_set(SSRP_E_INVALID,
				      "\"assoc.url\" must be an https:// URL, not '%s'",
				      cfg->assoc.url);
	if (!id->cert[0])
		return ssrp_error_set(SSRP_E_INVALID,
				      "device %s has no certificate (the configuration's "
				      "\"device.cert_file\", \"device.key_file\", or the "
				      "platform's); the association service knows a device by it",
				      id->device_id);
	size_t ul = strlen(cfg->assoc.url);
	const char *sep = ul && cfg->assoc.url[ul - 1] == '/' ? "" : "/";
	size_t cap = ul + strlen(sep) + sizeof SSRP_ASSOC_SERVICE_PATH;
	char *url = ssrp_malloc(cap);
	char *body = request_body(id, users, n_users);
	if (body && report)
		body = with_report(body, report);
	ssrp_http *h = NULL;
	if (!url || !body) {
		ssrp_free(url);
		free(body);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	snprintf(url, cap, "%s%s" SSRP_ASSOC_SERVICE_PATH, cfg->assoc.url, sep);
	if ((rc = new_http(&h, cfg, &ro, id)) != SSRP_OK)
		goto done;
	static const char *const headers[] = {"Content-Type: application/json",
					      "Accept: application/json", NULL};
	ssrp_http_req rq = {.method = "POST", .url = url, .headers = headers, .body = body,
			    .body_len = strlen(body)};
	ssrp_http_resp resp;
	rc = exchange(&ro, h, &rq, &resp, &out->attempts, 0);
	out->status = resp.status;
	if (rc == SSRP_OK) {
		if (resp.status == 200) {
			rc = ssrp_assoc_client_parse_service(resp.body, resp.body_len, out);
			if (rc == SSRP_OK && !ssrp_ascii_ieq(out->device_id, id->device_id))
				rc = ssrp_error_set(SSRP_E_FORMAT,
						    WHERE_SERVICE " answered for device %s, not %s",
						    out->device_id, id->device_id);
			if (rc)
				ssrp_assoc_client_result_free(out);
		} else {
			rc = refusal(WHERE_SERVICE, &resp, out);
		}
	} else {
		ssrp_error_prefix(rc, "cannot reach " WHERE_SERVICE " at %s", cfg->assoc.url);
	}
	ssrp_http_resp_free(&resp);
done:
	ssrp_http_free(h);
	ssrp_free(url);
	free(body);
	return rc;
}

int ssrp_assoc_client_send_webhook(const ssrp_cloud_config *cfg, const ssrp_device_identity *id,
				   const char *const *users, size_t n_users,
				   const ssrp_retry_options *opt, ssrp_assoc_client_result *out)
{
	ssrp_retry_options ro;
	int rc = begin(cfg, id, users, n_users, opt, &ro, out);
	if (rc)
		return rc;
	if (!cfg->webhook_url_file)
		return ssrp_error_set(SSRP_E_INVALID,
				      "the configuration has no \"webhook_url_file\"");
	char *url = NULL;
	size_t url_len = 0;
	if ((rc = ssrp_cloud_config_secret(cfg->webhook_url_file, &url, &url_len)) != SSRP_OK)
		return ssrp_error_prefix(rc, "cannot read the webhook URL");
	/* Trim surrounding white space (a file edited by hand). */
	while (url_len && (url[url_len - 1] == ' ' || url[url_len - 1] == '\t' ||
			   url[url_len - 1] == '\n' || url[url_len - 1] == '\r'))
		url[--url_len] = '\0';
	if (url_len < 9 || strncmp(url, "https://", 8) != 0 || memchr(url, '\n', url_len)) {
		ssrp_free_secret(url, url_len);
		return ssrp_error_set(SSRP_E_INVALID, "%s does not hold an https:// webhook URL",
				      cfg->webhook_url_file);
	}
	char *body = request_body(id, users, n_users);
	ssrp_http *h = NULL;
	if (!body) {
		rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		goto done;
	}
	if ((rc = new_http(&h, cfg, &ro, NULL)) != SSRP_OK)
		goto done;
	static const char *const headers[] = {"Content-Type: application/json", NULL};
	ssrp_http_req rq = {.method = "POST", .url = url, .headers = headers, .body = body,
			    .body_len = strlen(body)};
	ssrp_http_resp resp;
	rc = exchange(&ro, h, &rq, &resp, &out->attempts, 1);
	out->status = resp.status;
	if (rc == SSRP_OK) {
		if (resp.status == 202 || resp.status == 200) {
			rc = ssrp_assoc_client_parse_webhook(resp.body, resp.body_len, out);
		} else {
			rc = refusal(WHERE_WEBHOOK, &resp, out);
			/* Azure answers 400 for a wrong, disabled or expired token. */
			if (resp.status == 400)
				rc = ssrp_error_prefix(SSRP_E_PERMISSION, "the webhook URL in %s was "
									  "not accepted",
						       cfg->webhook_url_file);
		}
	} else {
		ssrp_error_prefix(rc, "cannot reach " WHERE_WEBHOOK " (URL in %s)",
				  cfg->webhook_url_file);
	}
	ssrp_http_resp_free(&resp);
done:
	ssrp_http_free(h);
	free(body);
	ssrp_free_secret(url, url_len);
	return rc;
}
