/* Who signed in, from the id_token of the token endpoint's answer.
 *
 * The signature is not checked, on purpose: OpenID Connect Core 1.0
 * §3.1.3.7 (item 6) allows the TLS server validation to stand in for it
 * when the ID token is received directly from the token endpoint, which is
 * the only way it reaches us (hal/http verifies the login host's
 * certificate). The claims are still checked against what was asked: the
 * issuer is the login host's tenant, the audience is our client id, the
 * tenant is the configured one and the token has not expired. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "escrow/oauth_client.h"
#include "escrow/strutil.h"
#include "hal/guid.h"
#include "hal/mem.h"
#include "hal/text.h"
#include "ssrp/sys/error.h"

#define MAX_ID_TOKEN (16u * 1024u)
#define CLOCK_SKEW_S 300

static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* base64url without padding (RFC 7515 §2) into out (cap bytes); the
 * length, or -1 when in is not base64url or does not fit. */
static long b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
	if (n % 4 == 1)
		return -1;
	size_t o = 0;
	unsigned acc = 0, bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_value((unsigned char)in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (long)o;
}

static const char *str_claim(const cJSON *c, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int aud_has(const cJSON *aud, const char *client_id)
{
	if (cJSON_IsString(aud))
		return !strcmp(aud->valuestring, client_id);
	const cJSON *it;
	if (cJSON_IsArray(aud))
		cJSON_ArrayForEach(it, aud) {
			if (cJSON_IsString(it) && !strcmp(it->valuestring, client_id))
				return 1;
		}
	return 0;
}

/* tid is the configured tenant: compared as GUIDs when the configuration
 * names one (any case, braces or not); a tenant given as a domain or
 * "organizations" cannot be compared here and accepts any. */
static int tenant_matches(const char *tenant, const char *tid)
{
	uint8_t want[SSRP_GUID_LEN], got[SSRP_GUID_LEN];
	if (ssrp_guid_parse(want, tenant) != SSRP_OK) {
		ssrp_error_clear();
		return 1;
	}
	int ok = ssrp_guid_parse(got, tid) == SSRP_OK && !memcmp(want, got, sizeof want);
	ssrp_error_clear();
	return ok;
}

static int check_claims(const cJSON *c, const char *login_host, const char *tenant,
			const char *client_id, int64_t now)
{
	const char *iss = str_claim(c, "iss"), *tid = str_claim(c, "tid");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(c, "exp");
	if (!tid || !tid[0])
		return ssrp_error_set(SSRP_E_FORMAT, "the id_token names no tenant (\"tid\")");
	if (!tenant_matches(tenant, tid))
		return ssrp_error_set(SSRP_E_PERMISSION,
				      "the id_token is for tenant %.64s, not the configured %s", tid,
				      tenant);
	char want[400];
	snprintf(want, sizeof want, "https://%s/%s/v2.0", login_host, tid);
	if (!iss || !ssrp_ascii_ieq(iss, want))
		return ssrp_error_set(SSRP_E_PERMISSION, "the id_token's issuer is %.200s, not %s",
				      iss ? iss : "missing", want);
	if (!aud_has(cJSON_GetObjectItemCaseSensitive(c, "aud"), client_id))
		return ssrp_error_set(SSRP_E_PERMISSION,
				      "the id_token was not issued to this client (%s)", client_id);
	if (!cJSON_IsNumber(exp))
		return ssrp_error_set(SSRP_E_FORMAT, "the id_token has no expiry (\"exp\")");
	if (!(exp->valuedouble + CLOCK_SKEW_S > (double)now))
		return ssrp_error_set(SSRP_E_PERMISSION, "the id_token has expired");
	return SSRP_OK;
}

int ssrp_oauth_id_token_parse(const char *jwt, size_t len, const char *login_host,
			      const char *tenant, const char *client_id, int64_t now,
			      ssrp_oauth_user *out)
{
	if (!out || !login_host || !tenant || !client_id)
		return ssrp_error_set(SSRP_E_INVALID, "id_token: nothing to check it against");
	memset(out, 0, sizeof *out);
	if (!jwt || len > MAX_ID_TOKEN)
		return ssrp_error_set(SSRP_E_FORMAT, "the id_token is missing or longer than %u bytes",
				      MAX_ID_TOKEN);
	const char *dot1 = memchr(jwt, '.', len);
	const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jwt)) : NULL;
	if (!dot2 || memchr(jwt, '\0', len))
		return ssrp_error_set(SSRP_E_FORMAT,
				      "the id_token is not a JWT (header.claims.signature)");
	size_t n = (size_t)(dot2 - dot1 - 1);
	unsigned char *json = ssrp_malloc(n + 1);
	if (!json)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	long got = b64url_decode(dot1 + 1, n, json, n);
	cJSON *c = got >= 0 ? cJSON_ParseWithLength((const char *)json, (size_t)got) : NULL;
	ssrp_free(json);
	int rc;
	if (!cJSON_IsObject(c))
		rc = ssrp_error_set(SSRP_E_FORMAT, "the id_token's claims are not a JSON object");
	else
		rc = check_claims(c, login_host, tenant, client_id, now);
	if (!rc) {
		ssrp_copy_printable(out->oid, sizeof out->oid, str_claim(c, "oid"));
		ssrp_copy_printable(out->tid, sizeof out->tid, str_claim(c, "tid"));
		ssrp_copy_printable(out->upn, sizeof out->upn, str_claim(c, "preferred_username"));
		ssrp_copy_printable(out->name, sizeof out->name, str_claim(c, "name"));
	}
	cJSON_Delete(c);
	return rc;
}
