/* escrow/assoc_private.h: the licence check as Graph allows it app-only.
 * A user's assignedLicenses (skuId + disabledPlans, read with the user)
 * are matched against the tenant's subscriptions (GET /subscribedSkus:
 * skuId → service plans), read once per run by the first chunk that needs
 * them and shared by every worker. (licenseDetails would say the same per
 * user, but Graph serves it to delegated callers only.) */
#include <stdio.h>
#include <string.h>

#include "escrow/assoc_private.h"
#include "hal/mem.h"
#include "hal/text.h"

enum { SKUS_NONE, SKUS_LOADING, SKUS_READY, SKUS_FAILED };

void assoc_skus_init(assoc_skus *s)
{
	memset(s, 0, sizeof *s);
	ssrp_mutex_init(&s->lock);
	ssrp_cond_init(&s->cond);
}

void assoc_skus_reset(assoc_skus *s)
{
	cJSON_Delete(s->value);
	ssrp_free(s->why);
	s->value = NULL;
	s->why = NULL;
	s->state = SKUS_NONE;
}

void assoc_skus_free(assoc_skus *s)
{
	assoc_skus_reset(s);
	ssrp_cond_destroy(&s->cond);
	ssrp_mutex_destroy(&s->lock);
}

int assoc_skus_claim(assoc_skus *s)
{
	ssrp_mutex_lock(&s->lock);
	int mine = s->state == SKUS_NONE;
	if (mine)
		s->state = SKUS_LOADING;
	ssrp_mutex_unlock(&s->lock);
	return mine;
}

void assoc_skus_settle(assoc_skus *s, cJSON *value, const char *why)
{
	ssrp_mutex_lock(&s->lock);
	if (s->state != SKUS_LOADING) {
		cJSON_Delete(value);
	} else if (value) {
		s->value = value;
		s->state = SKUS_READY;
	} else {
		s->why = ssrp_strdup(why && *why ? why : "not read");
		s->state = SKUS_FAILED;
	}
	ssrp_cond_signal(&s->cond);
	ssrp_mutex_unlock(&s->lock);
}

const cJSON *assoc_skus_wait(assoc_skus *s, char *why, size_t cap)
{
	ssrp_mutex_lock(&s->lock);
	while (s->state == SKUS_LOADING)
		ssrp_cond_wait(&s->cond, &s->lock);
	/* one signal per settle: pass it on to the next waiter */
	ssrp_cond_signal(&s->cond);
	const cJSON *v = s->state == SKUS_READY ? s->value : NULL;
	if (!v && why && cap)
		snprintf(why, cap, "%s", s->why ? s->why : "not read");
	ssrp_mutex_unlock(&s->lock);
	return v;
}

static const char *str_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *sku_find(const cJSON *skus, const char *sku_id)
{
	const cJSON *k;
	cJSON_ArrayForEach(k, skus) {
		const char *id = str_of(k, "skuId");
		if (id && ssrp_ascii_ieq(id, sku_id))
			return k;
	}
	return NULL;
}

static int listed(const cJSON *ids, const char *id)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, ids) {
		if (cJSON_IsString(it) && ssrp_ascii_ieq(it->valuestring, id))
			return 1;
	}
	return 0;
}

/* A subscription whose capabilityStatus is Suspended, LockedOut or
 * Deleted no longer gives its plans; Enabled and Warning (grace) do. */
static int sku_active(const cJSON *sku)
{
	const char *st = str_of(sku, "capabilityStatus");
	return !st || ssrp_ascii_ieq(st, "Enabled") || ssrp_ascii_ieq(st, "Warning");
}

ssrp_assoc_licence assoc_licence_of(const cJSON *assigned, const cJSON *skus,
				    char *const *plans, const char **plan)
{
	const cJSON *a, *p;
	*plan = NULL;
	cJSON_ArrayForEach(a, assigned) {
		const char *sku_id = str_of(a, "skuId");
		const cJSON *sku = sku_id ? sku_find(skus, sku_id) : NULL;
		if (!sku || !sku_active(sku))
			continue;
		const cJSON *disabled = cJSON_GetObjectItemCaseSensitive(a, "disabledPlans");
		cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(sku, "servicePlans")) {
			const char *name = str_of(p, "servicePlanName");
			const char *id = str_of(p, "servicePlanId");
			const char *prov = str_of(p, "provisioningStatus");
			if (!name || (prov && ssrp_ascii_ieq(prov, "Disabled")) ||
			    (id && listed(disabled, id)))
				continue;
			for (char *const *w = plans; w && *w; w++) {
				if (ssrp_ascii_ieq(*w, name)) {
					*plan = *w;
					return SSRP_ASSOC_LICENCE_OK;
				}
			}
		}
	}
	return SSRP_ASSOC_LICENCE_MISSING;
}
