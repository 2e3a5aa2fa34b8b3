/* The built-in demo tenant (state.h: cloud_state_new_demo). It is written
 * as a tenant JSON document and loaded through cloud_state_from_json, so
 * the demo passes the same checks as any seed file. Every id and secret is
 * fresh from the CSPRNG; the state keeps only the secrets' SHA-256. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "hal/crypto.h"
#include "hal/hex.h"
#include "hal/mem.h"
#include "hal/random.h"
#include "sim/cloud/cloud_util.h"
#include "sim/cloud/jwt.h"
#include "sim/cloud/state.h"
#include "ssrp/sys/error.h"

#define DEMO_DOMAIN "contoso.example"
#define SKU_INTUNE "061f9ace-7d42-4136-88ac-31dc755f143f"
#define PLAN_INTUNE "c1ec4a95-1f05-45b3-a911-aa3fa01094f5"
#define SKU_AAD_P1 "078d2b04-f1bd-4111-bbd4-b4b1b354cef4"
#define PLAN_AAD_P1 "41781fb2-bc02-4b7c-bd55-b576c07bb09d"

/* n printable characters (base64url's alphabet) from the CSPRNG. */
static int random_text(char *out, size_t n)
{
	uint8_t raw[48];
	if (n >= sizeof raw || ssrp_random_bytes(raw, sizeof raw) != SSRP_OK)
		return ssrp_error_set(SSRP_E_GENERIC, "demo tenant: no random bytes");
	char *text = cloud_b64url_encode(raw, sizeof raw);
	ssrp_memzero(raw, sizeof raw);
	if (!text)
		return SSRP_E_NOMEM;
	memcpy(out, text, n);
	out[n] = '\0';
	ssrp_free_secret(text, strlen(text));
	return SSRP_OK;
}

static int random_hex(char *out, size_t bytes)
{
	uint8_t raw[32];
	if (bytes > sizeof raw || ssrp_random_bytes(raw, bytes) != SSRP_OK)
		return ssrp_error_set(SSRP_E_GENERIC, "demo tenant: no random bytes");
	ssrp_hex_encode(out, raw, bytes);
	return SSRP_OK;
}

/* Adds "<name>": hex(SHA-256(secret)). */
static int add_hash(cJSON *o, const char *name, const char *secret)
{
	uint8_t h[SSRP_SHA256_LEN];
	char hex[2 * SSRP_SHA256_LEN + 1];
	if (ssrp_sha256(h, secret, strlen(secret)) != 0)
		return 0;
	ssrp_hex_encode(hex, h, sizeof h);
	return cJSON_AddStringToObject(o, name, hex) != NULL;
}

static int add_strings(cJSON *o, const char *name, const char *const *items)
{
	cJSON *arr = cJSON_AddArrayToObject(o, name);
	if (!arr)
		return 0;
	for (size_t i = 0; items[i]; i++)
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(items[i])))
			return 0;
	return 1;
}

static int add_sku(cJSON *skus, const char *id, const char *part, const char *plan_id)
{
	cJSON *o = cJSON_CreateObject();
	if (!cJSON_AddItemToArray(skus, o))
		return 0;
	cJSON *plans, *plan;
	if (!cJSON_AddStringToObject(o, "skuId", id) || !cJSON_AddStringToObject(o, "skuPartNumber", part) ||
	    !(plans = cJSON_AddArrayToObject(o, "servicePlans")) || !(plan = cJSON_CreateObject()) ||
	    !cJSON_AddItemToArray(plans, plan))
		return 0;
	return cJSON_AddStringToObject(plan, "servicePlanId", plan_id) &&
	       cJSON_AddStringToObject(plan, "servicePlanName", part);
}

static int add_user(cJSON *users, const char *upn, const char *name, const char *sam, const char *password,
		    const char *const *roles, const char *const *licenses)
{
	char id[CLOUD_ID_LEN + 1];
	cloud_new_id(id);
	cJSON *o = cJSON_CreateObject();
	if (!cJSON_AddItemToArray(users, o))
		return 0;
	return cJSON_AddStringToObject(o, "id", id) && cJSON_AddStringToObject(o, "userPrincipalName", upn) &&
	       cJSON_AddStringToObject(o, "displayName", name) &&
	       (!sam || (cJSON_AddStringToObject(o, "onPremisesSamAccountName", sam) &&
			 cJSON_AddStringToObject(o, "onPremisesDomainName", CLOUD_DEMO_AD_DOMAIN))) &&
	       cJSON_AddStringToObject(o, "usageLocation", "US") && add_hash(o, "passwordSha256", password) &&
	       add_strings(o, "roles", roles) && add_strings(o, "assignedLicenses", licenses);
}

static int add_app(cJSON *apps, const char *app_id, const char *name, const char *secret, int public_client,
		   const char *const *roles)
{
	cJSON *o = cJSON_CreateObject();
	if (!cJSON_AddItemToArray(apps, o))
		return 0;
	return cJSON_AddStringToObject(o, "appId", app_id) && cJSON_AddStringToObject(o, "displayName", name) &&
	       (!secret || add_hash(o, "secretSha256", secret)) &&
	       cJSON_AddBoolToObject(o, "publicClient", public_client) && add_strings(o, "roles", roles);
}

int cloud_state_new_demo(cloud_state **out, cloud_demo_secrets *sec)
{
	static const char *const none[] = {NULL};
	static const char *const admin_roles[] = {"Cloud Device Administrator", "Intune Administrator", NULL};
	/* What the association service needs and no more: owner changes
	 * (Intune Administrator) and licence assignment (License Administrator). */
	static const char *const service_roles[] = {"Intune Administrator", "License Administrator", NULL};
	static const char *const app_roles[] = {"User.Read.All", "Device.Read.All", "BitLockerKey.Read.All",
						"LicenseAssignment.Read.All",
						NULL};
	static const char *const p1[] = {SKU_AAD_P1, NULL};
	static const char *const intune[] = {SKU_INTUNE, NULL};
	*out = NULL;
	memset(sec, 0, sizeof *sec);
	char tenant_id[CLOUD_ID_LEN + 1], device_oid[CLOUD_ID_LEN + 1], hex[33];
	cloud_new_id(tenant_id);
	cloud_new_id(device_oid);
	cloud_new_id(sec->device_id);
	cloud_new_id(sec->app_id);
	cloud_new_id(sec->public_client_id);
	snprintf(sec->admin_upn, sizeof sec->admin_upn, "admin@" DEMO_DOMAIN);
	snprintf(sec->user_upn, sizeof sec->user_upn, "alice@" DEMO_DOMAIN);
	snprintf(sec->user2_upn, sizeof sec->user2_upn, "bob@" DEMO_DOMAIN);
	snprintf(sec->service_upn, sizeof sec->service_upn, "ssrp-svc@" DEMO_DOMAIN);
	snprintf(sec->device_name, sizeof sec->device_name, "DESKTOP-SSRP01");
	int rc;
	if ((rc = random_text(sec->app_secret, 40)) != SSRP_OK ||
	    (rc = random_text(sec->admin_password, 20)) != SSRP_OK ||
	    (rc = random_text(sec->user_password, 20)) != SSRP_OK ||
	    (rc = random_text(sec->user2_password, 20)) != SSRP_OK ||
	    (rc = random_text(sec->service_password, 20)) != SSRP_OK ||
	    (rc = random_text(sec->webhook_token, 32)) != SSRP_OK || (rc = random_hex(hex, 16)) != SSRP_OK)
		goto fail;
	snprintf(sec->webhook_host, sizeof sec->webhook_host, "%s.webhook.eus.azure-automation.net", hex);

	char expiry[CLOUD_TIME_ISO_LEN + 1];
	cloud_time_format_iso(expiry, (uint64_t)time(NULL) + 365u * 86400u);
	/* The demo tenant was created a year before it is first used. */
	char created[CLOUD_TIME_ISO_LEN + 1];
	cloud_time_format_iso(created, (uint64_t)time(NULL) - 365u * 86400u);
	cJSON *root = cJSON_CreateObject(), *tenant, *skus, *users, *devices, *dev, *apps, *hooks, *hook;
	int ok = root && (tenant = cJSON_AddObjectToObject(root, "tenant")) &&
		 cJSON_AddStringToObject(tenant, "id", tenant_id) &&
		 cJSON_AddStringToObject(tenant, "domain", DEMO_DOMAIN) &&
		 cJSON_AddStringToObject(tenant, "createdDateTime", created) &&
		 (skus = cJSON_AddArrayToObject(root, "skus")) &&
		 add_sku(skus, SKU_INTUNE, "INTUNE_A", PLAN_INTUNE) &&
		 add_sku(skus, SKU_AAD_P1, "AAD_PREMIUM", PLAN_AAD_P1) &&
		 (users = cJSON_AddArrayToObject(root, "users")) &&
		 add_user(users, sec->admin_upn, "Contoso Admin", NULL, sec->admin_password, admin_roles, none) &&
		 add_user(users, sec->user_upn, "Alice Anders", "alice", sec->user_password, none, p1) &&
		 add_user(users, sec->user2_upn, "Bob Berg", "bob", sec->user2_password, none, intune) &&
		 add_user(users, sec->service_upn, "ssrp association service", NULL, sec->service_password,
			  service_roles, none) &&
		 (devices = cJSON_AddArrayToObject(root, "devices")) && (dev = cJSON_CreateObject()) &&
		 cJSON_AddItemToArray(devices, dev) && cJSON_AddStringToObject(dev, "id", device_oid) &&
		 cJSON_AddStringToObject(dev, "deviceId", sec->device_id) &&
		 cJSON_AddStringToObject(dev, "displayName", sec->device_name) &&
		 cJSON_AddStringToObject(dev, "operatingSystem", "Windows") &&
		 cJSON_AddBoolToObject(dev, "accountEnabled", 1) &&
		 (apps = cJSON_AddArrayToObject(root, "apps")) &&
		 add_app(apps, sec->app_id, "ssrp association", sec->app_secret, 0, app_roles) &&
		 add_app(apps, sec->public_client_id, "ssrp recover", NULL, 1, none) &&
		 (hooks = cJSON_AddArrayToObject(root, "webhooks")) && (hook = cJSON_CreateObject()) &&
		 cJSON_AddItemToArray(hooks, hook) && cJSON_AddStringToObject(hook, "name", "ssrp-association") &&
		 add_hash(hook, "tokenSha256", sec->webhook_token) &&
		 cJSON_AddStringToObject(hook, "host", sec->webhook_host) &&
		 cJSON_AddBoolToObject(hook, "enabled", 1) && cJSON_AddStringToObject(hook, "expiry", expiry);
	char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	if (!text) {
		rc = ssrp_error_set(SSRP_E_NOMEM, "demo tenant: out of memory");
		goto fail;
	}
	rc = cloud_state_from_json(out, text, strlen(text));
	free(text);
	if (rc == SSRP_OK)
		return SSRP_OK;
fail:
	ssrp_memzero(sec, sizeof *sec);
	return rc;
}
