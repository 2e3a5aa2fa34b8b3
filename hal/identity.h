/* The device's identity in Entra ID and its primary users (steps 1 and 4 of
 * the flow), behind one interface:
 *   - everywhere: the client configuration's "device" member (escrow/config.h):
 *     device_id, certificate and key PEM files, join_type, display_name,
 *     primary_users (the simulator writes one configuration per device);
 *   - Windows (identity_windows.c, uda_wmi.c): NetGetAadJoinInformation
 *     (netapi32.dll, loaded at run time), the device certificate in the
 *     machine store (issuer CN=MS-Organization-Access, subject CN=<deviceId>)
 *     named for libcurl's Schannel as "LocalMachine\MY\<thumbprint>", and
 *     SCCM's user-device affinity over WMI (root\ccm\Policy\Machine\ActualConfig,
 *     CCM_UserAffinity.ConsoleUser where IsUserAffinitySet). A configured
 *     "device" member wins over what Windows says.
 * Nothing here talks to the network. */
#ifndef SSRP_HAL_IDENTITY_H
#define SSRP_HAL_IDENTITY_H

#include <stddef.h>

typedef enum ssrp_join_type {
	SSRP_JOIN_NONE = 0,   /* not registered: the agent does nothing else */
	SSRP_JOIN_AZUREAD,    /* Entra ID joined */
	SSRP_JOIN_HYBRID,     /* hybrid joined (domain + Entra ID) */
	SSRP_JOIN_REGISTERED, /* registered (workplace join) */
} ssrp_join_type;

/* "none", "azuread", "hybrid", "registered". */
const char *ssrp_join_type_name(ssrp_join_type t);

/* What the configuration says (escrow/config.h's "device" member and
 * tenant_id, copied here by the caller: hal/ knows no configuration file).
 * Every member may be NULL. */
typedef struct ssrp_identity_config {
	const char *tenant_id;
	const char *device_id, *cert_file, *key_file;
	const char *join_type;    /* "azuread", "hybrid", "registered" */
	const char *display_name;
	const char *const *primary_users; /* NULL-terminated */
} ssrp_identity_config;

typedef struct ssrp_device_identity {
	ssrp_join_type join;
	char device_id[64];     /* the Entra deviceId (GUID, lower case) */
	char tenant_id[64];
	char display_name[256]; /* "" when unknown */
	/* The TLS client certificate for the Device Registration Service and
	 * ssrp's association service, as libcurl takes it: a PEM file and its
	 * key file, or on Windows a Schannel store path and key "". */
	char cert[1024];
	char key[1024];
	char source[16];        /* "config", "windows" */
} ssrp_device_identity;

/* Read the identity. SSRP_OK with out->join != NONE when registered;
 * SSRP_E_NOTFOUND with a sentence ("this device is not registered in Entra
 * ID: the configuration names no device and ...") when not; other errors
 * when the platform could not be asked or the files are missing. */
int ssrp_identity_read(const ssrp_identity_config *cfg, ssrp_device_identity *out);

/* The device's primary users as SCCM gives them ("CONTOSO\alice") or as
 * configured (UPNs allowed). *users is NULL-terminated (possibly empty),
 * freed with ssrp_primary_users_free. */
int ssrp_primary_users_read(const ssrp_identity_config *cfg, char ***users, size_t *n);
void ssrp_primary_users_free(char **users);

#endif
