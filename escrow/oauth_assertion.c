/* The certificate credential: a client assertion (RFC 7523), an RS256 JWT
 * naming the certificate by its SHA-1 thumbprint (x5t), as Entra ID asks. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "escrow/oauth_private.h"
#include "escrow/strutil.h"
#include "hal/fs.h"
#include "hal/mem.h"
#include "hal/random.h"
#include "hal/sign.h"
#include "ssrp/sys/error.h"

int oauth_load_cert(ssrp_oauth *o, const char *cert_file, const char *key_file)
{
	char *key_text = NULL;
	size_t key_len = 0;
	int rc = ssrp_secret_file_read(key_file, &key_text, &key_len);
	if (rc)
		return rc;
	uint8_t thumb[SSRP_SHA1_LEN];
	rc = ssrp_sign_key_load(&o->key, key_text, key_len, key_file, cert_file, thumb);
	ssrp_free_secret(key_text, key_len);
	if (!rc && ssrp_base64url(thumb, sizeof thumb, o->x5t, sizeof o->x5t) < 0)
		rc = ssrp_error_set(SSRP_E_GENERIC, "cannot write the thumbprint of %s", cert_file);
	return rc;
}

/* header.claims.signature, valid 10 minutes. */
char *oauth_client_assertion(ssrp_oauth *o)
{
	unsigned char jti_raw[16];
	if (ssrp_random_bytes(jti_raw, sizeof jti_raw) != 0)
		return NULL;
	jti_raw[6] = (unsigned char)((jti_raw[6] & 0x0f) | 0x40);
	jti_raw[8] = (unsigned char)((jti_raw[8] & 0x3f) | 0x80);
	char jti[40], aud[512], header[160], claims[1024];
	snprintf(jti, sizeof jti,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 jti_raw[0], jti_raw[1], jti_raw[2], jti_raw[3], jti_raw[4], jti_raw[5],
		 jti_raw[6], jti_raw[7], jti_raw[8], jti_raw[9], jti_raw[10], jti_raw[11],
		 jti_raw[12], jti_raw[13], jti_raw[14], jti_raw[15]);
	snprintf(aud, sizeof aud, "https://%s/%s/oauth2/v2.0/token", o->login_host, o->tenant);
	long long now = (long long)time(NULL);
	snprintf(header, sizeof header, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":\"%s\"}",
		 o->x5t);
	snprintf(claims, sizeof claims,
		 "{\"aud\":\"%s\",\"iss\":\"%s\",\"sub\":\"%s\",\"jti\":\"%s\",\"nbf\":%lld,"
		 "\"iat\":%lld,\"exp\":%lld}",
		 aud, o->client_id, o->client_id, jti, now, now, now + 600);
	char h64[256], c64[1400], sig64[1400];
	unsigned char sig[1024];
	size_t siglen = sizeof sig;
	if (ssrp_base64url((const uint8_t *)header, strlen(header), h64, sizeof h64) < 0 ||
	    ssrp_base64url((const uint8_t *)claims, strlen(claims), c64, sizeof c64) < 0)
		return NULL;
	char *signing = ssrp_strjoin(h64, ".", c64, (char *)NULL);
	if (!signing)
		return NULL;
	int ok = ssrp_sign_rs256(o->key, signing, strlen(signing), sig, &siglen) == SSRP_OK &&
		 ssrp_base64url(sig, siglen, sig64, sizeof sig64) >= 0;
	char *jwt = ok ? ssrp_strjoin(signing, ".", sig64, (char *)NULL) : NULL;
	ssrp_free(signing);
	return jwt;
}
