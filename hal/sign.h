/* Signing with a private key, for the portable cores (escrow/'s client
 * assertion, RS256), so they name no crypto library; and base64url, which
 * JWTs are made of. OpenSSL: sign_openssl.c; Windows: sign_windows.c (CNG
 * and crypt32; a PKCS#8 key needs crypt32's PKCS_PRIVATE_KEY_INFO decoder,
 * which Wine lacks, so there a PKCS#1 key is required). */
#ifndef SSRP_HAL_SIGN_H
#define SSRP_HAL_SIGN_H

#include <stddef.h>
#include <stdint.h>

typedef struct ssrp_sign_key ssrp_sign_key;

#define SSRP_SHA1_LEN 20

/* An RSA private key from PEM text (key_pem[0..key_len), not kept) and the
 * SHA-1 thumbprint of the certificate in cert_file (PEM). SSRP_E_INVALID
 * naming key_what / cert_file when either is not one. */
int ssrp_sign_key_load(ssrp_sign_key **out, const char *key_pem, size_t key_len,
		       const char *key_what, const char *cert_file,
		       uint8_t thumbprint[SSRP_SHA1_LEN]);
/* RS256: RSASSA-PKCS1-v1_5 over SHA-256 of data. *sig_len in: the room in
 * sig; out: the signature's length. */
int ssrp_sign_rs256(ssrp_sign_key *k, const void *data, size_t len, uint8_t *sig,
		    size_t *sig_len);
void ssrp_sign_key_free(ssrp_sign_key *k);

/* base64url without padding into out (cap bytes, NUL included): the length
 * written, or -1 when out is too small. */
int ssrp_base64url(const uint8_t *in, size_t n, char *out, size_t cap);

#endif
