/* ssrp: self-service retrieval of a BitLocker recovery password. A person
 * signs in (device code; the password grant for tests and the simulator),
 * lists the devices they own with their escrowed recovery keys' metadata,
 * picks one by device name or by the first 8 hex digits of the key id
 * (what the BitLocker recovery screen shows), and reads that key:
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
 * recovery password live in memory only as long as needed and are zeroed.
 *
 * Errors as ssrp/error.h. Threads: the Graph client is one thread's at a
 * time (ssrp/graph.h); a list is plain data, read by any number of threads
 * once filled. */
#ifndef SSRP_RECOVER_H
#define SSRP_RECOVER_H

#include <stddef.h>

#include "common.h"
#include "config.h"
#include "graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the person signs in. Versioned: start from SSRP_RECOVER_SIGNIN_INIT
 * (or ssrp_recover_signin_init()), then set what you need. */
#define SSRP_RECOVER_SIGNIN_VERSION 1
typedef struct ssrp_recover_signin {
	unsigned int version;      /* SSRP_RECOVER_SIGNIN_VERSION */
	const char *username;      /* set: the password grant (tests, simulator) */
	const char *password_file; /* with username: the file holding the password */
	ssrp_graph_prompt_fn prompt; /* otherwise: a device-code sign-in, shown through this */
	void *prompt_ctx;
	const char *save_refresh_file; /* optional: keep the refresh token there (0600) */
	const char *scope; /* NULL: User.Read Device.Read.All BitLockerKey.Read.All
			    * on the Graph host, offline_access, and openid
			    * profile (the id_token that names who signed in) */
} ssrp_recover_signin;

#define SSRP_RECOVER_SIGNIN_INIT {.version = SSRP_RECOVER_SIGNIN_VERSION}

/** *s = SSRP_RECOVER_SIGNIN_INIT for that version; SSRP_E_INVALID for a
 * version this library does not know. */
SSRP_API int ssrp_recover_signin_init(ssrp_recover_signin *s, unsigned int version);

/** A Graph client for the person (free with ssrp_graph_free). The sign-in
 * itself happens at the first call that needs a token; ssrp_graph_token()
 * forces it. With the password grant the password is forgotten as soon as
 * the sign-in returned a refresh token. cfg must outlive the client. */
SSRP_API int ssrp_recover_connect(ssrp_graph **out, const ssrp_cloud_config *cfg,
				  const ssrp_recover_signin *how);

/** The signed-in person's user name: preferred_username from the id_token
 * the sign-in returned (checked: our tenant, our client, not expired),
 * else Graph's /me userPrincipalName when the sign-in carried none (a
 * scope without openid). Signs in first if that has not happened yet. */
SSRP_API int ssrp_recover_whoami(ssrp_graph *g, char *upn, size_t cap);

/* The library fills these arrays; fields may be added at the end of the
 * element structs (the library allocates them). */
typedef struct ssrp_recover_key {
	char id[64];          /* the key id, a GUID as Graph gives it */
	char created[40];     /* createdDateTime, "" if absent */
	char volume_type[40]; /* volumeType, "" if absent */
} ssrp_recover_key;

typedef struct ssrp_recover_device {
	char object_id[64]; /* the directory object's id */
	char device_id[64]; /* deviceId, what keys name */
	char name[256];     /* displayName */
	ssrp_recover_key *keys; /* newest first */
	size_t n_keys;
} ssrp_recover_device;

/* The person's devices. Versioned: the caller sets the version
 * (SSRP_RECOVER_LIST_INIT); the library fills the rest. */
#define SSRP_RECOVER_LIST_VERSION 1
typedef struct ssrp_recover_list {
	unsigned int version; /* SSRP_RECOVER_LIST_VERSION, set by the caller */
	ssrp_recover_device *devices;
	size_t n;
} ssrp_recover_list;

#define SSRP_RECOVER_LIST_INIT {.version = SSRP_RECOVER_LIST_VERSION}

/** The devices the person owns, each with its keys (newest first), into
 * *out (its version set); free with ssrp_recover_list_free. */
SSRP_API int ssrp_recover_list_devices(ssrp_graph *g, ssrp_recover_list *out);
/** Free what a list holds (the version stays); NULL is fine. */
SSRP_API void ssrp_recover_list_free(ssrp_recover_list *l);

/* One key of one device: pointers into a list. */
typedef struct ssrp_recover_choice {
	const ssrp_recover_device *device;
	const ssrp_recover_key *key;
} ssrp_recover_choice;

/** The keys that match: a device name (case-insensitive; NULL: any) and a
 * key-id prefix (NULL: any; fewer than 8 hex digits match nothing). Fills
 * out[0..min(n, cap)) and returns n. */
SSRP_API size_t ssrp_recover_candidates(const ssrp_recover_list *l, const char *device_name,
					const char *key_prefix, ssrp_recover_choice *out,
					size_t cap);

/** Exactly one key: SSRP_OK. SSRP_E_REFUSED when the name is not one of the
 * person's devices ("DESKTOP-X is not one of your devices (you own: ...)")
 * or no key of theirs starts with the prefix; SSRP_E_NOTFOUND when the
 * device has no key escrowed; SSRP_E_INVALID for a malformed or short
 * prefix, or when several keys match (the message lists their full key
 * ids and how many leading digits tell them apart). key_prefix: at least
 * the first 8 hex digits of the key id, dashes and braces allowed, any
 * case. */
SSRP_API int ssrp_recover_choose(const ssrp_recover_list *l, const char *device_name,
				 const char *key_prefix, ssrp_recover_choice *out);

/** Read the recovery password of key_id into out (SSRP_RECOVERY_PASSWORD_LEN
 * + 1 bytes; zero it after use, ssrp_memzero). Graph's 403 becomes
 * SSRP_E_REFUSED with Graph's code, message and request-id. */
SSRP_API int ssrp_recover_fetch_key(ssrp_graph *g, const char *key_id,
				    char out[SSRP_RECOVERY_PASSWORD_LEN + 1]);

#ifdef __cplusplus
}
#endif

#endif
