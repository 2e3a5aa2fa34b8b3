/* hal/sign.h over OpenSSL. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "hal/sign.h"
#include "ssrp/sys/error.h"

struct ssrp_sign_key {
	EVP_PKEY *pkey;
};

int ssrp_sign_key_load(ssrp_sign_key **out, const char *key_pem, size_t key_len,
		       const char *key_what, const char *cert_file,
		       uint8_t thumbprint[SSRP_SHA1_LEN])
{
	*out = NULL;
	BIO *kb = BIO_new_mem_buf(key_pem, (int)key_len);
	EVP_PKEY *pkey = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	BIO_free(kb);
	if (!pkey || EVP_PKEY_base_id(pkey) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pkey);
		return ssrp_error_set(SSRP_E_INVALID, "%s holds no RSA private key in PEM form",
				      key_what);
	}
	BIO *cb = BIO_new_file(cert_file, "rb");
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	BIO_free(cb);
	unsigned int mdlen = 0;
	int ok = x && X509_digest(x, EVP_sha1(), thumbprint, &mdlen) && mdlen == SSRP_SHA1_LEN;
	X509_free(x);
	if (!ok) {
		EVP_PKEY_free(pkey);
		return ssrp_error_set(SSRP_E_INVALID, "%s holds no PEM certificate", cert_file);
	}
	ssrp_sign_key *k = OPENSSL_zalloc(sizeof *k);
	if (!k) {
		EVP_PKEY_free(pkey);
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	}
	k->pkey = pkey;
	*out = k;
	return SSRP_OK;
}

int ssrp_sign_rs256(ssrp_sign_key *k, const void *data, size_t len, uint8_t *sig,
		    size_t *sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
		 EVP_DigestSign(ctx, sig, sig_len, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? SSRP_OK : ssrp_error_set(SSRP_E_GENERIC, "cannot sign with the RSA key");
}

void ssrp_sign_key_free(ssrp_sign_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	OPENSSL_free(k);
}

int ssrp_base64url(const uint8_t *in, size_t n, char *out, size_t cap)
{
	if (cap < 4 * ((n + 2) / 3) + 1)
		return -1;
	int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (char *p = out; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return len;
}
