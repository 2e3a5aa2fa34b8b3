/* ssrp/assoc.h: the service account's sign-in, its refresh token kept. */
#include "escrow/assoc.h"
#include "escrow/recover.h"
#include "ssrp/sys/error.h"

int ssrp_assoc_login(const ssrp_cloud_config *cfg, const char *username,
		     const char *password_file, ssrp_graph_prompt_fn prompt, void *prompt_ctx,
		     char *upn, size_t cap)
{
	if (!cfg || !upn || !cap)
		return ssrp_error_set(SSRP_E_INVALID, "assoc login: no configuration or buffer");
	upn[0] = '\0';
	if (!cfg->refresh_token_file)
		return ssrp_error_set(SSRP_E_INVALID,
				      "the configuration has no \"refresh_token_file\": name the "
				      "file where the service account's refresh token is to be kept");
	ssrp_graph_auth auth = {.kind = username ? SSRP_GRAPH_AUTH_PASSWORD
						 : SSRP_GRAPH_AUTH_DEVICE_CODE,
				.username = username,
				.password_file = password_file,
				.prompt = prompt,
				.prompt_ctx = prompt_ctx,
				.save_refresh_file = cfg->refresh_token_file};
	ssrp_graph *g = NULL;
	int rc = ssrp_graph_new(&g, cfg, &auth, NULL);
	if (!rc)
		rc = ssrp_graph_token(g); /* the sign-in; writes the refresh token */
	if (!rc)
		rc = ssrp_recover_whoami(g, upn, cap);
	ssrp_graph_free(g);
	return rc;
}
