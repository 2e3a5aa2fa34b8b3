/* The tenant as JSON: a strict loader that names the path of every bad
 * field ("users[3].registredOwners: unknown field (did you mean
 * registeredOwners?)"), and a dump in the same format, in a stable order
 * (sections as in state.h, objects in insertion order). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "hal/hex.h"
#include "hal/mem.h"
#include "hal/text.h"
#include "sim/cloud/cloud_util.h"
#include "sim/cloud/state_private.h"
#include "ssrp/sys/error.h"

#define AUTOMATION_SUFFIX ".azure-automation.net"
#define MAX_STATE_FILE (1024u * 1024u * 1024u)

/* Length limits: Entra's where it has one (UPN 113, sAMAccountName 20,
 * DNS name 253), generous elsewhere but always bounded. */
#define MAX_UPN 113
#define MAX_NAME 256
#define MAX_ROLE 64
#define MAX_SAM 20
#define MAX_HOST 253
#define MAX_PEM 16384
#define MAX_AUDIT_TEXT STATE_MAX_AUDIT_TEXT

/* ---- errors with a path -------------------------------------------------- */

static int bad(const char *path, const char *field, const char *fmt, ...) SSRP_PRINTF(3, 4);

static int bad(const char *path, const char *field, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (field)
		return ssrp_error_set(SSRP_E_FORMAT, "tenant state: %s%s%.64s: %s", path, path[0] ? "." : "",
				      field, why);
	if (!path[0])
		return ssrp_error_set(SSRP_E_FORMAT, "tenant state: the document %s", why);
	return ssrp_error_set(SSRP_E_FORMAT, "tenant state: %s: %s", path, why);
}

/* The current error message, with "tenant state: path.field: " in front. */
static int bad_prefix(const char *path, const char *field)
{
	char why[512];
	snprintf(why, sizeof why, "%s", ssrp_error_last());
	return bad(path, field, "%s", why);
}

/* Edit distance, for "did you mean": field names are short, so the
 * quadratic table is small. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40)
		return 99;
	size_t row[41];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* obj must be an object whose every member is one of allowed, once. */
static int check_object(const cJSON *obj, const char *path, const char *const *allowed)
{
	if (!cJSON_IsObject(obj))
		return bad(path, NULL, "must be an object");
	for (const cJSON *c = obj->child; c; c = c->next) {
		int known = 0;
		for (size_t i = 0; allowed[i] && !known; i++)
			known = !strcmp(c->string, allowed[i]);
		if (!known) {
			/* Suggest only for names long enough to be a typo of
			 * something rather than anything at all. */
			const char *close = NULL;
			for (size_t i = 0; allowed[i] && strlen(c->string) > 3; i++)
				if (distance(c->string, allowed[i]) <= 2)
					close = allowed[i];
			if (close)
				return bad(path, c->string, "unknown field (did you mean %s?)", close);
			return bad(path, c->string, "unknown field");
		}
		for (const cJSON *d = obj->child; d != c; d = d->next)
			if (!strcmp(d->string, c->string))
				return bad(path, c->string, "given twice");
	}
	return SSRP_OK;
}

static const cJSON *field(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsNull(v) ? NULL : v;
}

/* No control characters: these are single-line names. */
static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int get_string(const cJSON *obj, const char *path, const char *name, int required, size_t max,
		      const char **out)
{
	const cJSON *v = field(obj, name);
	*out = NULL;
	if (!v)
		return required ? bad(path, name, "missing") : SSRP_OK;
	if (!cJSON_IsString(v) || !v->valuestring)
		return bad(path, name, "must be a string");
	size_t len = strlen(v->valuestring);
	if (len > max)
		return bad(path, name, "longer than %zu bytes", max);
	if (required && !len)
		return bad(path, name, "must not be empty");
	*out = v->valuestring;
	return SSRP_OK;
}

static int get_name(const cJSON *obj, const char *path, const char *name, int required, size_t max,
		    char **out)
{
	const char *v;
	*out = NULL;
	int rc = get_string(obj, path, name, required, max, &v);
	if (rc != SSRP_OK || !v)
		return rc;
	if (!printable(v))
		return bad(path, name, "contains a control character");
	*out = state_strdup(v);
	return *out ? SSRP_OK : ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
}

static int get_id(const cJSON *obj, const char *path, const char *name, int required,
		  char out[CLOUD_ID_LEN + 1])
{
	const char *v;
	out[0] = '\0';
	int rc = get_string(obj, path, name, required, 64, &v);
	if (rc != SSRP_OK || !v)
		return rc;
	if (cloud_id_normalize(out, v) != SSRP_OK)
		return bad_prefix(path, name);
	return SSRP_OK;
}

static int get_bool(const cJSON *obj, const char *path, const char *name, int def, int *out)
{
	const cJSON *v = field(obj, name);
	*out = def;
	if (!v)
		return SSRP_OK;
	if (!cJSON_IsBool(v))
		return bad(path, name, "must be true or false");
	*out = cJSON_IsTrue(v);
	return SSRP_OK;
}

static int get_time(const cJSON *obj, const char *path, const char *name, uint64_t *out)
{
	const char *v;
	int rc = get_string(obj, path, name, 1, 40, &v);
	if (rc != SSRP_OK)
		return rc;
	if (cloud_time_parse_iso(out, v) != SSRP_OK)
		return bad_prefix(path, name);
	return SSRP_OK;
}

static int get_sha256(const cJSON *obj, const char *path, const char *name, int required, uint8_t out[32],
		      int *has)
{
	const char *v;
	*has = 0;
	int rc = get_string(obj, path, name, required, 64, &v);
	if (rc != SSRP_OK || !v)
		return rc;
	if (ssrp_hex_decode(out, 32, v) != 0)
		return bad(path, name, "must be 64 hex digits (a SHA-256)");
	*has = 1;
	return SSRP_OK;
}

/* An optional array of at most max items; NULL when absent. */
static int get_array(const cJSON *obj, const char *path, const char *name, size_t max, const cJSON **out,
		     size_t *n)
{
	const cJSON *v = field(obj, name);
	*out = NULL;
	*n = 0;
	if (!v)
		return SSRP_OK;
	if (!cJSON_IsArray(v))
		return bad(path, name, "must be an array");
	size_t count = 0;
	for (const cJSON *c = v->child; c; c = c->next)
		if (++count > max)
			return bad(path, name, "has more than %zu entries", max);
	*out = v;
	*n = count;
	return SSRP_OK;
}

/* Permission and role names: "Cloud Device Administrator", "User.Read.All". */
static int get_roles(const cJSON *obj, const char *path, char **roles, unsigned *n_roles)
{
	const cJSON *arr;
	size_t n;
	int rc = get_array(obj, path, "roles", CLOUD_MAX_ROLES, &arr, &n);
	if (rc != SSRP_OK || !arr)
		return rc;
	char ep[64];
	size_t i = 0;
	for (const cJSON *c = arr->child; c; c = c->next, i++) {
		snprintf(ep, sizeof ep, "roles[%zu]", i);
		if (!cJSON_IsString(c) || !c->valuestring[0] || strlen(c->valuestring) > MAX_ROLE ||
		    !printable(c->valuestring))
			return bad(path, ep, "must be a role name of 1 to %d printable bytes", MAX_ROLE);
		for (unsigned j = 0; j < *n_roles; j++)
			if (ssrp_ascii_ieq(roles[j], c->valuestring))
				return bad(path, ep, "'%s' is listed twice", c->valuestring);
		if (!(roles[*n_roles] = state_strdup(c->valuestring)))
			return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
		(*n_roles)++;
	}
	return SSRP_OK;
}

static int dns_name_ok(const char *s, size_t max)
{
	size_t len = strlen(s), label = 0, dots = 0;
	if (!len || len > max)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (!label || label > 63 || s[i - 1] == '-')
				return 0;
			dots += c == '.';
			label = 0;
			continue;
		}
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 (c == '-' && label > 0);
		if (!ok)
			return 0;
		label++;
	}
	return dots > 0;
}

static int upn_ok(const char *s)
{
	const char *at = strchr(s, '@');
	if (!at || at == s || strchr(at + 1, '@') || !dns_name_ok(at + 1, MAX_HOST))
		return 0;
	for (const char *p = s; p < at; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("\"\\()<>,;:[]", *p))
			return 0;
	return 1;
}

static int sam_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || strchr("\"/\\[]:;|=,+*?<>@", *s))
			return 0;
	return 1;
}

static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* ---- sections ---------------------------------------------------------------- */

static int load_tenant(cloud_state **out, const cJSON *root)
{
	static const char *const fields[] = {"id", "domain", "createdDateTime", NULL};
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "tenant");
	if (!t)
		return bad("tenant", NULL, "missing");
	int rc = check_object(t, "tenant", fields);
	if (rc != SSRP_OK)
		return rc;
	char id[CLOUD_ID_LEN + 1];
	const char *domain;
	if ((rc = get_id(t, "tenant", "id", 1, id)) != SSRP_OK ||
	    (rc = get_string(t, "tenant", "domain", 1, MAX_HOST, &domain)) != SSRP_OK)
		return rc;
	if (!dns_name_ok(domain, MAX_HOST))
		return bad("tenant", "domain", "'%.64s' is not a DNS name like contoso.example", domain);
	uint64_t created = 0;
	if (field(t, "createdDateTime") && (rc = get_time(t, "tenant", "createdDateTime", &created)) != SSRP_OK)
		return rc;
	if ((rc = state_new_empty(out, id, domain)) == SSRP_OK)
		(*out)->created = created;
	return rc;
}

static int load_sku(cloud_state *s, const cJSON *o, const char *path)
{
	static const char *const fields[] = {"skuId", "skuPartNumber", "servicePlans", NULL};
	int rc = check_object(o, path, fields);
	if (rc != SSRP_OK)
		return rc;
	cloud_sku *k = ssrp_calloc(1, sizeof *k);
	if (!k)
		return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
	const cJSON *plans;
	size_t n;
	if ((rc = get_id(o, path, "skuId", 1, k->sku_id)) != SSRP_OK ||
	    (rc = get_name(o, path, "skuPartNumber", 1, MAX_ROLE, &k->part_number)) != SSRP_OK ||
	    (rc = get_array(o, path, "servicePlans", sizeof k->plans / sizeof k->plans[0], &plans, &n)) !=
		    SSRP_OK)
		goto fail;
	if (cloud_sku_find(s, k->sku_id)) {
		rc = bad(path, "skuId", "%s is used by an earlier SKU", k->sku_id);
		goto fail;
	}
	size_t i = 0;
	for (const cJSON *c = plans ? plans->child : NULL; c; c = c->next, i++) {
		static const char *const pf[] = {"servicePlanId", "servicePlanName", NULL};
		char pp[96];
		snprintf(pp, sizeof pp, "%s.servicePlans[%zu]", path, i);
		if ((rc = check_object(c, pp, pf)) != SSRP_OK ||
		    (rc = get_id(c, pp, "servicePlanId", 1, k->plans[i].id)) != SSRP_OK ||
		    (rc = get_name(c, pp, "servicePlanName", 1, MAX_ROLE, &k->plans[i].name)) != SSRP_OK) {
			k->n_plans = (unsigned)i + 1; /* so the name, if any, is freed */
			goto fail;
		}
		k->n_plans = (unsigned)i + 1;
	}
	if ((rc = state_add_sku(s, k)) != SSRP_OK)
		goto fail;
	return SSRP_OK;
fail:
	state_sku_free(k);
	return rc;
}

static int load_user(cloud_state *s, const cJSON *o, const char *path)
{
	static const char *const fields[] = {"id", "userPrincipalName", "displayName",
					     "onPremisesSamAccountName", "onPremisesDomainName",
					     "usageLocation", "passwordSha256", "roles", "assignedLicenses",
					     "accountEnabled", NULL};
	int rc = check_object(o, path, fields);
	if (rc != SSRP_OK)
		return rc;
	cloud_user *u = ssrp_calloc(1, sizeof *u);
	if (!u)
		return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
	const char *loc;
	const cJSON *lic;
	size_t n_lic;
	if ((rc = get_id(o, path, "id", 1, u->id)) != SSRP_OK ||
	    (rc = get_name(o, path, "userPrincipalName", 1, MAX_UPN, &u->upn)) != SSRP_OK ||
	    (rc = get_name(o, path, "displayName", 1, MAX_NAME, &u->display_name)) != SSRP_OK ||
	    (rc = get_name(o, path, "onPremisesSamAccountName", 0, MAX_SAM, &u->sam_account_name)) !=
		    SSRP_OK ||
	    (rc = get_name(o, path, "onPremisesDomainName", 0, MAX_HOST, &u->on_prem_domain)) !=
		    SSRP_OK ||
	    (rc = get_string(o, path, "usageLocation", 0, 2, &loc)) != SSRP_OK ||
	    (rc = get_bool(o, path, "accountEnabled", 1, &u->account_enabled)) != SSRP_OK ||
	    (rc = get_sha256(o, path, "passwordSha256", 0, u->password_sha256, &u->has_password)) !=
		    SSRP_OK ||
	    (rc = get_roles(o, path, u->roles, &u->n_roles)) != SSRP_OK ||
	    (rc = get_array(o, path, "assignedLicenses", CLOUD_MAX_LICENSES, &lic, &n_lic)) != SSRP_OK)
		goto fail;
	if (!upn_ok(u->upn)) {
		rc = bad(path, "userPrincipalName", "'%s' is not a name@domain.example", u->upn);
		goto fail;
	}
	if (u->sam_account_name && (!u->sam_account_name[0] || !sam_ok(u->sam_account_name))) {
		rc = bad(path, "onPremisesSamAccountName", "'%s' is not a Windows account name",
			 u->sam_account_name);
		goto fail;
	}
	if (u->on_prem_domain && !dns_name_ok(u->on_prem_domain, MAX_HOST)) {
		rc = bad(path, "onPremisesDomainName",
			 "'%s' is not a DNS domain name like corp.contoso.example (Graph gives the "
			 "on-premises domain's DNS name here, not its NetBIOS name)",
			 u->on_prem_domain);
		goto fail;
	}
	if (!u->sam_account_name != !u->on_prem_domain) {
		rc = bad(path, u->sam_account_name ? "onPremisesDomainName" : "onPremisesSamAccountName",
			 "missing: the on-premises account name and domain go together");
		goto fail;
	}
	if (loc) {
		if (strlen(loc) != 2 || loc[0] < 'A' || loc[0] > 'Z' || loc[1] < 'A' || loc[1] > 'Z') {
			rc = bad(path, "usageLocation", "'%s' is not a two-letter country code like US", loc);
			goto fail;
		}
		memcpy(u->usage_location, loc, 3);
	}
	size_t i = 0;
	for (const cJSON *c = lic ? lic->child : NULL; c; c = c->next, i++) {
		char ep[64];
		snprintf(ep, sizeof ep, "assignedLicenses[%zu]", i);
		char id[CLOUD_ID_LEN + 1];
		if (!cJSON_IsString(c) || cloud_id_normalize(id, c->valuestring) != SSRP_OK) {
			rc = bad(path, ep, "must be a skuId (a GUID)");
			goto fail;
		}
		int added = cloud_user_add_license(s, u, id);
		if (added == SSRP_E_NOTFOUND) {
			rc = bad(path, ep, "no SKU in \"skus\" has skuId %s", id);
			goto fail;
		}
		if (added == 1) {
			rc = bad(path, ep, "%s is listed twice", id);
			goto fail;
		}
	}
	if (cloud_user_find(s, u->id) || cloud_device_find(s, u->id)) {
		rc = bad(path, "id", "%s is used by an earlier object", u->id);
		goto fail;
	}
	if (cloud_user_find(s, u->upn)) {
		rc = bad(path, "userPrincipalName", "%s is used by an earlier user", u->upn);
		goto fail;
	}
	if (u->sam_account_name && cloud_user_find_sam(s, u->on_prem_domain, u->sam_account_name)) {
		rc = bad(path, "onPremisesSamAccountName", "%s\\%s is used by an earlier user",
			 u->on_prem_domain, u->sam_account_name);
		goto fail;
	}
	if ((rc = state_add_user(s, u)) != SSRP_OK)
		goto fail;
	return SSRP_OK;
fail:
	state_user_free(u);
	return rc;
}

static int load_id_list(cloud_state *s, const cJSON *o, const char *path, const char *name,
			char (**list)[CLOUD_ID_LEN + 1], size_t *n)
{
	const cJSON *arr;
	size_t count;
	/* No fixed limit on owners; the bound only keeps a hostile file from
	 * asking for a huge allocation. */
	int rc = get_array(o, path, name, 100000, &arr, &count);
	if (rc != SSRP_OK || !arr || !count)
		return rc;
	*list = ssrp_calloc(count, sizeof **list);
	if (!*list)
		return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
	size_t i = 0;
	for (const cJSON *c = arr->child; c; c = c->next, i++) {
		char ep[64];
		snprintf(ep, sizeof ep, "%s[%zu]", name, i);
		char *slot = (*list)[i];
		if (!cJSON_IsString(c) || cloud_id_normalize(slot, c->valuestring) != SSRP_OK)
			return bad(path, ep, "must be a user's object id (a GUID)");
		if (!cloud_user_find(s, slot))
			return bad(path, ep, "no user has id %s", slot);
		for (size_t j = 0; j < i; j++)
			if (!strcmp((*list)[j], slot))
				return bad(path, ep, "%s is listed twice", slot);
		*n = i + 1;
	}
	return SSRP_OK;
}

static int load_device(cloud_state *s, const cJSON *o, const char *path)
{
	static const char *const fields[] = {"id", "deviceId", "displayName", "operatingSystem",
					     "trustType", "accountEnabled", "registeredOwners",
					     "registeredUsers", NULL};
	int rc = check_object(o, path, fields);
	if (rc != SSRP_OK)
		return rc;
	cloud_device *d = ssrp_calloc(1, sizeof *d);
	if (!d)
		return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
	if ((rc = get_id(o, path, "id", 1, d->id)) != SSRP_OK ||
	    (rc = get_id(o, path, "deviceId", 1, d->device_id)) != SSRP_OK ||
	    (rc = get_name(o, path, "displayName", 1, MAX_NAME, &d->display_name)) != SSRP_OK ||
	    (rc = get_name(o, path, "operatingSystem", 0, MAX_ROLE, &d->operating_system)) != SSRP_OK ||
	    (rc = get_name(o, path, "trustType", 0, MAX_ROLE, &d->trust_type)) != SSRP_OK ||
	    (rc = get_bool(o, path, "accountEnabled", 1, &d->account_enabled)) != SSRP_OK ||
	    (rc = load_id_list(s, o, path, "registeredOwners", &d->owners, &d->n_owners)) != SSRP_OK ||
	    (rc = load_id_list(s, o, path, "registeredUsers", &d->users, &d->n_users)) != SSRP_OK)
		goto fail;
	if (d->trust_type && strcmp(d->trust_type, "AzureAd") && strcmp(d->trust_type, "ServerAd") &&
	    strcmp(d->trust_type, "Workplace")) {
		rc = bad(path, "trustType", "must be \"AzureAd\", \"ServerAd\" or \"Workplace\"");
		goto fail;
	}
	if ((!d->trust_type && !(d->trust_type = state_strdup("AzureAd"))) ||
	    (!d->operating_system && !(d->operating_system = state_strdup("Windows")))) {
		rc = ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
		goto fail;
	}
	if (cloud_device_find(s, d->id) || cloud_user_find(s, d->id)) {
		rc = bad(path, "id", "%s is used by an earlier object", d->id);
		goto fail;
	}
	if (cloud_device_find_by_device_id(s, d->device_id)) {
		rc = bad(path, "deviceId", "%s is used by an earlier device", d->device_id);
		goto fail;
	}
	if ((rc = state_add_device(s, d)) != SSRP_OK)
		goto fail;
	return SSRP_OK;
fail:
	state_device_free(d);
	return rc;
}

static int pem_certificate_ok(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	if (!bio)
		return 0;
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	X509_free(x);
	return x != NULL;
}

static int load_app(cloud_state *s, const cJSON *o, const char *path)
{
	static const char *const fields[] = {"appId", "servicePrincipalId", "displayName", "secretSha256",
					     "certificatePem", "publicClient", "roles", NULL};
	int rc = check_object(o, path, fields);
	if (rc != SSRP_OK)
		return rc;
	cloud_app *a = ssrp_calloc(1, sizeof *a);
	if (!a)
		return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
	const char *pem;
	if ((rc = get_id(o, path, "appId", 1, a->app_id)) != SSRP_OK ||
	    (rc = get_id(o, path, "servicePrincipalId", 0, a->sp_id)) != SSRP_OK ||
	    (rc = get_name(o, path, "displayName", 1, MAX_NAME, &a->display_name)) != SSRP_OK ||
	    (rc = get_sha256(o, path, "secretSha256", 0, a->secret_sha256, &a->has_secret)) != SSRP_OK ||
	    (rc = get_string(o, path, "certificatePem", 0, MAX_PEM, &pem)) != SSRP_OK ||
	    (rc = get_bool(o, path, "publicClient", 0, &a->public_client)) != SSRP_OK ||
	    (rc = get_roles(o, path, a->roles, &a->n_roles)) != SSRP_OK)
		goto fail;
	if (pem) {
		if (!pem_certificate_ok(pem)) {
			rc = bad(path, "certificatePem", "not a PEM certificate (-----BEGIN CERTIFICATE-----)");
			goto fail;
		}
		if (!(a->certificate_pem = state_strdup(pem))) {
			rc = ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
			goto fail;
		}
	}
	if (!a->sp_id[0])
		cloud_new_id(a->sp_id);
	if (cloud_app_find(s, a->app_id)) {
		rc = bad(path, "appId", "%s is used by an earlier app", a->app_id);
		goto fail;
	}
	if ((rc = state_add_app(s, a)) != SSRP_OK)
		goto fail;
	return SSRP_OK;
fail:
	state_app_free(a);
	return rc;
}

static int load_key(cloud_state *s, const cJSON *o, const char *path)
{
	static const char *const fields[] = {"id", "deviceId", "key", "volumeType", "createdDateTime", NULL};
	int rc = check_object(o, path, fields);
	if (rc != SSRP_OK)
		return rc;
	cloud_recovery_key k;
	memset(&k, 0, sizeof k);
	const char *key;
	if ((rc = get_id(o, path, "id", 1, k.id)) != SSRP_OK ||
	    (rc = get_id(o, path, "deviceId", 1, k.device_id)) != SSRP_OK ||
	    (rc = get_string(o, path, "key", 1, sizeof k.key - 1, &key)) != SSRP_OK ||
	    (rc = get_time(o, path, "createdDateTime", &k.created)) != SSRP_OK)
		goto out;
	if (!state_recovery_password_valid(key)) {
		/* Never quote the key: it is the secret. */
		rc = bad(path, "key", "not a recovery password (8 groups of 6 digits, each a multiple of "
				      "11 below 720896, joined by dashes)");
		goto out;
	}
	memcpy(k.key, key, strlen(key) + 1);
	const cJSON *vt = field(o, "volumeType");
	if (!vt) {
		rc = bad(path, "volumeType", "missing");
		goto out;
	}
	if (!cJSON_IsNumber(vt) || (vt->valuedouble != 1 && vt->valuedouble != 2 && vt->valuedouble != 3)) {
		rc = bad(path, "volumeType", "must be 1 (operating system), 2 (fixed data) or 3 (removable)");
		goto out;
	}
	k.volume_type = (int)vt->valuedouble;
	if (cloud_key_find(s, k.id)) {
		rc = bad(path, "id", "%s is used by an earlier recovery key", k.id);
		goto out;
	}
	if (!cloud_device_find_by_device_id(s, k.device_id)) {
		rc = bad(path, "deviceId", "no device has deviceId %s", k.device_id);
		goto out;
	}
	if (cloud_keys_list(s, k.device_id, NULL, 0) >= CLOUD_MAX_KEYS_PER_DEVICE) {
		rc = bad(path, "deviceId", "device %s has more than %d recovery keys, Entra's limit",
			 k.device_id, CLOUD_MAX_KEYS_PER_DEVICE);
		goto out;
	}
	if ((rc = cloud_key_put(s, &k)) != SSRP_OK)
		rc = bad_prefix(path, NULL);
out:
	ssrp_memzero(&k, sizeof k);
	return rc;
}

static int load_webhook(cloud_state *s, const cJSON *o, const char *path)
{
	static const char *const fields[] = {"name", "tokenSha256", "host", "enabled", "expiry", NULL};
	int rc = check_object(o, path, fields);
	if (rc != SSRP_OK)
		return rc;
	cloud_webhook *w = ssrp_calloc(1, sizeof *w);
	if (!w)
		return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
	int has_token;
	if ((rc = get_name(o, path, "name", 1, 128, &w->name)) != SSRP_OK ||
	    (rc = get_sha256(o, path, "tokenSha256", 1, w->token_sha256, &has_token)) != SSRP_OK ||
	    (rc = get_name(o, path, "host", 1, MAX_HOST, &w->host)) != SSRP_OK ||
	    (rc = get_bool(o, path, "enabled", 1, &w->enabled)) != SSRP_OK ||
	    (rc = get_time(o, path, "expiry", &w->expiry)) != SSRP_OK)
		goto fail;
	size_t hl = strlen(w->host), sl = strlen(AUTOMATION_SUFFIX);
	lower_ascii(w->host);
	if (!dns_name_ok(w->host, MAX_HOST) || hl <= sl || strcmp(w->host + hl - sl, AUTOMATION_SUFFIX)) {
		rc = bad(path, "host", "'%s' is not a host name ending in %s", w->host, AUTOMATION_SUFFIX);
		goto fail;
	}
	for (size_t i = 0; i < s->webhooks.n; i++) {
		const cloud_webhook *other = s->webhooks.items[i];
		if (!strcmp(other->name, w->name)) {
			rc = bad(path, "name", "%s is used by an earlier webhook", w->name);
			goto fail;
		}
		if (!strcmp(other->host, w->host)) {
			rc = bad(path, "host", "%s is used by an earlier webhook", w->host);
			goto fail;
		}
	}
	if ((rc = state_add_webhook(s, w)) != SSRP_OK)
		goto fail;
	return SSRP_OK;
fail:
	state_webhook_free(w);
	return rc;
}

static int load_job(cloud_state *s, const cJSON *o, const char *path)
{
	static const char *const fields[] = {"id", "webhook", "status", "created", "output", NULL};
	int rc = check_object(o, path, fields);
	if (rc != SSRP_OK)
		return rc;
	cloud_job *j = ssrp_calloc(1, sizeof *j);
	if (!j)
		return ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
	const char *status, *output;
	if ((rc = get_id(o, path, "id", 1, j->id)) != SSRP_OK ||
	    (rc = get_name(o, path, "webhook", 1, 128, &j->webhook)) != SSRP_OK ||
	    (rc = get_string(o, path, "status", 1, 16, &status)) != SSRP_OK ||
	    (rc = get_time(o, path, "created", &j->created)) != SSRP_OK ||
	    (rc = get_string(o, path, "output", 0, MAX_STATE_FILE, &output)) != SSRP_OK)
		goto fail;
	int st = state_job_status_parse(status);
	if (st < 0) {
		rc = bad(path, "status", "'%s' is not Queued, Running, Completed or Failed", status);
		goto fail;
	}
	j->status = (cloud_job_status)st;
	if (output && !(j->output = strdup(output))) {
		rc = ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory");
		goto fail;
	}
	if (cloud_job_find(s, j->id)) {
		rc = bad(path, "id", "%s is used by an earlier job", j->id);
		goto fail;
	}
	if ((rc = state_add_job(s, j)) != SSRP_OK) {
		rc = bad_prefix(path, "webhook");
		goto fail;
	}
	return SSRP_OK;
fail:
	state_job_free(j);
	return rc;
}

static int load_audit(cloud_state *s, const cJSON *o, const char *path)
{
	static const char *const fields[] = {"time", "actor", "action", "target", "deviceId", NULL};
	int rc = check_object(o, path, fields);
	if (rc != SSRP_OK)
		return rc;
	uint64_t time;
	const char *text[3];
	static const char *const names[3] = {"actor", "action", "target"};
	const char *device_id;
	if ((rc = get_time(o, path, "time", &time)) != SSRP_OK ||
	    (rc = get_string(o, path, "deviceId", 0, MAX_AUDIT_TEXT, &device_id)) != SSRP_OK)
		return rc;
	if (device_id && !printable(device_id))
		return bad(path, "deviceId", "contains a control character");
	for (size_t i = 0; i < 3; i++) {
		/* Present but possibly empty: a failed sign-in has no target. */
		if ((rc = get_string(o, path, names[i], 0, MAX_AUDIT_TEXT, &text[i])) != SSRP_OK)
			return rc;
		if (!text[i])
			return bad(path, names[i], "missing");
		if (!printable(text[i]))
			return bad(path, names[i], "contains a control character");
	}
	return state_add_audit(s, time, text[0], text[1], text[2], device_id);
}

typedef int (*load_fn)(cloud_state *s, const cJSON *o, const char *path);

static int load_section(cloud_state *s, const cJSON *root, const char *name, load_fn fn)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, name);
	if (!arr || cJSON_IsNull(arr))
		return SSRP_OK;
	if (!cJSON_IsArray(arr))
		return bad(name, NULL, "must be an array");
	size_t i = 0;
	for (const cJSON *c = arr->child; c; c = c->next, i++) {
		char path[64];
		snprintf(path, sizeof path, "%s[%zu]", name, i);
		int rc = fn(s, c, path);
		if (rc != SSRP_OK)
			return rc;
	}
	return SSRP_OK;
}

int cloud_state_from_json(cloud_state **out, const char *text, size_t len)
{
	static const char *const top[] = {"tenant", "skus", "users", "devices", "apps", "recoveryKeys",
					  "webhooks", "jobs", "audit", NULL};
	*out = NULL;
	if (!text && len)
		return ssrp_error_set(SSRP_E_INVALID, "cloud_state_from_json: NULL text");
	if (!text)
		text = "";
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
		return ssrp_error_set(SSRP_E_FORMAT, "tenant state: not valid JSON (near byte %zu of %zu)",
				      at, len);
	}
	/* Only white space may follow the document. */
	for (size_t i = (size_t)(end - text); i < len; i++) {
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n') {
			cJSON_Delete(root);
			return ssrp_error_set(SSRP_E_FORMAT,
					      "tenant state: unexpected bytes after the JSON document at byte %zu",
					      i);
		}
	}
	cloud_state *s = NULL;
	int rc = check_object(root, "", top);
	if (rc == SSRP_OK)
		rc = load_tenant(&s, root);
	/* Order matters: licences name SKUs, owners name users, keys name
	 * devices and jobs name webhooks. */
	if (rc == SSRP_OK)
		rc = load_section(s, root, "skus", load_sku);
	if (rc == SSRP_OK)
		rc = load_section(s, root, "users", load_user);
	if (rc == SSRP_OK)
		rc = load_section(s, root, "devices", load_device);
	if (rc == SSRP_OK)
		rc = load_section(s, root, "apps", load_app);
	if (rc == SSRP_OK)
		rc = load_section(s, root, "recoveryKeys", load_key);
	if (rc == SSRP_OK)
		rc = load_section(s, root, "webhooks", load_webhook);
	if (rc == SSRP_OK)
		rc = load_section(s, root, "jobs", load_job);
	if (rc == SSRP_OK)
		rc = load_section(s, root, "audit", load_audit);
	cJSON_Delete(root);
	if (rc != SSRP_OK) {
		cloud_state_free(s);
		return rc;
	}
	*out = s;
	return SSRP_OK;
}

int cloud_state_load(cloud_state **out, const char *path)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return ssrp_error_set(SSRP_E_IO, "cannot open the tenant state %s", path);
	char *text = NULL;
	size_t len = 0, cap = 0;
	int rc = SSRP_OK;
	for (;;) {
		if (len == cap) {
			if (cap >= MAX_STATE_FILE) {
				rc = ssrp_error_set(SSRP_E_FORMAT, "%s: larger than %u bytes", path,
						    MAX_STATE_FILE);
				break;
			}
			cap = cap ? cap * 2 : 65536;
			char *grown = ssrp_realloc(text, cap);
			if (!grown) {
				rc = ssrp_error_set(SSRP_E_NOMEM, "%s: out of memory", path);
				break;
			}
			text = grown;
		}
		size_t got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f))
				rc = ssrp_error_set(SSRP_E_IO, "cannot read the tenant state %s", path);
			break;
		}
	}
	fclose(f);
	if (rc == SSRP_OK) {
		rc = cloud_state_from_json(out, text, len);
		if (rc != SSRP_OK)
			ssrp_error_prefix(rc, "%s", path);
	}
	/* The file holds password and token hashes. */
	ssrp_free_secret(text, cap);
	return rc;
}

/* ---- dump ------------------------------------------------------------------------ */

/* Builders that remember a failed allocation, so the dump code reads
 * straight and checks once at the end. */
typedef struct dumper {
	int failed;
} dumper;

static cJSON *add(dumper *d, cJSON *parent, const char *name, cJSON *item)
{
	if (!item) {
		d->failed = 1;
		return NULL;
	}
	if (!parent) {
		cJSON_Delete(item);
		d->failed = 1;
		return NULL;
	}
	cJSON_bool ok = cJSON_IsArray(parent) ? cJSON_AddItemToArray(parent, item)
					      : cJSON_AddItemToObject(parent, name, item);
	if (!ok) {
		cJSON_Delete(item);
		d->failed = 1;
		return NULL;
	}
	return item;
}

static void add_str(dumper *d, cJSON *o, const char *name, const char *value)
{
	if (value)
		add(d, o, name, cJSON_CreateString(value));
}

static void add_time(dumper *d, cJSON *o, const char *name, uint64_t t)
{
	char iso[CLOUD_TIME_ISO_LEN + 1];
	cloud_time_format_iso(iso, t);
	add_str(d, o, name, iso);
}

static void add_hash(dumper *d, cJSON *o, const char *name, const uint8_t h[32])
{
	char hex[65];
	ssrp_hex_encode(hex, h, 32);
	add_str(d, o, name, hex);
}

static void add_strings(dumper *d, cJSON *o, const char *name, char *const *items, size_t n)
{
	cJSON *arr = add(d, o, name, cJSON_CreateArray());
	for (size_t i = 0; i < n; i++)
		add(d, arr, NULL, cJSON_CreateString(items[i]));
}

static void add_ids(dumper *d, cJSON *o, const char *name, const char (*ids)[CLOUD_ID_LEN + 1], size_t n)
{
	cJSON *arr = add(d, o, name, cJSON_CreateArray());
	for (size_t i = 0; i < n; i++)
		add(d, arr, NULL, cJSON_CreateString(ids[i]));
}

char *cloud_state_to_json(cloud_state *s)
{
	dumper d = {0};
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;
	cJSON *t = add(&d, root, "tenant", cJSON_CreateObject());
	add_str(&d, t, "id", s->tenant_id);
	add_str(&d, t, "domain", s->domain);
	if (s->created)
		add_time(&d, t, "createdDateTime", s->created);

	cJSON *arr = add(&d, root, "skus", cJSON_CreateArray());
	for (size_t i = 0; i < s->skus.n; i++) {
		const cloud_sku *k = s->skus.items[i];
		cJSON *o = add(&d, arr, NULL, cJSON_CreateObject());
		add_str(&d, o, "skuId", k->sku_id);
		add_str(&d, o, "skuPartNumber", k->part_number);
		cJSON *plans = add(&d, o, "servicePlans", cJSON_CreateArray());
		for (unsigned j = 0; j < k->n_plans; j++) {
			cJSON *p = add(&d, plans, NULL, cJSON_CreateObject());
			add_str(&d, p, "servicePlanId", k->plans[j].id);
			add_str(&d, p, "servicePlanName", k->plans[j].name);
		}
	}

	arr = add(&d, root, "users", cJSON_CreateArray());
	for (size_t i = 0; i < s->users.n; i++) {
		const cloud_user *u = s->users.items[i];
		cJSON *o = add(&d, arr, NULL, cJSON_CreateObject());
		add_str(&d, o, "id", u->id);
		add_str(&d, o, "userPrincipalName", u->upn);
		add_str(&d, o, "displayName", u->display_name);
		add_str(&d, o, "onPremisesSamAccountName", u->sam_account_name);
		add_str(&d, o, "onPremisesDomainName", u->on_prem_domain);
		if (u->usage_location[0])
			add_str(&d, o, "usageLocation", u->usage_location);
		if (!u->account_enabled)
			add(&d, o, "accountEnabled", cJSON_CreateBool(0));
		if (u->has_password)
			add_hash(&d, o, "passwordSha256", u->password_sha256);
		add_strings(&d, o, "roles", u->roles, u->n_roles);
		add_ids(&d, o, "assignedLicenses", (const char(*)[CLOUD_ID_LEN + 1])u->licenses,
			u->n_licenses);
	}

	arr = add(&d, root, "devices", cJSON_CreateArray());
	for (size_t i = 0; i < s->devices.n; i++) {
		const cloud_device *dv = s->devices.items[i];
		cJSON *o = add(&d, arr, NULL, cJSON_CreateObject());
		add_str(&d, o, "id", dv->id);
		add_str(&d, o, "deviceId", dv->device_id);
		add_str(&d, o, "displayName", dv->display_name);
		add_str(&d, o, "operatingSystem", dv->operating_system);
		add_str(&d, o, "trustType", dv->trust_type);
		add(&d, o, "accountEnabled", cJSON_CreateBool(dv->account_enabled));
		add_ids(&d, o, "registeredOwners", (const char(*)[CLOUD_ID_LEN + 1])dv->owners, dv->n_owners);
		add_ids(&d, o, "registeredUsers", (const char(*)[CLOUD_ID_LEN + 1])dv->users, dv->n_users);
	}

	arr = add(&d, root, "apps", cJSON_CreateArray());
	for (size_t i = 0; i < s->apps.n; i++) {
		const cloud_app *a = s->apps.items[i];
		cJSON *o = add(&d, arr, NULL, cJSON_CreateObject());
		add_str(&d, o, "appId", a->app_id);
		add_str(&d, o, "servicePrincipalId", a->sp_id);
		add_str(&d, o, "displayName", a->display_name);
		if (a->has_secret)
			add_hash(&d, o, "secretSha256", a->secret_sha256);
		add_str(&d, o, "certificatePem", a->certificate_pem);
		add(&d, o, "publicClient", cJSON_CreateBool(a->public_client));
		add_strings(&d, o, "roles", a->roles, a->n_roles);
	}

	arr = add(&d, root, "recoveryKeys", cJSON_CreateArray());
	for (size_t i = 0; i < s->keys.n; i++) {
		const cloud_recovery_key *k = s->keys.items[i];
		cJSON *o = add(&d, arr, NULL, cJSON_CreateObject());
		add_str(&d, o, "id", k->id);
		add_str(&d, o, "deviceId", k->device_id);
		add_str(&d, o, "key", k->key);
		add(&d, o, "volumeType", cJSON_CreateNumber(k->volume_type));
		add_time(&d, o, "createdDateTime", k->created);
	}

	arr = add(&d, root, "webhooks", cJSON_CreateArray());
	for (size_t i = 0; i < s->webhooks.n; i++) {
		const cloud_webhook *w = s->webhooks.items[i];
		cJSON *o = add(&d, arr, NULL, cJSON_CreateObject());
		add_str(&d, o, "name", w->name);
		add_hash(&d, o, "tokenSha256", w->token_sha256);
		add_str(&d, o, "host", w->host);
		add(&d, o, "enabled", cJSON_CreateBool(w->enabled));
		add_time(&d, o, "expiry", w->expiry);
	}

	arr = add(&d, root, "jobs", cJSON_CreateArray());
	for (size_t i = 0; i < s->jobs.n; i++) {
		const cloud_job *j = s->jobs.items[i];
		cJSON *o = add(&d, arr, NULL, cJSON_CreateObject());
		add_str(&d, o, "id", j->id);
		add_str(&d, o, "webhook", j->webhook);
		add_str(&d, o, "status", state_job_status_name(j->status));
		add_time(&d, o, "created", j->created);
		add_str(&d, o, "output", j->output);
	}

	arr = add(&d, root, "audit", cJSON_CreateArray());
	for (size_t i = 0; i < s->n_audit; i++) {
		const cloud_audit_entry *e = &s->audit[i];
		cJSON *o = add(&d, arr, NULL, cJSON_CreateObject());
		add_time(&d, o, "time", e->time);
		add_str(&d, o, "actor", e->actor);
		add_str(&d, o, "action", e->action);
		add_str(&d, o, "target", e->target);
		add_str(&d, o, "deviceId", e->device_id);
	}

	char *text = d.failed ? NULL : cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		ssrp_error_set(SSRP_E_NOMEM, "tenant state: out of memory while dumping");
	return text;
}
