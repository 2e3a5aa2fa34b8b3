/* ssrp/config.h: reading a loaded configuration's members. */
#include <stddef.h>
#include <string.h>

#include "escrow/config.h"
#include "hal/platform_paths.h"
#include "hal/struct_version.h"
#include "ssrp/sys/error.h"

const char *ssrp_config_default_path(void)
{
	return ssrp_default_config_path;
}

typedef struct member {
	const char *name;
	size_t offset;
} member;

#define M(n, m) {n, offsetof(struct ssrp_cloud_config, m)}
static const member members[] = {
	M("tenant_id", tenant_id),
	M("tenant_domain", tenant_domain),
	M("hosts.login", login_host),
	M("hosts.graph", graph_host),
	M("hosts.drs", drs_host),
	M("ca_file", ca_file),
	M("app_id", app_id),
	M("app_secret_file", app_secret_file),
	M("app_cert_file", app_cert_file),
	M("app_key_file", app_key_file),
	M("public_client_id", public_client_id),
	M("refresh_token_file", refresh_token_file),
	M("device.device_id", device_id),
	M("device.cert_file", device_cert_file),
	M("device.key_file", device_key_file),
	M("device.join_type", device_join_type),
	M("device.display_name", device_display_name),
	M("webhook_url_file", webhook_url_file),
	M("assoc.licence_sku", assoc.licence_sku),
	M("assoc.audit", assoc.audit),
	M("assoc.listen", assoc.listen),
	M("assoc.tls_cert_file", assoc.tls_cert_file),
	M("assoc.tls_key_file", assoc.tls_key_file),
	M("assoc.device_ca_file", assoc.device_ca_file),
	M("assoc.url", assoc.url),
	M("agent.volume", agent.volume),
	M("agent.tpm", agent.tpm),
	M("agent.journal", agent.journal),
	M("agent.volume_type", agent.volume_type),
};
#undef M

const char *ssrp_cloud_config_string(const ssrp_cloud_config *cfg, const char *name)
{
	if (!cfg || !name) {
		ssrp_error_set(SSRP_E_INVALID, "config: no configuration or member name");
		return NULL;
	}
	for (size_t i = 0; i < sizeof members / sizeof *members; i++)
		if (!strcmp(members[i].name, name))
			return *(char *const *)((const char *)cfg + members[i].offset);
	ssrp_error_set(SSRP_E_INVALID, "config: \"%s\" is not a string member of the configuration",
		       name);
	return NULL;
}

int ssrp_cloud_config_identity(const ssrp_cloud_config *cfg, ssrp_identity_config *out)
{
	if (!cfg || !out)
		return ssrp_error_set(SSRP_E_INVALID, "config: no configuration or identity to fill");
	int rc = ssrp_struct_version_check("ssrp_identity_config", out->version,
					   SSRP_IDENTITY_CONFIG_VERSION, "SSRP_IDENTITY_CONFIG_INIT");
	if (rc)
		return rc;
	/* version 1 is all of it so far */
	out->tenant_id = cfg->tenant_id;
	out->device_id = cfg->device_id;
	out->cert_file = cfg->device_cert_file;
	out->key_file = cfg->device_key_file;
	out->join_type = cfg->device_join_type;
	out->display_name = cfg->device_display_name;
	out->primary_users = (const char *const *)cfg->device_primary_users;
	return SSRP_OK;
}

int ssrp_assoc_serve_limits_init(ssrp_assoc_serve_limits *l, unsigned int version)
{
	int rc = ssrp_struct_version_check("ssrp_assoc_serve_limits", version,
					   SSRP_ASSOC_SERVE_LIMITS_VERSION,
					   "SSRP_ASSOC_SERVE_LIMITS_INIT");
	if (rc)
		return rc;
	memset(l, 0, sizeof *l);
	l->version = version;
	return SSRP_OK;
}

int ssrp_cloud_config_serve_limits(const ssrp_cloud_config *cfg, ssrp_assoc_serve_limits *out)
{
	if (!cfg || !out)
		return ssrp_error_set(SSRP_E_INVALID, "config: no configuration or limits");
	int rc = ssrp_struct_version_check("ssrp_assoc_serve_limits", out->version,
					   SSRP_ASSOC_SERVE_LIMITS_VERSION,
					   "SSRP_ASSOC_SERVE_LIMITS_INIT");
	if (rc)
		return rc;
	const ssrp_assoc_serve_limits *s = &cfg->assoc.serve;
	out->handshake_timeout_s = s->handshake_timeout_s;
	out->idle_timeout_s = s->idle_timeout_s;
	out->max_connections = s->max_connections;
	out->per_address = s->per_address;
	out->reserve = s->reserve;
	out->queue_max = s->queue_max;
	out->batch_max = s->batch_max;
	out->batch_wait_ms = s->batch_wait_ms;
	out->refusal_log_interval_s = s->refusal_log_interval_s;
	return SSRP_OK;
}
