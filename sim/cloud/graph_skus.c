/* The simulated Graph's subscribedSkus: the tenant's commercial
 * subscriptions (List subscribedSkus, Get subscribedSku), the catalogue
 * that maps a user's assignedLicenses (skuId, disabledPlans) to part
 * numbers and service plans. Called with the state lock held.
 *
 * Permissions as the List subscribedSkus page has them, the same for
 * application and delegated tokens: LicenseAssignment.Read.All, or the
 * higher Organization.Read.All, Organization.ReadWrite.All,
 * Directory.Read.All, Directory.ReadWrite.All. Only $select is taken
 * ("does not support $filter"). */
#include <stdio.h>
#include <string.h>

#include "hal/text.h"
#include "sim/cloud/graph_internal.h"

#define SKU_TYPE "microsoft.graph.subscribedSku"
/* Every simulated subscription has this many enabled units. */
#define SKU_PREPAID_ENABLED 10000

static const char *const sku_read[] = {"LicenseAssignment.Read.All", "Organization.Read.All",
				       "Organization.ReadWrite.All", "Directory.Read.All",
				       "Directory.ReadWrite.All", NULL};
static const char *const sku_props[] = {"id", "accountId", "accountName", "appliesTo",
					"capabilityStatus", "consumedUnits", "prepaidUnits",
					"servicePlans", "skuId", "skuPartNumber", "subscriptionIds",
					NULL};

static int add_number(cJSON *o, const char *name, double v)
{
	return cJSON_AddNumberToObject(o, name, v) ? 0 : -1;
}

static cJSON *sku_json(graph_req *g, const cloud_sku *k)
{
	cloud_state *s = g->ctx->state;
	const char *tenant = cloud_state_tenant_id(s);
	cJSON *o = cJSON_CreateObject();
	int bad = !o;
	char id[2 * CLOUD_ID_LEN + 2];
	snprintf(id, sizeof id, "%s_%s", tenant, k->sku_id);
	if (!bad && graph_selected(g, "id"))
		bad |= graph_add_str(o, "id", id);
	if (!bad && graph_selected(g, "accountId"))
		bad |= graph_add_str(o, "accountId", tenant);
	if (!bad && graph_selected(g, "accountName"))
		bad |= graph_add_str(o, "accountName", cloud_state_tenant_domain(s));
	if (!bad && graph_selected(g, "appliesTo"))
		bad |= graph_add_str(o, "appliesTo", "User");
	if (!bad && graph_selected(g, "capabilityStatus"))
		bad |= graph_add_str(o, "capabilityStatus", "Enabled");
	if (!bad && graph_selected(g, "consumedUnits"))
		bad |= add_number(o, "consumedUnits", (double)cloud_sku_consumed(s, k->sku_id));
	if (!bad && graph_selected(g, "prepaidUnits")) {
		cJSON *p = cJSON_CreateObject();
		bad |= graph_add_item(o, "prepaidUnits", p);
		bad |= bad || add_number(p, "enabled", SKU_PREPAID_ENABLED) ||
		       add_number(p, "lockedOut", 0) || add_number(p, "suspended", 0) ||
		       add_number(p, "warning", 0);
	}
	if (!bad && graph_selected(g, "servicePlans")) {
		cJSON *plans = cJSON_CreateArray();
		bad |= graph_add_item(o, "servicePlans", plans);
		for (unsigned i = 0; !bad && i < k->n_plans; i++) {
			cJSON *p = cJSON_CreateObject();
			bad |= graph_add_array_item(plans, p);
			bad |= bad || graph_add_str(p, "servicePlanId", k->plans[i].id) ||
			       graph_add_str(p, "servicePlanName", k->plans[i].name) ||
			       graph_add_str(p, "provisioningStatus", "Success") ||
			       graph_add_str(p, "appliesTo", "User");
		}
	}
	if (!bad && graph_selected(g, "skuId"))
		bad |= graph_add_str(o, "skuId", k->sku_id);
	if (!bad && graph_selected(g, "skuPartNumber"))
		bad |= graph_add_str(o, "skuPartNumber", k->part_number);
	if (!bad && graph_selected(g, "subscriptionIds"))
		bad |= graph_add_item(o, "subscriptionIds", cJSON_CreateArray());
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static void list_skus(graph_req *g)
{
	cJSON *o = cJSON_CreateObject(), *value = cJSON_CreateArray();
	int bad = graph_add_item(o, "value", value) || graph_add_context(g, o, "subscribedSkus", NULL);
	for (size_t i = 0; !bad && i < cloud_sku_count(g->ctx->state); i++)
		bad |= graph_add_array_item(value, sku_json(g, cloud_sku_at(g->ctx->state, i)));
	if (bad) {
		cJSON_Delete(o);
		o = NULL;
	}
	graph_send(g, 200, o);
}

/* subscribedSkus/{tenantId}_{skuId} */
static void get_sku(graph_req *g, const char *id)
{
	const char *tenant = cloud_state_tenant_id(g->ctx->state);
	size_t tl = strlen(tenant);
	const cloud_sku *k = NULL;
	if (strlen(id) == tl + 1 + CLOUD_ID_LEN && ssrp_ascii_ieq_n(id, tenant, tl) && id[tl] == '_')
		k = cloud_sku_find(g->ctx->state, id + tl + 1);
	if (!k) {
		graph_not_found(g, id);
		return;
	}
	cJSON *o = sku_json(g, k);
	if (o && graph_add_context(g, o, "subscribedSkus", "/$entity")) {
		cJSON_Delete(o);
		o = NULL;
	}
	graph_send(g, 200, o);
}

void graph_skus_handle(graph_req *g)
{
	if (g->n_seg > 2) {
		graph_bad_segment(g, g->seg[2]);
		return;
	}
	if (strcmp(g->rq->method, "GET") != 0) {
		graph_bad_method(g);
		return;
	}
	if (graph_query_allow(g, GQ_SELECT) || graph_select_check(g, sku_props, SKU_TYPE))
		return;
	if (!graph_has_permission(g, sku_read, sku_read)) {
		graph_denied(g);
		return;
	}
	if (g->n_seg == 1)
		list_skus(g);
	else
		get_sku(g, g->seg[1]);
}
