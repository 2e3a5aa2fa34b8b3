/* POST /v1.0/$batch: up to 20 requests, each with an id unique without
 * regard to case, a method and a URL relative to /v1.0, optional headers
 * and body, and optional dependsOn. The whole batch is checked before any
 * part runs (a malformed batch is one 400); then the parts run in order,
 * each through the same routing as a lone request with the batch's
 * Authorization, each holding the state lock only for itself, and each
 * subject to the fault script as a lone request is (a 429 for one part).
 * A part whose dependency did not succeed is not run and gets 424. The
 * responses come in reverse order: Graph promises no order, and clients
 * must match them by id. */
#include <stdio.h>
#include <string.h>

#include "hal/mem.h"
#include "hal/text.h"
#include "sim/cloud/faults.h"
#include "sim/cloud/graph_internal.h"

typedef struct part {
	const char *id;
	char method[8];
	const char *url;
	const cJSON *headers; /* object or NULL */
	const cJSON *body;    /* or NULL */
	size_t n_deps;
	size_t deps[GRAPH_BATCH_MAX]; /* indexes of earlier parts */
	int status;
} part;

static void batch_bad(graph_req *g, const char *fmt, const char *a, const char *b)
{
	char msg[300];
	snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
	graph_error(g, 400, "BadRequest", "%s", msg);
}

static const cJSON *header_of(const cJSON *headers, const char *name)
{
	const cJSON *h;
	cJSON_ArrayForEach(h, headers)
	{
		if (h->string && ssrp_ascii_ieq(h->string, name))
			return h;
	}
	return NULL;
}

/* Check the shape of the batch into parts; 400 filled and -1 on error. */
static int check_batch(graph_req *g, const cJSON *requests, part *parts, size_t *n_parts)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
	size_t n = 0;
	const cJSON *r;
	cJSON_ArrayForEach(r, requests)
	{
		if (n == GRAPH_BATCH_MAX) {
			graph_error(g, 400, "BadRequest",
				    "Number of batch requests exceeds the limit of %d.", GRAPH_BATCH_MAX);
			return -1;
		}
		part *p = &parts[n];
		memset(p, 0, sizeof *p);
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
		const cJSON *method = cJSON_GetObjectItemCaseSensitive(r, "method");
		const cJSON *url = cJSON_GetObjectItemCaseSensitive(r, "url");
		const cJSON *deps = cJSON_GetObjectItemCaseSensitive(r, "dependsOn");
		if (!cJSON_IsObject(r) || !cJSON_IsString(id) || !id->valuestring[0]) {
			graph_error(g, 400, "BadRequest",
				    "Invalid batch payload format: request %zu has no string 'id'.", n + 1);
			return -1;
		}
		p->id = id->valuestring;
		for (size_t i = 0; i < n; i++) {
			if (ssrp_ascii_ieq(parts[i].id, p->id)) {
				batch_bad(g, "Batch request ids must be unique; '%.60s' repeats.%s", p->id, NULL);
				return -1;
			}
		}
		if (!cJSON_IsString(method) || strlen(method->valuestring) >= sizeof p->method) {
			batch_bad(g, "Request id '%.60s' has no valid 'method'.%s", p->id, NULL);
			return -1;
		}
		for (size_t i = 0; method->valuestring[i]; i++) {
			char c = method->valuestring[i];
			p->method[i] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
		}
		int known = 0;
		for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
			known |= strcmp(p->method, methods[i]) == 0;
		if (!known) {
			batch_bad(g, "Request id '%.60s' has an unsupported method '%.10s'.", p->id,
				  method->valuestring);
			return -1;
		}
		if (!cJSON_IsString(url) || !url->valuestring[0] || strstr(url->valuestring, "://")) {
			batch_bad(g, "Request id '%.60s' needs a 'url' relative to /v1.0.%s", p->id, NULL);
			return -1;
		}
		p->url = url->valuestring;
		p->headers = cJSON_GetObjectItemCaseSensitive(r, "headers");
		if (p->headers) {
			const cJSON *h;
			if (!cJSON_IsObject(p->headers)) {
				batch_bad(g, "Request id '%.60s' has 'headers' that are not an object.%s", p->id,
					  NULL);
				return -1;
			}
			cJSON_ArrayForEach(h, p->headers)
			{
				if (!cJSON_IsString(h) || !h->string[0]) {
					batch_bad(g, "Request id '%.60s' has a header that is not a string.%s",
						  p->id, NULL);
					return -1;
				}
			}
		}
		p->body = cJSON_GetObjectItemCaseSensitive(r, "body");
		int write = strcmp(p->method, "POST") == 0 || strcmp(p->method, "PUT") == 0 ||
			    strcmp(p->method, "PATCH") == 0;
		if ((p->body || write) && (!p->body || !header_of(p->headers, "content-type"))) {
			batch_bad(g, "Write request id : %.60s does not contain Content-Type header or body.%s",
				  p->id, NULL);
			return -1;
		}
		if (deps) {
			const cJSON *d;
			if (!cJSON_IsArray(deps)) {
				batch_bad(g, "Request id '%.60s' has a 'dependsOn' that is not an array.%s", p->id,
					  NULL);
				return -1;
			}
			cJSON_ArrayForEach(d, deps)
			{
				size_t k = 0;
				while (k < n && !(cJSON_IsString(d) && ssrp_ascii_ieq(parts[k].id, d->valuestring)))
					k++;
				/* Only earlier requests: this also rules out cycles. */
				if (k == n || p->n_deps == GRAPH_BATCH_MAX) {
					batch_bad(g,
						  "Request id '%.60s' depends on '%.60s', which is not an earlier "
						  "request of the batch.",
						  p->id, cJSON_IsString(d) ? d->valuestring : "");
					return -1;
				}
				p->deps[p->n_deps++] = k;
			}
		}
		n++;
	}
	if (n == 0) {
		graph_error(g, 400, "BadRequest", "Invalid batch payload format: no requests.");
		return -1;
	}
	*n_parts = n;
	return 0;
}

/* The headers of an inner request: the batch's Authorization (always)
 * and User-Agent (unless the part sets one), then the part's own, with
 * names in lower case as cloud_request wants them. */
typedef struct inner_headers {
	size_t n;
	char *names[CLOUD_MAX_REQUEST_HEADERS];
} inner_headers;

static void free_inner_headers(inner_headers *h)
{
	for (size_t i = 0; i < h->n; i++)
		ssrp_free(h->names[i]);
	h->n = 0;
}

static int build_headers(graph_req *g, const part *p, cloud_request *in, inner_headers *names)
{
	const char *auth = cloud_request_header(g->rq, "authorization");
	const char *ua = cloud_request_header(g->rq, "user-agent");
	if (auth)
		in->headers[in->n_headers++] = (cloud_header){"authorization", auth};
	if (ua && !header_of(p->headers, "user-agent"))
		in->headers[in->n_headers++] = (cloud_header){"user-agent", ua};
	const cJSON *h;
	cJSON_ArrayForEach(h, p->headers)
	{
		if (ssrp_ascii_ieq(h->string, "authorization"))
			continue;
		if (in->n_headers == CLOUD_MAX_REQUEST_HEADERS)
			return -1;
		size_t len = strlen(h->string);
		char *name = ssrp_malloc(len + 1);
		if (!name)
			return -1;
		for (size_t i = 0; i <= len; i++) {
			char c = h->string[i];
			name[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
		}
		names->names[names->n++] = name;
		in->headers[in->n_headers++] = (cloud_header){name, h->valuestring};
	}
	return 0;
}

/* {"id","status","headers","body"} for one part. */
static cJSON *part_json(const part *p, const cloud_response *rs)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *headers = cJSON_CreateObject();
	int bad = graph_add_str(o, "id", p->id);
	bad |= graph_add_item(o, "status", cJSON_CreateNumber(rs->status));
	bad |= graph_add_item(o, "headers", headers);
	if (!bad && rs->body) {
		bad |= graph_add_str(headers, "Content-Type",
				     rs->content_type[0] ? rs->content_type : "application/json");
		cJSON *body = cJSON_Parse(rs->body);
		bad |= graph_add_item(o, "body", body ? body : cJSON_CreateString(rs->body));
	}
	for (size_t i = 0; !bad && i < rs->n_headers && i < CLOUD_MAX_RESPONSE_HEADERS; i++)
		bad |= graph_add_str(headers, rs->headers[i].name, rs->headers[i].value);
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Run one part; its response into rs. -1 when out of memory. */
static int run_part(graph_req *g, part *parts, size_t i, cloud_response *rs)
{
	part *p = &parts[i];
	cloud_request in;
	inner_headers names = {0};
	char request_id[CLOUD_ID_LEN + 1];
	char *path = NULL, *body = NULL;
	int rc = -1;
	memset(&in, 0, sizeof in);
	cloud_new_id(request_id);
	in.method = p->method;
	in.host = g->rq->host;
	in.client_cert_cn = g->rq->client_cert_cn;
	in.client_addr = g->rq->client_addr;
	in.request_id = request_id;

	const char *url = p->url;
	const char *qm = strchr(url, '?');
	size_t plen = qm ? (size_t)(qm - url) : strlen(url);
	char *decoded = graph_pct_decode(url, plen, 0);
	size_t dlen = decoded ? strlen(decoded) : 0;
	path = decoded ? ssrp_malloc(dlen + 7) : NULL;
	in.query = qm ? qm + 1 : "";
	if (path) {
		snprintf(path, dlen + 7, "/v1.0%s%s", decoded[0] == '/' ? "" : "/", decoded);
		in.path = path;
	}

	for (size_t d = 0; d < p->n_deps; d++) {
		const part *dep = &parts[p->deps[d]];
		if (dep->status < 200 || dep->status >= 300) {
			cloud_graph_error(rs, &in, 424, "FailedDependency",
					  "Request '%s' depends on request '%s', which did not succeed (%d).",
					  p->id, dep->id, dep->status);
			rc = 0;
			goto out;
		}
	}
	if (!decoded) {
		cloud_graph_error(rs, &in, 400, "BadRequest", "Request id '%s' has a malformed 'url'.", p->id);
		rc = 0;
		goto out;
	}
	if (!path || build_headers(g, p, &in, &names))
		goto out;
	if (p->body) {
		body = cJSON_PrintUnformatted(p->body);
		if (!body)
			goto out;
		in.body = (const uint8_t *)body;
		in.body_len = strlen(body);
	}
	cloud_fault fault = {0};
	if (g->ctx->faults) {
		char subject[1200];
		snprintf(subject, sizeof subject, "graph%s", path);
		cloud_faults_decide(g->ctx->faults, p->method, subject, &fault);
	}
	/* Only status faults make sense for one part of an answer. */
	if (fault.kind == CLOUD_FAULT_STATUS)
		cloud_fault_respond("graph", &in, &fault, rs);
	else
		graph_route(g->ctx, &in, rs, 1);
	rc = 0;
out:
	p->status = rs->status;
	free_inner_headers(&names);
	cJSON_free(body);
	ssrp_free(decoded);
	ssrp_free(path);
	return rc;
}

void graph_batch_handle(graph_req *g)
{
	if (g->n_seg != 1) {
		graph_bad_segment(g, g->seg[1]);
		return;
	}
	if (strcmp(g->rq->method, "POST") != 0) {
		graph_bad_method(g);
		return;
	}
	if (graph_query_allow(g, 0))
		return;
	cJSON *batch = graph_body_object(g);
	if (!batch)
		return;
	part parts[GRAPH_BATCH_MAX];
	size_t n = 0;
	const cJSON *requests = cJSON_GetObjectItemCaseSensitive(batch, "requests");
	if (!cJSON_IsArray(requests)) {
		graph_error(g, 400, "BadRequest", "Invalid batch payload format: no 'requests' array.");
		goto out;
	}
	if (check_batch(g, requests, parts, &n))
		goto out;
	cJSON *obj = cJSON_CreateObject();
	cJSON *responses = cJSON_CreateArray();
	int bad = graph_add_item(obj, "responses", responses);
	for (size_t i = 0; i < n && !bad; i++) {
		cloud_response rs;
		cloud_response_init(&rs);
		bad |= run_part(g, parts, i, &rs);
		cJSON *pj = bad ? NULL : part_json(&parts[i], &rs);
		bad |= !pj || !cJSON_InsertItemInArray(responses, 0, pj);
		if (bad)
			cJSON_Delete(pj);
		cloud_response_free(&rs);
	}
	if (bad) {
		cJSON_Delete(obj);
		obj = NULL;
	}
	graph_send(g, 200, obj);
out:
	cJSON_Delete(batch);
}
