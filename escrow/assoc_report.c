/* The administrator's report (escrow/assoc_report.h): three passes over
 * Graph, each as few requests as Graph allows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escrow/assoc_report.h"
#include "hal/guid.h"
#include "hal/mem.h"
#include "hal/struct_version.h"
#include "hal/text.h"
#include "ssrp/error.h"
#include "ssrp/sys/error.h"

#define DEVICES_PATH                                                                              \
	"/v1.0/devices?$select=id,deviceId,displayName,trustType,accountEnabled&$top=999"
#define KEYS_PATH                                                                                 \
	"/v1.0/informationProtection/bitlocker/recoveryKeys?$select=id,createdDateTime,deviceId"

typedef struct devlist {
	ssrp_report_device *v;
	size_t n, cap;
} devlist;

static const char *str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int add_device(const cJSON *item, void *ctx)
{
	devlist *l = ctx;
	const char *did = str(item, "deviceId");
	if (!*did || strlen(did) >= sizeof l->v[0].device_id)
		return SSRP_OK; /* a device object without a deviceId has no keys to report */
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		ssrp_report_device *v = ssrp_realloc(l->v, cap * sizeof *v);
		if (!v)
			return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
		l->v = v;
		l->cap = cap;
	}
	ssrp_report_device *d = &l->v[l->n];
	memset(d, 0, sizeof *d);
	snprintf(d->id, sizeof d->id, "%s", str(item, "id"));
	snprintf(d->device_id, sizeof d->device_id, "%s", did);
	snprintf(d->trust_type, sizeof d->trust_type, "%s", str(item, "trustType"));
	d->enabled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "accountEnabled"));
	if (!(d->name = ssrp_strdup(str(item, "displayName"))))
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	l->n++;
	return SSRP_OK;
}

static int by_device_id(const void *a, const void *b)
{
	return ssrp_ascii_icmp(((const ssrp_report_device *)a)->device_id,
			       ((const ssrp_report_device *)b)->device_id);
}

static ssrp_report_device *find(ssrp_report *r, const char *device_id)
{
	ssrp_report_device key;
	snprintf(key.device_id, sizeof key.device_id, "%s", device_id);
	return bsearch(&key, r->devices, r->n, sizeof *r->devices, by_device_id);
}

/* A key of d: mark the reported protector it is the key of. */
static void match_reported(ssrp_report_device *d, const char *key_id)
{
	char kid[SSRP_GUID_TEXT_LEN + 1];
	if (!d->reported || ssrp_guid_canonical(kid, key_id) != SSRP_OK)
		return;
	for (size_t i = 0; i < d->reported->n; i++)
		if (!strcmp(d->reported->protectors[i], kid))
			d->in_entra[i] = 1;
}

static int add_key(const cJSON *item, void *ctx)
{
	ssrp_report *r = ctx;
	r->keys++;
	ssrp_report_device *d = find(r, str(item, "deviceId"));
	if (!d) {
		r->orphan_keys++;
		return SSRP_OK;
	}
	match_reported(d, str(item, "id"));
	/* Graph writes every createdDateTime the same way: the text orders
	 * as the time does. */
	const char *t = str(item, "createdDateTime");
	if (!d->n_keys++ || strcmp(t, d->newest) > 0)
		snprintf(d->newest, sizeof d->newest, "%s", t);
	if (d->n_keys == 1 || strcmp(t, d->oldest) < 0)
		snprintf(d->oldest, sizeof d->oldest, "%s", t);
	return SSRP_OK;
}

/* The owners of r->devices[from, from + n) in one $batch. */
static int owners_batch(ssrp_graph *g, ssrp_report *r, size_t from, size_t n)
{
	ssrp_graph_batch_req reqs[SSRP_GRAPH_BATCH_MAX];
	ssrp_graph_batch_result res[SSRP_GRAPH_BATCH_MAX];
	char urls[SSRP_GRAPH_BATCH_MAX][160];
	memset(reqs, 0, sizeof reqs);
	memset(res, 0, sizeof res);
	for (size_t i = 0; i < n; i++) {
		snprintf(urls[i], sizeof urls[i],
			 "/devices/%s/registeredOwners?$select=id,userPrincipalName",
			 r->devices[from + i].id);
		reqs[i].method = "GET";
		reqs[i].url = urls[i];
	}
	int rc = ssrp_graph_batch(g, reqs, n, res);
	for (size_t i = 0; !rc && i < n; i++) {
		ssrp_report_device *d = &r->devices[from + i];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(res[i].body, "value");
		if (res[i].status < 200 || res[i].status >= 300 || !cJSON_IsArray(v)) {
			rc = ssrp_error_set(SSRP_E_IO,
					    "Graph did not list the owners of device %s (HTTP %ld)",
					    d->device_id, res[i].status);
			break;
		}
		size_t len = 1;
		const cJSON *o;
		cJSON_ArrayForEach(o, v) {
			/* "limited information": a user as id and type, its name null */
			if (!strcmp(str(o, "@odata.type"), "#microsoft.graph.user") &&
			    !*str(o, "userPrincipalName")) {
				rc = ssrp_error_set(SSRP_E_PERMISSION,
						    "Graph listed the owners of device %s without their "
						    "names: the app needs the application permission "
						    "User.Read.All to read owners",
						    d->device_id);
				break;
			}
			len += strlen(str(o, "userPrincipalName")) + 2;
		}
		if (rc)
			break;
		if (!(d->owners = ssrp_malloc(len))) {
			rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
			break;
		}
		d->owners[0] = '\0';
		cJSON_ArrayForEach(o, v) {
			if (d->n_owners++)
				strcat(d->owners, ", ");
			strcat(d->owners, str(o, "userPrincipalName"));
		}
	}
	ssrp_graph_batch_results_free(res, n);
	return rc;
}

void ssrp_assoc_report_free(ssrp_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		ssrp_free(r->devices[i].name);
		ssrp_free(r->devices[i].owners);
	}
	ssrp_free(r->devices);
	unsigned int version = r->version;
	memset(r, 0, sizeof *r);
	r->version = version;
}

/* Each report to its device; those of devices not listed are counted. */
static void attach_reports(ssrp_report *r, const ssrp_device_reports *reports)
{
	for (size_t i = 0; reports && i < reports->n; i++) {
		ssrp_report_device *d = find(r, reports->v[i]->device_id);
		if (d)
			d->reported = reports->v[i];
		else
			r->reported_unknown++;
	}
}

int ssrp_assoc_report_build(ssrp_graph *g, ssrp_report *out)
{
	return ssrp_assoc_report_build_with(g, NULL, out);
}

int ssrp_assoc_report_build_with(ssrp_graph *g, const ssrp_device_reports *reports,
				 ssrp_report *out)
{
	unsigned int version = out->version;
	memset(out, 0, sizeof *out);
	out->version = version;
	devlist l = {0};
	int rc = ssrp_graph_list(g, DEVICES_PATH, add_device, &l);
	out->devices = l.v;
	out->n = l.n;
	if (rc) {
		ssrp_error_prefix(rc, "the devices could not be read");
		goto fail;
	}
	if (out->n)
		qsort(out->devices, out->n, sizeof *out->devices, by_device_id);
	attach_reports(out, reports);
	if ((rc = ssrp_graph_list(g, KEYS_PATH, add_key, out)) != SSRP_OK) {
		ssrp_error_prefix(rc, "the recovery keys' metadata could not be read");
		goto fail;
	}
	for (size_t i = 0; i < out->n; i += SSRP_GRAPH_BATCH_MAX) {
		size_t n = out->n - i < SSRP_GRAPH_BATCH_MAX ? out->n - i : SSRP_GRAPH_BATCH_MAX;
		if ((rc = owners_batch(g, out, i, n)) != SSRP_OK)
			goto fail;
	}
	for (size_t i = 0; i < out->n; i++) {
		const ssrp_report_device *d = &out->devices[i];
		out->no_key += d->n_keys == 0;
		out->no_owner += d->n_owners == 0;
		out->near_limit += d->n_keys >= SSRP_REPORT_NEAR_LIMIT;
	}
	for (size_t i = 0; i < out->n; i++) {
		ssrp_report_device *d = &out->devices[i];
		if (!d->reported)
			continue;
		out->reported++;
		for (size_t k = 0; k < d->reported->n; k++)
			d->n_lacking += !d->in_entra[k];
		out->lacking += d->n_lacking > 0;
	}
	ssrp_graph_stats st;
	ssrp_graph_get_stats(g, &st);
	out->graph_requests = st.graph_requests + st.token_requests;
	return SSRP_OK;
fail:
	ssrp_assoc_report_free(out);
	return rc;
}

int ssrp_assoc_report_read(const ssrp_cloud_config *cfg, const ssrp_device_reports *reports,
			   ssrp_report *out)
{
	if (!cfg || !out)
		return ssrp_error_set(SSRP_E_INVALID, "report: no configuration or report");
	int rc = ssrp_struct_version_check("ssrp_report", out->version, SSRP_REPORT_VERSION,
					   "SSRP_REPORT_INIT");
	if (rc)
		return rc;
	ssrp_graph_auth auth = {0};
	if (cfg->app_id && cfg->app_cert_file)
		auth.kind = SSRP_GRAPH_AUTH_APP_CERT;
	else if (cfg->app_id && cfg->app_secret_file)
		auth.kind = SSRP_GRAPH_AUTH_APP_SECRET;
	else
		return ssrp_error_set(SSRP_E_INVALID,
				      "the report reads the directory with an app credential: give "
				      "app_id with app_secret_file or app_cert_file in the "
				      "configuration");
	ssrp_graph *g = NULL;
	if ((rc = ssrp_graph_new(&g, cfg, &auth, NULL)) == SSRP_OK)
		rc = ssrp_assoc_report_build_with(g, reports, out);
	ssrp_graph_free(g);
	return rc;
}
