/* The tenant's internals, shared by state.c (objects and lookups) and
 * state_json.c (load and dump). Not for handlers: they use state.h. */
#ifndef SSRP_SIM_CLOUD_STATE_PRIVATE_H
#define SSRP_SIM_CLOUD_STATE_PRIVATE_H

#include <pthread.h>

#include "sim/cloud/state.h"
#include "sim/cloud/state_index.h"

/* A growable array of object pointers: objects are allocated one by one so
 * the pointers handed out stay put when the array grows. */
typedef struct cloud_vec {
	void **items;
	size_t n, cap;
} cloud_vec;

/* The keys of one deviceId, in insertion order: listing a device's keys and
 * counting them against the limit of 200 never scans the whole tenant. */
typedef struct cloud_key_group {
	char device_id[CLOUD_ID_LEN + 1];
	size_t n;
	cloud_recovery_key **keys; /* exactly n entries */
} cloud_key_group;

#define STATE_MAX_AUDIT_TEXT 1024 /* bytes of each audit field */

typedef struct cloud_audit_entry {
	uint64_t time;
	char *actor, *action, *target;
	char *device_id; /* NULL when the action concerns no device */
} cloud_audit_entry;

struct cloud_state {
	pthread_mutex_t mutex;
	char tenant_id[CLOUD_ID_LEN + 1];
	char *domain;
	uint64_t created; /* the tenant's createdDateTime, Unix seconds; 0 unknown */
	cloud_vec skus, users, devices, apps, keys, webhooks, jobs;
	cloud_audit_entry *audit;
	size_t n_audit, cap_audit;
	cloud_index user_by_id, user_by_upn, user_by_sam;
	cloud_index device_by_id, device_by_device_id;
	cloud_index app_by_id, key_by_id, key_groups, job_by_id;
	cloud_device_code *codes; /* pending device-code sign-ins */
	size_t n_codes, cap_codes;
};

/* An empty tenant. tenant_id must be a GUID and domain a DNS name. */
int state_new_empty(cloud_state **out, const char *tenant_id, const char *domain);

/* Take ownership of a filled object on success (SSRP_OK); on failure the
 * caller still owns it. Refusals (duplicate id, UPN, ...) are SSRP_E_FORMAT
 * with a message the loader prefixes with the JSON path. */
int state_add_sku(cloud_state *s, cloud_sku *k);
int state_add_user(cloud_state *s, cloud_user *u);
int state_add_device(cloud_state *s, cloud_device *d);
int state_add_app(cloud_state *s, cloud_app *a);
int state_add_webhook(cloud_state *s, cloud_webhook *w);
int state_add_job(cloud_state *s, cloud_job *j);
int state_add_audit(cloud_state *s, uint64_t time, const char *actor, const char *action,
		    const char *target, const char *device_id);

void state_sku_free(cloud_sku *k);
void state_user_free(cloud_user *u);
void state_device_free(cloud_device *d);
void state_app_free(cloud_app *a);
void state_webhook_free(cloud_webhook *w);
void state_job_free(cloud_job *j);

/* A copy of text on the heap (ssrp_malloc), or NULL. */
char *state_strdup(const char *text);

/* "Queued", "Running", "Completed", "Failed"; -1 for anything else. */
const char *state_job_status_name(cloud_job_status st);
int state_job_status_parse(const char *name);

/* 1 when the text is a canonical recovery password (8 groups of 6 digits,
 * dashes, each group a multiple of 11 below 720896). */
int state_recovery_password_valid(const char *text);

#endif
