/* ssrp: the client configuration shared by `ssrp assoc`, `ssrp recover`,
 * `ssrp agent` and `ssrp-assocd`: one JSON file (docs/agent.md and
 * docs/association.md describe its members; the source's escrow/config.h
 * lists them all), loaded
 * strictly: an unknown member is refused by name, so a misspelt key is an
 * error rather than a silently ignored setting. Secrets are never in the
 * file, only the names of files holding them.
 *
 * The file is trusted only when no other user could have written it (it
 * decides where secrets go): ssrp_cloud_config_load refuses it otherwise,
 * naming the file or directory and the chmod/chown that fixes it.
 *
 * Errors as ssrp/error.h. Threads: a loaded configuration is read-only;
 * any number of threads may read it (and pass it to the library's calls)
 * at once, until it is freed. */
#ifndef SSRP_CONFIG_H
#define SSRP_CONFIG_H

#include <stddef.h>

#include "common.h"
#include "platform.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A loaded configuration (opaque). */
typedef struct ssrp_cloud_config ssrp_cloud_config;

/** The file used when none is named: "/etc/ssrp/config.json"; Windows:
 * under %ProgramData%\ssrp. */
SSRP_API const char *ssrp_config_default_path(void);

/** Read, check and parse the file at path into *out (free it with
 * ssrp_cloud_config_free). SSRP_E_PERMISSION when someone else could have
 * written it, SSRP_E_INVALID naming the member at fault. */
SSRP_API int ssrp_cloud_config_load(ssrp_cloud_config **out, const char *path);
/** Parse JSON text; origin names it in messages (a path; NULL:
 * "configuration"). No trust check: the caller vouches for the text. */
SSRP_API int ssrp_cloud_config_parse(ssrp_cloud_config **out, const char *json,
				     const char *origin);
SSRP_API void ssrp_cloud_config_free(ssrp_cloud_config *cfg);

/** A string member by its name in the file, nested members with a dot:
 * "tenant_id", "hosts.graph", "app_id", "app_secret_file", "app_cert_file",
 * "refresh_token_file", "device.device_id", "assoc.audit", "assoc.listen",
 * "assoc.tls_cert_file", "assoc.tls_key_file", "assoc.device_ca_file",
 * "assoc.url", "agent.journal", ... (every string member the file may
 * have). NULL when the file does not set it and it has no default; NULL
 * with SSRP_E_INVALID as the last error for a name that is not a string
 * member. Valid as long as cfg. */
SSRP_API const char *ssrp_cloud_config_string(const ssrp_cloud_config *cfg, const char *member);

/** Read a secret file the configuration names (refusing one that group or
 * others may read or write: "chmod 600"), one trailing newline stripped;
 * free with ssrp_free_secret(*out, *len). */
SSRP_API int ssrp_cloud_config_secret(const char *path, char **out, size_t *len);

/** The configuration's "device" member and tenant_id as the platform's
 * calls take them (ssrp_platform_read_identity and _read_primary_users,
 * ssrp/platform.h) into *out, its version set by the caller
 * (SSRP_IDENTITY_CONFIG_INIT); members the file does not set are NULL.
 * The strings belong to cfg. SSRP_E_INVALID for a version this library
 * does not know. */
SSRP_API int ssrp_cloud_config_identity(const ssrp_cloud_config *cfg, ssrp_identity_config *out);

/* "assoc.serve": the association service's limits, defaults filled in.
 * Versioned: start from SSRP_ASSOC_SERVE_LIMITS_INIT (or
 * ssrp_assoc_serve_limits_init()); the library writes only the fields your
 * version has. */
#define SSRP_ASSOC_SERVE_LIMITS_VERSION 1
typedef struct ssrp_assoc_serve_limits {
	unsigned int version;            /* SSRP_ASSOC_SERVE_LIMITS_VERSION */
	unsigned handshake_timeout_s;    /* TLS handshake and request headers [5] */
	unsigned idle_timeout_s;         /* a kept-alive connection doing nothing [30] */
	unsigned max_connections;        /* all connections [4096] */
	unsigned per_address;            /* connections from one client address [64] */
	unsigned reserve;                /* of max_connections, kept for devices [512] */
	unsigned queue_max;              /* devices waiting for a decision [20000] */
	unsigned batch_max;              /* devices decided together ($batch) [100] */
	unsigned batch_wait_ms;          /* how long a decision waits for company [200] */
	unsigned refusal_log_interval_s; /* one refusal line per address per interval [60] */
} ssrp_assoc_serve_limits;

#define SSRP_ASSOC_SERVE_LIMITS_INIT {.version = SSRP_ASSOC_SERVE_LIMITS_VERSION}

/** *l = SSRP_ASSOC_SERVE_LIMITS_INIT for that version; SSRP_E_INVALID for
 * a version this library does not know. */
SSRP_API int ssrp_assoc_serve_limits_init(ssrp_assoc_serve_limits *l, unsigned int version);

/** The configuration's "assoc.serve" limits into *out (its version set by
 * the caller). */
SSRP_API int ssrp_cloud_config_serve_limits(const ssrp_cloud_config *cfg,
					    ssrp_assoc_serve_limits *out);

#ifdef __cplusplus
}
#endif

#endif
