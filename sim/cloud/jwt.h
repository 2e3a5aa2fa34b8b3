/* base64url and JSON Web Tokens (RFC 7515/7519) for the simulated token
 * endpoint: RS256 and PS256 over OpenSSL's EVP, claims through cJSON.
 * Parsing is strict: exactly three base64url parts without padding, JSON
 * objects without duplicate members, alg RS256 or PS256 ("none" and every
 * HMAC alg refused), no "crit" header. Every refusal is SSRP_E_FORMAT (or
 * SSRP_E_BAD_KEY for a signature that does not verify) with a sentence. */
#ifndef SSRP_SIM_CLOUD_JWT_H
#define SSRP_SIM_CLOUD_JWT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#define CLOUD_JWT_MAX_LEN 16384 /* longer tokens are refused unparsed */

/* base64url without padding, malloc'd and NUL-terminated; NULL (and an
 * error message) when out of memory. */
char *cloud_b64url_encode(const void *data, size_t len);
/* Strict decoding: only A-Z a-z 0-9 - _, no padding or white space, and the
 * unused low bits of the last character zero (so each text has exactly one
 * decoding). *out is malloc'd with a NUL after its *out_len bytes. */
int cloud_b64url_decode(uint8_t **out, size_t *out_len, const char *text, size_t len);

/* A compact JWS signed with key: alg "RS256" or "PS256"; kid, x5t and
 * x5t_s256 ("x5t#S256") go in the header when not NULL. malloc'd, or NULL
 * with an error message. */
char *cloud_jwt_sign(EVP_PKEY *key, const char *alg, const char *kid, const char *x5t,
		     const char *x5t_s256, const cJSON *claims);

typedef struct cloud_jwt {
	cJSON *header;
	cJSON *claims;
	char alg[8];         /* "RS256" or "PS256" */
	char *signing_input; /* "<header>.<payload>" as received */
	size_t signing_input_len;
	uint8_t *sig;
	size_t sig_len;
} cloud_jwt;

/* Split, decode and parse token (NUL-terminated) without checking the
 * signature. On failure jwt is left empty (cloud_jwt_free is still fine). */
int cloud_jwt_parse(cloud_jwt *jwt, const char *token);
/* SSRP_OK when the signature verifies under key (an RSA public or private
 * key); SSRP_E_BAD_KEY otherwise. */
int cloud_jwt_verify(const cloud_jwt *jwt, EVP_PKEY *key);
void cloud_jwt_free(cloud_jwt *jwt);

/* A string member of the header or claims; NULL when absent or not a string. */
const char *cloud_jwt_header_str(const cloud_jwt *jwt, const char *name);
const char *cloud_jwt_claim_str(const cloud_jwt *jwt, const char *name);
/* A NumericDate claim (exp, nbf, iat): 1 and *out when present, 0 when
 * absent, SSRP_E_FORMAT when not a non-negative whole number. */
int cloud_jwt_claim_time(const cloud_jwt *jwt, const char *name, uint64_t *out);

#endif
