/* libFuzzer target: whole requests to the simulated Graph.
 *
 * Input: one control byte, then "path\nquery\nbody". The control byte
 * picks the method (bits 0-2), the caller (bits 3-4: the demo admin, an
 * app with read and write roles, an ordinary user) and whether the
 * User-Agent and Content-Type headers are sent (bits 5, 6) and whether
 * ConsistencyLevel: eventual is (bit 7, for advanced queries). A path that
 * does not start with '/' gets "/v1.0/" in front, so most inputs reach the
 * handlers rather than the version check.
 *
 * Whatever comes in, the handler must not crash or leak, and must answer
 * with a status Graph uses; every refusal (and every refused part of a
 * $batch) carries Graph's error shape {"error":{"code","message",
 * "innerError"}}, and every other body is JSON. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "bitlocker/recovery_password.h"
#include "sim/cloud/cloud.h"
#include "ssrp/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cloud_ctx ctx;
static char *tokens[3];

static uint64_t fixed_clock(void)
{
	return 1750000000ull;
}

static char *mint_user(const cloud_demo_secrets *sec, const char *upn, const char *scopes)
{
	cloud_principal p;
	memset(&p, 0, sizeof p);
	p.kind = CLOUD_PRINCIPAL_USER;
	snprintf(p.app_id, sizeof p.app_id, "%s", sec->public_client_id);
	cloud_state_lock(ctx.state);
	const cloud_user *u = cloud_user_find(ctx.state, upn);
	if (!u)
		abort();
	snprintf(p.user_id, sizeof p.user_id, "%s", u->id);
	snprintf(p.upn, sizeof p.upn, "%s", u->upn);
	cloud_state_unlock(ctx.state);
	snprintf(p.scopes, sizeof p.scopes, "%s", scopes);
	return cloud_token_mint(&ctx, &p, 3600);
}

/* One tenant for the whole run: the demo, a recovery key on its device,
 * and long-lived tokens. State changes accumulate across inputs, which is
 * what a long-running simulator sees too. */
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

	cloud_recovery_key k;
	uint8_t raw[SSRP_RP_KEY_LEN];
	memset(&k, 0, sizeof k);
	memset(raw, 0x5a, sizeof raw);
	snprintf(k.id, sizeof k.id, "6f1d2c3b-0a1b-4c2d-8e3f-1234567890ab");
	snprintf(k.device_id, sizeof k.device_id, "%s", sec.device_id);
	ssrp_rp_format(k.key, raw);
	k.volume_type = 1;
	k.created = 1592228730;
	cloud_state_lock(ctx.state);
	if (cloud_key_put(ctx.state, &k) != SSRP_OK)
		abort();
	cloud_state_unlock(ctx.state);

	tokens[0] = mint_user(&sec, sec.admin_upn,
			      "User.Read Directory.AccessAsUser.All BitLockerKey.Read.All");
	cloud_principal app;
	memset(&app, 0, sizeof app);
	app.kind = CLOUD_PRINCIPAL_APP;
	snprintf(app.app_id, sizeof app.app_id, "%s", sec.app_id);
	snprintf(app.roles, sizeof app.roles,
		 "User.ReadWrite.All Device.Read.All BitLockerKey.Read.All Directory.Read.All");
	tokens[1] = cloud_token_mint(&ctx, &app, 3600);
	tokens[2] = mint_user(&sec, sec.user_upn, "User.Read Directory.AccessAsUser.All BitLockerKey.Read.All");
	if (!tokens[0] || !tokens[1] || !tokens[2])
		abort();
}

static void check_error_shape(const cJSON *body)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
	const cJSON *inner = cJSON_GetObjectItemCaseSensitive(e, "innerError");
	if (!cJSON_IsString(code) || !code->valuestring[0] || !cJSON_IsString(msg) || !cJSON_IsObject(inner))
		abort();
}

static void check_status(int status)
{
	static const int ok[] = {200, 204, 400, 401, 403, 404, 405, 415, 424, 500};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (status == ok[i])
			return;
	abort();
}

static void check_response(const cloud_response *rs, int batch)
{
	check_status(rs->status);
	if (rs->status == 204) {
		if (rs->body)
			abort();
		return;
	}
	cJSON *j = rs->body ? cJSON_ParseWithLength(rs->body, rs->body_len) : NULL;
	if (!j)
		abort();
	if (rs->status >= 400) {
		check_error_shape(j);
	} else if (batch) {
		const cJSON *part;
		cJSON_ArrayForEach(part, cJSON_GetObjectItemCaseSensitive(j, "responses"))
		{
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(part, "status");
			if (!cJSON_IsNumber(st))
				abort();
			check_status(st->valueint);
			if (st->valueint >= 400)
				check_error_shape(cJSON_GetObjectItemCaseSensitive(part, "body"));
		}
	}
	cJSON_Delete(j);
}

/* The next '\n'-terminated piece of [*p, end) as a new string. */
static char *take_line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p = nl ? nl + 1 : end;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = {"GET", "POST", "DELETE", "PATCH", "PUT", "GET", "POST", "HEAD"};
	if (!ctx.state)
		init();
	if (size == 0)
		return 0;
	unsigned ctl = data[0];
	const uint8_t *p = data + 1, *end = data + size;
	char *raw_path = take_line(&p, end);
	char *query = take_line(&p, end);
	/* The body is exactly the rest, copied so ASan sees its end. */
	size_t body_len = (size_t)(end - p);
	uint8_t *body = malloc(body_len ? body_len : 1);
	if (!body)
		abort();
	memcpy(body, p, body_len);

	char *path = malloc(strlen(raw_path) + 8);
	if (!path)
		abort();
	sprintf(path, "%s%s", raw_path[0] == '/' ? "" : "/v1.0/", raw_path);

	char auth[8192];
	snprintf(auth, sizeof auth, "Bearer %s", tokens[((ctl >> 3) & 3) % 3]);
	cloud_request rq;
	memset(&rq, 0, sizeof rq);
	rq.method = methods[ctl & 7];
	rq.host = CLOUD_HOST_GRAPH;
	rq.path = path;
	rq.query = query;
	rq.request_id = "00000000-0000-4000-8000-00000000f022";
	rq.client_addr = "127.0.0.1:1";
	rq.headers[rq.n_headers++] = (cloud_header){"authorization", auth};
	if (!(ctl & 0x20))
		rq.headers[rq.n_headers++] = (cloud_header){"user-agent", "fuzz/1.0"};
	if (!(ctl & 0x40))
		rq.headers[rq.n_headers++] = (cloud_header){"content-type", "application/json"};
	if (ctl & 0x80)
		rq.headers[rq.n_headers++] = (cloud_header){"consistencylevel", "eventual"};
	rq.body = body_len ? body : NULL;
	rq.body_len = body_len;

	cloud_response rs;
	cloud_response_init(&rs);
	cloud_graph_handle(&ctx, &rq, &rs);
	check_response(&rs, strstr(path, "$batch") != NULL);
	cloud_response_free(&rs);
	free(body);
	free(path);
	free(raw_path);
	free(query);
	return 0;
}
