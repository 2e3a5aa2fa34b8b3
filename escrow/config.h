/* The client configuration shared by `ssrp assoc`, `ssrp recover` and
 * `ssrp agent`: the JSON file the simulated cloud writes (sim/cloud/server.h,
 * SSRP_SIM_CONFIG) or one written for a real tenant, same members:
 *
 *   {"tenant_id":"<guid>","tenant_domain":"contoso.example",
 *    "hosts":{"login":"...","graph":"...","drs":"..."},   (default: Microsoft's)
 *    "ca_file":"/dir/ca.pem", "connect_to":["host:443:127.0.0.1:PORT",...],
 *    "app_id":"<guid>", "app_secret_file":"...",
 *    "app_cert_file":"...", "app_key_file":"...",   (certificate assertion)
 *    "public_client_id":"<guid>", "refresh_token_file":"...",
 *    "device":{"device_id":"<guid>","cert_file":"...","key_file":"..."},
 *    "webhook_url_file":"..."}
 *
 * Only tenant_id is required. Unknown members are refused by name, so a
 * misspelt key is an error rather than a silently ignored setting. Secrets
 * are never in the file itself, only the names of files holding them. */
#ifndef SSRP_ESCROW_CONFIG_H
#define SSRP_ESCROW_CONFIG_H

#include <stddef.h>

#define SSRP_HOST_LOGIN "login.microsoftonline.com"
#define SSRP_HOST_GRAPH "graph.microsoft.com"
#define SSRP_HOST_DRS "enterpriseregistration.windows.net"

typedef struct ssrp_cloud_config {
	char *tenant_id, *tenant_domain;
	char *login_host, *graph_host, *drs_host; /* never NULL after a load */
	char *ca_file;
	char **connect_to; /* NULL-terminated, never NULL after a load */
	char *app_id, *app_secret_file, *app_cert_file, *app_key_file;
	char *public_client_id, *refresh_token_file;
	char *device_id, *device_cert_file, *device_key_file;
	char *webhook_url_file;
} ssrp_cloud_config;

/* Parse JSON text; origin names it in messages (a path). SSRP_E_INVALID
 * with the member at fault. */
int ssrp_cloud_config_parse(ssrp_cloud_config **out, const char *json, const char *origin);
/* Read and parse a file. */
int ssrp_cloud_config_load(ssrp_cloud_config **out, const char *path);
void ssrp_cloud_config_free(ssrp_cloud_config *cfg);

/* Read a secret named by the configuration (refusing group/other access);
 * free with ssrp_free_secret(*out, *len). */
int ssrp_cloud_config_secret(const char *path, char **out, size_t *len);

#endif
