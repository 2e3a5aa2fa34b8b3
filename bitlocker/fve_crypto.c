/* AES-256-CCM key wrapping and XTS-AES sector encryption over OpenSSL EVP
 * (see fve_crypto.h). */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "bitlocker/fve_crypto.h"
#include "hal/mem.h"
#include "ssrp/buf.h"
#include "ssrp/sys/error.h"

/* OpenSSL's reason for the last failure, for a message, and the queue
 * cleared so it does not leak into a later call. */
static const char *openssl_reason(char *buf, size_t cap)
{
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, cap);
	else
		snprintf(buf, cap, "no details");
	ERR_clear_error();
	return buf;
}

static int crypto_fail(const char *what)
{
	char why[256];
	return ssrp_error_set(SSRP_E_GENERIC, "%s: %s", what, openssl_reason(why, sizeof why));
}

/* ---- AES-256-CCM ------------------------------------------------------ */

/* Cipher, nonce length and tag length; the tag too when decrypting. */
static int ccm_setup(EVP_CIPHER_CTX *ctx, int enc, const uint8_t key[32],
		     const uint8_t nonce[SSRP_CCM_NONCE_LEN], const uint8_t *tag, size_t len)
{
	int outl;
	/* The stored tag is only read; OpenSSL's ctrl takes a non-const. */
	void *t = (void *)(uintptr_t)tag;
	return EVP_CipherInit_ex(ctx, EVP_aes_256_ccm(), NULL, NULL, NULL, enc) == 1 &&
	       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, SSRP_CCM_NONCE_LEN, NULL) == 1 &&
	       EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, SSRP_CCM_TAG_LEN, t) == 1 &&
	       EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1 &&
	       /* CCM needs the message length before any data. */
	       EVP_CipherUpdate(ctx, NULL, &outl, NULL, (int)len) == 1;
}

int ssrp_ccm_encrypt(uint8_t *ct, uint8_t tag[SSRP_CCM_TAG_LEN], const uint8_t key[32],
		     const uint8_t nonce[SSRP_CCM_NONCE_LEN], const uint8_t *pt, size_t len)
{
	if (!ct || !tag || !key || !nonce || !pt)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_ccm_encrypt: NULL argument");
	if (!len || len > INT_MAX)
		return ssrp_error_set(SSRP_E_INVALID, "AES-CCM: %zu bytes cannot be wrapped", len);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return ssrp_error_set(SSRP_E_NOMEM, "AES-CCM: out of memory");
	int outl = 0, rc = SSRP_OK;
	if (!ccm_setup(ctx, 1, key, nonce, NULL, len) ||
	    EVP_EncryptUpdate(ctx, ct, &outl, pt, (int)len) != 1 || (size_t)outl != len ||
	    EVP_EncryptFinal_ex(ctx, ct + outl, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, SSRP_CCM_TAG_LEN, tag) != 1) {
		ssrp_memzero(ct, len);
		ssrp_memzero(tag, SSRP_CCM_TAG_LEN);
		rc = crypto_fail("AES-CCM encryption failed");
	}
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int ssrp_ccm_decrypt(uint8_t *pt, const uint8_t key[32], const uint8_t nonce[SSRP_CCM_NONCE_LEN],
		     const uint8_t tag[SSRP_CCM_TAG_LEN], const uint8_t *ct, size_t len)
{
	if (!pt || !key || !nonce || !tag || !ct)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_ccm_decrypt: NULL argument");
	if (!len || len > INT_MAX)
		return ssrp_error_set(SSRP_E_INVALID, "AES-CCM: %zu bytes cannot be unwrapped",
				      len);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return ssrp_error_set(SSRP_E_NOMEM, "AES-CCM: out of memory");
	int outl = 0, rc = SSRP_OK;
	if (!ccm_setup(ctx, 0, key, nonce, tag, len)) {
		rc = crypto_fail("AES-CCM setup failed");
	} else if (EVP_DecryptUpdate(ctx, pt, &outl, ct, (int)len) != 1 || (size_t)outl != len) {
		/* For CCM the tag is checked by this update: a failure here is a
		 * mismatch, i.e. the wrong key or altered bytes. */
		ERR_clear_error();
		rc = ssrp_error_set(SSRP_E_BAD_KEY,
				    "AES-CCM: the authentication tag does not match (wrong key, or "
				    "the wrapped key was damaged)");
	}
	if (rc)
		ssrp_memzero(pt, len);
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* ---- XTS-AES ---------------------------------------------------------- */

struct ssrp_xts {
	EVP_CIPHER_CTX *enc, *dec;
};

void ssrp_xts_free(ssrp_xts *x)
{
	if (!x)
		return;
	/* EVP_CIPHER_CTX_free cleanses the expanded keys it holds. */
	EVP_CIPHER_CTX_free(x->enc);
	EVP_CIPHER_CTX_free(x->dec);
	ssrp_free_secret(x, sizeof *x);
}

int ssrp_xts_new(ssrp_xts **out, const uint8_t *fvek, size_t fvek_len)
{
	if (!out || !fvek)
		return ssrp_error_set(SSRP_E_INVALID, "ssrp_xts_new: NULL argument");
	*out = NULL;
	const EVP_CIPHER *cipher = fvek_len == 32 ? EVP_aes_128_xts()
				 : fvek_len == 64 ? EVP_aes_256_xts()
						  : NULL;
	if (!cipher)
		return ssrp_error_set(SSRP_E_INVALID,
				      "XTS: a %zu-byte key; XTS-AES-128 takes 32 bytes, "
				      "XTS-AES-256 64",
				      fvek_len);
	size_t half = fvek_len / 2;
	/* XTS needs independent data and tweak keys; OpenSSL 3 refuses equal
	 * halves ("xts duplicated keys"), so say it in words first. */
	if (!CRYPTO_memcmp(fvek, fvek + half, half))
		return ssrp_error_set(SSRP_E_INVALID,
				      "XTS: the key's two %zu-byte halves (data key and tweak key) "
				      "are equal, which XTS does not allow",
				      half);
	ssrp_xts *x = ssrp_calloc(1, sizeof *x);
	if (!x)
		return ssrp_error_set(SSRP_E_NOMEM, "XTS: out of memory");
	x->enc = EVP_CIPHER_CTX_new();
	x->dec = EVP_CIPHER_CTX_new();
	if (!x->enc || !x->dec) {
		ssrp_xts_free(x);
		return ssrp_error_set(SSRP_E_NOMEM, "XTS: out of memory");
	}
	if (EVP_CipherInit_ex(x->enc, cipher, NULL, fvek, NULL, 1) != 1 ||
	    EVP_CipherInit_ex(x->dec, cipher, NULL, fvek, NULL, 0) != 1) {
		int rc = crypto_fail("XTS: the key was refused");
		ssrp_xts_free(x);
		return rc;
	}
	*out = x;
	return SSRP_OK;
}

static int xts_run(EVP_CIPHER_CTX *ctx, int enc, uint8_t *out, const uint8_t *in,
		   uint64_t first_sector, size_t n_sectors, size_t sector_size)
{
	const char *what = enc ? "ssrp_xts_encrypt" : "ssrp_xts_decrypt";
	if (!ctx || (n_sectors && (!out || !in)))
		return ssrp_error_set(SSRP_E_INVALID, "%s: NULL argument", what);
	if (sector_size < 16 || sector_size > INT_MAX)
		return ssrp_error_set(SSRP_E_INVALID, "%s: a sector of %zu bytes is not possible",
				      what, sector_size);
	if (n_sectors > UINT64_MAX - first_sector)
		return ssrp_error_set(SSRP_E_INVALID, "%s: sector numbers past 2^64", what);
	uint8_t iv[16] = {0};
	for (size_t s = 0; s < n_sectors; s++) {
		uint64_t sector = first_sector + s;
		for (unsigned k = 0; k < 8; k++)
			iv[k] = (uint8_t)(sector >> (8 * k));
		int outl = 0;
		/* The key schedule stays; only the tweak is set per sector. */
		if (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, iv, enc) != 1 ||
		    EVP_CipherUpdate(ctx, out + s * sector_size, &outl, in + s * sector_size,
				     (int)sector_size) != 1 ||
		    (size_t)outl != sector_size) {
			ssrp_memzero(out, n_sectors * sector_size);
			return crypto_fail(enc ? "XTS encryption failed" : "XTS decryption failed");
		}
	}
	return SSRP_OK;
}

int ssrp_xts_encrypt(ssrp_xts *x, uint8_t *out, const uint8_t *in, uint64_t first_sector,
		     size_t n_sectors, size_t sector_size)
{
	return xts_run(x ? x->enc : NULL, 1, out, in, first_sector, n_sectors, sector_size);
}

int ssrp_xts_decrypt(ssrp_xts *x, uint8_t *out, const uint8_t *in, uint64_t first_sector,
		     size_t n_sectors, size_t sector_size)
{
	return xts_run(x ? x->dec : NULL, 0, out, in, first_sector, n_sectors, sector_size);
}
