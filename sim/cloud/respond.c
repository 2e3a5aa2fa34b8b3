/* Request and response helpers every handler uses (cloud.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "hal/mem.h"
#include "hal/text.h"
#include "sim/cloud/cloud.h"
#include "sim/cloud/cloud_util.h"
#include "ssrp/sys/error.h"

const char *cloud_request_header(const cloud_request *rq, const char *name)
{
	size_t n = rq->n_headers < CLOUD_MAX_REQUEST_HEADERS ? rq->n_headers : CLOUD_MAX_REQUEST_HEADERS;
	for (size_t i = 0; name && i < n; i++)
		if (rq->headers[i].name && ssrp_ascii_ieq(rq->headers[i].name, name))
			return rq->headers[i].value;
	return NULL;
}

int cloud_query_param(const cloud_request *rq, const char *name, char *out, size_t cap)
{
	const char *q = rq->query ? rq->query : "";
	size_t len = strlen(q);
	int found = 0;
	if (out && cap)
		out[0] = '\0';
	for (size_t i = 0; i <= len;) {
		size_t end = i;
		while (end < len && q[end] != '&')
			end++;
		const char *eq = memchr(q + i, '=', end - i);
		size_t nlen = eq ? (size_t)(eq - (q + i)) : end - i;
		char pname[128];
		/* Names may be escaped too ("%24filter" is "$filter"). */
		int rc = nlen ? cloud_percent_decode(pname, sizeof pname, q + i, nlen, 1) : 0;
		if (rc > 0 && !strcmp(pname, name)) {
			if (found) {
				if (out && cap)
					out[0] = '\0';
				return ssrp_error_set(SSRP_E_FORMAT, "the query option '%.64s' is given twice",
						      name);
			}
			found = 1;
			if (!out || !cap)
				return ssrp_error_set(SSRP_E_BUFSIZE, "no room for the query option '%.64s'", name);
			rc = eq ? cloud_percent_decode(out, cap, eq + 1, (size_t)(q + end - eq - 1), 1) : 0;
			if (!eq)
				out[0] = '\0';
			if (rc < 0)
				return ssrp_error_prefix(rc, "query option '%.64s'", name);
		}
		i = end + 1;
	}
	return found;
}

void cloud_response_init(cloud_response *rs)
{
	memset(rs, 0, sizeof *rs);
	/* A handler that never answers shows up as a server error rather
	 * than as an empty success. */
	rs->status = 500;
}

void cloud_response_free(cloud_response *rs)
{
	/* Bodies may hold a recovery key or a token: wiped, not just freed. */
	if (rs->body)
		ssrp_memzero(rs->body, rs->body_len);
	free(rs->body);
	rs->body = NULL;
	rs->body_len = 0;
}

void cloud_respond_json(cloud_response *rs, int status, char *text)
{
	free(rs->body);
	snprintf(rs->content_type, sizeof rs->content_type, "application/json; charset=utf-8");
	if (!text) {
		/* The caller ran out of memory building the body. */
		static const char oom[] = "{\"error\":{\"code\":\"InternalServerError\","
					  "\"message\":\"The simulator ran out of memory.\"}}";
		rs->status = 500;
		rs->body = strdup(oom);
		rs->body_len = rs->body ? strlen(rs->body) : 0;
		return;
	}
	rs->status = status;
	rs->body = text;
	rs->body_len = strlen(text);
}

void cloud_response_header(cloud_response *rs, const char *name, const char *value)
{
	size_t i;
	for (i = 0; i < rs->n_headers; i++)
		if (ssrp_ascii_ieq(rs->headers[i].name, name))
			break;
	if (i == CLOUD_MAX_RESPONSE_HEADERS)
		return; /* full: handlers set a handful, the table holds eight */
	snprintf(rs->headers[i].name, sizeof rs->headers[i].name, "%s", name);
	snprintf(rs->headers[i].value, sizeof rs->headers[i].value, "%s", value);
	if (i == rs->n_headers)
		rs->n_headers++;
}

void cloud_graph_error(cloud_response *rs, const cloud_request *rq, int status, const char *code,
		       const char *fmt, ...)
{
	char message[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	/* Graph writes the date without a zone designator, in UTC:
	 * "2024-05-01T12:00:00". */
	char date[CLOUD_TIME_ISO_LEN + 1];
	cloud_time_format_iso(date, (uint64_t)time(NULL));
	date[CLOUD_TIME_ISO_LEN - 1] = '\0';
	const char *crid = rq ? cloud_request_header(rq, "client-request-id") : NULL;
	const char *rid = rq && rq->request_id ? rq->request_id : "";
	cJSON *root = cJSON_CreateObject();
	cJSON *err = cJSON_AddObjectToObject(root, "error");
	cJSON *inner = NULL;
	int ok = err && cJSON_AddStringToObject(err, "code", code ? code : "") &&
		 cJSON_AddStringToObject(err, "message", message) &&
		 (inner = cJSON_AddObjectToObject(err, "innerError")) &&
		 cJSON_AddStringToObject(inner, "date", date) &&
		 cJSON_AddStringToObject(inner, "request-id", rid) &&
		 cJSON_AddStringToObject(inner, "client-request-id", crid ? crid : rid);
	/* On a failed allocation text stays NULL and cloud_respond_json
	 * answers 500. */
	char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	cloud_respond_json(rs, status, text);
}

int cloud_word_in(const char *list, const char *word)
{
	if (!list || !word || !word[0])
		return 0;
	size_t wl = strlen(word);
	const char *p = list;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *start = p;
		while (*p && *p != ' ')
			p++;
		size_t n = (size_t)(p - start);
		if (n == wl) {
			size_t i = 0;
			while (i < n) {
				char a = start[i], b = word[i];
				if (a >= 'A' && a <= 'Z')
					a = (char)(a - 'A' + 'a');
				if (b >= 'A' && b <= 'Z')
					b = (char)(b - 'A' + 'a');
				if (a != b)
					break;
				i++;
			}
			if (i == n)
				return 1;
		}
	}
	return 0;
}
