/* The simulated tenant: users, devices, apps, recovery keys, webhooks,
 * jobs and the audit trail, loaded from and dumped to JSON.
 *
 * Locking: one mutex per state. Every function below except the
 * constructors, cloud_state_free and the tenant getters must be called with
 * the lock held (cloud_state_lock); pointers returned stay valid until the
 * lock is released or the object is removed. Lookups by id, UPN (case
 * insensitive) and deviceId are hashed, so 100k users and 100k devices cost
 * O(1) per request.
 *
 * The JSON state file (also what a dump writes):
 * {
 *   "tenant": {"id": "<guid>", "domain": "contoso.example", "createdDateTime" (optional)},
 *   "skus": [{"skuId","skuPartNumber","servicePlans":[{"servicePlanId","servicePlanName"}]}],
 *   "users": [{"id","userPrincipalName","displayName","onPremisesSamAccountName",
 *              "onPremisesDomainName","usageLocation","accountEnabled" (default true),
 *              "passwordSha256" (hex of SHA-256 of the password),
 *              "roles":["Cloud Device Administrator",...],"assignedLicenses":[skuId...]}],
 *   "devices": [{"id","deviceId","displayName","operatingSystem","trustType","accountEnabled",
 *                "registeredOwners":[userId...],"registeredUsers":[userId...]}],
 *   "apps": [{"appId","servicePrincipalId","displayName","secretSha256","certificatePem","publicClient",
 *             "roles":["User.Read.All","Device.Read.All","BitLockerKey.Read.All",...]}],
 *   "recoveryKeys": [{"id","deviceId","key","volumeType","createdDateTime"}],
 *   "webhooks": [{"name","tokenSha256","host","enabled","expiry"}],
 *   "jobs": [{"id","webhook","status","created","output"}],
 *   "audit": [{"time","actor","action","target","deviceId"}]
 * }
 * Unknown fields are refused with an error naming them (a typo in a test
 * tenant should not silently become a missing owner). */
#ifndef SSRP_SIM_CLOUD_STATE_H
#define SSRP_SIM_CLOUD_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "ssrp/common.h"

#define CLOUD_ID_LEN 36 /* a lower-case GUID without braces */
#define CLOUD_MAX_ROLES 8
#define CLOUD_MAX_LICENSES 8
#define CLOUD_MAX_KEYS_PER_DEVICE 200 /* Entra's limit */

typedef struct cloud_state cloud_state;

typedef struct cloud_user {
	char id[CLOUD_ID_LEN + 1];
	char *upn;
	char *display_name;
	char *sam_account_name; /* onPremisesSamAccountName, or NULL */
	char *on_prem_domain;   /* onPremisesDomainName: the AD domain's DNS name
				 * ("corp.contoso.example"), as Graph gives it; or NULL */
	char usage_location[3];
	int account_enabled; /* accountEnabled; true unless the state says false */
	uint8_t password_sha256[32];
	int has_password;
	unsigned n_roles;
	char *roles[CLOUD_MAX_ROLES];
	unsigned n_licenses;
	char licenses[CLOUD_MAX_LICENSES][CLOUD_ID_LEN + 1]; /* skuIds */
} cloud_user;

typedef struct cloud_device {
	char id[CLOUD_ID_LEN + 1];        /* object id */
	char device_id[CLOUD_ID_LEN + 1]; /* the AAD deviceId */
	char *display_name;
	char *operating_system;
	char *trust_type; /* "AzureAd" (joined), "ServerAd" (hybrid), "Workplace" (registered) */
	int account_enabled;
	size_t n_owners, n_users;
	char (*owners)[CLOUD_ID_LEN + 1]; /* user ids, in insertion order */
	char (*users)[CLOUD_ID_LEN + 1];
} cloud_device;

typedef struct cloud_app {
	char app_id[CLOUD_ID_LEN + 1];
	/* The object id of the app's service principal in this tenant: the oid
	 * of its app-only tokens (made up at load when the file has none). */
	char sp_id[CLOUD_ID_LEN + 1];
	char *display_name;
	uint8_t secret_sha256[32];
	int has_secret;
	char *certificate_pem; /* for client assertions, or NULL */
	int public_client;     /* may use ROPC / device code for users */
	unsigned n_roles;
	char *roles[CLOUD_MAX_ROLES]; /* application permissions granted */
} cloud_app;

typedef struct cloud_sku {
	char sku_id[CLOUD_ID_LEN + 1];
	char *part_number;
	unsigned n_plans;
	struct {
		char id[CLOUD_ID_LEN + 1];
		char *name;
	} plans[8];
} cloud_sku;

typedef struct cloud_recovery_key {
	char id[CLOUD_ID_LEN + 1];        /* the key protector id, lower case */
	char device_id[CLOUD_ID_LEN + 1];
	char key[SSRP_RECOVERY_PASSWORD_LEN + 1]; /* 48 digits with dashes */
	int volume_type;                   /* 1 OS, 2 fixed data, 3 removable */
	uint64_t created;                  /* Unix seconds */
} cloud_recovery_key;

typedef struct cloud_webhook {
	char *name;
	uint8_t token_sha256[32];
	char *host; /* the host name it answers on, e.g. "s1.webhook.eus.azure-automation.net" */
	int enabled;
	uint64_t expiry; /* Unix seconds */
} cloud_webhook;

typedef enum { CLOUD_JOB_QUEUED, CLOUD_JOB_RUNNING, CLOUD_JOB_COMPLETED, CLOUD_JOB_FAILED } cloud_job_status;

typedef struct cloud_job {
	char id[CLOUD_ID_LEN + 1];
	char *webhook;
	cloud_job_status status;
	uint64_t created;
	char *output; /* what the handler printed, or NULL */
} cloud_job;

/* ---- lifecycle (no lock needed) ----------------------------------------- */

/* What a client needs to use the demo tenant: made fresh for every demo
 * state (the state itself keeps only hashes). */
typedef struct cloud_demo_secrets {
	char app_id[CLOUD_ID_LEN + 1]; /* User.Read.All, Device.Read.All, BitLockerKey.Read.All */
	char app_secret[64];
	char public_client_id[CLOUD_ID_LEN + 1]; /* ROPC and device code for users */
	char admin_upn[128];   /* holds Cloud Device Administrator and Intune Administrator */
	char admin_password[64];
	char user_upn[128];    /* an ordinary licensed user */
	char user_password[64];
	char user2_upn[128];
	char user2_password[64];
	char service_upn[128]; /* the association service's account: Intune
				* Administrator + License Administrator */
	char service_password[64];
	char device_id[CLOUD_ID_LEN + 1]; /* a device with no owners yet */
	char device_name[64];
	char webhook_host[128];  /* e.g. "<guid>.webhook.eus.azure-automation.net" */
	char webhook_token[64];
} cloud_demo_secrets;

/* The demo tenant's on-premises domain: NetBIOS name and DNS name. */
#define CLOUD_DEMO_NETBIOS "CONTOSO"
#define CLOUD_DEMO_AD_DOMAIN "corp.contoso.example"

/* The built-in demo tenant (demo.c): a tenant, the INTUNE_A and
 * AAD_PREMIUM SKUs, an admin, two licensed users with on-premises names
 * (CONTOSO\alice, CONTOSO\bob; onPremisesDomainName CLOUD_DEMO_AD_DOMAIN),
 * the association service's account, one
 * device without owners, the app and
 * public client above, and one enabled webhook. */
int cloud_state_new_demo(cloud_state **out, cloud_demo_secrets *secrets);
/* Load a tenant; SSRP_E_FORMAT naming the field and index on bad input. */
int cloud_state_from_json(cloud_state **out, const char *text, size_t len);
int cloud_state_load(cloud_state **out, const char *path);
void cloud_state_free(cloud_state *s);
const char *cloud_state_tenant_id(const cloud_state *s);
const char *cloud_state_tenant_domain(const cloud_state *s);
/* The tenant's createdDateTime (Unix seconds), 0 when the file gave none. */
uint64_t cloud_state_tenant_created(const cloud_state *s);

void cloud_state_lock(cloud_state *s);
void cloud_state_unlock(cloud_state *s);

/* The whole state as JSON (malloc'd, free with free()); with the lock held.
 * NULL with an error message when out of memory. */
char *cloud_state_to_json(cloud_state *s);

/* ---- users, devices, apps, licences -------------------------------------- */

/* By object id or by UPN (case-insensitive). */
cloud_user *cloud_user_find(cloud_state *s, const char *id_or_upn);
/* By onPremisesSamAccountName within a NetBIOS domain (case-insensitive). */
cloud_user *cloud_user_find_sam(cloud_state *s, const char *domain, const char *sam);
int cloud_user_check_password(const cloud_user *u, const char *password);
int cloud_user_has_role(const cloud_user *u, const char *role);
/* Add a licence by skuId; SSRP_E_NOTFOUND for an unknown SKU. */
int cloud_user_add_license(cloud_state *s, cloud_user *u, const char *sku_id);
int cloud_user_remove_license(cloud_user *u, const char *sku_id);
const cloud_sku *cloud_sku_find(cloud_state *s, const char *sku_id);
/* The tenant's SKUs in the state's order, and how many users hold one. */
size_t cloud_sku_count(cloud_state *s);
const cloud_sku *cloud_sku_at(cloud_state *s, size_t index);
size_t cloud_sku_consumed(cloud_state *s, const char *sku_id);

cloud_device *cloud_device_find(cloud_state *s, const char *object_id);
cloud_device *cloud_device_find_by_device_id(cloud_state *s, const char *device_id);
/* Devices in a stable order (insertion), for listing and paging. */
size_t cloud_device_count(cloud_state *s);
cloud_device *cloud_device_at(cloud_state *s, size_t index);
size_t cloud_user_count(cloud_state *s);
cloud_user *cloud_user_at(cloud_state *s, size_t index);

/* Registered owners / users: 0 added, 1 was already there, negative error
 * (SSRP_E_INVALID for a user_id that is not a GUID). The caller checks that
 * user_id names a user of the tenant: the loader refuses a dangling one, so
 * a dump with one would not load again. */
int cloud_device_add_owner(cloud_device *d, const char *user_id);
int cloud_device_add_user(cloud_device *d, const char *user_id);
/* 0 removed, SSRP_E_NOTFOUND when it was not there. */
int cloud_device_remove_owner(cloud_device *d, const char *user_id);
int cloud_device_remove_user(cloud_device *d, const char *user_id);
int cloud_device_has_owner(const cloud_device *d, const char *user_id);
/* Devices a user owns, for me/ownedDevices: fills out[0..min(count, cap)) and
 * returns the whole count, which may exceed cap (cap 0 asks for the size). */
size_t cloud_devices_owned_by(cloud_state *s, const char *user_id, cloud_device **out, size_t cap);

cloud_app *cloud_app_find(cloud_state *s, const char *app_id);
int cloud_app_check_secret(const cloud_app *a, const char *secret);
int cloud_app_has_role(const cloud_app *a, const char *role);

/* ---- recovery keys, audit ------------------------------------------------ */

/* Store or replace (same id) a key, its ids stored in lower case.
 * SSRP_E_INVALID for ids that are not GUIDs, a key that is not a canonical
 * recovery password or a volumeType other than 1..3; SSRP_E_NOTFOUND when no
 * device has that deviceId; SSRP_E_REFUSED past 200 keys a device, or when
 * the id is another device's key (a device never overwrites another's). */
int cloud_key_put(cloud_state *s, const cloud_recovery_key *k);
cloud_recovery_key *cloud_key_find(cloud_state *s, const char *id);
/* Keys of one device (or all when device_id is NULL), stable order: fills
 * out[0..min(count, cap)) and returns the whole count, as above. */
size_t cloud_keys_list(cloud_state *s, const char *device_id, cloud_recovery_key **out, size_t cap);
int cloud_key_delete(cloud_state *s, const char *id);

void cloud_audit_add(cloud_state *s, uint64_t time, const char *actor, const char *action,
		     const char *target, const char *device_id);

/* ---- webhooks and jobs ---------------------------------------------------- */

cloud_webhook *cloud_webhook_find_by_host(cloud_state *s, const char *host);
int cloud_webhook_check_token(const cloud_webhook *w, const char *token);
/* A new queued job for webhook; its id into out (CLOUD_ID_LEN + 1). */
int cloud_job_add(cloud_state *s, const char *webhook, uint64_t now, char *out_id);
cloud_job *cloud_job_find(cloud_state *s, const char *id);
/* Takes ownership of output (malloc'd; freed with free()). */
void cloud_job_finish(cloud_job *j, cloud_job_status status, char *output);

/* ---- device-code sign-ins (token.c; in memory only, never dumped) -------
 * Unlike the directory objects, a cloud_device_code pointer stays valid
 * only until the next cloud_devicecode_add or _remove. */

#define CLOUD_MAX_DEVICE_CODES 1024

typedef struct cloud_device_code {
	uint8_t code_sha256[32]; /* SHA-256 of the device_code the client polls with */
	char user_code[16];      /* what the person types at microsoft.com/devicelogin */
	char app_id[CLOUD_ID_LEN + 1];
	char scope[512];         /* the scope the client asked for, as sent */
	uint64_t expires;        /* Unix seconds */
	char user_id[CLOUD_ID_LEN + 1]; /* who approved it; "" while pending */
} cloud_device_code;

/* Store a pending code (copied), first dropping expired ones;
 * SSRP_E_REFUSED when CLOUD_MAX_DEVICE_CODES are pending. */
int cloud_devicecode_add(cloud_state *s, const cloud_device_code *dc, uint64_t now);
/* By the device_code text (hashed, compared in constant time); NULL if none. */
cloud_device_code *cloud_devicecode_find(cloud_state *s, const char *device_code);
/* By user code, case-insensitive; NULL if none. */
cloud_device_code *cloud_devicecode_find_user_code(cloud_state *s, const char *user_code);
void cloud_devicecode_remove(cloud_state *s, cloud_device_code *dc);

/* A fresh lower-case GUID (CSPRNG). */
void cloud_new_id(char out[CLOUD_ID_LEN + 1]);

#endif
