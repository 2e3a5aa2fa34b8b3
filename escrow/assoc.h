/* The association engine (the public calls: ssrp/assoc.h), and what the
 * library's own code and tests reach beyond them: the request body the
 * agent sends, the user-name rules, and an engine with the retry engine's
 * options and other credentials (tests). */
#ifndef SSRP_ESCROW_ASSOC_H
#define SSRP_ESCROW_ASSOC_H

#include <stddef.h>

#include "escrow/config.h"
#include "escrow/graph_client.h"
#include "ssrp/assoc.h"

/* Beyond ssrp_assoc_options: the retry engine's options for every Graph
 * client, and credentials other than the configuration's (NULL: app secret
 * or certificate for reads, refresh_token_file for changes). */
typedef struct ssrp_assoc_tuning {
	ssrp_graph_options graph;
	const ssrp_graph_auth *reader;
	const ssrp_graph_auth *writer;
} ssrp_assoc_tuning;

/* ssrp_assoc_new with tuning (NULL: none). A nonzero
 * opt->graph_deadline_ms overrides tuning->graph.deadline_ms. */
int ssrp_assoc_new_tuned(ssrp_assoc **out, const ssrp_cloud_config *cfg,
			 const ssrp_assoc_options *opt, const ssrp_assoc_tuning *tuning);

/* The request body for a device (what the agent sends); malloc'd JSON. */
char *ssrp_assoc_request_body(const char *device_id, const char *device_name,
			      const char *const *users, size_t n_users);

/* Map a user as SCCM gives it to a UPN by the configured domains:
 * "CONTOSO\alice" → "alice@contoso.example"; a UPN is returned unchanged;
 * an unmapped DOMAIN\user gives SSRP_E_NOTFOUND (then look it up by
 * onPremisesSamAccountName if sam_lookup). SSRP_E_FORMAT for anything that
 * is neither. out gets at most cap bytes. */
int ssrp_assoc_map_user(const ssrp_assoc_config *ac, const char *user, char *out, size_t cap);

/* The trust rule for DOMAIN\user: a name stands for a directory user only
 * when its domain is proven, by assoc.domains or by the looked-up account's
 * onPremisesDomainName (ssrp_assoc_domain_proven); a local account never
 * does, whatever is configured. */

/* 1 when user is DOMAIN\user of a local or built-in account (WORKGROUP,
 * ".", BUILTIN, NT AUTHORITY, NT SERVICE) or of the device itself (its
 * name, device_name, or that name cut to 15 characters; NULL: not known),
 * with why "DOMAIN\user: ..."; 0 otherwise. */
int ssrp_assoc_local_account(const char *user, const char *device_name, char *why, size_t cap);
/* The DNS name assoc.netbios_dns gives domain[0..dl), or NULL. */
const char *ssrp_assoc_dns_name(const ssrp_assoc_config *ac, const char *domain, size_t dl);
/* 1 when an account's onPremisesDomainName is domain[0..dl) itself or the
 * DNS name mapped for it, compared without case; 0 when it is absent or
 * anything else. */
int ssrp_assoc_domain_proven(const ssrp_assoc_config *ac, const char *domain, size_t dl,
			     const char *on_prem_domain);

#endif
