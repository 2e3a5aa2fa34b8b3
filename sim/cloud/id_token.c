/* The id_token and client_info of a delegated sign-in (what MSAL builds its
 * account from), and the signing every simulated token shares. Claims
 * follow Microsoft's "ID token claims reference" for v2.0 tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hal/crypto.h"
#include "sim/cloud/cloud.h"
#include "sim/cloud/cloud_util.h"
#include "sim/cloud/jwt.h"
#include "sim/cloud/token.h"
#include "ssrp/sys/error.h"

char *cloud_token_sign(cloud_ctx *ctx, const cJSON *claims)
{
	/* Entra's kid is the certificate's x5t (the SHA-1 thumbprint). */
	const char *kid = ctx->token_kid[0] ? ctx->token_kid : NULL;
	return cloud_jwt_sign(ctx->token_key, "RS256", kid, kid, NULL, claims);
}

void cloud_token_pairwise_sub(char out[64], const char *app_id, const char *user_id)
{
	char both[2 * CLOUD_ID_LEN + 2];
	uint8_t h[32];
	snprintf(both, sizeof both, "%s:%s", app_id, user_id);
	char *b = ssrp_sha256(h, both, strlen(both)) == SSRP_OK ? cloud_b64url_encode(h, sizeof h) : NULL;
	snprintf(out, 64, "%s", b ? b : user_id);
	free(b);
}

char *cloud_id_token_mint(cloud_ctx *ctx, const cloud_principal *p, const char *nonce, uint64_t now)
{
	const char *tid = cloud_state_tenant_id(ctx->state);
	char iss[128], sub[64], uti[CLOUD_ID_LEN + 1];
	snprintf(iss, sizeof iss, "https://login.microsoftonline.com/%s/v2.0", tid);
	cloud_token_pairwise_sub(sub, p->app_id, p->user_id);
	cloud_new_id(uti);
	cJSON *c = cJSON_CreateObject();
	int ok = c && cJSON_AddStringToObject(c, "aud", p->app_id) && cJSON_AddStringToObject(c, "iss", iss) &&
		 cJSON_AddNumberToObject(c, "iat", (double)now) && cJSON_AddNumberToObject(c, "nbf", (double)now) &&
		 cJSON_AddNumberToObject(c, "exp", (double)(now + CLOUD_TOKEN_LIFETIME)) &&
		 (!p->name[0] || cJSON_AddStringToObject(c, "name", p->name)) &&
		 (!nonce || cJSON_AddStringToObject(c, "nonce", nonce)) &&
		 cJSON_AddStringToObject(c, "oid", p->user_id) &&
		 cJSON_AddStringToObject(c, "preferred_username", p->upn) && cJSON_AddStringToObject(c, "sub", sub) &&
		 cJSON_AddStringToObject(c, "tid", tid) && cJSON_AddStringToObject(c, "uti", uti) &&
		 cJSON_AddStringToObject(c, "ver", "2.0");
	char *token = ok ? cloud_token_sign(ctx, c) : NULL;
	if (!ok)
		ssrp_error_set(SSRP_E_NOMEM, "id_token: out of memory");
	cJSON_Delete(c);
	return token;
}

char *cloud_client_info(const char *user_id, const char *tenant_id)
{
	cJSON *o = cJSON_CreateObject();
	char *text = o && cJSON_AddStringToObject(o, "uid", user_id) && cJSON_AddStringToObject(o, "utid", tenant_id)
			     ? cJSON_PrintUnformatted(o)
			     : NULL;
	cJSON_Delete(o);
	char *b = text ? cloud_b64url_encode(text, strlen(text)) : NULL;
	free(text);
	return b;
}
