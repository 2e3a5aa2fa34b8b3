/* The directory part of the simulated Graph: users (by id or UPN), me,
 * licenseDetails, assignLicense, devices (by object id or
 * devices(deviceId='...')), registeredOwners / registeredUsers (list, add
 * with $ref, remove) and ownedDevices. Called with the state lock held.
 *
 * Authorisation follows Graph v1.0's permission tables; where the docs and
 * the real service differ, the stricter reading is taken so that code that
 * passes here is not refused in production:
 *  - adding or removing registered owners/users: delegated only, scope
 *    Directory.AccessAsUser.All, and a user holding a device-admin role;
 *  - assignLicense: LicenseAssignment.ReadWrite.All, User.ReadWrite.All or
 *    Directory.ReadWrite.All, application or delegated (not
 *    Directory.AccessAsUser.All, which its page does not list), delegated
 *    only for a user holding a licence-admin role;
 *  - licenseDetails: delegated only (application: "Not supported", 403),
 *    LicenseAssignment.Read.All, User.Read.All, User.ReadWrite.All,
 *    Directory.Read.All or Directory.ReadWrite.All, as its page lists them,
 *    and User.Read for oneself; app-only readers use the user's
 *    assignedLicenses and subscribedSkus (graph_skus.c);
 *  - registeredOwners / registeredUsers: listed with a device-read
 *    permission; an owner the caller may not read as a user (app-only
 *    without User.Read.All, User.ReadWrite.All, Directory.Read.All or
 *    Directory.ReadWrite.All; delegated without a user-read scope) comes
 *    with "limited information": @odata.type and id, the rest null;
 *  - ownedDevices: delegated only, User.Read or any user- or
 *    directory-read scope (List ownedDevices); without a device-read
 *    permission the devices come with "limited information": @odata.type
 *    and id, the other properties null. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/mem.h"
#include "hal/text.h"
#include "sim/cloud/graph_internal.h"

static const char *const user_read_app[] = {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All",
					    "Directory.ReadWrite.All", NULL};
static const char *const user_read_all_scopes[] = {"User.Read.All", "User.ReadWrite.All",
						   "Directory.Read.All", "Directory.ReadWrite.All",
						   "Directory.AccessAsUser.All", NULL};
static const char *const user_read_basic_scopes[] = {"User.ReadBasic.All", NULL};
static const char *const user_read_self_scopes[] = {"User.Read", "User.ReadWrite", NULL};

static const char *const device_read_app[] = {"Device.Read.All", "Device.ReadWrite.All",
					      "Directory.Read.All", "Directory.ReadWrite.All", NULL};
static const char *const device_read_scopes[] = {"Device.Read.All", "Directory.Read.All",
						 "Directory.ReadWrite.All", "Directory.AccessAsUser.All",
						 NULL};

static const char *const owned_devices_scopes[] = {"User.Read", "User.ReadWrite", "User.Read.All",
						   "User.ReadWrite.All", "Directory.Read.All",
						   "Directory.ReadWrite.All", "Directory.AccessAsUser.All", NULL};

static const char *const ref_scopes[] = {"Directory.AccessAsUser.All", NULL};
static const char *const device_admin_roles[] = {"Cloud Device Administrator", "Intune Administrator",
						 "Windows 365 Administrator", "Global Administrator", NULL};

static const char *const license_app[] = {"User.ReadWrite.All", "Directory.ReadWrite.All",
					  "LicenseAssignment.ReadWrite.All", NULL};
static const char *const license_scopes[] = {"User.ReadWrite.All", "Directory.ReadWrite.All",
					     "LicenseAssignment.ReadWrite.All", NULL};
static const char *const license_read_scopes[] = {"LicenseAssignment.Read.All", "LicenseAssignment.ReadWrite.All",
						  "User.Read.All", "User.ReadWrite.All", "Directory.Read.All",
						  "Directory.ReadWrite.All", NULL};
static const char *const license_details_props[] = {"id", "skuId", "skuPartNumber", "servicePlans", NULL};
static const char *const license_admin_roles[] = {"Global Administrator", "User Administrator",
						  "License Administrator", NULL};

/* The user properties the simulated directory keeps, and those of Graph's
 * default set it has no data for (answered null or empty, as Graph answers
 * an unset property). */
static const char *const user_props[] = {"id", "userPrincipalName", "displayName",
					 "onPremisesSamAccountName", "onPremisesDomainName",
					 "usageLocation", "assignedLicenses", "businessPhones",
					 "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
					 "preferredLanguage", "surname", "accountEnabled", NULL};
static const char *const user_unset_props[] = {"givenName", "jobTitle", "mail", "mobilePhone",
					       "officeLocation", "preferredLanguage", "surname", NULL};
static const char *const device_props[] = {"id", "deviceId", "displayName", "operatingSystem",
					   "trustType", "accountEnabled", NULL};

#define USER_TYPE "microsoft.graph.user"
#define DEVICE_TYPE "microsoft.graph.device"

/* What $filter, $search and $orderby may do with each property, from the
 * "Support for filter by properties" and "Support for sorting" tables of
 * Advanced query capabilities on Microsoft Entra ID objects (D default, A
 * advanced only, - not at all); ne and not follow eq as advanced queries,
 * in follows eq. id's rules are the resource pages' ("$filter (eq, ne,
 * not, in)"). Where the resource page and the table differ (device
 * deviceId: startsWith on the page, not in the table) the stricter one. */
enum { D = GQL_DEFAULT, A = GQL_ADVANCED, N_ = GQL_NO };
static const graph_prop_rule user_rule_list[] = {
	/*  property                     eq  startsWith endsWith null orderby */
	{GRAPH_PROP_ID, D, N_, N_, N_, N_},
	{GRAPH_PROP_UPN, D, D, A, N_, D},
	{GRAPH_PROP_DISPLAY_NAME, D, D, N_, A, D},
	{GRAPH_PROP_SAM, A, A, N_, N_, N_},
	{GRAPH_PROP_ACCOUNT_ENABLED, D, N_, N_, N_, N_},
	{GRAPH_PROP_USAGE_LOCATION, D, D, N_, A, N_},
};
static const graph_prop_rule device_rule_list[] = {
	{GRAPH_PROP_ID, D, N_, N_, N_, N_},
	{GRAPH_PROP_DEVICE_ID, D, N_, N_, N_, N_},
	{GRAPH_PROP_DISPLAY_NAME, D, D, N_, A, A},
	{GRAPH_PROP_OPERATING_SYSTEM, D, D, N_, A, N_},
	{GRAPH_PROP_TRUST_TYPE, D, N_, N_, N_, N_},
	{GRAPH_PROP_ACCOUNT_ENABLED, D, N_, N_, N_, N_},
};
static const graph_entity_rules user_rules = {USER_TYPE, "User", 1, user_rule_list,
					      sizeof user_rule_list / sizeof user_rule_list[0]};
static const graph_entity_rules device_rules = {DEVICE_TYPE, "Device", 1, device_rule_list,
						sizeof device_rule_list / sizeof device_rule_list[0]};

/* ---- what a caller may see of a user --------------------------------------- */

typedef enum { ACCESS_NONE, ACCESS_BASIC, ACCESS_FULL } user_access;

static int is_self(const graph_req *g, const cloud_user *u)
{
	return graph_is_delegated(g) && u && strcmp(u->id, g->who.user_id) == 0;
}

/* target NULL: reading users in general (lists). */
static user_access access_to_user(const graph_req *g, const cloud_user *target)
{
	if (!graph_is_delegated(g))
		return graph_has_permission(g, user_read_app, NULL) ? ACCESS_FULL : ACCESS_NONE;
	if (graph_has_permission(g, NULL, user_read_all_scopes))
		return ACCESS_FULL;
	if (is_self(g, target) && graph_has_permission(g, NULL, user_read_self_scopes))
		return ACCESS_FULL;
	/* User.ReadBasic.All shows only the basic profile of others. */
	if (graph_has_permission(g, NULL, user_read_basic_scopes))
		return ACCESS_BASIC;
	return ACCESS_NONE;
}

static int can_read_devices(const graph_req *g)
{
	return graph_has_permission(g, device_read_app, device_read_scopes);
}

/* ---- entities ------------------------------------------------------------------ */

/* The user as Graph shows it; with_type for directoryObject collections. */
static cJSON *user_json(graph_req *g, const cloud_user *u, user_access access, int with_type)
{
	cJSON *o = cJSON_CreateObject();
	int bad = 0;
	if (with_type)
		bad |= graph_add_str(o, "@odata.type", "#" USER_TYPE);
	/* Without $select, Graph's default set: id, businessPhones,
	 * displayName, givenName, jobTitle, mail, mobilePhone, officeLocation,
	 * preferredLanguage, surname, userPrincipalName. */
	if (graph_selected(g, "id"))
		bad |= graph_add_str(o, "id", u->id);
	if (graph_selected(g, "businessPhones"))
		bad |= graph_add_item(o, "businessPhones", cJSON_CreateArray());
	if (graph_selected(g, "displayName"))
		bad |= graph_add_str(o, "displayName", u->display_name);
	for (size_t i = 0; user_unset_props[i]; i++)
		if (graph_selected(g, user_unset_props[i]))
			bad |= graph_add_str(o, user_unset_props[i], NULL);
	if (graph_selected(g, "userPrincipalName"))
		bad |= graph_add_str(o, "userPrincipalName", u->upn);
	if (access == ACCESS_FULL) {
		/* The rest only when $select names them, as on Graph. */
		if (graph_select_names(g, "onPremisesSamAccountName"))
			bad |= graph_add_str(o, "onPremisesSamAccountName", u->sam_account_name);
		if (graph_select_names(g, "onPremisesDomainName"))
			bad |= graph_add_str(o, "onPremisesDomainName", u->on_prem_domain);
		if (graph_select_names(g, "accountEnabled"))
			bad |= graph_add_bool(o, "accountEnabled", u->account_enabled);
		if (graph_select_names(g, "usageLocation"))
			bad |= graph_add_str(o, "usageLocation",
					     u->usage_location[0] ? u->usage_location : NULL);
		if (graph_select_names(g, "assignedLicenses")) {
			cJSON *lic = cJSON_CreateArray();
			bad |= graph_add_item(o, "assignedLicenses", lic);
			for (unsigned i = 0; !bad && i < u->n_licenses; i++) {
				cJSON *l = cJSON_CreateObject();
				bad |= graph_add_array_item(lic, l);
				bad |= graph_add_item(l, "disabledPlans", cJSON_CreateArray());
				bad |= graph_add_str(l, "skuId", u->licenses[i]);
			}
		}
	}
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *device_json(graph_req *g, const cloud_device *d, int with_type)
{
	cJSON *o = cJSON_CreateObject();
	int bad = 0;
	if (with_type)
		bad |= graph_add_str(o, "@odata.type", "#" DEVICE_TYPE);
	if (graph_selected(g, "id"))
		bad |= graph_add_str(o, "id", d->id);
	if (graph_selected(g, "deviceId"))
		bad |= graph_add_str(o, "deviceId", d->device_id);
	if (graph_selected(g, "displayName"))
		bad |= graph_add_str(o, "displayName", d->display_name);
	if (graph_selected(g, "operatingSystem"))
		bad |= graph_add_str(o, "operatingSystem", d->operating_system);
	if (graph_selected(g, "trustType"))
		bad |= graph_add_str(o, "trustType", d->trust_type);
	if (graph_selected(g, "accountEnabled"))
		bad |= graph_add_bool(o, "accountEnabled", d->account_enabled);
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static const char *user_get(const void *obj, graph_filter_prop p)
{
	const cloud_user *u = obj;
	switch (p) {
	case GRAPH_PROP_ID:
		return u->id;
	case GRAPH_PROP_UPN:
		return u->upn;
	case GRAPH_PROP_DISPLAY_NAME:
		return u->display_name;
	case GRAPH_PROP_SAM:
		return u->sam_account_name;
	case GRAPH_PROP_ACCOUNT_ENABLED:
		return u->account_enabled ? "true" : "false";
	case GRAPH_PROP_USAGE_LOCATION:
		return u->usage_location[0] ? u->usage_location : NULL;
	default:
		return NULL;
	}
}

static const char *device_get(const void *obj, graph_filter_prop p)
{
	const cloud_device *d = obj;
	switch (p) {
	case GRAPH_PROP_ID:
		return d->id;
	case GRAPH_PROP_DEVICE_ID:
		return d->device_id;
	case GRAPH_PROP_DISPLAY_NAME:
		return d->display_name;
	case GRAPH_PROP_OPERATING_SYSTEM:
		return d->operating_system;
	case GRAPH_PROP_TRUST_TYPE:
		return d->trust_type;
	case GRAPH_PROP_ACCOUNT_ENABLED:
		return d->account_enabled ? "true" : "false";
	default:
		return NULL;
	}
}

/* ---- collections ------------------------------------------------------------------ */

static cJSON *user_item(graph_req *g, const graph_collection *c, const void *it)
{
	return user_json(g, it, (user_access)c->level, 0);
}

static cJSON *device_item(graph_req *g, const graph_collection *c, const void *it)
{
	(void)c;
	return device_json(g, it, 0);
}

static cJSON *device_item_typed(graph_req *g, const graph_collection *c, const void *it)
{
	(void)c;
	return device_json(g, it, 1);
}

/* "Limited information" (permissions overview: Limited information
 * returned for inaccessible member objects): an object the caller may not
 * read, in a directoryObject collection, keeps @odata.type and id; every
 * other property it would show is null. Takes full. */
static cJSON *limited(cJSON *full)
{
	cJSON *o = full ? cJSON_CreateObject() : NULL;
	int bad = !o;
	for (const cJSON *m = full ? full->child : NULL; !bad && m; m = m->next) {
		int kept = !strcmp(m->string, "@odata.type") || !strcmp(m->string, "id");
		bad |= graph_add_item(o, m->string, kept ? cJSON_Duplicate(m, 1) : cJSON_CreateNull());
	}
	cJSON_Delete(full);
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* A device as a caller without device-read permission sees it. */
static cJSON *device_item_limited(graph_req *g, const graph_collection *c, const void *it)
{
	(void)c;
	return limited(device_json(g, it, 1));
}

/* An owner or registered user: in full, or (a caller who may read
 * devices but not users) limited. */
static cJSON *ref_user_item(graph_req *g, const graph_collection *c, const void *it)
{
	user_access a = access_to_user(g, it);
	if (a == ACCESS_NONE)
		return limited(user_json(g, it, ACCESS_FULL, 1));
	return user_json(g, it, a, c->level);
}

static const void *user_at(graph_req *g, const void *arg, size_t pos)
{
	(void)arg;
	return cloud_user_at(g->ctx->state, pos);
}

static const void *device_at(graph_req *g, const void *arg, size_t pos)
{
	(void)arg;
	return cloud_device_at(g->ctx->state, pos);
}

/* One candidate found through an index. */
static const void *single_at(graph_req *g, const void *arg, size_t pos)
{
	(void)g;
	return pos == 0 ? arg : NULL;
}

static const void *ptr_array_at(graph_req *g, const void *arg, size_t pos)
{
	(void)g;
	return ((void *const *)arg)[pos];
}

typedef struct id_list {
	const char (*ids)[CLOUD_ID_LEN + 1];
} id_list;

static const void *id_user_at(graph_req *g, const void *arg, size_t pos)
{
	const id_list *l = arg;
	return cloud_user_find(g->ctx->state, l->ids[pos]);
}

static int list_query_checks(graph_req *g, const char *const *props, const graph_entity_rules *r,
			     graph_filter **f, graph_search **s)
{
	if (graph_query_allow(g, GQ_FILTER | GQ_SELECT | GQ_TOP | GQ_SKIPTOKEN | GQ_COUNT | GQ_ORDERBY |
				     GQ_SEARCH) ||
	    graph_select_check(g, props, r->type))
		return -1;
	return graph_list_prepare(g, r, f, s);
}

static void list_users(graph_req *g)
{
	graph_filter *f;
	graph_search *s;
	if (list_query_checks(g, user_props, &user_rules, &f, &s))
		return;
	graph_collection c = {.set = "users", .filter = f, .search = s, .get = user_get, .item = user_item,
			      .level = (int)access_to_user(g, NULL), .allow_top = 1};
	/* An indexed lookup when the filter pins the id or the UPN. */
	const char *v = graph_filter_required_value(f, GRAPH_PROP_ID);
	if (!v)
		v = graph_filter_required_value(f, GRAPH_PROP_UPN);
	if (v) {
		c.arg = cloud_user_find(g->ctx->state, v);
		c.count = c.arg ? 1 : 0;
		c.at = single_at;
	} else {
		c.count = cloud_user_count(g->ctx->state);
		c.at = user_at;
	}
	graph_send_collection(g, &c);
	graph_filter_free(f);
	graph_search_free(s);
}

static void list_devices(graph_req *g)
{
	graph_filter *f;
	graph_search *s;
	if (list_query_checks(g, device_props, &device_rules, &f, &s))
		return;
	graph_collection c = {.set = "devices", .filter = f, .search = s, .get = device_get,
			      .item = device_item, .allow_top = 1};
	char id[CLOUD_ID_LEN + 1];
	const char *did = graph_filter_required_value(f, GRAPH_PROP_DEVICE_ID);
	const char *oid = graph_filter_required_value(f, GRAPH_PROP_ID);
	if (did || oid) {
		/* Ids are stored in lower case; a longer value matches nothing. */
		if (graph_lower_id(id, did ? did : oid) == 0)
			c.arg = did ? cloud_device_find_by_device_id(g->ctx->state, id)
				    : cloud_device_find(g->ctx->state, id);
		c.count = c.arg ? 1 : 0;
		c.at = single_at;
	} else {
		c.count = cloud_device_count(g->ctx->state);
		c.at = device_at;
	}
	graph_send_collection(g, &c);
	graph_filter_free(f);
	graph_search_free(s);
}

/* cast: .../registeredOwners/microsoft.graph.user, the OData cast to the
 * user type (every owner here is a user), answered as a users collection. */
static void list_device_refs(graph_req *g, const cloud_device *d, int owners, int cast)
{
	graph_filter *f;
	graph_search *s;
	if (list_query_checks(g, user_props, &user_rules, &f, &s))
		return;
	/* Device-read permission lists who owns a device; each owner shows
	 * as much as the caller may read of users (ref_user_item). */
	id_list l = {owners ? d->owners : d->users};
	graph_collection c = {.set = cast ? "users" : "directoryObjects",
			      .count = owners ? d->n_owners : d->n_users,
			      .at = id_user_at,
			      .arg = &l,
			      .filter = f,
			      .search = s,
			      .get = user_get,
			      .item = ref_user_item,
			      .level = !cast, /* @odata.type in a directoryObject collection */
			      .allow_top = 1};
	graph_send_collection(g, &c);
	graph_filter_free(f);
	graph_search_free(s);
}

static void list_owned_devices(graph_req *g, const cloud_user *u)
{
	graph_filter *f;
	graph_search *s;
	if (list_query_checks(g, device_props, &device_rules, &f, &s))
		return;
	size_t cap = 64, n;
	cloud_device **devs = NULL;
	/* The count may exceed what fits: grow until it does not. */
	for (;;) {
		cloud_device **p = ssrp_realloc(devs, cap * sizeof *devs);
		if (!p) {
			ssrp_free(devs);
			graph_filter_free(f);
			graph_search_free(s);
			graph_error(g, 500, "generalException", "The simulator ran out of memory.");
			return;
		}
		devs = p;
		n = cloud_devices_owned_by(g->ctx->state, u->id, devs, cap);
		if (n <= cap)
			break;
		cap = n; /* the count is the total, whatever fitted */
	}
	graph_collection c = {.set = "directoryObjects",
			      .count = n,
			      .at = ptr_array_at,
			      .arg = devs,
			      .filter = f,
			      .search = s,
			      .get = device_get,
			      .item = can_read_devices(g) ? device_item_typed : device_item_limited,
			      .allow_top = 1};
	graph_send_collection(g, &c);
	ssrp_free(devs);
	graph_filter_free(f);
	graph_search_free(s);
}

/* ---- users ----------------------------------------------------------------------- */

static void get_user(graph_req *g, const cloud_user *u)
{
	if (graph_query_allow(g, GQ_SELECT) || graph_select_check(g, user_props, USER_TYPE))
		return;
	user_access a = access_to_user(g, u);
	if (a == ACCESS_NONE) {
		graph_denied(g);
		return;
	}
	cJSON *o = user_json(g, u, a, 0);
	if (o && graph_add_context(g, o, "users", "/$entity")) {
		cJSON_Delete(o);
		o = NULL;
	}
	graph_send(g, 200, o);
}

static void license_details(graph_req *g, const cloud_user *u)
{
	if (graph_select_check(g, license_details_props, "microsoft.graph.licenseDetails"))
		return;
	if (!graph_has_permission(g, NULL, license_read_scopes) &&
	    !(is_self(g, u) && graph_has_permission(g, NULL, user_read_self_scopes))) {
		graph_denied(g);
		return;
	}
	char set[96];
	snprintf(set, sizeof set, "users('%s')/licenseDetails", u->id);
	cJSON *o = cJSON_CreateObject();
	cJSON *value = cJSON_CreateArray();
	int bad = graph_add_context(g, o, set, NULL);
	bad |= graph_add_item(o, "value", value);
	for (unsigned i = 0; !bad && i < u->n_licenses; i++) {
		const cloud_sku *sku = cloud_sku_find(g->ctx->state, u->licenses[i]);
		if (!sku)
			continue;
		char id[2 * CLOUD_ID_LEN + 2];
		snprintf(id, sizeof id, "%s_%s", u->id, sku->sku_id);
		cJSON *l = cJSON_CreateObject();
		cJSON *plans = cJSON_CreateArray();
		bad |= graph_add_array_item(value, l);
		if (graph_selected(g, "id"))
			bad |= graph_add_str(l, "id", id);
		if (graph_selected(g, "skuId"))
			bad |= graph_add_str(l, "skuId", sku->sku_id);
		if (graph_selected(g, "skuPartNumber"))
			bad |= graph_add_str(l, "skuPartNumber", sku->part_number);
		if (!graph_selected(g, "servicePlans")) {
			cJSON_Delete(plans);
			continue;
		}
		bad |= graph_add_item(l, "servicePlans", plans);
		for (unsigned k = 0; !bad && k < sku->n_plans; k++) {
			cJSON *p = cJSON_CreateObject();
			bad |= graph_add_array_item(plans, p);
			bad |= graph_add_str(p, "servicePlanId", sku->plans[k].id);
			bad |= graph_add_str(p, "servicePlanName", sku->plans[k].name);
			bad |= graph_add_str(p, "provisioningStatus", "Success");
			bad |= graph_add_str(p, "appliesTo", "User");
		}
	}
	if (bad) {
		cJSON_Delete(o);
		o = NULL;
	}
	graph_send(g, 200, o);
}

static int sku_has_plan(const cloud_sku *sku, const char *plan)
{
	for (unsigned i = 0; i < sku->n_plans; i++)
		if (ssrp_ascii_ieq(sku->plans[i].id, plan))
			return 1;
	return 0;
}

static int user_has_license(const cloud_user *u, const char *sku)
{
	for (unsigned i = 0; i < u->n_licenses; i++)
		if (ssrp_ascii_ieq(u->licenses[i], sku))
			return 1;
	return 0;
}

static void invalid_value(graph_req *g, const char *prop)
{
	graph_error(g, 400, "Request_BadRequest", "Invalid value specified for property '%s' of resource 'User'.",
		    prop);
}

/* Everything is checked before anything changes, so a refused request
 * leaves the user as it was. disabledPlans are checked against the SKU but
 * not kept: the tenant model records only which SKUs a user holds. */
static void assign_license(graph_req *g, cloud_user *u)
{
	if (graph_query_allow(g, 0))
		return;
	cJSON *body = graph_body_object(g);
	if (!body)
		return;
	const cJSON *add = cJSON_GetObjectItemCaseSensitive(body, "addLicenses");
	const cJSON *rem = cJSON_GetObjectItemCaseSensitive(body, "removeLicenses");
	const cJSON *it;
	char add_ids[CLOUD_MAX_LICENSES][CLOUD_ID_LEN + 1];
	char rem_ids[CLOUD_MAX_LICENSES][CLOUD_ID_LEN + 1];
	size_t n_add = 0, n_rem = 0;
	if (!cJSON_IsArray(add)) {
		invalid_value(g, "addLicenses");
		goto out;
	}
	if (!cJSON_IsArray(rem)) {
		invalid_value(g, "removeLicenses");
		goto out;
	}
	cJSON_ArrayForEach(it, add)
	{
		const cJSON *sku_id = cJSON_GetObjectItemCaseSensitive(it, "skuId");
		const cJSON *disabled = cJSON_GetObjectItemCaseSensitive(it, "disabledPlans");
		if (!cJSON_IsObject(it) || !cJSON_IsString(sku_id) || n_add == CLOUD_MAX_LICENSES ||
		    graph_lower_id(add_ids[n_add], sku_id->valuestring)) {
			invalid_value(g, "addLicenses");
			goto out;
		}
		const cloud_sku *sku = cloud_sku_find(g->ctx->state, add_ids[n_add]);
		if (!sku) {
			graph_error(g, 400, "Request_BadRequest",
				    "License %.40s does not correspond to a valid company License.",
				    sku_id->valuestring);
			goto out;
		}
		if (disabled && !cJSON_IsNull(disabled)) {
			const cJSON *plan;
			if (!cJSON_IsArray(disabled)) {
				invalid_value(g, "disabledPlans");
				goto out;
			}
			cJSON_ArrayForEach(plan, disabled)
			{
				if (!cJSON_IsString(plan) || !sku_has_plan(sku, plan->valuestring)) {
					invalid_value(g, "disabledPlans");
					goto out;
				}
			}
		}
		for (size_t i = 0; i < n_add; i++) {
			if (strcmp(add_ids[i], add_ids[n_add]) == 0) {
				invalid_value(g, "addLicenses");
				goto out;
			}
		}
		n_add++;
	}
	cJSON_ArrayForEach(it, rem)
	{
		if (!cJSON_IsString(it) || n_rem == CLOUD_MAX_LICENSES ||
		    graph_lower_id(rem_ids[n_rem], it->valuestring)) {
			invalid_value(g, "removeLicenses");
			goto out;
		}
		if (!cloud_sku_find(g->ctx->state, rem_ids[n_rem])) {
			graph_error(g, 400, "Request_BadRequest",
				    "License %.40s does not correspond to a valid company License.",
				    it->valuestring);
			goto out;
		}
		if (!user_has_license(u, rem_ids[n_rem])) {
			graph_error(g, 400, "Request_BadRequest", "User does not have a corresponding license.");
			goto out;
		}
		for (size_t i = 0; i < n_add; i++) {
			if (strcmp(add_ids[i], rem_ids[n_rem]) == 0) {
				graph_error(g, 400, "Request_BadRequest",
					    "License %s appears in both addLicenses and removeLicenses.",
					    rem_ids[n_rem]);
				goto out;
			}
		}
		n_rem++;
	}
	if (n_add && !u->usage_location[0]) {
		graph_error(g, 400, "Request_BadRequest",
			    "License assignment cannot be done for user with invalid usage location.");
		goto out;
	}
	size_t after = u->n_licenses - n_rem;
	for (size_t i = 0; i < n_add; i++)
		after += !user_has_license(u, add_ids[i]);
	if (after > CLOUD_MAX_LICENSES) {
		graph_error(g, 400, "Request_BadRequest", "The user would hold more than %d licenses.",
			    CLOUD_MAX_LICENSES);
		goto out;
	}
	for (size_t i = 0; i < n_rem; i++)
		cloud_user_remove_license(u, rem_ids[i]);
	for (size_t i = 0; i < n_add; i++) {
		if (!user_has_license(u, add_ids[i]) && cloud_user_add_license(g->ctx->state, u, add_ids[i]) < 0) {
			graph_error(g, 500, "generalException", "The licence could not be recorded.");
			goto out;
		}
	}
	cJSON *o = user_json(g, u, ACCESS_FULL, 0);
	if (o && graph_add_context(g, o, "users", "/$entity")) {
		cJSON_Delete(o);
		o = NULL;
	}
	graph_send(g, 200, o);
out:
	cJSON_Delete(body);
}

static int may_assign_licenses(graph_req *g)
{
	if (graph_is_delegated(g))
		return graph_has_permission(g, NULL, license_scopes) &&
		       graph_user_has_role(g, license_admin_roles);
	return graph_has_permission(g, license_app, NULL);
}

/* GET /users/$count: the number as text/plain, only as an advanced query
 * (ConsistencyLevel: eventual), as the advanced-queries page lists it. */
static void count_users(graph_req *g)
{
	const char *level = cloud_request_header(g->rq, "consistencylevel");
	if (!level || !ssrp_ascii_ieq(level, "eventual")) {
		graph_error(g, 400, "Request_BadRequest",
			    "Count is not currently supported: /users/$count needs the header "
			    "ConsistencyLevel: eventual.");
		return;
	}
	char text[32];
	snprintf(text, sizeof text, "%zu", cloud_user_count(g->ctx->state));
	char *body = strdup(text); /* cloud_response_free frees it */
	if (!body) {
		graph_error(g, 500, "generalException", "The simulator ran out of memory.");
		return;
	}
	g->rs->status = 200;
	g->rs->body = body;
	g->rs->body_len = strlen(body);
	snprintf(g->rs->content_type, sizeof g->rs->content_type, "text/plain");
}

enum user_op { OP_GET, OP_LICENSE_DETAILS, OP_ASSIGN_LICENSE, OP_OWNED_DEVICES };

/* users/{id|upn}[/...] and me[/...]: seg[0] is "users" (with the id in
 * seg[1]) or "me". The route and method are checked first, then the
 * permissions that do not depend on the user, then the user. */
static void users_route(graph_req *g)
{
	const char *method = g->rq->method;
	int me = ssrp_ascii_ieq(g->seg[0], "me");
	size_t sub = me ? 1 : 2; /* index of the segment after the user */
	if (!me && g->n_seg == 1) {
		if (strcmp(method, "GET") != 0)
			graph_bad_method(g);
		else if (access_to_user(g, NULL) == ACCESS_NONE)
			graph_denied(g);
		else
			list_users(g);
		return;
	}
	if (!me && g->n_seg == 2 && !strcmp(g->seg[1], "$count")) {
		if (strcmp(method, "GET") != 0)
			graph_bad_method(g);
		else if (graph_query_allow(g, 0))
			return;
		else if (access_to_user(g, NULL) == ACCESS_NONE)
			graph_denied(g);
		else
			count_users(g);
		return;
	}
	if (g->n_seg > sub + 1) {
		graph_bad_segment(g, g->seg[sub + 1]);
		return;
	}
	enum user_op op = OP_GET;
	const char *want = "GET";
	if (g->n_seg > sub) {
		const char *what = g->seg[sub];
		if (ssrp_ascii_ieq(what, "licenseDetails")) {
			op = OP_LICENSE_DETAILS;
		} else if (ssrp_ascii_ieq(what, "assignLicense")) {
			op = OP_ASSIGN_LICENSE;
			want = "POST";
		} else if (ssrp_ascii_ieq(what, "ownedDevices")) {
			op = OP_OWNED_DEVICES;
		} else {
			graph_bad_segment(g, what);
			return;
		}
	}
	if (strcmp(method, want) != 0) {
		graph_bad_method(g);
		return;
	}
	if (me && !graph_is_delegated(g)) {
		graph_error(g, 400, "BadRequest",
			    "/me request is only valid with delegated authentication flow.");
		return;
	}
	/* Query options are checked before the user is looked up, as Graph
	 * validates the URL before it touches the directory. */
	static const unsigned options[] = {
		[OP_GET] = GQ_SELECT,
		[OP_LICENSE_DETAILS] = GQ_SELECT,
		[OP_ASSIGN_LICENSE] = 0,
		[OP_OWNED_DEVICES] = GQ_FILTER | GQ_SELECT | GQ_TOP | GQ_SKIPTOKEN | GQ_COUNT | GQ_ORDERBY |
				     GQ_SEARCH,
	};
	if (graph_query_allow(g, options[op]))
		return;
	if ((op == OP_ASSIGN_LICENSE && !may_assign_licenses(g)) ||
	    (op == OP_LICENSE_DETAILS && !graph_is_delegated(g)) ||
	    (op == OP_OWNED_DEVICES &&
	     (!graph_is_delegated(g) || !graph_has_permission(g, NULL, owned_devices_scopes)))) {
		graph_denied(g);
		return;
	}
	const char *who = me ? g->who.user_id : g->seg[1];
	cloud_user *u = cloud_user_find(g->ctx->state, who);
	if (!u) {
		graph_not_found(g, who);
		return;
	}
	switch (op) {
	case OP_GET:
		get_user(g, u);
		break;
	case OP_LICENSE_DETAILS:
		license_details(g, u);
		break;
	case OP_ASSIGN_LICENSE:
		assign_license(g, u);
		break;
	case OP_OWNED_DEVICES:
		list_owned_devices(g, u);
		break;
	}
}

/* ---- devices ------------------------------------------------------------------------ */

/* devices(deviceId='...') with '' for a quote inside: the key, unescaped,
 * into out; -1 when the segment is not of that form. */
static int alternate_key(const char *seg, char *out, size_t cap)
{
	static const char pre[] = "devices(deviceId='";
	if (!ssrp_ascii_ieq_n(seg, pre, sizeof pre - 1))
		return -1;
	const char *p = seg + sizeof pre - 1;
	size_t n = 0;
	for (;;) {
		if (!*p)
			return -1;
		if (*p == '\'') {
			if (p[1] != '\'')
				break;
			p++;
		}
		if (n + 1 >= cap)
			return -1;
		out[n++] = *p++;
	}
	out[n] = '\0';
	return strcmp(p, "')") == 0 ? 0 : -1;
}

/* An owner or user reference from a $ref body or $id:
 * https://graph.microsoft.com/v1.0/directoryObjects/{id} or .../users/{id}. */
static const char *ref_target(const char *url)
{
	static const char base[] = GRAPH_BASE "/";
	if (!ssrp_ascii_ieq_n(url, base, sizeof base - 1))
		return NULL;
	const char *p = url + sizeof base - 1;
	if (ssrp_ascii_ieq_n(p, "directoryObjects/", 17))
		p += 17;
	else if (ssrp_ascii_ieq_n(p, "users/", 6))
		p += 6;
	else
		return NULL;
	return *p && !strchr(p, '/') && !strchr(p, '?') ? p : NULL;
}

static int may_change_refs(graph_req *g)
{
	/* Graph: delegated Directory.AccessAsUser.All only; app-only tokens
	 * are refused whatever roles the app holds. */
	if (!graph_is_delegated(g) || !graph_has_permission(g, NULL, ref_scopes) ||
	    !graph_user_has_role(g, device_admin_roles)) {
		graph_denied(g);
		return 0;
	}
	return 1;
}

static void add_ref(graph_req *g, cloud_device *d, int owners)
{
	if (graph_query_allow(g, 0) || !may_change_refs(g))
		return;
	cJSON *body = graph_body_object(g);
	if (!body)
		return;
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(body, "@odata.id");
	const char *id = cJSON_IsString(ref) ? ref_target(ref->valuestring) : NULL;
	if (!id) {
		graph_error(g, 400, "BadRequest",
			    "The '@odata.id' must be " GRAPH_BASE "/directoryObjects/{id} or " GRAPH_BASE
			    "/users/{id}.");
		goto out;
	}
	cloud_user *u = cloud_user_find(g->ctx->state, id);
	if (!u) {
		graph_not_found(g, id);
		goto out;
	}
	int rc = owners ? cloud_device_add_owner(d, u->id) : cloud_device_add_user(d, u->id);
	if (rc == 1)
		graph_error(g, 400, "Request_BadRequest",
			    "One or more added object references already exist for the following modified "
			    "properties: '%s'.",
			    owners ? "registeredOwners" : "registeredUsers");
	else if (rc < 0)
		graph_error(g, 500, "generalException", "The reference could not be recorded.");
	else
		graph_no_content(g);
out:
	cJSON_Delete(body);
}

static void remove_ref(graph_req *g, cloud_device *d, int owners, const char *user)
{
	if (!may_change_refs(g))
		return;
	cloud_user *u = cloud_user_find(g->ctx->state, user);
	int rc = !u ? -1 : owners ? cloud_device_remove_owner(d, u->id) : cloud_device_remove_user(d, u->id);
	if (rc)
		graph_not_found(g, user);
	else
		graph_no_content(g);
}

/* devices/{id}/registeredOwners[...] with seg[sub] the navigation name. */
static void refs_route(graph_req *g, cloud_device *d, size_t sub)
{
	const char *method = g->rq->method;
	int owners = ssrp_ascii_ieq(g->seg[sub], "registeredOwners");
	size_t left = g->n_seg - sub - 1; /* segments after the navigation */
	if (left == 0) {
		if (strcmp(method, "GET") != 0)
			graph_bad_method(g);
		else
			list_device_refs(g, d, owners, 0);
		return;
	}
	if (left == 1 && !strcmp(g->seg[sub + 1], USER_TYPE)) {
		if (strcmp(method, "GET") != 0)
			graph_bad_method(g);
		else
			list_device_refs(g, d, owners, 1);
		return;
	}
	if (left == 1 && strcmp(g->seg[sub + 1], "$ref") == 0) {
		if (strcmp(method, "POST") == 0) {
			add_ref(g, d, owners);
		} else if (strcmp(method, "DELETE") == 0) {
			/* DELETE .../$ref?$id=<url> */
			if (graph_query_allow(g, GQ_ID))
				return;
			const char *id = g->q.id ? ref_target(g->q.id) : NULL;
			if (!id)
				graph_error(g, 400, "BadRequest",
					    "DELETE of a reference needs $id=" GRAPH_BASE "/directoryObjects/{id}.");
			else
				remove_ref(g, d, owners, id);
		} else {
			graph_bad_method(g);
		}
		return;
	}
	if (left == 2 && strcmp(g->seg[sub + 2], "$ref") == 0) {
		if (strcmp(method, "DELETE") != 0)
			graph_bad_method(g);
		else if (!graph_query_allow(g, 0))
			remove_ref(g, d, owners, g->seg[sub + 1]);
		return;
	}
	graph_bad_segment(g, g->seg[sub + 1]);
}

static void devices_route(graph_req *g)
{
	const char *method = g->rq->method;
	cloud_device *d;
	size_t sub;
	char key[128];
	if (!can_read_devices(g)) {
		graph_denied(g);
		return;
	}
	if (ssrp_ascii_ieq(g->seg[0], "devices")) {
		if (g->n_seg == 1) {
			if (strcmp(method, "GET") != 0)
				graph_bad_method(g);
			else
				list_devices(g);
			return;
		}
		char id[CLOUD_ID_LEN + 1];
		d = graph_lower_id(id, g->seg[1]) ? NULL : cloud_device_find(g->ctx->state, id);
		if (!d) {
			graph_not_found(g, g->seg[1]);
			return;
		}
		sub = 2;
	} else {
		char id[CLOUD_ID_LEN + 1];
		if (alternate_key(g->seg[0], key, sizeof key)) {
			graph_bad_segment(g, g->seg[0]);
			return;
		}
		d = graph_lower_id(id, key) ? NULL : cloud_device_find_by_device_id(g->ctx->state, id);
		if (!d) {
			graph_not_found(g, key);
			return;
		}
		sub = 1;
	}
	if (g->n_seg == sub) {
		if (strcmp(method, "GET") != 0) {
			graph_bad_method(g);
			return;
		}
		if (graph_query_allow(g, GQ_SELECT) || graph_select_check(g, device_props, DEVICE_TYPE))
			return;
		cJSON *o = device_json(g, d, 0);
		if (o && graph_add_context(g, o, "devices", "/$entity")) {
			cJSON_Delete(o);
			o = NULL;
		}
		graph_send(g, 200, o);
		return;
	}
	if (ssrp_ascii_ieq(g->seg[sub], "registeredOwners") || ssrp_ascii_ieq(g->seg[sub], "registeredUsers"))
		refs_route(g, d, sub);
	else
		graph_bad_segment(g, g->seg[sub]);
}

void graph_directory_handle(graph_req *g)
{
	if (ssrp_ascii_ieq(g->seg[0], "users") || ssrp_ascii_ieq(g->seg[0], "me"))
		users_route(g);
	else if (ssrp_ascii_ieq_n(g->seg[0], "devices", 7))
		devices_route(g);
	else
		graph_bad_segment(g, g->seg[0]);
}
