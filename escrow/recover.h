/* Self-service retrieval of a BitLocker recovery password: a person signs
 * in (device code; the password grant for tests and the simulator), lists
 * the devices they own with their escrowed recovery keys' metadata, picks
 * one by device name or by the first 8 hex digits of the key id (what the
 * BitLocker recovery screen shows and MBAM asks for), and reads that key.
 *
 *   GET /v1.0/me/ownedDevices?$select=id,deviceId,displayName       (paged)
 *   GET /v1.0/informationProtection/bitlocker/recoveryKeys
 *       ?$filter=deviceId eq '<deviceId>'                            (paged)
 *   GET /v1.0/informationProtection/bitlocker/recoveryKeys/{id}?$select=key
 *
 * Only keys of devices the person owns are chosen: a device name or key id
 * that is not on one of their devices is refused here with the reason
 * (SSRP_E_REFUSED), before Graph is asked; Graph refuses on its side too
 * (403), and its words are kept (also SSRP_E_REFUSED). The password and the
 * recovery password live in memory only as long as needed and are zeroed. */
#ifndef SSRP_ESCROW_RECOVER_H
#define SSRP_ESCROW_RECOVER_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "bitlocker/recovery_password.h"
#include "escrow/config.h"
#include "escrow/graph_client.h"

typedef struct ssrp_recover_key {
	char id[64];          /* the key id, a GUID as Graph gives it */
	char created[40];     /* createdDateTime, "" if absent */
	char volume_type[40]; /* volumeType, "" if absent */
} ssrp_recover_key;

typedef struct ssrp_recover_device {
	char object_id[64]; /* the directory object's id */
	char device_id[64]; /* deviceId, what keys name */
	char name[256];     /* displayName */
	ssrp_recover_key *keys;
	size_t n_keys;
} ssrp_recover_device;

typedef struct ssrp_recover_list {
	ssrp_recover_device *devices;
	size_t n;
} ssrp_recover_list;

/* How the person signs in. */
typedef struct ssrp_recover_signin {
	const char *username;      /* set: the password grant (tests, simulator) */
	const char *password_file; /* with username */
	ssrp_graph_prompt_fn prompt; /* otherwise: device code, shown through this */
	void *prompt_ctx;
	const char *save_refresh_file; /* optional: keep the refresh token there */
	const char *scope; /* NULL: User.Read Device.Read.All BitLockerKey.Read.All
			    * on the Graph host, offline_access, and openid
			    * profile (the id_token that names who signed in) */
} ssrp_recover_signin;

/* A Graph client for the person. The sign-in itself happens at the first
 * call that needs a token; ssrp_graph_token() forces it (a device-code
 * sign-in lasts as long as the person takes). With the password grant the
 * password is forgotten as soon as the sign-in returned a refresh token. */
int ssrp_recover_connect(ssrp_graph **out, const ssrp_cloud_config *cfg,
			 const ssrp_recover_signin *how, const ssrp_graph_options *opt);

/* The signed-in person's user name: preferred_username from the id_token
 * the sign-in returned (checked: our tenant, our client, not expired),
 * else Graph's /me userPrincipalName when the sign-in carried none (a
 * scope without openid). Signs in first if that has not happened yet. */
int ssrp_recover_whoami(ssrp_graph *g, char *upn, size_t cap);

/* The devices the person owns, each with its keys (newest first). */
int ssrp_recover_list_devices(ssrp_graph *g, ssrp_recover_list *out);
void ssrp_recover_list_free(ssrp_recover_list *l);

/* The parsers of Graph's answers, exposed for tests and fuzzing: one
 * element of ownedDevices (other directory object types are skipped:
 * SSRP_OK, nothing added), one element of the recovery-key list (added to
 * dev), and the single key's answer (the entity itself or {"value":{...}})
 * → the recovery password, checked to be 48 digits in 8 valid groups,
 * into out (SSRP_RP_TEXT_LEN + 1 bytes). SSRP_E_FORMAT names what is
 * wrong. */
int ssrp_recover_parse_device(ssrp_recover_list *l, const cJSON *item);
int ssrp_recover_parse_key_item(ssrp_recover_device *dev, const cJSON *item);
int ssrp_recover_parse_key(const cJSON *answer, char out[SSRP_RP_TEXT_LEN + 1]);

/* One key of one device. */
typedef struct ssrp_recover_choice {
	const ssrp_recover_device *device;
	const ssrp_recover_key *key;
} ssrp_recover_choice;

/* The keys that match: a device name (case-insensitive; NULL: any) and a
 * key-id prefix (NULL: any; fewer than 8 hex digits match nothing). Fills
 * out[0..min(n, cap)) and returns n. */
size_t ssrp_recover_candidates(const ssrp_recover_list *l, const char *device_name,
			       const char *key_prefix, ssrp_recover_choice *out, size_t cap);

/* Exactly one key: SSRP_OK. SSRP_E_REFUSED when the name is not one of the
 * person's devices ("DESKTOP-X is not one of your devices (you own: ...)")
 * or no key of theirs starts with the prefix; SSRP_E_NOTFOUND when the
 * device has no key escrowed; SSRP_E_INVALID for a malformed or short
 * prefix, or when several keys match (the message lists their full key
 * ids and how many leading digits tell them apart). key_prefix: at least
 * the first 8 hex digits of the key id, dashes and braces allowed, any
 * case. */
int ssrp_recover_choose(const ssrp_recover_list *l, const char *device_name,
			const char *key_prefix, ssrp_recover_choice *out);

/* Read the recovery password of key_id into out (SSRP_RP_TEXT_LEN + 1
 * bytes; zero it after use). Graph's 403 becomes SSRP_E_REFUSED with
 * Graph's code, message and request-id. */
int ssrp_recover_fetch_key(ssrp_graph *g, const char *key_id, char out[SSRP_RP_TEXT_LEN + 1]);

#endif
