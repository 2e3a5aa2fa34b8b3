/* hal/crypto.h over OpenSSL libcrypto. */
#include <openssl/evp.h>

#include "hal/crypto.h"

int ssrp_sha256(uint8_t out[SSRP_SHA256_LEN], const void *data, size_t len)
{
	unsigned int n = 0;
	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) || n != SSRP_SHA256_LEN)
		return -1;
	return 0;
}
