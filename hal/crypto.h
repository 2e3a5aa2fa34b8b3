/* Hashing for the portable cores, so they name no crypto library. */
#ifndef SSRP_HAL_CRYPTO_H
#define SSRP_HAL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define SSRP_SHA256_LEN 32

/* out = SHA-256(data[0..len)); 0 on success, -1 on failure. */
int ssrp_sha256(uint8_t out[SSRP_SHA256_LEN], const void *data, size_t len);

#endif
