/* A device's report and the service's cache of them (device_report.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "escrow/device_report.h"
#include "hal/fs.h"
#include "hal/guid.h"
#include "hal/mem.h"
#include "ssrp/assoc.h"
#include "ssrp/sys/error.h"

static int bad(const char *where, const char *fmt, const char *detail)
{
	char msg[200];
	snprintf(msg, sizeof msg, fmt, detail);
	return ssrp_error_set(SSRP_E_FORMAT, "%s: %s", where, msg);
}

static int known_state(const char *s)
{
	return !strcmp(s, "compliant") || !strcmp(s, "not-yet");
}

/* A whole number of seconds a JSON number can carry exactly. */
static int whole_seconds(const cJSON *v, int64_t *out)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740991.0 ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return 0;
	*out = (int64_t)v->valuedouble;
	return 1;
}

static int parse_members(const cJSON *v, ssrp_device_report *out, const char *where, int cached)
{
	if (!cJSON_IsObject(v))
		return bad(where, "%s", "must be an object");
	const cJSON *state = NULL, *ver = NULL, *prot = NULL, *dev = NULL, *rcv = NULL, *it;
	cJSON_ArrayForEach(it, v) {
		const cJSON **slot = !strcmp(it->string, "state")	   ? &state
				     : !strcmp(it->string, "verifiedAt")   ? &ver
				     : !strcmp(it->string, "protectors")   ? &prot
				     : cached && !strcmp(it->string, "deviceId")   ? &dev
				     : cached && !strcmp(it->string, "receivedAt") ? &rcv
										   : NULL;
		if (!slot)
			return bad(where, "unknown member \"%.40s\"", it->string);
		if (*slot)
			return bad(where, "\"%.40s\" appears twice", it->string);
		*slot = it;
	}
	if (!cJSON_IsString(state) || !known_state(state->valuestring))
		return bad(where, "%s", "\"state\" must be \"compliant\" or \"not-yet\"");
	snprintf(out->state, sizeof out->state, "%s", state->valuestring);
	if (ver && !whole_seconds(ver, &out->verified_at))
		return bad(where, "%s", "\"verifiedAt\" must be a whole number of seconds");
	int n = cJSON_IsArray(prot) ? cJSON_GetArraySize(prot) : -1;
	if (n < 0 || n > SSRP_DEVICE_REPORT_MAX_PROTECTORS) {
		char max[16];
		snprintf(max, sizeof max, "%d", SSRP_DEVICE_REPORT_MAX_PROTECTORS);
		return bad(where, "\"protectors\" must be an array of at most %s protector ids", max);
	}
	cJSON_ArrayForEach(it, prot) {
		if (!cJSON_IsString(it) ||
		    ssrp_guid_canonical(out->protectors[out->n], it->valuestring) != SSRP_OK) {
			char w[160];
			snprintf(w, sizeof w, "%s: protectors[%zu]", where, out->n);
			return bad(w, "%s", "must be a protector id (a GUID)");
		}
		for (size_t k = 0; k < out->n; k++)
			if (!strcmp(out->protectors[k], out->protectors[out->n]))
				return bad(where, "protector %s is named twice", out->protectors[k]);
		out->n++;
	}
	if (!cached)
		return SSRP_OK;
	char canon[SSRP_GUID_TEXT_LEN + 1];
	if (!cJSON_IsString(dev) || ssrp_guid_canonical(canon, dev->valuestring) != SSRP_OK)
		return bad(where, "%s", "\"deviceId\" must be a GUID");
	for (size_t k = 0; k < 36; k++) {
		char ch = canon[k + 1];
		out->device_id[k] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	out->device_id[36] = '\0';
	if (!whole_seconds(rcv, &out->received_at))
		return bad(where, "%s", "\"receivedAt\" must be a whole number of seconds");
	return SSRP_OK;
}

int ssrp_device_report_parse(const cJSON *v, ssrp_device_report *out)
{
	memset(out, 0, sizeof *out);
	int rc = parse_members(v, out, "report", 0);
	if (rc)
		memset(out, 0, sizeof *out);
	return rc;
}

static int add_members(cJSON *o, const ssrp_device_report *r)
{
	cJSON *a;
	if (!cJSON_AddStringToObject(o, "state", r->state) ||
	    !cJSON_AddNumberToObject(o, "verifiedAt", (double)r->verified_at) ||
	    !(a = cJSON_AddArrayToObject(o, "protectors")))
		return 0;
	for (size_t i = 0; i < r->n; i++) {
		cJSON *s = cJSON_CreateString(r->protectors[i]);
		if (!s || !cJSON_AddItemToArray(a, s))
			return 0;
	}
	return 1;
}

cJSON *ssrp_device_report_json(const ssrp_device_report *r)
{
	cJSON *o = cJSON_CreateObject();
	if (o && !add_members(o, r)) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

/* ---- the cache ------------------------------------------------------------ */

/* Where device_id is, or would go (*found 0). */
static size_t slot_of(const ssrp_device_reports *c, const char *device_id, int *found)
{
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(c->v[mid]->device_id, device_id);
		if (!d) {
			*found = 1;
			return mid;
		}
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

const ssrp_device_report *ssrp_device_reports_find(const ssrp_device_reports *c,
						   const char *device_id)
{
	char key[37];
	if (!c || !device_id || strlen(device_id) != 36)
		return NULL;
	for (size_t k = 0; k <= 36; k++) {
		char ch = device_id[k];
		key[k] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	int found;
	size_t i = slot_of(c, key, &found);
	return found ? c->v[i] : NULL;
}

static int grow(ssrp_device_reports *c)
{
	if (c->n < c->cap)
		return SSRP_OK;
	size_t cap = c->cap ? c->cap * 2 : 64;
	ssrp_device_report **v = ssrp_realloc(c->v, cap * sizeof *v);
	if (!v)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	c->v = v;
	c->cap = cap;
	return SSRP_OK;
}

int ssrp_device_reports_put(ssrp_device_reports *c, const ssrp_device_report *r)
{
	int found;
	size_t i = slot_of(c, r->device_id, &found);
	if (found) {
		*c->v[i] = *r;
		return SSRP_OK;
	}
	ssrp_device_report *copy = NULL;
	if (c->n >= SSRP_DEVICE_REPORTS_MAX) {
		size_t old = 0;
		for (size_t k = 1; k < c->n; k++)
			if (c->v[k]->received_at < c->v[old]->received_at)
				old = k;
		copy = c->v[old];
		memmove(&c->v[old], &c->v[old + 1], (c->n - old - 1) * sizeof *c->v);
		c->n--;
		i = slot_of(c, r->device_id, &found);
	} else if (!(copy = ssrp_malloc(sizeof *copy))) {
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	if (grow(c) != SSRP_OK) {
		ssrp_free(copy);
		return SSRP_E_NOMEM;
	}
	*copy = *r;
	memmove(&c->v[i + 1], &c->v[i], (c->n - i) * sizeof *c->v);
	c->v[i] = copy;
	c->n++;
	return SSRP_OK;
}

void ssrp_device_reports_free(ssrp_device_reports *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		ssrp_free(c->v[i]);
	ssrp_free(c->v);
	memset(c, 0, sizeof *c);
}

char *ssrp_device_reports_text(const ssrp_device_reports *c, size_t *len)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *a = NULL;
	int ok = o && cJSON_AddNumberToObject(o, "version", 1) &&
		 (a = cJSON_AddArrayToObject(o, "devices"));
	for (size_t i = 0; ok && i < c->n; i++) {
		const ssrp_device_report *r = c->v[i];
		cJSON *e = cJSON_CreateObject();
		ok = e && cJSON_AddItemToArray(a, e) &&
		     cJSON_AddStringToObject(e, "deviceId", r->device_id) &&
		     cJSON_AddNumberToObject(e, "receivedAt", (double)r->received_at) &&
		     add_members(e, r);
	}
	char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!text)
		return NULL;
	size_t n = strlen(text);
	char *copy = ssrp_malloc(n + 2);
	if (copy) {
		memcpy(copy, text, n);
		copy[n] = '\n';
		copy[n + 1] = '\0';
		*len = n + 1;
	}
	cJSON_free(text);
	return copy;
}

/* By device, the latest received first. */
static int by_device_then_newest(const void *a, const void *b)
{
	const ssrp_device_report *x = *(ssrp_device_report *const *)a;
	const ssrp_device_report *y = *(ssrp_device_report *const *)b;
	int d = strcmp(x->device_id, y->device_id);
	if (d)
		return d;
	return x->received_at > y->received_at ? -1 : x->received_at < y->received_at;
}

int ssrp_device_reports_load(ssrp_device_reports *c, const char *path, size_t *skipped,
			     char *why, size_t cap)
{
	ssrp_device_reports_free(c);
	*skipped = 0;
	if (cap)
		why[0] = '\0';
	if (!ssrp_fs_exists(path))
		return SSRP_OK;
	unsigned char *buf = NULL;
	size_t len = 0;
	int rc = ssrp_fs_read_input(path, SSRP_DEVICE_REPORTS_MAX_FILE, &buf, &len);
	if (rc)
		return ssrp_error_prefix(rc, "the device reports in %s could not be read", path);
	rc = ssrp_device_reports_parse(c, (const char *)buf, len, path, skipped, why, cap);
	ssrp_free_secret(buf, len + 1);
	return rc;
}

int ssrp_device_reports_parse(ssrp_device_reports *c, const char *text, size_t len,
			      const char *path, size_t *skipped, char *why, size_t cap)
{
	ssrp_device_reports_free(c);
	*skipped = 0;
	if (cap)
		why[0] = '\0';
	int rc = SSRP_OK;
	cJSON *root = text ? cJSON_ParseWithLength(text, len) : NULL;
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
	const cJSON *devs = cJSON_GetObjectItemCaseSensitive(root, "devices");
	if (!cJSON_IsObject(root) || !cJSON_IsNumber(ver) || ver->valuedouble != 1 ||
	    !cJSON_IsArray(devs)) {
		cJSON_Delete(root);
		return ssrp_error_set(SSRP_E_FORMAT,
				      "%s is not a device report cache ({\"version\":1,"
				      "\"devices\":[...]})",
				      path);
	}
	/* every entry in, then sorted; a device named twice keeps its latest */
	const cJSON *it;
	size_t i = 0;
	cJSON_ArrayForEach(it, devs) {
		ssrp_device_report r;
		memset(&r, 0, sizeof r);
		char where[48];
		snprintf(where, sizeof where, "devices[%zu]", i++);
		if (c->n >= SSRP_DEVICE_REPORTS_MAX) {
			ssrp_error_set(SSRP_E_FORMAT, "%s: more than %u devices", where,
				       SSRP_DEVICE_REPORTS_MAX);
		} else if (parse_members(it, &r, where, 1) == SSRP_OK) {
			ssrp_device_report *copy = NULL;
			if ((rc = grow(c)) != SSRP_OK || !(copy = ssrp_malloc(sizeof *copy))) {
				rc = ssrp_error_set(SSRP_E_NOMEM, "out of memory");
				break;
			}
			*copy = r;
			c->v[c->n++] = copy;
			continue;
		}
		if (!(*skipped)++ && cap)
			snprintf(why, cap, "%s", ssrp_error_last());
	}
	cJSON_Delete(root);
	if (rc) {
		ssrp_device_reports_free(c);
		return rc;
	}
	if (c->n)
		qsort(c->v, c->n, sizeof *c->v, by_device_then_newest);
	size_t kept = 0;
	for (size_t k = 0; k < c->n; k++) {
		if (kept && !strcmp(c->v[kept - 1]->device_id, c->v[k]->device_id)) {
			ssrp_free(c->v[k]);
			continue;
		}
		c->v[kept++] = c->v[k];
	}
	c->n = kept;
	return SSRP_OK;
}

/* ---- the public cache (ssrp/assoc_report.h) ------------------------------- */

int ssrp_device_reports_new(ssrp_device_reports **out)
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "device reports: no output");
	if (!(*out = ssrp_calloc(1, sizeof **out)))
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	return SSRP_OK;
}

void ssrp_device_reports_destroy(ssrp_device_reports *c)
{
	ssrp_device_reports_free(c);
	ssrp_free(c);
}

size_t ssrp_device_reports_count(const ssrp_device_reports *c)
{
	return c ? c->n : 0;
}

int ssrp_device_reports_keep(ssrp_device_reports *c, const char *device_id,
			     const ssrp_device_report *r)
{
	if (!c || !r)
		return ssrp_error_set(SSRP_E_INVALID, "device reports: no cache or report");
	if (!device_id || strlen(device_id) != 36 || !ssrp_guid_is_bare(device_id))
		return ssrp_error_set(SSRP_E_INVALID, "device id '%.40s' is not a GUID",
				      device_id ? device_id : "");
	ssrp_device_report k = *r;
	for (size_t i = 0; i <= 36; i++) {
		char ch = device_id[i];
		k.device_id[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
	}
	k.received_at = (int64_t)time(NULL);
	return ssrp_device_reports_put(c, &k);
}
