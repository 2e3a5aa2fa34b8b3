/* escrow/graph_client.h: requests with the OAuth client's token, retries,
 * errors in Graph's words, paging. $batch is in graph_batch.c. */
#include "escrow/graph_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/graph_private.h"
#include "escrow/http_retry.h"
#include "escrow/oauth_client.h"
#include "escrow/strutil.h"
#include "hal/http.h"
#include "hal/mem.h"
#include "ssrp/sys/error.h"

static void free_secret_str(char *s)
{
	if (s)
		ssrp_free_secret(s, strlen(s));
}

char *ssrp_odata_escape(const char *s)
{
	if (!s)
		return NULL;
	size_t n = 0;
	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 2 : 1;
	char *o = ssrp_malloc(n + 1), *w = o;
	if (!o)
		return NULL;
	for (const char *p = s; *p; p++) {
		*w++ = *p;
		if (*p == '\'')
			*w++ = '\'';
	}
	*w = '\0';
	return o;
}

char *ssrp_graph_filter_eq(const char *prefix, const char *prop, const char *value)
{
	char *lit = ssrp_odata_escape(value);
	char *expr = lit ? ssrp_strjoin(prop, " eq '", lit, "'", (char *)NULL) : NULL;
	char *enc = expr ? ssrp_http_escape(expr) : NULL;
	char *out = enc ? ssrp_strjoin(prefix, strchr(prefix, '?') ? "&" : "?", "$filter=", enc,
				 (char *)NULL)
			: NULL;
	ssrp_free(lit);
	ssrp_free(expr);
	ssrp_free(enc);
	return out;
}

/* One call's retries on this client's connection, counted in its stats. */
static int exchange(ssrp_graph *g, ssrp_retry *r, ssrp_http_req *rq, ssrp_http_resp *resp)
{
	unsigned waits = r->waits, throttled = r->throttled;
	int rc = ssrp_retry_send(r, g->http, rq, resp);
	g->stats.retries += r->waits - waits;
	g->stats.throttled += r->throttled - throttled;
	return rc;
}

/* ---- the client -------------------------------------------------------------- */

int ssrp_graph_new(ssrp_graph **out, const ssrp_cloud_config *cfg, const ssrp_graph_auth *auth,
		   const ssrp_graph_options *opt)
{
	if (!out || !cfg || !auth)
		return ssrp_error_set(SSRP_E_INVALID, "graph: no configuration or credentials");
	*out = NULL;
	ssrp_graph *g = ssrp_calloc(1, sizeof *g);
	if (!g)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	ssrp_retry defaults;
	ssrp_retry_begin(&defaults, opt);
	g->opt = defaults.opt;
	snprintf(g->graph_host, sizeof g->graph_host, "%s",
		 cfg->graph_host ? cfg->graph_host : SSRP_HOST_GRAPH);
	ssrp_http_options ho = {.ca_file = cfg->ca_file,
				.connect_to = (const char *const *)cfg->connect_to,
				.timeout_ms = g->opt.timeout_ms};
	int rc = ssrp_http_new(&g->http, &ho);
	if (!rc)
		rc = ssrp_oauth_new(&g->oauth, cfg, auth, g->graph_host, &g->opt, g->http);
	if (rc) {
		ssrp_graph_free(g);
		return rc;
	}
	*out = g;
	return SSRP_OK;
}

void ssrp_graph_free(ssrp_graph *g)
{
	if (!g)
		return;
	ssrp_oauth_free(g->oauth);
	ssrp_http_free(g->http);
	ssrp_free_secret(g, sizeof *g);
}

const ssrp_graph_error *ssrp_graph_last_error(const ssrp_graph *g)
{
	return g ? &g->err : NULL;
}

void ssrp_graph_get_stats(const ssrp_graph *g, ssrp_graph_stats *out)
{
	if (!g || !out)
		return;
	ssrp_oauth_stats t;
	ssrp_oauth_get_stats(g->oauth, &t);
	*out = g->stats;
	out->token_requests = t.requests;
	out->retries += t.retries;
	out->throttled += t.throttled;
}

void ssrp_graph_use_token_share(ssrp_graph *g, ssrp_graph_token_share *sh)
{
	if (g)
		ssrp_oauth_use_share(g->oauth, sh);
}

/* The token for the next request; a failure's words (the token endpoint's)
 * become this client's last error. */
static int current_token(ssrp_graph *g, const char **token)
{
	int rc = ssrp_oauth_token(g->oauth, token);
	if (rc)
		g->err = *ssrp_oauth_last_error(g->oauth);
	return rc;
}

int ssrp_graph_token(ssrp_graph *g)
{
	if (!g)
		return ssrp_error_set(SSRP_E_INVALID, "graph: no client");
	return current_token(g, NULL);
}

const ssrp_oauth_user *ssrp_graph_signed_in(const ssrp_graph *g)
{
	return g ? ssrp_oauth_signed_in(g->oauth) : NULL;
}

/* path → full URL on the Graph host, or NULL (refused) */
static char *graph_url(const ssrp_graph *g, const char *path)
{
	if (path[0] == '/')
		return ssrp_strjoin("https://", g->graph_host, path, (char *)NULL);
	size_t hl = strlen(g->graph_host);
	if (!strncmp(path, "https://", 8) && !strncmp(path + 8, g->graph_host, hl) &&
	    path[8 + hl] == '/')
		return ssrp_strdup(path);
	return NULL;
}

/* "/v1.0/devices" from a path or URL, for messages: no host, no query. */
static void shown_path(const ssrp_graph *g, const char *path, char *out, size_t cap)
{
	if (!strncmp(path, "https://", 8))
		path += 8 + strlen(g->graph_host);
	size_t n = strcspn(path, "?");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, path, n);
	out[n] = '\0';
}

static void read_graph_error(ssrp_graph *g, const ssrp_http_resp *resp)
{
	g->err.status = resp->status;
	snprintf(g->err.request_id, sizeof g->err.request_id, "%s", resp->request_id);
	cJSON *o = cJSON_ParseWithLength(resp->body, resp->body_len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
	const cJSON *inner = cJSON_GetObjectItemCaseSensitive(e, "innerError");
	const cJSON *rid = cJSON_GetObjectItemCaseSensitive(inner, "request-id");
	snprintf(g->err.code, sizeof g->err.code, "%s",
		 cJSON_IsString(code) ? code->valuestring : "HTTP error");
	snprintf(g->err.message, sizeof g->err.message, "%s",
		 cJSON_IsString(msg) ? msg->valuestring : "no error message in the answer");
	if (!g->err.request_id[0] && cJSON_IsString(rid))
		snprintf(g->err.request_id, sizeof g->err.request_id, "%s", rid->valuestring);
	cJSON_Delete(o);
}

static int status_code(long st)
{
	if (st == 404)
		return SSRP_E_NOTFOUND;
	if (st == 401 || st == 403)
		return SSRP_E_PERMISSION;
	if (st >= 400 && st < 500 && st != 429)
		return SSRP_E_INVALID;
	return SSRP_E_IO;
}

int ssrp_graph_request(ssrp_graph *g, const char *method, const char *path, const cJSON *body,
		       long *status, cJSON **out)
{
	if (out)
		*out = NULL;
	if (status)
		*status = 0;
	if (!g || !method || !path)
		return ssrp_error_set(SSRP_E_INVALID, "graph: a request needs a method and a path");
	memset(&g->err, 0, sizeof g->err);
	char shown[256];
	shown_path(g, path, shown, sizeof shown);
	char *url = graph_url(g, path);
	if (!url)
		return ssrp_error_set(SSRP_E_INVALID,
				      "refusing to send a Graph token to %.200s: not on %s", path,
				      g->graph_host);
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;
	if (body && !text) {
		ssrp_free(url);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	ssrp_retry r;
	ssrp_retry_begin(&r, &g->opt);
	ssrp_http_resp resp = {0};
	int rc = SSRP_OK, token_failed = 0;
	/* A second pass only after a 401: the cached token may have been revoked
	 * or expired early. */
	for (int pass = 0; pass < 2; pass++) {
		const char *token = NULL;
		if ((rc = current_token(g, &token))) {
			token_failed = 1;
			break;
		}
		char *auth = ssrp_strjoin("Authorization: Bearer ", token, (char *)NULL);
		if (!auth) {
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
			break;
		}
		const char *headers[] = {auth, "Accept: application/json",
					 "ocp-client-name: ssrp", "ocp-client-version: 0.1",
					 text ? "Content-Type: application/json" : NULL, NULL};
		ssrp_http_req rq = {.method = method, .url = url, .headers = headers, .body = text,
				    .body_len = text ? strlen(text) : 0};
		g->stats.graph_requests++;
		rc = exchange(g, &r, &rq, &resp);
		free_secret_str(auth);
		if (rc == SSRP_OK && resp.status == 401 && pass == 0) {
			ssrp_oauth_drop_token(g->oauth);
			ssrp_http_resp_free(&resp);
			continue;
		}
		break;
	}
	if (text)
		ssrp_free_secret(text, strlen(text));
	ssrp_free(url);
	unsigned attempts = r.attempts;
	if (rc) {
		ssrp_http_resp_free(&resp);
		if (token_failed) /* its message already says what happened */
			return rc;
		return ssrp_error_prefix(rc, "Graph request %s %s failed after %u attempt%s",
					 method, shown, attempts, attempts == 1 ? "" : "s");
	}
	if (status)
		*status = resp.status;
	if (resp.status < 200 || resp.status > 299) {
		read_graph_error(g, &resp);
		ssrp_http_resp_free(&resp);
		char tail[64] = "";
		if (attempts > 1)
			snprintf(tail, sizeof tail, " after %u attempts", attempts);
		return ssrp_error_set(status_code(g->err.status),
				      "Graph refused %s %s: %s: %s (request-id %s)%s", method, shown,
				      g->err.code, g->err.message,
				      g->err.request_id[0] ? g->err.request_id : "none", tail);
	}
	if (out && resp.body_len) {
		*out = cJSON_ParseWithLength(resp.body, resp.body_len);
		if (!*out) {
			g->err.status = resp.status;
			snprintf(g->err.request_id, sizeof g->err.request_id, "%s", resp.request_id);
			ssrp_http_resp_free(&resp);
			return ssrp_error_set(SSRP_E_FORMAT,
					      "Graph answered %s %s with a body that is not JSON "
					      "(request-id %s)",
					      method, shown, g->err.request_id);
		}
	}
	ssrp_http_resp_free(&resp);
	return SSRP_OK;
}

int ssrp_graph_get(ssrp_graph *g, const char *path, cJSON **out)
{
	return ssrp_graph_request(g, "GET", path, NULL, NULL, out);
}

int ssrp_graph_post(ssrp_graph *g, const char *path, const cJSON *body, cJSON **out)
{
	return ssrp_graph_request(g, "POST", path, body, NULL, out);
}

int ssrp_graph_delete(ssrp_graph *g, const char *path)
{
	return ssrp_graph_request(g, "DELETE", path, NULL, NULL, NULL);
}

int ssrp_graph_add_ref(ssrp_graph *g, const char *ref_path, const char *object_id, int *already)
{
	if (already)
		*already = 0;
	if (!g || !ref_path || !object_id)
		return ssrp_error_set(SSRP_E_INVALID, "graph: add_ref needs a path and an object id");
	char *ref = ssrp_strjoin("https://", g->graph_host, "/v1.0/directoryObjects/", object_id,
			   (char *)NULL);
	cJSON *body = cJSON_CreateObject();
	int rc = (!ref || !body || !cJSON_AddStringToObject(body, "@odata.id", ref))
			 ? ssrp_error_set(SSRP_E_NOMEM, "out of memory")
			 : ssrp_graph_request(g, "POST", ref_path, body, NULL, NULL);
	cJSON_Delete(body);
	ssrp_free(ref);
	/* Graph's answer to a duplicate: 400 Request_BadRequest "One or more
	 * added object references already exist ...". */
	if (rc == SSRP_E_INVALID && g->err.status == 400 &&
	    strstr(g->err.message, "already exist")) {
		if (already)
			*already = 1;
		ssrp_error_clear();
		return SSRP_OK;
	}
	return rc;
}

int ssrp_graph_list(ssrp_graph *g, const char *path, ssrp_graph_item_fn fn, void *ctx)
{
	if (!g || !path || !fn)
		return ssrp_error_set(SSRP_E_INVALID, "graph: list needs a path and a callback");
	char *next = ssrp_strdup(path);
	int rc = next ? SSRP_OK : ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	while (!rc && next) {
		cJSON *page = NULL;
		rc = ssrp_graph_get(g, next, &page);
		ssrp_free(next);
		next = NULL;
		if (rc)
			break;
		const cJSON *value = cJSON_GetObjectItemCaseSensitive(page, "value");
		if (!cJSON_IsArray(value)) {
			cJSON_Delete(page);
			rc = ssrp_error_set(SSRP_E_FORMAT, "Graph answered a list with no \"value\" array");
			break;
		}
		const cJSON *it;
		cJSON_ArrayForEach(it, value) {
			if ((rc = fn(it, ctx)))
				break;
		}
		const cJSON *nl = cJSON_GetObjectItemCaseSensitive(page, "@odata.nextLink");
		if (!rc && cJSON_IsString(nl) && !(next = ssrp_strdup(nl->valuestring)))
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		cJSON_Delete(page);
	}
	ssrp_free(next);
	return rc;
}
