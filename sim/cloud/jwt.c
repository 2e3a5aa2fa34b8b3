/* base64url and JWT RS256/PS256 (see jwt.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "sim/cloud/jwt.h"
#include "ssrp/sys/error.h"

/* ---- base64url ------------------------------------------------------------ */

char *cloud_b64url_encode(const void *data, size_t len)
{
	if (len > (size_t)INT_MAX / 2) {
		ssrp_error_set(SSRP_E_INVALID, "base64url: %zu bytes is too much to encode", len);
		return NULL;
	}
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (!out) {
		ssrp_error_set(SSRP_E_NOMEM, "base64url: out of memory");
		return NULL;
	}
	int n = len ? EVP_EncodeBlock((unsigned char *)out, data, (int)len) : 0;
	/* Standard alphabet to the URL-safe one, padding dropped (RFC 7515 §2). */
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (int i = 0; i < n; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return out;
}

int cloud_b64url_decode(uint8_t **out, size_t *out_len, const char *text, size_t len)
{
	*out = NULL;
	*out_len = 0;
	if (len > (size_t)INT_MAX / 2)
		return ssrp_error_set(SSRP_E_FORMAT, "base64url: %zu characters is too long", len);
	size_t padded = (len + 3) / 4 * 4;
	char *std = malloc(padded + 1);
	uint8_t *bin = malloc(padded / 4 * 3 + 1);
	if (!std || !bin) {
		free(std);
		free(bin);
		return ssrp_error_set(SSRP_E_NOMEM, "base64url: out of memory");
	}
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
			free(std);
			free(bin);
			if (c == '=')
				return ssrp_error_set(SSRP_E_FORMAT, "base64url: padding ('=') is not allowed");
			return ssrp_error_set(SSRP_E_FORMAT,
					      "base64url: byte 0x%02x at offset %zu is not in the alphabet",
					      (unsigned char)text[i], i);
		}
		std[i] = c;
	}
	if (len % 4 == 1) {
		free(std);
		free(bin);
		return ssrp_error_set(SSRP_E_FORMAT, "base64url: %zu characters cannot be a whole encoding",
				      len);
	}
	for (size_t i = len; i < padded; i++)
		std[i] = '=';
	std[padded] = '\0';
	int n = padded ? EVP_DecodeBlock(bin, (const unsigned char *)std, (int)padded) : 0;
	free(std);
	if (n < 0) {
		free(bin);
		return ssrp_error_set(SSRP_E_FORMAT, "base64url: the text does not decode");
	}
	/* EVP_DecodeBlock counts each '=' of padding as a zero byte. */
	if ((size_t)n != padded / 4 * 3) {
		free(bin);
		return ssrp_error_set(SSRP_E_FORMAT, "base64url: the text does not decode");
	}
	size_t got = (size_t)n - (padded - len);
	bin[got] = '\0';
	/* Canonical form only: re-encoding must give the same text, which
	 * rules out non-zero unused bits in the last character. */
	char *again = cloud_b64url_encode(bin, got);
	if (!again) {
		free(bin);
		return SSRP_E_NOMEM;
	}
	int same = strlen(again) == len && !memcmp(again, text, len);
	free(again);
	if (!same) {
		free(bin);
		return ssrp_error_set(SSRP_E_FORMAT, "base64url: the last character has stray low bits "
						     "(not a canonical encoding)");
	}
	*out = bin;
	*out_len = got;
	return SSRP_OK;
}

/* ---- signing and verifying ------------------------------------------------- */

static int openssl_error(int code, const char *what)
{
	char why[256];
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, why, sizeof why);
	else
		strcpy(why, "no detail");
	ERR_clear_error();
	return ssrp_error_set(code, "%s: %s", what, why);
}

/* Set PS256's parameters (RFC 7518 §3.5: MGF1 with SHA-256, salt as long
 * as the hash) on a digest-sign or digest-verify context. */
static int setup_padding(EVP_PKEY_CTX *pctx, int pss)
{
	if (!pss)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
	return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
	       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
	       EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0;
}

static int alg_is_pss(const char *alg, int *pss)
{
	if (!strcmp(alg, "RS256"))
		*pss = 0;
	else if (!strcmp(alg, "PS256"))
		*pss = 1;
	else
		return 0;
	return 1;
}

char *cloud_jwt_sign(EVP_PKEY *key, const char *alg, const char *kid, const char *x5t,
		     const char *x5t_s256, const cJSON *claims)
{
	int pss;
	if (!key || !claims || !alg || !alg_is_pss(alg, &pss)) {
		ssrp_error_set(SSRP_E_INVALID, "JWT signing: needs a key, claims and alg RS256 or PS256");
		return NULL;
	}
	if (!EVP_PKEY_is_a(key, "RSA")) {
		ssrp_error_set(SSRP_E_INVALID, "JWT signing: %s needs an RSA key", alg);
		return NULL;
	}
	char *result = NULL, *htext = NULL, *ctext = NULL, *h64 = NULL, *c64 = NULL, *s64 = NULL;
	char *input = NULL;
	unsigned char *sig = NULL;
	EVP_MD_CTX *md = NULL;
	cJSON *header = cJSON_CreateObject();
	if (!header || !cJSON_AddStringToObject(header, "typ", "JWT") ||
	    !cJSON_AddStringToObject(header, "alg", alg) ||
	    (kid && !cJSON_AddStringToObject(header, "kid", kid)) ||
	    (x5t && !cJSON_AddStringToObject(header, "x5t", x5t)) ||
	    (x5t_s256 && !cJSON_AddStringToObject(header, "x5t#S256", x5t_s256)) ||
	    !(htext = cJSON_PrintUnformatted(header)) || !(ctext = cJSON_PrintUnformatted(claims)) ||
	    !(h64 = cloud_b64url_encode(htext, strlen(htext))) ||
	    !(c64 = cloud_b64url_encode(ctext, strlen(ctext)))) {
		ssrp_error_set(SSRP_E_NOMEM, "JWT signing: out of memory");
		goto out;
	}
	size_t hl = strlen(h64), cl = strlen(c64);
	input = malloc(hl + 1 + cl + 1);
	if (!input) {
		ssrp_error_set(SSRP_E_NOMEM, "JWT signing: out of memory");
		goto out;
	}
	memcpy(input, h64, hl);
	input[hl] = '.';
	memcpy(input + hl + 1, c64, cl + 1);
	EVP_PKEY_CTX *pctx = NULL;
	size_t sig_len = 0;
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) != 1 || !setup_padding(pctx, pss) ||
	    EVP_DigestSign(md, NULL, &sig_len, (const unsigned char *)input, hl + 1 + cl) != 1 ||
	    !(sig = malloc(sig_len)) ||
	    EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)input, hl + 1 + cl) != 1) {
		openssl_error(SSRP_E_GENERIC, "JWT signing");
		goto out;
	}
	if (!(s64 = cloud_b64url_encode(sig, sig_len)))
		goto out;
	size_t sl = strlen(s64);
	result = malloc(hl + 1 + cl + 1 + sl + 1);
	if (!result) {
		ssrp_error_set(SSRP_E_NOMEM, "JWT signing: out of memory");
		goto out;
	}
	memcpy(result, input, hl + 1 + cl);
	result[hl + 1 + cl] = '.';
	memcpy(result + hl + 1 + cl + 1, s64, sl + 1);
out:
	EVP_MD_CTX_free(md);
	cJSON_Delete(header);
	free(htext);
	free(ctext);
	free(h64);
	free(c64);
	free(s64);
	free(input);
	free(sig);
	return result;
}

/* A JSON object whose members each appear once (RFC 7515 §5.2 lets a
 * parser refuse duplicates; accepting them lets two readers disagree). */
static int parse_object(cJSON **out, const uint8_t *text, size_t len, const char *what)
{
	const char *end = NULL;
	*out = NULL;
	cJSON *v = cJSON_ParseWithLengthOpts((const char *)text, len, &end, 0);
	if (!v)
		return ssrp_error_set(SSRP_E_FORMAT, "JWT %s is not valid JSON", what);
	while (end && (size_t)(end - (const char *)text) < len &&
	       (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (!end || (size_t)(end - (const char *)text) != len) {
		cJSON_Delete(v);
		return ssrp_error_set(SSRP_E_FORMAT, "JWT %s has bytes after its JSON", what);
	}
	if (!cJSON_IsObject(v)) {
		cJSON_Delete(v);
		return ssrp_error_set(SSRP_E_FORMAT, "JWT %s is not a JSON object", what);
	}
	for (const cJSON *a = v->child; a; a = a->next) {
		for (const cJSON *b = a->next; b; b = b->next) {
			if (!strcmp(a->string, b->string)) {
				ssrp_error_set(SSRP_E_FORMAT, "JWT %s has the member \"%.40s\" twice", what,
					       a->string);
				cJSON_Delete(v);
				return SSRP_E_FORMAT;
			}
		}
	}
	*out = v;
	return SSRP_OK;
}

void cloud_jwt_free(cloud_jwt *jwt)
{
	if (!jwt)
		return;
	cJSON_Delete(jwt->header);
	cJSON_Delete(jwt->claims);
	free(jwt->signing_input);
	free(jwt->sig);
	memset(jwt, 0, sizeof *jwt);
}

int cloud_jwt_parse(cloud_jwt *jwt, const char *token)
{
	memset(jwt, 0, sizeof *jwt);
	if (!token || !token[0])
		return ssrp_error_set(SSRP_E_FORMAT, "JWT: empty token");
	size_t len = strnlen(token, CLOUD_JWT_MAX_LEN + 1);
	if (len > CLOUD_JWT_MAX_LEN)
		return ssrp_error_set(SSRP_E_FORMAT, "JWT: longer than %d bytes", CLOUD_JWT_MAX_LEN);
	const char *d1 = memchr(token, '.', len);
	const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
	if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
		return ssrp_error_set(SSRP_E_FORMAT,
				      "JWT: not three base64url parts separated by dots (a JWE or garbage?)");
	uint8_t *htext = NULL, *ctext = NULL;
	size_t hlen, clen;
	int rc = cloud_b64url_decode(&htext, &hlen, token, (size_t)(d1 - token));
	if (rc != SSRP_OK) {
		ssrp_error_prefix(SSRP_E_FORMAT, "JWT header");
		goto fail;
	}
	if ((rc = parse_object(&jwt->header, htext, hlen, "header")) != SSRP_OK)
		goto fail;
	const cJSON *alg = cJSON_GetObjectItemCaseSensitive(jwt->header, "alg");
	if (!cJSON_IsString(alg)) {
		rc = ssrp_error_set(SSRP_E_FORMAT, "JWT header has no \"alg\"");
		goto fail;
	}
	int pss;
	if (!strcmp(alg->valuestring, "none")) {
		rc = ssrp_error_set(SSRP_E_FORMAT, "JWT alg \"none\" is refused: the token is unsigned");
		goto fail;
	}
	if (!alg_is_pss(alg->valuestring, &pss)) {
		rc = ssrp_error_set(SSRP_E_FORMAT, "JWT alg \"%.16s\" is not supported (RS256 or PS256)",
				    alg->valuestring);
		goto fail;
	}
	strcpy(jwt->alg, alg->valuestring);
	if (cJSON_GetObjectItemCaseSensitive(jwt->header, "crit")) {
		rc = ssrp_error_set(SSRP_E_FORMAT, "JWT header has \"crit\" extensions, which are not understood");
		goto fail;
	}
	if ((rc = cloud_b64url_decode(&ctext, &clen, d1 + 1, (size_t)(d2 - d1 - 1))) != SSRP_OK) {
		ssrp_error_prefix(SSRP_E_FORMAT, "JWT claims");
		goto fail;
	}
	if ((rc = parse_object(&jwt->claims, ctext, clen, "claims")) != SSRP_OK)
		goto fail;
	if ((size_t)(token + len - d2 - 1) == 0) {
		rc = ssrp_error_set(SSRP_E_FORMAT, "JWT has an empty signature");
		goto fail;
	}
	if ((rc = cloud_b64url_decode(&jwt->sig, &jwt->sig_len, d2 + 1, (size_t)(token + len - d2 - 1))) !=
	    SSRP_OK) {
		ssrp_error_prefix(SSRP_E_FORMAT, "JWT signature");
		goto fail;
	}
	jwt->signing_input_len = (size_t)(d2 - token);
	jwt->signing_input = malloc(jwt->signing_input_len + 1);
	if (!jwt->signing_input) {
		rc = ssrp_error_set(SSRP_E_NOMEM, "JWT: out of memory");
		goto fail;
	}
	memcpy(jwt->signing_input, token, jwt->signing_input_len);
	jwt->signing_input[jwt->signing_input_len] = '\0';
	free(htext);
	free(ctext);
	return SSRP_OK;
fail:
	free(htext);
	free(ctext);
	cloud_jwt_free(jwt);
	return rc;
}

int cloud_jwt_verify(const cloud_jwt *jwt, EVP_PKEY *key)
{
	int pss;
	if (!jwt || !jwt->signing_input || !key || !alg_is_pss(jwt->alg, &pss))
		return ssrp_error_set(SSRP_E_INVALID, "JWT verify: nothing to verify");
	if (!EVP_PKEY_is_a(key, "RSA"))
		return ssrp_error_set(SSRP_E_BAD_KEY, "JWT signature: %s needs an RSA key", jwt->alg);
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
		 setup_padding(pctx, pss) &&
		 EVP_DigestVerify(md, jwt->sig, jwt->sig_len, (const unsigned char *)jwt->signing_input,
				  jwt->signing_input_len) == 1;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	if (!ok)
		return ssrp_error_set(SSRP_E_BAD_KEY, "JWT signature does not verify (%s)", jwt->alg);
	return SSRP_OK;
}

const char *cloud_jwt_header_str(const cloud_jwt *jwt, const char *name)
{
	const cJSON *v = jwt ? cJSON_GetObjectItemCaseSensitive(jwt->header, name) : NULL;
	return v && cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *cloud_jwt_claim_str(const cloud_jwt *jwt, const char *name)
{
	const cJSON *v = jwt ? cJSON_GetObjectItemCaseSensitive(jwt->claims, name) : NULL;
	return v && cJSON_IsString(v) ? v->valuestring : NULL;
}

int cloud_jwt_claim_time(const cloud_jwt *jwt, const char *name, uint64_t *out)
{
	const cJSON *v = jwt ? cJSON_GetObjectItemCaseSensitive(jwt->claims, name) : NULL;
	*out = 0;
	if (!v)
		return 0;
	/* 2^53: beyond it a double no longer holds every whole number. */
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 9007199254740992.0 ||
	    (double)(uint64_t)v->valuedouble != v->valuedouble)
		return ssrp_error_set(SSRP_E_FORMAT, "JWT claim \"%s\" is not a whole number of seconds", name);
	*out = (uint64_t)v->valuedouble;
	return 1;
}
