/* ssrp: the device's platform — who it is in Entra ID and who its primary
 * users are — over any backend, the third backend kind next to TPMs and
 * volumes (the backend interface: ssrp/sys/platform.h).
 *
 * Built in: "config" on POSIX systems (nothing to ask: the configuration's
 * "device" member is the only source) and "windows" on Windows
 * (NetGetAadJoinInformation, the machine certificate store, SCCM's
 * user-device affinity over WMI). A vendor registers more with
 * ssrp_platform_backend_register().
 *
 * The core's policy, whatever the backend: a configuration that names a
 * device (device_id, cert_file, key_file) wins over what the platform
 * says; primary users come from the platform when it lists any, else from
 * the configuration. Nothing here talks to the network.
 *
 * Threads: an ssrp_platform is used by one thread at a time. */
#ifndef SSRP_PLATFORM_H
#define SSRP_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ssrp_join_type {
	SSRP_JOIN_NONE = 0,   /* not registered: the agent does nothing else */
	SSRP_JOIN_AZUREAD,    /* Entra ID joined */
	SSRP_JOIN_HYBRID,     /* hybrid joined (domain + Entra ID) */
	SSRP_JOIN_REGISTERED, /* registered (workplace join) */
} ssrp_join_type;

/* "none", "azuread", "hybrid", "registered". */
SSRP_API const char *ssrp_join_type_name(ssrp_join_type t);

/* What the configuration says (its "device" member and tenant_id). Every
 * member but the version may be NULL. Versioned as ssrp_tpm_info (ssrp/tpm.h):
 * start from SSRP_IDENTITY_CONFIG_INIT (or set .version =
 * SSRP_IDENTITY_CONFIG_VERSION); the library reads only what that version
 * has and refuses one it does not know. */
#define SSRP_IDENTITY_CONFIG_VERSION 1
typedef struct ssrp_identity_config {
	unsigned int version;     /* SSRP_IDENTITY_CONFIG_VERSION */
	const char *tenant_id;
	const char *device_id, *cert_file, *key_file;
	const char *join_type;    /* "azuread", "hybrid", "registered" */
	const char *display_name;
	const char *const *primary_users; /* NULL-terminated */
} ssrp_identity_config;

#define SSRP_IDENTITY_CONFIG_INIT {.version = SSRP_IDENTITY_CONFIG_VERSION}

/* Filled by the library into the caller's SSRP_DEVICE_IDENTITY_INIT. */
#define SSRP_DEVICE_IDENTITY_VERSION 1
typedef struct ssrp_device_identity {
	unsigned int version;   /* SSRP_DEVICE_IDENTITY_VERSION, set by the caller */
	ssrp_join_type join;
	char device_id[64];     /* the Entra deviceId (GUID, lower case) */
	char tenant_id[64];
	char display_name[256]; /* "" when unknown */
	/* The TLS client certificate for the Device Registration Service and
	 * ssrp's association service, as libcurl takes it: a PEM file and its
	 * key file, or on Windows a Schannel store path and key "". */
	char cert[1024];
	char key[1024];
	char source[16];        /* "config", or the backend's name */
} ssrp_device_identity;

#define SSRP_DEVICE_IDENTITY_INIT {.version = SSRP_DEVICE_IDENTITY_VERSION}

typedef struct ssrp_platform ssrp_platform;

/* Capability bits (ssrp_platform_capabilities). */
#define SSRP_PLATFORM_CAP_IDENTITY (1u << 0)      /* the platform knows the join */
#define SSRP_PLATFORM_CAP_PRIMARY_USERS (1u << 1) /* the platform lists primary users */

/** Open "name[:config]"; NULL or "" is this build's built-in backend. */
SSRP_API int ssrp_platform_open(ssrp_platform **out, const char *spec);
SSRP_API void ssrp_platform_close(ssrp_platform *p);
SSRP_API const char *ssrp_platform_backend_name(const ssrp_platform *p);
SSRP_API uint32_t ssrp_platform_capabilities(const ssrp_platform *p);

/** The identity: the configuration's device when cfg names one, else the
 * platform's answer. SSRP_OK with out->join != NONE when registered;
 * SSRP_E_NOTFOUND with a sentence when not. */
SSRP_API int ssrp_platform_read_identity(ssrp_platform *p, const ssrp_identity_config *cfg,
					 ssrp_device_identity *out);

/** The primary users ("CONTOSO\alice" or UPNs), NULL-terminated, freed
 * with ssrp_primary_users_free: the platform's list when it gives one, else
 * the configuration's. *source (may be NULL) is static text: the backend's
 * name or "config". */
SSRP_API int ssrp_platform_read_primary_users(ssrp_platform *p, const ssrp_identity_config *cfg,
					      char ***users, size_t *n, const char **source);
SSRP_API void ssrp_primary_users_free(char **users);

#ifdef __cplusplus
}
#endif

#endif
