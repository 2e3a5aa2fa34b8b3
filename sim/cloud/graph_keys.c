/* informationProtection/bitlocker/recoveryKeys: the list (metadata only,
 * $filter by deviceId, no $top) and the single key, whose `key` property
 * appears only with $select=key and leaves an audit record each time, as
 * Entra's "Read BitLocker key" audit event. Called with the lock held.
 *
 * A delegated caller must be a registered owner of the device the key
 * was backed up from, or hold one of the roles Graph names; an app-only
 * caller needs only the permission. For the list, a delegated caller who
 * is not an admin is refused when any key the request selects belongs to
 * a device they do not own (so an unfiltered list works only for admins):
 * silently leaving keys out would make "no key escrowed" and "not yours"
 * look the same to the client. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hal/mem.h"
#include "hal/text.h"
#include "sim/cloud/graph_internal.h"

#define KEY_TYPE "microsoft.graph.bitlockerRecoveryKey"
#define KEYS_SET "informationProtection/bitlocker/recoveryKeys"

static const char *const keys_basic[] = {"BitLockerKey.ReadBasic.All", "BitLockerKey.Read.All", NULL};
static const char *const keys_read[] = {"BitLockerKey.Read.All", NULL};
static const char *const key_admin_roles[] = {"Cloud Device Administrator", "Helpdesk Administrator",
					      "Intune Administrator", "Security Administrator",
					      "Security Reader", "Global Reader", "Global Administrator",
					      NULL};
static const char *const list_props[] = {"id", "createdDateTime", "volumeType", "deviceId", NULL};
static const char *const get_props[] = {"id", "createdDateTime", "volumeType", "deviceId", "key", NULL};

static int may_read_device_keys(graph_req *g, const char *device_id, int is_admin)
{
	if (!graph_is_delegated(g) || is_admin)
		return 1;
	char id[CLOUD_ID_LEN + 1];
	const cloud_device *d =
		graph_lower_id(id, device_id) ? NULL : cloud_device_find_by_device_id(g->ctx->state, id);
	return d && cloud_device_has_owner(d, g->who.user_id);
}

static cJSON *key_json(const cloud_recovery_key *k, int with_key)
{
	char when[40];
	/* volumeType is the enum volumeType, written by member name
	 * (bitlockerRecoveryKey in Graph's CSDL). */
	static const char *const volume_types[] = {NULL, "operatingSystemVolume", "fixedDataVolume",
						   "removableDataVolume"};
	const char *vt = k->volume_type >= 1 && k->volume_type <= 3 ? volume_types[k->volume_type] : NULL;
	time_t t = (time_t)k->created;
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S.0000000Z", &tm);
	cJSON *o = cJSON_CreateObject();
	int bad = graph_add_str(o, "@odata.type", "#" KEY_TYPE);
	bad |= graph_add_str(o, "id", k->id);
	bad |= graph_add_str(o, "createdDateTime", when);
	bad |= graph_add_str(o, "volumeType", vt);
	bad |= graph_add_str(o, "deviceId", k->device_id);
	if (with_key)
		bad |= graph_add_str(o, "key", k->key);
	if (bad) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *key_item(graph_req *g, const graph_collection *c, const void *it)
{
	(void)g;
	(void)c;
	return key_json(it, 0);
}

static const void *key_at(graph_req *g, const void *arg, size_t pos)
{
	(void)g;
	return ((cloud_recovery_key *const *)arg)[pos];
}

static const char *key_get(const void *obj, graph_filter_prop p)
{
	const cloud_recovery_key *k = obj;
	return p == GRAPH_PROP_DEVICE_ID ? k->device_id : NULL;
}

/* All keys of one device (or of all when device_id is NULL), in the
 * state's stable order; *out is NULL on OOM. */
static size_t collect_keys(graph_req *g, const char *device_id, cloud_recovery_key ***out)
{
	size_t cap = 256, n;
	cloud_recovery_key **keys = NULL;
	for (;;) {
		cloud_recovery_key **p = ssrp_realloc(keys, cap * sizeof *keys);
		if (!p) {
			ssrp_free(keys);
			*out = NULL;
			return 0;
		}
		keys = p;
		n = cloud_keys_list(g->ctx->state, device_id, keys, cap);
		if (n <= cap)
			break;
		cap = n; /* the count is the total, whatever fitted */
	}
	*out = keys;
	return n;
}

static void list_keys(graph_req *g)
{
	if (graph_query_allow(g, GQ_FILTER | GQ_SELECT | GQ_SKIPTOKEN))
		return;
	if (graph_select_names(g, "key")) {
		graph_error(g, 400, "BadRequest",
			    "The key property can be selected only on a single recovery key "
			    "(GET .../recoveryKeys/{id}?$select=key).");
		return;
	}
	/* List recoveryKeys: $filter on deviceId with eq, nothing else; not a
	 * directory object, so no advanced queries. */
	static const graph_prop_rule key_rules[] = {{.prop = GRAPH_PROP_DEVICE_ID, .eq = GQL_DEFAULT}};
	static const graph_entity_rules rules = {.type = KEY_TYPE,
						 .resource = "BitlockerRecoveryKey",
						 .props = key_rules,
						 .n_props = 1};
	graph_filter *f;
	graph_search *unused;
	if (graph_select_check(g, list_props, KEY_TYPE) || graph_list_prepare(g, &rules, &f, &unused))
		return;
	char id[CLOUD_ID_LEN + 1];
	const char *want = graph_filter_required_value(f, GRAPH_PROP_DEVICE_ID);
	cloud_recovery_key **keys = NULL;
	size_t n = 0;
	if (!want || graph_lower_id(id, want) == 0) {
		n = collect_keys(g, want ? id : NULL, &keys);
		if (!keys) {
			graph_filter_free(f);
			graph_error(g, 500, "generalException", "The simulator ran out of memory.");
			return;
		}
	}
	int is_admin = graph_user_has_role(g, key_admin_roles);
	for (size_t i = 0; i < n; i++) {
		if (graph_filter_match(f, key_get, keys[i]) &&
		    !may_read_device_keys(g, keys[i]->device_id, is_admin)) {
			graph_denied(g);
			goto out;
		}
	}
	graph_collection c = {.set = KEYS_SET,
			      .count = n,
			      .at = key_at,
			      .arg = keys,
			      .filter = f,
			      .get = key_get,
			      .item = key_item,
			      .allow_top = 0};
	graph_send_collection(g, &c);
out:
	ssrp_free(keys);
	graph_filter_free(f);
}

static void get_key(graph_req *g, const char *key_id)
{
	if (graph_query_allow(g, GQ_SELECT) || graph_select_check(g, get_props, KEY_TYPE))
		return;
	int with_key = graph_select_names(g, "key");
	if (with_key && !graph_has_permission(g, keys_read, keys_read)) {
		graph_denied(g);
		return;
	}
	char id[CLOUD_ID_LEN + 1];
	const cloud_recovery_key *k = graph_lower_id(id, key_id) ? NULL : cloud_key_find(g->ctx->state, id);
	if (!k) {
		graph_not_found(g, key_id);
		return;
	}
	if (!may_read_device_keys(g, k->device_id, graph_user_has_role(g, key_admin_roles))) {
		graph_denied(g);
		return;
	}
	cJSON *o = key_json(k, with_key);
	if (o && graph_add_context(g, o, KEYS_SET, "/$entity")) {
		cJSON_Delete(o);
		o = NULL;
	}
	if (o && with_key)
		cloud_audit_add(g->ctx->state, g->now, g->actor, "Read BitLocker key", k->id, k->device_id);
	graph_send(g, 200, o);
}

void graph_keys_handle(graph_req *g)
{
	static const char *const path[] = {"informationProtection", "bitlocker", "recoveryKeys"};
	for (size_t i = 0; i < 3; i++) {
		if (i >= g->n_seg || !ssrp_ascii_ieq(g->seg[i], path[i])) {
			graph_bad_segment(g, i < g->n_seg ? g->seg[i] : "");
			return;
		}
	}
	if (g->n_seg > 4) {
		graph_bad_segment(g, g->seg[4]);
		return;
	}
	if (strcmp(g->rq->method, "GET") != 0) {
		graph_bad_method(g);
		return;
	}
	/* Documented as required for this API; Graph answers 400 without it. */
	const char *ua = cloud_request_header(g->rq, "user-agent");
	if (!ua || !ua[0]) {
		graph_error(g, 400, "BadRequest",
			    "The User-Agent request header is required for BitLocker recovery key requests.");
		return;
	}
	if (!graph_has_permission(g, keys_basic, keys_basic)) {
		graph_denied(g);
		return;
	}
	if (g->n_seg == 3)
		list_keys(g);
	else
		get_key(g, g->seg[3]);
}
