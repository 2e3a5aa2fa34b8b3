/* Routing by Host: which simulated service answers a request. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim/cloud/cloud.h"
#include "sim/cloud/server.h"

const char *cloud_service_of(const char *host)
{
	if (!host)
		return NULL;
	if (!strcmp(host, CLOUD_HOST_LOGIN))
		return "login";
	if (!strcmp(host, CLOUD_HOST_GRAPH))
		return "graph";
	if (!strcmp(host, CLOUD_HOST_DRS))
		return "drs";
	if (!strcmp(host, CLOUD_HOST_PORTAL))
		return "portal";
	size_t n = strlen(host), sn = strlen(CLOUD_HOST_AUTOMATION_SUFFIX);
	/* At least one label before the suffix. */
	if (n > sn && !strcmp(host + n - sn, CLOUD_HOST_AUTOMATION_SUFFIX) && host[n - sn - 1] != '.')
		return "webhook";
	return NULL;
}

void cloud_dispatch(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs)
{
	const char *svc = cloud_service_of(rq->host);
	if (svc && !strcmp(svc, "login")) {
		cloud_token_handle(ctx, rq, rs);
	} else if (svc && !strcmp(svc, "graph")) {
		cloud_graph_handle(ctx, rq, rs);
	} else if (svc && !strcmp(svc, "drs")) {
		cloud_drs_handle(ctx, rq, rs);
	} else if (svc && !strcmp(svc, "portal")) {
		cloud_portal_handle(ctx, rq, rs);
	} else if (svc) {
		cloud_webhook_handle(ctx, rq, rs);
	} else {
		/* 421 Misdirected Request: this server is not authoritative for
		 * the host (RFC 9110 §15.5.20). */
		cJSON *o = cJSON_CreateObject();
		cJSON *e = cJSON_AddObjectToObject(o, "error");
		cJSON_AddStringToObject(e, "code", "MisdirectedRequest");
		cJSON_AddStringToObject(e, "message",
					"This server answers for login.microsoftonline.com, "
					"graph.microsoft.com, enterpriseregistration.windows.net, "
					"myaccount.microsoft.com and *.azure-automation.net only.");
		cloud_respond_json(rs, 421, cJSON_PrintUnformatted(o));
		cJSON_Delete(o);
	}
}
