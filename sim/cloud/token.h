/* The simulated token endpoint's extras beyond cloud.h: approving a
 * device-code sign-in (what a person does at microsoft.com/devicelogin) and
 * the constants the endpoint answers with. */
#ifndef SSRP_SIM_CLOUD_TOKEN_H
#define SSRP_SIM_CLOUD_TOKEN_H

#include <cjson/cJSON.h>

#include "sim/cloud/cloud.h"

#define CLOUD_TOKEN_LIFETIME 3599           /* access tokens, seconds */
#define CLOUD_REFRESH_LIFETIME (90 * 86400) /* refresh tokens, seconds */
#define CLOUD_DEVICECODE_LIFETIME 900       /* device codes, seconds */
#define CLOUD_DEVICECODE_INTERVAL 5         /* polling interval told to clients */
#define CLOUD_CLOCK_SKEW 300                /* tolerated on exp/nbf, seconds */
#define CLOUD_GRAPH_AUDIENCE "https://graph.microsoft.com"
#define CLOUD_GRAPH_APP_ID "00000003-0000-0000-c000-000000000000"
#define CLOUD_DEVICELOGIN_URI "https://microsoft.com/devicelogin"
/* The delegated set "https://graph.microsoft.com/.default" stands for: what
 * the simulated tenant's administrator has consented for its public clients
 * (LicenseAssignment.ReadWrite.All for the association service's licence
 * assignment, which Directory.AccessAsUser.All does not cover). */
#define CLOUD_DEFAULT_DELEGATED_SCOPES \
	"User.Read Directory.AccessAsUser.All BitLockerKey.Read.All Device.Read.All " \
	"LicenseAssignment.ReadWrite.All"

/* Sign a person in for a pending device code, as if they had typed
 * user_code at the device-login page and then their UPN and password.
 * Takes the state lock itself (call it without holding it). SSRP_OK;
 * SSRP_E_NOTFOUND for an unknown or expired code or an unknown user;
 * SSRP_E_BAD_KEY for a wrong password; SSRP_E_REFUSED when another user
 * already approved the code. The message says which. */
int cloud_devicecode_approve(cloud_ctx *ctx, const char *user_code, const char *upn,
			     const char *password);

/* discovery.c: OpenID metadata, instance discovery and the JWKS on the
 * login host. 1 when the request was one of those (and is answered), 0 to
 * leave it to the token endpoint. */
int cloud_discovery_handle(cloud_ctx *ctx, const cloud_request *rq, cloud_response *rs);

/* id_token.c: what Entra adds to a delegated sign-in's answer when openid is
 * asked for, and the signature every token shares. */

/* Sign claims with ctx->token_key (RS256), kid and x5t naming the key the
 * JWKS publishes. malloc'd, or NULL with an error message. */
char *cloud_token_sign(cloud_ctx *ctx, const cJSON *claims);
/* The v2.0 id_token for p (a user): aud the client, iss
 * https://login.microsoftonline.com/{tid}/v2.0, nonce when given.
 * malloc'd, or NULL. */
char *cloud_id_token_mint(cloud_ctx *ctx, const cloud_principal *p, const char *nonce, uint64_t now);
/* client_info: base64url of {"uid":user_id,"utid":tenant_id}. malloc'd, or NULL. */
char *cloud_client_info(const char *user_id, const char *tenant_id);
/* The pairwise subject of a user for one app, as Entra's sub: 43
 * base64url characters, the same for the same pair every time. */
void cloud_token_pairwise_sub(char out[64], const char *app_id, const char *user_id);

#endif
