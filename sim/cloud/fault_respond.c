/* The answer of an injected status fault, in the service's error shape
 * (faults.h): for a whole request (server.c) and for one request inside a
 * Graph $batch (graph_batch.c). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sim/cloud/cloud.h"
#include "sim/cloud/faults.h"

static char *json_text(cJSON *o)
{
	char *t = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return t;
}

static void iso_now(char out[40])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
}

void cloud_fault_respond(const char *svc, const cloud_request *rq, const cloud_fault *f, cloud_response *rs)
{
	char when[40];
	iso_now(when);
	if (!strcmp(svc, "graph") && f->status == 429) {
		/* Graph's throttling body, as concepts/throttling.md shows it. */
		cJSON *o = cJSON_CreateObject();
		cJSON *e = cJSON_AddObjectToObject(o, "error");
		cJSON_AddStringToObject(e, "code", "TooManyRequests");
		cJSON *ie = cJSON_AddObjectToObject(e, "innerError");
		cJSON_AddStringToObject(ie, "code", "429");
		cJSON_AddStringToObject(ie, "date", when);
		cJSON_AddStringToObject(ie, "message", "Please retry after");
		cJSON_AddStringToObject(ie, "request-id", rq->request_id);
		cJSON_AddStringToObject(ie, "status", "429");
		cJSON_AddStringToObject(e, "message", "Please retry again later.");
		cloud_respond_json(rs, 429, json_text(o));
	} else if (!strcmp(svc, "graph")) {
		const char *code = f->status == 429   ? "TooManyRequests"
				   : f->status == 503 ? "serviceNotAvailable"
				   : f->status == 504 ? "gatewayTimeout"
				   : f->status == 502 ? "badGateway"
						      : "generalException";
		cloud_graph_error(rs, rq, f->status, code, "%s",
				  f->status == 503 ? "The service is temporarily unavailable."
						   : "An error occurred; please retry.");
	} else if (!strcmp(svc, "login")) {
		/* AADSTS shape */
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "error", "temporarily_unavailable");
		cJSON_AddStringToObject(o, "error_description",
					f->status == 429 ? "AADSTS50196: The server terminated an "
							   "operation because it encountered a "
							   "client request loop."
							 : "AADSTS90033: A transient error has "
							   "occurred. Please try again.");
		cJSON *codes = cJSON_AddArrayToObject(o, "error_codes");
		cJSON_AddItemToArray(codes, cJSON_CreateNumber(f->status == 429 ? 50196 : 90033));
		cJSON_AddStringToObject(o, "timestamp", when);
		cJSON_AddStringToObject(o, "trace_id", rq->request_id);
		cJSON_AddStringToObject(o, "correlation_id", rq->request_id);
		cloud_respond_json(rs, f->status, json_text(o));
	} else {
		cJSON *o = cJSON_CreateObject();
		cJSON *e = cJSON_AddObjectToObject(o, "error");
		cJSON_AddStringToObject(e, "code", f->status == 429 ? "TooManyRequests"
								    : "ServiceUnavailable");
		cJSON_AddStringToObject(e, "message", "Please retry later.");
		cloud_respond_json(rs, f->status, json_text(o));
	}
	if (f->retry_after[0])
		cloud_response_header(rs, "Retry-After", f->retry_after);
}

