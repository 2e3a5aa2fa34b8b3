/* libFuzzer target: whole requests to the simulated login host (token.c,
 * discovery.c, id_token.c): token grants, device codes, OpenID metadata,
 * instance discovery and the JWKS.
 *
 * Input: one control byte, then "path\nquery\nbody". Bit 0 of the control
 * byte picks GET or POST, bit 1 whether the body is sent as a form. Most
 * inputs should name a real endpoint, so a path that does not start with
 * '/' gets "/<tenant>/" in front.
 *
 * Whatever comes in, the handler must not crash or leak, must answer with
 * a status the login service uses, with a JSON body; a refusal carries an
 * "error" string and, when it names AADSTS codes, "error_codes". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "sim/cloud/cloud.h"
#include "ssrp/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cloud_ctx ctx;
static char tenant[CLOUD_ID_LEN + 1];

static uint64_t fixed_clock(void)
{
	return 1750000000ull;
}

static void init(void)
{
	cloud_demo_secrets sec;
	if (cloud_state_new_demo(&ctx.state, &sec) != SSRP_OK)
		abort();
	ctx.token_key = EVP_RSA_gen(2048);
	if (!ctx.token_key)
		abort();
	snprintf(ctx.token_kid, sizeof ctx.token_kid, "fuzz");
	ctx.now = fixed_clock;
	snprintf(tenant, sizeof tenant, "%s", cloud_state_tenant_id(ctx.state));
}

static void check(const cloud_response *rs)
{
	static const int ok[] = {200, 400, 401, 404, 500};
	int known = 0;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		known |= rs->status == ok[i];
	cJSON *j = rs->body ? cJSON_ParseWithLength(rs->body, rs->body_len) : NULL;
	if (!known || !cJSON_IsObject(j))
		abort();
	if (rs->status >= 400 && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "error")))
		abort();
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ctx.state)
		init();
	if (size < 1)
		return 0;
	uint8_t control = data[0];
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	char *query = strchr(text, '\n');
	char *body = NULL;
	if (query) {
		*query++ = '\0';
		body = strchr(query, '\n');
		if (body)
			*body++ = '\0';
	}
	size_t plen = strlen(text) + sizeof tenant + 4;
	char *path = malloc(plen);
	if (!path) {
		free(text);
		return 0;
	}
	if (text[0] == '/')
		snprintf(path, plen, "%s", text);
	else
		snprintf(path, plen, "/%s/%s", tenant, text);
	cloud_request rq;
	memset(&rq, 0, sizeof rq);
	rq.method = (control & 1) ? "POST" : "GET";
	rq.host = CLOUD_HOST_LOGIN;
	rq.path = path;
	rq.query = query ? query : "";
	rq.request_id = "00000000-0000-4000-8000-000000000001";
	if (control & 2)
		rq.headers[rq.n_headers++] = (cloud_header){"content-type", "application/x-www-form-urlencoded"};
	rq.body = (const uint8_t *)(body ? body : "");
	rq.body_len = body ? strlen(body) : 0;
	cloud_response rs;
	cloud_response_init(&rs);
	cloud_token_handle(&ctx, &rq, &rs);
	check(&rs);
	cloud_response_free(&rs);
	free(path);
	free(text);
	return 0;
}
