/* $batch (escrow/graph_client.h): up to 20 requests to a POST; the parts
 * Graph throttled are sent again, after the retry engine's wait for the
 * longest inner Retry-After, under one deadline for the call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/graph_client.h"
#include "escrow/graph_private.h"
#include "escrow/http_retry.h"
#include "hal/http.h"
#include "hal/mem.h"
#include "hal/text.h"
#include "ssrp/sys/error.h"

static double inner_retry_after(const cJSON *resp)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(resp, "headers");
	const cJSON *it;
	cJSON_ArrayForEach(it, h) {
		if (it->string && ssrp_ascii_ieq(it->string, "Retry-After")) {
			if (cJSON_IsString(it))
				return ssrp_http_parse_retry_after(it->valuestring);
			if (cJSON_IsNumber(it))
				return it->valuedouble;
		}
	}
	return -1;
}

void ssrp_graph_batch_results_free(ssrp_graph_batch_result *results, size_t n)
{
	for (size_t i = 0; results && i < n; i++) {
		cJSON_Delete(results[i].body);
		results[i].body = NULL;
	}
}

/* "Name: value" into the inner request's headers object; -1 out of memory. */
static int batch_header(cJSON *h, const char *line)
{
	const char *colon = strchr(line, ':');
	char name[128];
	size_t n = colon ? (size_t)(colon - line) : 0;
	if (!n || n >= sizeof name)
		return 0; /* not a header: checked by ssrp_graph_batch */
	memcpy(name, line, n);
	name[n] = '\0';
	const char *v = colon + 1;
	while (*v == ' ')
		v++;
	return cJSON_AddStringToObject(h, name, v) ? 0 : -1;
}

/* Send the requests whose index is in pending[0..n); fill their results. */
static int batch_once(ssrp_graph *g, const ssrp_graph_batch_req *reqs, const size_t *pending,
		      size_t n, ssrp_graph_batch_result *results, double *max_retry_after)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(root, "requests");
	int oom = !arr;
	for (size_t k = 0; k < n && !oom; k++) {
		const ssrp_graph_batch_req *r = &reqs[pending[k]];
		char id[24];
		snprintf(id, sizeof id, "%zu", pending[k] + 1);
		cJSON *o = cJSON_CreateObject();
		oom = !o || !cJSON_AddItemToArray(arr, o) || !cJSON_AddStringToObject(o, "id", id) ||
		      !cJSON_AddStringToObject(o, "method", r->method) ||
		      !cJSON_AddStringToObject(o, "url", r->url);
		cJSON *h = NULL;
		if (!oom && (r->body || r->headers))
			oom = !(h = cJSON_AddObjectToObject(o, "headers"));
		if (!oom && r->body) {
			cJSON *b = cJSON_Duplicate(r->body, 1);
			oom = !b || !cJSON_AddItemToObject(o, "body", b) ||
			      !cJSON_AddStringToObject(h, "Content-Type", "application/json");
		}
		for (const char *const *p = r->headers; !oom && p && *p; p++)
			oom = batch_header(h, *p);
	}
	if (oom) {
		cJSON_Delete(root);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	cJSON *answer = NULL;
	int rc = ssrp_graph_post(g, "/v1.0/$batch", root, &answer);
	cJSON_Delete(root);
	if (rc)
		return rc;
	const cJSON *responses = cJSON_GetObjectItemCaseSensitive(answer, "responses");
	const cJSON *it;
	cJSON_ArrayForEach(it, responses) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "status");
		char *end = NULL;
		unsigned long idx = cJSON_IsString(id) ? strtoul(id->valuestring, &end, 10) : 0;
		size_t k = 0;
		while (k < n && pending[k] + 1 != idx)
			k++;
		if (k == n || !end || *end || !cJSON_IsNumber(st))
			continue; /* not one we sent: ignored, and the request stays 0 */
		ssrp_graph_batch_result *res = &results[pending[k]];
		res->status = (long)st->valuedouble;
		if (res->status == 429)
			g->stats.throttled++;
		cJSON_Delete(res->body);
		res->body = cJSON_DetachItemFromObjectCaseSensitive((cJSON *)it, "body");
		double ra = inner_retry_after(it);
		if (ra > *max_retry_after)
			*max_retry_after = ra;
	}
	cJSON_Delete(answer);
	return SSRP_OK;
}

/* The requests' form, and their results emptied. */
static int batch_check(const ssrp_graph_batch_req *reqs, size_t n, ssrp_graph_batch_result *results)
{
	for (size_t i = 0; i < n; i++) {
		if (!reqs[i].method || !reqs[i].url)
			return ssrp_error_set(SSRP_E_INVALID,
					      "graph: batch request %zu needs a method and a URL", i + 1);
		for (const char *const *p = reqs[i].headers; p && *p; p++) {
			const char *colon = strchr(*p, ':');
			if (!colon || colon == *p || colon - *p >= 128 || strpbrk(*p, "\r\n"))
				return ssrp_error_set(SSRP_E_INVALID,
						      "graph: batch request %zu: header '%.40s' is not "
						      "\"Name: value\"",
						      i + 1, *p);
		}
		results[i].status = 0;
		results[i].body = NULL;
	}
	return SSRP_OK;
}

/* The rounds of a batch call: every pending request, 20 to a POST; then
 * the retryable ones again after one wait (the longest inner Retry-After
 * among them) until none is left, the attempts run out or the wait would
 * cross the deadline. A POST that fails ends the call when whole_or_none
 * (its error returned, every result freed); otherwise its requests stay
 * unanswered (status 0) and err names why. */
static int batch_rounds(ssrp_graph *g, const ssrp_graph_batch_req *reqs, size_t n,
			ssrp_graph_batch_result *results, int whole_or_none, char *err,
			size_t err_cap)
{
	size_t *pending = ssrp_calloc(n, sizeof *pending), m = n;
	if (!pending)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		pending[i] = i;
	ssrp_retry r;
	ssrp_retry_begin(&r, &g->opt);
	int rc = SSRP_OK;
	for (;;) {
		double ra = -1;
		r.attempts++; /* a round: each POST keeps retries of its own */
		for (size_t at = 0; at < m && !rc; at += SSRP_GRAPH_BATCH_MAX) {
			size_t part = m - at < SSRP_GRAPH_BATCH_MAX ? m - at : SSRP_GRAPH_BATCH_MAX;
			int post_rc = batch_once(g, reqs, pending + at, part, results, &ra);
			if (post_rc == SSRP_OK)
				continue;
			if (whole_or_none) {
				rc = post_rc;
				break;
			}
			if (err && err_cap)
				snprintf(err, err_cap, "%s", ssrp_error_last());
			for (size_t k = at; k < at + part; k++) {
				cJSON_Delete(results[pending[k]].body);
				results[pending[k]].body = NULL;
				results[pending[k]].status = 0;
			}
		}
		if (rc)
			break;
		size_t again = 0;
		for (size_t k = 0; k < m; k++)
			if (ssrp_retry_status(results[pending[k]].status))
				pending[again++] = pending[k];
		if (!again || r.attempts >= r.opt.max_attempts)
			break;
		int p = ssrp_retry_pause(&r, ssrp_retry_wait_ms(&r, ra));
		if (p == 1)
			break; /* the throttled ones keep their 429/5xx */
		if (p) {
			rc = p;
			break;
		}
		m = again;
		g->stats.retries++;
	}
	ssrp_free(pending);
	if (rc)
		ssrp_graph_batch_results_free(results, n);
	return rc;
}

int ssrp_graph_batch(ssrp_graph *g, const ssrp_graph_batch_req *reqs, size_t n,
		     ssrp_graph_batch_result *results)
{
	if (!g || !reqs || !results || n == 0 || n > SSRP_GRAPH_BATCH_MAX)
		return ssrp_error_set(SSRP_E_INVALID, "graph: a batch holds 1 to %d requests",
				      SSRP_GRAPH_BATCH_MAX);
	int rc = batch_check(reqs, n, results);
	return rc ? rc : batch_rounds(g, reqs, n, results, 1, NULL, 0);
}

int ssrp_graph_batch_all(ssrp_graph *g, const ssrp_graph_batch_req *reqs, size_t n,
			 ssrp_graph_batch_result *results, char *err, size_t err_cap)
{
	if (err && err_cap)
		err[0] = '\0';
	if (!g || !reqs || !results || n == 0)
		return ssrp_error_set(SSRP_E_INVALID, "graph: a batch needs requests");
	int rc = batch_check(reqs, n, results);
	return rc ? rc : batch_rounds(g, reqs, n, results, 0, err, err_cap);
}
