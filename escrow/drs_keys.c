/* The Device Registration Service's key list (drs.h, ssrp_drs_keys_parse; the struct: ssrp/escrow.h):
 * a strict parser naming the member at fault, and the lookup by protector
 * id. The text comes from the network, so every member read is checked for
 * type and range before it is used. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "escrow/drs.h"
#include "hal/guid.h"
#include "hal/mem.h"
#include "hal/struct_version.h"
#include "ssrp/error.h"
#include "ssrp/sys/error.h"

#define KEYS_MAX_BYTES (64u * 1024u)
/* Whole seconds a double holds exactly. */
#define MAX_EXACT_SECONDS 9007199254740991.0

#define BAD(...) ssrp_error_set(SSRP_E_FORMAT, "the key list is malformed: " __VA_ARGS__)

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's
 * days_from_civil), so no platform's timegm is needed. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* n decimal digits at s into *v; -1 if any is not a digit. */
static int digits(const char *s, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 0;
}

int ssrp_iso8601_parse(const char *s, int64_t *out)
{
	unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
	if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &sec))
		return -1;
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	const char *p = s + 19;
	if (*p == '.') {
		const char *f = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p == f)
			return -1;
	}
	int sign = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return -1;
		p += 6;
	} else {
		return -1; /* a time without a zone means nothing from a server */
	}
	if (*p)
		return -1;
	int64_t t = days_from_civil((int64_t)y, mo, d) * 86400 + (int64_t)h * 3600 +
		    (int64_t)mi * 60 + (int64_t)sec - sign * ((int64_t)oh * 3600 + (int64_t)om * 60);
	if (t < 0)
		return -1;
	*out = t;
	return 0;
}

/* The member spelt name or alt (not both), or NULL. */
static int either(const cJSON *o, const char *name, const char *alt, const char *where,
		  const cJSON **out)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name);
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, alt);
	if (a && b)
		return BAD("\"%s\" has both \"%s\" and \"%s\"", where, name, alt);
	*out = a ? a : b;
	return SSRP_OK;
}

/* Known members named twice are refused: which one would count? */
static int no_repeats(const cJSON *o, const char *where)
{
	static const char *const known[] = {"kid", "creationtime", "creationTime", "volumetype",
					    "volumeType", NULL};
	for (const cJSON *m = o->child; m; m = m->next) {
		int is_known = 0;
		for (size_t k = 0; known[k] && !is_known; k++)
			is_known = m->string && !strcmp(m->string, known[k]);
		if (!is_known)
			continue;
		for (const cJSON *p = o->child; p != m; p = p->next)
			if (p->string && !strcmp(p->string, m->string))
				return BAD("\"%s.%s\" appears twice", where, m->string);
	}
	return SSRP_OK;
}

static int parse_key(ssrp_drs_key *k, const cJSON *e, const char *where)
{
	if (!cJSON_IsObject(e))
		return BAD("\"%s\" is not an object", where);
	int rc = no_repeats(e, where);
	if (rc)
		return rc;
	const cJSON *kid = cJSON_GetObjectItemCaseSensitive(e, "kid"), *ct, *vt;
	if ((rc = either(e, "creationtime", "creationTime", where, &ct)) ||
	    (rc = either(e, "volumetype", "volumeType", where, &vt)))
		return rc;
	if (!kid)
		return BAD("\"%s\" has no \"kid\"", where);
	if (!cJSON_IsString(kid) || ssrp_guid_canonical(k->kid, kid->valuestring) != SSRP_OK)
		return BAD("\"%s.kid\" is not a key protector id (a GUID)", where);
	if (!ct)
		return BAD("\"%s\" has no \"creationtime\"", where);
	if (cJSON_IsString(ct)) {
		if (ssrp_iso8601_parse(ct->valuestring, &k->created))
			return BAD("\"%s.creationtime\" is not an ISO 8601 time with a zone", where);
	} else if (cJSON_IsNumber(ct)) {
		double v = ct->valuedouble;
		if (!(v >= 0 && v <= MAX_EXACT_SECONDS) || (double)(int64_t)v != v)
			return BAD("\"%s.creationtime\" is not a whole, non-negative number of "
				   "seconds",
				   where);
		k->created = (int64_t)v;
	} else {
		return BAD("\"%s.creationtime\" is neither a time string nor a number", where);
	}
	if (!vt)
		return BAD("\"%s\" has no \"volumetype\"", where);
	if (!cJSON_IsNumber(vt) || !(vt->valuedouble == 1 || vt->valuedouble == 2 ||
				      vt->valuedouble == 3))
		return BAD("\"%s.volumetype\" is not 1, 2 or 3", where);
	k->volume_type = (int)vt->valuedouble;
	return SSRP_OK;
}

static int parse_root(ssrp_drs_keys *out, const cJSON *root)
{
	if (!cJSON_IsObject(root))
		return BAD("it is not a JSON object");
	const cJSON *keys = NULL;
	for (const cJSON *m = root->child; m; m = m->next) {
		if (!m->string || strcmp(m->string, "keys"))
			continue;
		if (keys)
			return BAD("\"keys\" appears twice");
		keys = m;
	}
	if (!keys)
		return BAD("it has no \"keys\"");
	if (!cJSON_IsArray(keys))
		return BAD("\"keys\" is not an array");
	int n = cJSON_GetArraySize(keys);
	if (n > SSRP_DRS_MAX_KEYS)
		return BAD("\"keys\" has %d entries, more than the %d a device may hold", n,
			   SSRP_DRS_MAX_KEYS);
	const cJSON *e;
	size_t i = 0;
	cJSON_ArrayForEach(e, keys) {
		char where[32];
		snprintf(where, sizeof where, "keys[%zu]", i);
		int rc = parse_key(&out->keys[i], e, where);
		if (rc)
			return rc;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(out->keys[k].kid, out->keys[i].kid))
				return BAD("\"%s.kid\" %s repeats \"keys[%zu].kid\"", where,
					   out->keys[i].kid, k);
		out->n = ++i;
	}
	return SSRP_OK;
}

/* Empty the list; its version is the caller's. */
static void keys_clear(ssrp_drs_keys *out)
{
	memset(out->keys, 0, sizeof out->keys);
	out->n = 0;
}

int ssrp_drs_keys_init(ssrp_drs_keys *k, unsigned int version)
{
	int rc = ssrp_struct_version_check("ssrp_drs_keys", version, SSRP_DRS_KEYS_VERSION,
					   "SSRP_DRS_KEYS_INIT");
	if (rc)
		return rc;
	memset(k, 0, sizeof *k);
	k->version = version;
	return SSRP_OK;
}

int ssrp_drs_keys_parse(ssrp_drs_keys *out, const char *json, size_t len)
{
	if (!out)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_drs_keys_parse: no key list structure");
	keys_clear(out);
	if (!json)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_drs_keys_parse: no text");
	if (len > KEYS_MAX_BYTES)
		return BAD("it is %zu bytes, more than %u", len, KEYS_MAX_BYTES);
	if (memchr(json, '\0', len))
		return BAD("it holds a NUL byte");
	/* cJSON wants the NUL to refuse trailing text. */
	char *text = ssrp_malloc(len + 1);
	if (!text)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	memcpy(text, json, len);
	text[len] = '\0';
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
	int rc = root ? parse_root(out, root)
		      : BAD("it is not JSON (at byte %zu)",
			    end && end >= text ? (size_t)(end - text) : (size_t)0);
	cJSON_Delete(root);
	ssrp_free(text);
	if (rc)
		keys_clear(out);
	return rc;
}

int ssrp_drs_keys_has(const ssrp_drs_keys *keys, const char *protector_id)
{
	char want[SSRP_PROTECTOR_ID_LEN + 1];
	if (!keys || !protector_id || ssrp_guid_canonical(want, protector_id) != SSRP_OK)
		return 0;
	for (size_t i = 0; i < keys->n && i < SSRP_DRS_MAX_KEYS; i++)
		if (!strcmp(keys->keys[i].kid, want))
			return 1;
	return 0;
}
