/* hal/sign.h over CNG: the PEM key (PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA
 * PRIVATE KEY") decoded by crypt32 and imported as a BCrypt RSA key; the
 * certificate's thumbprint from crypt32; base64url from CryptBinaryToStringA. */
#include <string.h>
#include <windows.h>
#include <bcrypt.h>
#include <wincrypt.h>

#include "hal/crypto.h"
#include "hal/fs.h"
#include "hal/mem.h"
#include "hal/sign.h"
#include "ssrp/sys/error.h"

#define ENCODING (X509_ASN_ENCODING | PKCS_7_ASN_ENCODING)

struct ssrp_sign_key {
	BCRYPT_ALG_HANDLE alg;
	BCRYPT_KEY_HANDLE key;
};

/* The DER inside the first PEM block of text, freed with ssrp_free_secret. */
static BYTE *pem_to_der(const char *text, size_t len, DWORD *der_len)
{
	DWORD n = 0;
	if (len > 0xffffffffu ||
	    !CryptStringToBinaryA(text, (DWORD)len, CRYPT_STRING_BASE64HEADER, NULL, &n, NULL, NULL))
		return NULL;
	BYTE *der = ssrp_malloc(n);
	if (der && !CryptStringToBinaryA(text, (DWORD)len, CRYPT_STRING_BASE64HEADER, der, &n, NULL,
					 NULL)) {
		ssrp_free_secret(der, n);
		return NULL;
	}
	*der_len = n;
	return der;
}

static void reverse_into(BYTE *dst, const BYTE *src, DWORD n)
{
	for (DWORD i = 0; i < n; i++)
		dst[i] = src[n - 1 - i];
}

/* A PKCS#1 RSAPrivateKey (DER) as a BCrypt key: crypt32 decodes it into a
 * CryptoAPI PRIVATEKEYBLOB (little-endian numbers), rewritten here as a
 * BCRYPT_RSAPRIVATE_BLOB (big-endian), which every bcrypt accepts. */
static int import_pkcs1(ssrp_sign_key *k, const BYTE *der, DWORD der_len)
{
	BYTE *capi = NULL;
	DWORD capi_len = 0;
	if (!CryptDecodeObjectEx(ENCODING, PKCS_RSA_PRIVATE_KEY, der, der_len,
				 CRYPT_DECODE_ALLOC_FLAG, NULL, &capi, &capi_len))
		return 0;
	int ok = 0;
	const RSAPUBKEY *rsa = (const RSAPUBKEY *)(capi + sizeof(BLOBHEADER));
	DWORD mod = rsa->bitlen / 8, half = rsa->bitlen / 16;
	if (capi_len >= sizeof(BLOBHEADER) + sizeof(RSAPUBKEY) + mod + 2 * half &&
	    rsa->magic == 0x32415352 /* "RSA2" */) {
		const BYTE *p = capi + sizeof(BLOBHEADER) + sizeof(RSAPUBKEY);
		DWORD blob_len = sizeof(BCRYPT_RSAKEY_BLOB) + 4 + mod + 2 * half;
		BYTE *blob = ssrp_calloc(1, blob_len);
		if (blob) {
			BCRYPT_RSAKEY_BLOB *h = (BCRYPT_RSAKEY_BLOB *)blob;
			h->Magic = BCRYPT_RSAPRIVATE_MAGIC;
			h->BitLength = rsa->bitlen;
			h->cbPublicExp = 4;
			h->cbModulus = mod;
			h->cbPrime1 = h->cbPrime2 = half;
			BYTE *q = blob + sizeof *h;
			BYTE e[4] = {(BYTE)(rsa->pubexp >> 24), (BYTE)(rsa->pubexp >> 16),
				     (BYTE)(rsa->pubexp >> 8), (BYTE)rsa->pubexp};
			memcpy(q, e, 4);
			reverse_into(q + 4, p, mod);
			reverse_into(q + 4 + mod, p + mod, half);
			reverse_into(q + 4 + mod + half, p + mod + half, half);
			ok = BCryptImportKeyPair(k->alg, NULL, BCRYPT_RSAPRIVATE_BLOB, &k->key, blob,
						 blob_len, 0) == 0;
			ssrp_free_secret(blob, blob_len);
		}
	}
	SecureZeroMemory(capi, capi_len);
	LocalFree(capi);
	return ok;
}

enum { KEY_OK, KEY_NONE, KEY_NO_PKCS8_DECODER };

static int import_key(ssrp_sign_key *k, const char *pem, size_t len)
{
	DWORD der_len = 0;
	BYTE *der = pem_to_der(pem, len, &der_len);
	if (!der)
		return KEY_NONE;
	int res = import_pkcs1(k, der, der_len) ? KEY_OK : KEY_NONE;
	if (res != KEY_OK) { /* PKCS#8: the PKCS#1 key is inside */
		CRYPT_PRIVATE_KEY_INFO *info = NULL;
		DWORD info_len = 0;
		if (CryptDecodeObjectEx(ENCODING, PKCS_PRIVATE_KEY_INFO, der, der_len,
					CRYPT_DECODE_ALLOC_FLAG, NULL, &info, &info_len)) {
			if (info->Algorithm.pszObjId && !strcmp(info->Algorithm.pszObjId, szOID_RSA_RSA) &&
			    import_pkcs1(k, info->PrivateKey.pbData, info->PrivateKey.cbData))
				res = KEY_OK;
			SecureZeroMemory(info, info_len);
			LocalFree(info);
		} else if (GetLastError() == ERROR_FILE_NOT_FOUND) {
			/* crypt32 without that decoder (Wine's): say so, not "no key". */
			res = KEY_NO_PKCS8_DECODER;
		}
	}
	ssrp_free_secret(der, der_len);
	return res;
}

static int thumbprint_of(const char *cert_file, uint8_t thumbprint[SSRP_SHA1_LEN])
{
	unsigned char *pem = NULL;
	size_t len = 0;
	if (ssrp_fs_read_input(cert_file, 1 << 20, &pem, &len) != SSRP_OK)
		return 0;
	DWORD der_len = 0;
	BYTE *der = pem_to_der((const char *)pem, len, &der_len);
	ssrp_free_secret(pem, len + 1);
	if (!der)
		return 0;
	PCCERT_CONTEXT cert = CertCreateCertificateContext(ENCODING, der, der_len);
	ssrp_free(der);
	DWORD n = SSRP_SHA1_LEN;
	int ok = cert && CertGetCertificateContextProperty(cert, CERT_SHA1_HASH_PROP_ID, thumbprint,
							   &n) &&
		 n == SSRP_SHA1_LEN;
	if (cert)
		CertFreeCertificateContext(cert);
	return ok;
}

int ssrp_sign_key_load(ssrp_sign_key **out, const char *key_pem, size_t key_len,
		       const char *key_what, const char *cert_file,
		       uint8_t thumbprint[SSRP_SHA1_LEN])
{
	*out = NULL;
	ssrp_sign_key *k = ssrp_calloc(1, sizeof *k);
	if (!k)
		return ssrp_error_set(SSRP_E_NOMEM, "out of memory");
	if (BCryptOpenAlgorithmProvider(&k->alg, BCRYPT_RSA_ALGORITHM, NULL, 0) != 0) {
		ssrp_free(k);
		return ssrp_error_set(SSRP_E_GENERIC, "CNG has no RSA provider");
	}
	int res = import_key(k, key_pem, key_len);
	if (res != KEY_OK) {
		ssrp_sign_key_free(k);
		if (res == KEY_NO_PKCS8_DECODER)
			return ssrp_error_set(SSRP_E_NOTSUPPORTED,
					      "%s is a PKCS#8 key, which this system's crypt32 cannot "
					      "decode; give it as PKCS#1 (\"RSA PRIVATE KEY\": openssl "
					      "rsa -traditional)",
					      key_what);
		return ssrp_error_set(SSRP_E_INVALID, "%s holds no RSA private key in PEM form",
				      key_what);
	}
	if (!thumbprint_of(cert_file, thumbprint)) {
		ssrp_sign_key_free(k);
		return ssrp_error_set(SSRP_E_INVALID, "%s holds no PEM certificate", cert_file);
	}
	*out = k;
	return SSRP_OK;
}

int ssrp_sign_rs256(ssrp_sign_key *k, const void *data, size_t len, uint8_t *sig,
		    size_t *sig_len)
{
	uint8_t digest[SSRP_SHA256_LEN];
	int rc = ssrp_sha256(digest, data, len);
	if (rc)
		return rc;
	BCRYPT_PKCS1_PADDING_INFO pad = {BCRYPT_SHA256_ALGORITHM};
	ULONG n = 0;
	if (*sig_len > 0xffffffffu ||
	    BCryptSignHash(k->key, &pad, digest, sizeof digest, sig, (ULONG)*sig_len, &n,
			   BCRYPT_PAD_PKCS1) != 0)
		return ssrp_error_set(SSRP_E_GENERIC, "cannot sign with the RSA key");
	*sig_len = n;
	return SSRP_OK;
}

void ssrp_sign_key_free(ssrp_sign_key *k)
{
	if (!k)
		return;
	if (k->key)
		BCryptDestroyKey(k->key);
	if (k->alg)
		BCryptCloseAlgorithmProvider(k->alg, 0);
	ssrp_free(k);
}

int ssrp_base64url(const uint8_t *in, size_t n, char *out, size_t cap)
{
	if (cap < 4 * ((n + 2) / 3) + 1 || cap > 0xffffffffu)
		return -1;
	if (n == 0) {
		out[0] = '\0';
		return 0;
	}
	DWORD size = (DWORD)cap;
	if (!CryptBinaryToStringA(in, (DWORD)n, CRYPT_STRING_BASE64 | CRYPT_STRING_NOCRLF, out, &size))
		return -1;
	int len = (int)strlen(out);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (char *p = out; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	return len;
}
