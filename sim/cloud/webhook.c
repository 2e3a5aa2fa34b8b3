/* Azure Automation webhooks: POST https://<host>/webhooks?token=... starts a
 * job of the runbook behind the webhook (microsoft-wire.md §5).
 *   202 {"JobIds":["<guid>"]}  accepted, the job is queued
 *   400  the token is wrong, or the webhook is disabled or expired (Azure
 *        does not say which, and neither do we)
 *   404  no webhook on this host, or another path
 * The job gets {"WebhookName","RequestHeader":{...},"RequestBody":"<raw>"} on
 * its standard input (jobs.h). The token never reaches the job, the log or
 * the state: only its SHA-256 is kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim/cloud/cloud.h"
#include "sim/cloud/jobs.h"

static void automation_error(cloud_response *rs, int status, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "Message", message);
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	cloud_respond_json(rs, status, text);
}

/* The WebhookData a runbook receives, as a malloc'd JSON string. */
static char *webhook_data(const char *name, const cloud_request *rq, size_t *len)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "WebhookName", name);
	cJSON *h = cJSON_AddObjectToObject(o, "RequestHeader");
	for (size_t i = 0; i < rq->n_headers; i++)
		if (!cJSON_GetObjectItemCaseSensitive(h, rq->headers[i].name))
			cJSON_AddStringToObject(h, rq->headers[i].name, rq->headers[i].value);
	/* The body is passed through untouched, as a string. */
	char *body = malloc(rq->body_len + 1);
	if (body) {
		if (rq->body_len)
			memcpy(body, rq->body, rq->body_len);
		body[rq->body_len] = '\0';
		cJSON_AddStringToObject(o, "RequestBody", body);
		free(body);
	}
	char *text = body ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	*len = text ? strlen(text) : 0;
	return text;
}

void cloud_webhook_handle(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs)
{
	if (strcmp(rq->path, "/webhooks") != 0) {
		automation_error(rs, 404, "Not Found");
		return;
	}
	cloud_state_lock(ctx->state);
	cloud_webhook *w = cloud_webhook_find_by_host(ctx->state, rq->host);
	if (!w) {
		cloud_state_unlock(ctx->state);
		automation_error(rs, 404, "Webhook not found");
		return;
	}
	snprintf(rs->identity, sizeof rs->identity, "webhook:%s", w->name);
	if (strcmp(rq->method, "POST") != 0) {
		cloud_state_unlock(ctx->state);
		automation_error(rs, 405, "The webhook accepts POST only");
		cloud_response_header(rs, "Allow", "POST");
		return;
	}
	char token[256];
	uint64_t now = ctx->now();
	if (!cloud_query_param(rq, "token", token, sizeof token) ||
	    !cloud_webhook_check_token(w, token) || !w->enabled || (w->expiry && now >= w->expiry)) {
		cloud_state_unlock(ctx->state);
		memset(token, 0, sizeof token);
		automation_error(rs, 400, "Webhook is expired or disabled, or the token is invalid");
		return;
	}
	memset(token, 0, sizeof token);
	char job_id[CLOUD_ID_LEN + 1];
	size_t len = 0;
	char *input = NULL;
	if (cloud_job_add(ctx->state, w->name, now, job_id) != 0 ||
	    (ctx->job_command && !(input = webhook_data(w->name, rq, &len)))) {
		cloud_state_unlock(ctx->state);
		automation_error(rs, 500, "Internal error; resubmit");
		return;
	}
	if (!ctx->job_command) {
		/* No runbook behind it: the job completes at once, printing nothing. */
		cloud_job *j = cloud_job_find(ctx->state, job_id);
		char *empty = calloc(1, 1);
		if (j && empty)
			cloud_job_finish(j, CLOUD_JOB_COMPLETED, empty);
		else
			free(empty);
	}
	cloud_state_unlock(ctx->state);

	if (ctx->job_command && ctx->jobs) {
		cloud_jobs_submit(ctx->jobs, job_id, input, len);
	} else if (ctx->job_command) {
		char *output = NULL;
		int ok = 0;
		cloud_job_run(ctx->job_command, input, len, CLOUD_JOB_TIMEOUT_MS, &output, &ok);
		free(input);
		cloud_state_lock(ctx->state);
		cloud_job *j = cloud_job_find(ctx->state, job_id);
		if (j)
			cloud_job_finish(j, ok ? CLOUD_JOB_COMPLETED : CLOUD_JOB_FAILED, output);
		else
			free(output);
		cloud_state_unlock(ctx->state);
	}

	cJSON *o = cJSON_CreateObject();
	cJSON *ids = cJSON_AddArrayToObject(o, "JobIds");
	cJSON_AddItemToArray(ids, cJSON_CreateString(job_id));
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	cloud_respond_json(rs, 202, text);
}
