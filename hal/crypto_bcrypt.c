/* hal/crypto.h over Windows CNG (bcrypt.dll), so a Windows build needs no
 * OpenSSL. Link with -lbcrypt. */
#include <windows.h>
#include <bcrypt.h>

#include "hal/crypto.h"

int ssrp_sha256(uint8_t out[SSRP_SHA256_LEN], const void *data, size_t len)
{
	BCRYPT_ALG_HANDLE alg = NULL;
	BCRYPT_HASH_HANDLE hash = NULL;
	const UCHAR *p = data;
	if (!BCRYPT_SUCCESS(BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA256_ALGORITHM, NULL, 0)))
		return -1;
	/* CNG allocates the hash object itself when given none (Windows 7+). */
	int ok = BCRYPT_SUCCESS(BCryptCreateHash(alg, &hash, NULL, 0, NULL, 0, 0));
	while (ok && len) {
		/* BCryptHashData takes a ULONG (32-bit) length. */
		ULONG chunk = len > 0x40000000u ? 0x40000000u : (ULONG)len;
		ok = BCRYPT_SUCCESS(BCryptHashData(hash, (PUCHAR)p, chunk, 0));
		p += chunk;
		len -= chunk;
	}
	if (ok)
		ok = BCRYPT_SUCCESS(BCryptFinishHash(hash, out, SSRP_SHA256_LEN, 0));
	if (hash)
		BCryptDestroyHash(hash);
	BCryptCloseAlgorithmProvider(alg, 0);
	return ok ? 0 : -1;
}
