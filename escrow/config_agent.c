/* The configuration's "agent" member (escrow/config.h). */
#include <stdio.h>
#include <string.h>

#include "escrow/config_private.h"
#include "hal/mem.h"
#include "ssrp/sys/error.h"

#define DEFAULT_INTERVAL_S (7ul * 24 * 3600)
#define MAX_INTERVAL_S (366ul * 24 * 3600)

void ssrp_config_agent_defaults(ssrp_agent_config *a)
{
	a->pcr_mask = (1u << 7) | (1u << 11);
	a->association = SSRP_ASSOCIATION_DEFAULT;
	a->association_interval_s = DEFAULT_INTERVAL_S;
	a->escrow_before_protect = 1;
	a->rotate_after_recovery = 1;
	a->verify_interval_s = 86400;
	a->key_retention_days = 90;
}

/* A whole number from lo to hi. */
static int take_whole(double *dst, const cJSON *it, double lo, double hi)
{
	if (!cJSON_IsNumber(it) || it->valuedouble < lo || it->valuedouble > hi ||
	    it->valuedouble != (double)(long long)it->valuedouble)
		return -1;
	*dst = it->valuedouble;
	return 0;
}

static int bad(const char *origin, const char *member, const char *what)
{
	return ssrp_error_set(SSRP_E_INVALID, "%s: \"agent.%s\" %s", origin, member, what);
}

static int take_text(char **dst, const cJSON *it, const char *origin)
{
	if (!cJSON_IsString(it) || !it->valuestring[0] || strlen(it->valuestring) > 4096)
		return bad(origin, it->string, "must be a non-empty string");
	char *copy = ssrp_strdup(it->valuestring);
	if (!copy)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	ssrp_free(*dst);
	*dst = copy;
	return SSRP_OK;
}

static int take_bool(int *dst, const cJSON *it, const char *origin)
{
	if (!cJSON_IsBool(it))
		return bad(origin, it->string, "must be true or false");
	*dst = cJSON_IsTrue(it);
	return SSRP_OK;
}

static int take_pcrs(uint32_t *mask, const cJSON *it, const char *origin)
{
	if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) < 1)
		return bad(origin, "pcrs", "must be a non-empty array of PCR numbers (0-23)");
	uint32_t m = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, it) {
		if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble > 23 ||
		    e->valuedouble != (double)e->valueint)
			return bad(origin, "pcrs", "must hold PCR numbers from 0 to 23");
		m |= 1u << e->valueint;
	}
	*mask = m;
	return SSRP_OK;
}

static int take_mode(ssrp_association_mode *dst, const cJSON *it, const char *origin)
{
	static const struct {
		const char *name;
		ssrp_association_mode mode;
	} modes[] = {{"service", SSRP_ASSOCIATION_SERVICE},
		     {"webhook", SSRP_ASSOCIATION_WEBHOOK},
		     {"off", SSRP_ASSOCIATION_OFF}};
	for (size_t i = 0; cJSON_IsString(it) && i < sizeof modes / sizeof *modes; i++)
		if (!strcmp(it->valuestring, modes[i].name)) {
			*dst = modes[i].mode;
			return SSRP_OK;
		}
	return bad(origin, "association", "must be \"service\", \"webhook\" or \"off\"");
}

int ssrp_config_parse_agent(ssrp_agent_config *a, const cJSON *obj, const char *origin)
{
	if (!cJSON_IsObject(obj))
		return ssrp_error_set(SSRP_E_INVALID, "%s: \"agent\" must be an object", origin);
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) {
		const char *k = it->string;
		int rc;
		if (!strcmp(k, "volume"))
			rc = take_text(&a->volume, it, origin);
		else if (!strcmp(k, "tpm"))
			rc = take_text(&a->tpm, it, origin);
		else if (!strcmp(k, "platform"))
			rc = take_text(&a->platform, it, origin);
		else if (!strcmp(k, "journal"))
			rc = take_text(&a->journal, it, origin);
		else if (!strcmp(k, "pcrs"))
			rc = take_pcrs(&a->pcr_mask, it, origin);
		else if (!strcmp(k, "association"))
			rc = take_mode(&a->association, it, origin);
		else if (!strcmp(k, "association_interval_s")) {
			if (!cJSON_IsNumber(it) || it->valuedouble < 60 || it->valuedouble > MAX_INTERVAL_S)
				return bad(origin, k, "must be a number of seconds from 60 to a year");
			a->association_interval_s = (unsigned long)it->valuedouble;
			rc = SSRP_OK;
		} else if (!strcmp(k, "verify_interval_s")) {
			double v;
			if (take_whole(&v, it, 1, MAX_INTERVAL_S))
				return bad(origin, k, "must be a whole number of seconds from 1 to a year");
			a->verify_interval_s = (unsigned long)v;
			rc = SSRP_OK;
		} else if (!strcmp(k, "key_retention_days")) {
			double v;
			if (take_whole(&v, it, -1, 36500))
				return bad(origin, k, "must be a whole number of days (0: at once, "
						      "-1: keep every key)");
			a->key_retention_days = (long)v;
			rc = SSRP_OK;
		} else if (!strcmp(k, "rotate_after_days")) {
			double v;
			if (take_whole(&v, it, 0, 36500))
				return bad(origin, k, "must be a whole number of days (0: off)");
			a->rotate_after_days = (unsigned long)v;
			rc = SSRP_OK;
		} else if (!strcmp(k, "escrow_before_protect"))
			rc = take_bool(&a->escrow_before_protect, it, origin);
		else if (!strcmp(k, "rotate_after_recovery"))
			rc = take_bool(&a->rotate_after_recovery, it, origin);
		else if (!strcmp(k, "volume_type")) {
			if (!cJSON_IsString(it) || (strcmp(it->valuestring, "OSV") &&
						    strcmp(it->valuestring, "FDV") &&
						    strcmp(it->valuestring, "RDV")))
				return bad(origin, k, "must be \"OSV\", \"FDV\" or \"RDV\"");
			rc = take_text(&a->volume_type, it, origin);
		} else
			return ssrp_error_set(SSRP_E_INVALID, "%s: unknown member \"agent.%s\"", origin, k);
		if (rc)
			return rc;
	}
	return SSRP_OK;
}

void ssrp_config_free_agent(ssrp_agent_config *a)
{
	ssrp_free(a->volume);
	ssrp_free(a->tpm);
	ssrp_free(a->platform);
	ssrp_free(a->journal);
	ssrp_free(a->volume_type);
	memset(a, 0, sizeof *a);
}
