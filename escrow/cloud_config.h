/* The configuration as the library holds it: the struct behind the public,
 * opaque ssrp_cloud_config (ssrp/config.h) and its members, described in
 * escrow/config.h. Kept in a header whose name no public header has: the ABI
 * check (libabigail) tells public from private types by the base name of the
 * header that defines them, and this layout is not part of the ABI. */
#ifndef SSRP_ESCROW_CLOUD_CONFIG_H
#define SSRP_ESCROW_CLOUD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "ssrp/config.h"

typedef enum ssrp_assoc_licence_mode {
	SSRP_ASSOC_LICENCE_OFF = 0,
	SSRP_ASSOC_LICENCE_CHECK,
	SSRP_ASSOC_LICENCE_ASSIGN,
} ssrp_assoc_licence_mode;

/* A NetBIOS domain name and what it stands for: a UPN suffix
 * (assoc.domains) or the domain's DNS name (assoc.netbios_dns). */
typedef struct ssrp_assoc_domain {
	char *netbios; /* "CONTOSO", compared without case */
	char *name;    /* "contoso.example" / "corp.contoso.example" */
} ssrp_assoc_domain;

/* The "assoc" member; defaults filled in by the loader. */
typedef struct ssrp_assoc_config {
	ssrp_assoc_domain *domains;
	size_t n_domains;
	ssrp_assoc_domain *netbios_dns;
	size_t n_netbios_dns;
	int sam_lookup;
	int as_owner, as_user; /* "register" */
	ssrp_assoc_licence_mode licence;
	char **licence_plans; /* NULL-terminated, never NULL after a load */
	char *licence_sku;
	unsigned max_owners;
	char *audit;
	char *listen, *tls_cert_file, *tls_key_file, *device_ca_file;
	ssrp_assoc_serve_limits serve; /* "assoc.serve" (ssrp/config.h), the current version */
	char *url;
} ssrp_assoc_config;

typedef enum ssrp_association_mode {
	SSRP_ASSOCIATION_DEFAULT = 0, /* decided from what is configured */
	SSRP_ASSOCIATION_SERVICE,
	SSRP_ASSOCIATION_WEBHOOK,
	SSRP_ASSOCIATION_OFF,
} ssrp_association_mode;

/* The "agent" member; defaults filled in by the loader. */
typedef struct ssrp_agent_config {
	char *volume, *tpm, *journal; /* NULL when not configured (journal: the default path) */
	char *platform;               /* the platform spec; NULL: the built-in */
	uint32_t pcr_mask;            /* bit n = PCR n; default (1<<7)|(1<<11) */
	ssrp_association_mode association;
	unsigned long association_interval_s;
	int escrow_before_protect;
	int rotate_after_recovery;
	char *volume_type;            /* "OSV", "FDV", "RDV" */
	unsigned long verify_interval_s;
	long key_retention_days;      /* -1: keep every key */
	unsigned long rotate_after_days; /* 0: off */
} ssrp_agent_config;

/* The public ssrp_cloud_config (ssrp/config.h) is this, opaque there. */
struct ssrp_cloud_config {
	char *tenant_id, *tenant_domain;
	char *login_host, *graph_host, *drs_host; /* never NULL after a load */
	char *ca_file;
	char **connect_to; /* NULL-terminated, never NULL after a load */
	char *app_id, *app_secret_file, *app_cert_file, *app_key_file;
	char *public_client_id, *refresh_token_file;
	char *device_id, *device_cert_file, *device_key_file;
	char *device_join_type;       /* "azuread" (default), "hybrid", "registered" */
	char *device_display_name;    /* NULL when not given */
	char **device_primary_users;  /* NULL-terminated; NULL when not given */
	char *webhook_url_file;
	ssrp_assoc_config assoc;
	ssrp_agent_config agent;
};

#endif
